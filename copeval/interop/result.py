"""The outcome of an import, and how it enters a project folder.

An import first builds tables in memory (:class:`QualitativeImport`, :class:`SurveyImport`);
:func:`write_import` then merges them into a project folder: holding the project's lock, it
writes the merged project into a staging copy beside the target, validates it, and switches
it in atomically (:mod:`copeval.interop.transaction`). A failed, refused or killed import
leaves the project byte-identical. Existing data is never replaced silently: survey
respondents are appended, and anything dropped needs an explicit option and is counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._io import safe_child
from ..errors import CopevalError, ImportValidationError, Problem, ProjectValidationError
from ..project import table_columns, validate_project, write_project
from ..vocabulary import parse_respondent_groups
from .report import ImportReport
from .transaction import (
    keep_package_fields,
    project_lock,
    read_descriptor,
    recover,
    staged_project,
)

__all__ = [
    "ImportValidationError",
    "QualitativeImport",
    "SurveyImport",
    "minimal_sites",
    "write_import",
]

_PROJECT_FILES = ("sites.csv", "sources.csv", "segments.csv", "datapackage.json")
#: Columns of an imported sources table (the project's, less the text path copeval assigns).
SOURCE_COLUMNS = [c for c in table_columns("sources") if c != "text_path"]
SEGMENT_COLUMNS = table_columns("segments")


def minimal_sites(site_ids: Iterable[str], *, origin: str) -> pd.DataFrame:
    """Placeholder ``sites.csv`` rows for sites named by imported data.

    ``name`` is the site ID and ``department`` is ``unknown``; ``notes`` says where the row
    came from. Edit them before reporting.
    """
    ids = sorted({str(s) for s in site_ids if s is not None and not pd.isna(s)})
    return pd.DataFrame(
        {
            "site_id": ids,
            "name": ids,
            "department": ["unknown"] * len(ids),
            "notes": [
                f"created by copeval import from {Path(origin).name}; fill in name and department"
            ]
            * len(ids),
        }
    )


@dataclass
class QualitativeImport:
    """Sources, texts and segments read from a QDA tool, not yet written.

    Attributes
    ----------
    sources : DataFrame
        ``source_id, site_id, respondent_group, method, date, language, consent,
        coder_notes``.
    segments : DataFrame
        ``segment_id, source_id, start, end, code, valence, coder``.
    texts : dict
        source_id -> text.
    sites : DataFrame
        Minimal rows for every site named (used for sites the project does not have yet).
    report : ImportReport
    title : str
        Title for a new project.
    """

    sources: pd.DataFrame
    segments: pd.DataFrame
    texts: dict
    sites: pd.DataFrame
    report: ImportReport
    title: str = ""


@dataclass
class SurveyImport:
    """Survey responses read from a KoboToolbox/ODK export, not yet written.

    Attributes
    ----------
    instrument : str
    responses : DataFrame
        ``respondent_id, site_id`` [``weight``, ``cluster``] and one ``Int64`` column per item.
    items : DataFrame or None
        The item map rows of the instrument, when they come from a file rather than from
        the target project.
    sites : DataFrame
        Minimal rows for every site named.
    report : ImportReport
    items_origin : str or None
        The item-map file ``items`` came from (named in errors).
    rows : dict
        ``respondent_id -> row`` of the export as a spreadsheet shows it (named in errors).
    """

    instrument: str
    responses: pd.DataFrame
    items: pd.DataFrame | None
    sites: pd.DataFrame
    report: ImportReport
    title: str = ""
    extra: dict = field(default_factory=dict)
    items_origin: str | None = None
    rows: dict = field(default_factory=dict)


def _stored_meta(root: Path) -> dict:
    """The metadata as written in datapackage.json (not the defaults loading fills in, such
    as a derived primary coder, which must stay derived after new segments arrive)."""
    desc = read_descriptor(root)
    block = desc.get("copeval", {})
    keys = (
        "title",
        "synthetic",
        "period",
        "primary_coder",
        "reference_site",
        "respondent_groups",
    )
    return {k: block[k] for k in keys if isinstance(block, dict) and k in block}


def project_groups(root: str | Path) -> dict:
    """Respondent groups of the project in ``root`` (the defaults when there is none)."""
    block = read_descriptor(root).get("copeval", {})
    declared = block.get("respondent_groups") if isinstance(block, dict) else None
    return parse_respondent_groups(declared)[0]


def _has_project(root: Path) -> bool:
    return any((root / f).exists() for f in _PROJECT_FILES)


def _canon(v) -> str:
    """A cell as comparable text: missing -> "", 3.0 -> "3", True -> "true"."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return (
        str(v).strip().lower() if str(v).strip().lower() in ("true", "false") else str(v).strip()
    )


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(object).map(_canon)


_OPTIONAL_RESPONSE_COLUMNS = ("weight", "cluster")


def _sites_of(df: pd.DataFrame) -> str:
    return ", ".join(sorted({str(s) for s in df["site_id"]})) if "site_id" in df else ""


_KEY_SEP = "\x1f"


def _respondent_key(df: pd.DataFrame) -> pd.Index:
    """A respondent's identity in a responses table: ``respondent_id``, prefixed by its
    ``round`` in a project with rounds (the same ID in two rounds is a panel respondent)."""
    ids = df["respondent_id"].astype(str)
    if "round" in df.columns:
        rounds = df["round"].map(lambda v: "" if v is None or pd.isna(v) else str(v))
        ids = rounds + _KEY_SEP + ids
    return pd.Index(ids.to_numpy(), dtype=object)


def _shown_key(key: str) -> str:
    rnd, sep, rid = key.partition(_KEY_SEP)
    return f"{rid} (round {rnd})" if sep and rnd else (rid if sep else key)


def _merge_responses(
    old: pd.DataFrame | None,
    new: pd.DataFrame,
    *,
    inst: str,
    force: bool,
    replace: bool,
    report: ImportReport,
) -> pd.DataFrame:
    """Append the new respondents to the project's; never drop a row without saying so.

    Respondents of the export the project already has with the same answers are kept; with
    other answers they are an error, or with ``force`` replaced (counted). ``replace``
    drops every existing respondent of the instrument (counted, with their sites).
    Columns one side lacks are explained: ``weight``/``cluster`` stay empty for the rows
    that lack them; item columns the new item map no longer has would lose answers, so they
    are an error unless ``replace``.
    """
    name = f"responses/{inst}.csv"
    if old is None or old.empty:
        return new
    if replace:
        report.warn(
            f"--replace-responses: dropped all {len(old)} existing respondent(s) of {name} "
            f"(site(s) {_sites_of(old)}) and imported {len(new)} from the export"
        )
        return new
    old_only = [c for c in old.columns if c not in new.columns]
    new_only = [c for c in new.columns if c not in old.columns]
    lost_items = [c for c in old_only if c not in _OPTIONAL_RESPONSE_COLUMNS]
    if lost_items:
        raise CopevalError(
            f"{name} has answers to item(s) {', '.join(lost_items[:10])} that the item map "
            f"given no longer has: appending would lose them. Keep the project's item map, or "
            f"use --replace-responses to drop its {len(old)} respondent(s) "
            f"(site(s) {_sites_of(old)}) and keep only the export's {len(new)}"
        )
    if "weight" in old_only and old["weight"].notna().any():
        raise CopevalError(
            f"{name} holds design weights (column 'weight') and the export has none: the "
            f"{len(new)} new respondent(s) would have no weight, and a survey with some "
            "weights missing cannot be scored. Add a 'weight' column to the export (any "
            f"group), or use --replace-responses to drop the {len(old)} existing "
            f"respondent(s) (site(s) {_sites_of(old)}) and keep only the export's"
        )
    if "weight" in new_only and len(old):
        raise CopevalError(
            f"the export has design weights (column 'weight') and the {len(old)} "
            f"respondent(s) already in {name} have none; a survey with some weights missing "
            "cannot be scored. Drop the weight column from the export, add weights to "
            f"{name}, or use --replace-responses to keep only the export's respondents"
        )
    for c in old_only:
        report.warn(
            f"{name} has a {c!r} column that the export lacks: the {len(new)} new "
            f"respondent(s) get an empty {c}"
            + (
                " (cluster-robust intervals need every respondent's cluster)"
                if c == "cluster"
                else ""
            )
        )
    for c in new_only:
        what = "column" if c in _OPTIONAL_RESPONSE_COLUMNS else "item"
        report.warn(
            f"the export has a {c!r} {what} that {name} lacks: the {len(old)} existing "
            f"respondent(s) get an empty {c}"
        )
    cols = [c for c in new.columns if c in old.columns]
    # a respondent is (round, respondent_id): the same ID in another round is a panel
    old_key, new_key = _respondent_key(old), _respondent_key(new)
    old_t = _as_text(old[cols]).set_axis(old_key, axis=0)
    new_t = _as_text(new[cols]).set_axis(new_key, axis=0)
    common = old_t.index.intersection(new_t.index)
    differing = [r for r in common if not old_t.loc[r].equals(new_t.loc[r])]
    shown = [_shown_key(r) for r in differing]
    if differing and not force:
        raise CopevalError(
            f"{name} already holds {len(differing)} respondent(s) of this export with "
            f"different answers (e.g. {', '.join(shown[:5])}); --force replaces these "
            f"{len(differing)} respondent(s) and nothing else; --replace-responses drops all "
            f"{len(old)} existing respondent(s) (site(s) {_sites_of(old)})"
        )
    same = len(common) - len(differing)
    if same:
        report.warn(f"{same} respondent(s) already in {name} with the same answers; kept")
    if differing:
        report.warn(
            f"--force: replaced {len(differing)} respondent(s) of {name} whose answers changed "
            f"({', '.join(shown[:5])}{' ...' if len(differing) > 5 else ''})"
        )
    order = list(old.columns) + new_only
    new = new.copy()
    if differing and old_only:  # keep what only the project knew (e.g. a weight)
        prev = old.set_axis(old_key, axis=0)
        for c in old_only:
            new[c] = [prev[c].get(k, pd.NA) for k in new_key]
    keep_old = old[~old_key.isin(differing)]
    add_new = new[~new_key.isin(common.difference(differing))]
    added = len(add_new) - len(differing)
    if added:
        report.warn(
            f"{added} new respondent(s) appended to {name} (it held {len(old)}); "
            "no existing respondent was dropped"
            if not differing
            else f"{added} new respondent(s) appended to {name} (it held {len(old)})"
        )
    merged = pd.concat(
        [keep_old.reindex(columns=order), add_new.reindex(columns=order)], ignore_index=True
    )
    for c in order:  # a column one side lacks must not turn whole answers into floats
        if "Int" in str(new[c].dtype if c in new else old[c].dtype):
            merged[c] = pd.array(
                merged[c].astype(object).where(merged[c].notna(), None), dtype="Int64"
            )
    return merged


def _explain(
    problems, *, root: Path, origin: str, result, tables: dict, rnd: str | None = None
) -> list[Problem]:
    """Rewrite problems of the trial project that concern imported data so that they name
    the user's file (and the source, segment, item or respondent), not the trial files."""
    out = []
    sources, segments = tables["sources"], tables["segments"]
    items, responses = tables["items"], tables["responses"] or {}
    survey = isinstance(result, SurveyImport)
    new_sources = set() if survey else set(result.sources["source_id"])
    new_segments = set() if survey else set(result.segments["segment_id"])
    for p in problems:
        idx = None if p.row is None else p.row - 2
        moved = None
        try:
            if p.file == "sources.csv" and idx is not None:
                sid = sources["source_id"].iloc[idx]
                if sid in new_sources:
                    moved = Problem(
                        origin, f"source {sid!r}: {p.message}", None, p.column, p.value, p.severity
                    )
            elif p.file == "segments.csv" and idx is not None:
                seg = segments["segment_id"].iloc[idx]
                if seg in new_segments:
                    moved = Problem(
                        origin,
                        f"segment {seg!r}: {p.message}",
                        None,
                        p.column,
                        p.value,
                        p.severity,
                    )
            elif p.file == "items.csv" and idx is not None and survey and items is not None:
                inst, item = items["instrument"].iloc[idx], items["item"].iloc[idx]
                if result.items is not None and inst == result.instrument:
                    moved = Problem(
                        result.items_origin or "the item map given",
                        f"item {item!r} of {inst!r}: {p.message}",
                        None,
                        p.column,
                        p.value,
                        p.severity,
                    )
            elif survey and p.file == f"responses/{result.instrument}.csv" and idx is not None:
                df = responses.get(result.instrument)
                rid = df["respondent_id"].iloc[idx] if df is not None else None
                same_round = rnd is None or "round" not in df or df["round"].iloc[idx] == rnd
                if rid in result.rows and same_round:
                    moved = Problem(
                        origin, p.message, result.rows[rid], p.column, p.value, p.severity
                    )
        except (IndexError, KeyError):
            moved = None
        out.append(moved or p)
    return out


def write_import(
    result,
    into: str | Path,
    *,
    force: bool = False,
    replace_responses: bool = False,
    origin: str | None = None,
    round: str | None = None,
):
    """Write an import into a project folder, creating the project if needed.

    The project is locked (a second writer gets :class:`~.transaction.ProjectLockedError`),
    the merged project is written to a staging copy beside it and validated, and only a
    valid result is switched in, atomically. On any error the project is left
    byte-identical.

    Parameters
    ----------
    result : QualitativeImport or SurveyImport
    into : str or Path
        Project folder. When it holds no project, a new one is created (with minimal
        ``sites.csv`` rows for the sites the data names; a non-empty folder that is not a
        project is refused unless ``force``).
    force : bool
        Replace sources, item-map rows, or survey respondents (same ID, other answers) that
        the project already has; each replacement is counted in the report. New survey
        respondents are always appended.
    replace_responses : bool
        Drop every existing respondent of the instrument and keep only the export's (the
        report says how many rows were dropped).
    origin : str, optional
        The imported file, named in errors (default: the report's file).
    round : str, optional
        Evaluation round of every imported source or survey response (``--round R``); it
        must be declared in the project's ``datapackage.json`` (``rounds``). Default: the
        only declared round; required when the project declares two or more; refused
        when it declares none. Survey respondents are keyed by (round, respondent_id): the
        same respondent in two rounds is a panel respondent, not a duplicate.

    Returns
    -------
    Project
        The loaded, validated project.

    Raises
    ------
    CopevalError
        Clashes with existing data, an invalid existing project, a locked project, or a
        failed write (disk full: :class:`~.transaction.ProjectWriteError`).
    ImportValidationError
        The merged project would be invalid (nothing is written), naming the imported file.
    """
    from ..project import load_project

    root = Path(into)
    report = result.report
    origin = origin or report.file
    if root.exists() and not root.is_dir():
        raise CopevalError(f"{root} exists and is not a folder")
    here = Path.cwd().resolve()
    if root.exists() and (here == root.resolve() or root.resolve() in here.parents):
        raise CopevalError(
            f"{root} is the current folder (or holds it): an import replaces the project "
            "folder as a whole, so run it from outside, e.g. `cd ..` first"
        )
    with project_lock(root):
        for line in recover(root):
            report.warn(line)
        existing = _has_project(root)
        if not existing and root.exists() and any(root.iterdir()) and not force:
            raise CopevalError(
                f"{root} is not empty and holds no copeval project; choose a new or empty "
                "folder (or use --force to write into it)"
            )
        rnd = _import_round(root, existing, round)
        tables = _merge(result, root, existing, force=force, replace=replace_responses, rnd=rnd)
        old_desc = read_descriptor(root) if existing else {}
        with staged_project(root, copy_existing=root.is_dir()) as stage:
            write_project(stage, overwrite=True, **tables)
            keep_package_fields(stage, old_desc)
            problems = validate_project(stage)
            if any(p.severity == "error" for p in problems):
                raise ImportValidationError(
                    root,
                    _explain(
                        problems, root=root, origin=origin, result=result, tables=tables, rnd=rnd
                    ),
                    origin=origin,
                )
    return load_project(root)


def placeholder_title(origin: str) -> str:
    """Title of a project created by an import whose file names no project (a recognised
    placeholder: :func:`copeval.project.is_placeholder`)."""
    return f"created by copeval import from {Path(str(origin)).name}; fill in the title"


def fieldwork_period(dates) -> str | None:
    """``YYYY-MM/YYYY-MM`` (or ``YYYY-MM`` for one month) spanned by ISO dates; None
    without any."""
    months = sorted({str(d)[:7] for d in dates if isinstance(d, str) and len(d) >= 7})
    if not months:
        return None
    return months[0] if months[0] == months[-1] else f"{months[0]}/{months[-1]}"


def _derive_period(meta: dict, sources: pd.DataFrame, report: ImportReport) -> None:
    """Fill in the project's fieldwork period from its sources' dates when nobody wrote
    one (or a placeholder stands there); never replaces a period a person wrote."""
    from ..project import is_placeholder

    current = meta.get("period")
    if isinstance(current, str) and current.strip() and not is_placeholder(current):
        return
    if "date" not in sources.columns:
        return
    period = fieldwork_period(sources["date"].dropna())
    if period is None:
        return
    meta["period"] = period
    report.warn(
        f"datapackage.json: fieldwork period set to {period} from the sources' dates "
        "(edit 'period' in its copeval block if the fieldwork spans more)"
    )


def declared_rounds(root: str | Path) -> list[str]:
    """IDs of the rounds declared in a project's ``datapackage.json`` ([] when none)."""
    block = read_descriptor(root).get("copeval", {})
    rounds = block.get("rounds") if isinstance(block, dict) else None
    if not isinstance(rounds, list):
        return []
    return [r["id"] for r in rounds if isinstance(r, dict) and isinstance(r.get("id"), str)]


def _printable(text: str) -> str:
    """``text`` with every character that is not printable (controls, escape sequences,
    bidi overrides) written as its Python escape: safe to print to a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _import_round(root: Path, existing: bool, rnd: str | None) -> str | None:
    """The round an import belongs to (``--round R``), checked against the project's
    declared rounds; None for a project without rounds."""
    ids = declared_rounds(root) if existing else []
    if rnd is not None:
        rnd = str(rnd)
        # Shown quoted (repr): a control character or an escape sequence typed into
        # --round is printed as \x1b, never sent to the terminal; as JSON in the example.
        shown = repr(rnd if len(rnd) <= 80 else rnd[:77] + "...")
        if not ids:
            raise CopevalError(
                f"--round {shown}: {root} declares no rounds; declare them first in the "
                'copeval block of its datapackage.json, oldest first, e.g. "rounds": '
                f'[{{"id": {json.dumps(rnd[:80])}}}] (docs/data-model.md, Rounds), or import '
                "without --round"
            )
        if rnd not in ids:
            raise CopevalError(
                f"--round {shown}: round {shown} is not declared in {root}/datapackage.json "
                f"(declared: {', '.join(map(_printable, ids))})"
            )
        return rnd
    if len(ids) == 1:
        return ids[0]
    if len(ids) > 1:
        raise CopevalError(
            f"{root} has {len(ids)} rounds ({', '.join(map(_printable, ids))}): say which "
            "round this import "
            "belongs to with --round R"
        )
    return None


def _merge(
    result, root: Path, existing: bool, *, force: bool, replace: bool, rnd: str | None = None
) -> dict:
    """The tables of the merged project (nothing written)."""
    from ..project import load_project

    report = result.report
    if existing:
        try:
            project = load_project(root)
        except ProjectValidationError as exc:
            raise CopevalError(
                f"{root} holds a project with errors; fix them before importing into it "
                f"(run `copeval validate {root}`).\n{exc}"
            ) from None
        sites, sources, segments = project.sites, project.sources, project.segments
        texts = {sid: project.text(sid) for sid in sources["source_id"]}
        items = project.items if len(project.items) else None
        responses = dict(project.responses)
        meta = _stored_meta(root)
    else:
        sites = result.sites.iloc[0:0]
        sources = pd.DataFrame(columns=SOURCE_COLUMNS)
        segments = pd.DataFrame(columns=SEGMENT_COLUMNS)
        texts, items, responses = {}, None, {}
        meta = {"title": result.title or placeholder_title(report.file), "synthetic": False}

    new_sites = result.sites[~result.sites["site_id"].isin(sites["site_id"])]
    if existing and len(new_sites):
        report.warn(
            f"sites.csv: added placeholder row(s) for {', '.join(new_sites['site_id'])} "
            "(name = site ID, department 'unknown'); fill them in"
        )
    sites = pd.concat([sites, new_sites], ignore_index=True) if len(sites) else new_sites

    if isinstance(result, QualitativeImport):
        clash = sorted(set(result.sources["source_id"]) & set(sources["source_id"]))
        if clash and not force:
            raise CopevalError(
                f"{root} already has source(s) {', '.join(clash[:10])}"
                f"{' ...' if len(clash) > 10 else ''}; use --force to replace them and their "
                "segments"
            )
        if clash:
            n_seg = int(segments["source_id"].isin(clash).sum())
            report.warn(
                f"--force: replaced {len(clash)} source(s) ({', '.join(clash[:10])}) and "
                f"their {n_seg} segment(s)"
            )
            sources = sources[~sources["source_id"].isin(clash)]
            segments = segments[~segments["source_id"].isin(clash)]
            for sid in clash:
                texts.pop(sid, None)
        imported = result.sources.assign(round=rnd) if rnd is not None else result.sources
        dup = sorted(set(result.segments["segment_id"]) & set(segments["segment_id"]))
        if dup:
            raise CopevalError(
                f"segment ID(s) {', '.join(dup[:10])} of the import already exist in {root}"
            )
        sources = pd.concat([sources, imported], ignore_index=True) if len(sources) else imported
        segments = (
            pd.concat([segments, result.segments], ignore_index=True)
            if len(segments)
            else result.segments
        )
        texts.update(result.texts)
    elif isinstance(result, SurveyImport):
        inst = result.instrument
        safe_child(root / "responses", f"{inst}.csv", what="instrument")
        if result.items is not None:
            if items is not None and (items["instrument"] == inst).any():
                old = _as_text(items[items["instrument"] == inst].reset_index(drop=True))
                new = _as_text(
                    result.items[
                        list(items.columns.intersection(result.items.columns))
                    ].reset_index(drop=True)
                )
                same = old[new.columns].equals(new) if len(old) == len(new) else False
                if not same and not force:
                    raise CopevalError(
                        f"items.csv already describes instrument {inst!r} differently; use "
                        "--force to replace its rows with the item map given"
                    )
                if not same:
                    report.warn(
                        f"--force: replaced the {len(old)} item-map row(s) of {inst!r} with "
                        f"the {len(new)} given"
                    )
                    items = items[items["instrument"] != inst]
                    items = pd.concat([items, result.items], ignore_index=True)
            else:
                items = (
                    pd.concat([items, result.items], ignore_index=True)
                    if items is not None
                    else result.items
                )
        elif items is None or not (items["instrument"] == inst).any():
            raise CopevalError(f"no item map for instrument {inst!r}: give one with --items FILE")
        new = result.responses
        if rnd is not None:
            new = new.assign(round=rnd)
        responses[inst] = _merge_responses(
            responses.get(inst),
            new,
            inst=inst,
            force=force,
            replace=replace,
            report=report,
        )
    else:  # pragma: no cover - programming error
        raise TypeError(f"cannot write {type(result).__name__}")
    if not isinstance(result, SurveyImport):
        _derive_period(meta, sources, report)
    return dict(
        sites=sites,
        sources=sources,
        segments=segments,
        texts=texts,
        items=items,
        responses=responses or None,
        meta=meta,
    )
