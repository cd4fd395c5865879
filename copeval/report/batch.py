"""Batch rendering of many reports: parallel, resumable, atomic, and honest about failures.

A batch is a list of :class:`ReportJob` (one report = one site or comparison in one
language), usually made by :func:`plan_jobs`. :func:`run_batch` runs them on any
:class:`concurrent.futures.Executor` (default: a process pool sized to the machine; a Dask
cluster's ``Client.get_executor()`` works unchanged), with a progress bar. A failing report
never stops the others: its error is collected and summarised at the end.

Each job (:func:`render_report`) executes its notebook — by default in its worker's warm
kernel (:mod:`copeval.report.warm`: one kernel per worker, reused for every report; the
``"papermill"`` engine starts a fresh kernel per report instead) — exports HTML and PDF
in memory and writes the outputs atomically (temporary file + ``os.replace``): a reader, or
a killed batch, never leaves a half-written PDF. The executed notebook is kept beside the PDF
for audit. A manifest (``<stem>.manifest.json``) is written last: it records the hash of the
inputs (every project file, the parameters, the notebook template, the crosswalk and the
copeval version) and of each output, so ``resume=True`` skips exactly the reports whose
outputs are complete and whose inputs have not changed.

The project is scored once per batch, in the parent process, and the analysis is cached in
the user cache folder (``--cache-dir``, ``$COPEVAL_CACHE_DIR``, ``$XDG_CACHE_HOME/copeval``
or ``~/.cache/copeval``; see :mod:`copeval.report.cache`), never in the reports folder:
every report of a national batch then reuses one set of scores instead of re-running the
bootstrap, and the folder that gets zipped and shared holds reports only.

One batch at a time writes to an output folder: :func:`run_batch` holds an exclusive lock
on ``<out>/.copeval-reports`` (which also marks the folder as outputs, so a reports folder
inside the project never counts as a project input); a second batch into the same folder
stops with a one-line error naming the folder and the first batch's process ID.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import multiprocessing
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from copeval import __version__
from copeval.errors import CopevalError

from .._io import atomic_write_bytes, atomic_write_text, remove_stale_parts, safe_child
from ..params import DEFAULT_CI, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WEIGHT
from .i18n import check_lang

__all__ = [
    "ENGINES",
    "FORMATS",
    "BatchResult",
    "JobResult",
    "ReportJob",
    "engine_runner",
    "is_complete",
    "plan_jobs",
    "render_report",
    "run_batch",
    "run_job",
]

#: Output formats a report can be exported to (the executed notebook is always kept).
FORMATS = ("pdf", "html")
#: Where copeval < 0.2 cached analyses (pickles holding raw texts), inside the reports folder.
LEGACY_CACHE_DIRNAME = ".cache"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(text: str) -> str:
    cleaned = _SAFE.sub("-", text).strip("-.")
    return cleaned or hashlib.sha256(text.encode()).hexdigest()[:10]


# ------------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class ReportJob:
    """One report to render: a site report or a comparison, in one language.

    Attributes
    ----------
    kind : {"site", "comparative"}
    project : str
        Absolute path of the project folder.
    lang : {"es", "en"}
    out_dir : str
        Folder the outputs go to.
    site_id : str or None
        The site (site reports).
    sites : tuple of str
        The sites compared (comparative reports); empty means all.
    formats : tuple of str
        Subset of :data:`FORMATS`.
    weight, n_boot, seed, ci
        Scoring parameters (see :func:`copeval.scoring.score_sites`).
    cache_dir : str or None
        Where the project's analysis is cached and shared between jobs.
    crosswalk : str or None
        Recommendations crosswalk folder (default ``data/crosswalk``).
    notebook : str or None
        Notebook template to execute instead of the bundled one.
    timeout : int
        Seconds any one notebook cell may run.
    profile : {"full", "brief"}
        Site reports: the complete report or the short municipal brief (see
        :data:`copeval.report.site.PROFILES`). Comparisons are always complete.
    """

    kind: str
    project: str
    lang: str
    out_dir: str
    site_id: str | None = None
    sites: tuple = ()
    formats: tuple = FORMATS
    weight: float = DEFAULT_WEIGHT
    n_boot: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    ci: float = DEFAULT_CI
    cache_dir: str | None = None
    crosswalk: str | None = None
    notebook: str | None = None
    timeout: int = 600
    profile: str = "full"

    @property
    def stem(self) -> str:
        """File name stem: ``site_VC_es``, ``brief_VC_es``, ``comparative_es``,
        ``comparative_A-B_es``."""
        if self.kind == "site":
            prefix = "site" if self.profile == "full" else self.profile
            return f"{prefix}_{_safe(str(self.site_id))}_{self.lang}"
        if not self.sites:
            return f"comparative_{self.lang}"
        joined = "-".join(_safe(s) for s in self.sites)
        if len(joined) > 60:
            joined = hashlib.sha256(",".join(self.sites).encode()).hexdigest()[:12]
        return f"comparative_{joined}_{self.lang}"

    @property
    def label(self) -> str:
        """Short human label (``VC (es)``) for progress and messages."""
        what = self.site_id if self.kind == "site" else "comparison"
        if self.kind == "site" and self.profile != "full":
            return f"{what} ({self.lang}, {self.profile})"
        return f"{what} ({self.lang})"

    def outputs(self) -> dict[str, Path]:
        """Paths of every output, the executed notebook included."""
        out = Path(self.out_dir)
        paths = {
            fmt: safe_child(out, f"{self.stem}.{fmt}", what="report file") for fmt in self.formats
        }
        paths["ipynb"] = safe_child(out, f"{self.stem}.ipynb", what="report file")
        return paths

    @property
    def manifest_path(self) -> Path:
        return safe_child(Path(self.out_dir), f"{self.stem}.manifest.json", what="report file")

    def notebook_file(self) -> Path:
        from .render import NOTEBOOKS, notebook_path

        return Path(self.notebook) if self.notebook else notebook_path(NOTEBOOKS[self.kind])

    def parameters(self) -> dict:
        """Values papermill injects into the notebook (site IDs as strings)."""
        params = {
            "project_path": self.project,
            "lang": self.lang,
            "weight": float(self.weight),
            "n_boot": int(self.n_boot),
            "seed": int(self.seed),
            "ci": float(self.ci),
            "cache_dir": self.cache_dir,
            "crosswalk": self.crosswalk,
        }
        if self.kind == "site":
            params["site_id"] = str(self.site_id)
            if self.profile != "full":  # custom templates without the parameter keep working
                params["profile"] = self.profile
        else:
            params["sites"] = ",".join(self.sites) if self.sites else "all"
        return params


@dataclass
class JobResult:
    """What happened to one job: ``status`` is ``"done"``, ``"skipped"`` or ``"failed"``."""

    job: ReportJob
    status: str
    seconds: float = 0.0
    error: str = ""
    outputs: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


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

    def summary(self) -> str:
        """Multi-line text: counts, timing, skipped reports and every failure with its error."""
        lines = [
            f"{len(self.done)} report(s) rendered, {len(self.skipped)} skipped (unchanged), "
            f"{len(self.failed)} failed, in {self.seconds:.1f} s"
        ]
        if self.done:
            per = [r.seconds for r in self.done]
            lines.append(
                f"  seconds per report (execute + export): mean {sum(per) / len(per):.2f}, "
                f"max {max(per):.2f}"
            )
        if self.skipped:
            lines.append(
                "  skipped (outputs complete, inputs unchanged): "
                + ", ".join(r.job.label for r in self.skipped)
            )
        for r in self.failed:
            lines.append(f"  FAILED {r.job.label}: {r.error}")
        return "\n".join(lines)


def plan_jobs(
    project,
    *,
    out_dir,
    sites: str | Sequence[str] = "all",
    langs: Sequence[str] = ("es", "en"),
    formats: Sequence[str] = FORMATS,
    site_reports: bool = True,
    comparative: bool = False,
    weight: float = DEFAULT_WEIGHT,
    n_boot: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    ci: float = DEFAULT_CI,
    cache: bool = True,
    crosswalk=None,
    timeout: int = 600,
    profile: str = "full",
    cache_dir=None,
) -> list[ReportJob]:
    """The jobs of a batch: one site report per site and language, plus comparisons.

    Parameters
    ----------
    project : str or Path
        Project folder; it is loaded and validated now, so errors show before any work.
    out_dir : str or Path
        Output folder.
    sites : "all" or sequence of str
        Site IDs (strings); an unknown ID raises an error listing the available ones.
    langs : sequence of {"es", "en"}
    formats : sequence of {"pdf", "html"}
    site_reports, comparative : bool
        Which kinds of report to plan (comparisons cover the selected sites).
    weight, n_boot, seed, ci
        Scoring parameters.
    cache : bool
        Share one analysis between the jobs (and later runs) through the cache folder.
    crosswalk : path, optional
        Recommendations crosswalk folder.
    timeout : int
        Seconds any one notebook cell may run.
    profile : {"full", "brief"}
        Site reports: complete (``site_<ID>_<lang>``) or municipal briefs
        (``brief_<ID>_<lang>``); comparisons are always complete.
    cache_dir : path, optional
        The analysis cache folder (default :func:`copeval.report.cache.default_cache_dir`).
        It may not lie inside ``out_dir``: reports folders are shared.

    Returns
    -------
    list of ReportJob
    """
    from copeval.project import load_project

    from .site import check_profile

    check_profile(profile)
    project_path = Path(project).resolve()
    proj = load_project(project_path)
    available = [str(s) for s in proj.sites["site_id"]]
    chosen = resolve_sites(sites, available)
    langs = [check_lang(x) for x in _as_list(langs)]
    formats = tuple(_as_list(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise CopevalError(f"Unknown format {bad[0]!r}. Available formats: {', '.join(FORMATS)}")
    out = Path(out_dir).resolve()
    if cache:
        from .cache import default_cache_dir

        cache_path = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        cache_path = cache_path.resolve()
        if cache_path == out or out in cache_path.parents:
            raise CopevalError(
                f"the analysis cache {cache_path} would be inside the output folder {out}; "
                "reports folders are shared: choose a --cache-dir outside it"
            )
        from .cache import folder_problem

        problem = folder_problem(cache_path)
        if problem is not None:  # others could plant forged scores there: score afresh
            print(
                f"warning: the analysis cache {cache_path} {problem}; it is not used "
                "(reports are scored afresh). Use a private --cache-dir.",
                file=sys.stderr,
            )
            cache = False
    common = dict(
        project=str(project_path),
        out_dir=str(out),
        formats=formats,
        weight=float(weight),
        n_boot=int(n_boot),
        seed=int(seed),
        ci=float(ci),
        cache_dir=str(cache_path) if cache else None,
        crosswalk=str(Path(crosswalk).resolve()) if crosswalk else None,
        timeout=int(timeout),
    )
    jobs = []
    if site_reports:
        for site in chosen:
            for lang in langs:
                jobs.append(
                    ReportJob(kind="site", site_id=site, lang=lang, profile=profile, **common)
                )
    if comparative:
        subset = () if len(chosen) == len(available) else tuple(chosen)
        for lang in langs:
            jobs.append(ReportJob(kind="comparative", sites=subset, lang=lang, **common))
    return jobs


def _as_list(value) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def resolve_sites(sites, available: Sequence[str]) -> list[str]:
    """``"all"``, ``"A,B"`` or a list -> the site IDs, checked against ``available``."""
    if isinstance(sites, str) and sites.strip().lower() == "all":
        return list(available)
    chosen = _as_list(sites)
    if not chosen:
        raise CopevalError("No sites given. Use --sites all or a comma-separated list of IDs")
    unknown = [s for s in chosen if s not in available]
    if unknown:
        raise CopevalError(
            f"Unknown site ID(s): {', '.join(unknown)}. Available site IDs: {', '.join(available)}"
        )
    return list(dict.fromkeys(chosen))


# ------------------------------------------------------------------------------- fingerprints
def _hash_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hash_folder(path: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(f.relative_to(path).as_posix().encode() + b"\0")
        digest.update(_hash_file(f).encode())
    return digest.hexdigest()


def input_fingerprint(job: ReportJob, *, project_hash: str | None = None) -> str:
    """Hash of everything a report depends on: project files, parameters, template, version.

    ``project_hash`` (from :func:`copeval.report.data.project_fingerprint`) can be passed when
    many jobs share one project, to hash its files once.
    """
    from .data import project_fingerprint
    from .recommend import CROSSWALK_DIR

    params = {k: v for k, v in asdict(job).items() if k not in ("out_dir", "cache_dir", "timeout")}
    crosswalk = Path(job.crosswalk) if job.crosswalk else CROSSWALK_DIR
    payload = {
        "project": project_hash or project_fingerprint(job.project, exclude=[job.out_dir]),
        "params": params,
        "notebook": _hash_file(job.notebook_file()),
        "crosswalk": _hash_folder(crosswalk) if crosswalk.is_dir() else "",
        "templates": _hash_folder(Path(__file__).with_name("templates")),
        "copeval": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def is_complete(job: ReportJob, fingerprint: str) -> bool:
    """True when the job's manifest matches ``fingerprint`` and every output is intact."""
    try:
        manifest = json.loads(job.manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("inputs") != fingerprint:
        return False
    recorded = manifest.get("outputs", {})
    for fmt, path in job.outputs().items():
        entry = recorded.get(fmt)
        if not entry or not path.is_file():
            return False
        if path.stat().st_size != entry.get("bytes") or _hash_file(path) != entry.get("sha256"):
            return False
    return True


# ------------------------------------------------------------------------------- one job
def render_report(
    job: ReportJob, *, fingerprint: str | None = None, execute: Callable | None = None
) -> JobResult:
    """Execute one report notebook and write its outputs atomically. Raises on failure.

    The outputs are produced in memory first (executed notebook, HTML, PDF) and only then
    written, each atomically; the manifest is removed at the start and written last, so a
    report is "complete" only once all its files are in place. ``execute`` runs the notebook
    (default :func:`copeval.report.render.execute_notebook`, a fresh papermill kernel; the
    warm engine passes :func:`copeval.report.warm.execute_notebook_warm`).
    """
    import nbformat

    from .render import execute_notebook, export_html, html_to_pdf, read_notebook

    execute = execute or execute_notebook

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
    html = export_html(executed)
    timings["html"] = time.perf_counter() - t0
    blobs = {"ipynb": nbformat.writes(_sanitize_outputs(executed)).encode("utf-8")}
    if "html" in paths:
        blobs["html"] = html.encode("utf-8")
    if "pdf" in paths:
        t0 = time.perf_counter()
        blobs["pdf"] = html_to_pdf(html)
        timings["pdf"] = time.perf_counter() - t0
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
    atomic_write_text(job.manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False))
    return JobResult(
        job=job,
        status="done",
        seconds=seconds,
        outputs={k: str(v) for k, v in paths.items()},
        timings=timings,
    )


def _sanitize_outputs(nb):
    """``nb`` with every HTML output passed through the reports' allow-list (in place).

    The executed notebook is kept beside the PDF for audit and is shared with it: the HTML it
    displays meets the same rule as the HTML export (:func:`copeval.report.safety.sanitize_html`).
    """
    from .safety import sanitize_html

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                value = data["text/html"]
                text = "".join(value) if isinstance(value, list) else str(value)
                data["text/html"] = sanitize_html(text)
    return nb


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
    job: ReportJob, fingerprint: str | None = None, *, execute: Callable | None = None
) -> JobResult:
    """:func:`render_report`, returning a ``"failed"`` result instead of raising."""
    start = time.perf_counter()
    try:
        return render_report(job, fingerprint=fingerprint, execute=execute)
    except Exception as exc:  # one failing report must not stop the batch
        return JobResult(
            job=job,
            status="failed",
            seconds=time.perf_counter() - start,
            error=_error_line(exc),
            detail=traceback.format_exc(),
        )


# ------------------------------------------------------------------------------- batch
#: Report engines: how each worker executes a notebook. "warm" (default) keeps one kernel
#: per worker for every report it renders (copeval.report.warm); "papermill" starts a fresh
#: kernel per report. Both give the same report.
ENGINES = ("warm", "papermill")


def engine_runner(engine: str) -> Callable[..., JobResult]:
    """The picklable ``runner(job, fingerprint)`` of an engine (see :data:`ENGINES`)."""
    if engine == "warm":
        from .warm import run_job_warm

        return run_job_warm
    if engine == "papermill":
        return run_job
    raise CopevalError(f"Unknown engine {engine!r}. Available engines: {', '.join(ENGINES)}")


def default_executor(max_workers: int | None = None) -> cf.Executor:
    """A process pool (``spawn`` start method) with ``max_workers`` or one worker per core."""
    n = max_workers or os.cpu_count() or 1
    return cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))


def _precompute(jobs: Iterable[ReportJob], *, n_jobs: int = 1) -> None:
    """Score each distinct (project, parameters) once and cache it for the workers.

    ``n_jobs`` threads share the bootstrap (the result does not depend on it).
    """
    from .data import ReportData

    jobs = list(jobs)
    # briefs need only the scores: the reliability and sensitivity tables of the full
    # reports (4 s on a 340-site project) are left for a full report to compute
    complete = any(job.kind != "site" or job.profile == "full" for job in jobs)
    seen = set()
    for job in jobs:
        if job.cache_dir is None:
            continue
        key = (job.project, job.weight, job.n_boot, job.seed, job.ci, job.cache_dir)
        if key in seen:
            continue
        seen.add(key)
        ReportData.load(
            job.project,
            weight=job.weight,
            n_boot=job.n_boot,
            seed=job.seed,
            ci=job.ci,
            cache_dir=job.cache_dir,
            n_jobs=n_jobs,
            memo=False,
            complete=complete,
        )


#: The lock file of a reports folder (also marks it as outputs; see copeval.report.data).
LOCK_NAME = ".copeval-reports"


class OutputBusyError(CopevalError):
    """Another copeval run is writing to the same output folder."""


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
    engine: str = "warm",
    precompute: bool = True,
    log: Callable[[str], None] | None = None,
) -> BatchResult:
    """Render many reports in parallel; failures are collected, never raised.

    Parameters
    ----------
    jobs : sequence of ReportJob
        Usually from :func:`plan_jobs`.
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
        for process pools. Default: the runner of ``engine``.
    engine : {"warm", "papermill"}
        How workers execute notebooks when no ``runner`` is given: one warm kernel per
        worker, reused for all its reports (default), or a fresh papermill kernel per report
        (see :data:`ENGINES`).
    precompute : bool
        Score each project once in this process before dispatching (jobs with a cache).
    log : callable, optional
        Receives one line per skipped or failed job (default: written above the progress bar).

    Returns
    -------
    BatchResult
    """

    start = time.perf_counter()
    runner = runner if runner is not None else engine_runner(engine)
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
            precompute=precompute,
            log=log,
        )


def _run_batch(
    jobs, outs, *, start, executor, max_workers, resume, progress, runner, precompute, log
) -> BatchResult:
    from tqdm.auto import tqdm

    from .data import project_fingerprint

    project_hashes = {p: project_fingerprint(p, exclude=outs) for p in {j.project for j in jobs}}
    fingerprints = [input_fingerprint(j, project_hash=project_hashes[j.project]) for j in jobs]
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
    if own:
        n_workers = min(max_workers or os.cpu_count() or 1, len(todo))
        executor = default_executor(n_workers)
    try:
        if todo and precompute:
            warming = []
            if own and runner is engine_runner("warm"):
                # start the workers' kernels while this process scores the project
                from .warm import warm_up

                warming = [executor.submit(warm_up) for _ in range(n_workers)]
            bar.set_postfix_str("scoring")
            _precompute((jobs[i] for i in todo), n_jobs=max_workers or os.cpu_count() or 1)
            cf.wait(warming)
            bar.set_postfix_str("")
        futures = {}
        for i in todo:
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
