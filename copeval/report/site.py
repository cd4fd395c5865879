"""The site report: every section a reader sees, as HTML blocks, in Spanish or English.

The report notebook (``notebooks/site_report.py``) only calls these methods, one section
per cell::

    report = SiteReport.build(project_path, site_id="VC", lang="es")
    report.cover()
    report.contents()
    report.summary()
    ...

Each method returns a :class:`~copeval.report._html.Block` that Jupyter displays as HTML
and the exporter turns into the PDF. All logic (selection of quotes, sentences, tables,
figures) lives here and in the modules it calls, so it is tested without a notebook.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from pathlib import Path

import pandas as pd

from copeval.errors import CopevalError
from copeval.params import DEFAULT_CI, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WEIGHT
from copeval.scoring import STRENGTH_CEILING
from copeval.vocabulary import CRITERIA, RESPONDENT_GROUPS, STRATA, group_label, rating_label

from . import figures
from ._html import (
    Block,
    chip,
    coverage_table,
    docinfo,
    esc,
    forest_html,
    heading,
    heatmap_table,
    p,
    table,
)
from ._html import legacy_cover_provenance as cover_provenance
from ._html import legacy_methods_appendix as methods_appendix
from .base import method_values
from .data import ReportData
from .i18n import (
    STRINGS,
    check_lang,
    criterion_label,
    fmt_count,
    fmt_interval,
    fmt_num,
    fmt_pct,
    fmt_period,
    join_list,
    stratum_label,
    t,
    tn,
)
from .quotes import select_quotes
from .recommend import WEAK_THRESHOLD, load_crosswalk, recommendations
from .summary import (
    comparison_sentences,
    flag_marks,
    is_thin,
    rating_sentences,
    reliability_text,
    site_findings,
)

__all__ = ["PROFILES", "SiteReport", "check_profile", "redactor"]

#: Fixed figure numbers, so re-running one cell never renumbers the others.
FIG = {"glance": 1, "heatmap": 2, "coverage": 3, "likert": 4}
#: With more sites than this, the site report compares with a subset (same department).
MAX_COMPARE = 12
#: With more sites than this, pairwise sentences give way to rank statements.
MAX_PAIRWISE = 6
#: Report profiles and the sections each renders (the notebook calls every section; those
#: outside the profile display nothing). ``full``: the complete evaluation report (15-17
#: pages). ``brief``: a municipal brief for national rounds, 4-6 pages -- cover with the
#: ratings, executive summary, the ratings plot, recommendations and the method in brief.
PROFILES = {
    "full": (
        "cover",
        "contents",
        "summary",
        "results",
        "context",
        "criteria",
        "coverage",
        "survey",
        "robustness",
        "recommendations",
        "methods",
        "evidence_appendix",
    ),
    "brief": ("cover", "summary", "results", "recommendations", "methods"),
}


def check_profile(profile) -> str:
    """``profile`` if it names a report profile; else a clear error listing them."""
    if profile not in PROFILES:
        raise CopevalError(
            f"Unknown report profile {profile!r}. Available profiles: {', '.join(PROFILES)}"
        )
    return profile


def _section(method):
    """Render the section only when the report's profile includes it (else an empty block)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if method.__name__ not in PROFILES[self.profile]:
            return Block("")
        return method(self, *args, **kwargs)

    return wrapper


def redactor(project, lang: str = "en"):
    """``text -> text`` applying :func:`copeval.privacy.redact` with the project's registry.

    Registered names become ``[PERSON: role]`` tags, phone numbers, e-mails, DPI and NIT
    numbers their own tags (in ``lang``).
    """
    from copeval import privacy

    registry = privacy.load_registry(project)

    def redact(text: str) -> str:
        return privacy.redact(text, registry=registry, lang=lang)[0]

    return redact


def _site_row(project, site_id: str) -> pd.Series:
    sites = project.sites
    return sites.loc[sites["site_id"] == site_id].iloc[0]


class SiteReport:
    """Sections of the evaluation report of one site.

    Parameters
    ----------
    data : ReportData
        The project and its scores (see :meth:`build`).
    site_id : str
        The site (a string: ``"0101"``, never the number 101).
    lang : {"es", "en"}
    crosswalk : path, optional
        Folder of the recommendations crosswalk (default ``data/crosswalk``).
    profile : {"full", "brief"}
        Which sections render (see :data:`PROFILES`).
    """

    def __init__(
        self,
        data: ReportData,
        *,
        site_id: str,
        lang: str = "es",
        crosswalk=None,
        profile: str = "full",
    ):
        self.lang = check_lang(lang)
        data = data.for_readers(self.lang)  # free text redacted before anything renders
        self.data = data
        self.site_id = data.check_site(site_id)
        self.profile = check_profile(profile)
        self.crosswalk_path = crosswalk
        self.project = data.project
        self.name = data.site_names[self.site_id]
        self.ci = float(data.params["ci"])
        self.rows = data.for_site("table", self.site_id).reset_index(drop=True)
        ev = data.for_site("evidence", self.site_id)
        if "date" not in ev.columns and "date" in self.project.sources.columns:
            dates = self.project.sources[["source_id", "date"]]
            ev = ev.merge(dates, on="source_id", how="left", validate="many_to_one")
        self.evidence = ev.reset_index(drop=True)

    @classmethod
    def build(
        cls,
        project_path,
        *,
        site_id: str,
        lang: str = "es",
        weight: float = DEFAULT_WEIGHT,
        n_boot: int = DEFAULT_DRAWS,
        seed: int = DEFAULT_SEED,
        ci: float = DEFAULT_CI,
        cache_dir=None,
        crosswalk=None,
        profile: str = "full",
    ) -> SiteReport:
        """Load and score the project (or reuse ``cache_dir``), then prepare the site's report."""
        check_lang(lang)
        check_profile(profile)
        data = ReportData.load(
            project_path,
            weight=weight,
            n_boot=n_boot,
            seed=seed,
            ci=ci,
            cache_dir=cache_dir,
            complete=profile == "full",  # a brief shows no reliability or sensitivity table
        )
        return cls(data, site_id=site_id, lang=lang, crosswalk=crosswalk, profile=profile)

    # ------------------------------------------------------------------ helpers
    def _t(self, key, **kw) -> str:
        return t(key, self.lang, **kw)

    @property
    def _ci_text(self) -> str:
        return fmt_pct(self.ci, self.lang)

    def _crit(self, c: str) -> pd.Series | None:
        r = self.rows[self.rows["criterion"] == c]
        return None if r.empty else r.iloc[0]

    def _compare_sites(self) -> list[str]:
        """Sites shown beside this one: all when few, else the same department."""
        ids = list(self.data.site_names)
        if len(ids) <= MAX_COMPARE:
            return ids
        sites = self.project.sites
        dept = _site_row(self.project, self.site_id)["department"]
        same = [s for s in sites.loc[sites["department"] == dept, "site_id"] if s != self.site_id]
        return [self.site_id, *same[: MAX_COMPARE - 1]]

    def _sources(self) -> pd.DataFrame:
        src = self.data.for_site("sources", self.site_id)
        return src[src["consent"] != "none"]

    # ------------------------------------------------------------------ sections
    @_section
    def cover(self) -> Block:
        """Cover page: site, period, data sources, toolkit version, synthetic-data banner."""
        lang = self.lang
        meta = self.project.meta
        site = _site_row(self.project, self.site_id)
        synthetic = bool(meta.get("synthetic"))
        running = self._t("doc.running", site=self.name)
        footer = (
            f"{t('cover.synthetic', 'es')} / {t('cover.synthetic', 'en')}" if synthetic else ""
        )
        parts = [
            docinfo(
                title=self._t("doc.title", site=self.name),
                lang=lang,
                running=running,
                footer=footer,
            ),
            '<section class="cv-cover">',
        ]
        if synthetic:
            parts.append(
                f'<div class="cv-synthetic"><strong>{esc(t("cover.synthetic", "es"))} / '
                f"{esc(t('cover.synthetic', 'en'))}</strong>{esc(self._t('cover.synthetic_note'))}</div>"
            )
        kicker = "cover.kicker.brief" if self.profile == "brief" else "cover.kicker"
        parts.append(f'<div class="cv-kicker">{esc(self._t(kicker))}</div>')
        parts.append(f"<h1>{esc(self.name)}</h1>")
        dept = site.get("department")
        if isinstance(dept, str) and dept:
            parts.append(
                f'<div class="cv-subtitle">{esc(self._t("cover.site_line", department=dept))}</div>'
            )
        parts.append('<div class="cv-bar"></div>')
        parts.append(self._cover_ratings())
        parts.append("<dl>")
        parts.append(
            f"<dt>{esc(self._t('cover.period'))}</dt>"
            f"<dd>{esc(fmt_period(meta.get('period'), lang))}</dd>"
        )
        parts.append(
            f"<dt>{esc(self._t('cover.sources'))}</dt><dd>{esc(self._sources_text())}</dd>"
        )
        parts += cover_provenance(self._t, meta, self.data.params, self._ci_text, lang)
        parts.append("</dl>")
        parts.append(f'<div class="cv-frameworks">{esc(self._t("cover.frameworks"))}</div>')
        parts.append("</section>")
        return Block("".join(parts))

    def _cover_ratings(self) -> str:
        lang = self.lang
        rows = []
        for c in CRITERIA:
            r = self._crit(c)
            if r is None:
                continue
            rows.append(
                f"<tr><td><strong>{esc(c)}</strong> {esc(criterion_label(c, lang, code=False))}</td>"
                f"<td>{chip(r['score'], lang, dagger=flag_marks(r))}</td>"
                f'<td class="num">{esc(fmt_num(r["score"], lang))}</td>'
                f'<td class="num cv-small">{esc(fmt_interval(r["lower"], r["upper"], lang))}</td></tr>'
            )
        return f'<table class="cv-cover-ratings"><tbody>{"".join(rows)}</tbody></table>'

    def _sources_text(self) -> str:
        lang = self.lang
        src = self._sources()
        counts = src["method"].value_counts()
        bits = [
            tn(f"sources.{m}", int(counts[m]), lang)
            for m in ("interview", "focus_group", "observation", "document")
            if counts.get(m, 0)
        ]
        mine = self.data.for_site("scaled_items", self.site_id)
        if len(mine):
            for inst, grp in mine.groupby("instrument", sort=True):
                key = f"instrument.{inst}"
                name = t(key, lang) if key in STRINGS else inst
                bits.append(
                    tn("sources.survey", grp["respondent_id"].nunique(), lang, instrument=name)
                )
        return "; ".join(bits) if bits else self._t("sources.none")

    @_section
    def contents(self) -> Block:
        """Table of contents (filled with page numbers when the PDF is printed)."""
        return Block(f'<nav class="cv-toc"><h2>{esc(self._t("toc.title"))}</h2></nav>')

    @_section
    def summary(self) -> Block:
        """Executive summary: lead, key findings, rating per criterion with its interval."""
        lang = self.lang
        out = [heading(2, self._t("sec.summary"), "summary")]
        out.append(p(self._t("summary.lead", site=self.name, ci=self._ci_text), "cv-lead"))
        ratings = rating_sentences(self.rows, lang=lang, ci=self.ci)
        if ratings:
            out.append(f"<h4>{esc(self._t('summary.ratings'))}</h4>")
            out.append(
                '<ul class="cv-summary-list">'
                + "".join(f"<li>{esc(s)}</li>" for s in ratings)
                + "</ul>"
            )
        findings = site_findings(self.rows, lang=lang, comparisons=self._comparison_findings())
        out.append(f"<h4>{esc(self._t('summary.findings'))}</h4>")
        out.append('<div class="cv-callout"><ul class="cv-summary-list">')
        out += [f"<li>{esc(s)}</li>" for s in findings]
        out.append("</ul></div>")
        out.append(self._ratings_table())
        if any(is_thin(r) for _, r in self.rows.iterrows()):
            out.append(p(self._t("flag.legend"), "cv-legend"))
        return Block("".join(out))

    def _comparison_findings(self) -> list[str]:
        ids = list(self.data.site_names)
        if len(ids) < 2:
            return []
        if len(ids) <= MAX_PAIRWISE:
            pw = self.data.pairwise()
            return comparison_sentences(
                pw, site_id=self.site_id, site_names=self.data.site_names, lang=self.lang
            )
        return []

    def _ratings_table(self) -> str:
        lang = self.lang
        rows = []
        for c in CRITERIA:
            r = self._crit(c)
            if r is None:
                continue
            thin = flag_marks(r)
            evidence = self._t(
                "evidence.cell",
                sources=int(r["n_sources"]),
                groups=int(r["n_groups"]),
                respondents=int(r["n_respondents"]),
            )
            note = [self._t("flag.insufficient")] if "†" in thin else []
            if "‡" in thin:
                note.append(self._t("flag.thin").split(":")[0])
            if pd.notna(r["upper"]) and r["upper"] - r["lower"] > 1.2:
                note.append(self._t("flag.wide"))
            rows.append(
                [
                    f"<strong>{esc(c)}</strong> {esc(criterion_label(c, lang, code=False))}",
                    chip(r["score"], lang, dagger=thin),
                    esc(fmt_num(r["score"], lang)),
                    esc(fmt_interval(r["lower"], r["upper"], lang)),
                    esc(evidence),
                    esc("; ".join(note)),
                ]
            )
        return table(
            [
                self._t("col.criterion"),
                self._t("col.rating"),
                self._t("col.score"),
                self._t("col.interval", ci=self._ci_text),
                self._t("col.evidence"),
                self._t("col.note"),
            ],
            rows,
            numeric=(2, 3),
        )

    @_section
    def results(self) -> Block:
        """Results at a glance: forest plot of this site and the criteria x sites heatmap."""
        lang = self.lang
        brief = self.profile == "brief"
        out = [heading(2, self._t("sec.glance"), "glance", newpage=not brief)]
        out.append(
            forest_html(
                self.rows,
                lang=lang,
                criteria=[c for c in CRITERIA if c in set(self.rows["criterion"])],
                caption=self._t("fig.glance", n=FIG["glance"], ci=self._ci_text),
            )
        )
        sites = self._compare_sites() if self.profile == "full" else []
        if len(sites) > 1:
            tab = self.data.table[self.data.table["site_id"].isin(sites)]
            order = {s: i for i, s in enumerate(sites)}
            tab = tab.sort_values("site_id", key=lambda s: s.map(order), kind="stable")
            out.append(
                heatmap_table(
                    tab,
                    lang=lang,
                    site_names=self.data.site_names,
                    criteria=[c for c in CRITERIA if c in set(tab["criterion"])],
                    highlight=self.site_id,
                    caption=self._t("fig.heatmap", n=FIG["heatmap"]),
                )
            )
        return Block("".join(out))

    @_section
    def context(self) -> Block:
        """The site in figures: population, violence, police deployment (described, not scored)."""
        lang = self.lang
        site = _site_row(self.project, self.site_id)
        out = ['<div class="cv-keep">', heading(2, self._t("sec.context"), "context")]
        out.append(p(self._t("context.intro")))
        facts = []

        def present(value) -> bool:
            return not (
                value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) or value == ""
            )

        def add(label_key, text, source_col=None):
            src = site.get(source_col) if source_col else None
            note = (
                f'<span class="cv-small">{esc(self._t("context.source", source=src))}</span>'
                if isinstance(src, str) and src
                else ""
            )
            facts.append(f"<dt>{esc(self._t(label_key))}</dt><dd>{esc(text)}{note}</dd>")

        if present(site.get("population")):
            add("context.population", fmt_count(site["population"], lang), "population_source")
        if present(site.get("homicide_rate")):
            year = site.get("homicide_year")
            text = fmt_num(site["homicide_rate"], lang)
            if present(year):
                text += f" ({int(year)})"
            add("context.homicide", text, "homicide_source")
        police = []
        if present(site.get("police_precinct")):
            police.append(f"{self._t('context.precinct')} {site['police_precinct']}")
        for col in ("stations", "substations"):
            if present(site.get(col)):
                police.append(f"{self._t(f'context.{col}')}: {fmt_count(site[col], lang)}")
        if present(site.get("staff")):
            staff = f"{self._t('context.staff')}: {fmt_count(site['staff'], lang)}"
            if present(site.get("staff_women")):
                staff += (
                    f" ({self._t('context.staff_women')}: {fmt_count(site['staff_women'], lang)})"
                )
            police.append(staff)
        if police:
            add("context.police", " · ".join(police), "police_source")
        if present(site.get("municipality_code")):
            add("context.municipality_code", str(site["municipality_code"]))
        if facts:
            out.append(f'<dl class="cv-facts">{"".join(facts)}</dl>')
        if present(site.get("notes")):
            out.append(p(str(site["notes"]), "cv-note"))
        out.append("</div>")
        return Block("".join(out))

    @_section
    def criteria(self) -> Block:
        """One section per criterion: rating, components, evidence balance, quotes, warnings."""
        out = [heading(2, self._t("sec.criteria"), "criteria")]
        redact = redactor(self.project, self.lang)
        for c in CRITERIA:
            out.append(self._criterion_section(c, redact))
        return Block("".join(out))

    def _criterion_section(self, c: str, redact) -> str:
        lang = self.lang
        r = self._crit(c)
        ev = self.evidence[self.evidence["criterion"] == c]
        out = ['<section class="cv-criterion"><div class="cv-criterion-head">']
        out.append(heading(3, criterion_label(c, lang), f"crit-{c}"))
        out.append(p(self._t(f"crit.definition.{c}"), "cv-def"))
        out.append("</div>")
        if r is None or pd.isna(r["score"]):
            out.append(p(self._t("crit.rating_missing")))
        else:
            thin = flag_marks(r)
            out.append(
                "<p>"
                + chip(r["score"], lang, dagger=thin)
                + " "
                + esc(
                    self._t(
                        "crit.rating",
                        label=rating_label(float(r["score"]), lang),
                        score=fmt_num(r["score"], lang),
                        ci=self._ci_text,
                        interval=fmt_interval(r["lower"], r["upper"], lang),
                    )
                )
                + "</p>"
            )
            basis = _basis_key(r["basis"])
            out.append(
                p(
                    self._t(
                        "crit.components",
                        qual=fmt_num(r["qual_score"], lang),
                        survey=fmt_num(r["survey_score"], lang),
                        basis=self._t(basis),
                    )
                )
            )
            out.append(
                p(
                    self._t(
                        "crit.evidence",
                        segments=int(r["n_segments"]),
                        sources=int(r["n_sources"]),
                        groups=int(r["n_groups"]),
                        respondents=int(r["n_respondents"]),
                    )
                )
            )
            if thin:
                out.append(f'<div class="cv-warning">{esc(self._t("flag.legend"))}</div>')
            if bool(r["low_reliability"]):
                issues = reliability_text(r["reliability_issues"], lang)
                out.append(
                    f'<div class="cv-warning"><strong>{esc(self._t("crit.warning"))}:</strong> '
                    f"{esc(self._t('flag.reliability'))}: {esc(issues)}</div>"
                )
        if len(ev):
            v = pd.to_numeric(ev["valence"], errors="coerce")
            out.append(
                p(
                    self._t(
                        "crit.balance",
                        pos=int((v > 0).sum()),
                        neu=int((v == 0).sum()),
                        neg=int((v < 0).sum()),
                    )
                )
            )
            obstacles = ev[ev["obstacle"].astype(bool) & (v < 0)]
            if len(obstacles):
                top = (
                    obstacles["code"]
                    .value_counts()
                    .sort_index()
                    .sort_values(ascending=False, kind="stable")
                )
                cb = self.project.codebook
                names = [
                    f"{_strip_obstacle(cb.label(code, lang=lang))} ({n})"
                    for code, n in top.head(3).items()
                ]
                out.append(p(self._t("crit.obstacles", obstacles=join_list(names, lang))))
        out.append(f"<h4>{esc(self._t('crit.quotes'))}</h4>")
        quotes, withheld = select_quotes(ev, self.project.segment_text, k=3, redact=redact)
        if quotes.empty:
            out.append(p(self._t("crit.no_quotes"), "cv-note"))
        for _, q in quotes.iterrows():
            out.append(self._quote_html(q))
        if withheld:
            out.append(p(tn("crit.withheld", withheld, lang), "cv-note"))
        out.append("</section>")
        return "".join(out)

    def _quote_html(self, q: pd.Series) -> str:
        lang = self.lang
        role = (
            group_label(q["respondent_group"], lang)
            if q["respondent_group"] in RESPONDENT_GROUPS
            else ""
        )
        method = (
            self._t(f"method.{q['method']}") if f"method.{q['method']}" in STRINGS else q["method"]
        )
        language = q.get("language")
        if isinstance(language, str) and language and language != lang:
            key = f"language.{language}"
            name = self._t(key) if key in STRINGS else language
            method = f"{method}, {self._t('quote.original_in', language=name)}"
        date = q.get("date")
        if date is not None and pd.notna(date) and str(date):
            attribution = self._t(
                "quote.attribution",
                role=role,
                site=self.name,
                method=method,
                date=_month(str(date)[:7], lang),  # month only: a day could identify
            )
        else:
            attribution = self._t(
                "quote.attribution_nodate", role=role, site=self.name, method=method
            )
        val = q["valence"]
        val_text = _signed(val) if pd.notna(val) else ""
        return (
            f'<blockquote class="cv-quote"><p>“{esc(q["text"])}”</p>'
            f"<footer>— {esc(attribution)} · {esc(self._t('col.valence').lower())} "
            f'<span class="cv-val">{esc(val_text)}</span> · {esc(q["segment_id"])}</footer></blockquote>'
        )

    @_section
    def coverage(self) -> Block:
        """Evidence coverage by respondent group (triangulation)."""
        lang = self.lang
        out = [
            '<div class="cv-keep">',
            heading(2, self._t("sec.coverage"), "coverage", newpage=True),
        ]
        out.append(p(self._t("coverage.intro")))
        out.append(
            coverage_table(
                self.evidence, lang=lang, caption=self._t("fig.coverage", n=FIG["coverage"])
            )
        )
        out.append("</div>")
        present = set(self.evidence["stratum"])
        gaps = [stratum_label(s, lang) for s in STRATA if s not in present]
        if gaps:
            out.append(p(self._t("coverage.gaps", groups=join_list(gaps, lang))))
        src = self.data.for_site("sources", self.site_id)
        excluded = int((src["consent"] == "none").sum())
        if excluded:
            out.append(p(tn("coverage.excluded", excluded, lang)))
        return Block("".join(out))

    @_section
    def survey(self) -> Block:
        """Diverging Likert bars of the site's survey answers, per criterion and instrument."""
        lang = self.lang
        out = ['<div class="cv-keep">', heading(2, self._t("sec.survey"), "survey")]
        mine = self.data.for_site("scaled_items", self.site_id)
        if mine.empty or mine["criterion"].isna().all():
            out.append(p(self._t("fig.survey_none")))
            out.append("</div>")
            return Block("".join(out))
        out.append(
            p(
                self._t(
                    "survey.intro", survey_weight=fmt_num(1 - self.data.params["weight"], lang, 2)
                )
            )
        )
        fig = figures.likert_figure(mine, lang=lang)
        out.append(figures.figure_html(fig, self._t("fig.likert", n=FIG["likert"])))
        out.append("</div>")
        return Block("".join(out))

    @_section
    def robustness(self) -> Block:
        """Inter-coder reliability, scale reliability and sensitivity to weighting choices."""
        lang = self.lang
        out = [heading(2, self._t("sec.robustness"), "robustness", newpage=True)]
        out.append(self._coder_note())
        scales = self.data.scale_reliability(self.site_id)
        if scales is not None and len(scales):
            mine = scales[scales["site_id"] == self.site_id]
            if len(mine):
                out.append(p(self._t("rob.scales")))
                rows = []
                for _, r in mine.iterrows():
                    inst = r["instrument"]
                    key = f"instrument.{inst}"
                    who = t(key, lang) if key in STRINGS else inst
                    crit = r["criterion"] if "criterion" in r.index else ""
                    rows.append(
                        [
                            esc(
                                f"{criterion_label(crit, lang) if crit in CRITERIA else crit} · {who}"
                            ),
                            esc(int(r["n_items"])),
                            esc(int(r["n_respondents"])),
                            esc(fmt_num(r["alpha"], lang, 2)),
                            esc(fmt_num(r["omega"], lang, 2)),
                        ]
                    )
                out.append(
                    table(
                        [
                            self._t("col.scale"),
                            self._t("col.items"),
                            self._t("col.n"),
                            self._t("col.alpha"),
                            self._t("col.omega"),
                        ],
                        rows,
                        numeric=(1, 2, 3, 4),
                    )
                )
        out.append(self._sensitivity_note())
        notes = []
        for c in CRITERIA:
            r = self._crit(c)
            if r is not None and bool(r["capped"]):
                text = self._t("flag.capped", ceiling=fmt_num(STRENGTH_CEILING, lang))
                notes.append(f"{criterion_label(c, lang)}: {text}")
            if r is not None and bool(r["thin_evidence"]):
                notes.append(f"{criterion_label(c, lang)}: {self._t('flag.thin')}")
        if notes:
            items = "".join(f"<li>{esc(n)}</li>" for n in notes)
            out.append(
                f'<p class="cv-note">{esc(self._t("rob.warnings"))}:</p>'
                f'<ul class="cv-summary-list cv-note">{items}</ul>'
            )
        return Block("".join(out))

    def _coder_note(self) -> str:
        lang = self.lang
        rel = self.data.code_reliability
        if rel is None or rel.empty:
            return p(self._t("rob.coders_none"))
        overall = rel[rel["code"] == "ALL"]
        parts = []
        if len(overall):
            o = overall.iloc[0]
            alpha = o["alpha_ordinal"] if pd.notna(o["alpha_ordinal"]) else o["alpha_nominal"]
            verdict = (
                "reliable" if alpha >= 0.8 else "tentative" if alpha >= 0.667 else "unreliable"
            )
            parts.append(
                self._t(
                    "rob.coders_summary",
                    alpha=fmt_num(alpha, lang, 3),
                    verdict=self._t(f"rob.verdict.{verdict}"),
                    n=int(o["n_valence_units"]) if pd.notna(o["n_valence_units"]) else 0,
                )
            )
        # codes whose *presence* agreement is low, with that alpha; valence problems are
        # reported per rating from the scoring gate (low_reliability)
        below = (
            rel["presence_below"] if "presence_below" in rel.columns else rel["below_threshold"]
        )
        weak = rel[(rel["code"] != "ALL") & below.astype(bool)]
        out = p(self._t("rob.coders", text=" ".join(parts)))
        if len(weak):
            codes = [
                f"{c} ({fmt_num(a, lang, 2)})"
                for c, a in zip(weak["code"], weak["alpha_nominal"], strict=True)
            ]
            out += f'<div class="cv-warning">{esc(self._t("rob.weak_codes", codes=", ".join(codes)))}</div>'
        return out

    def _sensitivity_note(self) -> str:
        lang = self.lang
        sens = self.data.for_site("site_sensitivity", self.site_id)
        mine = sens[sens["score"].notna()]
        if mine.empty:
            return ""
        wmin, wmax = float(mine["weight"].min()), float(mine["weight"].max())
        text = self._t("rob.sensitivity", wmin=fmt_num(wmin, lang, 2), wmax=fmt_num(wmax, lang, 2))
        changes = []
        for c in CRITERIA:
            scores = mine.loc[mine["criterion"] == c, "score"].astype(float)
            if scores.empty:
                continue
            labels = [rating_label(s, lang) for s in sorted(scores.clip(0, 4))]
            distinct = list(dict.fromkeys(labels))
            if len(distinct) > 1:
                changes.append(
                    self._t(
                        "rob.sensitivity_change_item",
                        criterion=criterion_label(c, lang),
                        labels=" – ".join(distinct),
                    )
                )
        if changes:
            text += " " + self._t("rob.sensitivity_changes", changes="; ".join(changes))
        else:
            text += " " + self._t("rob.sensitivity_stable")
        return p(text)

    @_section
    def recommendations(self) -> Block:
        """Weak criteria linked to MOPSIC tools and PESN 2020–2024 actions (crosswalk)."""
        lang = self.lang
        brief = self.profile == "brief"
        out = [heading(2, self._t("sec.recommendations"), "recommendations", newpage=not brief)]
        cw = load_crosswalk(self.crosswalk_path)
        recs = recommendations(self.rows, self.evidence, crosswalk=cw, lang=lang)
        if recs.empty:
            out.append(p(self._t("rec.none")))
            return Block("".join(out))
        out.append(p(self._t("rec.intro", threshold=fmt_num(WEAK_THRESHOLD, lang))))
        actions = cw.actions.set_index("action")
        used_acronyms: list[str] = []
        cited: list[str] = []
        for c, grp in recs.groupby("criterion", sort=False):
            score = grp["score"].iloc[0]
            out.append(
                heading(
                    3,
                    self._t(
                        "rec.criterion",
                        criterion=criterion_label(c, lang),
                        label=rating_label(score, lang),
                        score=fmt_num(score, lang),
                    ),
                    f"rec-{c}",
                )
            )
            rows = []
            for _, r in grp.iterrows():
                acts = ", ".join(
                    esc(a) if brief else f'<a href="#pesn-{esc(a)}">{esc(a)}</a>'
                    for a in r["pesn_actions"]
                )
                cited += [a for a in r["pesn_actions"] if a not in cited]
                used_acronyms += r["institutions"]
                rows.append(
                    [
                        f"<strong>{esc(r['weakness'])}.</strong> {esc(r['recommendation'])}",
                        esc(r["mopsic_tools"].replace(";", ", ")),
                        acts,
                        esc(", ".join(r["institutions"])),
                    ]
                )
            out.append(
                table(
                    [
                        self._t("col.recommendation"),
                        self._t("col.mopsic"),
                        self._t("col.pesn"),
                        self._t("col.institutions"),
                    ],
                    rows,
                    cls="cv-compact cv-fixed cv-rec",
                )
            )
        if not brief:  # the brief cites action numbers; the full report prints their text
            out.append(self._actions_list(cited, actions))
        inst = cw.institutions.set_index("acronym")
        legend = [
            f"{esc(a)}: {esc(inst.loc[a, f'name_{lang}'])}"
            for a in dict.fromkeys(used_acronyms)
            if a in inst.index and inst.loc[a, f"name_{lang}"] != a
        ]
        if legend:
            out.append(
                p(
                    f"<strong>{esc(self._t('rec.institutions_legend'))}.</strong> "
                    + "; ".join(legend),
                    "cv-note",
                    raw=True,
                )
            )
        out.append(
            p(self._t("rec.source", crosswalk="data/crosswalk/recommendations.csv"), "cv-note")
        )
        return Block("".join(out))

    def _actions_list(self, cited: list[str], actions: pd.DataFrame) -> str:
        """The text of the cited PESN 2020-2024 actions (the table cells link here)."""
        items = "".join(
            f'<li id="pesn-{esc(a)}"><strong>{esc(a)}</strong> {esc(actions.loc[a, "action_es"])} '
            f'<span class="cv-small">({esc(self._t("col.institutions"))}: '
            f"{esc(_tidy_commas(actions.loc[a, 'responsible']))})</span></li>"
            for a in sorted(cited, key=_action_key)
        )
        return f"<h4>{esc(self._t('rec.actions'))}</h4>" + f'<ol class="cv-actions">{items}</ol>'

    @_section
    def methods(self) -> Block:
        """Appendix A: the method in plain language, with this report's parameters."""
        lang = self.lang
        params = self.data.params
        command = (
            f"copeval report {self.project.path.name} --site {self.site_id} --lang {lang} "
            f"--seed {params['seed']} --n-boot {params['n_boot']} --weight {params['weight']:g}"
        )
        if self.profile == "brief":
            out = [heading(2, self._t("sec.methods.brief"), "methods")]
            vals = method_values(params, self._ci_text, lang)
            out.append(p(self._t("methods.brief.p1", **vals)) + p(self._t("methods.brief.p2")))
            full = f"<code>{esc(command)}</code>"
            brief = f"<code>{esc(command + ' --profile brief')}</code>"
            out.append(p(self._t("methods.full_report") + " " + full, "cv-note", raw=True))
            out.append(p(self._t("methods.reproduce") + " " + brief, "cv-note", raw=True))
            return Block("".join(out))
        out = methods_appendix(
            self._t, params, self._ci_text, lang, self._t("methods.evidence_ref"), command
        )
        return Block("".join(out))

    @_section
    def evidence_appendix(self) -> Block:
        """Appendix B: every coded segment behind each rating, by source, plus survey items."""
        lang = self.lang
        out = [heading(2, self._t("sec.evidence"), "evidence", newpage=True)]
        out.append(p(self._t("evidence.intro")))
        for c in CRITERIA:
            out.append(heading(3, criterion_label(c, lang), f"evidence-{c}"))
            ev = self.evidence[self.evidence["criterion"] == c].sort_values(["source_id", "start"])
            if ev.empty:
                out.append(p(self._t("evidence.none"), "cv-note"))
            else:
                rows = []
                for source_id, grp in ev.groupby("source_id", sort=True):
                    first = grp.iloc[0]
                    who = (
                        f"{group_label(first['respondent_group'], lang)} · "
                        f"{self._t('method.' + first['method'])} · "
                        f"{self._t('consent.' + first['consent'])}"
                    )
                    segs = "; ".join(
                        f"{r['segment_id']} {r['code']} {_signed(r['valence'])}"
                        for _, r in grp.iterrows()
                    )
                    rows.append(
                        [
                            f"<strong>{esc(source_id)}</strong>",
                            esc(who),
                            f'<span class="cv-ids">{esc(segs)}</span>',
                        ]
                    )
                out.append(
                    table(
                        [
                            self._t("col.source"),
                            self._t("col.group"),
                            self._t("col.segments"),
                        ],
                        rows,
                        cls="cv-compact cv-fixed cv-evidence",
                    )
                )
            r = self._crit(c)
            if r is not None and isinstance(r["items"], str) and r["items"]:
                items = r["items"].split(";")
                out.append(p(self._t("evidence.items", items=", ".join(items)), "cv-note"))
        return Block("".join(out))


def _tidy_commas(text: str) -> str:
    """``"MINGOB , MINDEF"`` (as the plan prints it) -> ``"MINGOB, MINDEF"``."""
    return re.sub(r"\s+,", ",", text)


def _signed(value) -> str:
    """``+2``, ``0``, ``−1`` (typographic minus)."""
    return f"{int(value):+d}".replace("-", "\u2212") if int(value) else "0"


def _action_key(action: str) -> tuple:
    return tuple(int(x) for x in action.split("."))


def _strip_obstacle(label: str) -> str:
    """``"Obstacle: too few staff"`` -> ``"too few staff"`` (the sentence already says it)."""
    head, sep, rest = label.partition(": ")
    return rest if sep and head.lower() in ("obstacle", "obstáculo") else label


def _basis_key(basis) -> str:
    basis = str(basis)
    if "qualitative" in basis and "survey" in basis:
        return "basis.both"
    if basis == "qualitative":
        return "basis.qualitative"
    if basis == "survey":
        return "basis.survey"
    return "basis.none"


def _today(lang: str) -> str:
    return _month(_dt.date.today().isoformat(), lang)


def _month(date, lang: str) -> str:
    return fmt_period(str(date)[:10], lang)


def site_report_paths(out_dir, site_id: str, lang: str) -> dict:
    """Output paths of a site report: ``{"pdf": ..., "html": ..., "ipynb": ...}``."""
    stem = f"site_{site_id}_{lang}"
    return {fmt: Path(out_dir) / f"{stem}.{fmt}" for fmt in ("pdf", "html", "ipynb")}
