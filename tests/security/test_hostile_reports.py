"""End to end: a project with hostile markup and personal data in every free-text field,
rendered with ``copeval report`` (full and brief, es and en) and ``copeval compare``.

Every file the runs leave -- in the reports folder and in the cache folder -- is read back
and checked: no live markup in any HTML (page or notebook output), no attachment or
outside link in any PDF, no personal data or consent-``none`` text anywhere, no formula in
any CSV, no pickle, and the site name (with its ``"``) still in the title and the running
header, as text.
"""

from __future__ import annotations

import html
import json

import pytest

from .hostile import NAME_A, PII, SECRET
from .outputs import (
    cache_texts,
    csv_formula_cells,
    html_problems,
    json_strings,
    leaks,
    notebook_html,
    pdf_report,
)

pytestmark = pytest.mark.slow


def _files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_every_command_succeeds_and_writes_only_reports(rendered):
    _project, out, cache, codes = rendered
    assert codes == [0, 0, 0]
    names = {p.relative_to(out).as_posix() for p in _files(out)}
    stems = {"site_A_es", "site_A_en", "brief_B_es", "comparative_en"}
    expected = {f"{s}.{ext}" for s in stems for ext in ("pdf", "html", "ipynb", "manifest.json")}
    assert names == expected | {".copeval-reports"}  # the lock file; no cache, no pickle
    assert not (out / ".cache").exists()
    assert [p.suffix for p in _files(cache)] == [".npz"]


def test_no_live_markup_in_any_html(rendered):
    _, out, _, _ = rendered
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 4
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert html_problems(text) == [], page.name
        csp = html.unescape(text.split('http-equiv="Content-Security-Policy" content="')[1])
        assert csp.startswith("default-src 'none'; img-src data:;")
        assert "script" not in csp.split('"')[0]
    for nb in sorted(out.glob("*.ipynb")):
        for fragment in notebook_html(nb):
            assert html_problems(fragment, page=False) == [], nb.name


def test_the_name_is_text_in_the_title_and_running_header(rendered):
    _, out, _, _ = rendered
    page = (out / "site_A_en.html").read_text(encoding="utf-8")
    title = page[page.index("<title>") + 7 : page.index("</title>")]
    assert title.startswith("Toto&lt;/style&gt;&lt;a rel=attachment")
    running = next(line for line in page.splitlines() if line.startswith("@page { @top-left"))
    assert "Toto\\3c /style\\3e \\3c a rel=attachment" in running
    # a double quote in the name no longer drops the title or the running header
    brief = (out / "brief_B_es.html").read_text(encoding="utf-8")
    assert "<title>Sitio &#34;B&#34; &lt;/style&gt;" in brief
    assert '@top-left { content: "Sitio \\22 B\\22  \\3c /style\\3e ' in brief
    pdf = pdf_report(out / "brief_B_es.pdf")
    assert 'Sitio "B" </style>' in pdf["pages"][1]  # the running header, printed as text


def test_no_pdf_attaches_or_links_anything(rendered):
    _, out, _, _ = rendered
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) == 4
    for path in pdfs:
        report = pdf_report(path)
        assert report["attachments"] == {}, path.name
        assert not report["embedded"], path.name
        assert all(link.startswith("#") for link in report["links"]), report["links"]
        assert "root:x:0:0" not in "".join(report["pages"])  # /etc/passwd


def test_no_personal_data_or_withheld_text_in_any_output(rendered):
    _, out, _, _ = rendered
    checked = 0
    for path in _files(out):
        if path.suffix == ".pdf":
            text = "\n".join(pdf_report(path)["pages"])
        elif path.suffix in (".ipynb", ".json"):
            text = "\n".join(json_strings(json.loads(path.read_text(encoding="utf-8"))))
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        assert leaks(text) == [], path.name
        checked += 1
    assert checked == 17
    # the redaction is visible where the data was (site name, notes, IDs from file names)
    site = "\n".join(pdf_report(out / "site_A_en.pdf")["pages"])
    assert "[PHONE]" in site and "[EMAIL]" in site and "[DPI]" in site
    assert "A-[PHONE]" in (out / "site_A_en.html").read_text(encoding="utf-8")
    assert "[TELÉFONO]" in (out / "site_A_es.html").read_text(encoding="utf-8")


def test_every_csv_is_safe_to_open(rendered):
    _, out, cache, _ = rendered
    for path in [*out.rglob("*.csv"), *cache.rglob("*.csv")]:
        assert csv_formula_cells(path) == [], path.name


def test_the_cache_holds_no_text_and_no_pickle(rendered):
    _project, _, cache, _ = rendered
    files = _files(cache)
    assert files and all(p.name.startswith("analysis-") and p.suffix == ".npz" for p in files)
    for path in files:
        assert path.read_bytes()[:2] == b"PK"  # a zip of .npy arrays, not a pickle
        text = cache_texts(path)
        assert leaks(text) == [], path.name
        for planted in ("Toto", "</style>", "Notes", "census", "Confianza", "Project"):
            assert planted not in text, planted
    assert SECRET not in PII and NAME_A.startswith("Toto")


def test_the_text_inside_figures_is_redacted_and_inert(rendered):
    """Figures are SVG images inlined as ``data:`` URLs: their labels (site names) are text
    no HTML or PDF text check sees, so each figure is decoded and read here."""
    import base64
    import re
    import xml.etree.ElementTree as ET

    _, out, _, _ = rendered
    figures = 0
    for page in sorted(out.glob("*.html")):
        for data in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", page.read_text()):
            svg = base64.b64decode(data).decode("utf-8")
            figures += 1
            assert leaks(html.unescape(svg)) == [], page.name
            # an XML prolog and doctype, when the figure has them, are not part of the tree
            root = ET.fromstring(svg.split("?>", 1)[-1].split("]>", 1)[-1].encode("utf-8"))
            for el in root.iter():
                assert el.tag.rsplit("}", 1)[-1] not in ("script", "foreignObject"), page.name
                for name, value in el.attrib.items():
                    name = name.rsplit("}", 1)[-1]
                    assert not name.startswith("on"), (page.name, name)
                    if name in ("href", "src"):
                        assert value.startswith(("#", "data:")), (page.name, value)
    # the comparison's forest plot (its grid of ratings is a table now, and the survey bars
    # of the two site reports are a native chart, doc.Likert: both checked with the page text)
    assert figures >= 1
    pages = [p.read_text() for p in sorted(out.glob("*.html"))]
    assert sum('class="cv-likert"' in page for page in pages) >= 2
    compare = (out / "comparative_en.html").read_text()
    svgs = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", compare)
    labels = html.unescape(" ".join(base64.b64decode(s).decode("utf-8") for s in svgs))
    # site A's name, redacted in the forest plot: its labels are drawn as paths, so the name
    # shows in the figure's text alternative (and in the SVG's comments when it keeps them)
    alts = html.unescape(" ".join(re.findall(r'<img [^>]*alt="([^"]*)"', compare)))
    assert "[PHONE]" in labels + alts
