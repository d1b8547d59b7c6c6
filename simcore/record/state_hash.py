"""Running 64-bit hash of a run's engine state: proves a rerun bit-identical across workers, backends, machines.

Every array element is folded as one 64-bit word: a float's IEEE-754 bit pattern (float32
widened to float64 first; every NaN folded as the one canonical quiet NaN, since NaN payloads
and signs vary by CPU), an integer or bool widened to 64 bits (two's complement). The word
values, not the bytes in memory, are hashed, so the result is the same on little- and
big-endian machines (it equals hashing each element's little-endian 8-byte form). Each fold
mixes ``h ^ word`` through the splitmix64 finaliser (a bijection of 64-bit words), so the hash
depends on every bit and on the order of the words. A group of arrays is folded as a head
(a tag word and each array's length), then the float arrays' elements, then the integer and
bool arrays' elements, each in the order given; so a changed shape or part changes the hash too.

Every step of a run (``fold_engine_state``, called by the compiled step itself) folds the full
``EngineState`` of its instance in the field order of ``simcore.state.EngineState``, every array
row-major, as the same 64-bit words. Per step the words of an array go to four lanes (word i of
each array to lane i mod 4, lanes carried from one array to the next, each lane absorbing a word as
``lane = rotl(lane + w * P2, 31) * P1``, xxHash64's round, so the four lanes run in parallel), and
the step's digest ``rotl(l0, 1) + rotl(l1, 7) + rotl(l2, 12) + rotl(l3, 18)`` is mixed into the
running hash with the splitmix64 finaliser. Each round, the sum and the mix are bijective in the
changed word, so one changed word of one step always changes the hash. The route samples
(``route_x``, ``route_y``, ``route_mu``; the step only reads them) are folded as a group at
reset and again at every step where the storyboard fired (the only writer), with the step number.
Of the collision-pair arrays ``touch_i``/``touch_j`` only the ``n_touch`` pairs in use are folded.
The stream does not depend on how a run is chunked into compiled calls.
``Simulation`` keeps the running value in ``Outputs.state_hash``; ``Result.state_hash`` holds the
hex digest.
"""

from __future__ import annotations

import numpy as np

from simcore._jit import borrow_slab, kernel

#: Starting value of every hash (an arbitrary odd constant).
HASH_SEED = 0x5EED_C0DE_1234_ABCD
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_EXP = np.uint64(0x7FF0000000000000)
_MANT = np.uint64(0x000FFFFFFFFFFFFF)
_QNAN = np.uint64(0x7FF8000000000000)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
#: xxHash64's primes and the start value of the four lanes of one step.
_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
LANE_SEEDS = (0x60EA27EEADC0B5D6, 0xC2B2AE3D27D4EB4F, 0x0, 0x61C8864E7A143579)
_L0, _L1, _L2, _L3 = (np.uint64(v) for v in LANE_SEEDS)
#: left rotations of the lanes when they are summed into a step's digest
LANE_ROT = (1, 7, 12, 18)
_R1, _R7, _R12, _R18, _R31 = np.uint64(1), np.uint64(7), np.uint64(12), np.uint64(18), np.uint64(31)
_R63, _R57, _R52, _R46, _R33 = np.uint64(63), np.uint64(57), np.uint64(52), np.uint64(46), np.uint64(33)
ALL = 1 << 62  # "every element" for _absorb_i
#: the route-sample arrays, folded at reset and at storyboard steps only (``StateHash.fold``)
ROUTE_FIELDS = ("route_x", "route_y", "route_mu")


@kernel
def _mix(h: np.uint64, w: np.uint64) -> np.uint64:
    x = (h ^ w) + _GOLDEN
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@kernel
def fold_words(h: np.uint64, words: np.ndarray, is_float: bool) -> np.uint64:
    """``h`` with every word of ``words`` (uint64, 1-D) folded in, in order; NaN patterns made canonical."""
    for k in range(words.shape[0]):
        w = words[k]
        if is_float and (w & _EXP) == _EXP and (w & _MANT) != np.uint64(0):
            w = _QNAN
        h = _mix(h, w)
    return h


@kernel
def _canon(w: np.uint64) -> np.uint64:
    """A float64 bit pattern with every NaN made the one canonical quiet NaN."""
    if (w & _EXP) == _EXP and (w & _MANT) != np.uint64(0):
        return _QNAN
    return w


@kernel
def _round(acc: np.uint64, w: np.uint64) -> np.uint64:
    acc = acc + w * _P2
    acc = (acc << _R31) | (acc >> _R33)
    return acc * _P1


@kernel
def _absorb_f(lanes, a, j):  # pragma: no cover - compiled
    """Instance j of the float64 array ``a`` (C order), NaNs canonical."""
    s = borrow_slab(a, j)
    w = s.reshape(s.size).view(np.uint64)
    a0, a1, a2, a3 = lanes
    n = w.shape[0]
    k = 0
    while k + 4 <= n:
        a0 = _round(a0, _canon(w[k]))
        a1 = _round(a1, _canon(w[k + 1]))
        a2 = _round(a2, _canon(w[k + 2]))
        a3 = _round(a3, _canon(w[k + 3]))
        k += 4
    if k < n:
        a0 = _round(a0, _canon(w[k]))
    if k + 1 < n:
        a1 = _round(a1, _canon(w[k + 1]))
    if k + 2 < n:
        a2 = _round(a2, _canon(w[k + 2]))
    return a0, a1, a2, a3


@kernel
def _absorb_i(lanes, a, j, n_max):  # pragma: no cover - compiled
    """The first ``n_max`` elements of instance j of the integer or bool array ``a`` (C order), each
    widened to 64 bits."""
    s = borrow_slab(a, j)
    v = s.reshape(s.size)
    a0, a1, a2, a3 = lanes
    n = min(v.shape[0], n_max)
    k = 0
    while k + 4 <= n:
        a0 = _round(a0, np.uint64(np.int64(v[k])))
        a1 = _round(a1, np.uint64(np.int64(v[k + 1])))
        a2 = _round(a2, np.uint64(np.int64(v[k + 2])))
        a3 = _round(a3, np.uint64(np.int64(v[k + 3])))
        k += 4
    if k < n:
        a0 = _round(a0, np.uint64(np.int64(v[k])))
    if k + 1 < n:
        a1 = _round(a1, np.uint64(np.int64(v[k + 1])))
    if k + 2 < n:
        a2 = _round(a2, np.uint64(np.int64(v[k + 2])))
    return a0, a1, a2, a3


# fmt: off
@kernel
def fold_engine_state(h, es, j):  # pragma: no cover - compiled
    """``h`` (uint64) with one step's full engine state of instance j folded in: every field of
    ``simcore.state.EngineState`` in its order but the route samples (``ROUTE_FIELDS``); of the
    collision pairs ``touch_i`` and ``touch_j`` the first ``n_touch`` (the rest is spare capacity,
    never read)."""
    n_touch = es.n_touch[j, 0]
    q = (_L0, _L1, _L2, _L3)
    q = _absorb_f(q, es.x, j)
    q = _absorb_f(q, es.y, j)
    q = _absorb_f(q, es.yaw, j)
    q = _absorb_f(q, es.speed, j)
    q = _absorb_f(q, es.steer, j)
    q = _absorb_f(q, es.accel, j)
    q = _absorb_f(q, es.vy, j)
    q = _absorb_f(q, es.yaw_rate, j)
    q = _absorb_f(q, es.progress, j)
    q = _absorb_f(q, es.lateral, j)
    q = _absorb_i(q, es.active, j, ALL)
    q = _absorb_i(q, es.started, j, ALL)
    q = _absorb_i(q, es.done, j, ALL)
    q = _absorb_i(q, es.instance, j, ALL)
    q = _absorb_f(q, es.v_des, j)
    q = _absorb_f(q, es.speed_factor, j)
    q = _absorb_f(q, es.ped_start, j)
    q = _absorb_f(q, es.friction, j)
    q = _absorb_f(q, es.grade, j)
    q = _absorb_f(q, es.ctrl_accel, j)
    q = _absorb_f(q, es.ctrl_steer, j)
    q = _absorb_f(q, es.lead_gap, j)
    q = _absorb_f(q, es.lead_close, j)
    q = _absorb_i(q, es.offroad, j, ALL)
    q = _absorb_i(q, es.goal_flag, j, ALL)
    q = _absorb_f(q, es.ror_stop, j)
    q = _absorb_i(q, es.arr_ps, j, ALL)
    q = _absorb_f(q, es.arr_t, j)
    q = _absorb_f(q, es.lat_off, j)
    q = _absorb_f(q, es.lat_tgt, j)
    q = _absorb_i(q, es.sig_state, j, ALL)
    q = _absorb_i(q, es.sig_override, j, ALL)
    q = _absorb_i(q, es.cw_occ, j, ALL)
    q = _absorb_f(q, es.metrics, j)
    q = _absorb_f(q, es.actor_ev, j)
    q = _absorb_f(q, es.pet, j)
    q = _absorb_i(q, es.touch_i, j, n_touch)
    q = _absorb_i(q, es.touch_j, j, n_touch)
    q = _absorb_i(q, es.n_touch, j, ALL)
    q = _absorb_i(q, es.step, j, ALL)
    a0, a1, a2, a3 = q
    d = ((a0 << _R1) | (a0 >> _R63)) + ((a1 << _R7) | (a1 >> _R57)) + ((a2 << _R12) | (a2 >> _R52)) \
        + ((a3 << _R18) | (a3 >> _R46))
    return _mix(h, d)
# fmt: on


class StateHash:
    """A running hash; ``fold`` arrays in a fixed order, read ``hexdigest`` (16 hex digits)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = np.uint64(HASH_SEED)

    def fold(self, tag: int, *arrays: np.ndarray) -> None:
        """Fold one group of arrays: the words [tag, length of each array], then the elements of
        the float arrays in order, then those of the integer and bool arrays in order.

        Three kernel calls per group, whatever the number of arrays (the runner folds a group
        per ``advance`` call).
        """
        flats = [np.asarray(a).reshape(-1) for a in arrays]
        for a in flats:
            if a.dtype.kind not in "fbiu":
                raise TypeError(f"state hash: cannot fold an array of dtype {a.dtype}")
        head = np.array([tag, *(a.shape[0] for a in flats)], dtype=np.uint64)
        floats = [a for a in flats if a.dtype.kind == "f"]
        ints = [a for a in flats if a.dtype.kind != "f"]
        # Numba hands uint64 results back as Python ints: re-wrap them so every call types as uint64.
        h = np.uint64(fold_words(self.value, head, False))
        if floats:
            words = np.concatenate(floats, dtype=np.float64, casting="safe").view(np.uint64)
            h = np.uint64(fold_words(h, words, True))
        if ints:
            words = np.concatenate(ints, dtype=np.int64, casting="unsafe").view(np.uint64)
            h = np.uint64(fold_words(h, words, False))
        self.value = h

    def hexdigest(self) -> str:
        """The hash as 16 lower-case hex digits."""
        return f"{int(self.value):016x}"
