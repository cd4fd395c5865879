"""The code that runs *inside* a warm report kernel (nothing here runs on the host).

A warm kernel (:mod:`copeval.report.warm`) executes one report after another. When it
starts, the host has it run :func:`snapshot` (import the report modules once, record the
state a fresh kernel has); before each report, :func:`reset` (give the report that state
again: a fresh user namespace and execution count, matplotlib's rcParams, warning filters,
NumPy's error handling, ``sys.path``, the working directory; pyplot figures closed;
copeval's ``functools`` caches cleared). The loaded analysis kept by
:meth:`copeval.report.data.ReportData.load` survives on purpose: it is keyed on the
project's files and parameters.

This module imports nothing from copeval at import time (the kernel imports it by name;
:func:`snapshot` imports what it is told to preload), so it belongs to neither layer's
content.
"""

from __future__ import annotations

import os
import sys

__all__ = ["FULL_COLLECT_EVERY", "reset", "snapshot"]

#: Every this many reports a warm kernel unfreezes and fully collects its garbage.
FULL_COLLECT_EVERY = 25
_STATE: dict = {}


def snapshot(preload) -> None:
    """Import the report modules and record the state every report starts from."""
    import importlib
    import warnings

    for name in preload:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):  # a package's lazily imported names
            getattr(module, attr, None)
    import numpy as np

    state = {
        "sys.path": list(sys.path),
        "warnings": list(warnings.filters),
        "numpy.err": np.geterr(),
        "cwd": os.getcwd(),
    }
    if "matplotlib" in sys.modules:
        import matplotlib as mpl

        state["rcParams"] = dict(mpl.rcParams)
    _STATE.clear()
    _STATE.update(state)


def reset(cwd: str | None) -> None:
    """Give the next report the state of a kernel that has just started (see module doc)."""
    import warnings

    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.reset(new_session=True)  # user namespace, Out/_ history, execution count
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if "rcParams" in _STATE and "matplotlib" in sys.modules:
        import matplotlib as mpl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dict.update(mpl.rcParams, _STATE["rcParams"])
    if "warnings" in _STATE:
        warnings.filters[:] = _STATE["warnings"]
        warnings._filters_mutated()  # invalidate the filters cache, as warnings' own API does
    if "numpy.err" in _STATE and "numpy" in sys.modules:
        sys.modules["numpy"].seterr(**_STATE["numpy.err"])
    if "sys.path" in _STATE:
        sys.path[:] = _STATE["sys.path"]
    _clear_caches()
    os.chdir(cwd or _STATE.get("cwd", os.getcwd()))
    # What survives the reset (modules, the loaded analysis kept by copeval.report.data)
    # moves to the permanent generation, so the next reset's collection (IPython's reset
    # runs one) scans only what the last report created: 0.07 s less per report with a
    # national project in memory. That collection runs before the namespace is cleared, so
    # some cyclic garbage of the last report is frozen too: every FULL_COLLECT_EVERY resets
    # everything is unfrozen and collected once, which bounds what can wait there.
    import gc

    _STATE["resets"] = _STATE.get("resets", 0) + 1
    if _STATE["resets"] % FULL_COLLECT_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def _clear_caches() -> None:
    """Clear the ``functools`` caches of copeval's modules (templates, labels...)."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "copeval" or name.startswith("copeval.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()
