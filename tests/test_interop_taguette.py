"""Taguette highlights (CSV and XLSX) and codebook (.qdc with an empty <Sets/>)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from copeval.errors import ImportFormatError
from copeval.interop import import_taguette, read_qdc, read_taguette_highlights, schema_path
from copeval.interop.taguette import locate

DATA = Path(__file__).resolve().parent / "data" / "interop"


def _import(name="taguette_highlights.csv", **kw):
    args = dict(
        texts=DATA / "taguette_texts",
        mapping=DATA / "taguette_mapping.csv",
        sources_meta=DATA / "taguette_meta.csv",
        coder="TG",
    )
    args.update(kw)
    return import_taguette(DATA / name, **args)


def test_highlights_become_segments():
    r = _import()
    got = sorted(
        (s.source_id, s.code, int(s.valence), r.texts[s.source_id][s.start : s.end])
        for s in r.segments.itertuples(index=False)
    )
    assert got == [
        ("Entrevista_TOT_02", "AT.trust", 1, "Hay confianza"),
        ("Entrevista_TOT_02", "C1.obs_resources", -2, "faltan agentes para cubrir las aldeas"),
        ("Grupo_focal_VC", "C1.patrol", 1, "Ellos patrullan a pie por la plaza."),
        (
            "Grupo_focal_VC",
            "C2.meetings",
            2,
            "cada mes nos reunimos con los agentes\nen el salón comunal",
        ),
    ]
    assert set(r.segments["coder"]) == {"TG"}


def test_report_lists_what_was_not_imported():
    r = _import()
    assert r.report.unmapped["external_name"].tolist() == ["interesting"]
    text = " ".join(r.report.warnings)
    assert "1 highlight(s) not found" in text and "Este texto no está" in text
    assert "white space normalised" in text
    assert r.report.counts["highlights"] == 6


def test_xlsx_export_gives_the_same_result():
    a, b = _import(), _import("taguette_highlights.xlsx")
    pd.testing.assert_frame_equal(a.segments, b.segments)
    pd.testing.assert_frame_equal(a.sources, b.sources)


def test_metadata_from_side_table():
    src = _import().sources.set_index("source_id")
    assert src.loc["Entrevista_TOT_02", ["site_id", "respondent_group", "consent"]].tolist() == [
        "TOT",
        "municipal_authority",
        "quote",
    ]


def test_texts_as_mapping_and_missing_texts():
    texts = {
        "Grupo focal VC": (DATA / "taguette_texts" / "Grupo focal VC.txt").read_text(
            encoding="utf-8"
        )
    }
    with pytest.raises(ImportFormatError, match=r"no text for document.*Entrevista TOT 02\.docx"):
        _import(texts=texts)
    with pytest.raises(ImportFormatError, match="folder of document texts does not exist"):
        _import(texts=DATA / "nope")


def test_default_coder_is_reported():
    r = _import(coder=None)
    assert set(r.segments["coder"]) == {"imported"}
    assert any("--coder" in w for w in r.report.warnings)


def test_not_a_taguette_export(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("document,label\na,b\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="no 'tag' column"):
        read_taguette_highlights(f)


def test_locate():
    text = "uno dos\ntres cuatro dos"
    assert locate(text, "dos") == (4, 7, "exact")
    assert locate(text, "dos", after=5) == (20, 23, "exact")
    assert locate(text, "dos tres") == (4, 12, "whitespace")
    assert locate(text, "cinco") is None
    assert locate(text, "   ") is None


def test_taguette_codebook_with_empty_sets_is_accepted():
    codes = read_qdc(DATA / "taguette_codebook.qdc")
    assert codes["name"].tolist() == [
        "C2.meetings",
        "Valence.+2",
        "Patrullaje.a pie",
        "interesting",
        "AT.trust",
    ]
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(schema_path("Codebook.xsd")))
    # the schema forbids the empty <Sets/> Taguette writes; copeval reads it anyway
    assert not schema.is_valid((DATA / "taguette_codebook.qdc").read_text(encoding="utf-8"))
