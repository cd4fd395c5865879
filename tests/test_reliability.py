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
    GATE_COLUMNS,
    N_BOOT_DEFAULT,
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
    scoring_gate,
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
    assert (table["presence_below"] == (table["alpha_nominal"] < 0.667)).all()
    assert (table["valence_below"] == (table["alpha_ordinal"] < 0.667)).all()
    assert (table["below_threshold"] == (table["presence_below"] | table["valence_below"])).all()
    dis = disagreements(segs)
    assert set(dis["kind"]) <= {"presence", "valence"}


# --------------------------------------------------------------------------- verdicts
def planted_valence_segments(val_a, val_b, *, n_empty=6, width=8, gap=4):
    """Two coders agree on where C2.meetings applies but give it the valences given.

    Every span carries the filler code C1 from both coders; the first ``len(val_a)`` spans
    also C2.meetings (both coders), the last ``n_empty`` spans only the filler.
    """
    rows = []
    n = len(val_a) + n_empty
    for coder, vals in (("A", val_a), ("B", val_b)):
        for u in range(n):
            span = dict(source_id="S1", start=u * (width + gap), end=u * (width + gap) + width)
            rows.append(
                dict(span, segment_id=f"{coder}-f{u:03d}", code="C1", valence=1, coder=coder)
            )
            if u < len(vals):
                rows.append(
                    dict(
                        span,
                        segment_id=f"{coder}-m{u:03d}",
                        code="C2.meetings",
                        valence=vals[u],
                        coder=coder,
                    )
                )
    return pd.DataFrame(rows)


VAL_A = [2, 1, 0, -1, -2] * 2
VAL_B = [-2, -1, 0, 1, 2] * 2  # the same spans, valences mirrored


def test_verdict_thresholds_are_krippendorffs():
    from copeval.reliability import _verdict, _worst

    assert _verdict(0.8) == "reliable" and _verdict(0.7999) == "tentative"
    assert _verdict(0.667) == "tentative" and _verdict(0.6669) == "unreliable"
    assert _verdict(-0.5) == "unreliable" and _verdict(nan) == "undefined"
    assert _worst("reliable", "unreliable") == "unreliable"
    assert _worst("tentative", "reliable") == "tentative"
    assert _worst("undefined", "tentative") == "tentative"
    assert _worst("undefined", "undefined") == "undefined"


@pytest.mark.parametrize("unitizing", ["exact", "overlap"])
def test_planted_valence_disagreement_fails_the_verdict(unitizing):
    segs = planted_valence_segments(VAL_A, VAL_B)
    table = code_reliability(segs, n_boot=0, unitizing=unitizing).set_index("code")
    row = table.loc["C2.meetings"]
    # presence agrees perfectly: the presence-only rule of the past called this reliable
    assert row["alpha_nominal"] == pytest.approx(1.0)
    assert row["presence_verdict"] == "reliable" and not row["presence_below"]
    assert row["alpha_ordinal"] < 0
    assert row["valence_verdict"] == "unreliable" and row["valence_below"]
    assert row["verdict"] == "unreliable" and row["below_threshold"]
    assert row["unitizing"] == unitizing
    # the filler code is on every unit with one valence: no variation, alpha undefined
    assert table.loc["C1", "valence_verdict"] == "undefined"
    assert table.loc["C1", "verdict"] == "undefined" and not table.loc["C1", "below_threshold"]
    by_crit = criterion_reliability(segs, n_boot=0, unitizing=unitizing).set_index("criterion")
    assert by_crit.loc["C2", "valence_verdict"] == "unreliable"
    assert by_crit.loc["C2", "presence_verdict"] == "reliable"
    assert by_crit.loc["C2", "below_threshold"]


def test_agreeing_valences_pass_the_verdict():
    segs = planted_valence_segments(VAL_A, VAL_A)
    row = code_reliability(segs, n_boot=0).set_index("code").loc["C2.meetings"]
    assert row["alpha_ordinal"] == pytest.approx(1.0)
    assert row["verdict"] == "reliable" and not row["below_threshold"]


def test_one_step_valence_disagreement_is_tentative_or_worse_by_its_alpha():
    # B differs by one step on 2 of 10 spans: ordinal alpha between the two thresholds?
    val_b = list(VAL_A)
    val_b[0], val_b[6] = 1, 0
    segs = planted_valence_segments(VAL_A, val_b)
    row = code_reliability(segs, n_boot=0).set_index("code").loc["C2.meetings"]
    assert row["valence_verdict"] == (
        "reliable"
        if row["alpha_ordinal"] >= 0.8
        else "tentative"
        if row["alpha_ordinal"] >= 0.667
        else "unreliable"
    )
    assert 0.667 <= row["alpha_ordinal"] < 1


def test_scoring_gate_rows_name_the_failed_measure():
    segs = planted_valence_segments(VAL_A, VAL_B)
    gate = scoring_gate(segs)
    assert list(gate.columns) == GATE_COLUMNS
    assert set(gate["unitizing"]) == {"overlap"}  # the gate's default
    key = gate.set_index(["criterion", "code", "measure"])
    assert not key.loc[("C2", "C2.meetings", "presence"), "below_threshold"]
    assert key.loc[("C2", "C2.meetings", "valence"), "below_threshold"]
    assert key.loc[("C2", "C2.meetings", "valence"), "verdict"] == "unreliable"
    assert key.loc[("C2", "", "valence"), "below_threshold"]
    assert not key.loc[("C2", "", "presence"), "below_threshold"]
    assert key.loc[("C1", "C1", "valence"), "verdict"] == "undefined"
    assert not key.loc[("C1", "C1", "valence"), "below_threshold"]
    # n_units: characters where anyone applied the code, or with two valences
    assert key.loc[("C2", "C2.meetings", "presence"), "n_units"] == 10 * 8
    assert gate["below_threshold"].dtype == bool
    # which figures warn: below the threshold, and not a single code's valence
    assert key.loc[("C2", "", "valence"), "warn"]
    assert not key.loc[("C2", "C2.meetings", "valence"), "warn"]
    expected = gate["below_threshold"] & ~((gate["measure"] == "valence") & (gate["code"] != ""))
    assert (gate["warn"] == expected).all()


def test_scoring_gate_exact_matches_the_tables():
    segs = segments_from_matrix(KRIPP_C - 3, valence=True)
    gate = scoring_gate(segs, unitizing="exact")
    codes = code_reliability(segs, n_boot=0).set_index("code")
    crit = criterion_reliability(segs, n_boot=0).set_index("criterion")
    for r in gate.itertuples():
        if r.code:
            col = "alpha_nominal" if r.measure == "presence" else "alpha_ordinal"
            expected = codes.loc[r.code, col]
        else:
            col = "alpha_nominal" if r.measure == "presence" else "alpha_ordinal"
            expected = crit.loc[r.criterion, col]
        assert r.alpha == pytest.approx(expected, nan_ok=True)
    assert gate.set_index(["code", "measure"]).loc[("C2.meetings", "valence"), "alpha"] == (
        pytest.approx(0.815, abs=5e-4)
    )


def test_scoring_gate_empty_with_one_coder():
    gate = scoring_gate(segments_from_matrix(KRIPP_A[:1].astype(float)))
    assert gate.empty and list(gate.columns) == GATE_COLUMNS


def test_reliability_bootstrap_default_is_one_constant():
    import inspect

    assert N_BOOT_DEFAULT == 1000
    for func in (code_reliability, criterion_reliability):
        assert inspect.signature(func).parameters["n_boot"].default == N_BOOT_DEFAULT


# --------------------------------------------------------------------------- unitizing
def test_overlap_equals_exact_when_spans_coincide():
    # every segment has the median length and spans never partly overlap: a run is a span
    segs = segments_from_matrix(KRIPP_C - 3, valence=True)
    exact = code_reliability(segs, n_boot=0)
    overlap = code_reliability(segs, n_boot=0, unitizing="overlap")
    for col in ("alpha_nominal", "alpha_ordinal", "kappa"):
        assert overlap[col].tolist() == pytest.approx(exact[col].tolist(), nan_ok=True)
    assert overlap.set_index("code").loc["C2.meetings", "alpha_ordinal"] == pytest.approx(
        0.815, abs=5e-4
    )
    # n_units counts characters (12 spans of 5) instead of spans
    assert overlap["n_units"].iloc[0] == 60 and exact["n_units"].iloc[0] == 12


def test_overlap_hand_computed_shifted_span():
    # A codes [0, 10), B codes [2, 10) with the same code: runs [0, 2) (A only) and [2, 10)
    # (both). Median segment length 9, so the runs weigh 2/9 and 8/9 (module docstring).
    # o_01 = o_10 = 2/9, o_11 = 2 * 8/9; n_0 = 2/9, n_1 = 18/9, n = 20/9;
    # e_01 = n_0 n_1 / (n - 1) = (2/9)(18/9) / (11/9) = 4/11;
    # alpha = 1 - (2 * 2/9) / (2 * 4/11) = 1 - 11/18 = 7/18.
    segs = pd.DataFrame(
        {
            "segment_id": ["a", "b"],
            "source_id": "S1",
            "start": [0, 2],
            "end": [10, 10],
            "code": "C1.patrol",
            "valence": [2, 2],
            "coder": ["A", "B"],
        }
    )
    row = code_reliability(segs, n_boot=0, unitizing="overlap").iloc[0]
    assert row["alpha_nominal"] == pytest.approx(7 / 18)
    assert row["n_units"] == 10 and row["n_present"] == 10 and row["n_valence_units"] == 8
    # Cohen's kappa on characters: table [[0, 2], [0, 8]] -> p_o = 0.8 = p_e -> 0
    assert row["kappa"] == pytest.approx(0.0)
    # exact spans: two units, each coded by one coder only
    exact = code_reliability(segs, n_boot=0).iloc[0]
    assert exact["alpha_nominal"] == pytest.approx(1 - 3 * 2 / (2 * 2))


def test_overlap_valence_on_overlapping_characters():
    # same span boundaries differ; valences are compared where both coders coded
    segs = pd.DataFrame(
        {
            "segment_id": ["a1", "a2", "b1", "b2"],
            "source_id": "S1",
            "start": [0, 20, 1, 20],
            "end": [10, 30, 10, 29],
            "code": "C1.patrol",
            "valence": [2, -2, 2, -2],
            "coder": ["A", "A", "B", "B"],
        }
    )
    row = code_reliability(segs, n_boot=0, unitizing="overlap").iloc[0]
    assert row["alpha_ordinal"] == pytest.approx(1.0)
    assert row["n_valence_units"] == 9 + 9
    exact = code_reliability(segs, n_boot=0).iloc[0]
    assert math.isnan(exact["alpha_ordinal"])  # no span coded identically by both


def shifted(segs, n, by, seed=0):
    rng = np.random.default_rng(seed)
    counts = segs.groupby("source_id")["coder"].nunique()
    shared = segs["source_id"].isin(counts[counts >= 2].index)
    pool = segs.index[(segs["coder"] == segs["coder"].max()) & shared]
    pick = rng.choice(pool, size=min(n, len(pool)), replace=False)
    out = segs.copy()
    out.loc[pick, "start"] += by
    return out


def test_shifting_starts_barely_moves_overlap_alpha(demo_path):
    project = load_project(demo_path)
    segs = project.segments
    if segs["coder"].nunique() < 2:
        pytest.skip("the demo has a single coder")
    moved = shifted(segs, 51, 2)
    exact = [code_reliability(s, n_boot=0).iloc[-1]["alpha_nominal"] for s in (segs, moved)]
    over = [
        code_reliability(s, n_boot=0, unitizing="overlap").iloc[-1]["alpha_nominal"]
        for s in (segs, moved)
    ]
    assert exact[0] - exact[1] > 0.3  # exact spans: every moved start is two disagreements
    assert abs(over[0] - over[1]) < 0.02
    assert abs(over[0] - exact[0]) < 0.05  # same data, same agreement when spans match


def dense_segments(n_chars=4000, n_codes=4, seed=0, jitter=3):
    """Two coders; the text is coded densely (one contiguous stretch of coded text)."""
    rng = np.random.default_rng(seed)
    rows = []
    codes = [f"C{k % 4 + 1}.x{k}" for k in range(n_codes)]
    for k, code in enumerate(codes):
        starts = np.arange(0, n_chars - 100, 50) + k
        for i, s in enumerate(starts):
            v = int(rng.integers(-2, 3))
            for coder in ("A", "B"):
                d = int(rng.integers(-jitter, jitter + 1)) if coder == "B" else 0
                vb = v if coder == "A" or rng.random() > 0.2 else int(rng.integers(-2, 3))
                rows.append(
                    dict(
                        segment_id=f"{coder}-{k}-{i:04d}",
                        source_id="S1",
                        start=max(s + d, 0),
                        end=s + 80 + d,
                        code=code,
                        valence=vb,
                        coder=coder,
                        criterion=code.split(".")[0],
                    )
                )
    return pd.DataFrame(rows)


def test_overlap_bootstrap_resamples_blocks_not_one_stretch():
    from copeval.reliability import _Units

    segs = dense_segments()
    units = _Units(segs, "overlap")
    assert units.n_blocks > 20  # one contiguous stretch, cut into segment-sized blocks
    a = code_reliability(segs, n_boot=200, seed=1, unitizing="overlap")
    b = code_reliability(segs, n_boot=200, seed=1, unitizing="overlap")
    pd.testing.assert_frame_equal(a, b)
    overall = a.iloc[-1]
    assert overall["alpha_nominal_lower"] < overall["alpha_nominal"]
    assert overall["alpha_nominal"] < overall["alpha_nominal_upper"]
    assert overall["alpha_ordinal_upper"] - overall["alpha_ordinal_lower"] > 0.01


def test_overlap_handles_zero_length_segments_and_three_coders():
    segs = segments_from_matrix(KRIPP_C - 3, valence=True)
    extra = pd.DataFrame(
        [dict(segment_id="z", source_id="S1", start=7, end=7, code="C1", valence=1, coder="K1")]
    )
    table = code_reliability(pd.concat([segs, extra]), n_boot=0, unitizing="overlap")
    assert table["n_coders"].iloc[0] == 4
    assert table.set_index("code").loc["C2.meetings", "alpha_ordinal"] == pytest.approx(
        0.815, abs=5e-4
    )


def test_overlap_is_row_order_invariant_and_leaves_input_alone():
    segs = dense_segments(n_chars=1500, seed=3)
    before = segs.copy()
    a = code_reliability(segs, n_boot=50, seed=0, unitizing="overlap")
    pd.testing.assert_frame_equal(segs, before)
    b = code_reliability(
        segs.sample(frac=1, random_state=1), n_boot=50, seed=0, unitizing="overlap"
    )
    pd.testing.assert_frame_equal(a, b)


def test_bad_unitizing_is_named():
    segs = segments_from_matrix(KRIPP_A.astype(float))
    for func in (code_reliability, criterion_reliability, scoring_gate):
        with pytest.raises(ReliabilityError, match="unitizing must be 'exact' or 'overlap'"):
            func(segs, unitizing="fuzzy")


def test_cli_valence_verdict_and_unitizing(tmp_path, capsys):
    path = _project(tmp_path, planted_valence_segments(VAL_A, VAL_B))
    assert main(["reliability", str(path), "--n-boot", "0"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.strip().startswith("C2.meetings"))
    assert line.rstrip().endswith("BELOW 0.667 (valence)")
    assert "Valence alpha below 0.667: C2.meetings" in out
    assert "Presence alpha below" not in out
    assert main(["reliability", str(path), "--n-boot", "0", "--unitizing", "overlap"]) == 0
    out = capsys.readouterr().out
    assert "coded characters as units (--unitizing overlap)" in out
    assert "characters coded" in out


def test_cli_bad_unitizing_is_one_line(tmp_path, capsys):
    path = _project(tmp_path, segments_from_matrix(KRIPP_A.astype(float)))
    assert main(["reliability", str(path), "--unitizing", "fuzzy"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: unitizing must be 'exact' or 'overlap', got 'fuzzy'"


def test_demo_valence_verdicts(demo_path, capsys):
    project = load_project(demo_path)
    if project.segments["coder"].nunique() < 2:
        pytest.skip("the demo has a single coder")
    assert main(["reliability", str(demo_path), "--by", "criterion", "--n-boot", "0"]) == 0
    out = capsys.readouterr().out
    verdicts = {
        line.split()[0]: line
        for line in out.splitlines()
        if line.split() and line.split()[0] in ("C1", "C2", "C3", "C4", "AT")
    }
    assert verdicts["C2"].rstrip().endswith("BELOW 0.667 (valence)")
    assert verdicts["C4"].rstrip().endswith("BELOW 0.667 (valence)")
    assert verdicts["C3"].rstrip().endswith("tentative (valence)")
    assert "Valence alpha below 0.667: C2, C4." in out


def test_scoring_gate_on_the_demo(demo_path):
    project = load_project(demo_path)
    segs = project.segments
    if segs["coder"].nunique() < 2:
        pytest.skip("the demo has a single coder")
    consented = project.sources.loc[project.sources["consent"] != "none", "source_id"]
    segs = segs[segs["source_id"].isin(consented)]
    for unitizing, flagged in (("exact", {"C2", "C4"}), ("overlap", {"C2"})):
        gate = scoring_gate(segs, unitizing=unitizing)
        crit = gate[(gate["code"] == "") & (gate["measure"] == "valence")]
        assert set(crit.loc[crit["warn"], "criterion"]) == flagged
        assert set(crit.loc[crit["verdict"] == "reliable", "criterion"]) == {"C1"}
    # presence: C2.obs_passive is the one code below 0.667 either way
    warned = gate[gate["warn"] & (gate["measure"] == "presence")]
    assert warned["code"].tolist() == ["C2.obs_passive"]


def test_cli_csv_cells_cannot_run_as_formulas(tmp_path, capsys):
    segs = segments_from_matrix(KRIPP_A.astype(float))
    segs["segment_id"] = "=HYPERLINK(1)" + segs["segment_id"]
    path = _project(tmp_path, segs)
    out_csv, dis_csv = tmp_path / "rel.csv", tmp_path / "dis.csv"
    args = ["reliability", str(path), "--n-boot", "0", "--out", str(out_csv)]
    assert main([*args, "--disagreements", str(dis_csv)]) == 0
    dis = pd.read_csv(dis_csv)
    assert dis["segment_ids"].str.startswith("'=HYPERLINK").all()
    assert not any(str(c).startswith("=") for c in pd.read_csv(out_csv).columns)
