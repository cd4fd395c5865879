"""Survey scales: item scaling, criterion scores, scale reliability, indices and site comparisons.

Every function takes the project's item map (``Project.items``, one row per item, see
``docs/data-model.md``) and its responses (``Project.responses``, a dict mapping an instrument
name to a DataFrame with ``respondent_id``, ``site_id``, optional ``weight`` and ``cluster``
and one integer column per item), and returns a new tidy DataFrame. Inputs are never modified.

Scaling rules (``docs/reliability-and-surveys.md`` gives the formulas):

* an answer ``raw`` in ``scale_min..scale_max`` becomes
  ``value = (raw - scale_min) / (scale_max - scale_min) * 4`` and, for an item worded negatively
  (``reverse`` true), ``4 - value``; higher values always mean "more community policing";
* an answer equal to one of the item's ``missing_codes`` (don't know, refused) and an empty cell
  are missing: ``raw`` and ``value`` are NA, never numbers; the code is kept in ``missing_code``;
* any other answer is an error naming the instrument, item, respondent and value.

Functions
---------
scale_items
    Long table, one row per respondent x item.
respondent_scores
    One row per respondent x criterion: mean of the respondent's answered items (0-4).
scale_reliability
    Cronbach's alpha (with Feldt interval) and McDonald's omega per scale and site.
standardised_index
    Metaketa-style index: mean of item z-scores against a reference site or the pooled sample.
compare_items
    Ordinal logit per Likert item, each site against a reference site.
compare_scales
    Weighted least squares of criterion scores on site, cluster-robust standard errors.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .errors import SurveyError, SurveyWarning
from .vocabulary import CRITERIA

__all__ = [
    "FEW_CLUSTERS",
    "SurveyError",
    "SurveyWarning",
    "compare_items",
    "compare_scales",
    "respondent_scores",
    "scale_items",
    "scale_reliability",
    "standardised_index",
]

#: Columns the item map must have; the others (criterion, scale, missing_codes) are optional.
ITEM_REQUIRED = ("instrument", "item", "scale_min", "scale_max", "reverse")
#: Columns every responses table must have.
RESPONSE_REQUIRED = ("respondent_id", "site_id")
#: Grouping columns accepted by ``scale_reliability(by=...)``.
RELIABILITY_BY = ("instrument", "criterion", "scale")

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_CRITERION_ORDER = {c: i for i, c in enumerate(CRITERIA)}


# --------------------------------------------------------------------------- input checking
def _is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _show(value) -> str:
    """A value for an error message: strings quoted, numbers plain (no numpy reprs)."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (np.generic,)):
        value = value.item()
    return repr(value) if not isinstance(value, (int, float)) else f"{value:g}"


def _as_bool(value, *, where: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if not _is_missing(value):
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise SurveyError(f"{where}: 'reverse' must be true or false, got {_show(value)}")


def _as_int(value, *, column: str, where: str) -> int:
    if _is_missing(value):
        raise SurveyError(f"{where}: '{column}' is required but empty")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SurveyError(
            f"{where}: '{column}' must be a whole number, got {_show(value)}"
        ) from None
    if not number.is_integer():
        raise SurveyError(f"{where}: '{column}' must be a whole number, got {_show(value)}")
    return int(number)


def _missing_codes(value, *, where: str) -> tuple[int, ...]:
    if _is_missing(value):
        return ()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return (int(value),)
    codes = []
    for part in str(value).split(";"):
        part = part.strip()
        if not part:
            continue
        try:
            codes.append(int(part))
        except ValueError:
            raise SurveyError(
                f"{where}: missing code {part!r} in 'missing_codes' is not a whole number "
                f"(expected codes separated by ';', e.g. '97;98')"
            ) from None
    return tuple(sorted(set(codes)))


def _optional_text(value) -> object:
    if _is_missing(value):
        return pd.NA
    text = str(value).strip()
    return text if text else pd.NA


def _check_item_map(items: pd.DataFrame) -> pd.DataFrame:
    """Validate the item map; return a clean copy with parsed columns and ``missing`` tuples."""
    if not isinstance(items, pd.DataFrame):
        raise SurveyError(f"items must be a DataFrame (Project.items), got {type(items).__name__}")
    absent = [c for c in ITEM_REQUIRED if c not in items.columns]
    if absent:
        raise SurveyError(
            f"The item map lacks column(s) {', '.join(absent)}. "
            f"Available columns: {', '.join(map(str, items.columns)) or '(none)'}"
        )
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for pos, rec in enumerate(items.to_dict("records")):
        row = pos + 2  # as a spreadsheet shows items.csv
        inst, item = rec["instrument"], rec["item"]
        if _is_missing(inst) or _is_missing(item):
            raise SurveyError(f"items row {row}: 'instrument' and 'item' are required")
        inst, item = str(inst), str(item)
        where = f"items row {row} (instrument {inst!r}, item {item!r})"
        if (inst, item) in seen:
            raise SurveyError(f"{where}: listed twice (first on row {seen[(inst, item)]})")
        seen[(inst, item)] = row
        lo = _as_int(rec["scale_min"], column="scale_min", where=where)
        hi = _as_int(rec["scale_max"], column="scale_max", where=where)
        if hi <= lo:
            raise SurveyError(f"{where}: scale_max {hi} is not above scale_min {lo}")
        criterion = _optional_text(rec.get("criterion"))
        if criterion is not pd.NA and criterion not in CRITERIA:
            raise SurveyError(
                f"{where}: criterion {criterion!r} is not one of {', '.join(CRITERIA)} "
                "(leave it empty for items that are not scored)"
            )
        codes = _missing_codes(rec.get("missing_codes"), where=where)
        clash = [c for c in codes if lo <= c <= hi]
        if clash:
            raise SurveyError(
                f"{where}: missing code(s) {clash} overlap the valid answers {lo}..{hi}"
            )
        rows.append(
            {
                "instrument": inst,
                "item": item,
                "criterion": criterion,
                "scale": _optional_text(rec.get("scale")),
                "scale_min": lo,
                "scale_max": hi,
                "reverse": _as_bool(rec["reverse"], where=where),
                "missing": codes,
                "position": pos,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "instrument",
            "item",
            "criterion",
            "scale",
            "scale_min",
            "scale_max",
            "reverse",
            "missing",
            "position",
        ],
    )


def _check_responses(responses: Mapping[str, pd.DataFrame], imap: pd.DataFrame) -> None:
    if not isinstance(responses, Mapping):
        raise SurveyError(
            "responses must be a dict of instrument -> DataFrame (Project.responses), "
            f"got {type(responses).__name__}"
        )
    for inst, inst_items in imap.groupby("instrument", sort=True):
        if inst not in responses:
            raise SurveyError(
                f"Instrument {inst!r} is in the item map but has no responses table "
                f"(responses/{inst}.csv). Available instruments: "
                f"{', '.join(sorted(map(str, responses))) or '(none)'}"
            )
        df = responses[inst]
        if not isinstance(df, pd.DataFrame):
            raise SurveyError(f"responses[{inst!r}] must be a DataFrame, got {type(df).__name__}")
        absent = [c for c in RESPONSE_REQUIRED if c not in df.columns]
        if absent:
            raise SurveyError(
                f"responses/{inst}.csv lacks column(s) {', '.join(absent)}. "
                f"Available columns: {', '.join(map(str, df.columns))}"
            )
        missing_items = [it for it in inst_items["item"] if it not in df.columns]
        if missing_items:
            raise SurveyError(
                f"Item(s) {', '.join(map(repr, missing_items))} of instrument {inst!r} are not "
                f"columns of responses/{inst}.csv. Available columns: "
                f"{', '.join(map(str, df.columns))}"
            )
        ids = df["respondent_id"]
        if ids.isna().any():
            row = int(np.flatnonzero(ids.isna().to_numpy())[0]) + 2
            raise SurveyError(f"responses/{inst}.csv row {row}: respondent_id is empty")
        dup = ids.astype(str).duplicated()
        if dup.any():
            first = ids[dup].iloc[0]
            raise SurveyError(
                f"responses/{inst}.csv: respondent_id {first!r} appears more than once"
            )
        if df["site_id"].isna().any():
            pos = int(np.flatnonzero(df["site_id"].isna().to_numpy())[0])
            raise SurveyError(
                f"responses/{inst}.csv: site_id is empty for respondent {ids.iloc[pos]!r}"
            )
        if "weight" in df.columns:
            w = pd.to_numeric(df["weight"], errors="coerce").astype(float)
            bad = ~(np.isfinite(w.to_numpy()) & (w.to_numpy() > 0))
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                raise SurveyError(
                    f"responses/{inst}.csv: weight {_show(df['weight'].iloc[pos])} of respondent "
                    f"{ids.iloc[pos]!r} must be a positive number"
                )


# --------------------------------------------------------------------------- scaling
_LONG_COLUMNS = [
    "respondent_id",
    "instrument",
    "site_id",
    "weight",
    "cluster",
    "item",
    "criterion",
    "scale",
    "raw",
    "missing_code",
    "value",
]


def _instrument_long(inst: str, df: pd.DataFrame, inst_items: pd.DataFrame) -> pd.DataFrame:
    n = len(df)
    ids = df["respondent_id"].astype(str).to_numpy()
    sites = df["site_id"].astype(str).to_numpy()
    if "weight" in df.columns:
        weight = pd.to_numeric(df["weight"], errors="coerce").astype(float).to_numpy()
    else:
        weight = np.ones(n)
    if "cluster" in df.columns:
        cluster = df["cluster"].astype("string").to_numpy()
    else:
        cluster = pd.array([pd.NA] * n, dtype="string").to_numpy()
    frames = []
    for it in inst_items.itertuples(index=False):
        col = df[it.item]
        numeric = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
        present = ~col.isna().to_numpy()
        bad_text = present & np.isnan(numeric)
        if bad_text.any():
            pos = int(np.flatnonzero(bad_text)[0])
            raise SurveyError(
                f"responses/{inst}.csv, item {it.item!r}, respondent {ids[pos]!r}: "
                f"{_show(col.iloc[pos])} is not a number"
            )
        answered = ~np.isnan(numeric)
        not_whole = answered & (numeric != np.round(numeric))
        if not_whole.any():
            pos = int(np.flatnonzero(not_whole)[0])
            raise SurveyError(
                f"responses/{inst}.csv, item {it.item!r}, respondent {ids[pos]!r}: "
                f"{numeric[pos]:g} is not a whole number"
            )
        is_code = answered & np.isin(numeric, np.asarray(it.missing, dtype=float))
        valid = answered & (numeric >= it.scale_min) & (numeric <= it.scale_max)
        bad = answered & ~valid & ~is_code
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            codes = ", ".join(map(str, it.missing)) or "none declared"
            raise SurveyError(
                f"responses/{inst}.csv, item {it.item!r}, respondent {ids[pos]!r}: answer "
                f"{numeric[pos]:g} is outside {it.scale_min}..{it.scale_max} and is not a "
                f"missing code ({codes})"
            )
        raw = np.where(valid, numeric, np.nan)
        value = (raw - it.scale_min) / (it.scale_max - it.scale_min) * 4.0
        if it.reverse:
            value = 4.0 - value
        frames.append(
            pd.DataFrame(
                {
                    "respondent_id": ids,
                    "instrument": inst,
                    "site_id": sites,
                    "weight": weight,
                    "cluster": cluster,
                    "item": it.item,
                    "criterion": it.criterion,
                    "scale": it.scale,
                    "raw": pd.array(np.where(valid, numeric, np.nan), dtype="Float64").astype(
                        "Int64"
                    ),
                    "missing_code": pd.array(
                        np.where(is_code, numeric, np.nan), dtype="Float64"
                    ).astype("Int64"),
                    "value": value,
                    "_item_pos": it.position,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def scale_items(items: pd.DataFrame, responses: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Rescale every survey answer to 0-4, reverse-coded where worded negatively.

    Parameters
    ----------
    items : DataFrame
        The item map (``Project.items``): ``instrument``, ``item``, ``scale_min``,
        ``scale_max``, ``reverse`` and optionally ``criterion``, ``scale``, ``missing_codes``.
    responses : dict of str to DataFrame
        Responses by instrument (``Project.responses``). Instruments without items are ignored.

    Returns
    -------
    DataFrame
        One row per respondent x item, sorted by instrument, respondent_id and item-map order:

        - ``respondent_id`` (str), ``instrument`` (str), ``site_id`` (str)
        - ``weight`` (float): design weight, 1.0 when the instrument has no ``weight`` column
        - ``cluster`` (string): sampling cluster, NA when the instrument has no ``cluster``
        - ``item`` (str), ``criterion`` (C1..C4, AT or NA), ``scale`` (str or NA)
        - ``raw`` (Int64): the answer as given; NA when empty or a missing code
        - ``missing_code`` (Int64): the don't-know/refused code given, else NA
        - ``value`` (float): ``(raw - scale_min) / (scale_max - scale_min) * 4``, and
          ``4 - that`` for reversed items; NaN when ``raw`` is NA

    Raises
    ------
    SurveyError
        A required column is missing, an item is not a column of its responses table, or an
        answer is neither a valid answer nor a declared missing code.

    Examples
    --------
    >>> items = pd.DataFrame({"instrument": ["c", "c"], "item": ["q1", "q2"],
    ...     "criterion": ["C2", "C2"], "scale_min": [1, 1], "scale_max": [5, 5],
    ...     "reverse": [False, True], "missing_codes": ["98", "98"]})
    >>> resp = {"c": pd.DataFrame({"respondent_id": ["r1"], "site_id": ["A"],
    ...     "q1": [5], "q2": [98]})}
    >>> scale_items(items, resp)[["item", "raw", "missing_code", "value"]]
      item   raw  missing_code  value
    0   q1     5          <NA>    4.0
    1   q2  <NA>            98    NaN
    """
    imap = _check_item_map(items)
    _check_responses(responses, imap)
    frames = [
        _instrument_long(inst, responses[inst], inst_items)
        for inst, inst_items in imap.groupby("instrument", sort=True)
    ]
    if not frames:
        return _empty_long()
    long = pd.concat(frames, ignore_index=True)
    long = long.sort_values(
        ["instrument", "respondent_id", "_item_pos"], kind="stable", ignore_index=True
    )
    return long.drop(columns="_item_pos")[_LONG_COLUMNS]


def _empty_long() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent_id": pd.Series(dtype=object),
            "instrument": pd.Series(dtype=object),
            "site_id": pd.Series(dtype=object),
            "weight": pd.Series(dtype=float),
            "cluster": pd.Series(dtype="string"),
            "item": pd.Series(dtype=object),
            "criterion": pd.Series(dtype=object),
            "scale": pd.Series(dtype=object),
            "raw": pd.Series(dtype="Int64"),
            "missing_code": pd.Series(dtype="Int64"),
            "value": pd.Series(dtype=float),
        }
    )


def _criterion_sort_key(series: pd.Series) -> pd.Series:
    return series.map(_CRITERION_ORDER).fillna(len(CRITERIA)).astype(int)


# --------------------------------------------------------------------------- respondent scores
_SCORE_COLUMNS = [
    "respondent_id",
    "instrument",
    "site_id",
    "weight",
    "cluster",
    "criterion",
    "score",
    "n_items",
    "items",
]


def respondent_scores(items: pd.DataFrame, responses: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Criterion score of each respondent: the mean of their answered items, on 0-4.

    Items without a criterion (demographics) are not scored. A respondent who answered none of
    a criterion's items (all empty or don't know/refused) has no row for that criterion.

    Parameters
    ----------
    items : DataFrame
        The item map (``Project.items``).
    responses : dict of str to DataFrame
        Responses by instrument (``Project.responses``).

    Returns
    -------
    DataFrame
        One row per instrument x respondent x criterion, sorted by instrument, site_id,
        respondent_id and criterion (C1..C4, AT):

        - ``respondent_id``, ``instrument``, ``site_id`` (str)
        - ``weight`` (float): design weight, 1.0 when absent
        - ``cluster`` (string): sampling cluster, NA when absent
        - ``criterion`` (str): C1..C4 or AT
        - ``score`` (float): mean of the respondent's non-missing item values (0-4)
        - ``n_items`` (int): number of items averaged
        - ``items`` (tuple of str): the items averaged, in item-map order

    Examples
    --------
    >>> items = pd.DataFrame({"instrument": ["c", "c"], "item": ["q1", "q2"],
    ...     "criterion": ["C2", "C2"], "scale_min": [1, 1], "scale_max": [5, 5],
    ...     "reverse": [False, True]})
    >>> resp = {"c": pd.DataFrame({"respondent_id": ["r1"], "site_id": ["A"],
    ...     "q1": [5], "q2": [2]})}
    >>> respondent_scores(items, resp)[["respondent_id", "criterion", "score", "items"]]
      respondent_id criterion  score     items
    0            r1        C2    3.5  (q1, q2)
    """
    long = scale_items(items, responses)
    scored = long[long["criterion"].notna() & long["value"].notna()]
    if scored.empty:
        return _empty_scores()
    out = _reduce_groups(scored, ["instrument", "respondent_id", "criterion"], "value")
    out = out.rename(columns={"mean": "score"})
    out = out.assign(_c=_criterion_sort_key(out["criterion"]))
    out = out.sort_values(
        ["instrument", "site_id", "respondent_id", "_c"], kind="stable", ignore_index=True
    )
    return out[_SCORE_COLUMNS]


def _reduce_groups(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Per group of ``keys``: mean and count of ``value``, the items (tuple) and the
    respondent's site, weight and cluster, vectorised (no Python call per group).

    Rows keep their order within a group (the stable sort), so ``items`` follow the item map.
    """
    codes = [pd.factorize(frame[k])[0] for k in keys]
    order = np.lexsort(codes[::-1])
    f = frame.iloc[order]
    stacked = np.column_stack([c[order] for c in codes])
    change = np.ones(len(f), dtype=bool)
    change[1:] = (stacked[1:] != stacked[:-1]).any(axis=1)
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, len(f)))
    values = f[value].to_numpy(dtype=float)
    out = f.iloc[starts][[*keys, "site_id", "weight", "cluster"]].reset_index(drop=True)
    out["mean"] = np.add.reduceat(values, starts) / counts
    out["n_items"] = counts.astype(int)
    names = f["item"].tolist()
    ends = np.append(starts[1:], len(f))
    out["items"] = [tuple(names[a:b]) for a, b in zip(starts, ends, strict=True)]
    out["cluster"] = out["cluster"].astype("string")
    return out


def _empty_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent_id": pd.Series(dtype=object),
            "instrument": pd.Series(dtype=object),
            "site_id": pd.Series(dtype=object),
            "weight": pd.Series(dtype=float),
            "cluster": pd.Series(dtype="string"),
            "criterion": pd.Series(dtype=object),
            "score": pd.Series(dtype=float),
            "n_items": pd.Series(dtype=int),
            "items": pd.Series(dtype=object),
        }
    )


# --------------------------------------------------------------------------- reliability
def cronbach_alpha(data: np.ndarray | pd.DataFrame) -> float:
    """Cronbach's alpha of a respondents x items matrix without missing values.

    ``alpha = k / (k - 1) * (1 - sum(var(item)) / var(sum of items))`` with sample variances
    (``ddof=1``). NaN when there are fewer than 2 items or 2 respondents, or the total score has
    no variance.
    """
    x = np.asarray(data, dtype=float)
    if x.ndim != 2:
        raise SurveyError(f"cronbach_alpha needs a 2-D respondents x items matrix, got {x.ndim}-D")
    n, k = x.shape
    if k < 2 or n < 2 or np.isnan(x).any():
        return math.nan
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        return math.nan
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var))


def _feldt_interval(alpha: float, n: int, k: int, level: float) -> tuple[float, float]:
    """Feldt (1965) F-based confidence interval of alpha, as in pingouin and psych."""
    if not np.isfinite(alpha) or n < 2 or k < 2:
        return math.nan, math.nan
    df1 = n - 1
    df2 = df1 * (k - 1)
    lower = 1 - (1 - alpha) * stats.f.isf((1 - level) / 2, df1, df2)
    upper = 1 - (1 - alpha) * stats.f.isf((1 + level) / 2, df1, df2)
    return float(lower), float(upper)


#: Largest communality allowed; reaching it is reported as a Heywood case.
_MAX_COMMUNALITY = 0.999


def one_factor_loadings(corr: np.ndarray) -> tuple[np.ndarray, bool, bool]:
    """Loadings of a one-factor model fitted to a correlation matrix by minimum residuals.

    Minimises the unweighted least squares discrepancy of the off-diagonal correlations,
    ``sum_{i < j} (r_ij - l_i l_j)^2`` (the "minres" solution of R's ``psych``, which is also
    the fixed point of iterated principal axes), by Levenberg-Marquardt with the analytical
    Jacobian, from loadings ``sqrt(SMC)`` signed like the first eigenvector. When a
    communality ``l^2`` would exceed 0.999 the fit is redone with the loadings bounded there
    and a Heywood case is reported. Loadings are oriented so that their sum is positive.

    Returns
    -------
    loadings : ndarray
    converged : bool
    heywood : bool
        True when a communality reached the cap.
    """
    from scipy.optimize import least_squares

    r = np.asarray(corr, dtype=float)
    k = r.shape[0]
    rows, cols = np.triu_indices(k, 1)
    target = r[rows, cols]
    pairs = np.arange(len(target))
    try:
        smc = 1 - 1 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        smc = np.max(np.abs(r - np.diag(np.diag(r))), axis=0)
    smc = np.clip(np.nan_to_num(smc, nan=0.5), 0.01, _MAX_COMMUNALITY)
    first = np.linalg.eigh(r)[1][:, -1]
    start = np.sqrt(smc) * np.where(first < 0, -1.0, 1.0)

    def residuals(lam):
        return target - lam[rows] * lam[cols]

    def jacobian(lam):
        jac = np.zeros((len(target), k))
        jac[pairs, rows] = -lam[cols]
        jac[pairs, cols] = -lam[rows]
        return jac

    tol = {"xtol": 1e-12, "ftol": 1e-12, "gtol": 1e-12}
    bound = math.sqrt(_MAX_COMMUNALITY)
    if len(target) >= k:
        res = least_squares(residuals, start, jac=jacobian, method="lm", **tol)
    else:  # two items: fewer residuals than loadings, which "lm" does not accept
        res = least_squares(residuals, start, jac=jacobian, method="trf", **tol)
    heywood = bool((np.abs(res.x) > bound).any())
    if heywood:
        res = least_squares(
            residuals,
            np.clip(res.x, -bound, bound),
            jac=jacobian,
            method="trf",
            bounds=(-bound, bound),
            **tol,
        )
    loadings = res.x
    if loadings.sum() < 0:
        loadings = -loadings
    return loadings, bool(res.status > 0), heywood


def mcdonald_omega(corr: np.ndarray) -> tuple[float, np.ndarray, str]:
    """McDonald's omega total from a one-factor model of a correlation matrix.

    ``omega = (sum l)^2 / ((sum l)^2 + sum(1 - l^2))`` with loadings ``l`` from
    :func:`one_factor_loadings`: the share of the variance of the sum of standardised items
    due to the common factor. Returns ``(omega, loadings, note)``; ``note`` is empty unless the
    fit did not converge, hit a Heywood case, or an item loads negatively.
    """
    r = np.asarray(corr, dtype=float)
    if r.shape[0] < 2 or not np.isfinite(r).all():
        return math.nan, np.full(r.shape[0], np.nan), ""
    loadings, converged, heywood = one_factor_loadings(r)
    notes = []
    if not converged:
        notes.append("one-factor fit did not converge")
    if heywood:
        notes.append("Heywood case (a communality reached 0.999)")
    common = loadings.sum() ** 2
    omega = common / (common + (1 - loadings**2).sum())
    return float(omega), loadings, "; ".join(notes)


_RELIABILITY_STATS = [
    "n_items",
    "n_respondents",
    "alpha",
    "alpha_lower",
    "alpha_upper",
    "alpha_std",
    "omega",
    "items",
    "note",
]


def _reliability_row(matrix: np.ndarray, items: tuple, level: float) -> dict:
    k = len(items)
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    n = len(complete)
    row = dict.fromkeys(_RELIABILITY_STATS, math.nan)
    row.update(n_items=k, n_respondents=n, items=items, note="")
    if k < 2:
        row["note"] = "needs at least 2 items"
        return row
    if n < 3:
        row["note"] = f"only {n} respondent(s) answered every item; needs at least 3"
        return row
    x = complete
    notes = []
    alpha = cronbach_alpha(x)
    row["alpha"] = alpha
    row["alpha_lower"], row["alpha_upper"] = _feldt_interval(alpha, n, k, level)
    sd = x.std(axis=0, ddof=1)
    flat = [items[i] for i in np.flatnonzero(sd == 0)]
    if flat:
        notes.append(f"no variance in {', '.join(flat)}: omega not computed")
    else:
        corr = np.corrcoef(x, rowvar=False)
        mean_r = corr[np.triu_indices(k, 1)].mean()
        row["alpha_std"] = k * mean_r / (1 + (k - 1) * mean_r)
        omega, loadings, note = mcdonald_omega(corr)
        row["omega"] = omega
        if note:
            notes.append(note)
        negative = [items[i] for i in np.flatnonzero(loadings < 0)]
        if negative:
            notes.append(f"negative loading(s) for {', '.join(negative)}: check reverse coding")
        if k == 2:
            notes.append("2 items: omega assumes equal loadings (equals standardised alpha)")
    if np.isfinite(alpha) and alpha < 0:
        notes.append("negative alpha: items correlate negatively on average")
    row["note"] = "; ".join(notes)
    return row


def scale_reliability(
    items: pd.DataFrame,
    responses: Mapping[str, pd.DataFrame],
    *,
    by: Sequence[str] = ("instrument", "criterion"),
    per_site: bool = True,
    level: float = 0.95,
) -> pd.DataFrame:
    """Internal consistency of each scale: Cronbach's alpha and McDonald's omega.

    Items are grouped by the columns in ``by`` (and by site when ``per_site``); each group's
    respondents x items matrix of 0-4 values (reverse-coded) is analysed with listwise deletion:
    only respondents who answered every item of the group count. Design weights are not used.

    Parameters
    ----------
    items, responses
        The item map and responses (``Project.items``, ``Project.responses``).
    by : sequence of str, default ("instrument", "criterion")
        Grouping columns: ``"instrument"`` (required: different instruments have different
        respondents) plus ``"criterion"`` and/or ``"scale"``. Items with an empty grouping
        value are left out.
    per_site : bool, default True
        One row per site as well as per group; otherwise all sites are pooled.
    level : float, default 0.95
        Confidence level of the Feldt interval for alpha.

    Returns
    -------
    DataFrame
        One row per group (x site), with the ``by`` columns, ``site_id`` when ``per_site``, and:

        - ``n_items`` (int), ``n_respondents`` (int): respondents with every item answered
        - ``alpha`` (float): Cronbach's alpha of the 0-4 item values
        - ``alpha_lower``, ``alpha_upper`` (float): Feldt interval at ``level``
        - ``alpha_std`` (float): standardised alpha (from the mean inter-item correlation)
        - ``omega`` (float): McDonald's omega total, one-factor model of the item correlations
          (iterated principal axes), see :func:`mcdonald_omega`
        - ``items`` (tuple of str): the items of the group
        - ``note`` (str): why a value is missing, or caveats (Heywood case, negative loading,
          two-item omega); empty when there is nothing to say

        Statistics are NaN for groups with fewer than 2 items or 3 complete respondents.
    """
    if isinstance(by, str):
        by = (by,)
    by = tuple(by)
    unknown = [b for b in by if b not in RELIABILITY_BY]
    if unknown:
        raise SurveyError(
            f"by={unknown[0]!r} is not a grouping column; use some of {', '.join(RELIABILITY_BY)}"
        )
    if "instrument" not in by:
        raise SurveyError(
            "by must include 'instrument': items of different instruments are answered by "
            f"different respondents (got by={by})"
        )
    if not 0 < level < 1:
        raise SurveyError(f"level must be between 0 and 1, got {level!r}")
    long = scale_items(items, responses)
    keys = list(by) + (["site_id"] if per_site else [])
    columns = keys + _RELIABILITY_STATS
    group_cols = [b for b in by if b != "instrument"]
    sub = long.dropna(subset=group_cols)
    rows = []
    for inst, inst_long in sub.groupby("instrument", sort=True):
        wide = inst_long.pivot(index="respondent_id", columns="item", values="value")
        values = wide.to_numpy(dtype=float)
        site_of = (
            inst_long.drop_duplicates("respondent_id")
            .set_index("respondent_id")["site_id"]
            .reindex(wide.index)
            .to_numpy()
        )
        # items in item-map order (the long table is in that order for each respondent)
        item_keys = inst_long.drop_duplicates("item").set_index("item")[group_cols]
        if group_cols:
            groups = [
                (key if isinstance(key, tuple) else (key,), list(grp.index))
                for key, grp in item_keys.groupby(group_cols, sort=True)
            ]
        else:
            groups = [((), list(item_keys.index))]
        sites = sorted(set(site_of)) if per_site else [None]
        for key, group_items in groups:
            mat = values[:, [wide.columns.get_loc(i) for i in group_items]]
            for site in sites:
                part = mat if site is None else mat[site_of == site]
                row = dict(zip(["instrument", *group_cols], (inst, *key), strict=True))
                if site is not None:
                    row["site_id"] = site
                row.update(_reliability_row(part, tuple(group_items), level))
                rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    out["n_items"] = out["n_items"].astype(int)
    out["n_respondents"] = out["n_respondents"].astype(int)
    if "criterion" in out.columns:
        sort_cols = list(keys)
        out = out.assign(criterion_order=_criterion_sort_key(out["criterion"]))
        sort_cols[sort_cols.index("criterion")] = "criterion_order"
        out = out.sort_values(sort_cols, kind="stable", ignore_index=True).drop(
            columns="criterion_order"
        )
    return out


# --------------------------------------------------------------------------- weighted helpers
def _weighted_mean_sd(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and SD with reliability-weight correction (equal weights: ddof=1)."""
    v1 = w.sum()
    if len(x) < 2 or v1 <= 0:
        return (float(x.mean()) if len(x) else math.nan), math.nan
    mean = float((w * x).sum() / v1)
    v2 = (w**2).sum()
    denom = v1 - v2 / v1
    if denom <= 0:
        return mean, math.nan
    return mean, float(math.sqrt((w * (x - mean) ** 2).sum() / denom))


def _cluster_groups(site: pd.Series, cluster: pd.Series) -> np.ndarray | None:
    """Cluster labels nested within site, or None when any respondent lacks a cluster."""
    if cluster.isna().any():
        return None
    return (site.astype(str) + "\x1f" + cluster.astype(str)).to_numpy()


def _check_reference(reference_site, sites: Sequence[str], what: str) -> str:
    if reference_site is None:
        return sorted(sites)[0]
    if reference_site not in set(sites):
        raise SurveyError(
            f"reference_site {reference_site!r} has no respondents in {what}. "
            f"Available sites: {', '.join(sorted(sites))}"
        )
    return str(reference_site)


# --------------------------------------------------------------------------- standardised index
def standardised_index(
    items: pd.DataFrame,
    responses: Mapping[str, pd.DataFrame],
    *,
    reference_site: str | None = None,
    by: str = "criterion",
    level: str = "respondent",
) -> pd.DataFrame:
    """Metaketa-style standardised index: the mean of a respondent's item z-scores.

    Each item's 0-4 value is standardised against the reference group (``reference_site``, or
    the pooled sample of all sites when None): ``z = (value - m) / s`` with ``m`` and ``s`` the
    design-weighted mean and standard deviation of the item in the reference group (for equal
    weights, the usual sample SD with ``ddof=1``). A respondent's index for a criterion (or
    scale) is the mean of their non-missing z-scores, so 0 is the reference group's average
    and 1 is one reference standard deviation of a typical item (the index is not
    re-standardised). Items with no variance in the reference group cannot be standardised:
    they are left out, with a :class:`SurveyWarning`.

    Parameters
    ----------
    items, responses
        The item map and responses (``Project.items``, ``Project.responses``).
    reference_site : str, optional
        Site whose respondents define the z-scores (``Project.meta["reference_site"]``);
        default the pooled sample.
    by : {"criterion", "scale"}, default "criterion"
        What the index summarises; items with an empty ``by`` value are left out.
    level : {"respondent", "site"}, default "respondent"
        Return one row per respondent, or a per-site summary.

    Returns
    -------
    DataFrame
        With ``level="respondent"``, one row per instrument x respondent x criterion (or scale):
        ``respondent_id``, ``instrument``, ``site_id``, ``weight``, ``cluster``, ``criterion``
        (or ``scale``), ``index`` (float), ``n_items`` (int), ``items`` (tuple of str),
        ``reference`` (the reference site, or ``"pooled"``).

        With ``level="site"``, one row per instrument x site x criterion (or scale):
        ``instrument``, ``site_id``, ``criterion`` (or ``scale``), ``reference``, ``index``
        (design-weighted mean of the respondents' indices), ``se`` (linearisation standard
        error, sampling clusters nested in sites when every respondent has one, respondents
        otherwise), ``n_respondents`` (int), ``n_clusters`` (int, NA without clusters).
    """
    if by not in ("criterion", "scale"):
        raise SurveyError(f"by must be 'criterion' or 'scale', got {by!r}")
    if level not in ("respondent", "site"):
        raise SurveyError(f"level must be 'respondent' or 'site', got {level!r}")
    long = scale_items(items, responses)
    long = long[long[by].notna() & long["value"].notna()]
    if reference_site is not None:
        _check_reference(reference_site, long["site_id"].unique().tolist(), "the survey data")
    ref_label = "pooled" if reference_site is None else str(reference_site)
    ref = long if reference_site is None else long[long["site_id"] == reference_site]
    moments = {}
    dropped = []
    for (inst, item), grp in ref.groupby(["instrument", "item"], sort=True):
        m, s = _weighted_mean_sd(grp["value"].to_numpy(), grp["weight"].to_numpy())
        if not np.isfinite(s) or s <= 0:
            dropped.append(f"{inst}/{item}")
            continue
        moments[(inst, item)] = (m, s)
    every_item = set(zip(long["instrument"], long["item"], strict=True))
    unreferenced = sorted(f"{i}/{t}" for i, t in every_item - set(moments))
    if unreferenced:
        warnings.warn(
            f"standardised_index: item(s) {', '.join(unreferenced)} have no variance (or fewer "
            f"than 2 answers) in the reference group ({ref_label}) and are left out",
            SurveyWarning,
            stacklevel=2,
        )
    mom = pd.DataFrame(
        [(i, t, m, s) for (i, t), (m, s) in moments.items()],
        columns=["instrument", "item", "_m", "_s"],
    )
    z = (
        long.assign(_row=np.arange(len(long)))
        .merge(mom, on=["instrument", "item"], how="inner")
        .sort_values("_row", kind="stable")
    )
    z = z.assign(_z=(z["value"] - z["_m"]) / z["_s"])
    resp = _reduce_groups(z, ["instrument", "respondent_id", by], "_z")
    resp = resp.rename(columns={"mean": "index"})
    resp["reference"] = ref_label
    order_col = _criterion_sort_key(resp[by]) if by == "criterion" else resp[by]
    resp = resp.assign(_o=order_col).sort_values(
        ["instrument", "site_id", "respondent_id", "_o"], kind="stable", ignore_index=True
    )
    if level == "respondent":
        return resp[
            [
                "respondent_id",
                "instrument",
                "site_id",
                "weight",
                "cluster",
                by,
                "index",
                "n_items",
                "items",
                "reference",
            ]
        ]
    return _site_index_summary(resp, by, ref_label)


def _site_index_summary(resp: pd.DataFrame, by: str, ref_label: str) -> pd.DataFrame:
    """Design-weighted mean index per instrument x site x ``by`` with its linearisation SE."""
    keys = ["instrument", "site_id", by]
    r = resp[[*keys, "respondent_id", "weight", "cluster", "index"]].reset_index(drop=True)
    r["_wx"] = r["weight"] * r["index"]
    r["_nac"] = r["cluster"].isna()
    summ = (
        r.groupby(keys, sort=False)
        .agg(
            _sw=("weight", "sum"),
            _swx=("_wx", "sum"),
            n_respondents=("index", "size"),
            _nac=("_nac", "any"),
        )
        .reset_index()
    )
    summ["index"] = summ["_swx"] / summ["_sw"]
    r = r.merge(
        summ[[*keys, "index", "_nac"]].rename(columns={"index": "_m", "_nac": "_gna"}),
        on=keys,
        how="left",
    )
    r["_e"] = r["weight"] * (r["index"] - r["_m"])
    # Primary sampling units: the clusters when every respondent of the group has one,
    # the respondents otherwise.
    r["_psu"] = np.where(
        r["_gna"], "r\x1f" + r["respondent_id"].astype(str), "c\x1f" + r["cluster"].astype(str)
    )
    psu = r.groupby([*keys, "_psu"], sort=False)["_e"].sum().reset_index()
    psu["_e2"] = psu["_e"] ** 2
    per = psu.groupby(keys, sort=False).agg(_g=("_e2", "size"), _se2=("_e2", "sum"))
    summ = summ.merge(per.reset_index(), on=keys, how="left")
    g = summ["_g"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(g / (g - 1) * summ["_se2"].to_numpy(dtype=float)) / summ["_sw"].to_numpy()
    summ["se"] = np.where(g >= 2, se, np.nan)
    summ["n_clusters"] = pd.array(np.where(summ["_nac"], pd.NA, summ["_g"]), dtype="Int64")
    summ["n_respondents"] = summ["n_respondents"].astype(int)
    summ["reference"] = ref_label
    order = _criterion_sort_key(summ[by]) if by == "criterion" else summ[by]
    summ = summ.assign(_o=order).sort_values(
        ["instrument", "site_id", "_o"], kind="stable", ignore_index=True
    )
    return summ[
        ["instrument", "site_id", by, "reference", "index", "se", "n_respondents", "n_clusters"]
    ]


# --------------------------------------------------------------------------- site comparisons
_ITEM_COMPARISON_COLUMNS = [
    "instrument",
    "item",
    "criterion",
    "site_id",
    "reference",
    "coef",
    "se",
    "p_value",
    "odds_ratio",
    "n",
    "n_site",
    "n_clusters",
    "df",
    "cov_type",
    "converged",
    "reason",
    "note",
]

#: Fewer clusters than this and cluster-robust inference gets a note: Angrist & Pischke
#: (2009, section 8.2.3) put the number of clusters needed at 42; Cameron & Miller (2015)
#: describe "few" as somewhere between 20 and 50, depending on the design.
FEW_CLUSTERS = 42


def _few_clusters_note(n_clusters: int) -> str:
    return (
        f"only {n_clusters} clusters (fewer than {FEW_CLUSTERS}): t with {n_clusters - 1} "
        "degrees of freedom; read p-values near the threshold with care"
    )


def _single_cluster_sites(site: pd.Series, groups: np.ndarray) -> set:
    """Sites whose respondents all come from one sampling cluster."""
    per_site = pd.DataFrame({"s": site.to_numpy(), "g": groups}).groupby("s")["g"].nunique()
    return set(per_site[per_site < 2].index)


def _extreme_site(values: np.ndarray, categories: np.ndarray) -> str | None:
    """'lowest'/'highest' when all of a site's answers are in the extreme category."""
    if len(values) == 0:
        return None
    if (values == categories[0]).all():
        return "lowest"
    if (values == categories[-1]).all():
        return "highest"
    return None


def _ordered_data(sub: pd.DataFrame, others: list[str]) -> tuple[pd.Series, pd.DataFrame]:
    categories = np.sort(sub["value"].unique())
    endog = pd.Series(pd.Categorical(sub["value"].to_numpy(), categories=categories, ordered=True))
    exog = pd.DataFrame({s: (sub["site_id"].to_numpy() == s).astype(float) for s in others})
    return endog, exog


def _cluster_jackknife_cov(model, params, groups) -> np.ndarray:
    """CV3 cluster-jackknife covariance of a maximum likelihood fit, by one Newton step.

    Leaving cluster ``g`` out moves the estimate by ``d_g = (J - J_g)^-1 S_g`` to first order
    (one Newton step from the full estimate, where ``S_g`` is the cluster's score and ``J``,
    ``J_g`` the Hessians of the full and the cluster's log-likelihood); the covariance is
    ``(G - 1) / G * sum_g d_g d_g'``, the CV3 estimator of MacKinnon, Nielsen & Webb (2023),
    which is exact for linear models. Cluster Hessians come from central differences of the
    clusters' scores. A parameter that leaving a cluster out leaves unidentified (a site
    coded in that one cluster) gets a pseudo-inverse step of 0 there.
    """
    theta = np.asarray(params, dtype=float)
    codes, labels = pd.factorize(pd.Series(groups))
    n_groups, k = len(labels), len(theta)

    def cluster_scores(th: np.ndarray) -> np.ndarray:
        out = np.zeros((n_groups, k))
        np.add.at(out, codes, model.score_obs(th))
        return out

    scores = cluster_scores(theta)
    hess = np.zeros((n_groups, k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = 1e-5 * max(1.0, abs(theta[j]))
        hess[:, :, j] = (cluster_scores(theta + step) - cluster_scores(theta - step)) / (
            2 * step[j]
        )
    total = hess.sum(axis=0)
    deltas = np.stack(
        [np.linalg.pinv(total - hess[g], rcond=1e-8) @ scores[g] for g in range(n_groups)]
    )
    return (n_groups - 1) / n_groups * deltas.T @ deltas


def _fit_ordered(sub: pd.DataFrame, others: list[str]) -> tuple:
    """Fit an ordinal logit of the item on site dummies. Returns (results, converged, notes)."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    endog, exog = _ordered_data(sub, others)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = OrderedModel(endog, exog, distr="logit")
        # clustered standard errors are the caller's (cluster jackknife, CV3)
        res = model.fit(method="bfgs", maxiter=2000, disp=False)
    converged = bool(res.mle_retvals.get("converged", True))
    notes = sorted(
        {
            f"{type(w.message).__name__}: {str(w.message).splitlines()[0]}"
            for w in caught
            if issubclass(w.category, (UserWarning, RuntimeWarning))
        }
    )
    return res, converged, notes


def compare_items(
    items: pd.DataFrame,
    responses: Mapping[str, pd.DataFrame],
    *,
    reference_site: str | None = None,
) -> pd.DataFrame:
    """Compare sites item by item with an ordinal logit (proportional odds) model.

    For each scored item (one with a criterion), the 0-4 values (reverse-coded, so higher is
    better) are modelled with ``statsmodels``' ``OrderedModel(distr="logit")`` on dummies for
    every site but the reference; only the answer categories observed are used as levels.
    The model is unweighted (``OrderedModel`` takes no weights); standard errors are
    cluster-robust (clusters nested in sites) when every respondent has a ``cluster``,
    model-based otherwise. Cluster-robust standard errors are the cluster jackknife (CV3,
    :func:`_cluster_jackknife_cov`) and their p-values use a *t* distribution with G - 1
    degrees of freedom (G clusters in the model), not the normal: with 8 clusters a true null
    is rejected about 5 % of the time instead of 11 % (docs/reliability-and-surveys.md,
    section 4). With fewer than :data:`FEW_CLUSTERS` (42) clusters ``note`` says so. A site
    (or reference) whose respondents all come from one cluster gets no standard error.

    Sites that cannot be estimated are skipped with a ``reason`` instead of failing: no answers
    at the site; all its answers in the lowest or highest category (separation: the odds ratio
    would be infinite), in which case the site is left out of the model; fewer than two answer
    categories; a reference site that is itself separated. Optimiser and covariance warnings
    are not printed; they are recorded in ``note`` and ``converged``.

    Parameters
    ----------
    items, responses
        The item map and responses (``Project.items``, ``Project.responses``).
    reference_site : str, optional
        Site every other site is compared with; default the first site ID in sorted order.
    Returns
    -------
    DataFrame
        One row per item x non-reference site:

        - ``instrument``, ``item``, ``criterion``, ``site_id``, ``reference`` (str)
        - ``coef`` (float): log odds ratio of a higher answer at the site vs the reference
        - ``se``, ``p_value`` (float): its standard error and Wald test p-value (two-sided;
          *t* with ``df`` degrees of freedom when clustered, normal otherwise)
        - ``odds_ratio`` (float): ``exp(coef)``
        - ``n`` (int): answers in the model; ``n_site`` (int): answers at the site
        - ``n_clusters`` (Int64): clusters in the model, NA without clusters
        - ``df`` (float): degrees of freedom of the p-value (G - 1), NaN when normal
        - ``cov_type`` (str): ``"CV3"`` (cluster jackknife) or ``"nonrobust"``
        - ``converged`` (boolean): optimiser convergence, NA when skipped
        - ``reason`` (str or NA): why the row has no estimate
        - ``note`` (str): few clusters, and warnings raised while fitting; empty if none
    """
    from scipy import stats

    long = scale_items(items, responses)
    long = long[long["criterion"].notna()]
    rows = []
    for inst, inst_long in long.groupby("instrument", sort=True):
        sites = sorted(inst_long["site_id"].unique())
        ref = _check_reference(reference_site, sites, f"instrument {inst!r}")
        others_all = [s for s in sites if s != ref]
        for item, sub_all in inst_long.groupby("item", sort=False):
            criterion = sub_all["criterion"].iloc[0]
            base = {"instrument": inst, "item": item, "criterion": criterion, "reference": ref}
            sub = sub_all[sub_all["value"].notna()]
            n_site = sub["site_id"].value_counts()
            reasons: dict[str, str] = {}
            for s in others_all:
                if n_site.get(s, 0) == 0:
                    reasons[s] = "no answers at this site"
            item_reason = None
            if n_site.get(ref, 0) == 0:
                item_reason = "no answers at the reference site"
            # Drop separated sites until none is left (dropping can remove a category).
            while item_reason is None:
                kept = sub[~sub["site_id"].isin(reasons)]
                categories = np.sort(kept["value"].unique())
                if len(categories) < 2:
                    item_reason = "fewer than two answer categories observed"
                    break
                changed = False
                for s in [ref, *others_all]:
                    if s in reasons:
                        continue
                    ext = _extreme_site(
                        kept.loc[kept["site_id"] == s, "value"].to_numpy(), categories
                    )
                    if ext is None:
                        continue
                    if s == ref:
                        item_reason = (
                            f"all answers at the reference site are in the {ext} category "
                            "(separation): site effects are not estimable"
                        )
                    else:
                        reasons[s] = (
                            f"all answers at this site are in the {ext} category "
                            "(separation): odds ratio not estimable"
                        )
                        changed = True
                    break
                if not changed:
                    break
            others = [s for s in others_all if s not in reasons]
            if item_reason is None and not others:
                item_reason = "no other site can be compared with the reference"
            fit = None
            if item_reason is None:
                kept = sub[sub["site_id"].isin([ref, *others])]
                groups = _cluster_groups(kept["site_id"], kept["cluster"])
                if groups is not None and len(set(groups)) < 2:
                    groups = None
                single = (
                    set() if groups is None else _single_cluster_sites(kept["site_id"], groups)
                )
                try:
                    res, converged, notes = _fit_ordered(kept, others)
                    jack_se = None
                    if groups is not None:
                        cov = _cluster_jackknife_cov(res.model, res.params, groups)
                        jack_se = pd.Series(
                            np.sqrt(np.clip(np.diag(cov), 0, None)), index=res.params.index
                        )
                    fit = (res, converged, notes, len(kept), groups, single, jack_se)
                except (np.linalg.LinAlgError, ValueError) as exc:
                    item_reason = f"model could not be fitted: {exc}"
            for s in others_all:
                row = dict(base, site_id=s, n_site=int(n_site.get(s, 0)))
                row.update(
                    coef=math.nan,
                    se=math.nan,
                    p_value=math.nan,
                    odds_ratio=math.nan,
                    n=0,
                    n_clusters=pd.NA,
                    df=math.nan,
                    cov_type=pd.NA,
                    converged=pd.NA,
                    reason=pd.NA,
                    note="",
                )
                if s in reasons:
                    row["reason"] = reasons[s]
                elif item_reason is not None:
                    row["reason"] = item_reason
                else:
                    res, converged, notes, n_model, groups, single, jack_se = fit
                    coef = float(res.params[s])
                    se = float(res.bse[s]) if jack_se is None else float(jack_se[s])
                    z = coef / se if se > 0 else math.nan
                    if groups is not None:
                        g = len(set(groups))
                        df = float(g - 1)
                        p_value = float(2 * stats.t.sf(abs(z), df))
                        if g < FEW_CLUSTERS:
                            notes = [_few_clusters_note(g), *notes]
                    else:
                        g, df = pd.NA, math.nan
                        p_value = float(2 * stats.norm.sf(abs(z)))
                    row.update(
                        coef=coef,
                        se=se,
                        p_value=p_value,
                        odds_ratio=math.exp(coef),
                        n=n_model,
                        n_clusters=g,
                        df=df,
                        cov_type="CV3" if groups is not None else "nonrobust",
                        converged=converged,
                        note="; ".join(notes),
                    )
                    if s in single or ref in single:
                        which = s if s in single else ref
                        row.update(se=math.nan, p_value=math.nan)
                        row["reason"] = (
                            f"all answers at {which} come from one sampling cluster: "
                            "standard error not estimable"
                        )
                    elif not np.isfinite(se):
                        row["reason"] = "standard error not estimable (singular information)"
                    elif not converged:
                        row["reason"] = "optimiser did not converge"
                rows.append(row)
    out = pd.DataFrame(rows, columns=_ITEM_COMPARISON_COLUMNS)
    out["n"] = out["n"].astype(int)
    out["n_site"] = out["n_site"].astype(int)
    out["n_clusters"] = out["n_clusters"].astype("Int64")
    out["df"] = out["df"].astype(float)
    out["converged"] = out["converged"].astype("boolean")
    out["reason"] = out["reason"].astype("string")
    out["cov_type"] = out["cov_type"].astype("string")
    return out


_SCALE_COMPARISON_COLUMNS = [
    "instrument",
    "criterion",
    "site_id",
    "reference",
    "diff",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "n_site",
    "n_clusters",
    "model",
    "cov_type",
    "reason",
    "note",
]


def compare_scales(
    items: pd.DataFrame,
    responses: Mapping[str, pd.DataFrame],
    *,
    reference_site: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Compare sites' criterion scores with weighted least squares and robust standard errors.

    For each instrument x criterion, respondents' criterion scores (:func:`respondent_scores`,
    0-4) are regressed on an intercept and dummies for every site but the reference, with
    ``statsmodels`` WLS using the design weights (OLS when all weights are 1). ``diff`` is
    then the difference between the site's and the reference's weighted mean score.
    Standard errors are cluster-robust (``cov_type="cluster"``, clusters nested in sites,
    t distribution with G - 1 degrees of freedom) when every respondent has a ``cluster``
    and there are at least 2 clusters, heteroskedasticity-robust (``HC1``) otherwise.

    Sites with fewer than 2 respondents are skipped with a ``reason`` and left out of the
    model; a site whose respondents all come from one sampling cluster gets its ``diff`` but
    no standard error (its sampling variability cannot be estimated).

    Parameters
    ----------
    items, responses
        The item map and responses (``Project.items``, ``Project.responses``).
    reference_site : str, optional
        Site every other site is compared with; default the first site ID in sorted order.
    level : float, default 0.95
        Confidence level of ``ci_low``, ``ci_high``.

    Returns
    -------
    DataFrame
        One row per instrument x criterion x non-reference site:

        - ``instrument``, ``criterion``, ``site_id``, ``reference`` (str)
        - ``diff`` (float): site minus reference, on the 0-4 score scale
        - ``se``, ``ci_low``, ``ci_high``, ``p_value`` (float)
        - ``n`` (int): respondents in the model; ``n_site`` (int): respondents at the site
        - ``n_clusters`` (Int64): clusters in the model, NA without cluster-robust errors
        - ``model`` (str): ``"WLS"`` or ``"OLS"``; ``cov_type`` (str): ``"cluster"`` or ``"HC1"``
        - ``reason`` (str or NA): why a value is missing
        - ``note`` (str): caveats (few clusters), empty if none
    """
    import statsmodels.api as sm

    if not 0 < level < 1:
        raise SurveyError(f"level must be between 0 and 1, got {level!r}")
    scores = respondent_scores(items, responses)
    rows = []
    for inst, inst_scores in scores.groupby("instrument", sort=True):
        sites = sorted(inst_scores["site_id"].unique())
        ref = _check_reference(reference_site, sites, f"instrument {inst!r}")
        others_all = [s for s in sites if s != ref]
        inst_scores = inst_scores.assign(_c=_criterion_sort_key(inst_scores["criterion"]))
        for criterion, sub in inst_scores.sort_values("_c").groupby("_c", sort=True):
            criterion = sub["criterion"].iloc[0]
            n_site = sub["site_id"].value_counts()
            reasons = {
                s: f"only {int(n_site.get(s, 0))} respondent(s) at this site; needs at least 2"
                for s in others_all
                if n_site.get(s, 0) < 2
            }
            item_reason = None
            if n_site.get(ref, 0) < 2:
                item_reason = (
                    f"only {int(n_site.get(ref, 0))} respondent(s) at the reference site; "
                    "needs at least 2"
                )
            others = [s for s in others_all if s not in reasons]
            if item_reason is None and not others:
                item_reason = "no other site can be compared with the reference"
            fit = None
            if item_reason is None:
                kept = sub[sub["site_id"].isin([ref, *others])]
                x = pd.DataFrame(
                    {s: (kept["site_id"].to_numpy() == s).astype(float) for s in others}
                )
                x.insert(0, "const", 1.0)
                y = kept["score"].to_numpy()
                w = kept["weight"].to_numpy()
                model_name = "OLS" if np.allclose(w, 1.0) else "WLS"
                groups = _cluster_groups(kept["site_id"], kept["cluster"])
                notes = []
                n_clusters = pd.NA
                single_cluster_sites = set()
                if groups is not None and len(set(groups)) >= 2:
                    codes = pd.factorize(groups)[0]
                    n_clusters = len(set(groups))
                    res = sm.WLS(y, x, weights=w).fit(
                        cov_type="cluster", cov_kwds={"groups": codes}, use_t=True
                    )
                    cov_type = "cluster"
                    if n_clusters < FEW_CLUSTERS:
                        notes.append(_few_clusters_note(n_clusters))
                    per_site = kept.assign(_g=groups).groupby("site_id")["_g"].nunique()
                    single_cluster_sites = set(per_site[per_site < 2].index)
                else:
                    res = sm.WLS(y, x, weights=w).fit(cov_type="HC1", use_t=True)
                    cov_type = "HC1"
                ci = res.conf_int(alpha=1 - level)
                fit = (
                    res,
                    ci,
                    model_name,
                    cov_type,
                    n_clusters,
                    notes,
                    single_cluster_sites,
                    len(kept),
                )
            for s in others_all:
                row = dict(
                    instrument=inst,
                    criterion=criterion,
                    site_id=s,
                    reference=ref,
                    diff=math.nan,
                    se=math.nan,
                    ci_low=math.nan,
                    ci_high=math.nan,
                    p_value=math.nan,
                    n=0,
                    n_site=int(n_site.get(s, 0)),
                    n_clusters=pd.NA,
                    model=pd.NA,
                    cov_type=pd.NA,
                    reason=pd.NA,
                    note="",
                )
                if s in reasons:
                    row["reason"] = reasons[s]
                elif item_reason is not None:
                    row["reason"] = item_reason
                else:
                    res, ci, model_name, cov_type, n_clusters, notes, single, n_model = fit
                    row.update(
                        diff=float(res.params[s]),
                        n=n_model,
                        n_clusters=n_clusters,
                        model=model_name,
                        cov_type=cov_type,
                        note="; ".join(notes),
                    )
                    if s in single or ref in single:
                        which = s if s in single else ref
                        row["reason"] = (
                            f"all respondents at {which} come from one sampling cluster: "
                            "standard error not estimable"
                        )
                    else:
                        row.update(
                            se=float(res.bse[s]),
                            ci_low=float(ci.loc[s, 0]),
                            ci_high=float(ci.loc[s, 1]),
                            p_value=float(res.pvalues[s]),
                        )
                rows.append(row)
    out = pd.DataFrame(rows, columns=_SCALE_COMPARISON_COLUMNS)
    out["n"] = out["n"].astype(int)
    out["n_site"] = out["n_site"].astype(int)
    out["n_clusters"] = out["n_clusters"].astype("Int64")
    for col in ("model", "cov_type", "reason"):
        out[col] = out[col].astype("string")
    return out
