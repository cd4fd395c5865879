"""Benchmark: the default ``copeval design`` simulation, timed against its 60-second budget.

Usage::

    .venv/bin/python bench/bench_design.py [--sites 100] [--n-boot 400] [--jobs 1] [--repeat 1]
        [--interval-method model|bootstrap] [--blas-threads 1]

Runs :func:`copeval.design.simulate_design` with the defaults of ``copeval design`` (7
interview counts x 4 survey sizes, 100 simulated sites per design, each design scored as one
project with the model's intervals: 2,800 sites scored), prints the machine, the wall time
(best of ``--repeat``), the time per simulated site, the peak resident memory, the coverage of
the intervals and the recommendation, and checks that a second run with the same seed gives
the identical table. ``--blas-threads`` (default 1) caps the BLAS threads, for timings
that do not depend on how busy a shared machine is (an earlier SVD-based version of the
interval model ran 40 times slower under BLAS thread contention).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # BLAS threads are fixed when numpy is imported
    _threads = "1"
    for _i, _a in enumerate(sys.argv):
        if _a == "--blas-threads" and _i + 1 < len(sys.argv):
            _threads = sys.argv[_i + 1]
        elif _a.startswith("--blas-threads="):
            _threads = _a.split("=", 1)[1]
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, _threads)

import argparse
import platform
import resource
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
    ap.add_argument("--interval-method", default=None, help="model (default) or bootstrap")
    ap.add_argument(
        "--blas-threads", default="1", help="BLAS threads, read before numpy loads (default 1)"
    )
    args = ap.parse_args(argv)
    opts = dict(
        n_sites=args.sites,
        n_boot=args.n_boot,
        seed=args.seed,
        n_jobs=args.jobs,
        interval_method=args.interval_method,
    )
    print(f"machine: {machine_info()}; BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}")
    best, table = float("inf"), None
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        table = simulate_design(**opts)
        best = min(best, time.perf_counter() - t0)
    designs = table[["n_interviews_per_group", "n_survey"]].drop_duplicates()
    n_scored = len(designs) * args.sites
    print(
        f"simulate_design: {len(designs)} designs x {args.sites} sites = {n_scored} sites "
        f"scored ({args.interval_method or 'model'} intervals; {args.n_boot} draws each)"
    )
    cov = table["coverage"]
    print(
        f"coverage of the {table.attrs['settings']['ci']:.0%} intervals (per design and "
        f"criterion): mean {cov.mean():.3f}, range {cov.min():.3f}-{cov.max():.3f}"
    )
    print(f"wall time: {best:.1f} s  ({1000 * best / n_scored:.1f} ms per simulated site)")
    print(f"ratio to the {BUDGET:.0f} s budget: {best / BUDGET:.2f}")
    again = simulate_design(**opts)
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
