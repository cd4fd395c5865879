"""The native Likert chart (doc.Likert): validation, both backends, and the site report."""

from __future__ import annotations

import html
import io
import math
import re

import numpy as np
import pytest

from copeval.report import doc, figures
from copeval.report.i18n import t

CATS = ["Muy desfavorable", "Desfavorable", "Neutral", "Favorable", "Muy favorable"]
HOSTILE = [
    '<script>alert(1)</script> #import "/etc/passwd" ] [ *b* $x$',
    'C2 "quoted" \\ back`tick` @label <lab> = head // comment',
    "x onerror=alert(1) & #set text(red) _u_ #{1+1}",
]


def _row(label="C1 · comunidad", n=10, shares=(0.1, 0.2, 0.3, 0.25, 0.15)):
    return doc.LikertRow(label, n, shares)


# ------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("shares", "match"),
    [
        ((0.1, 0.2, float("nan"), 0.4, 0.3), "not in 0..1"),
        ((0.1, 0.2, float("inf"), 0.4, 0.3), "not in 0..1"),
        ((-0.1, 0.3, 0.3, 0.3, 0.2), "not in 0..1"),
        ((1.5, 0, 0, 0, 0), "not in 0..1"),
        ((0.1, 0.1, 0.1, 0.1, 0.1), "sum to 0.5"),
        ((0.1, 0.2, "many", 0.4, 0.3), "not a number"),
    ],
)
def test_a_row_refuses_shares_it_could_not_draw(shares, match):
    with pytest.raises(ValueError, match=match):
        _row(shares=shares)


@pytest.mark.parametrize("n", [-1, 2.5, "ten", float("nan"), None])
def test_a_row_refuses_an_n_that_is_not_a_count(n):
    with pytest.raises(ValueError, match="n must be a whole number"):
        _row(n=n)


def test_the_chart_refuses_shares_that_do_not_match_the_categories():
    with pytest.raises(ValueError, match="has 5 shares for 3 categories"):
        doc.Likert([_row()], categories=CATS[:3])
    with pytest.raises(ValueError, match="2 to 7 answer categories"):
        doc.Likert([], categories=["only"])
    with pytest.raises(ValueError, match="2 to 7 answer categories"):
        doc.Likert([], categories=[str(i) for i in range(8)])
    with pytest.raises(TypeError, match="LikertRow"):
        doc.Likert([("label", 3, (1, 0, 0, 0, 0))], categories=CATS)


def test_a_missing_category_is_a_zero_share_and_the_bar_is_centred_on_neutral():
    row = _row(shares=np.array([0.0, 0.2, 0.4, 0.4, 0.0]))  # numpy values accepted
    assert row.shares == (0.0, 0.2, 0.4, 0.4, 0.0)
    assert row.left() == pytest.approx(0.2 + 0.2)  # unfavourable + half the neutral
    even = doc.LikertRow("x", 4, (0.25, 0.25, 0.25, 0.25))
    assert even.left() == pytest.approx(0.5)  # no neutral category: the midpoint between


def test_plain_text_gives_every_share():
    chart = doc.Likert([_row()], categories=CATS, caption="Figura 4.")
    text = doc.plain_text(chart)
    assert "C1 · comunidad (n=10): Muy desfavorable 10 %, Desfavorable 20 %" in text
    assert text.endswith("Figura 4.")


# ------------------------------------------------------------------------------------ HTML
def _specimen():
    rows = [
        doc.LikertRow(label, 7 + i, (0.05, 0.15, 0.3, 0.3, 0.2)) for i, label in enumerate(HOSTILE)
    ]
    return doc.Likert(rows, categories=[*CATS[:4], HOSTILE[0]], caption=HOSTILE[1], axis_title="%")


def test_html_escapes_hostile_labels_categories_and_caption():
    markup = doc.to_html(_specimen())
    assert "<script" not in markup
    assert "alert(1) & #set" not in markup  # the & is escaped, the text stays inert
    for text in HOSTILE:
        assert html.escape(text, quote=True) in markup
    # every tag is one of the chart's own
    tags = set(re.findall(r"<([a-z]+)", markup))
    assert tags <= {"figure", "table", "tr", "th", "td", "div", "span", "figcaption"}
    # the colours are the fixed palette, nothing else
    colours = set(re.findall(r"#[0-9a-fA-F]{6}", markup))
    assert colours <= set(doc.LIKERT_PALETTES[5]) | {"#ffffff", doc.LIKERT_INK}


def _printed(markup: str) -> list[str]:
    """The percentages printed inside the segments."""
    return re.findall(r'class="cv-lk-seg"[^>]*>(\d*)</span>', markup)


def test_html_positions_the_bars_around_the_midpoint():
    chart = doc.Likert([_row(shares=(0.1, 0.2, 0.3, 0.25, 0.15))], categories=CATS)
    markup = doc.to_html(chart)
    lefts = [float(x) for x in re.findall(r"left:([0-9.]+)%;width", markup)]
    widths = [float(x) for x in re.findall(r"width:([0-9.]+)%", markup)]
    # the bar spans -100..100 % of the answers over 0..100 % of the track
    assert lefts[0] == pytest.approx(50 - 50 * (0.1 + 0.2 + 0.15))
    assert widths == pytest.approx([5, 10, 15, 12.5, 7.5])
    # the neutral segment is centred on the midpoint
    assert lefts[2] + widths[2] / 2 == pytest.approx(50)
    # percentages printed only in segments of 9 % or more
    assert _printed(markup) == ["10", "20", "30", "25", "15"]
    # the exported page's sanitiser keeps every position and colour
    from copeval.report import safety

    clean = safety.sanitize_html(markup)
    assert clean.count("background:") == markup.count("background:") == 10
    assert len(re.findall(r"left:[0-9.]+%;width:[0-9.]+%", clean)) == 5
    narrow = doc.to_html(doc.Likert([_row(shares=(0.05, 0.2, 0.3, 0.3, 0.15))], categories=CATS))
    assert _printed(narrow) == ["", "20", "30", "30", "15"]


# ----------------------------------------------------------------------------------- Typst
def test_typst_specimen_with_hostile_labels_compiles_and_prints_them_literally():
    pypdf = pytest.importorskip("pypdf")
    from copeval.report import pdf

    section = doc.Section(doc.Heading(2, "Encuestas", "survey"), _specimen())
    markup = section.typst()
    assert "#cv-likert(" in markup
    data = pdf.compile_pdf(pdf.template() + markup)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    squeezed = re.sub(r"\s+", "", text)
    for label in HOSTILE:
        assert re.sub(r"\s+", "", label) in squeezed, label
    for n in ("n=7", "n=8", "n=9"):
        assert n in text
    assert "30" in text and "Muy desfavorable" in text


def test_typst_rows_never_split_across_pages():
    pypdf = pytest.importorskip("pypdf")
    from copeval.report import pdf

    rows = [
        doc.LikertRow(f"ROW{i:02d} " + "palabra " * 12, 5, (0.2, 0.2, 0.2, 0.2, 0.2))
        for i in range(40)
    ]
    data = pdf.compile_pdf(pdf.template() + doc.Section(doc.Likert(rows, categories=CATS)).typst())
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]
    assert len(pages) >= 2  # long enough to break
    for i in range(40):
        holders = [k for k, page in enumerate(pages) if f"ROW{i:02d}" in page]
        assert len(holders) == 1, (i, holders)


# ----------------------------------------------------------------------------- site report
@pytest.fixture(scope="module")
def vc_survey(demo_path):
    from copeval.report import ReportData, SiteReport
    from copeval.report.site import select_survey

    data = ReportData.load(demo_path, n_boot=100, seed=3)
    report = SiteReport(data, site_id="VC", lang="es")
    return report.survey(), select_survey(data, "VC")


def _nodes(blocks, kind):
    for b in blocks:
        if isinstance(b, kind):
            yield b
        if isinstance(b, doc.Group | doc.Callout):
            yield from _nodes(b.content, kind)


def test_the_site_survey_section_draws_a_native_chart_not_a_figure(vc_survey):
    section, _ = vc_survey
    charts = list(_nodes(section.blocks, doc.Likert))
    assert len(charts) == 1
    assert not list(_nodes(section.blocks, doc.Figure))
    assert "<svg" not in section.typst() and "image(" not in section.typst()
    chart = charts[0]
    assert chart.categories == tuple(t("fig.likert.levels", "es").split("|"))
    assert chart.axis_title == t("fig.axis.share", "es")
    assert chart.caption.startswith("Figura 4.")
    assert "cv-likert" in section.html()


def test_the_chart_shares_are_the_selection(vc_survey):
    section, sel = vc_survey
    (chart,) = _nodes(section.blocks, doc.Likert)
    items = sel.items[sel.items["value"].notna()]
    expected = {}
    for (c, inst), sub in items.groupby(["criterion", "instrument"]):
        level = np.clip(np.rint(sub["value"].astype(float)), 0, 4).astype(int)
        w = sub["weight"].astype(float) if "weight" in sub else np.ones(len(sub))
        counts = np.array([w[level == k].sum() for k in range(5)])
        expected[(c, inst)] = (counts / counts.sum(), sub["respondent_id"].nunique())
    assert len(chart.rows) == len(expected) > 0
    for row in chart.rows:
        key = next(
            k
            for k in expected
            if row.label.split(" ")[0] == k[0]
            and row.label.endswith(t(f"instrument.{k[1]}", "es"))
        )
        shares, n = expected[key]
        assert row.n == n
        assert row.shares == pytest.approx(tuple(shares), abs=1e-9)
        assert math.isclose(sum(row.shares), 1.0)
    # the same bars as the matplotlib figure draws (figures.likert_rows is shared)
    rows = figures.likert_rows(sel.items, lang="es")
    assert [r.label for r in chart.rows] == [label for label, _, _ in rows]
