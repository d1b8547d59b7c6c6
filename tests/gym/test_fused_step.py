"""The fused gym step (``batch_kernels.gym_step``: actions, reset, engine step, rewards, observation in one call)
against the separate pieces it replaces: ``ActionMap.physical``, ``InstanceBatch.reset_instances``, the batch
observation kernels; and the two array intrinsics it relies on."""

import math
from typing import NamedTuple

import numpy as np
import pytest

from simcore._jit import borrow_tuple, copy_instance, kernel
from simcore.gym import SimcoreEnv, VectorSimcoreEnv
from simcore.gym import batch_kernels as bk
from simcore.gym.env import speed_factors
from simcore.state import EngineState


@kernel
def _sum_and_bump(t):  # pragma: no cover - compiled
    b = borrow_tuple(t)
    s = 0.0
    for i in range(b.x.shape[0]):
        s += b.x[i] * b.k
        b.y[i] += 1.0
    return s


class _Rec(NamedTuple):
    x: np.ndarray
    y: np.ndarray
    k: float


def test_borrowed_tuple_reads_and_writes_the_callers_arrays():
    r = _Rec(np.array([1.0, 2.0, 3.0]), np.zeros(2), 2.0)
    assert _sum_and_bump(r) == 12.0
    assert _sum_and_bump(r) == 12.0
    assert r.y.tolist() == [2.0, 2.0]  # writes through the borrowed view land in the caller's array


@kernel
def _copy_row(dst, j, src, k):  # pragma: no cover - compiled
    copy_instance(dst, j, src, k)


def _state(n: int, rng: np.random.Generator) -> EngineState:
    """An EngineState of n instances with random bytes in every array (NaN payloads included)."""
    arrays = []
    for k in range(len(EngineState._fields)):
        shape = (n,) + ((3,) if k % 3 == 0 else (2, 4) if k % 3 == 1 else (0,))
        dtype = (np.float64, np.int8, np.bool_, np.int64)[k % 4]
        raw = rng.integers(0, 256, size=int(np.prod(shape)) * np.dtype(dtype).itemsize, dtype=np.uint8)
        arrays.append(raw.view(dtype).reshape(shape).copy() if raw.size else np.zeros(shape, dtype))
    return EngineState(*arrays)


def test_copy_instance_equals_set_instance_byte_for_byte():
    rng = np.random.default_rng(0)
    dst, src = _state(4, rng), _state(3, rng)
    ref = dst.copy()
    ref.set_instance(2, src, 1)
    _copy_row(dst, 2, src, 1)
    for name, a, b in zip(EngineState._fields, dst, ref, strict=True):
        assert a.tobytes() == b.tobytes(), name


@pytest.mark.parametrize("normalize", [True, False])
def test_map_action_equals_the_numpy_action_map(normalize):
    env = VectorSimcoreEnv("signalized_intersection", 1, normalize_actions=normalize)
    vals = [-9.0, -3.0, -1.0, -0.4, -0.0, 0.0, 0.3, 1.0, 2.5, 9.0, math.inf, -math.inf, math.nan]
    grid = np.array([(a, s) for a in vals for s in vals])
    acc, steer = env.actions.physical(grid)
    mode = int(env.batch.ctl[bk.C_MODE])
    assert mode == (bk.MODE_NORMALIZED if normalize else bk.MODE_BOX)
    for k, (a, s) in enumerate(grid):
        got = bk.map_action(mode, a, s, env.batch.par)
        assert np.array_equal(got, (acc[k], steer[k]), equal_nan=True), (a, s)


@pytest.mark.parametrize("observation", ["objects", ("objects", "lidar")])
def test_fused_step_equals_the_separate_steps_through_resets(blocked_yaml, observation):
    # the fused vector step against the pieces it replaces: numpy action mapping, the batch's Python reset,
    # the raw-control step and the batch observation kernels (two envs with the same seeds)
    n, seed = 5, 2
    kw = dict(observation=observation, max_episode_steps=12, obs_config={"lidar_beams": 8})
    fused = VectorSimcoreEnv(blocked_yaml, n, **kw)
    ref = VectorSimcoreEnv(blocked_yaml, n, **kw)
    ofused, _ = fused.reset(seed=seed)
    ref.reset(seed=seed)
    b = ref.batch
    pending = np.zeros(n, dtype=np.bool_)
    rng = np.random.default_rng(7)
    ended = 0
    for _ in range(40):
        act = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        act[0] = (np.nan, 0.2)  # instance 0 brakes (non-finite action)
        of, rf, tf, uf, inf = fused.step(act)
        # reference: the same step from separate pieces
        if pending.any():
            for j in np.flatnonzero(pending):
                b.sf_next[j] = speed_factors(b, ref._rngs[j], ref.npc_speed_jitter)
            b.reset_instances(pending, b.sf_next)
        acc, steer = ref.actions.physical(act)
        b.step(~pending, acc, steer, ref.max_steps, ref._weights, ref._terminate)
        ref.observer.compute()
        obs = ref.observer.batched()
        assert all(np.array_equal(of[k], obs[k]) for k in obs)
        assert np.array_equal(rf, b.reward) and np.array_equal(inf["end_code"], b.end)
        term = np.isin(b.end, (bk.END_COLLISION, bk.END_OFFROAD, bk.END_GOAL))
        trunc = b.end == bk.END_TIMEOUT
        assert np.array_equal(tf, term) and np.array_equal(uf, trunc)
        for name, x, y in zip(b.state._fields, fused.batch.state, b.state, strict=True):
            assert np.array_equal(x, y, equal_nan=True), name
        pending = term | trunc
        ended += int(pending.sum())
    assert ended >= n  # resets were exercised
    assert ofused["objects"].shape[0] == n


def test_vector_reset_applies_the_speed_factor_draws():
    # the NPCs' speed factors after a reset are the drawn ones (a single env's), not the built ones
    venv = VectorSimcoreEnv("signalized_intersection", 2, npc_speed_jitter=0.3)
    venv.reset(seed=4)
    single = SimcoreEnv("signalized_intersection", npc_speed_jitter=0.3)
    single.reset(seed=5)
    b = venv.batch
    assert not np.array_equal(b.speed_factor[1, b.drive_idx], b.speed_factor0[b.drive_idx])
    assert np.array_equal(b.speed_factor[1], single.batch.speed_factor[0])
