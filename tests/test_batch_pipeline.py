"""The pipeline's seams: the engine registry, the prepare step, rounds, scheduling, the CLI.

These run without a Jupyter kernel: a registered test engine "executes" a notebook by
filling in outputs, so what is tested is the pipeline around the engine.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
from dataclasses import replace

import nbformat
import pytest

from copeval.errors import CopevalError
from copeval.report import api, batch, engines
from copeval.report.doc import TYPST_MIME
from copeval.report.job import ReportJob, input_fingerprint, plan_jobs

CALLS: list = []


def _fake_execute(notebook, parameters, *, cwd=None, timeout=600):
    """An engine that runs nothing: one display output naming the parameters."""
    CALLS.append(dict(parameters))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("report.cover()")
    label = f"{parameters.get('site_id', 'cmp')}|{parameters['lang']}|{parameters.get('round')}"
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": f'<h1>{label}</h1><script>alert("x")</script>',
                "text/plain": "",
            },
        ),
        nbformat.v4.new_output("stream", name="stdout", text="print noise\n"),
    ]
    nb.cells.append(cell)
    return nb


@pytest.fixture
def fake_engine():
    CALLS.clear()
    engines.register_engine(engines.Engine("fake", _fake_execute), replace=True)
    yield "fake"
    engines._ENGINES.pop("fake", None)


@pytest.fixture(scope="module")
def rounds_project(tmp_path_factory):
    from copeval.synth import synth_rounds

    out = tmp_path_factory.mktemp("rounds") / "two_rounds"
    synth_rounds(2, rounds=2, seed=3, out=out)
    return out


# ------------------------------------------------------------------------------ registry
def test_unknown_engine_names_the_available_ones():
    with pytest.raises(
        CopevalError, match=r"^No engine named 'fast'\. Available: inprocess, papermill, warm$"
    ):
        engines.get_engine("fast")
    with pytest.raises(CopevalError, match="No engine named"):
        batch.run_batch([], engine="fast")
    assert engines.engine_names() == ["inprocess", "papermill", "warm"]
    assert batch.ENGINES == ("inprocess", "papermill", "warm")


def test_an_engine_is_registered_once_unless_replaced(fake_engine):
    with pytest.raises(CopevalError, match="already registered"):
        engines.register_engine(engines.Engine("fake", _fake_execute))
    with pytest.raises(CopevalError, match="needs an Engine"):
        engines.register_engine("fake")


def test_a_registered_engine_renders_through_the_pipeline(tiny_project, tmp_path, fake_engine):
    out = tmp_path / "out"
    jobs = plan_jobs(tiny_project, out_dir=out, langs="es", formats="html", cache=False)
    with cf.ThreadPoolExecutor(1) as pool:
        result = batch.run_batch(jobs, executor=pool, engine=fake_engine, progress=False)
    assert result.ok and len(result.done) == 2
    html = (out / "site_A_es.html").read_text(encoding="utf-8")
    assert "<h1>A|es|None</h1>" in html
    assert "<script" not in html and "print noise" not in html
    # the executed notebook kept for audit meets the page's rule too
    nb = json.loads((out / "site_A_es.ipynb").read_text(encoding="utf-8"))
    assert "<script" not in json.dumps(nb)
    assert set(result.done[0].timings) == {"execute", "html", "write"}
    assert "execute" in result.summary() and "write" in result.summary()


# ------------------------------------------------------------------------------ prepare
def test_prepare_gets_only_the_jobs_that_run(tiny_project, tmp_path, fake_engine):
    out = tmp_path / "out"
    jobs = plan_jobs(tiny_project, out_dir=out, langs="es,en", formats="html", cache=False)
    seen = []
    with cf.ThreadPoolExecutor(1) as pool:
        batch.run_batch(
            jobs[:2], executor=pool, engine=fake_engine, progress=False,
            prepare=lambda js, n: seen.append(([j.stem for j in js], n)),
        )  # fmt: skip
        batch.run_batch(
            jobs, executor=pool, engine=fake_engine, progress=False, resume=True,
            max_workers=3, log=lambda m: None,
            prepare=lambda js, n: seen.append(([j.stem for j in js], n)),
        )  # fmt: skip
    assert seen == [(["site_A_es", "site_A_en"], seen[0][1]), (["site_B_es", "site_B_en"], 3)]


def test_the_api_scores_each_project_once_before_the_workers(tiny_project, tmp_path, fake_engine):
    out = tmp_path / "out"
    cache = tmp_path / "cache"
    jobs = plan_jobs(tiny_project, out_dir=out, langs="es,en", formats="html", cache_dir=cache)
    with cf.ThreadPoolExecutor(1) as pool:
        result = api.run_batch(jobs, executor=pool, engine=fake_engine, progress=False)
    assert result.ok
    assert len(list(cache.glob("analysis-*.npz"))) == 1  # scored once, for the 4 reports
    assert list(out.glob("*.npz")) == []


# ------------------------------------------------------------------------------ rounds
def test_a_round_is_in_the_names_parameters_and_fingerprint(rounds_project, tmp_path):
    from copeval.project import load_project

    rounds = load_project(rounds_project).round_ids
    assert len(rounds) == 2
    plain = plan_jobs(rounds_project, out_dir=tmp_path, langs="es", cache=False, comparative=True)
    first = plan_jobs(
        rounds_project, out_dir=tmp_path, langs="es", cache=False, comparative=True,
        round=rounds[0],
    )  # fmt: skip
    site = plain[0].site_id
    assert first[0].stem == f"site_{site}_r{rounds[0]}_es"
    assert first[-1].stem == f"comparative_r{rounds[0]}_es"
    assert first[0].parameters()["round"] == rounds[0]
    assert "round" not in plain[0].parameters()  # latest: the notebook's default
    assert first[0].label == f"{site} (es, round {rounds[0]})"
    fps = {input_fingerprint(j) for j in (plain[0], first[0], replace(first[0], round=rounds[1]))}
    assert len(fps) == 3
    with pytest.raises(
        CopevalError, match=rf"Unknown round '1999'\. Available rounds: {rounds[0]}"
    ):
        plan_jobs(rounds_project, out_dir=tmp_path, round="1999", cache=False)


def test_a_one_round_project_has_no_round_to_ask_for(tiny_project, tmp_path):
    with pytest.raises(CopevalError, match=r"Unknown round '2'\. Available rounds: none"):
        plan_jobs(tiny_project, out_dir=tmp_path, round="2", cache=False)


def test_a_round_batch_is_resumable(rounds_project, tmp_path, fake_engine):
    from copeval.project import load_project

    first = load_project(rounds_project).round_ids[0]
    out = tmp_path / "out"
    jobs = plan_jobs(
        rounds_project, out_dir=out, langs="es", formats="html", cache=False, round=first
    )
    with cf.ThreadPoolExecutor(1) as pool:
        done = batch.run_batch(jobs, executor=pool, engine=fake_engine, progress=False)
        again = batch.run_batch(
            jobs, executor=pool, engine=fake_engine, progress=False, resume=True,
            log=lambda m: None,
        )  # fmt: skip
        latest = plan_jobs(rounds_project, out_dir=out, langs="es", formats="html", cache=False)
        other = batch.run_batch(
            latest, executor=pool, engine=fake_engine, progress=False, resume=True
        )
    assert [r.status for r in done.results] == ["done", "done"]
    assert [r.status for r in again.results] == ["skipped", "skipped"]
    assert [r.status for r in other.results] == ["done", "done"]  # other names, other reports
    assert f"|{first}</h1>" in (out / f"{jobs[0].stem}.html").read_text(encoding="utf-8")
    assert CALLS[0]["round"] == first


# ------------------------------------------------------------------------------ scheduling
def test_longest_reports_are_submitted_first(tmp_path):
    def job(kind, profile="full", site="A"):
        return ReportJob(kind=kind, project="p", lang="es", out_dir=str(tmp_path),
                         site_id=site, profile=profile)  # fmt: skip

    jobs = [
        job("site", "brief"),
        job("site"),
        job("comparative", site=None),
        job("site", "brief", "B"),
    ]
    assert batch._schedule(jobs, [0, 1, 2, 3]) == [2, 1, 0, 3]


# ------------------------------------------------------------------------------ CLI
def test_cli_names_the_engines_and_rounds(tiny_project, tmp_path, capsys):
    from copeval.cli import main

    code = main(["batch", str(tiny_project), "--out", str(tmp_path / "o"), "--engine", "fast"])
    err = capsys.readouterr().err
    assert code != 0 and "No engine named 'fast'. Available: inprocess, papermill, warm" in err
    assert "Traceback" not in err
    code = main(["report", str(tiny_project), "--site", "A", "--out", str(tmp_path / "o"),
                 "--round", "2"])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "Unknown round '2'" in err and "Traceback" not in err


def test_typst_outputs_choose_the_pdf_route(monkeypatch):
    import sys
    import types

    from copeval.report import render

    def nb_with(*datas, removed=None):
        nb = nbformat.v4.new_notebook()
        for data in datas:
            cell = nbformat.v4.new_code_cell("x")
            cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
            nb.cells.append(cell)
        if removed is not None:
            cell = nbformat.v4.new_code_cell("y", metadata={"tags": ["remove-cell"]})
            cell.outputs = [nbformat.v4.new_output("display_data", data=removed)]
            nb.cells.append(cell)
        return nb

    both = {"text/html": "<p>a</p>", TYPST_MIME: "a", "text/plain": ""}
    html = {"text/html": "<p>b</p>"}
    empty = {"text/plain": ""}  # a section outside the profile
    assert render.pdf_route(nb_with(both, empty, both)) == "typst"
    assert render.pdf_route(nb_with(both, html)) == "weasyprint"
    assert render.pdf_route(nb_with(html)) == "weasyprint"
    assert render.pdf_route(nb_with(empty)) == "weasyprint"
    assert render.pdf_route(nb_with(both, removed=html)) == "typst"  # removed cells don't count

    fake = types.ModuleType("copeval.report.pdf")
    fake.notebook_pdf = lambda nb: b"%PDF-typst"
    monkeypatch.setitem(sys.modules, "copeval.report.pdf", fake)
    assert render.export_pdf(nb_with(both)) == b"%PDF-typst"
