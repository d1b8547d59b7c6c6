"""Driver model kernels: IDM speed control, pure-pursuit path tracking, obstacle search along a route.

The same ``drive_control`` serves NPC vehicles (over the world state, with candidates from
an actor grid) and the built-in autopilot agent (over its observation), so both obey one
set of rules.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import inline_stage, stage
from simcore.behavior.bucket_kernels import close_buckets, open_buckets
from simcore.behavior.lane_kernels import lane_buckets, lane_leader
from simcore.behavior.route_kernels import STRAIGHT_KAPPA, prefetch_route, route_index, route_point
from simcore.geometry.kernels import project_point_segment

#: Signal states (mirror simcore._types.SignalState; kernels take plain ints).
RED = 0
AMBER = 1
GREEN = 2
RED_AMBER = 3
#: Lateral clearance added to both half-widths when deciding whether an actor blocks a path (m).
CORRIDOR_MARGIN_M = 0.4
#: Upper bound on the spacing of route samples (m); the obstacle scan skips ahead with it.
#: Routes are resampled at 1 m (road.builder.SAMPLE_SPACING_M); route_path checks the bound.
MAX_ROUTE_SPACING_M = 1.1
#: Deceleration (m/s^2) above which a driver facing amber goes on instead of stopping.
AMBER_STOP_DECEL = 3.5
#: Largest deceleration (m/s^2) a lane change may impose on anyone (MOBIL's b_safe).
B_SAFE = 3.0
#: A lane change is checked for safety from this far before it starts (m).
LANE_CHANGE_CHECK_M = 40.0
#: Actors farther ahead or behind than this (m, centre to centre) do not affect a lane change.
LANE_CHANGE_RANGE_M = 60.0
#: |cos| of the heading difference above which an actor moving against the path is head-on
#: (within 30 degrees); below it, it is crossing the path.
HEAD_ON_COS = 0.866
#: Standstill distance kept before a stop target (m).
STOP_GAP_M = 0.5
#: Where a driver stops before an occupied crosswalk (m before it).
CROSSWALK_STANDOFF_M = 1.0
#: Longest obstacle look-ahead along the route (m).
MAX_LOOK_M = 150.0
#: Actor grid: cell edge (m) and the stride of route samples used to query it. Query samples
#: are <= 11 m apart (stride 10 at <= 1.1 m spacing), so any point within r of the route is
#: within sqrt(5.5^2 + r^2) of a query sample; the 3 x 3 block of cells around that sample
#: holds everything within GRID_CELL_M of it, hence every point with r <= 8.3 m: all path
#: corridors (<= 7.3 m half-width for a city bus) and lane-change target lanes.
GRID_CELL_M = 10.0
GRID_QUERY_STRIDE = 10
#: ``step_drivers`` prefetches the next driver's route from this far behind its rear axle to this far
#: past its obstacle look-ahead (m): the stretch its gathering, scans and look-ahead speed read.
PREFETCH_BEHIND_M = 12.0
PREFETCH_AHEAD_M = 24.0


@stage
def look_ahead(v, b_comf):  # pragma: no cover - compiled
    """Obstacle look-ahead distance (m) at speed v (m/s): margin + 4 s + braking distance."""
    return min(MAX_LOOK_M, 15.0 + 4.0 * v + v * v / (2.0 * b_comf))


@stage
def idm_accel(v, v0, a_max, b_comf, s0, T, delta, gap, v_lead):  # pragma: no cover - compiled
    """Intelligent Driver Model acceleration (m/s^2).

    a = a_max * (1 - (v / v0)^delta - (s*(v, dv) / gap)^2),
    s* = s0 + max(0, v T + v dv / (2 sqrt(a_max b_comf))),  dv = v - v_lead.
    ``gap = inf`` gives the free-road term. Treiber, Hennecke & Helbing (2000), Phys. Rev. E 62.
    """
    r = v / v0
    if delta == 4.0:  # the usual exponent: two multiplies instead of pow()
        r2 = r * r
        free = 1.0 - r2 * r2
    else:
        free = 1.0 - r**delta
    if gap == math.inf:
        return a_max * free
    g = max(gap, 0.01)
    s_star = s0 + max(0.0, v * T + v * (v - v_lead) / (2.0 * math.sqrt(a_max * b_comf)))
    q = s_star / g
    return a_max * (free - q * q)


@stage
def stop_accel(v, v0, a_max, b_comf, T, delta, gap):  # pragma: no cover - compiled
    """Acceleration (m/s^2) to stop ``gap`` m ahead (stop line, crosswalk, route end).

    IDM against a standing target, but never braking harder than the constant-acceleration
    heuristic a_CAH = -v^2 / (2 (gap - STOP_GAP_M)) needs: a = max(a_IDM, a_CAH). a_CAH is
    the constant deceleration that ends exactly at the target, so following it stops there;
    IDM alone overreacts to a target that appears at a moderate distance (a light turning
    amber). This is the limit c -> 1 of the Enhanced IDM of Kesting, Treiber & Helbing
    (2010, Phil. Trans. R. Soc. A 368) without its extra tanh margin, which suits targets
    that never move.
    """
    g = max(gap - STOP_GAP_M, 0.01)
    a_idm = idm_accel(v, v0, a_max, b_comf, STOP_GAP_M, T, delta, max(gap, 0.0), 0.0)
    return max(a_idm, -v * v / (2.0 * g))


@stage
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
        if d > corridor + MAX_ROUTE_SPACING_M:
            k += max(1, int((d - corridor) / MAX_ROUTE_SPACING_M) - 1)
            continue
        u, d2 = project_point_segment(px, py, rx[k], ry[k], rx[k + 1], ry[k + 1])
        t = math.sqrt(d2)
        if t < best_t:
            best_t = t
            best_s = rs[k] + u * (rs[k + 1] - rs[k])
            best_k = k
        k += 1
    return best_s, best_t, best_k


@stage
def obstacle_on_path(
    x, y, half_width, progress, front_s, look, rx, ry, rs, k0, k1, ox, oy, oyaw, ov, olen, owid, ocoff
):  # pragma: no cover - compiled
    """``obstacle_on_path_off`` on the route itself (lateral offset 0)."""
    return obstacle_on_path_off(
        x, y, half_width, progress, front_s, look, rx, ry, rs, k0, k1, ox, oy, oyaw, ov, olen, owid, ocoff, 0.0
    )


@stage
def obstacle_on_path_off(
    x, y, half_width, progress, front_s, look, rx, ry, rs, k0, k1, ox, oy, oyaw, ov, olen, owid, ocoff, lat_off
):  # pragma: no cover - compiled
    """Does a box block the path ahead? Returns (bumper gap m, speed along the path m/s).

    The path is the route shifted ``lat_off`` m to its left (a discretionary lane change).

    The box (reference point (ox, oy), centre ``ocoff`` ahead of it along ``oyaw``, size
    olen x owid) blocks the path if its centre projects onto route samples k0..k1 ahead of
    ``progress`` within half_width + its lateral half-extent + CORRIDOR_MARGIN_M. The gap
    runs from ``front_s`` (route s of the own front bumper) to the box's near face along the
    path. Returns (inf, 0) when the box does not block. Gap may be negative on overlap.
    The speed is the box's velocity along the path; a box moving against the path counts
    as approaching only when it is head-on (within acos(HEAD_ON_COS) of the opposite
    direction), crossing traffic counts as standing.
    """
    dx = ox - x
    dy = oy - y
    if dx * dx + dy * dy > (look + 10.0) ** 2:
        return math.inf, 0.0
    cx = ox + ocoff * math.cos(oyaw)
    cy = oy + ocoff * math.sin(oyaw)
    return obstacle_at_centre(
        x, y, half_width, progress, front_s, look, rx, ry, rs, k0, k1, ox, oy, cx, cy, oyaw, ov, olen, owid, lat_off
    )


#: A box centre farther than half widths + this (m) outside the bounding box of the route samples
#: scanned cannot come within a corridor of any of them (CORRIDOR_MARGIN_M + MAX_ROUTE_SPACING_M,
#: plus 1 cm against rounding).
BOX_REJECT_M = CORRIDOR_MARGIN_M + MAX_ROUTE_SPACING_M + 0.01


@stage
def samples_box(rx, ry, k0, k1):  # pragma: no cover - compiled
    """Axis-aligned bounding box (x0, y0, x1, y1, m) of route samples k0..k1 (inclusive)."""
    x0 = x1 = rx[k0]
    y0 = y1 = ry[k0]
    for k in range(k0 + 1, k1 + 1):
        x0 = min(x0, rx[k])
        x1 = max(x1, rx[k])
        y0 = min(y0, ry[k])
        y1 = max(y1, ry[k])
    return x0, y0, x1, y1


@stage
def obstacle_at_centre(
    x, y, half_width, progress, front_s, look, rx, ry, rs, k0, k1, ox, oy, cx, cy, oyaw, ov, olen, owid, lat_off
):  # pragma: no cover - compiled
    """``obstacle_on_path_off`` with the box centre (cx, cy) given (``actor_centres``: once per
    actor and step instead of once per driver that sees it)."""
    dx = ox - x
    dy = oy - y
    if dx * dx + dy * dy > (look + 10.0) ** 2:
        return math.inf, 0.0
    reach = 0.5 * math.sqrt(olen * olen + owid * owid)
    corridor = half_width + reach + CORRIDOR_MARGIN_M
    s_j, t_j, kj = scan_path(cx, cy, rx, ry, rs, k0, k1, corridor + abs(lat_off))
    if kj < 0 or s_j <= progress:
        return math.inf, 0.0
    if lat_off != 0.0:
        side = (rx[kj + 1] - rx[kj]) * (cy - ry[kj]) - (ry[kj + 1] - ry[kj]) * (cx - rx[kj])
        t_j = abs((t_j if side >= 0.0 else -t_j) - lat_off)
    rel = oyaw - math.atan2(ry[kj + 1] - ry[kj], rx[kj + 1] - rx[kj])
    c = abs(math.cos(rel))
    sn = abs(math.sin(rel))
    if t_j > half_width + 0.5 * (olen * sn + owid * c) + CORRIDOR_MARGIN_M:
        return math.inf, 0.0
    return along_gap(s_j, front_s, rel, c, sn, ov, olen, owid)


@stage
def along_gap(s_j, front_s, rel, c, sn, ov, olen, owid):  # pragma: no cover - compiled
    """(bumper gap m, speed along the path m/s) of a box whose centre is at path s ``s_j`` (m), heading ``rel``
    (rad) from the path (c, sn: |cos|, |sin| of it), speed ``ov``, size olen x owid; ``front_s``: path s of
    the own front bumper. A box moving against the path counts as approaching only when it is head-on
    (within acos(HEAD_ON_COS) of the opposite direction); crossing, it leaves the path again, so it counts
    as standing."""
    v_along = ov * math.cos(rel)
    if v_along < 0.0 and c < HEAD_ON_COS:
        v_along = 0.0
    return s_j - front_s - 0.5 * (olen * c + owid * sn), v_along


# fmt: off
@stage
def lane_change_safe(
    x, y, yaw, v, v0, half_len, coff, target, offset, a_max, b_comf, s0, T, delta,
    ocx, ocy, oyaw, ov, olen, cand, n_cand, self_id,
):  # pragma: no cover - compiled
    """MOBIL's safety criterion for a lane change by ``target`` m sideways (left +).

    Every candidate whose centre lies in the target lane (lateral offset within offset/2 of
    ``target`` in the driver's frame, at most LANE_CHANGE_RANGE_M ahead or behind) must
    leave a bumper gap >= s0, and neither the driver (behind a leader there) nor the new
    follower (behind the driver) may need to brake harder than B_SAFE by IDM. Two
    drivers that both wait (< 1 m/s) let the one ahead go first; exact ties go to the
    lower row. Kesting, Treiber & Helbing (2007), Transp. Res. Rec. 1999. ``ocx``, ``ocy``: the
    candidates' box centres (``actor_centres``).
    """
    c = math.cos(yaw)
    s = math.sin(yaw)
    px = x + coff * c
    py = y + coff * s
    for q in range(n_cand):
        j = cand[q]
        if j == self_id:
            continue
        dx = ocx[j] - px
        dy = ocy[j] - py
        dlong = dx * c + dy * s
        dlat = -dx * s + dy * c
        if abs(dlat - target) > 0.5 * offset or abs(dlong) > LANE_CHANGE_RANGE_M:
            continue
        vj = ov[j] * math.cos(oyaw[j] - yaw)
        ahead = dlong > 0.0 or (dlong == 0.0 and j < self_id)
        if ahead:
            gap = dlong - half_len - 0.5 * olen[j]
            if gap < s0 or idm_accel(v, v0, a_max, b_comf, s0, T, delta, gap, vj) < -B_SAFE:
                return False
        else:
            if v < 1.0 and vj < 1.0:
                continue
            gap = -dlong - half_len - 0.5 * olen[j]
            if gap < s0 or idm_accel(vj, max(v0, vj), a_max, b_comf, s0, T, delta, gap, v) < -B_SAFE:
                return False
    return True


@stage
def desired_speed(v_des, speed_factor, a_lat, b_comf, rs, rvlim, rk, r_next, k0, rb, front_s):  # pragma: no cover
    """IDM desired speed v0 (m/s, >= 0.5): v_des lowered by the speed limits and curves ahead.

    v0^2 = min(v_des^2, min_k vl_k^2 + 2 b_comf d_k) over route samples k >= k0 (up to rb) with
    vl_k^2 = min((rvlim_k speed_factor)^2, a_lat / |rk_k|) and d_k = max(rs_k - front_s, 0) (m ahead
    of the front bumper): the speed from which comfortable braking meets every limit ahead.
    Samples with 2 b_comf d_k >= v0^2 cannot bind (the scan stops there). Within a run of one limit,
    straight or of one curvature (``r_next``, ``route_kernels.limit_runs``), vl_k is the same for
    every sample as long as a_lat >= 2 STRAIGHT_KAPPA (limit speed_factor)^2 (the curve bound never
    applies on a straight), and d_k grows along the run, so only its first sample can bind: one
    sample per run is read, with the same result as reading them all.
    """
    v0_sq = v_des * v_des  # in squares: no root per sample
    k = k0
    while k < rb:
        d = max(rs[k] - front_s, 0.0)
        if 2.0 * b_comf * d >= v0_sq:
            break
        vl = rvlim[k] * speed_factor
        vl_sq = vl * vl
        skip = a_lat >= 2.0 * STRAIGHT_KAPPA * vl_sq
        kap = abs(rk[k])
        if kap * vl_sq > a_lat:
            vl_sq = a_lat / kap
        v0_sq = min(v0_sq, vl_sq + 2.0 * b_comf * d)
        k = r_next[k] if skip else k + 1
    return max(math.sqrt(v0_sq), 0.5)


@stage
def drive_control(
    x, y, yaw, v, wheelbase, front, half_width, half_len, max_accel, max_decel, max_steer,
    rx, ry, rs, rvlim, rk, r_next, ra, rb, progress,
    stop_s, stop_sig, sig_state, sa, sb,
    cw_s0, cw_s1, cw_id, cw_occ, ca, cb,
    lc_s0, lc_s1, lc_side, lc_offset, la, lb,
    ox, oy, oyaw, ov, olen, owid, ocx, ocy, cand, n_cand, self_id,
    v_des, T, s0, b_comf, delta, a_lat, speed_factor, stop_at_end, run_amber, run_red, ror_ok, lat_off,
    ext_gap, ext_v,
):  # pragma: no cover - compiled
    """Control of one driver following its route: (accel, steer, lead_gap, lead_closing).

    Frame: ENU; (x, y) is the rear-axle centre, yaw rad CCW from x, v m/s. ``cand[:n_cand]``
    index the actors (o* arrays; ocx, ocy: their box centres, ``actor_centres``) that may
    matter; they must include every actor within the path corridor ahead and within
    LANE_CHANGE_RANGE_M of a pending lane change. ``r_next``: runs of equal speed limit and
    curvature along the route (``route_kernels.limit_runs``).

    Longitudinal: the minimum of IDM accelerations against (a) the free road with desired
    speed v0 = min(v_des, look-ahead speeds), (b) each obstacle in the path corridor ahead,
    (c) a lane change not yet begun whose target gap is unsafe (wait before it), (d) the
    first stop line whose signal is red (or amber/red-amber when stopping needs less than
    AMBER_STOP_DECEL; a red that cannot be met within max_decel is run), (e) an occupied
    crosswalk not yet entered, and (f) the route end when ``stop_at_end``. Signal compliance:
    ``run_amber`` / ``run_red`` make the driver ignore amber (and red-amber) / red at the stop
    line; ``ror_ok`` lets it pass a red now (right turn on red after its full stop). ``lat_off``
    (m, left +): drive the route shifted sideways by this much (discretionary lane changes):
    the pursuit point and the obstacle corridor move with it. The look-ahead
    speed at a sample k ahead is sqrt(vl_k^2 + 2 b_comf d_k) with
    vl_k^2 = min((limit_k speed_factor)^2, a_lat / |kappa_k|) and d_k its distance ahead of
    the front bumper; samples farther than v_des^2 / (2 b_comf) cannot bind and are skipped.

    Lateral: pure pursuit on the route from the rear axle with look-ahead
    Ld = clip(3 + 0.6 v, 4, 20) m: delta = atan(2 L sin(alpha) / Ld).

    Returns the commanded acceleration (m/s^2, within [-max_decel, max_accel]), road-wheel
    angle (rad), bumper gap to the nearest obstacle ahead (m, inf if none) and the closing
    speed to it (m/s, >0 when closing). ``ext_gap`` (m, inf: none), ``ext_v`` (m/s): one more obstacle
    ahead that the caller found (the lane leader, ``lane_kernels.lane_leader``), taken like (b).
    """
    # Lateral control.
    ld = min(max(3.0 + 0.6 * v, 4.0), 20.0)
    tx, ty, th = route_point(rx, ry, rs, ra, rb, progress + ld)
    if lat_off != 0.0:
        tx -= lat_off * math.sin(th)
        ty += lat_off * math.cos(th)
    alpha = math.atan2(ty - y, tx - x) - yaw
    dist = max(math.sqrt((tx - x) ** 2 + (ty - y) ** 2), 1.0)
    steer = math.atan(2.0 * wheelbase * math.sin(alpha) / dist)
    steer = min(max(steer, -max_steer), max_steer)

    look = look_ahead(v, b_comf)
    s_end = rs[rb - 1]
    k0 = route_index(rs, ra, rb, progress)
    k1 = route_index(rs, ra, rb, progress + look) + 1
    front_s = progress + front

    v0 = desired_speed(v_des, speed_factor, a_lat, b_comf, rs, rvlim, rk, r_next, k0, rb, front_s)
    bx0, by0, bx1, by1 = samples_box(rx, ry, k0, k1)
    acc = idm_accel(v, v0, max_accel, b_comf, s0, T, delta, math.inf, 0.0)
    lead_gap = math.inf
    lead_close = 0.0

    # Obstacles in the corridor.
    for q in range(n_cand):
        j = cand[q]
        if j == self_id:
            continue
        reach = half_width + 0.5 * math.sqrt(olen[j] * olen[j] + owid[j] * owid[j]) + abs(lat_off) + BOX_REJECT_M
        if not (bx0 - reach <= ocx[j] <= bx1 + reach and by0 - reach <= ocy[j] <= by1 + reach):
            continue  # no route sample k0..k1 comes near enough: obstacle_at_centre would find nothing
        gap, v_lead = obstacle_at_centre(
            x, y, half_width, progress, front_s, look, rx, ry, rs, k0, k1,
            ox[j], oy[j], ocx[j], ocy[j], oyaw[j], ov[j], olen[j], owid[j], lat_off,
        )
        if gap == math.inf:
            continue
        if gap < lead_gap:
            lead_gap = gap
            lead_close = v - v_lead
        acc = min(acc, idm_accel(v, v0, max_accel, b_comf, s0, T, delta, gap, v_lead))
    if ext_gap != math.inf:
        if ext_gap < lead_gap:
            lead_gap = ext_gap
            lead_close = v - ext_v
        acc = min(acc, idm_accel(v, v0, max_accel, b_comf, s0, T, delta, ext_gap, ext_v))

    # Lane changes not yet begun: go only into a safe gap, else wait before the change.
    for m in range(la, lb):
        if lc_s1[m] <= progress:
            continue
        dist = lc_s0[m] - front_s
        if dist < -0.5 or dist > LANE_CHANGE_CHECK_M:
            break
        if not lane_change_safe(
            x, y, yaw, v, v0, half_len, front - half_len, lc_side[m] * lc_offset[m], lc_offset[m],
            max_accel, b_comf, s0, T, delta, ocx, ocy, oyaw, ov, olen, cand, n_cand, self_id,
        ):
            acc = min(acc, stop_accel(v, v0, max_accel, b_comf, T, delta, dist))
        break

    # Stop lines (first one ahead only).
    for m in range(sa, sb):
        gap = stop_s[m] - front_s
        if gap < -0.5:
            continue
        st = sig_state[stop_sig[m]] if stop_sig[m] >= 0 else GREEN
        need = v * v / (2.0 * max(gap, 0.1))
        stop = False
        if st == RED:
            stop = need <= max_decel and not run_red and not ror_ok
        elif st in (AMBER, RED_AMBER):
            stop = need <= AMBER_STOP_DECEL and not run_amber
        if stop:
            acc = min(acc, stop_accel(v, v0, max_accel, b_comf, T, delta, gap))
        break

    # Occupied crosswalks not yet entered.
    for m in range(ca, cb):
        if cw_occ[cw_id[m]] and cw_s0[m] - front_s > -0.5:
            gap = cw_s0[m] - CROSSWALK_STANDOFF_M - front_s
            acc = min(acc, stop_accel(v, v0, max_accel, b_comf, T, delta, gap))

    if stop_at_end:
        gap = s_end - front_s
        acc = min(acc, stop_accel(v, v0, max_accel, b_comf, T, delta, gap))
    acc = min(max(acc, -max_decel), max_accel)
    return acc, steer, lead_gap, lead_close


@stage
def actor_centres(x, y, yaw, center_offset, out_cx, out_cy):  # pragma: no cover - compiled
    """Box centres (m, ENU) of every row: the reference point moved ``center_offset`` m along the heading.
    Mutates out_cx, out_cy ((n,))."""
    for i in range(x.shape[0]):
        out_cx[i] = x[i] + center_offset[i] * math.cos(yaw[i])
        out_cy[i] = y[i] + center_offset[i] * math.sin(yaw[i])


@stage
def build_actor_grid(x, y, active, x0, y0, nx, ny, cell_start, cell_items):  # pragma: no cover - compiled
    """Counting-sort active actors into a uniform grid of GRID_CELL_M cells.

    Actors outside the grid go to the nearest border cell. Cell c = iy * nx + ix owns
    ``cell_items[cell_start[c]:cell_start[c + 1]]``, in row order (deterministic). No allocation.
    Mutates: cell_start ((nx * ny + 1,)), cell_items ((n,)).
    """
    n_cells = nx * ny
    for c in range(n_cells + 1):
        cell_start[c] = 0
    for i in range(x.shape[0]):
        if active[i]:
            cx = min(max(math.floor((x[i] - x0) / GRID_CELL_M), 0), nx - 1)
            cy = min(max(math.floor((y[i] - y0) / GRID_CELL_M), 0), ny - 1)
            cell_start[cy * nx + cx + 1] += 1
    open_buckets(cell_start, n_cells)
    for i in range(x.shape[0]):
        if active[i]:
            cx = min(max(math.floor((x[i] - x0) / GRID_CELL_M), 0), nx - 1)
            cy = min(max(math.floor((y[i] - y0) / GRID_CELL_M), 0), ny - 1)
            c = cy * nx + cx
            cell_items[cell_start[c]] = i
            cell_start[c] += 1
    close_buckets(cell_start, n_cells)


@stage
def gather_along_route(
    rx, ry, rs, ra, rb, s_from, s_to, inst, a_inst, x0, y0, nx, ny, cell_start, cell_items,
    stamp, cell_seen, actor_seen, cand, key_lane, only_off,
):  # pragma: no cover - compiled
    """Candidates near a stretch of route: actors of instance ``inst`` in the 3 x 3 cells
    around every GRID_QUERY_STRIDE-th route sample from s_from to s_to (m), and the last.
    Uses ``stamp`` (unique per query) to visit each cell and actor once. Returns the count
    written to cand. ``only_off``: leave out the actors filed under a lane (``key_lane`` >= 0,
    ``lane_kernels.lane_buckets``).
    """
    n = 0
    k_lo = route_index(rs, ra, rb, s_from)
    k_hi = route_index(rs, ra, rb, s_to) + 1
    k = k_lo
    px = -1
    py = -1
    while True:
        cx = math.floor((rx[k] - x0) / GRID_CELL_M)
        cy = math.floor((ry[k] - y0) / GRID_CELL_M)
        if cx == px and cy == py:
            if k >= k_hi:
                break
            k = min(k + GRID_QUERY_STRIDE, k_hi)
            continue
        px = cx
        py = cy
        for gy in range(max(cy - 1, 0), min(cy + 2, ny)):
            for gx in range(max(cx - 1, 0), min(cx + 2, nx)):
                c = gy * nx + gx
                if cell_seen[c] == stamp:
                    continue
                cell_seen[c] = stamp
                for m in range(cell_start[c], cell_start[c + 1]):
                    j = cell_items[m]
                    if actor_seen[j] != stamp and a_inst[j] == inst and not (only_off and key_lane[j] >= 0):
                        actor_seen[j] = stamp
                        cand[n] = j
                        n += 1
        if k >= k_hi:
            break
        k = min(k + GRID_QUERY_STRIDE, k_hi)
    return n


#: Discretionary lane changes (MOBIL): decisions every this many steps per driver (staggered by row),
#: the neighbour lane must continue this far ahead (m), a change takes this long (s), and no
#: discretionary change starts this close before a planned one (m).
MOBIL_EVERY = 10
MOBIL_AHEAD_M = 60.0
MOBIL_CHANGE_S = 4.0
MOBIL_PLANNED_M = 100.0


@stage
def side_room(nb, rs, a, b, progress, ahead):  # pragma: no cover - compiled
    """Smallest neighbour-lane offset (m) in ``nb`` over route samples from ``progress`` to
    ``progress + ahead`` (m); 0 where the neighbour lane stops (or the route ends) before that."""
    k = route_index(rs, a, b, progress)
    w = math.inf
    while k < b:
        w = min(w, nb[k])
        if w <= 0.0:
            return 0.0
        if rs[k] > progress + ahead:
            return w
        k += 1
    return 0.0


@stage
def lane_accel(
    x, y, v, v0, half_width, progress, front_s, rx, ry, rs, k0, k1, a_max, b_comf, s0, T, delta,
    ox, oy, oyaw, ov, olen, owid, ocx, ocy, cand, n_cand, self_id, lat_off,
):  # pragma: no cover - compiled
    """IDM acceleration (m/s^2) behind the nearest obstacle on the route shifted ``lat_off`` m left."""
    gap = math.inf
    v_lead = 0.0
    look = look_ahead(v, b_comf)
    for q in range(n_cand):
        j = cand[q]
        if j == self_id:
            continue
        g, vl = obstacle_at_centre(
            x, y, half_width, progress, front_s, look, rx, ry, rs, k0, k1,
            ox[j], oy[j], ocx[j], ocy[j], oyaw[j], ov[j], olen[j], owid[j], lat_off,
        )
        if g < gap:
            gap = g
            v_lead = vl
    return idm_accel(v, v0, a_max, b_comf, s0, T, delta, gap, v_lead)


@stage
def mobil_choice(
    x, y, yaw, v, v0, half_width, half_len, coff, progress, front_s, rx, ry, rs, a, b, a_max, b_comf, s0, T, delta,
    ox, oy, oyaw, ov, olen, owid, ocx, ocy, oacc, cand, n_cand, self_id, lat_off, room_l, room_r, p, thr, bias,
):  # pragma: no cover - compiled
    """MOBIL (Kesting, Treiber & Helbing 2007): the new lateral offset target (m), or ``lat_off`` to stay.

    For each side with a lane (room_l / room_r: offset to it, m; 0: none) the incentive is
    a_c' - a_c + p (a_n' - a_n): own IDM acceleration behind the leader there minus here, plus
    politeness p times the change of the new follower's (its last applied acceleration ``oacc``
    vs IDM behind us at its current speed as desired speed). Change if it exceeds thr + bias
    (left) or thr - bias (right, keep-right bias) and ``lane_change_safe`` holds; the larger
    incentive wins.
    """
    k0 = route_index(rs, a, b, progress)
    k1 = route_index(rs, a, b, progress + look_ahead(v, b_comf)) + 1
    a_c = lane_accel(x, y, v, v0, half_width, progress, front_s, rx, ry, rs, k0, k1, a_max, b_comf, s0, T, delta,
                     ox, oy, oyaw, ov, olen, owid, ocx, ocy, cand, n_cand, self_id, lat_off)
    best = lat_off
    best_gain = -math.inf
    c = math.cos(yaw)
    s = math.sin(yaw)
    px = x + coff * c
    py = y + coff * s
    for side in (1.0, -1.0):
        room = room_l if side > 0.0 else room_r
        if room <= 0.0:
            continue
        target = lat_off + side * room
        a_t = lane_accel(x, y, v, v0, half_width, progress, front_s, rx, ry, rs, k0, k1, a_max, b_comf, s0, T,
                         delta, ox, oy, oyaw, ov, olen, owid, ocx, ocy, cand, n_cand, self_id, target)
        # new follower: the nearest vehicle behind in the target lane
        gain_n = 0.0
        best_d = -math.inf
        for q in range(n_cand):
            j = cand[q]
            if j == self_id:
                continue
            jx = ocx[j] - px
            jy = ocy[j] - py
            dlong = jx * c + jy * s
            dlat = -jx * s + jy * c
            if dlong >= 0.0 or dlong < -LANE_CHANGE_RANGE_M or dlong < best_d:
                continue
            if abs(dlat - side * room) > 0.5 * room:
                continue
            best_d = dlong
            vj = ov[j] * math.cos(oyaw[j] - yaw)
            gap = -dlong - half_len - 0.5 * olen[j]
            # its desired speed is unknown here: take its current speed (IDM's interaction term only)
            gain_n = idm_accel(vj, max(vj, 0.1), a_max, b_comf, s0, T, delta, max(gap, 0.01), v) - oacc[j]
        side_bias = bias if side > 0.0 else -bias
        gain = a_t - a_c + p * gain_n - thr - side_bias
        if gain > 0.0 and gain > best_gain and lane_change_safe(
            x, y, yaw, v, v0, half_len, coff, side * room, room, a_max, b_comf, s0, T, delta,
            ocx, ocy, oyaw, ov, olen, cand, n_cand, self_id,
        ):
            best = target
            best_gain = gain
    return best


def neutral_behavior_args(n: int, t: float, dt: float) -> tuple:
    """The trailing ``step_drivers`` arguments for n rows that all drive plain IDM (tests, benchmarks):
    time t (s), step dt (s), started, no start delay, no signal violations, no right on red, no holds,
    no speed profiles."""
    return (
        t, dt, np.ones(n, dtype=np.bool_), np.zeros(n), np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_),
        np.zeros(n, dtype=np.bool_), np.full(n, np.nan), np.full(n, -2, dtype=np.int64), np.full(n, np.inf),
        np.zeros(n, dtype=np.int8), np.zeros(n + 1, dtype=np.int64), np.zeros(0), np.zeros(0),
        *mobil_off_args(n),
    )


def lane_off_args(n: int, n_samples: int) -> tuple:
    """``step_drivers``' trailing lane-leader arguments for n rows and n_samples route samples with no row
    filed under a lane (every neighbour is projected)."""
    return (
        np.zeros(n), np.zeros(n, dtype=np.bool_), np.full(n_samples, -1, dtype=np.int64), np.full(n_samples, np.nan),
        np.full(n_samples, n_samples, dtype=np.int64), np.full(n, -1, dtype=np.int64), np.zeros(n),
        np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64),
    )


def mobil_off_args(n: int) -> tuple:
    """``step_drivers``' MOBIL arguments with discretionary lane changes off for n rows."""
    return (
        np.zeros(n, dtype=np.bool_), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(0), np.zeros(0),
        np.zeros(n), np.zeros(n), np.zeros(n),
    )


@stage
def hold_accel(acc, v, v0, a_max, b_comf, T, delta, hold_gap):  # pragma: no cover - compiled
    """``acc`` lowered to stop ``hold_gap`` m ahead (a junction hold line; ``stop_accel``) unless the
    front is more than 0.5 m past it. Shared by NPCs and the autopilot, so both give way alike."""
    if hold_gap > -0.5:
        return min(acc, stop_accel(v, v0, a_max, b_comf, T, delta, hold_gap))
    return acc


@stage
def profile_speed(pf_start, pf_key, pf_v, i, key):  # pragma: no cover - compiled
    """Speed (m/s) of row i's speed profile at ``key`` (route s or time), linear, held at both ends."""
    a = pf_start[i]
    b = pf_start[i + 1]
    if key <= pf_key[a]:
        return pf_v[a]
    if key >= pf_key[b - 1]:
        return pf_v[b - 1]
    k = a
    while pf_key[k + 1] < key:
        k += 1
    u = (key - pf_key[k]) / (pf_key[k + 1] - pf_key[k])
    return pf_v[k] + u * (pf_v[k + 1] - pf_v[k])


@inline_stage
def step_drivers(
    idx, x, y, yaw, speed, active, inst,
    wheelbase, length, width, rear_overhang, center_offset, max_accel, max_decel, max_steer,
    rt_start, rx, ry, rs, rvlim, rk, progress,
    st_start, stop_s, stop_sig, sig_state,
    cw_start, cw_s0, cw_s1, cw_id, cw_occ,
    lc_start, lc_s0, lc_s1, lc_side, lc_offset,
    v_des, T, s0, b_comf, delta, a_lat, speed_factor, stop_at_end,
    grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items, cell_seen, actor_seen, cand, stamp,
    out_accel, out_steer, out_gap, out_closing,
    t, dt, started, start_time, run_amber, run_red, right_on_red, ror_stop, cur_turn, hold_s,
    pf_mode, pf_start, pf_key, pf_v,
    mobil, mb_p, mb_thr, mb_bias, nb_left, nb_right, lat_off, lat_tgt, cur_accel,
    r_next, box_cx, box_cy,
    lateral, lk_ok, rlane, rls, ln_next, key_lane, key_s, lb_start, lb_items,
):  # pragma: no cover - compiled
    """Run ``drive_control`` for every row in ``idx`` against the actors near its route.

    Args (per actor, (n,)): state x, y, yaw, speed, active, inst; vehicle parameters;
    route CSR (rt_start (n+1,), samples rx, ry, rs, rvlim, rk) and progress (m); stop lines
    CSR (st_start, stop_s, stop_sig); crosswalk intervals CSR (cw_start, cw_s0, cw_s1,
    cw_id); lane changes CSR (lc_start, lc_s0, lc_s1, lc_side, lc_offset); sig_state
    (n_inst, n_groups); cw_occ (n_inst, n_crosswalks); driver parameters v_des (m/s),
    T (s), s0 (m), b_comf (m/s^2), delta (-), a_lat (m/s^2), speed_factor (-),
    stop_at_end (bool); the actor grid (origin m, size, scratch: cell_start
    (nx*ny+1,), cell_items (n,), cell_seen (nx*ny,), actor_seen (n,), cand (n,), stamp
    (1,) int64 counter). Writes out_accel, out_steer, out_gap, out_closing for rows in idx.

    Behaviour (per row): ``started`` False, or t (s) before ``start_time``, holds the row at a
    standstill (parked cars until they pull out); ``run_amber`` / ``run_red`` (bool, drawn once per
    vehicle at build) ignore
    amber / red; ``right_on_red``: after a full stop (< 0.1 m/s) within 3 m of a red stop line
    whose passage is a right turn (``cur_turn`` -1, from ``junction_holds``), go when the
    crosswalks and the junction (``hold_s``) let it; ``ror_stop`` (state, route s of the line
    where that stop was made, NaN: none). ``hold_s``: route s of a junction hold line (inf: none),
    stopped at like a stop line. ``pf_mode`` 1/2: speed profile over route s / time t (s) in CSR
    pf_start, pf_key, pf_v (m/s): the speed is driven to the profile value of the next step
    (accel (v_p - v) / dt), never faster than the rest of the model allows.

    Discretionary lane changes (rows with ``mobil``): every MOBIL_EVERY steps a driver on its
    route lane (lat_off 0) with no planned change within MOBIL_PLANNED_M checks the neighbour
    lanes that continue MOBIL_AHEAD_M ahead (per route sample offsets nb_left / nb_right, m;
    0 none) with ``mobil_choice`` (politeness mb_p, threshold mb_thr, keep-right bias
    mb_bias, m/s^2; cur_accel: last applied accelerations); a driver beside its route goes
    back when the neighbour lane ends ahead, a planned change comes near or MOBIL prefers it,
    and stops before the end of the neighbour lane until it can. The offset (state lat_off,
    target lat_tgt, m, left +) moves at one lane per MOBIL_CHANGE_S.

    ``r_next`` (S,): runs of equal limit and curvature along the routes (``route_kernels.limit_runs``).
    ``box_cx``, ``box_cy`` (n,): scratch, the box centres of every row this step (``actor_centres``).

    Lane-indexed leaders (``lane_kernels``): rows with ``lk_ok`` (build time) on a plain lane are filed by
    (lane, lane s) each step (lateral (n,) m: offsets from their routes; rlane, rls, ln_next (S,): route
    samples' lane, lane s and lane runs; scratch key_lane, key_s (n,), lb_start (n_lanes+1,), lb_items
    (n,)). A driver with ``lk_ok`` and no lane change (planned within its look-ahead or
    LANE_CHANGE_CHECK_M, discretionary, or a MOBIL decision this step) takes the first filed actor ahead
    on its route's plain lanes as its leader and projects only the unfiled actors near its route.
    """
    build_actor_grid(x, y, active, grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items)
    actor_centres(x, y, yaw, center_offset, box_cx, box_cy)
    lane_buckets(idx, lk_ok, active, progress, lateral, lat_off, center_offset, rt_start, rs, rlane, rls,
                 key_lane, key_s, lb_start, lb_items)
    for q in range(idx.shape[0]):
        if q + 1 < idx.shape[0]:  # the next driver's route window (gathering, box, scans, limits)
            n_i = idx[q + 1]
            n_s = progress[n_i]
            prefetch_route(rt_start, rs, n_i, n_s - PREFETCH_BEHIND_M, n_s + look_ahead(speed[n_i], b_comf[n_i])
                           + PREFETCH_AHEAD_M, rx, ry, rs)
            prefetch_route(rt_start, rs, n_i, n_s, n_s, rvlim, rk, r_next)
        i = idx[q]
        if not active[i]:
            continue
        if not started[i] or t < start_time[i]:
            out_accel[i] = -max_decel[i]
            out_steer[i] = 0.0
            out_gap[i] = math.inf
            out_closing[i] = 0.0
            continue
        front = length[i] - rear_overhang[i]
        behind = 10.0
        for m in range(lc_start[i], lc_start[i + 1]):
            if lc_s1[m] > progress[i]:
                behind = LANE_CHANGE_RANGE_M + 10.0
                break
        # Right turn on red: remember a full stop at the first red stop line ahead.
        ror_ok = False
        if right_on_red[i] and cur_turn[i] == -1:
            for m in range(st_start[i], st_start[i + 1]):
                gap = stop_s[m] - progress[i] - front
                if gap < -0.5:
                    continue
                red = stop_sig[m] >= 0 and sig_state[inst[i], stop_sig[m]] == RED
                if red and gap < 3.0 and speed[i] < 0.1:
                    ror_stop[i] = stop_s[m]
                ror_ok = red and ror_stop[i] == stop_s[m]
                break
        tick = False
        if mobil[i]:
            tick = (int(t / dt + 0.5) + i) % MOBIL_EVERY == 0 and lat_off[i] == lat_tgt[i]
            if tick or lat_off[i] != 0.0:
                behind = LANE_CHANGE_RANGE_M + 10.0
        look_i = look_ahead(speed[i], b_comf[i])
        plain = lk_ok[i] and not tick and lat_off[i] == 0.0
        if plain:
            horizon = progress[i] + front + max(look_i, LANE_CHANGE_CHECK_M) + 1.0
            for m in range(lc_start[i], lc_start[i + 1]):
                if lc_s1[m] > progress[i] and lc_s0[m] < horizon:
                    plain = False
                    break
        ext_gap = math.inf
        ext_v = 0.0
        if plain:
            behind = 10.0
            a = rt_start[i]
            b = rt_start[i + 1]
            k0 = route_index(rs, a, b, progress[i])
            k1 = route_index(rs, a, b, progress[i] + look_i) + 1
            s_j, j = lane_leader(i, progress[i], k0, k1, rs, rlane, rls, ln_next, inst, key_s, lb_start, lb_items)
            if j >= 0:
                kj = route_index(rs, a, b, s_j)
                rel = yaw[j] - math.atan2(ry[kj + 1] - ry[kj], rx[kj + 1] - rx[kj])
                ext_gap, ext_v = along_gap(s_j, progress[i] + front, rel, abs(math.cos(rel)), abs(math.sin(rel)),
                                           speed[j], length[j], width[j])
        stamp[0] += 1
        n_cand = gather_along_route(
            rx, ry, rs, rt_start[i], rt_start[i + 1], progress[i] - behind,
            progress[i] + look_i + front, inst[i], inst,
            grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items, stamp[0], cell_seen,
            actor_seen, cand, key_lane, plain,
        )
        end_gap = math.inf
        if mobil[i]:
            a = rt_start[i]
            b = rt_start[i + 1]
            planned = False
            for m in range(lc_start[i], lc_start[i + 1]):
                if lc_s1[m] > progress[i] and lc_s0[m] - progress[i] < MOBIL_PLANNED_M:
                    planned = True
                    break
            if lat_off[i] != 0.0:
                nb = nb_left if lat_off[i] > 0.0 else nb_right
                room = side_room(nb, rs, a, b, progress[i], MOBIL_AHEAD_M)
                if tick:
                    back = -lat_off[i]
                    # room back to the route lane: itself; beyond it on the other side: none
                    rl = abs(back) if back > 0.0 else 0.0
                    rr = abs(back) if back < 0.0 else 0.0
                    k_here = route_index(rs, a, b, progress[i])
                    v0m = min(v_des[i], rvlim[k_here] * speed_factor[i])
                    must = planned or room <= 0.0
                    thr_i = -1e9 if must else mb_thr[i]
                    bias_i = 0.0 if must else mb_bias[i]
                    choice = mobil_choice(
                        x[i], y[i], yaw[i], speed[i], v0m, 0.5 * width[i], 0.5 * length[i],
                        front - 0.5 * length[i], progress[i], progress[i] + front, rx, ry, rs, a, b,
                        max_accel[i], b_comf[i], s0[i], T[i], delta[i],
                        x, y, yaw, speed, length, width, box_cx, box_cy, cur_accel, cand, n_cand, i,
                        lat_off[i], rl, rr, mb_p[i], thr_i, bias_i,
                    )
                    if choice == 0.0 or abs(choice) < 1e-9:
                        lat_tgt[i] = 0.0
                # stop before the neighbour lane ends while still beside the route lane
                k = route_index(rs, a, b, progress[i])
                while k < b - 1 and nb[k] > 0.0:
                    k += 1
                end_gap = rs[k] - progress[i] - front
            elif tick and not planned:
                room_l = side_room(nb_left, rs, a, b, progress[i], MOBIL_AHEAD_M)
                room_r = side_room(nb_right, rs, a, b, progress[i], MOBIL_AHEAD_M)
                if room_l > 0.0 or room_r > 0.0:
                    k_here = route_index(rs, a, b, progress[i])
                    v0m = min(v_des[i], rvlim[k_here] * speed_factor[i])
                    lat_tgt[i] = mobil_choice(
                        x[i], y[i], yaw[i], speed[i], v0m, 0.5 * width[i], 0.5 * length[i],
                        front - 0.5 * length[i], progress[i], progress[i] + front, rx, ry, rs, a, b,
                        max_accel[i], b_comf[i], s0[i], T[i], delta[i],
                        x, y, yaw, speed, length, width, box_cx, box_cy, cur_accel, cand, n_cand, i,
                        0.0, room_l, room_r, mb_p[i], mb_thr[i], mb_bias[i],
                    )
            if lat_off[i] != lat_tgt[i]:
                d = lat_tgt[i] - lat_off[i]
                rate = 3.5 / MOBIL_CHANGE_S * dt
                if abs(d) <= rate:
                    lat_off[i] = lat_tgt[i]
                elif d > 0.0:
                    lat_off[i] += rate
                else:
                    lat_off[i] -= rate
        acc, steer, gap, close = drive_control(
            x[i], y[i], yaw[i], speed[i], wheelbase[i], front, 0.5 * width[i], 0.5 * length[i],
            max_accel[i], max_decel[i], max_steer[i],
            rx, ry, rs, rvlim, rk, r_next, rt_start[i], rt_start[i + 1], progress[i],
            stop_s, stop_sig, sig_state[inst[i]], st_start[i], st_start[i + 1],
            cw_s0, cw_s1, cw_id, cw_occ[inst[i]], cw_start[i], cw_start[i + 1],
            lc_s0, lc_s1, lc_side, lc_offset, lc_start[i], lc_start[i + 1],
            x, y, yaw, speed, length, width, box_cx, box_cy, cand, n_cand, i,
            v_des[i], T[i], s0[i], b_comf[i], delta[i], a_lat[i], speed_factor[i], stop_at_end[i],
            run_amber[i], run_red[i], ror_ok, lat_off[i], ext_gap, ext_v,
        )
        if end_gap != math.inf and lat_tgt[i] != 0.0:
            acc = min(acc, stop_accel(speed[i], v_des[i], max_accel[i], b_comf[i], T[i], delta[i], end_gap))
        if hold_s[i] != math.inf:
            hgap = hold_s[i] - progress[i] - front
            acc = hold_accel(acc, speed[i], v_des[i], max_accel[i], b_comf[i], T[i], delta[i], hgap)
        if pf_mode[i] != 0:
            key = progress[i] + speed[i] * dt if pf_mode[i] == 1 else t + dt
            v_p = profile_speed(pf_start, pf_key, pf_v, i, key)
            acc = min(acc, (v_p - speed[i]) / dt)
        acc = min(max(acc, -max_decel[i]), max_accel[i])
        out_accel[i] = acc
        out_steer[i] = steer
        out_gap[i] = gap
        out_closing[i] = close
# fmt: on
