"""The uncertainty model of the ratings: variance components across the project's sites.

The qualitative score of a site *s* on a criterion *c* is a weighted mean of source means.
Its sampling variance comes from three sources, modelled for the valence of segment *k* of
source *j* in stratum *g*::

    v = a_sc + d_cg + u_scg + b_scgj + e_scgjk

``u`` (site-specific stratum deviation, variance ``sigma_u^2``), ``b`` (source effect,
``sigma_b^2``) and ``e`` (segment noise, ``sigma_e^2``) are redrawn by a fresh fieldwork at
the same site; the truth is the expectation of the measurement at the site. The three
components are estimated once per project, **across all its sites** (moment estimators,
below), moderated by a documented prior when the project is small, and every rating's
standard error follows analytically from the design behind it (how many strata, sources and
segments). Survey scores get linearised (ratio-estimator) cluster-robust variances with
``G - 1`` degrees of freedom. Pairwise and rank probabilities come from a normal
hierarchical model over the project's sites (partial pooling), see
:func:`comparison_draws`. The formulas and the evidence are in ``docs/method.md`` section 5.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "DEFAULT_PRIORS",
    "SURVEY_ICC_PRIOR",
    "SURVEY_PRIOR",
    "TAU_PRIOR_SCALE",
    "Components",
    "Prior",
    "comparison_draws",
    "estimate_components",
    "qualitative_variance",
    "satterthwaite",
    "source_table",
    "survey_variance",
    "t_interval",
]

_KEYS = ["site_id", "criterion"]
_CELL = ["site_id", "criterion", "stratum"]


@dataclass(frozen=True)
class Prior:
    """A prior guess ``s2`` of a variance, worth ``d0`` degrees of freedom."""

    s2: float
    d0: float


#: Default priors of the three components (valence scale -2..+2), see docs/method.md §5.3:
#: segment SD 0.9, source SD 0.5, stratum-deviation SD 0.4, each worth 4 degrees of freedom.
DEFAULT_PRIORS = {
    "segment": Prior(0.9**2, 4.0),
    "source": Prior(0.5**2, 4.0),
    "stratum": Prior(0.4**2, 4.0),
}
#: Prior of the within-site SD of a survey instrument's respondent scores (0..4 scale), used
#: only when an instrument has fewer than two units at every site.
SURVEY_PRIOR = Prior(1.0**2, 4.0)
#: Prior intraclass correlation of a survey's sampling clusters (respondent scores, 0..4),
#: used only when a project records clusters but no site has two or more of them to estimate
#: it from. Community surveys of this kind report ICCs of about 0.05-0.15; a rating that must
#: borrow its variance should err wide, so the prior sits above that range.
SURVEY_ICC_PRIOR = 0.2
#: Relative size below which an instrument's own variance counts as zero (all answers equal).
_ZERO_VARIANCE = 1e-12

#: Floor of the variance function (see :func:`variance_function`).
VARIANCE_FLOOR = 0.25

#: Scale of the half-normal prior on the between-site SD tau of the comparison model (0..4).
TAU_PRIOR_SCALE = 1.0


@dataclass(frozen=True)
class Components:
    """Variance components of one project (valence scale), raw and moderated.

    ``sigma2`` holds the moderated values used for standard errors, ``raw`` the moment
    estimates (NaN when the project cannot estimate one), ``df`` their degrees of freedom and
    ``total_df`` the degrees of freedom of the moderated values (``df + d0``).
    """

    sigma2: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    df: dict = field(default_factory=dict)
    total_df: dict = field(default_factory=dict)

    def as_frame(self) -> pd.DataFrame:
        """One row per component: ``component, sigma2, sd, raw, df, total_df``."""
        names = ("segment", "source", "stratum")
        return pd.DataFrame(
            {
                "component": names,
                "sigma2": [self.sigma2[n] for n in names],
                "sd": [float(np.sqrt(self.sigma2[n])) for n in names],
                "raw": [self.raw[n] for n in names],
                "df": [self.df[n] for n in names],
                "total_df": [self.total_df[n] for n in names],
            }
        )


# --------------------------------------------------------------------------- qualitative
def variance_function(mean_valence) -> np.ndarray:
    """Relative variance of valences around a mean ``mu`` on the bounded -2..+2 scale.

    ``h(mu) = max((2 - mu)(2 + mu) / 4, VARIANCE_FLOOR)``: 1 at a neutral mean, smaller
    toward the ends of the scale (a source at +2 has no room to vary upward; ``(2 - mu)(2 +
    mu)`` is the Bhatia-Davis bound of the variance of a variable on [-2, 2]), floored at
    0.25 (``|mu| = sqrt(3)``, scores 0.27 and 3.73) so that no rating gets zero width.
    The components are estimated per unit of ``h`` and every rating's variance is scaled by
    the ``h`` of its own mean valence.
    """
    mu = np.clip(np.asarray(mean_valence, dtype=float), -2.0, 2.0)
    return np.maximum((4.0 - mu**2) / 4.0, VARIANCE_FLOOR)


def _site_h(ev: pd.DataFrame, src: pd.DataFrame, use: bool) -> pd.Series:
    """``h`` of each source's site x criterion (its equal-weight strata mean valence)."""
    if not use:
        return pd.Series(1.0, index=src.index)
    cell = src.groupby(_CELL, sort=False)["m"].mean()
    mu = cell.groupby(level=[0, 1], sort=False).mean()
    h = pd.Series(variance_function(mu.to_numpy()), index=mu.index)
    return pd.Series(h.reindex(pd.MultiIndex.from_frame(src[_KEYS])).to_numpy(), index=src.index)


def source_table(ev: pd.DataFrame) -> pd.DataFrame:
    """One row per site x criterion x stratum x source: ``vsum, n, vmax, ss, m``.

    ``m`` is the source mean and ``ss`` the within-source sum of squared deviations.
    """
    cols = [*_CELL, "source_id"]
    g = ev.assign(_v2=ev["valence"] ** 2).groupby(cols, sort=False)
    src = g.agg(
        vsum=("valence", "sum"), n=("valence", "size"), vmax=("valence", "max"), v2=("_v2", "sum")
    )
    src = src.reset_index()
    src["m"] = src["vsum"] / src["n"]
    src["ss"] = np.maximum(src["v2"] - src["n"] * src["m"] ** 2, 0.0)
    src = src.drop(columns="v2")
    return src


def _moderate(raw: float, df: float, prior: Prior) -> tuple[float, float]:
    if not np.isfinite(raw) or df <= 0:
        return prior.s2, prior.d0
    return (prior.d0 * prior.s2 + df * raw) / (prior.d0 + df), prior.d0 + df


def _residual_moments(cells: pd.DataFrame) -> tuple[float, float, float]:
    """RSS, sum of (1 - lev) h v and sum of (1 - lev) h of the additive fit M = a_sc + d_cg,
    summed over criteria (least squares per criterion; strata may be missing).

    By the Frisch-Waugh-Lovell theorem the hat matrix of site + stratum dummies is the
    projection on the site dummies (leverage ``1 / n_s``) plus the projection on the stratum
    dummies demeaned within sites (at most 4 columns), so leverages and residuals cost
    O(rows), not a (rows x sites) decomposition.
    """
    rss = known = dof = 0.0
    for _, sub in cells.groupby("criterion", sort=False):
        site_code, _ = pd.factorize(sub["site_id"])
        strat_code, strata = pd.factorize(sub["stratum"])
        n = len(sub)
        n_site = np.bincount(site_code)
        y = sub["M"].to_numpy(dtype=float)
        y_dm = y - (np.bincount(site_code, weights=y) / n_site)[site_code]
        X = np.zeros((n, len(strata)))
        X[np.arange(n), strat_code] = 1.0
        col_means = np.stack(
            [np.bincount(site_code, weights=X[:, k]) / n_site for k in range(X.shape[1])], axis=1
        )
        Z = X - col_means[site_code]
        ZtZ_pinv = np.linalg.pinv(Z.T @ Z, rcond=1e-10)
        beta = ZtZ_pinv @ (Z.T @ y_dm)
        resid = y_dm - Z @ beta
        lev = 1.0 / n_site[site_code] + np.einsum("ij,jk,ik->i", Z, ZtZ_pinv, Z)
        one_minus_h = np.clip(1.0 - lev, 0.0, 1.0)
        h = sub["h"].to_numpy()
        rss += float(resid @ resid)
        known += float(one_minus_h @ (h * sub["v"].to_numpy()))
        dof += float(one_minus_h @ h)
    return rss, known, dof


def estimate_components(
    ev: pd.DataFrame,
    priors: dict | None = None,
    *,
    mean_dependent: bool = False,
    sources: pd.DataFrame | None = None,
) -> Components:
    """Estimate ``sigma_e^2``, ``sigma_b^2`` and ``sigma_u^2`` across all sites of a project.

    - segment (``sigma_e^2``): pooled within-source variance,
      ``sum (v - m_j)^2 / sum (n_j - 1)``;
    - source (``sigma_b^2``): from cells (site x criterion x stratum) with two or more
      sources, ``[sum_cells sum_j (m_j - M)^2 - sigma_e^2 sum_cells (J - 1) mean_j(1/n_j)]
      / sum_cells (J - 1)``, truncated at 0;
    - stratum (``sigma_u^2``): from the stratum means ``M_scg``, the additive least-squares
      fit ``M = a_sc + d_cg`` per criterion, ``(RSS - sum (1 - h_i) v_i) / sum (1 - h_i)``
      with ``h`` the leverages and ``v_i = (sigma_b^2 + sigma_e^2 mean_j(1/n_j)) / J``,
      truncated at 0.

    Each is then moderated, ``(d0 s0^2 + df sigma_hat^2) / (d0 + df)``, with the priors of
    :data:`DEFAULT_PRIORS` (negligible with hundreds of sites). One set per project (pooled
    over criteria). With ``mean_dependent`` (off by default: it did not improve coverage in
    simulation, docs/method.md §5) squared deviations are divided by the
    :func:`variance_function` of their site x criterion, so the components are variances at
    a neutral mean.
    """
    priors = {**DEFAULT_PRIORS, **(priors or {})}
    src = source_table(ev) if sources is None else sources
    hs = _site_h(ev, src, mean_dependent)
    src = src.assign(ss=src["ss"] / hs, _h=hs)
    raw, df, sigma2, total = {}, {}, {}, {}
    # segments within sources
    df_e = float((src["n"] - 1).sum())
    raw["segment"] = float(src["ss"].sum() / df_e) if df_e > 0 else float("nan")
    df["segment"] = df_e
    sigma2["segment"], total["segment"] = _moderate(raw["segment"], df_e, priors["segment"])
    s2e = sigma2["segment"]
    # sources within cells
    src = src.assign(inv_n=1.0 / src["n"])
    cell = src.groupby(_CELL, sort=False).agg(
        J=("m", "size"),
        M=("m", "mean"),
        inv_n=("inv_n", "mean"),
        inv_n_sum=("inv_n", "sum"),
        h=("_h", "first"),
    )
    dev = src["m"].to_numpy() - src.join(cell["M"], on=_CELL)["M"].to_numpy()
    dev = dev / np.sqrt(src["_h"].to_numpy())
    between = pd.Series(dev**2).groupby(pd.MultiIndex.from_frame(src[_CELL])).sum()
    cell["between"] = between.reindex(cell.index).to_numpy()
    multi = cell[cell["J"] >= 2]
    df_b = float((multi["J"] - 1).sum())
    if df_b > 0:
        est = (multi["between"].sum() - s2e * ((multi["J"] - 1) * multi["inv_n"]).sum()) / df_b
        raw["source"] = max(float(est), 0.0)
    else:
        raw["source"] = float("nan")
    df["source"] = df_b
    sigma2["source"], total["source"] = _moderate(raw["source"], df_b, priors["source"])
    s2b = sigma2["source"]
    # strata within sites
    cells = cell.reset_index()
    cells["v"] = (s2b + s2e * cells["inv_n_sum"] / cells["J"]) / cells["J"]
    rss, known, dof = _residual_moments(cells)
    if dof > 0.5:
        raw["stratum"] = max((rss - known) / dof, 0.0)
    else:
        raw["stratum"] = float("nan")
    df["stratum"] = dof
    sigma2["stratum"], total["stratum"] = _moderate(raw["stratum"], dof, priors["stratum"])
    return Components(sigma2=sigma2, raw=raw, df=df, total_df=total)


def satterthwaite(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum of variance terms and its Welch-Satterthwaite degrees of freedom.

    ``parts`` is a list of (variance term, its df) arrays; terms may be NaN (absent, skipped).
    """
    total = np.zeros_like(np.asarray(parts[0][0], dtype=float))
    denom = np.zeros_like(total)
    for var, dof in parts:
        var = np.nan_to_num(np.asarray(var, dtype=float), nan=0.0)
        dof = np.asarray(dof, dtype=float)
        total = total + var
        with np.errstate(divide="ignore", invalid="ignore"):
            contrib = np.where(var > 0, var**2 / dof, 0.0)
        denom = denom + np.nan_to_num(contrib, nan=0.0, posinf=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out_df = np.where(denom > 0, total**2 / denom, np.inf)
    return total, out_df


def qualitative_variance(
    ev: pd.DataFrame,
    components: Components,
    *,
    aggregation: str = "strata",
    source_means: bool = True,
    mean_dependent: bool = False,
    sources: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Standard error of every qualitative score from the project's variance components.

    With source weights ``omega_j`` (the weight of source ``j``'s mean in the score: ``1 /
    (G J_g)`` for equal-weight strata and source means) and stratum weights ``W_g = sum_j in g
    omega_j``::

        Var(Q) = sigma_u^2 sum_g W_g^2 + sum_j omega_j^2 (sigma_b^2 + sigma_e^2 / n_j)

    Returns one row per site x criterion: ``qual_se`` (0..4 scale, the same as valence),
    ``qual_df`` (Satterthwaite, from the components' total df) and ``qual_thin`` (no stratum
    with two or more sources: the rating's own evidence cannot estimate its variance).
    """
    src = source_table(ev) if sources is None else sources
    b = np.ones(len(src)) if source_means else src["n"].to_numpy(dtype=float)
    src = src.assign(_b=b)
    B_g = src.groupby(_CELL, sort=False)["_b"].transform("sum")
    if aggregation == "pooled":
        omega = src["_b"] / src.groupby(_KEYS, sort=False)["_b"].transform("sum")
    else:
        G = src.groupby(_KEYS, sort=False)["stratum"].transform("nunique")
        omega = src["_b"] / (G * B_g)
    src = src.assign(_w=omega, _w2=omega**2, _w2n=omega**2 / src["n"])
    W = src.groupby(_CELL, sort=False).agg(W=("_w", "sum"), J=("_w", "size")).reset_index()
    W["W2"] = W["W"] ** 2
    per = W.groupby(_KEYS, sort=False).agg(A_u=("W2", "sum"), maxJ=("J", "max"))
    per = per.join(src.groupby(_KEYS, sort=False).agg(A_b=("_w2", "sum"), A_e=("_w2n", "sum")))
    s2, tdf = components.sigma2, components.total_df
    parts = [
        (per["A_u"].to_numpy() * s2["stratum"], np.full(len(per), tdf["stratum"])),  # x h below
        (per["A_b"].to_numpy() * s2["source"], np.full(len(per), tdf["source"])),
        (per["A_e"].to_numpy() * s2["segment"], np.full(len(per), tdf["segment"])),
    ]
    var, dof = satterthwaite(parts)
    h = _site_h(ev, src, mean_dependent)
    h = h.groupby(pd.MultiIndex.from_frame(src[_KEYS]), sort=False).first()
    var = var * h.reindex(per.index).to_numpy()
    out = per.reset_index()[_KEYS]
    out["qual_se"] = np.sqrt(var)
    out["qual_df"] = dof
    out["qual_thin"] = (per["maxJ"] < 2).to_numpy()
    return out


# --------------------------------------------------------------------------- survey
def survey_variance(units: pd.DataFrame, respondents: pd.DataFrame) -> pd.DataFrame:
    """Linearised (ratio-estimator) variance of every survey score, cluster-robust.

    ``units`` are the sampling units (clusters where a site x instrument has two or more,
    respondents otherwise) with ``a = sum(w x)`` and ``b = sum(w)`` per unit and ``site_id,
    criterion, instrument``; ``respondents`` the prepared respondent rows (``score``,
    ``weight``, ``cluster``). For instrument ``t`` with ``G`` units::

        S_t = sum a / sum b,  z_h = (a_h - S_t b_h) / sum b,
        Var(S_t) = G / (G - 1) sum_h z_h^2       (CR1), df = G - 1

    and ``Var(S) = sum_t Var(S_t) / T^2`` with Satterthwaite df. An instrument with fewer than
    two units at a site, or no spread at all, borrows the instrument's pooled within-site SD
    across the project's sites (``sd^2 sum w^2 / (sum w)^2``) and marks the rating thin.

    Returns one row per site x criterion: ``survey_se``, ``survey_df``, ``survey_thin``,
    ``n_clusters`` (sampling clusters recorded behind the score, 0 when none).
    """
    inst = ["site_id", "criterion", "instrument"]
    per = units.groupby(inst, sort=False).agg(A=("a", "sum"), B=("b", "sum"), G=("a", "size"))
    u = units.join(per[["A", "B"]], on=inst)
    z = (u["a"] - (u["A"] / u["B"]) * u["b"]) / u["B"]
    per["Z2"] = (
        (z**2).groupby(pd.MultiIndex.from_frame(u[inst])).sum().reindex(per.index).to_numpy()
    )
    G = per["G"].to_numpy(dtype=float)
    S_t = (per["A"] / per["B"]).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(G >= 2, G / (G - 1) * per["Z2"].to_numpy(), np.nan)
    # all answers equal (or nearly): the own variance is rounding noise, not information
    own = np.where(own > _ZERO_VARIANCE * np.maximum(1.0, S_t**2), own, np.nan)
    # pooled within-site SD of each instrument x criterion, across sites
    r = respondents.join((per["A"] / per["B"]).rename("S_t"), on=inst)
    r = r.assign(_res2=(r["score"] - r["S_t"]) ** 2, _w2=r["weight"] ** 2)
    site_n = r.groupby(inst, sort=False).agg(
        ss=("_res2", "sum"), n=("_res2", "size"), w2=("_w2", "sum"), w=("weight", "sum")
    )
    pooled = site_n.groupby(["instrument", "criterion"]).agg(
        ss=("ss", "sum"), n=("n", "sum"), k=("n", "size")
    )
    pooled["df"] = pooled["n"] - pooled["k"]
    pooled["s2"] = np.where(pooled["df"] > 0, pooled["ss"] / pooled["df"].clip(lower=1), np.nan)
    no_info = ~(pooled["df"] > 0) | ~(pooled["s2"] > 0)
    pooled.loc[no_info, "s2"] = SURVEY_PRIOR.s2
    pooled.loc[no_info, "df"] = SURVEY_PRIOR.d0
    site_n = site_n.join(pooled[["s2", "df"]], on=["instrument", "criterion"])
    site_n = site_n.reindex(per.index)
    borrowed = site_n["s2"].to_numpy() * site_n["w2"].to_numpy() / site_n["w"].to_numpy() ** 2
    # a site whose respondents come from recorded sampling clusters but fewer than two of them
    # (one village surveyed, or one cluster answering a criterion): its respondents are not
    # independent, so the borrowed variance carries the design effect 1 + (n - 1) * icc
    n_cl = _clusters_per_cell(respondents, inst).reindex(per.index).fillna(0).to_numpy()
    icc = _pooled_icc(respondents, inst).reindex(
        pd.MultiIndex.from_arrays(
            [per.index.get_level_values("instrument"), per.index.get_level_values("criterion")]
        )
    )
    icc = icc.fillna(SURVEY_ICC_PRIOR).to_numpy()
    n_resp = site_n["n"].to_numpy(dtype=float)
    deff = np.where(n_cl >= 1, 1.0 + np.maximum(n_resp - 1.0, 0.0) * icc, 1.0)
    borrowed = borrowed * deff
    thin = ~(own > 0) | ((n_cl >= 1) & (n_cl < 2))
    own = np.where(thin, np.nan, own)
    per["V"] = np.where(thin, borrowed, own)
    per["df"] = np.where(thin, site_n["df"].to_numpy(), G - 1)
    per["thin"] = thin.astype(float)
    per = per.reset_index()
    T = per.groupby(_KEYS, sort=False)["instrument"].transform("size").to_numpy(dtype=float)
    per["Vt"] = per["V"] / T**2
    per["num"] = per["Vt"]
    with np.errstate(divide="ignore", invalid="ignore"):
        per["den"] = np.where(per["Vt"] > 0, per["Vt"] ** 2 / per["df"], 0.0)
    agg = per.groupby(_KEYS, sort=False).agg(
        V=("num", "sum"), den=("den", "sum"), thin=("thin", "max")
    )
    out = agg.reset_index()[_KEYS]
    out["survey_se"] = np.sqrt(agg["V"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        out["survey_df"] = np.where(agg["den"] > 0, agg["V"] ** 2 / agg["den"], np.inf)
    out["survey_thin"] = agg["thin"].to_numpy() > 0
    out["n_clusters"] = count_clusters(out[_KEYS], respondents)
    return out


def count_clusters(keys: pd.DataFrame, respondents: pd.DataFrame) -> np.ndarray:
    """Sampling clusters recorded behind each site x criterion of ``keys`` (0 when none),
    whatever the interval method."""
    clustered = respondents[respondents["cluster"].notna()]
    n_cl = (
        clustered[["site_id", "criterion", "instrument", "cluster"]]
        .astype(str)
        .drop_duplicates()
        .groupby(_KEYS)
        .size()
    )
    if not len(n_cl):
        return np.zeros(len(keys), dtype=int)
    return pd.MultiIndex.from_frame(keys).map(n_cl.to_dict()).fillna(0).astype(int).to_numpy()


def _clusters_per_cell(respondents: pd.DataFrame, inst: list[str]) -> pd.Series:
    """Distinct recorded sampling clusters behind each site x criterion x instrument."""
    clustered = respondents[respondents["cluster"].notna()]
    if clustered.empty:
        return pd.Series(dtype=float)
    return clustered.groupby(inst, sort=False)["cluster"].nunique().astype(float)


def _pooled_icc(respondents: pd.DataFrame, inst: list[str]) -> pd.Series:
    """Intraclass correlation of respondent scores within sampling clusters, per instrument x
    criterion, pooled over the sites with two or more clusters (one-way ANOVA moments).

    ``sigma_c^2 = (MSB - MSW) / m0`` (truncated at 0) with ``MSB``, ``MSW`` the pooled between-
    and within-cluster mean squares and ``m0`` the usual average cluster size
    ``(N - sum m_c^2 / N) / (C - 1)``, pooled over sites; ``icc = sigma_c^2 / (sigma_c^2 + MSW)``.
    Instruments without such sites are absent (the caller uses :data:`SURVEY_ICC_PRIOR`).
    """
    r = respondents[respondents["cluster"].notna()]
    if r.empty:
        return pd.Series(dtype=float)
    cl = [*inst, "cluster"]
    c = r.groupby(cl, sort=False)["score"].agg(m="size", mean="mean", var="var").reset_index()
    c["var"] = c["var"].fillna(0.0)
    site = c.groupby(inst, sort=False).agg(C=("m", "size"), N=("m", "sum"))
    c = c.join(site, on=inst)
    c = c[c["C"] >= 2]
    if c.empty:
        return pd.Series(dtype=float)
    grand = (c["m"] * c["mean"]).groupby([c[k] for k in inst]).transform("sum") / c["N"]
    c = c.assign(
        ssb=c["m"] * (c["mean"] - grand) ** 2,
        ssw=(c["m"] - 1) * c["var"],
        m2=c["m"] ** 2,
    )
    per_site = c.groupby(inst, sort=False).agg(
        ssb=("ssb", "sum"),
        ssw=("ssw", "sum"),
        C=("C", "first"),
        N=("N", "first"),
        m2=("m2", "sum"),
    )
    per_site["dfb"] = per_site["C"] - 1
    per_site["dfw"] = per_site["N"] - per_site["C"]
    per_site["m0"] = (per_site["N"] - per_site["m2"] / per_site["N"]) / per_site["dfb"]
    pooled = per_site.groupby(["instrument", "criterion"]).agg(
        ssb=("ssb", "sum"),
        ssw=("ssw", "sum"),
        dfb=("dfb", "sum"),
        dfw=("dfw", "sum"),
        m0=("m0", "mean"),
    )
    pooled = pooled[(pooled["dfb"] > 0) & (pooled["dfw"] > 0)]
    msb = pooled["ssb"] / pooled["dfb"]
    msw = pooled["ssw"] / pooled["dfw"]
    s2c = ((msb - msw) / pooled["m0"]).clip(lower=0.0)
    total = s2c + msw
    return (s2c / total.where(total > 0)).dropna()


# --------------------------------------------------------------------------- intervals
def t_interval(center, se, dof, ci: float, score=None):
    """``center -/+ t_{dof,(1+ci)/2} se`` intersected with [0, 4]; with ``score`` (a capped
    rating) the lower bound is ``min(lower, score)`` and the upper ``max(upper, score)``."""
    center = np.asarray(center, dtype=float)
    q = stats.t.ppf((1.0 + ci) / 2.0, np.asarray(dof, dtype=float))
    half = q * np.asarray(se, dtype=float)
    lo = np.clip(center - half, 0.0, 4.0)
    hi = np.clip(center + half, 0.0, 4.0)
    if score is not None:
        score = np.asarray(score, dtype=float)
        # a missing standard error stays missing: never a zero-width interval at the score
        lo = np.where(np.isnan(half), np.nan, np.fmin(lo, score))
        hi = np.where(np.isnan(half), np.nan, np.fmax(hi, score))
    return lo, hi


# --------------------------------------------------------------------------- comparisons
def _rng(seed: int, *key: str) -> np.random.Generator:
    digest = hashlib.sha256("\x00".join(key).encode()).digest()
    spawn = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn)))


def comparison_draws(
    y,
    se,
    n_draws: int,
    *,
    seed: int,
    key: tuple[str, ...] = (),
    tau_scale: float = TAU_PRIOR_SCALE,
    grid_size: int = 400,
) -> np.ndarray:
    """Posterior draws of the sites' true levels under a normal hierarchical model.

    ``y_s ~ N(theta_s, se_s^2)``, ``theta_s ~ N(mu, tau^2)``, flat prior on ``mu``,
    half-normal prior (scale ``tau_scale``) on ``tau``. ``tau`` is drawn from its marginal
    posterior on a grid (Gelman et al., *Bayesian Data Analysis*, 3rd ed., section 5.4),
    then ``mu | tau, y`` and ``theta | mu, tau, y``. Returns an (n_sites, n_draws) array.
    """
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    n = len(y)
    rng = _rng(seed, "compare", *key)
    if n == 0:
        return np.empty((0, n_draws))
    if not (np.isfinite(y).all() and np.isfinite(se).all()):
        raise ValueError("comparison_draws needs a finite score and standard error for every site")
    v = np.maximum(se, 1e-6) ** 2
    top = max(4.0, 6.0 * tau_scale)
    step = top / grid_size
    tau = (np.arange(grid_size) + 0.5) * step
    tot = v[None, :] + tau[:, None] ** 2  # grid x sites
    prec = 1.0 / tot
    v_mu = 1.0 / prec.sum(axis=1)
    mu_hat = v_mu * (prec * y[None, :]).sum(axis=1)
    logp = (
        -0.5 * (tau / tau_scale) ** 2
        + 0.5 * np.log(v_mu)
        - 0.5 * np.log(tot).sum(axis=1)
        - 0.5 * (prec * (y[None, :] - mu_hat[:, None]) ** 2).sum(axis=1)
    )
    p = np.exp(logp - logp.max())
    p /= p.sum()
    k = rng.choice(grid_size, size=n_draws, p=p)
    t = np.abs(tau[k] + (rng.random(n_draws) - 0.5) * step)
    tot_d = v[None, :] + t[:, None] ** 2  # draws x sites
    prec_d = 1.0 / tot_d
    v_mu_d = 1.0 / prec_d.sum(axis=1)
    mu = v_mu_d * (prec_d * y[None, :]).sum(axis=1) + np.sqrt(v_mu_d) * rng.standard_normal(
        n_draws
    )
    t2 = t[:, None] ** 2
    post_var = 1.0 / (1.0 / v[None, :] + 1.0 / t2)
    post_mean = post_var * (y[None, :] / v[None, :] + mu[:, None] / t2)
    theta = post_mean + np.sqrt(post_var) * rng.standard_normal((n_draws, n))
    return theta.T.copy()
