"""copeval synth --sites N --seed S --out DIR: generate a synthetic national project."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from ..errors import CopevalError
from ._args import integer as _integer

#: Files and folders a project (or a previous ``copeval synth`` run) consists of.
_PROJECT_ENTRIES = (
    "datapackage.json",
    "sites.csv",
    "sources.csv",
    "segments.csv",
    "items.csv",
    "registry.csv",
    "synthetic_truth.csv",
    "texts",
    "responses",
)


def register(sub) -> None:
    p = sub.add_parser(
        "synth",
        help="generate a synthetic national project (labelled synthetic everywhere)",
        description=(
            "Generate a synthetic evaluation project shaped like a national roll-out: sites "
            "GT0101, GT0102, ... spread over Guatemala's 22 departments in proportion to "
            "their municipalities (340 sites give the real counts), with sources, coded "
            "segments, valences, community and police surveys and missing data that vary "
            "between sites as fieldwork does. Names, texts and answers are invented and "
            "marked synthetic; reports on it carry a 'synthetic data' banner. The true "
            "levels the data were generated from are written to synthetic_truth.csv."
        ),
        epilog="Example: copeval synth --sites 340 --seed 1 --out national",
    )
    p.add_argument(
        "--sites",
        type=_integer("--sites", 1),
        default=340,
        help="number of sites (municipalities), 1-2178 (default 340)",
    )
    p.add_argument("--seed", type=_integer("--seed", 0), default=0, help="random seed (default 0)")
    p.add_argument(
        "--rounds",
        type=_integer("--rounds", 1),
        default=1,
        metavar="N",
        help=(
            "evaluation rounds (default 1); with 2 or more, each round is an independent "
            "fieldwork of the same sites with a true change per rating uniform on -1..+1.5, "
            "recorded in synthetic_truth.csv (copeval.synth.synth_rounds; without the "
            "national fieldwork profiles)"
        ),
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="project folder")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a synthetic project already in DIR (a non-synthetic one is never replaced)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def _clear_previous(out: Path, force: bool) -> None:
    """Refuse to write over a project unless --force and ``copeval synth`` generated it."""
    if out.exists() and not out.is_dir():
        raise CopevalError(f"--out {out} exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    present = [e for e in _PROJECT_ENTRIES if (out / e).exists()]
    if not present:
        raise CopevalError(
            f"--out {out} is a folder that is not empty and holds no project; "
            "choose a new or empty folder"
        )
    if not force:
        raise CopevalError(
            f"--out {out} already holds a project; use --force to replace it "
            "(only a project copeval synth generated is ever replaced)"
        )
    from ..design import GENERATOR

    try:
        descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8-sig"))
        block = descriptor.get("copeval", {})
        generated = block.get("synthetic") is True and block.get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        generated = False
    if not generated:
        raise CopevalError(
            f"--out {out} holds a project that copeval synth did not generate; refusing to "
            "replace it, even with --force (choose another folder)"
        )
    for entry in present:
        path = out / entry
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def run(args) -> int:
    from ..design import national_project

    _clear_previous(args.out, args.force)
    if args.rounds > 20:
        raise CopevalError(f"--rounds must be from 1 to 20, got {args.rounds}")
    if args.rounds > 1:
        from ..synth import synth_rounds

        project = synth_rounds(args.sites, rounds=args.rounds, seed=args.seed, out=args.out)
    else:
        project = national_project(
            args.sites, seed=args.seed, out=args.out, overwrite=False, progress=not args.quiet
        )
    if not args.quiet:
        n_resp = sum(len(r) for r in project.responses.values())
        print(
            f"{args.out}: synthetic project written — {len(project.sites)} sites, "
            f"{len(project.sources)} sources, {len(project.segments)} coded segments, "
            f"{n_resp} survey responses (seed {args.seed}"
            f"{f', {args.rounds} rounds' if args.rounds > 1 else ''}); true levels in "
            f"{Path(args.out) / 'synthetic_truth.csv'}",
            file=sys.stdout,
        )
    return 0
