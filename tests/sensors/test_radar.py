"""Radar: radial velocity as the projection of relative velocity, occlusion, merging, noise, clutter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.sensors.radar import Radar, RadarConfig, RadarConfigError
from simcore.sensors.scene import Scene, SemanticClass, set_boxes, set_ground
from simcore.units import deg_to_rad

EXACT = {
    "range_noise_m": 0.0,
    "azimuth_noise": 0.0,
    "elevation_noise": 0.0,
    "velocity_noise_mps": 0.0,
    "rcs_noise_db": 0.0,
}


def pose(yaw: float = 0.0, z: float = 0.5):
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([0.0, 0.0, z]), np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def scene(cx, cy, vx=0.0, vy=0.0, cls=SemanticClass.VEHICLE, hl=2.0, hw=0.9, hh=0.75):
    sc = Scene()
    set_ground(sc, 0.0, 0.0, 1.0, np.full((1, 1), -100.0))
    set_boxes(sc, cx, cy, 0.75, 0.0, hl, hw, hh, vx=vx, vy=vy, cls=cls)
    return sc


def test_radial_velocity_is_projection_of_relative_velocity():
    rng = np.random.default_rng(0)
    n = 12
    cx = rng.uniform(10, 80, n)
    cy = rng.uniform(-0.8, 0.8, n) * cx
    vx, vy = rng.uniform(-20, 20, n), rng.uniform(-20, 20, n)
    sc = scene(cx, cy, vx, vy, hl=0.3, hw=0.3)
    vs = np.array([12.0, -1.0, 0.0])
    cfg = RadarConfig(fov_azimuth=deg_to_rad(120.0), range_resolution_m=0.0, azimuth_resolution=deg_to_rad(0.0),
                      velocity_resolution_mps=0.0, occlusion_rays=0, **EXACT)  # fmt: skip
    det = Radar(cfg).scan(sc, *pose(0.1), velocity=vs)
    assert det.size == n
    for row in det:
        i = row["actor_id"]
        los = np.array([cx[i], cy[i], 0.75 - 0.5])
        rng_i = np.linalg.norm(los)
        expect = np.dot(np.array([vx[i], vy[i], 0.0]) - vs, los / rng_i)
        assert row["radial_velocity"] == pytest.approx(expect, abs=1e-12)
        assert row["range"] == pytest.approx(rng_i, abs=1e-12)
        assert row["azimuth"] == pytest.approx(math.atan2(cy[i], cx[i]) - 0.1, abs=1e-12)
        assert row["elevation"] == pytest.approx(math.asin(0.25 / rng_i), abs=1e-12)
        assert row["rcs"] == 10.0


def test_fov_and_range_limits():
    sc = scene([20.0, 5.0, 300.0, -20.0], [0.0, 30.0, 0.0, 0.0])
    det = Radar(RadarConfig(fov_azimuth=deg_to_rad(60.0), **EXACT)).scan(sc, *pose())
    assert sorted(det["actor_id"].tolist()) == [0]


def test_occluded_target_is_not_detected():
    sc = scene([15.0, 30.0], [0.0, 0.0], hl=[1.0, 1.0], hw=[1.5, 0.8], hh=[1.5, 0.7])
    det = Radar(RadarConfig(**EXACT)).scan(sc, *pose())
    assert det["actor_id"].tolist() == [0]
    alone = scene([30.0], [0.0], hl=1.0, hw=0.8, hh=0.7)
    assert Radar(RadarConfig(**EXACT)).scan(alone, *pose())["actor_id"].tolist() == [0]


def test_targets_within_resolution_merge():
    cfg = RadarConfig(range_resolution_m=1.0, azimuth_resolution=deg_to_rad(4.0), velocity_resolution_mps=0.5,
                      occlusion_rays=0, **EXACT)  # fmt: skip
    close = scene([40.0, 40.5], [0.0, 1.0], vx=[5.0, 5.1], hl=0.2, hw=0.2, cls=[9, 10])
    det = Radar(cfg).scan(close, *pose())
    assert det.size == 1 and det["n_merged"][0] == 2
    w = 10 ** np.array([1.0, -0.5])  # linear RCS of a vehicle (10 dBsm) and a pedestrian (-5 dBsm)
    assert det["rcs"][0] == pytest.approx(10 * math.log10(w.sum()))
    assert det["actor_id"][0] == 0  # the stronger scatterer names the detection
    apart = scene([40.0, 40.5], [0.0, 1.0], vx=[5.0, 7.0], hl=0.2, hw=0.2)
    assert Radar(cfg).scan(apart, *pose()).size == 2


def test_noise_statistics_and_determinism():
    sc = scene([50.0], [5.0], vx=[3.0], hl=0.3, hw=0.3)
    cfg = RadarConfig(range_noise_m=0.2, velocity_noise_mps=0.1, occlusion_rays=0)
    exact = Radar(RadarConfig(occlusion_rays=0, **EXACT)).scan(sc, *pose())[0]
    radar = Radar(cfg, seed=3)
    n = 2000
    scans = np.concatenate([radar.scan(sc, *pose()) for _ in range(n)])
    dr = scans["range"] - exact["range"]
    dv = scans["radial_velocity"] - exact["radial_velocity"]
    assert abs(dr.mean()) < 4 * 0.2 / math.sqrt(n) and abs(dr.std() - 0.2) < 4 * 0.2 / math.sqrt(2 * n)
    assert abs(dv.mean()) < 4 * 0.1 / math.sqrt(n) and abs(dv.std() - 0.1) < 4 * 0.1 / math.sqrt(2 * n)
    a = Radar(cfg, seed=9).scan(sc, *pose())
    b = Radar(cfg, seed=9).scan(sc, *pose())
    assert a.tobytes() == b.tobytes()


def test_clutter_poisson_mean_and_static_doppler():
    sc = Scene()
    rate = 4.0
    radar = Radar(RadarConfig(clutter_rate=rate, **EXACT), seed=1)
    vs = np.array([10.0, 0.0, 0.0])
    counts, rows = [], []
    for _ in range(1500):
        d = radar.scan(sc, *pose(), velocity=vs)
        counts.append(d.size)
        rows.append(d)
    counts = np.array(counts)
    assert abs(counts.mean() - rate) < 4 * math.sqrt(rate / counts.size)
    allr = np.concatenate(rows)
    assert np.all(allr["actor_id"] == -1)
    # static scatterers: radial velocity = -(sensor velocity . line of sight)
    los = np.column_stack([np.cos(allr["elevation"]) * np.cos(allr["azimuth"]), np.cos(allr["elevation"])
                           * np.sin(allr["azimuth"]), np.sin(allr["elevation"])])  # fmt: skip
    np.testing.assert_allclose(allr["radial_velocity"], -(los @ vs), atol=1e-12)


def test_detection_probability():
    sc = scene([30.0], [0.0], hl=0.3, hw=0.3)
    radar = Radar(RadarConfig(detection_probability=0.6, occlusion_rays=0, **EXACT), seed=2)
    n = 2000
    hits = sum(radar.scan(sc, *pose()).size for _ in range(n))
    assert abs(hits / n - 0.6) < 4 * math.sqrt(0.24 / n)


def test_tracker_follows_constant_velocity_target():
    cfg = RadarConfig(track=True, range_noise_m=0.05, azimuth_noise=deg_to_rad(0.05), occlusion_rays=0, rate_hz=20.0)
    radar = Radar(cfg, seed=4)
    v = np.array([-4.0, 1.0])
    for k in range(60):
        t = k / cfg.rate_hz
        sc = scene([40.0 + v[0] * t], [-3.0 + v[1] * t], vx=[v[0]], vy=[v[1]], hl=0.3, hw=0.3)
        radar.scan(sc, *pose(z=0.75))
    tr = radar.tracks
    assert tr.size == 1 and tr["confirmed"][0]
    assert tr["vx"][0] == pytest.approx(v[0], abs=0.3) and tr["vy"][0] == pytest.approx(v[1], abs=0.3)


def test_config_errors():
    with pytest.raises(RadarConfigError, match="fov_azimuth_deg"):
        RadarConfig(fov_azimuth=deg_to_rad(0.0))
    with pytest.raises(RadarConfigError, match="unknown key"):
        RadarConfig.from_dict({"range_max": 100})
    with pytest.raises(RadarConfigError, match="occlusion_rays"):
        RadarConfig(occlusion_rays=3)
    with pytest.raises(RadarConfigError, match="unknown class"):
        RadarConfig(rcs_dbsm={"TRUCK": 20.0})
    cfg = RadarConfig.from_dict({"mount": {"x": 3.8, "z": 0.5, "yaw_deg": 90.0}, "clutter_rate": 2.0})
    assert cfg.mount.yaw == pytest.approx(math.pi / 2)
