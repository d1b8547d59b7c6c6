"""Lane graph: shortest routes (by travel time, with lane changes) and route polylines."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from simcore._types import F64, I64
from simcore.road.builder import SAMPLE_SPACING_M, heading_and_curvature
from simcore.road.network import RoadNetwork
from simcore.road.route_search_kernels import a_star_lanes

#: Extra cost of one lane change (s), so routes prefer staying in lane.
LANE_CHANGE_PENALTY_S = 3.0
#: Length of a lane-change manoeuvre along the lane (m), capped at half the lane.
LANE_CHANGE_LENGTH_M = 25.0
#: Largest spacing of route samples the driver kernels rely on (MAX_ROUTE_SPACING_M).
MAX_SAMPLE_GAP_M = 1.1
#: Shortest lane-change manoeuvre kept when an actor starts late in its lane (m).
MIN_LANE_CHANGE_M = 10.0
#: Lanes shorter than this take part in lane changes only when no route exists otherwise (m).
MIN_LANE_CHANGE_LANE_M = 2.0 * MIN_LANE_CHANGE_M
#: Route samples are at most this far apart after ``route_path`` fills in longer steps (m).
ROUTE_SPACING_M = SAMPLE_SPACING_M
#: Most heuristic values (one per lane and goal) kept on a network between route searches (32 MB).
HEURISTIC_CACHE_FLOATS = 4_000_000


_SEARCH_LOCK = threading.Lock()


class NoRouteError(ValueError):
    """No sequence of lanes joins the requested start and goal."""


def _heuristic_times(net: RoadNetwork, goal: int) -> F64:
    """Straight-line time (s) at the network's top speed from every lane's end to the start of
    ``goal``; kept per goal on the network (routes of many actors share their goals)."""
    cache = net.memo("_heuristic_cache")
    h = cache.get(goal)
    if h is None:
        if len(cache) * net.n_lanes >= HEURISTIC_CACHE_FLOATS:
            cache.clear()
        vmax = float(net.lane_speed_limit.max())
        ends = net.lane_start[1:] - 1
        gb = net.lane_start[goal]
        d = np.hypot(net.pts_x[ends] - net.pts_x[gb], net.pts_y[ends] - net.pts_y[gb])
        h = cache[goal] = np.ascontiguousarray(d / vmax, dtype=np.float64)
    return h


class _SearchGraph(NamedTuple):
    """The lane graph as flat arrays for ``a_star_lanes``, with its reusable workspace."""

    succ_start: I64
    succ_idx: I64
    succ_cost: F64  # travel time (s) of each successor: its length over its speed limit
    length: F64  # lane lengths (m)
    open_road: np.ndarray  # bool: lane outside junctions
    left: I64
    right: I64
    best: F64  # workspace: all inf between searches
    prev: I64
    touched: I64
    out: I64


def _search_graph(net: RoadNetwork) -> _SearchGraph:
    """The ``_SearchGraph`` of ``net``, built once per network."""
    cached = net.__dict__.get("_search_cache")
    if cached is None:
        n = net.n_lanes
        succ_idx = np.ascontiguousarray(net.succ_idx, dtype=np.int64)
        travel = np.asarray(net.lane_length, float) / np.asarray(net.lane_speed_limit, float)
        cached = _SearchGraph(
            np.ascontiguousarray(net.succ_start, dtype=np.int64),
            succ_idx,
            np.ascontiguousarray(travel[succ_idx]),
            np.ascontiguousarray(net.lane_length, dtype=np.float64),
            np.ascontiguousarray(net.lane_junction < 0),
            np.ascontiguousarray(net.lane_left, dtype=np.int64),
            np.ascontiguousarray(net.lane_right, dtype=np.int64),
            np.full(n, np.inf),
            np.full(n, -1, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
        )
        object.__setattr__(net, "_search_cache", cached)
    return cached


def shortest_route(net: RoadNetwork, start: int, goal: int, *, lane_changes: bool = True) -> list[int]:
    """Lanes from ``start`` to ``goal`` (both included) minimising travel time (A*).

    Edge costs: following a successor costs the successor's length over its speed limit;
    a lane change to a neighbour (outside junctions) costs ``LANE_CHANGE_PENALTY_S``. Lane
    changes are first allowed only between lanes at least ``MIN_LANE_CHANGE_LANE_M`` long (real
    maps cut roads into short lane sections); only if that finds no route are shorter ones used.
    The heuristic is straight-line distance at the network's top speed, so it never
    overestimates. Routes are kept per (start, goal, lane_changes) on the network. Raises
    ``NoRouteError`` when the goal is unreachable.
    """
    cache = net.memo("_route_cache")
    key = (int(start), int(goal), bool(lane_changes))
    route = cache.get(key)
    if route is None:
        route = None
        if lane_changes:
            route = _a_star(net, start, goal, MIN_LANE_CHANGE_LANE_M)
        if route is None:
            route = _a_star(net, start, goal, 0.0 if lane_changes else math.inf)
        if route is None:
            raise NoRouteError(f"no route from {net.lane_names[start]!r} to {net.lane_names[goal]!r}")
        cache[key] = route
    return list(route)


def _a_star(net: RoadNetwork, start: int, goal: int, min_change_len: float) -> tuple[int, ...] | None:
    """A* over successors and (between lanes at least ``min_change_len`` m long) lane changes
    (``route_search_kernels.a_star_lanes``); None when the goal is unreachable."""
    g = _search_graph(net)
    h = _heuristic_times(net, goal)
    with _SEARCH_LOCK:  # one workspace per network; the kernel releases the GIL
        n = a_star_lanes(
            int(start), int(goal), float(min_change_len), LANE_CHANGE_PENALTY_S, g.succ_start, g.succ_idx,
            g.succ_cost, g.length, g.open_road, g.left, g.right, h, g.best, g.prev, g.touched, g.out,
        )  # fmt: skip
        return None if n < 0 else tuple(int(k) for k in g.out[:n])


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
    """Even-odd test of many points against one simple polygon (vertices along the last axis of
    ``poly_x``/``poly_y``), or with (n, v) polygons, point i against polygon i (vectorised NumPy)."""
    px, py = np.asarray(px), np.asarray(py)
    x1, y1 = np.asarray(poly_x, float), np.asarray(poly_y, float)
    x2 = np.concatenate([x1[..., 1:], x1[..., :1]], axis=-1)  # next vertex
    y2 = np.concatenate([y1[..., 1:], y1[..., :1]], axis=-1)
    qx, qy = px[..., None], py[..., None]  # points along a new last axis, edges across it
    crosses = (y1 > qy) != (y2 > qy)
    with np.errstate(divide="ignore", invalid="ignore"):
        xint = x1 + (qy - y1) * (x2 - x1) / (y2 - y1)
    return np.logical_xor.reduce(crosses & (qx < xint), axis=-1, initial=False)


#: Cell size of the crosswalk lookup grid of ``crosswalks_near`` (m).
CW_CELL_M = 8.0
#: Margin added around each crosswalk's bounding box in that grid (m): covers rounding in
#: ``points_in_polygon``'s edge intersections.
CW_CELL_MARGIN_M = 1e-3


def _crosswalk_cells(net: RoadNetwork) -> tuple[int, int, int, int, I64, I64, I64]:
    """(ix0, iy0, nx, ny, cell_key, key_start, cw_of_key): for every grid cell that a crosswalk's
    bounding box (plus ``CW_CELL_MARGIN_M``) touches, the crosswalks touching it, as a CSR over
    sorted cell keys ``(ix - ix0) * ny + (iy - iy0)``. Built once per network."""
    cached = net.__dict__.get("_cw_cell_cache")
    if cached is None:
        n = len(net.cw_names)
        cx = np.asarray(net.cw_x, float).reshape(n, -1)
        cy = np.asarray(net.cw_y, float).reshape(n, -1)
        lo_x = np.floor((cx.min(axis=1, initial=np.inf) - CW_CELL_MARGIN_M) / CW_CELL_M).astype(np.int64)
        hi_x = np.floor((cx.max(axis=1, initial=-np.inf) + CW_CELL_MARGIN_M) / CW_CELL_M).astype(np.int64)
        lo_y = np.floor((cy.min(axis=1, initial=np.inf) - CW_CELL_MARGIN_M) / CW_CELL_M).astype(np.int64)
        hi_y = np.floor((cy.max(axis=1, initial=-np.inf) + CW_CELL_MARGIN_M) / CW_CELL_M).astype(np.int64)
        ix0 = int(lo_x.min(initial=0))
        iy0 = int(lo_y.min(initial=0))
        nx = int(hi_x.max(initial=0)) - ix0 + 1
        ny = int(hi_y.max(initial=0)) - iy0 + 1
        keys: list[int] = []
        cws: list[int] = []
        for c in range(n):
            for ix in range(int(lo_x[c]), int(hi_x[c]) + 1):
                for iy in range(int(lo_y[c]), int(hi_y[c]) + 1):
                    keys.append((ix - ix0) * ny + (iy - iy0))
                    cws.append(c)
        key_arr = np.array(keys, dtype=np.int64)
        cw_arr = np.array(cws, dtype=np.int64)
        order = np.lexsort((cw_arr, key_arr))
        key_arr, cw_arr = key_arr[order], cw_arr[order]
        cell_key, key_start = np.unique(key_arr, return_index=True)
        key_start = np.append(key_start, len(key_arr)).astype(np.int64)
        cached = (ix0, iy0, nx, ny, cell_key, key_start, cw_arr)
        object.__setattr__(net, "_cw_cell_cache", cached)
    return cached


def crosswalks_near(net: RoadNetwork, x: F64, y: F64) -> list[int]:
    """Crosswalks (ascending ids) whose bounding box may hold one of the points (x, y) (m, ENU).

    Every crosswalk that ``points_in_polygon`` finds a point inside is among them: a grid of
    ``CW_CELL_M`` cells lists the crosswalks over each cell, so a route looks up only the cells
    its samples fall in instead of testing every crosswalk of the network.
    """
    if len(net.cw_names) == 0 or len(x) == 0:
        return []
    ix0, iy0, nx, ny, cell_key, key_start, cw_of_key = _crosswalk_cells(net)
    ix = np.floor(np.asarray(x, float) / CW_CELL_M).astype(np.int64) - ix0
    iy = np.floor(np.asarray(y, float) / CW_CELL_M).astype(np.int64) - iy0
    on = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    keys = np.unique(ix[on] * ny + iy[on])
    pos = np.minimum(np.searchsorted(cell_key, keys), len(cell_key) - 1)
    hit = pos[cell_key[pos] == keys]
    if hit.size == 0:
        return []
    found = np.concatenate([cw_of_key[key_start[k] : key_start[k + 1]] for k in hit])
    return [int(c) for c in np.unique(found)]


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
    vs: list[F64] = []
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
            along = np.concatenate([s_grid, last[2][rest]])
            bv = np.empty(along.size)
            for lane in np.unique(lane_ids):
                on = lane_ids == lane
                bv[on] = _speeds_at(net, int(lane), along[on])
        else:
            bx, by, _ = net.lane_points(run[0])
            lane_ids = np.full(len(bx), run[0])
            bv = _lane_speeds(net, run[0])
        cur = run[-1]
        k += len(run)
        if xs:
            bx, by, lane_ids, bv = bx[1:], by[1:], lane_ids[1:], bv[1:]
        xs.append(bx)
        ys.append(by)
        vs.append(bv)
        ln.append(lane_ids.astype(np.int64))
        n_pts += len(bx)
        if not np.isnan(net.lane_stop_s[cur]):
            # Stop lines are measured back from the end of the lane that carries them.
            stops.append((n_pts - 1, float(net.lane_length[cur] - net.lane_stop_s[cur]), int(net.lane_signal[cur])))
    x, y, lane_arr, speed, stops, changes = _fill_gaps(
        np.concatenate(xs), np.concatenate(ys), np.concatenate(ln), np.concatenate(vs), stops, changes
    )
    s_all = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    stop_s = np.array([s_all[i] - back for i, back, _ in stops], dtype=np.float64)
    stop_signal = np.array([st[2] for st in stops], dtype=np.int64)
    spacing = float(np.diff(s_all).max()) if s_all.size > 1 else 0.0
    if spacing > MAX_SAMPLE_GAP_M:
        raise ValueError(f"route samples {spacing:.2f} m apart (limit {MAX_SAMPLE_GAP_M} m)")
    # Per-sample limits (signs part-way along a lane), never above the lane's (rule zones lower it).
    limit = np.minimum(speed, net.lane_speed_limit[lane_arr])
    path = path_from_polyline(net, x, y, lane_arr, limit, stop_s, stop_signal, tuple(lanes))
    return replace(
        path,
        lc_s0=np.array([s_all[i] + a for i, a, _, _, _ in changes], dtype=np.float64),
        lc_s1=np.array([s_all[i] + b for i, _, b, _, _ in changes], dtype=np.float64),
        lc_side=np.array([c[3] for c in changes], dtype=np.int64),
        lc_offset=np.array([c[4] for c in changes], dtype=np.float64),
    )


def _lane_speeds(net: RoadNetwork, lane: int) -> F64:
    """Speed limit at each sample of ``lane`` (m/s): ``pts_speed`` where the network has it."""
    a, b = net.lane_start[lane], net.lane_start[lane + 1]
    if net.pts_speed is None:
        return np.full(b - a, float(net.lane_speed_limit[lane]))
    return np.asarray(net.pts_speed[a:b], float)


def _speeds_at(net: RoadNetwork, lane: int, s: F64) -> F64:
    """Speed limits in force at arc lengths ``s`` (m) of ``lane`` (m/s)."""
    _, _, ls = net.lane_points(lane)
    k = np.clip(np.searchsorted(ls, s + 1e-9, side="right") - 1, 0, len(ls) - 1)
    return _lane_speeds(net, lane)[k]


def _fill_gaps(
    x: F64,
    y: F64,
    lane: I64,
    speed: F64,
    stops: list[tuple[int, float, int]],
    changes: list[tuple[int, float, float, int, float]],
) -> tuple[F64, F64, I64, F64, list[tuple[int, float, int]], list[tuple[int, float, float, int, float]]]:
    """Insert straight-line samples where consecutive samples are more than ``ROUTE_SPACING_M``
    apart (steep lane-change blends, lanes that end a little apart); sample indices in ``stops``
    and ``changes`` are moved to match."""
    step = np.hypot(np.diff(x), np.diff(y))
    extra = np.maximum(np.ceil(step / ROUTE_SPACING_M - 1e-9).astype(np.int64) - 1, 0)
    if not extra.any():
        return x, y, lane, speed, stops, changes
    reps = np.concatenate([extra + 1, [1]])
    seg = np.repeat(np.arange(len(x)), reps)
    frac = (np.arange(len(seg)) - np.repeat(np.cumsum(reps) - reps, reps)) / np.repeat(reps, reps)
    nxt = np.minimum(seg + 1, len(x) - 1)
    nx = x[seg] + frac * (x[nxt] - x[seg])
    ny = y[seg] + frac * (y[nxt] - y[seg])
    new_index = np.concatenate([[0], np.cumsum(reps)])[:-1]
    stops = [(int(new_index[i]), back, sig) for i, back, sig in stops]
    changes = [(int(new_index[i]), a, b, side, off) for i, a, b, side, off in changes]
    return nx, ny, lane[seg], speed[seg], stops, changes


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
    cw0, cw1, cwi = _route_crosswalks(net, x, y, s)
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


def _route_crosswalks(net: RoadNetwork, x: F64, y: F64, s: F64) -> tuple[F64, F64, I64]:
    """(s0, s1, id) of every crosswalk the samples (x, y, s) run through, by ascending id: s0/s1 at the
    samples just before the first and after the last sample inside its polygon. Only the crosswalks of
    the grid cells the samples fall in (``crosswalks_near``), and of their samples only those in the
    crosswalk's bounding box (+ ``CW_CELL_MARGIN_M``), are tested, all (sample, crosswalk) pairs at once."""
    cs = np.asarray(crosswalks_near(net, x, y), dtype=np.int64)
    if cs.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    px, py = np.asarray(net.cw_x, float)[cs], np.asarray(net.cw_y, float)[cs]
    m = CW_CELL_MARGIN_M
    in_box = (
        (x >= px.min(axis=1)[:, None] - m)
        & (x <= px.max(axis=1)[:, None] + m)
        & (y >= py.min(axis=1)[:, None] - m)
        & (y <= py.max(axis=1)[:, None] + m)
    )
    c, k = np.nonzero(in_box)  # row-major: by crosswalk, then ascending sample
    inside = points_in_polygon(x[k], y[k], px[c], py[c])
    c, k = c[inside], k[inside]
    if c.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.concatenate([[True], c[1:] != c[:-1]]))
    last = np.concatenate([first[1:], [c.size]]) - 1
    n = len(s)
    return s[np.maximum(k[first] - 1, 0)], s[np.minimum(k[last] + 1, n - 1)], cs[c[first]]


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
