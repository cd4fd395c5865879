"""Report figures: tidy DataFrames in, matplotlib figures out, labels in Spanish or English.

Every function takes the data first and returns a :class:`matplotlib.figure.Figure` built
without ``pyplot`` (no global figure registry, no backend switching) inside an
``rc_context``, so figures never leak state into the next report run in the same kernel.
:func:`figure_to_svg` and :func:`figure_html` turn a figure into a crisp, deterministic SVG
(text kept as text in DejaVu Sans: small files, sharp at any zoom, searchable in the PDF).
"""

from __future__ import annotations

import base64
import html
import io
import textwrap

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from copeval.errors import CopevalError
from copeval.vocabulary import CRITERIA, RATING_BANDS, STRATA, band_index, rating_label

from .i18n import STRINGS, criterion_label, fmt_num, stratum_label, t

__all__ = [
    "BAND_COLORS",
    "coverage_figure",
    "figure_html",
    "figure_to_svg",
    "forest_figure",
    "heatmap_figure",
    "likert_figure",
    "site_palette",
    "wave_figure",
]

#: One colour per rating band (absent .. strong): ColorBrewer RdYlBu, colour-blind safe.
BAND_COLORS = ("#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6")
#: Five answer levels of the diverging Likert bars (very unfavourable .. very favourable).
LIKERT_COLORS = ("#ca0020", "#f4a582", "#d9d9d9", "#92c5de", "#0571b0")
#: Site colours, given out by :func:`site_palette` (never by a site's place in one figure).
SITE_COLORS = ("#1b4f72", "#c0392b", "#1e8449", "#7d3c98", "#b9770e", "#2e4053", "#148f77")
INK = "#1f2d3d"
MUTED = "#6b7785"

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": INK,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    "svg.fonttype": "none",
    "svg.hashsalt": "copeval",
    # labels are data (site names, item wordings): "$" is printed, never parsed as mathtext
    # (an unknown command in "$…$" raised ValueError and failed the whole report)
    "text.parse_math": False,
}


def _require(df: pd.DataFrame, columns, name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise CopevalError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CopevalError(
            f"{name} lacks column(s) {', '.join(missing)}. "
            f"Available columns: {', '.join(map(str, df.columns))}"
        )


def _criteria_in(values) -> list[str]:
    present = set(values)
    return [c for c in CRITERIA if c in present]


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _band_label(score: float, lang: str) -> str:
    """Band of the printed value (one rule everywhere: copeval.vocabulary.rating_label)."""
    return rating_label(score, lang)


def _marks(row) -> str:
    """ "†" insufficient evidence, "‡" thin evidence (see report.summary.flag_marks)."""
    from .summary import flag_marks

    return flag_marks(row)


def _site_names(site_ids, site_names) -> dict:
    names = dict(site_names or {})
    return {s: names.get(s, s) for s in site_ids}


def site_palette(site_ids) -> dict:
    """One colour per site, the same in every figure: ``{site_id: "#rrggbb"}``.

    Colours follow the sorted site IDs (:data:`SITE_COLORS`, repeated after seven sites), so
    a site keeps its colour whatever order a figure lists the sites in. Pass the project's
    site IDs (``data.site_names``) and hand the result to every figure that colours sites
    (``palette=``): a figure of a few of them then keeps each site's colour too.
    """
    ids = sorted({str(s) for s in site_ids})
    return {s: SITE_COLORS[i % len(SITE_COLORS)] for i, s in enumerate(ids)}


# ------------------------------------------------------------------------------- heatmap
def heatmap_figure(
    scores: pd.DataFrame,
    *,
    lang: str = "en",
    site_names: dict | None = None,
    highlight: str | None = None,
    criteria=None,
) -> Figure:
    """Criteria x sites heatmap of ratings, each cell labelled with score and level.

    Parameters
    ----------
    scores : DataFrame
        One row per site x criterion with columns ``site_id``, ``criterion``, ``score``
        (0-4, may be missing) and optionally ``insufficient_evidence`` and ``thin_evidence``
        (marked † and ‡). Cells are coloured by the band of the printed value.
    lang : {"en", "es"}
    site_names : dict, optional
        ``site_id -> display name``; default the IDs.
    highlight : str, optional
        A site ID drawn in bold (the report's own site).
    criteria : sequence, optional
        Criteria to show, in order; default those present, in the order C1..C4, AT.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(scores, ["site_id", "criterion", "score"], "scores")
    criteria = list(criteria) if criteria is not None else _criteria_in(scores["criterion"])
    sites = list(dict.fromkeys(scores["site_id"]))
    names = _site_names(sites, site_names)
    grid = scores.pivot_table(
        index="site_id", columns="criterion", values="score", aggfunc="first", dropna=False
    ).reindex(index=sites, columns=criteria)
    marks = {(r["site_id"], r["criterion"]): _marks(r) for _, r in scores.iterrows()}

    n_rows, n_cols = len(sites), len(criteria)
    cell_h = 0.42 if n_rows <= 12 else max(0.16, 5.0 / n_rows)
    label_w = min(2.6, 0.9 + 0.07 * max((len(v) for v in names.values()), default=4))
    width = label_w + 1.15 * n_cols
    height = 1.05 + cell_h * n_rows
    cmap = ListedColormap(BAND_COLORS)
    norm = BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5, 4.5], cmap.N)  # band indices
    small = n_rows > 25
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.add_subplot()
        values = grid.to_numpy(dtype=float)
        bands = np.vectorize(
            lambda v: np.nan if np.isnan(v) else float(band_index(v)), otypes=[float]
        )(values)
        masked = np.ma.masked_invalid(bands.astype(float))
        ax.imshow(masked, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        ax.set_facecolor("#eef1f4")
        for i in range(n_rows):
            for j in range(n_cols):
                v = values[i, j]
                if np.isnan(v):
                    txt = t("fig.no_data", lang)
                    color = MUTED
                else:
                    dagger = marks.get((sites[i], criteria[j]), "")
                    txt = f"{fmt_num(v, lang)}{dagger}"
                    if not small:
                        txt += f"\n{_band_label(v, lang)}"
                    color = "white" if bands[i, j] in (0, 4) else INK
                ax.text(
                    j,
                    i,
                    txt,
                    ha="center",
                    va="center",
                    fontsize=6 if small else 7.5,
                    color=color,
                    linespacing=1.15,
                )
        ax.set_xticks(range(n_cols))
        ax.set_xticklabels([_wrap(criterion_label(c, lang), 16) for c in criteria], fontsize=7.5)
        ax.xaxis.tick_top()
        ax.set_yticks(range(n_rows))
        ax.set_yticklabels([names[s] for s in sites], fontsize=6 if small else 8)
        for tick, s in zip(ax.get_yticklabels(), sites, strict=True):
            if s == highlight:
                tick.set_fontweight("bold")
        ax.tick_params(length=0)
        ax.set_xticks(np.arange(-0.5, n_cols), minor=True)
        ax.set_yticks(np.arange(-0.5, n_rows), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if highlight in sites:
            i = sites.index(highlight)
            ax.add_patch(
                Rectangle((-0.5, i - 0.5), n_cols, 1, fill=False, edgecolor=INK, linewidth=1.6)
            )
    return fig


# ------------------------------------------------------------------------------- forest
def forest_figure(
    scores: pd.DataFrame,
    *,
    lang: str = "en",
    site_names: dict | None = None,
    criteria=None,
    palette: dict | None = None,
) -> Figure:
    """Interval ("forest") plot: each criterion's score with its interval, over rating bands.

    Parameters
    ----------
    scores : DataFrame
        Columns ``site_id``, ``criterion``, ``score``, ``lower``, ``upper`` and optionally
        ``insufficient_evidence``, ``thin_evidence`` (hollow dot, † / ‡). With one site, one row per criterion; with several, the sites are offset
        within each criterion and told apart by colour (legend below).
    lang : {"en", "es"}
    site_names : dict, optional
        ``site_id -> display name``.
    criteria : sequence, optional
        Criteria to show, top to bottom.
    palette : dict, optional
        ``site_id -> colour`` (:func:`site_palette` of the project's sites); default the
        palette of the sites shown.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(scores, ["site_id", "criterion", "score", "lower", "upper"], "scores")
    criteria = list(criteria) if criteria is not None else _criteria_in(scores["criterion"])
    sites = list(dict.fromkeys(scores["site_id"]))
    names = _site_names(sites, site_names)
    colors = {**site_palette(sites), **(palette or {})}
    n_sites = len(sites)
    many = n_sites > len(SITE_COLORS)
    row_h = 0.42 if n_sites == 1 else min(1.6, 0.16 * n_sites + 0.25)
    height = 0.9 + row_h * len(criteria) + (0.35 if n_sites > 1 and not many else 0)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.6, height), layout="constrained")
        ax = fig.add_subplot()
        lowers = [0.0] + [b[0] for b in RATING_BANDS[:-1]]
        for (lo, (hi, en, es)), color in zip(
            zip(lowers, RATING_BANDS, strict=True), BAND_COLORS, strict=True
        ):
            ax.axvspan(lo, hi, color=color, alpha=0.22, linewidth=0)
            ax.text(
                (lo + hi) / 2,
                1.005,
                en if lang == "en" else es,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=7,
                color=MUTED,
            )
        span = 0.62
        offsets = np.zeros(1) if n_sites == 1 else np.linspace(-span / 2, span / 2, n_sites)
        by_key = scores.set_index(["site_id", "criterion"])
        for k, site in enumerate(sites):
            color = INK if n_sites == 1 else colors[str(site)]
            for i, c in enumerate(criteria):
                if (site, c) not in by_key.index:
                    continue
                row = by_key.loc[(site, c)]
                if isinstance(row, pd.DataFrame):
                    row = row.iloc[0]
                y = i + offsets[k]
                if pd.isna(row["score"]):
                    continue
                mark = _marks(row)
                flagged = bool(mark)
                if pd.notna(row["lower"]) and pd.notna(row["upper"]):
                    ax.plot(
                        [row["lower"], row["upper"]],
                        [y, y],
                        color=color,
                        linewidth=2.2 if n_sites < 10 else 1.2,
                        solid_capstyle="round",
                        alpha=0.55 if flagged else 1,
                    )
                ax.plot(
                    row["score"],
                    y,
                    marker="o",
                    markersize=6.5 if n_sites < 10 else 3.5,
                    markerfacecolor="white" if flagged else color,
                    markeredgecolor=color,
                    markeredgewidth=1.6,
                    linestyle="none",
                )
                if n_sites == 1:
                    ax.text(
                        min(row["upper"] if pd.notna(row["upper"]) else row["score"], 3.55) + 0.08,
                        y,
                        fmt_num(row["score"], lang) + mark,
                        va="center",
                        fontsize=8,
                        color=INK,
                        fontweight="bold",
                    )
        ax.set_yticks(range(len(criteria)))
        ax.set_yticklabels([_wrap(criterion_label(c, lang), 24) for c in criteria])
        ax.set_ylim(len(criteria) - 0.5, -0.5)
        ax.set_xlim(0, 4)
        ax.set_xticks([0, 0.8, 1.6, 2.4, 3.2, 4.0])
        ax.set_xlabel(t("fig.axis.score", lang))
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        if n_sites > 1 and not many:
            handles = [
                mpl.lines.Line2D([], [], color=colors[str(s)], marker="o", linewidth=2)
                for s in sites
            ]
            fig.legend(
                handles,
                [names[s] for s in sites],
                loc="outside lower center",
                ncols=min(n_sites, 4),
                frameon=False,
                fontsize=8,
            )
    return fig


# ------------------------------------------------------------------------------- waves
def wave_figure(
    ratings: pd.DataFrame,
    *,
    lang: str = "en",
    rounds=None,
    round_labels: dict | None = None,
    criteria=None,
    site_names: dict | None = None,
    palette: dict | None = None,
) -> Figure:
    """Ratings round by round ("wave plot", as LAPOP's ``lpr_ts``): one panel per criterion,
    the rounds along the x axis, each rating a dot with its interval, consecutive rounds
    joined by a line, over the five rating bands.

    Parameters
    ----------
    ratings : DataFrame
        One row per round x criterion (x site): ``round``, ``criterion``, ``score``,
        ``lower``, ``upper`` and optionally ``site_id`` (several sites: offset within each
        round, told apart by colour, legend below), ``insufficient_evidence`` and
        ``thin_evidence`` (hollow dot, † / ‡). A missing score leaves its round empty.
    lang : {"en", "es"}
    rounds : sequence, optional
        Rounds along the x axis, oldest first; default the order of ``ratings``.
    round_labels : dict, optional
        ``round -> tick label`` (keep them short; default the round IDs).
    criteria : sequence, optional
        One panel each, left to right; default those present, C1..C4, AT.
    site_names, palette : dict, optional
        Display names and colours (:func:`site_palette`) of the sites.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require(ratings, ["round", "criterion", "score", "lower", "upper"], "ratings")
    df = ratings.copy()
    df["round"] = df["round"].astype(str)
    if "site_id" not in df.columns:
        df["site_id"] = ""
    rounds = [str(r) for r in rounds] if rounds is not None else list(dict.fromkeys(df["round"]))
    criteria = list(criteria) if criteria is not None else _criteria_in(df["criterion"])
    labels = {r: str((round_labels or {}).get(r, r)) for r in rounds}
    sites = list(dict.fromkeys(df["site_id"]))
    n_sites = len(sites)
    names = _site_names(sites, site_names)
    colors = {**site_palette(sites), **(palette or {})}
    span = 0.36 if n_sites > 1 else 0.0
    offsets = np.linspace(-span / 2, span / 2, n_sites) if n_sites > 1 else np.zeros(1)
    n_panels = max(len(criteria), 1)
    legend = 1 < n_sites <= len(SITE_COLORS)
    height = 2.55 + (0.3 if legend else 0)
    lowers = [0.0] + [b[0] for b in RATING_BANDS[:-1]]
    by_key = df.set_index(["site_id", "criterion", "round"]).sort_index()
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.6, height), layout="constrained")
        axes = fig.subplots(1, n_panels, sharey=True, squeeze=False)[0]
        for j, (ax, c) in enumerate(zip(axes, criteria, strict=False)):
            for (lo, (hi, _, _)), color in zip(
                zip(lowers, RATING_BANDS, strict=True), BAND_COLORS, strict=True
            ):
                ax.axhspan(lo, hi, color=color, alpha=0.22, linewidth=0)
            for k, site in enumerate(sites):
                color = INK if n_sites == 1 else colors[str(site)]
                xs, ys = [], []
                for i, rnd in enumerate(rounds):
                    key = (site, c, rnd)
                    if key not in by_key.index:
                        continue
                    row = by_key.loc[key]
                    if isinstance(row, pd.DataFrame):
                        row = row.iloc[0]
                    if pd.isna(row["score"]):
                        continue
                    x = i + offsets[k]
                    mark = _marks(row)
                    if pd.notna(row["lower"]) and pd.notna(row["upper"]):
                        ax.plot(
                            [x, x],
                            [row["lower"], row["upper"]],
                            color=color,
                            linewidth=2.2 if n_sites < 6 else 1.2,
                            solid_capstyle="round",
                            alpha=0.55 if mark else 1,
                        )
                    ax.plot(
                        x,
                        row["score"],
                        marker="o",
                        markersize=6 if n_sites < 6 else 3.5,
                        markerfacecolor="white" if mark else color,
                        markeredgecolor=color,
                        markeredgewidth=1.5,
                        linestyle="none",
                        zorder=3,
                    )
                    if n_sites == 1:
                        first = i == 0 and len(rounds) > 1  # label away from the line
                        ax.text(
                            x - 0.12 if first else x + 0.12,
                            row["score"],
                            fmt_num(row["score"], lang) + mark,
                            va="center",
                            ha="right" if first else "left",
                            fontsize=7.5,
                            fontweight="bold",
                            color=INK,
                        )
                    xs.append(x)
                    ys.append(float(row["score"]))
                if len(xs) > 1:
                    ax.plot(xs, ys, color=color, linewidth=1.1, alpha=0.8, zorder=2)
            ax.set_title(_wrap(criterion_label(c, lang), 16), fontsize=7.5, loc="center")
            ax.set_xticks(range(len(rounds)))
            ax.set_xticklabels([_wrap(labels[r], 10) for r in rounds], fontsize=7)
            ax.set_xlim(-0.6, len(rounds) - 0.4)
            ax.set_ylim(0, 4.05)
            ax.tick_params(axis="x", length=0)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            if j:
                ax.tick_params(axis="y", length=0)
        axes[0].set_yticks([0, 1, 2, 3, 4])
        axes[0].set_ylabel(t("fig.axis.score", lang))
        last = axes[len(criteria) - 1] if criteria else axes[0]
        for lo, (hi, en, es) in zip(lowers, RATING_BANDS, strict=True):
            last.text(
                1.04,
                (lo + hi) / 2,
                en if lang == "en" else es,
                transform=last.get_yaxis_transform(),
                fontsize=6.5,
                color=MUTED,
                va="center",
                ha="left",
            )
        if legend:
            handles = [
                mpl.lines.Line2D([], [], color=colors[str(s)], marker="o", linewidth=2)
                for s in sites
            ]
            fig.legend(
                handles,
                [names[s] for s in sites],
                loc="outside lower center",
                ncols=min(n_sites, 4),
                frameon=False,
                fontsize=8,
            )
    return fig


# ------------------------------------------------------------------------------- Likert
def likert_rows(data: pd.DataFrame, *, lang: str = "en", criteria=None) -> list:
    """The bars of :func:`likert_figure`: ``(label, shares, n)`` per criterion (and
    instrument), top to bottom; ``shares`` are the percentages (summing to 100) of the five
    levels 0..4, ``n`` the respondents. Also what the report's native Likert node draws."""
    _require(data, ["criterion", "value"], "data")
    d = data[data["value"].notna() & data["criterion"].notna()].copy()
    criteria = list(criteria) if criteria is not None else _criteria_in(d["criterion"])
    d = d[d["criterion"].isin(criteria)]
    if "instrument" not in d.columns:
        d["instrument"] = ""
    if "weight" not in d.columns:
        d["weight"] = 1.0
    d["weight"] = pd.to_numeric(d["weight"], errors="coerce").fillna(1.0)
    d["level"] = np.clip(np.rint(pd.to_numeric(d["value"]).astype(float)), 0, 4).astype(int)
    instruments = list(dict.fromkeys(d["instrument"]))
    rows = []
    for c in criteria:
        for inst in instruments:
            sub = d[(d["criterion"] == c) & (d["instrument"] == inst)]
            if sub.empty:
                continue
            shares = sub.groupby("level")["weight"].sum().reindex(range(5), fill_value=0.0)
            if not shares.sum() > 0:  # no weight at all: no distribution to show
                continue
            shares = 100 * shares / shares.sum()
            label = criterion_label(c, lang)
            if inst:
                key = f"instrument.{inst}"
                who = t(key, lang) if key in STRINGS else inst
                label = f"{label} · {who}"
            n = sub["respondent_id"].nunique() if "respondent_id" in sub else len(sub)
            rows.append((label, shares.to_numpy(), int(n)))
    return rows


def likert_figure(data: pd.DataFrame, *, lang: str = "en", criteria=None) -> Figure:
    """Diverging stacked bars of survey answers per criterion (and instrument).

    Parameters
    ----------
    data : DataFrame
        Long format, one row per respondent x item: ``criterion``, ``value`` (0-4, already
        reverse-coded; missing answers are dropped) and optionally ``instrument`` (one bar per
        criterion x instrument) and ``weight`` (design weight; default 1). Values are binned to
        the nearest of the five levels 0..4 (a 1-7 item rescaled to 0-4 falls on the nearest
        level).
    lang : {"en", "es"}
    criteria : sequence, optional
        Criteria to show, top to bottom.

    Returns
    -------
    matplotlib.figure.Figure
        Bars centred on the neutral level: unfavourable answers to the left, favourable to the
        right, half of the neutral answers on each side; each bar is labelled with its N.
    """
    rows = likert_rows(data, lang=lang, criteria=criteria)
    levels = t("fig.likert.levels", lang).split("|")
    height = 1.2 + 0.36 * max(len(rows), 1)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.6, height), layout="constrained")
        ax = fig.add_subplot()
        if not rows:
            ax.text(0.5, 0.5, t("fig.survey_none", lang), ha="center", va="center")
            ax.set_axis_off()
            return fig
        for i, (_, s, n) in enumerate(rows):
            left = -(s[0] + s[1] + s[2] / 2)
            for k in range(5):
                ax.barh(i, s[k], left=left, color=LIKERT_COLORS[k], height=0.66, linewidth=0)
                if s[k] >= 9:
                    ax.text(
                        left + s[k] / 2,
                        i,
                        f"{s[k]:.0f}",
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="white" if k in (0, 4) else INK,
                    )
                left += s[k]
            ax.text(101, i, f"n={n}", va="center", fontsize=6.5, color=MUTED)
        ax.axvline(0, color=INK, linewidth=0.8)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([_wrap(r[0], 30) for r in rows], fontsize=7.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(-100, 112)
        ax.set_xticks([-100, -50, 0, 50, 100])
        ax.set_xticklabels(["100", "50", "0", "50", "100"])
        ax.set_xlabel(t("fig.axis.share", lang))
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        handles = [Rectangle((0, 0), 1, 1, color=col) for col in LIKERT_COLORS]
        fig.legend(
            handles,
            levels,
            loc="outside lower center",
            ncols=5,
            frameon=False,
            fontsize=7,
            handlelength=1,
            columnspacing=1,
        )
    return fig


# ------------------------------------------------------------------------------- coverage
def coverage_figure(evidence: pd.DataFrame, *, lang: str = "en", criteria=None) -> Figure:
    """Evidence coverage: sources (and coded segments) per criterion x respondent stratum.

    Parameters
    ----------
    evidence : DataFrame
        One row per coded segment: ``criterion``, ``stratum``, ``source_id`` and
        ``segment_id`` (as from :meth:`copeval.project.Project.evidence`, filtered to a site).
    lang : {"en", "es"}
    criteria : sequence, optional
        Criteria to show (rows); default all five.

    Returns
    -------
    matplotlib.figure.Figure
        A grid whose cells read ``sources (segments)``; empty cells are marked with a dash.
    """
    _require(evidence, ["criterion", "stratum", "source_id", "segment_id"], "evidence")
    criteria = list(criteria) if criteria is not None else list(CRITERIA)
    n_src = (
        evidence.groupby(["criterion", "stratum"])["source_id"]
        .nunique()
        .unstack()
        .reindex(index=criteria, columns=list(STRATA))
        .fillna(0)
    )
    n_seg = (
        evidence.groupby(["criterion", "stratum"])["segment_id"]
        .nunique()
        .unstack()
        .reindex(index=criteria, columns=list(STRATA))
        .fillna(0)
    )
    vmax = max(3.0, float(n_src.to_numpy().max()) if n_src.size else 3.0)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.6, 0.8 + 0.42 * len(criteria)), layout="constrained")
        ax = fig.add_subplot()
        values = n_src.to_numpy(dtype=float)
        cmap = mpl.colormaps["Blues"]
        shown = np.where(values > 0, 0.15 + 0.7 * values / vmax, np.nan)
        ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, vmin=0, vmax=1, aspect="auto")
        ax.set_facecolor("#f3f4f6")
        for i in range(len(criteria)):
            for j in range(len(STRATA)):
                s, g = int(values[i, j]), int(n_seg.iat[i, j])
                txt = "—" if s == 0 else f"{s} ({g})"
                dark = s > 0 and (0.15 + 0.7 * s / vmax) > 0.55
                ax.text(
                    j,
                    i,
                    txt,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else (MUTED if s == 0 else INK),
                )
        ax.set_xticks(range(len(STRATA)))
        ax.set_xticklabels([_wrap(stratum_label(s, lang), 16) for s in STRATA], fontsize=7.5)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(criteria)))
        ax.set_yticklabels([_wrap(criterion_label(c, lang), 28) for c in criteria], fontsize=7.5)
        ax.tick_params(length=0)
        ax.set_xticks(np.arange(-0.5, len(STRATA)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(criteria)), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    return fig


# ------------------------------------------------------------------------------- output
def figure_to_svg(fig: Figure) -> str:
    """The figure as an SVG document (deterministic: no date, fixed ID salt)."""
    buf = io.StringIO()
    with mpl.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def figure_html(fig: Figure, caption: str = "", *, css_class: str = "cv-figure") -> str:
    """A ``<figure>`` holding the figure as an inline SVG image, with its caption."""
    svg = figure_to_svg(fig)
    width_in = fig.get_figwidth()
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    pct = min(100, round(100 * width_in / 6.6))
    return (
        f'<figure class="{css_class}"><img alt="{html.escape(caption)}" style="width:{pct}%" '
        f'src="data:image/svg+xml;base64,{data}"/>{cap}</figure>'
    )
