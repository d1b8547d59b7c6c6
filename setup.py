"""Build hook: copy the top-level ``scenarios/`` and ``vehicles/`` catalogs into the wheel.

The catalogs live at the repository top level (where authors edit them); a non-editable
install must still find them, so ``build_py`` places a copy under ``simcore/data/``.
``simcore/_data.py`` looks there first and falls back to the source tree.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithCatalogs(build_py):
    """``build_py`` that also copies the YAML catalogs into ``simcore/data``."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "simcore" / "data"
        for name in ("scenarios", "vehicles"):
            src = ROOT / name
            if src.is_dir():
                dst = target / name
                if dst.exists():
                    shutil.rmtree(dst)
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.png"))


setup(cmdclass={"build_py": BuildPyWithCatalogs})
