"""How the security suite reads an output: live markup in HTML, text and attachments of a PDF,
HTML inside a notebook, every string of a JSON file, cells of a CSV, arrays of a cache."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from .hostile import PII_NEEDLES, SECRET

#: Tags a report page may hold: the sanitiser's allow-list plus the page template's own.
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body"}
#: Values no attribute may hold (a URL leaving the page).
_BAD_URL = re.compile(r"^\s*(?:file|https?|ftp|javascript|vbscript|blob):", re.I)


def norm(text: str) -> str:
    """Lower case, no white space or separators: PDF extraction may split or join lines."""
    return re.sub(r"[\s\-._\u00a0\u202f\u200b]", "", text).lower()


def leaks(text: str) -> list[str]:
    """The planted personal data and consent-``none`` words found in ``text``."""
    flat = norm(text)
    found = [n for n in PII_NEEDLES if n in flat]
    if norm(SECRET) in flat or "tortugaazul" in flat:
        found.append("consent-none text")
    return found


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.style_text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style_text.append(data)


def html_problems(text: str, *, page: bool = True) -> list[str]:
    """Live markup in an HTML document (``page``) or fragment: every element outside the
    reports' allow-list, any ``on*=`` attribute, any URL leaving the page."""
    from copeval.report.safety import ALLOWED_TAGS

    parser = _Page()
    parser.feed(text)
    parser.close()
    allowed = set(ALLOWED_TAGS) | (PAGE_TAGS if page else set())
    problems = []
    for tag, attrs in parser.tags:
        if tag not in allowed:
            problems.append(f"element <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                problems.append(f"attribute {name}= on <{tag}>")
            url_attr = name in ("href", "src", "action", "formaction", "data", "srcset")
            if url_attr and not value.startswith(("#", "data:image/")):
                problems.append(f"{name}={value[:40]!r} on <{tag}>")
            if _BAD_URL.search(value) or "url(" in value.lower():
                problems.append(f"{name}={value[:40]!r} on <{tag}>")
            if tag == "meta" and name == "http-equiv" and value.lower() == "refresh":
                problems.append("meta refresh")
    styles = [t for t, _ in parser.tags if t == "style"]
    if page and len(styles) != 1:
        problems.append(f"{len(styles)} style elements (the page template has one)")
    css = "".join(parser.style_text)
    for bad in ("</", "@import", "url(", "expression("):
        if bad in css.lower():
            problems.append(f"{bad!r} inside the style element")
    return problems


def pdf_report(path: Path) -> dict:
    """Text, attachments and link targets of a PDF."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    links = []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            obj = annot.get_object()
            action = obj.get("/A")
            if action is not None and "/URI" in action.get_object():
                links.append(str(action.get_object()["/URI"]))
    raw = path.read_bytes()
    return {
        "pages": [page.extract_text() or "" for page in reader.pages],
        "attachments": dict(reader.attachments),
        "links": links,
        "embedded": b"/EmbeddedFile" in raw or b"/FileAttachment" in raw,
    }


def json_strings(obj):
    """Every string in a JSON value (keys included)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from json_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from json_strings(v)


def notebook_html(path: Path) -> list[str]:
    """The HTML outputs of an executed notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            if html is not None:
                out.append("".join(html) if isinstance(html, list) else html)
    return out


def csv_formula_cells(path: Path) -> list[str]:
    """Cells of a CSV a spreadsheet would run as a formula."""
    bad = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    try:
                        float(cell)
                    except ValueError:
                        bad.append(cell[:40])
    return bad


def cache_texts(path: Path) -> str:
    """Everything a cache archive holds, as text: every string array, the header, and the
    raw bytes in UTF-8 and UTF-32 (NumPy stores Unicode arrays as UTF-32)."""
    import numpy as np

    raw = path.read_bytes()
    parts = [raw.decode("utf-8", "replace"), raw.decode("utf-32-le", "replace")]
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        for name in archive.files:
            arr = archive[name]
            if arr.dtype.kind == "U":
                parts.append("\n".join(arr.ravel().tolist()))
            elif name == "header":
                parts.append(arr.tobytes().decode("utf-8"))
    return "\n".join(parts)
