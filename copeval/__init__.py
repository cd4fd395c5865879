"""copeval: evaluate community-oriented policing implementation, site by site.

The public API is listed in ``__all__``; submodules hold the rest::

    import copeval
    project = copeval.load_project("data/demo")
"""

__version__ = "0.1.0"

from .codebook import Codebook, load_codebook
from .errors import CopevalError, Problem, ProjectValidationError
from .project import Project, load_project, validate_project, write_datapackage, write_project
from .vocabulary import CRITERIA, CRITERION_LABELS, rating_label

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
]
