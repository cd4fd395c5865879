"""Benchmark: national scoring, 340 synthetic sites x 5 criteria, both interval methods.

Usage::

    .venv/bin/python bench/bench_scoring.py [--sites 340] [--draws 2000] [--seed 1]
                                            [--n-jobs 1] [--repeat 3]
                                            [--methods model,bootstrap]

Generates a synthetic project (``copeval.synth``, the project ``copeval synth --sites 340
--seed 1`` makes: about 12 sources, 90 segments and 110 survey respondents per site), writes
and loads it, then times, for each interval method side by side (``model``: the default
variance-components model with 2,000 comparison draws; ``bootstrap``: the former stratified
bootstrap with 2,000 replicates):

- ``core``: :func:`copeval.scoring.score_evidence` on the project's evidence and respondent
  scores (scores, combination, uncertainty, intervals, comparison draws);
- ``score_sites``: the whole :func:`copeval.scoring.score_sites` call, which also computes
  the respondent scores (``copeval.survey``) and the reliability gate
  (``copeval.reliability.scoring_gate``) from the project;
- ``pairwise`` and ``ranks``: all-pairs P(A > B) and rank probabilities from the draws.

Wall times are the best of ``--repeat`` runs. Peak memory is measured in a separate run
under ``tracemalloc`` (Python and NumPy allocations during the call), and the process's
maximum resident set size is reported at the end. Target (issue 12): national scoring with
the default method (``score_sites``) <= 15 s and <= 1 GiB on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from copeval.project import load_project
from copeval.scoring import score_evidence, score_sites
from copeval.survey import respondent_scores
from copeval.synth import synth_project


def machine_info() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.1f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{mem}; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, pandas {pd.__version__}"
    )


def best_time(fn, repeat: int) -> tuple[float, float, object]:
    """Best wall time of ``repeat`` runs, the CPU time of that run, and its result."""
    best, cpu, result = float("inf"), float("nan"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    return best, cpu, result


def peak_memory(fn) -> float:
    """Peak traced allocation (MiB) while running fn."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=340)
    ap.add_argument("--draws", "--n-boot", dest="draws", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n-jobs", type=int, default=1, help="bootstrap threads (-1: all cores)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--methods", default="model,bootstrap")
    args = ap.parse_args(argv)

    print(f"machine: {machine_info()}")
    print("load average at start (other processes): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    t0 = time.perf_counter()
    synthetic = synth_project(args.sites, seed=args.seed)
    t_synth = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        synthetic.write(Path(tmp) / "bench")
        project = load_project(Path(tmp) / "bench")
        t_io = time.perf_counter() - t0
    evidence = project.evidence()
    respondents = respondent_scores(project.items, project.responses)
    sites = list(project.sites["site_id"])
    print(
        f"project: {len(sites)} sites, {len(project.sources)} sources, "
        f"{len(evidence)} scored segments, {respondents['respondent_id'].nunique()} "
        f"respondents ({len(respondents)} respondent x criterion scores); "
        f"generated in {t_synth:.1f} s, written and loaded in {t_io:.1f} s"
    )
    print(f"settings: draws={args.draws}, seed={args.seed}, n_jobs={args.n_jobs}")
    verdict = {}
    for method in args.methods.split(","):
        print(f"\n== interval_method={method}")

        def core(method=method):
            return score_evidence(
                evidence, respondents, sites=sites, draws=args.draws, seed=args.seed,
                n_jobs=args.n_jobs, interval_method=method,
            )  # fmt: skip

        def full(method=method):
            return score_sites(
                project, draws=args.draws, seed=args.seed, n_jobs=args.n_jobs,
                interval_method=method,
            )  # fmt: skip

        t_core, c_core, result = best_time(core, args.repeat)
        table = result.table
        print(
            f"core (score_evidence): {t_core:.2f} s wall, {c_core:.2f} s CPU -> {len(table)} "
            f"rows, draws {result.replicates.shape[0]} x {result.replicates.shape[1]}"
        )
        t_full, c_full, _ = best_time(full, 1)
        print(
            f"score_sites (incl. survey scales and reliability gate): {t_full:.2f} s wall, "
            f"{c_full:.2f} s CPU"
        )
        t_pair, _, pairs = best_time(result.pairwise, 1)
        print(f"pairwise P(A > B), all pairs: {t_pair:.2f} s -> {len(pairs)} rows")
        t_rank, _, ranks = best_time(result.ranks, 1)
        print(f"rank probabilities: {t_rank:.2f} s -> {len(ranks)} rows")
        peak = peak_memory(full)
        print(f"peak traced memory, score_sites: {peak:.0f} MiB")
        width = (table["upper"] - table["lower"]).mean()
        print(f"mean interval width: {width:.2f}")
        verdict[method] = (t_full, peak)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmax resident set size of the process: {maxrss:.0f} MiB")
    if "model" in verdict:
        t_full, peak = verdict["model"]
        ok = t_full <= 15 and maxrss <= 1024
        print(f"target (model): score_sites <= 15 s and <= 1 GiB: {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
