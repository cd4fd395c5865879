"""Warm-kernel report engine, host side: one long-lived Jupyter kernel per worker, reused.

(The code the kernel itself runs, its snapshot and reset, is :mod:`copeval.report.kernel`;
this module is what the worker process runs. The engine is ``"warm"`` in
:mod:`copeval.report.engines`.)

Executing a report with papermill starts a fresh kernel, which then imports pandas,
matplotlib and copeval before the first cell does any work: most of a report's time on a
national batch. :class:`WarmKernel` starts a kernel once per worker (process, or thread of a
process), imports the report modules once, and executes each parameterised notebook in it
with nbclient; the HTML page and the PDF are then made in the worker from the executed
notebook (:mod:`copeval.report.render`), as with the papermill engine. The executed notebook is the same one papermill produces: the
parameters are injected by papermill's own ``parameterize_notebook`` after the cell tagged
``parameters``, and every report starts from a fresh namespace.

Known traps of warm kernels, and what is done about each:

- nbclient does not stop the kernel client it creates when it is given an existing kernel
  manager (``km=``): its ZMQ sockets would leak, about a dozen file descriptors per report.
  Here each kernel has one client, opened when the kernel starts and handed to nbclient for
  every report (which also saves connecting anew each time); its channels are stopped when
  the kernel is replaced or shut down.
- State left by one report would leak into the next. Before every run the kernel resets its
  user namespace and execution count (``InteractiveShell.reset(new_session=True)``),
  restores matplotlib's rcParams, warning filters, NumPy error handling, ``sys.path`` and
  the working directory to their state right after start-up, closes pyplot figures and
  clears copeval's ``functools`` caches (:func:`copeval.report.kernel.reset`). The loaded analysis
  (:meth:`copeval.report.data.ReportData.load`) is kept: it is keyed on the project's files
  and parameters, so the next report of the same project gets the same data a fresh kernel
  would load, without loading it again.
- Memory grows and kernels die. The kernel is restarted every ``restart_every`` reports
  (default 250: over 120 brief reports of a 340-site project a kernel's resident memory
  stayed within 423-427 MiB, and each restart costs a kernel start and a reload), after a
  timeout or an interruption, and whenever it has died; a report whose kernel died under
  it is retried once on a fresh kernel. (A report whose cell raised leaves
  a sound kernel: the next report's reset clears what it left.)
- Executions can hang (a cell waiting forever, a kernel that stops answering). Besides
  nbclient's per-cell timeout, every report has an outer ``job_timeout``; when it expires
  the kernel is restarted and the report fails with a clear error, and the batch goes on.

``tests/test_warm_engine.py`` proves a warm-engine report identical in content to a cold
papermill run of the same site.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import shutil
import tempfile
import threading
import weakref

from copeval.errors import CopevalError, ReportExecutionError, ReportTimeoutError

__all__ = [
    "DEFAULT_RESTART_EVERY",
    "ReportTimeoutError",
    "WarmKernel",
    "execute_notebook_warm",
    "warm_up",
    "worker_kernel",
]

#: Reports executed by one kernel before it is replaced by a fresh one.
DEFAULT_RESTART_EVERY = 250
#: Modules imported into a new kernel before its first report (what report notebooks import).
PRELOAD = ("copeval.report",)


# ------------------------------------------------------------------------------- worker side
class WarmKernel:
    """A Jupyter kernel kept running to execute many report notebooks, one after another.

    Parameters
    ----------
    kernel_name : str
        Kernel to start (``"python3"``: the interpreter running copeval, as papermill uses).
    restart_every : int
        Reports executed before the kernel is replaced by a fresh one (>= 1).
    start_timeout : float
        Seconds to wait for a kernel to start.
    preload : sequence of str
        Modules imported when a kernel starts.

    Not thread-safe: use one instance per thread (:func:`worker_kernel` does).
    """

    def __init__(
        self,
        *,
        kernel_name: str = "python3",
        restart_every: int = DEFAULT_RESTART_EVERY,
        start_timeout: float = 60,
        preload=PRELOAD,
    ):
        if int(restart_every) < 1:
            raise CopevalError(f"restart_every must be >= 1, got {restart_every!r}")
        self.kernel_name = kernel_name
        self.restart_every = int(restart_every)
        self.start_timeout = float(start_timeout)
        self.preload = tuple(preload)
        # kernel manager, client and socket folder, in a dict a finalizer can reach: a
        # kernel whose WarmKernel is dropped (its thread ended) or that is still running when
        # the interpreter exits is killed, and its files removed
        self._res: dict = {"km": None, "kc": None, "ipc_dir": None}
        self._finalizer = weakref.finalize(self, _release, self._res)
        self.runs_since_start = 0
        self.runs = 0
        self.starts = 0

    @property
    def km(self):
        """The kernel manager (None when no kernel is running)."""
        return self._res["km"]

    @property
    def kc(self):
        """The kernel's one client (None when no kernel is running)."""
        return self._res["kc"]

    # ---------------------------------------------------------------- lifecycle
    def _run(self, coro):
        from jupyter_core.utils import ensure_event_loop

        return ensure_event_loop().run_until_complete(coro)

    @property
    def alive(self) -> bool:
        if self.km is None or not self.km.has_kernel:
            return False
        return bool(self._run(self.km.is_alive()))

    def start(self) -> None:
        """Start a kernel (after shutting down any previous one) and preload the modules."""
        from jupyter_client.manager import AsyncKernelManager

        self.shutdown()
        if os.name == "posix":
            # Unix-domain sockets in a private folder: nothing listens on the network, and
            # no two kernels (threads, processes) can collide on a socket name -- the default
            # IPC name, "kernel-ipc-<n>" in the working directory, races between kernels
            self._res["ipc_dir"] = tempfile.mkdtemp(prefix="copeval-kernel-")
            km = AsyncKernelManager(
                kernel_name=self.kernel_name,
                transport="ipc",
                ip=os.path.join(self._res["ipc_dir"], "k"),
            )
        else:
            km = AsyncKernelManager(kernel_name=self.kernel_name)
        self._run(km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"]))
        self._res["km"] = km
        self.runs_since_start = 0
        self.starts += 1

        async def connect():
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=self.start_timeout)
            except BaseException:
                kc.stop_channels()
                raise
            return kc

        self._res["kc"] = self._run(connect())
        code = (
            "import copeval.report.kernel as _copeval_kernel\n"
            f"_copeval_kernel.snapshot({self.preload!r})\n"
            "del _copeval_kernel\n"
        )
        self._run(self._execute_code(code, timeout=self.start_timeout + 120, what="set-up"))

    def shutdown(self) -> None:
        """Stop the kernel and its client, if one is running."""
        kc, self._res["kc"] = self._res["kc"], None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        km, self._res["km"] = self._res["km"], None
        if km is not None:
            with contextlib.suppress(Exception):  # already dead: nothing to stop
                if km.has_kernel:
                    self._run(km.shutdown_kernel(now=True))
            with contextlib.suppress(Exception):
                self._run(km.cleanup_resources())
        _release(self._res)  # whatever is left (a socket folder)

    def __enter__(self) -> WarmKernel:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    async def _execute_code(self, code: str, *, timeout: float, what: str) -> None:
        """Run ``code`` silently in the kernel (no history, no execution count)."""
        reply = await self.kc.execute_interactive(
            code,
            store_history=False,
            allow_stdin=False,
            timeout=timeout,
            output_hook=lambda msg: None,
        )
        content = reply.get("content", {})
        if content.get("status") != "ok":
            ename, evalue = content.get("ename", "error"), content.get("evalue", "")
            raise ReportExecutionError(
                f"warm kernel {what} failed: {ename}: {evalue}", ename=ename, evalue=evalue
            )

    # ---------------------------------------------------------------- execution
    def execute(
        self,
        notebook,
        parameters: dict,
        *,
        cwd=None,
        timeout: int = 600,
        job_timeout: float | None = None,
    ):
        """Execute a report notebook with ``parameters`` injected; returns the executed notebook.

        Parameters
        ----------
        notebook : NotebookNode, str or Path
            The notebook (a jupytext ``.py`` or an ``.ipynb`` path, or a NotebookNode).
        parameters : dict
            Values injected after the ``parameters`` cell (site IDs as ``str``).
        cwd : path, optional
            Working directory of the notebook.
        timeout : int
            Seconds any one cell may run.
        job_timeout : float, optional
            Seconds the whole notebook may run (default: three times ``timeout``, at least
            60); on expiry the kernel is restarted and :class:`ReportTimeoutError` raised.

        Raises
        ------
        ReportExecutionError
            When a cell raises (message: cell number, error name and value).
        ReportTimeoutError
            When the job timeout expires.
        """
        from nbclient.exceptions import DeadKernelError

        from .render import read_notebook

        nb = notebook if hasattr(notebook, "cells") else read_notebook(notebook)
        prepared = _parameterize(nb, parameters, self.kernel_name)
        limit = job_timeout if job_timeout is not None else max(60.0, 3.0 * timeout)
        for attempt in (1, 2):
            if self.km is None or self.runs_since_start >= self.restart_every or not self.alive:
                self.start()
            try:
                result = self._execute_once(copy.deepcopy(prepared), cwd, timeout, limit)
            except DeadKernelError:
                self.shutdown()
                if attempt == 2:
                    raise CopevalError(
                        "the report's kernel died twice (out of memory, or a crash in a "
                        "compiled library)"
                    ) from None
                continue
            except ReportExecutionError:
                raise  # a cell raised: the kernel is sound, the next reset clears its state
            except BaseException:
                self.shutdown()  # timed out or interrupted: start the next report afresh
                raise
            finally:
                self.runs_since_start += 1
                self.runs += 1
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _execute_once(self, nb, cwd, timeout, limit):
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        cwd = os.fspath(cwd) if cwd is not None else None

        client = NotebookClient(
            nb,
            km=self.km,
            timeout=timeout,
            startup_timeout=int(self.start_timeout),
            kernel_name=self.kernel_name,
            allow_errors=False,
            record_timing=True,
        )
        # Hand nbclient this kernel's one client: nbclient would otherwise open a new client
        # per notebook and, not owning the kernel, never stop its channels (a dozen leaked
        # file descriptors per report). This client is stopped when the kernel is replaced.
        # It must stay the kernel's only client: clients made by km.client() share one
        # session, hence one ZMQ identity, and the kernel sends replies to the newest.
        client.kc = self.kc
        # one expression, no name left behind: the reset clears the user namespace
        reset = f"__import__('copeval.report.kernel', fromlist=['reset']).reset({cwd!r})\n"

        async def run():
            await self._execute_code(reset, timeout=60, what="reset")
            # not asyncio.wait_for: nbclient turns a cancelled cell into DeadKernelError
            task = asyncio.ensure_future(client.async_execute())
            try:
                done, _ = await asyncio.wait({task}, timeout=limit)
                if not done:
                    # cancel the execution and nbclient's helper tasks (message and
                    # kernel-alive polling); this thread's event loop runs nothing else
                    current = asyncio.current_task()
                    pending = [t for t in asyncio.all_tasks() if t is not current]
                    for t in pending:
                        t.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    raise ReportTimeoutError(
                        f"report did not finish within {limit:g} s (job timeout); its "
                        "kernel was restarted"
                    )
                return task.result()
            finally:
                client.kc = None  # the client belongs to this WarmKernel, not to nbclient

        try:
            return self._run(run())
        except CellExecutionError as exc:
            cell = next(
                (
                    c
                    for c in nb.cells
                    if c.cell_type == "code"
                    and any(o.get("output_type") == "error" for o in c.get("outputs", []))
                ),
                None,
            )
            count = cell.get("execution_count") if cell is not None else None
            raise ReportExecutionError(
                f"report notebook failed in cell {count}: {exc.ename}: {exc.evalue}",
                cell=count,
                ename=exc.ename,
                evalue=exc.evalue,
            ) from None


def _parameterize(nb, parameters: dict, kernel_name: str):
    """The notebook prepared and parameterised exactly as papermill prepares it (metadata
    defaults as ``papermill.iorw.load_notebook_node`` adds them, then
    ``papermill.parameterize.parameterize_notebook``)."""
    import nbformat
    import papermill
    from papermill.parameterize import parameterize_notebook

    nb = copy.deepcopy(nb)
    nb = nbformat.v4.upgrade(nb) or nb
    if "papermill" not in nb.metadata:
        nb.metadata["papermill"] = {
            "default_parameters": {},
            "parameters": {},
            "environment_variables": {},
            "version": papermill.__version__,
        }
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    nb = parameterize_notebook(nb, dict(parameters), kernel_name=kernel_name, language="python")
    nb.metadata["papermill"]["engine"] = "copeval-warm"
    return nb


def _release(res: dict) -> None:
    """Kill a kernel without an event loop and remove its files (finalizer, at exit)."""
    kc, km, folder = res.get("kc"), res.get("km"), res.get("ipc_dir")
    res.update(kc=None, km=None, ipc_dir=None)
    if kc is not None:
        with contextlib.suppress(Exception):
            kc.stop_channels()
    if km is not None:
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(Exception):
                process.kill()
                process.wait(5)
        with contextlib.suppress(Exception):
            km.cleanup_connection_file()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


_LOCAL = threading.local()


def worker_kernel(**options) -> WarmKernel:
    """This thread's warm kernel, created on first use.

    ``options`` (as for :class:`WarmKernel`) apply when the kernel is created. The kernel is
    stopped when the thread ends or the process exits.
    """
    kernel = getattr(_LOCAL, "kernel", None)
    if kernel is None:
        kernel = WarmKernel(**options)
        _LOCAL.kernel = kernel
    return kernel


def execute_notebook_warm(
    notebook,
    parameters: dict,
    *,
    cwd=None,
    timeout: int = 600,
    job_timeout: float | None = None,
    restart_every: int = DEFAULT_RESTART_EVERY,
):
    """Execute a report notebook in this worker's warm kernel.

    A drop-in replacement for :func:`copeval.report.render.execute_notebook` (same
    parameters and result); see :meth:`WarmKernel.execute`.
    """
    kernel = worker_kernel(restart_every=restart_every)
    return kernel.execute(notebook, parameters, cwd=cwd, timeout=timeout, job_timeout=job_timeout)


def warm_up() -> bool:
    """Start this worker's warm kernel now (it would start with the worker's first report).

    :func:`copeval.report.batch.run_batch` sends one to each worker of its own process pool
    (through the engine's ``warm_up``) while it scores the project, so kernels start on otherwise idle cores. Returns True
    when a kernel is running; a kernel that cannot start is left to the first report, which
    then fails with the reason.
    """
    kernel = worker_kernel()
    try:
        if kernel.km is None:
            kernel.start()
    except Exception:
        kernel.shutdown()
        return False
    return True
