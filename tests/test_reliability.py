"""Tests of copeval.reliability: hand-computed and published cases, properties, CLI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

from copeval.cli import main
from copeval.project import load_project, write_project
from copeval.reliability import (
    RESULT_COLUMNS,
    ReliabilityError,
    _alpha_from_coincidences,
    _coincidences,
    _value_counts,
    code_reliability,
    cohen_kappa,
    criterion_reliability,
    disagreements,
    krippendorff_alpha,
    reliability_data,
)

nan = np.nan

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: four observers,
# twelve units, values 1..5 with missing data. Published: nominal 0.743, ordinal 0.815.
KRIPP_C = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)
# Section A: binary data, two observers, ten units. Published alpha 0.095.
KRIPP_A = np.array([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]])
# Section B: nominal data, two observers, twelve units. Published alpha 0.692.
KRIPP_B = [list("aabbdcccedda"), list("babbbccceddd")]


def segments_from_matrix(matrix, *, code="C2.meetings", filler="C1", valence=False):
    """Segments on one source reproducing a coders x units matrix.

    Every coder puts the ``filler`` code on every span (so every span is a unit); a value in
    the matrix means the coder also applied ``code`` there (``valence=True``: with the value
    as valence), a NaN (or 0 when ``valence`` is False) that they did not.
    """
    rows = []
    n_coders, n_units = matrix.shape
    for c in range(n_coders):
        coder = f"K{c + 1}"
        for u in range(n_units):
            span = dict(source_id="S1", start=10 * u, end=10 * u + 5, coder=coder)
            rows.append(dict(span, segment_id=f"{coder}-f{u}", code=filler, valence=1))
            v = matrix[c, u]
            if (valence and not np.isnan(v)) or (not valence and v == 1):
                rows.append(
                    dict(
                        span,
                        segment_id=f"{coder}-c{u}",
                        code=code,
                        valence=int(v) if valence else 1,
                    )
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- coefficients
def test_cohen_kappa_classic_two_by_two():
    # 50 proposals; both yes 20, yes/no 5, no/yes 10, both no 15: p_o = 0.7, p_e = 0.5.
    assert cohen_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)


def test_cohen_kappa_krippendorff_binary_example():
    table = np.zeros((2, 2))
    for x, y in KRIPP_A.T:
        table[x, y] += 1
    # p_o = 0.6, p_e = 0.2 * 0.4 + 0.8 * 0.6 = 0.56, kappa = 0.04 / 0.44 = 1/11.
    assert cohen_kappa(table) == pytest.approx(1 / 11)


def test_cohen_kappa_undefined_without_variation():
    assert math.isnan(cohen_kappa([[7, 0], [0, 0]]))
    assert math.isnan(cohen_kappa([[0, 0], [0, 0]]))


def test_cohen_kappa_rejects_non_square():
    with pytest.raises(ReliabilityError, match="square table"):
        cohen_kappa([[1, 2, 3], [4, 5, 6]])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=9, max_size=9))
def test_cohen_kappa_matches_statsmodels(cells):
    table = np.array(cells, dtype=float).reshape(3, 3)
    ours = cohen_kappa(table)
    n = table.sum()
    p_e = (table.sum(0) * table.sum(1)).sum() / n**2 if n else 1.0
    if n == 0 or p_e >= 1 - 1e-9:
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(sm_cohens_kappa(table, return_results=False), abs=1e-9)


def test_krippendorff_published_examples():
    counts = _value_counts(KRIPP_C, [1.0, 2, 3, 4, 5])
    assert krippendorff_alpha(counts, level="nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(counts, level="ordinal") == pytest.approx(0.815, abs=5e-4)
    a = _value_counts(KRIPP_A.astype(float), [0.0, 1.0])
    # 1 - (n - 1) * o_01 / (n_0 * n_1) = 1 - 19 * 4 / (14 * 6)
    assert krippendorff_alpha(a) == pytest.approx(1 - 76 / 84)
    letters = np.array([[ord(x) for x in row] for row in KRIPP_B], dtype=float)
    b = _value_counts(letters, sorted(set(letters.ravel())))
    assert krippendorff_alpha(b) == pytest.approx(0.692, abs=5e-4)


def test_vectorised_alpha_reproduces_published_values():
    o = _coincidences(_value_counts(KRIPP_C, [1.0, 2, 3, 4, 5])).sum(axis=0)
    assert _alpha_from_coincidences(o, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert _alpha_from_coincidences(o, "ordinal") == pytest.approx(0.815, abs=5e-4)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 5),
    st.integers(2, 25),
    st.integers(2, 5),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["nominal", "ordinal"]),
)
def test_vectorised_alpha_matches_krippendorff_package(n_coders, n_units, n_values, seed, level):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, n_values, size=(n_coders, n_units)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    counts = _value_counts(data, np.arange(n_values, dtype=float))
    ours = _alpha_from_coincidences(_coincidences(counts).sum(axis=0), level)
    theirs = krippendorff_alpha(counts, level=level)
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-10)


def test_krippendorff_alpha_undefined_cases():
    assert math.isnan(krippendorff_alpha(np.array([[1, 0], [0, 1]])))  # no pairable unit
    assert math.isnan(krippendorff_alpha(np.array([[2, 0], [3, 0]])))  # no variation


# --------------------------------------------------------------------------- from segments
def test_code_reliability_reproduces_binary_example_from_segments():
    segs = segments_from_matrix(KRIPP_A.astype(float))
    table = code_reliability(segs, n_boot=0).set_index("code")
    assert table.loc["C2.meetings", "alpha_nominal"] == pytest.approx(1 - 76 / 84)
    assert table.loc["C2.meetings", "kappa"] == pytest.approx(1 / 11)
    assert table.loc["C2.meetings", "n_units"] == 10
    assert table.loc["C2.meetings", "n_present"] == 5
    assert table.loc["C2.meetings", "criterion"] == "C2"
    assert table.loc["C1", "alpha_nominal"] != table.loc["C1", "alpha_nominal"]  # no variation


def test_code_reliability_ordinal_valence_matches_published_example():
    # Values 1..5 become valences -2..+2: the ordinal metric only uses the order.
    segs = segments_from_matrix(KRIPP_C - 3, valence=True)
    row = code_reliability(segs, n_boot=0).set_index("code").loc["C2.meetings"]
    assert row["alpha_ordinal"] == pytest.approx(0.815, abs=5e-4)
    assert row["n_coders"] == 4
    # Units where at least two coders gave a valence: all but the last (one value only).
    assert row["n_valence_units"] == 11


def test_code_reliability_columns_and_overall_row():
    segs = segments_from_matrix(KRIPP_A.astype(float))
    table = code_reliability(segs, n_boot=50)
    assert list(table.columns) == RESULT_COLUMNS
    assert table["code"].tolist() == ["C1", "C2.meetings", "ALL"]
    overall = table.iloc[-1]
    assert overall["criterion"] == "ALL"
    assert overall["n_units"] == 20  # 10 units x 2 codes
    # Pooled by hand: C1 adds 20 values of 1 in agreement (o_11 += 20) to example A's
    # coincidences o_00 = 10, o_01 = o_10 = 4, o_11 = 2: n_0 = 14, n_1 = 26, n = 40.
    assert overall["alpha_nominal"] == pytest.approx(1 - 39 * 4 / (14 * 26))
    assert table["below_threshold"].dtype == bool
    assert bool(table.set_index("code").loc["C2.meetings", "below_threshold"])


def test_three_coders_kappa_is_mean_of_pairwise():
    m = np.array([[1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 0]], dtype=float)
    table = code_reliability(segments_from_matrix(m), n_boot=0).set_index("code")
    pairs = []
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        t = np.zeros((2, 2))
        for x, y in zip(m[a].astype(int), m[b].astype(int), strict=True):
            t[x, y] += 1
        pairs.append(sm_cohens_kappa(t, return_results=False))
    assert table.loc["C2.meetings", "kappa"] == pytest.approx(np.mean(pairs))


def test_coder_who_did_not_code_a_source_is_missing_not_absent():
    segs = pd.DataFrame(
        {
            "segment_id": ["a1", "b1", "a2", "c2"],
            "source_id": ["S1", "S1", "S2", "S2"],
            "start": [0, 0, 0, 0],
            "end": [5, 5, 5, 5],
            "code": ["C3", "C3", "C3", "C3"],
            "valence": [1, 1, 2, 2],
            "coder": ["A", "B", "A", "C"],
        }
    )
    data = reliability_data(segs)
    # Coder C did not code S1, coder B did not code S2: no rows for them there.
    assert sorted(zip(data["source_id"], data["coder"], strict=True)) == [
        ("S1", "A"),
        ("S1", "B"),
        ("S2", "A"),
        ("S2", "C"),
    ]
    assert data["present"].all()


def test_sources_coded_by_one_coder_are_not_units():
    segs = pd.DataFrame(
        {
            "segment_id": ["a1", "b1", "a2"],
            "source_id": ["S1", "S1", "S2"],
            "start": [0, 0, 0],
            "end": [5, 5, 5],
            "code": ["C3", "C3", "C4"],
            "valence": [1, 1, 2],
            "coder": ["A", "B", "A"],
        }
    )
    table = code_reliability(segs, n_boot=0)
    assert table["code"].tolist() == ["C3", "ALL"]
    assert table["n_units"].iloc[0] == 1


def test_fewer_than_two_coders_gives_empty_table_with_columns():
    one = segments_from_matrix(KRIPP_A[:1].astype(float))
    out = code_reliability(one)
    assert out.empty and list(out.columns) == RESULT_COLUMNS
    # Two coders, but never on the same source.
    apart = pd.DataFrame(
        {
            "segment_id": ["a1", "b1"],
            "source_id": ["S1", "S2"],
            "start": [0, 0],
            "end": [5, 5],
            "code": ["C3", "C3"],
            "valence": [1, 1],
            "coder": ["A", "B"],
        }
    )
    assert code_reliability(apart).empty
    assert criterion_reliability(apart).empty
    assert disagreements(apart).empty


def test_bootstrap_is_seeded_and_bounds_are_ordered():
    rng = np.random.default_rng(3)
    m = (rng.random((2, 40)) < 0.4).astype(float)
    m[1, :30] = m[0, :30]  # mostly agreeing
    segs = segments_from_matrix(m)
    a = code_reliability(segs, n_boot=300, seed=11)
    b = code_reliability(segs, n_boot=300, seed=11)
    c = code_reliability(segs, n_boot=300, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a["alpha_nominal_lower"].equals(c["alpha_nominal_lower"])
    row = a.set_index("code").loc["C2.meetings"]
    assert row["alpha_nominal_lower"] <= row["alpha_nominal"] <= row["alpha_nominal_upper"]
    assert -1 <= row["alpha_nominal_lower"] < row["alpha_nominal_upper"] <= 1


def test_bootstrap_interval_narrows_with_more_units():
    rng = np.random.default_rng(5)

    def width(n):
        m = (rng.random((2, n)) < 0.5).astype(float)
        flip = rng.random(n) < 0.15
        m[1] = np.where(flip, 1 - m[0], m[0])
        row = code_reliability(segments_from_matrix(m), n_boot=400, seed=0)
        row = row.set_index("code").loc["C2.meetings"]
        return row["alpha_nominal_upper"] - row["alpha_nominal_lower"]

    assert width(400) < width(25)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 3))
def test_row_order_does_not_change_results(seed, n_coders):
    rng = np.random.default_rng(seed)
    m = (rng.random((n_coders, 12)) < 0.5).astype(float)
    segs = segments_from_matrix(m)
    shuffled = segs.sample(frac=1, random_state=seed % 1000).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        code_reliability(segs, n_boot=30, seed=1), code_reliability(shuffled, n_boot=30, seed=1)
    )
    pd.testing.assert_frame_equal(disagreements(segs), disagreements(shuffled))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_perfect_agreement_gives_one(seed):
    rng = np.random.default_rng(seed)
    row = rng.integers(-2, 3, size=15).astype(float)
    row[rng.random(15) < 0.3] = np.nan
    row[:2] = [-2, 2]  # at least two different valences
    segs = segments_from_matrix(np.vstack([row, row]), valence=True)
    table = code_reliability(segs, n_boot=20).set_index("code")
    assert table.loc["C2.meetings", "alpha_ordinal"] == pytest.approx(1.0)
    present = ~np.isnan(row)
    if 0 < present.sum() < len(row):
        assert table.loc["C2.meetings", "alpha_nominal"] == pytest.approx(1.0)
        assert table.loc["C2.meetings", "kappa"] == pytest.approx(1.0)
        assert table.loc["C2.meetings", "alpha_nominal_lower"] == pytest.approx(1.0)
    assert disagreements(segs).empty


def test_inputs_are_not_modified():
    segs = segments_from_matrix(KRIPP_C - 3, valence=True)
    before = segs.copy()
    code_reliability(segs, n_boot=10)
    criterion_reliability(segs, n_boot=10)
    disagreements(segs)
    pd.testing.assert_frame_equal(segs, before)


# --------------------------------------------------------------------------- criterion level
def test_criterion_reliability_counts_sub_code_choices_as_agreement():
    segs = pd.DataFrame(
        {
            "segment_id": ["a1", "b1", "a2", "b2", "a3", "b3"],
            "source_id": "S1",
            "start": [0, 0, 10, 10, 20, 20],
            "end": [5, 5, 15, 15, 25, 25],
            "code": ["C2.meetings", "C2.channels", "C3", "C3", "C1", "C4"],
            "valence": [1, 1, 1, 1, 0, 0],
            "coder": ["A", "B", "A", "B", "A", "B"],
        }
    )
    by_code = code_reliability(segs, n_boot=0).set_index("code")
    by_crit = criterion_reliability(segs, n_boot=0).set_index("criterion")
    assert by_code.loc["C2.meetings", "alpha_nominal"] < 0.667
    assert by_crit.loc["C2", "alpha_nominal"] == pytest.approx(1.0)
    assert by_crit.loc["C1", "below_threshold"]
    assert "code" not in by_crit.reset_index().columns
    assert by_crit.index.tolist() == ["C1", "C2", "C3", "C4"]


# --------------------------------------------------------------------------- disagreements
def test_disagreements_table():
    segs = pd.DataFrame(
        {
            "segment_id": ["a1", "b1", "a2", "b2", "a3"],
            "source_id": "S1",
            "start": [0, 0, 10, 12, 30],
            "end": [5, 5, 20, 20, 40],
            "code": ["C2.meetings", "C2.meetings", "C3", "C3", "C3"],
            "valence": [2, 1, 1, 1, pd.NA],
            "coder": ["A", "B", "A", "B", "A"],
        }
    )
    dis = disagreements(segs)
    assert dis["unit"].tolist() == ["S1[0:5]", "S1[10:20]", "S1[12:20]", "S1[30:40]"]
    assert dis["kind"].tolist() == ["valence", "presence", "presence", "presence"]
    first = dis.iloc[0]
    assert (first["valence_A"], first["valence_B"]) == (2, 1)
    assert first["segment_ids"] == ("a1", "b1")
    second = dis.iloc[1]
    assert bool(second["present_A"]) and not bool(second["present_B"])
    assert second["segment_ids"] == ("a2",)
    # B coded C3 on an overlapping span: a boundary disagreement.
    assert second["overlapping_segment_ids"] == ("b2",)
    assert dis.iloc[2]["overlapping_segment_ids"] == ("a2",)
    assert dis.iloc[3]["overlapping_segment_ids"] == ()
    assert pd.isna(dis.iloc[3]["valence_A"])


# --------------------------------------------------------------------------- errors
def test_missing_column_is_named():
    segs = segments_from_matrix(KRIPP_A.astype(float)).drop(columns="coder")
    with pytest.raises(ReliabilityError, match=r"lacks column\(s\) coder.*Available columns"):
        code_reliability(segs)


def test_bad_valence_is_named():
    segs = segments_from_matrix(KRIPP_A.astype(float))
    segs.loc[3, "valence"] = 5
    with pytest.raises(ReliabilityError, match=r"row 5, column 'valence': 5 is not one of"):
        code_reliability(segs)


def test_unknown_code_without_criterion_column():
    segs = segments_from_matrix(KRIPP_A.astype(float), code="X9.other")
    with pytest.raises(ReliabilityError, match=r"criterion of code 'X9\.other'"):
        code_reliability(segs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_boot": -1}, "n_boot must be a whole number"),
        ({"level": 1.5}, "level must be between 0 and 1"),
        ({"threshold": 0}, r"threshold must be in \(0, 1\]"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ReliabilityError, match=match):
        code_reliability(segments_from_matrix(KRIPP_A.astype(float)), **kwargs)


# --------------------------------------------------------------------------- CLI
TEXT = "x" * 200


def _project(tmp_path, segments, name="p", consent="quote"):
    sites = pd.DataFrame({"site_id": ["A"], "name": ["Sitio A"], "department": ["Dep"]})
    sources = pd.DataFrame(
        {
            "source_id": ["S1"],
            "site_id": ["A"],
            "respondent_group": ["community_member"],
            "method": ["interview"],
            "language": ["es"],
            "consent": [consent],
        }
    )
    return write_project(
        tmp_path / name, sites=sites, sources=sources, segments=segments, texts={"S1": TEXT}
    )


def test_cli_two_coders(tmp_path, capsys):
    segs = segments_from_matrix(KRIPP_A.astype(float))
    path = _project(tmp_path, segs)
    out_csv, dis_csv = tmp_path / "out" / "rel.csv", tmp_path / "dis.csv"
    rc = main(
        [
            "reliability",
            str(path),
            "--out",
            str(out_csv),
            "--n-boot",
            "100",
            "--seed",
            "3",
            "--disagreements",
            str(dis_csv),
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "2 coders (K1, K2)" in printed
    assert "Disagreements: 4 (4 on presence, 0 on valence)" in printed
    assert "C2.meetings" in printed and "BELOW 0.667" in printed
    table = pd.read_csv(out_csv)
    assert list(table.columns) == RESULT_COLUMNS
    expected = code_reliability(load_project(path).segments, n_boot=100, seed=3)
    assert table["alpha_nominal_lower"].tolist() == pytest.approx(
        expected["alpha_nominal_lower"].tolist(), nan_ok=True
    )
    dis = pd.read_csv(dis_csv)
    assert len(dis) == 4 and set(dis["kind"]) == {"presence"}


def test_cli_by_criterion(tmp_path, capsys):
    path = _project(tmp_path, segments_from_matrix(KRIPP_A.astype(float)))
    assert main(["reliability", str(path), "--by", "criterion", "--n-boot", "0"]) == 0
    assert "no bootstrap intervals" in capsys.readouterr().out


def test_cli_one_coder(tmp_path, capsys):
    path = _project(tmp_path, segments_from_matrix(KRIPP_A[:1].astype(float)))
    out_csv = tmp_path / "rel.csv"
    assert main(["reliability", str(path), "--out", str(out_csv)]) == 0
    err = capsys.readouterr().err
    assert "Only one coder (K1)" in err and "at least two coders" in err
    assert list(pd.read_csv(out_csv).columns) == RESULT_COLUMNS


def test_cli_leaves_out_sources_without_consent(tmp_path, capsys):
    path = _project(tmp_path, segments_from_matrix(KRIPP_A.astype(float)), consent="none")
    assert main(["reliability", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("No usable segments in") and "at least two coders" in err
    # 20 filler segments + 6 applications of the code (example A has 2 + 4 ones)
    assert "(26 segment(s) on sources with consent 'none' are left out.)" in err


def test_cli_bad_option_is_a_clean_error(tmp_path, capsys):
    path = _project(tmp_path, segments_from_matrix(KRIPP_A.astype(float)))
    assert main(["reliability", str(path), "--n-boot", "-2"]) == 1
    assert "error: n_boot must be a whole number" in capsys.readouterr().err


# --------------------------------------------------------------------------- demo
def test_demo_project_reliability(demo_path):
    project = load_project(demo_path)
    segs = project.segments
    coders_per_source = segs.groupby("source_id")["coder"].nunique()
    table = code_reliability(segs, n_boot=200, seed=0)
    if (coders_per_source >= 2).sum() == 0:
        assert table.empty
        pytest.skip("the demo has no double-coded source")
    assert table["code"].iloc[-1] == "ALL"
    assert set(table["code"].iloc[:-1]) <= set(project.codebook.codes)
    finite = table["alpha_nominal"].notna()
    assert (
        (table.loc[finite, "alpha_nominal"] >= -1) & (table.loc[finite, "alpha_nominal"] <= 1)
    ).all()
    assert (table["below_threshold"] == (table["alpha_nominal"] < 0.667)).all()
    dis = disagreements(segs)
    assert set(dis["kind"]) <= {"presence", "valence"}
