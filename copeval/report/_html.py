"""Small HTML builders shared by the report sections (escaping done here, once)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd

from copeval.vocabulary import RATING_BANDS
from copeval.vocabulary import band_index as _vocab_band_index

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


def _marks(r) -> str:
    """ "†" insufficient evidence, "‡" thin evidence (copeval.report.summary.flag_marks)."""
    from .summary import flag_marks

    return flag_marks(r)


def band_index(score) -> int | None:
    """Index 0..4 of the rating band of ``score`` (None when missing): the band of the
    printed value (``copeval.vocabulary.band_index``)."""
    return _vocab_band_index(score)


def chip(score, lang: str, *, dagger: bool | str = False) -> str:
    """A coloured label of the rating band (``aceptable``), or "no data"."""
    i = band_index(score)
    if i is None:
        return f'<span class="cv-chip cv-band-na">{esc(t("flag.no_data", lang))}</span>'
    label = RATING_BANDS[i][1] if lang == "en" else RATING_BANDS[i][2]
    mark = dagger if isinstance(dagger, str) else ("†" if dagger else "")
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


def heatmap_table(
    scores: pd.DataFrame,
    *,
    lang: str,
    site_names: dict,
    criteria: Sequence[str],
    highlight: str | None = None,
    caption: str = "",
) -> str:
    """Criteria x sites grid of ratings as an HTML table, each cell coloured by its band.

    The table form of :func:`copeval.report.figures.heatmap_figure` for a handful of sites:
    the same cells (score, dagger when flagged, level) and colours, as text that is sharp at
    any zoom, searchable and read by screen readers, and cheap to print (a figure with a
    hundred labels cost the site report 0.4 s to draw and as much again to print).

    ``scores`` has one row per site x criterion (``site_id``, ``criterion``, ``score`` and
    optionally ``flag``), rows in the order the sites are shown.
    """
    from .i18n import criterion_label

    sites = list(dict.fromkeys(scores["site_id"]))
    by_key = {(r.site_id, r.criterion): r for r in scores.itertuples(index=False)}
    head = "".join(f"<th>{esc(criterion_label(c, lang))}</th>" for c in criteria)
    body = []
    for site in sites:
        cells = []
        for c in criteria:
            r = by_key.get((site, c))
            score = None if r is None else r.score
            i = band_index(score)
            if i is None:
                cells.append(f'<td class="cv-band-na">{esc(t("fig.no_data", lang))}</td>')
                continue
            dagger = _marks(r)
            label = RATING_BANDS[i][1] if lang == "en" else RATING_BANDS[i][2]
            cells.append(
                f'<td class="cv-band-{i}">{esc(fmt_num(score, lang))}{dagger}'
                f"<br/><span>{esc(label)}</span></td>"
            )
        cls = ' class="cv-self"' if site == highlight else ""
        name = esc(site_names.get(site, site))
        body.append(f'<tr{cls}><th scope="row">{name}</th>{"".join(cells)}</tr>')
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (
        '<figure class="cv-figure"><table class="cv-heat"><thead><tr><th></th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{cap}</figure>"
    )


def coverage_table(evidence: pd.DataFrame, *, lang: str, caption: str = "") -> str:
    """Evidence coverage as an HTML table: sources (segments) per criterion x stratum.

    The table form of :func:`copeval.report.figures.coverage_figure` (same cells, same
    shading: darker blue for more sources, a dash where a group said nothing), for the
    reasons given in :func:`heatmap_table`.
    """
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    from copeval.vocabulary import CRITERIA, STRATA

    from .i18n import criterion_label, stratum_label

    def grid(column):
        return (
            evidence.groupby(["criterion", "stratum"])[column]
            .nunique()
            .unstack()
            .reindex(index=list(CRITERIA), columns=list(STRATA))
            .fillna(0)
            .astype(int)
        )

    n_src, n_seg = grid("source_id"), grid("segment_id")
    vmax = max(3.0, float(n_src.to_numpy().max()) if n_src.size else 3.0)
    blues = mpl.colormaps["Blues"]
    head = "".join(f"<th>{esc(stratum_label(g, lang))}</th>" for g in STRATA)
    body = []
    for c in CRITERIA:
        cells = []
        for g in STRATA:
            s, n = int(n_src.at[c, g]), int(n_seg.at[c, g])
            if s == 0:
                cells.append('<td class="cv-empty">—</td>')
                continue
            shade = 0.15 + 0.7 * s / vmax
            ink = "white" if shade > 0.55 else "var(--ink)"
            cells.append(
                f'<td style="background:{to_hex(blues(shade))};color:{ink}">{s} ({n})</td>'
            )
        body.append(
            f'<tr><th scope="row">{esc(criterion_label(c, lang))}</th>{"".join(cells)}</tr>'
        )
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (
        '<figure class="cv-figure"><table class="cv-heat cv-coverage"><thead><tr><th></th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{cap}</figure>"
    )


def forest_html(
    rows: pd.DataFrame, *, lang: str, criteria: Sequence[str], caption: str = ""
) -> str:
    """One site's ratings with their intervals over the five rating bands, in HTML and CSS.

    The HTML form of :func:`copeval.report.figures.forest_figure` for a single site (a dot
    per criterion, its interval as a bar, the score beside it; a hollow dot and a dagger
    when the evidence is insufficient), drawn by the page itself: nothing for matplotlib to
    draw or for WeasyPrint to lay out as an image, text that stays searchable, and 0.25 s
    less per report. ``rows`` has one row per criterion: ``criterion``, ``score``,
    ``lower``, ``upper`` and optionally ``flag``.
    """
    from .i18n import criterion_label

    def pct(value) -> str:
        return f"{100 * min(max(float(value), 0.0), 4.0) / 4:.2f}%"

    bands = "".join(
        f'<span style="left:{20 * i}%">{esc(en if lang == "en" else es)}</span>'
        for i, (_, en, es) in enumerate(RATING_BANDS)
    )
    body = [
        f'<tr class="cv-fx-head"><th></th><td><div class="cv-fx-labels">{bands}</div></td></tr>'
    ]
    by_criterion = {r.criterion: r for r in rows.itertuples(index=False)}
    for c in criteria:
        r = by_criterion.get(c)
        marks = ""
        if r is not None and pd.notna(r.score):
            mark = _marks(r)
            thin = bool(mark)
            if pd.notna(r.lower) and pd.notna(r.upper):
                width = f"{100 * (min(r.upper, 4) - max(r.lower, 0)) / 4:.2f}%"
                cls = "cv-fx-ci cv-fx-thin" if thin else "cv-fx-ci"
                marks += f'<span class="{cls}" style="left:{pct(r.lower)};width:{width}"></span>'
            marks += (
                f'<span class="cv-fx-dot{" cv-fx-hollow" if thin else ""}" '
                f'style="left:{pct(r.score)}"></span>'
            )
            at = r.upper if pd.notna(r.upper) else r.score
            marks += (
                f'<span class="cv-fx-value" style="left:{pct(min(at, 3.55))}">'
                f"{esc(fmt_num(r.score, lang))}{mark}</span>"
            )
        label = esc(criterion_label(c, lang))
        body.append(
            f'<tr><th scope="row">{label}</th><td><div class="cv-fx-track">{marks}</div></td></tr>'
        )
    ticks = "".join(
        f'<span style="left:{pct(v)}">{esc(fmt_num(v, lang))}</span>'
        for v in (0, 0.8, 1.6, 2.4, 3.2, 4.0)
    )
    body.append(
        f'<tr class="cv-fx-axis"><th></th><td><div class="cv-fx-ticks">{ticks}</div>'
        f'<div class="cv-fx-title">{esc(t("fig.axis.score", lang))}</div></td></tr>'
    )
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (
        f'<figure class="cv-figure"><table class="cv-forest">{"".join(body)}</table>{cap}</figure>'
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
