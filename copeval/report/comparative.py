"""The comparative report: several sites on the same scale, with the uncertainty of each gap.

Called by ``notebooks/comparative_report.py``, one section per cell, like
:class:`copeval.report.site.SiteReport`.
"""

from __future__ import annotations

import pandas as pd

from copeval._validate import check_sites as resolve_sites
from copeval.params import DEFAULT_CI, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WEIGHT
from copeval.vocabulary import CRITERIA, STRATA

from . import figures
from ._html import Block, docinfo, esc, heading, p, table
from .data import ReportData
from .i18n import (
    check_lang,
    criterion_label,
    fmt_count,
    fmt_interval,
    fmt_num,
    fmt_pct,
    fmt_period,
    fmt_prob,
    join_list,
    stratum_label,
    t,
    tn,
)
from .site import cover_provenance, methods_appendix
from .summary import P_CLEAR, flag_marks, is_thin

__all__ = ["ComparativeReport"]

#: Heatmap rows per figure (a taller figure would not fit an A4 page).
HEATMAP_ROWS = 40
#: Up to this many sites, a forest plot and pairwise tables are shown.
MAX_DETAIL = 8
#: Up to this many sites, all pairs fit as columns of one table.
MAX_PAIR_COLUMNS = 3
#: Rows of the rank table shown per criterion when there are many sites.
RANK_ROWS = 15


class ComparativeReport:
    """Sections of the report comparing sites.

    Parameters
    ----------
    data : ReportData
    sites : "all", "A,B" or sequence of str
        The sites compared (strings), in the order given; ``"all"`` keeps the project order.
    lang : {"es", "en"}
    """

    def __init__(self, data: ReportData, *, sites="all", lang: str = "es"):
        self.lang = check_lang(lang)
        data = data.for_readers(self.lang)  # free text redacted before anything renders
        self.data = data
        self.sites = resolve_sites(sites, list(data.site_names))
        self.project = data.project
        self.ci = float(data.params["ci"])
        tab = data.table[data.table["site_id"].isin(self.sites)]
        order = {s: i for i, s in enumerate(self.sites)}
        self.rows = tab.sort_values(
            ["site_id", "criterion"],
            key=lambda s: s.map(order) if s.name == "site_id" else s.map(CRITERIA.index),
            kind="stable",
        ).reset_index(drop=True)

    @classmethod
    def build(
        cls,
        project_path,
        *,
        sites="all",
        lang: str = "es",
        weight: float = DEFAULT_WEIGHT,
        n_boot: int = DEFAULT_DRAWS,
        seed: int = DEFAULT_SEED,
        ci: float = DEFAULT_CI,
        cache_dir=None,
    ) -> ComparativeReport:
        """Load and score the project (or reuse ``cache_dir``), then prepare the comparison."""
        check_lang(lang)
        data = ReportData.load(
            project_path, weight=weight, n_boot=n_boot, seed=seed, ci=ci, cache_dir=cache_dir
        )
        return cls(data, sites=sites, lang=lang)

    def _t(self, key, **kw) -> str:
        return t(key, self.lang, **kw)

    @property
    def _ci_text(self) -> str:
        return fmt_pct(self.ci, self.lang)

    def _name(self, site_id: str) -> str:
        return self.data.site_names.get(site_id, site_id)

    # ------------------------------------------------------------------ sections
    def cover(self) -> Block:
        lang = self.lang
        meta = self.project.meta
        synthetic = bool(meta.get("synthetic"))
        footer = (
            f"{t('cover.synthetic', 'es')} / {t('cover.synthetic', 'en')}" if synthetic else ""
        )
        parts = [
            docinfo(
                title=self._t("doc.title.compare"),
                lang=lang,
                running=self._t("doc.running.compare"),
                footer=footer,
            ),
            '<section class="cv-cover">',
        ]
        if synthetic:
            parts.append(
                f'<div class="cv-synthetic"><strong>{esc(t("cover.synthetic", "es"))} / '
                f"{esc(t('cover.synthetic', 'en'))}</strong>{esc(self._t('cover.synthetic_note'))}</div>"
            )
        parts.append(f'<div class="cv-kicker">{esc(self._t("cover.kicker.compare"))}</div>')
        names = [self._name(s) for s in self.sites]
        shown = names[:6]
        title = " · ".join(shown)
        if len(names) > 6:
            title += " " + self._t("cmp.more_sites", n=len(names) - 6)
        parts.append(f"<h1>{esc(title)}</h1>")
        parts.append('<div class="cv-bar"></div><dl>')
        parts.append(
            f"<dt>{esc(self._t('cover.sites'))}</dt><dd>{esc(fmt_count(len(self.sites), lang))}</dd>"
        )
        parts.append(
            f"<dt>{esc(self._t('cover.period'))}</dt>"
            f"<dd>{esc(fmt_period(meta.get('period'), lang))}</dd>"
        )
        src = self.project.sources
        used = src[src["site_id"].isin(self.sites) & (src["consent"] != "none")]
        counts = used["method"].value_counts()
        bits = [
            tn(f"sources.{m}", int(counts[m]), lang)
            for m in ("interview", "focus_group", "observation", "document")
            if counts.get(m, 0)
        ]
        items = self.data.scaled_items
        if len(items):
            mine = items[items["site_id"].isin(self.sites)]
            for inst, grp in mine.groupby("instrument", sort=True):
                key = f"instrument.{inst}"
                from .i18n import STRINGS

                name = t(key, lang) if key in STRINGS else inst
                bits.append(
                    tn("sources.survey", grp["respondent_id"].nunique(), lang, instrument=name)
                )
        parts.append(
            f"<dt>{esc(self._t('cover.sources'))}</dt>"
            f"<dd>{esc('; '.join(bits) or self._t('sources.none'))}</dd>"
        )
        parts += cover_provenance(self._t, meta, self.data.params, self._ci_text, lang)
        parts.append("</dl>")
        parts.append(f'<div class="cv-frameworks">{esc(self._t("cover.frameworks"))}</div>')
        parts.append("</section>")
        return Block("".join(parts))

    def contents(self) -> Block:
        return Block(f'<nav class="cv-toc"><h2>{esc(self._t("toc.title"))}</h2></nav>')

    def summary(self) -> Block:
        """Lead, and per criterion the highest and lowest site with the probability of the gap."""
        lang = self.lang
        out = [heading(2, self._t("sec.summary"), "summary")]
        out.append(p(self._t("cmp.lead", n=len(self.sites), ci=self._ci_text), "cv-lead"))
        pw = self.data.pairwise(sites=self.sites) if len(self.sites) > 1 else None
        items = []
        for c in CRITERIA:
            r = self.rows[(self.rows["criterion"] == c) & self.rows["score"].notna()]
            if r.empty:
                continue
            hi = r.loc[r["score"].idxmax()]
            lo = r.loc[r["score"].idxmin()]
            if len(r) > 1 and fmt_num(hi["score"], lang) == fmt_num(lo["score"], lang):
                names = [self._name(x) for x in r["site_id"]]
                text = self._t(
                    "cmp.tie",
                    criterion=criterion_label(c, lang),
                    sites=join_list(names, lang),
                    score=fmt_num(hi["score"], lang),
                )
                prob = _p_greater(pw, c, hi["site_id"], lo["site_id"]) if pw is not None else None
                if prob is not None and len(r) == 2:
                    key = "cmp.clear" if prob >= P_CLEAR else "cmp.unclear"
                    text += " " + self._t(
                        key,
                        p=fmt_prob(prob, lang),
                        site=self._name(hi["site_id"]),
                        other=self._name(lo["site_id"]),
                    )
                items.append(text)
                continue
            if len(r) == 1 or hi["site_id"] == lo["site_id"]:
                items.append(
                    self._t(
                        "cmp.single",
                        criterion=criterion_label(c, lang),
                        site=self._name(hi["site_id"]),
                        score=fmt_num(hi["score"], lang),
                    )
                )
                continue
            text = self._t(
                "cmp.best",
                criterion=criterion_label(c, lang),
                site=self._name(hi["site_id"]),
                score=fmt_num(hi["score"], lang),
                low_site=self._name(lo["site_id"]),
                low_score=fmt_num(lo["score"], lang),
            )
            prob = _p_greater(pw, c, hi["site_id"], lo["site_id"]) if pw is not None else None
            if prob is not None:
                key = "cmp.clear" if prob >= P_CLEAR else "cmp.unclear"
                text += " " + self._t(
                    key,
                    p=fmt_prob(prob, lang),
                    site=self._name(hi["site_id"]),
                    other=self._name(lo["site_id"]),
                )
            items.append(text)
        out.append(
            '<div class="cv-callout"><ul class="cv-summary-list">'
            + "".join(f"<li>{esc(s)}</li>" for s in items)
            + "</ul></div>"
        )
        out.append(self._scores_table())
        if any(is_thin(r) for _, r in self.rows.iterrows()):
            out.append(p(self._t("flag.legend"), "cv-legend"))
        return Block("".join(out))

    def _scores_table(self) -> str:
        lang = self.lang
        header = [self._t("col.site")] + [c for c in CRITERIA]
        rows = []
        for s in self.sites:
            cells = [esc(self._name(s))]
            for c in CRITERIA:
                r = self.rows[(self.rows["site_id"] == s) & (self.rows["criterion"] == c)]
                if r.empty or pd.isna(r["score"].iloc[0]):
                    cells.append(esc(self._t("flag.no_data")))
                    continue
                r = r.iloc[0]
                dag = flag_marks(r)
                cells.append(
                    f"<strong>{esc(fmt_num(r['score'], lang))}{dag}</strong>"
                    f'<br><span class="cv-small">{esc(fmt_interval(r["lower"], r["upper"], lang))}</span>'
                )
            rows.append(cells)
        return table(header, rows, numeric=tuple(range(1, len(header))), cls="cv-compact")

    def results(self) -> Block:
        """Heatmap of every site x criterion and, for a few sites, the forest plot."""
        lang = self.lang
        out = [heading(2, self._t("sec.ranking"), "ranking", newpage=True)]
        n = 1
        for start in range(0, len(self.sites), HEATMAP_ROWS):
            chunk = self.sites[start : start + HEATMAP_ROWS]
            fig = figures.heatmap_figure(
                self.rows[self.rows["site_id"].isin(chunk)],
                lang=lang,
                site_names=self.data.site_names,
            )
            out.append(figures.figure_html(fig, self._t("fig.heatmap", n=n)))
            n += 1
        if len(self.sites) <= MAX_DETAIL:
            fig = figures.forest_figure(self.rows, lang=lang, site_names=self.data.site_names)
            out.append(
                figures.figure_html(fig, self._t("fig.forest_compare", n=n, ci=self._ci_text))
            )
        return Block("".join(out))

    def differences(self) -> Block:
        """Pairwise probabilities (few sites) or rank probabilities (many sites)."""
        lang = self.lang
        out = [heading(2, self._t("sec.pairwise"), "pairwise", newpage=True)]
        if len(self.sites) < 2:
            return Block("")
        if len(self.sites) <= MAX_PAIR_COLUMNS:
            out.append(p(self._t("cmp.pair_intro")))
            out.append(self._pair_table())
        elif len(self.sites) <= MAX_DETAIL:
            out.append(p(self._t("cmp.pairwise_intro")))
            pw = self.data.pairwise(sites=self.sites)
            for c in CRITERIA:
                sub = pw[pw["criterion"] == c]
                if sub.empty:
                    continue
                out.append(heading(3, criterion_label(c, lang), f"pairwise-{c}"))
                rows = []
                for a in self.sites:
                    cells = [esc(self._name(a))]
                    for b in self.sites:
                        if a == b:
                            cells.append("—")
                            continue
                        prob = _p_greater(sub, c, a, b)
                        cells.append(self._prob_cell(prob))
                    rows.append(cells)
                out.append(
                    table(
                        [""] + [self._name(b) for b in self.sites],
                        rows,
                        numeric=tuple(range(1, len(self.sites) + 1)),
                        cls="cv-compact",
                    )
                )
        else:
            out.append(p(self._t("cmp.too_many", n=len(self.sites))))
            out.append(p(self._t("cmp.rank_intro")))
            ranks = self.data.ranks()
            ranks = ranks[ranks["site_id"].isin(self.sites)]
            for c in CRITERIA:
                sub = ranks[ranks["criterion"] == c]
                if sub.empty:
                    continue
                first = sub[sub["rank"] == 1].set_index("site_id")["probability"]
                mean = sub.groupby("site_id")["mean_rank"].first().sort_values()
                out.append(heading(3, criterion_label(c, lang), f"ranks-{c}"))
                rows = [
                    [
                        esc(self._name(s)),
                        esc(fmt_num(mean[s], lang, 1)),
                        esc(fmt_num(first.get(s, 0.0), lang, 2)),
                    ]
                    for s in mean.index[:RANK_ROWS]
                ]
                out.append(
                    table(
                        [self._t("col.site"), self._t("col.mean_rank"), self._t("col.rank1")],
                        rows,
                        numeric=(1, 2),
                        cls="cv-compact",
                    )
                )
        out.append(self._orderings_note())
        return Block("".join(out))

    def _prob_cell(self, prob) -> str:
        if prob is None:
            return "—"
        text = esc(fmt_prob(prob, self.lang))
        return f"<strong>{text}</strong>" if (prob >= P_CLEAR or prob <= 1 - P_CLEAR) else text

    def _pair_table(self) -> str:
        """Rows: criteria; columns: every pair of sites, P(first > second)."""
        lang = self.lang
        pw = self.data.pairwise(sites=self.sites)
        pairs = [(a, b) for i, a in enumerate(self.sites) for b in self.sites[i + 1 :]]
        header = [self._t("col.criterion")] + [
            self._t("cmp.pair", a=self._name(a), b=self._name(b)) for a, b in pairs
        ]
        rows = [
            [esc(criterion_label(c, lang))]
            + [self._prob_cell(_p_greater(pw, c, a, b)) for a, b in pairs]
            for c in CRITERIA
            if (pw["criterion"] == c).any()
        ]
        return table(header, rows, numeric=tuple(range(1, len(header))))

    def _orderings_note(self) -> str:
        lang = self.lang
        changed = self.data.orderings()
        changed = changed[
            changed["changed"].astype(bool)
            & changed["site_a"].isin(self.sites)
            & changed["site_b"].isin(self.sites)
        ]
        sens = self.data.site_sensitivity
        weights = sens["weight"] if len(sens) else pd.Series([0.0, 1.0])
        text = self._t(
            "rob.sensitivity",
            wmin=fmt_num(float(weights.min()), lang, 2),
            wmax=fmt_num(float(weights.max()), lang, 2),
        )
        if changed.empty:
            return p(text + " " + self._t("rob.order_stable"))
        crits = [criterion_label(c, lang) for c in CRITERIA if c in set(changed["criterion"])]
        return p(text + " " + self._t("rob.order_changes", criteria="; ".join(crits)))

    def coverage(self) -> Block:
        """Sources per site and triangulation stratum, and survey respondents."""
        lang = self.lang
        out = [heading(2, self._t("sec.coverage"), "coverage")]
        out.append(p(self._t("coverage.intro")))
        ev = self.data.evidence
        ev = ev[ev["site_id"].isin(self.sites)]
        counts = ev.groupby(["site_id", "stratum"])["source_id"].nunique()
        items = self.data.scaled_items
        resp = (
            items.groupby("site_id")["respondent_id"].nunique()
            if len(items)
            else pd.Series(dtype=int)
        )
        rows = []
        for s in self.sites:
            cells = [esc(self._name(s))]
            for st in STRATA:
                n = int(counts.get((s, st), 0))
                cells.append(esc(n) if n else "—")
            cells.append(esc(int(resp.get(s, 0))))
            rows.append(cells)
        header = (
            [self._t("col.site")]
            + [stratum_label(st, lang) for st in STRATA]
            + [self._t("col.survey")]
        )
        out.append(table(header, rows, numeric=tuple(range(1, len(header))), cls="cv-compact"))
        return Block("".join(out))

    def methods(self) -> Block:
        lang = self.lang
        params = self.data.params
        sites = "all" if len(self.sites) == len(self.data.site_names) else ",".join(self.sites)
        command = (
            f"copeval compare {self.project.path.name} --sites {sites} --lang {lang} "
            f"--seed {params['seed']} --n-boot {params['n_boot']} --weight {params['weight']:g}"
        )
        out = methods_appendix(self._t, params, self._ci_text, lang, "", command)
        return Block("".join(out))


def _p_greater(pw: pd.DataFrame, criterion: str, a: str, b: str) -> float | None:
    """P(a > b) on ``criterion`` from a pairwise table (either orientation)."""
    sub = pw[pw["criterion"] == criterion]
    r = sub[(sub["site_a"] == a) & (sub["site_b"] == b)]
    if len(r):
        return float(r["p_a_greater"].iloc[0])
    r = sub[(sub["site_a"] == b) & (sub["site_b"] == a)]
    if len(r):
        return float(r["p_b_greater"].iloc[0])
    return None
