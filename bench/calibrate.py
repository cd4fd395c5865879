"""Calibration study: do copeval's intervals and probabilities mean what they say?

Usage::

    .venv/bin/python bench/calibrate.py --quick            # < 3 min, prints the table
    .venv/bin/python bench/calibrate.py                    # full study (docs/calibration.md)
    .venv/bin/python bench/calibrate.py --designs thin,two_sites --projects 10

Every simulated **project** has ``n_sites`` sites. For each site the study draws its fixed
parameters once: a latent level per criterion (0..4), the project's global stratum offsets,
a fixed survey deviation per instrument, and the *design* (which strata it has, how many
sources in each, which criteria each source speaks to and with how many segments, survey
size, sampling clusters and design weights). It then simulates ``R + K`` independent
**fieldworks** of the whole project: site-specific stratum deviations, source effects,
segment noise, survey clusters and respondents are all drawn again.

- **Truth** of a rating = the mean of copeval's *point* estimate (``qualitative_scores``,
  ``survey_scores``, ``combine``: the estimator every report prints) over the first ``R``
  fieldworks; the **real sampling SD** = their standard deviation. Truth is the expectation
  of the measurement at the site, so bounded-scale bias (truth minus latent level) is
  reported apart from coverage, and never counts against the intervals.
- The last ``K`` fieldworks are scored as real projects would be, one project per call to
  :func:`copeval.scoring.score_evidence` (intervals, ``pairwise()``, ``ranks()``), and their
  intervals and probabilities are checked against the truth.

The generators deliberately do not share the scoring model's assumptions: valences come from
a rounded, clipped normal or from an ordered logit with unequal cutpoints; source effects are
normal or Student t with 3 df; site-specific stratum deviations are partly shared across
criteria; latent levels may pile up near the ends of the scale; strata are present with
unequal probabilities; survey answers are Likert items (1-5, scored 0..4 as copeval does)
with cluster effects (an ICC), design weights, or no clusters at all. One design is generated
by ``copeval synth`` itself. Nothing here is tuned to the scoring model: the designs were
fixed before the model under test was run.

Outputs (``--out``, default ``bench/results``): ``calibration[_quick]_designs.csv`` (one row
per design), ``..._criteria.csv`` (per design and criterion), ``..._pairs.csv`` and
``..._rank1.csv`` (calibration bins), and ``..._table.md`` (the Markdown tables that
``docs/calibration.md`` quotes). Everything is seeded (``--seed``): the same command gives
the same tables.
"""

from __future__ import annotations

# ruff: noqa: E402 (the BLAS thread count must be set before numpy is imported)
import os

# One BLAS thread: the machine is shared, and a multi-threaded BLAS on a busy machine made
# an earlier (SVD-based) version of the model's least-squares fits 40x slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import hashlib
import inspect
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from copeval import scoring
from copeval._io import atomic_write_csv, atomic_write_text
from copeval.vocabulary import CRITERIA, STRATA

Z90 = 1.6448536269514722  # standard normal 95th percentile: a 90 % interval is +- Z90 SD
PAIR_BINS = (0.5, 0.8, 0.9, 0.95, 0.99, 1.0 + 1e-12)
PAIR_LABELS = ("0.50-0.80", "0.80-0.90", "0.90-0.95", "0.95-0.99", ">0.99")
RANK_BINS = (0.0, 0.2, 0.5, 0.8, 0.9, 0.95, 1.0 + 1e-12)
RANK_LABELS = ("0-0.2", "0.2-0.5", "0.5-0.8", "0.8-0.9", "0.9-0.95", ">0.95")
NOMINAL = 0.9
# targets of issue 12
COVERAGE_TARGET = (0.85, 0.95)
WIDTH_TARGET = 1.3
PAIR_TARGET = (0.88, 0.97)


# --------------------------------------------------------------------------- designs
@dataclass(frozen=True)
class Survey:
    """A site's survey: a community instrument (clustered or not) and an optional police one."""

    respondents: tuple[int, int] = (60, 150)  # community respondents per site (range)
    clusters: int = 8  # sampling clusters of the community survey; 0 = no clusters
    icc: float = 0.1  # intra-cluster correlation on the latent scale
    person_sd: float = 0.8  # respondent effect (latent, 0..4 scale)
    item_sd: float = 0.7  # item noise
    items: int = 2  # Likert items per criterion
    weights: bool = True  # lognormal design weights (fixed per respondent slot)
    police: tuple[int, int] | None = (8, 20)  # police respondents (no clusters); None = none
    ologit: bool = False  # items from an ordered logit instead of a rounded normal
    deviation_sd: float = 0.25  # fixed site x instrument x criterion deviation (part of truth)


@dataclass(frozen=True)
class Design:
    """One simulated design; see the module docstring for the data model."""

    name: str
    description: str
    n_sites: int = 10
    projects: int = 40  # full mode
    quick_projects: int = 6
    generator: str = "round"  # "round", "ologit", "continuous" (tests only) or "synth"
    sources: tuple[int, int] = (2, 4)  # sources per present stratum
    strata_p: tuple[float, ...] = (1.0, 1.0, 0.8, 0.6)  # P(stratum at a site), STRATA order
    crit_per_source: tuple[int, int] = (2, 4)
    segments: tuple[int, int] = (1, 4)  # segments per source and criterion it speaks to
    levels: str | float = "uniform"  # "uniform" (0.4..3.6), "ends" (near 0 or 4), "middle"
    offset_sd: float = 0.3  # the project's global stratum offsets
    dev_sd: float = 0.3  # site-specific stratum deviation, redrawn per fieldwork
    dev_shared: float = 0.5  # share of its variance common to all criteria of a site x stratum
    source_sd: float = 0.4
    source_df: float | None = None  # Student t source effects with this many df
    segment_sd: float = 0.8
    qual: bool = True
    survey: Survey | None = field(default_factory=Survey)


DESIGNS = (
    Design(
        "thin",
        "1-2 sources per stratum, small clustered survey, rounded normal",
        projects=20,
        quick_projects=5,
        sources=(1, 2),
        strata_p=(1.0, 1.0, 0.7, 0.5),
        survey=Survey(respondents=(30, 60), clusters=8, icc=0.12, police=None),
    ),
    Design(
        "standard",
        "2-4 sources per stratum, clustered survey and police survey, ordered logit",
        projects=16,
        quick_projects=4,
        generator="ologit",
        sources=(2, 4),
    ),
    Design(
        "rich",
        "4-7 sources per stratum, large survey, rounded normal, small segment noise",
        projects=12,
        quick_projects=3,
        sources=(4, 7),
        segment_sd=0.6,
        source_sd=0.5,
        dev_sd=0.2,
        survey=Survey(respondents=(100, 200), clusters=10, icc=0.05, police=(15, 30)),
    ),
    Design(
        "heavy_tails",
        "source effects Student t (3 df, SD 0.5), 2-4 sources, qualitative only",
        projects=20,
        quick_projects=6,
        sources=(2, 4),
        source_sd=0.5,
        source_df=3.0,
        survey=None,
    ),
    Design(
        "strong_deviation",
        "site-specific stratum deviations SD 0.6 (70 % shared across criteria), ordered logit",
        projects=16,
        quick_projects=4,
        generator="ologit",
        dev_sd=0.6,
        dev_shared=0.7,
        survey=Survey(ologit=True),
    ),
    Design(
        "qual_only_ends",
        "qualitative only, levels near the scale ends, unequal strata, noisy segments",
        projects=30,
        quick_projects=8,
        generator="ologit",
        sources=(1, 4),
        strata_p=(1.0, 0.9, 0.5, 0.3),
        levels="ends",
        source_sd=0.2,
        dev_sd=0.4,
        segment_sd=1.0,
        survey=None,
    ),
    Design(
        "survey_few_clusters",
        "survey only: 5 clusters (ICC 0.15), weights, ordered-logit items, police survey",
        projects=20,
        quick_projects=5,
        qual=False,
        survey=Survey(respondents=(40, 80), clusters=5, icc=0.15, ologit=True, items=3),
    ),
    Design(
        "two_sites",
        "projects of 2 sites like the demo: 3-5 sources per stratum, large survey",
        projects=60,
        quick_projects=12,
        n_sites=2,
        sources=(3, 5),
        strata_p=(1.0, 1.0, 1.0, 1.0),
        survey=Survey(respondents=(150, 250), clusters=8, icc=0.08, police=(30, 50)),
    ),
    Design(
        "two_sites_thin",
        "projects of 2 sites, 1-3 sources per stratum, unclustered survey, ordered logit",
        projects=60,
        quick_projects=12,
        n_sites=2,
        generator="ologit",
        sources=(1, 3),
        survey=Survey(respondents=(40, 80), clusters=0, police=None, weights=False),
    ),
    Design(
        "sites_20",
        "20-site projects, 2-4 sources, levels in the middle, ordered logit",
        projects=6,
        quick_projects=2,
        n_sites=20,
        generator="ologit",
        levels="middle",
        source_sd=0.3,
        dev_sd=0.4,
    ),
    Design(
        "sites_50",
        "50-site projects, 1-5 sources, unequal strata, small survey",
        projects=3,
        quick_projects=1,
        n_sites=50,
        sources=(1, 5),
        strata_p=(1.0, 0.9, 0.6, 0.4),
        survey=Survey(respondents=(20, 50), clusters=6, icc=0.1, police=None),
    ),
    Design(
        "synth",
        "copeval synth itself (8-16 sources per site, its own survey), 10 sites",
        projects=10,
        quick_projects=3,
        generator="synth",
        survey=None,  # synth generates its own
    ),
)
DESIGN_NAMES = tuple(d.name for d in DESIGNS)


# --------------------------------------------------------------------------- seeds
def _seq(seed: int, *words) -> np.random.SeedSequence:
    digest = hashlib.sha256("\x00".join(map(str, words)).encode()).digest()
    key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return np.random.SeedSequence(seed, spawn_key=key)


def _rng(seed: int, *words) -> np.random.Generator:
    return np.random.default_rng(_seq(seed, *words))


# --------------------------------------------------------------------------- fixed site
def draw_levels(kind: str, n_sites: int, rng: np.random.Generator) -> np.ndarray:
    """Latent levels (n_sites x 5) on 0..4 (a number: every level equals it)."""
    if not isinstance(kind, str):
        return np.full((n_sites, 5), float(kind))
    if kind == "uniform":
        base = rng.uniform(0.4, 3.6, n_sites)[:, None] + rng.normal(0, 0.4, (n_sites, 5))
    elif kind == "ends":  # most sites near one end of the scale
        high = rng.random(n_sites) < 0.5
        base = np.where(high, 3.5, 0.5)[:, None] + rng.normal(0, 0.35, (n_sites, 5))
    elif kind == "middle":
        base = rng.normal(2.0, 0.6, n_sites)[:, None] + rng.normal(0, 0.3, (n_sites, 5))
    else:  # pragma: no cover - designs are fixed above
        raise ValueError(kind)
    return np.clip(base, 0.05, 3.95)


@dataclass
class Fixed:
    """The fixed parameters of one project: levels, offsets and design."""

    site_ids: list
    levels: np.ndarray  # (n_sites, 5)
    offsets: np.ndarray  # (4,) stratum offsets of the project
    # qualitative design: one row per segment slot
    seg_site: np.ndarray
    seg_stratum: np.ndarray
    seg_source: np.ndarray
    seg_crit: np.ndarray
    n_sources: int
    src_site: np.ndarray
    src_stratum: np.ndarray
    # survey design: one row per respondent slot
    resp_site: np.ndarray
    resp_inst: np.ndarray  # 0 community, 1 police
    resp_cluster: np.ndarray  # global cluster index, -1 = none
    resp_weight: np.ndarray
    n_clusters: int
    inst_dev: np.ndarray  # (n_sites, 2, 5) fixed survey deviations


def draw_fixed(design: Design, rng: np.random.Generator) -> Fixed:
    n = design.n_sites
    site_ids = [f"S{i:02d}" for i in range(1, n + 1)]
    levels = draw_levels(design.levels, n, rng)
    offsets = rng.normal(0.0, design.offset_sd, len(STRATA))
    offsets -= offsets.mean()  # the project's strata disagree; on average they are fair
    seg_site, seg_stratum, seg_source, seg_crit = [], [], [], []
    src_site, src_stratum = [], []
    n_src = 0
    if design.qual:
        for s in range(n):
            present = rng.random(len(STRATA)) < np.asarray(design.strata_p)
            if present.sum() == 0:
                present[0] = True
            for k in np.flatnonzero(present):
                for _ in range(int(rng.integers(design.sources[0], design.sources[1] + 1))):
                    lo, hi = design.crit_per_source
                    n_crit = int(rng.integers(lo, hi + 1))
                    crits = rng.choice(len(CRITERIA), size=min(n_crit, 5), replace=False)
                    for c in crits:
                        m = int(rng.integers(design.segments[0], design.segments[1] + 1))
                        seg_site += [s] * m
                        seg_stratum += [k] * m
                        seg_source += [n_src] * m
                        seg_crit += [int(c)] * m
                    src_site.append(s)
                    src_stratum.append(k)
                    n_src += 1
    resp_site, resp_inst, resp_cluster, resp_weight = [], [], [], []
    n_cl = 0
    sv = design.survey
    if sv is not None:
        for s in range(n):
            m = int(rng.integers(sv.respondents[0], sv.respondents[1] + 1))
            resp_site += [s] * m
            resp_inst += [0] * m
            if sv.clusters > 0:
                # unequal cluster sizes, every cluster non-empty
                cl = np.r_[np.arange(sv.clusters), rng.integers(0, sv.clusters, m - sv.clusters)]
                resp_cluster += list(n_cl + cl)
                n_cl += sv.clusters
            else:
                resp_cluster += [-1] * m
            w = rng.lognormal(0.0, 0.35, m) if sv.weights else np.ones(m)
            resp_weight += list(w)
            if sv.police is not None:
                p = int(rng.integers(sv.police[0], sv.police[1] + 1))
                resp_site += [s] * p
                resp_inst += [1] * p
                resp_cluster += [-1] * p
                resp_weight += [1.0] * p
    inst_dev = np.zeros((n, 2, 5))
    if sv is not None:
        inst_dev = rng.normal(0.0, sv.deviation_sd, (n, 2, 5))
        inst_dev[:, 1, :] += 0.3  # police rate themselves higher
    a = np.asarray
    return Fixed(
        site_ids=site_ids,
        levels=levels,
        offsets=offsets,
        seg_site=a(seg_site, dtype=np.intp),
        seg_stratum=a(seg_stratum, dtype=np.intp),
        seg_source=a(seg_source, dtype=np.intp),
        seg_crit=a(seg_crit, dtype=np.intp),
        n_sources=n_src,
        src_site=a(src_site, dtype=np.intp),
        src_stratum=a(src_stratum, dtype=np.intp),
        resp_site=a(resp_site, dtype=np.intp),
        resp_inst=a(resp_inst, dtype=np.intp),
        resp_cluster=a(resp_cluster, dtype=np.intp),
        resp_weight=a(resp_weight, dtype=float),
        n_clusters=n_cl,
        inst_dev=inst_dev,
    )


# --------------------------------------------------------------------------- fieldworks
_CUTS_QUAL = np.array([-1.3, -0.4, 0.6, 1.6])  # ordered logit: unequal, asymmetric cutpoints
_CUTS_ITEM = np.array([0.6, 1.4, 2.5, 3.4])  # Likert 0..4 (1..5 on the questionnaire)


def _ordinal(mu: np.ndarray, sd: float, cuts: np.ndarray, rng) -> np.ndarray:
    """Ordered logit: category = number of cutpoints below mu + logistic noise (SD ``sd``)."""
    scale = sd * np.sqrt(3.0) / np.pi
    latent = mu + rng.logistic(0.0, scale, mu.shape)
    return (latent[..., None] > cuts).sum(axis=-1).astype(float)


def _source_effects(design: Design, size, rng) -> np.ndarray:
    if design.source_df is None:
        return rng.normal(0.0, design.source_sd, size)
    df = design.source_df
    return rng.standard_t(df, size) * design.source_sd * np.sqrt((df - 2.0) / df)


def _ids(prefix: np.ndarray, body: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add(prefix.astype(str), "|"), body.astype(str)).astype(object)


def simulate_fieldworks(design: Design, fixed: Fixed, n_fieldworks: int, rng):
    """Evidence and respondent frames of ``n_fieldworks`` independent fieldworks.

    Sites are keyed ``"<fieldwork>|<site>"`` (fieldwork zero-padded), sources and segments
    likewise, so that one frame holds every fieldwork.
    """
    F = n_fieldworks
    n = len(fixed.site_ids)
    site_names = np.asarray(fixed.site_ids, dtype=object)
    fw = np.char.zfill(np.arange(F).astype(str), 3)
    evidence = None
    if len(fixed.seg_site):
        shared = rng.normal(0.0, 1.0, (F, n, len(STRATA), 1))
        own = rng.normal(0.0, 1.0, (F, n, len(STRATA), 5))
        dev = design.dev_sd * (
            np.sqrt(design.dev_shared) * shared + np.sqrt(1 - design.dev_shared) * own
        )
        src = _source_effects(design, (F, fixed.n_sources), rng)
        s, k, c, j = fixed.seg_site, fixed.seg_stratum, fixed.seg_crit, fixed.seg_source
        mu = (
            fixed.levels[s, c] - 2.0 + fixed.offsets[k] + dev[:, s, k, c] + src[:, j]
        )  # (F, n_seg)
        if design.generator == "ologit":
            valence = _ordinal(mu, design.segment_sd, _CUTS_QUAL, rng) - 2.0
        elif design.generator == "continuous":  # analytic checks only: no rounding
            valence = np.clip(mu + rng.normal(0.0, design.segment_sd, mu.shape), -2, 2)
        else:
            valence = np.clip(np.rint(mu + rng.normal(0.0, design.segment_sd, mu.shape)), -2, 2)
        n_seg = len(s)
        fcol = np.repeat(fw, n_seg)
        evidence = pd.DataFrame(
            {
                "segment_id": _ids(fcol, np.tile(np.arange(n_seg), F)),
                "source_id": _ids(fcol, np.tile(j, F)),
                "site_id": _ids(fcol, np.tile(site_names[s], F)),
                "stratum": np.tile(np.asarray(STRATA, dtype=object)[k], F),
                "criterion": np.tile(np.asarray(CRITERIA, dtype=object)[c], F),
                "valence": valence.ravel(),
            }
        )
    respondents = None
    sv = design.survey
    if sv is not None and len(fixed.resp_site):
        m = len(fixed.resp_site)
        cl_sd = fixed_cluster_sd(sv)
        cl_eff = rng.normal(0.0, cl_sd, (F, max(fixed.n_clusters, 1), 5))
        person = rng.normal(0.0, sv.person_sd, (F, m, 1)) * np.sqrt(0.6) + rng.normal(
            0.0, sv.person_sd, (F, m, 5)
        ) * np.sqrt(0.4)
        has_cl = fixed.resp_cluster >= 0
        clus = np.where(
            has_cl[None, :, None], cl_eff[:, np.maximum(fixed.resp_cluster, 0), :], 0.0
        )
        theta = (
            (fixed.levels[fixed.resp_site] + fixed.inst_dev[fixed.resp_site, fixed.resp_inst])[
                None
            ]
            + clus
            + person
        )  # (F, m, 5)
        theta = theta[..., None] + np.zeros(sv.items)  # (F, m, 5, items)
        if sv.ologit:
            answers = _ordinal(theta, sv.item_sd, _CUTS_ITEM, rng)
        else:
            answers = np.clip(np.rint(theta + rng.normal(0.0, sv.item_sd, theta.shape)), 0, 4)
        score = answers.mean(axis=-1)  # respondent criterion score on 0..4
        inst = np.asarray(["community", "police"], dtype=object)[fixed.resp_inst]
        cluster_name = np.where(has_cl, np.char.add("K", fixed.resp_cluster.astype(str)), None)
        fcol = np.repeat(fw, m * 5)
        rid = np.repeat(np.arange(m), 5)
        respondents = pd.DataFrame(
            {
                "respondent_id": _ids(fcol, np.tile(rid, F)),
                "instrument": np.tile(np.repeat(inst, 5), F),
                "site_id": _ids(fcol, np.tile(np.repeat(site_names[fixed.resp_site], 5), F)),
                "criterion": np.tile(np.asarray(CRITERIA, dtype=object), F * m),
                "score": score.ravel(),
                "weight": np.tile(np.repeat(fixed.resp_weight, 5), F),
                "cluster": np.where(
                    np.tile(np.repeat(has_cl, 5), F),
                    _ids(fcol, np.tile(np.repeat(cluster_name.astype(str), 5), F)),
                    None,
                ),
            }
        )
    return evidence, respondents


def fixed_cluster_sd(sv: Survey) -> float:
    """Cluster-effect SD giving the survey's ICC against the respondent effect."""
    return float(sv.person_sd * np.sqrt(sv.icc / (1.0 - sv.icc))) if sv.icc > 0 else 0.0


def simulate_synth(fixed: Fixed, n_fieldworks: int, seed: int):
    """Fieldworks generated by ``copeval synth`` (its own design, effects and survey).

    Every (fieldwork, site) pair is one synth site with the site's latent levels, so one call
    generates all fieldworks. The generator's design (which respondent groups, which criteria
    each source speaks to) is itself random, so here the truth is also the expectation over
    designs, as ``copeval synth`` projects are generated.
    """
    from copeval.codebook import load_codebook
    from copeval.survey import respondent_scores
    from copeval.synth import synth_project
    from copeval.vocabulary import RESPONDENT_GROUPS

    F = n_fieldworks
    n = len(fixed.site_ids)
    keys = [f"{f:03d}|{s}" for f in range(F) for s in fixed.site_ids]
    levels = pd.DataFrame(
        {
            "site_id": np.repeat(keys, 5),
            "criterion": np.tile(CRITERIA, F * n),
            "level": np.tile(fixed.levels.ravel(), F),
        }
    )
    cb = load_codebook()
    p = synth_project(len(keys), seed=seed, levels=levels, codebook=cb, double_coded=0.0)
    seg = p.segments[(p.segments["coder"] == "A") & p.segments["valence"].notna()]
    src = p.sources[p.sources["consent"] != "none"]
    ev = seg.merge(src[["source_id", "site_id", "respondent_group"]], on="source_id")
    ev["stratum"] = ev["respondent_group"].map(lambda g: RESPONDENT_GROUPS[g][0])
    ev["criterion"] = ev["code"].map(
        dict(zip(cb.table["code"], cb.table["criterion"], strict=True))
    )
    ev["valence"] = ev["valence"].astype(float)
    ev = ev[["segment_id", "source_id", "site_id", "stratum", "criterion", "valence", "code"]]
    resp = respondent_scores(p.items, p.responses)
    resp = resp[
        ["respondent_id", "instrument", "site_id", "criterion", "score", "weight", "cluster"]
    ]
    return ev.reset_index(drop=True), resp.reset_index(drop=True)


# --------------------------------------------------------------------------- copeval adapter
def point_scores(evidence, respondents) -> pd.DataFrame:
    """copeval's point estimate (``site_id, criterion, score``), no interval work."""
    q = scoring.qualitative_scores(evidence) if evidence is not None and len(evidence) else None
    s = (
        scoring.survey_scores(respondents)
        if respondents is not None and len(respondents)
        else None
    )
    table = scoring.combine(q, s)
    return table[["site_id", "criterion", "score"]]


_SCORE_KW = set(inspect.signature(scoring.score_evidence).parameters)


#: Interval method passed to ``score_evidence`` (``--method``); None = copeval's default.
METHOD: str | None = None


def score_project(evidence, respondents, sites, seed: int):
    """One fieldwork scored as a real project: the table, pairwise and rank-1 frames."""
    kw = {"sites": sites}
    if "seed" in _SCORE_KW:
        kw["seed"] = seed
    if METHOD is not None:
        if "interval_method" not in _SCORE_KW:
            raise SystemExit("this copeval has no interval_method option; drop --method")
        kw["interval_method"] = METHOD
    result = scoring.score_evidence(evidence, respondents, **kw)
    table = result.table
    flags = pd.DataFrame(index=table.index)
    if "insufficient_evidence" in table.columns:
        flags["insufficient"] = table["insufficient_evidence"].astype(bool)
    else:  # main before issue 12: "; "-joined English flags
        flags["insufficient"] = table["flag"].fillna("").str.contains("insufficient")
    thin = table["thin_evidence"] if "thin_evidence" in table.columns else False
    out = table[["site_id", "criterion", "score", "lower", "upper"]].assign(
        insufficient=flags["insufficient"].to_numpy(),
        thin=np.asarray(pd.Series(thin, index=table.index).astype(bool)),
    )
    pw = result.pairwise()
    ranks = result.ranks()
    rank1 = ranks[ranks["rank"] == 1][["criterion", "site_id", "probability"]]
    return out, pw[["criterion", "site_a", "site_b", "p_a_greater", "p_b_greater"]], rank1


# --------------------------------------------------------------------------- one project
def _by_fieldwork(frame, first: int) -> dict:
    """Rows of the scored fieldworks (``first`` and later), keyed by their ``"NNN|"`` prefix."""
    if frame is None or frame.empty:
        return {}
    prefix = frame["site_id"].str[:4]
    keep = prefix >= f"{first:03d}|"
    return {k: g for k, g in frame[keep].groupby(prefix[keep], sort=False)}


def run_project(design: Design, p: int, *, seed: int, R: int, K: int):
    """Truth from ``R`` fieldworks, then ``K`` fieldworks scored as real projects."""
    rng = _rng(seed, design.name, p, "fixed")
    fixed = draw_fixed(design, rng)
    F = R + K
    if design.generator == "synth":
        ev, resp = simulate_synth(
            fixed, F, int(_seq(seed, design.name, p, "synth").generate_state(1)[0])
        )
    else:
        ev, resp = simulate_fieldworks(design, fixed, F, _rng(seed, design.name, p, "fieldworks"))
    pts = point_scores(ev, resp)
    split = pts["site_id"].str.split("|", n=1, expand=True)
    pts = pts.assign(fieldwork=split[0].astype(int), site=split[1])
    truth_fw = pts[pts["fieldwork"] < R]
    truth = (
        truth_fw.groupby(["site", "criterion"])["score"]
        .agg(truth="mean", real_sd="std", n_rated="count")
        .reset_index()
    )
    lv = pd.DataFrame(
        {
            "site": np.repeat(fixed.site_ids, 5),
            "criterion": np.tile(CRITERIA, len(fixed.site_ids)),
            "level": fixed.levels.ravel(),
        }
    )
    truth = truth.merge(lv, on=["site", "criterion"], how="left")
    ratings, pairs, rank1 = [], [], []
    ev_by = _by_fieldwork(ev, R)
    resp_by = _by_fieldwork(resp, R)
    for f in range(R, F):
        prefix = f"{f:03d}|"
        e = None if ev is None else ev_by.get(prefix, ev.iloc[:0])
        r = None if resp is None else resp_by.get(prefix, resp.iloc[:0])
        t0 = time.perf_counter()
        table, pw, r1 = score_project(
            e, r, [prefix + s for s in fixed.site_ids], seed=p * 1000 + f
        )
        elapsed = time.perf_counter() - t0
        strip = len(prefix)
        table = table.assign(site=table["site_id"].str[strip:], fieldwork=f, project=p)
        point = pts.loc[pts["fieldwork"] == f, ["site_id", "criterion", "score"]]
        table = table.merge(
            point.rename(columns={"score": "point"}), on=["site_id", "criterion"], how="left"
        )
        table["seconds"] = elapsed / max(len(table), 1)
        ratings.append(table.drop(columns="site_id"))
        pw = pw.assign(site_a=pw["site_a"].str[strip:], site_b=pw["site_b"].str[strip:], project=p)
        pairs.append(pw)
        rank1.append(r1.assign(site_id=r1["site_id"].str[strip:], project=p))
    ratings = pd.concat(ratings, ignore_index=True).merge(
        truth, on=["site", "criterion"], how="left"
    )
    tmap = truth.set_index(["site", "criterion"])["truth"]
    pairs = pd.concat(pairs, ignore_index=True)
    if len(pairs):
        pairs["truth_a"] = tmap.reindex(
            list(zip(pairs["site_a"], pairs["criterion"], strict=True))
        ).to_numpy()
        pairs["truth_b"] = tmap.reindex(
            list(zip(pairs["site_b"], pairs["criterion"], strict=True))
        ).to_numpy()
    rank1 = pd.concat(rank1, ignore_index=True)
    if len(rank1):
        best = truth.loc[truth.groupby("criterion")["truth"].idxmax(), ["criterion", "site"]]
        best_site = dict(zip(best["criterion"], best["site"], strict=True))
        rank1["truly_first"] = [
            best_site.get(c) == s
            for c, s in zip(rank1["criterion"], rank1["site_id"], strict=True)
        ]
    return ratings, pairs, rank1


# --------------------------------------------------------------------------- metrics
def pair_calibration(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs binned by reported P(winner > loser); share truly ordered that way."""
    if pairs.empty:
        return pd.DataFrame(columns=["bin", "n_pairs", "mean_reported", "truly_ordered"])
    a_wins = pairs["p_a_greater"] >= pairs["p_b_greater"]
    reported = np.where(a_wins, pairs["p_a_greater"], pairs["p_b_greater"])
    diff = np.where(
        a_wins, pairs["truth_a"] - pairs["truth_b"], pairs["truth_b"] - pairs["truth_a"]
    )
    right = np.where(np.abs(diff) < 1e-12, 0.5, (diff > 0).astype(float))
    binned = pd.cut(reported, PAIR_BINS, labels=PAIR_LABELS, right=False, include_lowest=True)
    df = pd.DataFrame({"bin": binned, "reported": reported, "right": right})
    out = df.groupby("bin", observed=False).agg(
        n_pairs=("right", "size"),
        mean_reported=("reported", "mean"),
        truly_ordered=("right", "mean"),
    )
    return out.reset_index()


def rank1_calibration(rank1: pd.DataFrame) -> pd.DataFrame:
    if rank1.empty:
        return pd.DataFrame(columns=["bin", "n_sites", "mean_reported", "truly_first"])
    binned = pd.cut(rank1["probability"], RANK_BINS, labels=RANK_LABELS, right=False)
    out = (
        rank1.assign(bin=binned)
        .groupby("bin", observed=False)
        .agg(
            n_sites=("truly_first", "size"),
            mean_reported=("probability", "mean"),
            truly_first=("truly_first", "mean"),
        )
    )
    return out.reset_index()


def top_rank1(rank1: pd.DataFrame) -> tuple[float, float]:
    """Mean reported P(rank 1) of each project's favourite and the share truly first."""
    if rank1.empty:
        return np.nan, np.nan
    top = (
        rank1.sort_values("probability", ascending=False, kind="mergesort")
        .groupby(["project", "criterion"], sort=False)
        .head(1)
    )
    return float(top["probability"].mean()), float(top["truly_first"].mean())


def summarise(design: Design, ratings, pairs, rank1, seconds: float, n_projects: int) -> dict:
    rated = ratings[ratings["score"].notna() & ratings["truth"].notna()].copy()
    width = rated["upper"] - rated["lower"]
    covered = (rated["lower"] <= rated["truth"] + 1e-9) & (rated["truth"] <= rated["upper"] + 1e-9)
    cov = float(covered.mean())
    n = len(rated)
    sd = rated["real_sd"]
    ideal = 2 * Z90 * sd
    ok = sd > 0.02
    per_rating = (width[ok] / ideal[ok]) if ok.any() else pd.Series(dtype=float)
    crit_cov = covered.groupby(rated["criterion"]).mean()
    pc = pair_calibration(pairs).set_index("bin")
    top_p, top_right = top_rank1(rank1)
    mismatch = float((rated["score"] - rated["point"]).abs().max()) if n else np.nan
    insuff = rated["insufficient"].astype(bool)
    thin = (rated["thin"] if "thin" in rated.columns else pd.Series(False, rated.index)).astype(
        bool
    )
    return {
        "design": design.name,
        "n_sites": design.n_sites,
        "projects": n_projects,
        "ratings": n,
        "coverage": cov,
        "coverage_se": float(np.sqrt(cov * (1 - cov) / max(n, 1))),
        "coverage_min_criterion": float(crit_cov.min()),
        "coverage_max_criterion": float(crit_cov.max()),
        "coverage_flagged": float(covered[insuff].mean()) if insuff.any() else np.nan,
        "coverage_unflagged": float(covered[~insuff].mean()) if (~insuff).any() else np.nan,
        "share_flagged": float(insuff.mean()) if n else np.nan,
        "share_thin": float(thin.mean()) if n else np.nan,
        "coverage_thin": float(covered[thin].mean()) if thin.any() else np.nan,
        "width_ratio": float(width.mean() / ideal.mean()) if n and ideal.mean() > 0 else np.nan,
        "width_ratio_median": float(per_rating.median()) if len(per_rating) else np.nan,
        "mean_width": float(width.mean()),
        "mean_real_sd": float(sd.mean()),
        "zero_width_share": float((width < 1e-9).mean()) if n else np.nan,
        "bias_mean": float((rated["truth"] - rated["level"]).mean()),
        "bias_abs_mean": float((rated["truth"] - rated["level"]).abs().mean()),
        "bias_abs_max": float((rated["truth"] - rated["level"]).abs().max()),
        "pairs": len(pairs),
        **{
            f"pairs_{lab}_n": int(pc.loc[lab, "n_pairs"]) if lab in pc.index else 0
            for lab in PAIR_LABELS
        },
        **{
            f"pairs_{lab}_ordered": float(pc.loc[lab, "truly_ordered"])
            if lab in pc.index
            else np.nan
            for lab in PAIR_LABELS
        },
        "rank1_top_reported": top_p,
        "rank1_top_truly_first": top_right,
        "score_vs_point_max_diff": mismatch,
        "seconds_per_project": seconds / max(n_projects, 1),
        "seconds": seconds,
    }


def run_design(design: Design, *, seed: int, projects: int, R: int, K: int, log=print):
    t0 = time.perf_counter()
    ratings, pairs, rank1 = [], [], []
    score_seconds = 0.0
    for p in range(projects):
        r, pw, r1 = run_project(design, p, seed=seed, R=R, K=K)
        score_seconds += float((r["seconds"]).sum())
        ratings.append(r.assign(design=design.name))
        pairs.append(pw.assign(design=design.name))
        rank1.append(r1.assign(design=design.name))
    ratings = pd.concat(ratings, ignore_index=True)
    pairs = pd.concat(pairs, ignore_index=True)
    rank1 = pd.concat(rank1, ignore_index=True)
    seconds = time.perf_counter() - t0
    row = summarise(design, ratings, pairs, rank1, seconds, projects)
    row["scoring_seconds_per_fieldwork"] = score_seconds / max(projects * K, 1)
    log(
        f"{design.name:<20} ratings {row['ratings']:>5}  coverage {row['coverage']:.3f}  "
        f"width/ideal {row['width_ratio']:.2f}  bias |{row['bias_abs_mean']:.3f}|  "
        f"{seconds:.1f} s"
    )
    return row, ratings, pairs, rank1


# --------------------------------------------------------------------------- tables
def _pct(v) -> str:
    return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{100 * v:.0f} %"


def _ok(v, lo, hi) -> str:
    if v is None or np.isnan(v):
        return ""
    return "" if lo <= v <= hi else " ✗"


def markdown(
    designs: pd.DataFrame, pairs_all: pd.DataFrame, rank_all: pd.DataFrame, meta: str
) -> str:
    lines = [meta, ""]
    lines.append(
        "| design | sites | projects | ratings | coverage (± SE) | by criterion | flagged / unflagged "
        "| width ÷ ideal | zero-width | bias mean (max abs) | P 0.90–0.95 pairs: n, ordered "
        "| favourite P(rank 1) → truly first | scoring s / fieldwork |"
    )
    lines.append("|" + "---|" * 13)
    for r in designs.round(6).to_dict("records"):
        r = argparse.Namespace(**r)
        lines.append(
            f"| {r.design} | {r.n_sites} | {r.projects} | {r.ratings} "
            f"| {_pct(r.coverage)} ± {100 * r.coverage_se:.1f}{_ok(r.coverage, *COVERAGE_TARGET)} "
            f"| {_pct(r.coverage_min_criterion)}–{_pct(r.coverage_max_criterion)} "
            f"| {_pct(r.coverage_flagged)} / {_pct(r.coverage_unflagged)} "
            f"| {r.width_ratio:.2f}{_ok(r.width_ratio, 0, WIDTH_TARGET)} "
            f"| {_pct(r.zero_width_share)}{_ok(r.zero_width_share, 0, 0)} "
            f"| {r.bias_mean:+.3f} ({r.bias_abs_max:.2f}) "
            f"| {vars(r)['pairs_0.90-0.95_n']}, {_pct(vars(r)['pairs_0.90-0.95_ordered'])} "
            f"| {_pct(r.rank1_top_reported)} → {_pct(r.rank1_top_truly_first)} "
            f"| {r.scoring_seconds_per_fieldwork:.2f} |"
        )
    lines += [
        "",
        "Pairs, all designs pooled (reported P(winner > loser) → share truly ordered):",
        "",
    ]
    pc = pair_calibration(pairs_all)
    lines.append("| reported P | pairs | mean reported | truly ordered |")
    lines.append("|---|---:|---:|---:|")
    for r in pc.itertuples():
        flag = _ok(r.truly_ordered, *PAIR_TARGET) if r.bin == "0.90-0.95" else ""
        lines.append(
            f"| {r.bin} | {r.n_pairs} | {_pct(r.mean_reported)} | {_pct(r.truly_ordered)}{flag} |"
        )
    lines += ["", "Rank 1, all designs pooled (reported P(rank 1) → share truly first):", ""]
    rc = rank1_calibration(rank_all)
    lines.append("| reported P(rank 1) | sites | mean reported | truly first |")
    lines.append("|---|---:|---:|---:|")
    for r in rc.itertuples():
        lines.append(
            f"| {r.bin} | {r.n_sites} | {_pct(r.mean_reported)} | {_pct(r.truly_first)} |"
        )
    return "\n".join(lines) + "\n"


def targets(designs: pd.DataFrame, pairs_all: pd.DataFrame) -> list[str]:
    out = []
    bad_cov = designs[~designs["coverage"].between(*COVERAGE_TARGET)]["design"].tolist()
    out.append(
        "coverage 85-95 % in every design: "
        + ("met" if not bad_cov else "NOT met (" + ", ".join(bad_cov) + ")")
    )
    bad_w = designs[designs["width_ratio"] > WIDTH_TARGET]["design"].tolist()
    out.append(
        "width <= 1.3 x ideal: " + ("met" if not bad_w else "NOT met (" + ", ".join(bad_w) + ")")
    )
    zero = designs[designs["zero_width_share"] > 0]["design"].tolist()
    out.append(
        "no zero-width interval: " + ("met" if not zero else "NOT met (" + ", ".join(zero) + ")")
    )
    pc = pair_calibration(pairs_all).set_index("bin")
    v = pc.loc["0.90-0.95", "truly_ordered"] if "0.90-0.95" in pc.index else np.nan
    out.append(
        f"pairs at P 0.90-0.95 truly ordered 88-97 %: {_pct(v)} "
        + ("met" if PAIR_TARGET[0] <= v <= PAIR_TARGET[1] else "NOT met")
    )
    return out


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few projects per design (< 3 min)")
    ap.add_argument("--designs", default=",".join(DESIGN_NAMES), help="comma-separated names")
    ap.add_argument("--projects", type=int, default=None, help="projects per design (override)")
    ap.add_argument("--fieldworks", type=int, default=None, help="R: fieldworks behind the truth")
    ap.add_argument("--scored", type=int, default=None, help="K: fieldworks scored per project")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument(
        "--method",
        default=None,
        help="interval_method passed to score_evidence (default: copeval's default)",
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--label", default=None, help="file name stem (default calibration[_quick])")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.designs.split(",") if n.strip()]
    unknown = [n for n in names if n not in DESIGN_NAMES]
    if unknown:
        ap.error(f"unknown design(s) {', '.join(unknown)}; choose from {', '.join(DESIGN_NAMES)}")
    global METHOD
    METHOD = args.method
    R = args.fieldworks or (16 if args.quick else 30)
    K = args.scored or (1 if args.quick else 2)
    stem = args.label or ("calibration_quick" if args.quick else "calibration")
    t_all = time.perf_counter()
    rows, all_ratings, all_pairs, all_rank = [], [], [], []
    for d in DESIGNS:
        if d.name not in names:
            continue
        n_proj = args.projects or (d.quick_projects if args.quick else d.projects)
        row, ratings, pairs, rank1 = run_design(d, seed=args.seed, projects=n_proj, R=R, K=K)
        rows.append(row)
        all_ratings.append(ratings)
        all_pairs.append(pairs)
        all_rank.append(rank1)
    designs = pd.DataFrame(rows)
    ratings = pd.concat(all_ratings, ignore_index=True)
    pairs = pd.concat(all_pairs, ignore_index=True)
    rank1 = pd.concat(all_rank, ignore_index=True)
    total = time.perf_counter() - t_all
    cmd = "python bench/calibrate.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = (
        f"`{cmd.strip()}` — seed {args.seed}, truth from R = {R} fieldworks, K = {K} scored "
        f"fieldwork(s) per project, {total:.0f} s in all."
    )
    md = markdown(designs, pairs, rank1, meta)
    checks = targets(designs, pairs)
    md += "\nTargets: " + "; ".join(checks) + ".\n"
    crit = (
        ratings[ratings["score"].notna()]
        .assign(
            covered=lambda t: (
                (t["lower"] <= t["truth"] + 1e-9) & (t["truth"] <= t["upper"] + 1e-9)
            ),
            width=lambda t: t["upper"] - t["lower"],
        )
        .groupby(["design", "criterion"])
        .agg(
            ratings=("covered", "size"),
            coverage=("covered", "mean"),
            mean_width=("width", "mean"),
            mean_real_sd=("real_sd", "mean"),
            bias_mean=("truth", lambda s: np.nan),
        )
        .reset_index()
    )
    bias = (
        ratings.assign(b=ratings["truth"] - ratings["level"])
        .groupby(["design", "criterion"])["b"]
        .mean()
    )
    crit["bias_mean"] = crit.set_index(["design", "criterion"]).index.map(bias)
    crit["width_ratio"] = crit["mean_width"] / (2 * Z90 * crit["mean_real_sd"])
    pbins = (
        pairs.groupby("design").apply(pair_calibration, include_groups=False).reset_index(level=0)
    )
    rbins = (
        rank1.groupby("design").apply(rank1_calibration, include_groups=False).reset_index(level=0)
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in (
        ("designs", designs),
        ("criteria", crit),
        ("pairs", pbins),
        ("rank1", rbins),
    ):
        atomic_write_csv(frame.round(4), args.out / f"{stem}_{name}.csv")
    atomic_write_text(args.out / f"{stem}_table.md", md)
    print()
    print(md)
    print(f"written: {args.out / stem}_*.csv, {stem}_table.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
