"""Report figures: documented input shapes, labels in the report language, no global state."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from copeval.errors import CopevalError
from copeval.report import figures


@pytest.fixture
def scores():
    rows = []
    for s, base in (("VC", 1.0), ("TOT", 2.0)):
        for i, c in enumerate(["C1", "C2", "C3", "C4", "AT"]):
            sc = min(4.0, base + 0.4 * i)
            rows.append(
                dict(
                    site_id=s,
                    criterion=c,
                    score=sc,
                    lower=sc - 0.3,
                    upper=min(4, sc + 0.3),
                    insufficient_evidence=(s, c) == ("VC", "AT"),
                    thin_evidence=(s, c) == ("TOT", "C4"),
                )
            )
    rows.append(
        dict(
            site_id="0101",
            criterion="C1",
            score=np.nan,
            lower=np.nan,
            upper=np.nan,
            insufficient_evidence=False,
            thin_evidence=False,
        )
    )
    return pd.DataFrame(rows)


def _text(fig) -> str:
    return figures.figure_to_svg(fig)


def test_heatmap_labels_cells_in_spanish_and_marks_thin_evidence(scores):
    fig = figures.heatmap_figure(
        scores,
        lang="es",
        site_names={"VC": "Villa Canales", "TOT": "Totonicapán"},
        highlight="VC",
    )
    assert isinstance(fig, Figure)
    svg = _text(fig)
    assert "Totonicapán" in svg and "Villa Canales" in svg
    assert "Enfoque en" in svg  # criterion label, wrapped
    assert "incipiente" in svg and "sin datos" in svg
    assert "†" in svg and "‡" in svg  # the marked cells


def test_forest_single_and_multi_site(scores):
    one = figures.forest_figure(scores[scores["site_id"] == "VC"], lang="en")
    svg = _text(one)
    assert "Small-area focus" in svg and "acceptable" in svg  # band label
    many = figures.forest_figure(scores, lang="en", site_names={"VC": "Villa Canales"})
    assert "Villa Canales" in _text(many)  # legend


def test_likert_bars_bin_rescaled_values_and_show_n():
    data = pd.DataFrame(
        {
            "respondent_id": [f"R{i}" for i in range(6)],
            "criterion": ["C2"] * 6,
            "instrument": ["community"] * 6,
            "value": [0.0, 0.67, 2.0, 2.0, 3.33, 4.0],
        }
    )
    svg = _text(figures.likert_figure(data, lang="es"))
    assert "n=6" in svg
    assert "comunidad" in svg and "Muy favorable" in svg


def test_likert_without_answers_says_so():
    empty = pd.DataFrame({"criterion": pd.Series(dtype=object), "value": pd.Series(dtype=float)})
    assert "no survey responses" in _text(figures.likert_figure(empty, lang="en"))


def test_coverage_counts_sources_and_segments():
    ev = pd.DataFrame(
        {
            "criterion": ["C1", "C1", "C1", "C2"],
            "stratum": ["police", "police", "community", "police"],
            "source_id": ["S1", "S1", "S2", "S1"],
            "segment_id": ["a", "b", "c", "d"],
        }
    )
    svg = _text(figures.coverage_figure(ev, lang="en"))
    assert "1 (2)" in svg  # C1 x police: one source, two segments
    assert "Observation and" in svg  # stratum label (wrapped over two lines)


def test_missing_columns_are_named():
    with pytest.raises(CopevalError, match="scores lacks column\\(s\\) lower, upper"):
        figures.forest_figure(pd.DataFrame({"site_id": [], "criterion": [], "score": []}))
    with pytest.raises(CopevalError, match="must be a pandas DataFrame"):
        figures.heatmap_figure([1, 2])


def test_figures_leave_matplotlib_state_alone_and_svg_is_deterministic(scores):
    before = dict(mpl.rcParams)
    a = _text(figures.heatmap_figure(scores, lang="en"))
    b = _text(figures.heatmap_figure(scores, lang="en"))
    assert a == b
    assert dict(mpl.rcParams) == before
    html = figures.figure_html(figures.heatmap_figure(scores, lang="en"), "Figure 1. <x>")
    assert html.startswith('<figure class="cv-figure"><img')
    assert "Figure 1. &lt;x&gt;" in html
