"""Pedestrian/cyclist kernel limits, and the trig-free kinematic kernel against the exact one."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.dynamics import rollout
from simcore.dynamics.kinematic_kernels import step_kinematic, step_kinematic_fast
from simcore.dynamics.rollouts import WALKER_LIMITS

#: Trig-free rotation: Taylor remainder < 1e-12 rad per step plus rounding, over 1000 steps (m).
ATOL_FAST_M = 1e-6


@pytest.mark.parametrize("kind", ["pedestrian", "cyclist"])
def test_walkers_respect_speed_acceleration_and_turn_rate_limits(kind):
    v_max, a_max, b_max, w_max, r_min = WALKER_LIMITS[kind]
    rng = np.random.default_rng(1)
    u = np.repeat(np.column_stack([rng.uniform(-1, 2 * v_max, 20), rng.uniform(-4, 4, 20)]), 20, axis=0)
    dt = 0.05
    h = rollout(kind, None, [0, 0, 0, 0], u, dt)
    v = h[:, 3]
    assert np.all(v >= 0) and np.all(v <= v_max + 1e-12)
    dv = np.diff(v)
    assert np.all(dv <= a_max * dt + 1e-12) and np.all(dv >= -b_max * dt - 1e-12)
    dyaw = np.abs(np.angle(np.exp(1j * np.diff(h[:, 2]))))
    assert np.all(dyaw <= w_max * dt + 1e-12)
    if r_min > 0:
        dist = 0.5 * (v[1:] + v[:-1]) * dt
        assert np.all(dyaw <= dist / r_min + 1e-12)


def test_walker_reaches_its_target_speed_and_heading_and_stops_on_nan():
    u = np.vstack([np.tile([1.4, 1.0], (100, 1)), np.tile([np.nan, np.nan], (60, 1))])
    h = rollout("pedestrian", None, [2.0, 3.0, 0.0, 0.0], u, 0.05)
    assert h[100, 3] == pytest.approx(1.4) and h[100, 2] == pytest.approx(1.0)
    assert h[-1, 3] == 0.0 and h[-1, 2] == pytest.approx(1.0)


@given(
    v=st.floats(0.0, 35.0),
    a=st.floats(-8.0, 3.0),
    delta=st.floats(-0.6, 0.6),
    yaw=st.floats(-math.pi, math.pi),
    n=st.integers(1, 1000),
)
@settings(deadline=None, max_examples=40)
def test_fast_kinematic_matches_the_exact_kernel(v, a, delta, yaw, n):
    wb, dt = 2.8, 0.05
    one = np.ones(1, dtype=np.bool_)
    ex = [np.array([q]) for q in (1.0, -2.0, yaw, v, delta)]
    acc = np.zeros(1)
    lim = [np.array([q]) for q in (wb, 0.7, 1e9, 3.0, 8.0, 40.0)]
    for _ in range(n):
        step_kinematic(*ex, acc, one, np.zeros(1, np.int64), *lim, np.array([a]), np.array([delta]), dt)
    kap = math.tan(delta) / wb
    fa = [np.array([q]) for q in (1.0, -2.0, math.cos(yaw), math.sin(yaw), v, kap)]
    flim = [np.array([q]) for q in (math.tan(0.7) / wb, 1e9, 3.0, 8.0, 40.0)]
    step_kinematic_fast(*fa, one, *flim, np.array([a]), np.array([kap]), dt, n)
    assert fa[0][0] == pytest.approx(ex[0][0], abs=ATOL_FAST_M)
    assert fa[1][0] == pytest.approx(ex[1][0], abs=ATOL_FAST_M)
    assert fa[4][0] == pytest.approx(ex[3][0], abs=1e-9)
    assert math.hypot(fa[2][0], fa[3][0]) == pytest.approx(1.0, abs=1e-12)
    assert math.atan2(fa[3][0], fa[2][0]) == pytest.approx(ex[2][0], abs=1e-7) or abs(abs(ex[2][0]) - math.pi) < 1e-6


def test_fast_kinematic_skips_inactive_rows_and_limits_curvature():
    n = 4
    st_ = [np.zeros(n), np.zeros(n), np.ones(n), np.zeros(n), np.full(n, 10.0), np.zeros(n)]
    active = np.array([True, False, True, True])
    lims = [np.full(n, 0.1), np.full(n, 0.05), np.full(n, 3.0), np.full(n, 8.0), np.full(n, 40.0)]
    step_kinematic_fast(*st_, active, *lims, np.zeros(n), np.full(n, 1.0), 0.1, 30)
    assert st_[0][1] == 0.0 and st_[5][1] == 0.0
    np.testing.assert_allclose(st_[5][[0, 2, 3]], 0.1)  # clipped to max curvature after 20 rate-limited steps
