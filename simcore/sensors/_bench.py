"""Benchmark helpers for the camera, GNSS/IMU and object list (called by tools/bench/sensors.py).

Each ``bench_*`` returns a dict of median wall times (seconds) and sizes; nothing here is used by
the engine. The scene is a synthetic city block: flat ground with a road cross and lane markings,
a ring of buildings, and ``n_actors`` cars scattered on the roads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from simcore.sensors.camera import R_BODY_FROM_OPTICAL, Camera
from simcore.sensors.imu import Gnss, Imu
from simcore.sensors.mount import Mount
from simcore.sensors.objects import ObjectList
from simcore.sensors.scene import Scene, SemanticClass, set_boxes, set_ground, set_prisms
from simcore.state import WorldState

__all__ = ["bench_camera", "bench_imu", "bench_objects", "numpy_depth", "urban_scene"]


def _median(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up (compilation, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def urban_scene(n_actors: int = 100, seed: int = 0, half: float = 150.0) -> Scene:
    """Synthetic block: ground grid (0.5 m) of ``2 half`` m, roads along both axes, buildings, cars."""
    rng = np.random.default_rng(seed)
    sc = Scene()
    cell = 0.5
    n = int(2 * half / cell) + 1
    g = -half + cell * np.arange(n)
    X, Y = np.meshgrid(g, g)
    cls = np.full((n, n), SemanticClass.SIDEWALK, dtype=np.int8)
    road = (np.abs(X) < 7.0) | (np.abs(Y) < 7.0)
    cls[road] = SemanticClass.ROAD
    cls[road & ((np.abs(np.abs(X) - 3.5) < 0.1) | (np.abs(np.abs(Y) - 3.5) < 0.1))] = SemanticClass.LANE_MARKING
    cls[(np.abs(X) > 12) & (np.abs(Y) > 12)] = SemanticClass.GROUND
    set_ground(sc, -half, -half, cell, np.zeros((n, n)), cls)
    prisms = []
    for bx in np.arange(-half + 20, half - 20, 30.0):
        for by in np.arange(-half + 20, half - 20, 30.0):
            if abs(bx) < 20 or abs(by) < 20:
                continue
            w, d = rng.uniform(10, 22, 2)
            xs = np.array([bx - w / 2, bx + w / 2, bx + w / 2, bx - w / 2])
            ys = np.array([by - d / 2, by - d / 2, by + d / 2, by + d / 2])
            prisms.append((xs, ys, 0.0, float(rng.uniform(8, 40)), int(SemanticClass.BUILDING)))
    set_prisms(sc, prisms)
    along = rng.uniform(-half + 5, half - 5, n_actors)
    lane = rng.choice([-5.25, -1.75, 1.75, 5.25], n_actors)
    on_x = rng.random(n_actors) < 0.5
    x = np.where(on_x, along, lane)
    y = np.where(on_x, lane, along)
    yaw = np.where(on_x, 0.0, math.pi / 2) + np.where(lane > 0, math.pi, 0.0)
    set_boxes(sc, x, y, 0.75, yaw, 2.3, 0.9, 0.75, vx=np.cos(yaw) * 8, vy=np.sin(yaw) * 8)  # type: ignore[arg-type]
    return sc


def numpy_depth(cam: Camera, sc: Scene, pos: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Plain NumPy depth image (flat ground + actor boxes; slab test vectorised over pixels)."""
    k = cam.intrinsics
    jj, ii = np.meshgrid(np.arange(k.width) + 0.5, np.arange(k.height) + 0.5)
    dc = np.stack([(jj - k.cx) / k.fx, (ii - k.cy) / k.fy, np.ones_like(jj)], axis=-1).reshape(-1, 3)
    d = dc[:, 0:1] * rot[:, 0] + dc[:, 1:2] * rot[:, 1] + dc[:, 2:3] * rot[:, 2]
    best = np.full(d.shape[0], np.inf)
    gz = float(sc.ground_z.flat[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d[:, 2] < 0, (gz - pos[2]) / d[:, 2], np.inf)
    best = np.where(t >= cam.near, t, best)
    fwd = rot[:, 2]
    for b in np.flatnonzero(sc.box_active):
        rel = np.array([sc.box_cx[b], sc.box_cy[b], sc.box_cz[b]]) - pos
        rad = math.sqrt(sc.box_hl[b] ** 2 + sc.box_hw[b] ** 2 + sc.box_hh[b] ** 2)
        if rel @ fwd < -rad or np.linalg.norm(rel) > cam.far + rad:  # same culling as the kernel
            continue
        c, s = math.cos(sc.box_yaw[b]), math.sin(sc.box_yaw[b])
        r = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
        o = r @ (pos - np.array([sc.box_cx[b], sc.box_cy[b], sc.box_cz[b]]))
        ld = d[:, 0:1] * r[:, 0] + d[:, 1:2] * r[:, 1] + d[:, 2:3] * r[:, 2]  # no BLAS threads
        h = np.array([sc.box_hl[b], sc.box_hw[b], sc.box_hh[b]])
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (-h - o) / ld
            t2 = (h - o) / ld
        tn = np.minimum(t1, t2).max(axis=1)
        tf = np.maximum(t1, t2).min(axis=1)
        hit = (tn <= tf) & (tn >= cam.near)
        best = np.where(hit & (tn < best), tn, best)
    return best.reshape(k.height, k.width)


def bench_camera(quick: bool = False, n_actors: int = 100) -> dict[str, float]:
    """Median seconds per 640x360 frame: depth+semantic, all outputs (with 2-D boxes), and plain NumPy."""
    sc = urban_scene(n_actors)
    pos = np.array([-60.0, -1.75, 1.5])
    rot = R_BODY_FROM_OPTICAL
    repeat = 5 if quick else 20
    ds = Camera(outputs=("depth", "semantic"), far=150.0)
    full = Camera(far=150.0)
    tiles = Camera(outputs=("depth", "semantic"), far=150.0)
    tiles._flat_fast = False
    return {
        "camera_depth_semantic_s": _median(lambda: ds.render(sc, pos, rot), repeat),
        "camera_all_outputs_s": _median(lambda: full.render(sc, pos, rot), repeat),
        "camera_ground_tiles_s": _median(lambda: tiles.render(sc, pos, rot), repeat),
        "camera_numpy_depth_s": _median(lambda: numpy_depth(ds, sc, pos, rot), 1 if quick else 3),
        "pixels": 640 * 360,
        "actors": n_actors,
        "prisms": sc.n_prisms,
    }


def _world(sc: Scene) -> SimpleNamespace:
    n = sc.box_cx.size
    s = WorldState.zeros(n)
    s.active[:] = True
    s.x[:], s.y[:], s.yaw[:] = sc.box_cx, sc.box_cy, sc.box_yaw
    s.speed[:] = 8.0
    s.steer[0] = 0.02
    return SimpleNamespace(state=s, ego=0, params={"wheelbase": np.full(n, 2.8)}, grade=np.zeros(n))


def bench_imu(quick: bool = False) -> dict[str, float]:
    """Median seconds per IMU sample and per GNSS fix (noisy, datasheet-style parameters)."""
    sc = urban_scene(10)
    w = _world(sc)
    imu = Imu(accel_noise_density=1e-3, gyro_noise_density=1e-4, gyro_bias_random_walk=1e-5)
    gnss = Gnss(sigma_h=0.5, sigma_v=1.0, bias_random_walk=0.02)
    n = 200 if quick else 2000
    tick = iter(range(10**9))
    return {
        "imu_sample_s": _median(lambda: imu.measure(sc, w, next(tick) * 0.01), n),
        "gnss_fix_s": _median(lambda: gnss.measure(sc, w, next(tick) * 0.1), n),
    }


def bench_objects(quick: bool = False, n_actors: int = 100) -> dict[str, float]:
    """Median seconds per object-list frame (360 deg, 100 m, occlusion rays), with and without occlusion."""
    sc = urban_scene(n_actors)
    w = _world(sc)
    occ = ObjectList(mount=Mount(1.5, 0.0, 1.6), max_range=100.0, pos_sigma=0.1, false_positive_rate=0.5)
    plain = ObjectList(mount=Mount(1.5, 0.0, 1.6), max_range=100.0, occlusion=False)
    repeat = 10 if quick else 50
    return {
        "objects_frame_s": _median(lambda: occ.measure(sc, w, 0.0), repeat),
        "objects_no_occlusion_s": _median(lambda: plain.measure(sc, w, 0.0), repeat),
        "actors": n_actors,
    }


if __name__ == "__main__":  # pragma: no cover - manual run
    for fn in (bench_camera, bench_imu, bench_objects):
        print(fn.__name__, {k: round(v, 6) if isinstance(v, float) else v for k, v in fn(quick=True).items()})
