"""Interoperability: take work from QDA and survey tools as it is, and give it back.

Readers build copeval tables in memory and report everything they could not take over;
:func:`write_import` merges the result into a project folder. Every file from another tool
is treated as hostile and read through :mod:`copeval.interop.safe`.

=========================  ============================================  =====================
tool                       read                                          write
=========================  ============================================  =====================
REFI-QDA (NVivo,           :func:`import_refi` (``.qdpx``, ``.qde``),    :func:`export_qdpx`,
ATLAS.ti, MAXQDA, ...)     :func:`read_qdc` (``.qdc``)                   :func:`export_qdc`
Taguette                   :func:`import_taguette` (highlights CSV/XLSX)
KoboToolbox / ODK          :func:`import_kobo` (CSV/XLSX exports)
=========================  ============================================  =====================

See ``docs/interop.md`` for each tool's quirks, offset conventions and the security limits.
"""

from __future__ import annotations

from .kobo import import_kobo, pseudonymise, read_item_map
from .mapping import CodeMapping, parse_valence, read_mapping
from .metadata import meta_template, read_sources_meta
from .offsets import CONVENTIONS, detect_convention, from_codepoints, to_codepoints
from .refi import QdaProject, import_refi, read_qda, read_qdc
from .refi_export import codebook_xml, export_qdc, export_qdpx, project_xml
from .report import ImportReport
from .result import (
    ImportValidationError,
    QualitativeImport,
    SurveyImport,
    minimal_sites,
    project_groups,
    write_import,
)
from .safe import LIMITS, Limits, SafeZip, parse_xml
from .taguette import import_taguette, read_taguette_codebook, read_taguette_highlights

__all__ = [
    "CONVENTIONS",
    "LIMITS",
    "CodeMapping",
    "ImportReport",
    "ImportValidationError",
    "Limits",
    "QdaProject",
    "QualitativeImport",
    "SafeZip",
    "SurveyImport",
    "codebook_xml",
    "detect_convention",
    "export_qdc",
    "export_qdpx",
    "from_codepoints",
    "import_kobo",
    "import_refi",
    "import_taguette",
    "meta_template",
    "minimal_sites",
    "parse_valence",
    "parse_xml",
    "project_groups",
    "project_xml",
    "pseudonymise",
    "read_item_map",
    "read_mapping",
    "read_qda",
    "read_qdc",
    "read_sources_meta",
    "read_taguette_codebook",
    "read_taguette_highlights",
    "schema_path",
    "to_codepoints",
    "write_import",
]


def schema_path(name: str = "Project.xsd"):
    """Path of a bundled REFI-QDA schema (``Project.xsd`` or ``Codebook.xsd``)."""
    from importlib import resources

    if name not in ("Project.xsd", "Codebook.xsd"):
        raise ValueError(f"name must be 'Project.xsd' or 'Codebook.xsd'; got {name!r}")
    return resources.files(__name__).joinpath("schema", name)
