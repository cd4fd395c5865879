"""The demo project is reproducible from its sources and says what it is."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_build_demo_check_meets_the_study_targets(demo_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "data/scripts/build_demo.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All targets met." in proc.stdout


def test_rebuilding_segments_is_byte_identical(demo_copy):
    before = (demo_copy / "segments.csv").read_bytes()
    (demo_copy / "segments.csv").unlink()
    proc = subprocess.run(
        [sys.executable, str(REPO / "data/scripts/build_demo.py"), str(demo_copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (demo_copy / "segments.csv").read_bytes() == before


def test_demo_is_labelled_synthetic_and_sourced(demo_path):
    readme = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in readme.lower()
    import pandas as pd

    sites = pd.read_csv(demo_path / "sites.csv", dtype=str)
    for col in ("homicide_source", "population_source", "police_source"):
        assert sites[col].notna().all(), col
    sources = pd.read_csv(demo_path / "sources.csv", dtype=str)
    assert sources["coder_notes"].str.startswith("Synthetic").all()


def test_no_personal_data_patterns_in_demo_texts(demo_path):
    import re

    phone = re.compile(r"(?<!\d)(?:\+?502[\s-]?)?[2-7]\d{3}[\s-]?\d{4}(?!\d)")
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    for path in sorted((demo_path / "texts").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert not phone.search(text), path.name
        assert not email.search(text), path.name
    assert len(list((demo_path / "texts").glob("*.txt"))) >= 24
