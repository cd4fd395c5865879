"""Evaluation reports: figures, bilingual text, HTML/PDF rendering and batch execution.

Public API::

    from copeval.report import SiteReport, ComparativeReport, render_report, run_batch

* :class:`SiteReport`, :class:`ComparativeReport`: report sections as HTML blocks (what the
  notebooks in ``notebooks/`` call, one section per cell);
* :func:`render_report`: execute a report notebook with papermill and write its PDF, HTML and
  executed notebook atomically;
* :func:`plan_jobs`, :func:`run_batch`: many reports, in parallel on any
  ``concurrent.futures.Executor``, with resume and a failure summary.
"""

from .batch import BatchResult, JobResult, ReportJob, plan_jobs, render_report, run_batch, run_job
from .comparative import ComparativeReport
from .data import ReportData
from .site import SiteReport

__all__ = [
    "BatchResult",
    "ComparativeReport",
    "JobResult",
    "ReportData",
    "ReportJob",
    "SiteReport",
    "plan_jobs",
    "render_report",
    "run_batch",
    "run_job",
]
