"""Tests for simcore.road.queries: lane poses, projection and what lies ahead on a route."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore._types import LaneType
from simcore.road.frenet_kernels import project_on_polyline, project_points_to_lanes
from simcore.road.generate import generate_grid
from simcore.road.lane_graph import shortest_route
from simcore.road.queries import ahead_on_route, lane_pose, project

W = 3.5  # default lane width of generated maps


@pytest.fixture(scope="module")
def net():
    return generate_grid(1, 1)


@pytest.fixture(scope="module")
def grid22():
    return generate_grid(2, 2)


def _wrap(a):
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def test_lane_pose_on_straight_lanes_matches_closed_form(net):
    lane = net.lane_id("south_in_1")  # from (1.75, -80) northwards
    s = np.array([0.0, 10.0, 33.3, 65.0])
    t = np.array([0.0, 0.5, -1.2, 1.75])
    x, y, h = lane_pose(net, np.full(4, lane), s, t)
    np.testing.assert_allclose(x, 1.75 - t, atol=1e-12)
    np.testing.assert_allclose(y, -80.0 + s, atol=1e-12)
    np.testing.assert_allclose(h, math.pi / 2, atol=1e-12)
    east = net.lane_id("east_out_2")  # from (15, -5.25) eastwards
    x, y, h = lane_pose(net, east, 20.0, 1.0)
    np.testing.assert_allclose([x[0], y[0], h[0]], [35.0, -4.25, 0.0], atol=1e-12)


def test_lane_pose_clamps_s_to_the_lane(net):
    lane = net.lane_id("south_in_1")
    x, y, _ = lane_pose(net, [lane, lane], [-5.0, 1000.0], 0.0)
    np.testing.assert_allclose(x, [1.75, 1.75])
    np.testing.assert_allclose(y, [-80.0, -15.0])


def test_lane_pose_on_a_quarter_turn_lies_on_the_circle(net):
    # Right turn from the outer south lane (x = 5.25, stop line y = -15) into the outer east
    # lane (y = -5.25, x = 15): a quarter circle of radius 9.75 m about (15, -15).
    lane = net.lane_id("south_in_2>east_out_2")
    r, cx, cy = 9.75, 15.0, -15.0
    assert net.lane_length[lane] == pytest.approx(math.pi / 2 * r, abs=0.02)
    s = np.linspace(0.0, net.lane_length[lane], 41)
    for t in (-1.5, 0.0, 1.5):
        x, y, h = lane_pose(net, np.full(s.size, lane), s, t)
        # Left of a right turn is away from the centre; samples are chords of the Bezier arc.
        np.testing.assert_allclose(np.hypot(x - cx, y - cy), r + t, atol=0.02)
        expected_heading = np.arctan2(y - cy, x - cx) - math.pi / 2
        np.testing.assert_allclose(_wrap(h - expected_heading), 0.0, atol=0.01)
        # Arc length: the angle swept from the start is s / r.
        swept = np.arctan2(y - cy, x - cx) - math.pi
        np.testing.assert_allclose(_wrap(-swept), s / r, atol=0.01)


def test_project_inverts_lane_pose_on_the_quarter_turn(net):
    # Away from both ends, where the straight connectors from the same lane (and into the same
    # lane) start and end at the same points, and close to the centre line: farther out the
    # crossing connectors are legitimately nearer.
    lane = net.lane_id("south_in_2>east_out_2")
    s = np.linspace(3.0, net.lane_length[lane] - 3.0, 57)
    t = np.resize([-0.5, -0.2, 0.0, 0.3, 0.5], s.size)
    x, y, h = lane_pose(net, np.full(s.size, lane), s, t)
    got_lane, got_s, got_t, herr = project(net, x, y, h)
    assert (got_lane == lane).all()
    np.testing.assert_allclose(got_s, s, atol=1e-9)
    np.testing.assert_allclose(got_t, t, atol=1e-9)
    np.testing.assert_allclose(herr, 0.0, atol=1e-9)
    # Farther out, whichever lane wins, its (lane, s, t) is the same world point.
    t_far = np.resize([-1.5, 1.6], s.size)
    x, y, h = lane_pose(net, np.full(s.size, lane), s, t_far)
    got_lane, got_s, got_t, _ = project(net, x, y, h)
    assert (net.lane_junction[got_lane] == net.lane_junction[lane]).all()
    bx, by, _ = lane_pose(net, got_lane, got_s, got_t)
    np.testing.assert_allclose(bx, x, atol=1e-9)
    np.testing.assert_allclose(by, y, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.02, 0.98), st.floats(-0.45, 0.45))
def test_round_trip_pose_project(grid22, pick, frac, tfrac):
    net = grid22
    lanes = np.flatnonzero(net.driving_mask() & (net.lane_junction < 0))
    lane = int(lanes[pick % lanes.size])
    s = frac * net.lane_length[lane]
    t = tfrac * net.lane_width[lane]
    x, y, h = lane_pose(net, lane, s, t)
    got_lane, got_s, got_t, herr = project(net, x, y, h)
    assert got_lane[0] == lane
    assert got_s[0] == pytest.approx(s, abs=1e-9)
    assert got_t[0] == pytest.approx(t, abs=1e-9)
    assert herr[0] == pytest.approx(0.0, abs=1e-9)


def test_project_finds_the_geometrically_nearest_lane_like_brute_force(grid22):
    net = grid22
    rng = np.random.default_rng(1)
    xmin, ymin, xmax, ymax = net.bounds()
    # Points on and near lanes (grid path) and anywhere, including far outside (fallback path).
    px = np.concatenate([rng.uniform(xmin, xmax, 1500), rng.uniform(-600, 800, 300)])
    py = np.concatenate([rng.uniform(ymin, ymax, 1500), rng.uniform(-600, 800, 300)])
    lane, s, t, herr = project(net, px, py)
    assert (lane >= 0).all() and np.isnan(herr).all()
    mask = net.driving_mask()
    ref = [np.empty(px.size, np.int64), np.empty(px.size), np.empty(px.size), np.empty(px.size)]
    project_points_to_lanes(
        px, py, np.zeros(px.size), 0.0, mask, net.lane_start, net.pts_x, net.pts_y, net.pts_s, net.pts_heading, *ref
    )
    # Ties between lanes aside, the chosen lane is as near (by chord distance) as the brute-force one.
    for i in range(px.size):
        a, b = net.lane_start[lane[i]], net.lane_start[lane[i] + 1]
        d2 = project_on_polyline(px[i], py[i], net.pts_x, net.pts_y, net.pts_s, a, b)[3]
        assert math.sqrt(d2) == pytest.approx(abs(ref[2][i]), abs=1e-9)
        assert 0.0 <= s[i] <= net.lane_length[lane[i]] + 1e-9
    # The pose of the answer is the point itself wherever the foot is inside the lane.
    inside = (s > 1e-6) & (s < net.lane_length[lane] - 1e-6)
    x, y, _ = lane_pose(net, lane[inside], s[inside], t[inside])
    np.testing.assert_allclose(x, px[inside], atol=1e-6)
    np.testing.assert_allclose(y, py[inside], atol=1e-6)


def test_yaw_picks_the_lane_travelling_that_way(net):
    # On the centre line between south_in_1 (northbound) and south_out_1 (southbound).
    x, y = np.array([0.0, 0.0]), np.array([-50.0, -50.0])
    lane, _, t, herr = project(net, x, y, [math.pi / 2 + 0.2, -math.pi / 2])
    assert net.lane_names[lane[0]] == "south_in_1"
    assert net.lane_names[lane[1]] == "south_out_1"
    np.testing.assert_allclose(t, [1.75, 1.75], atol=1e-12)
    np.testing.assert_allclose(herr, [0.2, 0.0], atol=1e-12)


def test_project_by_lane_type(net):
    lane, _, t, _ = project(net, [0.0], [-50.0], lane_types=(LaneType.SIDEWALK,))
    assert net.lane_type[lane[0]] == LaneType.SIDEWALK
    assert abs(t[0]) == pytest.approx(2 * W + 1.0)


def test_ahead_on_route_straight_through(net):
    start = net.lane_id("south_in_1")
    route = shortest_route(net, start, net.lane_id("north_out_1"))
    south = net.signal_names.index("south")
    items = ahead_on_route(net, route, start, 5.0, 500.0)
    # Stop line at the end of the 65 m approach; the connector runs y = -15 .. 15 and crosses the
    # south crosswalk (y = -14 .. -10) and the north one (y = 10 .. 14); north_out_1 is 65 m long.
    assert items == [
        ("junction", pytest.approx(60.0), 0),
        ("stop_line", pytest.approx(60.0), south),
        ("crosswalk", pytest.approx(61.0), net.cw_names.index("south")),
        ("crosswalk", pytest.approx(85.0), net.cw_names.index("north")),
        ("lane_end", pytest.approx(155.0), net.lane_id("north_out_1")),
    ]
    assert [k for k, _, _ in ahead_on_route(net, route, start, 5.0, 60.5)] == ["junction", "stop_line"]


def test_ahead_on_route_from_inside_the_junction(net):
    conn = net.lane_id("south_in_1>north_out_1")
    route = [net.lane_id("south_in_1"), conn, net.lane_id("north_out_1")]
    items = ahead_on_route(net, route, conn, 3.0, 100.0)
    assert [(k, round(d, 6)) for k, d, _ in items] == [("crosswalk", 22.0), ("lane_end", 92.0)]


def test_ahead_on_route_with_a_lane_change(net):
    route = shortest_route(net, net.lane_id("south_in_1"), net.lane_id("east_out_2"))
    assert len(route) == 4  # south_in_1, change to south_in_2, right turn, east_out_2
    items = ahead_on_route(net, route, route[0], 0.0, 70.0)
    assert items[:2] == [("junction", pytest.approx(65.0), 0), ("stop_line", pytest.approx(65.0), 2)]
    with pytest.raises(ValueError, match="not on the route"):
        ahead_on_route(net, route, net.lane_id("north_in_1"), 0.0, 10.0)
