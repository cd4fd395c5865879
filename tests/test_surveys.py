"""Survey instruments (surveys/) and the simulated demo responses (data/demo/responses/).

Covers: the XLSForms convert with pyxform (and pass ODK Validate when Java is present), every
label and choice is bilingual, scored items map to a criterion, the item maps match the forms
and are reproducible from surveys/source/, the source checker names file/row/column, and the
simulated responses conform to the item map and to the study's findings.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from copeval.vocabulary import CRITERIA

REPO = Path(__file__).resolve().parents[1]
SURVEYS = REPO / "surveys"
DEMO = REPO / "data" / "demo"
INSTRUMENTS = ("community", "police")
ES, EN = "Español (es)", "English (en)"


def _load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


build = _load_module("build_instruments", SURVEYS / "build_instruments.py")
sim = _load_module("simulate_surveys", REPO / "data" / "scripts" / "simulate_surveys.py")


# --------------------------------------------------------------------------- helpers
def read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    return pd.DataFrame(rows[1:], columns=rows[0])


def read_items(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def read_responses(inst: str) -> pd.DataFrame:
    path = DEMO / "responses" / f"{inst}.csv"
    if not path.is_file():
        pytest.skip("demo responses not simulated yet")
    return pd.read_csv(path, dtype={"respondent_id": str, "site_id": str, "cluster": str})


def form_items(xlsx: Path) -> pd.DataFrame:
    """Items read back from an XLSForm: select_one questions with numeric codes."""
    survey = read_sheet(xlsx, "survey")
    choices = read_sheet(xlsx, "choices")
    numeric = {
        ln for ln, g in choices.groupby("list_name") if g["name"].str.fullmatch(r"\d+").all()
    }
    rows, groups = [], []
    for r in survey.to_dict("records"):
        if r["type"] == "begin_group":
            groups.append(r["name"])
        elif r["type"] == "end_group":
            groups.pop()
        elif r["type"].startswith("select_one ") and r["type"].split()[1] in numeric:
            ln = r["type"].split()[1]
            codes = sorted(int(c) for c in choices.loc[choices["list_name"] == ln, "name"])
            valid = [c for c in codes if c not in (97, 98)]
            rows.append(
                {
                    "item": r["name"],
                    "group": groups[-1] if groups else "",
                    "scale_min": str(min(valid)),
                    "scale_max": str(max(valid)),
                    "missing_codes": ";".join(str(c) for c in codes if c in (97, 98)),
                    "label_es": r[f"label::{ES}"],
                    "label_en": r[f"label::{EN}"],
                }
            )
    return pd.DataFrame(rows)


def rescaled(responses: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Scored answers on 0-4, reversed where flagged, missing codes as NaN (independent of
    the simulation script's own helper)."""
    out = {}
    for it in items[items["criterion"] != ""].to_dict("records"):
        x = responses[it["item"]].astype(float)
        x = x.where(~x.isin([int(c) for c in it["missing_codes"].split(";") if c]))
        lo, hi = int(it["scale_min"]), int(it["scale_max"])
        v = (x - lo) / (hi - lo) * 4
        out[it["item"]] = 4 - v if it["reverse"] == "true" else v
    return pd.DataFrame(out)


def alpha(block: pd.DataFrame) -> float:
    b = block.dropna()
    k = b.shape[1]
    return k / (k - 1) * (1 - b.var(ddof=1).sum() / b.sum(axis=1).var(ddof=1))


@pytest.fixture(scope="module")
def source():
    return build.load_source(SURVEYS / "source")


@pytest.fixture
def source_copy(tmp_path):
    target = tmp_path / "source"
    shutil.copytree(SURVEYS / "source", target)
    return target


def edit_csv(path: Path, name: str, column: str, value: str) -> int:
    """Set ``column`` of the row whose ``name`` is ``name``; return its spreadsheet row."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    hit = df.index[df["name"] == name]
    assert len(hit) == 1, name
    df.loc[hit[0], column] = value
    df.to_csv(path, index=False)
    return int(hit[0]) + 2


# --------------------------------------------------------------------------- the forms
@pytest.mark.parametrize("inst", INSTRUMENTS)
def test_form_converts_with_pyxform(inst):
    xml = build.check_xlsform(SURVEYS / f"{inst}.xlsx")
    assert f'<translation lang="{ES}" default="true()">' in xml
    assert f'<translation lang="{EN}">' in xml
    items = read_items(SURVEYS / f"{inst}_items.csv")
    form = form_items(SURVEYS / f"{inst}.xlsx").set_index("item")
    for name in items["item"]:
        # grouped, so Kobo/ODK exports carry a "grp_xx/item" column prefix
        assert f"/{form.loc[name, 'group']}/{name}" in xml


@pytest.mark.parametrize("inst", INSTRUMENTS)
def test_form_passes_odk_validate(inst):
    if shutil.which("java") is None:
        pytest.skip("ODK Validate needs Java")
    build.check_xlsform(SURVEYS / f"{inst}.xlsx", odk_validate=True)


@pytest.mark.parametrize("inst", INSTRUMENTS)
def test_every_label_hint_and_choice_is_bilingual(inst):
    xlsx = SURVEYS / f"{inst}.xlsx"
    survey = read_sheet(xlsx, "survey")
    unlabelled = {"start", "end", "today", "end_group"}
    labelled = survey[~survey["type"].isin(unlabelled)]
    assert len(labelled) > 20
    for lang in (ES, EN):
        empty = labelled.loc[labelled[f"label::{lang}"].str.strip() == "", "name"]
        assert empty.empty, f"{inst}: no {lang} label for {list(empty)}"
    hinted = (survey[f"hint::{ES}"] != "") | (survey[f"hint::{EN}"] != "")
    assert hinted.sum() >= 3
    assert (
        (survey.loc[hinted, f"hint::{ES}"] != "") & (survey.loc[hinted, f"hint::{EN}"] != "")
    ).all()
    choices = read_sheet(xlsx, "choices")
    for lang in (ES, EN):
        assert (choices[f"label::{lang}"].str.strip() != "").all()
    settings = read_sheet(xlsx, "settings").iloc[0]
    assert settings["default_language"] == ES
    assert settings["form_id"] == f"copeval_{inst}"


@pytest.mark.parametrize("inst", INSTRUMENTS)
def test_item_map_matches_form(inst):
    items = read_items(SURVEYS / f"{inst}_items.csv")
    assert list(items.columns) == build.ITEM_COLUMNS
    assert (items["instrument"] == inst).all()
    form = form_items(SURVEYS / f"{inst}.xlsx")
    assert list(items["item"]) == list(form["item"])
    for col in ("scale_min", "scale_max", "missing_codes", "label_es", "label_en"):
        assert list(items[col]) == list(form[col]), col
    assert form["group"].str.startswith("grp_").all()


@pytest.mark.parametrize("inst", INSTRUMENTS)
def test_scored_items_map_to_criteria(inst):
    items = read_items(SURVEYS / f"{inst}_items.csv")
    assert set(items["criterion"]) <= {*CRITERIA, ""}
    scored = items[items["criterion"] != ""]
    assert (scored["scale"] != "").all()
    assert (items.loc[items["criterion"] == "", "scale"] == "").all()
    assert (scored["missing_codes"] == "97;98").all()
    assert set(items["reverse"]) == {"true", "false"}
    per_criterion = scored.groupby("criterion").size()
    assert set(per_criterion.index) == set(CRITERIA)
    assert per_criterion.min() >= 3
    assert (scored["reverse"] == "true").sum() >= 3
    # no scale is entirely reversed: each needs a positively worded anchor item
    assert (scored.groupby("criterion")["reverse"].apply(lambda s: (s == "false").any())).all()
    unscored = items[items["criterion"] == ""]
    assert len(unscored) >= 3  # demographics (and context)
    n_scored = len(scored)
    assert (18 <= n_scored <= 24) if inst == "community" else (16 <= n_scored <= 22)


def test_demographics_cover_age_gender_and_tenure():
    community = set(read_items(SURVEYS / "community_items.csv")["item"])
    police = set(read_items(SURVEYS / "police_items.csv")["item"])
    assert {"age_group", "gender", "years_in_area"} <= community
    assert {"gender", "role", "years_in_post"} <= police


def test_forms_are_reproducible_from_source(tmp_path):
    first = build.build(SURVEYS / "source", tmp_path / "a", readme=False)
    second = build.build(SURVEYS / "source", tmp_path / "b", readme=False)
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes(), f"{name} is not deterministic"
        if name.endswith(".xlsx"):  # no save-time stamp that would change on every build
            with zipfile.ZipFile(path) as z:
                core = z.read("docProps/core.xml").decode()
            assert re.findall(r"<dcterms:\w+ [^>]*>([^<]*)<", core) == ["2017-02-01T00:00:00Z"] * 2
        committed = SURVEYS / name
        if name.endswith(".csv"):
            assert path.read_bytes() == committed.read_bytes(), f"rebuild {name}"
        else:
            for sheet in ("survey", "choices", "settings"):
                pd.testing.assert_frame_equal(
                    read_sheet(path, sheet), read_sheet(committed, sheet)
                )


def test_readme_item_table_is_current(source):
    readme = (SURVEYS / "README.md").read_text(encoding="utf-8")
    assert build.anchor_table(source) in readme


def test_every_scored_item_names_its_anchor(source):
    for inst in source.values():
        survey = inst.survey.set_index("name")
        for name in inst.items:
            if survey.loc[name, "criterion"]:
                assert survey.loc[name, "anchor"], name


def test_guides_exist_in_both_languages_and_cover_every_criterion():
    guides = SURVEYS / "guides"
    es = sorted(p.name[: -len("_es.md")] for p in guides.glob("*_es.md"))
    en = sorted(p.name[: -len("_en.md")] for p in guides.glob("*_en.md"))
    assert es == en
    assert {
        "consent",
        "interview_police",
        "interview_community",
        "interview_authorities",
        "focus_group",
        "observation_checklist",
    } <= set(es)
    for stem in es:
        for lang in ("es", "en"):
            text = (guides / f"{stem}_{lang}.md").read_text(encoding="utf-8")
            if stem == "consent":
                for level in ("none", "anonymous", "quote"):
                    assert f"`{level}`" in text, (stem, lang, level)
            else:
                for crit in CRITERIA:
                    assert re.search(rf"^#+ .*\b{crit}\b", text, re.M), (stem, lang, crit)


# --------------------------------------------------------------------------- source checks
def test_source_error_names_missing_english_label(source_copy):
    row = edit_csv(source_copy / "community.csv", "c3_followup", "label_en", "")
    with pytest.raises(
        build.InstrumentSourceError, match=rf"community.csv row {row}, column 'label_en'"
    ):
        build.load_source(source_copy)


def test_source_error_names_unknown_criterion(source_copy):
    row = edit_csv(source_copy / "police.csv", "p_c3_assess", "criterion", "C5")
    with pytest.raises(
        build.InstrumentSourceError,
        match=rf"police.csv row {row}, column 'criterion': 'C5' is not one of C1, C2",
    ):
        build.load_source(source_copy)


def test_source_error_for_half_translated_hint(source_copy):
    row = edit_csv(source_copy / "community.csv", "trust_police", "hint_en", "")
    with pytest.raises(
        build.InstrumentSourceError,
        match=rf"row {row}, column 'hint_en': hint given in es but not in en",
    ):
        build.load_source(source_copy)


def test_source_error_for_bad_reverse_and_duplicate_name(source_copy):
    row = edit_csv(source_copy / "police.csv", "p_c1_rotation", "reverse", "yes")
    edit_csv(source_copy / "police.csv", "p_c1_fiapol", "name", "p_c1_foot_patrol")
    with pytest.raises(build.InstrumentSourceError) as info:
        build.load_source(source_copy)
    message = str(info.value)
    assert f"police.csv row {row}, column 'reverse': 'yes'" in message
    assert "'p_c1_foot_patrol' is used twice" in message
    assert len(info.value.problems) == 2


def test_source_error_for_scored_item_without_dont_know(source_copy):
    choices = pd.read_csv(source_copy / "choices.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame(
        [
            {"list_name": "yn", "name": n, "label_es": es, "label_en": en}
            for n, es, en in [("0", "No", "No"), ("1", "Sí", "Yes")]
        ]
    )
    pd.concat([choices, extra]).to_csv(source_copy / "choices.csv", index=False)
    row = edit_csv(source_copy / "community.csv", "c1_know_officer", "type", "select_one yn")
    with pytest.raises(build.InstrumentSourceError, match=rf"row {row}.*lacks the don't know"):
        build.load_source(source_copy)


def test_source_error_for_gapped_codes_and_unknown_list(source_copy):
    choices = pd.read_csv(source_copy / "choices.csv", dtype=str, keep_default_na=False)
    choices = choices[~((choices["list_name"] == "likely4") & (choices["name"] == "2"))]
    choices.to_csv(source_copy / "choices.csv", index=False)
    row = edit_csv(source_copy / "police.csv", "p_c4_faes", "type", "select_one nolist")
    with pytest.raises(build.InstrumentSourceError) as info:
        build.load_source(source_copy)
    message = str(info.value)
    assert "list 'likely4': codes [0, 1, 3] are not consecutive" in message
    assert (
        f"police.csv row {row}, column 'type': choice list 'nolist' is not in choices.csv"
        in message
    )


def test_source_error_for_unknown_column(source_copy):
    df = pd.read_csv(source_copy / "forms.csv", dtype=str, keep_default_na=False)
    df["colour"] = "blue"
    df.to_csv(source_copy / "forms.csv", index=False)
    with pytest.raises(build.InstrumentSourceError, match=r"forms\.csv: unknown column.*colour"):
        build.load_source(source_copy)


def test_build_cli_reports_errors(source_copy, tmp_path, capsys):
    edit_csv(source_copy / "community.csv", "c3_followup", "label_es", "")
    assert build.main(["--source", str(source_copy), "--out", str(tmp_path / "o")]) == 1
    assert "column 'label_es'" in capsys.readouterr().err
    assert not (tmp_path / "o" / "community.xlsx").exists()


# --------------------------------------------------------------------------- demo responses
def test_demo_items_are_both_item_maps():
    path = DEMO / "items.csv"
    if not path.is_file():
        pytest.skip("demo items not simulated yet")
    expected = pd.concat([read_items(SURVEYS / f"{i}_items.csv") for i in INSTRUMENTS])
    pd.testing.assert_frame_equal(read_items(path), expected.reset_index(drop=True))


@pytest.mark.parametrize("inst", INSTRUMENTS)
def test_demo_responses_conform_to_item_map(inst):
    df = read_responses(inst)
    items = read_items(SURVEYS / f"{inst}_items.csv")
    fixed = ["respondent_id", "site_id", "weight", "cluster"]
    if inst == "police":
        fixed.remove("weight")
    assert list(df.columns) == fixed + list(items["item"])
    assert df["respondent_id"].is_unique
    letter = "C" if inst == "community" else "P"
    assert df["respondent_id"].str.fullmatch(rf"(VC|TOT)-{letter}-\d{{4}}").all()
    assert (df["respondent_id"].str.split("-").str[0] == df["site_id"]).all()
    sizes = df["site_id"].value_counts()
    assert set(sizes.index) == {"VC", "TOT"}
    assert sizes.min() >= (180 if inst == "community" else 35)
    assert (df["cluster"].str.split("-").str[0] == df["site_id"]).all()
    n_clusters = df.groupby("site_id")["cluster"].nunique()
    if inst == "community":
        assert df["cluster"].str.fullmatch(r"(VC|TOT)-K\d\d").all()
        assert n_clusters.between(10, 14).all()
        assert df["weight"].between(0.6, 1.8).all()
        assert df["weight"].std() > 0.15
        assert df["weight"].min() < 0.7 and df["weight"].max() > 1.5
    else:
        assert df["cluster"].str.fullmatch(r"(VC|TOT)-[ES]\d").all()
    for it in items.to_dict("records"):
        col = df[it["item"]]
        assert col.notna().all(), it["item"]
        codes = [int(c) for c in it["missing_codes"].split(";") if c]
        ok = col.between(int(it["scale_min"]), int(it["scale_max"])) | col.isin(codes)
        assert ok.all(), (it["item"], sorted(set(col[~ok])))
        if it["criterion"]:
            rate = col.isin(codes).groupby(df["site_id"]).mean()
            assert rate.between(0.02, 0.08).all(), (it["item"], rate.to_dict())
            # every answer category of the scale is used somewhere
            assert col[col.between(int(it["scale_min"]), int(it["scale_max"]))].nunique() >= 3


def test_demo_reverse_coding_is_respected():
    df = read_responses("community")
    # same criterion (C1), opposite wording: raw codes run against each other
    raw = df[["c1_foot_patrol", "c1_police_absent"]].where(lambda x: x < 90)
    assert raw.corr().iloc[0, 1] < -0.15
    # LAPOP POLE2N (1 = very satisfied) against B18 trust (7 = a lot)
    raw = df[["trust_police", "at_satisfaction"]].where(lambda x: x < 90)
    assert raw.corr().iloc[0, 1] < -0.15
    items = read_items(SURVEYS / "community_items.csv")
    scores = rescaled(df, items)
    corr = scores.corr()
    assert (corr.values[np.triu_indices_from(corr, 1)] > -0.05).all()


@pytest.fixture(scope="module")
def site_means():
    rows = []
    for inst in INSTRUMENTS:
        df = read_responses(inst)
        items = read_items(SURVEYS / f"{inst}_items.csv")
        scores = rescaled(df, items)
        for site in ("VC", "TOT"):
            here = df["site_id"] == site
            for crit in CRITERIA:
                cols = list(items.loc[items["criterion"] == crit, "item"])
                person = scores.loc[here, cols].mean(axis=1)
                w = (
                    df.loc[here, "weight"]
                    if "weight" in df
                    else pd.Series(1.0, index=person.index)
                )
                ok = person.notna()
                rows.append(
                    {
                        "instrument": inst,
                        "site_id": site,
                        "criterion": crit,
                        "mean": np.average(person[ok], weights=w[ok]),
                        "alpha": alpha(scores.loc[here, cols]),
                    }
                )
    return pd.DataFrame(rows).set_index(["instrument", "site_id", "criterion"]).sort_index()


def test_demo_means_follow_the_study(site_means):
    m = site_means["mean"]
    for inst in INSTRUMENTS:
        for site in ("VC", "TOT"):
            by_crit = m[inst, site]
            assert by_crit.idxmin() == "C4", (inst, site)  # weakest criterion everywhere
            assert by_crit["C3"] < 1.7 and by_crit["C4"] < 1.3
            assert 2.4 <= by_crit["C1"] < 3.2  # acceptable
            assert 1.6 <= by_crit["AT"] < 2.6  # middling
        # Totonicapán's relationship with the community is much stronger
        assert m[inst, "TOT", "C2"] - m[inst, "VC", "C2"] > 0.9
    assert m["community", "TOT", "C2"] >= 3.2 > m["community", "VC", "C2"] >= 1.6
    rosier = (m["police"] - m["community"]) > 0
    assert rosier.mean() >= 0.8


def test_demo_scale_reliabilities_are_plausible(site_means):
    a = site_means["alpha"]
    assert a.between(0.6, 0.85).all(), a[~a.between(0.6, 0.85)]


# --------------------------------------------------------------------------- the simulation
@pytest.fixture(scope="module")
def item_maps():
    return sim.load_item_maps(SURVEYS)


def test_simulation_reproduces_committed_demo(item_maps):
    out = sim.simulate_surveys(item_maps, seed=sim.SEED)
    for inst in INSTRUMENTS:
        committed = read_responses(inst)
        fresh = out[inst].astype(
            {c: "int64" for c in item_maps.loc[item_maps["instrument"] == inst, "item"]}
        )
        pd.testing.assert_frame_equal(committed, fresh, check_dtype=False)


def test_simulation_is_seeded(item_maps):
    a = sim.simulate_surveys(item_maps, seed=1)
    b = sim.simulate_surveys(item_maps, seed=1)
    c = sim.simulate_surveys(item_maps, seed=2)
    pd.testing.assert_frame_equal(a["police"], b["police"])
    assert not a["community"].equals(c["community"])
    assert item_maps.equals(sim.load_item_maps(SURVEYS))  # input left untouched


def test_simulation_refuses_unscored_item_without_rule(item_maps):
    items = item_maps.copy()
    items.loc[items["item"] == "c3_prevention", "criterion"] = ""
    with pytest.raises(sim.SimulationError, match="'c3_prevention' of instrument 'community'"):
        sim.simulate_surveys(items)


def test_simulation_cli(tmp_path, capsys):
    assert sim.main(["--out", str(tmp_path), "--no-datapackage", "--seed", "3"]) == 0
    assert (tmp_path / "items.csv").is_file()
    assert len(pd.read_csv(tmp_path / "responses" / "police.csv")) >= 70
    assert "alpha" in capsys.readouterr().out
    assert sim.main(["--out", str(tmp_path), "--surveys", str(tmp_path / "nowhere")]) == 1
    assert "community_items.csv not found" in capsys.readouterr().err


def test_kobo_style_export_of_the_form_imports_back(tmp_path):
    """A KoboToolbox export of the form (group-prefixed headers, metadata columns) reads back
    through copeval's importer into the item map's columns."""
    kobo = pytest.importorskip("copeval.interop.kobo")
    df = read_responses("community").head(12)
    form = form_items(SURVEYS / "community.xlsx").set_index("item")
    export = pd.DataFrame(
        {
            "start": "2017-02-01T09:00:00-06:00",
            "end": "2017-02-01T09:20:00-06:00",
            "today": "2017-02-01",
            "consent": "yes",
            "grp_sample/site_id": df["site_id"],
            "grp_sample/cluster": df["cluster"],
            "grp_sample/respondent_id": df["respondent_id"],
        }
    )
    for item in form.index:
        export[f"{form.loc[item, 'group']}/{item}"] = df[item]
    export["grp_close/comments"] = ""
    export["_uuid"] = [f"uuid-{k:04d}" for k in range(len(df))]
    export["_submission_time"] = "2017-02-01T15:30:00"
    path = tmp_path / "kobo_export.csv"
    export.to_csv(path, index=False)
    result = kobo.import_kobo(path, items=read_items(SURVEYS / "community_items.csv"))
    got = result.responses
    assert list(got.columns[:2]) == ["respondent_id", "site_id"]
    assert list(got["cluster"]) == list(df["cluster"])
    for item in form.index:
        assert got[item].astype(int).tolist() == df[item].tolist(), item
