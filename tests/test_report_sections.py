"""Report sections built in-process (no kernel): content, language, consent, traceability."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from copeval.errors import CopevalError
from copeval.report import ComparativeReport, ReportData, SiteReport
from copeval.report.quotes import select_quotes, trim_quote
from copeval.vocabulary import CRITERION_LABELS, band_index


@pytest.fixture(scope="module")
def demo_data(demo_path):
    return ReportData.load(demo_path, n_boot=100, seed=3)


def _text(block) -> str:
    """Reading text of a section: a doc.Section (site report) or an HTML block (comparative)."""
    if hasattr(block, "text") and callable(block.text):
        return block.text()
    return re.sub(r"<[^>]+>", " ", str(block))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_site_report_sections_are_in_one_language(demo_data, lang):
    r = SiteReport(demo_data, site_id="TOT", lang=lang)
    cover = _text(r.cover())
    assert "Totonicapán" in cover
    assert ("DATOS SINTÉTICOS" in cover) and ("SYNTHETIC DATA" in cover)  # banner, both
    summary = _text(r.summary())
    for c in ("C1", "C2", "C3", "C4", "AT"):
        assert CRITERION_LABELS[c][lang] in summary
    other = "en" if lang == "es" else "es"
    assert CRITERION_LABELS["C2"][other] not in summary
    assert ("Resumen ejecutivo" in summary) == (lang == "es")


def test_summary_numbers_come_from_the_score_table(demo_data):
    r = SiteReport(demo_data, site_id="VC", lang="en")
    row = demo_data.table.set_index(["site_id", "criterion"]).loc[("VC", "C4")]
    summary = _text(r.summary())
    assert f"{row['score']:.1f}" in summary
    assert f"{row['lower']:.1f}–{row['upper']:.1f}" in summary


def test_unknown_site_and_numeric_site_id_are_clear_errors(demo_data):
    with pytest.raises(CopevalError, match=r"No site 'XX' .* Available site IDs: VC, TOT"):
        SiteReport(demo_data, site_id="XX")
    with pytest.raises(CopevalError, match=r"site_id must be a string, got int 101.*-r site_id"):
        SiteReport(demo_data, site_id=101)


def test_quotes_respect_consent_and_attribution(demo_data):
    from copeval.report.site import select_criterion

    project = demo_data.project
    r = SiteReport(demo_data, site_id="VC", lang="es")
    text = r.criteria().text()
    quoted = set()
    for c in ("C1", "C2", "C3", "C4", "AT"):
        quoted |= set(select_criterion(demo_data, "VC", c).quotes["segment_id"])
    assert quoted, "the demo has quotable evidence"
    ev = demo_data.evidence.set_index("segment_id")
    assert set(ev.loc[sorted(quoted), "consent"]) == {"quote"}
    for seg in quoted:  # the quote is printed, its ID is not (IDs live in Appendix B)
        assert seg not in text
    # anonymous-source evidence is counted as withheld, never shown
    anon = demo_data.evidence[
        (demo_data.evidence["site_id"] == "VC") & (demo_data.evidence["consent"] == "anonymous")
    ]
    assert len(anon)
    assert "proceden de fuentes que no autorizaron citas" in text
    for seg in anon["segment_id"]:
        seg_text = project.segment_text(seg).strip()
        if len(seg_text) > 40:
            assert seg_text[:40] not in text
    # attributed by role and site
    assert "Villa Canales (entrevista" in text or "Villa Canales (grupo focal" in text


def test_quote_selection_rules():
    ev = pd.DataFrame(
        {
            "segment_id": ["a", "b", "c", "d", "e"],
            "source_id": ["S1", "S2", "S3", "S4", "S5"],
            "consent": ["quote", "quote", "quote", "anonymous", "quote"],
            "valence": [2, 1, -2, 2, 2],
            "stratum": ["police", "police", "community", "community", "community"],
        }
    )
    texts = {k: f"texto largo del segmento {k} con bastante contenido" for k in "abcde"}
    quotes, withheld = select_quotes(ev, texts.get, k=3, redact=str.upper)
    assert withheld == 1
    # strongest agreeing quote per stratum first, then the counterpoint
    assert list(quotes["segment_id"]) == ["e", "a", "c"]
    assert quotes["text"].iloc[0].startswith("TEXTO LARGO")  # redaction applied
    assert trim_quote("palabra " * 100, 30).endswith("…")


class _FakeData:
    """The three things select_summary reads from a ReportData."""

    def __init__(self, table, pairwise=None, names=None):
        self.table, self._pw = table, pairwise
        self.site_names = names or {s: s for s in table["site_id"].unique()}

    def for_site(self, name, site_id):
        assert name == "table"
        return self.table[self.table["site_id"] == site_id]

    def pairwise(self):
        return self._pw


def test_findings_sentences():
    from copeval.report.site import select_summary, word_findings

    rows = pd.DataFrame(
        {
            "site_id": ["A"] * 5,
            "criterion": ["C1", "C2", "C3", "C4", "AT"],
            "score": [2.7, 3.4, 1.3, 0.8, float("nan")],
            "lower": [2.6, 3.3, 1.0, 0.6, float("nan")],
            "upper": [2.9, 3.5, 2.5, 0.9, float("nan")],
            "insufficient_evidence": [False, False, True, False, False],
            "thin_evidence": [False, False, False, False, False],
        }
    )

    def words(table, **kw):
        sel = select_summary(_FakeData(table, **kw), "A")
        return sel, word_findings(sel, lang="en", site_name="Alfa", site_names={"B": "Beta"})

    sel, out = words(rows)
    assert (sel.strongest, sel.weakest, sel.clear_gap) == ("C2", "C4", True)
    text = " ".join(out)
    assert "The strongest criterion is C2 Community relationship and consultation (3.4)" in text
    assert "the weakest is C4 Analysis of conditions (0.8)" in text
    assert "Their intervals do not overlap" in text
    assert "Evidence is insufficient for C3 Problem solving (†)" in text
    assert "thin (‡)" not in text
    rows.loc[rows["criterion"] == "C1", "thin_evidence"] = True
    sel, out = words(rows)
    assert sel.thin == ("C1",) and sel.wide == ("C3",) and sel.missing == ("AT",)
    assert sel.weak == ("C3", "C4")
    text = " ".join(out)
    assert "The evidence on C1 Small-area focus is thin (‡)" in text
    assert "Uncertainty is high for C3 Problem solving" in text
    assert "No evidence for: AT Accountability and trust." in text
    assert out[-1].startswith("The recommendations section links the weak criteria (C3 and C4)")
    two = pd.concat([rows, rows.assign(site_id="B")], ignore_index=True)
    pw = pd.DataFrame(
        {
            "criterion": ["C2", "C1"],
            "site_a": ["A", "B"],
            "site_b": ["B", "A"],
            "p_a_greater": [0.02, 0.5],
            "p_tie": [0.0, 0.0],
            "p_b_greater": [0.98, 0.5],
        }
    )
    sel, out = words(two, pairwise=pw)
    assert sel.comparisons.to_dict("records") == [
        {"criterion": "C2", "other": "B", "direction": -1, "p": 0.98}
    ]
    es = word_findings(sel, lang="es", site_name="Alfa", site_names={"B": "Beta"})
    assert (
        "En C2 Relación y consulta con la comunidad, Alfa queda por debajo de Beta "
        "(probabilidad 0.98)." in es
    )
    # no clear difference: one sentence naming the sites compared with
    sel, out = words(two, pairwise=pw.assign(p_a_greater=0.5, p_b_greater=0.5))
    assert sel.comparisons.empty and sel.compared_with == ("B",)
    assert "Compared with Beta, no difference reaches a probability of 0.90." in out


def test_recommendations_cite_plan_actions_for_weak_criteria(demo_data):
    from copeval.report import doc

    section = SiteReport(demo_data, site_id="VC", lang="es").recommendations()
    anchors = [b.anchor for b in section.blocks if isinstance(b, doc.Heading)]
    weak = demo_data.table[(demo_data.table["site_id"] == "VC") & (demo_data.table["score"] < 2.4)]
    assert len(weak)
    for c in weak["criterion"]:
        assert f"rec-{c.lower()}" in anchors
    text = section.text()
    assert "FAES" in text and "MINGOB" in text
    assert re.search(r"\b2\.1\.[123]\b", text)


def test_evidence_appendix_lists_every_segment_of_the_site(demo_data):
    text = SiteReport(demo_data, site_id="TOT", lang="en").evidence_appendix().text()
    ev = demo_data.evidence[demo_data.evidence["site_id"] == "TOT"]
    for seg in ev["segment_id"]:
        assert seg in text


def test_comparative_sections(demo_data):
    r = ComparativeReport(demo_data, sites="all", lang="en")
    text = _text(r.summary()) + _text(r.differences()) + _text(r.coverage())
    assert "Villa Canales" in text and "Totonicapán" in text
    assert "probability" in text
    with pytest.raises(CopevalError, match=r"Unknown site ID\(s\): 0101\. Available site IDs"):
        ComparativeReport(demo_data, sites="VC,0101", lang="en")


def test_analysis_cache_is_reused_and_keyed_on_inputs(demo_copy, tmp_path):
    cache = tmp_path / "cache"
    a = ReportData.load(demo_copy, n_boot=20, cache_dir=cache)
    files = list(cache.glob("analysis-*.npz"))
    assert len(files) == 1
    b = ReportData.load(demo_copy, n_boot=20, cache_dir=cache)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert len(list(cache.glob("analysis-*.npz"))) == 1
    ReportData.load(demo_copy, n_boot=21, cache_dir=cache)  # other parameters: new entry
    (demo_copy / "sites.csv").write_text(
        (demo_copy / "sites.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    ReportData.load(demo_copy, n_boot=20, cache_dir=cache)  # changed file: new entry
    assert len(list(cache.glob("analysis-*.npz"))) == 3


# ------------------------------------------------------------------------------- profiles
@pytest.mark.parametrize("lang", ["es", "en"])
def test_brief_profile_renders_only_its_sections(demo_data, lang):
    from copeval.report.base import how_to_read
    from copeval.report.i18n import fmt_pct
    from copeval.report.site import PROFILES

    full = SiteReport(demo_data, site_id="VC", lang=lang)
    brief = SiteReport(demo_data, site_id="VC", lang=lang, profile="brief")
    for name in PROFILES["full"]:
        shown = getattr(brief, name)()
        assert bool(shown) == (name in PROFILES["brief"]), name
    # the same ratings and findings as the full report; its "how to read" box leaves out
    # quotes, which a brief does not show
    howto = how_to_read(lang, fmt_pct(0.9, lang))
    brief_howto = how_to_read(lang, fmt_pct(0.9, lang), quotes=False)
    assert howto in full.summary().blocks and brief_howto in brief.summary().blocks
    assert [b for b in full.summary().blocks if b != howto] == [
        b for b in brief.summary().blocks if b != brief_howto
    ]
    # no grid of other sites, no list of action texts the brief does not print
    kinds = lambda sec: [type(b).__name__ for b in sec.blocks]  # noqa: E731
    assert kinds(brief.results()).count("Table") == 0 and "Forest" in kinds(brief.results())
    assert kinds(full.results()).count("Table") == 1
    assert "Numbered" not in kinds(brief.recommendations())
    assert "Numbered" in kinds(full.recommendations())
    about = _text(brief.methods())
    assert "--profile brief" in about
    assert ("Sobre este resumen" in about) == (lang == "es")
    kicker = "Resumen municipal" if lang == "es" else "Municipal brief"
    assert kicker in _text(brief.cover()) and kicker not in _text(full.cover())
    title = "Cómo leer este informe" if lang == "es" else "How to read this report"
    assert title in _text(brief.summary()) and title in _text(full.summary())


def test_unknown_profile_is_a_clear_error(demo_data, demo_path):
    with pytest.raises(
        CopevalError, match=r"Unknown report profile 'short'. Available profiles: full, brief"
    ):
        SiteReport(demo_data, site_id="VC", profile="short")
    with pytest.raises(CopevalError, match=r"Unknown report profile"):
        SiteReport.build(demo_path, site_id="VC", profile="short")


# ------------------------------------------------------------------------------- grids
def _blocks(section, kind):
    from copeval.report import doc

    out = []

    def walk(blocks):
        for b in blocks:
            if isinstance(b, kind):
                out.append(b)
            if isinstance(b, doc.Group | doc.Callout):
                walk(b.content)

    walk(section.blocks)
    return out


def test_grid_of_sites_cells_bands_flags_and_highlight(demo_data):
    from copeval.report import doc
    from copeval.report.site import select_results

    r = SiteReport(demo_data, site_id="TOT", lang="es")
    sel = select_results(r.data, "TOT")
    assert sel.sites == ("VC", "TOT")  # the project's order; this site highlighted
    (grid,) = _blocks(r.results(), doc.Table)
    assert grid.style == "heat" and grid.row_header and grid.highlight == (1,)
    assert [doc.plain_text(row[0]) for row in grid.rows] == ["Villa Canales", "Totonicapán"]
    tab = demo_data.table.set_index(["site_id", "criterion"])
    for i, site in enumerate(sel.sites):
        for j, c in enumerate(["C1", "C2", "C3", "C4", "AT"]):
            cell = grid.rows[i][j + 1]
            score = tab.loc[(site, c), "score"]
            assert cell.band == band_index(score)
            assert doc.plain_text(cell).startswith(f"{score:.1f}")
    assert "Figura 2." in grid.caption


def test_coverage_table_counts_sources_and_segments_per_group(demo_data):
    from copeval.report import doc

    r = SiteReport(demo_data, site_id="VC", lang="en")
    (table,) = _blocks(r.coverage(), doc.Table)
    ev = demo_data.for_site("evidence", "VC")
    c1 = ev[(ev["criterion"] == "C1") & (ev["stratum"] == "police")]
    expected = f"{c1['source_id'].nunique()} ({c1['segment_id'].nunique()})"
    assert doc.plain_text(table.rows[0][0]).startswith("C1 ")
    assert doc.plain_text(table.rows[0][1]) == expected
    assert table.rows[0][1].fill is not None  # shaded by the number of sources


def test_forest_places_scores_intervals_and_marks(demo_data):
    from copeval.report import doc

    r = SiteReport(demo_data, site_id="VC", lang="es")
    (forest,) = _blocks(r.results(), doc.Forest)
    tab = demo_data.table.set_index(["site_id", "criterion"])
    assert [row.label.split()[0] for row in forest.rows] == ["C1", "C2", "C3", "C4", "AT"]
    for row in forest.rows:
        c = row.label.split()[0]
        assert row.score == pytest.approx(tab.loc[("VC", c), "score"])
        assert row.lower == pytest.approx(tab.loc[("VC", c), "lower"])
        assert row.value_text.startswith(f"{row.score:.1f}")
    assert forest.bands[1] == "incipiente" and len(forest.ticks) == 6
