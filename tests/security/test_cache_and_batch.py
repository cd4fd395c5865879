"""The analysis cache (never a pickle, never text, never in the reports folder), resume that
sees every input, one batch per output folder, and output names that stay in it."""

from __future__ import annotations

import concurrent.futures as cf
import os
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from report_templates import PARAMETERS_CELL

from copeval.errors import CopevalError
from copeval.report import batch
from copeval.report import data as data_mod
from copeval.report.batch import JobResult, OutputBusyError, plan_jobs, run_batch
from copeval.report.cache import CacheFormatError, default_cache_dir, load_tables
from copeval.report.data import ReportData, analysis_key, clear_memo

TEMPLATE = (
    PARAMETERS_CELL
    + """
# %%
from IPython.display import HTML
HTML(f'<div class="cv-docinfo" data-title="t" data-lang="{lang}" data-running="r"></div>'
     f"<h1>Sitio {site_id}</h1>")
"""
)


class Planted:
    """Unpickling this creates ``marker``: proof that a planted pickle ran code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _noop_runner(job, fingerprint=None):
    return JobResult(job=job, status="done")


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_memo()
    yield
    clear_memo()


# ------------------------------------------------------------------------------- cache
def test_a_planted_pickle_is_never_loaded_at_any_key(tiny_project, tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"
    blob = pickle.dumps({"project": Planted(marker), "result": None, "extras": {}})
    out, cache = tmp_path / "reports", tmp_path / "cache"
    params = {"n_boot": 10}
    keys = {analysis_key(tiny_project, params)}
    monkeypatch.setattr(data_mod, "CACHE_FORMAT", 2)  # the old layout's key
    keys.add(analysis_key(tiny_project, params))
    monkeypatch.undo()
    for folder in (out / ".cache", cache):  # the old place and the new one
        folder.mkdir(parents=True)
        for key in keys:
            (folder / f"analysis-{key}.pickle").write_bytes(blob)
    # a pickle under the new name, and an .npz holding a pickled object array
    (current,) = {analysis_key(tiny_project, params)}
    np.savez(cache / "planted.npz", header=np.array([Planted(marker)], dtype=object))
    (cache / "planted.npz").rename(cache / f"analysis-{current}.npz")
    with pytest.raises(CacheFormatError):
        load_tables(cache / f"analysis-{current}.npz")

    data = ReportData.load(tiny_project, n_boot=10, cache_dir=cache, memo=False)
    assert not marker.exists()
    assert data.table["site_id"].tolist()  # scored anew, and the planted file replaced
    tables, _ = load_tables(cache / f"analysis-{current}.npz")
    assert ("result", "table") in tables

    jobs = plan_jobs(tiny_project, out_dir=out, langs="es", n_boot=10, cache_dir=cache)
    seen = []
    with cf.ThreadPoolExecutor(1) as pool:
        run_batch(jobs, executor=pool, runner=_noop_runner, progress=False, log=seen.append)
    assert not marker.exists()
    assert not (out / ".cache").exists()  # the old cache folder and its pickles are gone
    assert any("held raw texts" in line for line in seen)


def test_the_cache_lives_outside_the_reports_folder(tiny_project, tmp_path, monkeypatch):
    monkeypatch.delenv("COPEVAL_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "copeval"
    monkeypatch.setenv("COPEVAL_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    out = tmp_path / "reports"
    (job,) = plan_jobs(tiny_project, out_dir=out, sites="A", langs="es")
    assert job.cache_dir == str((tmp_path / "mine").resolve())
    (job,) = plan_jobs(tiny_project, out_dir=out, sites="A", langs="es", cache=False)
    assert job.cache_dir is None
    with pytest.raises(CopevalError, match="would be inside the output folder"):
        plan_jobs(tiny_project, out_dir=out, sites="A", cache_dir=out / ".cache")


def test_a_cached_analysis_is_the_same_analysis(demo_copy, tmp_path):
    import pandas as pd

    cache = tmp_path / "cache"
    first = ReportData.load(demo_copy, n_boot=30, cache_dir=cache, memo=False)
    again = ReportData.load(demo_copy, n_boot=30, cache_dir=cache, memo=False)
    for name in ("table", "replicates", "evidence", "respondents"):
        pd.testing.assert_frame_equal(getattr(first.result, name), getattr(again.result, name))
    assert first.extras.keys() == again.extras.keys()
    for key, value in first.extras.items():
        if value is not None:
            pd.testing.assert_frame_equal(value, again.extras[key])
    assert again.result.settings == first.result.settings
    (path,) = cache.glob("analysis-*.npz")
    raw = path.read_bytes()
    for sid in ("VC-I01", "TOT-I01"):  # IDs are stored as tokens, restored from the project
        assert sid.encode("utf-32-le") not in raw and sid.encode() not in raw
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


def test_the_cache_folder_keeps_the_most_recently_used_analyses(tmp_path):
    from copeval.report.cache import MAX_ENTRIES, prune, touch

    files = []
    for i in range(MAX_ENTRIES + 3):
        f = tmp_path / f"analysis-{i:02d}.npz"
        f.write_bytes(b"x")
        os.utime(f, (1_000_000 + i, 1_000_000 + i))
        files.append(f)
    (tmp_path / "other.txt").write_bytes(b"not ours")
    touch(files[0])  # the oldest was just used again
    removed = prune(tmp_path)
    assert sorted(removed) == files[1:4]
    assert files[0].exists() and (tmp_path / "other.txt").exists()


def test_no_report_module_imports_pickle():
    folder = Path(batch.__file__).parent
    for module in folder.glob("*.py"):
        assert "import pickle" not in module.read_text(encoding="utf-8"), module.name


# ------------------------------------------------------------------------------- resume
def _hide_a_text(project: Path) -> Path:
    """Store source S2's text as ``texts/.S2.txt`` (a hidden file)."""
    (project / "texts" / "S2.txt").rename(project / "texts" / ".S2.txt")
    sources = project / "sources.csv"
    sources.write_text(
        sources.read_text(encoding="utf-8").replace("texts/S2.txt", "texts/.S2.txt"),
        encoding="utf-8",
    )
    return project


def test_resume_sees_hidden_texts_and_ignores_its_own_outputs(tiny_project, tmp_path):
    project = _hide_a_text(tiny_project)
    from copeval.project import load_project

    assert load_project(project).sources["text_path"].tolist()[1] == "texts/.S2.txt"
    assert (project / "texts" / ".S2.txt").is_file()
    template = tmp_path / "t.py"
    template.write_text(TEMPLATE, encoding="utf-8")
    out = project / "reports"  # --out inside the project
    jobs = [
        replace(j, notebook=str(template), formats=("html",))
        for j in plan_jobs(project, out_dir=out, sites="A", langs="es", cache=False)
    ]
    with cf.ThreadPoolExecutor(1) as pool:
        first = run_batch(jobs, executor=pool, resume=True, progress=False, engine="papermill")
    assert [r.status for r in first.results] == ["done"]
    with cf.ThreadPoolExecutor(1) as pool:
        again = run_batch(jobs, executor=pool, resume=True, progress=False, log=lambda m: None)
    assert [r.status for r in again.results] == ["skipped"]  # its own outputs are not inputs

    signature = data_mod._stat_signature(project)
    hidden = project / "texts" / ".S2.txt"
    text = hidden.read_text(encoding="utf-8")
    hidden.write_text(text.replace("combustible", "gasolina!!!"), encoding="utf-8")
    assert data_mod._stat_signature(project) != signature  # the warm memo sees it too
    fp = batch.input_fingerprint(jobs[0])
    assert not batch.is_complete(jobs[0], fp)
    # editor and version-control files are not inputs
    (project / ".git").mkdir()
    (project / ".git" / "index").write_bytes(b"x")
    assert batch.input_fingerprint(jobs[0]) == fp


# ------------------------------------------------------------------------------- lock
def test_two_batches_cannot_write_one_folder(tiny_project, tmp_path, capsys):
    import subprocess
    import sys

    from copeval.cli import main

    out = tmp_path / "reports"
    out.mkdir()
    jobs = plan_jobs(tiny_project, out_dir=out, sites="A", langs="es", cache=False)
    holder = subprocess.Popen(  # another batch, in another process, holding the folder
        [
            sys.executable,
            "-c",
            "import sys\nfrom copeval.report.batch import OutputLock\n"
            f"lock = OutputLock({str(out)!r}).acquire()\n"
            "print('locked', flush=True)\nsys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert (out / ".copeval-reports").read_text().strip() == str(holder.pid)
        with pytest.raises(OutputBusyError) as err:
            run_batch(jobs, runner=_noop_runner, progress=False)
        assert f"(PID {holder.pid})" in str(err.value) and str(out) in str(err.value)
        code = main(["batch", str(tiny_project), "--out", str(out), "--no-cache", "-q"])
        stderr = capsys.readouterr().err
        assert code == 1
        assert stderr == (
            f"error: another copeval run (PID {holder.pid}) is writing to {out}; wait for it "
            "to finish or choose another --out\n"
        )
    finally:
        holder.communicate("", timeout=60)  # the holder ends: its lock goes with it
    # threads of one process share the folder (different reports side by side) ...
    other = plan_jobs(tiny_project, out_dir=out, sites="B", langs="es", cache=False)
    with cf.ThreadPoolExecutor(2) as pool, cf.ThreadPoolExecutor(2) as workers:
        runs = [
            pool.submit(run_batch, j, executor=workers, runner=_noop_runner, progress=False)
            for j in (jobs, other)
        ]
        assert all(r.result().ok for r in runs)
    # ... and the lock is released when the last of them ends
    assert batch._HELD == {}


def test_output_names_from_ids_stay_in_the_output_folder(tiny_project, tmp_path):
    (job,) = plan_jobs(tiny_project, out_dir=tmp_path / "o", sites="A", langs="es")
    for hostile in ("../../evil", "/etc/passwd", "..", "a/../../b", "<script>x</script>", ""):
        paths = replace(job, site_id=hostile).outputs()
        for path in [*paths.values(), replace(job, site_id=hostile).manifest_path]:
            assert path.parent == tmp_path / "o", path
            assert "/" not in path.name and ".." not in path.name.split(".")[0]
