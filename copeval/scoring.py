"""Site scoring: coded evidence and survey responses become criterion ratings.

This is where codes become scores. For every site and criterion (C1-C4 and AT):

1. a **qualitative score** from the coded evidence: mean valence per source, mean per
   triangulation stratum (police, community, authorities, field), equal-weight mean across
   the strata present, rescaled from -2..+2 to 0..4, with the CFIR strength rule (see
   :data:`STRENGTH_CEILING`) and an "insufficient evidence" flag;
2. a **survey score** from respondent-level criterion scores (``copeval.survey``): design-
   weighted mean per instrument, equal-weight mean across instruments;
3. a **combined rating** ``weight * qualitative + (1 - weight) * survey`` (or whichever
   component exists), with its rating band as a language-neutral code;
4. **uncertainty** (``copeval.uncertainty``): variance components of valence (stratum,
   source, segment) estimated across all the project's sites give every rating an analytic
   standard error and a t interval; survey scores get cluster-robust linearised variances;
   pairwise and rank probabilities come from a hierarchical model over the sites. The
   former stratified bootstrap stays available as ``interval_method="bootstrap"``. A
   **sensitivity** table re-scores under other weights and aggregation choices.

Every row carries the segment IDs, codes and survey items behind it. The table holds data
only (numbers, codes, booleans): the CLI and the reports translate. The formulas, and why
they differ from the starting method card, are in ``docs/method.md``.

The entry point for a loaded project is :func:`score_sites`; :func:`score_evidence` does the
same from DataFrames. Both return a :class:`ScoreResult` holding the tidy table and the
draws behind the comparisons, from which :meth:`ScoreResult.pairwise`,
:meth:`ScoreResult.ranks` and :meth:`ScoreResult.sensitivity` are computed.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from . import uncertainty as _unc
from .errors import ScoringError
from .params import (
    AGGREGATIONS,
    DEFAULT_CI,
    DEFAULT_DRAWS,
    DEFAULT_WEIGHT,
    INTERVAL_METHODS,
    ScoringParams,
)
from .vocabulary import CRITERIA, STRATA, band_code

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_CI",
    "DEFAULT_DRAWS",
    "DEFAULT_WEIGHT",
    "FLAG_COLUMNS",
    "INTERVAL_METHODS",
    "MIN_GROUPS",
    "MIN_SOURCES",
    "RELIABILITY_THRESHOLD",
    "SENSITIVITY_WEIGHTS",
    "STRENGTH_CEILING",
    "TABLE_COLUMNS",
    "RoundInputs",
    "ScoreResult",
    "ScoringError",
    "ScoringParams",
    "bootstrap_scores",
    "combine",
    "flag_unreliable",
    "pairwise_probabilities",
    "qualitative_scores",
    "rank_probabilities",
    "round_inputs",
    "score_evidence",
    "score_rounds",
    "score_sites",
    "sensitivity",
    "sensitivity_scores",
    "survey_scores",
]

#: Highest qualitative score allowed without positive evidence from two strata (CFIR rule).
STRENGTH_CEILING = 2.9
#: Fewer sources than this behind a qualitative score flags it "insufficient evidence".
MIN_SOURCES = 3
#: Fewer strata than this behind a qualitative score flags it "insufficient evidence".
MIN_GROUPS = 2
#: Krippendorff's alpha below which a code (presence) or a criterion (valence) makes the
#: ratings built on it carry ``low_reliability``.
RELIABILITY_THRESHOLD = 0.667
#: Weights of the default sensitivity grid.
SENSITIVITY_WEIGHTS = (0.0, 0.25, 0.5, 0.6, 0.75, 1.0)

#: Boolean flag columns of the score table.
FLAG_COLUMNS = (
    "insufficient_evidence",
    "capped",
    "no_evidence",
    "thin_evidence",
    "low_reliability",
)

#: Columns of the score table, in order (documented in :func:`score_evidence`).
TABLE_COLUMNS = (
    "site_id",
    "criterion",
    "score",
    "lower",
    "upper",
    "se",
    "df",
    "band",
    "basis",
    "qual_score",
    "qual_raw",
    "qual_lower",
    "qual_upper",
    "qual_se",
    "survey_score",
    "survey_lower",
    "survey_upper",
    "survey_se",
    "n_sources",
    "n_groups",
    "n_positive_groups",
    "n_segments",
    "n_respondents",
    "n_instruments",
    "n_clusters",
    "insufficient_evidence",
    "capped",
    "no_evidence",
    "thin_evidence",
    "low_reliability",
    "reliability_issues",
    "segment_ids",
    "codes",
    "items",
)

_KEYS = ["site_id", "criterion"]
_TOL = 1e-9  # numerical tolerance for ties and interval containment
_CHUNK_ELEMENTS = 1 << 20  # random draws held in memory at once, per site


# --------------------------------------------------------------------------- validation
def _check_weight(weight, name: str = "weight") -> float:
    if (
        isinstance(weight, bool)
        or not isinstance(weight, Real)
        or not math.isfinite(weight)
        or not 0 <= weight <= 1
    ):
        raise ScoringError(f"{name} must be a number between 0 and 1, got {weight!r}")
    return float(weight)


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ScoringError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_ci(ci) -> float:
    if isinstance(ci, bool) or not isinstance(ci, Real) or not 0 < ci < 1:
        raise ScoringError(f"ci must be a number strictly between 0 and 1 (e.g. 0.9), got {ci!r}")
    return float(ci)


def _check_aggregation(aggregation) -> str:
    if aggregation not in AGGREGATIONS:
        raise ScoringError(
            f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {aggregation!r}"
        )
    return aggregation


def _check_component(component) -> str:
    choices = ("combined", "qualitative", "survey")
    if component not in choices:
        raise ScoringError(f"component must be one of {', '.join(choices)}, got {component!r}")
    return component


def _n_workers(n_jobs) -> int:
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0:
        raise ScoringError(f"n_jobs must be a positive integer, -1 or None, got {n_jobs!r}")
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(n_jobs)


def _require(df, columns: Iterable[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ScoringError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ScoringError(
            f"{what} lacks column(s) {', '.join(missing)}. "
            f"Available columns: {', '.join(map(str, df.columns))}"
        )


def _bad_values(series: pd.Series, valid) -> pd.Series:
    return series[~series.isin(list(valid))]


# --------------------------------------------------------------------------- inputs
def _prepare_evidence(evidence: pd.DataFrame) -> pd.DataFrame:
    """Checked copy of the evidence with float valence; segments without valence dropped."""
    _require(
        evidence,
        ("segment_id", "source_id", "site_id", "stratum", "criterion", "valence"),
        "evidence",
    )
    if "coder" in evidence.columns:
        coders = sorted(evidence["coder"].dropna().astype(str).unique())
        if len(coders) > 1:
            raise ScoringError(
                f"evidence holds segments from {len(coders)} coders ({', '.join(coders[:5])}); "
                "score one coder's segments: pass project.evidence(), which keeps the primary "
                "coder only"
            )
    if "consent" in evidence.columns and (evidence["consent"] == "none").any():
        raise ScoringError(
            "evidence holds segments from sources with consent 'none', which must never be "
            "scored; pass project.evidence(), which leaves them out"
        )
    cols = ["segment_id", "source_id", "site_id", "stratum", "criterion", "valence"]
    if "code" in evidence.columns:
        cols.append("code")
    ev = evidence.loc[:, cols].copy()
    if "code" not in ev.columns:
        ev["code"] = ev["criterion"]
    valence = pd.to_numeric(ev["valence"], errors="coerce")
    bad = ev["valence"].notna() & valence.isna()
    if bad.any():
        row = bad.idxmax()
        raise ScoringError(
            f"evidence column 'valence' must be numeric; row {row} holds {ev.at[row, 'valence']!r}"
        )
    ev["valence"] = valence.astype("float64")
    ev = ev[ev["valence"].notna()]
    out_of_range = ev[(ev["valence"] < -2) | (ev["valence"] > 2)]
    if len(out_of_range):
        row = out_of_range.index[0]
        raise ScoringError(
            f"evidence column 'valence' must lie in -2..+2; row {row} (segment "
            f"{ev.at[row, 'segment_id']!r}) holds {ev.at[row, 'valence']:g}"
        )
    for col in ("segment_id", "source_id", "site_id", "stratum", "criterion", "code"):
        ev[col] = ev[col].astype(str)
    for col, valid in (("criterion", CRITERIA), ("stratum", STRATA)):
        bad_vals = _bad_values(ev[col], valid)
        if len(bad_vals):
            raise ScoringError(
                f"evidence column '{col}' holds {bad_vals.iloc[0]!r} (row {bad_vals.index[0]}); "
                f"expected one of {', '.join(valid)}"
            )
    per_source = ev.groupby("source_id")[["site_id", "stratum"]].nunique()
    clash = per_source[(per_source > 1).any(axis=1)]
    if len(clash):
        raise ScoringError(
            f"source {clash.index[0]!r} appears under several sites or strata in the evidence; "
            "each source belongs to one site and one respondent group"
        )
    return ev


def _prepare_respondents(respondents: pd.DataFrame) -> pd.DataFrame:
    """Checked copy of respondent-level scores (the ``copeval.survey`` contract)."""
    _require(
        respondents,
        ("respondent_id", "instrument", "site_id", "criterion", "score"),
        "respondents",
    )
    cols = ["respondent_id", "instrument", "site_id", "criterion", "score"]
    r = respondents.loc[:, cols].copy()
    for col in ("respondent_id", "instrument", "site_id", "criterion"):
        r[col] = r[col].astype(str)
    r["score"] = pd.to_numeric(respondents["score"], errors="coerce").astype("float64").to_numpy()
    if "weight" in respondents.columns:
        w = pd.to_numeric(respondents["weight"], errors="coerce").astype("float64")
        r["weight"] = w.fillna(1.0).to_numpy()
    else:
        r["weight"] = 1.0
    if "cluster" in respondents.columns:
        cluster = respondents["cluster"]
        r["cluster"] = cluster.astype(object).where(cluster.notna()).to_numpy()
    else:
        r["cluster"] = None
    if "items" in respondents.columns:
        cache: dict = {}
        normalised = []
        for value in respondents["items"].tolist():
            try:
                normalised.append(cache[value])
            except KeyError:
                normalised.append(cache.setdefault(value, _as_items(value)))
            except TypeError:  # unhashable (a list)
                normalised.append(_as_items(value))
        r["items"] = normalised
    else:
        r["items"] = [()] * len(r)
    r = r[r["score"].notna()]
    bad = r[(r["score"] < 0) | (r["score"] > 4)]
    if len(bad):
        raise ScoringError(
            f"respondents column 'score' must lie in 0..4; row {bad.index[0]} (respondent "
            f"{bad['respondent_id'].iloc[0]!r}) holds {bad['score'].iloc[0]:g}"
        )
    bad = r[~np.isfinite(r["weight"]) | (r["weight"] <= 0)]
    if len(bad):
        raise ScoringError(
            f"respondents column 'weight' must be > 0; row {bad.index[0]} (respondent "
            f"{bad['respondent_id'].iloc[0]!r}) holds {bad['weight'].iloc[0]!r}"
        )
    bad_crit = _bad_values(r["criterion"], CRITERIA)
    if len(bad_crit):
        raise ScoringError(
            f"respondents column 'criterion' holds {bad_crit.iloc[0]!r} (row "
            f"{bad_crit.index[0]}); expected one of {', '.join(CRITERIA)}"
        )
    dup = r.duplicated(["instrument", "respondent_id", "criterion"])
    if dup.any():
        row = dup.idxmax()
        raise ScoringError(
            f"respondents has more than one score for respondent {r.at[row, 'respondent_id']!r}"
            f" of instrument {r.at[row, 'instrument']!r} on criterion {r.at[row, 'criterion']}"
            f" (row {row})"
        )
    return r


def _as_items(value) -> tuple:
    """Item names of one respondent row: a tuple, list or ``;``-joined string."""
    if isinstance(value, str):
        return tuple(v for v in value.split(";") if v)
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ()
    return tuple(str(v) for v in value)


def _criterion_order(series: pd.Series) -> pd.Series:
    return series.map({c: i for i, c in enumerate(CRITERIA)})


def _sort_keys(df: pd.DataFrame) -> pd.DataFrame:
    order = df.assign(_c=_criterion_order(df["criterion"])).sort_values(
        ["site_id", "_c"], kind="mergesort"
    )
    return order.drop(columns="_c").reset_index(drop=True)


# --------------------------------------------------------------------------- engine
@dataclass
class _Layout:
    """Resampling units grouped into cells (resampled within) and targets (scored).

    Units are sorted by target then cell, so that cells and targets are contiguous runs.
    A cell's value is ``sum(a) / sum(b)`` over its (resampled) units; a target's value is
    the mean of its cells' values (``pooled=False``) or ``sum(a) / sum(b)`` over all its
    cells (``pooled=True``).
    """

    a: np.ndarray
    b: np.ndarray
    pos: np.ndarray
    cell_start: np.ndarray
    cell_size: np.ndarray
    target_start: np.ndarray  # in cells
    target_ncells: np.ndarray
    targets: pd.DataFrame  # site_id, criterion
    slot_start: np.ndarray  # per unit: start of its cell
    slot_size: np.ndarray  # per unit: size of its cell (float)
    slot_last: np.ndarray  # per unit: index of the last unit of its cell
    slot_cell: np.ndarray  # per unit: its cell
    cell_target: np.ndarray  # per cell: its target
    unit_b: bool  # every b equals 1
    site_slices: dict  # site_id -> (u0, u1, c0, c1, t0, t1)

    @classmethod
    def build(cls, units: pd.DataFrame, cell_col: str) -> _Layout:
        units = units.assign(_c=_criterion_order(units["criterion"])).sort_values(
            ["site_id", "_c", cell_col, "_unit"], kind="mergesort"
        )
        n = len(units)
        site = units["site_id"].to_numpy()
        crit = units["criterion"].to_numpy()
        cell = units[cell_col].to_numpy()
        if n:
            new_target = np.r_[True, (site[1:] != site[:-1]) | (crit[1:] != crit[:-1])]
            new_cell = new_target | np.r_[True, cell[1:] != cell[:-1]]
        else:
            new_target = new_cell = np.zeros(0, bool)
        cell_start = np.flatnonzero(new_cell)
        cell_size = np.diff(np.r_[cell_start, n])
        target_of_cell = np.cumsum(new_target)[cell_start] - 1
        target_start = (
            np.flatnonzero(np.r_[True, np.diff(target_of_cell) != 0]) if n else cell_start
        )
        target_ncells = np.diff(np.r_[target_start, len(cell_start)])
        first_units = cell_start[target_start]
        targets = pd.DataFrame(
            {"site_id": site[first_units], "criterion": crit[first_units]}
        ).reset_index(drop=True)
        unit_cell = np.repeat(np.arange(len(cell_start)), cell_size)
        b = units["b"].to_numpy(dtype=float)
        lay = cls(
            a=units["a"].to_numpy(dtype=float),
            b=b,
            pos=units["pos"].to_numpy(dtype=float),
            cell_start=cell_start.astype(np.intp),
            cell_size=cell_size.astype(np.intp),
            target_start=target_start.astype(np.intp),
            target_ncells=target_ncells.astype(float),
            targets=targets,
            slot_start=cell_start[unit_cell].astype(np.intp),
            slot_size=cell_size[unit_cell].astype(float),
            slot_last=(cell_start + cell_size - 1)[unit_cell].astype(np.intp),
            slot_cell=unit_cell.astype(np.intp),
            cell_target=np.repeat(np.arange(len(target_start)), target_ncells).astype(np.intp),
            unit_b=bool(np.all(b == 1.0)),
            site_slices={},
        )
        # contiguous site slices in units, cells and targets
        tsite = targets["site_id"].to_numpy()
        if len(tsite):
            t_bounds = np.flatnonzero(np.r_[True, tsite[1:] != tsite[:-1], True])
            for t0, t1 in itertools.pairwise(t_bounds):
                c0 = int(target_start[t0])
                c1 = int(target_start[t1]) if t1 < len(target_start) else len(cell_start)
                u0 = int(cell_start[c0])
                u1 = int(cell_start[c1]) if c1 < len(cell_start) else n
                lay.site_slices[tsite[t0]] = (u0, u1, c0, c1, int(t0), int(t1))
        return lay

    def subset(self, site_id) -> _Layout:
        u0, u1, c0, c1, t0, t1 = self.site_slices[site_id]
        return _Layout(
            a=self.a[u0:u1],
            b=self.b[u0:u1],
            pos=self.pos[u0:u1],
            cell_start=self.cell_start[c0:c1] - u0,
            cell_size=self.cell_size[c0:c1],
            target_start=self.target_start[t0:t1] - c0,
            target_ncells=self.target_ncells[t0:t1],
            targets=self.targets.iloc[t0:t1],
            slot_start=self.slot_start[u0:u1] - u0,
            slot_size=self.slot_size[u0:u1],
            slot_last=self.slot_last[u0:u1] - u0,
            slot_cell=self.slot_cell[u0:u1] - c0,
            cell_target=self.cell_target[c0:c1] - t0,
            unit_b=self.unit_b,
            site_slices={},
        )

    def evaluate(
        self, idx: np.ndarray, *, pooled: bool, need_pos: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Target values and counts of cells with a positive unit, one row per draw.

        ``idx`` is an (R, n_units) array of unit indices: row r lists the units drawn for
        replicate r, slot s drawing from the cell of unit s. Returns two (R, n_targets)
        arrays (the second is None when ``need_pos`` is false). Sums use ``np.bincount``
        over a flat (replicate, cell) index, much faster than ``reduceat`` on cells of a
        few units.
        """
        k = idx.shape[0]
        n_cells, n_targets = len(self.cell_start), len(self.target_start)
        cell_flat = (np.arange(k)[:, None] * n_cells + self.slot_cell[None, :]).ravel()
        target_flat = (np.arange(k)[:, None] * n_targets + self.cell_target[None, :]).ravel()

        def by_cell(values):
            return np.bincount(cell_flat, weights=values[idx].ravel(), minlength=k * n_cells)

        def by_target(values):
            return np.bincount(target_flat, weights=values, minlength=k * n_targets).reshape(
                k, n_targets
            )

        A = by_cell(self.a)
        Bsum = np.tile(self.cell_size.astype(float), k) if self.unit_b else by_cell(self.b)
        if pooled:
            value = by_target(A) / by_target(Bsum)
        else:
            value = by_target(A / Bsum) / self.target_ncells
        if not need_pos:
            return value, None
        positive = (by_cell(self.pos) > 0).astype(float)
        return value, by_target(positive)

    def point(self, *, pooled: bool) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(len(self.a), dtype=np.intp)[None, :]
        value, npos = self.evaluate(idx, pooled=pooled)
        return value[0], npos[0]

    def draws(self, rng: np.random.Generator, n_boot: int):
        """Yield (first replicate, index array) chunks of resampled units.

        Each slot draws uniformly, with replacement, from the units of its own cell. The
        random stream is consumed in replicate order, so the draws do not depend on the
        chunk size.
        """
        n = len(self.a)
        step = max(1, _CHUNK_ELEMENTS // max(n, 1))
        for b0 in range(0, n_boot, step):
            k = min(step, n_boot - b0)
            u = rng.random((k, n))
            u *= self.slot_size
            idx = u.astype(np.intp)
            idx += self.slot_start
            np.minimum(idx, self.slot_last, out=idx)  # guards against u * size rounding up
            yield b0, idx


def _qual_value(mean_valence: np.ndarray, npos: np.ndarray) -> np.ndarray:
    """Rescale a -2..+2 mean to 0..4 and apply the CFIR strength ceiling."""
    raw = np.clip(mean_valence + 2.0, 0.0, 4.0)  # clip: rounding only
    return np.where(npos < MIN_GROUPS, np.minimum(raw, STRENGTH_CEILING), raw)


def _survey_value(mean_score: np.ndarray, npos) -> np.ndarray:
    return np.clip(mean_score, 0.0, 4.0)  # clip: rounding only


def _qual_units(ev: pd.DataFrame, *, source_means: bool) -> pd.DataFrame:
    """Resampling units of the qualitative score.

    Units are sources (``a`` = mean valence and ``b`` = 1 with source means, ``a`` = sum of
    valences and ``b`` = number of segments without). A stratum with a single source would
    contribute no bootstrap variance at all, so there the units are that source's segments
    (``a`` = valence, ``b`` = 1), which leaves the point estimate unchanged (the "lonely
    source" rule, see docs/method.md).
    """
    cell = ["site_id", "criterion", "stratum"]
    g = ev.groupby([*cell, "source_id"], sort=False)["valence"]
    units = g.agg(vsum="sum", n="size", vmax="max").reset_index()
    units["a"] = units["vsum"] / units["n"] if source_means else units["vsum"]
    units["b"] = 1.0 if source_means else units["n"].astype(float)
    units["pos"] = (units["vmax"] > 0).astype(float)
    units["_unit"] = units["source_id"]
    lonely = units.groupby(cell, sort=False)["source_id"].transform("size") == 1
    if lonely.any():
        keys = units.loc[lonely, [*cell, "source_id"]]
        seg = ev.merge(keys, on=[*cell, "source_id"], how="inner")
        seg = seg.assign(
            a=seg["valence"],
            b=1.0,
            pos=(seg["valence"] > 0).astype(float),
            _unit=seg["segment_id"],
        )
        units = pd.concat([units[~lonely], seg[units.columns.intersection(seg.columns)]])
    return units[[*cell, "a", "b", "pos", "_unit"]]


def _survey_units(r: pd.DataFrame) -> pd.DataFrame:
    """Resampling units of the survey: sampling clusters where a site x instrument has at
    least two, respondents otherwise; ``a = sum(weight * score)``, ``b = sum(weight)``."""
    r = r.copy()
    has_cluster = r["cluster"].notna()
    n_clusters = (
        r[has_cluster].groupby(["site_id", "instrument"])["cluster"].nunique().rename("_ncl")
    )
    r = r.join(n_clusters, on=["site_id", "instrument"])
    use_cluster = (has_cluster & (r["_ncl"].fillna(0) >= 2)).to_numpy()
    # canonical (sorted) integer IDs, so that the draws do not depend on the row order
    cluster_code, cluster_names = pd.factorize(r["cluster"].astype(object), sort=True)
    respondent_code, _ = pd.factorize(r["respondent_id"], sort=True)
    r["_unit"] = np.where(use_cluster, cluster_code, len(cluster_names) + respondent_code)
    r["_wx"] = r["weight"] * r["score"]
    units = (
        r.groupby(["site_id", "criterion", "instrument", "_unit"], sort=False)
        .agg(a=("_wx", "sum"), b=("weight", "sum"))
        .reset_index()
    )
    units["pos"] = 0.0
    return units


def _site_rng(seed: int, component: str, site_id: str) -> np.random.Generator:
    """An independent random stream per site and component, stable across batches: a
    site's replicates do not depend on which other sites are scored with it."""
    digest = hashlib.sha256(f"{component}\x00{site_id}".encode()).digest()
    key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _bootstrap_layout(
    lay: _Layout,
    *,
    component: str,
    n_boot: int,
    seed: int,
    pooled: bool,
    transform,
    need_pos: bool,
    workers: int,
    progress,
) -> np.ndarray:
    """(n_targets, n_boot) replicates of every target of a layout, one stream per site."""
    out = np.empty((len(lay.targets), n_boot))

    def run(site_id):
        t0, t1 = lay.site_slices[site_id][4:]
        sub = lay.subset(site_id)
        rng = _site_rng(seed, component, site_id)
        for b0, idx in sub.draws(rng, n_boot):
            value, npos = sub.evaluate(idx, pooled=pooled, need_pos=need_pos)
            out[t0:t1, b0 : b0 + idx.shape[0]] = transform(value, npos).T
        if progress is not None:
            progress.update(1)

    sites = list(lay.site_slices)
    if workers > 1 and len(sites) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, sites))
    else:
        for s in sites:
            run(s)
    return out


# --------------------------------------------------------------------------- qualitative
def qualitative_scores(
    evidence: pd.DataFrame,
    *,
    aggregation: str = "strata",
    source_means: bool = True,
) -> pd.DataFrame:
    """Qualitative score per site and criterion from coded evidence.

    Mean valence per source, mean of the source means per stratum, equal-weight mean
    across the strata present, plus 2 (so that -2..+2 becomes 0..4). Without positive
    evidence (a segment with valence > 0) from at least :data:`MIN_GROUPS` strata the
    score is at most :data:`STRENGTH_CEILING` (CFIR strength rule). Fewer than
    :data:`MIN_SOURCES` sources or :data:`MIN_GROUPS` strata flag it as insufficient.

    Parameters
    ----------
    evidence : DataFrame
        One row per coded segment of the primary coder with a valence, from sources with
        consent, as returned by :meth:`copeval.project.Project.evidence`. Needs
        ``segment_id, source_id, site_id, stratum, criterion, valence``; ``code`` is used
        when present. Rows with a missing valence are skipped. Not modified.
    aggregation : {"strata", "pooled"}, keyword-only
        ``"strata"`` gives each stratum an equal voice; ``"pooled"`` averages all sources
        of a site and criterion together (used in :func:`sensitivity`).
    source_means : bool, keyword-only
        Average segments within each source first (default), so that a long interview does
        not outweigh short ones; ``False`` pools the segments of a stratum.

    Returns
    -------
    DataFrame
        One row per site and criterion with evidence, sorted by ``site_id`` then criterion
        (C1..C4, AT):

        - ``site_id``, ``criterion``
        - ``qual_score``: score on 0..4 after the strength ceiling
        - ``qual_raw``: score on 0..4 before the strength ceiling
        - ``n_sources``, ``n_groups`` (strata), ``n_segments``: evidence behind the score
        - ``n_positive_groups``: strata with at least one segment of valence > 0
        - ``capped`` (bool): the strength ceiling lowered the score
        - ``insufficient`` (bool): fewer than 3 sources or fewer than 2 strata
        - ``segment_ids``, ``codes``: ``;``-joined, sorted

    Examples
    --------
    >>> ev = pd.DataFrame({
    ...     "segment_id": ["g1", "g2", "g3", "g4"], "source_id": ["P1", "P1", "P2", "K1"],
    ...     "site_id": "X", "stratum": ["police", "police", "police", "community"],
    ...     "criterion": "C2", "valence": [2, 1, 1, 0]})
    >>> qualitative_scores(ev)[["site_id", "criterion", "qual_score", "n_sources", "capped"]]
      site_id criterion  qual_score  n_sources  capped
    0       X        C2       2.625          3   False

    Police (1.5 + 1) / 2 = 1.25, community 0: (1.25 + 0) / 2 + 2 = 2.625.
    """
    _check_aggregation(aggregation)
    ev = _prepare_evidence(evidence)
    return _qualitative(ev, aggregation=aggregation, source_means=bool(source_means))


_QUAL_COLUMNS = [
    "site_id",
    "criterion",
    "qual_score",
    "qual_raw",
    "n_sources",
    "n_groups",
    "n_segments",
    "n_positive_groups",
    "capped",
    "insufficient",
    "segment_ids",
    "codes",
]


def _qual_layout(ev, *, source_means: bool) -> _Layout | None:
    if ev is None or len(ev) == 0:
        return None
    return _Layout.build(_qual_units(ev, source_means=source_means), "stratum")


def _survey_layout(r, units: pd.DataFrame | None = None) -> _Layout | None:
    if r is None or len(r) == 0:
        return None
    return _Layout.build(_survey_units(r) if units is None else units, "instrument")


def _qualitative(
    ev: pd.DataFrame,
    *,
    aggregation: str,
    source_means: bool,
    layout: _Layout | None = None,
    sources: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Point estimates, computed directly from the sources (no resampling layout): a lonely
    source counts once, whatever its number of segments, in every aggregation variant."""
    if ev.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=_QUAL_DTYPES.get(c, object)) for c in _QUAL_COLUMNS}
        )
    cell_keys = [*_KEYS, "stratum"]
    src = _unc.source_table(ev) if sources is None else sources
    a = src["m"] if source_means else src["vsum"]
    b = 1.0 if source_means else src["n"].astype(float)
    src = src.assign(_a=a, _b=b, _pos=(src["vmax"] > 0).astype(float))
    cell = src.groupby(cell_keys, sort=False).agg(
        A=("_a", "sum"), B=("_b", "sum"), pos=("_pos", "max")
    )
    cell["M"] = cell["A"] / cell["B"]
    per = cell.groupby(_KEYS, sort=False).agg(
        M=("M", "mean"), A=("A", "sum"), B=("B", "sum"), npos=("pos", "sum")
    )
    mean = (per["A"] / per["B"] if aggregation == "pooled" else per["M"]).to_numpy()
    npos = per["npos"].to_numpy(dtype=float)
    out = per.reset_index()[_KEYS]
    out["qual_score"] = _qual_value(mean, npos)
    out["qual_raw"] = np.clip(mean + 2.0, 0.0, 4.0)
    counts = ev.groupby(_KEYS).agg(
        n_sources=("source_id", "nunique"),
        n_groups=("stratum", "nunique"),
        n_segments=("segment_id", "size"),
    )
    by_id = ev.sort_values("segment_id", kind="mergesort")
    counts["segment_ids"] = by_id.groupby(_KEYS)["segment_id"].agg(";".join)
    codes = by_id[[*_KEYS, "code"]].drop_duplicates().sort_values("code", kind="mergesort")
    counts["codes"] = codes.groupby(_KEYS)["code"].agg(";".join)
    out = out.join(counts, on=_KEYS)
    out["n_positive_groups"] = npos.astype(int)
    out["capped"] = out["qual_raw"] > out["qual_score"] + _TOL
    out["insufficient"] = (out["n_sources"] < MIN_SOURCES) | (out["n_groups"] < MIN_GROUPS)
    return _sort_keys(out[_QUAL_COLUMNS])


_QUAL_DTYPES = {
    "qual_score": float,
    "qual_raw": float,
    "n_sources": int,
    "n_groups": int,
    "n_segments": int,
    "n_positive_groups": int,
    "capped": bool,
    "insufficient": bool,
}


# --------------------------------------------------------------------------- survey
def survey_scores(respondents: pd.DataFrame) -> pd.DataFrame:
    """Survey score per site and criterion from respondent-level criterion scores.

    Within each instrument, the design-weighted mean of respondent scores
    (``sum(w * score) / sum(w)``); across instruments, an equal-weight mean, so that a
    large community survey does not drown a small police survey (they speak for different
    strata).

    Parameters
    ----------
    respondents : DataFrame
        As returned by :func:`copeval.survey.respondent_scores`: one row per respondent and
        criterion with ``respondent_id, instrument, site_id, criterion, score`` (0..4);
        optional ``weight`` (missing = 1), ``cluster`` and ``items`` (tuple of item names).
        Rows with a missing score are skipped. Not modified.

    Returns
    -------
    DataFrame
        One row per site and criterion with survey data, sorted by ``site_id`` then
        criterion: ``site_id``, ``criterion``, ``survey_score`` (0..4), ``n_respondents``,
        ``n_instruments``, ``items`` (``;``-joined ``instrument:item`` names, sorted).
    """
    return _survey(_prepare_respondents(respondents))


_SURVEY_COLUMNS = [
    "site_id",
    "criterion",
    "survey_score",
    "n_respondents",
    "n_instruments",
    "items",
]


def _survey(r: pd.DataFrame, layout: _Layout | None = None) -> pd.DataFrame:
    if r.empty:
        dtypes = {"survey_score": float, "n_respondents": int, "n_instruments": int}
        return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in _SURVEY_COLUMNS})
    lay = layout if layout is not None else _survey_layout(r)
    mean, _ = lay.point(pooled=False)
    out = lay.targets.copy()
    out["survey_score"] = _survey_value(mean, None)
    used = r[["site_id", "criterion", "instrument", "items"]].drop_duplicates()
    used["items"] = [
        tuple(f"{inst}:{item}" for item in items)
        for inst, items in zip(used["instrument"], used["items"], strict=True)
    ]
    used = used.explode("items").dropna(subset=["items"]).drop_duplicates()
    item_sets = used.sort_values("items", kind="mergesort").groupby(_KEYS)["items"].agg(";".join)
    # (instrument, respondent, criterion) is unique, so a group's size counts respondents
    counts = r.groupby(_KEYS).agg(
        n_respondents=("respondent_id", "size"), n_instruments=("instrument", "nunique")
    )
    out = out.join(counts, on=_KEYS).join(item_sets, on=_KEYS)
    out["items"] = out["items"].fillna("")
    return _sort_keys(out[_SURVEY_COLUMNS])


# --------------------------------------------------------------------------- combine
def combine(
    qualitative: pd.DataFrame | None,
    survey: pd.DataFrame | None,
    *,
    weight: float = DEFAULT_WEIGHT,
) -> pd.DataFrame:
    """Combined rating ``weight * qual_score + (1 - weight) * survey_score``.

    Where one component is missing the other is used alone, and ``basis`` says so.

    Parameters
    ----------
    qualitative : DataFrame or None
        Output of :func:`qualitative_scores` (at least ``site_id, criterion, qual_score``).
    survey : DataFrame or None
        Output of :func:`survey_scores` (at least ``site_id, criterion, survey_score``).
    weight : float, keyword-only
        Weight of the qualitative component, 0..1 (default :data:`DEFAULT_WEIGHT`).

    Returns
    -------
    DataFrame
        One row per site and criterion present in either input, sorted by ``site_id`` then
        criterion: the point-estimate columns of :data:`TABLE_COLUMNS` (``score``, ``band``,
        ``basis``, components, counts, ``insufficient_evidence``, ``capped``,
        ``no_evidence``, traceability); no intervals (see :func:`score_evidence`).
    """
    w = _check_weight(weight)
    q = _empty_qual() if qualitative is None else qualitative
    s = _empty_survey() if survey is None else survey
    _require(q, ("site_id", "criterion", "qual_score"), "qualitative")
    _require(s, ("site_id", "criterion", "survey_score"), "survey")
    if len(q) == 0 and len(s) == 0:
        raise ScoringError(
            "nothing to combine: both the qualitative and the survey scores are empty"
        )
    q_cols = [c for c in _QUAL_COLUMNS if c in q.columns]
    s_cols = [c for c in _SURVEY_COLUMNS if c in s.columns]
    for name, df in (("qualitative", q), ("survey", s)):
        if df.duplicated(_KEYS).any():
            raise ScoringError(f"{name} has more than one row for some site and criterion")
    merged = q[q_cols].merge(s[s_cols], on=_KEYS, how="outer")
    return _finish_combined(merged, w)


def _empty_qual() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_QUAL_DTYPES.get(c, object)) for c in _QUAL_COLUMNS})


def _empty_survey() -> pd.DataFrame:
    dtypes = {"survey_score": float, "n_respondents": int, "n_instruments": int}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in _SURVEY_COLUMNS})


def _combine_values(qual: np.ndarray, surv: np.ndarray, w: float) -> np.ndarray:
    has_q, has_s = ~np.isnan(qual), ~np.isnan(surv)
    both = w * qual + (1.0 - w) * surv
    return np.where(has_q & has_s, both, np.where(has_q, qual, surv))


_POINT_COLUMNS = [
    "site_id",
    "criterion",
    "score",
    "band",
    "basis",
    "qual_score",
    "qual_raw",
    "survey_score",
    "n_sources",
    "n_groups",
    "n_positive_groups",
    "n_segments",
    "n_respondents",
    "n_instruments",
    "insufficient_evidence",
    "capped",
    "no_evidence",
    "segment_ids",
    "codes",
    "items",
]


def _bands(scores) -> pd.Series:
    return pd.Series([band_code(v) for v in np.asarray(scores, dtype=float)], dtype=object)


def _finish_combined(merged: pd.DataFrame, w: float) -> pd.DataFrame:
    out = merged.copy()
    for col in ("qual_score", "qual_raw", "survey_score"):
        if col not in out.columns:
            out[col] = np.nan
        out[col] = out[col].astype(float)
    qual, surv = out["qual_score"].to_numpy(), out["survey_score"].to_numpy()
    has_q, has_s = ~np.isnan(qual), ~np.isnan(surv)
    out["score"] = _combine_values(qual, surv, w)
    out["basis"] = np.select(
        [has_q & has_s, has_q, has_s], ["qualitative+survey", "qualitative", "survey"], "none"
    )
    out["band"] = _bands(out["score"]).to_numpy()
    for col in (
        "n_sources",
        "n_groups",
        "n_positive_groups",
        "n_segments",
        "n_respondents",
        "n_instruments",
    ):
        out[col] = out[col].fillna(0).astype(int) if col in out.columns else 0
    for col in ("segment_ids", "codes", "items"):
        out[col] = out[col].fillna("").astype(str) if col in out.columns else ""
    for src, dst in (("capped", "capped"), ("insufficient", "insufficient_evidence")):
        if src in out.columns:
            out[dst] = out[src].astype("boolean").fillna(False).astype(bool)
        else:
            out[dst] = False
    out["no_evidence"] = ~(has_q | has_s)
    return _sort_keys(out[_POINT_COLUMNS])


# --------------------------------------------------------------------------- bootstrap
def bootstrap_scores(
    evidence: pd.DataFrame | None,
    respondents: pd.DataFrame | None = None,
    *,
    weight: float = DEFAULT_WEIGHT,
    n_boot: int = 2000,
    seed: int = 0,
    aggregation: str = "strata",
    source_means: bool = True,
    n_jobs: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Stratified bootstrap replicates of the qualitative, survey and combined scores.

    Sources are resampled with replacement within each site x criterion x stratum, and
    survey respondents (or sampling clusters, where a site x instrument has two or more)
    within each site x criterion x instrument; every score is recomputed for all replicates
    at once (no Python loop per replicate). Each site draws from its own random stream,
    derived from ``seed`` and the site ID, so a site's replicates are the same whether it is
    scored alone or in a batch of 340.

    Parameters
    ----------
    evidence : DataFrame or None
        As for :func:`qualitative_scores`.
    respondents : DataFrame or None
        As for :func:`survey_scores`.
    weight : float, keyword-only
        Qualitative weight of the combined score.
    n_boot : int, keyword-only
        Number of replicates (>= 1).
    seed : int, keyword-only
        Seed (>= 0); the same seed gives identical replicates.
    aggregation, source_means : keyword-only
        As for :func:`qualitative_scores`.
    n_jobs : int or None, keyword-only
        Threads (None = 1, -1 = all cores). Results do not depend on it.
    progress : bool, keyword-only
        Show a progress bar on stderr.

    Returns
    -------
    DataFrame
        Replicates as a matrix: a row per (``site_id``, ``criterion``, ``component``)
        (MultiIndex; component is ``"qualitative"``, ``"survey"`` or ``"combined"``, present
        only where the site has that component), a column per replicate (``0..n_boot-1``,
        named ``replicate``).
    """
    w = _check_weight(weight)
    n_boot = _check_int(n_boot, "n_boot", 1)
    seed = _check_int(seed, "seed", 0)
    _check_aggregation(aggregation)
    workers = _n_workers(n_jobs)
    ev = _prepare_evidence(evidence) if evidence is not None else None
    r = _prepare_respondents(respondents) if respondents is not None else None
    return _bootstrap(
        ev,
        r,
        weight=w,
        n_boot=n_boot,
        seed=seed,
        aggregation=aggregation,
        source_means=bool(source_means),
        workers=workers,
        progress=progress,
    )


def _bootstrap(
    ev,
    r,
    *,
    weight,
    n_boot,
    seed,
    aggregation,
    source_means,
    workers,
    progress,
    qual_layout=None,
    survey_layout=None,
):
    if qual_layout is None:
        qual_layout = _qual_layout(ev, source_means=source_means)
    if survey_layout is None:
        survey_layout = _survey_layout(r)
    layouts = {
        k: v for k, v in (("qualitative", qual_layout), ("survey", survey_layout)) if v is not None
    }
    bar = None
    if progress:
        from tqdm.auto import tqdm

        total = sum(len(lay.site_slices) for lay in layouts.values())
        bar = tqdm(total=total, desc="bootstrap", unit="site", leave=False)
    frames = {}
    try:
        for component, lay in layouts.items():
            if component == "qualitative":
                transform, pooled, need_pos = _qual_value, aggregation == "pooled", True
            else:
                transform, pooled, need_pos = _survey_value, False, False
            reps = _bootstrap_layout(
                lay,
                component=component,
                n_boot=n_boot,
                seed=seed,
                pooled=pooled,
                transform=transform,
                need_pos=need_pos,
                workers=workers,
                progress=bar,
            )
            frames[component] = (lay.targets, reps)
    finally:
        if bar is not None:
            bar.close()
    return _replicate_frame(frames, weight, n_boot)


def _replicate_frame(frames: dict, weight: float, n_boot: int) -> pd.DataFrame:
    """Assemble per-component replicates into one matrix, rows sorted by site, criterion and
    component (qualitative, survey, combined), without intermediate copies."""
    keys = [t for t, _ in frames.values()]
    if keys:
        union = _sort_keys(pd.concat(keys, ignore_index=True).drop_duplicates())
    else:
        union = pd.DataFrame({"site_id": pd.Series(dtype=object), "criterion": []})
    n = len(union)
    where = pd.MultiIndex.from_frame(union)
    rows_of = {}
    present = np.zeros((n, 3), bool)
    present[:, 2] = True
    for k, component in enumerate(("qualitative", "survey")):
        if component in frames:
            targets, _ = frames[component]
            pos = where.get_indexer(pd.MultiIndex.from_frame(targets[_KEYS]))
            present[pos, k] = True
            rows_of[component] = pos
    row_index = np.cumsum(present.ravel()).reshape(n, 3) - 1  # row of (target, component)
    out = np.empty((int(present.sum()), n_boot))
    for k, component in enumerate(("qualitative", "survey")):
        if component in frames:
            out[row_index[rows_of[component], k]] = frames[component][1]
    q_row, s_row, c_row = row_index[:, 0], row_index[:, 1], row_index[:, 2]
    has_q, has_s = present[:, 0], present[:, 1]
    both = has_q & has_s
    out[c_row[has_q & ~has_s]] = out[q_row[has_q & ~has_s]]
    out[c_row[has_s & ~has_q]] = out[s_row[has_s & ~has_q]]
    for i in np.flatnonzero(both):  # one row at a time: no (n x n_boot) temporaries
        np.multiply(out[q_row[i]], weight, out=out[c_row[i]])
        out[c_row[i]] += (1.0 - weight) * out[s_row[i]]
    target, comp = np.nonzero(present)
    index = pd.MultiIndex.from_arrays(
        [
            union["site_id"].to_numpy(dtype=object)[target],
            union["criterion"].to_numpy(dtype=object)[target],
            np.asarray(["qualitative", "survey", "combined"], dtype=object)[comp],
        ],
        names=["site_id", "criterion", "component"],
    )
    return pd.DataFrame(
        out, index=index, columns=pd.RangeIndex(n_boot, name="replicate"), copy=False
    )


def _percentile_interval(reps: np.ndarray, estimate: np.ndarray, ci: float):
    """Percentile interval of each row, widened to contain the point estimate.

    Returns (lower, upper, extended) where ``extended`` marks rows whose estimate lay
    outside the percentile interval by more than rounding error.
    """
    alpha = (1.0 - ci) / 2.0
    lo, hi = np.percentile(reps, [100 * alpha, 100 * (1 - alpha)], axis=1)
    extended = (estimate < lo - _TOL) | (estimate > hi + _TOL)
    return np.minimum(lo, estimate), np.maximum(hi, estimate), extended


# --------------------------------------------------------------------------- pairwise, ranks
def _component_matrix(replicates: pd.DataFrame, component: str) -> pd.DataFrame:
    if not isinstance(replicates, pd.DataFrame) or list(replicates.index.names) != [
        "site_id",
        "criterion",
        "component",
    ]:
        raise ScoringError(
            "replicates must be the DataFrame returned by bootstrap_scores() (or "
            "ScoreResult.replicates), indexed by site_id, criterion and component"
        )
    _check_component(component)
    if replicates.shape[1] == 0:
        raise ScoringError("replicates has no bootstrap replicates (n_boot = 0)")
    comp = replicates.index.get_level_values("component") == component
    return replicates[comp].droplevel("component")


def _select(values, allowed, name) -> list:
    if allowed is None:
        return list(values)
    if isinstance(allowed, str):
        allowed = [allowed]
    allowed = list(allowed)
    unknown = [a for a in allowed if a not in set(values)]
    if unknown:
        raise ScoringError(
            f"{name} {', '.join(map(repr, unknown))} not in the replicates. "
            f"Available: {', '.join(map(str, values))}"
        )
    return [v for v in values if v in set(allowed)]


def pairwise_probabilities(
    replicates: pd.DataFrame,
    *,
    component: str = "combined",
    criteria: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Probability that one site scores above another, per criterion, from the draws.

    Parameters
    ----------
    replicates : DataFrame
        ``ScoreResult.replicates`` (posterior draws of the comparison model, or bootstrap
        replicates from :func:`bootstrap_scores`).
    component : {"combined", "qualitative", "survey"}, keyword-only
    criteria, sites : sequence of str, keyword-only
        Restrict to these criteria or sites (default: all).

    Returns
    -------
    DataFrame
        One row per criterion and unordered pair of sites scored on it (``site_a`` before
        ``site_b`` in sorted order): ``criterion``, ``site_a``, ``site_b``,
        ``p_a_greater`` (share of replicates where A scores higher), ``p_tie``,
        ``p_b_greater`` (the three sum to 1; differences within 1e-9 are ties),
        ``n_draws``.
    """
    mat = _component_matrix(replicates, component)
    present = [c for c in CRITERIA if c in set(mat.index.get_level_values("criterion"))]
    all_sites = sorted(set(mat.index.get_level_values("site_id")))
    keep = set(_select(all_sites, sites, "sites"))
    rows = []
    for crit in _select(present, criteria, "criteria"):
        sub = mat.xs(crit, level="criterion").sort_index()
        names = [s for s in sub.index if s in keep]
        sub = sub.loc[names]
        m = sub.to_numpy()
        n, n_boot = m.shape
        if n < 2:
            continue
        ia, ib = np.triu_indices(n, 1)
        gt = np.empty(len(ia))
        eq = np.empty(len(ia))
        step = max(1, _CHUNK_ELEMENTS // n_boot)
        for p0 in range(0, len(ia), step):
            a, b = m[ia[p0 : p0 + step]], m[ib[p0 : p0 + step]]
            d = a - b  # differences within float noise are ties
            up = (d > _TOL).mean(axis=1)
            gt[p0 : p0 + step] = up
            eq[p0 : p0 + step] = 1.0 - up - (d < -_TOL).mean(axis=1)
        idx = np.asarray(names, dtype=object)
        rows.append(
            pd.DataFrame(
                {
                    "criterion": crit,
                    "site_a": idx[ia],
                    "site_b": idx[ib],
                    "p_a_greater": gt,
                    "p_tie": eq,
                    "p_b_greater": np.clip(1.0 - gt - eq, 0.0, 1.0),
                    "n_draws": n_boot,
                }
            )
        )
    if not rows:
        return pd.DataFrame(
            {
                "criterion": pd.Series(dtype=object),
                "site_a": pd.Series(dtype=object),
                "site_b": pd.Series(dtype=object),
                "p_a_greater": pd.Series(dtype=float),
                "p_tie": pd.Series(dtype=float),
                "p_b_greater": pd.Series(dtype=float),
                "n_draws": pd.Series(dtype=int),
            }
        )
    return pd.concat(rows, ignore_index=True)


def rank_probabilities(
    replicates: pd.DataFrame,
    *,
    component: str = "combined",
    criteria: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Probability of each rank for each site, per criterion (rank 1 = highest score).

    In each replicate the sites are ranked; sites tied in a replicate share the tied ranks
    equally (two sites tied for first each get 1/2 on rank 1 and 1/2 on rank 2), so every
    site's probabilities and every rank's probabilities sum to 1. No random tie-breaking.

    Parameters
    ----------
    replicates : DataFrame
        ``ScoreResult.replicates`` (posterior draws of the comparison model, or bootstrap
        replicates from :func:`bootstrap_scores`).
    component : {"combined", "qualitative", "survey"}, keyword-only
    criteria : sequence of str, keyword-only

    Returns
    -------
    DataFrame
        One row per criterion, site and rank (1..number of sites scored on the criterion):
        ``criterion``, ``site_id``, ``rank``, ``probability``, and ``mean_rank`` (the
        site's expected rank, repeated on its rows).
    """
    mat = _component_matrix(replicates, component)
    present = [c for c in CRITERIA if c in set(mat.index.get_level_values("criterion"))]
    frames = []
    for crit in _select(present, criteria, "criteria"):
        sub = mat.xs(crit, level="criterion").sort_index()
        m = sub.to_numpy()
        n, n_boot = m.shape
        tied = -np.round(m / _TOL) * _TOL  # values within float noise tie
        first = rankdata(tied, method="min", axis=0).astype(np.intp)  # 1-based
        last = rankdata(tied, method="max", axis=0).astype(np.intp)
        share = 1.0 / (last - first + 1)
        site = np.repeat(np.arange(n), n_boot)
        width = n + 2
        diff = np.bincount(
            (site * width + first.ravel()), weights=share.ravel(), minlength=n * width
        ) - np.bincount(
            (site * width + last.ravel() + 1), weights=share.ravel(), minlength=n * width
        )
        prob = np.cumsum(diff.reshape(n, width), axis=1)[:, 1 : n + 1] / n_boot
        prob = np.clip(prob, 0.0, 1.0)
        ranks = np.arange(1, n + 1)
        mean_rank = prob @ ranks
        frames.append(
            pd.DataFrame(
                {
                    "criterion": crit,
                    "site_id": np.repeat(np.asarray(sub.index, dtype=object), n),
                    "rank": np.tile(ranks, n),
                    "probability": prob.ravel(),
                    "mean_rank": np.repeat(mean_rank, n),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {
                "criterion": pd.Series(dtype=object),
                "site_id": pd.Series(dtype=object),
                "rank": pd.Series(dtype=int),
                "probability": pd.Series(dtype=float),
                "mean_rank": pd.Series(dtype=float),
            }
        )
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- sensitivity
def sensitivity_scores(
    evidence: pd.DataFrame | None,
    respondents: pd.DataFrame | None = None,
    *,
    weights: Sequence[float] = SENSITIVITY_WEIGHTS,
    aggregations: Sequence[str] = AGGREGATIONS,
    source_means: Sequence[bool] = (True, False),
) -> pd.DataFrame:
    """Point scores under every combination of weight and aggregation choice.

    Parameters
    ----------
    evidence, respondents : DataFrame or None
        As for :func:`qualitative_scores` and :func:`survey_scores`.
    weights : sequence of float, keyword-only
        Qualitative weights to try (each 0..1).
    aggregations : sequence of {"strata", "pooled"}, keyword-only
    source_means : sequence of bool, keyword-only
        With (True) and/or without (False) averaging segments within sources first.

    Returns
    -------
    DataFrame
        One row per variant, site and criterion: ``weight``, ``aggregation``,
        ``source_means``, ``site_id``, ``criterion``, ``score``, ``basis``.
    """
    ws = [_check_weight(w, "weights") for w in weights]
    aggs = [_check_aggregation(a) for a in aggregations]
    sms = [bool(s) for s in source_means]
    if not ws or not aggs or not sms:
        raise ScoringError(
            "weights, aggregations and source_means must each hold one value or more"
        )
    ev = _prepare_evidence(evidence) if evidence is not None else None
    r = _prepare_respondents(respondents) if respondents is not None else None
    return _sensitivity_scores(ev, r, ws, aggs, sms)


def _sensitivity_scores(ev, r, ws, aggs, sms) -> pd.DataFrame:
    surv = _survey(r) if r is not None else _empty_survey()
    frames = []
    for agg in dict.fromkeys(aggs):
        for sm in dict.fromkeys(sms):
            qual = (
                _qualitative(ev, aggregation=agg, source_means=sm)
                if ev is not None
                else _empty_qual()
            )
            if len(qual) == 0 and len(surv) == 0:
                raise ScoringError("no evidence and no survey scores to analyse")
            merged = qual[[*_KEYS, "qual_score"]].merge(
                surv[[*_KEYS, "survey_score"]], on=_KEYS, how="outer"
            )
            merged = _sort_keys(merged)
            q = merged["qual_score"].to_numpy(dtype=float)
            s = merged["survey_score"].to_numpy(dtype=float)
            basis = np.select(
                [~np.isnan(q) & ~np.isnan(s), ~np.isnan(q)],
                ["qualitative+survey", "qualitative"],
                "survey",
            )
            for w in dict.fromkeys(ws):
                frames.append(
                    pd.DataFrame(
                        {
                            "weight": w,
                            "aggregation": agg,
                            "source_means": sm,
                            "site_id": merged["site_id"].to_numpy(),
                            "criterion": merged["criterion"].to_numpy(),
                            "score": _combine_values(q, s, w),
                            "basis": basis,
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def _order(diff: np.ndarray) -> np.ndarray:
    out = np.where(diff > _TOL, ">", np.where(diff < -_TOL, "<", "="))
    return np.where(np.isnan(diff), "", out).astype(object)


def sensitivity(
    evidence: pd.DataFrame | None,
    respondents: pd.DataFrame | None = None,
    *,
    weights: Sequence[float] = SENSITIVITY_WEIGHTS,
    aggregations: Sequence[str] = AGGREGATIONS,
    source_means: Sequence[bool] = (True, False),
    baseline: dict | None = None,
    only_changed: bool = False,
) -> pd.DataFrame:
    """Which pairwise orderings of sites change under other weights or aggregations.

    Scores every site under each variant (see :func:`sensitivity_scores`) and compares,
    per criterion, the ordering of every pair of sites with its ordering under the
    baseline (default: weight 0.6, equal-weight strata, source means).

    Parameters
    ----------
    evidence, respondents : DataFrame or None
    weights, aggregations, source_means : keyword-only
        The variant grid; the baseline is always included.
    baseline : dict, keyword-only
        ``{"weight": ..., "aggregation": ..., "source_means": ...}`` (missing keys take the
        defaults).
    only_changed : bool, keyword-only
        Keep only rows whose ordering differs from the baseline (advisable with many sites:
        340 sites give 57,630 pairs per criterion and variant).

    Returns
    -------
    DataFrame
        One row per variant, criterion and unordered pair of sites (``site_a`` before
        ``site_b`` in sorted order): ``weight``, ``aggregation``, ``source_means``,
        ``criterion``, ``site_a``, ``site_b``, ``score_a``, ``score_b``, ``order``
        (``">"``, ``"<"`` or ``"="``, A relative to B; ``""`` when either is unscored),
        ``baseline_order``, ``changed`` (bool: both orders known and different).
    """
    base = {"weight": DEFAULT_WEIGHT, "aggregation": "strata", "source_means": True}
    if baseline is not None:
        unknown = set(baseline) - set(base)
        if unknown:
            raise ScoringError(
                f"baseline has unknown key(s) {', '.join(sorted(unknown))}; "
                f"expected {', '.join(base)}"
            )
        base.update(baseline)
    base["weight"] = _check_weight(base["weight"], "baseline weight")
    _check_aggregation(base["aggregation"])
    base["source_means"] = bool(base["source_means"])
    ws = [_check_weight(w, "weights") for w in weights]
    aggs = [_check_aggregation(a) for a in aggregations]
    sms = [bool(s) for s in source_means]
    ws = list(dict.fromkeys([base["weight"], *ws]))
    aggs = list(dict.fromkeys([base["aggregation"], *aggs]))
    sms = list(dict.fromkeys([base["source_means"], *sms]))
    ev = _prepare_evidence(evidence) if evidence is not None else None
    r = _prepare_respondents(respondents) if respondents is not None else None
    scores = _sensitivity_scores(ev, r, ws, aggs, sms)
    return _orderings(scores, base, only_changed=only_changed)


def _orderings(scores: pd.DataFrame, base: dict, *, only_changed: bool) -> pd.DataFrame:
    variant_cols = ["weight", "aggregation", "source_means"]
    variants = scores[variant_cols].drop_duplicates().reset_index(drop=True)
    is_base = (
        np.isclose(variants["weight"], base["weight"])
        & (variants["aggregation"] == base["aggregation"])
        & (variants["source_means"] == base["source_means"])
    )
    base_pos = int(np.flatnonzero(is_base)[0])
    wide = scores.pivot_table(
        index=["criterion", "site_id"], columns=variant_cols, values="score", dropna=False
    )
    wide = wide.reindex(columns=pd.MultiIndex.from_frame(variants))
    frames = []
    for crit in [c for c in CRITERIA if c in set(wide.index.get_level_values(0))]:
        sub = wide.xs(crit, level="criterion").sort_index()
        m = sub.to_numpy(dtype=float)  # sites x variants
        n = m.shape[0]
        if n < 2:
            continue
        ia, ib = np.triu_indices(n, 1)
        diff = m[ia] - m[ib]  # pairs x variants
        order = _order(diff)
        base_order = order[:, [base_pos]]
        changed = (order != base_order) & (order != "") & (base_order != "")
        keep = changed if only_changed else np.ones_like(changed, bool)
        p_idx, v_idx = np.nonzero(keep)
        names = np.asarray(sub.index, dtype=object)
        frames.append(
            pd.DataFrame(
                {
                    "weight": variants["weight"].to_numpy()[v_idx],
                    "aggregation": variants["aggregation"].to_numpy()[v_idx],
                    "source_means": variants["source_means"].to_numpy()[v_idx],
                    "criterion": crit,
                    "site_a": names[ia[p_idx]],
                    "site_b": names[ib[p_idx]],
                    "score_a": m[ia[p_idx], v_idx],
                    "score_b": m[ib[p_idx], v_idx],
                    "order": order[p_idx, v_idx],
                    "baseline_order": base_order[p_idx, 0],
                    "changed": changed[p_idx, v_idx],
                }
            )
        )
    columns = [
        "weight",
        "aggregation",
        "source_means",
        "criterion",
        "site_a",
        "site_b",
        "score_a",
        "score_b",
        "order",
        "baseline_order",
        "changed",
    ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)[columns]


# --------------------------------------------------------------------------- reliability
def _gate_frame(reliability: pd.DataFrame) -> pd.DataFrame:
    """The reliability input as a ``scoring_gate`` frame (criterion, code, measure, alpha)."""
    if {"measure", "alpha", "code", "criterion"} <= set(reliability.columns):
        return reliability
    # a code_reliability() table: presence alphas per code only
    _require(reliability, ("code", "alpha_nominal"), "reliability")
    rel = reliability[reliability["code"].astype(str) != "ALL"]
    crit = rel["criterion"] if "criterion" in rel.columns else rel["code"].astype(str).str[:2]
    return pd.DataFrame(
        {
            "criterion": crit.astype(str).to_numpy(),
            "code": rel["code"].astype(str).to_numpy(),
            "measure": "presence",
            "alpha": pd.to_numeric(rel["alpha_nominal"], errors="coerce").to_numpy(),
        }
    )


def flag_unreliable(
    scores: pd.DataFrame,
    reliability: pd.DataFrame | None,
    *,
    threshold: float = RELIABILITY_THRESHOLD,
) -> pd.DataFrame:
    """Mark ratings built on codes, or valences, of low inter-coder reliability.

    Parameters
    ----------
    scores : DataFrame
        A score table with ``criterion`` and ``codes`` (``;``-joined codes behind each row).
    reliability : DataFrame or None
        From :func:`copeval.reliability.scoring_gate` (``criterion, code, measure, alpha``:
        presence alpha per code, ordinal valence alpha per criterion), or a
        :func:`copeval.reliability.code_reliability` table (presence only). None: no flags.
    threshold : float, keyword-only
        Alphas below it flag the rating (Krippendorff: 0.667 for tentative conclusions).
        Missing alphas are not flagged.

    Returns
    -------
    DataFrame
        A copy of ``scores`` with ``low_reliability`` (bool) and ``reliability_issues``
        (``;``-joined ``CODE:presence:ALPHA`` for each code behind the rating below the
        threshold and ``CRITERION:valence:ALPHA`` when the criterion's valence alpha is, e.g.
        ``C2.obs_passive:presence:0.52;C2:valence:0.57``; ``""`` otherwise).
    """
    _require(scores, ("criterion", "codes"), "scores")
    out = scores.copy()
    out["low_reliability"] = False
    out["reliability_issues"] = ""
    if reliability is None or len(reliability) == 0:
        return out
    gate = _gate_frame(reliability)
    alpha = pd.to_numeric(gate["alpha"], errors="coerce")
    if "warn" in gate.columns:  # the gate's own verdict (per-code valence rows never warn)
        low = gate[gate["warn"].astype(bool)].assign(alpha=alpha[gate["warn"].astype(bool)])
    else:
        low = gate[alpha < threshold].assign(alpha=alpha[alpha < threshold])
    by_code: dict[str, list[str]] = {}  # code -> issues of ratings that use the code
    by_criterion: dict[str, list[str]] = {}  # criterion -> issues of all its ratings
    for crit, code, measure, a in zip(
        low["criterion"].astype(str),
        low["code"].fillna("").astype(str),
        low["measure"].astype(str),
        low["alpha"],
        strict=True,
    ):
        if code:
            by_code.setdefault(code, []).append(f"{code}:{measure}:{a:.2f}")
        else:
            by_criterion.setdefault(crit, []).append(f"{crit}:{measure}:{a:.2f}")
    issues = []
    for crit, codes in zip(
        out["criterion"].astype(str), out["codes"].fillna("").astype(str), strict=True
    ):
        items = [item for c in codes.split(";") if c for item in by_code.get(c, [])]
        if codes:
            items += by_criterion.get(crit, [])
        issues.append(";".join(items))
    out["reliability_issues"] = issues
    out["low_reliability"] = out["reliability_issues"] != ""
    return out


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class ScoreResult:
    """Scores of a set of sites with the draws behind their comparisons.

    Attributes
    ----------
    table : DataFrame
        The tidy score table, one row per site and criterion (columns in
        :func:`score_evidence`).
    replicates : DataFrame
        Draws, one column per draw and one row per (site_id, criterion, component): posterior
        draws of the comparison model (default) or bootstrap replicates
        (``interval_method="bootstrap"``), from which :meth:`pairwise` and :meth:`ranks` are
        computed.
    evidence, respondents : DataFrame or None
        The inputs, kept for :meth:`sensitivity`.
    settings : dict
        The :class:`ScoringParams` as a dict, plus ``n_boot`` (= ``draws``).
    components : DataFrame or None
        The project's variance components (:meth:`copeval.uncertainty.Components.as_frame`).
    params : ScoringParams or None
    """

    table: pd.DataFrame
    replicates: pd.DataFrame
    evidence: pd.DataFrame | None = field(default=None, repr=False)
    respondents: pd.DataFrame | None = field(default=None, repr=False)
    settings: dict = field(default_factory=dict)
    components: pd.DataFrame | None = field(default=None, repr=False)
    params: ScoringParams | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        n_sites = self.table["site_id"].nunique()
        s = self.settings
        return (
            f"<ScoreResult: {n_sites} sites x {len(CRITERIA)} criteria, "
            f"weight={s.get('weight')}, interval_method={s.get('interval_method')}, "
            f"draws={s.get('draws')}, seed={s.get('seed')}, ci={s.get('ci')}>"
        )

    def pairwise(self, *, component="combined", criteria=None, sites=None) -> pd.DataFrame:
        """P(site A > site B) per criterion; see :func:`pairwise_probabilities`."""
        return pairwise_probabilities(
            self.replicates, component=component, criteria=criteria, sites=sites
        )

    def ranks(self, *, component="combined", criteria=None) -> pd.DataFrame:
        """Rank probabilities per criterion; see :func:`rank_probabilities`."""
        return rank_probabilities(self.replicates, component=component, criteria=criteria)

    def sensitivity(
        self,
        *,
        weights=SENSITIVITY_WEIGHTS,
        aggregations=AGGREGATIONS,
        source_means=(True, False),
        only_changed=False,
    ) -> pd.DataFrame:
        """Pairwise orderings under other weights and aggregations, against this result's
        settings as the baseline; see :func:`sensitivity`."""
        base = {k: self.settings[k] for k in ("weight", "aggregation", "source_means")}
        return sensitivity(
            self.evidence,
            self.respondents,
            weights=weights,
            aggregations=aggregations,
            source_means=source_means,
            baseline=base,
            only_changed=only_changed,
        )


def _make_params(params, overrides: dict) -> ScoringParams:
    if params is not None and not isinstance(params, ScoringParams):
        raise ScoringError(f"params must be a ScoringParams, got {type(params).__name__}")
    base = params if params is not None else ScoringParams()
    changes = {k: v for k, v in overrides.items() if v is not _UNSET}
    if "n_boot" in changes:
        n_boot = changes.pop("n_boot")
        if "draws" in changes and changes["draws"] != n_boot:
            raise ScoringError("give draws or n_boot (its former name), not both")
        changes["draws"] = n_boot
    return base.replace(**changes) if changes else base


class _Unset:
    def __repr__(self):
        return "<default>"


_UNSET = _Unset()


def score_evidence(
    evidence: pd.DataFrame | None,
    respondents: pd.DataFrame | None = None,
    *,
    sites: Sequence[str] | None = None,
    reliability: pd.DataFrame | None = None,
    params: ScoringParams | None = None,
    weight=_UNSET,
    draws=_UNSET,
    n_boot=_UNSET,
    seed=_UNSET,
    ci=_UNSET,
    interval_method=_UNSET,
    aggregation=_UNSET,
    source_means=_UNSET,
    n_jobs=_UNSET,
    progress: bool = False,
    components: _unc.Components | None = None,
) -> ScoreResult:
    """Score sites from evidence and respondent tables (the DataFrame-level entry point).

    Parameters
    ----------
    evidence : DataFrame or None
        Coded evidence, as for :func:`qualitative_scores` (None or empty: survey only).
    respondents : DataFrame or None
        Respondent-level scores, as for :func:`survey_scores` (None: qualitative only).
    sites : sequence of str, keyword-only
        Sites to report; sites without any evidence get rows with basis ``"none"`` and
        ``no_evidence``. Default: the sites present in the inputs.
    reliability : DataFrame or None, keyword-only
        :func:`copeval.reliability.scoring_gate` output (see :func:`flag_unreliable`).
    params : ScoringParams, keyword-only
        All options at once (defaults: :class:`copeval.params.ScoringParams`).
    weight, draws, seed, ci, interval_method, aggregation, source_means, n_jobs : keyword-only
        Override single fields of ``params`` (validated by :class:`ScoringParams`);
        ``n_boot`` is the former name of ``draws``.
    progress : bool, keyword-only
        Show a progress bar on stderr during the bootstrap.
    components : Components, keyword-only
        Variance components to use instead of estimating them from ``evidence`` (the
        components of all rounds of a project, see :func:`score_rounds`).

    Returns
    -------
    ScoreResult
        ``.table`` holds one row per site and criterion (C1..C4, AT), sorted by ``site_id``
        then criterion, with the columns of :data:`TABLE_COLUMNS`. Data only, no prose:

        - ``site_id``, ``criterion``
        - ``score``: combined rating 0..4 (NaN without evidence)
        - ``lower``, ``upper``: interval of coverage ``ci`` (``score -/+ t se`` within
          [0, 4]; when capped, ``lower = min(lower, score)``); never of zero width
        - ``se``: standard error of the (uncapped) rating; ``df``: its degrees of freedom
          (Satterthwaite; inf for a normal quantile)
        - ``band``: ``absent|limited|passable|acceptable|strong`` (band of the printed,
          one-decimal value; NA without evidence)
        - ``basis``: ``"qualitative+survey"``, ``"qualitative"``, ``"survey"`` or ``"none"``
        - ``qual_score`` (after the strength cap), ``qual_raw`` (before), ``qual_lower``,
          ``qual_upper``, ``qual_se``: the qualitative component (NaN when absent)
        - ``survey_score``, ``survey_lower``, ``survey_upper``, ``survey_se``: the survey
          component (NaN when absent)
        - ``n_sources``, ``n_groups`` (strata), ``n_positive_groups``, ``n_segments``,
          ``n_respondents``, ``n_instruments``, ``n_clusters``: evidence behind the rating
        - ``insufficient_evidence`` (bool): fewer than 3 sources or 2 strata
        - ``capped`` (bool): the strength ceiling lowered the qualitative score
        - ``no_evidence`` (bool): nothing to score
        - ``thin_evidence`` (bool): the rating's own evidence cannot estimate its variance
          (no stratum with two sources or more; or a survey instrument with fewer than two
          units or no spread), so it borrows the project's variance entirely
        - ``low_reliability`` (bool), ``reliability_issues`` (``;``-joined, e.g.
          ``C2.obs_passive:presence:0.52;C2:valence:0.57``): see :func:`flag_unreliable`
        - ``segment_ids``, ``codes``, ``items``: ``;``-joined evidence behind the rating
    """
    p = _make_params(
        params,
        {
            "weight": weight,
            "draws": draws,
            "n_boot": n_boot,
            "seed": seed,
            "ci": ci,
            "interval_method": interval_method,
            "aggregation": aggregation,
            "source_means": source_means,
            "n_jobs": n_jobs,
        },
    )
    w = p.weight
    workers = _n_workers(p.n_jobs)
    ev = _prepare_evidence(evidence) if evidence is not None else None
    r = _prepare_respondents(respondents) if respondents is not None else None
    survey_units = _survey_units(r) if r is not None and len(r) else None
    survey_layout = _survey_layout(r, survey_units)
    sources = _unc.source_table(ev) if ev is not None and len(ev) else None
    qual = (
        _qualitative(ev, aggregation=p.aggregation, source_means=p.source_means, sources=sources)
        if ev is not None
        else _empty_qual()
    )
    surv = _survey(r, survey_layout) if r is not None else _empty_survey()
    if len(qual) == 0 and len(surv) == 0 and not sites:
        raise ScoringError(
            "nothing to score: no coded evidence with a valence and no survey scores"
        )
    merged = qual.merge(surv, on=_KEYS, how="outer")
    if sites is not None:
        sites = [str(s) for s in sites]
        unknown = sorted(set(merged["site_id"]) - set(sites))
        if unknown:
            raise ScoringError(
                f"evidence refers to site(s) not listed in sites: {', '.join(unknown[:10])}"
            )
        grid = pd.DataFrame(
            [(s, c) for s in dict.fromkeys(sites) for c in CRITERIA], columns=_KEYS
        )
        merged = grid.merge(merged, on=_KEYS, how="left")
    table = _finish_combined(merged, w)
    comps = None
    if p.interval_method == "model":
        table, comps = _model_uncertainty(
            table, ev, r, p, sources, survey_units, components=components
        )
        reps = _model_draws(table, p)
    else:
        reps = _bootstrap(
            ev,
            r,
            weight=w,
            n_boot=p.draws,
            seed=p.seed,
            aggregation=p.aggregation,
            source_means=p.source_means,
            workers=workers,
            progress=progress,
            survey_layout=survey_layout,
        )
        table = _bootstrap_intervals(table, reps, p.ci)
        if r is not None and len(r):
            table["n_clusters"] = _unc.count_clusters(table[_KEYS], r)
    table = flag_unreliable(table, reliability)
    table = table[list(TABLE_COLUMNS)]
    settings = {**p.as_dict(), "n_boot": p.draws}
    return ScoreResult(
        table=table,
        replicates=reps,
        evidence=ev,
        respondents=r,
        settings=settings,
        components=None if comps is None else comps.as_frame(),
        params=p,
    )


def _model_uncertainty(
    table: pd.DataFrame, ev, r, p: ScoringParams, sources, units, *, components=None
):
    """Standard errors, df and intervals of every rating from the variance-components model
    (qualitative) and linearised cluster-robust variances (survey)."""
    out = table.copy()
    comps = None
    if ev is not None and len(ev):
        comps = components or _unc.estimate_components(ev, sources=sources)
        qv = _unc.qualitative_variance(
            ev, comps, aggregation=p.aggregation, source_means=p.source_means, sources=sources
        )
        out = out.merge(qv, on=_KEYS, how="left")
    else:
        out["qual_se"], out["qual_df"], out["qual_thin"] = np.nan, np.nan, False
    if r is not None and len(r):
        sv = _unc.survey_variance(_survey_units(r) if units is None else units, r)
        out = out.merge(sv, on=_KEYS, how="left")
    else:
        out["survey_se"], out["survey_df"], out["survey_thin"] = np.nan, np.nan, False
        out["n_clusters"] = 0
    out["n_clusters"] = out["n_clusters"].fillna(0).astype(int)
    has_q = out["qual_score"].notna().to_numpy()
    has_s = out["survey_score"].notna().to_numpy()
    w = p.weight
    wq = np.where(has_q & has_s, w, np.where(has_q, 1.0, 0.0))
    ws = np.where(has_q & has_s, 1.0 - w, np.where(has_s, 1.0, 0.0))
    vq = out["qual_se"].to_numpy(dtype=float) ** 2
    vs = out["survey_se"].to_numpy(dtype=float) ** 2
    var, dof = _unc.satterthwaite(
        [
            (np.where(has_q, wq**2 * vq, np.nan), out["qual_df"].to_numpy(dtype=float)),
            (np.where(has_s, ws**2 * vs, np.nan), out["survey_df"].to_numpy(dtype=float)),
        ]
    )
    scored = has_q | has_s
    out["se"] = np.where(scored, np.sqrt(var), np.nan)
    out["df"] = np.where(scored, dof, np.nan)
    q_raw = out["qual_raw"].to_numpy(dtype=float)
    s_val = out["survey_score"].to_numpy(dtype=float)
    center = np.where(has_q, wq * np.nan_to_num(q_raw), 0.0) + np.where(
        has_s, ws * np.nan_to_num(s_val), 0.0
    )
    ci = p.ci
    with np.errstate(invalid="ignore"):
        lo, hi = _unc.t_interval(center, out["se"], out["df"], ci, score=out["score"])
        qlo, qhi = _unc.t_interval(
            q_raw, out["qual_se"], out["qual_df"], ci, score=out["qual_score"]
        )
        slo, shi = _unc.t_interval(s_val, out["survey_se"], out["survey_df"], ci)
    out["lower"] = np.where(scored, lo, np.nan)
    out["upper"] = np.where(scored, hi, np.nan)
    out["qual_lower"] = np.where(has_q, qlo, np.nan)
    out["qual_upper"] = np.where(has_q, qhi, np.nan)
    out["survey_lower"] = np.where(has_s, slo, np.nan)
    out["survey_upper"] = np.where(has_s, shi, np.nan)
    out["qual_se"] = np.where(has_q, out["qual_se"], np.nan)
    out["survey_se"] = np.where(has_s, out["survey_se"], np.nan)
    thin_q = out["qual_thin"].astype("boolean").fillna(False).to_numpy(dtype=bool) & has_q
    thin_s = out["survey_thin"].astype("boolean").fillna(False).to_numpy(dtype=bool) & has_s
    out["thin_evidence"] = thin_q | thin_s
    return out, comps


def _model_draws(table: pd.DataFrame, p: ScoringParams) -> pd.DataFrame:
    """Posterior draws of the comparison model, per criterion and component."""
    blocks, index = [], []
    specs = (
        ("qualitative", "qual_score", "qual_se"),
        ("survey", "survey_score", "survey_se"),
        ("combined", "score", "se"),
    )
    comp_rank = {"qualitative": 0, "survey": 1, "combined": 2}
    for crit in CRITERIA:
        sub = table[table["criterion"] == crit]
        for comp, col, se_col in specs:
            ok = sub[col].notna() & sub[se_col].notna()
            if not ok.any():
                continue
            rows = sub[ok]
            draws = _unc.comparison_draws(
                rows[col].to_numpy(),
                rows[se_col].to_numpy(),
                p.draws,
                seed=p.seed,
                key=(crit, comp),
            )
            blocks.append(draws)
            index.extend((s, crit, comp) for s in rows["site_id"])
    if not blocks:
        idx = pd.MultiIndex.from_tuples([], names=["site_id", "criterion", "component"])
        return pd.DataFrame(
            np.empty((0, p.draws)), index=idx, columns=pd.RangeIndex(p.draws, name="replicate")
        )
    mat = np.vstack(blocks)
    keys = pd.DataFrame(index, columns=["site_id", "criterion", "component"])
    sort = (
        keys.assign(_c=_criterion_order(keys["criterion"]), _k=keys["component"].map(comp_rank))
        .sort_values(["site_id", "_c", "_k"], kind="mergesort")
        .index.to_numpy()
    )
    keys = keys.iloc[sort]
    return pd.DataFrame(
        mat[sort],
        index=pd.MultiIndex.from_frame(keys),
        columns=pd.RangeIndex(p.draws, name="replicate"),
        copy=False,
    )


def _bootstrap_intervals(table: pd.DataFrame, reps: pd.DataFrame, ci: float) -> pd.DataFrame:
    """Percentile intervals (legacy ``interval_method="bootstrap"``), widened to contain the
    score; ``se`` is the replicates' SD and ``df`` infinite."""
    out = table.copy()
    for col in (
        "lower",
        "upper",
        "se",
        "df",
        "qual_lower",
        "qual_upper",
        "qual_se",
        "survey_lower",
        "survey_upper",
        "survey_se",
    ):
        out[col] = np.nan
    out["n_clusters"] = 0
    out["thin_evidence"] = False
    present = set(reps.index.get_level_values("component"))
    keys = pd.MultiIndex.from_frame(out[_KEYS])
    for comp, score_col, prefix in (
        ("combined", "score", ""),
        ("qualitative", "qual_score", "qual_"),
        ("survey", "survey_score", "survey_"),
    ):
        if comp not in present:
            continue
        mat = reps.xs(comp, level="component")
        pos = mat.index.get_indexer(keys)
        has = pos >= 0
        if not has.any():
            continue
        vals = mat.to_numpy()[pos[has]]
        lo, hi, _ = _percentile_interval(vals, out[score_col].to_numpy()[has], ci)
        out.loc[has, f"{prefix}lower"] = lo
        out.loc[has, f"{prefix}upper"] = hi
        se_col = "se" if prefix == "" else f"{prefix}se"
        out.loc[has, se_col] = vals.std(axis=1, ddof=1) if vals.shape[1] > 1 else 0.0
    out.loc[out["se"].notna(), "df"] = np.inf
    return out


# --------------------------------------------------------------------------- project
def _project_respondents(project) -> pd.DataFrame | None:
    if not project.responses:
        return None
    try:
        from .survey import respondent_scores
    except ModuleNotFoundError as exc:
        if exc.name not in ("copeval.survey",):
            raise
        raise ScoringError(
            "the project has survey responses but copeval.survey is not available to score them"
        ) from exc
    return respondent_scores(project.items, project.responses)


def _project_reliability(project) -> pd.DataFrame | None:
    segments = project.segments
    consented = set(project.sources.loc[project.sources["consent"] != "none", "source_id"])
    segments = segments[segments["source_id"].isin(consented)]
    if segments["coder"].nunique() < 2:
        return None
    from .reliability import scoring_gate

    return scoring_gate(segments, threshold=RELIABILITY_THRESHOLD)


def score_sites(
    project,
    *,
    params: ScoringParams | None = None,
    weight=_UNSET,
    draws=_UNSET,
    n_boot=_UNSET,
    seed=_UNSET,
    ci=_UNSET,
    interval_method=_UNSET,
    aggregation=_UNSET,
    source_means=_UNSET,
    n_jobs=_UNSET,
    progress: bool = False,
    round: str | None = None,
) -> ScoreResult:
    """Score every site of a project on C1-C4 and AT, with calibrated intervals.

    Uses :meth:`Project.evidence` (primary coder, rated segments, consented sources), the
    survey responses through :func:`copeval.survey.respondent_scores` when the project has
    any, and the reliability gate :func:`copeval.reliability.scoring_gate` when two or more
    coders coded it. A project with only coded evidence, or only surveys, is scored from what
    it has (``basis`` says which).

    Parameters
    ----------
    project : Project
        A loaded project (:func:`copeval.project.load_project`).
    params, weight, draws, n_boot, seed, ci, interval_method, aggregation, source_means,
    n_jobs, progress
        As for :func:`score_evidence`.
    round : str, optional
        For a project with evaluation rounds: the round to score (default: the latest round
        with evidence). Its table starts with a constant ``round`` column; the variance
        components are estimated across all rounds (:func:`round_inputs`). A project without
        rounds gets today's table, without the column; ``round`` must then be None.

    Returns
    -------
    ScoreResult
        ``.table`` has one row per site of ``project.sites`` and criterion, with the columns
        documented in :func:`score_evidence`; ``.pairwise()``, ``.ranks()`` and
        ``.sensitivity()`` give pairwise and rank probabilities and the sensitivity table.

    Examples
    --------
    >>> from copeval.project import load_project
    >>> result = score_sites(load_project("data/demo"), seed=1)  # doctest: +SKIP
    >>> result.table[["site_id", "criterion", "score", "lower", "upper", "band"]]  # doctest: +SKIP
    >>> result.pairwise(criteria=["C2"])  # doctest: +SKIP
    """
    for name in ("evidence", "sites", "responses", "segments", "sources", "items"):
        if not hasattr(project, name):
            raise ScoringError(
                f"project must be a copeval Project (load it with copeval.project.load_project); "
                f"got {type(project).__name__}"
            )
    # validate options before any heavy work
    p = _make_params(
        params,
        {
            "weight": weight,
            "draws": draws,
            "n_boot": n_boot,
            "seed": seed,
            "ci": ci,
            "interval_method": interval_method,
            "aggregation": aggregation,
            "source_means": source_means,
            "n_jobs": n_jobs,
        },
    )
    if not getattr(project, "round_ids", None):
        if round is not None:
            raise ScoringError(f"round {round!r} given, but the project declares no rounds")
        evidence = project.evidence()
        respondents = _project_respondents(project)
        reliability = _project_reliability(project)
        return score_evidence(
            evidence,
            respondents,
            sites=sorted(project.sites["site_id"].astype(str)),
            reliability=reliability,
            params=p,
            progress=progress,
        )
    inputs = round_inputs(project)
    if round is None:
        round = inputs.scored_rounds[-1]
    return _score_round(project, inputs, str(round), p, progress=progress)


@dataclass(frozen=True)
class RoundInputs:
    """Evidence and respondent scores of every round of a project, with the variance
    components estimated across all its rounds (see :func:`round_inputs`)."""

    rounds: tuple
    evidence: pd.DataFrame
    respondents: pd.DataFrame | None
    reliability: pd.DataFrame | None
    components: _unc.Components | None

    @property
    def scored_rounds(self) -> list[str]:
        """Rounds with coded evidence or survey scores, oldest first."""
        used = set(self.evidence["round"])
        if self.respondents is not None:
            used |= set(self.respondents["round"])
        out = [r for r in self.rounds if r in used]
        if not out:
            raise ScoringError("nothing to score: no round has coded evidence or survey scores")
        return out


def _round_key(ev: pd.DataFrame) -> pd.DataFrame:
    """Evidence with each site x round as its own 'site', for estimating components."""
    return ev.assign(site_id=ev["site_id"].astype(str) + "\x1f" + ev["round"].astype(str))


def round_inputs(project) -> RoundInputs:
    """Inputs of every round of a project with rounds: ``evidence`` and ``respondents``
    (from :func:`copeval.survey.respondent_scores`, one call per round, so that a panel
    respondent's two answers stay apart) with a ``round`` column, and the variance
    components estimated **across all rounds** (each site x round counts as one site of
    the moment estimators; docs/method.md, "Change between rounds")."""
    rounds = tuple(project.round_ids)
    if not rounds:
        raise ScoringError("the project declares no rounds (datapackage.json, copeval.rounds)")
    ev = project.evidence()
    ev = ev.assign(round=ev["round"].astype(str))
    resp = None
    if project.responses:
        frames = []
        for rnd in rounds:
            part = {
                inst: df[df["round"].astype(str) == rnd].drop(columns="round")
                for inst, df in project.responses.items()
            }
            part = {k: v for k, v in part.items() if len(v)}
            if not part:
                continue
            sub = _project_respondents(_Responses(project.items, part))
            if sub is not None and len(sub):
                frames.append(sub.assign(round=rnd))
        resp = pd.concat(frames, ignore_index=True) if frames else None
    comps = None
    if len(ev):
        comps = _unc.estimate_components(_prepare_evidence(_round_key(ev)))
    return RoundInputs(rounds, ev, resp, _project_reliability(project), comps)


@dataclass(frozen=True)
class _Responses:
    items: pd.DataFrame
    responses: dict


def _score_round(project, inputs: RoundInputs, rnd: str, p: ScoringParams, *, progress=False):
    if rnd not in inputs.rounds:
        raise ScoringError(f"no round {rnd!r} in this project; rounds: {', '.join(inputs.rounds)}")
    ev = inputs.evidence[inputs.evidence["round"] == rnd].drop(
        columns=[c for c in ("round", "panel_id") if c in inputs.evidence.columns]
    )
    r = inputs.respondents
    if r is not None:
        r = r[r["round"] == rnd].drop(columns="round")
        r = r if len(r) else None
    if not len(ev) and r is None:
        raise ScoringError(f"round {rnd!r} has no coded evidence and no survey scores to score")
    result = score_evidence(
        ev if len(ev) else None,
        r,
        sites=sorted(project.sites["site_id"].astype(str)),
        reliability=inputs.reliability,
        params=p,
        progress=progress,
        components=inputs.components if p.interval_method == "model" else None,
    )
    table = result.table.copy()
    table.insert(0, "round", rnd)
    return ScoreResult(
        table=table,
        replicates=result.replicates,
        evidence=result.evidence,
        respondents=result.respondents,
        settings={**result.settings, "round": rnd},
        components=result.components,
        params=result.params,
    )


def score_rounds(
    project, *, params: ScoringParams | None = None, rounds: Sequence[str] | None = None
) -> dict:
    """Score every round of a project with rounds (or the given ``rounds``): ``{round:
    ScoreResult}``, oldest first; each table starts with a constant ``round`` column. The
    variance components are estimated once across all rounds."""
    p = _make_params(params, {})
    inputs = round_inputs(project)
    wanted = inputs.scored_rounds if rounds is None else [str(x) for x in rounds]
    return {rnd: _score_round(project, inputs, rnd, p) for rnd in wanted}
