"""Batch rendering of many reports: parallel, resumable, atomic, and honest about failures.

A batch is a list of :class:`~copeval.report.job.ReportJob` (one report = one site or
comparison in one language), usually made by :func:`~copeval.report.job.plan_jobs`.
:func:`run_batch` runs them on any :class:`concurrent.futures.Executor` (default: a process
pool with one worker per core; a Dask cluster's ``Client.get_executor()`` works unchanged),
with a progress bar. A failing report never stops the others: its error is collected and
summarised at the end.

Each job (:func:`render_report`) executes its notebook with an engine
(:mod:`copeval.report.engines`: by default in its worker's warm kernel), makes the HTML page
and the PDF from the executed notebook (:mod:`copeval.report.render`) in memory and writes
the outputs atomically (:func:`copeval._io.atomic_write_bytes`): a reader, or a killed
batch, never sees a half-written PDF. The executed notebook is kept beside the PDF for
audit. A manifest (``<stem>.manifest.json``) is written last: it records the job's input
fingerprint (:func:`~copeval.report.job.input_fingerprint`) and the hash of each output, so
``resume=True`` skips exactly the reports whose outputs are complete and whose inputs have
not changed.

Scoring the project once per batch, before the workers need it, is the caller's
``prepare`` (``copeval.report.api`` passes one that loads and caches the analysis; the
pipeline does not know what a report's data is). It runs in this process while each worker
of the batch's own pool starts its kernel.

One batch at a time writes to an output folder: :func:`run_batch` holds an exclusive lock
on ``<out>/.copeval-reports`` (which also marks the folder as outputs, so a reports folder
inside the project never counts as a project input); a second batch into the same folder
stops with a one-line error naming the folder and the first batch's process ID.

Pipeline layer (``docs/architecture.md``): this module imports no report content.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from copeval import __version__
from copeval._io import REPORTS_MARKER, atomic_write_bytes, atomic_write_text, remove_stale_parts
from copeval.errors import CopevalError, OutputBusyError, ReportExecutionError

from .engines import DEFAULT_ENGINE, engine_names, get_engine
from .job import (
    FORMATS,
    JobResult,
    ReportJob,
    hash_project,
    input_fingerprint,
    is_complete,
    plan_jobs,
    resolve_sites,
)

__all__ = [
    "FORMATS",
    "BatchResult",
    "JobResult",
    "OutputBusyError",
    "OutputLock",
    "ReportJob",
    "engine_runner",
    "input_fingerprint",
    "is_complete",
    "plan_jobs",
    "render_report",
    "resolve_sites",
    "run_batch",
    "run_job",
]

#: Where copeval < 0.2 cached analyses (pickles holding raw texts), inside the reports folder.
LEGACY_CACHE_DIRNAME = ".cache"
#: The lock file of a reports folder (also marks it as outputs; see copeval._io.tree_files).
LOCK_NAME = REPORTS_MARKER


def __getattr__(name):
    if name == "ENGINES":  # the engine names, as a tuple (older callers)
        return tuple(engine_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class BatchResult:
    """All job results of a batch, in the order the jobs were given."""

    results: list
    seconds: float

    @property
    def done(self) -> list[JobResult]:
        return [r for r in self.results if r.status == "done"]

    @property
    def skipped(self) -> list[JobResult]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def timings(self) -> dict[str, float]:
        """Mean seconds of each step (``execute``, ``html``, ``pdf``, ``write``) over the
        reports rendered (in their workers)."""
        out: dict = {}
        for r in self.done:
            for k, v in r.timings.items():
                out.setdefault(k, []).append(v)
        return {k: sum(v) / len(v) for k, v in out.items()}

    def summary(self) -> str:
        """Multi-line text: counts, timing, skipped reports and every failure with its error."""
        lines = [
            f"{len(self.done)} report(s) rendered, {len(self.skipped)} skipped (unchanged), "
            f"{len(self.failed)} failed, in {self.seconds:.1f} s"
        ]
        if self.done:
            per = [r.seconds for r in self.done]
            steps = ", ".join(f"{k} {v:.2f}" for k, v in self.timings().items())
            lines.append(
                f"  seconds per report (in its worker): mean {sum(per) / len(per):.2f}, "
                f"max {max(per):.2f} ({steps})"
            )
        if self.skipped:
            lines.append(
                "  skipped (outputs complete, inputs unchanged): "
                + ", ".join(r.job.label for r in self.skipped)
            )
        for r in self.failed:
            lines.append(f"  FAILED {r.job.label}: {r.error}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------- one job
def render_report(
    job: ReportJob,
    *,
    fingerprint: str | None = None,
    execute: Callable | None = None,
    engine: str = "papermill",
) -> JobResult:
    """Execute one report notebook and write its outputs atomically. Raises on failure.

    The outputs are produced in memory first (executed notebook, HTML, PDF) and only then
    written, each atomically; the manifest is removed at the start and written last, so a
    report is "complete" only once all its files are in place. ``execute`` runs the notebook
    (default: the ``engine``'s, see :mod:`copeval.report.engines`; ``"papermill"``, a fresh
    kernel, unless told otherwise).
    """
    import nbformat

    from .render import export_html, export_pdf, pdf_route, read_notebook, sanitize_outputs

    execute = execute or get_engine(engine).execute
    start = time.perf_counter()
    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = job.outputs()
    for path in [*paths.values(), job.manifest_path]:
        remove_stale_parts(out, path.name)
    job.manifest_path.unlink(missing_ok=True)
    fingerprint = fingerprint or input_fingerprint(job)

    timings = {}
    t0 = time.perf_counter()
    nb = read_notebook(job.notebook_file())
    executed = execute(nb, job.parameters(), cwd=job.out_dir, timeout=job.timeout)
    timings["execute"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # the executed notebook is kept for audit: its HTML outputs meet the page's rule
    sanitize_outputs(executed)
    route = pdf_route(executed) if "pdf" in paths else None
    html = export_html(executed) if ("html" in paths or route == "weasyprint") else None
    timings["html"] = time.perf_counter() - t0
    blobs = {}
    if "html" in paths:
        blobs["html"] = html.encode("utf-8")
    if "pdf" in paths:
        t0 = time.perf_counter()
        blobs["pdf"] = export_pdf(executed, html=html)
        timings["pdf"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    blobs["ipynb"] = nbformat.writes(executed).encode("utf-8")
    recorded = {}
    for fmt, blob in blobs.items():
        atomic_write_bytes(paths[fmt], blob)
        recorded[fmt] = {
            "file": paths[fmt].name,
            "bytes": len(blob),
            "sha256": hashlib.sha256(blob).hexdigest(),
        }
    seconds = time.perf_counter() - start
    manifest = {
        "report": job.stem,
        "inputs": fingerprint,
        "job": {k: v for k, v in asdict(job).items() if k != "cache_dir"},  # a local path
        "outputs": recorded,
        "copeval": __version__,
        "seconds": round(seconds, 3),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if route is not None:
        manifest["pdf_route"] = route  # "typst", or "weasyprint" for HTML-only outputs
    atomic_write_text(job.manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False))
    timings["write"] = time.perf_counter() - t0
    return JobResult(
        job=job,
        status="done",
        seconds=time.perf_counter() - start,
        outputs={k: str(v) for k, v in paths.items()},
        timings=timings,
    )


def _error_line(exc: BaseException) -> str:
    """One line for a failed report: the message of a copeval error, the file and reason of
    a file-system error (read-only or full folder), else the exception's type and text."""
    if isinstance(exc, CopevalError):
        message = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"cannot write {where}{exc.strerror}"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return message.strip().splitlines()[0] if message.strip() else type(exc).__name__


def run_job(
    job: ReportJob,
    fingerprint: str | None = None,
    *,
    execute: Callable | None = None,
    engine: str = "papermill",
) -> JobResult:
    """:func:`render_report`, returning a ``"failed"`` result instead of raising."""
    start = time.perf_counter()
    try:
        return render_report(job, fingerprint=fingerprint, execute=execute, engine=engine)
    except Exception as exc:  # one failing report must not stop the batch
        return JobResult(
            job=job,
            status="failed",
            seconds=time.perf_counter() - start,
            error=_error_line(exc),
            detail=traceback.format_exc(),
            missing=_missing_module(exc),
        )


_NO_MODULE = re.compile(r"No module named '([^']+)'")


def _missing_module(exc: BaseException) -> str:
    """The top-level module a failure could not import ("" when it is another failure): a
    ``ModuleNotFoundError`` in the worker, or one raised by a notebook cell in the kernel."""
    if isinstance(exc, ModuleNotFoundError):
        return (exc.name or "").split(".")[0]
    if isinstance(exc, ReportExecutionError) and exc.ename == "ModuleNotFoundError":
        match = _NO_MODULE.search(str(exc.evalue or ""))
        return match.group(1).split(".")[0] if match else ""
    return ""


# ------------------------------------------------------------------------------- batch
def engine_runner(engine: str) -> Callable[..., JobResult]:
    """The picklable ``runner(job, fingerprint)`` of a registered engine."""
    get_engine(engine)  # an unknown name fails here, in the caller, not in every worker
    return functools.partial(run_job, engine=engine)


def default_executor(max_workers: int | None = None) -> cf.Executor:
    """A process pool (``spawn`` start method) with ``max_workers`` or one worker per core."""
    n = max_workers or os.cpu_count() or 1
    return cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))


def prepare_output(out: str | os.PathLike) -> Path:
    """Create the output folder if needed; a one-line :class:`CopevalError` when ``out`` is a
    file, cannot be created, or cannot be written to."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CopevalError(f"--out {out} is a file, not a folder: give a folder for the reports")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CopevalError(
            f"cannot create the output folder {out}: {exc.strerror or exc}"
        ) from None
    return out


#: Output folders this process holds locked: resolved path -> [file descriptor, users].
_HELD: dict = {}
_HELD_GUARD = threading.Lock()


class OutputLock:
    """An exclusive lock on an output folder for the length of a batch (``fcntl.flock``).

    The lock file ``<out>/.copeval-reports`` holds the process ID of the batch holding it and
    stays after the batch (it marks the folder as a reports folder). The lock is between
    processes: a second copeval process stops at once; batches started by threads of the
    process holding it share it (``copeval report`` and ``copeval compare`` side by side in
    one notebook write different files). It is released when the last of them ends, or
    when the process dies. Where ``fcntl`` is missing (Windows) nothing is locked.
    """

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        self.path = self.out / LOCK_NAME
        self._key = str(self.out.resolve())
        self._held = False

    def acquire(self) -> OutputLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        with _HELD_GUARD:
            held = _HELD.get(self._key)
            if held is not None:
                held[1] += 1
                self._held = True
                return self
            fd = self._lock(fcntl)
            _HELD[self._key] = [fd, 1]
            self._held = True
        return self

    def _lock(self, fcntl) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CopevalError(
                f"cannot write to the output folder {self.out}: {exc.strerror or exc}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise OutputBusyError(
                f"another copeval run (PID {holder}) is writing to {self.out}; wait for it to "
                "finish or choose another --out"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError as exc:
            os.close(fd)
            raise CopevalError(
                f"cannot write to the output folder {self.out}: {exc.strerror or exc}"
            ) from None
        return fd

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        import fcntl

        with _HELD_GUARD:
            held = _HELD.get(self._key)
            if held is None:  # pragma: no cover - released twice
                return
            held[1] -= 1
            if held[1] == 0:
                del _HELD[self._key]
                fcntl.flock(held[0], fcntl.LOCK_UN)
                os.close(held[0])

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def remove_legacy_cache(out: str | os.PathLike) -> list[Path]:
    """Delete analysis pickles an older copeval left in ``<out>/.cache`` (they held every raw
    text, consent ``none`` included, and were unpickled on the next run). Returns them."""
    folder = Path(out) / LEGACY_CACHE_DIRNAME
    if not folder.is_dir() or folder.is_symlink():
        return []
    removed = []
    for f in folder.glob("analysis-*.pickle"):
        f.unlink(missing_ok=True)
        removed.append(f)
    for f in folder.glob(".analysis-*.part"):
        f.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty
    return removed


def run_batch(
    jobs: Sequence[ReportJob],
    *,
    executor: cf.Executor | None = None,
    max_workers: int | None = None,
    resume: bool = False,
    progress: bool = True,
    runner: Callable[..., JobResult] | None = None,
    engine: str = DEFAULT_ENGINE,
    prepare: Callable | None = None,
    log: Callable[[str], None] | None = None,
) -> BatchResult:
    """Render many reports in parallel; failures are collected, never raised.

    Parameters
    ----------
    jobs : sequence of ReportJob
        Usually from :func:`~copeval.report.job.plan_jobs`.
    executor : concurrent.futures.Executor, optional
        Where jobs run. Default: a process pool of ``max_workers`` (default: one per core),
        created and shut down here. Any executor works, e.g. a Dask cluster's
        ``Client.get_executor()``; a caller-supplied executor is left running.
    max_workers : int, optional
        Size of the default process pool.
    resume : bool
        Skip jobs whose outputs are complete and whose inputs have not changed.
    progress : bool
        Show a progress bar on stderr.
    runner : callable, optional
        ``runner(job, fingerprint) -> JobResult``, run in the workers; must be picklable
        for process pools. Default: :func:`run_job` with ``engine``.
    engine : str
        The engine that executes the notebooks when no ``runner`` is given (a name in
        :mod:`copeval.report.engines`: ``"warm"``, the default, or ``"papermill"``).
    prepare : callable, optional
        ``prepare(jobs, n_jobs)``, called in this process with the jobs about to run (after
        ``resume`` has skipped the others) and the number of threads it may use, while the
        workers start their kernels: :func:`copeval.report.api.score_once` scores each
        project once for all of them. None: each report loads its own data.
    log : callable, optional
        Receives one line per skipped or failed job (default: written above the progress bar).

    Returns
    -------
    BatchResult
    """
    start = time.perf_counter()
    if runner is None:
        runner = engine_runner(engine)
        warm_up = get_engine(engine).warm_up
    else:
        warm_up = None
    jobs = list(jobs)
    stems = [(j.out_dir, j.stem) for j in jobs]
    dupes = {s for o, s in stems if stems.count((o, s)) > 1}
    if dupes:
        raise CopevalError(f"Two jobs would write the same report: {', '.join(sorted(dupes))}")
    outs = sorted({j.out_dir for j in jobs})
    with contextlib.ExitStack() as stack:
        for out in outs:
            stack.enter_context(OutputLock(prepare_output(out)))
        say = log or (lambda msg: print(msg, file=sys.stderr))
        for out in outs:
            removed = remove_legacy_cache(out)
            if removed:
                say(
                    f"removed {len(removed)} analysis cache file(s) an older copeval left in "
                    f"{Path(out) / LEGACY_CACHE_DIRNAME} (they held raw texts)"
                )
        return _run_batch(
            jobs,
            outs,
            start=start,
            executor=executor,
            max_workers=max_workers,
            resume=resume,
            progress=progress,
            runner=runner,
            warm_up=warm_up,
            prepare=prepare,
            log=log,
        )


def _schedule(jobs: Sequence[ReportJob], todo: list[int]) -> list[int]:
    """``todo`` in the order to submit: the longest reports (comparisons, then full site
    reports) first, so that no worker is left with a long report while the others are idle
    at the end of the batch; otherwise in the order given."""

    def cost(i):
        job = jobs[i]
        return 0 if job.kind != "site" else (1 if job.profile == "full" else 2)

    return sorted(todo, key=cost)


def _run_batch(
    jobs, outs, *, start, executor, max_workers, resume, progress, runner, warm_up, prepare, log
) -> BatchResult:
    from tqdm.auto import tqdm

    project_hashes = {p: hash_project(p, exclude=outs) for p in {j.project for j in jobs}}
    shared: dict = {}
    fingerprints = [
        input_fingerprint(j, project_hash=project_hashes[j.project], shared=shared) for j in jobs
    ]
    results: list[JobResult | None] = [None] * len(jobs)
    bar = tqdm(
        total=len(jobs),
        desc="reports",
        unit="report",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    say = log or (lambda msg: bar.write(msg, file=sys.stderr))
    todo = []
    for i, (job, fp) in enumerate(zip(jobs, fingerprints, strict=True)):
        if resume and is_complete(job, fp):
            results[i] = JobResult(
                job=job, status="skipped", outputs={k: str(v) for k, v in job.outputs().items()}
            )
            say(f"skipped {job.label}: outputs complete and inputs unchanged")
            bar.update(1)
        else:
            todo.append(i)
    own = executor is None and bool(todo)
    n_workers = min(max_workers or os.cpu_count() or 1, max(len(todo), 1))
    if own:
        executor = default_executor(n_workers)
    try:
        if todo and prepare is not None:
            # start the workers' kernels while this process scores the project
            warming = (
                [executor.submit(warm_up) for _ in range(n_workers)] if own and warm_up else []
            )
            bar.set_postfix_str("scoring")
            prepare([jobs[i] for i in todo], max_workers or os.cpu_count() or 1)
            cf.wait(warming)
            bar.set_postfix_str("")
        futures = {}
        for i in _schedule(jobs, todo):
            try:
                futures[executor.submit(runner, jobs[i], fingerprints[i])] = i
            except Exception as exc:  # the pool itself broke (a worker died starting up)
                results[i] = JobResult(
                    job=jobs[i], status="failed", error=f"{type(exc).__name__}: {exc}"
                )
                say(f"FAILED {jobs[i].label}: {results[i].error}")
                bar.update(1)
        for fut in cf.as_completed(futures):
            i = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # the worker itself died (killed, out of memory...)
                res = JobResult(job=jobs[i], status="failed", error=f"{type(exc).__name__}: {exc}")
            results[i] = res
            if res.status == "failed":
                say(f"FAILED {res.job.label}: {res.error}")
            bar.set_postfix_str(res.job.label)
            bar.update(1)
    finally:
        bar.close()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
    return BatchResult(results=results, seconds=time.perf_counter() - start)
