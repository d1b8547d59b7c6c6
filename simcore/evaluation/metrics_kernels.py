"""Per-step evaluation kernels: progress, off-road, red lights, ego criticality and comfort."""

from __future__ import annotations

import math

from simcore._jit import inline_stage, kernel, stage
from simcore.behavior.driver_kernels import obstacle_on_path
from simcore.behavior.route_kernels import prefetch_route, route_index
from simcore.geometry.kernels import point_in_polygon
from simcore.road.frenet_kernels import on_drivable, project_on_polyline

EV_OFFROAD = 1
EV_RED_LIGHT = 2
EV_GOAL = 3
EV_ROUTE_DONE = 4
RED = 0

#: Slots of the ego metric accumulator array.
M_MIN_TTC = 0
M_MAX_DECEL = 1
M_MAX_ACCEL = 2
M_MAX_JERK = 3
M_MAX_LAT_ACCEL = 4
M_DISTANCE = 5
M_PREV_ACCEL = 6
M_MIN_GAP = 7
M_SPEED_SUM = 8
M_STEPS = 9
M_PREV_YAW = 10
M_MIN_THW = 11
M_MAX_DRAC = 12
M_MAX_YAW_RATE = 13
M_MAX_YAW_ACCEL = 14
M_PREV_YAW_RATE = 15
M_STEP_GAP = 16
M_WRONG_WAY_DIST = 17
M_WRONG_WAY = 18
M_WW_RUN = 19
M_MAX_WW_RUN = 20
M_SPEEDING_TIME = 21
M_OVERSPEED_INT = 22
M_MAX_OVERSPEED = 23
M_SPEEDING = 24
M_MAX_DEVIATION = 25
M_DEVIATED = 26
M_STILL_TIME = 27
M_MAX_STILL = 28
M_BLOCKED = 29
M_STOP_MIN_V = 30
M_STATIC_OBJ = 31
M_MIN_PET = 32
M_PREV_FRONT = 33
M_FIRST_IMPACT_T = 34
M_FIRST_IMPACT_V = 35
M_FIRST_IMPACT_ACTOR = 36
N_METRICS = 37

#: Time headway is only counted while the ego moves faster than this (m/s).
THW_MIN_SPEED_MPS = 1.0

#: Walking pedestrians whose position this far ahead (s) is on a crosswalk occupy it.
CROSSWALK_LOOK_S = 2.0
#: Time-to-collision is only counted below this horizon (s); above it the ego is not closing.
TTC_HORIZON_S = 30.0
#: How far ahead on its route the ego's time-to-collision looks (m).
TTC_LOOK_M = 150.0


def reset_metrics(metrics) -> None:
    """Initial values of the ego metric accumulator (minima at +inf, first-impact and state slots nan / -1)."""
    metrics[:] = 0.0
    for k in (M_MIN_TTC, M_MIN_GAP, M_MIN_THW, M_STOP_MIN_V, M_MIN_PET, M_STEP_GAP):
        metrics[k] = math.inf
    metrics[M_MAX_OVERSPEED] = -math.inf
    for k in (M_PREV_FRONT, M_FIRST_IMPACT_T, M_FIRST_IMPACT_V):
        metrics[k] = math.nan
    metrics[M_STATIC_OBJ] = -1.0
    metrics[M_FIRST_IMPACT_ACTOR] = -1.0


@stage
def emit_event(ev_kind, ev_a, ev_b, ev_value, n, kind, a, b, value):  # pragma: no cover - compiled
    """Write event (kind, a, b, value) at slot n if the buffers have room; return n + 1."""
    if n < ev_kind.shape[0]:
        ev_kind[n] = kind
        ev_a[n] = a
        ev_b[n] = b
        ev_value[n] = value
    return n + 1


@kernel
def crosswalk_discs(cw_x, cw_y, out_cx, out_cy, out_rad):  # pragma: no cover - compiled
    """Centre (mean of the 4 corners, m) and bounding radius (m) of every crosswalk polygon."""
    for c in range(cw_x.shape[0]):
        out_cx[c] = 0.25 * (cw_x[c, 0] + cw_x[c, 1] + cw_x[c, 2] + cw_x[c, 3])
        out_cy[c] = 0.25 * (cw_y[c, 0] + cw_y[c, 1] + cw_y[c, 2] + cw_y[c, 3])
        r = 0.0
        for k in range(4):
            r = max(r, math.hypot(cw_x[c, k] - out_cx[c], cw_y[c, k] - out_cy[c]))
        out_rad[c] = r


#: Padding (m) of both the crosswalk grid's disc boxes and a walker's query box: covers rounding, so
#: the cells a walker reads hold every crosswalk its reach can touch.
CW_GRID_PAD_M = 1e-3


# fmt: off
@kernel
def crosswalk_occupancy(
    ped_idx, x, y, yaw, speed, active, inst, cw_x, cw_y, cw_cx, cw_cy, cw_rad,
    cg_cell, cg_x0, cg_y0, cg_nx, cg_ny, cg_start, cg_items, margin, out_occ,
):  # pragma: no cover - compiled
    """out_occ[inst, c] = a pedestrian is on crosswalk c or about to step onto it.

    A pedestrian counts when its position, moved ``margin`` (m) towards the crosswalk's
    centre (a cheap growth of the convex polygon), lies inside, or when walking (> 0.2 m/s)
    the point it reaches in CROSSWALK_LOOK_S at its current velocity does. Drivers thus
    yield to walkers stepping off the kerb, not only to those already on the stripes.

    Only crosswalks near a walker are tested: ``cw_cx, cw_cy, cw_rad`` are their discs
    (``crosswalk_discs``), and the grid (cell ``cg_cell`` m, origin ``cg_x0, cg_y0``, ``cg_nx`` x
    ``cg_ny`` cells, CSR ``cg_start``/``cg_items`` by cell ``iy * cg_nx + ix``) lists every crosswalk
    whose disc box (padded by ``CW_GRID_PAD_M``) touches a cell. A walker reads the cells of its
    reach box, so each crosswalk the disc test below can accept is seen (some twice: the flag is
    idempotent), and the answer is the one of testing every crosswalk.
    """
    out_occ[:, :] = False
    if ped_idx.shape[0] == 0 or cw_x.shape[0] == 0:
        return
    for q in range(ped_idx.shape[0]):
        i = ped_idx[q]
        if not active[i]:
            continue
        walking = speed[i] > 0.2
        fx = x[i] + speed[i] * CROSSWALK_LOOK_S * math.cos(yaw[i])
        fy = y[i] + speed[i] * CROSSWALK_LOOK_S * math.sin(yaw[i])
        reach = max(margin, abs(speed[i]) * CROSSWALK_LOOK_S) + 1e-6
        box = reach + CW_GRID_PAD_M
        gx0 = (x[i] - box - cg_x0) / cg_cell
        gx1 = (x[i] + box - cg_x0) / cg_cell
        gy0 = (y[i] - box - cg_y0) / cg_cell
        gy1 = (y[i] + box - cg_y0) / cg_cell
        if not (gx1 >= 0.0 and gy1 >= 0.0 and gx0 < cg_nx and gy0 < cg_ny):
            continue  # outside every crosswalk's box (or not a finite position)
        ix0 = max(math.floor(gx0), 0)
        ix1 = min(math.floor(gx1), cg_nx - 1)
        iy0 = max(math.floor(gy0), 0)
        iy1 = min(math.floor(gy1), cg_ny - 1)
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                cell = iy * cg_nx + ix
                for m in range(cg_start[cell], cg_start[cell + 1]):
                    c = cg_items[m]
                    if out_occ[inst[i], c]:
                        continue
                    dx = cw_cx[c] - x[i]
                    dy = cw_cy[c] - y[i]
                    d = math.sqrt(dx * dx + dy * dy)
                    if d > cw_rad[c] + reach:
                        continue
                    px = x[i] + (dx / d * min(margin, d) if d > 0 else 0.0)
                    py = y[i] + (dy / d * min(margin, d) if d > 0 else 0.0)
                    if point_in_polygon(px, py, cw_x[c], cw_y[c]) or (
                        walking and point_in_polygon(fx, fy, cw_x[c], cw_y[c])
                    ):
                        out_occ[inst[i], c] = True
# fmt: on


# fmt: off
@inline_stage
def evaluate_step(
    t, dt, veh_idx, ego,
    x, y, yaw, speed, accel, active, done, inst, progress, lateral,
    length, width, rear_overhang, center_offset, stop_at_end,
    rt_start, rx, ry, rs, rk, road_half, st_start, stop_s, stop_sig, sig_state, goal_s,
    offroad, goal_flag,
    grid_cell, grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_seg, seg_ax, seg_ay, seg_bx, seg_by, seg_hw,
    metrics, ev_kind, ev_a, ev_b, ev_value, scoring,
):  # pragma: no cover - compiled
    """Evaluate all vehicles after the dynamics step; returns the number of events written.

    For every active vehicle: re-projects it onto its route (progress, lateral), flags
    crossing a stop line (front bumper) while its signal is RED, removes NPCs that reached
    their route end (ROUTE_DONE), flags the ego reaching its goal, and flags off-road onset
    (a box corner farther than half a lane width + margin from every driving lane;
    ``road_half`` (m) per route sample is that distance for the route's own lane, used to
    skip the grid test while the box stays inside its route's strip). For the ego it
    accumulates ``metrics`` (N_METRICS slots): min time-to-collision to the obstacle ahead
    on its route (s), peak deceleration / acceleration (m/s^2), peak |jerk| (m/s^3), peak
    lateral acceleration v * yaw rate (m/s^2), distance (m), minimum bumper gap (m), speed
    sum and step count (for the mean speed). With ``scoring`` False the ego metrics are left
    untouched (they only feed the run's scores); everything else is the same.

    Mutates: progress, lateral, active, done, offroad, goal_flag, metrics; writes events
    (kind, actor a, actor b, value) up to the buffers' capacity.
    """
    n_ev = 0
    for q in range(veh_idx.shape[0]):
        if q + 1 < veh_idx.shape[0]:  # the next vehicle's projection window (a cache hint only)
            n_i = veh_idx[q + 1]
            prefetch_route(rt_start, rs, n_i, progress[n_i] - 2.0, progress[n_i] + 8.0, rx, ry, rs)
            prefetch_route(rt_start, rs, n_i, progress[n_i], progress[n_i], rk, road_half, rk)
        i = veh_idx[q]
        if not active[i]:
            continue
        a = rt_start[i]
        b = rt_start[i + 1]
        old = progress[i]
        lo = route_index(rs, a, b, old - 2.0)
        hi = min(route_index(rs, a, b, old + speed[i] * dt + 5.0) + 2, b)
        s_new, t_new, _, _ = project_on_polyline(x[i], y[i], rx, ry, rs, lo, hi)
        progress[i] = s_new
        lateral[i] = t_new
        front = length[i] - rear_overhang[i]
        # Red light: front bumper crossed a stop line during this step while RED.
        for m in range(st_start[i], st_start[i + 1]):
            sg = stop_sig[m]
            if sg >= 0 and old + front < stop_s[m] <= s_new + front and sig_state[inst[i], sg] == RED:
                n_ev = emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_RED_LIGHT, i, sg, speed[i])
        if i != ego and not stop_at_end[i] and s_new + front + 0.5 >= rs[b - 1]:
            active[i] = False
            done[i] = True
            n_ev = emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_ROUTE_DONE, i, -1, rs[b - 1])
            continue
        if i == ego and not goal_flag[i] and s_new >= goal_s[i]:
            goal_flag[i] = True
            n_ev = emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_GOAL, i, -1, 1.0)
        # Off-road: any corner of the box outside the drivable area. Fast path: a box that
        # lies inside the strip of its own route (which runs on driving lanes) is on the road.
        c = math.cos(yaw[i])
        s = math.sin(yaw[i])
        k = route_index(rs, a, b, s_new)
        herr = yaw[i] - math.atan2(ry[k + 1] - ry[k], rx[k + 1] - rx[k])
        reach = max(front, rear_overhang[i])
        extent = abs(t_new) + reach * abs(math.sin(herr)) + 0.5 * width[i] * abs(math.cos(herr))
        extent += 0.5 * reach * reach * abs(rk[k])  # the strip bends under a curved route
        inside_strip = extent <= road_half[k] and s_new - rear_overhang[i] >= rs[a] and s_new + front <= rs[b - 1]
        off = False
        if not inside_strip:
            cx = x[i] + center_offset[i] * c
            cy = y[i] + center_offset[i] * s
            hl = 0.5 * length[i]
            hw = 0.5 * width[i]
            for sx in (-1.0, 1.0):
                for sy in (-1.0, 1.0):
                    px = cx + sx * hl * c - sy * hw * s
                    py = cy + sx * hl * s + sy * hw * c
                    if not on_drivable(px, py, grid_cell, grid_x0, grid_y0, grid_nx, grid_ny,
                                       cell_start, cell_seg, seg_ax, seg_ay, seg_bx, seg_by, seg_hw):
                        off = True
        if off and not offroad[i]:
            n_ev = emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_OFFROAD, i, -1, s_new)
        offroad[i] = off
    if scoring and ego >= 0 and active[ego]:
        accumulate_ego_metrics(
            ego, dt, x, y, yaw, speed, accel, active, inst, length, width, rear_overhang, center_offset,
            rt_start, rx, ry, rs, progress, metrics,
        )
    return n_ev


@stage
def accumulate_ego_metrics(
    e, dt, x, y, yaw, speed, accel, active, inst, length, width, rear_overhang, center_offset,
    rt_start, rx, ry, rs, progress, metrics,
):  # pragma: no cover - compiled
    """Fold one step of the ego into ``metrics`` (see ``evaluate_step`` for the slots).

    Time-to-collision: for every actor blocking the ego's route corridor within TTC_LOOK_M
    (``obstacle_on_path``), bumper gap / closing speed when closing, counted below
    TTC_HORIZON_S; time headway gap / v while v > THW_MIN_SPEED_MPS; DRAC closing^2 / (2 gap)
    (m/s^2, while the gap is positive); M_STEP_GAP the smallest gap this step.
    Yaw rate: wrapped heading change / dt; yaw acceleration: its change / dt. Lateral
    acceleration: speed times the yaw rate.
    """
    a = rt_start[e]
    b = rt_start[e + 1]
    v = speed[e]
    front_s = progress[e] + length[e] - rear_overhang[e]
    k0 = route_index(rs, a, b, progress[e])
    k1 = route_index(rs, a, b, progress[e] + TTC_LOOK_M) + 1
    metrics[M_STEP_GAP] = math.inf
    for j in range(x.shape[0]):
        if j == e or not active[j] or inst[j] != inst[e]:
            continue
        gap, v_lead = obstacle_on_path(
            x[e], y[e], 0.5 * width[e], progress[e], front_s, TTC_LOOK_M, rx, ry, rs, k0, k1,
            x[j], y[j], yaw[j], speed[j], length[j], width[j], center_offset[j],
        )
        if gap == math.inf:
            continue
        metrics[M_MIN_GAP] = min(metrics[M_MIN_GAP], gap)
        metrics[M_STEP_GAP] = min(metrics[M_STEP_GAP], gap)
        if v > THW_MIN_SPEED_MPS:
            metrics[M_MIN_THW] = min(metrics[M_MIN_THW], max(gap, 0.0) / v)
        closing = v - v_lead
        if closing > 1e-6:
            ttc = max(gap, 0.0) / closing
            if ttc < TTC_HORIZON_S:
                metrics[M_MIN_TTC] = min(metrics[M_MIN_TTC], ttc)
            if gap > 0.0:
                metrics[M_MAX_DRAC] = max(metrics[M_MAX_DRAC], closing * closing / (2.0 * gap))
    acc = accel[e]
    metrics[M_MAX_DECEL] = max(metrics[M_MAX_DECEL], -acc)
    metrics[M_MAX_ACCEL] = max(metrics[M_MAX_ACCEL], acc)
    if metrics[M_STEPS] > 0:
        metrics[M_MAX_JERK] = max(metrics[M_MAX_JERK], abs(acc - metrics[M_PREV_ACCEL]) / dt)
        dyaw = math.atan2(math.sin(yaw[e] - metrics[M_PREV_YAW]), math.cos(yaw[e] - metrics[M_PREV_YAW]))
        yaw_rate = dyaw / dt
        metrics[M_MAX_LAT_ACCEL] = max(metrics[M_MAX_LAT_ACCEL], abs(v * yaw_rate))
        metrics[M_MAX_YAW_RATE] = max(metrics[M_MAX_YAW_RATE], abs(yaw_rate))
        if metrics[M_STEPS] > 1:
            metrics[M_MAX_YAW_ACCEL] = max(metrics[M_MAX_YAW_ACCEL], abs(yaw_rate - metrics[M_PREV_YAW_RATE]) / dt)
        metrics[M_PREV_YAW_RATE] = yaw_rate
    metrics[M_PREV_ACCEL] = acc
    metrics[M_PREV_YAW] = yaw[e]
    metrics[M_DISTANCE] += v * dt
    metrics[M_SPEED_SUM] += v
    metrics[M_STEPS] += 1.0
# fmt: on
