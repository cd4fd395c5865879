"""Scoring parameters: one validated set, with every default in one place.

:class:`ScoringParams` is what :func:`copeval.scoring.score_sites`, the CLI and the reports
pass around. It is validated once, when it is built; every module that needs a default
(the qualitative weight 0.6, the 90 % interval, ...) imports it from here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from numbers import Integral, Real

from .errors import ScoringError

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_CI",
    "DEFAULT_DRAWS",
    "DEFAULT_SEED",
    "DEFAULT_WEIGHT",
    "INTERVAL_METHODS",
    "ScoringParams",
]

#: Default weight of the qualitative component in the combined rating (docs/method.md §4).
DEFAULT_WEIGHT = 0.6
#: Default coverage of the intervals.
DEFAULT_CI = 0.9
#: Default number of draws (posterior draws of the comparison model, or bootstrap replicates).
DEFAULT_DRAWS = 2000
#: Default random seed.
DEFAULT_SEED = 0
#: How strata are combined: "strata" (equal voice per stratum) or "pooled" (sources pooled).
AGGREGATIONS = ("strata", "pooled")
#: "model": variance components estimated across the project's sites, analytic standard
#: errors, t intervals (the default, docs/method.md §5); "bootstrap": the former stratified
#: bootstrap percentile intervals (kept for comparison; it is too narrow).
INTERVAL_METHODS = ("model", "bootstrap")


def _number01(value, name: str, *, closed: bool) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, Real)
        and math.isfinite(value)
        and (0 <= value <= 1 if closed else 0 < value < 1)
    )
    if not ok:
        bounds = "between 0 and 1" if closed else "strictly between 0 and 1 (e.g. 0.9)"
        raise ScoringError(f"{name} must be a number {bounds}, got {value!r}")
    return float(value)


def _integer(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ScoringError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class ScoringParams:
    """Every option of a scoring run, validated when built.

    Attributes
    ----------
    weight : float
        Weight of the qualitative component in the combined rating, 0..1 (default 0.6).
    ci : float
        Coverage of the intervals, strictly between 0 and 1 (default 0.9).
    seed : int
        Seed of every random draw (>= 0).
    draws : int
        Draws behind the pairwise and rank probabilities (posterior draws of the comparison
        model) or bootstrap replicates (``interval_method="bootstrap"``), >= 1.
    interval_method : {"model", "bootstrap"}
        ``"model"`` (default): variance components across the project's sites, analytic
        standard errors, t intervals. ``"bootstrap"``: the former stratified bootstrap.
    aggregation : {"strata", "pooled"}
        How strata are combined in the qualitative score.
    source_means : bool
        Average segments within each source first (default True).
    n_jobs : int or None
        Threads for the bootstrap (None = 1, -1 = all cores); results do not depend on it.

    Examples
    --------
    >>> ScoringParams(weight=0.5).ci
    0.9
    >>> ScoringParams(weight=1.5)
    Traceback (most recent call last):
    ...
    copeval.errors.ScoringError: weight must be a number between 0 and 1, got 1.5
    """

    weight: float = DEFAULT_WEIGHT
    ci: float = DEFAULT_CI
    seed: int = DEFAULT_SEED
    draws: int = DEFAULT_DRAWS
    interval_method: str = "model"
    aggregation: str = "strata"
    source_means: bool = True
    n_jobs: int | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "weight", _number01(self.weight, "weight", closed=True))
        set_(self, "ci", _number01(self.ci, "ci", closed=False))
        set_(self, "seed", _integer(self.seed, "seed", 0))
        set_(self, "draws", _integer(self.draws, "draws", 1))
        if self.interval_method not in INTERVAL_METHODS:
            raise ScoringError(
                f"interval_method must be one of {', '.join(INTERVAL_METHODS)}, "
                f"got {self.interval_method!r}"
            )
        if self.aggregation not in AGGREGATIONS:
            raise ScoringError(
                f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {self.aggregation!r}"
            )
        if not isinstance(self.source_means, (bool, Integral)):
            raise ScoringError(f"source_means must be True or False, got {self.source_means!r}")
        set_(self, "source_means", bool(self.source_means))
        n = self.n_jobs
        if n is not None and (isinstance(n, bool) or not isinstance(n, Integral) or n == 0):
            raise ScoringError(f"n_jobs must be a positive integer, -1 or None, got {n!r}")

    def replace(self, **changes) -> ScoringParams:
        """A copy with some fields changed (validated again)."""
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ScoringError(
                f"unknown scoring parameter(s) {', '.join(sorted(unknown))}; "
                f"expected {', '.join(asdict(self))}"
            )
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)
