"""copeval design: how many interviews (and survey respondents) a site needs, by simulation."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .._io import atomic_write_csv
from ..errors import CopevalError
from ..params import INTERVAL_METHODS
from ._args import integer as _integer

_PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def _integers(name: str, minimum: int):
    def parse(text: str) -> list[int]:
        try:
            values = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be comma-separated integers, got {text!r}"
            ) from None
        if not values:
            raise argparse.ArgumentTypeError(f"{name} needs at least one value")
        bad = [v for v in values if v < minimum]
        if bad:
            raise argparse.ArgumentTypeError(f"{name} values must be >= {minimum}, got {bad[0]}")
        return values

    return parse


def _number(name: str, low: float, high: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if math.isnan(value) or not low < value < high:
            raise argparse.ArgumentTypeError(
                f"{name} must be strictly between {low:g} and {high:g}, got {text}"
            )
        return value

    return parse


def register(sub) -> None:
    p = sub.add_parser(
        "design",
        help="how many interviews a site needs for a rating within ±0.5 (simulation)",
        description=(
            "Estimate, by simulating synthetic sites and scoring them with copeval's scoring "
            "(intervals included), how precise a criterion rating is for each "
            "study design: interviews per respondent group (police, community, authorities) "
            "x community survey size. Prints a table (one row per design and criterion) and "
            "a recommendation: the smallest design whose rating lies within the target of "
            "the true level, with an interval no wider than the target, for most sites."
        ),
        epilog=(
            "Example: copeval design --interviews 2,4,6,8 --survey 0,100 --out design.png "
            "--table design.csv"
        ),
    )
    p.add_argument(
        "--interviews",
        type=_integers("--interviews", 1),
        default=[1, 2, 3, 4, 6, 8, 10],
        metavar="N,N,...",
        help="interviews per respondent group to try (default 1,2,3,4,6,8,10)",
    )
    p.add_argument(
        "--survey",
        type=_integers("--survey", 0),
        default=[0, 50, 100, 200],
        metavar="N,N,...",
        help="community survey respondents per site to try; 0 = no survey (default 0,50,100,200)",
    )
    p.add_argument(
        "--sites",
        type=_integer("--sites", 2),
        default=100,
        help="simulated sites per design (default 100)",
    )
    p.add_argument(
        "--target",
        type=_number("--target", 0, 4),
        default=0.5,
        help="target half-width on the 0-4 scale (default 0.5)",
    )
    p.add_argument(
        "--power",
        type=_number("--power", 0, 1.000001),
        default=0.8,
        help="share of sites that must meet the target on every criterion (default 0.8)",
    )
    p.add_argument(
        "--basis",
        choices=("strict", "interval", "error"),
        default="strict",
        help="what must hold for --power of sites: the interval half-width is within "
        "--target (interval), the rating is within --target of the true level (error), or "
        "both with a rating not flagged 'insufficient evidence' (strict, the default)",
    )
    p.add_argument(
        "--ci", type=_number("--ci", 0, 1), default=0.9, help="interval coverage (default 0.9)"
    )
    p.add_argument(
        "--weight",
        type=_number("--weight", -1e-9, 1 + 1e-9),
        default=None,
        help="qualitative weight of the combined rating (default: the scoring default)",
    )
    p.add_argument(
        "--interval-method",
        choices=INTERVAL_METHODS,
        default=INTERVAL_METHODS[0],
        help="how the ratings' intervals are computed, as in copeval score (default "
        f"{INTERVAL_METHODS[0]}: variance components across the simulated sites; "
        "bootstrap: the former stratified bootstrap, too narrow, for comparison)",
    )
    p.add_argument(
        "--n-boot",
        type=_integer("--n-boot", 50),
        default=400,
        help="bootstrap replicates per simulated site with --interval-method bootstrap "
        "(default 400; the model's intervals do not use it)",
    )
    p.add_argument(
        "--field-sources",
        type=_integer("--field-sources", 0),
        default=1,
        help="observation notes or documents per site (default 1)",
    )
    p.add_argument(
        "--police-respondents",
        type=_integer("--police-respondents", 0),
        default=15,
        help="police survey respondents per site when there is a survey (default 15)",
    )
    p.add_argument("--seed", type=_integer("--seed", 0), default=0, help="random seed (default 0)")
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="bootstrap threads with --interval-method bootstrap (-1: all cores; results do "
        "not depend on it)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE.png|svg|pdf",
        help="write the figure here",
    )
    p.add_argument("--table", type=Path, metavar="FILE.csv", help="write the table as CSV")
    p.add_argument("--quiet", "-q", action="store_true", help="print the recommendation only")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..design import describe_design, plot_design, simulate_design

    if args.out is not None and args.out.suffix.lower() not in _PLOT_SUFFIXES:
        raise CopevalError(
            f"--out {args.out}: the figure must be a {', '.join(_PLOT_SUFFIXES)} file"
        )
    table = simulate_design(
        args.interviews,
        args.survey,
        n_sites=args.sites,
        seed=args.seed,
        target=args.target,
        ci=args.ci,
        weight=args.weight,
        n_boot=args.n_boot,
        interval_method=args.interval_method,
        field_sources=args.field_sources,
        police_respondents=args.police_respondents,
        n_jobs=args.jobs,
        progress=not args.quiet,
    )
    if args.table is not None:
        args.table.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_csv(table.round(4), args.table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fig = plot_design(table, power=args.power, basis=args.basis)
        fig.savefig(args.out, dpi=150)
    if not args.quiet:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print()
    print(describe_design(table, power=args.power, basis=args.basis))
    if not args.quiet:
        written = [str(p) for p in (args.table, args.out) if p is not None]
        if written:
            print(f"written: {', '.join(written)}")
    return 0
