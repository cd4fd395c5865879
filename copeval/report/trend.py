"""Change since the previous evaluation round: select, word, render.

The content of every report's "change" part, built in the three steps of
``docs/architecture.md``:

1. **select** (language-neutral, testable without words): :func:`select_change` gives one
   row per criterion of a site: its rating and interval in each round, the change with its
   interval, the probabilities of an improvement and of a worsening
   (:func:`copeval.change.estimate_change`, through :meth:`ReportData.change`), the pairing
   used, the flags, and a ``certainty`` class; :func:`select_pairing` what was paired.
2. **word**: sentences and labels from :mod:`copeval.report.i18n` (``trend.*``); a
   probability is always said in words with its percentage ("very likely improved (99%)"),
   never as ``P(...)``.
3. **render**: :class:`copeval.report.doc.Section` objects: :func:`change_section` (site
   report), :func:`lead_change` (the sentence the executive summary leads with),
   :func:`trend_lines` (municipal brief) and :func:`change_grid` (comparative report).

The rules, deliberately simple so a reader can check them:

* a change is **reliable** when its interval excludes 0 and the probability of its
  direction is at least :data:`P_CLEAR` (0.9); the executive summary leads with the largest
  reliable change;
* words: reliable and at least :data:`P_SURE` (0.99): "almost certainly improved";
  reliable: "very likely improved"; probability of at least 0.9 but an interval that includes
  0: "probably improved, though the interval includes no change"; below 0.9: "no clear
  change", with the probability of an improvement;
* grid cells are shaded by ``certainty``: ``improved_sure`` / ``worsened_sure`` (reliable),
  ``improved_likely`` / ``worsened_likely`` (probability of :data:`P_LEANING` or more),
  ``unclear``, ``none`` (not rated in a round).

This module imports only the content layer (data, i18n, figures, doc, summary).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from copeval.vocabulary import CRITERIA, display_value

from . import doc
from .i18n import check_lang, criterion_label, fmt_num, fmt_pct, join_list, t, tn
from .summary import flag_marks

__all__ = [
    "CERTAINTY_FILLS",
    "SELECT_COLUMNS",
    "change_grid",
    "change_section",
    "lead_change",
    "select_change",
    "select_pairing",
    "trend_lines",
]

#: A direction is called when its probability reaches this (as copeval.change does).
P_CLEAR = 0.9
#: "almost certainly" from this probability on (a reliable change only).
P_SURE = 0.99
#: A grid cell leans towards a direction from this probability on.
P_LEANING = 0.75

#: Columns of :func:`select_change`, in order.
SELECT_COLUMNS = (
    "criterion",
    "round_from",
    "round_to",
    "score_from",
    "lower_from",
    "upper_from",
    "band_from",
    "score_to",
    "lower_to",
    "upper_to",
    "band_to",
    "change",
    "lower",
    "upper",
    "p_improved",
    "p_worsened",
    "direction",
    "reliable",
    "certainty",
    "pairing",
    "n_paired_sources",
    "n_paired_units",
    "basis_from",
    "basis_to",
    "basis_changed",
    "insufficient_from",
    "insufficient_to",
    "thin_from",
    "thin_to",
    "insufficient_evidence",
    "thin_evidence",
    "capped",
    "low_reliability",
    "no_evidence",
)

#: Cell colours per certainty class: (fill, ink). The blues and reds of the rating bands
#: (ColorBrewer RdYlBu, colour-blind safe), grey for no clear change; the legend shows
#: them as chips of the same colours (:data:`LEGEND_BANDS`).
CERTAINTY_FILLS = {
    "improved_sure": ("#2c7bb6", "#ffffff"),
    "improved_likely": ("#abd9e9", "#1f2d3d"),
    "unclear": ("#eef1f4", "#1f2d3d"),
    "worsened_likely": ("#fdae61", "#1f2d3d"),
    "worsened_sure": ("#d7191c", "#ffffff"),
    "none": ("#ffffff", "#6b7785"),
}
#: The rating band whose chip colour matches each certainty class (None: the grey chip).
LEGEND_BANDS = {
    "improved_sure": 4,
    "improved_likely": 3,
    "unclear": None,
    "worsened_likely": 1,
    "worsened_sure": 0,
}
#: Arrow shown beside a change that leans or is sure.
ARROWS = {"improved": "↑", "worsened": "↓"}


# ----------------------------------------------------------------------------- select
def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SELECT_COLUMNS})


def _certainty(row) -> str:
    if pd.isna(row["change"]) or pd.isna(row["p_improved"]):
        return "none"
    pi, pw = float(row["p_improved"]), float(row["p_worsened"])
    if pi >= P_CLEAR and row["lower"] > 0:
        return "improved_sure"
    if pw >= P_CLEAR and row["upper"] < 0:
        return "worsened_sure"
    if pi >= P_LEANING:
        return "improved_likely"
    if pw >= P_LEANING:
        return "worsened_likely"
    return "unclear"


def select_change(data, site_id: str, *, round_from=None, round_to=None) -> pd.DataFrame:
    """One row per criterion of ``site_id``: the change between two rounds (language-neutral).

    Default: from the previous round with evidence to the round ``data`` shows
    (:meth:`ReportData.change`). Columns (:data:`SELECT_COLUMNS`): the rating, interval and
    band in each round (``*_from``, ``*_to``); ``change`` (``score_to - score_from``),
    ``lower``, ``upper``, ``p_improved``, ``p_worsened`` and ``direction`` as
    :func:`copeval.change.estimate_change` gives them; ``reliable`` (interval excludes 0 and
    the direction's probability >= 0.9); ``certainty`` (see the module notes); the pairing
    used; the basis in each round; flags per round and for the change (true when true in
    either round). Empty (with these columns) when there is no earlier round to compare
    with: a project without rounds, or the first round shown.
    """
    site_id = data.check_site(site_id)
    change = data.change(round_from, round_to)
    if change is None:
        return _empty()
    ch = change[change["site_id"].astype(str) == site_id].set_index("criterion")
    rf, rt = str(change["round_from"].iloc[0]), str(change["round_to"].iloc[0])
    t_from = data.round_table(rf)
    t_to = data.round_table(rt)
    a = t_from[t_from["site_id"].astype(str) == site_id].set_index("criterion")
    b = t_to[t_to["site_id"].astype(str) == site_id].set_index("criterion")
    rows = []
    for c in CRITERIA:
        if c not in ch.index:
            continue
        r = ch.loc[c]
        ra = a.loc[c] if c in a.index else None
        rb = b.loc[c] if c in b.index else None

        def get(row, col, default=np.nan):
            if row is None or col not in row.index:
                return default
            return row[col]

        out = {
            "criterion": c,
            "round_from": rf,
            "round_to": rt,
            "score_from": float(get(ra, "score")),
            "lower_from": float(get(ra, "lower")),
            "upper_from": float(get(ra, "upper")),
            "band_from": get(ra, "band", None),
            "score_to": float(get(rb, "score")),
            "lower_to": float(get(rb, "lower")),
            "upper_to": float(get(rb, "upper")),
            "band_to": get(rb, "band", None),
        }
        for col in ("change", "lower", "upper", "p_improved", "p_worsened"):
            out[col] = float(r[col])
        out["direction"] = str(r["direction"])
        out["reliable"] = False
        out["certainty"] = _certainty(out)
        out["reliable"] = out["certainty"] in ("improved_sure", "worsened_sure")
        out["pairing"] = str(r["pairing"])
        out["n_paired_sources"] = int(r["n_paired_sources"])
        out["n_paired_units"] = int(r["n_paired_units"])
        out["basis_from"] = get(ra, "basis", None)
        out["basis_to"] = get(rb, "basis", None)
        out["basis_changed"] = bool(r["basis_changed"])
        for name, col in (("insufficient", "insufficient_evidence"), ("thin", "thin_evidence")):
            out[f"{name}_from"] = _flag(get(ra, col, False))
            out[f"{name}_to"] = _flag(get(rb, col, False))
        for col in (
            "insufficient_evidence",
            "thin_evidence",
            "capped",
            "low_reliability",
            "no_evidence",
        ):
            out[col] = bool(r[col])
        rows.append(out)
    if not rows:
        return _empty()
    return pd.DataFrame(rows, columns=list(SELECT_COLUMNS))


def _flag(value) -> bool:
    return bool(value) if not pd.isna(value) else False


def select_pairing(data, site_id: str, *, round_from=None, round_to=None) -> dict:
    """What the two rounds of ``site_id`` share (language-neutral).

    ``{"kinds": [...], "n_sources": int, "n_clusters": int, "n_respondents": int}``:
    ``kinds`` are the pairings the change estimates used (``sources``, ``clusters``,
    ``respondents``; empty: independent samples), from :func:`select_change`'s ``pairing``;
    the counts are read from the project: sources of the site with the same ``panel_id`` in
    both rounds, sampling clusters and survey respondents (per instrument) present in both.
    """
    sel = select_change(data, site_id, round_from=round_from, round_to=round_to)
    out = {"kinds": [], "n_sources": 0, "n_clusters": 0, "n_respondents": 0}
    if sel.empty:
        return out
    used = set()
    for value in sel["pairing"]:
        used |= {k for k in str(value).split("+") if k != "independent"}
    out["kinds"] = [k for k in ("sources", "clusters", "respondents") if k in used]
    rf, rt = sel["round_from"].iloc[0], sel["round_to"].iloc[0]
    project = data.all_rounds
    src = project.sources
    if "panel_id" in src.columns:
        src = src[(src["site_id"].astype(str) == site_id) & src["panel_id"].notna()]
        in_from = set(src.loc[src["round"].astype(str) == rf, "panel_id"].astype(str))
        in_to = set(src.loc[src["round"].astype(str) == rt, "panel_id"].astype(str))
        out["n_sources"] = len(in_from & in_to)
    for df in (project.responses or {}).values():
        if "round" not in df.columns:
            continue
        df = df[df["site_id"].astype(str) == site_id]
        a, b = df[df["round"].astype(str) == rf], df[df["round"].astype(str) == rt]
        out["n_respondents"] += len(
            set(a["respondent_id"].astype(str)) & set(b["respondent_id"].astype(str))
        )
        if "cluster" in df.columns:
            out["n_clusters"] += len(
                set(a["cluster"].dropna().astype(str)) & set(b["cluster"].dropna().astype(str))
            )
    return out


# ------------------------------------------------------------------------------- words
def _pct(p: float, lang: str) -> str:
    """A probability as a percentage; above 0.995 "over 99%" (never "100%")."""
    if p >= 0.995:
        return t("trend.pct.over", lang)
    return fmt_pct(p, lang)


def _signed(x: float, lang: str) -> str:
    """``+1.1`` / ``−0.3`` / ``0.0`` (a true minus sign)."""
    text = fmt_num(abs(x), lang)
    if text == fmt_num(0.0, lang):
        return text
    return ("+" if x > 0 else "−") + text


def _shown_change(row) -> float:
    """The change as printed: the difference of the two printed ratings (so that "0.8 → 1.9,
    change +1.1" always adds up)."""
    return display_value(row["score_to"]) - display_value(row["score_from"])


def _interval(row, lang: str) -> str:
    return t(
        "trend.interval",
        lang,
        lower=_signed(row["lower"], lang),
        upper=_signed(row["upper"], lang),
    )


def _word_key(row) -> tuple[str, float]:
    """(``trend.words.*`` suffix, probability said) of a selected row."""
    if row["certainty"] == "none":
        return "none", float("nan")
    pi, pw = float(row["p_improved"]), float(row["p_worsened"])
    for way, p in (("improved", pi), ("worsened", pw)):
        if row["certainty"] == f"{way}_sure":
            return (f"{way}.sure" if p >= P_SURE else way), p
        if p >= P_CLEAR:
            return f"{way}.open", p
    return "unclear", pi


def change_words(row, lang: str, data=None) -> str:
    """The change of one selected row in words with its probability: "very likely improved
    (99%)", "no clear change (probability of an improvement 28%)"."""
    key, p = _word_key(row)
    if key == "none":
        missing = row["round_from"] if pd.isna(row["score_from"]) else row["round_to"]
        label = data.round_label(missing, lang) if data is not None else missing
        return t("trend.words.none", lang, label=label)
    return t(f"trend.words.{key}", lang, pct=_pct(p, lang))


def short_words(row, lang: str) -> str:
    """The change of one selected row in a few words, no number ("very likely improved")."""
    key, _ = _word_key(row)
    return t(f"trend.words.short.{key}", lang)


def _marks(row, which: str) -> str:
    return flag_marks(
        {
            "insufficient_evidence": row[f"insufficient_{which}"],
            "thin_evidence": row[f"thin_{which}"],
        }
    )


def change_sentence(row, lang: str, *, ci_text: str, data=None) -> str:
    """One criterion's change as a sentence (see :func:`change_section`)."""
    crit = criterion_label(row["criterion"], lang)
    words = change_words(row, lang, data)
    if row["certainty"] == "none":
        return f"{crit}: {words}."
    return t(
        "trend.sentence",
        lang,
        criterion=crit,
        words=words,
        from_=fmt_num(row["score_from"], lang) + _marks(row, "from"),
        to=fmt_num(row["score_to"], lang) + _marks(row, "to"),
        round_from=_inline_label(round_name(data, row["round_from"], lang), lang),
        round_to=_inline_label(round_name(data, row["round_to"], lang), lang),
        change=_signed(_shown_change(row), lang),
        ci=ci_text,
        interval=_interval(row, lang),
    )


def round_name(data, round_id: str, lang: str) -> str:
    """A round as sentences and axes name it: its ID when the ID starts with a year
    ("2017", "2026-1"), else its label ("Round 2 (synthetic)"); IDs such as "1" or "b" mean
    nothing to a reader."""
    rid = str(round_id)
    if len(rid) >= 4 and rid[:4].isdigit():
        return rid
    return data.round_label(rid, lang) if data is not None else rid


def _inline_label(label: str, lang: str) -> str:
    """A round label inside a Spanish heading or sentence starts in lower case ("Cambio
    desde línea de base 2017"), unless its first word is an acronym or a number."""
    if lang == "es" and label[:1].isupper() and label[1:2].islower():
        return label[0].lower() + label[1:]
    return label


def _pairing_text(pairing: dict, lang: str) -> str:
    parts = []
    if "sources" in pairing["kinds"]:
        parts.append(tn("trend.pairing.sources", pairing["n_sources"], lang))
    if "clusters" in pairing["kinds"]:
        parts.append(tn("trend.pairing.clusters", pairing["n_clusters"], lang))
    if "respondents" in pairing["kinds"]:
        parts.append(tn("trend.pairing.respondents", pairing["n_respondents"], lang))
    if not parts:
        what = t("trend.pairing.independent", lang)
    else:
        what = f"{join_list(parts, lang)}; {t('trend.pairing.used', lang)}"
    return t("trend.pairing.intro", lang, what=what)


def _once_text(data, site_id: str, lang: str) -> str | None:
    """Why there is no change to show for ``site_id`` (None when there is one)."""
    name = data.site_names[site_id]
    if not data.rounds:
        period = data.project.meta.get("period")
        from .i18n import fmt_period

        return t("trend.once.project", lang, site=name, when=fmt_period(period, lang))
    prev = data.previous_round()
    if prev is None:
        return t("trend.once.first", lang, site=name, label=data.round_label(data.round, lang))
    sel = select_change(data, site_id)
    if sel.empty or sel["score_from"].isna().all() or sel["score_to"].isna().all():
        rated_to = not sel.empty and sel["score_to"].notna().any()
        shown, other = (data.round, prev) if rated_to or sel.empty else (prev, data.round)
        return t(
            "trend.once.site",
            lang,
            site=name,
            label=data.round_label(shown, lang),
            other=data.round_label(other, lang),
        )
    return None


# ------------------------------------------------------------------------------ render
def _round_rows(data, site_id: str, upto: str) -> pd.DataFrame:
    """The site's ratings in every round with evidence up to ``upto`` (for the wave plot)."""
    order = data.rounds
    frames = []
    for rnd in data.scored_rounds:
        if order.index(rnd) > order.index(upto):
            continue
        tab = data.round_table(rnd)
        frames.append(tab[tab["site_id"].astype(str) == site_id].assign(round=rnd))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _rating_cell(score, lower, upper, marks: str, lang: str) -> doc.Cell:
    if pd.isna(score):
        return doc.Cell(t("word.not_available", lang), align="center")
    return doc.Cell(
        doc.Strong(fmt_num(score, lang) + marks),
        " ",
        doc.Span(f"({fmt_num(lower, lang)}–{fmt_num(upper, lang)})", "small"),
    )


def change_section(data, site_id: str, lang: str, *, ci_text: str) -> doc.Section:
    """The site report's "Change since <previous round>" section.

    A heading with the previous round's label; a wave plot (every round's rating with its
    interval, :func:`copeval.report.figures.wave_figure`); a table (criterion, rating in each
    round with its interval, the change with its interval, in words); one sentence per
    criterion (improved / worsened / no clear change, with its probability in words); the
    pairing used, in plain words; flags. A project without rounds, the first round, or a
    site measured in one round only: a short section saying so (never an empty section).
    ``ci_text`` is the interval level as printed (``"90%"``).
    """
    check_lang(lang)
    site_id = data.check_site(site_id)
    once = _once_text(data, site_id, lang)
    if once is not None:
        return doc.Section(
            doc.Heading(2, t("trend.title.once", lang), "change"),
            doc.Para(once),
        )
    sel = select_change(data, site_id)
    rf, rt = sel["round_from"].iloc[0], sel["round_to"].iloc[0]
    label_from, label_to = data.round_label(rf, lang), data.round_label(rt, lang)
    blocks: list = [
        doc.Heading(2, t("trend.title", lang, label=_inline_label(label_from, lang)), "change"),
        doc.Para(
            t(
                "trend.intro",
                lang,
                ci=ci_text,
                from_=_inline_label(label_from, lang),
                to=_inline_label(label_to, lang),
            )
        ),
    ]
    waves = _round_rows(data, site_id, rt)
    if len(waves):
        from . import figures

        shown = [r for r in data.scored_rounds if r in set(waves["round"])]
        names = {r: round_name(data, r, lang) for r in shown}
        rounds_text = join_list([_inline_label(names[r], lang) for r in shown], lang)
        fig = figures.wave_figure(waves, lang=lang, rounds=shown, round_labels=names)
        blocks.append(
            doc.Figure.from_matplotlib(
                fig,
                alt=t("trend.fig.alt", lang, rounds=rounds_text),
                caption=t("trend.fig.caption", lang, rounds=rounds_text, ci=ci_text),
            )
        )
    table_rows = []
    for _, row in sel.iterrows():
        certainty = row["certainty"]
        fill, ink = CERTAINTY_FILLS[certainty]
        if certainty == "none":
            change_cell = doc.Cell(t("word.not_available", lang), align="center")
        else:
            change_cell = doc.Cell(
                doc.Strong(_signed(_shown_change(row), lang)),
                f" ({_interval(row, lang)})",  # plain: readable on the cell's fill
                fill=fill,
                ink=ink,
                align="center",  # clear of the fill's edges
            )
        table_rows.append(
            [
                criterion_label(row["criterion"], lang),
                _rating_cell(
                    row["score_from"],
                    row["lower_from"],
                    row["upper_from"],
                    _marks(row, "from"),
                    lang,
                ),
                _rating_cell(
                    row["score_to"], row["lower_to"], row["upper_to"], _marks(row, "to"), lang
                ),
                change_cell,
                change_words(row, lang, data),
            ]
        )
    blocks.append(
        doc.Table(
            [
                t("trend.col.criterion", lang),
                label_from,
                label_to,
                t("trend.col.change", lang, ci=ci_text),
                t("trend.col.words", lang),
            ],
            table_rows,
            style="compact",
            widths=(0.27, 0.15, 0.15, 0.18, 0.25),
        )
    )
    blocks.append(
        doc.Bullets(
            [change_sentence(r, lang, ci_text=ci_text, data=data) for _, r in sel.iterrows()]
        )
    )
    blocks.append(doc.Para(_pairing_text(select_pairing(data, site_id), lang), style="note"))
    notes = []
    if sel["insufficient_evidence"].any():
        notes.append(t("trend.flag.insufficient", lang))
    if sel["thin_evidence"].any():
        notes.append(t("trend.flag.thin", lang))
    for _, row in sel[sel["basis_changed"]].iterrows():
        notes.append(
            criterion_label(row["criterion"], lang)
            + ": "
            + t(
                "trend.flag.basis",
                lang,
                from_=t(f"trend.basis.{row['basis_from']}", lang),
                to=t(f"trend.basis.{row['basis_to']}", lang),
            )
        )
    if notes:
        blocks.append(doc.Para(" ".join(notes), style="small"))
    return doc.Section(*blocks)


def lead_change(data, site_id: str, lang: str) -> str | None:
    """The sentence the executive summary leads with: the largest reliable change of the
    site since the previous round (interval excluding 0 and probability >= 0.9; the largest
    in absolute value among C1..C4, AT only when none of them changed reliably, as AT is
    auxiliary), or None when there is none."""
    check_lang(lang)
    sel = select_change(data, site_id)
    sel = sel[sel["reliable"].astype(bool)] if not sel.empty else sel
    if sel.empty:
        return None
    core = sel[sel["criterion"] != "AT"]
    sel = core if len(core) else sel
    row = sel.loc[sel["change"].abs().idxmax()]
    ci_text = fmt_pct(float(data.params["ci"]), lang)
    return t(
        "trend.lead",
        lang,
        label=_inline_label(data.round_label(row["round_from"], lang), lang),
        criterion=criterion_label(row["criterion"], lang),
        words=change_words(row, lang, data),
        from_=fmt_num(row["score_from"], lang),
        to=fmt_num(row["score_to"], lang),
        change=_signed(_shown_change(row), lang),
        ci=ci_text,
        interval=_interval(row, lang),
    )


def trend_lines(data, site_id: str, lang: str) -> doc.Section:
    """The municipal brief's trend: a heading and one line per criterion
    ("C4 Analysis of conditions: 0.8 → 1.9, very likely improved"); a site measured once:
    one line saying so."""
    check_lang(lang)
    site_id = data.check_site(site_id)
    once = _once_text(data, site_id, lang)
    if once is not None:
        return doc.Section(
            doc.Heading(3, t("trend.title.once", lang), "change-brief"),
            doc.Para(t("trend.brief.once", lang), style="small"),
        )
    sel = select_change(data, site_id)
    label = data.round_label(sel["round_from"].iloc[0], lang)
    lines = []
    for _, row in sel.iterrows():
        crit = criterion_label(row["criterion"], lang)
        if row["certainty"] == "none":
            lines.append(f"{crit}: {change_words(row, lang, data)}")
            continue
        then = fmt_num(row["score_from"], lang) + _marks(row, "from")
        now = fmt_num(row["score_to"], lang) + _marks(row, "to")
        lines.append(f"{crit}: {then} → {now}, {short_words(row, lang)}")
    return doc.Section(
        doc.Heading(3, t("trend.title", lang, label=_inline_label(label, lang)), "change-brief"),
        doc.Bullets(lines),
    )


def _legend(lang: str) -> doc.Para:
    """The key of the grid's colours: one chip per certainty class, then the rule."""
    parts: list = [t("trend.legend.title", lang), " "]
    for key, band in LEGEND_BANDS.items():
        way = key.split("_")[0]
        arrow = ARROWS.get(way, "") if key != "unclear" else ""
        text = f"{arrow} {t(f'trend.legend.{key}', lang)}".strip()
        parts += [doc.Chip(text, band), " "]
    parts.append(t("trend.legend.rule", lang))
    return doc.Para(*parts, style="legend")


def change_grid(data, sites, lang: str) -> doc.Section:
    """The comparative report's sites x criteria grid of changes since the previous round:
    each cell the change as printed with an arrow when it leans or is sure, shaded by
    direction and certainty (:data:`CERTAINTY_FILLS`), with a legend. Sites measured once
    are listed as such; a project without rounds (or its first round): one sentence."""
    check_lang(lang)
    sites = [data.check_site(s) for s in sites]
    change = data.change()
    if change is None:
        return doc.Section(
            doc.Heading(2, t("trend.title.once", lang), "change-grid"),
            doc.Para(t("trend.grid.none", lang)),
        )
    rf, rt = str(change["round_from"].iloc[0]), str(change["round_to"].iloc[0])
    label_from, label_to = data.round_label(rf, lang), data.round_label(rt, lang)
    criteria = [c for c in CRITERIA if c in set(change["criterion"])]
    rows, once = [], []
    for site in sites:
        sel = select_change(data, site)
        if sel.empty or sel["score_from"].isna().all() or sel["score_to"].isna().all():
            once.append(site)
            continue
        by = sel.set_index("criterion")
        cells = [data.site_names[site]]
        for c in criteria:
            if c not in by.index or by.loc[c, "certainty"] == "none":
                cells.append(doc.Cell("—", band="na"))
                continue
            row = by.loc[c]
            fill, ink = CERTAINTY_FILLS[row["certainty"]]
            way = row["certainty"].split("_")[0]
            arrow = ARROWS.get(way, "") if row["certainty"] != "unclear" else ""
            text = _signed(_shown_change(row), lang) + (f" {arrow}" if arrow else "")
            cells.append(doc.Cell(text, fill=fill, ink=ink, align="center"))
        rows.append(cells)
    blocks: list = [
        doc.Heading(
            2, t("trend.grid.title", lang, label=_inline_label(label_from, lang)), "change-grid"
        ),
        doc.Para(
            t(
                "trend.grid.intro",
                lang,
                from_=_inline_label(label_from, lang),
                to=_inline_label(label_to, lang),
            )
        ),
    ]
    if rows:
        blocks.append(
            doc.Table(
                [t("trend.grid.site", lang), *(criterion_label(c, lang) for c in criteria)],
                rows,
                style="heat",
                row_header=True,
            )
        )
        blocks.append(_legend(lang))
    if once:
        names = join_list([data.site_names[s] for s in once], lang)
        blocks.append(
            doc.Para(tn("trend.grid.once_count", len(once), lang, names=names), style="note")
        )
    return doc.Section(*blocks)
