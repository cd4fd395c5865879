"""The Frühling codebook: criteria C1–C4 and AT with their sub-codes, in Spanish and English.

The codebook ships as ``copeval/data/codebook.csv`` and is validated every time it is loaded.
Criterion-level codes (``C1`` ... ``AT``) are valid codes in their own right, for evidence that
bears on a criterion without fitting a sub-code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from ._validate import check_lang
from .errors import CodebookError
from .vocabulary import CRITERIA

__all__ = ["CODEBOOK_COLUMNS", "Codebook", "load_codebook"]

CODEBOOK_COLUMNS = (
    "code",
    "criterion",
    "parent",
    "obstacle",
    "label_en",
    "label_es",
    "definition_en",
    "definition_es",
    "include_en",
    "include_es",
    "exclude_en",
    "exclude_es",
    "example_en",
    "example_es",
)
_REQUIRED_TEXT = (
    "label_en",
    "label_es",
    "definition_en",
    "definition_es",
    "example_en",
    "example_es",
)


@dataclass(frozen=True)
class Codebook:
    """A validated codebook.

    Attributes
    ----------
    table : DataFrame
        One row per code with the columns of :data:`CODEBOOK_COLUMNS`; ``obstacle`` is bool.
    """

    table: pd.DataFrame
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Plain dicts: lookups run once per segment, so they must not go through pandas.
        records = self.table.to_dict("records")
        object.__setattr__(self, "_index", {r["code"]: r for r in records})

    @property
    def criteria(self) -> dict[str, str]:
        """code -> criterion, for vectorised ``Series.map``."""
        return {c: r["criterion"] for c, r in self._index.items()}

    @property
    def obstacles(self) -> dict[str, bool]:
        """code -> whether it is an obstacle code, for vectorised ``Series.map``."""
        return {c: bool(r["obstacle"]) for c, r in self._index.items()}

    @property
    def codes(self) -> list[str]:
        return list(self.table["code"])

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def __len__(self) -> int:
        return len(self.table)

    def _row(self, code: str) -> dict:
        try:
            return self._index[code]
        except KeyError:
            raise CodebookError(
                f"Unknown code {code!r}. Known codes: {', '.join(self.codes)}"
            ) from None

    def criterion_of(self, code: str) -> str:
        """The criterion (``C1``..``C4``, ``AT``) a code belongs to."""
        return self._row(code)["criterion"]

    def is_obstacle(self, code: str) -> bool:
        return bool(self._row(code)["obstacle"])

    def label(self, code: str, lang: str = "en") -> str:
        _check_lang(lang)
        return self._row(code)[f"label_{lang}"]

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """The codebook in one language: code, criterion, parent, obstacle, label, definition,
        include, exclude, example."""
        _check_lang(lang)
        cols = ["label", "definition", "include", "exclude", "example"]
        out = self.table[["code", "criterion", "parent", "obstacle"]].copy()
        for c in cols:
            out[c] = self.table[f"{c}_{lang}"]
        return out


def _check_lang(lang: str) -> None:
    check_lang(lang)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and validate a codebook CSV (default: the one shipped with copeval).

    Raises
    ------
    CodebookError
        When a column is missing, a code is duplicated, a criterion or parent is unknown, a
        required text is empty or ``obstacle`` is not true/false. All problems are listed.
    """
    if path is None:
        raw = resources.files("copeval").joinpath("data/codebook.csv").read_bytes()
        name = "copeval/data/codebook.csv"
    else:
        raw = Path(path).read_bytes()
        name = str(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodebookError(f"{name} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return Codebook(_validate(table, name))


def _validate(table: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [c for c in CODEBOOK_COLUMNS if c not in table.columns]
    if missing:
        raise CodebookError(
            f"{name} is missing column(s) {', '.join(missing)}. "
            f"Available columns: {', '.join(table.columns)}"
        )
    table = table[list(CODEBOOK_COLUMNS)].apply(lambda s: s.str.strip())
    problems = []
    seen = set()
    for i, row in enumerate(table.itertuples(index=False), start=2):
        if row.code in seen:
            problems.append(f"row {i}, column 'code': duplicate code {row.code!r}")
        seen.add(row.code)
        if row.criterion not in CRITERIA:
            problems.append(
                f"row {i}, column 'criterion': {row.criterion!r} is not one of {', '.join(CRITERIA)}"
            )
        is_criterion_row = row.code == row.criterion
        if is_criterion_row and row.parent:
            problems.append(f"row {i}, column 'parent': a criterion code has no parent")
        if not is_criterion_row and row.parent != row.criterion:
            problems.append(
                f"row {i}, column 'parent': {row.parent!r} should be the criterion {row.criterion!r}"
            )
        if row.obstacle.lower() not in ("true", "false"):
            problems.append(f"row {i}, column 'obstacle': {row.obstacle!r} is not true/false")
        for col in _REQUIRED_TEXT:
            if not getattr(row, col):
                problems.append(f"row {i}, column '{col}': empty")
    for crit in CRITERIA:
        if crit not in seen:
            problems.append(f"criterion code {crit!r} is missing")
    if problems:
        raise CodebookError(f"{name} is invalid:\n  - " + "\n  - ".join(problems))
    table = table.copy()
    table["obstacle"] = table["obstacle"].str.lower() == "true"
    return table.reset_index(drop=True)
