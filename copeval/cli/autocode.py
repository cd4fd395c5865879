"""copeval autocode PROJECT: propose codes from the lexicon; evaluate; accept/reject in bulk."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import CopevalError


def register(sub) -> None:
    p = sub.add_parser(
        "autocode",
        help="suggest codes from the bilingual lexicon (never touches human coding)",
        description=(
            "Propose coded segments (one per sentence or paragraph and code) from the "
            "bilingual lexicon shipped with the codebook, and store them in "
            "PROJECT/suggestions.csv (or --out FILE). segments.csv is never modified by this, "
            "and decisions already taken are kept when suggestions are made again. With "
            "--evaluate, print precision, recall and F1 per criterion against the primary "
            "coder's segments. With --accept/--reject, decide on stored suggestions in bulk "
            "by code instead (accepted ones are appended to segments.csv with coder "
            "auto-accepted:USER and no valence). See docs/coding.md."
        ),
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument(
        "--unit",
        choices=["sentence", "paragraph"],
        default="sentence",
        help="what one suggestion covers (default: sentence)",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="write the suggestions to this CSV file instead of PROJECT/suggestions.csv",
    )
    p.add_argument(
        "--min-confidence",
        type=float,
        default=None,
        metavar="X",
        help="keep (or, with --accept, accept) only suggestions with confidence >= X (0..1)",
    )
    p.add_argument(
        "--evaluate",
        action="store_true",
        help="print precision, recall and F1 per criterion against the human coding",
    )
    p.add_argument(
        "--level",
        choices=["criterion", "code"],
        default="criterion",
        help="with --evaluate: match by criterion (default) or by exact code",
    )
    decide = p.add_mutually_exclusive_group()
    decide.add_argument(
        "--accept",
        nargs="+",
        metavar="CODE",
        help="accept the pending stored suggestions of these codes or criteria",
    )
    decide.add_argument(
        "--reject",
        nargs="+",
        metavar="CODE",
        help="reject the pending stored suggestions of these codes or criteria",
    )
    p.add_argument("--user", help="who decides (required with --accept/--reject)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import coding
    from ..project import load_project

    if args.accept or args.reject:
        if not args.user:
            raise CopevalError("--accept and --reject need --user NAME (recorded as the coder)")
        if args.accept:
            added = coding.accept_suggestions(
                args.project,
                user=args.user,
                codes=args.accept,
                min_confidence=args.min_confidence,
            )
            print(
                f"accepted {len(added)} suggestion(s): appended to {args.project}/segments.csv "
                f"with coder {coding.AUTO_CODER_PREFIX}{args.user} (valence to be rated)"
            )
        else:
            gone = coding.reject_suggestions(args.project, user=args.user, codes=args.reject)
            print(f"rejected {len(gone)} suggestion(s)")
        return 0

    project = load_project(args.project)
    suggestions = coding.suggest_codes(
        project, unit=args.unit, min_confidence=args.min_confidence or 0.0, progress=True
    )
    if args.out is not None:
        out = args.out.resolve()
        if out == (project.path / "segments.csv").resolve():
            raise CopevalError("--out must not be segments.csv: suggestions never go there")
        from .._io import atomic_write_csv

        atomic_write_csv(suggestions, out, for_people=True)  # a spreadsheet never runs a cell
        target = args.out
    else:
        target = coding.write_suggestions(project, suggestions)
    print(
        f"{len(suggestions)} suggestion(s) in {suggestions['source_id'].nunique()} source(s) "
        f"written to {target}"
    )
    if args.evaluate:
        seg = project.segments
        seg = seg[seg["coder"] == project.meta.get("primary_coder")]
        table = coding.evaluate_suggestions(
            suggestions, seg, level=args.level, codebook=project.codebook
        )
        if not len(seg):
            print("no human-coded segments to evaluate against", file=sys.stderr)
            return 0
        print(
            f"\nagainst coder {project.meta.get('primary_coder')!r} "
            "(match: same source and criterion, overlapping spans):"
        )
        print(
            table.to_string(
                index=False,
                float_format=lambda v: f"{v:.3f}",
                na_rep="-",
            )
        )
    return 0
