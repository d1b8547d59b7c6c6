"""Kinematic bicycle kernel against closed forms."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.dynamics.kinematic_kernels import rollout_kinematic

#: Same closed-form arc integrator in float64: only rounding error accumulates.
ATOL_POS_M = 1e-8
WHEELBASE_M = 2.8


@given(
    delta=st.floats(0.02, 0.6),
    v=st.floats(1.0, 30.0),
    x0=st.floats(-100, 100),
    y0=st.floats(-100, 100),
    yaw0=st.floats(-math.pi, math.pi),
)
@settings(deadline=None, max_examples=60)
def test_constant_steering_drives_a_circle_of_radius_l_over_tan_delta(delta, v, x0, y0, yaw0):
    n = 400
    tr = rollout_kinematic((x0, y0, yaw0, v, delta), np.tile([0.0, delta], (n, 1)), 0.05, wheelbase=WHEELBASE_M)
    radius = WHEELBASE_M / math.tan(delta)
    # Centre of the circle: left of the initial heading by R (rear-axle reference point).
    cx, cy = x0 - radius * math.sin(yaw0), y0 + radius * math.cos(yaw0)
    dist = np.hypot(tr[:, 0] - cx, tr[:, 1] - cy)
    np.testing.assert_allclose(dist, radius, rtol=0, atol=ATOL_POS_M * max(1.0, radius))
    # Heading advances at v / R.
    expected_yaw = yaw0 + v / radius * 0.05 * n
    assert math.isclose(math.remainder(tr[-1, 2] - expected_yaw, 2 * math.pi), 0.0, abs_tol=1e-9)


@pytest.mark.parametrize("a", [0.5, 2.0, 3.7])
def test_constant_acceleration_from_rest(a):
    dt, n = 0.05, 200
    tr = rollout_kinematic((0.0, 0.0, 0.0, 0.0, 0.0), np.tile([a, 0.0], (n, 1)), dt, wheelbase=WHEELBASE_M)
    t = dt * np.arange(n + 1)
    np.testing.assert_allclose(tr[:, 3], a * t, atol=1e-12)
    np.testing.assert_allclose(tr[:, 0], 0.5 * a * t**2, atol=1e-9)
    np.testing.assert_allclose(tr[:, 1], 0.0, atol=1e-12)


@pytest.mark.parametrize("v0,a", [(13.9, 6.0), (20.0, 7.85), (5.0, 2.0)])
def test_braking_stops_at_v_squared_over_2a_without_reversing(v0, a):
    dt = 0.05
    tr = rollout_kinematic((0.0, 0.0, 0.0, v0, 0.0), np.tile([-a, 0.0], (400, 1)), dt, wheelbase=WHEELBASE_M)
    assert np.all(tr[:, 3] >= 0.0)
    assert np.all(np.diff(tr[:, 0]) >= 0.0)
    assert tr[-1, 0] == pytest.approx(v0**2 / (2 * a), abs=1e-9)


def test_limits_clip_acceleration_steering_angle_and_rate():
    dt = 0.1
    tr = rollout_kinematic(
        (0.0, 0.0, 0.0, 10.0, 0.0),
        np.tile([50.0, 1.0], (20, 1)),
        dt,
        wheelbase=WHEELBASE_M,
        max_steer=0.5,
        max_steer_rate=0.4,
        max_accel=3.0,
        max_decel=8.0,
        max_speed=15.0,
    )
    steer = tr[:, 4]
    np.testing.assert_allclose(np.diff(steer)[:12], 0.04, atol=1e-12)  # rate-limited ramp
    assert steer.max() == pytest.approx(0.5)
    np.testing.assert_allclose(np.diff(tr[:, 3])[:10], 0.3, atol=1e-12)  # 3 m/s^2
    assert tr[:, 3].max() == pytest.approx(15.0)


def test_zero_control_keeps_a_straight_line_straight():
    tr = rollout_kinematic((1.0, 2.0, 0.7, 12.0, 0.0), np.zeros((500, 2)), 0.05, wheelbase=WHEELBASE_M)
    d = 12.0 * 0.05 * 500
    assert tr[-1, 0] == pytest.approx(1.0 + d * math.cos(0.7), abs=1e-9)
    assert tr[-1, 1] == pytest.approx(2.0 + d * math.sin(0.7), abs=1e-9)
    assert np.all(tr[:, 2] == pytest.approx(0.7, abs=1e-15))


def test_nan_control_brakes_and_holds_steering():
    tr = rollout_kinematic(
        (0.0, 0.0, 0.0, 10.0, 0.1), np.full((5, 2), np.nan), 0.1, wheelbase=WHEELBASE_M, max_decel=8.0
    )
    assert np.all(np.isfinite(tr))
    np.testing.assert_allclose(tr[:, 4], 0.1)
    assert tr[-1, 3] == pytest.approx(10.0 - 8.0 * 0.5)
