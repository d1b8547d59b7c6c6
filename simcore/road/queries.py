"""Vectorised map queries: lane poses, point-to-lane projection and what lies ahead on a route.

All positions are ENU (m), headings rad CCW from x, lateral offsets t left of the direction of
travel positive. The lane frame (chord point plus interpolated heading, see
``simcore.road.query_kernels``) is shared by ``lane_pose`` and ``project``, so
``project(*lane_pose(lane, s, t))`` gives back (lane, s, t) wherever that lane is the nearest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from simcore._types import F64, I64, LaneType
from simcore.road.lane_graph import points_in_polygon
from simcore.road.network import RoadNetwork
from simcore.road.query_kernels import (
    lane_pose_kernel,
    project_candidates_brute,
    project_candidates_grid,
    project_candidates_rings,
    refine_projection,
)
from simcore.road.spatial_index import SegmentGrid, build_segment_grid

__all__ = ["AheadItem", "ahead_on_route", "lane_pose", "project"]

#: Capsule margin (m) of the projection grid beyond half a lane width: points within
#: half width + margin of a lane are answered from the grid, farther ones by brute force.
PROJECT_MARGIN_M = 3.0
#: Default weight of the heading error when a yaw is given (m per rad).
HEADING_WEIGHT_M_PER_RAD = 2.0

#: (kind, distance ahead in m, id): kinds "stop_line" (id = signal group, -1 unsignalised),
#: "crosswalk" (crosswalk index), "junction" (junction index), "lane_end" (lane index).
AheadItem = tuple[str, float, int]


@dataclass(frozen=True)
class _ProjectionIndex:
    grid: SegmentGrid
    seg_k: I64
    seg_lane: I64
    accept_cost: float


def _f64(v, n: int | None = None) -> F64:
    a = np.ascontiguousarray(np.atleast_1d(np.asarray(v, dtype=np.float64)))
    if n is not None and a.size == 1 and n != 1:
        a = np.full(n, a[0])
    return a


def lane_pose(net: RoadNetwork, lane_ids, s, t=0.0) -> tuple[F64, F64, F64]:
    """World pose (x, y, heading) at arc length ``s`` and lateral offset ``t`` on lanes ``lane_ids``.

    Arguments broadcast against each other (scalars or (n,) arrays); ``s`` is clamped to
    [0, lane length]. Positions interpolate the lane samples linearly, headings interpolate the
    sample headings, and t is applied along the left normal of that heading.
    """
    lanes_b, s_b, t_b = np.broadcast_arrays(np.asarray(lane_ids), np.asarray(s, float), np.asarray(t, float))
    lanes = np.ascontiguousarray(lanes_b.ravel(), dtype=np.int64)
    if lanes.size and (lanes.min() < 0 or lanes.max() >= net.n_lanes):
        raise IndexError(f"lane index out of range 0..{net.n_lanes - 1}")
    n = lanes.size
    out = (np.empty(n), np.empty(n), np.empty(n))
    lane_pose_kernel(
        lanes, _f64(s_b.ravel()), _f64(t_b.ravel()), net.lane_start, net.pts_x, net.pts_y, net.pts_s,
        net.pts_heading, *out,
    )  # fmt: skip
    return out


def _index(net: RoadNetwork, lane_types: tuple[int, ...]) -> _ProjectionIndex:
    cache = net.memo("_projection_cache")
    idx = cache.get(lane_types)
    if idx is None:
        mask = np.isin(net.lane_type, np.array(lane_types, dtype=np.int8))
        lanes = np.flatnonzero(mask)
        grid = build_segment_grid(net, mask, margin_m=PROJECT_MARGIN_M)
        seg_k = [np.arange(net.lane_start[i], net.lane_start[i + 1] - 1, dtype=np.int64) for i in lanes]
        seg_lane = [np.full(net.lane_start[i + 1] - net.lane_start[i] - 1, i, dtype=np.int64) for i in lanes]
        seg_k_arr = np.concatenate(seg_k) if seg_k else np.zeros(0, np.int64)
        accept = float(grid.half_width.min()) if grid.half_width.size else 0.0
        idx = _ProjectionIndex(grid, seg_k_arr, np.concatenate(seg_lane) if seg_lane else seg_k_arr, accept)
        cache[lane_types] = idx
    return idx


def project(
    net: RoadNetwork,
    x,
    y,
    yaw=None,
    lane_types: Iterable[int] = (LaneType.DRIVING,),
    *,
    heading_weight: float = HEADING_WEIGHT_M_PER_RAD,
) -> tuple[I64, F64, F64, F64]:
    """Project points onto the best lane of the given types; returns (lane, s, t, heading_error).

    The best lane segment minimises distance + ``heading_weight`` * |yaw - lane heading| (m; the
    heading term only when ``yaw`` is given). Points near a lane are answered through a uniform
    segment grid (built once per network and lane-type set, then cached); points farther than the
    grid's smallest capsule (half lane width + ``PROJECT_MARGIN_M``) are searched exactly in growing
    rings of grid cells, and points outside the grid over all segments (brute force); every path
    gives the brute-force answer. The foot point is then refined in the lane
    frame (see the module docstring), so s and t invert ``lane_pose``.

    Returns:
        lane: (n,) int64, -1 only if no lane has the requested types.
        s: (n,) m from the lane start (clamped to the lane). t: (n,) m, left positive.
        heading_error: (n,) rad, yaw minus lane heading wrapped to (-pi, pi]; NaN without yaw.
    """
    px, py = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    px, py = _f64(px.ravel()), _f64(py.ravel())
    n = px.size
    has_yaw = yaw is not None
    pyaw = _f64(np.broadcast_to(np.asarray(yaw, float), px.shape)) if has_yaw else np.zeros(n)
    w = float(heading_weight) if has_yaw else 0.0
    idx = _index(net, tuple(sorted({int(t) for t in lane_types})))
    k = np.full(n, -1, dtype=np.int64)
    out_s, out_t, out_h = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    if idx.seg_k.size == 0:
        return k, out_s, out_t, out_h
    g = idx.grid
    project_candidates_grid(
        px, py, pyaw, w, idx.accept_cost, g.cell_size, g.x0, g.y0, g.nx, g.ny, g.cell_start, g.cell_seg,
        g.ax, g.ay, g.bx, g.by, idx.seg_k, net.pts_heading, k,
    )  # fmt: skip
    if (k < 0).any():
        project_candidates_rings(
            px, py, pyaw, w, g.cell_size, g.x0, g.y0, g.nx, g.ny, g.cell_start, g.cell_seg,
            g.ax, g.ay, g.bx, g.by, idx.seg_k, net.pts_heading, k,
        )  # fmt: skip
    if (k < 0).any():
        project_candidates_brute(px, py, pyaw, w, idx.seg_k, net.pts_x, net.pts_y, net.pts_heading, k)
    # Lane of each chosen segment: segments are numbered by first sample, lane = CSR bucket.
    lane = np.searchsorted(net.lane_start, k, side="right").astype(np.int64) - 1
    refine_projection(
        px, py, lane, k, net.lane_start, net.pts_x, net.pts_y, net.pts_s, net.pts_heading, out_s, out_t, out_h
    )
    herr = (pyaw - out_h + np.pi) % (2 * np.pi) - np.pi if has_yaw else np.full(n, np.nan)
    if has_yaw:
        herr[herr == -np.pi] = np.pi
    return lane, out_s, out_t, herr


def _crosswalk_entries(net: RoadNetwork, lane: int) -> list[tuple[float, int]]:
    """(s where the lane centre line enters the crosswalk polygon, crosswalk) for each crosswalk it crosses."""
    if not len(net.cw_names):
        return []
    x, y, s = net.lane_points(lane)
    out = []
    for c in range(len(net.cw_names)):
        cx, cy = net.cw_x[c], net.cw_y[c]
        if x.max() < cx.min() or x.min() > cx.max() or y.max() < cy.min() or y.min() > cy.max():
            continue
        inside = points_in_polygon(x, y, cx, cy)
        if inside[0]:
            out.append((0.0, c))
            continue
        best = np.inf
        # Segment/edge intersections: first parameter along the lane polyline.
        ex, ey = np.diff(x), np.diff(y)
        for e in range(len(cx)):
            qx, qy = cx[e], cy[e]
            fx, fy = cx[(e + 1) % len(cx)] - qx, cy[(e + 1) % len(cy)] - qy
            den = ex * fy - ey * fx
            with np.errstate(divide="ignore", invalid="ignore"):
                u = ((qx - x[:-1]) * fy - (qy - y[:-1]) * fx) / den
                v = ((qx - x[:-1]) * ey - (qy - y[:-1]) * ex) / den
            hit = (den != 0) & (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
            if hit.any():
                j = np.flatnonzero(hit)
                best = min(best, float(np.min(s[j] + u[j] * (s[j + 1] - s[j]))))
        if np.isfinite(best):
            out.append((best, c))
    return out


def ahead_on_route(
    net: RoadNetwork, route_lanes: Sequence[int], lane: int, s: float, horizon_m: float
) -> list[AheadItem]:
    """What lies ahead of position (``lane``, ``s``) along ``route_lanes`` within ``horizon_m``.

    Returns (kind, distance_m, id) sorted by distance (0 <= distance <= horizon), with kinds
    ``"stop_line"`` (id = its signal group, -1 for an unsignalised stop line), ``"crosswalk"``
    (crosswalk index; distance to where the lane centre line enters it), ``"junction"``
    (junction index; distance to the start of the first junction lane) and ``"lane_end"``
    (the end of the route's last lane; id = that lane). Distances run along lane centre lines.
    Consecutive route lanes that are left/right neighbours are a lane change: the run counts
    as one stretch of road whose stop lines and crosswalks are taken from its last lane (as in
    ``lane_graph.route_path``). ``lane`` must be on the route (its first occurrence is used).
    """
    lanes = [int(v) for v in route_lanes]
    if lane not in lanes:
        raise ValueError(f"lane {net.lane_names[lane]!r} is not on the route")
    i = lanes.index(lane)
    items: list[AheadItem] = []
    seen_cw: set[int] = set()
    base = -float(s)  # distance from the position to the start of the current stretch
    prev_junction = int(net.lane_junction[lanes[i - 1]]) if i > 0 else -1
    if i > 0 and lanes[i - 1] in (net.lane_left[lane], net.lane_right[lane]):
        prev_junction = int(net.lane_junction[lane])
    while i < len(lanes) and base <= horizon_m:
        run = [lanes[i]]
        while i + len(run) < len(lanes) and lanes[i + len(run)] in (net.lane_left[run[-1]], net.lane_right[run[-1]]):
            run.append(lanes[i + len(run)])
        cur = run[-1]
        j = int(net.lane_junction[cur])
        if j >= 0 and j != prev_junction and base >= 0.0:
            items.append(("junction", base, j))
        prev_junction = j
        if not np.isnan(net.lane_stop_s[cur]):
            items.append(("stop_line", base + float(net.lane_stop_s[cur]), int(net.lane_signal[cur])))
        for cs, c in _crosswalk_entries(net, cur):
            d = base + cs
            if c not in seen_cw and d >= 0.0:
                seen_cw.add(c)
                items.append(("crosswalk", d, c))
            elif d < 0.0:
                seen_cw.add(c)  # already inside or past it
        base += float(net.lane_length[cur])
        i += len(run)
        if i >= len(lanes):
            items.append(("lane_end", base, cur))
    return sorted((it for it in items if 0.0 <= it[1] <= horizon_m), key=lambda it: (it[1], it[0]))
