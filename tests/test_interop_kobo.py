"""KoboToolbox/ODK exports (CSV and XLSX) -> responses checked against the item map."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest

from copeval.errors import CopevalError, ImportFormatError
from copeval.interop import import_kobo, pseudonymise, write_import
from copeval.interop.safe import read_table
from copeval.project import load_project

DATA = Path(__file__).resolve().parent / "data" / "interop"
SITES = {"villa_canales": "VC", "totonicapan": "TOT"}
_NS = uuid.UUID("0b5e6a54-6f55-4c43-9d0e-7d1f0c3c2a10")  # as in make_fixtures.py
ITEMS = [
    "trust_police",
    "patrol_seen",
    "meeting_attend",
    "channels_phone",
    "channels_meeting",
    "age",
]


def _import(name="kobo_community.csv", **kw):
    args = dict(items=DATA / "kobo_items.csv", site_column="site", site_values=SITES)
    args.update(kw)
    return import_kobo(DATA / name, **args)


def test_responses_values_and_missing_codes():
    r = _import()
    df = r.responses
    assert list(df.columns) == ["respondent_id", "site_id", *ITEMS]
    assert df["site_id"].tolist() == ["VC", "VC", "TOT", "TOT"]
    assert df["trust_police"].tolist() == [4, 98, 2, 5]  # 98 kept: a declared missing code
    assert df["patrol_seen"].tolist() == [3, 97, 0, 4]
    assert df["channels_phone"].astype(object).tolist() == [1, 0, pd.NA, 0]
    assert df["channels_meeting"].astype(object).tolist() == [1, 0, pd.NA, 1]
    assert str(df["age"].dtype) == "Int64"
    assert r.instrument == "community"


def test_respondent_ids_are_stable_pseudonyms():
    df = _import().responses
    expected = [pseudonymise(str(uuid.uuid5(_NS, f"submission-{k}"))) for k in range(1, 5)]
    assert df["respondent_id"].tolist() == expected
    assert all(len(i) == 13 and i.startswith("R") for i in expected)
    assert pseudonymise("uuid:ABC") == pseudonymise("abc")
    assert pseudonymise("abc", salt="s") != pseudonymise("abc")
    salted = _import(salt="secret").responses["respondent_id"]
    assert not set(salted) & set(expected)


def test_metadata_and_personal_columns_are_dropped_and_listed():
    r = _import()
    assert not {"deviceid", "start", "_uuid", "_submission_time"} & set(r.responses.columns)
    text = " ".join(r.report.warnings)
    assert "8 metadata column(s) dropped" in text and "deviceid" in text
    assert "grp_part/comments" in text  # free text not in the item map: listed, not copied
    raw = read_table(DATA / "kobo_community.csv")
    assert not any(v in r.responses.to_string() for v in raw["deviceid"])


def test_xlsx_without_option_columns_gives_the_same_answers():
    a, b = _import(), _import("kobo_community.xlsx")
    pd.testing.assert_frame_equal(a.responses, b.responses)
    assert any("derived from the space-separated answer" in w for w in b.report.warnings)


def test_labels_instead_of_values_and_out_of_range_are_listed(tmp_path):
    raw = read_table(DATA / "kobo_community.csv")
    raw.loc[1, "grp_conf/trust_police"] = "Mucha confianza"
    raw.loc[3, "grp_conf/patrol_seen"] = "7"
    f = tmp_path / "bad.csv"
    raw.to_csv(f, index=False)
    with pytest.raises(ImportFormatError) as err:
        _import(f)
    msg = str(err.value)
    assert "2 answer(s) do not fit the item map of 'community'" in msg
    assert "row 3, column 'grp_conf/trust_police': 'Mucha confianza' is not a number" in msg
    assert "XML values" in msg
    assert (
        "row 5, column 'grp_conf/patrol_seen': 7 is outside 0..4 and not a missing code (97, 98)"
    ) in msg


def test_site_problems(tmp_path):
    assert set(_import(site_values=None).responses["site_id"]) == {"villa_canales", "totonicapan"}
    raw = read_table(DATA / "kobo_community.csv")
    raw.loc[0, "grp_intro/site"] = "Villa Canales"
    raw.loc[1, "grp_intro/site"] = ""
    f = tmp_path / "sites.csv"
    raw.to_csv(f, index=False)
    with pytest.raises(ImportFormatError, match="no site in column 'grp_intro/site' on row"):
        _import(f, site_values=None)
    raw.loc[1, "grp_intro/site"] = "totonicapan"
    raw.to_csv(f, index=False)
    with pytest.raises(ImportFormatError, match=r"'Villa Canales'.* are not site IDs"):
        _import(f, site_values=None)
    with pytest.raises(ImportFormatError, match="not in the site recoding table"):
        _import(site_values={"villa_canales": "VC"})
    with pytest.raises(ImportFormatError, match="no site column \\(region\\)"):
        _import(site_column="region")


def test_uuid_problems(tmp_path):
    raw = read_table(DATA / "kobo_community.csv")
    raw.loc[2, "_uuid"] = raw.loc[1, "_uuid"]
    f = tmp_path / "dupe.csv"
    raw.to_csv(f, index=False)
    with pytest.raises(ImportFormatError, match="appear more than once"):
        _import(f)
    raw.drop(columns="_uuid").to_csv(f, index=False)
    with pytest.raises(ImportFormatError, match="no submission UUID column"):
        _import(f)


def test_unknown_instrument():
    with pytest.raises(ImportFormatError, match="instrument 'police' is not in the item map"):
        _import(instrument="police")


def test_reimport_merges_and_never_overwrites(tmp_path):
    target = tmp_path / "survey"
    project = write_import(_import(), target)
    assert len(project.responses["community"]) == 4
    # re-importing the same export changes nothing
    r = _import()
    again = write_import(r, target)
    assert len(again.responses["community"]) == 4
    assert any("already in responses/community.csv" in w for w in r.report.warnings)
    # changed answers are refused without force, replaced with it
    raw = read_table(DATA / "kobo_community.csv")
    raw.loc[0, "grp_conf/trust_police"] = "1"
    changed = tmp_path / "changed.csv"
    raw.to_csv(changed, index=False)
    with pytest.raises(CopevalError, match="different answers"):
        write_import(_import(changed), target)
    forced = write_import(_import(changed), target, force=True)
    df = forced.responses["community"].set_index("respondent_id")
    assert df.loc[pseudonymise(raw.loc[0, "_uuid"]), "trust_police"] == 1 and len(df) == 4


def test_item_map_conflict_with_the_project(tiny_project):
    # the tiny project already describes an instrument 'community' with other items
    with pytest.raises(CopevalError, match="describes instrument 'community' differently"):
        write_import(_import(), tiny_project)
    items = read_table(DATA / "kobo_items.csv")
    items["instrument"] = "kobo"
    r = _import(items=items)
    project = write_import(r, tiny_project)
    assert set(project.responses) == {"community", "kobo"}
    assert set(project.sites["site_id"]) == {"A", "B", "VC", "TOT"}
    assert any("placeholder" in w for w in r.report.warnings)


def test_new_survey_only_project(tmp_path):
    project = write_import(_import(), tmp_path / "survey")
    assert len(project.sources) == 0 and len(project.responses["community"]) == 4
    assert project.sites.set_index("site_id").loc["VC", "department"] == "unknown"
    assert load_project(tmp_path / "survey").items["item"].tolist() == ITEMS


SURVEYS = Path(__file__).resolve().parents[1] / "surveys"


def _kobo_export_of(form: Path, items: pd.DataFrame, *, n: int, seed: int) -> pd.DataFrame:
    """A synthetic KoboToolbox export of an XLSForm: group-prefixed headers, metadata columns,
    answers drawn inside each item's scale or among its missing codes."""
    import numpy as np
    import openpyxl

    wb = openpyxl.load_workbook(form, read_only=True)
    rows = list(wb["survey"].iter_rows(values_only=True))
    wb.close()
    head = [str(h) for h in rows[0]]
    t, nm = head.index("type"), head.index("name")
    groups, columns = [], []
    for r in rows[1:]:
        kind, name = (r[t] or "").strip(), r[nm]
        if kind in ("begin_group", "begin group", "begin_repeat"):
            groups.append(name)
        elif kind in ("end_group", "end group", "end_repeat"):
            groups.pop()
        elif kind and kind not in ("note",) and name:
            columns.append("/".join([*groups, name]))
    rng = np.random.default_rng(seed)
    spec = items.set_index("item")
    data = []
    for k in range(n):
        rec = {}
        for col in columns:
            bare = col.split("/")[-1]
            if bare in spec.index:
                lo, hi = int(spec.loc[bare, "scale_min"]), int(spec.loc[bare, "scale_max"])
                codes = [int(c) for c in str(spec.loc[bare, "missing_codes"]).split(";") if c]
                if codes and rng.random() < 0.1:
                    rec[col] = str(rng.choice(codes))
                else:
                    rec[col] = str(rng.integers(lo, hi + 1))
            elif bare == "site_id":
                rec[col] = ["VC", "TOT"][k % 2]
            elif bare == "consent":
                rec[col] = "yes"
            else:
                rec[col] = f"texto {k}"
        rec["_uuid"] = str(uuid.uuid5(_NS, f"form-{k}"))
        rec["_submission_time"] = "2017-06-01T10:00:00"
        data.append(rec)
    declined = {c: "" for c in columns}
    declined.update({c: "no" for c in columns if c.split("/")[-1] == "consent"})
    declined["_uuid"] = str(uuid.uuid5(_NS, "declined"))
    data.append(declined)
    return pd.DataFrame(data).fillna("")


def test_export_of_the_community_xlsform_imports(tmp_path):
    form, items_csv = SURVEYS / "community.xlsx", SURVEYS / "community_items.csv"
    if not (form.is_file() and items_csv.is_file()):
        pytest.skip("surveys/community.xlsx or community_items.csv not there")
    items = read_table(items_csv)
    export = _kobo_export_of(form, items, n=12, seed=3)
    f = tmp_path / "community_export.csv"
    export.to_csv(f, index=False, sep=";")
    r = import_kobo(f, items=items_csv)
    assert len(r.responses) == 12  # the submission that declined consent is left out
    assert any("declined consent" in w for w in r.report.warnings)
    assert any(
        "grp_sample/respondent_id" in w and "not imported" in w for w in r.report.warnings
    )  # the enumerator's code is not the pseudonym
    assert list(r.responses.columns) == [
        "respondent_id",
        "site_id",
        "cluster",
        *items["item"].tolist(),
    ]
    for item in items["item"]:
        col = next(c for c in export.columns if c.split("/")[-1] == item)
        assert r.responses[item].astype(int).tolist() == export[col][:12].astype(int).tolist()
    project = write_import(r, tmp_path / "survey")
    assert len(project.responses["community"]) == 12
