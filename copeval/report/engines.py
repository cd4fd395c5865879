"""Report engines: how a worker executes a report notebook, by name.

An engine executes a parameterised report notebook and returns the executed notebook
(outputs in place); the batch (:mod:`copeval.report.batch`) then makes the HTML page and the
PDF from it, whatever the engine. Both engines give the same report
(``tests/test_warm_engine.py``):

- ``"warm"`` (default): one long-lived Jupyter kernel per worker, reused for every report
  it renders (:mod:`copeval.report.warm`);
- ``"inprocess"``: each worker's own IPython shell, no kernel and no messages
  (:mod:`copeval.report.inprocess`): about 0.2 CPU-seconds less per full report, at the
  price of isolation (a crash takes the worker with it);
- ``"papermill"``: a fresh kernel per report (:func:`copeval.report.render.execute_notebook`).

Engines are looked up by name, as papermill's own ``engines.py`` does
(:func:`get_engine`: ``No engine named 'x'. Available: papermill, warm``), so a job names
its engine with a string that crosses process boundaries (process pools, Dask) unchanged.
:func:`register_engine` adds one (e.g. a test engine, or a site's own).

Pipeline layer (``docs/architecture.md``): this module imports no report content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from copeval.errors import CopevalError

__all__ = ["DEFAULT_ENGINE", "Engine", "engine_names", "get_engine", "register_engine"]

#: The engine a batch uses unless told otherwise.
DEFAULT_ENGINE = "warm"


@dataclass(frozen=True)
class Engine:
    """A named way of executing report notebooks.

    Attributes
    ----------
    name : str
    execute : callable
        ``execute(notebook, parameters, *, cwd, timeout) -> NotebookNode``: the notebook
        (a NotebookNode) with ``parameters`` injected after its ``parameters`` cell, run to
        the end; raises :class:`~copeval.errors.ReportExecutionError` when a cell fails.
    warm_up : callable or None
        ``warm_up() -> bool``: prepare this worker (start its kernel) before the first
        report; run in each worker of a batch's own process pool while the project is
        scored. None: nothing to prepare.
    description : str
        One line for ``--help``.
    """

    name: str
    execute: Callable
    warm_up: Callable | None = None
    description: str = ""


def _papermill_execute(notebook, parameters, *, cwd=None, timeout=600):
    from .render import execute_notebook

    return execute_notebook(notebook, parameters, cwd=cwd, timeout=timeout)


def _warm_execute(notebook, parameters, *, cwd=None, timeout=600):
    from .warm import execute_notebook_warm

    return execute_notebook_warm(notebook, parameters, cwd=cwd, timeout=timeout)


def _inprocess_execute(notebook, parameters, *, cwd=None, timeout=600):
    from .inprocess import execute_notebook_inprocess

    return execute_notebook_inprocess(notebook, parameters, cwd=cwd, timeout=timeout)


def _inprocess_warm_up() -> bool:
    from .inprocess import warm_up

    return warm_up()


def _warm_up() -> bool:
    from .warm import warm_up

    return warm_up()


_ENGINES: dict[str, Engine] = {
    "inprocess": Engine(
        "inprocess",
        _inprocess_execute,
        _inprocess_warm_up,
        "the worker's own IPython shell, no kernel (fastest; see copeval.report.inprocess)",
    ),
    "papermill": Engine(
        "papermill", _papermill_execute, None, "a fresh Jupyter kernel per report (slower)"
    ),
    "warm": Engine(
        "warm", _warm_execute, _warm_up, "one Jupyter kernel per worker, reused for its reports"
    ),
}


def engine_names() -> list[str]:
    """Names of the registered engines, sorted."""
    return sorted(_ENGINES)


def get_engine(name: str) -> Engine:
    """The engine registered as ``name``; a :class:`CopevalError` listing them otherwise."""
    engine = _ENGINES.get(name) if isinstance(name, str) else None
    if engine is None:
        raise CopevalError(f"No engine named {name!r}. Available: {', '.join(engine_names())}")
    return engine


def register_engine(engine: Engine, *, replace: bool = False) -> Engine:
    """Add ``engine`` to the registry (``replace=True`` to replace one of the same name).

    Engines registered at run time exist in the process that registered them: for a process
    pool, register them in a module the workers import.
    """
    if not isinstance(engine, Engine):
        raise CopevalError(f"register_engine needs an Engine, not {type(engine).__name__}")
    if engine.name in _ENGINES and not replace:
        raise CopevalError(f"An engine named {engine.name!r} is already registered")
    _ENGINES[engine.name] = engine
    return engine
