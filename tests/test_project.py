"""Loading and validating projects: every malformed input is reported with file, row, column."""

from __future__ import annotations

import hashlib
import json
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


# Issue 11, items 6 and 9: wrong numbers, dates, languages and characters that used to load.
CASES += [
    (
        "population-overflow",
        "sites.csv",
        "A,Sitio A,Dep 1,0101,1000",
        "A,Sitio A,Dep 1,0101,99999999999999999999999",
        "sites.csv",
        2,
        "population",
        "99999999999999999999999 is too large to store exactly",
    ),
    (
        "start-overflow",
        "segments.csv",
        "G2,S1,40,70",
        "G2,S1,1000000000000000000000000000000,70",
        "segments.csv",
        3,
        "start",
        "too large to store exactly",
    ),
    (
        "population-full-width",
        "sites.csv",
        "A,Sitio A,Dep 1,0101,1000",
        "A,Sitio A,Dep 1,0101,\uff11\uff10\uff10\uff10",
        "sites.csv",
        2,
        "population",
        "non-ASCII digits; write it as 1000",
    ),
    (
        "start-full-width",
        "segments.csv",
        "G2,S1,40,70",
        "G2,S1,\uff14\uff10,70",
        "segments.csv",
        3,
        "start",
        "non-ASCII digits; write it as 40",
    ),
    (
        "valence-full-width",
        "segments.csv",
        "C1.sector,1,A",
        "C1.sector,\uff12,A",
        "segments.csv",
        3,
        "valence",
        "non-ASCII digits; write it as 2",
    ),
    (
        "answer-arabic-indic",
        "responses/community.csv",
        "R1,A,1.0,5,4",
        "R1,A,1.0,\u0665,4",
        "responses/community.csv",
        2,
        "trust",
        "non-ASCII digits; write it as 5",
    ),
    (
        "homicide-rate-inf",
        "sites.csv",
        "site_id,name,department,municipality_code,population\nA,Sitio A,Dep 1,0101,1000",
        "site_id,name,department,municipality_code,population,homicide_rate\n"
        "A,Sitio A,Dep 1,0101,1000,inf",
        "sites.csv",
        2,
        "homicide_rate",
        "'inf' is not a finite number",
    ),
    (
        "weight-nan",
        "responses/community.csv",
        "R1,A,1.0,",
        "R1,A,nan,",
        "responses/community.csv",
        2,
        "weight",
        "'nan' is not a finite number",
    ),
    (
        "weight-inf",
        "responses/community.csv",
        "R1,A,1.0,",
        "R1,A,-Infinity,",
        "responses/community.csv",
        2,
        "weight",
        "not a finite number",
    ),
    (
        "weight-1e309",
        "responses/community.csv",
        "R1,A,1.0,",
        "R1,A,1e309,",
        "responses/community.csv",
        2,
        "weight",
        "'1e309' is not a finite number",
    ),
    (
        "weight-underscore",
        "responses/community.csv",
        "R1,A,1.0,",
        "R1,A,1_0,",
        "responses/community.csv",
        2,
        "weight",
        "'1_0' is not a number",
    ),
    (
        "date-compact",
        "sources.csv",
        "2017-02-01",
        "20170201",
        "sources.csv",
        2,
        "date",
        "'20170201' is not a date in YYYY-MM-DD form",
    ),
    (
        "date-iso-week",
        "sources.csv",
        "2017-02-01",
        "2017-W08-2",
        "sources.csv",
        2,
        "date",
        "'2017-W08-2' is not a date in YYYY-MM-DD form",
    ),
    (
        "language-region",
        "sources.csv",
        "2017-02-01,es,",
        "2017-02-01,es_GT,",
        "sources.csv",
        2,
        "language",
        "'es_GT' is not a language code",
    ),
    (
        "language-word",
        "sources.csv",
        "2017-02-01,es,",
        "2017-02-01,Español,",
        "sources.csv",
        2,
        "language",
        "is not a language code",
    ),
    (
        "site-name-nul",
        "sites.csv",
        "A,Sitio A,",
        "A,Sitio\x00A,",
        "sites.csv",
        2,
        "name",
        "control character U\\+0000",
    ),
    (
        "site-name-newline",
        "sites.csv",
        "A,Sitio A,",
        'A,"Sitio\nA",',
        "sites.csv",
        2,
        "name",
        "control character U\\+000A",
    ),
    (
        "site-name-bidi-override",
        "sites.csv",
        "A,Sitio A,",
        "A,Sitio \u202eA,",
        "sites.csv",
        2,
        "name",
        "control character U\\+202E",
    ),
    (
        "instrument-traversal",
        "items.csv",
        "community,trust",
        "../../../outside_evil,trust",
        "items.csv",
        2,
        "instrument",
        "instrument '../../../outside_evil' is not a safe file name",
    ),
    (
        "instrument-subfolder",
        "items.csv",
        "community,trust",
        "sub/evil,trust",
        "items.csv",
        2,
        "instrument",
        "is not a safe file name",
    ),
    (
        "text-path-control-character",
        "sources.csv",
        "texts/S1.txt",
        "texts/S1\x01.txt",
        "sources.csv",
        2,
        "text_path",
        "control character",
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


# --------------------------------------------------------------------------- hostile input
def test_refused_valence_is_not_also_warned_as_unrated(tiny_project):
    _edit(tiny_project / "segments.csv", "C1.sector,1,A", "C1.sector,\uff12,A")
    problems = [p for p in validate_project(tiny_project) if p.column == "valence"]
    assert [(p.severity, p.row) for p in problems] == [("error", 3)]


def test_instrument_outside_the_project_is_never_read(tiny_project):
    """Issue 11 item 2: `validate` loaded ../../../outside_evil.csv as survey responses."""
    outside = tiny_project.parent / "outside_evil.csv"
    shutil.copy(tiny_project / "responses" / "community.csv", outside)
    items = (tiny_project / "items.csv").read_text(encoding="utf-8")
    (tiny_project / "items.csv").write_text(
        items.replace("community,", "../outside_evil,"), encoding="utf-8"
    )
    (tiny_project / "responses" / "community.csv").unlink()
    problems = validate_project(tiny_project)
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.file, p.row, p.column, p.value) for p in errors] == [
        ("items.csv", 2, "instrument", "../outside_evil")
    ]
    assert "responses/<instrument>.csv" in errors[0].message


def test_instrument_symlink_out_of_responses_is_refused(tiny_project):
    outside = tiny_project.parent / "elsewhere.csv"
    shutil.move(tiny_project / "responses" / "community.csv", outside)
    (tiny_project / "responses" / "community.csv").symlink_to(outside)
    error = _problem(tiny_project, "items.csv", 2, "instrument")
    assert "not a safe file name" in error.message


def test_free_text_keeps_line_breaks_but_not_nul(tiny_project):
    sites = tiny_project / "sites.csv"
    text = sites.read_text(encoding="utf-8").splitlines()
    text[0] += ",notes"
    text[1] += ',"line one\nline two"'
    text[2] += ",bad\x00note"
    sites.write_text("\n".join(text) + "\n", encoding="utf-8")
    errors = [p for p in validate_project(tiny_project) if p.severity == "error"]
    assert [(p.file, p.row, p.column) for p in errors] == [
        ("sites.csv", 4, "notes")
    ]  # row 2 spans two lines
    assert "U+0000" in errors[0].message


@pytest.mark.parametrize(
    ("key", "value", "pattern"),
    [
        ("primary_coder", ["A", "B"], "'primary_coder' must be a text .*got a JSON list"),
        ("reference_site", {"site": "A"}, "'reference_site' must be a text .*JSON object"),
        ("title", 12, "'title' must be a text .*JSON number"),
        ("period", "2017\u0000", "'period' contains a control character"),
    ],
)
def test_metadata_of_the_wrong_type_is_one_problem(tiny_project, key, value, pattern):
    path = tiny_project / "datapackage.json"
    desc = json.loads(path.read_text(encoding="utf-8"))
    desc["copeval"][key] = value
    path.write_text(json.dumps(desc), encoding="utf-8")
    errors = [p for p in validate_project(tiny_project) if p.severity == "error"]
    assert [(p.file, p.column) for p in errors] == [("datapackage.json", key)]
    assert re.search(pattern, errors[0].message), errors[0].message


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"copeval": {"title": "x"}, "n": ' + "9" * 5000 + "}", "cannot be read"),
    ],
    ids=["deep", "huge-number"],
)
def test_hostile_datapackage_is_one_line_not_a_traceback(tiny_project, capsys, content, pattern):
    from copeval.cli import main

    (tiny_project / "datapackage.json").write_text(content, encoding="utf-8")
    (error,) = [p for p in validate_project(tiny_project) if p.severity == "error"]
    assert error.file == "datapackage.json" and re.search(pattern, error.message)
    assert main(["validate", str(tiny_project)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and pattern.split()[0] in err


# --------------------------------------------------------------------------- CRLF / fingerprints
def test_write_project_stores_a_fingerprint_per_text(tiny_project):
    from copeval.project import text_fingerprint

    src = pd.read_csv(tiny_project / "sources.csv", dtype=str, keep_default_na=False)
    for sid, chars, sha in zip(
        src["source_id"], src["text_chars"], src["text_sha256"], strict=True
    ):
        text = (tiny_project / "texts" / f"{sid}.txt").read_text(encoding="utf-8")
        assert (int(chars), sha) == text_fingerprint(text)
        assert sha == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert load_project(tiny_project).sources["text_chars"].tolist() == [70, 38, 43]


def test_text_converted_to_crlf_is_detected_by_its_fingerprint(tiny_project, capsys):
    from copeval.cli import main

    path = tiny_project / "texts" / "S1.txt"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    error = _problem(tiny_project, "sources.csv", 2, "text_sha256")
    assert "now has Windows line endings (CRLF) but was coded with Unix line endings" in (
        error.message
    )
    assert "dos2unix texts/S1.txt" in error.message and "re-import" in error.message
    assert main(["validate", str(tiny_project)]) == 1
    assert "dos2unix" in capsys.readouterr().err


def test_text_converted_to_lf_is_detected_by_its_fingerprint(tmp_path):
    tables = tiny_tables()
    tables["texts"]["S1"] = tables["texts"]["S1"].replace("\n", "\r\n")
    tables["segments"].loc[1, ["start", "end"]] = [41, 71]
    root = write_project(tmp_path / "crlf", **tables)
    assert not [p for p in validate_project(root) if p.severity == "error"]  # coded on CRLF
    path = root / "texts" / "S1.txt"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    error = _problem(root, "sources.csv", 2, "text_sha256")
    assert "now has Unix line endings (LF) but was coded with Windows" in error.message
    assert "unix2dos" in error.message


def test_edited_text_is_an_error_when_its_length_changed_a_warning_otherwise(tiny_project):
    path = tiny_project / "texts" / "S2.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("combustible", "gasolina"), encoding="utf-8")
    error = _problem(tiny_project, "sources.csv", 3, "text_sha256")
    assert "changed since it was coded (35 characters now, 38 characters" in error.message
    path.write_text(text.replace("combustible", "combustibl3"), encoding="utf-8")
    project = load_project(tiny_project)
    (warning,) = [w for w in project.warnings if w.column == "text_sha256"]
    assert warning.row == 3 and "changed since it was coded" in warning.message


def test_crlf_conversion_without_fingerprint_is_detected_by_the_heuristic(demo_copy):
    """Issue 11 item 8: VC-I01 converted to CRLF silently shifted all its 20 segments."""
    path = demo_copy / "texts" / "VC-I01.txt"
    assert load_project(demo_copy)  # no fingerprint column in the demo
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    error = _problem(demo_copy, "sources.csv", 2, "text_path")
    assert "has Windows line endings (CRLF) but its segments fit the text with Unix" in (
        error.message
    )
    assert "dos2unix texts/VC-I01.txt" in error.message


def test_crlf_heuristic_is_quiet_on_texts_coded_with_crlf(tmp_path):
    text = "Primera línea del texto.\r\nSegunda línea, la policía.\r\nTercera: patrulla a pie.\r\n"
    spans = [(0, 24), (26, 52), (54, 78), (35, 52)]
    tables = tiny_tables()
    tables["texts"]["S1"] = text
    seg = tables["segments"]
    seg = pd.concat(
        [seg[seg["source_id"] != "S1"]]
        + [
            pd.DataFrame(
                {
                    "segment_id": [f"H{i}"],
                    "source_id": ["S1"],
                    "start": [s],
                    "end": [e],
                    "code": ["C1.patrol"],
                    "valence": [1],
                    "coder": ["A"],
                }
            )
            for i, (s, e) in enumerate(spans)
        ],
        ignore_index=True,
    )
    tables["segments"] = seg
    root = write_project(tmp_path / "crlf", **tables)
    src = pd.read_csv(root / "sources.csv", dtype=str, keep_default_na=False)
    src.drop(columns=["text_chars", "text_sha256"]).to_csv(root / "sources.csv", index=False)
    assert [text[s:e] for s, e in spans][:3] == [
        "Primera línea del texto.",
        "Segunda línea, la policía.",
        "Tercera: patrulla a pie.",
    ]
    assert not [p for p in validate_project(root) if p.severity == "error"]


@pytest.mark.parametrize("tag", ["es-GT", "ES", "quc", "en-Latn-US"])
def test_language_tags_other_tools_write_are_accepted(tmp_path, tag):
    # BCP 47 tags with a region or in upper case are valid language codes (review finding)
    from conftest import tiny_tables

    from copeval.project import load_project, write_project

    tables = tiny_tables()
    tables["sources"] = tables["sources"].assign(language=tag)
    root = write_project(tmp_path / "p", **tables, meta={"title": "T", "synthetic": True})
    assert (load_project(root).sources["language"] == tag).all()


def test_a_lone_surrogate_in_the_descriptor_is_one_problem_not_a_crash_later(tmp_path):
    # "\ud800" in a JSON string decodes to a lone surrogate: validate passed it and every report
    # then failed with UnicodeEncodeError (adversarial review)
    import json

    from conftest import tiny_tables

    from copeval.project import validate_project, write_project

    root = write_project(tmp_path / "p", **tiny_tables(), meta={"title": "T", "synthetic": True})
    desc = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    text = json.dumps(desc).replace('"T"', '"T\\ud800"', 1)
    (root / "datapackage.json").write_text(text, encoding="utf-8")
    problems = [p for p in validate_project(root) if p.severity == "error"]
    assert any("surrogate" in p.message for p in problems)


def test_an_id_a_spreadsheet_would_run_as_a_formula_is_warned(tmp_path):
    """IDs become cells of every CSV people open: '=HYPERLINK(...)' or '@SUM(1)' as a site
    ID is valid data but a warning, naming file, row and column."""
    import shutil
    from pathlib import Path

    from copeval.project import load_project

    root = tmp_path / "p"
    shutil.copytree(Path(__file__).parents[1] / "data" / "demo", root)
    import pandas as pd

    sites = pd.read_csv(root / "sites.csv", dtype=str, keep_default_na=False)
    extra = sites.iloc[0].to_dict() | {"site_id": "=HYPERLINK(1)", "name": "X"}
    pd.concat([sites, pd.DataFrame([extra])]).to_csv(root / "sites.csv", index=False)
    project = load_project(root)  # warnings only: the project loads
    warned = [w for w in project.warnings if "formula" in w.message]
    assert [(w.file, w.column, w.row) for w in warned] == [("sites.csv", "site_id", 4)]
