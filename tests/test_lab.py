"""`make lab` for a researcher: project paths found from notebooks/, notebooks open as
notebooks, one kernel.

- :func:`copeval.resources.find_project`: a notebook's ``project_path = "data/demo"`` works from
  the repository root, from ``notebooks/`` (JupyterLab), from a wheel install (the packaged
  demo), and names every place tried when nothing is there.
- The repository's Jupyter configuration (``notebooks/jupytext.toml``,
  ``notebooks/.jupyter/``): valid, percent format, nothing paired, only the copeval kernel.
- The Makefile's ``lab`` recipe, run for real: the server it starts offers only the copeval
  kernel, opens ``.py`` files as notebooks by default, and serves them as notebooks.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from copeval import resources
from copeval.errors import CopevalError
from copeval.resources import find_project

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
LAB_CONFIG = NOTEBOOKS / ".jupyter"
KERNEL_JSON = ".venv/share/jupyter/kernels/copeval/kernel.json"  # the Makefile's $(KERNEL)


# ------------------------------------------------------------------------- find_project
def test_an_existing_path_is_returned_as_given(tmp_path, monkeypatch):
    (tmp_path / "data" / "demo").mkdir(parents=True)  # a project of the user's own
    monkeypatch.chdir(tmp_path)
    assert find_project("data/demo") == Path("data/demo")  # not the repository's demo
    assert find_project(tmp_path / "data" / "demo") == tmp_path / "data" / "demo"
    monkeypatch.chdir(REPO)
    assert find_project("data/demo") == Path("data/demo")


@pytest.mark.parametrize("subfolder", ["notebooks", "docs", "data/crosswalk"])
def test_from_a_subfolder_of_the_checkout_the_path_is_relative_to_its_root(subfolder, monkeypatch):
    monkeypatch.chdir(REPO / subfolder)
    assert not Path("data/demo").exists()  # the situation JupyterLab creates
    assert find_project("data/demo") == REPO / "data" / "demo"
    assert find_project("./data/demo/") == REPO / "data" / "demo"


def test_the_checkout_around_the_working_directory_comes_first(tmp_path, monkeypatch):
    # A second clone (copeval imported from elsewhere): its own data/ folder is meant.
    clone = tmp_path / "clone"
    (clone / "copeval").mkdir(parents=True)
    (clone / "notebooks").mkdir()
    (clone / "data" / "mine").mkdir(parents=True)
    (clone / "pyproject.toml").write_text('[project]\nname = "copeval"\n', encoding="utf-8")
    monkeypatch.chdir(clone / "notebooks")
    assert find_project("data/mine") == clone / "data" / "mine"
    # not in that clone: the checkout copeval runs from (this repository) is tried next
    assert find_project("data/demo") == REPO / "data" / "demo"


def test_a_folder_named_like_a_checkout_is_not_one(tmp_path, monkeypatch):
    other = tmp_path / "other"
    (other / "copeval").mkdir(parents=True)
    (other / "data" / "x").mkdir(parents=True)
    (other / "sub").mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "not-copeval"\n', encoding="utf-8")
    monkeypatch.chdir(other / "sub")
    with pytest.raises(CopevalError, match="not found"):
        find_project("data/x")


def _wheel(tmp_path, monkeypatch, *, demos=("demo",)) -> Path:
    """Pretend copeval is an installed wheel: no checkout, package data under _data/."""
    package = tmp_path / "site-packages" / "copeval"
    for name in demos:
        (package / "_data" / name).mkdir(parents=True)
    monkeypatch.setattr(resources, "_package_root", lambda: package)
    outside = tmp_path / "work"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert resources._checkout_root() is None
    return package


def test_in_a_wheel_install_the_demo_paths_mean_the_packaged_demo(tmp_path, monkeypatch):
    package = _wheel(tmp_path, monkeypatch, demos=("demo", "demo-rounds"))
    assert find_project("data/demo") == package / "_data" / "demo"
    assert find_project("data/demo-rounds") == package / "_data" / "demo-rounds"
    # the user's own folder of that name wins over the packaged copy
    (tmp_path / "work" / "data" / "demo").mkdir(parents=True)
    assert find_project("data/demo") == Path("data/demo")


def test_in_a_wheel_install_other_paths_are_not_guessed(tmp_path, monkeypatch):
    package = _wheel(tmp_path, monkeypatch)
    for path in ("demo", "data/demo/texts", "../data/demo", "data/demo-other"):
        with pytest.raises(CopevalError) as err:
            find_project(path)
        assert str(package) not in str(err.value), path
    with pytest.raises(CopevalError) as err:
        find_project("data/demo-rounds")  # a demo this wheel does not ship
    assert str(package / "_data" / "demo-rounds") in str(err.value)


def test_the_error_names_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.chdir(NOTEBOOKS)
    with pytest.raises(CopevalError) as err:
        find_project("data/nowhere")
    message = str(err.value)
    assert "\n" not in message
    assert "'data/nowhere'" in message
    assert str(NOTEBOOKS / "data" / "nowhere") in message  # as given, from the cwd
    assert str(REPO / "data" / "nowhere") in message  # the repository root
    package = _wheel(tmp_path, monkeypatch)
    with pytest.raises(CopevalError) as err:
        find_project("data/demo-rounds")
    message = str(err.value)
    assert str(tmp_path / "work" / "data" / "demo-rounds") in message
    assert str(package / "_data" / "demo-rounds") in message


def test_an_absolute_path_is_never_reinterpreted(tmp_path, monkeypatch):
    monkeypatch.chdir(NOTEBOOKS)
    missing = tmp_path / "data" / "demo"
    with pytest.raises(CopevalError) as err:
        find_project(missing)
    assert f"tried {missing}." in str(err.value)  # only the path itself


def test_a_file_found_in_the_checkout_is_not_a_project(monkeypatch):
    monkeypatch.chdir(NOTEBOOKS)
    with pytest.raises(CopevalError, match="not found"):
        find_project("data/demo/sites.csv")  # exists at the root, but is not a folder


def test_a_deleted_working_directory_is_no_crash(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert find_project("data/demo") == REPO / "data" / "demo"  # the package's checkout


# ------------------------------------------------------------------------- configuration
def test_jupytext_config_names_the_percent_format_and_pairs_nothing():
    from jupytext.config import (
        find_jupytext_configuration_file,
        load_jupytext_configuration_file,
    )
    from jupytext.formats import long_form_multiple_formats

    path = find_jupytext_configuration_file(str(NOTEBOOKS))
    assert path == str(NOTEBOOKS / "jupytext.toml")  # the file jupytext finds for notebooks/
    config = load_jupytext_configuration_file(path)
    # one text format, percent: no .ipynb twin
    assert long_form_multiple_formats(config.formats) == [
        {"extension": ".py", "format_name": "percent"}
    ]


def test_every_notebook_is_a_percent_script_asking_for_the_copeval_kernel():
    import jupytext

    paths = sorted(NOTEBOOKS.glob("*.py"))
    assert {p.name for p in paths} >= {
        "start_here.py",
        "site_report.py",
        "comparative_report.py",
        "tutorial_1_load_and_reliability.py",
        "tutorial_2_scoring_and_comparison.py",
    }
    for path in paths:
        nb = jupytext.read(path)
        assert nb.metadata["jupytext"]["text_representation"]["format_name"] == "percent", path
        assert nb.metadata["kernelspec"] == {
            "name": "copeval",
            "display_name": "copeval (.venv)",
            "language": "python",
        }, path
    assert not list(NOTEBOOKS.glob("*.ipynb"))


def test_saving_in_jupyterlab_keeps_one_percent_file(tmp_path):
    """JupyterLab saves through jupytext's contents manager: with the repository's config a
    run and saved notebook stays one percent script, cells and kernel unchanged, no .ipynb."""
    import jupytext
    import nbformat
    from jupytext import TextFileContentsManager

    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / "jupytext.toml", folder)
    shutil.copy(NOTEBOOKS / "start_here.py", folder)
    manager = TextFileContentsManager(root_dir=str(folder))
    model = manager.get("start_here.py")
    assert model["type"] == "notebook"
    nb = model["content"]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = 1
            cell.outputs = [nbformat.v4.new_output("stream", text="output\n")]
    manager.save({"type": "notebook", "content": nb}, "start_here.py")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "jupytext.toml",
        "start_here.py",
    ]
    text = (folder / "start_here.py").read_text(encoding="utf-8")
    assert "output" not in text and "language_info" not in text
    before, after = jupytext.read(NOTEBOOKS / "start_here.py"), jupytext.reads(text, "py")
    assert [c.source for c in after.cells] == [c.source for c in before.cells]
    assert after.metadata["kernelspec"]["name"] == "copeval"
    assert after.metadata["jupytext"]["text_representation"]["format_name"] == "percent"


def test_lab_settings_open_python_files_as_notebooks():
    overrides = json.loads(
        (LAB_CONFIG / "labconfig" / "default_setting_overrides.json").read_text(encoding="utf-8")
    )
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"python": "Jupytext Notebook"}
    schema = json.loads(
        (
            Path(sys.prefix)
            / "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"
        ).read_text(encoding="utf-8")
    )["properties"]
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] in [c["const"] for c in schema["fetchNews"]["oneOf"]]
    assert notification["checkForUpdates"] is False


def test_server_config_offers_only_the_copeval_kernel_of_this_environment():
    from jupyter_client.kernelspec import KernelSpecManager
    from traitlets.config import Config

    config = Config(
        json.loads((LAB_CONFIG / "jupyter_server_config.json").read_text(encoding="utf-8"))
    )
    specs = KernelSpecManager(config=config).find_kernel_specs()
    assert set(specs) == {"copeval"}, "run `make venv` to install the copeval kernel"
    assert "python3" in KernelSpecManager().find_kernel_specs()  # hidden, not removed
    spec = KernelSpecManager().get_kernel_spec("copeval")
    assert spec.display_name == "copeval (.venv)"
    # the kernel is this environment's Python (not another checkout's venv)
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()


# ------------------------------------------------------------------------- make lab, for real
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_lab_serves_notebooks_as_notebooks_with_only_the_copeval_kernel(tmp_path):
    port, token = _free_port(), "t0ken"
    home = tmp_path / "home"  # a researcher's first launch: no settings of their own
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    env.pop("JUPYTER_CONFIG_PATH", None)
    args = f"--no-browser --port {port} --IdentityProvider.token={token}"
    if os.geteuid() == 0:
        args += " --allow-root"
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        # -o: never bootstrap the venv or its kernel from a test; BIN: this environment's
        ["make", "-s", "-o", ".venv/.copeval-installed", "-o", KERNEL_JSON, "lab",
         f"BIN={Path(sys.executable).parent}", f"LAB_ARGS={args}"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status = _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "lab.log").read_text())
                time.sleep(0.5)
        assert status["kernels"] == 0

        specs = _get(f"{base}/api/kernelspecs?token={token}")
        assert specs["default"] == "copeval"
        assert list(specs["kernelspecs"]) == ["copeval"]
        assert specs["kernelspecs"]["copeval"]["spec"]["display_name"] == "copeval (.venv)"

        plugin = "@jupyterlab/docmanager-extension:plugin"
        settings = _get(f"{base}/lab/api/settings/{plugin}?token={token}")
        viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
        assert viewers["python"] == "Jupytext Notebook"  # a double-click opens a notebook

        # the server's root is notebooks/ and it serves the .py files as notebooks
        listing = _get(f"{base}/api/contents?token={token}&content=1")
        assert "start_here.py" in {item["name"] for item in listing["content"]}
        model = _get(f"{base}/api/contents/start_here.py?type=notebook&token={token}")
        assert model["type"] == "notebook"
        assert model["content"]["metadata"]["kernelspec"]["name"] == "copeval"
        page = urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10).read()
        assert b"jupyter-config-data" in page
    finally:
        os.killpg(server.pid, 15)  # make, its shell and the server: the group this test started
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait(10)
        log.close()
