"""Code names resolved one way everywhere (REFI names with ' :: ', Taguette 'Parent/child'
tags in highlights, codebooks and .qdc checks), project-declared respondent groups, XLSX
formula cells, and REFI archives with two project files."""

from __future__ import annotations

import json
import shutil
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from copeval.cli import main
from copeval.errors import ImportFormatError, UnsafeInputError
from copeval.interop import (
    import_kobo,
    import_refi,
    import_taguette,
    read_mapping,
    read_taguette_codebook,
    write_import,
)
from copeval.interop.mapping import tag_path
from copeval.project import load_project, validate_project
from copeval.vocabulary import group_label, parse_respondent_groups

DATA = Path(__file__).resolve().parent / "data" / "interop"
NS = 'xmlns="urn:QDA-XML:project:1.0"'


def make_qdpx(
    path: Path,
    codes_xml: str,
    text: str,
    selections: list,
    *,
    notes: str = "",
    extra_members: dict | None = None,
) -> Path:
    """A small REFI-QDA project: one text source with coded selections.

    ``selections``: (start, end, code guid) in code points (origin QualCoder).
    """
    sels = "".join(
        f'<PlainTextSelection guid="00000000-0000-0000-0001-{k:012d}" startPosition="{s}" '
        f'endPosition="{e}"><Coding guid="00000000-0000-0000-0002-{k:012d}"><CodeRef '
        f'targetGUID="{g}"/></Coding></PlainTextSelection>'
        for k, (s, e, g) in enumerate(selections)
    )
    variables = (
        '<Variables><Variable guid="00000000-0000-0000-0003-000000000001" name="notes" '
        'typeOfVariable="Text"/></Variables>'
        if notes
        else ""
    )
    values = (
        '<VariableValue><VariableRef targetGUID="00000000-0000-0000-0003-000000000001"/>'
        f"<TextValue>{notes}</TextValue></VariableValue>"
        if notes
        else ""
    )
    qde = (
        f'<?xml version="1.0" encoding="utf-8"?><Project {NS} name="t" origin="QualCoder 3.5">'
        f"<CodeBook><Codes>{codes_xml}</Codes></CodeBook>{variables}<Sources>"
        '<TextSource guid="00000000-0000-0000-0000-00000000aaaa" name="entrevista" '
        f'plainTextPath="internal://aaaa.txt">{sels}{values}</TextSource></Sources></Project>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/aaaa.txt", text)
        for name, data in (extra_members or {}).items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zipfile warns about duplicate names
                z.writestr(name, data)
    return path


TEXT = "La policía se reúne con el comité cada mes. Patrullan a pie por la plaza."
G = "00000000-0000-0000-0000-0000000000{:02d}".format
META = pd.DataFrame({"source": ["entrevista"], "site_id": ["VC"], "respondent_group": ["expert"]})


# --------------------------------------------------------------------------- REFI ' :: '
def _colon_project(tmp_path, twice=False):
    inner = f'<Code guid="{G(2)}" name="Relacion con la comunidad :: practica" isCodable="true"/>'
    codes = f'<Code guid="{G(1)}" name="Comunidad" isCodable="true">{inner}</Code>'
    sels = [(0, 43, G(2))]
    if twice:
        codes += (
            f'<Code guid="{G(3)}" name="Otro" isCodable="true"><Code guid="{G(4)}" '
            'name="Relacion con la comunidad :: practica" isCodable="true"/></Code>'
        )
        sels.append((44, 73, G(4)))
    return make_qdpx(tmp_path / "c.qdpx", codes, TEXT, sels)


def test_a_name_printed_as_unmapped_maps_when_copied_into_the_mapping(tmp_path):
    path = _colon_project(tmp_path)
    r = import_refi(path, sources_meta=META)
    printed = r.report.unmapped["external_name"].tolist()
    assert printed == ["Comunidad/Relacion con la comunidad :: practica"]
    assert printed[0] in r.report.to_text()
    mapping = pd.DataFrame({"external_name": printed, "code": ["C2.meetings"]})
    r = import_refi(path, sources_meta=META, mapping=mapping)
    assert r.segments["code"].tolist() == ["C2.meetings"] and r.report.unmapped.empty


def test_leaf_names_map_only_when_unambiguous(tmp_path):
    leaf = pd.DataFrame(
        {"external_name": ["Relacion con la comunidad :: practica"], "code": ["C2.meetings"]}
    )
    one = import_refi(_colon_project(tmp_path), sources_meta=META, mapping=leaf)
    assert one.segments["code"].tolist() == ["C2.meetings"]
    two = import_refi(_colon_project(tmp_path, twice=True), sources_meta=META, mapping=leaf)
    assert two.segments.empty
    assert sorted(two.report.unmapped["external_name"]) == [
        "Comunidad/Relacion con la comunidad :: practica",
        "Otro/Relacion con la comunidad :: practica",
    ]


def test_atlas_flat_group_names_still_map_through_their_parent():
    m = read_mapping(pd.DataFrame({"external_name": ["Patrullaje"], "code": ["C1.patrol"]}))
    assert m.resolve(("Patrullaje::a pie",)) == ("C1.patrol", "parent")
    assert m.resolve(("C2::meetings",)) == ("C2.meetings", "codebook")


# --------------------------------------------------------------------------- Taguette names
def test_tag_path_is_one_rule():
    assert tag_path("Patrullaje/a pie") == ("Patrullaje", "a pie")
    assert tag_path("Patrullaje.a pie") == ("Patrullaje", "a pie")
    assert tag_path("Valence.+2") == ("Valence", "+2")
    assert tag_path("Grupo::código") == ("Grupo::código",)


def _slash_highlights(tmp_path):
    hl = pd.read_csv(DATA / "taguette_highlights.csv", dtype=str)
    hl["tag"] = hl["tag"].str.replace("Patrullaje.a pie", "Patrullaje/a pie", regex=False)
    hl.loc[hl["tag"] == "interesting", "tag"] = "Patrullaje/nocturno"
    path = tmp_path / "hl.csv"
    hl.to_csv(path, index=False)
    return path


def test_taguette_parent_child_tags_map_like_the_codebook_check(tmp_path, capsys):
    hl = _slash_highlights(tmp_path)
    r = import_taguette(
        hl,
        texts=DATA / "taguette_texts",
        mapping=DATA / "taguette_mapping.csv",
        sources_meta=DATA / "taguette_meta.csv",
    )
    patrol = r.report.mapped.set_index("external_name")
    assert patrol.loc["Patrullaje/a pie", "code"] == "C1.patrol"
    assert r.report.unmapped.empty
    # the same tags as Taguette's own .qdc (flat names): the check agrees
    qdc = tmp_path / "tags.qdc"
    names = sorted(set(pd.read_csv(hl, dtype=str)["tag"]))
    qdc.write_text(
        '<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" '
        'origin="Taguette 1.4.1"><Codes>'
        + "".join(
            f'<Code guid="00000000-0000-0000-0000-{k:012d}" name="{n}" isCodable="true"/>'
            for k, n in enumerate(names)
        )
        + "</Codes><Sets/></CodeBook>",
        encoding="utf-8",
    )
    out_map = tmp_path / "m.csv"
    args = ["import", str(qdc), "--mapping", str(DATA / "taguette_mapping.csv")]
    assert main([*args, "--write-mapping", str(out_map)]) == 0
    out = capsys.readouterr().out
    assert "Patrullaje/a pie" in out and "do not map" in out
    written = pd.read_csv(out_map, dtype=str, keep_default_na=False).set_index("external_name")
    assert written.loc["Patrullaje/a pie", "code"] == "C1.patrol"
    assert written.loc["Patrullaje/nocturno", "code"] == "C1.patrol"


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_taguette_codebook_builds_a_mapping(tmp_path, capsys, ext):
    tags = ["Patrullaje", "Patrullaje/a pie", "C2.meetings"]
    if ext == "csv":
        tags.append("=cmd|' /C calc'!A0")  # a tag a spreadsheet would run
    book = pd.DataFrame(
        {
            "tag": tags,
            "parent": ["", "Patrullaje", "", ""][: len(tags)],
            "description": [""] * len(tags),
            "number of highlights": [0, 3, 1, 0][: len(tags)],
        }
    )
    path = tmp_path / f"codebook.{ext}"
    if ext == "csv":
        book.to_csv(path, index=False)
    else:
        with pd.ExcelWriter(path) as xl:
            book.to_excel(xl, sheet_name="codebook", index=False)
    from copeval.cli.import_ import _detect

    assert _detect(path) == "taguette-codebook"
    assert read_taguette_codebook(path)["parts"].tolist()[1] == ("Patrullaje", "a pie")
    template = tmp_path / "map.csv"
    assert main(["import", str(path), "--write-mapping", str(template)]) == 0
    captured = capsys.readouterr()
    assert f"{len(tags)} codes; 1 map to the codebook" in captured.out
    table = pd.read_csv(template, dtype=str, keep_default_na=False)
    if ext == "csv":
        assert "leading apostrophe" in captured.err
        assert "'=cmd|' /C calc'!A0" in table["external_name"].tolist()
    # the user fills in the parent and deletes the rows left empty: the child maps through it
    table.loc[table["external_name"] == "Patrullaje", "code"] = "C1.patrol"
    m = read_mapping(table[table["code"] != ""])
    assert m.resolve(tag_path("Patrullaje/a pie")) == ("C1.patrol", "parent")


# --------------------------------------------------------------------------- groups
GROUPS = [
    {
        "id": "traditional_authority",
        "stratum": "authorities",
        "labels": {"es": "Autoridad tradicional", "en": "Traditional authority"},
    }
]


def test_parse_respondent_groups():
    groups, problems = parse_respondent_groups(GROUPS)
    assert problems == [] and groups["traditional_authority"][0] == "authorities"
    assert "community_member" in groups  # the default list stays
    assert group_label("traditional_authority", "es", groups) == "Autoridad tradicional"
    assert group_label("traditional_authority", "en", GROUPS) == "Traditional authority"
    assert group_label("expert", "es") == "Persona experta"
    bad = [
        {"id": "Bad Id", "stratum": "police", "labels": {"es": "x", "en": "y"}},
        {"id": "ok_id", "stratum": "nowhere", "labels": {"es": "x", "en": "y"}},
        {"id": "no_labels", "stratum": "field", "labels": {"es": "x"}},
        {"id": "expert", "stratum": "police", "labels": {"es": "x", "en": "y"}},
    ]
    groups, problems = parse_respondent_groups(bad)
    assert len(problems) == 4 and "ok_id" not in groups
    assert groups["expert"][0] == "authorities"


def test_a_project_declares_its_own_respondent_group(tmp_path, capsys):
    path = make_qdpx(
        tmp_path / "a.qdpx", f'<Code guid="{G(1)}" name="C2.meetings"/>', TEXT, [(0, 43, G(1))]
    )
    meta = tmp_path / "meta.csv"
    pd.DataFrame(
        {
            "source": ["entrevista"],
            "site_id": ["TOT"],
            "respondent_group": ["traditional_authority"],
        }
    ).to_csv(meta, index=False)
    target = tmp_path / "p"
    args = ["import", str(path), "--into", str(target), "--sources-meta", str(meta)]
    assert main(args) == 1  # the default list has no such group
    err = capsys.readouterr().err
    assert "traditional_authority" in err and "declares its own groups" in err
    # declare it, then the same import works and the group counts in its stratum
    write_import(import_refi(path, sources_meta=META), target)
    desc = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
    desc["copeval"]["respondent_groups"] = GROUPS
    (target / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    path2 = tmp_path / "b.qdpx"
    shutil.copy(path, path2)
    meta2 = tmp_path / "meta2.csv"
    pd.DataFrame(
        {
            "source": ["entrevista"],
            "site_id": ["TOT"],
            "respondent_group": ["traditional_authority"],
            "source_id": ["TOT-A01"],
        }
    ).to_csv(meta2, index=False)
    assert main(["import", str(path2), "--into", str(target), "--sources-meta", str(meta2)]) == 0
    project = load_project(target)
    row = project.sources.set_index("source_id").loc["TOT-A01"]
    assert (row["respondent_group"], row["stratum"]) == ("traditional_authority", "authorities")
    # a later import keeps the declaration; describe too
    assert main(["describe", str(target)]) == 0
    again = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
    assert again["copeval"]["respondent_groups"] == GROUPS
    enum = next(r for r in again["resources"] if r["name"] == "sources")["schema"]["fields"]
    assert (
        "traditional_authority"
        in next(f for f in enum if f["name"] == "respondent_group")["constraints"]["enum"]
    )


def test_a_wrong_declaration_is_a_validation_problem(tmp_path):
    target = tmp_path / "p"
    write_import(
        import_refi(
            make_qdpx(
                tmp_path / "a.qdpx",
                f'<Code guid="{G(1)}" name="C2.meetings"/>',
                TEXT,
                [(0, 43, G(1))],
            ),
            sources_meta=META,
        ),
        target,
    )
    desc = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
    desc["copeval"]["respondent_groups"] = [{"id": "x", "stratum": "nowhere", "labels": {}}]
    (target / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    problems = [p for p in validate_project(target) if p.severity == "error"]
    assert len(problems) == 1 and problems[0].column == "respondent_groups"
    assert "stratum 'nowhere'" in problems[0].message


# --------------------------------------------------------------------------- XLSX, zip
def test_xlsx_formula_cells_without_a_saved_value_are_named(tmp_path):
    import openpyxl

    src = pd.read_csv(DATA / "kobo_community.csv", dtype=str, keep_default_na=False, sep=";")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(src.columns))
    for row in src.itertuples(index=False):
        ws.append(list(row))
    col = list(src.columns).index("grp_conf/trust_police") + 1
    ws.cell(row=3, column=col, value="=1+1")  # openpyxl saves no cached value
    path = tmp_path / "formulas.xlsx"
    wb.save(path)
    r = import_kobo(
        path,
        items=DATA / "kobo_items.csv",
        site_column="site",
        site_values={"villa_canales": "VC", "totonicapan": "TOT"},
    )
    letter = openpyxl.utils.get_column_letter(col)
    warning = next(w for w in r.report.warnings if "formula" in w)
    assert f"{letter}3" in warning and "1 cell(s)" in warning


def test_a_qdpx_with_two_project_files_is_refused(tmp_path):
    path = make_qdpx(
        tmp_path / "two.qdpx",
        f'<Code guid="{G(1)}" name="C2.meetings"/>',
        TEXT,
        [(0, 43, G(1))],
        extra_members={"project.qde": f'<Project {NS} name="other"/>'},
    )
    with zipfile.ZipFile(path) as z:
        assert [i.filename for i in z.infolist()].count("project.qde") == 2
    with pytest.raises(UnsafeInputError, match=r"'project\.qde' appears more than once"):
        import_refi(path, sources_meta=META)


def test_two_differently_named_project_files_are_refused(tmp_path):
    path = make_qdpx(
        tmp_path / "two.qdpx",
        f'<Code guid="{G(1)}" name="C2.meetings"/>',
        TEXT,
        [(0, 43, G(1))],
        extra_members={"other.qde": f"<Project {NS}/>"},
    )
    with pytest.raises(ImportFormatError, match="several project files"):
        import_refi(path, sources_meta=META)
