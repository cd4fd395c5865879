"""Consent rules, PII detection and redaction, pseudonyms."""

from __future__ import annotations

import json
import re
import unicodedata

import pandas as pd
import pytest

from copeval.errors import CopevalError
from copeval.privacy import (
    find_pii,
    free_text_columns,
    load_registry,
    pii_problems,
    pseudonymize,
    quotable,
    redact,
    redact_excerpt,
    redact_fields,
    redact_project,
    scan_fields_pii,
    scan_project_pii,
    scan_respondent_ids,
    select_quotes,
    usable_sources,
    withheld_quotes,
)
from copeval.project import load_project, text_fingerprint, write_project

REGISTRY = pd.DataFrame(
    {
        "person_id": ["P1", "P2", "P3"],
        "name": ["María Tzul Batz; doña María", "José Pérez", "Ana López"],
        "role": ["community_leader", "police_operational", "comadrona"],
    }
)

# (planted text, kind) — every format the docs promise to catch
PLANTED = [
    ("5555-1234", "phone"),
    ("5555 1234", "phone"),
    ("55551234", "phone"),
    ("2222.3333", "phone"),
    ("+502 4444-5555", "phone"),
    ("+502 44445555", "phone"),
    ("502-7777-8888", "phone"),
    ("(502) 3333 4444", "phone"),
    ("00502 6666 7777", "phone"),
    ("55 55 12 34", "phone"),
    ("2345 67890 0101", "dpi"),
    ("2345-67890-0101", "dpi"),
    ("2345678900101", "dpi"),
    ("maria.tzul@example.org", "email"),
    ("j.perez+pnc@correo.example.gt", "email"),
    ("María Tzul Batz", "person"),
    ("MARIA TZUL BATZ", "person"),
    ("maria  tzul\nbatz", "person"),
    ("doña Maria", "person"),
    ("José Pérez", "person"),
    ("Jose Perez", "person"),
]


@pytest.mark.parametrize(("planted", "kind"), PLANTED)
def test_each_planted_item_is_found_and_redacted(planted, kind):
    text = f"Dijo que {planted}, y nada más."
    out, findings = redact(text, registry=REGISTRY)
    assert planted not in out
    assert findings["kind"].tolist() == [kind]
    start, end = findings[["start", "end"]].iloc[0]
    assert text[start:end] == planted
    assert out.startswith("Dijo que [") and out.endswith("], y nada más.")


@pytest.mark.parametrize(
    "text",
    [
        "Entre 2017-2018 hubo tres visitas.",  # a period, not a phone
        "El expediente 12345678 sigue abierto.",  # starts with 1: not a Guatemalan number
        "Son 555-1234 y 89991234.",  # 7 digits; starts with 8
        "Ana Lópezmendez y Anabel López no están en el registro.",  # not whole names
        "Pagó Q 2500.00 en 2019.",
        "Totonicapán tiene 48 cantones.",
    ],
)
def test_lookalikes_are_left_alone(text):
    out, findings = redact(text, registry=REGISTRY)
    assert out == text and findings.empty


def test_tags_use_role_labels_in_each_language():
    text = "Habló José Pérez con Ana López, teléfono 5555-1234, NIT: 1234567-8."
    es, _ = redact(text, registry=REGISTRY, lang="es")
    en, findings = redact(text, registry=REGISTRY, lang="en")
    assert es == (
        "Habló [PERSONA: Policía operativa] con [PERSONA: comadrona], teléfono [TELÉFONO], "
        "NIT: [NIT]."
    )
    assert en == (
        "Habló [PERSON: Operational police] con [PERSON: comadrona], teléfono [PHONE], NIT: [NIT]."
    )
    assert findings["person_id"].tolist() == ["P2", "P3", "", ""]
    assert "José" not in " ".join(findings.astype(str).to_numpy().ravel())
    with pytest.raises(CopevalError, match=r"Unknown language .* Available languages"):
        redact(text, lang="fr")


def test_overlaps_keep_one_finding_and_offsets_refer_to_the_original():
    text = "Correo jose.perez@example.org o José Pérez, DPI 2345 67890 0101."
    out, findings = redact(text, registry=REGISTRY)
    assert out == "Correo [EMAIL] o [PERSON: Operational police], DPI [DPI]."
    assert findings["kind"].tolist() == ["email", "person", "dpi"]
    assert (findings["end"] > findings["start"]).all()
    assert (findings["start"].diff().dropna() > 0).all()


def test_decomposed_accents_in_text_still_match_names():
    text = "Vino Jose\u0301 Pe\u0301rez ayer."  # NFD: e + combining acute
    out, _ = redact(text, registry=REGISTRY)
    assert out == "Vino [PERSON: Operational police] ayer."


# --------------------------------------------------------------------------- projects
SECRET_ANON = "la tortuga azul del comisario guarda las llaves"
SECRET_NONE = "el perro verde cuida la bodega de la aldea"


def pii_project(tmp_path):
    texts = {
        "Q1": "María Tzul Batz dijo: los agentes patrullan a pie. Mi número es 5555-1234.\n"
        "Escríbame a maria.tzul@example.org si quiere.",
        "A1": f"Le cuento que {SECRET_ANON}. Mi DPI es 2345 67890 0101.",
        "N1": f"Dicen que {SECRET_NONE}. Llamen a José Pérez al +502 4444-5555.",
    }
    sites = pd.DataFrame(
        {"site_id": ["VC"], "name": ["Villa Canales"], "department": ["Guatemala"]}
    )
    sources = pd.DataFrame(
        {
            "source_id": ["Q1", "A1", "N1"],
            "site_id": ["VC"] * 3,
            "respondent_group": ["community_leader", "police_operational", "community_member"],
            "method": ["interview"] * 3,
            "language": ["es"] * 3,
            "consent": ["quote", "anonymous", "none"],
        }
    )
    q_end = texts["Q1"].index("Escríbame") + len("Escríbame a maria.tzul@example.org si quiere.")
    segments = pd.DataFrame(
        {
            "segment_id": ["G1", "G2", "G3"],
            "source_id": ["Q1", "A1", "N1"],
            "start": [0, 0, 0],
            "end": [q_end, len(texts["A1"]), len(texts["N1"])],
            "code": ["C1.patrol", "C1.patrol", "C1.patrol"],
            "valence": [2, 1, 1],
            "coder": ["HL"] * 3,
        }
    )
    items = pd.DataFrame(
        {
            "instrument": ["community"],
            "item": ["trust"],
            "criterion": ["AT"],
            "scale": ["trust"],
            "missing_codes": ["97;98"],
            "scale_min": [1],
            "scale_max": [7],
            "reverse": [False],
            "label_en": ["Trust"],
            "label_es": ["Confianza"],
        }
    )
    responses = {
        "community": pd.DataFrame(
            {
                "respondent_id": ["R-01", "5555-9876", "Juana Morales", "ok@example.org"],
                "site_id": ["VC"] * 4,
                "trust": [3, 4, 5, 6],
            }
        )
    }
    root = write_project(
        tmp_path / "pii",
        sites=sites,
        sources=sources,
        segments=segments,
        texts=texts,
        items=items,
        responses=responses,
    )
    REGISTRY.to_csv(root / "registry.csv", index=False)
    return root


def test_consent_filters_do_not_mutate(tmp_path):
    p = load_project(pii_project(tmp_path))
    before = p.sources.copy()
    assert quotable(p.sources)["source_id"].tolist() == ["Q1"]
    assert usable_sources(p.sources)["source_id"].tolist() == ["Q1", "A1"]
    pd.testing.assert_frame_equal(p.sources, before)
    with pytest.raises(CopevalError, match="no 'consent' column"):
        quotable(p.sources.drop(columns="consent"))


def test_quotes_only_from_quotable_sources_and_redacted(tmp_path):
    p = load_project(pii_project(tmp_path))
    for lang in ("es", "en"):
        q = select_quotes(p, lang=lang)
        assert q["source_id"].tolist() == ["Q1"]
        blob = q.to_csv()
        for secret in (
            SECRET_ANON,
            SECRET_NONE,
            "tortuga",
            "perro verde",
            "María",
            "Maria",
            "5555-1234",
            "maria.tzul@example.org",
            "2345 67890 0101",
            "4444-5555",
        ):
            assert secret not in blob
        assert "patrullan a pie" in q["quote"].iloc[0]
    en = select_quotes(p, lang="en")
    assert en["attribution"].iloc[0] == "Community leader or traditional authority, Villa Canales"
    assert en["quote"].iloc[0].startswith("[PERSON: Community leader or traditional authority]")
    short = select_quotes(p, max_chars=40)["quote"].iloc[0]
    assert len(short) <= 41 and short.endswith("…")
    assert select_quotes(p, criteria=["C2"]).empty
    w = withheld_quotes(p)
    assert w[
        ["site_id", "criterion", "n_evidence", "n_quotable", "n_withheld"]
    ].values.tolist() == [["VC", "C1", 2, 1, 1]]


def test_scan_and_validate_warnings_never_repeat_the_data(tmp_path):
    root = pii_project(tmp_path)
    p = load_project(root)
    found = scan_project_pii(p)
    kinds = found.groupby("source_id")["kind"].apply(sorted).to_dict()
    assert kinds == {"Q1": ["email", "person", "phone"], "A1": ["dpi"], "N1": ["person", "phone"]}
    q1 = found[found["source_id"] == "Q1"].set_index("kind")
    assert q1.loc["email", "line"] == 2 and q1.loc["person", "line"] == 1
    ids = scan_respondent_ids(p)
    assert ids.values.tolist() == [
        ["community", 3, "phone"],
        ["community", 4, "name-like"],
        ["community", 5, "email"],
    ]
    problems = pii_problems(p)
    assert all(pr.severity == "warning" for pr in problems)
    text = "\n".join(str(pr) for pr in problems)
    assert "texts/Q1.txt" in text and "1 phone number(s) (line 1)" in text
    assert "responses/community.csv row 3, column 'respondent_id'" in text
    for secret in ("María", "5555-1234", "maria.tzul", "2345", "Juana", "5555-9876"):
        assert secret not in text


def test_registry_loading(tmp_path):
    root = pii_project(tmp_path)
    assert load_registry(root)["person_id"].tolist() == ["P1", "P2", "P3"]
    (root / "registry.csv").unlink()
    assert load_registry(root).empty
    (root / "registry.csv").write_text("id,nombre\n1,x\n", encoding="utf-8")
    with pytest.raises(CopevalError, match="lacks column"):
        load_registry(root)


def test_redact_project_writes_copies_and_leaves_originals(tmp_path):
    root = pii_project(tmp_path)
    p = load_project(root)
    originals = {f.name: f.read_bytes() for f in (root / "texts").iterdir()}
    out = tmp_path / "red"
    findings = redact_project(p, out=out)
    assert {f.name: f.read_bytes() for f in (root / "texts").iterdir()} == originals
    assert sorted(f.name for f in (out / "texts").iterdir()) == ["A1.txt", "Q1.txt"]
    q1 = (out / "texts" / "Q1.txt").read_text(encoding="utf-8")
    assert q1.startswith("[PERSONA: Liderazgo comunitario o autoridad tradicional] dijo")
    assert "[TELÉFONO]" in q1 and "[EMAIL]" in q1 and "5555" not in q1
    assert "[DPI]" in (out / "texts" / "A1.txt").read_text(encoding="utf-8")
    table = pd.read_csv(out / "findings.csv")
    assert len(table) == len(findings) == 4
    assert set(table.columns) == {"source_id", "start", "end", "kind", "replacement"}
    with pytest.raises(CopevalError, match="never overwritten"):
        redact_project(p, out=root)
    with pytest.raises(CopevalError, match="never overwritten"):
        redact_project(p, out=root / "texts")
    en = redact_project(p, out=tmp_path / "red_en", lang="en")
    assert "[PHONE]" in set(en["replacement"])


def test_cli_redact(tmp_path, capsys):
    from copeval.cli import main

    root = pii_project(tmp_path)
    assert main(["redact", str(root)]) == 0
    out = capsys.readouterr().out
    assert "2 redacted text(s)" in out and "1 source(s) without consent left out" in out
    assert "phone" in out and "5555" not in out
    assert (root / "redacted" / "texts" / "Q1.txt").is_file()
    assert main(["redact", str(root), "--out", str(root)]) == 1
    assert "never overwritten" in capsys.readouterr().err


def test_cli_validate_warns_about_pii(tmp_path, capsys):
    from copeval.cli import main

    root = pii_project(tmp_path)
    assert main(["validate", str(root)]) == 0
    err = capsys.readouterr().err
    assert "contains personal data" in err and "respondent_id looks like personal data" in err
    assert "5555-1234" not in err


def test_pseudonymize():
    ids = pd.Series(["Juana Morales", "5555-9876", "Juana Morales"], index=[10, 11, 12])
    a = pseudonymize(ids, key="a-very-secret-key-123")
    assert a.index.tolist() == [10, 11, 12] and a.name == "respondent_id"
    assert a.iloc[0] == a.iloc[2] != a.iloc[1]
    assert a.str.fullmatch(r"R[0-9a-f]{8}").all()
    b = pseudonymize(ids, key="another-secret-key-456")
    assert (a != b).all()
    assert (
        pseudonymize(["x"], key=b"0123456789abcdef", prefix="P-", length=12)
        .iloc[0]
        .startswith("P-")
    )
    with pytest.raises(CopevalError, match="at least 16"):
        pseudonymize(ids, key="short")
    with pytest.raises(CopevalError, match="length must lie"):
        pseudonymize(ids, key="a-very-secret-key-123", length=3)


def test_find_pii_columns_for_empty_text():
    f = find_pii("")
    assert f.empty and list(f.columns) == ["start", "end", "kind", "person_id", "replacement"]


# --------------------------------------------------------------------------- written forms
# Issue 11, item 4: forms reproduced in the Totonicapán report. (planted, kind); each is tried
# inside a Spanish and an English sentence.
WRITTEN_FORMS = [
    ("tel4103-0003", "phone"),
    ("cel_4111-0011", "phone"),
    ("Tel.4122-0022", "phone"),
    ("4103\u20130003", "phone"),  # en dash
    ("4103\u20140003", "phone"),  # em dash
    ("4103\u20110003", "phone"),  # non-breaking hyphen
    ("4103\u22120003", "phone"),  # minus sign
    ("4103\u00a00003", "phone"),  # no-break space
    ("4103\u202f0003", "phone"),  # narrow no-break space
    ("4103\u200b0003", "phone"),  # zero-width space
    ("41\u200b03-00\u200b03", "phone"),
    ("4103\u00ad-0003", "phone"),  # soft hyphen
    ("4103/0003", "phone"),
    ("4103 - 0003", "phone"),
    ("4103 / 0003", "phone"),
    ("4115\n0015", "phone"),  # a line break inside the number
    ("4115-\n0015", "phone"),
    ("4115\r\n0015", "phone"),
    ("41 15\u201300 15".replace("\u2013", " "), "phone"),
    ("+502\u00a04103\u20130003", "phone"),
    ("\uff14\uff11\uff10\uff13-\uff10\uff10\uff10\uff13", "phone"),  # full-width digits
    ("DPI2345678900101", "dpi"),
    ("2345\u201367890\u20130101", "dpi"),
    ("2345  67890  0101", "dpi"),
    ("2345\u00a067890\u00a00101", "dpi"),
    ("2345\n67890\n0101", "dpi"),
    ("NIT7100002-9", "nit"),
    ("N.I.T. 7100003-1", "nit"),
    ("nit: 7100004\u20137", "nit"),
    ("María Tzul-Batz", "person"),
    ("María Tzul\u2011Batz", "person"),
    ("María\u00a0Tzul Batz", "person"),
    ("Ma\u200bría Tzul Batz", "person"),
    ("MARÍA TZUL\u2013BATZ", "person"),
]

# Near misses that must NOT be redacted: years, amounts, percentages, IDs, dates.
NEAR_MISSES = [
    "En 2019 hubo 1,500 denuncias.",
    "Costó Q 1,500 y luego Q 25,000.",
    "It cost Q 1,500.00 in 2019.",
    "El 45 % dijo que sí; the other 55% said no.",
    "Del 12.5 % al 37.0 % entre 2017-2018.",
    "Segment VC-I01-S002 and TOT-I07 were coded.",
    "Fecha: 21/02/2017, 2017-02-21, 20170221 y 21.02.2017.",
    "On 2017-W08-2 the meeting of 2019/2020 was held.",
    "Population 841314, 375 police of whom 43 women.",
    "Precinct 44 has 3 stations and 10 substations since 2017 - 2018.",
    "Los 48 Cantones, km 179, a las 8:30.",
    "Según el Acuerdo Gubernativo 2311-2014 y el Decreto 97-2009.",
    "Consta en el expediente 2019-0452-0133 del juzgado.",
    "Véanse los artículos 25 27 29 31 de la ley.",
]


@pytest.mark.parametrize(
    "text",
    [
        "Según el Decreto 12-2009, llame al tel. 4103-0003.",
        "For the contact 4103-0003 see the flyer.",  # "act" inside a word is not a legal word
        "Colleys 4103-0003",  # "ley" inside a word neither
        "Oficio enviado por la vecina, 4103-0003.",  # a legal word, but a phone's shape
    ],
)
def test_a_phone_near_a_legal_word_is_still_redacted(text):
    out, findings = redact(text)
    assert findings["kind"].tolist() == ["phone"], out
    assert "4103" not in out


@pytest.mark.parametrize(("planted", "kind"), WRITTEN_FORMS)
@pytest.mark.parametrize(
    "sentence", ["Me dijo: llame al {} mañana.", "She said: call {} tomorrow."], ids=["es", "en"]
)
def test_every_written_form_is_redacted(planted, kind, sentence):
    text = sentence.format(planted)
    out, findings = redact(text, registry=REGISTRY)
    assert findings["kind"].tolist() == [kind], (text, out)
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", planted))
    assert not digits or digits not in re.sub(r"\D", "", out), out
    assert "tzul" not in out.lower() and "batz" not in out.lower()
    start, end = findings[["start", "end"]].iloc[0]  # offsets into the original text
    assert text[start:end] in planted
    if kind in ("phone", "dpi", "nit"):  # the whole number, separators included
        assert re.sub(r"\D", "", unicodedata.normalize("NFKC", text[start:end])).endswith(
            re.sub(r"\D", "", unicodedata.normalize("NFKC", planted))[-8:]
        )


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_left_alone(text):
    out, findings = redact(text, registry=REGISTRY)
    assert out == text and findings.empty, findings


def test_copeval_redact_catches_the_written_forms(tmp_path, capsys):
    from copeval.cli import main

    root = pii_project(tmp_path)
    q1 = root / "texts" / "Q1.txt"
    extra = " Otros: tel4103-0003, 4115\n0015, DPI2345678900101, NIT7100002-9, María Tzul-Batz."
    text = q1.read_text(encoding="utf-8") + extra
    q1.write_bytes(text.encode("utf-8"))
    src = pd.read_csv(root / "sources.csv", dtype=str, keep_default_na=False)
    chars, sha = text_fingerprint(text)
    src.loc[src["source_id"] == "Q1", ["text_chars", "text_sha256"]] = [str(chars), sha]
    src.to_csv(root / "sources.csv", index=False)
    assert main(["redact", str(root), "--out", str(tmp_path / "red")]) == 0
    capsys.readouterr()
    red = (tmp_path / "red" / "texts" / "Q1.txt").read_text(encoding="utf-8")
    for needle in ("4103", "4115", "0015", "2345678900101", "7100002", "Tzul", "Batz"):
        assert needle not in red, needle


# --------------------------------------------------------------------------- quote edges
def test_excerpt_never_prints_a_partial_number():
    text = "Si hay algo llame al 4190-0031 por favor, o a María Tzul Batz."
    cut = text.index("4190") + len("4190-00")  # the segment ends mid-number
    # redacted on its own, the cut piece keeps six digits: the old behaviour
    assert "4190-00" in redact(text[:cut], registry=REGISTRY)[0]
    assert redact_excerpt(text, 0, cut, registry=REGISTRY) == "Si hay algo llame al [PHONE]"
    begin = text.index("0031")  # the segment starts mid-number
    assert redact_excerpt(text, begin, len(text), registry=REGISTRY).startswith("[PHONE] por")
    name = text.index("Tzul")  # mid-name
    assert "Tzul" not in redact_excerpt(text, 0, name + 2, registry=REGISTRY)
    assert "Batz" not in redact_excerpt(text, name + 6, len(text), registry=REGISTRY)


def test_excerpt_joins_numbers_split_by_a_line_break_and_drops_cut_non_pii():
    text = "Mi número:\n4115\n0015, gracias.\nExpediente 1234-5678-90 abierto."
    out = redact_excerpt(text, 0, len(text), registry=REGISTRY)
    assert "[PHONE]" in out and "4115" not in out and "0015" not in out
    cut = text.index("5678") + 2
    assert redact_excerpt(text, text.index("Expediente"), cut).rstrip() == "Expediente"


def test_excerpt_with_a_foreign_redactor_and_marker_characters_in_the_text():
    text = "Texto con \ue000 marcas \ue001 y 5555-1234 al final."
    out = redact_excerpt(text, 0, len(text))
    assert "\ue000" not in out and "\ue001" not in out and "[PHONE]" in out
    # a redactor that drops the markers: the quote is redacted on its own
    assert redact_excerpt(text, 0, 14, redact_fn=lambda t: t.replace("\ue000", "")) == (
        "Texto con  ma"
    )


def test_report_quotes_are_cut_from_redacted_context(tmp_path):
    from copeval.report.quotes import select_quotes as report_quotes
    from copeval.report.site import redactor

    text = "Los agentes vienen cuando los llamamos, me dijo que llame al 4190-0031 de noche."
    cut = text.index("4190") + len("4190-00")
    tables = dict(
        sites=pd.DataFrame({"site_id": ["VC"], "name": ["Villa Canales"], "department": ["G"]}),
        sources=pd.DataFrame(
            {
                "source_id": ["Q1"],
                "site_id": ["VC"],
                "respondent_group": ["community_leader"],
                "method": ["interview"],
                "language": ["es"],
                "consent": ["quote"],
            }
        ),
        segments=pd.DataFrame(
            {
                "segment_id": ["G1"],
                "source_id": ["Q1"],
                "start": [0],
                "end": [cut],
                "code": ["C1.patrol"],
                "valence": [2],
                "coder": ["HL"],
            }
        ),
        texts={"Q1": text},
    )
    p = load_project(write_project(tmp_path / "p", **tables))
    ev = p.evidence()
    for kwargs in ({}, {"context_of": p.segment_context}):
        quotes, _ = report_quotes(ev, p.segment_text, k=1, redact=redactor(p, "es"), **kwargs)
        assert quotes["text"].tolist() == [text[: text.index("4190")] + "[TELÉFONO]"]
    assert select_quotes(p, lang="en")["quote"].tolist() == [
        text[: text.index("4190")] + "[PHONE]"
    ]


def test_trimmed_quote_never_cuts_inside_a_tag():
    from copeval.report.quotes import trim_quote

    text = "uno dos tres [PERSON: Community leader or traditional authority] cuatro"
    assert trim_quote(text, 30) == "uno dos tres …"


def test_privacy_quotes_cut_by_length_never_cut_inside_a_tag(tmp_path):
    p = load_project(pii_project(tmp_path))
    (quote,) = select_quotes(p, lang="en", max_chars=30)["quote"]
    assert quote == "…"  # the only words fit in no 30 characters: a tag is never cut
    (quote,) = select_quotes(p, lang="en", max_chars=70)["quote"]
    assert quote == "[PERSON: Community leader or traditional authority] dijo: los agentes…"


# --------------------------------------------------------------------------- free text
def test_redact_fields_redacts_a_copy():
    df = pd.DataFrame(
        {
            "site_id": ["VC", "TOT"],
            "notes": ["Contacto: María Tzul-Batz, tel4103-0003", None],
            "population": [10, 20],
            "description": ["correo m@example.org", "nada"],
        }
    )
    before = df.copy()
    out = redact_fields(df, registry=REGISTRY, lang="es")
    pd.testing.assert_frame_equal(df, before)  # input unchanged
    assert out.loc[0, "notes"].startswith("Contacto: [PERSONA: ")
    assert out.loc[0, "notes"].endswith(", tel[TELÉFONO]")
    assert out.loc[0, "description"] == "correo [EMAIL]"
    assert pd.isna(out.loc[1, "notes"]) and out["population"].tolist() == [10, 20]
    assert free_text_columns(df) == ["notes", "description"]
    only = redact_fields(df, ["description"])
    assert only.loc[0, "notes"] == df.loc[0, "notes"]


def test_every_free_text_field_is_scanned(tmp_path):
    root = pii_project(tmp_path)
    sites = root / "sites.csv"
    sites.write_text(
        "site_id,name,department,notes\nVC,Villa Canales,Guatemala,"
        '"Contacto: María Tzul-Batz, cel_4111-0011, DPI2345678900101"\n',
        encoding="utf-8",
    )
    src = pd.read_csv(root / "sources.csv", dtype=str, keep_default_na=False)
    src["coder_notes"] = ["", "Llamar al 5555\u20131234", ""]
    src["description"] = ["", "", "correo x@example.org"]
    src.to_csv(root / "sources.csv", index=False)
    seg = pd.read_csv(root / "segments.csv", dtype=str, keep_default_na=False)
    seg["notes"] = ["NIT7100002-9", "", ""]
    seg.to_csv(root / "segments.csv", index=False)
    desc = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    desc["description"] = "Contact José Pérez for access"
    (root / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")

    p = load_project(root)
    found = scan_fields_pii(p)
    got = set(zip(found["file"], found["row"].astype(object), found["column"], strict=True))
    assert {
        ("sites.csv", 2, "notes"),
        ("sources.csv", 3, "coder_notes"),
        ("sources.csv", 4, "description"),
        ("segments.csv", 2, "notes"),
    } <= got
    assert ("datapackage.json", "description") in {(f, c) for f, _, c in got}
    problems = [str(x) for x in pii_problems(p)]
    joined = "\n".join(problems)
    assert "sites.csv row 2, column 'notes': free text contains personal data" in joined
    assert "sources.csv row 3, column 'coder_notes'" in joined
    for needle in ("Tzul", "4111", "2345678900101", "5555", "x@example", "7100002", "Pérez"):
        assert needle not in joined
