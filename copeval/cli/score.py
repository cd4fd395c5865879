"""copeval score PROJECT: rate every site on C1-C4 and AT, with bootstrap intervals."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import CopevalError
from ..scoring import DEFAULT_WEIGHT, score_sites
from ._args import integer as _integer

#: Columns printed when no --out is given (the CSV holds every column of the score table).
DISPLAY_COLUMNS = (
    "site_id",
    "criterion",
    "score",
    "lower",
    "upper",
    "label",
    "basis",
    "n_sources",
    "n_groups",
    "n_respondents",
    "flag",
)


def _fraction(name: str, *, closed: bool):
    """argparse type: a number in [0, 1] (closed) or (0, 1) (open), with a clear message."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        ok = 0 <= value <= 1 if closed else 0 < value < 1
        if math.isnan(value) or not ok:
            bounds = "between 0 and 1" if closed else "strictly between 0 and 1"
            raise argparse.ArgumentTypeError(f"{name} must be {bounds}, got {text}")
        return value

    return parse


def register(sub) -> None:
    p = sub.add_parser(
        "score",
        help="rate every site on C1-C4 and AT, with bootstrap intervals",
        description=(
            "Score every site of a project on Frühling's criteria C1-C4 and accountability "
            "and trust (AT): qualitative score from the coded evidence, survey score from "
            "the responses, combined rating with a seeded stratified bootstrap percentile "
            "interval, label, evidence counts and flags. The method is in docs/method.md."
        ),
        epilog=(
            "Without --out a table is printed; with --out the CSV holds every column "
            "(including the segment IDs, codes and survey items behind each rating)."
        ),
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--out", type=Path, metavar="FILE.csv", help="write the score table here")
    p.add_argument("--seed", type=_integer("--seed", 0), default=0, help="random seed (default 0)")
    p.add_argument(
        "--n-boot",
        type=_integer("--n-boot", 1),
        default=2000,
        metavar="B",
        help="bootstrap replicates (default 2000)",
    )
    p.add_argument(
        "--weight",
        type=_fraction("--weight", closed=True),
        default=DEFAULT_WEIGHT,
        metavar="W",
        help=f"weight of the qualitative score in the combined rating, 0..1 (default {DEFAULT_WEIGHT})",
    )
    p.add_argument(
        "--ci",
        type=_fraction("--ci", closed=False),
        default=0.9,
        help="coverage of the bootstrap interval (default 0.9)",
    )
    p.add_argument(
        "--lang", choices=["en", "es"], default="en", help="language of the labels (default en)"
    )
    p.add_argument(
        "--jobs",
        type=_integer("--jobs", 1),
        default=1,
        metavar="N",
        help="threads for the bootstrap (default 1; results do not depend on it)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..project import load_project

    if not args.project.is_dir():
        raise CopevalError(f"Project folder not found: {args.project}")
    if args.out is not None and args.out.is_dir():
        raise CopevalError(f"--out must be a file name, but {args.out} is a folder")
    project = load_project(args.project)
    result = score_sites(
        project,
        weight=args.weight,
        n_boot=args.n_boot,
        seed=args.seed,
        ci=args.ci,
        lang=args.lang,
        n_jobs=args.jobs,
        progress=sys.stderr.isatty(),
    )
    table = result.table
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False, encoding="utf-8", lineterminator="\n")
        print(f"wrote {len(table)} ratings to {args.out}")
        return 0
    shown = table.loc[:, list(DISPLAY_COLUMNS)].copy()
    for col in ("score", "lower", "upper"):
        shown[col] = shown[col].map(lambda v: "" if math.isnan(v) else f"{v:.2f}")
    print(shown.to_string(index=False))
    warned = table[table["warning"] != ""]
    if len(warned):
        print("\nwarnings:")
        for site, crit, text in zip(
            warned["site_id"], warned["criterion"], warned["warning"], strict=True
        ):
            print(f"  {site} {crit}: {text}")
    s = result.settings
    print(
        f"\n{int(s['ci'] * 100)}% bootstrap intervals, {s['n_boot']} replicates, seed "
        f"{s['seed']}, qualitative weight {s['weight']:g}."
    )
    return 0
