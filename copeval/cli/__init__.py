"""The ``copeval`` command line: a thin layer over the Python API.

Each command lives in its own module ``copeval/cli/<name>.py`` exposing
``register(subparsers)``; the module adds its subparser and sets ``func`` (a callable taking
the parsed arguments and returning an exit code). Commands are listed in :data:`COMMANDS`, in
the order ``copeval --help`` shows them.

A command that needs an optional extra (:data:`NEEDS`) checks it before it starts, and any
optional module found missing later gives one line naming the extra to install
(``pip install 'copeval[report]'``), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from .. import __version__
from ..errors import CopevalError, MissingDependencyError

#: Command modules, in help order. "import_" registers the command "import".
COMMANDS = (
    "demo",
    "validate",
    "describe",
    "codebook",
    "score",
    "change",
    "reliability",
    "report",
    "compare",
    "batch",
    "import_",
    "valence",
    "export",
    "autocode",
    "redact",
    "synth",
    "design",
)


#: Distributions of each optional extra (as in pyproject.toml; a test keeps them in step).
EXTRAS = {
    "report": (
        "matplotlib",
        "seaborn",
        "jinja2",
        "papermill",
        "nbformat",
        "nbclient",
        "nbconvert",
        "ipykernel",
        "jupytext",
        "weasyprint",
        "nh3",
        "typst",
    ),
    "autocode": ("pyahocorasick", "snowballstemmer"),
    "surveys": ("pyxform",),
    "lab": ("jupyterlab",),
    "dist": ("distributed", "psutil"),
}
#: Import names that differ from the distribution's name.
IMPORT_NAMES = {"pyahocorasick": "ahocorasick"}
#: Commands that cannot start without an extra.
NEEDS = {"report": "report", "compare": "report", "batch": "report"}


def _absent(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is None
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def missing_extra(extra: str, feature: str) -> MissingDependencyError | None:
    """The error to raise when a distribution of ``extra`` is not installed, else None."""
    for dist in EXTRAS[extra]:
        if _absent(IMPORT_NAMES.get(dist, dist)):
            return MissingDependencyError(dist, extra, feature)
    return None


def explain_missing_module(exc: ModuleNotFoundError, *, extra: str | None, feature: str):
    """A :class:`MissingDependencyError` for an optional module missing at run time.

    ``exc.name`` is looked up in :data:`EXTRAS`; a module of no extra (a dependency of one)
    names ``extra``, or ``all`` when no extra is known. Returns None for copeval's own modules
    (a bug, which must not be disguised as a missing install).
    """
    module = (exc.name or "").split(".")[0]
    if not module or module == "copeval":
        return None
    for name, dists in EXTRAS.items():
        for dist in dists:
            if IMPORT_NAMES.get(dist, dist) == module:
                return MissingDependencyError(dist, name, feature)
    return MissingDependencyError(module, extra or "all", feature)


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
    feature = f"copeval {args.command}"
    try:
        if args.command in NEEDS:
            missing = missing_extra(NEEDS[args.command], feature)
            if missing is not None:
                raise missing
        return int(args.func(args) or 0)
    except ModuleNotFoundError as exc:
        error = explain_missing_module(exc, extra=NEEDS.get(args.command), feature=feature)
        if error is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
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
