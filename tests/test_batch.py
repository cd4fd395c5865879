"""Batch engine: failures isolated, atomic writes, resume only what is complete and unchanged."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import stat
from dataclasses import replace

import pytest
from report_templates import PARAMETERS_CELL

from copeval import _io as _atomic
from copeval.errors import CopevalError
from copeval.report import batch
from copeval.report.batch import JobResult, plan_jobs, run_batch

# A minimal report template: the same parameters as the real ones, one visible output.
TINY_TEMPLATE = (
    PARAMETERS_CELL
    + """
# %%
from IPython.display import HTML
if site_id == "FAIL":
    raise ValueError("this site is broken on purpose")
HTML(f'<div class="cv-docinfo" data-title="t" data-lang="{lang}" data-running="r"></div>'
     f"<h1>Sitio {site_id} ({lang})</h1>")
"""
)


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "tiny_report.py"
    path.write_text(TINY_TEMPLATE, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------- atomic
def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old complete report")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        _atomic.atomic_write_bytes(target, b"new half-written")
    assert target.read_bytes() == b"old complete report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]  # no temporary left


def test_atomic_write_uses_normal_permissions_and_stale_parts_are_removed(tmp_path):
    target = _atomic.atomic_write_bytes(tmp_path / "a.html", b"<p>ok</p>")
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o666 & ~_atomic._current_umask()
    stale = tmp_path / ".a.html.k3j2h1.part"  # what a killed run leaves behind
    stale.write_bytes(b"half")
    other = tmp_path / ".b.html.zz.part"
    other.write_bytes(b"half")
    assert _atomic.remove_stale_parts(tmp_path, "a.html") == [stale]
    assert not stale.exists() and other.exists()


# ------------------------------------------------------------------------------- planning
def test_plan_jobs_names_outputs_and_checks_sites(tiny_project, tmp_path):
    jobs = plan_jobs(tiny_project, out_dir=tmp_path, sites="all", langs="es,en", comparative=True)
    assert [j.stem for j in jobs] == [
        "site_A_es",
        "site_A_en",
        "site_B_es",
        "site_B_en",
        "comparative_es",
        "comparative_en",
    ]
    assert jobs[0].parameters()["site_id"] == "A"
    assert jobs[-1].parameters()["sites"] == "all"
    assert set(jobs[0].outputs()) == {"pdf", "html", "ipynb"}
    with pytest.raises(CopevalError, match=r"Unknown site ID\(s\): C\. Available site IDs: A, B"):
        plan_jobs(tiny_project, out_dir=tmp_path, sites="A,C")
    with pytest.raises(
        CopevalError, match=r"Unknown format 'docx'\. Available formats: pdf, html"
    ):
        plan_jobs(tiny_project, out_dir=tmp_path, formats="pdf,docx")
    sub = plan_jobs(
        tiny_project,
        out_dir=tmp_path,
        sites=["B"],
        site_reports=False,
        comparative=True,
        langs=["en"],
    )
    assert [j.stem for j in sub] == ["comparative_B_en"]


# ------------------------------------------------------------------------------- failures
def _fake_runner(job, fingerprint=None):
    if job.site_id == "B":
        raise RuntimeError("worker blew up")
    return JobResult(job=job, status="done", seconds=0.01)


def _dying_runner(job, fingerprint=None):
    if job.site_id == "B":
        os._exit(3)  # the worker process dies without a word
    return JobResult(job=job, status="done", seconds=0.01)


def test_a_failing_job_does_not_stop_the_others(tiny_project, tmp_path):
    jobs = plan_jobs(tiny_project, out_dir=tmp_path, langs="es", cache=False)
    with cf.ThreadPoolExecutor(2) as pool:
        result = run_batch(
            jobs, executor=pool, runner=_fake_runner, progress=False, log=lambda msg: None
        )
    assert [r.status for r in result.results] == ["done", "failed"]
    assert "RuntimeError: worker blew up" in result.failed[0].error
    assert not result.ok
    assert "FAILED B (es): RuntimeError: worker blew up" in result.summary()


@pytest.mark.slow
def test_a_dead_worker_process_is_reported_as_a_failure(tiny_project, tmp_path):
    jobs = plan_jobs(tiny_project, out_dir=tmp_path, sites="B", langs="es", cache=False)
    result = run_batch(
        jobs, max_workers=1, runner=_dying_runner, progress=False, log=lambda msg: None
    )
    assert result.failed and "BrokenProcessPool" in result.failed[0].error


def test_duplicate_jobs_are_refused(tiny_project, tmp_path):
    jobs = plan_jobs(tiny_project, out_dir=tmp_path, sites="A", langs="es", cache=False)
    with pytest.raises(CopevalError, match="Two jobs would write the same report: site_A_es"):
        run_batch(jobs + jobs, runner=_fake_runner, progress=False)


# ------------------------------------------------------------------------------- real runs
@pytest.mark.slow
def test_render_resume_and_failure_with_a_real_kernel(tiny_project, tmp_path, template):
    out = tmp_path / "out"
    jobs = [
        replace(j, notebook=str(template), formats=("html",))
        for j in plan_jobs(tiny_project, out_dir=out, langs="es", cache=False)
    ]
    broken = replace(jobs[0], site_id="FAIL")
    with cf.ThreadPoolExecutor(2) as pool:
        first = run_batch([*jobs, broken], executor=pool, progress=False, log=lambda m: None)
    assert [r.status for r in first.results] == ["done", "done", "failed"]
    assert "this site is broken on purpose" in first.failed[0].error
    assert "cell" in first.failed[0].error
    html = (out / "site_A_es.html").read_text(encoding="utf-8")
    assert "Sitio A (es)" in html and "raise ValueError" not in html
    nb = json.loads((out / "site_A_es.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"]["site_id"] == "A"
    manifest = json.loads((out / "site_A_es.manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["outputs"]) == {"html", "ipynb"}
    assert not (out / "site_FAIL_es.manifest.json").exists()

    seen = []
    with cf.ThreadPoolExecutor(2) as pool:
        again = run_batch(jobs, executor=pool, resume=True, progress=False, log=seen.append)
    assert [r.status for r in again.results] == ["skipped", "skipped"]
    assert seen == [
        "skipped A (es): outputs complete and inputs unchanged",
        "skipped B (es): outputs complete and inputs unchanged",
    ]

    (out / "site_B_es.html").write_text("truncated", encoding="utf-8")  # damaged output
    with cf.ThreadPoolExecutor(2) as pool:
        third = run_batch(jobs, executor=pool, resume=True, progress=False, log=lambda m: None)
    assert [r.status for r in third.results] == ["skipped", "done"]

    # a changed input file invalidates every report of the project
    fp_before = batch.input_fingerprint(jobs[0])
    assert batch.is_complete(jobs[0], fp_before)
    sites = tiny_project / "sites.csv"
    sites.write_text(
        sites.read_text(encoding="utf-8").replace("Sitio A", "Sitio Á"), encoding="utf-8"
    )
    fp_after = batch.input_fingerprint(jobs[0])
    assert fp_after != fp_before and not batch.is_complete(jobs[0], fp_after)
    # ... and so does any change of parameters
    assert batch.input_fingerprint(replace(jobs[0], seed=1)) != fp_after


def test_brief_jobs_have_their_own_names_and_parameter(tiny_project, tmp_path):
    jobs = plan_jobs(tiny_project, out_dir=tmp_path, langs="es", profile="brief", comparative=True)
    assert [j.stem for j in jobs] == ["brief_A_es", "brief_B_es", "comparative_es"]
    assert jobs[0].label == "A (es, brief)"
    assert jobs[0].parameters()["profile"] == "brief"
    assert "profile" not in jobs[-1].parameters()  # comparisons are always complete
    full = plan_jobs(tiny_project, out_dir=tmp_path, langs="es")[0]
    assert "profile" not in full.parameters()  # custom templates need not declare it
    assert batch.input_fingerprint(jobs[0]) != batch.input_fingerprint(full)
    with pytest.raises(CopevalError, match=r"Unknown report profile 'x'"):
        plan_jobs(tiny_project, out_dir=tmp_path, profile="x")
