"""Camera: closed-form projection, pixel areas and depths, occlusion, ids, and a slow ray-cast reference."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.sensors.camera import R_BODY_FROM_OPTICAL, Camera, Intrinsics
from simcore.sensors.mount import Mount, rotation_zyx
from simcore.sensors.scene import Scene, SemanticClass, set_boxes, set_ground, set_prisms
from simcore.state import WorldState
from simcore.units import deg_to_rad

FORWARD = R_BODY_FROM_OPTICAL  # optical -> world for a camera looking along +x (east), level


def _scene_far_ground() -> Scene:
    sc = Scene()
    set_ground(sc, -5000.0, -5000.0, 0.5, np.zeros((1, 1)))
    return sc


def _world(x: float = 0.0, y: float = 0.0, yaw: float = 0.0, n: int = 1) -> SimpleNamespace:
    st_ = WorldState.zeros(n)
    st_.x[0], st_.y[0], st_.yaw[0] = x, y, yaw
    st_.active[:] = True
    return SimpleNamespace(state=st_, ego=0, params={"wheelbase": np.full(n, 2.7)}, grade=np.zeros(n))


def test_intrinsics_from_fov_closed_form():
    k = Intrinsics.from_fov(640, 360, math.pi / 2)
    assert k.fx == pytest.approx(320.0) and k.fy == pytest.approx(320.0)
    assert (k.cx, k.cy) == (320.0, 180.0)
    with pytest.raises(ValueError, match="hfov"):
        Intrinsics.from_fov(640, 360, math.pi)


def test_projection_of_known_points_through_the_mount_chain():
    # vehicle at (10, 5) heading north; camera 2 m ahead of the rear axle, 1.5 m up, looking forward.
    cam = Camera(width=200, height=100, hfov=deg_to_rad(90.0), mount=Mount(2.0, 0.0, 1.5))
    world = _world(10.0, 5.0, math.pi / 2)
    pos, rot = cam.pose(world)
    np.testing.assert_allclose(pos, [10.0, 7.0, 1.5], atol=1e-12)
    # 20 m north of the camera, 2.1 m east (to the right), 1.1 m below the optical axis
    uvz = cam.project(np.array([[12.1, 27.0, 0.4]]), pos, rot)[0]
    f = 100.0  # (200 / 2) / tan(45 deg)
    assert uvz[2] == pytest.approx(20.0)
    assert uvz[0] == pytest.approx(f * 2.1 / 20.0 + 100.0)  # 110.5: the centre of column 110
    assert uvz[1] == pytest.approx(f * 1.1 / 20.0 + 50.0)  # 55.5: the centre of row 55
    # the same point drawn as a tiny box lands on that pixel
    sc = _scene_far_ground()
    set_boxes(sc, [12.1], [27.0], [0.4], [0.0], [0.05], [0.05], [0.05], cls=[SemanticClass.PEDESTRIAN])
    frame = cam.render(sc, pos, rot)
    rows, cols = np.nonzero(frame.instance == 0)
    assert rows.size > 0
    assert set(cols) == {int(uvz[0])} and set(rows) == {int(uvz[1])}
    assert frame.semantic[int(uvz[1]), int(uvz[0])] == SemanticClass.PEDESTRIAN


def test_pitched_mount_moves_the_horizon():
    # pitch down 10 deg (positive pitch = nose down): a far point at camera height appears above the centre
    cam = Camera(width=100, height=100, hfov=deg_to_rad(60.0), mount=Mount.from_deg(0, 0, 1.0, pitch_deg=10.0))
    pos, rot = cam.pose(_world())
    uvz = cam.project(np.array([[1000.0, 0.0, 1.0]]), pos, rot)[0]
    f = 50.0 / math.tan(math.radians(30.0))
    assert uvz[1] == pytest.approx(50.0 - f * math.tan(math.radians(10.0)), rel=1e-6)


def _centres_inside(lo: float, hi: float) -> int:
    """Number of pixel centres j + 0.5 in [lo, hi]."""
    return int(math.floor(hi - 0.5) - math.ceil(lo - 0.5) + 1)


@pytest.mark.parametrize("dist", [7.3, 15.9, 40.1])
def test_box_at_known_distance_fills_expected_area_and_depth(dist):
    cam = Camera(width=320, height=180, hfov=deg_to_rad(70.0))
    k = cam.intrinsics
    sc = _scene_far_ground()
    hw, hh, hl = 0.93, 0.77, 2.1
    set_boxes(sc, [dist + hl], [0.0], [1.0], [0.0], [hl], [hw], [hh])
    frame = cam.render(sc, np.array([0.0, 0.0, 1.0]), FORWARD)
    u_lo, u_hi = k.cx - k.fx * hw / dist, k.cx + k.fx * hw / dist
    v_lo, v_hi = k.cy - k.fy * hh / dist, k.cy + k.fy * hh / dist
    expected = _centres_inside(u_lo, u_hi) * _centres_inside(v_lo, v_hi)
    mask = frame.instance == 0
    assert mask.sum() == expected
    np.testing.assert_allclose(frame.depth[mask], dist, rtol=1e-6)
    assert np.all(np.isinf(frame.depth[~mask]))
    assert np.all(frame.semantic[~mask] == SemanticClass.NONE)
    (box,) = frame.boxes
    assert box["row"] == 0 and box["occlusion"] == 0.0 and box["truncation"] == 0.0
    assert box["visible_pixels"] == expected
    assert box["u0"] == math.ceil(u_lo - 0.5) and box["u1"] == math.floor(u_hi - 0.5) + 1
    assert box["depth"] == pytest.approx(dist + hl)


def test_actor_fully_behind_another_is_fully_occluded_and_has_no_box():
    cam = Camera(width=160, height=90, hfov=deg_to_rad(60.0))
    sc = _scene_far_ground()
    # big truck-like box in front, a car behind it on the same line of sight
    set_boxes(sc, [12.0, 25.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.3], [3.0, 2.0], [1.5, 0.9], [1.4, 0.7])
    frame = cam.render(sc, np.array([0.0, 0.0, 1.0]), FORWARD)
    assert not np.any(frame.instance == 1)
    assert list(frame.boxes["row"]) == [0]
    # alone, the same car is drawn and unoccluded
    sc.box_active = np.array([False, True])
    alone = cam.render(sc, np.array([0.0, 0.0, 1.0]), FORWARD)
    assert np.any(alone.instance == 1) and alone.boxes["occlusion"][0] == 0.0


def test_partial_occlusion_and_truncation_fractions():
    cam = Camera(width=200, height=100, hfov=deg_to_rad(60.0))
    sc = _scene_far_ground()
    # car B behind car A, shifted sideways so half of it shows; car C cut by the right image border
    set_boxes(
        sc, [12.0, 30.0, 15.0], [0.0, 3.0, -8.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0],
        [2.0, 2.0, 2.0], [1.0, 1.0, 1.0], [0.7, 0.7, 0.7],
    )  # fmt: skip
    frame = cam.render(sc, np.array([0.0, 0.0, 1.0]), FORWARD)
    b = {int(r["row"]): r for r in frame.boxes}
    sc.box_active = np.array([False, True, True])
    alone = cam.render(sc, np.array([0.0, 0.0, 1.0]), FORWARD)
    sil = int((alone.instance == 1).sum())
    assert b[1]["silhouette_pixels"] == sil
    assert b[1]["occlusion"] == pytest.approx(1.0 - (frame.instance == 1).sum() / sil)
    assert 0.0 < b[1]["occlusion"] < 1.0
    # C: projected corner extent from the closed form, fraction outside the image
    k = cam.intrinsics
    pts = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            for sz in (-1, 1):
                X, Y, Z = -(-8.0 + sy * 1.0), -(1.0 + sz * 0.7 - 1.0), 15.0 + sx * 2.0
                pts.append((k.fx * X / Z + k.cx, k.fy * Y / Z + k.cy))
    pts = np.array(pts)
    u0, u1, v0, v1 = pts[:, 0].min(), pts[:, 0].max(), pts[:, 1].min(), pts[:, 1].max()
    inside = (min(u1, k.width) - max(u0, 0)) * (min(v1, k.height) - max(v0, 0))
    assert u1 > k.width
    assert b[2]["truncation"] == pytest.approx(1 - inside / ((u1 - u0) * (v1 - v0)), rel=1e-5)
    assert b[0]["truncation"] == 0.0


def test_semantic_and_instance_ids_of_actors_buildings_and_ground():
    cam = Camera(width=160, height=90, hfov=deg_to_rad(90.0))
    sc = Scene()
    n = 201
    cls = np.full((n, n), SemanticClass.ROAD, dtype=np.int8)
    cls[120:, :] = SemanticClass.SIDEWALK  # y > 10 m (nodes every 0.5 m from y0 = -50)
    set_ground(sc, -50.0, -50.0, 0.5, np.zeros((n, n)), cls)
    set_boxes(
        sc, [15.0, 15.0, 0.0], [-4.0, 3.0, 0.0], [0.75, 0.9, 0.75], [0.0, 0.0, 0.0],
        [2.2, 0.25, 2.0], [0.9, 0.3, 0.9], [0.75, 0.9, 0.75],
        cls=[SemanticClass.VEHICLE, SemanticClass.PEDESTRIAN, SemanticClass.VEHICLE],
    )  # fmt: skip
    set_prisms(sc, [(np.array([40.0, 48.0, 48.0, 40.0]), np.array([-10.0, -10.0, 10.0, 10.0]), 0.0, 30.0, 5)])
    world = _world(n=3)
    world.ego = 2  # the carrier (row 2, around the camera) is not drawn
    world.state.x[2] = -1.0
    cam.mount = Mount(1.0, 0.0, 1.5)
    f = cam.measure(sc, world, 0.0)
    k = cam.intrinsics
    pos = np.array([0.0, 0.0, 1.5])

    def pix(p):
        u, v, _ = cam.project(np.array([p]), pos, FORWARD)[0]
        return int(v), int(u)

    assert f.instance[pix((13.0, -4.0, 0.75))] == 0 and f.semantic[pix((13.0, -4.0, 0.75))] == SemanticClass.VEHICLE
    assert f.instance[pix((14.8, 3.0, 1.0))] == 1 and f.semantic[pix((14.8, 3.0, 1.0))] == SemanticClass.PEDESTRIAN
    assert f.semantic[pix((40.0, 0.0, 20.0))] == SemanticClass.BUILDING and f.instance[pix((40.0, 0.0, 20.0))] == -1
    assert f.semantic[pix((5.0, 0.0, 0.0))] == SemanticClass.ROAD
    assert f.semantic[pix((14.0, 12.0, 0.0))] == SemanticClass.SIDEWALK
    assert not np.any(f.instance == 2)
    assert f.depth.dtype == np.float32 and f.semantic.dtype == np.uint8 and f.instance.dtype == np.int32
    assert f.depth[pix((40.0, 0.0, 20.0))] == pytest.approx(40.0 - 0.0, rel=1e-5)
    assert sorted(f.boxes["row"]) == [0, 1]
    assert k.width == 160


def test_outputs_are_selectable():
    cam = Camera(width=32, height=16, outputs=["depth"])
    f = cam.render(_scene_far_ground(), np.zeros(3), FORWARD)
    assert f.depth is not None and f.semantic is None and f.instance is None and f.boxes is None
    with pytest.raises(ValueError, match="unknown outputs"):
        Camera(outputs=["rgb"])


# ----------------------------------------------------------------------------- slow reference


def _ray_box(o, d, c, yaw, h):
    cs, sn = math.cos(yaw), math.sin(yaw)
    rot = np.array([[cs, sn, 0.0], [-sn, cs, 0.0], [0.0, 0.0, 1.0]])
    lo_, ld = rot @ (o - c), rot @ d
    t0, t1 = -math.inf, math.inf
    for a in range(3):
        if ld[a] == 0.0:
            if abs(lo_[a]) > h[a]:
                return math.inf
            continue
        ta, tb = sorted(((-h[a] - lo_[a]) / ld[a], (h[a] - lo_[a]) / ld[a]))
        t0, t1 = max(t0, ta), min(t1, tb)
    if t0 > t1:
        return math.inf
    return t0 if t0 > 0 else (t1 if t1 > 0 else math.inf)


def _ray_prism(o, d, xs, ys, z0, z1):
    best = math.inf
    n = len(xs)
    for k in range(n):  # walls
        ax, ay, bx, by = xs[k], ys[k], xs[(k + 1) % n], ys[(k + 1) % n]
        ex, ey = bx - ax, by - ay
        den = d[0] * ey - d[1] * ex
        if den == 0.0:
            continue
        t = ((ax - o[0]) * ey - (ay - o[1]) * ex) / den
        s = ((ax - o[0]) * d[1] - (ay - o[1]) * d[0]) / den
        if t > 0 and 0 <= s <= 1 and z0 <= o[2] + t * d[2] <= z1:
            best = min(best, t)
    for zc in (z0, z1):  # floor and roof
        if d[2] != 0.0:
            t = (zc - o[2]) / d[2]
            p = o + t * d
            inside = False
            for k in range(n):
                ax, ay, bx, by = xs[k], ys[k], xs[(k + 1) % n], ys[(k + 1) % n]
                if (ay > p[1]) != (by > p[1]) and p[0] < ax + (p[1] - ay) * (bx - ax) / (by - ay):
                    inside = not inside
            if t > 0 and inside:
                best = min(best, t)
    return best


def _reference(cam, sc, pos, rot):
    """Plain-Python ray cast through every pixel centre: (depth Z, class, instance)."""
    k = cam.intrinsics
    depth = np.full((k.height, k.width), np.inf)
    sem = np.zeros((k.height, k.width), dtype=np.uint8)
    inst = np.full((k.height, k.width), -1, dtype=np.int32)
    gz = float(sc.ground_z[0, 0])
    for i in range(k.height):
        for j in range(k.width):
            dc = np.array([(j + 0.5 - k.cx) / k.fx, (i + 0.5 - k.cy) / k.fy, 1.0])
            d = rot @ dc  # world step per unit of optical depth
            best, c, ident = math.inf, 0, -1
            for b in range(sc.box_cx.size):
                c3 = np.array([sc.box_cx[b], sc.box_cy[b], sc.box_cz[b]])
                t = _ray_box(pos, d, c3, sc.box_yaw[b], (sc.box_hl[b], sc.box_hw[b], sc.box_hh[b]))
                if cam.near <= t < best:
                    best, c, ident = t, int(sc.box_class[b]), b
            for p in range(sc.poly_start.size - 1):
                a, e = sc.poly_start[p], sc.poly_start[p + 1]
                t = _ray_prism(pos, d, sc.poly_x[a:e], sc.poly_y[a:e], sc.poly_zmin[p], sc.poly_zmax[p])
                if cam.near <= t < best:
                    best, c, ident = t, int(sc.poly_class[p]), -1
            if d[2] < 0:
                t = (gz - pos[2]) / d[2]
                x, y = pos[0] + t * d[0], pos[1] + t * d[1]
                ix = math.floor((x - sc.ground_x0) / sc.ground_cell + 0.5)
                iy = math.floor((y - sc.ground_y0) / sc.ground_cell + 0.5)
                if 0 <= ix < sc.ground_nx and 0 <= iy < sc.ground_ny and cam.near <= t < best:
                    best, c, ident = t, int(sc.ground_class[iy, ix]), -1
            depth[i, j], sem[i, j], inst[i, j] = best, c, ident
    return depth, sem, inst


@pytest.mark.parametrize("tiles", [False, True], ids=["flat-ground-per-pixel", "ground-tiles"])
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_depth_semantic_instance_match_slow_reference_on_random_scenes(tiles, seed):
    rng = np.random.default_rng(seed)
    sc = Scene()
    n = 61
    cls = rng.choice([1, 2, 3, 4], size=(n, n)).astype(np.int8)
    set_ground(sc, -10.0, -15.0, 0.5, np.full((n, n), rng.uniform(-0.5, 0.5)), cls)
    nb = int(rng.integers(1, 5))
    set_boxes(
        sc, rng.uniform(4, 25, nb), rng.uniform(-8, 8, nb), rng.uniform(0.3, 2.0, nb), rng.uniform(-np.pi, np.pi, nb),
        rng.uniform(0.3, 2.5, nb), rng.uniform(0.3, 1.2, nb), rng.uniform(0.3, 1.0, nb),
        cls=rng.choice([9, 10, 11], nb),
    )  # fmt: skip
    ang = rng.uniform(0, np.pi)
    cx0, cy0, ex, ey = rng.uniform(15, 30), rng.uniform(-10, 10), rng.uniform(1, 4), rng.uniform(1, 4)
    corners = np.array([[-ex, -ey], [ex, -ey], [ex, ey], [-ex, ey]]) @ np.array(
        [[np.cos(ang), np.sin(ang)], [-np.sin(ang), np.cos(ang)]]
    )
    set_prisms(sc, [(cx0 + corners[:, 0], cy0 + corners[:, 1], -1.0, rng.uniform(2, 8), 5)])
    cam = Camera(width=40, height=24, hfov=deg_to_rad(float(rng.uniform(50, 110))), near=0.2, far=1000.0)
    cam._flat_fast = not tiles
    pos = np.array([0.0, 0.0, rng.uniform(1.0, 2.5)])
    rot = rotation_zyx(rng.uniform(-0.05, 0.05), rng.uniform(-0.1, 0.2), rng.uniform(-0.3, 0.3)) @ FORWARD
    f = cam.render(sc, pos, rot)
    depth, sem, inst = _reference(cam, sc, pos, rot)
    finite = np.isfinite(depth)
    assert np.array_equal(finite, np.isfinite(f.depth))
    np.testing.assert_allclose(f.depth[finite], depth[finite], rtol=1e-5)
    assert np.array_equal(f.semantic, sem)
    assert np.array_equal(f.instance, inst)


def test_sloped_ground_drawn_as_tiles_matches_the_plane():
    """A heightfield sampled from a plane is that plane (bilinear is exact), so tile depths equal the
    closed-form ray-plane intersection."""
    sc = Scene()
    n = 241
    g = -60.0 + 0.5 * np.arange(n)
    X, Y = np.meshgrid(g, g)
    a, b = 0.04, -0.02  # z = a x + b y
    set_ground(sc, -60.0, -60.0, 0.5, a * X + b * Y)
    assert not sc.ground_flat
    cam = Camera(width=64, height=36, hfov=deg_to_rad(80.0), far=500.0)
    pos = np.array([0.0, 0.0, 1.8])
    f = cam.render(sc, pos, FORWARD)
    k = cam.intrinsics
    checked = 0
    for i in range(k.height):
        for j in range(k.width):
            d = FORWARD @ np.array([(j + 0.5 - k.cx) / k.fx, (i + 0.5 - k.cy) / k.fy, 1.0])
            den = d[2] - a * d[0] - b * d[1]
            if den >= 0:
                continue
            t = (a * pos[0] + b * pos[1] - pos[2]) / den
            x, y = pos[0] + t * d[0], pos[1] + t * d[1]
            if max(abs(x), abs(y)) > 55.0:
                continue
            assert f.depth[i, j] == pytest.approx(t, rel=1e-5)
            assert f.semantic[i, j] == SemanticClass.GROUND
            checked += 1
    assert checked > 300
