"""The HTML page is built straight from the executed notebook's outputs (no nbconvert).

What readers see must be what nbconvert's ``--no-input`` export showed (same text, same
order), minus what never belonged there: code, prompts, streams, errors, plain reprs and
cells tagged ``remove-cell``; the page passes the HTML allow-list on its way out.
"""

from __future__ import annotations

import base64
import re
import time

import nbformat
import pytest

from copeval.report import render


def _out(data, kind="display_data"):
    if kind == "execute_result":
        return nbformat.v4.new_output(kind, data=data, execution_count=1)
    return nbformat.v4.new_output(kind, data=data)


def _nb():
    nb = nbformat.v4.new_notebook()
    md = nbformat.v4.new_markdown_cell("# Notes for the analyst\n\nRead *this* first.")
    hidden_md = nbformat.v4.new_markdown_cell(
        "# Template help", metadata={"tags": ["remove-cell"]}
    )
    params = nbformat.v4.new_code_cell("site_id = 'A'", metadata={"tags": ["parameters"]})
    cover = nbformat.v4.new_code_cell("import secret\nreport.cover()")
    cover.outputs = [
        _out(
            {
                "text/html": '<div class="cv-docinfo" data-title="T&quot;í" data-lang="es" '
                'data-running="R" data-footer="F"></div><section><h1>Sitio Ñ</h1></section>'
            }
        ),
        nbformat.v4.new_output("stream", name="stderr", text="DeprecationWarning: noise\n"),
        _out({"text/plain": "<Block object>"}, "execute_result"),
    ]
    toc = nbformat.v4.new_code_cell("report.contents()")
    toc.outputs = [_out({"text/html": '<nav class="cv-toc"><h2>Contenido</h2></nav>'})]
    body = nbformat.v4.new_code_cell("report.summary()")
    body.outputs = [
        _out(
            {
                "text/html": '<h2 class="cv-h" id="resumen">Resumen</h2>'
                '<p onclick="steal()">Texto <a href="https://evil.example/x">enlace</a></p>'
                "<script>alert(1)</script>"
            },
            "execute_result",
        ),
        _out({"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg"><text>fig</text></svg>'}),
        _out({"image/png": base64.b64encode(b"\x89PNG fake").decode()}),
    ]
    broken = nbformat.v4.new_code_cell("1/0")
    broken.outputs = [
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="x", traceback=["tb"])
    ]
    hidden = nbformat.v4.new_code_cell("debug()", metadata={"tags": ["remove-cell"]})
    hidden.outputs = [_out({"text/html": "<p>DEBUG TABLE</p>"})]
    quiet = nbformat.v4.new_code_cell("setup()", metadata={"tags": ["remove-output"]})
    quiet.outputs = [_out({"text/html": "<p>SETUP OUTPUT</p>"})]
    nb.cells = [hidden_md, md, params, cover, toc, body, broken, hidden, quiet]
    return nb


def _text(page: str) -> str:
    body = page[page.index("<body>") :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def test_the_page_shows_outputs_only_in_cell_order():
    page = render.export_html(_nb())
    text = _text(page)
    assert text.index("Notes for the analyst") < text.index("Sitio Ñ") < text.index("Resumen")
    for hidden in ("import secret", "noise", "<Block", "ZeroDivisionError", "DEBUG TABLE",
                   "SETUP OUTPUT", "Template help", "site_id"):  # fmt: skip
        assert hidden not in page
    assert "<title>T&#34;í</title>" in page or "<title>T&quot;í</title>" in page
    assert '<html lang="es">' in page
    # the table of contents is filled from the headings
    assert '<a href="#resumen">Resumen</a>' in page


def test_the_page_passes_the_allow_list():
    page = render.export_html(_nb())
    assert "<script>alert" not in page and "onclick" not in page
    assert "evil.example" not in page
    # figures as data: images (an inline <svg> would not pass the allow-list)
    assert 'src="data:image/svg+xml;base64,' in page
    assert 'src="data:image/png;base64,' in page


def test_same_text_as_the_nbconvert_export():
    """The direct page says what nbconvert's --no-input export (the former route) said."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    from copeval.report.safety import sanitize_html

    nb = _nb()
    exporter = HTMLExporter(template_name="basic", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)  # fmt: skip
    exporter.register_preprocessor(
        TagRemovePreprocessor(
            remove_cell_tags={"remove-cell"},
            remove_all_outputs_tags={"remove-output"},
            enabled=True,
        ),
        enabled=True,
    )
    # what the former route kept of each cell: display outputs with a page representation
    keep = nbformat.from_dict(nb)
    for cell in keep.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if o.output_type != "stream"
                            and o.output_type != "error"
                            and set(o.get("data", {})) - {"text/plain"}]  # fmt: skip
    body, _ = exporter.from_notebook_node(keep)
    old = _text("<body>" + sanitize_html(render._fill_toc(body)))
    new = _text(render.export_html(nb))
    # (markdown headings carry a "¶" anchor link in both; it is not text)
    assert [w for w in new.split() if w != "¶"] == [w for w in old.split() if w != "¶"]
    assert "Resumen Resumen" in new  # the contents entry, then the heading


def test_building_the_page_is_faster_than_nbconvert():
    """Relative, so a busy machine does not fail it: the former route converted the whole
    notebook with nbconvert (about 0.16 s a full report; the direct page about 0.02 s)."""
    from nbconvert import HTMLExporter

    nb = _nb()
    big = nbformat.v4.new_code_cell("report.criteria()")
    big.outputs = [_out({"text/html": "<p>" + "palabra " * 800 + "</p>"})] * 12
    nb.cells.append(big)
    exporter = HTMLExporter(template_name="basic", exclude_input=True)
    render.export_html(nb)
    exporter.from_notebook_node(nb)  # templates compiled once, in both

    def best(fn):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    assert best(lambda: render.export_html(nb)) * 3 < best(lambda: exporter.from_notebook_node(nb))


def test_a_template_is_parsed_once_and_reread_when_edited(tmp_path):
    path = tmp_path / "t.py"
    path.write_text("# %% tags=['parameters']\nx = 1\n\n# %%\nprint(x)\n", encoding="utf-8")
    a = render.read_notebook(path)
    a.cells[1].source = "changed in memory"
    b = render.read_notebook(path)
    assert b.cells[1].source == "print(x)"  # each caller gets its own copy
    path.write_text("# %% tags=['parameters']\nx = 1\n\n# %%\nprint(x + 1)\n", encoding="utf-8")
    assert render.read_notebook(path).cells[1].source == "print(x + 1)"


@pytest.mark.parametrize("cells", [0, 2])
def test_a_template_needs_one_parameters_cell(tmp_path, cells):
    from copeval.errors import CopevalError

    path = tmp_path / f"bad{cells}.py"
    path.write_text("".join("# %% tags=['parameters']\nx = 1\n\n" for _ in range(cells))
                    + "# %%\nprint(1)\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(CopevalError, match=f"found {cells}"):
        render.read_notebook(path)
