"""Argument types shared by the command modules: errors name the option and the value."""

from __future__ import annotations

import argparse


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
