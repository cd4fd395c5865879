"""Coded spans from any QDA tool -> the rows of ``segments.csv``.

Readers (REFI-QDA, Taguette) turn their files into :class:`Span` records with code-point
offsets and external code paths; :func:`build_segments` maps the codes to the codebook,
attaches valences from the ``Valence`` code group and reports what it could not use.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pandas as pd

from ..project import table_columns
from .mapping import CodeMapping, code_label, is_valence_group, parse_valence
from .offsets import is_mid_word
from .report import MIDWORD_COLUMNS, UNMAPPED_COLUMNS, ImportReport

__all__ = ["SEGMENT_COLUMNS", "Span", "build_segments"]

SEGMENT_COLUMNS = table_columns("segments")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")


@dataclass
class Span:
    """A stretch of one source's text with the external codes applied to it.

    Attributes
    ----------
    start, end : int
        Code-point offsets ``[start, end)``.
    codes : list of tuple of str
        Path of each code applied (``("C2", "meetings")``, ``("Valence", "+2")``).
    coder : str
    selection : str
        Identifier of the selection in the other tool (for messages and for matching a
        valence applied to the very same selection).
    name : str or None
        The selection's name, used as segment ID for files written by copeval.
    """

    start: int
    end: int
    codes: list = field(default_factory=list)
    coder: str = "imported"
    selection: str = ""
    name: str | None = None


def _context(text: str, pos: int, width: int = 15) -> str:
    return (
        (text[max(0, pos - width) : pos] + "|" + text[pos : pos + width])
        .replace("\r", "\\r")
        .replace("\n", "\\n")
    )


def build_segments(
    spans: dict[str, list[Span]],
    texts: dict[str, str],
    *,
    mapping: CodeMapping,
    report: ImportReport,
    use_names: bool = False,
) -> pd.DataFrame:
    """Map coded spans to codebook segments.

    Parameters
    ----------
    spans : dict of source_id -> list of Span
    texts : dict of source_id -> str
    mapping : CodeMapping
    report : ImportReport
        Filled in: ``mapped``, ``unmapped``, ``mid_word``, counts and warnings.
    use_names : bool
        Use selection names as segment IDs when every one is a valid, unique ID (files
        written by copeval); otherwise IDs are ``<source_id>-S001``, ... in text order.

    Returns
    -------
    DataFrame
        ``segment_id, source_id, start, end, code, valence, coder`` (valence ``Int64``,
        missing where no valence code overlaps).
    """
    rows = []
    marks = defaultdict(list)  # source_id -> [(start, end, valence, coder, selection)]
    unmapped: Counter = Counter()
    unmapped_sources = defaultdict(set)
    mapped = {}
    bad_range = []
    ignored = Counter()
    group_direct = 0
    mid_rows = []
    mapping = mapping.for_paths(
        tuple(p) for items in spans.values() for sp in items for p in sp.codes
    )
    for sid, items in spans.items():
        text = texts[sid]
        checked = set()
        for sp in items:
            if not (0 <= sp.start < sp.end <= len(text)):
                bad_range.append(f"{sid} {sp.selection} [{sp.start}, {sp.end})")
                continue
            if (sp.start, sp.end) not in checked:
                checked.add((sp.start, sp.end))
                for boundary, pos in (("start", sp.start), ("end", sp.end)):
                    if is_mid_word(text, pos):
                        mid_rows.append([sid, sp.selection, boundary, pos, _context(text, pos)])
            for path in sp.codes:
                path = tuple(path)
                valence = parse_valence(path)
                if valence is not None:
                    marks[sid].append((sp.start, sp.end, valence, sp.coder, sp.selection))
                    continue
                if is_valence_group(path):
                    group_direct += 1
                    continue
                code, how = mapping.resolve(path)
                label = code_label(path)
                if code is None:
                    if how == "ignored":
                        ignored[label] += 1
                    else:
                        unmapped[label] += 1
                        unmapped_sources[label].add(sid)
                    continue
                mapped.setdefault(label, (code, how))
                rows.append(
                    {
                        "source_id": sid,
                        "start": sp.start,
                        "end": sp.end,
                        "code": code,
                        "coder": sp.coder,
                        "sel_": sp.selection,
                        "name_": sp.name,
                    }
                )
    seg = pd.DataFrame(
        rows, columns=["source_id", "start", "end", "code", "coder", "sel_", "name_"]
    )
    n_before = len(seg)
    seg = seg.drop_duplicates(["source_id", "start", "end", "code", "coder"]).reset_index(
        drop=True
    )
    if n_before > len(seg):
        report.warn(
            f"{n_before - len(seg)} duplicate coding(s) (same code, coder and span) merged"
        )

    # valence ----------------------------------------------------------------------------
    valences = []
    used_marks = set()
    conflicts = 0
    for rec in seg.itertuples(index=False):
        best_tier, cands = None, []
        for j, (s, e, val, coder, sel) in enumerate(marks.get(rec.source_id, [])):
            overlap = min(e, rec.end) - max(s, rec.start)
            if overlap <= 0:
                continue
            tier = (sel == rec.sel_, coder == rec.coder, overlap)
            if best_tier is None or tier > best_tier:
                best_tier, cands = tier, [(j, val)]
            elif tier == best_tier:
                cands.append((j, val))
        if not cands:
            valences.append(pd.NA)
            continue
        values = {v for _, v in cands}
        used_marks.update((rec.source_id, j) for j, _ in cands)
        if len(values) > 1:
            conflicts += 1
            valences.append(pd.NA)
        else:
            valences.append(values.pop())
    seg["valence"] = pd.array(valences, dtype="Int64")
    n_marks = sum(len(m) for m in marks.values())
    if conflicts:
        report.warn(
            f"{conflicts} segment(s) overlap valence codes that disagree equally well; "
            "their valence is left empty"
        )
    unattached = n_marks - len(used_marks)
    if unattached > 0:
        report.warn(f"{unattached} valence coding(s) overlap no imported code and were not used")
    if group_direct:
        report.warn(
            f"{group_direct} coding(s) use the 'Valence' group code itself instead of one of "
            "its children +2..-2; not imported"
        )
    if bad_range:
        report.warn(
            f"{len(bad_range)} selection(s) fall outside their text after offset conversion "
            "and were not imported: " + "; ".join(bad_range[:10])
        )
    if ignored:
        report.warn(
            f"{sum(ignored.values())} coding(s) of {len(ignored)} code(s) not imported because "
            "the mapping table maps them to nothing: " + ", ".join(sorted(ignored)[:20])
        )

    # segment IDs ------------------------------------------------------------------------
    seg = seg.sort_values(["source_id", "start", "end", "code", "coder"], kind="stable")
    names = seg["name_"].tolist()
    if (
        use_names
        and len(seg)
        and all(isinstance(n, str) and _ID_RE.match(n) for n in names)
        and len(set(names)) == len(names)
    ):
        seg["segment_id"] = names
    else:
        seg["segment_id"] = [
            f"{sid}-S{k:03d}"
            for sid, k in zip(
                seg["source_id"], seg.groupby("source_id").cumcount() + 1, strict=True
            )
        ]
    seg = seg[SEGMENT_COLUMNS].reset_index(drop=True)
    seg["start"] = seg["start"].astype("int64")
    seg["end"] = seg["end"].astype("int64")

    report.mapped = pd.DataFrame(
        [(k, c, h) for k, (c, h) in sorted(mapped.items())],
        columns=["external_name", "code", "how"],
    )
    report.unmapped = pd.DataFrame(
        [(k, n, len(unmapped_sources[k])) for k, n in unmapped.most_common()],
        columns=UNMAPPED_COLUMNS,
    )
    report.mid_word = pd.DataFrame(mid_rows, columns=MIDWORD_COLUMNS)
    report.counts["segments"] = len(seg)
    report.counts["with valence"] = int(seg["valence"].notna().sum())
    report.counts["valence codings"] = n_marks
    return seg
