"""Offset conventions: conversion (hand-computed values and a round-trip property) and
detection from the evidence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copeval.interop.offsets import (
    CONVENTIONS,
    detect_convention,
    from_codepoints,
    hint_from_origin,
    is_mid_word,
    to_codepoints,
)


def test_utf16_counts_astral_characters_twice():
    text = "a😀b"  # code points: a=0, 😀=1, b=2; UTF-16 units: a=0, 😀=1-2, b=3
    assert to_codepoints(text, [0, 1, 3, 4], "utf16").tolist() == [0, 1, 2, 3]
    assert to_codepoints(text, [2], "utf16").tolist() == [-1]  # between surrogate halves
    assert from_codepoints(text, [0, 1, 2, 3], "utf16").tolist() == [0, 1, 3, 4]


def test_crlf1_counts_a_crlf_once_and_never_splits_it():
    text = "ab\r\ncd"  # code points 0..6; crlf1 units: a0 b1 [CRLF]2 c3 d4 end5
    assert to_codepoints(text, [0, 2, 3, 5], "crlf1").tolist() == [0, 2, 4, 6]
    assert from_codepoints(text, [0, 2, 4, 6], "crlf1").tolist() == [0, 2, 3, 5]
    # a code point position between CR and LF has no crlf1 offset of its own
    assert from_codepoints(text, [3], "crlf1").tolist() == [3]


def test_utf8_counts_bytes():
    text = "aéb€c"  # bytes: a1 é2 b1 €3 c1
    assert to_codepoints(text, [0, 1, 3, 4, 7, 8], "utf8").tolist() == [0, 1, 2, 3, 4, 5]
    assert to_codepoints(text, [2, 5, 6], "utf8").tolist() == [-1, -1, -1]


def test_out_of_range_and_negative_offsets_are_impossible():
    for conv in CONVENTIONS:
        assert to_codepoints("abc", [-1, 4], conv).tolist() == [-1, -1]
    with pytest.raises(ValueError, match=r"offsets must lie in 0\.\.3"):
        from_codepoints("abc", [4], "utf16")
    with pytest.raises(ValueError, match="convention must be one of"):
        to_codepoints("abc", [0], "latin1")


_chars = st.sampled_from([*"ab é\r\n😀👮€ñ\t.", "\r\n"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_chars, max_size=40).map("".join), st.data())
def test_round_trip_property(text, data):
    positions = data.draw(st.lists(st.integers(0, len(text)), max_size=10))
    for conv in CONVENTIONS:
        units = from_codepoints(text, positions, conv)
        back = to_codepoints(text, units, conv)
        for p, b in zip(positions, back, strict=True):
            if conv == "crlf1" and 0 < p < len(text) and text[p - 1] == "\r" and text[p] == "\n":
                assert b == p + 1  # the middle of a CRLF maps past it
            else:
                assert b == p


def test_is_mid_word():
    text = "el comité, hoy"
    assert is_mid_word(text, 5)  # com|ité
    assert not is_mid_word(text, 3)  # |comité
    assert not is_mid_word(text, 9)  # comité|,
    assert not is_mid_word(text, 0) and not is_mid_word(text, len(text))


def _sel(text, phrase, conv):
    i = text.index(phrase)
    s, e = from_codepoints(text, [i, i + len(phrase)], conv).tolist()
    return s, e


def test_detects_utf16_from_emoji():
    text = "Hola 😀 amigos 👮 de la comunidad 🙂 y los agentes del sector."
    phrases = ["amigos", "de la comunidad", "los agentes", "del sector"]
    sels = [("t", *_sel(text, p, "utf16")) for p in phrases]
    choice = detect_convention({"t": text}, sels)
    assert (choice.convention, choice.reason) == ("utf16", "evidence")
    scores = choice.scores.set_index("convention")
    assert scores.loc["utf16", "mid_word"] == 0
    assert scores.loc["codepoints", "mid_word"] > 0


def test_detects_crlf1_and_utf8():
    text = "Primera línea.\r\nSegunda línea con datos.\r\nTercera línea: patrullas.\r\n"
    phrases = ["Segunda línea", "datos", "Tercera", "patrullas"]
    for conv in ("crlf1", "utf8"):
        sels = [("t", *_sel(text, p, conv)) for p in phrases]
        assert detect_convention({"t": text}, sels).convention == conv


def test_indistinguishable_and_forced_and_hint():
    text = "plain ascii text without line breaks"
    sels = [("t", 6, 11)]
    choice = detect_convention({"t": text}, sels, hint="utf16")
    assert (choice.convention, choice.reason) == ("codepoints", "indistinguishable")
    forced = detect_convention({"t": text}, sels, force="utf8")
    assert (forced.convention, forced.reason) == ("utf8", "forced")
    # a tie between conventions that disagree goes to the tool's known convention
    text2 = "x😀 y z"
    tie = detect_convention({"t": text2}, [("t", 4, 5)], hint="utf16")
    assert tie.convention == "utf16" and tie.reason == "tie, tool hint"
    assert detect_convention({"t": text2}, [("t", 4, 5)]).reason == "tie, standard"


def test_hint_from_origin():
    assert hint_from_origin("NVivo 14.23.0 (Windows)") == "utf16"
    assert hint_from_origin("ATLAS.ti 8.4.0 573") == "crlf1"
    assert hint_from_origin("Taguette 1.4.1") == "utf8"
    assert hint_from_origin("copeval 0.1.0") == "codepoints"
    assert hint_from_origin("qc 1.3.2") is None
    assert hint_from_origin(None) is None


def test_selections_of_unknown_sources_are_ignored():
    choice = detect_convention({"t": "abc"}, [("missing", 0, 10)])
    assert int(choice.scores["boundaries"].sum()) == 0
    assert choice.reason == "indistinguishable"
