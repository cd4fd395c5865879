"""copeval codebook: print the Frühling codebook."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from ..codebook import load_codebook
from ..vocabulary import CRITERION_LABELS


def register(sub) -> None:
    p = sub.add_parser(
        "codebook",
        help="print the codebook (criteria C1-C4, AT and their sub-codes)",
        description=(
            "Print the codebook shipped with copeval. The CSV format has the columns code, "
            "criterion, obstacle, label, definition, include, exclude, example, parent, in the "
            "chosen language: a starting point for a mapping table from another tool's codes."
        ),
    )
    p.add_argument(
        "--lang",
        choices=["es", "en"],
        default=None,
        help="language (default: the report_language of --project, else es)",
    )
    p.add_argument(
        "--project",
        type=Path,
        metavar="PROJECT",
        help="take the default language from this project's report_language",
    )
    p.add_argument(
        "--format",
        choices=["table", "csv"],
        default="table",
        help="output format (default: table)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..project import default_lang

    if args.lang is None:
        meta = None
        if args.project is not None:
            from ..project import load_project

            meta = load_project(args.project).meta
        args.lang = default_lang(meta)
    cb = load_codebook()
    df = cb.to_frame(args.lang)
    if args.format == "csv":
        cols = [
            "code",
            "criterion",
            "obstacle",
            "label",
            "definition",
            "include",
            "exclude",
            "example",
            "parent",
        ]
        df[cols].to_csv(sys.stdout, index=False, lineterminator="\n")
        return 0
    obstacle = "obstacle" if args.lang == "en" else "obstáculo"
    for crit, group in df.groupby("criterion", sort=False):
        title = CRITERION_LABELS[crit][args.lang]
        print(f"\n{crit}  {title}\n{'=' * (len(crit) + 2 + len(title))}")
        for row in group.itertuples(index=False):
            flag = f"  [{obstacle}]" if row.obstacle else ""
            print(f"{row.code:<26}{row.label}{flag}")
            for line in textwrap.wrap(row.definition, 72):
                print(f"{'':<26}{line}")
    return 0
