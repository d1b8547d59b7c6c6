"""Kernels behind ``simcore.road.queries``: lane poses, grid/brute-force projection and its refinement.

Lane frame: between samples k and k+1 of a lane (fraction u of the segment) the reference point
is the chord point ``c = P_k + u (P_k+1 - P_k)`` and the heading is interpolated,
``h = h_k + u wrap(h_k+1 - h_k)``. A point at lateral offset t is ``c + t (-sin h, cos h)``
(ENU, m, left of the direction of travel positive). ``lane_pose_kernel`` evaluates this frame and
``refine_projection`` inverts it exactly, so pose -> project round trips are exact.
"""

from __future__ import annotations

import math

from simcore._jit import kernel, stage
from simcore.geometry.kernels import project_point_segment, wrap_angle


@stage
def segment_at(pts_s, a, b, s):  # pragma: no cover - compiled
    """Index k in [a, b-2] of the lane segment holding arc length ``s`` (absolute pts_s units)."""
    if b - a < 2:
        return a
    lo = a
    hi = b - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pts_s[mid] <= s:
            lo = mid
        else:
            hi = mid
    return lo


@kernel
def frame_at(pts_x, pts_y, pts_heading, k, u):  # pragma: no cover - compiled
    """Chord point (x, y) and interpolated heading (rad) at fraction ``u`` of segment k."""
    x = pts_x[k] + u * (pts_x[k + 1] - pts_x[k])
    y = pts_y[k] + u * (pts_y[k + 1] - pts_y[k])
    h = pts_heading[k] + u * wrap_angle(pts_heading[k + 1] - pts_heading[k])
    return x, y, h


@kernel
def lane_pose_kernel(
    lane, s, t, lane_start, pts_x, pts_y, pts_s, pts_heading, out_x, out_y, out_heading
):  # pragma: no cover - compiled
    """World pose of (lane, s, t) for many queries; s is clamped to [0, lane length].

    Args:
        lane: (n,) int64 lane indices. s: (n,) arc length from the lane start (m). t: (n,) m, left +.
        lane_start, pts_x, pts_y, pts_s, pts_heading: the network's CSR lane arrays.
        out_x, out_y: (n,) m. out_heading: (n,) rad, wrapped to (-pi, pi].
    """
    for i in range(lane.shape[0]):
        a = lane_start[lane[i]]
        b = lane_start[lane[i] + 1]
        if b - a < 2:
            h = pts_heading[a]
            out_x[i] = pts_x[a] - t[i] * math.sin(h)
            out_y[i] = pts_y[a] + t[i] * math.cos(h)
            out_heading[i] = wrap_angle(h)
            continue
        sa = pts_s[a] + min(max(s[i], 0.0), pts_s[b - 1] - pts_s[a])
        k = segment_at(pts_s, a, b, sa)
        ds = pts_s[k + 1] - pts_s[k]
        u = (sa - pts_s[k]) / ds if ds > 0.0 else 0.0
        x, y, h = frame_at(pts_x, pts_y, pts_heading, k, u)
        out_x[i] = x - t[i] * math.sin(h)
        out_y[i] = y + t[i] * math.cos(h)
        out_heading[i] = wrap_angle(h)


@kernel
def _segment_cost(px, py, yaw, heading_weight, ax, ay, bx, by, h0, h1, bound):  # pragma: no cover - compiled
    """Distance to segment a->b plus heading_weight * |yaw - interpolated heading at the foot|.

    Returns inf as soon as the distance alone reaches ``bound`` (the best cost so far).
    """
    u, d2 = project_point_segment(px, py, ax, ay, bx, by)
    cost = math.sqrt(d2)
    if cost >= bound:
        return math.inf
    if heading_weight > 0.0:
        cost += heading_weight * abs(wrap_angle(yaw - (h0 + u * wrap_angle(h1 - h0))))
    return cost


@kernel
def project_candidates_grid(
    px,
    py,
    yaw,
    heading_weight,
    accept_cost,
    cell_size,
    x0,
    y0,
    nx,
    ny,
    cell_start,
    cell_seg,
    seg_ax,
    seg_ay,
    seg_bx,
    seg_by,
    seg_k,
    pts_heading,
    out_k,
):  # pragma: no cover - compiled
    """Best segment (minimum distance + heading_weight * |heading error|) among the point's grid cell.

    A result is kept only if its cost is at most ``accept_cost``: with ``accept_cost`` no larger than
    the smallest capsule radius of the grid, every segment that could beat it is registered in the
    cell, so the kept answer equals the brute-force one. Otherwise ``out_k[i] = -1`` (fall back).

    Args:
        seg_k: (n_seg,) int64 global index of each segment's first sample.
        out_k: (n,) int64 first-sample index of the chosen segment, or -1.
    """
    for i in range(px.shape[0]):
        out_k[i] = -1
        cx = math.floor((px[i] - x0) / cell_size)
        cy = math.floor((py[i] - y0) / cell_size)
        if cx < 0 or cy < 0 or cx >= nx or cy >= ny:
            continue
        c = cy * nx + cx
        best = math.inf
        for m in range(cell_start[c], cell_start[c + 1]):
            g = cell_seg[m]
            k = seg_k[g]
            cost = _segment_cost(
                px[i], py[i], yaw[i], heading_weight, seg_ax[g], seg_ay[g], seg_bx[g], seg_by[g],
                pts_heading[k], pts_heading[k + 1], best,
            )  # fmt: skip
            if cost < best:
                best = cost
                out_k[i] = k
        if best > accept_cost:
            out_k[i] = -1


@kernel
def _scan_cell(px, py, yaw, heading_weight, c, cell_start, cell_seg, seg_ax, seg_ay, seg_bx, seg_by, seg_k,
               pts_heading, best, best_k):  # fmt: skip  # pragma: no cover - compiled
    """Best (cost, k) after also considering the segments of cell ``c``."""
    for m in range(cell_start[c], cell_start[c + 1]):
        g = cell_seg[m]
        k = seg_k[g]
        cost = _segment_cost(
            px, py, yaw, heading_weight, seg_ax[g], seg_ay[g], seg_bx[g], seg_by[g],
            pts_heading[k], pts_heading[k + 1], best,
        )  # fmt: skip
        if cost < best:
            best = cost
            best_k = k
    return best, best_k


@kernel
def project_candidates_rings(
    px,
    py,
    yaw,
    heading_weight,
    cell_size,
    x0,
    y0,
    nx,
    ny,
    cell_start,
    cell_seg,
    seg_ax,
    seg_ay,
    seg_bx,
    seg_by,
    seg_k,
    pts_heading,
    out_k,
):  # pragma: no cover - compiled
    """For points with ``out_k[i] < 0`` inside the grid: exact search in growing rings of cells.

    After the rings up to Chebyshev radius r around the point's cell are scanned, every segment not
    yet seen lies wholly outside them, so it is at least ``r * cell_size`` away and costs at least as
    much; the search stops once the best cost is within that bound (or the grid is exhausted).
    Points outside the grid are left at -1.
    """
    for i in range(px.shape[0]):
        if out_k[i] >= 0:
            continue
        cx = math.floor((px[i] - x0) / cell_size)
        cy = math.floor((py[i] - y0) / cell_size)
        if cx < 0 or cy < 0 or cx >= nx or cy >= ny:
            continue
        best = math.inf
        best_k = -1
        r = 0
        while True:
            for iy in range(max(cy - r, 0), min(cy + r, ny - 1) + 1):
                on_edge_row = iy == cy - r or iy == cy + r
                step = 1 if on_edge_row else 2 * r
                ix = cx - r
                while ix <= cx + r:
                    if 0 <= ix < nx:
                        best, best_k = _scan_cell(
                            px[i], py[i], yaw[i], heading_weight, iy * nx + ix, cell_start, cell_seg,
                            seg_ax, seg_ay, seg_bx, seg_by, seg_k, pts_heading, best, best_k,
                        )  # fmt: skip
                    if r == 0:
                        break
                    ix += step
            if best <= r * cell_size or (r > cx and r > cy and r >= nx - cx and r >= ny - cy):
                break
            r += 1
        out_k[i] = best_k


@kernel
def project_candidates_brute(
    px, py, yaw, heading_weight, seg_k, pts_x, pts_y, pts_heading, out_k
):  # pragma: no cover - compiled
    """Like ``project_candidates_grid`` over every segment, for points with ``out_k[i] < 0`` only."""
    for i in range(px.shape[0]):
        if out_k[i] >= 0:
            continue
        best = math.inf
        for g in range(seg_k.shape[0]):
            k = seg_k[g]
            cost = _segment_cost(
                px[i], py[i], yaw[i], heading_weight, pts_x[k], pts_y[k], pts_x[k + 1], pts_y[k + 1],
                pts_heading[k], pts_heading[k + 1], best,
            )  # fmt: skip
            if cost < best:
                best = cost
                out_k[i] = k


@kernel
def _along(px, py, pts_x, pts_y, pts_heading, k, u):  # pragma: no cover - compiled
    """Tangential offset of (px, py) from the lane frame at (k, u) (m)."""
    x, y, h = frame_at(pts_x, pts_y, pts_heading, k, u)
    return (px - x) * math.cos(h) + (py - y) * math.sin(h)


@kernel
def refine_projection(
    px, py, seg_lane_of_k, k_in, lane_start, pts_x, pts_y, pts_s, pts_heading, out_s, out_t, out_heading
):  # pragma: no cover - compiled
    """Foot point of each point in the lane frame (the inverse of ``lane_pose_kernel``).

    Starting at segment ``k_in[i]`` of lane ``seg_lane_of_k[i]``, walks to the neighbouring segment
    while the point lies behind (or beyond) the current one in the frame, then solves
    ``(p - c(u)) . (cos h(u), sin h(u)) = 0`` for u (Illinois regula falsi). Points before the lane start or
    past its end get s clamped to 0 or the lane length.

    Args:
        seg_lane_of_k: (n,) lane of each point (-1 to skip: outputs NaN).
        out_s: (n,) m from the lane start. out_t: (n,) m, left +. out_heading: (n,) lane heading (rad).
    """
    for i in range(px.shape[0]):
        lane = seg_lane_of_k[i]
        if lane < 0:
            out_s[i] = math.nan
            out_t[i] = math.nan
            out_heading[i] = math.nan
            continue
        a = lane_start[lane]
        b = lane_start[lane + 1]
        k = k_in[i]
        for _ in range(b - a):
            if k > a and _along(px[i], py[i], pts_x, pts_y, pts_heading, k, 0.0) < 0.0:
                k -= 1
            elif k < b - 2 and _along(px[i], py[i], pts_x, pts_y, pts_heading, k, 1.0) > 0.0:
                k += 1
            else:
                break
        f0 = _along(px[i], py[i], pts_x, pts_y, pts_heading, k, 0.0)
        f1 = _along(px[i], py[i], pts_x, pts_y, pts_heading, k, 1.0)
        if f0 <= 0.0:
            u = 0.0
        elif f1 >= 0.0:
            u = 1.0
        else:
            # Illinois (modified regula falsi) on the bracket [0, 1]: f0 > 0 > f1.
            lo = 0.0
            hi = 1.0
            flo = f0
            fhi = f1
            u = 0.5
            side = 0
            for _ in range(60):
                u = (lo * fhi - hi * flo) / (fhi - flo)
                fu = _along(px[i], py[i], pts_x, pts_y, pts_heading, k, u)
                if abs(fu) < 1e-13 or hi - lo < 1e-15:
                    break
                if fu > 0.0:
                    lo = u
                    flo = fu
                    if side == 1:
                        fhi *= 0.5
                    side = 1
                else:
                    hi = u
                    fhi = fu
                    if side == -1:
                        flo *= 0.5
                    side = -1
        x, y, h = frame_at(pts_x, pts_y, pts_heading, k, u)
        out_s[i] = pts_s[k] + u * (pts_s[k + 1] - pts_s[k]) - pts_s[a]
        out_t[i] = -(px[i] - x) * math.sin(h) + (py[i] - y) * math.cos(h)
        out_heading[i] = wrap_angle(h)
