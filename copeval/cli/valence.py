"""copeval valence export|import: rate the valences of segments in a spreadsheet."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "valence",
        help="rate segments without a valence in a spreadsheet (CSV round trip)",
        description=(
            "Segments coded without a valence (a QDA project without a Valence group) are not "
            "scored until rated. `copeval valence export PROJECT --out ratings.csv` writes "
            "them, one per row (segment_id, criterion, code, text, valence, source_id, "
            "coder); fill in the valence column (-2..+2 on the CFIR scale, docs/coding.md) "
            "and run `copeval valence import PROJECT ratings.csv`. The import checks every "
            "row first (whole numbers -2..+2, known segment IDs, no segment twice) and then "
            "writes segments.csv atomically; an existing valence is never replaced without "
            "--overwrite. See docs/interop.md, 'Rating valences'."
        ),
    )
    act = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    e = act.add_parser("export", help="write the segments lacking a valence as a CSV sheet")
    e.add_argument("project", type=Path, help="project folder")
    e.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="the sheet")
    e.add_argument(
        "--all", action="store_true", help="every segment, with its valence (to review them)"
    )
    e.add_argument("--force", action="store_true", help="overwrite FILE.csv if it exists")
    e.set_defaults(func=run_export)
    i = act.add_parser("import", help="write the valences of a filled-in sheet into the project")
    i.add_argument("project", type=Path, help="project folder")
    i.add_argument("sheet", type=Path, help="the filled-in sheet (CSV)")
    i.add_argument(
        "--overwrite",
        action="store_true",
        help="replace valences the project already has where the sheet differs",
    )
    i.set_defaults(func=run_import)


def run_export(args) -> int:
    from ..interop.valence import export_valence_sheet
    from ..project import load_project

    project = load_project(args.project)
    n = export_valence_sheet(project, args.out, include_rated=args.all, overwrite=args.force)
    what = "segment(s)" if args.all else "segment(s) without a valence"
    print(
        f"{args.out}: {n} {what}. Fill in the valence column (-2..+2), then run "
        f"`copeval valence import {args.project} {args.out}`"
    )
    return 0


def run_import(args) -> int:
    from ..interop.valence import import_valence_sheet

    c = import_valence_sheet(args.project, args.sheet, overwrite=args.overwrite)
    print(
        f"{args.project}: {c['rated']} valence(s) written, {c['replaced']} replaced, "
        f"{c['unchanged']} unchanged, {c['empty']} row(s) left empty; "
        f"{c['remaining']} segment(s) still without a valence"
    )
    return 0
