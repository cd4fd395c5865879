"""The import report: everything an import did not take over as it was, listed."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["ImportReport"]


def _frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


UNMAPPED_COLUMNS = ["external_name", "codings", "sources"]
MIDWORD_COLUMNS = ["source_id", "selection", "boundary", "position", "context"]


@dataclass
class ImportReport:
    """What an import did, and what it could not do.

    Attributes
    ----------
    file : str
        The imported file.
    tool : str
        The tool that wrote it (REFI-QDA ``origin``, ``"Taguette"``, ``"KoboToolbox/ODK"``).
    offsets : str or None
        Offset convention used (qualitative imports), see :mod:`copeval.interop.offsets`.
    offsets_reason : str or None
        Why that convention: ``"forced"``, ``"evidence"``, ``"indistinguishable"``, ...
    offset_scores : DataFrame or None
        Evidence per convention (``convention``, ``impossible``, ``mid_word``, ``boundaries``).
    counts : dict
        Named counts (sources imported, segments, valences attached, rows...).
    unmapped : DataFrame
        External codes with no codebook code: ``external_name``, ``codings`` (how many
        codings used it) and ``sources`` (in how many sources). Their codings are not imported.
    mapped : DataFrame
        External code -> codebook code used: ``external_name``, ``code``, ``how``
        (``codebook``: already a codebook code; ``mapping``: the mapping table;
        ``parent``: through a mapped parent code).
    mid_word : DataFrame
        Selections whose start or end still falls inside a word after conversion:
        ``source_id``, ``selection``, ``boundary`` (start/end), ``position``, ``context``.
    warnings : list of str
        Everything else a researcher should check (defaults applied, skipped sources...).
    """

    file: str
    tool: str = ""
    offsets: str | None = None
    offsets_reason: str | None = None
    offset_scores: pd.DataFrame | None = None
    counts: dict = field(default_factory=dict)
    unmapped: pd.DataFrame = field(default_factory=lambda: _frame(UNMAPPED_COLUMNS))
    mapped: pd.DataFrame = field(default_factory=lambda: _frame(["external_name", "code", "how"]))
    mid_word: pd.DataFrame = field(default_factory=lambda: _frame(MIDWORD_COLUMNS))
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def to_text(self, *, max_rows: int = 20) -> str:
        """A plain-text summary for the terminal."""
        lines = [f"Import of {self.file}" + (f" (written by {self.tool})" if self.tool else "")]
        if self.counts:
            lines.append("  " + ", ".join(f"{k}: {v}" for k, v in self.counts.items()))
        if self.offsets:
            lines.append(f"  offsets: {self.offsets} ({self.offsets_reason})")
        if len(self.mapped):
            lines.append(f"  codes mapped to the codebook: {len(self.mapped)}")
        if len(self.unmapped):
            n = int(pd.to_numeric(self.unmapped["codings"]).sum())
            lines.append(
                f"  UNMAPPED codes: {len(self.unmapped)} ({n} codings not imported; add them "
                "to a mapping table, columns external_name,code):"
            )
            for r in self.unmapped.head(max_rows).itertuples(index=False):
                lines.append(f"    - {r.external_name} ({r.codings} codings)")
            if len(self.unmapped) > max_rows:
                lines.append(f"    ... and {len(self.unmapped) - max_rows} more")
        if len(self.mid_word):
            lines.append(f"  selections with a boundary inside a word: {len(self.mid_word)}")
            for r in self.mid_word.head(max_rows).itertuples(index=False):
                lines.append(
                    f"    - {r.source_id} {r.selection} {r.boundary} at {r.position}: "
                    f"{r.context!r}"
                )
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()
