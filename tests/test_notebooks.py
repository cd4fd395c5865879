"""End to end: the report notebooks executed by papermill on the demo, exported to PDF.

One batch renders a Spanish site report and an English comparison (both templates, both
languages);
the tests read the PDFs back (pypdf) and render their first page to PNG (pdftoppm). A second
set drives ``copeval batch`` with one site that cannot be written, then resumes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest
from pypdf import PdfReader

from copeval.cli import main
from copeval.report.batch import plan_jobs
from copeval.vocabulary import CRITERION_LABELS

pytestmark = pytest.mark.slow

#: Text that would betray code in a report meant for ministers.
CODE_MARKERS = ("import ", "def ", "copeval.", "report.", "Traceback", ">>>", "In [", "Out[")


@pytest.fixture(scope="module")
def rendered(demo_path, tmp_path_factory):
    """`copeval report` (Spanish site report) and `copeval compare` (English), side by side."""
    import concurrent.futures as cf

    out = tmp_path_factory.mktemp("reports")
    common = ["--out", str(out), "--n-boot", "200", "--quiet"]
    commands = [
        ["report", str(demo_path), "--site", "TOT", "--lang", "es", *common],
        ["compare", str(demo_path), "--lang", "en", *common],
        ["report", str(demo_path), "--site", "VC", "--lang", "en", "--profile", "brief", *common],
    ]
    with cf.ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(main, commands))
    assert codes == [0, 0, 0]
    return out


def _pages(path) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(path).pages]


@pytest.mark.parametrize(
    "stem, lang, names",
    [
        ("site_TOT_es", "es", ["Totonicapán"]),
        ("comparative_en", "en", ["Villa Canales", "Totonicapán"]),
    ],
)
def test_pdf_speaks_one_language_names_the_site_and_shows_no_code(rendered, stem, lang, names):
    pdf = rendered / f"{stem}.pdf"
    assert pdf.is_file() and (rendered / f"{stem}.html").is_file()
    assert (rendered / f"{stem}.ipynb").is_file()  # kept for audit
    pages = _pages(pdf)
    text = "\n".join(pages)
    flat = re.sub(r"\s+", " ", text)
    for name in names:
        assert name in pages[0]  # on the cover, accents intact
    for c, labels in CRITERION_LABELS.items():
        assert labels[lang] in flat, (c, labels[lang])
    other = "en" if lang == "es" else "es"
    assert CRITERION_LABELS["C2"][other] not in flat
    for marker in CODE_MARKERS:
        assert marker not in text, marker
    assert "DATOS SINTÉTICOS / SYNTHETIC DATA" in pages[0]
    if stem.startswith("comparative"):
        # a short comparison has no contents page (its sections are listed on the cover)
        assert ("Resumen ejecutivo" if lang == "es" else "Executive summary") in pages[1][:80]
    else:
        # cover: 1 page; page 2 opens with the contents (the running header, "Site ·
        # Community policing", may come first in the extracted text)
        body = [line for line in pages[1].splitlines() if " · " not in line]
        assert body[0].startswith("Contenido" if lang == "es" else "Contents"), body[:2]
    # running header and page numbers from page 2 on
    assert re.search(rf"\b2 / {len(pages)}\b", pages[1])


def test_site_report_has_every_section_and_traceable_evidence(rendered):
    text = re.sub(r"\s+", " ", "\n".join(_pages(rendered / "site_TOT_es.pdf")))
    for heading in (
        "Resumen ejecutivo",
        "Resultados de un vistazo",
        "Evidencia por criterio",
        "Cobertura de la evidencia",
        "Resultados de las encuestas",
        "Confiabilidad y sensibilidad",
        "Recomendaciones",
        "Anexo A. Método",
        "Anexo B. Evidencia",
    ):
        assert heading in text
    assert "Plan Estratégico de Seguridad de la Nación" in text and "FIAPOL" in text
    assert re.search(r"TOT-[A-Z]\d+-S\d+ C\d\.\w+ ([+\u2212]\d|0)", text)  # Appendix B
    nb = json.loads((rendered / "site_TOT_es.ipynb").read_text(encoding="utf-8"))
    params = nb["metadata"]["papermill"]["parameters"]
    assert params["site_id"] == "TOT" and params["lang"] == "es"


def test_brief_is_short_and_complete_in_what_it_promises(rendered):
    pdf = rendered / "brief_VC_en.pdf"
    assert (rendered / "brief_VC_en.html").is_file()
    pages = _pages(pdf)
    assert len(pages) <= 6
    text = re.sub(r"\s+", " ", "\n".join(pages))
    assert "MUNICIPAL BRIEF" in pages[0].upper() and "Villa Canales" in pages[0]
    for c, labels in CRITERION_LABELS.items():
        assert labels["en"] in text, c
    for heading in ("Executive summary", "Results at a glance", "Recommendations", "About this"):
        assert heading in text, heading
    for absent in ("Contents", "Appendix B", "Evidence by criterion", "Survey results"):
        assert absent not in text, absent
    assert re.search(r"--\s?profile brief", text)  # the command line may wrap
    for marker in CODE_MARKERS:
        assert marker not in text, marker
    assert re.search(rf"\b2 / {len(pages)}\b", pages[1])  # page furniture as in the full report


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm not installed")
def test_cover_renders_to_a_non_blank_png(rendered, tmp_path):
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            str(rendered / "site_TOT_es.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    png = next(tmp_path.glob("page*.png"))
    from matplotlib.image import imread

    img = imread(png)
    assert img.shape[0] > 600 and img.shape[1] > 400  # A4 at 60 dpi: 702 x 496
    assert img.std() > 0.05  # not a blank page


def test_batch_with_a_broken_site_finishes_the_others_then_resumes(demo_copy, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "site_TOT_en.html").mkdir(parents=True)  # TOT's report cannot be written
    args = [
        "batch",
        str(demo_copy),
        "--lang",
        "en",
        "--format",
        "html",
        "--no-compare",
        "--n-boot",
        "50",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "1 report(s) rendered" in err and "1 failed" in err
    assert "FAILED TOT (en)" in err
    assert (out / "site_VC_en.html").is_file()
    assert (out / "site_VC_en.manifest.json").is_file()
    assert not (out / "site_TOT_en.manifest.json").exists()
    assert not list(out.glob(".*.part"))  # no temporary files left behind

    # resuming skips the complete report and says so (re-rendering is tested in test_batch)
    assert main([*args, "--sites", "VC", "--resume"]) == 0
    captured = capsys.readouterr()
    assert "skipped (outputs complete, inputs unchanged): VC (en)" in captured.out
    assert "0 report(s) rendered, 1 skipped" in captured.out


def test_cli_report_unknown_site_lists_available_ids(demo_path, tmp_path, capsys):
    code = subprocess.run(
        [
            sys.executable,
            "-m",
            "copeval",
            "report",
            str(demo_path),
            "--site",
            "0101",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert code.returncode == 1
    assert "error: Unknown site ID(s): 0101. Available site IDs: VC, TOT" in code.stderr
    assert "Traceback" not in code.stderr


def test_render_report_site_ids_stay_strings(demo_path, tmp_path):
    # The parameters papermill injects carry the ID as text: "0101" would survive.
    job = plan_jobs(demo_path, out_dir=tmp_path, sites="VC", langs="en")[0]
    assert replace(job, site_id="0101").parameters()["site_id"] == "0101"
