"""The batch engine on a Dask cluster: ``Client.get_executor()`` is just another Executor."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from report_templates import PARAMETERS_CELL

from copeval.report.batch import plan_jobs, run_batch

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow

# The report parameters of the real templates, one visible output, and the process that
# rendered it (to show the work was spread over the cluster's workers).
TEMPLATE = (
    PARAMETERS_CELL
    + """
# %%
import os
from IPython.display import HTML
if site_id == "FAIL":
    raise ValueError("this site is broken on purpose")
HTML(f'<div class="cv-docinfo" data-title="t" data-lang="{lang}" data-running="r"></div>'
     f'<h1>Sitio {site_id} ({lang})</h1><p class="parent">{os.getppid()}</p>')
"""
)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def _tiny_jobs(project, tmp_path, out):
    """HTML-only jobs of the tiny project, es and en, rendered from TEMPLATE."""
    template = tmp_path / "tiny_report.py"
    template.write_text(TEMPLATE, encoding="utf-8")
    return [
        replace(j, notebook=str(template), formats=("html",))
        for j in plan_jobs(project, out_dir=out, langs="es,en", cache=False)
    ]


@pytest.mark.parametrize("engine", ["warm", "papermill"])
def test_batch_runs_on_a_local_dask_cluster(client, tiny_project, tmp_path, engine):
    out = tmp_path / "out"
    jobs = _tiny_jobs(tiny_project, tmp_path, out)
    broken = replace(jobs[0], site_id="FAIL")
    result = run_batch(
        [*jobs, broken],
        executor=client.get_executor(),
        engine=engine,
        progress=False,
        log=lambda msg: None,
    )
    assert [r.status for r in result.results] == ["done"] * 4 + ["failed"]
    assert "broken on purpose" in result.failed[0].error
    for job in jobs:
        html = (out / f"{job.stem}.html").read_text(encoding="utf-8")
        assert f"Sitio {job.site_id} ({job.lang})" in html
        manifest = json.loads(job.manifest_path.read_text(encoding="utf-8"))
        assert set(manifest["outputs"]) == {"html", "ipynb"}
    assert len(set(client.run(os.getpid).values())) == 2  # two worker processes
    again = run_batch(
        jobs, executor=client.get_executor(), engine=engine, resume=True, progress=False,
        log=lambda msg: None,
    )  # fmt: skip
    assert [r.status for r in again.results] == ["skipped"] * 4


def test_warm_kernels_live_in_the_workers(client, tiny_project, tmp_path):
    """Each worker process keeps one kernel: the kernels' parents are the worker processes."""
    out = tmp_path / "out"
    jobs = _tiny_jobs(tiny_project, tmp_path, out)
    result = run_batch(jobs, executor=client.get_executor(), engine="warm", progress=False)
    assert result.ok
    parents = set()
    for job in jobs:
        html = (out / f"{job.stem}.html").read_text(encoding="utf-8")
        parents.add(int(html.split('<p class="parent">', 1)[1].split("<", 1)[0]))
    workers = set(client.run(os.getpid).values())
    assert parents <= workers  # kernels are children of worker processes, never of this one


def test_copeval_batch_cli_on_a_cluster(client, tiny_project, tmp_path, capsys):
    """`copeval batch --scheduler ADDRESS`: the real site report, rendered by the cluster."""
    from copeval.cli import main

    out = tmp_path / "reports"
    args = ["batch", str(tiny_project), "--sites", "A", "--lang", "es", "--format", "html",
            "--no-compare", "--n-boot", "50", "--out", str(out), "-q",
            "--scheduler", client.scheduler.address]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    html = (out / "site_A_es.html").read_text(encoding="utf-8")
    assert "Sitio A" in html
    assert main([*args, "--jobs", "2"]) == 1
    assert "--jobs applies to local workers" in capsys.readouterr().err
