"""Benchmark: the default ``copeval design`` simulation, timed against its 60-second budget.

Usage::

    .venv/bin/python bench/bench_design.py [--sites 100] [--n-boot 400] [--jobs 1] [--repeat 1]

Runs :func:`copeval.design.simulate_design` with the defaults of ``copeval design`` (7
interview counts x 4 survey sizes, 100 simulated sites per design, 400 bootstrap replicates:
2,800 sites scored), prints the machine, the wall time (best of ``--repeat``), the time per
simulated site, the peak resident memory and the recommendation, and checks that a second
run with the same seed gives the identical table.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from copeval.design import describe_design, simulate_design

BUDGET = 60.0


def machine_info() -> str:
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    mem = ""
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.1f} GiB RAM"
    load = ""
    with contextlib.suppress(OSError):
        load = f"; load average {os.getloadavg()[0]:.2f}"
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{mem}; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, pandas {pd.__version__}"
        f"{load}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--n-boot", type=int, default=400)
    ap.add_argument("--jobs", type=int, default=None, help="bootstrap threads (-1: all cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    print(f"machine: {machine_info()}")
    best, table = float("inf"), None
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        table = simulate_design(
            n_sites=args.sites, n_boot=args.n_boot, seed=args.seed, n_jobs=args.jobs
        )
        best = min(best, time.perf_counter() - t0)
    designs = table[["n_interviews_per_group", "n_survey"]].drop_duplicates()
    n_scored = len(designs) * args.sites
    print(
        f"simulate_design: {len(designs)} designs x {args.sites} sites = {n_scored} sites "
        f"scored ({args.n_boot} bootstrap replicates each)"
    )
    print(f"wall time: {best:.1f} s  ({1000 * best / n_scored:.1f} ms per simulated site)")
    print(f"ratio to the {BUDGET:.0f} s budget: {best / BUDGET:.2f}")
    again = simulate_design(
        n_sites=args.sites, n_boot=args.n_boot, seed=args.seed, n_jobs=args.jobs
    )
    same = again.equals(table)
    print(f"same seed, same table: {same}")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {maxrss:.0f} MiB")
    print(describe_design(table))
    status = "PASS" if best < BUDGET and same else "FAIL"
    print(f"target < {BUDGET:.0f} s and reproducible: {status}")
    return 0 if status == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
