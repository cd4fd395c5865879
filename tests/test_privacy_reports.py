"""End to end: personal data planted in quotable evidence never reaches a rendered output.

Takes a copy of the demo project, registers a person, overwrites the start of every
quotable segment with a name, a phone number, an e-mail address and a DPI number (same
length, so every offset stays valid), puts a secret sentence into segments of sources that
may not be quoted, renders every report (each site and the comparison, Spanish and English,
PDF + HTML + executed notebook) and the score table, and searches every file written.
"""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

pytest.importorskip("copeval.report")
batch = pytest.importorskip("copeval.report.batch")

from copeval.privacy import select_quotes  # noqa: E402
from copeval.project import load_project  # noqa: E402

pytestmark = pytest.mark.slow

PLANT = "María Tzul Batz, 5555-1234, maria.tzul@example.org, DPI 2345 67890 0101. "
# Issue 11 item 4: written forms the report used to print (planted in alternate segments).
PLANT_FORMS = (
    "María Tzul\u2011Batz, tel4103-0003, cel_4111\u20130011. ",
    "Llame: 4115\n0015, DPI2345678900101, NIT7100002-9. ",
)
# A number that crosses a segment's end: the segment stops after "4190-00".
EDGE = "llame al 4190-0031"
NEEDLES = [
    "tzul",
    "55551234",
    "mariatzul@examplecom",
    "2345678900101",
    "examplecom",
    "41030003",
    "41110011",
    "41150015",
    "7100002",
    "419000",
]
SECRET = "la tortuga azul del comisario guarda las llaves"


def _norm(text: str) -> str:
    """Lower-case, no white space or separators: PDF extraction may split or join lines."""
    return re.sub(r"[\s\-._]", "", text).lower()


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _file_text(path) -> str:
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".ipynb", ".json"):
        return "\n".join(_strings(json.loads(raw)))
    return html.unescape(raw)


@pytest.fixture
def planted(demo_copy):
    p = load_project(demo_copy)
    pd.DataFrame(
        {"person_id": ["P1"], "name": ["María Tzul Batz"], "role": ["community_leader"]}
    ).to_csv(demo_copy / "registry.csv", index=False)
    consent = p.sources.set_index("source_id")["consent"]
    paths = p.sources.set_index("source_id")["text_path"]
    texts = {sid: p.text(sid) for sid in p.sources["source_id"]}
    planted = secret = edges = 0
    starts = p.segments.groupby("source_id")["start"].apply(lambda s: sorted(map(int, s)))
    longest = max(len(PLANT), *map(len, PLANT_FORMS), len(SECRET) + 2)
    for seg in p.segments.sort_values(["source_id", "start"]).itertuples():
        text = texts[seg.source_id]
        quote = consent[seg.source_id] == "quote"
        piece = ((PLANT, *PLANT_FORMS)[planted % 3]) if quote else SECRET + ". "
        if int(seg.end) - int(seg.start) < len(piece) + 30:
            continue
        start, end = int(seg.start), int(seg.end)
        text = text[:start] + piece + text[start + len(piece) :]
        at = end + 2 - len(EDGE)
        clear = at >= start + len(piece) and not any(
            at - longest < s < end + 2 for s in starts[seg.source_id] if s != start
        )
        if quote and clear and end + 2 <= len(text):  # the segment ends mid-number
            text = text[:at] + EDGE + text[at + len(EDGE) :]
            edges += 1
        texts[seg.source_id] = text
        if quote:
            planted += 1
        else:
            secret += 1
    for sid, text in texts.items():
        (demo_copy / paths[sid]).write_bytes(text.encode("utf-8"))
    assert planted > 10 and secret > 3 and edges > 3, (planted, secret, edges)
    p = load_project(demo_copy)  # offsets still valid
    return demo_copy


def test_no_personal_data_in_any_rendered_output(planted, tmp_path):
    from copeval.cli import main

    out = tmp_path / "out"
    # Every site and the comparison, in Spanish: the quotes (where leaks would come from) are
    # the same text in both languages; the English templates are covered by test_notebooks.
    jobs = batch.plan_jobs(
        planted, out_dir=out, sites="all", langs=("es",), comparative=True, n_boot=60
    )
    assert {j.kind for j in jobs} == {"site", "comparative"}
    for job in jobs:
        batch.render_report(job)
    assert main(["score", str(planted), "--out", str(out / "scores.csv")]) == 0
    p = load_project(planted)
    for lang in ("es", "en"):
        select_quotes(p, lang=lang).to_csv(out / f"quotes_{lang}.csv", index=False)

    files = [
        f
        for f in out.rglob("*")
        if f.is_file() and f.suffix in (".pdf", ".html", ".ipynb", ".csv", ".json")
    ]
    kinds = {f.suffix for f in files}
    assert {".pdf", ".html", ".ipynb", ".csv"} <= kinds
    seen_tags = seen_edge = seen_glued = False
    for f in files:
        text = _file_text(f)
        flat = _norm(text)
        for needle in NEEDLES:
            assert needle not in flat, f"{needle!r} leaked into {f.name}"
        assert _norm(SECRET) not in flat, f"non-quotable text leaked into {f.name}"
        assert "tortuga" not in text.lower(), f"non-quotable text leaked into {f.name}"
        seen_tags |= any(t in text for t in ("[PERSON:", "[PERSONA:", "[PHONE]", "[TELÉFONO]"))
        seen_edge |= "llame al [TELÉFONO]" in " ".join(text.split())
        seen_glued |= "tel[TELÉFONO]" in text
    # the planted data did reach quotes, and was redacted there: the test has teeth
    assert seen_tags
    assert seen_edge, "no quote ended mid-number: the edge plant was never quoted"
    assert seen_glued, "no glued phone number reached a quote"
