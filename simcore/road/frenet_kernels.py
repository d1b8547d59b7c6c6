"""Kernels projecting points onto sampled centre lines (lanes, routes) and testing drivable area."""

from __future__ import annotations

import math

from simcore._jit import stage
from simcore.geometry.kernels import project_point_segment, wrap_angle


@stage
def project_on_polyline(px, py, xs, ys, ss, a, b):  # pragma: no cover - compiled
    """Nearest point of the polyline through samples ``a..b-1`` to (px, py).

    Returns (s, t, k, dist2): arc length s (m) of the foot point, signed lateral offset t
    (m, left of the direction of travel positive), index k of the segment start and the
    squared distance (m^2). A polyline of one point projects onto that point.
    """
    best_d2 = math.inf
    best_s = ss[a]
    best_t = 0.0
    best_k = a
    if b - a < 2:
        dx = px - xs[a]
        dy = py - ys[a]
        return ss[a], 0.0, a, dx * dx + dy * dy
    for k in range(a, b - 1):
        u, d2 = project_point_segment(px, py, xs[k], ys[k], xs[k + 1], ys[k + 1])
        if d2 < best_d2:
            best_d2 = d2
            best_s = ss[k] + u * (ss[k + 1] - ss[k])
            cross = (xs[k + 1] - xs[k]) * (py - ys[k]) - (ys[k + 1] - ys[k]) * (px - xs[k])
            best_t = math.sqrt(d2) if cross >= 0.0 else -math.sqrt(d2)
            best_k = k
    return best_s, best_t, best_k, best_d2


@stage
def project_points_to_lanes(
    px,
    py,
    yaw,
    heading_weight,
    lane_ok,
    lane_start,
    pts_x,
    pts_y,
    pts_s,
    pts_heading,
    out_lane,
    out_s,
    out_t,
    out_heading_error,
):  # pragma: no cover - compiled
    """Project many points onto the best lane among those with ``lane_ok``.

    The best lane minimises ``|t| + heading_weight * |heading error|`` (m, with
    heading_weight in m/rad; 0 gives the geometrically nearest lane).

    Args:
        px, py: (n,) points, ENU (m). yaw: (n,) headings (rad) for the heading error.
        heading_weight: m/rad. lane_ok: (n_lanes,) bool.
        lane_start, pts_x, pts_y, pts_s, pts_heading: the network's lane CSR arrays.
        out_lane: (n,) int64, -1 if no lane qualifies. out_s, out_t: (n,) m.
        out_heading_error: (n,) rad, yaw minus lane heading, wrapped to (-pi, pi].
    """
    n_lanes = lane_start.shape[0] - 1
    for i in range(px.shape[0]):
        best = math.inf
        out_lane[i] = -1
        out_s[i] = math.nan
        out_t[i] = math.nan
        out_heading_error[i] = math.nan
        for lane in range(n_lanes):
            if not lane_ok[lane]:
                continue
            a = lane_start[lane]
            b = lane_start[lane + 1]
            s, t, k, _ = project_on_polyline(px[i], py[i], pts_x, pts_y, pts_s, a, b)
            # Heading at the foot point, interpolated along the segment (curves turn within it).
            k1 = min(k + 1, b - 1)
            ds = pts_s[k1] - pts_s[k]
            u = (s - pts_s[k]) / ds if ds > 0.0 else 0.0
            h = pts_heading[k] + u * wrap_angle(pts_heading[k1] - pts_heading[k])
            herr = wrap_angle(yaw[i] - h)
            cost = abs(t) + heading_weight * abs(herr)
            if cost < best:
                best = cost
                out_lane[i] = lane
                out_s[i] = s - pts_s[a]
                out_t[i] = t
                out_heading_error[i] = herr


@stage
def on_drivable(
    px, py, cell_size, x0, y0, nx, ny, cell_start, cell_seg, seg_ax, seg_ay, seg_bx, seg_by, seg_half_width
):  # pragma: no cover - compiled
    """Is (px, py) within half a lane width of some drivable lane segment?

    Uses the uniform grid built by ``road.spatial_index.SegmentGrid`` (segments are
    registered in every cell their capsule touches). Points outside the grid are off-road.
    """
    cx = math.floor((px - x0) / cell_size)
    cy = math.floor((py - y0) / cell_size)
    if cx < 0 or cy < 0 or cx >= nx or cy >= ny:
        return False
    c = cy * nx + cx
    for m in range(cell_start[c], cell_start[c + 1]):
        g = cell_seg[m]
        _, d2 = project_point_segment(px, py, seg_ax[g], seg_ay[g], seg_bx[g], seg_by[g])
        hw = seg_half_width[g]
        if d2 <= hw * hw:
            return True
    return False
