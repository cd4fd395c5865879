"""Evaluation reports: content (what a section says) and pipeline (how reports are rendered).

Public API::

    from copeval.report import SiteReport, ComparativeReport, ReportData, plan_jobs, run_batch

* :class:`SiteReport`, :class:`ComparativeReport`: report sections as
  :class:`copeval.report.doc.Section` (what the notebooks in ``notebooks/`` call, one section
  per cell); :class:`ReportData`: a project's scores and tables, loaded once;
* :func:`plan_jobs`, :func:`run_batch`: many reports, in parallel on any
  ``concurrent.futures.Executor``, with resume and a failure summary (each project scored
  once first, :func:`copeval.report.api.score_once`); :func:`render_report`: one report.

``docs/architecture.md`` describes the two layers and which module does what. Names are
imported on first use, so that the pipeline's worker processes do not load the content
(pandas, matplotlib) they never run themselves.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BatchResult": "batch",
    "ComparativeReport": "comparative",
    "JobResult": "job",
    "ReportData": "data",
    "ReportJob": "job",
    "SiteReport": "site",
    "plan_jobs": "api",
    "render_report": "batch",
    "run_batch": "api",
    "run_job": "batch",
    "score_once": "api",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
