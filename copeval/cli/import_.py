"""copeval import FILE --into PROJECT: bring work from QDA and survey tools into a project."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import CopevalError, ImportFormatError
from ..interop import (
    CONVENTIONS,
    import_kobo,
    import_refi,
    import_taguette,
    meta_template,
    parse_valence,
    read_mapping,
    read_qda,
    read_qdc,
    read_taguette_highlights,
    write_import,
)
from ..interop.mapping import is_valence_group
from ..interop.metadata import SourceEntry
from ..interop.safe import read_table

_KOBO_MARKERS = {"_uuid", "_submission_time", "_index", "meta/instanceid", "_id"}


def register(sub) -> None:
    p = sub.add_parser(
        "import",
        help="import a REFI-QDA project, a Taguette export or a Kobo/ODK survey export",
        description=(
            "Import another tool's file into a project folder, creating the project if it does "
            "not exist. Formats: REFI-QDA projects (.qdpx, .qde: NVivo, ATLAS.ti, MAXQDA, "
            "QualCoder, qc...), REFI-QDA codebooks (.qdc: checked against the codebook, "
            "nothing written), Taguette highlight exports (.csv/.xlsx with columns document, "
            "tag, content) and KoboToolbox/ODK survey exports (.csv/.xlsx with _uuid). "
            "Existing sources, respondents and item maps are never replaced without --force; "
            "the merged project is validated before anything is written. Every file is "
            "treated as untrusted (see docs/interop.md)."
        ),
    )
    p.add_argument("file", type=Path, help="file to import")
    p.add_argument(
        "--into",
        type=Path,
        metavar="PROJECT",
        help="project folder (created if absent); not needed for .qdc",
    )
    p.add_argument(
        "--format",
        choices=["auto", "refi", "qdc", "taguette", "kobo"],
        default="auto",
        help="file format (default: from extension and columns)",
    )
    q = p.add_argument_group("qualitative data (REFI-QDA, Taguette)")
    q.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="mapping table: CSV with columns external_name,code",
    )
    q.add_argument(
        "--sources-meta",
        type=Path,
        metavar="FILE",
        help="side table of source metadata: CSV with columns source,site_id,"
        "respondent_group[,method,date,language,consent,source_id]",
    )
    q.add_argument(
        "--offsets",
        choices=["auto", *CONVENTIONS],
        default="auto",
        help="offset convention of the file (default: auto-detect)",
    )
    q.add_argument("--coder", help="coder of every imported segment (default: from the file)")
    q.add_argument(
        "--texts",
        type=Path,
        metavar="DIR",
        help="Taguette: folder of the documents as UTF-8 .txt files",
    )
    q.add_argument(
        "--meta-template",
        type=Path,
        metavar="FILE",
        help="write a sources-meta template listing every source, then stop",
    )
    q.add_argument(
        "--write-mapping",
        type=Path,
        metavar="FILE",
        help="check the file's codes against the codebook and write a mapping template "
        "(external_name,code), then stop (.qdc, .qdpx, .qde)",
    )
    s = p.add_argument_group("survey data (KoboToolbox, ODK)")
    s.add_argument(
        "--items",
        type=Path,
        metavar="FILE",
        help="item map (items.csv format; default: the project's items.csv)",
    )
    s.add_argument("--instrument", help="instrument name (default: from the item map)")
    s.add_argument(
        "--site-column",
        metavar="COLUMN",
        help="column holding the site (default: site_id or site)",
    )
    s.add_argument(
        "--site-values",
        type=Path,
        metavar="FILE",
        help="CSV with columns value,site_id recoding the site column",
    )
    s.add_argument(
        "--salt", default="", help="secret prefix for hashing submission UUIDs into respondent IDs"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace sources, respondents or item-map rows the project already has",
    )
    p.set_defaults(func=run)


def _detect(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in (".qdpx", ".qde"):
        return "refi"
    if ext == ".qdc":
        return "qdc"
    if ext in (".csv", ".xlsx", ".xlsm", ".tsv"):
        cols = {str(c).strip().lower() for c in read_table(path).columns}
        if {"document", "tag", "content"} <= cols:
            return "taguette"
        if cols & _KOBO_MARKERS or any(c.endswith("/instanceid") for c in cols):
            return "kobo"
        raise ImportFormatError(
            f"{path}: cannot tell the format from its columns; a Taguette export has "
            "document, tag, content; a Kobo/ODK export has _uuid (use --format)"
        )
    raise ImportFormatError(
        f"{path}: unknown file type {ext!r}; expected .qdpx, .qde, .qdc, .csv or .xlsx"
    )


def _qdc(args) -> int:
    if args.file.suffix.lower() in (".qdpx", ".qde"):
        codes = read_qda(args.file).codes_frame()
    else:
        codes = read_qdc(args.file)
    mapping = read_mapping(args.mapping)
    rows = []
    for path in codes["path"]:
        parts = tuple(path.split("/"))
        valence = parse_valence(parts)
        if is_valence_group(parts):
            rows.append((path, None, "valence group"))
            continue
        if valence is not None:
            rows.append((path, None, f"valence {valence:+d}" if valence else "valence 0"))
            continue
        code, how = mapping.resolve(parts)
        rows.append((path, code or "", how))
    n_ok = sum(1 for _, c, _ in rows if c)
    n_val = sum(1 for _, c, _ in rows if c is None)
    print(
        f"{args.file}: {len(rows)} codes; {n_ok} map to the codebook, {n_val} are valence "
        f"codes, {len(rows) - n_ok - n_val} do not map"
    )
    for path, code, how in rows:
        shown = f"({how})" if code is None else (code or "(unmapped)")
        print(f"  {path:<50} -> {shown}" + (f"  [{how}]" if code else ""))
    if args.write_mapping:
        if args.write_mapping.exists() and not args.force:
            raise CopevalError(f"{args.write_mapping} exists; use --force to overwrite it")
        import pandas as pd

        pd.DataFrame(
            [(p, c) for p, c, _ in rows if c is not None], columns=["external_name", "code"]
        ).to_csv(args.write_mapping, index=False, lineterminator="\n")
        print(f"mapping template written to {args.write_mapping}: fill in the empty codes")
    return 0


def _template(args, fmt: str) -> int:
    if fmt == "refi":
        qda = read_qda(args.file)
        entries = [SourceEntry(s.name, s.text or "", s.variables) for s in qda.sources]
    elif fmt == "taguette":
        hl = read_taguette_highlights(args.file)
        entries = [SourceEntry(d, "") for d in dict.fromkeys(hl["document"])]
    else:
        raise CopevalError("--meta-template applies to REFI-QDA and Taguette files")
    if args.meta_template.exists() and not args.force:
        raise CopevalError(f"{args.meta_template} exists; use --force to overwrite it")
    meta_template(entries).to_csv(args.meta_template, index=False, lineterminator="\n")
    print(f"sources-meta template with {len(entries)} source(s) written to {args.meta_template}")
    return 0


def run(args) -> int:
    fmt = _detect(args.file) if args.format == "auto" else args.format
    if fmt == "qdc" or (fmt == "refi" and args.write_mapping):
        return _qdc(args)
    if args.meta_template:
        return _template(args, fmt)
    if args.into is None:
        raise CopevalError("--into PROJECT is required (the project folder to import into)")
    if fmt == "refi":
        result = import_refi(
            args.file,
            mapping=args.mapping,
            sources_meta=args.sources_meta,
            offsets=args.offsets,
            coder=args.coder,
        )
    elif fmt == "taguette":
        if args.texts is None:
            raise CopevalError(
                "a Taguette highlights export holds no document texts: give the folder of "
                "the documents as .txt files with --texts DIR"
            )
        result = import_taguette(
            args.file,
            texts=args.texts,
            mapping=args.mapping,
            sources_meta=args.sources_meta,
            coder=args.coder,
        )
    else:
        items = args.items
        if items is None:
            from ..project import load_project

            if not (args.into / "items.csv").is_file():
                raise CopevalError(
                    f"{args.into} has no items.csv; give the item map with --items FILE"
                )
            items = load_project(args.into).items
        site_values = None
        if args.site_values:
            tbl = read_table(args.site_values)
            if not {"value", "site_id"} <= set(tbl.columns):
                raise ImportFormatError(f"{args.site_values}: needs the columns value,site_id")
            site_values = dict(
                zip(tbl["value"].str.strip(), tbl["site_id"].str.strip(), strict=True)
            )
        result = import_kobo(
            args.file,
            items=items,
            instrument=args.instrument,
            site_column=args.site_column,
            site_values=site_values,
            salt=args.salt,
        )
    project = write_import(result, args.into, force=args.force)
    print(result.report.to_text())
    print(
        f"{args.into}: {len(project.sources)} sources, {len(project.segments)} segments, "
        f"{sum(len(r) for r in project.responses.values())} survey responses; valid "
        f"({len(project.warnings)} warning(s), see `copeval validate {args.into}`)"
    )
    if len(result.report.unmapped):
        print(
            f"note: {len(result.report.unmapped)} external code(s) were not imported (see "
            "UNMAPPED above)",
            file=sys.stderr,
        )
    return 0
