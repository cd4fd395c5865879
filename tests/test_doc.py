"""The document model (copeval.report.doc): validation, escaping, the notebook bundle."""

from __future__ import annotations

import re

import pytest

from copeval.report import doc


def test_every_text_is_escaped_in_html():
    hostile = '<script>alert(1)</script>" onmouseover="x'
    s = doc.Section(
        doc.DocInfo(title=hostile, lang="es", running=hostile),
        doc.Heading(2, hostile, "summary"),
        doc.Para(hostile, doc.Strong(hostile), doc.Span(hostile, "code"), doc.Chip(hostile, 2)),
        doc.Table([hostile], [[doc.Cell(hostile, band=1)]], caption=hostile),
        doc.Quote(hostile, hostile),
        doc.Facts([(hostile, hostile)]),
        doc.Callout(doc.Para(hostile), kind="warning", title=hostile),
    )
    html = s.html()
    assert "<script" not in html and 'onmouseover="' not in html
    assert html.count("&lt;script&gt;") >= 10


@pytest.mark.parametrize(
    "build",
    [
        lambda: doc.Para("x", style="nope"),
        lambda: doc.Span("x", "nope"),
        lambda: doc.Heading(2, "x", "Bad Anchor"),
        lambda: doc.Cell("x", fill="red; background:url(x)"),
        lambda: doc.Table(["a", "b"], [["only one"]]),
        lambda: doc.Figure(alt="x"),
        lambda: doc.Chip("x", 7),
    ],
)
def test_nodes_refuse_what_a_backend_could_not_print_safely(build):
    with pytest.raises(ValueError):
        build()


def test_a_figure_with_script_is_refused_in_html():
    fig = doc.Figure(alt="x", svg='<svg onload="alert(1)"></svg>')
    with pytest.raises(ValueError, match="script"):
        doc.to_html(fig)


def test_the_report_opening_section_brings_a_stylesheet_scoped_to_the_report():
    """In JupyterLab the report looks like the report (issue 16.8): the section with the
    DocInfo carries report.css scoped to .cv-doc; nothing else of the page is styled."""
    cover = doc.Section(doc.DocInfo(title="T", lang="es"), doc.Heading(2, "Hola", "summary"))
    other = doc.Section(doc.Para("x"))
    html = cover._repr_mimebundle_()["text/html"]
    assert html.startswith("<style>") and '<div class="cv-doc">' in html
    css = html[len("<style>") : html.index("</style>")]
    assert "@page" not in css and "@media" not in css
    for rule in re.findall(r"([^{}]+)\{[^{}]*\}", css):
        for selector in rule.split(","):
            assert selector.strip().startswith(".cv-doc"), selector
    assert ".cv-doc .cv-chip" in css  # class rules made it
    assert "<style>" not in other._repr_mimebundle_()["text/html"]
    assert other._repr_mimebundle_()["text/html"].startswith('<div class="cv-doc">')
    assert doc.TYPST_MIME in other._repr_mimebundle_()


def test_the_html_export_drops_the_notebook_stylesheet():
    from copeval.report.safety import sanitize_html

    cover = doc.Section(doc.DocInfo(title="T", lang="es"), doc.Para("texto"))
    cleaned = sanitize_html(cover._repr_mimebundle_()["text/html"])
    assert "<style" not in cleaned and ".cv-doc" not in cleaned and "texto" in cleaned


def test_an_empty_section_displays_nothing():
    assert doc.Section()._repr_mimebundle_() == {"text/plain": ""}
    assert not doc.Section()


def test_a_hostile_label_in_a_matplotlib_figure_does_not_break_the_figure():
    """Matplotlib writes each label again in an SVG comment: a site named like an event
    handler must neither reach the SVG nor make the HTML backend refuse the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("x onerror=alert(1) <script>")
    figure = doc.Figure.from_matplotlib(fig, alt="chart")
    assert "onerror" not in figure.svg and "<!--" not in figure.svg
    assert "data:image/svg+xml;base64," in doc.to_html(figure)
