"""Driver model kernels: IDM speed control, pure-pursuit path tracking, obstacle search along a route.

The same ``drive_control`` serves NPC vehicles (over the world state) and the built-in
autopilot agent (over its observation), so both obey one set of rules.
"""

from __future__ import annotations

import math

from simcore._jit import kernel
from simcore.behavior.route_kernels import route_index, route_point

#: Signal states (mirror simcore._types.SignalState; kernels take plain ints).
RED = 0
AMBER = 1
GREEN = 2
RED_AMBER = 3
#: Lateral clearance added to both half-widths when deciding whether an actor blocks a path (m).
CORRIDOR_MARGIN_M = 0.4
#: Upper bound on the spacing of route samples (m); the obstacle scan skips ahead with it.
MAX_ROUTE_SPACING_M = 1.5
#: Deceleration (m/s^2) above which a driver facing amber goes on instead of stopping.
AMBER_STOP_DECEL = 3.5
#: Where a driver stops before an occupied crosswalk (m before it).
CROSSWALK_STANDOFF_M = 1.0


@kernel
def idm_accel(v, v0, a_max, b_comf, s0, T, delta, gap, v_lead):  # pragma: no cover - compiled
    """Intelligent Driver Model acceleration (m/s^2).

    a = a_max * (1 - (v / v0)^delta - (s*(v, dv) / gap)^2),
    s* = s0 + max(0, v T + v dv / (2 sqrt(a_max b_comf))),  dv = v - v_lead.
    ``gap = inf`` gives the free-road term. Treiber, Hennecke & Helbing (2000), Phys. Rev. E 62.
    """
    free = 1.0 - (v / v0) ** delta
    if gap == math.inf:
        return a_max * free
    g = max(gap, 0.01)
    s_star = s0 + max(0.0, v * T + v * (v - v_lead) / (2.0 * math.sqrt(a_max * b_comf)))
    return a_max * (free - (s_star / g) ** 2)


@kernel
def scan_path(px, py, rx, ry, rs, lo, hi, corridor):  # pragma: no cover - compiled
    """Closest approach of point (px, py) to the route samples lo..hi (inclusive segment ends).

    Skips ahead while far from the path using MAX_ROUTE_SPACING_M, so a distant point costs
    a few iterations. Returns (s, |t|, k): the arc length and lateral distance of the foot
    point and its segment, or (nan, inf, -1) if the point never comes within ``corridor``
    + one sample spacing of the path.
    """
    best_t = math.inf
    best_s = math.nan
    best_k = -1
    k = lo
    while k < hi:
        dx = px - rx[k]
        dy = py - ry[k]
        d = math.sqrt(dx * dx + dy * dy)
        if d > corridor + 2.0 * MAX_ROUTE_SPACING_M:
            k += max(1, int((d - corridor) / MAX_ROUTE_SPACING_M) - 1)
            continue
        ex = rx[k + 1] - rx[k]
        ey = ry[k + 1] - ry[k]
        len2 = ex * ex + ey * ey
        u = (dx * ex + dy * ey) / len2 if len2 > 0.0 else 0.0
        u = min(max(u, 0.0), 1.0)
        fx = dx - u * ex
        fy = dy - u * ey
        t = math.sqrt(fx * fx + fy * fy)
        if t < best_t:
            best_t = t
            best_s = rs[k] + u * (rs[k + 1] - rs[k])
            best_k = k
        k += 1
    return best_s, best_t, best_k


@kernel
def obstacle_on_path(
    x,
    y,
    half_width,
    progress,
    front_s,
    look,
    rx,
    ry,
    rs,
    k0,
    k1,
    ox,
    oy,
    oyaw,
    ov,
    olen,
    owid,
    ocoff,
):  # pragma: no cover - compiled
    """Does a box block the path ahead? Returns (bumper gap m, speed along the path m/s).

    The box (reference point (ox, oy), centre ``ocoff`` ahead of it along ``oyaw``, size
    olen x owid) blocks the path if its centre projects onto route samples k0..k1 ahead of
    ``progress`` within half_width + its lateral half-extent + CORRIDOR_MARGIN_M. The gap
    runs from ``front_s`` (route s of the own front bumper) to the box's near face along the
    path. Returns (inf, 0) when the box does not block. Gap may be negative on overlap.
    """
    dx = ox - x
    dy = oy - y
    if dx * dx + dy * dy > (look + 10.0) ** 2:
        return math.inf, 0.0
    cx = ox + ocoff * math.cos(oyaw)
    cy = oy + ocoff * math.sin(oyaw)
    reach = 0.5 * math.sqrt(olen * olen + owid * owid)
    corridor = half_width + reach + CORRIDOR_MARGIN_M
    s_j, t_j, kj = scan_path(cx, cy, rx, ry, rs, k0, k1, corridor)
    if kj < 0 or s_j <= progress:
        return math.inf, 0.0
    rel = oyaw - math.atan2(ry[kj + 1] - ry[kj], rx[kj + 1] - rx[kj])
    c = abs(math.cos(rel))
    sn = abs(math.sin(rel))
    if t_j > half_width + 0.5 * (olen * sn + owid * c) + CORRIDOR_MARGIN_M:
        return math.inf, 0.0
    return s_j - front_s - 0.5 * (olen * c + owid * sn), ov * math.cos(rel)


@kernel
def drive_control(
    x,
    y,
    yaw,
    v,
    wheelbase,
    front,
    half_width,
    max_accel,
    max_decel,
    max_steer,
    rx,
    ry,
    rs,
    rvlim,
    rk,
    ra,
    rb,
    progress,
    stop_s,
    stop_sig,
    sig_state,
    sa,
    sb,
    cw_s0,
    cw_s1,
    cw_id,
    cw_occ,
    ca,
    cb,
    ox,
    oy,
    oyaw,
    ov,
    olen,
    owid,
    ocoff,
    oactive,
    oinst,
    inst,
    skip,
    n_obj,
    v_des,
    T,
    s0,
    b_comf,
    delta,
    a_lat,
    speed_factor,
    stop_at_end,
):  # pragma: no cover - compiled
    """Control of one driver following its route: (accel, steer, lead_gap, lead_closing).

    Frame: ENU; (x, y) is the rear-axle centre, yaw rad CCW from x, v m/s.

    Longitudinal: the minimum of IDM accelerations against (a) the free road with desired
    speed v0 = min(v_des, speed_factor * limit, curve and limit look-ahead speeds), (b) each
    obstacle found in the path corridor ahead, (c) the first stop line whose signal is red
    (or amber/red-amber when stopping needs less than AMBER_STOP_DECEL; a red that cannot
    be met within max_decel is run), (d) an occupied crosswalk not yet entered, and (e) the
    route end when ``stop_at_end``. The look-ahead speed at a sample k ahead is
    sqrt(vl_k^2 + 2 b_comf (s_k - s)), vl_k = min(limit_k * speed_factor, sqrt(a_lat / |kappa_k|)).

    Lateral: pure pursuit on the route from the rear axle with look-ahead
    Ld = clip(3 + 0.6 v, 4, 20) m: delta = atan(2 L sin(alpha) / Ld).

    Returns the commanded acceleration (m/s^2, within [-max_decel, max_accel]), road-wheel
    angle (rad), bumper gap to the nearest obstacle ahead (m, inf if none) and the closing
    speed to it (m/s, >0 when closing).
    """
    # Lateral control.
    ld = min(max(3.0 + 0.6 * v, 4.0), 20.0)
    tx, ty, _ = route_point(rx, ry, rs, ra, rb, progress + ld)
    alpha = math.atan2(ty - y, tx - x) - yaw
    dist = max(math.sqrt((tx - x) ** 2 + (ty - y) ** 2), 1.0)
    steer = math.atan(2.0 * wheelbase * math.sin(alpha) / dist)
    steer = min(max(steer, -max_steer), max_steer)

    look = min(150.0, 15.0 + 4.0 * v + v * v / (2.0 * b_comf))
    s_end = rs[rb - 1]
    k0 = route_index(rs, ra, rb, progress)
    k1 = route_index(rs, ra, rb, progress + look) + 1

    # Desired speed with limit and curve look-ahead.
    v0 = v_des
    for k in range(k0, k1 + 1):
        vl = rvlim[k] * speed_factor
        kap = abs(rk[k])
        if kap > 1e-6:
            vl = min(vl, math.sqrt(a_lat / kap))
        d = max(rs[k] - progress - front, 0.0)
        v0 = min(v0, math.sqrt(vl * vl + 2.0 * b_comf * d))
    v0 = max(v0, 0.5)
    acc = idm_accel(v, v0, max_accel, b_comf, s0, T, delta, math.inf, 0.0)
    lead_gap = math.inf
    lead_close = 0.0

    front_s = progress + front
    # Obstacles in the corridor.
    for j in range(n_obj):
        if j == skip or not oactive[j] or oinst[j] != inst:
            continue
        gap, v_lead = obstacle_on_path(
            x,
            y,
            half_width,
            progress,
            front_s,
            look,
            rx,
            ry,
            rs,
            k0,
            k1,
            ox[j],
            oy[j],
            oyaw[j],
            ov[j],
            olen[j],
            owid[j],
            ocoff[j],
        )
        if gap == math.inf:
            continue
        if gap < lead_gap:
            lead_gap = gap
            lead_close = v - v_lead
        acc = min(acc, idm_accel(v, v0, max_accel, b_comf, s0, T, delta, gap, v_lead))

    # Stop lines (first one ahead only).
    for m in range(sa, sb):
        gap = stop_s[m] - front_s
        if gap < -0.5:
            continue
        st = sig_state[stop_sig[m]] if stop_sig[m] >= 0 else GREEN
        need = v * v / (2.0 * max(gap, 0.1))
        stop = False
        if st == RED:
            stop = need <= max_decel
        elif st in (AMBER, RED_AMBER):
            stop = need <= AMBER_STOP_DECEL
        if stop:
            acc = min(acc, idm_accel(v, v0, max_accel, b_comf, 0.5, T, delta, max(gap, 0.0), 0.0))
        break

    # Occupied crosswalks not yet entered.
    for m in range(ca, cb):
        if cw_occ[cw_id[m]] and cw_s0[m] - front_s > -0.5:
            gap = cw_s0[m] - CROSSWALK_STANDOFF_M - front_s
            acc = min(acc, idm_accel(v, v0, max_accel, b_comf, 0.5, T, delta, max(gap, 0.0), 0.0))

    if stop_at_end:
        gap = s_end - front_s
        acc = min(acc, idm_accel(v, v0, max_accel, b_comf, 0.5, T, delta, max(gap, 0.0), 0.0))
    acc = min(max(acc, -max_decel), max_accel)
    return acc, steer, lead_gap, lead_close


@kernel
def step_drivers(
    idx,
    x,
    y,
    yaw,
    speed,
    active,
    inst,
    wheelbase,
    length,
    width,
    rear_overhang,
    center_offset,
    max_accel,
    max_decel,
    max_steer,
    rt_start,
    rx,
    ry,
    rs,
    rvlim,
    rk,
    progress,
    st_start,
    stop_s,
    stop_sig,
    sig_state,
    cw_start,
    cw_s0,
    cw_s1,
    cw_id,
    cw_occ,
    v_des,
    T,
    s0,
    b_comf,
    delta,
    a_lat,
    speed_factor,
    stop_at_end,
    out_accel,
    out_steer,
    out_gap,
    out_closing,
):  # pragma: no cover - compiled
    """Run ``drive_control`` for every row in ``idx`` against all actors of the same instance.

    Args (per actor, (n,)): state x, y, yaw, speed, active, inst; vehicle parameters;
    route CSR (rt_start (n+1,), samples rx, ry, rs, rvlim, rk) and progress (m); stop lines
    CSR (st_start, stop_s, stop_sig); crosswalk intervals CSR (cw_start, cw_s0, cw_s1,
    cw_id); sig_state (n_inst, n_groups); cw_occ (n_inst, n_crosswalks); driver parameters
    v_des (m/s), T (s), s0 (m), b_comf (m/s^2), delta (-), a_lat (m/s^2), speed_factor (-),
    stop_at_end (bool). Writes out_accel, out_steer, out_gap, out_closing for rows in idx.
    """
    n = x.shape[0]
    for q in range(idx.shape[0]):
        i = idx[q]
        if not active[i]:
            continue
        front = length[i] - rear_overhang[i]
        acc, steer, gap, close = drive_control(
            x[i],
            y[i],
            yaw[i],
            speed[i],
            wheelbase[i],
            front,
            0.5 * width[i],
            max_accel[i],
            max_decel[i],
            max_steer[i],
            rx,
            ry,
            rs,
            rvlim,
            rk,
            rt_start[i],
            rt_start[i + 1],
            progress[i],
            stop_s,
            stop_sig,
            sig_state[inst[i]],
            st_start[i],
            st_start[i + 1],
            cw_s0,
            cw_s1,
            cw_id,
            cw_occ[inst[i]],
            cw_start[i],
            cw_start[i + 1],
            x,
            y,
            yaw,
            speed,
            length,
            width,
            center_offset,
            active,
            inst,
            inst[i],
            i,
            n,
            v_des[i],
            T[i],
            s0[i],
            b_comf[i],
            delta[i],
            a_lat[i],
            speed_factor[i],
            stop_at_end[i],
        )
        out_accel[i] = acc
        out_steer[i] = steer
        out_gap[i] = gap
        out_closing[i] = close
