"""Tests for simcore.road.generate: lane inventory, right-hand geometry, junction furniture."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from simcore._types import LaneType
from simcore.road.frenet_kernels import on_drivable
from simcore.road.generate import (
    CROSSWALK_WIDTH_M,
    BuildingLayout,
    IntersectionLayout,
    city_blocks,
    generate_city,
    generate_grid,
)
from simcore.road.lane_graph import points_in_polygon, shortest_route
from simcore.road.spatial_index import build_segment_grid

ARMS = ("north", "east", "south", "west")
UNIT = {"north": (0.0, 1.0), "east": (1.0, 0.0), "south": (0.0, -1.0), "west": (-1.0, 0.0)}


@pytest.fixture(scope="module")
def net():
    return generate_grid(1, 1)


@pytest.fixture(scope="module")
def grid23():
    return generate_grid(2, 3)


def _wrap(a):
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def _lane_xy(net, lane):
    x, y, _ = net.lane_points(lane)
    return x, y


def _predecessors(net, lane):
    return [p for p in range(net.n_lanes) if lane in set(net.successors(p).tolist())]


def _inventory(net):
    names = net.lane_names
    junc = net.lane_junction >= 0
    kinds = {
        "in": [i for i, n in enumerate(names) if "_in_" in n and ">" not in n],
        "out": [i for i, n in enumerate(names) if "_out_" in n and ">" not in n],
        "sidewalk": [i for i, n in enumerate(names) if "_sidewalk_" in n],
        "connector": [i for i in range(len(names)) if junc[i]],
    }
    return kinds


# --------------------------------------------------------------------------------------
# Inventory
# --------------------------------------------------------------------------------------


def test_four_arm_lane_counts_by_type(net):
    kinds = _inventory(net)
    assert len(kinds["in"]) == 8
    assert len(kinds["out"]) == 8
    assert len(kinds["sidewalk"]) == 8
    assert len(kinds["connector"]) == 16
    assert net.n_lanes == 8 + 8 + 8 + 16
    n_driving = int(np.sum(net.lane_type == LaneType.DRIVING))
    n_sidewalk = int(np.sum(net.lane_type == LaneType.SIDEWALK))
    assert n_driving == 32
    assert n_sidewalk == 8
    for i in kinds["sidewalk"]:
        assert net.lane_type[i] == LaneType.SIDEWALK
    for i in kinds["in"] + kinds["out"] + kinds["connector"]:
        assert net.lane_type[i] == LaneType.DRIVING
    # Per arm: 2 straight + 1 left + 1 right.
    for arm in ARMS:
        conns = [net.lane_names[i] for i in kinds["connector"] if net.lane_names[i].startswith(f"{arm}_in_")]
        assert len(conns) == 4, conns
    assert len(net.cw_names) == 4
    assert sorted(net.cw_names) == sorted(ARMS)
    assert net.junction_names == ("center",)
    assert len(net.signal_names) == 5  # 4 arms + pedestrians


def test_three_arm_variant_counts():
    net3 = generate_grid(1, 1, layout=IntersectionLayout(arms=("east", "south", "west")))
    kinds = _inventory(net3)
    assert len(kinds["in"]) == 6
    assert len(kinds["out"]) == 6
    assert len(kinds["sidewalk"]) == 6
    # east: 2 straight (to west) + 1 left (to south); west: 2 straight + 1 right (to south);
    # south: 1 left (to west) + 1 right (to east).
    assert len(kinds["connector"]) == 8
    assert not any(n.startswith("north") for n in net3.lane_names)
    for name in (
        "east_in_1>south_out_1",
        "west_in_2>south_out_2",
        "south_in_1>west_out_1",
        "south_in_2>east_out_2",
        "east_in_2>west_out_2",
    ):
        assert name in net3.lane_names
    assert "south_in_1>north_out_1" not in net3.lane_names
    assert len(net3.cw_names) == 3
    assert len(net3.signal_names) == 4


def test_lane_names_resolve(net):
    for name in (
        "south_in_1",
        "west_out_2",
        "south_in_1>west_out_1",
        "south_in_2>east_out_2",
        "north_in_2>south_out_2",
        "east_sidewalk_north",
    ):
        i = net.lane_id(name)
        assert net.lane_names[i] == name
    with pytest.raises(KeyError):
        net.lane_id("south_in_3")
    with pytest.raises(KeyError):
        net.lane_id("south_in_2>west_out_2")  # left turns only from lane 1


def test_turn_rules(net):
    """Left from lane 1 into lane 1, right from the outermost, straight lane-to-same-lane."""
    for arm in ARMS:
        for k in (1, 2):
            succ = {net.lane_names[j] for j in net.successors(net.lane_id(f"{arm}_in_{k}"))}
            straight_to = {"north": "south", "south": "north", "east": "west", "west": "east"}
            expected = {f"{arm}_in_{k}>{straight_to[arm]}_out_{k}"}
            u = np.array(UNIT[arm])
            h = -u
            left = (-h[1], h[0])
            right = (h[1], -h[0])
            left_arm = next(a for a in ARMS if np.allclose(UNIT[a], left))
            right_arm = next(a for a in ARMS if np.allclose(UNIT[a], right))
            if k == 1:
                expected.add(f"{arm}_in_1>{left_arm}_out_1")
            else:
                expected.add(f"{arm}_in_2>{right_arm}_out_2")
            assert succ == expected


# --------------------------------------------------------------------------------------
# Right-hand traffic geometry
# --------------------------------------------------------------------------------------


def test_right_hand_traffic_south_arm(net):
    w = 3.5
    for k in (1, 2):
        i = net.lane_id(f"south_in_{k}")
        x, y = _lane_xy(net, i)
        a, b = net.lane_start[i], net.lane_start[i + 1]
        assert np.all(x > 0)
        np.testing.assert_allclose(x, (k - 0.5) * w, atol=1e-9)
        assert np.all(np.diff(y) > 0)  # heading north
        np.testing.assert_allclose(net.pts_heading[a:b], np.pi / 2, atol=1e-9)
        assert np.all(y < 0)
        o = net.lane_id(f"south_out_{k}")
        x, y = _lane_xy(net, o)
        a, b = net.lane_start[o], net.lane_start[o + 1]
        assert np.all(x < 0)
        np.testing.assert_allclose(x, -(k - 0.5) * w, atol=1e-9)
        assert np.all(np.diff(y) < 0)  # heading south
        np.testing.assert_allclose(net.pts_heading[a:b], -np.pi / 2, atol=1e-9)


@pytest.mark.parametrize("arm", ARMS)
def test_right_hand_traffic_every_arm(net, arm):
    """Traffic keeps right: the in lanes lie to the right of the inbound driver's view."""
    u = np.array(UNIT[arm])
    for k in (1, 2):
        for kind, direction in (("in", -u), ("out", u)):
            i = net.lane_id(f"{arm}_{kind}_{k}")
            x, y = _lane_xy(net, i)
            heading = np.array([x[-1] - x[0], y[-1] - y[0]])
            heading /= np.linalg.norm(heading)
            np.testing.assert_allclose(heading, direction, atol=1e-12)
            right = np.array([direction[1], -direction[0]])
            lateral = x * right[0] + y * right[1]
            # Centre line of the road passes through the junction centre (0, 0).
            np.testing.assert_allclose(lateral, (k - 0.5) * 3.5, atol=1e-9)


def test_lane_widths_and_neighbours(net):
    kinds = _inventory(net)
    for i in kinds["in"] + kinds["out"] + kinds["connector"]:
        assert net.lane_width[i] == pytest.approx(3.5)
    for i in kinds["sidewalk"]:
        assert net.lane_width[i] == pytest.approx(2.0)
    wide = generate_grid(1, 1, layout=IntersectionLayout(lane_width=4.0, lanes_per_direction=3))
    i = wide.lane_id("east_in_3")
    assert wide.lane_width[i] == pytest.approx(4.0)
    _, y = _lane_xy(wide, i)
    np.testing.assert_allclose(y, 2.5 * 4.0, atol=1e-9)
    # Adjacent lanes are one lane width apart and linked as neighbours (k=1 is leftmost).
    for arm in ARMS:
        for kind in ("in", "out"):
            a = net.lane_id(f"{arm}_{kind}_1")
            b = net.lane_id(f"{arm}_{kind}_2")
            assert net.lane_right[a] == b
            assert net.lane_left[b] == a
            assert net.lane_left[a] == -1
            assert net.lane_right[b] == -1
            ax, ay = _lane_xy(net, a)
            bx, by = _lane_xy(net, b)
            d = np.hypot(ax[len(ax) // 2] - bx[len(bx) // 2], ay[len(ay) // 2] - by[len(by) // 2])
            assert d == pytest.approx(3.5, abs=1e-9)


def test_every_in_lane_ends_at_a_signalised_stop_line(net):
    kinds = _inventory(net)
    lay = IntersectionLayout()
    for i in kinds["in"]:
        name = net.lane_names[i]
        arm = name.split("_")[0]
        assert not math.isnan(net.lane_stop_s[i])
        assert net.lane_stop_s[i] == pytest.approx(net.lane_length[i], abs=1e-9)
        g = net.lane_signal[i]
        assert g >= 0
        assert net.signal_names[g] == arm
        assert net.signal_junction[g] == 0
        x, y = _lane_xy(net, i)
        assert math.hypot(x[-1], y[-1]) > lay.stop_distance - 1e-9
        # the stop line lies before the crosswalk, seen from the approach
        along = -(x[-1] * UNIT[arm][0] + y[-1] * UNIT[arm][1])
        assert along == pytest.approx(-lay.stop_distance, abs=1e-9)
    for i in kinds["out"] + kinds["connector"] + kinds["sidewalk"]:
        assert math.isnan(net.lane_stop_s[i])
        assert net.lane_signal[i] == -1


def test_unsignalised_layout_has_no_groups():
    net0 = generate_grid(1, 1, layout=IntersectionLayout(signals=None))
    assert net0.n_signals == 0
    i = net0.lane_id("north_in_1")
    assert net0.lane_signal[i] == -1
    assert np.all(net0.cw_signal == -1)


# --------------------------------------------------------------------------------------
# Junction connectors
# --------------------------------------------------------------------------------------


def test_connectors_are_continuous_with_neighbours(net):
    for c in np.flatnonzero(net.lane_junction >= 0):
        a, b = net.lane_start[c], net.lane_start[c + 1]
        preds = _predecessors(net, c)
        succs = net.successors(c)
        assert len(preds) == 1
        assert len(succs) == 1
        p, s = preds[0], int(succs[0])
        assert ">" not in net.lane_names[p]
        assert net.lane_names[c].startswith(net.lane_names[p] + ">")
        assert net.lane_names[c].endswith(">" + net.lane_names[s])
        pe = net.lane_start[p + 1] - 1
        sa = net.lane_start[s]
        gap0 = math.hypot(net.pts_x[pe] - net.pts_x[a], net.pts_y[pe] - net.pts_y[a])
        gap1 = math.hypot(net.pts_x[b - 1] - net.pts_x[sa], net.pts_y[b - 1] - net.pts_y[sa])
        assert gap0 < 1e-6
        assert gap1 < 1e-6


def test_connectors_have_no_kink_at_their_ends(net):
    """Polyline check: the turn at each joint is no sharper than the curve's own steps."""
    for c in np.flatnonzero(net.lane_junction >= 0):
        a, b = net.lane_start[c], net.lane_start[c + 1]
        dirs = np.arctan2(np.diff(net.pts_y[a:b]), np.diff(net.pts_x[a:b]))
        inner = np.abs(_wrap(np.diff(dirs))).max() if len(dirs) > 1 else 0.0
        p = _predecessors(net, c)[0]
        s = int(net.successors(c)[0])
        pb = net.lane_start[p + 1]
        sa = net.lane_start[s]
        dir_p = math.atan2(net.pts_y[pb - 1] - net.pts_y[pb - 2], net.pts_x[pb - 1] - net.pts_x[pb - 2])
        dir_s = math.atan2(net.pts_y[sa + 1] - net.pts_y[sa], net.pts_x[sa + 1] - net.pts_x[sa])
        # Chord directions on an arc of step h differ by h*kappa; a joint between a line and
        # the arc by half that.  Allow the interior step plus rounding.
        assert abs(_wrap(dirs[0] - dir_p)) <= 0.6 * inner + 1e-9
        assert abs(_wrap(dir_s - dirs[-1])) <= 0.6 * inner + 1e-9


def test_connectors_are_tangent_continuous(net):
    """Stored headings at each joint agree within 0.05 rad."""
    worst = []
    for c in np.flatnonzero(net.lane_junction >= 0):
        a, b = net.lane_start[c], net.lane_start[c + 1]
        p = _predecessors(net, c)[0]
        s = int(net.successors(c)[0])
        pe = net.lane_start[p + 1] - 1
        sa = net.lane_start[s]
        d0 = abs(_wrap(net.pts_heading[a] - net.pts_heading[pe]))
        d1 = abs(_wrap(net.pts_heading[sa] - net.pts_heading[b - 1]))
        worst.append((max(d0, d1), net.lane_names[c]))
    bad = [(round(float(d), 4), n) for d, n in worst if d >= 0.05]
    assert not bad, f"heading jumps at connector ends: {bad}"


def test_turning_connector_curvature_is_a_quarter_turn(net):
    for c in np.flatnonzero(net.lane_junction >= 0):
        name = net.lane_names[c]
        a, b = net.lane_start[c], net.lane_start[c + 1]
        total_turn = _wrap(net.pts_heading[b - 1] - net.pts_heading[a])
        chord_turn = _wrap(
            math.atan2(net.pts_y[b - 1] - net.pts_y[b - 2], net.pts_x[b - 1] - net.pts_x[b - 2])
            - math.atan2(net.pts_y[a + 1] - net.pts_y[a], net.pts_x[a + 1] - net.pts_x[a])
        )
        kmax = np.abs(net.pts_curvature[a:b]).max()
        fr, to = name.split(">")
        fr_arm, to_arm = fr.split("_")[0], to.split("_")[0]
        if np.allclose(UNIT[fr_arm], -np.array(UNIT[to_arm])):
            assert kmax < 1e-9, name  # straight on
            assert abs(chord_turn) < 1e-9, name
            continue
        assert 1 / 30 <= kmax <= 1 / 5, (name, kmax)
        # A quarter turn: end tangent is 90 degrees from the start tangent.
        assert abs(abs(total_turn) - np.pi / 2) < 0.15, (name, total_turn)
        # left turns curve left (positive curvature), right turns right.
        h = -np.array(UNIT[fr_arm])
        left = np.array([-h[1], h[0]])
        sign = 1.0 if np.allclose(UNIT[to_arm], left) else -1.0
        assert np.all(sign * net.pts_curvature[a:b] >= -1e-9), name
        assert np.sign(total_turn) == sign
        # Radius implied by the mean curvature over the quarter turn matches the geometry.
        mean_k = abs(total_turn) / net.lane_length[c]
        assert 1 / 30 <= mean_k <= 1 / 5


# --------------------------------------------------------------------------------------
# Crosswalks
# --------------------------------------------------------------------------------------


def _inside_convex(px, py, xs, ys):
    n = len(xs)
    sign = 0.0
    for k in range(n):
        cr = (xs[(k + 1) % n] - xs[k]) * (py - ys[k]) - (ys[(k + 1) % n] - ys[k]) * (px - xs[k])
        if abs(cr) < 1e-12:
            continue
        if sign == 0.0:
            sign = math.copysign(1.0, cr)
        elif math.copysign(1.0, cr) != sign:
            return False
    return True


def test_crosswalk_polygons_span_each_arm(net):
    lay = IntersectionLayout()
    for c, arm in enumerate(net.cw_names):
        u = np.array(UNIT[arm])
        n = np.array([-u[1], u[0]])
        xs, ys = net.cw_x[c], net.cw_y[c]
        along = xs * u[0] + ys * u[1]
        across = xs * n[0] + ys * n[1]
        # between the junction box and the stop line, CROSSWALK_WIDTH_M deep
        assert along.min() == pytest.approx(lay.box_half)
        assert along.max() == pytest.approx(lay.box_half + CROSSWALK_WIDTH_M)
        assert along.max() < lay.stop_distance
        # spans all lanes of both directions
        road_half = lay.lanes_per_direction * lay.lane_width
        assert across.min() < -road_half
        assert across.max() > road_half
        mid = lay.box_half + CROSSWALK_WIDTH_M / 2
        for off in np.linspace(-road_half + 0.1, road_half - 0.1, 15):
            p = u * mid + n * off
            assert _inside_convex(p[0], p[1], xs, ys)
        # polygon area = depth x span
        area = 0.5 * abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1)))
        assert area == pytest.approx(CROSSWALK_WIDTH_M * (across.max() - across.min()))
        # walking line runs across the road (perpendicular to the arm) through the middle
        ex, ey = net.cw_end_x[c], net.cw_end_y[c]
        line = np.array([ex[1] - ex[0], ey[1] - ey[0]])
        assert abs(line @ u) < 1e-9
        assert np.linalg.norm(line) > 2 * road_half
        for e in range(2):
            assert ex[e] * u[0] + ey[e] * u[1] == pytest.approx(mid)
        # the pedestrian group drives its crosswalk
        assert net.signal_names[net.cw_signal[c]] == "pedestrians"


def test_crosswalk_ends_are_next_to_sidewalks(net):
    # Sidewalk strips start just past the crosswalk (the corner is swept by right turns), so
    # a crosswalk end lies within a few metres of the strip along its arm.
    sidewalks = np.flatnonzero(net.lane_type == LaneType.SIDEWALK)
    for c in range(len(net.cw_names)):
        for e in range(2):
            px, py = net.cw_end_x[c, e], net.cw_end_y[c, e]
            best = math.inf
            for sw in sidewalks:
                x, y = _lane_xy(net, sw)
                # distance to the straight sidewalk segment
                ax, ay, bx, by = x[0], y[0], x[-1], y[-1]
                ex, ey = bx - ax, by - ay
                u = np.clip(((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey), 0, 1)
                best = min(best, math.hypot(px - ax - u * ex, py - ay - u * ey))
            assert best <= 3.0


def test_connectors_cross_the_crosswalk_of_their_arms(net):
    """A vehicle entering from arm A and leaving by B runs over both crosswalks."""
    from simcore.road.lane_graph import points_in_polygon

    for c in np.flatnonzero(net.lane_junction >= 0):
        fr, to = net.lane_names[c].split(">")
        x, y = _lane_xy(net, c)
        for arm in ARMS:
            k = net.cw_names.index(arm)
            hit = points_in_polygon(x, y, net.cw_x[k], net.cw_y[k]).any()
            assert hit == (arm in (fr.split("_")[0], to.split("_")[0])), (net.lane_names[c], arm)


# --------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------


def test_grid_aliases_resolve(grid23):
    g = grid23
    assert g.lane_id("r0c0.east_out_1") == g.lane_id("r0c1.west_in_1")
    assert g.lane_id("r0c0.east_out_2") == g.lane_id("r0c1.west_in_2")
    assert g.lane_id("r0c1.west_out_1") == g.lane_id("r0c0.east_in_1")
    assert g.lane_id("r0c2.north_out_1") == g.lane_id("r1c2.south_in_1")
    assert g.lane_id("r1c1.south_out_2") == g.lane_id("r0c1.north_in_2")
    assert g.lane_id("r0c0.east_out_1") != g.lane_id("r0c0.east_out_2")
    with pytest.raises(KeyError):
        g.lane_id("r0c2.east_in_3")
    # boundary arms have their own in lanes; inner roads none
    assert "r0c0.west_in_1" in g.lane_names
    assert "r0c0.east_in_1" not in g.lane_names
    assert "r0c0.east_in_1" in g.all_lane_names()
    assert len(g.junction_names) == 6
    # an inner road spans between the two stop lines
    lay = IntersectionLayout()
    i = g.lane_id("r0c0.east_out_1")
    assert g.lane_length[i] == pytest.approx(120.0 - 2 * lay.stop_distance)
    # the aliased in lane has the stop line of the junction it enters
    assert g.lane_stop_s[i] == pytest.approx(g.lane_length[i])
    assert g.signal_names[g.lane_signal[i]] == "r0c1.west"
    assert g.signal_junction[g.lane_signal[i]] == g.junction_names.index("r0c1")


def test_grid_junction_positions(grid23):
    for j, name in enumerate(grid23.junction_names):
        r, c = int(name[1]), int(name[3])
        assert grid23.junction_x[j] == pytest.approx(c * 120.0)
        assert grid23.junction_y[j] == pytest.approx(r * 120.0)


def test_grid_boundary_lanes_all_reach_each_other(grid23):
    g = grid23
    boundary_in = [i for i, n in enumerate(g.lane_names) if "_in_" in n and ">" not in n]
    boundary_out = []
    for i, n in enumerate(g.lane_names):
        if "_out_" not in n or ">" in n:
            continue
        # an out lane is on the boundary when no alias names it as someone's in lane
        if i not in g.alias.values():
            boundary_out.append(i)
    assert len(boundary_in) == 20  # 10 boundary arms x 2 lanes
    assert len(boundary_out) == 20

    def arm_of(i):
        return g.lane_names[i].rsplit("_", 2)[0]  # "r0c0.west"

    n_routes = 0
    for a in boundary_in:
        for b in boundary_out:
            if arm_of(a) == arm_of(b):
                continue
            route = shortest_route(g, a, b)
            assert route[0] == a
            assert route[-1] == b
            for p, q in pairwise(route):
                assert q in set(g.successors(p).tolist()) or q in (g.lane_left[p], g.lane_right[p])
            n_routes += 1
    assert n_routes == 20 * 20 - 10 * 4


def test_generate_rejects_bad_arguments():
    with pytest.raises(ValueError):
        generate_grid(0, 1)
    with pytest.raises(ValueError):
        generate_grid(2, 2, block_m=30.0)
    with pytest.raises(ValueError):
        generate_grid(1, 1, arm_length_m=20.0)
    with pytest.raises(ValueError):
        generate_grid(1, 1, layout=IntersectionLayout(arms=("north", "south")))


# --------------------------------------------------------------------------- city buildings


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (2, 3)])
def test_city_buildings_stay_off_lanes_and_inside_their_blocks(rows, cols):
    net = generate_city(rows, cols)
    roads_only = generate_grid(rows, cols)
    assert net.lane_names == roads_only.lane_names  # the roads are exactly the grid's
    n = len(net.obj_names)
    blocks = {name: box for name, *box in city_blocks(rows, cols)}
    assert len(blocks) == (rows + 1) * (cols + 1)
    assert n >= len(blocks) and set(net.obj_kinds) == {"building"}
    assert net.obj_height.shape == (n,) and np.all((net.obj_height >= 8.0) & (net.obj_height <= 40.0))
    drivable = build_segment_grid(net, net.driving_mask(), margin_m=0.0)
    # Sidewalks count too: buildings stand behind them.
    sidewalks = build_segment_grid(net, net.lane_type == LaneType.SIDEWALK, margin_m=0.0)
    per_block: dict[str, int] = {}
    for i, name in enumerate(net.obj_names):
        a, b = net.obj_start[i], net.obj_start[i + 1]
        px, py = net.obj_x[a:b], net.obj_y[a:b]
        block = name.split(".")[0]
        per_block[block] = per_block.get(block, 0) + 1
        x0, y0, x1, y1 = blocks[block]
        assert px.min() >= x0 - 1e-9 and px.max() <= x1 + 1e-9 and py.min() >= y0 - 1e-9 and py.max() <= y1 + 1e-9
        # Dense points on the outline and inside the footprint are neither drivable nor sidewalk.
        gx, gy = np.meshgrid(np.linspace(px.min(), px.max(), 25), np.linspace(py.min(), py.max(), 25))
        for x, y in zip(gx.ravel(), gy.ravel(), strict=True):
            assert not on_drivable(x, y, *drivable.args()), (name, x, y)
            assert not on_drivable(x, y, *sidewalks.args()), (name, x, y)
        # No lane sample or crosswalk corner lies inside a building.
        assert not points_in_polygon(net.pts_x, net.pts_y, px, py).any()
        assert not points_in_polygon(net.cw_x.ravel(), net.cw_y.ravel(), px, py).any()
    assert set(per_block) == set(blocks)
    # Buildings of one block do not overlap each other (axis-aligned rectangles).
    boxes = [(net.obj_x[a : a + 4], net.obj_y[a : a + 4]) for a in net.obj_start[:-1]]
    for i in range(n):
        for j in range(i + 1, n):
            (xa, ya), (xb, yb) = boxes[i], boxes[j]
            overlap_x = min(xa.max(), xb.max()) - max(xa.min(), xb.min())
            overlap_y = min(ya.max(), yb.max()) - max(ya.min(), yb.min())
            assert overlap_x <= 0 or overlap_y <= 0


def test_city_block_closed_form_and_heights_follow_the_seed():
    # 2 lanes x 3.5 m + 2 m sidewalk + 2 m setback = 11 m from each road centre line.
    blocks = dict((name, box) for name, *box in city_blocks(2, 2, block_m=120.0))
    assert blocks["block_r1c1"] == pytest.approx([11.0, 11.0, 109.0, 109.0])
    assert blocks["block_r0c0"] == pytest.approx([-78.0, -78.0, -11.0, -11.0])
    a = generate_city(2, 2, buildings=BuildingLayout(seed=1))
    b = generate_city(2, 2, buildings=BuildingLayout(seed=2))
    np.testing.assert_array_equal(a.obj_x, b.obj_x)
    assert not np.array_equal(a.obj_height, b.obj_height)
    with pytest.raises(ValueError, match="heights"):
        generate_city(1, 1, buildings=BuildingLayout(min_height_m=0.0))
