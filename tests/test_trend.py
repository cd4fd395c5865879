"""report.trend: change since the previous round as data, words and document sections."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from copeval.report import doc, figures, trend
from copeval.report.data import ReportData, clear_memo
from copeval.report.i18n import STRINGS, placeholders

ROUNDS = REPO / "data" / "demo-rounds"
N_BOOT = 100
CI = {"en": "90%", "es": "90 %"}


@pytest.fixture(scope="module")
def data():
    if not (ROUNDS / "datapackage.json").is_file():
        pytest.skip("data/demo-rounds is not there")
    clear_memo()
    return ReportData.load(ROUNDS, n_boot=N_BOOT, complete=False)


@pytest.fixture(scope="module")
def once_site(tmp_path_factory):
    """demo-rounds without Totonicapán's 2017 fieldwork: TOT is measured once."""
    if not (ROUNDS / "datapackage.json").is_file():
        pytest.skip("data/demo-rounds is not there")
    project = tmp_path_factory.mktemp("once") / "p"
    shutil.copytree(ROUNDS, project)
    src = pd.read_csv(project / "sources.csv", dtype=str, keep_default_na=False)
    drop = src[(src["site_id"] == "TOT") & (src["round"] == "2017")]
    src.drop(drop.index).to_csv(project / "sources.csv", index=False)
    seg = pd.read_csv(project / "segments.csv", dtype=str, keep_default_na=False)
    seg[~seg["source_id"].isin(drop["source_id"])].to_csv(project / "segments.csv", index=False)
    for f in (project / "responses").glob("*.csv"):
        r = pd.read_csv(f, dtype=str, keep_default_na=False)
        r[~((r["site_id"] == "TOT") & (r["round"] == "2017"))].to_csv(f, index=False)
    for sid in drop["source_id"]:
        (project / "texts" / f"{sid}.txt").unlink(missing_ok=True)
    return ReportData.load(project, n_boot=N_BOOT, complete=False, memo=False)


# ------------------------------------------------------------------------------ select
def test_select_change_is_estimate_change_for_the_site(data):
    from copeval.change import project_change
    from copeval.params import ScoringParams

    p = data.params
    truth = project_change(
        data.all_rounds,
        params=ScoringParams(weight=p["weight"], ci=p["ci"], seed=p["seed"], draws=p["n_boot"]),
    ).table
    truth = truth[truth["site_id"] == "VC"].set_index("criterion")
    sel = trend.select_change(data, "VC")
    assert list(sel.columns) == list(trend.SELECT_COLUMNS)
    assert list(sel["criterion"]) == ["C1", "C2", "C3", "C4", "AT"]
    s = sel.set_index("criterion")
    for col in ("change", "lower", "upper", "p_improved", "p_worsened"):
        np.testing.assert_allclose(s[col], truth.loc[s.index, col])
    assert (s["pairing"] == truth.loc[s.index, "pairing"]).all()
    # each round's rating and interval are that round's score table
    t17 = data.round_table("2017").query("site_id == 'VC'").set_index("criterion")
    np.testing.assert_allclose(s["lower_from"], t17.loc[s.index, "lower"])
    now = data.table.query("site_id == 'VC'").set_index("criterion")
    np.testing.assert_allclose(s["upper_to"], now.loc[s.index, "upper"])
    # the demo's C4 improved reliably; nothing else did
    assert s.loc["C4", "reliable"] and s.loc["C4", "certainty"] == "improved_sure"
    assert not s.drop("C4")["reliable"].any()


def test_reliable_means_an_interval_without_zero_and_a_clear_probability():
    base = {"change": 0.5, "lower": 0.1, "upper": 0.9, "p_improved": 0.97, "p_worsened": 0.03}
    assert trend._certainty(base) == "improved_sure"
    assert trend._certainty({**base, "lower": -0.1}) == "improved_likely"  # P 0.97, 0 inside
    assert trend._certainty({**base, "p_improved": 0.8, "p_worsened": 0.2}) == "improved_likely"
    assert trend._certainty({**base, "p_improved": 0.7, "p_worsened": 0.3}) == "unclear"
    worse = {"change": -0.6, "lower": -1.0, "upper": -0.2, "p_improved": 0.02, "p_worsened": 0.98}
    assert trend._certainty(worse) == "worsened_sure"
    assert trend._certainty({**base, "change": np.nan, "p_improved": np.nan}) == "none"


def test_select_pairing_counts_what_both_rounds_share(data):
    pairing = trend.select_pairing(data, "VC")
    src = data.all_rounds.sources
    vc = src[(src["site_id"] == "VC") & src["panel_id"].notna()]
    both = set(vc.loc[vc["round"] == "2017", "panel_id"]) & set(
        vc.loc[vc["round"] == "2025", "panel_id"]
    )
    assert pairing["n_sources"] == len(both) >= 1
    assert pairing["kinds"] == ["sources", "clusters"]
    assert pairing["n_clusters"] > 0


# ------------------------------------------------------------------------------- words
def _row(**kw):
    row = {
        "criterion": "C2",
        "round_from": "2017",
        "round_to": "2025",
        "score_from": 2.0,
        "score_to": 2.8,
        "lower_from": 1.7,
        "upper_from": 2.3,
        "lower_to": 2.4,
        "upper_to": 3.2,
        "change": 0.8,
        "lower": 0.3,
        "upper": 1.3,
        "p_improved": 0.96,
        "p_worsened": 0.04,
        "insufficient_from": False,
        "insufficient_to": False,
        "thin_from": False,
        "thin_to": False,
    }
    row.update(kw)
    row["certainty"] = trend._certainty(row)
    return pd.Series(row)


WORSE = {
    "score_from": 2.8,
    "score_to": 2.0,
    "change": -0.8,
    "lower": -1.3,
    "upper": -0.3,
    "p_improved": 0.05,
    "p_worsened": 0.95,
}
UNCLEAR = {"score_to": 2.1, "change": 0.1, "lower": -0.5, "upper": 0.7, "p_improved": 0.61}


@pytest.mark.parametrize(
    ("kw", "en", "es"),
    [
        (
            {},
            "C2 Community relationship and consultation: very likely improved (96%); "
            "from 2.0 in 2017 to 2.8 in 2025 (change +0.8, 90% interval +0.3 to +1.3).",
            "C2 Relación y consulta con la comunidad: muy probablemente mejoró (96\u00a0%); pasó de "
            "2.0 en 2017 a 2.8 en 2025 (cambio +0.8, intervalo del 90 %: +0.3 a +1.3).",
        ),
        (
            WORSE,
            "very likely worsened (95%); from 2.8 in 2017 to 2.0 in 2025 (change −0.8, "
            "90% interval −1.3 to −0.3).",
            "muy probablemente empeoró (95\u00a0%); pasó de 2.8 en 2017 a 2.0 en 2025 (cambio −0.8, "
            "intervalo del 90 %: −1.3 a −0.3).",
        ),
        (
            UNCLEAR,
            "no clear change (probability of an improvement 61%)",
            "sin cambio claro (probabilidad de mejora 61\u00a0%)",
        ),
        (
            {"p_improved": 0.998, "p_worsened": 0.002},
            "almost certainly improved (over 99%)",
            "casi con certeza mejoró (más del 99\u00a0%)",
        ),
        (
            {"lower": -0.05, "p_improved": 0.93, "p_worsened": 0.07},
            "probably improved (93%), though the interval includes no change",
            "probablemente mejoró (93\u00a0%), aunque el intervalo incluye la ausencia de cambio",
        ),
    ],
)
def test_sentences_in_both_languages(kw, en, es):
    row = _row(**{k: v for k, v in kw.items() if k != "p_worsened"})
    if "p_improved" in kw:
        row["p_worsened"] = kw.get("p_worsened", 1 - kw["p_improved"])
        row["certainty"] = trend._certainty(row)
    got = {lang: trend.change_sentence(row, lang, ci_text=CI[lang]) for lang in ("en", "es")}
    assert en in got["en"]
    assert es in got["es"]
    for text in got.values():
        assert "P(" not in text


def test_the_printed_change_adds_up():
    row = _row(score_from=0.84, score_to=1.86, change=1.02)
    # 0.8 -> 1.9 is printed as +1.1, not the unrounded +1.0
    assert "from 0.8 in 2017 to 1.9 in 2025 (change +1.1" in trend.change_sentence(
        row, "en", ci_text="90%"
    )


def test_a_criterion_not_rated_in_a_round_says_so(data):
    row = _row(
        score_from=np.nan,
        change=np.nan,
        lower=np.nan,
        upper=np.nan,
        p_improved=np.nan,
        p_worsened=np.nan,
    )
    assert row["certainty"] == "none"
    assert trend.change_sentence(row, "en", ci_text="90%", data=data) == (
        "C2 Community relationship and consultation: not rated in 2017–2018 baseline: "
        "no change to report."
    )
    assert "sin valoración en Línea de base 2017–2018" in trend.change_sentence(
        row, "es", ci_text="90 %", data=data
    )


def test_trend_strings_have_both_languages_and_the_same_placeholders():
    keys = [k for k in STRINGS if k.startswith("trend.")]
    assert len(keys) > 40
    for key in keys:
        entry = STRINGS[key]
        assert set(entry) == {"es", "en"}, key
        assert placeholders(entry["es"]) == placeholders(entry["en"]), key
        assert entry["es"].count("|") == entry["en"].count("|"), key


# ------------------------------------------------------------------------------ sections
@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_change_section_of_the_demo(data, lang):
    sec = trend.change_section(data, "VC", lang, ci_text=CI[lang])
    assert isinstance(sec, doc.Section) and sec
    text = sec.text()
    head = sec.blocks[0]
    assert isinstance(head, doc.Heading) and head.level == 2
    if lang == "en":
        assert head.text == "Change since 2017–2018 baseline"
        assert (
            "C4 Analysis of conditions: almost certainly improved (99%); from 0.8 in 2017 to "
            "1.9 in 2025" in text
        )
        assert "C1 Small-area focus: no clear change (probability of an improvement 28%)" in text
        assert "1 source re-interviewed" in text and "16 of the same sampling clusters" in text
    else:
        assert head.text == "Cambio desde línea de base 2017–2018"
        assert "C4 Análisis de condiciones: casi con certeza mejoró (99\u00a0%)" in text
        assert "1 fuente entrevistada de nuevo" in text
    assert "P(" not in text
    kinds = [type(b).__name__ for b in sec.blocks]
    assert kinds[:4] == ["Heading", "Para", "Figure", "Table"]
    table = next(b for b in sec.blocks if isinstance(b, doc.Table))
    assert len(table.rows) == 5
    c4 = table.rows[3]
    assert c4[3].fill == trend.CERTAINTY_FILLS["improved_sure"][0]
    # both backends render it; every text is escaped
    html = sec.html()
    assert "<svg" not in html and "data:image/svg+xml;base64," in html


def test_the_change_section_carries_typst_too(data):
    pytest.importorskip("copeval.report.typst_markup")
    bundle = trend.change_section(data, "VC", "en", ci_text="90%")._repr_mimebundle_()
    assert bundle["text/html"] and bundle[doc.TYPST_MIME]


def test_lead_change_picks_the_largest_reliable_change(data, monkeypatch):
    assert trend.lead_change(data, "VC", "en") == (
        "Since 2017–2018 baseline, the largest clear change is in C4 Analysis of conditions: "
        "almost certainly improved (99%), from 0.8 to 1.9 (change +1.1, 90% interval +0.3 "
        "to +1.8)."
    )
    assert trend.lead_change(data, "VC", "es").startswith(
        "Desde línea de base 2017–2018, el mayor cambio claro es en C4 Análisis de condiciones"
    )
    # plant: a larger reliable worsening of C1 and a still larger, unreliable, C3 change
    real = data.change()
    planted = real.copy()
    vc = planted["site_id"] == "VC"
    c1, c3 = vc & (planted["criterion"] == "C1"), vc & (planted["criterion"] == "C3")
    planted.loc[c1, ["change", "lower", "upper", "p_improved", "p_worsened"]] = [
        -1.4,
        -2.0,
        -0.8,
        0.001,
        0.999,
    ]
    planted.loc[c3, ["change", "lower", "upper", "p_improved", "p_worsened"]] = [
        2.0,
        -0.2,
        3.0,
        0.89,
        0.11,
    ]
    monkeypatch.setattr(data, "change", lambda *a, **k: planted, raising=False)
    lead = trend.lead_change(data, "VC", "en")
    assert "C1 Small-area focus: almost certainly worsened (over 99%)" in lead
    # AT is auxiliary: a larger reliable AT change leads only when no core criterion has one
    at = vc & (planted["criterion"] == "AT")
    planted.loc[at, ["change", "lower", "upper", "p_improved", "p_worsened"]] = [
        2.5,
        1.5,
        3.5,
        0.999,
        0.001,
    ]
    assert "C1 Small-area focus" in trend.lead_change(data, "VC", "en")
    core = vc & (planted["criterion"] != "AT")
    planted.loc[core, ["p_improved", "p_worsened"]] = 0.5
    assert "AT Accountability and trust" in trend.lead_change(data, "VC", "en")
    # nothing reliable: no lead sentence
    calm = real.copy()
    calm[["p_improved", "p_worsened"]] = 0.5
    monkeypatch.setattr(data, "change", lambda *a, **k: calm, raising=False)
    assert trend.lead_change(data, "VC", "en") is None


@pytest.mark.parametrize("lang", ["en", "es"])
def test_trend_lines_for_the_brief(data, lang):
    sec = trend.trend_lines(data, "VC", lang)
    lines = next(b for b in sec.blocks if isinstance(b, doc.Bullets)).items
    assert len(lines) == 5
    words = "almost certainly improved" if lang == "en" else "casi con certeza mejoró"
    assert doc.plain_text(lines[3]).endswith(f": 0.8 → 1.9, {words}")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_change_grid(data, lang):
    sec = trend.change_grid(data, ["VC", "TOT"], lang)
    grid = next(b for b in sec.blocks if isinstance(b, doc.Table) and b.style == "heat")
    assert [doc.plain_text(r[0]) for r in grid.rows] == ["Villa Canales", "Totonicapán"]
    c4 = grid.rows[0][4]
    assert doc.plain_text(c4) == "+1.1 ↑"
    assert c4.fill == trend.CERTAINTY_FILLS["improved_sure"][0]
    assert grid.rows[0][3].fill == trend.CERTAINTY_FILLS["unclear"][0]
    legend = [b for b in sec.blocks if isinstance(b, doc.Para) and b.style == "legend"]
    chips = [c for c in legend[0].content if isinstance(c, doc.Chip)]
    assert [c.band for c in chips] == [4, 3, None, 1, 0]
    # the chips show the cells' colours (band colours of figures.BAND_COLORS)
    for chip, key in zip(chips, trend.LEGEND_BANDS, strict=True):
        fill = trend.CERTAINTY_FILLS[key][0]
        assert chip.band is None or figures.BAND_COLORS[chip.band] == fill


# -------------------------------------------------------------------------- measured once
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_one_round_project_says_measured_once(demo_path, lang):
    data = ReportData.load(demo_path, n_boot=N_BOOT, complete=False)
    assert trend.select_change(data, "VC").empty
    sec = trend.change_section(data, "VC", lang, ci_text=CI[lang])
    assert len(sec.blocks) == 2
    text = sec.text()
    assert ("has been measured once" if lang == "en" else "se ha medido una sola vez") in text
    assert trend.lead_change(data, "VC", lang) is None
    assert trend.trend_lines(data, "VC", lang).text()
    grid = trend.change_grid(data, ["VC", "TOT"], lang).text()
    assert ("single evaluation round" if lang == "en" else "una sola ronda") in grid


def test_the_first_round_says_there_is_nothing_before_it():
    data = ReportData.load(ROUNDS, n_boot=N_BOOT, complete=False, round="2017")
    text = trend.change_section(data, "VC", "en", ci_text="90%").text()
    assert "2017–2018 baseline is Villa Canales's first evaluation round" in text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_site_measured_in_one_round_only(once_site, lang):
    sel = trend.select_change(once_site, "TOT")
    assert sel["score_from"].isna().all() and (sel["certainty"] == "none").all()
    text = trend.change_section(once_site, "TOT", lang, ci_text=CI[lang]).text()
    if lang == "en":
        assert "Totonicapán was measured only in 2025 follow-up (synthetic)" in text
    else:
        assert "Totonicapán se midió solo en Seguimiento 2025 (sintético)" in text
    assert trend.lead_change(once_site, "TOT", lang) is None
    grid = trend.change_grid(once_site, ["VC", "TOT"], lang)
    heat = next(b for b in grid.blocks if isinstance(b, doc.Table) and b.style == "heat")
    assert len(heat.rows) == 1
    assert "(Totonicapán)" in grid.text()
    # the other site still has its change
    assert trend.select_change(once_site, "VC")["certainty"].ne("none").all()


# ------------------------------------------------------------------------------- figures
def test_wave_figure_draws_every_round_and_names_missing_columns(data):
    from copeval.errors import CopevalError

    rows = pd.concat([data.round_table("2017"), data.round_table("2025")])
    fig = figures.wave_figure(rows[rows["site_id"] == "VC"], lang="es", rounds=["2017", "2025"])
    assert len(fig.axes) == 5
    c4 = fig.axes[3]
    dots = [ln for ln in c4.lines if ln.get_marker() == "o"]
    assert len(dots) == 2
    assert [round(float(d.get_ydata()[0]), 3) for d in dots] == [
        round(float(v), 3) for v in rows.query("site_id == 'VC' and criterion == 'C4'")["score"]
    ]
    with pytest.raises(CopevalError, match="lacks column"):
        figures.wave_figure(rows.drop(columns="upper"))
    # a round without a rating leaves a gap, not an error
    gap = rows.copy()
    gap.loc[(gap["round"] == "2017") & (gap["criterion"] == "C1"), "score"] = np.nan
    figures.wave_figure(gap[gap["site_id"] == "VC"], rounds=["2017", "2025"])


def test_site_palette_is_stable_whatever_the_order():
    a = figures.site_palette(["VC", "TOT", "QUE"])
    assert a == figures.site_palette(["QUE", "VC", "TOT"])
    assert len(set(a.values())) == 3
    many = figures.site_palette([f"S{i:02d}" for i in range(20)])
    assert len(many) == 20 and set(many.values()) <= set(figures.SITE_COLORS)


def test_forest_figure_colours_a_site_the_same_in_every_order(data):
    table = data.table
    palette = figures.site_palette(data.site_names)

    def colour_of(fig):
        ax = fig.axes[0]
        dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
        return {ln.get_markeredgecolor() for ln in dots}

    forward = figures.forest_figure(table, palette=palette)
    backward = figures.forest_figure(table.iloc[::-1], palette=palette)
    only_vc = figures.forest_figure(
        pd.concat([table[table["site_id"] == "VC"], table[table["site_id"] == "TOT"]]),
        palette=palette,
    )
    for fig in (forward, backward, only_vc):
        handles = fig.legends[0].legend_handles
        labels = [x.get_text() for x in fig.legends[0].get_texts()]
        got = dict(zip(labels, (h.get_color() for h in handles), strict=True))
        assert got == {"VC": palette["VC"], "TOT": palette["TOT"]}
    assert colour_of(forward) == set(palette.values())


def test_a_round_label_cannot_inject_markup(tmp_path):
    import json

    if not (ROUNDS / "datapackage.json").is_file():
        pytest.skip("data/demo-rounds is not there")
    project = tmp_path / "p"
    shutil.copytree(ROUNDS, project)
    dp = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    dp["copeval"]["rounds"][0]["label_en"] = '<img src=x onerror="alert(1)"> 2017 & "base"'
    (project / "datapackage.json").write_text(json.dumps(dp), encoding="utf-8")
    data = ReportData.load(project, n_boot=N_BOOT, complete=False, memo=False)
    view = data.for_readers("en")
    for sec in (
        trend.change_section(view, "VC", "en", ci_text="90%"),
        trend.trend_lines(view, "VC", "en"),
        trend.change_grid(view, ["VC", "TOT"], "en"),
    ):
        html = sec.html()
        assert "<img src=x" not in html and 'onerror="alert' not in html
        assert "&lt;img src=x" in html


def test_three_rounds_compare_with_the_previous_one(tmp_path):
    from copeval.synth import synth_rounds

    synth_rounds(3, rounds=3, seed=2, out=tmp_path / "p")
    data = ReportData.load(tmp_path / "p", n_boot=N_BOOT, complete=False, memo=False)
    assert data.rounds == ["1", "2", "3"] and data.round == "3"
    assert data.previous_round() == "2"
    sel = trend.select_change(data, "SYN001")
    assert set(sel["round_from"]) == {"2"} and set(sel["round_to"]) == {"3"}
    # every earlier round's ratings are computed with the analysis (the wave plot's)
    assert {k for k in data.extras if isinstance(k, tuple) and k[0] == "round_table"} == {
        ("round_table", "1"),
        ("round_table", "2"),
        ("round_table", "3"),
    }
    sec = trend.change_section(data, "SYN001", "en", ci_text="90%")
    text = sec.text()
    assert sec.blocks[0].text == "Change since Round 2 (synthetic)"
    # round IDs that are not years are named by their labels
    assert " in Round 2 (synthetic) to " in text and " in 2 to " not in text
    assert "Round 1 (synthetic), Round 2 (synthetic) and Round 3 (synthetic)" in text
