"""Checks of values given by a caller (a function argument, a command-line option), once.

Each check returns the value it accepted (so it can be used inline) and raises one error
type, a :class:`~copeval.errors.CopevalError`, whose message names the value and what is
accepted: the command line prints it as one line.

- :func:`check_lang`: a language copeval writes (``es``, ``en``): reports, codebook labels,
  band labels, REFI-QDA exports, redaction tags. Raises :class:`~copeval.errors.LanguageError`
  (also a ``ValueError``, as the seven checks it replaced partly raised).
- :func:`check_choice`: one of a fixed set of names (report profiles, formats, engines).
- :func:`check_sites`: ``"all"``, ``"A,B"`` or a list of site IDs, checked against a
  project's.

Both layers of ``copeval.report`` may use this module (see ``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .errors import CopevalError, LanguageError

__all__ = [
    "LANGUAGES",
    "REPORT_PROFILES",
    "as_list",
    "check_choice",
    "check_lang",
    "check_profile",
    "check_sites",
]

#: Languages copeval writes (reports, labels, exports), in the order they are listed.
LANGUAGES = ("es", "en")
#: Profiles of a site report: the complete report, or the short municipal brief.
REPORT_PROFILES = ("full", "brief")


def check_lang(
    lang, *, what: str = "language", allowed: Iterable[str] = LANGUAGES, plural: str = "languages"
) -> str:
    """``lang`` if it is one of ``allowed`` (default: ``es``, ``en``), else
    :class:`~copeval.errors.LanguageError`.

    ``what`` names the value in the message (``"report language"``); the message reads
    ``Unknown report language 'fr'. Available languages: es, en``.

    >>> check_lang("es")
    'es'
    """
    allowed = tuple(allowed)
    if not isinstance(lang, str) or lang not in allowed:
        raise LanguageError(f"Unknown {what} {lang!r}. Available {plural}: {', '.join(allowed)}")
    return lang


def check_choice(value, choices: Iterable[str], *, what: str, plural: str | None = None) -> str:
    """``value`` if it is one of ``choices``, else a :class:`CopevalError` naming both:
    ``Unknown report profile 'x'. Available profiles: full, brief`` (``plural`` defaults to
    the last word of ``what`` + ``s``)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        plural = plural or what.split()[-1] + "s"
        raise CopevalError(f"Unknown {what} {value!r}. Available {plural}: {', '.join(choices)}")
    return value


def check_profile(profile) -> str:
    """A site report profile (:data:`REPORT_PROFILES`)."""
    return check_choice(profile, REPORT_PROFILES, what="report profile")


def as_list(value) -> list[str]:
    """``"A, B"`` -> ``["A", "B"]``; a sequence -> its items as strings."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def check_sites(sites, available: Sequence[str]) -> list[str]:
    """``"all"``, ``"A,B"`` or a list -> the site IDs (strings, first occurrence kept),
    checked against ``available``; a :class:`CopevalError` naming the unknown ones and
    listing the available IDs otherwise."""
    available = [str(s) for s in available]
    if isinstance(sites, str) and sites.strip().lower() == "all":
        return list(available)
    chosen = as_list(sites)
    if not chosen:
        raise CopevalError("No sites given. Use --sites all or a comma-separated list of IDs")
    unknown = [s for s in chosen if s not in available]
    if unknown:
        raise CopevalError(
            f"Unknown site ID(s): {', '.join(unknown)}. Available site IDs: {', '.join(available)}"
        )
    return list(dict.fromkeys(chosen))
