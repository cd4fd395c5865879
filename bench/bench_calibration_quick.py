"""Quick calibration check of the scoring's uncertainty model (known truth, fresh fieldwork).

Usage::

    .venv/bin/python bench/bench_calibration_quick.py [--projects 6] [--sites 30] [--seed 0]
                                                      [--method model]

A small, self-contained simulation used while building the model (the team's formal study,
with several generators, is ``bench/calibrate.py``). Valences are generated on the bounded,
rounded -2..+2 scale::

    v = clip(round(a_sc + d_cg + u_scg + b_scgj + e), -2, 2)

with site levels ``a``, fixed stratum offsets ``d``, site-specific stratum deviations ``u``,
source effects ``b`` (normal, or Student t with 3 df for heavy tails) and segment noise
``e``; 15 % of strata are missing at random. The truth of a rating is the expectation of the
measurement at the site (``u``, ``b``, ``e`` redrawn; design fixed), computed exactly, so
bounded-scale bias is part of the error. For each design the script prints the coverage of
the 90 % intervals, the ratio of the mean standard error to the real error (RMSE of the
score around the truth; 1 = right width), how often pairs reported at P(A > B) in
[0.90, 0.95] are truly ordered, and how often the site with the highest P(rank 1) is truly
first (next to the mean of that probability).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from copeval.scoring import score_evidence

STRATA = ("police", "community", "authorities", "field")
CRITERIA = ("C1", "C2", "C3", "C4", "AT")

DESIGNS = {
    "thin (1-2 sources, 1-3 segments)": dict(sources=(1, 2), segments=(1, 3)),
    "standard (2-4 sources)": dict(sources=(2, 4)),
    "rich (4-7 sources)": dict(sources=(4, 7)),
    "heavy-tailed source effects": dict(tail=True),
    "strong stratum deviations (sd 0.8)": dict(su=0.8),
    "wide spread of sites (sd 1.2)": dict(sa=1.2),
    "projects of 2 sites": dict(n_sites=2, projects_factor=12),
}


def _expect(mu: float, sd: float) -> float:
    ks = np.arange(-2, 3)
    lo = np.where(ks == -2, -np.inf, ks - 0.5)
    hi = np.where(ks == 2, np.inf, ks + 0.5)
    return float(((norm.cdf((hi - mu) / sd) - norm.cdf((lo - mu) / sd)) * ks).sum())


def simulate(rng, *, n_sites=30, su=0.4, sb=0.5, se=0.9, sa=0.7, sources=(1, 3),
             segments=(1, 4), tail=False, p_missing=0.15):  # fmt: skip
    """(evidence DataFrame, {(site, criterion): truth})."""
    sd = math.sqrt(su**2 + sb**2 + se**2)
    d = rng.normal(0, 0.3, (len(CRITERIA), len(STRATA)))
    rows, truth, k = [], {}, 0
    for s in range(n_sites):
        site = f"S{s:03d}"
        for ci, c in enumerate(CRITERIA):
            a = rng.normal(0, sa)
            present = [g for g in range(4) if rng.random() > p_missing] or [0]
            truth[(site, c)] = 2 + float(np.mean([_expect(a + d[ci, g], sd) for g in present]))
            for g in present:
                u = rng.normal(0, su)
                for j in range(rng.integers(sources[0], sources[1] + 1)):
                    b = rng.standard_t(3) * sb / math.sqrt(3) if tail else rng.normal(0, sb)
                    for _ in range(rng.integers(segments[0], segments[1] + 1)):
                        v = np.clip(np.round(a + d[ci, g] + u + b + rng.normal(0, se)), -2, 2)
                        rows.append((f"g{k}", f"{site}-{c}-{g}-{j}", site, STRATA[g], c, v))
                        k += 1
    ev = pd.DataFrame(
        rows, columns=["segment_id", "source_id", "site_id", "stratum", "criterion", "valence"]
    )
    return ev, truth


def evaluate(design: dict, *, projects: int, sites: int, seed: int, method: str) -> dict:
    design = dict(design)
    factor = design.pop("projects_factor", 1)
    n_sites = design.pop("n_sites", sites)
    rng = np.random.default_rng(seed)
    tables, pairs, firsts = [], [], []
    for i in range(projects * factor):
        ev, truth = simulate(rng, n_sites=n_sites, **design)
        res = score_evidence(ev, draws=1000, seed=i, interval_method=method)
        t = res.table.copy()
        t["truth"] = [truth[k] for k in zip(t["site_id"], t["criterion"], strict=True)]
        tables.append(t)
        tv = t.set_index(["site_id", "criterion"])["truth"]
        pw = res.pairwise()
        ta = tv.reindex(pd.MultiIndex.from_arrays([pw["site_a"], pw["criterion"]])).to_numpy()
        tb = tv.reindex(pd.MultiIndex.from_arrays([pw["site_b"], pw["criterion"]])).to_numpy()
        # orient each pair so that p is P(higher-rated site > other)
        p = np.where(pw["p_a_greater"] >= pw["p_b_greater"], pw["p_a_greater"], pw["p_b_greater"])
        right = np.where(pw["p_a_greater"] >= pw["p_b_greater"], ta > tb, tb > ta)
        pairs.append(pd.DataFrame({"p": p, "right": right}))
        if n_sites > 2:
            rk = res.ranks().query("rank == 1")
            for crit, grp in rk.groupby("criterion"):
                top = grp.loc[grp["probability"].idxmax()]
                best = tv.xs(crit, level="criterion").idxmax()
                firsts.append((top["probability"], top["site_id"] == best))
    t = pd.concat(tables)
    covered = (t["lower"] <= t["truth"]) & (t["truth"] <= t["upper"])
    rmse = float(np.sqrt(((t["score"] - t["truth"]) ** 2).mean()))
    pr = pd.concat(pairs)
    band = pr[(pr["p"] >= 0.90) & (pr["p"] < 0.95)]
    out = {
        "ratings": len(t),
        "coverage": covered.mean(),
        "se/rmse": t["se"].mean() / rmse,
        "pairs 0.90-0.95": len(band),
        "truly ordered": band["right"].mean() if len(band) else float("nan"),
    }
    if firsts:
        f = np.array(firsts, dtype=float)
        out["mean P(rank 1)"] = f[:, 0].mean()
        out["truly first"] = f[:, 1].mean()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, default=6)
    ap.add_argument("--sites", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", default="model", choices=["model", "bootstrap"])
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = []
    for k, (name, design) in enumerate(DESIGNS.items()):
        res = evaluate(design, projects=args.projects, sites=args.sites, seed=args.seed + k,
                       method=args.method)  # fmt: skip
        rows.append({"design": name, **res})
        print(f"{name}: " + ", ".join(f"{key} {v:.3g}" for key, v in res.items()), flush=True)
    table = pd.DataFrame(rows)
    print()
    print(table.to_markdown(index=False, floatfmt=".3g"))
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
