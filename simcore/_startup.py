"""Start-up: say so while Numba compiles the kernels on a first run; load cached kernels and end a
run's process cheaply."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, NoReturn, TextIO


class _CompileProgress:
    """Counts Numba compilations (real compiles, not cache loads) and remembers the kernel being
    compiled now (the innermost one)."""

    def __init__(self) -> None:
        self.done = 0
        self.active: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, started: bool, name: str) -> None:
        with self._lock:
            if started:
                self.active.append(name)
            else:
                if self.active:
                    self.active.pop()
                self.done += 1

    def status(self) -> str:
        with self._lock:
            now = f", now {self.active[-1]}" if self.active else ""
            return f"{self.done} kernel(s) compiled{now}"


@contextmanager
def compile_notice(enabled: bool, stream: TextIO | None = None, every_s: float = 1.0) -> Iterator[None]:
    """While the body runs, show "compiling kernels, first run only" with the elapsed time (s) and
    progress (kernels compiled so far, the one compiling now), updated every ``every_s`` on a
    terminal (one line at start and end otherwise), if ``enabled`` (a cold kernel cache,
    ``simcore._jit.cache_is_cold``)."""
    if not enabled:
        yield
        return
    out = stream or sys.stderr
    tty = out.isatty()
    t0 = time.perf_counter()
    done = threading.Event()
    progress = _CompileProgress()
    msg = "compiling kernels, first run only (cached afterwards)"
    out.write(msg + (" ..." if tty else " ...\n"))
    out.flush()

    def tick() -> None:
        while not done.wait(every_s):
            line = f"\r{msg} ... {time.perf_counter() - t0:.0f} s, {progress.status()}"
            out.write(line + "\033[K")
            out.flush()

    ticker = threading.Thread(target=tick, daemon=True) if tty else None
    if ticker is not None:
        ticker.start()
    ok = False
    try:
        from simcore._jit import compile_events

        with compile_events(progress):
            yield
        ok = True
    finally:
        done.set()
        if ticker is not None:
            ticker.join()
        end = f": done in {time.perf_counter() - t0:.0f} s ({progress.done} kernels)" if ok else ": stopped"
        out.write(f"{chr(13) if tty else ''}{msg}{end}" + ("\033[K" if tty else "") + "\n")
        out.flush()


def light_cache_loads() -> None:
    """Let Numba load simcore's cached kernels without first installing its compile-time registries.

    Before each cache load Numba calls ``target_context.refresh()``, which imports and installs
    every typing and lowering registry it has (NumPy, unicode, typed containers, random, cffi
    with pycparser, ...): about a third of a warm ``simcore run``'s CPU, spent on code only the
    compiler uses. Cached machine code needs only the runtime (NRT, whose symbols the loaded code
    links against) and the symbols Numba adds when its context is made or a module is imported
    (C helpers, math, hash secrets); a kernel's ``reload_init`` hooks still run. So a load of a
    ``simcore`` kernel initialises the NRT and loads; a miss, or any other function, takes
    Numba's own path, and a real compile refreshes the context itself
    (``numba.core.compiler.CompilerBase``), so nothing is lost when the cache is cold.
    Idempotent."""
    from numba.core import caching
    from numba.core.runtime import nrt

    load = caching.Cache.load_overload
    if getattr(load, "_simcore_light", False):
        return
    if not all(hasattr(caching.Cache, name) for name in ("_load_overload", "_guard_against_spurious_io_errors")):
        return  # a Numba whose cache internals differ: keep its own loading (slower, same result)

    def load_overload(self: Any, sig: Any, target_context: Any) -> Any:
        if getattr(self._py_func, "__module__", "").startswith("simcore."):
            import numba.cpython.hashing  # noqa: F401  # its import adds the hash-secret symbols

            nrt.rtsys.initialize(target_context)
            with self._guard_against_spurious_io_errors():
                cres = self._load_overload(sig, target_context)
            if cres is not None:
                return cres
        return load(self, sig, target_context)

    load_overload._simcore_light = True  # type: ignore[attr-defined]
    caching.Cache.load_overload = load_overload  # type: ignore[method-assign]


def lazily_cached(jit: Callable[[Callable[..., Any]], Any]) -> Callable[[Callable[..., Any]], Any]:
    """``jit`` (a Numba decorator made with ``cache=False``) with Numba's on-disk cache attached to
    each dispatcher, but set up only when the dispatcher first compiles or loads.

    Numba's ``cache=True`` makes the cache object when the function is decorated: it finds the
    cache folder, creates it and writes a test file there, stats the source (about 0.2 ms per
    kernel, paid at import for every kernel of the package although a run loads a handful)."""
    from numba.core.caching import FunctionCache

    class _LazyFunctionCache(FunctionCache):
        def __init__(self, py_func: Callable[..., Any]) -> None:  # the real set-up is in __getattr__
            self._py_func = py_func

        def __getattr__(self, name: str) -> Any:  # only for attributes not set yet
            if name.startswith("__") or "_py_func" not in self.__dict__:
                raise AttributeError(name)
            FunctionCache.__init__(self, self._py_func)
            return object.__getattribute__(self, name)

    def decorate(fn: Callable[..., Any]) -> Any:
        disp = jit(fn)
        disp._cache = _LazyFunctionCache(disp.py_func)
        return disp

    return decorate


def exit_now(code: int) -> NoReturn:
    """End the process with exit status ``code`` at once, skipping the interpreter's teardown.

    Tearing down a process that has loaded Numba's kernels, pydantic's models and ~700 modules
    (freeing every object, LLVM's JIT, each dispatcher's finalizer) costs ~0.3 s of CPU, as much
    as a whole run of a small scenario; a command that has written and closed everything it
    writes can skip it. Standard streams and logging are flushed first. Under coverage, a tracer
    or a profiler (their data is saved at exit) this is a plain ``sys.exit``."""
    if sys.gettrace() is not None or sys.getprofile() is not None or "coverage" in sys.modules:
        sys.exit(code)
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can be written
            stream.flush()
    os._exit(code)
