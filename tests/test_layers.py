"""The report package's layers keep their direction, and every exception lives in errors.py.

``copeval.report`` has two layers (``docs/architecture.md``): CONTENT (what a section says:
data, selection, words, the document a section renders to) and PIPELINE (how reports are
executed and rendered: jobs, engines, kernels, HTML/PDF, batches). Pipeline modules never
import content modules and content never imports the pipeline; SHARED modules may be
imported by both; ENTRY modules (the package facade, the API that joins the layers, the
command line) may import both. The imports are read with ``ast``, those inside functions
included, so a lazy ``from .site import X`` in a function counts like one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import copeval

PACKAGE = Path(copeval.__file__).parent
REPORT = PACKAGE / "report"

# The layers, in one place. A new module of copeval/report must be added to one of them.
PIPELINE = {"job", "engines", "kernel", "warm", "inprocess", "render", "batch", "pdf"}
CONTENT = {
    "data",
    "site",
    "comparative",
    "base",
    "summary",
    "quotes",
    "recommend",
    "figures",
    "i18n",
    "trend",
    "_html",
}
SHARED = {"doc", "typst_markup", "safety", "cache"}
ENTRY = {"__init__", "api"}
#: Shared modules outside copeval/report (any layer may import them).
SHARED_OUTSIDE = {"copeval._io", "copeval._validate", "copeval.errors", "copeval.params"}


def layer_of(module: str) -> str | None:
    """Layer of a dotted module name inside ``copeval.report`` (None outside it)."""
    if module == "copeval.report":
        return "entry"
    if not module.startswith("copeval.report."):
        return None
    name = module.split(".")[2]
    for layer, names in (
        ("pipeline", PIPELINE),
        ("content", CONTENT),
        ("shared", SHARED),
        ("entry", ENTRY),
    ):
        if name in names:
            return layer
    return "unknown"


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every module ``source`` imports, anywhere in it.

    ``module`` is the dotted name of the module the source belongs to (for relative
    imports). ``from . import site`` yields ``copeval.report.site``; ``from .site import X``
    yields ``copeval.report.site``; ``importlib.import_module("copeval.report.site")`` with
    a literal name counts too.
    """
    tree = ast.parse(source)
    is_package = module.endswith("__init__")
    base = module.rsplit(".", 1)[0] if is_package else module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")
                anchor = parts[: len(parts) - node.level + (1 if is_package else 0)]
                if not is_package:
                    anchor = parts[: len(parts) - node.level]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # "from . import site": a submodule; else a name
                sub = f"{target}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else target))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _is_module(dotted: str) -> bool:
    """True when ``dotted`` names a module or package of copeval's source tree."""
    if not dotted.startswith("copeval."):
        return False
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


FORBIDDEN = {
    "pipeline": {"content", "entry"},
    "content": {"pipeline", "entry"},
    "shared": {"pipeline", "content", "entry"},
}


def violations(source: str, module: str) -> list[str]:
    """Imports of ``module`` (whose source is ``source``) that break the layers."""
    mine = layer_of(module)
    bad = []
    for line, target in imported_modules(source, module):
        theirs = layer_of(target)
        if theirs is None or theirs == mine:
            continue
        if mine == "shared" and module.endswith(".pdf"):
            continue  # pragma: no cover - pdf is pipeline, listed for clarity
        if theirs in FORBIDDEN.get(mine, set()):
            bad.append(f"{module}:{line} ({mine}) imports {target} ({theirs})")
    return bad


def _report_modules():
    for path in sorted(REPORT.glob("*.py")):
        yield path, f"copeval.report.{path.stem}"


def test_every_report_module_has_a_layer():
    unknown = [m for _, m in _report_modules() if layer_of(m) == "unknown"]
    assert not unknown, f"add these modules to a layer in tests/test_layers.py: {unknown}"


def test_pipeline_and_content_never_import_each_other():
    bad = []
    for path, module in _report_modules():
        bad += violations(path.read_text(encoding="utf-8"), module)
    assert not bad, "layer violations:\n" + "\n".join(bad)


def test_core_modules_import_no_report_layer():
    """copeval's core (scoring, project, survey ...) never imports the report package."""
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts)
        if module.startswith(("copeval.report", "copeval.cli")) or module in (
            "copeval.demo_report",
        ):
            continue
        for line, target in imported_modules(path.read_text(encoding="utf-8"), module):
            if target.startswith("copeval.report"):
                bad.append(f"{module}:{line} imports {target}")
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------ the checker, attacked
@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("copeval.report.batch", "from .site import check_profile\n"),
        ("copeval.report.batch", "def f():\n    from .data import ReportData\n"),
        ("copeval.report.job", "def f():\n    from copeval.report import recommend\n"),
        ("copeval.report.render", "import copeval.report.figures as figs\n"),
        (
            "copeval.report.warm",
            "import importlib\nimportlib.import_module('copeval.report.site')\n",
        ),
        ("copeval.report.comparative", "from .batch import resolve_sites\n"),
        ("copeval.report.site", "def build():\n    from . import warm\n"),
        ("copeval.report.data", "from copeval.report import run_batch\n"),
        ("copeval.report.doc", "from .site import SiteReport\n"),
    ],
)
def test_checker_catches_a_planted_import(module, source):
    assert violations(source, module), f"not caught: {module}: {source!r}"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("copeval.report.batch", "from .job import ReportJob\nfrom .doc import TYPST_MIME\n"),
        ("copeval.report.site", "from .doc import Section\nfrom copeval._io import safe_child\n"),
        ("copeval.report.pdf", "from .doc import TYPST_MIME\n"),
        ("copeval.report.api", "from .data import ReportData\nfrom .batch import run_batch\n"),
        ("copeval.report.__init__", "from .site import SiteReport\n"),
    ],
)
def test_checker_allows_shared_and_entry_imports(module, source):
    assert not violations(source, module)


def test_relative_imports_resolve():
    got = dict(
        (t, line)
        for line, t in imported_modules(
            "from . import data as d\nfrom ..errors import X\nfrom .site import Y\n",
            "copeval.report.api",
        )
    )
    assert {"copeval.report.data", "copeval.errors", "copeval.report.site"} <= set(got)
    got = {
        t for _, t in imported_modules("from .api import run_batch\n", "copeval.report.__init__")
    }
    assert "copeval.report.api" in got


# ------------------------------------------------------------------ exceptions
def _exception_classes():
    """``(file, line, name)`` of every class whose base names an exception or warning."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            names = [ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases]
            if any(n.endswith(("Error", "Exception", "Warning")) for n in names):
                yield path.relative_to(PACKAGE.parent), node.lineno, node.name


def test_every_exception_class_is_defined_in_errors():
    outside = [
        f"{f}:{line} {name}" for f, line, name in _exception_classes() if f.name != "errors.py"
    ]
    assert not outside, "define these in copeval/errors.py (re-export them):\n" + "\n".join(
        outside
    )


def test_every_error_derives_from_copeval_error():
    import copeval.errors as errors

    classes = [
        v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, BaseException)
    ]
    assert len(classes) >= 20
    for cls in classes:
        if issubclass(cls, Warning):
            continue
        assert issubclass(cls, errors.CopevalError), cls


def test_moved_exceptions_stay_importable_where_they_were():
    from copeval import errors
    from copeval.design import DesignError
    from copeval.interop.result import ImportValidationError
    from copeval.interop.transaction import ProjectLockedError, ProjectWriteError
    from copeval.reliability import ReliabilityError
    from copeval.report.batch import OutputBusyError
    from copeval.report.cache import CacheFormatError
    from copeval.report.recommend import CrosswalkError
    from copeval.report.render import ReportExecutionError
    from copeval.report.safety import RefusedURLError
    from copeval.report.warm import ReportTimeoutError
    from copeval.survey import SurveyError, SurveyWarning
    from copeval.synth import SynthError

    for cls in (
        DesignError,
        ImportValidationError,
        ProjectLockedError,
        ProjectWriteError,
        ReliabilityError,
        OutputBusyError,
        CacheFormatError,
        CrosswalkError,
        ReportExecutionError,
        RefusedURLError,
        ReportTimeoutError,
        SurveyError,
        SurveyWarning,
        SynthError,
    ):
        assert getattr(errors, cls.__name__) is cls
