"""Start-up: say so while Numba compiles the kernels on a first run; no garbage collection while a
process starts; end a run's process cheaply.
(Loading cached kernels cheaply is ``simcore._jit``'s: only that module imports Numba.)"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import NoReturn, TextIO


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


def exit_now(code: int) -> NoReturn:
    """End the process with exit status ``code`` at once, skipping the interpreter's teardown.

    Tearing down a process that has loaded Numba's kernels, pydantic's models and ~700 modules
    (freeing every object, LLVM's JIT, each dispatcher's finalizer) costs ~0.3 s of CPU, as much
    as a whole run of a small scenario; a command that has written and closed everything it
    writes can skip it. Standard streams and logging are flushed first. Under coverage, a tracer
    or a profiler (their data is saved at exit) this is a plain ``sys.exit``."""
    if sys.gettrace() is not None or sys.getprofile() is not None or "coverage" in sys.modules:
        sys.exit(code)
    flush_output()
    os._exit(code)


def flush_output(logs: bool = True) -> None:
    """Flush stdout and stderr (and, if ``logs``, shut logging down, which flushes its handlers):
    what a process must do before ``os._exit``."""
    if logs and "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):  # a closed pipe or stream: nothing more can be written
            stream.flush()


#: True while ``hold_gc`` has the cyclic garbage collector off (and ``release_gc`` has not run yet).
_GC_HELD = [False]


def hold_gc() -> None:
    """Turn the cyclic garbage collector off while a command's process starts (imports, loading
    and building a scenario, loading kernels): they allocate millions of objects and free few,
    yet trigger ~250 collections that rescan everything imported so far, ~0.1 s of a warm
    ``simcore run``'s CPU (two full collections alone ~70 ms). ``release_gc`` turns it back on.
    Only for a process that is one command (``simcore.cli.main`` as the entry point); does
    nothing if the collector is already off (a caller's choice is kept)."""
    if gc.isenabled():
        gc.disable()
        _GC_HELD[0] = True


def release_gc() -> None:
    """End ``hold_gc``: move everything alive now to the permanent generation (``gc.freeze``, so
    later collections scan only what the run itself allocates) and turn the collector on again.
    Call it where the long part of the command starts (a run's steps). No-op without ``hold_gc``."""
    if _GC_HELD[0]:
        _GC_HELD[0] = False
        gc.freeze()
        gc.enable()
