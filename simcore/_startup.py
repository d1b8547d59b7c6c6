"""Start-up feedback: say so while Numba compiles the kernels on a first run."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def compile_notice(enabled: bool, stream: TextIO | None = None, every_s: float = 1.0) -> Iterator[None]:
    """While the body runs, show "compiling kernels, first run only" with the elapsed time (s),
    updated every ``every_s`` on a terminal (one line at start and end otherwise), if ``enabled``
    (a cold kernel cache, ``simcore._jit.cache_is_cold``)."""
    if not enabled:
        yield
        return
    out = stream or sys.stderr
    tty = out.isatty()
    t0 = time.perf_counter()
    done = threading.Event()
    msg = "compiling kernels, first run only (cached afterwards)"
    out.write(msg + (" ..." if tty else " ...\n"))
    out.flush()

    def tick() -> None:
        while not done.wait(every_s):
            out.write(f"\r{msg} ... {time.perf_counter() - t0:.0f} s")
            out.flush()

    ticker = threading.Thread(target=tick, daemon=True) if tty else None
    if ticker is not None:
        ticker.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        done.set()
        if ticker is not None:
            ticker.join()
        end = f": done in {time.perf_counter() - t0:.0f} s" if ok else ": stopped"
        out.write(f"{chr(13) if tty else ''}{msg}{end}\n")
        out.flush()
