"""The Typst PDF route: backend (typst_markup), template (copeval.typ) and pdf.py.

A specimen section uses every node type and every named style of ``copeval.report.doc``;
it is compiled in Spanish and English and the PDF is read back with pypdf.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("typst")
pypdf = pytest.importorskip("pypdf")

from copeval.errors import CopevalError, PdfRenderError  # noqa: E402
from copeval.report import doc  # noqa: E402
from copeval.report.pdf import (  # noqa: E402
    compile_pdf,
    compile_pdf_with_warnings,
    consecutive_headings,
    font_dirs,
    notebook_fragments,
    notebook_pdf,
    notebook_typst,
    template,
)
from copeval.report.typst_markup import column_widths, to_typst  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

WORDS = {
    "es": {
        "bands": ["ausente", "incipiente", "parcial", "aceptable", "consolidado"],
        "toc": "Contenido",
        "summary": "Resumen ejecutivo",
        "glance": "Resultados de un vistazo",
        "criteria": "Evidencia por criterio",
        "recs": "Recomendaciones",
        "annex": "Anexo B. Evidencia",
        "running": "Villa Canales · Policía comunitaria",
        "footer": "DATOS SINTÉTICOS / SYNTHETIC DATA",
        "crit": [
            "Enfoque en áreas pequeñas",
            "Relación y consulta con la comunidad",
            "Resolución de problemas",
            "Análisis de condiciones",
            "Rendición de cuentas y confianza",
        ],
    },
    "en": {
        "bands": ["absent", "incipient", "partial", "acceptable", "consolidated"],
        "toc": "Contents",
        "summary": "Executive summary",
        "glance": "Results at a glance",
        "criteria": "Evidence by criterion",
        "recs": "Recommendations",
        "annex": "Annex B. Evidence",
        "running": "Villa Canales · Community policing",
        "footer": "DATOS SINTÉTICOS / SYNTHETIC DATA",
        "crit": [
            "Small-area focus",
            "Community relations and consultation",
            "Problem solving",
            "Analysis of conditions",
            "Accountability and trust",
        ],
    },
}
CODES = ["C1", "C2", "C3", "C4", "AT"]
SCORES = [
    (3, 2.7, 2.4, 3.0),
    (2, 2.1, 1.8, 2.3),
    (1, 1.3, 1.0, 1.6),
    (1, 0.8, 0.4, 1.2),
    (2, 2.1, 1.8, 2.4),
]
COMMAND = "copeval report --site VC --lang es --seed 0 --draws 2000"
KICHE = "Xeʼel ri ajchakib’ pa ri tinamit: ä ë ï ö ü ñ á é í ó ú “comillas” ‘simples’ — ’"


def _svg() -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
        '<rect x="0" y="0" width="60" height="40" fill="#2c7bb6"/>'
        '<rect x="60" y="10" width="60" height="30" fill="#d7191c"/></svg>'
    )


def specimen(lang: str = "es") -> doc.Section:
    """A report in miniature: every node type, every named style, both languages."""
    w = WORDS[lang]
    bands = w["bands"]
    crit = [(c, n, *s) for c, n, s in zip(CODES, w["crit"], SCORES, strict=True)]
    cover = doc.Group(
        doc.Callout(doc.Para("Los textos son simulados."), kind="synthetic", title=w["footer"]),
        doc.Group(doc.Para("Evaluación de la policía comunitaria"), style="kicker"),
        doc.Heading(1, "Villa Canales", "cover-title"),
        doc.Group(doc.Para("Departamento de Guatemala"), style="subtitle"),
        doc.Rule("bands"),
        doc.Table(
            [],
            [
                [
                    doc.Cell(doc.Strong(c), " ", n),
                    doc.Cell(doc.Chip(bands[b], b)),
                    doc.Cell(f"{s:.1f}"),
                    doc.Cell(doc.Span(f"{lo:.1f}–{hi:.1f}", "small")),
                ]
                for c, n, b, s, lo, hi in crit
            ],
            style="cover-ratings",
            numeric=(2,),
        ),
        doc.Facts([("Trabajo de campo", "febrero de 2017 – mayo de 2018"), ("K'iche'", KICHE)]),
        doc.Group(doc.Para("Criterios de Frühling (2004) · MOPSIC"), style="frameworks"),
        style="cover",
    )
    forest = doc.Forest(
        [
            doc.ForestRow(f"{c} {n}", s, lo, hi, f"{s:.1f}", hollow=c == "C4")
            for c, n, b, s, lo, hi in crit
        ]
        + [doc.ForestRow("Sin datos", None)],
        bands=bands,
        ticks=[(v, f"{v:.1f}") for v in (0, 0.8, 1.6, 2.4, 3.2, 4.0)],
        axis_title="0–4",
        caption="Figura 1. Forest caption.",
    )
    likert = doc.Likert(
        [
            doc.LikertRow(f"{c} {n} · comunidad", 40 + i, (0.1, 0.2, 0.3, 0.25, 0.15))
            for i, (c, n, *_) in enumerate(crit)
        ]
        + [doc.LikertRow("Sin neutral", 3, (0.0, 0.5, 0.0, 0.5, 0.0))],
        categories=bands,
        axis_title="% de respuestas",
        caption="Figura 4. Likert caption.",
    )
    heat = doc.Table(
        ["", *[f"{c} {n}" for c, n, *_ in crit]],
        [
            [
                "Villa Canales",
                *[
                    doc.Cell(f"{s:.1f}", doc.Span(bands[b], "small"), band=b)
                    for c, n, b, s, lo, hi in crit
                ],
            ],
            [
                "Totonicapán",
                doc.Cell("3.4", band=4),
                doc.Cell("1.3", band=0),
                doc.Cell("n/d", band="na"),
                doc.Cell("2.1", fill="#123456", ink="#ffffff"),
                doc.Cell("0.8", band="empty", align="left", bold=True),
            ],
        ],
        style="heat",
        row_header=True,
        highlight=(0,),
        caption="Figura 2. Heat caption.",
    )
    criterion = doc.Group(
        doc.Group(
            doc.Heading(3, f"C1 {w['crit'][0]}", "c1"),
            doc.Para("La policía planifica un área pequeña.", style="def"),
            doc.Para(
                doc.Chip(bands[3], 3), " 2.7 ", doc.Span("(2.4–3.0)", "muted"), doc.Chip("n/d")
            ),
            style="criterion-head",
        ),
        doc.Heading(4, "Lo que dicen", "c1-quotes", toc=False),
        doc.Quote(
            "Salen en patrullaje mixto.",
            "— Autoridad municipal · ",
            doc.Span("+2", "value"),
            " · ",
            doc.Span("VC-I08-S001", "ids"),
        ),
        doc.Callout(doc.Para(doc.Strong("Advertencia:"), " α = 0.52."), kind="warning"),
        doc.Para(
            "Comando: ",
            doc.Span(COMMAND, "code"),
            " ",
            doc.Span("def", "def"),
            " ",
            doc.Span("small", "small"),
            " ",
            doc.Emph("emph ", doc.Strong("both")),
        ),
        style="criterion",
    )
    return doc.Section(
        doc.DocInfo(title=w["running"], lang=lang, running=w["running"], footer=w["footer"]),
        cover,
        doc.Toc(w["toc"]),
        doc.Heading(2, w["summary"], "summary", newpage=True),
        doc.Para("Este informe valora la policía comunitaria.", style="lead"),
        doc.Heading(3, "Valoraciones", "ratings"),
        doc.Heading(4, "Detalle", "ratings-detail", toc=False),
        doc.Bullets(
            [f"{c} {n}: {bands[b]} ({s:.1f})." for c, n, b, s, *_ in crit], style="summary"
        ),
        doc.Callout(doc.Bullets(["Lo mejor: C1.", "Lo peor: C4."]), title="Lo más importante"),
        doc.Table(
            ["Criterio", "Valoración", "Puntaje", "Intervalo 90 %", "Evidencia"],
            [
                [
                    doc.Cell(doc.Strong(c), " ", n),
                    doc.Chip(bands[b], b),
                    f"{s:.1f}",
                    f"{lo:.1f}–{hi:.1f}",
                    "14 fuentes · 4 grupos · 238 encuestados",
                ]
                for c, n, b, s, lo, hi in crit
            ],
            numeric=(2, 3),
        ),
        doc.Heading(2, w["glance"], "glance", newpage=True),
        forest,
        likert,
        heat,
        doc.Facts([("Población", ["841 314", doc.Span("Fuente: censo 2018", "small")])]),
        doc.Para("Nota.", style="note"),
        doc.Heading(2, w["criteria"], "criteria", newpage=True),
        criterion,
        doc.Table(
            ["", "Policía", "Comunidad", "Autoridades"],
            [
                [
                    f"{c} {n}",
                    doc.Cell("4 (8)", band=4),
                    doc.Cell("2 (3)", band=2),
                    doc.Cell("—", band="empty"),
                ]
                for c, n, *_ in crit
            ],
            style="coverage",
            row_header=True,
        ),
        doc.Figure(alt="Barras azul y roja", svg=_svg(), caption="Figura 4. SVG.", width=0.5),
        doc.Figure(alt="Un píxel", png=_tiny_png(), caption="Figura 5. PNG.", width=0.2),
        doc.Heading(2, w["recs"], "recs", newpage=True),
        doc.Table(
            ["Recomendación", "Herramienta", "Acción", "Responsables"],
            [["Reuniones periódicas con COCODE.", "Manual", "2.1.1", "MINGOB"]],
            style="rec",
        ),
        doc.Table(["A", "B"], [["compact", "1"]], style="compact"),
        doc.Table(["A", "B"], [["fixed", "2"]], style="fixed", widths=(0.7, 0.3)),
        doc.Table(["A", "B"], [["plain", "3"]], style="plain"),
        doc.Numbered(
            [[doc.Strong("1.1.1"), " Actualizar el diseño."], "Otra acción."], style="actions"
        ),
        doc.Numbered(["uno", "dos"]),
        doc.Bullets(["plain a", "plain b"], style="plain"),
        doc.Para("Leyenda: † insuficiente.", style="legend"),
        doc.Para("Pequeño.", style="small"),
        doc.Rule("line"),
        doc.Group(doc.Para("Bloque indivisible."), style="keep"),
        doc.Heading(2, w["annex"], "annex", newpage=True),
        doc.Table(
            ["Fuente", "Grupo", "Segmentos"],
            [
                [
                    doc.Cell(doc.Strong(f"VC-I{i:02d}")),
                    "Liderazgo comunitario · cita",
                    doc.Span("VC-I01-S001 C1.foot_patrol +1; " * 3, "ids"),
                ]
                for i in range(6)
            ],
            style="evidence",
        ),
        doc.PageBreak(),
        doc.Para("Última página."),
    )


def _tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x1b\x4f\x72"))
        + chunk(b"IEND", b"")
    )


def _reader(pdf: bytes):
    return pypdf.PdfReader(io.BytesIO(pdf))


def _pages(pdf: bytes) -> list[str]:
    if pdf in _PAGES:
        return _PAGES[pdf]
    return [p.extract_text() for p in _reader(pdf).pages]


@pytest.fixture(scope="module", params=["es", "en"])
def compiled(request):
    lang = request.param
    pdf, warnings = compile_pdf_with_warnings(template() + specimen(lang).typst())
    _PAGES[pdf] = [p.extract_text() for p in _reader(pdf).pages]
    return lang, pdf, warnings


_PAGES: dict[bytes, list[str]] = {}


# ------------------------------------------------------------------------------- styles
def test_specimen_uses_every_node_and_every_style():
    """Guards the specimen (and so the template): a new node type or style name in doc.py
    must be added here, which fails until the template defines it."""
    section = specimen()
    seen_types, styles = (
        set(),
        {k: set() for k in ("para", "span", "callout", "table", "list", "group", "rule")},
    )

    def walk(node):
        seen_types.add(type(node))
        if isinstance(node, doc.Para | doc.Strong | doc.Emph):
            if isinstance(node, doc.Para) and node.style:
                styles["para"].add(node.style)
            for c in node.content:
                walk(c)
        elif isinstance(node, doc.Span):
            styles["span"].add(node.style)
        elif isinstance(node, doc.Callout):
            styles["callout"].add(node.kind)
            for c in node.content:
                walk(c)
        elif isinstance(node, doc.Table):
            styles["table"].add(node.style or "plain")
            for row in (node.header, *node.rows):
                for cell in row:
                    walk(cell)
        elif isinstance(node, doc.Cell):
            for c in node.content:
                walk(c)
        elif isinstance(node, doc.Bullets):
            if node.style:
                styles["list"].add(node.style)
            for item in node.items:
                for c in item:
                    walk(c)
        elif isinstance(node, doc.Facts):
            for _, v in node.items:
                for c in v:
                    walk(c)
        elif isinstance(node, doc.Group):
            styles["group"].add(node.style)
            for c in node.content:
                walk(c)
        elif isinstance(node, doc.Rule):
            styles["rule"].add(node.style)
        elif isinstance(node, doc.Quote):
            for c in node.attribution:
                walk(c)

    for block in section.blocks:
        walk(block)
    assert set(doc.BLOCK_TYPES) | {doc.Numbered} <= seen_types
    assert {doc.Strong, doc.Emph, doc.Span, doc.Chip, doc.Cell} <= seen_types
    assert styles["para"] == doc.PARA_STYLES
    assert styles["span"] == doc.SPAN_STYLES
    assert styles["callout"] == doc.CALLOUT_KINDS
    assert styles["table"] == doc.TABLE_STYLES
    assert styles["list"] == doc.LIST_STYLES
    assert styles["group"] == doc.GROUP_STYLES
    assert styles["rule"] == doc.RULE_STYLES


def test_template_names_every_style():
    """Every named style of doc.py has a rule in the template (by its quoted name)."""
    tpl = template()
    names = (
        doc.PARA_STYLES
        | doc.SPAN_STYLES
        | doc.CALLOUT_KINDS
        | doc.LIST_STYLES
        | doc.GROUP_STYLES
        | doc.RULE_STYLES
        | (doc.TABLE_STYLES - {"plain"})
    )
    for name in sorted(names):
        assert f'"{name}"' in tpl or f"{name}:" in tpl, name


# ---------------------------------------------------------------------------- specimen
def test_specimen_compiles_to_a_tagged_pdf(compiled):
    lang, pdf, warnings = compiled
    assert pdf.startswith(b"%PDF-")
    reader = _reader(pdf)
    assert 8 <= len(reader.pages) <= 11
    assert reader.metadata.title == WORDS[lang]["running"]
    root = reader.trailer["/Root"]
    assert root["/Lang"] == lang
    assert root["/MarkInfo"]["/Marked"]
    assert "/StructTreeRoot" in root
    assert not [w for w in warnings if "font" in w.lower()], warnings
    assert warnings == [], warnings  # PDF/UA-1 met: headings 1 > 2 > 3 > 4, alt texts


def test_specimen_text_and_page_furniture(compiled):
    lang, pdf, _ = compiled
    w = WORDS[lang]
    pages = _pages(pdf)
    text = "\n".join(pages)
    for needle in (
        w["summary"],
        w["crit"][1],
        "Villa Canales",
        "Totonicapán",
        "Figura 1.",
        "Salen en patrullaje mixto.",
        "Última página.",
        "1.1.1",
    ):
        assert needle in text, needle
    # K'iche' and Spanish letters and typographic quotes come out as themselves.
    assert re.sub(r"\s+", " ", KICHE) in re.sub(r"\s+", " ", text)
    # The cover has no running header, footer or page number; every other page has them.
    assert w["running"] not in pages[0] and f"1 / {len(pages)}" not in pages[0]
    for number, page in enumerate(pages[1:], start=2):
        assert w["running"] in page, number
        assert w["footer"] in page, number
        assert f"{number} / {len(pages)}" in page, number
    # The running header names the section of the page.
    glance = next(i for i, p in enumerate(pages) if "Figura 1." in p)
    assert pages[glance].count(w["glance"]) >= 2


def test_table_of_contents_has_the_right_page_numbers(compiled):
    lang, pdf, _ = compiled
    w = WORDS[lang]
    pages = _pages(pdf)
    toc = pages[1]
    assert w["toc"] in toc
    for key in ("summary", "glance", "criteria", "recs", "annex"):
        title = w[key]
        found = re.search(re.escape(title) + r"\s*(\d+)", toc)
        assert found, title
        page = int(found.group(1))
        # The heading starts that page (newpage=True), below the running header.
        body = pages[page - 1].split("\n", 2)
        assert title in pages[page - 1], (title, page)
        assert page >= 3 and body
    assert re.search(r"Valoraciones\s*3", toc)  # level 3 is listed
    assert "Detalle" not in toc  # level 4 is not
    assert "Villa Canales\n" not in toc.split(w["toc"], 1)[1]  # nor the cover title


def test_pdf_bookmarks_follow_the_headings(compiled):
    lang, pdf, _ = compiled
    titles = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(_reader(pdf).outline)
    assert WORDS[lang]["summary"] in titles and "Detalle" not in titles


def test_figures_are_embedded(compiled):
    _, pdf, _ = compiled
    assert b"/Image" in pdf  # the PNG
    assert b"Barras azul y roja" in pdf or "Barras azul y roja".encode("utf-16-be") in pdf


def test_code_span_on_one_line(compiled):
    _, pdf, _ = compiled
    assert any(COMMAND in line for line in "\n".join(_pages(pdf)).splitlines())


# ------------------------------------------------------------------------------ tables
def test_long_table_rows_never_split_and_header_repeats():
    rows = []
    for i in range(90):
        words = " ".join(f"r{i:03d}w{j}" for j in range(18))  # wraps over 3-4 lines
        rows.append([f"ROW{i:03d}", words, f"{i}"])
    table = doc.Table(["Fuente", "Texto largo de la fila", "n"], rows, numeric=(2,))
    section = doc.Section(doc.Heading(2, "Tabla larga", "long"), table)
    pdf = compile_pdf(template() + section.typst())
    pages = _pages(pdf)
    assert len(pages) >= 3
    for i in range(90):
        holders = {n for n, page in enumerate(pages) if f"r{i:03d}w" in page}
        assert len(holders) == 1, (i, holders)
        (page,) = holders
        assert f"ROW{i:03d}" in pages[page]
        assert all(f"r{i:03d}w{j}" in pages[page] for j in range(18))
    for page in pages:
        assert "Texto largo de la fila" in page  # the header on every page


def test_column_widths_follow_the_content():
    narrow = doc.Table(["a", "b"], [["x", "y"]])
    assert column_widths(narrow) == [3.15, 3.15]  # bold header letter + padding
    wide = doc.Table(["Code", "Text"], [["C1", "palabra " * 40]])
    w = column_widths(wide)
    assert w[1] > 10 * w[0]
    assert column_widths(doc.Table(["a", "b"], [["1", "2"]], widths=(0.2, 0.8))) == [0.2, 0.8]
    heat = column_widths(doc.Table(["", "a", "b"], [["x", "1", "2"]], style="heat"))
    assert heat[0] == pytest.approx(0.26) and heat[1] == heat[2]


# ------------------------------------------------------------------------------- fonts
def _demo_characters() -> set[str]:
    from copeval.report.i18n import STRINGS

    chars = set()
    for path in (REPO / "data").rglob("*.csv"):
        chars |= set(path.read_text(encoding="utf-8"))
    for path in (REPO / "data" / "demo" / "texts").rglob("*.txt"):
        chars |= set(path.read_text(encoding="utf-8"))
    for variants in STRINGS.values():
        for value in variants.values():
            chars |= set(value)
    chars |= set(KICHE) | set("«»¿¡ªº°·–—…•†‡±≤≥→×αβσκ")
    return {c for c in chars if c.isprintable() and not c.isspace()}


def test_fonts_cover_every_character_of_the_demo_and_the_strings():
    """No tofu: DejaVu Sans (regular, bold, oblique, bold oblique) has a glyph for every
    character of the demo data, the i18n strings and K'iche' orthography."""
    ttlib = pytest.importorskip("fontTools.ttLib")
    dirs = font_dirs()
    assert dirs, "DejaVu Sans not found (matplotlib's mpl-data/fonts/ttf)"
    chars = _demo_characters()
    assert len(chars) > 90
    for name in (
        "DejaVuSans",
        "DejaVuSans-Bold",
        "DejaVuSans-Oblique",
        "DejaVuSans-BoldOblique",
        "DejaVuSansMono",
    ):
        cmap = ttlib.TTFont(Path(dirs[0]) / f"{name}.ttf").getBestCmap()
        missing = sorted(c for c in chars if ord(c) not in cmap)
        assert not missing, (name, missing)


def test_system_fonts_are_ignored_and_the_pdf_embeds_dejavu(compiled):
    """The PDF uses only DejaVu Sans (text) and DejaVu Sans Mono (code), embedded."""
    _, pdf, _ = compiled
    fonts = set(re.findall(rb"/BaseFont\s*/([A-Z]{6}\+)?([A-Za-z0-9-]+)", pdf))
    names = {name.decode() for _, name in fonts}
    assert names and all(n.startswith("DejaVuSans") for n in names), names
    assert "DejaVuSansMono" in {n.split("-")[0] for n in names}


def test_same_source_same_pdf(monkeypatch):
    """Reproducible: with SOURCE_DATE_EPOCH set, two compilations are byte-identical."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1765000000")
    source = template() + doc.Section(doc.Para("Hola, K’iche’.")).typst()
    assert compile_pdf(source) == compile_pdf(source)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert compile_pdf(source, timestamp=1765000000) == compile_pdf(source, timestamp=1765000000)


# --------------------------------------------------------------------- PDF/UA and errors
def test_heading_levels_are_made_consecutive_for_pdf_ua():
    """A model level-4 heading right after a level-2 one is tagged H3 (PDF/UA-1 forbids
    skipping a level); a first level-2 heading is tagged H1. The look is unchanged."""
    section = doc.Section(
        doc.DocInfo(title="t", lang="es"),
        doc.Heading(2, "Dos", "dos"),
        doc.Heading(4, "Cuatro", "cuatro", toc=False),
        doc.Para('x\n#heading(level: 9, "y"'),
        doc.Heading(3, "Tres", "tres"),
    )
    source = consecutive_headings(section.typst())
    levels = re.findall(r"^#heading\(level: (\d), .*supplement: \[cv-h(\d)\]", source, re.M)
    assert levels == [("1", "2"), ("2", "4"), ("3", "3")]
    assert "level: 9" in source  # inside a string literal: text, untouched
    pdf, warnings = compile_pdf_with_warnings(template() + section.typst())
    assert warnings == []
    assert "Cuatro" in _pages(pdf)[0]


def test_a_pdf_that_cannot_meet_pdf_ua_is_still_tagged_with_a_warning():
    """No document title (no DocInfo): PDF/UA-1 refuses it; the PDF is compiled again
    without the check, tagged, and the reason is the first warning."""
    source = template() + doc.Section(doc.Heading(2, "Dos", "dos"), doc.Para("x")).typst()
    pdf, warnings = compile_pdf_with_warnings(source)
    assert warnings and warnings[0].startswith("not ua-1: PDF/UA-1 error")
    assert "title" in warnings[0]
    assert _reader(pdf).trailer["/Root"]["/MarkInfo"]["/Marked"]
    from copeval.report import pdf as pdf_module

    typst = pdf_module._typst()
    with pytest.raises(typst.TypstError, match="PDF/UA-1"):  # the check itself fails
        pdf_module._compile(typst, source, ["ua-1"])


def test_compile_error_is_one_readable_line():
    with pytest.raises(PdfRenderError) as info:
        compile_pdf(template() + '\n#cv-para(style: "lead"[unclosed')
    err = info.value
    assert isinstance(err, CopevalError)
    message = str(err)
    assert message.startswith("Typst could not compile the report PDF:")
    assert "\n" not in message and "line " in message


# ----------------------------------------------------------------------------- notebook
def _notebook(sections):
    """An executed notebook as nbformat writes it (plain JSON-like dicts)."""
    cells = []
    for i, (section, tags) in enumerate(sections):
        bundle = section._repr_mimebundle_()
        cells.append(
            {
                "cell_type": "code",
                "source": f"section_{i}",
                "metadata": {"tags": list(tags)},
                "execution_count": i + 1,
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": "log line\n"},
                    {"output_type": "display_data", "data": bundle, "metadata": {}},
                ],
            }
        )
    cells.insert(1, {"cell_type": "markdown", "source": "# not in the PDF", "metadata": {}})
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_notebook_typst_takes_the_typst_outputs_in_order():
    nb = _notebook(
        [
            (doc.Section(doc.DocInfo(title="Informe", lang="es"), doc.Para("primero")), []),
            (doc.Section(doc.Para("oculto")), ["remove-cell"]),
            (doc.Section(doc.Para("sin salida")), ["remove-output"]),
            (doc.Section(), []),
            (doc.Section(doc.Para("segundo")), ["parameters"]),
        ]
    )
    fragments = notebook_fragments(nb)
    assert len(fragments) == 2
    source = notebook_typst(nb)
    assert source.startswith(template())
    assert source.index('"primero"') < source.index('"segundo"')
    assert "oculto" not in source and "sin salida" not in source and "log line" not in source
    text = "\n".join(_pages(notebook_pdf(nb)))
    assert "primero" in text and "segundo" in text and "oculto" not in text


def test_notebook_outputs_as_list_of_lines_are_joined():
    nb = _notebook([(doc.Section(doc.Para("línea")), [])])
    out = nb["cells"][0]["outputs"][1]
    out["data"][doc.TYPST_MIME] = out["data"][doc.TYPST_MIME].splitlines(keepends=True)
    assert '"línea"' in notebook_typst(nb)


def test_section_mime_bundle_carries_typst():
    bundle = doc.Section(doc.Para("x"))._repr_mimebundle_()
    assert bundle[doc.TYPST_MIME] == to_typst([doc.Para("x")])


def test_compile_time_of_a_report_sized_document():
    """A 10-page document (the specimen) compiles well under a second (measured: ~0.15 s)."""
    source = template() + specimen("es").typst()
    compile_pdf(source)  # warm the font cache
    start = time.perf_counter()
    compile_pdf(source)
    assert time.perf_counter() - start < 3.0


def test_degenerate_nodes_compile():
    """Empty and out-of-range nodes print (or print nothing) instead of stopping the PDF;
    page breaks inside containers, where Typst forbids them, are moved out or dropped."""
    section = doc.Section(
        doc.DocInfo(title="Casos límite", lang="es"),
        doc.Heading(1, "Casos", "casos"),
        doc.Table([], []),
        doc.Table(["a", "b"], []),
        doc.Table([], [["x", "y"]]),
        doc.Table(["a"], [["x"]], style="heat"),
        doc.Bullets([]),
        doc.Facts([]),
        doc.Forest([], bands=list("abcde"), ticks=[]),
        doc.Forest(
            [doc.ForestRow("nan", float("nan")), doc.ForestRow("big", 5.0, -1.0, 7.0, "5")],
            bands=list("abcde"),
            ticks=[(0, "0"), (4, "4")],
        ),
        doc.Callout(),
        doc.Group(),
        doc.Quote(""),
        doc.Para(),
        doc.Para(doc.Chip("n/d")),
        doc.Callout(doc.PageBreak(), doc.Heading(2, "En recuadro", "en-recuadro", newpage=True)),
        doc.Group(doc.Group(doc.Para("portada anidada"), style="cover"), style="keep"),
        doc.Group(doc.Toc("Índice anidado"), style="keep"),
        doc.Group(doc.Heading(2, "Nueva página", "nueva", newpage=True), style="keep"),
    )
    pdf, warnings = compile_pdf_with_warnings(template() + section.typst())
    assert warnings == []
    pages = _pages(pdf)
    assert "portada anidada" in pages[0]
    assert "Nueva página" in pages[-1] and "portada anidada" not in pages[-1]


def test_a_cover_too_tall_for_its_page_is_tightened_not_spilled():
    """A brief's cover with a "how to read" box after many facts would spill its last
    lines onto a page of their own; the backend sets it tight instead (one page)."""
    normal = specimen("es").blocks[1]
    assert to_typst(normal).startswith('#cv-group(style: "cover")')
    crowded = doc.Group(
        *normal.content[:-1],
        doc.Facts([(f"Dato {i}", "texto de una línea bastante larga " * 3) for i in range(4)]),
        doc.Callout(doc.Bullets(["Cómo leer este informe: " + "una frase larga. " * 12] * 3)),
        normal.content[-1],
        style="cover",
    )
    markup = to_typst(crowded)
    assert markup.startswith('#cv-group(style: "cover-tight")')
    section = doc.Section(doc.DocInfo(title="t", lang="es"), crowded, doc.Heading(2, "Dos", "d"))
    pdf, warnings = compile_pdf_with_warnings(template() + section.typst())
    pages = _pages(pdf)
    assert warnings == [] and len(pages) == 2
    assert "Cómo leer este informe" in pages[0] and "MOPSIC" in pages[0]
