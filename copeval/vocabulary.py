"""Controlled vocabularies shared by every part of copeval, with Spanish and English labels.

One place for the criteria, respondent groups and their triangulation strata, methods,
consent levels and rating labels, so that validation, scoring and reports agree.
"""

from __future__ import annotations

import math

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
    "rating_label",
]

LANGUAGES = ("es", "en")

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
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    if not isinstance(code, str) or code not in BAND_CODES:
        return ""
    _, en, es = RATING_BANDS[BAND_CODES.index(code)]
    return en if lang == "en" else es


def rating_label(score: float, lang: str = "en") -> str:
    """Label of a 0-4 score: the band of its printed value (see :data:`RATING_BANDS`).

    Printed 0.0-0.7 absent, 0.8-1.5 limited, 1.6-2.3 passable, 2.4-3.1 acceptable, 3.2-4.0
    strong. A missing score gives an empty string.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    code = band_code(score)
    return "" if code is None else band_label(code, lang)


def group_label(group: str, lang: str = "en") -> str:
    """Display label of a respondent group (used to attribute quotes: role, never name)."""
    _, en, es = RESPONDENT_GROUPS[group]
    return en if lang == "en" else es
