"""Child process of ``startup.py --profile``: run scenarios on a cold kernel cache and attribute
every second of CPU spent compiling to a kernel and a phase (typing, lowering, LLVM function
passes, LLVM module passes, machine code, cache write).

    python tools/bench/_compile_profile.py JSON_OUT SCENARIO [SCENARIO ...]

NUMBA_CACHE_DIR must name an empty folder (the parent sets it). CPU time is this process's
(``time.process_time``); a phase's time excludes the kernels compiled inside it (a callee's
compile during its caller's type inference is the callee's).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from typing import Any


class _Clock:
    """Exclusive CPU time per (kernel, phase): the innermost open section gets the time."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, str]] = [("(python)", "other")]
        self.acc: dict[tuple[str, str], float] = defaultdict(float)
        self.last = time.process_time()
        self.count: dict[str, int] = defaultdict(int)

    def push(self, fn: str | None, phase: str) -> None:
        now = time.process_time()
        self.acc[self.stack[-1]] += now - self.last
        self.last = now
        self.stack.append((fn if fn is not None else self.stack[-1][0], phase))

    def pop(self) -> None:
        now = time.process_time()
        self.acc[self.stack[-1]] += now - self.last
        self.last = now
        self.stack.pop()


def _install(clock: _Clock) -> None:
    from numba.core import caching, codegen, event, typed_passes

    def name_of(ev: Any) -> str:
        disp = (ev.data or {}).get("dispatcher")
        f = getattr(disp, "py_func", None)
        module = getattr(f, "__module__", None) or "?"  # a structref constructor has none
        return f"{module.removeprefix('simcore.')}.{getattr(f, '__name__', '?')}"

    class _L(event.Listener):
        def on_start(self, ev: Any) -> None:
            clock.count[name_of(ev)] += 1
            clock.push(name_of(ev), "other")

        def on_end(self, ev: Any) -> None:
            clock.pop()

    event.register("numba:compile", _L())  # stays for the process

    def wrap(cls: Any, meth: str, phase: str) -> None:
        orig = getattr(cls, meth)

        def timed(*a: Any, **k: Any) -> Any:
            clock.push(None, phase)
            try:
                return orig(*a, **k)
            finally:
                clock.pop()

        setattr(cls, meth, timed)

    wrap(typed_passes.NopythonTypeInference, "run_pass", "typing")
    wrap(typed_passes.NativeLowering, "run_pass", "lowering")
    from numba.core import lowering

    wrap(lowering.Lower, "create_cpython_wrapper", "wrappers")  # wrappers: their lowering and function passes
    wrap(lowering.Lower, "create_cfunc_wrapper", "wrappers")
    def optimize_functions(self: Any, ll_module: Any) -> None:  # Numba's loop, each function timed apart
        ll_module.data_layout = self._codegen._data_layout
        for func in ll_module.functions:
            wrapper = func.name.startswith(("_ZN7cpython", "cfunc."))  # the Python-call and C-call wrappers
            clock.push(None, "wrappers" if wrapper else "llvm_function_passes")
            try:
                fpm, pb = self._codegen._function_pass_manager()
                fpm.run(func, pb)
            finally:
                clock.pop()

    codegen.CPUCodeLibrary._optimize_functions = optimize_functions
    wrap(codegen.CPUCodeLibrary, "_optimize_final_module", "llvm_module_passes")
    wrap(codegen.JITCodeLibrary, "_finalize_specific", "machine_code")
    wrap(caching.Cache, "save_overload", "cache_write")
    wrap(caching.Cache, "load_overload", "cache_load")


def main() -> None:
    out, scenarios = sys.argv[1], sys.argv[2:]
    t0 = time.process_time()
    import numba  # noqa: F401

    clock = _Clock()
    _install(clock)
    from simcore.api import simulation

    t_import = time.process_time() - t0
    for name in scenarios:
        simulation(name).run()
    clock.pop()  # close "(python)"
    total = time.process_time() - t0
    rows = [{"kernel": k, "phase": p, "cpu_s": v} for (k, p), v in clock.acc.items() if v > 0]
    with open(out, "w") as f:
        json.dump({"total_cpu_s": total, "import_cpu_s": t_import, "rows": rows, "compiles": clock.count,
                   "specialisations": _specialisations()}, f)


def _specialisations() -> dict[str, list[str]]:
    """Signatures each simcore dispatcher was compiled for (module.function -> list)."""
    from numba.core.dispatcher import Dispatcher

    found: dict[str, list[str]] = {}
    for mod_name, mod in list(sys.modules.items()):
        if not mod_name.startswith("simcore.") or mod is None:
            continue
        for obj in vars(mod).values():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod_name and obj.signatures:
                key = f"{mod_name.removeprefix('simcore.')}.{obj.py_func.__name__}"
                found[key] = [str(s) for s in obj.signatures]
    return found


if __name__ == "__main__":
    main()
