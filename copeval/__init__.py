"""copeval: evaluate community-oriented policing implementation, site by site.

The public API is listed in ``__all__``; everything else lives in submodules::

    import copeval
    project = copeval.load_project("data/demo")

Names from the heavier modules (scoring, surveys, reports, interoperability) are imported on
first use, so ``import copeval`` stays quick.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from .codebook import Codebook, load_codebook
from .errors import CopevalError, Problem, ProjectValidationError
from .project import Project, load_project, validate_project, write_datapackage, write_project
from .vocabulary import CRITERIA, CRITERION_LABELS, rating_label

#: public name -> submodule that defines it (imported lazily)
_LAZY = {
    **dict.fromkeys(["suggest_codes", "evaluate_suggestions"], "copeval.coding"),
    **dict.fromkeys(["redact", "select_quotes"], "copeval.privacy"),
    **dict.fromkeys(
        ["score_sites", "score_evidence", "ScoreResult", "ScoringError"], "copeval.scoring"
    ),
    **dict.fromkeys(["synth_project", "SyntheticProject"], "copeval.synth"),
    **dict.fromkeys(["national_project", "simulate_design"], "copeval.design"),
    **dict.fromkeys(
        [
            "scale_items",
            "respondent_scores",
            "scale_reliability",
            "standardised_index",
            "compare_items",
            "compare_scales",
        ],
        "copeval.survey",
    ),
    **dict.fromkeys(
        ["code_reliability", "criterion_reliability", "disagreements"], "copeval.reliability"
    ),
    "import_refi": "copeval.interop.refi",
    "import_taguette": "copeval.interop.taguette",
    "import_kobo": "copeval.interop.kobo",
    "write_import": "copeval.interop.result",
    "export_qdpx": "copeval.interop.refi_export",
    "export_qdc": "copeval.interop.refi_export",
}

__all__ = [
    "CRITERIA",
    "CRITERION_LABELS",
    "Codebook",
    "CopevalError",
    "Problem",
    "Project",
    "ProjectValidationError",
    "__version__",
    "load_codebook",
    "load_project",
    "rating_label",
    "validate_project",
    "write_datapackage",
    "write_project",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'copeval' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
