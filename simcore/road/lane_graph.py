"""Lane graph: shortest routes (by travel time, with lane changes) and route polylines."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from simcore._types import F64, I64
from simcore.road.network import RoadNetwork

#: Extra cost of one lane change (s), so routes prefer staying in lane.
LANE_CHANGE_PENALTY_S = 3.0
#: Length of a lane-change manoeuvre along the lane (m), capped at half the lane.
LANE_CHANGE_LENGTH_M = 25.0


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


def route_path(net: RoadNetwork, lanes: list[int]) -> RoutePath:
    """Join the centre lines of ``lanes`` into one polyline; lane changes blend smoothly.

    A lane change from lane A to its neighbour B moves across over
    ``min(LANE_CHANGE_LENGTH_M, length/2)`` centred on A's middle, blending the two centre
    lines with a smoothstep weight at equal arc length.
    """
    xs: list[F64] = []
    ys: list[F64] = []
    ln: list[I64] = []
    stops: list[tuple[int, float, int]] = []
    k = 0
    n_pts = 0
    while k < len(lanes):
        lane = lanes[k]
        lx, ly, ls = net.lane_points(lane)
        if k + 1 < len(lanes) and lanes[k + 1] in (net.lane_left[lane], net.lane_right[lane]):
            other = lanes[k + 1]
            ox, oy, os_ = net.lane_points(other)
            length = min(float(ls[-1]), float(os_[-1]))
            change = min(LANE_CHANGE_LENGTH_M, 0.5 * length)
            s0 = 0.5 * length - 0.5 * change
            s_grid = np.union1d(ls[ls <= length], os_[os_ <= length])
            wa = np.clip((s_grid - s0) / change, 0.0, 1.0)
            wb = _smoothstep(wa)
            bx = (1 - wb) * np.interp(s_grid, ls, lx) + wb * np.interp(s_grid, os_, ox)
            by = (1 - wb) * np.interp(s_grid, ls, ly) + wb * np.interp(s_grid, os_, oy)
            rest = os_ > length
            bx = np.concatenate([bx, ox[rest]])
            by = np.concatenate([by, oy[rest]])
            lane_ids = np.where(np.concatenate([s_grid, os_[rest]]) < s0 + 0.5 * change, lane, other)
            cur = other
            k += 2
        else:
            bx, by = lx, ly
            lane_ids = np.full(len(lx), lane)
            cur = lane
            k += 1
        if xs:
            bx, by, lane_ids = bx[1:], by[1:], lane_ids[1:]
        xs.append(bx)
        ys.append(by)
        ln.append(lane_ids.astype(np.int64))
        n_pts += len(bx)
        if not np.isnan(net.lane_stop_s[cur]):
            # Stop lines are measured back from the end of the lane that carries them.
            stops.append(
                (n_pts - 1, float(net.lane_length[cur] - net.lane_stop_s[cur]), int(net.lane_signal[cur]))
            )
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    s_all = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    stop_s = np.array([s_all[i] - back for i, back, _ in stops], dtype=np.float64)
    stop_signal = np.array([st[2] for st in stops], dtype=np.int64)
    lane_arr = np.concatenate(ln)
    return path_from_polyline(
        net, x, y, lane_arr, net.lane_speed_limit[lane_arr], stop_s, stop_signal, tuple(lanes)
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
    dx, dy = np.gradient(x, s), np.gradient(y, s)
    heading = np.arctan2(dy, dx)
    ddx, ddy = np.gradient(dx, s), np.gradient(dy, s)
    curvature = (dx * ddy - dy * ddx) / np.maximum((dx * dx + dy * dy) ** 1.5, 1e-12)
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
