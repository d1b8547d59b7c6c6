"""The trajectory tracker against a plain-Python kinematic bicycle (rear-axle reference)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.agents.protocol import ActuationControl, TrajectoryControl
from simcore.agents.tracker import TrajectoryTracker

WB, MAX_STEER, MAX_ACC, MAX_DEC, DT = 2.8, 0.6, 3.0, 8.0, 0.05


def drive(plan: TrajectoryControl, x, y, yaw, v, seconds: float, replan=None):
    """Integrate x' = v cos(yaw), y' = v sin(yaw), yaw' = v tan(steer) / L, v' = a (explicit Euler)."""
    tr = TrajectoryTracker(WB, MAX_STEER, MAX_ACC, MAX_DEC)
    tr.set_plan(plan, 0.0)
    out = []
    for k in range(round(seconds / DT)):
        t = k * DT
        a, d = tr.control(x, y, yaw, v, t, DT)
        assert -MAX_DEC <= a <= MAX_ACC and abs(d) <= MAX_STEER
        x += v * math.cos(yaw) * DT
        y += v * math.sin(yaw) * DT
        yaw += v * math.tan(d) / WB * DT
        v = max(v + a * DT, 0.0)
        out.append((t + DT, x, y, yaw, v))
    return np.array(out)


def test_straight_line_from_an_offset_converges_onto_the_line_and_to_the_speed():
    xs = np.linspace(0.0, 400.0, 81)
    plan = TrajectoryControl(xs, np.zeros_like(xs), np.zeros_like(xs), speed=np.full_like(xs, 10.0))
    hist = drive(plan, 0.0, 1.5, 0.0, 0.0, 25.0)
    last = hist[hist[:, 0] > 15.0]
    # After 15 s: on the line to 2 cm, heading to 0.2 deg, speed to 5 cm/s; after 25 s to 1 cm/s.
    assert np.abs(last[:, 2]).max() < 0.02
    assert np.abs(last[:, 3]).max() < math.radians(0.2)
    assert np.abs(last[:, 4] - 10.0).max() < 0.05
    assert abs(hist[-1, 4] - 10.0) < 0.01
    # No overshoot to the other side of more than 10 % of the initial offset.
    assert hist[:, 2].min() > -0.15


def test_circle_is_followed_within_5_cm():
    r, v = 30.0, 8.0
    th = np.linspace(0.0, 1.9 * math.pi, 400)
    plan = TrajectoryControl(r * np.sin(th), r - r * np.cos(th), th, speed=np.full_like(th, v))
    hist = drive(plan, 0.0, 0.0, 0.0, v, 20.0)
    settled = hist[hist[:, 0] > 5.0]
    radius = np.hypot(settled[:, 1], settled[:, 2] - r)
    assert np.abs(radius - r).max() < 0.05
    assert np.abs(settled[:, 4] - v).max() < 0.05


def test_timed_plan_keeps_the_schedule():
    """A plan given by times only (5 m/s) is followed in position along the path, not just in speed."""
    t = np.arange(0.0, 40.0, 0.5)
    xs = 5.0 * t
    plan = TrajectoryControl(xs, np.zeros_like(xs), np.zeros_like(xs), t=t)
    hist = drive(plan, 0.0, 0.0, 0.0, 0.0, 30.0)
    late = hist[hist[:, 0] > 20.0]
    assert np.abs(late[:, 1] - 5.0 * late[:, 0]).max() < 0.1  # within 10 cm of the schedule
    assert np.abs(late[:, 4] - 5.0).max() < 0.02


def test_speed_step_converges_without_windup():
    xs = np.linspace(0.0, 2000.0, 201)
    plan = TrajectoryControl(xs, np.zeros_like(xs), np.zeros_like(xs), speed=np.full_like(xs, 20.0))
    hist = drive(plan, 0.0, 0.0, 0.0, 0.0, 30.0)
    v = hist[:, 4]
    assert v.max() < 20.0 * 1.02  # at most 2 % overshoot after the saturated start
    assert abs(v[-1] - 20.0) < 0.01


def test_stops_at_the_end_of_a_plan_that_ends_at_zero_speed():
    xs = np.linspace(0.0, 50.0, 51)
    speed = np.clip((50.0 - xs) * 0.4, 0.0, 8.0)
    plan = TrajectoryControl(xs, np.zeros_like(xs), np.zeros_like(xs), speed=speed)
    hist = drive(plan, 0.0, 0.0, 0.0, 8.0, 30.0)
    assert hist[-1, 4] < 0.05
    assert 45.0 < hist[-1, 1] < 51.0


def test_trajectory_control_validation():
    xs = np.arange(3.0)
    with pytest.raises(ValueError, match="times t or speeds"):
        TrajectoryControl(xs, xs, xs)
    with pytest.raises(ValueError, match="strictly increasing"):
        TrajectoryControl(xs, xs, xs, t=np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="has 2 values"):
        TrajectoryControl(xs, xs, xs[:2], speed=xs)
    with pytest.raises(ValueError, match="non-finite"):
        TrajectoryControl(xs, xs, xs, speed=np.array([1.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="at least 2"):
        TrajectoryControl(xs[:1], xs[:1], xs[:1], speed=xs[:1])
    plan = TrajectoryControl([0.0, 1.0], [0.0, 0.0], [0.0, 0.0], speed=[1.0, 1.0])
    assert not plan.x.flags.writeable


def test_actuation_control_maps_pedals_to_acceleration():
    assert ActuationControl(1.0, 0.0, 0.1).to_accel(3.0, 8.0) == 3.0
    assert ActuationControl(0.0, 0.5, 0.0).to_accel(3.0, 8.0) == -4.0
    assert ActuationControl(0.5, 0.25, 0.0).to_accel(3.0, 8.0) == 1.5 - 2.0
    assert ActuationControl(2.0, -1.0, 0.0).to_accel(3.0, 8.0) == 3.0  # pedals clipped to [0, 1]
    assert math.isnan(ActuationControl(float("nan"), 0.0, 0.0).to_accel(3.0, 8.0))
