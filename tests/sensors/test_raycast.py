"""Ray casting against slow plain-Python references (face planes, winding numbers) on random scenes."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.sensors.scene import Scene, SemanticClass, cast_rays, set_boxes, set_ground, set_prisms

# ----------------------------------------------------------------------------- plain-Python references


def ref_box(o, d, box) -> float:
    """First t > 0 where o + t d meets the box surface: each of the 6 face planes, hit point inside the face."""
    cx, cy, cz, yaw, hl, hw, hh = box
    c, s = math.cos(yaw), math.sin(yaw)
    axes = [(c, s, 0.0), (-s, c, 0.0), (0.0, 0.0, 1.0)]
    half = [hl, hw, hh]
    best = math.inf
    for k in range(3):
        for sign in (-1.0, 1.0):
            n = axes[k]
            px = cx + sign * half[k] * n[0]
            py = cy + sign * half[k] * n[1]
            pz = cz + sign * half[k] * n[2]
            den = d[0] * n[0] + d[1] * n[1] + d[2] * n[2]
            if abs(den) < 1e-200:
                continue
            t = ((px - o[0]) * n[0] + (py - o[1]) * n[1] + (pz - o[2]) * n[2]) / den
            if t <= 0 or t >= best:
                continue
            h = [o[i] + t * d[i] - (cx, cy, cz)[i] for i in range(3)]
            inside = all(
                abs(h[0] * axes[m][0] + h[1] * axes[m][1] + h[2] * axes[m][2]) <= half[m] * (1 + 1e-12) + 1e-12
                for m in range(3)
                if m != k
            )
            if inside:
                best = t
    return best


def winding(px, py, xs, ys) -> int:
    """Winding number of the polygon around (px, py) (sum of signed angles)."""
    total = 0.0
    n = len(xs)
    for i in range(n):
        a = math.atan2(ys[i] - py, xs[i] - px)
        b = math.atan2(ys[(i + 1) % n] - py, xs[(i + 1) % n] - px)
        da = b - a
        while da > math.pi:
            da -= 2 * math.pi
        while da < -math.pi:
            da += 2 * math.pi
        total += da
    return round(total / (2 * math.pi))


def ref_prism(o, d, xs, ys, zmin, zmax) -> float:
    """First t > 0 on a wall (a vertical quad: plane of the edge, within the edge and z range) or a cap."""
    best = math.inf
    n = len(xs)
    for i in range(n):
        ax, ay, bx, by = xs[i], ys[i], xs[(i + 1) % n], ys[(i + 1) % n]
        nx, ny = by - ay, -(bx - ax)
        den = d[0] * nx + d[1] * ny
        if abs(den) < 1e-200:
            continue
        t = ((ax - o[0]) * nx + (ay - o[1]) * ny) / den
        if t <= 0 or t >= best:
            continue
        hx, hy, hz = o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]
        el = (bx - ax) ** 2 + (by - ay) ** 2
        u = ((hx - ax) * (bx - ax) + (hy - ay) * (by - ay)) / el
        if -1e-12 <= u <= 1 + 1e-12 and zmin <= hz <= zmax:
            best = t
    for zc in (zmin, zmax):
        if d[2] == 0:
            continue
        t = (zc - o[2]) / d[2]
        if 0 < t < best and winding(o[0] + t * d[0], o[1] + t * d[1], xs, ys) != 0:
            best = t
    return best


def unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


# ----------------------------------------------------------------------------- strategies


def fl(lo: float, hi: float):
    return st.floats(lo, hi, allow_subnormal=False)


coord = st.floats(-30, 30, allow_nan=False, allow_subnormal=False)
boxes_st = st.lists(
    st.tuples(coord, coord, fl(0.2, 3), fl(-math.pi, math.pi), fl(0.3, 4), fl(0.3, 2),
              fl(0.3, 2)),
    min_size=1,
    max_size=12,
)  # fmt: skip
rays_st = st.lists(
    st.tuples(
        coord,
        coord,
        fl(0.1, 5),
        fl(-math.pi, math.pi),
        fl(-1.2, 1.2),
    ),
    min_size=1,
    max_size=20,
)


def star_polygon(cx, cy, radii, rot):
    """A star-shaped (possibly non-convex) polygon, vertices counter-clockwise."""
    k = len(radii)
    ang = rot + 2 * math.pi * np.arange(k) / k
    return cx + np.asarray(radii) * np.cos(ang), cy + np.asarray(radii) * np.sin(ang)


prisms_st = st.lists(
    st.tuples(coord, coord, st.lists(fl(1, 6), min_size=3, max_size=8), fl(0, 6), fl(-1, 2),
              fl(0.5, 10)),
    min_size=1,
    max_size=8,
)  # fmt: skip


def make_rays(rays):
    o = np.array([[r[0], r[1], r[2]] for r in rays])
    d = np.array([[math.cos(r[4]) * math.cos(r[3]), math.cos(r[4]) * math.sin(r[3]), math.sin(r[4])] for r in rays])
    d[np.abs(d) < 1e-12] = 0.0  # axis-parallel rays stay exactly axis-parallel (no overflow in the reference)
    return o, d / np.linalg.norm(d, axis=1)[:, None]


# ----------------------------------------------------------------------------- tests


@settings(deadline=None, max_examples=60)
@given(boxes_st, rays_st)
def test_boxes_match_reference(boxes, rays):
    sc = Scene()
    set_ground(sc, 0.0, 0.0, 1.0, np.full((1, 1), -1000.0))
    b = np.array(boxes)
    set_boxes(sc, b[:, 0], b[:, 1], b[:, 2], b[:, 3], b[:, 4], b[:, 5], b[:, 6])
    o, d = make_rays(rays)
    rng, cls, ids, _ = cast_rays(sc, o, d, tmax=500.0)
    for k in range(len(rays)):
        ts = [ref_box(o[k], d[k], bx) for bx in boxes]
        best = min(ts)
        if math.isinf(best):
            assert math.isinf(rng[k])
            continue
        assert abs(rng[k] - best) <= 1e-9, (k, rng[k], best)
        assert ts[ids[k]] <= best + 1e-9
        assert cls[k] == SemanticClass.VEHICLE


@settings(deadline=None, max_examples=60)
@given(prisms_st, rays_st)
def test_prisms_match_reference(prisms, rays):
    sc = Scene()
    set_ground(sc, 0.0, 0.0, 1.0, np.full((1, 1), -1000.0))
    polys = []
    for cx, cy, radii, rot, z0, h in prisms:
        xs, ys = star_polygon(cx, cy, radii, rot)
        polys.append((xs, ys, z0, z0 + h, SemanticClass.BUILDING))
    set_prisms(sc, polys, cell=7.0)
    o, d = make_rays(rays)
    rng, cls, ids, _ = cast_rays(sc, o, d, tmax=500.0)
    for k in range(len(rays)):
        best = min(ref_prism(o[k], d[k], p[0], p[1], p[2], p[3]) for p in polys)
        if math.isinf(best):
            assert math.isinf(rng[k])
        else:
            assert abs(rng[k] - best) <= 1e-9, (k, rng[k], best)
            assert cls[k] == SemanticClass.BUILDING
            assert ids[k] == -1


@settings(deadline=None, max_examples=40)
@given(boxes_st, prisms_st, rays_st)
def test_mixed_scene_matches_brute_force(boxes, prisms, rays):
    sc = Scene()
    set_ground(sc, -50.0, -50.0, 100.0, np.zeros((2, 2)))
    b = np.array(boxes)
    set_boxes(sc, b[:, 0], b[:, 1], b[:, 2], b[:, 3], b[:, 4], b[:, 5], b[:, 6])
    polys = [(*star_polygon(cx, cy, radii, rot), z0, z0 + h, 5) for cx, cy, radii, rot, z0, h in prisms]
    set_prisms(sc, polys)
    o, d = make_rays(rays)
    rng, _, _, _ = cast_rays(sc, o, d, tmax=500.0)
    for k in range(len(rays)):
        cand = [ref_box(o[k], d[k], bx) for bx in boxes] + [ref_prism(o[k], d[k], *p[:4]) for p in polys]
        if d[k, 2] < 0:
            cand.append(-o[k, 2] / d[k, 2])
        best = min(cand)
        if best > 500.0:  # beyond the cast's tmax: no return
            best = math.inf
        assert (math.isinf(best) and math.isinf(rng[k])) or abs(rng[k] - best) <= 1e-9


def test_broad_phase_many_rays_same_origin():
    """Rays from one origin in every direction against many boxes and prisms: binned == brute force."""
    rng_ = np.random.default_rng(5)
    sc = Scene()
    set_ground(sc, 0.0, 0.0, 1.0, np.full((1, 1), -1000.0))
    n = 60
    boxes = np.column_stack([rng_.uniform(-40, 40, n), rng_.uniform(-40, 40, n), rng_.uniform(-1, 2, n),
                             rng_.uniform(-3, 3, n), rng_.uniform(0.3, 3, n), rng_.uniform(0.3, 1.5, n),
                             rng_.uniform(0.5, 1.5, n)])  # fmt: skip
    set_boxes(sc, *boxes.T)
    polys = [(*star_polygon(x, y, rng_.uniform(1, 4, 5), 0.3), 0.0, 8.0, 5) for x, y in rng_.uniform(-60, 60, (20, 2))]
    set_prisms(sc, polys)
    m = 2000
    az = rng_.uniform(-math.pi, math.pi, m)
    el = rng_.uniform(-0.5, 0.5, m)
    d = np.column_stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    o = np.tile([0.5, -0.3, 1.0], (m, 1))
    r, _, _, _ = cast_rays(sc, o, d, tmax=500.0)
    for k in range(0, m, 7):
        cand = [ref_box(o[k], d[k], bx) for bx in boxes] + [ref_prism(o[k], d[k], *p[:4]) for p in polys]
        best = min(cand)
        assert (math.isinf(best) and math.isinf(r[k])) or abs(r[k] - best) <= 1e-9


def test_skip_and_tmax():
    sc = Scene()
    set_ground(sc, 0.0, 0.0, 1.0, np.full((1, 1), -1000.0))
    set_boxes(sc, [0.0, 10.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 1.0])
    o, d = np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]])
    r, _, ids, _ = cast_rays(sc, o, d)
    assert ids[0] == 0 and r[0] == 2.0  # from inside its own box: the exit face
    r, _, ids, _ = cast_rays(sc, o, d, skip=0)
    assert ids[0] == 1 and r[0] == 9.0
    r, _, ids, _ = cast_rays(sc, o, d, skip=0, tmax=8.0)
    assert math.isinf(r[0]) and ids[0] == -1


def test_flat_ground_and_incidence():
    sc = Scene()
    o = np.tile([0.0, 0.0, 2.0], (50, 1))
    el = np.linspace(-1.5, -0.05, 50)
    d = np.column_stack([np.cos(el), np.zeros(50), np.sin(el)])
    r, cls, ids, cosi = cast_rays(sc, o, d)
    np.testing.assert_allclose(r, 2.0 / np.sin(-el), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cosi, np.sin(-el), atol=1e-15)
    assert np.all(cls == SemanticClass.GROUND) and np.all(ids == -1)


def test_heightfield_plane_exact():
    """A tilted plane z = a x + b y + c is reproduced exactly by bilinear interpolation; hits match the
    analytic plane intersection to the bisection tolerance."""
    a, b, c = 0.05, -0.03, 0.4
    gx = np.arange(0, 201) * 2.0 - 200
    X, Y = np.meshgrid(gx, gx)
    sc = Scene()
    set_ground(sc, -200.0, -200.0, 2.0, a * X + b * Y + c)
    assert not sc.ground_flat
    rng_ = np.random.default_rng(2)
    m = 300
    az = rng_.uniform(-math.pi, math.pi, m)
    el = rng_.uniform(-0.8, -0.08, m)
    d = np.column_stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    o = np.column_stack([rng_.uniform(-10, 10, m), rng_.uniform(-10, 10, m), np.full(m, 3.0)])
    r, cls, _, cosi = cast_rays(sc, o, d)
    t_exact = (a * o[:, 0] + b * o[:, 1] + c - o[:, 2]) / (d[:, 2] - a * d[:, 0] - b * d[:, 1])
    np.testing.assert_allclose(r, t_exact, rtol=0, atol=1e-9)
    n = np.array([-a, -b, 1.0]) / math.sqrt(a * a + b * b + 1)
    np.testing.assert_allclose(cosi, -(d @ n), atol=1e-9)
    assert np.all(cls == SemanticClass.GROUND)


def test_moving_box_equals_shifted_box():
    """A ray fired at time t against a box moving with v hits like a box moved by v t."""
    sc = Scene()
    set_ground(sc, 0.0, 0.0, 1.0, np.full((1, 1), -1000.0))
    set_boxes(sc, [10.0], [0.0], [1.0], [0.2], [2.0], [1.0], [1.0], vx=[-3.0], vy=[1.5])
    rng_ = np.random.default_rng(3)
    m = 200
    t = rng_.uniform(0, 0.5, m)
    az = rng_.uniform(-0.6, 0.6, m)
    d = np.column_stack([np.cos(az), np.sin(az), np.zeros(m)])
    o = np.tile([0.0, 0.0, 1.0], (m, 1))
    r, _, _, _ = cast_rays(sc, o, d, ray_t=t)
    for k in range(m):
        ref = ref_box(o[k], d[k], (10.0 - 3.0 * t[k], 1.5 * t[k], 1.0, 0.2, 2.0, 1.0, 1.0))
        assert (math.isinf(ref) and math.isinf(r[k])) or abs(r[k] - ref) <= 1e-9


def test_bad_input():
    sc = Scene()
    import pytest

    with pytest.raises(ValueError, match="non-zero"):
        cast_rays(sc, np.zeros((1, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at least 3"):
        set_prisms(sc, [(np.array([0.0, 1.0]), np.array([0.0, 1.0]), 0.0, 1.0, 5)])
    with pytest.raises(ValueError, match="zmax"):
        set_prisms(sc, [(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]), 1.0, 1.0, 5)])
