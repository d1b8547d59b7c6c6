"""Tests for simcore.geometry.kernels against slow, non-SAT pure-Python references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from simcore.geometry.kernels import (
    box_corners,
    obb_overlap,
    pairwise_box_overlaps,
    point_in_polygon,
    point_segment_distance,
    project_point_segment,
    wrap_angle,
)

# --------------------------------------------------------------------------------------
# Pure-Python reference: polygon intersection without the separating-axis theorem.
# --------------------------------------------------------------------------------------


def _ref_corners(cx, cy, yaw, length, width):
    c, s = math.cos(yaw), math.sin(yaw)
    hl, hw = 0.5 * length, 0.5 * width
    local = [(hl, hw), (-hl, hw), (-hl, -hw), (hl, -hw)]
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in local]


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _in_convex(p, poly):
    """Closed point-in-convex-polygon test (poly counter-clockwise)."""
    n = len(poly)
    return all(_cross(poly[k], poly[(k + 1) % n], p) >= 0.0 for k in range(n))


def _on_segment(p, a, b):
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_intersect(p1, p2, q1, q2):
    d1 = _cross(q1, q2, p1)
    d2 = _cross(q1, q2, p2)
    d3 = _cross(p1, p2, q1)
    d4 = _cross(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(p1, q1, q2))
        or (d2 == 0 and _on_segment(p2, q1, q2))
        or (d3 == 0 and _on_segment(q1, p1, p2))
        or (d4 == 0 and _on_segment(q2, p1, p2))
    )


def ref_overlap(b1, b2):
    """Closed rectangles intersect iff a corner lies in the other or two edges cross."""
    p = _ref_corners(*b1)
    q = _ref_corners(*b2)
    if any(_in_convex(c, q) for c in p) or any(_in_convex(c, p) for c in q):
        return True
    for k in range(4):
        for m in range(4):
            if _segments_intersect(p[k], p[(k + 1) % 4], q[m], q[(m + 1) % 4]):
                return True
    return False


_EPS = 1e-6


def _grow(b, d):
    cx, cy, yaw, length, width = b
    return (cx, cy, yaw, length + 2.0 * d, width + 2.0 * d)


def clear_case(b1, b2):
    """True when the reference answer is robust to inflating/deflating box 1 by 1e-6 m."""
    r = ref_overlap(b1, b2)
    return ref_overlap(_grow(b1, _EPS), b2) == r and ref_overlap(_grow(b1, -_EPS), b2) == r


def ov(b1, b2):
    return bool(obb_overlap(*b1, *b2))


coord = st.floats(-8.0, 8.0, allow_nan=False, allow_infinity=False)
yaw_s = st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False)
length_s = st.floats(0.1, 8.0, allow_nan=False, allow_infinity=False)
width_s = st.floats(0.1, 4.0, allow_nan=False, allow_infinity=False)
box_s = st.tuples(coord, coord, yaw_s, length_s, width_s)


# --------------------------------------------------------------------------------------
# obb_overlap
# --------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(box_s, box_s)
def test_obb_overlap_matches_polygon_reference(b1, b2):
    assume(clear_case(b1, b2))
    assert ov(b1, b2) == ref_overlap(b1, b2)


@settings(deadline=None, max_examples=300)
@given(box_s, box_s)
def test_obb_overlap_symmetric(b1, b2):
    assert ov(b1, b2) == ov(b2, b1)


@settings(deadline=None, max_examples=300)
@given(
    box_s,
    box_s,
    st.floats(-100.0, 100.0, allow_nan=False),
    st.floats(-100.0, 100.0, allow_nan=False),
    st.floats(-math.pi, math.pi, allow_nan=False),
)
def test_obb_overlap_rigid_transform_invariant(b1, b2, tx, ty, th):
    assume(clear_case(b1, b2))
    c, s = math.cos(th), math.sin(th)

    def move(b):
        cx, cy, yaw, length, width = b
        return (c * cx - s * cy + tx, s * cx + c * cy + ty, yaw + th, length, width)

    assert ov(move(b1), move(b2)) == ov(b1, b2)


def test_obb_overlap_known_cases():
    a = (0.0, 0.0, 0.0, 4.0, 2.0)
    assert ov(a, a)
    assert not ov(a, (100.0, -50.0, 0.3, 4.0, 2.0))
    # Side by side, 4 x 2 boxes, lateral gap.
    assert not ov(a, (0.0, 2.01, 0.0, 4.0, 2.0))
    assert ov(a, (0.0, 1.99, 0.0, 4.0, 2.0))
    # Same, rotated as a pair by 30 degrees.
    th = math.radians(30.0)
    off = (-math.sin(th), math.cos(th))
    a_r = (0.0, 0.0, th, 4.0, 2.0)
    assert not ov(a_r, (2.01 * off[0], 2.01 * off[1], th, 4.0, 2.0))
    assert ov(a_r, (1.99 * off[0], 1.99 * off[1], th, 4.0, 2.0))
    # Nose to tail.
    assert not ov(a, (4.01, 0.0, 0.0, 4.0, 2.0))
    assert ov(a, (3.99, 0.0, 0.0, 4.0, 2.0))
    # Containment (no edges cross).
    assert ov(a, (0.1, 0.1, 0.7, 0.5, 0.3))
    assert ov((0.1, 0.1, 0.7, 0.5, 0.3), a)


def test_obb_overlap_rotated_45_corner_cases():
    sq = (0.0, 0.0, 0.0, 2.0, 2.0)
    q = math.pi / 4.0
    h = math.sqrt(2.0)  # half-diagonal of a 2 x 2 square
    # Diamond corner pointing at the square's right edge (circle test passes, SAT needed).
    assert not ov(sq, (1.0 + h + 0.01, 0.0, q, 2.0, 2.0))
    assert ov(sq, (1.0 + h - 0.01, 0.0, q, 2.0, 2.0))
    # Diamond corner pointing at the square's corner along the diagonal.
    d = (1.0 + h) / math.sqrt(2.0) + h / math.sqrt(2.0)  # corner-to-corner along diagonal
    assert ov(sq, (0.99 * (1.0 + 0.5 * h), 0.99 * (1.0 + 0.5 * h), q, 2.0, 2.0))
    assert not ov(sq, (d, d, q, 2.0, 2.0))
    # Axis-aligned squares corner to corner.
    assert not ov(sq, (2.01, 2.01, 0.0, 2.0, 2.0))
    assert ov(sq, (1.99, 1.99, 0.0, 2.0, 2.0))
    # Only the rotated box's axes separate: square corner near a 45 degree box's long edge.
    thin = (2.2, 2.2, -q, 4.0, 0.5)
    assert ref_overlap(sq, thin) == ov(sq, thin) == ov(thin, sq)


def test_obb_overlap_nan_is_false():
    a = (0.0, 0.0, 0.0, 4.0, 2.0)
    assert not ov(a, (math.nan, 0.0, 0.0, 4.0, 2.0))
    assert not ov(a, (0.0, 0.0, math.nan, 4.0, 2.0))
    assert not ov((0.0, 0.0, 0.0, math.nan, 2.0), a)


# --------------------------------------------------------------------------------------
# box_corners
# --------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=100)
@given(box_s)
def test_box_corners_match_reference_and_ccw(b):
    ox = np.zeros(4)
    oy = np.zeros(4)
    box_corners(*b, ox, oy)
    ref = _ref_corners(*b)
    np.testing.assert_allclose(ox, [p[0] for p in ref], atol=1e-12)
    np.testing.assert_allclose(oy, [p[1] for p in ref], atol=1e-12)
    area2 = sum(ox[k] * oy[(k + 1) % 4] - ox[(k + 1) % 4] * oy[k] for k in range(4))
    assert area2 == pytest.approx(2.0 * b[3] * b[4], rel=1e-9)  # positive => CCW


def test_box_corners_front_left_first():
    ox = np.zeros(4)
    oy = np.zeros(4)
    box_corners(1.0, 2.0, math.pi / 2.0, 4.0, 2.0, ox, oy)  # heading north
    np.testing.assert_allclose(ox, [0.0, 0.0, 2.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(oy, [4.0, 0.0, 0.0, 4.0], atol=1e-12)


# --------------------------------------------------------------------------------------
# wrap_angle
# --------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_wrap_angle_range_and_equivalence(a):
    w = wrap_angle(a)
    assert -math.pi < w <= math.pi
    assert math.cos(w) == pytest.approx(math.cos(a), abs=1e-9)
    assert math.sin(w) == pytest.approx(math.sin(a), abs=1e-9)


@settings(deadline=None, max_examples=300)
@given(st.floats(-math.pi, math.pi, allow_nan=False, exclude_min=True))
def test_wrap_angle_identity_inside(a):
    assert wrap_angle(a) == a


def test_wrap_angle_known():
    assert wrap_angle(math.pi) == math.pi
    assert wrap_angle(-math.pi) == math.pi
    assert wrap_angle(3.0 * math.pi) == pytest.approx(math.pi)
    assert -math.pi < wrap_angle(3.0 * math.pi) <= math.pi
    assert wrap_angle(2.0 * math.pi) == pytest.approx(0.0, abs=1e-15)
    assert wrap_angle(-1.5 * math.pi) == pytest.approx(0.5 * math.pi)
    assert wrap_angle(1.5 * math.pi) == pytest.approx(-0.5 * math.pi)
    assert math.isnan(wrap_angle(math.inf))
    assert math.isnan(wrap_angle(math.nan))


# --------------------------------------------------------------------------------------
# point_in_polygon, segments
# --------------------------------------------------------------------------------------


def test_point_in_polygon_square():
    px = np.array([0.0, 2.0, 2.0, 0.0])
    py = np.array([0.0, 0.0, 2.0, 2.0])
    assert point_in_polygon(1.0, 1.0, px, py)
    assert point_in_polygon(0.1, 1.9, px, py)
    assert not point_in_polygon(3.0, 1.0, px, py)
    assert not point_in_polygon(-0.1, 1.0, px, py)
    assert not point_in_polygon(1.0, 2.5, px, py)
    # Clockwise winding gives the same answers.
    assert point_in_polygon(1.0, 1.0, px[::-1].copy(), py[::-1].copy())
    assert not point_in_polygon(3.0, 1.0, px[::-1].copy(), py[::-1].copy())


def test_point_in_polygon_l_shape():
    # L: 3 x 3 square with the top-right 2 x 2 removed.
    px = np.array([0.0, 3.0, 3.0, 1.0, 1.0, 0.0])
    py = np.array([0.0, 0.0, 1.0, 1.0, 3.0, 3.0])
    assert point_in_polygon(0.5, 0.5, px, py)
    assert point_in_polygon(2.5, 0.5, px, py)
    assert point_in_polygon(0.5, 2.5, px, py)
    assert not point_in_polygon(2.0, 2.0, px, py)  # in the notch
    assert not point_in_polygon(1.5, 1.5, px, py)
    assert not point_in_polygon(-1.0, 0.5, px, py)
    # Ray through a reflex vertex's y level.
    assert point_in_polygon(0.5, 1.0, px, py) == point_in_polygon(0.5, 1.0 + 1e-12, px, py)


def test_point_in_polygon_degenerate():
    assert not point_in_polygon(0.0, 0.0, np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    assert not point_in_polygon(0.0, 0.0, np.zeros(0), np.zeros(0))


def test_project_point_segment_closed_form():
    t, d2 = project_point_segment(1.0, 2.0, 0.0, 0.0, 4.0, 0.0)
    assert t == pytest.approx(0.25)
    assert d2 == pytest.approx(4.0)
    t, d2 = project_point_segment(-3.0, 4.0, 0.0, 0.0, 4.0, 0.0)  # before A
    assert t == 0.0
    assert d2 == pytest.approx(25.0)
    t, d2 = project_point_segment(7.0, -4.0, 0.0, 0.0, 4.0, 0.0)  # past B
    assert t == 1.0
    assert d2 == pytest.approx(25.0)
    t, d2 = project_point_segment(1.0, 1.0, 0.0, 0.0, 2.0, 2.0)  # on the diagonal
    assert t == pytest.approx(0.5)
    assert d2 == pytest.approx(0.0, abs=1e-24)
    t, d2 = project_point_segment(0.0, 2.0, 0.0, 0.0, 2.0, 2.0)
    assert t == pytest.approx(0.5)
    assert d2 == pytest.approx(2.0)
    t, d2 = project_point_segment(3.0, 4.0, 0.0, 0.0, 0.0, 0.0)  # degenerate segment
    assert t == 0.0
    assert d2 == pytest.approx(25.0)
    assert point_segment_distance(1.0, 2.0, 0.0, 0.0, 4.0, 0.0) == pytest.approx(2.0)
    assert point_segment_distance(-3.0, 4.0, 0.0, 0.0, 4.0, 0.0) == pytest.approx(5.0)
    assert point_segment_distance(3.0, 4.0, 0.0, 0.0, 0.0, 0.0) == pytest.approx(5.0)


# --------------------------------------------------------------------------------------
# pairwise_box_overlaps
# --------------------------------------------------------------------------------------


def _random_scene(rng, n, extent, n_inst):
    cx = rng.uniform(-extent, extent, n)
    cy = rng.uniform(-extent, extent, n)
    yaw = rng.uniform(-math.pi, math.pi, n)
    length = rng.uniform(0.5, 6.0, n)
    width = rng.uniform(0.3, 2.5, n)
    inst = rng.integers(0, n_inst, n).astype(np.int32)
    active = rng.random(n) < 0.85
    return cx, cy, yaw, length, width, inst, active


def _brute_pairs(cx, cy, yaw, length, width, inst, active):
    n = cx.shape[0]
    out = []
    for i in range(n):
        for j in range(i + 1, n):
            if not (active[i] and active[j]) or inst[i] != inst[j]:
                continue
            if obb_overlap(cx[i], cy[i], yaw[i], length[i], width[i], cx[j], cy[j], yaw[j], length[j], width[j]):
                out.append((i, j))
    return out


def _run_pairs(scene, cap):
    out_i = np.full(cap, -1, np.int64)
    out_j = np.full(cap, -1, np.int64)
    cnt = pairwise_box_overlaps(*scene, out_i, out_j)
    return cnt, out_i, out_j


@pytest.mark.parametrize("seed", range(8))
def test_pairwise_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 160))
    scene = _random_scene(rng, n, extent=float(rng.uniform(5.0, 40.0)), n_inst=3)
    expected = _brute_pairs(*scene)
    cnt, out_i, out_j = _run_pairs(scene, 4 * n * n + 1)
    assert cnt == len(expected)
    assert list(zip(out_i[:cnt].tolist(), out_j[:cnt].tolist(), strict=True)) == expected
    assert np.all(out_i[cnt:] == -1)


def test_pairwise_1000_boxes_matches_brute_force():
    rng = np.random.default_rng(1234)
    scene = _random_scene(rng, 1000, extent=150.0, n_inst=2)
    expected = _brute_pairs(*scene)
    assert len(expected) > 10
    cnt, out_i, out_j = _run_pairs(scene, 100_000)
    assert cnt == len(expected)
    assert list(zip(out_i[:cnt].tolist(), out_j[:cnt].tolist(), strict=True)) == expected


def test_pairwise_capacity_exceeded_counts_all_and_writes_first():
    n = 12
    z = np.zeros(n)
    scene = (
        np.linspace(0.0, 0.5, n),
        z.copy(),
        z.copy(),
        np.full(n, 4.0),
        np.full(n, 2.0),
        np.zeros(n, np.int32),
        np.ones(n, np.bool_),
    )
    expected = [(i, j) for i in range(n) for j in range(i + 1, n)]
    cnt, out_i, out_j = _run_pairs(scene, 5)
    assert cnt == len(expected) == 66
    assert list(zip(out_i.tolist(), out_j.tolist(), strict=True)) == expected[:5]
    cnt0, _, _ = _run_pairs(scene, 0)
    assert cnt0 == 66


def test_pairwise_instances_and_inactive_rows_excluded():
    n = 6
    z = np.zeros(n)
    inst = np.array([0, 1, 0, 1, 2, 0], np.int32)
    active = np.array([True, True, True, True, True, False])
    scene = (z.copy(), z.copy(), z.copy(), np.full(n, 4.0), np.full(n, 2.0), inst, active)
    cnt, out_i, out_j = _run_pairs(scene, 10)
    assert cnt == 2
    assert list(zip(out_i[:2].tolist(), out_j[:2].tolist(), strict=True)) == [(0, 2), (1, 3)]


def test_pairwise_nonfinite_rows_ignored_and_empty():
    cx = np.array([0.0, math.nan, 0.5, math.inf])
    z = np.zeros(4)
    scene = (
        cx,
        z.copy(),
        z.copy(),
        np.full(4, 4.0),
        np.full(4, 2.0),
        np.zeros(4, np.int32),
        np.ones(4, np.bool_),
    )
    cnt, out_i, out_j = _run_pairs(scene, 4)
    assert cnt == 1
    assert (out_i[0], out_j[0]) == (0, 2)
    empty = (
        np.zeros(0),
        np.zeros(0),
        np.zeros(0),
        np.zeros(0),
        np.zeros(0),
        np.zeros(0, np.int32),
        np.zeros(0, np.bool_),
    )
    assert _run_pairs(empty, 3)[0] == 0
