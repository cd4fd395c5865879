"""Rating valences in a spreadsheet: a CSV round trip for segments coded without one.

A team that coded in a QDA tool without a Valence group imports segments that have a code
but no valence, and they score nothing until rated (docs/interop.md, "Rating valences").
:func:`export_valence_sheet` writes the segments lacking a valence, one per row with the
text they cover, for people to rate in a spreadsheet; :func:`import_valence_sheet` checks
the filled-in sheet (every valence a whole number from -2 to +2, every segment ID known, no
segment twice) and writes the valences into ``segments.csv`` atomically, under the
project's write lock. A valence already in the project is never replaced unless
``overwrite``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from .._io import atomic_write_csv, atomic_write_text
from ..errors import CopevalError, Problem, ValenceSheetError
from .transaction import project_lock

__all__ = [
    "SHEET_COLUMNS",
    "ValenceSheetError",
    "export_valence_sheet",
    "import_valence_sheet",
    "valence_sheet",
]

#: Columns of the rating sheet; people fill in ``valence``, the others are for reading.
SHEET_COLUMNS = ("segment_id", "criterion", "code", "text", "valence", "source_id", "coder")
_VALENCE_RE = re.compile(r"^[+-]?[0-9]+$")


def valence_sheet(project, *, include_rated: bool = False) -> pd.DataFrame:
    """The rating sheet of a loaded project: segments without a valence (all segments with
    ``include_rated``), with the criterion, code and the text each covers; never a segment
    of a source with consent ``none``."""
    seg = project.segments
    # A source with consent "none" is kept for the record only, out of scoring and of
    # every output: its text never goes into a sheet people pass around (nor would its
    # valence count).
    withheld = project.sources.loc[project.sources["consent"] == "none", "source_id"]
    seg = seg[~seg["source_id"].isin(set(withheld))]
    if not include_rated:
        seg = seg[seg["valence"].isna()]
    texts = [project.segment_text(s) for s in seg["segment_id"]]
    sheet = pd.DataFrame(
        {
            "segment_id": seg["segment_id"].astype(str).to_numpy(),
            "criterion": seg["criterion"].astype(object).to_numpy(),
            "code": seg["code"].astype(str).to_numpy(),
            "text": texts,
            "valence": [
                "" if pd.isna(v) else f"{int(v):+d}" if v else "0" for v in seg["valence"]
            ],
            "source_id": seg["source_id"].astype(str).to_numpy(),
            "coder": seg["coder"].astype(str).to_numpy(),
        }
    )
    return sheet[list(SHEET_COLUMNS)]


def export_valence_sheet(
    project, out: str | Path, *, include_rated: bool = False, overwrite: bool = False
) -> int:
    """Write the rating sheet as a CSV people open in a spreadsheet (cells that would run as
    formulas are shown as text). Returns the number of segments written."""
    out = Path(out)
    _refuse_project_file(project, out)
    if out.exists() and not overwrite:
        raise CopevalError(f"{out} exists; use --force to overwrite it")
    if out.is_dir():
        raise CopevalError(f"--out must be a file name, but {out} is a folder")
    sheet = valence_sheet(project, include_rated=include_rated)
    # The import takes off one leading apostrophe (what the formula-safe writing adds to
    # "-G2"); an ID that itself starts with one gets a second, so it comes back whole.
    for col in ("segment_id", "source_id"):
        sheet[col] = [f"'{v}" if v.startswith("'") else v for v in sheet[col]]
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_csv(sheet, out, for_people=True)
    return len(sheet)


#: Files a project is read from (docs/data-model.md); ``texts/`` and ``responses/`` too.
_PROJECT_FILES = frozenset(
    {
        "datapackage.json",
        "sites.csv",
        "sources.csv",
        "segments.csv",
        "items.csv",
        "registry.csv",
        "site_rounds.csv",
    }
)


def _refuse_project_file(project, out: Path) -> None:
    """Refuse a sheet path that is (or, through a link, points at) one of the project's own
    files: ``--out PROJECT/segments.csv --force`` would replace the project's segments with
    the sheet (and write every quoted text into it)."""
    root = Path(project.path).resolve()
    target = out.resolve()
    try:
        rel = target.relative_to(root)
    except ValueError:
        return
    texts = {
        (root / p).resolve() for p in project.sources.get("text_path", ()) if isinstance(p, str)
    }
    if (
        (len(rel.parts) == 1 and rel.name.lower() in _PROJECT_FILES)
        or (rel.parts and rel.parts[0] in ("texts", "responses"))
        or target in texts
        or target == root
    ):
        raise CopevalError(
            f"--out {out} is a file of the project {project.path} ({rel.as_posix() or '.'}); "
            "write the sheet outside the project's data files (e.g. ratings.csv)"
        )


def _read_sheet(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    from ..project import _decode  # the project's own reading rules (UTF-8, BOM, no guess)

    if not path.is_file():
        raise CopevalError(f"{path}: file not found")
    collector = _Problems()
    text = _decode(path.read_bytes(), str(path), collector)
    if text is None:
        raise ValenceSheetError(path, collector.problems)
    reader = csv.reader(io.StringIO(text, newline=""))
    header, rows = None, []
    try:
        for rec in reader:
            line = reader.line_num
            if not rec or all(not c.strip() for c in rec):
                continue
            if header is None:
                header = [h.strip() for h in rec]
                continue
            rows.append((line, dict(zip(header, rec, strict=False))))
    except csv.Error as exc:
        raise CopevalError(f"{path}: not valid CSV ({exc}), line {reader.line_num}") from None
    if header is None:
        raise CopevalError(f"{path}: the file is empty (it needs a header row)")
    return header, rows


class _Problems:
    def __init__(self):
        self.problems: list[Problem] = []

    def error(self, file, message, row=None, column=None, value=None):
        self.problems.append(Problem(file, message, row, column, value, "error"))

    warn = error


def _unquote(value: str) -> str:
    """A cell as typed: spaces trimmed, and the apostrophe a formula-safe export added."""
    value = value.strip()
    return value[1:] if value.startswith("'") else value


def import_valence_sheet(root: str | Path, sheet: str | Path, *, overwrite: bool = False):
    """Write the valences of a filled-in rating sheet into a project's ``segments.csv``.

    Rows with an empty valence are skipped (still unrated). Every problem is collected and
    reported at once, naming the sheet's row and column, and then nothing is written: a
    valence that is not a whole number from -2 to +2, an unknown segment ID, a segment
    twice, and — unless ``overwrite`` — a valence that differs from one the project
    already has. The write is atomic, under the project's write lock.

    Returns
    -------
    dict
        ``rated`` (valences written where there was none), ``replaced`` (with
        ``overwrite``), ``unchanged`` (same value already there), ``empty`` (rows left
        unrated), ``remaining`` (segments of the project still without a valence).
    """
    from ..project import load_project

    root, sheet = Path(root), Path(sheet)
    header, rows = _read_sheet(sheet)
    name = str(sheet)
    for col in ("segment_id", "valence"):
        if col not in header:
            raise CopevalError(
                f"{name}: required column {col!r} is missing (columns: {', '.join(header)}); "
                "write the sheet with `copeval valence export`"
            )
    with project_lock(root):
        project = load_project(root)
        current = dict(
            zip(project.segments["segment_id"], project.segments["valence"], strict=True)
        )
        out = _Problems()
        new: dict[str, int] = {}
        first: dict[str, int] = {}
        counts = {"rated": 0, "replaced": 0, "unchanged": 0, "empty": 0}
        for line, rec in rows:
            seg = _unquote(rec.get("segment_id") or "")
            raw = _unquote(rec.get("valence") or "")
            if not seg:
                out.error(name, "segment_id is empty", line, "segment_id")
                continue
            if seg not in current:
                out.error(
                    name,
                    f"segment {seg!r} is not a segment of {root}",
                    line,
                    "segment_id",
                    seg,
                )
                continue
            if seg in first:
                out.error(
                    name,
                    f"segment {seg!r} is listed twice (first on row {first[seg]})",
                    line,
                    "segment_id",
                    seg,
                )
                continue
            first[seg] = line
            if raw == "":
                counts["empty"] += 1
                continue
            if not _VALENCE_RE.match(raw) or not -2 <= int(raw) <= 2:
                out.error(
                    name,
                    f"valence {raw!r} of segment {seg!r} is not a whole number from -2 to +2",
                    line,
                    "valence",
                    raw,
                )
                continue
            value, old = int(raw), current[seg]
            if pd.isna(old):
                counts["rated"] += 1
            elif int(old) == value:
                counts["unchanged"] += 1
                continue
            elif overwrite:
                counts["replaced"] += 1
            else:
                out.error(
                    name,
                    f"segment {seg!r} already has valence {int(old):+d} in the project; "
                    f"the sheet says {value:+d}. Use --overwrite to replace existing valences",
                    line,
                    "valence",
                    raw,
                )
                continue
            new[seg] = value
        if out.problems:
            raise ValenceSheetError(sheet, out.problems)
        if new:
            _write_valences(root / "segments.csv", new)
            load_project(root)  # the result must load (it always should: values checked)
    counts["remaining"] = sum(1 for s, v in current.items() if pd.isna(v) and s not in new)
    return counts


def _write_valences(path: Path, values: dict) -> None:
    """Set the valence cells of ``segments.csv``; every other cell is kept as written."""
    from ..project import _decode

    collector = _Problems()
    text = _decode(path.read_bytes(), str(path), collector)
    if text is None:  # pragma: no cover - load_project read it a moment ago
        raise ValenceSheetError(path, collector.problems)
    bom = path.read_bytes().startswith(b"\xef\xbb\xbf")
    newline = "\r\n" if "\r\n" in text else "\n"
    records = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip() for h in records[0]]
    i_seg, i_val = header.index("segment_id"), header.index("valence")
    for rec in records[1:]:
        if len(rec) > max(i_seg, i_val) and rec[i_seg].strip() in values:
            rec[i_val] = str(values[rec[i_seg].strip()])
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(records)
    atomic_write_text(path, ("\ufeff" if bom else "") + buf.getvalue())
