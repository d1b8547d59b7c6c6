"""Route building at scale: the crosswalk lookup grid, the vectorised polygon test and the A*
search tables give the same answers as brute force over the whole network."""

from __future__ import annotations

import heapq
import itertools

import numpy as np
import pytest

from simcore.road.generate import generate_grid
from simcore.road.lane_graph import (
    LANE_CHANGE_PENALTY_S,
    MIN_LANE_CHANGE_LANE_M,
    crosswalks_near,
    points_in_polygon,
    route_path,
    shortest_route,
)


@pytest.fixture(scope="module")
def net():
    return generate_grid(2, 3, block_m=130.0, arm_length_m=110.0)


def test_points_in_polygon_matches_hand_values():
    """Unit square and an L-shaped (concave) hexagon, points well away from the edges."""
    sq_x, sq_y = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0])
    px = np.array([0.5, 1.5, -0.2, 0.9, 0.5])
    py = np.array([0.5, 0.5, 0.5, 0.1, 1.2])
    assert points_in_polygon(px, py, sq_x, sq_y).tolist() == [True, False, False, True, False]
    # L: the unit square [0,2]x[0,2] minus its top-right quarter [1,2]x[1,2]
    lx, ly = np.array([0.0, 2.0, 2.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
    qx, qy = np.array([0.5, 1.5, 1.5, 0.5]), np.array([0.5, 0.5, 1.5, 1.5])
    assert points_in_polygon(qx, qy, lx, ly).tolist() == [True, True, False, True]
    assert points_in_polygon(np.zeros(0), np.zeros(0), sq_x, sq_y).shape == (0,)


def test_crosswalks_near_holds_every_crosswalk_a_point_is_in(net):
    """Random points over the map plus points inside every crosswalk: each crosswalk a point lies in
    (brute force over all of them) is among those the lookup grid returns for that point."""
    assert len(net.cw_names) >= 20
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = net.bounds()
    cx, cy = net.cw_x.mean(axis=1), net.cw_y.mean(axis=1)
    w = rng.uniform(0.0, 1.0, (len(cx), 4))
    w /= w.sum(axis=1, keepdims=True)
    px = np.concatenate([rng.uniform(x0, x1, 800), cx, (w * net.cw_x).sum(axis=1)])
    py = np.concatenate([rng.uniform(y0, y1, 800), cy, (w * net.cw_y).sum(axis=1)])
    inside = np.stack([points_in_polygon(px, py, net.cw_x[c], net.cw_y[c]) for c in range(len(net.cw_names))], 1)
    for i in range(len(px)):
        near = crosswalks_near(net, px[i : i + 1], py[i : i + 1])
        assert set(np.flatnonzero(inside[i]).tolist()) <= set(near), i
        assert near == sorted(near)
    hits = int(inside.sum())
    assert hits >= 2 * len(cx)  # the points placed inside crosswalks were found there
    assert crosswalks_near(net, np.array([x1 + 500.0]), np.array([y1 + 500.0])) == []


def _route_crosswalks_brute(net, path):
    """(s0, s1, id) of the crosswalks along ``path`` by testing every crosswalk of the network."""
    out = []
    for c in range(len(net.cw_names)):
        idx = np.flatnonzero(points_in_polygon(path.x, path.y, net.cw_x[c], net.cw_y[c]))
        if idx.size:
            out.append((path.s[max(idx[0] - 1, 0)], path.s[min(idx[-1] + 1, len(path.s) - 1)], c))
    return sorted(out, key=lambda t: t[0])


def _dijkstra_cost(net, start, goal):
    """Least travel time (s) from ``start`` to ``goal``: plain Dijkstra over the same edges as A*."""
    best = {start: 0.0}
    heap = [(0.0, start)]
    while heap:
        cost, lane = heapq.heappop(heap)
        if lane == goal:
            return cost
        if cost > best[lane]:
            continue
        edges = [(int(n), float(net.lane_length[n] / net.lane_speed_limit[n])) for n in net.successors(lane)]
        if net.lane_junction[lane] < 0 and net.lane_length[lane] >= MIN_LANE_CHANGE_LANE_M:
            edges += [
                (int(nb), LANE_CHANGE_PENALTY_S)
                for nb in (net.lane_left[lane], net.lane_right[lane])
                if nb >= 0 and net.lane_length[nb] >= MIN_LANE_CHANGE_LANE_M
            ]
        for nxt, c in edges:
            if cost + c < best.get(nxt, np.inf):
                best[nxt] = cost + c
                heapq.heappush(heap, (cost + c, nxt))
    raise AssertionError("no route")


def _route_cost(net, lanes):
    cost = 0.0
    for a, b in itertools.pairwise(lanes):
        if b in net.successors(a):
            cost += float(net.lane_length[b] / net.lane_speed_limit[b])
        else:
            assert b in (net.lane_left[a], net.lane_right[a]), (a, b)
            cost += LANE_CHANGE_PENALTY_S
    return cost


def test_routes_are_least_time_and_their_crosswalks_match_brute_force(net):
    """Routes across the grid: A* cost equals Dijkstra's; crosswalk intervals equal brute force."""
    starts = [i for i, n in enumerate(net.lane_names) if "_in_" in n and net.lane_junction[i] < 0]
    goals = [i for i, n in enumerate(net.lane_names) if "_out_" in n and net.lane_junction[i] < 0]
    rng = np.random.default_rng(7)
    crossed = 0
    for _ in range(12):
        a, b = int(rng.choice(starts)), int(rng.choice(goals))
        try:
            lanes = shortest_route(net, a, b)
        except ValueError:
            continue
        assert _route_cost(net, lanes) == pytest.approx(_dijkstra_cost(net, a, b), abs=1e-9)
        path = route_path(net, lanes, start_s=float(rng.uniform(0.0, 40.0)))
        brute = _route_crosswalks_brute(net, path)
        assert path.cw_s0.tolist() == [t[0] for t in brute]
        assert path.cw_s1.tolist() == [t[1] for t in brute]
        assert path.cw_id.tolist() == [t[2] for t in brute]
        crossed += len(brute)
    assert crossed > 0
