"""The report entry points: the pipeline driven with the content's data preparation.

The pipeline (:mod:`copeval.report.job`, :mod:`~copeval.report.batch` ...) knows jobs,
engines and files, not what a report's data is; the content (:mod:`copeval.report.data`,
the report classes) knows the data, not how reports are executed. This module joins them,
as the command line does: :func:`run_batch` is :func:`copeval.report.batch.run_batch` with
:func:`score_once` as its ``prepare`` step, so every project of a batch is scored once,
in the parent process, and its analysis cached for the workers.

Entry layer (``docs/architecture.md``): like ``copeval.cli``, it may import both layers.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import batch as _batch
from .job import ReportJob, plan_jobs

__all__ = ["plan_jobs", "run_batch", "score_once"]


def score_once(jobs: Sequence[ReportJob], n_jobs: int = 1) -> None:
    """Score each distinct (project, parameters, round) of ``jobs`` once and cache it.

    Run before the workers start (their reports then load the cached analysis). ``n_jobs``
    threads share the bootstrap (the result does not depend on it). Briefs need only the
    scores: the reliability and sensitivity tables of full reports (4 s on a 340-site
    project) are left for a full report to compute.
    """
    from .data import ReportData

    jobs = list(jobs)
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


def run_batch(jobs: Sequence[ReportJob], **options) -> _batch.BatchResult:
    """:func:`copeval.report.batch.run_batch` with ``prepare=score_once`` unless given
    (``prepare=None`` to skip it). Same parameters and result."""
    options.setdefault("prepare", score_once)
    return _batch.run_batch(jobs, **options)
