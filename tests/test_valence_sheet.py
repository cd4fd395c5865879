"""copeval valence export / import: rating valences in a spreadsheet, end to end."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_FIXTURES

from copeval.cli import main
from copeval.project import load_project, validate_project


def _unrate(root: Path, rows=None) -> None:
    segs = pd.read_csv(root / "segments.csv", dtype=str, keep_default_na=False)
    segs.loc[rows if rows is not None else segs.index, "valence"] = ""
    segs.to_csv(root / "segments.csv", index=False)


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_one_summary_warning_names_the_route(tiny_project):
    _unrate(tiny_project)
    w = [p for p in validate_project(tiny_project) if p.column == "valence"]
    assert len(w) == 1  # not one per segment
    assert "4 segment(s) have no valence (rows 2, 3, 4, 5)" in w[0].message
    assert f"copeval valence export {tiny_project} --out ratings.csv" in w[0].message
    assert f"copeval valence import {tiny_project} ratings.csv" in w[0].message


def test_round_trip(tiny_project, tmp_path, capsys):
    _unrate(tiny_project, [1, 3])
    sheet = tmp_path / "ratings.csv"
    assert main(["valence", "export", str(tiny_project), "--out", str(sheet)]) == 0
    rows = _read(sheet)
    assert [r["segment_id"] for r in rows] == ["G2", "G4"]
    assert rows[1]["code"] == "C2.meetings" and rows[1]["criterion"] == "C2"
    assert rows[1]["text"] == load_project(tiny_project).segment_text("G4")
    assert all(r["valence"] == "" for r in rows)
    rows[0]["valence"], rows[1]["valence"] = "-1", "+2"
    _write(sheet, rows)
    assert main(["valence", "import", str(tiny_project), str(sheet)]) == 0
    assert "2 valence(s) written" in capsys.readouterr().out
    seg = load_project(tiny_project).segments.set_index("segment_id")["valence"]
    assert seg.to_dict() == {"G1": 2, "G2": -1, "G3": -2, "G4": 2}
    assert not [p for p in validate_project(tiny_project) if p.column == "valence"]


@pytest.mark.parametrize(
    ("segment", "valence", "column", "fragment"),
    [
        ("G2", "3", "valence", "not a whole number from -2 to +2"),
        ("G2", "1.5", "valence", "not a whole number from -2 to +2"),
        ("G2", "two", "valence", "not a whole number from -2 to +2"),
        ("G2", "=1+1", "valence", "not a whole number from -2 to +2"),
        ("NOPE", "1", "segment_id", "not a segment of"),
    ],
)
def test_bad_sheets_change_nothing(
    tiny_project, tmp_path, capsys, segment, valence, column, fragment
):
    _unrate(tiny_project, [1])
    before = (tiny_project / "segments.csv").read_bytes()
    sheet = tmp_path / "r.csv"
    _write(
        sheet, [{"segment_id": "G3", "valence": ""}, {"segment_id": segment, "valence": valence}]
    )
    assert main(["valence", "import", str(tiny_project), str(sheet)]) == 1
    err = capsys.readouterr().err
    assert fragment in err and f"row 3, column '{column}'" in err and "nothing was written" in err
    assert (tiny_project / "segments.csv").read_bytes() == before


def test_duplicate_segment_and_all_problems_at_once(tiny_project, tmp_path, capsys):
    _unrate(tiny_project)
    sheet = tmp_path / "r.csv"
    _write(
        sheet,
        [
            {"segment_id": "G1", "valence": "1"},
            {"segment_id": "G1", "valence": "1"},
            {"segment_id": "G2", "valence": "9"},
        ],
    )
    assert main(["valence", "import", str(tiny_project), str(sheet)]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "listed twice (first on row 2)" in err


def test_existing_valences_need_overwrite(tiny_project, tmp_path, capsys):
    sheet = tmp_path / "r.csv"
    assert main(["valence", "export", str(tiny_project), "--out", str(sheet), "--all"]) == 0
    rows = _read(sheet)
    assert [r["valence"] for r in rows] == ["+2", "+1", "-2", "+2"]
    rows[0]["valence"] = "0"
    _write(sheet, rows)
    before = (tiny_project / "segments.csv").read_bytes()
    assert main(["valence", "import", str(tiny_project), str(sheet)]) == 1
    err = capsys.readouterr().err
    assert "already has valence +2" in err and "--overwrite" in err
    assert (tiny_project / "segments.csv").read_bytes() == before
    assert main(["valence", "import", str(tiny_project), str(sheet), "--overwrite"]) == 0
    assert "1 replaced, 3 unchanged" in capsys.readouterr().out
    assert load_project(tiny_project).segments.set_index("segment_id").loc["G1", "valence"] == 0


def test_export_refuses_to_overwrite_the_sheet(tiny_project, tmp_path, capsys):
    sheet = tmp_path / "r.csv"
    sheet.write_text("mine\n", encoding="utf-8")
    assert main(["valence", "export", str(tiny_project), "--out", str(sheet)]) == 1
    assert "--force" in capsys.readouterr().err and sheet.read_text() == "mine\n"


def test_formula_like_segment_ids_survive_the_spreadsheet(tiny_project, tmp_path):
    segs = pd.read_csv(tiny_project / "segments.csv", dtype=str, keep_default_na=False)
    segs.loc[1, "segment_id"] = "-G2"
    segs.loc[1, "valence"] = ""
    segs.to_csv(tiny_project / "segments.csv", index=False)
    sheet = tmp_path / "r.csv"
    assert main(["valence", "export", str(tiny_project), "--out", str(sheet)]) == 0
    rows = _read(sheet)
    assert rows[0]["segment_id"] == "'-G2"  # shown as text, never run as a formula
    rows[0]["valence"] = "1"
    _write(sheet, rows)
    assert main(["valence", "import", str(tiny_project), str(sheet)]) == 0
    assert load_project(tiny_project).segments.set_index("segment_id").loc["-G2", "valence"] == 1


@pytest.mark.fixtures
def test_qualcoder_export_without_a_valence_group(tmp_path, capsys):
    """A real QualCoder export (no Valence group): imported, one summary warning, rated in
    the sheet, then scored."""
    path = SHARED_FIXTURES / "refi-qda" / "qc_demo.qdpx"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    meta = tmp_path / "meta.csv"
    meta.write_text(
        "source,site_id,respondent_group,date,consent\n"
        "board_2017.txt,VC,municipal_authority,2017-03-02,quote\n"
        "admin-1.txt,VC,expert,2017-05-20,quote\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "external_name,code\nrq1_definition/rationales/equity,C2\n"
        "rq1_definition/practices/computational_thinking,C4.local_analysis\n",
        encoding="utf-8",
    )
    target = tmp_path / "qc"
    args = ["import", str(path), "--into", str(target), "--mapping", str(mapping)]
    assert main([*args, "--sources-meta", str(meta)]) == 0
    capsys.readouterr()
    assert main(["validate", str(target)]) == 0
    err = capsys.readouterr().err
    n = len(load_project(target).segments)
    assert err.count("have no valence") == 1 and f"{n} segment(s) have no valence" in err
    sheet = tmp_path / "ratings.csv"
    assert main(["valence", "export", str(target), "--out", str(sheet)]) == 0
    rows = _read(sheet)
    assert len(rows) == n
    for k, r in enumerate(rows):
        r["valence"] = str(k % 3)
    _write(sheet, rows)
    assert main(["valence", "import", str(target), str(sheet)]) == 0
    assert f"{n} valence(s) written" in capsys.readouterr().out
    assert main(["score", str(target)]) == 0
    out = capsys.readouterr().out
    assert "C2" in out and "C4" in out
    scored = load_project(target).evidence()
    assert len(scored) == n
