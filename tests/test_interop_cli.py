"""copeval import / export from the command line: new projects, merging, --force, templates,
validation and scoring of an imported project."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from copeval.cli import main
from copeval.project import load_project

DATA = Path(__file__).resolve().parent / "data" / "interop"
NVIVO = [
    "import",
    str(DATA / "nvivo_utf16.qdpx"),
    "--mapping",
    str(DATA / "nvivo_mapping.csv"),
    "--sources-meta",
    str(DATA / "nvivo_meta.csv"),
]


def test_import_creates_a_valid_project(tmp_path, capsys):
    target = tmp_path / "proj"
    assert main([*NVIVO, "--into", str(target)]) == 0
    out = capsys.readouterr()
    assert "offsets: utf16 (evidence)" in out.out and "UNMAPPED codes: 1" in out.out
    assert "Otros temas" in out.out
    assert main(["validate", str(target)]) == 0
    project = load_project(target)
    assert set(project.sources["source_id"]) == {"VC-C01", "VC-P02"}
    sites = project.sites.set_index("site_id")
    assert sites.loc["VC", "name"] == "VC" and sites.loc["VC", "department"] == "unknown"
    assert project.meta["title"] == "Evaluación COP (prueba)"
    assert project.text("VC-C01").count("\r\n") == 4  # line endings kept byte for byte


def test_import_never_overwrites_without_force(tmp_path, capsys):
    target = tmp_path / "proj"
    assert main([*NVIVO, "--into", str(target)]) == 0
    before = (target / "segments.csv").read_bytes()
    capsys.readouterr()
    assert main([*NVIVO, "--into", str(target)]) == 1
    err = capsys.readouterr().err
    assert "already has source(s) VC-C01, VC-P02" in err and "--force" in err
    assert (target / "segments.csv").read_bytes() == before
    assert main([*NVIVO, "--into", str(target), "--force", "--coder", "XY"]) == 0
    project = load_project(target)
    assert set(project.segments["coder"]) == {"XY"} and project.meta["primary_coder"] == "XY"


def test_import_merges_new_sources(tmp_path):
    target = tmp_path / "proj"
    assert main([*NVIVO, "--into", str(target)]) == 0
    assert main(["import", str(DATA / "cases_variables.qdpx"), "--into", str(target)]) == 0
    assert main(["import", str(DATA / "atlas_crlf1" / "project.qde"), "--into", str(target)]) == 0
    project = load_project(target)
    assert len(project.sources) == 2 + 3 + 1
    assert set(project.sites["site_id"]) == {"VC", "TOT"}
    assert project.segments["segment_id"].is_unique


def test_import_refuses_a_non_empty_folder_that_is_not_a_project(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert main([*NVIVO, "--into", str(tmp_path)]) == 1
    assert "holds no copeval project" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_import_into_an_invalid_project_is_refused(tmp_path, capsys, tiny_project):
    (tiny_project / "sites.csv").write_text("site_id\n", encoding="utf-8")
    assert main([*NVIVO, "--into", str(tiny_project)]) == 1
    assert "holds a project with errors" in capsys.readouterr().err


def test_missing_metadata_error_and_meta_template(tmp_path, capsys):
    target = tmp_path / "proj"
    qdpx = str(DATA / "nvivo_utf16.qdpx")
    assert main(["import", qdpx, "--into", str(target)]) == 1
    assert "lack the site or respondent group" in capsys.readouterr().err
    assert not target.exists()
    template = tmp_path / "meta.csv"
    assert main(["import", qdpx, "--meta-template", str(template)]) == 0
    df = pd.read_csv(template, dtype=str, keep_default_na=False)
    assert df["source"].tolist() == ["Entrevista comunitaria 01", "Entrevista policía 02"]
    assert list(df.columns)[:4] == ["source", "source_id", "site_id", "respondent_group"]
    df["site_id"] = "TOT"
    df["respondent_group"] = "expert"
    df.to_csv(template, index=False)
    assert (
        main(
            [
                "import",
                qdpx,
                "--into",
                str(target),
                "--sources-meta",
                str(template),
                "--mapping",
                str(DATA / "nvivo_mapping.csv"),
            ]
        )
        == 0
    )
    assert set(load_project(target).sources["respondent_group"]) == {"expert"}


def test_qdc_coverage_and_mapping_template(tmp_path, capsys):
    out = tmp_path / "map.csv"
    assert main(["import", str(DATA / "taguette_codebook.qdc"), "--write-mapping", str(out)]) == 0
    text = capsys.readouterr().out
    assert "5 codes; 2 map to the codebook, 1 are valence codes, 2 do not map" in text
    assert "(valence +2)" in text
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert dict(zip(df["external_name"], df["code"], strict=True)) == {
        "C2.meetings": "C2.meetings",
        "Patrullaje.a pie": "",
        "interesting": "",
        "AT.trust": "AT.trust",
    }


def test_codebook_only_qdpx_gives_a_mapping_template(tmp_path, capsys):
    out = tmp_path / "map.csv"
    assert main(["import", str(DATA / "cases_variables.qdpx"), "--write-mapping", str(out)]) == 0
    assert (
        "10 codes; 4 map to the codebook, 6 are valence codes, 0 do not map"
        in capsys.readouterr().out
    )
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert dict(zip(df["external_name"], df["code"], strict=True)) == {
        "C2": "C2",
        "C2/meetings": "C2.meetings",
        "AT": "AT",
        "AT/AT.trust": "AT.trust",
    }


def test_taguette_and_kobo_through_the_cli(tmp_path, capsys):
    target = tmp_path / "proj"
    assert main(["import", str(DATA / "taguette_highlights.csv"), "--into", str(target)]) == 1
    assert "--texts DIR" in capsys.readouterr().err
    assert (
        main(
            [
                "import",
                str(DATA / "taguette_highlights.xlsx"),
                "--into",
                str(target),
                "--texts",
                str(DATA / "taguette_texts"),
                "--sources-meta",
                str(DATA / "taguette_meta.csv"),
                "--mapping",
                str(DATA / "taguette_mapping.csv"),
                "--coder",
                "TG",
            ]
        )
        == 0
    )
    assert main(["import", str(DATA / "kobo_community.csv"), "--into", str(target)]) == 1
    assert "give the item map with --items" in capsys.readouterr().err
    assert (
        main(
            [
                "import",
                str(DATA / "kobo_community.csv"),
                "--into",
                str(target),
                "--items",
                str(DATA / "kobo_items.csv"),
                "--site-column",
                "site",
                "--site-values",
                str(DATA / "kobo_sites.csv"),
            ]
        )
        == 0
    )
    # the second export of the same instrument uses the project's item map
    assert (
        main(
            [
                "import",
                str(DATA / "kobo_community.xlsx"),
                "--into",
                str(target),
                "--site-column",
                "site",
                "--site-values",
                str(DATA / "kobo_sites.csv"),
            ]
        )
        == 0
    )
    project = load_project(target)
    assert len(project.segments) == 4 and len(project.responses["community"]) == 4
    assert main(["validate", str(target)]) == 0


def test_unknown_format(tmp_path, capsys):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["import", str(f), "--into", str(tmp_path / "p")]) == 1
    assert "cannot tell the format" in capsys.readouterr().err
    g = tmp_path / "x.pdf"
    g.write_bytes(b"%PDF")
    assert main(["import", str(g), "--into", str(tmp_path / "p")]) == 1
    assert "unknown file type '.pdf'" in capsys.readouterr().err


def test_export_cli(tmp_path, capsys, tiny_project):
    out = tmp_path / "tiny.qdpx"
    assert main(["export", str(tiny_project), str(out)]) == 0
    assert "3 source(s)" in capsys.readouterr().out
    assert zipfile.is_zipfile(out)
    assert main(["export", str(tiny_project), str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["export", str(tiny_project), str(out), "--force", "--lang", "es"]) == 0
    assert main(["export", str(tiny_project), str(tmp_path / "cb.qdc")]) == 0
    assert (tmp_path / "cb.qdc").read_text(encoding="utf-8").count("<Code ") == 31 + 1 + 5
    assert main(["export", str(tiny_project), str(tmp_path / "x.zip")]) == 1
    assert "must end in .qdpx or .qdc" in capsys.readouterr().err


def test_imported_project_can_be_scored_with_qualitative_data_only(tmp_path):
    scoring = pytest.importorskip("copeval.scoring")
    target = tmp_path / "proj"
    assert main([*NVIVO, "--into", str(target)]) == 0
    project = load_project(target)
    assert project.responses == {}
    evidence = project.evidence()
    assert len(evidence) > 0 and evidence["valence"].notna().all()
    result = scoring.score_sites(project, n_boot=50, seed=1)
    table = result.table
    assert set(table["site_id"]) == {"VC"}
    c1 = table[table["criterion"] == "C1"].iloc[0]
    assert pd.notna(c1["score"])


def test_help_texts(capsys):
    for cmd in ("import", "export"):
        with pytest.raises(SystemExit) as exit_:
            main([cmd, "--help"])
        assert exit_.value.code == 0
        assert "REFI-QDA" in capsys.readouterr().out
