"""KS and ST kernels against the reference package ``commonroad-vehicle-models`` (import name vehiclemodels)."""

import math

import numpy as np
import pytest

from simcore.dynamics import STATE_LAYOUTS, rollout
from simcore.dynamics import single_track_kernels as stk
from simcore.dynamics.params import dynamics_params, get_vehicle

vm = pytest.importorskip("vehiclemodels")
from vehiclemodels.parameters_vehicle1 import parameters_vehicle1  # noqa: E402
from vehiclemodels.parameters_vehicle2 import parameters_vehicle2  # noqa: E402
from vehiclemodels.parameters_vehicle3 import parameters_vehicle3  # noqa: E402
from vehiclemodels.vehicle_dynamics_ks import vehicle_dynamics_ks  # noqa: E402
from vehiclemodels.vehicle_dynamics_st import vehicle_dynamics_st  # noqa: E402

#: Same equations, different operation order: only float64 rounding differs (relative ~1e-15).
RTOL_RHS = 1e-9
ATOL_RHS = 1e-9
#: Issue 3: rollouts with the same integrator agree within 1 mm over 5 s.
ATOL_ROLLOUT_M = 1e-3
SETS = {
    "commonroad_ford_escort": parameters_vehicle1,
    "commonroad_bmw_320i": parameters_vehicle2,
    "commonroad_vw_vanagon": parameters_vehicle3,
}
#: CommonRoad state index -> simcore state index, by name (the commonroad convention keeps CommonRoad's order).
CR_KS_NAMES = ("x", "y", "delta", "v", "psi")
CR_ST_NAMES = ("x", "y", "delta", "v", "psi", "psi_dot", "beta")
KS_MAP = [STATE_LAYOUTS[("ks", "commonroad")].index(n) for n in CR_KS_NAMES]
ST_MAP = [STATE_LAYOUTS[("st", "commonroad")].index(n) for n in CR_ST_NAMES]


def _random_states(rng, n, p):
    v = rng.uniform(-12.0, 45.0, n)
    v[: n // 8] = rng.uniform(-0.1, 0.1, n // 8)  # the ST model's kinematic branch
    delta = rng.uniform(-1.2 * p.steering.max, 1.2 * p.steering.max, n)
    delta[n // 8 : n // 4] = np.sign(delta[n // 8 : n // 4]) * p.steering.max  # exactly at the lock
    return np.column_stack(
        [
            rng.uniform(-100, 100, n),
            rng.uniform(-100, 100, n),
            delta,
            v,
            rng.uniform(-math.pi, math.pi, n),
            rng.uniform(-1.5, 1.5, n),
            rng.uniform(-0.4, 0.4, n),
        ]
    )


@pytest.mark.parametrize("name", sorted(SETS))
def test_ks_and_st_right_hand_sides_match_commonroad(name):
    p_cr = SETS[name]()
    row = dynamics_params(get_vehicle(name))[None, :]
    mu = p_cr.tire.p_dy1
    rng = np.random.default_rng(7)
    states = _random_states(rng, 400, p_cr)
    inputs = np.column_stack([rng.uniform(-0.6, 0.6, 400), rng.uniform(-14.0, 14.0, 400)])
    for s_cr, u in zip(states, inputs, strict=True):
        ours_st = np.empty(7)
        s = s_cr[ST_MAP]
        ours_st[ST_MAP] = stk.cr_st_rhs(*s, row, 0, mu, u[0], u[1])
        ref = vehicle_dynamics_st(list(s_cr), list(u), p_cr)
        np.testing.assert_allclose(ours_st, ref, rtol=RTOL_RHS, atol=ATOL_RHS)
        ours_ks = np.empty(5)
        k = s_cr[:5][KS_MAP]
        ours_ks[KS_MAP] = stk.cr_ks_rhs(*k, row, 0, u[0], u[1])
        np.testing.assert_allclose(
            ours_ks, vehicle_dynamics_ks(list(s_cr[:5]), list(u), p_cr), rtol=RTOL_RHS, atol=ATOL_RHS
        )


def _rk4_reference(f, x0, controls, dt, p):
    out = [np.asarray(x0, dtype=float)]
    x = out[0]
    for u in controls:
        u = list(u)
        k1 = np.array(f(list(x), u, p))
        k2 = np.array(f(list(x + 0.5 * dt * k1), u, p))
        k3 = np.array(f(list(x + 0.5 * dt * k2), u, p))
        k4 = np.array(f(list(x + dt * k3), u, p))
        x = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("name", sorted(SETS))
@pytest.mark.parametrize("seed", [0, 1])
def test_rollouts_match_commonroad_within_a_millimetre_over_five_seconds(name, seed):
    p_cr = SETS[name]()
    rng = np.random.default_rng(seed)
    dt = 0.01  # 500 steps = 5 s
    # piecewise-constant random inputs, changing every 0.25 s
    u = np.repeat(np.column_stack([rng.uniform(-0.4, 0.4, 20), rng.uniform(-6.0, 4.0, 20)]), 25, axis=0)
    st0 = [1.0, -2.0, 0.05, rng.uniform(8.0, 25.0), 0.3, 0.0, 0.0]
    ours = rollout("st", name, st0, u, dt, convention="commonroad", integrator="rk4", dt_max=dt)
    ref = _rk4_reference(vehicle_dynamics_st, st0, u, dt, p_cr)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours[:, :2], ref[:, :2], rtol=0, atol=ATOL_ROLLOUT_M)
    ks0 = st0[:5]
    ours_ks = rollout("ks", name, ks0, u, dt, convention="commonroad", integrator="rk4", dt_max=dt)
    ref_ks = _rk4_reference(vehicle_dynamics_ks, ks0, u, dt, p_cr)
    np.testing.assert_allclose(ours_ks[:, :2], ref_ks[:, :2], rtol=0, atol=ATOL_ROLLOUT_M)


@pytest.mark.parametrize("name", sorted(SETS))
def test_commonroad_vehicle_files_carry_the_reference_parameter_sets(name):
    p_cr = SETS[name]()
    spec = get_vehicle(name)
    row = dynamics_params(spec)
    expected = {
        stk.P_MASS: p_cr.m,
        stk.P_IZZ: p_cr.I_z,
        stk.P_LF: p_cr.a,
        stk.P_LR: p_cr.b,
        stk.P_HCG: p_cr.h_s,
        stk.P_CSF: -p_cr.tire.p_ky1 / p_cr.tire.p_dy1,
        stk.P_CSR: -p_cr.tire.p_ky1 / p_cr.tire.p_dy1,
        stk.P_MAX_STEER: p_cr.steering.max,
        stk.P_MAX_STEER_RATE: p_cr.steering.v_max,
        stk.P_MAX_SPEED: p_cr.longitudinal.v_max,
        stk.P_CR_VMIN: p_cr.longitudinal.v_min,
        stk.P_CR_VSWITCH: p_cr.longitudinal.v_switch,
        stk.P_CR_AMAX: p_cr.longitudinal.a_max,
    }
    for col, val in expected.items():
        assert row[col] == pytest.approx(val, rel=1e-12), col
    assert spec.tyres is not None and spec.tyres.friction == pytest.approx(p_cr.tire.p_dy1)
    assert spec.wheelbase_m == pytest.approx(p_cr.a + p_cr.b, rel=1e-12)
    assert "parameters_vehicle" in spec.source
