"""copeval export PROJECT FILE.qdpx|FILE.qdc: give a project back to QDA tools."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import CopevalError
from ..interop import export_qdc, export_qdpx
from ..project import load_project


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a project as REFI-QDA .qdpx, or the codebook as .qdc",
        description=(
            "Write a project as a REFI-QDA project (.qdpx: texts, the codebook with the "
            "Valence group, segments as coded selections, source metadata as variables) for "
            "NVivo, ATLAS.ti, MAXQDA or QualCoder, or the codebook alone as a REFI-QDA "
            "codebook (.qdc). Sources with consent 'none' are left out. The texts (also of "
            "'anonymous' sources) and coder notes are exported as they are, for the coding "
            "team; --redact writes a copy to share instead. The format is chosen by the file "
            "extension."
        ),
    )
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("file", type=Path, help="output file, ending in .qdpx or .qdc")
    p.add_argument(
        "--lang",
        choices=["en", "es"],
        default=None,
        help="language of the code descriptions (default: the project's report_language, else es)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument(
        "--redact",
        action="store_true",
        help="a copy to share: redact personal data (registry names, phones, e-mails, DPI, "
        "NIT) in the texts, coder notes and names, and move each coded selection to fit "
        "(.qdpx only; see docs/privacy.md)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    ext = args.file.suffix.lower()
    if ext not in (".qdpx", ".qdc"):
        raise CopevalError(f"{args.file}: the output file must end in .qdpx or .qdc")
    project = load_project(args.project)
    if args.lang is None:
        from ..project import default_lang

        args.lang = default_lang(project.meta)
    if ext == ".qdc":
        export_qdc(args.file, codebook=project.codebook, lang=args.lang, overwrite=args.force)
        print(
            f"codebook ({len(project.codebook)} codes and the Valence group) written to "
            f"{args.file}"
        )
        return 0
    excluded = export_qdpx(
        project, args.file, lang=args.lang, overwrite=args.force, redact=args.redact
    )
    n = len(project.sources) - len(excluded)
    print(f"{n} source(s) and their segments written to {args.file}")
    if not args.redact:
        print(
            "note: texts and coder notes are not redacted (sources with consent 'anonymous' "
            "included): a working copy for the coding team. To share, export with --redact.",
            file=sys.stderr,
        )
    if excluded:
        print(f"left out (consent 'none'): {', '.join(excluded)}", file=sys.stderr)
    return 0
