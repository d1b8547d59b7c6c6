"""Object list: range/FOV, occlusion, frames, latency, detection/false-positive statistics, noise."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from simcore.sensors.mount import Mount
from simcore.sensors.objects import ObjectList, visibility
from simcore.sensors.scene import Scene, SemanticClass, set_boxes, set_ground, set_prisms
from simcore.state import WorldState
from simcore.units import deg_to_rad


def _setup(xs, ys, ego_xy=(0.0, 0.0), ego_yaw=0.0, road=True):
    n = len(xs) + 1
    sc = Scene()
    cls = np.full((201, 201), SemanticClass.ROAD if road else SemanticClass.GROUND, dtype=np.int8)
    set_ground(sc, -50.0, -50.0, 0.5, np.zeros((201, 201)), cls)
    set_boxes(
        sc, [ego_xy[0] + 1.4, *xs], [ego_xy[1], *ys], 0.75, [ego_yaw] + [0.0] * (n - 1), 2.3, 0.9, 0.75,
        vx=[0.0] + [3.0] * (n - 1), vy=[0.0] + [-1.0] * (n - 1),
    )  # fmt: skip
    s = WorldState.zeros(n)
    s.x[0], s.y[0], s.yaw[0] = ego_xy[0], ego_xy[1], ego_yaw
    s.active[:] = True
    world = SimpleNamespace(state=s, ego=0, params={"wheelbase": np.full(n, 2.7)}, grade=np.zeros(n))
    return sc, world


def test_range_and_field_of_view():
    # ahead 20 m, ahead 80 m (beyond range), behind 10 m, 45 deg left at 20 m
    sc, w = _setup([20.0, 80.0, -10.0, 14.1], [0.0, 0.0, 0.0, 14.1])
    ol = ObjectList(max_range=50.0, fov=deg_to_rad(60.0), mount=Mount(0.0, 0.0, 1.5))
    assert list(ol.measure(sc, w, 0.0).objects["id"]) == [1]
    ol = ObjectList(max_range=50.0, fov=deg_to_rad(100.0), mount=Mount(0.0, 0.0, 1.5))
    assert sorted(ol.measure(sc, w, 0.0).objects["id"]) == [1, 4]
    ol = ObjectList(max_range=50.0, fov=deg_to_rad(60.0), mount=Mount.from_deg(0.0, 0.0, 1.5, yaw_deg=180.0))
    assert list(ol.measure(sc, w, 0.0).objects["id"]) == [3]


def test_vehicle_and_world_frame_columns():
    sc, w = _setup([10.0], [25.0], ego_xy=(10.0, 5.0), ego_yaw=math.pi / 2)
    (o,) = ObjectList(mount=Mount(0.0, 0.0, 1.5)).measure(sc, w, 0.0).objects
    assert (o["wx"], o["wy"]) == (10.0, 25.0)
    assert o["x"] == pytest.approx(20.0) and o["y"] == pytest.approx(0.0, abs=1e-12)
    assert o["yaw"] == pytest.approx(-math.pi / 2)
    # world velocity (3, -1) seen from an ego heading north: forward -1, left -3
    assert (o["wvx"], o["wvy"]) == (3.0, -1.0)
    assert o["vx"] == pytest.approx(-1.0) and o["vy"] == pytest.approx(-3.0)
    assert (o["length"], o["width"], o["height"]) == (4.6, 1.8, 1.5)
    assert o["cls"] == SemanticClass.VEHICLE and o["visibility"] == 1.0


def test_occlusion_hides_actors_behind_others_and_buildings():
    # row 2 hidden behind row 1; row 3 half hidden; row 4 behind a building
    sc, w = _setup([15.0, 30.0, 30.0, 5.0], [0.0, 0.0, 1.6, -20.0])
    set_prisms(sc, [(np.array([-2.0, 12.0, 12.0, -2.0]), np.array([-14.0, -14.0, -10.0, -10.0]), 0.0, 10.0, 5)])
    ol = ObjectList(mount=Mount(1.0, 0.0, 1.2))
    objs = ol.measure(sc, w, 0.0).objects
    vis = dict(zip(objs["id"].tolist(), objs["visibility"].tolist(), strict=True))
    assert vis[1] == 1.0 and 2 not in vis and 4 not in vis
    assert 0.0 < vis[3] < 1.0
    # the same from the sample-ray function directly
    active = np.ones(5, dtype=bool)
    v = visibility(sc, np.array([1.0, 0.0, 1.2]), np.array([1, 2, 4]), 0, active)
    np.testing.assert_array_equal(v, [1.0, 0.0, 0.0])
    # threshold drops the partly hidden one; occlusion off lists everything in range
    assert 3 not in ObjectList(mount=Mount(1.0, 0.0, 1.2), min_visibility=0.95).measure(sc, w, 0.0).objects["id"]
    assert sorted(ObjectList(occlusion=False).measure(sc, w, 0.0).objects["id"]) == [1, 2, 3, 4]


def test_latency_returns_the_frame_measured_latency_ago():
    sc, w = _setup([20.0], [0.0])
    ol = ObjectList(rate_hz=10.0, latency=0.3, mount=Mount(0.0, 0.0, 1.5))
    stamps = []
    for k in range(10):
        t = k * 0.1
        sc.box_cx[1] = 20.0 + t  # the target moves 1 m/s
        f = ol.measure(sc, w, t)
        stamps.append(f.stamp)
        if k < 3:
            assert math.isnan(f.stamp) and f.objects.size == 0
        else:
            assert f.stamp == pytest.approx(t - 0.3)
            assert f.objects["wx"][0] == pytest.approx(20.0 + t - 0.3)


def test_detection_probability_statistics():
    sc, w = _setup([20.0, -20.0], [0.0, 5.0])
    ol = ObjectList(p_detect=0.7, mount=Mount(0.0, 0.0, 1.5))
    ol.seed(np.random.default_rng(5))
    n = 3000
    hits = np.zeros(2)
    for k in range(n):
        ids = ol.measure(sc, w, k * 0.1).objects["id"]
        hits += [1 in ids, 2 in ids]
    # binomial: sd = sqrt(p (1 - p) / n) = 0.0084; allow 4 sd
    np.testing.assert_allclose(hits / n, 0.7, atol=4 * math.sqrt(0.21 / n))


def test_false_positives_are_poisson_and_on_the_road():
    sc, w = _setup([], [])
    cls = np.full((201, 201), SemanticClass.GROUND, dtype=np.int8)
    cls[90:111, :] = SemanticClass.ROAD  # a 10 m wide road band along x (y in [-5, 5])
    set_ground(sc, -50.0, -50.0, 0.5, np.zeros((201, 201)), cls)
    ol = ObjectList(false_positive_rate=1.5, max_range=40.0, mount=Mount(0.0, 0.0, 1.5))
    ol.seed(np.random.default_rng(9))
    counts, ys = [], []
    for k in range(3000):
        objs = ol.measure(sc, w, k * 0.1).objects
        assert np.all(objs["id"] == -1)
        counts.append(objs.size)
        ys.extend(objs["wy"].tolist())
    counts = np.array(counts)
    # Poisson: mean = variance = 1.5; standard error of the mean sqrt(1.5 / 3000) = 0.022
    assert counts.mean() == pytest.approx(1.5, abs=0.09)
    assert counts.var() == pytest.approx(1.5, rel=0.1)
    assert np.all(np.abs(ys) <= 5.25)


def test_position_and_velocity_noise_statistics():
    sc, w = _setup([20.0], [3.0])
    ol = ObjectList(pos_sigma=0.3, vel_sigma=0.2, mount=Mount(0.0, 0.0, 1.5))
    ol.seed(np.random.default_rng(1))
    rows = np.concatenate([ol.measure(sc, w, k * 0.1).objects for k in range(5000)])
    assert rows["wx"].mean() == pytest.approx(20.0, abs=0.02) and rows["wx"].std() == pytest.approx(0.3, rel=0.04)
    assert rows["wy"].std() == pytest.approx(0.3, rel=0.04)
    assert rows["wvx"].mean() == pytest.approx(3.0, abs=0.02) and rows["wvy"].std() == pytest.approx(0.2, rel=0.04)
    np.testing.assert_allclose(rows["x"], rows["wx"])  # ego at the origin heading east


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="p_detect"):
        ObjectList(p_detect=1.5)
    with pytest.raises(ValueError, match="fov"):
        ObjectList(fov=deg_to_rad(0.0))
