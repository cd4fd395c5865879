"""From the code names of a QDA tool to codebook codes, and the ``Valence`` code group.

A **mapping table** is a CSV with the columns ``external_name`` and ``code``: the name of a
code in the other tool and the codebook code it stands for. An empty ``code`` says "this
external code is deliberately not imported". External names that already are codebook codes
(``C2.meetings``, or a code ``meetings`` under a parent ``C2``) need no row.

An external code is looked up by its full path as the import report prints it (the names
from the top of the code tree joined with ``/``, each name kept whole even when it contains
``::`` or ``/``), by the same path joined with ``::`` or ``.``, and by its own (leaf) name when
no other code of the file has that leaf name; first exactly, then ignoring case. A single
flat name holding ATLAS.ti's ``Parent::Child`` is also read as a path. An external code with no mapping of its own takes the mapping of its nearest mapped
parent (a sub-code the team added under ``C2.meetings`` counts as ``C2.meetings``); the
import report says so.

Flat tag names (Taguette highlights and codebooks, flat ``.qdc`` files) become paths with
:func:`tag_path`, the same way everywhere: ``Parent/child`` splits at ``/``; a name without
``/`` splits at ``.`` (``Patrullaje.a pie``); ``Group::code`` is left to the lookup above.

**Valence** is coded in QDA tools with a top-level code group named ``Valence`` whose child
codes are ``+2``, ``+1``, ``0``, ``-1`` and ``-2`` (a Unicode minus ``−`` is accepted),
applied to the same or an overlapping selection as the codebook code. Flat tools can name
the codes ``Valence/+2``, ``Valence::+2``, ``Valence.+2`` or ``Valence: +2``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..codebook import Codebook, load_codebook
from ..errors import ImportFormatError
from .safe import read_table

__all__ = [
    "VALENCE_GROUP",
    "VALENCE_LABELS",
    "CodeMapping",
    "code_label",
    "parse_valence",
    "read_mapping",
    "tag_path",
]

#: Name of the top-level code group holding valence codes.
VALENCE_GROUP = "Valence"
#: Valence code names, as copeval writes them (+2 first).
VALENCE_LABELS = {2: "+2", 1: "+1", 0: "0", -1: "-1", -2: "-2"}

_VALENCE_CHILD = re.compile(r"^\s*([+\-\u2212\u2013]?)\s*([0-2])\s*$")
_VALENCE_FLAT = re.compile(
    r"^\s*valen(?:ce|cia)\s*(?:/|::|\.|:|>|\\)\s*([+\-\u2212\u2013]?)\s*([0-2])\s*$",
    re.IGNORECASE,
)


def _valence_value(sign: str, digit: str) -> int:
    value = int(digit)
    return -value if sign in ("-", "\u2212", "\u2013") else value


def parse_valence(path: tuple[str, ...]) -> int | None:
    """The valence a code stands for, or None when it is not a valence code.

    ``path`` is the code's path from the top of the code tree, e.g. ``("Valence", "+2")``;
    a single flat name such as ``("Valence::-1",)`` is accepted too.
    """
    if len(path) == 2 and path[0].strip().casefold() in ("valence", "valencia"):
        m = _VALENCE_CHILD.match(path[1])
        if m:
            return _valence_value(*m.groups())
    if len(path) >= 1:
        m = _VALENCE_FLAT.match("/".join(path) if len(path) > 1 else path[0])
        if m:
            return _valence_value(*m.groups())
    return None


def is_valence_group(path: tuple[str, ...]) -> bool:
    """True for the ``Valence`` group code itself (a container, never a codebook code)."""
    return len(path) == 1 and path[0].strip().casefold() in ("valence", "valencia")


def tag_path(name: str) -> tuple[str, ...]:
    """The path of a flat tag or code name (Taguette, flat codebooks).

    ``Parent/child`` -> ``("Parent", "child")``; without ``/``, ``Patrullaje.a pie`` ->
    ``("Patrullaje", "a pie")``; ``Group::code`` stays whole (the mapping reads it).
    """
    name = str(name).strip()
    if "::" in name and "/" not in name:
        return (name,)
    sep = "/" if "/" in name else "."
    parts = tuple(p.strip() for p in name.split(sep) if p.strip())
    return parts or (name,)


def code_label(path: tuple[str, ...]) -> str:
    """How an external code is printed (and may be written in a mapping table)."""
    return "/".join(path)


def _keys(path: tuple[str, ...], *, leaf: bool = True) -> list[str]:
    keys = ["/".join(path), "::".join(path), ".".join(path)]
    if leaf or len(path) == 1:
        keys.append(path[-1])
    return list(dict.fromkeys(k for k in keys if k))


@dataclass(frozen=True)
class CodeMapping:
    """External code names -> codebook codes.

    Attributes
    ----------
    table : dict
        ``external_name -> code``; ``None`` means "deliberately not imported".
    codebook : Codebook
    """

    table: dict
    codebook: Codebook
    ambiguous_leaves: frozenset = frozenset()

    def __post_init__(self):
        object.__setattr__(self, "_fold", {k.casefold(): v for k, v in self.table.items()})
        object.__setattr__(self, "_cb_fold", {c.casefold(): c for c in self.codebook.codes})

    def for_paths(self, paths) -> CodeMapping:
        """This mapping, knowing every code path of a file: a leaf name that ends more than
        one path no longer maps by itself (the full path does)."""
        by_leaf: dict = {}
        for p in paths:
            p = tuple(p)
            if p:
                by_leaf.setdefault(p[-1].casefold(), set()).add(p)
        ambiguous = frozenset(k for k, v in by_leaf.items() if len(v) > 1)
        return CodeMapping(self.table, self.codebook, ambiguous)

    def _own(self, path: tuple[str, ...]) -> tuple[str | None, str] | None:
        keys = _keys(path, leaf=path[-1].casefold() not in self.ambiguous_leaves)
        for k in keys:
            if k in self.table:
                code = self.table[k]
                return (code, "mapping") if code else (None, "ignored")
        for k in keys:
            if k.casefold() in self._fold:
                code = self._fold[k.casefold()]
                return (code, "mapping") if code else (None, "ignored")
        for k in keys:
            if k in self.codebook:
                return k, "codebook"
        for k in keys:
            if k.casefold() in self._cb_fold:
                return self._cb_fold[k.casefold()], "codebook"
        return None

    def resolve(self, path: tuple[str, ...]) -> tuple[str | None, str]:
        """Map an external code path to ``(code, how)``.

        ``how`` is ``"codebook"``, ``"mapping"``, ``"parent"`` (through the nearest mapped
        parent), ``"ignored"`` (mapped to nothing on purpose) or ``"unmapped"``.
        """
        path = tuple(p.strip() for p in path if p.strip())
        if not path:
            return None, "unmapped"
        split = tuple(q.strip() for p in path for q in p.split("::") if q.strip())
        candidates = [path] if split == path else [path, split]
        for cand in candidates:
            own = self._own(cand)
            if own is not None:
                return own
        for cand in candidates:
            for n in range(len(cand) - 1, 0, -1):
                found = self._own(cand[:n])
                if found is not None:
                    return (found[0], "parent") if found[0] else (None, "ignored")
        return None, "unmapped"


def read_mapping(
    source: str | Path | pd.DataFrame | None = None, *, codebook: Codebook | None = None
) -> CodeMapping:
    """Read a mapping table (CSV or XLSX with columns ``external_name, code``).

    ``None`` gives an empty mapping (only codebook codes are recognised).

    Raises
    ------
    ImportFormatError
        A column is missing, a code is not in the codebook, or an external name is mapped
        twice to different codes. Every problem is listed with its row.
    """
    codebook = codebook or load_codebook()
    if source is None:
        return CodeMapping({}, codebook)
    if isinstance(source, pd.DataFrame):
        df, name = source.astype(object).fillna(""), "mapping table"
    else:
        df, name = read_table(source), str(source)
    cols = {c.strip().lower(): c for c in df.columns}
    missing = [c for c in ("external_name", "code") if c not in cols]
    if missing:
        raise ImportFormatError(
            f"{name}: missing column(s) {', '.join(missing)}. A mapping table has the columns "
            f"external_name,code. Available columns: {', '.join(map(str, df.columns))}"
        )
    problems = []
    table: dict = {}
    rows: dict = {}
    for i, (ext, code) in enumerate(
        zip(df[cols["external_name"]], df[cols["code"]], strict=True), start=2
    ):
        ext, code = str(ext).strip(), str(code).strip()
        if not ext:
            if code:
                problems.append(f"row {i}, column 'external_name': empty")
            continue
        if code and code not in codebook:
            problems.append(
                f"row {i}, column 'code': {code!r} is not a codebook code "
                "(see `copeval codebook --format csv`)"
            )
            continue
        value = code or None
        if ext in table and table[ext] != value:
            problems.append(
                f"row {i}, column 'external_name': {ext!r} is already mapped to "
                f"{table[ext] or '(nothing)'} on row {rows[ext]}"
            )
            continue
        table[ext] = value
        rows.setdefault(ext, i)
    if problems:
        raise ImportFormatError(f"{name}: invalid mapping table:\n  - " + "\n  - ".join(problems))
    return CodeMapping(table, codebook)
