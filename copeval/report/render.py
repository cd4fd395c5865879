"""From a report notebook to an executed notebook, an HTML page and a PDF: no LaTeX.

The route: :func:`execute_notebook` runs a jupytext notebook with papermill (parameters
injected after the cell tagged ``parameters``); :func:`export_html` turns the executed
notebook's *outputs* into one self-contained HTML page (nbconvert's ``basic`` template with
``exclude_input=True``, so no code ever reaches the reader; stream and error output are
dropped too) wrapped in copeval's page template and stylesheet; :func:`html_to_pdf` prints it
with WeasyPrint using the print rules of ``templates/report.css`` (A4, running header, page
numbers, a table of contents with page numbers, tables never split mid-row).

The notebook's outputs carry everything the page needs: a hidden ``cv-docinfo`` element
(title, language, running header, footer) and a ``cv-toc`` placeholder filled from the
``h2``/``h3`` headings. Each step is a plain function of its input, so a batch engine (or a
warm-kernel worker pool) can run them in any process.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
import threading
from pathlib import Path

from copeval import __version__
from copeval.errors import CopevalError, MissingDependencyError

__all__ = [
    "NOTEBOOKS",
    "ReportExecutionError",
    "execute_notebook",
    "export_html",
    "html_to_pdf",
    "notebook_path",
    "read_notebook",
]

TEMPLATES = Path(__file__).with_name("templates")
#: Report kinds and the notebook that renders each.
NOTEBOOKS = {"site": "site_report", "comparative": "comparative_report"}
#: Cells with this tag are kept in the notebook (for people reading it) but not exported.
REMOVE_TAG = "remove-cell"


class ReportExecutionError(CopevalError):
    """A report notebook failed while executing; ``cell`` and ``ename`` say where and what."""

    def __init__(self, message: str, *, notebook=None, cell=None, ename=None, evalue=None):
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell
        self.ename = ename
        self.evalue = evalue


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


def read_notebook(path: str | Path):
    """Read a notebook: jupytext percent-format ``.py`` or ``.ipynb``. Returns a NotebookNode."""
    path = Path(path)
    if not path.is_file():
        raise CopevalError(f"Notebook not found: {path}")
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


_EXPORTERS = threading.local()


def _exporter():
    # One exporter per thread, reused: a new HTMLExporter compiles its jinja templates again
    # (~70 ms a report). Per-run state travels in the ``resources`` of each call, as when
    # nbconvert's own command line converts many notebooks with one exporter.
    exporter = getattr(_EXPORTERS, "exporter", None)
    if exporter is None:
        exporter = _EXPORTERS.exporter = _new_exporter()
    return exporter


def _new_exporter():
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_raw=True,
    )
    tags = TagRemovePreprocessor(remove_cell_tags={REMOVE_TAG}, enabled=True)
    exporter.register_preprocessor(tags, enabled=True)
    return exporter


_READABLE = ("text/html", "image/svg+xml", "image/png", "text/markdown")


def _reader_outputs(nb):
    """A copy of ``nb`` keeping only outputs meant for readers (no streams, errors, reprs)."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result") and any(
                k in out.get("data", {}) for k in _READABLE
            ):
                kept.append(out)
        cell["outputs"] = kept
    return nb


def _docinfo(body: str) -> dict:
    """The ``data-*`` attributes of the first ``cv-docinfo`` element, unescaped.

    Parsed as HTML, not matched with a pattern: nbconvert re-serialises outputs and writes an
    attribute holding a double quote in single quotes, which a pattern for ``"…"`` missed (a
    ``"`` in a site name dropped the page title and the PDF's running header).
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

    Only display outputs reach the page; stream output (warnings, prints), error output,
    code and prompts are dropped. Title, language, running header and footer come from the
    ``cv-docinfo`` element that the report's cover emits.
    """
    try:
        exporter = _exporter()
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("nbconvert", "report", "HTML export") from exc
    from .safety import CONTENT_SECURITY_POLICY, sanitize_html, strip_bidi

    body, _ = exporter.from_notebook_node(_reader_outputs(nb))
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


def _markup(text: str):
    import markupsafe

    return markupsafe.Markup(text)


def _css_markup():
    return _markup(_stylesheet())


# ------------------------------------------------------------------------------- PDF
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
