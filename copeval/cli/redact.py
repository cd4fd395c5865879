"""copeval redact PROJECT: write redacted copies of the texts (originals are never edited)."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "redact",
        help="write redacted copies of the texts (names, phones, e-mails, DPI, NIT)",
        description=(
            "Redact personal data from every text whose consent is not 'none': names listed "
            "in PROJECT/registry.csv, Guatemalan phone numbers, e-mail addresses, DPI and NIT "
            "numbers become tags such as [PERSON: role], [PHONE], [EMAIL], [DPI]. The copies "
            "and a findings.csv (what was replaced, by offset and kind; never the data "
            "itself) go to --out (default PROJECT/redacted). The original texts are never "
            "modified. See docs/privacy.md."
        ),
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--out", type=Path, help="output folder (default: PROJECT/redacted)")
    p.add_argument(
        "--lang",
        choices=["es", "en"],
        help="language of the tags (default: each source's own language)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..privacy import PII_KINDS, redact_project
    from ..project import load_project

    project = load_project(args.project)
    out = args.out if args.out is not None else project.path / "redacted"
    findings = redact_project(project, out=out, lang=args.lang)
    n_written = int((project.sources["consent"] != "none").sum())
    n_none = len(project.sources) - n_written
    print(
        f"{n_written} redacted text(s) written to {out}"
        + (f" ({n_none} source(s) without consent left out)" if n_none else "")
    )
    if findings.empty:
        print("no personal data found")
        return 0
    counts = findings["kind"].value_counts()
    print(f"{len(findings)} replacement(s) in {findings['source_id'].nunique()} text(s):")
    for kind in PII_KINDS:
        if kind in counts:
            print(f"  {kind:<8}{counts[kind]:>6}")
    print(f"details: {Path(out) / 'findings.csv'}")
    return 0
