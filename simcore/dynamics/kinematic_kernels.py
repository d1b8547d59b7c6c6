"""Kinematic single-track (bicycle) model with actuator limits, batched over vehicles."""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel

#: Below this heading change per step (rad) the arc is integrated with its second-order
#: series, which avoids dividing by a vanishing curvature; the series error is < 1e-16 m.
_SMALL_TURN_RAD = 1e-9


@kernel
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


@kernel
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
        step_kinematic(x, y, yaw, speed, steer, accel, active, idx, *params, ua, ud, dt)
        out[t + 1] = [x[0], y[0], yaw[0], speed[0], steer[0]]
    return out
