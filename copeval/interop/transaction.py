"""Writing into a project folder so that a failed write never loses data.

An import (or ``copeval describe``) changes a project folder in one step:

1. it takes an exclusive lock (:func:`fcntl.flock`) on a lock file beside the folder,
   ``.<name>.copeval-lock``; a second writer gets a one-line :class:`ProjectLockedError`
   instead of waiting or overwriting the first one's work;
2. it copies the project into a staging folder beside it (``.<name>.staging-XXXX``, same file
   system) and writes the new tables there;
3. it switches the staging folder in with one atomic ``renameat2(RENAME_EXCHANGE)`` on Linux,
   or, where that is not available, two renames (``project -> .<name>.old-XXXX``, ``staging
   -> project``); the old folder is then deleted.

Until step 3 the project folder is not touched, so a process killed, or a disk filling up,
during the write leaves the project byte-identical. Left-over staging folders are deleted
and an interrupted two-rename switch is rolled back by the next writer (under the lock).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .._io import atomic_write_text
from ..errors import ProjectLockedError, ProjectWriteError

__all__ = [
    "KEPT_PACKAGE_FIELDS",
    "ProjectLockedError",
    "ProjectWriteError",
    "keep_package_fields",
    "lock_path",
    "project_lock",
    "staged_project",
]

_STAGING = ".staging-"
_OLD = ".old-"


def _real(root: str | os.PathLike) -> Path:
    """The project folder itself: symbolic links resolved, so that a link to a project is
    neither replaced by the switch nor locked apart from the folder it points to."""
    return Path(root).resolve()


def lock_path(root: str | os.PathLike) -> Path:
    """The lock file of a project folder: ``.<name>.copeval-lock`` beside it."""
    root = _real(root)
    return root.parent / f".{root.name}.copeval-lock"


@contextlib.contextmanager
def project_lock(root: str | os.PathLike) -> Iterator[Path]:
    """Hold the exclusive write lock of a project folder (released when the process ends).

    Raises
    ------
    ProjectLockedError
        Another process holds the lock.
    ProjectWriteError
        The lock file cannot be created (e.g. the parent folder is read-only).
    """
    import fcntl

    path = lock_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ProjectWriteError(
            f"cannot create the lock file {path} ({exc.strerror}); {Path(root)} is unchanged"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProjectLockedError(
                f"another copeval process is writing into {Path(root)} (lock {path.name}); "
                "wait until it has finished and run this again"
            ) from None
        yield path
    finally:
        os.close(fd)  # closing releases the lock


# --------------------------------------------------------------------------- switching
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False when not supported."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk (before the old copy is deleted,
    so that a power cut never leaves truncated files and no old copy)."""
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _switch(staging: Path, root: Path) -> None:
    """Put ``staging`` in the place of ``root`` (which may not exist); delete the old one."""
    _fsync_tree(staging)
    if not root.exists():
        os.rename(staging, root)
        _fsync_dir(root.parent)
        return
    if _exchange(staging, root):
        _fsync_dir(root.parent)
        shutil.rmtree(staging, ignore_errors=True)  # now the old project
        return
    old = Path(tempfile.mkdtemp(prefix=f".{root.name}{_OLD}", dir=root.parent))
    old.rmdir()
    os.rename(root, old)
    try:
        os.rename(staging, root)
    except BaseException:
        os.rename(old, root)  # put the project back before reporting the failure
        raise
    _fsync_dir(root.parent)
    shutil.rmtree(old, ignore_errors=True)


def recover(root: str | os.PathLike) -> list[str]:
    """Tidy up after a writer that was killed (call it holding the lock).

    Restores the project when a two-rename switch stopped between its renames, and deletes
    left-over staging and old folders. Returns what it did, one line per action.
    """
    root = _real(root)
    done = []
    if not root.parent.is_dir():
        return done
    olds = sorted(root.parent.glob(f".{root.name}{_OLD}*"), key=lambda p: p.stat().st_mtime)
    if not root.exists() and olds:
        os.rename(olds[-1], root)
        done.append(f"restored {root} from an interrupted write")
        olds = olds[:-1]
    for leftover in [*olds, *root.parent.glob(f".{root.name}{_STAGING}*")]:
        shutil.rmtree(leftover, ignore_errors=True)
        done.append(f"removed {leftover.name} left by an interrupted write")
    return done


@contextlib.contextmanager
def staged_project(root: str | os.PathLike, *, copy_existing: bool = True) -> Iterator[Path]:
    """A staging copy of ``root`` to write into; switched in when the block ends normally.

    The caller must hold :func:`project_lock`. If the block raises, the staging folder is
    deleted and ``root`` is left as it was. :class:`OSError` (disk full, permissions)
    becomes a one-line :class:`ProjectWriteError`.
    """
    root = _real(root)
    staging = None
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}{_STAGING}", dir=root.parent))
        if root.is_dir():
            os.chmod(staging, root.stat().st_mode & 0o7777)
            if copy_existing:
                staging.rmdir()
                shutil.copytree(root, staging, symlinks=True)
        else:
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(staging, 0o777 & ~mask)
        yield staging
        _switch(staging, root)
        staging = None
    except OSError as exc:
        raise ProjectWriteError(
            f"could not write into {root} ({exc.strerror or exc}); nothing was changed"
        ) from None
    except shutil.Error as exc:
        raise ProjectWriteError(f"could not copy {root} ({exc}); nothing was changed") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------- datapackage
#: Frictionless Data Package properties that copeval does not derive and must keep as written.
KEPT_PACKAGE_FIELDS = (
    "id",
    "licenses",
    "contributors",
    "keywords",
    "sources",
    "homepage",
    "version",
    "created",
    "image",
    "description",
)


def read_descriptor(root: str | os.PathLike) -> dict:
    """``datapackage.json`` of a folder as a dict ({} when absent or unreadable)."""
    try:
        desc = json.loads((Path(root) / "datapackage.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return {}
    return desc if isinstance(desc, dict) else {}


def keep_package_fields(root: str | os.PathLike, old: dict) -> None:
    """Put back the :data:`KEPT_PACKAGE_FIELDS` of ``old`` that a rewrite of
    ``datapackage.json`` dropped (licences, contributors, keywords...)."""
    kept = {k: old[k] for k in KEPT_PACKAGE_FIELDS if k in old}
    if not kept:
        return
    path = Path(root) / "datapackage.json"
    desc = read_descriptor(root)
    if not desc:
        return
    missing = {k: v for k, v in kept.items() if k not in desc}
    if not missing:
        return
    merged = {**desc, **missing}
    atomic_write_text(path, json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
