"""Pedestrians walking their path (sidewalk -> crosswalk -> sidewalk), obeying walk signals."""

from __future__ import annotations

from simcore._jit import stage
from simcore.behavior.route_kernels import route_point

GREEN = 2
#: A pedestrian this far (m) or less before a crosswalk waits there for the walk signal.
KERB_STANDOFF_M = 0.3


@stage
def step_pedestrians(
    t,
    idx,
    x,
    y,
    yaw,
    speed,
    active,
    done,
    inst,
    started,
    start_time,
    rt_start,
    rx,
    ry,
    rs,
    progress,
    cw_start,
    cw_s0,
    cw_id,
    cw_signal,
    sig_state,
    desired_speed,
    max_accel,
    max_decel,
    obey_signal,
    dt,
):  # pragma: no cover - compiled
    """Walk pedestrians along their path for one step.

    A walker accelerates towards its desired speed (m/s) within max_accel / max_decel
    (m/s^2); before a crosswalk it has not entered, it stops at the kerb unless the
    crosswalk's pedestrian signal shows GREEN (walk) or it ignores signals. Once on the
    crosswalk it keeps walking. Position and yaw follow the path exactly (ENU, m, rad).
    Rows with ``started`` False, or before their ``start_time`` (s), stand still.

    Mutates: x, y, yaw, speed, progress. A walker at its path end is removed
    (active False, done True).
    """
    for q in range(idx.shape[0]):
        i = idx[q]
        if not active[i]:
            continue
        a = rt_start[i]
        b = rt_start[i + 1]
        target = desired_speed[i] if started[i] and t >= start_time[i] else 0.0
        limit = rs[b - 1]
        for m in range(cw_start[i], cw_start[i + 1]):
            entry = cw_s0[m] - KERB_STANDOFF_M
            if progress[i] <= entry + 1e-9:
                sg = cw_signal[cw_id[m]]
                walk = sg < 0 or sig_state[inst[i], sg] == GREEN or not obey_signal[i]
                if not walk:
                    limit = min(limit, entry)
                break
        # Speed that still stops at the limit with max_decel: v^2 <= 2 b d.
        room = max(limit - progress[i], 0.0)
        v_stop = (2.0 * max_decel[i] * room) ** 0.5
        target = min(target, v_stop)
        dv = target - speed[i]
        dv = min(max(dv, -max_decel[i] * dt), max_accel[i] * dt)
        v1 = max(speed[i] + dv, 0.0)
        s1 = progress[i] + 0.5 * (speed[i] + v1) * dt
        if s1 > limit and limit < rs[b - 1]:
            s1 = max(limit, progress[i])
            v1 = 0.0
        speed[i] = v1
        progress[i] = s1
        px, py, h = route_point(rx, ry, rs, a, b, s1)
        x[i] = px
        y[i] = py
        if v1 > 0.05:
            yaw[i] = h
        if s1 >= rs[b - 1] - 1e-6:
            active[i] = False
            done[i] = True
