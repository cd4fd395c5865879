"""copeval reliability PROJECT: inter-coder agreement per code (kappa, Krippendorff's alpha)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

from .._io import atomic_write_csv
from ..project import load_project
from ..reliability import (
    ALPHA_TENTATIVE,
    N_BOOT_DEFAULT,
    code_reliability,
    criterion_reliability,
    disagreements,
)


def register(sub) -> None:
    p = sub.add_parser(
        "reliability",
        help="inter-coder reliability per code: Cohen's kappa and Krippendorff's alpha",
        description=(
            "Measure agreement between the coders of a project on the sources that at least "
            "two of them coded: Cohen's kappa and Krippendorff's alpha (nominal) on whether "
            "each code was applied to each coded span, Krippendorff's alpha (ordinal) on the "
            "valences, with seeded bootstrap intervals. Each alpha gets Krippendorff's verdict "
            "(reliable >= 0.800, tentative >= 0.667, unreliable below); a code or criterion "
            "is as reliable as its worse measure, and the one that failed is named. Units are "
            "exact spans, or every coded character with --unitizing overlap. Sources with "
            "consent 'none' are left out."
        ),
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--out", type=Path, metavar="FILE.csv", help="write the table as CSV")
    p.add_argument(
        "--disagreements",
        type=Path,
        metavar="FILE.csv",
        help="write every disagreement (unit, code, each coder's presence and valence, "
        "segment IDs) as CSV",
    )
    p.add_argument(
        "--by",
        choices=["code", "criterion"],
        default="code",
        help="one row per code (default) or per criterion",
    )
    p.add_argument(
        "--unitizing",
        default="exact",
        metavar="exact|overlap",
        help="units: 'exact' spans (default), or 'overlap': every character of the coded text "
        "is a unit, so spans a few characters apart agree where they overlap",
    )
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument(
        "--n-boot",
        type=int,
        default=N_BOOT_DEFAULT,
        metavar="B",
        help=f"bootstrap replicates (default {N_BOOT_DEFAULT}; 0 for no intervals)",
    )
    p.add_argument(
        "--level", type=float, default=0.95, help="level of the bootstrap intervals (default 0.95)"
    )
    p.set_defaults(func=run)


def _interval(value: float, low: float, high: float) -> str:
    if not math.isfinite(value):
        return "—"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{value:6.3f}"
    return f"{value:6.3f} [{low:6.3f}, {high:6.3f}]"


_VERDICT_TEXT = {
    "reliable": "reliable",
    "tentative": "tentative",
    "unreliable": f"BELOW {ALPHA_TENTATIVE}",
    "undefined": "undefined",
}


def _verdict(row) -> str:
    """The row's verdict, naming the measure(s) that fall short of 'reliable'."""
    text = _VERDICT_TEXT[row["verdict"]]
    short = [
        name
        for name, col in (("presence", "presence_verdict"), ("valence", "valence_verdict"))
        if row[col] == row["verdict"] and row["verdict"] in ("tentative", "unreliable")
    ]
    return f"{text} ({', '.join(short)})" if short else text


def _display(table: pd.DataFrame, first: str) -> str:
    shown = pd.DataFrame(
        {
            first: table[first],
            **({"criterion": table["criterion"]} if first == "code" else {}),
            "kappa": [f"{k:6.3f}" if math.isfinite(k) else "—" for k in table["kappa"]],
            "alpha presence": [
                _interval(a, lo, hi)
                for a, lo, hi in zip(
                    table["alpha_nominal"],
                    table["alpha_nominal_lower"],
                    table["alpha_nominal_upper"],
                    strict=True,
                )
            ],
            "alpha valence": [
                _interval(a, lo, hi)
                for a, lo, hi in zip(
                    table["alpha_ordinal"],
                    table["alpha_ordinal_lower"],
                    table["alpha_ordinal_upper"],
                    strict=True,
                )
            ],
            ("characters coded" if table["unitizing"].eq("overlap").all() else "units coded"): (
                table["n_present"]
            ),
            "verdict": [_verdict(r) for _, r in table.iterrows()],
        }
    )
    return shown.to_string(index=False)


def run(args) -> int:
    project = load_project(args.project)
    # Sources without consent are kept for the record only: left out of every output.
    consented = project.sources.loc[project.sources["consent"] != "none", "source_id"]
    segments = project.segments[project.segments["source_id"].isin(set(consented))]
    coders_per_source = segments.groupby("source_id")["coder"].nunique()
    shared = int((coders_per_source >= 2).sum())
    coders = sorted(segments["coder"].unique())
    func = code_reliability if args.by == "code" else criterion_reliability
    table = func(
        segments,
        n_boot=args.n_boot,
        seed=args.seed,
        level=args.level,
        unitizing=args.unitizing,
    )
    n_left_out = len(project.segments) - len(segments)
    left_out = (
        f" ({n_left_out} segment(s) on sources with consent 'none' are left out.)"
        if n_left_out
        else ""
    )
    if table.empty:
        if not coders:
            msg = (
                f"No usable segments in {args.project / 'segments.csv'}: inter-coder "
                "reliability needs segments from at least two coders on the same sources."
            )
        elif len(coders) == 1:
            msg = (
                f"Only one coder ({coders[0]}) in {args.project / 'segments.csv'}: inter-coder "
                "reliability needs segments from at least two coders on the same sources."
            )
        else:
            msg = (
                f"{len(coders)} coders ({', '.join(coders)}) but no source coded by two of "
                "them: inter-coder reliability needs sources that at least two coders coded."
            )
        print(msg + left_out, file=sys.stderr)
    else:
        unit_text = (
            f"{int(table['n_units'].iloc[0])} coded characters as units (--unitizing overlap)"
            if args.unitizing == "overlap"
            else f"{int(table['n_units'].iloc[0])} units (exact spans)"
        )
        print(
            f"Inter-coder reliability: {len(coders)} coders ({', '.join(coders)}) on {shared} "
            f"shared source(s); {unit_text}; "
            + (
                f"{args.level:.0%} bootstrap intervals from {args.n_boot} replicates "
                f"(seed {args.seed})."
                if args.n_boot
                else "no bootstrap intervals."
            )
        )
        if left_out:
            print(left_out.strip())
        print(_display(table, "code" if args.by == "code" else "criterion"))
        dis = disagreements(segments)
        n_presence = int((dis["kind"] == "presence").sum()) if len(dis) else 0
        print(
            f"Disagreements: {len(dis)} ({n_presence} on presence, {len(dis) - n_presence} on "
            "valence)."
            + ("" if args.disagreements else " List them with --disagreements FILE.csv.")
        )
        name = "code" if args.by == "code" else "criterion"
        for measure in ("presence", "valence"):
            below = table.loc[table[f"{measure}_below"], name]
            if len(below):
                print(
                    f"{measure.capitalize()} alpha below {ALPHA_TENTATIVE}: "
                    f"{', '.join(map(str, below))}."
                )
        if table["below_threshold"].any():
            print(
                "Ratings resting on these codes or criteria carry a warning "
                "(Krippendorff: below 0.667 unacceptable for conclusions, 0.667-0.800 "
                "tentative, 0.800 or more reliable)."
            )
        if args.disagreements:
            args.disagreements.parent.mkdir(parents=True, exist_ok=True)
            out = dis.copy()
            for col in ("segment_ids", "overlapping_segment_ids"):
                if col in out.columns:
                    out[col] = [";".join(v) if isinstance(v, tuple) else "" for v in out[col]]
            atomic_write_csv(out, args.disagreements, for_people=True)
            print(f"wrote {args.disagreements}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_csv(table, args.out, for_people=True)
        print(f"wrote {args.out}")
    return 0
