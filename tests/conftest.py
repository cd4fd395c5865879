"""Shared fixtures: the demo project, a disposable copy of it, and a tiny project factory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Analysis caches of the test runs go to a temporary folder, not the user's cache."""
    import os
    import tempfile

    if "COPEVAL_CACHE_DIR" not in os.environ:
        config._copeval_cache = os.environ["COPEVAL_CACHE_DIR"] = tempfile.mkdtemp(
            prefix="copeval-test-cache-"
        )


def pytest_unconfigure(config):
    import os
    import shutil

    folder = getattr(config, "_copeval_cache", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("COPEVAL_CACHE_DIR", None)


DEMO = REPO / "data" / "demo"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def demo_path() -> Path:
    """The bundled demo project (skips while it is not there)."""
    if not (DEMO / "datapackage.json").is_file():
        pytest.skip("data/demo is not built yet")
    return DEMO


@pytest.fixture
def demo_copy(demo_path, tmp_path) -> Path:
    """A copy of the demo project that a test may break."""
    target = tmp_path / "demo"
    shutil.copytree(demo_path, target)
    return target


TINY_TEXTS = {
    "S1": "La policía patrulla a pie en el cantón.\nLos vecinos conocen al agente.",
    "S2": "No hay combustible para las patrullas.",
    "S3": "El comité se reúne cada mes con la policía.",
}


def tiny_tables():
    """Tables of a small valid project: 2 sites, 3 sources, 4 segments, one survey."""
    sites = pd.DataFrame(
        {
            "site_id": ["A", "B"],
            "name": ["Sitio A", "Sitio B"],
            "department": ["Dep 1", "Dep 2"],
            "municipality_code": ["0101", "0202"],
            "population": [1000, 2000],
        }
    )
    sources = pd.DataFrame(
        {
            "source_id": ["S1", "S2", "S3"],
            "site_id": ["A", "A", "B"],
            "respondent_group": ["community_member", "police_operational", "community_leader"],
            "method": ["interview", "interview", "focus_group"],
            "date": ["2017-02-01", "2017-03-01", "2017-04-01"],
            "language": ["es", "es", "es"],
            "consent": ["quote", "anonymous", "quote"],
        }
    )
    segments = pd.DataFrame(
        {
            "segment_id": ["G1", "G2", "G3", "G4"],
            "source_id": ["S1", "S1", "S2", "S3"],
            "start": [0, 40, 0, 0],
            "end": [39, 70, 38, 43],
            "code": ["C1.patrol", "C1.sector", "C1.obs_resources", "C2.meetings"],
            "valence": [2, 1, -2, 2],
            "coder": ["A", "A", "A", "A"],
        }
    )
    items = pd.DataFrame(
        {
            "instrument": ["community", "community"],
            "item": ["trust", "patrol_seen"],
            "criterion": ["AT", "C1"],
            "scale": ["trust", "patrol"],
            "scale_min": [1, 0],
            "scale_max": [7, 4],
            "reverse": [False, False],
            "missing_codes": ["97;98", "97;98"],
            "label_en": ["Trust in police", "Patrol seen"],
            "label_es": ["Confianza en la policía", "Patrulla vista"],
        }
    )
    responses = {
        "community": pd.DataFrame(
            {
                "respondent_id": ["R1", "R2", "R3"],
                "site_id": ["A", "B", "B"],
                "weight": [1.0, 0.5, 1.5],
                "trust": [5, 98, 3],
                "patrol_seen": [4, 2, 97],
            }
        )
    }
    return dict(
        sites=sites,
        sources=sources,
        segments=segments,
        texts=dict(TINY_TEXTS),
        items=items,
        responses=responses,
    )


@pytest.fixture
def tiny_project(tmp_path) -> Path:
    """Path of a small valid project written to a temporary folder."""
    from copeval.project import write_project

    return write_project(
        tmp_path / "tiny", **tiny_tables(), meta={"title": "Tiny", "synthetic": True}
    )
