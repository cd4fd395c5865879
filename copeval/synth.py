"""Synthetic evaluation projects: realistic shape, invented content.

:func:`synth_project` generates a complete project — sites, sources with filler texts,
coded segments with valences (a primary coder and, for a share of sources, a second coder),
and a community and a police survey with design weights, sampling clusters, don't-know and
refused codes and empty answers — from a known "true" implementation level per site and
criterion. It serves benchmarks (``bench/``), tests, demonstrations and design studies
("how many interviews does a site need?"), which compare the scores with the truth.

Everything is marked synthetic: ``meta["synthetic"]`` is true (reports then carry a banner),
site names read "Sitio sintético 001", and every text sentence says it is synthetic filler.
Nothing is drawn from real people or places except Guatemala's department names.

How the data arise from the truth ``level`` (0..4) of a site and criterion:

- each source speaks to 2-4 criteria; a segment's valence is
  ``round(level - 2 + stratum bias + source effect + noise)`` clipped to -2..+2 (stratum
  biases: police +0.3, community -0.2, authorities 0, field -0.1; source effect N(0, 0.4);
  noise N(0, 0.8)); segments with a negative valence get an obstacle code half of the time,
  the others a practice code of the criterion, so that obstacle codes never carry a positive
  valence;
- a survey answer is ``scale_min + (level + respondent effect + noise) / 4 * range``,
  rounded and clipped, flipped for negatively worded items; a share ``missing_rate`` of the
  answers is don't know (97), refused (98) or empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import Codebook, load_codebook
from .errors import SynthError
from .project import table_columns
from .vocabulary import CRITERIA, RESPONDENT_GROUPS

__all__ = [
    "DEPARTMENTS",
    "ROUND_CHANGE",
    "SyntheticProject",
    "synth_project",
    "synth_rounds",
    "synth_survey_items",
]

#: Guatemala's 22 departments (used as synthetic sites' departments).
DEPARTMENTS = (
    "Alta Verapaz",
    "Baja Verapaz",
    "Chimaltenango",
    "Chiquimula",
    "El Progreso",
    "Escuintla",
    "Guatemala",
    "Huehuetenango",
    "Izabal",
    "Jalapa",
    "Jutiapa",
    "Petén",
    "Quetzaltenango",
    "Quiché",
    "Retalhuleu",
    "Sacatepéquez",
    "San Marcos",
    "Santa Rosa",
    "Sololá",
    "Suchitepéquez",
    "Totonicapán",
    "Zacapa",
)

_STRATUM_BIAS = {"police": 0.3, "community": -0.2, "authorities": 0.0, "field": -0.1}
# respondent groups and their relative frequency among a site's sources
_GROUP_WEIGHTS = {
    "police_operational": 3,
    "police_prevention": 2,
    "police_command": 1,
    "community_member": 3,
    "community_leader": 2,
    "municipal_authority": 1,
    "justice_sector": 1,
    "civil_society": 1,
    "expert": 0.5,
    "observation": 1,
    "document": 0.5,
}
_METHOD = {"observation": "observation", "document": "document"}
_PRIMARY, _SECOND = "A", "B"

_FILLER_ES = (
    "La persona entrevistada describe la situación del lugar con ejemplos generales.",
    "Se mencionan fechas y lugares que no se relacionan con los criterios.",
    "La conversación pasa a temas de la vida cotidiana del municipio.",
    "Hay una pausa y se retoma la pregunta anterior.",
    "Se comentan aspectos del clima y de las cosechas de la temporada.",
)
_FILLER_EN = (
    "The respondent describes the place in general terms.",
    "Dates and places unrelated to the criteria are mentioned.",
    "The conversation turns to everyday life in the municipality.",
    "There is a pause and the previous question is taken up again.",
)

# (instrument, item, criterion, scale, min, max, reverse, label_en, label_es)
_ITEMS = (
    ("community", "patrol_foot", "C1", "patrol", 0, 4, False,
     "How often do you see police patrolling on foot here?",
     "¿Con qué frecuencia ve a la policía patrullar a pie aquí?"),
    ("community", "officer_known", "C1", "patrol", 0, 4, False,
     "I know the police officers of my area by sight.",
     "Conozco de vista a los agentes de mi zona."),
    ("community", "meetings_heard", "C2", "consultation", 0, 4, False,
     "Have you heard of meetings between police and residents?",
     "¿Ha oído de reuniones entre la policía y los vecinos?"),
    ("community", "police_listen", "C2", "consultation", 0, 4, False,
     "The police act upon residents' comments.",
     "La policía actúa según los comentarios de los vecinos."),
    ("community", "problems_solved", "C3", "problem_solving", 0, 4, False,
     "The police help solve the security problems of this area.",
     "La policía ayuda a resolver los problemas de seguridad de esta zona."),
    ("community", "only_react", "C3", "problem_solving", 0, 4, True,
     "The police only come after a crime has happened.",
     "La policía solo llega después de que ocurre un delito."),
    ("community", "know_causes", "C4", "analysis", 0, 4, False,
     "The police know why crimes happen in this area.",
     "La policía sabe por qué ocurren los delitos en esta zona."),
    ("community", "trust_police", "AT", "trust", 1, 7, False,
     "How much do you trust the National Civil Police?",
     "¿Cuánto confía en la Policía Nacional Civil?"),
    ("community", "police_abuse", "AT", "trust", 0, 4, True,
     "Police in this area abuse their power.",
     "La policía de esta zona abusa de su poder."),
    ("community", "age_group", None, None, 1, 5, False,
     "Age group", "Grupo de edad"),
    ("police", "fixed_sector", "C1", "sector_work", 1, 5, False,
     "I am assigned to a fixed sector.", "Tengo asignado un sector fijo."),
    ("police", "meet_community", "C2", "community_work", 1, 5, False,
     "I meet community organisations regularly.",
     "Me reúno con organizaciones comunitarias con regularidad."),
    ("police", "community_input", "C2", "community_work", 1, 5, False,
     "Residents' views change what we do.",
     "Las opiniones de los vecinos cambian lo que hacemos."),
    ("police", "problem_projects", "C3", "problem_work", 1, 5, False,
     "We run projects on specific local problems.",
     "Hacemos proyectos sobre problemas locales concretos."),
    ("police", "use_local_data", "C4", "analysis_work", 1, 5, False,
     "We analyse local crime data at the station.",
     "Analizamos datos delictivos locales en la estación."),
    ("police", "info_lost", "C4", "analysis_work", 1, 5, True,
     "The information we send up never comes back.",
     "La información que enviamos nunca regresa."),
    ("police", "report_back", "AT", "accountability", 1, 5, False,
     "We report back to the community on our work.",
     "Informamos a la comunidad sobre nuestro trabajo."),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class SyntheticProject:
    """A generated project held in memory, with the truth it was generated from.

    Attributes
    ----------
    sites, sources, segments : DataFrame
        Tables as in ``docs/data-model.md`` (without derived columns).
    texts : dict of str to str
        Text of each source.
    items : DataFrame or None
        Survey item map (None without surveys).
    responses : dict of str to DataFrame
        Responses by instrument (empty without surveys).
    meta : dict
        Project metadata; ``synthetic`` is true.
    truth : DataFrame
        ``site_id``, ``criterion``, ``level``: the true implementation level (0..4) the
        data were generated from.
    path : Path or None
        The project folder, once written.
    """

    sites: pd.DataFrame
    sources: pd.DataFrame
    segments: pd.DataFrame
    texts: dict
    items: pd.DataFrame | None
    responses: dict
    meta: dict
    truth: pd.DataFrame
    path: Path | None = field(default=None)

    def tables(self) -> dict:
        """Keyword arguments for :func:`copeval.project.write_project`."""
        return {
            "sites": self.sites,
            "sources": self.sources,
            "segments": self.segments,
            "texts": self.texts,
            "items": self.items,
            "responses": self.responses or None,
            "meta": self.meta,
        }

    def write(self, path, *, overwrite: bool = False) -> SyntheticProject:
        """Write the project folder; returns a copy whose ``path`` is set."""
        from .project import write_project

        written = write_project(path, **self.tables(), overwrite=overwrite)
        return dataclasses.replace(self, path=Path(written))

    def write_with_truth(self, path, *, overwrite: bool = False) -> SyntheticProject:
        """:meth:`write`, plus the truth as ``synthetic_truth.csv`` beside the tables."""
        project = self.write(path, overwrite=overwrite)
        self.truth.to_csv(
            Path(project.path) / "synthetic_truth.csv",
            index=False,
            float_format="%.4f",
            lineterminator="\n",
        )
        return project

    def __repr__(self) -> str:
        n_resp = sum(len(r) for r in self.responses.values())
        return (
            f"<SyntheticProject: {len(self.sites)} sites, {len(self.sources)} sources, "
            f"{len(self.segments)} segments, {n_resp} responses"
            f"{', at ' + str(self.path) if self.path else ''}>"
        )


def _check_range(value, name: str, minimum: int) -> tuple[int, int]:
    if (
        not isinstance(value, Sequence)
        or len(value) != 2
        or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in value)
        or value[0] < minimum
        or value[1] < value[0]
    ):
        raise SynthError(
            f"{name} must be a (low, high) pair of integers with {minimum} <= low <= high, "
            f"got {value!r}"
        )
    return int(value[0]), int(value[1])


def _check_rate(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise SynthError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def synth_survey_items() -> pd.DataFrame:
    """The item map of the synthetic community and police instruments.

    Returns
    -------
    DataFrame
        Columns of ``items.csv`` (see ``docs/data-model.md``): ``instrument``, ``item``,
        ``criterion``, ``scale``, ``scale_min``, ``scale_max``, ``reverse``,
        ``missing_codes`` (``"97;98"``), ``label_en``, ``label_es``. The community
        instrument mixes 0-4 frequency/agreement items with a 1-7 trust item (as LAPOP B18);
        the police instrument uses 1-5 agreement (as CP-SAT); one item per instrument has
        no criterion (demographics) or is worded negatively.
    """
    cols = [
        "instrument",
        "item",
        "criterion",
        "scale",
        "scale_min",
        "scale_max",
        "reverse",
        "label_en",
        "label_es",
    ]
    items = pd.DataFrame(_ITEMS, columns=cols)
    items["missing_codes"] = "97;98"
    return items[table_columns("items")]


def _draw_levels(site_ids, rng) -> pd.DataFrame:
    overall = rng.uniform(0.8, 3.2, size=len(site_ids))
    offsets = rng.normal(0.0, 0.5, size=(len(site_ids), len(CRITERIA)))
    levels = np.clip(overall[:, None] + offsets, 0.2, 3.8)
    return pd.DataFrame(
        {
            "site_id": np.repeat(site_ids, len(CRITERIA)),
            "criterion": np.tile(CRITERIA, len(site_ids)),
            "level": levels.ravel(),
        }
    )


def _check_levels(levels, n_sites) -> pd.DataFrame:
    if not isinstance(levels, pd.DataFrame):
        raise SynthError(f"levels must be a DataFrame, got {type(levels).__name__}")
    missing = [c for c in ("site_id", "criterion", "level") if c not in levels.columns]
    if missing:
        raise SynthError(
            f"levels lacks column(s) {', '.join(missing)}. "
            f"Available columns: {', '.join(map(str, levels.columns))}"
        )
    lv = levels[["site_id", "criterion", "level"]].copy()
    lv["site_id"] = lv["site_id"].astype(str)
    lv["level"] = pd.to_numeric(lv["level"], errors="coerce")
    if lv["level"].isna().any() or not lv["level"].between(0, 4).all():
        raise SynthError("levels column 'level' must hold numbers in 0..4")
    sites = list(dict.fromkeys(lv["site_id"]))
    if len(sites) != n_sites:
        raise SynthError(f"levels describes {len(sites)} sites but n_sites is {n_sites}")
    full = pd.MultiIndex.from_product([sites, CRITERIA], names=["site_id", "criterion"])
    lv = lv.set_index(["site_id", "criterion"])
    if lv.index.duplicated().any() or not full.isin(lv.index).all():
        raise SynthError("levels must hold exactly one level per site and criterion (C1..C4, AT)")
    return lv.reindex(full).reset_index()


def synth_project(
    n_sites: int,
    *,
    seed: int,
    out=None,
    overwrite: bool = False,
    levels: pd.DataFrame | None = None,
    sources_per_site: tuple[int, int] = (8, 16),
    segments_per_source: tuple[int, int] = (3, 12),
    survey: bool = True,
    community_respondents: tuple[int, int] = (30, 150),
    police_respondents: tuple[int, int] = (8, 30),
    clusters_per_site: tuple[int, int] = (3, 8),
    missing_rate: float = 0.05,
    unrated_rate: float = 0.01,
    no_consent_rate: float = 0.03,
    double_coded: float = 0.2,
    codebook: Codebook | None = None,
) -> SyntheticProject:
    """Generate a synthetic evaluation project.

    Parameters
    ----------
    n_sites : int
        Number of sites (>= 1).
    seed : int, keyword-only
        Seed of every random draw (>= 0): the same arguments give the same project.
    out : path, keyword-only
        Write the project there (with :func:`copeval.project.write_project`).
    overwrite : bool, keyword-only
        Allow replacing a project already in ``out``.
    levels : DataFrame, keyword-only
        True levels to generate from: ``site_id``, ``criterion``, ``level`` (0..4), one row
        per site and criterion; its sites become the project's sites. Default: drawn (a
        site-wide level uniform on 0.8..3.2 plus a criterion offset N(0, 0.5), clipped to
        0.2..3.8).
    sources_per_site, segments_per_source : (int, int), keyword-only
        Ranges (inclusive) of sources per site and primary-coder segments per source. Each
        site gets at least one police and one community source.
    survey : bool, keyword-only
        Generate the community and police surveys.
    community_respondents, police_respondents : (int, int), keyword-only
        Ranges of respondents per site and instrument.
    clusters_per_site : (int, int), keyword-only
        Range of sampling clusters of the community survey per site (the police survey has
        no clusters nor weights).
    missing_rate : float, keyword-only
        Share of survey answers that are don't know (97), refused (98) or empty.
    unrated_rate : float, keyword-only
        Share of primary segments left without a valence.
    no_consent_rate : float, keyword-only
        Share of sources with consent ``none`` (kept, never scored).
    double_coded : float, keyword-only
        Share of sources also coded by a second coder ("B"), who agrees on the code about
        85% of the time and on the valence about 80% of the time.
    codebook : Codebook, keyword-only
        Codebook to draw codes from (default: the packaged one).

    Returns
    -------
    SyntheticProject
        Tables, texts, metadata (``synthetic`` true, primary coder "A") and the truth;
        ``path`` is set when ``out`` was given.
    """
    if isinstance(n_sites, bool) or not isinstance(n_sites, Integral) or n_sites < 1:
        raise SynthError(f"n_sites must be an integer >= 1, got {n_sites!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise SynthError(f"seed must be an integer >= 0, got {seed!r}")
    src_range = _check_range(sources_per_site, "sources_per_site", 2)
    seg_range = _check_range(segments_per_source, "segments_per_source", 1)
    com_range = _check_range(community_respondents, "community_respondents", 1)
    pol_range = _check_range(police_respondents, "police_respondents", 1)
    cl_range = _check_range(clusters_per_site, "clusters_per_site", 1)
    missing_rate = _check_rate(missing_rate, "missing_rate")
    unrated_rate = _check_rate(unrated_rate, "unrated_rate")
    no_consent_rate = _check_rate(no_consent_rate, "no_consent_rate")
    double_coded = _check_rate(double_coded, "double_coded")
    cb = codebook if codebook is not None else load_codebook()
    rng = np.random.default_rng(seed)

    width = max(3, len(str(n_sites)))
    if levels is None:
        site_ids = [f"SYN{i:0{width}d}" for i in range(1, n_sites + 1)]
        truth = _draw_levels(site_ids, rng)
    else:
        truth = _check_levels(levels, int(n_sites))
        site_ids = list(dict.fromkeys(truth["site_id"]))
    level = {
        (s, c): float(v)
        for s, c, v in zip(truth["site_id"], truth["criterion"], truth["level"], strict=True)
    }

    sites = pd.DataFrame(
        {
            "site_id": site_ids,
            "name": [f"Sitio sintético {i:0{width}d}" for i in range(1, len(site_ids) + 1)],
            "department": [DEPARTMENTS[i % len(DEPARTMENTS)] for i in range(len(site_ids))],
            "population": rng.integers(5_000, 400_000, size=len(site_ids)),
            "population_source": "synthetic",
            "notes": "Synthetic site generated by copeval.synth; not a real municipality.",
        }
    )
    sources, segments, texts = _qualitative(
        site_ids,
        level,
        rng,
        cb,
        src_range=src_range,
        seg_range=seg_range,
        unrated_rate=unrated_rate,
        no_consent_rate=no_consent_rate,
        double_coded=double_coded,
    )
    items, responses = (None, {})
    if survey:
        items = synth_survey_items()
        responses = _surveys(
            site_ids,
            level,
            items,
            rng,
            com_range=com_range,
            pol_range=pol_range,
            cl_range=cl_range,
            missing_rate=missing_rate,
        )
    meta = {
        "title": f"Synthetic project: {len(site_ids)} sites (seed {seed})",
        "synthetic": True,
        "period": "synthetic",
        "primary_coder": _PRIMARY,
        "reference_site": None,
    }
    project = SyntheticProject(
        sites=sites,
        sources=sources,
        segments=segments,
        texts=texts,
        items=items,
        responses=responses,
        meta=meta,
        truth=truth,
    )
    if out is not None:
        project = project.write(out, overwrite=overwrite)
    return project


def _qualitative(
    site_ids, level, rng, cb, *, src_range, seg_range, unrated_rate, no_consent_rate, double_coded
):
    """Sources, segments (primary and second coder) and texts."""
    table = cb.table
    in_crit = {c: table["criterion"] == c for c in CRITERIA}
    practice = {c: list(table.loc[in_crit[c] & ~table["obstacle"], "code"]) for c in CRITERIA}
    obstacle = {c: list(table.loc[in_crit[c] & table["obstacle"], "code"]) for c in CRITERIA}
    obstacle_codes = set(table.loc[table["obstacle"], "code"])
    labels = dict(zip(table["code"], table["label_es"], strict=True))
    labels_en = dict(zip(table["code"], table["label_en"], strict=True))
    groups = list(_GROUP_WEIGHTS)
    gp = np.array([_GROUP_WEIGHTS[g] for g in groups], dtype=float)
    gp /= gp.sum()

    src_rows, seg_rows, texts = [], [], {}
    for site in site_ids:
        n_src = int(rng.integers(src_range[0], src_range[1] + 1))
        chosen = ["police_operational", "community_member"]
        chosen += list(rng.choice(groups, size=n_src - 2, p=gp))
        rng.shuffle(chosen)
        for j, group in enumerate(chosen, start=1):
            sid = f"{site}-{j:02d}"
            stratum = RESPONDENT_GROUPS[group][0]
            method = _METHOD.get(group) or (
                "focus_group"
                if group == "community_member" and rng.random() < 0.3
                else "interview"
            )
            lang = "en" if rng.random() < 0.1 else "es"
            u = rng.random()
            consent = "none" if u < no_consent_rate else ("anonymous" if u < 0.4 else "quote")
            src_rows.append(
                {
                    "source_id": sid,
                    "site_id": site,
                    "respondent_group": group,
                    "method": method,
                    "date": f"2017-{int(rng.integers(2, 13)):02d}-{int(rng.integers(1, 29)):02d}",
                    "language": lang,
                    "consent": consent,
                    "coder_notes": "synthetic",
                }
            )
            effect = rng.normal(0.0, 0.4)
            n_crit = int(rng.integers(2, 5))
            crits = list(rng.choice(CRITERIA, size=n_crit, replace=False))
            n_seg = int(rng.integers(seg_range[0], seg_range[1] + 1))
            coded = []  # (criterion, code, valence)
            for _ in range(n_seg):
                c = crits[int(rng.integers(len(crits)))]
                mu = level[(site, c)] - 2 + _STRATUM_BIAS[stratum] + effect
                v = int(np.clip(np.rint(rng.normal(mu, 0.8)), -2, 2))
                if v < 0 and obstacle[c] and rng.random() < 0.5:
                    code = obstacle[c][int(rng.integers(len(obstacle[c])))]
                else:
                    code = practice[c][int(rng.integers(len(practice[c])))]
                coded.append((c, code, v))
            text, spans = _text(sid, coded, lang, labels if lang == "es" else labels_en, rng)
            texts[sid] = text
            for k, ((_, code, v), (start, end)) in enumerate(zip(coded, spans, strict=True), 1):
                valence = pd.NA if rng.random() < unrated_rate else v
                seg_rows.append((f"{sid}-A{k:02d}", sid, start, end, code, valence, _PRIMARY))
            if rng.random() < double_coded:
                for k, ((c, code, v), (start, end)) in enumerate(
                    zip(coded, spans, strict=True), 1
                ):
                    code2 = code
                    if rng.random() > 0.85:
                        pool = practice[c] + obstacle[c] if v <= 0 else practice[c]
                        code2 = pool[int(rng.integers(len(pool)))]
                    v2 = v if rng.random() < 0.8 else int(np.clip(v + rng.choice([-1, 1]), -2, 2))
                    if code2 in obstacle_codes and v2 > 0:
                        v2 = 0
                    seg_rows.append((f"{sid}-B{k:02d}", sid, start, end, code2, v2, _SECOND))
    sources = pd.DataFrame(src_rows)
    segments = pd.DataFrame(seg_rows, columns=table_columns("segments"))
    segments["valence"] = segments["valence"].astype("Int64")
    return sources, segments, texts


def _text(sid, coded, lang, labels, rng) -> tuple[str, list[tuple[int, int]]]:
    """Filler text with one sentence per coded segment; returns the text and the spans."""
    filler = _FILLER_ES if lang == "es" else _FILLER_EN
    head = (
        f"[Texto sintético de la fuente {sid}; no es un testimonio real.]"
        if lang == "es"
        else f"[Synthetic text of source {sid}; not a real testimony.]"
    )
    parts, spans, pos = [head], [], len(head)
    for k, (_, code, v) in enumerate(coded, start=1):
        if rng.random() < 0.5:
            sentence = filler[int(rng.integers(len(filler)))]
            parts.append(sentence)
            pos += 1 + len(sentence)
        if lang == "es":
            sentence = f"Frase sintética {k} sobre «{labels[code]}», con valoración {v:+d}."
        else:
            sentence = f"Synthetic sentence {k} about '{labels[code]}', rated {v:+d}."
        pos += 1  # the newline before the sentence
        spans.append((pos, pos + len(sentence)))
        parts.append(sentence)
        pos += len(sentence)
    return "\n".join(parts) + "\n", spans


def _surveys(site_ids, level, items, rng, *, com_range, pol_range, cl_range, missing_rate):
    """Community (weights, clusters) and police responses; some answers missing."""
    responses = {}
    for inst, n_range in (("community", com_range), ("police", pol_range)):
        inst_items = items[items["instrument"] == inst]
        n_per_site = rng.integers(n_range[0], n_range[1] + 1, size=len(site_ids))
        site_col = np.repeat(site_ids, n_per_site)
        n = len(site_col)
        rid = np.concatenate(
            [
                [f"{s}-{inst[0].upper()}{i:04d}" for i in range(1, k + 1)]
                for s, k in zip(site_ids, n_per_site, strict=True)
            ]
        )
        df = pd.DataFrame({"respondent_id": rid, "site_id": site_col})
        if inst == "community":
            df["weight"] = np.round(rng.lognormal(0.0, 0.3, size=n), 3)
            n_cl = rng.integers(cl_range[0], cl_range[1] + 1, size=len(site_ids))
            cl = np.concatenate(
                [rng.integers(1, k + 1, size=m) for k, m in zip(n_cl, n_per_site, strict=True)]
            )
            df["cluster"] = [f"{s}-c{c}" for s, c in zip(site_col, cl, strict=True)]
            cluster_effect = {c: rng.normal(0, 0.3) for c in dict.fromkeys(df["cluster"])}
            shift = np.array([cluster_effect[c] for c in df["cluster"]])
        else:
            shift = np.zeros(n)
        person = rng.normal(0.0, 0.5, size=n) + shift
        for _, it in inst_items.iterrows():
            lo, hi = int(it["scale_min"]), int(it["scale_max"])
            if pd.isna(it["criterion"]):
                raw = rng.integers(lo, hi + 1, size=n)
            else:
                lv = np.array([level[(s, it["criterion"])] for s in site_col])
                latent = np.clip((lv + person + rng.normal(0, 0.7, size=n)) / 4, 0, 1)
                raw = lo + np.rint(latent * (hi - lo)).astype(int)
                if it["reverse"]:
                    raw = hi + lo - raw
            col = pd.array(raw, dtype="Int64")
            miss = rng.random(n) < missing_rate
            kind = rng.integers(0, 3, size=n)
            col[miss & (kind == 0)] = 97
            col[miss & (kind == 1)] = 98
            col[miss & (kind == 2)] = pd.NA
            df[it["item"]] = col
        responses[inst] = df
    return responses


#: Range of the true change of a rating between consecutive rounds (uniform).
ROUND_CHANGE = (-1.0, 1.5)


def synth_rounds(
    n_sites: int,
    *,
    rounds: int = 2,
    seed: int,
    out=None,
    overwrite: bool = False,
    change: tuple[float, float] = ROUND_CHANGE,
    first_year: int = 2020,
    **kwargs,
) -> SyntheticProject:
    """Generate a synthetic project measured in ``rounds`` evaluation rounds.

    Round 1 has the levels :func:`synth_project` draws; every later round adds a true change
    uniform on ``change`` (default -1..+1.5) per site and criterion, clipped so that the level
    stays in 0.2..3.8. Each round is an independent fieldwork generated by
    :func:`synth_project` (new sources and survey respondents; their IDs start with
    ``R<k>-``) with the ``round`` column set; rounds are declared in ``datapackage.json``
    as ``"1"``, ``"2"``, ... with synthetic fieldwork dates one year apart from
    ``first_year``. ``truth`` has one row per round x site x criterion: ``round``,
    ``site_id``, ``criterion``, ``level``, ``change_from_previous`` and
    ``change_from_first`` (0 in round 1). Other keyword arguments go to
    :func:`synth_project`.
    """
    if isinstance(rounds, bool) or not isinstance(rounds, Integral) or not 1 <= rounds <= 20:
        raise SynthError(f"rounds must be an integer from 1 to 20, got {rounds!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise SynthError(f"seed must be an integer >= 0, got {seed!r}")
    lo, hi = (float(x) for x in change)
    if not lo <= hi:
        raise SynthError(f"change must be (low, high) with low <= high, got {change!r}")
    ss = np.random.SeedSequence(seed, spawn_key=(0x726F756E,))  # "roun"
    seeds = [int(s.generate_state(1)[0]) for s in ss.spawn(rounds + 1)]
    rng = np.random.default_rng(seeds[0])
    parts, truths = [], []
    levels = None
    for k in range(1, rounds + 1):
        if k > 1:
            step = rng.uniform(lo, hi, size=len(levels))
            levels = levels.assign(level=np.clip(levels["level"] + step, 0.2, 3.8))
        part = synth_project(n_sites, seed=seeds[k], levels=levels, **kwargs)
        if levels is None:
            levels = part.truth[["site_id", "criterion", "level"]].copy()
        parts.append(part)
        truths.append(levels.assign(round=str(k)))
    truth = pd.concat(truths, ignore_index=True)
    first = truth.groupby(["site_id", "criterion"], sort=False)["level"].transform("first")
    prev = truth.groupby(["site_id", "criterion"], sort=False)["level"].shift(1)
    truth["change_from_previous"] = (truth["level"] - prev).fillna(0.0)
    truth["change_from_first"] = truth["level"] - first
    truth = truth[
        ["round", "site_id", "criterion", "level", "change_from_previous", "change_from_first"]
    ]
    sources, segments, texts, responses = [], [], {}, {}
    for k, part in enumerate(parts, start=1):
        tag = f"R{k}-" if rounds > 1 else ""
        src = part.sources.assign(
            source_id=tag + part.sources["source_id"].astype(str),
            round=str(k),
            text_path=None,
            date=f"{first_year + k - 1}-06-15",
        )
        sources.append(src)
        segments.append(
            part.segments.assign(
                segment_id=tag + part.segments["segment_id"].astype(str),
                source_id=tag + part.segments["source_id"].astype(str),
            )
        )
        texts.update({tag + sid: text for sid, text in part.texts.items()})
        for inst, df in part.responses.items():
            df = df.assign(respondent_id=tag + df["respondent_id"].astype(str), round=str(k))
            responses.setdefault(inst, []).append(df)
    from .design import GENERATOR  # deferred: design imports this module

    meta = {
        **parts[0].meta,
        "generator": GENERATOR,
        "title": f"Synthetic project: {n_sites} sites, {rounds} rounds (seed {seed})",
        "rounds": [
            {
                "id": str(k),
                "label_es": f"Ronda {k} (sintética)",
                "label_en": f"Round {k} (synthetic)",
                "start": f"{first_year + k - 1}-01-01",
                "end": f"{first_year + k - 1}-12-31",
            }
            for k in range(1, rounds + 1)
        ],
    }
    project = SyntheticProject(
        sites=parts[0].sites,
        sources=pd.concat(sources, ignore_index=True),
        segments=pd.concat(segments, ignore_index=True),
        texts=texts,
        items=parts[0].items,
        responses={k: pd.concat(v, ignore_index=True) for k, v in responses.items()},
        meta=meta,
        truth=truth,
    )
    if out is not None:
        project = project.write_with_truth(out, overwrite=overwrite)
    return project
