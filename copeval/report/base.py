"""What every report shares: cover, contents, "how to read", methods appendix, and the rules
for printing a project's own text.

Site reports (:mod:`copeval.report.site`) and comparative reports
(:mod:`copeval.report.comparative`) build these parts with the functions below, so both say
the same thing the same way. Every function returns document nodes
(:mod:`copeval.report.doc`) or plain values; none returns markup.

Project text (a site's notes, the project title, the fieldwork period) passes through
:func:`usable_text` before it is printed: a value an importer wrote as a placeholder ("created
by copeval import from x.qdpx; fill in name and department", "unknown", "qc project") is
treated as missing, never printed. Text in the report's language is preferred: a column
``notes_es`` (or a metadata key ``title_es``) wins over ``notes`` in a Spanish report
(:func:`localized`).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from copeval import __version__
from copeval.vocabulary import BAND_RANGES, RATING_BANDS, band_index

from . import doc
from .i18n import fmt_count, fmt_num, fmt_pct, fmt_period, t

__all__ = [
    "contents",
    "cover",
    "display_path",
    "fieldwork_period",
    "frameworks_line",
    "how_to_read",
    "is_placeholder_text",
    "localized",
    "method_values",
    "methods_appendix",
    "project_title",
    "rating_chip",
    "reproduce_command",
    "synthetic_banner",
    "toolkit_line",
    "usable_text",
]

# ------------------------------------------------------------------ project text
#: Whole values importers and tools write when they know nothing better (compared after
#: stripping, case-insensitively). ``copeval.interop.result.minimal_sites`` writes
#: ``department = "unknown"``; REFI-QDA imports take the project title from the file's
#: ``name`` attribute, which QualCoder sets to "qc project" by default; an import that
#: knows no tool writes "unknown tool".
_PLACEHOLDER_VALUES = frozenset(
    {
        "unknown",
        "unknown tool",
        "desconocido",
        "qc project",
        "qualcoder project",
        "new project",
        "untitled",
        "untitled project",
        "sin título",
        "n. d.",
        "n.d.",
        "n/d",
        "n/a",
        "na",
        "nan",
        "none",
        "null",
        "tbd",
        "todo",
        "-",
        "--",
        "—",
        "?",
    }
)
#: Text an importer writes as a note to fill in later (``minimal_sites``: "created by copeval
#: import from x.qdpx; fill in name and department").
_PLACEHOLDER_PATTERNS = (
    re.compile(r"^\s*created by copeval import\b", re.I),
    re.compile(r"\bfill (?:it |them )?in\b.*\b(?:name|department|later)\b", re.I),
    re.compile(r"^\s*creado por copeval import\b", re.I),
)


def is_placeholder_text(value: str) -> bool:
    """True when ``value`` is text an importer or tool wrote as a placeholder.

    The checks visible in copeval's importers (:mod:`copeval.interop`); the project's own
    rule, ``copeval.project.is_placeholder``, is consulted too when it exists.
    """
    text = str(value).strip()
    if text.casefold() in _PLACEHOLDER_VALUES:
        return True
    if any(p.search(text) for p in _PLACEHOLDER_PATTERNS):
        return True
    try:  # the project module's rule (helper E), when present
        from copeval.project import is_placeholder
    except ImportError:
        return False
    return bool(is_placeholder(text))


def usable_text(value) -> bool:
    """True when ``value`` is project text a report may print.

    False for a missing value (None, NaN, ``pd.NA``), an empty or blank string, and a
    placeholder written by an importer (:func:`is_placeholder_text`). Every section checks
    project text with this before printing it.
    """
    if value is None:
        return False
    if not isinstance(value, str):
        try:
            if pd.isna(value):
                return False
        except (TypeError, ValueError):
            return False
        value = str(value)
    return bool(value.strip()) and not is_placeholder_text(value)


def localized(record, column: str, lang: str) -> str | None:
    """The text of ``column`` in ``lang``: ``<column>_<lang>`` when usable, else ``column``
    when usable, else None.

    ``record`` is a mapping or a pandas row (``sites.csv``, ``segments.csv``, metadata).
    """

    def get(key):
        try:
            value = record.get(key) if hasattr(record, "get") else record[key]
        except (KeyError, IndexError):
            return None
        return value

    for key in (f"{column}_{lang}", column):
        value = get(key)
        if usable_text(value):
            return str(value).strip()
    return None


def project_title(meta: Mapping, lang: str) -> str | None:
    """The project title in ``lang`` (``meta["title_<lang>"]`` else ``meta["title"]``), or
    None when there is none or it is a placeholder."""
    return localized(meta, "title", lang)


_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?")


def fieldwork_period(meta: Mapping, source_dates: Iterable, lang: str) -> str | None:
    """The fieldwork period as printed (``"febrero de 2017 – mayo de 2018"``).

    ``meta["period"]`` (``period_<lang>`` first) when usable; else the months of the
    earliest and latest source dates (``YYYY-MM[-DD]``); None when neither is known (the
    cover then leaves the line out rather than printing "n. d.").
    """
    period = localized(meta, "period", lang)
    if period is not None:
        return fmt_period(period, lang)
    months = sorted(
        f"{m.group(1)}-{m.group(2)}"
        for m in (_DATE.match(str(d).strip()) for d in source_dates if usable_text(d))
        if m is not None and 1 <= int(m.group(2)) <= 12
    )
    if not months:
        return None
    first, last = months[0], months[-1]
    return fmt_period(first if first == last else f"{first}/{last}", lang)


# ------------------------------------------------------------------ commands
def display_path(project_path) -> str:
    """The project folder as a reader should type it: as given when relative; relative to
    the current folder (or to the copeval checkout) when it lies inside it; else the folder
    name. Never an absolute path (it would print a user's home folder in every report)."""
    path = Path(project_path)
    if not path.is_absolute():
        return path.as_posix()
    bases = [Path.cwd()]
    try:
        from copeval import resources

        root = resources._checkout_root()
        if root is not None:
            bases.append(root)
    except Exception:
        pass
    for base in bases:
        try:
            rel = os.path.relpath(path, base)
        except ValueError:  # another drive (Windows)
            continue
        if not rel.startswith(".."):
            return Path(rel).as_posix()
    return path.name


def _quote_arg(arg: str) -> str:
    if arg and re.fullmatch(r"[A-Za-z0-9_./:=,+-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def reproduce_command(command: str, project_path, *options) -> str:
    """``copeval <command> <project> <options…>`` exactly as it runs in a shell: the project
    path as :func:`display_path` gives it, every argument quoted when it needs to be.

    ``options`` are strings or ``(flag, value)`` pairs; a pair with value None is left out.
    """
    args = ["copeval", command, display_path(project_path)]
    for opt in options:
        if isinstance(opt, tuple):
            flag, value = opt
            if value is None:
                continue
            args += [flag, value if isinstance(value, str) else f"{value:g}"]
        else:
            args.append(opt)
    return " ".join(_quote_arg(str(a)) for a in args)


# ------------------------------------------------------------------ small nodes
def rating_chip(score, lang: str, marks: str = "") -> doc.Chip:
    """The rating label of ``score`` coloured by its band, with its marks (†, ‡)."""
    i = band_index(score)
    if i is None:
        return doc.Chip(t("flag.no_data", lang), None)
    label = RATING_BANDS[i][1] if lang == "en" else RATING_BANDS[i][2]
    return doc.Chip(f"{label}{marks}", i)


def synthetic_banner(lang: str) -> doc.Callout:
    """The synthetic-data banner (title in both languages, note in ``lang``)."""
    return doc.Callout(
        doc.Para(t("cover.synthetic_note", lang)),
        kind="synthetic",
        title=f"{t('cover.synthetic', 'es')} / {t('cover.synthetic', 'en')}",
    )


def frameworks_line(lang: str) -> doc.Group:
    """The frameworks the reports apply (Frühling's criteria, MOPSIC), spelled out."""
    return doc.Group(doc.Para(t("cover.frameworks", lang)), style="frameworks")


def toolkit_line(lang: str, today: _dt.date | None = None) -> str:
    """``copeval 0.4.0 · generated May 2026`` (month only)."""
    day = (today or _dt.date.today()).isoformat()[:7]
    return f"copeval {__version__} · {t('cover.generated', lang)} {fmt_period(day, lang)}"


def cover(
    *,
    lang: str,
    title: str,
    running: str,
    kicker: str,
    heading: str,
    subtitle: str | None = None,
    ratings: doc.Table | None = None,
    facts: Iterable[tuple] = (),
    synthetic: bool = False,
    after: Iterable = (),
) -> doc.Section:
    """The cover every report opens with.

    ``title`` and ``running`` go to the document metadata (PDF title, running header);
    ``kicker`` (the report kind), ``heading`` (site or comparison) and ``subtitle`` (the
    department) are printed large; ``ratings`` is the cover's ratings table; ``facts`` are
    ``(term, text)`` pairs (fieldwork, data sources, project, toolkit); ``after`` blocks
    follow the facts (the "how to read" box of a brief). A synthetic project gets the
    banner on the cover and a footer on every page.
    """
    footer = f"{t('cover.synthetic', 'es')} / {t('cover.synthetic', 'en')}" if synthetic else ""
    blocks = [synthetic_banner(lang)] if synthetic else []
    blocks.append(doc.Group(doc.Para(kicker), style="kicker"))
    blocks.append(doc.Heading(1, heading, "cover-title", toc=False))
    if subtitle:
        blocks.append(doc.Group(doc.Para(subtitle), style="subtitle"))
    blocks.append(doc.Rule("bands"))
    if ratings is not None:
        blocks.append(ratings)
    facts = [(k, v) for k, v in facts if v]
    if facts:
        blocks.append(doc.Facts(facts))
    blocks.extend(after)
    blocks.append(frameworks_line(lang))
    return doc.Section(
        doc.DocInfo(title=title, lang=lang, running=running, footer=footer),
        doc.Group(*blocks, style="cover"),
    )


def contents(lang: str) -> doc.Section:
    """The table of contents (page numbers in print)."""
    return doc.Section(doc.Toc(t("toc.title", lang)))


# ------------------------------------------------------------------ how to read
def how_to_read(
    lang: str, ci_text: str, *, marks: bool = True, quotes: bool = True
) -> doc.Callout:
    """A plain-language box: the 0-4 scale and its five levels, what the interval means,
    what † and ‡ mean (``marks``) and that quotes are examples, not counts (``quotes``)."""
    levels = []
    for i, (lo, hi) in enumerate(BAND_RANGES):
        label = RATING_BANDS[i][1] if lang == "en" else RATING_BANDS[i][2]
        levels.append([doc.Chip(label, i), f" {fmt_num(lo, lang)}–{fmt_num(hi, lang)}"])
    items = [
        [t("howto.scale", lang), " ", *[x for lv in levels for x in (*lv, "  ")][:-1]],
        t("howto.interval", lang, ci=ci_text),
    ]
    if marks:
        items.append(t("howto.marks", lang))
    if quotes:
        items.append(t("howto.quotes", lang))
    return doc.Callout(
        doc.Bullets(items, style="plain"), kind="info", title=t("howto.title", lang)
    )


# ------------------------------------------------------------------ methods
def method_values(params: Mapping, ci_text: str, lang: str) -> dict:
    """The analysis parameters as the method texts print them."""
    return {
        "weight": fmt_num(params["weight"], lang, 2),
        "survey_weight": fmt_num(1 - float(params["weight"]), lang, 2),
        "n_boot": fmt_count(params["n_boot"], lang),
        "seed": params["seed"],
        "ci": ci_text,
    }


#: Paragraphs of the method appendix: (title key, body key), in order.
METHOD_PARAGRAPHS = (
    ("methods.h.evidence", "methods.p.evidence"),
    ("methods.h.qualitative", "methods.p.qualitative"),
    ("methods.h.survey", "methods.p.survey"),
    ("methods.h.combined", "methods.p.combined"),
    ("methods.h.strength", "methods.p.strength"),
    ("methods.h.uncertainty", "methods.p.uncertainty"),
    ("methods.h.traceability", "methods.p.traceability"),
)


def methods_appendix(
    lang: str,
    params: Mapping,
    ci_text: str,
    *,
    evidence_ref: str = "",
    command: str | None = None,
    title_key: str = "sec.methods",
    anchor: str = "methods",
    extra: Iterable = (),
) -> doc.Section:
    """Appendix A shared by every report: the method in plain language, this run's
    parameters (weights, simulation draws, seed: traceability lives here, not on the cover)
    and the command that reproduces the report, printed whole (``doc.Span(…, "code")``).

    ``extra`` blocks go before the parameters (a report's own notes).
    """
    values = method_values(params, ci_text, lang)
    out = [doc.Heading(2, t(title_key, lang), anchor, newpage=True)]
    for head, body in METHOD_PARAGRAPHS:
        out.append(
            doc.Para(
                doc.Strong(t(head, lang) + "."),
                " ",
                t(body, lang, **values, evidence_ref=evidence_ref),
            )
        )
    out.extend(extra)
    out.append(
        doc.Para(
            doc.Strong(t("cover.parameters", lang) + "."),
            " ",
            t("cover.parameters_value", lang, **values),
            style="note",
        )
    )
    if command:
        out.append(
            doc.Para(t("methods.reproduce", lang), " ", doc.Span(command, "code"), style="note")
        )
    return doc.Section(*out)


def ci_text(params: Mapping, lang: str) -> str:
    """``"90 %"`` / ``"90%"``: the interval level as printed."""
    return fmt_pct(float(params["ci"]), lang)
