"""copeval batch PROJECT: render many site reports in parallel, resumably."""

from __future__ import annotations

import os

from .report import add_profile_arg, add_render_args, cache_options, finish


def register(sub) -> None:
    p = sub.add_parser(
        "batch",
        help="render the reports of many sites in parallel (resumable)",
        description=(
            "Render one report per site and language (plus the comparative report) in "
            "parallel worker processes. A failing site does not stop the others: failures are "
            "summarised at the end and the exit status is 1 if any report failed. Outputs are "
            "written atomically, with the executed notebook and a manifest beside each PDF; "
            "--resume skips reports whose outputs are complete and whose inputs (project files, "
            "parameters, template, copeval version) have not changed."
        ),
    )
    add_render_args(p, lang_help="comma-separated languages (default: es,en)")
    p.set_defaults(lang="es,en")
    p.add_argument(
        "--sites", default="all", help="'all' (default) or comma-separated site IDs: VC,TOT"
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        help=f"parallel worker processes (default: number of cores, here {os.cpu_count()})",
    )
    p.add_argument("--resume", action="store_true", help="skip reports that are up to date")
    add_profile_arg(p)
    p.add_argument(
        "--engine",
        default="warm",
        help="how notebooks are executed: warm (default): one Jupyter kernel per worker, "
        "reused for all its reports; inprocess: each worker's own IPython shell, no kernel "
        "(about 0.2 s less per full report; a crash takes its worker with it); papermill: a "
        "fresh kernel per report (slowest). All give the same reports",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the reports on a Dask cluster (e.g. tcp://10.0.0.5:8786) instead of local "
        "worker processes; project and output folders must be visible to every worker "
        "(see docs/scale.md)",
    )
    p.add_argument(
        "--no-compare",
        dest="compare",
        action="store_false",
        help="do not render the comparative report of the selected sites",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import CopevalError
    from ..report.api import plan_jobs, run_batch
    from ..report.engines import get_engine

    if args.jobs is not None and args.jobs < 1:
        raise CopevalError(f"--jobs must be 1 or more, got {args.jobs}")
    get_engine(args.engine)  # "No engine named 'x'. Available: papermill, warm"
    jobs = plan_jobs(
        args.project,
        out_dir=args.out,
        sites=args.sites,
        langs=args.lang,
        formats=args.format,
        comparative=args.compare,
        weight=args.weight,
        n_boot=args.n_boot,
        seed=args.seed,
        ci=args.ci,
        timeout=args.timeout,
        profile=args.profile,
        **cache_options(args),
    )
    options = dict(resume=args.resume, progress=not args.quiet, engine=args.engine)
    if not args.scheduler:
        return finish(run_batch(jobs, max_workers=args.jobs, **options))
    if args.jobs is not None:
        raise CopevalError("--jobs applies to local workers; with --scheduler the cluster decides")
    try:
        from distributed import Client
    except ImportError as exc:
        from ..errors import MissingDependencyError

        raise MissingDependencyError("distributed", "dist", "Running on a Dask cluster") from exc
    try:
        client = Client(args.scheduler, timeout=30)
    except OSError as exc:
        raise CopevalError(f"cannot reach the Dask scheduler at {args.scheduler}: {exc}") from None
    with client:
        return finish(run_batch(jobs, executor=client.get_executor(), **options))
