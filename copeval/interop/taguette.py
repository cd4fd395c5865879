"""Taguette highlight exports (CSV or XLSX) -> copeval segments.

Taguette (https://www.taguette.org) exports highlights as a table with the columns ``id``
(highlight), ``document`` (document name), ``tag`` (tag path, one row per tag of a
highlight) and ``content`` (the highlighted text, converted from HTML to plain text); the
XLSX export has the same columns in a sheet named ``highlights``. The export carries no
offsets, so each highlight is located in the document's plain text:

1. the exact content, searched from the previous highlight of the same document onwards
   (Taguette writes highlights in document order), then from the start;
2. failing that, the content with any run of white space matching any other run (Taguette's
   HTML-to-text conversion changes line breaks).

Highlights that cannot be found are listed in the report, never guessed. The documents'
texts come from a folder of UTF-8 ``.txt`` files named like the documents (``Interview 3``
or ``Interview 3.docx`` is found as ``Interview 3.txt``), or from a mapping name -> text.

Tags are mapped to the codebook like any external code, their names made into paths by
:func:`~copeval.interop.mapping.tag_path` exactly as the codebook check does: ``Parent/child``
splits at ``/``, a tag without ``/`` at ``.`` (``interesting.places``), for the parent-code
fallback. Valence uses tags such as ``Valence.+2`` or ``Valence/-1``.

:func:`read_taguette_codebook` reads Taguette's codebook export (CSV or XLSX: ``tag``,
``parent``, ``description``, ``number of highlights``) to check the tags against the codebook
and write a mapping template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..codebook import Codebook, load_codebook
from ..errors import ImportFormatError
from .mapping import CodeMapping, read_mapping, tag_path
from .metadata import SourceEntry, _strip_ext, read_sources_meta, resolve_sources
from .report import ImportReport
from .result import QualitativeImport, minimal_sites
from .safe import LIMITS, Limits, decode_text, read_bytes, read_table
from .spans import Span, build_segments

__all__ = ["import_taguette", "locate", "read_taguette_codebook", "read_taguette_highlights"]

_COLUMN_ALIASES = {
    "document": ("document", "doc", "document name"),
    "tag": ("tag", "tags", "code"),
    "content": ("content", "highlight", "highlighted text", "text", "snippet"),
    "id": ("id", "highlight id", "highlight_id"),
}


def read_taguette_highlights(path: str | Path, *, limits: Limits = LIMITS) -> pd.DataFrame:
    """Read a Taguette highlights export.

    Returns
    -------
    DataFrame
        ``id, document, tag, content`` as strings, one row per highlight and tag, in file
        order (``id`` is the row number when the export has no id column).

    Raises
    ------
    ImportFormatError
        A required column is missing.
    """
    p = Path(path)
    sheet = None
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        from .safe import check_zip

        check_zip(p, limits=limits)
        wb = openpyxl.load_workbook(p, read_only=True)
        sheet = "highlights" if "highlights" in wb.sheetnames else None
        wb.close()
    raw = read_table(p, sheet=sheet, limits=limits)
    lower = {str(c).strip().lower(): c for c in raw.columns}
    cols = {}
    for want, aliases in _COLUMN_ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is None and want != "id":
            raise ImportFormatError(
                f"{p}: not a Taguette highlights export: no {want!r} column. Expected columns "
                f"id, document, tag, content; found {', '.join(map(str, raw.columns))}"
            )
        cols[want] = found
    out = pd.DataFrame(
        {
            "id": raw[cols["id"]].astype(str) if cols["id"] else [str(i) for i in range(len(raw))],
            "document": raw[cols["document"]].astype(str).str.strip(),
            "tag": raw[cols["tag"]].astype(str).str.strip(),
            "content": raw[cols["content"]].astype(str),
        }
    )
    return out


def read_taguette_codebook(path: str | Path, *, limits: Limits = LIMITS) -> pd.DataFrame:
    """Read a Taguette codebook export (``.csv``, or ``.xlsx`` with a ``codebook`` sheet).

    Returns
    -------
    DataFrame
        ``name, path, parts, description`` (``path`` the name as written; ``parts`` the
        tag's path as a tuple, from
        :func:`~copeval.interop.mapping.tag_path`, under its ``parent`` when the tag's own
        name does not already start with it).

    Raises
    ------
    ImportFormatError
        No ``tag`` column.
    """
    p = Path(path)
    sheet = None
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        from .safe import check_zip

        check_zip(p, limits=limits)
        wb = openpyxl.load_workbook(p, read_only=True)
        sheet = "codebook" if "codebook" in wb.sheetnames else None
        wb.close()
    raw = read_table(p, sheet=sheet, limits=limits)
    lower = {str(c).strip().lower(): c for c in raw.columns}
    if "tag" not in lower:
        raise ImportFormatError(
            f"{p}: not a Taguette codebook: no 'tag' column (found "
            f"{', '.join(map(str, raw.columns))})"
        )
    rows = []
    for rec in raw.to_dict("records"):
        name = str(rec[lower["tag"]]).strip()
        if not name:
            continue
        parent = str(rec.get(lower.get("parent", ""), "") or "").strip()
        parts = tag_path(name)
        if parent and not (name.startswith(parent + "/") or name.startswith(parent + ".")):
            parts = (*tag_path(parent), *parts)
        rows.append(
            {
                "name": name,
                "path": name,
                "parts": parts,
                "description": str(rec.get(lower.get("description", ""), "") or ""),
            }
        )
    return pd.DataFrame(rows, columns=["name", "path", "parts", "description"])


def locate(text: str, content: str, *, after: int = 0) -> tuple[int, int, str] | None:
    """Find ``content`` in ``text``: ``(start, end, how)`` with how ``exact`` or ``whitespace``.

    Searches from ``after`` first, then from the start. Returns None when not found.
    """
    needle = content.strip()
    if not needle:
        return None
    for origin in (after, 0):
        i = text.find(needle, origin)
        if i >= 0:
            return i, i + len(needle), "exact"
    pattern = re.compile(r"\s+".join(re.escape(w) for w in needle.split()))
    for origin in (after, 0):
        m = pattern.search(text, origin)
        if m:
            return m.start(), m.end(), "whitespace"
    return None


def _load_texts(texts, documents: list[str], limits: Limits) -> tuple[dict, list[str]]:
    if isinstance(texts, Mapping):
        found = {d: texts[d] for d in documents if d in texts}
        return found, [d for d in documents if d not in texts]
    folder = Path(texts)
    if not folder.is_dir():
        raise ImportFormatError(f"{folder}: the folder of document texts does not exist")
    files = {}
    for f in sorted(folder.iterdir()):
        if f.is_file() and not f.is_symlink() and f.suffix.lower() == ".txt":
            files.setdefault(f.name, f)
            files.setdefault(f.stem, f)
    found, missing = {}, []
    for d in documents:
        f = files.get(d) or files.get(f"{d}.txt") or files.get(_strip_ext(d))
        if f is None:
            missing.append(d)
        else:
            found[d] = decode_text(read_bytes(f, limits=limits), name=str(f))
    return found, missing


def import_taguette(
    path: str | Path,
    *,
    texts,
    mapping=None,
    sources_meta=None,
    coder: str | None = None,
    codebook: Codebook | None = None,
    limits: Limits = LIMITS,
    respondent_groups=None,
) -> QualitativeImport:
    """Import a Taguette highlights export (nothing is written).

    Parameters
    ----------
    path : str or Path
        The highlights export (``.csv`` or ``.xlsx``).
    texts : str, Path or mapping
        Folder of the documents' UTF-8 ``.txt`` files, or ``{document name: text}``.
    mapping, sources_meta, codebook, respondent_groups
        As for :func:`copeval.interop.refi.import_refi`.
    coder : str, optional
        Coder of every segment (the export names none; default ``"imported"``).

    Returns
    -------
    QualitativeImport
    """
    codebook = codebook or load_codebook()
    if not isinstance(mapping, CodeMapping):
        mapping = read_mapping(mapping, codebook=codebook)
    meta = (
        None if sources_meta is None else read_sources_meta(sources_meta, groups=respondent_groups)
    )
    hl = read_taguette_highlights(path, limits=limits)
    report = ImportReport(str(path), tool="Taguette")
    untagged = hl["tag"].isin(["", "nan", "None"])
    if untagged.any():
        report.warn(f"{int(untagged.sum())} highlight row(s) without a tag skipped")
    hl = hl[~untagged]
    documents = list(dict.fromkeys(hl["document"]))
    found, missing = _load_texts(texts, documents, limits)
    if missing:
        raise ImportFormatError(
            f"{path}: no text for document(s) {', '.join(repr(d) for d in missing[:10])}. "
            "Export each document from Taguette as plain text and put the files, named like "
            "the documents, in the texts folder"
        )
    entries = [SourceEntry(d, found[d]) for d in documents if found[d].strip()]
    for d in documents:
        if not found[d].strip():
            report.warn(f"document {d!r} skipped: its text is empty")
    if not entries:
        raise ImportFormatError(f"{path}: no document with text to import")
    sources, texts_by_id, ids = resolve_sources(
        entries, meta=meta, report=report, groups=respondent_groups
    )
    doc_id = {e.name: sid for e, sid in zip(entries, ids, strict=True)}

    spans: dict = {sid: [] for sid in ids}
    not_found, fuzzy = [], 0
    cursor: dict = {}
    who = coder or "imported"
    for (hid, doc), group in hl.groupby(["id", "document"], sort=False):
        if doc not in doc_id:
            continue
        sid = doc_id[doc]
        content = group["content"].iloc[0]
        hit = locate(texts_by_id[sid], content, after=cursor.get(sid, 0))
        if hit is None:
            snippet = " ".join(content.split())[:60]
            not_found.append(f"{doc} highlight {hid}: {snippet!r}")
            continue
        start, end, how = hit
        fuzzy += how != "exact"
        cursor[sid] = start
        paths = [tag_path(t) for t in group["tag"]]
        spans[sid].append(Span(start, end, paths, who, f"highlight {hid}"))
    if not_found:
        report.warn(
            f"{len(not_found)} highlight(s) not found in their document's text, not imported: "
            + "; ".join(not_found[:10])
        )
    if fuzzy:
        report.warn(f"{fuzzy} highlight(s) located with white space normalised; check them")
    if coder is None:
        report.warn(
            "Taguette exports name no coder; segments are coded 'imported' (use --coder to set it)"
        )
    segments = build_segments(spans, texts_by_id, mapping=mapping, report=report)
    report.counts = {
        "sources": len(sources),
        "highlights": int(hl["id"].nunique()),
        **report.counts,
    }
    return QualitativeImport(
        sources=sources,
        segments=segments,
        texts=texts_by_id,
        sites=minimal_sites(sources["site_id"], origin=str(path)),
        report=report,
        title="",  # a file name is not a title: the project gets a placeholder to fill in
    )
