"""Kernels querying the static-world grid (road.static_index): objects near a point, first object on a segment.

Frame: ENU (m). The grid is ``static_index.StaticIndex``: cell ``c = iy * nx + ix`` lists (CSR
``cell_start``/``cell_obj``) every object whose bounding box touches it; object ``o`` owns the edges
``obj_seg_start[o]:obj_seg_start[o+1]`` of ``seg_ax, seg_ay, seg_bx, seg_by`` (its closed outline)
and its bounding box starts in cell ``(obj_ix0[o], obj_iy0[o])``. Every object lies inside the grid.
"""

from __future__ import annotations

import math

from simcore._jit import stage


@stage
def point_in_object(px, py, o, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by):  # pragma: no cover - compiled
    """True if (px, py) lies inside object ``o``'s outline (crossing number; boundary points may go either way)."""
    inside = False
    for g in range(obj_seg_start[o], obj_seg_start[o + 1]):
        ay, by = seg_ay[g], seg_by[g]
        if (ay > py) != (by > py):
            xc = seg_ax[g] + (py - ay) * (seg_bx[g] - seg_ax[g]) / (by - ay)
            if px < xc:
                inside = not inside
    return inside


@stage
def point_object_distance(px, py, o, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by):  # pragma: no cover - compiled
    """Distance (m) from (px, py) to object ``o``: 0 inside its outline, else to the nearest edge."""
    if point_in_object(px, py, o, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by):
        return 0.0
    best = math.inf
    for g in range(obj_seg_start[o], obj_seg_start[o + 1]):
        ex = seg_bx[g] - seg_ax[g]
        ey = seg_by[g] - seg_ay[g]
        l2 = ex * ex + ey * ey
        u = 0.0
        if l2 > 0.0:
            u = min(max(((px - seg_ax[g]) * ex + (py - seg_ay[g]) * ey) / l2, 0.0), 1.0)
        d = math.hypot(px - seg_ax[g] - u * ex, py - seg_ay[g] - u * ey)
        if d < best:
            best = d
    return best


@stage
def objects_near(
    px,
    py,
    radius,
    cell_size,
    x0,
    y0,
    nx,
    ny,
    cell_start,
    cell_obj,
    obj_ix0,
    obj_iy0,
    obj_seg_start,
    seg_ax,
    seg_ay,
    seg_bx,
    seg_by,
    out_obj,
    out_dist,
):  # pragma: no cover - compiled
    """Objects within ``radius`` (m) of (px, py): writes ids and distances (0 inside) and returns their count.

    ``out_obj``/``out_dist`` need room for every object that may qualify (the number of objects is
    always enough). Each object is reported once: only from the first cell of the query box that
    its bounding box touches. Order: by cell, then by registration.
    """
    n = 0
    if nx <= 0 or ny <= 0 or not radius >= 0.0:
        return 0
    qx0 = math.floor((px - radius - x0) / cell_size)
    qx1 = math.floor((px + radius - x0) / cell_size)
    qy0 = math.floor((py - radius - y0) / cell_size)
    qy1 = math.floor((py + radius - y0) / cell_size)
    if qx1 < 0 or qy1 < 0 or qx0 >= nx or qy0 >= ny:
        return 0
    ix0 = int(max(qx0, 0))
    ix1 = int(min(qx1, nx - 1))
    iy0 = int(max(qy0, 0))
    iy1 = int(min(qy1, ny - 1))
    for iy in range(iy0, iy1 + 1):
        for ix in range(ix0, ix1 + 1):
            c = iy * nx + ix
            for k in range(cell_start[c], cell_start[c + 1]):
                o = cell_obj[k]
                if max(obj_ix0[o], ix0) != ix or max(obj_iy0[o], iy0) != iy:
                    continue  # reported from an earlier cell of the query box
                d = point_object_distance(px, py, o, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by)
                if d <= radius:
                    out_obj[n] = o
                    out_dist[n] = d
                    n += 1
    return n


@stage
def _first_hit_in_cell(
    ax, ay, dx, dy, c, cell_start, cell_obj, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by, best_t, best_o
):  # pragma: no cover - compiled
    """Smallest segment parameter in [0, best_t) at which a -> a + d crosses an edge of an object in cell ``c``."""
    for k in range(cell_start[c], cell_start[c + 1]):
        o = cell_obj[k]
        for g in range(obj_seg_start[o], obj_seg_start[o + 1]):
            sx = seg_bx[g] - seg_ax[g]
            sy = seg_by[g] - seg_ay[g]
            den = dx * sy - dy * sx
            if den == 0.0:
                continue  # parallel edge: a grazing contact is found through the adjacent edges
            cx = seg_ax[g] - ax
            cy = seg_ay[g] - ay
            t = (cx * sy - cy * sx) / den
            u = (cx * dy - cy * dx) / den
            if 0.0 <= t <= 1.0 and 0.0 <= u <= 1.0 and t < best_t:
                best_t = t
                best_o = o
    return best_t, best_o


@stage
def segment_hits_object(
    ax,
    ay,
    bx,
    by,
    cell_size,
    x0,
    y0,
    nx,
    ny,
    cell_start,
    cell_obj,
    obj_seg_start,
    seg_ax,
    seg_ay,
    seg_bx,
    seg_by,
):  # pragma: no cover - compiled
    """First object on the segment a -> b and the distance (m) from a to where it is hit.

    Returns ``(object, distance)``, ``(-1, inf)`` when the segment touches no object. A start point
    inside an object hits it at distance 0. The cells along the segment are walked in order
    (Amanatides-Woo over the part of the segment inside the grid) and the walk stops as soon as the
    best hit lies before the current cell's exit, so only the cells up to the hit are tested.
    """
    dx = bx - ax
    dy = by - ay
    xmax = x0 + nx * cell_size
    ymax = y0 + ny * cell_size
    # Clip the segment parameter to the grid box (slabs).
    t0 = 0.0
    t1 = 1.0
    for lo, hi, p, d in ((x0, xmax, ax, dx), (y0, ymax, ay, dy)):
        if d == 0.0:
            if p < lo or p > hi:
                return -1, math.inf
        else:
            ta = (lo - p) / d
            tb = (hi - p) / d
            if ta > tb:
                ta, tb = tb, ta
            t0 = max(t0, ta)
            t1 = min(t1, tb)
    if nx <= 0 or ny <= 0 or t0 > t1:
        return -1, math.inf
    qx = ax + t0 * dx
    qy = ay + t0 * dy
    ix = min(max(math.floor((qx - x0) / cell_size), 0), nx - 1)
    iy = min(max(math.floor((qy - y0) / cell_size), 0), ny - 1)
    length = math.hypot(dx, dy)
    if t0 == 0.0:
        c = iy * nx + ix
        for k in range(cell_start[c], cell_start[c + 1]):
            o = cell_obj[k]
            if point_in_object(ax, ay, o, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by):
                return o, 0.0
    step_x = 1 if dx > 0.0 else -1
    step_y = 1 if dy > 0.0 else -1
    if dx > 0.0:
        tmax_x = (x0 + (ix + 1) * cell_size - ax) / dx
    elif dx < 0.0:
        tmax_x = (x0 + ix * cell_size - ax) / dx
    else:
        tmax_x = math.inf
    if dy > 0.0:
        tmax_y = (y0 + (iy + 1) * cell_size - ay) / dy
    elif dy < 0.0:
        tmax_y = (y0 + iy * cell_size - ay) / dy
    else:
        tmax_y = math.inf
    tdelta_x = cell_size / abs(dx) if dx != 0.0 else math.inf
    tdelta_y = cell_size / abs(dy) if dy != 0.0 else math.inf
    best_t = math.inf
    best_o = -1
    while True:
        c = iy * nx + ix
        args = (cell_start, cell_obj, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by)
        best_t, best_o = _first_hit_in_cell(ax, ay, dx, dy, c, *args, best_t, best_o)
        t_exit = min(tmax_x, tmax_y, t1)
        if best_t <= t_exit or t_exit >= t1:
            break
        if tmax_x < tmax_y:
            ix += step_x
            tmax_x += tdelta_x
        else:
            iy += step_y
            tmax_y += tdelta_y
        if ix < 0 or ix >= nx or iy < 0 or iy >= ny:
            break
    if best_o < 0:
        return -1, math.inf
    return best_o, best_t * length


@stage
def segments_hit_objects(
    ax,
    ay,
    bx,
    by,
    cell_size,
    x0,
    y0,
    nx,
    ny,
    cell_start,
    cell_obj,
    obj_seg_start,
    seg_ax,
    seg_ay,
    seg_bx,
    seg_by,
    out_obj,
    out_dist,
):  # pragma: no cover - compiled
    """``segment_hits_object`` for many segments (arrays ``ax, ay, bx, by``) into ``out_obj``/``out_dist``."""
    grid = (cell_size, x0, y0, nx, ny, cell_start, cell_obj, obj_seg_start, seg_ax, seg_ay, seg_bx, seg_by)
    for i in range(ax.shape[0]):
        o, d = segment_hits_object(ax[i], ay[i], bx[i], by[i], *grid)
        out_obj[i] = o
        out_dist[i] = d
