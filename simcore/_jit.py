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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numba
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

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
    numba.config.CACHE_DIR = str(_dir)  # type: ignore[attr-defined]


@contextmanager
def compile_events(callback: Callable[[bool, str], None]) -> Iterator[None]:
    """While the body runs, call ``callback(started, name)`` at the start (True) and end (False) of
    every real Numba compilation (cache loads are not compilations); ``name``: the Python function's."""
    from numba.core import event

    def name_of(ev: Any) -> str:
        disp = (ev.data or {}).get("dispatcher")
        return str(getattr(getattr(disp, "py_func", None), "__name__", "?"))

    class _Listener(event.Listener):
        def on_start(self, ev: Any) -> None:
            callback(True, name_of(ev))

        def on_end(self, ev: Any) -> None:
            callback(False, name_of(ev))

    with event.install_listener("numba:compile", _Listener()):
        yield


def cache_is_cold() -> bool:
    """True when this package version has no compiled kernels on disk yet (the next run compiles)."""
    if not _CACHE:
        return True
    d = Path(numba.config.CACHE_DIR)  # type: ignore[attr-defined]
    return not (d.is_dir() and any(d.rglob("*.nbi")))


#: Decorator for every kernel. fastmath stays off because results must be bit-identical;
#: error_model="numpy" makes 0/0 a NaN instead of an exception. (Type checkers see the
#: plain function: a Numba dispatcher is called with the function's own arguments.)
if TYPE_CHECKING:
    _F = TypeVar("_F", bound=Callable[..., Any])

    def kernel(fn: _F) -> _F:
        """The decorated function (compiled at first call)."""
        return fn
else:
    kernel = numba.njit(cache=_CACHE, nogil=True, error_model="numpy")


# -- borrowed array views (used by simcore.gym.batch_kernels) ------------------------------
# ``x[j]`` in compiled code makes a view that holds a reference on x's memory: an atomic
# increment and decrement per view and again wherever compiled code copies it. Handing ~150
# arrays per instance and step to ``advance`` that way cost a quarter of the gym's step time.
# These views alias the caller's memory without a reference (null meminfo: reference counting
# on them is a null test). They are valid only while the caller holds the arrays, and must
# not be stored or returned to Python.


def _alias(context, builder, arr_t, arr_v, out_t, j, keep_row):
    a = context.make_array(arr_t)(context, builder, value=arr_v)
    shape = cgutils.unpack_tuple(builder, a.shape, arr_t.ndim)
    strides = cgutils.unpack_tuple(builder, a.strides, arr_t.ndim)
    data = a.data
    if j is not None:
        raw = builder.gep(builder.bitcast(data, cgutils.voidptr_t), [builder.mul(j, strides[0])])
        data = builder.bitcast(raw, a.data.type)
        if keep_row:
            shape = [context.get_constant(types.intp, 1), *shape[1:]]
        else:
            shape, strides = shape[1:], strides[1:]
    out = context.make_array(out_t)(context, builder)
    context.populate_array(out, data=data, shape=shape, strides=strides, itemsize=a.itemsize, meminfo=None)
    return out._getvalue()


@intrinsic
def borrow(typingctx, arr):
    """``arr`` itself, borrowed (an unreferenced alias of an array; anything else unchanged)."""

    def codegen(context, builder, sig, args):
        if isinstance(arr, types.Array):
            return _alias(context, builder, arr, args[0], arr, None, False)
        return args[0]

    return arr(arr), codegen


@intrinsic
def borrow_row(typingctx, arr, j):
    """Borrowed ``arr[j]`` of a C-contiguous array with 2 or more dimensions."""
    if not (isinstance(arr, types.Array) and arr.ndim >= 2 and arr.layout == "C" and isinstance(j, types.Integer)):
        return None
    out_t = types.Array(arr.dtype, arr.ndim - 1, "C")

    def codegen(context, builder, sig, args):
        jj = context.cast(builder, args[1], sig.args[1], types.intp)
        return _alias(context, builder, arr, args[0], out_t, jj, False)

    return out_t(arr, j), codegen


@intrinsic
def borrow_slab(typingctx, arr, j):
    """Borrowed ``arr[j:j + 1]`` of a C-contiguous array."""
    if not (isinstance(arr, types.Array) and arr.layout == "C" and isinstance(j, types.Integer)):
        return None
    out_t = types.Array(arr.dtype, arr.ndim, "C")

    def codegen(context, builder, sig, args):
        jj = context.cast(builder, args[1], sig.args[1], types.intp)
        return _alias(context, builder, arr, args[0], out_t, jj, True)

    return out_t(arr, j), codegen


@intrinsic
def borrow_flat(typingctx, arr, j):
    """Borrowed ``arr[j]`` of a C-contiguous array as a 1-D view of its elements (no copy; shape (1,)
    for a 1-D ``arr``)."""
    if not (isinstance(arr, types.Array) and arr.layout == "C" and isinstance(j, types.Integer)):
        return None
    out_t = types.Array(arr.dtype, 1, "C")

    def codegen(context, builder, sig, args):
        arr_t = sig.args[0]
        a = context.make_array(arr_t)(context, builder, value=args[0])
        shape = cgutils.unpack_tuple(builder, a.shape, arr_t.ndim)
        strides = cgutils.unpack_tuple(builder, a.strides, arr_t.ndim)
        jj = context.cast(builder, args[1], sig.args[1], types.intp)
        raw = builder.gep(builder.bitcast(a.data, cgutils.voidptr_t), [builder.mul(jj, strides[0])])
        size = context.get_constant(types.intp, 1)
        for extent in shape[1:]:
            size = builder.mul(size, extent)
        out = context.make_array(out_t)(context, builder)
        context.populate_array(out, data=builder.bitcast(raw, a.data.type), shape=[size],
                               strides=[a.itemsize], itemsize=a.itemsize, meminfo=None)  # fmt: skip
        return out._getvalue()

    return out_t(arr, j), codegen


# -- cache prefetch hints --------------------------------------------------------------------
@intrinsic
def prefetch(typingctx, arr, k):
    """Hint the CPU to start loading ``arr[k]`` into the caches (LLVM ``llvm.prefetch``: read,
    keep in all levels). No effect on any value; ``k`` must lie within the array."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(k, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        from llvmlite import ir

        a = context.make_array(sig.args[0])(context, builder, value=args[0])
        kk = context.cast(builder, args[1], sig.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], a, [kk], wraparound=False)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, cgutils.voidptr_t), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.none(arr, k), codegen
