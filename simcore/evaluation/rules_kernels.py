"""Per-step rule kernels after collision detection: fault attribution, static-object collisions,
driving against the lane direction, stop signs, speeding, route deviation, blocked, post-encroachment
time (PET) and the hazard onsets that the UN R157-style avoidability verdict reads.

Everything here is ego-centred except fault attribution (every collision) and red-light times
(every vehicle). Rules, constants and formulas: docs/scoring.md ("Rules" and "Criticality").
Frame ENU, SI units.
"""

from __future__ import annotations

import math

import simcore.evaluation.metrics_kernels as mk
from simcore._jit import inline_stage, stage
from simcore.behavior.driver_kernels import scan_path
from simcore.behavior.junction_kernels import HALT_MPS, HALT_ZONE_M
from simcore.behavior.route_kernels import route_index
from simcore.geometry.kernels import project_point_segment
from simcore.road.static_index_kernels import objects_near, point_in_object

EV_COLLISION = 0
EV_RED_LIGHT = 2
EV_WRONG_WAY = 20
EV_STOP_SIGN = 21
EV_SPEEDING = 22
EV_ROUTE_DEVIATION = 23
EV_BLOCKED = 24

#: Fault codes written per collision event (``ev_fault``): who caused it.
FAULT_UNKNOWN = 0
FAULT_A = 1
FAULT_B = 2
FAULT_BOTH = 3
FAULT_NEITHER = 4

#: Columns of the per-actor evaluator state ``actor_ev`` (n, N_ACTOR_EV).
A_RED_T = 0  # time (s) the actor last crossed a red stop line; -inf never
A_HAZARD = 1  # 1 while the actor is a hazard on the ego's path (ahead, closing or braking)
A_HAZ_T = 2  # time (s) of the latest hazard onset; nan never
A_HAZ_GAP = 3  # bumper gap (m) at that onset
A_HAZ_VE = 4  # ego speed (m/s) at that onset
A_HAZ_VL = 5  # the actor's speed along the ego path (m/s) at that onset
A_HAZ_DL = 6  # the actor's deceleration (m/s^2, >= 0) at that onset
N_ACTOR_EV = 7

#: Rows of the PET bin table ``pet`` (4, n_bins) over the ego route, PET_BIN_M per bin.
P_EGO_IN = 0
P_EGO_OUT = 1
P_OTH_OUT = 2
P_OTH_IN = 3

PEDESTRIAN = 1
CYCLIST = 2
RED = 0
GREEN = 2
OFF = 4

#: Below this speed (m/s) an actor is standing (fault rule, stop signs, blocked): the drivers' stop-sign halt.
STILL_MPS = HALT_MPS
#: Closing-speed contributions closer than this (m/s) share the fault.
FAULT_TIE_MPS = 0.5
#: An actor that ran a red light this recently (s) before a collision is at fault.
RED_FAULT_S = 5.0
#: Speeding: faster than the route's speed limit by more than this (m/s).
SPEEDING_TOL_MPS = 0.5
#: Route deviation: farther than this (m) from the route's centre line.
ROUTE_DEVIATION_M = 5.0
#: Blocked: standing this long (s) with no reason.
BLOCKED_S = 30.0
#: Reasons to stand: an obstacle on the path within this gap (m) ...
BLOCK_GAP_M = 10.0
#: ... or a non-green signalised stop line within this distance (m) ahead of the front bumper.
BLOCK_LIGHT_M = 30.0
#: Stop signs: the ego must stand (< STILL_MPS) with its front bumper within this zone (m) before the line
#: (the zone where drivers halt).
STOP_ZONE_M = HALT_ZONE_M
#: PET: route bin length (m); actors whose heading differs from the route by less than this (rad) are
#: following or oncoming traffic in the same corridor, not encroaching, and are skipped.
PET_BIN_M = 1.0
PET_MIN_ANGLE = math.pi / 6.0  # 30 degrees
PET_LOOK_BACK_M = 30.0
#: Hazard onset: an actor on the ego path closing faster than this (m/s) or braking harder than HAZARD_DECEL.
HAZARD_CLOSING_MPS = 0.1
HAZARD_DECEL = 1.0
G = 9.81


@stage
def collision_fault(i, j, t, x, y, yaw, speed, center_offset, actor_ev):  # pragma: no cover - compiled
    """Who caused the collision of rows i and j: FAULT_A (i), FAULT_B (j), FAULT_BOTH or FAULT_NEITHER.

    Rule, in order: (1) an actor that ran a red light within RED_FAULT_S before is at fault (it took
    the right of way); (2) both standing: neither; (3) one standing (< STILL_MPS): the other;
    (4) otherwise the closing contributions c_k = v_k . u_k (own velocity along the unit vector
    u_k from the own box centre to the other's) decide: the larger one is at fault, both when they
    differ by at most FAULT_TIE_MPS. Rear-end: the follower's c is its speed, the leader's is
    minus its speed -> follower. Angle / side: the one whose velocity points into the other.
    """
    ri = t - actor_ev[i, A_RED_T] <= RED_FAULT_S
    rj = t - actor_ev[j, A_RED_T] <= RED_FAULT_S
    if ri and not rj:
        return FAULT_A
    if rj and not ri:
        return FAULT_B
    still_i = speed[i] < STILL_MPS
    still_j = speed[j] < STILL_MPS
    if still_i and still_j:
        return FAULT_NEITHER
    if still_i:
        return FAULT_B
    if still_j:
        return FAULT_A
    cix = x[i] + center_offset[i] * math.cos(yaw[i])
    ciy = y[i] + center_offset[i] * math.sin(yaw[i])
    cjx = x[j] + center_offset[j] * math.cos(yaw[j])
    cjy = y[j] + center_offset[j] * math.sin(yaw[j])
    dx = cjx - cix
    dy = cjy - ciy
    d = math.sqrt(dx * dx + dy * dy)
    if d <= 0.0:
        return FAULT_BOTH
    ux = dx / d
    uy = dy / d
    c_i = speed[i] * (math.cos(yaw[i]) * ux + math.sin(yaw[i]) * uy)
    c_j = -speed[j] * (math.cos(yaw[j]) * ux + math.sin(yaw[j]) * uy)
    if abs(c_i - c_j) <= FAULT_TIE_MPS:
        return FAULT_BOTH
    return FAULT_A if c_i > c_j else FAULT_B


@stage
def box_hits_object(cx, cy, yaw, hl, hw, o, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by):  # pragma: no cover
    """Does the box (centre, heading, half length / width, m) intersect object o's closed outline?

    True if an outline vertex lies in the box, an outline edge crosses a box edge, or the box
    centre lies inside the outline (box fully inside).
    """
    c = math.cos(yaw)
    s = math.sin(yaw)
    bx_ = (cx + hl * c - hw * s, cx + hl * c + hw * s, cx - hl * c + hw * s, cx - hl * c - hw * s)
    by_ = (cy + hl * s + hw * c, cy + hl * s - hw * c, cy - hl * s - hw * c, cy - hl * s + hw * c)
    for g in range(obj_seg_start[o], obj_seg_start[o + 1]):
        lx = (seg_ax[g] - cx) * c + (seg_ay[g] - cy) * s
        ly = -(seg_ax[g] - cx) * s + (seg_ay[g] - cy) * c
        if abs(lx) <= hl and abs(ly) <= hw:
            return True
        px, py = seg_ax[g], seg_ay[g]
        qx, qy = seg_bx[g], seg_by[g]
        for e in range(4):
            ax, ay = bx_[e], by_[e]
            bx, by = bx_[(e + 1) % 4], by_[(e + 1) % 4]
            d1 = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
            d2 = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax)
            d3 = (qx - px) * (ay - py) - (qy - py) * (ax - px)
            d4 = (qx - px) * (by - py) - (qy - py) * (bx - px)
            if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)):
                return True
    return point_in_object(cx, cy, o, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by)


@stage
def lane_direction_state(px, py, heading, cell_size, x0, y0, nx, ny, cell_start, cell_seg, ax, ay, bx, by, hw):
    """(on a driving lane, along some lane there) for point (px, py) moving with ``heading`` (rad).

    A lane segment (drivable grid, directed in the lane's direction of travel) covers the point when
    it lies within the segment's half width; "along" when the heading is within 90 degrees of the
    segment's direction. Driving against the lane direction = covered and not along any covering lane.
    """  # pragma: no cover - compiled
    gx = math.floor((px - x0) / cell_size)
    gy = math.floor((py - y0) / cell_size)
    if gx < 0 or gy < 0 or gx >= nx or gy >= ny:
        return False, False
    covered = False
    along = False
    hc = math.cos(heading)
    hs = math.sin(heading)
    c = gy * nx + gx
    for m in range(cell_start[c], cell_start[c + 1]):
        g = cell_seg[m]
        _, d2 = project_point_segment(px, py, ax[g], ay[g], bx[g], by[g])
        if d2 <= hw[g] * hw[g]:
            covered = True
            if (bx[g] - ax[g]) * hc + (by[g] - ay[g]) * hs > 0.0:
                along = True
    return covered, along


@stage
def careful_driver_avoids(gap, v_ego, v_lead, decel_lead, reaction_s, decel):  # pragma: no cover - compiled
    """Would a careful driver avoid the obstacle ahead? (UN R157-style, docs/scoring.md).

    The driver keeps its speed ``v_ego`` for ``reaction_s`` then brakes at ``decel`` (m/s^2) to a
    stop; the obstacle ``gap`` (m) ahead moves at ``v_lead`` (m/s along the path) braking at
    ``decel_lead`` (m/s^2, 0: constant speed) until it stops. Integrated in closed form per
    interval on a 1 ms grid; True when the gap stays positive until the ego stands or stops closing.
    """
    h = 1e-3
    t = 0.0
    g = gap
    ve = v_ego
    vl = v_lead
    if g <= 0.0:
        return False
    while ve > 0.0 and t < 120.0:
        ae = 0.0 if t < reaction_s else -decel
        al = -decel_lead if vl > 0.0 else 0.0
        ve1 = max(ve + ae * h, 0.0)
        vl1 = max(vl + al * h, 0.0)
        g -= 0.5 * (ve + ve1) * h - 0.5 * (vl + vl1) * h
        ve = ve1
        vl = vl1
        t += h
        if g <= 0.0:
            return False
        if t >= reaction_s and ve <= vl and al == 0.0:
            return True  # no longer closing and the obstacle keeps its speed
    return True


# fmt: off
@inline_stage
def static_object_contact(
    t, e, x, y, yaw, speed, length, width, center_offset,
    so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start, so_ax, so_ay, so_bx, so_by,
    so_out_obj, so_out_dist, metrics, ev_time, ev_kind, ev_a, ev_b, ev_value, ev_fault, n_ev,
):  # pragma: no cover - compiled
    """Static-object collision onset of the (active) ego row ``e``: a COLLISION event (a = ego,
    b = -2 - object, value = ego speed, ego at fault unless standing) when its box starts touching
    an object outline (one event per contact; ``metrics[M_STATIC_OBJ]`` remembers the object
    touched, -1 none), stamping the first impact in ``metrics``. Returns the new event count."""
    cap = ev_kind.shape[0]
    v = speed[e]
    c = math.cos(yaw[e])
    s = math.sin(yaw[e])
    cx = x[e] + center_offset[e] * c
    cy = y[e] + center_offset[e] * s
    hl = 0.5 * length[e]
    hw = 0.5 * width[e]
    hit = -1
    n_near = objects_near(cx, cy, math.sqrt(hl * hl + hw * hw), so_cell, so_x0, so_y0, so_nx, so_ny, so_start,
                          so_obj, so_ix0, so_iy0, so_seg_start, so_ax, so_ay, so_bx, so_by, so_out_obj, so_out_dist)
    for r in range(n_near):
        o = so_out_obj[r]
        if box_hits_object(cx, cy, yaw[e], hl, hw, o, so_seg_start, so_ax, so_ay, so_bx, so_by):
            hit = o
            break
    if hit >= 0 and metrics[mk.M_STATIC_OBJ] != hit:
        if n_ev < cap:
            ev_time[n_ev] = t
            ev_fault[n_ev] = FAULT_A if v >= STILL_MPS else FAULT_NEITHER
        n_ev = mk.emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_COLLISION, e, -2 - hit, v)
        if math.isnan(metrics[mk.M_FIRST_IMPACT_T]):
            metrics[mk.M_FIRST_IMPACT_T] = t
            metrics[mk.M_FIRST_IMPACT_V] = v
            metrics[mk.M_FIRST_IMPACT_ACTOR] = -2 - hit
    metrics[mk.M_STATIC_OBJ] = hit
    return n_ev


@stage
def evaluate_rules(
    t, dt, ego, x, y, yaw, speed, accel, active, inst, kind, length, width, rear_overhang, center_offset,
    progress, lateral, rt_start, rx, ry, rs, rvlim, st_start, stop_s, stop_sig, stop_sign, sig_state,
    g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw,
    so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start, so_ax, so_ay, so_bx, so_by,
    so_out_obj, so_out_dist,
    metrics, actor_ev, pet,
    ev_time, ev_kind, ev_a, ev_b, ev_value, ev_fault, start_ev, n_ev,
):  # pragma: no cover - compiled
    """One step of the rules after collision onsets; returns the new event count.

    For the events written this step (``start_ev:n_ev``): red-light crossings stamp the actor's
    ``actor_ev[., A_RED_T]``; collisions get a fault code (``collision_fault``) in ``ev_fault`` and
    an ego collision stamps the first impact (time, ego speed) in ``metrics``. Then for an active
    ego: static-object collision onset (``b = -2 - object``, value = ego speed, ego at fault unless
    standing), driving against the lane direction (onset event, distance, longest run), stop signs
    (route stop lines flagged in ``stop_sign``), speeding, route deviation, blocked, PET bins and
    hazard onsets (see the module constants). Mutates metrics, actor_ev, pet and the event buffers.
    """
    cap = ev_kind.shape[0]
    for q in range(start_ev, min(n_ev, cap)):
        k = ev_kind[q]
        if k == EV_RED_LIGHT:
            actor_ev[ev_a[q], A_RED_T] = t
    for q in range(start_ev, min(n_ev, cap)):
        if ev_kind[q] == EV_COLLISION and ev_b[q] >= 0:
            i = ev_a[q]
            j = ev_b[q]
            ev_fault[q] = collision_fault(i, j, t, x, y, yaw, speed, center_offset, actor_ev)
            if (i == ego or j == ego) and math.isnan(metrics[mk.M_FIRST_IMPACT_T]):
                metrics[mk.M_FIRST_IMPACT_T] = t
                metrics[mk.M_FIRST_IMPACT_V] = speed[ego]
                other = j if i == ego else i
                metrics[mk.M_FIRST_IMPACT_ACTOR] = other
    if ego < 0 or not active[ego]:
        return n_ev
    e = ego
    v = speed[e]
    c = math.cos(yaw[e])
    s = math.sin(yaw[e])
    cx = x[e] + center_offset[e] * c
    cy = y[e] + center_offset[e] * s
    n_ev = static_object_contact(
        t, e, x, y, yaw, speed, length, width, center_offset,
        so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start, so_ax, so_ay, so_bx, so_by,
        so_out_obj, so_out_dist, metrics, ev_time, ev_kind, ev_a, ev_b, ev_value, ev_fault, n_ev,
    )
    # Driving against the lane direction (reference: the box centre; reversing counts by heading).
    covered, along = lane_direction_state(cx, cy, yaw[e], g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg,
                                          g_ax, g_ay, g_bx, g_by, g_hw)
    wrong = covered and not along
    if wrong:
        if metrics[mk.M_WRONG_WAY] == 0.0:
            n_ev = _emit(ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev, t, EV_WRONG_WAY, e, -1, progress[e])
            metrics[mk.M_WW_RUN] = 0.0
        metrics[mk.M_WRONG_WAY_DIST] += v * dt
        metrics[mk.M_WW_RUN] += v * dt
        metrics[mk.M_MAX_WW_RUN] = max(metrics[mk.M_MAX_WW_RUN], metrics[mk.M_WW_RUN])
    metrics[mk.M_WRONG_WAY] = 1.0 if wrong else 0.0
    # Route position, speed limit, stop lines.
    a = rt_start[e]
    b = rt_start[e + 1]
    k = route_index(rs, a, b, progress[e])
    front = progress[e] + length[e] - rear_overhang[e]
    prev_front = metrics[mk.M_PREV_FRONT]
    if math.isnan(prev_front):
        prev_front = front
    reason = metrics[mk.M_STEP_GAP] <= BLOCK_GAP_M or front >= rs[b - 1] - BLOCK_GAP_M
    for m in range(st_start[e], st_start[e + 1]):
        sl = stop_s[m]
        if stop_sig[m] >= 0:
            st = sig_state[inst[e], stop_sig[m]]
            if st != GREEN and st != OFF and front <= sl <= front + BLOCK_LIGHT_M:
                reason = True
        elif stop_sign[m]:
            if sl - STOP_ZONE_M <= front <= sl:
                metrics[mk.M_STOP_MIN_V] = min(metrics[mk.M_STOP_MIN_V], v)
                reason = True
            if prev_front < sl <= front:
                vmin = min(metrics[mk.M_STOP_MIN_V], v)
                if vmin >= STILL_MPS:
                    n_ev = _emit(ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev, t, EV_STOP_SIGN, e, m - st_start[e],
                                 vmin)
                metrics[mk.M_STOP_MIN_V] = math.inf
    metrics[mk.M_PREV_FRONT] = front
    # Speeding against the route's limit at the ego's position.
    lim = rvlim[k]
    if lim > 0.0 and math.isfinite(lim):
        excess = v - lim
        metrics[mk.M_MAX_OVERSPEED] = max(metrics[mk.M_MAX_OVERSPEED], excess)
        if excess > 0.0:
            metrics[mk.M_OVERSPEED_INT] += excess * dt
        if excess > SPEEDING_TOL_MPS:
            metrics[mk.M_SPEEDING_TIME] += dt
            if metrics[mk.M_SPEEDING] == 0.0:
                n_ev = _emit(ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev, t, EV_SPEEDING, e, -1, lim)
            metrics[mk.M_SPEEDING] = 1.0
        elif excess <= 0.0:
            metrics[mk.M_SPEEDING] = 0.0  # hysteresis: an episode ends at or below the limit
    # Route deviation.
    dev = abs(lateral[e])
    metrics[mk.M_MAX_DEVIATION] = max(metrics[mk.M_MAX_DEVIATION], dev)
    if dev > ROUTE_DEVIATION_M:
        if metrics[mk.M_DEVIATED] == 0.0:
            n_ev = _emit(ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev, t, EV_ROUTE_DEVIATION, e, -1, dev)
        metrics[mk.M_DEVIATED] = 1.0
    else:
        metrics[mk.M_DEVIATED] = 0.0
    # Blocked: standing without a reason for longer than BLOCKED_S.
    if v < STILL_MPS and not reason:
        metrics[mk.M_STILL_TIME] += dt
        metrics[mk.M_MAX_STILL] = max(metrics[mk.M_MAX_STILL], metrics[mk.M_STILL_TIME])
        if metrics[mk.M_STILL_TIME] > BLOCKED_S and metrics[mk.M_BLOCKED] == 0.0:
            n_ev = _emit(ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev, t, EV_BLOCKED, e, -1, metrics[mk.M_STILL_TIME])
            metrics[mk.M_BLOCKED] = 1.0
    else:
        metrics[mk.M_STILL_TIME] = 0.0
        metrics[mk.M_BLOCKED] = 0.0
    # PET bins and hazard onsets.
    _pet_and_hazards(t, e, x, y, yaw, speed, accel, active, inst, length, width, rear_overhang, center_offset,
                     progress, rx, ry, rs, a, b, metrics, actor_ev, pet)
    return n_ev


@stage
def _emit(ev_time, ev_kind, ev_a, ev_b, ev_value, n, t, kind, a, b, value):  # pragma: no cover - compiled
    if n < ev_time.shape[0]:
        ev_time[n] = t
    return mk.emit_event(ev_kind, ev_a, ev_b, ev_value, n, kind, a, b, value)


@stage
def _pet_and_hazards(t, e, x, y, yaw, speed, accel, active, inst, length, width, rear_overhang, center_offset,
                     progress, rx, ry, rs, a, b, metrics, actor_ev, pet):  # pragma: no cover - compiled
    """PET over the ego route's bins and hazard onsets of actors ahead on it (see evaluate_rules)."""
    nb = pet.shape[1]
    s_start = rs[a]
    rear = progress[e] - rear_overhang[e]
    front = progress[e] + length[e] - rear_overhang[e]
    b0 = max(math.floor((rear - s_start) / PET_BIN_M), 0)
    b1 = min(math.floor((front - s_start) / PET_BIN_M), nb - 1)
    for q in range(b0, b1 + 1):
        if math.isnan(pet[P_EGO_IN, q]):
            pet[P_EGO_IN, q] = t
            if not math.isnan(pet[P_OTH_OUT, q]):
                metrics[mk.M_MIN_PET] = min(metrics[mk.M_MIN_PET], t - pet[P_OTH_OUT, q])
        pet[P_EGO_OUT, q] = t
    hw_e = 0.5 * width[e]
    k0 = route_index(rs, a, b, progress[e] - PET_LOOK_BACK_M)
    k1 = route_index(rs, a, b, progress[e] + mk.TTC_LOOK_M) + 1
    ve = speed[e]
    for j in range(x.shape[0]):
        if j == e or not active[j] or inst[j] != inst[e]:
            continue
        dx = x[j] - x[e]
        dy = y[j] - y[e]
        if dx * dx + dy * dy > (mk.TTC_LOOK_M + 10.0) ** 2:
            actor_ev[j, A_HAZARD] = 0.0
            continue
        jcx = x[j] + center_offset[j] * math.cos(yaw[j])
        jcy = y[j] + center_offset[j] * math.sin(yaw[j])
        reach = 0.5 * math.sqrt(length[j] * length[j] + width[j] * width[j])
        s_j, t_j, kj = scan_path(jcx, jcy, rx, ry, rs, k0, k1, hw_e + reach + 0.4)
        on = False
        rel = 0.0
        ext = 0.0
        if kj >= 0:
            rel = yaw[j] - math.atan2(ry[kj + 1] - ry[kj], rx[kj + 1] - rx[kj])
            cr = abs(math.cos(rel))
            sr = abs(math.sin(rel))
            ext = 0.5 * (length[j] * cr + width[j] * sr)
            on = t_j <= hw_e + 0.5 * (length[j] * sr + width[j] * cr)
        # PET: encroaching actors (crossing the route at an angle, or walking / cycling across).
        crossing = abs(math.sin(rel)) > math.sin(PET_MIN_ANGLE)
        if on and crossing:
            q0 = max(math.floor((s_j - ext - s_start) / PET_BIN_M), 0)
            q1 = min(math.floor((s_j + ext - s_start) / PET_BIN_M), nb - 1)
            for q in range(q0, q1 + 1):
                if math.isnan(pet[P_EGO_IN, q]):
                    pet[P_OTH_OUT, q] = t  # ego not there yet: latest time an encroacher occupied it
                elif pet[P_EGO_OUT, q] == t:
                    metrics[mk.M_MIN_PET] = 0.0  # both in the bin at once
                elif math.isnan(pet[P_OTH_IN, q]):
                    pet[P_OTH_IN, q] = t
                    metrics[mk.M_MIN_PET] = min(metrics[mk.M_MIN_PET], t - pet[P_EGO_OUT, q])
        # Hazard onsets: an actor ahead on the path that the ego closes on or that brakes.
        hazard = False
        gap = math.inf
        vl = 0.0
        dl = 0.0
        if on and s_j > progress[e]:
            gap = s_j - front - ext
            vl = speed[j] * math.cos(rel)
            if vl < 0.0 and abs(math.cos(rel)) < 0.866:
                vl = 0.0
            dl = max(-accel[j], 0.0) if speed[j] > STILL_MPS else 0.0
            hazard = ve - vl > HAZARD_CLOSING_MPS or dl > HAZARD_DECEL
        if hazard and actor_ev[j, A_HAZARD] == 0.0:
            actor_ev[j, A_HAZ_T] = t
            actor_ev[j, A_HAZ_GAP] = gap
            actor_ev[j, A_HAZ_VE] = ve
            actor_ev[j, A_HAZ_VL] = vl
            actor_ev[j, A_HAZ_DL] = dl
        actor_ev[j, A_HAZARD] = 1.0 if hazard else 0.0
# fmt: on
