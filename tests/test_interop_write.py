"""Imports that never lose data: staged, locked, atomically switched; survey respondents
appended; replacements only with an explicit option, counted; errors naming the user's file."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, SHARED_FIXTURES

from copeval.cli import main
from copeval.errors import CopevalError
from copeval.interop import import_kobo, import_refi, transaction, write_import
from copeval.interop import result as result_mod
from copeval.interop.safe import read_table
from copeval.project import load_project

DATA = Path(__file__).resolve().parent / "data" / "interop"
ODK = SHARED_FIXTURES / "real" / "odk_central" / "odkc_community_split.csv"
ITEMS = SHARED_FIXTURES / "real" / "kobo" / "items_community_channels.csv"


def tree(root: Path) -> dict:
    """Every file under root (hidden ones too) -> SHA-256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _refi(name="nvivo_utf16.qdpx"):
    return import_refi(DATA / name, sources_meta=DATA / "nvivo_meta.csv")


@pytest.fixture
def project(tmp_path):
    """A project made by one REFI import, plus a second import ready to merge into it."""
    first = tmp_path / "p"
    write_import(_refi(), first)
    return first


def _second():
    """Another import into the same project: the same file under other source IDs."""
    r = _refi()
    r.sources = r.sources.assign(source_id=r.sources["source_id"] + "_b")
    r.segments = r.segments.assign(
        source_id=r.segments["source_id"] + "_b", segment_id=r.segments["segment_id"] + "_b"
    )
    r.texts = {f"{k}_b": v for k, v in r.texts.items()}
    return r


def _leftovers(root: Path) -> list[str]:
    return sorted(
        p.name for p in root.parent.iterdir() if p.name.startswith(f".{root.name}.") and p.is_dir()
    )


def test_a_full_disk_leaves_the_project_byte_identical(project, monkeypatch, capsys):
    before = tree(project)
    real_write = result_mod.write_project

    def write_then_fill_the_disk(path, **tables):
        real_write(path, **tables)  # the staging copy is fully written...
        (Path(path) / "segments.csv").write_text("segment_id,source_id,st")  # ...half a row
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(result_mod, "write_project", write_then_fill_the_disk)
    with pytest.raises(transaction.ProjectWriteError, match="No space left on device"):
        write_import(_second(), project)
    assert tree(project) == before
    assert _leftovers(project) == []
    assert len(load_project(project).sources) == 2

    # the command line gives one line, no traceback
    code = main(
        [
            "import",
            str(DATA / "nvivo_utf16.qdpx"),
            "--into",
            str(project),
            "--sources-meta",
            str(DATA / "nvivo_meta.csv"),
            "--force",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "nothing was changed" in err
    assert tree(project) == before


_KILLED = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from copeval.interop import import_refi, write_import
    from copeval.interop import result as result_mod
    import test_interop_write as t

    real_write = result_mod.write_project

    def slow(path, **tables):
        real_write(path, **tables)
        Path({flag!r}).write_text("writing")
        time.sleep(60)

    result_mod.write_project = slow
    write_import(t._second(), {root!r})
    """
)


def test_a_killed_import_leaves_the_project_byte_identical(project, tmp_path):
    before = tree(project)
    flag = tmp_path / "flag"
    script = _KILLED.format(tests=str(Path(__file__).parent), flag=str(flag), root=str(project))
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tree(project) == before
    assert _leftovers(project)  # the killed writer's staging copy is still there...
    second = _second()
    merged = write_import(second, project)  # ...until the next import tidies it up
    assert _leftovers(project) == []
    assert any("left by an interrupted write" in w for w in second.report.warnings)
    assert len(merged.sources) == 4


def test_a_second_import_while_one_is_writing_gets_a_one_line_error(project, capsys):
    before = tree(project)
    with transaction.project_lock(project):
        with pytest.raises(transaction.ProjectLockedError, match="another copeval process"):
            write_import(_second(), project)
        code = main(
            [
                "import",
                str(DATA / "nvivo_utf16.qdpx"),
                "--into",
                str(project),
                "--sources-meta",
                str(DATA / "nvivo_meta.csv"),
                "--force",
            ]
        )
        err = capsys.readouterr().err.strip()
        assert code == 1 and len(err.splitlines()) == 1 and "is writing into" in err
    assert tree(project) == before
    write_import(_second(), project)  # the lock is released with its holder
    assert len(load_project(project).sources) == 4


_CONCURRENT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from copeval.errors import CopevalError
    from copeval.interop import write_import
    import test_interop_write as t
    r = t._second()
    suffix = sys.argv[1]
    r.sources = r.sources.assign(source_id=r.sources["source_id"] + suffix)
    r.segments = r.segments.assign(source_id=r.segments["source_id"] + suffix,
                                   segment_id=r.segments["segment_id"] + suffix)
    r.texts = {{k + suffix: v for k, v in r.texts.items()}}
    try:
        write_import(r, {root!r})
    except CopevalError as exc:
        print(exc)
        sys.exit(1)
    """
)


def test_simultaneous_imports_never_lose_sources(project):
    script = _CONCURRENT.format(tests=str(Path(__file__).parent), root=str(project))
    procs = {
        s: subprocess.Popen(
            [sys.executable, "-c", script, s], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for s in ("x", "y", "z")
    }
    codes = {s: (p.wait(), p.stdout.read()) for s, p in procs.items()}
    final = set(load_project(project).sources["source_id"])
    for s, (code, out) in codes.items():
        mine = {f"{sid}_b{s}" for sid in _refi().sources["source_id"]}
        if code == 0:
            assert mine <= final, (s, out)
        else:
            assert "another copeval process" in out and not (mine & final)
    assert any(code == 0 for code, _ in codes.values())


def test_the_two_rename_switch_when_exchange_is_not_available(project, monkeypatch):
    monkeypatch.setattr(transaction, "_exchange", lambda a, b: False)
    write_import(_second(), project)
    assert len(load_project(project).sources) == 4
    assert _leftovers(project) == []


def test_an_interrupted_two_rename_switch_is_rolled_back(project):
    before = tree(project)
    old = project.parent / f".{project.name}.old-abc123"
    os.rename(project, old)  # killed between "project -> old" and "staging -> project"
    staging = project.parent / f".{project.name}.staging-def456"
    staging.mkdir()
    with transaction.project_lock(project):
        done = transaction.recover(project)
    assert tree(project) == before
    assert not old.exists() and not staging.exists()
    assert any("restored" in d for d in done)


def test_new_project_and_folder_permissions(tmp_path):
    target = tmp_path / "new"
    write_import(_refi(), target)
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~mask  # not mkdtemp's 0700
    assert (tmp_path / ".new.copeval-lock").is_file()
    assert _leftovers(target) == []


# --------------------------------------------------------------------------- survey merges
def _odk_halves(tmp_path):
    if not ODK.is_file():
        pytest.skip(f"{ODK} not available")
    raw = read_table(ODK)
    a, b = tmp_path / "first.csv", tmp_path / "second.csv"
    raw.iloc[:20].to_csv(a, index=False)
    raw.iloc[20:].to_csv(b, index=False)
    return raw, a, b


def test_new_respondents_are_appended(tmp_path):
    _raw, a, b = _odk_halves(tmp_path)
    target = tmp_path / "p"
    first = write_import(import_kobo(a, items=ITEMS), target)
    n_first = len(first.responses["community"])
    r = import_kobo(b, items=ITEMS)
    project = write_import(r, target)
    df = project.responses["community"]
    assert len(df) == 38 and df["respondent_id"].is_unique
    assert any(
        f"appended to responses/community.csv (it held {n_first})" in w for w in r.report.warnings
    )
    # the same export again: nothing changes, and it says so
    before = tree(target)
    r = import_kobo(b, items=ITEMS)
    write_import(r, target)
    assert any("with the same answers; kept" in w for w in r.report.warnings)
    assert pd.read_csv(target / "responses" / "community.csv").shape[0] == 38
    assert before["responses/community.csv"] == tree(target)["responses/community.csv"]


def test_changed_answers_are_replaced_only_with_force_and_counted(tmp_path):
    raw, a, _ = _odk_halves(tmp_path)
    target = tmp_path / "p"
    write_import(import_kobo(a, items=ITEMS), target)
    before = tree(target)
    edited = raw.iloc[:20].copy()
    col = "grp_c1-c1_foot_patrol"
    edited.loc[edited.index[:3], col] = ["0", "0", "0"]
    ed = tmp_path / "edited.csv"
    edited.to_csv(ed, index=False)
    changed = int((raw.iloc[:3][col] != "0").sum())
    with pytest.raises(CopevalError, match=f"--force replaces these {changed} respondent"):
        write_import(import_kobo(ed, items=ITEMS), target)
    assert tree(target) == before
    r = import_kobo(ed, items=ITEMS)
    project = write_import(r, target, force=True)
    assert any(f"replaced {changed} respondent(s)" in w for w in r.report.warnings)
    assert len(project.responses["community"]) == len(load_project(target).responses["community"])


def test_replacing_all_respondents_needs_its_own_option_and_says_how_many(tmp_path):
    _raw, a, b = _odk_halves(tmp_path)
    target = tmp_path / "p"
    first = write_import(import_kobo(a, items=ITEMS), target)
    n = len(first.responses["community"])
    r = import_kobo(b, items=ITEMS)
    project = write_import(r, target, force=True, replace_responses=True)
    assert any(f"dropped all {n} existing respondent(s)" in w for w in r.report.warnings)
    assert len(project.responses["community"]) == 38 - n


def test_demo_weights_mismatch_is_explained_and_nothing_is_written(tmp_path, demo_path, capsys):
    if not ODK.is_file():
        pytest.skip(f"{ODK} not available")
    import shutil

    target = tmp_path / "demo"
    shutil.copytree(demo_path, target)
    before = tree(target)
    args = ["import", str(ODK), "--into", str(target), "--items", str(ITEMS), "--force"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "holds design weights (column 'weight') and the export has none" in err
    assert "--replace-responses to drop the 387 existing respondent(s) (site(s) TOT, VC)" in err
    assert tree(target) == before
    assert main([*args, "--replace-responses"]) == 0
    out = capsys.readouterr().out
    assert "dropped all 387 existing respondent(s)" in out
    assert main(["validate", str(target)]) == 0
    assert main(["score", str(target)]) == 0


def test_errors_after_the_trial_merge_name_the_users_file(tmp_path):
    if not ODK.is_file():
        pytest.skip(f"{ODK} not available")
    items = read_table(ITEMS)
    row = items.index[items["item"] == "c1_foot_patrol"][0]
    items.loc[row, "missing_codes"] = "3;97;98"  # 3 overlaps the answers 0..4
    bad = tmp_path / "my_items.csv"
    items.to_csv(bad, index=False)
    with pytest.raises(result_mod.ImportValidationError) as info:
        write_import(import_kobo(ODK, items=bad), tmp_path / "p")
    msg = str(info.value)
    assert f"{bad}, column 'missing_codes': item 'c1_foot_patrol' of 'community'" in msg
    assert f"the import of {ODK}" in msg
    assert "copeval-import" not in msg and "staging" not in msg
    assert "items.csv row" not in msg
    assert not (tmp_path / "p").exists()


# --------------------------------------------------------------------------- datapackage
def test_describe_and_imports_keep_licences_contributors_keywords(project, capsys):
    path = project / "datapackage.json"
    desc = json.loads(path.read_text(encoding="utf-8"))
    extra = {
        "licenses": [
            {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}
        ],
        "contributors": [{"title": "Equipo de evaluación", "role": "author"}],
        "keywords": ["policía comunitaria", "Guatemala"],
    }
    path.write_text(json.dumps({**desc, **extra}, ensure_ascii=False), encoding="utf-8")
    assert main(["describe", str(project), "--title", "Otro título"]) == 0
    after = json.loads(path.read_text(encoding="utf-8"))
    assert {k: after[k] for k in extra} == extra and after["title"] == "Otro título"
    write_import(_second(), project)
    after = json.loads(path.read_text(encoding="utf-8"))
    assert {k: after[k] for k in extra} == extra


def test_importing_into_the_current_folder_is_refused(project, monkeypatch):
    """The project folder is switched as a whole: a shell sitting in it would be left in the
    old, deleted folder."""
    before = tree(project)
    monkeypatch.chdir(project)
    with pytest.raises(CopevalError, match="is the current folder"):
        write_import(_second(), ".")
    monkeypatch.chdir(project / "texts")
    with pytest.raises(CopevalError, match="is the current folder"):
        write_import(_second(), project)
    assert tree(project) == before


def test_a_failed_second_rename_puts_the_project_back(tmp_path, monkeypatch):
    # the two-rename switch (no renameat2): when the staging copy cannot take the project's
    # place, the project must be renamed back before the error is reported
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.txt").write_text("old")
    monkeypatch.setattr(transaction, "_exchange", lambda a, b: False)
    real_rename = os.rename
    calls = []

    def flaky(a, b):
        calls.append((a, b))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_rename(a, b)

    monkeypatch.setattr(transaction.os, "rename", flaky)
    with (
        pytest.raises(transaction.ProjectWriteError, match="nothing was changed"),
        transaction.project_lock(root),
        transaction.staged_project(root) as staging,
    ):
        (staging / "a.txt").write_text("new")
    monkeypatch.setattr(transaction.os, "rename", real_rename)
    assert (root / "a.txt").read_text() == "old"
    assert not list(tmp_path.glob(".proj.old-*")) and not list(tmp_path.glob(".proj.staging-*"))


def test_an_import_through_a_symlink_updates_the_project_and_keeps_the_link(tmp_path):
    real = tmp_path / "data" / "proj"
    real.mkdir(parents=True)
    (real / "a.txt").write_text("old")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert transaction.lock_path(link) == transaction.lock_path(real)  # one lock per folder
    with transaction.project_lock(link), transaction.staged_project(link) as staging:
        (staging / "a.txt").write_text("new")
    assert link.is_symlink()
    assert (real / "a.txt").read_text() == "new"
    assert not list(tmp_path.rglob(".*staging-*"))
