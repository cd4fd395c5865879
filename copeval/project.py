"""The evaluation project: a folder of tidy CSV tables and plain-text sources.

This is where data enters copeval. :func:`load_project` reads a project folder, checks
everything at once and returns a :class:`Project` of validated DataFrames; every problem is
reported with its file, row, column and value, in one :class:`~copeval.errors.ProjectValidationError`.
Loading never writes to the project folder. :func:`write_project` and :func:`write_datapackage`
are the only functions that write one. The format is described in ``docs/data-model.md``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from . import __version__
from ._io import safe_child
from .codebook import Codebook, load_codebook
from .errors import CopevalError, Problem, ProjectValidationError, UnsafePathError
from .vocabulary import (
    CONSENT_LEVELS,
    CRITERIA,
    METHODS,
    RESPONDENT_GROUPS,
    parse_respondent_groups,
)

__all__ = [
    "LANGUAGE_VARIANTS",
    "MAX_INTEGER",
    "REPORT_LANGUAGES",
    "TABLE_SCHEMAS",
    "Project",
    "default_lang",
    "is_placeholder",
    "load_project",
    "sources_schema",
    "table_columns",
    "text_fingerprint",
    "validate_project",
    "write_datapackage",
    "write_project",
]


# --------------------------------------------------------------------------- schemas
@dataclass(frozen=True)
class Column:
    """One column of a project table.

    ``kind`` is one of ``id`` (unique string key), ``ref`` (string referring to another
    table), ``string``, ``enum``, ``integer``, ``number``, ``date``, ``boolean``.
    """

    name: str
    kind: str = "string"
    required: bool = False  # the column must be present
    nonempty: bool = False  # every cell must have a value
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""


_SITES = (
    Column("site_id", "id", True, True, description="unique site ID"),
    Column("name", "string", True, True, description="display name"),
    Column("department", "string", True, True, description="department"),
    Column("municipality_code", "string", description="INE municipality code, as text"),
    Column("population", "integer", minimum=0, description="population of the reference area"),
    Column("population_source", "string", description="source of the population figure"),
    Column("homicide_rate", "number", minimum=0, description="homicides per 100,000"),
    Column("homicide_year", "integer", minimum=1900, maximum=2100, description="year of the rate"),
    Column("homicide_source", "string", description="source of the homicide rate"),
    Column("police_precinct", "string", description="PNC precinct (comisaría)"),
    Column("stations", "integer", minimum=0, description="police stations"),
    Column("substations", "integer", minimum=0, description="police substations"),
    Column("staff", "integer", minimum=0, description="police staff"),
    Column("staff_women", "integer", minimum=0, description="of whom women"),
    Column("police_source", "string", description="source of the precinct figures"),
    Column("notes", "string", description="free text"),
)
_SOURCES = (
    Column("source_id", "id", True, True, description="unique source ID"),
    Column("site_id", "ref", True, True, description="site of the source"),
    Column("respondent_group", "enum", True, True, tuple(RESPONDENT_GROUPS)),
    Column("method", "enum", True, True, METHODS),
    Column("date", "date", description="ISO date YYYY-MM-DD"),
    Column("language", "string", True, True, description="ISO 639-1 code (es, en, ...)"),
    Column("consent", "enum", True, True, CONSENT_LEVELS),
    Column("coder_notes", "string", description="free text"),
    Column("text_path", "string", True, True, description="text file, relative to the project"),
    Column(
        "text_chars", "integer", minimum=0, description="length of the text coded, code points"
    ),
    Column("text_sha256", "string", description="SHA-256 of the text coded (UTF-8, no BOM)"),
)
_SEGMENTS = (
    Column("segment_id", "id", True, True, description="unique segment ID"),
    Column("source_id", "ref", True, True, description="source the segment belongs to"),
    Column("start", "integer", True, True, minimum=0, description="first code point"),
    Column("end", "integer", True, True, minimum=1, description="one past the last code point"),
    Column("code", "ref", True, True, description="codebook code"),
    Column("valence", "integer", True, False, minimum=-2, maximum=2, description="CFIR valence"),
    Column("coder", "string", True, True, description="coder initials or pseudonym"),
)
_ITEMS = (
    Column("instrument", "string", True, True, description="instrument = responses file stem"),
    Column("item", "string", True, True, description="column in the responses file"),
    Column("criterion", "enum", True, False, CRITERIA, description="criterion, empty if unscored"),
    Column("scale", "string", description="scale the item belongs to"),
    Column("scale_min", "integer", True, True, description="lowest valid answer"),
    Column("scale_max", "integer", True, True, description="highest valid answer"),
    Column("reverse", "boolean", True, True, description="worded negatively"),
    Column("missing_codes", "string", description="';'-separated don't know/refused codes"),
    Column("label_en", "string", True, True, description="English wording"),
    Column("label_es", "string", True, True, description="Spanish wording"),
)
_RESPONSES_FIXED = (
    Column("respondent_id", "id", True, True, description="pseudonymous respondent ID"),
    Column("site_id", "ref", True, True, description="site of the respondent"),
    Column("weight", "number", description="design weight (> 0)"),
    Column("cluster", "string", description="sampling cluster"),
)
#: Optional columns of evaluation rounds (docs/data-model.md, "Rounds"): read from
#: ``sources.csv`` and every ``responses/*.csv`` when present, never written when absent.
_ROUND = Column("round", "string", description="evaluation round ID (datapackage.json rounds)")
_PANEL = Column(
    "panel_id",
    "string",
    description="same interviewee or group as a source of another round (re-interviewed)",
)
ROUND_COLUMNS = ("round", "panel_id")
_REGISTRY = (
    Column("person_id", "id", True, True),
    Column("name", "string", True, True),
    Column("role", "string", True, True),
)

#: Site context figures that may differ by round (``site_rounds.csv``, docs/data-model.md):
#: every column of ``sites.csv`` except the site's identity (ID, name, department, code).
SITE_CONTEXT_COLUMNS = tuple(
    c.name for c in _SITES if c.name not in ("site_id", "name", "department", "municipality_code")
)
_SITE_ROUNDS = (
    Column("site_id", "ref", True, True, description="site (in sites.csv)"),
    Column("round", "ref", True, True, description="evaluation round (datapackage.json rounds)"),
    *(c for c in _SITES if c.name in SITE_CONTEXT_COLUMNS),
)

#: Report languages: a text column of ``sites.csv`` may have a variant per language
#: (``description_es``), and ``segments.csv`` a person's translation of the quote
#: (``text_en``); docs/data-model.md, "Language variants".
REPORT_LANGUAGES = ("es", "en")
#: Text columns of ``sites.csv`` (and ``site_rounds.csv``) that may have language variants.
LANGUAGE_VARIANTS = tuple(
    c.name for c in _SITES if c.kind == "string" and c.name != "municipality_code"
)
#: Optional translations of a segment's text (not added to a project that has none).
_TRANSLATIONS = tuple(
    Column(f"text_{lang}", "string", description=f"translation of the segment's text ({lang})")
    for lang in REPORT_LANGUAGES
)


def _variant_columns(header, names=LANGUAGE_VARIANTS) -> tuple:
    """``<column>_es`` / ``<column>_en`` columns present in a header, as Column specs."""
    found = []
    for name in names:
        for lang in REPORT_LANGUAGES:
            if f"{name}_{lang}" in header:
                found.append(Column(f"{name}_{lang}", "string", description=f"{name} ({lang})"))
    return tuple(found)


#: Table name -> column specifications (responses files add one integer column per item).
TABLE_SCHEMAS = {
    "sites": _SITES,
    "sources": _SOURCES,
    "segments": _SEGMENTS,
    "items": _ITEMS,
    "responses": _RESPONSES_FIXED,
    "registry": _REGISTRY,
    "site_rounds": _SITE_ROUNDS,
}


def table_columns(name: str) -> list[str]:
    """Column names of a project table in file order, from :data:`TABLE_SCHEMAS`.

    The one list of each table's columns: importers, generators and writers take them from
    here rather than typing them again.
    """
    try:
        return [c.name for c in TABLE_SCHEMAS[name]]
    except KeyError:
        raise ValueError(f"no table {name!r}; tables: {', '.join(TABLE_SCHEMAS)}") from None


def sources_schema(groups=None) -> tuple:
    """The ``sources`` columns with the respondent groups of a project (default list if None).

    ``groups`` is the mapping of :func:`copeval.vocabulary.parse_respondent_groups`.
    """
    choices = tuple(groups if groups is not None else RESPONDENT_GROUPS)
    return tuple(
        replace(c, choices=choices) if c.name == "respondent_group" else c for c in _SOURCES
    )


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
# ASCII digits only: "２" or "١٠٠" are refused with a message (docs/data-model.md, Numbers).
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: A BCP 47 language tag as other tools write it: an ISO 639 code and optional subtags
#: (``es``, ``quc``, ``es-GT``; case is not significant).
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$", re.IGNORECASE)
#: Largest whole number stored exactly (a float64 holds integers exactly up to 2**53).
MAX_INTEGER = 2**53 - 1
#: Control characters refused in every cell (tab, line feed and carriage return are allowed
#: in free text only), and the bidirectional overrides refused in names and IDs.
_CONTROL_RE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_LINE_CONTROL_RE = r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
#: String columns that are names or labels on one line, checked like IDs for control characters.
_ONE_LINE = frozenset(
    {"name", "department", "coder", "instrument", "item", "text_path", "scale"}
    | {f"{c}_{lang}" for c in ("name", "department") for lang in ("es", "en")}
)


def _ascii_form(value: str) -> str | None:
    """``value`` with its non-ASCII digits (full-width, Arabic-Indic...) as ASCII, if any."""
    if value.isascii():
        return None
    folded = "".join(
        str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None else ch
        for ch in unicodedata.normalize("NFKC", value)
    )
    return folded if folded.isascii() and folded != value else None


# --------------------------------------------------------------------------- reading
class _Collector:
    """Collects problems while reading; one per offending cell."""

    def __init__(self):
        self.problems: list[Problem] = []

    def error(self, file, message, row=None, column=None, value=None):
        self.problems.append(Problem(file, message, row, column, value, "error"))

    def warn(self, file, message, row=None, column=None, value=None):
        self.problems.append(Problem(file, message, row, column, value, "warning"))


def _decode(raw: bytes, name: str, out: _Collector) -> str | None:
    """UTF-8 with or without BOM. Anything else is reported, never guessed."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        out.error(name, "is encoded as UTF-16; re-save it as UTF-8", row=None)
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start]
        try:
            raw.decode("cp1252")
            guess = "it looks like Latin-1 / Windows-1252"
        except UnicodeDecodeError:
            guess = "its encoding is unknown"
        out.error(
            name,
            f"is not valid UTF-8 ({guess}: byte 0x{byte:02X} on line {line}). "
            "Re-save the file as UTF-8 (in Excel: 'CSV UTF-8'; in LibreOffice: "
            "character set 'Unicode (UTF-8)').",
            row=line,
            value=f"0x{byte:02X}",
        )
        return None


def _linked_outside(root: Path, path: Path, name: str, out: _Collector) -> bool:
    """True (and an error) when ``path``, a file of the project, is a symbolic link that
    leads out of the project folder: a shared project (a zip keeps links) must not read a
    file of the person who opens it, as texts and survey files are not (``safe_child``)."""
    if not path.is_symlink():
        return False
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a loop of links
        inside = False
    if not inside:
        out.error(name, "is a link to a file outside the project folder; copy the file in")
    return not inside


def _read_csv(path: Path, name: str, out: _Collector) -> pd.DataFrame | None:
    """Read a CSV as strings, keeping each record's spreadsheet row number in ``_row``."""
    if not path.is_file():
        out.error(name, "file not found")
        return None
    text = _decode(path.read_bytes(), name, out)
    if text is None:
        return None
    if not text.strip():
        out.error(name, "file is empty (it needs at least a header row)", row=1)
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    records, rows = [], []
    header = None
    line = 0
    try:
        for rec in reader:
            start_line = line + 1
            line = reader.line_num
            if not rec or all(not c.strip() for c in rec):
                continue  # blank lines are ignored
            if header is None:
                header = [h.strip() for h in rec]
                header_row = start_line
                continue
            if len(rec) != len(header):
                out.error(
                    name,
                    f"has {len(rec)} fields but the header has {len(header)}",
                    row=start_line,
                )
                continue
            records.append(rec)
            rows.append(start_line)
    except csv.Error as exc:
        out.error(name, f"is not valid CSV: {exc}", row=reader.line_num)
        return None
    dupes = sorted({h for h in header if header.count(h) > 1})
    for h in dupes:
        out.error(name, "column appears more than once in the header", header_row, h)
    for h in header:
        if h == "":
            out.error(name, "a header cell is empty", header_row, h)
    if dupes:
        return None
    df = pd.DataFrame(records, columns=header, dtype=object)
    df.insert(0, "_row", rows)
    df.attrs["header_row"] = header_row
    return df


def _check_columns(df, name, spec, out, *, allow_extra=False):
    header_row = df.attrs.get("header_row", 1)
    known = {c.name for c in spec}
    ok = True
    for col in spec:
        if col.required and col.name not in df.columns:
            out.error(
                name,
                f"required column is missing. Available columns: "
                f"{', '.join(c for c in df.columns if c != '_row')}",
                header_row,
                col.name,
            )
            ok = False
    if not allow_extra:
        for c in df.columns:
            if c != "_row" and c not in known:
                out.warn(
                    name,
                    f"unknown column, ignored (expected: {', '.join(c.name for c in spec)})",
                    header_row,
                    c,
                )
    return ok


def _parse_cells(df: pd.DataFrame, name: str, spec, out: _Collector) -> pd.DataFrame:
    """Type-check and convert each column of ``spec`` present in ``df``. Returns a new frame.

    Columns are checked vectorised; only the cells that fail go through :func:`_parse_cell`,
    which records the problem with its row and column.
    """
    df = df.copy()
    for col in spec:
        if col.name in df.columns:
            df[col.name] = _parse_column(df[col.name], df["_row"], name, col, out)
    return df


_STRICT_KINDS = ("id", "ref", "enum", "integer", "number", "date", "boolean")


def _parse_column(raw: pd.Series, rows: pd.Series, name: str, col: Column, out: _Collector):
    raw = raw.fillna("").astype(str)
    stripped = raw.str.strip()
    empty = stripped == ""
    bad = empty & col.nonempty
    if col.kind in _STRICT_KINDS:
        bad |= (raw != stripped) & ~empty
    if col.kind not in ("integer", "number"):  # numbers: the ASCII pattern below refuses them
        single_line = col.kind in _STRICT_KINDS or col.name in _ONE_LINE
        bad |= raw.str.contains(_LINE_CONTROL_RE if single_line else _CONTROL_RE, regex=True)
    if col.kind in ("integer", "number"):
        regex = _INT_RE if col.kind == "integer" else _NUMBER_RE
        ok = stripped.str.fullmatch(regex.pattern[1:-1]).fillna(False).astype(bool)
        numbers = pd.to_numeric(stripped.where(ok & ~empty), errors="coerce")
        with np.errstate(invalid="ignore"):
            ok &= np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan)) | empty
        if col.kind == "integer":
            ok &= ~(numbers.abs() > MAX_INTEGER).fillna(False)
        bad |= ~ok & ~empty
        if col.minimum is not None:
            bad |= numbers < col.minimum
        if col.maximum is not None:
            bad |= numbers > col.maximum
    elif col.kind in ("date", "boolean"):
        bad |= ~empty  # few cells (sources, items): checked one by one below
    elif col.kind == "enum" and col.choices:
        bad |= ~stripped.isin(col.choices) & ~empty
    bad = bad.fillna(True).astype(bool)
    values = {i: _parse_cell(raw[i], rows[i], name, col, out) for i in raw.index[bad.to_numpy()]}
    if col.kind == "integer":
        result = pd.array(numbers.where(~bad), dtype="Float64").astype("Int64")
    elif col.kind == "number":
        result = pd.array(numbers.where(~bad), dtype="Float64")
    elif col.kind == "boolean":
        result = pd.array([values.get(i, pd.NA) for i in raw.index], dtype="boolean")
        return pd.Series(result, index=raw.index)
    else:
        base = stripped if col.kind in ("id", "ref", "enum", "date") else raw
        result = base.where(~empty, None).astype(object)
        result[empty] = None
    result = pd.Series(result, index=raw.index)
    for i, v in values.items():  # failed cells: the value _parse_cell salvaged, or NA
        result[i] = v
    return result


def _parse_cell(raw, row, name, col: Column, out: _Collector):
    if raw is None:
        raw = ""
    stripped = raw.strip()
    if stripped == "":
        if col.nonempty:
            out.error(name, "value is required but the cell is empty", row, col.name, raw)
        return pd.NA if col.kind in ("integer", "number", "boolean") else None
    if (
        col.kind in ("id", "ref", "enum", "integer", "number", "date", "boolean")
        and raw != stripped
    ):
        out.error(name, f"{raw!r} has leading or trailing spaces", row, col.name, raw)
    single_line = col.kind in _STRICT_KINDS or col.name in _ONE_LINE
    control = re.search(_LINE_CONTROL_RE if single_line else _CONTROL_RE, raw)
    if control:
        out.error(
            name,
            f"contains the control character U+{ord(control.group()):04X} at position "
            f"{control.start() + 1}; remove it",
            row,
            col.name,
            raw,
        )
        return pd.NA if col.kind in ("integer", "number", "boolean") else None
    kind = col.kind
    if kind in ("integer", "number") and not (_INT_RE if kind == "integer" else _NUMBER_RE).match(
        stripped
    ):
        ascii_ = _ascii_form(stripped)
        what = "a whole number" if kind == "integer" else "a number"
        if ascii_ is not None and (_INT_RE if kind == "integer" else _NUMBER_RE).match(ascii_):
            out.error(
                name,
                f"{raw!r} is written with non-ASCII digits; write it as {ascii_}",
                row,
                col.name,
                raw,
            )
        elif stripped.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            out.error(name, f"{raw!r} is not a finite number", row, col.name, raw)
        else:
            out.error(name, f"{raw!r} is not {what}", row, col.name, raw)
        return pd.NA
    if kind == "integer":
        value = int(stripped)
        if abs(value) > MAX_INTEGER:
            out.error(
                name,
                f"{stripped} is too large to store exactly (the limit is {MAX_INTEGER:,})",
                row,
                col.name,
                raw,
            )
            return pd.NA
        if (
            col.minimum is not None
            and col.maximum is not None
            and not (col.minimum <= value <= col.maximum)
        ):
            out.error(
                name, f"{value} is outside {col.minimum:g}..{col.maximum:g}", row, col.name, value
            )
        elif col.minimum is not None and value < col.minimum:
            out.error(name, f"{value} is below the minimum {col.minimum:g}", row, col.name, value)
        elif col.maximum is not None and value > col.maximum:
            out.error(name, f"{value} is above the maximum {col.maximum:g}", row, col.name, value)
        return value
    if kind == "number":
        value = float(stripped)
        if not math.isfinite(value):
            out.error(name, f"{raw!r} is not a finite number (too large)", row, col.name, raw)
            return pd.NA
        if col.minimum is not None and value < col.minimum:
            out.error(
                name, f"{value:g} is below the minimum {col.minimum:g}", row, col.name, value
            )
        return value
    if kind == "date":
        try:
            if not _DATE_RE.match(stripped):  # not 20170221 or 2017-W08-2 (read as dates)
                raise ValueError(stripped)
            return date.fromisoformat(stripped).isoformat()
        except ValueError:
            out.error(name, f"{raw!r} is not a date in YYYY-MM-DD form", row, col.name, raw)
            return None
    if kind == "boolean":
        low = stripped.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        out.error(name, f"{raw!r} is not true/false", row, col.name, raw)
        return pd.NA
    if kind == "enum" and col.choices and stripped not in col.choices:
        out.error(name, f"{raw!r} is not one of: {', '.join(col.choices)}", row, col.name, raw)
        return stripped
    return stripped if kind in ("id", "ref", "enum") else raw


def _with_optional_columns(df: pd.DataFrame, spec) -> pd.DataFrame:
    """Add the optional columns a file left out, empty, so later code can rely on them."""
    dtypes = {"integer": "Int64", "number": "Float64", "boolean": "boolean"}
    for col in spec:
        if col.name not in df.columns:
            df[col.name] = pd.Series(pd.NA, index=df.index, dtype=dtypes.get(col.kind, object))
            if col.kind not in dtypes:
                df[col.name] = None
    return df


#: First characters that make a spreadsheet cell a formula (OWASP CSV injection).
_FORMULA_LEADS = frozenset("=+-@\t\r")


def _check_unique(df, name, column, out):
    if column not in df.columns:
        return
    seen: dict = {}
    for row, value in zip(df["_row"], df[column], strict=True):
        if value is None:
            continue
        if isinstance(value, str) and value[:1] in _FORMULA_LEADS:
            out.warn(
                name,
                f"ID {value!r} starts with {value[:1]!r}, which a spreadsheet may run as a "
                "formula; copeval's CSV outputs for people neutralise it, but other tools may "
                "not: rename it (letters or digits first)",
                row,
                column,
                value,
            )
        if value in seen:
            out.error(
                name,
                f"duplicate ID {value!r} (first used on row {seen[value]})",
                row,
                column,
                value,
            )
        else:
            seen[value] = row


def _check_ref(df, name, column, valid, target, out):
    if df is None or column not in df.columns:
        return
    for row, value in zip(df["_row"], df[column], strict=True):
        if value is not None and value not in valid:
            shown = ", ".join(sorted(valid)[:20]) or "(none)"
            out.error(
                name, f"{value!r} is not a known {target} (known: {shown})", row, column, value
            )


def _safe_relpath(rel: str) -> PurePosixPath | None:
    p = PurePosixPath(rel.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or re.match(r"^[A-Za-z]:", rel):
        return None
    return p


# --------------------------------------------------------------------------- Project
@dataclass(frozen=True)
class Project:
    """A loaded, validated evaluation project.

    Attributes
    ----------
    path : Path
        The project folder.
    meta : dict
        ``title``, ``synthetic`` (bool), ``period``, ``primary_coder``, ``reference_site``,
        ``rounds`` (list, [] without rounds).
    sites, sources, segments, items : DataFrame
        The tables of ``docs/data-model.md``. ``sources`` gains ``stratum``; ``segments``
        gains ``criterion`` and ``obstacle`` from the codebook. IDs are ``str``; ``start``,
        ``end`` and ``valence`` are nullable integers (``Int64``).
    responses : dict of str to DataFrame
        Survey responses by instrument; item columns are ``Int64``.
    codebook : Codebook
    warnings : list of Problem
        Problems that do not invalidate the project (e.g. segments without a valence).

    With evaluation rounds (``meta["rounds"]``, a list of ``{id, label_es, label_en, start,
    end}`` oldest first), ``sources`` has ``round`` and ``panel_id`` columns and every
    responses table a ``round`` column; a project without rounds has neither.
    """

    path: Path
    meta: dict
    sites: pd.DataFrame
    sources: pd.DataFrame
    segments: pd.DataFrame
    items: pd.DataFrame
    responses: dict
    codebook: Codebook
    warnings: list = field(default_factory=list)
    site_rounds: pd.DataFrame | None = None
    _texts: dict = field(default_factory=dict, repr=False)
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        n_resp = sum(len(r) for r in self.responses.values())
        return (
            f"<Project {self.meta.get('title') or self.path.name!r}: {len(self.sites)} sites, "
            f"{len(self.sources)} sources, {len(self.segments)} segments, "
            f"{len(self.responses)} instruments / {n_resp} responses"
            f"{', synthetic' if self.meta.get('synthetic') else ''}>"
        )

    @property
    def site_ids(self) -> list[str]:
        return list(self.sites["site_id"])

    @property
    def round_ids(self) -> list[str]:
        """The declared evaluation rounds, oldest first ([] for a project without rounds)."""
        return [r["id"] for r in self.meta.get("rounds") or []]

    def round_label(self, round_id: str, lang: str = "en") -> str:
        """Label of a round in ``lang`` (es or en); the ID when none was given."""
        for r in self.meta.get("rounds") or []:
            if r["id"] == round_id:
                return r.get(f"label_{lang}") or round_id
        raise KeyError(f"No round {round_id!r} in this project. Rounds: {self.round_ids}")

    def site_context(self, site_id: str, round: str | None = None) -> dict:
        """The row of ``sites.csv`` of a site, with the figures of ``site_rounds.csv`` for
        ``round`` laid over it (a figure the round leaves empty keeps the ``sites.csv``
        value). Without ``round``, or without a row for it: ``sites.csv`` as written."""
        rows = self.sites[self.sites["site_id"] == site_id]
        if rows.empty:
            raise KeyError(
                f"No site {site_id!r} in this project. Available: {', '.join(self.site_ids)}"
            )
        context = rows.iloc[0].to_dict()
        extra = self.site_rounds
        if round is None or extra is None or not len(extra):
            return context
        match = extra[(extra["site_id"] == site_id) & (extra["round"] == str(round))]
        if len(match):
            for key, value in match.iloc[0].items():
                if key in ("site_id", "round") or value is None or pd.isna(value):
                    continue
                context[key] = value
        return context

    def site_text(
        self, site_id: str, column: str, lang: str, *, round: str | None = None
    ) -> str | None:
        """A text of a site in ``lang``: ``<column>_<lang>`` when given, else ``<column>``;
        None when empty or a placeholder (:func:`is_placeholder`)."""
        context = self.site_context(site_id, round)
        for key in (f"{column}_{lang}", column):
            value = context.get(key)
            if isinstance(value, str) and value.strip() and not is_placeholder(value):
                return value
        return None

    def title(self, lang: str) -> str | None:
        """The project title in ``lang`` (``title_<lang>``, else ``title``); None when
        empty or a placeholder."""
        for key in (f"title_{lang}", "title"):
            value = self.meta.get(key)
            if isinstance(value, str) and value.strip() and not is_placeholder(value):
                return value
        return None

    def text(self, source_id: str) -> str:
        """Full text of a source (BOM removed, line endings as stored)."""
        try:
            return self._texts[source_id]
        except KeyError:
            raise KeyError(f"No source {source_id!r} in this project") from None

    def segment_text(self, segment_id: str) -> str:
        """The stretch of text a segment covers."""
        try:
            source_id, start, end = self._segment_spans()[segment_id]
        except KeyError:
            raise KeyError(f"No segment {segment_id!r} in this project") from None
        return self.text(source_id)[int(start) : int(end)]

    def segment_context(self, segment_id: str) -> tuple[str, int, int]:
        """``(whole text of the source, start, end)`` of a segment: for redacting a quote
        in its context (:func:`copeval.privacy.redact_excerpt`)."""
        try:
            source_id, start, end = self._segment_spans()[segment_id]
        except KeyError:
            raise KeyError(f"No segment {segment_id!r} in this project") from None
        return self.text(source_id), int(start), int(end)

    def _segment_spans(self) -> dict:
        """``segment_id -> (source_id, start, end)``, built once per ``segments`` table.

        A report quotes dozens of segments; a scan of a national project's segment table
        per quote cost more than the rest of the report. The index is rebuilt when
        ``segments`` is replaced by another table. First occurrence wins, as before.
        """
        seg = self.segments
        cached = self._index.get("spans")
        if cached is not None and cached[0] is seg:
            return cached[1]
        first = seg.drop_duplicates("segment_id")
        spans = dict(
            zip(
                first["segment_id"],
                zip(first["source_id"], first["start"], first["end"], strict=True),
                strict=True,
            )
        )
        self._index["spans"] = (seg, spans)
        return spans

    def site_name(self, site_id: str) -> str:
        rows = self.sites.loc[self.sites["site_id"] == site_id, "name"]
        if rows.empty:
            raise KeyError(
                f"No site {site_id!r} in this project. Available: {', '.join(self.site_ids)}"
            )
        return rows.iloc[0]

    def evidence(self) -> pd.DataFrame:
        """Segments that count as evidence, joined with their source's attributes.

        Keeps the primary coder's segments that have a valence, from sources whose consent
        is not ``none``. Columns: the segment columns plus ``site_id``, ``respondent_group``,
        ``stratum``, ``method``, ``consent``, ``language``.
        """
        seg = self.segments
        primary = self.meta.get("primary_coder")
        seg = seg[(seg["coder"] == primary) & seg["valence"].notna()]
        cols = ["source_id", "site_id", "respondent_group", "stratum", "method", "consent"]
        cols += ["language", *(c for c in ROUND_COLUMNS if c in self.sources.columns)]
        src = self.sources[cols]
        src = src[src["consent"] != "none"]
        return seg.merge(src, on="source_id", how="inner", validate="many_to_one").reset_index(
            drop=True
        )


# --------------------------------------------------------------------------- loading
def load_project(path: str | Path, *, codebook: Codebook | None = None) -> Project:
    """Load and validate an evaluation project folder.

    Parameters
    ----------
    path : str or Path
        The project folder (see ``docs/data-model.md``).
    codebook : Codebook, optional
        Codebook to check codes against; default: the one shipped with copeval.

    Returns
    -------
    Project

    Raises
    ------
    ProjectValidationError
        With every problem found (``.problems``), each naming file, row, column and value.
    """
    problems, project = _load(Path(path), codebook)
    if any(p.severity == "error" for p in problems):
        raise ProjectValidationError(path, problems)
    return project


def validate_project(path: str | Path, *, codebook: Codebook | None = None) -> list[Problem]:
    """Every problem (errors and warnings) in a project folder, without raising."""
    problems, _ = _load(Path(path), codebook)
    return problems


def _load(root: Path, codebook: Codebook | None):
    out = _Collector()
    if not root.exists():
        raise CopevalError(f"Project folder not found: {root}")
    if not root.is_dir():
        raise CopevalError(f"{root} is not a folder (an evaluation project is a folder)")
    codebook = codebook or load_codebook()
    meta = _read_meta(root, out)
    groups, group_problems = parse_respondent_groups(meta.get("respondent_groups"))
    for message in group_problems:
        out.error("datapackage.json", message, column="respondent_groups")

    def table(name, spec, required=True, extra=()):
        """``extra``: optional columns parsed when the file has them, never added."""
        path = root / f"{name}.csv"
        if not path.exists() and not required:
            return None
        if _linked_outside(root, path, f"{name}.csv", out):
            return None
        df = _read_csv(path, f"{name}.csv", out)
        if df is None:
            return None
        if callable(extra):
            extra = extra(list(df.columns))
        present = tuple(c for c in extra if c.name in df.columns)
        if not _check_columns(df, f"{name}.csv", (*spec, *extra), out):
            return None
        df = _parse_cells(df, f"{name}.csv", (*spec, *present), out)
        return _with_optional_columns(df, spec)

    sites = table("sites", _SITES, extra=_variant_columns)
    sources = table("sources", (*sources_schema(groups), _ROUND, _PANEL))
    segments = table("segments", _SEGMENTS, extra=_TRANSLATIONS)
    items = table("items", _ITEMS, required=False)
    registry = table("registry", _REGISTRY, required=False)
    site_rounds = table(
        "site_rounds",
        _SITE_ROUNDS,
        required=False,
        extra=lambda h: _variant_columns(
            h, [c for c in LANGUAGE_VARIANTS if c in SITE_CONTEXT_COLUMNS]
        ),
    )

    site_ids = set()
    if sites is not None:
        _check_unique(sites, "sites.csv", "site_id", out)
        site_ids = {s for s in sites["site_id"] if s is not None}
        if sites.empty:
            out.error("sites.csv", "has no sites")
    if registry is not None:
        _check_unique(registry, "registry.csv", "person_id", out)

    texts: dict[str, str] = {}
    if sources is not None:
        _check_unique(sources, "sources.csv", "source_id", out)
        if sites is not None:
            _check_ref(sources, "sources.csv", "site_id", site_ids, "site_id", out)
        _check_language(sources, out)
        texts = _read_texts(root, sources, out)
        _check_fingerprints(sources, texts, out)

    if segments is not None:
        _check_segments(segments, sources, texts, codebook, out, root=root)
        if sources is not None:
            _check_line_endings(segments, sources, texts, out)

    responses = {}
    if items is not None:
        responses = _read_responses(
            root, items, site_ids if sites is not None else None, out, rounds=meta["rounds"]
        )
    elif (root / "responses").is_dir() and any((root / "responses").glob("*.csv")):
        out.error("items.csv", "file not found, but responses/ holds survey files that need it")

    if sources is not None:
        _check_sources_rounds(sources, segments, meta["rounds"], out)
        if segments is not None:
            _check_round_coders(sources, segments, meta["rounds"], out)
            _check_translations(segments, sources, out)
    _check_rounds_used(meta["rounds"], sources, responses, out)
    if site_rounds is not None:
        site_rounds = _check_site_rounds(site_rounds, site_ids, meta["rounds"], out)
    _check_placeholders(sites, meta, out)
    if site_rounds is not None:
        _check_placeholders(site_rounds, None, out, name="site_rounds.csv")

    if any(p.severity == "error" for p in out.problems):
        return out.problems, None

    sources_rows, segment_rows = sources["_row"], segments["_row"]
    sources = sources.drop(columns="_row")
    if not meta["rounds"]:  # a project without rounds keeps today's tables
        sources = sources.drop(columns=[c for c in ROUND_COLUMNS if c in sources.columns])
    sources["stratum"] = sources["respondent_group"].map(lambda g: groups[g][0])
    segments = segments.drop(columns="_row")
    segments["criterion"] = segments["code"].map(codebook.criteria)
    segments["obstacle"] = segments["code"].map(codebook.obstacles).astype(bool)
    if not meta.get("primary_coder"):
        counts = segments["coder"].value_counts()
        meta["primary_coder"] = (
            sorted(counts[counts == counts.max()].index)[0] if len(counts) else None
        )
    elif len(segments) and meta["primary_coder"] not in set(segments["coder"]):
        out.error(
            "datapackage.json",
            f"primary_coder {meta['primary_coder']!r} has no segments "
            f"(coders: {', '.join(sorted(set(segments['coder'])))})",
            column="primary_coder",
            value=meta["primary_coder"],
        )
        return out.problems, None
    if meta.get("reference_site") and meta["reference_site"] not in site_ids:
        out.error(
            "datapackage.json",
            f"reference_site {meta['reference_site']!r} is not a site of this project",
            column="reference_site",
            value=meta["reference_site"],
        )
        return out.problems, None
    rows = {"sites.csv": list(sites["_row"]), "sources.csv": list(sources_rows)}
    rows["segments.csv"] = list(segment_rows)
    if items is None:
        items = pd.DataFrame({c.name: pd.Series(dtype=object) for c in _ITEMS})
    else:
        rows["items.csv"] = list(items["_row"])
        items = items.drop(columns="_row")
    project = Project(
        path=root,
        meta=meta,
        sites=sites.drop(columns="_row").reset_index(drop=True),
        sources=sources.reset_index(drop=True),
        segments=segments.reset_index(drop=True),
        items=items.reset_index(drop=True),
        responses=responses,
        codebook=codebook,
        warnings=[p for p in out.problems if p.severity == "warning"],
        site_rounds=(
            site_rounds.drop(columns="_row").reset_index(drop=True)
            if site_rounds is not None
            else None
        ),
        _texts=texts,
        _index={"rows": rows},  # spreadsheet row of each record, for messages
    )
    return out.problems, project


_META_DEFAULTS = {
    "title": None,
    "title_es": None,
    "title_en": None,
    "report_language": None,
    "synthetic": False,
    "period": None,
    "primary_coder": None,
    "reference_site": None,
    "respondent_groups": None,
}


def _read_meta(root: Path, out: _Collector) -> dict:
    meta = dict(_META_DEFAULTS)
    meta["rounds"] = []
    path = root / "datapackage.json"
    if _linked_outside(root, path, "datapackage.json", out):
        return meta
    if not path.is_file():
        out.warn(
            "datapackage.json",
            f"file not found; using default metadata. Create it with `copeval describe {root}`",
        )
        return meta
    text = _decode(path.read_bytes(), "datapackage.json", out)
    if text is None:
        return meta
    try:
        desc = json.loads(text)
    except json.JSONDecodeError as exc:
        out.error("datapackage.json", f"is not valid JSON: {exc.msg}", row=exc.lineno)
        return meta
    except RecursionError:
        out.error("datapackage.json", "is nested too deeply to read (hostile or broken file)")
        return meta
    except ValueError as exc:  # e.g. a number with more than 4300 digits
        out.error("datapackage.json", f"cannot be read: {exc}")
        return meta
    if not isinstance(desc, dict):
        out.error("datapackage.json", "must hold a JSON object")
        return meta
    try:  # "\ud800" escapes decode to lone surrogates, which no output can encode
        json.dumps(desc, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        out.error(
            "datapackage.json",
            "contains an unpaired UTF-16 surrogate escape (such as \\ud800) or cannot be "
            "written back as UTF-8; remove it",
        )
        return meta
    block = desc.get("copeval", {})
    if not isinstance(block, dict):
        out.error("datapackage.json", "the 'copeval' entry must be an object", column="copeval")
        return meta
    for key, value in block.items():
        if key in meta:
            meta[key] = value
    meta["rounds"] = _read_rounds(block.get("rounds"), out)
    meta.setdefault("title", desc.get("title"))
    if meta["title"] is None:
        meta["title"] = desc.get("title")
    if not isinstance(meta["synthetic"], bool):
        out.error(
            "datapackage.json",
            f"'synthetic' must be true or false, got {meta['synthetic']!r}",
            column="synthetic",
            value=meta["synthetic"],
        )
    for key in (
        "title",
        "title_es",
        "title_en",
        "period",
        "primary_coder",
        "reference_site",
        "report_language",
    ):
        value = meta[key]
        if value is None:
            continue
        if not isinstance(value, str):
            kind = {dict: "object", list: "list", bool: "true/false"}.get(type(value), "number")
            out.error(
                "datapackage.json",
                f"{key!r} must be a text (a JSON string), got a JSON {kind}",
                column=key,
                value=_short(value),
            )
            meta[key] = None
        elif re.search(_LINE_CONTROL_RE, value):
            out.error(
                "datapackage.json",
                f"{key!r} contains a control character; remove it",
                column=key,
                value=_short(value),
            )
            meta[key] = None
    lang = meta["report_language"]
    if lang is not None and lang not in REPORT_LANGUAGES:
        out.error(
            "datapackage.json",
            f"report_language {lang!r} is not a report language (one of: "
            f"{', '.join(REPORT_LANGUAGES)})",
            column="report_language",
            value=_short(lang),
        )
        meta["report_language"] = None
    return meta


def default_lang(project_meta=None) -> str:
    """The default language of every command's output and of reports: the project's
    declared ``report_language`` (``datapackage.json``, copeval block) if any, else ``es``.

    ``project_meta`` is a :class:`Project`'s ``meta`` (or a Project, or None: no project).
    """
    meta = getattr(project_meta, "meta", project_meta)
    lang = meta.get("report_language") if isinstance(meta, Mapping) else None
    return lang if lang in REPORT_LANGUAGES else "es"


def project_lang(root) -> str:
    """:func:`default_lang` of the project in folder ``root``, from its ``datapackage.json``
    alone (no table read; ``es`` when the file is missing or unreadable: the project's own
    validation reports that)."""
    root = Path(root)
    if not (root / "datapackage.json").is_file():
        return default_lang(None)
    return default_lang(_read_meta(root, _Collector()))


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_texts(root: Path, sources: pd.DataFrame, out: _Collector) -> dict[str, str]:
    texts = {}
    resolved_root = root.resolve()
    for row, sid, rel, consent in zip(
        sources["_row"],
        sources["source_id"],
        sources["text_path"],
        sources["consent"],
        strict=True,
    ):
        if consent == "none":
            out.warn(
                "sources.csv",
                f"source {sid!r} has consent 'none': kept for the record, excluded from "
                "scoring and from every output",
                row,
                "consent",
                consent,
            )
        if sid is None or rel is None:
            continue
        safe = _safe_relpath(rel)
        if safe is None:
            out.error(
                "sources.csv",
                f"{rel!r} must be a path inside the project folder (no absolute path, no '..')",
                row,
                "text_path",
                rel,
            )
            continue
        try:
            path = safe_child(root, str(safe), what="text_path")
        except UnsafePathError as exc:
            out.error(
                "sources.csv", f"{exc} (it points outside the project)", row, "text_path", rel
            )
            continue
        if not path.resolve().is_relative_to(resolved_root):
            out.error("sources.csv", f"{rel!r} points outside the project", row, "text_path", rel)
            continue
        if not path.is_file():
            out.error("sources.csv", f"text file {rel!r} not found", row, "text_path", rel)
            continue
        text = _decode(path.read_bytes(), str(safe), out)
        if text is None:
            continue
        if not text.strip():
            out.error("sources.csv", f"text file {rel!r} is empty", row, "text_path", rel)
        texts[sid] = text
    return texts


def _check_language(sources, out):
    for row, lang in zip(sources["_row"], sources["language"], strict=True):
        if lang is not None and not _LANG_RE.match(lang.strip()):
            out.error(
                "sources.csv",
                f"{lang!r} is not a language code: use an ISO 639 code such as es, en or quc, "
                "optionally with a region (es-GT)",
                row,
                "language",
                lang,
            )


def text_fingerprint(text: str) -> tuple[int, str]:
    """``(text_chars, text_sha256)`` of a text as coded: its length in code points and the
    SHA-256 of its UTF-8 bytes (no BOM). Written to ``sources.csv`` by :func:`write_project`
    (and by importers) so that a later change to the file is detected."""
    return len(text), hashlib.sha256(text.encode("utf-8")).hexdigest()


_FIX_CRLF = (
    "convert it back to Unix line endings (`dos2unix {path}`, or in a text editor: "
    "line endings LF) or re-import the project"
)
_FIX_LF = (
    "convert it back to Windows line endings (`unix2dos {path}`, or in a text editor: "
    "line endings CRLF) or re-import the project"
)


def _check_fingerprints(sources, texts, out):
    """A text whose length or hash differs from the one stored when it was coded."""
    for row, sid, rel, chars, sha in zip(
        sources["_row"],
        sources["source_id"],
        sources["text_path"],
        sources["text_chars"],
        sources["text_sha256"],
        strict=True,
    ):
        if sid not in texts or (chars is pd.NA and sha is None):
            continue
        text = texts[sid]
        sha = sha.strip().lower() if sha else None
        n, digest = text_fingerprint(text)
        if (sha is None or sha == digest) and (chars is pd.NA or chars == n):
            continue
        lf = text.replace("\r\n", "\n")
        crlf = text.replace("\r\n", "\n").replace("\n", "\r\n")

        def matches(candidate, chars=chars, sha=sha):
            c, d = text_fingerprint(candidate)
            return (sha is None or sha == d) and (chars is pd.NA or chars == c)

        column = "text_sha256" if sha is not None else "text_chars"
        if lf != text and matches(lf):
            message = (
                f"text file {rel!r} of source {sid!r} now has Windows line endings (CRLF) but "
                "was coded with Unix line endings (LF): every segment after its first line "
                "break points at other text. " + _FIX_CRLF.format(path=rel)
            )
        elif crlf != text and matches(crlf):
            message = (
                f"text file {rel!r} of source {sid!r} now has Unix line endings (LF) but was "
                "coded with Windows line endings (CRLF): every segment after its first line "
                "break points at other text. " + _FIX_LF.format(path=rel)
            )
        else:
            was = f"{chars} characters" if chars is not pd.NA else "another SHA-256"
            message = (
                f"text file {rel!r} of source {sid!r} changed since it was coded ({n} "
                f"characters now, {was} when coded): its segments may point at other text. "
                "Restore the coded version, or re-code the text and update text_chars and "
                "text_sha256 (copeval.project.text_fingerprint)"
            )
            if chars is not pd.NA and chars == n:  # same length: an edit in place
                out.warn("sources.csv", message, row, column, sha)
                continue
        out.error("sources.csv", message, row, column, sha if sha is not None else chars)


def _on_word_edges(text: str, start: int, end: int) -> bool:
    if not 0 <= start < end <= len(text):
        return False
    left = start == 0 or not (text[start - 1].isalnum() and text[start].isalnum())
    right = end == len(text) or not (text[end - 1].isalnum() and text[end].isalnum())
    return left and right


def _check_line_endings(segments, sources, texts, out):
    """CRLF heuristic: segments that fit the text far better once CRLF is read as LF.

    A text coded with LF line endings and converted to CRLF afterwards (by an editor, a
    Windows copy, git's autocrlf) shifts every segment after the first line break by one
    character per line. Segments coded by a person start and end on word edges; when far more
    of them do so in the LF version of the text than in the file as stored, the file was
    converted after coding.
    """
    rows = dict(zip(sources["source_id"], sources["_row"], strict=True))
    paths = dict(zip(sources["source_id"], sources["text_path"], strict=True))
    spans: dict[str, list] = {}
    for sid, start, end in zip(
        segments["source_id"], segments["start"], segments["end"], strict=True
    ):
        if sid in texts and start is not pd.NA and end is not pd.NA and "\r\n" in texts[sid]:
            spans.setdefault(sid, []).append((int(start), int(end)))
    for sid, pairs in spans.items():
        if len(pairs) < 3 or sid not in rows:
            continue
        text = texts[sid]
        lf = text.replace("\r\n", "\n")
        fit_now = sum(_on_word_edges(text, s, e) for s, e in pairs) / len(pairs)
        fit_lf = sum(_on_word_edges(lf, s, e) for s, e in pairs) / len(pairs)
        if fit_lf >= 0.9 and fit_now <= 0.6:
            rel = paths[sid]
            out.error(
                "sources.csv",
                f"text file {rel!r} of source {sid!r} has Windows line endings (CRLF) but its "
                f"segments fit the text with Unix line endings (LF): {fit_lf:.0%} of them start "
                f"and end on word edges with LF, {fit_now:.0%} as stored. It was probably "
                "converted after coding, and every segment after its first line break points "
                "at other text; " + _FIX_CRLF.format(path=rel),
                rows[sid],
                "text_path",
                rel,
            )


def _check_segments(segments, sources, texts, codebook, out, *, root: Path | None = None):
    name = "segments.csv"
    refused = {(p.file, p.row, p.column) for p in out.problems if p.severity == "error"}
    unrated: list[int] = []
    _check_unique(segments, name, "segment_id", out)
    if sources is not None:
        known = {s for s in sources["source_id"] if s is not None}
        _check_ref(segments, name, "source_id", known, "source_id", out)
    for row, sid, start, end, code, valence in zip(
        segments["_row"],
        segments["source_id"],
        segments["start"],
        segments["end"],
        segments["code"],
        segments["valence"],
        strict=True,
    ):
        if code is not None and code not in codebook:
            out.error(
                name,
                f"{code!r} is not a codebook code (see `copeval codebook --format csv`)",
                row,
                "code",
                code,
            )
        has_span = start is not pd.NA and end is not pd.NA
        if has_span and end <= start:
            out.error(name, f"end {end} is not after start {start}", row, "end", end)
        if has_span and sid in texts and end > len(texts[sid]):
            out.error(
                name,
                f"end {end} is past the end of the text of {sid!r} ({len(texts[sid])} characters)",
                row,
                "end",
                end,
            )
        if valence is pd.NA and (name, row, "valence") not in refused:  # empty, not refused
            unrated.append(row)
        elif code in codebook and codebook.is_obstacle(code) and valence > 0:
            out.warn(
                name,
                f"obstacle code {code!r} has a positive valence {valence}; valence is "
                "relative to the criterion being in place",
                row,
                "valence",
                valence,
            )
    if unrated:
        project = str(root) if root is not None else "PROJECT"
        shown = ", ".join(map(str, unrated[:10])) + (" ..." if len(unrated) > 10 else "")
        out.warn(
            name,
            f"{len(unrated)} segment(s) have no valence (rows {shown}): they are not scored "
            f"until rated. Rate them in a spreadsheet: `copeval valence export {project} --out "
            "ratings.csv`, fill in the valence column (-2..+2), then `copeval valence import "
            f"{project} ratings.csv` (docs/interop.md, Rating valences)",
            unrated[0],
            "valence",
        )


def _read_responses(root, items, site_ids, out, *, rounds=()):
    name = "items.csv"
    key = list(zip(items["instrument"], items["item"], strict=True))
    seen = {}
    for row, k in zip(items["_row"], key, strict=True):
        if k in seen:
            out.error(
                name,
                f"item {k[1]!r} of {k[0]!r} is listed twice (first on row {seen[k]})",
                row,
                "item",
                k[1],
            )
        seen.setdefault(k, row)
    missing_codes = {}
    for row, inst, item, lo, hi, codes in zip(
        items["_row"],
        items["instrument"],
        items["item"],
        items["scale_min"],
        items["scale_max"],
        items["missing_codes"],
        strict=True,
    ):
        if lo is not pd.NA and hi is not pd.NA and lo >= hi:
            out.error(name, f"scale_max {hi} is not above scale_min {lo}", row, "scale_max", hi)
        parsed = set()
        for part in (codes or "").split(";"):
            part = part.strip()
            if not part:
                continue
            if _INT_RE.match(part):
                parsed.add(int(part))
            else:
                out.error(
                    name,
                    f"missing code {part!r} is not a whole number",
                    row,
                    "missing_codes",
                    codes,
                )
        if lo is not pd.NA and hi is not pd.NA and any(lo <= c <= hi for c in parsed):
            out.error(
                name,
                f"missing codes {codes!r} overlap the valid answers {lo}..{hi}",
                row,
                "missing_codes",
                codes,
            )
        missing_codes[(inst, item)] = parsed

    responses = {}
    folder = root / "responses"
    instruments = []
    for row, inst in zip(items["_row"], items["instrument"], strict=True):
        if inst is None or inst in instruments:
            continue
        try:
            safe_child(folder, f"{inst}.csv", what="instrument")
            if "/" in inst:
                raise UnsafePathError(f"instrument {inst!r} contains '/'")
        except UnsafePathError:
            out.error(
                name,
                f"instrument {inst!r} is not a safe file name: an instrument names the file "
                "responses/<instrument>.csv, so it must be a plain name (no '/', '\\', '..', "
                "drive or control character) that stays inside responses/",
                row,
                "instrument",
                inst,
            )
            instruments.append(inst)  # refused: reported once, never read
            continue
        instruments.append(inst)
    refused = {p.value for p in out.problems if p.file == name and p.column == "instrument"}
    instruments = sorted(set(instruments))
    for inst in instruments:
        if inst in refused:
            continue
        fname = f"responses/{inst}.csv"
        df = _read_csv(safe_child(folder, f"{inst}.csv", what="instrument"), fname, out)
        if df is None:
            continue
        inst_items = items[items["instrument"] == inst]
        spec = list(_RESPONSES_FIXED) + [
            Column(it, "integer", True, False) for it in inst_items["item"]
        ]
        if "round" not in set(inst_items["item"]):
            spec.append(_ROUND)
        if not _check_columns(df, fname, spec, out):
            continue
        df = _parse_cells(df, fname, spec, out)
        if "round" in df.columns or rounds:
            df = _check_round_cells(df, fname, rounds, out)
            _check_unique_in_rounds(df, fname, "respondent_id", out)
        else:
            _check_unique(df, fname, "respondent_id", out)
        if site_ids is not None:
            _check_ref(df, fname, "site_id", site_ids, "site_id", out)
        if "weight" in df.columns:
            bad = (df["weight"] <= 0).fillna(False)
            for row, w in zip(df.loc[bad, "_row"], df.loc[bad, "weight"], strict=True):
                out.error(fname, f"weight {w:g} must be positive", row, "weight", w)
        for it in inst_items.itertuples(index=False):
            lo, hi = it.scale_min, it.scale_max
            if lo is pd.NA or hi is pd.NA:
                continue
            codes = missing_codes.get((inst, it.item), set())
            values = df[it.item]
            bad = (values.notna() & ~values.between(lo, hi) & ~values.isin(codes)).fillna(False)
            for row, v in zip(df.loc[bad, "_row"], values[bad], strict=True):
                out.error(
                    fname,
                    f"{v} is outside {lo}..{hi} and not a missing code "
                    f"({', '.join(map(str, sorted(codes))) or 'none declared'})",
                    row,
                    it.item,
                    v,
                )
        if not rounds and "round" in df.columns and df["round"].isna().all():
            df = df.drop(columns="round")  # an empty column in a project without rounds
        responses[inst] = df.drop(columns="_row").reset_index(drop=True)
    if folder.is_dir():
        for extra in sorted(folder.glob("*.csv")):
            if extra.stem not in instruments:
                out.warn(
                    f"responses/{extra.name}",
                    f"no items of instrument {extra.stem!r} in items.csv; file ignored",
                )
    return responses


# --------------------------------------------------------------------------- rounds
def _read_rounds(value, out: _Collector) -> list[dict]:
    """The ``rounds`` declaration of ``datapackage.json``: a list of objects ``{"id",
    "label_es", "label_en", "start", "end"}`` in chronological order (docs/data-model.md)."""
    file, col = "datapackage.json", "rounds"
    if value is None:
        return []
    if not isinstance(value, list):
        out.error(
            file,
            "'rounds' must be a list of objects, one per round, oldest first",
            column=col,
            value=_short(value),
        )
        return []
    rounds, seen = [], {}
    for i, entry in enumerate(value, start=1):
        where = f"rounds[{i}]"
        if not isinstance(entry, dict):
            out.error(
                file,
                f"{where} must be an object with at least an 'id'",
                column=col,
                value=_short(entry),
            )
            continue
        for key in sorted(set(entry) - {"id", "label_es", "label_en", "start", "end", "coders"}):
            out.warn(
                file,
                f"{where}: unknown key {key!r} ignored (expected id, label_es, "
                "label_en, start, end, coders)",
                column=col,
                value=key,
            )
        rid = entry.get("id")
        if isinstance(rid, (int, float)) and not isinstance(rid, bool):
            out.error(
                file,
                f"{where}: 'id' must be a text (write \"{rid}\", in quotes), got a JSON number",
                column=col,
                value=_short(rid),
            )
            continue
        if (
            not isinstance(rid, str)
            or not rid.strip()
            or rid != rid.strip()
            or re.search(_LINE_CONTROL_RE, rid)
            or ";" in rid
        ):
            out.error(
                file,
                f"{where}: 'id' must be a non-empty one-line text without ';' or "
                "surrounding spaces",
                column=col,
                value=_short(rid),
            )
            continue
        if rid in seen:
            out.error(
                file,
                f"{where}: round {rid!r} is declared twice (first as rounds[{seen[rid]}])",
                column=col,
                value=rid,
            )
            continue
        seen[rid] = i
        item = {"id": rid}
        for key in ("label_es", "label_en"):
            label = entry.get(key)
            if label is None:
                item[key] = rid
            elif not isinstance(label, str) or re.search(_LINE_CONTROL_RE, label):
                out.error(
                    file,
                    f"{where}: {key!r} must be a one-line text",
                    column=col,
                    value=_short(label),
                )
                item[key] = rid
            else:
                item[key] = label
        for key in ("start", "end"):
            d = entry.get(key)
            item[key] = None
            if d is None:
                continue
            try:
                if not isinstance(d, str) or not _DATE_RE.match(d):
                    raise ValueError
                item[key] = date.fromisoformat(d).isoformat()
            except ValueError:
                out.error(
                    file,
                    f"{where}: {key!r} must be an ISO date YYYY-MM-DD",
                    column=col,
                    value=_short(d),
                )
        coders = entry.get("coders")
        item["coders"] = None
        if coders is not None:
            if not isinstance(coders, list) or not all(
                isinstance(c, str)
                and c.strip()
                and c == c.strip()
                and not re.search(_LINE_CONTROL_RE, c)
                for c in coders
            ):
                out.error(
                    file,
                    f"{where}: 'coders' must be a list of coder names as written in "
                    'segments.csv, e.g. ["AB", "CD"]',
                    column=col,
                    value=_short(coders),
                )
            else:
                item["coders"] = list(dict.fromkeys(coders))
        if item["start"] and item["end"] and item["start"] > item["end"]:
            out.error(
                file,
                f"{where}: fieldwork of round {rid!r} ends ({item['end']}) before "
                f"it starts ({item['start']})",
                column=col,
                value=rid,
            )
        rounds.append(item)
    last = None
    for item in rounds:
        key = item["start"] or item["end"]
        if key is None:
            continue
        if last is not None and key < last[1]:
            out.error(
                file,
                f"rounds must be listed oldest first: round {item['id']!r} "
                f"({key}) is listed after round {last[0]!r} ({last[1]})",
                column=col,
                value=item["id"],
            )
        last = (item["id"], key)
    return rounds


def _check_round_cells(df: pd.DataFrame, name: str, rounds: list, out: _Collector):
    """Check the ``round`` column of one table against the declared rounds; with a single
    declared round an empty cell means that round (filled in). Returns the frame."""
    ids = [r["id"] for r in rounds]
    if "round" not in df.columns:
        df = df.assign(round=None)
    values = df["round"]
    if not ids:
        used = values.notna()
        for row, v in zip(df.loc[used, "_row"], values[used], strict=True):
            out.error(
                name,
                f"round {v!r} is used but datapackage.json declares no rounds; "
                "add a 'rounds' list to its copeval block (docs/data-model.md, Rounds)",
                row,
                "round",
                v,
            )
        return df
    empty = values.isna()
    if len(ids) == 1:
        return df.assign(round=values.where(~empty, ids[0]))
    for row in df.loc[empty, "_row"]:
        out.error(
            name,
            f"round is empty; this project has {len(ids)} rounds "
            f"({', '.join(ids)}): say which one this row belongs to",
            row,
            "round",
        )
    unknown = values.notna() & ~values.isin(ids)
    for row, v in zip(df.loc[unknown, "_row"], values[unknown], strict=True):
        out.error(
            name,
            f"round {v!r} is not declared in datapackage.json (declared: {', '.join(ids)})",
            row,
            "round",
            v,
        )
    return df


def _check_unique_in_rounds(df, name, column, out):
    """IDs unique within each round: the same respondent_id in two rounds is a panel."""
    seen: dict = {}
    for row, value, rnd in zip(df["_row"], df[column], df["round"], strict=True):
        if value is None:
            continue
        key = (rnd, value)
        if key in seen:
            where = f" in round {rnd!r}" if rnd is not None else ""
            out.error(
                name,
                f"duplicate ID {value!r}{where} (first used on row {seen[key]})",
                row,
                column,
                value,
            )
        else:
            seen[key] = row


def _check_sources_rounds(sources, segments, rounds, out):
    name = "sources.csv"
    checked = _check_round_cells(sources, name, rounds, out)
    sources["round"] = checked["round"]
    if not rounds:
        used = sources["panel_id"].notna()
        for row, v in zip(sources.loc[used, "_row"], sources.loc[used, "panel_id"], strict=True):
            out.warn(
                name,
                "panel_id links sources across rounds, but the project declares no "
                "rounds; ignored",
                row,
                "panel_id",
                v,
            )
        return
    # the same panel member twice in one round
    seen: dict = {}
    for row, site, rnd, pid in zip(
        sources["_row"], sources["site_id"], sources["round"], sources["panel_id"], strict=True
    ):
        if pid is None or rnd is None:
            continue
        key = (site, rnd, pid)
        if key in seen:
            out.error(
                name,
                f"panel_id {pid!r} appears twice in round {rnd!r} at site {site!r} "
                f"(first on row {seen[key]}); a panel member has one source per round",
                row,
                "panel_id",
                pid,
            )
        seen.setdefault(key, row)
    # fieldwork dates
    spans = {r["id"]: (r["start"], r["end"]) for r in rounds}
    for row, rnd, d in zip(sources["_row"], sources["round"], sources["date"], strict=True):
        if rnd not in spans or d is None or pd.isna(d):
            continue
        start, end = spans[rnd]
        iso = d.isoformat() if hasattr(d, "isoformat") else str(d)
        if (start and iso < start) or (end and iso > end):
            out.warn(
                name,
                f"date {iso} lies outside the fieldwork of round {rnd!r} "
                f"({start or '...'} to {end or '...'})",
                row,
                "date",
                iso,
            )
    # coders: a source's segments coded in another round's coding pass is not checkable
    # without a per-round coder list; see docs/data-model.md (not implemented)


def _check_round_coders(sources, segments, rounds, out):
    """Segments of a round's sources coded by a coder the round does not list.

    Only rounds that declare ``coders`` are checked. A coder listed only for other rounds
    is an error (the source is probably in the wrong round, or the round's coding pass is
    mixed with another's); a coder listed for no round is a warning.
    """
    listed = {r["id"]: r.get("coders") for r in rounds if r.get("coders") is not None}
    if not listed or "round" not in sources.columns:
        return
    anywhere: dict = {}
    for rid, coders in listed.items():
        for c in coders:
            anywhere.setdefault(c, []).append(rid)
    round_of = dict(zip(sources["source_id"], sources["round"], strict=True))
    for row, seg, sid, coder in zip(
        segments["_row"],
        segments["segment_id"],
        segments["source_id"],
        segments["coder"],
        strict=True,
    ):
        rnd = round_of.get(sid)
        if rnd not in listed or coder is None or coder in listed[rnd]:
            continue
        allowed = ", ".join(listed[rnd]) or "(none)"
        if coder in anywhere:
            out.error(
                "segments.csv",
                f"segment {seg!r} of source {sid!r} (round {rnd!r}) is coded by {coder!r}, a "
                f"coder of round(s) {', '.join(anywhere[coder])}, not of round {rnd!r} "
                f"(coders: {allowed}). Fix the source's round in sources.csv, or add "
                f"{coder!r} to the coders of round {rnd!r} in datapackage.json",
                row,
                "coder",
                coder,
            )
        else:
            out.warn(
                "segments.csv",
                f"segment {seg!r} of source {sid!r} (round {rnd!r}) is coded by {coder!r}, "
                f"who is not listed among the coders of round {rnd!r} ({allowed}); add "
                "them to its coders in datapackage.json",
                row,
                "coder",
                coder,
            )


def _check_translations(segments, sources, out):
    """``text_es`` / ``text_en``: a person's translation of a segment's text. One on a
    source in that same language is a warning (a translation into the text's own language)."""
    cols = [c.name for c in _TRANSLATIONS if c.name in segments.columns]
    if not cols:
        return
    lang_of = dict(zip(sources["source_id"], sources["language"], strict=True))
    for col in cols:
        lang = col.split("_", 1)[1]
        has = segments[col].notna() & (segments[col].astype(str).str.strip() != "")
        for row, sid, text in zip(
            segments.loc[has, "_row"],
            segments.loc[has, "source_id"],
            segments.loc[has, col],
            strict=True,
        ):
            src_lang = str(lang_of.get(sid) or "").split("-")[0].lower()
            if src_lang == lang:
                out.warn(
                    "segments.csv",
                    f"{col} translates the segment into {lang}, but source {sid!r} is "
                    f"already in {lang}; leave {col} empty",
                    row,
                    col,
                    _short(text),
                )


def _check_site_rounds(df, site_ids, rounds, out):
    """``site_rounds.csv``: site context figures of one round (docs/data-model.md)."""
    name = "site_rounds.csv"
    ids = [r["id"] for r in rounds]
    if not ids:
        out.error(
            name,
            "holds figures per round, but datapackage.json declares no rounds; declare "
            "them (docs/data-model.md, Rounds) or put the figures in sites.csv",
        )
    _check_ref(df, name, "site_id", site_ids, "site_id", out)
    if ids:
        _check_ref(df, name, "round", set(ids), "round (declared in datapackage.json)", out)
    seen: dict = {}
    for row, site, rnd in zip(df["_row"], df["site_id"], df["round"], strict=True):
        key = (site, rnd)
        if site is None or rnd is None:
            continue
        if key in seen:
            out.error(
                name,
                f"site {site!r} has two rows for round {rnd!r} (first on row {seen[key]})",
                row,
                "round",
                rnd,
            )
        seen.setdefault(key, row)
    return df


# --------------------------------------------------------------------------- placeholders
#: Values that stand for "not filled in yet": what copeval's importers write where a file
#: had nothing (``copeval.interop``: a site's note and department, a new project's title),
#: the default project names of QDA tools (QualCoder/NVivo "qc project", "Untitled"), and
#: "no date" as reports print it. Matched on the whole value, case and spacing ignored.
_PLACEHOLDER_RE = re.compile(
    r"""(
        created\ by\ copeval\ import\b.*      # copeval.interop: notes, title
      | unknown | desconocid[oa] | sin\ datos
      | n\.?\ ?d\.? | n/a | s\.?\ ?f\.? | tbd | todo
      | untitled(\ project)? | qc\ project | new\ project | sin\ t[ií]tulo
      | \?+ | -+
    )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


def is_placeholder(value) -> bool:
    """True when ``value`` is a placeholder written for a person to fill in, not content.

    Recognises what ``copeval import`` writes where a file has nothing (a site's note
    "created by copeval import from X; fill in name and department", department
    "unknown", a new project's title "created by copeval import from X; fill in the
    title"), QDA tools' default project names ("qc project", "Untitled") and "no date" as
    printed ("n. d.", "s. f."). Missing values (None, NaN, "") are not placeholders: they
    are missing. Reports treat a placeholder as missing; ``copeval validate`` warns.
    """
    if not isinstance(value, str):
        return False
    text = " ".join(value.split())
    return bool(text) and _PLACEHOLDER_RE.fullmatch(text) is not None


#: What to write instead of a placeholder, per field.
_FILL_IN = {
    "name": "the site's name (municipality)",
    "department": "the site's department",
    "notes": "a note about the site, or leave the cell empty",
    "title": "the evaluation's title",
    "period": "the fieldwork period (e.g. 2017-02/2018-05), or leave it empty",
}


def _check_placeholders(sites, meta, out, *, name="sites.csv"):
    """One warning per placeholder left in a project: file, row, column, what to fill in."""
    if sites is not None:
        text_cols = [
            c
            for c in sites.columns
            if c in LANGUAGE_VARIANTS or (c[-3:] in ("_es", "_en") and c[:-3] in LANGUAGE_VARIANTS)
        ]
        for idx in sites.index:
            row = sites.at[idx, "_row"]
            imported = any(
                is_placeholder(sites.at[idx, c])
                and str(sites.at[idx, c]).lower().startswith("created by copeval import")
                for c in text_cols
            )
            for col in text_cols:
                value = sites.at[idx, col]
                base = col if col in LANGUAGE_VARIANTS else col[:-3]
                what = _FILL_IN.get(base, f"the site's {base.replace('_', ' ')}")
                if is_placeholder(value):
                    asks = str(value).partition("; fill in ")[2].strip()
                    if asks:  # copeval import's note says what is missing
                        what = f"{asks}, then delete this note"
                    out.warn(
                        name,
                        f"{_short(value)} is a placeholder, not content: fill in {what} "
                        "(reports treat it as missing)",
                        row,
                        col,
                        value,
                    )
                elif (
                    col == "name"
                    and imported
                    and "site_id" in sites.columns
                    and value == sites.at[idx, "site_id"]
                ):
                    out.warn(
                        name,
                        f"the name is the site ID {value!r}, a placeholder written by copeval "
                        f"import: fill in {what}",
                        row,
                        col,
                        value,
                    )
    if meta is None:
        return
    for key in ("title", "title_es", "title_en", "period"):
        value = meta.get(key)
        if is_placeholder(value):
            what = _FILL_IN["title" if key.startswith("title") else key]
            out.warn(
                "datapackage.json",
                f"{key} {_short(value)} is a placeholder (a QDA tool's default name or one "
                f"written by copeval import), not content: write {what} in the copeval block",
                column=key,
                value=value,
            )


def _check_rounds_used(rounds, sources, responses, out):
    """A declared round with neither sources nor survey responses is reported (warning)."""
    if not rounds:
        return
    used = set()
    if sources is not None and "round" in sources.columns:
        used |= set(sources["round"].dropna())
    for df in responses.values():
        if "round" in df.columns:
            used |= set(df["round"].dropna())
    for r in rounds:
        if r["id"] not in used:
            out.warn(
                "datapackage.json",
                f"round {r['id']!r} is declared but no source or "
                "survey response belongs to it: it cannot be scored",
                column="rounds",
                value=r["id"],
            )


# --------------------------------------------------------------------------- writing
_FRICTIONLESS_TYPES = {
    "id": "string",
    "ref": "string",
    "string": "string",
    "enum": "string",
    "integer": "integer",
    "number": "number",
    "date": "date",
    "boolean": "boolean",
}


def _field(col: Column) -> dict:
    f = {"name": col.name, "type": _FRICTIONLESS_TYPES[col.kind]}
    if col.description:
        f["description"] = col.description
    cons = {}
    if col.nonempty:
        cons["required"] = True
    if col.kind == "id":
        cons["unique"] = True
    if col.choices:
        cons["enum"] = list(col.choices)
    if col.minimum is not None:
        cons["minimum"] = col.minimum if col.kind != "integer" else int(col.minimum)
    if col.maximum is not None:
        cons["maximum"] = col.maximum if col.kind != "integer" else int(col.maximum)
    if cons:
        f["constraints"] = cons
    if col.kind == "boolean":
        f["trueValues"] = ["true", "True", "TRUE", "1"]
        f["falseValues"] = ["false", "False", "FALSE", "0"]
    return f


def _schema(spec, header, *, primary_key=None, foreign_keys=()):
    by_name = {c.name: c for c in spec}
    fields = [_field(by_name.get(h, Column(h))) for h in header]
    schema = {"fields": fields, "missingValues": [""]}
    if primary_key:
        schema["primaryKey"] = primary_key
    fks = [fk for fk in foreign_keys if fk[0] in header]
    if fks:
        schema["foreignKeys"] = [
            {"fields": f, "reference": {"resource": r, "fields": rf}} for f, r, rf in fks
        ]
    return schema


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [h.strip() for h in next(csv.reader(fh), [])]


def write_datapackage(path: str | Path, meta: Mapping | None = None) -> Path:
    """(Re)write ``datapackage.json`` from the tables present in a project folder.

    Existing ``copeval`` metadata is kept and updated with ``meta``. Returns the file's path.
    """
    root = Path(path)
    target = root / "datapackage.json"
    old = {}
    if target.is_file():
        try:
            old = json.loads(target.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CopevalError(
                f"{target} exists but cannot be read ({exc}); fix or remove it"
            ) from exc
    block = {**_META_DEFAULTS, **old.get("copeval", {}), **dict(meta or {})}
    if not block.get("rounds"):
        block.pop("rounds", None)
    for key in ("title_es", "title_en", "report_language", "respondent_groups"):  # not empty
        if block.get(key) is None:
            block.pop(key, None)
    resources = []

    def add(name, rel, spec, **kw):
        p = root / rel
        if p.is_file():
            resources.append(
                {
                    "name": name,
                    "path": rel,
                    "profile": "tabular-data-resource",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": "utf-8",
                    "schema": _schema(spec, _header(p), **kw),
                }
            )

    sites_csv = root / "sites.csv"
    variants = _variant_columns(_header(sites_csv)) if sites_csv.is_file() else ()
    add("sites", "sites.csv", (*_SITES, *variants), primary_key=["site_id"])
    add(
        "sources",
        "sources.csv",
        sources_schema(parse_respondent_groups(block.get("respondent_groups"))[0]),
        primary_key=["source_id"],
        foreign_keys=[(["site_id"], "sites", ["site_id"])],
    )
    add(
        "segments",
        "segments.csv",
        (*_SEGMENTS, *_TRANSLATIONS),
        primary_key=["segment_id"],
        foreign_keys=[(["source_id"], "sources", ["source_id"])],
    )
    add("items", "items.csv", _ITEMS)
    for f in sorted((root / "responses").glob("*.csv")) if (root / "responses").is_dir() else []:
        header = _header(f)
        spec = list(_RESPONSES_FIXED) + [
            Column(h, "integer") for h in header if h not in {c.name for c in _RESPONSES_FIXED}
        ]
        add(
            f"responses-{f.stem}".lower(),
            f"responses/{f.name}",
            spec,
            primary_key=["respondent_id"],
            foreign_keys=[(["site_id"], "sites", ["site_id"])],
        )
    add("registry", "registry.csv", _REGISTRY, primary_key=["person_id"])
    add(
        "site_rounds",
        "site_rounds.csv",
        _SITE_ROUNDS,
        primary_key=["site_id", "round"],
        foreign_keys=[(["site_id"], "sites", ["site_id"])],
    )
    desc = {
        "name": re.sub(r"[^a-z0-9._-]+", "-", (block.get("title") or root.name).lower()).strip("-")
        or "copeval-project",
        "title": block.get("title") or root.name,
        "profile": "tabular-data-package",
        "resources": resources,
        "copeval": {**block, "format_version": 1, "written_by": f"copeval {__version__}"},
    }
    if block.get("synthetic"):
        desc["description"] = "SYNTHETIC DATA: texts and survey responses are simulated."
    target.write_text(json.dumps(desc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


_PROJECT_FILES = ("sites.csv", "sources.csv", "segments.csv", "datapackage.json")


def _safe_filename(source_id: str, used: set) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", source_id).strip("._") or "source"
    name, k = stem, 1
    while name.lower() in used:
        k += 1
        name = f"{stem}_{k}"
    used.add(name.lower())
    return f"texts/{name}.txt"


def write_project(
    path: str | Path,
    *,
    sites: pd.DataFrame,
    sources: pd.DataFrame,
    segments: pd.DataFrame,
    texts: Mapping[str, str],
    items: pd.DataFrame | None = None,
    responses: Mapping[str, pd.DataFrame] | None = None,
    meta: Mapping | None = None,
    overwrite: bool = False,
) -> Path:
    """Write tables and texts as a project folder, with its ``datapackage.json``.

    ``sources.text_path`` is filled in (``texts/<source_id>.txt``) where missing; each text is
    written byte-for-byte as UTF-8 (line endings kept) so that offsets stay valid. Derived
    columns (``stratum``, ``criterion``, ``obstacle``) are not written. The inputs are not
    modified. Validate the result with :func:`load_project`.

    Raises
    ------
    CopevalError
        If the folder already holds a project and ``overwrite`` is false, or a source has
        no text.
    """
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise CopevalError(f"{root} exists and is not a folder")
    if not overwrite and any((root / f).exists() for f in _PROJECT_FILES):
        raise CopevalError(
            f"{root} already holds a project; refusing to overwrite it (use overwrite=True, "
            "or --force on the command line)"
        )
    sources = sources.copy()
    missing = [s for s in sources["source_id"] if s not in texts]
    if missing:
        raise CopevalError(f"No text given for source(s): {', '.join(map(str, missing[:10]))}")
    if "text_path" not in sources.columns:
        sources["text_path"] = None
    used: set = set()
    paths = []
    for sid, rel in zip(sources["source_id"], sources["text_path"], strict=True):
        if rel is None or (isinstance(rel, float) and pd.isna(rel)) or rel == "":
            rel = _safe_filename(str(sid), used)
        else:
            used.add(PurePosixPath(rel).stem.lower())
        paths.append(rel)
    sources["text_path"] = paths
    prints = [text_fingerprint(texts[sid]) for sid in sources["source_id"]]
    sources["text_chars"] = [n for n, _ in prints]
    sources["text_sha256"] = [d for _, d in prints]

    root.mkdir(parents=True, exist_ok=True)
    (root / "texts").mkdir(exist_ok=True)
    for sid, rel in zip(sources["source_id"], sources["text_path"], strict=True):
        safe = _safe_relpath(rel)
        if safe is None:
            raise CopevalError(f"text_path {rel!r} of source {sid!r} is not inside the project")
        target = root / safe
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(texts[sid].encode("utf-8"))

    def dump(df, rel, spec):
        known = [c.name for c in spec]
        derived = {"stratum", "criterion", "obstacle", "_row"}
        cols = [c for c in known if c in df.columns] + [
            c for c in df.columns if c not in known and c not in derived
        ]
        out = df[cols].copy()
        for c in cols:
            if str(out[c].dtype) == "boolean" or out[c].dtype == bool:
                out[c] = out[c].map(lambda v: "" if pd.isna(v) else ("true" if v else "false"))
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")

    dump(sites, "sites.csv", _SITES)
    dump(sources, "sources.csv", _SOURCES)
    dump(segments, "segments.csv", _SEGMENTS)
    if items is not None:
        dump(items, "items.csv", _ITEMS)
    for inst, df in (responses or {}).items():
        dump(df, f"responses/{inst}.csv", _RESPONSES_FIXED)
    write_datapackage(root, meta)
    return root
