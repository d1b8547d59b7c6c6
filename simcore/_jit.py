"""The only place kernels get their Numba decorator (cache on, GIL released, no fastmath)."""

from __future__ import annotations

import os

import numba

#: Set SIMCORE_NO_CACHE=1 to compile kernels without the on-disk cache (e.g. read-only installs).
_CACHE = os.environ.get("SIMCORE_NO_CACHE", "") not in ("1", "true", "yes")

#: Decorator for every kernel. fastmath stays off because results must be bit-identical;
#: error_model="numpy" makes 0/0 a NaN instead of an exception.
kernel = numba.njit(cache=_CACHE, nogil=True, error_model="numpy")
