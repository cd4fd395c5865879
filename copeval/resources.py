"""Where copeval's data files are: report notebooks, the crosswalk, the demo project, templates.

The one place that answers "where is X"; every caller asks here. The repository keeps these
files at its top level (``notebooks/``, ``data/crosswalk/``, ``data/demo/``); a wheel carries
copies of them as package data under ``copeval/_data/`` (copied by ``build_data.py`` when the
wheel is built). At run time each resource is looked up, in this order:

1. in the source checkout copeval runs from, when it runs from one (an editable install or
   ``python -m`` from the repository): the repository's own folder, so an edit is seen at once;
2. in the installed package, through :func:`importlib.resources.files`.

Every function returns a :class:`~pathlib.Path` of a real folder or file (report engines,
papermill and WeasyPrint need paths), or raises :class:`~copeval.errors.CopevalError` naming
what is missing and where it was searched.

:func:`find_project` answers a different question, "which folder does this project path, as
written in a notebook, mean?": notebooks say ``project_path = "data/demo"`` (relative to the
repository root, as the command line does), but JupyterLab runs them from ``notebooks/``.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from copeval.errors import CopevalError

__all__ = [
    "PACKAGED",
    "crosswalk_dir",
    "demo_dir",
    "find_project",
    "notebook",
    "notebook_names",
    "notebooks_dir",
    "stylesheet",
    "templates_dir",
]

#: Folder of the package that holds the shipped copies in a wheel.
PACKAGED = "_data"
#: Resource name -> its folder in the repository (relative to the repository root). The wheel's
#: copy of each is ``copeval/_data/<name>``; ``build_data.SHIPPED`` must agree (a test checks).
CHECKOUT = {
    "notebooks": "notebooks",
    "crosswalk": "data/crosswalk",
    "demo": "data/demo",
    "demo-rounds": "data/demo-rounds",
}
#: The report notebooks a wheel ships (the tutorials stay in the repository).
REPORT_NOTEBOOKS = "*_report.py"
#: Demo projects as notebooks name them -> their folder under ``copeval/_data`` in a wheel
#: (used by :func:`find_project` only when that folder is shipped).
PACKAGED_PROJECTS = {
    "data/demo": "demo",
    "data/demo-rounds": "demo-rounds",
}


def _package_root() -> Path:
    root = importlib.resources.files("copeval")
    if not isinstance(root, Path):  # e.g. imported from a zip file
        raise CopevalError(
            f"copeval is installed in a form that is not a folder ({root}); "
            "reports need an ordinary installation: pip install 'copeval[report]'"
        )
    return root


def _checkout_root() -> Path | None:
    """The repository copeval runs from, or None when it runs from an installed wheel."""
    root = _package_root().parent
    try:
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # site-packages: no project file beside the package
    return root if 'name = "copeval"' in pyproject else None


def _is_checkout(folder: Path) -> bool:
    try:
        pyproject = (folder / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return 'name = "copeval"' in pyproject and (folder / "copeval").is_dir()


def _candidates(name: str) -> list[Path]:
    found = []
    checkout = _checkout_root()
    if checkout is not None:
        found.append(checkout / CHECKOUT[name])
    found.append(_package_root() / PACKAGED / name)
    return found


def _folder(name: str, *, marker: str | None = None) -> Path:
    candidates = _candidates(name)
    for folder in candidates:
        if folder.is_dir() and (marker is None or any(folder.glob(marker))):
            return folder
    raise CopevalError(
        f"copeval's {name} folder is missing (searched {', '.join(map(str, candidates))}); "
        "reinstall copeval: pip install --force-reinstall 'copeval[report]'"
    )


def notebooks_dir() -> Path:
    """Folder of the report notebooks (``site_report.py``, ``comparative_report.py``)."""
    return _folder("notebooks", marker=REPORT_NOTEBOOKS)


def notebook_names() -> list[str]:
    """Names of the notebooks available (without suffix), sorted."""
    names = set()
    for folder in _candidates("notebooks"):
        if folder.is_dir():
            names |= {p.stem for p in folder.glob("*.py")} | {
                p.stem for p in folder.glob("*.ipynb")
            }
    return sorted(names)


def notebook(name: str) -> Path:
    """Path of the notebook ``name`` (``"site_report"``): a jupytext ``.py`` or an ``.ipynb``.

    Raises :class:`CopevalError` naming the notebooks available when ``name`` is unknown.
    """
    candidates = _candidates("notebooks")
    for folder in candidates:
        for suffix in (".py", ".ipynb"):
            path = folder / f"{name}{suffix}"
            if path.is_file():
                return path
    raise CopevalError(
        f"No report notebook named {name!r}. Available: {', '.join(notebook_names()) or 'none'} "
        f"(searched {', '.join(map(str, candidates))})"
    )


def crosswalk_dir() -> Path:
    """Folder of the recommendations crosswalk (``recommendations.csv`` and its two tables)."""
    return _folder("crosswalk", marker="recommendations.csv")


def demo_dir() -> Path:
    """Folder of the demo project (Villa Canales and Totonicapán, synthetic evidence)."""
    return _folder("demo", marker="datapackage.json")


def demo_rounds_dir() -> Path:
    """Folder of the two-round demo: the demo project with a synthetic 2025 follow-up
    (``data/demo-rounds``, built by ``data/scripts/build_round2.py``)."""
    return _folder("demo-rounds", marker="datapackage.json")


def templates_dir() -> Path:
    """Folder of the HTML page template and the report stylesheet (``copeval/report/templates``)."""
    folder = _package_root() / "report" / "templates"
    if not (folder / "report.css").is_file():
        raise CopevalError(f"copeval's report stylesheet is missing from {folder}")
    return folder


def stylesheet() -> Path:
    """The report stylesheet, ``report.css``."""
    return templates_dir() / "report.css"


def _others_can_write(path: Path) -> bool:
    """True when ``path`` may have been put there by someone else: writable by every user,
    or owned by a user other than this one (and root). Unknown (no ``os.getuid``, e.g. on
    Windows): False."""
    import os
    import stat

    getuid = getattr(os, "getuid", None)
    try:
        st = path.stat()
    except OSError:
        return True
    if st.st_mode & stat.S_IWOTH and not (path.is_dir() and st.st_mode & stat.S_ISVTX):
        return True
    return getuid is not None and st.st_uid not in (getuid(), 0)


def _enclosing_checkout(folder: Path) -> Path | None:
    """The copeval source checkout that contains ``folder`` (or is it), or None.

    A folder that another user could have written (``/tmp/pyproject.toml`` naming copeval,
    planted beside a ``data/demo`` of theirs in a shared parent folder) is not taken for a
    checkout: the folder and its ``pyproject.toml`` must be the user's own (or root's) and
    not writable by everyone."""
    for parent in (folder, *folder.parents):
        if _is_checkout(parent):
            if _others_can_write(parent) or _others_can_write(parent / "pyproject.toml"):
                continue
            return parent
    return None


def find_project(path: str | Path) -> Path:
    """The project folder a notebook means by ``path``, wherever the notebook runs from.

    Notebooks write project paths relative to the repository root (``"data/demo"``), as the
    command line does from there; JupyterLab runs a notebook in the notebook's own folder
    (``notebooks/``), and a wheel has no ``data/`` folder at all. In this order, ``path`` is:

    1. the path as given, when it exists (relative paths are relative to the working
       directory): returned unchanged;
    2. relative to the root of the copeval source checkout that contains the working
       directory (JupyterLab in ``notebooks/``), then of the checkout copeval itself runs
       from (an editable install);
    3. for the demo projects (``data/demo``, ``data/demo-rounds``), the copy shipped in the
       installed package.

    Candidates of steps 2 and 3 count only when they are folders; they are absolute paths.
    A path with a ``..`` part is never looked up in a checkout, and a parent folder that
    another user could have written is not taken for a checkout.

    Raises
    ------
    CopevalError
        When nothing exists: the message names every place tried.
    """
    given = Path(path).expanduser()
    if given.exists():
        return given
    try:
        cwd = Path.cwd()
    except OSError:  # the working directory was deleted
        cwd = None
    tried = [given if given.is_absolute() or cwd is None else cwd / given]
    # Steps 2 and 3 are for paths inside a checkout ("data/demo"): a path that climbs out
    # of it ("../x") means the working directory's, as in step 1, or nothing.
    if not given.is_absolute() and ".." not in given.parts:
        roots = []
        for root in (None if cwd is None else _enclosing_checkout(cwd), _checkout_root()):
            if root is not None and root.resolve() not in {r.resolve() for r in roots}:
                roots.append(root)
        candidates = [root / given for root in roots]
        name = PACKAGED_PROJECTS.get(given.as_posix())  # pathlib has dropped "./" and "/"
        if name is not None:
            candidates.append(_package_root() / PACKAGED / name)
        for candidate in candidates:
            if candidate.is_dir():
                return candidate
            if candidate not in tried:
                tried.append(candidate)
    raise CopevalError(
        f"Project folder {str(path)!r} not found; tried {', '.join(map(str, tried))}. "
        "Give the project's folder relative to the working directory or as an absolute path."
    )
