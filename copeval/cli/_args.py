"""Argument types shared by the command modules: errors name the option and the value."""

from __future__ import annotations

import argparse
import math

from ..params import DEFAULT_CI, DEFAULT_SEED, DEFAULT_WEIGHT


def integer(name: str, minimum: int):
    """An argparse ``type`` accepting whole numbers ``>= minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum}, got {value}")
        return value

    return parse


def fraction(name: str, *, closed: bool):
    """An argparse ``type``: a number in [0, 1] (closed) or (0, 1) (open), with a clear message."""

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


def add_seed(p) -> None:
    """``--seed`` (whole number >= 0, default from :mod:`copeval.params`)."""
    p.add_argument(
        "--seed",
        type=integer("--seed", 0),
        default=DEFAULT_SEED,
        help=f"random seed (default {DEFAULT_SEED})",
    )


def add_weight_and_ci(p, *, weight_help: str = "weight of the qualitative score") -> None:
    """``--weight`` (0..1) and ``--ci`` (0..1 open), defaults from :mod:`copeval.params`."""
    p.add_argument(
        "--weight",
        type=fraction("--weight", closed=True),
        default=DEFAULT_WEIGHT,
        metavar="W",
        help=f"{weight_help}, 0..1 (default {DEFAULT_WEIGHT})",
    )
    p.add_argument(
        "--ci",
        type=fraction("--ci", closed=False),
        default=DEFAULT_CI,
        help=f"coverage of the intervals (default {DEFAULT_CI})",
    )
