"""State hash: the kernel against a plain-Python reference, byte order, NaNs, and runs that differ."""

from __future__ import annotations

import struct

import numpy as np

from simcore.api import run, simulation
from simcore.record.state_hash import HASH_SEED, StateHash

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
