"""Lidar: closed forms (wall, ground, occlusion, moving target), noise statistics, weather, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.sensors.lidar import Lidar, LidarConfig, LidarConfigError, Weather, weather_range
from simcore.sensors.mount import Mount
from simcore.sensors.scene import Scene, SemanticClass, cast_rays, set_boxes, set_ground, set_prisms
from simcore.units import deg_to_rad


def _fov_deg(lower: float, upper: float) -> tuple[float, float]:
    """A vertical FOV given in degrees, as the config holds it (rad)."""
    return (deg_to_rad(lower), deg_to_rad(upper))


H = 1.8  # sensor height above the ground (m)


def wall_scene(d: float, half_width: float, z0: float = -50.0, z1: float = 50.0) -> Scene:
    """A wall (thick prism) whose near face is the plane x = d, |y| <= half_width."""
    sc = Scene()
    set_ground(sc, 0.0, 0.0, 1.0, np.full((1, 1), -1000.0))
    xs = np.array([d, d + 1.0, d + 1.0, d])
    ys = np.array([-half_width, -half_width, half_width, half_width])
    set_prisms(sc, [(xs, ys, z0, z1, SemanticClass.BUILDING)])
    return sc


def level_pose(x=0.0, y=0.0, z=H, yaw=0.0):
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([x, y, z]), np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_wall_ranges_and_count():
    d, hw = 12.0, 3.0
    cfg = LidarConfig(channels=16, vertical_fov=_fov_deg(-15.0, 15.0), points_per_channel=3600, range_max_m=100.0)
    lid = Lidar(cfg)
    pts = lid.scan(wall_scene(d, hw), *level_pose())
    assert np.all(pts["class"] == SemanticClass.BUILDING)
    az, el = pts["azimuth"].astype(float), cfg.channel_elevations[pts["channel"]]
    # exact azimuths: recompute from the config (the output field is float32)
    az = cfg.azimuths[np.searchsorted(cfg.azimuths.astype(np.float32), pts["azimuth"])]
    np.testing.assert_allclose(pts["range"], d / (np.cos(el) * np.cos(az)), rtol=0, atol=1e-9)
    np.testing.assert_allclose(pts["x"], d, atol=1e-9)
    # every channel hits where |azimuth| <= atan(hw / d): count from the wall's angular size
    n_cols = int(np.count_nonzero(np.abs(cfg.azimuths) <= math.atan(hw / d)))
    assert pts.size == 16 * n_cols
    assert n_cols == pytest.approx(2 * math.atan(hw / d) / (2 * math.pi / 3600), abs=1)
    # intensity = reflectivity * cos(incidence)
    refl = cfg.reflectivity_table()[SemanticClass.BUILDING]
    np.testing.assert_allclose(pts["intensity"], refl * np.cos(el) * np.cos(az), rtol=1e-6)


def test_flat_ground_z_is_minus_mount_height():
    sc = Scene()
    cfg = LidarConfig.preset("hdl32", range_noise_m=0.0)
    pts = Lidar(cfg).scan(sc, *level_pose(z=H))
    assert pts.size > 0
    assert np.all(pts["class"] == SemanticClass.GROUND)
    np.testing.assert_allclose(pts["z"], -H, rtol=0, atol=1e-9)
    el = cfg.channel_elevations
    reach = (el < 0) & (H / np.sin(np.abs(el) + 1e-300) <= cfg.range_max_m)
    assert set(np.unique(pts["channel"]).tolist()) == set(np.flatnonzero(reach).tolist())


def test_actor_behind_another_returns_nothing():
    sc = Scene()
    set_boxes(sc, [10.0, 20.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.5], [2.0, 1.0], [2.0, 0.8])
    pts = Lidar(LidarConfig.preset("os1_64", range_noise_m=0.0)).scan(sc, *level_pose(z=1.0))
    assert np.count_nonzero(pts["actor_id"] == 0) > 0
    assert np.count_nonzero(pts["actor_id"] == 1) == 0
    set_boxes(sc, [10.0, 20.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.5], [2.0, 1.0], [2.0, 0.8],
              active=[False, True])  # fmt: skip
    pts = Lidar(LidarConfig.preset("os1_64", range_noise_m=0.0)).scan(sc, *level_pose(z=1.0))
    assert np.count_nonzero(pts["actor_id"] == 1) > 0


def city_scene():
    from types import SimpleNamespace

    from simcore.road.generate import generate_city
    from simcore.sensors.scene import build_scene
    from simcore.state import WorldState

    world = SimpleNamespace(  # the parts of a World that build_scene reads
        network=generate_city(2, 2),
        params={"length": np.zeros(0), "width": np.zeros(0), "center_offset": np.zeros(0)},
        state=WorldState.zeros(0),
    )
    sc = build_scene(world)
    rng = np.random.default_rng(4)
    n = 60
    set_boxes(sc, rng.uniform(-20, 140, n), rng.uniform(-20, 140, n), 0.75, rng.uniform(-3, 3, n), 2.3, 0.9, 0.75,
              vx=rng.uniform(-10, 10, n), vy=rng.uniform(-10, 10, n))  # fmt: skip
    return sc


@pytest.mark.parametrize("distort", [False, True])
def test_column_kernel_matches_per_ray_kernel_and_cast_rays(distort):
    sc = city_scene()
    cfg = LidarConfig.preset("os1_64", range_noise_m=0.0, motion_distortion=distort, points_per_channel=512)
    a, b = Lidar(cfg), Lidar(cfg)
    b.column_mode = False
    pos, rot = level_pose(0.0, 0.0, H, 0.7)
    vel = np.array([8.0, 3.0, 0.0])
    kw = {"velocity": vel, "yaw_rate": 0.3, "skip": 3}
    pa, pb = a.scan(sc, pos, rot, **kw), b.scan(sc, pos, rot, **kw)
    assert pa.size == pb.size > 1000
    for f in ("range", "x", "y", "z"):
        np.testing.assert_allclose(pa[f], pb[f], rtol=0, atol=1e-9)
    for f in ("class", "actor_id", "channel"):
        np.testing.assert_array_equal(pa[f], pb[f])
    # the same rays through the generic cast_rays (explicit origins/directions/times)
    el, az = cfg.channel_elevations, cfg.azimuths
    tau = np.arange(az.size) / (az.size * cfg.rate_hz) if distort else np.zeros(az.size)
    ang = 0.7 + 0.3 * tau
    o = np.column_stack([8.0 * tau, 3.0 * tau, np.full(az.size, H)])
    E, A = np.meshgrid(el, az)  # (ncol, nch)
    ww = ang[:, None] + A
    d = np.stack([np.cos(E) * np.cos(ww), np.cos(E) * np.sin(ww), np.sin(E)], axis=-1).reshape(-1, 3)
    r, _, _, _ = cast_rays(sc, np.repeat(o, el.size, axis=0), d, ray_t=np.repeat(tau, el.size), tmax=cfg.range_max_m,
                           skip=3)  # fmt: skip
    k = pa["channel"].astype(np.int64) + el.size * np.searchsorted(az.astype(np.float32), pa["azimuth"])
    np.testing.assert_allclose(pa["range"], r[k], rtol=0, atol=1e-9)


def test_motion_distortion_moving_target_closed_form():
    """A wide box approaching at speed v: column j (fired at tau_j) sees its face at d - v tau_j."""
    sc = Scene()
    set_ground(sc, 0.0, 0.0, 1.0, np.full((1, 1), -1000.0))
    d, v = 20.0, 15.0
    set_boxes(sc, [d + 1.0], [0.0], [H], [0.0], [1.0], [50.0], [3.0], vx=[-v])
    cfg = LidarConfig(channels=1, vertical_fov=_fov_deg(0.0, 0.0), points_per_channel=360, range_noise_m=0.0,
                      motion_distortion=True, rate_hz=10.0)  # fmt: skip
    pts = Lidar(cfg).scan(sc, *level_pose())
    assert pts.size > 50
    az = cfg.azimuths[np.searchsorted(cfg.azimuths.astype(np.float32), pts["azimuth"])]
    tau = pts["time"].astype(float)
    tau = np.round(tau * 360 * 10) / 3600
    np.testing.assert_allclose(pts["range"], (d - v * tau) / np.cos(az), rtol=0, atol=1e-9)
    still = Lidar(cfg.with_(motion_distortion=False)).scan(sc, *level_pose())
    np.testing.assert_allclose(still["x"], d, atol=1e-9)


def test_range_noise_statistics_and_determinism():
    d, sigma = 10.0, 0.05
    cfg = LidarConfig(channels=32, vertical_fov=_fov_deg(-10.0, 10.0), points_per_channel=2000, range_noise_m=sigma)
    sc = wall_scene(d, 8.0)
    a = Lidar(cfg, seed=7).scan(sc, *level_pose())
    b = Lidar(cfg, seed=7).scan(sc, *level_pose())
    c = Lidar(cfg, seed=8).scan(sc, *level_pose())
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()
    el = cfg.channel_elevations[a["channel"]]
    az = cfg.azimuths[np.searchsorted(cfg.azimuths.astype(np.float32), a["azimuth"])]
    err = a["range"] - d / (np.cos(el) * np.cos(az))
    n = err.size
    assert n > 5000
    assert abs(err.mean()) < 4 * sigma / math.sqrt(n)
    assert abs(err.std() - sigma) < 4 * sigma / math.sqrt(2 * n)


def test_dropout_rate():
    cfg = LidarConfig(channels=32, vertical_fov=_fov_deg(-10.0, 10.0), points_per_channel=2000, dropout=0.3)
    sc = wall_scene(10.0, 8.0)
    full = Lidar(cfg.with_(dropout=0.0)).scan(sc, *level_pose()).size
    kept = Lidar(cfg, seed=1).scan(sc, *level_pose()).size
    p = 0.7
    assert abs(kept / full - p) < 4 * math.sqrt(p * (1 - p) / full)


def test_weather_extinction_and_range():
    assert Weather().extinction() == 0.0
    # fog below 500 m visibility: q = 0, alpha = 3.912 / V at any wavelength (Kim)
    assert Weather(fog_visibility_m=100.0).extinction() == pytest.approx(3.912 / 100.0, rel=1e-12)
    # rain: 1.076 R^0.67 dB/km (Carbonneau)
    assert Weather(rain_mm_h=25.0).extinction() == pytest.approx(1.076 * 25**0.67 / 4.342944819 / 1000, rel=1e-9)
    r = weather_range(100.0, 0.03)
    assert r == pytest.approx(100.0 * math.exp(-0.03 * r), rel=1e-12)
    # fog cuts the returns beyond the weather range and attenuates intensity by exp(-2 alpha r)
    cfg = LidarConfig(channels=8, vertical_fov=_fov_deg(-5.0, 5.0), points_per_channel=720, range_max_m=100.0)
    sc = wall_scene(40.0, 30.0)
    clear = Lidar(cfg).scan(sc, *level_pose())
    fog = Lidar(cfg).scan(sc, *level_pose(), weather=Weather(fog_visibility_m=60.0))
    assert clear.size > 0 and fog.size == 0
    light = Weather(rain_mm_h=10.0)
    rain = Lidar(cfg, seed=3).scan(sc, *level_pose(), weather=light)
    assert 0 < rain.size < clear.size
    alpha = light.extinction()
    el = cfg.channel_elevations[rain["channel"]]
    az = cfg.azimuths[np.searchsorted(cfg.azimuths.astype(np.float32), rain["azimuth"])]
    refl = cfg.reflectivity_table()[SemanticClass.BUILDING]
    expect = refl * np.cos(el) * np.cos(az) * np.exp(-2 * alpha * rain["range"])
    np.testing.assert_allclose(rain["intensity"], expect, rtol=1e-6)


def test_reference_reflectivity_limits_range():
    cfg = LidarConfig(channels=4, vertical_fov=_fov_deg(-1.0, 1.0), points_per_channel=360, range_max_m=100.0,
                      reference_reflectivity=0.1, reflectivity={"BUILDING": 0.05})  # fmt: skip
    # a 5 % target is seen out to 100 m * sqrt(0.05 / 0.1) = 70.7 m at normal incidence
    assert Lidar(cfg).scan(wall_scene(65.0, 1.0), *level_pose()).size > 0
    assert Lidar(cfg).scan(wall_scene(75.0, 1.0), *level_pose()).size == 0


def test_mounted_lidar_on_world():
    from simcore.api import simulation
    from simcore.sensors.scene import build_scene

    w = simulation("scenarios/urban/grid_crosstown.yaml").world
    sc = build_scene(w)
    lid = Lidar(LidarConfig.preset("vlp16", mount=Mount(1.0, 0.0, 1.9)), seed=w.seed)
    pts = lid.scan_world(w, sc, w.ego)
    assert pts.size > 1000
    assert not np.any(pts["actor_id"] == w.ego)
    ground = pts[pts["class"] == SemanticClass.ROAD]
    np.testing.assert_allclose(ground["z"], -1.9, atol=0.2)  # noisy range, flat map


def test_presets_and_config_errors():
    np.testing.assert_allclose(
        np.degrees(LidarConfig.preset("vlp16").channel_elevations), np.arange(-15, 16, 2), atol=1e-12
    )
    e32 = np.degrees(LidarConfig.preset("hdl32").channel_elevations)
    assert e32.size == 32 and e32.min() == pytest.approx(-30.67) and e32.max() == pytest.approx(10.67)
    assert LidarConfig.preset("os1_128").channel_elevations.size == 128
    ss = LidarConfig.preset("solid_state")
    assert ss.kind == "solid_state" and np.degrees(ss.azimuths).max() < 60
    cfg = LidarConfig.from_dict({"preset": "vlp16", "mount": {"x": 1.0, "z": 2.0, "pitch_deg": 2.0}})
    assert cfg.mount.pitch == pytest.approx(math.radians(2.0))
    with pytest.raises(LidarConfigError, match="unknown lidar preset"):
        LidarConfig.preset("vlp17")
    with pytest.raises(LidarConfigError, match="unknown key"):
        LidarConfig.from_dict({"chanels": 16})
    with pytest.raises(LidarConfigError, match="dropout"):
        LidarConfig(dropout=1.5)
    with pytest.raises(LidarConfigError, match="range_min_m"):
        LidarConfig(range_min_m=10.0, range_max_m=5.0)
    with pytest.raises(LidarConfigError, match="unknown class"):
        LidarConfig(reflectivity={"TREE": 0.5})
    with pytest.raises(LidarConfigError, match="fog_visibility_m"):
        Weather(fog_visibility_m=0.0)


def test_column_kernel_on_sloped_ground_matches_per_ray_kernel():
    sc = city_scene()
    gx = np.arange(0, 161) * 2.0 - 100
    X, Y = np.meshgrid(gx, gx)
    z = 0.03 * X - 0.02 * Y + 0.3 * np.sin(X / 9.0)  # sloped, wavy ground
    set_ground(sc, -100.0, -100.0, 2.0, z, np.full(z.shape, SemanticClass.ROAD, dtype=np.int8))
    cfg = LidarConfig.preset("vlp16", range_noise_m=0.0, points_per_channel=720)
    a, b = Lidar(cfg), Lidar(cfg)
    b.column_mode = False
    pos, rot = level_pose(10.0, 5.0, 2.5, -0.4)
    pa, pb = a.scan(sc, pos, rot), b.scan(sc, pos, rot)
    assert pa.size == pb.size > 2000
    np.testing.assert_allclose(pa["range"], pb["range"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(pa["class"], pb["class"])
    assert np.count_nonzero(pa["class"] == SemanticClass.ROAD) > 1000


def test_firing_times():
    """Columns of a spinning unit fire over the part of the turn its FOV covers; a solid-state unit over
    the frame."""
    sc = wall_scene(10.0, 50.0)
    spin = LidarConfig(
        channels=1, vertical_fov=_fov_deg(0.0, 0.0), points_per_channel=100, horizontal_fov=deg_to_rad(90.0)
    )
    pts = Lidar(spin).scan(sc, *level_pose())
    assert pts.size == 100
    np.testing.assert_allclose(pts["time"], np.arange(100) * (0.25 / 100 / 10.0), rtol=1e-6)
    solid = Lidar(spin.with_(kind="solid_state")).scan(sc, *level_pose())
    np.testing.assert_allclose(solid["time"], np.arange(100) * (1.0 / 100 / 10.0), rtol=1e-6)
