"""Benchmark: inter-coder reliability of one long source, exact and overlap unitizing.

Usage::

    .venv/bin/python bench/bench_reliability.py [--chars 50000] [--codes 30] [--coders 3]
                                                [--n-boot 1000] [--seed 0] [--repeat 3]

Builds one source of ``--chars`` characters coded by ``--coders`` coders: the first coder
puts every one of ``--codes`` codes on about ``--chars / 400`` spans of 60-300 characters
(so the text is coded several times over); every other coder keeps each span with
probability 0.9, moves its start and end by up to 5 characters, and changes its valence
with probability 0.2. Times :func:`copeval.reliability.code_reliability` with
``n_boot=0`` and ``--n-boot`` replicates, :func:`criterion_reliability` and
:func:`scoring_gate`, for each unitizing, and prints the best of ``--repeat`` wall times,
the number of units and the process's peak resident memory.

``--demo-shift N`` instead measures boundary sensitivity on ``data/demo``: it moves the
start of N of coder B's segments on double-coded, consented sources by 2 characters
(seeded) and prints the pooled and per-criterion alphas for both unitizings, before and
after.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from copeval.reliability import (
    _Units,
    code_reliability,
    criterion_reliability,
    scoring_gate,
)

CODES = [f"{c}.b{i:02d}" for c in ("C1", "C2", "C3", "C4", "AT") for i in range(6)]


def make_segments(n_chars: int, n_codes: int, n_coders: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    codes = (CODES * (n_codes // len(CODES) + 1))[:n_codes]
    codes = [f"{c}{'' if i < len(CODES) else i}" for i, c in enumerate(codes)]
    per_code = max(1, n_chars // 400)
    code = np.repeat(codes, per_code)
    length = rng.integers(60, 300, size=len(code))
    start = rng.integers(0, n_chars - 300, size=len(code))
    valence = rng.integers(-2, 3, size=len(code))
    frames = []
    for k in range(n_coders):
        if k == 0:
            keep = np.ones(len(code), dtype=bool)
            s, e, v = start, start + length, valence
        else:
            keep = rng.random(len(code)) < 0.9
            s = np.clip(start + rng.integers(-5, 6, size=len(code)), 0, None)
            e = np.maximum(start + length + rng.integers(-5, 6, size=len(code)), s + 1)
            v = np.where(rng.random(len(code)) < 0.2, rng.integers(-2, 3, size=len(code)), valence)
        frames.append(
            pd.DataFrame(
                {
                    "segment_id": [f"K{k}-{i:06d}" for i in range(len(code))],
                    "source_id": "S1",
                    "start": s,
                    "end": e,
                    "code": code,
                    "criterion": [c.split(".")[0] for c in code],
                    "valence": v,
                    "coder": f"K{k}",
                }
            )[keep]
        )
    return pd.concat(frames, ignore_index=True)


def demo_shift(n: int, by: int, seed: int) -> None:
    from copeval.project import load_project

    repo = Path(__file__).resolve().parents[1]
    project = load_project(repo / "data" / "demo")
    consented = project.sources.loc[project.sources["consent"] != "none", "source_id"]
    seg = project.segments[project.segments["source_id"].isin(consented)]
    counts = seg.groupby("source_id")["coder"].nunique()
    pool = seg.index[(seg["coder"] == "B") & seg["source_id"].isin(counts[counts >= 2].index)]
    pick = np.random.default_rng(seed).choice(pool, size=n, replace=False)
    moved = seg.copy()
    moved.loc[pick, "start"] += by
    print(f"data/demo: {n} of coder B's {len(pool)} shared segments start {by} characters later")
    for unitizing in ("exact", "overlap"):
        for label, s in (("as coded", seg), ("moved", moved)):
            overall = code_reliability(s, n_boot=0, unitizing=unitizing).iloc[-1]
            crit = criterion_reliability(s, n_boot=0, unitizing=unitizing)
            per = " ".join(
                f"{c} {a:.3f}"
                for c, a in zip(crit["criterion"], crit["alpha_ordinal"], strict=True)
            )
            print(
                f"  {unitizing:<8} {label:<9} ALL presence {overall['alpha_nominal']:.3f} "
                f"valence {overall['alpha_ordinal']:.3f} | criterion valence {per}"
            )


def best_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=50_000)
    ap.add_argument("--codes", type=int, default=30)
    ap.add_argument("--coders", type=int, default=3)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--demo-shift", type=int, metavar="N", default=None)
    args = ap.parse_args()
    if args.demo_shift is not None:
        demo_shift(args.demo_shift, 2, args.seed)
        return
    segs = make_segments(args.chars, args.codes, args.coders, args.seed)
    print(
        f"{len(segs)} segments, {args.codes} codes, {args.coders} coders, one source of "
        f"{args.chars} characters; {os.cpu_count()} CPU(s)"
    )
    for unitizing in ("exact", "overlap"):
        units = _Units(segs, unitizing)
        print(f"\n{unitizing}: {units.n_units} units, {units.n_blocks} bootstrap blocks")
        for label, func in (
            (
                "code_reliability n_boot=0",
                lambda u=unitizing: code_reliability(segs, n_boot=0, unitizing=u),
            ),
            (
                f"code_reliability n_boot={args.n_boot}",
                lambda u=unitizing: code_reliability(segs, n_boot=args.n_boot, unitizing=u),
            ),
            (
                "criterion_reliability n_boot=0",
                lambda u=unitizing: criterion_reliability(segs, n_boot=0, unitizing=u),
            ),
            ("scoring_gate", lambda u=unitizing: scoring_gate(segs, unitizing=u)),
        ):
            print(f"  {label:<36} {best_of(args.repeat, func):7.2f} s")
    table = code_reliability(segs, n_boot=0, unitizing="overlap")
    print("\noverlap, ALL row:", table.iloc[-1][["alpha_nominal", "alpha_ordinal"]].to_dict())
    table = code_reliability(segs, n_boot=0, unitizing="exact")
    print("exact, ALL row:  ", table.iloc[-1][["alpha_nominal", "alpha_ordinal"]].to_dict())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
