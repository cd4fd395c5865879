"""Synthetic projects: valid, reproducible, labelled synthetic, faithful to their truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from copeval.codebook import load_codebook
from copeval.project import load_project
from copeval.synth import SynthError, SyntheticProject, synth_project, synth_survey_items


@pytest.fixture(scope="module")
def small() -> SyntheticProject:
    return synth_project(4, seed=11)


def test_same_seed_same_project(small):
    again = synth_project(4, seed=11)
    for name in ("sites", "sources", "segments", "items", "truth"):
        pd.testing.assert_frame_equal(getattr(small, name), getattr(again, name))
    assert small.texts == again.texts
    for inst in small.responses:
        pd.testing.assert_frame_equal(small.responses[inst], again.responses[inst])


def test_different_seed_different_project(small):
    other = synth_project(4, seed=12)
    assert not small.segments["valence"].equals(other.segments["valence"])


def test_written_project_is_valid_and_marked_synthetic(small, tmp_path):
    written = small.write(tmp_path / "p")
    assert written.path == tmp_path / "p" and small.path is None
    project = load_project(written.path)
    assert project.meta["synthetic"] is True
    assert project.meta["primary_coder"] == "A"
    assert len(project.sites) == 4 and set(project.responses) == {"community", "police"}
    assert all(p.severity == "warning" for p in project.warnings)
    for sid in project.sources["source_id"]:
        text = project.text(sid)
        assert "sintético" in text.lower() or "synthetic" in text.lower()
    assert project.sites["name"].str.contains("sintético").all()
    # every segment covers the sentence naming its code and valence
    seg = small.segments[small.segments["coder"] == "A"].iloc[0]
    covered = project.segment_text(seg["segment_id"])
    assert covered.startswith(("Frase sintética", "Synthetic sentence"))


def test_out_writes_and_refuses_to_overwrite(tmp_path):
    sp = synth_project(1, seed=0, out=tmp_path / "p", survey=False)
    assert sp.path is not None and (sp.path / "datapackage.json").is_file()
    assert sp.items is None and sp.responses == {}
    with pytest.raises(Exception, match="refusing to overwrite"):
        synth_project(1, seed=0, out=tmp_path / "p")
    synth_project(1, seed=0, out=tmp_path / "p", overwrite=True)


def test_structure_and_sizes(small):
    per_site = small.sources.groupby("site_id").size()
    assert per_site.between(8, 16).all()
    strata = small.sources.groupby("site_id")["respondent_group"].agg(set)
    assert all({"police_operational", "community_member"} <= groups for groups in strata)
    primary = small.segments[small.segments["coder"] == "A"]
    per_source = primary.groupby("source_id").size()
    assert per_source.between(3, 12).all()
    assert set(small.segments["coder"]) == {"A", "B"}
    assert small.segments["segment_id"].is_unique
    assert set(small.sources["consent"]) <= {"none", "anonymous", "quote"}
    com = small.responses["community"]
    assert com.groupby("site_id").size().between(30, 150).all()
    assert {"weight", "cluster"} <= set(com.columns)
    assert "weight" not in small.responses["police"].columns
    assert len(small.truth) == 4 * 5 and small.truth["level"].between(0, 4).all()


def test_obstacle_codes_never_carry_positive_valence(small):
    cb = load_codebook()
    obstacles = set(cb.table.loc[cb.table["obstacle"], "code"])
    seg = small.segments
    assert (seg.loc[seg["code"].isin(obstacles), "valence"].dropna() <= 0).all()
    assert seg["valence"].dropna().between(-2, 2).all()


def test_survey_answers_valid_with_missing_codes():
    sp = synth_project(3, seed=5, missing_rate=0.2)
    items = synth_survey_items().set_index(["instrument", "item"])
    for inst, df in sp.responses.items():
        for item in [c for c in df.columns if (inst, c) in items.index]:
            lo, hi = items.loc[(inst, item), ["scale_min", "scale_max"]]
            values = df[item].dropna()
            ok = values.between(lo, hi) | values.isin([97, 98])
            assert ok.all(), (inst, item)
        answers = df[[c for c in df.columns if (inst, c) in items.index]]
        share = (answers.isna() | answers.isin([97, 98])).to_numpy().mean()
        assert 0.12 < share < 0.28


def test_item_map_shape():
    items = synth_survey_items()
    assert set(items["instrument"]) == {"community", "police"}
    assert items["reverse"].any() and items["criterion"].isna().any()
    assert set(items["criterion"].dropna()) == {"C1", "C2", "C3", "C4", "AT"}


def test_scores_track_the_truth(tmp_path):
    """With plenty of evidence the qualitative score recovers the true level."""
    from copeval.scoring import qualitative_scores

    sp = synth_project(
        12, seed=3, sources_per_site=(16, 16), segments_per_source=(12, 12), survey=False,
        unrated_rate=0.0, no_consent_rate=0.0,
    )  # fmt: skip
    project = load_project(sp.write(tmp_path / "p").path)
    q = qualitative_scores(project.evidence()).merge(sp.truth, on=["site_id", "criterion"])
    assert np.corrcoef(q["qual_raw"], q["level"])[0, 1] > 0.85
    assert (q["qual_raw"] - q["level"]).abs().mean() < 0.5


def test_given_levels_are_used():
    levels = pd.DataFrame(
        {
            "site_id": np.repeat(["low", "high"], 5),
            "criterion": ["C1", "C2", "C3", "C4", "AT"] * 2,
            "level": [0.3] * 5 + [3.7] * 5,
        }
    )
    sp = synth_project(2, seed=1, levels=levels, survey=False, double_coded=0.0)
    assert list(sp.sites["site_id"]) == ["low", "high"]
    mean = sp.segments.merge(sp.sources[["source_id", "site_id"]]).groupby("site_id")["valence"]
    assert mean.mean()["high"] > mean.mean()["low"] + 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_sites": 0}, "n_sites must be an integer >= 1, got 0"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"sources_per_site": (1, 4)}, r"sources_per_site must be a \(low, high\) pair"),
        ({"segments_per_source": (5, 2)}, r"segments_per_source must be a \(low, high\) pair"),
        ({"missing_rate": 1.0}, r"missing_rate must be a number in \[0, 1\), got 1.0"),
        ({"levels": pd.DataFrame({"site_id": ["a"]})}, r"levels lacks column\(s\) criterion"),
    ],
)
def test_option_errors(kwargs, message):
    args = {"n_sites": 2, "seed": 0} | kwargs
    n_sites = args.pop("n_sites")
    with pytest.raises(SynthError, match=message):
        synth_project(n_sites, **args)


def test_levels_must_cover_every_criterion():
    levels = pd.DataFrame({"site_id": ["a"], "criterion": ["C1"], "level": [2.0]})
    with pytest.raises(SynthError, match="exactly one level per site and criterion"):
        synth_project(1, seed=0, levels=levels)
    with pytest.raises(SynthError, match="levels describes 1 sites but n_sites is 3"):
        synth_project(3, seed=0, levels=levels)


# --------------------------------------------------------------------------- rounds
def test_synth_rounds_truth_and_project(tmp_path):
    from copeval.change import project_change
    from copeval.project import load_project
    from copeval.synth import synth_rounds

    proj = synth_rounds(8, rounds=3, seed=4, out=tmp_path / "p")
    truth = proj.truth
    assert list(truth["round"].unique()) == ["1", "2", "3"]
    assert len(truth) == 3 * 8 * 5
    wide = truth.pivot_table(index=["site_id", "criterion"], columns="round", values="level")
    last = truth[truth["round"] == "3"].set_index(["site_id", "criterion"])
    want = (wide["3"] - wide["1"]).reindex(last.index)
    assert np.allclose(last["change_from_first"], want)
    step = wide["2"] - wide["1"]
    assert step.min() >= -1.0 - 1e-9 and step.max() <= 1.5 + 1e-9
    assert (tmp_path / "p" / "synthetic_truth.csv").is_file()
    loaded = load_project(tmp_path / "p")
    assert loaded.round_ids == ["1", "2", "3"]
    assert loaded.meta["synthetic"] is True
    # the estimated change follows the true change
    t = project_change(loaded).table.merge(
        truth[truth["round"] == "3"], on=["site_id", "criterion"]
    )
    assert np.corrcoef(t["change"], t["change_from_first"])[0, 1] > 0.8


def test_synth_rounds_refuses_bad_rounds():
    from copeval.synth import SynthError, synth_rounds

    with pytest.raises(SynthError, match="rounds must be an integer"):
        synth_rounds(2, rounds=0, seed=1)
    with pytest.raises(SynthError, match="low <= high"):
        synth_rounds(2, rounds=2, seed=1, change=(1.0, -1.0))


def test_synth_rounds_is_seeded():
    from copeval.synth import synth_rounds

    a = synth_rounds(3, rounds=2, seed=9, survey=False)
    b = synth_rounds(3, rounds=2, seed=9, survey=False)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    pd.testing.assert_frame_equal(a.segments, b.segments)
