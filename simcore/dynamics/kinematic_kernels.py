"""Kinematic single-track (bicycle) model with actuator limits, batched over vehicles."""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import inline_stage, stage

#: Below this heading change per step (rad) the arc is integrated with its second-order
#: series, which avoids dividing by a vanishing curvature; the series error is < 1e-16 m.
_SMALL_TURN_RAD = 1e-9


@stage
def advance_arc(x, y, yaw, distance, curvature):  # pragma: no cover - compiled
    """Move a point ``distance`` (m) along a circular arc of ``curvature`` (1/m).

    Exact for constant curvature: with dpsi = kappa * d,
        x' = x + (sin(psi + dpsi) - sin(psi)) / kappa
        y' = y - (cos(psi + dpsi) - cos(psi)) / kappa
    and the straight line as kappa -> 0. Returns (x', y', psi').
    """
    dpsi = curvature * distance
    if abs(dpsi) < _SMALL_TURN_RAD:
        mid = yaw + 0.5 * dpsi
        return x + distance * math.cos(mid), y + distance * math.sin(mid), yaw + dpsi
    nx = x + (math.sin(yaw + dpsi) - math.sin(yaw)) / curvature
    ny = y - (math.cos(yaw + dpsi) - math.cos(yaw)) / curvature
    return nx, ny, yaw + dpsi


@inline_stage
def step_kinematic(
    x,
    y,
    yaw,
    speed,
    steer,
    accel,
    active,
    idx,
    wheelbase,
    max_steer,
    max_steer_rate,
    max_accel,
    max_decel,
    max_speed,
    ctrl_accel,
    ctrl_steer,
    dt,
):  # pragma: no cover - compiled
    """Advance the kinematic bicycle model by ``dt`` for rows ``idx``.

    Frame and reference point: ENU world frame; (x, y) is the rear-axle centre, yaw the
    heading (rad, CCW from x), steer the front road-wheel angle (rad, left positive).

    Forward dynamics over one step, with the controls held:
        delta' = delta + clip(clip(u_delta, -dmax, dmax) - delta, -rate*dt, rate*dt)
        a      = clip(u_a, -max_decel, max_accel), and v stays in [0, max_speed]
        kappa  = tan(delta') / L                          (path curvature, 1/m)
        d      = v dt + a dt^2 / 2                         (distance, exact for constant a)
        (x, y, yaw) advance along the arc of curvature kappa by d (exact, ``advance_arc``).
    When braking reaches standstill inside the step, the vehicle stops there (d = v^2/(2|a|))
    instead of reversing.

    Args:
        x, y, yaw, speed, steer, accel: (n,) state; accel stores the applied acceleration.
        active: (n,) bool; inactive rows are skipped.
        idx: (m,) int64 rows to advance.
        wheelbase: (n,) m. max_steer: (n,) rad. max_steer_rate: (n,) rad/s.
        max_accel, max_decel: (n,) m/s^2 (both positive). max_speed: (n,) m/s.
        ctrl_accel: (n,) commanded longitudinal acceleration (m/s^2).
        ctrl_steer: (n,) commanded road-wheel angle (rad).
        dt: step (s).

    Mutates: x, y, yaw, speed, steer, accel.
    """
    for k in range(idx.shape[0]):
        i = idx[k]
        if not active[i]:
            continue
        u_d = ctrl_steer[i]
        u_a = ctrl_accel[i]
        if u_d != u_d:
            u_d = steer[i]
        if u_a != u_a:
            u_a = -max_decel[i]
        target = min(max(u_d, -max_steer[i]), max_steer[i])
        dmax = max_steer_rate[i] * dt
        d_new = steer[i] + min(max(target - steer[i], -dmax), dmax)
        a = min(max(u_a, -max_decel[i]), max_accel[i])
        v0 = speed[i]
        v1 = v0 + a * dt
        if v1 < 0.0:
            dist = v0 * v0 / (2.0 * -a) if a < 0.0 else 0.0
            v1 = 0.0
        elif v1 > max_speed[i]:
            v1 = max_speed[i]
            dist = 0.5 * (v0 + v1) * dt
        else:
            dist = v0 * dt + 0.5 * a * dt * dt
        kappa = math.tan(d_new) / wheelbase[i]
        nx, ny, nyaw = advance_arc(x[i], y[i], yaw[i], dist, kappa)
        x[i] = nx
        y[i] = ny
        yaw[i] = math.atan2(math.sin(nyaw), math.cos(nyaw))
        accel[i] = (v1 - v0) / dt
        speed[i] = v1
        steer[i] = d_new


def rollout_kinematic(
    state0: tuple[float, float, float, float, float],
    controls: np.ndarray,
    dt: float,
    *,
    wheelbase: float,
    max_steer: float = 0.7,
    max_steer_rate: float = 1e9,
    max_accel: float = 1e9,
    max_decel: float = 1e9,
    max_speed: float = 1e9,
) -> np.ndarray:
    """Roll one vehicle forward: returns (T+1, 5) rows of (x, y, yaw, speed, steer).

    ``state0`` is (x, y, yaw, speed, steer) at the rear axle; ``controls`` is (T, 2) of
    (acceleration m/s^2, road-wheel angle rad). Convenience wrapper over ``step_kinematic``.
    """
    arr = [np.array([v], dtype=np.float64) for v in state0]
    x, y, yaw, speed, steer = arr
    accel = np.zeros(1)
    active = np.ones(1, dtype=np.bool_)
    idx = np.zeros(1, dtype=np.int64)
    params = [
        np.array([p], dtype=np.float64) for p in (wheelbase, max_steer, max_steer_rate, max_accel, max_decel, max_speed)
    ]
    ua, ud = np.zeros(1), np.zeros(1)
    out = np.empty((controls.shape[0] + 1, 5))
    out[0] = [x[0], y[0], yaw[0], speed[0], steer[0]]
    for t in range(controls.shape[0]):
        ua[0], ud[0] = controls[t]
        step_kinematic(x, y, yaw, speed, steer, accel, active, idx, *params, ua, ud, dt)  # type: ignore[call-arg]
        out[t + 1] = [x[0], y[0], yaw[0], speed[0], steer[0]]
    return out


@stage
def _sin_cos_small(t):  # pragma: no cover - compiled
    """sin(t), cos(t), sin(t)/t and (1 - cos t)/t by Taylor polynomials; error < 1e-12 for |t| <= 0.5."""
    t2 = t * t
    # sin(t)/t = 1 - t^2/3! + t^4/5! - t^6/7! + t^8/9! - t^10/11!
    s1 = 1.0 - t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0 * (1.0 - t2 / 110.0))))
    # (1 - cos t)/t^2 = 1/2! - t^2/4! + t^4/6! - t^6/8! + t^8/10! - t^10/12!
    c2 = 0.5 * (1.0 - t2 / 12.0 * (1.0 - t2 / 30.0 * (1.0 - t2 / 56.0 * (1.0 - t2 / 90.0 * (1.0 - t2 / 132.0)))))
    return t * s1, 1.0 - t2 * c2, s1, t * c2


# fmt: off
@stage
def step_kinematic_fast(x, y, hx, hy, speed, curv, active, max_curv, max_curv_rate, max_accel, max_decel,
                        max_speed, ctrl_accel, ctrl_curv, dt, n_steps):  # pragma: no cover - compiled
    """Advance ALL rows of the kinematic bicycle by ``n_steps`` steps of ``dt``, trig-free.

    Same model as ``step_kinematic`` (rear-axle reference, ENU frame, exact constant-curvature
    arc, stop without reversing) but with heading as a unit vector (hx, hy) = (cos yaw, sin yaw)
    and steering as path curvature kappa = tan(delta) / L, so the loop has no transcendental
    calls and vectorises:
        kappa' = kappa + clip(clip(u_kappa, -kmax, kmax) - kappa, -kdot dt, kdot dt)
        v'     = clip(v + a dt, 0, v_max), d = (v + v') / 2 * t_move,  t_move = min(dt, v / -a) if a < 0 else dt
        th     = kappa' d,  S = sin(th)/th, C = (1 - cos th)/th   (Taylor to th^10, |th| <= 0.5)
        x' = x + d (hx S - hy C),  y' = y + d (hy S + hx C)
        h' = R(th) h, then one Newton step of 1/sqrt towards |h'| = 1: h' *= (3 - |h'|^2) / 2
    Steering rate is limited in curvature (kdot, 1/(m s)), not in road-wheel angle.
    Rows with ``active`` false keep their state. Source: PERFORMANCE.md (trig-free kinematics).

    Args:
        x, y, hx, hy, speed, curv: (n,) state (m, m, -, -, m/s, 1/m). active: (n,) bool.
        max_curv (1/m), max_curv_rate (1/(m s)), max_accel, max_decel (m/s^2), max_speed (m/s): (n,).
        ctrl_accel (m/s^2), ctrl_curv (1/m): (n,) held for all steps (NaN: full brake / hold).
        dt: step (s). n_steps: number of steps.

    Mutates: x, y, hx, hy, speed, curv.
    """
    n = x.shape[0]
    for _ in range(n_steps):
        for i in range(n):
            ua = ctrl_accel[i]
            uk = ctrl_curv[i]
            ua = -max_decel[i] if ua != ua else ua
            uk = curv[i] if uk != uk else uk
            k0 = curv[i]
            tgt = min(max(uk, -max_curv[i]), max_curv[i])
            kr = max_curv_rate[i] * dt
            k1 = k0 + min(max(tgt - k0, -kr), kr)
            a = min(max(ua, -max_decel[i]), max_accel[i])
            v0 = speed[i]
            v1 = min(max(v0 + a * dt, 0.0), max_speed[i])
            t_move = min(dt, v0 / max(-a, 1e-300)) if a < 0.0 else dt
            d = 0.5 * (v0 + v1) * t_move
            th = k1 * d
            sn, cs, s1, c1 = _sin_cos_small(th)
            cx = hx[i]
            cy = hy[i]
            nx = x[i] + d * (cx * s1 - cy * c1)
            ny = y[i] + d * (cy * s1 + cx * c1)
            rx = cx * cs - cy * sn
            ry = cy * cs + cx * sn
            f = 0.5 * (3.0 - (rx * rx + ry * ry))
            on = active[i]
            x[i] = nx if on else x[i]
            y[i] = ny if on else y[i]
            hx[i] = rx * f if on else cx
            hy[i] = ry * f if on else cy
            speed[i] = v1 if on else v0
            curv[i] = k1 if on else k0
# fmt: on
