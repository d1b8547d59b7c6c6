"""Tests for simcore.road.frenet_kernels (projection, drivable area) and spatial_index."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore._types import LaneType
from simcore.road.builder import NetworkBuilder
from simcore.road.frenet_kernels import on_drivable, project_on_polyline, project_points_to_lanes
from simcore.road.generate import generate_grid
from simcore.road.spatial_index import build_segment_grid


@pytest.fixture(scope="module")
def net():
    return generate_grid(1, 1)


def _project(net, px, py, yaw=None, heading_weight=0.0, lane_ok=None):
    px = np.ascontiguousarray(px, dtype=np.float64)
    py = np.ascontiguousarray(py, dtype=np.float64)
    n = px.shape[0]
    yaw = np.zeros(n) if yaw is None else np.ascontiguousarray(yaw, dtype=np.float64)
    if lane_ok is None:
        lane_ok = net.lane_type == LaneType.DRIVING
    out_lane = np.empty(n, dtype=np.int64)
    out_s = np.empty(n)
    out_t = np.empty(n)
    out_h = np.empty(n)
    project_points_to_lanes(
        px,
        py,
        yaw,
        float(heading_weight),
        np.asarray(lane_ok, dtype=np.bool_),
        net.lane_start,
        net.pts_x,
        net.pts_y,
        net.pts_s,
        net.pts_heading,
        out_lane,
        out_s,
        out_t,
        out_h,
    )
    return out_lane, out_s, out_t, out_h


def _only(net, lane):
    ok = np.zeros(net.n_lanes, dtype=np.bool_)
    ok[lane] = True
    return ok


def _wrap(a):
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def _straight_lanes(net):
    return [
        i
        for i in np.flatnonzero(net.lane_type == LaneType.DRIVING)
        if np.abs(net.pts_curvature[net.lane_start[i] : net.lane_start[i + 1]]).max() < 1e-12
    ]


def _curved_lanes(net):
    return [
        i
        for i in np.flatnonzero(net.lane_type == LaneType.DRIVING)
        if np.abs(net.pts_curvature[net.lane_start[i] : net.lane_start[i + 1]]).max() > 1e-3
    ]


# --------------------------------------------------------------------------------------
# project_points_to_lanes
# --------------------------------------------------------------------------------------


def test_centre_line_samples_project_onto_their_lane(net):
    driving = np.flatnonzero(net.lane_type == LaneType.DRIVING)
    same = total = 0
    for lane in driving:
        x, y, s = net.lane_points(lane)
        # all driving lanes allowed: the answer is this lane, or one passing through the point
        out_lane, out_s, out_t, _ = _project(net, x, y)
        assert np.all(out_lane >= 0)
        assert np.abs(out_t).max() < 1e-6
        for i in range(len(x)):
            lx, ly, ls = net.lane_points(int(out_lane[i]))
            fx, fy = np.interp(out_s[i], ls, lx), np.interp(out_s[i], ls, ly)
            assert math.hypot(fx - x[i], fy - y[i]) < 1e-6
            if out_lane[i] == lane:
                assert out_s[i] == pytest.approx(s[i], abs=1e-6)
        same += int(np.sum(out_lane == lane))
        total += len(x)
        # this lane alone: exact s and t = 0
        out_lane, out_s, out_t, _ = _project(net, x, y, lane_ok=_only(net, lane))
        assert np.all(out_lane == lane)
        np.testing.assert_allclose(out_s, s, atol=1e-6)
        np.testing.assert_allclose(out_t, 0.0, atol=1e-9)
    assert same / total > 0.7


def test_geometrically_distinct_lane_is_found_among_all(net):
    """Mid-segment points of in/out lanes are unambiguous: the lane itself must win."""
    for lane in _straight_lanes(net):
        if net.lane_junction[lane] >= 0:
            continue
        x, y, s = net.lane_points(lane)
        mx, my, ms = (x[1:] + x[:-1]) / 2, (y[1:] + y[:-1]) / 2, (s[1:] + s[:-1]) / 2
        inner = slice(1, -1)  # away from the shared end points
        out_lane, out_s, out_t, _ = _project(net, mx[inner], my[inner])
        assert np.all(out_lane == lane), net.lane_names[lane]
        np.testing.assert_allclose(out_s, ms[inner], atol=1e-6)
        np.testing.assert_allclose(out_t, 0.0, atol=1e-9)


@pytest.mark.parametrize("d", [0.4, -0.4, 1.2, -1.7])
def test_left_normal_offset_gives_signed_t(net, d):
    for lane in np.flatnonzero(net.lane_type == LaneType.DRIVING):
        x, y, s = net.lane_points(lane)
        ex, ey = np.diff(x), np.diff(y)
        seg = np.hypot(ex, ey)
        nx, ny = -ey / seg, ex / seg  # left normal of each segment
        mx, my, ms = (x[1:] + x[:-1]) / 2, (y[1:] + y[:-1]) / 2, (s[1:] + s[:-1]) / 2
        if abs(d) > 1.0 and lane in _curved_lanes(net):
            continue  # large offsets inside a tight curve have a nearer foot elsewhere
        _, out_s, out_t, _ = _project(net, mx + d * nx, my + d * ny, lane_ok=_only(net, lane))
        np.testing.assert_allclose(out_t, d, atol=1e-9)
        np.testing.assert_allclose(out_s, ms, atol=1e-9)


def test_left_is_positive_in_the_world_frame(net):
    """Driving north on south_in_1, west (-x) is left."""
    lane = net.lane_id("south_in_1")
    _, _, t, _ = _project(net, np.array([1.0, 2.5]), np.array([-40.0, -40.0]), lane_ok=_only(net, lane))
    assert t[0] == pytest.approx(0.75)
    assert t[1] == pytest.approx(-0.75)


def test_heading_error_on_straight_lanes(net):
    for lane in _straight_lanes(net):
        a, b = net.lane_start[lane], net.lane_start[lane + 1]
        x, y, _ = net.lane_points(lane)
        for dyaw in (0.3, -0.3, 3.0):
            yaw = net.pts_heading[a:b] + dyaw
            _, _, _, herr = _project(net, x, y, yaw=yaw, lane_ok=_only(net, lane))
            np.testing.assert_allclose(herr, dyaw, atol=1e-9)
        # wrapped into (-pi, pi]
        yaw = net.pts_heading[a:b] + 0.3 + 4 * np.pi
        _, _, _, herr = _project(net, x, y, yaw=yaw, lane_ok=_only(net, lane))
        np.testing.assert_allclose(herr, 0.3, atol=1e-9)


def test_heading_error_on_curved_lanes(net):
    """yaw = lane heading at the point + 0.3 must give 0.3, also on the turning connectors."""
    worst = 0.0
    for lane in _curved_lanes(net):
        a, b = net.lane_start[lane], net.lane_start[lane + 1]
        x, y, _ = net.lane_points(lane)
        yaw = net.pts_heading[a:b] + 0.3
        _, _, _, herr = _project(net, x, y, yaw=yaw, lane_ok=_only(net, lane))
        worst = max(worst, float(np.abs(herr - 0.3).max()))
    assert worst < 0.01, f"heading error off by up to {worst:.4f} rad on curved lanes"


def test_heading_weight_picks_the_aligned_lane(net):
    """Near the junction entry the left-turn and straight connectors overlap; yaw decides."""
    straight = net.lane_id("south_in_1>north_out_1")
    left = net.lane_id("south_in_1>west_out_1")
    a, b = net.lane_start[left], net.lane_start[left + 1]
    k = (b - a) // 2
    px, py = net.pts_x[a + k], net.pts_y[a + k]
    # on the left-turn connector at mid-turn, heading north-west: that lane, also with weight
    lane, _, t, _ = _project(
        net, np.array([px]), np.array([py]), yaw=np.array([net.pts_heading[a + k]]), heading_weight=2.0
    )
    assert lane[0] == left
    assert abs(t[0]) < 1e-9
    # a point exactly between the two connectors close to the start, yaw = north
    sa = net.lane_start[straight]
    p2x = 0.5 * (net.pts_x[a + 3] + net.pts_x[sa + 3])
    p2y = 0.5 * (net.pts_y[a + 3] + net.pts_y[sa + 3])
    lane, _, _, herr = _project(net, np.array([p2x]), np.array([p2y]), yaw=np.array([np.pi / 2]), heading_weight=5.0)
    assert lane[0] == straight
    assert herr[0] == pytest.approx(0.0, abs=1e-9)


def test_no_lane_allowed_gives_minus_one(net):
    lane, s, t, h = _project(net, np.array([0.0]), np.array([0.0]), lane_ok=np.zeros(net.n_lanes, dtype=np.bool_))
    assert lane[0] == -1
    assert np.isnan(s[0])
    assert np.isnan(t[0])
    assert np.isnan(h[0])


def _straight_net(x0, y0, x1, y1, width=3.5):
    b = NetworkBuilder()
    b.add_lane("only", np.array([x0, x1]), np.array([y0, y1]), width=width, speed_limit=10.0)
    return b.build()


@settings(max_examples=60, deadline=None)
@given(
    length=st.floats(5.0, 80.0),
    ps=st.floats(-0.2, 1.2),
    pt=st.floats(-6.0, 6.0),
    theta=st.floats(-math.pi, math.pi),
    tx=st.floats(-500.0, 500.0),
    ty=st.floats(-500.0, 500.0),
)
def test_projection_invariant_under_rigid_motion(length, ps, pt, theta, tx, ty):
    base = _straight_net(0.0, 0.0, length, 0.0)
    px, py = ps * length, pt
    c, s = math.cos(theta), math.sin(theta)

    def tr(x, y):
        return c * x - s * y + tx, s * x + c * y + ty

    bx1, by1 = tr(length, 0.0)
    moved = _straight_net(tx, ty, bx1, by1)
    qx, qy = tr(px, py)
    l0, s0, t0, _ = _project(base, np.array([px]), np.array([py]))
    l1, s1, t1, _ = _project(moved, np.array([qx]), np.array([qy]))
    assert l0[0] == 0
    assert l1[0] == 0
    assert s1[0] == pytest.approx(s0[0], abs=1e-6)
    assert abs(t1[0]) == pytest.approx(abs(t0[0]), abs=1e-6)
    if abs(pt) > 1e-6:
        assert t1[0] == pytest.approx(t0[0], abs=1e-6)  # rotations keep left on the left
    # and the absolute values are right for the straight lane along +x
    assert s0[0] == pytest.approx(min(max(px, 0.0), length), abs=1e-9)
    if 0.0 <= px <= length:
        assert t0[0] == pytest.approx(pt, abs=1e-9)
    else:
        end = 0.0 if px < 0 else length
        assert abs(t0[0]) == pytest.approx(math.hypot(px - end, pt), abs=1e-9)


# --------------------------------------------------------------------------------------
# project_on_polyline against a dense-sampling reference
# --------------------------------------------------------------------------------------


def _dense_reference(px, py, xs, ys, ss, n_per_seg=2000):
    best = (math.inf, 0.0, 0, 0.0)
    for k in range(len(xs) - 1):
        u = np.linspace(0.0, 1.0, n_per_seg + 1)
        qx = xs[k] + u * (xs[k + 1] - xs[k])
        qy = ys[k] + u * (ys[k + 1] - ys[k])
        d = np.hypot(qx - px, qy - py)
        j = int(np.argmin(d))
        if d[j] < best[0]:
            best = (float(d[j]), float(ss[k] + u[j] * (ss[k + 1] - ss[k])), k, float(u[j]))
    return best


def test_project_on_polyline_matches_dense_reference():
    rng = np.random.default_rng(7)
    for _ in range(60):
        n = int(rng.integers(2, 9))
        steps = rng.normal(size=(n - 1, 2)) * rng.uniform(0.5, 6.0)
        pts = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)]) + rng.uniform(-50, 50, size=2)
        # embed in bigger arrays to exercise the a..b range
        pad = int(rng.integers(0, 4))
        xs = np.concatenate([rng.normal(size=pad) * 100, pts[:, 0], rng.normal(size=2) * 100])
        ys = np.concatenate([rng.normal(size=pad) * 100, pts[:, 1], rng.normal(size=2) * 100])
        seg = np.hypot(np.diff(pts[:, 0]), np.diff(pts[:, 1]))
        s_off = float(rng.uniform(0, 100))
        ss_local = np.concatenate([[0.0], np.cumsum(seg)]) + s_off
        ss = np.concatenate([np.zeros(pad), ss_local, np.zeros(2)])
        a, b = pad, pad + n
        for _ in range(20):
            px = float(rng.uniform(pts[:, 0].min() - 5, pts[:, 0].max() + 5))
            py = float(rng.uniform(pts[:, 1].min() - 5, pts[:, 1].max() + 5))
            s, t, k, d2 = project_on_polyline(px, py, xs, ys, ss, a, b)
            d_ref, s_ref, k_ref, u_ref = _dense_reference(px, py, pts[:, 0], pts[:, 1], ss_local)
            tol = seg.max() / 2000 + 1e-9
            assert a <= k < b - 1
            assert math.sqrt(d2) == pytest.approx(abs(t), abs=1e-12)
            assert math.sqrt(d2) <= d_ref + 1e-9  # never worse than the dense samples
            assert math.sqrt(d2) >= d_ref - tol
            # the returned s names a foot point at that distance
            fx = np.interp(s, ss_local, pts[:, 0])
            fy = np.interp(s, ss_local, pts[:, 1])
            assert math.hypot(fx - px, fy - py) == pytest.approx(abs(t), abs=1e-6)
            assert ss[k] - 1e-9 <= s <= ss[k + 1] + 1e-9
            # unique, interior minimum: s and the side agree with the reference
            if 0.01 < u_ref < 0.99 and d_ref > 1e-3:
                others = [
                    _dense_reference(px, py, pts[j : j + 2, 0], pts[j : j + 2, 1], ss_local[j : j + 2])[0]
                    for j in range(n - 1)
                    if j != k_ref
                ]
                if not others or min(others) > d_ref + 0.05:
                    assert s == pytest.approx(s_ref, abs=2 * tol * 10)
                    ex = pts[k_ref + 1, 0] - pts[k_ref, 0]
                    ey = pts[k_ref + 1, 1] - pts[k_ref, 1]
                    side = ex * (py - pts[k_ref, 1]) - ey * (px - pts[k_ref, 0])
                    assert math.copysign(1.0, t) == math.copysign(1.0, side)


def test_project_on_polyline_single_point():
    xs = np.array([9.0, 3.0, 9.0])
    ys = np.array([9.0, 4.0, 9.0])
    ss = np.array([0.0, 2.5, 0.0])
    s, t, k, d2 = project_on_polyline(0.0, 0.0, xs, ys, ss, 1, 2)
    assert (s, t, k) == (2.5, 0.0, 1)
    assert d2 == pytest.approx(25.0)


# --------------------------------------------------------------------------------------
# on_drivable / build_segment_grid
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("theta", [0.0, 0.7, -2.2])
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_on_drivable_edge_of_straight_lane(theta, margin):
    c, s = math.cos(theta), math.sin(theta)
    ox, oy = 37.0, -12.0
    length = 60.0
    sn = _straight_net(ox, oy, ox + c * length, oy + s * length, width=3.5)
    grid = build_segment_grid(sn, sn.driving_mask(), margin_m=margin)

    def at(along, lateral):
        return ox + c * along - s * lateral, oy + s * along + c * lateral

    hw = 3.5 / 2 + margin
    for along in (0.5, 13.3, 30.0, 59.5):
        for side in (1.0, -1.0):
            assert on_drivable(*at(along, 0.0), *grid.args())
            assert on_drivable(*at(along, side * (hw - 0.01)), *grid.args())
            assert not on_drivable(*at(along, side * (hw + 0.01)), *grid.args())
            assert not on_drivable(*at(along, side * (hw + 10.0)), *grid.args())
    assert not on_drivable(*at(length + hw + 0.01, 0.0), *grid.args())
    assert not on_drivable(*at(-hw - 0.01, 0.0), *grid.args())
    assert not on_drivable(*at(length + 10.0, 0.0), *grid.args())
    assert not on_drivable(1e6, 1e6, *grid.args())


def test_on_drivable_generated_intersection(net):
    grid = build_segment_grid(net, net.driving_mask())
    for lane in np.flatnonzero(net.driving_mask()):
        x, y, _ = net.lane_points(lane)
        assert all(on_drivable(float(px), float(py), *grid.args()) for px, py in zip(x, y, strict=True))
    # sidewalks beyond the crosswalks are not drivable
    for lane in np.flatnonzero(net.lane_type == LaneType.SIDEWALK):
        x, y, _ = net.lane_points(lane)
        far = np.maximum(np.abs(x), np.abs(y)) >= 14.0
        assert far.sum() > 50
        assert not any(on_drivable(float(px), float(py), *grid.args()) for px, py in zip(x[far], y[far], strict=True))
    # 10 m outside the road edges of every arm (road half-width 7 m)
    for v in np.linspace(20.0, 75.0, 12):
        for px, py in (
            (17.0, -v),
            (-17.0, -v),
            (17.0, v),
            (-17.0, v),
            (v, 17.0),
            (v, -17.0),
            (-v, 17.0),
            (-v, -17.0),
        ):
            assert not on_drivable(px, py, *grid.args())
    # beyond the arm ends
    for px, py in ((0.0, 95.0), (95.0, 0.0), (0.0, -95.0), (-95.0, 0.0)):
        assert not on_drivable(px, py, *grid.args())


def test_sidewalks_are_not_drivable(net):
    """No sidewalk centre-line sample lies inside a driving lane (incl. turning connectors)."""
    grid = build_segment_grid(net, net.driving_mask())
    bad = []
    for lane in np.flatnonzero(net.lane_type == LaneType.SIDEWALK):
        x, y, _ = net.lane_points(lane)
        bad += [
            (net.lane_names[lane], float(px), float(py))
            for px, py in zip(x, y, strict=True)
            if on_drivable(float(px), float(py), *grid.args())
        ]
    assert not bad, f"sidewalk samples inside driving lanes: {bad}"


def _brute_on(px, py, net, mask, margin):
    for lane in np.flatnonzero(mask):
        a, b = net.lane_start[lane], net.lane_start[lane + 1]
        ax, ay = net.pts_x[a : b - 1], net.pts_y[a : b - 1]
        ex, ey = net.pts_x[a + 1 : b] - ax, net.pts_y[a + 1 : b] - ay
        u = np.clip(((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
        d = np.hypot(px - ax - u * ex, py - ay - u * ey)
        if d.min() <= net.lane_width[lane] / 2 + margin:
            return True, float(d.min() - (net.lane_width[lane] / 2 + margin))
    return False, 0.0


def _brute_margin(px, py, net, mask, margin):
    """Signed distance to the nearest capsule edge (negative inside)."""
    best = math.inf
    for lane in np.flatnonzero(mask):
        a, b = net.lane_start[lane], net.lane_start[lane + 1]
        ax, ay = net.pts_x[a : b - 1], net.pts_y[a : b - 1]
        ex, ey = net.pts_x[a + 1 : b] - ax, net.pts_y[a + 1 : b] - ay
        u = np.clip(((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
        d = np.hypot(px - ax - u * ex, py - ay - u * ey) - (net.lane_width[lane] / 2 + margin)
        best = min(best, float(np.abs(d).min()))
    return best


@pytest.mark.parametrize(("cell", "margin"), [(8.0, 0.0), (3.0, 0.25), (20.0, 0.5)])
def test_on_drivable_agrees_with_brute_force(net, cell, margin):
    mask = net.driving_mask()
    grid = build_segment_grid(net, mask, margin_m=margin, cell_size=cell)
    rng = np.random.default_rng(int(cell * 10))
    pts = rng.uniform(-40.0, 40.0, size=(1500, 2))
    n_on = 0
    for px, py in pts:
        ref, _ = _brute_on(px, py, net, mask, margin)
        if _brute_margin(px, py, net, mask, margin) < 1e-9:
            continue
        assert on_drivable(float(px), float(py), *grid.args()) == ref, (px, py)
        n_on += ref
    assert 100 < n_on < 1400


def test_segment_grid_registers_every_segment_near_it(net):
    """Each segment is listed in every cell its capsule touches."""
    grid = build_segment_grid(net, net.driving_mask(), margin_m=0.2, cell_size=5.0)
    n_seg = grid.ax.size
    assert n_seg == sum(net.lane_start[i + 1] - net.lane_start[i] - 1 for i in np.flatnonzero(net.driving_mask()))
    for g in range(0, n_seg, 7):
        mx, my = (grid.ax[g] + grid.bx[g]) / 2, (grid.ay[g] + grid.by[g]) / 2
        cx = int((mx - grid.x0) // grid.cell_size)
        cy = int((my - grid.y0) // grid.cell_size)
        c = cy * grid.nx + cx
        assert g in set(grid.cell_seg[grid.cell_start[c] : grid.cell_start[c + 1]].tolist())
    np.testing.assert_allclose(grid.half_width, 3.5 / 2 + 0.2)


def _cells_by_loop(grid) -> list[list[int]]:
    """Reference binning: each capsule appended, in order, to every cell its bounding box touches."""
    cells: list[list[int]] = [[] for _ in range(grid.nx * grid.ny)]
    for g in range(grid.ax.size):
        r = grid.half_width[g]
        ix0 = int((min(grid.ax[g], grid.bx[g]) - r - grid.x0) // grid.cell_size)
        ix1 = int((max(grid.ax[g], grid.bx[g]) + r - grid.x0) // grid.cell_size)
        iy0 = int((min(grid.ay[g], grid.by[g]) - r - grid.y0) // grid.cell_size)
        iy1 = int((max(grid.ay[g], grid.by[g]) + r - grid.y0) // grid.cell_size)
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                cells[iy * grid.nx + ix].append(g)
    return cells


@pytest.mark.parametrize(("cell", "margin"), [(8.0, 0.0), (3.0, 0.5), (25.0, 2.0)])
def test_segment_grid_cells_equal_the_loop_reference(net, cell, margin):
    grid = build_segment_grid(net, net.driving_mask(), margin_m=margin, cell_size=cell)
    want = _cells_by_loop(grid)
    assert grid.cell_start.tolist() == np.cumsum([0] + [len(c) for c in want]).tolist()
    assert grid.cell_seg.tolist() == [g for c in want for g in c]
