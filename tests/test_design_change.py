"""copeval design --change: power to detect a change between two rounds, from the change
model, checked against simulated sites with a known change."""

from __future__ import annotations

import numpy as np
import pytest

from copeval.cli import main
from copeval.design import (
    CHANGE_DESIGN_COLUMNS,
    DesignError,
    describe_change_design,
    recommend_change_design,
    simulate_change_design,
)


@pytest.fixture(scope="module")
def table():
    return simulate_change_design([2, 5], [0, 100], n_sites=40, seed=3)


def test_shape(table):
    assert list(table.columns) == list(CHANGE_DESIGN_COLUMNS)
    assert len(table) == 2 * 2 * 2 * 5
    assert set(table["pairing"]) == {"independent", "panel"}
    assert (table["n_sites"] == 40).all()


def test_model_power_matches_simulated_detection(table):
    """The check by simulation: the power the change model predicts from its standard
    errors agrees with the share of sites where the planted change was reported as
    improved (pooled over the 5 criteria: 200 sites per design)."""
    pooled = table.groupby(["pairing", "n_interviews_per_group", "n_survey"])[
        ["power", "power_simulated", "coverage", "mean_change"]
    ].mean()
    gap = (pooled["power"] - pooled["power_simulated"]).abs()
    assert gap.max() < 0.12, pooled
    assert gap.mean() < 0.06, pooled
    assert pooled["coverage"].between(0.8, 0.99).all(), pooled
    assert (pooled["mean_change"] - 0.5).abs().max() < 0.12, pooled


def test_more_fieldwork_more_power(table):
    p = table.groupby(["pairing", "n_interviews_per_group", "n_survey"])["power"].mean()
    for pairing in ("independent", "panel"):
        assert p[(pairing, 5, 0)] > p[(pairing, 2, 0)]
        assert p[(pairing, 2, 100)] > p[(pairing, 2, 0)]
        assert p[(pairing, 5, 100)] > p[(pairing, 5, 0)]


def test_a_panel_is_more_precise(table):
    se = table.groupby(["pairing", "n_interviews_per_group", "n_survey"])["mean_se"].mean()
    for design in ((2, 100), (5, 100), (5, 0)):
        assert se[("panel", *design)] < se[("independent", *design)]


def test_no_change_is_detected_at_the_false_alarm_rate():
    """Known truth: with no change, 'improved' (P >= 0.9) is reported about 10 % of the
    time, as the model predicts."""
    t = simulate_change_design([4], [100], change=0.0, n_sites=40, seed=5, pairings=["panel"])
    assert t["power"].mean() == pytest.approx(0.1, abs=0.02)
    assert 0.02 <= t["power_simulated"].mean() <= 0.2


def test_recommendation_and_sentence(table):
    rec = recommend_change_design(table, power=0.5)
    assert set(rec["pairing"]) == {"independent", "panel"}
    met = rec[rec["meets_target"]]
    assert len(met) and (met["power"] >= 0.5).all()
    never = recommend_change_design(table, power=0.999)
    assert not never["meets_target"].any() and never["n_interviews_per_group"].isna().all()
    text = describe_change_design(table, power=0.5)
    assert "change of 0.5" in text and "panel follow-up" in text and "simulated" in text


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"change": -0.5}, "change"),
        ({"pairings": ["twice"]}, "pairings"),
        ({"detect": "maybe"}, "detect"),
        ({"persistence": 1.5}, "persistence"),
        ({"n_sites": 2}, "n_sites"),
    ],
)
def test_bad_options_name_the_parameter(kwargs, name):
    with pytest.raises(DesignError, match=name):
        simulate_change_design([2], [0], **kwargs)


def test_same_seed_same_table():
    a = simulate_change_design([2], [50], n_sites=8, seed=9, pairings=["panel"])
    b = simulate_change_design([2], [50], n_sites=8, seed=9, pairings=["panel"])
    np.testing.assert_array_equal(a["power"].to_numpy(), b["power"].to_numpy())


def test_cli(tmp_path, capsys):
    out = tmp_path / "change.csv"
    args = ["design", "--change", "0.5", "--interviews", "2,3", "--survey", "0,50"]
    assert main([*args, "--sites", "10", "--pairing", "panel", "--table", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "To detect a change of 0.5" in text and "panel follow-up" in text
    assert out.is_file() and "power_simulated" in out.read_text()
    assert main([*args, "--pairing", "twice"]) == 1
    assert "--pairing twice" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "x.png")]) == 1
    assert "--table" in capsys.readouterr().err
