"""Warm-kernel engine: same report as a cold papermill run, no state or descriptors leak,
restarts, timeouts and failures handled (copeval.report.warm)."""

from __future__ import annotations

import concurrent.futures as cf
import gc
import json
import os
import re
import time

import pytest

from copeval.errors import CopevalError
from copeval.report.batch import plan_jobs, run_batch
from copeval.report.render import ReportExecutionError, export_html, read_notebook
from copeval.report.warm import ReportTimeoutError, WarmKernel, worker_kernel

pytestmark = pytest.mark.slow

# A notebook that leaves every kind of state behind, and shows what it found.
LEAKY = """\
# %% tags=["parameters"]
label = "x"
pause = 0.0
marker = ""

# %%
import os
import time
import warnings

import matplotlib as mpl
import numpy as np
from IPython.display import HTML

seen = {
    "leftover": "leftover" in globals(),
    "font.size": mpl.rcParams["font.size"],
    "errors": np.geterr()["divide"],
    "filters": len(warnings.filters),
    "cwd": os.getcwd(),
}
leftover = label
mpl.rcParams["font.size"] = 31
np.seterr(divide="raise")
warnings.simplefilter("ignore")
os.chdir("/")
time.sleep(pause)
if label == "FAIL":
    raise ValueError("broken on purpose")
if label == "DIE" and not os.path.exists(marker):  # dies on the first attempt only
    open(marker, "w").close()
    os._exit(1)
HTML(f"<p>{label}: {seen}</p>")
"""


@pytest.fixture
def leaky(tmp_path):
    path = tmp_path / "leaky.py"
    path.write_text(LEAKY, encoding="utf-8")
    return read_notebook(path)


LIGHT = ("matplotlib", "numpy", "IPython.display")  # what LEAKY imports: quick starts


@pytest.fixture(scope="module")
def shared():
    """One kernel for the tests that leave it running (as a batch worker would)."""
    with WarmKernel(preload=LIGHT) as k:
        yield k


@pytest.fixture
def kernel():
    with WarmKernel(preload=LIGHT) as k:
        yield k


def _seen(nb) -> str:
    return export_html(nb).split("<p>", 1)[1].split("</p>", 1)[0]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_every_run_starts_from_a_fresh_state(shared, leaky, tmp_path):
    kernel = shared
    starts = kernel.starts
    first = _seen(kernel.execute(leaky, {"label": "one"}, cwd=tmp_path))
    second = _seen(kernel.execute(leaky, {"label": "two"}, cwd=tmp_path))
    assert kernel.starts <= starts + 1  # the same kernel ran both
    assert first.replace("one", "two") == second
    assert "'leftover': False" in second
    assert str(tmp_path) in second  # the working directory was restored


def test_execution_counts_restart_at_one(shared, leaky, tmp_path):
    for label in ("a", "b"):
        nb = shared.execute(leaky, {"label": label}, cwd=tmp_path)
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == [1, 2, 3]  # parameters, injected parameters, body


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_no_file_descriptors_leak(shared, leaky, tmp_path):
    shared.execute(leaky, {"label": "warm-up"}, cwd=tmp_path)
    before = _open_fds()
    for i in range(4):
        shared.execute(leaky, {"label": f"run{i}"}, cwd=tmp_path)
    assert _open_fds() - before <= 2  # nbclient alone would leak about a dozen per run


def test_kernel_is_replaced_every_n_runs(leaky, tmp_path):
    with WarmKernel(restart_every=2, preload=LIGHT) as k:
        for i in range(3):
            k.execute(leaky, {"label": f"r{i}"}, cwd=tmp_path)
        assert k.starts == 2 and k.runs == 3


def test_a_failing_cell_raises_with_its_number_and_the_next_report_runs(shared, leaky, tmp_path):
    with pytest.raises(ReportExecutionError, match=r"cell 3: ValueError: broken on purpose"):
        shared.execute(leaky, {"label": "FAIL"}, cwd=tmp_path)
    starts = shared.starts
    after = _seen(shared.execute(leaky, {"label": "ok"}, cwd=tmp_path))
    assert shared.starts == starts  # a raising cell leaves a sound kernel
    assert "'leftover': False" in after and "'errors': 'warn'" in after


def test_outer_timeout_restarts_the_kernel(shared, leaky, tmp_path):
    with pytest.raises(ReportTimeoutError, match="within 2 s"):
        shared.execute(leaky, {"label": "slow", "pause": 30}, cwd=tmp_path, job_timeout=2)
    starts = shared.starts
    assert "after" in _seen(shared.execute(leaky, {"label": "after"}, cwd=tmp_path))
    assert shared.starts == starts + 1


def test_a_report_whose_kernel_dies_is_retried_on_a_fresh_kernel(shared, leaky, tmp_path):
    marker = tmp_path / "died-once"
    starts = shared.starts
    seen = _seen(shared.execute(leaky, {"label": "DIE", "marker": str(marker)}, cwd=tmp_path))
    assert marker.exists()  # it did die once
    assert shared.starts >= starts + 1
    assert "DIE" in seen and "'leftover': False" in seen


# ------------------------------------------------------------------------------- identity
_CELL_ID = re.compile(r' id="cell-id=[^"]*"')
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")


def _content(html: str) -> str:
    """The report HTML without what differs between any two runs: nbformat's random cell IDs
    and timestamps."""
    return _TIMESTAMP.sub("<time>", _CELL_ID.sub("", html))


def test_warm_report_is_identical_to_a_cold_papermill_run(demo_path, tmp_path):
    """Through the batch engine: the warm engine renders TOT in English and then VC in
    Spanish in one kernel; its VC report equals papermill's, cold, VC report."""
    common = dict(langs="es", formats=("html",), n_boot=200, cache=True)
    warm_jobs = plan_jobs(
        demo_path, out_dir=tmp_path / "warm", sites="TOT", **{**common, "langs": "en"}
    )
    warm_jobs += plan_jobs(demo_path, out_dir=tmp_path / "warm", sites="VC", **common)
    cold_jobs = plan_jobs(demo_path, out_dir=tmp_path / "cold", sites="VC", **common)
    with cf.ThreadPoolExecutor(1) as pool:  # one worker: one kernel renders both reports
        warm = run_batch(warm_jobs, executor=pool, engine="warm", progress=False)
    with cf.ThreadPoolExecutor(1) as pool:
        cold = run_batch(cold_jobs, executor=pool, engine="papermill", progress=False)
    assert warm.ok and cold.ok, warm.summary() + cold.summary()
    warm_html = (tmp_path / "warm" / "site_VC_es.html").read_text(encoding="utf-8")
    cold_html = (tmp_path / "cold" / "site_VC_es.html").read_text(encoding="utf-8")
    assert "Villa Canales" in warm_html
    assert _content(warm_html) == _content(cold_html)
    nb = json.loads((tmp_path / "warm" / "site_VC_es.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"]["site_id"] == "VC"
    assert nb["metadata"]["papermill"]["engine"] == "copeval-warm"


def _kernel_processes() -> list:
    psutil = pytest.importorskip("psutil")
    return [
        c
        for c in psutil.Process().children(recursive=True)
        if "ipykernel" in " ".join(c.cmdline())
    ]


def test_kernels_of_finished_worker_threads_are_stopped(leaky, tmp_path):
    before = len(_kernel_processes())

    def job(label):
        return _seen(worker_kernel(preload=LIGHT).execute(leaky, {"label": label}, cwd=tmp_path))

    with cf.ThreadPoolExecutor(2) as pool:
        seen = list(pool.map(job, ["a", "b", "c"]))
    assert [x.split(":")[0] for x in seen] == ["a", "b", "c"]
    gc.collect()
    deadline = time.monotonic() + 10
    while len(_kernel_processes()) > before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_kernel_processes()) == before


def test_unknown_engine():
    with pytest.raises(
        CopevalError, match=r"No engine named .fast.\. Available: inprocess, papermill, warm"
    ):
        run_batch([], engine="fast")


def test_warm_up_starts_this_workers_kernel_once():
    from copeval.report.warm import warm_up

    def run():
        assert warm_up() is True
        kernel = worker_kernel()
        assert kernel.km is not None and kernel.starts == 1
        assert warm_up() is True and kernel.starts == 1  # already warm: not restarted
        return kernel.runs

    with cf.ThreadPoolExecutor(1) as pool:  # a thread of its own: its kernel ends with it
        assert pool.submit(run).result() == 0
