"""Inter-coder reliability of a project's coded segments.

When two or more coders code the same sources, agreement is measured on **units**. How
units are formed is the ``unitizing`` parameter:

* ``"exact"`` (the default of the tables and of ``copeval reliability``): a unit is a
  distinct text span ``(source_id, start, end)`` that at least one coder coded, on a source
  that at least two coders coded, so spans that differ by one character are two units;
* ``"overlap"`` (the default of :func:`scoring_gate`): every character of the coded text of
  a multi-coded source (the characters inside at least one coder's segment) is a unit, as in
  the character-level coding comparisons of ATLAS.ti (Krippendorff's alpha-binary) and NVivo.
  It is computed on runs of characters that every segment covers whole (no row per
  character), each weighted by its length in median segment lengths; the bootstrap resamples
  blocks of contiguous coded text about one median segment long.

A coder who coded the source but not the unit counts as having applied no code there; a
coder who did not code the source at all is missing for its units.

For each code, every coder's **presence** (0/1: did the coder apply the code to the unit?) is
a nominal variable, and the **valence** (-2..+2) each coder gave the code on the unit is an
ordinal variable. Agreement is measured with:

* Cohen's kappa (two coders; with more, Light's kappa: the mean of the pairwise kappas) on
  presence;
* Krippendorff's alpha (any number of coders, missing values allowed): nominal on presence,
  ordinal on valence, computed with the ``krippendorff`` package (exact units) or the same
  formulas on weighted coincidences (overlap), with percentile bootstrap intervals
  (seeded, vectorised over replicates).

Krippendorff's guidance gives every alpha a **verdict**: >= 0.800 reliable; >= 0.667
acceptable for tentative conclusions; below 0.667 unreliable (not acceptable for
conclusions). A code or criterion is as reliable as the worse of its presence and valence
verdicts, and the tables say which measure fell short.

Functions
---------
reliability_data
    The reliability data in long form: unit x code x coder presence and valence.
code_reliability
    Kappa, alpha and verdicts per code, plus an overall row (code "ALL").
criterion_reliability
    The same per criterion (presence of any of the criterion's codes).
scoring_gate
    The figures scoring checks, one row per code or criterion and measure.
disagreements
    Every unit x code on which coders disagree, with the segment IDs involved.
cohen_kappa, krippendorff_alpha
    The two coefficients on plain arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from .errors import ReliabilityError
from .vocabulary import CRITERIA

__all__ = [
    "ALPHA_RELIABLE",
    "ALPHA_TENTATIVE",
    "GATE_COLUMNS",
    "GATE_UNITIZING",
    "N_BOOT_DEFAULT",
    "UNITIZING",
    "VERDICTS",
    "ReliabilityError",
    "code_reliability",
    "cohen_kappa",
    "criterion_reliability",
    "disagreements",
    "krippendorff_alpha",
    "reliability_data",
    "scoring_gate",
]

#: Krippendorff's thresholds: reliable, and acceptable for tentative conclusions.
ALPHA_RELIABLE = 0.800
ALPHA_TENTATIVE = 0.667

#: Default number of bootstrap replicates of the reliability intervals (CLI, docs, reports).
N_BOOT_DEFAULT = 1000

#: How units are formed: ``"exact"`` spans, or ``"overlap"`` (every coded character is a unit).
UNITIZING = ("exact", "overlap")

#: Unitizing of :func:`scoring_gate` by default (see docs/reliability-and-surveys.md).
GATE_UNITIZING = "overlap"

#: Verdict codes, from worst to best; ``"undefined"`` when alpha cannot be computed.
VERDICTS = ("unreliable", "tentative", "reliable")

#: Valence values, in order (the ordinal domain).
VALENCES = (-2, -1, 0, 1, 2)

SEGMENT_REQUIRED = ("segment_id", "source_id", "start", "end", "code", "coder")

RESULT_COLUMNS = [
    "code",
    "criterion",
    "n_units",
    "n_coders",
    "kappa",
    "alpha_nominal",
    "alpha_nominal_lower",
    "alpha_nominal_upper",
    "alpha_ordinal",
    "alpha_ordinal_lower",
    "alpha_ordinal_upper",
    "below_threshold",
    "n_present",
    "n_valence_units",
    "presence_verdict",
    "valence_verdict",
    "verdict",
    "presence_below",
    "valence_below",
    "unitizing",
]


# --------------------------------------------------------------------------- coefficients
def cohen_kappa(table: np.ndarray) -> float:
    """Cohen's kappa of a square agreement table (rows: coder 1, columns: coder 2).

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the share on the diagonal and ``p_e`` the
    agreement expected from the margins. NaN when the table is empty or ``p_e == 1`` (both
    coders used a single, identical category).
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ReliabilityError(f"cohen_kappa needs a square table, got shape {t.shape}")
    n = t.sum()
    if n <= 0:
        return math.nan
    p_o = np.trace(t) / n
    p_e = float((t.sum(axis=1) * t.sum(axis=0)).sum() / n**2)
    if p_e >= 1 - 1e-12:
        return math.nan
    return float((p_o - p_e) / (1 - p_e))


def _coincidences(counts: np.ndarray) -> np.ndarray:
    """Per-unit coincidence matrices ``(N, V, V)`` from value counts ``(N, V)``.

    ``o_u[c, k] = (n_uc * n_uk - [c == k] * n_uc) / (m_u - 1)`` where ``m_u`` is the number of
    values in unit ``u``; units with fewer than two values are not pairable and contribute 0.
    """
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    outer = counts[:, :, None] * counts[:, None, :]
    idx = np.arange(counts.shape[1])
    outer[:, idx, idx] -= counts
    scale = np.divide(1.0, m - 1, out=np.zeros_like(m), where=m >= 2)
    return outer * scale[:, None, None]


def _alpha_from_coincidences(o: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's alpha from coincidence matrices ``(..., V, V)`` (vectorised).

    NaN where fewer than two values are pairable or all pairable values are equal.
    """
    o = np.asarray(o, dtype=float)
    n_v = o.sum(axis=-1)
    n = n_v.sum(axis=-1)
    v = o.shape[-1]
    if level == "nominal":
        d = np.broadcast_to(1.0 - np.eye(v), o.shape)
    elif level == "ordinal":
        cum = np.cumsum(n_v, axis=-1)
        i = np.arange(v)
        lo = np.minimum.outer(i, i)
        hi = np.maximum.outer(i, i)
        between = cum[..., hi] - cum[..., lo] + n_v[..., lo]
        d = (between - (n_v[..., lo] + n_v[..., hi]) / 2.0) ** 2
    else:
        raise ReliabilityError(f"level must be 'nominal' or 'ordinal', got {level!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        e = (n_v[..., :, None] * n_v[..., None, :] - np.eye(v) * n_v[..., None, :]) / (
            n[..., None, None] - 1
        )
        d_o = (o * d).sum(axis=(-2, -1))
        d_e = (e * d).sum(axis=(-2, -1))
        alpha = 1.0 - d_o / d_e
    return np.where((n > 1) & (d_e > 1e-12), alpha, np.nan)


def krippendorff_alpha(
    counts: np.ndarray, *, level: str = "nominal", value_domain: Sequence | None = None
) -> float:
    """Krippendorff's alpha from value counts, computed by the ``krippendorff`` package.

    Parameters
    ----------
    counts : array of shape (units, values)
        How many coders gave each value to each unit (``value_domain`` order).
    level : {"nominal", "ordinal"}
    value_domain : sequence, optional
        The values, in order; default ``range(values)``.

    Returns NaN when no unit has two values or all pairable values are equal (alpha is
    undefined without variation).
    """
    import krippendorff

    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2:
        raise ReliabilityError(f"counts must be 2-D (units x values), got {counts.ndim}-D")
    m = counts.sum(axis=1)
    pairable = counts[m >= 2]
    if len(pairable) == 0 or (pairable.sum(axis=0) > 0).sum() < 2:
        return math.nan
    domain = list(range(counts.shape[1])) if value_domain is None else list(value_domain)
    return float(
        krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level)
    )


# --------------------------------------------------------------------------- reliability data
def _check_segments(segments: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(segments, pd.DataFrame):
        raise ReliabilityError(
            f"segments must be a DataFrame (Project.segments), got {type(segments).__name__}"
        )
    absent = [c for c in SEGMENT_REQUIRED if c not in segments.columns]
    if absent:
        raise ReliabilityError(
            f"The segments table lacks column(s) {', '.join(absent)}. "
            f"Available columns: {', '.join(map(str, segments.columns)) or '(none)'}"
        )
    seg = segments.loc[
        :, [c for c in segments.columns if c in (*SEGMENT_REQUIRED, "valence", "criterion")]
    ].copy()
    for col in ("segment_id", "source_id", "code", "coder"):
        empty = seg[col].isna()
        if empty.any():
            pos = int(np.flatnonzero(empty.to_numpy())[0])
            raise ReliabilityError(
                f"segments row {pos + 2}: column '{col}' is empty "
                f"(segment {seg['segment_id'].iloc[pos]!r})"
            )
        seg[col] = seg[col].astype(str)
    for col in ("start", "end"):
        values = pd.to_numeric(seg[col], errors="coerce")
        if values.isna().any():
            pos = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise ReliabilityError(
                f"segments row {pos + 2}, column '{col}': {seg[col].iloc[pos]!r} is not a "
                f"whole number (segment {seg['segment_id'].iloc[pos]!r})"
            )
        seg[col] = values.astype("int64")
    if "valence" in seg.columns:
        val = pd.to_numeric(seg["valence"], errors="coerce").astype("Float64")
        bad = val.notna() & ~val.isin([float(v) for v in VALENCES])
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
            raise ReliabilityError(
                f"segments row {pos + 2}, column 'valence': {seg['valence'].iloc[pos]} is "
                f"not one of -2, -1, 0, 1, 2 (segment {seg['segment_id'].iloc[pos]!r})"
            )
        seg["valence"] = val.astype("Int64")
    else:
        seg["valence"] = pd.array([pd.NA] * len(seg), dtype="Int64")
    if "criterion" not in seg.columns or seg["criterion"].isna().any():
        lookup = _criteria_of(seg["code"].unique())
        seg["criterion"] = seg["code"].map(lookup)
    seg["criterion"] = seg["criterion"].astype(str)
    return seg


@lru_cache(maxsize=1)
def _packaged_codebook():
    from .codebook import load_codebook

    return load_codebook()


def _criteria_of(codes) -> dict[str, str]:
    """Criterion of each code: from the packaged codebook, else the code's prefix."""
    cb = _packaged_codebook()
    out = {}
    for code in codes:
        prefix = code.split(".", 1)[0]
        if code in cb:
            out[code] = cb.criterion_of(code)
        elif prefix in CRITERIA:
            out[code] = prefix
        else:
            raise ReliabilityError(
                f"Cannot tell the criterion of code {code!r}: it is not in the codebook. Pass "
                "segments with a 'criterion' column (Project.segments has one)."
            )
    return out


def _check_unitizing(unitizing) -> str:
    if unitizing not in UNITIZING:
        raise ReliabilityError(f"unitizing must be 'exact' or 'overlap', got {unitizing!r}")
    return unitizing


def _character_runs(seg: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Split each source's coded text into runs of characters that every segment covers whole.

    The boundaries are every start and end on the source; between two consecutive boundaries
    each coder's codes and valences are constant, so a run stands for each of its characters
    (character-level agreement without one row per character). Runs that no segment covers
    are dropped. Returns the runs (``source_id``, ``start``, ``end``, ``weight`` = length,
    ``block`` = its bootstrap block), and for every
    segment-run pair the segment's row position and the run's index.
    """
    starts = seg[["source_id", "start"]].set_axis(["source_id", "pos"], axis=1)
    ends = seg[["source_id", "end"]].set_axis(["source_id", "pos"], axis=1)
    bounds = (
        pd.concat([starts, ends], ignore_index=True)
        .drop_duplicates()
        .sort_values(["source_id", "pos"], ignore_index=True)
    )
    index = pd.MultiIndex.from_frame(bounds)
    first = index.get_indexer(pd.MultiIndex.from_frame(starts))
    last = index.get_indexer(pd.MultiIndex.from_frame(ends))
    n_runs = np.maximum(last - first, 0)  # zero-length segments cover no character
    total = int(n_runs.sum())
    seg_pos = np.repeat(np.arange(len(seg)), n_runs)
    offsets = np.arange(total) - np.repeat(np.cumsum(n_runs) - n_runs, n_runs)
    run_of_pair = np.repeat(first, n_runs) + offsets
    covered, run_idx = np.unique(run_of_pair, return_inverse=True)
    pos = bounds["pos"].to_numpy()
    src = bounds["source_id"].to_numpy()
    runs = pd.DataFrame(
        {"source_id": src[covered], "start": pos[covered], "end": pos[covered + 1]}
    )
    runs["weight"] = (runs["end"] - runs["start"]).astype(float)
    # Bootstrap blocks: stretches of contiguous coded text (a new stretch wherever the previous
    # covered run is not the adjacent one), cut into pieces of about the median segment
    # length, so that densely coded text still gives many blocks (non-overlapping block
    # bootstrap; a piece starts at the first run that begins past the length).
    new_stretch = np.ones(len(covered), dtype=bool)
    new_stretch[1:] = covered[1:] != covered[:-1] + 1
    stretch = np.cumsum(new_stretch) - 1
    lengths = (seg["end"] - seg["start"]).to_numpy()
    block_len = max(float(np.median(lengths[lengths > 0])), 1.0) if (lengths > 0).any() else 1.0
    stretch_start = runs["start"].to_numpy()[new_stretch][stretch]
    piece = ((runs["start"].to_numpy() - stretch_start) // block_len).astype(np.int64)
    runs["block"] = pd.factorize(pd.MultiIndex.from_arrays([stretch, piece]))[0]
    runs.attrs["segment_length"] = block_len
    return runs, seg_pos, run_idx


class _Units:
    """Units, coders and per-code reliability matrices of a segments table.

    With ``unitizing="exact"`` a unit is a distinct span; with ``"overlap"`` a unit is a run
    of characters (weighted by its length) and bootstrap blocks are stretches of contiguous
    coded text.
    """

    def __init__(self, segments: pd.DataFrame, unitizing: str = "exact"):
        self.unitizing = _check_unitizing(unitizing)
        seg = _check_segments(segments)
        coders_per_source = seg.groupby("source_id")["coder"].nunique()
        multi = coders_per_source[coders_per_source >= 2].index
        self.all_coders = sorted(seg["coder"].unique())
        seg = seg[seg["source_id"].isin(multi)]
        seg = seg.sort_values(["segment_id"], kind="stable", ignore_index=True)
        self.segments = seg
        self.coders = sorted(seg["coder"].unique())
        coder_idx = pd.Index(self.coders).get_indexer(seg["coder"])
        if unitizing == "exact":
            units = (
                seg[["source_id", "start", "end"]]
                .drop_duplicates()
                .sort_values(["source_id", "start", "end"], ignore_index=True)
            )
            key = pd.MultiIndex.from_frame(units)
            seg = seg.assign(
                _u=key.get_indexer(pd.MultiIndex.from_frame(seg[["source_id", "start", "end"]])),
                _c=coder_idx,
            )
            self.weights = np.ones(len(units))
            self.characters = self.weights
            self.blocks = np.arange(len(units))
        else:
            runs, seg_pos, run_idx = _character_runs(seg)
            units = runs[["source_id", "start", "end"]]
            # one row per segment x run it covers, still in segment-ID order
            seg = seg.iloc[seg_pos].assign(_u=run_idx, _c=coder_idx[seg_pos])
            # Alpha weighs each run by its length in median segment lengths: the same
            # proportions as characters, but the finite-sample term of the expected
            # disagreement (n - 1) counts segment-sized judgements, not characters.
            self.characters = runs["weight"].to_numpy()
            self.weights = self.characters / runs.attrs["segment_length"]
            self.blocks = runs["block"].to_numpy()
        self.units = units
        self.n_units = len(units)
        self.n_blocks = int(self.blocks.max()) + 1 if len(self.blocks) else 0
        self.seg = seg
        # available[c, u]: coder c coded the source of unit u
        avail = np.zeros((len(self.coders), self.n_units), dtype=bool)
        src_of_unit = units["source_id"].to_numpy()
        for c, coder in enumerate(self.coders):
            sources = self.segments.loc[self.segments["coder"] == coder, "source_id"].unique()
            avail[c] = np.isin(src_of_unit, sources)
        self.available = avail
        codes = seg[["code", "criterion"]].drop_duplicates("code")
        order = {c: i for i, c in enumerate(CRITERIA)}
        codes = codes.assign(_o=codes["criterion"].map(lambda c: order.get(c, len(order))))
        self.codes = codes.sort_values(["_o", "code"], ignore_index=True)[["code", "criterion"]]

    @property
    def size(self) -> float:
        """Units counted as the tables report them: spans, or characters."""
        return float(self.characters.sum())

    def _arrays(self):
        """Integer coder, unit, code and criterion indices and valences of ``seg`` (cached)."""
        if not hasattr(self, "_cache"):
            seg = self.seg
            self._cache = {
                "c": seg["_c"].to_numpy(dtype=np.int64),
                "u": seg["_u"].to_numpy(dtype=np.int64),
                "code": pd.Index(self.codes["code"]).get_indexer(seg["code"]),
                "crit": pd.Index(pd.unique(self.codes["criterion"])).get_indexer(seg["criterion"]),
                "valence": seg["valence"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
                "matrices": {},
            }
        return self._cache

    def matrices(self, code: str) -> tuple[np.ndarray, np.ndarray]:
        """Presence (coders x units, NaN when unavailable) and valence of one code."""
        a = self._arrays()
        if code not in a["matrices"]:
            k = int(pd.Index(self.codes["code"]).get_loc(code))
            a["matrices"][code] = self._fill(np.flatnonzero(a["code"] == k))
        return a["matrices"][code]

    def criterion_matrices(self, criterion: str) -> np.ndarray:
        a = self._arrays()
        k = int(pd.Index(pd.unique(self.codes["criterion"])).get_loc(criterion))
        return self._fill(np.flatnonzero(a["crit"] == k))[0]

    def _fill(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Matrices from rows of ``seg`` (in segment-ID order: the first per coder x unit wins)."""
        a = self._arrays()
        c, u = a["c"][rows], a["u"][rows]
        _, first = np.unique(c * max(self.n_units, 1) + u, return_index=True)
        c, u, val = c[first], u[first], a["valence"][rows][first]
        presence = np.where(self.available, 0.0, np.nan)
        presence[c, u] = 1.0
        valence = np.full(presence.shape, np.nan)
        rated = ~np.isnan(val)
        valence[c[rated], u[rated]] = val[rated]
        return presence, valence


def _value_counts(matrix: np.ndarray, domain: Sequence) -> np.ndarray:
    """(units, values) counts from a coders x units matrix with NaN for missing."""
    return np.stack([(matrix == v).sum(axis=0) for v in domain], axis=1).astype(float)


def _pair_tables(
    presence: np.ndarray, weights: np.ndarray | None = None
) -> dict[tuple[int, int], np.ndarray]:
    """2x2 agreement table of every pair of coders over the units both coded.

    ``weights`` (one per unit, e.g. characters) weight the cells; default 1 per unit.
    """
    out = {}
    n_coders = presence.shape[0]
    for a in range(n_coders):
        for b in range(a + 1, n_coders):
            both = ~np.isnan(presence[a]) & ~np.isnan(presence[b])
            if not both.any():
                continue
            x, y = presence[a, both].astype(int), presence[b, both].astype(int)
            w = None if weights is None else weights[both]
            out[(a, b)] = np.bincount(x * 2 + y, weights=w, minlength=4).reshape(2, 2)
            out[(a, b)] = out[(a, b)].astype(float)
    return out


def _light_kappa(tables: dict) -> float:
    kappas = [cohen_kappa(t) for t in tables.values()]
    kappas = [k for k in kappas if np.isfinite(k)]
    return float(np.mean(kappas)) if kappas else math.nan


def reliability_data(segments: pd.DataFrame) -> pd.DataFrame:
    """The reliability data: each unit x code x coder, with presence and valence.

    Parameters
    ----------
    segments : DataFrame
        ``Project.segments`` (``segment_id``, ``source_id``, ``start``, ``end``, ``code``,
        ``coder``, optional ``valence`` and ``criterion``).

    Returns
    -------
    DataFrame
        One row per unit x code x coder who coded the unit's source, for every code applied
        at least once on a multi-coded source; sorted by source, span, code and coder:

        - ``source_id`` (str), ``start``, ``end`` (int): the unit
        - ``code``, ``criterion``, ``coder`` (str)
        - ``present`` (bool): the coder applied the code to this exact span
        - ``valence`` (Int64): the coder's valence for the code on the unit, NA if none
        - ``segment_id`` (str or NA): the coder's segment (the first by ID if duplicated)
    """
    return _reliability_data(_Units(segments))


def _reliability_data(units: _Units) -> pd.DataFrame:
    columns = [
        "source_id",
        "start",
        "end",
        "code",
        "criterion",
        "coder",
        "present",
        "valence",
        "segment_id",
    ]
    if units.n_units == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    u_idx, c_idx = np.nonzero(units.available.T)
    base = pd.DataFrame(
        {
            "source_id": units.units["source_id"].to_numpy()[u_idx],
            "start": units.units["start"].to_numpy()[u_idx],
            "end": units.units["end"].to_numpy()[u_idx],
            "_u": u_idx,
            "_c": c_idx,
            "coder": np.asarray(units.coders, dtype=object)[c_idx],
        }
    )
    grid = base.merge(units.codes, how="cross")
    applied = units.seg.drop_duplicates(["_c", "_u", "code"])[
        ["_u", "_c", "code", "valence", "segment_id"]
    ]
    out = grid.merge(applied, on=["_u", "_c", "code"], how="left")
    out["present"] = out["segment_id"].notna()
    out = out.sort_values(["source_id", "start", "end", "code", "coder"], ignore_index=True)
    out["valence"] = out["valence"].astype("Int64")
    return out[columns]


# --------------------------------------------------------------------------- code reliability
def _empty_result(first: str = "code") -> pd.DataFrame:
    cols = RESULT_COLUMNS if first == "code" else [c for c in RESULT_COLUMNS if c != "code"]
    dtypes = {
        "code": object,
        "criterion": object,
        "n_units": int,
        "n_coders": int,
        "below_threshold": bool,
        "n_present": int,
        "n_valence_units": int,
        "presence_below": bool,
        "valence_below": bool,
        "presence_verdict": object,
        "valence_verdict": object,
        "verdict": object,
        "unitizing": object,
    }
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, float)) for c in cols})


def _bootstrap_counts(n_units: int, n_boot: int, seed) -> np.ndarray:
    """(n_boot, n_units) multiplicities of units in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_units, size=(n_boot, n_units))
    flat = draws + (np.arange(n_boot) * n_units)[:, None]
    return np.bincount(flat.ravel(), minlength=n_boot * n_units).reshape(n_boot, n_units)


def _verdict(alpha: float) -> str:
    """Krippendorff's verdict on one alpha: reliable, tentative, unreliable or undefined."""
    if not np.isfinite(alpha):
        return "undefined"
    if alpha >= ALPHA_RELIABLE:
        return "reliable"
    if alpha >= ALPHA_TENTATIVE:
        return "tentative"
    return "unreliable"


def _worst(*verdicts: str) -> str:
    """The worst defined verdict ("undefined" only when every verdict is)."""
    defined = [v for v in verdicts if v != "undefined"]
    return min(defined, key=VERDICTS.index) if defined else "undefined"


class _Variable:
    """One reliability variable: a code, a criterion, or a pooled set.

    Coincidence matrices are kept per bootstrap block (a unit, or a stretch of coded text),
    weighted by the units' weights (1, or characters).
    """

    def __init__(self, presence_list, valence_list, units: _Units):
        w = units.weights
        self.units = units
        domain = [float(x) for x in VALENCES]
        nominal = [_value_counts(p, (0.0, 1.0)) for p in presence_list]
        ordinal = [_value_counts(v, domain) for v in valence_list]
        self.o_nominal = sum(self._block_coincidences(c) for c in nominal)
        self.o_ordinal = sum(self._block_coincidences(c) for c in ordinal)
        self.tables: dict = {}
        weights = None if units.unitizing == "exact" else w
        for p in presence_list:
            for pair, t in _pair_tables(p, weights).items():
                self.tables[pair] = self.tables.get(pair, 0) + t
        chars = units.characters
        self.n_present = float(
            sum(chars[(np.nan_to_num(p) == 1).any(axis=0)].sum() for p in presence_list)
        )
        self.n_valence_units = float(sum(chars[c.sum(axis=1) >= 2].sum() for c in ordinal))
        if units.unitizing == "exact":
            self.counts_nominal = np.concatenate(nominal)
            self.counts_ordinal = np.concatenate(ordinal)

    def _block_coincidences(self, counts: np.ndarray) -> np.ndarray:
        """Weighted coincidence matrices summed per bootstrap block, ``(blocks, V, V)``.

        Only pairable units (two values or more) contribute, so only they are computed.
        """
        units = self.units
        v = counts.shape[1]
        pairable = np.flatnonzero(counts.sum(axis=1) >= 2)
        out = np.zeros((units.n_blocks, v, v))
        if len(pairable) == 0:
            return out
        o = _coincidences(counts[pairable]) * units.weights[pairable, None, None]
        blocks = units.blocks[pairable]  # non-decreasing: blocks are numbered in unit order
        starts = np.flatnonzero(np.diff(blocks, prepend=-1))
        out[blocks[starts]] = np.add.reduceat(o, starts, axis=0)
        return out

    @classmethod
    def pooled(cls, variables: list[_Variable]) -> _Variable:
        """One variable pooling several (their coincidences, tables and counts add up)."""
        out = cls.__new__(cls)
        out.units = variables[0].units
        out.o_nominal = sum(v.o_nominal for v in variables)
        out.o_ordinal = sum(v.o_ordinal for v in variables)
        out.tables = {}
        for v in variables:
            for pair, t in v.tables.items():
                out.tables[pair] = out.tables.get(pair, 0) + t
        out.n_present = float(sum(v.n_present for v in variables))
        out.n_valence_units = float(sum(v.n_valence_units for v in variables))
        if out.units.unitizing == "exact":
            out.counts_nominal = np.concatenate([v.counts_nominal for v in variables])
            out.counts_ordinal = np.concatenate([v.counts_ordinal for v in variables])
        return out

    def alpha(self, level: str) -> float:
        """Point estimate: the ``krippendorff`` package on exact units, else the coincidences."""
        if self.units.unitizing == "exact":
            if level == "nominal":
                return krippendorff_alpha(
                    self.counts_nominal, level="nominal", value_domain=[0, 1]
                )
            return krippendorff_alpha(
                self.counts_ordinal, level="ordinal", value_domain=list(VALENCES)
            )
        o = self.o_nominal if level == "nominal" else self.o_ordinal
        return float(_alpha_from_coincidences(o.sum(axis=0), level))


def _summarise(var: _Variable, boot: np.ndarray | None, level: float, threshold: float) -> dict:
    a_nom = var.alpha("nominal")
    a_ord = var.alpha("ordinal")
    presence_below = bool(a_nom < threshold)
    valence_below = bool(a_ord < threshold)
    v_nom, v_ord = _verdict(a_nom), _verdict(a_ord)
    row = {
        "kappa": _light_kappa(var.tables),
        "alpha_nominal": a_nom,
        "alpha_ordinal": a_ord,
        "alpha_nominal_lower": math.nan,
        "alpha_nominal_upper": math.nan,
        "alpha_ordinal_lower": math.nan,
        "alpha_ordinal_upper": math.nan,
        "below_threshold": presence_below or valence_below,
        "n_present": var.n_present,
        "n_valence_units": var.n_valence_units,
        "presence_verdict": v_nom,
        "valence_verdict": v_ord,
        "verdict": _worst(v_nom, v_ord),
        "presence_below": presence_below,
        "valence_below": valence_below,
        "unitizing": var.units.unitizing,
    }
    if boot is not None:
        q = [(1 - level) / 2, (1 + level) / 2]
        for name, o, point in (
            ("nominal", var.o_nominal, a_nom),
            ("ordinal", var.o_ordinal, a_ord),
        ):
            if not np.isfinite(point):
                continue
            v = o.shape[-1]
            o_boot = (boot @ o.reshape(o.shape[0], -1)).reshape(-1, v, v)
            alphas = _alpha_from_coincidences(o_boot, name)
            alphas = alphas[np.isfinite(alphas)]
            if len(alphas):
                low, high = np.quantile(alphas, q)
                row[f"alpha_{name}_lower"] = float(low)
                row[f"alpha_{name}_upper"] = float(high)
    return row


def _check_options(n_boot, level, threshold, unitizing="exact") -> None:
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 0:
        raise ReliabilityError(f"n_boot must be a whole number >= 0, got {n_boot!r}")
    if not 0 < level < 1:
        raise ReliabilityError(f"level must be between 0 and 1, got {level!r}")
    if not 0 < threshold <= 1:
        raise ReliabilityError(f"threshold must be in (0, 1], got {threshold!r}")
    _check_unitizing(unitizing)


_INT_COLUMNS = ("n_units", "n_present", "n_valence_units")


def _finish(out: pd.DataFrame, units: _Units, columns: list[str]) -> pd.DataFrame:
    out["n_units"] = units.size
    out["n_coders"] = len(units.coders)
    out = out[columns].astype(
        {c: bool for c in ("below_threshold", "presence_below", "valence_below")}
    )
    for c in _INT_COLUMNS:
        if c in out.columns:
            out[c] = out[c].round().astype("int64")
    return out


def code_reliability(
    segments: pd.DataFrame,
    *,
    n_boot: int = N_BOOT_DEFAULT,
    seed: int | None = 0,
    level: float = 0.95,
    threshold: float = ALPHA_TENTATIVE,
    unitizing: str = "exact",
) -> pd.DataFrame:
    """Inter-coder agreement per code: Cohen's kappa and Krippendorff's alpha with intervals.

    Units, presence and valence are defined in the module docstring. The overall row (code
    ``"ALL"``, criterion ``"ALL"``) pools every unit x code pair as one presence variable and
    every unit x code valence pair as one valence variable.

    Parameters
    ----------
    segments : DataFrame
        ``Project.segments`` (all coders, not only the primary one).
    n_boot : int, default 1000 (:data:`N_BOOT_DEFAULT`)
        Bootstrap replicates (resampling units with replacement; 0 for no intervals). The same
        resamples serve every code, so the codes' intervals are comparable.
    seed : int or None, default 0
        Seed of the bootstrap; the same seed gives the same table.
    level : float, default 0.95
        Level of the percentile intervals.
    threshold : float, default 0.667
        ``presence_below`` / ``valence_below`` flag alphas under it.
    unitizing : {"exact", "overlap"}, default "exact"
        ``"exact"``: a unit is a distinct coded span, so spans that differ by one character
        are different units. ``"overlap"``: every character of the coded text of a
        multi-coded source is a unit (character-level agreement, as ATLAS.ti's and NVivo's
        coding comparisons); ``n_units``, ``n_present`` and ``n_valence_units`` then count
        characters, and the bootstrap resamples stretches of contiguous coded text.

    Returns
    -------
    DataFrame
        One row per code applied on a multi-coded source (criteria in C1..C4, AT order, codes
        sorted), then the ``"ALL"`` row; empty (with these columns) when fewer than two coders
        coded a common source:

        - ``code``, ``criterion`` (str)
        - ``n_units`` (int): units in the reliability data (every multi-coded span, or
          character); for the ``"ALL"`` row, unit x code pairs
        - ``n_coders`` (int): coders who coded at least one multi-coded source
        - ``kappa`` (float): Cohen's kappa on presence (two coders); with more coders the mean
          of the pairwise kappas (Light's kappa)
        - ``alpha_nominal`` (float): Krippendorff's alpha on presence, with
          ``alpha_nominal_lower`` / ``alpha_nominal_upper`` bootstrap percentile bounds
        - ``alpha_ordinal`` (float): Krippendorff's alpha (ordinal metric) on valence, over
          units where at least two coders applied the code with a valence, with
          ``alpha_ordinal_lower`` / ``alpha_ordinal_upper``; NaN when no such unit has two
          different valences anywhere (alpha is undefined without variation)
        - ``below_threshold`` (bool): presence *or* valence alpha below ``threshold``
          (``presence_below | valence_below``; NaN alphas are never below)
        - ``n_present`` (int): units where at least one coder applied the code
        - ``n_valence_units`` (int): units with at least two valences for the code
        - ``presence_verdict``, ``valence_verdict`` (str): Krippendorff's verdict on each
          alpha: ``"reliable"`` (>= 0.800), ``"tentative"`` (>= 0.667), ``"unreliable"``, or
          ``"undefined"`` (NaN alpha)
        - ``verdict`` (str): the worse of the two defined verdicts
        - ``presence_below``, ``valence_below`` (bool): which measure is below ``threshold``
        - ``unitizing`` (str): ``"exact"`` or ``"overlap"``

    Examples
    --------
    >>> segs = pd.DataFrame({"segment_id": ["a1", "a2", "b1"], "source_id": "S1",
    ...     "start": [0, 10, 0], "end": [5, 20, 5], "code": ["C1.patrol", "C2", "C1.patrol"],
    ...     "valence": [2, 1, 1], "coder": ["A", "A", "B"]})
    >>> code_reliability(segs, n_boot=0)[["code", "n_units", "kappa", "alpha_nominal"]]
            code  n_units  kappa  alpha_nominal
    0  C1.patrol        2    1.0       1.000000
    1         C2        2    0.0       0.000000
    2        ALL        4    0.5       0.533333
    """
    _check_options(n_boot, level, threshold, unitizing)
    units = _Units(segments, unitizing)
    return _code_table(units, n_boot, seed, level, threshold)


def _code_table(units: _Units, n_boot, seed, level, threshold) -> pd.DataFrame:
    if len(units.coders) < 2 or units.n_units == 0:
        return _empty_result()
    boot = _bootstrap_counts(units.n_blocks, n_boot, seed).astype(float) if n_boot else None
    rows = []
    variables = []
    for code, criterion in units.codes.itertuples(index=False):
        var = _Variable(*([m] for m in units.matrices(code)), units)
        variables.append(var)
        row = {"code": code, "criterion": criterion}
        row.update(_summarise(var, boot, level, threshold))
        rows.append(row)
    row = {"code": "ALL", "criterion": "ALL"}
    row.update(_summarise(_Variable.pooled(variables), boot, level, threshold))
    rows.append(row)
    out = _finish(pd.DataFrame(rows), units, RESULT_COLUMNS)
    out.loc[out["code"] == "ALL", "n_units"] = round(units.size * len(units.codes))
    return out


def criterion_reliability(
    segments: pd.DataFrame,
    *,
    n_boot: int = N_BOOT_DEFAULT,
    seed: int | None = 0,
    level: float = 0.95,
    threshold: float = ALPHA_TENTATIVE,
    unitizing: str = "exact",
) -> pd.DataFrame:
    """Inter-coder agreement per criterion.

    Presence is "the coder applied at least one code of the criterion to the unit", so coders
    who chose different sub-codes of the same criterion agree here. Valence agreement pools the
    criterion's codes: every unit x code of the criterion is one valence unit. Parameters and
    columns are those of :func:`code_reliability`, without ``code`` and without the overall
    row; ``n_units`` counts units (presence), ``n_valence_units`` unit x code pairs.
    """
    _check_options(n_boot, level, threshold, unitizing)
    units = _Units(segments, unitizing)
    return _criterion_table(units, n_boot, seed, level, threshold)


def _criterion_table(units: _Units, n_boot, seed, level, threshold) -> pd.DataFrame:
    if len(units.coders) < 2 or units.n_units == 0:
        return _empty_result(first="criterion")
    boot = _bootstrap_counts(units.n_blocks, n_boot, seed).astype(float) if n_boot else None
    rows = []
    for criterion, codes in units.codes.groupby("criterion", sort=False):
        presence = units.criterion_matrices(criterion)
        valences = [units.matrices(code)[1] for code in codes["code"]]
        var = _Variable([presence], valences, units)
        row = {"criterion": criterion}
        row.update(_summarise(var, boot, level, threshold))
        rows.append(row)
    return _finish(pd.DataFrame(rows), units, [c for c in RESULT_COLUMNS if c != "code"])


GATE_COLUMNS = [
    "criterion",
    "code",
    "measure",
    "alpha",
    "below_threshold",
    "verdict",
    "n_units",
    "unitizing",
    "warn",
]


def scoring_gate(
    segments: pd.DataFrame,
    *,
    threshold: float = ALPHA_TENTATIVE,
    unitizing: str = GATE_UNITIZING,
) -> pd.DataFrame:
    """The agreement figures a rating depends on, for the scoring's reliability warnings.

    Ratings are built from which codes were applied (presence) *and* from their valences, so
    both are checked, per code and per criterion: Krippendorff's nominal alpha on presence
    and ordinal alpha on valence.

    Parameters
    ----------
    segments : DataFrame
        ``Project.segments`` (all coders).
    threshold : float, default 0.667
        ``below_threshold`` marks alphas under it (NaN alphas are never below).
    unitizing : {"exact", "overlap"}, default "overlap" (:data:`GATE_UNITIZING`)
        How units are formed (see :func:`code_reliability`). Overlap by default: a rating
        does not change when two coders put the same code on spans a few characters apart,
        so the gate should not fail them for it (docs/reliability-and-surveys.md, section 5).

    Returns
    -------
    DataFrame
        One row per measured figure, empty when fewer than two coders coded a common source.
        Rows: presence per code, valence per code, then presence and valence per criterion:

        - ``criterion`` (str): C1..C4, AT
        - ``code`` (str): the code, or ``""`` for criterion-level rows (all of the
          criterion's codes: presence of any of them, their valences pooled)
        - ``measure`` (str): ``"presence"`` (nominal alpha) or ``"valence"`` (ordinal alpha)
        - ``alpha`` (float)
        - ``below_threshold`` (bool)
        - ``verdict`` (str): ``"reliable"``, ``"tentative"``, ``"unreliable"``, ``"undefined"``
        - ``n_units`` (int): units (spans, or characters with ``"overlap"``) behind the alpha:
          units where a coder applied the code (presence) or with two valences (valence)
        - ``unitizing`` (str)
        - ``warn`` (bool): the figure is below ``threshold`` *and* measures what a rating is
          built from, so ratings resting on it should carry a warning: presence per code and
          per criterion, valence per criterion. Valence per code never warns on its own: a
          code's valences span a narrow range (obstacle codes -2..-1), which makes chance
          agreement high and its alpha low even when coders are one step apart; the rating
          averages the criterion's valences, whose agreement the criterion row measures.
    """
    _check_options(0, 0.95, threshold, unitizing)
    units = _Units(segments, unitizing)
    by_code = _code_table(units, 0, None, 0.95, threshold)
    if by_code.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GATE_COLUMNS}).astype(
            {"alpha": float, "below_threshold": bool, "n_units": "int64", "warn": bool}
        )
    by_code = by_code[by_code["code"] != "ALL"]
    by_criterion = _criterion_table(units, 0, None, 0.95, threshold)
    parts = []
    for table, code in ((by_code, by_code["code"].astype(str)), (by_criterion, "")):
        for measure, alpha, n in (
            ("presence", "alpha_nominal", "n_present"),
            ("valence", "alpha_ordinal", "n_valence_units"),
        ):
            parts.append(
                pd.DataFrame(
                    {
                        "criterion": table["criterion"].astype(str),
                        "code": code,
                        "measure": measure,
                        "alpha": table[alpha].astype(float),
                        "n_units": table[n].astype("int64"),
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    out["below_threshold"] = (out["alpha"] < threshold).fillna(False).astype(bool)
    out["verdict"] = [_verdict(a) for a in out["alpha"]]
    out["unitizing"] = unitizing
    per_code_valence = (out["measure"] == "valence") & (out["code"] != "")
    out["warn"] = out["below_threshold"] & ~per_code_valence
    return out[GATE_COLUMNS]


# --------------------------------------------------------------------------- disagreements
def disagreements(segments: pd.DataFrame) -> pd.DataFrame:
    """Every unit x code on which the coders of the unit's source disagree.

    A **presence** disagreement: some coders applied the code to the span and others (who
    coded the source) did not. A **valence** disagreement: every coder applied the code but
    their valences differ (a missing valence counts as different from a given one).

    Parameters
    ----------
    segments : DataFrame
        ``Project.segments``.

    Returns
    -------
    DataFrame
        One row per disagreement, sorted by source, span and code:

        - ``unit`` (str): ``"source_id[start:end]"``
        - ``source_id`` (str), ``start``, ``end`` (int), ``code``, ``criterion`` (str)
        - ``kind`` (str): ``"presence"`` or ``"valence"``
        - ``present_<coder>`` (boolean): one column per coder; NA when the coder did not code
          the source
        - ``valence_<coder>`` (Int64): one column per coder; NA when none was given
        - ``segment_ids`` (tuple of str): the segments of this code on this span
        - ``overlapping_segment_ids`` (tuple of str): segments with the same code by the
          coders who did not apply it to this exact span, overlapping it (a boundary
          disagreement rather than a substantive one)
    """
    units = _Units(segments)
    data = _reliability_data(units)
    coders = units.coders
    base_cols = ["unit", "source_id", "start", "end", "code", "criterion", "kind"]
    coder_cols = [f"present_{c}" for c in coders] + [f"valence_{c}" for c in coders]
    columns = base_cols + coder_cols + ["segment_ids", "overlapping_segment_ids"]
    if data.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    keys = ["source_id", "start", "end", "code", "criterion"]
    flags = data[keys].assign(
        present=data["present"].astype(int), val_missing=data["valence"].isna().astype(int)
    )
    summary = (
        flags.groupby(keys, sort=True)
        .agg(
            n_present=("present", "sum"),
            n_coders=("present", "size"),
            n_val_missing=("val_missing", "sum"),
        )
        .reset_index()
    )
    distinct = (
        data.loc[data["valence"].notna(), [*keys, "valence"]]
        .drop_duplicates()
        .groupby(keys)
        .size()
        .rename("n_val")
    )
    summary = summary.merge(distinct.reset_index(), on=keys, how="left")
    summary["n_val"] = summary["n_val"].fillna(0).astype(int)
    presence_dis = (summary["n_present"] > 0) & (summary["n_present"] < summary["n_coders"])
    all_present = summary["n_present"] == summary["n_coders"]
    valence_dis = all_present & (
        (summary["n_val"] > 1) | ((summary["n_val"] >= 1) & (summary["n_val_missing"] > 0))
    )
    summary["kind"] = np.where(presence_dis, "presence", np.where(valence_dis, "valence", ""))
    summary = summary[summary["kind"] != ""]
    if summary.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    sel = data.merge(summary[[*keys, "kind"]], on=keys, how="inner")
    wide = sel.set_index([*keys, "coder"])
    present = wide["present"].unstack("coder")
    valence = wide["valence"].astype("Float64").unstack("coder")
    ids = sel[sel["present"]].groupby(keys)["segment_id"].agg(lambda s: tuple(sorted(s)))
    out = summary[[*keys, "kind"]].set_index(keys)
    for c in coders:
        col = present[c] if c in present.columns else pd.Series(pd.NA, index=present.index)
        out[f"present_{c}"] = col.reindex(out.index).astype("boolean")
    for c in coders:
        col = valence[c] if c in valence.columns else pd.Series(pd.NA, index=valence.index)
        out[f"valence_{c}"] = (
            pd.to_numeric(col.reindex(out.index)).astype("Float64").astype("Int64")
        )
    out["segment_ids"] = ids.reindex(out.index)
    out = out.reset_index()
    out.insert(
        0,
        "unit",
        out["source_id"] + "[" + out["start"].astype(str) + ":" + out["end"].astype(str) + "]",
    )
    out["overlapping_segment_ids"] = _overlaps(out, units.seg, coders)
    return out[columns].sort_values(["source_id", "start", "end", "code"], ignore_index=True)


def _overlaps(rows: pd.DataFrame, seg: pd.DataFrame, coders: list[str]) -> list[tuple]:
    """Segments of the same code, by coders absent from a presence disagreement, overlapping it."""
    by_key = dict(tuple(seg.groupby(["source_id", "code"])))
    result = []
    for r in rows.to_dict("records"):
        absent = [
            c
            for c in coders
            if r["kind"] == "presence"
            and r[f"present_{c}"] is not pd.NA
            and not bool(r[f"present_{c}"])
        ]
        cand = by_key.get((r["source_id"], r["code"]))
        if cand is None or not absent:
            result.append(())
            continue
        hit = cand[
            cand["coder"].isin(absent) & (cand["start"] < r["end"]) & (cand["end"] > r["start"])
        ]
        result.append(tuple(sorted(hit["segment_id"])))
    return result
