"""Report strings: both languages everywhere, same placeholders, correct formatting."""

from __future__ import annotations

import pytest

from copeval.errors import CopevalError
from copeval.report.i18n import (
    STRINGS,
    criterion_label,
    fmt_count,
    fmt_interval,
    fmt_num,
    fmt_period,
    fmt_prob,
    join_list,
    placeholders,
    t,
    tn,
)

#: Strings that are legitimately identical in both languages.
SAME_IN_BOTH = {
    "col.n",
    "quote.attribution",
    "quote.attribution_nodate",
    "rec.criterion",
    "rob.sensitivity_change_item",
    "cmp.pair",
}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_string_has_both_languages_and_the_same_placeholders(key):
    entry = STRINGS[key]
    assert set(entry) == {"es", "en"}
    assert entry["es"].strip() and entry["en"].strip()
    assert placeholders(entry["es"]) == placeholders(entry["en"])
    # plural forms: the same number of forms in both languages
    assert entry["es"].count("|") == entry["en"].count("|")


def test_spanish_strings_are_translated():
    untranslated = [k for k, v in STRINGS.items() if v["es"] == v["en"] and k not in SAME_IN_BOTH]
    assert untranslated == []


def test_t_formats_and_rejects_unknown_keys_and_languages():
    assert t("doc.title", "es", site="Totonicapán") == (
        "Totonicapán: evaluación de la policía comunitaria"
    )
    with pytest.raises(CopevalError, match="No report string named 'nope'"):
        t("nope", "en")
    with pytest.raises(CopevalError, match=r"Unknown report language 'fr'\. Available"):
        t("doc.title", "fr", site="x")


def test_plural_forms():
    assert tn("sources.interview", 1, "es") == "1 entrevista"
    assert tn("sources.interview", 11, "es") == "11 entrevistas"
    assert tn("sources.focus_group", 2, "en") == "2 focus groups"
    assert tn("sources.survey", 1, "en", instrument="police") == "survey (police): 1 respondent"


def test_number_and_interval_formatting():
    assert fmt_num(2.449, "es") == "2.4"
    assert fmt_num(float("nan"), "es") == "n. d."
    assert fmt_num(None, "en") == "n/a"
    assert fmt_interval(1.94, 2.36, "en") == "1.9–2.4"
    assert fmt_interval(1.0, None, "en") == "n/a"
    assert fmt_count(841314, "en") == "841,314"
    assert fmt_count(841314, "es") == "841\u202f314"
    assert fmt_prob(0.999, "en") == "> 0.99"
    assert fmt_prob(0.001, "en") == "< 0.01"
    assert fmt_prob(0.8765, "en") == "0.88"


def test_period_and_lists():
    assert fmt_period("2017-02/2018-05", "es") == "febrero de 2017 – mayo de 2018"
    assert fmt_period("2017-02/2018-05", "en") == "February 2017 – May 2018"
    assert fmt_period("2018-05-03", "es") == "3 de mayo de 2018"
    assert fmt_period("dry season 2019", "en") == "dry season 2019"
    assert fmt_period(None, "es") == "n. d."
    assert join_list(["C1", "C2", "C3"], "es") == "C1, C2 y C3"
    assert join_list(["C1", "C2"], "en") == "C1 and C2"
    assert join_list([], "en") == "none"


def test_criterion_labels_with_accents():
    assert criterion_label("C1", "es") == "C1 Enfoque en áreas pequeñas"
    assert criterion_label("AT", "en", code=False) == "Accountability and trust"
