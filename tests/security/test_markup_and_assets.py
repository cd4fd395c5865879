"""Escaping for each context, the HTML allow-list at the exit, and a PDF printer that reads
nothing but its own assets (no local file, no network)."""

from __future__ import annotations

import http.server
import threading

import pytest

from copeval.report import render
from copeval.report.safety import (
    AssetPolicy,
    RefusedURLError,
    css_string,
    sanitize_html,
)

from .hostile import MARKUP
from .outputs import html_problems, pdf_report

ATTACK = f"<p>Toto{MARKUP}</p>"


def test_css_string_cannot_close_the_style_element_or_the_string():
    value = 'a"b\\c\n</style><script>x</script>\u2028'
    out = css_string(value)
    assert out.startswith('"') and out.endswith('"')
    inner = out[1:-1]
    assert "<" not in inner and ">" not in inner and "\n" not in inner
    assert '"' not in inner.replace("\\22 ", "")  # the only quotes are escaped ones
    assert inner == "a\\22 b\\5c c \\3c /style\\3e \\3c script\\3e x\\3c /script\\3e  "


def test_the_sanitiser_keeps_report_markup_and_drops_everything_else():
    report = (
        '<div class="cv-docinfo" data-title="t &quot;x&quot;"></div>'
        '<h2 class="cv-h" id="summary">Resumen</h2><a href="#summary">ir</a>'
        '<table class="cv-heat"><tr><th scope="row">A</th>'
        '<td style="background:#08306b;color:white" class="num">3</td></tr></table>'
        '<figure><img alt="f" style="width:80%" src="data:image/svg+xml;base64,PHN2Zz4="/>'
        "<figcaption>Figura</figcaption></figure>"
    )
    kept = sanitize_html(report)
    for piece in (
        '<div class="cv-docinfo" data-title="t &quot;x&quot;"></div>',
        '<h2 class="cv-h" id="summary">Resumen</h2><a href="#summary">ir</a>',
        '<th scope="row">A</th><td style="background:#08306b;color:white" class="num">3</td>',
        '<img alt="f" style="width:80%" src="data:image/svg+xml;base64,PHN2Zz4=">',
        "<figcaption>Figura</figcaption></figure>",
    ):
        assert piece in kept
    clean = sanitize_html(ATTACK + report)
    assert html_problems(clean, page=False) == []
    for gone in ("<script", "<style", "<link", "onerror", "file:", "http:", "rel="):
        assert gone not in clean
    assert "Toto" in clean and "alert(1)" not in clean  # script content dropped entirely
    # styles that could fetch something are dropped; unknown properties too
    clean = sanitize_html(
        '<span style="left:1%;background:url(file:///etc/passwd)">a</span>'
        '<span style="position:fixed;left:2%">b</span><a href="javascript:x()">c</a>'
        '<img src="x" onerror="alert(1)"><img src="data:text/html;base64,PHNjcmlwdD4=">'
    )
    assert "url(" not in clean and "position" not in clean and "javascript" not in clean
    assert "onerror" not in clean and "data:text" not in clean


def test_the_asset_policy_allows_data_and_own_files_only(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "fig.svg").write_text("<svg/>", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0", encoding="utf-8")
    (assets / "link.txt").symlink_to(secret)
    policy = AssetPolicy([assets])
    assert policy.fetch("data:text/plain;base64,aGk=") == (b"hi", "text/plain")
    assert policy.fetch((assets / "fig.svg").as_uri()) == (b"<svg/>", "image/svg+xml")
    for url in (
        secret.as_uri(),
        "file:///etc/passwd",
        (assets / "link.txt").as_uri(),  # a link inside the folder pointing out of it
        (assets / ".." / "secret.txt").as_uri(),
        "file://otherhost/etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.org/x.png",
        "ftp://example.org/x",
        "javascript:alert(1)",
    ):
        with pytest.raises(RefusedURLError):
            policy.fetch(url)


@pytest.fixture
def http_hits():
    """A local HTTP server (loopback only) counting the requests it gets."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"p { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_the_pdf_printer_reads_no_local_file_and_no_url(tmp_path, http_hits):
    pytest.importorskip("weasyprint")
    base, hits = http_hits
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:secret-line", encoding="utf-8")
    # a hostile document: links, attachments, images and styles pointing outside, in the
    # head (which no sanitiser touches) and in the body
    page = (
        "<!DOCTYPE html><html><head>"
        f'<link rel="attachment" href="{secret.as_uri()}">'
        f'<link rel="stylesheet" href="{base}/head.css">'
        f'<style>@import url("{base}/import.css"); '
        f'body {{ background: url("{secret.as_uri()}") }}</style>'
        "</head><body>"
        f'<a rel="attachment" href="{secret.as_uri()}">pw</a>'
        f'<img src="{secret.as_uri()}"><img src="{base}/img.png">'
        f'<p style="background:url({base}/inline.png)">texto</p>'
        "</body></html>"
    )
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(render.html_to_pdf(page))
    report = pdf_report(pdf)
    assert report["attachments"] == {} and not report["embedded"]
    assert "secret-line" not in "".join(report["pages"])
    assert not any(link.startswith(("file:", "http")) for link in report["links"])
    assert hits == []


def test_the_report_stylesheet_still_loads_through_the_policy(tmp_path):
    pytest.importorskip("weasyprint")
    page = render._page_template().render(
        css=render._css_markup(),
        body=render._markup('<h1>Título</h1><p class="cv-note">nota</p>'),
        version="x",
        title="t",
        lang="es",
        running="Encabezado",
        footer="",
    )
    pdf = tmp_path / "ok.pdf"
    pdf.write_bytes(render.html_to_pdf(page))
    assert "Título" in pdf_report(pdf)["pages"][0]


def test_export_html_escapes_the_docinfo_for_each_context():
    import nbformat

    name = f'Toto "Q"{MARKUP}'
    from copeval.report import doc

    def docinfo(**kw):
        return doc.to_html(doc.DocInfo(**kw))

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": docinfo(title=name, lang="es", running=name)
                + f"<h1>{name}</h1>",  # unescaped on purpose: the exit must catch it
                "text/plain": "x",
            },
        )
    ]
    nb.cells.append(cell)
    page = render.export_html(nb)
    assert html_problems(page) == []
    assert "<title>Toto &#34;Q&#34;&lt;/style&gt;" in page
    assert '@top-left { content: "Toto \\22 Q\\22 \\3c /style\\3e ' in page
