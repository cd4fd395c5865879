"""copeval change PROJECT [--from R] [--to R] --out FILE: change of every rating between rounds."""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import CopevalError
from ._args import add_seed, add_weight_and_ci

#: Columns printed when no --out is given (the CSV holds every column of the change table).
DISPLAY_COLUMNS = (
    "site_id",
    "criterion",
    "score_from",
    "score_to",
    "change",
    "lower",
    "upper",
    "p_improved",
    "direction",
    "pairing",
)


def register(sub) -> None:

    p = sub.add_parser(
        "change",
        help="change of every rating between two evaluation rounds, with intervals",
        description=(
            "Score two evaluation rounds of a project (datapackage.json copeval.rounds) and "
            "write, per site and criterion, the change of the rating with its interval, the "
            "probability that it improved or worsened, both components (qualitative and "
            "survey), flags, and which pairing was used (independent fieldwork, re-interviewed "
            "sources with a panel_id, panel survey respondents). The method is in "
            "docs/method.md, 'Change between rounds'."
        ),
        epilog="Example: copeval change data/demo --from 2017 --to 2026 --out change.csv",
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--from", dest="round_from", metavar="R", help="first round (default: oldest)")
    p.add_argument("--to", dest="round_to", metavar="R", help="second round (default: latest)")
    p.add_argument("--out", type=Path, metavar="FILE.csv", help="write the change table here")
    add_seed(p)
    add_weight_and_ci(p)
    p.set_defaults(func=run)


def _num(v, fmt="{:+.2f}") -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def run(args) -> int:
    from .._io import atomic_write_csv
    from ..change import project_change
    from ..params import ScoringParams
    from ..project import load_project

    if not args.project.is_dir():
        raise CopevalError(f"Project folder not found: {args.project}")
    if args.out is not None and args.out.is_dir():
        raise CopevalError(f"--out must be a file name, but {args.out} is a folder")
    project = load_project(args.project)
    if not project.round_ids:
        raise CopevalError(
            f"{args.project} declares no evaluation rounds (datapackage.json, copeval.rounds); "
            "a change needs two rounds (docs/data-model.md, Rounds)"
        )
    params = ScoringParams(weight=args.weight, ci=args.ci, seed=args.seed)
    result = project_change(
        project, round_from=args.round_from, round_to=args.round_to, params=params
    )
    table = result.table
    rho = result.persistence.rho
    summary = (
        f"change {result.round_from} -> {result.round_to}: {len(table)} ratings, "
        f"{int((table['direction'] == 'improved').sum())} improved and "
        f"{int((table['direction'] == 'worsened').sum())} worsened with probability >= 0.9; "
        f"between-round correlations used: stratum {rho['stratum']:.2f}, "
        f"source {rho['source']:.2f}"
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_csv(table, args.out, for_people=True)
        print(f"wrote {len(table)} changes to {args.out}")
        print(summary)
        return 0
    shown = table.loc[:, list(DISPLAY_COLUMNS)].copy()
    for col in ("score_from", "score_to"):
        shown[col] = shown[col].map(lambda v: _num(v, "{:.2f}"))
    for col in ("change", "lower", "upper"):
        shown[col] = shown[col].map(_num)
    shown["p_improved"] = shown["p_improved"].map(lambda v: _num(v, "{:.2f}"))
    print(shown.to_string(index=False))
    print()
    print(summary)
    return 0
