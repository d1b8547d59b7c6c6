"""The only place kernels get their Numba decorator (cache on, GIL released, no fastmath).

Numba's on-disk cache checks only the source file of each compiled function, not the files
of the kernels it calls, so an edited callee could leave a caller's cached machine code
stale. The cache therefore lives in a folder named after a hash of every kernel source of
this package: any kernel edit (or a new version) compiles afresh, and an unchanged package
loads from the cache. The folder sits under ``$NUMBA_CACHE_DIR`` if set, else under the
user cache (``$XDG_CACHE_HOME`` or ``~/.cache``)/simcore, so read-only installs cache too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numba

#: Set SIMCORE_NO_CACHE=1 to compile kernels without the on-disk cache.
_CACHE = os.environ.get("SIMCORE_NO_CACHE", "") not in ("1", "true", "yes")


def _kernel_source_hash() -> str:
    """Hash of every module of this package that defines kernels (16 hex digits)."""
    h = hashlib.sha256(numba.__version__.encode())
    pkg = Path(__file__).resolve().parent
    for path in sorted(pkg.rglob("*.py")):
        text = path.read_bytes()
        if b"@kernel" in text or path.name == "_jit.py":
            h.update(path.relative_to(pkg).as_posix().encode())
            h.update(text)
    return h.hexdigest()[:16]


def _cache_dir() -> Path:
    base = os.environ.get("NUMBA_CACHE_DIR")
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "simcore"
    root = Path(base) if base else user
    return root / f"kernels-{_kernel_source_hash()}"


def _prune(current: Path, keep: int = 4) -> None:
    """Remove all but the ``keep`` most recently used sibling caches (old kernel versions)."""
    try:
        old = sorted(
            (p for p in current.parent.glob("kernels-*") if p != current and p.is_dir()),
            key=lambda p: p.stat().st_mtime,
        )
        for p in old[: max(len(old) - keep + 1, 0)]:
            shutil.rmtree(p, ignore_errors=True)
    except OSError:
        pass


if _CACHE:
    _dir = _cache_dir()
    if not _dir.exists():
        _prune(_dir)
    numba.config.CACHE_DIR = str(_dir)

#: Decorator for every kernel. fastmath stays off because results must be bit-identical;
#: error_model="numpy" makes 0/0 a NaN instead of an exception.
kernel = numba.njit(cache=_CACHE, nogil=True, error_model="numpy")
