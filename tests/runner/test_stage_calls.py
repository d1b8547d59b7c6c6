"""How the compiled step calls its stages (``_jit.stage``, docs/architecture.md "Calling stages"): without
reference counting, so an array argument costs no out-of-line ``NRT_incref``/``NRT_decref`` call."""

from __future__ import annotations

import re
from typing import Any

import numba
import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

from simcore.gym.batch_kernels import gym_step
from simcore.runner.step_kernels import advance

#: Kernels of the step's call tree that keep reference counting (``@kernel``): they allocate, or return a
#: view of an argument (Numba accepts that only with reference counting).
ALLOCATING = {
    "crosswalk_occupancy", "follow_path_route", "pairwise_box_overlaps", "_step_soa", "make_core", "_begin_live",
}

_NO_NRT = {"cache": False, "nogil": True, "error_model": "numpy", "_nrt": False}
_NRT = {**_NO_NRT, "_nrt": True}


def _refcount_calls(fn: Any) -> int:
    """NRT_incref/NRT_decref call sites in the optimised LLVM IR of ``fn``'s own (only) specialisation."""
    ir = fn.inspect_llvm(fn.signatures[0])
    body = ir.split("\ndefine ")[1]  # the first definition: the function itself (wrappers and NRT follow)
    return len(re.findall(r"call void @NRT_(?:incref|decref)", body))


def _branchy() -> Any:
    def f(a, b, c, d):  # writes under branches, like a stage: Numba's pruning keeps the entry increfs
        if a[0] > 1e300:
            b[1] += a[1]
        if b[0] > 1e300:
            c[1] += b[1]
        if c[0] > 1e300:
            d[1] += c[1]
        if d[0] > 1e300:
            a[1] += d[1]
        return a[0]

    return f


def test_a_stage_has_no_reference_counting_and_the_same_result():
    f = _branchy()
    counted, borrowed = numba.njit(**_NRT)(f), numba.njit(**_NO_NRT)(f)
    args = [np.full(2, float(k)) for k in range(1, 5)]
    assert counted(*args) == borrowed(*args) == f(*args) == 1.0
    assert _refcount_calls(counted) >= 8  # an incref and a decref per array argument, at least
    assert _refcount_calls(borrowed) == 0


def test_a_stage_may_call_an_allocating_kernel_but_not_allocate():
    def helper(a):
        tmp = np.empty(a.shape[0])  # allocates: needs reference counting
        s = 0.0
        for i in range(a.shape[0]):
            tmp[i] = 2.0 * a[i]
            s += tmp[i]
        return s

    kernel_helper = numba.njit(**_NRT)(helper)

    def calls(a):
        return kernel_helper(a) + 1.0

    # the helper keeps its own reference counting (``_nrt`` given, not inherited from the caller)
    assert numba.njit(**_NO_NRT)(calls)(np.arange(3.0)) == 7.0
    with pytest.raises(numba.core.errors.TypingError):
        numba.njit(**_NO_NRT)(helper)(np.arange(3.0))


def _call_tree(fn: Any, seen: dict[str, Any]) -> dict[str, Any]:
    """Every Numba dispatcher ``fn`` reaches through the globals its code names (``optional`` wrappers
    included, through their closure), by function name."""
    py = getattr(fn, "py_func", fn)
    names = set(py.__code__.co_names)
    refs = [py.__globals__[n] for n in names if n in py.__globals__]
    for cell in py.__closure__ or ():
        refs.append(cell.cell_contents)
    for obj in refs:
        if isinstance(obj, CPUDispatcher):
            if obj.py_func.__name__ not in seen:
                seen[obj.py_func.__name__] = obj
                _call_tree(obj, seen)
        elif callable(obj) and getattr(obj, "__name__", "").endswith("_if_used"):  # ``_jit.optional``
            _call_tree(obj, seen)
    return seen


@pytest.mark.parametrize("entry", [advance, gym_step], ids=["advance", "gym_step"])
def test_every_kernel_of_the_step_is_a_stage_unless_it_allocates(entry):
    tree = _call_tree(entry, {entry.py_func.__name__: entry})
    assert {"step_drivers", "evaluate_step", "junction_holds"} <= tree.keys()
    counted = sorted(n for n, d in tree.items() if d.targetoptions.get("_nrt", True) and n not in ALLOCATING)
    assert counted == [], f"decorate these with simcore._jit.stage (or list them in ALLOCATING): {counted}"


def test_an_inline_stage_is_inlined_without_making_its_callees_inline():
    def leaf(a):
        return a[0] + 1.0

    given = numba.njit(**_NO_NRT, forceinline=False)(leaf)  # as ``_jit.stage``: forceinline given
    inherits = numba.njit(**_NO_NRT)(leaf)  # not given: compiled with its caller's setting

    def mid(a):
        return given(a) + inherits(a)

    inline = numba.njit(**_NO_NRT, forceinline=True)(mid)  # as ``_jit.inline_stage``
    top = numba.njit(**_NO_NRT, forceinline=False)(lambda a: inline(a) * 2.0)
    a = np.array([1.5])
    assert top(a) == 2.0 * (2.5 + 2.5)
    sig = given.signatures[0]
    assert inline.overloads[sig].fndesc.inline  # LLVM alwaysinline: no call, no argument copies
    assert not given.overloads[sig].fndesc.inline
    assert inherits.overloads[sig].fndesc.inline  # why every step decorator gives forceinline explicitly


@pytest.mark.parametrize("entry", [advance, gym_step], ids=["advance", "gym_step"])
def test_every_stage_gives_forceinline_explicitly(entry):
    tree = _call_tree(entry, {entry.py_func.__name__: entry})
    implicit = sorted(n for n, d in tree.items() if "forceinline" not in d.targetoptions)
    assert implicit == [], f"compile these with simcore._jit.stage / inline_stage / kernel: {implicit}"
    inlined = {n for n, d in tree.items() if d.targetoptions["forceinline"]}
    assert {"step_drivers", "evaluate_step", "junction_holds"} <= inlined
