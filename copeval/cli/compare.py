"""copeval compare PROJECT: render the comparative report of several sites (PDF and HTML)."""

from __future__ import annotations

import concurrent.futures as cf

from .report import add_render_args, cache_options, finish, quiet_failures, report_langs


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="render the report comparing sites (PDF and HTML)",
        description=(
            "Execute the comparative report notebook and export it, code hidden, "
            "to PDF and HTML: ratings of every site on the same scale, the probability that one "
            "site rates above another, and how robust the order is. Writes "
            "<out>/comparative_<lang>.{pdf,html,ipynb} (comparative_<A-B>_<lang> for a subset, "
            "comparative_r<R>_<lang> with --round R)."
        ),
    )
    add_render_args(
        p,
        lang_help="report language: es or en (default: the project's report_language, else es); es,en renders both",
    )
    p.add_argument(
        "--sites", default="all", help="'all' (default) or comma-separated site IDs: VC,TOT"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..report.api import plan_jobs, run_batch

    jobs = plan_jobs(
        args.project,
        out_dir=args.out,
        sites=args.sites,
        langs=report_langs(args),
        formats=args.format,
        site_reports=False,
        comparative=True,
        weight=args.weight,
        n_boot=args.n_boot,
        seed=args.seed,
        ci=args.ci,
        timeout=args.timeout,
        **cache_options(args),
    )
    with cf.ThreadPoolExecutor(max_workers=1) as pool:
        result = run_batch(jobs, executor=pool, progress=not args.quiet, log=quiet_failures)
    return finish(result)
