"""Benchmark: national batches of site reports and national scoring, side by side.

Usage::

    .venv/bin/python bench/bench_batch.py [--sites 20] [--national 340] [--jobs 2]
        [--lang es] [--seed 0] [--engines warm,papermill] [--profiles full,brief]
        [--national-profiles full,brief] [--naive-sample 2] [--naive-sites 0] [--naive-reps 10]
        [--skip a,b,c] [--workdir DIR] [--json FILE]

Every comparison is measured in one run, on the same synthetic data
(:func:`copeval.design.national_project`), and printed as a ratio:

(a) **20 site reports** (execute + HTML + PDF) of a 20-site synthetic project, for each
    report profile of ``--profiles`` (``full``: the complete report; ``brief``: the
    municipal brief): copeval's batch engine (``copeval.report.run_batch``: the project
    scored once, one worker per core; the ``warm`` engine and, for reference, the
    ``papermill`` engine) against the naive route
    rendering the same notebook with the same parameters, sequential, per site:
    one ``papermill`` CLI call, one ``jupyter nbconvert --to html --no-input`` call and one
    ``weasyprint`` CLI call (HTML to PDF). The naive route runs the notebook without
    copeval's shared analysis cache, as a user calling papermill would: every report scores
    the project again.
(b) **all sites** of a 340-site synthetic project with the batch engine (warm), in each
    profile of ``--national-profiles``; the naive route is timed on ``--naive-sample``
    sites of the same project and extrapolated.
(c) **scoring** 340 sites x 5 criteria x 2,000 bootstrap replicates with
    :func:`copeval.scoring.score_evidence` against a naive pandas bootstrap (one
    ``groupby().sample()`` per replicate), timed on ``--naive-reps`` replicates and
    extrapolated to 2,000.
(e) **where the time goes**: the CPU seconds of each step of one report (execute, with the
    in-process engine and with a warm kernel; HTML page; PDF; notebook JSON), full report
    and brief, on the 340-site project, sequential in one process (``--stage-reports``).
(d) **peak memory** of each: the largest total resident memory of this process and all its
    descendants (workers, kernels, CLI tools), sampled every 0.1 s; and for scoring the peak
    of Python/NumPy allocations (``tracemalloc``).

For every copeval route the mean seconds of each step inside a worker are printed
(execute / HTML / PDF / write) with the PDF route taken (Typst from the notebook's
``text/x-typst`` outputs, or the WeasyPrint fallback): where a report's time goes.

Targets on the 2-core reference machine (issue 14): (a) full reports >= 20x faster than
naive; (b) 340 full reports <= 180 s, 340 briefs <= 90 s; (c) <= 10 s; (d) peak memory
<= 2 GiB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from copeval.design import national_project  # noqa: E402

BIN = Path(sys.executable).parent
TARGETS = {"a": 20.0, "b_full": 180.0, "b_brief": 90.0, "c": 10.0, "memory_mib": 2048.0}


# ------------------------------------------------------------------------------- helpers
def machine_info() -> dict:
    import jupyter_client
    import nbconvert
    import papermill
    import weasyprint

    try:
        import typst

        typst_version = getattr(typst, "__version__", "installed")
    except ImportError:
        typst_version = None
    cpu = platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    mem = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    load = None
    with contextlib.suppress(OSError):
        load = os.getloadavg()[0]
    return {
        "system": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem, 1) if mem else None,
        "load_average_1min_at_start": round(load, 2) if load is not None else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "papermill": papermill.__version__,
        "nbconvert": nbconvert.__version__,
        "jupyter_client": jupyter_client.__version__,
        "weasyprint": weasyprint.__version__,
        "typst": typst_version,
    }


class PeakMemory:
    """Peak total resident memory (MiB) of this process and all its descendants."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()

    def _sample(self) -> float:
        import psutil

        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total / 2**20

    def _run(self):
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _say(text: str = "") -> None:
    print(text, flush=True)


def make_project(n_sites: int, seed: int, folder: Path) -> Path:
    path = folder / f"national{n_sites}"
    if not (path / "datapackage.json").is_file():
        national_project(n_sites, seed=seed, out=path)
    return path


def notebook_ipynb(folder: Path) -> Path:
    """The site report template as .ipynb (the papermill CLI reads notebooks, not .py)."""
    import jupytext

    target = folder / "site_report.ipynb"
    nb = jupytext.read(REPO / "notebooks" / "site_report.py", fmt="py:percent")
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    jupytext.write(nb, target, fmt="ipynb")
    return target


# ------------------------------------------------------------------------------- routes
def naive_commands(
    ipynb: Path, project: Path, site: str, lang: str, out: Path, profile: str = "full"
) -> list:
    stem = out / f"site_{site}_{lang}"
    return [
        [str(BIN / "papermill"), str(ipynb), f"{stem}.ipynb", "-r", "project_path", str(project),
         "-r", "site_id", site, "-p", "lang", lang, "-r", "profile", profile, "-k", "python3",
         "--no-progress-bar", "--cwd", str(out)],
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", f"{stem}.ipynb",
         "--output-dir", str(out)],
        [str(BIN / "weasyprint"), f"{stem}.html", f"{stem}.pdf"],
    ]  # fmt: skip


def naive_route(ipynb, project, sites, lang, out: Path, profile: str = "full") -> dict:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    steps = {"papermill": 0.0, "nbconvert": 0.0, "weasyprint": 0.0}
    failures = []
    with PeakMemory() as mem:
        start = time.perf_counter()
        for site in sites:
            for name, cmd in zip(
                steps, naive_commands(ipynb, project, site, lang, out, profile), strict=True
            ):
                t0 = time.perf_counter()
                done = subprocess.run(cmd, capture_output=True, text=True, env=env)
                steps[name] += time.perf_counter() - t0
                if done.returncode != 0:
                    failures.append(f"{site} {name}: {done.stderr.strip().splitlines()[-1:]}")
                    break
        seconds = time.perf_counter() - start
    pdfs = sum((out / f"site_{s}_{lang}.pdf").is_file() for s in sites)
    return {
        "route": f"naive (papermill + nbconvert + weasyprint CLIs, sequential), {profile}",
        "reports": len(sites),
        "pdfs": pdfs,
        "seconds": seconds,
        "per_report": seconds / len(sites),
        "steps_per_report": {k: v / len(sites) for k, v in steps.items()},
        "peak_mib": mem.peak,
        "failures": failures,
    }


def engine_route(
    project, sites, lang, out: Path, *, engine: str, jobs: int, profile: str = "full"
) -> dict:
    from copeval.report import plan_jobs, run_batch

    with PeakMemory() as mem:
        start = time.perf_counter()
        planned = plan_jobs(project, out_dir=out, sites=sites, langs=lang, profile=profile)
        result = run_batch(planned, max_workers=jobs, engine=engine, progress=False, log=_say)
        seconds = time.perf_counter() - start
    done = result.done
    stages = {}
    for key in ("execute", "html", "pdf", "write"):
        values = [r.timings.get(key, 0.0) for r in done]
        stages[key] = sum(values) / len(values) if values else float("nan")
    routes = {}
    for r in done:
        with contextlib.suppress(OSError, ValueError):
            manifest = json.loads(Path(out, f"{r.job.stem}.manifest.json").read_text("utf-8"))
            route = manifest.get("pdf_route", "?")
            routes[route] = routes.get(route, 0) + 1
    return {
        "route": f"copeval run_batch, engine={engine}, {jobs} workers, {profile}",
        "reports": len(planned),
        "pdfs": sum(Path(r.outputs["pdf"]).is_file() for r in done),
        "failed": len(result.failed),
        "seconds": seconds,
        "per_report": seconds / len(planned),
        "worker_seconds_per_report": {k: round(v, 3) for k, v in stages.items()},
        "pdf_routes": routes,
        "peak_mib": mem.peak,
        "failures": [f"{r.job.label}: {r.error}" for r in result.failed],
    }


def _print_route(r: dict) -> None:
    _say(
        f"  {r['route']}: {r['reports']} reports ({r['pdfs']} PDFs) in {r['seconds']:.1f} s "
        f"= {r['per_report']:.2f} s per report; peak memory {r['peak_mib']:.0f} MiB"
    )
    if "steps_per_report" in r:
        _say(
            "    per report: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in r["steps_per_report"].items())
        )
    if "worker_seconds_per_report" in r:
        _say(
            "    per report, inside a worker: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in r["worker_seconds_per_report"].items())
            + f" (PDF routes: {r.get('pdf_routes')})"
        )
    for f in r.get("failures", [])[:5]:
        _say(f"    FAILED {f}")


# ------------------------------------------------------------------------------- scoring
def naive_bootstrap(evidence, respondents, n_reps: int, seed: int, weight: float = 0.6):
    """One pandas ``groupby().sample()`` per replicate and component (the obvious loop)."""
    rng = np.random.default_rng(seed)
    cell_q = ["site_id", "criterion", "stratum"]
    units = evidence.groupby([*cell_q, "source_id"])["valence"].mean().reset_index()
    cell_s = ["site_id", "criterion", "instrument"]
    resp = respondents[[*cell_s, "score", "weight"]].dropna(subset=["score"])
    out = []
    for _ in range(n_reps):
        q = units.groupby(cell_q, group_keys=False).sample(frac=1, replace=True, random_state=rng)
        qual = q.groupby(cell_q)["valence"].mean().groupby(["site_id", "criterion"]).mean() + 2
        s = resp.groupby(cell_s, group_keys=False).sample(frac=1, replace=True, random_state=rng)
        s = s.assign(wx=s["score"] * s["weight"]).groupby(cell_s)[["wx", "weight"]].sum()
        surv = (s["wx"] / s["weight"]).groupby(["site_id", "criterion"]).mean()
        both = pd.concat({"q": qual, "s": surv}, axis=1)
        comb = (weight * both["q"] + (1 - weight) * both["s"]).fillna(both["q"]).fillna(both["s"])
        out.append(comb.to_numpy())
    return out


def scoring_bench(project_path: Path, *, n_boot: int, seed: int, naive_reps: int, jobs: int):
    from copeval.project import load_project
    from copeval.scoring import score_evidence, score_sites
    from copeval.survey import respondent_scores

    project = load_project(project_path)
    evidence = project.evidence()
    respondents = respondent_scores(project.items, project.responses)
    sites = list(project.sites["site_id"])
    res = {
        "sites": len(sites),
        "sources": len(project.sources),
        "scored_segments": len(evidence),
        "respondents": int(respondents["respondent_id"].nunique()),
        "n_boot": n_boot,
    }

    def core(n_jobs):
        return score_evidence(
            evidence, respondents, sites=sites, n_boot=n_boot, seed=seed, n_jobs=n_jobs
        )

    for label, n_jobs in (("core_1_thread", 1), (f"core_{jobs}_threads", jobs)):
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            result = core(n_jobs)
            best = min(best, time.perf_counter() - t0)
        res[label] = best
    res["rows"] = len(result.table)
    t0 = time.perf_counter()
    score_sites(project, n_boot=n_boot, seed=seed, n_jobs=jobs)
    res["score_sites"] = time.perf_counter() - t0
    tracemalloc.start()
    core(1)
    res["core_traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    t0 = time.perf_counter()
    naive_bootstrap(evidence, respondents, 1, seed)  # warm-up: imports, caches
    t0 = time.perf_counter()
    tracemalloc.start()
    naive_bootstrap(evidence, respondents, naive_reps, seed)
    res["naive_traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    per_rep = (time.perf_counter() - t0) / naive_reps
    res["naive_per_replicate"] = per_rep
    res["naive_extrapolated"] = per_rep * n_boot
    res["naive_reps_timed"] = naive_reps
    return res


# ------------------------------------------------------------------------------- stages
def stage_cpu(project: Path, *, profile: str, reports: int, lang: str, cache: Path) -> dict:
    """CPU seconds of each step of one report, sequential in this process (the first report
    warms up and is not counted): execute with the in-process engine and with a warm kernel
    (its CPU read from the kernel process), sanitise + HTML page, PDF, notebook JSON.

    CPU time, not wall time, so the split does not depend on what else the machine runs.
    """
    import nbformat
    import psutil

    from copeval.report.inprocess import execute_notebook_inprocess, warm_up
    from copeval.report.job import plan_jobs
    from copeval.report.render import (
        export_html,
        export_pdf,
        pdf_route,
        read_notebook,
        sanitize_outputs,
    )
    from copeval.report.warm import WarmKernel

    sites = list(pd.read_csv(project / "sites.csv", dtype=str)["site_id"])[: reports + 1]
    out = cache.parent / f"stages_{profile}"
    out.mkdir(parents=True, exist_ok=True)
    jobs = plan_jobs(project, out_dir=out, sites=sites, langs=lang, profile=profile,
                     cache_dir=cache)  # fmt: skip
    warm_up()
    steps: dict = {"execute (inprocess)": [], "html": [], "pdf": [], "notebook": []}
    route = None
    for i, job in enumerate(jobs):
        c0 = time.process_time()
        nb = execute_notebook_inprocess(read_notebook(job.notebook_file()), job.parameters(),
                                        cwd=out)  # fmt: skip
        c1 = time.process_time()
        sanitize_outputs(nb)
        html = export_html(nb)
        c2 = time.process_time()
        export_pdf(nb, html=html)
        c3 = time.process_time()
        nbformat.writes(nb)
        c4 = time.process_time()
        route = pdf_route(nb)
        if i:
            for key, value in zip(steps, (c1 - c0, c2 - c1, c3 - c2, c4 - c3), strict=True):
                steps[key].append(value)
    warm = []
    with WarmKernel() as kernel:
        kernel.start()
        proc = psutil.Process(kernel.km.provisioner.process.pid)
        me = psutil.Process()

        def cpu(p):
            t = p.cpu_times()
            return t.user + t.system

        for i, job in enumerate(jobs):
            k0, h0 = cpu(proc), cpu(me)
            kernel.execute(read_notebook(job.notebook_file()), job.parameters(), cwd=out)
            if i:
                warm.append(cpu(proc) - k0 + cpu(me) - h0)
    steps["execute (warm kernel + its client)"] = warm
    mean = {k: sum(v) / len(v) for k, v in steps.items()}
    return {"profile": profile, "reports": reports, "pdf_route": route, "cpu_seconds": mean}


# ------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=20, help="sites of benchmark (a)")
    ap.add_argument("--national", type=int, default=340, help="sites of benchmarks (b), (c)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="batch workers")
    ap.add_argument("--lang", default="es")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates in (c)")
    ap.add_argument(
        "--engines", default="warm,inprocess,papermill", help="copeval engines timed in (a)"
    )
    ap.add_argument("--national-engines", default="warm,inprocess", help="engines timed in (b)")
    ap.add_argument("--profiles", default="full,brief", help="report profiles timed in (a)")
    ap.add_argument(
        "--national-profiles", default="full,brief", help="report profiles of (b), in turn"
    )
    ap.add_argument("--naive-sample", type=int, default=2, help="naive reports timed in (b)")
    ap.add_argument(
        "--naive-sites",
        type=int,
        default=0,
        help="naive reports timed in (a), extrapolated to all (default 0: all of them)",
    )
    ap.add_argument("--naive-reps", type=int, default=10, help="naive replicates timed in (c)")
    ap.add_argument("--skip", default="", help="benchmarks to skip, e.g. b or a,c,e")
    ap.add_argument("--stage-reports", type=int, default=5, help="reports timed in (e)")
    ap.add_argument("--workdir", type=Path, help="keep data and outputs here (default: temp)")
    ap.add_argument("--json", type=Path, help="write all measurements here")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    info = machine_info()
    results: dict = {"machine": info, "command": " ".join([Path(sys.executable).name, *sys.argv])}
    _say("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        ipynb = notebook_ipynb(work)

        if "a" not in skip:
            project = make_project(args.sites, args.seed, work)
            sites = list(pd.read_csv(project / "sites.csv", dtype=str)["site_id"])
            results["a"] = {}
            for profile in [p.strip() for p in args.profiles.split(",") if p.strip()]:
                _say(
                    f"\n(a) {len(sites)} site reports ({args.lang}, profile {profile}), "
                    f"project {project.name}"
                )
                runs = {}
                for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
                    runs[engine] = engine_route(
                        project, sites, args.lang, work / f"a_{profile}_{engine}",
                        engine=engine, jobs=args.jobs, profile=profile,
                    )  # fmt: skip
                    _print_route(runs[engine])
                naive_sites = sites[: args.naive_sites] if args.naive_sites else sites
                runs["naive"] = naive_route(
                    ipynb, project, naive_sites, args.lang, work / f"a_{profile}_naive", profile
                )
                _print_route(runs["naive"])
                naive_seconds = runs["naive"]["per_report"] * len(sites)
                if len(naive_sites) < len(sites):
                    runs["naive"]["extrapolated_seconds"] = naive_seconds
                    _say(
                        f"  naive route timed on {len(naive_sites)} of the {len(sites)} "
                        f"reports, extrapolated: {naive_seconds:.1f} s"
                    )
                for engine in runs:
                    if engine != "naive":
                        ratio = naive_seconds / runs[engine]["seconds"]
                        runs[engine]["speedup_vs_naive"] = ratio
                        target = f" (target >= {TARGETS['a']:g}x)" if profile == "full" else ""
                        _say(f"  ratio naive / copeval {engine}: {ratio:.2f}x{target}")
                results["a"][profile] = runs

        national = None
        if not {"b", "c", "e"} <= skip:
            national = make_project(args.national, args.seed, work)
        if "b" not in skip:
            sites = list(pd.read_csv(national / "sites.csv", dtype=str)["site_id"])
            results["b"] = {}
            for profile in [p.strip() for p in args.national_profiles.split(",") if p.strip()]:
                _say(
                    f"\n(b) {len(sites)} site reports ({args.lang}, profile {profile}), "
                    f"project {national.name}"
                )
                runs = {}
                for engine in [e.strip() for e in args.national_engines.split(",") if e.strip()]:
                    runs[engine] = engine_route(
                        national, "all", args.lang, work / f"b_{profile}_{engine}",
                        engine=engine, jobs=args.jobs, profile=profile,
                    )  # fmt: skip
                    _print_route(runs[engine])
                sample = sites[: args.naive_sample]
                naive = naive_route(
                    ipynb, national, sample, args.lang, work / f"b_{profile}_naive", profile
                )
                _print_route(naive)
                naive_total = naive["per_report"] * len(sites)
                _say(
                    f"  naive route extrapolated to {len(sites)} reports from {len(sample)}: "
                    f"{naive_total:.0f} s"
                )
                target = TARGETS.get(f"b_{profile}")
                for engine, run in runs.items():
                    run["speedup_vs_naive"] = naive_total / run["seconds"]
                    _say(
                        f"  copeval {engine}: {run['seconds']:.0f} s"
                        + (f" (target <= {target:.0f} s)" if target else "")
                        + f", {run['speedup_vs_naive']:.1f}x faster than naive; peak memory "
                        f"{run['peak_mib']:.0f} MiB (target <= {TARGETS['memory_mib']:.0f} MiB)"
                    )
                results["b"][profile] = {**runs, "naive_sample": naive,
                                         "naive_extrapolated": naive_total}  # fmt: skip

        if "e" not in skip:
            results["e"] = {}
            for profile in ("full", "brief"):
                res = stage_cpu(national, profile=profile, reports=args.stage_reports,
                                lang=args.lang, cache=work / "stage_cache")  # fmt: skip
                results["e"][profile] = res
                _say(
                    f"\n(e) where the time goes, {profile} report ({args.stage_reports} reports "
                    f"of {national.name}, CPU seconds each, PDF by {res['pdf_route']}): "
                    + ", ".join(f"{k} {v:.3f}" for k, v in res["cpu_seconds"].items())
                )

        if "c" not in skip:
            _say(f"\n(c) scoring {args.national} sites x 5 criteria x {args.n_boot} replicates")
            sc = scoring_bench(national, n_boot=args.n_boot, seed=args.seed,
                               naive_reps=args.naive_reps, jobs=args.jobs)  # fmt: skip
            _say(
                f"  data: {sc['sites']} sites, {sc['sources']} sources, {sc['scored_segments']} "
                f"scored segments, {sc['respondents']} respondents"
            )
            _say(
                f"  copeval score_evidence: {sc['core_1_thread']:.2f} s (1 thread), "
                f"{sc[f'core_{args.jobs}_threads']:.2f} s ({args.jobs} threads); score_sites "
                f"(with survey scales and reliability): {sc['score_sites']:.2f} s"
            )
            _say(
                f"  naive pandas bootstrap: {sc['naive_per_replicate']:.3f} s per replicate -> "
                f"{sc['naive_extrapolated']:.0f} s for {args.n_boot} (timed on "
                f"{sc['naive_reps_timed']})"
            )
            best = min(sc["core_1_thread"], sc[f"core_{args.jobs}_threads"])
            _say(f"  ratio naive / copeval: {sc['naive_extrapolated'] / best:.0f}x")
            _say(
                f"  peak traced memory: copeval {sc['core_traced_peak_mib']:.0f} MiB, naive "
                f"{sc['naive_traced_peak_mib']:.0f} MiB ({sc['naive_reps_timed']} replicates)"
            )
            _say(f"  target <= {TARGETS['c']:.0f} s: {best:.2f} s")
            sc["speedup_vs_naive"] = sc["naive_extrapolated"] / best
            results["c"] = sc

    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        _say(f"\nmeasurements written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
