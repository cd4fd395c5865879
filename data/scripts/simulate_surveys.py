"""Simulate the survey half of the demo project: community and police responses.

SYNTHETIC DATA. Nobody answered these questionnaires: the responses are drawn from a latent
variable model tuned so that each site's criterion means agree with the qualitative findings of
the Villa Canales / Totonicapán study (docs: ``shared/docs/domain.md``):

=========  =====================  =====================
criterion  Villa Canales (VC)     Totonicapán (TOT)
=========  =====================  =====================
C1         acceptable  (~2.65)    acceptable  (~2.75)
C2         passable    (~2.0)     strong      (~3.3)
C3         limited     (~1.2)     limited     (~1.3)
C4         weakest     (~0.9)     weakest     (~0.85)
AT         middling    (~2.0)     middling    (~2.1)
=========  =====================  =====================

(community means on the 0-4 scale; police answers are ``POLICE_OFFSET`` rosier).

Model, per instrument and site:

* each respondent has a latent trait per criterion,
  ``theta = sqrt(icc) * cluster effect + sqrt(1 - icc) * (sqrt(rho) * general + sqrt(1 - rho)
  * specific)`` plus a small centred effect of age (community) or role (police): people who
  work with the police think better of it;
* each item answer is ``round(location + spread * (loading * theta + sqrt(1 - loading**2) *
  noise))`` clipped to the item's scale, where the location is solved numerically so that the
  expected 0-4 rescaled answer equals the site target plus a fixed item difficulty (centred
  within each criterion);
* negatively worded items (``reverse`` in the item map) record the flipped answer;
* don't know (97) / refused (98) replace 2-8 % of each item's answers, more often among
  respondents with a low general trait;
* community respondents come from 12 sampling clusters per site and carry post-stratification
  weights (age group x gender against assumed population shares), trimmed to 0.6-1.8;
  police respondents are clustered by station / substation and carry no weight.

Writes ``<out>/items.csv`` (both instruments' item maps, from ``surveys/*_items.csv``) and
``<out>/responses/{community,police}.csv``, prints the site x criterion means (0-4) and
Cronbach's alpha, and refreshes ``<out>/datapackage.json`` with
``copeval.project.write_datapackage``.

Usage::

    python data/scripts/simulate_surveys.py                 # seed 20170201, into data/demo
    python data/scripts/simulate_surveys.py --seed 7 --out /tmp/demo --no-datapackage
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.stats import norm

from copeval.errors import CopevalError
from copeval.vocabulary import CRITERIA

REPO = Path(__file__).resolve().parents[2]
SEED = 20170201
INSTRUMENTS = ("community", "police")
SITES = ("VC", "TOT")

#: Community means (0-4 scale) per site and criterion: the study's findings.
COMMUNITY_TARGETS = {
    "VC": {"C1": 2.65, "C2": 2.0, "C3": 1.2, "C4": 0.9, "AT": 2.0},
    "TOT": {"C1": 2.75, "C2": 3.3, "C3": 1.3, "C4": 0.85, "AT": 2.1},
}
#: Police see their own work somewhat more favourably than residents do.
POLICE_OFFSET = 0.2

#: Unscored context items: 0-4 target in the item's positive direction (AOJ11: safety).
CONTEXT_TARGETS = {"aoj11_safety": {"VC": 1.3, "TOT": 2.7}}

#: Community sampling: clusters per site and the range of completed interviews per cluster.
N_CLUSTERS = 12
CLUSTER_SIZE = (15, 18)
#: Police sampling: staff interviewed per station (E) and substation (S).
POLICE_STATIONS = {
    "VC": {"VC-E1": 16, "VC-S1": 10, "VC-S2": 9, "VC-S3": 8},
    "TOT": {"TOT-E1": 15, "TOT-S1": 10, "TOT-S2": 9, "TOT-S3": 8},
}

#: Reliability the scales are designed for; each item's loading on its criterion trait follows
#: from it by Spearman-Brown for the scale's number of items and the item's rounding and
#: floor/ceiling losses (see ``_loading``).
TARGET_ALPHA = 0.75
RHO = 0.35  # share of trait variance common to all criteria (general attitude)
ICC = {"community": 0.08, "police": 0.10}  # share of trait variance between clusters
MISSING_RATE = (0.02, 0.08)  # per item and site, don't know + refused
WEIGHT_RANGE = (0.6, 1.8)

#: Community: population shares (assumed census-like) vs. who a daytime household survey
#: tends to find at home (more women, more older people).
POPULATION = {
    "VC": {"age": [0.38, 0.31, 0.19, 0.12], "women": 0.52},
    "TOT": {"age": [0.40, 0.29, 0.18, 0.13], "women": 0.53},
}
SAMPLE_AGE = [0.22, 0.30, 0.27, 0.21]
SAMPLE_GENDER = [0.595, 0.395, 0.01]  # woman, man, other
#: Older residents (45+) trust the police a little more and attend more meetings.
AGE_EFFECT = {"AT": 0.30, "C2": 0.20}
#: Police: role shares (operations, prevention, command/admin) and their effects on the trait;
#: prevention staff run the community work, command staff believe the analysis is done.
ROLE_SHARES = [0.65, 0.20, 0.15]
ROLE_EFFECT = {2: {"C2": 0.35, "C3": 0.35}, 3: {"C4": 0.35, "AT": 0.25}}
POLICE_WOMEN = 0.115  # 43 of 375 in precinct 44
YEARS_POST = [0.25, 0.35, 0.25, 0.15]
YEARS_AREA = [0.08, 0.17, 0.20, 0.55]


class SimulationError(CopevalError):
    """The simulation cannot run on the item maps it was given."""


# --------------------------------------------------------------------------- inputs
def load_item_maps(surveys: str | Path = REPO / "surveys") -> pd.DataFrame:
    """Concatenate the instruments' item maps (``surveys/<instrument>_items.csv``).

    Returns
    -------
    DataFrame
        Columns of ``items.csv``: ``instrument``, ``item``, ``criterion`` ("" if unscored),
        ``scale``, ``scale_min``, ``scale_max`` (int), ``reverse`` (bool),
        ``missing_codes``, ``label_en``, ``label_es``.
    """
    frames = []
    for inst in INSTRUMENTS:
        path = Path(surveys) / f"{inst}_items.csv"
        if not path.is_file():
            raise SimulationError(
                f"item map {path} not found; build it with: python surveys/build_instruments.py"
            )
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frames.append(df)
    items = pd.concat(frames, ignore_index=True)
    items["scale_min"] = items["scale_min"].astype(int)
    items["scale_max"] = items["scale_max"].astype(int)
    items["reverse"] = items["reverse"].map({"true": True, "false": False})
    if items["reverse"].isna().any():
        bad = items.loc[items["reverse"].isna(), "item"].tolist()
        raise SimulationError(f"column 'reverse' must be true or false; items {bad}")
    return items


def _missing_codes(value: str) -> list[int]:
    return [int(c) for c in value.split(";") if c.strip()]


# --------------------------------------------------------------------------- model pieces
def _rescaled_mean(loc: float, spread: float, lo: int, hi: int) -> float:
    """Expected 0-4 rescaled answer of clip(round(loc + spread * Z)) with Z ~ N(0, 1)."""
    codes = np.arange(lo, hi + 1)
    upper = norm.cdf((codes[:-1] + 0.5 - loc) / spread)
    probs = np.diff(np.concatenate([[0.0], upper, [1.0]]))
    return float(((codes - lo) / (hi - lo) * 4 * probs).sum())


def _location(target: float, spread: float, lo: int, hi: int) -> float:
    """Latent location whose expected rescaled answer is ``target`` (0-4)."""
    target = float(np.clip(target, 0.05, 3.95))
    return brentq(
        lambda m: _rescaled_mean(m, spread, lo, hi) - target, lo - 6 * spread, hi + 6 * spread
    )


def _item_difficulties(items: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """Fixed item offsets on the 0-4 scale (sd 0.25), centred within instrument x criterion."""
    delta = pd.Series(rng.normal(0, 0.25, len(items)), index=items.index)
    scored = items["criterion"] != ""
    keys = items["instrument"] + "|" + items["criterion"]
    delta[scored] -= delta[scored].groupby(keys[scored]).transform("mean")
    delta[~scored] = 0.0
    return delta


def _traits(
    clusters: np.ndarray,
    shift: np.ndarray,
    icc: float,
    rng: np.random.Generator,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Latent traits, n x (len(CRITERIA) + 1) (the criteria, then a context trait), and the
    general trait.

    The traits are standardised on the site's (weighted) sample: the site effect is the
    location the items are calibrated to, not a draw, so site means reflect the targets up to
    item noise rather than the luck of a dozen cluster draws.
    """
    n, k = len(clusters), len(CRITERIA) + 1
    codes, idx = np.unique(clusters, return_inverse=True)
    cluster_eff = rng.normal(size=(len(codes), k))[idx]
    general = rng.normal(size=(n, 1))
    specific = rng.normal(size=(n, k))
    theta = np.sqrt(icc) * cluster_eff + np.sqrt(1 - icc) * (
        np.sqrt(RHO) * general + np.sqrt(1 - RHO) * specific
    )
    theta[:, -1] = 0.5 * theta[:, -1] + np.sqrt(0.75) * rng.normal(size=n)  # context: own trait
    mean = np.average(theta, axis=0, weights=weight)
    sd = np.sqrt(np.average((theta - mean) ** 2, axis=0, weights=weight))
    return (theta - mean) / sd + shift, general[:, 0]


def _loading(n_items: int, loc: float, spread: float, lo: int, hi: int) -> float:
    """Item loading giving Cronbach's alpha ~TARGET_ALPHA for a scale of ``n_items`` items.

    Spearman-Brown gives the inter-item correlation ``r`` the scale needs. Rounding and
    clipping a normal latent ``Z`` to the item's codes keeps a share
    ``c = E[f(Z) Z] / sd(f(Z)) = sum(phi(thresholds)) / sd(f(Z))`` of its correlation with
    anything (first Hermite term), so two such items correlate ~``c1 * c2 * loading**2``;
    the loading is ``sqrt(r) / c``, which compensates for items piled up at a floor or a
    ceiling.
    """
    if n_items < 2:
        return float(np.sqrt(0.5))
    r = TARGET_ALPHA / (n_items - (n_items - 1) * TARGET_ALPHA)  # Spearman-Brown, inverted
    codes = np.arange(lo, hi + 1)
    tau = (codes[:-1] + 0.5 - loc) / spread
    probs = np.diff(np.concatenate([[0.0], norm.cdf(tau), [1.0]]))
    mean = (codes * probs).sum()
    sd = np.sqrt(((codes - mean) ** 2 * probs).sum())
    c = norm.pdf(tau).sum() / sd
    return float(min(np.sqrt(r) / c, 0.9))


def _item_noise(theta: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` columns of item-specific noise, exactly uncorrelated in the sample with each other
    and with ``theta``, with mean 0 and variance 1.

    Orthogonalising the draws (QR) fixes the sample's latent inter-item correlations at
    ``loading_i * loading_j``, so the reliability of a 40-person police scale reflects the
    design rather than the luck of the draw; the answers still vary through rounding, clipping
    and missingness.
    """
    n = len(theta)
    m = np.column_stack([theta, rng.normal(size=(n, k))])
    m = m - m.mean(axis=0)
    q, r = np.linalg.qr(m)
    q = q * np.sign(np.diag(r))  # keep each column oriented like its draw
    return q[:, 1:] * np.sqrt(n)


def _answers(
    item: Mapping,
    target: float,
    theta: np.ndarray,
    noise: np.ndarray,
    *,
    n_items: int,
) -> np.ndarray:
    """Answers to one item (positive direction, then flipped if the item is reversed)."""
    lo, hi = int(item["scale_min"]), int(item["scale_max"])
    spread = 0.3 * (hi - lo)
    loc = _location(target, spread, lo, hi)
    loading = _loading(n_items, loc, spread, lo, hi)
    z = loading * theta + np.sqrt(1 - loading**2) * noise
    x = np.clip(np.rint(loc + spread * z), lo, hi).astype(int)
    return lo + hi - x if item["reverse"] else x


def _add_missing(
    x: np.ndarray,
    codes: list[int],
    general: np.ndarray,
    rate: float,
    rng: np.random.Generator,
    *,
    refuse_share: float = 0.2,
    bounds: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """Replace ``round(rate * n)`` answers by missing codes, more often among low ``general``.

    The count is kept within ``bounds`` (shares of n), so a small police sample still shows
    the intended 2-8 % rather than whatever a binomial draw gives.
    """
    n = len(x)
    if not codes or n == 0:
        return x
    k = int(np.clip(round(rate * n), np.ceil(bounds[0] * n), np.floor(bounds[1] * n)))
    if k == 0:
        return x
    p = 2 * norm.cdf(-0.5 * general)  # less engaged people say "don't know" more often
    hit = rng.choice(n, size=k, replace=False, p=p / p.sum())
    if len(codes) == 1:
        fill = np.full(k, codes[0])
    else:  # 97 don't know, 98 refused
        fill = np.where(rng.random(k) < refuse_share, max(codes), min(codes))
    x = x.copy()
    x[hit] = fill
    return x


def _categorical(probs: Sequence[float], n: int, rng: np.random.Generator, start: int = 1):
    return rng.choice(np.arange(start, start + len(probs)), size=n, p=np.asarray(probs))


def _poststratify(age: np.ndarray, gender: np.ndarray, population: Mapping) -> np.ndarray:
    """Age x gender post-stratification weights, mean 1, trimmed to WEIGHT_RANGE."""
    lo, hi = WEIGHT_RANGE
    known = np.isin(age, [1, 2, 3, 4]) & np.isin(gender, [1, 2])
    pop = {
        (a, g): population["age"][a - 1]
        * (population["women"] if g == 1 else 1 - population["women"])
        for a in (1, 2, 3, 4)
        for g in (1, 2)
    }
    w = np.ones(len(age))
    cells = pd.Series(list(zip(age[known], gender[known], strict=True)))
    share = cells.value_counts(normalize=True)
    w[known] = [pop[c] / share[c] for c in cells]
    for _ in range(50):  # trim and renormalise until stable
        w = w / w.mean()
        if w.min() >= lo and w.max() <= hi:
            break
        w = np.clip(w, lo, hi)
    return np.round(np.clip(w, lo, hi), 4)


# --------------------------------------------------------------------------- simulation
def simulate_surveys(
    items: pd.DataFrame,
    *,
    seed: int = SEED,
    targets: Mapping[str, Mapping[str, float]] = COMMUNITY_TARGETS,
    police_offset: float = POLICE_OFFSET,
) -> dict[str, pd.DataFrame]:
    """Simulate the community and police responses.

    Parameters
    ----------
    items : DataFrame
        Item map of both instruments (see :func:`load_item_maps`).
    seed : int, keyword-only
        Seed of every random draw; the same seed gives the same responses.
    targets : mapping, keyword-only
        Community mean (0-4) per site and criterion.
    police_offset : float, keyword-only
        Added to the targets for the police survey.

    Returns
    -------
    dict of str to DataFrame
        ``community``: ``respondent_id``, ``site_id``, ``weight``, ``cluster``, then one
        Int64 column per item; ``police``: the same without ``weight``.
    """
    missing = [i for i in INSTRUMENTS if not (items["instrument"] == i).any()]
    if missing:
        raise SimulationError(f"the item map has no items of instrument(s) {missing}")
    seq = np.random.SeedSequence(seed)
    diff_seq, *site_seqs = seq.spawn(1 + len(INSTRUMENTS) * len(SITES))
    difficulty = _item_difficulties(items, np.random.default_rng(diff_seq))
    out = {}
    for i, inst in enumerate(INSTRUMENTS):
        inst_items = items[items["instrument"] == inst]
        frames = []
        for j, site in enumerate(SITES):
            rng = np.random.default_rng(site_seqs[i * len(SITES) + j])
            offset = police_offset if inst == "police" else 0.0
            site_targets = {c: targets[site][c] + offset for c in CRITERIA}
            make = _community_site if inst == "community" else _police_site
            frames.append(make(site, inst_items, difficulty, site_targets, rng))
        out[inst] = pd.concat(frames, ignore_index=True)
    return out


def _respond(
    frame: pd.DataFrame,
    items: pd.DataFrame,
    difficulty: pd.Series,
    site: str,
    site_targets: Mapping[str, float],
    theta: np.ndarray,
    general: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    columns = {}
    scale_size = items.groupby("criterion")["item"].transform("size")
    todo = items[~items["item"].isin(frame.columns)]  # demographics are already drawn
    trait_col = [
        CRITERIA.index(c) if c else len(CRITERIA) for c in todo["criterion"]
    ]  # context items share the context trait
    noise = {}
    for col in sorted(set(trait_col)):
        k = trait_col.count(col)
        noise[col] = iter(_item_noise(theta[:, col], k, rng).T)
    for idx, item in todo.iterrows():
        name = item["item"]
        if item["criterion"]:
            col = CRITERIA.index(item["criterion"])
            base = site_targets[item["criterion"]]
            # item difficulty, shrunk near the ends of the scale so no item is all floor/ceiling
            target = base + difficulty[idx] * min(1.0, base, 4 - base)
        elif name in CONTEXT_TARGETS:
            col, target = len(CRITERIA), CONTEXT_TARGETS[name][site]
        else:
            raise SimulationError(
                f"item {name!r} of instrument {item['instrument']!r} is unscored and has no "
                "simulation rule; add it to CONTEXT_TARGETS or to the demographics"
            )
        k = scale_size[idx] if item["criterion"] else 1
        x = _answers(item, target, theta[:, col], next(noise[col]), n_items=k)
        refuse = 0.45 if name in {"trust_police", "at_abuse", "at_satisfaction"} else 0.2
        rate = rng.uniform(*MISSING_RATE)
        columns[name] = _add_missing(
            x,
            _missing_codes(item["missing_codes"]),
            general,
            rate,
            rng,
            refuse_share=refuse,
            bounds=MISSING_RATE,
        )
    answers = pd.DataFrame(columns, index=frame.index)
    frame = pd.concat([frame, answers], axis=1)
    ordered = [c for c in ("respondent_id", "site_id", "weight", "cluster") if c in frame]
    frame = frame[ordered + list(items["item"])]
    for name in items["item"]:
        frame[name] = frame[name].astype("Int64")
    return frame


def _community_site(site, items, difficulty, site_targets, rng) -> pd.DataFrame:
    sizes = rng.integers(CLUSTER_SIZE[0], CLUSTER_SIZE[1] + 1, size=N_CLUSTERS)
    clusters = np.repeat([f"{site}-K{k:02d}" for k in range(1, N_CLUSTERS + 1)], sizes)
    n = len(clusters)
    age = _categorical(SAMPLE_AGE, n, rng)
    gender = _categorical(SAMPLE_GENDER, n, rng)
    years = _categorical(YEARS_AREA, n, rng)
    older = (age >= 3).astype(float)
    pop_older = sum(POPULATION[site]["age"][2:])
    shift = np.zeros((n, len(CRITERIA) + 1))
    for crit, beta in AGE_EFFECT.items():
        shift[:, CRITERIA.index(crit)] = beta * (older - pop_older)
    weight = _poststratify(age, gender, POPULATION[site])
    theta, general = _traits(clusters, shift, ICC["community"], rng, weight)
    # a few refusals on the demographics (after weighting: refusers keep a cell's weight)
    age = _add_missing(age, [98], general, 0.01, rng)
    gender = _add_missing(gender, [98], general, 0.01, rng)
    years = _add_missing(years, [98], general, 0.02, rng)
    frame = pd.DataFrame(
        {
            "respondent_id": [f"{site}-C-{k:04d}" for k in range(1, n + 1)],
            "site_id": site,
            "weight": weight,
            "cluster": clusters,
            "age_group": age,
            "gender": gender,
            "years_in_area": years,
        }
    )
    return _respond(frame, items, difficulty, site, site_targets, theta, general, rng)


def _police_site(site, items, difficulty, site_targets, rng) -> pd.DataFrame:
    stations = POLICE_STATIONS[site]
    clusters = np.repeat(list(stations), list(stations.values()))
    n = len(clusters)
    role = _categorical(ROLE_SHARES, n, rng)
    gender = np.where(rng.random(n) < POLICE_WOMEN, 1, 2)
    years = _categorical(YEARS_POST, n, rng)
    shift = np.zeros((n, len(CRITERIA) + 1))
    for r, effects in ROLE_EFFECT.items():
        for crit, beta in effects.items():
            shift[:, CRITERIA.index(crit)] += beta * ((role == r) - ROLE_SHARES[r - 1])
    theta, general = _traits(clusters, shift, ICC["police"], rng)
    gender = _add_missing(gender, [98], general, 0.02, rng)
    years = _add_missing(years, [98], general, 0.02, rng)
    frame = pd.DataFrame(
        {
            "respondent_id": [f"{site}-P-{k:04d}" for k in range(1, n + 1)],
            "site_id": site,
            "cluster": clusters,
            "gender": gender,
            "role": role,
            "years_in_post": years,
        }
    )
    return _respond(frame, items, difficulty, site, site_targets, theta, general, rng)


# --------------------------------------------------------------------------- summary
def rescale(responses: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Scored items of one instrument on 0-4, reverse-coded, missing codes as NaN.

    Returns
    -------
    DataFrame
        Same rows as ``responses``; one float column per scored item.
    """
    out = {}
    for item in items[items["criterion"] != ""].itertuples(index=False):
        x = responses[item.item].astype("Float64").astype(float)
        x[x.isin(_missing_codes(item.missing_codes))] = np.nan
        lo, hi = item.scale_min, item.scale_max
        y = (x - lo) / (hi - lo) * 4
        out[item.item] = 4 - y if item.reverse else y
    return pd.DataFrame(out, index=responses.index)


def cronbach_alpha(scores: pd.DataFrame) -> float:
    """Cronbach's alpha of the columns of ``scores`` over complete rows."""
    complete = scores.dropna()
    k = complete.shape[1]
    if k < 2 or len(complete) < 3:
        return float("nan")
    item_var = complete.var(ddof=1).sum()
    total_var = complete.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - item_var / total_var))


def summarise(items: pd.DataFrame, responses: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Site x criterion means (0-4) and Cronbach's alpha per instrument.

    Returns
    -------
    DataFrame
        ``instrument``, ``site_id``, ``criterion``, ``n`` (respondents with a score),
        ``mean`` (weighted when the instrument has weights), ``alpha``.
    """
    rows = []
    for inst, df in responses.items():
        inst_items = items[items["instrument"] == inst]
        scores = rescale(df, inst_items)
        for site in df["site_id"].unique():
            in_site = (df["site_id"] == site).to_numpy()
            for crit in CRITERIA:
                cols = inst_items.loc[inst_items["criterion"] == crit, "item"]
                block = scores.loc[in_site, list(cols)]
                person = block.mean(axis=1)
                ok = person.notna().to_numpy()
                w = df.loc[in_site, "weight"].to_numpy()[ok] if "weight" in df else None
                rows.append(
                    {
                        "instrument": inst,
                        "site_id": site,
                        "criterion": crit,
                        "n": int(ok.sum()),
                        "mean": float(np.average(person[ok], weights=w)),
                        "alpha": cronbach_alpha(block),
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- main
def write_outputs(
    items: pd.DataFrame, responses: Mapping[str, pd.DataFrame], out: str | Path
) -> list[Path]:
    """Write ``items.csv`` and ``responses/<instrument>.csv`` into ``out``."""
    out = Path(out)
    (out / "responses").mkdir(parents=True, exist_ok=True)
    written = []
    table = items.copy()
    table["reverse"] = table["reverse"].map({True: "true", False: "false"})
    path = out / "items.csv"
    table.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    written.append(path)
    for inst, df in responses.items():
        path = out / "responses" / f"{inst}.csv"
        df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Simulate the demo survey responses (synthetic) from the item maps."
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--out", default=str(REPO / "data" / "demo"), help="project folder")
    parser.add_argument(
        "--surveys", default=str(REPO / "surveys"), help="folder of the <instrument>_items.csv"
    )
    parser.add_argument(
        "--no-datapackage", action="store_true", help="do not refresh datapackage.json"
    )
    args = parser.parse_args(argv)
    try:
        items = load_item_maps(args.surveys)
        responses = simulate_surveys(items, seed=args.seed)
        for path in write_outputs(items, responses, args.out):
            print(f"wrote {path}")
        summary = summarise(items, responses)
        with pd.option_context("display.width", 120, "display.precision", 2):
            print(
                summary.pivot_table(
                    index=["instrument", "criterion"], columns="site_id", values=["mean", "alpha"]
                ).round(2)
            )
        if not args.no_datapackage:
            from copeval.project import write_datapackage

            print(f"wrote {write_datapackage(args.out)}")
    except CopevalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
