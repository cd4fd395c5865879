"""Marks and short texts shared by the reports and the CLI.

The rules, deliberately simple so that a reader can check them (the site report's summary
applies them in :func:`copeval.report.site.select_summary`):

* a rating is marked when its evidence is insufficient (``insufficient_evidence``: †) or
  thin (``thin_evidence``: its own evidence cannot estimate its variance, ‡);
* an interval wider than ``WIDE`` points (1.2, one and a half rating bands) is "uncertain";
* the strongest/weakest criteria are the highest/lowest scores among C1-C4 (AT is auxiliary);
  their order is called clear only when their intervals do not overlap;
* a difference between sites is called clear when its probability is at least ``P_CLEAR``
  (0.9).
"""

from __future__ import annotations

import pandas as pd

from .i18n import fmt_num, t

__all__ = ["flag_marks", "is_thin", "reliability_text"]

CORE = ("C1", "C2", "C3", "C4")
WIDE = 1.2
P_CLEAR = 0.9
WEAK = 2.4


def _flag(row, name: str) -> bool:
    """A boolean flag column of a score-table row (Series, dict or namedtuple)."""
    if row is None:
        return False
    value = row.get(name, False) if hasattr(row, "get") else getattr(row, name, False)
    return bool(value) if not pd.isna(value) else False


def flag_marks(row) -> str:
    """Marks of a score-table row: ``"†"`` insufficient evidence, ``"‡"`` thin evidence
    (its own evidence cannot estimate its variance), both, or ``""``."""
    return ("†" if _flag(row, "insufficient_evidence") else "") + (
        "‡" if _flag(row, "thin_evidence") else ""
    )


def is_thin(row) -> bool:
    """True when a score-table row is marked (insufficient or thin evidence)."""
    return bool(flag_marks(row))


def reliability_text(issues, lang: str) -> str:
    """``reliability_issues`` (``C2.x:presence:0.52;C2:valence:0.57``) in words."""
    if not isinstance(issues, str) or not issues:
        return ""
    parts = []
    for item in issues.split(";"):
        what, _, alpha = item.rpartition(":")
        name, _, measure = what.rpartition(":")
        alpha_text = fmt_num(float(alpha), lang, 2)
        if measure == "valence":
            parts.append(t("flag.reliability.valence", lang, criterion=name, alpha=alpha_text))
        else:
            parts.append(t("flag.reliability.presence", lang, code=name, alpha=alpha_text))
    return "; ".join(parts)
