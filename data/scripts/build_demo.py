"""Build the coded segments of the copeval demo project from its authoring sheet.

The demo project (``data/demo``) holds synthetic interview, focus-group, observation and
document texts modelled on the published findings of study 001 (see ``data/README.md``).
Coders do not type character offsets: they write, in ``authoring/coding.csv``, the exact
words of each coded passage. This script finds each passage in its text, converts it into
``[start, end)`` Unicode code-point offsets, assigns stable segment IDs, writes
``segments.csv`` and (re)writes ``datapackage.json``.

Usage (from the repository root)::

    python data/scripts/build_demo.py            # rebuild segments.csv and datapackage.json
    python data/scripts/build_demo.py --check    # dry run: validate and print the scores

``--check`` writes nothing. It recomputes the qualitative score of every site and criterion
with plain pandas (method.md: mean valence per source, then per triangulation stratum, then
an equal-weight mean across strata, rescaled to 0..4) and compares it with the target band
the demo must reproduce (the study's findings); it also prints inter-coder agreement on the
double-coded sources. It exits with status 1 when a target is missed.

Authoring sheet columns: ``source_id, quote, code, valence, coder``, and optionally
``quote_en`` / ``quote_es``: a person's translation of the quote, written to ``segments.csv``
as ``text_en`` / ``text_es`` (docs/data-model.md, "Language variants") for every segment of
that passage. ``quote`` must occur exactly once in the source's text; several codes on the
same passage are several rows with the same quote. Segment IDs are ``<source_id>-S<nnn>`` for the primary coder and
``<source_id>-<coder>-S<nnn>`` for every other coder, numbered per source in text order.
Dependencies: the standard library, pandas and copeval itself.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run from a checkout without installing copeval
    sys.path.insert(0, str(REPO))

from copeval.codebook import load_codebook  # noqa: E402
from copeval.project import write_datapackage  # noqa: E402
from copeval.vocabulary import CRITERIA, RESPONDENT_GROUPS  # noqa: E402

DEFAULT_PROJECT = REPO / "data" / "demo"
PRIMARY_CODER = "A"
META = {
    "title": "MOPSIC demo: Villa Canales and Totonicapán",
    "title_es": "Demostración MOPSIC: Villa Canales y Totonicapán",
    "title_en": "MOPSIC demo: Villa Canales and Totonicapán",
    "synthetic": True,
    "period": "2017-02/2018-05",
    "primary_coder": PRIMARY_CODER,
}
SHEET_COLUMNS = ["source_id", "quote", "code", "valence", "coder"]
SEGMENT_COLUMNS = ["segment_id", "source_id", "start", "end", "code", "valence", "coder"]
#: Optional translation columns of the sheet -> segments.csv columns.
TRANSLATIONS = {"quote_en": "text_en", "quote_es": "text_es"}

#: Target band (0..4 scale) per site and criterion: the study's findings (docs/domain.md).
TARGETS = {
    ("VC", "C1"): (2.4, 3.2, "acceptable"),
    ("TOT", "C1"): (2.4, 3.2, "acceptable"),
    ("VC", "C2"): (1.6, 2.4, "passable"),
    ("TOT", "C2"): (3.2, 4.0, "strong"),
    ("VC", "C3"): (0.8, 1.6, "limited"),
    ("TOT", "C3"): (0.8, 1.6, "limited"),
    ("VC", "C4"): (0.3, 1.1, "lowest of C1-C4"),
    ("TOT", "C4"): (0.3, 1.1, "lowest of C1-C4"),
    ("VC", "AT"): (1.8, 2.4, "middling"),
    ("TOT", "AT"): (1.8, 2.4, "middling"),
}
#: Keep scores this far inside their bands, so small edits do not flip a rating.
MARGIN = 0.1
WORDS = (150, 450)


class BuildError(Exception):
    """The authoring sheet or the texts are inconsistent; the message lists every problem."""


# --------------------------------------------------------------------------------------
# Reading and locating quotes


def read_csv(path: Path) -> pd.DataFrame:
    """Read a UTF-8 CSV with every cell as text (IDs stay strings, empty cells are NA)."""
    if not path.is_file():
        raise BuildError(f"{path}: file not found")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").replace(
        {"": pd.NA}
    )


def read_texts(project: Path, sources: pd.DataFrame) -> dict[str, str]:
    """Texts by source_id, decoded as UTF-8 (a BOM is removed, line endings kept)."""
    texts, problems = {}, []
    for sid, rel in zip(sources["source_id"], sources["text_path"], strict=True):
        path = project / rel
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                texts[sid] = fh.read()
        except FileNotFoundError:
            problems.append(f"sources.csv: text of {sid!r} not found at {rel}")
        except UnicodeDecodeError as exc:
            problems.append(f"{rel}: not valid UTF-8 ({exc.reason} at byte {exc.start})")
    if problems:
        raise BuildError("\n".join(problems))
    return texts


def locate(sheet: pd.DataFrame, texts: dict[str, str]) -> pd.DataFrame:
    """Validate the authoring sheet and add ``start``/``end`` code-point offsets.

    Every problem is collected and raised together, each naming the sheet row (header is
    row 1) and column.
    """
    missing = [c for c in SHEET_COLUMNS if c not in sheet.columns]
    if missing:
        raise BuildError(f"authoring/coding.csv: missing column(s) {missing}")
    codebook = load_codebook()
    problems, starts, ends, valences = [], [], [], []
    for i, rec in enumerate(sheet.itertuples(index=False), start=2):
        where = f"authoring/coding.csv row {i}"
        start = end = valence = None
        if pd.isna(rec.coder) or rec.coder != rec.coder.strip():
            problems.append(f"{where}, column 'coder': missing or padded value {rec.coder!r}")
        if rec.source_id not in texts:
            problems.append(f"{where}, column 'source_id': unknown source {rec.source_id!r}")
        elif pd.isna(rec.quote):
            problems.append(f"{where}, column 'quote': empty")
        else:
            text = texts[rec.source_id]
            first = text.find(rec.quote)
            if first < 0:
                problems.append(
                    f"{where}, column 'quote': not found in texts/{rec.source_id}.txt: "
                    f"{rec.quote!r}"
                )
            elif text.find(rec.quote, first + 1) >= 0:
                problems.append(
                    f"{where}, column 'quote': occurs more than once in "
                    f"texts/{rec.source_id}.txt; quote a longer passage: {rec.quote!r}"
                )
            else:
                start, end = first, first + len(rec.quote)
        if rec.code not in codebook:
            problems.append(f"{where}, column 'code': {rec.code!r} is not a codebook code")
        try:
            valence = int(rec.valence)
        except (TypeError, ValueError):
            problems.append(f"{where}, column 'valence': {rec.valence!r} is not an integer")
        else:
            if not -2 <= valence <= 2:
                problems.append(f"{where}, column 'valence': {valence} is outside -2..2")
            elif rec.code in codebook and codebook.is_obstacle(rec.code) and valence > 0:
                problems.append(
                    f"{where}, column 'valence': obstacle code {rec.code} takes -2..0, "
                    f"got {valence}"
                )
        starts.append(start)
        ends.append(end)
        valences.append(valence)
    if problems:
        raise BuildError("\n".join(problems))
    out = sheet.assign(
        start=starts, end=ends, valence=valences, sheet_row=range(2, len(sheet) + 2)
    )
    dup = out.duplicated(["source_id", "start", "end", "code", "coder"], keep=False)
    if dup.any():
        rows = out.loc[dup, "sheet_row"].tolist()
        raise BuildError(f"authoring/coding.csv rows {rows}: same passage, code and coder twice")
    # Second coders re-code the primary coder's passages (that is what reliability compares).
    primary = set(
        out.loc[out["coder"] == PRIMARY_CODER, ["source_id", "start", "end"]].itertuples(
            index=False, name=None
        )
    )
    stray = [
        r.sheet_row
        for r in out[out["coder"] != PRIMARY_CODER].itertuples(index=False)
        if (r.source_id, r.start, r.end) not in primary
    ]
    if stray:
        raise BuildError(
            f"authoring/coding.csv rows {stray}: a second coder coded a passage that "
            f"coder {PRIMARY_CODER} did not code"
        )
    return out


def assign_ids(located: pd.DataFrame, source_order: list[str]) -> pd.DataFrame:
    """Number segments per source and coder in text order; return segments.csv's table."""
    order = {sid: k for k, sid in enumerate(source_order)}
    df = located.assign(
        _src=located["source_id"].map(order),
        _coder=(located["coder"] != PRIMARY_CODER).astype(int),
    ).sort_values(["_src", "_coder", "coder", "start", "end", "sheet_row"], kind="stable")
    n = df.groupby(["source_id", "coder"], sort=False).cumcount() + 1
    prefix = df["source_id"].where(
        df["coder"] == PRIMARY_CODER, df["source_id"] + "-" + df["coder"]
    )
    df["segment_id"] = prefix + "-S" + n.map("{:03d}".format)
    extra = []
    for sheet_col, seg_col in TRANSLATIONS.items():
        if sheet_col in df.columns and df[sheet_col].notna().any():
            # one translation per passage: every segment of that passage carries it
            per_passage = df.groupby(["source_id", "quote"])[sheet_col].transform("first")
            df[seg_col] = per_passage
            extra.append(seg_col)
    return df[SEGMENT_COLUMNS + extra].reset_index(drop=True)


def build(project: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Return (segments, sources, texts) built from the project's authoring sheet."""
    sources = read_csv(project / "sources.csv")
    texts = read_texts(project, sources)
    sheet = read_csv(project / "authoring" / "coding.csv")
    segments = assign_ids(locate(sheet, texts), sources["source_id"].tolist())
    return segments, sources, texts


def write_segments(segments: pd.DataFrame, path: Path) -> None:
    segments.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


# --------------------------------------------------------------------------------------
# The check: qualitative scores (method.md) and inter-coder agreement


def evidence(segments: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Primary coder's segments from consented sources, with criterion and stratum."""
    codebook = load_codebook()
    ev = segments[segments["coder"] == PRIMARY_CODER].merge(
        sources[["source_id", "site_id", "respondent_group", "consent"]], on="source_id"
    )
    ev = ev[ev["consent"] != "none"].copy()
    ev["criterion"] = ev["code"].map(codebook.criterion_of)
    ev["stratum"] = ev["respondent_group"].map(lambda g: RESPONDENT_GROUPS[g][0])
    ev["valence"] = ev["valence"].astype(float)
    return ev


def scores(ev: pd.DataFrame, *, via_group: bool = False) -> pd.DataFrame:
    """Score per site and criterion on 0..4.

    Source mean -> stratum mean -> equal-weight mean over strata, + 2. With ``via_group``
    the source means are first averaged per respondent group, and the group means per
    stratum (a variant reading of method.md; the demo must pass under both).
    """
    src = ev.groupby(
        ["site_id", "criterion", "stratum", "respondent_group", "source_id"], as_index=False
    )["valence"].mean()
    if via_group:
        src = src.groupby(["site_id", "criterion", "stratum", "respondent_group"], as_index=False)[
            "valence"
        ].mean()
    strat = src.groupby(["site_id", "criterion", "stratum"], as_index=False)["valence"].mean()
    out = strat.groupby(["site_id", "criterion"]).agg(
        mean=("valence", "mean"), strata=("stratum", "nunique")
    )
    out["score"] = out["mean"] + 2
    positive = ev[ev["valence"] > 0].groupby(["site_id", "criterion"])["stratum"].nunique()
    out["positive_strata"] = positive.reindex(out.index).fillna(0).astype(int)
    out["sources"] = ev.groupby(["site_id", "criterion"])["source_id"].nunique()
    return out.drop(columns="mean").reset_index()


def krippendorff_alpha(pairs: list[tuple], level: str) -> float:
    """Krippendorff's alpha for two coders and no missing values ("nominal" or "ordinal")."""
    values = sorted({v for p in pairs for v in p})
    if len(values) < 2:
        return float("nan")
    o = pd.DataFrame(0.0, index=values, columns=values)
    for a, b in pairs:
        o.loc[a, b] += 1
        o.loc[b, a] += 1
    n_c = o.sum(axis=1)
    n = n_c.sum()

    def delta2(c, k):
        if level == "nominal":
            return 0.0 if c == k else 1.0
        lo, hi = sorted((values.index(c), values.index(k)))
        return (n_c.iloc[lo : hi + 1].sum() - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(o.loc[c, k] * delta2(c, k) for c in values for k in values) / n
    expected = sum(n_c[c] * n_c[k] * delta2(c, k) for c in values for k in values) / (n * (n - 1))
    return 1 - observed / expected


def agreement(segments: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Agreement between the primary and the second coder on the passages both coded."""
    a = segments[segments["coder"] == PRIMARY_CODER]
    b = segments[segments["coder"] != PRIMARY_CODER]
    span = ["source_id", "start", "end"]
    shared = b[span].drop_duplicates().merge(a, on=span)
    units = shared[span].drop_duplicates()

    def rank(df):  # pair the two coders' rows on a passage in code order
        return df.assign(k=df.sort_values("code").groupby(span).cumcount())

    paired = rank(shared).merge(rank(b), on=[*span, "k"], suffixes=("_a", "_b"))
    val_pairs = list(zip(paired["valence_a"], paired["valence_b"], strict=True))
    summary = {
        "double-coded sources": shared["source_id"].nunique(),
        "passages": len(units),
        "exact valence agreement": (paired["valence_a"] == paired["valence_b"]).mean(),
        "valence alpha (ordinal)": krippendorff_alpha(val_pairs, "ordinal"),
        "code agreement": (paired["code_a"] == paired["code_b"]).mean(),
    }
    rows = []
    for code in sorted(set(shared["code"]) | set(b["code"])):
        has_a = units.merge(shared[shared["code"] == code][span], how="left", indicator=True)
        has_b = units.merge(b[b["code"] == code][span], how="left", indicator=True)
        pa = (has_a.drop_duplicates(span)["_merge"] == "both").astype(int)
        pb = (has_b.drop_duplicates(span)["_merge"] == "both").astype(int)
        rows.append(
            {
                "code": code,
                "A": int(pa.sum()),
                "B": int(pb.sum()),
                "both": int((pa & pb).sum()),
                "alpha": krippendorff_alpha(list(zip(pa, pb, strict=True)), "nominal"),
            }
        )
    return summary, pd.DataFrame(rows)


def corpus_facts(sources: pd.DataFrame, texts: dict[str, str]) -> pd.DataFrame:
    """Per site: sources, respondent groups, observations, documents, consent, dates, words."""
    df = sources.assign(words=sources["source_id"].map(lambda s: len(texts[s].split())))
    return df.groupby("site_id").agg(
        sources=("source_id", "size"),
        groups=("respondent_group", "nunique"),
        observations=("respondent_group", lambda g: int((g == "observation").sum())),
        documents=("respondent_group", lambda g: int((g == "document").sum())),
        english=("language", lambda x: int((x == "en").sum())),
        consent_none=("consent", lambda x: int((x == "none").sum())),
        consent_anonymous=("consent", lambda x: int((x == "anonymous").sum())),
        first=("date", "min"),
        last=("date", "max"),
        words_min=("words", "min"),
        words_max=("words", "max"),
    )


def check(segments: pd.DataFrame, sources: pd.DataFrame, texts: dict[str, str]) -> bool:
    """Print the check tables; return True when every target is met."""
    ok = True
    pd.set_option("display.width", 120)
    facts = corpus_facts(sources, texts)
    print("Corpus\n" + facts.to_string() + "\n")
    short = facts[(facts["words_min"] < WORDS[0]) | (facts["words_max"] > WORDS[1])]
    if not short.empty:
        print(f"MISS: some texts fall outside {WORDS[0]}-{WORDS[1]} words")
        ok = False

    primary = segments[segments["coder"] == PRIMARY_CODER]
    print(
        f"Segments: {len(primary)} by coder {PRIMARY_CODER} "
        f"({primary.groupby('source_id').size().agg(['min', 'max']).tolist()} per source), "
        f"{len(segments) - len(primary)} by other coders\n"
    )
    ev = evidence(segments, sources)
    main = scores(ev)
    variant = scores(ev, via_group=True).set_index(["site_id", "criterion"])["score"]
    main["score_via_group"] = [
        variant[(s, c)] for s, c in zip(main["site_id"], main["criterion"], strict=True)
    ]
    verdicts = []
    for rec in main.itertuples(index=False):
        lo, hi, label = TARGETS[(rec.site_id, rec.criterion)]
        inside = all(lo + MARGIN <= x <= hi - MARGIN for x in (rec.score, rec.score_via_group))
        strong_ok = rec.score < 3 or rec.positive_strata >= 2
        verdicts.append(f"{label} [{lo}, {hi}]" + ("" if inside and strong_ok else "  <-- MISS"))
        ok &= inside and strong_ok
    main["target"] = verdicts
    main["criterion"] = pd.Categorical(main["criterion"], CRITERIA, ordered=True)
    main = main.sort_values(["site_id", "criterion"], ascending=[False, True])
    print("Qualitative scores (0..4)\n" + main.round(2).to_string(index=False) + "\n")
    for site, tab in main.groupby("site_id", observed=True):
        four = tab[tab["criterion"] != "AT"].set_index("criterion")["score"]
        if four.idxmin() != "C4":
            print(f"MISS: C4 is not the lowest of C1-C4 at {site}")
            ok = False

    summary, per_code = agreement(segments)
    print("Inter-coder agreement (primary vs second coder, same passages)")
    for key, value in summary.items():
        print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
    print(per_code.round(3).to_string(index=False))
    alpha = summary["valence alpha (ordinal)"]
    if not 0.7 <= alpha <= 0.85:
        print(f"MISS: valence alpha {alpha:.3f} outside the intended 0.70-0.85")
        ok = False
    print("\nAll targets met." if ok else "\nSome targets missed.")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "project",
        nargs="?",
        type=Path,
        default=DEFAULT_PROJECT,
        help="project folder (default: data/demo)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate and print scores and agreement; write nothing; exit 1 on a missed target",
    )
    args = parser.parse_args(argv)
    try:
        segments, sources, texts = build(args.project)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        return 0 if check(segments, sources, texts) else 1
    write_segments(segments, args.project / "segments.csv")
    write_datapackage(args.project, meta=META)
    print(
        f"wrote {len(segments)} segments to {args.project / 'segments.csv'} and datapackage.json"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
