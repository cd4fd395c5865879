"""Validation added for rounds and readers: coders per round, site context per round,
placeholders left by importers, language variants, and the default language rule."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from copeval.cli import main
from copeval.project import (
    default_lang,
    is_placeholder,
    load_project,
    validate_project,
)


def _edit_meta(root: Path, **block) -> None:
    path = root / "datapackage.json"
    desc = json.loads(path.read_text(encoding="utf-8"))
    desc["copeval"].update(block)
    path.write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")


def _csv(root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(root / name, dtype=str, keep_default_na=False)


def _problems(root, severity=None, file=None):
    return [
        p
        for p in validate_project(root)
        if (severity is None or p.severity == severity) and (file is None or p.file == file)
    ]


def _two_rounds(root: Path, coders=None) -> None:
    """tiny project: S1, S2 in round 2017, S3 in round 2025."""
    r = [{"id": "2017"}, {"id": "2025"}]
    if coders:
        for item, c in zip(r, coders, strict=True):
            item["coders"] = c
    _edit_meta(root, rounds=r)
    src = _csv(root, "sources.csv")
    src["round"] = ["2017", "2017", "2025"]
    src.to_csv(root / "sources.csv", index=False)
    resp = _csv(root, "responses/community.csv")
    resp["round"] = ["2017", "2017", "2025"]
    resp.to_csv(root / "responses/community.csv", index=False)


# --------------------------------------------------------------------------- coders
def test_round_coders_unchecked_without_a_list(tiny_project):
    _two_rounds(tiny_project)
    assert not _problems(tiny_project, "error")


def test_source_coded_by_another_rounds_coder_is_an_error(tiny_project):
    _two_rounds(tiny_project, coders=[["A"], ["B"]])
    errors = _problems(tiny_project, "error")
    # S3 (round 2025, coders B) is coded by A, a coder of round 2017: segment G4, row 5
    assert len(errors) == 1, errors
    e = errors[0]
    assert (e.file, e.row, e.column, e.value) == ("segments.csv", 5, "coder", "A")
    assert "'G4'" in e.message and "round(s) 2017" in e.message and "sources.csv" in e.message


def test_coder_listed_for_no_round_is_a_warning(tiny_project):
    _two_rounds(tiny_project, coders=[["A"], ["Z"]])
    segs = _csv(tiny_project, "segments.csv")
    segs.loc[3, "coder"] = "Q"
    segs.to_csv(tiny_project / "segments.csv", index=False)
    assert not _problems(tiny_project, "error")
    w = [p for p in _problems(tiny_project, "warning") if p.column == "coder"]
    assert len(w) == 1 and w[0].row == 5 and "not listed among the coders" in w[0].message


def test_malformed_coders_list(tiny_project):
    _two_rounds(tiny_project, coders=["A", ["B"]])
    e = _problems(tiny_project, "error", "datapackage.json")
    assert len(e) == 1 and "rounds[1]: 'coders' must be a list" in e[0].message


# --------------------------------------------------------------------------- site_rounds
def _site_rounds(root: Path, rows: str) -> None:
    (root / "site_rounds.csv").write_text(rows, encoding="utf-8")


def test_site_context_per_round(tiny_project):
    _two_rounds(tiny_project)
    _site_rounds(
        tiny_project,
        "site_id,round,population,homicide_rate,homicide_year,notes_en\n"
        "A,2017,1000,20.5,2017,\nA,2025,1300,12.0,2024,Figures of 2024\n",
    )
    p = load_project(tiny_project)
    assert len(p.site_rounds) == 2
    assert p.site_context("A", "2025")["population"] == 1300
    assert p.site_context("A", "2025")["homicide_rate"] == 12.0
    assert p.site_context("A")["population"] == 1000  # sites.csv as written
    assert p.site_context("B", "2025")["population"] == 2000  # no row: sites.csv
    assert p.site_text("A", "notes", "en", round="2025") == "Figures of 2024"
    # the file is described in datapackage.json once rewritten
    from copeval.project import write_datapackage

    write_datapackage(tiny_project)
    desc = json.loads((tiny_project / "datapackage.json").read_text(encoding="utf-8"))
    assert "site_rounds" in {r["name"] for r in desc["resources"]}
    assert load_project(tiny_project).meta["rounds"][1]["id"] == "2025"


@pytest.mark.parametrize(
    ("rows", "column", "fragment"),
    [
        ("site_id,round,population\nZ,2017,5\n", "site_id", "not a known site_id"),
        ("site_id,round,population\nA,2030,5\n", "round", "not a known round"),
        ("site_id,round,population\nA,2017,5\nA,2017,6\n", "round", "two rows for round"),
        ("site_id,round,population\nA,2017,many\n", "population", "is not a whole number"),
    ],
)
def test_site_rounds_errors_name_row_and_column(tiny_project, rows, column, fragment):
    _two_rounds(tiny_project)
    _site_rounds(tiny_project, rows)
    errors = _problems(tiny_project, "error", "site_rounds.csv")
    assert len(errors) == 1, errors
    assert errors[0].column == column and fragment in errors[0].message
    assert errors[0].row == len(rows.strip().splitlines())


def test_site_rounds_without_rounds_and_identity_columns(tiny_project):
    _site_rounds(tiny_project, "site_id,round,name,population\nA,2017,Otro,5\n")
    problems = _problems(tiny_project, file="site_rounds.csv")
    assert any(p.severity == "error" and "declares no rounds" in p.message for p in problems)
    assert any(p.severity == "warning" and p.column == "name" for p in problems)


# --------------------------------------------------------------------------- placeholders
@pytest.mark.parametrize(
    "value",
    [
        "unknown",
        "Unknown ",
        "created by copeval import from qc_demo.qdpx; fill in name and department",
        "created by copeval import from x.csv; fill in the title",
        "qc project",
        "Untitled",
        "n. d.",
        "N.D.",
        "s. f.",
    ],
)
def test_placeholders_recognised(value):
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    ["Totonicapán", "Evaluación COP (prueba)", "MOPSIC project", "2017-02/2018-05", "", None, 3],
)
def test_content_is_not_a_placeholder(value):
    assert not is_placeholder(value)


def test_every_importer_placeholder_is_recognised(tmp_path):
    """What copeval.interop writes where a file has nothing is recognised (known truth: the
    functions that write them)."""
    from copeval.interop.result import minimal_sites, placeholder_title

    sites = minimal_sites(["VC"], origin="/x/qc_demo.qdpx")
    assert is_placeholder(sites["department"].iloc[0])
    assert is_placeholder(sites["notes"].iloc[0])
    assert is_placeholder(placeholder_title("/x/export.csv"))


def test_validate_warns_once_per_placeholder(tiny_project, capsys):
    sites = _csv(tiny_project, "sites.csv")
    sites["notes"] = ["created by copeval import from qc.qdpx; fill in name and department", ""]
    sites.loc[0, "name"] = "A"
    sites.loc[0, "department"] = "unknown"
    sites.to_csv(tiny_project / "sites.csv", index=False)
    _edit_meta(tiny_project, title="qc project", period="n. d.")
    w = [p for p in _problems(tiny_project, "warning") if "placeholder" in p.message]
    where = {(p.file, p.row, p.column) for p in w}
    assert where == {
        ("sites.csv", 2, "name"),
        ("sites.csv", 2, "department"),
        ("sites.csv", 2, "notes"),
        ("datapackage.json", None, "title"),
        ("datapackage.json", None, "period"),
    }
    assert len(w) == 5
    assert main(["validate", str(tiny_project)]) == 0
    err = capsys.readouterr().err
    assert "fill in the site's department" in err and "write the fieldwork period" in err


def test_real_qc_import_placeholders_and_period(tmp_path):
    """The QualCoder export: its project name "qc project" is not taken as a title, the
    period comes from the sources' dates, and validate names every placeholder."""
    from conftest import SHARED_FIXTURES

    path = SHARED_FIXTURES / "refi-qda" / "qc_demo.qdpx"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    from copeval.interop import import_refi, write_import

    meta = pd.DataFrame(
        {
            "source": ["board_2017.txt", "admin-1.txt"],
            "site_id": ["VC", "VC"],
            "respondent_group": ["municipal_authority", "expert"],
            "date": ["2017-03-02", "2017-05-20"],
        }
    )
    mapping = pd.DataFrame({"external_name": ["rq1_definition/rationales/equity"], "code": ["C2"]})
    r = import_refi(path, mapping=mapping, sources_meta=meta)
    project = write_import(r, tmp_path / "qc")
    assert project.meta["title"] != "qc project" and is_placeholder(project.meta["title"])
    assert project.meta["period"] == "2017-03/2017-05"
    w = [p for p in project.warnings if "placeholder" in p.message]
    assert {(p.file, p.column) for p in w} == {
        ("sites.csv", "name"),
        ("sites.csv", "department"),
        ("sites.csv", "notes"),
        ("datapackage.json", "title"),
    }
    assert project.title("es") is None and project.site_text("VC", "notes", "es") is None


# --------------------------------------------------------------------------- languages
def test_language_variants_are_read_and_checked(tiny_project):
    sites = _csv(tiny_project, "sites.csv")
    sites["notes"] = ["Site A notes", ""]
    sites["notes_es"] = ["Notas del sitio A", ""]
    sites["notes_en"] = ["Notes of site A", ""]
    sites["name_es"] = ["Sitio A", "Sitio\tB"]  # a tab in a name: refused
    sites.to_csv(tiny_project / "sites.csv", index=False)
    errors = _problems(tiny_project, "error")
    assert [(e.file, e.row, e.column) for e in errors] == [("sites.csv", 3, "name_es")]
    sites.loc[1, "name_es"] = "Sitio B"
    sites["notes_fr"] = ["x", ""]
    sites.to_csv(tiny_project / "sites.csv", index=False)
    assert not _problems(tiny_project, "error")
    unknown = [p for p in _problems(tiny_project, "warning") if p.column == "notes_fr"]
    assert len(unknown) == 1 and "unknown column" in unknown[0].message
    p = load_project(tiny_project)
    assert p.site_text("A", "notes", "es") == "Notas del sitio A"
    assert p.site_text("A", "notes", "en") == "Notes of site A"
    assert p.site_text("B", "notes", "es") is None
    assert p.site_text("A", "name", "en") == "Sitio A"  # no name_en: the name


def test_segment_translations(tiny_project):
    segs = _csv(tiny_project, "segments.csv")
    segs["text_en"] = ["The police patrol on foot in the canton.", "", "", "bad\x07text"]
    segs.to_csv(tiny_project / "segments.csv", index=False)
    errors = _problems(tiny_project, "error")
    assert [(e.file, e.row, e.column) for e in errors] == [("segments.csv", 5, "text_en")]
    assert "U+0007" in errors[0].message
    segs.loc[3, "text_en"] = "Line one\nline two"  # free text: line breaks allowed
    segs["text_es"] = ["La policía patrulla.", "", "", ""]  # Spanish source: no need
    segs.to_csv(tiny_project / "segments.csv", index=False)
    assert not _problems(tiny_project, "error")
    w = [p for p in _problems(tiny_project, "warning") if p.column == "text_es"]
    assert len(w) == 1 and w[0].row == 2 and "already in es" in w[0].message
    p = load_project(tiny_project)
    assert p.segments.set_index("segment_id").loc["G1", "text_en"].startswith("The police")


def test_project_without_variants_keeps_its_columns(tiny_project):
    p = load_project(tiny_project)
    assert "text_en" not in p.segments.columns and "notes_es" not in p.sites.columns


def test_title_variants(tiny_project):
    _edit_meta(tiny_project, title_es="Evaluación y seguimiento", title_en="Evaluation")
    p = load_project(tiny_project)
    assert p.title("es") == "Evaluación y seguimiento" and p.title("en") == "Evaluation"
    _edit_meta(tiny_project, title_es=["x"])
    e = _problems(tiny_project, "error")
    assert len(e) == 1 and e[0].column == "title_es"


# --------------------------------------------------------------------------- default language
def test_default_lang_rule(tiny_project):
    assert default_lang(None) == "es" and default_lang({}) == "es"
    assert default_lang(load_project(tiny_project).meta) == "es"
    _edit_meta(tiny_project, report_language="en")
    p = load_project(tiny_project)
    assert default_lang(p.meta) == "en" and default_lang(p) == "en"
    _edit_meta(tiny_project, report_language="fr")
    e = _problems(tiny_project, "error")
    assert len(e) == 1 and e[0].column == "report_language"


@pytest.mark.parametrize("name", ["demo", "demo-rounds"])
def test_demo_projects_carry_both_languages(name):
    from conftest import REPO

    root = REPO / "data" / name
    if not (root / "datapackage.json").is_file():
        pytest.skip(f"data/{name} is not built")
    p = load_project(root)
    assert " y " in p.title("es") and " and " not in p.title("es")
    assert " and " in p.title("en")
    for site in p.site_ids:
        for col in ("notes", "population_source", "homicide_source", "police_source"):
            es, en = p.site_text(site, col, "es"), p.site_text(site, col, "en")
            assert es and en and es != en, (site, col)
            assert "Estudio 001" in es or col == "notes"
    seg = p.segments.merge(p.sources[["source_id", "language"]], on="source_id")
    translated = seg[seg["text_en"].notna()]
    assert len(translated) >= 10 and set(translated["language"]) == {"es"}
    assert {s[:2] for s in translated["source_id"]} >= {"VC", "TO"}
