"""The copeval command line: exit codes, messages, help on every command."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from copeval import __version__
from copeval.cli import build_parser, main


def run(*args):
    """Run the real console script; returns (exit code, stdout, stderr)."""
    exe = shutil.which("copeval") or None
    cmd = [exe, *args] if exe else [sys.executable, "-m", "copeval", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_version():
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"copeval {__version__}"


def test_help_on_every_command(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"validate", "codebook", "describe"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
        assert "usage: copeval" in capsys.readouterr().out


def test_validate_valid_project(tiny_project):
    code, out, err = run("validate", str(tiny_project))
    assert code == 0, err
    assert "valid" in out


def test_validate_broken_project_names_file_row_column(tiny_project):
    seg = tiny_project / "segments.csv"
    seg.write_text(
        seg.read_text(encoding="utf-8").replace("C2.meetings,2", "C2.meetings,3"), encoding="utf-8"
    )
    code, _out, err = run("validate", str(tiny_project))
    assert code == 1
    assert "segments.csv row 5, column 'valence': 3 is outside -2..2" in err
    assert "Traceback" not in err


def test_validate_missing_folder_is_a_clean_error(tmp_path):
    code, _, err = run("validate", str(tmp_path / "nope"))
    assert code == 1
    assert err.startswith("error: Project folder not found")
    assert "Traceback" not in err


def test_validate_demo(demo_path):
    code, _out, err = run("validate", str(demo_path))
    assert code == 0, err


def test_codebook_csv_has_mapping_columns(capsys):
    assert main(["codebook", "--format", "csv", "--lang", "es"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert {"code", "criterion", "obstacle", "label"} <= set(table.columns)
    assert "Enfoque en áreas pequeñas" in set(table["label"])


def test_codebook_table(capsys):
    assert main(["codebook", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "C4  Analysis of conditions" in out


def test_lang_default_is_the_projects_report_language_else_spanish(tiny_project, capsys):
    """One rule for every command (copeval.project.default_lang): the project's declared
    report_language, else es."""
    import json

    assert main(["codebook"]) == 0
    assert "C4  Análisis de condiciones" in capsys.readouterr().out
    assert main(["score", str(tiny_project), "--draws", "5"]) == 0
    assert "Intervalos del 90%" in capsys.readouterr().out
    path = tiny_project / "datapackage.json"
    desc = json.loads(path.read_text(encoding="utf-8"))
    desc["copeval"]["report_language"] = "en"
    path.write_text(json.dumps(desc), encoding="utf-8")
    assert main(["codebook", "--project", str(tiny_project)]) == 0
    assert "C4  Analysis of conditions" in capsys.readouterr().out
    assert main(["score", str(tiny_project), "--draws", "5"]) == 0
    assert "90% intervals" in capsys.readouterr().out
    assert main(["score", str(tiny_project), "--draws", "5", "--lang", "es"]) == 0
    assert "Intervalos del 90%" in capsys.readouterr().out


def test_describe_rewrites_datapackage_keeping_metadata(tiny_project, capsys):
    assert main(["describe", str(tiny_project), "--period", "2017/2018"]) == 0
    from copeval.project import load_project

    meta = load_project(tiny_project).meta
    assert meta["period"] == "2017/2018" and meta["title"] == "Tiny" and meta["synthetic"]


def test_unknown_option_exits_2():
    code, _, err = run("validate")
    assert code == 2 and "required" in err


def test_report_commands_take_the_projects_language_by_default(tmp_path, monkeypatch):
    """Issue 16.9: one rule for --lang in every command: the project's report_language,
    else es (report and compare defaulted to es while score and codebook said en)."""
    import contextlib
    import json
    import shutil
    from pathlib import Path

    from copeval.cli import report as cli_report
    from copeval.project import project_lang

    root = tmp_path / "p"
    shutil.copytree(Path(__file__).parents[1] / "data" / "demo", root)
    assert project_lang(root) == "es"
    desc = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    desc.setdefault("copeval", {})["report_language"] = "en"
    (root / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    assert project_lang(root) == "en"
    seen = {}

    def fake_plan_jobs(project, **kw):
        seen["langs"] = kw.get("langs")
        raise SystemExit(0)

    monkeypatch.setattr("copeval.report.api.plan_jobs", fake_plan_jobs)
    for command in (["report", str(root), "--site", "VC"], ["compare", str(root)]):
        seen.clear()
        with contextlib.suppress(SystemExit):
            main(command)
        assert seen["langs"] == "en", command
    assert cli_report.report_langs(type("A", (), {"lang": "es", "project": root})()) == "es"
    assert project_lang(tmp_path / "nowhere") == "es"
