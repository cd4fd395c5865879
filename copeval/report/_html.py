"""Small HTML builders of the comparative report until it moves to the document model
(:mod:`copeval.report.doc`); the site report no longer uses them. Delete with the last user."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd


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


# ------------------------------------------------------------------ legacy (comparative.py)
# The comparative report still builds HTML strings until it moves to copeval.report.base
# (helper C); these two keep its cover and method appendix working meanwhile. Delete them
# with this module.
def legacy_methods_appendix(
    t, params: dict, ci_text: str, lang: str, evidence_ref: str, command: str
) -> list[str]:
    """Appendix A as HTML strings (the old ``site.methods_appendix``)."""
    from .base import methods_appendix as _appendix

    section = _appendix(lang, params, ci_text, evidence_ref=evidence_ref, command=command)
    return [section.html()]


def legacy_cover_provenance(t, meta: dict, params: dict, ci_text: str, lang: str) -> list[str]:
    """Cover ``<dt>/<dd>`` pairs as HTML strings (the old ``site.cover_provenance``)."""
    from .base import project_title, toolkit_line

    parts = []
    title = project_title(meta, lang)
    if title:
        parts.append(f"<dt>{esc(t('cover.project'))}</dt><dd>{esc(title)}</dd>")
    parts.append(f"<dt>{esc(t('cover.toolkit'))}</dt><dd>{esc(toolkit_line(lang))}</dd>")
    return parts
