"""The recommendations crosswalk: complete, consistent, and faithful to the national plan."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pandas as pd
import pytest

from copeval.codebook import load_codebook
from copeval.report.recommend import CrosswalkError, load_crosswalk, recommendations

REPO = Path(__file__).resolve().parents[1]
SEED_002 = REPO.parent / "shared" / "seeds" / "002_b1a6c29769724a5d.txt"


@pytest.fixture(scope="module")
def cw():
    return load_crosswalk()


def test_every_codebook_code_has_a_recommendation(cw):
    codes = set(load_codebook().codes)
    assert set(cw.table["code"]) == codes
    for _, row in cw.table.iterrows():
        assert row["recommendation_es"] and row["recommendation_en"], row["code"]
        assert row["pesn_actions"] or row["mopsic_tools"], row["code"]


def test_cited_actions_and_institutions_are_defined(cw):
    # 73 actions, as the plan itself announces ("73 matrices de cumplimiento")
    assert len(cw.actions) == 73
    assert cw.actions["action"].is_unique
    acronyms = set(cw.institutions["acronym"])
    responsible = {
        part.strip()
        for text in cw.actions["responsible"]
        for part in text.split(",")
        if part.strip()
    }
    cited = {a for value in cw.table["pesn_actions"] for a in value.split(";") if a}
    cited_resp = {
        part.strip()
        for a in cited
        for part in cw.actions.set_index("action").loc[a, "responsible"].split(",")
    }
    assert cited_resp <= acronyms, cited_resp - acronyms
    others = {x for v in cw.table["other_institutions"] for x in v.split(";") if x}
    assert others <= acronyms, others - acronyms
    assert "MINGOB" in responsible


def test_key_actions_match_the_plan_text(cw):
    actions = cw.actions.set_index("action")
    assert actions.loc["1.1.2", "action_es"] == (
        "Reportar avances del modelo policial a las demandas y necesidades de la población"
    )
    assert actions.loc["1.1.2", "responsible"] == "MINGOB"
    assert actions.loc["2.1.1", "action_es"].startswith(
        "Ampliar la colaboración, cooperación y coordinación con los Consejos de Desarrollo"
    )
    assert actions.loc["1.5.2", "action_es"] == (
        "Diseñar e implementar los Sistemas de Carrera Profesional del Sistema Nacional de "
        "Seguridad."
    )


@pytest.mark.skipif(not SEED_002.is_file(), reason="seed documents not available")
def test_pesn_table_is_reproducible_from_the_seed(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "build_pesn_actions", REPO / "data" / "crosswalk" / "build_pesn_actions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.parse(SEED_002.read_text(encoding="utf-8"))
    rebuilt = pd.DataFrame(rows).astype(str)
    stored = pd.read_csv(
        REPO / "data" / "crosswalk" / "pesn_actions.csv", dtype=str, keep_default_na=False
    )
    pd.testing.assert_frame_equal(rebuilt, stored)


def test_recommendations_only_for_weak_criteria_and_led_by_obstacles(cw):
    scores = pd.DataFrame({"criterion": ["C1", "C2", "C4"], "score": [3.0, 2.0, 0.7]})
    evidence = pd.DataFrame(
        {
            "code": [
                "C4.obs_upward",
                "C4.obs_upward",
                "C4.obs_equipment",
                "C2.meetings",
                "C1.obs_resources",
            ],
            "valence": [-2, -1, -2, 1, -2],
        }
    )
    recs = recommendations(scores, evidence, crosswalk=cw, lang="es")
    assert list(dict.fromkeys(recs["criterion"])) == ["C2", "C4"]  # C1 is acceptable
    c4 = recs[recs["criterion"] == "C4"]
    assert list(c4["code"]) == ["C4", "C4.obs_upward", "C4.obs_equipment"]
    assert c4.iloc[1]["n_negative"] == 2
    assert "FAES" in c4.iloc[1]["mopsic_tools"]
    assert c4.iloc[0]["pesn_actions"] == ["1.1.3", "1.1.1"]
    # responsible institutions come from the plan, verbatim, then the crosswalk's others
    assert c4.iloc[0]["institutions"][:3] == ["STCNS", "MINGOB", "MINDEF"]
    assert recs.iloc[0]["recommendation"].startswith("Celebrar reuniones")


def test_broken_crosswalk_is_reported_with_row_and_column(tmp_path):
    folder = tmp_path / "cw"
    shutil.copytree(REPO / "data" / "crosswalk", folder)
    table = pd.read_csv(folder / "recommendations.csv", dtype=str, keep_default_na=False)
    table.loc[3, "pesn_actions"] = "9.9.9"
    table.to_csv(folder / "recommendations.csv", index=False)
    with pytest.raises(CrosswalkError, match=r"row 5, column 'pesn_actions': action '9\.9\.9'"):
        load_crosswalk(folder)
    with pytest.raises(CrosswalkError, match="Crosswalk file not found"):
        load_crosswalk(tmp_path / "missing")


def test_cited_actions_have_an_english_translation_and_tools_are_spelled_out(cw):
    cited = {a for v in cw.table["pesn_actions"] for a in str(v).split(";") if a.strip()}
    assert cited <= set(cw.actions_en["action"])
    for action in cited:
        text, translated = cw.action_text(action, "en")
        assert translated and text and text != cw.action_text(action, "es")[0]
        assert cw.action_text(action, "es") == (
            cw.actions.loc[cw.actions["action"] == action, "action_es"].iloc[0],
            False,
        )
    tools = {t.strip() for v in cw.table["mopsic_tools"] for t in str(v).split(";") if t.strip()}
    for tool in tools:
        for lang in ("es", "en"):
            assert cw.tool_text(tool, lang).startswith(f"{tool} ("), (tool, lang)


def test_a_translation_of_an_unknown_action_is_refused(tmp_path):
    import shutil

    from copeval.report.recommend import CrosswalkError, load_crosswalk

    folder = tmp_path / "cw"
    shutil.copytree(REPO / "data" / "crosswalk", folder)
    with open(folder / "pesn_actions_en.csv", "a", encoding="utf-8") as fh:
        fh.write("9.9.9,An action the plan does not have,someone\n")
    with pytest.raises(CrosswalkError, match=r"pesn_actions_en.csv row 13.*'9\.9\.9'"):
        load_crosswalk(folder)
