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


def _import_numba_without_scipy() -> None:
    """Import Numba and ``numba.np.arraymath`` without importing SciPy.

    ``import numba`` imports SciPy only to check its version, and Numba's target context imports
    ``numba.np.arraymath`` when the first kernel is loaded, whose ``_HAVE_BLAS = _check_blas()``
    imports ``scipy.linalg`` (about 0.3 s of CPU: SciPy's array-API layer pulls in
    ``numpy.f2py`` and ``unittest``) only to learn whether BLAS is there. No simcore kernel calls
    BLAS, and Numba's BLAS-backed functions import SciPy themselves when a kernel using them is
    compiled (``numba.np.linalg.ensure_blas``). So both imports run with SciPy hidden and the flag
    is then set to what the check would have found, from the installed packages' metadata
    (``find_spec``, no import).
    """
    import importlib.util
    import sys

    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        import numba  # noqa: F401

        return
    hide = "scipy" if "scipy" not in sys.modules else "scipy.linalg"
    sys.modules[hide] = None  # type: ignore[assignment]  # now "import scipy(.linalg)" raises ImportError
    try:
        import numba.np.arraymath as arraymath
    finally:
        del sys.modules[hide]
    try:
        have_scipy = importlib.util.find_spec("scipy") is not None  # SciPy ships scipy.linalg
    except (ImportError, ValueError):
        have_scipy = False
    arraymath._HAVE_BLAS = have_scipy  # type: ignore[attr-defined]


_import_numba_without_scipy()

import numba  # noqa: E402
from numba import types  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.experimental import structref  # noqa: E402
from numba.extending import intrinsic, overload  # noqa: E402


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



light_cache_loads()

#: Set SIMCORE_NO_CACHE=1 to compile kernels without the on-disk cache.
_CACHE = os.environ.get("SIMCORE_NO_CACHE", "") not in ("1", "true", "yes")


def _kernel_source_hash() -> str:
    """Hash of every module of this package that defines kernels (16 hex digits)."""
    h = hashlib.sha256(numba.__version__.encode())
    pkg = Path(__file__).resolve().parent
    for path in sorted(pkg.rglob("*.py")):
        text = path.read_bytes()
        if b"@kernel" in text or b"@stage" in text or b"@inline_stage" in text or path.name == "_jit.py":
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


def _plain_argument_types(disp: Any) -> Any:
    """``disp`` (a Numba dispatcher) compiled for plain argument types when compiled code calls it.

    Numba compiles a function called from compiled code once per distinct *literal* argument: an event
    kind passed as a constant, ``-1``, ``True`` each made a specialisation of their own (``emit_event``
    was compiled 14 times on one run). Integer and boolean constants are typed here as their plain type
    (int64, bool), as a call from Python types them, so every such call shares one specialisation. A
    function that needs a literal argument (string literals, for instance) keeps it."""

    def plain(t: Any) -> Any:
        return types.unliteral(t) if isinstance(t, (types.IntegerLiteral, types.BooleanLiteral)) else t

    template = disp.get_call_template

    def get_call_template(args: Any, kws: Any) -> Any:
        return template([plain(a) for a in args], {k: plain(v) for k, v in kws.items()})

    disp.get_call_template = get_call_template
    return disp


def _decorator(jit: Callable[[Callable[..., Any]], Any]) -> Callable[[Callable[..., Any]], Any]:
    """``jit`` with the disk cache (unless off, ``lazily_cached``) and plain argument types."""
    cached = lazily_cached(jit) if _CACHE else jit
    return lambda fn: _plain_argument_types(cached(fn))


#: Decorator for every kernel. fastmath stays off because results must be bit-identical;
#: error_model="numpy" makes 0/0 a NaN instead of an exception. (Type checkers see the
#: plain function: a Numba dispatcher is called with the function's own arguments.)
if TYPE_CHECKING:
    _F = TypeVar("_F", bound=Callable[..., Any])

    def kernel(fn: _F) -> _F:
        """The decorated function (compiled at first call)."""
        return fn
else:
    # _nrt given, not inherited: a kernel called from a ``stage`` still counts references (Numba otherwise
    # compiles a callee with its caller's NRT setting, and an allocating helper would not compile)
    # the on-disk cache is set up at a kernel's first compile or load (lazily_cached)
    # no_cfunc_wrapper: no C-callable wrapper (only first-class function use needs one; none here)
    # forceinline given (False), not inherited, for the same reason (see inline_stage)
    kernel = _decorator(
        numba.njit(nogil=True, error_model="numpy", _nrt=True, no_cfunc_wrapper=True, forceinline=False)
    )

#: Decorator for a kernel of the compiled step's call tree that never allocates (``advance``, its stages,
#: the gym's step): ``kernel`` compiled without Numba's reference counting (NRT). Every array argument is
#: then borrowed for the call (the caller holds it), so entering and leaving the function costs no
#: ``NRT_incref``/``NRT_decref`` call per array: Numba keeps those calls out of line and its pruning pass
#: leaves most of them in a function with several exits, which was ~2/3 of a light gym step (160 calls
#: for a stage of 80 arrays, ~1.4 us of its ~1.5 us call; docs/architecture.md, "Calling stages").
#: Allocating (``np.empty``, ``.copy()``, ...) inside such a function is a compile-time error; keep
#: allocation in a ``kernel`` helper (it may be called from here) that returns no array. Results are
#: the same bit for bit: reference counts never touch a value.
#: ``forceinline`` is given (False), not inherited, for the same reason as ``_nrt``: a callee of an
#: ``inline_stage`` would otherwise be compiled inline-always too.
if TYPE_CHECKING:

    def stage(fn: _F) -> _F:
        """The decorated function (compiled at first call, without reference counting)."""
        return fn

    def inline_stage(fn: _F) -> _F:
        """The decorated function (compiled at first call, without reference counting, inlined)."""
        return fn
else:
    stage = _decorator(
        numba.njit(nogil=True, error_model="numpy", _nrt=False, no_cfunc_wrapper=True, forceinline=False)
    )
    inline_stage = _decorator(
        numba.njit(nogil=True, error_model="numpy", _nrt=False, no_cfunc_wrapper=True, forceinline=True)
    )

#: ``inline_stage``: a ``stage`` that LLVM inlines into its compiled callers (``alwaysinline``). For a stage
#: called once per step of ``advance`` (or per instance of ``gym_step``) with tens of array arguments:
#: a call copies every argument's 5-9 machine words into the callee's argument area (~1,000 words for
#: ``step_drivers``), which was most of ``advance``'s own time in the gym profile; inlined, the stage reads
#: the caller's values directly. Same code, same results bit for bit (no fast-math, no reassociation).
#: Keep it to stages with one or two call sites: each caller compiles its own copy of the body. An inlined
#: stage is never also listed in ``apart`` (below): it is compiled inside its caller.


def optional(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a kernel) as a stage of a compiled step that a scenario may not use.

    The returned function ``stage(uses, otherwise, *args)``, called from compiled code, is ``fn(*args)``
    where ``uses`` is a bool and ``otherwise`` where ``uses`` is None (``fn`` is then not called). The
    choice is made from the flag's *type* when the caller compiles, so a caller specialised for a
    flag of None never compiles ``fn`` nor anything only ``fn`` calls (a first run compiles only the
    stages its scenario needs); a bool flag compiles ``fn`` whatever its value. The caller keeps
    its own run-time condition around the call: the flag is a compile-time promise that the call
    is not reached (``runner.engine.Uses``).
    """

    def stage(uses: Any, otherwise: Any, *args: Any) -> Any:
        return otherwise if uses is None else fn(*args)

    @overload(stage, jit_options={"nogil": True})
    def _typed(uses, otherwise, *args):  # typing time: dispatch on the flag's type
        if isinstance(uses, types.NoneType):

            def left_out(uses, otherwise, *args):
                return otherwise

            return left_out

        def called(uses, otherwise, *args):
            return fn(*args)

        return called

    stage.__name__ = stage.__qualname__ = f"{getattr(fn, '__name__', 'stage')}_if_used"
    return stage


# -- stages compiled apart ------------------------------------------------------------------
# Numba links the code of every compiled callee into its caller's LLVM module and optimises and emits the
# whole module again: a stage's machine code is made once on its own and once more inside each caller up the
# tree (``advance``, then the gym's ``gym_step``). A stage marked here keeps its own machine code: a compiled
# caller declares it and calls it at its address (a process-wide symbol named after the stage and its
# argument types, registered when the stage is compiled or loaded), so the caller's module stays small. The
# call itself is the same (same calling convention and arguments); LLVM only cannot inline the stage, which
# is why only large stages called a few times per step are marked. A caller loaded from the disk cache first
# loads (or compiles) the stages it calls apart (a ``reload_init`` hook), so their symbols exist before its
# machine code is linked.

#: (module, qualified name) of the stages called apart (``apart``).
_APART: set[tuple[str, str]] = set()


def apart(*stages: Any) -> None:
    """Compile these kernels (Numba dispatchers) apart from their compiled callers (see above): marks them
    for every caller compiled later in this process. Results are the same bit for bit."""
    for disp in stages:
        _APART.add((disp.py_func.__module__, disp.py_func.__qualname__))


def _apart_symbol(fndesc: Any) -> str:
    """Symbol of the specialisation ``fndesc`` called apart: the same in every process (Numba's own
    symbol carries a per-process counter)."""
    from numba.core import itanium_mangler
    from numba.core.funcdesc import qualifying_prefix

    name = itanium_mangler.mangle(qualifying_prefix(fndesc.modname, fndesc.qualname), fndesc.argtypes)
    return "simcore_apart_" + hashlib.sha256(f"{name}|{fndesc.restype}".encode()).hexdigest()[:32]


class _LoadApart:
    """``reload_init`` hook of a cached caller: load (or compile) the stage it calls apart, whose
    registration defines the symbol the caller's machine code calls."""

    def __init__(self, module: str, qualname: str, argtypes: tuple[Any, ...]) -> None:
        self.key = (module, qualname, argtypes)

    def __call__(self) -> None:
        import importlib

        module, qualname, argtypes = self.key
        getattr(importlib.import_module(module), qualname).compile(argtypes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _LoadApart) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key[:2])


def _call_apart(fndesc: Any, symbol: str, hook: _LoadApart) -> Any:
    """Lowering of a call to ``fndesc`` through ``symbol`` (Numba's ``imputils.user_function`` without
    linking the callee's library)."""
    from numba.core.imputils import fix_returning_optional, impl_ret_new_ref

    def imp(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        fnty = context.call_conv.get_function_type(fndesc.restype, fndesc.argtypes)
        fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)
        context.apply_target_attributes(fn, fndesc.argtypes, fndesc.restype)
        context.call_conv.decorate_function(fn, fndesc.args, fndesc.argtypes, noalias=fndesc.noalias)
        status, retval = context.call_conv.call_function(builder, fn, fndesc.restype, fndesc.argtypes, args)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        retval = fix_returning_optional(context, builder, sig, status, retval)
        context.active_code_library._reload_init.add(hook)
        return impl_ret_new_ref(context, builder, fndesc.restype, retval)

    imp.signature = fndesc.argtypes  # type: ignore[attr-defined]
    imp.libs = ()  # type: ignore[attr-defined]
    return imp


def _install_apart() -> None:
    """Route Numba's registration of compiled functions through ``_APART`` (idempotent)."""
    from numba.core import base
    from numba.core.codegen import ll

    insert = base.BaseContext.insert_user_function
    if getattr(insert, "_simcore_apart", False):
        return

    def insert_user_function(self: Any, func: Any, fndesc: Any, libs: Any = ()) -> None:
        if (fndesc.modname, fndesc.qualname) not in _APART or len(libs) != 1:
            return insert(self, func, fndesc, libs)
        symbol = _apart_symbol(fndesc)
        ll.add_symbol(symbol, libs[0].get_pointer_to_function(fndesc.llvm_func_name))
        hook = _LoadApart(fndesc.modname, fndesc.qualname, tuple(fndesc.argtypes))
        impl = _call_apart(fndesc, symbol, hook)
        self._defns[func].append(impl, impl.signature)
        return None

    insert_user_function._simcore_apart = True  # type: ignore[attr-defined]
    base.BaseContext.insert_user_function = insert_user_function  # type: ignore[method-assign]


_install_apart()


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


def _borrowed(context, builder, ty, val):
    """``val`` of type ``ty`` with every array in it (itself, or a member of a tuple) borrowed."""
    if isinstance(ty, types.Array):
        return _alias(context, builder, ty, val, ty, None, False)
    if isinstance(ty, types.BaseTuple):
        members = [_borrowed(context, builder, t, builder.extract_value(val, i)) for i, t in enumerate(ty.types)]
        return context.make_tuple(builder, ty, members)
    return val


@intrinsic
def borrow_field(typingctx, inst, name):
    """Field ``name`` (a string literal) of a StructRef ``inst``, borrowed: ``inst.name`` without the
    reference count of every array in it (``inst.name`` increments and later decrements one per array:
    ~300 atomic operations for the engine's Static). Valid while ``inst`` lives; never store it."""
    if not (isinstance(inst, types.StructRef) and isinstance(name, types.StringLiteral)):
        return None
    field = name.literal_value
    if field not in inst.field_dict:
        return None
    field_t = inst.field_dict[field]

    def codegen(context, builder, sig, args):
        return _borrowed(context, builder, field_t, getattr(_payload(context, builder, sig.args[0], args[0]), field))

    return field_t(inst, name), codegen


def _payload(context, builder, struct_t, val):
    """The payload (fields) of the StructRef ``val``: its MemInfo's data pointer read inline, as Numba's
    ``NRT_MemInfo_data_fast`` does, so a ``stage`` (compiled without NRT) can read it too."""
    from numba.core.runtime.nrtdynmod import _meminfo_struct_type

    meminfo = cgutils.create_struct_proxy(struct_t)(context, builder, value=val).meminfo
    info = builder.bitcast(meminfo, _meminfo_struct_type.as_pointer())
    data = builder.load(cgutils.gep(builder, info, 0, 3))
    data_t = context.data_model_manager[struct_t.get_data_type()].get_value_type()
    ptr = builder.bitcast(data, data_t.as_pointer())
    return cgutils.create_struct_proxy(struct_t.get_data_type())(context, builder, ref=ptr)


@intrinsic
def borrow_tuple(typingctx, tup):
    """``tup`` (a (named) tuple) with every array member borrowed (other members unchanged).

    Hand a borrowed engine tuple (``runner.engine.Static``, ``EngineState``, ...) to a kernel that is
    called many times in one call: each ``tup.field`` read inside it is then a copy without the atomic
    reference count of an owned array. Same type as ``tup``, so the callee's specialisation is shared.
    """
    if not isinstance(tup, types.BaseTuple):
        return None

    def codegen(context, builder, sig, args):
        return _borrowed(context, builder, sig.args[0], args[0])

    return tup(tup), codegen


@intrinsic
def copy_instance(typingctx, dst, j, src, k):
    """Row ``j`` of every array of the (named) tuple ``dst`` becomes row ``k`` of the same member of
    ``src`` (one memcpy per member; bitwise, NaN payloads included). Every member of both must be a
    C-contiguous array of one dtype per member, with equal trailing shapes (not checked here)."""
    if not (isinstance(dst, types.BaseTuple) and isinstance(src, types.BaseTuple) and len(dst) == len(src)):
        return None
    if not (isinstance(j, types.Integer) and isinstance(k, types.Integer)):
        return None
    for a, b in zip(dst.types, src.types, strict=True):
        ok = isinstance(a, types.Array) and isinstance(b, types.Array)
        if not (ok and a.layout == "C" and b.layout == "C" and a.dtype == b.dtype and a.ndim == b.ndim):
            return None

    def codegen(context, builder, sig, args):
        dst_t, j_t, src_t, k_t = sig.args
        jj = context.cast(builder, args[1], j_t, types.intp)
        kk = context.cast(builder, args[3], k_t, types.intp)
        for i, (ta, tb) in enumerate(zip(dst_t.types, src_t.types, strict=True)):
            a = context.make_array(ta)(context, builder, value=builder.extract_value(args[0], i))
            b = context.make_array(tb)(context, builder, value=builder.extract_value(args[2], i))
            shape = cgutils.unpack_tuple(builder, a.shape, ta.ndim)
            a_str = cgutils.unpack_tuple(builder, a.strides, ta.ndim)
            b_str = cgutils.unpack_tuple(builder, b.strides, tb.ndim)
            count = context.get_constant(types.intp, 1)
            for extent in shape[1:]:
                count = builder.mul(count, extent)
            pa = builder.gep(builder.bitcast(a.data, cgutils.voidptr_t), [builder.mul(jj, a_str[0])])
            pb = builder.gep(builder.bitcast(b.data, cgutils.voidptr_t), [builder.mul(kk, b_str[0])])
            cgutils.raw_memcpy(builder, pa, pb, count, a.itemsize)
        return context.get_dummy_value()

    return types.none(dst, j, src, k), codegen


# -- the gym's compiled-call record -------------------------------------------------------
# Passing the engine's four structures from Python unboxes ~250 arrays per call (~25 us); a StructRef
# holding them is one pointer. Its Numba type class must live at module level for the kernel cache.


@structref.register
class GymCoreType(types.StructRef):
    """Numba type of ``GymCore``."""

    def preprocess_fields(self, fields):  # type: ignore[no-untyped-def]
        return tuple((name, types.unliteral(t)) for name, t in fields)


class GymCore(structref.StructRefProxy):
    """One gym batch as one compiled object (``simcore.gym.batch_kernels.gym_step``): the engine's ``static``,
    ``state`` (N instances), ``initial`` (t = 0 state of one instance), ``scratch`` and ``out`` of one thread,
    and the gym's arrays (the ``InstanceBatch`` attributes of the same names; every array is shared with
    Python, not copied). Built by ``batch_kernels.make_core``. Here because only this module imports Numba."""


#: GymCore fields, in constructor order.
CORE_FIELDS = (
    "static", "state", "initial", "scratch", "out", "ctl", "par", "act", "weights", "terminate", "todo",
    "sf_next", "terms", "reward", "end", "terminated", "truncated", "obs", "engine",
)  # fmt: skip
structref.define_proxy(GymCore, GymCoreType, list(CORE_FIELDS))


@structref.register
class EngineCoreType(types.StructRef):
    """Numba type of ``EngineCore``."""

    def preprocess_fields(self, fields):  # type: ignore[no-untyped-def]
        return tuple((name, types.unliteral(t)) for name, t in fields)


class EngineCore(structref.StructRefProxy):
    """The compiled step's one argument (``runner.step_kernels.advance``): the engine's ``static``, ``state``,
    ``scratch`` and ``out`` (``runner.engine``) behind one pointer. Passing the four NamedTuples instead
    copies ~1,800 machine words per call into the callee's argument area (most of the gym's per-instance
    fixed cost) and, from Python, unboxes ~250 arrays. Built by ``step_kernels.make_engine``; every
    array is shared, not copied: build a new one when one of the four tuples is replaced."""


#: EngineCore fields, in constructor order.
ENGINE_FIELDS = ("static", "state", "scratch", "out")
structref.define_proxy(EngineCore, EngineCoreType, list(ENGINE_FIELDS))


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
