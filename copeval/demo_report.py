"""Build the demo evaluation reports: ``python -m copeval.demo_report --out reports``.

What ``make report`` runs. Renders, from the bundled two-round demo project
(``data/demo-rounds`` in the repository, ``copeval/_data/demo-rounds`` in a wheel, found by
:mod:`copeval.resources`: public context figures with synthetic interviews and surveys, a
2017 baseline and a synthetic 2025 follow-up, so the reports show change since the
baseline), the site reports of Villa Canales and Totonicapán in Spanish and English, their municipal briefs (``brief_<site>_<lang>``) and the
comparative report in both languages, as PDF and HTML with the executed notebooks beside them, in parallel, with a progress bar; then prints
the seconds each report took (execute + export) and the total.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m copeval.demo_report",
        description="Render the demo site reports, briefs and comparative reports (es + en, "
        "PDF + HTML).",
    )
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output folder")
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="project (default: the two-round demo copeval ships)",
    )
    parser.add_argument("--jobs", "-j", type=int, default=None, help="worker processes")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates")
    parser.add_argument("--resume", action="store_true", help="skip up-to-date reports")
    args = parser.parse_args(argv)

    from copeval import resources
    from copeval.cli import explain_missing_module, missing_extra
    from copeval.errors import CopevalError

    feature = "python -m copeval.demo_report"
    start = time.perf_counter()
    try:
        missing = missing_extra("report", feature)
        if missing is not None:
            raise missing
        from copeval.report.api import plan_jobs, run_batch

        if args.project is None:
            args.project = resources.demo_rounds_dir()
        jobs = plan_jobs(
            args.project,
            out_dir=args.out,
            sites="all",
            langs=("es", "en"),
            comparative=True,
            n_boot=args.n_boot,
        )
        jobs += plan_jobs(  # the municipal briefs of a national round, for the same sites
            args.project,
            out_dir=args.out,
            sites="all",
            langs=("es", "en"),
            n_boot=args.n_boot,
            profile="brief",
        )
        print(
            f"copeval demo: {len(jobs)} reports from {args.project} into {args.out}/",
            file=sys.stderr,
        )
        result = run_batch(jobs, max_workers=args.jobs, resume=args.resume)
    except ModuleNotFoundError as exc:
        error = explain_missing_module(exc, extra="report", feature=feature)
        if error is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    except CopevalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = time.perf_counter() - start
    print(f"{'report':<24} {'status':<8} {'seconds':>8}  outputs")
    for r in result.results:
        pdf = r.outputs.get("pdf", "")
        print(f"{r.job.stem:<24} {r.status:<8} {r.seconds:>8.1f}  {pdf}")
    print(result.summary())
    print(f"total wall time (scoring + all reports): {total:.1f} s")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
