"""Build step: copy the repository's report notebooks, crosswalk and demo into the wheel.

The repository keeps them at its top level (``notebooks/``, ``data/crosswalk/``, ``data/demo/``,
a layout the project brief fixes); a wheel needs them inside the package. This ``build_py``
(named in ``pyproject.toml`` under ``[tool.setuptools.cmdclass]``) copies them into
``copeval/_data/<name>/`` of the build folder, where :mod:`copeval.resources` finds them at run
time. An editable install copies nothing: ``copeval.resources`` reads the repository's folders.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: (folder in the repository, file patterns, folder under copeval/_data/) — must agree with
#: ``copeval.resources.CHECKOUT`` (tests/test_wheel.py checks).
SHIPPED = (
    ("notebooks", ("*_report.py",), "notebooks"),
    ("data/crosswalk", ("*.csv", "README.md"), "crosswalk"),
    ("data/demo", ("**/*",), "demo"),
    ("data/demo-rounds", ("**/*",), "demo-rounds"),
)


def shipped_files(root: Path = ROOT) -> dict[str, Path]:
    """``{path inside copeval/_data: source file}`` for every file the wheel carries."""
    files = {}
    for source, patterns, target in SHIPPED:
        folder = root / source
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing: cannot build copeval's package data")
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                rel = path.relative_to(folder)
                if not path.is_file() or any(
                    part.startswith(".") or part == "__pycache__" for part in rel.parts
                ):
                    continue
                files[f"{target}/{rel.as_posix()}"] = path
    return files


class BuildPy(build_py):
    """setuptools' ``build_py``, then the repository's data copied into ``copeval/_data``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the repository's folders directly
        target = Path(self.build_lib) / "copeval" / "_data"
        shutil.rmtree(target, ignore_errors=True)  # no stale file from an earlier build
        for rel, source in shipped_files().items():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)

    def get_outputs(self, include_bytecode=True):
        target = Path(self.build_lib) / "copeval" / "_data"
        return super().get_outputs(include_bytecode) + [
            str(target / rel) for rel in shipped_files()
        ]
