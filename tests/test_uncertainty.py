"""Edge cases of the uncertainty model (copeval/uncertainty.py) found in review: survey
ratings from one sampling cluster, survey answers that are all equal, missing standard errors.
Each test plants the case first; all failed before the fix."""

import numpy as np
import pandas as pd
import pytest

from copeval import scoring, uncertainty


def _survey(n_sites, clusters_per_site, n_per_cluster, *, seed, cluster_sd=0.5, resp_sd=0.8):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sites):
        level = 2.0
        for c in range(clusters_per_site):
            u = rng.normal(0, cluster_sd)
            for i in range(n_per_cluster):
                rows.append(
                    {
                        "respondent_id": f"s{s}c{c}r{i}",
                        "instrument": "community",
                        "site_id": f"s{s:02d}",
                        "criterion": "C1",
                        "score": float(np.clip(level + u + rng.normal(0, resp_sd), 0, 4)),
                        "weight": 1.0,
                        "cluster": f"s{s}c{c}",
                    }
                )
    return pd.DataFrame(rows)


def test_a_site_surveyed_in_one_cluster_is_thin_and_carries_the_design_effect():
    # every site's 20 respondents come from one village: respondent-level variance alone
    # (the former behaviour) ignores the cluster effect and covered 42 % in simulation
    one = scoring.score_evidence(None, _survey(12, 1, 20, seed=1)).table
    assert one["thin_evidence"].all()
    srs_se = one["survey_score"].std()  # scale of the spread of site means here
    assert (one["se"] > 0).all()
    # the borrowed variance includes 1 + (n - 1) * icc: wider than the plain s / sqrt(n)
    plain = _survey(12, 1, 20, seed=1).groupby("site_id")["score"].std() / np.sqrt(20)
    assert (one.set_index("site_id")["se"] > 1.5 * plain).all()
    assert srs_se > 0


def test_one_cluster_answering_among_clustered_sites_borrows_the_pooled_icc():
    data = _survey(10, 4, 10, seed=2, cluster_sd=0.6)
    # site s00 keeps only one of its clusters
    data = data[~((data["site_id"] == "s00") & (data["cluster"] != "s0c0"))]
    table = scoring.score_evidence(None, data).table.set_index("site_id")
    assert bool(table.loc["s00", "thin_evidence"])
    assert not table.drop(index="s00")["thin_evidence"].any()
    icc = uncertainty._pooled_icc(
        data.assign(score=data["score"]), ["site_id", "criterion", "instrument"]
    )
    assert 0.1 < float(icc.iloc[0]) < 0.6  # true icc 0.36 / (0.36 + 0.64) = 0.36


def test_all_equal_survey_answers_with_uneven_weights_never_give_a_zero_width_interval():
    rows = []
    for s in range(3):
        for c in range(3):
            for i, w in enumerate([0.1, 0.7, 1.3, 0.3]):
                rows.append(
                    {
                        "respondent_id": f"{s}{c}{i}",
                        "instrument": "hh",
                        "site_id": f"s{s}",
                        "criterion": "C1",
                        "score": 3.0,
                        "weight": w * (1 + c),
                        "cluster": f"c{c}",
                    }
                )
    table = scoring.score_evidence(None, pd.DataFrame(rows)).table
    assert (table["upper"] - table["lower"] > 0.1).all()
    assert table["thin_evidence"].all()


def test_a_missing_standard_error_gives_a_missing_interval_not_a_point():
    lo, hi = uncertainty.t_interval([2.0], [np.nan], [10.0], 0.9, score=[2.0])
    assert np.isnan(lo).all() and np.isnan(hi).all()
    with pytest.raises(ValueError, match="finite score and standard error"):
        uncertainty.comparison_draws([1.0, 2.0], [0.1, np.nan], 10, seed=0)
