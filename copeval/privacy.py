"""Privacy by default: consent rules, PII redaction and pseudonymous respondent IDs.

Three rules, applied everywhere copeval writes something a person may read
(see ``docs/privacy.md``):

1. **Consent.** Only sources with ``consent == "quote"`` are ever quoted, and a quote is
   attributed by respondent group and site, never by name. ``anonymous`` sources count as
   evidence but are never quoted (reports say how many quotes were withheld); ``none``
   sources are excluded from everything.
2. **Redaction.** Text that leaves the project (quotes, redacted copies) goes through
   :func:`redact`: names listed in the project's ``registry.csv``, Guatemalan phone numbers,
   e-mail addresses, DPI identity numbers and NIT tax numbers are replaced by tags such as
   ``[PERSON: community leader]``, ``[PHONE]``, ``[EMAIL]``, ``[DPI]``.
3. **Pseudonyms.** Respondent IDs in outputs are pseudonymous; :func:`pseudonymize` makes
   keyed, stable pseudonyms and :func:`scan_respondent_ids` warns about IDs that look like
   personal data.

Detection is pattern-based: it finds what it is told to find (registry names, number and
address formats) and nothing else. A name absent from the registry is not redacted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import atomic_write_bytes, atomic_write_csv, safe_child
from ._validate import check_lang
from .errors import CopevalError, Problem
from .vocabulary import RESPONDENT_GROUPS, group_label

__all__ = [
    "EXCERPT_CONTEXT",
    "PII_KINDS",
    "QUOTE_END",
    "QUOTE_START",
    "find_pii",
    "free_text_columns",
    "load_registry",
    "pii_problems",
    "pseudonymize",
    "quotable",
    "redact",
    "redact_excerpt",
    "redact_fields",
    "redact_project",
    "scan_fields_pii",
    "scan_project_pii",
    "scan_respondent_ids",
    "select_quotes",
    "usable_sources",
    "withheld_quotes",
]

#: Kinds of personal data found, in priority order when two findings overlap.
PII_KINDS = ("email", "dpi", "phone", "nit", "person")

_TAGS = {
    "en": {"person": "PERSON", "phone": "PHONE", "email": "EMAIL", "dpi": "DPI", "nit": "NIT"},
    "es": {"person": "PERSONA", "phone": "TELÉFONO", "email": "EMAIL", "dpi": "DPI", "nit": "NIT"},
}
_KIND_WORDS = {
    "person": "name(s) from registry.csv",
    "phone": "phone number(s)",
    "email": "e-mail address(es)",
    "dpi": "DPI number(s)",
    "nit": "NIT number(s)",
}

#: Private-use characters that mark a quote's edges inside a wider window of text (see
#: :func:`redact_excerpt`). :func:`redact` drops them before matching and, when a finding
#: covers one, puts it outside the tag, so a quote never starts or ends inside a number.
QUOTE_START = "\ue000"
QUOTE_END = "\ue001"

# One separator between digit groups, on the normalised text (see _normalise): spaces (one or
# more), a hyphen, dot, slash or underscore (file and column names: "tel_4111_0011") with
# optional spaces around it, or one line break.
_SEP = r"(?:[ \t]*[-./_][ \t]*\r?\n?[ \t]*|[ \t]*\r?\n[ \t]*|[ \t]+)"
#: The "@" of an e-mail address as people write it to dodge harvesters or as a transcriber
#: spells it: "@" with spaces around it, "[at]", "(at)", "{arroba}", or the word "arroba".
_AT = (
    r"(?:[ \t]*@[ \t]*|[ \t]*[\[({<][ \t]*(?:at|arroba)[ \t]*[\])}>][ \t]*"
    r"|[ \t]+arroba[ \t]+)"
)
#: A dot of an address: ".", "[dot]", "(punto)", or the word "punto"/"dot" between spaces.
_DOT = r"(?:\.|[ \t]*[\[({<][ \t]*(?:dot|punto)[ \t]*[\])}>][ \t]*|[ \t]+(?:punto|dot)[ \t]+)"
_EMAIL = re.compile(
    rf"(?i)(?<![\w.+-])[\w+-]{{1,64}}(?:{_DOT}[\w+-]{{1,64}}){{0,3}}{_AT}"
    rf"[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{1,4}}"
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
#: DPI / CUI: 13 digits, usually 4-5-4 separated by spaces or hyphens; may be glued to letters
#: ("DPI2345678900101").
_DPI = re.compile(rf"(?<!\d)\d{{4}}{_SEP}?\d{{5}}{_SEP}?\d{{4}}(?!\d)")
#: Guatemalan numbers: 8 digits starting 2-7, optionally after +502 / 00502 / (502) / 502,
#: grouped 4-4 (any separator or none) or 2-2-2-2 (a separator between every pair); may be
#: glued to letters ("tel4103-0003", "cel_4111-0011").
_PHONE = re.compile(
    rf"(?<![\d+])(?P<cc>(?:\+|00)[ \t]?502{_SEP}?|\(\+?502\){_SEP}?|502{_SEP}?)?"
    rf"(?P<num>[2-7]\d{{3}}{_SEP}?\d{{4}}|[2-7]\d(?:{_SEP}\d{{2}}){{3}}"
    rf"|\([2-7]\d{{3}}\)[ \t]*-?[ \t]*\d{{4}})(?!\d)"
)
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d\D+(?:19|20)\d\d$")
#: Words after which a number is a legal or case reference ("Acuerdo Gubernativo 2311-2014",
#: "expediente 2019-0452-0133", "artículo 25 27 29 31"), read in the 48 characters before it,
#: unless a phone word is nearer ("Decreto 12-2009, tel. 4103-0003" keeps the phone).
_LEGAL_BEFORE = re.compile(
    r"(?i)(?<![^\W\d_])(?:acuerdo|decreto|ley|expediente|resoluci[oó]n|oficio|art[ií]culos?|"
    r"causa|sentencia|gubernativo|ministerial|reglamento|decree|article)"
    r"(?![^\W\d_])[^\n]{0,40}$"
)
_NUMBER_YEAR = re.compile(r"^\d{1,4}[-/ ](?:19|20)\d\d$")
_NEXT_GROUP = re.compile(r"[-/]\d")
_SHORT_LIST = re.compile(r"^\d\d(?: \d\d){3}$")
_PHONE_WORD = re.compile(
    r"(?i)(?:tel|cel|m[oó]vil|whats|phone|llam|call|contact|n[uú]m(?:ero)?\s+de\s+tel)"
)
_COMPACT_DATE = re.compile(r"^(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$")
#: NIT after the word "NIT" (also "N.I.T.", glued: "NIT7100002-9"); only the number is tagged.
_NIT = re.compile(
    r"(?i)(?<![^\W\d_])N[ \t]*\.?[ \t]*I[ \t]*\.?[ \t]*T(?![^\W\d_])[ \t.:#º°_-]*"
    r"(?:(?:n[º°o]|n[uú]m(?:ero)?|number|nr)(?![^\W\d_])[ \t.:#º°_-]*)?"
    r"(?P<num>\d{5,9}(?:[ \t]*-[ \t]*)?[\dK])(?![\w])"
)
#: Separators between the words of a registry name ("Tzul-Batz" is "Tzul Batz").
_NAME_SPLIT = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def _legal_reference(text: str, start: int, end: int, num: str) -> bool:
    """True for a number shaped like a legal or case reference right after a legal word, with
    no phone word nearer: number-year (``2311-2014``), three or more groups
    (``2019-0452-0133``) or a list of short numbers (``25 27 29 31``). Any other shape stays a
    phone: over-redaction is cosmetic, a missed phone is a leak."""
    shaped = (
        _NUMBER_YEAR.match(num) is not None
        or _NEXT_GROUP.match(text, end) is not None
        or _SHORT_LIST.match(num) is not None
    )
    if not shaped:
        return False
    before = text[max(0, start - 48) : start]
    legal = _LEGAL_BEFORE.search(before)
    if legal is None:
        return False
    return _PHONE_WORD.search(before[legal.start() :]) is None


# --------------------------------------------------------------------------- normalisation
_NORM_CACHE: dict[str, str] = {}


#: Default-ignorable characters outside category Cf (Unicode DerivedCoreProperties).
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")


def _invisible(ch: str) -> bool:
    return (
        ch in _INVISIBLE
        or "\ufe00" <= ch <= "\ufe0f"
        or "\U000e0100" <= ch <= "\U000e01ef"
        or "\u180b" <= ch <= "\u180d"
    )


def _norm_char(ch: str) -> str:
    """One character as the detectors see it ("" = dropped)."""
    got = _NORM_CACHE.get(ch)
    if got is not None:
        return got
    cat = unicodedata.category(ch)
    if ch in "\r\n":
        out = ch
    elif ch in (QUOTE_START, QUOTE_END) or cat == "Cf":  # zero-width, soft hyphen, bidi, BOM
        out = ""
    elif ch in "\u2028\u2029\x85":
        out = "\n"
    elif cat == "Zs" or ch in "\t\x0b\x0c":  # NBSP, narrow NBSP, thin and other spaces
        out = " "
    elif cat in ("Cc", "Cs") or _invisible(ch):
        # The other control characters (a PDF or a browser shows nothing for them, so
        # "5555<U+0001>1234" prints as a phone number), lone surrogates, and the invisible
        # characters that are not format characters: combining grapheme joiner, variation
        # selectors, Hangul fillers.
        out = ""
    elif cat == "Pd" or ch in "\u2212\u2043":  # en/em dash, non-breaking hyphen, minus
        out = "-"
    elif ch.isascii():
        out = ch
    elif unicodedata.decimal(ch, None) is not None:  # Arabic-Indic, Devanagari, full-width
        out = str(unicodedata.decimal(ch))
    else:
        folded = unicodedata.normalize("NFKC", ch)  # full-width and other digits, "＠"
        out = _norm_char(folded) if len(folded) == 1 and folded != ch else ch
    _NORM_CACHE[ch] = out
    return out


def _normalise(text: str) -> tuple[str, list[int] | None]:
    """Text with Unicode dashes, spaces, digits folded and invisible characters removed.

    Returns the normalised text and, when characters were removed, the index into ``text``
    of each normalised character (plus ``len(text)`` at the end); ``None`` when the mapping
    is one to one.
    """
    table = {}
    for ch in set(text):
        mapped = _norm_char(ch)
        if mapped != ch:
            table[ord(ch)] = mapped
    if not table:
        return text, None
    if all(table.values()):
        return text.translate(table), None
    kept: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        mapped = table.get(ord(ch), ch)
        if mapped:
            kept.append(mapped)
            index.append(i)
    index.append(len(text))
    return "".join(kept), index


# --------------------------------------------------------------------------- consent
def _check_sources(sources: pd.DataFrame) -> None:
    if "consent" not in sources.columns:
        raise CopevalError(
            "sources has no 'consent' column. Available columns: "
            + ", ".join(map(str, sources.columns))
        )


def quotable(sources: pd.DataFrame) -> pd.DataFrame:
    """Sources that may be quoted: ``consent == "quote"`` (a copy; the input is unchanged)."""
    _check_sources(sources)
    return sources[sources["consent"] == "quote"].copy()


def usable_sources(sources: pd.DataFrame) -> pd.DataFrame:
    """Sources that count as evidence: consent ``quote`` or ``anonymous`` (not ``none``)."""
    _check_sources(sources)
    return sources[sources["consent"].isin(["quote", "anonymous"])].copy()


def select_quotes(
    project,
    *,
    lang: str = "en",
    criteria: Iterable[str] | None = None,
    codes: Iterable[str] | None = None,
    max_chars: int | None = None,
) -> pd.DataFrame:
    """Quotable evidence, redacted and attributed by role and site.

    Takes the project's evidence (:meth:`Project.evidence`: primary coder, rated segments,
    consent not ``none``), keeps segments from sources with ``consent == "quote"``, and
    redacts their text with :func:`redact` (registry names, phones, e-mails, DPI, NIT).

    Parameters
    ----------
    project : Project
    lang : {"en", "es"}
        Language of the attribution and the redaction tags.
    criteria, codes : iterable of str, optional
        Keep only these criteria / codes.
    max_chars : int, optional
        Cut longer quotes at a word boundary and add "…".

    Returns
    -------
    DataFrame
        ``segment_id``, ``source_id``, ``site_id``, ``respondent_group``, ``criterion``,
        ``code``, ``valence``, ``attribution`` (e.g. ``"Community leader or traditional
        authority, Totonicapán"``), ``quote`` (redacted text). Count what was left out
        with :func:`withheld_quotes`.
    """
    _check_lang(lang)
    ev = project.evidence()
    ev = ev[ev["consent"] == "quote"]
    if criteria is not None:
        ev = ev[ev["criterion"].isin(list(criteria))]
    if codes is not None:
        ev = ev[ev["code"].isin(list(codes))]
    registry = load_registry(project)
    quotes = []
    for row in ev.itertuples(index=False):
        text = redact_excerpt(
            project.text(row.source_id), row.start, row.end, registry=registry, lang=lang
        )
        text = " ".join(text.split())
        if max_chars is not None and len(text) > max_chars:
            cut = text[:max_chars].rsplit(" ", 1)[0]
            if cut.rfind("[") > cut.rfind("]"):  # never cut inside a redaction tag
                cut = cut[: cut.rfind("[")].rstrip()
            text = cut + "…"
        quotes.append(text)
    out = ev[
        ["segment_id", "source_id", "site_id", "respondent_group", "criterion", "code", "valence"]
    ].copy()
    # the site's name is free text too (it may hold a contact): redacted like the quote
    names = {
        s: redact(project.site_name(s), registry=registry, lang=lang)[0]
        for s in set(out["site_id"])
    }
    out["attribution"] = [
        f"{group_label(g, lang)}, {names[s]}"
        for g, s in zip(out["respondent_group"], out["site_id"], strict=True)
    ]
    out["quote"] = quotes
    return out.reset_index(drop=True)


def withheld_quotes(project) -> pd.DataFrame:
    """How many evidence segments may not be quoted, per site and criterion.

    Returns
    -------
    DataFrame
        ``site_id``, ``criterion``, ``n_evidence`` (segments counted as evidence),
        ``n_quotable`` (from ``quote`` sources), ``n_withheld`` (from ``anonymous`` sources:
        evidence that reports must not quote).
    """
    ev = project.evidence()
    ev = ev.assign(quotable=ev["consent"] == "quote")
    out = (
        ev.groupby(["site_id", "criterion"], sort=True)
        .agg(n_evidence=("segment_id", "size"), n_quotable=("quotable", "sum"))
        .reset_index()
    )
    out["n_quotable"] = out["n_quotable"].astype(np.int64)
    out["n_withheld"] = out["n_evidence"] - out["n_quotable"]
    return out


# --------------------------------------------------------------------------- registry
def load_registry(project) -> pd.DataFrame:
    """The project's ``registry.csv`` (``person_id``, ``name``, ``role``); empty if absent.

    ``name`` may hold several forms of one person's name separated by ``;`` (e.g.
    ``"María Tzul Batz; doña María"``): each is redacted.
    """
    from .project import Project

    root = project.path if isinstance(project, Project) else Path(project)
    path = root / "registry.csv"
    if not path.is_file():
        return pd.DataFrame(columns=["person_id", "name", "role"], dtype=object)
    reg = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("person_id", "name", "role") if c not in reg.columns]
    if missing:
        raise CopevalError(
            f"{path} lacks column(s) {', '.join(missing)}. "
            f"Available columns: {', '.join(reg.columns)}"
        )
    return reg[["person_id", "name", "role"]].apply(lambda s: s.str.strip())


def _check_lang(lang: str) -> None:
    check_lang(lang, allowed=_TAGS)


def _fold(text: str) -> str:
    """Lower-case and remove accents, one character for one character (offsets kept)."""
    table = {}
    for ch in set(text):
        low = ch.lower()
        if len(low) != 1:
            low = ch
        base = unicodedata.normalize("NFD", low)[0] if not low.isascii() else low
        if base != ch:
            table[ord(ch)] = base
    return text.translate(table)


_NAME_CACHE: dict[tuple, re.Pattern | None] = {}


def _name_pattern(registry: pd.DataFrame) -> tuple[re.Pattern | None, dict[str, int]]:
    forms: dict[str, int] = {}
    for i, name in enumerate(registry["name"]):
        for form in str(name).split(";"):
            words = [w for w in _NAME_SPLIT.split(_fold(_normalise(form)[0])) if w]
            if words:
                forms.setdefault(" ".join(words), i)
    if not forms:
        return None, forms
    key = tuple(sorted(forms))
    if key not in _NAME_CACHE:
        alts = []
        for form in sorted(forms, key=len, reverse=True):  # longest first
            parts = [
                "".join(re.escape(c) + r"[\u0300-\u036f]*" for c in word) for word in form.split()
            ]
            alts.append(r"[\s\-]+".join(parts))
        _NAME_CACHE[key] = re.compile(
            r"(?<![^\W_])(?:" + "|".join(alts) + r")(?![^\W_]|[\u0300-\u036f])"
        )
    return _NAME_CACHE[key], forms


def _role_label(role: str, lang: str) -> str:
    return group_label(role, lang) if role in RESPONDENT_GROUPS else role


# --------------------------------------------------------------------------- detection
def find_pii(text: str, *, registry: pd.DataFrame | None = None, lang: str = "en") -> pd.DataFrame:
    """Find personal data in a text.

    Parameters
    ----------
    text : str
    registry : DataFrame, optional
        ``person_id``, ``name``, ``role`` (see :func:`load_registry`). Names match as whole
        words, ignoring case, accents and the spacing between words.
    lang : {"en", "es"}
        Language of the replacement tags.

    Returns
    -------
    DataFrame
        ``start``, ``end`` (code points into ``text``), ``kind`` (one of :data:`PII_KINDS`),
        ``person_id`` (for names, else empty), ``replacement`` (the tag). Sorted by start;
        overlapping findings are resolved by the order of :data:`PII_KINDS`. The matched
        text itself is deliberately not included.
    """
    _check_lang(lang)
    tags = _TAGS[lang]
    norm, index = _normalise(text)
    found: list[tuple[int, int, str, str, str]] = []
    for m in _EMAIL.finditer(norm):
        found.append((m.start(), m.end(), "email", "", f"[{tags['email']}]"))
    for m in _DPI.finditer(norm):
        found.append((m.start(), m.end(), "dpi", "", f"[{tags['dpi']}]"))
    for m in _PHONE.finditer(norm):
        num = m.group("num")
        if m.group("cc") is None and (_YEAR_RANGE.match(num) or _COMPACT_DATE.match(num)):
            continue  # "2017-2018" is a period and "20170221" a date, not phone numbers
        if m.group("cc") is None and _legal_reference(norm, m.start(), m.end(), num):
            continue
        found.append((m.start(), m.end(), "phone", "", f"[{tags['phone']}]"))
    for m in _NIT.finditer(norm):
        found.append((m.start("num"), m.end("num"), "nit", "", f"[{tags['nit']}]"))
    if registry is not None and len(registry):
        pattern, forms = _name_pattern(registry)
        if pattern is not None:
            folded = _fold(norm)
            for m in pattern.finditer(folded):
                form = " ".join(w for w in _NAME_SPLIT.split(_strip_marks(m.group())) if w)
                i = forms.get(form)
                row = registry.iloc[i] if i is not None else None
                role = _role_label(str(row["role"]), lang) if row is not None else ""
                pid = str(row["person_id"]) if row is not None else ""
                tag = f"[{tags['person']}: {role}]" if role else f"[{tags['person']}]"
                found.append((m.start(), m.end(), "person", pid, tag))
    if index is not None:  # offsets into the original text
        found = [(index[s], index[e - 1] + 1, *rest) for s, e, *rest in found]
    rank = {k: i for i, k in enumerate(PII_KINDS)}
    found.sort(key=lambda f: (f[0], rank[f[2]], -(f[1] - f[0])))
    kept: list[tuple] = []
    for f in found:
        if kept and f[0] < kept[-1][1]:
            prev = kept[-1]
            if rank[f[2]] < rank[prev[2]] or (
                rank[f[2]] == rank[prev[2]] and f[1] - f[0] > prev[1] - prev[0]
            ):
                kept[-1] = (prev[0], max(prev[1], f[1]), f[2], f[3], f[4])
            else:
                kept[-1] = (prev[0], max(prev[1], f[1]), *prev[2:])
            continue
        kept.append(f)
    return pd.DataFrame(kept, columns=["start", "end", "kind", "person_id", "replacement"]).astype(
        {"start": np.int64, "end": np.int64}
    )


def _strip_marks(s: str) -> str:
    return "".join(c for c in s if not unicodedata.combining(c))


def redact(
    text: str, *, registry: pd.DataFrame | None = None, lang: str = "en"
) -> tuple[str, pd.DataFrame]:
    """Replace personal data in a text by tags.

    Names from the registry become ``[PERSON: <role>]`` (``[PERSONA: <rol>]`` in Spanish; a
    role that is a respondent group key is shown with its label), phone numbers ``[PHONE]``
    / ``[TELÉFONO]``, e-mails ``[EMAIL]``, DPI numbers ``[DPI]`` and NIT numbers ``[NIT]``.

    Returns
    -------
    (str, DataFrame)
        The redacted text, and the findings of :func:`find_pii` (offsets into the
        *original* text).

    Examples
    --------
    >>> reg = pd.DataFrame({"person_id": ["P1"], "name": ["Ana Pérez"], "role": ["teacher"]})
    >>> redact("Ana Perez: 5555-1234, ana@example.org", registry=reg)[0]
    '[PERSON: teacher]: [PHONE], [EMAIL]'
    """
    findings = find_pii(text, registry=registry, lang=lang)
    parts, prev = [], 0
    for start, end, tag in zip(
        findings["start"], findings["end"], findings["replacement"], strict=True
    ):
        parts.append(text[prev:start])
        covered = text[start:end]
        # a quote edge inside a finding moves outside its tag: never half a number
        parts.append(QUOTE_START * covered.count(QUOTE_START))
        parts.append(tag)
        parts.append(QUOTE_END * covered.count(QUOTE_END))
        prev = end
    parts.append(text[prev:])
    return "".join(parts), findings


#: Characters of context redacted on each side of a quote (longer than any phone, DPI, NIT
#: or e-mail form), so a number or name crossing the quote's edge is seen whole.
EXCERPT_CONTEXT = 256

_NUM_END = re.compile(r"\d[\d.,/ -]*$")
_NUM_START = re.compile(r"^[\d.,/ -]*\d")


def _cut_inside_number(before: str, after: str) -> bool:
    """True when the edge between ``before`` and ``after`` falls inside a number."""
    b, a = before[-2:], after[:2]
    return bool(
        (b[-1:].isdigit() and (a[:1].isdigit() or (a[:1] in "-./ " and a[1:2].isdigit())))
        or (a[:1].isdigit() and b[-1:] in ("-", ".", "/", " ") and b[:1].isdigit())
    )


def redact_excerpt(
    text: str,
    start: int,
    end: int,
    *,
    registry: pd.DataFrame | None = None,
    lang: str = "en",
    redact_fn: Callable[[str], str] | None = None,
) -> str:
    """The redacted stretch ``text[start:end]``, redacted in its context.

    Redacting a quote on its own misses a phone number or name that crosses the quote's edge
    (a segment ending "llame al 4190-00" would print the first six digits). Here the quote is
    marked inside a window of :data:`EXCERPT_CONTEXT` characters on each side, the window is
    redacted, and the quote is cut from the result: a finding that crosses an edge is replaced
    whole and its tag is kept in the quote. Any other number the edge cuts through is dropped
    from the quote rather than printed in part.

    Parameters
    ----------
    text : str
        The whole text (e.g. ``Project.text(source_id)``).
    start, end : int
        The quote's offsets into ``text``.
    registry, lang
        As for :func:`redact`.
    redact_fn : callable, optional
        ``text -> text`` to use instead of :func:`redact` (e.g. the report's redactor). It
        must keep the characters :data:`QUOTE_START` and :data:`QUOTE_END` (``redact`` does);
        if it drops them the quote is redacted on its own.
    """
    if redact_fn is None:

        def redact_fn(t: str) -> str:
            return redact(t, registry=registry, lang=lang)[0]

    start, end = max(0, int(start)), min(len(text), int(end))
    lo, hi = max(0, start - EXCERPT_CONTEXT), min(len(text), end + EXCERPT_CONTEXT)

    def clean(s: str) -> str:  # a text holding the marker characters itself
        return s.replace(QUOTE_START, "").replace(QUOTE_END, "")

    window = (
        clean(text[lo:start])
        + QUOTE_START
        + clean(text[start:end])
        + QUOTE_END
        + clean(text[end:hi])
    )
    out = redact_fn(window)
    i, j = out.find(QUOTE_START), out.rfind(QUOTE_END)
    if i < 0 or j < i or out.count(QUOTE_START) != 1 or out.count(QUOTE_END) != 1:
        return clean(redact_fn(clean(text[start:end])))
    before, quote, after = out[:i], out[i + 1 : j], out[j + 1 :]
    if _cut_inside_number(before, quote):
        quote = _NUM_START.sub("", quote, count=1)
    if _cut_inside_number(quote, after):
        quote = _NUM_END.sub("", quote, count=1)
    return quote


def redact_fields(
    df: pd.DataFrame,
    columns: Iterable[str] | None = None,
    *,
    registry: pd.DataFrame | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """A copy of ``df`` with every text cell of ``columns`` redacted (the input is unchanged).

    For tables shown to people: site notes, source notes, descriptions. ``columns`` defaults to
    :func:`free_text_columns` (every free-text column of a project table, including columns
    the schema does not know); absent columns are skipped. Non-text cells (numbers, missing
    values) pass through unchanged.
    """
    _check_lang(lang)
    out = df.copy()
    cols = free_text_columns(df) if columns is None else list(columns)
    for col in cols:
        if col not in out.columns:
            continue
        out[col] = out[col].map(
            lambda v: redact(v, registry=registry, lang=lang)[0] if isinstance(v, str) else v
        )
    return out


#: Columns of the project tables that hold identifiers or codes, never free text.
_CODE_COLUMNS = frozenset(
    {
        "site_id",
        "source_id",
        "segment_id",
        "respondent_id",
        "person_id",
        "respondent_group",
        "method",
        "date",
        "language",
        "consent",
        "text_path",
        "text_sha256",
        "text_chars",
        "code",
        "coder",
        "municipality_code",
        "start",
        "end",
        "valence",
        "criterion",
        "stratum",
        "obstacle",
        "_row",
    }
)


def free_text_columns(df: pd.DataFrame) -> list[str]:
    """The columns of a project table that may hold free text: every text column that is not
    an ID, a code or a number (``name``, ``notes``, ``coder_notes``, ``*_source``,
    ``description``, and any column a file adds)."""
    cols = []
    for col in df.columns:
        if col in _CODE_COLUMNS or not isinstance(col, str):
            continue
        s = df[col]
        if s.dtype == object or str(s.dtype) in ("string", "str"):
            cols.append(col)
    return cols


def scan_fields_pii(project) -> pd.DataFrame:
    """Personal data in the free-text cells of the project's tables and its descriptor.

    Scans :func:`free_text_columns` of ``sites.csv``, ``sources.csv``, ``segments.csv``
    (with the translations ``text_es``/``text_en``), ``items.csv`` and ``site_rounds.csv``,
    and the free-text entries of ``datapackage.json`` (``title``, ``description`` and their
    ``_es``/``_en`` variants, every text of the ``copeval`` block but its IDs -- ``title``,
    ``title_es``, ``period`` ... -- and the round labels).

    Returns
    -------
    DataFrame
        ``file``, ``row`` (spreadsheet row; empty for the descriptor), ``column``, ``kind``
        (the first kind found in the cell). Never the data itself.
    """
    registry = load_registry(project)
    rows = []
    tables = {
        "sites.csv": project.sites,
        "sources.csv": project.sources,
        "segments.csv": project.segments,
        "items.csv": project.items,
        "site_rounds.csv": getattr(project, "site_rounds", None),
    }
    for fname, df in tables.items():
        if df is None or df.empty:
            continue
        row_numbers = _row_numbers(project, fname, len(df))
        for col in free_text_columns(df):
            for i, value in enumerate(df[col]):
                if not isinstance(value, str) or not value.strip():
                    continue
                f = find_pii(value, registry=registry)
                if len(f):
                    rows.append((fname, row_numbers[i], col, f["kind"].iloc[0]))
    for key, value in _descriptor_texts(project):
        f = find_pii(value, registry=registry)
        if len(f):
            rows.append(("datapackage.json", None, key, f["kind"].iloc[0]))
    return pd.DataFrame(rows, columns=["file", "row", "column", "kind"])


def _row_numbers(project, fname: str, n: int) -> list[int]:
    rows = getattr(project, "_index", {}).get("rows", {}).get(fname)
    if rows is not None and len(rows) == n:
        return list(rows)
    return list(range(2, n + 2))


def _descriptor_texts(project) -> list[tuple[str, str]]:
    import json

    path = Path(project.path) / "datapackage.json"
    try:
        desc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return []
    if not isinstance(desc, dict):
        return []
    out = [(k, v) for k, v in desc.items() if isinstance(v, str) and _DESCRIPTOR_TEXT.fullmatch(k)]
    block = desc.get("copeval")
    if isinstance(block, dict):
        out += [
            (f"copeval.{k}", v)
            for k, v in block.items()
            if isinstance(v, str) and k not in _DESCRIPTOR_IDS
        ]
        rounds = block.get("rounds")
        for i, entry in enumerate(rounds if isinstance(rounds, list) else [], start=1):
            if isinstance(entry, dict):
                out += [
                    (f"copeval.rounds[{i}].{k}", v)
                    for k, v in entry.items()
                    if isinstance(v, str) and k.startswith("label")
                ]
    return out


#: Free-text entries at the top of ``datapackage.json``: title and description and their
#: language variants (``title_es``, ``description_en``).
_DESCRIPTOR_TEXT = re.compile(r"(title|description)(_[a-z]{2,3})?")
#: Entries of the ``copeval`` block that are IDs or switches, not text a person wrote (every
#: other text entry -- title and its variants, period, any later one -- is scanned).
_DESCRIPTOR_IDS = frozenset({"primary_coder", "reference_site", "written_by"})


def scan_project_pii(project) -> pd.DataFrame:
    """Personal data in the raw texts of a project (all sources, whatever their consent).

    Returns
    -------
    DataFrame
        ``source_id``, ``start``, ``end``, ``kind``, ``line`` (1-based line of ``start``),
        sorted by source and start. Used by ``copeval validate`` to warn.
    """
    registry = load_registry(project)
    rows = []
    for sid in project.sources["source_id"]:
        text = project.text(sid)
        f = find_pii(text, registry=registry)
        if f.empty:
            continue
        newlines = np.flatnonzero(np.frombuffer(text.encode("utf-32-le"), np.uint32) == 10)
        lines = np.searchsorted(newlines, f["start"].to_numpy()) + 1
        rows.append(
            f.assign(source_id=sid, line=lines)[["source_id", "start", "end", "kind", "line"]]
        )
    if not rows:
        return pd.DataFrame(
            {
                "source_id": pd.Series(dtype=object),
                "start": pd.Series(dtype=np.int64),
                "end": pd.Series(dtype=np.int64),
                "kind": pd.Series(dtype=object),
                "line": pd.Series(dtype=np.int64),
            }
        )
    return pd.concat(rows, ignore_index=True)


def _looks_like_name(value: str) -> bool:
    words = value.split()
    return len(words) >= 2 and all(w[:1].isupper() and w.isalpha() for w in words)


def scan_respondent_ids(project) -> pd.DataFrame:
    """Survey respondent IDs that look like personal data.

    Flags IDs containing an e-mail, phone, DPI or NIT number, a registry name, or shaped
    like a person's name (two or more capitalised words). The ID itself is not returned.

    Returns
    -------
    DataFrame
        ``instrument``, ``row`` (spreadsheet row: header is 1), ``kind``.
    """
    registry = load_registry(project)
    rows = []
    for inst, df in project.responses.items():
        for i, rid in enumerate(df["respondent_id"].astype(str), start=2):
            f = find_pii(rid, registry=registry)
            if len(f):
                rows.append((inst, i, f["kind"].iloc[0]))
            elif _looks_like_name(rid):
                rows.append((inst, i, "name-like"))
    return pd.DataFrame(rows, columns=["instrument", "row", "kind"])


def pii_problems(project) -> list[Problem]:
    """Warnings for ``copeval validate``: raw texts, free-text cells and respondent IDs
    holding personal data.

    One warning per text (with counts by kind and line numbers), one per free-text cell of
    every table and of ``datapackage.json`` (:func:`scan_fields_pii`) and one per suspicious
    respondent ID. Messages never repeat the personal data.
    """
    problems = []
    found = scan_project_pii(project)
    paths = dict(zip(project.sources["source_id"], project.sources["text_path"], strict=True))
    for sid, f in found.groupby("source_id", sort=False):
        parts = []
        for kind in PII_KINDS:
            k = f[f["kind"] == kind]
            if len(k):
                lines = sorted(set(k["line"].tolist()))
                shown = ", ".join(map(str, lines[:5])) + (" …" if len(lines) > 5 else "")
                parts.append(f"{len(k)} {_KIND_WORDS[kind]} (line {shown})")
        problems.append(
            Problem(
                file=str(paths.get(sid, sid)),
                message=(
                    f"raw text of source {sid!r} contains personal data: {'; '.join(parts)}. "
                    "Reports redact it; run `copeval redact` before sharing texts"
                ),
                severity="warning",
            )
        )
    for row in scan_fields_pii(project).itertuples(index=False):
        problems.append(
            Problem(
                file=row.file,
                message=(
                    f"free text contains personal data ({_KIND_WORDS[row.kind]}); reports "
                    "redact it, but remove it from the project before sharing the files"
                ),
                row=None if pd.isna(row.row) else int(row.row),
                column=row.column,
                severity="warning",
            )
        )
    for row in scan_respondent_ids(project).itertuples(index=False):
        problems.append(
            Problem(
                file=f"responses/{row.instrument}.csv",
                message=(
                    f"respondent_id looks like personal data ({row.kind}); use pseudonymous "
                    "IDs (copeval.privacy.pseudonymize)"
                ),
                row=int(row.row),
                column="respondent_id",
                severity="warning",
            )
        )
    return problems


# --------------------------------------------------------------------------- outputs
def redact_project(project, *, out: str | Path, lang: str | None = None) -> pd.DataFrame:
    """Write redacted copies of a project's texts; the originals are never touched.

    Every source whose consent is not ``none`` is redacted (:func:`redact`, with the
    project's registry) in its own language (``lang`` overrides; other languages get English
    tags) and written to ``<out>/<text_path>``, the path itself redacted (file names are
    often made from source IDs: ``texts/A-4103-0003.txt`` is written as
    ``texts/A-[PHONE].txt``; tags made portable as file names, names kept unique);
    ``<out>/findings.csv`` lists what was replaced (``source_id``, redacted the same way,
    ``start``, ``end``, ``kind``, ``replacement``; offsets into the original text). Sources with consent ``none`` are not written at all.

    Returns
    -------
    DataFrame
        The findings (as in ``findings.csv``).

    Raises
    ------
    CopevalError
        If ``out`` is the project folder or would overwrite an original text.
    """
    if lang is not None:
        _check_lang(lang)
    root = Path(project.path).resolve()
    out = Path(out)
    out_res = out.resolve()
    if out_res == root or out_res == (root / "texts").resolve():
        raise CopevalError(
            f"--out {out} is the project folder or its texts/; choose another folder so the "
            "original texts are never overwritten"
        )
    originals = {(root / p).resolve() for p in project.sources["text_path"]}
    registry = load_registry(project)
    src = project.sources[project.sources["consent"] != "none"]
    plan = []
    taken: set[str] = set()
    for sid, rel, language in zip(
        src["source_id"], src["text_path"], src["language"], strict=True
    ):
        tag_lang = lang or (language if language in _TAGS else "en")
        rel = _redacted_path(rel, registry, tag_lang, taken)
        target = safe_child(out, rel, what=f"text_path of source {sid!r}")
        if target.resolve() in originals:
            raise CopevalError(
                f"writing the redacted copy of {sid!r} to {target} would overwrite an original "
                "text; choose another --out folder"
            )
        plan.append((sid, rel, target, tag_lang))
    rows = []
    for sid, _rel, target, tag_lang in plan:
        redacted, f = redact(project.text(sid), registry=registry, lang=tag_lang)
        atomic_write_bytes(target, redacted.encode("utf-8"))
        shown = redact(sid, registry=registry, lang=tag_lang)[0]
        rows.append(f.drop(columns="person_id").assign(source_id=shown))
    cols = ["source_id", "start", "end", "kind", "replacement"]
    findings = pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
    atomic_write_csv(findings, out / "findings.csv", for_people=True)
    return findings


#: Characters a file name may not hold on some system (Windows), and white space.
_UNPORTABLE = re.compile(r'[:*?"<>|\\\s]+')


def _redacted_path(rel: str, registry, lang: str, taken: set) -> str:
    """``rel`` (a text's path in the project) with each part redacted, made a portable file
    name (``[PERSON: role]`` -> ``[PERSON-role]``) and unique among ``taken``."""
    parts = [redact(part, registry=registry, lang=lang)[0] for part in str(rel).split("/")]
    parts = [_UNPORTABLE.sub("-", p).strip("-. ") or "_" for p in parts]
    candidate = "/".join(parts)
    stem, dot, ext = candidate.rpartition(".")
    if not dot or "/" in ext:
        stem, dot, ext = candidate, "", ""
    n = 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}~{n}{dot}{ext}"
    taken.add(candidate.lower())
    return candidate


def pseudonymize(
    ids: Iterable[str] | pd.Series, *, key: str | bytes, prefix: str = "R", length: int = 8
) -> pd.Series:
    """Stable pseudonyms for identifiers: ``prefix`` + a keyed hash (HMAC-SHA256).

    The same ID and key always give the same pseudonym, so tables stay joinable; without the
    key, pseudonyms cannot be traced back by hashing candidate names or phone numbers. Keep
    the key out of the project folder.

    Parameters
    ----------
    ids : iterable of str or Series
    key : str or bytes
        Secret key (at least 16 characters).
    prefix : str
    length : int
        Hex digits kept (6..64).

    Returns
    -------
    Series
        Pseudonyms, aligned with ``ids`` (same index for a Series), named ``respondent_id``.

    Raises
    ------
    CopevalError
        For a short key, a bad length, or two different IDs getting the same pseudonym
        (increase ``length``).
    """
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes) or len(key) < 16:
        raise CopevalError("key must be a secret of at least 16 characters")
    if not 6 <= int(length) <= 64:
        raise CopevalError(f"length must lie in 6..64; got {length!r}")
    series = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype=object)
    values = series.astype(str)
    mapping: Mapping[str, str] = {
        v: prefix + hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
        for v in pd.unique(values)
    }
    if len(set(mapping.values())) < len(mapping):
        raise CopevalError(
            f"two IDs got the same pseudonym at length={length}; use a larger length"
        )
    return values.map(mapping).rename("respondent_id")
