"""KoboToolbox / ODK survey exports (CSV or XLSX) -> a project's response table.

A KoboToolbox or ODK Central export has one row per submission and one column per question,
named by the question's XLSForm ``name`` with the names of its groups in front
(``grp_trust/trust_police``; the separator is ``/`` by default, ``.`` or ``:`` in some
exports). The import:

* matches each item of the instrument's **item map** (``items.csv``) to the column whose
  name is the item's name, with or without group prefixes;
* expands **select_multiple** questions: Kobo writes the chosen options space-separated in
  the question's column *and* one 0/1 column per option (``grp/channels/phone``); an item
  ``channels_phone`` (or ``channels/phone``) takes the option column, or is derived from the
  space-separated answer when the option columns were not exported;
* drops **metadata** columns (``_id``, ``_uuid``, ``_submission_time``, ``_index``,
  ``_validation_status``, ``start``, ``end``, ``deviceid``, ``username``, ``phonenumber``,
  ``meta/instanceID``... : every column whose name starts with ``_`` and the XLSForm
  metadata questions), listing them in the report: device and phone identifiers are personal
  data and are never copied;
* keeps **missing codes** (97, 98, ...) as they are: the item map says which codes mean
  "don't know" / "refused", and scoring treats them as missing;
* checks every answer against the item's ``scale_min..scale_max`` and missing codes, and
  lists every offending cell (spreadsheet row and column);
* **pseudonymises** respondents: ``respondent_id`` is ``R`` + the first 12 hex digits of
  SHA-256(salt + submission UUID), stable across re-imports of the same export;
* leaves out submissions whose ``consent`` question (any group) was answered ``no`` (or
  ``0``/``false``), saying how many;
* takes ``site_id`` from a column you name (``site_column``), optionally recoding its values
  (``site_values``, e.g. ``{"villa_canales": "VC"}``), or one site for the whole file
  (``site``) for a single-site form with no site question.

Two header conventions are recognised from the columns:

* **KoboToolbox** (and the legacy Kobo server): ``_uuid``, groups joined with ``/`` (``.`` or
  ``:`` in some exports), option columns ``grp/question/option``; the legacy server writes
  ``True``/``False`` in option columns and a trailing comma on every data row;
* **ODK Central** (``/v1/projects/:id/forms/:id/submissions.csv``): no ``_uuid`` but
  ``meta-instanceID`` and ``KEY``, groups joined with ``-`` (``grp_c1-c1_foot_patrol``),
  option columns ``grp-question/option`` ("split select multiples"), ``SubmissionDate``,
  ``SubmitterID``, ``SubmitterName``, ``DeviceID``, ``ReviewState`` ... as metadata.

A **labels** export (question texts as headers, option labels as answers) is refused with
the remedy: re-export with XML values and headers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .._io import safe_child
from ..errors import ImportFormatError
from ..project import table_columns
from .report import ImportReport
from .result import SurveyImport, minimal_sites
from .safe import LIMITS, Limits, read_table

__all__ = [
    "ITEM_COLUMNS",
    "KOBO_METADATA",
    "export_flavour",
    "import_kobo",
    "is_labels_export",
    "pseudonymise",
    "read_item_map",
]

#: XLSForm / KoboToolbox / ODK metadata question names (compared without group prefix,
#: case-insensitively); every column starting with "_" is metadata too.
KOBO_METADATA = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "instanceid",
        "instancename",
        "deprecatedid",
        "rootuuid",
        "uuid",
        "version",
        "starttime",
        "endtime",
        "submissiondate",
        "submitterid",
        "submittername",
        "attachmentsexpected",
        "attachmentspresent",
        "status",
        "reviewstate",
        "edits",
        "formversion",
        "key",
    }
)
_SEPARATORS = ("/", ":", ".")
#: ODK Central joins groups with "-" and select_multiple options with "/".
_ODK_SPLIT = re.compile(r"[-/]")
_UUID_COLUMNS = (
    "_uuid",
    "meta/instanceid",
    "meta-instanceid",
    "instanceid",
    "key",
    "uuid",
)
_INT_RE = re.compile(r"^[+-]?\d+(?:\.0+)?$")
_DECLINED = frozenset({"no", "0", "false", "n", "declined"})
#: An XLSForm ``name`` (what an "XML values and headers" export uses as column parts).
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*(\[\d+\])?$")
_SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")

#: Columns of an item map (``items.csv``), from the project's table schema.
ITEM_COLUMNS = tuple(table_columns("items"))
_REQUIRED_ITEM_COLUMNS = ("instrument", "item", "scale_min", "scale_max")


def export_flavour(columns) -> str:
    """``"odk_central"`` or ``"kobo"``, from an export's column names."""
    lower = {str(c).strip().lower() for c in columns}
    if "_uuid" in lower:
        return "kobo"
    if "meta-instanceid" in lower or ({"key", "submissiondate"} <= lower):
        return "odk_central"
    return "kobo"


def is_labels_export(columns) -> bool:
    """True when most question columns are question texts, not XLSForm names."""
    names = [str(c).strip() for c in columns if str(c).strip()]
    questions = [c for c in names if not c.startswith("_")]
    if not questions:
        return False
    bad = [c for c in questions if not all(_XML_NAME.match(p) for p in re.split(r"[/:]", c) if p)]
    return len(bad) >= max(2, len(questions) // 3)


def pseudonymise(uuid: str, *, salt: str = "") -> str:
    """Stable pseudonymous respondent ID from a submission UUID (``uuid:`` prefix ignored)."""
    key = str(uuid).strip()
    if key.lower().startswith("uuid:"):
        key = key[5:]
    return "R" + hashlib.sha256((salt + key.lower()).encode("utf-8")).hexdigest()[:12]


def read_item_map(source) -> pd.DataFrame:
    """Read an item map (``items.csv`` format, see ``docs/data-model.md``) as strings.

    Raises
    ------
    ImportFormatError
        A required column is missing, or a scale bound is not a whole number.
    """
    if isinstance(source, pd.DataFrame):
        df, name = source.copy(), "item map"
    else:
        df, name = read_table(source), str(source)
    missing = [c for c in _REQUIRED_ITEM_COLUMNS if c not in df.columns]
    if missing:
        raise ImportFormatError(
            f"{name}: missing column(s) {', '.join(missing)} (see docs/data-model.md, items.csv)"
        )
    problems = []
    for col in ("scale_min", "scale_max"):
        for i, v in enumerate(df[col], start=2):
            if not _INT_RE.match(str(v).strip()):
                problems.append(f"row {i}, column {col!r}: {v!r} is not a whole number")
    if problems:
        raise ImportFormatError(f"{name}: invalid item map:\n  - " + "\n  - ".join(problems))
    return df


def _parts(col: str, flavour: str = "kobo") -> list[str]:
    if flavour == "odk_central":
        return [p for p in _ODK_SPLIT.split(col) if p] or [col]
    for sep in _SEPARATORS:
        if sep in col:
            return [p for p in col.split(sep) if p]
    return [col]


def _candidates(col: str, flavour: str = "kobo") -> list[str]:
    """Names a column may stand for, most specific first."""
    parts = _parts(col.strip(), flavour)
    out = []
    for i in range(len(parts)):
        tail = parts[i:]
        out += ["/".join(tail), "_".join(tail), ".".join(tail), "-".join(tail)]
    return list(dict.fromkeys(out))


def _is_metadata(col: str, flavour: str = "kobo") -> bool:
    bare = _parts(col.strip(), flavour)[-1] if col.strip() else col
    return (
        col.strip().startswith("_")
        or bare.startswith("_")
        or (bare.lower() in KOBO_METADATA)
        or col.strip().lower()
        in ("formhub/uuid", "meta/instanceid", "meta/deprecatedid", "meta-instanceid")
    )


def _parse_int(value: str, *, boolean: bool = False) -> int | None:
    """A whole number; with ``boolean`` (0..1 items) also ``True``/``False`` as 1/0."""
    v = str(value).strip()
    if _INT_RE.match(v):
        return int(float(v))
    if boolean and v.lower() in ("true", "false"):
        return int(v.lower() == "true")
    return None


def import_kobo(
    path: str | Path,
    *,
    items,
    instrument: str | None = None,
    site_column: str | None = None,
    site_values: Mapping[str, str] | None = None,
    site: str | None = None,
    salt: str = "",
    limits: Limits = LIMITS,
) -> SurveyImport:
    """Import a KoboToolbox/ODK export (nothing is written).

    Parameters
    ----------
    path : str or Path
        ``.csv`` (comma- or semicolon-separated) or ``.xlsx`` export with XML values and
        headers (not labels).
    items : path or DataFrame
        Item map with the instrument's items (``items.csv`` format).
    instrument : str, optional
        Instrument name (the responses file stem); default: the only instrument of the item
        map, else the one whose items best match the columns.
    site_column : str, optional
        Column holding the site (with or without group prefix); default ``site_id`` or
        ``site``.
    site_values : mapping, optional
        Recode the site column's values into site IDs.
    site : str, optional
        One site ID for every submission (a single-site form with no site question); not
        with ``site_column``.
    salt : str
        Prefix hashed with each submission UUID (keep it secret to make IDs unguessable).

    Returns
    -------
    SurveyImport
        ``responses`` with ``respondent_id, site_id`` [``weight``, ``cluster``] and one
        ``Int64`` column per item, in item-map order.

    Raises
    ------
    ImportFormatError
        No UUID or site column, a labels export, answers out of range (every offending
        cell listed), ambiguous columns, none of the items in the export, an instrument
        name that is not a safe file name.
    """
    p = Path(path)
    raw = read_table(p, limits=limits)
    item_map = read_item_map(items)
    flavour = export_flavour(raw.columns)
    tool = "ODK Central" if flavour == "odk_central" else "KoboToolbox"
    report = ImportReport(str(p), tool=tool)
    if is_labels_export(raw.columns):
        raise ImportFormatError(
            f"{p}: this is a labels export: re-export with XML values and headers (its "
            "columns are question texts, e.g. "
            f"{str(next(c for c in raw.columns if ' ' in str(c)))[:60]!r})"
        )
    if site is not None and site_column is not None:
        raise ImportFormatError("give either a site column or one site for the whole file")
    if site is not None and not _SITE_ID.match(site.strip()):
        raise ImportFormatError(
            f"site {site!r} is not a site ID (letters, digits, '.', '_', ':' or '-')"
        )
    formulas = raw.attrs.get("formula_cells") or []
    if formulas:
        report.warn(
            f"{len(formulas)} cell(s) hold a formula with no saved value and were read as "
            f"empty: {', '.join(formulas[:20])}{' ...' if len(formulas) > 20 else ''} (open "
            "the file in a spreadsheet, save it, and import again)"
        )
    if raw.attrs.get("trailing_empty_column"):
        report.warn("every data row ends with an extra empty field (a trailing comma); ignored")
    rownum = list(range(2, len(raw) + 2))  # spreadsheet rows, kept through filtering
    consent_col = next(
        (c for c in raw.columns if _parts(c.strip(), flavour)[-1].lower() == "consent"), None
    )
    if consent_col is not None:
        declined = raw[consent_col].astype(str).str.strip().str.lower().isin(_DECLINED)
        if declined.any():
            report.warn(
                f"{int(declined.sum())} submission(s) declined consent ({consent_col!r}) and "
                "were not imported"
            )
            rownum = [r for r, d in zip(rownum, declined, strict=True) if not d]
            raw = raw[~declined.to_numpy()].reset_index(drop=True)
    instruments = list(dict.fromkeys(item_map["instrument"].astype(str)))
    cand = {c: _candidates(c, flavour) for c in raw.columns}
    all_names = {n for names in cand.values() for n in names}
    if instrument is None:
        if len(instruments) == 1:
            instrument = instruments[0]
        else:
            overlap = {
                i: item_map.loc[item_map["instrument"] == i, "item"].isin(all_names).sum()
                for i in instruments
            }
            instrument = max(overlap, key=overlap.get)
            report.warn(f"instrument not given; {instrument!r} matches the columns best")
    if instrument not in instruments:
        raise ImportFormatError(
            f"instrument {instrument!r} is not in the item map (instruments: "
            f"{', '.join(instruments)})"
        )
    safe_child(Path("responses"), f"{instrument}.csv", what="instrument")
    inst_items = item_map[item_map["instrument"] == instrument].reset_index(drop=True)

    # respondent IDs ----------------------------------------------------------------------
    lower = {c.strip().lower(): c for c in raw.columns}
    uuid_col = next((lower[k] for k in _UUID_COLUMNS if k in lower), None)
    if uuid_col is None:
        uuid_col = next(
            (c for c in raw.columns if _parts(c, flavour)[-1].lower() == "instanceid"), None
        )
    if uuid_col is None:
        raise ImportFormatError(
            f"{p}: no submission UUID column (_uuid, meta/instanceID, ODK Central's "
            "meta-instanceID or KEY); it is needed to "
            "give each respondent a stable pseudonymous ID"
        )
    uuids = raw[uuid_col].astype(str).str.strip()
    empty = [i for i, u in zip(rownum, uuids, strict=True) if not u]
    if empty:
        raise ImportFormatError(f"{p}: column {uuid_col!r} is empty on row(s) {empty[:20]}")
    dupes = uuids[uuids.duplicated()].unique()
    if len(dupes):
        raise ImportFormatError(
            f"{p}: submission UUID(s) appear more than once in column {uuid_col!r}: "
            f"{', '.join(dupes[:5])}"
        )

    # site ---------------------------------------------------------------------------------
    def find_column(name: str) -> str | None:
        hits = [c for c, names in cand.items() if name in names]
        if len(hits) > 1:
            exact = [c for c in hits if c == name]
            if len(exact) == 1:
                return exact[0]
            raise ImportFormatError(
                f"{p}: {name!r} matches several columns: {', '.join(hits)}; name one exactly"
            )
        return hits[0] if hits else None

    wanted_site = [site_column] if site_column else ["site_id", "site"]
    if site is not None:
        site_col = None
        sites = pd.Series([site.strip()] * len(raw), dtype=object)
        report.warn(f"site {site.strip()!r} given for all {len(raw)} submission(s)")
    else:
        site_col = next((c for c in (find_column(n) for n in wanted_site) if c), None)
        if site_col is None:
            raise ImportFormatError(
                f"{p}: no site column ({' or '.join(wanted_site)}); name it with "
                "--site-column, or give one site for the whole file with --site ID. "
                f"Columns: {', '.join(raw.columns[:30])}"
            )
        sites = raw[site_col].astype(str).str.strip()
    if site_values:
        unknown = sorted(set(sites) - set(site_values) - {""})
        if unknown:
            raise ImportFormatError(
                f"{p}: site value(s) {', '.join(unknown)} in column {site_col!r} are not in "
                "the site recoding table"
            )
        sites = sites.map(lambda v: site_values.get(v, v))
    blank = [i for i, s in zip(rownum, sites, strict=True) if not s]
    if blank:
        raise ImportFormatError(f"{p}: no site in column {site_col!r} on row(s) {blank[:20]}")
    bad_ids = sorted({s for s in sites if not _SITE_ID.match(s)})
    if bad_ids:
        raise ImportFormatError(
            f"{p}: site value(s) {', '.join(map(repr, bad_ids[:10]))} in column {site_col!r} "
            "are not site IDs (no spaces); recode them with a site table (--site-values)"
        )

    out = pd.DataFrame(
        {"respondent_id": [pseudonymise(u, salt=salt) for u in uuids], "site_id": sites.to_numpy()}
    )
    used = {uuid_col, site_col} - {None}
    for extra in ("weight", "cluster"):
        col = find_column(extra)
        if col is not None and col not in used:
            out[extra] = raw[col].astype(str).str.strip().replace("", None).to_numpy()
            used.add(col)

    # items --------------------------------------------------------------------------------
    problems = []
    derived = []
    absent = []
    for it in inst_items.itertuples(index=False):
        name = str(it.item)
        col = find_column(name)
        lo, hi = int(float(it.scale_min)), int(float(it.scale_max))
        codes = {
            int(c)
            for c in str(getattr(it, "missing_codes", "") or "").replace(",", ";").split(";")
            if c.strip() and _INT_RE.match(c.strip())
        }
        if col is not None:
            used.add(col)
            values = raw[col]
        else:
            values = None
            # select_multiple without option columns: item "q_opt" from the answer "q"
            for sep in ("_", "/", "."):
                q, s, opt = name.rpartition(sep)
                if not s:
                    continue
                qcol = find_column(q)
                if qcol is not None:
                    chosen = raw[qcol].astype(str)
                    values = chosen.map(
                        lambda v, o=opt: "" if not v.strip() else ("1" if o in v.split() else "0")
                    )
                    derived.append(f"{name} (from {qcol})")
                    used.add(qcol)
                    break
        if values is None:
            absent.append(name)
            out[name] = pd.array([pd.NA] * len(raw), dtype="Int64")
            continue
        parsed = []
        for row, v in zip(rownum, values, strict=True):
            v = str(v).strip()
            if v == "" or v.lower() in ("nan", "none", "n/a"):
                parsed.append(pd.NA)
                continue
            n = _parse_int(v, boolean=(lo, hi) == (0, 1))
            if n is None:
                problems.append(
                    f"row {row}, column {col or name!r}: {v!r} is not a number (export with "
                    "'XML values and headers', not labels)"
                )
                parsed.append(pd.NA)
            elif not (lo <= n <= hi or n in codes):
                problems.append(
                    f"row {row}, column {col or name!r}: {n} is outside {lo}..{hi} and not a "
                    f"missing code ({', '.join(map(str, sorted(codes))) or 'none declared'})"
                )
                parsed.append(pd.NA)
            else:
                parsed.append(n)
        out[name] = pd.array(parsed, dtype="Int64")
    if absent and len(absent) == len(inst_items):
        raise ImportFormatError(
            f"{p}: none of the {len(inst_items)} items of {instrument!r} is a column of this "
            f"{tool} export, so nothing would be imported. Columns: "
            f"{', '.join(map(str, raw.columns[:20]))}{' ...' if len(raw.columns) > 20 else ''}"
        )
    if absent:
        report.warn(
            f"{len(absent)} of the {len(inst_items)} items of {instrument!r} are not in the "
            f"export and were left empty: {', '.join(absent[:20])}"
            + (" ..." if len(absent) > 20 else "")
        )
    if problems:
        shown = problems[:30]
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        raise ImportFormatError(
            f"{p}: {len(problems)} answer(s) do not fit the item map of {instrument!r}:\n  - "
            + "\n  - ".join(shown)
            + more
        )
    # the space-separated answer of a select_multiple whose option columns were used
    used |= {c for c in raw.columns if any(u.startswith(f"{c}/") for u in used)}
    meta_cols = [c for c in raw.columns if c not in used and _is_metadata(c, flavour)]
    other = [c for c in raw.columns if c not in used and c not in meta_cols]
    if meta_cols:
        report.warn(
            f"{len(meta_cols)} metadata column(s) dropped (device, timing and submission "
            f"details are not copied): {', '.join(meta_cols[:15])}"
            + (" ..." if len(meta_cols) > 15 else "")
        )
    if other:
        report.warn(
            f"{len(other)} column(s) not in the item map of {instrument!r}, not imported: "
            f"{', '.join(other[:20])}" + (" ..." if len(other) > 20 else "")
        )
    if derived:
        report.warn(
            "select_multiple item(s) derived from the space-separated answer: "
            + ", ".join(derived)
        )
    report.counts = {
        "respondents": len(out),
        "items": len(inst_items),
        "sites": out["site_id"].nunique(),
    }
    origin = None if isinstance(items, pd.DataFrame) else str(items)
    return SurveyImport(
        instrument=instrument,
        responses=out,
        items=inst_items,
        sites=minimal_sites(out["site_id"], origin=str(p)),
        report=report,
        title="",  # a file name is not a title: the project gets a placeholder to fill in
        items_origin=origin,
        rows=dict(zip(out["respondent_id"], rownum, strict=True)),
    )
