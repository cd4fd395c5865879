"""The ``copeval`` command line: a thin layer over the Python API.

Each command lives in its own module ``copeval/cli/<name>.py`` exposing
``register(subparsers)``; the module adds its subparser and sets ``func`` (a callable taking
the parsed arguments and returning an exit code). Commands are listed in :data:`COMMANDS`, in
the order ``copeval --help`` shows them.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from .. import __version__
from ..errors import CopevalError

#: Command modules, in help order. "import_" registers the command "import".
COMMANDS = (
    "validate",
    "describe",
    "codebook",
    "score",
    "reliability",
    "report",
    "compare",
    "batch",
    "import_",
    "export",
    "autocode",
    "redact",
    "synth",
    "design",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copeval",
        description=(
            "Evaluate community-oriented policing implementation site by site against "
            "Frühling's four criteria (C1-C4) and accountability and trust (AT)."
        ),
        epilog="Run 'copeval COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"copeval {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        modname = f"{__name__}.{name}"
        if importlib.util.find_spec(modname) is None:
            continue  # feature not part of this build
        importlib.import_module(modname).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``copeval`` console script. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CopevalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `copeval codebook | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:  # a read-only or full folder, a file where a folder was expected
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
