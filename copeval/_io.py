"""File plumbing shared by every module: atomic writes, safe paths, CSV cells for people.

Atomic writes: a reader never sees a half-written file.

Every output is written to a temporary file in the destination folder, flushed to disk, and
moved over the final name with :func:`os.replace`, which is atomic on POSIX and Windows when
both paths are on the same file system. A process killed mid-write leaves at most a hidden
``.<name>.<random>.part`` file, which :func:`remove_stale_parts` cleans up on the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath

from .errors import UnsafePathError

__all__ = [
    "REPORTS_MARKER",
    "SKIP_DIRS",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_text",
    "csv_safe",
    "hash_file",
    "hash_tree",
    "neutralise_cell",
    "remove_stale_parts",
    "safe_child",
    "tree_files",
]

PART_SUFFIX = ".part"


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Permission bits of a new file (mkstemp creates 0600; outputs should be readable as usual).
#: Read once at import, while no other thread can be creating files.
_FILE_MODE = 0o666 & ~_current_umask()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + fsync + ``os.replace``).

    Returns the final path. On any error the temporary file is removed and the previous
    content of ``path`` (if any) is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_parts(folder: str | os.PathLike, name: str) -> list[Path]:
    """Delete leftover temporary files of ``name`` in ``folder`` (from a killed run).

    Returns the paths removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for part in folder.glob(f".{name}.*{PART_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
            removed.append(part)
    return removed


def atomic_write_csv(df, path: str | os.PathLike, *, for_people: bool = False) -> Path:
    """Write a DataFrame as UTF-8 CSV (``\\n`` line ends, no index) atomically.

    With ``for_people=True`` every text cell is passed through :func:`neutralise_cell`
    first, for CSV files that users are told to open in a spreadsheet.
    """
    if for_people:
        df = csv_safe(df)
    text = df.to_csv(index=False, lineterminator="\n")
    return atomic_write_bytes(path, text.encode("utf-8"))


# --------------------------------------------------------------------------- safe paths
def safe_child(folder: str | os.PathLike, name: str, *, what: str = "name") -> Path:
    """``folder / name``, refused unless it stays inside ``folder``.

    ``name`` comes from outside (a table cell, an ID, an instrument name): it must be a
    relative POSIX path with no ``..`` part, no drive or root, no NUL or control character,
    and once resolved (symbolic links followed) it must lie inside ``folder``.

    Raises
    ------
    UnsafePathError
        Naming ``what`` and the value, e.g. ``"instrument '../../x' would point outside
        responses/"``.
    """
    folder = Path(folder)
    text = str(name)
    bad = (
        not text
        or text != text.strip()
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in text)
        or "\\" in text
        or (len(text) > 1 and text[1] == ":")
    )
    rel = PurePosixPath(text)
    if bad or rel.is_absolute() or any(part in ("..", "") for part in rel.parts) or text == ".":
        raise UnsafePathError(f"{what} {text!r} is not a safe relative path inside {folder.name}/")
    target = folder / Path(*rel.parts)
    try:
        resolved = target.resolve(strict=False)
        base = folder.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # symlink loops
        raise UnsafePathError(f"{what} {text!r} cannot be resolved inside {folder.name}/") from exc
    if resolved != base and base not in resolved.parents:
        raise UnsafePathError(f"{what} {text!r} would point outside {folder.name}/")
    return target


# --------------------------------------------------------------------------- CSV for people
#: Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"), plus
#: the tab and carriage return that some spreadsheets strip before looking.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_cell(value):
    """A text cell a spreadsheet will show as text, never run as a formula.

    Text starting with ``= + - @`` (or a tab or carriage return, or their full-width forms) gets a
    leading apostrophe, as OWASP recommends; numbers (``-1.5``) and anything that is not a
    string pass through unchanged.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def csv_safe(df):
    """A copy of ``df`` with :func:`neutralise_cell` applied to every text cell and header."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


# --------------------------------------------------------------------------- folder hashes
#: Folders never part of a folder's content (version control, caches of other tools).
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".ipynb_checkpoints"})
#: A file naming a folder as a reports folder (the batch engine writes it, as its lock): its
#: files are outputs, not inputs, and are left out of the hash of a folder holding it.
REPORTS_MARKER = ".copeval-reports"


def tree_files(root: str | os.PathLike, exclude=()):
    """``(relative POSIX path, DirEntry)`` of every file of a folder tree, unsorted.

    The one rule for what a folder's content is (a project's inputs, the crosswalk, the
    report templates): hidden files and folders count (a text may be stored as
    ``texts/.X.txt``); left out are the folders in :data:`SKIP_DIRS`, temporary files of an
    atomic write in progress (``.*.part``), the folders in ``exclude`` and every sub-folder
    holding :data:`REPORTS_MARKER` (a reports folder inside a project). Symbolic links to
    folders are not followed; links to files are. Raises ``OSError`` when a folder cannot be
    read.
    """
    root = Path(root)
    skip = {os.path.normcase(os.path.abspath(e)) for e in exclude}
    stack = [(root, "")]
    while stack:
        folder, rel = stack.pop()
        with os.scandir(folder) as scan:
            entries = list(scan)
        if rel and any(e.name == REPORTS_MARKER for e in entries):
            continue
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                if name in SKIP_DIRS or os.path.normcase(os.path.abspath(entry.path)) in skip:
                    continue
                stack.append((Path(entry.path), f"{rel}{name}/"))
            elif entry.is_file(follow_symlinks=True):
                if name.startswith(".") and name.endswith(PART_SUFFIX):
                    continue
                yield f"{rel}{name}", entry


def hash_file(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_tree(root: str | os.PathLike, *, exclude=()) -> str:
    """SHA-256 (hex) over the relative path and bytes of every file :func:`tree_files` lists,
    in path order: any change to any file's name or content changes it. Raises ``OSError``
    when a file or folder cannot be read."""
    digest = hashlib.sha256()
    for rel, entry in sorted(tree_files(root, exclude), key=lambda item: item[0]):
        digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(bytes.fromhex(hash_file(entry.path)))
    return digest.hexdigest()
