"""PDF of an executed report notebook, through Typst (pipeline layer).

The executed notebook is the single audited source of the PDF: :func:`notebook_typst` takes
the ``text/x-typst`` outputs (:data:`copeval.report.doc.TYPST_MIME`) of its code cells in
order -- skipping cells tagged ``remove-cell`` (and the outputs of cells tagged
``remove-output``) -- and puts the template ``templates/copeval.typ`` in front of them;
:func:`compile_pdf` compiles that source with the ``typst`` package (a compiled wheel: no
LaTeX, no browser, no download).

The compilation can read nothing from the machine:

- its root folder is a fresh, empty temporary directory, so ``read``, ``image``,
  ``include``, ``import`` or ``json`` of any path fail (and the backend never writes such
  calls: every text is a string literal, see :mod:`copeval.report.typst_markup`);
- system fonts are ignored: the fonts are Typst's own (embedded in the wheel: DejaVu Sans
  Mono, Libertinus Serif, New Computer Modern) and DejaVu Sans from matplotlib's package
  data (``mpl-data/fonts/ttf``; Bitstream Vera licence with DejaVu changes in the public
  domain, see its ``LICENSE_DEJAVU``), so the same PDF comes out on any machine;
- no package is fetched: a source that imports a Typst package (``import "@preview/…"``,
  which Typst would download) is refused before compiling. Inside a string literal of the
  backend every ``"`` is escaped, so text can never look like such an import.

A Typst error becomes one :class:`copeval.errors.PdfRenderError` naming Typst's message and
hints, never a traceback.
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from copeval.errors import MissingDependencyError, PdfRenderError

from .doc import TYPST_MIME

__all__ = [
    "PDF_STANDARDS",
    "compile_pdf",
    "compile_pdf_with_warnings",
    "consecutive_headings",
    "font_dirs",
    "notebook_pdf",
    "notebook_typst",
    "template",
]

#: The PDF standard every report is checked against while it is written: PDF/UA-1 (tagged,
#: accessible PDF: document title, language, alt text of every figure, table headers).
PDF_STANDARDS = ("ua-1",)

#: Cell tags that keep a cell's outputs out of the PDF.
_SKIP_CELL_TAGS = frozenset({"remove-cell"})
_SKIP_OUTPUT_TAGS = frozenset({"remove-output"})


def _typst():
    try:
        import typst
    except ImportError as exc:
        raise MissingDependencyError("typst", "report", "Writing a PDF report") from exc
    return typst


def template() -> str:
    """The Typst template (page setup and every named style of the document model)."""
    ref = importlib.resources.files("copeval.report").joinpath("templates/copeval.typ")
    return ref.read_text(encoding="utf-8")


@functools.cache
def font_dirs() -> tuple[str, ...]:
    """Folders with the report fonts besides Typst's embedded ones: matplotlib's DejaVu
    Sans (found without importing matplotlib). Empty when matplotlib is absent: the
    template then falls back to Typst's embedded Libertinus Serif."""
    spec = importlib.util.find_spec("matplotlib")
    for base in spec.submodule_search_locations or () if spec else ():
        folder = Path(base, "mpl-data", "fonts", "ttf")
        if (folder / "DejaVuSans.ttf").is_file():
            return (str(folder),)
    return ()


@functools.cache
def _fonts():
    typst = _typst()
    return typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=True, font_paths=list(font_dirs())
    )


# ----------------------------------------------------------------------------- notebook
def _tags(cell) -> set[str]:
    return set((cell.get("metadata") or {}).get("tags") or ())


def _typst_outputs(cell) -> Iterable[str]:
    for output in cell.get("outputs") or ():
        if output.get("output_type") not in ("display_data", "execute_result"):
            continue
        data = output.get("data") or {}
        value = data.get(TYPST_MIME)
        if value is None:
            continue
        yield "".join(value) if isinstance(value, list) else str(value)


def notebook_fragments(nb: Mapping) -> list[str]:
    """The Typst fragments of an executed notebook, in cell order (skipped cells left out)."""
    out = []
    for cell in nb.get("cells") or ():
        if cell.get("cell_type") != "code":
            continue
        tags = _tags(cell)
        if tags & _SKIP_CELL_TAGS or tags & _SKIP_OUTPUT_TAGS:
            continue
        out.extend(_typst_outputs(cell))
    return out


def notebook_typst(nb: Mapping) -> str:
    """The whole Typst source of an executed report notebook: template, then fragments."""
    return template() + "\n" + "\n".join(notebook_fragments(nb))


# ------------------------------------------------------------------------------ compile
#: A heading written by the backend: always at the start of a line (no string literal of
#: the backend holds a raw line break, so text can never fake one).
_HEADING = re.compile(r"^#heading\(level: ([1-9]),", re.M)


def consecutive_headings(source: str) -> str:
    """``source`` with the headings' structure levels made consecutive, as PDF/UA-1 wants:
    the first heading is level 1 and none is more than one level below the one before
    (a model level-4 heading right after a level-2 one is tagged H3). The look does not
    change: it follows the model's level, carried as the heading's supplement."""
    previous = 0

    def fix(match: re.Match) -> str:
        nonlocal previous
        level = min(int(match.group(1)), previous + 1)
        previous = level
        return f"#heading(level: {level},"

    return _HEADING.sub(fix, source)


#: A package import in Typst code (never inside a backend string literal, where every
#: double quote is escaped).
_PACKAGE_IMPORT = re.compile(r'\bimport\s*"@')


def _timestamp(timestamp=None):
    """The PDF's creation date: ``timestamp`` (UNIX seconds or an aware datetime), else
    SOURCE_DATE_EPOCH when set (reproducible builds), else None (Typst: now)."""
    if timestamp is not None:
        return timestamp
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else None


_WHERE = re.compile(r"\.typ:(\d+):(\d+)")


def _message(err, source: str = "") -> str:
    """One line: Typst's message, its hints and where in the source it stopped."""
    message = str(getattr(err, "message", "") or err).strip().splitlines()
    text = message[0] if message else "unknown error"
    hints = [h for h in (getattr(err, "hints", None) or []) if h]
    if hints:
        text += " (hint: " + "; ".join(str(h).strip() for h in hints) + ")"
    where = _WHERE.search(str(getattr(err, "diagnostic", "") or ""))
    if where and source:
        lines = source.splitlines()
        line = int(where.group(1))
        if 0 < line <= len(lines):
            snippet = " ".join(lines[line - 1].split())
            snippet = snippet if len(snippet) <= 80 else snippet[:77] + "..."
            text += f"; at line {line} of the Typst source: {snippet}"
    return f"Typst could not compile the report PDF: {text}"


def _compile(typst, source: str, standards: list[str], timestamp=None) -> tuple[bytes, list[str]]:
    kwargs = {"pdf_standards": standards, "pdf_tags": True}
    stamp = _timestamp(timestamp)
    if stamp is not None:
        kwargs["timestamp"] = stamp
    with tempfile.TemporaryDirectory(prefix="copeval-typst-") as root:
        compiler = typst.Compiler(
            root=root, font_paths=_fonts(), package_path=root, package_cache_path=root
        )
        pdf, warnings = compiler.compile_with_warnings(
            input=consecutive_headings(source).encode("utf-8"), format="pdf", **kwargs
        )
    return bytes(pdf), [str(getattr(w, "message", w)) for w in warnings]


def compile_pdf_with_warnings(
    source: str, *, standards: Iterable[str] = PDF_STANDARDS, timestamp=None
) -> tuple[bytes, list[str]]:
    """Compile Typst ``source`` to PDF bytes; also return Typst's warnings (as text).

    The only thing that differs between two compilations of the same source is the
    creation date: ``timestamp`` (UNIX seconds) or SOURCE_DATE_EPOCH fix it, and then the
    bytes are identical.

    The PDF is always tagged. It is checked against ``standards`` (PDF/UA-1 by default);
    when the document cannot meet one (Typst stops with "PDF/UA-1 error: ..."), it is
    compiled again without the check and the reason is the first warning.
    """
    typst = _typst()
    standards = list(standards)
    found = _PACKAGE_IMPORT.search(source)
    if found:
        line = source.count("\n", 0, found.start()) + 1
        raise PdfRenderError(
            "Typst could not compile the report PDF: a report may not import Typst "
            f"packages (they would be downloaded); at line {line} of the Typst source"
        )
    try:
        try:
            return _compile(typst, source, standards, timestamp)
        except typst.TypstError as err:
            message = str(getattr(err, "message", "") or err)
            if not standards or not re.match(r"PDF/\S+ error", message):
                raise
            pdf, warnings = _compile(typst, source, [], timestamp)
            reason = message.strip().splitlines()[0]
            return pdf, [f"not {'/'.join(standards)}: {reason}", *warnings]
    except typst.TypstError as err:
        raise PdfRenderError(_message(err, source)) from None
    except (RuntimeError, ValueError) as err:
        raise PdfRenderError(_message(err, source)) from None


def compile_pdf(source: str, *, standards: Iterable[str] = PDF_STANDARDS, timestamp=None) -> bytes:
    """Compile Typst ``source`` (template + fragments) to PDF bytes; a Typst error becomes
    :class:`~copeval.errors.PdfRenderError` with Typst's message."""
    return compile_pdf_with_warnings(source, standards=standards, timestamp=timestamp)[0]


def notebook_pdf(
    nb: Mapping, *, standards: Iterable[str] = PDF_STANDARDS, timestamp=None
) -> bytes:
    """PDF bytes of an executed report notebook (its ``text/x-typst`` outputs)."""
    return compile_pdf(notebook_typst(nb), standards=standards, timestamp=timestamp)
