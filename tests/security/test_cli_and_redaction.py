"""One-line errors for output folders and languages; the redacted view reports render."""

from __future__ import annotations

import errno
import os

import pytest

from copeval.cli import main
from copeval.report import api, batch
from copeval.report.data import ReportData, clear_memo

from .hostile import EMAIL, MARKUP, PHONE, PII_NEEDLES
from .outputs import norm


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_memo()
    yield
    clear_memo()


# ------------------------------------------------------------------------------- CLI
def test_a_file_given_as_out_is_one_line(tiny_project, tmp_path, capsys):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF")
    for out in (target, target / "sub"):
        code = main(["report", str(tiny_project), "--site", "A", "--out", str(out), "-q"])
        err = _one_line(capsys)
        assert code == 1 and err.startswith("error: ") and str(target) in err
    assert target.read_bytes() == b"%PDF"


def test_an_unknown_language_is_one_line(tiny_project, tmp_path, capsys):
    for command in (
        ["report", str(tiny_project), "--site", "A"],
        ["compare", str(tiny_project)],
        ["batch", str(tiny_project)],
    ):
        code = main([*command, "--lang", "xx", "--out", str(tmp_path / "o"), "-q"])
        err = _one_line(capsys)
        assert code == 1 and "Unknown report language 'xx'" in err


def test_a_read_only_output_folder_is_one_line(tiny_project, tmp_path, capsys, monkeypatch):
    # as root, permissions do not stop a write: the file system's refusal is simulated
    out = tmp_path / "ro"
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(out)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    out.mkdir()
    monkeypatch.setattr(batch.os, "open", refuse)
    code = main(["report", str(tiny_project), "--site", "A", "--out", str(out), "-q"])
    err = _one_line(capsys)
    assert code == 1
    assert err == f"error: cannot write to the output folder {out}: Read-only file system\n"


def test_a_full_disk_fails_the_report_in_one_line(tiny_project, tmp_path, monkeypatch):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(batch, "atomic_write_bytes", full)
    (job,) = batch.plan_jobs(tiny_project, out_dir=tmp_path / "o", sites="A", langs="es")
    result = batch.run_job(job, execute=lambda nb, params, **kw: nb)
    assert result.status == "failed"
    assert result.error.startswith("cannot write ") and "No space left on device" in result.error


def test_an_os_error_anywhere_is_one_line(tiny_project, tmp_path, capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/full/disk")

    monkeypatch.setattr(api, "plan_jobs", boom)  # what the command line calls
    code = main(["batch", str(tiny_project), "--out", str(tmp_path / "o"), "-q"])
    assert code == 1
    assert _one_line(capsys) == "error: /full/disk: No space left on device\n"


# ------------------------------------------------------------------------------- redaction
def test_reports_render_a_redacted_view_and_the_project_is_untouched(hostile_project):
    data = ReportData.load(hostile_project, n_boot=10, memo=False)
    before = data.project.sites.copy()
    view = data.for_readers("es")
    assert view is data.for_readers("es") and view.for_readers("es") is view
    assert view.result is data.result and view.extras is data.extras
    shown = [
        *view.site_names.values(),
        *view.project.sites.drop(columns="site_id").astype(str).stack(),
        *view.project.sources["coder_notes"].dropna(),
        *view.project.items[["label_en", "label_es"]].stack(),
        view.project.meta["title"],
        *view.project.sources["source_id"],
        *view.project.segments["segment_id"],
    ]
    for value in shown:
        assert not any(n in norm(str(value)) for n in PII_NEEDLES), value
    assert "[TELÉFONO]" in view.project.meta["title"]
    assert "[PHONE]" in data.for_readers("en").project.meta["title"]
    # the markup is text to escape, not something redaction removes
    assert MARKUP in view.site_names["A"]
    # IDs changed by redaction are renamed everywhere, consistently
    assert f"A-{PHONE}" not in set(view.project.sources["source_id"])
    assert "A-[TELÉFONO]" in set(view.project.sources["source_id"])
    assert set(view.evidence["source_id"]) <= set(view.project.sources["source_id"])
    for seg in view.evidence["segment_id"]:
        view.project.segment_text(seg)  # every renamed segment still finds its text
    assert "G-[TELÉFONO]" in set(view.evidence["segment_id"])
    # the loaded project itself is unchanged (never mutate an input)
    assert data.project.sites.equals(before)
    assert EMAIL in data.project.sites.loc[0, "notes"]


def test_ids_made_equal_by_redaction_stay_distinct():
    from copeval.report.data import _id_map

    def red(value):
        return value.replace("4103-0003", "[P]").replace("4111-0011", "[P]")

    import pandas as pd

    ids = pd.Series(["x 4103-0003", "x 4111-0011", "x [P]", "ok"])
    mapping = _id_map(ids, red)
    assert "ok" not in mapping and "x [P]" not in mapping
    assert sorted(mapping.values()) == ["x [P]~2", "x [P]~3"]


def test_values_redacted_together_are_redacted_as_one_by_one():
    import pandas as pd

    from copeval import privacy
    from copeval.report.data import _JOIN, redact_values

    registry = pd.DataFrame(
        {"person_id": ["P1"], "name": ["María Tzul Batz"], "role": ["community_leader"]}
    )
    values = [
        "tel 4103",  # with the next value, 4103 0003 would be a phone number
        "0003 y más",
        "María",
        "Tzul Batz",
        "ana.tzul@",
        "example.org",
        "NIT",
        "7100002-9",
        f"DPI {2345} 67890",
        "0101",
        "María Tzul Batz, 5555-1234",
        f"a{_JOIN}b",  # a value holding the separator itself
        "",
        None,
        "tel 4103",
    ]
    for lang in ("es", "en"):
        together = redact_values(values, registry=registry, lang=lang)
        alone = {
            v: privacy.redact(v, registry=registry, lang=lang)[0]
            for v in values
            if isinstance(v, str) and v
        }
        assert together == alone
