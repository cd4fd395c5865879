"""copeval report PROJECT --site ID: render one site's evaluation report (PDF and HTML)."""

from __future__ import annotations

import concurrent.futures as cf
import sys
from pathlib import Path

from ..errors import CopevalError
from ..params import DEFAULT_CI, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WEIGHT


def add_render_args(p, *, lang_help: str) -> None:
    """Options shared by report, compare and batch."""
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--lang", default=None, help=lang_help)
    p.add_argument(
        "--format",
        default="pdf,html",
        help="comma-separated output formats: pdf, html (default: pdf,html); the executed "
        "notebook (.ipynb) is always kept beside them for audit",
    )
    p.add_argument(
        "--out", type=Path, default=Path("reports"), help="output folder (default: reports)"
    )
    p.add_argument(
        "--weight",
        type=float,
        default=DEFAULT_WEIGHT,
        help=f"qualitative weight 0..1 (default {DEFAULT_WEIGHT:g})",
    )
    p.add_argument(
        "--n-boot",
        "--draws",
        dest="n_boot",
        type=int,
        default=DEFAULT_DRAWS,
        help=f"draws behind the comparison probabilities (default {DEFAULT_DRAWS})",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 0)")
    p.add_argument("--ci", type=float, default=DEFAULT_CI, help="interval coverage (default 0.9)")
    p.add_argument(
        "--timeout", type=int, default=600, help="seconds one notebook cell may run (default 600)"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="folder of the analysis cache (default: $COPEVAL_CACHE_DIR, else "
        "$XDG_CACHE_HOME/copeval or ~/.cache/copeval; never inside --out). The cache holds "
        "derived tables only, no text",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="score the project anew; read and write no cache"
    )
    p.add_argument(
        "--round",
        default=None,
        metavar="R",
        help="evaluation round to report (an ID declared in datapackage.json; default: the "
        "latest). Given, it is part of the output names: site_<ID>_r<R>_<lang>.*",
    )


def report_langs(args) -> str:
    """--lang, else the project's report_language, else es (one rule for every command)."""
    if args.lang:
        return args.lang
    from ..project import project_lang

    return project_lang(args.project)


def cache_options(args) -> dict:
    """plan_jobs' cache and round arguments from --cache-dir / --no-cache / --round."""
    return {"cache": not args.no_cache, "cache_dir": args.cache_dir, "round": args.round}


def add_profile_arg(p) -> None:
    """--profile, for the commands that render site reports."""
    p.add_argument(
        "--profile",
        choices=("full", "brief"),
        default="full",
        help="full (default): the complete site report (<out>/site_<ID>_<lang>.*); brief: a "
        "4-6 page municipal brief for national rounds -- ratings, summary, ratings plot, "
        "recommendations (<out>/brief_<ID>_<lang>.*)",
    )


def quiet_failures(message: str) -> None:
    """A batch log for the one-report commands: failures are left to :func:`finish`'s
    summary (printed once), other lines go to stderr."""
    if not message.startswith("FAILED"):
        print(message, file=sys.stderr)


def finish(result) -> int:
    """Print the batch summary and the outputs; exit status 1 if any report failed.

    When every report failed for want of the same module (an optional dependency missing
    in the workers or their kernels), that is raised as ``ModuleNotFoundError``: the command
    line prints one line naming the extra to install, not a summary of identical failures.
    """
    missing = {r.missing for r in result.failed}
    if result.failed and not result.done and len(missing) == 1 and "" not in missing:
        name = missing.pop()
        if name != "copeval":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    for r in result.results:
        if r.status == "done":
            for fmt in ("pdf", "html", "ipynb"):
                if fmt in r.outputs:
                    print(r.outputs[fmt])
    stream = sys.stderr if result.failed else sys.stdout
    print(result.summary(), file=stream)
    return 0 if result.ok else 1


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="render one site's evaluation report (PDF and HTML)",
        description=(
            "Execute the site report notebook for one site and export it, code hidden, to PDF "
            "(A4, no LaTeX) and HTML. Site IDs are strings: --site 0101 stays '0101'. Writes "
            "<out>/site_<ID>_<lang>.{pdf,html,ipynb} atomically (site_<ID>_r<R>_<lang> with "
            "--round R)."
        ),
    )
    add_render_args(
        p,
        lang_help="report language: es or en (default: the project's report_language, else "
        "es); es,en renders both",
    )
    p.add_argument("--site", required=True, help="site ID (as in sites.csv)")
    add_profile_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..report.api import plan_jobs, run_batch

    jobs = plan_jobs(
        args.project,
        out_dir=args.out,
        sites=[args.site],
        langs=report_langs(args),
        formats=args.format,
        weight=args.weight,
        n_boot=args.n_boot,
        seed=args.seed,
        ci=args.ci,
        timeout=args.timeout,
        profile=args.profile,
        **cache_options(args),
    )
    if not jobs:
        raise CopevalError("nothing to render")
    with cf.ThreadPoolExecutor(max_workers=1) as pool:
        result = run_batch(jobs, executor=pool, progress=not args.quiet, log=quiet_failures)
    return finish(result)
