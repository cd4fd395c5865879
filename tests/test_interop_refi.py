"""REFI-QDA import and export: generated fixtures (NVivo UTF-16, Cases + Variables, ATLAS.ti
CRLF), the real exports in ../shared/fixtures/refi-qda, schema validity and round trips."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from copeval.errors import ImportFormatError
from copeval.interop import (
    codebook_xml,
    export_qdc,
    export_qdpx,
    import_refi,
    read_mapping,
    read_qda,
    read_qdc,
    read_sources_meta,
    schema_path,
    write_import,
)
from copeval.interop.mapping import parse_valence
from copeval.project import load_project, write_project

DATA = Path(__file__).resolve().parent / "data" / "interop"
REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "refi-qda"
SEG = ["segment_id", "source_id", "start", "end", "code", "valence", "coder"]


def _texts(result):
    """(code, valence, coder, text) of every segment, sorted."""
    return sorted(
        (
            (
                r.code,
                None if pd.isna(r.valence) else int(r.valence),
                r.coder,
                result.texts[r.source_id][r.start : r.end],
            )
            for r in result.segments.itertuples(index=False)
        ),
        key=str,
    )


@pytest.fixture(scope="module")
def xsd():
    xmlschema = pytest.importorskip("xmlschema")
    return {
        "project": xmlschema.XMLSchema(str(schema_path("Project.xsd"))),
        "codebook": xmlschema.XMLSchema(str(schema_path("Codebook.xsd"))),
    }


# --------------------------------------------------------------------------- NVivo UTF-16
@pytest.fixture(scope="module")
def nvivo():
    return import_refi(
        DATA / "nvivo_utf16.qdpx",
        mapping=DATA / "nvivo_mapping.csv",
        sources_meta=DATA / "nvivo_meta.csv",
    )


def test_nvivo_offsets_detected_as_utf16(nvivo):
    rep = nvivo.report
    assert (rep.offsets, rep.offsets_reason) == ("utf16", "evidence")
    scores = rep.offset_scores.set_index("convention")
    assert scores.loc["utf16", "mid_word"] == 0 and scores.loc["codepoints", "mid_word"] > 0
    assert rep.mid_word.empty


def test_nvivo_segments_codes_valences(nvivo):
    assert _texts(nvivo) == sorted(
        [
            ("C2", 2, "EV1", "Los agentes vienen a las reuniones del comité cada mes"),
            ("C2.meetings", 2, "EV1", "Los agentes vienen a las reuniones del comité cada mes"),
            (
                "C1.patrol",
                1,
                "EV1",
                "Patrullan a pie por el mercado los sábados 😀, eso da confianza",
            ),
            ("C1.obs_resources", -2, "EV1", "no hay combustible para las patrullas"),
            ("C1.obs_resources", -1, "EV2", "no hay combustible para las patrullas"),
            ("C1.sector", 2, "EV1", "Trabajamos por sectores: a cada agente le toca su aldea 🏘️"),
            ("C1.sector", None, "EV1", "llenamos el plan de trabajo"),
        ],
        key=str,
    )
    assert nvivo.segments["segment_id"].is_unique
    assert nvivo.segments["segment_id"].str.match(r"^VC-(C01|P02)-S\d{3}$").all()


def test_nvivo_unmapped_codes_are_listed_not_dropped(nvivo):
    unmapped = nvivo.report.unmapped
    assert unmapped.to_dict("records") == [
        {"external_name": "Otros temas", "codings": 1, "sources": 1}
    ]
    how = dict(zip(nvivo.report.mapped["external_name"], nvivo.report.mapped["how"], strict=True))
    assert how == {
        "Comunidad/Reuniones con el comité": "mapping",
        "Comunidad/Relación": "mapping",
        "Patrullaje/A pie": "parent",
        "C1.obs_resources": "codebook",
        "Sectores": "mapping",
    }
    assert "UNMAPPED codes: 1" in nvivo.report.to_text()


def test_nvivo_metadata_from_side_table_and_defaults(nvivo):
    src = nvivo.sources.set_index("source_id")
    assert src.loc["VC-C01", ["site_id", "respondent_group", "date", "consent"]].tolist() == [
        "VC",
        "community_member",
        "2017-03-02",
        "quote",
    ]
    assert src.loc["VC-P02", ["method", "consent", "language"]].tolist() == [
        "interview",
        "anonymous",
        "es",
    ]
    warnings = " ".join(nvivo.report.warnings)
    assert "set to 'anonymous'" in warnings and "VC-P02" in warnings
    assert nvivo.texts["VC-C01"].count("\r\n") == 4


def test_forcing_the_wrong_convention_reports_mid_word_selections():
    r = import_refi(
        DATA / "nvivo_utf16.qdpx",
        mapping=DATA / "nvivo_mapping.csv",
        sources_meta=DATA / "nvivo_meta.csv",
        offsets="codepoints",
    )
    assert (r.report.offsets, r.report.offsets_reason) == ("codepoints", "forced")
    assert len(r.report.mid_word) > 0
    assert set(r.report.mid_word.columns) == {
        "source_id",
        "selection",
        "boundary",
        "position",
        "context",
    }
    assert "|" in r.report.mid_word["context"].iloc[0]
    assert "inside a word" in r.report.to_text()


def test_invalid_offsets_argument():
    with pytest.raises(ImportFormatError, match="offsets must be 'auto' or one of"):
        import_refi(DATA / "nvivo_utf16.qdpx", offsets="bytes")


# --------------------------------------------------------------------------- cases + variables
@pytest.fixture(scope="module")
def cases():
    return import_refi(DATA / "cases_variables.qdpx")


def test_cases_and_variables_give_site_and_group(cases):
    src = cases.sources.set_index("source_id")
    assert src.loc["P1_grupo_focal", ["site_id", "respondent_group", "method"]].tolist() == [
        "TOT",
        "community_leader",
        "focus_group",
    ]
    # the source's own variable wins over its case; first case wins over a second one
    assert src.loc["P2_entrevista", ["site_id", "respondent_group", "date"]].tolist() == [
        "TOT",
        "community_member",
        "2017-05-10",
    ]
    assert any("cases disagree on site_id" in w for w in cases.report.warnings)


def test_cases_fixture_text_sources(cases):
    assert cases.texts["P1_grupo_focal"].startswith("Las reuniones con el COCODE")
    assert cases.texts["D1_acta"] == (
        "Acta de la junta local de seguridad.\nSe acordó patrullar la plaza los domingos."
    )
    assert any(
        "'D1 acta.docx': no plain-text file, text taken from its DOCX" in w
        for w in cases.report.warnings
    )
    assert _texts(cases) == [
        ("AT.trust", 1, "CA", "La gente ahora confía más en la policía"),
        ("C2.meetings", 2, "CA", "Las reuniones con el COCODE"),
    ]
    assert cases.report.offsets == "codepoints"


def test_missing_site_and_group_is_one_clear_error(tmp_path):
    with pytest.raises(ImportFormatError) as err:
        import_refi(DATA / "nvivo_utf16.qdpx", mapping=DATA / "nvivo_mapping.csv")
    msg = str(err.value)
    assert "2 source(s) lack the site or respondent group" in msg
    assert "'Entrevista comunitaria 01' (no site_id and no respondent_group)" in msg
    assert "--sources-meta" in msg and "--meta-template" in msg


# --------------------------------------------------------------------------- ATLAS.ti bare qde
def test_atlas_bare_qde_crlf_counted_once():
    r = import_refi(DATA / "atlas_crlf1" / "project.qde")
    assert (r.report.offsets, r.report.offsets_reason) == ("crlf1", "evidence")
    assert _texts(r) == [
        ("C3.targeted", 2, "FO", "se asignan patrullas al sector con más robos"),
        ("C4.local_analysis", 1, "FO", "revisa el mapa de incidentes con los datos de la semana"),
    ]
    src = r.sources.iloc[0]
    assert (src.site_id, src.respondent_group, src.method) == ("TOT", "observation", "observation")


# --------------------------------------------------------------------------- mapping, meta
def test_parse_valence_forms():
    assert parse_valence(("Valence", "+2")) == 2
    assert parse_valence(("Valence", "\u22122")) == -2
    assert parse_valence(("valence", "0")) == 0
    assert parse_valence(("Valence::-1",)) == -1
    assert parse_valence(("Valence.+1",)) == 1
    assert parse_valence(("Valence", "+3")) is None
    assert parse_valence(("Other", "Valence", "+2")) is None
    assert parse_valence(("C2", "meetings")) is None


def test_mapping_resolution_rules():
    m = read_mapping(
        pd.DataFrame({"external_name": ["Reuniones", "Ruido"], "code": ["C2.meetings", ""]})
    )
    assert m.resolve(("C2", "meetings")) == ("C2.meetings", "codebook")
    assert m.resolve(("c3::targeted",)) == ("C3.targeted", "codebook")
    assert m.resolve(("Tema", "reuniones")) == ("C2.meetings", "mapping")
    assert m.resolve(("Reuniones", "mensuales")) == ("C2.meetings", "parent")
    assert m.resolve(("Ruido",)) == (None, "ignored")
    assert m.resolve(("Ruido", "hijo")) == (None, "ignored")
    assert m.resolve(("Nada",)) == (None, "unmapped")


def test_mapping_table_errors(tmp_path):
    f = tmp_path / "map.csv"
    f.write_text("external_name,code\nA,C9.nothing\nB,C2\nB,C3\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as err:
        read_mapping(f)
    assert "row 2, column 'code': 'C9.nothing' is not a codebook code" in str(err.value)
    assert "row 4, column 'external_name': 'B' is already mapped to C2 on row 3" in str(err.value)
    f.write_text("name,target\nA,C2\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="missing column"):
        read_mapping(f)


def test_sources_meta_errors():
    bad = pd.DataFrame(
        {
            "source": ["a", "a", "b"],
            "respondent_group": ["police", "", ""],
            "consent": ["", "", "maybe"],
            "date": ["", "2017-13-01", ""],
        }
    )
    with pytest.raises(ImportFormatError) as err:
        read_sources_meta(bad)
    msg = str(err.value)
    assert "row 3, column 'source': 'a' repeats row 2" in msg
    assert "row 2, column 'respondent_group': 'police' is not one of" in msg
    assert "row 4, column 'consent': 'maybe' is not one of none, anonymous, quote" in msg
    assert "row 3, column 'date': '2017-13-01' is not a date" in msg
    with pytest.raises(ImportFormatError, match="needs a column 'source'"):
        read_sources_meta(pd.DataFrame({"site_id": ["VC"]}))


# --------------------------------------------------------------------------- export
def _tiny(tmp_path, texts=None, segments=None):
    sites = pd.DataFrame(
        {
            "site_id": ["VC", "TOT"],
            "name": ["Villa Canales", "Totonicapán"],
            "department": ["Guatemala", "Totonicapán"],
        }
    )
    texts = texts or {
        "VC-I01": "P: ¿Hay reuniones?\r\nR: Sí, cada mes 👮 con el comité.\r\n",
        "TOT-O01": "Observación: la patrulla pasa a pie por la plaza 😀.",
        "TOT-X01": "Texto sin consentimiento.",
    }
    sources = pd.DataFrame(
        {
            "source_id": ["VC-I01", "TOT-O01", "TOT-X01"],
            "site_id": ["VC", "TOT", "TOT"],
            "respondent_group": ["community_leader", "observation", "community_member"],
            "method": ["interview", "observation", "interview"],
            "date": ["2017-02-01", None, None],
            "language": ["es", "es", "es"],
            "consent": ["quote", "anonymous", "none"],
            "coder_notes": ["nota", None, None],
        }
    )
    if segments is None:
        t = texts["VC-I01"]
        a, b = t.index("cada mes"), t.index("comité") + len("comité")
        t2 = texts["TOT-O01"]
        c, d = t2.index("la patrulla"), t2.index("😀") + 1
        segments = pd.DataFrame(
            {
                "segment_id": ["G1", "G2", "G3", "G4", "G5"],
                "source_id": ["VC-I01", "VC-I01", "VC-I01", "TOT-O01", "TOT-X01"],
                "start": [a, a, a, c, 0],
                "end": [b, b, b, d, 5],
                "code": ["C2.meetings", "C3.obs_reactive", "C2.meetings", "C1.patrol", "AT"],
                "valence": pd.array([2, -1, 1, pd.NA, 0], dtype="Int64"),
                "coder": ["AB", "AB", "CD", "AB", "AB"],
            }
        )
    return load_project(
        write_project(
            tmp_path / "tiny",
            sites=sites,
            sources=sources,
            segments=segments,
            texts=texts,
            meta={"title": "Tiny export"},
        )
    )


def test_export_is_valid_against_the_schemas(tmp_path, xsd):
    project = _tiny(tmp_path)
    out = tmp_path / "tiny.qdpx"
    assert export_qdpx(project, out) == ["TOT-X01"]
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        qde = z.read("project.qde")
    assert names[0] == "project.qde" and len(names) == 3  # consent 'none' left out
    xsd["project"].validate(qde.decode("utf-8"))
    assert b"Texto sin consentimiento" not in out.read_bytes()
    qdc = export_qdc(tmp_path / "codebook.qdc")
    xsd["codebook"].validate(qdc.read_text(encoding="utf-8"))
    assert read_qdc(qdc)["name"].tolist()[:3] == ["C1", "C1.sector", "C1.patrol"]


def test_export_refuses_to_overwrite(tmp_path):
    project = _tiny(tmp_path)
    out = tmp_path / "t.qdpx"
    export_qdpx(project, out)
    with pytest.raises(Exception, match="already exists; refusing to overwrite"):
        export_qdpx(project, out)
    export_qdpx(project, out, overwrite=True)


def test_export_is_deterministic(tmp_path):
    project = _tiny(tmp_path)
    export_qdpx(project, tmp_path / "a.qdpx")
    export_qdpx(project, tmp_path / "b.qdpx")
    with zipfile.ZipFile(tmp_path / "a.qdpx") as a, zipfile.ZipFile(tmp_path / "b.qdpx") as b:
        assert a.read("project.qde") == b.read("project.qde")
    assert codebook_xml(lang="es") != codebook_xml(lang="en")


def test_round_trip_gives_identical_segments_and_codes(tmp_path):
    project = _tiny(tmp_path)
    export_qdpx(project, tmp_path / "t.qdpx")
    back = import_refi(tmp_path / "t.qdpx")
    kept = project.segments[project.segments["source_id"] != "TOT-X01"]
    pd.testing.assert_frame_equal(
        back.segments[SEG].sort_values("segment_id").reset_index(drop=True),
        kept[SEG].sort_values("segment_id").reset_index(drop=True),
        check_dtype=False,
    )
    src_cols = ["source_id", "site_id", "respondent_group", "method", "language", "consent"]
    pd.testing.assert_frame_equal(
        back.sources[src_cols].sort_values("source_id").reset_index(drop=True),
        project.sources.loc[project.sources["consent"] != "none", src_cols]
        .sort_values("source_id")
        .reset_index(drop=True),
        check_dtype=False,
    )
    assert back.sources.set_index("source_id").loc["VC-I01", "date"] == "2017-02-01"
    for sid, text in back.texts.items():
        assert text == project.text(sid)
    assert back.report.offsets == "codepoints" and back.report.unmapped.empty
    assert back.report.mid_word.empty
    # and the re-imported tables make a valid project again
    reloaded = write_import(back, tmp_path / "again")
    assert len(reloaded.segments) == len(kept)


def test_round_trip_of_the_demo_project(tmp_path, demo_path):
    project = load_project(demo_path)
    export_qdpx(project, tmp_path / "demo.qdpx")
    back = import_refi(tmp_path / "demo.qdpx")
    kept = project.segments[project.segments["source_id"].isin(back.sources["source_id"])]
    pd.testing.assert_frame_equal(
        back.segments[SEG].sort_values("segment_id").reset_index(drop=True),
        kept[SEG].sort_values("segment_id").reset_index(drop=True),
        check_dtype=False,
    )


# --------------------------------------------------------------------------- real exports
def _real(name: str) -> Path:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return path


@pytest.mark.fixtures
def test_real_atlas_ti_project_has_no_texts():
    path = _real("TestProject.qdpx")
    qda = read_qda(path)
    assert qda.origin.startswith("ATLAS.ti 8.4")
    assert len(qda.codes) == 14
    assert {"Coke::diet Coke", "Coke::full-fat Coke", '"rushed"'} <= {
        c.name for c in qda.codes.values()
    }
    assert len(qda.sources) == 8  # 6 text sources + 2 PDF text representations
    assert all(s.text is None and "not in the archive" in s.problem for s in qda.sources)
    assert sum(len(s.selections) for s in qda.sources) == 8
    assert qda.skipped["PictureSource (not text)"] == 1
    assert qda.skipped["VideoSource (not text)"] == 2
    assert qda.skipped["AudioSource (not text)"] == 1
    assert qda.skipped["PDF region selections (coordinates, no text offsets)"] == 4
    with pytest.raises(ImportFormatError, match="nothing to import: none of its 8 text source"):
        import_refi(path)


@pytest.mark.fixtures
def test_real_nvivo_codebook_only_export():
    path = _real("nvivo_mac15_codebook_only.qdpx")
    qda = read_qda(path)
    assert qda.origin == "NVivo for Mac 15.0.0"
    assert len(qda.codes) == 262
    assert max(len(c.path) for c in qda.codes.values()) >= 4
    assert [s.text for s in qda.sources] == ["\n", "\n"]
    assert qda.users["1b0b1791-be46-4557-9957-7333544cfaf2"] == ("chrisp", "CP")
    mapping = read_mapping()
    assert all(mapping.resolve(c.path)[1] == "unmapped" for c in qda.codes.values())
    with pytest.raises(ImportFormatError, match="its text is empty"):
        import_refi(path)


@pytest.mark.fixtures
def test_real_qc_export_with_mapping_and_side_table(tmp_path):
    path = _real("qc_demo.qdpx")
    with zipfile.ZipFile(path) as z:
        qde = z.read("project.qde").decode("utf-8")
        board = z.read("sources/board_2017.txt").decode("utf-8")
    paths = {
        "rq1_definition/rationales/equity": "C2",
        "rq1_definition/practices/computational_thinking": "C4.local_analysis",
    }
    qda = read_qda(path)
    guids = {c.guid for c in qda.codes.values() if "/".join(c.path) in paths}
    expected = sum(len(re.findall(f'targetGUID="{g}"', qde)) for g in guids)
    assert expected > 0
    meta = pd.DataFrame(
        {
            "source": ["board_2017.txt", "admin-1.txt"],
            "site_id": ["VC", "TOT"],
            "respondent_group": ["municipal_authority", "expert"],
        }
    )
    mapping = pd.DataFrame({"external_name": list(paths), "code": list(paths.values())})
    r = import_refi(path, mapping=mapping, sources_meta=meta)
    assert r.report.offsets_reason == "indistinguishable"
    assert len(r.segments) == expected
    assert set(r.segments["coder"]) == {"cp"}
    assert set(r.segments["source_id"]) == {"board_2017"}
    for seg in r.segments.itertuples(index=False):
        assert r.texts["board_2017"][seg.start : seg.end] == board[seg.start : seg.end]
    assert len(r.report.unmapped) > 50
    assert int(r.report.unmapped["codings"].sum()) + expected == 205
    project = write_import(r, tmp_path / "qc")
    assert len(project.sources) == 2 and len(project.segments) == expected


def test_fixtures_are_what_make_fixtures_writes(tmp_path):
    """The committed fixtures match the generator (compared member by member)."""
    script = DATA / "make_fixtures.py"
    copy = tmp_path / "gen"
    copy.mkdir()
    (copy / "make_fixtures.py").write_text(script.read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(
        [sys.executable, str(copy / "make_fixtures.py")], check=True, capture_output=True
    )
    for f in sorted(copy.rglob("*")):
        rel = f.relative_to(copy)
        if f.is_dir() or rel.name == "make_fixtures.py":
            continue
        committed = DATA / rel
        assert committed.is_file(), rel
        if f.suffix in (".qdpx", ".xlsx"):
            with zipfile.ZipFile(f) as a, zipfile.ZipFile(committed) as b:
                assert a.namelist() == b.namelist(), rel
                for n in a.namelist():
                    assert a.read(n) == b.read(n), (rel, n)
        else:
            assert f.read_bytes() == committed.read_bytes(), rel


def test_bom_text_offsets_count_from_after_the_bom(tmp_path):
    text = "La patrulla pasa por el cantón cada tarde."
    start, end = text.index("patrulla"), text.index("cantón") + len("cantón")
    qde = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="bom" origin="QualCoder 3.5">'
        '<CodeBook><Codes><Code guid="00000000-0000-0000-0000-000000000001" name="C1.patrol" '
        'isCodable="true"/></Codes></CodeBook><Sources>'
        '<TextSource guid="00000000-0000-0000-0000-000000000002" name="obs" '
        'plainTextPath="internal://obs.txt">'
        f'<PlainTextSelection guid="00000000-0000-0000-0000-000000000003" '
        f'startPosition="{start}" endPosition="{end}"><Coding '
        'guid="00000000-0000-0000-0000-000000000004"><CodeRef '
        'targetGUID="00000000-0000-0000-0000-000000000001"/></Coding></PlainTextSelection>'
        "</TextSource></Sources></Project>"
    )
    f = tmp_path / "bom.qdpx"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/obs.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))
    meta = pd.DataFrame(
        {"source": ["obs"], "site_id": ["VC"], "respondent_group": ["observation"]}
    )
    r = import_refi(f, sources_meta=meta)
    assert r.texts["obs"] == text  # BOM removed
    assert _texts(r) == [("C1.patrol", None, "imported", "patrulla pasa por el cantón")]
    assert any("coder is 'imported'" in w for w in r.report.warnings)
