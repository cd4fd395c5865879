"""Controlled vocabularies shared by every part of copeval, with Spanish and English labels.

One place for the criteria, respondent groups and their triangulation strata, methods,
consent levels and rating labels, so that validation, scoring and reports agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from ._validate import LANGUAGES, check_lang

__all__ = [
    "BAND_CODES",
    "BAND_RANGES",
    "CONSENT_LEVELS",
    "CRITERIA",
    "CRITERION_LABELS",
    "DISPLAY_DIGITS",
    "LANGUAGES",
    "METHODS",
    "RATING_BANDS",
    "RESPONDENT_GROUPS",
    "STRATA",
    "STRATUM_LABELS",
    "band_code",
    "band_index",
    "band_label",
    "display_value",
    "group_label",
    "parse_respondent_groups",
    "rating_label",
]


#: Frühling's four criteria and the auxiliary accountability-and-trust dimension.
CRITERIA = ("C1", "C2", "C3", "C4", "AT")

CRITERION_LABELS = {
    "C1": {"en": "Small-area focus", "es": "Enfoque en áreas pequeñas"},
    "C2": {
        "en": "Community relationship and consultation",
        "es": "Relación y consulta con la comunidad",
    },
    "C3": {"en": "Problem solving", "es": "Resolución de problemas"},
    "C4": {"en": "Analysis of conditions", "es": "Análisis de condiciones"},
    "AT": {"en": "Accountability and trust", "es": "Rendición de cuentas y confianza"},
}

#: Triangulation strata: scoring gives each an equal voice.
STRATA = ("police", "community", "authorities", "field")

STRATUM_LABELS = {
    "police": {"en": "Police", "es": "Policía"},
    "community": {"en": "Community", "es": "Comunidad"},
    "authorities": {"en": "Authorities and justice", "es": "Autoridades y justicia"},
    "field": {"en": "Observation and documents", "es": "Observación y documentos"},
}

#: respondent_group -> (stratum, English label, Spanish label)
RESPONDENT_GROUPS = {
    "police_operational": ("police", "Operational police", "Policía operativa"),
    "police_prevention": ("police", "Prevention police", "Policía de prevención"),
    "police_command": (
        "police",
        "Police command and administration",
        "Mando policial y administración",
    ),
    "community_member": ("community", "Community member", "Vecino/a de la comunidad"),
    "community_leader": (
        "community",
        "Community leader or traditional authority",
        "Liderazgo comunitario o autoridad tradicional",
    ),
    "municipal_authority": ("authorities", "Municipal authority", "Autoridad municipal"),
    "justice_sector": ("authorities", "Justice sector", "Sector justicia"),
    "civil_society": ("authorities", "Civil society", "Sociedad civil"),
    "expert": ("authorities", "Expert", "Persona experta"),
    "observation": ("field", "Field observation", "Observación de campo"),
    "document": ("field", "Document", "Documento"),
}

METHODS = ("interview", "focus_group", "observation", "document")

#: quote: may be quoted (by role and site); anonymous: evidence only; none: not used at all.
CONSENT_LEVELS = ("none", "anonymous", "quote")

#: Printed precision of ratings (one decimal): bands are those of the printed value.
DISPLAY_DIGITS = 1

#: Rating bands: (upper bound on the unrounded 0-4 score, English label = code, Spanish
#: label). A score belongs to the band of its **printed** value, rounded half-up to one
#: decimal (:func:`display_value`): printed 0.0-0.7 absent, 0.8-1.5 limited, 1.6-2.3
#: passable, 2.4-3.1 acceptable, 3.2-4.0 strong. On the unrounded scale the bands therefore
#: end at 0.75, 1.55, 2.35 and 3.15 (closed below: 0.75 prints 0.8 and is limited).
RATING_BANDS = (
    (0.75, "absent", "ausente"),
    (1.55, "limited", "incipiente"),
    (2.35, "passable", "parcial"),
    (3.15, "acceptable", "aceptable"),
    (4.0, "strong", "consolidado"),
)
#: Band codes of the score table's ``band`` column, lowest first.
BAND_CODES = tuple(en for _, en, _ in RATING_BANDS)
#: Printed ranges of the bands, for legends: (lowest, highest) printed value.
BAND_RANGES = ((0.0, 0.7), (0.8, 1.5), (1.6, 2.3), (2.4, 3.1), (3.2, 4.0))


def display_value(score: float, digits: int = DISPLAY_DIGITS) -> float:
    """``score`` rounded half-up to ``digits`` decimals, as reports print it.

    Float noise is absorbed (``2.3999999999999995`` gives 2.4, ``0.75`` gives 0.8, ``0.85``
    gives 0.9), so the printed value and the band never disagree.
    """
    scale = 10**digits
    return math.floor(float(score) * scale + 0.5 + 1e-9) / scale


def band_index(score) -> int | None:
    """Index 0..4 of the rating band of ``score`` (None when missing): the band of the
    printed value (:func:`display_value`)."""
    if score is None:
        return None
    try:
        value = float(score)
    except (TypeError, ValueError):
        return None
    if math.isnan(value):
        return None
    if not -1e-9 <= value <= 4 + 1e-9:
        raise ValueError(f"score must lie in 0..4, got {score!r}")
    shown = display_value(value)
    for i, (_lo, hi) in enumerate(BAND_RANGES):
        if shown <= hi + 1e-9:
            return i
    return len(RATING_BANDS) - 1


def band_code(score) -> str | None:
    """Band code (``absent|limited|passable|acceptable|strong``) of a score, None if missing."""
    i = band_index(score)
    return None if i is None else BAND_CODES[i]


def band_label(code, lang: str = "en") -> str:
    """Display label of a band code (``"acceptable"`` -> ``"aceptable"``); ``""`` if missing."""
    check_lang(lang)
    if not isinstance(code, str) or code not in BAND_CODES:
        return ""
    _, en, es = RATING_BANDS[BAND_CODES.index(code)]
    return en if lang == "en" else es


def rating_label(score: float, lang: str = "en") -> str:
    """Label of a 0-4 score: the band of its printed value (see :data:`RATING_BANDS`).

    Printed 0.0-0.7 absent, 0.8-1.5 limited, 1.6-2.3 passable, 2.4-3.1 acceptable, 3.2-4.0
    strong. A missing score gives an empty string.
    """
    check_lang(lang)
    code = band_code(score)
    return "" if code is None else band_label(code, lang)


def group_label(group: str, lang: str = "en", groups: Mapping | None = None) -> str:
    """Display label of a respondent group (used to attribute quotes: role, never name).

    ``groups`` is a project's group list (:func:`parse_respondent_groups`, or
    ``project.meta["respondent_groups"]`` as declared); default: :data:`RESPONDENT_GROUPS`.
    A group in neither is shown by its ID rather than failing.
    """
    table = groups if isinstance(groups, Mapping) else parse_respondent_groups(groups)[0]
    entry = table.get(group) or RESPONDENT_GROUPS.get(group)
    if entry is None:
        return str(group)
    _, en, es = entry
    return en if lang == "en" else es


_GROUP_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def parse_respondent_groups(declared) -> tuple[dict, list[str]]:
    """The respondent groups of a project: the defaults plus the project's own.

    A project declares its own groups in ``datapackage.json`` (``copeval`` block)::

        "respondent_groups": [
          {"id": "traditional_authority", "stratum": "authorities",
           "labels": {"es": "Autoridad tradicional", "en": "Traditional authority"}}
        ]

    ``id`` is lower case (letters, digits, ``_``); ``stratum`` is one of :data:`STRATA`;
    both labels are required. A default group may be repeated with its own stratum (its
    default labels stay).

    Returns
    -------
    groups : dict
        ``id -> (stratum, English label, Spanish label)``: :data:`RESPONDENT_GROUPS` first,
        then the declared groups in their order.
    problems : list of str
        One message per invalid entry (the entry is left out); empty when all is well.
    """
    groups = dict(RESPONDENT_GROUPS)
    problems: list[str] = []
    if declared is None:
        return groups, problems
    if not isinstance(declared, list):
        return groups, ["'respondent_groups' must be a list of {id, stratum, labels} objects"]
    for i, entry in enumerate(declared, start=1):
        where = f"respondent_groups entry {i}"
        if not isinstance(entry, dict):
            problems.append(f"{where} must be an object with id, stratum and labels")
            continue
        gid, stratum, labels = entry.get("id"), entry.get("stratum"), entry.get("labels")
        if not isinstance(gid, str) or not _GROUP_ID.match(gid):
            problems.append(
                f"{where}: id {gid!r} must be lower-case letters, digits and '_' "
                "(e.g. traditional_authority)"
            )
            continue
        where = f"respondent group {gid!r}"
        if stratum not in STRATA:
            problems.append(f"{where}: stratum {stratum!r} is not one of {', '.join(STRATA)}")
            continue
        if not isinstance(labels, dict) or not all(
            isinstance(labels.get(lang), str) and labels.get(lang).strip() for lang in LANGUAGES
        ):
            problems.append(f"{where}: labels needs non-empty 'es' and 'en' texts")
            continue
        value = (stratum, labels["en"].strip(), labels["es"].strip())
        if gid in RESPONDENT_GROUPS and RESPONDENT_GROUPS[gid][0] != stratum:
            problems.append(
                f"{where} is a default group of stratum {RESPONDENT_GROUPS[gid][0]!r}; it "
                f"cannot be moved to {stratum!r} (declare a new ID instead)"
            )
            continue
        if gid in groups and gid not in RESPONDENT_GROUPS:
            problems.append(f"{where} is declared twice")
            continue
        groups[gid] = RESPONDENT_GROUPS.get(gid, value)
    return groups, problems
