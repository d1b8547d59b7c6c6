"""Observation kernels for every instance at once: object list, ego features, bird's-eye raster, range scan.

Ego frame: origin at the ego's reference point (rear-axle centre), x forward along its
heading, y to the left (m). All outputs are float32 (uint8 for the raster), written into
preallocated (N, ...) arrays, one row per instance, and clipped to the documented bounds.
"""

from __future__ import annotations

import math

from simcore._jit import inline_stage, stage
from simcore.behavior.route_kernels import route_index
from simcore.road.frenet_kernels import on_drivable

#: Columns of one object-list entry.
OBJ_DX = 0
OBJ_DY = 1
OBJ_DYAW = 2
OBJ_SPEED = 3
OBJ_LENGTH = 4
OBJ_WIDTH = 5
OBJ_KIND = 6
N_OBJ_FEATURES = 7

#: Columns of the ego feature vector.
EGO_SPEED = 0
EGO_ACCEL = 1
EGO_STEER = 2
EGO_SPEED_LIMIT = 3
EGO_LATERAL = 4
EGO_HEADING_ERROR = 5
EGO_GOAL_DIST = 6
EGO_STOP_DIST = 7
EGO_STOP_RED = 8
N_EGO_FEATURES = 9

#: Raster channels.
BEV_DRIVABLE = 0
BEV_LANES = 1
BEV_ROUTE = 2
BEV_ACTORS = 3
BEV_EGO = 4
BEV_RED_STOP = 5
N_BEV_CHANNELS = 6

RED = 0


@stage
def _wrap(a):  # pragma: no cover - compiled
    return math.atan2(math.sin(a), math.cos(a))


@stage
def _clip(v, lo, hi):  # pragma: no cover - compiled
    return min(max(v, lo), hi)


@stage
def object_obs(
    ego, x, y, yaw, speed, active, kind, length, width, center_offset, obj_range, lim, out, mask, sel_d, sel_i
):  # pragma: no cover - compiled
    """The K nearest other actors of every instance, relative to its ego.

    Distance is measured from the ego's reference point to the actor's box centre; actors
    farther than ``obj_range`` (m) or inactive are left out. Nearest first, ties by row.
    Entry: dx, dy (box centre, ego frame, m), dyaw (rad, wrapped), speed (m/s), length,
    width (m), kind (ActorKind). Unused entries are zero with ``mask`` 0.

    Args:
        ego: ego row. x, y, yaw, speed, active: (N, R) state. kind, length, width,
            center_offset: (R,) per-row statics. obj_range: m. lim: (N_OBJ_FEATURES, 2) clip bounds.
        out: (N, K, N_OBJ_FEATURES) float32. mask: (N, K) int8. sel_d, sel_i: (K,) scratch.
    """
    for j in range(x.shape[0]):
        object_obs_at(
            j, ego, x, y, yaw, speed, active, kind, length, width, center_offset, obj_range, lim, out, mask, sel_d,
            sel_i,
        )  # fmt: skip


@inline_stage
def object_obs_at(
    j, ego, x, y, yaw, speed, active, kind, length, width, center_offset, obj_range, lim, out, mask, sel_d, sel_i
):  # pragma: no cover - compiled
    """``object_obs`` of instance ``j`` only (same arguments)."""
    n_rows = x.shape[1]
    k_max = out.shape[1]
    r2max = obj_range * obj_range
    ex = x[j, ego]
    ey = y[j, ego]
    c = math.cos(yaw[j, ego])
    s = math.sin(yaw[j, ego])
    n_sel = 0
    for i in range(n_rows):
        if i == ego or not active[j, i]:
            continue
        cx = x[j, i] + center_offset[i] * math.cos(yaw[j, i]) - ex
        cy = y[j, i] + center_offset[i] * math.sin(yaw[j, i]) - ey
        d2 = cx * cx + cy * cy
        if d2 > r2max:
            continue
        if n_sel == k_max and d2 >= sel_d[k_max - 1]:
            continue
        p = n_sel if n_sel < k_max else k_max - 1
        while p > 0 and sel_d[p - 1] > d2:
            sel_d[p] = sel_d[p - 1]
            sel_i[p] = sel_i[p - 1]
            p -= 1
        sel_d[p] = d2
        sel_i[p] = i
        if n_sel < k_max:
            n_sel += 1
    for q in range(k_max):
        if q >= n_sel:
            for f in range(N_OBJ_FEATURES):
                out[j, q, f] = 0.0
            mask[j, q] = 0
            continue
        i = sel_i[q]
        cx = x[j, i] + center_offset[i] * math.cos(yaw[j, i]) - ex
        cy = y[j, i] + center_offset[i] * math.sin(yaw[j, i]) - ey
        out[j, q, OBJ_DX] = _clip(c * cx + s * cy, lim[OBJ_DX, 0], lim[OBJ_DX, 1])
        out[j, q, OBJ_DY] = _clip(-s * cx + c * cy, lim[OBJ_DY, 0], lim[OBJ_DY, 1])
        out[j, q, OBJ_DYAW] = _clip(_wrap(yaw[j, i] - yaw[j, ego]), lim[OBJ_DYAW, 0], lim[OBJ_DYAW, 1])
        out[j, q, OBJ_SPEED] = _clip(speed[j, i], lim[OBJ_SPEED, 0], lim[OBJ_SPEED, 1])
        out[j, q, OBJ_LENGTH] = _clip(length[i], lim[OBJ_LENGTH, 0], lim[OBJ_LENGTH, 1])
        out[j, q, OBJ_WIDTH] = _clip(width[i], lim[OBJ_WIDTH, 0], lim[OBJ_WIDTH, 1])
        out[j, q, OBJ_KIND] = _clip(kind[i], lim[OBJ_KIND, 0], lim[OBJ_KIND, 1])
        mask[j, q] = 1


# fmt: off
@stage
def ego_obs(
    ego, x, y, yaw, speed, accel, steer, progress, lateral, sig_state,
    rt_start, rx, ry, rs, rvlim, st_start, stop_s, stop_sig, goal_s, front, spacing, lim, lim_route,
    out_ego, out_route,
):  # pragma: no cover - compiled
    """Ego features and route look-ahead points of every instance.

    out_ego (N, N_EGO_FEATURES): speed (m/s), accel (m/s^2), steer (rad), speed limit at the
    ego's route position (m/s), lateral offset from the route (m, left +), heading error to
    the route (rad), route distance to the goal (m), route distance from the front bumper to
    the next stop line ahead (m, the upper bound when none) and whether its signal is RED (0/1).
    out_route (N, P, 2): route points at progress + (k + 1) * spacing (m), ego frame (m),
    the route's last point repeated past its end.
    """
    for j in range(x.shape[0]):
        ego_obs_at(j, ego, x, y, yaw, speed, accel, steer, progress, lateral, sig_state[j],
                   rt_start, rx, ry, rs, rvlim, st_start, stop_s, stop_sig, goal_s, front, spacing, lim, lim_route,
                   out_ego, out_route)


@inline_stage
def ego_obs_at(
    j, ego, x, y, yaw, speed, accel, steer, progress, lateral, sig,
    rt_start, rx, ry, rs, rvlim, st_start, stop_s, stop_sig, goal_s, front, spacing, lim, lim_route,
    out_ego, out_route,
):  # pragma: no cover - compiled
    """``ego_obs`` of instance ``j`` only; ``sig``: (G,) that instance's signal states."""
    a = rt_start[ego]
    b = rt_start[ego + 1]
    n_pts = out_route.shape[1]
    p = progress[j, ego]
    k = route_index(rs, a, b, p)
    h = math.atan2(ry[k + 1] - ry[k], rx[k + 1] - rx[k])
    out_ego[j, EGO_SPEED] = _clip(speed[j, ego], lim[EGO_SPEED, 0], lim[EGO_SPEED, 1])
    out_ego[j, EGO_ACCEL] = _clip(accel[j, ego], lim[EGO_ACCEL, 0], lim[EGO_ACCEL, 1])
    out_ego[j, EGO_STEER] = _clip(steer[j, ego], lim[EGO_STEER, 0], lim[EGO_STEER, 1])
    out_ego[j, EGO_SPEED_LIMIT] = _clip(rvlim[k], lim[EGO_SPEED_LIMIT, 0], lim[EGO_SPEED_LIMIT, 1])
    out_ego[j, EGO_LATERAL] = _clip(lateral[j, ego], lim[EGO_LATERAL, 0], lim[EGO_LATERAL, 1])
    out_ego[j, EGO_HEADING_ERROR] = _clip(_wrap(yaw[j, ego] - h), lim[EGO_HEADING_ERROR, 0],
                                          lim[EGO_HEADING_ERROR, 1])
    out_ego[j, EGO_GOAL_DIST] = _clip(goal_s[ego] - p, lim[EGO_GOAL_DIST, 0], lim[EGO_GOAL_DIST, 1])
    stop_d = lim[EGO_STOP_DIST, 1]
    red = 0.0
    for m in range(st_start[ego], st_start[ego + 1]):
        d = stop_s[m] - (p + front)
        if d >= 0.0 and d < stop_d:
            stop_d = d
            red = 1.0 if stop_sig[m] >= 0 and sig[stop_sig[m]] == RED else 0.0
    out_ego[j, EGO_STOP_DIST] = _clip(stop_d, lim[EGO_STOP_DIST, 0], lim[EGO_STOP_DIST, 1])
    out_ego[j, EGO_STOP_RED] = red
    ex = x[j, ego]
    ey = y[j, ego]
    c = math.cos(yaw[j, ego])
    s = math.sin(yaw[j, ego])
    for q in range(n_pts):
        sq = p + (q + 1) * spacing
        kq = route_index(rs, a, b, sq)
        seg = rs[kq + 1] - rs[kq]
        u = (sq - rs[kq]) / seg if seg > 0.0 else 0.0
        u = min(max(u, 0.0), 1.0)
        px = rx[kq] + u * (rx[kq + 1] - rx[kq]) - ex
        py = ry[kq] + u * (ry[kq + 1] - ry[kq]) - ey
        out_route[j, q, 0] = _clip(c * px + s * py, lim_route[0], lim_route[1])
        out_route[j, q, 1] = _clip(-s * px + c * py, lim_route[0], lim_route[1])


@stage
def _stamp_box(img, ch, cx, cy, yaw, hl, hw, ex, ey, c, s, res, row0, col0):  # pragma: no cover - compiled
    """Fill the pixels of channel ``ch`` whose centres lie inside an oriented box: centre (cx, cy)
    in the world frame (m), ``yaw`` relative to the ego's heading (rad), half sizes hl, hw (m)."""
    h = img.shape[1]
    w = img.shape[2]
    # box centre in the ego frame
    dx = cx - ex
    dy = cy - ey
    fx = c * dx + s * dy
    fy = -s * dx + c * dy
    r = math.sqrt(hl * hl + hw * hw)
    rmin = max(math.floor(row0 - (fx + r) / res), 0)
    rmax = min(math.ceil(row0 - (fx - r) / res), h - 1)
    cmin = max(math.floor(col0 - (fy + r) / res), 0)
    cmax = min(math.ceil(col0 - (fy - r) / res), w - 1)
    bc = math.cos(yaw)
    bs = math.sin(yaw)
    for rr in range(rmin, rmax + 1):
        for cc in range(cmin, cmax + 1):
            px = (row0 - rr - 0.5) * res - fx
            py = (col0 - cc - 0.5) * res - fy
            u = bc * px + bs * py
            v = -bs * px + bc * py
            if abs(u) <= hl and abs(v) <= hw:
                img[ch, rr, cc] = 255


@stage
def _draw_polyline(img, ch, px, py, i0, i1, ex, ey, c, s, res, row0, col0, view2):  # pragma: no cover - compiled
    """Draw the polyline px[i0:i1], py[i0:i1] (world frame, m) into channel ``ch`` (steps of res / 2)."""
    h = img.shape[1]
    w = img.shape[2]
    for k in range(i0, i1 - 1):
        ax = px[k] - ex
        ay = py[k] - ey
        bx = px[k + 1] - ex
        by = py[k + 1] - ey
        if ax * ax + ay * ay > view2 and bx * bx + by * by > view2:
            continue
        seg = math.sqrt((bx - ax) ** 2 + (by - ay) ** 2)
        n = max(int(seg / (0.5 * res)), 1)
        for m in range(n + 1):
            u = m / n
            wx = ax + u * (bx - ax)
            wy = ay + u * (by - ay)
            fx = c * wx + s * wy
            fy = -s * wx + c * wy
            rr = math.floor(row0 - fx / res)
            cc = math.floor(col0 - fy / res)
            if 0 <= rr < h and 0 <= cc < w:
                img[ch, rr, cc] = 255


@stage
def bev_obs(
    ego, x, y, yaw, active, length, width, center_offset, sig_state, progress,
    rt_start, rx, ry, rs,
    lane_start, pts_x, pts_y, pts_s, pts_heading, lane_width, lane_driving, lane_stop_s, lane_signal,
    g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw,
    res, ego_row_frac, out,
):  # pragma: no cover - compiled
    """Ego-centred bird's-eye raster of every instance, heading up, ``res`` m per pixel.

    out (N, N_BEV_CHANNELS, H, W) uint8, 255 where set: drivable area (pixel centre on a
    driving lane), lane centre lines, the ego's route ahead, other actors' boxes, the ego's
    box, stop lines whose signal is RED. The ego's reference point sits at row
    ``ego_row_frac * H``, column W / 2; row 0 is ahead, column 0 is to the left. Renders the
    first ``out.shape[0]`` instances.
    """
    n_inst = out.shape[0]
    h = out.shape[2]
    w = out.shape[3]
    row0 = ego_row_frac * h
    col0 = 0.5 * w
    view = math.sqrt((max(row0, h - row0) * res) ** 2 + (max(col0, w - col0) * res) ** 2) + 5.0
    view2 = view * view
    n_rows = x.shape[1]
    for j in range(n_inst):
        img = out[j]
        img[:, :, :] = 0
        ex = x[j, ego]
        ey = y[j, ego]
        c = math.cos(yaw[j, ego])
        s = math.sin(yaw[j, ego])
        for rr in range(h):
            for cc in range(w):
                fx = (row0 - rr - 0.5) * res
                fy = (col0 - cc - 0.5) * res
                wx = ex + c * fx - s * fy
                wy = ey + s * fx + c * fy
                if on_drivable(wx, wy, g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw):
                    img[BEV_DRIVABLE, rr, cc] = 255
        for ln in range(lane_start.shape[0] - 1):
            if not lane_driving[ln]:
                continue
            _draw_polyline(img, BEV_LANES, pts_x, pts_y, lane_start[ln], lane_start[ln + 1], ex, ey, c, s, res,
                           row0, col0, view2)
            st = lane_stop_s[ln]
            sg = lane_signal[ln]
            if sg >= 0 and st == st and sig_state[j, sg] == RED:
                a = lane_start[ln]
                b = lane_start[ln + 1]
                k = route_index(pts_s, a, b, st)
                u = (st - pts_s[k]) / max(pts_s[k + 1] - pts_s[k], 1e-9)
                sx = pts_x[k] + u * (pts_x[k + 1] - pts_x[k])
                sy = pts_y[k] + u * (pts_y[k + 1] - pts_y[k])
                _stamp_box(img, BEV_RED_STOP, sx, sy, pts_heading[k] - yaw[j, ego], 0.5 * max(res, 0.3),
                           0.5 * lane_width[ln], ex, ey, c, s, res, row0, col0)
        ra = rt_start[ego]
        rb = rt_start[ego + 1]
        k0 = route_index(rs, ra, rb, progress[j, ego])
        _draw_polyline(img, BEV_ROUTE, rx, ry, k0, rb, ex, ey, c, s, res, row0, col0, view2)
        for i in range(n_rows):
            if not active[j, i]:
                continue
            cx = x[j, i] + center_offset[i] * math.cos(yaw[j, i])
            cy = y[j, i] + center_offset[i] * math.sin(yaw[j, i])
            dx = cx - ex
            dy = cy - ey
            if dx * dx + dy * dy > view2:
                continue
            ch = BEV_EGO if i == ego else BEV_ACTORS
            _stamp_box(img, ch, cx, cy, yaw[j, i] - yaw[j, ego], 0.5 * length[i], 0.5 * width[i], ex, ey, c, s, res,
                       row0, col0)


@stage
def _ray_box(ox, oy, dx, dy, cx, cy, yaw, hl, hw):  # pragma: no cover - compiled
    """Distance along the unit ray (ox, oy) + t (dx, dy) to an oriented box (slab test); inf if missed."""
    c = math.cos(yaw)
    s = math.sin(yaw)
    px = c * (ox - cx) + s * (oy - cy)
    py = -s * (ox - cx) + c * (oy - cy)
    ux = c * dx + s * dy
    uy = -s * dx + c * dy
    t0 = -math.inf
    t1 = math.inf
    for axis in range(2):
        p = px if axis == 0 else py
        u = ux if axis == 0 else uy
        half = hl if axis == 0 else hw
        if abs(u) < 1e-12:
            if abs(p) > half:
                return math.inf
            continue
        ta = (-half - p) / u
        tb = (half - p) / u
        if ta > tb:
            ta, tb = tb, ta
        t0 = max(t0, ta)
        t1 = min(t1, tb)
        if t0 > t1:
            return math.inf
    if t1 < 0.0:
        return math.inf
    return max(t0, 0.0)


@stage
def _ray_segment(ox, oy, dx, dy, ax, ay, bx, by):  # pragma: no cover - compiled
    """Distance along the unit ray to segment a-b; inf if missed."""
    ex = bx - ax
    ey = by - ay
    den = dx * ey - dy * ex
    if abs(den) < 1e-12:
        return math.inf
    wx = ax - ox
    wy = ay - oy
    t = (wx * ey - wy * ex) / den
    u = (wx * dy - wy * dx) / den
    if t >= 0.0 and 0.0 <= u <= 1.0:
        return t
    return math.inf


@stage
def lidar_obs(
    ego, x, y, yaw, active, length, width, center_offset,
    obj_start, obj_x, obj_y,
    g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw,
    max_range, edge_step, out,
):  # pragma: no cover - compiled
    """2-D range scan of every instance from the ego's box centre.

    Beam b points at yaw + 2 pi b / B (counter-clockwise from the ego's heading). Its range
    (m) is the nearest of: the first hit on another active actor's box, the first hit on a
    building outline (``obj_*`` CSR polygons), the road edge (the first point, marching in
    steps of ``edge_step`` m, that is off the drivable area), and ``max_range``.
    out: (N, B) float32.
    """
    n_inst = x.shape[0]
    n_rows = x.shape[1]
    n_beams = out.shape[1]
    n_obj = obj_start.shape[0] - 1
    for j in range(n_inst):
        ox = x[j, ego] + center_offset[ego] * math.cos(yaw[j, ego])
        oy = y[j, ego] + center_offset[ego] * math.sin(yaw[j, ego])
        for bm in range(n_beams):
            ang = yaw[j, ego] + 2.0 * math.pi * bm / n_beams
            dx = math.cos(ang)
            dy = math.sin(ang)
            best = max_range
            for i in range(n_rows):
                if i == ego or not active[j, i]:
                    continue
                cx = x[j, i] + center_offset[i] * math.cos(yaw[j, i])
                cy = y[j, i] + center_offset[i] * math.sin(yaw[j, i])
                t = _ray_box(ox, oy, dx, dy, cx, cy, yaw[j, i], 0.5 * length[i], 0.5 * width[i])
                if t < best:
                    best = t
            for o in range(n_obj):
                a = obj_start[o]
                b = obj_start[o + 1]
                for m in range(a, b):
                    m2 = m + 1 if m + 1 < b else a
                    t = _ray_segment(ox, oy, dx, dy, obj_x[m], obj_y[m], obj_x[m2], obj_y[m2])
                    if t < best:
                        best = t
            t = 0.0
            while t < best:
                if not on_drivable(ox + t * dx, oy + t * dy, g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg,
                                   g_ax, g_ay, g_bx, g_by, g_hw):
                    best = t
                    break
                t += edge_step
            out[j, bm] = min(max(best, 0.0), max_range)
# fmt: on
