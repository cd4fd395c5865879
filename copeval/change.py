"""Change between evaluation rounds, with honest intervals.

A project with rounds (``datapackage.json`` ``copeval.rounds``, docs/data-model.md) is scored
round by round (:func:`copeval.scoring.score_rounds`) on one set of variance components
estimated across all its rounds. The change of a rating between two rounds is the
difference of the two ratings; its variance follows from the same components model
(docs/method.md, "Change between rounds")::

    Var(Q2 - Q1) = sigma_u^2 (A_u1 + A_u2 - 2 rho_u sum_g W_1g W_2g)
                 + sigma_b^2 (A_b1 + A_b2 - 2 rho_b sum_pairs omega_j1 omega_j2)
                 + sigma_e^2 (A_e1 + A_e2)

where ``A_u = sum_g W_g^2``, ``A_b = sum_j omega_j^2`` and ``A_e = sum_j omega_j^2 / n_j`` are
the design coefficients of each round's rating, ``rho_u`` the between-round correlation of
site-specific stratum deviations (estimated across sites from the residuals of the
additive fit in both rounds, moderated by a prior) and ``rho_b`` the correlation of the
source effects of a re-interviewed source (``panel_id``), estimated likewise. Survey
scores add the linearised covariance of sampling units present in both rounds (panel
respondents with the same ``respondent_id``, or the same sampling clusters). Intervals are
t intervals (Satterthwaite df) of the measured change.

``p_improved``, ``p_worsened`` and ``p_unchanged`` judge each change together with the
project's other changes (:func:`posterior_change`): a mixture of "no change" and a normal
spread of changes, its weights, mean and spread integrated over documented hyperpriors
(:class:`ChangePrior`), per criterion. A flat prior would make ``p_improved`` a one-sided
p-value, wrong one time in ten for every rating that did not change. The interval leaves 0
out only when the probability of that side reaches ``(1 + ci) / 2`` (docs/method.md, "Change
between rounds": the consistency rule); ``change_prior="flat"`` gives the flat-prior test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import scoring as _scoring
from . import uncertainty as _unc
from .errors import ScoringError
from .params import ScoringParams
from .vocabulary import CRITERIA

__all__ = [
    "CHANGE_COLUMNS",
    "CHANGE_PRIOR",
    "DIRECTION_THRESHOLD",
    "PERSISTENCE_PRIORS",
    "ChangePrior",
    "ChangeResult",
    "Persistence",
    "estimate_change",
    "posterior_change",
    "project_change",
]

_KEYS = ["site_id", "criterion"]
_CELL = ["site_id", "criterion", "stratum"]

#: Prior guesses of the between-round correlations, each worth 4 effective cells (stratum)
#: or pairs (source); docs/method.md "Change between rounds" says why.
PERSISTENCE_PRIORS = {"stratum": _unc.Prior(0.5, 4.0), "source": _unc.Prior(0.5, 4.0)}
#: Upper bound of an estimated correlation (a correlation of 1 would let a change of a
#: re-measured site have no stratum or source variance at all).
RHO_MAX = 0.9
#: ``p_improved`` (``p_worsened``) at or above which ``direction`` says improved (worsened).
DIRECTION_THRESHOLD = 0.9

#: Columns of the change table, in order.
CHANGE_COLUMNS = (
    "site_id",
    "criterion",
    "round_from",
    "round_to",
    "score_from",
    "score_to",
    "change",
    "lower",
    "upper",
    "se",
    "df",
    "p_improved",
    "p_worsened",
    "p_unchanged",
    "direction",
    "qual_change",
    "qual_lower",
    "qual_upper",
    "survey_change",
    "survey_lower",
    "survey_upper",
    "basis_from",
    "basis_to",
    "pairing",
    "n_paired_sources",
    "n_paired_units",
    "insufficient_evidence",
    "capped",
    "thin_evidence",
    "low_reliability",
    "no_evidence",
    "basis_changed",
)


@dataclass(frozen=True)
class Persistence:
    """Between-round correlations used for the covariance of two rounds' ratings.

    ``rho`` holds the moderated values, ``raw`` the moment estimates (NaN when nothing
    informs them) and ``n_eff`` the effective number of cells or pairs behind them.
    """

    rho: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    n_eff: dict = field(default_factory=dict)

    def as_frame(self) -> pd.DataFrame:
        names = ("stratum", "source")
        return pd.DataFrame(
            {
                "component": names,
                "rho": [self.rho[n] for n in names],
                "raw": [self.raw[n] for n in names],
                "n_eff": [self.n_eff[n] for n in names],
            }
        )


@dataclass
class ChangeResult:
    """The change table and what it was computed from.

    ``table`` has the columns of :data:`CHANGE_COLUMNS`, one row per site x criterion;
    ``scores`` the two rounds' :class:`~copeval.scoring.ScoreResult`; ``components`` the
    variance components (all rounds) and ``persistence`` the correlations used.
    """

    table: pd.DataFrame
    scores: dict
    components: _unc.Components | None
    persistence: Persistence
    round_from: str
    round_to: str
    #: The measurement behind each change (``site_id, criterion, center, se, df``: the
    #: uncapped difference, its standard error and df) with the flat-prior interval and
    #: probability (``flat_lower, flat_upper, flat_p_improved``).
    measurement: pd.DataFrame | None = None
    #: What the project's changes say about their distribution (posterior means of the share
    #: of unchanged ratings, the mean and SD of the others; ``None`` with a flat prior).
    change_fit: dict | None = None


# --------------------------------------------------------------------------- weights
def _design(src: pd.DataFrame, p: ScoringParams) -> pd.DataFrame:
    """Source weights ``omega`` and stratum weights ``W`` of every source in ``src`` (one
    round's :func:`copeval.uncertainty.source_table`), as in
    :func:`copeval.uncertainty.qualitative_variance`."""
    b = np.ones(len(src)) if p.source_means else src["n"].to_numpy(dtype=float)
    src = src.assign(_b=b)
    B_g = src.groupby(_CELL, sort=False)["_b"].transform("sum")
    if p.aggregation == "pooled":
        omega = src["_b"] / src.groupby(_KEYS, sort=False)["_b"].transform("sum")
    else:
        G = src.groupby(_KEYS, sort=False)["stratum"].transform("nunique")
        omega = src["_b"] / (G * B_g)
    src = src.assign(omega=omega)
    src["W"] = src.groupby(_CELL, sort=False)["omega"].transform("sum")
    return src


def _coefficients(src: pd.DataFrame) -> pd.DataFrame:
    """``A_u, A_b, A_e`` per site x criterion."""
    cell = src.groupby(_CELL, sort=False)["W"].first().pow(2)
    a_u = cell.groupby(level=[0, 1], sort=False).sum().rename("A_u")
    per = src.assign(_w2=src["omega"] ** 2, _w2n=src["omega"] ** 2 / src["n"])
    ab = per.groupby(_KEYS, sort=False).agg(A_b=("_w2", "sum"), A_e=("_w2n", "sum"))
    return ab.join(a_u)


# --------------------------------------------------------------------------- persistence
def _additive_residuals(cells: pd.DataFrame, y_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Residuals and leverages of ``y = a_site + d_stratum`` (least squares, one criterion)."""
    site_code, _ = pd.factorize(cells["site_id"])
    strat_code, strata = pd.factorize(cells["stratum"])
    n = len(cells)
    n_site = np.bincount(site_code)
    y = cells[y_col].to_numpy(dtype=float)
    y_dm = y - (np.bincount(site_code, weights=y) / n_site)[site_code]
    X = np.zeros((n, len(strata)))
    X[np.arange(n), strat_code] = 1.0
    means = np.stack(
        [np.bincount(site_code, weights=X[:, k]) / n_site for k in range(X.shape[1])], axis=1
    )
    Z = X - means[site_code]
    pinv = np.linalg.pinv(Z.T @ Z, rcond=1e-10)
    resid = y_dm - Z @ (pinv @ (Z.T @ y_dm))
    lev = 1.0 / n_site[site_code] + np.einsum("ij,jk,ik->i", Z, pinv, Z)
    return resid, np.clip(1.0 - lev, 0.0, 1.0)


def _moderate_rho(raw: float, n_eff: float, prior: _unc.Prior) -> float:
    if not np.isfinite(raw) or n_eff <= 0:
        return float(prior.s2)
    rho = (prior.d0 * prior.s2 + n_eff * raw) / (prior.d0 + n_eff)
    return float(np.clip(rho, 0.0, RHO_MAX))


def estimate_persistence(
    src1: pd.DataFrame, src2: pd.DataFrame, comps: _unc.Components, priors: dict | None = None
) -> Persistence:
    """Between-round correlations of source effects (re-interviewed sources) and of
    site-specific stratum deviations, estimated across all sites (docs/method.md)."""
    priors = {**PERSISTENCE_PRIORS, **(priors or {})}
    s2u, s2b, s2e = (comps.sigma2[k] for k in ("stratum", "source", "segment"))
    raw, n_eff, rho = {}, {}, {}
    cell_cols = ["J", "M", "inv_n"]
    c1 = (
        src1.assign(inv_n=1.0 / src1["n"])
        .groupby(_CELL)
        .agg(J=("m", "size"), M=("m", "mean"), inv_n=("inv_n", "mean"))
    )
    c2 = (
        src2.assign(inv_n=1.0 / src2["n"])
        .groupby(_CELL)
        .agg(J=("m", "size"), M=("m", "mean"), inv_n=("inv_n", "mean"))
    )
    common = c1[cell_cols].add_suffix("1").join(c2[cell_cols].add_suffix("2"), how="inner")
    # source effects: pairs of the same panel member in the same cell
    pairs = _pairs(src1, src2)
    pairs = pairs.merge(common.reset_index(), on=_CELL, how="inner")
    pairs = pairs[(pairs["J1"] >= 2) & (pairs["J2"] >= 2)]
    p_count = pairs.groupby(_CELL).size()
    if len(pairs) and s2b > 0:
        P = p_count.reindex(pd.MultiIndex.from_frame(pairs[_CELL])).to_numpy()
        c = 1 - 1 / pairs["J1"] - 1 / pairs["J2"] + P / (pairs["J1"] * pairs["J2"])
        prod = (pairs["m1"] - pairs["M1"]) * (pairs["m2"] - pairs["M2"])
        raw["source"] = float(prod.sum() / (s2b * c.sum())) if c.sum() > 0 else float("nan")
        n_bar = float(np.sqrt(pairs["n1"] * pairs["n2"]).mean())
        rel = s2b / (s2b + s2e / n_bar)
        n_eff["source"] = float(c.sum() * rel**2)
    else:
        raw["source"], n_eff["source"] = float("nan"), 0.0
    rho["source"] = _moderate_rho(raw["source"], n_eff["source"], priors["source"])
    # stratum deviations: residuals of the additive fit, both rounds, common cells
    num = dof = info = 0.0
    cells = common.reset_index()
    pc = p_count.reindex(pd.MultiIndex.from_frame(cells[_CELL])).fillna(0).to_numpy()
    cells["known"] = rho["source"] * s2b * pc / (cells["J1"] * cells["J2"])
    cells["v"] = np.sqrt(
        (s2b + s2e * cells["inv_n1"]) / cells["J1"] * (s2b + s2e * cells["inv_n2"]) / cells["J2"]
    )
    for _, sub in cells.groupby("criterion", sort=False):
        if sub["site_id"].nunique() < 2 and sub["stratum"].nunique() < 2:
            continue
        r1, w = _additive_residuals(sub, "M1")
        r2, _ = _additive_residuals(sub, "M2")
        num += float(r1 @ r2) - float(w @ sub["known"].to_numpy())
        dof += float(w.sum())
        if s2u > 0:
            info += float(w @ (s2u / (s2u + sub["v"].to_numpy())) ** 2)
    if dof > 0.5 and s2u > 0:
        raw["stratum"] = num / dof / s2u
        n_eff["stratum"] = info
    else:
        raw["stratum"], n_eff["stratum"] = float("nan"), 0.0
    rho["stratum"] = _moderate_rho(raw["stratum"], n_eff["stratum"], priors["stratum"])
    return Persistence(rho=rho, raw=raw, n_eff=n_eff)


def _pairs(src1: pd.DataFrame, src2: pd.DataFrame) -> pd.DataFrame:
    """Sources of the two rounds with the same ``panel_id`` in the same cell."""
    cols = [*_CELL, "panel_id", "m", "n"]
    a = src1[src1["panel_id"].notna()][cols + (["omega"] if "omega" in src1 else [])]
    b = src2[src2["panel_id"].notna()][cols + (["omega"] if "omega" in src2 else [])]
    return a.merge(b, on=[*_CELL, "panel_id"], suffixes=("1", "2"))


# --------------------------------------------------------------------------- survey
def _survey_linearised(r: pd.DataFrame) -> pd.DataFrame:
    """``z_h`` of every sampling unit per site x criterion x instrument, with stable unit
    keys (the cluster where the site x instrument has two or more, else the respondent)."""
    r = r.copy()
    has = r["cluster"].notna()
    ncl = r[has].groupby(["site_id", "instrument"])["cluster"].nunique().rename("_ncl")
    r = r.join(ncl, on=["site_id", "instrument"])
    use = has & (r["_ncl"].fillna(0) >= 2)
    r["_unit"] = np.where(
        use, "c:" + r["cluster"].astype(str), "r:" + r["respondent_id"].astype(str)
    )
    r["_wx"] = r["weight"] * r["score"]
    inst = ["site_id", "criterion", "instrument"]
    u = r.groupby([*inst, "_unit"], sort=False).agg(a=("_wx", "sum"), b=("weight", "sum"))
    u = u.reset_index()
    tot = u.groupby(inst, sort=False).agg(A=("a", "sum"), B=("b", "sum"), G=("a", "size"))
    u = u.join(tot, on=inst)
    u["z"] = (u["a"] - u["A"] / u["B"] * u["b"]) / u["B"]
    return u


def _survey_covariance(r1, r2) -> pd.DataFrame:
    """Covariance of the two rounds' survey scores per site x criterion (units present in
    both rounds), with the number of such units."""
    empty = pd.DataFrame(columns=[*_KEYS, "cov_s", "n_paired_units", "clusters"])
    if r1 is None or r2 is None or not len(r1) or not len(r2):
        return empty
    u1, u2 = _survey_linearised(r1), _survey_linearised(r2)
    inst = ["site_id", "criterion", "instrument"]
    T1 = u1.groupby(_KEYS)["instrument"].nunique().rename("T1")
    T2 = u2.groupby(_KEYS)["instrument"].nunique().rename("T2")
    m = u1.merge(u2, on=[*inst, "_unit"], suffixes=("1", "2"))
    m = m[(m["G1"] >= 2) & (m["G2"] >= 2)]
    if not len(m):
        return empty
    m["prod"] = m["z1"] * m["z2"] * np.sqrt(m["G1"] / (m["G1"] - 1) * m["G2"] / (m["G2"] - 1))
    m["_cl"] = m["_unit"].str.startswith("c:")
    per = m.groupby(_KEYS).agg(
        c=("prod", "sum"), n_paired_units=("prod", "size"), clusters=("_cl", "any")
    )
    per = per.join(T1).join(T2)
    per["cov_s"] = per["c"] / (per["T1"] * per["T2"])
    return per.reset_index()[[*_KEYS, "cov_s", "n_paired_units", "clusters"]]


# --------------------------------------------------------------------------- change
def _split(frame: pd.DataFrame | None, rnd: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    sub = frame[frame["round"].astype(str) == rnd]
    return sub if len(sub) else None


def estimate_change(
    evidence: pd.DataFrame | None,
    respondents: pd.DataFrame | None = None,
    *,
    round_from: str,
    round_to: str,
    sites=None,
    params: ScoringParams | None = None,
    reliability: pd.DataFrame | None = None,
    priors: dict | None = None,
    change_prior: ChangePrior | str | None = None,
) -> ChangeResult:
    """Change of every rating between two rounds (the DataFrame-level entry point).

    ``evidence`` is coded evidence as for :func:`copeval.scoring.score_evidence` plus a
    ``round`` column and, optionally, ``panel_id`` (the same interviewee re-interviewed in
    another round); ``respondents`` respondent scores plus ``round`` (the same
    ``respondent_id`` of an instrument in both rounds is a panel respondent). Components
    are estimated across all the rounds present. ``change_prior``: the hyperpriors of the
    distribution of true changes (:class:`ChangePrior`, default :data:`CHANGE_PRIOR`), or
    ``"flat"`` for the flat-prior t interval and one-sided probability (each rating judged
    alone, as a test; ``p_unchanged`` is then 0). Returns a :class:`ChangeResult`.
    """
    if isinstance(change_prior, str) and change_prior != "flat":
        raise ScoringError(f"change_prior must be a ChangePrior or 'flat', not {change_prior!r}")
    p = params if params is not None else ScoringParams()
    if p.interval_method != "model":
        raise ScoringError("change intervals need interval_method='model'")
    rf, rt = str(round_from), str(round_to)
    if rf == rt:
        raise ScoringError(f"--from and --to name the same round ({rf!r})")
    ev_all = None
    if evidence is not None and len(evidence):
        ev_all = evidence.copy()
        ev_all["round"] = ev_all["round"].astype(str)
        if "panel_id" not in ev_all.columns:
            ev_all["panel_id"] = None
    comps = None
    if ev_all is not None:
        comps = _unc.estimate_components(_scoring._prepare_evidence(_scoring._round_key(ev_all)))
    scores, src = {}, {}
    for rnd in (rf, rt):
        ev = _split(ev_all, rnd)
        r = _split(respondents, rnd)
        if ev is None and r is None:
            raise ScoringError(f"round {rnd!r} has no coded evidence and no survey scores")
        ev_r = ev.drop(columns=["round", "panel_id"]) if ev is not None else None
        r_r = r.drop(columns="round") if r is not None else None
        scores[rnd] = _scoring.score_evidence(
            ev_r, r_r, sites=sites, reliability=reliability, params=p, components=comps
        )
        if ev is not None:
            prepared = _scoring._prepare_evidence(ev_r)
            st = _unc.source_table(prepared)
            panel = ev.drop_duplicates("source_id").set_index(
                ev.drop_duplicates("source_id")["source_id"].astype(str)
            )["panel_id"]
            st["panel_id"] = st["source_id"].map(panel).to_numpy()
            src[rnd] = _design(st, p)
        else:
            src[rnd] = None
    persistence = Persistence(
        rho={k: v.s2 for k, v in {**PERSISTENCE_PRIORS, **(priors or {})}.items()},
        raw={"stratum": float("nan"), "source": float("nan")},
        n_eff={"stratum": 0.0, "source": 0.0},
    )
    if src[rf] is not None and src[rt] is not None:
        persistence = estimate_persistence(src[rf], src[rt], comps, priors)
    table, measurement, fit = _change_table(
        scores[rf].table,
        scores[rt].table,
        src[rf],
        src[rt],
        comps,
        persistence,
        _split(scores[rf].respondents.assign(round=rf), rf)
        if scores[rf].respondents is not None
        else None,
        _split(scores[rt].respondents.assign(round=rt), rt)
        if scores[rt].respondents is not None
        else None,
        p,
        rf,
        rt,
        change_prior,
    )
    return ChangeResult(
        table, {rf: scores[rf], rt: scores[rt]}, comps, persistence, rf, rt, measurement, fit
    )


# --------------------------------------------------------------------------- posterior
@dataclass(frozen=True)
class ChangePrior:
    """Hyperpriors of the distribution of true changes across a project's ratings
    (docs/method.md, "Change between rounds": why these values).

    The true change ``delta`` of a rating is 0 with probability ``pi0`` (the rating did not
    change) and otherwise drawn from ``N(mu, tau^2)``; the expected *measured* change is
    ``theta = delta + c`` with ``c ~ N(0, null_sd^2)`` (a change of who was interviewed can
    move a rating that did not change). ``pi0 ~ Beta`` with mean ``null_share`` worth
    ``null_weight`` ratings, ``mu ~ N(0, mean_sd^2)``, ``tau`` log-uniform on
    ``sd_range``. The three are integrated over (a grid), not plugged in, per criterion:
    the criterion's own changes count fully, the other criteria's at weight ``borrow`` (a
    programme can move one criterion and leave the others).
    """

    null_share: float = 0.5
    null_weight: float = 6.0
    null_sd: float = 0.1
    mean_sd: float = 1.0
    sd_range: tuple = (0.1, 2.0)
    borrow: float = 0.5

    def __post_init__(self):
        checks = (
            ("null_share", 0 < self.null_share < 1, "between 0 and 1 (exclusive)"),
            ("null_weight", self.null_weight > 0, "positive"),
            ("null_sd", self.null_sd > 0, "positive"),
            ("mean_sd", self.mean_sd > 0, "positive"),
            ("sd_range", 0 < self.sd_range[0] < self.sd_range[1], "two increasing SDs > 0"),
            ("borrow", 0 <= self.borrow <= 1, "between 0 and 1"),
        )
        for name, good, what in checks:
            if not good:
                raise ScoringError(
                    f"ChangePrior {name} must be {what}, not {getattr(self, name)!r}"
                )


#: The default hyperpriors.
CHANGE_PRIOR = ChangePrior()
#: Step and half-range of the grid of expected changes the posterior is computed on.
_STEP = 0.025
_GRID = np.arange(-180, 181) * _STEP
#: Grids of the hyperparameters (share of unchanged ratings, slab mean, slab SD).
_PI_EDGES = np.array([0.0, *np.arange(0.05, 0.951, 0.05), 0.98, 0.995, 1.0])
_MU_GRID = np.arange(-6, 7) * 0.25
_N_TAU = 10


def _mass(mean, sd) -> np.ndarray:
    """Normal probability masses on ``_GRID`` (columns: one per mean/sd pair)."""
    mean, sd = np.atleast_1d(mean)[None, :], np.atleast_1d(sd)[None, :]
    m = np.exp(-0.5 * ((_GRID[:, None] - mean) / sd) ** 2)
    return m / m.sum(axis=0, keepdims=True)


def posterior_change(
    center, se, df, *, groups=None, prior: ChangePrior | None = None, ci: float = 0.9
):
    """Posterior of every rating's change given all the project's changes (empirical-Bayes
    mixture, hyperparameters integrated over a grid).

    ``center``, ``se``, ``df``: the measured (uncapped) changes, their standard errors and
    degrees of freedom (the likelihood is Student t); ``groups`` (e.g. the criterion of each
    rating): the hyperparameters are estimated per group, the other groups' changes counting
    at weight ``prior.borrow``. Returns a dict of arrays
    ``p_improved`` (P(delta > 0)), ``p_worsened`` (P(delta < 0)), ``p_unchanged``
    (P(delta = 0)), ``lower``/``upper`` (equal-tailed ``ci`` posterior interval of the
    expected measured change), ``median``, and ``fit`` (posterior means of the share of
    unchanged ratings, the slab mean and SD, and the number of changes used). Ratings with a
    missing centre or se get NaN.
    """
    pr = prior if prior is not None else CHANGE_PRIOR
    center = np.asarray(center, dtype=float)
    se = np.asarray(se, dtype=float)
    df = np.asarray(df, dtype=float)
    n_all = len(center)
    out = {
        k: np.full(n_all, np.nan)
        for k in ("p_improved", "p_worsened", "p_unchanged", "lower", "upper", "median")
    }
    ok = np.isfinite(center) & np.isfinite(se) & (se > 0)
    out["fit"] = {"null_share": np.nan, "mean": np.nan, "sd": np.nan, "n_changes": int(ok.sum())}
    if not ok.any():
        return out
    groups_ok = (np.zeros(n_all, dtype=int) if groups is None else np.asarray(groups))[ok]
    y = np.clip(center[ok], _GRID[0], _GRID[-1])
    s = np.maximum(se[ok], 2 * _STEP)
    nu = np.where(np.isfinite(df[ok]) & (df[ok] > 0), df[ok], np.inf)
    nu = np.minimum(nu, 1e6)
    # likelihood of every grid value of the expected change, per rating (n x G)
    L = stats.t.pdf((y[:, None] - _GRID[None, :]) / s[:, None], nu[:, None]) / s[:, None]
    eta = pr.null_sd
    # hyper grids and their prior masses
    edges = _PI_EDGES
    a = pr.null_share * pr.null_weight
    b = (1 - pr.null_share) * pr.null_weight
    pi = (edges[:-1] + edges[1:]) / 2
    pi_w = np.diff(stats.beta.cdf(edges, a, b))
    tau = np.exp(np.linspace(np.log(pr.sd_range[0]), np.log(pr.sd_range[1]), _N_TAU))
    mu_w = stats.norm.pdf(_MU_GRID, 0.0, pr.mean_sd)
    mu_w = mu_w / mu_w.sum()
    MU, TAU = np.meshgrid(_MU_GRID, tau, indexing="ij")
    MU, TAU = MU.reshape(-1), TAU.reshape(-1)
    k_w = np.repeat(mu_w, _N_TAU) / _N_TAU
    phi0 = _mass(0.0, eta)[:, 0]
    phi = _mass(MU, np.sqrt(TAU**2 + eta**2))  # G x K
    r = TAU**2 / (TAU**2 + eta**2)
    m_delta = MU[None, :] + r[None, :] * (_GRID[:, None] - MU[None, :])
    z = m_delta / (np.sqrt(r) * eta)[None, :]
    psi_p, psi_m = phi * stats.norm.cdf(z), phi * stats.norm.cdf(-z)
    m0 = L @ phi0  # n
    M, Mp, Mm = L @ phi, L @ psi_p, L @ psi_m  # n x K
    tiny = 1e-300
    # log-likelihood of every hyperparameter value, per group (criterion) of ratings
    gcode, _ = pd.factorize(pd.Series(groups_ok, dtype=object), use_na_sentinel=False)
    n_groups = int(gcode.max()) + 1
    member = np.zeros((n_groups, len(y)))
    member[gcode, np.arange(len(y))] = 1.0
    loglik = np.zeros((n_groups, len(pi), len(MU)))
    for j, p0 in enumerate(pi):
        loglik[:, j, :] = member @ np.log(p0 * m0[:, None] + (1 - p0) * M + tiny)
    total_ll = loglik.sum(axis=0)
    logprior = np.log(pi_w + tiny)[:, None] + np.log(k_w + tiny)[None, :]
    res = {k: np.empty(len(y)) for k in ("p_improved", "p_worsened", "p_unchanged")}
    res.update({k: np.empty(len(y)) for k in ("lower", "upper", "median")})
    fit = {"null_share": 0.0, "mean": 0.0, "sd": 0.0}
    for g in range(n_groups):
        rows = np.flatnonzero(gcode == g)
        # the group's own changes count fully, the other groups' at weight ``borrow``
        logpost = logprior + loglik[g] + pr.borrow * (total_ll - loglik[g])
        w = np.exp(logpost - logpost.max())
        w = w / w.sum()
        # keep the hyperparameter values that carry the posterior (all but 1e-5 of it)
        order = np.argsort(w, axis=None)[::-1]
        keep = order[: int(np.searchsorted(np.cumsum(w.reshape(-1)[order]), 1 - 1e-5)) + 1]
        jp, kk = np.unravel_index(keep, w.shape)
        wh = w[jp, kk] / w[jp, kk].sum()
        p0h = pi[jp]
        share = len(rows) / len(y)
        fit["null_share"] += share * float((wh * p0h).sum())
        fit["mean"] += share * float((wh * MU[kk]).sum())
        fit["sd"] += share * float((wh * TAU[kk]).sum())
        Lg = L[rows]
        denom = p0h[None, :] * m0[rows, None] + (1 - p0h)[None, :] * M[np.ix_(rows, kk)] + tiny
        A = wh[None, :] / denom  # n_g x H
        null_w = (A * p0h[None, :]).sum(axis=1)
        slab_w = A * (1 - p0h)[None, :]
        p_unch = null_w * m0[rows]
        p_imp = (slab_w * Mp[np.ix_(rows, kk)]).sum(axis=1)
        p_wor = (slab_w * Mm[np.ix_(rows, kk)]).sum(axis=1)
        total = p_unch + p_imp + p_wor
        res["p_improved"][rows] = p_imp / total
        res["p_worsened"][rows] = p_wor / total
        res["p_unchanged"][rows] = p_unch / total
        # posterior masses of the expected measured change on the grid
        onehot = np.zeros((len(kk), len(MU)))
        onehot[np.arange(len(kk)), kk] = 1.0
        B = slab_w @ onehot
        post = Lg * (null_w[:, None] * phi0[None, :] + B @ phi.T)
        post = post / post.sum(axis=1, keepdims=True)
        for k, q in (("lower", (1 - ci) / 2), ("upper", (1 + ci) / 2), ("median", 0.5)):
            res[k][rows] = _grid_quantile(post, q)
    for k, v in res.items():
        out[k][ok] = v
    out["fit"] = {**fit, "n_changes": int(ok.sum()), "groups": n_groups}
    return out


def _grid_quantile(post: np.ndarray, q: float) -> np.ndarray:
    """Quantile ``q`` of each row's masses on ``_GRID``, each mass spread evenly over its
    cell (so that the quantile is below 0 exactly when more than ``q`` of the mass is)."""
    cdf = np.concatenate([np.zeros((len(post), 1)), np.cumsum(post, axis=1)], axis=1)
    idx = np.clip((cdf < q).sum(axis=1), 1, len(_GRID))  # first edge with cdf >= q
    hi_c = cdf[np.arange(len(post)), idx]
    lo_c = cdf[np.arange(len(post)), idx - 1]
    frac = np.where(hi_c > lo_c, (q - lo_c) / np.maximum(hi_c - lo_c, 1e-300), 0.0)
    return _GRID[0] - _STEP / 2 + (idx - 1 + frac) * _STEP


def _weights(t: pd.DataFrame, w: float) -> tuple[np.ndarray, np.ndarray]:
    has_q = t["qual_score"].notna().to_numpy()
    has_s = t["survey_score"].notna().to_numpy()
    wq = np.where(has_q & has_s, w, np.where(has_q, 1.0, 0.0))
    ws = np.where(has_q & has_s, 1.0 - w, np.where(has_s, 1.0, 0.0))
    return wq, ws


def _change_table(t1, t2, src1, src2, comps, pers, r1, r2, p, rf, rt, change_prior=None):
    a = t1.set_index(_KEYS)
    b = t2.set_index(_KEYS).reindex(a.index)
    keys = a.index
    n = len(keys)
    # qualitative design coefficients
    zero = pd.DataFrame(0.0, index=keys, columns=["A_u", "A_b", "A_e"])
    co1 = _coefficients(src1).reindex(keys).fillna(0.0) if src1 is not None else zero
    co2 = _coefficients(src2).reindex(keys).fillna(0.0) if src2 is not None else zero
    a_u12 = pd.Series(0.0, index=keys)
    a_b12 = pd.Series(0.0, index=keys)
    n_pairs = pd.Series(0, index=keys)
    if src1 is not None and src2 is not None:
        w1 = src1.groupby(_CELL)["W"].first()
        w2 = src2.groupby(_CELL)["W"].first()
        ww = (w1 * w2).dropna()
        a_u12 = ww.groupby(level=[0, 1]).sum().reindex(keys).fillna(0.0)
        pr = src1.assign().merge(
            src2, on=["site_id", "criterion", "panel_id"], suffixes=("1", "2")
        )
        pr = pr[pr["panel_id"].notna()]
        if len(pr):
            pr["ww"] = pr["omega1"] * pr["omega2"]
            g = pr.groupby(_KEYS)
            a_b12 = g["ww"].sum().reindex(keys).fillna(0.0)
            n_pairs = g["ww"].size().reindex(keys).fillna(0).astype(int)
    wq1, ws1 = _weights(a.reset_index(), p.weight)
    wq2, ws2 = _weights(b.reset_index(), p.weight)
    if comps is not None:
        s2, tdf = comps.sigma2, comps.total_df
        ru, rb = pers.rho["stratum"], pers.rho["source"]

        def qual_parts(x1, x2):
            u = s2["stratum"] * (
                x1**2 * co1["A_u"].to_numpy()
                + x2**2 * co2["A_u"].to_numpy()
                - 2 * x1 * x2 * ru * a_u12.to_numpy()
            )
            bb = s2["source"] * (
                x1**2 * co1["A_b"].to_numpy()
                + x2**2 * co2["A_b"].to_numpy()
                - 2 * x1 * x2 * rb * a_b12.to_numpy()
            )
            e = s2["segment"] * (x1**2 * co1["A_e"].to_numpy() + x2**2 * co2["A_e"].to_numpy())
            return [
                (np.maximum(u, 0.0), np.full(n, tdf["stratum"])),
                (np.maximum(bb, 0.0), np.full(n, tdf["source"])),
                (e, np.full(n, tdf["segment"])),
            ]
    else:

        def qual_parts(x1, x2):
            return [(np.zeros(n), np.full(n, np.inf))]

    # survey
    cov = _survey_covariance(r1, r2)
    cov_s = (
        cov.set_index(_KEYS)["cov_s"].reindex(keys).fillna(0.0).to_numpy()
        if len(cov)
        else np.zeros(n)
    )
    n_units = (
        cov.set_index(_KEYS)["n_paired_units"].reindex(keys).fillna(0).astype(int).to_numpy()
        if len(cov)
        else np.zeros(n, dtype=int)
    )
    vs1 = np.nan_to_num(a["survey_se"].to_numpy(dtype=float) ** 2)
    vs2 = np.nan_to_num(b["survey_se"].to_numpy(dtype=float) ** 2)
    dfs1, dfs2 = _survey_df(r1, keys), _survey_df(r2, keys)

    def survey_part(x1, x2):
        v = x1**2 * vs1 + x2**2 * vs2
        _, dof = _unc.satterthwaite([(x1**2 * vs1, dfs1), (x2**2 * vs2, dfs2)])
        return (np.maximum(v - 2 * x1 * x2 * cov_s, 0.05 * v), dof)

    q1, q2 = a["qual_raw"].to_numpy(dtype=float), b["qual_raw"].to_numpy(dtype=float)
    s1, s2v = a["survey_score"].to_numpy(dtype=float), b["survey_score"].to_numpy(dtype=float)
    out = pd.DataFrame(keys.to_frame(index=False))
    out["round_from"], out["round_to"] = rf, rt
    out["score_from"] = a["score"].to_numpy()
    out["score_to"] = b["score"].to_numpy()
    out["change"] = out["score_to"] - out["score_from"]
    # combined
    center = (wq2 * np.nan_to_num(q2) + ws2 * np.nan_to_num(s2v)) - (
        wq1 * np.nan_to_num(q1) + ws1 * np.nan_to_num(s1)
    )
    var, dof = _unc.satterthwaite([*qual_parts(wq1, wq2), survey_part(ws1, ws2)])
    ok = out["change"].notna().to_numpy()
    se = np.where(ok, np.sqrt(var), np.nan)
    printed = out["change"].to_numpy(dtype=float)
    flat_lo, flat_hi = _interval(center, se, dof, p.ci, printed)
    with np.errstate(invalid="ignore", divide="ignore"):
        flat_p = stats.t.cdf(center / se, dof)
    measurement = out[_KEYS].assign(
        center=np.where(ok, center, np.nan),
        se=se,
        df=np.where(ok, dof, np.nan),
        flat_lower=np.where(ok, flat_lo, np.nan),
        flat_upper=np.where(ok, flat_hi, np.nan),
        flat_p_improved=np.where(ok, flat_p, np.nan),
    )
    if isinstance(change_prior, str):  # "flat"
        lo, hi, p_imp, p_wor = flat_lo, flat_hi, flat_p, 1.0 - flat_p
        p_unch = np.zeros(n)
        fit = None
    else:
        post = posterior_change(
            np.where(ok, center, np.nan),
            se,
            dof,
            groups=out["criterion"].to_numpy(),
            prior=change_prior,
            ci=p.ci,
        )
        lo, hi = _consistent(flat_lo, flat_hi, post, printed, p.ci)
        fit = post["fit"]
        p_imp, p_wor, p_unch = post["p_improved"], post["p_worsened"], post["p_unchanged"]
    out["lower"], out["upper"] = np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)
    out["se"], out["df"] = se, np.where(ok, dof, np.nan)
    out["p_improved"] = np.where(ok, p_imp, np.nan)
    out["p_worsened"] = np.where(ok, p_wor, np.nan)
    out["p_unchanged"] = np.where(ok, p_unch, np.nan)
    out["direction"] = np.select(
        [~ok, out["p_improved"] >= DIRECTION_THRESHOLD, out["p_worsened"] >= DIRECTION_THRESHOLD],
        ["none", "improved", "worsened"],
        "unclear",
    )
    # components
    has_q = (a["qual_score"].notna() & b["qual_score"].notna()).to_numpy()
    qvar, qdf = _unc.satterthwaite(qual_parts(np.ones(n), np.ones(n)))
    qse = np.sqrt(qvar)
    out["qual_change"] = np.where(
        has_q, b["qual_score"].to_numpy() - a["qual_score"].to_numpy(), np.nan
    )
    qlo, qhi = _interval(q2 - q1, qse, qdf, p.ci, out["qual_change"].to_numpy())
    out["qual_lower"] = np.where(has_q, qlo, np.nan)
    out["qual_upper"] = np.where(has_q, qhi, np.nan)
    has_s = (a["survey_score"].notna() & b["survey_score"].notna()).to_numpy()
    svar, sdf = survey_part(np.ones(n), np.ones(n))
    out["survey_change"] = np.where(has_s, s2v - s1, np.nan)
    slo, shi = _interval(s2v - s1, np.sqrt(svar), sdf, p.ci, None)
    out["survey_lower"] = np.where(has_s, slo, np.nan)
    out["survey_upper"] = np.where(has_s, shi, np.nan)
    out["basis_from"] = a["basis"].to_numpy()
    out["basis_to"] = b["basis"].to_numpy()
    n_pairs = n_pairs.to_numpy()
    by_cluster = (
        cov.set_index(_KEYS)["clusters"].reindex(keys).fillna(False).to_numpy(dtype=bool)
        if len(cov)
        else np.zeros(n, dtype=bool)
    )
    unit_word = np.where(by_cluster, "clusters", "respondents")
    out["pairing"] = np.where(
        (n_pairs > 0) & (n_units > 0),
        np.char.add("sources+", unit_word.astype(str)),
        np.where(n_pairs > 0, "sources", np.where(n_units > 0, unit_word, "independent")),
    )
    out["n_paired_sources"] = n_pairs
    out["n_paired_units"] = n_units
    for flag in ("insufficient_evidence", "capped", "thin_evidence", "low_reliability"):
        out[flag] = a[flag].astype("boolean").fillna(False).to_numpy(dtype=bool) | b[flag].astype(
            "boolean"
        ).fillna(False).to_numpy(dtype=bool)
    out["no_evidence"] = ~ok
    out["basis_changed"] = ok & (out["basis_from"] != out["basis_to"]).to_numpy()
    order = out["criterion"].map({c: i for i, c in enumerate(CRITERIA)})
    out = out.assign(_o=order).sort_values(["site_id", "_o"], kind="mergesort")
    table = out.drop(columns="_o").reset_index(drop=True)[list(CHANGE_COLUMNS)]
    measurement = measurement.loc[out.index].reset_index(drop=True)
    return table, measurement, fit


def _consistent(lower, upper, post: dict, printed: np.ndarray, ci: float):
    """The measurement's interval made to agree with the probabilities (the consistency
    rule of docs/method.md): it leaves 0 out on the positive side only when ``p_improved``
    reaches ``(1 + ci) / 2`` (0.95 for a 90 % interval), on the negative side only when
    ``p_worsened`` does; otherwise it is extended to 0. It also contains the printed change
    and lies within -4..4."""
    need = (1.0 + ci) / 2.0
    with np.errstate(invalid="ignore"):
        lo = np.where(post["p_improved"] < need, np.fmin(lower, 0.0), lower)
        hi = np.where(post["p_worsened"] < need, np.fmax(upper, 0.0), upper)
    lo, hi = np.fmin(lo, printed), np.fmax(hi, printed)
    return np.clip(lo, -4.0, 4.0), np.clip(hi, -4.0, 4.0)


def _survey_df(r, keys) -> np.ndarray:
    """Satterthwaite df of each survey score (as in the score table's intervals)."""
    if r is None or not len(r):
        return np.full(len(keys), np.inf)
    r = r.drop(columns="round", errors="ignore")
    sv = _unc.survey_variance(_scoring._survey_units(r), r).set_index(_KEYS)
    return sv["survey_df"].reindex(keys).fillna(np.inf).to_numpy(dtype=float)


def _interval(center, se, dof, ci, value):
    center = np.asarray(center, dtype=float)
    with np.errstate(invalid="ignore"):
        q = stats.t.ppf((1.0 + ci) / 2.0, np.asarray(dof, dtype=float))
        lo = np.clip(center - q * se, -4.0, 4.0)
        hi = np.clip(center + q * se, -4.0, 4.0)
    if value is not None:
        value = np.asarray(value, dtype=float)
        lo, hi = np.fmin(lo, value), np.fmax(hi, value)
    return lo, hi


def project_change(
    project,
    *,
    round_from: str | None = None,
    round_to: str | None = None,
    params: ScoringParams | None = None,
    change_prior: ChangePrior | str | None = None,
) -> ChangeResult:
    """Change between two rounds of a loaded project (default: first to last round with
    evidence). Raises :class:`~copeval.errors.ScoringError` with one readable line when the
    project has fewer than two rounds or a round is unknown."""
    inputs = _scoring.round_inputs(project)
    scored = inputs.scored_rounds
    for name, value in (("--from", round_from), ("--to", round_to)):
        if value is not None and str(value) not in inputs.rounds:
            raise ScoringError(
                f"{name} {value!r} is not a round of this project; rounds: "
                f"{', '.join(inputs.rounds)}"
            )
    if len(scored) < 2 and (round_from is None or round_to is None):
        raise ScoringError(
            f"the project has evidence for {len(scored)} round(s) ({', '.join(scored)}); a "
            "change needs two"
        )
    rf = str(round_from) if round_from is not None else scored[0]
    rt = str(round_to) if round_to is not None else scored[-1]
    return estimate_change(
        inputs.evidence,
        inputs.respondents,
        round_from=rf,
        round_to=rt,
        sites=sorted(project.sites["site_id"].astype(str)),
        params=params,
        reliability=inputs.reliability,
        change_prior=change_prior,
    )
