"""The report document model: what a section *is*, independent of how it is printed.

A report section is built in three steps (see ``docs/architecture.md``):

1. **select** -- language-neutral tables and numbers (``copeval.report.data`` and the
   ``select_*`` functions of each content module), testable without any text;
2. **word** -- sentences and labels in Spanish or English (``copeval.report.i18n``);
3. **render** -- the worded section as a tree of the small node types below, which two
   backends print: HTML (:func:`to_html`, for the notebook, the HTML export and screen
   readers) and Typst (:func:`copeval.report.typst_markup.to_typst`, for the PDF).

A :class:`Section` is what a notebook cell displays: its MIME bundle carries both
``text/html`` and :data:`TYPST_MIME`, so the executed notebook is the single audited source
of both the HTML page and the PDF.

Every text in a node is *plain text*: the backends escape it for the context it lands in
(HTML, HTML attributes, Typst markup). No node accepts raw markup, so nothing from a
project's files can inject HTML or Typst code.

Styles are named, not free: each ``style=`` value must be one of the names listed for its
node type, and each backend defines every one of them (HTML through ``report.css``, Typst
through ``templates/copeval.typ``).
"""

from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "TYPST_MIME",
    "Bullets",
    "Callout",
    "Cell",
    "Chip",
    "DocInfo",
    "Emph",
    "Facts",
    "Figure",
    "Forest",
    "ForestRow",
    "Group",
    "Heading",
    "Likert",
    "LikertRow",
    "Numbered",
    "PageBreak",
    "Para",
    "Quote",
    "Rule",
    "Section",
    "Span",
    "Strong",
    "Table",
    "Toc",
    "notebook_css",
    "plain_text",
    "to_html",
]

#: MIME type of a section's Typst markup in a notebook output (stored as text).
TYPST_MIME = "text/x-typst"

#: Named styles each node accepts (both backends must define all of them).
PARA_STYLES = frozenset({"lead", "note", "small", "legend", "def"})
SPAN_STYLES = frozenset({"small", "muted", "value", "def", "ids", "code"})
CALLOUT_KINDS = frozenset({"info", "warning", "synthetic"})
TABLE_STYLES = frozenset(
    {"compact", "fixed", "evidence", "rec", "heat", "coverage", "cover-ratings", "plain"}
)
LIST_STYLES = frozenset({"summary", "actions", "plain"})
GROUP_STYLES = frozenset(
    {"cover", "kicker", "subtitle", "frameworks", "keep", "criterion", "criterion-head"}
)
RULE_STYLES = frozenset({"bands", "line"})


def _check(value, allowed: frozenset, what: str):
    if value is not None and value not in allowed:
        raise ValueError(f"Unknown {what} {value!r}. Available: {', '.join(sorted(allowed))}")
    return value


def _text(value) -> str:
    """Plain text of a cell value (None and NaN give an empty string)."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    return str(value)


# ----------------------------------------------------------------------------- inline nodes
@dataclass(frozen=True)
class Strong:
    """Bold text (inline)."""

    content: tuple

    def __init__(self, *content):
        object.__setattr__(self, "content", _inlines(content))


@dataclass(frozen=True)
class Emph:
    """Italic text (inline)."""

    content: tuple

    def __init__(self, *content):
        object.__setattr__(self, "content", _inlines(content))


@dataclass(frozen=True)
class Span:
    """Text in a named style (``small``, ``muted``, ``value``, ``def``, ``ids``, ``code``:
    a command, never broken across lines)."""

    text: str
    style: str

    def __post_init__(self):
        object.__setattr__(self, "text", _text(self.text))
        _check(self.style, SPAN_STYLES, "span style")


@dataclass(frozen=True)
class Chip:
    """A rating label coloured by its band (``band`` 0..4; None: no data)."""

    text: str
    band: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "text", _text(self.text))
        if self.band is not None and self.band not in range(5):
            raise ValueError(f"Chip band must be 0..4 or None, not {self.band!r}")


INLINE_TYPES = (str, Strong, Emph, Span, Chip)


def _inlines(items) -> tuple:
    """Flatten inline content: strings and inline nodes; lists/tuples are spliced in."""
    out = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, list | tuple):
            out.extend(_inlines(item))
        elif isinstance(item, INLINE_TYPES):
            out.append(item)
        else:
            out.append(_text(item))
    return tuple(out)


# ------------------------------------------------------------------------------ block nodes
@dataclass(frozen=True)
class DocInfo:
    """Document metadata: title, language, running header and footer (first section only)."""

    title: str
    lang: str
    running: str = ""
    footer: str = ""


@dataclass(frozen=True)
class Heading:
    """A heading; levels 2 and 3 go into the table of contents unless ``toc=False``."""

    level: int
    text: str
    anchor: str
    newpage: bool = False
    toc: bool = True

    def __post_init__(self):
        if self.level not in (1, 2, 3, 4):
            raise ValueError(f"Heading level must be 1..4, not {self.level!r}")
        object.__setattr__(self, "text", _text(self.text))
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.anchor or ""):
            raise ValueError(f"Heading anchor must match [a-z][a-z0-9-]*, not {self.anchor!r}")


@dataclass(frozen=True)
class Para:
    """A paragraph of inline content, optionally in a named style."""

    content: tuple
    style: str | None = None

    def __init__(self, *content, style: str | None = None):
        object.__setattr__(self, "content", _inlines(content))
        object.__setattr__(self, "style", _check(style, PARA_STYLES, "paragraph style"))


@dataclass(frozen=True)
class Bullets:
    """A bulleted list; each item is inline content (a string, a node or a list of them)."""

    items: tuple
    style: str | None = None

    def __init__(self, items: Iterable, *, style: str | None = None):
        object.__setattr__(self, "items", tuple(_inlines([i]) for i in items))
        object.__setattr__(self, "style", _check(style, LIST_STYLES, "list style"))


@dataclass(frozen=True)
class Numbered(Bullets):
    """A numbered list."""


@dataclass(frozen=True)
class Facts:
    """A definition list: ``(term, description)`` pairs; descriptions are inline content."""

    items: tuple

    def __init__(self, items: Iterable[tuple]):
        object.__setattr__(self, "items", tuple((_text(k), _inlines([v])) for k, v in items))


@dataclass(frozen=True)
class Cell:
    """A table cell with presentation: band colour, explicit fill/ink (hex), alignment."""

    content: tuple
    band: int | None = None
    fill: str | None = None
    ink: str | None = None
    align: str | None = None
    bold: bool = False

    def __init__(self, *content, band=None, fill=None, ink=None, align=None, bold=False):
        object.__setattr__(self, "content", _inlines(content))
        if band is not None and band not in (*range(5), "na", "empty"):
            raise ValueError(f"Cell band must be 0..4, 'na' or 'empty', not {band!r}")
        for name, colour in (("fill", fill), ("ink", ink)):
            if colour is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
                raise ValueError(f"Cell {name} must be a #rrggbb colour, not {colour!r}")
        _check(align, frozenset({"left", "right", "center"}), "cell alignment")
        object.__setattr__(self, "band", band)
        object.__setattr__(self, "fill", fill)
        object.__setattr__(self, "ink", ink)
        object.__setattr__(self, "align", align)
        object.__setattr__(self, "bold", bool(bold))


def _cell(value) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


@dataclass(frozen=True)
class Table:
    """A table. ``numeric``: column indexes aligned right; ``row_header``: first column is
    a header of its row; ``widths``: relative column widths (fractions summing to about 1);
    rows are never split across pages."""

    header: tuple
    rows: tuple
    numeric: tuple = ()
    style: str | None = None
    widths: tuple | None = None
    caption: str = ""
    row_header: bool = False
    highlight: tuple = ()

    def __init__(
        self,
        header: Sequence,
        rows: Iterable[Sequence],
        *,
        numeric: Sequence[int] = (),
        style: str | None = None,
        widths: Sequence[float] | None = None,
        caption: str = "",
        row_header: bool = False,
        highlight: Sequence[int] = (),
    ):
        header = tuple(_cell(h) for h in header)
        rows = tuple(tuple(_cell(c) for c in row) for row in rows)
        ncol = len(header) if header else (len(rows[0]) if rows else 0)
        for i, row in enumerate(rows):
            if len(row) != ncol:
                raise ValueError(f"Table row {i} has {len(row)} cells; the header has {ncol}")
        if widths is not None and len(widths) != ncol:
            raise ValueError(f"Table has {ncol} columns but {len(widths)} widths")
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "numeric", tuple(numeric))
        object.__setattr__(self, "style", _check(style, TABLE_STYLES, "table style"))
        object.__setattr__(self, "widths", None if widths is None else tuple(widths))
        object.__setattr__(self, "caption", _text(caption))
        object.__setattr__(self, "row_header", bool(row_header))
        object.__setattr__(self, "highlight", tuple(highlight))


@dataclass(frozen=True)
class Figure:
    """A figure: SVG markup (preferred) or PNG bytes, with alt text and a caption.

    ``width`` is the fraction of the text width (0..1]. Build it from a matplotlib figure
    with :meth:`from_matplotlib`.
    """

    alt: str
    svg: str | None = None
    png: bytes | None = None
    caption: str = ""
    width: float = 1.0

    def __post_init__(self):
        if (self.svg is None) == (self.png is None):
            raise ValueError("Figure needs exactly one of svg= or png=")
        if not 0 < self.width <= 1:
            raise ValueError(f"Figure width is a fraction of the text width, not {self.width}")
        object.__setattr__(self, "alt", _text(self.alt))
        object.__setattr__(self, "caption", _text(self.caption))

    @classmethod
    def from_matplotlib(cls, fig, *, alt: str, caption: str = "", width: float = 1.0):
        """SVG of a matplotlib figure (text as paths: no font needed to print it); closes it."""
        import io

        import matplotlib as mpl
        import matplotlib.pyplot as plt

        buf = io.StringIO()
        with mpl.rc_context({"svg.fonttype": "path", "svg.hashsalt": "copeval"}):
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
        svg = buf.getvalue()
        svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype
        # matplotlib repeats every text drawn as paths in a comment: a label such as
        # "x onerror=y" there would make the HTML backend refuse the whole figure
        svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
        return cls(alt=alt, svg=svg, caption=caption, width=width)


@dataclass(frozen=True)
class ForestRow:
    """One criterion in a :class:`Forest`: label, score and interval on the 0-4 scale,
    the printed value (already worded, with its marks) and whether the dot is hollow."""

    label: str
    score: float | None
    lower: float | None = None
    upper: float | None = None
    value_text: str = ""
    hollow: bool = False


@dataclass(frozen=True)
class Forest:
    """Ratings with their intervals over the five rating bands (a dot and a bar per row),
    drawn natively by each backend (searchable text, no image)."""

    rows: tuple
    bands: tuple
    ticks: tuple
    axis_title: str = ""
    caption: str = ""

    def __init__(self, rows, *, bands, ticks, axis_title="", caption=""):
        if len(bands) != 5:
            raise ValueError("Forest needs the five band labels")
        object.__setattr__(self, "rows", tuple(rows))
        object.__setattr__(self, "bands", tuple(_text(b) for b in bands))
        object.__setattr__(self, "ticks", tuple((float(v), _text(s)) for v, s in ticks))
        object.__setattr__(self, "axis_title", _text(axis_title))
        object.__setattr__(self, "caption", _text(caption))


#: Fixed colours of a :class:`Likert` chart by number of answer categories (ColorBrewer
#: RdBu, neutral grey; the five-category one is ``figures.LIKERT_COLORS``), and the ink of
#: the percentage printed on each (white on the dark ends). Never taken from project data.
LIKERT_PALETTES = {
    2: ("#ca0020", "#0571b0"),
    3: ("#ca0020", "#d9d9d9", "#0571b0"),
    4: ("#ca0020", "#f4a582", "#92c5de", "#0571b0"),
    5: ("#ca0020", "#f4a582", "#d9d9d9", "#92c5de", "#0571b0"),
    6: ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"),
    7: ("#b2182b", "#ef8a62", "#fddbc7", "#d9d9d9", "#d1e5f0", "#67a9cf", "#2166ac"),
}
_LIKERT_DARK = frozenset({"#ca0020", "#0571b0", "#b2182b", "#2166ac"})
LIKERT_INK = "#1f2d3d"
#: A segment narrower than this share of the answers prints no percentage.
LIKERT_MIN_LABEL = 0.09


def likert_colors(k: int) -> tuple[tuple[str, str], ...]:
    """``(fill, ink)`` of each of ``k`` answer categories, negative to positive."""
    return tuple((c, "#ffffff" if c in _LIKERT_DARK else LIKERT_INK) for c in LIKERT_PALETTES[k])


@dataclass(frozen=True)
class LikertRow:
    """One bar of a :class:`Likert` chart: its label (already worded), the number of
    respondents and the share (0..1) of each answer category, negative to positive."""

    label: str
    n: int
    shares: tuple

    def __init__(self, label, n, shares):
        object.__setattr__(self, "label", _text(label))
        try:
            n_int = int(n)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(
                f"Likert row {label!r}: n must be a whole number, not {n!r}"
            ) from None
        if n_int != n or n_int < 0:
            raise ValueError(f"Likert row {label!r}: n must be a whole number >= 0, not {n!r}")
        object.__setattr__(self, "n", n_int)
        out = []
        for v in shares:
            try:
                f = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"Likert row {label!r}: share {v!r} is not a number") from None
            if not math.isfinite(f) or not 0 <= f <= 1:
                raise ValueError(f"Likert row {label!r}: share {v!r} is not in 0..1")
            out.append(f)
        if out and abs(sum(out) - 1) > 1e-6:
            raise ValueError(f"Likert row {label!r}: shares sum to {sum(out):.6g}, not 1")
        object.__setattr__(self, "shares", tuple(out))

    def left(self) -> float:
        """Where the bar starts, as a share left of the neutral midpoint (0..1): the
        negative categories and half of the neutral one (odd number of categories)."""
        k = len(self.shares)
        return sum(self.shares[: k // 2]) + (self.shares[k // 2] / 2 if k % 2 else 0.0)


@dataclass(frozen=True)
class Likert:
    """Survey answers as diverging stacked bars (one per row, centred on the neutral
    midpoint: unfavourable answers to the left, favourable to the right), with each
    row's n, the percentages inside wide enough segments, an axis and a legend of the
    categories; drawn natively by each backend (searchable text, no image).

    ``categories``: the 2..7 answer categories (worded), negative to positive; each row has
    one share per category (a missing category is a share of 0)."""

    rows: tuple
    categories: tuple
    caption: str = ""
    axis_title: str = ""

    def __init__(self, rows, *, categories, caption="", axis_title=""):
        categories = tuple(_text(c) for c in categories)
        if len(categories) not in LIKERT_PALETTES:
            raise ValueError(f"Likert needs 2 to 7 answer categories, not {len(categories)}")
        rows = tuple(rows)
        for r in rows:
            if not isinstance(r, LikertRow):
                raise TypeError(f"Likert rows must be LikertRow, not {type(r).__name__}")
            if len(r.shares) != len(categories):
                raise ValueError(
                    f"Likert row {r.label!r} has {len(r.shares)} shares for "
                    f"{len(categories)} categories"
                )
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "categories", categories)
        object.__setattr__(self, "caption", _text(caption))
        object.__setattr__(self, "axis_title", _text(axis_title))


@dataclass(frozen=True)
class Callout:
    """A highlighted box: ``info`` (accent), ``warning`` or ``synthetic`` (data banner)."""

    content: tuple
    kind: str = "info"
    title: str = ""

    def __init__(self, *content, kind: str = "info", title: str = ""):
        object.__setattr__(self, "content", _blocks(content))
        object.__setattr__(self, "kind", _check(kind, CALLOUT_KINDS, "callout kind"))
        object.__setattr__(self, "title", _text(title))


@dataclass(frozen=True)
class Quote:
    """A quotation with its attribution line (inline content)."""

    text: str
    attribution: tuple = ()

    def __init__(self, text, *attribution):
        object.__setattr__(self, "text", _text(text))
        object.__setattr__(self, "attribution", _inlines(attribution))


@dataclass(frozen=True)
class PageBreak:
    """Start a new page in print (nothing on screen)."""


@dataclass(frozen=True)
class Toc:
    """The table of contents (filled from the headings, with page numbers in print)."""

    title: str


@dataclass(frozen=True)
class Rule:
    """A horizontal rule: ``bands`` (the cover's five-colour bar) or ``line``."""

    style: str = "line"

    def __post_init__(self):
        _check(self.style, RULE_STYLES, "rule style")


@dataclass(frozen=True)
class Group:
    """Blocks kept together in a named style (``cover``, ``keep``, ``criterion``...)."""

    content: tuple
    style: str = "keep"

    def __init__(self, *content, style: str = "keep"):
        object.__setattr__(self, "content", _blocks(content))
        object.__setattr__(self, "style", _check(style, GROUP_STYLES, "group style"))


BLOCK_TYPES = (
    DocInfo,
    Heading,
    Para,
    Bullets,
    Facts,
    Table,
    Figure,
    Forest,
    Likert,
    Callout,
    Quote,
    PageBreak,
    Toc,
    Rule,
    Group,
)


def _blocks(items) -> tuple:
    out = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, Section):
            out.extend(item.blocks)
        elif isinstance(item, list | tuple):
            out.extend(_blocks(item))
        elif isinstance(item, BLOCK_TYPES):
            out.append(item)
        else:
            raise TypeError(f"Not a document block: {type(item).__name__}")
    return tuple(out)


# ---------------------------------------------------------------------------------- section
class Section:
    """A report section: blocks that display in Jupyter as HTML and carry their Typst.

    ``Section()`` (no blocks) displays nothing -- what a section outside the report's
    profile returns. Sections add: ``a + b``.
    """

    def __init__(self, *blocks):
        self.blocks = _blocks(blocks)

    def __bool__(self) -> bool:
        return bool(self.blocks)

    def __add__(self, other: Section) -> Section:
        return Section(self.blocks, other.blocks)

    def __repr__(self) -> str:
        kinds = ", ".join(type(b).__name__ for b in self.blocks[:6])
        more = ", ..." if len(self.blocks) > 6 else ""
        return f"<Section: {len(self.blocks)} blocks ({kinds}{more})>"

    def html(self) -> str:
        return to_html(self.blocks)

    def typst(self) -> str:
        from .typst_markup import to_typst

        return to_typst(self.blocks)

    def text(self) -> str:
        """The reading text (no markup), for tests and search."""
        return plain_text(self.blocks)

    def _repr_mimebundle_(self, include=None, exclude=None):
        if not self.blocks:
            return {"text/plain": ""}
        # In a notebook, the report's look comes with it: the section that opens a report
        # (the one with DocInfo) carries the stylesheet, scoped to ``.cv-doc`` so it styles
        # the report's outputs and nothing else of JupyterLab. The HTML export drops it
        # (``<style>`` is outside the reports' allow-list) and links its own stylesheet.
        style = ""
        if any(isinstance(b, DocInfo) for b in self.blocks):
            style = f"<style>{notebook_css()}</style>"
        html = f'{style}<div class="cv-doc">{self.html()}</div>'
        return {"text/html": html, TYPST_MIME: self.typst(), "text/plain": ""}


_CSS_BLOCK = re.compile(r"([^{}]+)\{([^{}]*)\}")


def _scope_rules(css: str) -> str:
    out = []
    for selectors, body in _CSS_BLOCK.findall(css):
        scoped = []
        for sel in selectors.split(","):
            sel = sel.strip()
            if not sel:
                continue
            if sel in ("html", "body", ":root"):
                scoped.append(".cv-doc")
            else:  # the class twice: above JupyterLab's own ".jp-RenderedHTMLCommon th"
                scoped.append(f".cv-doc.cv-doc {sel}")
        out.append(f"{', '.join(scoped)} {{{body.strip()}}}")
    return "\n".join(out)


def _at_blocks(css: str):
    """Split ``css`` into (at-rule prelude or None, text) pieces at the top level."""
    i, n, pieces, start = 0, len(css), [], 0
    while i < n:
        if css[i] == "@":
            brace = css.find("{", i)
            if brace < 0:
                break
            pieces.append((None, css[start:i]))
            depth, j = 1, brace + 1
            while j < n and depth:
                depth += {"{": 1, "}": -1}.get(css[j], 0)
                j += 1
            pieces.append((css[i:brace].strip(), css[brace + 1 : j - 1]))
            i = start = j
        else:
            i += 1
    pieces.append((None, css[start:]))
    return pieces


_NOTEBOOK_CSS: str | None = None


def notebook_css() -> str:
    """The report stylesheet (``templates/report.css``) for notebook outputs: every rule
    scoped to ``.cv-doc`` (the wrapper of each section's HTML), screen rules kept, print
    rules and ``@page`` dropped."""
    global _NOTEBOOK_CSS
    if _NOTEBOOK_CSS is None:
        from pathlib import Path

        css = (Path(__file__).with_name("templates") / "report.css").read_text("utf-8")
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        parts = []
        for prelude, text in _at_blocks(css):
            if prelude is None or (prelude.startswith("@media") and "screen" in prelude):
                parts.append(_scope_rules(text))
        _NOTEBOOK_CSS = "\n".join(p for p in parts if p)
    return _NOTEBOOK_CSS


# ------------------------------------------------------------------------------ plain text
def plain_text(node) -> str:
    """All text of a node tree, blocks separated by newlines (no markup)."""
    if isinstance(node, str):
        return node
    if isinstance(node, list | tuple):
        sep = "" if all(isinstance(n, INLINE_TYPES) for n in node) else "\n"
        return sep.join(plain_text(n) for n in node)
    if isinstance(node, Section):
        return plain_text(node.blocks)
    if isinstance(node, Strong | Emph | Para | Group | Cell):
        return plain_text(node.content)
    if isinstance(node, Span | Chip | Heading | Toc):
        return node.text if not isinstance(node, Toc) else node.title
    if isinstance(node, Bullets):
        return "\n".join(plain_text(i) for i in node.items)
    if isinstance(node, Facts):
        return "\n".join(f"{k}: {plain_text(v)}" for k, v in node.items)
    if isinstance(node, Callout):
        return "\n".join(filter(None, [node.title, plain_text(node.content)]))
    if isinstance(node, Quote):
        return f"{node.text}\n{plain_text(node.attribution)}"
    if isinstance(node, Table):
        lines = [" | ".join(plain_text(c) for c in node.header)] if node.header else []
        lines += [" | ".join(plain_text(c) for c in row) for row in node.rows]
        if node.caption:
            lines.append(node.caption)
        return "\n".join(lines)
    if isinstance(node, Figure):
        return "\n".join(filter(None, [node.alt, node.caption]))
    if isinstance(node, Forest):
        rows = [f"{r.label} {r.value_text}" for r in node.rows]
        return "\n".join([*rows, node.caption])
    if isinstance(node, Likert):
        lines = []
        for r in node.rows:
            parts = ", ".join(
                f"{c} {100 * v:.0f} %" for c, v in zip(node.categories, r.shares, strict=True)
            )
            lines.append(f"{r.label} (n={r.n}): {parts}")
        return "\n".join(filter(None, [*lines, node.caption]))
    return ""


# ------------------------------------------------------------------------------------ HTML
def _esc(value) -> str:
    return _html.escape(_text(value), quote=True)


def _inline_html(items) -> str:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(_esc(item))
        elif isinstance(item, Strong):
            out.append(f"<strong>{_inline_html(item.content)}</strong>")
        elif isinstance(item, Emph):
            out.append(f"<em>{_inline_html(item.content)}</em>")
        elif isinstance(item, Span) and item.style == "code":
            out.append(f'<code class="cv-code">{_esc(item.text)}</code>')
        elif isinstance(item, Span):
            cls = "cv-val" if item.style == "value" else f"cv-{item.style}"
            out.append(f'<span class="{cls}">{_esc(item.text)}</span>')
        elif isinstance(item, Chip):
            band = "na" if item.band is None else item.band
            out.append(f'<span class="cv-chip cv-band-{band}">{_esc(item.text)}</span>')
    return "".join(out)


def _cell_html(cell: Cell, tag: str, *, numeric: bool, scope: str = "") -> str:
    classes = []
    if numeric:
        classes.append("num")
    if cell.band is not None:
        classes.append(f"cv-band-{cell.band}" if cell.band != "empty" else "cv-empty")
    style = []
    if cell.fill:
        style.append(f"background:{cell.fill}")
    if cell.ink:
        style.append(f"color:{cell.ink}")
    if cell.align:
        style.append(f"text-align:{cell.align}")
    attrs = f' class="{" ".join(classes)}"' if classes else ""
    attrs += f' style="{";".join(style)}"' if style else ""
    attrs += f' scope="{scope}"' if scope else ""
    body = _inline_html(cell.content)
    if cell.bold:
        body = f"<strong>{body}</strong>"
    return f"<{tag}{attrs}>{body}</{tag}>"


def _table_html(node: Table) -> str:
    num = set(node.numeric)
    classes = {
        "compact": "cv-compact",
        "fixed": "cv-fixed",
        "evidence": "cv-compact cv-fixed cv-evidence",
        "rec": "cv-compact cv-fixed cv-rec",
        "heat": "cv-heat",
        "coverage": "cv-heat cv-coverage",
        "cover-ratings": "cv-cover-ratings",
        "plain": "",
    }
    cls = classes.get(node.style or "plain", "")
    parts = [f'<table class="{cls}">' if cls else "<table>"]
    if node.widths:
        parts.append(
            "<colgroup>"
            + "".join(f'<col style="width:{100 * w:.1f}%"/>' for w in node.widths)
            + "</colgroup>"
        )
    if node.header:
        parts.append(
            "<thead><tr>"
            + "".join(_cell_html(h, "th", numeric=i in num) for i, h in enumerate(node.header))
            + "</tr></thead>"
        )
    parts.append("<tbody>")
    for r, row in enumerate(node.rows):
        cells = []
        for i, c in enumerate(row):
            if i == 0 and node.row_header:
                cells.append(_cell_html(c, "th", numeric=False, scope="row"))
            else:
                cells.append(_cell_html(c, "td", numeric=i in num))
        tr = '<tr class="cv-self">' if r in node.highlight else "<tr>"
        parts.append(tr + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    markup = "".join(parts)
    if node.caption or node.style in ("heat", "coverage"):
        cap = f"<figcaption>{_esc(node.caption)}</figcaption>" if node.caption else ""
        return f'<figure class="cv-figure">{markup}{cap}</figure>'
    return markup


def _pct(value: float) -> str:
    return f"{100 * min(max(float(value), 0.0), 4.0) / 4:.2f}%"


def _forest_html(node: Forest) -> str:
    bands = "".join(
        f'<span style="left:{20 * i}%">{_esc(b)}</span>' for i, b in enumerate(node.bands)
    )
    body = [
        f'<tr class="cv-fx-head"><th></th><td><div class="cv-fx-labels">{bands}</div></td></tr>'
    ]
    for r in node.rows:
        marks = ""
        if r.score is not None:
            if r.lower is not None and r.upper is not None:
                width = f"{100 * (min(r.upper, 4) - max(r.lower, 0)) / 4:.2f}%"
                cls = "cv-fx-ci cv-fx-thin" if r.hollow else "cv-fx-ci"
                marks += f'<span class="{cls}" style="left:{_pct(r.lower)};width:{width}"></span>'
            hollow = " cv-fx-hollow" if r.hollow else ""
            marks += f'<span class="cv-fx-dot{hollow}" style="left:{_pct(r.score)}"></span>'
            at = r.upper if r.upper is not None else r.score
            marks += (
                f'<span class="cv-fx-value" style="left:{_pct(min(at, 3.55))}">'
                f"{_esc(r.value_text)}</span>"
            )
        body.append(
            f'<tr><th scope="row">{_esc(r.label)}</th>'
            f'<td><div class="cv-fx-track">{marks}</div></td></tr>'
        )
    ticks = "".join(f'<span style="left:{_pct(v)}">{_esc(s)}</span>' for v, s in node.ticks)
    body.append(
        f'<tr class="cv-fx-axis"><th></th><td><div class="cv-fx-ticks">{ticks}</div>'
        f'<div class="cv-fx-title">{_esc(node.axis_title)}</div></td></tr>'
    )
    cap = f"<figcaption>{_esc(node.caption)}</figcaption>" if node.caption else ""
    return (
        f'<figure class="cv-figure"><table class="cv-forest">{"".join(body)}</table>{cap}</figure>'
    )


def _likert_html(node: Likert) -> str:
    colors = likert_colors(len(node.categories))
    # the bars span -100..100 % of the answers around the neutral midpoint (at 50 %)
    body = []
    for r in node.rows:
        segs, x = [], 50 - 50 * r.left()
        for cat, share, (fill, ink) in zip(node.categories, r.shares, colors, strict=True):
            if share > 0:
                pct = f"{100 * share:.0f}"
                text = _esc(pct) if share >= LIKERT_MIN_LABEL else ""
                segs.append(
                    f'<span class="cv-lk-seg" style="left:{x:.3f}%;width:{50 * share:.3f}%;'
                    f'background:{fill};color:{ink}" title="{_esc(cat)}: {pct} %">{text}</span>'
                )
            x += 50 * share
        body.append(
            f'<tr><th scope="row">{_esc(r.label)}</th>'
            f'<td><div class="cv-lk-track"><span class="cv-lk-mid"></span>{"".join(segs)}'
            f'</div></td><td class="cv-lk-n">n={r.n}</td></tr>'
        )
    ticks = "".join(
        f'<span style="left:{pos}%">{lab}</span>'
        for pos, lab in ((0, "100"), (25, "50"), (50, "0"), (75, "50"), (100, "100"))
    )
    body.append(
        f'<tr class="cv-lk-axis"><th></th><td><div class="cv-lk-ticks">{ticks}</div>'
        f'<div class="cv-lk-title">{_esc(node.axis_title)}</div></td><td></td></tr>'
    )
    legend = "".join(
        f'<span class="cv-lk-key"><span class="cv-lk-swatch" style="background:{fill}">'
        f"</span>{_esc(c)}</span>"
        for c, (fill, _) in zip(node.categories, colors, strict=True)
    )
    cap = f"<figcaption>{_esc(node.caption)}</figcaption>" if node.caption else ""
    return (
        f'<figure class="cv-figure"><table class="cv-likert">{"".join(body)}</table>'
        f'<div class="cv-lk-legend">{legend}</div>{cap}</figure>'
    )


_SVG_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SVG_DTD = re.compile(r"<!(DOCTYPE|ENTITY)", re.I)
#: Elements that run code or embed another document.
_SVG_ACTIVE = frozenset({"script", "foreignobject", "iframe", "embed", "object", "handler"})
#: A CSS ``url(...)`` or ``@import`` pointing anywhere but a fragment of the same SVG.
_SVG_EXTERNAL_CSS = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import", re.I)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def svg_problem(svg: str) -> str | None:
    """Why an SVG figure is unsafe to embed (None when it is safe).

    The SVG is parsed, not searched as text: comments and the text of a figure (a site
    name "Sitio once = 11", a round label "javascript: ..." that matplotlib writes into
    comments) are data, never a reason to refuse it. Refused: a DTD or entity declaration
    (entity expansion), markup that is not well-formed, a ``script``/``foreignObject``/
    ``iframe``/``embed``/``object`` element in any namespace, an ``on*`` event attribute,
    a ``javascript:`` URL (entities decoded, spaces and controls ignored), and CSS that
    loads something (``url()`` other than ``url(#id)``, ``@import``)."""
    import xml.etree.ElementTree as ET

    body = _SVG_COMMENT.sub("", svg)
    if _SVG_DTD.search(body):
        return "a DTD or entity declaration"
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        return f"markup that is not well-formed ({exc})"
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if _local(el.tag) in _SVG_ACTIVE:
            return f"a <{_local(el.tag)}> element (script or embedded document)"
        if _local(el.tag) == "style" and _SVG_EXTERNAL_CSS.search("".join(el.itertext())):
            return "a style sheet that loads an external resource"
        for name, value in el.attrib.items():
            if _local(name).startswith("on"):
                return f"an event handler attribute ({_local(name)})"
            squeezed = re.sub(r"[\s\x00-\x1f]+", "", value).lower()
            if "javascript:" in squeezed or "vbscript:" in squeezed:
                return "a javascript: URL"
            if _SVG_EXTERNAL_CSS.search(value):
                return "a style that loads an external resource"
    return None


def check_svg(svg: str) -> None:
    """Raise ValueError naming the problem when :func:`svg_problem` finds one."""
    problem = svg_problem(svg)
    if problem:
        raise ValueError(
            f"Figure SVG contains script or event handlers or loads a resource: {problem}"
        )


def _figure_html(node: Figure) -> str:
    import base64

    alt = _esc(node.alt)
    if node.svg is not None:
        check_svg(node.svg)
        data = base64.b64encode(node.svg.encode()).decode()
        src = f"data:image/svg+xml;base64,{data}"
    else:
        src = f"data:image/png;base64,{base64.b64encode(node.png).decode()}"
    width = f' style="width:{100 * node.width:.0f}%"' if node.width < 1 else ""
    cap = f"<figcaption>{_esc(node.caption)}</figcaption>" if node.caption else ""
    return f'<figure class="cv-figure"><img src="{src}" alt="{alt}"{width}/>{cap}</figure>'


def _block_html(node) -> str:
    if isinstance(node, DocInfo):
        return (
            f'<div class="cv-docinfo" data-title="{_esc(node.title)}" '
            f'data-lang="{_esc(node.lang)}" data-running="{_esc(node.running)}" '
            f'data-footer="{_esc(node.footer)}"></div>'
        )
    if isinstance(node, Heading):
        if node.level == 1:
            return f'<h1 id="{node.anchor}">{_esc(node.text)}</h1>'
        cls = "cv-h" if node.toc else "cv-h cv-notoc"
        if node.newpage:
            cls += " cv-newpage"
        return f'<h{node.level} class="{cls}" id="{node.anchor}">{_esc(node.text)}</h{node.level}>'
    if isinstance(node, Para):
        body = _inline_html(node.content)
        return f'<p class="cv-{node.style}">{body}</p>' if node.style else f"<p>{body}</p>"
    if isinstance(node, Bullets):
        tag = "ol" if isinstance(node, Numbered) else "ul"
        cls = {"summary": "cv-summary-list", "actions": "cv-actions"}.get(node.style or "", "")
        attr = f' class="{cls}"' if cls else ""
        items = "".join(f"<li>{_inline_html(i)}</li>" for i in node.items)
        return f"<{tag}{attr}>{items}</{tag}>"
    if isinstance(node, Facts):
        items = "".join(f"<dt>{_esc(k)}</dt><dd>{_inline_html(v)}</dd>" for k, v in node.items)
        return f'<dl class="cv-facts">{items}</dl>'
    if isinstance(node, Table):
        return _table_html(node)
    if isinstance(node, Figure):
        return _figure_html(node)
    if isinstance(node, Forest):
        return _forest_html(node)
    if isinstance(node, Likert):
        return _likert_html(node)
    if isinstance(node, Callout):
        cls = {"info": "cv-callout", "warning": "cv-warning", "synthetic": "cv-synthetic"}[
            node.kind
        ]
        title = f"<strong>{_esc(node.title)}</strong>" if node.title else ""
        return f'<div class="{cls}">{title}{to_html(node.content)}</div>'
    if isinstance(node, Quote):
        return (
            f'<blockquote class="cv-quote"><p>“{_esc(node.text)}”</p>'
            f"<footer>{_inline_html(node.attribution)}</footer></blockquote>"
        )
    if isinstance(node, PageBreak):
        return '<div class="cv-pagebreak"></div>'
    if isinstance(node, Toc):
        return f'<nav class="cv-toc"><h2>{_esc(node.title)}</h2></nav>'
    if isinstance(node, Rule):
        return '<div class="cv-bar"></div>' if node.style == "bands" else "<hr/>"
    if isinstance(node, Group):
        tag = "section" if node.style in ("cover", "criterion") else "div"
        return f'<{tag} class="cv-{node.style}">{to_html(node.content)}</{tag}>'
    raise TypeError(f"Not a document block: {type(node).__name__}")


def to_html(blocks) -> str:
    """HTML of a block, a sequence of blocks or a :class:`Section` (all text escaped)."""
    if isinstance(blocks, Section):
        blocks = blocks.blocks
    if isinstance(blocks, BLOCK_TYPES):
        blocks = (blocks,)
    return "".join(_block_html(b) for b in blocks)
