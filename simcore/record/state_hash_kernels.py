"""Kernels of the run's state hash (``simcore.record.state_hash`` documents the definition): the
splitmix64 fold of single words, the four-lane per-step fold of a whole ``EngineState``."""

from __future__ import annotations

import numpy as np

from simcore._jit import borrow_flat, stage

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


@stage
def _mix(h: np.uint64, w: np.uint64) -> np.uint64:
    x = (h ^ w) + _GOLDEN
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@stage
def fold_words(h: np.uint64, words: np.ndarray, is_float: bool) -> np.uint64:
    """``h`` with every word of ``words`` (uint64, 1-D) folded in, in order (``is_float``: NaN patterns
    made canonical)."""
    for k in range(words.shape[0]):
        h = _mix(h, _word(words[k], is_float))
    return h


@stage
def _canon(w: np.uint64) -> np.uint64:
    """A float64 bit pattern with every NaN made the one canonical quiet NaN."""
    if (w & _EXP) == _EXP and (w & _MANT) != np.uint64(0):
        return _QNAN
    return w


@stage
def _round(acc: np.uint64, w: np.uint64) -> np.uint64:
    acc = acc + w * _P2
    acc = (acc << _R31) | (acc >> _R33)
    return acc * _P1


@stage
def _word(x, canon: bool) -> np.uint64:
    """An element widened to a 64-bit word (two's complement; ``canon``: a float bit pattern whose
    NaNs are made canonical)."""
    w = np.uint64(np.int64(x))
    return _canon(w) if canon else w


@stage
def _lanes(lanes, v, n, canon):  # pragma: no cover - compiled
    """The first ``n`` elements of ``v`` (1-D, integers, bools or float bit patterns as uint64) as
    words (``_word``), word i into lane i mod 4 (unrolled by four: the lanes run in parallel)."""
    a0, a1, a2, a3 = lanes
    k = 0
    while k + 4 <= n:
        a0 = _round(a0, _word(v[k], canon))
        a1 = _round(a1, _word(v[k + 1], canon))
        a2 = _round(a2, _word(v[k + 2], canon))
        a3 = _round(a3, _word(v[k + 3], canon))
        k += 4
    if k < n:
        a0 = _round(a0, _word(v[k], canon))
    if k + 1 < n:
        a1 = _round(a1, _word(v[k + 1], canon))
    if k + 2 < n:
        a2 = _round(a2, _word(v[k + 2], canon))
    return a0, a1, a2, a3


@stage
def _absorb_f(lanes, a, j):  # pragma: no cover - compiled
    """Instance j of the float64 array ``a`` (C order), NaNs canonical."""
    v = borrow_flat(a, j)
    return _lanes(lanes, v.view(np.uint64), v.size, True)


@stage
def _absorb_i(lanes, a, j, n_max):  # pragma: no cover - compiled
    """The first ``n_max`` elements of instance j of the integer or bool array ``a`` (C order)."""
    v = borrow_flat(a, j)
    return _lanes(lanes, v, min(v.size, n_max), False)


# fmt: off
@stage
def _mix_lanes(h, q):  # pragma: no cover - compiled
    """``h`` with the digest of the four lanes ``q`` (``rotl(l0, 1) + rotl(l1, 7) + rotl(l2, 12) + rotl(l3, 18)``)
    mixed in."""
    a0, a1, a2, a3 = q
    d = ((a0 << _R1) | (a0 >> _R63)) + ((a1 << _R7) | (a1 >> _R57)) + ((a2 << _R12) | (a2 >> _R52)) \
        + ((a3 << _R18) | (a3 >> _R46))
    return _mix(h, d)
# fmt: on


# fmt: off
@stage
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
    q = _absorb_f(q, es.story_fired, j)
    q = _absorb_i(q, es.story_done, j, ALL)
    q = _absorb_i(q, es.prof_on, j, ALL)
    q = _absorb_f(q, es.prof, j)
    q = _absorb_f(q, es.prof_pre, j)
    q = _absorb_f(q, es.story_app, j)
    q = _absorb_f(q, es.story_mem, j)
    return _mix_lanes(h, q)
# fmt: on


# fmt: off
@stage
def fold_routes_compiled(h, es, j):  # pragma: no cover - compiled
    """``h`` with instance j's route samples (``ROUTE_FIELDS``) folded in as one digest, the way
    ``fold_engine_state`` folds a step: the compiled storyboard's steps that fired an entry (the route's
    only writer inside the compiled step)."""
    q = (_L0, _L1, _L2, _L3)
    q = _absorb_f(q, es.route_x, j)
    q = _absorb_f(q, es.route_y, j)
    q = _absorb_f(q, es.route_mu, j)
    return _mix_lanes(h, q)
# fmt: on
