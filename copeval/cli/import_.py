"""copeval import FILE --into PROJECT: bring work from QDA and survey tools into a project."""

from __future__ import annotations

import sys
from pathlib import Path

from .._io import atomic_write_csv, safe_child
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
from ..interop.kobo import export_flavour
from ..interop.mapping import is_valence_group, tag_path
from ..interop.metadata import SourceEntry
from ..interop.result import project_groups
from ..interop.safe import read_table
from ..interop.taguette import read_taguette_codebook

_KOBO_MARKERS = {"_uuid", "_submission_time", "_index", "meta/instanceid", "_id"}
#: ODK Central's CSV export: no _uuid, but these.
_ODK_MARKERS = {"meta-instanceid", "key"}


def register(sub) -> None:
    p = sub.add_parser(
        "import",
        help="import a REFI-QDA project, a Taguette export or a Kobo/ODK survey export",
        description=(
            "Import another tool's file into a project folder, creating the project if it does "
            "not exist. Formats: REFI-QDA projects (.qdpx, .qde: NVivo, ATLAS.ti, MAXQDA, "
            "QualCoder, qc...), REFI-QDA codebooks (.qdc: checked against the codebook, "
            "nothing written), Taguette highlight exports (.csv/.xlsx with columns document, "
            "tag, content), Taguette codebooks (.csv/.xlsx with a tag column: checked, "
            "nothing written) and KoboToolbox / ODK Central survey exports (.csv/.xlsx with "
            "_uuid, or meta-instanceID and KEY). New survey respondents are appended; "
            "existing sources, respondents and item maps are never replaced without --force "
            "(or --replace-responses), and every replacement is counted. The project is "
            "locked, the merged project is written beside it and validated, then switched in "
            "atomically: a failed import changes nothing. Every file is treated as untrusted "
            "(see docs/interop.md)."
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
        choices=["auto", "refi", "qdc", "taguette", "taguette-codebook", "kobo", "odk"],
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
        "--site",
        metavar="ID",
        help="one site for every submission (a single-site form with no site question)",
    )
    s.add_argument(
        "--replace-responses",
        action="store_true",
        help="drop every respondent the project has for this instrument and keep only the "
        "export's (the report says how many rows were dropped); default: append",
    )
    s.add_argument(
        "--salt", default="", help="secret prefix for hashing submission UUIDs into respondent IDs"
    )
    p.add_argument(
        "--round",
        metavar="R",
        help="evaluation round of every imported source or survey response; R must be "
        "declared in the project's datapackage.json (rounds). Default: the project's only "
        "round; required when it declares two or more. The same respondent_id in another "
        "round is a panel respondent, not a duplicate",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace sources, item-map rows, or respondents with changed answers that the "
        "project already has (each replacement counted); overwrite --write-mapping and "
        "--meta-template files",
    )
    p.set_defaults(func=run)


def _detect(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in (".qdpx", ".qde"):
        return "refi"
    if ext == ".qdc":
        return "qdc"
    if ext in (".csv", ".xlsx", ".xlsm", ".tsv"):
        raw = read_table(path)
        cols = {str(c).strip().lower() for c in raw.columns}
        if {"document", "tag", "content"} <= cols:
            return "taguette"
        if "tag" in cols and ({"description", "parent", "number of highlights"} & cols):
            return "taguette-codebook"
        if ext in (".xlsx", ".xlsm") and "tag" not in cols:
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True)
            names = wb.sheetnames
            wb.close()
            if "codebook" in names:
                return "taguette-codebook"
        if (
            cols & _KOBO_MARKERS
            or cols & _ODK_MARKERS
            or any(c.endswith("/instanceid") for c in cols)
        ):
            return "odk" if export_flavour(raw.columns) == "odk_central" else "kobo"
        raise ImportFormatError(
            f"{path}: cannot tell the format from its columns; a Taguette highlights export "
            "has document, tag, content; a Taguette codebook has tag, description; a "
            "KoboToolbox export has _uuid; an ODK Central export has meta-instanceID and KEY "
            "(use --format)"
        )
    if ext == ".xls":
        raise ImportFormatError(
            f"{path}: an .xls file (the old Excel format, also used for XLSForm form "
            "definitions, which hold no answers) cannot be read: export the submissions as "
            ".csv or .xlsx"
        )
    raise ImportFormatError(
        f"{path}: unknown file type {ext!r}; expected .qdpx, .qde, .qdc, .csv or .xlsx"
    )


def _qdc(args, fmt: str) -> int:
    if fmt == "taguette-codebook":
        codes = read_taguette_codebook(args.file)
    elif args.file.suffix.lower() in (".qdpx", ".qde"):
        codes = read_qda(args.file).codes_frame()
    else:
        codes = read_qdc(args.file)
        # a flat codebook (Taguette's .qdc): names are tag paths, read like its highlights
        if all(len(p) == 1 for p in codes["parts"]):
            codes["parts"] = [tag_path(p[0]) for p in codes["parts"]]
            codes["path"] = codes["name"]  # printed as written, so that it maps when copied
    mapping = read_mapping(args.mapping).for_paths(codes["parts"])
    rows = []
    for parts, path in zip(codes["parts"], codes["path"], strict=True):
        parts = tuple(parts)
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

        table = pd.DataFrame(
            [(p, c) for p, c, _ in rows if c is not None], columns=["external_name", "code"]
        )
        _write_for_people(table, args.write_mapping)
        print(f"mapping template written to {args.write_mapping}: fill in the empty codes")
    return 0


def _write_for_people(table, path: Path) -> None:
    """Write a CSV people will open in a spreadsheet: cells that would run as formulas are
    shown as text (a leading apostrophe), and say so."""
    from .._io import csv_safe

    changed = int((csv_safe(table).astype(str) != table.astype(str)).to_numpy().sum())
    atomic_write_csv(table, path, for_people=True)
    if changed:
        print(
            f"note: {changed} cell(s) of {path} began like a spreadsheet formula (=, +, -, @) "
            "and were written with a leading apostrophe; remove it if you copy a name back",
            file=sys.stderr,
        )


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
    _write_for_people(meta_template(entries), args.meta_template)
    print(f"sources-meta template with {len(entries)} source(s) written to {args.meta_template}")
    return 0


def run(args) -> int:
    if not args.file.is_file():
        raise CopevalError(f"{args.file}: file not found")
    fmt = _detect(args.file) if args.format == "auto" else args.format
    if fmt in ("qdc", "taguette-codebook") or (fmt == "refi" and args.write_mapping):
        return _qdc(args, fmt)
    if args.meta_template:
        return _template(args, fmt)
    if args.into is None:
        raise CopevalError("--into PROJECT is required (the project folder to import into)")
    survey_only = {"--site": args.site, "--replace-responses": args.replace_responses}
    if fmt in ("refi", "taguette"):
        wrong = [k for k, v in survey_only.items() if v]
        if wrong:
            raise CopevalError(f"{', '.join(wrong)} applies to survey exports only")
    groups = project_groups(args.into)
    if fmt == "refi":
        result = import_refi(
            args.file,
            mapping=args.mapping,
            sources_meta=args.sources_meta,
            offsets=args.offsets,
            coder=args.coder,
            respondent_groups=groups,
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
            respondent_groups=groups,
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
            site=args.site,
            salt=args.salt,
        )
        safe_child(args.into / "responses", f"{result.instrument}.csv", what="instrument")
    project = write_import(
        result,
        args.into,
        force=args.force,
        replace_responses=args.replace_responses,
        origin=str(args.file),
        round=args.round,
    )
    print(result.report.to_text())
    n_import = len(result.report.warnings)
    print(
        f"{args.into}: {len(project.sources)} sources, {len(project.segments)} segments, "
        f"{sum(len(r) for r in project.responses.values())} survey responses; valid "
        f"({n_import} import warning(s) above; {len(project.warnings)} project warning(s), "
        f"see `copeval validate {args.into}`)"
    )
    if len(result.report.unmapped):
        print(
            f"note: {len(result.report.unmapped)} external code(s) were not imported (see "
            "UNMAPPED above)",
            file=sys.stderr,
        )
    return 0
