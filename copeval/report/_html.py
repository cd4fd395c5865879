"""Small HTML builders shared by the report sections (escaping done here, once)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd

from copeval.vocabulary import RATING_BANDS

from .i18n import fmt_num, t


class Block:
    """A piece of report HTML. Displays as HTML in Jupyter; ``str()`` gives the markup."""

    def __init__(self, markup: str):
        self.html = markup

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<Block: {len(self.html)} characters of HTML>"

    def __add__(self, other: Block) -> Block:
        return Block(self.html + str(other))


def esc(value) -> str:
    """HTML-escaped text of ``value`` (missing values give an empty string)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def heading(level: int, text: str, anchor: str, *, newpage: bool = False) -> str:
    """A section heading that the table of contents picks up (levels 2 and 3)."""
    cls = "cv-h cv-newpage" if newpage else "cv-h"
    return f'<h{level} class="{cls}" id="{esc(anchor)}">{esc(text)}</h{level}>'


def p(text: str, cls: str | None = None, *, raw: bool = False) -> str:
    body = text if raw else esc(text)
    return f'<p class="{cls}">{body}</p>' if cls else f"<p>{body}</p>"


def band_index(score) -> int | None:
    """Index 0..4 of the rating band of ``score`` (None when missing)."""
    if score is None or pd.isna(score):
        return None
    for i, (upper, _, _) in enumerate(RATING_BANDS):
        if score < upper:
            return i
    return len(RATING_BANDS) - 1


def chip(score, lang: str, *, dagger: bool = False) -> str:
    """A coloured label of the rating band (``aceptable``), or "no data"."""
    i = band_index(score)
    if i is None:
        return f'<span class="cv-chip cv-band-na">{esc(t("flag.no_data", lang))}</span>'
    label = RATING_BANDS[i][1] if lang == "en" else RATING_BANDS[i][2]
    mark = "†" if dagger else ""
    return f'<span class="cv-chip cv-band-{i}">{esc(label)}{mark}</span>'


def score_text(score, lang: str) -> str:
    return fmt_num(score, lang)


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    cls: str | None = None,
) -> str:
    """A table; cells are raw HTML (escape with :func:`esc` first)."""
    num = set(numeric)
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in num else f"<th>{esc(h)}</th>"
        for i, h in enumerate(header)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{c}</td>' if i in num else f"<td>{c}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def docinfo(*, title: str, lang: str, running: str, footer: str = "") -> str:
    """The hidden element from which the exporter takes title, language and page furniture."""
    return (
        f'<div class="cv-docinfo" data-title="{esc(title)}" data-lang="{esc(lang)}" '
        f'data-running="{esc(running)}" data-footer="{esc(footer)}"></div>'
    )
