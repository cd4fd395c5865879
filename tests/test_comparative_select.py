"""The comparative report's select step: language-neutral tables checked against known truth.

Each ``select_*`` function is tested on tables planted by hand (the answer is known before
the function runs) and, where it reads the analysis, against an independent computation on
the demo project.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from copeval.errors import CopevalError
from copeval.report import ReportData
from copeval.report.comparative import (
    LIKELIHOODS,
    ComparativeReport,
    headline_facts,
    likelihood,
    pair_table,
    resolve_sites,
    select_coverage,
    select_differences,
    select_headline,
    select_pairs,
    select_ratings,
    select_sensitivity,
    select_spread,
)
from copeval.vocabulary import CRITERIA, band_index


# ------------------------------------------------------------------------------ planted data
def _table(scores: dict, *, flags: dict | None = None, width: float = 0.3) -> pd.DataFrame:
    """A score table from ``{site: {criterion: score}}`` (missing criteria: not rated)."""
    rows = []
    for site, by_crit in scores.items():
        for c in CRITERIA:
            s = by_crit.get(c, np.nan)
            f = (flags or {}).get((site, c), ())
            rows.append(
                {
                    "site_id": site,
                    "criterion": c,
                    "score": s,
                    "lower": s - width if s == s else np.nan,
                    "upper": s + width if s == s else np.nan,
                    "insufficient_evidence": "insufficient" in f,
                    "thin_evidence": "thin" in f,
                }
            )
    return pd.DataFrame(rows)


def _draws(means: dict, *, n: int = 400, spread: float = 0.0, seed: int = 1) -> pd.DataFrame:
    """Replicates shaped like ``ScoreResult.replicates`` (combined component only matters)."""
    rng = np.random.default_rng(seed)
    index, rows = [], []
    for site, by_crit in means.items():
        for c, m in by_crit.items():
            for comp in ("combined", "qualitative"):
                index.append((site, c, comp))
                rows.append(m + spread * rng.standard_normal(n))
    idx = pd.MultiIndex.from_tuples(index, names=["site_id", "criterion", "component"])
    return pd.DataFrame(np.array(rows), index=idx)


def _fake(scores: dict, draws: pd.DataFrame | None = None, sensitivity=None, **kw):
    """The attributes of ReportData the select functions read, planted."""
    table = _table(scores, **kw)
    return SimpleNamespace(
        table=table,
        site_names={s: f"Site {s}" for s in scores},
        result=SimpleNamespace(replicates=draws if draws is not None else _draws(scores)),
        site_sensitivity=sensitivity
        if sensitivity is not None
        else pd.DataFrame(
            columns=["weight", "aggregation", "source_means", "site_id", "criterion", "score"]
        ),
    )


@pytest.fixture(scope="module")
def demo_data(demo_path):
    return ReportData.load(demo_path, n_boot=400, seed=3)


# ------------------------------------------------------------------------------ sites
def test_resolve_sites_checks_ids_and_keeps_the_order_given():
    assert resolve_sites("all", ["A", "B", "C"]) == ["A", "B", "C"]
    assert resolve_sites(" ALL ", ["A", "B"]) == ["A", "B"]
    assert resolve_sites("C, A,C", ["A", "B", "C"]) == ["C", "A"]
    assert resolve_sites(["B"], ["A", "B"]) == ["B"]
    with pytest.raises(
        CopevalError, match=r"Unknown site ID\(s\): 0101\. Available site IDs: A, B"
    ):
        resolve_sites("A,0101", ["A", "B"])
    with pytest.raises(CopevalError, match="No sites given"):
        resolve_sites(" , ", ["A"])


def test_the_content_layer_does_not_import_the_pipeline():
    import ast
    from pathlib import Path

    import copeval.report.comparative as mod

    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    pipeline = {"batch", "job", "engines", "kernel", "warm", "render", "pdf"}
    assert not {m.rsplit(".", 1)[-1] for m in imported} & pipeline


# ------------------------------------------------------------------------------ likelihood
@pytest.mark.parametrize(
    ("p", "code"),
    [
        (1.0, "virtually_certain"),
        (0.9851, "virtually_certain"),  # printed 0.99
        (0.9849, "very_likely"),  # printed 0.98
        (0.895, "very_likely"),  # printed 0.90: the words follow the printed number
        (0.8949, "likely"),
        (0.66, "likely"),
        (0.655, "likely"),  # printed 0.66
        (0.6549, "as_likely_as_not"),
        (0.5, "as_likely_as_not"),
        (0.335, "as_likely_as_not"),  # printed 0.34
        (0.3349, "unlikely"),
        (0.105, "unlikely"),  # printed 0.11
        (0.1, "very_unlikely"),
        (0.015, "very_unlikely"),  # printed 0.02
        (0.01, "exceptionally_unlikely"),
        (0.0, "exceptionally_unlikely"),
    ],
)
def test_likelihood_words_follow_the_printed_probability(p, code):
    assert likelihood(p) == code


def test_likelihood_of_a_missing_probability_is_none():
    assert likelihood(None) is None
    assert likelihood(float("nan")) is None
    assert [c for _, c in LIKELIHOODS][:2] == ["virtually_certain", "very_likely"]


# ------------------------------------------------------------------------------ ratings
def test_select_ratings_keeps_every_site_and_criterion_with_bands_and_flags():
    data = _fake(
        {"B": {"C1": 3.25, "C2": 0.74}, "A": {"C1": 2.35}},
        flags={("B", "C1"): ("insufficient",), ("A", "C1"): ("thin",)},
    )
    r = select_ratings(data, ["B", "A"])
    assert list(r["site_id"]) == ["B"] * 5 + ["A"] * 5  # the order given, then C1..AT
    assert list(r["criterion"]) == list(CRITERIA) * 2
    row = r.set_index(["site_id", "criterion"])
    assert row.loc[("B", "C1"), "band"] == 4  # 3.25 prints 3.3: strong
    assert row.loc[("B", "C2"), "band"] == 0  # 0.74 prints 0.7: absent
    assert row.loc[("A", "C1"), "band"] == 3  # 2.35 prints 2.4: acceptable
    assert pd.isna(row.loc[("A", "C2"), "band"]) and not row.loc[("A", "C2"), "rated"]
    assert row.loc[("B", "C1"), "insufficient"] and not row.loc[("B", "C1"), "thin"]
    assert row.loc[("A", "C1"), "thin"] and not row.loc[("A", "C1"), "insufficient"]


def test_select_ratings_matches_the_score_table_of_the_demo(demo_data):
    r = select_ratings(demo_data, ["TOT", "VC"]).set_index(["site_id", "criterion"])
    table = demo_data.table.set_index(["site_id", "criterion"])
    for key, row in table.iterrows():
        assert r.loc[key, "score"] == row["score"]
        assert r.loc[key, "lower"] == row["lower"] and r.loc[key, "upper"] == row["upper"]
        assert r.loc[key, "band"] == band_index(row["score"])


# ------------------------------------------------------------------------------ pairs
def _planted_pairwise():
    # sorted pairs as scoring writes them: (A, B), (A, C), (B, C)
    return pd.DataFrame(
        {
            "criterion": ["C1", "C1", "C1"],
            "site_a": ["A", "A", "B"],
            "site_b": ["B", "C", "C"],
            "p_a_greater": [0.20, 0.45, 0.97],
            "p_b_greater": [0.80, 0.55, 0.03],
        }
    )


def test_pair_table_names_the_higher_rated_site_first_with_its_probability():
    ratings = select_ratings(_fake({"A": {"C1": 2.0}, "B": {"C1": 2.6}, "C": {"C1": 2.0}}), "ABC")
    pairs = pair_table(ratings, _planted_pairwise(), order=["A", "B", "C"])
    got = {(r.higher, r.lower): r for r in pairs.itertuples(index=False)}
    # B rates highest: its pairs are oriented B first, with P(B > x)
    assert got[("B", "A")].p == pytest.approx(0.80)
    assert got[("B", "C")].p == pytest.approx(0.97)
    assert got[("B", "C")].clear and not got[("B", "A")].clear
    assert got[("B", "C")].likelihood == "very_likely"
    # A and C rate the same: the order given decides, and the probability follows it
    assert got[("A", "C")].p == pytest.approx(0.45) and got[("A", "C")].same_printed
    assert got[("A", "C")].likelihood == "as_likely_as_not"
    assert set(got) == {("B", "A"), ("B", "C"), ("A", "C")}
    assert (pairs["score_higher"] >= pairs["score_lower"]).all()
    assert pairs["gap"].tolist() == pytest.approx(
        (pairs["score_higher"] - pairs["score_lower"]).tolist()
    )
    # the other order of the sites flips the tie, and only the tie
    flipped = pair_table(ratings, _planted_pairwise(), order=["C", "B", "A"])
    assert ("C", "A") in set(zip(flipped["higher"], flipped["lower"], strict=True))


def test_pair_table_skips_criteria_rated_at_fewer_than_two_sites():
    ratings = select_ratings(_fake({"A": {"C1": 2.0, "C2": 1.0}, "B": {"C1": 2.5}}), "AB")
    pw = _planted_pairwise().iloc[:1]
    pairs = pair_table(ratings, pw)
    assert list(pairs["criterion"]) == ["C1"]


def test_select_pairs_agrees_with_the_scoring_module(demo_data):
    """The report's own pairwise computation against copeval.scoring's (independent)."""
    from copeval.scoring import pairwise_probabilities

    pairs = select_pairs(demo_data, ["VC", "TOT"])
    ref = pairwise_probabilities(demo_data.result.replicates, sites=["VC", "TOT"])
    assert len(pairs) == len(ref) == 5
    for r in pairs.itertuples(index=False):
        x = ref[ref["criterion"] == r.criterion].iloc[0]
        expected = x["p_a_greater"] if x["site_a"] == r.higher else x["p_b_greater"]
        assert r.p == pytest.approx(expected, abs=1e-12)
        score = demo_data.table.set_index(["site_id", "criterion"])["score"]
        assert score[(r.higher, r.criterion)] >= score[(r.lower, r.criterion)]


def test_pairwise_from_planted_draws_is_the_share_of_draws():
    # A beats B in exactly 3 of 4 draws on C1; ties never count as "greater"
    draws = pd.DataFrame(
        [[1.0, 2.0, 3.0, 0.5], [0.9, 1.0, 2.0, 0.7], [9, 9, 9, 9], [9, 9, 9, 9]],
        index=pd.MultiIndex.from_tuples(
            [(s, "C1", comp) for comp in ("combined", "survey") for s in "AB"],
            names=["site_id", "criterion", "component"],
        ),
        dtype=float,
    )
    data = _fake({"A": {"C1": 2.0}, "B": {"C1": 1.5}}, draws=draws)
    pairs = select_pairs(data, ["A", "B"])
    assert len(pairs) == 1
    # draws (1.0, 0.9) (2.0, 1.0) (3.0, 2.0) (0.5, 0.7): A higher in 3 of 4
    assert pairs.iloc[0]["p"] == pytest.approx(0.75)
    assert pairs.iloc[0]["likelihood"] == "likely"


# ------------------------------------------------------------------------------ headline
def _two_site_demo_like():
    scores = {
        "V": {"C1": 2.70, "C2": 2.06, "C3": 1.31, "C4": 0.82, "AT": 2.13},
        "T": {"C1": 2.75, "C2": 3.42, "C3": 1.33, "C4": 0.75, "AT": 2.11},
    }
    means = {s: {c: v for c, v in d.items()} for s, d in scores.items()}
    return _fake(scores, draws=_draws(means, spread=0.25, n=2000, seed=4))


def test_headline_of_two_sites_names_the_clear_difference_and_the_shared_weaknesses():
    data = _two_site_demo_like()
    f = select_headline(data, ["V", "T"])
    assert f["n_sites"] == 2 and f["n_criteria"] == 5
    assert f["n_clear"] == 1  # only C2 (gap 1.36 with draws of sd 0.25 each)
    d = f["difference"]
    assert (d["criterion"], d["higher"], d["lower"]) == ("C2", "T", "V")
    assert d["clear"] and d["likelihood"] == "virtually_certain"
    assert (d["band_higher"], d["band_lower"]) == (4, 2)
    assert [w["criterion"] for w in f["weaknesses"]] == ["C4", "C3"]  # weakest first
    assert all(w["band"] == 1 and w["k"] == 2 and w["same"] for w in f["weaknesses"])
    s = f["strength"]
    assert (s["criterion"], s["band"], s["k"], s["n"], s["same"]) == ("C1", 3, 2, 2, True)


def test_headline_without_a_clear_difference_reports_the_largest_gap_as_unclear():
    scores = {"A": {"C1": 2.0, "C2": 2.5, "C3": 1.0}, "B": {"C1": 2.1, "C2": 2.0, "C3": 1.1}}
    data = _fake(scores, draws=_draws(scores, spread=1.0, n=2000))
    f = select_headline(data, ["A", "B"])
    assert f["n_clear"] == 0
    assert f["difference"]["criterion"] == "C2" and not f["difference"]["clear"]
    # C1 and C2 are both passable or better at both sites; C2 has the higher mean
    s = f["strength"]
    assert (s["criterion"], s["band"], s["k"], s["same"]) == ("C2", 2, 2, False)
    # C3 is limited at both: a shared weakness; nothing else is weak
    assert [w["criterion"] for w in f["weaknesses"]] == ["C3"]


def test_headline_strength_is_the_criterion_whose_weaker_sites_rate_highest():
    scores = {"A": {"C1": 3.5, "C2": 2.6}, "B": {"C1": 1.0, "C2": 2.5}}
    ratings = select_ratings(_fake(scores), "AB")
    no_draws = pd.DataFrame(
        columns=["criterion", "site_a", "site_b", "p_a_greater", "p_b_greater"]
    )
    f = headline_facts(ratings, pair_table(ratings, no_draws))
    assert f["n_clear"] == 0 and pd.isna(f["difference"]["p"])
    # C1 has the best site but a limited one; C2 is acceptable at both
    assert f["strength"]["criterion"] == "C2" and f["strength"]["same"]
    assert f["weaknesses"] == []
    assert f["weakest"]["criterion"] == "C1"  # the lowest mean among C1-C4 (2.25 vs 2.55)


def test_headline_mixed_bands_are_not_called_the_same():
    scores = {"A": {"C4": 0.5}, "B": {"C4": 1.2}}  # absent and limited
    f = select_headline(_fake(scores), ["A", "B"])
    (w,) = f["weaknesses"]
    assert (w["criterion"], w["band"], w["k"], w["same"]) == ("C4", 1, 2, False)


def test_headline_of_many_sites_uses_the_extremes_and_four_fifths_for_shared():
    scores = {f"S{i:02d}": {"C1": 1.0 + 0.1 * i, "C4": 0.9} for i in range(10)}
    scores["S00"]["C4"] = 3.0  # one strong site does not undo a weakness shared by nine
    draws = _draws(scores, spread=0.05, n=500)
    data = _fake(scores, draws=draws)
    sites = list(scores)
    f = select_headline(data, sites)
    d = f["difference"]
    # gap 2.1; the nine tied sites keep the order given, the last of them is the lowest
    assert (d["criterion"], d["higher"], d["lower"]) == ("C4", "S00", "S09")
    assert d["clear"]
    (w,) = f["weaknesses"]
    assert (w["criterion"], w["k"], w["n"]) == ("C4", 9, 10)
    assert f["n_criteria"] == 2 and f["n_clear"] == 2


def test_headline_names_the_most_widespread_weakness_when_none_is_shared():
    scores = {
        f"S{i}": {"C1": 2.5, "C2": 1.0 if i < 6 else 2.5, "C3": 1.0 if i < 2 else 3.0}
        for i in range(10)
    }
    f = select_headline(_fake(scores, draws=_draws(scores, spread=0.1)), list(scores))
    assert f["weaknesses"] == []  # C2 is weak at 6 of 10: fewer than four in five
    assert f["widest"] == {"criterion": "C2", "k": 6, "n": 10}
    assert f["strength"]["criterion"] == "C1" and f["strength"]["k"] == 10


def test_headline_of_one_site_compares_nothing():
    f = select_headline(_fake({"A": {"C1": 2.0}}), ["A"])
    assert f["n_sites"] == 1 and f["difference"] is None and f["n_criteria"] == 0


# ------------------------------------------------------------------------------ spread
def test_select_spread_finds_extremes_median_and_weak_count():
    scores = {"A": {"C1": 0.5}, "B": {"C1": 3.4}, "C": {"C1": 1.2}, "D": {"C1": 2.0}}
    s = select_spread(_fake(scores), list(scores)).set_index("criterion")
    assert list(s.index) == ["C1"]
    r = s.loc["C1"]
    assert (r["low_site"], r["high_site"]) == ("A", "B")
    assert (r["low"], r["high"], r["median"]) == (0.5, 3.4, pytest.approx(1.6))
    assert (r["band_low"], r["band_high"], r["n_weak"], r["n"]) == (0, 4, 2, 4)


# ------------------------------------------------------------------------------ differences
def test_select_differences_mode_follows_the_number_of_sites():
    scores = {f"S{i}": {"C1": 0.3 * i} for i in range(10)}
    data = _fake(scores, draws=_draws(scores, spread=0.2))
    assert select_differences(data, ["S1"])["mode"] == "none"
    assert select_differences(data, ["S1", "S2", "S3"])["mode"] == "list"
    sel = select_differences(data, ["S1", "S5", "S3", "S2"])
    assert sel["mode"] == "matrix"
    assert sel["order"] == {"C1": ["S5", "S3", "S2", "S1"]}  # highest rated first
    sel = select_differences(data, list(scores))
    assert sel["mode"] == "ranks"
    ranks = sel["ranks"]
    assert ranks["site_id"].iloc[0] == "S9"  # best mean rank first
    assert ranks["p_first"].sum() == pytest.approx(1.0)
    assert (np.diff(ranks["mean_rank"]) >= 0).all()


def test_rank_probabilities_are_among_the_sites_compared_only():
    scores = {"A": {"C1": 3.0}, "B": {"C1": 2.0}, "C": {"C1": 1.0}}
    scores.update({f"L{i}": {"C1": 0.5} for i in range(6)})
    scores.update({f"X{i}": {"C1": 3.5} for i in range(8)})  # higher, but not compared
    data = _fake(scores, draws=_draws(scores, spread=0.0))
    compared = [s for s in scores if not s.startswith("X")]
    sel = select_differences(data, compared)
    assert sel["mode"] == "ranks"
    ranks = sel["ranks"].set_index("site_id")
    assert set(ranks.index) == set(compared)
    assert ranks.loc["A", "p_first"] == 1.0 and ranks.loc["A", "mean_rank"] == 1.0
    everyone = select_differences(data, list(scores))["ranks"].set_index("site_id")
    assert everyone.loc["A", "p_first"] == 0.0


# ------------------------------------------------------------------------------ sensitivity
def test_select_sensitivity_counts_pairs_whose_order_reverses():
    scores = {"A": {"C1": 3.0}, "B": {"C1": 2.0}, "C": {"C1": 1.9}}
    variants = []
    for w, (a, b, c) in {0.0: (3.1, 1.8, 2.2), 0.5: (3.0, 2.0, 2.0), 1.0: (2.9, 2.1, 1.5)}.items():
        for site, s in zip("ABC", (a, b, c), strict=True):
            variants.append(
                dict(
                    weight=w,
                    aggregation="strata",
                    source_means=True,
                    site_id=site,
                    criterion="C1",
                    score=s,
                )
            )
    data = _fake(scores, sensitivity=pd.DataFrame(variants))
    sens = select_sensitivity(data, ["A", "B", "C"])
    assert sens["weights"] == (0.0, 1.0)
    row = sens["criteria"].set_index("criterion").loc["C1"]
    assert (row["n_pairs"], row["n_flipped"]) == (3, 1)  # B>C reverses at weight 0; tie ≠ flip
    assert sens["flipped"].values.tolist() == [["C1", "B", "C"]]
    # restricted to A and B nothing reverses
    assert select_sensitivity(data, ["A", "B"])["flipped"].empty


def test_select_sensitivity_on_the_demo_matches_the_scoring_module(demo_data):
    sens = select_sensitivity(demo_data, ["VC", "TOT"])
    ref = demo_data.orderings()  # copeval.scoring.sensitivity, changed orders only
    strict = ref["order"].isin([">", "<"]) & ref["baseline_order"].isin([">", "<"])
    assert set(ref.loc[strict, "criterion"]) == set(sens["flipped"]["criterion"])
    assert set(sens["flipped"]["criterion"]) == {"C3", "C4", "AT"}


# ------------------------------------------------------------------------------ coverage
def test_select_coverage_counts_sources_passages_and_respondents(tiny_project):
    data = ReportData.load(tiny_project, n_boot=20, memo=False)
    cov = select_coverage(data, ["A", "B"]).set_index("site_id")
    # planted: A has S1 (community member: 2 passages) and S2 (operational police: 1);
    # B has S3 (community leader: 1); one survey respondent at A, two at B
    assert cov.loc["A", "community_sources"] == 1 and cov.loc["A", "community_segments"] == 2
    assert cov.loc["A", "police_sources"] == 1 and cov.loc["A", "police_segments"] == 1
    assert cov.loc["B", "community_sources"] == 1 and cov.loc["B", "community_segments"] == 1
    assert cov.loc["B", "police_sources"] == 0 and cov.loc["A", "field_sources"] == 0
    assert (cov.loc["A", "respondents"], cov.loc["B", "respondents"]) == (1, 2)


def test_select_functions_do_not_mutate_the_analysis(demo_data):
    before = demo_data.table.copy()
    report = ComparativeReport(demo_data, lang="en")
    for name in report.SECTIONS:
        getattr(report, name)()
    pd.testing.assert_frame_equal(demo_data.table, before)
