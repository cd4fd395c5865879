"""Atomic file writes: a reader never sees a half-written report.

Every output is written to a temporary file in the destination folder, flushed to disk, and
moved over the final name with :func:`os.replace`, which is atomic on POSIX and Windows when
both paths are on the same file system. A process killed mid-write leaves at most a hidden
``.<name>.<random>.part`` file, which :func:`remove_stale_parts` cleans up on the next run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "remove_stale_parts"]

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
