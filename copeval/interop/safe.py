"""Hardened reading of files from other tools: XML, zip archives, text and tables.

Every file another tool wrote is untrusted. This module is the one place where copeval opens
such files, so that the defences are written (and tested) once:

* **XML** is parsed with :mod:`defusedxml`: document type declarations (DTDs), entity
  declarations (billion laughs, quadratic blow-up) and external entities or references (XXE)
  are refused, and documents larger than :data:`LIMITS` ``max_entry_bytes`` are not parsed.
* **Zip archives** (``.qdpx``, ``.docx``, ``.xlsx``) are checked from their central directory
  before any member is read: number of entries, total uncompressed size, size of each member,
  compression ratio of each member, absolute paths, ``..`` components, drive letters and
  symbolic links. Members are read into memory with a bounded read; nothing is extracted to
  disk.
* **Text** is decoded as UTF-8 (with or without a byte-order mark) or as UTF-16 with a BOM,
  never with a guessed 8-bit encoding.

Refusals raise :class:`~copeval.errors.UnsafeInputError`; files that are merely not what they
claim to be raise :class:`~copeval.errors.ImportFormatError`. Both name the file.
"""

from __future__ import annotations

import csv
import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import defusedxml
import defusedxml.ElementTree as DET
import pandas as pd

from ..errors import ImportFormatError, UnsafeInputError

__all__ = [
    "LIMITS",
    "Limits",
    "SafeZip",
    "check_zip",
    "decode_text",
    "parse_xml",
    "read_bytes",
    "read_table",
]


@dataclass(frozen=True)
class Limits:
    """Caps applied to untrusted input. All sizes in bytes.

    Attributes
    ----------
    max_entries : int
        Most members a zip archive may list.
    max_total_bytes : int
        Most bytes all members of an archive may declare, uncompressed, together.
    max_entry_bytes : int
        Most bytes one member (or one plain file: XML, CSV, text) may hold.
    max_ratio : float
        Highest compression ratio (uncompressed / compressed) of a member larger than
        ``ratio_floor_bytes``. Text and XML compress 3-20 times; zip bombs 1000 times or more.
    ratio_floor_bytes : int
        Members smaller than this are exempt from the ratio check (tiny files compress
        arbitrarily well and are harmless).
    """

    max_entries: int = 10_000
    max_total_bytes: int = 1024 * 1024 * 1024  # 1 GiB
    max_entry_bytes: int = 256 * 1024 * 1024  # 256 MiB
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024  # 1 MiB


#: The limits used unless a caller passes others.
LIMITS = Limits()

_MiB = 1024 * 1024


def _mib(n: int) -> str:
    return f"{n / _MiB:,.0f} MiB" if n >= _MiB else f"{n:,} bytes"


# --------------------------------------------------------------------------- plain files
def read_bytes(path: str | Path, *, limits: Limits = LIMITS) -> bytes:
    """Read a whole file, refusing files larger than ``limits.max_entry_bytes``.

    Raises
    ------
    ImportFormatError
        The file does not exist or is not a regular file.
    UnsafeInputError
        The file is larger than the limit.
    """
    p = Path(path)
    if not p.is_file():
        raise ImportFormatError(f"{p}: file not found")
    size = p.stat().st_size
    if size > limits.max_entry_bytes:
        raise UnsafeInputError(
            f"{p}: refused, {_mib(size)} is larger than the limit of "
            f"{_mib(limits.max_entry_bytes)} for one file"
        )
    return p.read_bytes()


def decode_text(data: bytes, *, name: str) -> str:
    """Decode the bytes of a text file: UTF-8 (BOM removed) or UTF-16 with a BOM.

    Line endings are kept as they are: offsets into the text depend on them.

    Raises
    ------
    ImportFormatError
        The bytes are not valid UTF-8 (the message names the byte and line).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")  # the codec reads and drops the BOM
        except UnicodeDecodeError as exc:
            raise ImportFormatError(f"{name}: invalid UTF-16 text ({exc.reason})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFormatError(
            f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02X} on line {line}); "
            "re-save it as UTF-8"
        ) from None


# --------------------------------------------------------------------------- XML
def parse_xml(data: bytes, *, name: str, limits: Limits = LIMITS):
    """Parse untrusted XML bytes into an :class:`xml.etree.ElementTree.Element`.

    DTDs, entity declarations and external references are refused outright.

    Raises
    ------
    UnsafeInputError
        The document declares a DTD or entities, references external resources, or is
        larger than ``limits.max_entry_bytes``.
    ImportFormatError
        The document is not well-formed XML (line and column given).
    """
    if len(data) > limits.max_entry_bytes:
        raise UnsafeInputError(
            f"{name}: refused, XML of {_mib(len(data))} is larger than the limit of "
            f"{_mib(limits.max_entry_bytes)}"
        )
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise UnsafeInputError(
            f"{name}: refused, the XML declares a document type (DTD); files from QDA tools "
            "never need one and DTDs carry entity-expansion and external-entity attacks"
        ) from None
    except defusedxml.EntitiesForbidden:
        raise UnsafeInputError(
            f"{name}: refused, the XML declares entities (entity expansion / billion laughs)"
        ) from None
    except defusedxml.ExternalReferenceForbidden:
        raise UnsafeInputError(
            f"{name}: refused, the XML references an external resource (XXE)"
        ) from None
    except DET.ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise ImportFormatError(
            f"{name}: not well-formed XML (line {line}, column {col}): {exc}"
        ) from None


# --------------------------------------------------------------------------- zip
def _unsafe_member_name(name: str) -> str | None:
    """Why a member name is unsafe, or None."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "is an absolute path"
    if ".." in PurePosixPath(norm).parts:
        return "contains '..' (path traversal, 'zip slip')"
    if "\x00" in norm:
        return "contains a NUL character"
    return None


def _norm_member(name: str) -> str:
    name = name.replace("\\", "/").lower()
    while name.startswith("./"):
        name = name[2:]
    return name


class SafeZip:
    """A zip archive checked against :class:`Limits` before any member is read.

    Parameters
    ----------
    source : str, Path or bytes
        Path of the archive, or its bytes (for archives nested in archives, e.g. a DOCX
        inside a QDPX).
    name : str, optional
        Name used in messages (default: the path).
    limits : Limits, optional

    Raises
    ------
    ImportFormatError
        Not a zip archive.
    UnsafeInputError
        Too many entries, too large in total, a member too large or too compressed, an
        absolute or ``..`` path, or a symbolic link.
    """

    def __init__(
        self, source: str | Path | bytes, *, name: str | None = None, limits: Limits = LIMITS
    ):
        self.limits = limits
        if isinstance(source, bytes | bytearray):
            self.name = name or "archive"
            fh = io.BytesIO(source)
        else:
            path = Path(source)
            self.name = name or str(path)
            if not path.is_file():
                raise ImportFormatError(f"{self.name}: file not found")
            fh = path.open("rb")
        try:
            self._zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError) as exc:
            fh.close()
            raise ImportFormatError(f"{self.name}: not a valid zip archive ({exc})") from None
        try:
            self._check()
        except Exception:
            self.close()
            raise
        self._infos = {i.filename: i for i in self._zip.infolist() if not i.is_dir()}

    def _check(self) -> None:
        lim = self.limits
        infos = self._zip.infolist()
        if len(infos) > lim.max_entries:
            raise UnsafeInputError(
                f"{self.name}: refused, the archive lists {len(infos):,} entries "
                f"(limit {lim.max_entries:,})"
            )
        total = 0
        seen: set = set()
        for info in infos:
            key = _norm_member(info.filename)
            if key in seen and not info.is_dir():
                raise UnsafeInputError(
                    f"{self.name}: refused, the member {info.filename!r} appears more than "
                    "once; which copy counts is ambiguous"
                )
            seen.add(key)
            why = _unsafe_member_name(info.filename)
            if why:
                raise UnsafeInputError(f"{self.name}: refused, member {info.filename!r} {why}")
            mode = info.external_attr >> 16
            if mode and stat.S_ISLNK(mode):
                raise UnsafeInputError(
                    f"{self.name}: refused, member {info.filename!r} is a symbolic link"
                )
            if info.file_size > lim.max_entry_bytes:
                raise UnsafeInputError(
                    f"{self.name}: refused, member {info.filename!r} would unpack to "
                    f"{_mib(info.file_size)} (limit {_mib(lim.max_entry_bytes)} per member)"
                )
            if info.file_size >= lim.ratio_floor_bytes:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > lim.max_ratio:
                    raise UnsafeInputError(
                        f"{self.name}: refused, member {info.filename!r} is compressed "
                        f"{ratio:,.0f}:1 (limit {lim.max_ratio:g}:1), a zip bomb"
                    )
            total += info.file_size
            if total > lim.max_total_bytes:
                raise UnsafeInputError(
                    f"{self.name}: refused, the archive would unpack to more than "
                    f"{_mib(lim.max_total_bytes)}"
                )

    # context manager -----------------------------------------------------------------
    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        fp = self._zip.fp
        self._zip.close()
        if fp is not None:
            fp.close()

    # members -------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Names of the file members (folders excluded), in archive order."""
        return list(self._infos)

    def find(self, name: str, *, folders: tuple[str, ...] = ("",)) -> str | None:
        """The member called ``name`` inside one of ``folders``, matched case-insensitively.

        Returns the member's exact name, or None.
        """
        wanted = {_norm_member(f"{f.rstrip('/')}/{name}" if f else name) for f in folders}
        for member in self._infos:
            if _norm_member(member) in wanted:
                return member
        return None

    def read(self, member: str) -> bytes:
        """Read one member into memory, never more than its declared size.

        Raises
        ------
        ImportFormatError
            No such member, or the member is corrupt.
        UnsafeInputError
            The member holds more data than its header declares.
        """
        info = self._infos.get(member)
        if info is None:
            raise ImportFormatError(f"{self.name}: no member {member!r}")
        try:
            with self._zip.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise ImportFormatError(f"{self.name}: member {member!r} is corrupt ({exc})") from None
        if len(data) > info.file_size:
            raise UnsafeInputError(
                f"{self.name}: refused, member {member!r} holds more data than it declares"
            )
        return data


def check_zip(path: str | Path, *, limits: Limits = LIMITS) -> None:
    """Check a zip-based file (e.g. an XLSX workbook) before a third-party reader opens it."""
    with SafeZip(path, limits=limits):
        pass


# --------------------------------------------------------------------------- tables
def _sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_table(
    path: str | Path, *, sheet: str | int | None = None, limits: Limits = LIMITS
) -> pd.DataFrame:
    """Read an untrusted CSV or XLSX table as strings (empty cells are ``""``).

    CSV files may be comma-, semicolon- (KoboToolbox's default) or tab-separated; the
    delimiter is read from the header line. XLSX workbooks are zip-checked first, then read
    with openpyxl (which parses their XML with defusedxml). ``sheet`` selects an XLSX sheet
    by name or position (default: the first).

    Raises
    ------
    ImportFormatError
        Unknown extension, unreadable file, or a duplicated column name.
    UnsafeInputError
        The file is over the limits.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        text = decode_text(read_bytes(p, limits=limits), name=str(p))
        delim = "\t" if suffix == ".tsv" else _sniff_delimiter(text)
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
        except csv.Error as exc:
            raise ImportFormatError(f"{p}: not valid CSV ({exc})") from None
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            raise ImportFormatError(f"{p}: the file is empty")
        header, body = [h.strip() for h in rows[0]], rows[1:]
        trailing = 0
        for i, r in enumerate(body, start=2):
            if len(r) == len(header) + 1 and not r[-1].strip():
                r.pop()  # a trailing comma (the legacy Kobo server writes one on every row)
                trailing += 1
            if len(r) != len(header):
                raise ImportFormatError(
                    f"{p}: row {i} has {len(r)} fields but the header has {len(header)}"
                )
        df = pd.DataFrame(body, columns=header, dtype=object)
        df.attrs["trailing_empty_column"] = trailing
    elif suffix in (".xlsx", ".xlsm"):
        check_zip(p, limits=limits)
        import openpyxl

        try:
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds of errors on bad input
            raise ImportFormatError(f"{p}: not a readable XLSX workbook ({exc})") from None
        try:
            if sheet is None:
                ws = wb.worksheets[0]
            elif isinstance(sheet, int):
                ws = wb.worksheets[sheet]
            elif sheet in wb.sheetnames:
                ws = wb[sheet]
            else:
                raise ImportFormatError(
                    f"{p}: no sheet {sheet!r}. Available: {', '.join(wb.sheetnames)}"
                )
            rows = [
                ["" if v is None else _cell_str(v) for v in r]
                for r in ws.iter_rows(values_only=True)
            ]
            title = ws.title
        finally:
            wb.close()
        formulas = _formulas_without_value(p, title, rows)
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            raise ImportFormatError(f"{p}: the sheet is empty")
        header = [h.strip() for h in rows[0]]
        while header and header[-1] == "":
            header.pop()
        body = [(r + [""] * len(header))[: len(header)] for r in rows[1:]]
        df = pd.DataFrame(body, columns=header, dtype=object)
        df.attrs["formula_cells"] = formulas
    else:
        raise ImportFormatError(
            f"{p}: expected a .csv or .xlsx file, got {suffix or 'no extension'!r}"
        )
    dupes = sorted({h for h in df.columns if list(df.columns).count(h) > 1})
    if dupes:
        raise ImportFormatError(f"{p}: column(s) appear more than once: {', '.join(dupes)}")
    return df


def _formulas_without_value(path: Path, sheet: str, values: list) -> list[str]:
    """Cells (``"C5"``) that hold a formula whose value the file does not store.

    openpyxl reads the value a spreadsheet program saved with a formula; a file written by a
    program that does not compute formulas has none, and the cell reads as empty.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:  # already read once; nothing more to learn
        return []
    found = []
    try:
        for r, row in enumerate(wb[sheet].iter_rows(values_only=True)):
            for c, v in enumerate(row):
                if isinstance(v, str) and v.startswith("="):
                    saved = values[r][c] if r < len(values) and c < len(values[r]) else ""
                    if saved == "":
                        found.append(f"{get_column_letter(c + 1)}{r + 1}")
    finally:
        wb.close()
    return found


def _cell_str(v) -> str:
    """An XLSX cell as text: whole floats lose their '.0' (spreadsheets store 3 as 3.0)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)
