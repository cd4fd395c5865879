"""Reading REFI-QDA projects (``.qdpx``, ``.qde``) and codebooks (``.qdc``).

REFI-QDA (https://www.qdasoftware.org) is the exchange standard of NVivo, ATLAS.ti, MAXQDA,
QualCoder, Taguette and others. A ``.qdpx`` file is a zip archive holding one project XML
(``project.qde``, but any single ``*.qde`` name occurs) and a folder of source files
(``sources/`` or ``Sources/``). :func:`read_qda` reads either form into a neutral
:class:`QdaProject`; :func:`import_refi` turns it into copeval tables.

Everything is read through :mod:`copeval.interop.safe`: the archive is checked before any
member is read, XML is parsed with DTDs and entities refused, and source files are looked up
by name inside the archive (or, for a bare ``.qde``, inside the ``sources`` folder beside it),
never at a path the file dictates.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from ..codebook import Codebook, load_codebook
from ..errors import ImportFormatError, UnsafeInputError
from ..project import is_placeholder
from .mapping import CodeMapping, read_mapping
from .metadata import SourceEntry, read_sources_meta, resolve_sources
from .offsets import CONVENTIONS, detect_convention, hint_from_origin, to_codepoints
from .report import ImportReport
from .result import QualitativeImport, minimal_sites
from .safe import LIMITS, Limits, SafeZip, decode_text, parse_xml, read_bytes
from .spans import Span, build_segments

__all__ = [
    "QdaCode",
    "QdaProject",
    "QdaSelection",
    "QdaSource",
    "import_refi",
    "read_qda",
    "read_qdc",
]

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
DEFAULT_CODER = "imported"


# --------------------------------------------------------------------------- model
@dataclass
class QdaCode:
    """A code of the tool's code tree. ``path`` runs from the top-level code to this one."""

    guid: str
    name: str
    path: tuple
    parent: str | None = None
    codable: bool = True
    description: str = ""


@dataclass
class QdaSelection:
    """A text selection: raw offsets as written, codings as ``(code_guid, user_guid)``."""

    guid: str
    name: str | None
    start: int
    end: int
    codings: list = field(default_factory=list)
    user: str | None = None


@dataclass
class QdaSource:
    """A source. ``text`` is None when no plain text could be found (``problem`` says why)."""

    guid: str
    name: str
    kind: str
    text: str | None = None
    text_from: str = ""
    selections: list = field(default_factory=list)
    variables: dict = field(default_factory=dict)
    problem: str | None = None


@dataclass
class QdaCase:
    guid: str
    name: str
    variables: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)


@dataclass
class QdaProject:
    """A REFI-QDA project as read, before any mapping to copeval.

    Attributes
    ----------
    file : str
    name, origin : str
        The ``Project`` element's attributes (``origin`` names the tool).
    users : dict
        guid -> (name, id).
    codes : dict
        guid -> :class:`QdaCode`, in document order.
    sources : list of QdaSource
        Text sources and the text representations of PDF sources.
    cases : list of QdaCase
    skipped : Counter
        Things present but not importable as text (picture, audio, video sources, PDF
        region selections, codings on whole sources...).
    """

    file: str
    name: str = ""
    origin: str = ""
    creating_user: str | None = None
    users: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)

    def codes_frame(self) -> pd.DataFrame:
        """The code tree as a table: ``guid, name, path, parent, codable, description``."""
        return _codes_frame(self.codes)


def _codes_frame(codes: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "guid": c.guid,
                "name": c.name,
                "path": "/".join(c.path),
                "parts": tuple(c.path),
                "parent": codes[c.parent].name if c.parent in codes else "",
                "codable": c.codable,
                "description": c.description,
            }
            for c in codes.values()
        ],
        columns=["guid", "name", "path", "parent", "codable", "description", "parts"],
    )


# --------------------------------------------------------------------------- XML helpers
def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _kids(el, name: str) -> list:
    return [c for c in el if _local(c.tag) == name]


def _kid(el, name: str):
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _guid(value: str | None) -> str:
    return (value or "").strip().strip("{}").lower()


def _text_of(el) -> str:
    return "" if el is None else "".join(el.itertext())


#: Deepest code tree read (NVivo's deepest real trees have about 6 levels).
MAX_CODE_DEPTH = 64


def _read_codes(
    parent, codes: dict, path: tuple, parent_guid: str | None, *, file: str = ""
) -> None:
    """Read a code tree in document order, without recursion (a hostile file may nest codes
    thousands of levels deep); deeper than :data:`MAX_CODE_DEPTH` is refused."""
    stack = [(el, path, parent_guid) for el in reversed(_kids(parent, "Code"))]
    while stack:
        el, above, up = stack.pop()
        guid = _guid(el.get("guid"))
        name = el.get("name") or ""
        p = (*above, name)
        if len(p) > MAX_CODE_DEPTH:
            raise ImportFormatError(
                f"{file}: the code tree is nested more than {MAX_CODE_DEPTH} levels deep (at "
                f"{name[:40]!r}); refused"
            )
        codes[guid] = QdaCode(
            guid,
            name,
            p,
            up,
            (el.get("isCodable") or "true").strip().lower() in ("true", "1"),
            _text_of(_kid(el, "Description")).strip(),
        )
        stack.extend((kid, p, guid) for kid in reversed(_kids(el, "Code")))


def _variable_values(el, variables: dict) -> dict:
    out = {}
    for vv in _kids(el, "VariableValue"):
        ref = _kid(vv, "VariableRef")
        name = variables.get(_guid(ref.get("targetGUID")) if ref is not None else "")
        if not name:
            continue
        for c in vv:
            if _local(c.tag) != "VariableRef":
                out[name] = _text_of(c).strip()
                break
    return out


# --------------------------------------------------------------------------- containers
class _Container:
    """Where the .qde and its source files come from: a checked zip, or a folder."""

    def __init__(self, path: Path, limits: Limits):
        self.path = path
        self.limits = limits
        self.zip: SafeZip | None = None
        if path.suffix.lower() == ".qde":
            self.qde_name = path.name
            self.qde = read_bytes(path, limits=limits)
            self.folder = path.parent
        else:
            self.zip = SafeZip(path, limits=limits)
            qdes = [n for n in self.zip.names if n.lower().endswith(".qde")]
            if not qdes:
                self.zip.close()
                raise ImportFormatError(
                    f"{path}: no project file (*.qde) in the archive; is it a REFI-QDA .qdpx? "
                    f"Members: {', '.join(self.zip.names[:10])}"
                )
            if len(qdes) > 1:
                self.zip.close()
                raise ImportFormatError(
                    f"{path}: the archive holds several project files ({', '.join(qdes)}); "
                    "a .qdpx has exactly one"
                )
            self.qde_name = qdes[0]
            self.qde = self.zip.read(qdes[0])
            base = str(PurePosixPath(qdes[0]).parent)
            self.base = "" if base == "." else base

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def find(self, ref: str) -> tuple[bytes | None, str]:
        """Bytes of the file a ``plainTextPath``/``richTextPath`` refers to, and a note."""
        ref = ref.strip()
        scheme, sep, rest = ref.partition("://")
        if not sep:
            scheme, rest = "", ref
        rel = rest.replace("\\", "/")
        if scheme.lower() in ("", "internal"):
            p = PurePosixPath(rel)
            if p.is_absolute() or ".." in p.parts or re.match(r"^[A-Za-z]:", rel):
                raise UnsafeInputError(
                    f"{self.path}: refused, source path {ref!r} points outside the project"
                )
        else:  # relative://, absolute://, file://: external file, only looked up by name
            rel = PurePosixPath(rel).name
        if self.zip is not None:
            folders = (
                f"{self.base}/sources" if self.base else "sources",
                self.base,
            )
            member = self.zip.find(rel, folders=folders)
            if member is None:
                where = (
                    "the archive"
                    if scheme.lower() in ("", "internal")
                    else ("the archive (the tool refers to a file outside it)")
                )
                return None, f"{ref} is not in {where}"
            return self.zip.read(member), member
        name = PurePosixPath(rel).name
        if name != rel:
            return None, f"{ref}: only files directly in the sources folder are read"
        root = self.folder.resolve()
        for sub in ("sources", "Sources", ""):
            p = (self.folder / sub / name) if sub else (self.folder / name)
            if p.is_file() and not p.is_symlink() and p.resolve().is_relative_to(root):
                return read_bytes(p, limits=self.limits), str(p)
        return None, f"{ref} not found beside {self.path.name}"


def _docx_text(data: bytes, *, name: str, limits: Limits) -> str:
    """Plain text of a DOCX: paragraphs joined by LF, tabs and line breaks kept."""
    with SafeZip(data, name=name, limits=limits) as z:
        member = z.find("word/document.xml")
        if member is None:
            raise ImportFormatError(f"{name}: not a DOCX (no word/document.xml)")
        root = parse_xml(z.read(member), name=f"{name}:word/document.xml", limits=limits)
    paras = []
    for p in root.iter():
        if _local(p.tag) != "p":
            continue
        parts = []
        for el in p.iter():
            tag = _local(el.tag)
            if tag == "t":
                parts.append(el.text or "")
            elif tag == "tab":
                parts.append("\t")
            elif tag in ("br", "cr"):
                parts.append("\n")
        paras.append("".join(parts))
    return "\n".join(paras)


# --------------------------------------------------------------------------- reading
#: Largest offset accepted (a text is at most 256 MiB; offsets beyond are not real).
MAX_OFFSET = 2**31 - 1


def _int(value, what: str, file: str) -> int:
    text = str(value).strip()
    if len(text) > 12:
        raise ImportFormatError(f"{file}: {what} {text[:20]!r}... is not a text offset")
    try:
        n = int(text)
    except (TypeError, ValueError):
        raise ImportFormatError(f"{file}: {what} {value!r} is not a whole number") from None
    if not 0 <= n <= MAX_OFFSET:
        raise ImportFormatError(f"{file}: {what} {n} is not a text offset (0..{MAX_OFFSET:,})")
    return n


def _read_text_source(
    el, kind: str, name: str, box: _Container, qda: QdaProject, variables: dict
) -> QdaSource:
    src = QdaSource(_guid(el.get("guid")), name, kind)
    content = _kid(el, "PlainTextContent")
    if content is not None and _text_of(content):
        src.text, src.text_from = _text_of(content), "PlainTextContent"
    elif el.get("plainTextPath"):
        data, note = box.find(el.get("plainTextPath"))
        if data is not None:
            src.text = decode_text(data, name=note)
            src.text_from = note
        else:
            src.problem = note
    rich = el.get("richTextPath") or ""
    if (src.text is None or not src.text.strip()) and rich.lower().endswith(".docx"):
        data, note = box.find(rich)
        if data is not None:
            docx = _docx_text(data, name=note, limits=box.limits)
            if docx.strip():
                src.text, src.text_from = docx, f"{note} (text extracted from the DOCX)"
                src.problem = None
    if src.text is not None and not src.text.strip() and src.problem is None:
        src.problem = "its text is empty"
    for sel in _kids(el, "PlainTextSelection"):
        s = QdaSelection(
            _guid(sel.get("guid")),
            sel.get("name"),
            _int(sel.get("startPosition"), "startPosition", qda.file),
            _int(sel.get("endPosition"), "endPosition", qda.file),
            user=_guid(sel.get("creatingUser")) or None,
        )
        for coding in _kids(sel, "Coding"):
            ref = _kid(coding, "CodeRef")
            if ref is not None:
                s.codings.append(
                    (_guid(ref.get("targetGUID")), _guid(coding.get("creatingUser")) or None)
                )
        src.selections.append(s)
    n_whole = len(_kids(el, "Coding"))
    if n_whole:
        qda.skipped["codings on a whole source (no selection)"] += n_whole
    src.variables = _variable_values(el, variables)
    return src


def read_qda(path: str | Path, *, limits: Limits = LIMITS) -> QdaProject:
    """Read a REFI-QDA project (``.qdpx`` archive or bare ``.qde``).

    Returns
    -------
    QdaProject
        Codes, text sources (with their text where the file provides it), selections and
        codings with raw offsets, variables and cases.

    Raises
    ------
    UnsafeInputError
        Hostile archive or XML (see :mod:`copeval.interop.safe`).
    ImportFormatError
        Not a REFI-QDA project.
    """
    path = Path(path)
    box = _Container(path, limits)
    try:
        root = parse_xml(box.qde, name=f"{path.name}:{box.qde_name}", limits=limits)
        if _local(root.tag) != "Project":
            raise ImportFormatError(
                f"{path}: the root element is <{_local(root.tag)}>, not a REFI-QDA <Project>"
            )
        qda = QdaProject(
            str(path),
            root.get("name") or "",
            root.get("origin") or "",
            _guid(root.get("creatingUserGUID")) or None,
        )
        users = _kid(root, "Users")
        for u in _kids(users, "User") if users is not None else []:
            qda.users[_guid(u.get("guid"))] = (
                (u.get("name") or "").strip(),
                (u.get("id") or "").strip(),
            )
        book = _kid(root, "CodeBook")
        codes_el = _kid(book, "Codes") if book is not None else None
        if codes_el is not None:
            _read_codes(codes_el, qda.codes, (), None, file=qda.file)
        variables = {}
        vars_el = _kid(root, "Variables")
        for v in _kids(vars_el, "Variable") if vars_el is not None else []:
            variables[_guid(v.get("guid"))] = (v.get("name") or "").strip()
        sources_el = _kid(root, "Sources")
        for el in list(sources_el) if sources_el is not None else []:
            kind = _local(el.tag)
            name = (el.get("name") or "").strip()
            if kind == "TextSource":
                if not name:
                    ref = el.get("plainTextPath") or _guid(el.get("guid"))
                    name = PurePosixPath(ref.split("://")[-1].replace("\\", "/")).name
                qda.sources.append(_read_text_source(el, kind, name, box, qda, variables))
            elif kind == "PDFSource":
                n_regions = len(_kids(el, "PDFSelection"))
                if n_regions:
                    qda.skipped["PDF region selections (coordinates, no text offsets)"] += (
                        n_regions
                    )
                rep = _kid(el, "Representation")
                if rep is None:
                    qda.skipped["PDF sources without a text representation"] += 1
                    continue
                src = _read_text_source(
                    rep, kind, name or _guid(el.get("guid")), box, qda, variables
                )
                src.guid = _guid(el.get("guid"))
                src.variables = {**_variable_values(el, variables), **src.variables}
                qda.sources.append(src)
            else:
                qda.skipped[f"{kind} (not text)"] += 1
        cases_el = _kid(root, "Cases")
        for c in _kids(cases_el, "Case") if cases_el is not None else []:
            qda.cases.append(
                QdaCase(
                    _guid(c.get("guid")),
                    c.get("name") or "",
                    _variable_values(c, variables),
                    [_guid(r.get("targetGUID")) for r in _kids(c, "SourceRef")],
                )
            )
        return qda
    finally:
        box.close()


def read_qdc(path: str | Path, *, limits: Limits = LIMITS) -> pd.DataFrame:
    """Read a REFI-QDA codebook (``.qdc``).

    An empty ``<Sets/>`` element (written by Taguette, although the schema wants at least
    one set) is accepted.

    Returns
    -------
    DataFrame
        ``guid, name, path, parent, codable, description``; ``path`` joins the names from
        the top-level code with ``/``.
    """
    path = Path(path)
    root = parse_xml(read_bytes(path, limits=limits), name=str(path), limits=limits)
    if _local(root.tag) == "Project":
        root = _kid(root, "CodeBook")
        if root is None:
            raise ImportFormatError(f"{path}: a REFI-QDA project without a codebook")
    if _local(root.tag) != "CodeBook":
        raise ImportFormatError(
            f"{path}: the root element is <{_local(root.tag)}>, not a REFI-QDA <CodeBook>"
        )
    codes: dict = {}
    codes_el = _kid(root, "Codes")
    if codes_el is not None:
        _read_codes(codes_el, codes, (), None, file=str(path))
    return _codes_frame(codes)


# --------------------------------------------------------------------------- import
def _coder_label(qda: QdaProject, guid: str | None) -> str | None:
    if not guid or guid not in qda.users:
        return None
    name, uid = qda.users[guid]
    if uid:
        return uid
    words = re.findall(r"[^\W\d_]+", name)
    if len(words) >= 2:
        return "".join(w[0] for w in words).upper()
    return name or None


def import_refi(
    path: str | Path,
    *,
    mapping=None,
    sources_meta=None,
    offsets: str = "auto",
    coder: str | None = None,
    codebook: Codebook | None = None,
    limits: Limits = LIMITS,
    respondent_groups=None,
) -> QualitativeImport:
    """Import a REFI-QDA project into copeval tables (nothing is written).

    Parameters
    ----------
    path : str or Path
        ``.qdpx`` archive or bare ``.qde``.
    mapping : path, DataFrame or CodeMapping, optional
        Mapping table ``external_name, code`` (see :mod:`copeval.interop.mapping`).
    sources_meta : path or DataFrame, optional
        Side table of source metadata (see :mod:`copeval.interop.metadata`).
    offsets : {"auto", "codepoints", "utf16", "crlf1", "utf8"}
        Offset convention of the file; ``"auto"`` detects it (see
        :mod:`copeval.interop.offsets`).
    coder : str, optional
        Coder for every segment; default: each coding's user (its ``id``, else the
        initials of its name), else ``"imported"``.
    codebook : Codebook, optional
    respondent_groups : mapping, optional
        Respondent groups allowed (default: the default list); pass the target project's
        (:func:`copeval.interop.result.project_groups`) so that its own groups are accepted.

    Returns
    -------
    QualitativeImport
        ``sources``, ``segments``, ``texts``, ``sites`` (minimal rows for the sites named)
        and the :class:`~copeval.interop.report.ImportReport`.

    Raises
    ------
    ImportFormatError
        Not a REFI-QDA project, no source with text, or sources without site/group.
    UnsafeInputError
        A hostile file.
    """
    if offsets != "auto" and offsets not in CONVENTIONS:
        raise ImportFormatError(
            f"offsets must be 'auto' or one of {', '.join(CONVENTIONS)}; got {offsets!r}"
        )
    codebook = codebook or load_codebook()
    if not isinstance(mapping, CodeMapping):
        mapping = read_mapping(mapping, codebook=codebook)
    meta = (
        None if sources_meta is None else read_sources_meta(sources_meta, groups=respondent_groups)
    )
    qda = read_qda(path, limits=limits)
    report = ImportReport(str(path), tool=qda.origin or "unknown tool")

    usable = [s for s in qda.sources if s.text is not None and s.text.strip()]
    unusable = [s for s in qda.sources if s not in usable]
    for s in unusable:
        report.warn(f"source {s.name!r} skipped: {s.problem or 'no plain text'}")
    for what, n in qda.skipped.items():
        report.warn(f"{n} {what} skipped")
    for s in usable:
        if "extracted from the DOCX" in s.text_from:
            report.warn(
                f"source {s.name!r}: no plain-text file, text taken from its DOCX (paragraphs "
                "joined by line feeds)"
                + (f"; check its {len(s.selections)} selection(s)" if s.selections else "")
            )
    if not usable:
        n_sel = sum(len(s.selections) for s in qda.sources)
        raise ImportFormatError(
            f"{path}: nothing to import: none of its {len(qda.sources)} text source(s) has "
            f"text in the file ({len(qda.codes)} codes, {n_sel} text selections). "
            + "; ".join(f"{s.name!r}: {s.problem or 'no plain text'}" for s in unusable[:10])
            + ". Export the project again with its sources included (the codes of a "
            "codebook-only export can be checked against the codebook with `copeval import "
            "FILE --write-mapping codes.csv`)."
        )

    # offsets ----------------------------------------------------------------------------
    texts_by_guid = {s.guid: s.text for s in usable}
    raw = [(s.guid, sel.start, sel.end) for s in usable for sel in s.selections]
    choice = detect_convention(
        texts_by_guid,
        raw,
        hint=hint_from_origin(qda.origin),
        force=None if offsets == "auto" else offsets,
    )
    report.offsets, report.offsets_reason = choice.convention, choice.reason
    report.offset_scores = choice.scores

    # cases ------------------------------------------------------------------------------
    case_vars: dict = {}
    for case in qda.cases:
        for sg in case.sources:
            case_vars.setdefault(sg, []).append(case.variables)

    entries = [
        SourceEntry(
            s.name,
            s.text,
            s.variables,
            case_vars.get(s.guid, []),
            preferred_id=s.name if qda.origin.lower().startswith("copeval") else None,
        )
        for s in usable
    ]
    sources, texts, ids = resolve_sources(
        entries, meta=meta, report=report, groups=respondent_groups
    )

    # spans ------------------------------------------------------------------------------
    spans: dict = {}
    missing_codes = Counter()
    for s, sid in zip(usable, ids, strict=True):
        cps = to_codepoints(
            s.text, [v for sel in s.selections for v in (sel.start, sel.end)], choice.convention
        )
        out = []
        for k, sel in enumerate(s.selections):
            start, end = int(cps[2 * k]), int(cps[2 * k + 1])
            by_coder: dict = {}
            for code_guid, user in sel.codings:
                code = qda.codes.get(code_guid)
                if code is None:
                    missing_codes[code_guid] += 1
                    continue
                who = (
                    coder
                    or _coder_label(qda, user)
                    or _coder_label(qda, sel.user)
                    or (_coder_label(qda, qda.creating_user) or DEFAULT_CODER)
                )
                by_coder.setdefault(who, []).append(code.path)
            for who, paths in by_coder.items():
                out.append(
                    Span(start, end, paths, who, sel.guid or f"selection {k + 1}", sel.name)
                )
        spans[sid] = out
    if missing_codes:
        report.warn(
            f"{sum(missing_codes.values())} coding(s) refer to codes missing from the "
            "codebook of the file; not imported"
        )
    segments = build_segments(
        spans,
        texts,
        mapping=mapping,
        report=report,
        use_names=qda.origin.lower().startswith("copeval"),
    )
    if not coder and (segments["coder"] == DEFAULT_CODER).any():
        report.warn(
            f"the file names no user for some codings; their coder is {DEFAULT_CODER!r} "
            "(use --coder to set it)"
        )
    report.counts = {"sources": len(sources), **report.counts}
    return QualitativeImport(
        sources=sources,
        segments=segments,
        texts=texts,
        sites=minimal_sites(sources["site_id"], origin=str(path)),
        report=report,
        # a QDA tool's default project name ("qc project", "Untitled") is not a title
        title="" if is_placeholder(qda.name) else (qda.name or ""),
    )
