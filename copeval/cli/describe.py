"""copeval describe PROJECT: (re)write the project's datapackage.json."""

from __future__ import annotations

from pathlib import Path

from ..errors import CopevalError
from ..interop.transaction import keep_package_fields, project_lock, read_descriptor
from ..project import write_datapackage


def register(sub) -> None:
    p = sub.add_parser(
        "describe",
        help="(re)write datapackage.json from the tables present",
        description=(
            "Write the Frictionless datapackage.json of a project folder from the CSV tables "
            "it holds, keeping existing copeval metadata (title, synthetic, period, "
            "primary_coder, reference_site, respondent_groups) unless overridden here, and "
            "the Frictionless licenses, contributors, keywords, sources, homepage and version "
            "as written."
        ),
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--title", help="project title shown on report covers")
    p.add_argument("--period", help="fieldwork period, e.g. 2017-02/2018-05")
    p.add_argument("--primary-coder", help="coder whose segments are scored")
    p.add_argument("--reference-site", help="reference site for standardised survey indices")
    p.add_argument(
        "--synthetic",
        choices=["true", "false"],
        help="whether texts and responses are synthetic (reports show a banner)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    if not args.project.is_dir():
        raise CopevalError(f"Project folder not found: {args.project}")
    meta = {
        k: v
        for k, v in {
            "title": args.title,
            "period": args.period,
            "primary_coder": args.primary_coder,
            "reference_site": args.reference_site,
        }.items()
        if v is not None
    }
    if args.synthetic is not None:
        meta["synthetic"] = args.synthetic == "true"
    with project_lock(args.project):
        old = read_descriptor(args.project)
        path = write_datapackage(args.project, meta)
        keep_package_fields(args.project, old)
    print(f"wrote {path}")
    return 0
