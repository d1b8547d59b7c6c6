"""Pedestrian and cyclist motion: a unicycle with speed, acceleration and turn-rate limits, batched."""

from __future__ import annotations

import math

from simcore._jit import kernel
from simcore.dynamics.kinematic_kernels import advance_arc


@kernel
def step_walker(
    x,
    y,
    yaw,
    speed,
    active,
    idx,
    max_speed,
    max_accel,
    max_decel,
    max_turn_rate,
    min_turn_radius,
    ctrl_speed,
    ctrl_yaw,
    dt,
):  # pragma: no cover - compiled
    """Advance pedestrians or cyclists (unicycle model) by ``dt`` towards a target speed and heading.

    Frame and reference point: ENU world frame; (x, y) is the body centre (pedestrian) or the
    rear-wheel contact point (cyclist), yaw the heading (rad, CCW from +x).

    Forward dynamics over one step, the targets held:
        v'     = v + clip(clip(v*, 0, v_max) - v, -b dt, a dt)
        w_max  = min(turn_rate_max, v_mean / R_min)        (R_min = 0: no radius limit)
        dpsi   = clip(wrap(psi* - psi), -w_max dt, w_max dt)
        (x, y, psi) advance along the circular arc of length d = (v + v') dt / 2 and turn dpsi
    (constant acceleration and constant turn rate over the step; exact arc via ``advance_arc``).
    Pedestrians use R_min = 0 (turn on the spot); cyclists a minimum radius from their lock.
    Source: the unicycle model of LaValle, "Planning Algorithms", section 13.1.2.

    Args:
        x, y, yaw, speed: (n,) state (m, m, rad, m/s). active: (n,) bool. idx: (k,) int64 rows.
        max_speed (m/s), max_accel, max_decel (m/s^2, positive), max_turn_rate (rad/s),
        min_turn_radius (m): (n,) limits.
        ctrl_speed: (n,) target speed (m/s); NaN stops. ctrl_yaw: (n,) target heading (rad); NaN holds.
        dt: step (s).

    Mutates: x, y, yaw, speed.
    """
    for k in range(idx.shape[0]):
        i = idx[k]
        if not active[i]:
            continue
        v0 = speed[i]
        vt = ctrl_speed[i]
        if vt != vt:
            vt = 0.0
        vt = min(max(vt, 0.0), max_speed[i])
        v1 = v0 + min(max(vt - v0, -max_decel[i] * dt), max_accel[i] * dt)
        v1 = max(v1, 0.0)
        dist = 0.5 * (v0 + v1) * dt
        w_max = max_turn_rate[i]
        if min_turn_radius[i] > 0.0:
            w_max = min(w_max, 0.5 * (v0 + v1) / min_turn_radius[i])
        target = ctrl_yaw[i]
        dy = target - yaw[i]
        err = 0.0 if target != target else math.atan2(math.sin(dy), math.cos(dy))
        dpsi = min(max(err, -w_max * dt), w_max * dt)
        if dist > 0.0:
            nx, ny, nyaw = advance_arc(x[i], y[i], yaw[i], dist, dpsi / dist)
        else:
            nx, ny, nyaw = x[i], y[i], yaw[i] + dpsi
        x[i] = nx
        y[i] = ny
        yaw[i] = math.atan2(math.sin(nyaw), math.cos(nyaw))
        speed[i] = v1
