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
        help="how many interviews a site needs for a rating within ±0.5, or to detect a "
        "change between two rounds (--change; simulation)",
        description=(
            "Estimate, by simulating synthetic sites and scoring them with copeval's scoring "
            "(intervals included), how precise a criterion rating is for each "
            "study design: interviews per respondent group (police, community, authorities) "
            "x community survey size. Prints a table (one row per design and criterion) and "
            "a recommendation: the smallest design whose rating lies within the target of "
            "the true level, with an interval no wider than the target, for most sites. "
            "With --change DELTA it answers the follow-up question instead: how many "
            "interviews per group, and what survey size per round, to detect a change of "
            "DELTA between two rounds with --power (default 80%), for an independent "
            "follow-up (new interviewees and survey sample) and a panel (the same people "
            "again), from copeval's change model (copeval change), each power checked "
            "against the share of simulated sites where the change was detected."
        ),
        epilog=(
            "Examples: copeval design --interviews 2,4,6,8 --survey 0,100 --out design.png "
            "--table design.csv ; copeval design --change 0.5 --interviews 2,4,6,8 "
            "--survey 0,100,200 --table change_design.csv"
        ),
    )
    p.add_argument(
        "--interviews",
        type=_integers("--interviews", 1),
        default=None,
        metavar="N,N,...",
        help="interviews per respondent group to try (default 1,2,3,4,6,8,10; with "
        "--change 2,4,6,8, per round)",
    )
    p.add_argument(
        "--survey",
        type=_integers("--survey", 0),
        default=None,
        metavar="N,N,...",
        help="community survey respondents per site to try; 0 = no survey (default "
        "0,50,100,200; with --change 0,100,200, per round)",
    )
    p.add_argument(
        "--sites",
        type=_integer("--sites", 2),
        default=None,
        help="simulated sites per design (default 100; with --change 60)",
    )
    c = p.add_argument_group("change between two rounds (--change)")
    c.add_argument(
        "--change",
        type=_number("--change", 0, 3),
        default=None,
        metavar="DELTA",
        help="true change to detect on the 0-4 scale (e.g. 0.5); switches to the "
        "two-round power design",
    )
    c.add_argument(
        "--pairing",
        default="independent,panel",
        metavar="P[,P]",
        help="follow-up fieldwork: independent (new people), panel (the same people), or "
        "both (default independent,panel)",
    )
    c.add_argument(
        "--detect",
        choices=("improved", "interval"),
        default="improved",
        help="a change counts as detected when reported as improved (P(improved) >= 0.9, "
        "the reports' rule; default) or when its --ci interval lies above zero",
    )
    c.add_argument(
        "--persistence",
        type=_number("--persistence", -1e-9, 1 + 1e-9),
        default=0.5,
        help="panel: correlation of a re-interviewed source's effect between rounds "
        "(default 0.5, the change model's prior guess)",
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
        help="share of sites that must meet the target on every criterion; with --change, "
        "the power to reach on every criterion (default 0.8)",
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


def run_change(args) -> int:
    from ..design import PAIRINGS, describe_change_design, simulate_change_design

    if args.out is not None:
        raise CopevalError("--out draws the precision design; with --change use --table FILE.csv")
    pairings = [p.strip() for p in args.pairing.split(",") if p.strip()]
    bad = [p for p in pairings if p not in PAIRINGS]
    if bad or not pairings:
        raise CopevalError(
            f"--pairing {args.pairing}: use {', '.join(PAIRINGS)} or both, comma-separated"
        )
    table = simulate_change_design(
        args.interviews or [2, 4, 6, 8],
        args.survey if args.survey is not None else [0, 100, 200],
        change=args.change,
        pairings=pairings,
        n_sites=args.sites or 60,
        seed=args.seed,
        ci=args.ci,
        detect=args.detect,
        persistence=args.persistence,
        weight=args.weight,
        field_sources=args.field_sources,
        progress=not args.quiet,
    )
    if args.table is not None:
        args.table.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_csv(table.round(4), args.table)
    if not args.quiet:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print()
    print(describe_change_design(table, power=args.power))
    if not args.quiet and args.table is not None:
        print(f"written: {args.table}")
    return 0


def run(args) -> int:
    from ..design import describe_design, plot_design, simulate_design

    if args.change is not None:
        return run_change(args)
    args.interviews = args.interviews or [1, 2, 3, 4, 6, 8, 10]
    args.survey = args.survey if args.survey is not None else [0, 50, 100, 200]
    args.sites = args.sites or 100
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
