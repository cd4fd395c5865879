"""The calibration harness (bench/calibrate.py) against answers known analytically."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cal():
    spec = importlib.util.spec_from_file_location("calibrate", REPO / "bench" / "calibrate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["calibrate"] = module  # dataclasses resolve annotations through it
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("calibrate", None)


# A normal generator without rounding, every source speaking to every criterion with the same
# number of segments, every stratum present, levels in the middle (no clipping, no cap): the
# qualitative score is 2 + mean over S strata of (offset + deviation + mean of n sources of
# (source effect + mean of m segment noises)), so its sampling variance is
# (dev^2 + src^2 / n + seg^2 / (n m)) / S, and its expectation is the level (offsets sum to 0).
DEV, SRC, SEG, N_SRC, N_SEG, S = 0.3, 0.4, 0.5, 3, 2, 4


def _analytic_design(cal, **kw):
    return cal.Design(
        "analytic",
        "known variance components",
        n_sites=5,
        generator="continuous",
        sources=(N_SRC, N_SRC),
        strata_p=(1.0, 1.0, 1.0, 1.0),
        crit_per_source=(5, 5),
        segments=(N_SEG, N_SEG),
        levels=2.0,
        offset_sd=0.2,
        dev_sd=DEV,
        dev_shared=0.5,
        source_sd=SRC,
        segment_sd=SEG,
        survey=None,
        **kw,
    )


def _formula_sd() -> float:
    return math.sqrt((DEV**2 + SRC**2 / N_SRC + SEG**2 / (N_SRC * N_SEG)) / S)


def test_real_sd_and_truth_match_the_formula(cal, monkeypatch):
    """Truth = expectation of the point estimate (here the level); real SD = the formula."""
    calls = []

    def no_intervals(evidence, respondents, sites, seed):
        calls.append(seed)
        pts = cal.point_scores(evidence, respondents)
        table = pts.assign(lower=pts["score"], upper=pts["score"], insufficient=False)
        empty = pd.DataFrame(
            columns=["criterion", "site_a", "site_b", "p_a_greater", "p_b_greater"]
        )
        return table, empty, pd.DataFrame(columns=["criterion", "site_id", "probability"])

    monkeypatch.setattr(cal, "score_project", no_intervals)
    ratings, _, _ = cal.run_project(_analytic_design(cal), 0, seed=3, R=300, K=1)
    assert len(calls) == 1 and len(ratings) == 25
    sd = _formula_sd()
    # mean variance over 25 ratings of 300 fieldworks: relative SE about 0.02
    assert math.sqrt((ratings["real_sd"] ** 2).mean()) == pytest.approx(sd, rel=0.06)
    assert (ratings["truth"] - ratings["level"]).abs().max() < 4 * sd / math.sqrt(300)
    assert ratings["n_rated"].eq(300).all()


def test_coverage_of_oracle_intervals_is_nominal(cal, monkeypatch):
    """Intervals of exactly the right width cover 90 %; intervals half as wide do not."""
    sd = _formula_sd()

    def oracle(evidence, respondents, sites, seed):
        pts = cal.point_scores(evidence, respondents)
        half = cal.Z90 * sd
        table = pts.assign(
            lower=pts["score"] - half, upper=pts["score"] + half, insufficient=False
        )
        pw = pd.DataFrame(columns=["criterion", "site_a", "site_b", "p_a_greater", "p_b_greater"])
        return table, pw, pd.DataFrame(columns=["criterion", "site_id", "probability"])

    monkeypatch.setattr(cal, "score_project", oracle)
    design = dataclasses.replace(_analytic_design(cal), n_sites=8)
    ratings, pairs, rank1 = cal.run_project(design, 1, seed=5, R=60, K=25)
    row = cal.summarise(design, ratings, pairs, rank1, 1.0, 1)
    assert row["ratings"] == 1000 and row["zero_width_share"] == 0.0
    # 1,000 ratings: binomial SE 0.01 (plus the truth's own noise, 1/60 of the variance)
    assert 0.86 <= row["coverage"] <= 0.94
    assert row["width_ratio"] == pytest.approx(1.0, abs=0.08)
    # intervals half as wide: 2 * Phi(0.82) - 1 = 0.59
    half = ratings.assign(
        lower=(ratings["score"] + ratings["lower"]) / 2,
        upper=(ratings["score"] + ratings["upper"]) / 2,
    )
    narrow = cal.summarise(design, half, pairs, rank1, 1.0, 1)
    assert 0.53 <= narrow["coverage"] <= 0.65
    assert narrow["width_ratio"] == pytest.approx(0.5, abs=0.04)


def test_pair_and_rank_calibration_bins(cal):
    pairs = pd.DataFrame(
        {
            "p_a_greater": [0.93, 0.06, 0.92, 0.999, 0.6],
            "p_b_greater": [0.07, 0.94, 0.08, 0.001, 0.4],
            "truth_a": [2.0, 1.0, 1.0, 3.0, 1.0],
            "truth_b": [1.0, 2.0, 2.0, 1.0, 1.0],
        }
    )
    pc = cal.pair_calibration(pairs).set_index("bin")
    # three pairs in 0.90-0.95 (one oriented to B), two right; a tie in truth counts half
    assert pc.loc["0.90-0.95", "n_pairs"] == 3
    assert pc.loc["0.90-0.95", "truly_ordered"] == pytest.approx(2 / 3)
    assert pc.loc[">0.99", "truly_ordered"] == 1.0
    assert pc.loc["0.50-0.80", "truly_ordered"] == 0.5
    rank1 = pd.DataFrame(
        {
            "project": [0, 0, 1, 1],
            "criterion": ["C1", "C1", "C1", "C1"],
            "site_id": ["a", "b", "a", "b"],
            "probability": [0.97, 0.03, 0.6, 0.4],
            "truly_first": [True, False, False, True],
        }
    )
    rc = cal.rank1_calibration(rank1).set_index("bin")
    assert rc.loc[">0.95", "truly_first"] == 1.0 and rc.loc["0.5-0.8", "truly_first"] == 0.0
    assert cal.top_rank1(rank1) == (pytest.approx(0.785), 0.5)


def test_generators_are_seeded_and_respect_the_scales(cal):
    design = next(d for d in cal.DESIGNS if d.name == "standard")
    fixed = cal.draw_fixed(design, np.random.default_rng(1))
    ev1, r1 = cal.simulate_fieldworks(design, fixed, 3, np.random.default_rng(2))
    ev2, r2 = cal.simulate_fieldworks(design, fixed, 3, np.random.default_rng(2))
    pd.testing.assert_frame_equal(ev1, ev2)
    pd.testing.assert_frame_equal(r1, r2)
    assert set(ev1["valence"].unique()) <= {-2.0, -1.0, 0.0, 1.0, 2.0}
    assert r1["score"].between(0, 4).all()
    # fieldworks share the design and differ in their draws
    f0 = ev1[ev1["site_id"].str.startswith("000|")]
    f1 = ev1[ev1["site_id"].str.startswith("001|")]
    assert len(f0) == len(f1) and not np.array_equal(f0["valence"], f1["valence"])
    # the community survey has the design's clusters at every site
    com = r1[(r1["instrument"] == "community") & r1["site_id"].str.startswith("000|S01")]
    assert com["cluster"].nunique() == design.survey.clusters


def test_harness_runs_on_the_real_scoring(cal, tmp_path):
    """End to end on a tiny design with copeval's intervals: files written, no crash."""
    rc = cal.main(
        [
            "--designs",
            "two_sites_thin",
            "--projects",
            "2",
            "--fieldworks",
            "6",
            "--out",
            str(tmp_path),
            "--label",
            "smoke",
        ]
    )
    assert rc == 0
    designs = pd.read_csv(tmp_path / "smoke_designs.csv")
    assert designs.loc[0, "ratings"] > 0
    # the table's score is copeval's point estimate
    assert designs.loc[0, "score_vs_point_max_diff"] < 1e-9
    assert "two_sites_thin" in (tmp_path / "smoke_table.md").read_text(encoding="utf-8")
