"""Kernels of the cueing filters: banks of discrete SISO filters and the classical washout step.

Frames: vehicle and platform body frame x forward, y left, z up (SI units). Platform angles are
roll (about x), pitch (about y, positive = nose down) and yaw (about z), R = Rz(yaw) Ry(pitch)
Rx(roll). A platform at roll phi and pitch theta presents the seated driver the gravity specific
force g (-sin(theta), cos(theta) sin(phi), cos(theta) cos(phi)), which tilt coordination uses to
fake sustained longitudinal and lateral acceleration.
"""

from __future__ import annotations

import math

from simcore._jit import kernel

#: Standard gravity (m/s^2), ISO 80000-3.
G = 9.80665

# Channel rows of the classical washout bank (see ``classical_step``).
CH_X, CH_Y, CH_Z = 0, 1, 2  # translational: scaled specific force less gravity -> position (m)
CH_LPX, CH_LPY = 3, 4  # tilt coordination: scaled f_x, f_y -> low-passed (m/s^2)
CH_ROLL, CH_PITCH, CH_YAW = 5, 6, 7  # rotational: scaled angular rate -> angle (rad)
N_CHANNELS = 8


@kernel
def bank_step(a, b, c, d, x, u, y, tmp):  # pragma: no cover - compiled
    """One step of m discrete SISO filters: y = C x + D u, then x <- A x + B u.

    Args:
        a: (m, N, N). b, c: (m, N). d: (m,). x: (m, N) states. u: (m,) inputs.
        y: (m,) outputs. tmp: (N,) scratch.

    Mutates: x, y, tmp.
    """
    m, n = x.shape
    for k in range(m):
        acc = d[k] * u[k]
        for i in range(n):
            acc += c[k, i] * x[k, i]
        y[k] = acc
        for i in range(n):
            s = b[k, i] * u[k]
            for j in range(n):
                s += a[k, i, j] * x[k, j]
            tmp[i] = s
        for i in range(n):
            x[k, i] = tmp[i]


@kernel
def bank_run(a, b, c, d, x, u, out, tmp):  # pragma: no cover - compiled
    """``bank_step`` over a whole input sequence u (T, m) -> outputs out (T, m), from state x.

    Mutates: x, out, tmp.
    """
    for t in range(u.shape[0]):
        bank_step(a, b, c, d, x, u[t], out[t], tmp)


@kernel
def rate_limit(value, target, max_step):  # pragma: no cover - compiled
    """``value`` moved toward ``target`` by at most ``max_step`` (>= 0)."""
    return value + min(max(target - value, -max_step), max_step)


@kernel
def tilt_track(tilt, rate, target, max_rate, max_accel, dt):  # pragma: no cover - compiled
    """New (tilt, rate) tracking ``target`` with |rate| <= max_rate and |d rate / dt| <= max_accel.

    The wanted rate follows the time-optimal braking curve sqrt(2 max_accel |error|) toward the
    target (so the tilt arrives without overshoot, then dithers by about max_accel dt^2), clipped
    to max_rate; the rate moves toward it by at most max_accel dt; the tilt integrates the rate.
    A smooth tilt rate keeps the tangential acceleration at the head (angular acceleration times
    head height) small.
    """
    e = target - tilt
    want = min(math.sqrt(2.0 * max_accel * abs(e)), max_rate)
    want = want if e >= 0.0 else -want
    rate = rate_limit(rate, want, max_accel * dt)
    return tilt + rate * dt, rate


@kernel
def classical_step(
    a, b, c, d, x, u, y, tmp, f, w, k_t, k_tilt, k_r, tilt, max_tilt_rate, max_tilt_accel, max_tilt, dt, pose
):  # pragma: no cover - compiled
    """One step of the classical washout (Reid and Nahon 1985; Conrad and Schmidt 1970).

    Translational channel per axis: p(s) = HP3(s) / s^2 * k_t f, with the third-order high pass
    HP3(s) = s^3 / ((s^2 + 2 zeta w s + w^2)(s + w_b)), so a sustained input returns the platform
    to neutral; the z input is f_z - g. Tilt coordination: f_x, f_y scaled by k_tilt through a
    second-order low pass, turned into target angles pitch = -asin(f_x / g), roll = asin(f_y / g)
    (clipped to +-``max_tilt``), tracked at no more than ``max_tilt_rate`` (rad/s, below the
    semicircular canals' threshold) and ``max_tilt_accel`` (rad/s^2), see ``tilt_track``.
    Rotational channel per axis: angle(s) = HP2(s) / s * k_r w.

    Args:
        a, b, c, d, x: the washout bank (rows ``CH_*``; see ``lti.FilterBank``). u, y: (8,) scratch
        inputs and outputs of the bank. tmp: (N,) scratch. f: (3,) specific force at the head
        (m/s^2, body frame, +g on z at rest). w: (3,) angular rate (rad/s, body frame).
        k_t, k_r: (3,) translational and rotational gains. k_tilt: tilt-coordination gain.
        tilt: (4,) current tilt roll, pitch (rad) and their rates (rad/s). max_tilt_rate: rad/s.
        max_tilt_accel: rad/s^2. max_tilt: rad. dt: s.
        pose: (6,) out x, y, z (m), roll, pitch, yaw (rad) of the platform wanted.

    Mutates: x, u, y, tmp, tilt, pose.
    """
    u[CH_X] = k_t[0] * f[0]
    u[CH_Y] = k_t[1] * f[1]
    u[CH_Z] = k_t[2] * (f[2] - G)
    u[CH_LPX] = k_tilt * f[0]
    u[CH_LPY] = k_tilt * f[1]
    u[CH_ROLL] = k_r[0] * w[0]
    u[CH_PITCH] = k_r[1] * w[1]
    u[CH_YAW] = k_r[2] * w[2]
    bank_step(a, b, c, d, x, u, y, tmp)
    s_max = math.sin(max_tilt)
    roll_t = math.asin(min(max(y[CH_LPY] / G, -s_max), s_max))
    pitch_t = -math.asin(min(max(y[CH_LPX] / G, -s_max), s_max))
    tilt[0], tilt[2] = tilt_track(tilt[0], tilt[2], roll_t, max_tilt_rate, max_tilt_accel, dt)
    tilt[1], tilt[3] = tilt_track(tilt[1], tilt[3], pitch_t, max_tilt_rate, max_tilt_accel, dt)
    pose[0] = y[CH_X]
    pose[1] = y[CH_Y]
    pose[2] = y[CH_Z]
    pose[3] = y[CH_ROLL] + tilt[0]
    pose[4] = y[CH_PITCH] + tilt[1]
    pose[5] = y[CH_YAW]
