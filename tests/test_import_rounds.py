"""Imports into a project with evaluation rounds: ``--round R`` and the survey merge key.

The real KoboToolbox / ODK Central exports in ../shared/fixtures/real/ are read where they
are (skipped when absent); the small REFI-QDA and Taguette files are in tests/data/interop.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_FIXTURES

from copeval.cli import main
from copeval.errors import CopevalError
from copeval.interop import import_kobo, import_refi, write_import
from copeval.project import load_project

DATA = Path(__file__).resolve().parent / "data" / "interop"
REAL = SHARED_FIXTURES / "real"
KOBO = "kobo/formpack/kobo_community_xml_semicolon.csv"
ODK = "odk_central/odkc_community_split.csv"
ITEMS = "kobo/items_community_channels.csv"
NVIVO = [
    str(DATA / "nvivo_utf16.qdpx"),
    "--mapping",
    str(DATA / "nvivo_mapping.csv"),
    "--sources-meta",
    str(DATA / "nvivo_meta.csv"),
]


def real(rel: str) -> Path:
    path = REAL / rel
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return path


def declare_rounds(root: Path, ids, *, fill: str | None = None) -> None:
    """Declare rounds in a project's datapackage.json; ``fill`` sets the round of every
    source and response already there."""
    path = root / "datapackage.json"
    desc = json.loads(path.read_text(encoding="utf-8"))
    desc["copeval"]["rounds"] = [{"id": r} for r in ids]
    path.write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    if fill is None:
        return
    for f in [root / "sources.csv", *sorted((root / "responses").glob("*.csv"))]:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if len(df):
            df["round"] = fill
            df.to_csv(f, index=False)


def _survey_project(tmp_path) -> Path:
    target = tmp_path / "p"
    r = import_kobo(real(KOBO), items=real(ITEMS))
    write_import(r, target)
    declare_rounds(target, ["2017", "2025"], fill="2017")
    assert len(load_project(target).responses["community"]) == 38
    return target


# --------------------------------------------------------------------------- survey key
def test_same_respondents_in_a_second_round_are_a_panel_not_duplicates(tmp_path):
    """The collision: one export imported for round 2017, the same respondents (same
    pseudonymous IDs, here the same submissions) for round 2025. Keyed by respondent_id
    alone the second import was taken as 'already there, same answers' and dropped."""
    target = _survey_project(tmp_path)
    r = import_kobo(real(KOBO), items=real(ITEMS))
    project = write_import(r, target, round="2025")
    df = project.responses["community"]
    assert len(df) == 76
    assert df.groupby("round").size().to_dict() == {"2017": 38, "2025": 38}
    assert set(df.loc[df["round"] == "2017", "respondent_id"]) == set(
        df.loc[df["round"] == "2025", "respondent_id"]
    )
    assert any("38 new respondent(s) appended" in w for w in r.report.warnings)


def test_a_round_imported_twice_is_still_a_duplicate(tmp_path):
    """Within one round the key still bites: the same export again is kept once, and the
    same respondents with other answers are refused without --force."""
    target = _survey_project(tmp_path)
    again = import_kobo(real(KOBO), items=real(ITEMS))
    project = write_import(again, target, round="2017")
    assert len(project.responses["community"]) == 38
    assert any("38 respondent(s) already in" in w for w in again.report.warnings)
    other = import_kobo(real(KOBO), items=real(ITEMS))
    item = next(c for c in other.responses.columns if c.startswith("c1_"))
    other.responses[item] = pd.array(
        [(int(v) % 4) + 1 if not pd.isna(v) else 1 for v in other.responses[item]],
        dtype="Int64",
    )
    before = (target / "responses" / "community.csv").read_bytes()
    with pytest.raises(CopevalError, match="different answers"):
        write_import(other, target, round="2017")
    assert (target / "responses" / "community.csv").read_bytes() == before
    # the same changed answers are a new round's panel, not a clash
    assert len(write_import(other, target, round="2025").responses["community"]) == 76


def test_odk_export_into_a_round_through_the_cli(tmp_path, capsys):
    target = _survey_project(tmp_path)
    args = ["import", str(real(ODK)), "--into", str(target), "--items", str(real(ITEMS))]
    assert main([*args, "--round", "2025"]) == 0
    project = load_project(target)
    assert project.responses["community"].groupby("round").size().to_dict() == {
        "2017": 38,
        "2025": 38,
    }
    assert main(["validate", str(target)]) == 0


# --------------------------------------------------------------------------- --round rules
def test_round_must_be_declared(tmp_path, capsys):
    target = _survey_project(tmp_path)
    before = (target / "responses" / "community.csv").read_bytes()
    args = ["import", str(real(KOBO)), "--into", str(target), "--items", str(real(ITEMS))]
    assert main([*args, "--round", "2030"]) == 1
    err = capsys.readouterr().err
    assert "round '2030' is not declared" in err and "declared: 2017, 2025" in err
    assert main(args) == 1  # two rounds declared: say which one
    err = capsys.readouterr().err
    assert "--round" in err and "2017, 2025" in err
    assert (target / "responses" / "community.csv").read_bytes() == before


def test_round_into_a_project_without_rounds_is_refused(tmp_path, capsys):
    target = tmp_path / "q"
    assert main(["import", *NVIVO, "--into", str(target), "--round", "2017"]) == 1
    err = capsys.readouterr().err
    assert "declares no rounds" in err and "docs/data-model.md" in err
    assert not (target / "sources.csv").exists()


def test_single_declared_round_is_the_default(tmp_path):
    target = tmp_path / "q"
    write_import(import_refi(DATA / "cases_variables.qdpx"), target)
    declare_rounds(target, ["2017"])
    project = write_import(import_refi(DATA / "atlas_crlf1" / "project.qde"), target)
    assert set(project.sources["round"]) == {"2017"}
    on_disk = pd.read_csv(target / "sources.csv", dtype=str, keep_default_na=False)
    assert "2017" in set(on_disk["round"])


def test_refi_and_taguette_sources_get_their_round(tmp_path, capsys):
    target = tmp_path / "q"
    assert main(["import", str(DATA / "cases_variables.qdpx"), "--into", str(target)]) == 0
    declare_rounds(target, ["2017", "2025"], fill="2017")
    assert main(["import", *NVIVO, "--into", str(target), "--round", "2025"]) == 0
    tag = [
        "import",
        str(DATA / "taguette_highlights.csv"),
        "--into",
        str(target),
        "--texts",
        str(DATA / "taguette_texts"),
        "--sources-meta",
        str(DATA / "taguette_meta.csv"),
        "--mapping",
        str(DATA / "taguette_mapping.csv"),
        "--round",
        "2025",
    ]
    assert main(tag) == 0
    project = load_project(target)
    rounds = project.sources.set_index("source_id")["round"]
    assert rounds[["VC-C01", "VC-P02"]].eq("2025").all()
    assert (rounds == "2017").sum() >= 1 and (rounds == "2025").sum() >= 3
    assert main(["validate", str(target)]) == 0


def test_sources_meta_panel_id_links_a_re_interview(tmp_path):
    """The side table's panel_id column links a follow-up interview to the baseline one:
    `copeval change` then pairs them."""
    target = tmp_path / "q"
    meta1 = tmp_path / "meta1.csv"
    meta1.write_text(
        "source,source_id,site_id,respondent_group,date,consent,panel_id\n"
        "Entrevista comunitaria 01,VC-C01,VC,community_member,2017-03-02,quote,VC-P1\n"
        "Entrevista policía 02.docx,VC-P02,VC,police_operational,,,\n",
        encoding="utf-8",
    )
    nvivo = [str(DATA / "nvivo_utf16.qdpx"), "--mapping", str(DATA / "nvivo_mapping.csv")]
    assert main(["import", str(DATA / "cases_variables.qdpx"), "--into", str(target)]) == 0
    declare_rounds(target, ["2017", "2025"], fill="2017")
    meta2 = tmp_path / "meta2.csv"
    meta2.write_text(
        meta1.read_text(encoding="utf-8")
        .replace("VC-C01", "VC-C01b")
        .replace("VC-P02,", "VC-P02b,"),
        encoding="utf-8",
    )
    assert (
        main(
            [
                "import",
                *nvivo,
                "--sources-meta",
                str(meta2),
                "--into",
                str(target),
                "--round",
                "2025",
            ]
        )
        == 0
    )
    src = load_project(target).sources.set_index("source_id")
    assert src.loc["VC-C01b", "panel_id"] == "VC-P1" and src.loc["VC-C01b", "round"] == "2025"
    assert pd.isna(src.loc["VC-P02b", "panel_id"])
    bad = tmp_path / "bad.csv"
    bad.write_text(meta1.read_text(encoding="utf-8").replace("VC-P1", "VC P1"), encoding="utf-8")
    assert main(["import", *nvivo, "--sources-meta", str(bad), "--into", str(tmp_path / "z")]) == 1


def test_panel_id_column_only_when_given(tmp_path):
    r = import_refi(
        DATA / "nvivo_utf16.qdpx",
        mapping=DATA / "nvivo_mapping.csv",
        sources_meta=DATA / "nvivo_meta.csv",
    )
    assert "panel_id" not in r.sources.columns
