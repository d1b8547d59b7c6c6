"""Child process of ``startup.py --phases``: one warm ``simcore run`` with its CPU time split by phase.

    python tools/bench/_startup_phases.py JSON_OUT SCENARIO [--out DIR]

Exclusive CPU time (``time.process_time``) per phase, innermost phase wins: the imports of NumPy,
Numba, pydantic, the scenario schema and the rest of the run path; loading and validating the
scenario; building the world; ``Simulation()`` and ``prepare()`` (where the cached kernels load);
the run; the outputs of ``--out``. Two Numba phases are carved out of whatever calls them:
``numba: refresh`` (the compile-time registries Numba installs before a cache load, unless
simcore's light loads skip it) and ``numba: cache load`` (index lookup, unpickling, linking the
object code), with the number of kernels loaded. Works on any simcore tree (PYTHONPATH).
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from collections import defaultdict
from typing import Any

_ACC: dict[str, float] = defaultdict(float)
_STACK: list[str] = ["python start-up + other"]
_LAST = [0.0]  # process CPU before this line counts as python start-up
_COUNT: dict[str, int] = defaultdict(int)


def _switch(to: str | None) -> None:
    now = time.process_time()
    _ACC[_STACK[-1]] += now - _LAST[0]
    _LAST[0] = now
    if to is None:
        _STACK.pop()
    else:
        _STACK.append(to)


def _phase(owner: Any, name: str, label: str, reentrant_once: bool = False) -> None:
    """Count the time inside ``owner.name`` as ``label`` (nested calls of the same label: once)."""
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        if reentrant_once and label in _STACK:
            return fn(*args, **kwargs)
        _switch(label)
        _COUNT[label] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _switch(None)

    setattr(owner, name, timed)


def _import(label: str, *modules: str) -> None:
    import importlib

    _switch(label)
    for m in modules:
        importlib.import_module(m)
    _switch(None)


def main() -> None:
    out_json, scenario, *rest = sys.argv[1:]
    _import("import numpy", "numpy")
    _import("import numba (via simcore._jit)", "simcore._jit")
    _import("import pydantic", "pydantic", "pydantic.main", "pydantic.fields")
    _import("import scenario schema", "simcore.scenario.schema")
    from numba.core import base, caching

    _phase(base.BaseContext, "refresh", "numba: refresh (compile-time registries)", reentrant_once=True)
    _phase(caching.Cache, "_load_overload", "numba: cache load (index, unpickle, link)", reentrant_once=True)
    _import("import cli + run path (kernel modules, ...)", "simcore.cli", "simcore.api", "simcore.agents.loading")
    import simcore.api as api
    import simcore.runner.loop as loop

    _phase(api, "load_scenario", "load + validate scenario (YAML, pydantic)")
    _phase(api, "build_world", "build world")
    _phase(loop.Simulation, "__init__", "Simulation() (engine state, build kernels)")
    _phase(loop.Simulation, "prepare", "prepare (load advance)")
    _phase(loop.Simulation, "run", "run")
    if "--out" in rest:
        import simcore.report.outputs as outputs
        import simcore.report.runlog as runlog

        _phase(outputs, "write_run_outputs", "outputs (report, picture, JSON)")
        _phase(runlog.RunLogWriter, "__init__", "outputs (run log)")
        _phase(runlog.RunLogWriter, "finish", "outputs (run log)")
    from simcore.cli import main as cli_main

    _switch("cli (parse, summary, rest)")
    with contextlib.suppress(SystemExit):
        cli_main(["run", "--quiet", scenario, *rest])
    _switch(None)
    _switch("end")  # books the tail on the outer phase
    total = sum(_ACC.values())
    loads = _COUNT.get("numba: cache load (index, unpickle, link)", 0)
    doc = {"phases": dict(_ACC), "total_cpu_s": total, "kernels_loaded": loads}
    with open(out_json, "w") as fh:
        json.dump(doc, fh)


if __name__ == "__main__":
    main()
