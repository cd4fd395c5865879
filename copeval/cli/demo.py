"""copeval demo DIR: copy the demo project into a folder, to try every command on it."""

from __future__ import annotations

import csv
import os
import shlex
import shutil
import tempfile
from pathlib import Path

from .. import _io, resources
from ..errors import CopevalError

__all__ = ["copy_demo", "register"]


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="copy the demo project into a folder (start here)",
        description=(
            "Copy the demo project that ships with copeval (Villa Canales and Totonicapán: "
            "published context figures, synthetic interviews and surveys) into DIR, a new or "
            "empty folder, and print the commands to try on it."
        ),
    )
    p.add_argument("folder", type=Path, metavar="DIR", help="new or empty folder")
    p.set_defaults(func=run)


def _skip(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def copy_demo(target: str | os.PathLike) -> Path:
    """Copy the demo project into ``target`` (created if missing; refused if not empty).

    The copy is made in a temporary folder beside ``target`` and renamed into place, so an
    interrupted copy leaves no half project. Returns ``target``.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise CopevalError(f"{target} is a file; give a new or empty folder")
    if target.is_dir() and any(target.iterdir()):
        raise CopevalError(
            f"{target} is not empty; copeval demo copies only into a new or empty folder"
        )
    source = resources.demo_dir()
    parent = target.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
    except OSError as exc:
        raise CopevalError(f"cannot create {target}: {exc.strerror or exc}") from None
    try:
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source)
            if _skip(rel) or not path.is_file():
                continue
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        os.chmod(staging, 0o777 & ~_io._current_umask())  # mkdtemp makes it private
        os.replace(staging, target)  # an empty folder is replaced; a file or full one refused
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise CopevalError(
            f"cannot copy the demo project into {target}: {exc.strerror or exc}"
        ) from None
    return target


def _site_ids(project: Path) -> list[str]:
    with open(project / "sites.csv", encoding="utf-8", newline="") as f:
        return [row["site_id"] for row in csv.DictReader(f)]


def run(args) -> int:
    target = copy_demo(args.folder)
    sites = _site_ids(target)
    arg = shlex.quote(str(args.folder))
    print(f"Copied the demo project ({len(sites)} sites: {', '.join(sites)}) into {target}")
    print("Try:")
    print(f"  copeval validate {arg}")
    print(f"  copeval score {arg}")
    print(f"  copeval report {arg} --site {sites[0]} --lang en --profile brief")
    print(f"  copeval compare {arg} --lang en")
    return 0
