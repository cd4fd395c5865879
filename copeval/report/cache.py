"""The analysis cache: derived tables only, in a format that cannot run code, outside reports.

A project's scores (the score table, bootstrap replicates, the evidence and respondent
tables scoring used, and the tables the reports precompute) are kept between runs so a
batch of reports scores a project once. What the cache holds and where:

- **Where**: a user cache folder, never the reports folder (reports folders are zipped and
  shared): ``--cache-dir``, else ``$COPEVAL_CACHE_DIR``, else ``$XDG_CACHE_HOME/copeval``,
  else ``~/.cache/copeval`` (:func:`default_cache_dir`). Created private (mode 0700). A
  folder another user owns or can write to (a shared ``/tmp`` folder, a group folder) is
  never read or written (:func:`folder_problem`): whoever can write there could plant
  forged scores at the computable key.
- **What**: tables of IDs, codes, numbers and labels derived by scoring -- no text of any
  source, no site note, no coder note, no name: everything a report prints from the
  project is read from the project again when the report is rendered (and redacted then).
- **How**: one NumPy ``.npz`` archive per analysis, read with ``allow_pickle=False``: a
  column is a plain array (numbers, booleans, fixed-width Unicode), never a Python object,
  so loading a planted file can fail but cannot run code. A file that does not load, or
  describes tables this version does not know, is ignored and replaced.

The file name is ``analysis-<key>.npz``, ``<key>`` from
:func:`copeval.report.data.analysis_key` (every project file, the parameters, the copeval
version and :data:`FORMAT`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from copeval.errors import CacheFormatError, UnsupportedColumnError

from .._io import atomic_write_bytes

__all__ = [
    "FORMAT",
    "CacheFormatError",
    "cache_file",
    "default_cache_dir",
    "folder_problem",
    "load_tables",
    "prune",
    "save_tables",
    "touch",
]

#: Layout version of the cache archive; part of the cache key.
FORMAT = 3
#: Largest cache archive read back (bytes); a larger file is ignored.
MAX_BYTES = 2 * 1024**3
#: Analyses kept per cache folder: after each write the least recently used beyond this many
#: are deleted (a national analysis is ~140 MiB; the user cache folder is never emptied by
#: deleting a reports folder, as ``<out>/.cache`` was).
MAX_ENTRIES = 12
_NUMPY_KINDS = "biufcmM"


def default_cache_dir() -> Path:
    """The user cache folder: ``$COPEVAL_CACHE_DIR``, ``$XDG_CACHE_HOME/copeval`` or
    ``~/.cache/copeval``."""
    explicit = os.environ.get("COPEVAL_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "copeval"


def folder_problem(folder: str | os.PathLike) -> str | None:
    """Why ``folder`` cannot hold this user's analyses (``None`` when it can).

    On POSIX systems a cache folder must belong to the current user and must not be
    writable by the group or others (as ``ssh`` requires of its folder): anyone who can write
    to it can plant an analysis with forged scores at the key a project computes. A folder
    that does not exist yet is fine (it is created 0700). Elsewhere nothing is checked.
    """
    if os.name != "posix" or not hasattr(os, "getuid"):
        return None
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if st.st_uid != os.getuid():
        return f"belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"can be written by other users (mode {st.st_mode & 0o777:o})"
    return None


def _file_problem(path: Path) -> str | None:
    problem = folder_problem(path.parent)
    if problem is not None:
        return f"the cache folder {path.parent} {problem}"
    if os.name == "posix" and hasattr(os, "getuid"):
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            return f"{path.name} belongs to another user or can be written by others"
    return None


def cache_file(cache_dir: str | os.PathLike, key: str) -> Path:
    """Path of the analysis ``key`` in ``cache_dir``."""
    return Path(cache_dir) / f"analysis-{key}.npz"


# --------------------------------------------------------------------------- writing
def _encode_column(col: pd.Series, prefix: str, arrays: dict) -> dict:
    """Arrays for one column in ``arrays``; returns its description."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in _NUMPY_KINDS:
        arrays[prefix] = col.to_numpy()
        return {"kind": "numpy"}
    name = str(dtype)
    if isinstance(dtype, pd.CategoricalDtype):
        raise UnsupportedColumnError(name)
    missing = col.isna().to_numpy()
    if hasattr(dtype, "numpy_dtype") and dtype.numpy_dtype.kind in "biuf":  # Int64, boolean
        fill = False if dtype.numpy_dtype.kind == "b" else 0
        arrays[prefix] = col.fillna(fill).to_numpy(dtype=dtype.numpy_dtype)
        arrays[prefix + "m"] = missing
        return {"kind": "masked", "dtype": name}
    values = [None if m else v for v, m in zip(col.tolist(), missing, strict=True)]
    present = [v for v in values if v is not None]
    if all(isinstance(v, str) for v in present):
        kind = "text"
        strings = [v if v is not None else "" for v in values]
    elif all(isinstance(v, tuple) and all(isinstance(x, str) for x in v) for v in present):
        kind = "tuples"
        strings = [json.dumps(list(v)) if v is not None else "" for v in values]
    else:
        raise UnsupportedColumnError(name)
    arrays[prefix] = np.array(strings, dtype=str) if strings else np.array([], dtype="<U1")
    arrays[prefix + "m"] = missing
    return {"kind": kind, "dtype": name if kind == "text" else "object"}


def _encode_frame(df: pd.DataFrame, prefix: str, arrays: dict) -> dict:
    index: dict
    if isinstance(df.index, pd.RangeIndex):
        index = {"range": [df.index.start, df.index.stop, df.index.step], "name": df.index.name}
        frame = df
    else:
        names = [n if n is not None else f"__index_{i}__" for i, n in enumerate(df.index.names)]
        index = {"levels": names, "names": list(df.index.names)}
        frame = df.copy()  # also consolidates a fragmented frame before reset_index
        frame.index = frame.index.set_names(names)
        frame = frame.reset_index()
    labels = list(frame.columns)
    for label in labels:
        if not isinstance(label, (str, int)) or isinstance(label, bool):
            raise UnsupportedColumnError(f"column label {label!r}")
    if isinstance(df.columns, pd.RangeIndex) and isinstance(df.index, pd.RangeIndex):
        columns = {"range": [df.columns.start, df.columns.stop, df.columns.step]}
    else:
        columns = {"dtype": str(df.columns.dtype)}
    if not isinstance(df.columns, pd.MultiIndex):
        columns["name"] = df.columns.name
    specs = []
    # columns of one NumPy dtype are stored as one 2-D block (the replicates have thousands)
    blocks: dict = {}
    for j in range(len(labels)):
        col = frame.iloc[:, j]
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in _NUMPY_KINDS:
            blocks.setdefault(col.dtype.str, []).append(j)
            specs.append({"kind": "block", "block": col.dtype.str})
        else:
            specs.append(_encode_column(col, f"{prefix}c{j}", arrays))
    for b, (dt, positions) in enumerate(blocks.items()):
        arrays[f"{prefix}b{b}"] = (
            frame.iloc[:, positions].to_numpy(dtype=np.dtype(dt))
            if len(frame)
            else np.empty((0, len(positions)), dtype=np.dtype(dt))
        )
        for k, j in enumerate(positions):
            specs[j] = {"kind": "block", "block": b, "col": k}
    return {
        "index": index,
        "columns": columns,
        "specs": specs,
        "rows": len(frame),
        "labels": labels,
    }


def save_tables(path: str | os.PathLike, tables: dict, meta: dict) -> list:
    """Write ``tables`` (key -> DataFrame or None) and JSON-able ``meta`` to ``path``.

    Keys are strings or tuples of strings/None. Tables this format cannot hold without
    Python objects are left out (returned, so callers can tell). Written atomically; the
    folder is created private (0700). Nothing is written to a folder another user owns or
    can write to (:func:`folder_problem`): every key is returned as left out.
    """
    if folder_problem(Path(path).parent) is not None:
        return list(tables)
    arrays: dict = {}
    entries = []
    skipped = []
    for i, (key, df) in enumerate(tables.items()):
        if df is None:
            entries.append({"key": _key_json(key), "none": True})
            continue
        try:
            local: dict = {}
            spec = _encode_frame(df, f"t{i}_", local)
        except UnsupportedColumnError:
            skipped.append(key)
            continue
        arrays.update(local)
        spec["key"] = _key_json(key)
        entries.append(spec)
    header = {"format": FORMAT, "meta": meta, "tables": entries}
    arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    folder = Path(path).parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_bytes(path, buffer.getvalue())
    prune(folder)
    return skipped


def touch(path: str | os.PathLike) -> None:
    """Mark a cache file as just used (its modification time orders :func:`prune`)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def prune(folder: str | os.PathLike, keep: int = MAX_ENTRIES) -> list[Path]:
    """Delete all but the ``keep`` most recently used analyses in ``folder``; returns them."""
    entries = []
    for f in Path(folder).glob("analysis-*.npz"):
        with contextlib.suppress(OSError):
            entries.append((f.stat().st_mtime_ns, f))
    entries.sort(reverse=True)
    removed = []
    for _, f in entries[keep:]:
        with contextlib.suppress(OSError):
            f.unlink()
            removed.append(f)
    return removed


# --------------------------------------------------------------------------- reading
def _key_json(key):
    return list(map(_key_json, key)) if isinstance(key, tuple) else key


def _key_py(key):
    return tuple(map(_key_py, key)) if isinstance(key, list) else key


def _decode_column(spec: dict, prefix: str, archive, blocks: dict) -> object:
    kind = spec["kind"]
    if kind == "block":
        return blocks[spec["block"]][:, spec["col"]]
    if kind == "numpy":
        return archive[prefix]
    values = archive[prefix]
    missing = archive[prefix + "m"].astype(bool)
    if kind == "masked":
        arr = pd.array(values, dtype=spec["dtype"])
        if missing.any():
            arr[missing] = pd.NA
        return arr
    if kind == "text":
        out = np.array(values.tolist(), dtype=object)
        out[missing] = np.nan
        if spec["dtype"] == "object":  # not inferred as a string dtype
            return pd.Series(out, dtype=object, copy=False)
        return pd.array(out, dtype=spec["dtype"])
    if kind == "tuples":
        out = np.empty(len(values), dtype=object)
        for i, (v, m) in enumerate(zip(values.tolist(), missing, strict=True)):
            out[i] = np.nan if m else tuple(str(x) for x in json.loads(v))
        return pd.Series(out, dtype=object, copy=False)
    raise CacheFormatError(f"unknown column kind {kind!r}")


def _decode_frame(spec: dict, prefix: str, archive) -> pd.DataFrame:
    n_blocks = 1 + max((s["block"] for s in spec["specs"] if s["kind"] == "block"), default=-1)
    blocks = {b: archive[f"{prefix}b{b}"] for b in range(n_blocks)}
    labels = spec["labels"]
    if n_blocks == 1 and blocks[0].ndim == 2 and blocks[0].shape[1] == len(labels):
        frame = pd.DataFrame(blocks[0], columns=range(len(labels)), copy=False)
    else:
        data = {
            j: _decode_column(col_spec, f"{prefix}c{j}", archive, blocks)
            for j, col_spec in enumerate(spec["specs"])
        }
        frame = pd.DataFrame(data, copy=False)
    frame.columns = labels
    index = spec["index"]
    if "range" in index:
        start, stop, step = index["range"]
        frame.index = pd.RangeIndex(start, stop, step, name=index.get("name"))
    else:
        frame = frame.set_index(index["levels"])
        frame.index = frame.index.set_names(index["names"])
    if "range" in spec["columns"]:
        frame.columns = pd.RangeIndex(*spec["columns"]["range"])
    else:
        frame.columns = pd.Index(list(frame.columns), dtype=spec["columns"]["dtype"])
    frame.columns.name = spec["columns"].get("name")
    return frame


def load_tables(path: str | os.PathLike) -> tuple[dict, dict]:
    """``(tables, meta)`` from a cache archive; :class:`CacheFormatError` if it cannot be
    read, or lies in a folder (or is a file) another user owns or can write to. Never
    unpickles anything (``allow_pickle=False``)."""
    path = Path(path)
    problem = _file_problem(path)
    if problem is not None:
        raise CacheFormatError(f"{problem}: not trusted")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CacheFormatError(f"{path.name}: larger than {MAX_BYTES} bytes")
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(archive["header"].tobytes().decode("utf-8"))
            if header.get("format") != FORMAT:
                raise CacheFormatError(f"{path.name}: cache layout {header.get('format')!r}")
            tables = {}
            for i, entry in enumerate(header["tables"]):
                key = _key_py(entry["key"])
                tables[key] = (
                    None if entry.get("none") else _decode_frame(entry, f"t{i}_", archive)
                )
            return tables, header.get("meta", {})
    except CacheFormatError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as exc:
        raise CacheFormatError(f"{path.name}: {type(exc).__name__}: {exc}") from None
