"""The ``"inprocess"`` engine: report notebooks run in the worker's own IPython shell.

The warm engine (:mod:`copeval.report.warm`) keeps a Jupyter kernel per worker: every cell
is a request over ZeroMQ, every output a message, and the kernel's IPython machinery
(output flushing, message signing, the I/O thread) costs about 0.2 CPU-seconds per full
report, a fifth of the report. This engine runs the same cells in an IPython
``InteractiveShell`` inside the worker process and builds the same outputs
(``display_data``, ``execute_result`` with its execution count, ``stream``, ``error``) from
IPython's own display publisher, display hook and traceback formatter; parameters are
injected by papermill's ``parameterize_notebook``, and before each report the shell gets
the state of a fresh start (:func:`copeval.report.kernel.reset`, as in a warm kernel).

What it gives up, and what stands in for it:

- isolation: a report that crashes the interpreter (a fault in a compiled library) kills the
  worker process, which the batch reports as that report's failure (``run_batch`` turns a
  dead worker into a failed job and goes on with a new process);
- the per-cell timeout is an alarm signal, so it works where the report runs in a process's
  main thread (the workers of a process pool, the usual case); in other threads cells are
  not timed out (use the ``warm`` engine there);
- one shell per process: reports of several threads of one process run one at a time.

Pipeline layer (``docs/architecture.md``): this module imports no report content.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import os
import signal
import sys
import threading

from copeval.errors import ReportExecutionError, ReportTimeoutError

__all__ = ["execute_notebook_inprocess", "warm_up"]

#: Modules imported before the first report (what report notebooks import).
PRELOAD = ("copeval.report",)
_LOCK = threading.Lock()
_STATE: dict = {}


class _Sink(io.TextIOBase):
    """A text stream whose writes become ``stream`` outputs of the current cell."""

    def __init__(self, name: str, outputs: list):
        self.name_ = name
        self.outputs = outputs

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        if not text:
            return 0
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == self.name_:
            last["text"] += text  # consecutive writes are one output, as nbclient merges them
        else:
            self.outputs.append({"output_type": "stream", "name": self.name_, "text": text})
        return len(text)


def _jsonable(data: dict) -> dict:
    out = {}
    for mime, value in (data or {}).items():
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode("ascii")
        out[mime] = value
    return out


def _shell():
    """This process's shell, made on first use, with output capture hooks installed."""
    shell = _STATE.get("shell")
    if shell is not None:
        return shell
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False):
            _STATE["outputs"].append(
                {
                    "output_type": "display_data",
                    "data": _jsonable(data),
                    "metadata": dict(metadata or {}),
                }
            )

        def clear_output(self, wait=False):
            _STATE["outputs"].clear()

    class Hook(DisplayHook):
        def start_displayhook(self):
            self._format = None

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            _STATE["outputs"].append(
                {
                    "output_type": "execute_result",
                    "data": _jsonable(format_dict),
                    "metadata": dict(md_dict or {}),
                    "execution_count": self.shell.execution_count,
                }
            )

        def finish_displayhook(self):
            pass

    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # as the warm kernels: no history on disk
    shell = InteractiveShell.instance(config=config, colors="nocolor", autoindent=False)
    shell.display_pub = Publisher(shell=shell, parent=shell)
    shell.displayhook = Hook(shell=shell, cache_size=0)
    shell.display_trap.hook = shell.displayhook

    def showtraceback(etype, evalue, stb):
        _STATE["outputs"].append(
            {
                "output_type": "error",
                "ename": etype.__name__ if etype is not None else "Error",
                "evalue": str(evalue),
                "traceback": list(stb),
            }
        )

    shell._showtraceback = showtraceback
    _STATE["outputs"] = []
    _STATE["shell"] = shell
    from .kernel import snapshot

    snapshot(PRELOAD)
    return shell


@contextlib.contextmanager
def _alarm(seconds: float):
    """Interrupt this thread after ``seconds`` (main thread, POSIX only), as a kernel is
    interrupted: ``KeyboardInterrupt`` in the running cell (which ``except Exception`` does
    not catch), with ``_STATE["timed_out"]`` set to tell it from a real Ctrl-C."""
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and seconds
        and seconds > 0
    )
    if not usable:
        yield
        return

    def fire(signum, frame):
        _STATE["timed_out"] = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def execute_notebook_inprocess(notebook, parameters: dict, *, cwd=None, timeout: int = 600):
    """Execute a report notebook in this process's shell; returns the executed notebook.

    Same parameters, result and errors as :func:`copeval.report.warm.execute_notebook_warm`
    (:class:`~copeval.errors.ReportExecutionError` naming the cell, ``ReportTimeoutError``
    when a cell runs longer than ``timeout`` seconds).
    """
    import nbformat

    from .render import read_notebook
    from .warm import _parameterize

    nb = notebook if hasattr(notebook, "cells") else read_notebook(notebook)
    nb = _parameterize(nb, parameters, "python3")
    nb.metadata["papermill"]["engine"] = "copeval-inprocess"
    cwd = os.fspath(cwd) if cwd is not None else None
    with _LOCK:
        caller = _caller_state()
        shell = _shell()
        from .kernel import reset

        reset(cwd)
        try:
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                outputs: list = []
                _STATE["outputs"] = outputs
                count = shell.execution_count
                stdout, stderr = _Sink("stdout", outputs), _Sink("stderr", outputs)
                _STATE["timed_out"] = False
                try:
                    with (
                        contextlib.redirect_stdout(stdout),
                        contextlib.redirect_stderr(stderr),
                        _alarm(timeout),
                    ):
                        result = shell.run_cell(cell.source, store_history=True, silent=False)
                except KeyboardInterrupt:
                    if not _STATE["timed_out"]:
                        raise
                if _STATE["timed_out"]:  # (IPython reports the interruption as an error)
                    raise ReportTimeoutError(
                        f"report cell {count} did not finish within {timeout} s"
                    )
                cell.execution_count = count
                cell.outputs = [nbformat.from_dict(copy.deepcopy(o)) for o in outputs]
                if not result.success:
                    error = next((o for o in outputs if o["output_type"] == "error"), None)
                    ename = error["ename"] if error else "Error"
                    evalue = error["evalue"] if error else str(result.error_in_exec or "")
                    raise ReportExecutionError(
                        f"report notebook failed in cell {count}: {ename}: {evalue}",
                        cell=count,
                        ename=ename,
                        evalue=evalue,
                    )
        finally:
            _STATE["outputs"] = []
            # leave the process as the report found it (a caller's own thread may run
            # reports): namespace, rcParams, warning filters, NumPy errors, sys.path, cwd
            with contextlib.suppress(Exception):
                reset(caller["cwd"])
            _restore(caller)
    return nb


def _caller_state() -> dict:
    """What a report may change in the process, as the caller has it now."""
    import warnings

    state = {
        "cwd": os.getcwd(),
        "sys.path": list(sys.path),
        "warnings": list(warnings.filters),
        # IPython installs its user namespace as sys.modules["__main__"] (a module without
        # __spec__): left there, a process pool started later by the caller fails in
        # multiprocessing's spawn preparation
        "__main__": sys.modules.get("__main__"),
    }
    if "numpy" in sys.modules:
        state["numpy.err"] = sys.modules["numpy"].geterr()
    if "matplotlib" in sys.modules:
        state["rcParams"] = dict(sys.modules["matplotlib"].rcParams)
    return state


def _restore(state: dict) -> None:
    import warnings

    with contextlib.suppress(OSError):
        os.chdir(state["cwd"])
    if state.get("__main__") is not None:
        sys.modules["__main__"] = state["__main__"]
    sys.path[:] = state["sys.path"]
    warnings.filters[:] = state["warnings"]
    warnings._filters_mutated()
    if "numpy.err" in state:
        sys.modules["numpy"].seterr(**state["numpy.err"])
    if "rcParams" in state:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dict.update(sys.modules["matplotlib"].rcParams, state["rcParams"])


def warm_up() -> bool:
    """Make this process's shell and import the report modules now (while the batch scores
    the project), instead of in the first report. Returns True."""
    with _LOCK:
        caller = _caller_state()
        try:
            _shell()
        finally:
            _restore(caller)
    return True
