"""Dynamic single-track (bicycle) model with tyres, powertrain, brakes and steering actuator, batched.

Two families of kernels live here:

* ``step_single_track``: simcore's own model. State at the centre of gravity (CoG) in the ENU
  frame, rows of ``s`` (7, n): x, y (m), yaw (rad, CCW from +x), vx, vy (m/s, body frame,
  x forward, y left), yaw rate r (rad/s), front road-wheel angle delta (rad, left positive).
  Linear or Magic-Formula tyres, friction ellipse, load transfer, drive/brake/resistance
  forces, steering actuator, a smooth blend to kinematic behaviour at low speed, fixed-step
  sub-stepping with RK4 or semi-implicit Euler.
* ``step_commonroad``: the CommonRoad KS and ST right-hand sides (Althoff and Wuersching,
  "CommonRoad: Vehicle Models", 2020, sections 5 and 7) with their input constraints, in
  CommonRoad's own state order, for exact comparison with ``commonroad-vehicle-models``.

Per-vehicle parameters are rows of a (n, N_PARAMS) float64 matrix whose columns are the
``P_*`` constants below; ``simcore.dynamics.params.dynamics_params`` builds a row.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel, stage

# ---- parameter columns (one row per vehicle) ----
P_MASS = 0  # kg
P_IZZ = 1  # yaw moment of inertia, kg m^2
P_LF = 2  # CoG to front axle, m
P_LR = 3  # CoG to rear axle, m
P_HCG = 4  # CoG height, m
P_TRACK = 5  # track width, m
P_CSF = 6  # front cornering stiffness per unit load and unit friction, 1/rad
P_CSR = 7  # rear cornering stiffness per unit load and unit friction, 1/rad
P_MF_C = 8  # Magic Formula shape factor C (lateral)
P_MF_E = 9  # Magic Formula curvature factor E (lateral)
P_LOAD_SENS = 10  # friction load sensitivity (p_dy2 style, <= 0)
P_DRIVE_FRONT = 11  # share of drive force on the front axle, 0..1
P_BRAKE_FRONT = 12  # share of brake force on the front axle, 0..1
P_F_DRIVE = 13  # max drive force at the wheels, N
P_P_DRIVE = 14  # max drive power at the wheels, W
P_F_BRAKE = 15  # max brake force, N
P_C_RR = 16  # rolling-resistance coefficient
P_CDA = 17  # drag coefficient times frontal area, m^2
P_MAX_STEER = 18  # rad
P_MAX_STEER_RATE = 19  # rad/s
P_STEER_TAU = 20  # steering actuator time constant, s
P_STEER_VREF = 21  # speed of the speed-dependent steering limit, m/s (0: off)
P_V_BLEND_LO = 22  # below: kinematic behaviour, m/s
P_V_BLEND_HI = 23  # above: dynamic behaviour, m/s
P_MAX_SPEED = 24  # m/s
P_CR_VMIN = 25  # CommonRoad: minimum speed, m/s
P_CR_VSWITCH = 26  # CommonRoad: switching speed of the power limit, m/s
P_CR_AMAX = 27  # CommonRoad: max absolute acceleration, m/s^2
N_PARAMS = 28

# ---- enums passed as ints ----
INPUT_PEDALS = 0  # u = (throttle 0..1, brake 0..1, steering wheel -1..1)
INPUT_ACCEL_STEER = 1  # u = (target acceleration m/s^2, target road-wheel angle rad, unused)
INPUT_ACCEL_CURVATURE = 2  # u = (target acceleration m/s^2, target path curvature 1/m, unused)
TYRE_LINEAR = 0
TYRE_PACEJKA = 1
INTEGRATOR_SEMI_IMPLICIT_EULER = 0
INTEGRATOR_RK4 = 1
INTEGRATOR_EULER = 2  # explicit Euler (CommonRoad kernels only)
MODEL_CR_KS = 0
MODEL_CR_ST = 1

G = 9.81  # m/s^2, the value CommonRoad uses
RHO_AIR = 1.204  # kg/m^3 at 20 C, sea level
#: Half-width (m/s) of the linear ramp that replaces sign(vx) in brake and rolling forces: braking
#: decays the speed to zero instead of reversing it; widened per sub-step so h * (F_brake/m)/eps <= 1.
V_STOP = 0.05
#: Time constant (s) with which vy and r are pulled to their kinematic values at low speed.
TAU_KINEMATIC = 0.05
#: Speed floor (m/s) for the power limit F <= P / v.
V_POWER_FLOOR = 0.5
TWO_PI = 2.0 * math.pi
#: Rows advanced together through all sub-steps (cache blocking).
BLOCK_ROWS = 64


@stage
def _clip(v, lo, hi):  # pragma: no cover - compiled
    return min(max(v, lo), hi)


@stage
def _smoothstep(t):  # pragma: no cover - compiled
    t = min(max(t, 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


# atan range reduction: centres at angles k pi / 8 (k = 0..4), switching at the odd multiples of pi / 16
_T1 = 0.19891236737965800  # tan(pi / 16)
_T2 = 0.66817863791929890  # tan(3 pi / 16)
_T3 = 1.49660576266548900  # tan(5 pi / 16)
_T4 = 5.02733949212584800  # tan(7 pi / 16)
_C1 = 0.41421356237309503  # tan(pi / 8)
_C3 = 2.41421356237309510  # tan(3 pi / 8)


@stage
def _atan_series(u):  # pragma: no cover - compiled
    """atan(u) for |u| <= tan(pi/16): alternating Taylor series to u^15 in Estrin form (remainder < 1e-13)."""
    z = u * u
    z2 = z * z
    z4 = z2 * z2
    q = ((1.0 - z * (1.0 / 3.0)) + z2 * (1.0 / 5.0 - z * (1.0 / 7.0))) + z4 * (
        (1.0 / 9.0 - z * (1.0 / 11.0)) + z2 * (1.0 / 13.0 - z * (1.0 / 15.0))
    )
    return u * q


@stage
def poly_atan(x):  # pragma: no cover - compiled
    """atan(x) without a libm call: |error| < 1e-13 rad for every x (+-pi/2 at +-inf, NaN stays NaN).

    One division reduces the argument: atan(a) = k pi/8 + atan((a - c_k) / (1 + a c_k)) with
    c_k = tan(k pi / 8) nearest to a (k = 4: atan(a) = pi/2 + atan(-1/a)), so |u| <= tan(pi/16)
    and the alternating Taylor series to u^15 leaves a remainder below u^17 / 17 < 1e-13.
    The polynomial is evaluated in Estrin form (short dependency chains).
    """
    a = abs(x)
    if a < _T1:
        num, den, base = a, 1.0, 0.0
    elif a < _T2:
        num, den, base = a - _C1, 1.0 + a * _C1, 0.125 * math.pi
    elif a < _T3:
        num, den, base = a - 1.0, 1.0 + a, 0.25 * math.pi
    elif a < _T4:
        num, den, base = a - _C3, 1.0 + a * _C3, 0.375 * math.pi
    else:
        num, den, base = -1.0, a, 0.5 * math.pi
    r = base + _atan_series(num / den)
    return -r if x < 0.0 else r


@stage
def poly_sincos(x):  # pragma: no cover - compiled
    """(sin x, cos x) without a libm call for |x| <= pi: |error| < 2e-11.

    Taylor series of sin and cos of h = x / 2 (|h| <= pi/2, to h^15 and h^16, remainders
    < 1e-12) in Estrin form, then the double-angle formulas sin x = 2 s c, cos x = c^2 - s^2.
    """
    h = 0.5 * x
    z = h * h
    z2 = z * z
    z4 = z2 * z2
    s = ((1.0 - z * (1.0 / 6.0)) + z2 * (1.0 / 120.0 - z * (1.0 / 5040.0))) + z4 * (
        (1.0 / 362880.0 - z * (1.0 / 39916800.0)) + z2 * (1.0 / 6227020800.0 - z * (1.0 / 1307674368000.0))
    )
    c = ((1.0 - z * 0.5) + z2 * (1.0 / 24.0 - z * (1.0 / 720.0))) + z4 * (
        (1.0 / 40320.0 - z * (1.0 / 3628800.0))
        + z2 * (1.0 / 479001600.0 - z * (1.0 / 87178291200.0) + z2 * (1.0 / 20922789888000.0))
    )
    s = h * s
    return 2.0 * s * c, c * c - s * s


@stage
def _atan2_pos(y, x):  # pragma: no cover - compiled
    """atan2(y, x) for x >= 0 with one division: the ``poly_atan`` reduction applied to y/x without forming it.

    atan(a/x) = k pi/8 + atan((a - c_k x) / (x + c_k a)); +-pi/2 on the y axis, 0 at the origin.
    """
    a = abs(y)
    if a < _T1 * x:
        num, den, base = a, x, 0.0
    elif a < _T2 * x:
        num, den, base = a - _C1 * x, x + _C1 * a, 0.125 * math.pi
    elif a < _T3 * x:
        num, den, base = a - x, x + a, 0.25 * math.pi
    elif a < _T4 * x:
        num, den, base = a - _C3 * x, x + _C3 * a, 0.375 * math.pi
    else:
        num, den, base = -x, a, 0.5 * math.pi
    r = base + _atan_series(num / den) if a > 0.0 else 0.0
    return -r if y < 0.0 else r


@stage
def _atan_reduced(a, x):  # pragma: no cover - compiled
    """atan(a / x) for a, x >= 0 (not both 0): the ``poly_atan`` range reduction, branch-free.

    atan(a/x) = k pi/8 + atan((a - c_k x) / (x + c_k a)); the range (c_k, k pi/8) is chosen by
    selects, then one division and one polynomial, so the CPU never mispredicts on it and loops
    over it vectorise.
    """
    lo2 = a < _T2 * x
    lo3 = a < _T3 * x
    ck = _C1 if lo2 else (1.0 if lo3 else _C3)
    base = 0.125 * math.pi if lo2 else (0.25 * math.pi if lo3 else 0.375 * math.pi)
    lo1 = a < _T1 * x
    ck = 0.0 if lo1 else ck
    base = 0.0 if lo1 else base
    inner = a < _T4 * x
    num = a - ck * x if inner else -x
    den = x + ck * a if inner else a
    base = base if inner else 0.5 * math.pi
    return base + _atan_series(num / den)


@stage
def _atan2_pos_bf(y, x):  # pragma: no cover - compiled
    """``_atan2_pos`` without branches (``_atan_reduced``), the same bits; for loops that should vectorise."""
    a = abs(y)
    r = _atan_reduced(a, x)
    r = r if a > 0.0 else 0.0
    return -r if y < 0.0 else r


@stage
def poly_atan_bf(x):  # pragma: no cover - compiled
    """``poly_atan`` without branches (``_atan_reduced`` with x = 1), the same bits; for loops that should vectorise.

    Scalar code keeps the branchy ``poly_atan``: with predictable branches it has the shorter latency.
    """
    r = _atan_reduced(abs(x), 1.0)
    return -r if x < 0.0 else r


@stage
def magic_formula(alpha, stiffness, c, e):  # pragma: no cover - compiled
    """Normalised Magic Formula: F / D = sin(C atan(B a - E (B a - atan(B a)))), with B = stiffness / C.

    Pacejka, "Tire and Vehicle Dynamics", 3rd ed., eq. (4.49); the slope at alpha = 0 is ``stiffness``.
    Uses ``poly_atan`` and ``poly_sincos`` (C <= 2 keeps the sine argument within +-pi).
    """
    ba = stiffness / c * alpha
    return poly_sincos(c * poly_atan(ba - e * (ba - poly_atan(ba))))[0]


@stage
def pedals_from_targets(vx, delta, p, i, mu, cg, sg, u0, u1, u2, mode):  # pragma: no cover - compiled
    """Map a control row to (throttle 0..1, brake 0..1, steering target rad) for vehicle ``i``.

    Physical targets are inverted through the actuators: the force for the target acceleration,
        F = m a* + F_aero + F_roll + m g sin(theta),
    is asked of the drive (F > 0, throttle = F / F_drive_available(v)) or of the brakes
    (brake = -F / F_brake_max), each clipped to 0..1; cg, sg are cos and sin of the grade angle.
    Curvature maps to delta* = atan(kappa L). NaN inputs mean: full brake, hold the steering.
    """
    m = p[i, P_MASS]
    if mode == INPUT_PEDALS:
        thr = 0.0 if u0 != u0 else _clip(u0, 0.0, 1.0)
        brk = 1.0 if u1 != u1 else _clip(u1, 0.0, 1.0)
        tgt = delta if u2 != u2 else _clip(u2, -1.0, 1.0) * p[i, P_MAX_STEER]
        return thr, brk, tgt
    if u1 != u1:
        tgt = delta
    elif mode == INPUT_ACCEL_CURVATURE:
        tgt = math.atan(u1 * (p[i, P_LF] + p[i, P_LR]))
    else:
        tgt = u1
    if u0 != u0:
        return 0.0, 1.0, tgt
    sv = _clip(vx * (1.0 / V_STOP), -1.0, 1.0)
    f_res = 0.5 * RHO_AIR * p[i, P_CDA] * vx * abs(vx) + p[i, P_C_RR] * m * G * cg * sv
    f = m * u0 + f_res + m * G * sg
    if f >= 0.0:
        avail = min(p[i, P_F_DRIVE], p[i, P_P_DRIVE] / max(abs(vx), V_POWER_FLOOR), mu * m * G)
        return _clip(f / max(avail, 1e-9), 0.0, 1.0), 0.0, tgt
    return 0.0, _clip(-f / max(p[i, P_F_BRAKE], 1e-9), 0.0, 1.0), tgt


@stage
def axle_grip(m, cg, lf, lr, hcg, ax, lat, ks, mu):  # pragma: no cover - compiled
    """Axle loads and friction limits (N) with longitudinal and lateral load transfer.

    Fz_f = m (g cos(th) l_r - a_x h) / L, Fz_r = m (g cos(th) l_f + a_x h) / L (each >= 0);
    per axle the lateral transfer ``lat`` l_r (front) or ``lat`` l_f (rear) moves load from the
    inner to the outer wheel (limited to the axle load), and each wheel's friction follows the
    load sensitivity D_w = mu Fz_w max(0, 1 + ks (Fz_w - Fz0) / Fz0), Fz0 = m g / 4.
    Returns (Fz_f, Fz_r, D_f, D_r). Source: Rajamani 2012, sections 13.3-13.4; Pacejka 2012, eq. (4.E22).
    """
    m_wb = m / (lf + lr)
    fzf = max(m_wb * (G * cg * lr - ax * hcg), 0.0)
    fzr = max(m_wb * (G * cg * lf + ax * hcg), 0.0)
    fz0 = 0.25 * m * G
    k0 = ks / fz0
    dff = _clip(lat * lr, -0.5 * fzf, 0.5 * fzf)
    drr = _clip(lat * lf, -0.5 * fzr, 0.5 * fzr)
    w1 = 0.5 * fzf - dff
    w2 = 0.5 * fzf + dff
    w3 = 0.5 * fzr - drr
    w4 = 0.5 * fzr + drr
    d_f = mu * (w1 * max(0.0, 1.0 + k0 * (w1 - fz0)) + w2 * max(0.0, 1.0 + k0 * (w2 - fz0)))
    d_r = mu * (w3 * max(0.0, 1.0 + k0 * (w3 - fz0)) + w4 * max(0.0, 1.0 + k0 * (w4 - fz0)))
    return fzf, fzr, d_f, d_r


# fmt: off
@stage
def single_track_rhs(cy, sy, vx, vy, r, delta, p, i, mu, cg, sg, thr, brk, tgt, tyre, h):  # pragma: no cover
    """Time derivatives of (x, y, yaw, vx, vy, r, delta) for vehicle ``i`` with held pedals.

    Reference point: CoG; ENU world frame; body frame x forward, y left.

    Forward dynamics:
        steering    d' = clip((d*_lim - d) / max(tau, h), -rate, rate),
                    d*_lim = clip(d*, +-dmax / (1 + (vx / v_ref)^2))  (v_ref = 0: dmax)
        forces      F_drive = thr min(F_max, P_max / max(|vx|, 0.5)), F_brake = brk F_b,max s(vx),
                    F_roll = c_rr m g cos(th) s(vx), F_aero = rho CdA vx |vx| / 2, s = ramp sign
                    Fx_f/r = drive/brake shares, each clipped to +- D_axle
        loads       Fz_f = (m g cos(th) l_r - m a_x h) / L, Fz_r = (m g cos(th) l_f + m a_x h) / L,
                    a_x = (Fx_f + Fx_r - F_aero) / m, first from the demanded forces clipped
                    to +-mu g cos(th), then again from the friction-limited ones; lateral transfer per axle
                    dFz = m (r vx) h / track * (l_r or l_f) / L split left/right
        grip        D_axle = mu sum_wheels Fz_w max(0, 1 + p_dy2 (Fz_w - Fz0) / Fz0), Fz0 = m g / 4
        slip        a_f = d - atan2(vy + l_f r, |vx|), a_r = -atan2(vy - l_r r, |vx|)
        tyres       linear: Fy = mu C_S Fz a (CommonRoad ST);
                    Magic Formula: Fy = D_axle MF(a) sqrt(1 - (Fx / D_axle)^2) (friction ellipse)
        body        vx' = (Fx_f cos d - Fy_f sin d + Fx_r - F_aero - F_roll - m g sin th) / m + r vy
                    vy' = (Fx_f sin d + Fy_f cos d + Fy_r) / m - r vx
                    r'  = (l_f (Fx_f sin d + Fy_f cos d) - l_r Fy_r) / Izz
        low speed   kinematic: lateral budget a_max = sqrt((mu g cos(th))^2 - ((Fx_f + Fx_r) / m)^2)
                    (friction ellipse), k = tan(d) / L capped at a_max / vx^2, vy_k = vx k l_r,
                    r_k = vx k, a_y = (vx' k + vx d' / (L cos^2 d)) l_r + (vy_k - vy) / tau_k + r vx
                    clipped to +-a_max, vy' = a_y - r vx; r' = (vx' k + vx d' / (L cos^2 d))
                    + (r_k - r) / tau_k (no feed-forward term while k is capped);
                    blended with weight w = smoothstep((|vx| - v_lo) / (v_hi - v_lo)).
        pose        x' = vx cos(yaw) - vy sin(yaw), y' = vx sin(yaw) + vy cos(yaw), yaw' = r

    Sources: Rajamani, "Vehicle Dynamics and Control", 2nd ed., sections 2.3 and 13 (bicycle
    model, load transfer); Pacejka, "Tire and Vehicle Dynamics", 3rd ed., ch. 4 (Magic Formula,
    friction ellipse); Althoff and Wuersching 2020, section 7 (ST model, kinematic switch).

    Args:
        cy, sy: cos and sin of yaw. vx, vy, r, delta: state scalars. p: (n, N_PARAMS). i: row.
        mu: friction. cg, sg: cos and sin of the grade angle (positive uphill). thr, brk: 0..1.
        tgt: steering target (rad). tyre: TYRE_LINEAR or TYRE_PACEJKA. h: integration step (s).

    Trigonometry goes through ``poly_atan`` / ``poly_sincos`` (errors < 2e-11), so the per-step
    path makes no libm calls. Returns the 7 derivatives in state order.
    """
    m = p[i, P_MASS]
    inv_m = 1.0 / m
    lf = p[i, P_LF]
    lr = p[i, P_LR]
    wb = lf + lr
    hcg = p[i, P_HCG]
    # steering actuator
    dmax = p[i, P_MAX_STEER]
    vref = p[i, P_STEER_VREF]
    lim = dmax / (1.0 + (vx * vx) / (vref * vref)) if vref > 0.0 else dmax
    tgt_l = _clip(tgt, -lim, lim)
    rate = p[i, P_MAX_STEER_RATE]
    d_delta = _clip((tgt_l - delta) / max(p[i, P_STEER_TAU], h), -rate, rate)
    # longitudinal forces
    eps = max(V_STOP, p[i, P_F_BRAKE] * inv_m * h)
    sv = _clip(vx / eps, -1.0, 1.0)
    f_drive = thr * min(p[i, P_F_DRIVE], p[i, P_P_DRIVE] / max(abs(vx), V_POWER_FLOOR))
    f_drive *= _clip(p[i, P_MAX_SPEED] - vx, 0.0, 1.0)  # speed limiter fades the drive over the last 1 m/s
    f_brake = brk * p[i, P_F_BRAKE] * sv
    f_roll = p[i, P_C_RR] * m * G * cg * sv
    f_aero = 0.5 * RHO_AIR * p[i, P_CDA] * vx * abs(vx)
    f_grade = m * G * sg
    sd = p[i, P_DRIVE_FRONT]
    sb = p[i, P_BRAKE_FRONT]
    fxf = sd * f_drive - sb * f_brake
    fxr = (1.0 - sd) * f_drive - (1.0 - sb) * f_brake
    # vertical loads with longitudinal and lateral transfer; two passes so that the transfer
    # follows the friction-limited forces, not the demanded ones
    lat = m * r * vx * hcg / (p[i, P_TRACK] * wb)
    ks = p[i, P_LOAD_SENS]
    a_lim = mu * G * cg
    ax = _clip((fxf + fxr - f_aero) * inv_m, -a_lim, a_lim)
    fzf, fzr, d_f, d_r = axle_grip(m, cg, lf, lr, hcg, ax, lat, ks, mu)
    fxf = _clip(fxf, -d_f, d_f)
    fxr = _clip(fxr, -d_r, d_r)
    ax = (fxf + fxr - f_aero) * inv_m
    fzf, fzr, d_f, d_r = axle_grip(m, cg, lf, lr, hcg, ax, lat, ks, mu)
    fxf = _clip(fxf, -d_f, d_f)
    fxr = _clip(fxr, -d_r, d_r)
    # lateral tyre forces
    avx = abs(vx)
    a_f = delta - _atan2_pos(vy + lf * r, avx)
    a_r = -_atan2_pos(vy - lr * r, avx)
    if tyre == TYRE_LINEAR:
        fyf = mu * p[i, P_CSF] * fzf * a_f
        fyr = mu * p[i, P_CSR] * fzr * a_r
    else:
        c = p[i, P_MF_C]
        e = p[i, P_MF_E]
        ef = 1.0 - fxf * fxf / (d_f * d_f) if d_f > 0.0 else 0.0
        er = 1.0 - fxr * fxr / (d_r * d_r) if d_r > 0.0 else 0.0
        fyf = d_f * magic_formula(a_f, p[i, P_CSF], c, e) * math.sqrt(max(ef, 0.0))
        fyr = d_r * magic_formula(a_r, p[i, P_CSR], c, e) * math.sqrt(max(er, 0.0))
    sdl, cd = poly_sincos(delta)
    f_lon = fxf * cd - fyf * sdl + fxr - f_aero - f_roll - f_grade
    f_latf = fxf * sdl + fyf * cd
    dvx_dyn = f_lon * inv_m + r * vy
    dvy_dyn = (f_latf + fyr) * inv_m - r * vx
    dr_dyn = (lf * f_latf - lr * fyr) / p[i, P_IZZ]
    w = _smoothstep((avx - p[i, P_V_BLEND_LO]) / max(p[i, P_V_BLEND_HI] - p[i, P_V_BLEND_LO], 1e-9))
    if w < 1.0:
        dvx_kin = (fxf + fxr - f_aero - f_roll - f_grade) * inv_m
        # lateral budget left by the tyres' longitudinal force (friction ellipse)
        ax_t = (fxf + fxr) * inv_m
        a_y_max = math.sqrt(max(a_lim * a_lim - ax_t * ax_t, 0.0))
        kap = sdl / (cd * wb)  # tan(delta) / L
        kap_max = a_y_max / max(vx * vx, 1e-12)
        if abs(kap) > kap_max:  # the path a kinematic vehicle could hold on this friction
            kap = kap_max if kap > 0.0 else -kap_max
            curv_dot = 0.0
        else:
            curv_dot = (dvx_kin * kap + vx * d_delta / (cd * cd * wb))
        # a_y = vy' + r vx: feed-forward, relaxation and centripetal part, within the budget
        a_y_kin = _clip(lr * curv_dot + (vx * kap * lr - vy) * (1.0 / TAU_KINEMATIC) + r * vx, -a_y_max, a_y_max)
        dvy_kin = a_y_kin - r * vx
        dr_kin = curv_dot + (vx * kap - r) * (1.0 / TAU_KINEMATIC)
        dvx = w * dvx_dyn + (1.0 - w) * dvx_kin
        dvy = w * dvy_dyn + (1.0 - w) * dvy_kin
        dr = w * dr_dyn + (1.0 - w) * dr_kin
    else:
        dvx = dvx_dyn
        dvy = dvy_dyn
        dr = dr_dyn
    return vx * cy - vy * sy, vx * sy + vy * cy, r, dvx, dvy, dr, d_delta


# ---- struct-of-arrays scratch of the semi-implicit Euler block path: field f of block row k is
# ``w[f * SOA_ROWS + k]`` (constant offsets, so LLVM sees fields never overlap and vectorises)
SOA_ROWS = 64
_W_X, _W_Y, _W_YAW, _W_VX, _W_VY, _W_R, _W_DL = 0, 1, 2, 3, 4, 5, 6  # state
_W_M, _W_INV_M, _W_LF, _W_LR, _W_HCG, _W_TRACK, _W_IZZ = 7, 8, 9, 10, 11, 12, 13
_W_BF, _W_BR, _W_LINF, _W_LINR, _W_C, _W_E, _W_KS = 14, 15, 16, 17, 18, 19, 20
_W_SD, _W_SB, _W_FD, _W_PD, _W_FB, _W_CRR, _W_CDA = 21, 22, 23, 24, 25, 26, 27
_W_DMAX, _W_VREF2, _W_RATE, _W_TAU, _W_VLO, _W_VBL, _W_VMAX, _W_EPS = 28, 29, 30, 31, 32, 33, 34, 35
_W_MU, _W_CG, _W_SG, _W_U0, _W_TGT, _W_HOLD, _W_THR0, _W_BRK0, _W_LIVE = 36, 37, 38, 39, 40, 41, 42, 43, 44
_W_FIELDS = 45


@stage
def _soa_load(w, nb, rows, s, p, mu, grade, u, input_mode, h):  # pragma: no cover - compiled
    """Gather the state and per-row constants of block rows ``rows[:nb]`` into the SoA scratch ``w``."""
    R = SOA_ROWS
    for k in range(nb):
        i = rows[k]
        for f in range(7):
            w[f * R + k] = s[f, i]
        m = p[i, P_MASS]
        w[_W_M * R + k] = m
        w[_W_INV_M * R + k] = 1.0 / m
        w[_W_LF * R + k] = p[i, P_LF]
        w[_W_LR * R + k] = p[i, P_LR]
        w[_W_HCG * R + k] = p[i, P_HCG]
        w[_W_TRACK * R + k] = p[i, P_TRACK]
        w[_W_IZZ * R + k] = p[i, P_IZZ]
        c = p[i, P_MF_C]
        w[_W_BF * R + k] = p[i, P_CSF] / c
        w[_W_BR * R + k] = p[i, P_CSR] / c
        w[_W_LINF * R + k] = mu[i] * p[i, P_CSF]
        w[_W_LINR * R + k] = mu[i] * p[i, P_CSR]
        w[_W_C * R + k] = c
        w[_W_E * R + k] = p[i, P_MF_E]
        w[_W_KS * R + k] = p[i, P_LOAD_SENS]
        w[_W_SD * R + k] = p[i, P_DRIVE_FRONT]
        w[_W_SB * R + k] = p[i, P_BRAKE_FRONT]
        w[_W_FD * R + k] = p[i, P_F_DRIVE]
        w[_W_PD * R + k] = p[i, P_P_DRIVE]
        w[_W_FB * R + k] = p[i, P_F_BRAKE]
        w[_W_CRR * R + k] = p[i, P_C_RR]
        w[_W_CDA * R + k] = p[i, P_CDA]
        dmax = p[i, P_MAX_STEER]
        vref = p[i, P_STEER_VREF]
        w[_W_DMAX * R + k] = dmax
        w[_W_VREF2 * R + k] = vref * vref if vref > 0.0 else math.inf  # inf: no speed-dependent limit
        w[_W_RATE * R + k] = p[i, P_MAX_STEER_RATE]
        w[_W_TAU * R + k] = max(p[i, P_STEER_TAU], h)
        w[_W_VLO * R + k] = p[i, P_V_BLEND_LO]
        w[_W_VBL * R + k] = max(p[i, P_V_BLEND_HI] - p[i, P_V_BLEND_LO], 1e-9)
        w[_W_VMAX * R + k] = p[i, P_MAX_SPEED]
        w[_W_EPS * R + k] = max(V_STOP, p[i, P_F_BRAKE] * (1.0 / m) * h)
        w[_W_MU * R + k] = mu[i]
        sg, cg = poly_sincos(grade[i])
        w[_W_CG * R + k] = cg
        w[_W_SG * R + k] = sg
        # controls, held over the call (pedals_from_targets, split into constants and the vx-dependent part)
        u0 = u[0, i]
        u1 = u[1, i]
        u2 = u[2, i]
        if input_mode == INPUT_PEDALS:
            w[_W_THR0 * R + k] = 0.0 if u0 != u0 else _clip(u0, 0.0, 1.0)
            w[_W_BRK0 * R + k] = 1.0 if u1 != u1 else _clip(u1, 0.0, 1.0)
            w[_W_HOLD * R + k] = 1.0 if u2 != u2 else 0.0
            w[_W_TGT * R + k] = 0.0 if u2 != u2 else _clip(u2, -1.0, 1.0) * dmax
            w[_W_LIVE * R + k] = 0.0
            w[_W_U0 * R + k] = 0.0
        else:
            w[_W_HOLD * R + k] = 1.0 if u1 != u1 else 0.0
            if u1 != u1:
                w[_W_TGT * R + k] = 0.0
            elif input_mode == INPUT_ACCEL_CURVATURE:
                w[_W_TGT * R + k] = math.atan(u1 * (p[i, P_LF] + p[i, P_LR]))
            else:
                w[_W_TGT * R + k] = u1
            w[_W_THR0 * R + k] = 0.0
            w[_W_BRK0 * R + k] = 1.0
            w[_W_LIVE * R + k] = 0.0 if u0 != u0 else 1.0
            w[_W_U0 * R + k] = 0.0 if u0 != u0 else u0


@stage
def _soa_substeps(w, nb, n_sub, h, tyre):  # pragma: no cover - compiled
    """``n_sub`` semi-implicit Euler sub-steps of the block in ``w``: the arithmetic of ``pedals_from_targets``
    and ``single_track_rhs`` with every branch turned into a select, one loop over the block rows per
    sub-step (LLVM vectorises it). Same equations and polynomial trigonometry as the scalar path."""
    R = SOA_ROWS
    linear = tyre == TYRE_LINEAR
    for _ in range(n_sub):
        for k in range(nb):
            yaw = w[_W_YAW * R + k]
            vx = w[_W_VX * R + k]
            vy = w[_W_VY * R + k]
            r = w[_W_R * R + k]
            delta = w[_W_DL * R + k]
            m = w[_W_M * R + k]
            inv_m = w[_W_INV_M * R + k]
            lf = w[_W_LF * R + k]
            lr = w[_W_LR * R + k]
            wb = lf + lr
            hcg = w[_W_HCG * R + k]
            mu = w[_W_MU * R + k]
            cg = w[_W_CG * R + k]
            sg = w[_W_SG * R + k]
            dmax = w[_W_DMAX * R + k]
            sy, cy = poly_sincos(yaw - TWO_PI * np.floor(yaw / TWO_PI + 0.5))
            avx = abs(vx)
            f_aero = 0.5 * RHO_AIR * w[_W_CDA * R + k] * vx * avx
            # pedals from the targets (pedals_from_targets)
            sv0 = _clip(vx * (1.0 / V_STOP), -1.0, 1.0)
            f_res = f_aero + w[_W_CRR * R + k] * m * G * cg * sv0
            f = m * w[_W_U0 * R + k] + f_res + m * G * sg
            avail = min(w[_W_FD * R + k], w[_W_PD * R + k] / max(avx, V_POWER_FLOOR), mu * m * G)
            thr_l = _clip(f / max(avail, 1e-9), 0.0, 1.0) if f >= 0.0 else 0.0
            brk_l = 0.0 if f >= 0.0 else _clip(-f / max(w[_W_FB * R + k], 1e-9), 0.0, 1.0)
            live = w[_W_LIVE * R + k] > 0.0
            thr = thr_l if live else w[_W_THR0 * R + k]
            brk = brk_l if live else w[_W_BRK0 * R + k]
            tgt = delta if w[_W_HOLD * R + k] > 0.0 else w[_W_TGT * R + k]
            # steering actuator
            lim = dmax / (1.0 + (vx * vx) / w[_W_VREF2 * R + k])
            d_delta = _clip((_clip(tgt, -lim, lim) - delta) / w[_W_TAU * R + k], -w[_W_RATE * R + k],
                            w[_W_RATE * R + k])
            # longitudinal forces
            sv = _clip(vx / w[_W_EPS * R + k], -1.0, 1.0)
            f_drive = thr * min(w[_W_FD * R + k], w[_W_PD * R + k] / max(avx, V_POWER_FLOOR))
            f_drive *= _clip(w[_W_VMAX * R + k] - vx, 0.0, 1.0)
            f_brake = brk * w[_W_FB * R + k] * sv
            f_roll = w[_W_CRR * R + k] * m * G * cg * sv
            f_grade = m * G * sg
            sd = w[_W_SD * R + k]
            sb = w[_W_SB * R + k]
            fxf = sd * f_drive - sb * f_brake
            fxr = (1.0 - sd) * f_drive - (1.0 - sb) * f_brake
            # loads, two passes
            lat = m * r * vx * hcg / (w[_W_TRACK * R + k] * wb)
            ks = w[_W_KS * R + k]
            a_lim = mu * G * cg
            ax = _clip((fxf + fxr - f_aero) * inv_m, -a_lim, a_lim)
            fzf, fzr, d_f, d_r = axle_grip(m, cg, lf, lr, hcg, ax, lat, ks, mu)
            fxf = _clip(fxf, -d_f, d_f)
            fxr = _clip(fxr, -d_r, d_r)
            ax = (fxf + fxr - f_aero) * inv_m
            fzf, fzr, d_f, d_r = axle_grip(m, cg, lf, lr, hcg, ax, lat, ks, mu)
            fxf = _clip(fxf, -d_f, d_f)
            fxr = _clip(fxr, -d_r, d_r)
            # lateral tyre forces
            a_f = delta - _atan2_pos_bf(vy + lf * r, avx)
            a_r = -_atan2_pos_bf(vy - lr * r, avx)
            if linear:
                fyf = w[_W_LINF * R + k] * fzf * a_f
                fyr = w[_W_LINR * R + k] * fzr * a_r
            else:
                c = w[_W_C * R + k]
                e = w[_W_E * R + k]
                ef = 1.0 - fxf * fxf / (d_f * d_f)
                er = 1.0 - fxr * fxr / (d_r * d_r)
                ef = ef if d_f > 0.0 else 0.0
                er = er if d_r > 0.0 else 0.0
                baf = w[_W_BF * R + k] * a_f
                bar = w[_W_BR * R + k] * a_r
                mff = poly_sincos(c * poly_atan_bf(baf - e * (baf - poly_atan_bf(baf))))[0]
                mfr = poly_sincos(c * poly_atan_bf(bar - e * (bar - poly_atan_bf(bar))))[0]
                fyf = d_f * mff * math.sqrt(max(ef, 0.0))
                fyr = d_r * mfr * math.sqrt(max(er, 0.0))
            sdl, cd = poly_sincos(delta)
            f_lon = fxf * cd - fyf * sdl + fxr - f_aero - f_roll - f_grade
            f_latf = fxf * sdl + fyf * cd
            dvx_dyn = f_lon * inv_m + r * vy
            dvy_dyn = (f_latf + fyr) * inv_m - r * vx
            dr_dyn = (lf * f_latf - lr * fyr) / w[_W_IZZ * R + k]
            wt = _smoothstep((avx - w[_W_VLO * R + k]) / w[_W_VBL * R + k])
            # low-speed kinematic blend (computed for every row, selected where w < 1)
            dvx_kin = (fxf + fxr - f_aero - f_roll - f_grade) * inv_m
            ax_t = (fxf + fxr) * inv_m
            a_y_max = math.sqrt(max(a_lim * a_lim - ax_t * ax_t, 0.0))
            kap = sdl / (cd * wb)
            kap_max = a_y_max / max(vx * vx, 1e-12)
            capped = abs(kap) > kap_max
            kap = (kap_max if kap > 0.0 else -kap_max) if capped else kap
            curv_dot = 0.0 if capped else (dvx_kin * kap + vx * d_delta / (cd * cd * wb))
            a_y_kin = _clip(lr * curv_dot + (vx * kap * lr - vy) * (1.0 / TAU_KINEMATIC) + r * vx, -a_y_max, a_y_max)
            dvy_kin = a_y_kin - r * vx
            dr_kin = curv_dot + (vx * kap - r) * (1.0 / TAU_KINEMATIC)
            blend = wt < 1.0
            dvx = wt * dvx_dyn + (1.0 - wt) * dvx_kin if blend else dvx_dyn
            dvy = wt * dvy_dyn + (1.0 - wt) * dvy_kin if blend else dvy_dyn
            dr = wt * dr_dyn + (1.0 - wt) * dr_kin if blend else dr_dyn
            # semi-implicit Euler: velocities, then yaw and position from the new ones
            vx += h * dvx
            vy += h * dvy
            r += h * dr
            delta += h * d_delta
            dyaw = h * r
            yaw += dyaw
            sn, cs = poly_sincos(dyaw)
            cy, sy = cy * cs - sy * sn, sy * cs + cy * sn
            w[_W_X * R + k] += h * (vx * cy - vy * sy)
            w[_W_Y * R + k] += h * (vx * sy + vy * cy)
            w[_W_YAW * R + k] = yaw - TWO_PI * np.floor(yaw / TWO_PI + 0.5)
            w[_W_VX * R + k] = vx
            w[_W_VY * R + k] = vy
            w[_W_R * R + k] = r
            w[_W_DL * R + k] = _clip(delta, -dmax, dmax)


@kernel
def _step_soa(s, p, mu, grade, u, active, idx, input_mode, tyre, n_sub, h):  # pragma: no cover - compiled
    """Semi-implicit Euler for the rows ``idx``: blocks of SOA_ROWS active rows through ``_soa_substeps``."""
    w = np.empty(_W_FIELDS * SOA_ROWS)
    rows = np.empty(SOA_ROWS, dtype=np.int64)
    n_rows = idx.shape[0]
    k0 = 0
    while k0 < n_rows:
        nb = 0
        while k0 < n_rows and nb < SOA_ROWS:
            i = idx[k0]
            k0 += 1
            if active[i]:
                rows[nb] = i
                nb += 1
        if nb == 0:
            continue
        _soa_load(w, nb, rows, s, p, mu, grade, u, input_mode, h)
        _soa_substeps(w, nb, n_sub, h, tyre)
        for k in range(nb):
            i = rows[k]
            for f in range(7):
                s[f, i] = w[f * SOA_ROWS + k]


@stage
def step_single_track(s, p, mu, grade, u, active, idx, input_mode, tyre, integrator, dt, dt_max):  # pragma: no cover
    """Advance the dynamic single-track model by ``dt`` with ``ceil(dt / dt_max)`` fixed sub-steps.

    Reference point CoG, ENU frame; equations in ``single_track_rhs``. Controls are mapped to
    pedals once per sub-step (``pedals_from_targets``) and held through it.

    Integrators: INTEGRATOR_RK4 (classical 4th order, global error O(h^4)) or
    INTEGRATOR_SEMI_IMPLICIT_EULER (velocities first, then yaw and position from the new
    velocities; global error O(h)). See docs/dynamics.md for measured errors. Semi-implicit
    Euler runs on the vectorised struct-of-arrays block path (``_step_soa``), which gives the
    same bits as the scalar kernels row by row; RK4 runs row by row.

    Args:
        s: (7, n) state rows x, y, yaw, vx, vy, r, delta (m, m, rad, m/s, m/s, rad/s, rad).
        p: (n, N_PARAMS) parameters. mu: (n,) friction. grade: (n,) grade angle (rad, uphill +).
        u: (3, n) controls, meaning set by ``input_mode`` (INPUT_*). active: (n,) bool.
        idx: (k,) int64 rows to advance. tyre: TYRE_*. integrator: INTEGRATOR_*.
        dt: step (s). dt_max: largest sub-step (s).

    Mutates: s.
    """
    n_sub = 1
    if dt_max > 0.0 and dt > dt_max:
        n_sub = math.ceil(dt / dt_max - 1e-9)  # a quotient rounded just above an integer
    h = dt / n_sub
    if integrator == INTEGRATOR_SEMI_IMPLICIT_EULER:
        _step_soa(s, p, mu, grade, u, active, idx, input_mode, tyre, n_sub, h)
        return
    # RK4: blocks of rows stay in L1 for all sub-steps; inside a block, sub-steps are the outer loop so
    # that independent rows overlap in the CPU pipeline
    n_rows = idx.shape[0]
    for b0 in range(0, n_rows, BLOCK_ROWS):
        b1 = min(b0 + BLOCK_ROWS, n_rows)
        for _ in range(n_sub):
            for k in range(b0, b1):
                i = idx[k]
                if not active[i]:
                    continue
                x = s[0, i]
                y = s[1, i]
                yaw = s[2, i]
                vx = s[3, i]
                vy = s[4, i]
                r = s[5, i]
                dl = s[6, i]
                mu_i = mu[i]
                sg, cg = poly_sincos(grade[i])
                sy, cy = poly_sincos(yaw - TWO_PI * math.floor(yaw / TWO_PI + 0.5))
                thr, brk, tgt = pedals_from_targets(vx, dl, p, i, mu_i, cg, sg, u[0, i], u[1, i], u[2, i], input_mode)
                k1 = single_track_rhs(cy, sy, vx, vy, r, dl, p, i, mu_i, cg, sg, thr, brk, tgt, tyre, h)
                if integrator == INTEGRATOR_RK4:
                    hh = 0.5 * h
                    sn, cs = poly_sincos(hh * k1[2])
                    k2 = single_track_rhs(cy * cs - sy * sn, sy * cs + cy * sn, vx + hh * k1[3], vy + hh * k1[4],
                                          r + hh * k1[5], dl + hh * k1[6], p, i, mu_i, cg, sg, thr, brk, tgt, tyre, h)
                    sn, cs = poly_sincos(hh * k2[2])
                    k3 = single_track_rhs(cy * cs - sy * sn, sy * cs + cy * sn, vx + hh * k2[3], vy + hh * k2[4],
                                          r + hh * k2[5], dl + hh * k2[6], p, i, mu_i, cg, sg, thr, brk, tgt, tyre, h)
                    sn, cs = poly_sincos(h * k3[2])
                    k4 = single_track_rhs(cy * cs - sy * sn, sy * cs + cy * sn, vx + h * k3[3], vy + h * k3[4],
                                          r + h * k3[5], dl + h * k3[6], p, i, mu_i, cg, sg, thr, brk, tgt, tyre, h)
                    h6 = h / 6.0
                    x += h6 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0])
                    y += h6 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1])
                    yaw += h6 * (k1[2] + 2.0 * k2[2] + 2.0 * k3[2] + k4[2])
                    vx += h6 * (k1[3] + 2.0 * k2[3] + 2.0 * k3[3] + k4[3])
                    vy += h6 * (k1[4] + 2.0 * k2[4] + 2.0 * k3[4] + k4[4])
                    r += h6 * (k1[5] + 2.0 * k2[5] + 2.0 * k3[5] + k4[5])
                    dl += h6 * (k1[6] + 2.0 * k2[6] + 2.0 * k3[6] + k4[6])
                dmax = p[i, P_MAX_STEER]
                s[0, i] = x
                s[1, i] = y
                s[2, i] = yaw - TWO_PI * math.floor(yaw / TWO_PI + 0.5)  # wrapped to [-pi, pi)
                s[3, i] = vx
                s[4, i] = vy
                s[5, i] = r
                s[6, i] = _clip(dl, -dmax, dmax)


# ---------------------------------------------------------------- CommonRoad convention


@stage
def cr_steering_constraint(delta, v_delta, p, i):  # pragma: no cover - compiled
    """CommonRoad steering constraints (Althoff and Wuersching 2020, eq. (4)): rate limits, stop at the lock."""
    dmax = p[i, P_MAX_STEER]
    rate = p[i, P_MAX_STEER_RATE]
    if (delta <= -dmax and v_delta <= 0.0) or (delta >= dmax and v_delta >= 0.0):
        return 0.0
    return _clip(v_delta, -rate, rate)


@stage
def cr_accel_constraint(v, a, p, i):  # pragma: no cover - compiled
    """CommonRoad acceleration constraints (eq. (5)): a_max, power limit a_max v_sw / v above v_sw, speed range."""
    a_max = p[i, P_CR_AMAX]
    vsw = p[i, P_CR_VSWITCH]
    pos = a_max * vsw / v if v > vsw else a_max
    if (v <= p[i, P_CR_VMIN] and a <= 0.0) or (v >= p[i, P_MAX_SPEED] and a >= 0.0):
        return 0.0
    if a <= -a_max:
        return -a_max
    if a >= pos:
        return pos
    return a


@stage
def cr_ks_rhs(s0, s1, s2, s3, s4, p, i, u0, u1):  # pragma: no cover - compiled
    """CommonRoad KS model (section 5), rear-axle reference, state (x, y, delta, v, psi), inputs (v_delta, a).

    x' = v cos psi, y' = v sin psi, delta' = v_delta, v' = a, psi' = v tan(delta) / l_wb.
    """
    vd = cr_steering_constraint(s2, u0, p, i)
    a = cr_accel_constraint(s3, u1, p, i)
    wb = p[i, P_LF] + p[i, P_LR]
    return s3 * math.cos(s4), s3 * math.sin(s4), vd, a, s3 / wb * math.tan(s2)


@stage
def cr_st_rhs(s0, s1, s2, s3, s4, s5, s6, p, i, mu, u0, u1):  # pragma: no cover - compiled
    """CommonRoad ST model (section 7), CoG reference, state (x, y, delta, v, psi, psi', beta), inputs (v_delta, a).

    Linear tyres with loads including longitudinal transfer, F_zf = m (g l_r - a h) / L:
        psi'' = mu m / (I L) [ -(l_f^2 C_f F_f + l_r^2 C_r F_r) psi' / v + (l_r C_r F_r - l_f C_f F_f) beta
                               + l_f C_f F_f delta ]  with F_f = g l_r - a h, F_r = g l_f + a h
        beta' = (mu / (v^2 L) (C_r F_r l_r - C_f F_f l_f) - 1) psi' - mu / (v L) (C_r F_r + C_f F_f) beta
                + mu / (v L) C_f F_f delta
    For |v| < 0.1 m/s the kinematic model at the CoG replaces it (eqs. of section 7, low-speed switch).
    """
    vd = cr_steering_constraint(s2, u0, p, i)
    a = cr_accel_constraint(s3, u1, p, i)
    lf = p[i, P_LF]
    lr = p[i, P_LR]
    wb = lf + lr
    if abs(s3) < 0.1:
        td = math.tan(s2)
        beta_k = math.atan(td * lr / wb)
        cd = math.cos(s2)
        d_beta = (lr * vd) / (wb * cd * cd * (1.0 + (td * td * lr / wb) ** 2))
        dd_psi = (a * math.cos(s6) * td - s3 * math.sin(s6) * d_beta * td + s3 * math.cos(s6) * vd / (cd * cd)) / wb
        return (s3 * math.cos(beta_k + s4), s3 * math.sin(beta_k + s4), vd, a,
                s3 * math.cos(beta_k) * td / wb, dd_psi, d_beta)
    m = p[i, P_MASS]
    izz = p[i, P_IZZ]
    hh = p[i, P_HCG]
    cf = p[i, P_CSF] * (G * lr - a * hh)
    cr = p[i, P_CSR] * (G * lf + a * hh)
    k = mu * m / (izz * wb)
    dd_psi = k * (-(lf * lf * cf + lr * lr * cr) * s5 / s3 + (lr * cr - lf * cf) * s6 + lf * cf * s2)
    d_beta = ((mu / (s3 * s3 * wb) * (cr * lr - cf * lf) - 1.0) * s5
              - mu / (s3 * wb) * (cr + cf) * s6 + mu / (s3 * wb) * cf * s2)
    return s3 * math.cos(s6 + s4), s3 * math.sin(s6 + s4), vd, a, s5, dd_psi, d_beta


@stage
def _cr_rhs(model, s, p, i, mu, u0, u1, out):  # pragma: no cover - compiled
    if model == MODEL_CR_KS:
        f = cr_ks_rhs(s[0], s[1], s[2], s[3], s[4], p, i, u0, u1)
        for j in range(5):
            out[j] = f[j]
    else:
        g = cr_st_rhs(s[0], s[1], s[2], s[3], s[4], s[5], s[6], p, i, mu, u0, u1)
        for j in range(7):
            out[j] = g[j]


@stage
def step_commonroad(model, s, p, mu, u, active, idx, integrator, dt, n_sub, scratch):  # pragma: no cover
    """Advance CommonRoad KS (5 states) or ST (7 states) rows by ``dt`` in ``n_sub`` equal sub-steps.

    State rows follow CommonRoad's order: KS (x, y, delta, v, psi) at the rear axle, ST
    (x, y, delta, v, psi, psi', beta) at the CoG; inputs are held over the step and pass
    CommonRoad's steering and acceleration constraints inside the right-hand side.

    Args:
        model: MODEL_CR_KS or MODEL_CR_ST. s: (n_state, n) state, mutated. p: (n, N_PARAMS).
        mu: (n,) friction (CommonRoad uses p_dy1). u: (2, n) steering velocity (rad/s),
        longitudinal acceleration (m/s^2). active: (n,) bool. idx: (k,) int64 rows.
        integrator: INTEGRATOR_RK4 or INTEGRATOR_EULER. dt: step (s). n_sub: sub-steps.
        scratch: (6, n_state) float64 work buffer.

    Mutates: s, scratch.
    """
    ns = s.shape[0]
    h = dt / n_sub
    x0 = scratch[0]
    xt = scratch[1]
    k1 = scratch[2]
    k2 = scratch[3]
    k3 = scratch[4]
    k4 = scratch[5]
    for kk in range(idx.shape[0]):
        i = idx[kk]
        if not active[i]:
            continue
        for j in range(ns):
            x0[j] = s[j, i]
        for _ in range(n_sub):
            _cr_rhs(model, x0, p, i, mu[i], u[0, i], u[1, i], k1)
            if integrator == INTEGRATOR_RK4:
                for j in range(ns):
                    xt[j] = x0[j] + 0.5 * h * k1[j]
                _cr_rhs(model, xt, p, i, mu[i], u[0, i], u[1, i], k2)
                for j in range(ns):
                    xt[j] = x0[j] + 0.5 * h * k2[j]
                _cr_rhs(model, xt, p, i, mu[i], u[0, i], u[1, i], k3)
                for j in range(ns):
                    xt[j] = x0[j] + h * k3[j]
                _cr_rhs(model, xt, p, i, mu[i], u[0, i], u[1, i], k4)
                for j in range(ns):
                    x0[j] = x0[j] + h / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
            else:
                for j in range(ns):
                    x0[j] = x0[j] + h * k1[j]
        for j in range(ns):
            s[j, i] = x0[j]
# fmt: on
