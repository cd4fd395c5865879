"""The site report: every section a reader sees, in Spanish or English.

Each section is built in three steps:

1. **select** -- a pure function ``select_<section>(data, site_id, ...)`` returns what the
   section shows as language-neutral values: numbers, band indexes, flags, codes and IDs,
   never a word of ours (``tests/test_site_select.py`` tests them directly);
2. **word** -- the :class:`SiteReport` method of the same name turns that selection into
   sentences and labels with :mod:`copeval.report.i18n` (``t``; ``tn`` for every count);
3. **render** -- it returns a :class:`copeval.report.doc.Section` built only from document
   nodes, which the notebook displays (HTML) and the PDF prints (Typst).

The report notebook (``notebooks/site_report.py``) only calls the methods, one per cell::

    report = SiteReport.build(project_path, site_id="VC", lang="es")
    report.cover()
    report.contents()
    report.summary()
    ...

Project text (site notes, sources of figures, the title, quotes) is printed only when
:func:`copeval.report.base.usable_text` accepts it, in the report's language when the
project has it (``notes_es``; :func:`copeval.report.base.localized`). Internal IDs (segment
and source IDs, sub-codes, seeds, file paths) appear only in the appendices.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from copeval.errors import CopevalError
from copeval.params import DEFAULT_CI, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_WEIGHT
from copeval.resources import find_project
from copeval.scoring import STRENGTH_CEILING
from copeval.vocabulary import (
    BAND_CODES,
    CRITERIA,
    RATING_BANDS,
    RESPONDENT_GROUPS,
    STRATA,
    band_index,
    group_label,
)

from . import doc, figures, trend
from .base import (
    ci_text,
    fieldwork_period,
    how_to_read,
    localized,
    method_values,
    project_title,
    rating_chip,
    reproduce_command,
    toolkit_line,
    usable_text,
)
from .base import contents as base_contents
from .base import cover as base_cover
from .base import methods_appendix as base_methods_appendix
from .data import ReportData
from .i18n import (
    STRINGS,
    check_lang,
    criterion_label,
    fmt_count,
    fmt_interval,
    fmt_num,
    fmt_period,
    fmt_prob,
    join_list,
    stratum_label,
    t,
    tn,
)
from .i18n import t as _t
from .quotes import select_quotes, trim_quote
from .recommend import WEAK_THRESHOLD, load_crosswalk, select_recommendations
from .summary import P_CLEAR, WIDE

__all__ = [
    "PROFILES",
    "SMALL_SAMPLE",
    "SiteReport",
    "check_profile",
    "redactor",
    "select_context",
    "select_cover",
    "select_coverage",
    "select_criterion",
    "select_evidence_appendix",
    "select_methods",
    "select_ratings",
    "select_recommendations_for",
    "select_results",
    "select_robustness",
    "select_summary",
    "select_survey",
]

#: Fixed figure numbers, so re-running one cell never renumbers the others.
FIG = {"glance": 1, "heatmap": 2, "coverage": 3, "likert": 4}
#: With more sites than this, the site report compares with a subset (same department).
MAX_COMPARE = 12
#: With more sites than this, pairwise sentences give way to rank statements.
MAX_PAIRWISE = 6
#: Survey groups with fewer respondents than this get a small-sample warning.
SMALL_SAMPLE = 30
#: Below this many respondents no margin of error is printed (it would exceed 25 points).
TINY_SAMPLE = 10
#: z for the 90 % margin of error printed with the small-sample warning.
_Z90 = 1.6449
#: Report profiles and the sections each renders (the notebook calls every section; those
#: outside the profile display nothing). ``full``: the complete evaluation report.
#: ``brief``: a municipal brief for national rounds, 4-6 pages.
PROFILES = {
    "full": (
        "cover",
        "contents",
        "summary",
        "results",
        "change",
        "context",
        "criteria",
        "coverage",
        "survey",
        "robustness",
        "recommendations",
        "methods",
        "evidence_appendix",
    ),
    "brief": ("cover", "summary", "results", "change", "recommendations", "methods"),
}
#: Source methods in the order the cover counts them.
METHODS = ("interview", "focus_group", "observation", "document")


def check_profile(profile) -> str:
    """``profile`` if it names a report profile; else a clear error listing them."""
    if profile not in PROFILES:
        raise CopevalError(
            f"Unknown report profile {profile!r}. Available profiles: {', '.join(PROFILES)}"
        )
    return profile


def redactor(project, lang: str = "en"):
    """``text -> text`` applying :func:`copeval.privacy.redact` with the project's registry."""
    from copeval import privacy

    registry = privacy.load_registry(project)

    def redact(text: str) -> str:
        return privacy.redact(text, registry=registry, lang=lang)[0]

    return redact


def _flag(value) -> bool:
    try:
        return bool(value) and not pd.isna(value)
    except (TypeError, ValueError):
        return bool(value)


def _num(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _has(value) -> bool:
    """A value is there (not None, not NaN): rows of a frame hold NaN where None was put."""
    return _num(value) is not None


def _site_record(data: ReportData, site_id: str) -> dict:
    """The site's row of ``sites.csv``, with the context figures recorded for the round the
    report shows (``site_rounds.csv``) laid over it."""
    try:
        return data.project.site_context(site_id, data.round)
    except KeyError:
        return {}


# ================================================================================ SELECT
RATING_COLUMNS = (
    "criterion",
    "score",
    "lower",
    "upper",
    "band",
    "insufficient",
    "thin",
    "wide",
    "capped",
    "low_reliability",
    "reliability_issues",
    "n_segments",
    "n_sources",
    "n_groups",
    "n_respondents",
    "qual_score",
    "survey_score",
    "basis",
    "items",
)


def select_ratings(data: ReportData, site_id: str, *, wide: float = WIDE) -> pd.DataFrame:
    """One row per criterion of the site (in :data:`CRITERIA` order, rated or not):
    ``score``, ``lower``, ``upper`` (0-4), ``band`` (0..4 or None), flags ``insufficient``
    (†), ``thin`` (‡), ``wide`` (interval wider than ``wide``), ``capped``,
    ``low_reliability`` with ``reliability_issues``, evidence counts, components, ``basis``
    (``qualitative``/``survey``/``both``/``none``) and ``items``."""
    rows = data.for_site("table", site_id)
    by_c = {r["criterion"]: r for r in rows.to_dict("records")}
    out = []
    for c in CRITERIA:
        r = by_c.get(c)
        if r is None:
            continue
        score, lo, hi = _num(r.get("score")), _num(r.get("lower")), _num(r.get("upper"))
        basis = str(r.get("basis") or "")
        out.append(
            {
                "criterion": c,
                "score": score,
                "lower": lo,
                "upper": hi,
                "band": band_index(score),
                "insufficient": _flag(r.get("insufficient_evidence")),
                "thin": _flag(r.get("thin_evidence")),
                "wide": lo is not None and hi is not None and hi - lo > wide,
                "capped": _flag(r.get("capped")),
                "low_reliability": _flag(r.get("low_reliability")),
                "reliability_issues": r.get("reliability_issues")
                if isinstance(r.get("reliability_issues"), str)
                else "",
                "n_segments": int(r.get("n_segments") or 0),
                "n_sources": int(r.get("n_sources") or 0),
                "n_groups": int(r.get("n_groups") or 0),
                "n_respondents": int(r.get("n_respondents") or 0),
                "qual_score": _num(r.get("qual_score")),
                "survey_score": _num(r.get("survey_score")),
                "basis": (
                    "both"
                    if "qualitative" in basis and "survey" in basis
                    else basis
                    if basis in ("qualitative", "survey")
                    else "none"
                ),
                "items": r.get("items") if isinstance(r.get("items"), str) else "",
            }
        )
    return pd.DataFrame(out, columns=list(RATING_COLUMNS))


def _marks(r) -> str:
    return ("†" if r["insufficient"] else "") + ("‡" if r["thin"] else "")


@dataclass(frozen=True)
class CoverData:
    """What the cover shows (language-neutral; project text raw, chosen when worded)."""

    site_id: str
    name: str
    site: dict
    meta: dict
    synthetic: bool
    sources: dict  # method -> number of sources with consent
    surveys: dict  # instrument -> respondents
    source_dates: tuple
    ratings: pd.DataFrame
    round: str | None = None
    #: the fieldwork period to print, as metadata (``{"period": "2025-03/2025-06"}``): the
    #: project's, or for a project with rounds the round's own (``start``/``end`` in
    #: ``datapackage.json``; empty: derived from the round's source dates)
    period_meta: dict = field(default_factory=dict)


def _round_period(meta: dict, rnd) -> dict:
    """``{"period": "YYYY-MM/YYYY-MM"}`` of a round from its declared start and end; ``{}``
    when they are not both dates (the period is then derived from the sources)."""
    for entry in meta.get("rounds") or ():
        if isinstance(entry, dict) and str(entry.get("id")) == str(rnd):
            start, end = str(entry.get("start") or ""), str(entry.get("end") or "")
            if re.match(r"\d{4}-\d{2}", start) and re.match(r"\d{4}-\d{2}", end):
                return {"period": f"{start[:7]}/{end[:7]}"}
    return {}


def select_cover(data: ReportData, site_id: str) -> CoverData:
    """Site, project metadata, source and survey counts, source dates and the ratings."""
    src = data.for_site("sources", site_id)
    used = src[src["consent"] != "none"]
    counts = used["method"].value_counts()
    sources = {m: int(counts[m]) for m in METHODS if counts.get(m, 0)}
    mine = data.for_site("scaled_items", site_id)
    surveys = {}
    if len(mine):
        surveys = {
            str(inst): int(n)
            for inst, n in mine.groupby("instrument", sort=True)["respondent_id"].nunique().items()
        }
    dates = tuple(used["date"]) if "date" in used.columns else ()
    meta = dict(data.project.meta)
    rnd = getattr(data, "round", None)
    return CoverData(
        site_id=site_id,
        name=data.site_names[site_id],
        site=_site_record(data, site_id),
        meta=dict(data.project.meta),
        synthetic=bool(data.project.meta.get("synthetic")),
        sources=sources,
        surveys=surveys,
        source_dates=dates,
        ratings=select_ratings(data, site_id),
        round=rnd,
        period_meta=(
            {k: v for k, v in meta.items() if k == "period" or k.startswith("period_")}
            if rnd is None
            else _round_period(meta, rnd)
        ),
    )


@dataclass(frozen=True)
class SummaryData:
    """The executive summary's findings, as criterion codes, site IDs and numbers."""

    ratings: pd.DataFrame
    strongest: str | None = None
    weakest: str | None = None
    clear_gap: bool | None = None  # strongest and weakest intervals do not overlap
    all_equal: bool = False
    n_core: int = 0
    insufficient: tuple = ()
    thin: tuple = ()
    wide: tuple = ()
    missing: tuple = ()
    weak: tuple = ()
    #: clear differences with other sites: criterion, other, direction (+1 above, -1
    #: below), p (probability of that direction)
    comparisons: pd.DataFrame = field(default_factory=pd.DataFrame)
    compared_with: tuple = ()  # sites compared with (when no difference is clear)


def select_summary(
    data: ReportData,
    site_id: str,
    *,
    weak: float = WEAK_THRESHOLD,
    p_clear: float = P_CLEAR,
    max_pairwise: int = MAX_PAIRWISE,
) -> SummaryData:
    """Strongest and weakest criterion (C1-C4), marked, uncertain, missing and weak
    criteria, and the clear differences with the other sites (projects of at most
    ``max_pairwise`` sites)."""
    ratings = select_ratings(data, site_id)
    rated = ratings[ratings["score"].notna()]
    core = rated[rated["criterion"].isin(("C1", "C2", "C3", "C4"))]
    kw: dict = {}
    if len(core) >= 2:
        s = core.set_index("criterion")["score"].astype(float)
        kw["n_core"] = len(s)
        if s.max() - s.min() < 1e-9:
            kw["all_equal"] = True
        else:
            best, worst = s.idxmax(), s.idxmin()
            b, w = core.set_index("criterion").loc[best], core.set_index("criterion").loc[worst]
            kw.update(strongest=best, weakest=worst)
            if _has(b["lower"]) and _has(w["upper"]):
                kw["clear_gap"] = bool(b["lower"] > w["upper"])
    rows = []
    others: list[str] = []
    if 2 <= len(data.site_names) <= max_pairwise:
        pw = data.pairwise()
        mine = pw[(pw["site_a"] == site_id) | (pw["site_b"] == site_id)]
        for r in mine.to_dict("records"):
            if r["site_a"] == site_id:
                other, up, down = r["site_b"], r["p_a_greater"], r["p_b_greater"]
            else:
                other, up, down = r["site_a"], r["p_b_greater"], r["p_a_greater"]
            if other not in others:
                others.append(other)
            if up >= p_clear:
                rows.append((r["criterion"], other, 1, float(up)))
            elif down >= p_clear:
                rows.append((r["criterion"], other, -1, float(down)))
        order = {c: i for i, c in enumerate(CRITERIA)}
        rows.sort(key=lambda x: (order.get(x[0], 99), x[1]))
    return SummaryData(
        ratings=ratings,
        insufficient=tuple(ratings.loc[ratings["insufficient"], "criterion"]),
        thin=tuple(ratings.loc[ratings["thin"], "criterion"]),
        wide=tuple(rated.loc[rated["wide"], "criterion"]),
        missing=tuple(c for c in CRITERIA if c not in set(rated["criterion"])),
        weak=tuple(rated.loc[rated["score"] < weak, "criterion"]),
        comparisons=pd.DataFrame(rows, columns=["criterion", "other", "direction", "p"]),
        compared_with=tuple(sorted(others)),
        **kw,
    )


def compare_sites(data: ReportData, site_id: str, max_compare: int = MAX_COMPARE) -> list[str]:
    """Sites shown beside this one: all when few, else this one and its department's."""
    ids = list(data.site_names)
    if len(ids) <= max_compare:
        return ids
    sites = data.project.sites
    dept = _site_record(data, site_id).get("department")
    same = [s for s in sites.loc[sites["department"] == dept, "site_id"] if s != site_id]
    return [site_id, *same[: max_compare - 1]]


@dataclass(frozen=True)
class ResultsData:
    """The ratings plot and, in a full report, the criteria x sites grid."""

    ratings: pd.DataFrame
    grid: pd.DataFrame  # site_id, criterion, score, band, marks; sites in display order
    sites: tuple


def select_results(data: ReportData, site_id: str, *, grid: bool = True) -> ResultsData:
    """This site's ratings and (``grid``) the grid of ratings of the sites shown beside it."""
    ratings = select_ratings(data, site_id)
    sites = compare_sites(data, site_id) if grid else []
    rows = []
    if len(sites) > 1:
        order = {c: i for i, c in enumerate(CRITERIA)}
        for s in sites:
            tab = data.for_site("table", s)
            cols = [tab[c] for c in ("criterion", "score")]
            flags = [
                tab[c] if c in tab.columns else [False] * len(tab)
                for c in ("insufficient_evidence", "thin_evidence")
            ]
            mine = sorted(
                zip(*cols, *flags, strict=True), key=lambda x: order.get(x[0], len(order))
            )
            for c, score, insufficient, thin in mine:
                score = _num(score)
                rows.append(
                    {
                        "site_id": s,
                        "criterion": c,
                        "score": score,
                        "band": band_index(score),
                        "marks": ("†" if _flag(insufficient) else "")
                        + ("‡" if _flag(thin) else ""),
                    }
                )
    cols = ["site_id", "criterion", "score", "band", "marks"]
    return ResultsData(ratings, pd.DataFrame(rows, columns=cols), tuple(sites if rows else ()))


#: Numeric facts of sites.csv shown in "The site", and the column naming their source.
CONTEXT_FACTS = (
    ("population", "population_source"),
    ("homicide_rate", "homicide_source"),
    ("police", "police_source"),
    ("municipality_code", None),
)


def select_context(data: ReportData, site_id: str) -> dict:
    """The site's description: numbers from ``sites.csv`` (None when missing) and the raw
    record (its text columns are chosen by language, and checked, when worded)."""
    site = _site_record(data, site_id)

    def number(col):
        v = _num(site.get(col))
        return v

    code = site.get("municipality_code")
    return {
        "record": site,
        "population": number("population"),
        "homicide_rate": number("homicide_rate"),
        "homicide_year": number("homicide_year"),
        "police_precinct": site.get("police_precinct")
        if usable_text(site.get("police_precinct"))
        else None,
        "stations": number("stations"),
        "substations": number("substations"),
        "staff": number("staff"),
        "staff_women": number("staff_women"),
        "municipality_code": str(code) if usable_text(code) else None,
    }


def _site_evidence(data: ReportData, site_id: str) -> pd.DataFrame:
    """The site's evidence with each source's date (from the site's own sources)."""
    ev = data.for_site("evidence", site_id)
    if "date" not in ev.columns:
        src = data.for_site("sources", site_id)
        if "date" in src.columns:
            dates = dict(zip(src["source_id"], src["date"], strict=False))
            ev = ev.assign(date=ev["source_id"].map(dates))
    return ev


@dataclass(frozen=True)
class CriterionData:
    """One criterion's section: rating, balance of the evidence, obstacles, quotes."""

    criterion: str
    rating: dict | None
    n_positive: int = 0
    n_neutral: int = 0
    n_negative: int = 0
    obstacles: tuple = ()  # (code, number of negative passages), most frequent first
    quotes: pd.DataFrame = field(default_factory=pd.DataFrame)
    withheld: int = 0


def select_criterion(
    data: ReportData,
    site_id: str,
    criterion: str,
    *,
    evidence: pd.DataFrame | None = None,
    ratings: pd.DataFrame | None = None,
    redact=None,
    translation: str | None = None,
    k: int = 3,
) -> CriterionData:
    """The selection of one criterion's section.

    ``quotes`` has the columns of :func:`copeval.report.quotes.select_quotes` plus
    ``translation`` (the segment's ``translation`` column of ``segments.csv``, e.g.
    ``text_en``, redacted with ``redact``; None when absent) -- the quoted texts are data,
    not words of the report.
    """
    ev_all = _site_evidence(data, site_id) if evidence is None else evidence
    ev = ev_all[ev_all["criterion"] == criterion]
    ratings = select_ratings(data, site_id) if ratings is None else ratings
    row = ratings[ratings["criterion"] == criterion]
    rating = None if row.empty or row["score"].isna().all() else row.iloc[0].to_dict()
    v = pd.to_numeric(ev["valence"], errors="coerce")
    obstacles: tuple = ()
    obs = ev[ev["obstacle"].astype(bool) & (v < 0)]
    if len(obs):
        top = obs["code"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
        obstacles = tuple((str(c), int(n)) for c, n in top.head(3).items())
    quotes, withheld = select_quotes(ev, data.project.segment_text, k=k, redact=redact)
    quotes = quotes.copy()
    quotes["translation"] = None
    segs = data.project.segments
    if translation and translation in segs.columns and len(quotes):
        found = segs.loc[
            segs["segment_id"].isin(quotes["segment_id"]), ["segment_id", translation]
        ]
        texts = dict(zip(found["segment_id"], found[translation], strict=False))
        out = []
        for seg in quotes["segment_id"]:
            text = texts.get(seg)
            if usable_text(text):
                text = redact(str(text)) if redact is not None else str(text)
                out.append(trim_quote(text))
            else:
                out.append(None)
        quotes["translation"] = pd.Series(out, index=quotes.index, dtype=object)
    return CriterionData(
        criterion=criterion,
        rating=rating,
        n_positive=int((v > 0).sum()),
        n_neutral=int((v == 0).sum()),
        n_negative=int((v < 0).sum()),
        obstacles=obstacles,
        quotes=quotes,
        withheld=int(withheld),
    )


@dataclass(frozen=True)
class CoverageData:
    """Sources and coded passages per criterion x stratum, gaps and excluded sources."""

    sources: pd.DataFrame  # criteria x strata, ints
    segments: pd.DataFrame  # criteria x strata, ints
    gaps: tuple  # strata with no evidence at the site
    excluded: int  # sources without consent for use


def select_coverage(data: ReportData, site_id: str) -> CoverageData:
    ev = data.for_site("evidence", site_id)

    def grid(column):
        return (
            ev.groupby(["criterion", "stratum"])[column]
            .nunique()
            .unstack()
            .reindex(index=list(CRITERIA), columns=list(STRATA))
            .fillna(0)
            .astype(int)
        )

    src = data.for_site("sources", site_id)
    present = set(ev["stratum"])
    return CoverageData(
        sources=grid("source_id"),
        segments=grid("segment_id"),
        gaps=tuple(s for s in STRATA if s not in present),
        excluded=int((src["consent"] == "none").sum()),
    )


@dataclass(frozen=True)
class SurveyData:
    """The site's scaled survey answers and how many people answered each instrument."""

    items: pd.DataFrame
    respondents: dict  # instrument -> respondents at the site
    small: tuple  # instruments with fewer than SMALL_SAMPLE respondents
    survey_weight: float


def select_survey(data: ReportData, site_id: str, *, small: int = SMALL_SAMPLE) -> SurveyData:
    mine = data.for_site("scaled_items", site_id)
    if len(mine) and mine["criterion"].notna().any():
        n = mine.groupby("instrument", sort=True)["respondent_id"].nunique()
        resp = {str(k): int(v) for k, v in n.items()}
    else:
        mine, resp = mine.iloc[0:0], {}
    return SurveyData(
        items=mine,
        respondents=resp,
        small=tuple(k for k, v in resp.items() if v < small),
        survey_weight=1 - float(data.params["weight"]),
    )


@dataclass(frozen=True)
class RobustnessData:
    """Inter-coder agreement, scale consistency, sensitivity and computation notes."""

    coders: dict | None  # alpha, verdict code, n units; None: no second coding
    weak_codes: pd.DataFrame  # code, criterion, alpha (presence agreement below threshold)
    scales: pd.DataFrame  # instrument, criterion, n_items, n_respondents, alpha
    weights: tuple | None  # (lowest, highest) qualitative weight tried
    changes: dict  # criterion -> band codes seen across the sensitivity grid (if > 1)
    capped: tuple
    thin: tuple


def select_robustness(data: ReportData, site_id: str) -> RobustnessData:
    rel = data.code_reliability
    coders = None
    weak = pd.DataFrame(columns=["code", "criterion", "alpha"])
    if rel is not None and not rel.empty:
        overall = rel[rel["code"] == "ALL"]
        if len(overall):
            o = overall.iloc[0]
            alpha = o["alpha_ordinal"] if pd.notna(o["alpha_ordinal"]) else o["alpha_nominal"]
            verdict = (
                "reliable" if alpha >= 0.8 else "tentative" if alpha >= 0.667 else "unreliable"
            )
            n = int(o["n_valence_units"]) if pd.notna(o["n_valence_units"]) else 0
            coders = {"alpha": float(alpha), "verdict": verdict, "n": n}
        below = (
            rel["presence_below"] if "presence_below" in rel.columns else rel["below_threshold"]
        )
        w = rel[(rel["code"] != "ALL") & below.astype(bool)]
        weak = pd.DataFrame(
            {
                "code": w["code"].astype(str),
                "criterion": w["criterion"].astype(str),
                "alpha": w["alpha_nominal"].astype(float),
            }
        ).reset_index(drop=True)
    scales = data.scale_reliability(site_id)
    cols = ["instrument", "criterion", "n_items", "n_respondents", "alpha"]
    if scales is not None and len(scales):
        scales = scales.loc[scales["site_id"] == site_id, cols].reset_index(drop=True)
    else:
        scales = pd.DataFrame(columns=cols)
    sens = data.for_site("site_sensitivity", site_id)
    sens = sens[sens["score"].notna()]
    weights, changes = None, {}
    if len(sens):
        weights = (float(sens["weight"].min()), float(sens["weight"].max()))
        for c in CRITERIA:
            scores = sens.loc[sens["criterion"] == c, "score"].astype(float)
            codes = list(
                dict.fromkeys(BAND_CODES[band_index(s)] for s in sorted(scores.clip(0, 4)))
            )
            if len(codes) > 1:
                changes[c] = tuple(codes)
    ratings = select_ratings(data, site_id)
    return RobustnessData(
        coders=coders,
        weak_codes=weak,
        scales=scales,
        weights=weights,
        changes=changes,
        capped=tuple(ratings.loc[ratings["capped"], "criterion"]),
        thin=tuple(ratings.loc[ratings["thin"], "criterion"]),
    )


def select_recommendations_for(data: ReportData, site_id: str, crosswalk) -> pd.DataFrame:
    """Recommendations of the site's weak criteria (codes and action numbers; see
    :func:`copeval.report.recommend.select_recommendations`)."""
    ratings = select_ratings(data, site_id)
    return select_recommendations(
        ratings[["criterion", "score"]], data.for_site("evidence", site_id), crosswalk=crosswalk
    )


def select_methods(
    data: ReportData, site_id: str, *, project_path=None, profile: str = "full"
) -> dict:
    """Parameters of the analysis and the arguments of the command that reproduces it."""
    params = dict(data.params)
    path = project_path if project_path is not None else data.project.path
    rnd = getattr(data, "round", None)
    rounds = getattr(data, "rounds", None) or []
    defaults = {
        "seed": DEFAULT_SEED,
        "n_boot": DEFAULT_DRAWS,
        "weight": DEFAULT_WEIGHT,
        "ci": DEFAULT_CI,
    }

    def opt(flag, key, text):
        # a parameter at its default is left out: the command stays short and still
        # reproduces the report exactly (the parameters are listed beside it)
        return (flag, None if float(params[key]) == float(defaults[key]) else text)

    options = [
        ("--site", site_id),
        opt("--seed", "seed", str(int(params["seed"]))),
        opt("--n-boot", "n_boot", str(int(params["n_boot"]))),
        opt("--weight", "weight", f"{float(params['weight']):g}"),
        opt("--ci", "ci", f"{float(params['ci']):g}"),
        # the round, when the project has several and this is not simply the latest
        ("--round", str(rnd) if rnd is not None and rounds and rnd != rounds[-1] else None),
    ]
    return {"params": params, "project_path": path, "options": options}


def select_evidence_appendix(data: ReportData, site_id: str) -> dict:
    """Per criterion: the sources behind the rating (group, method, consent) with their
    coded passages (segment ID, code, valence), and the survey items."""
    ev = data.for_site("evidence", site_id)
    ratings = select_ratings(data, site_id).set_index("criterion")
    out = {}
    for c in CRITERIA:
        sel = ev[ev["criterion"] == c].sort_values(["source_id", "start"])
        sources = []
        for source_id, grp in sel.groupby("source_id", sort=True):
            first = grp.iloc[0]
            sources.append(
                {
                    "source_id": str(source_id),
                    "respondent_group": first["respondent_group"],
                    "method": first["method"],
                    "consent": first["consent"],
                    "segments": tuple(
                        (str(s), str(code), _num(v))
                        for s, code, v in zip(
                            grp["segment_id"], grp["code"], grp["valence"], strict=True
                        )
                    ),
                }
            )
        items = ratings.loc[c, "items"] if c in ratings.index else ""
        out[c] = {"sources": sources, "items": tuple(i for i in str(items).split(";") if i)}
    return out


# ================================================================================ WORD
def _section(method):
    """Render the section only when the report's profile includes it (else empty)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if method.__name__ not in PROFILES[self.profile]:
            return doc.Section()
        return method(self, *args, **kwargs)

    return wrapper


def _signed(value) -> str:
    """``+2``, ``0``, ``−1`` (typographic minus)."""
    if value is None or pd.isna(value):
        return ""
    v = int(value)
    return f"{v:+d}".replace("-", "\u2212") if v else "0"


def _action_key(action: str) -> tuple:
    return tuple(int(x) for x in action.split(".") if x.isdigit())


def _strip_obstacle(label: str) -> str:
    """``"Obstacle: too few staff"`` -> ``"too few staff"`` (the sentence already says it)."""
    head, sep, rest = label.partition(": ")
    return rest if sep and head.lower() in ("obstacle", "obstáculo") else label


def _instrument_name(inst: str, lang: str) -> str:
    key = f"instrument.{inst}"
    return t(key, lang) if key in STRINGS else str(inst)


def word_findings(sel: SummaryData, *, lang: str, site_name: str, site_names: dict) -> list[str]:
    """The key findings of :func:`select_summary` in words (one sentence per item)."""

    def t(key, **kw):
        return _t(key, lang, **kw)

    def _crit(c):
        return criterion_label(c, lang)

    def _crits(codes):
        return join_list([_crit(c) for c in codes], lang)

    out = []
    if sel.ratings["score"].notna().sum() == 0:
        return [t("summary.none_rated")]
    scores = sel.ratings.set_index("criterion")["score"]
    if sel.all_equal:
        c = next(iter(sel.ratings.loc[sel.ratings["score"].notna(), "criterion"]))
        out.append(t("summary.all_equal", n=sel.n_core, score=fmt_num(scores[c], lang)))
    elif sel.strongest:
        text = t(
            "summary.strongest_weakest",
            best=_crit(sel.strongest),
            best_score=fmt_num(scores[sel.strongest], lang),
            worst=_crit(sel.weakest),
            worst_score=fmt_num(scores[sel.weakest], lang),
        )
        if sel.clear_gap is not None:
            text += " " + t("summary.clear_gap" if sel.clear_gap else "summary.overlap_gap")
        out.append(text)
    if sel.insufficient:
        out.append(
            t(
                "summary.thin",
                criteria=_crits(sel.insufficient),
                reason=t("summary.thin_reason"),
            )
        )
    if sel.thin:
        out.append(t("summary.borrowed", criteria=_crits(sel.thin)))
    if sel.wide:
        out.append(t("summary.wide", criteria=_crits(sel.wide), width=fmt_num(WIDE, lang)))
    if sel.missing:
        out.append(t("summary.missing", criteria=_crits(sel.missing)))
    for r in sel.comparisons.to_dict("records"):
        key = "summary.compare_better" if r["direction"] > 0 else "summary.compare_worse"
        out.append(
            t(
                key,
                criterion=_crit(r["criterion"]),
                site=site_name,
                other=site_names.get(r["other"], r["other"]),
                p=fmt_prob(r["p"], lang),
            )
        )
    if sel.comparisons.empty and sel.compared_with:
        names = sorted(site_names.get(o, o) for o in sel.compared_with)
        out.append(
            t(
                "summary.compare_none",
                others=join_list(names, lang),
                p=fmt_num(P_CLEAR, lang, 2),
            )
        )
    if sel.weak:
        out.append(t("summary.recommend", criteria=join_list(list(sel.weak), lang)))
    return out


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
        Folder of the recommendations crosswalk (default: the one copeval ships).
    profile : {"full", "brief"}
        Which sections render (see :data:`PROFILES`).
    project_path : path, optional
        The project folder as the user gave it (printed in the reproduce command; default
        the loaded project's folder).
    """

    def __init__(
        self,
        data: ReportData,
        *,
        site_id: str,
        lang: str = "es",
        crosswalk=None,
        profile: str = "full",
        project_path=None,
    ):
        self.lang = check_lang(lang)
        data = data.for_readers(self.lang)  # free text redacted before anything renders
        self.data = data
        self.site_id = data.check_site(site_id)
        self.profile = check_profile(profile)
        self.crosswalk_path = crosswalk
        self.project = data.project
        self.project_path = project_path
        self.name = data.site_names[self.site_id]
        self.ci = float(data.params["ci"])

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
        round: str | None = None,
    ) -> SiteReport:
        """Load and score the project (or reuse ``cache_dir``), then prepare the site's
        report. ``round`` shows that round of a project with rounds (default: the latest)."""
        check_lang(lang)
        check_profile(profile)
        kwargs = {"round": round} if round is not None else {}
        data = ReportData.load(
            find_project(project_path),
            weight=weight,
            n_boot=n_boot,
            seed=seed,
            ci=ci,
            cache_dir=cache_dir,
            complete=profile == "full",  # a brief shows no reliability or sensitivity table
            **kwargs,
        )
        return cls(
            data,
            site_id=site_id,
            lang=lang,
            crosswalk=crosswalk,
            profile=profile,
            project_path=project_path,
        )

    # ------------------------------------------------------------------ helpers
    def _t(self, key, **kw) -> str:
        return t(key, self.lang, **kw)

    def _tn(self, key, n, **kw) -> str:
        return tn(key, int(n), self.lang, **kw)

    @property
    def _ci_text(self) -> str:
        return ci_text(self.data.params, self.lang)

    @functools.cached_property
    def _ratings(self) -> pd.DataFrame:
        return select_ratings(self.data, self.site_id)

    @functools.cached_property
    def _evidence(self) -> pd.DataFrame:
        return _site_evidence(self.data, self.site_id)

    def _crit(self, c: str) -> str:
        return criterion_label(c, self.lang)

    def _crits(self, codes) -> str:
        return join_list([self._crit(c) for c in codes], self.lang)

    def _code_label(self, code: str) -> str:
        """A codebook code in words (its label), never the code itself."""
        if code in CRITERIA:
            return criterion_label(code, self.lang, code=False)
        try:
            return _strip_obstacle(self.project.codebook.label(code, lang=self.lang))
        except Exception:
            return self._t("code.unknown")

    def _text(self, record, column) -> str | None:
        return localized(record, column, self.lang)

    def _evidence_counts(self, r) -> str:
        """``"14 sources · 4 respondent groups · 238 survey respondents"``; parts with no
        evidence are left out (a survey-only rating shows only its respondents)."""
        parts = []
        if r["n_sources"]:
            parts += [
                self._tn("count.sources", r["n_sources"]),
                self._tn("count.groups", r["n_groups"]),
            ]
        if r["n_respondents"]:
            parts.append(self._tn("count.respondents", r["n_respondents"]))
        return " · ".join(parts) if parts else "—"

    def _rating_value(self, r) -> str:
        return f"{fmt_num(r['score'], self.lang)}{_marks(r)}"

    # ------------------------------------------------------------------ cover
    @_section
    def cover(self) -> doc.Section:
        """Cover: site, ratings, fieldwork, data sources, project, synthetic-data banner."""
        sel = select_cover(self.data, self.site_id)
        lang = self.lang
        dept = self._text(sel.site, "department")
        facts = [
            (self._t("cover.period"), fieldwork_period(sel.period_meta, sel.source_dates, lang)),
            (self._t("cover.sources"), self._sources_text(sel)),
            (self._t("cover.project"), project_title(sel.meta, lang)),
            (self._t("cover.toolkit"), toolkit_line(lang)),
        ]
        if sel.round is not None:  # a project with rounds: the round's label, not its ID
            label = getattr(self.data, "round_label", None)
            facts.insert(
                0, (self._t("cover.round"), label(sel.round, lang) if label else sel.round)
            )
        kicker = "cover.kicker.brief" if self.profile == "brief" else "cover.kicker"
        return base_cover(
            lang=lang,
            title=self._t("doc.title", site=self.name),
            running=self._t("doc.running", site=self.name),
            kicker=self._t(kicker),
            heading=self.name,
            subtitle=self._t("cover.site_line", department=dept) if dept else None,
            ratings=self._cover_ratings(sel.ratings),
            facts=facts,
            synthetic=sel.synthetic,
        )

    def _cover_ratings(self, ratings: pd.DataFrame) -> doc.Table:
        lang = self.lang
        rows = []
        for r in ratings.to_dict("records"):
            rows.append(
                [
                    doc.Cell(
                        doc.Strong(r["criterion"]),
                        " ",
                        criterion_label(r["criterion"], lang, code=False),
                    ),
                    doc.Cell(rating_chip(r["score"], lang, _marks(r))),
                    doc.Cell(fmt_num(r["score"], lang) if _has(r["score"]) else ""),
                    doc.Cell(
                        doc.Span(fmt_interval(r["lower"], r["upper"], lang), "small")
                        if _has(r["score"])
                        else ""
                    ),
                ]
            )
        return doc.Table((), rows, numeric=(2, 3), style="cover-ratings")

    def _sources_text(self, sel: CoverData) -> str:
        lang = self.lang
        bits = [self._tn(f"sources.{m}", n) for m, n in sel.sources.items()]
        for inst, n in sel.surveys.items():
            bits.append(self._tn("sources.survey", n, instrument=_instrument_name(inst, lang)))
        return "; ".join(bits) if bits else self._t("sources.none")

    @_section
    def contents(self) -> doc.Section:
        """Table of contents (filled with page numbers when the PDF is printed)."""
        return base_contents(self.lang)

    # ------------------------------------------------------------------ summary
    @_section
    def summary(self) -> doc.Section:
        """Executive summary: lead, how to read, ratings, key findings, ratings table."""
        sel = select_summary(self.data, self.site_id)
        out = [doc.Heading(2, self._t("sec.summary"), "summary")]
        # a project with rounds: the summary leads with the largest reliable change
        change = trend.lead_change(self.data, self.site_id, self.lang)
        if change:
            out.append(doc.Para(change, style="lead"))
        out.append(
            doc.Para(self._t("summary.lead", site=self.name, ci=self._ci_text), style="lead")
        )
        # the brief shows no quotes: its box does not speak of them
        out.append(how_to_read(self.lang, self._ci_text, quotes=self.profile == "full"))
        out.append(doc.Heading(4, self._t("summary.findings"), "summary-findings", toc=False))
        out.append(doc.Callout(doc.Bullets(self._findings(sel), style="summary")))
        # the ratings once, as a table (the cover and the plot show them too)
        out.append(doc.Heading(4, self._t("summary.ratings"), "summary-ratings", toc=False))
        out.append(self._ratings_table(sel.ratings))
        if (sel.ratings["insufficient"] | sel.ratings["thin"]).any():
            out.append(doc.Para(self._t("flag.legend"), style="legend"))
        return doc.Section(*out)

    def _findings(self, sel: SummaryData) -> list[str]:
        return word_findings(
            sel, lang=self.lang, site_name=self.name, site_names=self.data.site_names
        )

    def _ratings_table(self, ratings: pd.DataFrame) -> doc.Table:
        lang = self.lang
        rows, notes = [], []
        for r in ratings.to_dict("records"):
            note = []
            if r["insufficient"]:
                note.append(self._t("flag.insufficient"))
            if r["thin"]:
                note.append(self._t("flag.thin_short"))
            if r["wide"]:
                note.append(self._t("flag.wide"))
            notes.append("; ".join(note))
            rows.append(
                [
                    doc.Cell(
                        doc.Strong(r["criterion"]),
                        " ",
                        criterion_label(r["criterion"], lang, code=False),
                    ),
                    doc.Cell(rating_chip(r["score"], lang, _marks(r))),
                    doc.Cell(fmt_num(r["score"], lang) if _has(r["score"]) else ""),
                    doc.Cell(
                        fmt_interval(r["lower"], r["upper"], lang) if _has(r["score"]) else ""
                    ),
                    doc.Cell(self._evidence_counts(r)),
                ]
            )
        header = [
            self._t("col.criterion"),
            self._t("col.rating"),
            self._t("col.score"),
            self._t("col.interval", ci=self._ci_text),
            self._t("col.evidence"),
        ]
        widths = (0.28, 0.13, 0.08, 0.11, 0.4)
        if any(notes):  # an empty column is dropped
            header.append(self._t("col.note"))
            rows = [[*row, doc.Cell(n)] for row, n in zip(rows, notes, strict=True)]
            widths = (0.25, 0.13, 0.08, 0.1, 0.26, 0.18)
        return doc.Table(header, rows, numeric=(2, 3), widths=widths)

    # ------------------------------------------------------------------ change
    @_section
    def change(self) -> doc.Section:
        """Change since the previous round (a project with rounds): the wave plot, the
        change with its interval and a sentence per criterion; one line per criterion in the
        brief; a site measured once says so (:mod:`copeval.report.trend`)."""
        if self.profile == "brief":
            return trend.trend_lines(self.data, self.site_id, self.lang)
        return trend.change_section(self.data, self.site_id, self.lang, ci_text=self._ci_text)

    # ------------------------------------------------------------------ results
    @_section
    def results(self) -> doc.Section:
        """Results at a glance: this site's ratings plot and the criteria x sites grid."""
        brief = self.profile == "brief"
        sel = select_results(self.data, self.site_id, grid=not brief)
        out = [doc.Heading(2, self._t("sec.glance"), "glance", newpage=not brief)]
        out.append(self._forest(sel.ratings))
        if len(sel.sites) > 1:
            out.append(self._grid(sel))
        return doc.Section(*out)

    def _forest(self, ratings: pd.DataFrame) -> doc.Forest:
        lang = self.lang
        rows = [
            doc.ForestRow(
                label=self._crit(r["criterion"]),
                score=_num(r["score"]),
                lower=_num(r["lower"]),
                upper=_num(r["upper"]),
                value_text=self._rating_value(r) if _has(r["score"]) else "",
                hollow=bool(_marks(r)),
            )
            for r in ratings.to_dict("records")
        ]
        bands = [en if lang == "en" else es for _, en, es in RATING_BANDS]
        return doc.Forest(
            rows,
            bands=bands,
            ticks=[(v, fmt_num(v, lang)) for v in (0, 0.8, 1.6, 2.4, 3.2, 4.0)],
            axis_title=self._t("fig.axis.score"),
            caption=self._t("fig.glance", n=FIG["glance"], ci=self._ci_text),
        )

    def _grid(self, sel: ResultsData) -> doc.Table:
        lang = self.lang
        criteria = [c for c in CRITERIA if c in set(sel.grid["criterion"])]
        by_key = {(r["site_id"], r["criterion"]): r for r in sel.grid.to_dict("records")}
        rows = []
        for s in sel.sites:
            cells = [doc.Cell(self.data.site_names.get(s, s), bold=s == self.site_id)]
            for c in criteria:
                r = by_key.get((s, c))
                if r is None or pd.isna(r["band"]):
                    cells.append(doc.Cell(self._t("fig.no_data"), band="na"))
                    continue
                band = int(r["band"])
                label = RATING_BANDS[band][1 if lang == "en" else 2]
                cells.append(
                    doc.Cell(
                        f"{fmt_num(r['score'], lang)}{r['marks']} ",
                        doc.Span(label, "small"),
                        band=band,
                    )
                )
            rows.append(cells)
        return doc.Table(
            ["", *[self._crit(c) for c in criteria]],
            rows,
            style="heat",
            row_header=True,
            highlight=[i for i, s in enumerate(sel.sites) if s == self.site_id],
            caption=self._t("fig.heatmap", n=FIG["heatmap"]),
        )

    # ------------------------------------------------------------------ context
    @_section
    def context(self) -> doc.Section:
        """The site in figures: population, violence, police deployment (described, not scored)."""
        lang = self.lang
        sel = select_context(self.data, self.site_id)
        rec = sel["record"]
        facts = []

        def add(label_key, text, source_col=None):
            src = self._text(rec, source_col) if source_col else None
            value = [text]
            if src:
                value += [" ", doc.Span(self._t("context.source", source=src), "small")]
            facts.append((self._t(label_key), value))

        if sel["population"] is not None:
            add("context.population", fmt_count(sel["population"], lang), "population_source")
        if sel["homicide_rate"] is not None:
            text = fmt_num(sel["homicide_rate"], lang)
            if sel["homicide_year"] is not None:
                text += f" ({int(sel['homicide_year'])})"
            add("context.homicide", text, "homicide_source")
        police = []
        if sel["police_precinct"] is not None:
            police.append(f"{self._t('context.precinct')} {sel['police_precinct']}")
        for col in ("stations", "substations"):
            if sel[col] is not None:
                police.append(f"{self._t(f'context.{col}')}: {fmt_count(sel[col], lang)}")
        if sel["staff"] is not None:
            staff = f"{self._t('context.staff')}: {fmt_count(sel['staff'], lang)}"
            if sel["staff_women"] is not None:
                staff += (
                    f" ({self._t('context.staff_women')}: {fmt_count(sel['staff_women'], lang)})"
                )
            police.append(staff)
        if police:
            add("context.police", " · ".join(police), "police_source")
        if sel["municipality_code"] is not None:
            add("context.municipality_code", sel["municipality_code"])
        notes = self._text(rec, "notes")
        out = [
            doc.Heading(2, self._t("sec.context"), "context"),
            doc.Para(self._t("context.intro")),
        ]
        if facts:
            out.append(doc.Facts(facts))
        if notes:
            out.append(doc.Para(notes, style="note"))
        if not facts and not notes:
            out.append(doc.Para(self._t("context.none"), style="note"))
        return doc.Section(doc.Group(*out, style="keep"))

    # ------------------------------------------------------------------ criteria
    @_section
    def criteria(self) -> doc.Section:
        """One section per criterion: rating, evidence balance, obstacles, quotes, warnings."""
        out = [doc.Heading(2, self._t("sec.criteria"), "criteria")]
        redact = redactor(self.project, self.lang)
        for c in CRITERIA:
            sel = select_criterion(
                self.data,
                self.site_id,
                c,
                evidence=self._evidence,
                ratings=self._ratings,
                redact=redact,
                translation=f"text_{self.lang}",
            )
            out.append(self._criterion_section(sel))
        return doc.Section(*out)

    def _criterion_section(self, sel: CriterionData) -> doc.Group:
        lang = self.lang
        c = sel.criterion
        head = doc.Group(
            doc.Heading(3, criterion_label(c, lang), f"crit-{c.lower()}"),
            doc.Para(self._t(f"crit.definition.{c}"), style="def"),
            style="criterion-head",
        )
        out: list = [head]
        r = sel.rating
        if r is None:
            out.append(doc.Para(self._t("crit.rating_missing")))
        else:
            out.append(
                doc.Para(
                    rating_chip(r["score"], lang, _marks(r)),
                    " ",
                    self._t(
                        "crit.rating",
                        score=fmt_num(r["score"], lang),
                        ci=self._ci_text,
                        interval=fmt_interval(r["lower"], r["upper"], lang),
                    ),
                )
            )
            out.append(doc.Para(self._components(r)))
            sentences = []
            if r["n_segments"]:
                sentences.append(
                    self._t(
                        "crit.evidence",
                        segments=self._tn("count.passages", r["n_segments"]),
                        sources=self._tn("count.sources", r["n_sources"]),
                        groups=self._tn("count.groups", r["n_groups"]),
                    )
                )
            if r["n_respondents"]:
                key = "crit.evidence_survey" if r["n_segments"] else "crit.evidence_survey_only"
                sentences.append(self._tn(key, r["n_respondents"]))
            if sentences:
                out.append(doc.Para(" ".join(sentences)))
            if _marks(r):
                out.append(doc.Callout(doc.Para(self._t("flag.legend")), kind="warning"))
            if r["low_reliability"]:
                out.append(
                    doc.Callout(
                        doc.Para(
                            doc.Strong(self._t("crit.warning") + ":"),
                            " ",
                            self._reliability_text(r["reliability_issues"]),
                        ),
                        kind="warning",
                    )
                )
        total = sel.n_positive + sel.n_neutral + sel.n_negative
        if total:
            parts = [
                self._tn(key, n)
                for key, n in (
                    ("crit.balance.pos", sel.n_positive),
                    ("crit.balance.neu", sel.n_neutral),
                    ("crit.balance.neg", sel.n_negative),
                )
                if n
            ]
            out.append(doc.Para(self._tn("crit.balance", total, parts=join_list(parts, lang))))
        if sel.obstacles:
            names = [
                f"{self._code_label(code)} ({self._tn('count.mentions', n)})"
                for code, n in sel.obstacles
            ]
            out.append(doc.Para(self._t("crit.obstacles", obstacles=join_list(names, lang))))
        out.append(doc.Heading(4, self._t("crit.quotes"), f"quotes-{c.lower()}", toc=False))
        if sel.quotes.empty:
            out.append(doc.Para(self._t("crit.no_quotes"), style="note"))
        for q in sel.quotes.to_dict("records"):
            out += self._quote(q)
        if sel.withheld:
            out.append(doc.Para(self._tn("crit.withheld", sel.withheld), style="note"))
        return doc.Group(*out, style="criterion")

    def _components(self, r) -> str:
        lang = self.lang
        parts = []
        if _has(r["qual_score"]):
            parts.append(self._t("crit.component.qual", score=fmt_num(r["qual_score"], lang)))
        if _has(r["survey_score"]):
            parts.append(self._t("crit.component.survey", score=fmt_num(r["survey_score"], lang)))
        only = {"qualitative": "crit.only_qual", "survey": "crit.only_survey"}.get(r["basis"])
        text = self._t("crit.components", parts=join_list(parts, lang)) if parts else ""
        if only:
            text += " " + self._t(only)
        return text.strip()

    def _reliability_text(self, issues: str) -> str:
        lang = self.lang
        parts = []
        for item in (issues or "").split(";"):
            if not item:
                continue
            what, _, alpha = item.rpartition(":")
            name, _, measure = what.rpartition(":")
            a = fmt_num(float(alpha), lang, 2)
            if measure == "valence":
                label = self._crit(name) if name in CRITERIA else self._code_label(name)
                parts.append(self._t("crit.reliability.valence", criterion=label, alpha=a))
            else:
                parts.append(
                    self._t("crit.reliability.presence", code=self._code_label(name), alpha=a)
                )
        return self._t("crit.reliability") + (": " + "; ".join(parts) if parts else "")

    def _quote(self, q: dict) -> list:
        lang = self.lang
        group = q.get("respondent_group")
        role = group_label(group, lang) if group in RESPONDENT_GROUPS else ""
        m = q.get("method")
        method = self._t(f"method.{m}") if f"method.{m}" in STRINGS else ""
        language = q.get("language")
        translation = q.get("translation")
        foreign = isinstance(language, str) and language and language != lang
        if foreign:
            key = f"language.{language}"
            if key in STRINGS:
                method = f"{method}, {self._t('quote.original_in', language=self._t(key))}"
        date = q.get("date")
        who = ", ".join(x for x in (role, self.name) if x)
        if usable_text(date):
            attribution = self._t(
                "quote.attribution",
                who=who,
                method=method,
                date=fmt_period(str(date)[:7], lang),  # month only: a day could identify
            )
        else:
            attribution = self._t("quote.attribution_nodate", who=who, method=method)
        out = [doc.Quote(q["text"], "— ", attribution)]
        if foreign and usable_text(translation):
            out.append(
                doc.Para(
                    doc.Emph(self._t("quote.translation") + ":"), " ", translation, style="small"
                )
            )
        return out

    # ------------------------------------------------------------------ coverage
    @_section
    def coverage(self) -> doc.Section:
        """Evidence coverage by respondent group (triangulation)."""
        import matplotlib as mpl
        from matplotlib.colors import to_hex

        lang = self.lang
        sel = select_coverage(self.data, self.site_id)
        vmax = max(3.0, float(sel.sources.to_numpy().max()) if sel.sources.size else 3.0)
        blues = mpl.colormaps["Blues"]
        rows = []
        for c in CRITERIA:
            cells = [doc.Cell(self._crit(c))]
            for g in STRATA:
                s, n = int(sel.sources.at[c, g]), int(sel.segments.at[c, g])
                if s == 0:
                    cells.append(doc.Cell("—", band="empty"))
                    continue
                shade = 0.15 + 0.7 * s / vmax
                ink = "#ffffff" if shade > 0.55 else "#1f2d3d"
                cells.append(doc.Cell(f"{s} ({n})", fill=to_hex(blues(shade)), ink=ink))
            rows.append(cells)
        out = [
            doc.Heading(2, self._t("sec.coverage"), "coverage", newpage=True),
            doc.Para(self._t("coverage.intro")),
            doc.Table(
                [self._t("col.criterion"), *[stratum_label(g, lang) for g in STRATA]],
                rows,
                style="coverage",
                row_header=True,
                caption=self._t("fig.coverage", n=FIG["coverage"]),
            ),
        ]
        more = []
        if sel.gaps:
            more.append(
                doc.Para(
                    self._t(
                        "coverage.gaps",
                        groups=join_list([stratum_label(s, lang) for s in sel.gaps], lang),
                    )
                )
            )
        if sel.excluded:
            more.append(doc.Para(self._tn("coverage.excluded", sel.excluded)))
        return doc.Section(doc.Group(*out, style="keep"), *more)

    # ------------------------------------------------------------------ survey
    @_section
    def survey(self) -> doc.Section:
        """Diverging bars of the site's survey answers per criterion and instrument, with a
        warning where few people answered."""
        lang = self.lang
        sel = select_survey(self.data, self.site_id)
        out = [doc.Heading(2, self._t("sec.survey"), "survey")]
        if sel.items.empty:
            out.append(doc.Para(self._t("fig.survey_none")))
            return doc.Section(doc.Group(*out, style="keep"))
        out.append(
            doc.Para(self._t("survey.intro", survey_weight=fmt_num(sel.survey_weight, lang, 2)))
        )
        counts = [
            self._tn("survey.answered", n, instrument=_instrument_name(i, lang))
            for i, n in sel.respondents.items()
        ]
        out.append(doc.Para(self._t("survey.counts", counts=join_list(counts, lang))))
        for inst in sel.small:
            n = sel.respondents[inst]
            # the 90 % margin of error of a percentage near 50 % (its widest)
            margin = round(100 * _Z90 * 0.5 / math.sqrt(max(n, 1)))
            out.append(
                doc.Callout(
                    doc.Para(
                        self._tn(
                            "survey.small" if n >= TINY_SAMPLE else "survey.tiny",
                            n,
                            instrument=_instrument_name(inst, lang),
                            margin=margin,
                            threshold=SMALL_SAMPLE,
                        )
                    ),
                    kind="warning",
                )
            )
        # drawn natively by each backend (no matplotlib: a third of a second less per report)
        rows = figures.likert_rows(sel.items, lang=lang)
        out.append(
            doc.Likert(
                [doc.LikertRow(label, n, shares / 100) for label, shares, n in rows],
                categories=self._t("fig.likert.levels").split("|"),
                axis_title=self._t("fig.axis.share"),
                caption=self._t("fig.likert", n=FIG["likert"]),
            )
        )
        return doc.Section(doc.Group(*out, style="keep"))

    # ------------------------------------------------------------------ robustness
    @_section
    def robustness(self) -> doc.Section:
        """Agreement between coders, consistency of the survey scales, sensitivity."""
        lang = self.lang
        sel = select_robustness(self.data, self.site_id)
        out = [doc.Heading(2, self._t("sec.robustness"), "robustness", newpage=True)]
        if sel.coders is None:
            out.append(doc.Para(self._t("rob.coders_none")))
        else:
            out.append(
                doc.Para(
                    self._tn(
                        "rob.coders_summary",
                        sel.coders["n"],
                        alpha=fmt_num(sel.coders["alpha"], lang, 2),
                        verdict=self._t(f"rob.verdict.{sel.coders['verdict']}"),
                    )
                )
            )
        if len(sel.weak_codes):
            names = [
                f"{self._code_label(code)} ({fmt_num(a, lang, 2)})"
                for code, a in zip(sel.weak_codes["code"], sel.weak_codes["alpha"], strict=True)
            ]
            out.append(
                doc.Callout(
                    doc.Para(self._tn("rob.weak_codes", len(names), codes=join_list(names, lang))),
                    kind="warning",
                )
            )
        if len(sel.scales):
            out.append(doc.Para(self._t("rob.scales")))
            rows = []
            for r in sel.scales.to_dict("records"):
                crit = r["criterion"]
                label = self._crit(crit) if crit in CRITERIA else str(crit)
                alpha = _num(r["alpha"])
                verdict = (
                    ""
                    if alpha is None
                    else self._t(
                        "rob.scale.good"
                        if alpha >= 0.7
                        else "rob.scale.fair"
                        if alpha >= 0.6
                        else "rob.scale.poor"
                    )
                )
                rows.append(
                    [
                        f"{label} · {_instrument_name(r['instrument'], lang)}",
                        fmt_count(r["n_items"], lang),
                        fmt_count(r["n_respondents"], lang),
                        f"{fmt_num(alpha, lang, 2)} {verdict}".strip(),
                    ]
                )
            out.append(
                doc.Table(
                    [
                        self._t("col.scale"),
                        self._t("col.questions"),
                        self._t("col.people"),
                        self._t("col.consistency"),
                    ],
                    rows,
                    numeric=(1, 2),
                )
            )
        if sel.weights is not None:
            text = self._t(
                "rob.sensitivity",
                wmin=fmt_num(sel.weights[0], lang, 2),
                wmax=fmt_num(sel.weights[1], lang, 2),
            )
            if sel.changes:
                items = [
                    self._t(
                        "rob.sensitivity_change_item",
                        criterion=self._crit(c),
                        labels=" – ".join(
                            RATING_BANDS[BAND_CODES.index(code)][1 if lang == "en" else 2]
                            for code in codes
                        ),
                    )
                    for c, codes in sel.changes.items()
                ]
                text += " " + self._tn(
                    "rob.sensitivity_changes", len(items), changes="; ".join(items)
                )
            else:
                text += " " + self._t("rob.sensitivity_stable")
            out.append(doc.Para(text))
        notes = [
            f"{self._crit(c)}: {self._t('flag.capped', ceiling=fmt_num(STRENGTH_CEILING, lang))}"
            for c in sel.capped
        ] + [f"{self._crit(c)}: {self._t('flag.thin')}" for c in sel.thin]
        if notes:
            out.append(doc.Para(self._t("rob.warnings") + ":", style="note"))
            out.append(doc.Bullets(notes, style="summary"))
        return doc.Section(*out)

    # ------------------------------------------------------------------ recommendations
    @_section
    def recommendations(self) -> doc.Section:
        """Weak criteria linked to MOPSIC tools and PESN 2020–2024 actions (crosswalk)."""
        lang = self.lang
        brief = self.profile == "brief"
        cw = load_crosswalk(self.crosswalk_path)
        recs = select_recommendations_for(self.data, self.site_id, cw)
        out = [
            doc.Heading(2, self._t("sec.recommendations"), "recommendations", newpage=not brief)
        ]
        if recs.empty:
            out.append(doc.Para(self._t("rec.none")))
            return doc.Section(*out)
        out.append(doc.Para(self._t("rec.intro", threshold=fmt_num(WEAK_THRESHOLD, lang))))
        tools = list(dict.fromkeys(x for ts in recs["mopsic_tools"] for x in ts))
        described = [cw.tool_text(x, lang) for x in tools if cw.tool_text(x, lang)]
        if described:
            out.append(
                doc.Para(
                    self._tn("rec.tools", len(described), tools=join_list(described, lang)),
                    style="note",
                )
            )
        table = cw.table.set_index("code")
        used_acronyms: list[str] = []
        cited: list[str] = []
        for c, grp in recs.groupby("criterion", sort=False):
            score = grp["score"].iloc[0]
            out.append(
                doc.Heading(
                    3,
                    self._t(
                        "rec.criterion",
                        criterion=self._crit(c),
                        label=RATING_BANDS[band_index(score)][1 if lang == "en" else 2],
                        score=fmt_num(score, lang),
                    ),
                    f"rec-{c.lower()}",
                )
            )
            rows = []
            for r in grp.to_dict("records"):
                row = table.loc[r["code"]]
                cited += [a for a in r["pesn_actions"] if a not in cited]
                used_acronyms += r["institutions"]
                rows.append(
                    [
                        doc.Cell(
                            doc.Strong(f"{row[f'weakness_{lang}']}."),
                            " ",
                            row[f"recommendation_{lang}"],
                        ),
                        doc.Cell(", ".join(r["mopsic_tools"])),
                        doc.Cell(", ".join(r["pesn_actions"])),
                        doc.Cell(", ".join(r["institutions"])),
                    ]
                )
            out.append(
                doc.Table(
                    [
                        self._t("col.recommendation"),
                        self._t("col.mopsic"),
                        self._t("col.pesn"),
                        self._t("col.institutions"),
                    ],
                    rows,
                    style="rec",
                    widths=(0.52, 0.13, 0.13, 0.22),
                )
            )
        if not brief:  # the brief cites action numbers; the full report prints their text
            out += self._actions_list(cited, cw)
        inst = cw.institutions.set_index("acronym")
        legend = [
            f"{a}: {inst.loc[a, f'name_{lang}']}"
            for a in dict.fromkeys(used_acronyms)
            if a in inst.index and inst.loc[a, f"name_{lang}"] != a
        ]
        if legend:
            out.append(
                doc.Para(
                    doc.Strong(self._t("rec.institutions_legend") + "."),
                    " ",
                    "; ".join(legend),
                    style="note",
                )
            )
        out.append(doc.Para(self._t("rec.source"), style="note"))
        return doc.Section(*out)

    def _actions_list(self, cited: list[str], cw) -> list:
        """The text of the cited PESN 2020-2024 actions, in the report's language when the
        crosswalk has a translation (marked as the project's)."""
        lang = self.lang
        items, translated, original = [], False, False
        for a in sorted(cited, key=_action_key):
            text, is_translation = cw.action_text(a, lang)
            translated |= is_translation
            original |= lang != "es" and not is_translation
            resp = cw.responsible(a)
            items.append(
                [
                    doc.Strong(a),
                    " ",
                    text,
                    " ",
                    doc.Span(f"({self._t('col.institutions')}: {resp})", "small"),
                ]
            )
        out = [
            doc.Heading(4, self._t("rec.actions"), "pesn-actions", toc=False),
            doc.Numbered(items, style="actions"),
        ]
        if translated:
            out.append(doc.Para(self._t("rec.actions_translated"), style="note"))
        if original:
            out.append(doc.Para(self._t("rec.actions_original"), style="note"))
        return out

    # ------------------------------------------------------------------ methods
    def _command(self, *extra) -> str:
        sel = select_methods(self.data, self.site_id, project_path=self.project_path)
        return reproduce_command(
            "report",
            sel["project_path"],
            *sel["options"][:1],
            ("--lang", self.lang),
            *sel["options"][1:],
            *extra,
        )

    @_section
    def methods(self) -> doc.Section:
        """Appendix A: the method in plain language, this report's parameters and command
        (the brief: a short "About this brief" with both commands)."""
        lang = self.lang
        params = self.data.params
        if self.profile == "brief":
            vals = method_values(params, self._ci_text, lang)
            return doc.Section(
                doc.Heading(2, self._t("sec.methods.brief"), "methods"),
                doc.Para(self._t("methods.brief.p1", **vals)),
                doc.Para(self._t("methods.brief.p2")),
                doc.Para(
                    doc.Strong(self._t("cover.parameters") + "."),
                    " ",
                    self._t("cover.parameters_value", **vals),
                    style="note",
                ),
                doc.Para(
                    self._t("methods.full_report"),
                    " ",
                    doc.Span(self._command(), "code"),
                    style="note",
                ),
                doc.Para(
                    self._t("methods.reproduce"),
                    " ",
                    doc.Span(self._command("--profile", "brief"), "code"),
                    style="note",
                ),
            )
        extra = [
            doc.Para(
                doc.Strong(self._t("methods.h.measures") + "."), " ", self._t("methods.p.measures")
            ),
            doc.Para(
                doc.Strong(self._t("methods.h.crosswalk") + "."),
                " ",
                self._t("methods.p.crosswalk"),
                " ",
                doc.Span("recommendations.csv", "code"),
                ", ",
                doc.Span("pesn_actions.csv", "code"),
                ", ",
                doc.Span("pesn_actions_en.csv", "code"),
                ").",
            ),
        ]
        return base_methods_appendix(
            lang,
            params,
            self._ci_text,
            evidence_ref=self._t("methods.evidence_ref"),
            command=self._command(),
            extra=extra,
        )

    # ------------------------------------------------------------------ evidence appendix
    @_section
    def evidence_appendix(self) -> doc.Section:
        """Appendix B: every coded passage behind each rating, by source, and the survey
        items (the traceability the reading text leaves out: IDs, codes, valences)."""
        lang = self.lang
        sel = select_evidence_appendix(self.data, self.site_id)
        out = [
            doc.Heading(2, self._t("sec.evidence"), "evidence", newpage=True),
            doc.Para(self._t("evidence.intro")),
        ]
        for c in CRITERIA:
            out.append(doc.Heading(3, self._crit(c), f"evidence-{c.lower()}"))
            entry = sel[c]
            if not entry["sources"]:
                out.append(doc.Para(self._t("evidence.none"), style="note"))
            else:
                rows = []
                for s in entry["sources"]:
                    g = s["respondent_group"]
                    who = " · ".join(
                        [
                            group_label(g, lang),
                            self._t(f"method.{s['method']}")
                            if f"method.{s['method']}" in STRINGS
                            else str(s["method"]),
                            self._t(f"consent.{s['consent']}")
                            if f"consent.{s['consent']}" in STRINGS
                            else str(s["consent"]),
                        ]
                    )
                    segs = "; ".join(
                        f"{seg} {code} {_signed(v)}" for seg, code, v in s["segments"]
                    )
                    rows.append(
                        [
                            doc.Cell(doc.Strong(s["source_id"])),
                            doc.Cell(who),
                            doc.Cell(doc.Span(segs, "ids")),
                        ]
                    )
                out.append(
                    doc.Table(
                        [self._t("col.source"), self._t("col.group"), self._t("col.segments")],
                        rows,
                        style="evidence",
                        widths=(0.16, 0.3, 0.54),
                    )
                )
            if entry["items"]:
                out.append(
                    doc.Para(
                        self._t("evidence.items", items=", ".join(entry["items"])), style="note"
                    )
                )
        return doc.Section(*out)


def site_report_paths(out_dir, site_id: str, lang: str) -> dict:
    """Output paths of a site report: ``{"pdf": ..., "html": ..., "ipynb": ...}``."""
    stem = f"site_{site_id}_{lang}"
    return {fmt: Path(out_dir) / f"{stem}.{fmt}" for fmt in ("pdf", "html", "ipynb")}
