"""The comparative report: several sites on the same scale, with the uncertainty of each gap.

Each section is built in three steps (see :mod:`copeval.report.doc`):

1. a pure ``select_*`` function takes the analysis (:class:`~copeval.report.data.ReportData`)
   and the sites compared and returns language-neutral tables and numbers -- scores, band
   indexes (0 absent .. 4 strong), flags, probabilities and likelihood codes, no words;
2. the section method of :class:`ComparativeReport` words that selection in Spanish or
   English through :mod:`copeval.report.i18n`;
3. it returns a :class:`copeval.report.doc.Section` of document nodes, which the HTML and
   Typst backends print.

Called by ``notebooks/comparative_report.py``, one section per cell. The cover, contents,
"how to read" box and method appendix are the ones every report shares
(:mod:`copeval.report.base`).

Wording rules (pinned by ``tests/test_comparative_words.py``):

* the summary opens with a **headline** of one or two sentences: how the sites compare
  (the clearest difference) and where they stand (the strength and the weakness they share);
* a comparison always names the higher-rated site first, and says how likely that order is
  in words ("very likely"), the probability in parentheses -- never ``P(A > B)``;
* with two sites nothing is "highest" or "lowest": one site rates higher than the other;
* no internal ID (site, source or segment IDs, codes, seeds, paths) in the reading text;
  the method appendix keeps the command that reproduces the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from copeval._validate import check_sites
from copeval.params import DEFAULT_CI, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WEIGHT
from copeval.resources import find_project
from copeval.vocabulary import CRITERIA, RATING_BANDS, STRATA, band_index, display_value

from . import base, doc, trend
from .data import ReportData
from .i18n import (
    STRINGS,
    check_lang,
    criterion_label,
    fmt_count,
    fmt_interval,
    fmt_num,
    fmt_prob,
    join_list,
    stratum_label,
    t,
    tn,
)
from .site import _round_period  # the round's fieldwork period, as the site cover prints it
from .summary import CORE, flag_marks

__all__ = [
    "LIKELIHOODS",
    "ComparativeReport",
    "headline_facts",
    "likelihood",
    "pair_table",
    "resolve_sites",
    "select_cover",
    "select_coverage",
    "select_differences",
    "select_headline",
    "select_pairs",
    "select_ratings",
    "select_sensitivity",
    "select_spread",
]

#: Sites per grid table (a taller table would not fit an A4 page).
HEAT_ROWS = 36
#: Up to this many sites: intervals in the grid, the forest figure and pairwise tables.
MAX_DETAIL = 8
#: Up to this many sites every pair is listed in words; above, a matrix per criterion.
MAX_PAIR_LIST = 3
#: Rows of the rank table shown per criterion when there are many sites.
RANK_ROWS = 15
#: A report with fewer sections has no contents page: the cover lists its sections in one
#: line instead (a five-line contents page is a wasted page).
CONTENTS_MIN_SECTIONS = 7
#: Up to this many sites the cover's title is their names; beyond, "Comparison of 20 sites"
#: with the first :data:`COVER_NAMES` names under it (more are counted: "and 14 more sites").
COVER_TITLE_NAMES = 3
COVER_NAMES = 6

#: Likelihood words for a probability (the calibrated scale of the IPCC guidance notes):
#: ``(lowest printed probability, code)``, highest first. The code is worded by i18n
#: (``compare.likely.<code>``); the probability is classified as printed (two decimals),
#: so the words and the number in parentheses never disagree.
LIKELIHOODS = (
    (0.99, "virtually_certain"),
    (0.90, "very_likely"),
    (0.66, "likely"),
    (0.34, "as_likely_as_not"),
    (0.11, "unlikely"),
    (0.02, "very_unlikely"),
    (0.0, "exceptionally_unlikely"),
)
#: Likelihoods called a clear difference (a probability of 0.90 or more, as printed).
CLEAR = frozenset({"virtually_certain", "very_likely"})
#: Weak: absent or limited (band 0 or 1); shared strength: passable or better (band >= 2).
WEAK_BAND = 1
STRONG_BAND = 2
#: A strength or weakness is "shared" when four fifths of the sites compared (and at least
#: two) are in its band: with two sites, both.
SHARED_Q = 0.2


# ------------------------------------------------------------------------------ sites
#: ``"all"``, ``"A,B"`` or a list -> the site IDs, checked (copeval._validate, shared by the
#: pipeline's planning and the reports: neither imports the other).
resolve_sites = check_sites


# ------------------------------------------------------------------------------ select
def _printed_prob(p) -> float:
    return display_value(float(p), 2)


def likelihood(p) -> str | None:
    """Likelihood code of a probability (see :data:`LIKELIHOODS`); None when missing."""
    if p is None or pd.isna(p):
        return None
    q = _printed_prob(p)
    for lowest, code in LIKELIHOODS:
        if q >= lowest:
            return code
    return LIKELIHOODS[-1][1]


def _band(score) -> int | None:
    return band_index(score) if score is not None and not pd.isna(score) else None


def select_ratings(data: ReportData, sites: Sequence[str]) -> pd.DataFrame:
    """One row per site and criterion (sites in the order given, criteria C1..C4, AT).

    Columns: ``site_id``, ``criterion``, ``score``, ``lower``, ``upper`` (0-4, NaN when not
    rated), ``band`` (0 absent .. 4 strong, the band of the printed value; ``<NA>`` when not
    rated), ``insufficient`` and ``thin`` (the † and ‡ flags), ``rated``.
    """
    sites = list(sites)
    tab = data.table
    tab = tab[tab["site_id"].isin(sites)].set_index(["site_id", "criterion"])
    index = pd.MultiIndex.from_product([sites, list(CRITERIA)], names=["site_id", "criterion"])
    tab = tab.reindex(index)

    def flag(name):
        if name not in tab:
            return np.zeros(len(tab), dtype=bool)
        return tab[name].astype("boolean").fillna(False).to_numpy(dtype=bool)

    out = pd.DataFrame(
        {
            "score": tab["score"].astype(float).to_numpy(),
            "lower": tab["lower"].astype(float).to_numpy(),
            "upper": tab["upper"].astype(float).to_numpy(),
        },
        index=index,
    ).reset_index()
    out["band"] = pd.array([_band(s) for s in out["score"]], dtype="Int64")
    out["insufficient"] = flag("insufficient_evidence")
    out["thin"] = flag("thin_evidence")
    out["rated"] = out["score"].notna()
    return out


def pair_table(ratings: pd.DataFrame, pairwise: pd.DataFrame, order=None) -> pd.DataFrame:
    """Every pair of rated sites per criterion, the higher-rated site first.

    ``ratings`` as from :func:`select_ratings`; ``pairwise`` as from
    :meth:`ReportData.pairwise` (``criterion``, ``site_a``, ``site_b``, ``p_a_greater``,
    ``p_b_greater``). "Higher" is the higher rating (its unrounded score, as the grid shows
    it; equal scores keep the order of ``order``, default the order of ``ratings``).

    Returns one row per criterion and pair: ``criterion``, ``higher``, ``lower``,
    ``score_higher``, ``score_lower``, ``band_higher``, ``band_lower``, ``gap``, ``p`` (the
    probability that ``higher`` rates above ``lower``; NaN when the draws do not have the
    pair), ``likelihood`` (a :data:`LIKELIHOODS` code), ``clear`` (bool) and ``same_printed``
    (both ratings print the same).
    """
    order = list(order) if order is not None else list(dict.fromkeys(ratings["site_id"]))
    probs = {}
    for r in pairwise.itertuples(index=False):
        probs[(r.criterion, r.site_a, r.site_b)] = float(r.p_a_greater)
        probs[(r.criterion, r.site_b, r.site_a)] = float(r.p_b_greater)
    rows = []
    for c, sub in _rated_by_criterion(ratings, order):
        recs = list(sub.itertuples(index=False))
        for i, hi in enumerate(recs):
            for lo in recs[i + 1 :]:
                p = probs.get((c, hi.site_id, lo.site_id), np.nan)
                code = likelihood(p)
                rows.append(
                    {
                        "criterion": c,
                        "higher": hi.site_id,
                        "lower": lo.site_id,
                        "score_higher": float(hi.score),
                        "score_lower": float(lo.score),
                        "band_higher": int(hi.band),
                        "band_lower": int(lo.band),
                        "gap": float(hi.score - lo.score),
                        "p": p,
                        "likelihood": code,
                        "clear": code in CLEAR,
                        "same_printed": display_value(hi.score, 1) == display_value(lo.score, 1),
                    }
                )
    columns = [
        "criterion",
        "higher",
        "lower",
        "score_higher",
        "score_lower",
        "band_higher",
        "band_lower",
        "gap",
        "p",
        "likelihood",
        "clear",
        "same_printed",
    ]
    return pd.DataFrame(rows, columns=columns)


def select_pairs(data: ReportData, sites: Sequence[str]) -> pd.DataFrame:
    """:func:`pair_table` of the sites compared (every pair: meant for a few sites)."""
    sites = list(sites)
    ratings = select_ratings(data, sites)
    pw = _pairwise(data, sites) if len(sites) > 1 else _empty_pairwise()
    return pair_table(ratings, pw, order=sites)


def _empty_pairwise() -> pd.DataFrame:
    return pd.DataFrame(columns=["criterion", "site_a", "site_b", "p_a_greater", "p_b_greater"])


def _draws(data: ReportData) -> pd.DataFrame:
    """The comparison model's draws of the combined rating, one row per site and criterion,
    as one float block (a cached analysis holds one block per draw, which makes every
    pandas operation on it slow). Kept with the analysis (shared by its readers' views)."""
    owner = data.__dict__.get("_base", data)
    draws = owner.__dict__.get("_compare_draws")
    if draws is None:
        reps = data.result.replicates
        comp = reps.index.get_level_values("component") == "combined"
        index = reps.index[comp].droplevel("component")
        draws = pd.DataFrame(np.asarray(reps.to_numpy(dtype=float)[comp]), index=index)
        owner.__dict__["_compare_draws"] = draws
    return draws


def _pairwise(data: ReportData, sites: Sequence[str]) -> pd.DataFrame:
    """P(a > b) for every pair of ``sites`` per criterion, from the model's draws: the same
    numbers as :func:`copeval.scoring.pairwise_probabilities` (differences within 1e-9 are
    ties), computed for the sites compared only."""
    from copeval.scoring import _TOL

    draws = _draws(data)
    if draws.shape[1] == 0:
        return _empty_pairwise()
    rows = {key: i for i, key in enumerate(draws.index)}
    m = draws.to_numpy()
    ids = sorted(set(sites))
    out = []
    for c in CRITERIA:
        present = [s for s in ids if (s, c) in rows]
        if len(present) < 2:
            continue
        sub = m[[rows[(s, c)] for s in present]]
        ia, ib = np.triu_indices(len(present), 1)
        d = sub[ia] - sub[ib]
        gt = (d > _TOL).mean(axis=1)
        lt = (d < -_TOL).mean(axis=1)
        for k in range(len(ia)):
            out.append((c, present[ia[k]], present[ib[k]], float(gt[k]), float(lt[k])))
    return pd.DataFrame(
        out, columns=["criterion", "site_a", "site_b", "p_a_greater", "p_b_greater"]
    )


def _rated_by_criterion(ratings: pd.DataFrame, order: Sequence[str]):
    """``(criterion, rated sites)`` for each criterion rated at two sites or more, the sites
    highest score first (equal scores in the order of ``order``)."""
    rank = {s: i for i, s in enumerate(order)}
    rated = ratings[ratings["rated"]]
    for c in CRITERIA:
        sub = rated[rated["criterion"] == c]
        if len(sub) < 2:
            continue
        yield (
            c,
            sub.assign(_o=sub["site_id"].map(rank)).sort_values(
                ["score", "_o"], ascending=[False, True], kind="stable"
            ),
        )


def _extreme_pairs(ratings: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Per criterion, the pair (highest-rated site, lowest-rated site), without probability."""
    out = []
    for c, sub in _rated_by_criterion(ratings, order):
        out.append((c, sub["site_id"].iloc[0], sub["site_id"].iloc[-1]))
    return pd.DataFrame(out, columns=["criterion", "higher", "lower"])


def _shared(ratings: pd.DataFrame, n_sites: int) -> pd.DataFrame:
    """Per core criterion: how widely it is strong or weak across the ``n_sites`` compared.

    ``need`` sites (four fifths of those compared, at least two) must share a band: the
    strength band is the best band that ``need`` rated sites reach, the weakness band the
    worst band that ``need`` rated sites stay at or under. A site without a rating counts
    for neither.
    """
    need = max(2, math.ceil((1 - SHARED_Q) * n_sites - 1e-9)) if n_sites > 1 else 1
    rows = []
    rated = ratings[ratings["rated"]]
    for c in CORE:
        sub = rated[rated["criterion"] == c]
        if sub.empty:
            continue
        scores = sub["score"].to_numpy(dtype=float)
        bands = sub["band"].to_numpy(dtype=int)
        row = {"criterion": c, "n": n_sites, "n_rated": len(sub), "mean": float(scores.mean())}
        if len(sub) >= need:
            low = float(np.sort(scores)[::-1][need - 1])  # need sites rate this or more
            high = float(np.sort(scores)[need - 1])  # need sites rate this or less
            band_low, band_high = band_index(low), band_index(high)
            row.update(
                low=low,
                high=high,
                band_low=band_low,
                band_high=band_high,
                k_strong=int((bands >= band_low).sum()),
                strong_same=bool((bands[bands >= band_low] == band_low).all()),
                k_weak=int((bands <= band_high).sum()),
                weak_same=bool((bands[bands <= band_high] == band_high).all()),
            )
        rows.append(row)
    columns = ["criterion", "n", "n_rated", "mean", "low", "high", "band_low", "band_high"]
    columns += ["k_strong", "strong_same", "k_weak", "weak_same"]
    return pd.DataFrame(rows, columns=columns)


def headline_facts(
    ratings: pd.DataFrame, extremes: pd.DataFrame, order: Sequence[str] | None = None
) -> dict:
    """What the headline says, as numbers and codes (pure: tables in, dict out).

    ``ratings`` as from :func:`select_ratings`; ``extremes`` as from :func:`pair_table`,
    restricted to one pair per criterion (its highest- and lowest-rated site; with two sites,
    the only pair).

    Returns a dict: ``sites`` (the IDs compared, in order), ``n_sites``, ``n_criteria``
    (criteria rated at two sites or more), ``n_clear`` (of those, the criteria on which the
    highest- and lowest-rated sites differ clearly), ``n_rated`` (ratings of the sites
    compared), ``difference`` (the row of ``extremes``
    the headline names, as a dict: the largest clear gap, else the largest gap; None when
    nothing can be compared), ``strength`` (the core criterion the sites share as a
    strength: passable or better at four fifths of the sites compared, and at least two;
    None if none), ``weaknesses`` (core criteria absent or limited at four fifths of the
    sites or more, weakest first) and ``weakest`` (for when no weakness is shared: the
    core criterion with the lowest mean rating among those rated at four fifths of the
    sites, other than the strength; None if there is none) and ``widest`` (the core
    criterion absent or limited at the most sites: ``criterion``, ``k`` sites of ``n``). Strength and weakness rows carry
    ``criterion``, ``band`` (the band shared), ``k`` (sites in that band or beyond), ``n``
    (sites compared) and ``same`` (all those ``k`` sites are in exactly that band). A site
    without a rating counts for neither.
    """
    sites = list(order) if order is not None else list(dict.fromkeys(ratings["site_id"]))
    facts = {
        "sites": sites,
        "n_sites": len(sites),
        "n_criteria": len(extremes),
        "n_clear": int(extremes["clear"].sum()) if len(extremes) else 0,
        "n_rated": int(ratings["rated"].sum()),
        "difference": None,
        "strength": None,
        "weaknesses": [],
        "weakest": None,
        "widest": None,
    }
    if len(extremes):
        ranked = extremes.assign(_p=extremes["p"].fillna(0.0)).sort_values(
            ["clear", "gap", "_p"], ascending=False, kind="stable"
        )
        facts["difference"] = ranked.drop(columns="_p").iloc[0].to_dict()
    shared = _shared(ratings, len(sites))
    if len(shared):
        full = shared[shared["band_low"].notna()]
        strong = full[full["band_low"] >= STRONG_BAND]
        if len(strong):
            # the best band shared, then the most sites sharing it
            best = strong.sort_values(
                ["band_low", "k_strong", "low", "mean"], ascending=False, kind="stable"
            ).iloc[0]
            facts["strength"] = {
                "criterion": best["criterion"],
                "band": int(best["band_low"]),
                "k": int(best["k_strong"]),
                "n": int(best["n"]),
                "same": bool(best["strong_same"]),
            }
        weak = full[full["band_high"] <= WEAK_BAND].sort_values(
            ["band_high", "k_weak", "high", "mean"],
            ascending=[True, False, True, True],
            kind="stable",
        )
        facts["weaknesses"] = [
            {
                "criterion": w["criterion"],
                "band": int(w["band_high"]),
                "k": int(w["k_weak"]),
                "n": int(w["n"]),
                "same": bool(w["weak_same"]),
            }
            for _, w in weak.iterrows()
        ]
        rated = ratings[ratings["rated"] & ratings["criterion"].isin(CORE)]
        if len(rated):
            n_weak = (
                rated.assign(weak=rated["band"] <= WEAK_BAND)
                .groupby("criterion", sort=False)
                .agg(k=("weak", "sum"), mean=("score", "mean"))
                .reset_index()
                .sort_values(["k", "mean"], ascending=[False, True], kind="stable")
            )
            top = n_weak.iloc[0]
            facts["widest"] = {"criterion": top["criterion"], "k": int(top["k"]), "n": len(sites)}
        rest = full
        if facts["strength"] is not None:
            rest = full[full["criterion"] != facts["strength"]["criterion"]]
        if len(rest):
            low = rest.sort_values("mean", kind="stable").iloc[0]
            facts["weakest"] = {
                "criterion": low["criterion"],
                "mean": float(low["mean"]),
                "band": band_index(low["mean"]),
            }
    return facts


def _pairs_of(data: ReportData, ratings: pd.DataFrame, pairs: pd.DataFrame, sites) -> pd.DataFrame:
    """The rows of ``pairs`` (or, with many sites, freshly computed rows) for each
    criterion's highest- and lowest-rated site."""
    ext = _extreme_pairs(ratings, sites)
    if pairs is None:
        frames = []
        for r in ext.itertuples(index=False):
            pw = _pairwise(data, [r.higher, r.lower])
            pw = pw[pw["criterion"] == r.criterion]
            sub = ratings[ratings["site_id"].isin([r.higher, r.lower])]
            sub = sub[sub["criterion"] == r.criterion]
            frames.append(pair_table(sub, pw, order=sites))
        pairs = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pair_table(ratings.iloc[:0], _empty_pairwise())
        )
    key = set(zip(ext["criterion"], ext["higher"], ext["lower"], strict=True))
    keep = [
        (c, h, lo) in key
        for c, h, lo in zip(pairs["criterion"], pairs["higher"], pairs["lower"], strict=True)
    ]
    return pairs[keep].reset_index(drop=True)


def select_headline(data: ReportData, sites: Sequence[str], *, pairs=None) -> dict:
    """:func:`headline_facts` of the sites compared.

    ``pairs`` (from :func:`select_pairs`) is reused when given; with many sites only the
    pair of extremes of each criterion is computed.
    """
    sites = list(sites)
    ratings = select_ratings(data, sites)
    if pairs is None and len(sites) <= MAX_DETAIL:
        pairs = select_pairs(data, sites)
    extremes = (
        _pairs_of(data, ratings, pairs, sites)
        if len(sites) > 1
        else pair_table(ratings.iloc[:0], _empty_pairwise())
    )
    return headline_facts(ratings, extremes, sites)


def select_spread(data: ReportData, sites: Sequence[str]) -> pd.DataFrame:
    """Per criterion, how the sites spread: ``criterion``, ``n`` (sites rated), ``low``,
    ``low_site``, ``median``, ``high``, ``high_site`` (scores 0-4 and site IDs; ties keep the
    order of ``sites``), ``band_low``, ``band_high`` and ``n_weak`` (sites absent or
    limited)."""
    sites = list(sites)
    ratings = select_ratings(data, sites)
    rank = {s: i for i, s in enumerate(sites)}
    rows = []
    for c in CRITERIA:
        sub = ratings[(ratings["criterion"] == c) & ratings["rated"]]
        if sub.empty:
            continue
        sub = sub.assign(_o=sub["site_id"].map(rank)).sort_values(
            ["score", "_o"], ascending=[False, True], kind="stable"
        )
        rows.append(
            {
                "criterion": c,
                "n": len(sub),
                "low": float(sub["score"].iloc[-1]),
                "low_site": sub["site_id"].iloc[-1],
                "median": float(sub["score"].median()),
                "high": float(sub["score"].iloc[0]),
                "high_site": sub["site_id"].iloc[0],
                "band_low": int(sub["band"].iloc[-1]),
                "band_high": int(sub["band"].iloc[0]),
                "n_weak": int((sub["band"] <= WEAK_BAND).sum()),
            }
        )
    columns = ["criterion", "n", "low", "low_site", "median", "high", "high_site"]
    return pd.DataFrame(rows, columns=[*columns, "band_low", "band_high", "n_weak"])


def _ranks_among(data: ReportData, sites: Sequence[str]) -> pd.DataFrame:
    """Rank probabilities among ``sites`` only (ranks are relative to who is compared)."""
    from copeval.scoring import rank_probabilities

    draws = _draws(data)
    draws = draws[draws.index.get_level_values("site_id").isin(list(sites))]
    draws = draws.set_axis(
        pd.MultiIndex.from_arrays(
            [
                draws.index.get_level_values("site_id"),
                draws.index.get_level_values("criterion"),
                ["combined"] * len(draws),
            ],
            names=["site_id", "criterion", "component"],
        )
    )
    return rank_probabilities(draws)


def select_differences(data: ReportData, sites: Sequence[str], *, pairs=None) -> dict:
    """The differences section's content, by the number of sites.

    ``{"mode": "none"}`` for one site; ``{"mode": "list", "pairs": DataFrame}`` for up to
    :data:`MAX_PAIR_LIST` sites (:func:`pair_table` rows); ``{"mode": "matrix", "pairs":
    DataFrame, "order": {criterion: [site IDs, highest rated first]}}`` up to
    :data:`MAX_DETAIL`; beyond, ``{"mode": "ranks", "ranks": DataFrame}`` with per
    criterion and site ``score``, ``mean_rank`` and ``p_first`` (rank probabilities among
    the sites compared), best mean rank first.
    """
    sites = list(sites)
    if len(sites) < 2:
        return {"mode": "none"}
    if len(sites) <= MAX_DETAIL:
        pairs = pairs if pairs is not None else select_pairs(data, sites)
        if len(sites) <= MAX_PAIR_LIST:
            return {"mode": "list", "pairs": pairs}
        ratings = select_ratings(data, sites)
        rank = {s: i for i, s in enumerate(sites)}
        order = {}
        for c in CRITERIA:
            sub = ratings[(ratings["criterion"] == c) & ratings["rated"]]
            if len(sub) < 2:
                continue
            sub = sub.assign(_o=sub["site_id"].map(rank)).sort_values(
                ["score", "_o"], ascending=[False, True], kind="stable"
            )
            order[c] = list(sub["site_id"])
        return {"mode": "matrix", "pairs": pairs, "order": order}
    ranks = _ranks_among(data, sites)
    first = ranks[ranks["rank"] == 1].set_index(["criterion", "site_id"])["probability"]
    mean = ranks.groupby(["criterion", "site_id"])["mean_rank"].first()
    ratings = select_ratings(data, sites).set_index(["criterion", "site_id"])
    table = pd.DataFrame({"mean_rank": mean})
    table["p_first"] = first.reindex(table.index).fillna(0.0)
    table["score"] = ratings["score"].reindex(table.index)
    table["band"] = ratings["band"].reindex(table.index)
    table = table.reset_index()
    crit_order = {c: i for i, c in enumerate(CRITERIA)}
    table = table.sort_values(
        ["criterion", "mean_rank"], key=lambda s: s.map(crit_order) if s.name == "criterion" else s
    ).reset_index(drop=True)
    return {"mode": "ranks", "ranks": table}


def select_sensitivity(data: ReportData, sites: Sequence[str]) -> dict:
    """Whether the order of the sites holds when the scoring choices change.

    Compares, per criterion and pair of sites compared, the order of their ratings (the
    score table) with their order under every variant of the sensitivity grid
    (:attr:`ReportData.site_sensitivity`: other qualitative weights, pooled or per-group
    averaging, with or without source means). A pair *flips* when some variant orders it
    the other way (a tie is no flip).

    Returns ``{"weights": (min, max), "criteria": DataFrame}`` with per criterion
    ``n_pairs`` and ``n_flipped``, and ``"flipped"``: a DataFrame of the flipped pairs
    (``criterion``, ``higher``, ``lower``: the order of the score table).
    """
    sites = list(sites)
    sens = data.site_sensitivity
    sens = sens[sens["site_id"].isin(sites)]
    weights = (float(sens["weight"].min()), float(sens["weight"].max())) if len(sens) else None
    ratings = select_ratings(data, sites)
    rows, flipped = [], []
    variant_cols = ["weight", "aggregation", "source_means"]
    for c in CRITERIA:
        base_scores = ratings[(ratings["criterion"] == c) & ratings["rated"]]
        ids = list(base_scores["site_id"])
        n = len(ids)
        if n < 2:
            continue
        b = base_scores["score"].to_numpy(dtype=float)
        sub = sens[sens["criterion"] == c]
        grid = sub.pivot_table(
            index=variant_cols, columns="site_id", values="score", aggfunc="first"
        ).reindex(columns=ids)
        v = grid.to_numpy(dtype=float)  # variants x sites
        ia, ib = np.triu_indices(n, 1)
        base_sign = np.sign(b[ia] - b[ib])
        var_sign = np.sign(v[:, ia] - v[:, ib])
        flips = ((var_sign * base_sign) < 0).any(axis=0) if len(v) else np.zeros(len(ia), bool)
        rows.append({"criterion": c, "n_pairs": len(ia), "n_flipped": int(flips.sum())})
        for a, bb in zip(ia[flips], ib[flips], strict=True):
            hi, lo = (ids[a], ids[bb]) if b[a] >= b[bb] else (ids[bb], ids[a])
            flipped.append((c, hi, lo))
    return {
        "weights": weights,
        "criteria": pd.DataFrame(rows, columns=["criterion", "n_pairs", "n_flipped"]),
        "flipped": pd.DataFrame(flipped, columns=["criterion", "higher", "lower"]),
    }


def select_coverage(data: ReportData, sites: Sequence[str]) -> pd.DataFrame:
    """Evidence per site: for each triangulation stratum, ``<stratum>_sources`` and
    ``<stratum>_segments`` (consented sources and coded segments behind the ratings), and
    ``respondents`` (survey respondents, all instruments)."""
    sites = list(sites)
    ev = data.evidence
    ev = ev[ev["site_id"].isin(sites)]
    sources = ev.groupby(["site_id", "stratum"])["source_id"].nunique()
    segments = ev.groupby(["site_id", "stratum"]).size()
    items = data.scaled_items
    resp = (
        items[items["site_id"].isin(sites)].groupby("site_id")["respondent_id"].nunique()
        if len(items)
        else pd.Series(dtype=int)
    )
    out = pd.DataFrame({"site_id": sites})
    for st in STRATA:
        out[f"{st}_sources"] = [int(sources.get((s, st), 0)) for s in sites]
        out[f"{st}_segments"] = [int(segments.get((s, st), 0)) for s in sites]
    out["respondents"] = [int(resp.get(s, 0)) for s in sites]
    return out


def select_cover(data: ReportData, sites: Sequence[str]) -> dict:
    """Cover facts: ``n_sites``, ``synthetic``, ``sources`` (consented sources of the sites
    compared by method), ``surveys`` (respondents by instrument), ``dates`` (source dates,
    for the fieldwork period), ``round`` (the round shown, None for a one-round project)
    and ``period_meta`` (the metadata the fieldwork period is printed from: the project's,
    or the round's declared start and end, as the site report's cover does)."""
    sites = list(sites)
    src = data.project.sources
    used = src[src["site_id"].isin(sites) & (src["consent"] != "none")]
    methods = used["method"].value_counts()
    meta = dict(data.project.meta)
    rnd = getattr(data, "round", None)
    items = data.scaled_items
    surveys = {}
    if len(items):
        mine = items[items["site_id"].isin(sites)]
        surveys = {
            str(inst): int(g["respondent_id"].nunique())
            for inst, g in mine.groupby("instrument", sort=True)
        }
    return {
        "n_sites": len(sites),
        "synthetic": bool(data.project.meta.get("synthetic")),
        "sources": {
            m: int(methods.get(m, 0))
            for m in ("interview", "focus_group", "observation", "document")
        },
        "surveys": surveys,
        "dates": list(used["date"]) if "date" in used else [],
        "round": rnd,
        "period_meta": (
            {k: v for k, v in meta.items() if k == "period" or k.startswith("period_")}
            if rnd is None
            else _round_period(meta, rnd)
        ),
    }


# ------------------------------------------------------------------------------ words


def _nobreak(text: str) -> str:
    """``text`` with no-break spaces: printed on one line."""
    return text.replace(" ", "\u00a0")


class ComparativeReport:
    """Sections of the report comparing sites: each method returns a :class:`doc.Section`.

    Parameters
    ----------
    data : ReportData
    sites : "all", "A,B" or sequence of str
        The sites compared (strings), in the order given; ``"all"`` keeps the project order.
    lang : {"es", "en"}
    """

    #: The sections of the report, in order (the notebook has one cell per section).
    SECTIONS = (
        "cover",
        "contents",
        "summary",
        "results",
        "change",
        "differences",
        "coverage",
        "methods",
    )

    def __init__(self, data: ReportData, *, sites="all", lang: str = "es"):
        self.lang = check_lang(lang)
        self.data = data.for_readers(self.lang)  # free text redacted before anything renders
        self.sites = resolve_sites(sites, list(self.data.site_names))
        self.project = self.data.project
        self.params = self.data.params
        self.ci = float(self.params["ci"])
        self.ci_text = base.ci_text(self.params, self.lang)
        self._cache: dict = {}
        self._figure = 0

    @classmethod
    def build(
        cls,
        project_path,
        *,
        sites="all",
        lang: str = "es",
        weight: float = DEFAULT_WEIGHT,
        n_boot: int = DEFAULT_DRAWS,
        seed: int = DEFAULT_SEED,
        ci: float = DEFAULT_CI,
        cache_dir=None,
        round: str | None = None,
    ) -> ComparativeReport:
        """Load and score the project (or reuse ``cache_dir``), then prepare the comparison.

        ``round`` picks an evaluation round of a project with several (default: the latest).
        """
        check_lang(lang)
        kwargs = dict(weight=weight, n_boot=n_boot, seed=seed, ci=ci, cache_dir=cache_dir)
        if round is not None:
            kwargs["round"] = round
        data = ReportData.load(find_project(project_path), **kwargs)
        return cls(data, sites=sites, lang=lang)

    # ------------------------------------------------------------------ helpers
    def _t(self, key, **kw) -> str:
        return t(key, self.lang, **kw)

    def _tn(self, key, n, **kw) -> str:
        return tn(key, n, self.lang, **kw)

    def _memo(self, name, fn):
        if name not in self._cache:
            self._cache[name] = fn()
        return self._cache[name]

    def _name(self, site_id: str) -> str:
        names = self._memo("names", self._site_names)
        return names.get(site_id, site_id)

    def _site_names(self) -> dict:
        """Site names in the report's language (``name_<lang>`` first); a placeholder
        name falls back to the site ID."""
        sites = self.project.sites
        out = {}
        for _, row in sites.iterrows():
            sid = str(row["site_id"])
            out[sid] = base.localized(row, "name", self.lang) or self.data.site_names.get(sid, sid)
        return out

    def _crit(self, c: str) -> str:
        return criterion_label(c, self.lang)

    def _band(self, i) -> str:
        return RATING_BANDS[int(i)][1] if self.lang == "en" else RATING_BANDS[int(i)][2]

    def _num(self, x, digits: int = 1) -> str:
        return fmt_num(x, self.lang, digits)

    def _likely(self, code) -> str:
        return self._t(f"compare.likely.{code}") if code else t("word.not_available", self.lang)

    def _next_figure(self) -> int:
        self._figure += 1
        return self._figure

    @property
    def ratings(self) -> pd.DataFrame:
        return self._memo("ratings", lambda: select_ratings(self.data, self.sites))

    @property
    def pairs(self) -> pd.DataFrame | None:
        """Every pair (a few sites only; None beyond :data:`MAX_DETAIL`)."""
        if len(self.sites) < 2 or len(self.sites) > MAX_DETAIL:
            return None
        return self._memo("pairs", lambda: select_pairs(self.data, self.sites))

    def _marks_any(self) -> bool:
        r = self.ratings
        return bool((r["rated"] & (r["insufficient"] | r["thin"])).any())

    def _section_titles(self) -> list[str]:
        keys = ["sec.summary", "sec.ranking"]
        if len(self.data.rounds) > 1:
            keys.append("trend.title.once")
        if len(self.sites) > 1:
            keys.append("sec.pairwise")
        return [self._t(k) for k in (*keys, "sec.coverage", "sec.methods")]

    def _contents_page(self) -> bool:
        return len(self._section_titles()) >= CONTENTS_MIN_SECTIONS

    # ------------------------------------------------------------------ cover
    def cover(self) -> doc.Section:
        facts = select_cover(self.data, self.sites)
        names = [self._name(s) for s in self.sites]
        subtitle = None
        if len(names) <= COVER_TITLE_NAMES:
            heading = " · ".join(names)
        else:
            heading = self._tn("compare.n_sites", len(names))
            subtitle = " · ".join(names[:COVER_NAMES])
            if len(names) > COVER_NAMES:
                subtitle += " " + self._tn("compare.more_sites", len(names) - COVER_NAMES)
        bits = [self._tn(f"sources.{m}", n) for m, n in facts["sources"].items() if n]
        for inst, n in facts["surveys"].items():
            key = f"instrument.{inst}"
            name = self._t(key) if key in STRINGS else inst
            bits.append(self._tn("sources.survey", n, instrument=name))
        lang = self.lang
        meta = self.project.meta
        cover_facts = [
            (self._t("cover.round"), self._round_label(facts["round"])),
            (self._t("cover.sites"), fmt_count(facts["n_sites"], lang)),
            (
                self._t("cover.period"),
                base.fieldwork_period(facts["period_meta"], facts["dates"], lang),
            ),
            (self._t("cover.sources"), "; ".join(bits) or self._t("sources.none")),
            (self._t("cover.project"), base.project_title(meta, lang)),
            (self._t("cover.toolkit"), base.toolkit_line(lang)),
        ]
        after = []
        if not self._contents_page():
            titles = "; ".join(self._section_titles())
            after.append(
                doc.Para(self._t("compare.in_this_report", sections=titles), style="small")
            )
        return base.cover(
            lang=lang,
            title=self._t("doc.title.compare"),
            running=self._t("doc.running.compare"),
            kicker=self._t("cover.kicker.compare"),
            heading=heading,
            subtitle=subtitle,
            facts=cover_facts,
            synthetic=facts["synthetic"],
            after=after,
        )

    def _round_label(self, rnd) -> str | None:
        """The round shown, by its label (a project with rounds), else None."""
        if rnd is None:
            return None
        label = getattr(self.data, "round_label", None)
        return label(rnd, self.lang) if label else str(rnd)

    def contents(self) -> doc.Section:
        """The contents on a page of their own -- only for a long report (a short one lists
        its sections on the cover)."""
        if not self._contents_page():
            return doc.Section()
        return base.contents(self.lang)

    # ------------------------------------------------------------------ summary
    def headline(self) -> doc.Para:
        """The headline: how the sites compare, and the strength and weakness they share."""
        facts = self._memo(
            "headline", lambda: select_headline(self.data, self.sites, pairs=self.pairs)
        )
        return doc.Para(" ".join(self._headline_sentences(facts)))

    def _where(self, d: dict) -> str:
        return self._t(
            "compare.hl.where",
            criterion=self._crit(d["criterion"]),
            higher=self._name(d["higher"]),
            lower=self._name(d["lower"]),
            band_h=self._band(d["band_higher"]),
            band_l=self._band(d["band_lower"]),
            score_h=self._num(d["score_higher"]),
            score_l=self._num(d["score_lower"]),
            likely=self._likely(d["likelihood"]),
            p=fmt_prob(d["p"], self.lang),
        )

    def _at(self, k: int, n: int) -> str:
        if k == n == 2:
            return self._t("compare.at.both")
        if k == n:
            return self._t("compare.at.all", n=n)
        return self._t("compare.at.some", k=k, n=n)

    def _band_phrase(self, row: dict, beyond: str) -> str:
        key = "compare.band.same" if row["same"] else beyond
        return self._t(key, band=self._band(row["band"]), at=self._at(row["k"], row["n"]))

    def _headline_sentences(self, f: dict) -> list[str]:
        n = f["n_sites"]
        if n == 0 or f["n_rated"] == 0:
            return [self._t("compare.no_sites")]
        if n == 1:
            return [self._t("compare.hl.one", a=self._name(f["sites"][0]))]
        out = []
        d = f["difference"]
        c, m = f["n_criteria"], f["n_clear"]
        if d is None:
            out.append(self._t("compare.hl.nothing_shared"))
        else:
            where = self._where(d)
            kind = "all" if c == len(CRITERIA) else ("two" if n == 2 else "many")
            criteria = self._tn(f"compare.criteria.{kind}", c)
            if n == 2:
                a, b = (self._name(s) for s in f["sites"])
                kw = dict(a=a, b=b, criteria=criteria, where=where)
                if m == 0:
                    out.append(self._t("compare.hl.two.none", a=a, b=b, criteria=criteria))
                elif m == c:
                    out.append(self._t("compare.hl.two.all", **kw))
                elif m == 1:
                    out.append(self._t("compare.hl.two.one", k=c - m, **kw))
                else:
                    out.append(self._t("compare.hl.two.some", m=m, **kw))
            else:
                key = "none" if m == 0 else ("all" if m == c else "some")
                out.append(
                    self._t(f"compare.hl.many.{key}", n=n, m=m, criteria=criteria, where=where)
                )
        clauses = []
        if f["strength"] is not None:
            s = f["strength"]
            phrase = self._band_phrase(s, "compare.band.or_better")
            clauses.append(
                self._t(
                    "compare.hl.strength", criterion=f"{self._crit(s['criterion'])} ({phrase})"
                )
            )
        weak = f["weaknesses"]
        if weak:
            phrases = [self._band_phrase(w, "compare.band.or_lower") for w in weak]
            names = [self._crit(w["criterion"]) for w in weak]
            if len(set(phrases)) == 1:
                criteria = f"{join_list(names, self.lang)} ({phrases[0]})"
            else:
                criteria = join_list(
                    [f"{nm} ({ph})" for nm, ph in zip(names, phrases, strict=True)], self.lang
                )
            clauses.append(self._tn("compare.hl.weakness", len(weak), criteria=criteria))
        elif n > 2 and f["widest"] is not None:
            w = f["widest"]
            if w["k"]:
                clauses.append(
                    self._t(
                        "compare.hl.widest",
                        criterion=self._crit(w["criterion"]),
                        k=w["k"],
                        n=w["n"],
                    )
                )
            else:
                clauses.append(self._t("compare.hl.no_weak_site"))
        elif f["weakest"] is not None:
            w = f["weakest"]
            clauses.append(
                self._t(
                    "compare.hl.no_weakness",
                    at=self._t("compare.at.both"),
                    criterion=self._crit(w["criterion"]),
                    score=self._num(w["mean"]),
                )
            )
        if clauses:
            text = "; ".join(clauses) + "."
            out.append(text[0].upper() + text[1:])
        return out

    def summary(self) -> doc.Section:
        """Lead, headline, the grid of ratings and how to read it."""
        out = [
            doc.Heading(2, self._t("sec.summary"), "summary"),
            doc.Para(self._tn("compare.lead", len(self.sites), ci=self.ci_text), style="lead"),
            doc.Callout(self.headline(), kind="info", title=self._t("compare.headline.title")),
        ]
        out += self._grid()
        out.append(
            base.how_to_read(self.lang, self.ci_text, marks=self._marks_any(), quotes=False)
        )
        return doc.Section(*out)

    def _grid(self) -> list:
        """The sites x criteria grid, coloured by band (one table per :data:`HEAT_ROWS`)."""
        r = self.ratings
        detail = len(self.sites) <= MAX_DETAIL
        by_key = {(x.site_id, x.criterion): x for x in r.itertuples(index=False)}
        header = [""] + [self._crit(c) for c in CRITERIA]
        blocks = []
        for start in range(0, len(self.sites), HEAT_ROWS):
            chunk = self.sites[start : start + HEAT_ROWS]
            rows = []
            for s in chunk:
                cells = [self._name(s)]
                for c in CRITERIA:
                    x = by_key[(s, c)]
                    if not x.rated:
                        cells.append(doc.Cell(self._t("flag.no_data"), band="na"))
                        continue
                    marks = flag_marks(
                        {"insufficient_evidence": x.insufficient, "thin_evidence": x.thin}
                    )
                    content = [doc.Strong(f"{self._num(x.score)}{marks}"), " ", self._band(x.band)]
                    if detail:
                        content += [
                            " ",
                            doc.Span(fmt_interval(x.lower, x.upper, self.lang), "small"),
                        ]
                    cells.append(doc.Cell(*content, band=int(x.band)))
                rows.append(cells)
            key = "compare.fig.grid" if detail else "compare.fig.grid_short"
            caption = self._t(key, n=self._next_figure(), ci=self.ci_text)
            if self._marks_any():
                caption += " " + self._t("compare.fig.marks")
            blocks.append(
                doc.Table(
                    header,
                    rows,
                    style="heat",
                    row_header=True,
                    caption=caption,
                    widths=(0.25, 0.15, 0.15, 0.15, 0.15, 0.15),
                )
            )
        return blocks

    # ------------------------------------------------------------------ change
    def change(self) -> doc.Section:
        """Sites x criteria grid of the change since the previous round (a project with
        rounds; :func:`copeval.report.trend.change_grid`)."""
        return trend.change_grid(self.data, self.sites, self.lang)

    # ------------------------------------------------------------------ results
    def results(self) -> doc.Section:
        """Comparison by criterion: the spread of ratings (three sites or more) and, for a
        few sites, each rating with its interval (forest figure)."""
        out = [doc.Heading(2, self._t("sec.ranking"), "ranking", newpage=True)]
        n = len(self.sites)
        if n >= 3:
            out.append(doc.Para(self._t("compare.spread_intro", n=n)))
            out.append(self._spread_table())
        if n <= MAX_DETAIL:
            from . import figures

            rows = self.data.table[self.data.table["site_id"].isin(self.sites)]
            order = {s: i for i, s in enumerate(self.sites)}
            rows = rows.sort_values(
                "site_id", key=lambda s: s.map(order), kind="stable"
            ).reset_index(drop=True)
            names = {s: self._name(s) for s in self.sites}
            fig = figures.forest_figure(
                rows,
                lang=self.lang,
                site_names=names,
                palette=figures.site_palette(list(self.data.site_names)),
            )
            out.append(doc.Para(self._t("compare.forest_intro", ci=self.ci_text)))
            figure = doc.Figure.from_matplotlib(
                fig,
                alt=self._t(
                    "compare.forest_alt",
                    ci=self.ci_text,
                    sites=join_list(list(names.values()), self.lang),
                ),
                caption=self._t("compare.fig.forest", n=self._next_figure(), ci=self.ci_text),
            )
            out.append(figure)
        return doc.Section(*out)

    def _spread_table(self) -> doc.Table:
        spread = select_spread(self.data, self.sites)
        rows = []
        for r in spread.itertuples(index=False):
            rows.append(
                [
                    self._crit(r.criterion),
                    doc.Cell(
                        doc.Strong(self._num(r.low)), " ", self._name(r.low_site), band=r.band_low
                    ),
                    self._num(r.median),
                    doc.Cell(
                        doc.Strong(self._num(r.high)),
                        " ",
                        self._name(r.high_site),
                        band=r.band_high,
                    ),
                    self._t("compare.k_of_n", k=r.n_weak, n=r.n),
                ]
            )
        header = [
            self._t("col.criterion"),
            self._t("compare.col.lowest"),
            self._t("compare.col.median"),
            self._t("compare.col.highest"),
            self._t("compare.col.weak"),
        ]
        return doc.Table(
            header, rows, style="compact", numeric=(2, 4), widths=(0.28, 0.24, 0.1, 0.24, 0.14)
        )

    # ------------------------------------------------------------------ differences
    def differences(self) -> doc.Section:
        """Which differences are clear: every pair in words (few sites), a matrix per
        criterion (up to :data:`MAX_DETAIL`), else rank probabilities; then whether the
        order holds under other scoring choices."""
        sel = select_differences(self.data, self.sites, pairs=self.pairs)
        if sel["mode"] == "none":
            return doc.Section()
        out = [doc.Heading(2, self._t("sec.pairwise"), "pairwise")]
        if sel["mode"] in ("list", "matrix"):
            out.append(doc.Para(self._t("compare.diff_intro")))
            out.append(doc.Para(self._t("compare.scale", scale=self._scale_text()), style="note"))
        if sel["mode"] == "list":
            out.append(self._pair_list(sel["pairs"]))
        elif sel["mode"] == "matrix":
            out.append(doc.Para(self._t("compare.matrix_intro")))
            out += self._pair_matrices(sel["pairs"], sel["order"])
        else:
            out.append(doc.Para(self._t("compare.too_many", n=len(self.sites), k=RANK_ROWS)))
            out += self._rank_tables(sel["ranks"])
        out.append(self._sensitivity_note())
        return doc.Section(*out)

    def _scale_text(self) -> str:
        parts = []
        prev = None
        shown = LIKELIHOODS[:4]
        for lowest, code in shown:
            if prev is None:
                rng = self._t("compare.range.at_least", p=f"{lowest:.2f}")
            else:
                rng = f"{lowest:.2f}–{prev - 0.01:.2f}"
            parts.append(f"{self._likely(code)}, {rng}")
            prev = lowest
        parts.append(
            f"{self._likely('unlikely')}, {self._t('compare.range.at_most', p=f'{prev - 0.01:.2f}')}"
        )
        return "; ".join(parts)

    def _pair_list(self, pairs: pd.DataFrame) -> doc.Table:
        rows = []
        for r in pairs.itertuples(index=False):
            bold = bool(r.clear)
            # the number and the two ratings are kept on one line each (no-break spaces)
            likely = f"{self._likely(r.likelihood)} ({_nobreak(fmt_prob(r.p, self.lang))})"
            ratings = self._t(
                "compare.vs", a=self._num(r.score_higher), b=self._num(r.score_lower)
            )
            rows.append(
                [
                    self._crit(r.criterion),
                    doc.Cell(self._name(r.higher), bold=bold),
                    doc.Cell(self._name(r.lower), bold=bold),
                    _nobreak(ratings),
                    doc.Cell(likely, bold=bold),
                ]
            )
        header = [
            self._t("col.criterion"),
            self._t("compare.col.higher"),
            self._t("compare.col.lower"),
            self._t("compare.col.ratings"),
            self._t("compare.col.likely"),
        ]
        return doc.Table(header, rows, style="compact", widths=(0.27, 0.15, 0.15, 0.15, 0.28))

    def _pair_matrices(self, pairs: pd.DataFrame, order: dict) -> list:
        probs = {(r.criterion, r.higher, r.lower): r for r in pairs.itertuples(index=False)}
        out = []
        for c, sites in order.items():
            # the upper triangle: each row site against the lower-rated sites after it
            rows = []
            for i, a in enumerate(sites[:-1]):
                cells = [self._name(a)]
                for j, b in enumerate(sites[1:], start=1):
                    r = probs.get((c, a, b)) if j > i else None
                    if r is None:
                        cells.append("")
                        continue
                    cells.append(doc.Cell(fmt_prob(r.p, self.lang), bold=bool(r.clear)))
                rows.append(cells)
            out.append(doc.Heading(3, self._crit(c), f"pairwise-{c.lower()}", toc=False))
            out.append(
                doc.Table(
                    ["", *[self._name(b) for b in sites[1:]]],
                    rows,
                    style="compact",
                    numeric=tuple(range(1, len(sites))),
                    row_header=True,
                )
            )
        return out

    def _rank_tables(self, ranks: pd.DataFrame) -> list:
        out = []
        for c in CRITERIA:
            sub = ranks[ranks["criterion"] == c].head(RANK_ROWS)
            if sub.empty:
                continue
            rows = [
                [
                    self._name(r.site_id),
                    doc.Cell(self._num(r.score), band=None if pd.isna(r.band) else int(r.band)),
                    self._num(r.mean_rank),
                    fmt_prob(r.p_first, self.lang),
                ]
                for r in sub.itertuples(index=False)
            ]
            out.append(doc.Heading(3, self._crit(c), f"ranks-{c.lower()}", toc=False))
            out.append(
                doc.Table(
                    [
                        self._t("col.site"),
                        self._t("compare.col.rating"),
                        self._t("compare.col.mean_rank"),
                        self._t("compare.col.first"),
                    ],
                    rows,
                    style="compact",
                    numeric=(1, 2, 3),
                )
            )
        return out

    def _sensitivity_note(self) -> doc.Para:
        sens = self._memo("sensitivity", lambda: select_sensitivity(self.data, self.sites))
        parts = []
        if sens["weights"] is not None:
            wmin, wmax = sens["weights"]
            parts.append(
                self._t("compare.sens.lead", wmin=self._num(wmin, 2), wmax=self._num(wmax, 2))
            )
        crit = sens["criteria"]
        flipped = sens["flipped"]
        clear_keys = set()
        if self.pairs is not None:
            p = self.pairs[self.pairs["clear"]]
            clear_keys = set(zip(p["criterion"], p["higher"], p["lower"], strict=True))
        flipped_clear = [
            k
            for k in zip(flipped["criterion"], flipped["higher"], flipped["lower"], strict=True)
            if k in clear_keys
        ]
        if len(self.sites) == 2:
            if flipped.empty:
                parts.append(self._t("compare.sens.two.holds"))
            else:
                names = join_list([self._crit(c) for c in flipped["criterion"]], self.lang)
                if flipped_clear:
                    clear = join_list([self._crit(k[0]) for k in flipped_clear], self.lang)
                    parts.append(
                        self._t("compare.sens.two.flips_clear", criteria=names, clear=clear)
                    )
                else:
                    parts.append(self._t("compare.sens.two.flips", criteria=names))
        else:
            moved = crit[crit["n_flipped"] > 0]
            if moved.empty:
                parts.append(self._t("compare.sens.many.holds"))
            else:
                items = [
                    self._tn(
                        "compare.sens.pairs",
                        int(r.n_pairs),
                        criterion=self._crit(r.criterion),
                        k=int(r.n_flipped),
                    )
                    for r in moved.itertuples(index=False)
                ]
                parts.append(self._t("compare.sens.many.flips", items="; ".join(items)))
                if self.pairs is not None:
                    if flipped_clear:
                        parts.append(
                            self._tn(
                                "compare.sens.many.clear", len(flipped_clear), m=len(flipped_clear)
                            )
                        )
                    elif len(self.pairs) and self.pairs["clear"].any():
                        parts.append(self._t("compare.sens.many.clear_hold"))
        return doc.Para(" ".join(parts))

    # ------------------------------------------------------------------ coverage
    def coverage(self) -> doc.Section:
        """Sources (coded passages) per site and group of respondents, and survey respondents."""
        cov = select_coverage(self.data, self.sites)
        unit = doc.Span(self._t("compare.unit.sources"), "small")
        header = [self._t("col.site")]
        header += [doc.Cell(stratum_label(st, self.lang), " ", unit) for st in STRATA]
        header.append(
            doc.Cell(
                self._t("col.survey"), " ", doc.Span(self._t("compare.unit.respondents"), "small")
            )
        )
        rows = []
        for r in cov.to_dict("records"):
            cells = [self._name(r["site_id"])]
            for st in STRATA:
                n_src, n_seg = r[f"{st}_sources"], r[f"{st}_segments"]
                cells.append(
                    f"{fmt_count(n_src, self.lang)} ({fmt_count(n_seg, self.lang)})"
                    if n_src
                    else "—"
                )
            cells.append(fmt_count(r["respondents"], self.lang) if r["respondents"] else "—")
            rows.append(cells)
        return doc.Section(
            doc.Heading(2, self._t("sec.coverage"), "coverage"),
            doc.Para(self._t("compare.coverage_intro")),
            doc.Table(
                header,
                rows,
                style="compact",
                numeric=tuple(range(1, len(header))),
                row_header=True,
                widths=(0.24, 0.15, 0.15, 0.15, 0.16, 0.15),
            ),
        )

    # ------------------------------------------------------------------ methods
    def _round_option(self) -> str | None:
        """``--round R`` when the report shows a round other than the latest."""
        rnd = getattr(self.data, "round", None)
        rounds = getattr(self.data, "rounds", None) or []
        return str(rnd) if rnd is not None and rounds and rnd != rounds[-1] else None

    def methods(self) -> doc.Section:
        """Appendix A: the method, this run's parameters and the command that reproduces it."""
        params = self.params
        every = self.sites == list(self.data.site_names)
        command = base.reproduce_command(
            "compare",
            self.project.path,
            ("--sites", "all" if every else ",".join(self.sites)),
            ("--lang", self.lang),
            ("--weight", float(params["weight"])),
            ("--n-boot", int(params["n_boot"])),
            ("--seed", int(params["seed"])),
            ("--ci", float(params["ci"])),
            ("--round", self._round_option()),
        )
        return base.methods_appendix(self.lang, params, self.ci_text, command=command)
