"""Auto-coding suggestions: lexicon, matching, evaluation and the accept/reject store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copeval.codebook import load_codebook
from copeval.coding import (
    AUTO_CODER_PREFIX,
    SUGGESTION_COLUMNS,
    SUGGESTIONS_FILE,
    accept_suggestions,
    evaluate_suggestions,
    load_lexicon,
    read_suggestions,
    reject_suggestions,
    review_suggestions,
    split_units,
    suggest_codes,
    write_suggestions,
)
from copeval.errors import CopevalError
from copeval.project import load_project, write_project

FIXTURE = Path(__file__).parent / "data" / "coding"


def codes_of(texts, **kw):
    return set(suggest_codes(texts, **kw)["code"])


# --------------------------------------------------------------------------- lexicon
def test_lexicon_covers_every_subcode_in_both_languages():
    lex = load_lexicon()
    cb = load_codebook()
    subcodes = [c for c in cb.codes if "." in c]
    counts = lex.groupby(["code", "lang"]).size()
    for code in subcodes:
        for lang in ("es", "en"):
            assert counts.get((code, lang), 0) >= 8, (code, lang)
    assert set(lex["code"]) <= set(subcodes)


def test_lexicon_errors_name_row_and_column(tmp_path):
    bad = tmp_path / "lex.csv"
    bad.write_text(
        "code,lang,term\nC1.patrol,es,a pie\nC9.nothing,es,algo\nC1.patrol,fr,pied\n"
        "C1.patrol,en, \n",
        encoding="utf-8",
    )
    with pytest.raises(CopevalError) as err:
        load_lexicon(bad)
    msg = str(err.value)
    assert "row 3, column 'code': 'C9.nothing'" in msg
    assert "row 4, column 'lang': 'fr'" in msg
    assert "row 5, column 'term': empty" in msg
    bad.write_text("code,lang,term\nC1.patrol,es,a,pie\n", encoding="utf-8")
    with pytest.raises(CopevalError, match=r"lex\.csv is not a valid CSV file"):
        load_lexicon(bad)
    with pytest.raises(CopevalError, match="missing column"):
        load_lexicon(pd.DataFrame({"code": ["C1.patrol"], "term": ["x"]}))


# --------------------------------------------------------------------------- matching
@pytest.mark.parametrize(
    "text",
    [
        "Hay REUNIONES con la policía.",
        "Hubo una reunión ayer.",
        "Hubo una reunion ayer.",  # typed without the accent
        "Se reunieron en la Reunión del mes.",
    ],
)
def test_matching_ignores_case_and_accents_and_conflates_inflections(text):
    assert "C2.meetings" in codes_of({"S": text})


def test_english_stemming_and_language_choice():
    texts = {"E": "The officers were patrolling the market.", "S": "Los agentes patrullan."}
    out = suggest_codes(texts, language={"E": "en", "S": "es"})
    assert set(out.loc[out["source_id"] == "E", "code"]) == {"C1.patrol"}
    assert set(out.loc[out["source_id"] == "S", "code"]) == {"C1.patrol"}
    # the English text read with the Spanish lexicon finds nothing
    assert suggest_codes({"E": "The officers were patrolling."}, language="es").empty


def test_phrases_match_whole_words_in_order_within_one_unit():
    lex = pd.DataFrame(
        {"code": ["C4.data_collection"], "lang": ["es"], "term": ["libro de novedades"]}
    )
    assert codes_of({"S": "Lo anotan en el Libro de Novedades."}, lexicon=lex)
    assert not codes_of({"S": "Novedades de libro, de nada."}, lexicon=lex)
    assert not codes_of({"S": "Un libro de novedadesx."}, lexicon=lex)
    # a phrase does not straddle two sentences, but does within a paragraph
    text = {"S": "Compró un libro. De novedades nada."}
    lex2 = pd.DataFrame({"code": ["C4.data_collection"], "lang": ["es"], "term": ["libro de"]})
    assert not codes_of(text, lexicon=lex2)
    assert codes_of(text, lexicon=lex2, unit="paragraph") == {"C4.data_collection"}


def test_suggestions_cover_units_with_valid_offsets():
    text = "  Primera frase sin nada.\r\nLa policía patrulla a pie. ¿Hay reuniones?\r\n\r\nFin."
    units = split_units(text)
    assert [text[a:b] for a, b in zip(units["start"], units["end"], strict=True)] == [
        "Primera frase sin nada.",
        "La policía patrulla a pie.",
        "¿Hay reuniones?",
        "Fin.",
    ]
    paragraphs = split_units(text, unit="paragraph")
    assert len(paragraphs) == 3
    out = suggest_codes({"S": text})
    assert list(out.columns) == list(SUGGESTION_COLUMNS)
    spans = {r.code: text[r.start : r.end] for r in out.itertuples()}
    assert spans == {"C1.patrol": "La policía patrulla a pie.", "C2.meetings": "¿Hay reuniones?"}
    assert out["suggestion_id"].is_unique
    assert (out["criterion"] == out["code"].str.split(".").str[0]).all()
    with pytest.raises(CopevalError, match="unit must be one of sentence, paragraph"):
        suggest_codes({"S": text}, unit="page")


def test_negation_is_flagged_not_dropped():
    out = suggest_codes(
        {
            "A": "No hay reuniones con la policía.",
            "B": "Hay reuniones.",
            "C": "Nunca nos regresa nada.",
        }
    ).set_index("source_id")
    assert out.loc["A", "code"] == "C2.meetings" and bool(out.loc["A", "negated"])
    assert not bool(out.loc["B", "negated"])
    # a term that contains the negation itself ("nunca nos regresa") is not negated
    assert out.loc["C", "code"] == "C4.obs_upward" and not bool(out.loc["C", "negated"])
    en = suggest_codes({"E": "They don't patrol here."}, language="en")
    assert bool(en["negated"].iloc[0])


def test_confidence_follows_documented_term_weights():
    one = suggest_codes({"S": "Hablamos de la reunión."})
    two = suggest_codes({"S": "Hablamos de la reunión del COCODE."})
    phrase = suggest_codes({"S": "Vino el alcalde comunitario."})
    assert one["confidence"].iloc[0] == pytest.approx(0.35)
    assert two["confidence"].iloc[0] == pytest.approx(1 - 0.65 * 0.65)
    assert phrase["confidence"].iloc[0] == pytest.approx(0.6)
    # the same term twice counts once; a term inside a longer matched phrase does not count
    assert suggest_codes({"S": "Reunión y reunión."})["confidence"].iloc[0] == pytest.approx(0.35)
    nested = suggest_codes({"S": "Los agentes patrullan a pie."})
    assert nested["matched_terms"].iloc[0] == "patrulla a pie"
    assert (suggest_codes({"S": "reunión, COCODE"}, min_confidence=0.5)["confidence"] >= 0.5).all()
    assert suggest_codes({"S": "Hablamos de la reunión."}, min_confidence=0.5).empty


def test_project_input_uses_source_language_and_skips_consent_none(tiny_project):
    p = load_project(tiny_project)
    out = suggest_codes(p)
    consent = p.sources.set_index("source_id")["consent"]
    assert set(out["source_id"]) <= set(consent[consent != "none"].index)
    assert {"C1.patrol", "C1.obs_resources", "C2.meetings"} <= set(out["code"])
    for r in out.itertuples():
        assert 0 <= r.start < r.end <= len(p.text(r.source_id))
    with pytest.raises(CopevalError, match=r"language is taken from sources\.csv"):
        suggest_codes(p, language="en")


def test_unknown_language_warns_and_bad_input_errors():
    with pytest.warns(UserWarning, match="no lexicon terms for language"):
        out = suggest_codes({"K": "Xe'ok ri ajq'ij."}, language="quc")
    assert out.empty and list(out.columns) == list(SUGGESTION_COLUMNS)
    with pytest.raises(CopevalError, match="must be a Project"):
        suggest_codes(["not", "a", "mapping"])
    with pytest.raises(CopevalError, match="language has no entry for source 'B'"):
        suggest_codes({"A": "x", "B": "y"}, language={"A": "es"})


# --------------------------------------------------------------------------- evaluation
def test_evaluation_counts_by_the_overlap_rule():
    sug = pd.DataFrame(
        {
            "source_id": ["S", "S", "S", "T", "U"],
            "start": [0, 10, 30, 0, 0],
            "end": [10, 20, 40, 5, 5],
            "code": ["C1.patrol", "C2.meetings", "C1.sector", "C1.patrol", "C1.patrol"],
        }
    )
    seg = pd.DataFrame(
        {
            "source_id": ["S", "S", "S", "T"],
            "start": [5, 20, 50, 0],
            "end": [15, 25, 60, 5],
            "code": ["C1.sector", "C2.channels", "AT.trust", "C1.patrol"],
            "coder": ["H", "H", "H", AUTO_CODER_PREFIX + "ana"],
        }
    )
    crit = evaluate_suggestions(sug, seg).set_index("criterion")
    # C1: suggestion S[0,10) overlaps human C1 S[5,15); S[30,40) overlaps nothing;
    # the human T segment is auto-accepted (excluded), so source T is not evaluated and U
    # has no human coding at all. C2: S[10,20) touches S[20,25) only at the boundary.
    assert crit.loc[
        "C1", ["n_suggested", "n_human", "n_suggested_matched", "n_human_matched"]
    ].tolist() == [2, 1, 1, 1]
    assert crit.loc["C1", "precision"] == 0.5 and crit.loc["C1", "recall"] == 1.0
    assert crit.loc["C1", "f1"] == pytest.approx(2 / 3)
    assert crit.loc["C2", "precision"] == 0.0 and crit.loc["C2", "f1"] == 0.0
    assert np.isnan(crit.loc["AT", "precision"]) and crit.loc["AT", "recall"] == 0.0
    assert np.isnan(crit.loc["AT", "f1"])
    assert crit.loc["all", "n_suggested"] == 3 and crit.loc["all", "n_human"] == 3
    code = evaluate_suggestions(sug, seg, level="code").set_index("code")
    assert code.loc["C1.patrol", "precision"] == 0.0  # no human C1.patrol in source S
    with_auto = evaluate_suggestions(sug, seg, exclude_auto=False).set_index("criterion")
    assert with_auto.loc["C1", "n_human"] == 2 and with_auto.loc["C1", "n_suggested"] == 3
    with pytest.raises(CopevalError, match="level must be"):
        evaluate_suggestions(sug, seg, level="site")
    with pytest.raises(CopevalError, match="segments lacks column"):
        evaluate_suggestions(sug, seg.drop(columns="end"))


def fixture_project(tmp_path) -> Path:
    """The hand-labelled fixture (tests/data/coding) written as a project."""
    sources = pd.read_csv(FIXTURE / "sources.csv", dtype=str)
    texts = {
        s: (FIXTURE / "texts" / f"{s}.txt").read_text(encoding="utf-8")
        for s in sources["source_id"]
    }
    labels = pd.read_csv(FIXTURE / "labels.csv", dtype=str)
    starts = [
        texts[s].index(e) for s, e in zip(labels["source_id"], labels["excerpt"], strict=True)
    ]
    segments = pd.DataFrame(
        {
            "segment_id": [f"H{i + 1:02d}" for i in range(len(labels))],
            "source_id": labels["source_id"],
            "start": starts,
            "end": [a + len(e) for a, e in zip(starts, labels["excerpt"], strict=True)],
            "code": labels["code"],
            "valence": 1,
            "coder": "HL",
        }
    )
    sites = pd.DataFrame(
        {
            "site_id": ["VC", "TOT"],
            "name": ["Villa Canales", "Totonicapán"],
            "department": ["Guatemala", "Totonicapán"],
        }
    )
    return write_project(
        tmp_path / "coding",
        sites=sites,
        sources=sources,
        segments=segments,
        texts=texts,
        meta={"title": "Hand-labelled", "synthetic": True},
    )


def brute_force(sug, seg, key):
    def match(a, b):
        return (
            a.source_id == b.source_id and a.key == b.key and a.start < b.end and b.start < a.end
        )

    s = sug.assign(key=sug[key]).itertuples()
    h = list(seg.assign(key=seg[key]).itertuples())
    s = [x for x in s if x.source_id in {y.source_id for y in h}]
    return (
        sum(any(match(x, y) for y in h) for x in s),
        sum(any(match(x, y) for x in s) for y in h),
        len(s),
        len(h),
    )


def test_hand_labelled_fixture_precision_recall(tmp_path):
    p = load_project(fixture_project(tmp_path))
    sug = suggest_codes(p)
    crit = evaluate_suggestions(sug, p.segments).set_index("criterion")
    code = evaluate_suggestions(sug, p.segments, level="code").set_index("code")
    # the table agrees with a brute-force pairwise count
    for table, key in ((crit, "criterion"), (code, "code")):
        ns_m, nh_m, ns, nh = brute_force(sug, p.segments, key)
        assert table.loc[
            "all", ["n_suggested_matched", "n_human_matched", "n_suggested", "n_human"]
        ].tolist() == [ns_m, nh_m, ns, nh]
    # quality floor on text the lexicon was not written from (see tests/data/coding/README)
    assert crit.loc["all", "precision"] >= 0.7
    assert crit.loc["all", "recall"] >= 0.8
    assert (crit.loc[["C1", "C2", "C3", "C4", "AT"], "f1"] >= 0.6).all()
    assert code.loc["all", "f1"] >= 0.6
    # the sentence with no coding at all and no lexicon term gets no suggestion
    weather = p.text("ES1").index("El clima")
    assert not (
        (sug["source_id"] == "ES1") & (sug["start"] <= weather) & (sug["end"] > weather)
    ).any()


# --------------------------------------------------------------------------- the store
def test_store_accept_reject_never_rewrites_human_coding(tmp_path):
    root = fixture_project(tmp_path)
    seg_before = (root / "segments.csv").read_bytes()
    sug = suggest_codes(root)
    path = write_suggestions(root, sug)
    assert path == root / SUGGESTIONS_FILE
    assert (root / "segments.csv").read_bytes() == seg_before
    store = read_suggestions(root)
    assert (store["status"] == "pending").all() and len(store) == len(sug)

    with pytest.raises(CopevalError, match="say which suggestions"):
        accept_suggestions(root, user="ana")
    with pytest.raises(CopevalError, match="unknown suggestion id"):
        accept_suggestions(root, user="ana", ids=["nope"])
    with pytest.raises(CopevalError, match="user must be"):
        accept_suggestions(root, user=" ", codes="AT")

    added = accept_suggestions(root, user="ana", codes=["AT"])  # a criterion: all AT codes
    n_at = int((sug["criterion"] == "AT").sum())
    assert len(added) == n_at and added["segment_id"].is_unique
    after = (root / "segments.csv").read_bytes()
    assert after.startswith(seg_before)  # appended, never rewritten
    p = load_project(root)
    auto = p.segments[p.segments["coder"] == AUTO_CODER_PREFIX + "ana"]
    assert len(auto) == n_at and auto["valence"].isna().all()
    assert (p.segments["coder"] == "HL").sum() == len(pd.read_csv(FIXTURE / "labels.csv"))
    assert p.meta["primary_coder"] == "HL"

    rejected = reject_suggestions(root, user="ana", codes="C1.patrol")
    assert len(rejected) == int((sug["code"] == "C1.patrol").sum())
    # accepting again by code finds nothing pending: no duplicates
    assert accept_suggestions(root, user="ana", codes=["AT"]).empty
    with pytest.raises(CopevalError, match="already accepted"):
        reject_suggestions(root, user="bo", ids=added["suggestion_id"].iloc[0])

    # a re-run keeps decisions and does not resurrect rejected suggestions
    write_suggestions(root, suggest_codes(root))
    store = read_suggestions(root).set_index("suggestion_id")
    assert (store.loc[added["suggestion_id"], "status"] == "accepted").all()
    assert (
        store.loc[added["suggestion_id"], "segment_id"] == added["segment_id"].to_numpy()
    ).all()
    assert (store.loc[rejected["suggestion_id"], "status"] == "rejected").all()
    assert len(store) == len(sug)

    # naming a rejected suggestion by id accepts it (a change of mind)
    again = accept_suggestions(root, user="bo", ids=[rejected["suggestion_id"].iloc[0]])
    assert again["coder"].tolist() == [AUTO_CODER_PREFIX + "bo"]
    review = review_suggestions(root, status="accepted")
    assert len(review) == n_at + 1
    for r in review.itertuples():
        assert r.excerpt and r.excerpt.replace("…", "") in load_project(root).text(
            r.source_id
        ).replace("\n", " ")


def test_accept_rolls_back_when_a_suggestion_is_stale(tmp_path):
    root = fixture_project(tmp_path)
    write_suggestions(root, suggest_codes(root))
    before = (root / "segments.csv").read_bytes()
    # simulate a suggestion made on an older, longer version of a text
    store = pd.read_csv(root / SUGGESTIONS_FILE, dtype=str, keep_default_na=False)
    stale = store["suggestion_id"].iloc[0]
    store.loc[0, "end"] = "100000"
    store.to_csv(root / SUGGESTIONS_FILE, index=False)
    with pytest.raises(CopevalError, match=r"segments\.csv left as it was"):
        accept_suggestions(root, user="ana", ids=[stale])
    assert (root / "segments.csv").read_bytes() == before
    assert read_suggestions(root).set_index("suggestion_id").loc[stale, "status"] == "pending"


# --------------------------------------------------------------------------- CLI
def test_cli_autocode_evaluate_and_bulk_decisions(tmp_path, capsys):
    from copeval.cli import main

    root = fixture_project(tmp_path)
    before = (root / "segments.csv").read_bytes()
    assert main(["autocode", str(root), "--evaluate"]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "recall" in out and "f1" in out
    assert "C4" in out and "all" in out
    assert (root / SUGGESTIONS_FILE).is_file()
    assert (root / "segments.csv").read_bytes() == before

    alt = tmp_path / "alt.csv"
    assert main(["autocode", str(root), "--unit", "paragraph", "--out", str(alt)]) == 0
    assert set(pd.read_csv(alt).columns) == set(SUGGESTION_COLUMNS)

    assert main(["autocode", str(root), "--out", str(root / "segments.csv")]) == 1
    assert "never go there" in capsys.readouterr().err
    assert (root / "segments.csv").read_bytes() == before

    assert main(["autocode", str(root), "--accept", "C4.obs_equipment"]) == 1
    assert "--user" in capsys.readouterr().err
    assert main(["autocode", str(root), "--accept", "C4.obs_equipment", "--user", "ana"]) == 0
    assert "accepted 2 suggestion(s)" in capsys.readouterr().out
    assert main(["autocode", str(root), "--reject", "C1", "--user", "ana"]) == 0
    assert "rejected" in capsys.readouterr().out


@pytest.mark.parametrize(("lang", "module"), [("es", "spanish"), ("en", "english")])
def test_stem_prefilter_never_hides_a_lexicon_form(lang, module):
    """Only tokens that could match are stemmed: check against every Snowball ending."""
    import re

    import snowballstemmer

    from copeval import coding

    source = Path(snowballstemmer.__file__).with_name(f"{module}_stemmer.py")
    endings = sorted(set(re.findall(r'Among\(u?"([^"]*)"', source.read_text("utf-8"))) - {""})
    assert len(endings) > 100
    cb = load_codebook()
    lex = load_lexicon()
    base = sorted(
        set(coding._TOKEN.findall(coding._lower(" ".join(lex.loc[lex["lang"] == lang, "term"]))))
    )
    text = " ".join(
        cb.table[[f"{c}_{lang}" for c in ("definition", "include", "exclude", "example")]]
        .to_numpy()
        .ravel()
    )
    words = set(coding._TOKEN.findall(coding._lower(text))) | set(base)
    roots = sorted(set(base[::7]) | {coding._true_stem(w, lang) for w in base[::7]})
    words |= {r + e for r in roots for e in endings}
    m = coding._compile(lex, lang, {c: i for i, c in enumerate(cb.codes)})
    forms = {w for key, _ in m.automaton.items() for w in key.split()}
    filtered = coding._Stems(lang, forms)
    checked = 0
    for w in words:
        plain = coding._strip_accents(w)
        full = plain if len(plain) <= coding._SHORT_WORD else coding._true_stem(w, lang)
        if full in forms and len(full) >= coding._SHORT_WORD:
            checked += 1
            assert filtered[w] == full, w
        elif len(full) >= coding._SHORT_WORD:
            assert filtered[w] not in forms, w
    assert checked > 500


def _reference_units(text, unit):
    """The unit definition written as a regular expression and a loop (slow, obvious)."""
    from copeval.coding import _UNIT_BREAKS

    cuts = [m.end() for m in _UNIT_BREAKS[unit].finditer(text)]
    out, prev = [], 0
    for cut in [*cuts, len(text)]:
        piece = text[prev:cut]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append((prev + lead, prev + lead + len(piece.strip())))
        prev = cut
    return out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?…\"'”»)]\n\r\t\u00a0¿é")), max_size=60))
def test_vectorised_units_match_the_regular_expression(text):
    for unit in ("sentence", "paragraph"):
        got = split_units(text, unit=unit)
        assert list(zip(got["start"], got["end"], strict=True)) == _reference_units(text, unit)
