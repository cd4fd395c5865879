"""Character-offset conventions of QDA tools, their conversion and detection.

copeval stores offsets as ``[start, end)`` in Unicode code points of the text after removing
any byte-order mark, with line endings as stored (a CRLF counts as two). That is the REFI-QDA
standard, but tools count differently:

=============  =================================================  ===================
convention     unit counted                                        written by
=============  =================================================  ===================
``codepoints`` Unicode code points (the standard)                  copeval, qc, MAXQDA
``utf16``      UTF-16 code units: characters outside the Basic     NVivo
               Multilingual Plane (most emoji) count two; a CRLF
               counts two
``crlf1``      code points, but a CRLF line break counts one       ATLAS.ti
``utf8``       UTF-8 bytes (accented letters count two, emoji      tools counting bytes
               four)                                               (none known)
=============  =================================================  ===================

Taguette has no REFI-QDA project export in any released version (only its codebook is
REFI); a file whose ``origin`` names it is still hinted to ``utf8``.

For ASCII text without CRLF line breaks all four conventions agree. Where they differ, the
convention can often be told from the evidence: an offset that falls inside a character
(between the two halves of a surrogate pair, inside a multi-byte UTF-8 sequence) or past the
end of the text is impossible, and selection boundaries that fall in the middle of a word
are implausible. :func:`detect_convention` scores each convention on both counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "CONVENTIONS",
    "ConventionChoice",
    "detect_convention",
    "from_codepoints",
    "hint_from_origin",
    "is_mid_word",
    "to_codepoints",
]

#: Offset conventions, the standard first.
CONVENTIONS = ("codepoints", "utf16", "crlf1", "utf8")

_ORIGIN_HINTS = (
    ("copeval", "codepoints"),
    ("nvivo", "utf16"),
    ("atlas.ti", "crlf1"),
    ("atlas", "crlf1"),
    ("taguette", "utf8"),
)


def hint_from_origin(origin: str | None) -> str | None:
    """The convention a tool is known to use, from a REFI-QDA ``origin`` attribute."""
    low = (origin or "").lower()
    for key, conv in _ORIGIN_HINTS:
        if key in low:
            return conv
    return None


def _check(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}; got {convention!r}")


def _boundaries(text: str, convention: str) -> np.ndarray:
    """Units before each code point position 0..len(text): an int64 array of len(text)+1."""
    _check(convention)
    cps = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
    if convention == "codepoints":
        widths = np.ones(len(cps), dtype=np.int64)
    elif convention == "utf16":
        widths = np.where(cps > 0xFFFF, 2, 1)
    elif convention == "utf8":
        widths = 1 + (cps > 0x7F) + (cps > 0x7FF) + (cps > 0xFFFF)
    else:  # crlf1: the LF of a CRLF pair counts nothing
        widths = np.ones(len(cps), dtype=np.int64)
        if len(cps) > 1:
            lf_after_cr = (cps[1:] == 0x0A) & (cps[:-1] == 0x0D)
            widths[1:][lf_after_cr] = 0
    out = np.zeros(len(cps) + 1, dtype=np.int64)
    np.cumsum(widths, out=out[1:])
    return out


def to_codepoints(text: str, offsets: Iterable[int], convention: str) -> np.ndarray:
    """Convert offsets counted in ``convention`` into code-point offsets of ``text``.

    Returns an int64 array; offsets that cannot occur in this convention (inside a
    character, negative, past the end) become -1. Under ``crlf1`` an offset never lands
    between the CR and the LF of a line break.
    """
    units = np.asarray(list(offsets), dtype=np.int64)
    cum = _boundaries(text, convention)
    idx = np.searchsorted(cum, units, side="right") - 1
    idx_c = np.clip(idx, 0, len(cum) - 1)
    ok = (units >= 0) & (units <= cum[-1]) & (cum[idx_c] == units)
    return np.where(ok, idx_c, -1)


def from_codepoints(text: str, offsets: Iterable[int], convention: str) -> np.ndarray:
    """Convert code-point offsets of ``text`` into offsets counted in ``convention``."""
    pos = np.asarray(list(offsets), dtype=np.int64)
    if len(pos) and (pos.min() < 0 or pos.max() > len(text)):
        raise ValueError(f"offsets must lie in 0..{len(text)}")
    return _boundaries(text, convention)[pos]


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def is_mid_word(text: str, pos: int) -> bool:
    """True when code-point position ``pos`` splits a word (letters or digits on both sides)."""
    return 0 < pos < len(text) and _is_word_char(text[pos - 1]) and _is_word_char(text[pos])


@dataclass(frozen=True)
class ConventionChoice:
    """The outcome of :func:`detect_convention`.

    Attributes
    ----------
    convention : str
        The chosen convention.
    reason : str
        Why: ``"forced"``, ``"evidence"`` (every other convention scores worse or gives the
        same offsets), ``"indistinguishable"`` (all conventions give the same offsets for
        these texts), ``"tie, tool hint"`` or ``"tie, standard"`` (conventions that give
        different offsets score equally; the tool's known convention, else the standard,
        is chosen).
    scores : DataFrame
        One row per convention: ``convention``, ``impossible`` (offsets inside a character
        or past the end), ``mid_word`` (boundaries splitting a word), ``boundaries`` (checked).
    """

    convention: str
    reason: str
    scores: pd.DataFrame


def detect_convention(
    texts: Mapping[str, str],
    selections: Iterable[tuple[str, int, int]],
    *,
    hint: str | None = None,
    force: str | None = None,
) -> ConventionChoice:
    """Choose the offset convention that best explains a set of selections.

    Parameters
    ----------
    texts : mapping of key to str
        Source texts (BOM removed).
    selections : iterable of (key, start, end)
        Raw offsets as the tool wrote them.
    hint : str, optional
        Convention the tool is known to use (see :func:`hint_from_origin`); breaks ties.
    force : str, optional
        Use this convention whatever the evidence (scores are still computed).

    Returns
    -------
    ConventionChoice
        The convention with the fewest impossible offsets, then the fewest mid-word
        boundaries; ties go to ``hint``, then to the standard (code points).
    """
    if hint is not None:
        _check(hint)
    if force is not None:
        _check(force)
    by_key: dict[str, list[int]] = {}
    for key, start, end in selections:
        if key in texts:
            by_key.setdefault(key, []).extend((int(start), int(end)))
    rows = []
    mapped = {}
    for conv in CONVENTIONS:
        impossible = mid = n = 0
        results = []
        for key, units in by_key.items():
            text = texts[key]
            cp = to_codepoints(text, units, conv)
            results.append(cp)
            impossible += int((cp < 0).sum())
            mid += sum(is_mid_word(text, int(p)) for p in cp if p >= 0)
            n += len(units)
        mapped[conv] = np.concatenate(results) if results else np.array([], dtype=np.int64)
        rows.append(
            {"convention": conv, "impossible": impossible, "mid_word": mid, "boundaries": n}
        )
    scores = pd.DataFrame(rows)
    if force is not None:
        return ConventionChoice(force, "forced", scores)
    first = mapped["codepoints"]
    if all(np.array_equal(first, m) for m in mapped.values()):
        return ConventionChoice("codepoints", "indistinguishable", scores)
    order = {c: i for i, c in enumerate(CONVENTIONS)}
    ranked = sorted(
        rows,
        key=lambda r: (
            r["impossible"],
            r["mid_word"],
            r["convention"] != hint,
            order[r["convention"]],
        ),
    )
    best = ranked[0]
    tied = [
        r["convention"]
        for r in ranked[1:]
        if (r["impossible"], r["mid_word"]) == (best["impossible"], best["mid_word"])
    ]
    if all(np.array_equal(mapped[c], mapped[best["convention"]]) for c in tied):
        reason = "evidence"
    elif hint is not None and best["convention"] == hint:
        reason = "tie, tool hint"
    else:
        reason = "tie, standard"
    return ConventionChoice(best["convention"], reason, scores)
