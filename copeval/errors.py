"""Exceptions raised by copeval.

Every exception copeval raises on purpose derives from :class:`CopevalError`, so a caller
can catch them all in one place. Problems found in a project's files are collected into
:class:`Problem` records and raised together as one :class:`ProjectValidationError`, so a
researcher sees every problem at once rather than one per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CodebookError",
    "CopevalError",
    "ImportFormatError",
    "MissingDependencyError",
    "Problem",
    "ProjectValidationError",
    "ScoringError",
    "UnsafeInputError",
    "UnsafePathError",
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


class PdfRenderError(CopevalError):
    """The report PDF could not be compiled (the message carries Typst's own message)."""
