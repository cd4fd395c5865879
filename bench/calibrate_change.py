"""Calibration of change between rounds: do copeval's change intervals mean what they say?

Usage::

    .venv/bin/python bench/calibrate_change.py --quick     # 10 designs, prints the tables
    .venv/bin/python bench/calibrate_change.py             # full study (docs/method.md)

Every simulated **project** has ``n_sites`` sites measured in two rounds. Per site and
criterion the study draws a latent level in round 1 (uniform 0.5..3.5) and a **true change**
(uniform -1..+1.5; the level in round 2 is clipped to 0.3..3.7), the project's stratum offsets
and the fieldwork design of each round (strata present, sources per stratum, criteria each
source speaks to, segments, survey clusters and respondents). It then simulates ``R + K``
joint **fieldworks** of both rounds:

- site-specific stratum deviations ``u`` are redrawn per fieldwork, with a between-round
  correlation ``rho_u`` (their *persistence*: the same kinds of interviewees, the same
  neighbourhoods);
- source effects (a source's own disposition, 60 % shared across criteria) are redrawn;
  in a **paired** design round 2 re-interviews the same people (``panel_id``) and their
  effects keep a correlation ``rho_b``, and the survey is a **panel** (same
  ``respondent_id``, individual effects correlated ``rho_i``); in an **independent** design
  everything is new; sampling clusters are the same places in both rounds (cluster effects
  correlated 0.5);
- valences are a rounded, clipped normal (or, in one design, with Student t source effects);
  survey scores are means of three Likert items scored 0..4.

**Truth** of a change = the mean over the first ``R`` fieldworks of copeval's *point*
change (round 2 score minus round 1 score: what a report prints); the **real sampling SD**
= their standard deviation. The last ``K`` fieldworks are scored as real projects
(:func:`copeval.change.estimate_change`) and their intervals and P(improved) checked (with
the flat prior's alongside, from ``ChangeResult.measurement``): coverage, width, precision
of P(improved) > 0.9 and P(worsened) > 0.9 (count and Clopper-Pearson interval below 30
calls), calibration of P(improved) in bins, and the consistency of intervals and
probabilities. Some designs leave a share of the ratings with no true change
(``null_share``) or draw small or mostly positive changes (``changes``). The
generator does not share the scoring model's assumptions (rounding and clipping, shared
source effects, t effects, cluster effects); designs were fixed before the results were
seen. Everything is seeded (``--seed``).
"""

from __future__ import annotations

# ruff: noqa: E402
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from copeval import scoring
from copeval._io import atomic_write_csv, atomic_write_text
from copeval.change import estimate_change
from copeval.params import ScoringParams
from copeval.vocabulary import CRITERIA, STRATA

Z90 = 1.6448536269514722
COVERAGE_TARGET = (0.85, 0.95)
WIDTH_TARGET = 1.3
PRECISION_TARGET = 0.9


@dataclass(frozen=True)
class Design:
    name: str
    n_sites: int
    paired: bool
    rho_u: float = 0.6  # persistence of site-specific stratum deviations
    rho_b: float = 0.7  # persistence of a re-interviewed source's effect
    rho_i: float = 0.6  # persistence of a panel respondent's individual effect
    sd_u: float = 0.4
    sd_b: float = 0.5
    sd_e: float = 0.9
    t_effects: bool = False
    survey: bool = True
    null_share: float = 0.0  # share of site x criteria with no true change
    # distribution of the other true changes: "issue" uniform -1..+1.5 (issue 15), "small"
    # uniform -0.3..+0.3, "mostly_improved" 80 % uniform +0.5..+1.5 and 20 % "issue"
    changes: str = "issue"


DESIGNS = {
    d.name: d
    for d in (
        Design("independent_2", 2, False),
        Design("independent_20", 20, False),
        Design("paired_2", 2, True),
        Design("paired_20", 20, True),
        Design("no_persistence_2", 2, False, rho_u=0.0),
        Design("no_persistence_20", 20, False, rho_u=0.0),
        Design("full_persistence_2", 2, True, rho_u=0.95, rho_b=0.9),
        Design("full_persistence_20", 20, True, rho_u=0.95, rho_b=0.9),
        Design("qual_only_t_20", 20, True, t_effects=True, survey=False),
        Design("half_null_20", 20, False, null_share=0.5),
        # added after the first study, designs the model was not tuned on
        Design("all_null_20", 20, False, null_share=1.0),
        Design("all_null_2", 2, True, null_share=1.0),
        Design("small_changes_20", 20, False, changes="small"),
        Design("small_changes_2", 2, True, changes="small"),
        Design("half_null_2", 2, False, null_share=0.5),
        Design("mostly_improved_20", 20, True, changes="mostly_improved"),
        Design("mostly_improved_2", 2, False, changes="mostly_improved"),
    )
}
QUICK = (
    "independent_2",
    "independent_20",
    "paired_2",
    "paired_20",
    "half_null_20",
    "all_null_20",
    "small_changes_20",
    "half_null_2",
    "all_null_2",
    "mostly_improved_20",
)


def _rng(seed: int, *words) -> np.random.Generator:
    digest = hashlib.sha256("\x00".join(map(str, words)).encode()).digest()
    key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


# --------------------------------------------------------------------------- design
def draw_fixed(design: Design, rng):
    S, C = design.n_sites, len(CRITERIA)
    L1 = rng.uniform(0.5, 3.5, size=(S, C))
    delta = rng.uniform(-1.0, 1.5, size=(S, C))
    if design.changes == "small":
        delta = rng.uniform(-0.3, 0.3, size=(S, C))
    elif design.changes == "mostly_improved":
        up = rng.random((S, C)) < 0.8
        delta[up] = rng.uniform(0.5, 1.5, size=int(up.sum()))
    if design.null_share:
        delta[rng.random((S, C)) < design.null_share] = 0.0
    L2 = np.clip(L1 + delta, 0.3, 3.7)
    d = rng.normal(0.0, 0.3, size=(C, len(STRATA)))
    sites = [f"S{i:02d}" for i in range(S)]
    rounds = {}
    sources1 = None
    for rnd in ("1", "2"):
        if design.paired and sources1 is not None:
            src = sources1.assign(
                source_id=sources1["source_id"].str.replace("r1-", "r2-", regex=False)
            )
        else:
            rows = []
            for s in range(S):
                present = [0, 1] + [g for g, p in ((2, 0.7), (3, 0.5)) if rng.random() < p]
                for g in present:
                    k = int(rng.integers(2, 6 if g == 1 else 4))
                    for j in range(k):
                        rows.append((f"r{rnd}-{sites[s]}-{STRATA[g]}-{j}", s, g, f"P{s}-{g}-{j}"))
            src = pd.DataFrame(rows, columns=["source_id", "s", "g", "panel_id"])
            if sources1 is None:
                sources1 = src
        segs = []
        for i in range(len(src)):
            for c in range(C):
                if rng.random() < 0.8:
                    segs.extend([(i, c)] * (1 + int(rng.poisson(1.5))))
        seg = np.array(segs)
        resp = None
        if design.survey:
            n_cl, per = 6, int(rng.integers(6, 11))
            rr = [
                (s, k, f"{sites[s]}-R{k}-{j}")
                for s in range(S)
                for k in range(n_cl)
                for j in range(per)
            ]
            resp = pd.DataFrame(rr, columns=["s", "k", "respondent_id"])
            if not design.paired:
                resp["respondent_id"] = resp["respondent_id"] + f"-w{rnd}"
            elif rnd == "2":
                resp = rounds["1"]["resp"].copy()
        rounds[rnd] = {"src": src, "seg": seg, "resp": resp}
    return {"L": (L1, L2), "d": d, "sites": sites, "rounds": rounds}


def simulate(design: Design, fixed, F: int, rng):
    """Evidence and respondents of ``F`` joint fieldworks (site IDs prefixed ``NNNN|``)."""
    S, C, G = design.n_sites, len(CRITERIA), len(STRATA)
    ru = design.rho_u
    u1 = rng.normal(0, design.sd_u, size=(F, S, C, G))
    u2 = ru * u1 + np.sqrt(1 - ru**2) * rng.normal(0, design.sd_u, size=(F, S, C, G))
    us = {"1": u1, "2": u2}
    n_src = len(fixed["rounds"]["1"]["src"])

    def effects(n):
        if design.t_effects:
            z = rng.standard_t(3, size=(F, n, C + 1)) / np.sqrt(3.0)
        else:
            z = rng.standard_normal((F, n, C + 1))
        return design.sd_b * (0.6 * z[:, :, :1] + 0.8 * z[:, :, 1:])

    b1 = effects(n_src)
    if design.paired:
        rb = design.rho_b
        b2 = rb * b1 + np.sqrt(1 - rb**2) * effects(n_src)
    else:
        b2 = effects(len(fixed["rounds"]["2"]["src"]))
    bs = {"1": b1, "2": b2}
    # survey
    n_cl = 6
    cl1 = rng.normal(0, 0.3, size=(F, S, n_cl))
    cl2 = 0.5 * cl1 + np.sqrt(0.75) * rng.normal(0, 0.3, size=(F, S, n_cl))
    cls = {"1": cl1, "2": cl2}
    ind = {}
    if design.survey:
        n1 = len(fixed["rounds"]["1"]["resp"])
        i1 = rng.normal(0, 0.6, size=(F, n1, 1))
        if design.paired:
            ri = design.rho_i
            i2 = ri * i1 + np.sqrt(1 - ri**2) * rng.normal(0, 0.6, size=(F, n1, 1))
        else:
            i2 = rng.normal(0, 0.6, size=(F, len(fixed["rounds"]["2"]["resp"]), 1))
        ind = {"1": i1, "2": i2}
    ev_frames, resp_frames = [], []
    prefix = np.array([f"{f:04d}|" for f in range(F)], dtype=object)
    for k, rnd in enumerate(("1", "2")):
        L = fixed["L"][k]
        R = fixed["rounds"][rnd]
        src, seg = R["src"], R["seg"]
        si, c = seg[:, 0], seg[:, 1]
        s, g = src["s"].to_numpy()[si], src["g"].to_numpy()[si]
        mu = L[s, c] - 2.0 + fixed["d"][c, g]
        val = (
            mu[None, :]
            + us[rnd][:, s, c, g]
            + bs[rnd][:, si, c]
            + rng.normal(0, design.sd_e, size=(F, len(seg)))
        )
        val = np.clip(np.rint(val), -2, 2)
        n = len(seg)
        site_ids = np.array(fixed["sites"], dtype=object)[s]
        ev_frames.append(
            pd.DataFrame(
                {
                    "segment_id": np.repeat(prefix, n)
                    + np.tile(np.char.add(f"{rnd}-", np.arange(n).astype(str)).astype(object), F),
                    "source_id": np.repeat(prefix, n)
                    + np.tile(src["source_id"].to_numpy()[si].astype(object), F),
                    "site_id": np.repeat(prefix, n) + np.tile(site_ids, F),
                    "stratum": np.tile(np.array(STRATA, dtype=object)[g], F),
                    "criterion": np.tile(np.array(CRITERIA, dtype=object)[c], F),
                    "valence": val.reshape(-1),
                    "round": rnd,
                    "panel_id": np.tile(src["panel_id"].to_numpy()[si].astype(object), F)
                    if design.paired
                    else None,
                }
            )
        )
        if design.survey:
            rs = R["resp"]
            rsite, rcl = rs["s"].to_numpy(), rs["k"].to_numpy()
            m = len(rs)
            latent = (
                L[rsite, :][None, :, :]
                + cls[rnd][:, rsite, rcl][:, :, None]
                + ind[rnd]
                + rng.normal(0, 0.5, size=(F, m, C))
            )
            items = np.clip(np.rint(latent[..., None] + rng.normal(0, 0.8, (F, m, C, 3))), 0, 4)
            score = items.mean(axis=-1)  # F x m x C
            site_ids = np.array(fixed["sites"], dtype=object)[rsite]
            resp_frames.append(
                pd.DataFrame(
                    {
                        "respondent_id": np.repeat(
                            np.repeat(prefix, m) + np.tile(rs["respondent_id"].to_numpy(), F), C
                        ),
                        "instrument": "community",
                        "site_id": np.repeat(np.repeat(prefix, m) + np.tile(site_ids, F), C),
                        "criterion": np.tile(np.array(CRITERIA, dtype=object), F * m),
                        "score": score.reshape(-1),
                        "weight": 1.0,
                        "cluster": np.repeat(
                            np.repeat(prefix, m)
                            + np.tile((site_ids + "-K" + rcl.astype(str)).astype(object), F),
                            C,
                        ),
                        "round": rnd,
                    }
                )
            )
    ev = pd.concat(ev_frames, ignore_index=True)
    resp = pd.concat(resp_frames, ignore_index=True) if resp_frames else None
    return ev, resp


def point_change(ev, resp) -> pd.DataFrame:
    """Point change (round 2 - round 1) per site x criterion, copeval's printed estimator."""
    out = []
    for rnd in ("1", "2"):
        e = ev[ev["round"] == rnd]
        r = resp[resp["round"] == rnd] if resp is not None else None
        q = scoring.qualitative_scores(e.drop(columns=["round", "panel_id"]))
        s = scoring.survey_scores(r.drop(columns="round")) if r is not None else None
        out.append(scoring.combine(q, s).set_index(["site_id", "criterion"])["score"])
    return (out[1] - out[0]).rename("change").reset_index()


def run_project(design: Design, p: int, *, seed: int, R: int, K: int, params):
    rng = _rng(seed, design.name, p, "fixed")
    fixed = draw_fixed(design, rng)
    ev, resp = simulate(design, fixed, R + K, _rng(seed, design.name, p, "fieldworks"))
    fw_ev = ev["site_id"].str[:4]
    fw_resp = resp["site_id"].str[:4] if resp is not None else None
    truth_ev = ev[fw_ev < f"{R:04d}"]
    truth_resp = resp[fw_resp < f"{R:04d}"] if resp is not None else None
    pc = point_change(truth_ev, truth_resp)
    pc["site"] = pc["site_id"].str[5:]
    truth = pc.groupby(["site", "criterion"])["change"].agg(["mean", "std"]).reset_index()
    truth.columns = ["site_id", "criterion", "truth", "real_sd"]
    rows = []
    for f in range(R, R + K):
        tag = f"{f:04d}|"
        e = ev[fw_ev == f"{f:04d}"].assign(
            site_id=lambda x: x["site_id"].str[5:], source_id=lambda x: x["source_id"].str[5:]
        )
        r = None
        if resp is not None:
            r = resp[fw_resp == f"{f:04d}"].assign(
                site_id=lambda x: x["site_id"].str[5:],
                respondent_id=lambda x: x["respondent_id"].str[5:],
                cluster=lambda x: x["cluster"].str[5:],
            )
        res = estimate_change(e, r, round_from="1", round_to="2", params=params)
        cols = ["site_id", "criterion", "change", "lower", "upper"]
        t = res.table[[*cols, "p_improved", "p_worsened", "p_unchanged"]]
        m = res.measurement
        t = t.assign(
            center=m["center"].to_numpy(),
            se=m["se"].to_numpy(),
            df=m["df"].to_numpy(),
            flat_lower=m["flat_lower"].to_numpy(),
            flat_upper=m["flat_upper"].to_numpy(),
            flat_p_improved=m["flat_p_improved"].to_numpy(),
            null_share=res.change_fit["null_share"],
            project=p,
            fieldwork=f,
            rho_u=res.persistence.rho["stratum"],
            rho_b=res.persistence.rho["source"],
            pairing=res.table["pairing"],
        )
        rows.append(t)
        del tag
    out = pd.concat(rows, ignore_index=True).merge(truth, on=["site_id", "criterion"])
    latent = pd.DataFrame(
        {
            "site_id": np.repeat(fixed["sites"], len(CRITERIA)),
            "criterion": np.tile(CRITERIA, design.n_sites),
            "latent_change": (fixed["L"][1] - fixed["L"][0]).reshape(-1),
        }
    )
    return out.merge(latent, on=["site_id", "criterion"])


def _binom_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval of a proportion k / n."""
    from scipy import stats

    a = (1 - level) / 2
    lo = stats.beta.ppf(a, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(1 - a, k + 1, n - k) if k < n else 1.0
    return float(lo), float(hi)


#: Below this many calls a precision gets its count and binomial interval, not a verdict.
MIN_CALLS = 30
#: Bins of reported P(improved) for the calibration table.
BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)


def evaluate(d: pd.DataFrame, *, lower="lower", upper="upper", p_imp="p_improved", p_wor=None):
    """Coverage, width, precision of the calls and consistency of one set of results."""
    covered = (d[lower] <= d["truth"] + 1e-9) & (d["truth"] - 1e-9 <= d[upper])
    width = (d[upper] - d[lower]) / (2 * Z90 * d["real_sd"])
    pw = d[p_wor] if p_wor else 1.0 - d[p_imp]
    out = {"coverage": float(covered.mean()), "width_ratio": float(width.mean())}
    for name, sure, truly in (
        ("improved", d[p_imp] > 0.9, d["latent_change"] > 0),
        ("worsened", pw > 0.9, d["latent_change"] < 0),
    ):
        k, n = int((sure & truly).sum()), int(sure.sum())
        out[f"n_{name}"] = n
        # "truly improved": the designed (latent) change is positive; the measured truth of
        # a zero change is not exactly 0 (a different mix of interviewees)
        out[f"precision_{name}"] = k / n if n else np.nan
        out[f"ci_{name}"] = _binom_ci(k, n) if n else (np.nan, np.nan)
    # consistency: an interval that leaves 0 out agrees with its probability
    need = 0.95
    out["inconsistent"] = int(
        ((d[lower] > 0) & (d[p_imp] < need)).sum() + ((d[upper] < 0) & (pw < need)).sum()
    )
    return out


def calibration(d: pd.DataFrame, p_imp="p_improved") -> pd.DataFrame:
    """Reported P(improved) in bins against the share truly improved."""
    b = pd.cut(d[p_imp], BINS, include_lowest=True)
    g = d.assign(bin=b, truly=d["latent_change"] > 0).groupby("bin", observed=True)
    return g.agg(n=("truly", "size"), reported=(p_imp, "mean"), truly=("truly", "mean"))


def summarise(design: Design, d: pd.DataFrame, seconds: float) -> dict:
    d = d[d["change"].notna()]
    new = evaluate(d, p_wor="p_worsened")
    flat = evaluate(d, lower="flat_lower", upper="flat_upper", p_imp="flat_p_improved")
    return {
        "design": design.name,
        "sites": design.n_sites,
        "pairing": "paired" if design.paired else "independent",
        "null_share_true": design.null_share,
        "null_share_used": float(d["null_share"].mean()),
        "rho_u_true": design.rho_u,
        "rho_u_used": float(d["rho_u"].mean()),
        "n_changes": len(d),
        **new,
        **{f"flat_{k}": v for k, v in flat.items()},
        "seconds": round(seconds, 1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="small study (12 projects per 2-site design, 2 per 20-site design)",
    )
    ap.add_argument("--designs", help="comma-separated design names")
    ap.add_argument("--projects", type=int, help="projects per design")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--truth-fieldworks", type=int, help="R: fieldworks behind the truth")
    ap.add_argument("--scored-fieldworks", type=int, help="K: fieldworks scored per project")
    ap.add_argument("--out", type=Path, default=Path("bench/results"))
    args = ap.parse_args(argv)
    names = args.designs.split(",") if args.designs else (QUICK if args.quick else DESIGNS)
    R, K = (50, 6) if args.quick else (100, 10)
    R, K = args.truth_fieldworks or R, args.scored_fieldworks or K
    params = ScoringParams(draws=20, seed=1)
    rows, details = [], []
    for name in names:
        design = DESIGNS[name]
        n_proj = args.projects or (
            (12 if design.n_sites <= 2 else 2)
            if args.quick
            else (16 if design.n_sites <= 2 else 4)
        )
        t0 = time.perf_counter()
        frames = [
            run_project(design, p, seed=args.seed, R=R, K=K, params=params) for p in range(n_proj)
        ]
        d = pd.concat(frames, ignore_index=True).assign(design=name)
        details.append(d)
        rows.append(summarise(design, d, time.perf_counter() - t0))
        print(pd.DataFrame([rows[-1]]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    allx = pd.concat(details, ignore_index=True)
    allx = allx[allx["change"].notna()]
    cal = []
    for name, sub in [("all", allx), *allx.groupby("design", sort=False)]:
        c = calibration(sub).reset_index()
        c["bin_index"] = np.arange(len(BINS) - 1)[c["bin"].cat.codes.to_numpy()]
        cal.append(c.drop(columns="bin").assign(design=name))
    cal = pd.concat(cal, ignore_index=True)
    suffix = "_quick" if args.quick else ""
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_csv(table, args.out / f"change{suffix}_designs.csv")
    atomic_write_csv(pd.concat(details), args.out / f"change{suffix}_details.csv")
    atomic_write_csv(cal, args.out / f"change{suffix}_calibration.csv")
    md = markdown(table, R, K, cal)
    atomic_write_text(args.out / f"change{suffix}_table.md", md)
    print()
    print(md)
    return 0


def _prec(n, prec, ci) -> str:
    if not n:
        return "0, -"
    if n < MIN_CALLS:
        return f"{n}, {prec:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"
    return f"{n}, {prec:.3f}" + ("" if prec >= PRECISION_TARGET else " ✗")


def markdown(table: pd.DataFrame, R: int, K: int, cal: pd.DataFrame | None = None) -> str:
    def ok(v, lo, hi):
        return f"{v:.3f}" + ("" if lo <= v <= hi else " ✗")

    lines = [
        "| design | sites | pairing | null share true / used | changes | coverage (90 %) | "
        "width / real | P(improved)>0.9: n, precision | P(worsened)>0.9: n, precision | "
        "inconsistent | flat prior: P(imp)>0.9 / P(wor)>0.9 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        lines.append(
            f"| {r.design} | {r.sites} | {r.pairing} | "
            f"{r.null_share_true:.2f} / {r.null_share_used:.2f} | {r.n_changes} | "
            f"{ok(r.coverage, *COVERAGE_TARGET)} | {ok(r.width_ratio, 0, WIDTH_TARGET)} | "
            f"{_prec(r.n_improved, r.precision_improved, r.ci_improved)} | "
            f"{_prec(r.n_worsened, r.precision_worsened, r.ci_worsened)} | {r.inconsistent} | "
            f"{_prec(r.flat_n_improved, r.flat_precision_improved, r.flat_ci_improved)} / "
            f"{_prec(r.flat_n_worsened, r.flat_precision_worsened, r.flat_ci_worsened)} |"
        )
    lines.append("")
    lines.append(
        f"Truth from {R} joint fieldworks per project; {K} scored fieldworks each. "
        f"Precision with fewer than {MIN_CALLS} calls: count, precision [95 % Clopper-Pearson "
        "interval], no verdict. Inconsistent: intervals that leave 0 out on one side while "
        "the probability of that side is below 0.95."
    )
    if cal is not None and len(cal):
        lines += ["", "Calibration of P(improved), all designs above pooled and per design:", ""]
        heads = [f"{BINS[i]:.1f}-{BINS[i + 1]:.1f}" for i in range(len(BINS) - 1)]
        lines.append("| design | " + " | ".join(heads) + " |")
        lines.append("|---|" + "---|" * len(heads))
        for name, sub in cal.groupby("design", sort=False):
            cells = []
            for i in range(len(heads)):
                row = sub[sub["bin_index"] == i]
                cells.append(
                    "-"
                    if row.empty
                    else f"{row['reported'].iloc[0]:.2f} / {row['truly'].iloc[0]:.2f} "
                    f"({int(row['n'].iloc[0])})"
                )
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("Each cell: mean reported P(improved) / share truly improved (ratings).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
