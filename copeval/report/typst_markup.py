"""Typst backend of the report document model: :func:`to_typst` (blocks -> Typst markup).

The markup only calls the ``cv-*`` functions of ``templates/copeval.typ`` (which defines
every named style of :mod:`copeval.report.doc`), and writes every text as a Typst *string
literal* (``#"…"`` in markup, ``"…"`` in code): Typst prints a string literal as text and
never parses it, so no character of a project's files -- ``#``, ``[``, ``]``, ``*``, ``_``,
``$``, ``@``, ``<``, ``=``, backticks, ``//`` -- can become markup, code, a label, an
import or a file read. Inside the literal only ``\\`` and ``"`` need escaping. Before that,
:func:`clean_text` removes what must not reach a PDF at all: bidirectional controls
(:func:`copeval.report.safety.strip_bidi`), NUL and the other control characters, lone
surrogates; line breaks become spaces (as in HTML). Words longer than a line can hold are
cut into pieces printed as adjacent boxes (``#box("…")``), so they wrap instead of
overflowing the page, and the PDF's text gains no character (a copied path stays whole).

Figures are embedded from bytes (``image(bytes("<svg…"), format: "svg")``, PNG likewise),
never from a path; the PDF is compiled with an empty root folder (:mod:`copeval.report.pdf`),
so no Typst code could read a file even if it were written.
"""

from __future__ import annotations

import math
import re

from . import doc
from .safety import strip_bidi

__all__ = ["clean_text", "column_widths", "to_typst", "typst_str", "typst_text"]

# C0 controls except tab/newline/CR (which become spaces), DEL, C1 controls, and the
# Unicode line/paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile("[\t\n\r\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A run of more characters than this without a break opportunity gets some: after
# separators and at least every 16 characters (a line holds about 100).
_LONG_WORD = 24
# A "word" runs to the next space a line may break at: no-break spaces (U+00A0, U+2007,
# U+202F) are whitespace to Python's \s but glue words together in Typst, so a run of
# words joined by them is one word here too.
_GLUE = "\u00a0\u2007\u202f"
_WORD = re.compile(rf"(?:[^\s]|[{_GLUE}]){{{_LONG_WORD + 1},}}")
_SPLIT = re.compile(rf"[^\S{_GLUE}]+")
_PERCENT = re.compile(r"(?<=\d) %")
_BREAK_AFTER = set("/_-.,;:=&?|\\@+)]}")


def clean_text(value) -> str:
    """Plain text safe to print: no bidi or control characters, no line breaks (they
    become spaces, as in HTML), a no-break space between a number and ``%``."""
    text = doc._text(value)
    text = strip_bidi(text)
    text = _SURROGATE.sub("\ufffd", text)
    text = _SPACE.sub(" ", text)
    text = _CONTROL.sub("", text)
    return _PERCENT.sub("\u00a0%", text)


def _split_word(word: str) -> list[str]:
    """A long word in pieces: after separators and at least every 16 characters."""
    pieces, run = [], ""
    for ch in word:
        run += ch
        if ch in _BREAK_AFTER or len(run) >= 16:
            pieces.append(run)
            run = ""
    if run:
        pieces.append(run)
    return pieces


def _segments(text: str) -> list[tuple[str, bool]]:
    """``text`` as (text, boxed) segments: each long word cut into boxed pieces, between
    which a line may break (Typst breaks between inline boxes; a zero-width space would
    also do, but it stays in the PDF's text and in whatever a reader copies out of it)."""
    out, last = [], 0
    for match in _WORD.finditer(text):
        if match.start() > last:
            out.append((text[last : match.start()], False))
        out.extend((piece, True) for piece in _split_word(match.group()))
        last = match.end()
    if last < len(text) or not out:
        out.append((text[last:], False))
    return out


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def typst_str(value) -> str:
    """A Typst string literal (code mode) printing ``value`` as text, unbroken."""
    return _literal(clean_text(value))


def _text(value) -> str:
    """Markup printing ``value`` as text (``#"…"``; a long word as ``#box("…")`` pieces);
    empty for an empty text."""
    return "".join(
        f"#box({_literal(t)})" if boxed else f"#{_literal(t)}"
        for t, boxed in _segments(clean_text(value))
        if t
    )


def typst_text(value) -> str:
    """A code expression printing ``value`` as text: a string literal, or content whose
    long words are cut into boxed pieces (see :func:`_segments`)."""
    segments = _segments(clean_text(value))
    if len(segments) == 1 and not segments[0][1]:
        return _literal(segments[0][0])
    return "[" + _text(value) + "]"


def _content(markup: str) -> str:
    """A content block ``[…]`` around markup made of ``#``-expressions only."""
    return f"[{markup}]"


# ------------------------------------------------------------------------------ inlines
def _inline(items) -> str:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(_text(item))
        elif isinstance(item, doc.Strong):
            out.append(f"#strong({_content(_inline(item.content))})")
        elif isinstance(item, doc.Emph):
            out.append(f"#emph({_content(_inline(item.content))})")
        elif isinstance(item, doc.Span):
            lit = typst_str(item.text) if item.style == "code" else typst_text(item.text)
            out.append(f'#cv-span("{item.style}", {lit})')
        elif isinstance(item, doc.Chip):
            band = "none" if item.band is None else str(int(item.band))
            out.append(f"#cv-chip({band}, {typst_str(item.text)})")
    return "".join(out)


def _inline_content(items) -> str:
    return _content(_inline(items))


def _lines_content(items, *, grid: bool = False) -> str:
    """Inline content where a ``small`` span after other content starts its own line (a
    heat-grid cell's band label, the source under a fact: ``display: block`` in CSS). In
    a grid cell (``grid=True``) the label keeps the cell's ink, in the grid's label size."""
    out = []
    for i, item in enumerate(items):
        small = isinstance(item, doc.Span) and item.style == "small"
        if i and small:
            out.append("#linebreak()")
        if small and grid:
            out.append(f"#cv-grid-label({typst_str(item.text)})")
        else:
            out.append(_inline([item]))
    return _content("".join(out))


# ------------------------------------------------------------------------------- tables
# Approximate text widths, in characters, of the text width at each table font size
# (A4, margins 20 + 18 mm: 172 mm of text; DejaVu Sans averages about 0.55 em a character).
_TABLE_CHARS = {
    "compact": 118,
    "evidence": 118,
    "rec": 118,
    "coverage": 108,
    "cover-ratings": 82,
}
_DEFAULT_CHARS = 102


def _cell_len(cell: doc.Cell) -> tuple[int, int]:
    """(whole length, longest word) of a cell's text, in characters."""
    text = doc.plain_text(cell.content)
    words = [len(w) for w in _SPLIT.split(text) if w]
    longest = min(max(words, default=0), _LONG_WORD)
    return len(text), longest


def column_widths(node: doc.Table) -> list[float]:
    """Relative column widths, like a browser's automatic table layout: columns get their
    content's width when everything fits on a line, else the room above the longest words
    is shared in proportion to how much text each column holds."""
    ncol = len(node.header) if node.header else (len(node.rows[0]) if node.rows else 0)
    if ncol == 0:
        return []
    if node.widths:
        # A width that is not a finite positive number (NaN, inf: Typst has no such
        # length) counts as the smallest one.
        return [
            min(max(float(w), 0.01), 1e6) if math.isfinite(float(w)) else 0.01 for w in node.widths
        ]
    if node.style == "heat":
        return [0.26] + [0.74 / (ncol - 1)] * (ncol - 1) if ncol > 1 else [1.0]
    if node.style == "coverage":
        return [0.32] + [0.68 / (ncol - 1)] * (ncol - 1) if ncol > 1 else [1.0]
    fixed = {"evidence": [0.16, 0.30], "rec": [0.52, 0.13, 0.13]}.get(node.style or "")
    if fixed and ncol > len(fixed):
        rest = (1 - sum(fixed)) / (ncol - len(fixed))
        return fixed + [rest] * (ncol - len(fixed))
    if node.style == "fixed":
        return [1 / ncol] * ncol
    pad = 2.0  # the cell's right padding, in characters
    maxw, minw = [pad] * ncol, [pad] * ncol
    for r, row in enumerate((node.header, *node.rows)):
        bold = 1.15 if r == 0 and node.header else 1.0  # header text is bold, wider
        for i, cell in enumerate(row):
            whole, word = _cell_len(cell)
            maxw[i] = max(maxw[i], bold * whole + pad)
            minw[i] = max(minw[i], bold * word + pad)
    avail = _TABLE_CHARS.get(node.style or "", _DEFAULT_CHARS)
    if sum(maxw) <= avail:
        return maxw
    if sum(minw) >= avail:
        return minw
    share = (avail - sum(minw)) / (sum(maxw) - sum(minw))
    return [lo + (hi - lo) * share for lo, hi in zip(minw, maxw, strict=True)]


def _cell_dict(cell: doc.Cell, *, lines: bool = False) -> str:
    body = _lines_content(cell.content, grid=True) if lines else _inline_content(cell.content)
    parts = [f"b: {body}"]
    if cell.band is not None:
        band = cell.band if isinstance(cell.band, int) else f'"{cell.band}"'
        parts.append(f"band: {band}")
    if cell.fill:
        parts.append(f'fill: rgb("{cell.fill}")')
    if cell.ink:
        parts.append(f'ink: rgb("{cell.ink}")')
    if cell.align:
        parts.append(f'align: "{cell.align}"')
    if cell.bold:
        parts.append("bold: true")
    return "(" + ", ".join(parts) + ")"


def _tuple(items) -> str:
    items = list(items)
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _table(node: doc.Table) -> str:
    widths = column_widths(node)
    total = sum(widths) or 1.0
    columns = _tuple(f"{w / total:.4f}fr" for w in widths)
    lines = node.style in ("heat", "coverage")
    header = _tuple(_cell_dict(c) for c in node.header)
    rows = _tuple(_tuple(_cell_dict(c, lines=lines) for c in row) for row in node.rows)
    args = [
        f'style: "{node.style or "plain"}"',
        f"columns: {columns}",
        f"numeric: {_tuple(str(int(i)) for i in node.numeric)}",
        f"header: {header}",
        f"highlight: {_tuple(str(int(i)) for i in node.highlight)}",
        f"row-header: {'true' if node.row_header else 'false'}",
    ]
    if node.caption:
        args.append(f"caption: {typst_text(node.caption)}")
    return f"#cv-table({', '.join(args)},\n  rows: {rows})"


# ------------------------------------------------------------------------------ figures
def _figure(node: doc.Figure) -> str:
    alt = typst_str(node.alt)
    if node.svg is not None:
        doc.check_svg(node.svg)
        # The SVG travels as a string literal (escaped like any text, never a path).
        svg = node.svg.replace("\\", "\\\\").replace('"', '\\"')
        svg = svg.replace("\r", "\\r").replace("\n", "\\n")
        img = f'image(bytes("{svg}"), format: "svg", alt: {alt}, width: 100%)'
    else:
        data = ",".join(str(b) for b in bytes(node.png))
        img = f'image(bytes(({data},)), format: "png", alt: {alt}, width: 100%)'
    args = [img]
    if node.caption:
        args.append(f"caption: {typst_text(node.caption)}")
    if node.width < 1:
        args.append(f"width: {100 * node.width:.1f}%")
    return f"#cv-figure({', '.join(args)})"


def _num(value) -> str:
    if value is None:
        return "none"
    value = float(value)
    if math.isnan(value):
        return "none"
    # Typst has no ``inf`` literal; the scale is 0..4, so far outside it is as good.
    value = min(max(value, -1e6), 1e6)
    return repr(round(value, 6))


def _forest(node: doc.Forest) -> str:
    rows = []
    for r in node.rows:
        score = _num(r.score)
        rows.append(
            f"(label: {typst_text(r.label)}, score: {score}, lower: {_num(r.lower)}, "
            f"upper: {_num(r.upper)}, value: {typst_text(r.value_text)}, "
            f"hollow: {'true' if r.hollow else 'false'})"
        )
    args = [
        _tuple(rows),
        f"bands: {_tuple(typst_text(b) for b in node.bands)}",
        f"ticks: {_tuple(f'({_num(v)}, {typst_text(s)})' for v, s in node.ticks)}",
    ]
    if node.axis_title:
        args.append(f"axis-title: {typst_text(node.axis_title)}")
    if node.caption:
        args.append(f"caption: {typst_text(node.caption)}")
    return f"#cv-forest({', '.join(args)})"


def _rgb(colour: str) -> str:
    """A Typst colour from a fixed ``#rrggbb`` of the code (never project data)."""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        raise ValueError(f"Not a #rrggbb colour: {colour!r}")
    return f'rgb("{colour}")'


def _likert(node: doc.Likert) -> str:
    """A :class:`~doc.Likert` chart: every text a string literal, colours from the fixed
    palette of :func:`doc.likert_colors`."""
    colors = doc.likert_colors(len(node.categories))
    rows = []
    for r in node.rows:
        shares = _tuple(_num(v) for v in r.shares)
        pcts = _tuple(
            f'"{100 * v:.0f}"' if v >= doc.LIKERT_MIN_LABEL else "none" for v in r.shares
        )
        rows.append(
            f"(label: {typst_text(r.label)}, n: {typst_str(f'n={r.n}')}, "
            f"left: {_num(r.left())}, shares: {shares}, pcts: {pcts})"
        )
    args = [
        _tuple(rows),
        f"categories: {_tuple(typst_text(c) for c in node.categories)}",
        f"fills: {_tuple(_rgb(fill) for fill, _ in colors)}",
        f"inks: {_tuple(_rgb(ink) for _, ink in colors)}",
    ]
    if node.axis_title:
        args.append(f"axis-title: {typst_text(node.axis_title)}")
    if node.caption:
        args.append(f"caption: {typst_text(node.caption)}")
    return f"#cv-likert({', '.join(args)})"


# ------------------------------------------------------------------------------- blocks
_LANG = re.compile(r"[a-z]{2,3}")


# Height of the text area (A4, 22 mm top and bottom margins), and an estimate of what each
# block of a cover takes at the template's normal cover spacing (measured on the demo).
_PAGE_HEIGHT_MM = 253.0
_COVER_CHARS = 90  # characters of body text on a line of the cover


def _lines(text: str, per_line: int) -> int:
    return max(1, math.ceil(len(text) / per_line))


def _cover_height_mm(group: doc.Group) -> float:
    """A generous estimate of a cover's height at the normal spacing, in mm."""
    total = 0.0
    for node in group.content:
        if isinstance(node, doc.Callout):
            text = doc.plain_text(node.content)
            total += 14 + 5 * _lines(text, _COVER_CHARS) + 5 * len(text.split("\n"))
        elif isinstance(node, doc.Group) and node.style == "kicker":
            total += 23
        elif isinstance(node, doc.Heading):
            total += 9 + 12 * _lines(node.text, 24)
        elif isinstance(node, doc.Group) and node.style == "subtitle":
            total += 19
        elif isinstance(node, doc.Rule):
            total += 16
        elif isinstance(node, doc.Table):
            total += 8 + 10 * len(node.rows) + (8 if node.header else 0)
        elif isinstance(node, doc.Facts):
            total += sum(6 + 4.5 * _lines(doc.plain_text(v), _COVER_CHARS) for _, v in node.items)
        elif isinstance(node, doc.Group) and node.style == "frameworks":
            total += 18
        elif isinstance(node, doc.Toc):
            total += 60
        else:
            total += 5 * _lines(doc.plain_text(node), _COVER_CHARS) + 4
    return total


def _starts_new_page(node) -> bool:
    """Whether a group's first block (at any depth) is a heading that starts a new page."""
    while isinstance(node, doc.Group) and node.content:
        node = node.content[0]
    return isinstance(node, doc.Heading) and node.newpage


def _blocks(blocks, *, nested: bool) -> str:
    return "\n\n".join(_block(b, nested=nested) for b in blocks)


def _block(node, *, nested: bool = False) -> str:
    """Markup of one block. ``nested``: inside a group or callout (a box Typst cannot break
    a page in): a page break there is moved before the outermost group when the group
    starts with it, and dropped otherwise."""
    if isinstance(node, doc.DocInfo):
        lang = node.lang or "en"
        if not _LANG.fullmatch(lang):
            raise ValueError(f"DocInfo lang must be an ISO 639 code like 'es', not {lang!r}")
        return (
            f"#show: copeval-doc.with(title: {typst_str(node.title)}, "
            f'lang: "{lang}", running: {typst_text(node.running)}, '
            f"footer: {typst_text(node.footer)})"
        )
    if isinstance(node, doc.Heading):
        outlined = "true" if node.toc and node.level in (2, 3) else "false"
        # The supplement carries the model's level (the look); `level` is the level in
        # the PDF structure tree (made consecutive by copeval.report.pdf). Always at the
        # start of a line: no text or figure literal holds a raw line break.
        head = (
            f"#heading(level: {node.level}, outlined: {outlined}, "
            f"supplement: [cv-h{node.level}])[{_text(node.text)}] <{node.anchor}>"
        )
        return ("#pagebreak(weak: true)\n" + head) if node.newpage and not nested else head
    if isinstance(node, doc.Para):
        style = f'style: "{node.style}", ' if node.style else ""
        return f"#cv-para({style}{_inline_content(node.content)})"
    if isinstance(node, doc.Bullets):
        numbered = "true" if isinstance(node, doc.Numbered) else "false"
        style = f'"{node.style}"' if node.style else "none"
        items = _tuple(_inline_content(i) for i in node.items)
        return f"#cv-list(numbered: {numbered}, style: {style}, {items})"
    if isinstance(node, doc.Facts):
        items = _tuple(f"({typst_text(k)}, {_lines_content(v)})" for k, v in node.items)
        return f"#cv-facts({items})"
    if isinstance(node, doc.Table):
        return _table(node)
    if isinstance(node, doc.Figure):
        return _figure(node)
    if isinstance(node, doc.Forest):
        return _forest(node)
    if isinstance(node, doc.Likert):
        return _likert(node)
    if isinstance(node, doc.Callout):
        title = f", title: {typst_text(node.title)}" if node.title else ""
        body = _blocks(node.content, nested=True)
        return f'#cv-callout(kind: "{node.kind}"{title})[\n{body}\n]'
    if isinstance(node, doc.Quote):
        attribution = _inline_content(node.attribution) if node.attribution else "none"
        return f"#cv-quote({_content(_text(node.text))}, {attribution})"
    if isinstance(node, doc.PageBreak):
        return "" if nested else "#pagebreak(weak: true)"
    if isinstance(node, doc.Toc):
        toc = f"#cv-toc({typst_text(node.title)})"
        return toc if nested else toc + "\n#pagebreak(weak: true)"
    if isinstance(node, doc.Rule):
        return f'#cv-rule(style: "{node.style}")'
    if isinstance(node, doc.Group):
        style = node.style
        if style == "cover" and _cover_height_mm(node) > _PAGE_HEIGHT_MM:
            style = "cover-tight"
        group = f'#cv-group(style: "{style}")[\n{_blocks(node.content, nested=True)}\n]'
        if not nested and _starts_new_page(node):
            group = "#pagebreak(weak: true)\n" + group
        if not nested and node.style == "cover":
            group += "\n#pagebreak(weak: true)"  # the cover is a page of its own
        return group
    raise TypeError(f"Not a document block: {type(node).__name__}")


def to_typst(blocks) -> str:
    """Typst markup of a block, a sequence of blocks or a :class:`~doc.Section`, for the
    template ``templates/copeval.typ`` (all text as string literals)."""
    if isinstance(blocks, doc.Section):
        blocks = blocks.blocks
    if isinstance(blocks, doc.BLOCK_TYPES):
        blocks = (blocks,)
    return _blocks(blocks, nested=False) + ("\n" if blocks else "")
