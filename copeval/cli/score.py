"""copeval score PROJECT: rate every site on C1-C4 and AT, with calibrated intervals."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from ..errors import CopevalError
from ..params import DEFAULT_DRAWS, INTERVAL_METHODS
from ._args import add_seed, add_weight_and_ci
from ._args import integer as _integer

#: Columns printed when no --out is given (the CSV holds every column of the score table).
DISPLAY_COLUMNS = (
    "site_id",
    "criterion",
    "score",
    "lower",
    "upper",
    "band",
    "basis",
    "n_sources",
    "n_groups",
    "n_respondents",
    "marks",
)

_BASIS_KEYS = {
    "qualitative+survey": "basis.both",
    "qualitative": "basis.qualitative",
    "survey": "basis.survey",
    "none": "basis.none",
}


def register(sub) -> None:
    p = sub.add_parser(
        "score",
        help="rate every site on C1-C4 and AT, with calibrated intervals",
        description=(
            "Score every site of a project on Frühling's criteria C1-C4 and accountability "
            "and trust (AT): qualitative score from the coded evidence, survey score from "
            "the responses, combined rating with an interval from variance components "
            "estimated across the project's sites, rating band, evidence counts and flags. "
            "The method is in docs/method.md."
        ),
        epilog=(
            "Without --out a table is printed in --lang; with --out the CSV holds every column "
            "of the language-neutral score table (band codes, boolean flags, the segment IDs, "
            "codes and survey items behind each rating)."
        ),
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--out", type=Path, metavar="FILE.csv", help="write the score table here")
    add_seed(p)
    p.add_argument(
        "--draws",
        "--n-boot",
        dest="draws",
        type=_integer("--draws", 1),
        default=DEFAULT_DRAWS,
        metavar="N",
        help=(
            "simulation draws behind pairwise and rank probabilities, or bootstrap replicates "
            f"with --interval-method bootstrap (default {DEFAULT_DRAWS}; --n-boot is its "
            "former name)"
        ),
    )
    add_weight_and_ci(p, weight_help="weight of the qualitative score in the combined rating")
    p.add_argument(
        "--interval-method",
        choices=INTERVAL_METHODS,
        default="model",
        help="model (default: variance components, calibrated) or bootstrap (former, too narrow)",
    )
    p.add_argument(
        "--lang",
        choices=["en", "es"],
        default=None,
        help="language of the printed table (default: the project's report_language, else es)",
    )
    p.add_argument(
        "--round",
        metavar="R",
        help=(
            "for a project with evaluation rounds: the round to score (default: the latest "
            "with evidence), or 'all' for one row per round x site x criterion"
        ),
    )
    p.add_argument(
        "--jobs",
        type=_integer("--jobs", 1),
        default=1,
        metavar="N",
        help="threads for the bootstrap method (default 1; results do not depend on it)",
    )
    p.set_defaults(func=run)


def _num(v) -> str:
    """One decimal, rounded half-up: the printed value that the band is read from."""
    from ..vocabulary import display_value

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{display_value(float(v), 1):.1f}"


def display_table(table, lang: str):
    """The printed score table: one decimal (the value the band is read from), band and basis in ``lang``, marks † ‡ R."""
    from ..report.i18n import t
    from ..report.summary import flag_marks
    from ..vocabulary import band_label

    shown = table.copy()
    for col in ("score", "lower", "upper"):
        shown[col] = shown[col].map(_num)
    shown["band"] = [band_label(b, lang) for b in table["band"]]
    shown["basis"] = [t(_BASIS_KEYS[b], lang) for b in table["basis"]]
    shown["marks"] = [
        flag_marks(r) + ("R" if bool(r["low_reliability"]) else "") for _, r in table.iterrows()
    ]
    cols = (["round"] if "round" in table.columns else []) + list(DISPLAY_COLUMNS)
    return shown.loc[:, cols]


def run(args) -> int:
    from .._io import atomic_write_csv
    from ..project import default_lang, load_project
    from ..report.i18n import t
    from ..report.summary import reliability_text
    from ..scoring import score_sites

    if not args.project.is_dir():
        raise CopevalError(f"Project folder not found: {args.project}")
    if args.out is not None and args.out.is_dir():
        raise CopevalError(f"--out must be a file name, but {args.out} is a folder")
    project = load_project(args.project)
    options = {
        "weight": args.weight,
        "draws": args.draws,
        "seed": args.seed,
        "ci": args.ci,
        "interval_method": args.interval_method,
        "n_jobs": args.jobs,
    }
    if args.round is not None and not project.round_ids:
        raise CopevalError(f"--round {args.round}: the project declares no evaluation rounds")
    if args.round == "all":
        import pandas as pd

        from ..params import ScoringParams
        from ..scoring import score_rounds

        results = score_rounds(project, params=ScoringParams(**options))
        result = list(results.values())[-1]
        table = pd.concat([r.table for r in results.values()], ignore_index=True)
    else:
        result = score_sites(project, **options, round=args.round, progress=sys.stderr.isatty())
        table = result.table
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_csv(table, args.out, for_people=True)
        print(f"wrote {len(table)} ratings to {args.out}")
        return 0
    lang = args.lang or default_lang(project.meta)
    print(display_table(table, lang).to_string(index=False))
    marked = table["insufficient_evidence"] | table["thin_evidence"] | table["low_reliability"]
    if marked.any():
        print()
        print(t("flag.legend", lang))
        print("R: " + t("flag.reliability", lang))
    warned = table[table["low_reliability"]]
    for site, crit, issues in zip(
        warned["site_id"], warned["criterion"], warned["reliability_issues"], strict=True
    ):
        print(f"  {site} {crit}: {reliability_text(issues, lang)}")
    s = result.settings
    footer = t(
        "cli.score.footer",
        lang,
        ci=f"{round(s['ci'] * 100):g}%",
        method=t(f"cli.method.{s['interval_method']}", lang),
        draws=s["draws"],
        seed=s["seed"],
        weight=f"{s['weight']:g}",
    )
    print(f"\n{footer}")
    return 0
