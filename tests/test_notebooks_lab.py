"""Every notebook in notebooks/ runs top to bottom as JupyterLab runs it.

JupyterLab (``make lab``) starts each notebook's kernel in ``notebooks/`` and picks the kernel
its header names. Here papermill does the same: working directory ``notebooks/``, the
notebook's own kernel (``copeval``), no path edited. Only ``n_boot`` is lowered, for time.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
#: Parameters lowered for the test's time; never a path.
FAST = {"n_boot": 100}


def _notebooks() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("*.py"))


#: start_here.py runs with its own parameters below (as a researcher runs it).
OTHERS = [name for name in _notebooks() if name != "start_here.py"]


def _run(name: str, parameters: dict):
    import jupytext
    import papermill as pm

    nb = jupytext.read(NOTEBOOKS / name)
    declared = {
        k for c in nb.cells if "parameters" in c.metadata.get("tags", []) for k in _names(c.source)
    }
    return pm.execute_notebook(
        nb,
        None,
        parameters={k: v for k, v in parameters.items() if k in declared},
        kernel_name=None,  # the kernel the notebook's header asks for, as JupyterLab does
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        log_output=False,
        execution_timeout=600,
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
    )


def _names(source: str) -> list[str]:
    return [line.split("=")[0].strip() for line in source.splitlines() if "=" in line]


def _outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_every_notebook_is_covered():
    assert {
        "start_here.py",
        "tutorial_1_load_and_reliability.py",
        "tutorial_2_scoring_and_comparison.py",
        "site_report.py",
        "comparative_report.py",
    } <= set(_notebooks())


@pytest.mark.parametrize("name", OTHERS)
def test_notebook_runs_from_the_notebooks_folder_with_the_copeval_kernel(name):
    nb = _run(name, FAST)
    assert nb.metadata["kernelspec"]["name"] == "copeval"
    outputs = _outputs(nb)
    assert outputs and not [o for o in outputs if o.output_type == "error"]
    assert not [
        o
        for o in outputs
        if o.output_type == "stream" and o.name == "stderr" and "Error" in o.text
    ]
    if name == "tutorial_2_scoring_and_comparison.py":
        figures = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(figures) == 2  # the heatmap and the forest plot display inline
    if name.endswith("_report.py"):
        html = [o for o in outputs if "text/html" in o.get("data", {})]
        assert len(html) >= 5  # the report's sections, rendered in the notebook


def test_start_here_is_quick_and_shows_one_sites_ratings():
    """As a researcher runs it: default parameters (2 000 bootstrap replicates), < 20 s."""
    start = time.monotonic()
    nb = _run("start_here.py", {})
    elapsed = time.monotonic() - start
    assert nb.metadata["kernelspec"]["name"] == "copeval"
    assert not [o for o in _outputs(nb) if o.output_type == "error"]
    text = "\n".join(
        o.get("text", "") + o.get("data", {}).get("text/html", "") for o in _outputs(nb)
    )
    assert "valid: 2 sites, 32 sources, 2 warning(s)" in text  # the two refused consents
    assert "Villa Canales" in text
    for label in ("C1 Small-area focus", "C4 Analysis of conditions", "AT Accountability"):
        assert label in text
    assert "acceptable" in text and "limited" in text  # band labels, not codes only
    # the links of the last cell point at notebooks that exist beside it
    links = [
        part.split(")")[0]
        for c in nb.cells
        if c.cell_type == "markdown"
        for part in c.source.split("](")[1:]
    ]
    assert len(links) >= 4 and all((NOTEBOOKS / link).is_file() for link in links), links
    assert elapsed < 20 * 3, elapsed  # 20 s alone; the margin is for a loaded test machine
