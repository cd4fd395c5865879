"""The in-process engine: the same report as a cold papermill run, a fresh state for every
report, failures and timeouts named, the caller's process left as it was."""

from __future__ import annotations

import concurrent.futures as cf
import json
import re
from dataclasses import replace

import pytest

from copeval.report.api import plan_jobs, run_batch

pytestmark = pytest.mark.slow

LEAKY = """\
# %% tags=["parameters"]
project_path = ""
site_id = "x"
lang = "es"
weight = 0.6
n_boot = 2000
seed = 0
ci = 0.9
cache_dir = None
crosswalk = None

# %%
import os
import time
import warnings

import matplotlib as mpl
import numpy as np
from IPython.display import HTML, display

seen = {
    "leftover": "leftover" in globals(),
    "font.size": mpl.rcParams["font.size"],
    "errors": np.geterr()["divide"],
    "filters": len(warnings.filters),
    "cwd": os.path.basename(os.getcwd()),
}
leftover = site_id
mpl.rcParams["font.size"] = 31
np.seterr(divide="raise")
warnings.simplefilter("ignore")
os.chdir("/")
print("to stdout")
display(HTML(f'<div class="cv-docinfo" data-title="t" data-lang="es"></div><p>{site_id}: {seen}</p>'))
if site_id == "B":
    time.sleep(30)

# %%
if site_id == "A":
    raise ValueError("broken on purpose")
HTML("<p>end</p>")
"""


def _content(html: str) -> str:
    body = html[html.index("<body>") :]
    return re.sub(r"Generado [^<]*|Generated [^<]*", "", body)


def test_inprocess_report_is_identical_to_a_cold_papermill_run(demo_path, tmp_path):
    """One worker process renders TOT in English, then VC in Spanish; its VC report equals
    papermill's cold VC report, and the warm kernel's, output by output."""
    common = dict(langs="es", formats=("html",), n_boot=200, cache=True)
    ip_jobs = plan_jobs(
        demo_path, out_dir=tmp_path / "ip", sites="TOT", **{**common, "langs": "en"}
    )
    ip_jobs += plan_jobs(demo_path, out_dir=tmp_path / "ip", sites="VC", **common)
    cold_jobs = plan_jobs(demo_path, out_dir=tmp_path / "cold", sites="VC", **common)
    warm_jobs = plan_jobs(demo_path, out_dir=tmp_path / "warm", sites="VC", **common)
    ip = run_batch(ip_jobs, max_workers=1, engine="inprocess", progress=False)
    with cf.ThreadPoolExecutor(1) as pool:
        cold = run_batch(cold_jobs, executor=pool, engine="papermill", progress=False)
        warm = run_batch(warm_jobs, executor=pool, engine="warm", progress=False)
    assert ip.ok and cold.ok and warm.ok, ip.summary() + cold.summary() + warm.summary()
    ip_html = (tmp_path / "ip" / "site_VC_es.html").read_text(encoding="utf-8")
    cold_html = (tmp_path / "cold" / "site_VC_es.html").read_text(encoding="utf-8")
    assert "Villa Canales" in ip_html
    assert _content(ip_html) == _content(cold_html)

    def outputs(folder):
        nb = json.loads((tmp_path / folder / "site_VC_es.ipynb").read_text(encoding="utf-8"))
        return nb, [
            (c.get("execution_count"), [(o["output_type"], sorted(o.get("data", {})))
                                        for o in c.get("outputs", [])])
            for c in nb["cells"]
        ]  # fmt: skip

    ip_nb, ip_out = outputs("ip")
    _, warm_out = outputs("warm")
    assert ip_out == warm_out
    assert ip_nb["metadata"]["papermill"]["engine"] == "copeval-inprocess"
    assert ip_nb["metadata"]["papermill"]["parameters"]["site_id"] == "VC"


def test_each_report_starts_fresh_and_failures_are_named(tiny_project, tmp_path):
    template = tmp_path / "leaky.py"
    template.write_text(LEAKY, encoding="utf-8")
    out = tmp_path / "out"
    base = [replace(j, notebook=str(template), formats=("html",), timeout=3)
            for j in plan_jobs(tiny_project, out_dir=out, langs="es", cache=False)]  # fmt: skip
    c = replace(base[0], site_id="C")
    d = replace(base[0], site_id="D")
    jobs = [c, base[0], d, base[1], replace(c, lang="en")]  # C, A (fails), D, B (hangs), C
    result = run_batch(jobs, max_workers=1, engine="inprocess", progress=False,
                       log=lambda m: None)  # fmt: skip
    status = [r.status for r in result.results]
    assert status == ["done", "failed", "done", "failed", "done"], result.summary()
    assert "failed in cell" in result.results[1].error
    assert "ValueError: broken on purpose" in result.results[1].error
    assert "did not finish within 3 s" in result.results[3].error
    pages = [(out / f"{j.stem}.html").read_text(encoding="utf-8") for j in (c, d, jobs[-1])]
    seen = [re.search(r"<p>\w+: (\{.*?\})</p>", p).group(1) for p in pages]
    assert len(set(seen)) == 1, seen  # every report saw the state of a fresh start
    assert "'leftover': False" in seen[0] and "'font.size': 31" not in seen[0]
    assert "'cwd': 'out'" in seen[0]
    for page in pages:
        assert "to stdout" not in page and "<p>end</p>" in page


def test_the_callers_process_is_left_as_it_was(tiny_project, tmp_path):
    import os
    import warnings

    import numpy as np

    template = tmp_path / "leaky.py"
    template.write_text(LEAKY, encoding="utf-8")
    job = replace(plan_jobs(tiny_project, out_dir=tmp_path / "o", langs="es", cache=False)[0],
                  site_id="C", notebook=str(template), formats=("html",))  # fmt: skip
    with cf.ThreadPoolExecutor(1) as pool:  # first run: modules imported (their filters)
        assert run_batch([job], executor=pool, engine="inprocess", progress=False).ok
    before = (os.getcwd(), np.geterr()["divide"], len(warnings.filters))
    with cf.ThreadPoolExecutor(1) as pool:
        result = run_batch([job], executor=pool, engine="inprocess", progress=False)
    assert result.ok, result.summary()
    assert (os.getcwd(), np.geterr()["divide"], len(warnings.filters)) == before


def test_an_inprocess_report_leaves_the_callers_main_module_for_process_pools():
    """IPython puts its namespace in sys.modules['__main__'] (no __spec__); left there, a
    process pool the caller starts afterwards failed ('module __main__ has no attribute
    __spec__'): the flaky CI failure of test_render_typst_route."""
    import concurrent.futures as cf
    import multiprocessing
    import sys

    from copeval.report import inprocess

    before = sys.modules["__main__"]
    inprocess.warm_up()
    assert sys.modules["__main__"] is before
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        assert pool.submit(abs, -3).result(timeout=60) == 3
