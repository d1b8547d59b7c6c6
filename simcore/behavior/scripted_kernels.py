"""Rows moved by a script: waypoint trajectories and replayed logs, interpolated in time."""

from __future__ import annotations

import math

from simcore._jit import stage

#: tr_flags bits: segments at constant acceleration between waypoint speeds (else constant speed),
#: yaw given per sample (else the segment heading), leave the simulation at the last sample.
TR_CONST_ACCEL = 1
TR_YAW_GIVEN = 2
TR_REMOVE_AT_END = 4


@stage
def scripted_pose(tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v, flags, i, t):  # pragma: no cover - compiled
    """(x, y, yaw, speed) of scripted row i at time t (s); held at the first / last sample outside.

    Between samples k and k+1 (times t_k, t_k+1, positions p_k, p_k+1, straight segment of length L):
    with TR_CONST_ACCEL the distance covered is v_k tau + a tau^2 / 2 with a = (v_k+1 - v_k) / (t_k+1 - t_k)
    (so the waypoint speeds hold and the times were made to match, see ``scenario.build``); otherwise
    L tau / (t_k+1 - t_k) at the constant speed L / (t_k+1 - t_k). Yaw: given samples interpolated the
    short way round (TR_YAW_GIVEN), else the segment heading; speed: given samples interpolated
    (TR_YAW_GIVEN, logs) or the kinematic speed of the segment.
    """
    a = tr_start[i]
    b = tr_start[i + 1]
    if t <= tr_t[a] or b - a == 1:
        k = a
        tau = 0.0
    elif t >= tr_t[b - 1]:
        k = b - 2
        tau = tr_t[b - 1] - tr_t[b - 2]
    else:
        k = a
        while tr_t[k + 1] <= t:
            k += 1
        tau = t - tr_t[k]
    if b - a == 1:
        return tr_x[a], tr_y[a], tr_yaw[a], tr_v[a]
    dur = tr_t[k + 1] - tr_t[k]
    dx = tr_x[k + 1] - tr_x[k]
    dy = tr_y[k + 1] - tr_y[k]
    length = math.sqrt(dx * dx + dy * dy)
    if flags & TR_CONST_ACCEL:
        acc = (tr_v[k + 1] - tr_v[k]) / dur
        dist = tr_v[k] * tau + 0.5 * acc * tau * tau
        v = tr_v[k] + acc * tau
        u = dist / length if length > 0.0 else 0.0
    else:
        u = tau / dur
        v = length / dur
    px = tr_x[k] + u * dx
    py = tr_y[k] + u * dy
    if flags & TR_YAW_GIVEN:
        w = tau / dur
        d = tr_yaw[k + 1] - tr_yaw[k]
        d = math.atan2(math.sin(d), math.cos(d))
        yaw = tr_yaw[k] + w * d
        yaw = math.atan2(math.sin(yaw), math.cos(yaw))
        v = tr_v[k] + w * (tr_v[k + 1] - tr_v[k])
    else:
        yaw = math.atan2(dy, dx) if length > 0.0 else tr_yaw[k]
    if t >= tr_t[b - 1] and not (flags & TR_YAW_GIVEN):
        v = tr_v[b - 1] if flags & TR_CONST_ACCEL else 0.0
    return px, py, yaw, v


@stage
def step_scripted(
    t, dt, idx, x, y, yaw, speed, accel, active, done, tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v, tr_flags
):  # pragma: no cover - compiled
    """Place every scripted row in ``idx`` at its pose for time ``t`` (s, the end of the step).

    Mutates x, y, yaw, speed, accel ((speed' - speed) / dt); rows with TR_REMOVE_AT_END leave
    (active False, done True) once t is past their last sample.
    """
    for q in range(idx.shape[0]):
        i = idx[q]
        if not active[i]:
            continue
        if tr_flags[i] & TR_REMOVE_AT_END and t > tr_t[tr_start[i + 1] - 1] + 1e-9:
            active[i] = False
            done[i] = True
            continue
        px, py, h, v = scripted_pose(tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v, tr_flags[i], i, t)
        accel[i] = (v - speed[i]) / dt
        x[i] = px
        y[i] = py
        yaw[i] = h
        speed[i] = v
