"""Every word a report shows, in Spanish and English, from one table.

Reports are built from the same templates in both languages: code asks for a string by key
(``t("summary.title", lang)``) and formats numbers, intervals, dates and lists with the helpers
below, so no sentence is ever half translated. Numbers use a decimal point in both languages,
as is usual in Guatemala and the rest of Central America.

Adding a string: add one entry to :data:`STRINGS` with both ``"es"`` and ``"en"`` and the same
``{placeholders}`` in each (``tests/test_report_i18n.py`` checks this).
"""

from __future__ import annotations

import math
import re

import pandas as pd

from copeval._validate import check_lang as _check_lang
from copeval.errors import CopevalError
from copeval.vocabulary import CRITERION_LABELS, STRATUM_LABELS, display_value

__all__ = [
    "STRINGS",
    "check_lang",
    "criterion_label",
    "fmt_count",
    "fmt_interval",
    "fmt_num",
    "fmt_pct",
    "fmt_period",
    "fmt_prob",
    "join_list",
    "stratum_label",
    "t",
    "tn",
]

MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}

#: key -> {"es": ..., "en": ...}. Placeholders use str.format syntax.
STRINGS: dict[str, dict[str, str]] = {
    # ---- cover ---------------------------------------------------------------------------
    "cover.kicker": {
        "es": "Evaluación de la implementación de la policía comunitaria",
        "en": "Evaluation of community-oriented policing implementation",
    },
    "cover.kicker.brief": {
        "es": "Evaluación de la policía comunitaria · Resumen municipal",
        "en": "Community-oriented policing evaluation · Municipal brief",
    },
    "cover.kicker.compare": {
        "es": "Evaluación comparada de la policía comunitaria",
        "en": "Comparative evaluation of community-oriented policing",
    },
    "cover.site_line": {"es": "Departamento de {department}", "en": "Department of {department}"},
    "cover.period": {"es": "Trabajo de campo", "en": "Fieldwork"},
    "cover.sources": {"es": "Fuentes de datos", "en": "Data sources"},
    "cover.project": {"es": "Proyecto", "en": "Project"},
    "cover.generated": {"es": "Generado", "en": "Generated"},
    "cover.toolkit": {"es": "Herramienta", "en": "Toolkit"},
    "cover.parameters": {"es": "Parámetros", "en": "Parameters"},
    "cover.parameters_value": {
        "es": "peso cualitativo {weight}, intervalo {ci} (modelo de componentes de varianza), "
        "{n_boot} simulaciones para las comparaciones, semilla {seed}",
        "en": "qualitative weight {weight}, {ci} interval (variance-components model), "
        "{n_boot} simulation draws for the comparisons, seed {seed}",
    },
    "cover.sites": {"es": "Sitios", "en": "Sites"},
    "cover.synthetic": {"es": "DATOS SINTÉTICOS", "en": "SYNTHETIC DATA"},
    "cover.synthetic_note": {
        "es": "Los textos y respuestas de este informe son simulados con fines de demostración. "
        "No describen a personas ni hechos reales.",
        "en": "The texts and responses in this report are simulated for demonstration. "
        "They do not describe real people or events.",
    },
    "cover.frameworks": {
        "es": "Criterios de Frühling (2004) · Modelo Policial de Seguridad Integral Comunitaria (MOPSIC)",
        "en": "Frühling's criteria (2004) · Guatemala's community policing model (MOPSIC)",
    },
    "sources.interview": {
        "es": "{n} entrevista|{n} entrevistas",
        "en": "{n} interview|{n} interviews",
    },
    "sources.focus_group": {
        "es": "{n} grupo focal|{n} grupos focales",
        "en": "{n} focus group|{n} focus groups",
    },
    "sources.observation": {
        "es": "{n} observación de campo|{n} observaciones de campo",
        "en": "{n} field observation|{n} field observations",
    },
    "sources.document": {"es": "{n} documento|{n} documentos", "en": "{n} document|{n} documents"},
    "sources.survey": {
        "es": "encuesta ({instrument}): {n} persona|encuesta ({instrument}): {n} personas",
        "en": "survey ({instrument}): {n} respondent|survey ({instrument}): {n} respondents",
    },
    "sources.none": {"es": "sin fuentes registradas", "en": "no sources recorded"},
    "instrument.community": {"es": "comunidad", "en": "community"},
    "instrument.police": {"es": "policía", "en": "police"},
    # ---- document furniture -----------------------------------------------------------------
    "doc.title": {
        "es": "{site}: evaluación de la policía comunitaria",
        "en": "{site}: community policing evaluation",
    },
    "doc.title.compare": {
        "es": "Evaluación comparada de la policía comunitaria",
        "en": "Comparative community policing evaluation",
    },
    "doc.running": {"es": "{site} · Policía comunitaria", "en": "{site} · Community policing"},
    "doc.running.compare": {
        "es": "Comparación de sitios · Policía comunitaria",
        "en": "Site comparison · Community policing",
    },
    "doc.page": {"es": "Página", "en": "Page"},
    "doc.of": {"es": "de", "en": "of"},
    "toc.title": {"es": "Contenido", "en": "Contents"},
    # ---- section titles ---------------------------------------------------------------------
    "sec.summary": {"es": "Resumen ejecutivo", "en": "Executive summary"},
    "sec.glance": {"es": "Resultados de un vistazo", "en": "Results at a glance"},
    "sec.context": {"es": "El sitio", "en": "The site"},
    "sec.criteria": {"es": "Evidencia por criterio", "en": "Evidence by criterion"},
    "sec.coverage": {"es": "Cobertura de la evidencia", "en": "Evidence coverage"},
    "sec.survey": {"es": "Resultados de las encuestas", "en": "Survey results"},
    "sec.robustness": {
        "es": "Confiabilidad y sensibilidad",
        "en": "Reliability and sensitivity",
    },
    "sec.recommendations": {"es": "Recomendaciones", "en": "Recommendations"},
    "sec.methods": {"es": "Anexo A. Método", "en": "Appendix A. Method"},
    "sec.evidence": {"es": "Anexo B. Evidencia", "en": "Appendix B. Evidence"},
    "sec.ranking": {"es": "Comparación por criterio", "en": "Comparison by criterion"},
    "sec.pairwise": {"es": "¿Qué diferencias son claras?", "en": "Which differences are clear?"},
    # ---- executive summary --------------------------------------------------------------------
    "summary.lead": {
        "es": "Este informe valora en qué medida la Policía Nacional Civil practica la policía "
        "comunitaria en {site}, según los cuatro criterios de Frühling y una dimensión auxiliar "
        "de rendición de cuentas y confianza. Cada valoración va de 0 (ausente) a 4 "
        "(consolidado) y se acompaña de un intervalo del {ci}: cuanto más ancho, menos segura "
        "es la valoración.",
        "en": "This report assesses how far the National Civil Police practises community-"
        "oriented policing in {site}, against Frühling's four criteria and an auxiliary "
        "accountability-and-trust dimension. Each rating runs from 0 (absent) to 4 (strong) and "
        "comes with a {ci} interval: the wider it is, the less certain the rating.",
    },
    "summary.ratings": {"es": "Valoraciones", "en": "Ratings"},
    "summary.findings": {"es": "Lo más importante", "en": "Key findings"},
    "summary.rating": {
        "es": "{criterion}: {label} ({score}; intervalo {interval}).",
        "en": "{criterion}: {label} ({score}; interval {interval}).",
    },
    "summary.strongest_weakest": {
        "es": "El criterio mejor valorado es {best} ({best_score}) y el más débil, {worst} "
        "({worst_score}).",
        "en": "The strongest criterion is {best} ({best_score}) and the weakest is {worst} "
        "({worst_score}).",
    },
    "summary.clear_gap": {
        "es": "Sus intervalos no se solapan: la diferencia es clara.",
        "en": "Their intervals do not overlap: the difference is clear.",
    },
    "summary.overlap_gap": {
        "es": "Sus intervalos se solapan, así que ese orden no es seguro.",
        "en": "Their intervals overlap, so that order is not certain.",
    },
    "summary.all_equal": {
        "es": "Los {n} criterios reciben la misma valoración ({score}).",
        "en": "All {n} criteria receive the same rating ({score}).",
    },
    "summary.thin": {
        "es": "La evidencia es insuficiente para {criteria} (†): {reason} Esas valoraciones "
        "deben leerse como provisionales.",
        "en": "Evidence is insufficient for {criteria} (†): {reason} Read those ratings as "
        "provisional.",
    },
    "summary.thin_reason": {
        "es": "menos de tres fuentes o un solo grupo de informantes.",
        "en": "fewer than three sources or a single group of respondents.",
    },
    "cli.score.footer": {
        "es": "Intervalos del {ci} ({method}); {draws} simulaciones, semilla {seed}, peso "
        "cualitativo {weight}.",
        "en": "{ci} intervals ({method}); {draws} draws, seed {seed}, qualitative weight "
        "{weight}.",
    },
    "cli.method.model": {
        "es": "modelo de componentes de varianza, t",
        "en": "variance-components model, t",
    },
    "cli.method.bootstrap": {
        "es": "bootstrap estratificado, percentiles",
        "en": "stratified bootstrap, percentiles",
    },
    "summary.borrowed": {
        "es": "La evidencia de {criteria} es escasa (‡): ningún grupo aporta dos fuentes o más, "
        "así que su intervalo se apoya en la variabilidad observada en los demás sitios.",
        "en": "The evidence on {criteria} is thin (‡): no group contributes two or more "
        "sources, so its interval rests on the variability seen at the other sites.",
    },
    "summary.wide": {
        "es": "La incertidumbre es alta para {criteria} (intervalo de más de {width} puntos).",
        "en": "Uncertainty is high for {criteria} (interval wider than {width} points).",
    },
    "summary.none_rated": {
        "es": "No hay evidencia suficiente para valorar ningún criterio en este sitio.",
        "en": "There is not enough evidence to rate any criterion at this site.",
    },
    "summary.missing": {
        "es": "Sin evidencia para: {criteria}.",
        "en": "No evidence for: {criteria}.",
    },
    "summary.compare_better": {
        "es": "En {criterion}, {site} supera a {other} (probabilidad {p}).",
        "en": "On {criterion}, {site} rates above {other} (probability {p}).",
    },
    "summary.compare_worse": {
        "es": "En {criterion}, {site} queda por debajo de {other} (probabilidad {p}).",
        "en": "On {criterion}, {site} rates below {other} (probability {p}).",
    },
    "summary.compare_none": {
        "es": "Frente a {others}, ninguna diferencia alcanza una probabilidad de {p}.",
        "en": "Compared with {others}, no difference reaches a probability of {p}.",
    },
    "summary.recommend": {
        "es": "La sección de recomendaciones vincula los criterios débiles ({criteria}) con herramientas del Modelo Policial de Seguridad Integral Comunitaria (MOPSIC) y acciones del Plan Estratégico de Seguridad de la Nación 2020–2024 (PESN).",
        "en": "The recommendations section links the weak criteria ({criteria}) to tools of Guatemala's community policing model (MOPSIC) and actions of its National Security Strategic Plan 2020–2024 (PESN).",
    },
    # ---- tables ---------------------------------------------------------------------------------
    "col.criterion": {"es": "Criterio", "en": "Criterion"},
    "col.rating": {"es": "Valoración", "en": "Rating"},
    "col.score": {"es": "Puntaje", "en": "Score"},
    "col.interval": {"es": "Intervalo {ci}", "en": "{ci} interval"},
    "col.evidence": {"es": "Evidencia", "en": "Evidence"},
    "col.note": {"es": "Nota", "en": "Note"},
    "col.site": {"es": "Sitio", "en": "Site"},
    "col.qual": {"es": "Cualitativo", "en": "Qualitative"},
    "col.survey": {"es": "Encuesta", "en": "Survey"},
    "col.segment": {"es": "Segmento", "en": "Segment"},
    "col.segments": {"es": "Pasajes (ID, código, valencia)", "en": "Passages (ID, code, valence)"},
    "col.source": {"es": "Fuente", "en": "Source"},
    "col.group": {"es": "Grupo", "en": "Group"},
    "col.method": {"es": "Método", "en": "Method"},
    "col.code": {"es": "Código", "en": "Code"},
    "col.valence": {"es": "Valencia", "en": "Valence"},
    "col.consent": {"es": "Consentimiento", "en": "Consent"},
    "col.recommendation": {"es": "Recomendación", "en": "Recommendation"},
    "col.mopsic": {"es": "Herramienta MOPSIC", "en": "MOPSIC tool"},
    "col.pesn": {"es": "Acción PESN 2020–2024", "en": "PESN 2020–2024 action"},
    "col.institutions": {"es": "Responsables", "en": "Responsible"},
    "col.indicator": {"es": "Indicador", "en": "Indicator"},
    "col.value": {"es": "Valor", "en": "Value"},
    "col.scale": {"es": "Escala", "en": "Scale"},
    "col.items": {"es": "Ítems", "en": "Items"},
    "col.n": {"es": "N", "en": "N"},
    "col.alpha": {"es": "α de Cronbach", "en": "Cronbach's α"},
    "col.omega": {"es": "ω de McDonald", "en": "McDonald's ω"},
    "col.rank1": {"es": "P(primer lugar)", "en": "P(ranked first)"},
    "col.mean_rank": {"es": "Lugar medio", "en": "Mean rank"},
    "col.agreement": {"es": "Acuerdo", "en": "Agreement"},
    "col.probability": {"es": "Probabilidad", "en": "Probability"},
    "evidence.cell": {
        "es": "{sources} fuentes · {groups} grupos · {respondents} encuestados",
        "en": "{sources} sources · {groups} groups · {respondents} respondents",
    },
    "flag.insufficient": {"es": "evidencia insuficiente", "en": "insufficient evidence"},
    "flag.wide": {"es": "incierto", "en": "uncertain"},
    "flag.capped": {
        "es": "puntaje cualitativo limitado a {ceiling} porque la evidencia positiva viene de un solo "
        "grupo de informantes (regla de solidez)",
        "en": "qualitative score capped at {ceiling} because positive evidence comes from a single "
        "group of respondents (strength rule)",
    },
    "flag.thin": {
        "es": "evidencia escasa: ningún grupo con dos fuentes o más, o una encuesta con menos "
        "de dos unidades; su incertidumbre se toma de los demás sitios",
        "en": "thin evidence: no group with two or more sources, or a survey with fewer than "
        "two units; its uncertainty is borrowed from the other sites",
    },
    "flag.reliability": {
        "es": "baja confiabilidad entre codificadores (α de Krippendorff < 0.667)",
        "en": "low inter-coder reliability (Krippendorff's α < 0.667)",
    },
    "flag.reliability.presence": {
        "es": "presencia del código {code}: α {alpha}",
        "en": "presence of code {code}: α {alpha}",
    },
    "flag.reliability.valence": {
        "es": "valencias de {criterion}: α ordinal {alpha}",
        "en": "valences of {criterion}: ordinal α {alpha}",
    },
    "flag.no_data": {"es": "sin datos", "en": "no data"},
    "flag.legend": {
        "es": "† evidencia insuficiente: menos de tres fuentes o un solo grupo de informantes; "
        "el valor se muestra pero no debe leerse como valoración firme. ‡ evidencia escasa: "
        "ningún grupo con dos fuentes o más (o una encuesta con menos de dos unidades), así "
        "que la propia evidencia no permite estimar su variabilidad y el intervalo usa la "
        "variabilidad observada en los demás sitios del proyecto.",
        "en": "† insufficient evidence: fewer than three sources or a single group of "
        "respondents; the value is shown but should not be read as a firm rating. ‡ thin "
        "evidence: no group with two or more sources (or a survey with fewer than two "
        "units), so the rating's own evidence cannot estimate its variability and the "
        "interval uses the variability seen at the project's other sites.",
    },
    "basis.both": {"es": "entrevistas y encuesta", "en": "interviews and survey"},
    "basis.qualitative": {"es": "solo evidencia cualitativa", "en": "qualitative evidence only"},
    "basis.survey": {"es": "solo encuesta", "en": "survey only"},
    "basis.none": {"es": "sin evidencia", "en": "no evidence"},
    # ---- figures ----------------------------------------------------------------------------------
    "fig.glance": {
        "es": "Figura {n}. Valoración de cada criterio con su intervalo del {ci}. Las bandas de "
        "color marcan los cinco niveles de la escala.",
        "en": "Figure {n}. Rating of each criterion with its {ci} interval. The coloured bands "
        "mark the five levels of the scale.",
    },
    "fig.heatmap": {
        "es": "Figura {n}. Valoraciones por criterio y sitio (0 = ausente, 4 = consolidado). "
        "† evidencia insuficiente; ‡ evidencia escasa (variabilidad tomada de los demás sitios).",
        "en": "Figure {n}. Ratings by criterion and site (0 = absent, 4 = strong). "
        "† insufficient evidence; ‡ thin evidence (variability borrowed from the other sites).",
    },
    "fig.forest_compare": {
        "es": "Figura {n}. Valoración e intervalo del {ci} de cada sitio, por criterio.",
        "en": "Figure {n}. Rating and {ci} interval of each site, by criterion.",
    },
    "fig.likert": {
        "es": "Figura {n}. Distribución de las respuestas a la encuesta por criterio "
        "(ítems llevados a 0–4 e invertidos cuando están redactados en negativo). A la "
        "izquierda del eje, respuestas desfavorables; a la derecha, favorables.",
        "en": "Figure {n}. Distribution of survey answers by criterion (items put on 0–4 and "
        "reversed when worded negatively). Left of the axis, unfavourable answers; right, "
        "favourable.",
    },
    "fig.coverage": {
        "es": "Figura {n}. Fuentes que aportan evidencia a cada criterio, por grupo de informantes (entre paréntesis, pasajes codificados).",
        "en": "Figure {n}. Sources contributing evidence to each criterion, by respondent group (in brackets, coded passages).",
    },
    "fig.axis.score": {"es": "Valoración (0–4)", "en": "Rating (0–4)"},
    "fig.axis.share": {"es": "% de respuestas", "en": "% of answers"},
    "fig.likert.levels": {
        "es": "Muy desfavorable|Desfavorable|Neutral|Favorable|Muy favorable",
        "en": "Very unfavourable|Unfavourable|Neutral|Favourable|Very favourable",
    },
    "fig.no_data": {"es": "sin datos", "en": "no data"},
    "fig.survey_none": {
        "es": "No hay respuestas de encuesta para este sitio.",
        "en": "There are no survey responses for this site.",
    },
    # ---- context --------------------------------------------------------------------------------
    "context.population": {"es": "Población", "en": "Population"},
    "context.homicide": {
        "es": "Tasa de homicidios por 100 000 habitantes",
        "en": "Homicide rate per 100,000 people",
    },
    "context.precinct": {
        "es": "Comisaría de la Policía Nacional Civil",
        "en": "National Civil Police precinct",
    },
    "context.police": {"es": "Despliegue policial", "en": "Police deployment"},
    "context.stations": {"es": "Estaciones", "en": "Stations"},
    "context.substations": {"es": "Subestaciones", "en": "Substations"},
    "context.staff": {"es": "Personal policial", "en": "Police staff"},
    "context.staff_women": {"es": "de ellas, mujeres", "en": "of whom women"},
    "context.municipality_code": {"es": "Código INE del municipio", "en": "INE municipality code"},
    "context.notes": {"es": "Notas", "en": "Notes"},
    "context.source": {"es": "Fuente: {source}", "en": "Source: {source}"},
    "context.intro": {
        "es": "El contexto se describe, no se puntúa: ayuda a leer las valoraciones.",
        "en": "Context is described, not scored: it helps to read the ratings.",
    },
    # ---- per-criterion sections -------------------------------------------------------------------
    "crit.definition.C1": {
        "es": "La policía planifica y realiza sus actividades centrándose en un área geográfica "
        "pequeña: sectores fijos, patrullaje a pie y agentes conocidos en el lugar.",
        "en": "Police activities are planned and carried out focusing on a small geographic "
        "area: fixed sectors, foot patrol, officers known locally.",
    },
    "crit.definition.C2": {
        "es": "Relación sólida con la comunidad y un proceso de consulta permanente para que "
        "las perspectivas de los vecinos se tomen en cuenta.",
        "en": "Strong relationships with the community and an ongoing consultation process so "
        "that residents' perspectives are considered.",
    },
    "crit.definition.C3": {
        "es": "La policía se concentra en resolver problemas concretos de seguridad de los "
        "vecinos, en lugar de solo reaccionar cuando ocurre un delito.",
        "en": "Police focus on solving concrete security problems affecting residents, instead "
        "of only reacting when a crime occurs.",
    },
    "crit.definition.C4": {
        "es": "La policía participa en determinar las condiciones y circunstancias que "
        "favorecen los delitos y un curso de acción para superarlas.",
        "en": "Police take part in determining the conditions and circumstances that favour "
        "offences, and a course of action to overcome them.",
    },
    "crit.definition.AT": {
        "es": "Dimensión auxiliar: informes de la policía a la comunidad, confianza, "
        "seguimiento de denuncias y percepciones de mala conducta.",
        "en": "Auxiliary dimension: police reporting to the community, trust, complaint "
        "follow-through and perceptions of misconduct.",
    },
    "crit.rating": {
        "es": "Valoración {score} (intervalo del {ci}: {interval}).",
        "en": "Rating {score} ({ci} interval: {interval}).",
    },
    "crit.rating_missing": {
        "es": "No hay evidencia para valorar este criterio en el sitio.",
        "en": "There is no evidence to rate this criterion at this site.",
    },
    "crit.components": {"es": "Componentes: {parts}.", "en": "Components: {parts}."},
    "crit.evidence": {
        "es": "Se apoya en {segments} de {sources} de {groups}.",
        "en": "It rests on {segments} from {sources} in {groups}.",
    },
    "crit.balance": {
        "es": "El único pasaje codificado {parts}.|De los {n} pasajes codificados, {parts}.",
        "en": "The one coded passage {parts}.|Of the {n} coded passages, {parts}.",
    },
    "crit.obstacles": {
        "es": "Obstáculos más mencionados: {obstacles}.",
        "en": "Obstacles mentioned most: {obstacles}.",
    },
    "crit.quotes": {"es": "Lo que dicen los informantes", "en": "What respondents say"},
    "crit.no_quotes": {
        "es": "Ninguna fuente con permiso de cita aporta evidencia a este criterio.",
        "en": "No source that allows quotation contributes evidence to this criterion.",
    },
    "crit.withheld": {
        "es": "{n} pasaje más procede de una fuente que no autorizó citas: cuenta como evidencia pero no se cita.|{n} pasajes más proceden de fuentes que no autorizaron citas: cuentan como evidencia pero no se citan.",
        "en": "{n} further passage comes from a source that did not allow quotation: it counts as evidence but is not quoted.|{n} further passages come from sources that did not allow quotation: they count as evidence but are not quoted.",
    },
    "crit.warning": {"es": "Advertencia", "en": "Warning"},
    "quote.attribution": {"es": "{who} ({method}, {date})", "en": "{who} ({method}, {date})"},
    "quote.attribution_nodate": {"es": "{who} ({method})", "en": "{who} ({method})"},
    "quote.original_in": {"es": "original en {language}", "en": "original in {language}"},
    "language.es": {"es": "español", "en": "Spanish"},
    "language.en": {"es": "inglés", "en": "English"},
    "method.interview": {"es": "entrevista", "en": "interview"},
    "method.focus_group": {"es": "grupo focal", "en": "focus group"},
    "method.observation": {"es": "observación", "en": "observation"},
    "method.document": {"es": "documento", "en": "document"},
    "consent.quote": {"es": "cita", "en": "quote"},
    "consent.anonymous": {"es": "anónimo", "en": "anonymous"},
    "consent.none": {"es": "ninguno", "en": "none"},
    # ---- coverage ------------------------------------------------------------------------------------
    "coverage.intro": {
        "es": "La triangulación da el mismo peso a cada grupo de informantes. Un criterio con "
        "evidencia de un solo grupo se marca como evidencia insuficiente.",
        "en": "Triangulation gives each group of respondents an equal voice. A criterion with "
        "evidence from a single group is flagged as insufficient evidence.",
    },
    "coverage.excluded": {
        "es": "{n} fuente sin consentimiento de uso se excluye de todo el análisis.|{n} fuentes "
        "sin consentimiento de uso se excluyen de todo el análisis.",
        "en": "{n} source without consent for use is excluded from the whole analysis.|{n} "
        "sources without consent for use are excluded from the whole analysis.",
    },
    "coverage.gaps": {
        "es": "Grupos sin evidencia en este sitio: {groups}.",
        "en": "Groups with no evidence at this site: {groups}.",
    },
    # ---- survey ---------------------------------------------------------------------------------------
    "survey.intro": {
        "es": "Las encuestas complementan las entrevistas: su puntaje entra en la valoración "
        "combinada con un peso de {survey_weight}.",
        "en": "Surveys complement the interviews: their score enters the combined rating with a "
        "weight of {survey_weight}.",
    },
    "survey.instrument": {"es": "Encuesta a {who}", "en": "{who} survey"},
    # ---- robustness --------------------------------------------------------------------------------
    "rob.coders_none": {
        "es": "El proyecto no incluye una segunda codificación, así que no puede medirse el "
        "acuerdo entre codificadores. Se recomienda doble codificación de al menos un 20% de "
        "las fuentes.",
        "en": "The project has no second coding, so agreement between coders cannot be "
        "measured. Double-coding at least 20% of the sources is recommended.",
    },
    "rob.coders_summary": {
        "es": "Acuerdo entre codificadores sobre la valencia: {alpha} ({verdict}; 1 es acuerdo total y 0.67 el mínimo aceptable), medido en {n} pasaje codificado por más de una persona.|Acuerdo entre codificadores sobre la valencia: {alpha} ({verdict}; 1 es acuerdo total y 0.67 el mínimo aceptable), medido en {n} pasajes codificados por más de una persona.",
        "en": "Agreement between coders on valence: {alpha} ({verdict}; 1 is full agreement and 0.67 the lowest acceptable), measured on {n} passage coded by more than one person.|Agreement between coders on valence: {alpha} ({verdict}; 1 is full agreement and 0.67 the lowest acceptable), measured on {n} passages coded by more than one person.",
    },
    "rob.verdict.reliable": {"es": "confiable", "en": "reliable"},
    "rob.verdict.tentative": {"es": "provisional", "en": "tentative"},
    "rob.verdict.unreliable": {"es": "insuficiente", "en": "unreliable"},
    "rob.weak_codes": {
        "es": "Un código con acuerdo por debajo de 0.67 entre codificadores: {codes}. Las valoraciones que se apoyan en él llevan una advertencia.|Códigos con acuerdo por debajo de 0.67 entre codificadores: {codes}. Las valoraciones que se apoyan en ellos llevan una advertencia.",
        "en": "One code with agreement below 0.67 between coders: {codes}. Ratings that rest on it carry a warning.|Codes with agreement below 0.67 between coders: {codes}. Ratings that rest on them carry a warning.",
    },
    "rob.scales": {
        "es": "Consistencia de las preguntas de cada escala de encuesta en este sitio (de 0 a 1; 0.7 o más es buena):",
        "en": "Consistency of the questions of each survey scale at this site (0 to 1; 0.7 or more is good):",
    },
    "rob.sensitivity": {
        "es": "Sensibilidad: se recalcularon las valoraciones con pesos cualitativos entre "
        "{wmin} y {wmax} y con y sin ponderación por grupo.",
        "en": "Sensitivity: ratings were recomputed with qualitative weights from {wmin} to "
        "{wmax}, and with and without group weighting.",
    },
    "rob.sensitivity_stable": {
        "es": "Ninguna valoración de este sitio cambia de nivel.",
        "en": "No rating at this site changes level.",
    },
    "rob.sensitivity_changes": {
        "es": "Cambia de nivel: {changes}.|Cambian de nivel: {changes}.",
        "en": "A rating that changes level: {changes}.|Ratings that change level: {changes}.",
    },
    "rob.sensitivity_change_item": {
        "es": "{criterion} ({labels})",
        "en": "{criterion} ({labels})",
    },
    "rob.order_stable": {
        "es": "El orden entre sitios no cambia en ningún criterio.",
        "en": "The order of sites does not change on any criterion.",
    },
    "rob.order_changes": {
        "es": "El orden entre sitios cambia en: {criteria}.",
        "en": "The order of sites changes on: {criteria}.",
    },
    "rob.warnings": {"es": "Avisos del cálculo", "en": "Notes from the computation"},
    # ---- recommendations ----------------------------------------------------------------------------
    "rec.intro": {
        "es": "Para cada criterio valorado por debajo de «aceptable» (menos de {threshold}), "
        "estas son las herramientas del MOPSIC y las acciones del Plan Estratégico de "
        "Seguridad de la Nación 2020–2024 (PESN) con que se relaciona, con sus instituciones "
        "responsables. Los obstáculos más citados en el sitio orientan la selección.",
        "en": "For each criterion rated below “acceptable” (under {threshold}), these are the "
        "MOPSIC tools and the actions of Guatemala's National Security Strategic Plan 2020–2024 "
        "(PESN) it bears on, with their responsible institutions. The obstacles cited most at "
        "the site guide the selection.",
    },
    "rec.none": {
        "es": "Ningún criterio queda por debajo de «aceptable»: no se derivan recomendaciones "
        "prioritarias. Mantener las prácticas y repetir la evaluación.",
        "en": "No criterion falls below “acceptable”: no priority recommendations follow. "
        "Sustain current practice and repeat the evaluation.",
    },
    "rec.criterion": {
        "es": "{criterion} — {label} ({score})",
        "en": "{criterion} — {label} ({score})",
    },
    "rec.source": {
        "es": "Fuente de las acciones: Consejo Nacional de Seguridad, Plan Estratégico de Seguridad de la Nación 2020–2024 (abril de 2020). La correspondencia entre debilidades, herramientas y acciones es la de copeval (Anexo A).",
        "en": "Source of the actions: National Security Council, Plan Estratégico de Seguridad de la Nación 2020–2024 (April 2020). The links between weaknesses, tools and actions are copeval's (Appendix A).",
    },
    "rec.institutions_legend": {"es": "Siglas", "en": "Acronyms"},
    "rec.actions": {
        "es": "Acciones del PESN 2020–2024 citadas (texto del Plan)",
        "en": "PESN 2020–2024 actions cited",
    },
    # ---- methods -------------------------------------------------------------------------------------------
    "methods.h.evidence": {"es": "Evidencia", "en": "Evidence"},
    "methods.p.evidence": {
        "es": "Cada entrevista, grupo focal, observación o documento es una fuente de un sitio "
        "y de un grupo de informantes. Sus pasajes se codifican con el libro de códigos de los "
        "criterios de Frühling y reciben una valencia de −2 (evidencia explícita de ausencia u "
        "obstáculo grave) a +2 (evidencia explícita y concreta de que la práctica existe). "
        "Solo se usan fuentes con consentimiento.",
        "en": "Each interview, focus group, observation or document is a source belonging to "
        "one site and one respondent group. Its passages are coded with the codebook of "
        "Frühling's criteria and given a valence from −2 (explicit evidence of absence or a "
        "serious obstacle) to +2 (explicit, concrete evidence the practice is in place). Only "
        "sources with consent are used.",
    },
    "methods.h.qualitative": {"es": "Puntaje cualitativo", "en": "Qualitative score"},
    "methods.p.qualitative": {
        "es": "Se promedia la valencia por fuente, luego por grupo de informantes (policía; "
        "comunidad; autoridades y justicia; observación y documentos) y luego entre grupos, "
        "para que cada grupo pese lo mismo. El resultado se lleva de −2..+2 a 0..4.",
        "en": "Valence is averaged per source, then per respondent group (police; community; "
        "authorities and justice; observation and documents), then across groups, so that "
        "each group has an equal voice. The result is rescaled from −2..+2 to 0..4.",
    },
    "methods.h.survey": {"es": "Puntaje de encuesta", "en": "Survey score"},
    "methods.p.survey": {
        "es": "Las preguntas se llevan a 0..4, se invierten cuando están redactadas en "
        "negativo («no sabe» y «no responde» quedan como datos faltantes) y se promedian por "
        "criterio, con pesos de diseño cuando existen.",
        "en": "Questions are put on 0..4, reversed when worded negatively (don't know and "
        "refused stay missing) and averaged per criterion, with design weights where they "
        "exist.",
    },
    "methods.h.combined": {"es": "Valoración combinada", "en": "Combined rating"},
    "methods.p.combined": {
        "es": "puntaje = {weight} × cualitativo + {survey_weight} × encuesta. Si falta un "
        "componente se usa el otro y se indica. Niveles, según el valor impreso con un "
        "decimal: 0.0–0.7 ausente; 0.8–1.5 incipiente; 1.6–2.3 parcial; 2.4–3.1 aceptable; "
        "3.2–4.0 consolidado.",
        "en": "score = {weight} × qualitative + {survey_weight} × survey. When one component "
        "is missing the other is used and the report says so. Levels, by the value printed "
        "to one decimal: 0.0–0.7 absent; 0.8–1.5 limited; 1.6–2.3 passable; 2.4–3.1 "
        "acceptable; 3.2–4.0 strong.",
    },
    "methods.h.strength": {"es": "Reglas de solidez", "en": "Strength rules"},
    "methods.p.strength": {
        "es": "Un puntaje de 3 o más requiere evidencia positiva de al menos dos grupos; con "
        "menos de tres fuentes o un solo grupo, la valoración se marca como evidencia "
        "insuficiente (†).",
        "en": "A score of 3 or more needs positive evidence from at least two groups; with "
        "fewer than three sources or a single group the rating is flagged as insufficient "
        "evidence (†).",
    },
    "methods.h.uncertainty": {"es": "Incertidumbre", "en": "Uncertainty"},
    "methods.p.uncertainty": {
        "es": "El intervalo del {ci} indica cuánto podría cambiar la valoración si se "
        "repitiera el trabajo de campo en el mismo sitio con el mismo diseño (otras personas "
        "entrevistadas, otros pasajes, otra muestra de la encuesta): en simulaciones con valor "
        "real conocido contiene ese valor en aproximadamente el {ci} de los casos. Se calcula "
        "con un modelo que estima, con todos los sitios del proyecto, cuánto varían los "
        "pasajes dentro de una fuente, las fuentes dentro de un grupo y los grupos de un sitio "
        "respecto de lo habitual; un sitio con pocas fuentes toma esa variabilidad de los "
        "demás (‡ cuando no puede estimarla por sí mismo). La encuesta usa la variabilidad "
        "entre conglomerados (o personas) con una corrección para pocos conglomerados. La "
        "probabilidad de que un sitio supere a otro proviene de simulaciones de un modelo que "
        "acerca las valoraciones inciertas a la media del proyecto, para no exagerar "
        "diferencias pequeñas.",
        "en": "The {ci} interval shows how much the rating could change if the fieldwork were "
        "repeated at the same site with the same design (other people interviewed, other "
        "passages, another survey sample): in simulations with a known true value it contains "
        "that value about {ci} of the time. It comes from a model that learns, from all the "
        "project's sites, how much passages vary within a source, sources within a group, and "
        "a site's groups from the usual pattern; a site with few sources borrows that "
        "variability from the others (‡ when it cannot estimate it itself). The survey uses "
        "the variability between clusters (or respondents), corrected for few clusters. The "
        "probability that one site rates above another comes from simulation draws of a model "
        "that pulls uncertain ratings toward the project mean, so that small differences are "
        "not overstated.",
    },
    "methods.h.traceability": {"es": "Trazabilidad", "en": "Traceability"},
    "methods.p.traceability": {
        "es": "Cada valoración conserva los identificadores de los pasajes y preguntas que la "
        "producen{evidence_ref}. Las citas solo proceden de fuentes que autorizaron ser "
        "citadas, se atribuyen por función y sitio, nunca por nombre, y los nombres propios "
        "registrados se sustituyen.",
        "en": "Every rating keeps the IDs of the passages and questions behind "
        "it{evidence_ref}. Quotes come only from sources that allowed quotation, are "
        "attributed by role and site, never by name, and registered personal names are "
        "replaced.",
    },
    "methods.brief.p1": {
        "es": "Este resumen presenta las valoraciones del municipio en los cuatro criterios de "
        "Frühling y la dimensión de rendición de cuentas y confianza, con sus intervalos del "
        "{ci}, y las recomendaciones que se derivan. Cada valoración combina la evidencia "
        "cualitativa codificada (entrevistas, grupos focales, observación y documentos, con "
        "peso {weight}) y la encuesta (peso {survey_weight}) en una escala de 0 a 4; la "
        "incertidumbre procede de un modelo estimado con todos los sitios del proyecto. Solo "
        "se usan fuentes con consentimiento.",
        "en": "This brief gives the municipality's ratings on Frühling's four criteria and the "
        "accountability-and-trust dimension, with their {ci} intervals, and the "
        "recommendations that follow. Each rating combines the coded qualitative evidence "
        "(interviews, focus groups, observation and documents, weight {weight}) with the "
        "survey (weight {survey_weight}) on a 0–4 scale; the uncertainty comes from a model "
        "estimated from all the project's sites. Only sources with consent are used.",
    },
    "methods.brief.p2": {
        "es": "El informe completo del municipio añade la evidencia por criterio con citas, la "
        "cobertura por grupo de informantes, los resultados de las encuestas, la confiabilidad "
        "y la sensibilidad de las valoraciones, el texto de las acciones del PESN citadas, el "
        "método detallado y el anexo de evidencia.",
        "en": "The municipality's full report adds the evidence per criterion with quotes, the "
        "coverage by respondent group, the survey results, the reliability and sensitivity of "
        "the ratings, the text of the PESN actions cited, the detailed method and the evidence "
        "appendix.",
    },
    "methods.full_report": {
        "es": "Para obtener el informe completo:",
        "en": "To produce the full report:",
    },
    "sec.methods.brief": {"es": "Sobre este resumen", "en": "About this brief"},
    "methods.reproduce": {
        "es": "Para reproducir este informe:",
        "en": "To reproduce this report:",
    },
    "evidence.intro": {
        "es": "Pasajes codificados que sustentan cada valoración (codificador principal, fuentes con consentimiento), con el identificador de la fuente y de cada pasaje, su código y su valencia. Los identificadores remiten a los archivos sources.csv y segments.csv del proyecto.",
        "en": "Coded passages behind each rating (primary coder, sources with consent), with the ID of the source and of each passage, its code and its valence. The IDs refer to the project's sources.csv and segments.csv.",
    },
    "evidence.items": {
        "es": "Ítems de encuesta: {items}.",
        "en": "Survey items: {items}.",
    },
    "evidence.none": {"es": "Sin pasajes codificados.", "en": "No coded passages."},
    # ---- comparative -----------------------------------------------------------------------------
    "cmp.lead": {
        "es": "Este informe compara {n} sitios en los cuatro criterios de Frühling y la "
        "dimensión auxiliar de rendición de cuentas y confianza, en la misma escala de 0 a 4, "
        "con intervalos del {ci}.",
        "en": "This report compares {n} sites on Frühling's four criteria and the auxiliary "
        "accountability-and-trust dimension, on the same 0–4 scale, with {ci} intervals.",
    },
    "cmp.best": {
        "es": "{criterion}: mejor valorado {site} ({score}); más bajo {low_site} ({low_score}).",
        "en": "{criterion}: highest {site} ({score}); lowest {low_site} ({low_score}).",
    },
    "cmp.tie": {
        "es": "{criterion}: {sites} reciben una valoración similar ({score}).",
        "en": "{criterion}: {sites} rate about the same ({score}).",
    },
    "cmp.pair": {"es": "P({a} > {b})", "en": "P({a} > {b})"},
    "methods.evidence_ref": {"es": " (Anexo B)", "en": " (Appendix B)"},
    "cmp.clear": {
        "es": "La diferencia es clara: la probabilidad de que {site} supere a {other} es {p}.",
        "en": "The difference is clear: the probability that {site} rates above {other} is {p}.",
    },
    "cmp.unclear": {
        "es": "La diferencia no es concluyente: la probabilidad de que {site} supere a {other} "
        "es {p}.",
        "en": "The difference is not conclusive: the probability that {site} rates above "
        "{other} is {p}.",
    },
    "cmp.single": {
        "es": "{criterion}: solo {site} tiene valoración ({score}).",
        "en": "{criterion}: only {site} is rated ({score}).",
    },
    "cmp.pairwise_intro": {
        "es": "Cada celda da la probabilidad de que el sitio de la fila supere al de la "
        "columna, estimada con un modelo que tiene en cuenta la incertidumbre de cada "
        "valoración. Valores cercanos a 0.5 indican que no se puede "
        "distinguir; 0.9 o más (o 0.1 o menos), una diferencia clara.",
        "en": "Each cell gives the probability that the row site rates above the column site, "
        "estimated with a model that accounts for the uncertainty of each rating. Values near 0.5 mean the two cannot be told apart; 0.9 "
        "or more (or 0.1 or less) mean a clear difference.",
    },
    "cmp.pair_intro": {
        "es": "Cada celda da la probabilidad, estimada con el modelo de incertidumbre, de que el primer sitio "
        "supere al segundo en ese criterio. Valores cercanos a 0.5 indican que no se pueden "
        "distinguir; 0.9 o más (o 0.1 o menos), una diferencia clara.",
        "en": "Each cell gives the probability, estimated with the uncertainty model, that the "
        "first "
        "site rates above the second on that criterion. Values near 0.5 mean the two cannot be "
        "told apart; 0.9 or more (or 0.1 or less) mean a clear difference.",
    },
    "cmp.rank_intro": {
        "es": "Probabilidad de que cada sitio ocupe el primer lugar y lugar medio en las "
        "simulaciones del modelo de incertidumbre.",
        "en": "Probability that each site ranks first, and its mean rank, across the "
        "uncertainty model's simulation draws.",
    },
    "cmp.too_many": {
        "es": "Con {n} sitios, la tabla de pares se omite; se muestran las probabilidades de "
        "rango.",
        "en": "With {n} sites the pairwise table is omitted; rank probabilities are shown "
        "instead.",
    },
    "cmp.more_sites": {
        "es": "y {n} sitios más",
        "en": "and {n} more sites",
    },
    # ---- site report (B) ----------------------------------------------------------------------
    "count.sources": {"es": "{n} fuente|{n} fuentes", "en": "{n} source|{n} sources"},
    "count.groups": {
        "es": "{n} grupo de informantes|{n} grupos de informantes",
        "en": "{n} respondent group|{n} respondent groups",
    },
    "count.respondents": {
        "es": "{n} persona encuestada|{n} personas encuestadas",
        "en": "{n} survey respondent|{n} survey respondents",
    },
    "count.passages": {
        "es": "{n} pasaje codificado|{n} pasajes codificados",
        "en": "{n} coded passage|{n} coded passages",
    },
    "count.mentions": {"es": "{n} mención|{n} menciones", "en": "{n} mention|{n} mentions"},
    "cover.round": {"es": "Ronda", "en": "Round"},
    "flag.thin_short": {"es": "evidencia escasa", "en": "thin evidence"},
    "context.none": {
        "es": "El proyecto no describe este sitio.",
        "en": "The project gives no description of this site.",
    },
    "crit.evidence_survey": {
        "es": "La encuesta suma {n} persona.|La encuesta suma {n} personas.",
        "en": "The survey adds {n} respondent.|The survey adds {n} respondents.",
    },
    "crit.balance.pos": {
        "es": "{n} señala que la práctica existe|{n} señalan que la práctica existe",
        "en": "{n} indicates the practice is in place|{n} indicate the practice is in place",
    },
    "crit.balance.neu": {
        "es": "{n} es neutro o mixto|{n} son neutros o mixtos",
        "en": "{n} is neutral or mixed|{n} are neutral or mixed",
    },
    "crit.balance.neg": {
        "es": "{n} señala su ausencia u obstáculos|{n} señalan su ausencia u obstáculos",
        "en": "{n} indicates its absence or obstacles|{n} indicate its absence or obstacles",
    },
    "crit.component.qual": {
        "es": "entrevistas y otras fuentes {score}",
        "en": "interviews and other sources {score}",
    },
    "crit.component.survey": {"es": "encuesta {score}", "en": "survey {score}"},
    "crit.only_qual": {
        "es": "No hay encuesta para este criterio: la valoración se basa solo en la evidencia cualitativa.",
        "en": "There is no survey on this criterion: the rating rests on the qualitative evidence alone.",
    },
    "crit.only_survey": {
        "es": "No hay evidencia cualitativa para este criterio: la valoración se basa solo en la encuesta.",
        "en": "There is no qualitative evidence on this criterion: the rating rests on the survey alone.",
    },
    "code.unknown": {
        "es": "un código fuera del libro de códigos",
        "en": "a code outside the codebook",
    },
    "quote.translation": {
        "es": "Traducción del equipo del proyecto",
        "en": "Translation by the project team",
    },
    "survey.answered": {
        "es": "{n} persona en la encuesta ({instrument})|{n} personas en la encuesta ({instrument})",
        "en": "{n} person in the survey ({instrument})|{n} people in the survey ({instrument})",
    },
    "survey.counts": {
        "es": "Respondieron en este sitio: {counts}.",
        "en": "Answered at this site: {counts}.",
    },
    "survey.small": {
        "es": "Solo {n} persona respondió la encuesta ({instrument}) en este sitio: sus porcentajes son orientativos (pueden desviarse unos {margin} puntos).|Solo {n} personas respondieron la encuesta ({instrument}) en este sitio: sus porcentajes son orientativos (con menos de {threshold} respuestas pueden desviarse unos {margin} puntos).",
        "en": "Only {n} person answered the survey ({instrument}) at this site: read its percentages as indicative (they can be off by about {margin} points).|Only {n} people answered the survey ({instrument}) at this site: read its percentages as indicative (with fewer than {threshold} answers they can be off by about {margin} points).",
    },
    "rob.scale.good": {"es": "buena", "en": "good"},
    "rob.scale.fair": {"es": "aceptable", "en": "fair"},
    "rob.scale.poor": {"es": "baja", "en": "poor"},
    "col.questions": {"es": "Preguntas", "en": "Questions"},
    "col.people": {"es": "Personas", "en": "People"},
    "col.consistency": {"es": "Consistencia", "en": "Consistency"},
    "rec.tools": {
        "es": "Herramienta del MOPSIC citada: {tools}.|Herramientas del MOPSIC citadas: {tools}.",
        "en": "MOPSIC tool cited: {tools}.|MOPSIC tools cited: {tools}.",
    },
    "rec.actions_translated": {
        "es": "Traducción de las acciones: equipo de copeval (no es una traducción oficial del Plan).",
        "en": "Translation of the actions: the copeval team (not an official translation of the Plan).",
    },
    "rec.actions_original": {
        "es": "Las acciones sin traducción se citan en el español original del Plan.",
        "en": "Actions without a translation are quoted in the Plan's original Spanish.",
    },
    "methods.h.measures": {"es": "Medidas de confiabilidad", "en": "Reliability measures"},
    "methods.p.measures": {
        "es": "El acuerdo entre codificadores es el α de Krippendorff (ordinal para la valencia, nominal para la presencia de cada código; 0.667 es el mínimo aceptable). La consistencia de las escalas de encuesta es el α de Cronbach; el cuaderno ejecutado da también el ω de McDonald.",
        "en": "Agreement between coders is Krippendorff's α (ordinal for valence, nominal for the presence of each code; 0.667 is the lowest acceptable). The consistency of the survey scales is Cronbach's α; the executed notebook also gives McDonald's ω.",
    },
    "methods.h.crosswalk": {"es": "Recomendaciones", "en": "Recommendations"},
    "methods.p.crosswalk": {
        "es": "Las recomendaciones salen de la tabla de correspondencias que incluye copeval (archivos",
        "en": "The recommendations come from the crosswalk tables copeval ships (files",
    },
    "fig.likert.alt": {
        "es": "Barras divergentes: para cada criterio y encuesta, el porcentaje de respuestas desfavorables a la izquierda y favorables a la derecha.",
        "en": "Diverging bars: for each criterion and survey, the share of unfavourable answers to the left and favourable answers to the right.",
    },
    "crit.evidence_survey_only": {
        "es": "Se apoya solo en la encuesta: {n} persona.|Se apoya solo en la encuesta: {n} personas.",
        "en": "It rests on the survey alone: {n} respondent.|It rests on the survey alone: {n} respondents.",
    },
    "survey.tiny": {
        "es": "Solo {n} persona respondió la encuesta ({instrument}) en este sitio: con tan pocas respuestas los porcentajes no son representativos; léalos como ejemplos.|Solo {n} personas respondieron la encuesta ({instrument}) en este sitio: con tan pocas respuestas los porcentajes no son representativos; léalos como ejemplos.",
        "en": "Only {n} person answered the survey ({instrument}) at this site: with so few answers the percentages are not representative; read them as examples.|Only {n} people answered the survey ({instrument}) at this site: with so few answers the percentages are not representative; read them as examples.",
    },
    "crit.reliability": {
        "es": "baja concordancia entre codificadores",
        "en": "low agreement between coders",
    },
    "crit.reliability.presence": {
        "es": "dónde aplicar «{code}» (acuerdo {alpha})",
        "en": "where to apply “{code}” (agreement {alpha})",
    },
    "crit.reliability.valence": {
        "es": "la valencia en {criterion} (acuerdo {alpha})",
        "en": "the valence on {criterion} (agreement {alpha})",
    },
    # ---- how to read this report (base.how_to_read) ------------------------------------------
    "howto.title": {"es": "Cómo leer este informe", "en": "How to read this report"},
    "howto.scale": {
        "es": "Cada criterio recibe una valoración de 0 a 4, en cinco niveles:",
        "en": "Each criterion gets a rating from 0 to 4, in five levels:",
    },
    "howto.interval": {
        "es": "Cada valoración lleva un intervalo: con un {ci} de seguridad, la valoración "
        "está entre sus dos extremos. Cuanto más ancho, menos segura es; si los "
        "intervalos de dos valoraciones se solapan, no se sabe cuál es mayor.",
        "en": "Each rating comes with an interval: we are {ci} sure the rating lies between "
        "its two ends. The wider it is, the less certain the rating; when the intervals of "
        "two ratings overlap, we cannot tell which is higher.",
    },
    "howto.marks": {
        "es": "† marca una valoración con evidencia insuficiente (menos de tres fuentes o un "
        "solo grupo de informantes): léala como provisional. ‡ marca evidencia escasa: su "
        "incertidumbre se toma de los demás sitios del proyecto.",
        "en": "† marks a rating with insufficient evidence (fewer than three sources or a "
        "single group of respondents): read it as provisional. ‡ marks thin evidence: its "
        "uncertainty is borrowed from the project's other sites.",
    },
    "howto.quotes": {
        "es": "Las citas son ejemplos de lo que dijeron los informantes, elegidos para mostrar "
        "la variedad de opiniones; no son recuentos. Las valoraciones se calculan con todos "
        "los pasajes codificados y todas las respuestas de encuesta.",
        "en": "Quotes are examples of what respondents said, chosen to show the range of "
        "views; they are not counts. The ratings are computed from every coded passage and "
        "every survey answer.",
    },
    # ---- misc ------------------------------------------------------------------------------------------
    "word.and": {"es": "y", "en": "and"},
    "word.none": {"es": "ninguno", "en": "none"},
    "word.not_available": {"es": "n. d.", "en": "n/a"},
    # --- trend (F): change between evaluation rounds (copeval.report.trend) -----------------
    "trend.title": {"es": "Cambio desde {label}", "en": "Change since {label}"},
    "trend.title.once": {"es": "Cambio entre rondas", "en": "Change between rounds"},
    "trend.once.project": {
        "es": "{site} se ha medido una sola vez ({when}). El cambio podrá informarse después "
        "de una segunda ronda de evaluación.",
        "en": "{site} has been measured once ({when}). Change can be reported after a second "
        "evaluation round.",
    },
    "trend.once.first": {
        "es": "{label} es la primera ronda de evaluación de {site}: todavía no hay una ronda "
        "anterior con la cual comparar.",
        "en": "{label} is {site}'s first evaluation round: there is no earlier round to compare "
        "it with yet.",
    },
    "trend.once.site": {
        "es": "{site} se midió solo en {label}; en {other} no se recogió evidencia de este "
        "sitio, así que no se puede informar un cambio.",
        "en": "{site} was measured only in {label}; no evidence was collected for it in "
        "{other}, so no change can be reported.",
    },
    "trend.intro": {
        "es": "Cada criterio en cada ronda, con su intervalo del {ci}; el cambio es la "
        "diferencia entre la valoración de {to} y la de {from_}, con su propio intervalo. "
        "Decimos que un criterio muy probablemente mejoró (o empeoró) cuando el intervalo "
        "del cambio excluye el 0, lo que el modelo solo admite si la probabilidad de ese "
        "sentido es del {sure} o más; que probablemente mejoró, empeoró o no cambió cuando "
        "la probabilidad de ese resultado es del {likely} o más. El modelo admite que una "
        "parte de las valoraciones no cambie de verdad.",
        "en": "Each criterion in each round, with its {ci} interval; the change is the "
        "difference between the {to} rating and the {from_} rating, with its own interval. "
        "We say a criterion very likely improved (or worsened) when the interval of the "
        "change excludes 0, which the model allows only when the probability of that "
        "direction is {sure} or more; that it probably improved, worsened or stayed unchanged "
        "when the probability of that outcome is {likely} or more. The model allows for a "
        "share of ratings that truly did not change.",
    },
    "trend.fig.caption": {
        "es": "Valoración de cada criterio por ronda ({rounds}), con su intervalo del {ci}. "
        "Punto hueco: evidencia insuficiente o escasa.",
        "en": "Rating of each criterion by round ({rounds}), with its {ci} interval. Hollow "
        "dot: insufficient or thin evidence.",
    },
    "trend.fig.alt": {
        "es": "Gráfico de rondas: valoración de cada criterio en {rounds}.",
        "en": "Wave plot: rating of each criterion in {rounds}.",
    },
    "trend.col.criterion": {"es": "Criterio", "en": "Criterion"},
    "trend.col.change": {
        "es": "Cambio (intervalo del {ci})",
        "en": "Change ({ci} interval)",
    },
    "trend.col.words": {"es": "En palabras", "en": "In words"},
    "trend.interval": {"es": "{lower} a {upper}", "en": "{lower} to {upper}"},
    "trend.pct.over": {"es": "más del 99\u00a0%", "en": "over 99%"},
    "trend.pct.under": {"es": "menos del 1\u00a0%", "en": "under 1%"},
    "trend.words.improved.sure": {
        "es": "casi con certeza mejoró ({pct})",
        "en": "almost certainly improved ({pct})",
    },
    "trend.words.improved": {
        "es": "muy probablemente mejoró ({pct})",
        "en": "very likely improved ({pct})",
    },
    "trend.words.improved.likely": {
        "es": "probablemente mejoró ({pct})",
        "en": "probably improved ({pct})",
    },
    "trend.words.worsened.sure": {
        "es": "casi con certeza empeoró ({pct})",
        "en": "almost certainly worsened ({pct})",
    },
    "trend.words.worsened": {
        "es": "muy probablemente empeoró ({pct})",
        "en": "very likely worsened ({pct})",
    },
    "trend.words.worsened.likely": {
        "es": "probablemente empeoró ({pct})",
        "en": "probably worsened ({pct})",
    },
    "trend.words.open": {
        "es": ", aunque el intervalo incluye la ausencia de cambio",
        "en": ", though the interval includes no change",
    },
    "trend.words.unchanged": {
        "es": "probablemente sin cambio ({pct})",
        "en": "probably unchanged ({pct})",
    },
    "trend.words.unclear": {
        "es": "sin cambio claro (probabilidad de mejora {improved}, de ningún cambio "
        "{unchanged}, de empeoramiento {worsened})",
        "en": "no clear change (probability of an improvement {improved}, of no change "
        "{unchanged}, of a worsening {worsened})",
    },
    "trend.words.unclear.flat": {
        "es": "sin cambio claro (probabilidad de mejora {pct})",
        "en": "no clear change (probability of an improvement {pct})",
    },
    "trend.words.none": {
        "es": "sin valoración en {label}: no hay cambio que informar",
        "en": "not rated in {label}: no change to report",
    },
    "trend.words.short.improved": {"es": "muy probablemente mejoró", "en": "very likely improved"},
    "trend.words.short.improved.sure": {
        "es": "casi con certeza mejoró",
        "en": "almost certainly improved",
    },
    "trend.words.short.improved.likely": {"es": "probablemente mejoró", "en": "probably improved"},
    "trend.words.short.worsened": {
        "es": "muy probablemente empeoró",
        "en": "very likely worsened",
    },
    "trend.words.short.worsened.sure": {
        "es": "casi con certeza empeoró",
        "en": "almost certainly worsened",
    },
    "trend.words.short.worsened.likely": {
        "es": "probablemente empeoró",
        "en": "probably worsened",
    },
    "trend.words.short.unchanged": {
        "es": "probablemente sin cambio",
        "en": "probably unchanged",
    },
    "trend.words.short.unclear": {"es": "sin cambio claro", "en": "no clear change"},
    "trend.words.short.none": {"es": "sin valoración en una ronda", "en": "not rated in a round"},
    "trend.sentence": {
        "es": "{criterion}: {words}; pasó de {from_} en {round_from} a {to} en {round_to} "
        "(cambio {change}, intervalo del {ci}: {interval}).",
        "en": "{criterion}: {words}; from {from_} in {round_from} to {to} in {round_to} "
        "(change {change}, {ci} interval {interval}).",
    },
    "trend.flag.insufficient": {
        "es": "Evidencia insuficiente en al menos una ronda (†): léase con cautela.",
        "en": "Insufficient evidence in at least one round (†): read with care.",
    },
    "trend.flag.thin": {
        "es": "Evidencia escasa en al menos una ronda (‡): su variación no puede estimarse "
        "con su propia evidencia.",
        "en": "Thin evidence in at least one round (‡): its variation cannot be estimated "
        "from its own evidence.",
    },
    "trend.flag.basis": {
        "es": "La base de la valoración cambió entre rondas ({from_} → {to}).",
        "en": "The basis of the rating changed between rounds ({from_} → {to}).",
    },
    "trend.basis.qualitative": {"es": "solo cualitativa", "en": "qualitative only"},
    "trend.basis.survey": {"es": "solo encuesta", "en": "survey only"},
    "trend.basis.qualitative+survey": {
        "es": "cualitativa y encuesta",
        "en": "qualitative and survey",
    },
    "trend.pairing.intro": {
        "es": "Cómo se compararon las rondas: {what}.",
        "en": "How the rounds were compared: {what}.",
    },
    "trend.pairing.independent": {
        "es": "muestras independientes (otras personas entrevistadas y una nueva muestra de "
        "encuesta), así que los intervalos del cambio suman la incertidumbre de ambas rondas",
        "en": "independent samples (different interviewees and a new survey sample), so the "
        "change intervals add up the uncertainty of both rounds",
    },
    "trend.pairing.sources": {
        "es": "{n} fuente entrevistada de nuevo (la misma persona o grupo en ambas rondas)|"
        "{n} fuentes entrevistadas de nuevo (la misma persona o grupo en ambas rondas)",
        "en": "{n} source re-interviewed (the same person or group in both rounds)|"
        "{n} sources re-interviewed (the same person or group in both rounds)",
    },
    "trend.pairing.clusters": {
        "es": "la encuesta volvió a {n} de los mismos conglomerados de muestreo|"
        "la encuesta volvió a {n} de los mismos conglomerados de muestreo",
        "en": "the survey returned to {n} of the same sampling cluster|"
        "the survey returned to {n} of the same sampling clusters",
    },
    "trend.pairing.respondents": {
        "es": "{n} persona encuestada respondió en ambas rondas (panel)|"
        "{n} personas encuestadas respondieron en ambas rondas (panel)",
        "en": "{n} survey respondent answered in both rounds (a panel)|"
        "{n} survey respondents answered in both rounds (a panel)",
    },
    "trend.pairing.used": {
        "es": "los intervalos del cambio aprovechan ese emparejamiento, que los hace más "
        "estrechos que con muestras independientes",
        "en": "the change intervals use that pairing, which makes them narrower than "
        "independent samples would",
    },
    "trend.lead": {
        "es": "Desde {label}, el mayor cambio claro es en {criterion}: {words}, de {from_} a "
        "{to} (cambio {change}, intervalo del {ci}: {interval}).",
        "en": "Since {label}, the largest clear change is in {criterion}: {words}, from {from_} "
        "to {to} (change {change}, {ci} interval {interval}).",
    },
    "trend.brief.once": {
        "es": "Medido una sola vez: todavía no hay cambio que informar.",
        "en": "Measured once: no change to report yet.",
    },
    "trend.grid.title": {"es": "Cambio desde {label}", "en": "Change since {label}"},
    "trend.grid.intro": {
        "es": "Cambio de cada valoración entre {from_} y {to}, por sitio y criterio. El "
        "color y la marca dicen lo mismo que el informe de cada sitio: el sentido y cuán "
        "seguro es (↑ ↓), o que probablemente no cambió (=).",
        "en": "Change of each rating between {from_} and {to}, by site and criterion. The "
        "colour and the mark say what each site's report says: the direction and how sure it "
        "is (↑ ↓), or that it probably did not change (=).",
    },
    "trend.grid.site": {"es": "Sitio", "en": "Site"},
    "trend.grid.once": {"es": "medido una vez", "en": "measured once"},
    "trend.grid.once_count": {
        "es": "{n} sitio medido una sola vez ({names}) no tiene cambio que mostrar.|"
        "{n} sitios medidos una sola vez ({names}) no tienen cambio que mostrar.",
        "en": "{n} site measured only once ({names}) has no change to show.|"
        "{n} sites measured only once ({names}) have no change to show.",
    },
    "trend.grid.none": {
        "es": "El proyecto tiene una sola ronda de evaluación: todavía no hay cambios que "
        "comparar.",
        "en": "The project has a single evaluation round: there are no changes to compare yet.",
    },
    "trend.legend.title": {"es": "Leyenda:", "en": "Key:"},
    "trend.legend.improved_sure": {"es": "muy probablemente mejoró", "en": "very likely improved"},
    "trend.legend.improved_likely": {"es": "probablemente mejoró", "en": "probably improved"},
    "trend.legend.unchanged": {"es": "probablemente sin cambio", "en": "probably unchanged"},
    "trend.legend.unclear": {"es": "sin cambio claro", "en": "no clear change"},
    "trend.legend.worsened_likely": {"es": "probablemente empeoró", "en": "probably worsened"},
    "trend.legend.worsened_sure": {
        "es": "muy probablemente empeoró",
        "en": "very likely worsened",
    },
    "trend.legend.rule": {
        "es": "Muy probablemente: el intervalo excluye el 0 (la probabilidad de ese sentido es "
        "entonces del {sure} o más); probablemente: la probabilidad de ese resultado es del "
        "{likely} o más.",
        "en": "Very likely: the interval excludes 0 (the probability of that direction is then "
        "{sure} or more); probably: the probability of that outcome is {likely} or more.",
    },
    # --- comparative (C) -------------------------------------------------------------------------
    "compare.lead": {
        "es": "Este informe compara {n} sitio en los cuatro criterios de Frühling y la dimensión "
        "auxiliar de rendición de cuentas y confianza, en una escala de 0 a 4; cada valoración "
        "lleva un intervalo del {ci}.|Este informe compara {n} sitios en los cuatro criterios "
        "de Frühling y la dimensión auxiliar de rendición de cuentas y confianza, en la misma "
        "escala de 0 a 4; cada valoración lleva un intervalo del {ci}.",
        "en": "This report covers {n} site on Frühling's four criteria and the auxiliary "
        "accountability-and-trust dimension, on a 0–4 scale; each rating comes with a {ci} "
        "interval.|This report compares {n} sites on Frühling's four criteria and the "
        "auxiliary accountability-and-trust dimension, on the same 0–4 scale; each rating "
        "comes with a {ci} interval.",
    },
    "compare.headline.title": {"es": "En pocas palabras", "en": "In brief"},
    "compare.likely.virtually_certain": {"es": "prácticamente seguro", "en": "virtually certain"},
    "compare.likely.very_likely": {"es": "muy probable", "en": "very likely"},
    "compare.likely.likely": {"es": "probable", "en": "likely"},
    "compare.likely.as_likely_as_not": {
        "es": "tan probable como improbable",
        "en": "about as likely as not",
    },
    "compare.likely.unlikely": {"es": "improbable", "en": "unlikely"},
    "compare.likely.very_unlikely": {"es": "muy improbable", "en": "very unlikely"},
    "compare.likely.exceptionally_unlikely": {
        "es": "excepcionalmente improbable",
        "en": "exceptionally unlikely",
    },
    "compare.hl.where": {
        "es": "{criterion}, donde {higher} alcanza el nivel {band_h} ({score_h}) y {lower} el "
        "nivel {band_l} ({score_l}): que {higher} supere a {lower} es {likely} (probabilidad "
        "{p})",
        "en": "{criterion}, where {higher} rates {band_h} ({score_h}) and {lower} {band_l} "
        "({score_l}): that {higher} rates higher is {likely} (probability {p})",
    },
    "compare.criteria.all": {
        "es": "el {n} criterio|los {n} criterios",
        "en": "the {n} criterion|the {n} criteria",
    },
    "compare.criteria.two": {
        "es": "el {n} criterio valorado en ambos sitios|los {n} criterios valorados en ambos "
        "sitios",
        "en": "the {n} criterion rated at both sites|the {n} criteria rated at both sites",
    },
    "compare.criteria.many": {
        "es": "el {n} criterio valorado en dos sitios o más|los {n} criterios valorados en dos "
        "sitios o más",
        "en": "the {n} criterion rated at two sites or more|the {n} criteria rated at two "
        "sites or more",
    },
    "compare.hl.two.none": {
        "es": "{a} y {b} no se pueden distinguir en ninguno de {criteria}: todas las "
        "diferencias entre sus valoraciones caben dentro de la incertidumbre.",
        "en": "{a} and {b} cannot be told apart on any of {criteria}: every gap between their "
        "ratings lies within the uncertainty.",
    },
    "compare.hl.two.one": {
        "es": "{a} y {b} obtienen valoraciones similares en {k} de {criteria}; la única "
        "diferencia clara está en {where}.",
        "en": "{a} and {b} rate alike on {k} of {criteria}; the one clear difference is on "
        "{where}.",
    },
    "compare.hl.two.some": {
        "es": "{a} y {b} difieren claramente en {m} de {criteria}; la diferencia más clara "
        "está en {where}.",
        "en": "{a} and {b} differ clearly on {m} of {criteria}; the clearest difference is on "
        "{where}.",
    },
    "compare.hl.two.all": {
        "es": "{a} y {b} difieren claramente en cada uno de {criteria}; la mayor diferencia "
        "está en {where}.",
        "en": "{a} and {b} differ clearly on each of {criteria}; the largest difference is on "
        "{where}.",
    },
    "compare.hl.many.none": {
        "es": "Los {n} sitios no se distinguen claramente en ninguno de {criteria}: ni "
        "siquiera donde más difieren, en {where}.",
        "en": "The {n} sites cannot be told apart clearly on any of {criteria}: not even where "
        "they differ most, on {where}.",
    },
    "compare.hl.many.some": {
        "es": "Los {n} sitios difieren claramente en {m} de {criteria}, sobre todo en {where}.",
        "en": "The {n} sites differ clearly on {m} of {criteria}, most of all on {where}.",
    },
    "compare.hl.many.all": {
        "es": "Los {n} sitios difieren claramente en cada uno de {criteria}, sobre todo en "
        "{where}.",
        "en": "The {n} sites differ clearly on each of {criteria}, most of all on {where}.",
    },
    "compare.hl.nothing_shared": {
        "es": "Ningún criterio tiene valoración en dos sitios o más: los sitios no se pueden "
        "comparar.",
        "en": "No criterion is rated at two sites or more: the sites cannot be compared.",
    },
    "compare.hl.one": {
        "es": "Esta comparación incluye un solo sitio, {a}: sus valoraciones están en la tabla "
        "siguiente.",
        "en": "This comparison has a single site, {a}: its ratings are in the table below.",
    },
    "compare.hl.strength": {
        "es": "Su fortaleza común es {criterion}",
        "en": "Their shared strength is {criterion}",
    },
    "compare.hl.weakness": {
        "es": "su debilidad común es {criteria}|sus debilidades comunes son {criteria}",
        "en": "their shared weakness is {criteria}|their shared weaknesses are {criteria}",
    },
    "compare.hl.no_weakness": {
        "es": "ningún criterio es débil {at}; el más débil en promedio es {criterion} ({score})",
        "en": "no criterion is weak {at}; the weakest on average is {criterion} ({score})",
    },
    "compare.hl.widest": {
        "es": "ninguna debilidad es común a cuatro de cada cinco sitios; la más extendida es "
        "{criterion}, con nivel ausente o incipiente en {k} de los {n} sitios",
        "en": "no weakness is shared by four sites in five; the most widespread is "
        "{criterion}, absent or limited at {k} of the {n} sites",
    },
    "compare.hl.no_weak_site": {
        "es": "ningún sitio tiene nivel ausente o incipiente en ningún criterio",
        "en": "no site rates absent or limited on any criterion",
    },
    "compare.band.same": {"es": "nivel {band} {at}", "en": "rated {band} {at}"},
    "compare.band.or_better": {
        "es": "nivel {band} o superior {at}",
        "en": "rated {band} or better {at}",
    },
    "compare.band.or_lower": {
        "es": "nivel {band} o inferior {at}",
        "en": "rated {band} or lower {at}",
    },
    "compare.at.both": {"es": "en ambos sitios", "en": "at both sites"},
    "compare.at.all": {"es": "en los {n} sitios", "en": "at all {n} sites"},
    "compare.at.some": {"es": "en {k} de los {n} sitios", "en": "at {k} of the {n} sites"},
    "compare.n_sites": {
        "es": "Comparación de {n} sitio|Comparación de {n} sitios",
        "en": "Comparison of {n} site|Comparison of {n} sites",
    },
    "compare.more_sites": {
        "es": "y {n} sitio más|y {n} sitios más",
        "en": "and {n} more site|and {n} more sites",
    },
    "compare.in_this_report": {
        "es": "En este informe: {sections}.",
        "en": "In this report: {sections}.",
    },
    "compare.fig.grid": {
        "es": "Figura {n}. Valoración de cada sitio por criterio, con su intervalo del {ci}; "
        "el color marca el nivel, de ausente a consolidado.",
        "en": "Figure {n}. Each site's rating by criterion, with its {ci} interval; the colour "
        "marks the level, from absent to strong.",
    },
    "compare.fig.grid_short": {
        "es": "Figura {n}. Valoración de cada sitio por criterio; el color marca el nivel, de "
        "ausente a consolidado.",
        "en": "Figure {n}. Each site's rating by criterion; the colour marks the level, from "
        "absent to strong.",
    },
    "compare.fig.marks": {
        "es": "† evidencia insuficiente; ‡ evidencia escasa.",
        "en": "† insufficient evidence; ‡ thin evidence.",
    },
    "compare.forest_intro": {
        "es": "Cada punto es la valoración de un sitio y cada barra, su intervalo del {ci}. "
        "Donde las barras de dos sitios se solapan, los datos no permiten decir cuál de los "
        "dos tiene la valoración mayor.",
        "en": "Each dot is a site's rating and each bar its {ci} interval. Where the bars of "
        "two sites overlap, the data cannot say which of the two rates higher.",
    },
    "compare.forest_alt": {
        "es": "Valoraciones e intervalos del {ci} de {sites} en cada criterio, sobre los cinco "
        "niveles de la escala.",
        "en": "Ratings and {ci} intervals of {sites} on each criterion, over the five levels "
        "of the scale.",
    },
    "compare.fig.forest": {
        "es": "Figura {n}. Valoración e intervalo del {ci} de cada sitio, por criterio.",
        "en": "Figure {n}. Rating and {ci} interval of each site, by criterion.",
    },
    "compare.spread_intro": {
        "es": "Para cada criterio, la valoración más baja, la mediana y la más alta entre los "
        "{n} sitios, y cuántos sitios tienen nivel ausente o incipiente.",
        "en": "For each criterion, the lowest, median and highest rating among the {n} sites, "
        "and how many sites rate absent or limited.",
    },
    "compare.col.lowest": {"es": "Más baja", "en": "Lowest"},
    "compare.col.median": {"es": "Mediana", "en": "Median"},
    "compare.col.highest": {"es": "Más alta", "en": "Highest"},
    "compare.col.weak": {"es": "Ausente o incipiente", "en": "Absent or limited"},
    "compare.k_of_n": {"es": "{k} de {n}", "en": "{k} of {n}"},
    "compare.diff_intro": {
        "es": "Una diferencia entre dos valoraciones puede deberse al azar: otras entrevistas u "
        "otra muestra de la encuesta podrían haberla invertido. Para cada par de sitios se "
        "indica, en palabras y entre paréntesis como probabilidad del modelo de "
        "incertidumbre, qué tan probable es que el sitio con la valoración mayor la tenga "
        "realmente. Llamamos clara a una diferencia muy probable o más (0.90 o más).",
        "en": "A difference between two ratings can be chance: other interviews or another "
        "survey sample could have reversed it. For each pair of sites we say, in words and in "
        "parentheses as a probability from the uncertainty model, how likely it is that the "
        "higher-rated site really rates higher. We call a difference clear when it is very "
        "likely or more (0.90 or more).",
    },
    "compare.scale": {
        "es": "Escala de las palabras: {scale}.",
        "en": "The words follow a fixed scale: {scale}.",
    },
    "compare.range.at_least": {"es": "{p} o más", "en": "{p} or more"},
    "compare.range.at_most": {"es": "{p} o menos", "en": "{p} or less"},
    "compare.col.higher": {"es": "Valoración mayor", "en": "Rates higher"},
    "compare.col.lower": {"es": "Valoración menor", "en": "Rates lower"},
    "compare.col.ratings": {"es": "Valoraciones", "en": "Ratings"},
    "compare.col.likely": {"es": "Qué tan probable", "en": "How likely"},
    "compare.vs": {"es": "{a} frente a {b}", "en": "{a} vs {b}"},
    "compare.matrix_intro": {
        "es": "Para cada criterio, los sitios van de la valoración mayor a la menor; cada "
        "celda da la probabilidad de que el sitio de la fila tenga una valoración mayor que "
        "el de la columna. En negrita, las diferencias claras (0.90 o más).",
        "en": "For each criterion the sites run from the higher to the lower rating; each "
        "cell gives the probability that the site of the row rates higher than the site of "
        "the column. In bold, the clear differences (0.90 or more).",
    },
    "compare.too_many": {
        "es": "Con {n} sitios hay demasiados pares para enumerarlos. Para cada criterio se "
        "muestran los {k} sitios con más probabilidad de estar arriba, con su puesto medio "
        "(1 = valoración más alta) y su probabilidad de ocupar el primer puesto en las "
        "simulaciones del modelo de incertidumbre.",
        "en": "With {n} sites there are too many pairs to list. For each criterion, the {k} "
        "sites most likely to rate at the top are shown, with their average place (1 = the "
        "top rating) and their chance of ranking first across the uncertainty model's "
        "simulations.",
    },
    "compare.col.rating": {"es": "Valoración", "en": "Rating"},
    "compare.col.mean_rank": {"es": "Puesto medio", "en": "Average place"},
    "compare.col.first": {"es": "Probabilidad del primer puesto", "en": "Chance of ranking first"},
    "compare.sens.lead": {
        "es": "Otras decisiones de cálculo: las valoraciones se recalcularon con pesos "
        "cualitativos de {wmin} a {wmax}, y con y sin el mismo peso para cada grupo de "
        "informantes.",
        "en": "Other scoring choices: the ratings were recomputed with qualitative weights "
        "from {wmin} to {wmax}, and with and without an equal weight per group of "
        "respondents.",
    },
    "compare.sens.two.holds": {
        "es": "El orden de los dos sitios se mantiene en todos los criterios.",
        "en": "The order of the two sites holds on every criterion.",
    },
    "compare.sens.two.flips": {
        "es": "El orden de los dos sitios puede invertirse en {criteria}, donde la diferencia "
        "no es clara.",
        "en": "The order of the two sites can reverse on {criteria}, where the difference is "
        "not clear.",
    },
    "compare.sens.two.flips_clear": {
        "es": "El orden de los dos sitios puede invertirse en {criteria}; en {clear} la "
        "diferencia parecía clara: léala con cautela.",
        "en": "The order of the two sites can reverse on {criteria}; on {clear} the "
        "difference looked clear: read it with care.",
    },
    "compare.sens.many.holds": {
        "es": "El orden de cada par de sitios se mantiene en todos los criterios.",
        "en": "The order of every pair of sites holds on every criterion.",
    },
    "compare.sens.many.flips": {
        "es": "El orden de algunos pares de sitios puede invertirse: {items}.",
        "en": "The order of some pairs of sites can reverse: {items}.",
    },
    "compare.sens.pairs": {
        "es": "{criterion}, {k} de {n} par|{criterion}, {k} de {n} pares",
        "en": "{criterion}, {k} of {n} pair|{criterion}, {k} of {n} pairs",
    },
    "compare.sens.many.clear": {
        "es": "{m} de ellos es una diferencia que parecía clara: léala con cautela.|{m} de "
        "ellos son diferencias que parecían claras: léalas con cautela.",
        "en": "{m} of them is a difference that looked clear: read it with care.|{m} of them "
        "are differences that looked clear: read them with care.",
    },
    "compare.sens.many.clear_hold": {
        "es": "Ninguna de las diferencias claras se invierte.",
        "en": "None of the clear differences reverses.",
    },
    "compare.coverage_intro": {
        "es": "Cuánta evidencia sostiene las valoraciones de cada sitio: por grupo de "
        "informantes, el número de fuentes (entrevistas, grupos focales, observaciones o "
        "documentos) y, entre paréntesis, de pasajes codificados; y el número de personas "
        "encuestadas. Cada grupo pesa lo mismo: un grupo sin fuentes deja su voz fuera de la "
        "valoración.",
        "en": "How much evidence lies behind each site's ratings: for each group of "
        "respondents, the number of sources (interviews, focus groups, observations or "
        "documents) and, in parentheses, of coded passages; and the number of survey "
        "respondents. Each group weighs the same: a group with no sources leaves its voice "
        "out of the rating.",
    },
    "compare.unit.sources": {"es": "fuentes (pasajes)", "en": "sources (passages)"},
    "compare.unit.respondents": {"es": "personas", "en": "respondents"},
    "compare.no_sites": {
        "es": "No hay valoraciones para los sitios de esta comparación.",
        "en": "There are no ratings for the sites in this comparison.",
    },
}

_PLACEHOLDER = re.compile(r"{(\w+)[^}]*}")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a report language, else raise a clear error."""
    return _check_lang(lang, what="report language")


def t(key: str, lang: str, /, **values) -> str:
    """The string ``key`` in ``lang``, formatted with ``values``.

    Raises :class:`~copeval.errors.CopevalError` for an unknown key or language.
    """
    check_lang(lang)
    try:
        entry = STRINGS[key]
    except KeyError:
        raise CopevalError(f"No report string named {key!r}") from None
    text = entry[lang]
    return text.format(**values) if values else text


def tn(key: str, n: int, lang: str, /, **values) -> str:
    """Plural-aware :func:`t`: the string holds ``"singular|plural"``; ``n`` picks the form."""
    forms = t(key, lang).split("|")
    text = forms[0] if (n == 1 or len(forms) == 1) else forms[1]
    return text.format(n=n, **values)


def criterion_label(criterion: str, lang: str, *, code: bool = True) -> str:
    """``"C2 Community relationship and consultation"`` (or without the code)."""
    label = CRITERION_LABELS[criterion][check_lang(lang)]
    return f"{criterion} {label}" if code else label


def stratum_label(stratum: str, lang: str) -> str:
    """Display label of a triangulation stratum."""
    return STRATUM_LABELS[stratum][check_lang(lang)]


def _missing(x) -> bool:
    return x is None or (pd.api.types.is_scalar(x) and bool(pd.isna(x)))


def fmt_num(x, lang: str, digits: int = 1) -> str:
    """A number rounded for display (``"2.4"``); missing values give ``"n/a"``/``"n. d."``."""
    if _missing(x):
        return t("word.not_available", lang)
    # half-up rounding of the value, the same rule the rating bands use (vocabulary)
    return f"{display_value(float(x), digits):.{digits}f}"


def fmt_count(n, lang: str) -> str:
    """An integer with thousands separators: ``841,314`` (en) / ``841 314`` (es)."""
    if _missing(n):
        return t("word.not_available", lang)
    text = f"{int(n):,}"
    return text.replace(",", "\u202f") if lang == "es" else text


def fmt_pct(p, lang: str, digits: int = 0) -> str:
    """A proportion as a percentage: ``0.9 -> "90%"`` (``"90 %"`` in Spanish)."""
    if _missing(p):
        return t("word.not_available", lang)
    value = f"{100 * float(p):.{digits}f}"
    return f"{value}\u00a0%" if lang == "es" else f"{value}%"


def fmt_prob(p, lang: str) -> str:
    """A probability to two decimals; ``"> 0.99"`` / ``"< 0.01"`` at the extremes.

    A share of 1.00 only says "in every simulation draw", not certainty.
    """
    if _missing(p):
        return t("word.not_available", lang)
    if p >= 0.995:
        return "> 0.99"
    if p <= 0.005:
        return "< 0.01"
    return f"{float(p):.2f}"


def fmt_interval(lower, upper, lang: str, digits: int = 1) -> str:
    """``"2.1–2.9"``; ``"n/a"`` when either bound is missing."""
    if _missing(lower) or _missing(upper):
        return t("word.not_available", lang)
    return f"{fmt_num(lower, lang, digits)}–{fmt_num(upper, lang, digits)}"


def join_list(items, lang: str) -> str:
    """``["a", "b", "c"] -> "a, b and c"`` (``"a, b y c"``)."""
    items = [str(i) for i in items]
    if not items:
        return t("word.none", lang)
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {t('word.and', lang)} {items[-1]}"


def _fmt_month(text: str, lang: str) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text.strip())
    if not match:
        return text.strip()
    year, month, day = match.groups()
    month_name = MONTHS[lang][int(month) - 1]
    if day:
        return (
            f"{int(day)} {month_name} {year}"
            if lang == "en"
            else f"{int(day)} de {month_name} de {year}"
        )
    if lang == "en":
        return f"{month_name.capitalize()} {year}"
    return f"{month_name} de {year}"


def fmt_period(period, lang: str) -> str:
    """A fieldwork period ``"2017-02/2018-05"`` as ``"February 2017 – May 2018"``.

    Free text that is not ``YYYY-MM[-DD]`` (optionally two separated by ``/``) is returned
    unchanged; a missing period gives ``"n/a"``.
    """
    check_lang(lang)
    if period is None or (isinstance(period, float) and math.isnan(period)) or not str(period):
        return t("word.not_available", lang)
    parts = str(period).split("/")
    if len(parts) == 2:
        return f"{_fmt_month(parts[0], lang)} – {_fmt_month(parts[1], lang)}"
    return _fmt_month(str(period), lang)


def placeholders(text: str) -> set[str]:
    """Names of the ``{placeholders}`` in ``text`` (used by the tests)."""
    return set(_PLACEHOLDER.findall(text))
