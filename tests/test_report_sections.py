"""Report sections built in-process (no kernel): content, language, consent, traceability."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from copeval.errors import CopevalError
from copeval.report import ComparativeReport, ReportData, SiteReport
from copeval.report.quotes import select_quotes, trim_quote
from copeval.report.summary import comparison_sentences, site_findings
from copeval.vocabulary import CRITERION_LABELS


@pytest.fixture(scope="module")
def demo_data(demo_path):
    return ReportData.load(demo_path, n_boot=100, seed=3)


def _text(block) -> str:
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
    project = demo_data.project
    r = SiteReport(demo_data, site_id="VC", lang="es")
    html = str(r.criteria())
    quoted_ids = set(re.findall(r"· (VC-[A-Z0-9-]+)</footer>", html))
    assert quoted_ids, "the demo has quotable evidence"
    ev = demo_data.evidence.set_index("segment_id")
    assert set(ev.loc[sorted(quoted_ids), "consent"]) == {"quote"}
    # anonymous-source evidence is counted as withheld, never shown
    anon = demo_data.evidence[
        (demo_data.evidence["site_id"] == "VC") & (demo_data.evidence["consent"] == "anonymous")
    ]
    assert len(anon)
    assert "proceden de fuentes que no autorizaron citas" in html
    for seg in anon["segment_id"]:
        text = project.segment_text(seg).strip()
        if len(text) > 40:
            assert text[:40] not in html
    # attributed by role and site
    assert "Villa Canales (entrevista" in html or "Villa Canales (grupo focal" in html


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


def test_findings_sentences():
    rows = pd.DataFrame(
        {
            "criterion": ["C1", "C2", "C3", "C4", "AT"],
            "score": [2.7, 3.4, 1.3, 0.8, float("nan")],
            "lower": [2.6, 3.3, 1.0, 0.6, float("nan")],
            "upper": [2.9, 3.5, 2.5, 0.9, float("nan")],
            "insufficient_evidence": [False, False, True, False, False],
            "thin_evidence": [False, False, False, False, False],
        }
    )
    text = " ".join(site_findings(rows, lang="en"))
    assert "The strongest criterion is C2 Community relationship and consultation (3.4)" in text
    assert "the weakest is C4 Analysis of conditions (0.8)" in text
    assert "Their intervals do not overlap" in text
    assert "Evidence is insufficient for C3 Problem solving (†)" in text
    assert "thin (‡)" not in text
    rows.loc[rows["criterion"] == "C1", "thin_evidence"] = True
    text = " ".join(site_findings(rows, lang="en"))
    assert "The evidence on C1 Small-area focus is thin (‡)" in text
    assert "Uncertainty is high for C3 Problem solving" in text
    assert "No evidence for: AT Accountability and trust." in text
    with_cmp = site_findings(rows, lang="en", comparisons=["COMPARISON."])
    assert with_cmp[-2:] == [
        "COMPARISON.",
        "The recommendations section links the weak criteria (C3 and C4) to MOPSIC tools "
        "and actions of Guatemala's National Security Strategic Plan 2020–2024.",
    ]
    pw = pd.DataFrame(
        {
            "criterion": ["C2"],
            "site_a": ["A"],
            "site_b": ["B"],
            "p_a_greater": [0.02],
            "p_tie": [0.0],
            "p_b_greater": [0.98],
        }
    )
    sent = comparison_sentences(pw, site_id="A", site_names={"A": "Alfa", "B": "Beta"}, lang="es")
    assert sent == [
        "En C2 Relación y consulta con la comunidad, Alfa queda por debajo de Beta "
        "(probabilidad 0.98)."
    ]


def test_recommendations_cite_plan_actions_for_weak_criteria(demo_data):
    html = str(SiteReport(demo_data, site_id="VC", lang="es").recommendations())
    weak = demo_data.table[(demo_data.table["site_id"] == "VC") & (demo_data.table["score"] < 2.4)]
    assert len(weak)
    for c in weak["criterion"]:
        assert f'id="rec-{c}"' in html
    assert "FAES" in html and "MINGOB" in html
    assert re.search(r"\b2\.1\.[123]\b", html)


def test_evidence_appendix_lists_every_segment_of_the_site(demo_data):
    html = str(SiteReport(demo_data, site_id="TOT", lang="en").evidence_appendix())
    ev = demo_data.evidence[demo_data.evidence["site_id"] == "TOT"]
    for seg in ev["segment_id"]:
        assert seg in html


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
    files = list(cache.glob("analysis-*.pickle"))
    assert len(files) == 1
    b = ReportData.load(demo_copy, n_boot=20, cache_dir=cache)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert len(list(cache.glob("analysis-*.pickle"))) == 1
    ReportData.load(demo_copy, n_boot=21, cache_dir=cache)  # other parameters: new entry
    (demo_copy / "sites.csv").write_text(
        (demo_copy / "sites.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    ReportData.load(demo_copy, n_boot=20, cache_dir=cache)  # changed file: new entry
    assert len(list(cache.glob("analysis-*.pickle"))) == 3


# ------------------------------------------------------------------------------- profiles
@pytest.mark.parametrize("lang", ["es", "en"])
def test_brief_profile_renders_only_its_sections(demo_data, lang):
    from copeval.report.site import PROFILES

    full = SiteReport(demo_data, site_id="VC", lang=lang)
    brief = SiteReport(demo_data, site_id="VC", lang=lang, profile="brief")
    for name in PROFILES["full"]:
        shown = str(getattr(brief, name)())
        assert bool(shown) == (name in PROFILES["brief"]), name
    # the same ratings and summary as the full report
    assert str(brief.summary()) == str(full.summary())
    # no heatmap of other sites, no links to an action list the brief does not print
    assert str(brief.results()).count("<figure") == 1
    assert str(full.results()).count("<figure") == 2
    recs = str(brief.recommendations())
    assert 'href="#pesn-' not in recs and 'class="cv-actions"' not in recs
    assert 'href="#pesn-' in str(full.recommendations())
    about = _text(brief.methods())
    assert "--profile brief" in about
    assert ("Sobre este resumen" in about) == (lang == "es")
    kicker = "Resumen municipal" if lang == "es" else "Municipal brief"
    assert kicker in _text(brief.cover()) and kicker not in _text(full.cover())


def test_unknown_profile_is_a_clear_error(demo_data, demo_path):
    with pytest.raises(
        CopevalError, match=r"Unknown report profile 'short'. Available profiles: full, brief"
    ):
        SiteReport(demo_data, site_id="VC", profile="short")
    with pytest.raises(CopevalError, match=r"Unknown report profile"):
        SiteReport.build(demo_path, site_id="VC", profile="short")


# ------------------------------------------------------------------------------- HTML grids
def test_heatmap_table_cells_bands_flags_and_highlight():
    from copeval.report._html import heatmap_table

    scores = pd.DataFrame(
        {
            "site_id": ["A", "A", "B", "B"],
            "criterion": ["C1", "C2", "C1", "C2"],
            "score": [3.5, 0.2, float("nan"), 1.7],
            "insufficient_evidence": [False, False, False, True],
            "thin_evidence": [False, False, False, True],
        }
    )
    html = heatmap_table(
        scores,
        lang="es",
        site_names={"A": "Sitio <A>", "B": "B"},
        criteria=["C1", "C2"],
        highlight="A",
        caption="Figura 2.",
    )
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html)
    assert len(rows) == 3  # header + two sites, in the given order
    assert '<tr class="cv-self"><th scope="row">Sitio &lt;A&gt;</th>' in rows[1]
    assert re.findall(r'class="(cv-band-[^"]+)"', rows[1]) == ["cv-band-4", "cv-band-0"]
    assert "3.5<br/><span>consolidado</span>" in rows[1]
    assert re.findall(r'class="(cv-band-[^"]+)"', rows[2]) == ["cv-band-na", "cv-band-2"]
    assert "1.7†‡" in rows[2] and "sin datos" in rows[2].lower()
    assert html.endswith("<figcaption>Figura 2.</figcaption></figure>")


def test_coverage_table_counts_sources_and_segments_per_group(demo_data):
    from copeval.report._html import coverage_table

    ev = demo_data.for_site("evidence", "VC")
    html = coverage_table(ev, lang="en")
    c1 = ev[ev["criterion"] == "C1"]
    police = c1[c1["stratum"] == "police"]
    expected = f"{police['source_id'].nunique()} ({police['segment_id'].nunique()})"
    first_row = re.search(r"<tr><th scope=\"row\">C1 [^<]*</th>(.*?)</tr>", html).group(1)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", first_row)[0] == expected
    empty = coverage_table(ev.iloc[0:0], lang="en")
    assert empty.count('class="cv-empty"') == 5 * 4  # every cell a dash


def test_forest_html_places_scores_and_intervals_on_the_0_4_scale():
    from copeval.report._html import forest_html

    rows = pd.DataFrame(
        {
            "criterion": ["C1", "C2"],
            "score": [2.0, 1.0],
            "lower": [1.6, 0.2],
            "upper": [2.4, 1.9],
            "insufficient_evidence": [False, True],
        }
    )
    html = forest_html(rows, lang="es", criteria=["C1", "C2", "C3"], caption="Figura 1.")
    tracks = re.findall(r'<div class="cv-fx-track">(.*?)</div>', html)
    assert len(tracks) == 3 and tracks[2] == ""  # C3 has no score: an empty track
    assert '<span class="cv-fx-ci" style="left:40.00%;width:20.00%">' in tracks[0]
    assert '<span class="cv-fx-dot" style="left:50.00%">' in tracks[0]
    assert "cv-fx-hollow" in tracks[1] and "cv-fx-thin" in tracks[1]
    assert ">1.0†</span>" in tracks[1]
    assert re.findall(r'<div class="cv-fx-ticks">(.*?)</div>', html)[0].count("<span") == 6
    assert "incipiente" in html and "Figura 1." in html
