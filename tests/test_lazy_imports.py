"""Start-up stays cheap: what ``simcore --help`` and the run path import (an import-graph check, no timing).

A warm ``simcore run`` is mostly imports (docs/performance.md, "Start-up"); these tests keep the
heavy ones (Numba's compiler, kernel modules, matplotlib, scipy.signal, the report and batch
layers) off the paths that do not need them. Each check runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: Never imported by the CLI module, its parser (``simcore --help``) or the run path's modules.
NEVER_AT_START = ("matplotlib", "scipy.signal", "scipy.special", "scipy.ndimage", "mcap", "ray", "PIL")


def _modules_after(code: str) -> set[str]:
    """Names in sys.modules after running ``code`` in a fresh interpreter."""
    prog = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env=dict(os.environ), check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _loaded(mods: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in mods)


def test_cli_parser_imports_no_numba_no_pydantic_no_kernels():
    mods = _modules_after("import simcore.cli\nsimcore.cli.build_parser()")
    heavy = [p for p in (*NEVER_AT_START, "numba", "pydantic", "numpy") if _loaded(mods, p)]
    kernels = sorted(m for m in mods if m.startswith("simcore.") and m.endswith("_kernels"))
    assert not heavy, f"simcore --help imports {heavy}"
    assert not kernels, f"simcore --help imports kernel modules {kernels}"


@pytest.mark.parametrize(
    "code",
    [
        "import simcore.api",  # the modules ``simcore run`` needs
        "from simcore.scenario.loader import load_scenario\nfrom simcore.scenario.build import build_world",  # validate
    ],
)
def test_run_and_validate_paths_import_no_plotting_no_report_no_batch(code):
    mods = _modules_after(code)
    heavy = [p for p in (*NEVER_AT_START, "simcore.report", "simcore.render", "simcore.batch") if _loaded(mods, p)]
    assert not heavy, f"{code!r} imports {heavy}"


def test_the_check_sees_a_heavy_import():
    mods = _modules_after("import xml.dom.minidom")
    assert _loaded(mods, "xml.dom") and not _loaded(mods, "simcore")


def test_run_out_writes_its_pictures_without_matplotlib(tmp_path):
    """``simcore run --out`` (topdown.png with Pillow, report.html with inline SVG plots) never loads matplotlib."""
    scenario = os.path.join(os.path.dirname(__file__), "data", "rear_end.yaml")
    code = f"from simcore.cli import main\nmain(['run', {scenario!r}, '--quiet', '--out', {str(tmp_path)!r}])"
    mods = _modules_after(code)
    assert (tmp_path / "topdown.png").is_file() and (tmp_path / "report.html").is_file()
    assert _loaded(mods, "PIL") and _loaded(mods, "simcore.render.svg")  # the check sees the run's imports
    assert not _loaded(mods, "matplotlib")


def test_kernels_load_without_scipy_linalg_and_blas_kernels_still_compile():
    """Numba's target set-up imports scipy.linalg only to see whether BLAS is there (0.3 s of a warm
    run); simcore._jit lets it import without SciPy and sets the flag from the installed packages.
    A kernel that does use BLAS (np.dot) still compiles and imports SciPy then."""
    prog = (
        "import importlib.util, json, sys\n"
        "import numpy as np\n"
        "import simcore._jit\n"
        "import numba\n"
        "import numba.np.arraymath as am\n"
        "total = numba.njit(lambda a: a.sum())(np.arange(4.0))\n"
        "before = 'scipy.linalg' in sys.modules\n"
        "dot = numba.njit(lambda a, b: np.dot(a, b))(np.arange(3.0), np.arange(3.0))\n"
        "print(json.dumps([total, before, am._HAVE_BLAS, importlib.util.find_spec('scipy') is not None, dot,\n"
        "                  'scipy.linalg' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env=dict(os.environ), check=True)
    total, before, have_blas, have_scipy, dot, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert total == 6.0 and not before, "loading a kernel imported scipy.linalg"
    assert have_blas == have_scipy  # what Numba's own check would have found
    assert dot == 5.0 and after == have_scipy  # 0*0 + 1*1 + 2*2, through BLAS


#: Numba modules that only its compiler needs (installed by the target context's refresh).
COMPILE_ONLY = ("numba.np.random.generator_methods", "numba.typed.typeddict", "numba.misc.cffiimpl", "cffi")


def test_cached_kernels_load_lazily_without_compile_registries_or_scipy(tmp_path):
    """A kernel's disk cache is set up at its first compile, not at import; a later process loads
    it without Numba's compile-time registries (simcore._jit.light_cache_loads) or SciPy, gets
    the same result, and can still compile new code (the compiler refreshes the context itself)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    prog = (
        "import json, os, sys\n"
        "import numpy as np\n"
        "import simcore.geometry.kernels as g\n"
        f"empty = not any(os.scandir({str(tmp_path)!r}))\n"
        "inside = g.point_in_polygon(0.5, 0.25, np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0]))\n"
        "hits = sum(g.point_in_polygon.stats.cache_hits.values())\n"
        f"loaded = [m for m in {COMPILE_ONLY!r} + ('scipy',) if m in sys.modules]\n"
        "import numba\n"
        "first = numba.njit(lambda a: np.sort(a)[0])(np.array([3.0, 1.0, 2.0]))\n"
        "print(json.dumps([empty, bool(inside), hits, loaded, first]))"
    )

    def run() -> list:
        out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env=env, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    empty, inside, hits, _, first = run()  # compiles and writes the cache
    assert empty and inside and hits == 0 and first == 1.0
    assert any(tmp_path.rglob("*.nbi"))
    empty, inside, hits, loaded, first = run()  # loads it
    assert inside and hits == 1 and first == 1.0
    assert loaded == [], f"loading a cached kernel imported {loaded}"
