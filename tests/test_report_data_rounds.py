"""ReportData with evaluation rounds: the round shown, the change since the previous round,
the cache, and a one-round project exactly as before."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from copeval.errors import CopevalError
from copeval.project import load_project
from copeval.report import data as data_mod
from copeval.report.data import ReportData, clear_memo
from copeval.scoring import score_sites

ROUNDS = REPO / "data" / "demo-rounds"
N_BOOT = 100


@pytest.fixture(scope="module")
def rounds_path():
    if not (ROUNDS / "datapackage.json").is_file():
        pytest.skip("data/demo-rounds is not there")
    return ROUNDS


@pytest.fixture(scope="module")
def latest(rounds_path):
    clear_memo()
    return ReportData.load(rounds_path, n_boot=N_BOOT, complete=False)


@pytest.fixture(scope="module")
def first(rounds_path):
    return ReportData.load(rounds_path, n_boot=N_BOOT, complete=False, round="2017")


def test_the_default_view_is_the_latest_round(latest):
    assert latest.rounds == ["2017", "2025"]
    assert latest.round == "2025"
    assert set(latest.table["round"]) == {"2025"}
    # every table a section reads is the round's: sources, evidence, survey answers
    assert set(latest.project.sources["round"]) == {"2025"}
    assert set(latest.evidence["round"]) == {"2025"}
    for df in latest.project.responses.values():
        assert set(df["round"]) == {"2025"}
    kept = set(latest.project.sources["source_id"])
    assert set(latest.project.segments["source_id"]) <= kept
    assert set(latest.scaled_items["respondent_id"]) <= {
        r for df in latest.project.responses.values() for r in df["respondent_id"]
    }
    # the whole project stays available for change, with both rounds
    assert set(latest.all_rounds.sources["round"]) == {"2017", "2025"}


def test_the_round_argument_chooses_the_view(rounds_path, first, latest):
    assert first.round == "2017"
    assert set(first.project.sources["round"]) == {"2017"}
    expected = score_sites(load_project(rounds_path), n_boot=N_BOOT, round="2017").table
    pd.testing.assert_frame_equal(
        first.table[["site_id", "criterion", "score", "lower", "upper"]],
        expected[["site_id", "criterion", "score", "lower", "upper"]],
    )
    # 2017 shows other ratings than 2025 (the demo's C4 improved)
    a = first.table.set_index(["site_id", "criterion"])["score"]
    b = latest.table.set_index(["site_id", "criterion"])["score"]
    assert (a - b).abs().max() > 0.5


def test_a_round_given_as_a_number_is_read_as_its_id(rounds_path, first):
    data = ReportData.load(rounds_path, n_boot=N_BOOT, complete=False, round=2017)
    assert data.round == "2017"
    pd.testing.assert_frame_equal(data.table, first.table)


def test_an_undeclared_round_names_the_declared_rounds(rounds_path):
    with pytest.raises(CopevalError, match=r"No round '1999'.*Declared rounds: 2017, 2025"):
        ReportData.load(rounds_path, n_boot=N_BOOT, round="1999")
    with pytest.raises(CopevalError, match="round must be a round ID"):
        ReportData.load(rounds_path, n_boot=N_BOOT, round=20.17)


def test_a_round_for_a_project_without_rounds_is_an_error(demo_path):
    with pytest.raises(CopevalError, match="declares no evaluation rounds"):
        ReportData.load(demo_path, n_boot=N_BOOT, round="2017")


def test_a_one_round_project_is_shown_as_before(demo_path):
    data = ReportData.load(demo_path, n_boot=N_BOOT, complete=False)
    assert data.rounds == [] and data.round is None
    assert data.change() is None and data.previous_round() is None
    assert data.project_all is None and data.all_rounds is data.project
    assert "round" not in data.table.columns
    expected = score_sites(load_project(demo_path), n_boot=N_BOOT).table
    pd.testing.assert_frame_equal(data.table, expected)
    assert len(data.project.sources) == len(load_project(demo_path).sources)


def test_the_change_is_estimate_change_of_the_shown_round_against_the_previous(latest):
    from copeval.change import estimate_change
    from copeval.params import ScoringParams
    from copeval.scoring import round_inputs

    inputs = round_inputs(latest.all_rounds)
    p = latest.params
    truth = estimate_change(
        inputs.evidence,
        inputs.respondents,
        round_from="2017",
        round_to="2025",
        sites=sorted(latest.site_names),
        params=ScoringParams(weight=p["weight"], ci=p["ci"], seed=p["seed"], draws=p["n_boot"]),
        reliability=inputs.reliability,
    ).table
    pd.testing.assert_frame_equal(latest.change(), truth)
    assert latest.change("2017", "2025") is latest.change()  # computed once
    # the change ends at the ratings the report shows
    m = latest.table.merge(latest.change(), on=["site_id", "criterion"])
    np.testing.assert_allclose(m["score"], m["score_to"])


def test_the_first_round_has_no_previous_round(first):
    assert first.previous_round() is None
    assert first.change() is None
    # an explicit pair is still available from any view
    assert set(first.change("2017", "2025")["round_to"]) == {"2025"}


def test_change_rounds_are_checked(latest):
    with pytest.raises(CopevalError, match="Declared rounds: 2017, 2025"):
        latest.change("1999")
    with pytest.raises(CopevalError, match="two different rounds"):
        latest.change("2025", "2025")


def test_round_tables_match_each_rounds_scores(latest, first):
    t17 = latest.round_table("2017")
    cols = ["site_id", "criterion", "score", "lower", "upper"]
    pd.testing.assert_frame_equal(t17[cols], first.table[cols].reset_index(drop=True))
    assert set(t17["round"]) == {"2017"}


def test_the_readers_view_shares_the_round_and_the_change(latest):
    view = latest.for_readers("es")
    assert view.round == "2025" and view.rounds == ["2017", "2025"]
    assert view.change() is latest.change()
    assert view.project_all is None  # the unredacted project is never part of a view
    assert set(view.project.sources["round"]) == {"2025"}


def test_round_labels_are_redacted_for_readers(rounds_path, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(rounds_path, project)
    dp = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    phone = "+502 5512 3456"
    dp["copeval"]["rounds"][0]["label_en"] = f"Baseline (call {phone})"
    (project / "datapackage.json").write_text(json.dumps(dp), encoding="utf-8")
    data = ReportData.load(project, n_boot=N_BOOT, complete=False, memo=False)
    assert phone in data.round_label("2017", "en")
    shown = data.for_readers("en").round_label("2017", "en")
    assert phone not in shown and "Baseline" in shown


def test_the_round_is_part_of_the_cache_key(rounds_path):
    params = {"n_boot": N_BOOT}
    keys = {data_mod.analysis_key(rounds_path, params, r) for r in (None, "2017", "2025")}
    assert len(keys) == 3


def test_the_change_is_cached_with_the_analysis(rounds_path, tmp_path):
    from copeval.report.cache import cache_file, load_tables

    cache = tmp_path / "cache"
    clear_memo()
    fresh = ReportData.load(rounds_path, n_boot=N_BOOT, complete=False, cache_dir=cache)
    path = cache_file(cache, data_mod.analysis_key(rounds_path, {"n_boot": N_BOOT}))
    tables, meta = load_tables(path)  # numpy archive read with allow_pickle=False
    assert ("extras", ("change", "2017", "2025")) in tables
    assert meta["settings"]["round"] == "2025"
    clear_memo()
    again = ReportData.load(rounds_path, n_boot=N_BOOT, complete=False, cache_dir=cache)
    assert again is not fresh
    pd.testing.assert_frame_equal(again.change(), fresh.change())
    pd.testing.assert_frame_equal(again.round_table("2017"), fresh.round_table("2017"))
    pd.testing.assert_frame_equal(again.table, fresh.table)
    assert set(again.project.sources["round"]) == {"2025"}


def test_a_cache_naming_another_round_is_not_trusted(rounds_path, tmp_path, monkeypatch):
    """A planted archive at the key whose settings name an undeclared round is recomputed."""
    from copeval.report.cache import cache_file, load_tables, save_tables

    cache = tmp_path / "cache"
    clear_memo()
    ReportData.load(rounds_path, n_boot=N_BOOT, complete=False, cache_dir=cache)
    path = cache_file(cache, data_mod.analysis_key(rounds_path, {"n_boot": N_BOOT}))
    tables, meta = load_tables(path)
    meta["settings"]["round"] = "1999"
    save_tables(path, tables, meta)
    clear_memo()
    data = ReportData.load(rounds_path, n_boot=N_BOOT, complete=False, cache_dir=cache)
    assert data.round == "2025"
