"""The vectorised semi-implicit Euler path of ``step_single_track`` and its polynomial trigonometry.

The block path (``_step_soa``) runs the arithmetic of ``pedals_from_targets`` and ``single_track_rhs``
branch-free over struct-of-arrays blocks. Here it is checked against a plain per-row loop over those
two scalar kernels, and the polynomial atan / sin / cos against the exact libm functions.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simcore.dynamics import single_track_kernels as stk
from simcore.dynamics.params import dynamics_params, get_vehicle

#: Documented bounds (docs/dynamics.md): atan 1e-13 rad, sin/cos 2e-11 for |x| <= pi.
ATAN_TOL = 1e-13
SINCOS_TOL = 2e-11
CARS = ["compact", "sedan", "suv", "commonroad_bmw_320i"]


def test_poly_atan_error_is_bounded():
    x = np.concatenate([np.linspace(-3, 3, 20001), np.tan(np.linspace(-1.5707, 1.5707, 20001)), [1e300, -1e300]])
    err = max(abs(stk.poly_atan(v) - math.atan(v)) for v in x)
    assert err < ATAN_TOL
    assert stk.poly_atan(math.inf) == pytest.approx(math.pi / 2, abs=ATAN_TOL)
    assert math.isnan(stk.poly_atan(math.nan))


@given(st.floats(-1e6, 1e6), st.floats(0.0, 1e6))
def test_atan2_pos_error_is_bounded(y, x):
    assert abs(stk._atan2_pos(y, x) - math.atan2(y, x)) < ATAN_TOL


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(0.0, 1e300))
def test_branch_free_atan_gives_the_same_bits(y, x):
    """The block path's select-based atan equals the scalar path's branchy one bit for bit."""
    a, b = stk.poly_atan(y), stk.poly_atan_bf(y)
    assert a == b or (math.isnan(a) and math.isnan(b))
    assert stk._atan2_pos(y, x) == stk._atan2_pos_bf(y, x) or math.isnan(y)


def test_branch_free_atan_error_is_bounded():
    x = np.tan(np.linspace(-1.5707, 1.5707, 20001))
    assert max(abs(stk.poly_atan_bf(v) - math.atan(v)) for v in x) < ATAN_TOL
    assert max(abs(stk._atan2_pos_bf(v, 0.7) - math.atan2(v, 0.7)) for v in x) < ATAN_TOL


@given(st.floats(-math.pi, math.pi))
def test_poly_sincos_error_is_bounded(x):
    s, c = stk.poly_sincos(x)
    assert abs(s - math.sin(x)) < SINCOS_TOL and abs(c - math.cos(x)) < SINCOS_TOL


@given(st.floats(-1.5, 1.5), st.floats(5.0, 30.0), st.floats(1.0, 2.0), st.floats(-2.0, 1.0))
def test_magic_formula_matches_the_exact_formula(alpha, stiffness, c, e):
    b = stiffness / c
    exact = math.sin(c * math.atan(b * alpha - e * (b * alpha - math.atan(b * alpha))))
    assert abs(stk.magic_formula(alpha, stiffness, c, e) - exact) < 1e-10


def _reference_sie(s, p, mu, grade, u, active, mode, tyre, dt, dt_max):
    """Semi-implicit Euler row by row with the scalar ``pedals_from_targets`` / ``single_track_rhs``."""
    n_sub = max(1, math.ceil(dt / dt_max - 1e-9))
    h = dt / n_sub
    two_pi = 2 * math.pi
    for i in range(s.shape[1]):
        if not active[i]:
            continue
        x, y, yaw, vx, vy, r, dl = s[:, i]
        sg, cg = stk.poly_sincos(grade[i])
        for _ in range(n_sub):
            sy, cy = stk.poly_sincos(yaw - two_pi * math.floor(yaw / two_pi + 0.5))
            thr, brk, tgt = stk.pedals_from_targets(vx, dl, p, i, mu[i], cg, sg, u[0, i], u[1, i], u[2, i], mode)
            k = stk.single_track_rhs(cy, sy, vx, vy, r, dl, p, i, mu[i], cg, sg, thr, brk, tgt, tyre, h)
            vx += h * k[3]
            vy += h * k[4]
            r += h * k[5]
            dl += h * k[6]
            yaw += h * r
            sn, cs = stk.poly_sincos(h * r)
            cy, sy = cy * cs - sy * sn, sy * cs + cy * sn
            x += h * (vx * cy - vy * sy)
            y += h * (vx * sy + vy * cy)
            yaw -= two_pi * math.floor(yaw / two_pi + 0.5)
            dmax = p[i, stk.P_MAX_STEER]
            dl = min(max(dl, -dmax), dmax)
        s[:, i] = x, y, yaw, vx, vy, r, dl


def _fleet(n, mode, seed):
    """Mixed vehicles, speeds from standstill (kinematic blend) to 35 m/s, some NaN controls and inactive rows."""
    rng = np.random.default_rng(seed)
    p = np.array([dynamics_params(get_vehicle(CARS[k % len(CARS)])) for k in range(n)])
    p[::5, stk.P_STEER_VREF] = 0.0  # both steering-limit forms
    s = np.zeros((7, n))
    s[0] = rng.uniform(-100, 100, n)
    s[1] = rng.uniform(-100, 100, n)
    s[2] = rng.uniform(-4, 4, n)  # unwrapped yaw too
    s[3] = np.where(rng.uniform(size=n) < 0.2, rng.uniform(0, 2.5, n), rng.uniform(0, 35, n))
    s[4] = rng.uniform(-1, 1, n)
    s[5] = rng.uniform(-0.5, 0.5, n)
    s[6] = rng.uniform(-0.2, 0.2, n)
    u = np.zeros((3, n))
    if mode == stk.INPUT_PEDALS:
        u[0] = rng.uniform(-0.2, 1.2, n)
        u[1] = np.where(rng.uniform(size=n) < 0.3, rng.uniform(0, 1.2, n), 0.0)
        u[2] = rng.uniform(-1.2, 1.2, n)
    else:
        u[0] = rng.uniform(-12, 5, n)
        u[1] = rng.uniform(-0.5, 0.5, n) if mode == stk.INPUT_ACCEL_STEER else rng.uniform(-0.1, 0.1, n)
    for j in range(3):
        u[j, rng.uniform(size=n) < 0.05] = np.nan
    mu = rng.uniform(0.1, 1.2, n)
    grade = rng.uniform(-0.1, 0.1, n)
    active = rng.uniform(size=n) > 0.1
    return s, p, mu, grade, u, active


@pytest.mark.parametrize("tyre", [stk.TYRE_PACEJKA, stk.TYRE_LINEAR])
@pytest.mark.parametrize("mode", [stk.INPUT_PEDALS, stk.INPUT_ACCEL_STEER, stk.INPUT_ACCEL_CURVATURE])
def test_block_path_matches_the_scalar_kernels(mode, tyre):
    n = 150  # two full blocks of 64 and a partial one
    s, p, mu, grade, u, active = _fleet(n, mode, seed=mode * 7 + tyre)
    ref = s.copy()
    idx = np.arange(n, dtype=np.int64)
    for _ in range(3):
        stk.step_single_track(
            s, p, mu, grade, u, active, idx, mode, tyre, stk.INTEGRATOR_SEMI_IMPLICIT_EULER, 0.01, 1e-3
        )
        _reference_sie(ref, p, mu, grade, u, active, mode, tyre, 0.01, 1e-3)
    assert np.isfinite(s).all()
    # same operations in the same order, selects in place of branches: the same bits
    assert (s == ref).all(), np.abs(s - ref).max()
    assert (s[:, ~active] == _fleet(n, mode, seed=mode * 7 + tyre)[0][:, ~active]).all()  # inactive rows untouched


def test_each_row_gets_the_same_bits_in_any_batch():
    """Vector lanes and the scalar remainder compute alike: a row alone, in a batch, in another order, rerun."""
    mode, tyre = stk.INPUT_ACCEL_STEER, stk.TYRE_PACEJKA
    n = 203
    s0, p, mu, grade, u, active = _fleet(n, mode, seed=11)
    active[:] = True
    sie = stk.INTEGRATOR_SEMI_IMPLICIT_EULER
    batch = s0.copy()
    stk.step_single_track(batch, p, mu, grade, u, active, np.arange(n, dtype=np.int64), mode, tyre, sie, 0.05, 1e-3)
    again = s0.copy()
    stk.step_single_track(again, p, mu, grade, u, active, np.arange(n, dtype=np.int64), mode, tyre, sie, 0.05, 1e-3)
    assert (batch == again).all()
    rev = s0.copy()
    stk.step_single_track(
        rev, p, mu, grade, u, active, np.arange(n, dtype=np.int64)[::-1].copy(), mode, tyre, sie, 0.05, 1e-3
    )
    assert (batch == rev).all()
    for i in (0, 63, 64, 130, 202):
        one = s0.copy()
        stk.step_single_track(one, p, mu, grade, u, active, np.array([i], dtype=np.int64), mode, tyre, sie, 0.05, 1e-3)
        assert (one[:, i] == batch[:, i]).all()
