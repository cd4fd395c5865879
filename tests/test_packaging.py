"""pyproject.toml and environment.yml must install the same things."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

# conda-forge names that differ from PyPI names.
CONDA_NAMES = {}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    reqs = list(project["dependencies"])
    for _extra, deps in project["optional-dependencies"].items():
        reqs += [d for d in deps if not d.startswith("copeval")]
    return dict(_split(r) for r in reqs)


def _environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # the pip section installs copeval itself
            assert dep["pip"] == ["-e ."], dep
            continue
        name, spec = _split(dep)
        if name in ("python", "pip"):
            continue
        out[CONDA_NAMES.get(name, name)] = spec
    return out


def test_environment_yml_matches_pyproject():
    assert _environment_requirements() == _pyproject_requirements()


def test_environment_yml_python_matches_requires_python():
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python == ["python" + data["project"]["requires-python"]]


def test_codebook_ships_as_package_data():
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/*" in data["tool"]["setuptools"]["package-data"]["copeval"]
    assert (REPO / "copeval" / "data" / "codebook.csv").is_file()


def test_version_is_single_sourced():
    import copeval

    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert copeval.__version__ == data["project"]["version"]


def test_every_public_name_resolves():
    import copeval

    for name in copeval.__all__:
        assert getattr(copeval, name) is not None, name
    assert "load_project" in dir(copeval)
