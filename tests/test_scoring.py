"""Site scoring: hand-computed formulas, uncertainty model, bootstrap, probabilities,
sensitivity, CLI, demo, and a quick calibration simulation with known truth."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copeval import scoring as S
from copeval.cli import main
from copeval.project import load_project, write_project
from copeval.scoring import (
    ScoringError,
    bootstrap_scores,
    combine,
    flag_unreliable,
    pairwise_probabilities,
    qualitative_scores,
    rank_probabilities,
    score_evidence,
    score_sites,
    sensitivity,
    sensitivity_scores,
    survey_scores,
)

STRATUM_GROUP = {
    "police": "police_operational",
    "community": "community_member",
    "authorities": "municipal_authority",
    "field": "observation",
}
PRACTICE_CODE = {"C1": "C1.patrol", "C2": "C2.meetings", "C3": "C3.targeted",
                 "C4": "C4.data_collection", "AT": "AT.trust"}  # fmt: skip


def evidence(rows) -> pd.DataFrame:
    """Evidence table from (site, criterion, stratum, source, valence[, code]) tuples."""
    records = []
    for k, row in enumerate(rows, start=1):
        site, crit, stratum, source, valence = row[:5]
        code = row[5] if len(row) > 5 else PRACTICE_CODE[crit]
        records.append(
            {
                "segment_id": f"g{k:03d}",
                "source_id": source,
                "site_id": site,
                "stratum": stratum,
                "criterion": crit,
                "valence": valence,
                "code": code,
                "coder": "A",
                "consent": "quote",
            }
        )
    df = pd.DataFrame(records)
    df["valence"] = df["valence"].astype("Int64")
    return df


def respondents(rows) -> pd.DataFrame:
    """Respondent scores (copeval.survey contract) from
    (respondent, instrument, site, criterion, score[, weight[, cluster]]) tuples."""
    records = []
    for row in rows:
        rid, inst, site, crit, score = row[:5]
        records.append(
            {
                "respondent_id": rid,
                "instrument": inst,
                "site_id": site,
                "weight": row[5] if len(row) > 5 else 1.0,
                "cluster": row[6] if len(row) > 6 else pd.NA,
                "criterion": crit,
                "score": score,
                "n_items": 1,
                "items": (f"q_{crit}",),
            }
        )
    return pd.DataFrame(records)


# The worked example of docs/method.md, section 7.
WORKED_EVIDENCE = [
    ("X", "C2", "police", "P1", 2), ("X", "C2", "police", "P1", 1),
    ("X", "C2", "police", "P1", 2), ("X", "C2", "police", "P1", 1),
    ("X", "C2", "police", "P2", 1),
    ("X", "C2", "community", "K1", 1), ("X", "C2", "community", "K1", -1),
    ("X", "C2", "community", "K2", 2), ("X", "C2", "community", "K2", 0),
    ("X", "C2", "field", "O1", -1),
    ("Y", "C1", "police", "P3", -1),
    ("Y", "C2", "police", "P3", 2), ("Y", "C2", "police", "P3", 2),
    ("Y", "C2", "police", "P4", 2),
    ("Y", "C2", "community", "K3", 0),
]  # fmt: skip


# --------------------------------------------------------------------------- qualitative
def test_qualitative_hand_computed():
    q = qualitative_scores(evidence(WORKED_EVIDENCE)).set_index(["site_id", "criterion"])
    x = q.loc[("X", "C2")]
    assert x["qual_score"] == pytest.approx(2.25)
    assert (x["n_sources"], x["n_groups"], x["n_segments"], x["n_positive_groups"]) == (
        5,
        3,
        10,
        2,
    )
    assert not x["capped"] and not x["insufficient"]
    y1 = q.loc[("Y", "C1")]
    assert y1["qual_score"] == pytest.approx(1.0) and y1["insufficient"] and not y1["capped"]
    y2 = q.loc[("Y", "C2")]
    assert y2["qual_raw"] == pytest.approx(3.0)
    assert y2["qual_score"] == pytest.approx(S.STRENGTH_CEILING) and y2["capped"]
    assert (y2["n_sources"], y2["n_groups"], y2["n_positive_groups"]) == (3, 2, 1)
    assert not y2["insufficient"]


def test_qualitative_traceability_and_order():
    q = qualitative_scores(evidence(WORKED_EVIDENCE))
    assert list(zip(q["site_id"], q["criterion"], strict=True)) == [
        ("X", "C2"), ("Y", "C1"), ("Y", "C2"),
    ]  # fmt: skip
    assert q.loc[0, "segment_ids"] == ";".join(f"g{k:03d}" for k in range(1, 11))
    assert q.loc[1, "segment_ids"] == "g011"
    assert q.loc[0, "codes"] == "C2.meetings"


def test_source_means_and_pooled_aggregation():
    ev = evidence(WORKED_EVIDENCE)
    x = ("X", "C2")

    def score(**kw):
        return (
            qualitative_scores(ev, **kw).set_index(["site_id", "criterion"]).loc[x, "qual_score"]
        )

    assert score(aggregation="pooled") == pytest.approx((1.5 + 1 + 0 + 1 - 1) / 5 + 2)
    assert score(source_means=False) == pytest.approx((7 / 5 + 0.5 - 1) / 3 + 2)
    assert score(aggregation="pooled", source_means=False) == pytest.approx(0.8 + 2)


def test_one_long_interview_does_not_outweigh_short_ones():
    rows = [("A", "C1", "police", "long", -2)] * 9 + [
        ("A", "C1", "police", "s1", 2),
        ("A", "C1", "police", "s2", 2),
    ]
    q = qualitative_scores(evidence(rows))
    # source means -2, 2, 2 -> 2/3; pooled segments would give (-18 + 4) / 11
    assert q["qual_raw"].iloc[0] == pytest.approx(2 / 3 + 2)


def test_strength_rule_ceiling_is_continuous():
    # raw 2.95 with a single positive stratum is capped to 2.9 too (a monotone ceiling)
    rows = [("A", "C3", "police", "p1", 2), ("A", "C3", "police", "p2", 2),
            ("A", "C3", "community", "k0", -1)]  # fmt: skip
    rows += [("A", "C3", "community", f"k{i}", 0) for i in range(1, 10)]
    q = qualitative_scores(evidence(rows))
    assert q["qual_raw"].iloc[0] == pytest.approx((2 - 0.1) / 2 + 2)
    assert q["qual_score"].iloc[0] == pytest.approx(2.9) and q["capped"].iloc[0]
    # positive evidence from a second stratum lifts the cap
    rows[3] = ("A", "C3", "community", "k1", 1)
    q2 = qualitative_scores(evidence(rows))
    assert q2["qual_score"].iloc[0] == pytest.approx((2 + 0) / 2 + 2)
    assert not q2["capped"].iloc[0] and q2["n_positive_groups"].iloc[0] == 2


def test_obstacle_evidence_lowers_the_score():
    rows = [("A", "C1", "police", "p1", 2), ("A", "C1", "police", "p1", -2, "C1.obs_resources")]
    q = qualitative_scores(evidence(rows))
    assert q["qual_score"].iloc[0] == pytest.approx(2.0)
    assert q["codes"].iloc[0] == "C1.obs_resources;C1.patrol"


def test_segments_without_valence_are_skipped():
    ev = evidence([("A", "C1", "police", "p1", 2), ("A", "C1", "police", "p1", 0)])
    ev.loc[1, "valence"] = pd.NA
    q = qualitative_scores(ev)
    assert q["qual_raw"].iloc[0] == pytest.approx(4.0)
    assert q["n_segments"].iloc[0] == 1


def test_inputs_are_not_modified():
    ev = evidence(WORKED_EVIDENCE)
    rs = respondents([("r1", "c", "X", "C2", 3.0, 2.0, "k1")])
    ev_before, rs_before = ev.copy(), rs.copy()
    score_evidence(ev, rs, n_boot=20)
    sensitivity(ev, rs)
    pd.testing.assert_frame_equal(ev, ev_before)
    pd.testing.assert_frame_equal(rs, rs_before)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.drop(columns="stratum"), r"lacks column\(s\) stratum. Available columns"),
        (
            lambda e: e.assign(valence=5),
            r"'valence' must lie in -2..\+2; row 0 \(segment 'g001'\)",
        ),
        (lambda e: e.assign(valence="high"), r"'valence' must be numeric; row 0 holds 'high'"),
        (lambda e: e.assign(criterion="C9"), r"'criterion' holds 'C9' \(row 0\); expected one"),
        (lambda e: e.assign(stratum="press"), r"'stratum' holds 'press'"),
        (lambda e: e.assign(coder=["A", "B"] * 2), r"from 2 coders \(A, B\)"),
        (lambda e: e.assign(consent="none"), r"consent 'none', which must never be scored"),
        (lambda e: e.assign(site_id=["A", "B", "A", "A"]), r"source 'p1' appears under several"),
    ],
)
def test_evidence_errors(change, message):
    ev = evidence([("A", "C1", "police", "p1", 1), ("A", "C1", "police", "p1", 2),
                   ("A", "C1", "police", "p2", 1), ("A", "C1", "police", "p2", 0)])  # fmt: skip
    with pytest.raises(ScoringError, match=message):
        qualitative_scores(change(ev))


def test_evidence_must_be_a_dataframe():
    with pytest.raises(ScoringError, match="evidence must be a pandas DataFrame, got list"):
        qualitative_scores([1, 2])


# --------------------------------------------------------------------------- survey
def test_survey_weighted_mean_and_equal_instruments():
    rs = respondents(
        [
            ("R1", "community", "X", "C2", 3.0, 2.0),
            ("R2", "community", "X", "C2", 1.0, 1.0),
            ("R3", "community", "X", "C2", 2.0, 1.0),
            ("Q1", "police", "X", "C2", 3.5),
            ("Q2", "police", "X", "C2", 3.5),
            ("R1", "community", "X", "AT", 4.0, 2.0),
        ]
    )
    s = survey_scores(rs).set_index(["site_id", "criterion"])
    assert s.loc[("X", "C2"), "survey_score"] == pytest.approx((9 / 4 + 3.5) / 2)
    assert s.loc[("X", "C2"), "n_respondents"] == 5
    assert s.loc[("X", "C2"), "n_instruments"] == 2
    assert s.loc[("X", "C2"), "items"] == "community:q_C2;police:q_C2"
    assert s.loc[("X", "AT"), "survey_score"] == pytest.approx(4.0)
    assert list(s.index.get_level_values("criterion")) == ["C2", "AT"]


def test_survey_missing_weight_counts_as_one_and_missing_scores_skipped():
    rs = respondents([("a", "c", "X", "C1", 4.0, np.nan), ("b", "c", "X", "C1", 0.0, 3.0),
                      ("d", "c", "X", "C1", np.nan, 5.0)])  # fmt: skip
    s = survey_scores(rs)
    assert s["survey_score"].iloc[0] == pytest.approx(4 / 4)
    assert s["n_respondents"].iloc[0] == 2


def test_survey_items_may_be_strings_or_missing():
    rs = respondents([("a", "c", "X", "C1", 2.0)]).assign(items="q1;q2")
    assert survey_scores(rs)["items"].iloc[0] == "c:q1;c:q2"
    rs = respondents([("a", "c", "X", "C1", 2.0), ("b", "c", "X", "C1", 1.0)])
    rs["items"] = pd.Series([pd.NA, ["q3"]], dtype=object)
    assert survey_scores(rs)["items"].iloc[0] == "c:q3"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop(columns="score"), r"respondents lacks column\(s\) score"),
        (lambda r: r.assign(score=4.5), r"'score' must lie in 0..4; row 0 \(respondent 'a'\)"),
        (lambda r: r.assign(weight=0.0), r"'weight' must be > 0; row 0 \(respondent 'a'\)"),
        (lambda r: r.assign(criterion="C7"), r"'criterion' holds 'C7'"),
        (lambda r: r.assign(respondent_id="a"), r"more than one score for respondent 'a'"),
    ],
)
def test_respondent_errors(change, message):
    rs = respondents([("a", "c", "X", "C1", 2.0), ("b", "c", "X", "C1", 3.0)])
    with pytest.raises(ScoringError, match=message):
        survey_scores(change(rs))


# --------------------------------------------------------------------------- combine
def test_combine_formula_basis_and_labels():
    q = pd.DataFrame({"site_id": ["A", "A"], "criterion": ["C1", "C2"], "qual_score": [2.0, 3.5]})
    s = pd.DataFrame(
        {"site_id": ["A", "B"], "criterion": ["C1", "C1"], "survey_score": [3.0, 0.5]}
    )
    out = combine(q, s, weight=0.25).set_index(["site_id", "criterion"])
    assert out.loc[("A", "C1"), "score"] == pytest.approx(0.25 * 2 + 0.75 * 3)
    assert out.loc[("A", "C1"), "basis"] == "qualitative+survey"
    assert out.loc[("A", "C1"), "band"] == "acceptable"  # 2.75
    assert out.loc[("A", "C2"), "basis"] == "qualitative"
    assert out.loc[("A", "C2"), "score"] == pytest.approx(3.5)
    assert out.loc[("A", "C2"), "band"] == "strong"
    assert out.loc[("B", "C1"), "basis"] == "survey"
    assert out.loc[("B", "C1"), "band"] == "absent"


def test_combine_rejects_bad_options():
    q = pd.DataFrame({"site_id": ["A"], "criterion": ["C1"], "qual_score": [2.0]})
    with pytest.raises(ScoringError, match=r"weight must be a number between 0 and 1, got 1\.5"):
        combine(q, None, weight=1.5)
    with pytest.raises(ScoringError, match="nothing to combine"):
        combine(q.iloc[:0], None)
    with pytest.raises(ScoringError, match="more than one row for some site"):
        combine(pd.concat([q, q]), None)


@pytest.mark.parametrize("w", [0.0, 0.6, 1.0])
def test_combine_weight_extremes(w):
    q = pd.DataFrame({"site_id": ["A"], "criterion": ["C1"], "qual_score": [1.0]})
    s = pd.DataFrame({"site_id": ["A"], "criterion": ["C1"], "survey_score": [3.0]})
    assert combine(q, s, weight=w)["score"].iloc[0] == pytest.approx(w * 1 + (1 - w) * 3)


# --------------------------------------------------------------------------- bootstrap
def test_bootstrap_resamples_sources_uniformly_within_cells():
    # one cell of two sources, means -2 and +2: replicate means -2, 0, +2 w.p. 1/4, 1/2, 1/4
    rows = [("A", "C1", "police", "p1", -2), ("A", "C1", "police", "p2", 2)]
    reps = bootstrap_scores(evidence(rows), n_boot=8000, seed=3)
    values = reps.loc[("A", "C1", "qualitative")].to_numpy()
    assert set(np.round(values, 9)) <= {0.0, 2.0, 2.9}  # 4.0 is capped: one stratum
    share = pd.Series(np.round(values, 9)).value_counts(normalize=True)
    assert share[0.0] == pytest.approx(0.25, abs=0.02)
    assert share[2.0] == pytest.approx(0.5, abs=0.02)
    assert share[2.9] == pytest.approx(0.25, abs=0.02)


def test_bootstrap_keeps_strata_apart():
    # one single-segment source per stratum: nothing can vary
    rows = [("A", "C1", "police", "p1", 2), ("A", "C1", "community", "k1", -2)]
    reps = bootstrap_scores(evidence(rows), n_boot=200, seed=1)
    assert np.all(reps.loc[("A", "C1", "qualitative")].to_numpy() == 2.0)


def test_lonely_source_resamples_its_segments():
    rows = [("A", "C1", "police", "p1", -2), ("A", "C1", "police", "p1", 0),
            ("A", "C1", "community", "k1", 0), ("A", "C1", "community", "k2", 0)]  # fmt: skip
    reps = bootstrap_scores(evidence(rows), n_boot=4000, seed=2)
    values = np.round(reps.loc[("A", "C1", "qualitative")].to_numpy(), 9)
    # police stratum mean is the mean of two resampled segments: -2, -1, 0
    expected = {(-2 + 0) / 2 + 2: 0.25, (-1 + 0) / 2 + 2: 0.5, 0 / 2 + 2: 0.25}
    share = pd.Series(values).value_counts(normalize=True)
    for value, p in expected.items():
        assert share[round(value, 9)] == pytest.approx(p, abs=0.025)


def test_survey_bootstrap_resamples_clusters():
    # two clusters of two respondents; respondents of a cluster move together
    rs = respondents([("a", "c", "X", "C1", 0.0, 1.0, "k1"), ("b", "c", "X", "C1", 0.0, 1.0, "k1"),
                      ("d", "c", "X", "C1", 4.0, 1.0, "k2"), ("e", "c", "X", "C1", 4.0, 1.0, "k2")])  # fmt: skip
    values = bootstrap_scores(None, rs, n_boot=4000, seed=0).loc[("X", "C1", "survey")]
    share = pd.Series(values.to_numpy()).value_counts(normalize=True)
    assert set(share.index) == {0.0, 2.0, 4.0}  # respondent resampling would also give 1, 3
    assert share[2.0] == pytest.approx(0.5, abs=0.03)


def test_survey_bootstrap_without_clusters_resamples_respondents():
    rs = respondents([("a", "c", "X", "C1", 0.0), ("b", "c", "X", "C1", 4.0)])
    values = bootstrap_scores(None, rs, n_boot=4000, seed=0).loc[("X", "C1", "survey")]
    share = pd.Series(values.to_numpy()).value_counts(normalize=True)
    assert share[2.0] == pytest.approx(0.5, abs=0.03)
    assert share[0.0] == pytest.approx(0.25, abs=0.03)


def test_bootstrap_combined_replicates_follow_the_formula():
    ev = evidence(WORKED_EVIDENCE)
    rs = respondents([("r1", "c", "X", "C2", 1.0), ("r2", "c", "X", "C2", 3.0)])
    reps = bootstrap_scores(ev, rs, weight=0.3, n_boot=50, seed=5)
    q = reps.loc[("X", "C2", "qualitative")].to_numpy()
    s = reps.loc[("X", "C2", "survey")].to_numpy()
    c = reps.loc[("X", "C2", "combined")].to_numpy()
    np.testing.assert_allclose(c, 0.3 * q + 0.7 * s)
    np.testing.assert_array_equal(reps.loc[("Y", "C2", "combined")].to_numpy(), 2.9)
    assert reps.index.names == ["site_id", "criterion", "component"]
    assert reps.columns.name == "replicate" and reps.shape[1] == 50


def test_site_replicates_do_not_depend_on_other_sites():
    ev = evidence(WORKED_EVIDENCE)
    both = bootstrap_scores(ev, n_boot=300, seed=9)
    alone = bootstrap_scores(ev[ev["site_id"] == "X"], n_boot=300, seed=9)
    pd.testing.assert_series_equal(
        both.loc[("X", "C2", "qualitative")], alone.loc[("X", "C2", "qualitative")]
    )


def test_threads_do_not_change_results():
    ev = evidence(WORKED_EVIDENCE)
    one = bootstrap_scores(ev, n_boot=300, seed=4, n_jobs=1)
    two = bootstrap_scores(ev, n_boot=300, seed=4, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_boot": 0}, "n_boot must be an integer >= 1, got 0"),
        ({"n_boot": 2.5}, "n_boot must be an integer >= 1, got 2.5"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"weight": -0.1}, "weight must be a number between 0 and 1, got -0.1"),
        ({"weight": True}, "weight must be a number between 0 and 1, got True"),
        ({"aggregation": "median"}, "aggregation must be one of strata, pooled, got 'median'"),
        ({"n_jobs": 0}, "n_jobs must be a positive integer, -1 or None, got 0"),
    ],
)
def test_bootstrap_option_errors(kwargs, message):
    with pytest.raises(ScoringError, match=message):
        bootstrap_scores(evidence(WORKED_EVIDENCE), **kwargs)


# --------------------------------------------------------------------------- score_evidence
def test_score_evidence_table_columns_and_intervals():
    ev = evidence(WORKED_EVIDENCE)
    result = score_evidence(ev, sites=["X", "Y", "Z"], n_boot=200, seed=1)
    t = result.table
    assert list(t.columns) == list(S.TABLE_COLUMNS)
    assert len(t) == 15
    assert list(t["criterion"][:5]) == ["C1", "C2", "C3", "C4", "AT"]
    z = t[t["site_id"] == "Z"]
    assert (z["basis"] == "none").all() and z["no_evidence"].all()
    assert z["score"].isna().all() and z["band"].isna().all()
    assert not z[["insufficient_evidence", "capped", "thin_evidence"]].any().any()
    scored = t[t["basis"] != "none"]
    assert not scored["no_evidence"].any()
    assert (scored["lower"] <= scored["score"]).all() and (
        scored["score"] <= scored["upper"]
    ).all()
    assert (scored["upper"] - scored["lower"] > 0.05).all()  # never zero width
    assert (scored["se"] > 0).all() and (scored["df"] > 1).all()
    for col in S.FLAG_COLUMNS:
        assert t[col].dtype == bool, col
    # no English prose anywhere in the table: codes, numbers, booleans and IDs only
    assert set(t["band"].dropna()) <= {"absent", "limited", "passable", "acceptable", "strong"}
    y2 = t.set_index(["site_id", "criterion"]).loc[("Y", "C2")]
    assert y2["capped"] and y2["lower"] < 2.9 - 0.1 and y2["upper"] > 2.9


def test_score_evidence_rejects_sites_missing_from_the_list():
    with pytest.raises(ScoringError, match="site\\(s\\) not listed in sites: Y"):
        score_evidence(evidence(WORKED_EVIDENCE), sites=["X"], n_boot=10)


def test_score_evidence_needs_something():
    with pytest.raises(ScoringError, match="nothing to score"):
        score_evidence(evidence(WORKED_EVIDENCE).iloc[:0], n_boot=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ci": 1.0}, "ci must be a number strictly between 0 and 1"),
        ({"ci": 0}, "ci must be a number strictly between 0 and 1"),
        ({"interval_method": "magic"}, "interval_method must be one of model, bootstrap"),
        ({"weight": -0.1}, "weight must be a number between 0 and 1"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"draws": 7}, "give draws or n_boot"),
    ],
)
def test_score_evidence_option_errors(kwargs, message):
    with pytest.raises(ScoringError, match=message):
        score_evidence(evidence(WORKED_EVIDENCE), n_boot=10, **kwargs)


def test_percentile_interval_is_widened_to_contain_the_estimate():
    reps = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 2.0, 3.0]])
    lo, hi, extended = S._percentile_interval(reps, np.array([2.0, 1.5]), 0.9)
    assert (lo[0], hi[0], extended[0]) == (1.0, 2.0, True)
    assert lo[1] == pytest.approx(0.15) and hi[1] == pytest.approx(2.85) and not extended[1]


def test_bootstrap_method_is_still_available():
    ev = evidence(WORKED_EVIDENCE)
    boot = score_evidence(ev, n_boot=300, seed=1, interval_method="bootstrap")
    model = score_evidence(ev, n_boot=300, seed=1)
    assert list(boot.table.columns) == list(S.TABLE_COLUMNS)
    pd.testing.assert_series_equal(boot.table["score"], model.table["score"])
    x2 = boot.table.set_index(["site_id", "criterion"]).loc[("X", "C2")]
    assert x2["lower"] <= x2["score"] <= x2["upper"] and np.isinf(x2["df"])
    assert boot.settings["interval_method"] == "bootstrap"


# --------------------------------------------------------------------------- pairwise, ranks
def _reps(values: dict, component="combined") -> pd.DataFrame:
    idx = pd.MultiIndex.from_tuples(
        [(s, c, component) for s, c in values], names=["site_id", "criterion", "component"]
    )
    frame = pd.DataFrame(list(values.values()), index=idx)
    frame.columns.name = "replicate"
    return frame


def test_pairwise_hand_computed():
    reps = _reps({("A", "C1"): [1, 2, 3, 4], ("B", "C1"): [2, 2, 2, 2], ("C", "C1"): [0, 0, 0, 5]})
    p = pairwise_probabilities(reps).set_index(["site_a", "site_b"])
    assert p.loc[("A", "B")].to_dict() == {
        "criterion": "C1", "p_a_greater": 0.5, "p_tie": 0.25, "p_b_greater": 0.25, "n_draws": 4,
    }  # fmt: skip
    assert p.loc[("B", "C"), "p_a_greater"] == 0.75
    assert p.loc[("A", "C"), "p_b_greater"] == 0.25
    assert len(pairwise_probabilities(reps, sites=["A", "C"])) == 1


def test_pairwise_errors():
    reps = _reps({("A", "C1"): [1, 2], ("B", "C1"): [2, 2]})
    with pytest.raises(ScoringError, match=r"sites 'Q' not in the replicates\. Available: A, B"):
        pairwise_probabilities(reps, sites=["Q"])
    with pytest.raises(ScoringError, match="criteria 'C4' not in the replicates"):
        pairwise_probabilities(reps, criteria=["C4"])
    with pytest.raises(ScoringError, match="component must be one of"):
        pairwise_probabilities(reps, component="total")
    with pytest.raises(ScoringError, match="must be the DataFrame returned by bootstrap_scores"):
        pairwise_probabilities(pd.DataFrame({"x": [1]}))


def test_rank_probabilities_share_ties():
    reps = _reps({("A", "C1"): [3, 1, 2], ("B", "C1"): [3, 2, 2], ("C", "C1"): [1, 3, 2]})
    r = rank_probabilities(reps).set_index(["site_id", "rank"])["probability"]
    # replicate 1: A,B tie for first; replicate 2: C, B, A; replicate 3: three-way tie
    assert r[("A", 1)] == pytest.approx((0.5 + 0 + 1 / 3) / 3)
    assert r[("A", 3)] == pytest.approx((0 + 1 + 1 / 3) / 3)
    assert r[("C", 1)] == pytest.approx((0 + 1 + 1 / 3) / 3)
    table = r.unstack()
    np.testing.assert_allclose(table.sum(axis=0), 1.0)
    np.testing.assert_allclose(table.sum(axis=1), 1.0)
    mean_rank = rank_probabilities(reps).groupby("site_id")["mean_rank"].first()
    assert mean_rank.sum() == pytest.approx(6.0)


def test_result_methods_use_the_replicates():
    result = score_evidence(evidence(WORKED_EVIDENCE), n_boot=100, seed=2)
    p = result.pairwise(criteria=["C2"])
    assert list(p[["site_a", "site_b"]].iloc[0]) == ["X", "Y"]
    assert p["p_b_greater"].iloc[0] + p["p_tie"].iloc[0] + p["p_a_greater"].iloc[0] == 1
    ranks = result.ranks(criteria="C2")
    assert set(ranks["site_id"]) == {"X", "Y"}
    assert "draws=100" in repr(result)


# --------------------------------------------------------------------------- sensitivity
def test_sensitivity_scores_grid():
    ev = evidence(WORKED_EVIDENCE)
    rs = respondents([("r1", "c", "X", "C2", 2.875)])
    sc = sensitivity_scores(ev, rs)
    assert len(sc) == 6 * 2 * 2 * 3
    x = sc[(sc["site_id"] == "X") & (sc["criterion"] == "C2")].set_index(
        ["weight", "aggregation", "source_means"]
    )["score"]
    assert x[(1.0, "strata", True)] == pytest.approx(2.25)
    assert x[(0.0, "strata", True)] == pytest.approx(2.875)
    assert x[(1.0, "pooled", False)] == pytest.approx(2.8)
    assert x[(0.6, "strata", False)] == pytest.approx(0.6 * 2.3 + 0.4 * 2.875)


def test_sensitivity_orderings_hand_computed():
    ev = evidence([("A", "C1", "police", "p1", 1), ("A", "C1", "community", "k1", 1),
                   ("B", "C1", "police", "q1", 0), ("B", "C1", "community", "m1", 0)])  # fmt: skip
    rs = respondents([("r1", "c", "A", "C1", 1.0), ("r2", "c", "B", "C1", 4.0)])
    table = sensitivity(ev, rs, source_means=(True,), aggregations=("strata",)).set_index("weight")
    # qualitative A 3.0, B 2.0; survey A 1.0, B 4.0; A - B = w*1 - (1-w)*3 = 4w - 3
    assert table.loc[0.6, "order"] == "<" and table.loc[0.6, "baseline_order"] == "<"
    assert table.loc[0.75, "order"] == "="
    assert table.loc[1.0, "order"] == ">" and table.loc[1.0, "changed"]
    assert not table.loc[0.0, "changed"]
    changed = sensitivity(ev, rs, only_changed=True)
    # a tie (w = 0.75) is a change from "<" too
    assert set(changed["weight"]) == {0.75, 1.0} and changed["changed"].all()


def test_sensitivity_baseline_errors():
    ev = evidence(WORKED_EVIDENCE)
    with pytest.raises(ScoringError, match="baseline has unknown key\\(s\\) w"):
        sensitivity(ev, baseline={"w": 0.5})
    with pytest.raises(ScoringError, match="weights must be a number between 0 and 1, got 2"):
        sensitivity(ev, weights=[2])


def test_worked_example_has_no_changed_ordering():
    result = score_evidence(evidence(WORKED_EVIDENCE), _worked_respondents(), n_boot=20)
    sens = result.sensitivity()
    c2 = sens[sens["criterion"] == "C2"]
    assert (c2["baseline_order"] == "<").all() and not c2["changed"].any()
    assert c2["score_a"].between(2.25 - 1e-9, 2.875 + 1e-9).all()


# --------------------------------------------------------------------------- reliability
def test_flag_unreliable():
    scores = pd.DataFrame(
        {"criterion": ["C2", "C1", "C3"], "codes": ["C2.meetings;C2.channels", "C1.patrol", ""]}
    )
    gate = pd.DataFrame(
        {
            "criterion": ["C2", "C2", "C1", "C2", "C1", "C3"],
            "code": ["C2.meetings", "C2.channels", "C1.patrol", "", "", ""],
            "measure": ["presence", "presence", "presence", "valence", "valence", "valence"],
            "alpha": [0.5, 0.9, np.nan, 0.57, 0.8, 0.1],
        }
    )
    out = flag_unreliable(scores, gate)
    assert out["reliability_issues"].tolist() == [
        "C2.meetings:presence:0.50;C2:valence:0.57",
        "",
        "",  # C3 has no evidence behind it: nothing rests on its valences
    ]
    assert out["low_reliability"].tolist() == [True, False, False]
    assert "low_reliability" not in scores.columns
    assert not flag_unreliable(scores, None)["low_reliability"].any()
    # a code_reliability() table (presence only) is accepted too
    rel = pd.DataFrame({"code": ["C2.meetings", "C2.channels", "C1.patrol", "ALL"],
                        "alpha_nominal": [0.5, 0.9, np.nan, 0.3]})  # fmt: skip
    assert flag_unreliable(scores, rel)["reliability_issues"].tolist() == [
        "C2.meetings:presence:0.50", "", ""
    ]  # fmt: skip
    with pytest.raises(ScoringError, match="reliability lacks column\\(s\\) alpha_nominal"):
        flag_unreliable(scores, rel.drop(columns="alpha_nominal"))


# --------------------------------------------------------------------------- project level
def _worked_respondents() -> pd.DataFrame:
    return respondents(
        [
            ("R1", "community", "X", "C2", 3.0, 2.0),
            ("R2", "community", "X", "C2", 1.0, 1.0),
            ("R3", "community", "X", "C2", 2.0, 1.0),
            ("Q1", "police", "X", "C2", 3.5),
            ("Q2", "police", "X", "C2", 3.5),
            ("R1", "community", "X", "AT", 4.0, 2.0),
            ("R2", "community", "X", "AT", 2.0, 1.0),
            ("R3", "community", "X", "AT", 0.0, 1.0),
        ]
    )


def worked_project(path, *, second_coder=None):
    """The worked example of docs/method.md as a project folder."""
    ev = evidence(WORKED_EVIDENCE)
    sources = (
        ev.groupby("source_id").agg(site_id=("site_id", "first"), stratum=("stratum", "first"))
    ).reset_index()
    sources["respondent_group"] = sources["stratum"].map(STRATUM_GROUP)
    sources["method"] = np.where(sources["stratum"] == "field", "observation", "interview")
    sources["language"] = "en"
    sources["consent"] = "quote"
    sources = sources.drop(columns="stratum")
    texts, starts, ends = {}, [], []
    for sid, grp in ev.groupby("source_id", sort=False):
        lines = [f"Synthetic sentence {k} of {sid}." for k in range(len(grp))]
        texts[sid] = "\n".join(lines)
        pos = 0
        for line in lines:
            starts.append(pos)
            ends.append(pos + len(line))
            pos += len(line) + 1
    order = ev.groupby("source_id", sort=False).cumcount()
    ev = ev.iloc[np.lexsort((order, pd.factorize(ev["source_id"])[0]))]
    segments = ev[["segment_id", "source_id", "code", "valence", "coder"]].copy()
    segments["start"], segments["end"] = starts, ends
    if second_coder is not None:
        extra = segments.copy()
        extra["segment_id"] = "B" + extra["segment_id"]
        extra["coder"] = "B"
        extra["code"] = [second_coder(c) for c in extra["code"]]
        segments = pd.concat([segments, extra], ignore_index=True)
    sites = pd.DataFrame({"site_id": ["X", "Y"], "name": ["Site X", "Site Y"],
                          "department": ["Dep", "Dep"]})  # fmt: skip
    items = pd.DataFrame(
        {
            "instrument": ["community", "community", "police", "police"],
            "item": ["police_listen", "trust", "meet", "input"],
            "criterion": ["C2", "AT", "C2", "C2"],
            "scale": ["listen", "trust", "work", "work"],
            "scale_min": [0, 1, 1, 1],
            "scale_max": [4, 7, 5, 5],
            "reverse": [False, False, False, False],
            "missing_codes": ["97;98"] * 4,
            "label_en": ["Police listen", "Trust", "Meet", "Input"],
            "label_es": ["Escucha", "Confianza", "Reuniones", "Aportes"],
        }
    )
    responses = {
        "community": pd.DataFrame(
            {
                "respondent_id": ["R1", "R2", "R3"],
                "site_id": ["X"] * 3,
                "weight": [2.0, 1.0, 1.0],
                "police_listen": [3, 1, 2],
                "trust": [7, 4, 1],
            }
        ),
        "police": pd.DataFrame(
            {"respondent_id": ["Q1", "Q2"], "site_id": ["X", "X"], "meet": [5, 4], "input": [4, 5]}
        ),
    }
    return write_project(
        path, sites=sites, sources=sources, segments=segments, texts=texts, items=items,
        responses=responses, meta={"title": "Worked example", "synthetic": True,
                                   "primary_coder": "A"},
    )  # fmt: skip


def test_worked_example(tmp_path):
    """docs/method.md, section 7, reproduced exactly from a project folder."""
    project = load_project(worked_project(tmp_path / "worked"))
    result = score_sites(project, n_boot=500, seed=0)
    t = result.table.set_index(["site_id", "criterion"])
    x2, xat, y1, y2 = (t.loc[k] for k in [("X", "C2"), ("X", "AT"), ("Y", "C1"), ("Y", "C2")])
    assert x2["qual_score"] == pytest.approx(2.25)
    assert x2["survey_score"] == pytest.approx(2.875)
    assert x2["score"] == pytest.approx(2.5)
    assert (x2["band"], x2["basis"]) == ("acceptable", "qualitative+survey")
    # the two police respondents answer alike (3.5, 3.5): the survey shows no spread of its
    # own, so it borrows the instrument's (prior) spread and the rating is marked thin
    assert x2["thin_evidence"] and x2["survey_se"] > 0
    assert not x2[["insufficient_evidence", "capped", "no_evidence", "low_reliability"]].any()
    assert (x2["n_sources"], x2["n_groups"], x2["n_segments"]) == (5, 3, 10)
    assert (x2["n_respondents"], x2["n_instruments"]) == (5, 2)
    assert x2["items"] == "community:police_listen;police:input;police:meet"
    assert xat["score"] == pytest.approx(2.5) and xat["basis"] == "survey"
    assert xat["items"] == "community:trust"
    assert y1["score"] == pytest.approx(1.0) and y1["band"] == "limited"
    assert y1["insufficient_evidence"] and y1["thin_evidence"] and not y1["capped"]
    # one source, one segment: the interval comes from the project's components, not zero
    assert y1["lower"] < 1.0 - 0.3 and y1["upper"] > 1.0 + 0.3
    assert y2["score"] == pytest.approx(2.9) and y2["capped"] and not y2["insufficient_evidence"]
    assert y2["qual_raw"] == pytest.approx(3.0)
    # the cap moves the rating, not what the evidence allows: lower <= 2.9 < 3.0 < upper
    assert y2["lower"] < 2.9 and y2["upper"] > 3.0
    assert x2["lower"] <= 2.5 <= x2["upper"] and x2["upper"] > x2["lower"]
    others = t.drop(index=[("X", "C2"), ("X", "AT"), ("Y", "C1"), ("Y", "C2")])
    assert (others["basis"] == "none").all() and others["no_evidence"].all()
    assert not t["low_reliability"].any()  # a single coder: no reliability flags
    assert (t["reliability_issues"] == "").all()


def test_score_sites_takes_one_params_object(tmp_path):
    from copeval.params import DEFAULT_WEIGHT, ScoringParams

    project = load_project(worked_project(tmp_path / "worked"))
    params = ScoringParams(weight=0.25, draws=20, seed=3)
    result = score_sites(project, params=params)
    assert result.params == params and result.settings["weight"] == 0.25
    x2 = result.table.set_index(["site_id", "criterion"]).loc[("X", "C2")]
    assert x2["score"] == pytest.approx(0.25 * 2.25 + 0.75 * 2.875)
    # a keyword overrides one field; the rest stays
    again = score_sites(project, params=params, weight=DEFAULT_WEIGHT)
    assert again.params.seed == 3 and again.params.weight == DEFAULT_WEIGHT
    with pytest.raises(ScoringError, match="params must be a ScoringParams"):
        score_sites(project, params={"weight": 0.5})


def test_score_sites_qualitative_only_and_survey_only(tmp_path):
    from conftest import tiny_tables

    tables = tiny_tables()
    qual_only = dict(tables, items=None, responses=None)
    project = load_project(write_project(tmp_path / "q", **qual_only, meta={"synthetic": True}))
    t = score_sites(project, n_boot=20).table
    assert set(t["basis"]) == {"qualitative", "none"}
    survey_only = dict(tables, segments=tables["segments"].iloc[:0])
    project = load_project(write_project(tmp_path / "s", **survey_only, meta={"synthetic": True}))
    t = score_sites(project, n_boot=20).table
    assert set(t["basis"]) == {"survey", "none"}
    assert (t.loc[t["basis"] == "survey", "items"] != "").all()


def test_score_sites_rejects_non_projects():
    with pytest.raises(ScoringError, match="project must be a copeval Project"):
        score_sites(pd.DataFrame())


def test_reliability_warning_from_a_second_coder(tmp_path, monkeypatch):
    import copeval.reliability as reliability

    calls = []

    def fake(segments, **kwargs):
        calls.append(sorted(segments["coder"].unique()))
        return pd.DataFrame(
            {
                "criterion": ["C2", "C1", "C2"],
                "code": ["C2.meetings", "C1.patrol", ""],
                "measure": ["presence", "presence", "valence"],
                "alpha": [0.4, 0.95, 0.6],
                "below_threshold": [True, False, True],
            }
        )

    monkeypatch.setattr(reliability, "scoring_gate", fake)
    project = load_project(worked_project(tmp_path / "w", second_coder=lambda c: c))
    t = score_sites(project, n_boot=20).table.set_index(["site_id", "criterion"])
    assert calls == [["A", "B"]]
    assert t.loc[("X", "C2"), "low_reliability"]
    assert t.loc[("X", "C2"), "reliability_issues"] == "C2.meetings:presence:0.40;C2:valence:0.60"
    assert t.loc[("Y", "C2"), "reliability_issues"] == "C2.meetings:presence:0.40;C2:valence:0.60"
    assert not t.loc[("Y", "C1"), "low_reliability"]
    # the second coder's segments are not scored
    assert t.loc[("X", "C2"), "n_segments"] == 10


def test_real_reliability_flags_a_disagreed_code(tmp_path):
    """Integration with copeval.reliability: coder B never agrees on C2.meetings."""
    swap = {"C2.meetings": "C2.channels"}
    project = load_project(worked_project(tmp_path / "w", second_coder=lambda c: swap.get(c, c)))
    t = score_sites(project, n_boot=20).table.set_index(["site_id", "criterion"])
    assert "C2.meetings:presence:" in t.loc[("X", "C2"), "reliability_issues"]
    assert t.loc[("X", "C2"), "low_reliability"]
    assert "C1" not in t.loc[("Y", "C1"), "reliability_issues"]


# --------------------------------------------------------------------------- properties
SEGMENT = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["C1", "C2", "AT"]),
    st.sampled_from(["police", "community", "field"]),
    st.integers(0, 2),
    st.integers(-2, 2),
)
SEGMENTS = st.lists(SEGMENT, min_size=1, max_size=25)
RESPONDENT = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["C1", "C2", "AT"]),
    st.sampled_from(["community", "police"]),
    st.integers(0, 6),
    st.sampled_from([0.0, 1.0, 2.5, 4.0]),
    st.sampled_from([0.5, 1.0, 2.0]),
)
RESPONDENTS = st.lists(RESPONDENT, max_size=20, unique_by=lambda r: (r[0], r[1], r[2], r[3]))
# 15 examples keep the suite fast; HYPOTHESIS_EXAMPLES=200 for a thorough local run.
PROPERTY = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 15)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _ev(segs):
    return evidence([(s, c, g, f"{s}-{g}-{j}", v) for s, c, g, j, v in segs])


def _rs(rows):
    if not rows:
        return None
    return respondents([(f"{s}-{i}-{r}", i, s, c, x, w) for s, c, i, r, x, w in rows])


@PROPERTY
@given(SEGMENTS, RESPONDENTS, st.randoms(use_true_random=False))
def test_row_order_does_not_change_results(segs, rows, rnd):
    ev, rs = _ev(segs), _rs(rows)
    first = score_evidence(ev, rs, n_boot=30, seed=7)
    perm = list(range(len(ev)))
    rnd.shuffle(perm)
    ev2 = ev.iloc[perm]
    rs2 = rs.iloc[rnd.sample(range(len(rs)), len(rs))] if rs is not None else None
    second = score_evidence(ev2, rs2, n_boot=30, seed=7)
    pd.testing.assert_frame_equal(first.table, second.table)
    pd.testing.assert_frame_equal(first.replicates, second.replicates)


@PROPERTY
@given(SEGMENTS, RESPONDENTS, st.sampled_from(["A", "B", "C"]), st.sampled_from(["C1", "C2", "AT"]),
       st.sampled_from(["police", "community", "field"]), st.integers(0, 3))  # fmt: skip
def test_adding_positive_evidence_never_lowers_a_score(segs, rows, site, crit, stratum, j):
    before = score_evidence(_ev(segs), _rs(rows), n_boot=1).table.set_index(
        ["site_id", "criterion"]
    )
    after = score_evidence(_ev([*segs, (site, crit, stratum, j, 2)]), _rs(rows), n_boot=1).table
    after = after.set_index(["site_id", "criterion"])
    for key in before.index.intersection(after.index):
        b, a = before.loc[key], after.loc[key]
        if not math.isnan(b["qual_score"]):
            assert a["qual_score"] >= b["qual_score"] - 1e-12
        if b["basis"] == a["basis"] and b["basis"] != "none":
            assert a["score"] >= b["score"] - 1e-12


@PROPERTY
@given(SEGMENTS, st.integers(0, 24), st.integers(-2, 2))
def test_raising_a_valence_never_lowers_a_score(segs, k, delta):
    k %= len(segs)
    s, c, g, j, v = segs[k]
    raised = list(segs)
    raised[k] = (s, c, g, j, min(2, v + abs(delta)))
    before = qualitative_scores(_ev(segs)).set_index(["site_id", "criterion"])["qual_score"]
    after = qualitative_scores(_ev(raised)).set_index(["site_id", "criterion"])["qual_score"]
    assert (after >= before - 1e-12).all()


@PROPERTY
@given(SEGMENTS, RESPONDENTS, st.integers(0, 2**32 - 1), st.sampled_from([0.5, 0.8, 0.9, 0.99]))
def test_interval_contains_the_point_estimate(segs, rows, seed, ci):
    t = score_evidence(_ev(segs), _rs(rows), n_boot=25, seed=seed, ci=ci).table
    t = t[t["basis"] != "none"]
    assert (t["lower"] <= t["score"]).all() and (t["score"] <= t["upper"]).all()
    assert t[["lower", "upper"]].notna().all().all()
    assert t["score"].between(0, 4).all()
    assert t["lower"].between(0, 4).all() and t["upper"].between(0, 4).all()


@PROPERTY
@given(SEGMENTS, RESPONDENTS, st.sampled_from([0.5, 0.9, 0.99]), st.sampled_from([0.0, 0.6, 1.0]))
def test_no_interval_has_zero_width(segs, rows, ci, weight):
    """No false certainty: one-segment sources, identical answers, capped ratings included."""
    result = score_evidence(_ev(segs), _rs(rows), n_boot=5, ci=ci, weight=weight)
    t = result.table[result.table["basis"] != "none"]
    assert (t["upper"] - t["lower"] > 1e-3).all(), t[["score", "lower", "upper", "se"]]
    assert (t["se"] > 0).all()
    for comp in ("qual", "survey"):
        has = t[f"{comp}_score"].notna()
        assert (t.loc[has, f"{comp}_upper"] - t.loc[has, f"{comp}_lower"] > 1e-3).all()


@PROPERTY
@given(SEGMENTS, RESPONDENTS, st.integers(0, 1000))
def test_same_seed_gives_identical_table(segs, rows, seed):
    a = score_evidence(_ev(segs), _rs(rows), n_boot=40, seed=seed)
    b = score_evidence(_ev(segs), _rs(rows), n_boot=40, seed=seed)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)


def test_different_seeds_give_different_replicates():
    ev = evidence(WORKED_EVIDENCE)
    a = bootstrap_scores(ev, n_boot=100, seed=1).loc[("X", "C2", "qualitative")]
    b = bootstrap_scores(ev, n_boot=100, seed=2).loc[("X", "C2", "qualitative")]
    assert not np.array_equal(a.to_numpy(), b.to_numpy())


# --------------------------------------------------------------------------- CLI
def test_cli_writes_csv(tmp_path, capsys):
    path = worked_project(tmp_path / "w")
    out = tmp_path / "out" / "scores.csv"
    code = main(["score", str(path), "--out", str(out), "--n-boot", "50", "--seed", "3",
                 "--lang", "es", "--weight", "0.5"])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out, keep_default_na=False, dtype={"site_id": str})
    assert list(table.columns) == list(S.TABLE_COLUMNS)  # every column, language-neutral
    assert list(table["criterion"][:5]) == ["C1", "C2", "C3", "C4", "AT"]
    x2 = table[(table["site_id"] == "X") & (table["criterion"] == "C2")].iloc[0]
    assert float(x2["score"]) == pytest.approx(0.5 * 2.25 + 0.5 * 2.875)
    assert x2["band"] == "acceptable"
    assert "wrote 10 ratings" in capsys.readouterr().out


def test_cli_prints_table(tmp_path, capsys):
    path = worked_project(tmp_path / "w")
    assert main(["score", str(path), "--n-boot", "20", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "site_id criterion" in out and "acceptable" in out
    assert "90% intervals (variance-components model, t)" in out
    assert "† insufficient evidence" in out and "‡ thin evidence" in out
    y1 = next(line for line in out.splitlines() if line.split()[:2] == ["Y", "C1"])
    assert y1.rstrip().endswith("†‡")
    assert main(["score", str(path), "--n-boot", "20", "--lang", "es"]) == 0
    out = capsys.readouterr().out
    assert "aceptable" in out and "solo encuesta" in out and "Intervalos del 90%" in out


def test_cli_csv_neutralises_formulas(tmp_path, capsys, monkeypatch):
    """A site ID that a spreadsheet would run as a formula is written as text."""
    evil = '=HYPERLINK("http://x.invalid","X")'
    ev = evidence([(evil, *row[1:]) for row in WORKED_EVIDENCE])
    result = score_evidence(ev, n_boot=5)
    monkeypatch.setattr(S, "score_sites", lambda project, **kwargs: result)
    path = worked_project(tmp_path / "w")
    out = tmp_path / "scores.csv"
    assert main(["score", str(path), "--out", str(out), "--n-boot", "10"]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert evil in set(table["site_id"].str.lstrip("'"))
    assert not table["site_id"].str.startswith("=").any()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weight", "1.5"], "--weight must be between 0 and 1, got 1.5"),
        (["--weight", "abc"], "--weight must be a number, got 'abc'"),
        (["--n-boot", "0"], "--draws must be >= 1, got 0"),
        (["--draws", "0"], "--draws must be >= 1, got 0"),
        (["--interval-method", "magic"], "invalid choice: 'magic'"),
        (["--seed", "-3"], "--seed must be >= 0, got -3"),
        (["--ci", "1"], "--ci must be strictly between 0 and 1, got 1"),
        (["--lang", "fr"], "invalid choice: 'fr'"),
    ],
)
def test_cli_option_errors(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main(["score", str(tmp_path), *args])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_prints_reliability_warnings(tmp_path, capsys):
    swap = {"C2.meetings": "C2.channels"}
    path = worked_project(tmp_path / "w", second_coder=lambda c: swap.get(c, c))
    assert main(["score", str(path), "--n-boot", "20", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "R: low inter-coder reliability" in out
    assert "  X C2: presence of code C2.meetings: α" in out


def test_cli_missing_project(tmp_path, capsys):
    assert main(["score", str(tmp_path / "nope")]) == 1
    assert "error: Project folder not found" in capsys.readouterr().err


# --------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo_scores(demo_path):
    return score_sites(load_project(demo_path), n_boot=500, seed=0)


def test_demo_reproduces_the_study(demo_scores):
    t = demo_scores.table.set_index(["site_id", "criterion"])
    assert t.loc[("TOT", "C2"), "score"] > t.loc[("VC", "C2"), "score"]
    for site in ("VC", "TOT"):
        four = t.loc[site].loc[["C1", "C2", "C3", "C4"], "score"]
        assert four.idxmin() == "C4", f"C4 is not the lowest criterion at {site}: {four}"
        assert t.loc[(site, "C1"), "band"] == "acceptable"
        assert t.loc[(site, "C3"), "band"] == "limited"
    # one printed value, one band: VC C4 0.82 and TOT C4 0.75 both print 0.8, both limited
    assert t.loc[("VC", "C4"), "band"] == t.loc[("TOT", "C4"), "band"] == "limited"


def test_demo_c2_ordering_is_probable(demo_scores):
    p = demo_scores.pairwise(criteria=["C2"]).set_index(["site_a", "site_b"])
    assert p.loc[("TOT", "VC"), "p_a_greater"] > 0.9


# --------------------------------------------------------------------------- defects (issue 12)
def test_pooled_variant_counts_a_lonely_source_once():
    """X/C2 of the worked example, pooled sources: (1.5 + 1 + 0 + 1 - 1)/5 + 2 = 2.5."""
    ev = evidence(WORKED_EVIDENCE)
    pooled = qualitative_scores(ev, aggregation="pooled").set_index(["site_id", "criterion"])
    assert pooled.loc[("X", "C2"), "qual_score"] == pytest.approx(2.5)
    sens = sensitivity_scores(ev, weights=[1.0], aggregations=["pooled"], source_means=[True])
    x2 = sens[(sens["site_id"] == "X") & (sens["criterion"] == "C2")]
    assert x2["score"].iloc[0] == pytest.approx(2.5)
    # without source means a stratum pools its segments: (1.4 + 0.5 - 1)/3 + 2 = 2.3
    seg = qualitative_scores(ev, source_means=False).set_index(["site_id", "criterion"])
    assert seg.loc[("X", "C2"), "qual_score"] == pytest.approx(2.3)


@pytest.mark.parametrize(
    ("score", "printed", "band"),
    [
        (0.0, "0.0", "absent"),
        (0.74, "0.7", "absent"),
        (0.75, "0.8", "limited"),  # TOT C4 of the demo prints 0.8 ...
        (0.82, "0.8", "limited"),  # ... and so does VC C4: one printed value, one band
        (0.85, "0.9", "limited"),  # half-up, not Python's half-even on 0.8499999...
        (1.55, "1.6", "passable"),
        (2.3999999999999995, "2.4", "acceptable"),  # float noise
        (2.349, "2.3", "passable"),
        (3.15, "3.2", "strong"),
        (4.0, "4.0", "strong"),
    ],
)
def test_band_is_the_band_of_the_printed_value(score, printed, band):
    from copeval.report.i18n import fmt_num
    from copeval.vocabulary import band_code, rating_label

    assert fmt_num(score, "en") == printed
    assert band_code(score) == band
    assert band_code(float(printed)) == band
    assert rating_label(score, "en") == band


def test_float_noise_is_a_tie_in_pairwise_and_ranks():
    reps = _reps({("A", "C1"): [2.4, 1.0, 3.0], ("B", "C1"): [2.3999999999999995, 1.0, 3.0]})
    p = pairwise_probabilities(reps).iloc[0]
    assert (p["p_a_greater"], p["p_tie"], p["p_b_greater"]) == (0.0, 1.0, 0.0)
    ranks = rank_probabilities(reps).set_index(["site_id", "rank"])["probability"]
    assert ranks[("A", 1)] == pytest.approx(0.5) and ranks[("B", 1)] == pytest.approx(0.5)


def test_identical_sites_are_not_told_apart():
    """Two sites with the same evidence: P(A > B) about 1/2 (no false ordering)."""
    rows = [r for r in WORKED_EVIDENCE if r[0] == "X"]
    twin = [("W", *r[1:3], "w" + r[3], r[4]) for r in rows]
    result = score_evidence(evidence(rows + twin), n_boot=4000, seed=0)
    p = result.pairwise(criteria=["C2"]).iloc[0]
    assert p["p_a_greater"] == pytest.approx(0.5, abs=0.04)


# --------------------------------------------------------------------------- uncertainty model
def test_variance_components_hand_computed():
    """Two sites, one criterion, hand-checkable moments (docs/method.md section 5)."""
    from copeval.uncertainty import estimate_components

    rows = [
        # site A: police p1 (+2, 0) and p2 (+1); community k1 (0)
        ("A", "C1", "police", "p1", 2), ("A", "C1", "police", "p1", 0),
        ("A", "C1", "police", "p2", 1), ("A", "C1", "community", "k1", 0),
        # site B: police p3 (+1, +1) and p4 (-1); community k2 (+1, -1)
        ("B", "C1", "police", "p3", 1), ("B", "C1", "police", "p3", 1),
        ("B", "C1", "police", "p4", -1), ("B", "C1", "community", "k2", 1),
        ("B", "C1", "community", "k2", -1),
    ]  # fmt: skip
    c = estimate_components(S._prepare_evidence(evidence(rows)))
    # segment: SS = 2 (p1) + 0 (p3) + 2 (k2) = 4 over df = 1 + 1 + 1 = 3
    assert c.raw["segment"] == pytest.approx(4 / 3) and c.df["segment"] == 3
    # source: cells A/police (means 1, 1) and B/police (1, -1): between SS 0 + 2 = 2, minus
    # sigma_e^2 x (J-1) x mean(1/n) = s2e x (0.75 + 0.75); df 2
    prior = S._unc.DEFAULT_PRIORS
    s2e = (prior["segment"].d0 * prior["segment"].s2 + 3 * 4 / 3) / (prior["segment"].d0 + 3)
    assert c.sigma2["segment"] == pytest.approx(s2e)
    assert c.raw["source"] == pytest.approx(max((2 - s2e * 1.5) / 2, 0.0))
    assert c.df["source"] == 2
    # stratum: 4 cells, additive fit of 2 sites + 2 strata has rank 3: one residual df
    assert c.df["stratum"] == pytest.approx(1.0)


def test_standard_error_formula_hand_computed():
    """Var(Q) = (1/G^2) sum_g [s2u + (1/J_g^2) sum_j (s2b + s2e / n_j)]."""
    from copeval.uncertainty import Components, qualitative_variance

    comps = Components(
        sigma2={"segment": 0.8, "source": 0.2, "stratum": 0.1},
        raw={},
        df={},
        total_df={"segment": 1e9, "source": 1e9, "stratum": 1e9},
    )
    ev = S._prepare_evidence(evidence(WORKED_EVIDENCE))
    qv = qualitative_variance(ev, comps).set_index(["site_id", "criterion"])
    # X/C2: police P1 (4 segments), P2 (1); community K1 (2), K2 (2); field O1 (1)
    police = (0.2 + 0.8 / 4 + 0.2 + 0.8 / 1) / 4
    community = (0.2 + 0.8 / 2 + 0.2 + 0.8 / 2) / 4
    field = 0.2 + 0.8 / 1
    var = (3 * 0.1 + police + community + field) / 9
    assert qv.loc[("X", "C2"), "qual_se"] == pytest.approx(math.sqrt(var))
    assert not qv.loc[("X", "C2"), "qual_thin"]
    # Y/C1: one source with one segment: var = s2u + s2b + s2e, and thin
    assert qv.loc[("Y", "C1"), "qual_se"] == pytest.approx(math.sqrt(0.1 + 0.2 + 0.8))
    assert qv.loc[("Y", "C1"), "qual_thin"]


def test_survey_variance_hand_computed():
    """Linearised CR1 variance of a weighted mean: G/(G-1) sum z^2, df G - 1."""
    rs = respondents(
        [
            ("r1", "community", "X", "C1", 1.0, 1.0),
            ("r2", "community", "X", "C1", 3.0, 1.0),
            ("r3", "community", "X", "C1", 2.0, 2.0),
        ]
    )
    t = score_evidence(None, rs, n_boot=5).table.set_index(["site_id", "criterion"])
    x1 = t.loc[("X", "C1")]
    # S = (1 + 3 + 4) / 4 = 2; z = w (x - S) / sum w = (-0.25, 0.25, 0)
    assert x1["survey_score"] == pytest.approx(2.0)
    assert x1["survey_se"] == pytest.approx(math.sqrt(3 / 2 * (0.0625 + 0.0625)))
    assert x1["df"] == pytest.approx(2.0) and not x1["thin_evidence"]
    from scipy.stats import t as student

    half = student.ppf(0.95, 2) * x1["survey_se"]
    assert (x1["lower"], x1["upper"]) == (pytest.approx(2 - half), pytest.approx(2 + half))


def _sim_project(rng, n_sites=30, su=0.4, sb=0.5, se=0.9, sources=(1, 3), segments=(1, 4)):
    """Synthetic project with known truth on the bounded, rounded valence scale.

    valence = clip(round(a_sc + d_cg + u_scg + b_scgj + e), -2, 2); every segment has the
    same marginal law given (a, d), so the expectation of the measurement at the site is
    2 + mean over the strata present of E[clip(round(a + d + Z))], computed exactly.
    """
    from scipy.stats import norm

    sd = math.sqrt(su**2 + sb**2 + se**2)
    ks = np.arange(-2, 3)
    lo = np.where(ks == -2, -np.inf, ks - 0.5)
    hi = np.where(ks == 2, np.inf, ks + 0.5)

    def expect(mu):
        return float(((norm.cdf((hi - mu) / sd) - norm.cdf((lo - mu) / sd)) * ks).sum())

    strata = ["police", "community", "authorities", "field"]
    crits = ["C1", "C2", "C3", "C4", "AT"]
    d = rng.normal(0, 0.3, (len(crits), len(strata)))
    rows, truth = [], {}
    for s in range(n_sites):
        site = f"S{s:02d}"
        for ci, c in enumerate(crits):
            a = rng.normal(0, 0.7)
            present = [g for g in range(4) if rng.random() > 0.15] or [0]
            truth[(site, c)] = 2 + np.mean([expect(a + d[ci, g]) for g in present])
            for g in present:
                u = rng.normal(0, su)
                for j in range(rng.integers(sources[0], sources[1] + 1)):
                    b = rng.normal(0, sb)
                    for _ in range(rng.integers(segments[0], segments[1] + 1)):
                        v = np.clip(np.round(a + d[ci, g] + u + b + rng.normal(0, se)), -2, 2)
                        rows.append((site, c, strata[g], f"{site}-{c}-{g}-{j}", int(v)))
    return evidence(rows), truth


def test_quick_calibration_of_the_90_percent_intervals():
    """Known truth, fresh fieldworks: 90 % intervals contain the truth 80-97 % of the time
    (3 projects x 30 sites x 5 criteria, thin designs of 1-3 sources per stratum)."""
    rng = np.random.default_rng(2024)
    frames = []
    for i in range(3):
        ev, truth = _sim_project(rng)
        t = score_evidence(ev, n_boot=20, seed=i).table
        t["truth"] = [truth[k] for k in zip(t["site_id"], t["criterion"], strict=True)]
        frames.append(t)
    t = pd.concat(frames)
    covered = (t["lower"] <= t["truth"]) & (t["truth"] <= t["upper"])
    assert 0.8 <= covered.mean() <= 0.97, covered.mean()
    # the old bootstrap, on the same kind of data, is far too narrow
    ev, truth = _sim_project(np.random.default_rng(7))
    boot = score_evidence(ev, n_boot=300, seed=0, interval_method="bootstrap").table
    boot["truth"] = [truth[k] for k in zip(boot["site_id"], boot["criterion"], strict=True)]
    old = ((boot["lower"] <= boot["truth"]) & (boot["truth"] <= boot["upper"])).mean()
    assert old < 0.8, old


def test_components_agree_with_statsmodels_mixedlm():
    """Moment estimates of the three components within 15 % of REML (nested variance
    components in statsmodels MixedLM) on one simulated project."""
    import warnings

    import statsmodels.formula.api as smf

    rng = np.random.default_rng(11)
    rows = []
    for s in range(60):
        a = rng.normal(0, 0.3)
        for gi, g in enumerate(["police", "community", "authorities", "field"]):
            u = rng.normal(0, 0.5)
            for j in range(rng.integers(2, 5)):
                b = rng.normal(0, 0.4)
                for _ in range(rng.integers(1, 5)):
                    v = a + 0.2 * gi - 0.3 + u + b + rng.normal(0, 0.6)
                    rows.append((f"S{s}", "C1", g, f"S{s}-{g}-{j}", float(np.clip(v, -2, 2))))
    ev = pd.DataFrame(rows, columns=["site_id", "criterion", "stratum", "source_id", "valence"])
    ev["segment_id"] = [f"g{k}" for k in range(len(ev))]
    comps = S._unc.estimate_components(S._prepare_evidence(ev))
    ev["cell"] = ev["site_id"] + ":" + ev["stratum"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm(
            "valence ~ 0 + C(site_id) + C(stratum)",
            ev,
            groups="site_id",
            re_formula="0",
            vc_formula={"cell": "0 + C(cell)", "source": "0 + C(source_id)"},
        ).fit(reml=True)
    reml = dict(zip(fit.model.exog_vc.names, fit.vcomp, strict=True))
    assert comps.raw["stratum"] == pytest.approx(reml["cell"], rel=0.15)
    assert comps.raw["source"] == pytest.approx(reml["source"], rel=0.15)
    assert comps.raw["segment"] == pytest.approx(fit.scale, rel=0.15)


def test_few_sites_lean_on_the_prior_and_many_sites_do_not():
    from copeval.uncertainty import DEFAULT_PRIORS

    rng = np.random.default_rng(5)
    ev, _ = _sim_project(rng, n_sites=2)
    small = S._unc.estimate_components(S._prepare_evidence(ev))
    ev, _ = _sim_project(rng, n_sites=50)
    big = S._unc.estimate_components(S._prepare_evidence(ev))
    for name, prior in DEFAULT_PRIORS.items():
        # moderated value lies between prior and estimate, with weight d0 / (d0 + df)
        w = prior.d0 / (prior.d0 + small.df[name])
        raw = small.raw[name]
        assert small.sigma2[name] == pytest.approx(w * prior.s2 + (1 - w) * raw)
        assert big.sigma2[name] == pytest.approx(big.raw[name], rel=0.05, abs=0.003)


def test_comparison_draws_shrink_noisy_sites_and_keep_the_order():
    from copeval.uncertainty import comparison_draws

    y = np.array([1.0, 2.0, 3.0, 3.2])
    se = np.array([0.1, 0.1, 0.1, 1.5])
    draws = comparison_draws(y, se, 4000, seed=1)
    assert draws.shape == (4, 4000)
    means = draws.mean(axis=1)
    assert means[0] < means[1] < means[2]
    assert abs(means[3] - y[3]) > abs(means[2] - y[2])  # the noisy site moves more
    # precise sites keep intervals close to their own
    assert draws[0].std() == pytest.approx(0.1, rel=0.2)
    again = comparison_draws(y, se, 4000, seed=1)
    np.testing.assert_array_equal(draws, again)


def test_score_evidence_takes_given_components(demo_path):
    """score_evidence(components=...) uses them (the per-round scoring of a project with
    rounds passes the components of all rounds) instead of estimating its own."""
    from copeval import uncertainty as unc
    from copeval.project import load_project

    ev = load_project(demo_path).evidence()
    own = score_evidence(ev, draws=20)
    comps = unc.estimate_components(S._prepare_evidence(ev))
    same = score_evidence(ev, draws=20, components=comps)
    pd.testing.assert_frame_equal(own.table, same.table)
    wide = unc.Components(
        sigma2={k: 4 * v for k, v in comps.sigma2.items()},
        raw=comps.raw,
        df=comps.df,
        total_df=comps.total_df,
    )
    wider = score_evidence(ev, draws=20, components=wide).table
    np.testing.assert_allclose(wider["qual_se"], 2 * own.table["qual_se"])
    np.testing.assert_allclose(wider["qual_score"], own.table["qual_score"])


def test_n_clusters_is_the_same_whatever_the_interval_method(tmp_path):
    """The clusters behind a rating are evidence, not a property of the interval method (the
    legacy bootstrap used to report 0 for every rating)."""
    from copeval.synth import synth_project

    synth_project(3, seed=4, out=tmp_path / "p", sources_per_site=(4, 5))
    project = load_project(tmp_path / "p")
    model = score_sites(project, n_boot=50, seed=0).table
    boot = score_sites(project, n_boot=50, seed=0, interval_method="bootstrap").table
    assert (model["n_clusters"] > 0).any()
    assert model["n_clusters"].tolist() == boot["n_clusters"].tolist()
