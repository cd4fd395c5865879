"""Source metadata for imported sources: side table, REFI variables, defaults.

Each source of a copeval project needs ``site_id``, ``respondent_group``, ``method``,
``language`` and ``consent`` (``docs/data-model.md``). An import takes each value from, in
order of precedence:

1. the **sources-meta side table** (``--sources-meta``): a CSV or XLSX with a column
   ``source`` (the source's name in the other tool, with or without its extension) and any of
   ``source_id``, ``site_id``, ``respondent_group``, ``method``, ``date``, ``language``,
   ``consent``, ``coder_notes``, ``panel_id`` (the same interviewee as a source of another
   round, docs/data-model.md "Rounds");
2. **REFI-QDA variables** on the source (``site_id``, ``respondent_group``, ...);
3. REFI-QDA variables on a **case** that holds the source;
4. **defaults**, each reported as a warning: ``method`` = ``interview`` (``observation`` or
   ``document`` for those respondent groups); ``consent`` = ``anonymous`` (counts as
   evidence, never quoted; an import never assumes consent to quote); ``language`` guessed
   from the text (Spanish or English function words; ``es`` when undecided); no date.

``site_id`` and ``respondent_group`` have no default: who said something, and where, cannot
be guessed. Sources lacking them are listed together in one error that says how to supply them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

import pandas as pd

from .._io import neutralise_cell
from ..errors import ImportFormatError
from ..project import table_columns
from ..vocabulary import CONSENT_LEVELS, METHODS, RESPONDENT_GROUPS
from .report import ImportReport
from .safe import read_table

__all__ = [
    "META_FIELDS",
    "SourceEntry",
    "guess_language",
    "make_source_id",
    "meta_template",
    "read_sources_meta",
    "resolve_sources",
]

#: Columns a sources-meta side table may hold besides ``source``.
META_FIELDS = (
    "source_id",
    "site_id",
    "respondent_group",
    "method",
    "date",
    "language",
    "consent",
    "coder_notes",
    "panel_id",
)
_ALIASES = {
    "site": "site_id",
    "site_id": "site_id",
    "siteid": "site_id",
    "respondent_group": "respondent_group",
    "group": "respondent_group",
    "respondentgroup": "respondent_group",
    "method": "method",
    "date": "date",
    "language": "language",
    "lang": "language",
    "consent": "consent",
    "coder_notes": "coder_notes",
    "notes": "coder_notes",
    "source_id": "source_id",
    "panel_id": "panel_id",
    "panel": "panel_id",
}
_SOURCE_KEY = ("source", "source_name", "name", "document")
_TEXT_EXT = {".txt", ".docx", ".doc", ".pdf", ".rtf", ".odt", ".md", ".html", ".htm"}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")

_ES_WORDS = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "que",
        "de",
        "del",
        "y",
        "en",
        "un",
        "una",
        "por",
        "con",
        "para",
        "es",
        "no",
        "se",
        "al",
        "lo",
        "como",
        "pero",
        "más",
        "muy",
        "su",
        "sus",
        "nos",
        "hay",
        "está",
        "son",
        "ya",
        "también",
        "porque",
        "cuando",
    ]
)
_EN_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "in",
        "is",
        "that",
        "it",
        "for",
        "with",
        "on",
        "was",
        "as",
        "are",
        "be",
        "this",
        "you",
        "they",
        "we",
        "have",
        "not",
        "but",
        "at",
        "by",
        "from",
        "there",
        "what",
        "when",
    ]
)


def guess_language(text: str) -> str | None:
    """``"es"`` or ``"en"`` from function-word counts, or None when there is no evidence."""
    words = re.findall(r"[a-záéíóúñü]+", text[:20_000].lower())
    es = sum(w in _ES_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    if es == en:
        return None
    return "es" if es > en else "en"


def _strip_ext(name: str) -> str:
    p = PurePosixPath(name.replace("\\", "/")).name
    stem, dot, ext = p.rpartition(".")
    return stem if dot and f".{ext.lower()}" in _TEXT_EXT else p


def make_source_id(name: str, used: set[str]) -> str:
    """A safe, unique source ID from a tool's source name.

    Known document extensions are dropped, accents removed, other characters outside
    ``A-Z a-z 0-9 . _ -`` become ``_``; IDs are kept unique (case-insensitively) by a
    ``-2``, ``-3``... suffix. ``used`` is updated.
    """
    stem = _strip_ext(name)
    ascii_ = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    sid = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_).strip("._-")[:60] or "source"
    out, k = sid, 1
    while out.lower() in used:
        k += 1
        out = f"{sid}-{k}"
    used.add(out.lower())
    return out


@dataclass
class SourceEntry:
    """One imported source before its metadata is resolved.

    Attributes
    ----------
    name : str
        Name in the other tool (the side table's ``source`` key).
    text : str
    variables : dict
        Variables on the source itself (name -> value as text).
    case_variables : list of dict
        Variables of each case holding the source, in document order.
    preferred_id : str or None
        An ID to use verbatim when valid (files written by copeval).
    """

    name: str
    text: str
    variables: dict = field(default_factory=dict)
    case_variables: list = field(default_factory=list)
    preferred_id: str | None = None


def _normalise_fields(values: Mapping[str, object]) -> dict:
    out = {}
    for k, v in values.items():
        key = _ALIASES.get(re.sub(r"[\s-]+", "_", str(k).strip().lower()))
        if key is None or v is None:
            continue
        v = str(v).strip()
        if v:
            out[key] = v
    return out


def _check_value(field_: str, value: str, groups: Mapping | None = None) -> str | None:
    """Normalised value, or None when invalid (``groups``: the project's respondent groups)."""
    if field_ == "respondent_group":
        v = re.sub(r"[\s-]+", "_", value.strip().lower())
        return v if v in (groups if groups is not None else RESPONDENT_GROUPS) else None
    if field_ == "method":
        v = re.sub(r"[\s-]+", "_", value.strip().lower())
        return v if v in METHODS else None
    if field_ == "consent":
        v = value.strip().lower()
        return v if v in CONSENT_LEVELS else None
    if field_ == "language":
        v = value.strip().lower()
        return v if _LANG_RE.match(v) else None
    if field_ == "date":
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            return None
    if field_ in ("site_id", "source_id", "panel_id"):
        v = value.strip()
        return v if _ID_RE.match(v) else None
    return value


def _expected(field_: str, groups: Mapping | None = None) -> str:
    if field_ == "respondent_group":
        return (
            "one of "
            + ", ".join(groups if groups is not None else RESPONDENT_GROUPS)
            + " (a project declares its own groups in datapackage.json, see "
            "docs/data-model.md)"
        )
    return _EXPECTED.get(field_, "valid")


_EXPECTED = {
    "method": "one of " + ", ".join(METHODS),
    "consent": "one of " + ", ".join(CONSENT_LEVELS),
    "language": "an ISO 639-1 code such as es or en",
    "date": "a date YYYY-MM-DD",
    "site_id": "an ID of letters, digits, '.', '_', ':' or '-' without spaces",
    "source_id": "an ID of letters, digits, '.', '_', ':' or '-' without spaces",
    "panel_id": "an ID of letters, digits, '.', '_', ':' or '-' without spaces",
}


def read_sources_meta(
    source: str | Path | pd.DataFrame, *, groups: Mapping | None = None
) -> pd.DataFrame:
    """Read and check a sources-meta side table.

    ``groups`` are the respondent groups allowed (default: the default list; pass the
    target project's, :func:`copeval.interop.result.project_groups`).

    Returns
    -------
    DataFrame
        Column ``source`` plus the :data:`META_FIELDS` present, values normalised
        (e.g. ``Community leader`` -> ``community_leader``), empty cells as ``""``.

    Raises
    ------
    ImportFormatError
        No ``source`` column, a duplicated source, or invalid values (all listed, with rows).
    """
    if isinstance(source, pd.DataFrame):
        df, name = source.astype(object).fillna(""), "sources-meta table"
    else:
        df, name = read_table(source), str(source)
    df = df.copy()
    lower = {str(c).strip().lower(): c for c in df.columns}
    key = next((lower[k] for k in _SOURCE_KEY if k in lower), None)
    if key is None:
        raise ImportFormatError(
            f"{name}: needs a column 'source' naming each source as in the other tool. "
            f"Available columns: {', '.join(map(str, df.columns))}"
        )
    rename = {key: "source"}
    for low, orig in lower.items():
        if orig != key and _ALIASES.get(low) in META_FIELDS:
            rename[orig] = _ALIASES[low]
    df = df.rename(columns=rename)
    keep = ["source"] + [f for f in META_FIELDS if f in df.columns]
    df = df[keep].astype(str).apply(lambda s: s.str.strip())
    problems = []
    seen: dict = {}
    for i, row in enumerate(df.itertuples(index=False), start=2):
        if not row.source:
            problems.append(f"row {i}, column 'source': empty")
        elif row.source in seen:
            problems.append(
                f"row {i}, column 'source': {row.source!r} repeats row {seen[row.source]}"
            )
        seen.setdefault(row.source, i)
    for f in keep[1:]:
        values = []
        for i, v in enumerate(df[f], start=2):
            if v == "":
                values.append("")
                continue
            ok = _check_value(f, v, groups)
            if ok is None:
                problems.append(f"row {i}, column {f!r}: {v!r} is not {_expected(f, groups)}")
                values.append(v)
            else:
                values.append(ok)
        df[f] = values
    if problems:
        raise ImportFormatError(
            f"{name}: invalid sources-meta table:\n  - " + "\n  - ".join(problems)
        )
    return df.reset_index(drop=True)


def _meta_lookup(meta: pd.DataFrame | None) -> dict:
    if meta is None:
        return {}
    out = {}
    for rec in meta.to_dict("records"):
        out[rec["source"]] = rec
    return out


def resolve_sources(
    entries: list[SourceEntry],
    *,
    meta: pd.DataFrame | None,
    report: ImportReport,
    groups: Mapping | None = None,
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Resolve the metadata of each source.

    ``groups`` are the respondent groups allowed (default: the default list). A
    ``coder_notes`` value a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``)
    is written with a leading apostrophe, and the import report names the sources.

    Returns
    -------
    sources : DataFrame
        ``source_id, site_id, respondent_group, method, date, language, consent,
        coder_notes`` (one row per entry, same order).
    texts : dict
        source_id -> text.
    keys : list of str
        source_id of each entry, in order.

    Raises
    ------
    ImportFormatError
        Sources without ``site_id`` or ``respondent_group``, or with invalid values.
    """
    lookup = _meta_lookup(meta)
    by_stem = {}
    for k, rec in lookup.items():
        by_stem.setdefault(_strip_ext(k), rec)
    used: set[str] = set()
    used_meta = set()
    rows, texts, ids = [], {}, []
    missing, invalid, defaulted = [], [], {}
    for e in entries:
        side = lookup.get(e.name) or by_stem.get(_strip_ext(e.name))
        if side is not None:
            used_meta.add(side["source"])
        layers = [
            ("side table", {k: v for k, v in (side or {}).items() if k != "source" and v}),
            ("source variable", _normalise_fields(e.variables)),
        ]
        for case_vars in e.case_variables:
            layers.append(("case variable", _normalise_fields(case_vars)))
        values: dict = {}
        for origin, layer in layers:
            for f, v in layer.items():
                if f in values:
                    if (
                        origin == "case variable"
                        and values[f][1] == "case variable"
                        and (_check_value(f, v, groups) != values[f][0])
                    ):
                        report.warn(
                            f"source {e.name!r}: cases disagree on {f} ({values[f][0]!r} vs "
                            f"{v!r}); the first case's value is used"
                        )
                    continue
                ok = _check_value(f, v, groups)
                if ok is None:
                    invalid.append(
                        f"{e.name!r}: {f} {v!r} ({origin}) is not {_expected(f, groups)}"
                    )
                    continue
                values[f] = (ok, origin)
        v = {f: val for f, (val, _) in values.items()}
        sid = v.get("source_id")
        if (
            sid is None
            and e.preferred_id
            and _ID_RE.match(e.preferred_id)
            and (e.preferred_id.lower() not in used)
        ):
            sid = e.preferred_id
            used.add(sid.lower())
        elif sid is not None:
            if sid.lower() in used:
                invalid.append(f"{e.name!r}: source_id {sid!r} is used twice")
            used.add(sid.lower())
        else:
            sid = make_source_id(e.name, used)
        lacking = [f for f in ("site_id", "respondent_group") if f not in v]
        if lacking:
            missing.append(f"{e.name!r} (no {' and no '.join(lacking)})")
        group = v.get("respondent_group")
        if "method" not in v:
            v["method"] = group if group in ("observation", "document") else "interview"
            defaulted.setdefault("method", []).append(f"{sid}={v['method']}")
        if "consent" not in v:
            v["consent"] = "anonymous"
            defaulted.setdefault("consent", []).append(sid)
        if "language" not in v:
            guess = guess_language(e.text)
            v["language"] = guess or "es"
            defaulted.setdefault("language", []).append(f"{sid}={v['language']}")
        notes = v.get("coder_notes")
        if isinstance(notes, str) and neutralise_cell(notes) != notes:
            notes = neutralise_cell(notes)
            defaulted.setdefault("formula", []).append(sid)
        rows.append(
            {
                "source_id": sid,
                "site_id": v.get("site_id"),
                "respondent_group": group,
                "method": v["method"],
                "date": v.get("date"),
                "language": v["language"],
                "consent": v["consent"],
                "coder_notes": notes,
                "panel_id": v.get("panel_id"),
            }
        )
        texts[sid] = e.text
        ids.append(sid)
    problems = []
    if invalid:
        problems.append("invalid metadata:\n  - " + "\n  - ".join(invalid))
    if missing:
        problems.append(
            f"{len(missing)} source(s) lack the site or respondent group, which cannot be "
            "guessed:\n  - " + "\n  - ".join(missing) + "\nGive them as REFI-QDA variables "
            "'site_id' and 'respondent_group' (on the source or on a case holding it), or in "
            "a sources-meta table (--sources-meta FILE, a CSV with columns source,site_id,"
            "respondent_group[,method,date,language,consent]). `copeval import FILE "
            "--meta-template meta.csv` writes a template listing every source."
        )
    if problems:
        raise ImportFormatError(f"{report.file}: " + "\n".join(problems))
    if "consent" in defaulted:
        report.warn(
            f"consent not given for {len(defaulted['consent'])} source(s); set to 'anonymous' "
            "(counts as evidence, never quoted): " + ", ".join(defaulted["consent"][:20])
        )
    if "method" in defaulted:
        report.warn(
            f"method not given for {len(defaulted['method'])} source(s); defaulted: "
            + ", ".join(defaulted["method"][:20])
        )
    if "language" in defaulted:
        report.warn(
            f"language not given for {len(defaulted['language'])} source(s); guessed from the "
            "text: " + ", ".join(defaulted["language"][:20])
        )
    if "formula" in defaulted:
        report.warn(
            f"coder_notes of {len(defaulted['formula'])} source(s) began like a spreadsheet "
            "formula (=, +, -, @); written with a leading apostrophe so that a spreadsheet "
            "shows them as text: " + ", ".join(defaulted["formula"][:20])
        )
    unused = sorted(set(lookup) - used_meta)
    if unused:
        report.warn(
            f"{len(unused)} row(s) of the sources-meta table match no imported source: "
            + ", ".join(unused[:20])
        )
    columns = [c for c in table_columns("sources") if c != "text_path"]
    if any(r["panel_id"] for r in rows):  # re-interviews linked across rounds (--round)
        columns.append("panel_id")
    sources = pd.DataFrame(rows, columns=columns)
    return sources, texts, ids


def meta_template(entries: list[SourceEntry]) -> pd.DataFrame:
    """A sources-meta table listing every source, with the values already known filled in."""
    rows = []
    for e in entries:
        vals = {}
        for layer in [_normalise_fields(e.variables)] + [
            _normalise_fields(c) for c in e.case_variables
        ]:
            for k, v in layer.items():
                vals.setdefault(k, v)
        rows.append({"source": e.name, **{f: vals.get(f, "") for f in META_FIELDS}})
    return pd.DataFrame(rows, columns=["source", *META_FIELDS])
