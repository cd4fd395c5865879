"""Representative quotes for a report, within what consent allows.

Rules (``docs/data-model.md``, consent): only segments from sources whose consent is
``quote`` are quoted; they are attributed by respondent role and site, never by name; every
quoted text passes through the redaction function (registered names replaced) before it is
shown, and is redacted *in its context* (:func:`copeval.privacy.redact_excerpt`), so a phone
number or name crossing the quote's edge is replaced whole and no partial number is printed;
segments from ``anonymous`` sources count as evidence but are only *counted* as withheld.
Sources with consent ``none`` never reach this module (``Project.evidence`` drops them).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from copeval.errors import CopevalError
from copeval.privacy import redact_excerpt

__all__ = ["select_quotes", "trim_quote"]

QUOTE_COLUMNS = [
    "segment_id",
    "source_id",
    "respondent_group",
    "stratum",
    "method",
    "date",
    "language",
    "code",
    "valence",
    "text",
]


def trim_quote(text: str, max_chars: int = 420) -> str:
    """Whitespace-normalised text, cut at a word boundary with an ellipsis when too long."""
    text = re.sub(r"\s+", " ", str(text)).strip().strip('"“”«»')
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars].rsplit(" ", 1)[0]
    if cut.rfind("[") > cut.rfind("]"):  # never cut inside a redaction tag
        cut = cut[: cut.rfind("[")]
    cut = cut.rstrip().rstrip(",;:")
    return f"{cut} …"


def select_quotes(
    evidence: pd.DataFrame,
    text_of: Callable[[str], str],
    *,
    k: int = 3,
    redact: Callable[[str], str] | None = None,
    min_chars: int = 25,
    max_chars: int = 420,
    context_of: Callable[[str], tuple[str, int, int]] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Choose up to ``k`` representative quotable segments from one site x criterion.

    Representative means: quotes that agree with the direction of the evidence come first
    (the sign of the mean valence), strongest valence first, taking one per triangulation
    stratum before a second from any stratum, so police, community and authorities are all
    heard; when the evidence is mixed and ``k >= 2``, the last slot goes to the strongest
    quotable counterpoint. Ties are broken by segment ID, so the choice is deterministic.

    Parameters
    ----------
    evidence : DataFrame
        Evidence segments of one site x criterion: ``segment_id``, ``source_id``, ``consent``,
        ``valence``, ``stratum``, ``respondent_group``, ``method``, ``code``; optionally
        ``date`` and ``language``.
    text_of : callable
        ``segment_id -> text`` (``Project.segment_text``).
    k : int
        Maximum number of quotes.
    redact : callable, optional
        ``text -> text`` applied to every quote before it is returned. With a context (below)
        it is applied to a window around the quote (it must keep the marker characters
        :data:`copeval.privacy.QUOTE_START` / ``QUOTE_END``, as ``privacy.redact`` does).
    min_chars, max_chars : int
        Segments shorter than ``min_chars`` are not quoted; longer than ``max_chars`` are cut.
    context_of : callable, optional
        ``segment_id -> (whole text, start, end)`` (``Project.segment_context``), so each
        quote is redacted in its context. When omitted and ``text_of`` is a bound method of
        an object that has ``segment_context`` (``Project.segment_text``), that is used.

    Returns
    -------
    quotes : DataFrame
        Columns :data:`QUOTE_COLUMNS`; ``text`` is trimmed and redacted.
    withheld : int
        Segments of this evidence that could not be quoted because their source's consent is
        not ``quote``.
    """
    required = ["segment_id", "source_id", "consent", "valence", "stratum"]
    missing = [c for c in required if c not in evidence.columns]
    if missing:
        raise CopevalError(
            f"evidence lacks column(s) {', '.join(missing)}. "
            f"Available columns: {', '.join(map(str, evidence.columns))}"
        )
    if k < 0:
        raise CopevalError(f"k must be >= 0, got {k}")
    withheld = int((evidence["consent"] != "quote").sum())
    cand = evidence[evidence["consent"] == "quote"].copy()
    if cand.empty or k == 0:
        return pd.DataFrame(columns=QUOTE_COLUMNS), withheld
    cand["text"] = [text_of(s) for s in cand["segment_id"]]
    cand = cand[cand["text"].str.strip().str.len() >= min_chars]
    if cand.empty:
        return pd.DataFrame(columns=QUOTE_COLUMNS), withheld
    valence = pd.to_numeric(evidence["valence"], errors="coerce")
    direction = 1 if valence.mean() >= 0 else -1
    cand["_v"] = pd.to_numeric(cand["valence"], errors="coerce").fillna(0)
    cand["_agree"] = (cand["_v"] * direction >= 0) & (cand["_v"] != 0) | (
        (cand["_v"] == 0) & (valence.abs().mean() < 0.5)
    )
    cand["_strength"] = cand["_v"].abs()
    cand = cand.sort_values(["_strength", "segment_id"], ascending=[False, True], kind="stable")
    agree, disagree = cand[cand["_agree"]], cand[~cand["_agree"] & (cand["_v"] != 0)]
    chosen: list[int] = []
    used_sources: set[str] = set()
    slots = k - 1 if (not disagree.empty and k >= 2) else k
    # round robin over strata, one quote per source
    for _round in range(k):
        for _stratum, rows in agree.groupby("stratum", sort=True):
            if len(chosen) >= slots:
                break
            for idx, row in rows.iterrows():
                if idx in chosen or row["source_id"] in used_sources:
                    continue
                chosen.append(idx)
                used_sources.add(row["source_id"])
                break
        if len(chosen) >= slots:
            break
    if len(chosen) < slots:  # few sources: allow a second quote from a source
        for idx in agree.index:
            if len(chosen) >= slots:
                break
            if idx not in chosen:
                chosen.append(idx)
    if not disagree.empty and len(chosen) < k:
        chosen.append(disagree.index[0])
    out = cand.loc[chosen].copy()
    texts = list(out["text"])
    if context_of is None:
        context_of = getattr(getattr(text_of, "__self__", None), "segment_context", None)
    if redact is not None and context_of is not None:  # in context, before trimming
        texts = [redact_excerpt(*context_of(s), redact_fn=redact) for s in out["segment_id"]]
    elif redact is not None:  # before trimming, so a cut never splits a name
        texts = [redact(x) for x in texts]
    out["text"] = [trim_quote(x, max_chars) for x in texts]
    for col in QUOTE_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    return out[QUOTE_COLUMNS].reset_index(drop=True), withheld
