"""Benchmark auto-coding: the Aho–Corasick matcher against one regular expression per term.

Builds a seeded synthetic Spanish corpus (default: 10 million words in documents of 5,000
words: filler words, invented words for a realistic vocabulary, and lexicon terms at about one
per 25 words), then times

1. ``copeval.coding.suggest_codes`` end to end (tokenise, stem, match, split sentences,
   aggregate into suggestions), which must stay under 60 s for 10 million words;
2. the matching step alone, both ways, on the *same* normalised (stemmed) text:
   the single-pass Aho–Corasick automaton, and a naive loop running one compiled regular
   expression per lexicon term (every accent/stem variant of every term) over every document.

Both matchers must find exactly the same hits; the script checks it and prints the timings
and the ratio. Usage::

    python bench/bench_autocode.py                 # 10M words
    python bench/bench_autocode.py --words 1000000 --json bench/results/autocode.json
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

from copeval import coding

FILLER = (  # noqa: SIM905 - readable as prose
    "el la los las de del y en que a por con para se no su sus un una es fue muy pero como "
    "más ya también cuando todo todos esta este eso aquí allí ahora antes después siempre "
    "entonces porque mire pues bueno verdad gente vecinos aldea colonia cantón municipio calle "
    "mercado casa familia trabajo tiempo año años mes semana día noche tarde mañana agua luz "
    "camino carretera bus camioneta tienda escuela iglesia cancha barrio zona puesto sede "
    "dijo dicen hace hacen tiene tienen hay había está están era eran puede pueden quiere "
    "sabe saben vino vienen llega llegan pasa pasó sale salen ve vemos veo digo creo pienso "
    "problema problemas seguridad robo robos asalto asaltos violencia miedo policía agentes "
    "comisaría subestación jefe oficial patrulla moto carro radio señor señora muchachos "
    "jóvenes niños mujeres hombres líder comité alcalde consejo grupo gente persona personas"
).split()


def synthetic_corpus(
    n_words: int, *, doc_words: int = 5000, vocabulary: int = 120_000, seed: int = 20170201
) -> dict:
    """A seeded synthetic corpus: ``{source_id: text}`` with about ``n_words`` words.

    Words follow Zipf's law over common Spanish words followed by ``vocabulary`` invented
    words, so that the number of distinct words grows with the corpus roughly as in real
    text; about 70% of sentences carry one lexicon term (Spanish).
    """
    rng = np.random.default_rng(seed)
    syllables = np.array(
        [
            "ca",
            "ta",
            "ma",
            "lo",
            "re",
            "si",
            "tu",
            "pe",
            "no",
            "xa",
            "qui",
            "chi",
            "ja",
            "bal",
            "tz",
            "ul",
            "ix",
            "ko",
            "de",
            "ran",
            "mo",
            "gua",
            "te",
            "li",
        ]
    )
    lengths = rng.integers(2, 6, size=vocabulary)
    invented = {"".join(syllables[rng.integers(0, len(syllables), size=k)]) for k in lengths}
    filler = list(dict.fromkeys(FILLER))
    extra = sorted(invented - set(filler))
    rng.shuffle(extra)
    vocab = np.array(filler + extra, dtype=object)
    cum = np.cumsum(1.0 / np.arange(1, len(vocab) + 1) ** 1.1)
    cum /= cum[-1]
    lex = coding.load_lexicon()
    terms = np.array(lex.loc[lex["lang"] == "es", "term"].tolist(), dtype=object)
    ends = np.array([".", ".", ".", "?", "!"], dtype=object)
    texts = {}
    made = 0
    i = 0
    while made < n_words:
        n_sent = doc_words // 14
        sizes = rng.integers(6, 23, size=n_sent)
        words = vocab[np.searchsorted(cum, rng.random(int(sizes.sum())))]
        bounds = np.r_[0, np.cumsum(sizes)]
        sentences = []
        for s in range(n_sent):
            w = words[bounds[s] : bounds[s + 1]].tolist()
            if rng.random() < 0.7:
                w.insert(int(rng.integers(0, len(w))), terms[rng.integers(0, len(terms))])
            w[0] = w[0].capitalize()
            sep = "\n" if rng.random() < 0.15 else " "
            sentences.append(" ".join(w) + ends[rng.integers(0, len(ends))] + sep)
        text = "".join(sentences).rstrip()
        texts[f"D{i:05d}"] = text
        made += len(text.split())
        i += 1
    return texts


def prepare(texts: dict, matcher) -> list[str]:
    """The normalised text both matchers scan: one space-separated stem per token."""
    out = []
    for text in texts.values():
        tokens, _, _ = coding._tokenize(coding._lower(text))
        out.append(" " + " ".join(map(matcher.stems.__getitem__, tokens)) + " ")
    return out


def match_aho_corasick(joined: list[str], matcher) -> int:
    n = 0
    for s in joined:
        for _end, key in matcher.automaton.iter(s):
            if matcher.key_nterms[key]:
                n += 1
    return n


def match_naive(joined: list[str], matcher) -> int:
    keys = [k for k in _keys(matcher)]
    # one pattern per key: " stem1 stem2" followed by a space (lookahead, so that repeated
    # terms next to each other are all found)
    patterns = [re.compile(re.escape(k[:-1]) + r"(?= )") for k in keys]
    n = 0
    for s in joined:
        for pat in patterns:
            for _m in pat.finditer(s):
                n += 1
    return n


def _keys(matcher) -> list[str]:
    return [k for k, v in matcher.automaton.items() if matcher.key_nterms[v]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=10_000_000, help="corpus size (default 10M)")
    ap.add_argument("--doc-words", type=int, default=5000, help="words per document")
    ap.add_argument("--seed", type=int, default=20170201)
    ap.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    texts = synthetic_corpus(args.words, doc_words=args.doc_words, seed=args.seed)
    n_words = sum(len(t.split()) for t in texts.values())
    n_types = len({w for t in texts.values() for w in coding._TOKEN.findall(t.lower())})
    t_gen = time.perf_counter() - t0
    print(
        f"corpus: {n_words:,} words ({n_types:,} distinct) in {len(texts):,} documents "
        f"(built in {t_gen:.1f} s)"
    )

    coding._STEM_CACHES.clear()  # cold stem caches
    coding._true_stem.cache_clear()  # cold stem cache: the end-to-end time includes stemming
    t0, c0 = time.perf_counter(), time.process_time()
    suggestions = coding.suggest_codes(texts, language="es")
    t_total, c_total = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"suggest_codes end to end: {t_total:.2f} s wall, {c_total:.2f} s CPU "
        f"({n_words / t_total / 1e6:.2f} M words/s), {len(suggestions):,} suggestions"
    )

    code_index = {c: i for i, c in enumerate(coding.load_codebook().codes)}
    matcher = coding._compile(coding.load_lexicon(), "es", code_index)
    n_keys = len(_keys(matcher))
    t0 = time.perf_counter()
    joined = prepare(texts, matcher)
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    hits_ac = match_aho_corasick(joined, matcher)
    t_ac = time.perf_counter() - t0
    print(f"normalise + stem (shared by both matchers): {t_prep:.2f} s")
    print(f"Aho–Corasick, one pass over the text, {n_keys} keys: {t_ac:.2f} s, {hits_ac:,} hits")
    t0 = time.perf_counter()
    hits_naive = match_naive(joined, matcher)
    t_naive = time.perf_counter() - t0
    print(f"naive, one regular expression per key:       {t_naive:.2f} s, {hits_naive:,} hits")
    same = hits_ac == hits_naive
    print(f"same hits: {same}")
    print(f"ratio naive / Aho–Corasick (matching): {t_naive / t_ac:.1f}x")
    print(
        f"ratio (prepare + naive) / (prepare + Aho–Corasick): "
        f"{(t_prep + t_naive) / (t_prep + t_ac):.1f}x"
    )
    verdict = "PASS" if (n_words < 10_000_000 or t_total < 60) else "FAIL"
    print(
        f"target: 10M words < 60 s end to end -> {verdict}"
        + ("" if n_words >= 10_000_000 else " (corpus smaller than 10M words: not tested)")
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "words": n_words,
                    "documents": len(texts),
                    "keys": n_keys,
                    "suggest_codes_s": round(t_total, 3),
                    "suggest_codes_cpu_s": round(c_total, 3),
                    "prepare_s": round(t_prep, 3),
                    "aho_corasick_s": round(t_ac, 3),
                    "naive_regex_s": round(t_naive, 3),
                    "ratio_matching": round(t_naive / t_ac, 2),
                    "same_hits": same,
                    "python": platform.python_version(),
                    "machine": platform.machine(),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0 if same and verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
