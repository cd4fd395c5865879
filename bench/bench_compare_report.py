"""Benchmark: CPU seconds of one comparative report once the project's scores are cached.

Usage::

    .venv/bin/copeval synth --sites 20 --seed 2 --out /tmp/c20
    .venv/bin/python bench/bench_compare_report.py /tmp/c20 [--lang es] [--reps 3]

Scores the project once into a temporary analysis cache (not timed), then, ``--reps``
times: loads the cached analysis (``ReportData.load(..., cache_dir=...)``, without the
in-process memo, as a fresh kernel would) and builds every section of
:class:`copeval.report.comparative.ComparativeReport` with both outputs a notebook cell
carries (``text/html`` and ``text/x-typst``). Prints the CPU time of each step; the
imports are timed once (a warm kernel pays them once for all reports).
"""

from __future__ import annotations

import argparse
import tempfile
import time


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project")
    parser.add_argument("--lang", default="es")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    t0 = time.process_time()
    import copeval.report.typst_markup  # noqa: F401  (the sections carry Typst)
    from copeval.report import ReportData
    from copeval.report.comparative import ComparativeReport

    imports = time.process_time() - t0
    with tempfile.TemporaryDirectory() as cache:
        ReportData.load(args.project, cache_dir=cache, memo=False)  # score once, cache
        for rep in range(args.reps):
            a = time.process_time()
            data = ReportData.load(args.project, cache_dir=cache, memo=False)
            b = time.process_time()
            report = ComparativeReport(data, lang=args.lang)
            for name in report.SECTIONS:
                getattr(report, name)()._repr_mimebundle_()
            c = time.process_time()
            print(
                f"run {rep + 1}: load the cached analysis {b - a:.2f} s, every section "
                f"(HTML + Typst) {c - b:.2f} s, total {c - a:.2f} CPU-s"
            )
    print(f"imports (once per kernel): {imports:.2f} CPU-s")


if __name__ == "__main__":
    main()
