"""Lane graph: shortest routes (by travel time, with lane changes) and route polylines."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace

import numpy as np

from simcore._types import F64, I64
from simcore.road.builder import heading_and_curvature
from simcore.road.network import RoadNetwork

#: Extra cost of one lane change (s), so routes prefer staying in lane.
LANE_CHANGE_PENALTY_S = 3.0
#: Length of a lane-change manoeuvre along the lane (m), capped at half the lane.
LANE_CHANGE_LENGTH_M = 25.0
#: Largest spacing of route samples the driver kernels rely on (MAX_ROUTE_SPACING_M).
MAX_SAMPLE_GAP_M = 1.1
#: Shortest lane-change manoeuvre kept when an actor starts late in its lane (m).
MIN_LANE_CHANGE_M = 10.0


class NoRouteError(ValueError):
    """No sequence of lanes joins the requested start and goal."""


def _heuristic_time(net: RoadNetwork, a: int, goal: int, vmax: float) -> float:
    ea = net.lane_start[a + 1] - 1
    gb = net.lane_start[goal]
    return float(np.hypot(net.pts_x[ea] - net.pts_x[gb], net.pts_y[ea] - net.pts_y[gb])) / vmax


def shortest_route(net: RoadNetwork, start: int, goal: int, *, lane_changes: bool = True) -> list[int]:
    """Lanes from ``start`` to ``goal`` (both included) minimising travel time (A*).

    Edge costs: following a successor costs the successor's length over its speed limit;
    a lane change to a neighbour (outside junctions) costs ``LANE_CHANGE_PENALTY_S``. The
    heuristic is straight-line distance at the network's top speed, so it never
    overestimates. Raises ``NoRouteError`` when the goal is unreachable.
    """
    vmax = float(net.lane_speed_limit.max())
    best = {start: 0.0}
    prev: dict[int, int] = {}
    heap = [(_heuristic_time(net, start, goal, vmax), 0.0, start)]
    while heap:
        _, cost, lane = heapq.heappop(heap)
        if lane == goal:
            path = [lane]
            while path[-1] != start:
                path.append(prev[path[-1]])
            return path[::-1]
        if cost > best.get(lane, np.inf):
            continue
        edges = [(int(n), float(net.lane_length[n] / net.lane_speed_limit[n])) for n in net.successors(lane)]
        if lane_changes and net.lane_junction[lane] < 0:
            for nb in (net.lane_left[lane], net.lane_right[lane]):
                if nb >= 0:
                    edges.append((int(nb), LANE_CHANGE_PENALTY_S))
        for nxt, c in edges:
            nc = cost + c
            if nc < best.get(nxt, np.inf):
                best[nxt] = nc
                prev[nxt] = lane
                heapq.heappush(heap, (nc + _heuristic_time(net, nxt, goal, vmax), nc, nxt))
    raise NoRouteError(f"no route from {net.lane_names[start]!r} to {net.lane_names[goal]!r}")


@dataclass(frozen=True)
class RoutePath:
    """A route as one sampled polyline (ENU, m) with what lies along it.

    Attributes:
        x, y, s, heading, curvature, speed_limit: (n,) samples; s from 0 at the first lane's start.
        lane: (n,) lane of each sample.
        stop_s, stop_signal: (k,) stop lines along the route (route s, m) and their signal group.
        cw_s0, cw_s1, cw_id: (c,) route intervals inside crosswalk polygons (m) and crosswalk index.
        lanes: the lane sequence.
        lc_s0, lc_s1, lc_side, lc_offset: lane changes along the route: start and end (route
            s, m), side (+1 left, -1 right) and lateral distance between the lanes (m).
    """

    x: F64
    y: F64
    s: F64
    heading: F64
    curvature: F64
    speed_limit: F64
    lane: I64
    stop_s: F64
    stop_signal: I64
    cw_s0: F64
    cw_s1: F64
    cw_id: I64
    lanes: tuple[int, ...]
    lc_s0: F64 = field(default_factory=lambda: np.zeros(0))
    lc_s1: F64 = field(default_factory=lambda: np.zeros(0))
    lc_side: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lc_offset: F64 = field(default_factory=lambda: np.zeros(0))

    @property
    def length(self) -> float:
        """Total route length (m)."""
        return float(self.s[-1])


def _smoothstep(u: F64) -> F64:
    return u * u * (3.0 - 2.0 * u)


def points_in_polygon(px: F64, py: F64, poly_x: F64, poly_y: F64) -> np.ndarray:
    """Even-odd test of many points against one simple polygon (vectorised NumPy)."""
    inside = np.zeros(px.shape, dtype=bool)
    n = len(poly_x)
    for k in range(n):
        x1, y1 = poly_x[k], poly_y[k]
        x2, y2 = poly_x[(k + 1) % n], poly_y[(k + 1) % n]
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < xint)
    return inside


def _blend(
    run: list[int], pts: list[tuple[F64, F64, F64]], s_grid: F64, starts: list[float], change: float
) -> tuple[F64, F64, I64]:
    """(x, y, lane) at ``s_grid`` (m) of a run of lane changes: change j blends centre line j into
    j + 1 with a smoothstep weight over [starts[j], starts[j] + change] (m)."""
    bx = np.interp(s_grid, pts[0][2], pts[0][0])
    by = np.interp(s_grid, pts[0][2], pts[0][1])
    lane_ids = np.full(s_grid.size, run[0])
    for j, s0 in enumerate(starts):
        w = _smoothstep(np.clip((s_grid - s0) / change, 0.0, 1.0))
        a_s, b_s = pts[j][2], pts[j + 1][2]
        bx += w * (np.interp(s_grid, b_s, pts[j + 1][0]) - np.interp(s_grid, a_s, pts[j][0]))
        by += w * (np.interp(s_grid, b_s, pts[j + 1][1]) - np.interp(s_grid, a_s, pts[j][1]))
        lane_ids[s_grid >= s0 + 0.5 * change] = run[j + 1]
    return bx, by, lane_ids


def route_path(net: RoadNetwork, lanes: list[int], start_s: float = 0.0) -> RoutePath:
    """Join the centre lines of ``lanes`` into one polyline; lane changes blend smoothly.

    A run of m lane changes across neighbours L0 -> L1 -> ... -> Lm within one stretch of
    road splits its length into m + 1 parts; change j moves across over
    ``min(LANE_CHANGE_LENGTH_M, length / (m + 1))`` centred at (j + 1) / (m + 1) of the
    length, blending consecutive centre lines with a smoothstep weight at equal arc length.
    Each change is reported as an interval (lc_s0, lc_s1) of route s with its side
    (+1 left, -1 right) and lateral offset (m). On the first stretch only the part after
    ``start_s`` (where the actor starts, m along the first lane) is used, so an actor never
    starts in the middle of a lane change.
    """
    xs: list[F64] = []
    ys: list[F64] = []
    ln: list[I64] = []
    stops: list[tuple[int, float, int]] = []
    changes: list[tuple[int, float, float, int, float]] = []
    k = 0
    n_pts = 0
    while k < len(lanes):
        run = [lanes[k]]
        while k + len(run) < len(lanes) and lanes[k + len(run)] in (
            net.lane_left[run[-1]],
            net.lane_right[run[-1]],
        ):
            run.append(lanes[k + len(run)])
        seg_start = max(n_pts - 1, 0)
        if len(run) > 1:
            pts = [net.lane_points(lane) for lane in run]
            length = min(float(p[2][-1]) for p in pts)
            m = len(run) - 1
            first = min(start_s, max(length - (m + 1) * MIN_LANE_CHANGE_M, 0.0)) if k == 0 else 0.0
            usable = length - first
            change = min(LANE_CHANGE_LENGTH_M, usable / (m + 1))
            starts = [first + (j + 1) / (m + 1) * usable - 0.5 * change for j in range(m)]
            s_grid = np.unique(np.concatenate([p[2][p[2] <= length] for p in pts]))
            bx, by, lane_ids = _blend(run, pts, s_grid, starts, change)
            if np.hypot(np.diff(bx), np.diff(by)).max(initial=0.0) > MAX_SAMPLE_GAP_M:
                # A short change (a late start) crosses a lane width in a few metres: sample it
                # finer so that the route's samples stay within MAX_SAMPLE_GAP_M of each other.
                fine = [np.arange(s0, s0 + change, 0.25 * MAX_SAMPLE_GAP_M) for s0 in starts]
                s_grid = np.unique(np.concatenate([s_grid, *fine]))
                s_grid = s_grid[(s_grid >= 0.0) & (s_grid <= length)]
                bx, by, lane_ids = _blend(run, pts, s_grid, starts, change)
            for j in range(m):
                side = 1 if run[j + 1] == net.lane_left[run[j]] else -1
                offset = 0.5 * (net.lane_width[run[j]] + net.lane_width[run[j + 1]])
                changes.append((seg_start, starts[j], starts[j] + change, side, float(offset)))
            last = pts[-1]
            rest = last[2] > length
            bx = np.concatenate([bx, last[0][rest]])
            by = np.concatenate([by, last[1][rest]])
            lane_ids = np.concatenate([lane_ids, np.full(int(rest.sum()), run[-1])])
        else:
            bx, by, _ = net.lane_points(run[0])
            lane_ids = np.full(len(bx), run[0])
        cur = run[-1]
        k += len(run)
        if xs:
            bx, by, lane_ids = bx[1:], by[1:], lane_ids[1:]
        xs.append(bx)
        ys.append(by)
        ln.append(lane_ids.astype(np.int64))
        n_pts += len(bx)
        if not np.isnan(net.lane_stop_s[cur]):
            # Stop lines are measured back from the end of the lane that carries them.
            stops.append((n_pts - 1, float(net.lane_length[cur] - net.lane_stop_s[cur]), int(net.lane_signal[cur])))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    s_all = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    stop_s = np.array([s_all[i] - back for i, back, _ in stops], dtype=np.float64)
    stop_signal = np.array([st[2] for st in stops], dtype=np.int64)
    lane_arr = np.concatenate(ln)
    spacing = float(np.diff(s_all).max()) if s_all.size > 1 else 0.0
    if spacing > MAX_SAMPLE_GAP_M:
        raise ValueError(f"route samples {spacing:.2f} m apart (limit {MAX_SAMPLE_GAP_M} m)")
    path = path_from_polyline(net, x, y, lane_arr, net.lane_speed_limit[lane_arr], stop_s, stop_signal, tuple(lanes))
    return replace(
        path,
        lc_s0=np.array([s_all[i] + a for i, a, _, _, _ in changes], dtype=np.float64),
        lc_s1=np.array([s_all[i] + b for i, _, b, _, _ in changes], dtype=np.float64),
        lc_side=np.array([c[3] for c in changes], dtype=np.int64),
        lc_offset=np.array([c[4] for c in changes], dtype=np.float64),
    )


def path_from_polyline(
    net: RoadNetwork,
    x: F64,
    y: F64,
    lane: I64,
    speed_limit: F64,
    stop_s: F64 | None = None,
    stop_signal: I64 | None = None,
    lanes: tuple[int, ...] = (),
) -> RoutePath:
    """Make a RoutePath from raw samples: drops repeated points, derives s, heading,
    curvature, and finds where the path runs through the network's crosswalks."""
    s_all = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    keep = np.concatenate([[True], np.diff(s_all) > 1e-9])
    x, y, s = x[keep], y[keep], s_all[keep]
    lane, speed_limit = lane[keep], speed_limit[keep]
    heading, curvature = heading_and_curvature(x, y, s)
    cw0, cw1, cwi = [], [], []
    for c in range(len(net.cw_names)):
        inside = points_in_polygon(x, y, net.cw_x[c], net.cw_y[c])
        if inside.any():
            idx = np.flatnonzero(inside)
            cw0.append(float(s[max(idx[0] - 1, 0)]))
            cw1.append(float(s[min(idx[-1] + 1, len(s) - 1)]))
            cwi.append(c)
    order = np.argsort(cw0, kind="stable")
    return RoutePath(
        x=x,
        y=y,
        s=s,
        heading=heading,
        curvature=curvature,
        speed_limit=speed_limit,
        lane=lane,
        stop_s=stop_s if stop_s is not None else np.zeros(0),
        stop_signal=stop_signal if stop_signal is not None else np.zeros(0, dtype=np.int64),
        cw_s0=np.array(cw0, dtype=np.float64)[order],
        cw_s1=np.array(cw1, dtype=np.float64)[order],
        cw_id=np.array(cwi, dtype=np.int64)[order],
        lanes=lanes,
    )


def route_grade(net: RoadNetwork, path: RoutePath) -> F64:
    """Road grade angle (rad, uphill along the route positive) at every route sample.

    Each sample takes the elevation of the nearest centre-line sample of its own lane; the
    grade is atan(dz/ds) by second-order differences. Flat maps and samples off lanes give 0.
    """
    if net.pts_z is None or not np.any(net.pts_z) or len(path.s) < 3:
        return np.zeros(len(path.s))
    z = np.zeros(len(path.s))
    for lane in np.unique(path.lane[path.lane >= 0]):
        k = np.flatnonzero(path.lane == lane)
        a, b = net.lane_start[lane], net.lane_start[lane + 1]
        d2 = (path.x[k, None] - net.pts_x[None, a:b]) ** 2 + (path.y[k, None] - net.pts_y[None, a:b]) ** 2
        z[k] = net.pts_z[a:b][np.argmin(d2, axis=1)]
    grade = np.arctan(np.gradient(z, path.s, edge_order=2))
    return np.where(path.lane >= 0, grade, 0.0)
