"""A wheel that can print: package data, the ``demo`` command, missing extras in one line.

The end-to-end test builds an sdist and, from it, a wheel (as ``python -m build`` does), installs
the wheel in a temporary venv that borrows the project venv's site-packages for the
dependencies (nothing is downloaded), and, from a temporary folder, copies the demo out and
renders one municipal brief with the wheel's own copeval.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from copeval import resources
from copeval.errors import CopevalError

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _load_build_data():
    spec = importlib.util.spec_from_file_location("build_data", REPO / "build_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------- configuration
def test_build_step_is_registered_and_agrees_with_resources():
    assert PYPROJECT["tool"]["setuptools"]["cmdclass"]["build_py"] == "build_data.BuildPy"
    build_data = _load_build_data()
    assert {target: source for source, _, target in build_data.SHIPPED} == resources.CHECKOUT
    files = build_data.shipped_files()
    assert {"notebooks/site_report.py", "notebooks/comparative_report.py"} <= set(files)
    assert not any(k.startswith("notebooks/tutorial") for k in files)
    assert {"crosswalk/recommendations.csv", "crosswalk/pesn_actions.csv"} <= set(files)
    assert "crosswalk/institutions.csv" in files
    assert "demo/datapackage.json" in files and "demo/texts/VC-I01.txt" in files


def test_build_step_skips_hidden_files(tmp_path):
    build_data = _load_build_data()
    for source, _, _ in build_data.SHIPPED:
        (tmp_path / source).mkdir(parents=True)
    (tmp_path / "notebooks" / "site_report.py").write_text("x = 1\n")
    (tmp_path / "data/demo/texts").mkdir()
    (tmp_path / "data/demo/texts/A.txt").write_text("a")
    (tmp_path / "data/demo/texts/.A.txt.swp").write_text("editor junk")
    (tmp_path / "data/demo/__pycache__").mkdir()
    (tmp_path / "data/demo/__pycache__/x.pyc").write_bytes(b"\0")
    assert sorted(build_data.shipped_files(tmp_path)) == [
        "demo/texts/A.txt",
        "notebooks/site_report.py",
    ]
    shutil.rmtree(tmp_path / "data/crosswalk")
    with pytest.raises(FileNotFoundError, match="crosswalk"):
        build_data.shipped_files(tmp_path)


def test_license_is_an_spdx_expression_with_its_file():
    project = PYPROJECT["project"]
    assert project["license"] == "BSD-3-Clause"  # a table is deprecated by setuptools >= 77
    assert all((REPO / f).is_file() for f in project["license-files"])
    requires = PYPROJECT["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r[12:]) >= 77 for r in requires)


def test_cli_extras_table_matches_pyproject():
    from copeval.cli import EXTRAS

    declared = {
        extra: {re.split(r"[<>=\[ ;]", d)[0].lower() for d in deps}
        for extra, deps in PYPROJECT["project"]["optional-dependencies"].items()
        if extra not in ("all", "test", "dev")
    }
    assert {k: set(v) for k, v in EXTRAS.items()} == declared


# ------------------------------------------------------------------------- resources
def test_resources_come_from_the_checkout_in_a_source_tree():
    assert resources.notebooks_dir() == REPO / "notebooks"
    assert resources.notebook("site_report") == REPO / "notebooks" / "site_report.py"
    assert resources.crosswalk_dir() == REPO / "data" / "crosswalk"
    assert resources.demo_dir() == REPO / "data" / "demo"
    assert resources.stylesheet() == REPO / "copeval" / "report" / "templates" / "report.css"
    assert {"site_report", "comparative_report"} <= set(resources.notebook_names())


def test_resources_fall_back_to_the_packaged_copy(tmp_path, monkeypatch):
    # An installed package: no pyproject.toml beside it, the data under copeval/_data.
    fake = tmp_path / "site-packages" / "copeval"
    (fake / "_data" / "notebooks").mkdir(parents=True)
    (fake / "_data" / "notebooks" / "site_report.py").write_text("# %%\n")
    (fake / "_data" / "demo").mkdir()
    monkeypatch.setattr(resources, "_package_root", lambda: fake)
    assert resources._checkout_root() is None
    assert resources.notebook("site_report") == fake / "_data" / "notebooks" / "site_report.py"
    assert resources.notebook_names() == ["site_report"]
    with pytest.raises(
        CopevalError, match=r"No report notebook named 'nope'\. Available: site_report"
    ):
        resources.notebook("nope")
    with pytest.raises(CopevalError, match="demo folder is missing"):
        resources.demo_dir()  # present but without datapackage.json
    with pytest.raises(CopevalError, match=r"crosswalk folder is missing.*pip install"):
        resources.crosswalk_dir()


def test_checkout_is_only_a_copeval_project(tmp_path, monkeypatch):
    other = tmp_path / "copeval"
    other.mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    monkeypatch.setattr(resources, "_package_root", lambda: other)
    assert resources._checkout_root() is None


def test_crosswalk_and_notebook_callers_use_resources(monkeypatch, tmp_path):
    from copeval.report import recommend, render

    shutil.copytree(REPO / "data" / "crosswalk", tmp_path / "cw")
    monkeypatch.setattr(resources, "crosswalk_dir", lambda: tmp_path / "cw")
    assert recommend.load_crosswalk().path == tmp_path / "cw"
    assert tmp_path / "cw" == recommend.CROSSWALK_DIR
    monkeypatch.setattr(resources, "notebook", lambda name: tmp_path / f"{name}.py")
    assert render.notebook_path("x") == tmp_path / "x.py"


# ------------------------------------------------------------------------- copeval demo
def test_demo_copies_the_project_and_refuses_a_non_empty_folder(tmp_path, capsys):
    from copeval.cli import main
    from copeval.project import load_project

    target = tmp_path / "new" / "demo"
    assert main(["demo", str(target)]) == 0
    out = capsys.readouterr().out
    assert "2 sites: VC, TOT" in out
    assert f"copeval report {target} --site VC --lang en --profile brief" in out
    source = resources.demo_dir()
    expected = sorted(
        p.relative_to(source)
        for p in source.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
    assert sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file()) == expected
    assert all(_sha(target / rel) == _sha(source / rel) for rel in expected)
    assert oct(target.stat().st_mode & 0o777) != oct(0o700)  # not the private staging mode
    assert len(load_project(target).sites) == 2
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".part")]

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    assert main(["demo", str(tmp_path / "full")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not empty" in err
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"

    (tmp_path / "file").write_text("x")
    assert main(["demo", str(tmp_path / "file")]) == 1
    assert "is a file" in capsys.readouterr().err

    (tmp_path / "empty").mkdir()
    assert main(["demo", str(tmp_path / "empty")]) == 0
    assert (tmp_path / "empty" / "datapackage.json").is_file()


def test_demo_where_no_folder_can_be_made_is_one_line(tmp_path, capsys):
    from copeval.cli import main

    (tmp_path / "a-file").write_text("x")
    assert main(["demo", str(tmp_path / "a-file" / "demo")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create") and err.count("\n") == 1
    assert (tmp_path / "a-file").read_text() == "x"


# ------------------------------------------------------------------------- missing extras
def _without(modules, code: str, env=None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter in which ``modules`` cannot be imported."""
    prelude = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in modules)
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO.parent,
        env=env,
    )


@pytest.mark.parametrize("command", ["report", "compare", "batch"])
def test_report_commands_without_the_report_extra_say_so_in_one_line(command, demo_path):
    args = [command, str(demo_path), "--out", "/nonexistent/never-written", "-q"]
    if command == "report":
        args += ["--site", "VC"]
    proc = _without(["matplotlib"], f"from copeval.cli import main\nsys.exit(main({args!r}))")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == (
        f"error: copeval {command} needs the 'matplotlib' package, which is not installed. "
        "Install it with: pip install 'copeval[report]'\n"
    )


def test_a_module_missing_at_run_time_names_its_extra(demo_path, tmp_path):
    # Past the up-front check (as if the table forgot a module): the import error inside the
    # report code -- which runs in the report's kernel, another process -- still becomes one
    # line naming the extra. A shim on PYTHONPATH hides matplotlib from the kernel too.
    shim = tmp_path / "shim" / "matplotlib"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'matplotlib'\", name='matplotlib')\n"
    )
    args = ["report", str(demo_path), "--site", "VC", "--out", str(tmp_path / "out"), "-q",
            "--no-cache"]  # fmt: skip
    proc = _without(
        ["matplotlib"],
        f"import copeval.cli as cli\ncli.NEEDS.clear()\nsys.exit(cli.main({args!r}))",
        env={**os.environ, "PYTHONPATH": str(shim.parent)},
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().endswith("pip install 'copeval[report]'")
    assert proc.stderr.count("\n") == 1


def test_demo_report_without_the_report_extra(tmp_path):
    proc = _without(
        ["weasyprint"],
        f"from copeval.demo_report import main\nsys.exit(main(['--out', {str(tmp_path)!r}]))",
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        "error: python -m copeval.demo_report needs the 'weasyprint' package, which is not "
        "installed. Install it with: pip install 'copeval[report]'\n"
    )
    assert not any(tmp_path.iterdir())


def test_core_commands_work_without_any_extra(demo_path):
    from copeval.cli import EXTRAS, IMPORT_NAMES

    optional = [IMPORT_NAMES.get(d, d) for dists in EXTRAS.values() for d in dists]
    proc = _without(
        optional,
        f"from copeval.cli import main\nsys.exit(main(['validate', {str(demo_path)!r}]))",
    )
    # main() registered every command module: none imports an extra's module at import time
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout


def test_a_bug_in_copeval_is_not_disguised_as_a_missing_extra():
    from copeval.cli import explain_missing_module

    exc = ModuleNotFoundError("No module named 'copeval.nope'", name="copeval.nope")
    assert explain_missing_module(exc, extra="report", feature="x") is None
    exc = ModuleNotFoundError("No module named 'tinycss2'", name="tinycss2")
    assert "copeval[report]" in str(explain_missing_module(exc, extra="report", feature="x"))
    exc = ModuleNotFoundError("No module named 'ahocorasick'", name="ahocorasick")
    message = str(explain_missing_module(exc, extra=None, feature="copeval autocode"))
    assert "'pyahocorasick'" in message and "copeval[autocode]" in message


# ------------------------------------------------------------------------- the wheel itself
_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "reports", "__pycache__", ".*_cache"
)


#: pip options that never download anything: the dependencies are the project venv's.
PIP_OFFLINE = ("--no-deps", "--no-index")
PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", *PIP_OFFLINE, "--no-build-isolation")
BRIEF = ("--profile", "brief", "--n-boot", "200", "--out", "out", "-q")


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """sdist from a copy of the repository, then the wheel from that sdist (no network)."""
    import setuptools

    major = int(setuptools.__version__.split(".")[0])
    if major < 77:
        pytest.fail(
            f"setuptools {setuptools.__version__} in {sys.prefix} is older than the build "
            "needs (>= 77); reinstall the test extra: pip install -e '.[test]'"
        )
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist = tmp / "src", tmp / "dist"
    shutil.copytree(REPO, src, ignore=_IGNORE)
    _run(
        [sys.executable, "-c", f"import setuptools.build_meta as b; b.build_sdist({str(dist)!r})"],
        cwd=src,
    )
    (sdist,) = dist.glob("copeval-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    root = sdist.name[: -len(".tar.gz")]
    for needed in ("build_data.py", "LICENSE", "notebooks/site_report.py", "data/demo/sites.csv"):
        assert f"{root}/{needed}" in names, needed
    assert f"{root}/data/crosswalk/recommendations.csv" in names
    _run(
        [*PIP_WHEEL, "-q", "-w", str(dist), str(sdist)],
        cwd=tmp,
    )
    (whl,) = dist.glob("copeval-*.whl")
    return whl


@pytest.mark.slow
def test_wheel_carries_the_package_data_byte_for_byte(wheel):
    build_data = _load_build_data()
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for rel, source in build_data.shipped_files().items():
            data = zf.read(f"copeval/_data/{rel}")
            assert data == source.read_bytes(), rel
        metadata = zf.read("copeval-0.1.0.dist-info/METADATA").decode()
    assert "copeval/report/templates/report.css" in names
    assert "copeval/data/codebook.csv" in names
    assert "copeval-0.1.0.dist-info/licenses/LICENSE" in names
    assert "License-Expression: BSD-3-Clause" in metadata
    assert "Provides-Extra: report" in metadata
    assert not [n for n in names if n.startswith(("notebooks/", "data/", "build_data"))]


def _venv_with_borrowed_dependencies(where: Path) -> Path:
    """A venv whose own site-packages come first, then the project venv's (for dependencies)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    site = Path(purelib.stdout.strip())
    # a plain path line: the project venv's folder is searched, its .pth files are not run, so
    # its editable copeval finder is never installed here
    (site / "zz_project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # ...and the data files those dependencies installed under the prefix (nbconvert's
    # templates), as pip would have put them here; not the kernel specs, which would start
    # the project venv's python and its editable copeval
    shared = Path(sysconfig.get_path("data")) / "share" / "jupyter"
    (where / "share" / "jupyter").mkdir(parents=True)
    for entry in shared.iterdir():
        if entry.name != "kernels":
            (where / "share" / "jupyter" / entry.name).symlink_to(entry)
    return python


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_renders_a_brief_from_any_folder(wheel, tmp_path):
    python = _venv_with_borrowed_dependencies(tmp_path / "venv")
    bindir = python.parent
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER"))}
    env.update(
        HOME=str(home),  # no user kernel spec or cache of the developer's
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONNOUSERSITE="1",
        MPLCONFIGDIR=str(home / "mpl"),
    )
    env.pop("VIRTUAL_ENV", None)
    _run(
        [python, "-m", "pip", "install", "-q", *PIP_OFFLINE, "--ignore-installed", str(wheel)],
        env=env,
        cwd=tmp_path,
    )
    work = tmp_path / "work"
    work.mkdir()
    where = _run(
        [
            python,
            "-c",
            "import copeval, copeval.resources as r; from jupyter_client.kernelspec import "
            "KernelSpecManager as K; print(copeval.__file__); print(r.notebook('site_report')); "
            "print(r.crosswalk_dir()); print(r.demo_dir()); "
            "print(K().get_kernel_spec('python3').argv[0])",
        ],
        env=env,
        cwd=work,
    ).stdout.splitlines()
    venv = tmp_path / "venv"
    assert all(Path(p).resolve().is_relative_to(venv.resolve()) for p in where[:4]), where
    assert "_data" in where[1] and "_data" in where[2] and "_data" in where[3]
    assert Path(where[4]).parent == bindir  # the kernel runs this venv's python: this copeval

    demo = _run([bindir / "copeval", "demo", "proj"], env=env, cwd=work)
    assert "copeval report proj --site VC" in demo.stdout
    report = subprocess.run(
        [bindir / "copeval", "report", "proj", "--site", "VC", "--lang", "en", *BRIEF],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=work,
    )
    assert report.returncode == 0, report.stderr
    assert "Traceback" not in report.stderr
    pdf = work / "out" / "brief_VC_en.pdf"
    assert pdf.is_file() and (work / "out" / "brief_VC_en.html").is_file()

    from pypdf import PdfReader

    pages = PdfReader(pdf).pages
    assert len(pages) >= 2
    text = "\n".join(p.extract_text() for p in pages)
    assert "Villa Canales" in text
    assert "PESN" in text  # the recommendations were found: the crosswalk shipped
