"""The outcome of an import, and how it enters a project folder.

An import first builds tables in memory (:class:`QualitativeImport`, :class:`SurveyImport`);
:func:`write_import` then merges them into a project folder. The merged project is written
to a temporary folder and validated with :func:`~copeval.project.validate_project` first;
only a valid result is written to the target, so a failed import leaves the project as it
was. Existing data is never replaced without ``force=True``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import CopevalError, ProjectValidationError
from ..project import load_project, validate_project, write_project
from .report import ImportReport

__all__ = [
    "ImportValidationError",
    "QualitativeImport",
    "SurveyImport",
    "minimal_sites",
    "write_import",
]

_PROJECT_FILES = ("sites.csv", "sources.csv", "segments.csv", "datapackage.json")
SOURCE_COLUMNS = [
    "source_id",
    "site_id",
    "respondent_group",
    "method",
    "date",
    "language",
    "consent",
    "coder_notes",
]
SEGMENT_COLUMNS = ["segment_id", "source_id", "start", "end", "code", "valence", "coder"]


class ImportValidationError(ProjectValidationError):
    """The project an import would produce is invalid; nothing was written."""

    def __init__(self, path, problems):
        super().__init__(path, problems)
        self.args = (
            "the import would make an invalid project, so nothing was written.\n" + self.args[0],
        )


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
    """

    instrument: str
    responses: pd.DataFrame
    items: pd.DataFrame | None
    sites: pd.DataFrame
    report: ImportReport
    title: str = ""
    extra: dict = field(default_factory=dict)


def _stored_meta(root: Path) -> dict:
    """The metadata as written in datapackage.json (not the defaults loading fills in, such
    as a derived primary coder, which must stay derived after new segments arrive)."""
    try:
        desc = json.loads((root / "datapackage.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    block = desc.get("copeval", {}) if isinstance(desc, dict) else {}
    keys = ("title", "synthetic", "period", "primary_coder", "reference_site")
    return {k: block[k] for k in keys if isinstance(block, dict) and k in block}


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


def _merge_responses(
    old: pd.DataFrame | None, new: pd.DataFrame, *, inst: str, force: bool, report: ImportReport
) -> pd.DataFrame:
    if old is None or old.empty:
        return new
    cols = [c for c in new.columns if c in old.columns]
    if list(new.columns) != list(old.columns):
        if not force:
            raise CopevalError(
                f"responses/{inst}.csv already exists with other columns; use --force to "
                "replace them"
            )
        return new
    old_t = _as_text(old[cols]).set_index("respondent_id")
    new_t = _as_text(new[cols]).set_index("respondent_id")
    common = old_t.index.intersection(new_t.index)
    differing = [r for r in common if not old_t.loc[r].equals(new_t.loc[r])]
    if differing and not force:
        raise CopevalError(
            f"responses/{inst}.csv already holds {len(differing)} respondent(s) of this export "
            f"with different answers (e.g. {', '.join(differing[:5])}); use --force to replace "
            "them"
        )
    same = len(common) - len(differing)
    if same:
        report.warn(f"{same} respondent(s) already in responses/{inst}.csv; kept as they were")
    keep_old = old[~old["respondent_id"].isin(differing)]
    add_new = new[~new["respondent_id"].isin(common.difference(differing))]
    return pd.concat([keep_old, add_new], ignore_index=True)


def write_import(result, into: str | Path, *, force: bool = False):
    """Write an import into a project folder, creating the project if needed.

    Parameters
    ----------
    result : QualitativeImport or SurveyImport
    into : str or Path
        Project folder. When it holds no project, a new one is created (with minimal
        ``sites.csv`` rows for the sites the data names; a non-empty folder that is not a
        project is refused unless ``force``).
    force : bool
        Replace sources, respondents or item-map rows the project already has. Without it,
        any clash is an error and nothing is written.

    Returns
    -------
    Project
        The loaded, validated project.

    Raises
    ------
    CopevalError
        Clashes with existing data, or an invalid existing project.
    ImportValidationError
        The merged project would be invalid (nothing is written); a
        :class:`~copeval.errors.ProjectValidationError` with every problem.
    """
    root = Path(into)
    report = result.report
    if root.exists() and not root.is_dir():
        raise CopevalError(f"{root} exists and is not a folder")
    existing = _has_project(root)
    if not existing and root.exists() and any(root.iterdir()) and not force:
        raise CopevalError(
            f"{root} is not empty and holds no copeval project; choose a new or empty folder "
            "(or use --force to write into it)"
        )
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
        meta = {"title": result.title or root.name, "synthetic": False}

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
            report.warn(f"replaced source(s) {', '.join(clash)} and their segments")
            sources = sources[~sources["source_id"].isin(clash)]
            segments = segments[~segments["source_id"].isin(clash)]
            for sid in clash:
                texts.pop(sid, None)
        dup = sorted(set(result.segments["segment_id"]) & set(segments["segment_id"]))
        if dup:
            raise CopevalError(
                f"segment ID(s) {', '.join(dup[:10])} of the import already exist in {root}"
            )
        sources = (
            pd.concat([sources, result.sources], ignore_index=True)
            if len(sources)
            else result.sources
        )
        segments = (
            pd.concat([segments, result.segments], ignore_index=True)
            if len(segments)
            else result.segments
        )
        texts.update(result.texts)
    elif isinstance(result, SurveyImport):
        inst = result.instrument
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
                items = items[items["instrument"] != inst]
            items = (
                pd.concat([items, result.items], ignore_index=True)
                if items is not None
                else result.items
            )
        elif items is None or not (items["instrument"] == inst).any():
            raise CopevalError(f"no item map for instrument {inst!r}: give one with --items FILE")
        responses[inst] = _merge_responses(
            responses.get(inst), result.responses, inst=inst, force=force, report=report
        )
    else:  # pragma: no cover - programming error
        raise TypeError(f"cannot write {type(result).__name__}")

    tables = dict(
        sites=sites,
        sources=sources,
        segments=segments,
        texts=texts,
        items=items,
        responses=responses or None,
        meta=meta,
    )
    with tempfile.TemporaryDirectory(prefix="copeval-import-") as tmp:
        trial = Path(tmp) / "project"
        write_project(trial, **tables)
        problems = validate_project(trial)
    if any(p.severity == "error" for p in problems):
        raise ImportValidationError(root, problems)
    write_project(root, overwrite=existing or force, **tables)
    return load_project(root)
