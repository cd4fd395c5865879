"""A notebook whose sections carry Typst is printed by Typst, through the whole pipeline;
one with an HTML-only output falls back to WeasyPrint (and the manifest says which)."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from copeval.report.api import plan_jobs, run_batch

pytest.importorskip("typst")
pypdf = pytest.importorskip("pypdf")

TEMPLATE = """\
# %% tags=["parameters"]
project_path = ""
site_id = "x"
lang = "es"
weight = 0.6
n_boot = 2000
seed = 0
ci = 0.9
cache_dir = None
crosswalk = None

# %%
from copeval.report import doc

doc.Section(
    doc.DocInfo(title=f"Informe {site_id}", lang=lang, running=f"Sitio {site_id}"),
    doc.Heading(1, f"Sitio {site_id}: Ñandú", "cover"),
    doc.Para("Texto con acentos: áéíóú, y una cita."),
)

# %%
doc.Section(doc.Heading(2, "Resumen", "summary"), doc.Para("Todo en orden."))

# %% tags=["remove-cell"]
from IPython.display import HTML
HTML("<p>analyst's note, not for readers</p>")
"""


@pytest.mark.parametrize("html_only", [False, True])
def test_the_pdf_route_follows_the_outputs(tiny_project, tmp_path, html_only):
    source = TEMPLATE
    if html_only:
        source += '\n# %%\nfrom IPython.display import HTML\nHTML("<p>Solo HTML</p>")\n'
    template = tmp_path / "typst_report.py"
    template.write_text(source, encoding="utf-8")
    out = tmp_path / "out"
    job = replace(
        plan_jobs(tiny_project, out_dir=out, langs="es", cache=False)[0], notebook=str(template)
    )
    result = run_batch([job], max_workers=1, engine="inprocess", progress=False)
    assert result.ok, result.summary()
    manifest = json.loads((out / f"{job.stem}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["pdf_route"] == ("weasyprint" if html_only else "typst")
    pdf = pypdf.PdfReader(io.BytesIO((out / f"{job.stem}.pdf").read_bytes()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Ñandú" in text and "Todo en orden" in text
    assert "analyst's note" not in text
    assert ("Solo HTML" in text) == html_only
    html = (out / f"{job.stem}.html").read_text(encoding="utf-8")
    assert "Sitio A: Ñandú" in html and "analyst" not in html
