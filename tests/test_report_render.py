"""Notebook -> HTML -> PDF: code hidden, table of contents with page numbers, page furniture."""

from __future__ import annotations

import io
import re

import nbformat
import pytest
from pypdf import PdfReader

from copeval.errors import CopevalError
from copeval.report import doc, render


def docinfo(**kw) -> str:
    return doc.to_html(doc.DocInfo(**kw))


def heading(level, text, anchor, *, newpage=False) -> str:
    return doc.to_html(doc.Heading(level, text, anchor, newpage=newpage))


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for source, outputs in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = outputs
        nb.cells.append(cell)
    return nb


def _html(markup):
    return nbformat.v4.new_output("display_data", data={"text/html": markup})


@pytest.fixture
def executed():
    body = "".join(f"<p>Texto de relleno número {i} con acentos: áéíóú ñ.</p>" for i in range(60))
    return _notebook(
        (
            "from secret_module import thing\nreport.cover()",
            [
                _html(
                    docinfo(
                        title="Título",
                        lang="es",
                        running="Sitio Ñandú · Informe",
                        footer="DATOS SINTÉTICOS",
                    )
                ),
                _html('<section class="cv-cover"><h1>Sitio Ñandú</h1></section>'),
                nbformat.v4.new_output(
                    "stream", name="stderr", text="Traceback: def broken(): import os\n"
                ),
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": "<Block>"}, execution_count=1
                ),
            ],
        ),
        ("report.contents()", [_html('<nav class="cv-toc"><h2>Contenido</h2></nav>')]),
        ("report.summary()", [_html(heading(2, "Resumen", "summary") + body)]),
        (
            "report.more()",
            [
                _html(
                    heading(2, "Anexo", "annex", newpage=True)
                    + heading(3, "Detalle", "detail")
                    + "<p>fin</p>"
                )
            ],
        ),
    )


def test_export_hides_code_streams_and_plain_reprs(executed):
    html = render.export_html(executed)
    assert "secret_module" not in html and "report.cover" not in html
    assert "Traceback" not in html and "def broken" not in html
    assert "&lt;Block&gt;" not in html and "<Block>" not in html
    assert '<html lang="es">' in html
    assert "<title>Título</title>" in html
    assert 'content: "Sitio Ñandú · Informe"' in html  # running header
    # the table of contents lists the headings that follow it, with links
    assert '<li class="cv-toc-2"><a href="#summary">Resumen</a></li>' in html
    assert '<li class="cv-toc-3"><a href="#detail">Detalle</a></li>' in html


def test_pdf_has_page_numbers_toc_numbers_running_header_and_accents(executed):
    pdf = render.html_to_pdf(render.export_html(executed))
    reader = PdfReader(io.BytesIO(pdf))
    n = len(reader.pages)
    assert n >= 4
    pages = [p.extract_text() for p in reader.pages]
    assert "Sitio Ñandú" in pages[0]
    assert "Sitio Ñandú · Informe" not in pages[0]  # no running header on the cover
    assert f"2 / {n}" in pages[1] and "Sitio Ñandú · Informe" in pages[1]
    assert "DATOS SINTÉTICOS" in pages[1]
    # table of contents: each heading and the page it landed on
    entries = dict(re.findall(r"^(\w+)\s*(\d+)$", pages[1], flags=re.M))
    annex_page = next(i for i, t in enumerate(pages) if "Detalle" in t and "fin" in t) + 1
    summary_page = next(i for i, t in enumerate(pages) if "Texto de relleno número 0" in t) + 1
    assert entries == {
        "Resumen": str(summary_page),
        "Anexo": str(annex_page),
        "Detalle": str(annex_page),
    }
    assert annex_page > summary_page
    assert "áéíóú ñ" in pages[2]
    for text in pages:
        assert "secret_module" not in text and "import " not in text


def test_notebook_templates_have_one_parameters_cell_of_literals():
    for name in render.NOTEBOOKS.values():
        nb = render.read_notebook(render.notebook_path(name))
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1
        for line in params[0].source.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            name_, _, value = line.partition(" = ")
            assert name_.isidentifier()
            # plain literals only: nothing computed from another parameter
            compile(value, "<param>", "eval")
            assert (
                not any(ch.isalpha() for ch in value)
                or value in ("None", "True", "False")
                or value.startswith('"')
            )


def test_unknown_notebook_and_parameters_cell_errors(tmp_path):
    with pytest.raises(CopevalError, match=r"No report notebook named 'nope'\. Available: "):
        render.notebook_path("nope")
    bad = tmp_path / "bad.py"
    bad.write_text("# %%\nx = 1\n", encoding="utf-8")
    with pytest.raises(CopevalError, match="exactly one cell tagged 'parameters', found 0"):
        render.read_notebook(bad)


def test_a_page_with_styles_of_its_own_is_printed_with_them(monkeypatch):
    # the shared parsed stylesheet ranks below author styles: pages with other style
    # elements are printed from their inline styles, as they are
    page = render._page_template().render(
        css=render._css_markup(),
        body=render._markup("<p>Texto</p>"),
        version="x",
        title="t",
        lang="es",
        running="r",
        footer="",
    )
    # a style element of its own in the head (one in the body is removed by the sanitiser)
    page = page.replace("</head>", "<style>p { color: red }</style></head>")

    def refuse():
        raise AssertionError("the shared stylesheet must not be used here")

    monkeypatch.setattr(render, "_print_setup", refuse)
    pdf = render.html_to_pdf(page)
    assert pdf.startswith(b"%PDF")
