"""Loading and validating projects: every malformed input is reported with file, row, column."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_tables

from copeval.errors import CopevalError, ProjectValidationError
from copeval.project import load_project, validate_project, write_datapackage, write_project


def _edit(path: Path, old: str, new: str, *, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _problem(path, file, row, column):
    """The single error for (file, row, column), with the whole list shown on failure."""
    problems = [p for p in validate_project(path) if p.severity == "error"]
    hits = [p for p in problems if (p.file, p.row, p.column) == (file, row, column)]
    assert hits, f"no error at {file} row {row} column {column}; got: {[str(p) for p in problems]}"
    return hits[0]


# (case id, file to edit, old text, new text, file, row, column, message pattern)
CASES = [
    (
        "missing-column",
        "segments.csv",
        "segment_id,source_id,start,end,code,valence,coder",
        "segment_id,source_id,start,end,code,coder",
        "segments.csv",
        1,
        "valence",
        "required column is missing",
    ),
    (
        "wrong-type-int",
        "segments.csv",
        "G2,S1,40,70",
        "G2,S1,forty,70",
        "segments.csv",
        3,
        "start",
        "'forty' is not a whole number",
    ),
    (
        "wrong-type-float",
        "segments.csv",
        "G2,S1,40,70",
        "G2,S1,40.5,70",
        "segments.csv",
        3,
        "start",
        "not a whole number",
    ),
    (
        "duplicate-segment-id",
        "segments.csv",
        "G4,S3",
        "G1,S3",
        "segments.csv",
        5,
        "segment_id",
        "duplicate ID 'G1' \\(first used on row 2\\)",
    ),
    (
        "duplicate-source-id",
        "sources.csv",
        "S3,B,",
        "S1,B,",
        "sources.csv",
        4,
        "source_id",
        "duplicate ID 'S1'",
    ),
    (
        "duplicate-site-id",
        "sites.csv",
        "B,Sitio B",
        "A,Sitio B",
        "sites.csv",
        3,
        "site_id",
        "duplicate ID 'A'",
    ),
    (
        "unknown-site",
        "sources.csv",
        "S3,B,",
        "S3,Z,",
        "sources.csv",
        4,
        "site_id",
        "'Z' is not a known site_id",
    ),
    (
        "unknown-source",
        "segments.csv",
        "G4,S3",
        "G4,S9",
        "segments.csv",
        5,
        "source_id",
        "'S9' is not a known source_id",
    ),
    (
        "unknown-code",
        "segments.csv",
        "C2.meetings",
        "C2.meeting",
        "segments.csv",
        5,
        "code",
        "'C2.meeting' is not a codebook code",
    ),
    (
        "valence-too-high",
        "segments.csv",
        "C2.meetings,2",
        "C2.meetings,3",
        "segments.csv",
        5,
        "valence",
        "3 is outside -2..2",
    ),
    (
        "valence-too-low",
        "segments.csv",
        "C1.obs_resources,-2",
        "C1.obs_resources,-5",
        "segments.csv",
        4,
        "valence",
        "-5 is outside -2..2",
    ),
    (
        "offset-past-end",
        "segments.csv",
        "G4,S3,0,43",
        "G4,S3,0,99",
        "segments.csv",
        5,
        "end",
        "end 99 is past the end of the text of 'S3' \\(43 characters\\)",
    ),
    (
        "end-before-start",
        "segments.csv",
        "G2,S1,40,70",
        "G2,S1,40,30",
        "segments.csv",
        3,
        "end",
        "end 30 is not after start 40",
    ),
    (
        "negative-start",
        "segments.csv",
        "G2,S1,40,70",
        "G2,S1,-1,70",
        "segments.csv",
        3,
        "start",
        "below the minimum 0",
    ),
    (
        "empty-required-cell",
        "segments.csv",
        "G3,S2,0,38,C1.obs_resources,-2,A",
        "G3,S2,0,38,C1.obs_resources,-2,",
        "segments.csv",
        4,
        "coder",
        "value is required",
    ),
    (
        "trailing-space-id",
        "sources.csv",
        "S2,A,",
        "S2 ,A,",
        "sources.csv",
        3,
        "source_id",
        "'S2 ' has leading or trailing spaces",
    ),
    (
        "trailing-space-ref",
        "segments.csv",
        "G4,S3",
        "G4,S3 ",
        "segments.csv",
        5,
        "source_id",
        "leading or trailing spaces",
    ),
    (
        "bad-enum-consent",
        "sources.csv",
        "es,quote,texts/S3",
        "es,yes,texts/S3",
        "sources.csv",
        4,
        "consent",
        "'yes' is not one of: none, anonymous, quote",
    ),
    (
        "bad-enum-method",
        "sources.csv",
        "focus_group",
        "focusgroup",
        "sources.csv",
        4,
        "method",
        "is not one of",
    ),
    (
        "bad-respondent-group",
        "sources.csv",
        "police_operational",
        "police",
        "sources.csv",
        3,
        "respondent_group",
        "'police' is not one of",
    ),
    (
        "bad-date",
        "sources.csv",
        "2017-03-01",
        "01/03/2017",
        "sources.csv",
        3,
        "date",
        "not a date in YYYY-MM-DD form",
    ),
    (
        "missing-text-file",
        "sources.csv",
        "texts/S2.txt",
        "texts/S2-missing.txt",
        "sources.csv",
        3,
        "text_path",
        "text file 'texts/S2-missing.txt' not found",
    ),
    (
        "text-path-escape",
        "sources.csv",
        "texts/S2.txt",
        "../secret.txt",
        "sources.csv",
        3,
        "text_path",
        "must be a path inside the project folder",
    ),
    (
        "ragged-row",
        "segments.csv",
        "G3,S2,0,38,C1.obs_resources,-2,A",
        "G3,S2,0,38,-2,A",
        "segments.csv",
        4,
        None,
        "has 6 fields but the header has 7",
    ),
    (
        "response-out-of-range",
        "responses/community.csv",
        "R1,A,1.0,5,4",
        "R1,A,1.0,9,4",
        "responses/community.csv",
        2,
        "trust",
        "9 is outside 1..7 and not a missing code",
    ),
    (
        "response-not-int",
        "responses/community.csv",
        "R1,A,1.0,5,4",
        "R1,A,1.0,five,4",
        "responses/community.csv",
        2,
        "trust",
        "'five' is not a whole number",
    ),
    (
        "response-unknown-site",
        "responses/community.csv",
        "R3,B",
        "R3,C",
        "responses/community.csv",
        4,
        "site_id",
        "'C' is not a known site_id",
    ),
    (
        "negative-weight",
        "responses/community.csv",
        "R2,B,0.5",
        "R2,B,-0.5",
        "responses/community.csv",
        3,
        "weight",
        "weight -0.5 must be positive",
    ),
    (
        "missing-item-column",
        "responses/community.csv",
        "respondent_id,site_id,weight,trust,patrol_seen",
        "respondent_id,site_id,weight,trust,patrol",
        "responses/community.csv",
        1,
        "patrol_seen",
        "required column is missing",
    ),
    (
        "items-bad-boolean",
        "items.csv",
        "false,97;98,Trust",
        "maybe,97;98,Trust",
        "items.csv",
        2,
        "reverse",
        "'maybe' is not true/false",
    ),
    (
        "items-bad-criterion",
        "items.csv",
        "patrol_seen,C1",
        "patrol_seen,C7",
        "items.csv",
        3,
        "criterion",
        "'C7' is not one of",
    ),
    (
        "items-min-above-max",
        "items.csv",
        "patrol,0,4",
        "patrol,4,0",
        "items.csv",
        3,
        "scale_max",
        "scale_max 0 is not above scale_min 4",
    ),
    (
        "items-missing-code-overlap",
        "items.csv",
        "patrol,0,4,false,97;98",
        "patrol,0,4,false,3;98",
        "items.csv",
        3,
        "missing_codes",
        "overlap the valid answers",
    ),
    (
        "site-population-text",
        "sites.csv",
        "0202,2000",
        "0202,two thousand",
        "sites.csv",
        3,
        "population",
        "not a whole number",
    ),
]


@pytest.mark.parametrize(
    "edit_file, old, new, file, row, column, pattern",
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_malformed_input_is_reported_with_file_row_column(
    tiny_project, edit_file, old, new, file, row, column, pattern
):
    _edit(tiny_project / edit_file, old, new)
    problem = _problem(tiny_project, file, row, column)
    assert re.search(pattern, problem.message), problem.message
    # The raised exception lists the same problem, as "file row N, column 'x': message".
    with pytest.raises(ProjectValidationError) as info:
        load_project(tiny_project)
    text = str(info.value)
    assert f"{file} row {row}" in text
    if column is not None:
        assert f"column '{column}'" in text


def test_issue_example_message(tiny_project):
    """The message format promised in the foundation issue."""
    _edit(tiny_project / "segments.csv", "C2.meetings,2", "C2.meetings,3")
    with pytest.raises(
        ProjectValidationError,
        match=r"segments.csv row 5, column 'valence': 3 "
        r"is outside -2..2",
    ):
        load_project(tiny_project)


def test_all_problems_reported_at_once(tiny_project):
    _edit(tiny_project / "segments.csv", "C2.meetings,2", "C2.meetings,3")
    _edit(tiny_project / "sources.csv", "S3,B,", "S3,Z,")
    _edit(tiny_project / "sites.csv", "0202,2000", "0202,many")
    with pytest.raises(ProjectValidationError) as info:
        load_project(tiny_project)
    files = {p.file for p in info.value.errors}
    assert files == {"segments.csv", "sources.csv", "sites.csv"}


def test_latin1_file_gets_a_message_not_a_traceback(tiny_project):
    path = tiny_project / "sites.csv"
    path.write_bytes(
        path.read_text(encoding="utf-8").replace("Sitio B", "Totonicapán").encode("latin-1")
    )
    problem = _problem(tiny_project, "sites.csv", 3, None)
    assert "not valid UTF-8" in problem.message
    assert "Latin-1" in problem.message
    assert "Re-save the file as UTF-8" in problem.message


def test_latin1_text_file_is_reported(tiny_project):
    (tiny_project / "texts" / "S2.txt").write_bytes("No hay gasolina, señor.".encode("latin-1"))
    problems = [str(p) for p in validate_project(tiny_project) if p.severity == "error"]
    assert any(p.startswith("texts/S2.txt") and "Latin-1" in p for p in problems), problems


def test_bom_is_accepted_and_offsets_ignore_it(tiny_project):
    for name in ("sites.csv", "segments.csv"):
        path = tiny_project / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    text = tiny_project / "texts" / "S1.txt"
    text.write_bytes(b"\xef\xbb\xbf" + text.read_bytes())
    project = load_project(tiny_project)
    assert project.segment_text("G2") == "Los vecinos conocen al agente."
    assert project.site_ids == ["A", "B"]


def test_blank_lines_are_ignored_and_rows_still_count_lines(tiny_project):
    path = tiny_project / "segments.csv"
    _edit(path, "G2,S1", "\n\nG2,S1")
    assert len(load_project(tiny_project).segments) == 4
    _edit(path, "C2.meetings,2", "C2.meetings,7")
    # Two blank lines were inserted before G2, so G4 is now on spreadsheet row 7.
    assert _problem(tiny_project, "segments.csv", 7, "valence")


def test_empty_csv_file(tiny_project):
    (tiny_project / "segments.csv").write_bytes(b"")
    problem = _problem(tiny_project, "segments.csv", 1, None)
    assert "file is empty" in problem.message


def test_empty_text_file(tiny_project):
    (tiny_project / "texts" / "S3.txt").write_text("  \n", encoding="utf-8")
    problem = _problem(tiny_project, "sources.csv", 4, "text_path")
    assert "is empty" in problem.message


def test_missing_table_file(tiny_project):
    (tiny_project / "sources.csv").unlink()
    errors = [p for p in validate_project(tiny_project) if p.severity == "error"]
    assert any(p.file == "sources.csv" and "file not found" in p.message for p in errors)


def test_extra_column_is_a_warning_naming_it(tiny_project):
    path = tiny_project / "sources.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",interviewer"] + [line + ",x" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project = load_project(tiny_project)
    (warning,) = [w for w in project.warnings if w.column == "interviewer"]
    assert (warning.file, warning.row) == ("sources.csv", 1)
    assert "unknown column" in warning.message


def test_missing_valence_is_warned_not_guessed(tiny_project):
    _edit(tiny_project / "segments.csv", "C1.sector,1,A", "C1.sector,,A")
    project = load_project(tiny_project)
    assert project.segments.loc[project.segments.segment_id == "G2", "valence"].isna().all()
    assert "G2" not in set(project.evidence()["segment_id"])
    assert any(w.row == 3 and w.column == "valence" for w in project.warnings)


def test_obstacle_code_with_positive_valence_is_warned(tiny_project):
    _edit(tiny_project / "segments.csv", "C1.obs_resources,-2", "C1.obs_resources,1")
    project = load_project(tiny_project)
    assert any(w.row == 4 and "obstacle code" in w.message for w in project.warnings)


def test_consent_none_is_excluded_from_evidence(tiny_project):
    _edit(tiny_project / "sources.csv", "es,anonymous", "es,none")
    project = load_project(tiny_project)
    assert "S2" not in set(project.evidence()["source_id"])
    assert any(w.column == "consent" for w in project.warnings)


def test_ids_stay_strings(tiny_project):
    project = load_project(tiny_project)
    assert project.sites["municipality_code"].tolist() == ["0101", "0202"]


def test_input_files_are_byte_identical_after_loading(tiny_project):
    def digest():
        return {
            p.relative_to(tiny_project): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tiny_project.rglob("*"))
            if p.is_file()
        }

    before = digest()
    load_project(tiny_project)
    validate_project(tiny_project)
    assert digest() == before


def test_demo_files_are_byte_identical_after_loading(demo_copy):
    before = {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()}
    load_project(demo_copy)
    assert {p: p.read_bytes() for p in demo_copy.rglob("*") if p.is_file()} == before


def test_evidence_joins_source_attributes(tiny_project):
    ev = load_project(tiny_project).evidence()
    assert set(ev.columns) >= {"site_id", "stratum", "respondent_group", "criterion", "valence"}
    assert ev.set_index("segment_id").loc["G3", "stratum"] == "police"
    assert ev.set_index("segment_id").loc["G4", "criterion"] == "C2"


def test_primary_coder_from_metadata_and_default(tiny_project):
    seg = tiny_project / "segments.csv"
    with seg.open("a", encoding="utf-8") as fh:
        fh.write("G9,S1,0,39,C1.patrol,1,B\n")
    project = load_project(tiny_project)
    assert project.meta["primary_coder"] == "A"  # the coder with most segments
    assert "G9" not in set(project.evidence()["segment_id"])
    write_datapackage(tiny_project, {"primary_coder": "Z"})
    with pytest.raises(ProjectValidationError, match="primary_coder 'Z' has no segments"):
        load_project(tiny_project)


def test_write_project_refuses_to_overwrite(tiny_project):
    with pytest.raises(CopevalError, match="refusing to overwrite"):
        write_project(tiny_project, **tiny_tables())
    write_project(tiny_project, **tiny_tables(), overwrite=True)


def test_write_project_does_not_mutate_inputs(tmp_path):
    tables = tiny_tables()
    copies = {k: v.copy() for k, v in tables.items() if isinstance(v, pd.DataFrame)}
    write_project(tmp_path / "p", **tables)
    for k, v in copies.items():
        pd.testing.assert_frame_equal(tables[k], v)


def test_write_project_keeps_crlf_and_emoji_offsets(tmp_path):
    tables = tiny_tables()
    tables["texts"]["S1"] = "Patrulla 🚓 a pie.\r\nVecinos conocen al agente."
    tables["segments"].loc[0, ["start", "end"]] = [0, 17]
    tables["segments"].loc[1, ["start", "end"]] = [19, 45]
    project = load_project(write_project(tmp_path / "p", **tables))
    assert project.segment_text("G1") == "Patrulla 🚓 a pie."
    assert project.segment_text("G2") == "Vecinos conocen al agente."


def test_missing_project_folder(tmp_path):
    with pytest.raises(CopevalError, match="Project folder not found"):
        load_project(tmp_path / "nope")


def test_datapackage_is_valid_frictionless(tiny_project):
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(tiny_project / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_demo_datapackage_is_valid_frictionless(demo_path, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    copy = tmp_path / "demo"
    shutil.copytree(demo_path, copy)
    report = frictionless.validate(copy / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_demo_project_loads(demo_path):
    project = load_project(demo_path)
    assert set(project.site_ids) == {"VC", "TOT"}
    assert project.meta["synthetic"] is True
    per_site = project.sources.groupby("site_id")
    assert per_site.size().min() >= 12
    assert per_site["respondent_group"].nunique().min() >= 4
    assert {"observation"} <= set(project.sources["respondent_group"])
    assert project.segments["coder"].nunique() >= 2
    sizes = {k: v.groupby("site_id").size().min() for k, v in project.responses.items()}
    assert sizes["community"] >= 150 and sizes["police"] >= 30


def test_optional_columns_may_be_left_out(tiny_project):
    """Only required columns in items.csv and sites.csv: optional ones load as empty."""
    items = pd.read_csv(tiny_project / "items.csv", dtype=str, keep_default_na=False)
    items.drop(columns=["missing_codes", "scale"]).to_csv(tiny_project / "items.csv", index=False)
    responses = tiny_project / "responses" / "community.csv"
    responses.write_text(
        responses.read_text(encoding="utf-8").replace(",98,", ",3,").replace(",97\n", ",1\n"),
        encoding="utf-8",
    )
    sites = pd.read_csv(tiny_project / "sites.csv", dtype=str)
    sites[["site_id", "name", "department"]].to_csv(tiny_project / "sites.csv", index=False)
    project = load_project(tiny_project)
    assert project.items["missing_codes"].isna().all()
    assert project.sites["population"].isna().all()
