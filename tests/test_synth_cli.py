"""`copeval synth` and `copeval design` on the command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from copeval.cli import main


def test_synth_writes_a_valid_synthetic_project(tmp_path, capsys):
    out = tmp_path / "national"
    assert main(["synth", "--sites", "6", "--seed", "2", "--out", str(out), "-q"]) == 0
    assert main(["validate", str(out), "-q"]) == 0
    capsys.readouterr()
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["copeval"]["synthetic"] is True
    assert descriptor["copeval"]["generator"] == "copeval synth"
    sites = pd.read_csv(out / "sites.csv", dtype=str)
    assert sites["site_id"].str.fullmatch(r"GT\d{4}").all()
    assert sites["municipality_code"].str.fullmatch(r"\d{4}").all()  # "0101", not 101
    assert (out / "synthetic_truth.csv").is_file()


def test_synth_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["synth", "--sites", "3", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "synthetic project written" in captured.out
    assert "3 sites" in captured.out


def test_synth_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["synth", "--sites", "3", "--seed", "1", "--out", str(out), "-q"]) == 0
    before = (out / "sites.csv").read_bytes()
    assert main(["synth", "--sites", "2", "--out", str(out), "-q"]) == 1
    assert "--force" in capsys.readouterr().err
    assert (out / "sites.csv").read_bytes() == before
    # --force replaces it completely: no texts of the old, larger project are left behind
    assert main(["synth", "--sites", "2", "--seed", "1", "--out", str(out), "-q", "--force"]) == 0
    sources = pd.read_csv(out / "sources.csv", dtype=str)
    assert len(list((out / "texts").iterdir())) == len(sources)
    assert main(["validate", str(out), "-q"]) == 0


def test_synth_never_replaces_a_real_project(demo_copy, capsys):
    before = (demo_copy / "sites.csv").read_bytes()
    assert main(["synth", "--sites", "2", "--out", str(demo_copy), "--force", "-q"]) == 1
    assert "did not generate" in capsys.readouterr().err
    assert (demo_copy / "sites.csv").read_bytes() == before


def test_synth_refuses_a_folder_with_other_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["synth", "--sites", "2", "--out", str(tmp_path), "--force", "-q"]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--sites", "0"], "--sites must be >= 1"), (["--seed", "x"], "--seed must be an integer")],
)
def test_synth_bad_arguments(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--out", str(tmp_path / "p"), *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_design_cli_writes_table_and_figure(tmp_path, capsys):
    table, figure = tmp_path / "design.csv", tmp_path / "design.png"
    args = ["design", "--interviews", "2,6", "--survey", "0,40", "--sites", "12",
            "--n-boot", "60", "--seed", "1", "--table", str(table), "--out", str(figure)]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "n_interviews_per_group" in out
    assert "interview(s) per respondent group" in out or "No design tried reaches" in out
    df = pd.read_csv(table)
    assert len(df) == 2 * 2 * 5
    assert {"mean_halfwidth", "p_within_target", "criterion", "n_survey"} <= set(df.columns)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_design_cli_rejects_an_unknown_figure_format(tmp_path, capsys):
    assert (
        main(["design", "--interviews", "2", "--survey", "0", "--out", str(tmp_path / "x.gif")])
        == 1
    )
    assert "figure must be" in capsys.readouterr().err


def test_design_cli_bad_list(capsys):
    with pytest.raises(SystemExit):
        main(["design", "--interviews", "0,2"])
    assert "--interviews values must be >= 1" in capsys.readouterr().err
