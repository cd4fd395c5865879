"""Fixtures of the security suite: the hostile project, rendered once for every check."""

from __future__ import annotations

from pathlib import Path

import pytest

from .hostile import write_hostile_project


@pytest.fixture
def hostile_project(tmp_path) -> Path:
    """A fresh hostile project (see ``hostile.py``) that a test may change."""
    return write_hostile_project(tmp_path / "hostile")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The hostile project rendered as a person would: ``copeval report`` (site A full, es
    and en; site B brief, es) and ``copeval compare`` (en), into one reports folder, with
    the analysis cache in its own folder. Returns ``(project, out, cache, exit codes)``."""
    pytest.importorskip("weasyprint")
    from copeval.cli import main

    base = tmp_path_factory.mktemp("rendered")
    project = write_hostile_project(base / "hostile")
    out, cache = base / "reports", base / "cache"
    common = ["--n-boot", "50", "--out", str(out), "--cache-dir", str(cache), "-q"]
    codes = [
        main(["report", str(project), "--site", "A", "--lang", "es,en", *common]),
        main(
            ["report", str(project), "--site", "B", "--profile", "brief", "--lang", "es", *common]
        ),
        main(["compare", str(project), "--lang", "en", *common]),
    ]
    return project, out, cache, codes
