"""Writing output files (result.json, junit.xml, report.html, topdown.png) as new files.

A file that is already there is removed first rather than truncated and written over: ext4 (with its
default ``auto_da_alloc``) writes a file truncated and rewritten, or renamed over another, to disk at once,
which costs about 0.2 ms of CPU and milliseconds of waiting per file, more than writing a new one (a run
written again into the same folder, a batch resumed, a benchmark).
"""

from __future__ import annotations

import os
from pathlib import Path


def write_new(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` in one call, as a new file (an old one removed first); returns ``path``."""
    path.unlink(missing_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a reader sees either the old file whole or the new one: written to
    ``path.tmp`` (a new file), then renamed over ``path``; returns ``path``."""
    tmp = path.with_name(path.name + ".tmp")
    write_new(tmp, data)
    os.replace(tmp, path)
    return path
