"""Controlled vocabularies shared by every part of copeval, with Spanish and English labels.

One place for the criteria, respondent groups and their triangulation strata, methods,
consent levels and rating labels, so that validation, scoring and reports agree.
"""

from __future__ import annotations

import math

__all__ = [
    "CONSENT_LEVELS",
    "CRITERIA",
    "CRITERION_LABELS",
    "LANGUAGES",
    "METHODS",
    "RATING_BANDS",
    "RESPONDENT_GROUPS",
    "STRATA",
    "STRATUM_LABELS",
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

#: (upper bound, English, Spanish), on the 0-4 scale; the last band includes 4.
RATING_BANDS = (
    (0.8, "absent", "ausente"),
    (1.6, "limited", "incipiente"),
    (2.4, "passable", "parcial"),
    (3.2, "acceptable", "aceptable"),
    (4.0, "strong", "consolidado"),
)


def rating_label(score: float, lang: str = "en") -> str:
    """Label of a 0-4 score: 0-0.8 absent, 0.8-1.6 limited, ..., 3.2-4 strong.

    Bands are closed below and open above (a score of exactly 0.8 is *limited*); 4.0 is
    *strong*. A missing score gives an empty string.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return ""
    if not 0 <= score <= 4:
        raise ValueError(f"score must lie in 0..4, got {score!r}")
    for upper, en, es in RATING_BANDS:
        if score < upper:
            return en if lang == "en" else es
    return RATING_BANDS[-1][1] if lang == "en" else RATING_BANDS[-1][2]


def group_label(group: str, lang: str = "en") -> str:
    """Display label of a respondent group (used to attribute quotes: role, never name)."""
    _, en, es = RESPONDENT_GROUPS[group]
    return en if lang == "en" else es
