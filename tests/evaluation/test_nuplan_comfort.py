"""nuPlan's ego_is_comfortable against nuplan-devkit's own metric test fixtures.

The ego states below are the inputs of nuplan-devkit's JSON scenes (motional/nuplan-devkit, Apache-2.0,
``nuplan/planning/metrics/evaluation_metrics/common/test/json/<metric>/<metric>.json``): time, heading
and the rear-axle acceleration (angular velocity 0, so the centre acceleration equals it). The expected
series are the scenes' ``expected.time_series.values`` (rounded to 2 decimals there).
"""

import math

import numpy as np
import pytest

from simcore.evaluation import comfort as cf

# ego_jerk / ego_lon_acceleration / ego_lon_jerk / ego_lat_acceleration scenes: 12 states 1 s apart.
AX_12 = [0.0, 1.0, 0.5, 1.0, 0.5, 0.7, 0.3, 1.0, 0.5, 1.0, 0.5, 0.7]
H_12 = [math.pi, math.pi / 2, math.pi / 4, math.pi / 2, 0.7953981633974483, math.pi / 2] * 2
# ego_yaw_rate / ego_yaw_acceleration scenes: 5 states 1 s apart, the heading flips sign at the end.
H_5 = [-1.534863576938717] * 4 + [1.534863576938717]
AX_5 = [0.0, 0.5, 0.0, 1.0, 0.0]


def test_lon_acceleration_and_jerk_series_match_nuplan():
    t = np.arange(1.0, 13.0)
    sig = cf.comfort_signals(t, np.zeros(12), AX_12, np.zeros(12))
    lon = [0.36, 0.5, 0.61, 0.69, 0.62, 0.61, 0.63, 0.71, 0.72, 0.72, 0.7, 0.66]  # ego_lon_acceleration.json
    jerk = [0.07, 0.06, 0.05, 0.04, 0.04, 0.03, 0.02, 0.01, -0.0, -0.01, -0.02, -0.03]  # ego_lon_jerk / ego_jerk
    np.testing.assert_allclose(np.round(sig.lon_accel, 2), lon)
    np.testing.assert_allclose(np.round(sig.lon_jerk, 2), jerk)
    np.testing.assert_allclose(np.round(sig.jerk, 2), jerk)  # magnitude = |ax| here (ay = 0)
    np.testing.assert_allclose(sig.lat_accel, 0.0)  # ego_lat_acceleration.json: all 0
    assert sig.within()["lon_accel"] and sig.within()["lon_jerk"] and sig.within()["jerk"]  # BOOLEAN True


def test_yaw_rate_and_yaw_acceleration_series_match_nuplan():
    t = np.arange(1.0, 6.0)
    sig = cf.comfort_signals(t, H_5, AX_5, np.zeros(5))
    np.testing.assert_allclose(np.round(sig.yaw_rate, 2), [-1.14, -0.26, 0.61, 1.49, 2.37])  # ego_yaw_rate.json
    np.testing.assert_allclose(np.round(sig.yaw_accel, 2), [-2.19, -0.66, 0.88, 2.41, 3.95])  # ego_yaw_acceleration
    # ego_yaw_acceleration.json's BOOLEAN is False (3.95 > 1.93); so is the yaw rate against 0.95
    assert not sig.within()["yaw_accel"] and not sig.within()["yaw_rate"]
    assert not sig.comfortable


def test_ego_is_comfortable_scene_inputs_are_within_every_bound():
    # ego_is_comfortable.json: these 5 states, constant heading. Its expected BOOLEAN is False only
    # because that unit test never computes the six sub-metrics (their within_bound_status stays at
    # the constructor's False); every filtered signal of these states is inside nuPlan's bounds.
    t = np.arange(1.0, 6.0)
    sig = cf.comfort_signals(t, [-1.534863576938717] * 5, AX_5, np.zeros(5))
    np.testing.assert_allclose(sig.lon_accel, [-0.01428571, 0.35714286, 0.51428571, 0.45714286, 0.18571429])
    assert sig.comfortable


def test_bounds_are_nuplans_seven_limits_and_exclusive():
    assert cf.BOUNDS == {
        "lon_accel": (-4.05, 2.40),
        "lat_accel": (-4.89, 4.89),
        "jerk": (-8.37, 8.37),
        "lon_jerk": (-4.13, 4.13),
        "yaw_rate": (-0.95, 0.95),
        "yaw_accel": (-1.93, 1.93),
    }
    t = np.arange(0.0, 2.0, 0.1)
    # a constant 2.40 m/s^2 is on the bound: nuPlan's check is strict, so it is not comfortable
    at = cf.comfort_signals(t, np.zeros(t.size), np.full(t.size, 2.40), np.zeros(t.size))
    assert not at.within()["lon_accel"] and at.within()["jerk"]
    below = cf.comfort_signals(t, np.zeros(t.size), np.full(t.size, 2.39), np.zeros(t.size))
    assert below.comfortable


def test_jerk_magnitude_bound_catches_what_longitudinal_jerk_misses():
    # lateral acceleration ramping (ax = 0): the longitudinal jerk is 0, only the jerk magnitude
    # (d|a|/dt) sees the ramp. nuPlan smooths the acceleration with an even window (8): scipy then
    # evaluates the interior half a sample late (+ rate x dt / 2 on a ramp) while the edges are fitted
    # exactly, so the jerk peaks a little above the ramp rate (6 -> 6.98 here); 9 m/s^3 fails 8.37.
    t = np.arange(0.0, 0.55, 0.05)
    for rate, ok in ((6.0, True), (9.0, False)):
        sig = cf.comfort_signals(t, np.zeros(t.size), np.zeros(t.size), rate * t)
        assert rate < sig.peaks()["jerk"] < 1.2 * rate
        assert sig.within()["lon_jerk"] and sig.within()["lat_accel"]
        assert sig.within()["jerk"] is ok
        assert sig.comfortable is ok


def test_resampling_a_recorded_trajectory_to_nuplans_interval():
    # 20 Hz record of a constant 1 m/s^2 acceleration on a circle of constant yaw rate 0.2 rad/s
    time = np.arange(0.0, 3.0001, 0.05)
    speed = 5.0 + time
    yaw = 0.2 * time
    t, _psi, ax, ay = cf.resample_states(time, yaw, speed)
    assert np.diff(t) == pytest.approx(np.full(t.size - 1, 0.1))
    np.testing.assert_allclose(ax, 1.0, atol=1e-9)
    np.testing.assert_allclose(ay, 0.2 * (5.0 + t), atol=1e-9)
    sig = cf.comfort_from_trajectory(time, yaw, speed)
    assert sig is not None and sig.comfortable
    np.testing.assert_allclose(sig.yaw_rate, 0.2, atol=1e-7)
    assert cf.comfort_from_trajectory(time[:5], yaw[:5], speed[:5]) is None  # 0.2 s: 3 nuPlan samples


@pytest.mark.parametrize("n", [4, 5, 8, 9, 15, 16, 301])
@pytest.mark.parametrize(("window", "poly", "deriv"), [(8, 2, 0), (15, 2, 1), (5, 2, 1), (5, 3, 2), (7, 3, 1)])
def test_numpy_savgol_filter_equals_scipys(n, window, poly, deriv):
    # The plain-NumPy filter (kept off scipy.signal for start-up time) against SciPy's own, mode "interp".
    from scipy.signal import savgol_filter

    w = min(window, n)
    if poly >= w:
        with pytest.raises(ValueError):
            cf.savgol_filter(np.zeros(n), w, poly, deriv)
        return
    x = np.cumsum(np.random.default_rng(n).normal(size=n))
    want = savgol_filter(x, w, poly, deriv=deriv, delta=0.1)
    np.testing.assert_allclose(cf.savgol_filter(x, w, poly, deriv, 0.1), want, rtol=0, atol=1e-12 * np.abs(want).max())
