"""Adversary 2: attacks on what landed with the Typst PDF route, the trend sections, the
rounds data model and the valence/round import commands.

Every test plants the attack first and checks what comes out. Attacks that got through
and were fixed are plain tests; attacks on modules still being rewritten by others are
``xfail(strict=True)`` with the finding in the reason.
"""

from __future__ import annotations

import io
import json
import re
import shutil

import pandas as pd
import pytest
from conftest import REPO

from copeval.report import doc

ROUNDS = REPO / "data" / "demo-rounds"

#: Text a project file could carry into a figure's labels: none of it is markup once it is
#: a label, so none of it may make the figure be refused.
LABEL_TEXTS = [
    "Sitio once = 11",  # " once=" looked like an event handler
    "Ronda onda=2",
    "javascript: no es un enlace",
    "<script>alert(1)</script>",
    "-- <!-- comment --> --",
]


def _mpl_figure(labels):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(range(len(labels)), range(len(labels)))
    ax.set_xticks(range(len(labels)), labels)
    ax.set_title(" | ".join(labels))
    return fig


# ------------------------------------------------------------------------ SVG figures
def test_figure_text_never_makes_a_figure_refused():
    """Found: the SVG check searched the markup as text, so a site or round label such as
    "Sitio once = 11" (which matplotlib copies into an SVG comment) was taken for an
    ``onload=`` handler and the whole report section raised ValueError. Now the SVG is
    parsed: labels are data."""
    fig = doc.Figure.from_matplotlib(_mpl_figure(LABEL_TEXTS), alt="a")
    html = doc.to_html(fig)
    assert html.startswith('<figure class="cv-figure"><img src="data:image/svg+xml;base64,')
    from copeval.report.typst_markup import to_typst

    assert to_typst(fig).startswith("#cv-figure(image(bytes(")


SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


@pytest.mark.parametrize(
    "svg",
    [
        # a script in a namespace prefix (the old regex wanted "<script")
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:s="http://www.w3.org/2000/svg">'
        "<s:script>alert(1)</s:script></svg>",
        SVG_HEAD + "><svg:foreignObject xmlns:svg='http://www.w3.org/2000/svg'/></svg>",
        # a javascript: URL spelt with character references and a tab
        SVG_HEAD + '><a xlink:href="java&#115;cr&#x09;ipt:alert(1)"><rect/></a></svg>',
        SVG_HEAD + "><a href='JaVaScRiPt&#58;alert(1)'><rect/></a></svg>",
        # an event handler after a line break and without quotes around the name
        SVG_HEAD + '\nonload\n=\n"alert(1)"></svg>',
        # CSS loading something
        SVG_HEAD + "><style>@import 'https://example.invalid/x.css';</style></svg>",
        SVG_HEAD + '><rect style="fill: url( &quot;https://example.invalid/p&quot; )"/></svg>',
        SVG_HEAD + '><rect fill="url(file:///etc/passwd)"/></svg>',
        # entity expansion
        '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        + SVG_HEAD
        + "><text>&b;</text></svg>",
        # an embedded document
        SVG_HEAD + '><iframe src="https://example.invalid"/></svg>',
        # not well-formed: a browser and Typst would each read it their own way
        SVG_HEAD + "><rect",
    ],
)
def test_svg_bypasses_are_refused_by_both_backends(svg):
    from copeval.report.typst_markup import to_typst

    fig = doc.Figure(alt="x", svg=svg)
    with pytest.raises(ValueError, match="Figure SVG"):
        doc.to_html(fig)
    with pytest.raises(ValueError, match="Figure SVG"):
        to_typst(fig)


def test_svg_with_internal_references_is_kept():
    """What matplotlib writes (clip paths, ``url(#id)``, ``xlink:href="#id"``) passes."""
    svg = (
        SVG_HEAD + '><defs><clipPath id="p1"><rect width="1" height="1"/></clipPath>'
        '<path id="m" d="M0 0"/></defs><g clip-path="url(#p1)" style="fill: url(#p1)">'
        '<use xlink:href="#m"/></g></svg>'
    )
    assert doc.svg_problem(svg) is None


# ------------------------------------------------------------------- Typst: one cell, one crash
def _pdf_text(*blocks) -> tuple[str, int]:
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("typst")
    from copeval.report.pdf import compile_pdf, template
    from copeval.report.typst_markup import to_typst

    pdf = compile_pdf(template() + to_typst(doc.Section(*blocks)))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(p.extract_text() for p in reader.pages), len(reader.pages)


BANDS = ["b0", "b1", "b2", "b3", "b4"]


@pytest.mark.parametrize(
    "block",
    [
        doc.Forest([doc.ForestRow("inf", float("inf"), 1, 2, "v")], bands=BANDS, ticks=[(0, "0")]),
        doc.Forest(
            [doc.ForestRow("-inf", 2, float("-inf"), float("inf"), "v")],
            bands=BANDS,
            ticks=[(float("inf"), "t")],
        ),
        doc.Forest([doc.ForestRow("huge", 1e308, -1e308, 1e308, "v")], bands=BANDS, ticks=[]),
        doc.Table(["a", "b"], [["1", "2"]], widths=[float("nan"), 0.5]),
        doc.Table(["a", "b"], [["1", "2"]], widths=[float("inf"), 0.5]),
        doc.Table(["a", "b"], [["1", "2"]], widths=[-3, 0]),
    ],
    ids=["score-inf", "interval-inf", "huge", "width-nan", "width-inf", "width-negative"],
)
def test_non_finite_numbers_never_stop_the_pdf(block):
    """Found: ``inf`` in a forest row or tick, and a NaN/inf column width, were written as
    ``inf`` / ``nanfr`` -- not Typst -- and the whole PDF failed on one number."""
    text, pages = _pdf_text(doc.Heading(2, "Numbers", "numbers"), block)
    assert pages == 1 and "Numbers" in text


@pytest.mark.parametrize("glue", ["\u00a0", "\u202f", "\u2007"])
def test_words_glued_by_no_break_spaces_still_wrap(glue):
    """Found: 400 words joined by no-break spaces are one unbreakable word to Typst, but
    Python's ``\\s`` saw short words, so the line ran 3,000 characters off the page."""
    long = glue.join(["palabra"] * 400)
    text, _ = _pdf_text(doc.Para(long), doc.Table(["a", "b"], [[glue.join(["celda"] * 120), "2"]]))
    lines = text.splitlines()
    assert max(len(line) for line in lines) < 130
    assert sum(line.count("palabra") for line in lines) == 400


def test_ten_thousand_character_word_and_number_wrap():
    text, pages = _pdf_text(doc.Para("W" * 10_000), doc.Para("9" * 10_000))
    assert max(len(line) for line in text.splitlines()) < 130
    assert text.replace("\n", "").count("W") == 10_000 and pages >= 2


# ------------------------------------------------------------------ trend sections, hostile labels
HOSTILE_LABEL = (
    '#read("/etc/passwd") ]] <script>alert(1)</script> " onload="x" {site} {0} '
    "Sitio once = 11 llame al +502 5555 1234 o escriba a ana@example.org"
)
HOSTILE_SITE = '<img src=x onerror=alert(1)> #import "@preview/x:0.1.0" $x$ ana@example.org'


@pytest.fixture(scope="module")
def hostile_rounds(tmp_path_factory):
    if not (ROUNDS / "datapackage.json").is_file():
        pytest.skip("data/demo-rounds is not there")
    from copeval.report.data import ReportData

    project = tmp_path_factory.mktemp("adv2") / "rounds"
    shutil.copytree(ROUNDS, project)
    desc = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    for r in desc["copeval"]["rounds"]:
        r["label_es"] = f"{r['id']} {HOSTILE_LABEL}"
        r["label_en"] = f"{r['id']} {HOSTILE_LABEL}"
    (project / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    sites = pd.read_csv(project / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[sites["site_id"] == "VC", "name"] = HOSTILE_SITE
    sites.to_csv(project / "sites.csv", index=False)
    return ReportData.load(project, n_boot=60, complete=False, memo=False)


def _parsed_html(html: str) -> tuple[set, list]:
    """(tag names, (attribute, value) pairs) of an HTML fragment, as a browser parses it."""
    from html.parser import HTMLParser

    tags, attrs = set(), []

    class P(HTMLParser):
        def handle_starttag(self, tag, a):
            tags.add(tag)
            attrs.extend((k, v or "") for k, v in a)

    P().feed(html)
    return tags, attrs


def _sections(data, lang):
    from copeval.report import trend

    view = data.for_readers(lang)
    ci = "90%" if lang == "en" else "90 %"
    return [
        trend.change_section(view, "VC", lang, ci_text=ci),
        trend.trend_lines(view, "VC", lang),
        trend.change_grid(view, ["VC", "TOT"], lang),
    ]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_trend_sections_with_hostile_round_labels_and_site_names(hostile_rounds, lang):
    """Round labels and a site name carrying Typst code, HTML, format fields, bidi
    controls, a phone number and an e-mail: the sections render, the HTML holds no live
    tag or attribute, the PDF compiles and prints the code as text, the personal data is
    redacted in both."""
    sections = _sections(hostile_rounds, lang)
    assert all(sections), "every section has content"
    html = "".join(s.html() for s in sections)
    tags, attrs = _parsed_html(html)
    assert "script" not in tags
    assert not [a for a in attrs if a[0].startswith("on")]
    assert all(v.startswith("data:image/") for k, v in attrs if k == "src")
    assert "5555 1234" not in html and "ana@example.org" not in html
    text, _ = _pdf_text(
        doc.DocInfo(title="t", lang=lang), *[b for s in sections for b in s.blocks]
    )
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", '#read("/etc/passwd")') in flat
    assert "root:x:0" not in text and "5555" not in text and "ana@example.org" not in text
    assert "\u202e" not in text
