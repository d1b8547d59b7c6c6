"""Dynamic single-track model: closed forms, limits and properties."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simcore.dynamics import rollout
from simcore.dynamics import single_track_kernels as stk
from simcore.dynamics.params import dynamics_params, get_vehicle

G = stk.G
CARS = ["compact", "sedan", "suv", "commonroad_ford_escort", "commonroad_bmw_320i", "commonroad_vw_vanagon"]
#: Issue 3: braking distance within 5 % of v^2 / (2 mu g) (load transfer, drag and rolling resistance differ).
RTOL_BRAKING = 0.05
#: Steady-state cornering in the linear range: the speed hold and the quasi-steady state leave < 1 %.
RTOL_STEADY_STATE = 0.01
#: Allowed overshoot of mu g for the lateral acceleration: float64 rounding only.
RTOL_GRIP = 1e-9
#: Same kernels, translated or rotated start pose: rounding of the pose transform only (m, rad).
ATOL_INVARIANCE = 1e-7
#: A stopped vehicle's speed may undershoot zero only by rounding (m/s).
ATOL_STOP_MPS = 1e-9


def _row(name, **over):
    row = dynamics_params(get_vehicle(name))
    for col, v in over.items():
        row[getattr(stk, col)] = v
    return row


@pytest.mark.parametrize("name", CARS)
@pytest.mark.parametrize("integrator", ["rk4", "semi_implicit_euler"])
def test_braking_from_50_kph_on_friction_08_stops_in_v2_over_2_mu_g(name, integrator):
    v0, mu = 50 / 3.6, 0.8
    # full brake force so that friction, not the brake, limits the deceleration
    row = _row(name, P_F_BRAKE=2.0 * G * get_vehicle(name).mass_kg)
    h = rollout(
        "st", row, [0, 0, 0, v0, 0, 0, 0], np.tile([0.0, 1.0, 0.0], (120, 1)), 0.05, friction=mu, integrator=integrator
    )
    assert h[-1, 3] < 0.01
    assert h[-1, 0] == pytest.approx(v0**2 / (2 * mu * G), rel=RTOL_BRAKING)
    assert np.all(h[:, 3] >= -ATOL_STOP_MPS)
    assert np.all(np.diff(h[:, 0]) >= 0.0)


def _steady_cornering(row, v, delta, tyre, mu=1.0):
    """Hold speed with a P controller on the acceleration target and a fixed steering angle."""
    state = np.array([0.0, 0.0, 0.0, v, 0.0, 0.0, 0.0])
    for _ in range(300):  # 15 s
        u = np.array([[2.0 * (v - state[3]), delta]])
        state = rollout("st", row, state, u, 0.05, inputs="accel_steer", tyre=tyre, friction=mu)[-1]
    return state


@pytest.mark.parametrize("name", ["sedan", "commonroad_bmw_320i", "suv"])
@pytest.mark.parametrize("v", [10.0, 20.0, 30.0])
def test_linear_steady_state_cornering_matches_the_understeer_gradient(name, v):
    row = _row(name, P_STEER_TAU=0.0, P_CDA=0.0, P_C_RR=0.0)
    m, lf, lr = row[stk.P_MASS], row[stk.P_LF], row[stk.P_LR]
    wb = lf + lr
    c_f = row[stk.P_CSF] * m * G * lr / wb  # N/rad at friction 1 (static axle load)
    c_r = row[stk.P_CSR] * m * G * lf / wb
    k_us = m * lr / (wb * c_f) - m * lf / (wb * c_r)  # rad per m/s^2 (Rajamani eq. 3.27 form)
    a_y = 2.0  # m/s^2: linear range
    radius = v * v / a_y
    delta = wb / radius + k_us * a_y
    s = _steady_cornering(row, v, delta, "linear")
    speed = math.hypot(s[3], s[4])
    expected_r = speed * delta / (wb + k_us * speed * speed)
    assert s[5] == pytest.approx(expected_r, rel=RTOL_STEADY_STATE)


@pytest.mark.parametrize("name", ["sedan", "van", "commonroad_ford_escort"])
@pytest.mark.parametrize("tyre", ["linear", "pacejka"])
def test_yaw_rate_is_v_over_r_at_low_lateral_acceleration(name, tyre):
    row = _row(name, P_STEER_TAU=0.0)
    v, delta = 5.0, 0.1
    s = _steady_cornering(row, v, delta, tyre)
    wb = row[stk.P_LF] + row[stk.P_LR]
    # kinematic radius of the CoG path: R = sqrt(l_r^2 + L^2 / tan^2 delta)
    radius = math.hypot(row[stk.P_LR], wb / math.tan(delta))
    assert s[5] == pytest.approx(math.hypot(s[3], s[4]) / radius, rel=RTOL_STEADY_STATE)


@given(
    mu=st.floats(0.1, 1.2),
    vx=st.floats(2.6, 45.0),
    vy=st.floats(-3.0, 3.0),
    r=st.floats(-1.5, 1.5),
    delta=st.floats(-0.6, 0.6),
    thr=st.floats(0.0, 1.0),
    brk=st.floats(0.0, 1.0),
    name=st.sampled_from(["compact", "sedan", "suv", "van", "truck", "city_bus", "commonroad_vw_vanagon"]),
)
@settings(deadline=None, max_examples=300)
def test_pacejka_lateral_acceleration_never_exceeds_mu_g(mu, vx, vy, r, delta, thr, brk, name):
    row = _row(name)[None, :]
    d = stk.single_track_rhs(1.0, 0.0, vx, vy, r, delta, row, 0, mu, 1.0, 0.0, thr, brk, delta, stk.TYRE_PACEJKA, 1e-3)
    a_lat = d[4] + r * vx  # body-frame lateral acceleration of the CoG
    assert abs(a_lat) <= mu * G * (1 + RTOL_GRIP)


@pytest.mark.parametrize("name", ["sedan", "truck", "commonroad_ford_escort", "commonroad_vw_vanagon"])
@pytest.mark.parametrize("mu", [0.1, 0.5, 1.0, 1.2])
def test_pure_side_slip_through_the_tyre_peak_reaches_but_never_exceeds_mu_g(name, mu):
    # r = 0, delta = 0: both axles see the same slip angle, so a sweep passes both Magic Formula peaks at once
    row = _row(name)
    vx = 20.0
    a_lat = []
    for alpha in np.linspace(0.0, 0.6, 3001):
        vy = -vx * math.tan(alpha)
        d = stk.single_track_rhs(
            1.0, 0.0, vx, vy, 0.0, 0.0, row[None, :], 0, mu, 1.0, 0.0, 0.0, 0.0, 0.0, stk.TYRE_PACEJKA, 1e-3
        )
        a_lat.append(abs(d[4]))
    assert max(a_lat) <= mu * G * (1 + RTOL_GRIP)
    if row[stk.P_LOAD_SENS] == 0.0:  # no load sensitivity: the full friction is available at the peak
        assert max(a_lat) >= mu * G * (1 - 1e-6)


@given(mu=st.floats(0.1, 1.2), wheel=st.floats(-1.0, 1.0), v0=st.floats(0.0, 35.0), thr=st.floats(0.0, 1.0))
@example(mu=0.125, wheel=1.0, v0=1.0, thr=1.0)  # creeping at full lock and full throttle on ice (blend region)
@settings(deadline=None, max_examples=25)
def test_lateral_acceleration_along_rollouts_never_exceeds_mu_g(mu, wheel, v0, thr):
    row = _row("sedan")
    h = rollout("st", row, [0, 0, 0, v0, 0, 0, 0], np.tile([thr, 0.0, wheel], (100, 1)), 0.05, friction=mu)
    tgt = wheel * row[stk.P_MAX_STEER]
    for s in h:  # every state, the low-speed kinematic blend included
        c, sn = math.cos(s[2]), math.sin(s[2])
        d = stk.single_track_rhs(c, sn, *s[3:7], row[None, :], 0, mu, 1.0, 0.0, thr, 0.0, tgt, stk.TYRE_PACEJKA, 1e-3)
        assert abs(d[4] + s[5] * s[3]) <= mu * G * (1 + RTOL_GRIP)


def _pedal_sequence(draw_values, n_steps, hold):
    u = np.repeat(np.asarray(draw_values, dtype=float).reshape(-1, 3), hold, axis=0)
    return u[:n_steps]


pedals = st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(-1.0, 1.0)), min_size=60, max_size=60)


@given(
    seq=pedals,
    mu=st.floats(0.1, 1.2),
    grade=st.floats(-0.12, 0.12),
    v0=st.floats(0.0, 40.0),
    name=st.sampled_from(["compact", "sedan", "truck", "city_bus", "commonroad_bmw_320i"]),
    integrator=st.sampled_from(["rk4", "semi_implicit_euler"]),
)
@settings(deadline=None, max_examples=12)
def test_no_nan_or_inf_over_60_s_for_any_in_range_input(seq, mu, grade, v0, name, integrator):
    u = _pedal_sequence([v for t in seq for v in t], 1200, 20)
    h = rollout("st", name, [0, 0, 0, v0, 0, 0, 0], u, 0.05, friction=mu, grade=grade, integrator=integrator)
    assert np.all(np.isfinite(h))
    assert np.all(np.abs(h[:, 6]) <= get_vehicle(name).max_steer_deg * math.pi / 180 + 1e-12)


@given(
    v0=st.floats(0.0, 40.0),
    brake=st.floats(0.05, 1.0),
    wheel=st.floats(-1.0, 1.0),
    mu=st.floats(0.1, 1.2),
    integrator=st.sampled_from(["rk4", "semi_implicit_euler"]),
)
@settings(deadline=None, max_examples=30)
def test_braking_never_reverses(v0, brake, wheel, mu, integrator):
    h = rollout(
        "st",
        "sedan",
        [0, 0, 0, v0, 0, 0, 0],
        np.tile([0.0, brake, wheel], (300, 1)),
        0.05,
        friction=mu,
        integrator=integrator,
    )
    assert np.all(h[:, 3] >= -ATOL_STOP_MPS)
    assert np.all(np.diff(h[:, 3]) <= 1e-9)  # speed never grows while braking on the flat


@given(x0=st.floats(-1e3, 1e3), y0=st.floats(-1e3, 1e3), yaw0=st.floats(-math.pi, math.pi), v0=st.floats(0.0, 40.0))
@settings(deadline=None, max_examples=30)
def test_zero_input_keeps_a_straight_line_straight(x0, y0, yaw0, v0):
    h = rollout("st", "suv", [x0, y0, yaw0, v0, 0, 0, 0], np.zeros((200, 3)), 0.05)
    cross = -(h[:, 0] - x0) * math.sin(yaw0) + (h[:, 1] - y0) * math.cos(yaw0)
    np.testing.assert_allclose(cross, 0.0, atol=1e-9)
    np.testing.assert_allclose(h[:, 4:7], 0.0, atol=1e-12)


@given(
    x0=st.floats(-500, 500),
    y0=st.floats(-500, 500),
    yaw0=st.floats(-3.0, 3.0),
    v0=st.floats(0.0, 30.0),
    wheel=st.floats(-1.0, 1.0),
    thr=st.floats(0.0, 1.0),
)
@settings(deadline=None, max_examples=25)
def test_invariant_to_translating_and_rotating_the_start_pose(x0, y0, yaw0, v0, wheel, thr):
    u = np.tile([thr, 0.0, wheel], (100, 1))
    ref = rollout("st", "sedan", [0, 0, 0, v0, 0, 0, 0], u, 0.05)
    moved = rollout("st", "sedan", [x0, y0, yaw0, v0, 0, 0, 0], u, 0.05)
    c, s = math.cos(yaw0), math.sin(yaw0)
    np.testing.assert_allclose(moved[:, 0], x0 + c * ref[:, 0] - s * ref[:, 1], atol=ATOL_INVARIANCE)
    np.testing.assert_allclose(moved[:, 1], y0 + s * ref[:, 0] + c * ref[:, 1], atol=ATOL_INVARIANCE)
    dyaw = np.angle(np.exp(1j * (moved[:, 2] - ref[:, 2] - yaw0)))
    np.testing.assert_allclose(dyaw, 0.0, atol=ATOL_INVARIANCE)
    np.testing.assert_allclose(moved[:, 3:], ref[:, 3:], atol=ATOL_INVARIANCE)


def test_reruns_are_bit_identical():
    rng = np.random.default_rng(3)
    u = np.column_stack(
        [rng.uniform(0, 1, 400), rng.uniform(0, 1, 400) * (rng.uniform(size=400) < 0.3), rng.uniform(-1, 1, 400)]
    )
    a = rollout("st", "sedan", [0, 0, 0, 5, 0, 0, 0], u, 0.05, friction=0.7)
    b = rollout("st", "sedan", [0, 0, 0, 5, 0, 0, 0], u, 0.05, friction=0.7)
    assert np.array_equal(a, b)


def test_standstill_start_and_creep_are_stable():
    u = np.vstack(
        [np.tile([0.0, 1.0, 1.0], (40, 1)), np.tile([0.05, 0.0, 1.0], (200, 1)), np.tile([0, 0.3, 0], (200, 1))]
    )
    h = rollout("st", "compact", [0, 0, 0, 0, 0, 0, 0], u, 0.05)
    assert np.all(np.isfinite(h))
    np.testing.assert_allclose(h[:41, :6], 0.0, atol=1e-12)  # held on the brake: no motion at all
    assert h[240, 3] > 0.5  # it started
    assert abs(h[-1, 3]) < 1e-3 and np.all(h[:, 3] >= -ATOL_STOP_MPS)  # and stopped again without reversing


def test_powertrain_limits_force_then_power():
    row = _row("sedan", P_CDA=0.0, P_C_RR=0.0)
    h = rollout("st", row, [0, 0, 0, 1.0, 0, 0, 0], np.tile([1.0, 0.0, 0.0], (600, 1)), 0.05, friction=2.0)
    a = np.diff(h[:, 3]) / 0.05
    m, f_max, p_max = row[stk.P_MASS], row[stk.P_F_DRIVE], row[stk.P_P_DRIVE]
    v_mid = 0.5 * (h[1:, 3] + h[:-1, 3])
    expected = np.minimum(f_max, p_max / v_mid) / m
    ok = v_mid < row[stk.P_MAX_SPEED] - 1.0
    np.testing.assert_allclose(a[ok], expected[ok], rtol=0.01)  # 1 %: P / v over a 0.05 s step
    assert h[:, 3].max() <= row[stk.P_MAX_SPEED] + 1e-9


@pytest.mark.parametrize("grade", [0.05, -0.05])
def test_grade_and_resistances_decelerate_a_coasting_vehicle(grade):
    row = _row("sedan")
    v = 20.0
    h = rollout("st", row, [0, 0, 0, v, 0, 0, 0], np.zeros((1, 3)), 0.001, grade=grade, dt_max=0.001)
    a = (h[1, 3] - h[0, 3]) / 0.001
    m = row[stk.P_MASS]
    f = 0.5 * stk.RHO_AIR * row[stk.P_CDA] * v * v + row[stk.P_C_RR] * m * G * math.cos(grade) + m * G * math.sin(grade)
    assert a == pytest.approx(-f / m, rel=2e-5)  # drag changes with v within the 1 ms step


def test_acceleration_target_is_tracked_through_the_actuators():
    h = rollout("st", "sedan", [0, 0, 0, 10.0, 0, 0, 0], np.tile([1.5, 0.0], (100, 1)), 0.05, inputs="accel_steer")
    np.testing.assert_allclose(np.diff(h[:, 3]) / 0.05, 1.5, rtol=0.01)
    h = rollout(
        "st", "sedan", [0, 0, 0, 20.0, 0, 0, 0], np.tile([-4.0, 0.0], (60, 1)), 0.05, inputs="accel_steer", grade=0.04
    )
    np.testing.assert_allclose(np.diff(h[:40, 3]) / 0.05, -4.0, rtol=0.01)


def test_steering_actuator_rate_lag_and_speed_dependent_limit():
    row = _row("sedan", P_STEER_TAU=0.2)
    rate, dmax = row[stk.P_MAX_STEER_RATE], row[stk.P_MAX_STEER]
    target = 0.5 * dmax
    h = rollout("st", row, [0, 0, 0, 5.0, 0, 0, 0], np.tile([0.0, 0.0, 0.5], (100, 1)), 0.01, dt_max=1e-4)
    d = h[:, 6]
    assert np.all(np.diff(d) <= rate * 0.01 * (1 + 1e-9))  # rate limit
    # after the rate-limited phase, the remaining error decays with the time constant 0.2 s
    err = target - d
    k = np.argmax(err < rate * 0.2 * 0.5)  # well inside the first-order regime
    assert err[k + 20] == pytest.approx(err[k] * math.exp(-0.2 / 0.2), rel=0.01)
    row2 = _row("sedan", P_STEER_VREF=10.0)
    h2 = rollout("st", row2, [0, 0, 0, 20.0, 0, 0, 0], np.tile([0.0, 0.0, 1.0], (100, 1)), 0.05, friction=1.0)
    assert np.abs(h2[:, 6]).max() <= dmax / (1 + (h2[:, 3].min() / 10.0) ** 2) + 1e-9


def test_curvature_input_maps_to_the_kinematic_steering_angle():
    row = _row("sedan", P_STEER_TAU=0.0)
    wb = row[stk.P_LF] + row[stk.P_LR]
    h = rollout("st", row, [0, 0, 0, 3.0, 0, 0, 0], np.tile([0.0, 0.05], (100, 1)), 0.05, inputs="accel_curvature")
    assert h[-1, 6] == pytest.approx(math.atan(0.05 * wb), rel=1e-12)


def test_nan_controls_brake_and_hold_the_steering():
    u = np.tile([np.nan, np.nan, np.nan], (200, 1))
    h = rollout("st", "sedan", [0, 0, 0, 15.0, 0, 0, 0.02], u, 0.05)
    assert np.all(np.isfinite(h)) and h[-1, 3] < 1e-3
    np.testing.assert_allclose(h[:, 6], 0.02, atol=1e-15)


def test_rk4_converges_and_semi_implicit_euler_error_is_small():
    u = np.column_stack([np.full(100, 0.4), np.zeros(100), np.linspace(-0.8, 0.8, 100)])
    s0 = [0, 0, 0, 15.0, 0, 0, 0]
    fine = rollout("st", "sedan", s0, u, 0.05, dt_max=2.5e-4)
    rk4 = rollout("st", "sedan", s0, u, 0.05, dt_max=1e-3)
    sie = rollout("st", "sedan", s0, u, 0.05, dt_max=1e-3, integrator="semi_implicit_euler")
    err_rk4 = np.abs(rk4[:, :2] - fine[:, :2]).max()
    err_sie = np.abs(sie[:, :2] - fine[:, :2]).max()
    assert err_rk4 < 1e-6  # 4th order at 1 kHz: far below a micrometre over 5 s
    assert err_sie < 0.05  # 1st order at 1 kHz: centimetres over 5 s (docs/dynamics.md)
