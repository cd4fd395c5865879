"""copeval validate PROJECT: check a project folder and list every problem."""

from __future__ import annotations

import sys
from pathlib import Path

from ..project import validate_project


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="check a project folder and list every problem",
        description=(
            "Check every file of an evaluation project (see docs/data-model.md) and list all "
            "problems at once, each with file, row and column. Exit status 0 when the project "
            "is valid (warnings allowed), 1 otherwise. Never modifies the files."
        ),
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--quiet", "-q", action="store_true", help="print errors only")
    p.set_defaults(func=run)


def run(args) -> int:
    problems = validate_project(args.project)
    problems += _pii_warnings(args.project, problems)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if not args.quiet:
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if errors:
        print(
            f"{args.project}: INVALID — {len(errors)} error(s), {len(warnings)} warning(s)",
            file=sys.stderr,
        )
        return 1
    print(f"{args.project}: valid ({len(warnings)} warning(s))")
    return 0


def _pii_warnings(path, problems):
    """Warn where raw texts contain personal data (names in the registry, phones, e-mails...)."""
    if any(p.severity == "error" for p in problems):
        return []
    try:
        from ..privacy import pii_problems
    except ImportError:
        return []
    from ..project import load_project

    return pii_problems(load_project(path))
