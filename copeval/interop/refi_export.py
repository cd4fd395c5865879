"""Writing REFI-QDA: a project as ``.qdpx``, the codebook as ``.qdc``.

The ``.qdpx`` holds ``project.qde`` (valid against the REFI-QDA Project schema, 2019) and one
UTF-8 text file per source in ``sources/``. Inside it:

* the codebook as a code tree: the criterion codes ``C1`` ... ``AT`` at the top, their
  sub-codes (named by their codebook ID, e.g. ``C2.meetings``) beneath, each with its label and
  definition as description; and the ``Valence`` group with the codes ``+2`` ... ``-2``;
* one ``TextSource`` per source, named by its ``source_id``, with the REFI variables
  ``site_id``, ``respondent_group``, ``method``, ``date``, ``language`` and ``consent``;
* one ``PlainTextSelection`` per segment, named by its ``segment_id``, coded with its codebook
  code and, when rated, with its valence code; offsets in code points;
* one ``User`` per coder.

GUIDs are derived from the IDs (UUID version 5), so exporting the same project twice gives
the same file. Sources with consent ``none`` are never exported.

The archive is a working copy for the coding team: the texts of every source with consent
``quote`` or ``anonymous`` and the coder notes are exported as they are. With
``redact=True`` it is a copy to share: every text is redacted
(:func:`copeval.privacy.redact`, the project's registry, tags in ``lang``) and every coded
selection moved to cover the redacted form of what it covered; coder notes, the project
title, coder names and source and segment names are redacted too, and GUIDs are derived
from the redacted names (a GUID derived from an ID made from a phone number could be
reversed by hashing every phone number).
"""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd

from .. import __version__
from .._io import atomic_write_bytes
from .._validate import check_lang
from ..codebook import Codebook, load_codebook
from ..errors import CopevalError
from ..vocabulary import CRITERIA
from .mapping import VALENCE_GROUP, VALENCE_LABELS

__all__ = ["codebook_xml", "export_qdc", "export_qdpx", "project_xml"]

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
_GUID_NS = uuid.UUID("6f0c0b8e-3f7e-5b1a-9d2c-2f1e6a0c0e11")
_COLORS = {"C1": "#1B9E77", "C2": "#D95F02", "C3": "#7570B3", "C4": "#E7298A", "AT": "#66A61E"}
_VALENCE_TEXT = {
    2: "explicit, concrete evidence the practice is in place",
    1: "general or indirect evidence the practice is in place",
    0: "neutral or mixed evidence",
    -1: "general evidence of absence or an obstacle",
    -2: "explicit, concrete evidence of absence or a serious obstacle",
}
_VARIABLES = ("site_id", "respondent_group", "method", "date", "language", "consent")


def _guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_GUID_NS, f"{kind}:{key}"))


def _code_tree(parent: ET.Element, codebook: Codebook, lang: str, tag) -> dict:
    """Add the code tree under ``parent``; returns code -> guid (valence under ints)."""
    guids = {}
    table = codebook.table

    def add(el_parent, code, name, desc, codable=True, color=None):
        attrs = {
            "guid": _guid("code", code),
            "name": name,
            "isCodable": "true" if codable else "false",
        }
        if color:
            attrs["color"] = color
        el = ET.SubElement(el_parent, tag("Code"), attrs)
        if desc:
            ET.SubElement(el, tag("Description")).text = desc
        guids[code] = attrs["guid"]
        return el

    def describe(row):
        return f"{row[f'label_{lang}']}. {row[f'definition_{lang}']}"

    for crit in CRITERIA:
        row = table.loc[table["code"] == crit].iloc[0]
        el = add(parent, crit, crit, describe(row), color=_COLORS.get(crit))
        for sub in table.loc[table["parent"] == crit].itertuples(index=False):
            add(el, sub.code, sub.code, describe(sub._asdict()), color=_COLORS.get(crit))
    group = add(
        parent,
        VALENCE_GROUP,
        VALENCE_GROUP,
        "Valence of the evidence on the CFIR scale, applied to the same selection as "
        "the code it rates",
        codable=False,
    )
    for value, label in VALENCE_LABELS.items():
        attrs = {"guid": _guid("valence", label), "name": label, "isCodable": "true"}
        el = ET.SubElement(group, tag("Code"), attrs)
        ET.SubElement(el, tag("Description")).text = f"{label}: {_VALENCE_TEXT[value]}"
        guids[value] = attrs["guid"]
    return guids


def _tag(ns: str):
    return lambda name: f"{{{ns}}}{name}"


def _serialise(root: ET.Element, ns: str) -> bytes:
    ET.register_namespace("", ns)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def codebook_xml(codebook: Codebook | None = None, *, lang: str = "en") -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document (UTF-8 bytes)."""
    codebook = codebook or load_codebook()
    check_lang(lang)
    tag = _tag(NS_CODEBOOK)
    root = ET.Element(tag("CodeBook"), {"origin": f"copeval {__version__}"})
    _code_tree(ET.SubElement(root, tag("Codes")), codebook, lang, tag)
    return _serialise(root, NS_CODEBOOK)


def _exportable(project) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    sources = project.sources
    excluded = sorted(sources.loc[sources["consent"] == "none", "source_id"])
    sources = sources[sources["consent"] != "none"]
    segments = project.segments[project.segments["source_id"].isin(sources["source_id"])]
    return sources, segments, excluded


def _offset_mapper(findings: pd.DataFrame):
    """``new(position, is_end)``: a position in a text -> its position in the redacted text.

    A position inside a replaced span moves to the start of its tag (a selection's start) or
    to its end (a selection's end), so the tag is inside the selection."""
    spans = sorted(
        (int(s), int(e), len(r))
        for s, e, r in zip(
            findings["start"], findings["end"], findings["replacement"], strict=True
        )
    )

    def new(pos: int, is_end: bool) -> int:
        shift = 0
        for start, end, n in spans:
            if end <= pos:
                shift += n - (end - start)
            elif start < pos:
                return start + shift + (n if is_end else 0)
            else:
                break
        return pos + shift

    return new


def _unique_names(ids, red) -> dict:
    """``{id: shown name}`` for every ID, redacted and kept unique (``[PHONE]~2``)."""
    out, taken = {}, set()
    for raw in dict.fromkeys(ids):
        shown, n = red(raw), 1
        while shown in taken:
            n += 1
            shown = f"{red(raw)}~{n}"
        taken.add(shown)
        out[raw] = shown
    return out


def project_xml(
    project, *, lang: str = "en", redact: bool = False
) -> tuple[bytes, dict[str, str]]:
    """The ``project.qde`` document of a project, and the source files it refers to.

    With ``redact=True`` texts, notes, names and selections are those of the copy to share
    (see the module's description).

    Returns
    -------
    xml : bytes
    files : dict
        Member name in the archive (``sources/<guid>.txt``) -> text.
    """
    check_lang(lang)
    tag = _tag(NS_PROJECT)
    sources, segments, _ = _exportable(project)
    if redact:
        from ..privacy import load_registry
        from ..privacy import redact as redact_text

        registry = load_registry(project)

        def red(value):
            return redact_text(value, registry=registry, lang=lang)[0] if value else value

        src_name = _unique_names(sources["source_id"], red)
        seg_name = _unique_names(segments["segment_id"], red)
        coder_name = _unique_names(segments["coder"], red)
    else:

        def red(value):
            return value

        src_name = {v: v for v in sources["source_id"]}
        seg_name = {v: v for v in segments["segment_id"]}
        coder_name = {v: v for v in segments["coder"]}
    title = red(project.meta.get("title") or project.path.name)
    root = ET.Element(tag("Project"), {"name": title, "origin": f"copeval {__version__}"})

    coders = sorted(set(coder_name[c] for c in segments["coder"]))
    if coders:
        users = ET.SubElement(root, tag("Users"))
        for c in coders:
            ET.SubElement(users, tag("User"), {"guid": _guid("user", c), "name": c, "id": c})
    book = ET.SubElement(root, tag("CodeBook"))
    guids = _code_tree(ET.SubElement(book, tag("Codes")), project.codebook, lang, tag)

    var_guid = {v: _guid("variable", v) for v in _VARIABLES}
    if len(sources):
        variables = ET.SubElement(root, tag("Variables"))
        for v in _VARIABLES:
            ET.SubElement(
                variables,
                tag("Variable"),
                {
                    "guid": var_guid[v],
                    "name": v,
                    "typeOfVariable": "Date" if v == "date" else "Text",
                },
            )

    files = {}
    if len(sources):
        src_el = ET.SubElement(root, tag("Sources"))
    by_source = {sid: g for sid, g in segments.groupby("source_id", sort=False)}
    for src in sources.itertuples(index=False):
        name = src_name[src.source_id]
        sguid = _guid("source", name)
        member = f"sources/{sguid}.txt"
        text = project.text(src.source_id)
        if redact:
            text, findings = redact_text(text, registry=registry, lang=lang)
            move = _offset_mapper(findings)
        else:

            def move(pos, is_end):
                return pos

        files[member] = text
        el = ET.SubElement(
            src_el,
            tag("TextSource"),
            {
                "guid": sguid,
                "name": name,
                "plainTextPath": f"internal://{sguid}.txt",
            },
        )
        notes = getattr(src, "coder_notes", None)
        if isinstance(notes, str) and notes.strip():
            ET.SubElement(el, tag("Description")).text = red(notes)
        segs = by_source.get(src.source_id)
        if segs is not None:
            for seg in segs.sort_values(["start", "end", "segment_id"]).itertuples(index=False):
                seg_id, user = seg_name[seg.segment_id], _guid("user", coder_name[seg.coder])
                sel = ET.SubElement(
                    el,
                    tag("PlainTextSelection"),
                    {
                        "guid": _guid("segment", seg_id),
                        "name": seg_id,
                        "startPosition": str(move(int(seg.start), False)),
                        "endPosition": str(move(int(seg.end), True)),
                        "creatingUser": user,
                    },
                )
                coding = ET.SubElement(
                    sel,
                    tag("Coding"),
                    {
                        "guid": _guid("coding", seg_id),
                        "creatingUser": user,
                    },
                )
                ET.SubElement(coding, tag("CodeRef"), {"targetGUID": guids[seg.code]})
                if not pd.isna(seg.valence):
                    coding = ET.SubElement(
                        sel,
                        tag("Coding"),
                        {
                            "guid": _guid("valence-coding", seg_id),
                            "creatingUser": user,
                        },
                    )
                    ET.SubElement(coding, tag("CodeRef"), {"targetGUID": guids[int(seg.valence)]})
        for v in _VARIABLES:
            value = getattr(src, v, None)
            if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
                continue
            vv = ET.SubElement(el, tag("VariableValue"))
            ET.SubElement(vv, tag("VariableRef"), {"targetGUID": var_guid[v]})
            ET.SubElement(vv, tag("DateValue" if v == "date" else "TextValue")).text = str(value)
    return _serialise(root, NS_PROJECT), files


def _refuse_existing(target: Path, *, overwrite: bool) -> None:
    if target.exists() and not overwrite:
        raise CopevalError(f"{target} already exists; refusing to overwrite it (use --force)")


def export_qdpx(
    project,
    path: str | Path,
    *,
    lang: str = "en",
    overwrite: bool = False,
    redact: bool = False,
):
    """Export a project as a REFI-QDA ``.qdpx`` archive.

    Parameters
    ----------
    project : Project
        A loaded project (:func:`copeval.project.load_project`).
    path : str or Path
        The ``.qdpx`` file to write.
    lang : {"en", "es"}
        Language of the code descriptions.
    overwrite : bool
        Replace an existing file.
    redact : bool
        Write a copy to share: texts, notes and names redacted, selections moved to fit
        (tags in ``lang``). By default the texts are exported as they are (a working copy
        for the coding team).

    Returns
    -------
    list of str
        IDs of the sources left out because their consent is ``none``.
    """
    xml, files = project_xml(project, lang=lang, redact=redact)

    _refuse_existing(Path(path), overwrite=overwrite)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", xml)
        for member, text in files.items():
            z.writestr(member, text.encode("utf-8"))
    atomic_write_bytes(Path(path), buf.getvalue())
    return _exportable(project)[2]


def export_qdc(
    path: str | Path,
    *,
    codebook: Codebook | None = None,
    lang: str = "en",
    overwrite: bool = False,
) -> Path:
    """Export the codebook (with the ``Valence`` group) as a REFI-QDA ``.qdc`` file."""
    data = codebook_xml(codebook, lang=lang)
    _refuse_existing(Path(path), overwrite=overwrite)
    return atomic_write_bytes(Path(path), data)
