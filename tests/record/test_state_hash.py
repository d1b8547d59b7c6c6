"""State hash: the kernel against a plain-Python reference, byte order, NaNs, and runs that differ."""

from __future__ import annotations

import struct

import numpy as np

from simcore.api import run, simulation
from simcore.record.state_hash import HASH_SEED, LANE_ROT, LANE_SEEDS, ROUTE_FIELDS, StateHash, fold_engine_state
from simcore.state import EngineState

MASK = (1 << 64) - 1


def _ref_mix(h: int, w: int) -> int:
    """splitmix64's finaliser on (h ^ w) + golden ratio, in Python integers."""
    x = ((h ^ w) + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _ref_hash(tag: int, *arrays: tuple[list, bool]) -> str:
    """The documented definition: [tag, lengths], then float elements, then integer ones, each as
    its little-endian 8-byte word (NaN canonical)."""
    h = HASH_SEED
    for w in [tag, *(len(values) for values, _ in arrays)]:
        h = _ref_mix(h, w)
    for want_float in (True, False):
        for values, is_float in arrays:
            if is_float != want_float:
                continue
            for v in values:
                if is_float:
                    w = 0x7FF8000000000000 if v != v else struct.unpack("<Q", struct.pack("<d", v))[0]
                else:
                    w = int(v) & MASK
                h = _ref_mix(h, w)
    return f"{h:016x}"


def test_kernel_matches_plain_python_reference() -> None:
    f = [0.0, -0.0, 1.5, -3.25e-300, float("inf"), float("nan"), 1e308]
    i = [0, 1, -1, 2**31 - 1, -(2**40)]
    h = StateHash()
    h.fold(7, np.array(i, dtype=np.int64), np.array(f), np.array([True, False, True]), np.array(f[:2], np.float32))
    assert h.hexdigest() == _ref_hash(7, (i, False), (f, True), ([1, 0, 1], False), (f[:2], True))


def test_byte_order_dtype_width_and_nan_payload_do_not_matter() -> None:
    a = np.array([1.0, np.pi, -2.5e-10, np.nan])
    big = a.astype(">f8")  # the same values stored big-endian
    payload = a.copy()
    payload.view(np.uint64)[3] = np.uint64(0xFFF8000000000123)  # another NaN (sign and payload)
    digests = set()
    for arr in (a, big, payload):
        h = StateHash()
        h.fold(1, arr)
        digests.add(h.hexdigest())
    assert len(digests) == 1
    ints = [np.array([3, -4, 5], dtype=t) for t in (np.int8, np.int32, ">i8")]
    assert len({_digest(x) for x in ints}) == 1


def _digest(*arrays: np.ndarray, tag: int = 1) -> str:
    h = StateHash()
    h.fold(tag, *arrays)
    return h.hexdigest()


def test_every_bit_order_and_shape_count() -> None:
    a = np.linspace(0.0, 1.0, 64)
    base = _digest(a)
    flipped = a.copy()
    flipped.view(np.uint64)[17] ^= np.uint64(1)  # one ulp in one element
    assert _digest(flipped) != base
    assert _digest(a[::-1].copy()) != base
    assert _digest(a[:32], a[32:]) != base  # same words, other split
    assert _digest(a, tag=2) != base
    assert _digest(np.zeros(3)) != _digest(np.zeros(4))


def test_run_hash_is_stable_and_sensitive() -> None:
    sweep = "tests/data/sweep.yaml"
    r1 = run(sweep, "autopilot", variant=1)
    r2 = run(sweep, "autopilot", variant=1)
    assert len(r1.state_hash) == 16 and r1.state_hash == r2.state_hash
    assert r1.to_json()["state_hash"] == r1.state_hash
    assert run(sweep, "autopilot", variant=2).state_hash != r1.state_hash
    assert run(sweep, "idle", variant=1).state_hash != r1.state_hash
    # prepare() (zero steps) and the reset in between leave the hash as it was
    sim = simulation(sweep, "autopilot", variant=1)
    sim.prepare()
    assert sim.run().state_hash == r1.state_hash


# -- every step's full engine state (the compiled step's fold) -----------------------------
P1, P2 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & MASK


def _ref_step(h: int, state: EngineState) -> int:
    """The documented per-step fold in Python integers: every EngineState field but the route
    samples, in field order, row-major, word i of each array into lane i mod 4 (xxHash64 rounds)."""
    lanes = list(LANE_SEEDS)
    for name in EngineState._fields:
        if name in ROUTE_FIELDS:
            continue
        a = np.ascontiguousarray(getattr(state, name)[0]).reshape(-1)
        if name in ("touch_i", "touch_j"):
            a = a[: int(state.n_touch[0, 0])]  # the pairs in use, not the spare capacity
        if a.dtype.kind == "f":
            words = [0x7FF8000000000000 if v != v else struct.unpack("<Q", struct.pack("<d", v))[0] for v in a.tolist()]
        else:
            words = [int(v) & MASK for v in a.tolist()]
        for i, w in enumerate(words):
            k = i % 4
            lanes[k] = (_rotl((lanes[k] + w * P2) & MASK, 31) * P1) & MASK
    digest = sum(_rotl(v, r) for v, r in zip(lanes, LANE_ROT, strict=True)) & MASK
    return _ref_mix(h, digest)


def test_every_step_folds_the_full_engine_state_as_documented() -> None:
    sim = simulation("tests/data/sweep.yaml", "autopilot", variant=1)
    sim.reset()
    h = int(sim.out.state_hash[0])
    for _ in range(6):
        sim.step()  # one compiled call per step
        h = _ref_step(h, sim.state)
        assert int(sim.out.state_hash[0]) == h
    # a chunked call folds the same stream: 4 more steps in one call == the reference step by step
    before = [int(sim.out.state_hash[0])]
    snap = sim.snapshot()
    for _ in range(4):
        sim.step()
        before.append(int(sim.out.state_hash[0]))
    sim.restore(snap)
    assert int(sim.out.state_hash[0]) == before[0]
    sim._advance(4)
    assert int(sim.out.state_hash[0]) == before[-1]


def test_one_bit_of_any_field_changes_the_step_fold() -> None:
    sim = simulation("tests/data/sweep.yaml", "autopilot", variant=1)
    sim.reset()
    sim.step()
    sim.state.n_touch[0, 0] = 3  # three collision pairs in use (their values are arbitrary here)
    h0 = np.uint64(HASH_SEED)
    base = np.uint64(fold_engine_state(h0, sim.state, 0))
    seen = []
    for name in EngineState._fields:
        a = getattr(sim.state, name)
        size = 3 if name in ("touch_i", "touch_j") else a[0].size
        if size == 0:  # e.g. the compiled storyboard's arrays of a scenario without one: no word to flip
            seen.append(name)
            continue
        for pos in (0, size - 1):  # first and last element (in use) of instance 0
            flat = a[0].reshape(-1) if a.ndim > 1 else a
            words = flat.view(np.uint8)
            # the lowest bit of the element (bools stay 0/1); of a NaN, an exponent bit (NaN payloads
            # are made canonical on purpose: they vary by CPU)
            nan = flat.dtype.kind == "f" and np.isnan(flat[pos])
            bit, one = (pos * flat.itemsize + 7, np.uint8(0x40)) if nan else (pos * flat.itemsize, np.uint8(1))
            words[bit] ^= one
            if name in ROUTE_FIELDS:  # folded at reset and storyboard steps, not by the step
                sim.out.state_hash[0] = h0
                sim._fold_routes()
                changed = int(sim.out.state_hash[0])
                words[bit] ^= one
                sim.out.state_hash[0] = h0
                sim._fold_routes()
                assert changed != int(sim.out.state_hash[0]), name
            else:
                changed = np.uint64(fold_engine_state(h0, sim.state, 0))
                words[bit] ^= one
                assert changed != base, f"{name}[{pos}]"
            seen.append(name)
    assert np.uint64(fold_engine_state(h0, sim.state, 0)) == base
    assert set(seen) == set(EngineState._fields)


def test_a_storyboard_edit_of_the_routes_is_hashed_at_its_step() -> None:
    a = simulation("tests/data/sweep.yaml", "autopilot", variant=1)
    b = simulation("tests/data/sweep.yaml", "autopilot", variant=1)
    for sim in (a, b):
        sim.reset()
        sim.step()
    b.state.route_mu[0, -1] += 1e-9  # what a storyboard friction change writes
    for sim in (a, b):
        sim._fold_routes()  # what _check_storyboard does after any entry fired
    assert a.state_digest != b.state_digest
