"""Exceptions raised by copeval.

Every exception copeval raises on purpose derives from :class:`CopevalError`, so a caller
can catch them all in one place, and every one is defined here (``tests/test_layers.py``
fails on an exception class defined anywhere else); the modules that raise them re-export
their names (``copeval.survey.SurveyError`` is this module's class). Problems found in a project's files are collected into
:class:`Problem` records and raised together as one :class:`ProjectValidationError`, so a
researcher sees every problem at once rather than one per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CacheFormatError",
    "CodebookError",
    "CopevalError",
    "CrosswalkError",
    "DesignError",
    "ImportFormatError",
    "ImportValidationError",
    "LanguageError",
    "MissingDependencyError",
    "OutputBusyError",
    "PdfRenderError",
    "Problem",
    "ProjectLockedError",
    "ProjectValidationError",
    "ProjectWriteError",
    "RefusedURLError",
    "ReliabilityError",
    "ReportExecutionError",
    "ReportTimeoutError",
    "ScoringError",
    "SurveyError",
    "SurveyWarning",
    "SynthError",
    "UnsafeInputError",
    "UnsafePathError",
    "UnsupportedColumnError",
    "ValenceSheetError",
]


class CopevalError(Exception):
    """Base class of every error copeval raises deliberately."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a project file.

    Attributes
    ----------
    file : str
        File name relative to the project folder (``"segments.csv"``).
    message : str
        What is wrong, in words a researcher can act on.
    row : int or None
        Row as a spreadsheet shows it: the header is row 1, the first record row 2.
    column : str or None
        Column name.
    value : object
        The offending value, if any.
    severity : {"error", "warning"}
        Errors make the project invalid; warnings are reported but do not.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class ProjectValidationError(CopevalError):
    """A project folder has one or more errors.

    ``problems`` holds every error and warning found (see :class:`Problem`); the message
    lists the errors, one per line.
    """

    def __init__(self, path, problems: list[Problem]):
        self.path = path
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [f"{len(errors)} problem(s) in project {path}:"]
        lines += [f"  - {p}" for p in errors]
        super().__init__("\n".join(lines))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class ScoringError(CopevalError):
    """Scoring inputs or options are invalid (the message names the parameter or column)."""


class CodebookError(CopevalError):
    """The codebook data file is malformed, or a code is unknown."""


class ImportFormatError(CopevalError):
    """A file from another tool cannot be read as the format it claims to be."""


class UnsafeInputError(ImportFormatError):
    """A file from another tool was refused as hostile (XXE, zip bomb, path traversal...)."""


class UnsafePathError(UnsafeInputError):
    """A name from outside (ID, instrument, file name) would lead a path out of its folder."""


class MissingDependencyError(CopevalError, ImportError):
    """An optional dependency needed for this feature is not installed."""

    def __init__(self, package: str, extra: str, feature: str):
        super().__init__(
            f"{feature} needs the '{package}' package, which is not installed. "
            f"Install it with: pip install 'copeval[{extra}]'"
        )


class ImportValidationError(ProjectValidationError):
    """The project an import would produce is invalid; nothing was written.

    Problems in data the import brought in name the imported file (and the source, segment,
    item or respondent), not the trial project's files.
    """

    def __init__(self, path, problems, *, origin: str | None = None):
        super().__init__(path, problems)
        what = f"the import of {origin}" if origin else "the import"
        self.args = (
            f"{what} would make an invalid project, so nothing was written.\n" + self.args[0],
        )


class ValenceSheetError(ProjectValidationError):
    """The rating sheet has problems; nothing was written."""

    #: Problems listed in the message (a sheet of a million bad rows is not a million lines).
    SHOWN = 30

    def __init__(self, path, problems):
        super().__init__(path, problems)
        errors = self.errors
        lines = [f"{len(errors)} problem(s) in the rating sheet {path}; nothing was written:"]
        lines += [f"  - {p}" for p in errors[: self.SHOWN]]
        if len(errors) > self.SHOWN:
            lines.append(f"  ... and {len(errors) - self.SHOWN} more (fix these and run it again)")
        self.args = ("\n".join(lines),)


class ProjectLockedError(CopevalError):
    """Another copeval process is writing into the same project folder."""


class ProjectWriteError(CopevalError):
    """Writing the new project failed (disk full, permissions...); the project is unchanged."""


class LanguageError(CopevalError, ValueError):
    """A language code is not one copeval writes (``es``, ``en``); see
    :func:`copeval._validate.check_lang`. Also a ``ValueError``, as the checks it replaced
    raised."""


class DesignError(CopevalError):
    """Invalid options for a synthetic national project or a design simulation."""


class SynthError(CopevalError):
    """Invalid options for a synthetic project (the message names the parameter)."""


class ReliabilityError(CopevalError):
    """The segments table cannot be used to measure inter-coder reliability."""


class SurveyError(CopevalError):
    """The item map or the survey responses cannot be used as given."""


class SurveyWarning(UserWarning):
    """A survey statistic was computed with a caveat (an item dropped, a model not converged).

    A warning, not an error: it is kept here with the errors so that every class copeval
    raises or warns with is in one place."""


# ------------------------------------------------------------------------------ reports
class CrosswalkError(CopevalError):
    """The recommendations crosswalk is missing or malformed."""


class RefusedURLError(CopevalError, ValueError):
    """A report tried to load something outside its own assets (a file, a URL)."""


class CacheFormatError(CopevalError):
    """A cache file cannot be read (corrupt, foreign, or written by another layout)."""


class UnsupportedColumnError(CopevalError):
    """A table column the analysis cache cannot store (the analysis is then not cached)."""


class ReportExecutionError(CopevalError):
    """A report notebook failed while executing; ``cell`` and ``ename`` say where and what."""

    def __init__(self, message: str, *, notebook=None, cell=None, ename=None, evalue=None):
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell
        self.ename = ename
        self.evalue = evalue


class ReportTimeoutError(CopevalError):
    """A report did not finish within its job timeout (its kernel was restarted)."""


class OutputBusyError(CopevalError):
    """Another copeval run is writing to the same output folder."""


class PdfRenderError(CopevalError):
    """The report PDF could not be compiled (the message carries Typst's own message)."""
