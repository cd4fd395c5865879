"""Plain-language sentences generated from the score table, in Spanish or English.

Each function takes tidy tables (the score table of :func:`copeval.scoring.score_sites`,
pairwise probabilities) and returns a list of sentences; nothing is hard-coded about any
site. The rules are deliberately simple so that a reader can check them:

* a rating is marked when its evidence is insufficient (``insufficient_evidence``: †) or
  thin (``thin_evidence``: its own evidence cannot estimate its variance, ‡);
* an interval wider than ``wide`` points (default 1.2, one and a half rating bands) is
  "uncertain";
* the strongest/weakest criteria are the highest/lowest scores among C1-C4 (AT is auxiliary);
  their order is called clear only when their intervals do not overlap;
* a difference between sites is called clear when P(A > B) >= ``p_clear`` (default 0.9).
"""

from __future__ import annotations

import pandas as pd

from copeval.vocabulary import CRITERIA, rating_label

from .i18n import criterion_label, fmt_interval, fmt_num, fmt_prob, join_list, t

__all__ = [
    "comparison_sentences",
    "flag_marks",
    "is_thin",
    "rating_sentences",
    "reliability_text",
    "site_findings",
]

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


def _rated(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["score"].notna()]


def rating_sentences(rows: pd.DataFrame, *, lang: str, ci: float) -> list[str]:
    """One sentence per criterion: ``"C1 Small-area focus: acceptable (2.9; interval 2.5–3.2)."``

    ``rows`` are one site's rows of the score table (``criterion``, ``score``, ``lower``,
    ``upper``); unrated criteria are left out (see :func:`site_findings`).
    """
    out = []
    for c in CRITERIA:
        r = rows[rows["criterion"] == c]
        if r.empty or pd.isna(r["score"].iloc[0]):
            continue
        r = r.iloc[0]
        out.append(
            t(
                "summary.rating",
                lang,
                criterion=criterion_label(c, lang),
                label=rating_label(float(r["score"]), lang),
                score=fmt_num(r["score"], lang),
                interval=fmt_interval(r["lower"], r["upper"], lang),
            )
        )
    return out


def site_findings(
    rows: pd.DataFrame,
    *,
    lang: str,
    wide: float = WIDE,
    weak: float = WEAK,
    comparisons: list[str] | tuple = (),
) -> list[str]:
    """Key findings for one site: strongest and weakest criterion, thin and uncertain evidence.

    Parameters
    ----------
    rows : DataFrame
        One site's rows of the score table: ``criterion``, ``score``, ``lower``, ``upper``,
        ``flag``.
    lang : {"en", "es"}
    wide : float
        Interval width above which a rating is called uncertain.
    weak : float
        Scores below this are weak (they get recommendations).
    comparisons : list of str
        Sentences comparing the site with others (:func:`comparison_sentences`), placed
        before the pointer to the recommendations.

    Returns
    -------
    list of str
    """
    out = []
    rated = _rated(rows)
    core = rated[rated["criterion"].isin(CORE)]
    if rated.empty:
        return [t("summary.none_rated", lang)]
    if len(core) >= 2:
        scores = core.set_index("criterion")["score"].astype(float)
        if scores.max() - scores.min() < 1e-9:
            out.append(
                t("summary.all_equal", lang, n=len(scores), score=fmt_num(scores.max(), lang))
            )
        else:
            best, worst = scores.idxmax(), scores.idxmin()
            out.append(
                t(
                    "summary.strongest_weakest",
                    lang,
                    best=criterion_label(best, lang),
                    best_score=fmt_num(scores[best], lang),
                    worst=criterion_label(worst, lang),
                    worst_score=fmt_num(scores[worst], lang),
                )
            )
            b = core.set_index("criterion").loc[best]
            w = core.set_index("criterion").loc[worst]
            if pd.notna(b["lower"]) and pd.notna(w["upper"]):
                key = "summary.clear_gap" if b["lower"] > w["upper"] else "summary.overlap_gap"
                out.append(t(key, lang))
    thin = [c for c in CRITERIA if _flag_of(rows, c, "insufficient_evidence")]
    if thin:
        out.append(
            t(
                "summary.thin",
                lang,
                criteria=join_list([criterion_label(c, lang) for c in thin], lang),
                reason=t("summary.thin_reason", lang),
            )
        )
    borrowed = [c for c in CRITERIA if _flag_of(rows, c, "thin_evidence")]
    if borrowed:
        out.append(
            t(
                "summary.borrowed",
                lang,
                criteria=join_list([criterion_label(c, lang) for c in borrowed], lang),
            )
        )
    widths = rated.assign(_w=rated["upper"] - rated["lower"])
    uncertain = [c for c in CRITERIA if c in set(widths.loc[widths["_w"] > wide, "criterion"])]
    if uncertain:
        out.append(
            t(
                "summary.wide",
                lang,
                criteria=join_list([criterion_label(c, lang) for c in uncertain], lang),
                width=fmt_num(wide, lang),
            )
        )
    missing = [c for c in CRITERIA if c not in set(rated["criterion"])]
    if missing:
        out.append(
            t(
                "summary.missing",
                lang,
                criteria=join_list([criterion_label(c, lang) for c in missing], lang),
            )
        )
    out += list(comparisons)
    weak_c = [c for c in CRITERIA if c in set(rated.loc[rated["score"] < weak, "criterion"])]
    if weak_c:
        out.append(t("summary.recommend", lang, criteria=join_list(weak_c, lang)))
    return out


def _flag_of(rows: pd.DataFrame, criterion: str, column: str) -> bool:
    r = rows[rows["criterion"] == criterion]
    return False if r.empty or column not in r.columns else _flag(r.iloc[0], column)


def comparison_sentences(
    pairwise: pd.DataFrame,
    *,
    site_id: str,
    site_names: dict,
    lang: str,
    p_clear: float = P_CLEAR,
) -> list[str]:
    """Sentences on the clear differences between ``site_id`` and the other sites.

    Parameters
    ----------
    pairwise : DataFrame
        ``criterion``, ``site_a``, ``site_b``, ``p_a_greater``, ``p_b_greater`` (from
        :meth:`copeval.scoring.ScoreResult.pairwise`).
    site_id : str
    site_names : dict
        ``site_id -> name``.
    lang : {"en", "es"}
    p_clear : float
        Probability from which a difference is reported as clear.

    Returns
    -------
    list of str
        One sentence per criterion and other site with a clear difference, or one sentence
        saying none reaches ``p_clear``.
    """
    mine = pairwise[(pairwise["site_a"] == site_id) | (pairwise["site_b"] == site_id)]
    out = []
    others = set()
    for c in CRITERIA:
        for _, r in mine[mine["criterion"] == c].iterrows():
            if r["site_a"] == site_id:
                other, p_up, p_down = r["site_b"], r["p_a_greater"], r["p_b_greater"]
            else:
                other, p_up, p_down = r["site_a"], r["p_b_greater"], r["p_a_greater"]
            others.add(other)
            name = site_names.get(other, other)
            if p_up >= p_clear:
                out.append(
                    t(
                        "summary.compare_better",
                        lang,
                        criterion=criterion_label(c, lang),
                        site=site_names.get(site_id, site_id),
                        other=name,
                        p=fmt_prob(p_up, lang),
                    )
                )
            elif p_down >= p_clear:
                out.append(
                    t(
                        "summary.compare_worse",
                        lang,
                        criterion=criterion_label(c, lang),
                        site=site_names.get(site_id, site_id),
                        other=name,
                        p=fmt_prob(p_down, lang),
                    )
                )
    if not out and others:
        out.append(
            t(
                "summary.compare_none",
                lang,
                others=join_list(sorted(site_names.get(o, o) for o in others), lang),
                p=fmt_num(p_clear, lang, 2),
            )
        )
    return out
