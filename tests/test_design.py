"""Study design by simulation and the synthetic national project (copeval.design)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from copeval.design import (
    DEPARTMENT_MUNICIPALITIES,
    DESIGN_COLUMNS,
    DesignError,
    _simulate_evidence,
    allocate_sites,
    describe_design,
    national_project,
    plot_design,
    recommend_design,
    simulate_design,
)
from copeval.project import load_project
from copeval.synth import synth_project
from copeval.vocabulary import CRITERIA

SMALL = dict(n_sites=30, n_boot=100)


@pytest.fixture(scope="module")
def small_table():
    return simulate_design([1, 2, 8], [0, 60], seed=3, **SMALL)


# ------------------------------------------------------------------------------- simulation
def test_table_shape_and_columns(small_table):
    t = small_table
    assert tuple(t.columns) == DESIGN_COLUMNS
    assert len(t) == 3 * 2 * len(CRITERIA)
    assert list(t["criterion"].iloc[:5]) == list(CRITERIA)
    assert t[["n_interviews_per_group", "n_survey"]].drop_duplicates().values.tolist() == [
        [1, 0], [1, 60], [2, 0], [2, 60], [8, 0], [8, 60],
    ]  # fmt: skip
    assert (t["n_sites"] == 30).all()
    shares = t[["p_within_target", "p_error_within_target", "p_meets_target", "p_insufficient"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert (
        t["p_meets_target"] <= t[["p_within_target", "p_error_within_target"]].min(axis=1)
    ).all()
    assert (t["mean_halfwidth"] > 0).all()
    assert t.attrs["settings"]["seed"] == 3


def test_same_seed_same_table_in_any_order(small_table):
    again = simulate_design([8, 1, 2], "60,0", seed=3, **SMALL)
    pd.testing.assert_frame_equal(small_table, again)


def test_other_seed_other_table():
    kw = dict(n_sites=8, n_boot=50)
    one = simulate_design([2], [0, 30], seed=1, **kw)
    pd.testing.assert_frame_equal(one, simulate_design([2], [0, 30], seed=1, **kw))
    assert not np.allclose(
        one["mean_halfwidth"], simulate_design([2], [0, 30], seed=2, **kw)["mean_halfwidth"]
    )


def test_more_interviews_narrower_intervals_and_smaller_errors(small_table):
    by_design = small_table.groupby(["n_survey", "n_interviews_per_group"])[
        ["mean_halfwidth", "mean_abs_error", "p_insufficient"]
    ].mean()
    for n_survey in (0, 60):
        few, many = by_design.loc[(n_survey, 2)], by_design.loc[(n_survey, 8)]
        assert many["mean_halfwidth"] < few["mean_halfwidth"]
        assert many["mean_abs_error"] < few["mean_abs_error"]
    # one source per group cannot meet the evidence rule (fewer than three sources or one
    # group flags a rating) as often as eight can
    assert by_design.loc[(0, 1), "p_insufficient"] > by_design.loc[(0, 8), "p_insufficient"]


def test_a_survey_narrows_the_interval(small_table):
    hw = small_table.groupby(["n_interviews_per_group", "n_survey"])["mean_halfwidth"].mean()
    for n in (1, 2, 8):
        assert hw.loc[(n, 60)] < hw.loc[(n, 0)]


def test_simulated_evidence_follows_the_generator():
    """The vectorised qualitative simulation draws from the same model as synth_project."""
    n_sites = 150
    sites = [f"S{i:03d}" for i in range(n_sites)]
    level = 2.6
    levels = np.full((n_sites, len(CRITERIA)), level)
    truth = pd.DataFrame(
        {
            "site_id": np.repeat(sites, len(CRITERIA)),
            "criterion": np.tile(CRITERIA, n_sites),
            "level": level,
        }
    )
    ours = _simulate_evidence(levels, sites, 3, 1, (3, 12), np.random.default_rng(0))
    theirs = synth_project(
        n_sites, seed=0, levels=truth, survey=False, unrated_rate=0.0, no_consent_rate=0.0,
        double_coded=0.0,
    )  # fmt: skip
    segs = theirs.segments.merge(theirs.sources, on="source_id")
    from copeval.vocabulary import RESPONDENT_GROUPS

    segs["stratum"] = segs["respondent_group"].map(lambda g: RESPONDENT_GROUPS[g][0])
    mine = ours.groupby("stratum")["valence"].mean()
    ref = segs.groupby("stratum")["valence"].mean()
    for stratum in ("police", "community", "authorities"):
        assert abs(mine[stratum] - ref[stratum]) < 0.08, stratum
    # segments per source and criteria per source
    assert (
        abs(ours.groupby("source_id").size().mean() - segs.groupby("source_id").size().mean())
        < 0.4
    )
    crit_ours = ours.groupby("source_id")["criterion"].nunique().mean()
    theirs_crit = segs.groupby("source_id")["code"].agg(
        lambda c: len({x.split(".")[0] for x in c})
    )
    assert abs(crit_ours - theirs_crit.mean()) < 0.2
    # sources per stratum are exactly the design's
    per = ours.groupby(["site_id", "stratum"])["source_id"].nunique().unstack()
    assert (per[["police", "community", "authorities"]] == 3).all().all()
    assert (per["field"] == 1).all()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(n_interviews=[0, 2]), "n_interviews"),
        (dict(n_interviews="2,x"), "n_interviews"),
        (dict(n_survey=[-1]), "n_survey"),
        (dict(n_sites=1), "n_sites"),
        (dict(seed=-1), "seed"),
        (dict(target=0), "target"),
        (dict(ci=1.0), "ci"),
        (dict(n_boot=10), "n_boot"),
        (dict(segments_per_source=(5, 2)), "segments_per_source"),
        (dict(weight=1.5), "weight"),
        (dict(interval_method="jackknife"), "interval_method"),
    ],
)
def test_bad_options_name_the_parameter(kwargs, name):
    with pytest.raises(DesignError, match=name):
        simulate_design(**{"n_interviews": [2], "n_survey": [0], **kwargs})


def test_each_design_is_scored_as_its_own_project():
    """The interval model pools variance across a project's sites: a design's rows must not
    depend on which other designs were simulated with it (stacking them would lend the
    1-interview design the between-source variance seen in the 8-interview one)."""
    kw = dict(n_sites=12, seed=4, n_boot=50)
    two = simulate_design([1, 8], [0], **kw)  # the same evidence: 8 sources at most
    three = simulate_design([1, 4, 8], [0], **kw)
    pd.testing.assert_frame_equal(
        two, three[three["n_interviews_per_group"] != 4].reset_index(drop=True)
    )


def test_model_intervals_cover_the_truth_and_the_bootstrap_does_not():
    """Known truth: the model's 90 % intervals contain the generator's level about 90 % of
    the time; the former bootstrap's, with 1-2 sources per group, far less often."""
    kw = dict(n_sites=80, seed=11, n_boot=200, field_sources=0)
    model = simulate_design([1, 2], [0], **kw)
    boot = simulate_design([1, 2], [0], interval_method="bootstrap", **kw)
    # 80 sites x 5 criteria x 2 designs = 800 ratings per method: SE of a share about 0.011
    assert 0.84 <= model["coverage"].mean() <= 0.96
    assert model["coverage"].mean() > boot["coverage"].mean() + 0.15
    assert (model["mean_halfwidth"] > boot["mean_halfwidth"]).all()
    assert model.attrs["settings"]["interval_method"] is None
    assert "variance-components model" in describe_design(model)
    assert "bootstrap intervals" in describe_design(boot)


def test_cli_design_interval_method(tmp_path, capsys):
    from copeval.cli import main

    out = tmp_path / "d.csv"
    argv = ["design", "--interviews", "2", "--survey", "0", "--sites", "6", "--n-boot", "50"]
    assert main([*argv, "--interval-method", "bootstrap", "--table", str(out), "-q"]) == 0
    assert "bootstrap intervals" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == list(DESIGN_COLUMNS)


# ------------------------------------------------------------------------------- recommendation
def _table(shares: dict, *, target=0.5) -> pd.DataFrame:
    """A design table with given p_meets_target per (n_interviews, n_survey), equal over
    criteria except C3, which is 0.05 lower."""
    rows = []
    for (n_int, n_srv), share in shares.items():
        for c in CRITERIA:
            s = share - (0.05 if c == "C3" else 0.0)
            rows.append(
                {
                    "n_interviews_per_group": n_int,
                    "n_survey": n_srv,
                    "criterion": c,
                    "n_sites": 100,
                    "mean_halfwidth": 0.6 / n_int,
                    "p_within_target": min(1.0, s + 0.1),
                    "p_error_within_target": s,
                    "p_meets_target": s,
                    "coverage": 0.85,
                    "mean_abs_error": 0.3 / n_int,
                    "p_insufficient": 0.0,
                }
            )
    t = pd.DataFrame(rows)
    t.attrs["settings"] = {"target": target, "ci": 0.9}
    return t


def test_recommend_smallest_design_per_survey_size():
    t = _table({(2, 0): 0.6, (4, 0): 0.84, (6, 0): 0.95, (2, 100): 0.84, (4, 100): 0.99})
    rec = recommend_design(t, power=0.8)
    assert list(rec["n_survey"]) == [0, 100]
    # C3 is the weakest: 0.84 - 0.05 < 0.8 at 4 interviews, so 6 without a survey
    assert rec["n_interviews_per_group"].tolist() == [6, 4]
    assert rec["worst_criterion"].tolist() == ["C3", "C3"]
    assert rec["share"].round(2).tolist() == [0.90, 0.94]
    assert rec["meets_target"].all()
    text = describe_design(t, power=0.8)
    assert "6 interview(s) per respondent group without a survey" in text
    assert "4 interview(s) per respondent group with a community survey of 100" in text
    assert "±0.5" in text and "80%" in text


def test_recommend_when_nothing_meets_the_target():
    t = _table({(2, 0): 0.5, (4, 0): 0.7})
    rec = recommend_design(t, power=0.8)
    assert rec["n_interviews_per_group"].isna().all()
    assert not rec["meets_target"].any()
    assert rec["n_interviews_tried"].tolist() == [4]
    assert "No design tried reaches" in describe_design(t, power=0.8)


def test_basis_changes_the_recommendation():
    t = _table({(2, 0): 0.78, (4, 0): 0.9})
    assert recommend_design(t, basis="interval")["n_interviews_per_group"].tolist() == [2]
    assert recommend_design(t, basis="strict")["n_interviews_per_group"].tolist() == [4]
    with pytest.raises(DesignError, match="basis"):
        recommend_design(t, basis="loose")


def test_recommend_rejects_a_foreign_table():
    with pytest.raises(DesignError, match="p_within_target"):
        recommend_design(pd.DataFrame({"n_survey": [0]}))


def test_plot_design(small_table, tmp_path):
    fig = plot_design(small_table)
    assert len(fig.axes) == 2
    out = tmp_path / "design.svg"
    fig.savefig(out)
    svg = out.read_text(encoding="utf-8")
    assert "synthetic" in svg


def test_recommendation_on_a_real_simulation(small_table):
    rec = recommend_design(small_table, power=0.5)
    assert set(rec["n_survey"]) == {0, 60}
    met = rec[rec["meets_target"]]
    # the recommended design is the smallest: the one below it does not meet the target
    for r in met.itertuples():
        smaller = small_table[
            (small_table["n_survey"] == r.n_survey)
            & (small_table["n_interviews_per_group"] < r.n_interviews_per_group)
        ]
        if len(smaller):
            worst = smaller.groupby("n_interviews_per_group")["p_meets_target"].min()
            assert (worst < 0.5).all()


# ------------------------------------------------------------------------------- national
def test_allocate_sites_reproduces_guatemala():
    sites = allocate_sites(340)
    counts = sites.groupby("department", sort=False).size()
    assert counts.to_dict() == {name: n for _, name, n in DEPARTMENT_MUNICIPALITIES}
    assert sites["site_id"].is_unique
    assert sites["site_id"].iloc[0] == "GT0101"
    assert sites["municipality_code"].iloc[0] == "0101"
    assert sites["site_id"].iloc[-1] == "GT2217"
    assert sites["site_id"].is_monotonic_increasing


@pytest.mark.parametrize("n", [1, 5, 22, 100, 341, 2178])
def test_allocate_sites_any_size(n):
    sites = allocate_sites(n)
    assert len(sites) == n and sites["site_id"].is_unique
    assert sites["site_id"].str.fullmatch(r"GT\d{4}").all()


def test_allocate_sites_limits():
    with pytest.raises(DesignError, match="n_sites"):
        allocate_sites(0)
    with pytest.raises(DesignError, match="2178"):
        allocate_sites(2179)


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    out = tmp_path_factory.mktemp("national") / "p"
    return national_project(24, seed=5, out=out)


def test_national_project_is_valid_and_synthetic(national):
    project = load_project(national.path)
    assert project.meta["synthetic"] is True
    assert "Synthetic" in project.meta["title"]
    assert project.sites["site_id"].tolist() == allocate_sites(24)["site_id"].tolist()
    assert project.sites["name"].str.startswith("Municipio sintético ").all()
    assert project.sites["notes"].str.contains("SYNTHETIC").all()
    assert project.sites["municipality_code"].str.fullmatch(r"\d{4}").all()
    texts = [project.text(s) for s in project.sources["source_id"][:5]]
    assert all("sintético" in t.lower() or "synthetic" in t.lower() for t in texts)
    truth = pd.read_csv(national.path / "synthetic_truth.csv", dtype={"site_id": str})
    assert len(truth) == 24 * len(CRITERIA)
    assert truth["level"].between(0, 4).all()


def test_national_project_varies_between_sites(national):
    per_site = national.sources.groupby("site_id").size()
    assert per_site.min() <= 6 or per_site.max() >= 16 or per_site.std() > 2
    notes = national.sites["notes"]
    surveyed = set(national.responses["community"]["site_id"])
    # a site whose notes say it had no survey has no respondents, and vice versa
    no_survey = set(national.sites.loc[notes.str.contains("no survey"), "site_id"])
    assert no_survey.isdisjoint(surveyed)
    assert surveyed | no_survey == set(national.sites["site_id"])
    sizes = national.responses["community"].groupby("site_id").size()
    assert sizes.max() > 2 * sizes.min()


def test_national_project_is_reproducible():
    one, again = national_project(8, seed=5), national_project(8, seed=5)
    pd.testing.assert_frame_equal(again.sites, one.sites)
    pd.testing.assert_frame_equal(again.segments, one.segments)
    assert again.texts == one.texts
    for inst, df in one.responses.items():
        pd.testing.assert_frame_equal(again.responses[inst], df)
    other = national_project(8, seed=6)
    assert not other.truth["level"].equals(one.truth["level"])
