"""The packaged codebook and its validation."""

from __future__ import annotations

import pandas as pd
import pytest

from copeval.codebook import CODEBOOK_COLUMNS, load_codebook
from copeval.errors import CodebookError
from copeval.vocabulary import CRITERIA


def test_packaged_codebook_is_complete():
    cb = load_codebook()
    assert set(cb.table["criterion"]) == set(CRITERIA)
    for crit in CRITERIA:
        assert crit in cb
        subs = cb.table[cb.table["parent"] == crit]
        assert len(subs) >= 4, crit
    # Obstacle codes are kept for every criterion.
    obstacles = cb.table[cb.table["obstacle"]]
    assert set(obstacles["criterion"]) == set(CRITERIA)
    for lang in ("en", "es"):
        for col in ("label", "definition", "example"):
            assert cb.table[f"{col}_{lang}"].str.len().min() > 3


def test_spanish_labels_have_accents_intact():
    cb = load_codebook()
    text = " ".join(cb.table["label_es"]) + " ".join(cb.table["definition_es"])
    assert any(ch in text for ch in "áéíóúñ")
    assert "Ã" not in text  # no mojibake


def test_lookup_helpers():
    cb = load_codebook()
    assert cb.criterion_of("C4.obs_upward") == "C4"
    assert cb.is_obstacle("C4.obs_upward")
    assert not cb.is_obstacle("C2.meetings")
    assert cb.label("C2", "es")
    with pytest.raises(CodebookError, match="Unknown code 'C9'"):
        cb.criterion_of("C9")
    with pytest.raises(ValueError, match=r"Unknown language .* Available languages"):
        cb.label("C1", "fr")


def _write(tmp_path, table):
    path = tmp_path / "cb.csv"
    table.to_csv(path, index=False)
    return path


def test_invalid_codebook_lists_every_problem(tmp_path):
    table = load_codebook().table.copy()
    table["obstacle"] = table["obstacle"].map({True: "true", False: "false"})
    table.loc[3, "criterion"] = "C9"
    table.loc[5, "label_es"] = ""
    table = pd.concat([table, table.iloc[[1]]])
    with pytest.raises(CodebookError) as info:
        load_codebook(_write(tmp_path, table))
    msg = str(info.value)
    assert "row 5, column 'criterion': 'C9' is not one of" in msg
    assert "row 7, column 'label_es': empty" in msg
    assert "duplicate code" in msg


def test_codebook_missing_column(tmp_path):
    table = load_codebook().table.drop(columns="example_es")
    with pytest.raises(CodebookError, match="missing column\\(s\\) example_es"):
        load_codebook(_write(tmp_path, table))


def test_codebook_columns_constant():
    assert list(load_codebook().table.columns) == list(CODEBOOK_COLUMNS)
