"""GNSS/IMU: specific force at rest, on a grade and in steady turns; rates; noise statistics."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from simcore._types import ActorKind
from simcore.sensors.imu import G0, Gnss, Imu
from simcore.sensors.mount import Mount
from simcore.state import WorldState
from simcore.units import deg_per_h_to_rad_per_s as deg_per_h
from simcore.units import deg_per_sqrt_h_to_rad_per_sqrt_s as deg_per_sqrt_h
from simcore.units import deg_to_rad
from simcore.units import ug_to_mps2 as ug

L = 2.8


def _world(speed=0.0, steer=0.0, yaw=0.3, grade=0.0, kind=ActorKind.VEHICLE) -> SimpleNamespace:
    s = WorldState.zeros(1)
    s.x[0], s.y[0], s.yaw[0], s.speed[0], s.steer[0] = 3.0, -2.0, yaw, speed, steer
    s.kind[0] = kind
    s.active[0] = True
    return SimpleNamespace(
        state=s, ego=0, params={"wheelbase": np.array([L])}, grade=np.array([grade]),
        dynamics=np.zeros(1, dtype=np.int8), st_params=np.zeros((1, 28)),
    )  # fmt: skip


def test_unit_conversions():
    assert ug(1e6) == pytest.approx(G0)
    assert deg_per_sqrt_h(60.0) == pytest.approx(math.radians(1.0))  # 60 deg/sqrt(h) = 1 deg/sqrt(s)
    assert deg_per_h(3600.0) == pytest.approx(math.radians(1.0))


def test_at_rest_reads_plus_g_up_and_zero_rates():
    imu = Imu(mount=Mount(1.0, 0.3, 0.5))
    d = imu.measure(None, _world(), 0.0)
    np.testing.assert_allclose(d.accel, [0.0, 0.0, G0], atol=1e-12)
    np.testing.assert_allclose(d.gyro, 0.0, atol=1e-15)


def test_at_rest_on_a_grade_reads_gravity_along_the_slope():
    th = math.radians(6.0)
    d = Imu().measure(None, _world(grade=th), 0.0)
    np.testing.assert_allclose(d.accel, [G0 * math.sin(th), 0.0, G0 * math.cos(th)], atol=1e-12)


def test_mount_rotation_maps_axes():
    # sensor yawed +90 deg: its x axis is the vehicle's y (left); pitched: gravity tilts in the sensor frame
    v, delta = 10.0, 0.05
    imu = Imu(mount=Mount.from_deg(yaw_deg=90.0))
    d = imu.measure(None, _world(v, delta), 0.0)
    ay = v * v * math.tan(delta) / L
    np.testing.assert_allclose(d.accel, [ay, 0.0, G0], atol=1e-12)
    imu = Imu(mount=Mount.from_deg(roll_deg=90.0))  # sensor y axis points up
    d = imu.measure(None, _world(), 0.0)
    np.testing.assert_allclose(d.accel, [0.0, G0, 0.0], atol=1e-12)


@pytest.mark.parametrize(("v", "delta", "px", "py"), [(10.0, 0.05, 0.0, 0.0), (15.0, -0.08, 1.4, 0.4)])
def test_steady_turn_reads_v2_over_r_towards_the_turn_centre(v, delta, px, py):
    """Kinematic bicycle: the rear axle turns about (0, R), R = L / tan(delta); every point of the body
    accelerates towards that centre with r^2 times its distance (r = v / R)."""
    imu = Imu(mount=Mount(px, py, 0.7))
    d = imu.measure(None, _world(v, delta), 0.0)
    radius = L / math.tan(delta)
    r = v / radius
    expected = r * r * (np.array([0.0, radius]) - np.array([px, py]))
    np.testing.assert_allclose(d.accel[:2], expected, rtol=1e-12, atol=1e-12)
    if px == 0 and py == 0:
        assert d.accel[1] == pytest.approx(v * v / radius)
    assert d.accel[2] == pytest.approx(G0)
    np.testing.assert_allclose(d.gyro, [0.0, 0.0, r], atol=1e-15)


def test_longitudinal_acceleration_and_single_track_rows():
    w = _world(12.0, 0.0)
    w.state.accel[0] = -3.5
    assert Imu().measure(None, w, 0.0).accel[0] == pytest.approx(-3.5)
    # single-track row: yaw rate and CoG lateral velocity from the state; steady state -> a_y = r u
    w = _world(20.0, 0.02)
    w.dynamics[0] = 1
    w.st_params[0, 3] = 1.5  # l_r
    w.state.yaw_rate[0], w.state.vy[0] = 0.25, 0.4
    d = Imu().measure(None, w, 0.0)
    assert d.gyro[2] == pytest.approx(0.25)
    # u = 20, v_rear = 0.4 - 1.5 * 0.25 (constant): a_x = -r v, a_y = r u
    assert d.accel[0] == pytest.approx(-0.25 * (0.4 - 1.5 * 0.25))
    assert d.accel[1] == pytest.approx(0.25 * 20.0)


def test_pedestrian_yaw_rate_and_yaw_acceleration_from_finite_differences():
    w = _world(1.2, 0.0, yaw=0.0, kind=ActorKind.PEDESTRIAN)
    imu = Imu(mount=Mount(0.0, 0.0, 1.0))
    assert imu.measure(None, w, 0.0).gyro[2] == 0.0
    w.state.yaw[0] = 0.05
    d = imu.measure(None, w, 0.1)
    assert d.gyro[2] == pytest.approx(0.5)
    w.state.yaw[0] = math.pi - 0.02
    imu.measure(None, w, 0.2)
    w.state.yaw[0] = -math.pi + 0.03  # +0.05 rad across the +-pi wrap
    assert imu.measure(None, w, 0.3).gyro[2] == pytest.approx(0.5)


def test_white_noise_statistics_match_the_densities():
    rate = 200.0
    nd_ug, arw = 150.0, 0.5
    imu = Imu(rate_hz=rate, accel_noise_density=ug(nd_ug), gyro_noise_density=deg_per_sqrt_h(arw))
    imu.seed(np.random.default_rng(7))
    w = _world()
    n = 20000
    acc = np.empty((n, 3))
    gyr = np.empty((n, 3))
    for k in range(n):
        d = imu.measure(None, w, k / rate)
        acc[k], gyr[k] = d.accel, d.gyro
    sa = nd_ug * 1e-6 * G0 * math.sqrt(rate)
    sg = math.radians(arw) / 60.0 * math.sqrt(rate)
    # sample std of n normal draws: relative standard error ~ 1 / sqrt(2 n) = 0.5 %; allow 3 %
    np.testing.assert_allclose(acc.std(axis=0), sa, rtol=0.03)
    np.testing.assert_allclose(gyr.std(axis=0), sg, rtol=0.03)
    np.testing.assert_allclose(acc.mean(axis=0), [0, 0, G0], atol=4 * sa / math.sqrt(n))
    np.testing.assert_allclose(gyr.mean(axis=0), 0.0, atol=4 * sg / math.sqrt(n))


def test_bias_random_walk_and_turn_on_bias_statistics():
    rate, q = 100.0, 2e-3
    imu = Imu(rate_hz=rate, gyro_bias_random_walk=q, accel_bias_sigma=0.05)
    imu.seed(np.random.default_rng(3))
    w = _world()
    biases = []
    for k in range(20000):
        imu.measure(None, w, k / rate)
        biases.append(imu.gyro_bias.copy())
    steps = np.diff(np.array(biases), axis=0)
    np.testing.assert_allclose(steps.std(axis=0), q * math.sqrt(1 / rate), rtol=0.03)
    # turn-on bias: one draw per axis per seed; over many seeds its std is the configured sigma
    draws = []
    for s in range(3000):
        imu.seed(np.random.default_rng(s))
        draws.append(imu.accel_bias.copy())
    np.testing.assert_allclose(np.array(draws).std(axis=0), 0.05, rtol=0.05)


def test_imu_is_reproducible_per_seed():
    def run(seed):
        imu = Imu(accel_noise_density=1e-3, gyro_noise_density=1e-4, gyro_bias_random_walk=1e-4)
        imu.seed(np.random.default_rng(seed))
        return np.array([imu.measure(None, _world(5.0, 0.01), k * 0.01).accel for k in range(50)])

    assert np.array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_gnss_true_fix_in_a_turn_and_noise_statistics():
    v, delta = 10.0, 0.06
    g = Gnss(mount=Mount(1.0, 0.5, 1.6))
    w = _world(v, delta, yaw=0.3)
    fix = g.measure(None, w, 0.0)
    c, s = math.cos(0.3), math.sin(0.3)
    np.testing.assert_allclose(fix.position, [3.0 + c * 1.0 - s * 0.5, -2.0 + s * 1.0 + c * 0.5, 1.6], atol=1e-12)
    r = v * math.tan(delta) / L
    vb = np.array([v - r * 0.5, r * 1.0])  # rigid body: v + r z x p
    np.testing.assert_allclose(fix.velocity[:2], [c * vb[0] - s * vb[1], s * vb[0] + c * vb[1]], atol=1e-12)
    assert fix.heading == pytest.approx(0.3)
    g = Gnss(rate_hz=5.0, sigma_h=0.8, sigma_v=1.5, sigma_vel=0.1, sigma_heading=deg_to_rad(0.5))
    g.seed(np.random.default_rng(11))
    w = _world(0.0, 0.0, yaw=0.3)
    fixes = [g.measure(None, w, k / 5.0) for k in range(8000)]
    pos = np.array([f.position for f in fixes])
    vel = np.array([f.velocity for f in fixes])
    hd = np.array([f.heading for f in fixes])
    np.testing.assert_allclose(pos.std(axis=0), [0.8, 0.8, 1.5], rtol=0.04)
    np.testing.assert_allclose(pos.mean(axis=0), [3.0, -2.0, 0.0], atol=0.06)
    np.testing.assert_allclose(vel.std(axis=0), 0.1, rtol=0.04)
    assert hd.std() == pytest.approx(math.radians(0.5), rel=0.04)


def test_gnss_bias_random_walk_grows_like_sqrt_time():
    q, rate = 0.05, 10.0
    finals = []
    for s in range(400):
        g = Gnss(rate_hz=rate, bias_random_walk=q)
        g.seed(np.random.default_rng(s))
        w = _world()
        for k in range(100):
            g.measure(None, w, k / rate)
        finals.append(g.bias.copy())
    # 99 increments of dt = 0.1 s (the first fix has none: it starts at zero + one step of 1/rate)
    expected = q * math.sqrt(100 / rate)
    np.testing.assert_allclose(np.array(finals).std(axis=0), expected, rtol=0.12)


def test_bad_noise_parameters_are_refused():
    with pytest.raises(ValueError, match="accel_noise_density"):
        Imu(accel_noise_density=-1.0)
    with pytest.raises(ValueError, match="rate_hz"):
        Gnss(rate_hz=0.0)
