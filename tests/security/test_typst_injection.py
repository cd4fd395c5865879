"""Typst injection: every text of the document model comes out of the PDF as literal text.

The attacks are planted first: the same strings written *as markup* (what a backend that
forgot to escape would emit) do run -- they read files, import modules, make headings,
labels and maths -- and fail or change the document. Through the backend they must be
printed verbatim, in every place a text can land, and the compilation must read no file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("typst")
pypdf = pytest.importorskip("pypdf")

from copeval.errors import PdfRenderError  # noqa: E402
from copeval.report import doc  # noqa: E402
from copeval.report.pdf import compile_pdf, compile_pdf_with_warnings, template  # noqa: E402
from copeval.report.typst_markup import clean_text, to_typst, typst_str  # noqa: E402

#: (name, payload): Typst markup and code a project file could carry.
ATTACKS = [
    ("read", '#read("/etc/passwd")'),
    ("import", '#import "x.typ": *'),
    ("include", '#include "/etc/hostname"'),
    ("image", '#image("/etc/hostname")'),
    ("package", '#import "@preview/cetz:0.3.0"'),
    ("close-bracket", "]] ) } text after"),
    ("open-bracket", "[[ ( { text after"),
    ("strong", "*bold* and _emph_ and __x__"),
    ("math", "$x^2 + sum_(i=0)^n$ costs $5"),
    ("ref", "@ref and @fig:one"),
    ("label", "<label> and <cover-title>"),
    ("backslash", "C:\\Users\\x \\ \\n \\u{41} end\\"),
    ("line-comment", "before // after"),
    ("block-comment", "before /* inside */ after /* open"),
    ("quote", 'say "hi" and "unterminated'),
    ("heading", "= Heading at line start"),
    ("list", "- item\n+ numbered\n/ term: def"),
    ("raw", "`code` and ``` raw block ```"),
    ("raw-lang", '```typ\n#read("/etc/passwd")\n```'),
    ("set", "#set page(fill: red) #set text(size: 80pt)"),
    ("show", '#show "a": "b" #show: it => none'),
    ("let", "#let x = 1 #x #{ 1 + 1 }"),
    ("eval", '#eval("read(\\"/etc/passwd\\")")'),
    ("hash-call", "#(1 + 2) #(panic())"),
    ("tilde", "a~b and -- and --- and ..."),
    ("url", "https://example.invalid/x?a=1#frag"),
    ("escape-seq", "\\# \\[ \\] \\* \\_ \\$ \\@"),
]
#: Characters that must not reach the PDF at all (removed), with what is left.
CONTROLS = [
    ("bidi", "abc\u202edcba\u202c\u2066x\u2069 end", "abcdcbax end"),
    ("nul", "nul\x00byte\x01\x1f\x7f\x85 end", "nulbyte end"),
    ("newline", "one\ntwo\r\nthree\u2028four", "one two  three four"),
]
LONG_WORD = "Supercalifragilistic" * 12  # 240 characters, no break opportunity
LONG_PATH = "/".join(["carpeta"] * 30) + "/archivo_de_datos_con_nombre_largo.csv"


def _norm(text: str) -> str:
    """Text without whitespace (line breaks differ in extraction)."""
    return re.sub(r"\s+", "", text)


def _places(label: str, text: str) -> list:
    """The text in every position of the document model that prints text."""
    return [
        doc.Heading(2, f"{label} {text}", f"h-{label}"),
        doc.Para(f"{label}-para {text}"),
        doc.Para(doc.Strong(f"{label}-strong {text}"), doc.Emph(f" {label}-emph {text}")),
        doc.Para(doc.Span(f"{label}-code {text}", "code")),
        doc.Para(doc.Chip(f"{label}-chip {text}", 2), doc.Span(f" {label}-ids {text}", "ids")),
        doc.Bullets([f"{label}-item {text}"]),
        doc.Facts([(f"{label}-term {text}", f"{label}-desc {text}")]),
        doc.Table(
            [f"{label}-th {text}", "n"],
            [[doc.Cell(f"{label}-td {text}", band=1), "1"]],
            caption=f"{label}-caption {text}",
        ),
        doc.Callout(doc.Para(f"{label}-callout {text}"), title=f"{label}-title {text}"),
        doc.Quote(f"{label}-quote {text}", f"{label}-attr {text}"),
    ]


def _compile_text(section: doc.Section) -> tuple[str, bytes]:
    pdf, _ = compile_pdf_with_warnings(template() + section.typst())
    reader = pypdf.PdfReader(__import__("io").BytesIO(pdf))
    return "\n".join(p.extract_text() for p in reader.pages), pdf


@pytest.fixture(scope="module")
def attacked():
    blocks = [
        doc.DocInfo(
            title='T #read("/etc/passwd") "q"',
            lang="es",
            running='R #read("/etc/passwd") ] [',
            footer="F $x$ // c",
        ),
        doc.Heading(2, "Start", "start"),
    ]
    for label, text in ATTACKS:
        blocks += _places(label, text)
    for label, text, _ in CONTROLS:
        blocks += _places(label, text)
    blocks += [
        doc.Forest(
            [doc.ForestRow('forest #read("/etc/passwd") ]', 2.0, 1.5, 2.5, "v $x$")],
            bands=["b0 *", "b1 _", "b2 #", "b3 $", "b4 @"],
            ticks=[(0, "t0 ]"), (4, "t4 [")],
            axis_title="axis // c",
            caption="forest-caption <label>",
        ),
        doc.Para(LONG_WORD),
        doc.Para(LONG_PATH),
    ]
    return _compile_text(doc.Section(*blocks))


# ------------------------------------------------------------------------- planted first
@pytest.mark.parametrize(
    "markup, needle",
    [
        ('#read("/etc/passwd")', "file not found"),
        ('#image("/etc/hostname")', "file not found"),
        ('#include "/etc/hostname"', "file not found"),
        ('#import "x.typ": *', "file not found"),
        ('#eval("read(\\"/etc/passwd\\")")', "file not found"),
        ("*unclosed strong", "unclosed delimiter"),
        ("] closing", "unexpected closing bracket"),
    ],
)
def test_planted_markup_would_run_and_the_root_is_empty(markup, needle):
    """Written as markup, the attacks are live (so the escaping matters), and even then the
    compilation can read nothing: its root is an empty folder."""
    with pytest.raises(PdfRenderError) as info:
        compile_pdf(template() + "\n" + markup)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert needle.lower() in message.lower()
    assert "root:" not in message  # nothing of /etc/passwd


@pytest.mark.parametrize(
    "markup",
    [
        '#import "@preview/cetz:0.3.0"',
        '#import "@local/x:0.1.0": *',
        '#{ import "@preview/a:1.0.0" }',
    ],
)
def test_planted_package_import_is_refused_before_any_download(markup):
    with pytest.raises(PdfRenderError, match="may not import Typst packages") as info:
        compile_pdf(template() + "\n" + markup)
    assert "download package" not in str(info.value)


def test_package_import_as_text_is_only_text():
    section = doc.Section(
        doc.Para('#import "@preview/cetz:0.3.0"'), doc.Para(doc.Span('import "@x', "code"))
    )
    text, _ = _compile_text(section)
    assert '#import "@preview/cetz:0.3.0"' in text and 'import "@x' in text


def test_planted_markup_changes_the_document():
    """Unescaped, `= x` at a line start becomes a heading, `$..$` maths, `<l>` a label."""
    live = template() + "\n= Planted heading\n\n$x^2$ and *strong* <lbl>\n"
    pdf = compile_pdf(live)
    text = pypdf.PdfReader(__import__("io").BytesIO(pdf)).pages[0].extract_text()
    assert "= Planted" not in text and "*strong*" not in text and "<lbl>" not in text


# ----------------------------------------------------------------------------- escaped
@pytest.mark.parametrize("label, payload", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_prints_as_literal_text_everywhere(attacked, label, payload):
    text, _ = attacked
    norm = _norm(text)
    expected = _norm(clean_text(payload))
    assert expected, label
    for place in (
        "para", "strong", "emph", "code", "chip", "ids", "item", "term", "desc",
        "th", "td", "caption", "callout", "title", "quote", "attr",
    ):  # fmt: skip
        assert _norm(f"{label}-{place}") + expected in norm, (label, place)


@pytest.mark.parametrize("label, payload, kept", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_controls_and_bidi_are_removed(attacked, label, payload, kept):
    assert clean_text(payload) == kept
    text, _ = attacked
    assert _norm(f"{label}-para {kept}") in _norm(text)
    for char in ("\u202e", "\u2066", "\x00", "\x01", "\x7f"):
        assert char not in text


def test_document_info_and_forest_are_literal(attacked):
    text, pdf = attacked
    norm = _norm(text)
    for piece in (
        'R #read("/etc/passwd") ] [',
        "F $x$ // c",
        'forest #read("/etc/passwd") ]',
        "v $x$",
        "b2 #",
        "b4 @",
        "t0 ]",
        "axis // c",
        "forest-caption <label>",
    ):
        assert _norm(piece) in norm, piece
    reader = pypdf.PdfReader(__import__("io").BytesIO(pdf))
    assert reader.metadata.title == 'T #read("/etc/passwd") "q"'


def test_no_file_was_read(attacked):
    """Nothing of /etc/passwd or /etc/hostname is in the PDF, and it holds no image."""
    text, pdf = attacked
    assert "root:x:0:0" not in text and b"root:x:0:0" not in pdf
    try:
        hostname = Path("/etc/hostname").read_text(encoding="utf-8").strip()
    except OSError:
        hostname = ""
    if len(hostname) > 6:
        assert hostname not in text
    assert b"/Subtype /Image" not in pdf and b"/Subtype/Image" not in pdf


def test_long_words_wrap_inside_the_page(attacked):
    """A 240-character word and a long path break over lines instead of leaving the page
    (about 100 characters fit on a line), and the PDF's text gains no character: the
    path copies out whole, without zero-width spaces."""
    text, _ = attacked
    lines = text.splitlines()
    assert "\u200b" not in text
    assert _norm(LONG_WORD) in _norm(text)
    assert LONG_PATH in text.replace("\n", "")
    assert max(len(line) for line in lines) < 130
    assert not any(LONG_WORD[:150] in line for line in lines)
    assert sum(1 for line in lines if "carpeta/carpeta" in line) >= 2


def test_code_span_is_never_broken():
    command = "copeval report --site VC --lang es --seed 0 --draws 2000"
    text, _ = _compile_text(
        doc.Section(doc.Para("Run " * 20, doc.Span(command, "code"), " then read it."))
    )
    assert any(command in line for line in text.splitlines())


def test_string_literals_escape_exactly_backslash_and_quote():
    assert typst_str('a"b\\c') == '"a\\"b\\\\c"'
    assert typst_str("#[]*_$@<>`=") == '"#[]*_$@<>`="'
    assert typst_str("x\ny\x00") == '"x y"'
    assert typst_str("\ud800lone") == '"\ufffdlone"'


@pytest.mark.parametrize(
    "href, reason",
    [
        ("{png}", "absolute paths are not allowed"),
        ("file://{png}", "absolute paths are not allowed"),
        ("secret.png", "file not found"),
        ("../../secret.png", "escape the project root"),
        ("https://example.invalid/x.png", "URLs are not allowed"),
    ],
)
def test_svg_figure_cannot_link_a_file(tmp_path, href, reason):
    """An SVG figure linking an image outside (path, file: URL, web URL) stops the PDF
    with a readable error; nothing is read."""
    png = tmp_path / "secret.png"
    png.write_bytes(_tiny_png())
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20">'
        f'<rect width="40" height="20" fill="#123"/><image href="{href.format(png=png)}" '
        'width="10" height="10"/></svg>'
    )
    markup = to_typst(doc.Figure(alt='alt "x" #read("/etc/passwd")', svg=svg))
    with pytest.raises(PdfRenderError, match=reason):
        compile_pdf(template() + markup)


def test_svg_figure_embeds_a_data_url_image():
    """The one way an SVG figure carries a raster image: a data: URL inside it."""
    import base64

    data = base64.b64encode(_tiny_png()).decode()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20">'
        f'<image href="data:image/png;base64,{data}" width="10" height="10"/></svg>'
    )
    pdf = compile_pdf(template() + to_typst(doc.Figure(alt="pixel", svg=svg)))
    assert b"/Image" in pdf


def test_svg_with_script_is_refused():
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ValueError, match="script"):
        to_typst(doc.Figure(alt="x", svg=svg))


def test_bad_language_is_refused():
    with pytest.raises(ValueError, match="ISO 639"):
        to_typst(doc.DocInfo(title="t", lang='es", lang: "x'))


def _tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"\x00\xff\x00\x00" * 1  # one red pixel, filter byte 0
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
