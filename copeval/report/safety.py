"""The one exit of every report: escaping for CSS strings, an HTML allow-list, and a PDF
renderer that can read nothing but the report's own assets.

Values from a project (site names, notes, titles) are escaped where they are written
(:func:`copeval.report.doc.to_html` escapes HTML text and attributes, :func:`css_string` for the
running header in ``@page { content: "…" }``). This module adds defence in depth at the
exit, so one forgotten escape cannot become live markup or a file read:

- :func:`sanitize_html` passes every report body through an allow-list of the tags and
  attributes the reports use (``nh3``, the Python binding of the Rust ``ammonia``
  sanitiser): no ``<script>``, ``<style>``, ``<link>``, ``<iframe>``, no ``on*=`` attribute,
  links only to anchors in the page (``#…``), images only as ``data:`` URLs, inline styles
  only with a few layout properties and never a ``url(…)``;
- :class:`AssetPolicy` is the rule "only these roots": a ``data:`` URL, or a ``file:`` URL
  of a file inside one of the allowed folders (the stylesheet's folder; figures are inlined
  as ``data:`` URLs). Everything else -- ``file:`` elsewhere, ``http(s):``, ``ftp:`` -- is
  refused. :func:`weasyprint_fetcher` applies it to WeasyPrint; another PDF engine applies
  the same policy through :meth:`AssetPolicy.resolve`;
- :data:`CONTENT_SECURITY_POLICY` is written into the HTML export's ``<meta>``: no script,
  no network, images and fonts only from ``data:`` URLs.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from copeval.errors import MissingDependencyError, RefusedURLError

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "CONTENT_SECURITY_POLICY",
    "AssetPolicy",
    "RefusedURLError",
    "css_string",
    "sanitize_html",
    "strip_bidi",
    "weasyprint_fetcher",
]

#: The HTML export's Content-Security-Policy: nothing runs, nothing is fetched from a network.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

#: Tags the report sections emit (and only these survive the exit).
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd",
        "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "i", "img", "li", "nav", "ol", "p", "pre", "section",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
#: Attributes kept, per tag ("*": on every tag). ``data-*`` attributes are kept too.
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "style", "aria-label", "role"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "col": {"span"},
    "colgroup": {"span"},
}
#: Elements removed together with everything inside them.
_DROP_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "title"}
#: CSS properties inline styles may set (the forest plot's positions, table shading).
_STYLE_PROPERTIES = {
    "left",
    "right",
    "top",
    "width",
    "height",
    "background",
    "background-color",
    "color",
    "text-align",
    "font-weight",
}
#: An inline style value that could fetch or execute something.
_STYLE_DANGER = re.compile(r"url\s*\(|image-set|image\s*\(|element\s*\(|expression|\\|@|<|>", re.I)
_IMAGE_DATA = re.compile(r"^data:image/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*$")


#: Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a
#: free-text field they print the rest of a paragraph backwards ("2.1" reads "1.2"), the
#: "Trojan Source" trick. A report in Spanish or English needs none of them (the implicit
#: marks U+200E/U+200F, which reorder nothing on their own, are kept).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional embeddings, overrides and isolates."""
    return _BIDI.sub("", text)


# --------------------------------------------------------------------------- CSS strings
_CSS_SPECIAL = re.compile(r"[\\\"'<>&\x00-\x1f\x7f\u2028\u2029]")


def css_string(value) -> str:
    """``value`` as a quoted CSS string that no HTML or CSS parser can leave early.

    Line breaks and other control characters become spaces; ``\\``, quotes, ``<``, ``>`` and
    ``&`` become CSS hex escapes (``\\3c ``), so ``</style>`` in a site name is printed as
    text by the running header and never closes the style element.
    """
    text = strip_bidi("" if value is None else str(value))
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text)
    return '"' + _CSS_SPECIAL.sub(lambda m: f"\\{ord(m.group()):x} ", text) + '"'


# --------------------------------------------------------------------------- HTML
def _attribute_filter(tag: str, attr: str, value: str):
    if attr == "href":
        return value if value.startswith("#") and '"' not in value else None
    if attr == "src":
        return value if tag == "img" and _IMAGE_DATA.match(value) else None
    if attr == "style":
        return None if _STYLE_DANGER.search(value) else value
    if attr.startswith("on"):  # never kept (not in the allow-list either)
        return None
    return value


@functools.lru_cache(maxsize=1)
def _cleaner():
    try:
        import nh3
    except ImportError as exc:  # pragma: no cover - part of the report extra
        raise MissingDependencyError("nh3", "report", "Report export") from exc
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        generic_attribute_prefixes={"data-"},
        strip_comments=True,
        link_rel=None,
        url_schemes={"data"},
        filter_style_properties=set(_STYLE_PROPERTIES),
    )


def sanitize_html(fragment: str) -> str:
    """``fragment`` with every tag and attribute outside the reports' allow-list removed.

    Text is kept (escaped); ``<script>``, ``<style>`` and similar elements are removed with
    their content; ``href`` keeps only in-page anchors, ``src`` only ``data:`` images, and
    ``style`` only the properties in :data:`_STYLE_PROPERTIES`, never with a ``url()``.
    Bidirectional overrides are removed from the text (:func:`strip_bidi`).
    """
    return strip_bidi(_cleaner().clean(fragment))


# --------------------------------------------------------------------------- assets
class AssetPolicy:
    """What a report's renderer may load: ``data:`` URLs and files inside ``roots``.

    The rule is engine-independent: :meth:`resolve` says whether a URL is allowed and, for a
    file, which one (symbolic links resolved, so a link inside a root that points out of it
    is refused). :meth:`fetch` returns the bytes.
    """

    def __init__(self, roots: Iterable[str | os.PathLike]):
        self.roots = tuple(Path(r).resolve() for r in roots)

    def resolve(self, url: str) -> Path | None:
        """The local file ``url`` names (None for a ``data:`` URL); raises if refused."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return None
        if scheme != "file":
            raise RefusedURLError(f"report asset refused (only data: and own files): {url[:80]}")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedURLError(f"report asset refused (remote file): {url[:80]}")
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_file() or not any(r == path or r in path.parents for r in self.roots):
            raise RefusedURLError(
                f"report asset refused (outside the report's assets): {url[:80]}"
            )
        return path

    def fetch(self, url: str) -> tuple[bytes, str]:
        """``(bytes, mime type)`` of an allowed URL; raises :class:`RefusedURLError`."""
        path = self.resolve(url)
        if path is None:
            return _decode_data_url(url)
        mime = {
            ".css": "text/css",
            ".svg": "image/svg+xml",
            ".png": "image/png",
            ".woff2": "font/woff2",
            ".woff": "font/woff",
            ".ttf": "font/ttf",
            ".otf": "font/otf",
        }.get(path.suffix.lower(), "application/octet-stream")
        return path.read_bytes(), mime


def _decode_data_url(url: str) -> tuple[bytes, str]:
    head, sep, data = url.partition(",")
    if not sep:
        raise RefusedURLError("malformed data: URL")
    meta = head[5:]
    fields = meta.split(";")
    mime = fields[0] or "text/plain"
    if "base64" in fields[1:]:
        return base64.b64decode(data), mime
    return unquote(data).encode("utf-8"), mime


def weasyprint_fetcher(policy: AssetPolicy):
    """A WeasyPrint ``url_fetcher`` enforcing ``policy`` (any WeasyPrint version)."""
    try:
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except ImportError:  # WeasyPrint < 65: a function returning a dict
        URLFetcher = None

    if URLFetcher is None:  # pragma: no cover - older WeasyPrint

        def fetch(url, *args, **kwargs):
            body, mime = policy.fetch(url)
            return {"string": body, "mime_type": mime, "redirected_url": url}

        return fetch

    class _Fetcher(URLFetcher):
        def fetch(self, url, headers=None):
            body, mime = policy.fetch(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime})

    return _Fetcher(allowed_protocols=("data", "file"))
