"""ReportData: the per-process memo, one site's rows, the segment index."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from copeval.errors import CopevalError
from copeval.project import load_project
from copeval.report import data as data_mod
from copeval.report.data import ReportData, clear_memo


def _age(folder, seconds: float = 60) -> None:
    """Set every file's modification time ``seconds`` in the past (as a settled project)."""
    then = time.time() - seconds
    for root, _, files in os.walk(folder):
        for name in files:
            os.utime(os.path.join(root, name), (then, then))


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_memo()
    yield
    clear_memo()


def test_memo_returns_the_same_analysis_while_no_file_changes(tiny_project):
    _age(tiny_project)
    first = ReportData.load(tiny_project, n_boot=20)
    assert ReportData.load(tiny_project, n_boot=20) is first
    # other parameters are another analysis
    other = ReportData.load(tiny_project, n_boot=20, seed=1)
    assert other is not first and other.params["seed"] == 1


def test_memo_notices_a_changed_file(tiny_project):
    _age(tiny_project)
    first = ReportData.load(tiny_project, n_boot=20)
    sites = tiny_project / "sites.csv"
    sites.write_text(
        sites.read_text(encoding="utf-8").replace("Sitio A", "Sitio Á"), encoding="utf-8"
    )
    second = ReportData.load(tiny_project, n_boot=20)
    assert second is not first
    assert "Sitio Á" in set(second.site_names.values())


def test_memo_notices_a_same_size_edit_with_an_older_time(tiny_project):
    _age(tiny_project, 120)
    first = ReportData.load(tiny_project, n_boot=20)
    sites = tiny_project / "sites.csv"
    text = sites.read_text(encoding="utf-8")
    sites.write_text(text.replace("Sitio A", "Sitio Z"), encoding="utf-8")  # same size
    _age(tiny_project, 60)  # a different (still old) time: the signature differs
    assert ReportData.load(tiny_project, n_boot=20) is not first


def test_a_project_modified_just_now_is_not_memoised(tiny_project):
    # a second same-size edit within the clock's granularity would go unseen: do not keep it
    _age(tiny_project, -30)  # "just now" however slow the machine (30 s ahead of the clock)
    first = ReportData.load(tiny_project, n_boot=20)
    assert ReportData.load(tiny_project, n_boot=20) is not first
    assert not data_mod._LOADED


def test_memo_is_bounded(tiny_project):
    _age(tiny_project)
    for seed in range(data_mod.MEMO_SIZE + 2):
        ReportData.load(tiny_project, n_boot=10, seed=seed)
    assert len(data_mod._LOADED) == data_mod.MEMO_SIZE


def test_for_site_equals_a_boolean_mask(demo_path):
    data = ReportData.load(demo_path, n_boot=50)
    for name in ReportData.SITE_TABLES:
        frame = data.project.sources if name == "sources" else getattr(data, name)
        for site in ("VC", "TOT", "NOPE"):
            expected = frame[frame["site_id"].astype(str) == site]
            pd.testing.assert_frame_equal(data.for_site(name, site), expected)
    with pytest.raises(CopevalError, match=r"Unknown site table 'segments'\. Known: table"):
        data.for_site("segments", "VC")


def test_segment_text_uses_the_offsets(demo_path):
    project = load_project(demo_path)
    seg = project.segments.drop_duplicates("segment_id").sample(25, random_state=1)
    for _, row in seg.iterrows():
        text = project.text(row["source_id"])[int(row["start"]) : int(row["end"])]
        assert project.segment_text(row["segment_id"]) == text
    with pytest.raises(KeyError, match="No segment 'XX-1' in this project"):
        project.segment_text("XX-1")


def test_a_stale_cache_format_is_recomputed(tiny_project, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    ReportData.load(tiny_project, n_boot=10, cache_dir=cache)
    (written,) = cache.glob("analysis-*.npz")
    monkeypatch.setattr(data_mod, "CACHE_FORMAT", data_mod.CACHE_FORMAT + 1)
    clear_memo()
    ReportData.load(tiny_project, n_boot=10, cache_dir=cache)
    assert len(list(cache.glob("analysis-*.npz"))) == 2  # a new key, not the old file
    assert written.is_file()


def test_a_change_to_the_analysis_code_changes_the_cache_key(tiny_project, tmp_path, monkeypatch):
    # a merged change to scoring (new columns) kept the version number: the cached tables of
    # the old code must not be served to the new one
    params = {"n_boot": 10}
    before = data_mod.analysis_key(tiny_project, params)
    module = tmp_path / "fake_scoring.py"
    module.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(data_mod, "ANALYSIS_MODULES", (*data_mod.ANALYSIS_MODULES, "fake_scoring"))
    data_mod.code_fingerprint.cache_clear()
    with_module = data_mod.analysis_key(tiny_project, params)
    module.write_text("X = 2\n")
    data_mod.code_fingerprint.cache_clear()
    edited = data_mod.analysis_key(tiny_project, params)
    data_mod.code_fingerprint.cache_clear()
    assert len({before, with_module, edited}) == 3


def test_an_incomplete_cache_is_completed_when_a_full_report_needs_it(demo_copy, tmp_path):
    cache = tmp_path / "cache"
    brief = ReportData.load(demo_copy, n_boot=30, cache_dir=cache, memo=False, complete=False)
    assert not any(k in brief.extras for k in data_mod.COMPLETE_TABLES)
    full = ReportData.load(demo_copy, n_boot=30, cache_dir=cache, memo=False)
    assert all(k in full.extras for k in data_mod.COMPLETE_TABLES)
    again = ReportData.load(demo_copy, n_boot=30, cache_dir=cache, memo=False, complete=False)
    assert all(k in again.extras for k in data_mod.COMPLETE_TABLES)  # completed on disk
    pd.testing.assert_frame_equal(again.site_sensitivity, full.site_sensitivity)
    pd.testing.assert_frame_equal(brief.site_sensitivity, full.site_sensitivity)  # lazily


def test_memo_notices_a_same_size_same_mtime_replacement(tiny_project):
    # cp -p, rsync -a, unzip: new content, old size and modification time
    _age(tiny_project, 120)
    first = ReportData.load(tiny_project, n_boot=20)
    sites = tiny_project / "sites.csv"
    before = sites.stat()
    time.sleep(0.01)
    sites.write_text(
        sites.read_text(encoding="utf-8").replace("Sitio A", "Sitio Z"), encoding="utf-8"
    )
    os.utime(sites, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert sites.stat().st_mtime_ns == before.st_mtime_ns
    second = ReportData.load(tiny_project, n_boot=20)
    assert second is not first and "Sitio Z" in set(second.site_names.values())


def test_a_folder_that_cannot_be_walked_is_loaded_but_not_memoised(tiny_project):
    _age(tiny_project)
    loop = tiny_project / "texts" / "loop"
    loop.symlink_to(tiny_project / "texts", target_is_directory=True)  # not followed
    first = ReportData.load(tiny_project, n_boot=20)
    assert ReportData.load(tiny_project, n_boot=20) is first
    clear_memo()
    broken = tiny_project / "gone"
    broken.symlink_to(tiny_project / "does-not-exist")  # a dangling link is skipped
    first = ReportData.load(tiny_project, n_boot=20)
    assert ReportData.load(tiny_project, n_boot=20) is first


def test_a_brief_does_not_compute_the_full_reports_tables(demo_copy, tmp_path):
    from copeval.report import SiteReport

    cache = tmp_path / "cache"
    brief = SiteReport.build(demo_copy, site_id="VC", n_boot=30, cache_dir=cache, profile="brief")
    assert not any(k in brief.data.extras for k in data_mod.COMPLETE_TABLES)
    full = SiteReport.build(demo_copy, site_id="VC", n_boot=30, cache_dir=cache)
    assert all(k in full.data.extras for k in data_mod.COMPLETE_TABLES)


def test_files_changed_while_scoring_are_never_cached_under_the_old_key(
    tiny_project, tmp_path, monkeypatch
):
    # the key hashes the files before they are read: an edit (or an import) landing between
    # the key and the read must not store the new files' scores under the old files' key
    import copeval.project as project_mod

    cache = tmp_path / "cache"
    real_load = project_mod.load_project

    def load_then_edit(path, **kw):
        project = real_load(path, **kw)
        notes = Path(path) / "sites.csv"
        notes.write_text(notes.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        return project

    monkeypatch.setattr(project_mod, "load_project", load_then_edit)
    clear_memo()
    ReportData.load(tiny_project, n_boot=10, cache_dir=cache, memo=False)
    assert not list(cache.glob("analysis-*.npz"))


def test_the_packaged_codebook_is_part_of_the_code_fingerprint():
    assert "copeval.codebook" in data_mod.ANALYSIS_MODULES
    assert "codebook.csv" in data_mod.ANALYSIS_DATA
