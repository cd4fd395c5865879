"""Auto-coding suggestions: a bilingual lexicon proposes codes, a researcher decides.

Coding hundreds of transcripts by hand is the slowest part of an evaluation. This module
reads the lexicon shipped with the codebook (``copeval/data/lexicon.csv``: ``code``, ``lang``,
``term``), finds its terms in the sources and proposes coded segments (a sentence or a
paragraph) with a criterion and a confidence. Suggestions are **never** written to
``segments.csv``: they live in ``suggestions.csv`` in the project folder, and only
:func:`accept_suggestions` turns the ones a researcher accepts into segments, appended with the
coder ``auto-accepted:<user>`` and no valence (valence is a human judgement; the project warns
about segments without one until they are rated). See ``docs/coding.md``.

Matching is accent- and case-insensitive and works on word stems (Snowball stemmers for
Spanish and English), so ``reunión``, ``reunion`` and ``reuniones`` are one term; multi-word
phrases match whole words in order. All terms of a language are compiled into one
Aho–Corasick automaton and the text is scanned once, which keeps the cost linear in the text
length whatever the size of the lexicon (``bench/bench_autocode.py``).

Negation is handled cheaply: a term preceded, within three words of the same unit, by a
negation word (``no``, ``nunca``, ``sin``, ``not``, ``never``, ``n't`` ...) is flagged, and a
suggestion whose every match is negated has ``negated=True`` — a hint that the evidence is
likely *negative* (absence of the practice). The code is still suggested, because evidence of
absence is evidence about the criterion.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import os
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import atomic_write_bytes, atomic_write_csv
from .codebook import Codebook, load_codebook
from .errors import CopevalError, MissingDependencyError
from .vocabulary import CRITERIA

__all__ = [
    "AUTO_CODER_PREFIX",
    "SUGGESTIONS_FILE",
    "SUGGESTION_COLUMNS",
    "UNITS",
    "accept_suggestions",
    "evaluate_suggestions",
    "load_lexicon",
    "read_suggestions",
    "reject_suggestions",
    "review_suggestions",
    "split_units",
    "suggest_codes",
    "write_suggestions",
]

#: Columns of :func:`suggest_codes`' result.
SUGGESTION_COLUMNS = (
    "suggestion_id",
    "source_id",
    "start",
    "end",
    "code",
    "criterion",
    "confidence",
    "matched_terms",
    "negated",
)
#: Extra columns kept in ``suggestions.csv``: the researcher's decision.
DECISION_COLUMNS = ("status", "decided_by", "segment_id")
STATUSES = ("pending", "accepted", "rejected")
#: File name of the suggestion store in a project folder (never ``segments.csv``).
SUGGESTIONS_FILE = "suggestions.csv"
#: Accepted suggestions become segments with coder ``auto-accepted:<user>``.
AUTO_CODER_PREFIX = "auto-accepted:"
#: Units a suggestion can cover.
UNITS = ("sentence", "paragraph")
LEXICON_COLUMNS = ("code", "lang", "term")

_STEMMER_NAMES = {"es": "spanish", "en": "english"}
#: Words that negate what follows (compared after stemming and accent removal).
#: English "n't" splits into a token "t" ("don't" -> "don", "t").
_NEGATION_CUES = {
    "es": (
        "no",
        "nunca",
        "jamás",
        "ni",
        "sin",
        "tampoco",
        "nadie",
        "nada",
        "ningún",
        "ninguna",
        "ninguno",
    ),
    "en": (
        "no",
        "not",
        "never",
        "without",
        "nor",
        "nobody",
        "nothing",
        "none",
        "neither",
        "cannot",
        "t",
    ),
}
_NEGATION_WINDOW = 3
#: Weight of one matched term by its number of words: longer phrases are more specific.
_TERM_WEIGHTS = {1: 0.35, 2: 0.6}
_TERM_WEIGHT_LONG = 0.75

_TOKEN = re.compile(r"[^\W_]+")
_TOKEN_WITH_MARKS = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_UNIT_BREAKS = {
    # a sentence ends at . ! ? … (with closing quotes/brackets) followed by white space, or at
    # a line break; abbreviations such as "Sr." therefore split a sentence (documented limit).
    "sentence": re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|\r\n|\r|\n"),
    # a paragraph is the text between line breaks (one speaker turn in most transcripts).
    "paragraph": re.compile(r"\r\n|\r|\n"),
}


# --------------------------------------------------------------------------- dependencies
def _ahocorasick():
    try:
        import ahocorasick
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingDependencyError("pyahocorasick", "autocode", "Auto-coding") from None
    return ahocorasick


def _snowball():
    try:
        import snowballstemmer
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingDependencyError("snowballstemmer", "autocode", "Auto-coding") from None
    return snowballstemmer


# --------------------------------------------------------------------------- normalisation
def _strip_accents(s: str) -> str:
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def _lower(text: str) -> str:
    """Lower-case ``text`` keeping its length, so offsets stay valid."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@functools.lru_cache(maxsize=8)
def _stemmer(lang: str):
    return _snowball().stemmer(_STEMMER_NAMES[lang]).stemWord


@functools.lru_cache(maxsize=65536)
def _true_stem(word: str, lang: str) -> str:
    """Accent-free Snowball stem of a lower-case word."""
    return _strip_accents(_stemmer(lang)(unicodedata.normalize("NFC", word)))


#: Words of at most this many letters are matched as written (accents removed), not
#: stemmed: function words in phrases ("a pie", "libro de novedades") do not inflect.
_SHORT_WORD = 3
#: Porter2's irregular forms, whose stem is not a near-prefix of the word ("dying" -> "die").
_EN_IRREGULAR = frozenset(
    [
        "skis",
        "skies",
        "dying",
        "lying",
        "tying",
        "idly",
        "gently",
        "ugly",
        "early",
        "only",
        "singly",
    ]
)


def _word_forms(word: str, lang: str) -> set[str]:
    """Forms a lexicon word may take in a text: its stem spelt with or without accents."""
    plain = _strip_accents(word)
    if len(plain) <= _SHORT_WORD:
        return {plain}
    return {_true_stem(word, lang), _true_stem(plain, lang)}


class _Stems(dict):
    """Token -> match form (accent-free stem), computed once per distinct token.

    Snowball's pure-Python stemmers cost ~0.2 ms a word, so a token is stemmed only when its
    stem *could* be a lexicon form. Snowball stemmers remove endings and at most rewrite the
    last letter of what remains ("emergencia" -> "emergent", "happily" -> "happili"), so a
    token can stem to ``s`` only if the accent-free token starts with ``s`` less its last
    letter (the few English irregulars are always stemmed). Other tokens keep themselves as
    their form: it can never equal a lexicon form, so matching gives the same result as
    stemming every token (``tests/test_coding.py`` checks this on every Snowball ending).
    Words of up to ``_SHORT_WORD`` letters are not stemmed at all, in text and lexicon alike.
    """

    def __init__(self, lang: str, forms: Iterable[str]):
        super().__init__()
        self.lang = lang
        self._prefixes = frozenset(f[:-1] for f in forms if len(f) >= _SHORT_WORD)
        self._lengths = tuple(sorted({len(x) for x in self._prefixes}))
        self._always = _EN_IRREGULAR if lang == "en" else frozenset()

    def __missing__(self, token: str) -> str:
        plain = _strip_accents(token)
        if len(plain) <= _SHORT_WORD:
            form = plain
        elif plain in self._always or any(
            plain[:n] in self._prefixes for n in self._lengths if n <= len(plain)
        ):
            form = _true_stem(token, self.lang)
        else:
            form = token
        self[token] = form
        return form


_STEM_CACHES: dict[tuple, _Stems] = {}


def _stems_for(lang: str, stems: Iterable[str]) -> _Stems:
    stems = frozenset(stems)
    key = (lang, stems)
    cache = _STEM_CACHES.get(key)
    if cache is None or len(cache) > 2_000_000:
        if len(_STEM_CACHES) > 16:
            _STEM_CACHES.clear()
        cache = _STEM_CACHES[key] = _Stems(lang, stems)
    return cache


@functools.lru_cache(maxsize=1)
def _alnum_table() -> np.ndarray:
    """Basic Multilingual Plane code point -> is it a word character of ``_TOKEN``."""
    return np.array([chr(c).isalnum() for c in range(0x10000)], dtype=bool)


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _tokenize(low: str, cps: np.ndarray | None = None):
    """Word tokens of a lower-cased text with their ``[start, end)`` offsets (code points)."""
    marks = _COMBINING.search(low) is not None
    pattern = _TOKEN_WITH_MARKS if marks else _TOKEN
    tokens = pattern.findall(low)
    cps = _codepoints(low) if cps is None else cps
    # vectorised: a token starts at a word character after a non-word character
    word = _alnum_table()[np.minimum(cps, 0xFFFF)]
    astral = np.flatnonzero(cps > 0xFFFF)
    if len(astral):
        word[astral] = [chr(c).isalnum() for c in cps[astral].tolist()]
    if marks:
        word |= (cps >= 0x300) & (cps <= 0x36F)
    edge = np.diff(np.r_[False, word, False].astype(np.int8))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    if len(starts) != len(tokens):  # pragma: no cover - defensive: fall back to the regex
        spans = [m.span() for m in pattern.finditer(low)]
        starts = np.array([a for a, _ in spans], dtype=np.int64)
        ends = np.array([b for _, b in spans], dtype=np.int64)
    return tokens, starts.astype(np.int64), ends.astype(np.int64)


# --------------------------------------------------------------------------- lexicon
def load_lexicon(
    path: str | Path | pd.DataFrame | None = None, *, codebook: Codebook | None = None
) -> pd.DataFrame:
    """Load and validate an auto-coding lexicon (default: the one shipped with copeval).

    Parameters
    ----------
    path : path, DataFrame or None
        A CSV file with columns ``code``, ``lang``, ``term`` (UTF-8), or such a DataFrame.
        ``None`` loads ``copeval/data/lexicon.csv``.
    codebook : Codebook, optional
        Codes are checked against it (default: the packaged codebook).

    Returns
    -------
    DataFrame
        ``code``, ``lang``, ``term``, one row per distinct (code, lang, term), stripped.

    Raises
    ------
    CopevalError
        When a column is missing, a code is not in the codebook, a language has no stemmer
        (``es``, ``en``) or a term is empty. All problems are listed, with CSV row numbers.
    """
    codebook = codebook or load_codebook()
    if isinstance(path, pd.DataFrame):
        table, name = path.copy(), "lexicon"
    else:
        if path is None:
            raw = resources.files("copeval").joinpath("data/lexicon.csv").read_bytes()
            name = "copeval/data/lexicon.csv"
        else:
            raw, name = Path(path).read_bytes(), str(path)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CopevalError(f"{name} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
        rows = [r for r in csv.reader(io.StringIO(text)) if r]
        if not rows:
            raise CopevalError(f"{name} is empty")
        for i, r in enumerate(rows[1:], start=2):
            if len(r) != len(rows[0]):
                raise CopevalError(
                    f"{name} is not a valid CSV file: row {i} has {len(r)} fields, the header "
                    f"{len(rows[0])} (quote terms that contain commas)"
                )
        table = pd.DataFrame(rows[1:], columns=[h.strip() for h in rows[0]], dtype=str)
    missing = [c for c in LEXICON_COLUMNS if c not in table.columns]
    if missing:
        raise CopevalError(
            f"{name} is missing column(s) {', '.join(missing)}. "
            f"Available columns: {', '.join(map(str, table.columns))}"
        )
    table = table[list(LEXICON_COLUMNS)].astype(str).apply(lambda s: s.str.strip())
    problems = []
    for i, row in enumerate(table.itertuples(index=False), start=2):
        if row.code not in codebook:
            problems.append(f"row {i}, column 'code': {row.code!r} is not a code of the codebook")
        if row.lang not in _STEMMER_NAMES:
            problems.append(
                f"row {i}, column 'lang': {row.lang!r} is not one of {', '.join(_STEMMER_NAMES)}"
            )
        if not _TOKEN.search(row.term.lower()):
            problems.append(f"row {i}, column 'term': empty or without any word")
    if problems:
        raise CopevalError(f"{name} is invalid:\n  - " + "\n  - ".join(problems))
    table["_key"] = table["term"].str.lower()
    table = table.drop_duplicates(["code", "lang", "_key"]).drop(columns="_key")
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class _Matcher:
    """The compiled lexicon of one language."""

    lang: str
    automaton: object  # key " stem1 stem2 " -> key index
    stems: _Stems
    term_code: np.ndarray  # term index -> code index (into the codebook's codes)
    term_text: np.ndarray  # term index -> the term as written in the lexicon
    term_weight: np.ndarray
    term_has_cue: np.ndarray  # the term contains a negation word itself ("no hay internet")
    key_terms: list  # key index -> array of term indices (empty for a negation cue only)
    key_nterms: np.ndarray  # key index -> number of terms
    key_offset: np.ndarray  # key index -> offset of its terms in term_flat
    term_flat: np.ndarray  # the key_terms arrays, concatenated
    key_ntok: np.ndarray
    key_len: np.ndarray
    key_is_cue: np.ndarray  # the key is a negation word


def _compile(lexicon: pd.DataFrame, lang: str, code_index: Mapping[str, int]) -> _Matcher | None:
    rows = lexicon[lexicon["lang"] == lang]
    if rows.empty:
        return None
    keys: dict[str, list[int]] = {}
    codes, texts, weights, has_cue = [], [], [], []
    cue_stems = {f for c in _NEGATION_CUES[lang] for f in _word_forms(_lower(c), lang)}
    for t, (code, term) in enumerate(zip(rows["code"], rows["term"], strict=True)):
        words = _TOKEN.findall(_lower(term))
        codes.append(code_index[code])
        texts.append(term)
        weights.append(_TERM_WEIGHTS.get(len(words), _TERM_WEIGHT_LONG))
        has_cue.append(any(_word_forms(w, lang) & cue_stems for w in words))
        variants = [""]
        for w in words:
            variants = [f"{v} {s}" for v in variants for s in sorted(_word_forms(w, lang))]
        for v in variants:
            keys.setdefault(v + " ", []).append(t)
    for cue in cue_stems:
        keys.setdefault(f" {cue} ", [])
    ac = _ahocorasick().Automaton()
    key_terms, key_ntok, key_len, key_is_cue = [], [], [], []
    for i, (key, terms) in enumerate(keys.items()):
        ac.add_word(key, i)
        key_terms.append(np.array(sorted(set(terms)), dtype=np.int64))
        key_ntok.append(key.count(" ") - 1)
        key_len.append(len(key))
        key_is_cue.append(key[1:-1] in cue_stems)
    ac.make_automaton()
    all_stems = {w for key in keys for w in key.split()}
    return _Matcher(
        lang=lang,
        automaton=ac,
        stems=_stems_for(lang, all_stems),
        term_code=np.array(codes, dtype=np.int64),
        term_text=np.array(texts, dtype=object),
        term_weight=np.array(weights, dtype=float),
        term_has_cue=np.array(has_cue, dtype=bool),
        key_terms=key_terms,
        key_nterms=np.array([len(k) for k in key_terms], dtype=np.int64),
        key_offset=np.concatenate([[0], np.cumsum([len(k) for k in key_terms])[:-1]]).astype(
            np.int64
        ),
        term_flat=np.concatenate(key_terms).astype(np.int64),
        key_ntok=np.array(key_ntok, dtype=np.int64),
        key_len=np.array(key_len, dtype=np.int64),
        key_is_cue=np.array(key_is_cue, dtype=bool),
    )


# --------------------------------------------------------------------------- units
def split_units(text: str, *, unit: str = "sentence") -> pd.DataFrame:
    """Split a text into sentences or paragraphs, as auto-coding does.

    A *sentence* ends at ``.``, ``!``, ``?`` or ``…`` (optionally followed by closing quotes or
    brackets) followed by white space, or at a line break. A *paragraph* is the text between
    line breaks (in most transcripts, one speaker turn). Leading and trailing white space is
    left out; empty units are dropped.

    Returns
    -------
    DataFrame
        ``start``, ``end``: ``[start, end)`` code-point offsets into ``text``.
    """
    starts, ends = _unit_bounds(text, _check_unit(unit))
    return pd.DataFrame({"start": starts, "end": ends})


def _check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise CopevalError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    return unit


@functools.lru_cache(maxsize=1)
def _char_classes() -> np.ndarray:
    """BMP code point -> bit flags: 1 white space, 2 sentence end, 4 closing quote/bracket."""
    table = np.array([chr(c).isspace() for c in range(0x10000)], dtype=np.uint8)
    for c in ".!?…":
        table[ord(c)] |= 2
    for c in "\"'”’»)]":
        table[ord(c)] |= 4
    return table


def _unit_bounds(
    text: str, unit: str, cps: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``[start, end)`` of each unit, vectorised; the same cuts as ``_UNIT_BREAKS[unit]``."""
    cps = _codepoints(text) if cps is None else cps
    n = len(cps)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    flags = _char_classes()[np.minimum(cps, 0xFFFF)]
    space = (flags & 1).astype(bool)
    cut = np.zeros(n + 1, dtype=bool)  # cut[i]: a unit ends just before position i
    cut[1:] |= cps == 10
    cut[1:] |= (cps == 13) & np.r_[cps[1:] != 10, True]
    if unit == "sentence":
        punct = (flags & 2).astype(bool)
        close = (flags & 4).astype(bool)
        last_open = np.maximum.accumulate(np.where(close, -1, np.arange(n)))
        run_end = punct | (close & (last_open >= 0) & punct[np.maximum(last_open, 0)])
        cut[1:] |= run_end & np.r_[space[1:], False]
    bounds = np.r_[0, np.flatnonzero(cut[1:n]) + 1, n]
    visible = np.flatnonzero(~space)
    first = np.searchsorted(visible, bounds[:-1])
    after = np.searchsorted(visible, bounds[1:])
    keep = first < after
    return (
        visible[first[keep]].astype(np.int64),
        (visible[after[keep] - 1] + 1).astype(np.int64),
    )


# --------------------------------------------------------------------------- matching
def _match_text(text: str, m: _Matcher, unit: str) -> dict[str, np.ndarray] | None:
    """All term hits of one text, with the unit each falls in. None when there are none."""
    low = _lower(text)
    cps = _codepoints(low)
    tokens, starts, tok_ends = _tokenize(low, cps)
    if not tokens:
        return None
    stems = list(map(m.stems.__getitem__, tokens))
    slen = np.fromiter(map(len, stems), np.int64, len(stems))
    spos = np.empty(len(stems), dtype=np.int64)  # position of each stem in `joined`
    spos[0] = 1
    np.cumsum(slen[:-1] + 1, out=spos[1:])
    spos[1:] += 1
    joined = " " + " ".join(stems) + " "
    hits = list(m.automaton.iter(joined))
    if not hits:
        return None
    hit_end = np.fromiter((h[0] for h in hits), np.int64, len(hits))
    hit_key = np.fromiter((h[1] for h in hits), np.int64, len(hits))

    is_cue = m.key_is_cue[hit_key]
    # negation cues are single tokens: the last character of the stem is just before the
    # key's trailing space
    cue_tok = np.searchsorted(spos, hit_end[is_cue] - 1, side="right") - 1
    cue_flag = np.zeros(len(tokens) + 1, dtype=np.int64)
    cue_flag[cue_tok + 1] = 1
    cue_cum = np.cumsum(cue_flag)  # cue_cum[k] = cues among tokens [0, k)

    is_term = m.key_nterms[hit_key] > 0
    hit_end, hit_key = hit_end[is_term], hit_key[is_term]
    if not len(hit_key):
        return None
    first = np.searchsorted(spos, hit_end - m.key_len[hit_key] + 2)
    last = first + m.key_ntok[hit_key] - 1
    cstart = starts[first]
    cend = tok_ends[last]

    ustart, uend = _unit_bounds(text, unit, cps)
    u = np.searchsorted(ustart, cstart, side="right") - 1
    ok = (u >= 0) & (cend <= uend[np.maximum(u, 0)])  # a phrase may not straddle two units
    first, last, hit_key, u = first[ok], last[ok], hit_key[ok], u[ok]
    if not len(u):
        return None
    # negation: a cue among the _NEGATION_WINDOW tokens before the hit, inside the same unit
    unit_first_tok = np.searchsorted(starts, ustart[u])
    lo = np.maximum(first - _NEGATION_WINDOW, unit_first_tok)
    negated = (cue_cum[first] - cue_cum[np.minimum(lo, first)]) > 0

    # one row per (hit, term): a key can stand for several terms/codes
    n_terms = m.key_nterms[hit_key]
    rep = np.repeat(np.arange(len(hit_key)), n_terms)
    within = np.arange(len(rep)) - np.repeat(np.cumsum(n_terms) - n_terms, n_terms)
    term = m.term_flat[m.key_offset[hit_key][rep] + within]
    return {
        "unit_start": ustart[u][rep],
        "unit_end": uend[u][rep],
        "first": first[rep],
        "last": last[rep],
        "term": term,
        "negated": negated[rep] & ~m.term_has_cue[term],
    }


def _sources_of(data, language) -> tuple[list[tuple[str, str, str]], Codebook | None]:
    """(source_id, text, lang) triples and the project's codebook, from any accepted input."""
    from .project import Project, load_project

    if isinstance(data, str | os.PathLike):
        data = load_project(data)
    if isinstance(data, Project):
        if language is not None:
            raise CopevalError(
                "language is taken from sources.csv when suggesting codes for a project; "
                "do not pass language="
            )
        src = data.sources[data.sources["consent"] != "none"]
        triples = [
            (sid, data.text(sid), lang)
            for sid, lang in zip(src["source_id"], src["language"], strict=True)
        ]
        return triples, data.codebook
    if isinstance(data, Mapping):
        if language is None:
            language = "es"
        triples = []
        for sid, text in data.items():
            lang = language if isinstance(language, str) else language.get(sid)
            if lang is None:
                raise CopevalError(f"language has no entry for source {sid!r}")
            if not isinstance(text, str):
                raise CopevalError(
                    f"the text of source {sid!r} must be a str, got {type(text).__name__}"
                )
            triples.append((str(sid), text, lang))
        return triples, None
    raise CopevalError(
        "data must be a Project, a project folder path or a mapping of source_id to text; "
        f"got {type(data).__name__}"
    )


def suggest_codes(
    data,
    *,
    unit: str = "sentence",
    language: str | Mapping[str, str] | None = None,
    lexicon: pd.DataFrame | str | Path | None = None,
    codebook: Codebook | None = None,
    min_confidence: float = 0.0,
    progress: bool = False,
) -> pd.DataFrame:
    """Propose coded segments from the lexicon: one per unit of text and code.

    Parameters
    ----------
    data : Project, path or mapping
        A loaded project (or its folder): every source whose consent is not ``none`` is
        read, in its own language (``sources.language``). Or a mapping ``source_id -> text``.
    unit : {"sentence", "paragraph"}
        What a suggested segment covers (see :func:`split_units`).
    language : str or mapping, optional
        Only for a mapping of texts: one language for all (default ``"es"``) or one per
        source_id.
    lexicon : DataFrame or path, optional
        Default: the packaged lexicon (:func:`load_lexicon`).
    codebook : Codebook, optional
        Default: the project's codebook, or the packaged one.
    min_confidence : float
        Drop suggestions below this confidence (0..1).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    DataFrame
        One row per suggested segment, sorted by source (input order), start and code
        (codebook order):

        - ``suggestion_id`` (str): ``"<source_id>:<start>-<end>:<code>"``, stable across runs
          on the same text, so decisions survive re-running;
        - ``source_id`` (str), ``start``, ``end`` (int): the unit, ``[start, end)`` in code
          points, the convention of ``segments.csv``;
        - ``code`` (str), ``criterion`` (str): suggested sub-code and its criterion;
        - ``confidence`` (float, 0..1): ``1 - prod(1 - w)`` over the distinct terms matched,
          ``w`` = 0.35 for a one-word term, 0.6 for two words, 0.75 for longer phrases (a term
          inside a longer matched term of the same code does not count);
        - ``matched_terms`` (str): the lexicon terms found, ``"; "``-separated;
        - ``negated`` (bool): every match is preceded by a negation word — likely negative
          evidence (the practice is absent).

        Texts in a language without lexicon terms are skipped with a warning.

    Examples
    --------
    >>> s = suggest_codes({"S1": "Los agentes patrullan a pie por el mercado."})
    >>> s[["code", "matched_terms"]].to_dict("records")
    [{'code': 'C1.patrol', 'matched_terms': 'patrulla a pie'}]
    """
    unit = _check_unit(unit)
    if not 0.0 <= float(min_confidence) <= 1.0:
        raise CopevalError(f"min_confidence must lie in 0..1; got {min_confidence!r}")
    triples, project_codebook = _sources_of(data, language)
    codebook = codebook or project_codebook or load_codebook()
    lex = load_lexicon(lexicon, codebook=codebook)
    code_index = {c: i for i, c in enumerate(codebook.codes)}
    matchers: dict[str, _Matcher | None] = {}
    term_offset: dict[str, int] = {}
    term_texts: list[np.ndarray] = []
    skipped: dict[str, list[str]] = {}
    parts: list[dict[str, np.ndarray]] = []
    order: list[str] = []
    iterable = triples
    if progress:
        from tqdm.auto import tqdm

        iterable = tqdm(triples, desc="autocode", unit="source")
    for sid, text, lang in iterable:
        if lang not in matchers:
            m = _compile(lex, lang, code_index) if lang in _STEMMER_NAMES else None
            matchers[lang] = m
            if m is not None:
                term_offset[lang] = sum(len(t) for t in term_texts)
                term_texts.append(m.term_text)
        m = matchers[lang]
        if m is None:
            skipped.setdefault(lang, []).append(sid)
            continue
        hits = _match_text(text, m, unit)
        if hits is None:
            continue
        hits["source"] = np.full(len(hits["term"]), len(order), dtype=np.int64)
        hits["code"] = m.term_code[hits["term"]]
        hits["weight"] = m.term_weight[hits["term"]]
        hits["term"] = hits["term"] + term_offset[lang]
        order.append(sid)
        parts.append(hits)
    if skipped:
        warnings.warn(
            "no lexicon terms for language(s) "
            + "; ".join(f"{k!r} (sources {', '.join(v[:5])})" for k, v in skipped.items())
            + ": those sources get no suggestions",
            UserWarning,
            stacklevel=2,
        )
    if not parts:
        return _empty_suggestions()
    hits = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    out = _aggregate(hits, order, codebook, np.concatenate(term_texts))
    if min_confidence > 0:
        out = out[out["confidence"] >= min_confidence].reset_index(drop=True)
    return out


def _aggregate(
    hits: dict[str, np.ndarray], order: list[str], codebook: Codebook, term_text: np.ndarray
) -> pd.DataFrame:
    """Hits -> one suggestion per (source, unit, code), in source, start and codebook order."""
    src, ustart, code = hits["source"], hits["unit_start"], hits["code"]
    first, last = hits["first"], hits["last"]
    idx = np.lexsort((-last, first, code, ustart, src))
    h = {k: v[idx] for k, v in hits.items()}
    src, ustart, code, first, last = h["source"], h["unit_start"], h["code"], h["first"], h["last"]
    new = np.ones(len(src), dtype=bool)
    new[1:] = (src[1:] != src[:-1]) | (ustart[1:] != ustart[:-1]) | (code[1:] != code[:-1])
    gid = np.cumsum(new) - 1
    # a term inside a longer matched term of the same code does not count: within a group,
    # hits come by start then longest first, so a hit is contained when an earlier hit of the
    # group reaches at least as far
    span = int(last.max()) + 1
    reach = np.maximum.accumulate(gid * span + last)
    contained = np.zeros(len(src), dtype=bool)
    contained[1:] = ~new[1:] & (reach[:-1] >= gid[1:] * span + last[1:])
    keep = ~contained  # the first hit of a group is never contained: no group disappears
    h = {k: v[keep] for k, v in h.items()}
    gid = gid[keep]
    g_start = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    negated = np.logical_and.reduceat(h["negated"], g_start)
    # distinct terms per group, in order of first appearance
    n_terms = len(term_text)
    _, first_seen = np.unique(gid * n_terms + h["term"], return_index=True)
    first_seen.sort()
    d_gid = gid[first_seen]
    d_term = h["term"][first_seen]
    d_start = np.flatnonzero(np.r_[True, d_gid[1:] != d_gid[:-1]])
    confidence = 1.0 - np.exp(np.add.reduceat(np.log1p(-h["weight"][first_seen]), d_start))
    texts = term_text[d_term]
    bounds = np.r_[d_start, len(d_term)].tolist()
    matched = [
        texts[a] if b - a == 1 else "; ".join(texts[a:b]) for a, b in itertools.pairwise(bounds)
    ]
    codes = np.array(codebook.codes, dtype=object)[h["code"][g_start]]
    crit = dict(zip(codebook.table["code"], codebook.table["criterion"], strict=True))
    source_id = np.array(order, dtype=object)[h["source"][g_start]]
    start = h["unit_start"][g_start].astype(np.int64)
    end = h["unit_end"][g_start].astype(np.int64)
    return pd.DataFrame(
        {
            "suggestion_id": [
                f"{s}:{a}-{b}:{c}"
                for s, a, b, c in zip(source_id, start.tolist(), end.tolist(), codes, strict=True)
            ],
            "source_id": source_id,
            "start": start,
            "end": end,
            "code": codes,
            "criterion": [crit[c] for c in codes],
            "confidence": confidence,
            "matched_terms": matched,
            "negated": negated.astype(bool),
        }
    )


def _empty_suggestions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "suggestion_id": pd.Series(dtype=object),
            "source_id": pd.Series(dtype=object),
            "start": pd.Series(dtype=np.int64),
            "end": pd.Series(dtype=np.int64),
            "code": pd.Series(dtype=object),
            "criterion": pd.Series(dtype=object),
            "confidence": pd.Series(dtype=float),
            "matched_terms": pd.Series(dtype=object),
            "negated": pd.Series(dtype=bool),
        }
    )


# --------------------------------------------------------------------------- evaluation
def evaluate_suggestions(
    suggestions: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    level: str = "criterion",
    codebook: Codebook | None = None,
    exclude_auto: bool = True,
) -> pd.DataFrame:
    """Precision, recall and F1 of suggestions against human-coded segments.

    Matching rule: a suggestion and a human segment *match* when they are in the same source,
    carry the same criterion (``level="criterion"``) or the same code (``level="code"``) and
    their spans overlap by at least one code point (``s.start < h.end`` and
    ``h.start < s.end``). Precision is the share of suggestions that match some human segment;
    recall the share of human segments matched by some suggestion. Only sources that have
    at least one human segment are evaluated: suggestions on sources nobody has coded yet
    are neither right nor wrong.

    Parameters
    ----------
    suggestions : DataFrame
        As returned by :func:`suggest_codes` (``source_id``, ``start``, ``end``, ``code``;
        ``criterion`` is derived from the code when absent).
    segments : DataFrame
        Human coding (``source_id``, ``start``, ``end``, ``code``; e.g. ``project.segments``
        restricted to one coder). Criterion-level codes (``C1`` ...) count for their criterion
        and, at ``level="code"``, as their own code.
    level : {"criterion", "code"}
    codebook : Codebook, optional
        Used to derive criteria (default: the packaged codebook).
    exclude_auto : bool
        Leave out segments whose ``coder`` starts with ``auto-accepted:`` (accepted
        suggestions are not an independent reference).

    Returns
    -------
    DataFrame
        One row per criterion (or code) present in either table, in codebook order, then a
        row ``"all"`` (micro-average over all rows). Columns: ``criterion`` (or ``code``),
        ``n_suggested``, ``n_human``, ``n_suggested_matched``, ``n_human_matched``,
        ``precision``, ``recall``, ``f1`` (NaN when undefined: no suggestions for precision,
        no human segments for recall).
    """
    if level not in ("criterion", "code"):
        raise CopevalError(f"level must be 'criterion' or 'code'; got {level!r}")
    codebook = codebook or load_codebook()
    need = ["source_id", "start", "end", "code"]
    for name, df in (("suggestions", suggestions), ("segments", segments)):
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise CopevalError(
                f"{name} lacks column(s) {', '.join(missing)}. "
                f"Available columns: {', '.join(map(str, df.columns))}"
            )
    human = segments
    if exclude_auto and "coder" in human.columns:
        human = human[~human["coder"].astype(str).str.startswith(AUTO_CODER_PREFIX)]

    def prep(df):
        out = pd.DataFrame(
            {
                "source_id": df["source_id"].astype(str).to_numpy(),
                "start": df["start"].astype(np.int64).to_numpy(),
                "end": df["end"].astype(np.int64).to_numpy(),
                "key": (
                    df["code"].map(codebook.criterion_of) if level == "criterion" else df["code"]
                ).to_numpy(),
            }
        )
        return out.reset_index(names="rid")

    h = prep(human)
    s = prep(suggestions)
    s = s[s["source_id"].isin(set(h["source_id"]))]
    pairs = s.merge(h, on=["source_id", "key"], suffixes=("_s", "_h"))
    pairs = pairs[(pairs["start_s"] < pairs["end_h"]) & (pairs["start_h"] < pairs["end_s"])]
    s_hit = s["rid"].isin(set(pairs["rid_s"]))
    h_hit = h["rid"].isin(set(pairs["rid_h"]))
    table = pd.DataFrame(
        {
            "n_suggested": s.groupby("key").size(),
            "n_human": h.groupby("key").size(),
            "n_suggested_matched": s_hit.groupby(s["key"]).sum(),
            "n_human_matched": h_hit.groupby(h["key"]).sum(),
        }
    )
    table = table.fillna(0).astype(np.int64)
    ref = list(CRITERIA) if level == "criterion" else codebook.codes
    table = table.reindex([k for k in ref if k in table.index])
    table.loc["all"] = table.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["precision"] = table["n_suggested_matched"] / table["n_suggested"].where(
            table["n_suggested"] > 0
        )
        table["recall"] = table["n_human_matched"] / table["n_human"].where(table["n_human"] > 0)
        p, r = table["precision"], table["recall"]
        table["f1"] = (2 * p * r / (p + r)).where((p + r) > 0, 0.0).where(p.notna() & r.notna())
    return table.rename_axis(level).reset_index()


# --------------------------------------------------------------------------- the store
def _root(project) -> Path:
    from .project import Project

    root = project.path if isinstance(project, Project) else Path(project)
    if not (root / "sources.csv").is_file():
        raise CopevalError(f"{root} is not a project folder (no sources.csv)")
    return root


def read_suggestions(project) -> pd.DataFrame:
    """The suggestion store of a project (``suggestions.csv``) with the decisions taken.

    Returns
    -------
    DataFrame
        The columns of :func:`suggest_codes` plus ``status`` (``pending``, ``accepted``,
        ``rejected``), ``decided_by`` (user, empty while pending) and ``segment_id`` (the
        segment an accepted suggestion became).
    """
    path = _root(project) / SUGGESTIONS_FILE
    if not path.is_file():
        raise CopevalError(
            f"{path} not found: run `copeval autocode {path.parent}` to create suggestions"
        )
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df = df.apply(lambda col: col.map(_restore_cell))  # the store is written for people
    missing = [c for c in (*SUGGESTION_COLUMNS, *DECISION_COLUMNS) if c not in df.columns]
    if missing:
        raise CopevalError(f"{path} lacks column(s) {', '.join(missing)}")
    bad = ~df["status"].isin(STATUSES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise CopevalError(
            f"{path} row {i + 2}, column 'status': {df['status'].iloc[i]!r} is not one of "
            f"{', '.join(STATUSES)}"
        )
    df["start"] = df["start"].astype(np.int64)
    df["end"] = df["end"].astype(np.int64)
    df["confidence"] = df["confidence"].astype(float)
    df["negated"] = df["negated"].str.lower() == "true"
    return df


def write_suggestions(project, suggestions: pd.DataFrame) -> Path:
    """Store suggestions in ``<project>/suggestions.csv``, keeping earlier decisions.

    Suggestions already accepted or rejected keep their decision (a re-run never resurrects
    a rejected suggestion nor duplicates an accepted one); pending suggestions from an earlier
    run are replaced by the new ones. ``segments.csv`` is not touched.

    Returns
    -------
    Path
        The file written.
    """
    root = _root(project)
    missing = [c for c in SUGGESTION_COLUMNS if c not in suggestions.columns]
    if missing:
        raise CopevalError(f"suggestions lack column(s) {', '.join(missing)}")
    new = suggestions[list(SUGGESTION_COLUMNS)].copy()
    new["status"] = "pending"
    new["decided_by"] = ""
    new["segment_id"] = ""
    target = root / SUGGESTIONS_FILE
    if target.is_file():
        old = read_suggestions(root)
        decided = old[old["status"] != "pending"]
        new = new[~new["suggestion_id"].isin(set(decided["suggestion_id"]))]
        new = pd.concat([decided, new], ignore_index=True)
        new = new.sort_values(["source_id", "start", "code"], kind="stable")
    new = new.assign(negated=new["negated"].map(lambda v: "true" if v else "false"))
    atomic_write_csv(new, target, for_people=True)
    return target


#: What :func:`copeval._io.neutralise_cell` puts before a cell a spreadsheet would run.
_NEUTRAL_MARK = "'"


def _restore_cell(value):
    """A cell of the suggestion store as it was before it was written for people: the
    store is the coders' working file (opened in spreadsheets), so a cell such as a source
    ID ``=HYPERLINK(…)`` is written ``'=HYPERLINK(…)`` and read back without the mark."""
    from ._io import neutralise_cell

    if isinstance(value, str) and value.startswith(_NEUTRAL_MARK):
        raw = value[len(_NEUTRAL_MARK) :]
        if neutralise_cell(raw) == value:
            return raw
    return value


def _select(store, *, ids, codes, min_confidence=None, max_confidence=None) -> pd.Series:
    if ids is None and codes is None and min_confidence is None and max_confidence is None:
        raise CopevalError(
            "say which suggestions: give ids=, codes= and/or a confidence threshold"
        )
    mask = pd.Series(True, index=store.index)
    if ids is not None:
        ids = [ids] if isinstance(ids, str) else list(ids)
        unknown = sorted(set(ids) - set(store["suggestion_id"]))
        if unknown:
            raise CopevalError(
                f"unknown suggestion id(s): {', '.join(unknown[:5])}"
                + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            )
        mask &= store["suggestion_id"].isin(ids)
    if codes is not None:
        codes = [codes] if isinstance(codes, str) else list(codes)
        mask &= store["code"].isin(codes) | store["criterion"].isin(codes)
    if min_confidence is not None:
        mask &= store["confidence"] >= float(min_confidence)
    if max_confidence is not None:
        mask &= store["confidence"] < float(max_confidence)
    return mask


def _check_user(user: str) -> str:
    if not isinstance(user, str) or not user.strip() or user != user.strip() or "," in user:
        raise CopevalError(
            f"user must be a non-empty name without surrounding spaces or commas; got {user!r}"
        )
    return user


def accept_suggestions(
    project,
    *,
    user: str,
    ids: str | Iterable[str] | None = None,
    codes: str | Iterable[str] | None = None,
    min_confidence: float | None = None,
) -> pd.DataFrame:
    """Turn accepted suggestions into segments, appended to ``segments.csv``.

    Existing rows of ``segments.csv`` are never rewritten: new rows are appended, with
    ``segment_id`` ``auto-000001``..., coder ``auto-accepted:<user>`` and an empty valence (to
    be rated by a person). The project is validated after appending; if it does not validate
    (e.g. texts changed since the suggestions were made), the file is restored to its
    previous bytes and the error is raised.

    Parameters
    ----------
    project : Project or path
    user : str
        Who accepts (initials or pseudonym); recorded in the coder column.
    ids, codes, min_confidence
        Which suggestions; filters combine (a suggestion must satisfy every filter given).
        ``codes`` may name sub-codes or criteria (``"C1"`` accepts every C1 sub-code).
        Selecting by ``codes``/``min_confidence`` only takes pending suggestions; naming a
        rejected suggestion in ``ids`` accepts it (a change of mind).

    Returns
    -------
    DataFrame
        The appended segments: ``segment_id``, ``source_id``, ``start``, ``end``, ``code``,
        ``valence`` (empty), ``coder``, ``suggestion_id``.
    """
    from .project import load_project, table_columns

    user = _check_user(user)
    root = _root(project)
    store = read_suggestions(root)
    mask = _select(store, ids=ids, codes=codes, min_confidence=min_confidence)
    named = store["suggestion_id"].isin([ids] if isinstance(ids, str) else list(ids or []))
    eligible = (store["status"] == "pending") | ((store["status"] == "rejected") & named)
    chosen = store[mask & eligible]
    coder = AUTO_CODER_PREFIX + user
    cols = [*table_columns("segments"), "suggestion_id"]
    if chosen.empty:
        return pd.DataFrame(columns=cols)
    proj = load_project(root)
    taken = set(proj.segments["segment_id"])
    nums = [int(s[5:]) for s in taken if s.startswith("auto-") and s[5:].isdigit()]
    n = max(nums, default=0)
    new_ids = []
    for _ in range(len(chosen)):
        n += 1
        while f"auto-{n:06d}" in taken:
            n += 1
        new_ids.append(f"auto-{n:06d}")
    added = pd.DataFrame(
        {
            "segment_id": new_ids,
            "source_id": chosen["source_id"].to_numpy(),
            "start": chosen["start"].to_numpy(),
            "end": chosen["end"].to_numpy(),
            "code": chosen["code"].to_numpy(),
            "valence": "",
            "coder": coder,
            "suggestion_id": chosen["suggestion_id"].to_numpy(),
        }
    )
    _append_segments(root, added)
    store.loc[chosen.index, "status"] = "accepted"
    store.loc[chosen.index, "decided_by"] = user
    store.loc[chosen.index, "segment_id"] = new_ids
    _write_store(root, store)
    return added.reset_index(drop=True)


def _append_segments(root: Path, added: pd.DataFrame) -> None:
    from .errors import ProjectValidationError
    from .project import load_project

    path = root / "segments.csv"
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in header]
    newline = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    for row in added.itertuples(index=False):
        values = row._asdict()
        writer.writerow([values.get(h, "") for h in header])
    prefix = "" if raw.endswith(b"\n") or not raw else newline
    # the whole file, atomically: a process killed mid-write leaves segments.csv as it was
    atomic_write_bytes(path, raw + (prefix + buf.getvalue()).encode("utf-8"))
    try:
        load_project(root)
    except ProjectValidationError as exc:
        atomic_write_bytes(path, raw)
        raise CopevalError(
            "accepting these suggestions would make the project invalid (were the texts "
            f"changed since the suggestions were made? re-run autocode); segments.csv left as "
            f"it was.\n{exc}"
        ) from None


def _write_store(root: Path, store: pd.DataFrame) -> None:
    out = store.assign(negated=store["negated"].map(lambda v: "true" if v else "false"))
    atomic_write_csv(out, root / SUGGESTIONS_FILE, for_people=True)


def reject_suggestions(
    project,
    *,
    user: str,
    ids: str | Iterable[str] | None = None,
    codes: str | Iterable[str] | None = None,
    max_confidence: float | None = None,
) -> pd.DataFrame:
    """Mark suggestions as rejected (they are kept, so a re-run does not propose them again).

    Filters combine as in :func:`accept_suggestions`; ``max_confidence`` rejects suggestions
    strictly below it. Accepted suggestions cannot be rejected here (their segment is human
    coding now: edit ``segments.csv``); naming one in ``ids`` is an error.

    Returns
    -------
    DataFrame
        The rows of the store that were rejected by this call.
    """
    user = _check_user(user)
    root = _root(project)
    store = read_suggestions(root)
    mask = _select(store, ids=ids, codes=codes, max_confidence=max_confidence)
    if ids is not None:
        named = store["suggestion_id"].isin([ids] if isinstance(ids, str) else list(ids))
        accepted = store[named & (store["status"] == "accepted")]
        if not accepted.empty:
            raise CopevalError(
                "already accepted, cannot be rejected (remove the segment from segments.csv "
                f"instead): {', '.join(accepted['suggestion_id'][:5])}"
            )
    chosen = mask & (store["status"] == "pending")
    store.loc[chosen, "status"] = "rejected"
    store.loc[chosen, "decided_by"] = user
    _write_store(root, store)
    return store[chosen].reset_index(drop=True)


def review_suggestions(project, *, status: str | None = "pending", width: int = 200):
    """Suggestions with the text they cover, for reviewing in a notebook.

    Parameters
    ----------
    project : Project or path
    status : {"pending", "accepted", "rejected"} or None
        Which suggestions (None: all).
    width : int
        Longest excerpt shown; longer units are cut with "…".

    Returns
    -------
    DataFrame
        The store (:func:`read_suggestions`) plus ``excerpt`` (the unit's text, raw: this is
        a working view for the coder, never a report).
    """
    from .project import Project, load_project

    proj = project if isinstance(project, Project) else load_project(project)
    store = read_suggestions(proj)
    if status is not None:
        if status not in STATUSES:
            raise CopevalError(f"status must be one of {', '.join(STATUSES)} or None")
        store = store[store["status"] == status]
    known = set(proj.sources["source_id"])

    def excerpt(row):
        if row.source_id not in known:
            return ""
        piece = proj.text(row.source_id)[row.start : row.end].replace("\n", " ")
        return piece if len(piece) <= width else piece[: width - 1] + "…"

    return store.assign(excerpt=[excerpt(r) for r in store.itertuples(index=False)]).reset_index(
        drop=True
    )
