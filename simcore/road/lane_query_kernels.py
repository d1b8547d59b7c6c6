"""Kernels answering point-to-lane queries through the uniform segment grid (road.spatial_index)."""

from __future__ import annotations

import math

from simcore._jit import kernel
from simcore.geometry.kernels import project_point_segment


@kernel
def project_points_on_grid(
    px,
    py,
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
    seg_lane,
    seg_s0,
    out_lane,
    out_s,
    out_t,
    out_dist,
):  # pragma: no cover - compiled
    """Nearest lane segment to each point among those registered in the point's grid cell.

    Frame: ENU (m). The grid is ``spatial_index.SegmentGrid`` (cell ``c = iy * nx + ix`` lists the
    segments whose capsule of half lane width + margin touches it), so every lane whose capsule
    contains the point is found; points farther than that from all lanes get lane -1.

    Foot point of segment a->b: ``u = clamp(((p - a) . e) / |e|^2, 0, 1)`` with ``e = b - a``;
    ``s = seg_s0 + u |e|``; ``t`` = signed distance, left of the segment positive.

    Args:
        px, py: (n,) query points (m).
        cell_size, x0, y0, nx, ny, cell_start, cell_seg, seg_ax, seg_ay, seg_bx, seg_by: the grid.
        seg_lane: (n_seg,) int64 lane of each segment. seg_s0: (n_seg,) lane s at the segment start (m).
        out_lane: (n,) int64 lane index or -1. out_s: (n,) lane s (m), NaN if none.
        out_t: (n,) lateral offset (m, left positive), NaN if none. out_dist: (n,) distance (m), inf if none.
    """
    for i in range(px.shape[0]):
        out_lane[i] = -1
        out_s[i] = math.nan
        out_t[i] = math.nan
        out_dist[i] = math.inf
        cx = math.floor((px[i] - x0) / cell_size)
        cy = math.floor((py[i] - y0) / cell_size)
        if cx < 0 or cy < 0 or cx >= nx or cy >= ny:
            continue
        c = cy * nx + cx
        best = math.inf
        for m in range(cell_start[c], cell_start[c + 1]):
            g = cell_seg[m]
            ax = seg_ax[g]
            ay = seg_ay[g]
            u, d2 = project_point_segment(px[i], py[i], ax, ay, seg_bx[g], seg_by[g])
            if d2 < best:
                best = d2
                ex = seg_bx[g] - ax
                ey = seg_by[g] - ay
                out_lane[i] = seg_lane[g]
                out_s[i] = seg_s0[g] + u * math.sqrt(ex * ex + ey * ey)
                d = math.sqrt(d2)
                out_t[i] = d if ex * (py[i] - ay) - ey * (px[i] - ax) >= 0.0 else -d
                out_dist[i] = d
