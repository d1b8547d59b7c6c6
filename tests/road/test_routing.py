"""Tests for simcore.road.lane_graph: shortest routes against a plain Dijkstra, route polylines."""

from __future__ import annotations

import heapq
import math
from itertools import pairwise

import numpy as np
import pytest

from simcore._types import LaneType
from simcore.road.generate import IntersectionLayout, generate_grid
from simcore.road.lane_graph import (
    LANE_CHANGE_PENALTY_S,
    NoRouteError,
    route_path,
    shortest_route,
)


@pytest.fixture(scope="module")
def net():
    return generate_grid(1, 1)


@pytest.fixture(scope="module")
def grid22():
    return generate_grid(2, 2)


def _edges(net, lane, lane_changes=True):
    out = [(int(n), float(net.lane_length[n] / net.lane_speed_limit[n])) for n in net.successors(lane)]
    if lane_changes and net.lane_junction[lane] < 0:
        for nb in (net.lane_left[lane], net.lane_right[lane]):
            if nb >= 0:
                out.append((int(nb), LANE_CHANGE_PENALTY_S))
    return out


def _dijkstra(net, start, lane_changes=True):
    """Plain Dijkstra over the same cost model: dist[lane] in seconds, inf if unreachable."""
    dist = np.full(net.n_lanes, np.inf)
    dist[start] = 0.0
    done = np.zeros(net.n_lanes, dtype=bool)
    heap = [(0.0, start)]
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for v, c in _edges(net, u, lane_changes):
            if d + c < dist[v]:
                dist[v] = d + c
                heapq.heappush(heap, (d + c, v))
    return dist


def _route_cost(net, route):
    cost = 0.0
    for p, q in pairwise(route):
        if q in set(net.successors(p).tolist()):
            cost += net.lane_length[q] / net.lane_speed_limit[q]
        else:
            assert q in (net.lane_left[p], net.lane_right[p])
            assert net.lane_junction[p] < 0
            cost += LANE_CHANGE_PENALTY_S
    return cost


def _assert_connected(net, route):
    for p, q in pairwise(route):
        assert q in set(net.successors(p).tolist()) or q in (net.lane_left[p], net.lane_right[p]), (
            net.lane_names[p],
            net.lane_names[q],
        )


# --------------------------------------------------------------------------------------
# shortest_route
# --------------------------------------------------------------------------------------


def test_route_straight_through(net):
    a, b = net.lane_id("south_in_1"), net.lane_id("north_out_1")
    route = shortest_route(net, a, b)
    assert [net.lane_names[i] for i in route] == ["south_in_1", "south_in_1>north_out_1", "north_out_1"]


def test_route_with_lane_change(net):
    route = shortest_route(net, net.lane_id("south_in_1"), net.lane_id("east_out_2"))
    assert [net.lane_names[i] for i in route] == [
        "south_in_1",
        "south_in_2",
        "south_in_2>east_out_2",
        "east_out_2",
    ]
    with pytest.raises(NoRouteError):
        shortest_route(net, net.lane_id("south_in_1"), net.lane_id("east_out_2"), lane_changes=False)


def test_route_to_itself(net):
    a = net.lane_id("west_in_2")
    assert shortest_route(net, a, a) == [a]


def test_no_route_errors(net):
    # no U-turns at a single junction
    with pytest.raises(NoRouteError):
        shortest_route(net, net.lane_id("south_in_1"), net.lane_id("south_out_1"))
    # out lanes of a single junction lead nowhere
    with pytest.raises(NoRouteError):
        shortest_route(net, net.lane_id("north_out_1"), net.lane_id("south_in_1"))
    # sidewalks are not part of the driving graph
    with pytest.raises(NoRouteError):
        shortest_route(net, net.lane_id("south_in_1"), net.lane_id("north_sidewalk_east"))
    assert issubclass(NoRouteError, ValueError)


def test_shortest_route_matches_dijkstra_on_random_pairs(grid22):
    g = grid22
    rng = np.random.default_rng(1234)
    driving = np.flatnonzero(g.lane_type == LaneType.DRIVING)
    n_found = n_missing = 0
    dist_cache: dict[tuple[int, bool], np.ndarray] = {}
    for _ in range(250):
        a, b = (int(v) for v in rng.choice(driving, size=2, replace=False))
        lc = bool(rng.random() < 0.8)
        if (a, lc) not in dist_cache:
            dist_cache[(a, lc)] = _dijkstra(g, a, lc)
        ref = dist_cache[(a, lc)][b]
        if np.isinf(ref):
            with pytest.raises(NoRouteError):
                shortest_route(g, a, b, lane_changes=lc)
            n_missing += 1
            continue
        route = shortest_route(g, a, b, lane_changes=lc)
        assert route[0] == a
        assert route[-1] == b
        assert len(set(route)) == len(route)
        _assert_connected(g, route)
        if not lc:
            assert all(q in set(g.successors(p).tolist()) for p, q in pairwise(route))
        cost = _route_cost(g, route)
        assert cost == pytest.approx(ref, rel=1e-9, abs=1e-9), (g.lane_names[a], g.lane_names[b])
        n_found += 1
    # the sample exercises both outcomes
    assert n_found > 50
    assert n_missing > 5


def test_shortest_route_exhaustive_from_boundary_lanes(grid22):
    """Every reachable goal from every boundary in lane: cost equals the Dijkstra optimum."""
    g = grid22
    starts = [i for i, n in enumerate(g.lane_names) if "_in_" in n and ">" not in n]
    driving = np.flatnonzero(g.lane_type == LaneType.DRIVING)
    for a in starts[::3]:
        dist = _dijkstra(g, a)
        for b in driving:
            if np.isinf(dist[b]):
                with pytest.raises(NoRouteError):
                    shortest_route(g, a, int(b))
                continue
            route = shortest_route(g, a, int(b))
            assert _route_cost(g, route) == pytest.approx(dist[b], rel=1e-9, abs=1e-9)


def test_route_prefers_cheaper_lane_change_penalty_model():
    """The cost model: a lane change is charged LANE_CHANGE_PENALTY_S, not a lane length."""
    g = generate_grid(1, 1, layout=IntersectionLayout(lanes_per_direction=3))
    a, b = g.lane_id("south_in_1"), g.lane_id("east_out_3")
    route = shortest_route(g, a, b)
    names = [g.lane_names[i] for i in route]
    assert names[:3] == ["south_in_1", "south_in_2", "south_in_3"]
    turn = g.lane_id("south_in_3>east_out_3")
    assert _route_cost(g, route) == pytest.approx(
        2 * LANE_CHANGE_PENALTY_S
        + g.lane_length[turn] / g.lane_speed_limit[turn]
        + g.lane_length[b] / g.lane_speed_limit[b]
    )


# --------------------------------------------------------------------------------------
# route_path
# --------------------------------------------------------------------------------------


def _point_at(path, s):
    return float(np.interp(s, path.s, path.x)), float(np.interp(s, path.s, path.y))


def test_route_path_straight(net):
    lanes = shortest_route(net, net.lane_id("south_in_2"), net.lane_id("north_out_2"))
    path = route_path(net, lanes)
    ds = np.diff(path.s)
    assert np.all(ds > 0)
    assert ds.max() <= 1.5
    total = sum(float(net.lane_length[i]) for i in lanes)
    assert path.length == pytest.approx(total, rel=0.01)
    np.testing.assert_allclose(path.x, 5.25, atol=1e-9)
    np.testing.assert_allclose(path.heading, np.pi / 2, atol=1e-9)
    assert path.lanes == tuple(lanes)
    # lane labels follow the route order and are non-decreasing in route position
    pos = np.array([lanes.index(int(v)) for v in path.lane])
    assert np.all(np.diff(pos) >= 0)
    assert set(path.lane.tolist()) == set(lanes)
    assert path.x[0] == pytest.approx(net.lane_points(lanes[0])[0][0])
    assert path.y[-1] == pytest.approx(net.lane_points(lanes[-1])[1][-1])


def test_route_path_length_on_turns_and_grids(net, grid22):
    for g, a, b in (
        (net, "east_in_1", "south_out_1"),
        (net, "west_in_2", "south_out_2"),
        (grid22, "r0c0.south_in_2", "r1c1.east_out_2"),
        (grid22, "r0c0.west_in_1", "r1c0.north_out_1"),
    ):
        lanes = shortest_route(g, g.lane_id(a), g.lane_id(b), lane_changes=False)
        path = route_path(g, lanes)
        ds = np.diff(path.s)
        assert np.all(ds > 0)
        assert ds.max() <= 1.5
        total = sum(float(g.lane_length[i]) for i in lanes)
        assert path.length == pytest.approx(total, rel=0.01)
        # speed limits follow the lanes
        np.testing.assert_array_equal(path.speed_limit, g.lane_speed_limit[path.lane])
        # every sample lies on the centre line of the lane it is labelled with
        for i in range(0, len(path.x), 3):
            lx, ly, _ = g.lane_points(int(path.lane[i]))
            d = np.min(np.hypot(lx - path.x[i], ly - path.y[i]))
            assert d < 1.0


def test_route_path_lane_change_is_one_lane_width_and_smooth(net):
    lanes = shortest_route(net, net.lane_id("south_in_1"), net.lane_id("east_out_2"))
    path = route_path(net, lanes)
    ds = np.diff(path.s)
    assert np.all(ds > 0)
    assert ds.max() <= 1.5
    on_in = path.y <= -15.0 + 1e-9  # samples on the approach (before the stop line)
    x_in = path.x[on_in]
    assert x_in[0] == pytest.approx(1.75)
    assert x_in[-1] == pytest.approx(5.25)
    assert x_in.max() - x_in.min() == pytest.approx(3.5, abs=1e-9)
    assert np.all(np.diff(x_in) >= -1e-12)  # moves right monotonically
    h_in = path.heading[on_in]
    assert np.abs(np.diff(h_in)).max() < 0.05
    # the lateral move is a gentle S: never steeper than ~15 degrees off north
    assert np.abs(h_in - np.pi / 2).max() < 0.25
    assert np.abs(h_in - np.pi / 2).max() > 0.05  # it does move
    dh = np.abs((np.diff(path.heading) + np.pi) % (2 * np.pi) - np.pi)
    assert dh.max() < 0.15  # the right turn (R ~ 9.75 m, ~1 m steps) is the sharpest part
    # lane labels switch from lane 1 to lane 2 exactly once
    lab = path.lane[on_in]
    i1, i2 = net.lane_id("south_in_1"), net.lane_id("south_in_2")
    assert set(lab.tolist()) <= {i1, i2}
    assert lab[0] == i1
    assert lab[-1] == i2
    assert np.count_nonzero(np.diff(lab)) == 1
    # the stop line is where south_in_2 ends
    assert len(path.stop_s) == 1
    sx, sy = _point_at(path, path.stop_s[0])
    lx, ly, _ = net.lane_points(i2)
    assert sx == pytest.approx(lx[-1], abs=1e-6)
    assert sy == pytest.approx(ly[-1], abs=1e-6)
    assert net.signal_names[path.stop_signal[0]] == "south"


def test_route_path_stop_lines_in_a_grid(grid22):
    g = grid22
    lanes = shortest_route(g, g.lane_id("r0c0.south_in_1"), g.lane_id("r1c0.north_out_1"), lane_changes=False)
    path = route_path(g, lanes)
    stop_lanes = [i for i in lanes if not math.isnan(g.lane_stop_s[i])]
    assert len(stop_lanes) == 2
    assert len(path.stop_s) == 2
    assert np.all(np.diff(path.stop_s) > 0)
    for s_stop, sig, lane in zip(path.stop_s, path.stop_signal, stop_lanes, strict=True):
        lx, ly, ls = g.lane_points(lane)
        ex = float(np.interp(g.lane_stop_s[lane], ls, lx))
        ey = float(np.interp(g.lane_stop_s[lane], ls, ly))
        px, py = _point_at(path, s_stop)
        assert math.hypot(px - ex, py - ey) < 1e-6
        assert sig == g.lane_signal[lane]
        # route s of the stop line = lengths of the lanes before it + stop s on its lane
        before = sum(float(g.lane_length[i]) for i in lanes[: lanes.index(lane)])
        assert s_stop == pytest.approx(before + g.lane_stop_s[lane], rel=1e-3)
    assert [g.signal_names[s] for s in path.stop_signal] == ["r0c0.south", "r1c0.south"]


def _inside_convex(px, py, xs, ys):
    n = len(xs)
    crs = [(xs[(k + 1) % n] - xs[k]) * (py - ys[k]) - (ys[(k + 1) % n] - ys[k]) * (px - xs[k]) for k in range(n)]
    return all(c > 0 for c in crs) or all(c < 0 for c in crs)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("south_in_1", "north_out_1"),
        ("east_in_2", "north_out_2"),
        ("west_in_1", "north_out_1"),
        ("north_in_1", "east_out_2"),
    ],
)
def test_route_path_crosswalk_intervals_cover_inside(net, a, b):
    lanes = shortest_route(net, net.lane_id(a), net.lane_id(b))
    path = route_path(net, lanes)
    assert np.all(path.cw_s1 > path.cw_s0)
    assert np.all(np.diff(path.cw_s0) >= 0)
    s_dense = np.arange(0.0, path.length, 0.02)
    xd = np.interp(s_dense, path.s, path.x)
    yd = np.interp(s_dense, path.s, path.y)
    arms_expected = {a.split("_")[0], b.split("_")[0]}
    assert {net.cw_names[c] for c in path.cw_id} == arms_expected
    for c in range(len(net.cw_names)):
        inside = np.array([_inside_convex(x, y, net.cw_x[c], net.cw_y[c]) for x, y in zip(xd, yd, strict=True)])
        ivs = [(s0, s1) for s0, s1, cid in zip(path.cw_s0, path.cw_s1, path.cw_id, strict=True) if cid == c]
        if not inside.any():
            assert not ivs
            continue
        assert ivs
        for s in s_dense[inside]:
            assert any(s0 <= s <= s1 for s0, s1 in ivs), (net.cw_names[c], s)
        # and intervals are not much longer than the crossing itself
        span = s_dense[inside].max() - s_dense[inside].min()
        assert sum(s1 - s0 for s0, s1 in ivs) <= span + 2 * 1.5 + 0.05


def test_predecessors_invert_successors():
    from simcore.road.generate import generate_grid

    net = generate_grid(2, 2)
    pairs_succ = {(a, int(b)) for a in range(net.n_lanes) for b in net.successors(a)}
    pairs_pred = {(int(a), b) for b in range(net.n_lanes) for a in net.predecessors(b)}
    assert pairs_succ == pairs_pred
    assert pairs_succ  # the grid has links
    conn = net.lane_id("r0c0.south_in_1>west_out_1")
    assert list(net.predecessors(conn)) == [net.lane_id("r0c0.south_in_1")]
