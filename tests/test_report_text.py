"""Wording rules of the site report and brief, in both languages (issue 16).

(a) no internal ID (segment and source IDs, sub-codes such as ``C2.obs_passive``, seeds,
absolute paths) in the reading text outside the appendices; (b) no English word in a Spanish
report outside quotes and proper names, and no Spanish function word in an English one;
(c) plural forms for 0, 1 and 2; project text in the report's language; importer
placeholders never printed; the reproduce command printed whole and runnable.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from copeval.report import ReportData, SiteReport, doc
from copeval.report.base import is_placeholder_text, localized, reproduce_command, usable_text
from copeval.report.i18n import STRINGS, tn
from copeval.report.site import PROFILES

#: Where the demo's Spanish and English site text lives once the demo records it
#: (``<column>_<lang>`` columns of sites.csv, ``title_<lang>`` in the metadata). Until then
#: the tests write these translations into a copy of the demo, so they test the reports'
#: use of the columns; when the demo has them, the demo's own are tested.
_SITE_TEXT_ES = {
    "VC": {
        "population_source": "Estudio 001, sección 2 (censo de 2019 del área de la Comisaría 15)",
        "homicide_source": "Estudio 001, sección 2 (tasa de homicidios de 2019)",
        "police_source": "Estudio 001, sección 2 (la Comisaría 15 tiene cuatro estaciones y 18 "
        "subestaciones)",
        "notes": "Municipio metropolitano junto a la Ciudad de Guatemala, con crecimiento urbano "
        "desordenado.",
    },
    "TOT": {
        "population_source": "Estudio 001, sección 2 (población del departamento)",
        "homicide_source": "Estudio 001, sección 2 (tasa de homicidios de 2019)",
        "police_source": "Estudio 001, sección 2 (Comisaría 44: 3 estaciones y 10 subestaciones)",
        "notes": "Municipio del altiplano occidental con fuerte gobierno comunal indígena.",
    },
}


def _with_language_columns(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    sites = pd.read_csv(dst / "sites.csv", dtype=str, keep_default_na=False)
    for col in ("population_source", "homicide_source", "police_source", "notes"):
        if f"{col}_es" not in sites.columns:
            sites[f"{col}_es"] = [_SITE_TEXT_ES.get(s, {}).get(col, "") for s in sites["site_id"]]
    sites.to_csv(dst / "sites.csv", index=False)
    desc = json.loads((dst / "datapackage.json").read_text(encoding="utf-8"))
    block = desc.setdefault("copeval", {})
    block.setdefault("title_es", "Demostración MOPSIC: Villa Canales y Totonicapán")
    (dst / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def demo_data(demo_path, tmp_path_factory):
    path = _with_language_columns(demo_path, tmp_path_factory.mktemp("demo") / "demo")
    data = ReportData.load(path, n_boot=100, seed=3, memo=False)
    # a loader that does not keep title_<lang> yet (copeval.project): give it the key
    data.project.meta.setdefault("title_es", "Demostración MOPSIC: Villa Canales y Totonicapán")
    return data


#: Sections outside the reading text: the traceability lives there.
APPENDICES = {"methods", "evidence_appendix"}


def _reading_blocks(section, *, drop_quotes: bool):
    """The section's blocks flattened, without quotations (original words of respondents)
    and without the synthetic-data banner's bilingual title."""
    out = []

    def walk(blocks):
        for b in blocks:
            if isinstance(b, doc.Quote):
                if not drop_quotes:
                    out.append(b)
                continue
            if isinstance(b, doc.Callout) and b.kind == "synthetic":
                walk(b.content)  # the note is in the report's language; the title is both
                continue
            if isinstance(b, doc.Group):
                walk(b.content)
                continue
            out.append(b)

    walk(section.blocks)
    return out


def _reports(demo_data):
    for site_id in ("VC", "TOT"):
        for lang in ("es", "en"):
            for profile in ("full", "brief"):
                yield SiteReport(
                    demo_data,
                    site_id=site_id,
                    lang=lang,
                    profile=profile,
                    project_path="data/demo",
                )


@pytest.fixture(scope="module")
def rendered(demo_data):
    """{(site, lang, profile): {section: Section}} for both demo sites."""
    out = {}
    for r in _reports(demo_data):
        out[(r.site_id, r.lang, r.profile)] = {n: getattr(r, n)() for n in PROFILES["full"]}
    return out


# ------------------------------------------------------------------ (a) internal IDs
def test_no_internal_id_in_the_reading_text(demo_data, rendered):
    project = demo_data.project
    ids = set(project.segments["segment_id"]) | set(project.sources["source_id"])
    subcodes = {c for c in project.codebook.table["code"] if "." in c}
    patterns = [
        re.compile(r"\b[A-Z]{1,2}\d?\.[a-z]+_[a-z_]+\b"),  # C2.obs_passive
        re.compile(r"(?<![\w.])/(?:home|tmp|work|usr|Users|var)/"),  # absolute paths
        re.compile(r"\b[A-Za-z]:\\\\"),  # Windows paths
        re.compile(r"\bdata/crosswalk\b|\brecommendations\.csv\b|\bsegments\.csv\b"),
        re.compile(r"P\([^)]*>[^)]*\)"),  # P(A > B)
        re.compile(r"\b(?:semilla|seed)\s+\d"),
        re.compile(r"bootstrap|McDonald|ω", re.I),
    ]
    checked = 0
    for key, sections in rendered.items():
        for name, section in sections.items():
            if name in APPENDICES:
                continue
            text = doc.plain_text(_reading_blocks(section, drop_quotes=False))
            words = set(re.findall(r"[\w.-]+", text))
            assert not (words & ids), (key, name, sorted(words & ids)[:5])
            assert not (words & subcodes), (key, name, sorted(words & subcodes)[:5])
            for pat in patterns:
                assert not pat.search(text), (key, name, pat.pattern, pat.search(text))
            checked += len(text)
    assert checked > 50_000
    # ... and the appendices do carry them (traceability is kept, not lost)
    appendix = rendered[("VC", "es", "full")]["evidence_appendix"].text()
    assert "VC-I08-S002" in appendix and "C2.obs_passive" in appendix
    methods = rendered[("VC", "es", "full")]["methods"].text()
    assert "semilla 3" in methods and "--seed 3" in methods


def test_acronyms_are_spelled_out_at_first_use(rendered):
    """In the report's own words (the cover's facts quote the project's title as written)."""
    for (site, lang, profile), sections in rendered.items():
        text = "\n".join(
            doc.plain_text(
                [
                    b
                    for b in _reading_blocks(sections[n], drop_quotes=True)
                    if not isinstance(b, doc.Facts)
                ]
            )
            for n in PROFILES[profile]
        )
        for acronym in ("FIAPOL", "FAES", "PESN", "MOPSIC"):
            first = text.find(acronym)
            if first < 0:
                continue
            assert re.search(
                rf"\(?{acronym}\)?\s*\(|\({acronym}\)", text[first - 90 : first + 120]
            ), (
                site,
                lang,
                profile,
                acronym,
                text[first - 90 : first + 120],
            )


# ------------------------------------------------------------------ (b) one language
#: Common English words that never belong in a Spanish sentence.
ENGLISH = set(
    [
        "the",
        "and",
        "of",
        "with",
        "from",
        "for",
        "is",
        "are",
        "not",
        "this",
        "that",
        "which",
        "was",
        "were",
        "has",
        "have",
        "been",
        "will",
        "would",
        "their",
        "there",
        "these",
        "those",
        "when",
        "where",
        "who",
        "what",
        "how",
        "than",
        "then",
        "into",
        "only",
        "also",
        "more",
        "most",
        "other",
        "such",
        "each",
        "every",
        "both",
        "between",
        "about",
        "after",
        "before",
        "under",
        "over",
        "rating",
        "ratings",
        "interval",
        "evidence",
        "survey",
        "report",
        "sources",
        "source",
        "groups",
        "group",
        "respondents",
        "passages",
        "coded",
        "weak",
        "strong",
        "limited",
        "passable",
        "absent",
        "police",
        "community",
        "people",
        "answered",
        "shows",
    ]
)
#: Spanish function words that never belong in an English sentence.
SPANISH = set(
    [
        "el",
        "la",
        "los",
        "las",
        "del",
        "y",
        "en",
        "que",
        "por",
        "para",
        "con",
        "una",
        "unos",
        "unas",
        "es",
        "son",
        "se",
        "su",
        "sus",
        "al",
        "lo",
        "como",
        "más",
        "sin",
        "entre",
        "este",
        "esta",
        "estos",
        "estas",
        "según",
        "sobre",
        "muy",
        "pero",
        "ni",
    ]
)
#: Proper names that keep their language (Spanish names of Guatemalan plans and bodies).
PROPER = (
    "Plan Estratégico de Seguridad de la Nación",
    "Municipalidad (concejo municipal y policía municipal)",
)


def _words(text: str) -> list[str]:
    for name in PROPER:
        text = text.replace(name, " ")
    return [w.lower() for w in re.findall(r"[A-Za-zÁÉÍÓÚÑáéíóúñü]+", text)]


def test_spanish_reports_hold_no_english_and_english_reports_no_spanish(rendered):
    checked = 0
    for (site, lang, profile), sections in rendered.items():
        banned = ENGLISH if lang == "es" else SPANISH
        for name, section in sections.items():
            if name == "evidence_appendix":  # IDs and codes: its content, not prose
                continue
            blocks = [
                doc.Para(
                    *[x for x in b.content if not (isinstance(x, doc.Span) and x.style == "code")]
                )
                if isinstance(b, doc.Para)
                else b
                for b in _reading_blocks(section, drop_quotes=True)
            ]  # commands are literal (``copeval report …``), not prose
            words = _words(doc.plain_text(blocks))
            bad = sorted({w for w in words if w in banned})
            assert bad == [], (site, lang, profile, name, bad)
            checked += len(words)
    assert checked > 10_000


# ------------------------------------------------------------------ (c) plural forms
PLURAL_KEYS = sorted(k for k, v in STRINGS.items() if "|" in v["es"] and "{n}" in v["es"])


@pytest.mark.parametrize("key", PLURAL_KEYS)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_plural_forms_for_zero_one_and_two(key, lang):
    values = dict.fromkeys(re.findall(r"{(\w+)}", STRINGS[key][lang].replace("{n}", "")), "X")
    one, zero, two = (tn(key, n, lang, **values) for n in (1, 0, 2))
    singular, plural = STRINGS[key][lang].split("|")
    assert one == singular.format(n=1, **values)
    assert zero == plural.format(n=0, **values) and two == plural.format(n=2, **values)
    assert singular != plural


#: "1" followed by a plural noun or verb: the grammar errors issue 16 quotes.
BAD_ONE = re.compile(
    r"(?<![\d.,])1 (?:fuentes|grupos|personas|pasajes|segmentos|entrevistas|menciones|"
    r"documentos|sources|groups|respondents|people|passages|segments|interviews|mentions|"
    r"documents|are|son|señalan|indicate)\b"
)


def test_rendered_counts_agree_with_their_number(tiny_project):
    """A small project (sites with one source, one or two respondents) in both languages."""
    data = ReportData.load(tiny_project, n_boot=20, seed=1)
    seen = set()
    for site_id in ("A", "B"):
        for lang in ("es", "en"):
            r = SiteReport(data, site_id=site_id, lang=lang)
            text = "\n".join(getattr(r, n)().text() for n in PROFILES["full"])
            assert not BAD_ONE.search(text), BAD_ONE.search(text)
            seen |= set(re.findall(r"(?<![\d.,])1 [a-zá-ú]+", text))
    assert {"1 fuente", "1 source", "1 persona", "1 person"} <= seen  # singulars exercised
    assert not re.search(r"\b0 (?:pasajes|coded passages)\b", text)  # "no passage", not "0"


def test_evidence_counts_read_well_for_0_1_2(demo_data):
    r = SiteReport(demo_data, site_id="VC", lang="es")
    one = r._evidence_counts({"n_sources": 1, "n_groups": 1, "n_respondents": 1})
    assert one == "1 fuente · 1 grupo de informantes · 1 persona encuestada"
    two = r._evidence_counts({"n_sources": 2, "n_groups": 2, "n_respondents": 0})
    assert two == "2 fuentes · 2 grupos de informantes"  # no survey: not "0 personas"
    en = SiteReport(demo_data, site_id="VC", lang="en")
    assert en._evidence_counts({"n_sources": 0, "n_groups": 0, "n_respondents": 2}) == (
        "2 survey respondents"  # a survey-only rating: not "0 sources · 0 respondent groups"
    )
    assert en._evidence_counts({"n_sources": 0, "n_groups": 0, "n_respondents": 0}) == "—"


def test_small_survey_groups_carry_a_warning(tiny_project):
    data = ReportData.load(tiny_project, n_boot=20, seed=1)
    for lang, phrase in (("es", "Solo 2 personas respondieron"), ("en", "Only 2 people answered")):
        section = SiteReport(data, site_id="B", lang=lang).survey()
        warnings = [b for b in section.blocks[0].content if isinstance(b, doc.Callout)]
        assert len(warnings) == 1 and warnings[0].kind == "warning"
        assert phrase in doc.plain_text(warnings[0])
        one = SiteReport(data, site_id="A", lang=lang).survey().text()
        assert ("Solo 1 persona respondió" if lang == "es" else "Only 1 person answered") in one
        assert "points" not in one and "puntos" not in one  # no margin printed for n < 10


# ------------------------------------------------------------------ project text
def test_site_text_in_the_report_language(demo_data, rendered):
    es = rendered[("VC", "es", "full")]["context"].text()
    en = rendered[("VC", "en", "full")]["context"].text()
    assert "Municipio metropolitano" in es and "Metropolitan municipality" not in es
    assert "Metropolitan municipality" in en
    assert "Demostración MOPSIC" in rendered[("VC", "es", "full")]["cover"].text()
    assert "MOPSIC demo" in rendered[("VC", "en", "full")]["cover"].text()


def test_importer_placeholders_are_never_printed(demo_copy):
    sites = pd.read_csv(demo_copy / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[sites["site_id"] == "VC", "department"] = "unknown"
    sites.loc[sites["site_id"] == "VC", "notes"] = (
        "created by copeval import from qc_demo.qdpx; fill in name and department"
    )
    sites.to_csv(demo_copy / "sites.csv", index=False)
    desc = json.loads((demo_copy / "datapackage.json").read_text(encoding="utf-8"))
    desc["copeval"]["title"] = "qc project"
    desc["copeval"].pop("period", None)
    (demo_copy / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    data = ReportData.load(demo_copy, n_boot=20, memo=False)
    for lang in ("es", "en"):
        r = SiteReport(data, site_id="VC", lang=lang)
        text = r.cover().text() + r.context().text()
        for bad in ("unknown", "qc project", "created by copeval", "fill in", "n. d.", "n/a"):
            assert bad not in text, (lang, bad)
        # the period comes from the sources' dates
        dates = sorted(data.project.sources["date"].dropna())
        year0, year1 = dates[0][:4], dates[-1][:4]
        assert re.search(rf"{year0}.*–.*{year1}", r.cover().text())


def test_placeholder_rules():
    for value in (
        None,
        float("nan"),
        "",
        "  ",
        "unknown",
        "Unknown",
        "qc project",
        "n. d.",
        "created by copeval import from x.qdpx; fill in name and department",
    ):
        assert not usable_text(value), value
    for value in ("Guatemala", "Villa Canales", "unknown territory mapped in 2019", 0.5):
        assert usable_text(value), value
    assert is_placeholder_text("Created by copeval import from a.csv")
    row = pd.Series({"notes": "English", "notes_es": "Español", "title_en": "unknown"})
    assert localized(row, "notes", "es") == "Español"
    assert localized(row, "notes", "en") == "English"
    assert localized({"title": "T", "title_en": "unknown"}, "title", "en") == "T"


# ------------------------------------------------------------------ reproduce command
def _commands(section):
    out = []

    def walk(blocks):
        for b in blocks:
            if isinstance(b, doc.Para):
                out.extend(
                    x.text for x in b.content if isinstance(x, doc.Span) and x.style == "code"
                )
            elif isinstance(b, doc.Group | doc.Callout):
                walk(b.content)

    walk(section.blocks)
    return out


@pytest.mark.parametrize("profile", ["full", "brief"])
def test_reproduce_command_is_whole_and_runs(demo_data, profile):
    from copeval.cli import build_parser

    r = SiteReport(demo_data, site_id="VC", lang="es", profile=profile, project_path="data/demo")
    commands = [c for c in _commands(r.methods()) if c.startswith("copeval")]
    assert commands and all(
        c.startswith("copeval report data/demo --site VC --lang es") for c in commands
    )
    assert ("--profile brief" in commands[-1]) == (profile == "brief")
    for command in commands:
        args = build_parser().parse_args(shlex.split(command)[1:])
        assert (args.project, args.site, args.lang) == (Path("data/demo"), "VC", "es")
        assert (args.seed, args.n_boot) == (3, 100)  # this analysis's non-default parameters


def test_reproduce_command_never_prints_an_absolute_path(tmp_path, monkeypatch):
    inside = tmp_path / "work" / "data" / "demo"
    inside.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    assert reproduce_command("report", inside, ("--site", "VC")) == (
        "copeval report data/demo --site VC"
    )
    outside = Path("/opt/somewhere/else/proj")
    cmd = reproduce_command("report", outside, ("--site", "VC"))
    assert "/opt" not in cmd and cmd.startswith("copeval report proj")
    assert reproduce_command("report", "my project", ("--site", "A B")) == (
        "copeval report 'my project' --site 'A B'"
    )
