"""Build the XLSForm survey instruments and their item maps from ``surveys/source/``.

The readable source of both instruments lives in four CSV files (UTF-8, edit them in any
spreadsheet):

``source/forms.csv``
    one row per instrument: ``instrument`` (also the name of the responses file),
    ``form_id``, ``form_title``, ``version``, ``instance_name``.
``source/<instrument>.csv``
    the questionnaire, one row per XLSForm survey row, in order: ``type``, ``name``,
    ``criterion`` (C1..C4, AT; empty = not scored), ``scale``, ``reverse``
    (``true`` / ``false``), ``anchor`` (instrument the item is borrowed from),
    ``label_es``, ``label_en``, ``hint_es``, ``hint_en``, ``required``, ``relevant``,
    ``constraint``, ``constraint_message_es``, ``constraint_message_en``, ``appearance``.
``source/choices.csv``
    the answer lists shared by both instruments: ``list_name``, ``name``, ``label_es``,
    ``label_en``.

From them this script writes, for each instrument,

* ``surveys/<instrument>.xlsx`` -- an XLSForm (sheets ``survey``, ``choices``,
  ``settings``) with Spanish and English labels, Spanish as the default language, ready to
  upload to KoboToolbox or ODK Central;
* ``surveys/<instrument>_items.csv`` -- the item map with the columns of ``items.csv`` in
  ``docs/data-model.md``;

and refreshes the item table between the ``BEGIN ITEM TABLE`` / ``END ITEM TABLE`` markers of
``surveys/README.md``.

An **item** is a ``select_one`` question whose answer list has whole-number codes. Codes 97
(don't know) and 98 (refused) are its missing codes; the other codes must be consecutive and
give ``scale_min`` and ``scale_max``. ``reverse`` is ``true`` when a higher code means *less*
of the criterion: negatively worded statements, and LAPOP items whose codes run from best to
worst (kept as LAPOP codes them so answers compare with LAPOP's published data).

Usage::

    python surveys/build_instruments.py            # build into surveys/
    python surveys/build_instruments.py --check    # build, then convert with pyxform

The output is byte-for-byte reproducible: the workbook's timestamps are fixed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from copeval.errors import CopevalError
from copeval.vocabulary import CRITERIA

__all__ = [
    "ITEM_COLUMNS",
    "LANGUAGES",
    "MISSING_CODES",
    "Instrument",
    "InstrumentSourceError",
    "anchor_table",
    "build",
    "check_xlsform",
    "item_map",
    "load_source",
    "xlsform_sheets",
]

HERE = Path(__file__).resolve().parent

#: XLSForm language suffixes; the first is the form's default language.
LANGUAGES = {"es": "Español (es)", "en": "English (en)"}

#: Answer codes meaning don't know (97) and refused (98), as in Metaketa IV.
MISSING_CODES = (97, 98)

#: Columns of the item map (docs/data-model.md, ``items.csv``).
ITEM_COLUMNS = [
    "instrument",
    "item",
    "criterion",
    "scale",
    "scale_min",
    "scale_max",
    "reverse",
    "missing_codes",
    "label_en",
    "label_es",
]

SOURCE_COLUMNS = [
    "type",
    "name",
    "criterion",
    "scale",
    "reverse",
    "anchor",
    "label_es",
    "label_en",
    "hint_es",
    "hint_en",
    "required",
    "relevant",
    "constraint",
    "constraint_message_es",
    "constraint_message_en",
    "appearance",
]
CHOICE_COLUMNS = ["list_name", "name", "label_es", "label_en"]
FORM_COLUMNS = ["instrument", "form_id", "form_title", "version", "instance_name"]

#: Survey-sheet columns of the XLSForm, in order: (xlsform header, source column or None).
_SURVEY_SHEET = [
    ("type", "type"),
    ("name", "name"),
    *[(f"label::{v}", f"label_{k}") for k, v in LANGUAGES.items()],
    *[(f"hint::{v}", f"hint_{k}") for k, v in LANGUAGES.items()],
    ("required", "required"),
    ("relevant", "relevant"),
    ("constraint", "constraint"),
    *[(f"constraint_message::{v}", f"constraint_message_{k}") for k, v in LANGUAGES.items()],
    ("appearance", "appearance"),
]
_CHOICE_SHEET = [
    ("list_name", "list_name"),
    ("name", "name"),
    *[(f"label::{v}", f"label_{k}") for k, v in LANGUAGES.items()],
]

#: Question types that carry no label (metadata recorded by the device, group ends).
_UNLABELLED = {
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "end_group",
    "end group",
    "calculate",
    "hidden",
}
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT_RE = re.compile(r"^-?\d+$")
_FIXED_TIME = dt.datetime(2017, 2, 1, 0, 0, 0)


class InstrumentSourceError(CopevalError):
    """The readable source of an instrument (surveys/source/*.csv) has problems.

    ``problems`` lists every problem found, each naming the file, the row (the header is row
    1) and the column.
    """

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the instrument source:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


@dataclass
class Instrument:
    """One instrument as read from the source files.

    Attributes
    ----------
    name : str
        Instrument name (``community``); also the stem of its responses file.
    settings : dict
        ``form_id``, ``form_title``, ``version``, ``instance_name``.
    survey : DataFrame
        Source rows (columns :data:`SOURCE_COLUMNS`, empty cells as ``""``) plus ``_row``
        (spreadsheet row in the source file) and ``group`` (innermost enclosing group).
    choices : DataFrame
        The answer lists this instrument uses (columns :data:`CHOICE_COLUMNS`).
    """

    name: str
    settings: dict
    survey: pd.DataFrame
    choices: pd.DataFrame
    source_file: str = ""
    items: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading
def _read(path: Path, columns: list[str], problems: list[str]) -> pd.DataFrame | None:
    """Read a source CSV as strings; check its header against ``columns``."""
    if not path.is_file():
        problems.append(f"{path.name}: file not found in {path.parent}")
        return None
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        problems.append(f"{path.name}: not UTF-8; re-save it as UTF-8")
        return None
    missing = [c for c in columns if c not in df.columns]
    extra = [c for c in df.columns if c not in columns]
    if missing:
        problems.append(f"{path.name}: missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(
            f"{path.name}: unknown column(s) {', '.join(extra)}; expected {', '.join(columns)}"
        )
    if missing or extra:
        return None
    df = df.apply(lambda s: s.str.strip())
    df["_row"] = range(2, len(df) + 2)
    return df


def _list_name(type_: str) -> str | None:
    parts = type_.split()
    if len(parts) == 2 and parts[0] in {"select_one", "select_multiple"}:
        return parts[1]
    return None


def _is_int_list(choices: pd.DataFrame, list_name: str) -> bool:
    names = choices.loc[choices["list_name"] == list_name, "name"]
    return len(names) > 0 and all(_INT_RE.match(n) for n in names)


def load_source(source: str | Path = HERE / "source") -> dict[str, Instrument]:
    """Read and check the instrument source files.

    Parameters
    ----------
    source : str or Path
        Folder holding ``forms.csv``, ``choices.csv`` and one ``<instrument>.csv`` per
        instrument.

    Returns
    -------
    dict of str to Instrument
        Instruments by name, in the order of ``forms.csv``.

    Raises
    ------
    InstrumentSourceError
        Listing every problem found (file, row and column of each).
    """
    source = Path(source)
    problems: list[str] = []
    forms = _read(source / "forms.csv", FORM_COLUMNS, problems)
    choices = _read(source / "choices.csv", CHOICE_COLUMNS, problems)
    if forms is None or choices is None:
        raise InstrumentSourceError(problems)
    _check_choices(choices, problems)

    instruments = {}
    for form in forms.to_dict("records"):
        row = form["_row"]
        for col in FORM_COLUMNS:
            if not form[col] and col != "instance_name":
                problems.append(f"forms.csv row {row}, column '{col}': empty")
        if form["version"] and not form["version"].isdigit():
            problems.append(
                f"forms.csv row {row}, column 'version': {form['version']!r} is not a number "
                "(use e.g. yyyymmddnn)"
            )
        name = form["instrument"]
        if not name:
            continue
        if name in instruments:
            problems.append(f"forms.csv row {row}, column 'instrument': {name!r} listed twice")
            continue
        fname = f"{name}.csv"
        survey = _read(source / fname, SOURCE_COLUMNS, problems)
        if survey is None:
            continue
        survey = _check_survey(survey, fname, choices, problems)
        used = {_list_name(t) for t in survey["type"]} - {None}
        inst = Instrument(
            name=name,
            settings={k: form[k] for k in FORM_COLUMNS if k != "instrument"},
            survey=survey,
            choices=choices[choices["list_name"].isin(used)].drop(columns="_row"),
            source_file=fname,
        )
        inst.items = [
            r["name"]
            for r in survey.to_dict("records")
            if (ln := _list_name(r["type"]))
            and r["type"].startswith("select_one")
            and _is_int_list(choices, ln)
        ]
        instruments[name] = inst
    if problems:
        raise InstrumentSourceError(problems)
    return instruments


def _check_choices(choices: pd.DataFrame, problems: list[str]) -> None:
    where = "choices.csv"
    seen = {}
    for r in choices.to_dict("records"):
        row = r["_row"]
        for col in CHOICE_COLUMNS:
            if not r[col]:
                problems.append(f"{where} row {row}, column '{col}': empty")
        key = (r["list_name"], r["name"])
        if key in seen:
            problems.append(
                f"{where} row {row}, column 'name': {r['name']!r} appears twice in list "
                f"{r['list_name']!r} (first on row {seen[key]})"
            )
        seen.setdefault(key, row)
    for list_name, grp in choices.groupby("list_name", sort=False):
        names = list(grp["name"])
        ints = [n for n in names if _INT_RE.match(n)]
        if ints and len(ints) != len(names):
            problems.append(
                f"{where} list {list_name!r}: mixes numeric and text codes ({', '.join(names)}); "
                "use one kind"
            )
            continue
        if not ints:
            continue
        valid = sorted(int(n) for n in ints if int(n) not in MISSING_CODES)
        if not valid:
            problems.append(f"{where} list {list_name!r}: has only missing codes 97/98")
        elif valid != list(range(valid[0], valid[-1] + 1)):
            problems.append(
                f"{where} list {list_name!r}: codes {valid} are not consecutive, so "
                "scale_min..scale_max would admit codes that are not answers"
            )


def _check_survey(
    survey: pd.DataFrame, fname: str, choices: pd.DataFrame, problems: list[str]
) -> pd.DataFrame:
    lists = set(choices["list_name"])
    seen: dict[str, int] = {}
    stack: list[str] = []
    groups = []
    for r in survey.to_dict("records"):
        row, type_, name = r["_row"], r["type"], r["name"]
        at = f"{fname} row {row}"
        if not type_:
            problems.append(f"{at}, column 'type': empty")
        if type_ in {"begin_group", "begin group"}:
            groups.append(stack[-1] if stack else "")
            stack.append(name)
        elif type_ in {"end_group", "end group"}:
            groups.append(stack[-1] if stack else "")
            if not stack:
                problems.append(f"{at}, column 'type': end_group without a begin_group")
            else:
                stack.pop()
        else:
            groups.append(stack[-1] if stack else "")
        if type_ not in {"end_group", "end group"}:
            if not name:
                problems.append(f"{at}, column 'name': empty")
            elif not _NAME_RE.match(name):
                problems.append(
                    f"{at}, column 'name': {name!r} is not a valid field name (letters, digits "
                    "and _ only, not starting with a digit)"
                )
            elif name in seen:
                problems.append(
                    f"{at}, column 'name': {name!r} is used twice (first on row {seen[name]})"
                )
            seen.setdefault(name, row)
        if type_ not in _UNLABELLED:
            for lang in LANGUAGES:
                if not r[f"label_{lang}"]:
                    problems.append(f"{at}, column 'label_{lang}': no label for {name!r}")
        for stem in ("hint", "constraint_message"):
            have = [lang for lang in LANGUAGES if r[f"{stem}_{lang}"]]
            if have and len(have) != len(LANGUAGES):
                lacking = [lang for lang in LANGUAGES if lang not in have]
                problems.append(
                    f"{at}, column '{stem}_{lacking[0]}': {stem} given in "
                    f"{', '.join(have)} but not in {', '.join(lacking)}"
                )
        ln = _list_name(type_)
        if type_.startswith(("select_one", "select_multiple")) and ln is None:
            problems.append(f"{at}, column 'type': {type_!r} should be 'select_one <list_name>'")
        if ln is not None and ln not in lists:
            problems.append(f"{at}, column 'type': choice list {ln!r} is not in choices.csv")
            continue
        is_item = ln is not None and type_.startswith("select_one") and _is_int_list(choices, ln)
        _check_item_columns(r, at, is_item, ln, choices, bool(stack), problems)
    if stack:
        problems.append(f"{fname}: group(s) {', '.join(stack)} never closed with end_group")
    survey = survey.copy()
    survey["group"] = groups
    return survey


def _check_item_columns(r, at, is_item, list_name, choices, in_group, problems) -> None:
    crit, scale, rev, anchor, name = (
        r["criterion"],
        r["scale"],
        r["reverse"],
        r["anchor"],
        r["name"],
    )
    if not is_item:
        for col in ("criterion", "scale", "reverse"):
            if r[col]:
                problems.append(
                    f"{at}, column '{col}': {r[col]!r} given for {name!r}, which is not an item "
                    "(only select_one questions with numeric codes are items)"
                )
        return
    if rev not in {"true", "false"}:
        problems.append(f"{at}, column 'reverse': {rev!r} for item {name!r}; use true or false")
    if not in_group:
        problems.append(
            f"{at}: item {name!r} is outside any group; put it in a begin_group so exports "
            "carry a group prefix"
        )
    if crit and crit not in CRITERIA:
        problems.append(f"{at}, column 'criterion': {crit!r} is not one of {', '.join(CRITERIA)}")
    if crit and not scale:
        problems.append(f"{at}, column 'scale': scored item {name!r} needs a scale name")
    if scale and not crit:
        problems.append(f"{at}, column 'scale': {scale!r} given for unscored item {name!r}")
    if crit and not anchor:
        problems.append(
            f"{at}, column 'anchor': scored item {name!r} needs the instrument it is borrowed "
            "from (or 'study ...')"
        )
    codes = {int(n) for n in choices.loc[choices["list_name"] == list_name, "name"]}
    if crit and not set(MISSING_CODES) <= codes:
        problems.append(
            f"{at}, column 'type': scored item {name!r} uses list {list_name!r}, which lacks "
            f"the don't know / refused codes {MISSING_CODES}"
        )


# --------------------------------------------------------------------------- deriving
def item_map(instrument: Instrument) -> pd.DataFrame:
    """The item map of an instrument.

    Returns
    -------
    DataFrame
        One row per item, in questionnaire order, with the columns of ``items.csv``
        (docs/data-model.md): ``instrument``, ``item``, ``criterion`` (empty for unscored
        items), ``scale``, ``scale_min``, ``scale_max`` (int), ``reverse`` (bool),
        ``missing_codes`` (``"97;98"``-style), ``label_en``, ``label_es``.
    """
    survey = instrument.survey.set_index("name")
    rows = []
    for name in instrument.items:
        r = survey.loc[name]
        ln = _list_name(r["type"])
        codes = sorted(
            int(n) for n in instrument.choices.loc[instrument.choices["list_name"] == ln, "name"]
        )
        valid = [c for c in codes if c not in MISSING_CODES]
        rows.append(
            {
                "instrument": instrument.name,
                "item": name,
                "criterion": r["criterion"],
                "scale": r["scale"],
                "scale_min": min(valid),
                "scale_max": max(valid),
                "reverse": r["reverse"] == "true",
                "missing_codes": ";".join(str(c) for c in codes if c in MISSING_CODES),
                "label_en": r["label_en"],
                "label_es": r["label_es"],
            }
        )
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def xlsform_sheets(instrument: Instrument) -> dict[str, list[list[str]]]:
    """The three XLSForm sheets of an instrument as lists of rows (header first).

    Columns left empty in every row are dropped, so the sheets stay readable.
    """

    def sheet(df: pd.DataFrame, spec) -> list[list[str]]:
        cols = [(h, s) for h, s in spec if (df[s] != "").any()]
        return [[h for h, _ in cols]] + [[r[s] for _, s in cols] for r in df.to_dict("records")]

    settings = instrument.settings
    settings_rows = [
        ["form_title", "form_id", "version", "default_language", "style", "instance_name"],
        [
            settings["form_title"],
            settings["form_id"],
            settings["version"],
            LANGUAGES["es"],
            "pages",
            settings["instance_name"],
        ],
    ]
    if not settings["instance_name"]:
        settings_rows = [r[:-1] for r in settings_rows]
    return {
        "survey": sheet(instrument.survey, _SURVEY_SHEET),
        "choices": sheet(instrument.choices, _CHOICE_SHEET),
        "settings": settings_rows,
    }


def anchor_table(instruments: Mapping[str, Instrument]) -> str:
    """Markdown table of every item: instrument, group, item, criterion, reverse, anchor."""
    lines = [
        "| instrument | group | item | criterion | answers | reverse | anchor |",
        "|---|---|---|---|---|---|---|",
    ]
    for inst in instruments.values():
        survey = inst.survey.set_index("name")
        for name in inst.items:
            r = survey.loc[name]
            lines.append(
                f"| {inst.name} | `{r['group']}` | `{name}` | {r['criterion'] or '—'} | "
                f"{_list_name(r['type'])} | {'yes' if r['reverse'] == 'true' else ''} | "
                f"{r['anchor'] or '—'} |"
            )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- writing
def _write_xlsx(sheets: Mapping[str, list[list[str]]], path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append([v if v != "" else None for v in r])
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
        for j, header in enumerate(rows[0], start=1):
            width = max(len(str(r[j - 1])) for r in rows)
            ws.column_dimensions[ws.cell(1, j).column_letter].width = min(
                max(len(header), width, 8) + 2, 60
            )
    wb.properties.creator = "copeval surveys/build_instruments.py"
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    # Re-pack with fixed member timestamps so that identical sources give identical bytes.
    with (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                    rb"\g<1>" + _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\2",
                    data,
                )
            dst.writestr(fixed, data)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    out["reverse"] = out["reverse"].map({True: "true", False: "false"})
    with path.open("w", encoding="utf-8", newline="") as fh:
        out.to_csv(fh, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


_BEGIN, _END = "<!-- BEGIN ITEM TABLE", "<!-- END ITEM TABLE -->"


def _update_readme(readme: Path, table: str) -> bool:
    """Replace the text between the item-table markers; returns whether the file changed."""
    if not readme.is_file():
        return False
    text = readme.read_text(encoding="utf-8")
    start = text.find(_BEGIN)
    end = text.find(_END)
    if start < 0 or end < start:
        return False
    head_end = text.index("-->", start) + 3
    new = text[:head_end] + "\n" + table + text[end:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
        return True
    return False


def build(
    source: str | Path = HERE / "source", out: str | Path = HERE, *, readme: bool = True
) -> dict[str, Path]:
    """Write every instrument's XLSForm and item map.

    Parameters
    ----------
    source : str or Path
        Folder of the source CSV files (see the module docstring).
    out : str or Path
        Output folder; gets ``<instrument>.xlsx`` and ``<instrument>_items.csv``.
    readme : bool, keyword-only
        Also refresh the item table in ``<out>/README.md`` (when it has the markers).

    Returns
    -------
    dict of str to Path
        Every file written, keyed by its name.
    """
    instruments = load_source(source)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for inst in instruments.values():
        xlsx = out / f"{inst.name}.xlsx"
        _write_xlsx(xlsform_sheets(inst), xlsx)
        items = out / f"{inst.name}_items.csv"
        _write_csv(item_map(inst), items)
        written[xlsx.name] = xlsx
        written[items.name] = items
    if readme and _update_readme(out / "README.md", anchor_table(instruments)):
        written["README.md"] = out / "README.md"
    return written


def check_xlsform(path: str | Path, *, odk_validate: bool = False) -> str:
    """Convert an XLSForm with pyxform and return the XForm XML.

    With ``odk_validate=True`` the XForm is also checked by ODK Validate (needs Java).

    Raises
    ------
    InstrumentSourceError
        If pyxform (or ODK Validate) rejects the form; the message names the file.
    """
    try:
        from pyxform.errors import PyXFormError
        from pyxform.validators.odk_validate import ODKValidateError
        from pyxform.xls2xform import convert
    except ImportError as exc:  # pragma: no cover - pyxform is in the 'surveys' extra
        from copeval.errors import MissingDependencyError

        raise MissingDependencyError("pyxform", "surveys", "Checking XLSForms") from exc
    try:
        result = convert(xlsform=str(path), validate=odk_validate, warnings=[])
    except (PyXFormError, ODKValidateError) as exc:
        raise InstrumentSourceError(
            [f"{Path(path).name}: pyxform rejected the form: {exc}"]
        ) from exc
    if result.warnings:
        raise InstrumentSourceError(
            [f"{Path(path).name}: pyxform warning: {w}" for w in result.warnings]
        )
    return result.xform


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the XLSForm instruments and item maps from surveys/source/."
    )
    parser.add_argument("--source", default=str(HERE / "source"), help="source folder")
    parser.add_argument("--out", default=str(HERE), help="output folder (default: surveys/)")
    parser.add_argument(
        "--check", action="store_true", help="convert each form with pyxform after building"
    )
    args = parser.parse_args(argv)
    try:
        written = build(args.source, args.out)
        if args.check:
            for name, path in written.items():
                if name.endswith(".xlsx"):
                    check_xlsform(path)
                    print(f"pyxform: {name} converts cleanly")
    except CopevalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
