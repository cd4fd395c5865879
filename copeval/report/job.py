"""Report jobs: what one report is, how a batch of them is planned, and when one is up to date.

A :class:`ReportJob` is one report: a site report (full or brief) or a comparison, in one
language, optionally of one evaluation round. :func:`plan_jobs` makes the jobs of a batch
(checking sites, languages, formats and the cache folder first, so errors show before any
work); :func:`input_fingerprint` hashes everything a report depends on (every project file,
the parameters, the notebook template, the crosswalk, the report templates and the copeval
version) and :func:`is_complete` compares it, and the hash of each output, with the
manifest a rendered report leaves, which is how ``resume`` skips exactly the reports that
are up to date.

Pipeline layer (``docs/architecture.md``): this module imports no report content.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from copeval import __version__
from copeval._io import hash_file, hash_tree, safe_child
from copeval._validate import as_list, check_lang, check_profile, check_sites
from copeval.errors import CopevalError
from copeval.params import DEFAULT_CI, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WEIGHT

__all__ = [
    "FORMATS",
    "NOTEBOOKS",
    "JobResult",
    "ReportJob",
    "input_fingerprint",
    "is_complete",
    "plan_jobs",
    "resolve_sites",
]

#: Output formats a report can be exported to (the executed notebook is always kept).
FORMATS = ("pdf", "html")
#: Report kinds and the bundled notebook that renders each.
NOTEBOOKS = {"site": "site_report", "comparative": "comparative_report"}
#: The report templates (page template, stylesheet, Typst template): part of every
#: report's fingerprint.
TEMPLATES = Path(__file__).with_name("templates")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(text: str) -> str:
    """``text`` as a file-name part: itself when it is already safe (``VC``, ``0101``);
    otherwise its safe characters plus a short hash of the whole text, so two names that
    differ only in unsafe characters (``Villa Nueva``, ``Villa/Nueva``) never share a
    file, nor does either share one with the safe ``Villa-Nueva``."""
    cleaned = _SAFE.sub("-", text).strip("-.")
    if cleaned == text:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{cleaned}-{digest}" if cleaned else digest


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
        Recommendations crosswalk folder (default: the bundled one).
    notebook : str or None
        Notebook template to execute instead of the bundled one.
    timeout : int
        Seconds any one notebook cell may run.
    profile : {"full", "brief"}
        Site reports: the complete report or the short municipal brief. Comparisons are
        always complete.
    round : str or None
        The evaluation round shown (the notebook parameter ``round``); None: the latest.
        A round given is part of the output names (``site_VC_r2026-1_es``).
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
    round: str | None = None

    @property
    def stem(self) -> str:
        """File name stem: ``site_VC_es``, ``brief_VC_es``, ``comparative_es``,
        ``comparative_A-B_es``; with a round, ``site_VC_r2026-1_es``, ``comparative_r2_es``."""
        when = f"r{_safe(str(self.round))}_" if self.round is not None else ""
        if self.kind == "site":
            prefix = "site" if self.profile == "full" else self.profile
            return f"{prefix}_{_safe(str(self.site_id))}_{when}{self.lang}"
        if not self.sites:
            return f"comparative_{when}{self.lang}"
        joined = "-".join(_safe(s) for s in self.sites)
        if len(joined) > 60:
            joined = hashlib.sha256(",".join(self.sites).encode()).hexdigest()[:12]
        return f"comparative_{joined}_{when}{self.lang}"

    @property
    def label(self) -> str:
        """Short human label (``VC (es)``, ``VC (es, brief, round 2)``) for progress and
        messages."""
        what = self.site_id if self.kind == "site" else "comparison"
        bits = [self.lang]
        if self.kind == "site" and self.profile != "full":
            bits.append(self.profile)
        if self.round is not None:
            bits.append(f"round {self.round}")
        return f"{what} ({', '.join(bits)})"

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
        """The notebook template this job executes (:mod:`copeval.resources` finds the
        bundled ones, in a checkout or an installed wheel)."""
        if self.notebook:
            return Path(self.notebook)
        from copeval import resources

        return resources.notebook(NOTEBOOKS[self.kind])

    def parameters(self) -> dict:
        """Values papermill injects into the notebook (site IDs and rounds as strings).

        ``profile`` and ``round`` are passed only when they differ from the notebook's
        defaults, so custom templates without those parameters keep working."""
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
            if self.profile != "full":
                params["profile"] = self.profile
        else:
            params["sites"] = ",".join(self.sites) if self.sites else "all"
        if self.round is not None:
            params["round"] = str(self.round)
        return params


@dataclass
class JobResult:
    """What happened to one job: ``status`` is ``"done"``, ``"skipped"`` or ``"failed"``.

    ``timings`` holds the seconds of each step of a rendered report (``execute``, ``html``,
    ``pdf``, ``write``); ``detail`` the traceback of a failure (for logs, not for readers);
    ``missing`` the module a failure could not import (a missing optional dependency, in
    the worker or its kernel), which the command line turns into "install the extra".
    """

    job: ReportJob
    status: str
    seconds: float = 0.0
    error: str = ""
    outputs: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    detail: str = ""
    missing: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


# ------------------------------------------------------------------------------- planning
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
    round: str | None = None,
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
    round : str, optional
        The evaluation round to report (default: the project's latest). It must be one of
        the rounds the project declares.

    Returns
    -------
    list of ReportJob
    """
    from copeval.project import load_project

    check_profile(profile)
    project_path = Path(project).resolve()
    proj = load_project(project_path)
    available = [str(s) for s in proj.sites["site_id"]]
    chosen = resolve_sites(sites, available)
    langs = [check_lang(x, what="report language") for x in _as_list(langs)]
    formats = tuple(_as_list(formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise CopevalError(f"Unknown format {bad[0]!r}. Available formats: {', '.join(FORMATS)}")
    if round is not None:
        round = _check_round(proj, str(round))
    out = Path(out_dir).resolve()
    cache_path = None
    if cache:
        cache_path = _cache_folder(cache_dir, out)
    common = dict(
        project=str(project_path),
        out_dir=str(out),
        formats=formats,
        weight=float(weight),
        n_boot=int(n_boot),
        seed=int(seed),
        ci=float(ci),
        cache_dir=str(cache_path) if cache_path else None,
        crosswalk=str(Path(crosswalk).resolve()) if crosswalk else None,
        timeout=int(timeout),
        round=round,
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
    _check_distinct_files(jobs)
    return jobs


def _check_distinct_files(jobs) -> None:
    """Every job writes its own files, also on a case-insensitive file system (macOS,
    Windows): two site IDs that differ only in case would overwrite each other's report."""
    seen: dict[str, ReportJob] = {}
    for job in jobs:
        key = job.stem.casefold()
        other = seen.setdefault(key, job)
        if other is not job and other != job:
            raise CopevalError(
                f"Sites {other.site_id!r} and {job.site_id!r} would write the same report "
                f"file ({job.stem}.*) on a case-insensitive disk: rename one site ID in "
                "sites.csv"
            )


def _check_round(project, round: str) -> str:
    """``round`` if the project declares it; else a one-line error listing the rounds.

    A project without declared rounds has one, unnamed: no round can be asked of it.
    """
    rounds = list(project.round_ids)
    if round not in rounds:
        listed = ", ".join(rounds) if rounds else "none (the project has a single round)"
        raise CopevalError(f"Unknown round {round!r}. Available rounds: {listed}")
    return round


def _cache_folder(cache_dir, out: Path) -> Path | None:
    """The analysis cache folder to use, or None when it is not safe to use one."""
    from .cache import default_cache_dir, folder_problem

    cache_path = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    cache_path = cache_path.resolve()
    if cache_path == out or out in cache_path.parents:
        raise CopevalError(
            f"the analysis cache {cache_path} would be inside the output folder {out}; "
            "reports folders are shared: choose a --cache-dir outside it"
        )
    problem = folder_problem(cache_path)
    if problem is not None:  # others could plant forged scores there: score afresh
        print(
            f"warning: the analysis cache {cache_path} {problem}; it is not used "
            "(reports are scored afresh). Use a private --cache-dir.",
            file=sys.stderr,
        )
        return None
    return cache_path


#: ``"all"``, ``"A,B"`` or a list -> the site IDs (:func:`copeval._validate.check_sites`).
resolve_sites = check_sites
_as_list = as_list


# ------------------------------------------------------------------------------- fingerprints
def hash_project(project, *, exclude=()) -> str:
    """Hash of a project's input files (:func:`copeval._io.hash_tree`: the rule the analysis
    cache uses too); ``exclude``: reports folders inside the project."""
    root = Path(project)
    if not root.is_dir():
        raise CopevalError(f"Project folder not found: {root}")
    try:
        return hash_tree(root, exclude=exclude)
    except OSError as exc:
        raise CopevalError(f"cannot read project file {exc.filename}: {exc.strerror}") from None


def _folder_hash(path: Path) -> str:
    return hash_tree(path) if path.is_dir() else ""


def input_fingerprint(
    job: ReportJob, *, project_hash: str | None = None, shared: dict | None = None
) -> str:
    """Hash of everything a report depends on: project files, parameters (the round
    included), notebook template, crosswalk, report templates, copeval version.

    ``project_hash`` (from :func:`hash_project`) and ``shared`` (a dict this function fills
    with the hashes of templates and folders) save hashing the same files for every job of a
    batch.
    """
    from copeval import resources

    memo = shared if shared is not None else {}
    params = {k: v for k, v in asdict(job).items() if k not in ("out_dir", "cache_dir", "timeout")}
    if params.get("round") is None:
        params.pop("round")  # a job without a round hashes as before rounds existed
    crosswalk = Path(job.crosswalk) if job.crosswalk else resources.crosswalk_dir()
    notebook = job.notebook_file()

    def once(key, fn, arg):
        if key not in memo:
            memo[key] = fn(arg)
        return memo[key]

    payload = {
        "project": project_hash or hash_project(job.project, exclude=[job.out_dir]),
        "params": params,
        "notebook": once(("file", str(notebook)), hash_file, notebook),
        "crosswalk": once(("tree", str(crosswalk)), _folder_hash, crosswalk),
        "templates": once(("tree", str(TEMPLATES)), _folder_hash, TEMPLATES),
        "copeval": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def is_complete(job: ReportJob, fingerprint: str) -> bool:
    """True when the job's manifest matches ``fingerprint`` and every output is intact."""
    try:
        manifest = json.loads(job.manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("inputs") != fingerprint:
        return False
    recorded = manifest.get("outputs", {})
    for fmt, path in job.outputs().items():
        entry = recorded.get(fmt) if isinstance(recorded, dict) else None
        if not isinstance(entry, dict) or not path.is_file():
            return False
        if path.stat().st_size != entry.get("bytes") or hash_file(path) != entry.get("sha256"):
            return False
    return True
