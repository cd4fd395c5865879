"""From an executed report notebook to an HTML page and a PDF: the render step of the pipeline.

The route: an engine (:mod:`copeval.report.engines`) executes a report notebook
(:func:`read_notebook` reads it; :func:`execute_notebook` is the papermill engine's fresh
kernel). Each section a report cell displays is a MIME bundle with ``text/html`` and
``text/x-typst`` (:mod:`copeval.report.doc`); the executed notebook is the single audited
source of both outputs:

- :func:`export_html` builds one self-contained page from the notebook's *outputs*, in cell
  order, skipping cells tagged ``remove-cell``: no code, no prompt, no stream or error
  output ever reaches the reader. The page is built directly from the outputs and the page
  template (``templates/page.html.j2``, the stylesheet inlined), not through nbconvert
  (0.16 s less per report), and passes the reports' HTML allow-list
  (:func:`copeval.report.safety.sanitize_html`) on its way out.
- :func:`export_pdf` compiles the PDF from the ``text/x-typst`` outputs with Typst
  (:func:`copeval.report.pdf.notebook_pdf`) when every displayed output carries Typst; a
  notebook whose outputs are HTML only (a custom template, or sections not yet ported to
  the document model) is printed from its HTML page by WeasyPrint (:func:`html_to_pdf`), the
  former route, kept as the fallback.

Title, language, running header and footer come from the ``cv-docinfo`` element the
report's cover emits (HTML) and its ``DocInfo`` node (Typst). Each step is a plain function
of its input, so any worker process can run it.

Pipeline layer (``docs/architecture.md``): this module imports no report content.
"""

from __future__ import annotations

import base64
import functools
import html as html_lib
import re
import threading
from pathlib import Path

from copeval import __version__
from copeval.errors import CopevalError, MissingDependencyError, ReportExecutionError

from .doc import TYPST_MIME
from .job import NOTEBOOKS, TEMPLATES

__all__ = [
    "NOTEBOOKS",
    "ReportExecutionError",
    "execute_notebook",
    "export_html",
    "export_pdf",
    "html_to_pdf",
    "notebook_path",
    "pdf_route",
    "read_notebook",
    "reader_outputs",
    "sanitize_outputs",
]

#: Cells with this tag are kept in the notebook (for people reading it) but not exported.
REMOVE_TAG = "remove-cell"
#: Code cells with this tag run, but their outputs are not exported (as in the PDF).
REMOVE_OUTPUT_TAG = "remove-output"


# ------------------------------------------------------------------------------- notebooks
def _notebook_dirs() -> list[Path]:
    from copeval import resources

    return [resources.notebooks_dir()]


def notebook_path(name: str) -> Path:
    """Path of a bundled notebook (``"site_report"``), found by :mod:`copeval.resources`
    (the repository's ``notebooks/`` in a source checkout, the wheel's copy otherwise).

    Raises :class:`CopevalError` naming the notebooks available when ``name`` is unknown.
    """
    from copeval import resources

    return resources.notebook(name)


_READ: dict = {}
_READ_GUARD = threading.Lock()


def read_notebook(path: str | Path):
    """Read a notebook: jupytext percent-format ``.py`` or ``.ipynb``. Returns a NotebookNode.

    Each worker parses a template once (jupytext costs about 30 ms a read) and gives every
    report a copy; the file's size, inode and change times key the parsed copy, so an edited
    template is read again.
    """
    import copy
    import os

    path = Path(path)
    if not path.is_file():
        raise CopevalError(f"Notebook not found: {path}")
    st = os.stat(path)
    key = (str(path.resolve()), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    with _READ_GUARD:
        cached = _READ.get(key)
    if cached is None:
        cached = _read_notebook(path)
        with _READ_GUARD:
            if len(_READ) > 16:
                _READ.clear()
            _READ[key] = cached
    return copy.deepcopy(cached)


def _read_notebook(path: Path):
    if path.suffix == ".py":
        try:
            import jupytext
        except ImportError as exc:  # pragma: no cover - part of the report extra
            raise MissingDependencyError("jupytext", "report", "Report notebooks") from exc
        nb = jupytext.read(path, fmt="py:percent")
    else:
        import nbformat

        nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise CopevalError(
            f"{path}: a report notebook needs exactly one cell tagged 'parameters', "
            f"found {len(tagged)}"
        )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def execute_notebook(
    notebook,
    parameters: dict,
    *,
    kernel_name: str = "python3",
    cwd: str | Path | None = None,
    timeout: int = 600,
    start_timeout: int = 60,
):
    """Execute a notebook with papermill and return the executed NotebookNode.

    Parameters
    ----------
    notebook : NotebookNode, str or Path
        The notebook, or the path of a ``.py`` (jupytext) or ``.ipynb`` file.
    parameters : dict
        Values injected after the ``parameters`` cell. Pass site IDs as ``str``.
    kernel_name : str
        Kernel to run; ``"python3"`` is resolved by jupyter_client to the current interpreter.
    cwd : path, optional
        Working directory of the kernel.
    timeout : int
        Seconds any one cell may run before the execution is abandoned.

    Raises
    ------
    ReportExecutionError
        When a cell raises: the message gives the cell number and the error.
    """
    try:
        import papermill as pm
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("papermill", "report", "Report notebooks") from exc
    nb = notebook if hasattr(notebook, "cells") else read_notebook(notebook)
    try:
        return pm.execute_notebook(
            nb,
            None,
            parameters=dict(parameters),
            kernel_name=kernel_name,
            progress_bar=False,
            log_output=False,
            cwd=str(cwd) if cwd is not None else None,
            start_timeout=start_timeout,
            execution_timeout=timeout,
            # the kernel's own log (e.g. its plain-TCP notice) is noise on a batch's stderr
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except pm.PapermillExecutionError as exc:
        raise ReportExecutionError(
            f"report notebook failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}",
            cell=exc.exec_count,
            ename=exc.ename,
            evalue=exc.evalue,
        ) from None


# ------------------------------------------------------------------------------- HTML
def _css_string(value: str) -> str:
    from .safety import css_string

    return css_string(value)


@functools.lru_cache(maxsize=1)
def _page_template():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2")),
        keep_trailing_newline=True,
    )
    env.filters["css_string"] = lambda v: jinja2.utils.markupsafe.Markup(_css_string(v))
    return env.get_template("page.html.j2")


@functools.lru_cache(maxsize=1)
def _stylesheet() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


_READABLE = ("text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg")
_DISPLAY = ("display_data", "execute_result")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def reader_outputs(nb):
    """``(cell, output)`` of every output meant for readers, in cell order.

    Readers see the display outputs (``display_data``, ``execute_result``) of code cells
    that carry one of the MIME types a page shows (HTML, Markdown, SVG, PNG, JPEG, and
    Typst for the PDF); cells tagged ``remove-cell`` or ``remove-output`` are skipped (as
    :mod:`copeval.report.pdf` skips them); stream output (warnings,
    prints), errors and plain-text reprs never reach a reader.
    """
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if REMOVE_TAG in tags or REMOVE_OUTPUT_TAG in tags:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") not in _DISPLAY:
                continue
            data = out.get("data", {})
            if any(k in data for k in _READABLE) or TYPST_MIME in data:
                yield cell, out


def _markdown_cells(nb):
    return any(
        c.get("cell_type") == "markdown"
        and REMOVE_TAG not in c.get("metadata", {}).get("tags", [])
        and _text(c.get("source", "")).strip()
        for c in nb.cells
    )


def _markdown(text: str) -> str:
    try:
        from nbconvert.filters.markdown_mistune import markdown2html_mistune
    except ImportError as exc:  # pragma: no cover - part of the report extra
        raise MissingDependencyError("nbconvert", "report", "Markdown in reports") from exc
    return markdown2html_mistune(text)


def _output_html(data: dict) -> str:
    """The HTML of one output: its richest representation a page can show."""
    if "text/html" in data:
        return _text(data["text/html"])
    if "text/markdown" in data:
        return _markdown(_text(data["text/markdown"]))
    if "image/svg+xml" in data:
        svg = _text(data["image/svg+xml"]).encode("utf-8")
        return f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}" alt=""/>'
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            b64 = "".join(_text(data[mime]).split())
            return f'<img src="data:{mime};base64,{b64}" alt=""/>'
    return ""


def notebook_body(nb) -> str:
    """The HTML of everything a reader sees in an executed notebook, in cell order
    (markdown cells not tagged ``remove-cell``, then each code cell's reader outputs), not
    yet sanitised."""
    parts = []
    markdown = _markdown_cells(nb)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if REMOVE_TAG in tags:
            continue
        if cell.get("cell_type") == "markdown" and markdown:
            source = _text(cell.get("source", ""))
            if source.strip():
                parts.append(_markdown(source))
            continue
        if cell.get("cell_type") != "code" or REMOVE_OUTPUT_TAG in tags:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") in _DISPLAY:
                html = _output_html(out.get("data", {}))
                if html:
                    parts.append(html)
    return "\n".join(parts)


def _docinfo(body: str) -> dict:
    """The ``data-*`` attributes of the first ``cv-docinfo`` element, unescaped.

    Parsed as HTML, not matched with a pattern: an attribute holding a double quote may be
    written in single quotes (a pattern for ``"…"`` missed it, and a ``"`` in a site name
    dropped the page title and the PDF's running header).
    """
    from html.parser import HTMLParser

    found: dict = {}

    class _Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if found or tag != "div":
                return
            attrs = dict(attrs)
            if "cv-docinfo" in (attrs.get("class") or "").split():
                found.update({k[5:]: v or "" for k, v in attrs.items() if k.startswith("data-")})
                found.setdefault("_seen", "")

    start = body.find("cv-docinfo")
    if start < 0:
        return {}
    parser = _Parser(convert_charrefs=True)
    parser.feed(body[body.rfind("<", 0, start) :])
    found.pop("_seen", None)
    return found


_HEADING = re.compile(r'<h([23]) class="cv-h[^"]*" id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_TOC = re.compile(r'(<nav class="cv-toc"[^>]*>.*?)(</nav>)', re.S)
_TAGS = re.compile(r"<[^>]+>")


def _fill_toc(body: str) -> str:
    match = _TOC.search(body)
    if not match:
        return body
    items = []
    for level, anchor, inner in _HEADING.findall(body[match.end() :]):
        text = html_lib.escape(html_lib.unescape(_TAGS.sub("", inner)).strip())
        items.append(f'<li class="cv-toc-{level}"><a href="#{anchor}">{text}</a></li>')
    toc = f"<ol>{''.join(items)}</ol>"
    return body[: match.start()] + match.group(1) + toc + match.group(2) + body[match.end() :]


def export_html(nb) -> str:
    """One self-contained HTML page from an executed report notebook (no code shown).

    Only display outputs reach the page (:func:`reader_outputs`); stream output (warnings,
    prints), error output, code and prompts are dropped. Title, language, running header
    and footer come from the ``cv-docinfo`` element that the report's cover emits.
    """
    from .safety import CONTENT_SECURITY_POLICY, sanitize_html, strip_bidi

    body = notebook_body(nb)
    info = {"title": "copeval", "lang": "en", "running": "", "footer": ""}
    info.update({k: strip_bidi(v) for k, v in _docinfo(body).items() if k in info})
    if info["lang"] not in ("es", "en"):
        info["lang"] = "en"
    # the one exit: whatever the notebook displayed passes the reports' allow-list of tags
    # and attributes (no script, no event handler, no link or image leaving the page)
    body = sanitize_html(_fill_toc(body))
    return _page_template().render(
        css=_css_markup(),
        body=_markup(body),
        version=__version__,
        csp=CONTENT_SECURITY_POLICY,
        **info,
    )


def sanitize_outputs(nb):
    """``nb`` with every HTML output passed through the reports' allow-list (in place).

    The executed notebook is kept beside the PDF for audit and is shared with it: the HTML it
    displays meets the same rule as the HTML export (:func:`copeval.report.safety.sanitize_html`).
    """
    from .safety import sanitize_html

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:
                data["text/html"] = sanitize_html(_text(data["text/html"]))
    return nb


# ------------------------------------------------------------------------------- PDF
def pdf_route(nb) -> str:
    """``"typst"`` when every reader output of ``nb`` carries Typst markup (and there is at
    least one), else ``"weasyprint"``: a notebook with HTML-only outputs (a custom template,
    sections not ported to :mod:`copeval.report.doc`) would lose them in a Typst PDF."""
    outputs = [out for _, out in reader_outputs(nb)]
    if outputs and all(TYPST_MIME in out.get("data", {}) for out in outputs):
        return "typst"
    return "weasyprint"


def export_pdf(nb, *, html: str | None = None) -> bytes:
    """The PDF of an executed report notebook (bytes).

    Typst (:func:`copeval.report.pdf.notebook_pdf`, from the ``text/x-typst`` outputs) when
    :func:`pdf_route` says every output has Typst; else WeasyPrint prints the HTML page
    (``html``, default :func:`export_html` of ``nb``).
    """
    if pdf_route(nb) == "typst":
        from .pdf import notebook_pdf

        return notebook_pdf(nb)
    return html_to_pdf(html if html is not None else export_html(nb))


def _markup(text: str):
    import markupsafe

    return markupsafe.Markup(text)


def _css_markup():
    return _markup(_stylesheet())


def html_to_pdf(html: str, *, base_url: str | None = None, assets=()) -> bytes:
    """Print an HTML report to PDF with WeasyPrint (A4, print stylesheet). Returns bytes.

    The printer loads nothing but ``data:`` URLs and files inside the report's own asset
    folders: the stylesheet's (``templates/``) and ``assets`` (figures written to disk, if
    any); any other file, and any network URL, is refused (see
    :class:`copeval.report.safety.AssetPolicy`). The body passes the reports' HTML
    allow-list again first (:func:`copeval.report.safety.sanitize_html`), so no attachment,
    link or image can point anywhere else even in HTML that did not come from
    :func:`export_html`.
    """
    try:
        import weasyprint
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("weasyprint", "report", "PDF export") from exc
    import logging

    from .safety import AssetPolicy, weasyprint_fetcher

    # WeasyPrint logs every unsupported CSS property at WARNING; reports need none of them.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    base_url = base_url or str(TEMPLATES)
    fetcher = weasyprint_fetcher(AssetPolicy([TEMPLATES, *assets]))
    html = _sanitize_body(html)
    css_text = _stylesheet()
    if css_text not in html or html.count("<style") != 1 or "<link" in html:
        # not a copeval page, or one with styles of its own: print it as it is
        return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    # copeval's stylesheet, parsed once per thread instead of once per report (with the
    # font configuration it needs). The page's only style element holds that stylesheet
    # followed by the page's own @page furniture (running header, footer); both are given to
    # WeasyPrint, in the same order. WeasyPrint ranks them as user stylesheets, below author
    # styles: with no other style on the page (checked above) the cascade is the inline
    # element's, and the pages are pixel-identical (checked with pdftoppm and compare).
    font_config, css = _print_setup()
    start = html.index(css_text)
    end = html.find("</style>", start)
    if end < 0:  # pragma: no cover - the page template always closes its style element
        return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    furniture = weasyprint.CSS(
        string=html[start + len(css_text) : end],
        font_config=font_config,
        base_url=base_url,
        url_fetcher=fetcher,
    )
    page = html[:start] + html[end:]
    return weasyprint.HTML(string=page, base_url=base_url, url_fetcher=fetcher).write_pdf(
        stylesheets=[css, furniture], font_config=font_config
    )


_BODY = re.compile(r"(<body[^>]*>)(.*)(</body>)", re.S | re.I)


def _sanitize_body(html: str) -> str:
    """``html`` with the content of its ``<body>`` passed through the allow-list (the whole
    text when it has no body element)."""
    from .safety import sanitize_html

    match = _BODY.search(html)
    if match is None:
        return sanitize_html(html)
    return html[: match.start(2)] + sanitize_html(match.group(2)) + html[match.end(2) :]


_PRINT = threading.local()


def _print_setup():
    """This thread's WeasyPrint font configuration and parsed report stylesheet."""
    setup = getattr(_PRINT, "setup", None)
    if setup is None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        from .safety import AssetPolicy, weasyprint_fetcher

        css = weasyprint.CSS(
            string=_stylesheet(),
            font_config=font_config,
            base_url=str(TEMPLATES),
            url_fetcher=weasyprint_fetcher(AssetPolicy([TEMPLATES])),
        )
        setup = _PRINT.setup = (font_config, css)
    return setup
