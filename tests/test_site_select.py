"""The site report's select step: language-neutral selections tested against the data they
come from (no text parsed, no words compared)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from copeval.report import ReportData, site
from copeval.report.i18n import STRINGS
from copeval.report.recommend import load_crosswalk
from copeval.vocabulary import (
    BAND_CODES,
    CRITERIA,
    RATING_BANDS,
    RESPONDENT_GROUPS,
    STRATA,
    band_index,
)


@pytest.fixture(scope="module")
def demo_data(demo_path):
    return ReportData.load(demo_path, n_boot=100, seed=3)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from conftest import tiny_tables

    from copeval.project import write_project

    path = write_project(
        tmp_path_factory.mktemp("tiny") / "tiny",
        **tiny_tables(),
        meta={"title": "Tiny", "synthetic": True},
    )
    return ReportData.load(path, n_boot=20, seed=1)


# ------------------------------------------------------------------ language neutrality
#: Codes of copeval's vocabularies: identifiers (several are English words), not words of a
#: report.
_CODES = {
    *BAND_CODES,
    *STRATA,
    *RESPONDENT_GROUPS,
    *site.METHODS,
    "quote",
    "anonymous",
    "none",
    "reliable",
    "tentative",
    "unreliable",
    "qualitative",
    "survey",
    "both",
    "community",
    "police",
}
#: Every word of ours a report prints (both languages): none may appear in a selection.
_WORDS = {
    w.strip(".,:;()«»“”")
    for entry in STRINGS.values()
    for text in entry.values()
    for w in text.replace("|", " ").split()
    if len(w.strip(".,:;()«»“”")) > 4 and w.strip(".,:;()«»“”").isalpha()
} | {es for _, _, es in RATING_BANDS}
_WORDS -= _CODES


def _strings(value, out=None):
    """All string *values* inside a selection (dataclasses, dicts, frames, tuples); field
    names, keys and column names are identifiers and are skipped, as is project data."""
    out = [] if out is None else out
    if isinstance(value, str):
        out.append(value)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            if f.name not in ("site", "meta", "record", "name"):  # project data
                _strings(getattr(value, f.name), out)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in ("record", "project_path"):
                _strings(v, out)
    elif isinstance(value, pd.DataFrame):
        for col in value.columns:
            if col not in ("text", "translation"):  # quoted data, not our words
                _strings(list(value[col]), out)
    elif isinstance(value, list | tuple | set | pd.Index):
        for v in value:
            _strings(v, out)
    return out


def test_selections_hold_no_words(demo_data):
    cw = load_crosswalk()
    selections = [
        site.select_ratings(demo_data, "VC"),
        site.select_cover(demo_data, "VC"),
        site.select_summary(demo_data, "VC"),
        site.select_results(demo_data, "VC"),
        site.select_context(demo_data, "VC"),
        *(site.select_criterion(demo_data, "VC", c) for c in CRITERIA),
        site.select_coverage(demo_data, "VC"),
        site.select_survey(demo_data, "VC"),
        site.select_robustness(demo_data, "VC"),
        site.select_recommendations_for(demo_data, "VC", cw),
        site.select_methods(demo_data, "VC"),
        site.select_evidence_appendix(demo_data, "VC"),
    ]
    tools = set(cw.tools["tool"])  # the crosswalk's tool IDs ("Manual MOPSIC") are codes
    values = [s for sel in selections for s in _strings(sel) if s not in tools]
    assert len(values) > 500  # the walk reaches the selections' contents
    found = {s for s in values for w in s.split() if w.strip(".,:;()") in _WORDS}
    assert found == set()
    # ... while the worded section of the same data is full of them
    from copeval.report import SiteReport

    text = SiteReport(demo_data, site_id="VC", lang="es").criteria().text()
    assert sum(w.strip(".,:;()") in _WORDS for w in text.split()) > 50


# ------------------------------------------------------------------ ratings, cover, summary
def test_ratings_are_the_score_table_rows_with_bands_and_flags(demo_data):
    sel = site.select_ratings(demo_data, "TOT")
    tab = demo_data.table[demo_data.table["site_id"] == "TOT"].set_index("criterion")
    assert list(sel["criterion"]) == [c for c in CRITERIA if c in tab.index]
    for r in sel.to_dict("records"):
        t = tab.loc[r["criterion"]]
        assert r["score"] == pytest.approx(t["score"])
        assert (r["lower"], r["upper"]) == (pytest.approx(t["lower"]), pytest.approx(t["upper"]))
        assert r["band"] == band_index(t["score"])
        assert BAND_CODES[r["band"]] == t["band"]
        assert r["insufficient"] == bool(t["insufficient_evidence"])
        assert r["thin"] == bool(t["thin_evidence"])
        assert r["wide"] == (t["upper"] - t["lower"] > site.WIDE)
        assert r["n_sources"] == t["n_sources"] and r["n_respondents"] == t["n_respondents"]


def test_cover_counts_sources_with_consent_and_survey_respondents(demo_data):
    sel = site.select_cover(demo_data, "VC")
    src = demo_data.project.sources
    mine = src[(src["site_id"] == "VC") & (src["consent"] != "none")]
    assert sel.sources == mine["method"].value_counts().to_dict()
    assert (src[src["site_id"] == "VC"]["consent"] == "none").any()  # one is left out
    items = demo_data.for_site("scaled_items", "VC")
    assert sel.surveys == items.groupby("instrument")["respondent_id"].nunique().to_dict()
    assert set(sel.source_dates) == set(mine["date"])
    assert sel.synthetic is True and sel.name == "Villa Canales"


def test_summary_strongest_weakest_weak_and_clear_differences(demo_data):
    sel = site.select_summary(demo_data, "VC")
    rated = sel.ratings.dropna(subset=["score"]).set_index("criterion")["score"]
    core = rated[["C1", "C2", "C3", "C4"]]
    assert (sel.strongest, sel.weakest) == (core.idxmax(), core.idxmin())
    assert set(sel.weak) == set(rated[rated < 2.4].index)
    pw = demo_data.pairwise()
    for r in sel.comparisons.to_dict("records"):
        row = pw[
            (pw["criterion"] == r["criterion"]) & pw[["site_a", "site_b"]].isin(["VC"]).any(axis=1)
        ]
        row = row.iloc[0]
        p_up = row["p_a_greater"] if row["site_a"] == "VC" else row["p_b_greater"]
        assert r["p"] >= site.P_CLEAR
        assert r["p"] == pytest.approx(p_up if r["direction"] > 0 else 1 - p_up - row["p_tie"])


def test_results_grid_only_in_full_reports_and_compare_sites_by_department(demo_data):
    full = site.select_results(demo_data, "VC")
    brief = site.select_results(demo_data, "VC", grid=False)
    assert full.sites == ("VC", "TOT") and len(full.grid) == 2 * len(full.ratings)
    assert brief.sites == () and brief.grid.empty


def test_compare_sites_picks_the_department_in_large_projects(demo_data, monkeypatch):
    monkeypatch.setattr(site, "MAX_COMPARE", 1)
    assert site.compare_sites(demo_data, "TOT", max_compare=1) == ["TOT"]


# ------------------------------------------------------------------ criterion, coverage
def test_criterion_balance_obstacles_and_quotes(demo_data):
    ev = demo_data.for_site("evidence", "VC")
    for c in CRITERIA:
        sel = site.select_criterion(demo_data, "VC", c)
        mine = ev[ev["criterion"] == c]
        v = pd.to_numeric(mine["valence"])
        assert (sel.n_positive, sel.n_neutral, sel.n_negative) == (
            (v > 0).sum(),
            (v == 0).sum(),
            (v < 0).sum(),
        )
        obs = mine[mine["obstacle"].astype(bool) & (v < 0)]["code"].value_counts()
        assert [n for _, n in sel.obstacles] == sorted(obs.values, reverse=True)[:3]
        assert set(sel.quotes["segment_id"]) <= set(
            mine.loc[mine["consent"] == "quote", "segment_id"]
        )
        assert sel.withheld == (mine["consent"] != "quote").sum()
        assert sel.quotes["translation"].isna().all()  # the demo records no translations


def test_criterion_takes_a_persons_translation_of_a_quote(demo_copy):
    segs = pd.read_csv(demo_copy / "segments.csv", dtype=str, keep_default_na=False)
    data = ReportData.load(demo_copy, n_boot=20, memo=False)
    first = site.select_criterion(data, "VC", "C1")
    target = first.quotes["segment_id"].iloc[0]
    segs["text_en"] = ""
    segs.loc[segs["segment_id"] == target, "text_en"] = (
        "So we reached neighbourhoods the PNC could not enter alone."
    )
    segs.to_csv(demo_copy / "segments.csv", index=False)
    data = ReportData.load(demo_copy, n_boot=20, memo=False)
    sel = site.select_criterion(data, "VC", "C1", translation="text_en")
    got = dict(zip(sel.quotes["segment_id"], sel.quotes["translation"], strict=True))
    assert got[target].startswith("So we reached")
    assert all(v is None for k, v in got.items() if k != target)


def test_coverage_grid_gaps_and_excluded_sources(demo_data, tiny_data):
    sel = site.select_coverage(demo_data, "VC")
    ev = demo_data.for_site("evidence", "VC")
    for c in CRITERIA:
        for g in STRATA:
            sub = ev[(ev["criterion"] == c) & (ev["stratum"] == g)]
            assert sel.sources.at[c, g] == sub["source_id"].nunique()
            assert sel.segments.at[c, g] == sub["segment_id"].nunique()
    assert sel.excluded == 1 and sel.gaps == ()
    tiny = site.select_coverage(tiny_data, "A")
    assert set(tiny.gaps) == set(STRATA) - set(tiny_data.for_site("evidence", "A")["stratum"])


# ------------------------------------------------------------------ survey, robustness
def test_survey_flags_groups_under_thirty_respondents(demo_data, tiny_data):
    demo = site.select_survey(demo_data, "VC")
    assert demo.small == () and min(demo.respondents.values()) >= site.SMALL_SAMPLE
    tiny = site.select_survey(tiny_data, "B")
    assert tiny.respondents == {"community": 2} and tiny.small == ("community",)
    assert tiny.survey_weight == pytest.approx(1 - tiny_data.params["weight"])


def test_robustness_coders_weak_codes_scales_and_sensitivity(demo_data):
    sel = site.select_robustness(demo_data, "VC")
    rel = demo_data.code_reliability
    overall = rel[rel["code"] == "ALL"].iloc[0]
    assert sel.coders["alpha"] == pytest.approx(overall["alpha_ordinal"])
    assert sel.coders["n"] == overall["n_valence_units"]
    weak = rel[(rel["code"] != "ALL") & rel["presence_below"].astype(bool)]
    assert list(sel.weak_codes["code"]) == list(weak["code"])
    assert set(sel.scales["instrument"]) == {"community", "police"}
    sens = demo_data.for_site("site_sensitivity", "VC")
    assert sel.weights == (sens["weight"].min(), sens["weight"].max())
    for c, codes in sel.changes.items():
        shown = {
            BAND_CODES[band_index(s)] for s in sens.loc[sens["criterion"] == c, "score"].dropna()
        }
        assert set(codes) == shown and len(codes) > 1


def test_recommendations_only_for_weak_criteria(demo_data):
    recs = site.select_recommendations_for(demo_data, "VC", load_crosswalk())
    ratings = site.select_ratings(demo_data, "VC").set_index("criterion")
    assert set(recs["criterion"]) == set(ratings.index[ratings["score"] < 2.4])
    assert all(isinstance(x, list) for x in recs["mopsic_tools"])


# ------------------------------------------------------------------ methods, appendix
def test_methods_command_options_leave_out_defaults(demo_data):
    from copeval.report.base import reproduce_command

    sel = site.select_methods(demo_data, "VC", project_path="data/demo")
    cmd = reproduce_command("report", sel["project_path"], *sel["options"])
    assert cmd == "copeval report data/demo --site VC --seed 3 --n-boot 100"  # weight, ci default


def test_evidence_appendix_holds_every_segment_of_the_site(demo_data):
    sel = site.select_evidence_appendix(demo_data, "TOT")
    ev = demo_data.for_site("evidence", "TOT")
    listed = {seg for c in CRITERIA for s in sel[c]["sources"] for seg, _, _ in s["segments"]}
    assert listed == set(ev["segment_id"])


def test_a_rounds_period_comes_from_its_declared_dates_not_the_projects():
    from copeval.report.base import fieldwork_period

    meta = {
        "period": "2017-02/2018-05; 2025-03/2025-06 (synthetic)",  # spans every round
        "rounds": [
            {"id": "2017", "start": "2017-02-01", "end": "2018-05-31"},
            {"id": "2025", "start": "2025-03-01", "end": ""},
        ],
    }
    assert site._round_period(meta, "2017") == {"period": "2017-02/2018-05"}
    assert fieldwork_period(site._round_period(meta, "2017"), (), "en") == (
        "February 2017 – May 2018"
    )
    # no end declared: the months of the round's own sources
    assert site._round_period(meta, "2025") == {}
    dates = ("2025-04-02", "2025-03-15", "2025-06-30")
    assert fieldwork_period({}, dates, "es") == "marzo de 2025 – junio de 2025"


def test_context_figures_follow_the_round_shown(tmp_path):
    """site_rounds.csv: a round's own context figures replace sites.csv's in that round's
    report; other rounds keep sites.csv's (issue 15: context may differ by round)."""
    import shutil
    from pathlib import Path

    root = tmp_path / "p"
    shutil.copytree(Path(__file__).parents[1] / "data" / "demo-rounds", root)
    (root / "site_rounds.csv").write_text(
        "site_id,round,population,homicide_rate,homicide_year\nVC,2025,912000,31.5,2024\n",
        encoding="utf-8",
    )
    latest = ReportData.load(root, n_boot=50, memo=False)
    first = ReportData.load(root, n_boot=50, memo=False, round="2017")
    now, then = site.select_context(latest, "VC"), site.select_context(first, "VC")
    assert now["population"] == 912000 and now["homicide_year"] == 2024
    assert then["population"] == 841314 and then["homicide_year"] == 2019
    assert site.select_context(latest, "TOT")["population"] != 912000
