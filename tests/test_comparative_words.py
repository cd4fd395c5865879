"""The comparative report's words: the rules a reader (a minister, a donor) relies on.

* a headline that says how the sites compare and the weakness they share;
* the higher-rated site named first, probabilities in words with the number in parentheses,
  never ``P(A > B)``;
* nothing "highest" or "lowest" when there are two sites;
* no internal ID, code, seed or path in the reading text (the method appendix keeps the
  command that reproduces the report);
* one language per report, plural forms right, units on the coverage table.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from copeval.report import ReportData, doc
from copeval.report import comparative as cmp
from copeval.report.comparative import ComparativeReport, select_coverage, select_pairs
from copeval.report.i18n import criterion_label, fmt_num
from copeval.vocabulary import band_index

LANGS = ("es", "en")
READING = ("cover", "contents", "summary", "results", "differences", "coverage")


@pytest.fixture(scope="module")
def demo_data(demo_path):
    return ReportData.load(demo_path, n_boot=400, seed=3)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from conftest import tiny_tables

    from copeval.project import write_project

    path = write_project(
        tmp_path_factory.mktemp("tiny") / "tiny",
        **tiny_tables(),
        meta={"title": "Tiny", "synthetic": True},
    )
    return ReportData.load(path, n_boot=30, memo=False)


@pytest.fixture(scope="module")
def many_data(tmp_path_factory):
    """Nine synthetic sites (more than the report details pair by pair)."""
    from copeval.synth import synth_project

    path = tmp_path_factory.mktemp("synth") / "nine"
    synth_project(9, seed=5, out=path)
    return ReportData.load(path, n_boot=200, memo=False)


def _report(data, lang, sites="all") -> ComparativeReport:
    return ComparativeReport(data, sites=sites, lang=lang)


def _reading_text(report: ComparativeReport) -> str:
    return "\n".join(getattr(report, name)().text() for name in READING)


def _blocks(node):
    """Every block of a section, groups and callouts opened."""
    blocks = node.blocks if isinstance(node, doc.Section) else node
    for b in blocks:
        yield b
        if isinstance(b, doc.Group | doc.Callout):
            yield from _blocks(b.content)


# ------------------------------------------------------------------------------ headline
@pytest.mark.parametrize("lang", LANGS)
def test_headline_says_the_clear_difference_and_the_shared_weakness(demo_data, lang):
    report = _report(demo_data, lang)
    summary = report.summary()
    (box,) = [b for b in _blocks(summary) if isinstance(b, doc.Callout) and b.kind == "info"][:1]
    headline = doc.plain_text(box.content)
    assert box.title == {"es": "En pocas palabras", "en": "In brief"}[lang]
    # at most two sentences a minister can repeat
    assert len(re.findall(r"[.!?](?:\s|$)", headline)) <= 2
    # the clear difference: C2, Totonicapán first, with its likelihood in words
    c2 = criterion_label("C2", lang)
    assert c2 in headline
    assert headline.index("Totonicapán") < headline.index("Villa Canales", headline.index(c2))
    assert {"es": "prácticamente seguro", "en": "virtually certain"}[lang] in headline
    assert "> 0.99" in headline
    # the weakness both sites share, said explicitly: C4 (and C3), limited at both sites
    weak = {"es": "debilidades comunes", "en": "shared weaknesses"}[lang]
    assert weak in headline
    assert headline.index(criterion_label("C4", lang)) > headline.index(weak)
    assert criterion_label("C3", lang) in headline
    assert {"es": "nivel incipiente en ambos sitios", "en": "rated limited at both sites"}[
        lang
    ] in headline


@pytest.mark.parametrize("lang", LANGS)
def test_no_highest_or_lowest_and_no_probability_notation_with_two_sites(demo_data, lang):
    report = _report(demo_data, lang)
    text = _reading_text(report) + report.methods().text()
    banned = {
        "en": r"\b(highest|lowest|best|worst)\b",
        "es": r"\b(más alt[oa]s?|más baj[oa]s?|mejor valorad[oa]|peor valorad[oa])\b",
    }[lang]
    assert re.findall(banned, text, flags=re.I) == []
    assert "P(" not in text and "p_a" not in text


@pytest.mark.parametrize("lang", LANGS)
def test_every_comparison_names_the_higher_rated_site_first(demo_data, lang):
    report = _report(demo_data, lang)
    table = next(b for b in _blocks(report.differences()) if isinstance(b, doc.Table))
    pairs = select_pairs(demo_data.for_readers(lang), report.sites)
    assert len(table.rows) == len(pairs) == 5
    vs = {"es": " frente a ", "en": " vs "}[lang]
    for row, pair in zip(table.rows, pairs.itertuples(index=False), strict=True):
        higher, lower = doc.plain_text(row[1].content), doc.plain_text(row[2].content)
        assert (higher, lower) == (report._name(pair.higher), report._name(pair.lower))
        a, b = doc.plain_text(row[3].content).replace("\u00a0", " ").split(vs)
        assert float(a) >= float(b)
        likely = doc.plain_text(row[4].content).replace("\u00a0", " ")
        assert re.fullmatch(r"[^()]+ \((> |< )?\d\.\d\d\)", likely), likely
        assert row[4].bold == bool(pair.clear)


# ------------------------------------------------------------------------------ IDs
@pytest.mark.parametrize("lang", LANGS)
def test_no_internal_ids_codes_seeds_or_paths_in_the_reading_text(demo_data, lang):
    report = _report(demo_data, lang)
    text = _reading_text(report)
    site_ids = [s for s in demo_data.site_names]
    assert [s for s in site_ids if re.search(rf"\b{re.escape(s)}\b", text)] == []
    segments = set(demo_data.evidence["segment_id"]) | set(demo_data.project.sources["source_id"])
    assert [s for s in segments if s in text] == []
    assert re.findall(r"\bC\d\.[a-z_]+", text) == []  # codebook codes
    assert re.findall(r"\b(seed|semilla|n_boot|bootstrap)\b", text, flags=re.I) == []
    assert "data/" not in text and str(demo_data.project.path) not in text
    # ... the method appendix keeps the command, whole, in a code span
    methods = report.methods()
    code = [
        item
        for b in _blocks(methods)
        if isinstance(b, doc.Para)
        for item in b.content
        if isinstance(item, doc.Span) and item.style == "code"
    ]
    assert [c.text for c in code] == [
        f"copeval compare data/demo --sites all --lang {lang} --weight 0.6 --n-boot 400 "
        "--seed 3 --ci 0.9"
    ]


def test_a_subset_is_reproduced_with_its_site_ids(demo_data):
    methods = _report(demo_data, "en", sites="TOT,VC").methods().text()
    assert "--sites TOT,VC --lang en" in methods


# ------------------------------------------------------------------------------ language
ENGLISH = r"\b(the|and|of|with|site|sites|rates|higher|likely|sources|rating|ratings)\b"
SPANISH = r"\b(el|los|las|del|sitio|sitios|valoración|fuentes|probable|criterios)\b"


def command_text(para) -> str:
    return "".join(i.text for i in para.content if isinstance(i, doc.Span) and i.style == "code")


def test_a_spanish_report_has_no_english_and_an_english_one_no_spanish(demo_data):
    for lang, pattern in (("es", ENGLISH), ("en", SPANISH)):
        report = _report(demo_data, lang)
        command = report.methods().blocks[-1]  # the reproduce command: a command
        text = _reading_text(report) + report.methods().text().replace(command_text(command), "")
        # the project's own title is the project's text, printed as the project gives it
        title = demo_data.project.meta.get(f"title_{lang}") or demo_data.project.meta["title"]
        text = text.replace(title, "")
        assert re.findall(pattern, text, flags=re.I) == [], lang


@pytest.mark.parametrize("lang", LANGS)
def test_plural_forms(tiny_data, lang):
    data = tiny_data
    wrong = (
        r"\b1 (sites|interviews|focus groups|documents|respondents|pairs|sitios|entrevistas"
        r"|grupos focales|documentos|personas|pares)\b"
    )
    for sites in ("all", "A"):
        report = _report(data, lang, sites=sites)
        text = _reading_text(report)
        assert re.findall(wrong, text) == [], text
    one = _report(data, lang, sites="B").summary().text()
    assert {"es": "compara 1 sitio en", "en": "covers 1 site on"}[lang] in one
    cover = _report(data, lang).cover().text()
    assert {"es": "1 grupo focal", "en": "1 focus group"}[lang] in cover
    assert {"es": "2 entrevistas", "en": "2 interviews"}[lang] in cover


# ------------------------------------------------------------------------------ layout
@pytest.mark.parametrize("lang", LANGS)
def test_grid_cells_carry_the_band_and_value_of_their_rating(demo_data, lang):
    report = _report(demo_data, lang)
    grid = next(b for b in report.summary().blocks if isinstance(b, doc.Table))
    assert grid.style == "heat" and grid.row_header
    table = demo_data.table.set_index(["site_id", "criterion"])
    for site, row in zip(report.sites, grid.rows, strict=True):
        assert doc.plain_text(row[0].content) == report._name(site)
        for c, cell in zip(cmp.CRITERIA, row[1:], strict=True):
            score = table.loc[(site, c), "score"]
            assert cell.band == band_index(score)
            assert doc.plain_text(cell.content).startswith(fmt_num(score, lang))


def test_a_short_report_lists_its_sections_on_the_cover_not_on_a_page(demo_data, monkeypatch):
    report = _report(demo_data, "en")
    assert not report.contents()  # no page of its own
    cover = report.cover()
    assert not any(isinstance(b, doc.Toc) for b in _blocks(cover))
    line = (
        "In this report: Executive summary; Comparison by criterion; Which differences are "
        "clear?; Evidence coverage; Appendix A. Method."
    )
    assert line in cover.text()
    monkeypatch.setattr(cmp, "CONTENTS_MIN_SECTIONS", 5)
    assert any(isinstance(b, doc.Toc) for b in report.contents().blocks)
    assert "In this report" not in report.cover().text()


@pytest.mark.parametrize("lang", LANGS)
def test_the_coverage_table_says_its_units(demo_data, lang):
    report = _report(demo_data, lang)
    table = next(b for b in report.coverage().blocks if isinstance(b, doc.Table))
    header = [doc.plain_text(c.content) for c in table.header]
    unit = {"es": "fuentes (pasajes)", "en": "sources (passages)"}[lang]
    assert all(h.endswith(unit) for h in header[1:5])
    assert header[5].endswith({"es": "personas", "en": "respondents"}[lang])
    cov = select_coverage(demo_data, report.sites).set_index("site_id")
    first = doc.plain_text(table.rows[0][1].content)
    site = report.sites[0]
    assert first == f"{cov.loc[site, 'police_sources']} ({cov.loc[site, 'police_segments']})"


def test_sections_are_document_nodes_and_escape_project_text(demo_copy):
    sites = pd.read_csv(demo_copy / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[sites["site_id"] == "VC", "name"] = '<img src=x onerror=alert(1)> #set page("a5")'
    sites.to_csv(demo_copy / "sites.csv", index=False)
    data = ReportData.load(demo_copy, n_boot=50, memo=False)
    report = _report(data, "en")
    for name in ComparativeReport.SECTIONS:
        section = getattr(report, name)()
        assert isinstance(section, doc.Section), name
        html = section.html()
        assert "<img src=x" not in html and "onerror=alert" not in html.replace(
            "onerror=alert(1)&gt;", ""
        )
    assert "&lt;img src=x onerror=alert(1)&gt;" in report.summary().html()


def test_the_round_is_passed_to_the_analysis_only_when_given(monkeypatch, demo_data):
    seen = []

    def fake_load(path, **kwargs):
        seen.append(kwargs)
        return demo_data

    monkeypatch.setattr(ReportData, "load", staticmethod(fake_load))
    ComparativeReport.build("data/demo", lang="en")
    ComparativeReport.build("data/demo", lang="en", round="2019")
    assert "round" not in seen[0]
    assert seen[1]["round"] == "2019"


# ------------------------------------------------------------------------------ many sites
@pytest.mark.parametrize("lang", LANGS)
def test_many_sites_headline_spread_and_ranks(many_data, lang):
    report = _report(many_data, lang)
    summary = report.summary().text()
    assert {"es": "Los 9 sitios", "en": "The 9 sites"}[lang] in summary
    cover = report.cover()
    (title,) = [b for b in _blocks(cover) if isinstance(b, doc.Heading)]
    assert title.text == {"es": "Comparación de 9 sitios", "en": "Comparison of 9 sites"}[lang]
    assert {"es": "y 3 sitios más", "en": "and 3 more sites"}[lang] in cover.text()
    results = report.results()
    spread = next(b for b in results.blocks if isinstance(b, doc.Table))
    assert [doc.plain_text(c.content) for c in spread.header][1] == {
        "es": "Más baja",
        "en": "Lowest",
    }[lang]
    assert not any(isinstance(b, doc.Figure) for b in results.blocks)  # no forest for 9
    diff = report.differences()
    tables = [b for b in diff.blocks if isinstance(b, doc.Table)]
    assert len(tables) == 5 and all(len(t.rows) == 9 for t in tables)
    assert "P(" not in _reading_text(report)


def test_four_sites_get_one_triangular_matrix_per_criterion(many_data):
    sites = list(many_data.site_names)[:4]
    report = _report(many_data, "en", sites=",".join(sites))
    tables = [b for b in report.differences().blocks if isinstance(b, doc.Table)]
    assert len(tables) == 5
    for tab in tables:
        assert len(tab.rows) == 3 and len(tab.header) == 4  # rows: all but the last site
        for i, row in enumerate(tab.rows):
            filled = [j for j, c in enumerate(row[1:]) if doc.plain_text(c.content)]
            assert filled == list(range(i, 3))  # the upper triangle only


def test_grid_cells_print_at_8_points_or_more():
    """Issue 16: the heat-map text printed at about 6 pt. The Typst template sets the size
    of a grid table's cells and of the line under the value (the interval)."""
    from copeval.report import pdf

    template = pdf.template()
    sizes = re.search(r"#let cv-table-size = \((.*?)\)", template, re.S).group(1)
    heat = float(re.search(r"\bheat: ([\d.]+)pt", sizes).group(1))
    label = float(re.search(r"#let cv-grid-label\(body\) = text\(([\d.]+)pt", template).group(1))
    assert heat >= 8 and label >= 8, (heat, label)


def test_a_round_is_named_on_the_cover_dated_by_its_fieldwork_and_reproduced(
    demo_data, monkeypatch
):
    """A project with rounds (the interface of ReportData.round/rounds/round_label)."""
    monkeypatch.setattr(
        ReportData, "rounds", property(lambda self: ["2017", "2019", "2021"]), raising=False
    )
    monkeypatch.setattr(ReportData, "round", property(lambda self: "2019"), raising=False)
    monkeypatch.setattr(
        ReportData,
        "round_label",
        lambda self, r, lang: f"Ronda {r}" if lang == "es" else f"Round {r}",
        raising=False,
    )
    report = _report(demo_data, "en")
    monkeypatch.setitem(
        report.project.meta, "rounds", [{"id": "2019", "start": "2019-03-01", "end": "2019-06-30"}]
    )
    cover = report.cover().text()
    assert "Round: Round 2019" in cover
    assert "Fieldwork: March 2019 – June 2019" in cover
    assert "--round 2019" in report.methods().text()
    # the latest round is what a report shows by default: no option needed to reproduce it
    monkeypatch.setattr(ReportData, "round", property(lambda self: "2021"), raising=False)
    assert "--round" not in _report(demo_data, "en").methods().text()
