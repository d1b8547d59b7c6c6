"""Sensors: lidar rays per second in a generated city, next to a plain NumPy lidar; radar scans per second;
camera / object list / IMU frames (``simcore.sensors._bench`` if present); a full rig per simulated second.

    python tools/bench/sensors.py [--quick] [--json FILE]

Scene: ``generate_city(3, 3)`` (buildings from ``BuildingLayout``, flat ground with road / sidewalk
classes) with 10, 100 and 1000 car-sized boxes on random driving-lane samples, heading along the lane,
8 m/s. Lidar: the ``os1_64`` preset (64 channels x 1024 columns = 65 536 rays, 120 m, range noise
0.03 m) on a sensor 1.9 m above a street near the city centre. Rows per actor count:

- ``kernel (columns)``: ``Lidar.scan`` (the default: column-wise kernel for a level sensor), including
  the noise draws and the structured output;
- ``kernel (per ray)``: the same scan through the per-ray kernel (grid DDA for the prisms; the path
  for tilted sensors);
- ``kernel (columns, distortion)``: with motion distortion (sensor at 10 m/s, 0.2 rad/s);
- ``numpy``: a plain vectorised NumPy lidar (every ray against every box and prism within range,
  flat ground), first hits only -- no noise or output array; its ranges are checked against the
  kernel's (max abs difference printed).

Single thread: Numba kernels run on the calling thread; NumPy is limited to one BLAS thread. Times
are medians of wall time and of the thread's CPU time (``cpu_ms``: what one core spends, the fair
figure on a shared machine) (``--quick``: fewer repeats and the NumPy lidar only at 10 and 100 actors).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json  # noqa: E402

from simcore._types import LaneType  # noqa: E402
from simcore.road.generate import generate_city  # noqa: E402
from simcore.sensors.lidar import Lidar, LidarConfig  # noqa: E402
from simcore.sensors.radar import Radar, RadarConfig  # noqa: E402
from simcore.sensors.scene import Scene, build_scene, set_boxes  # noqa: E402
from simcore.state import WorldState  # noqa: E402
from simcore.units import deg_to_rad  # noqa: E402

#: Extra rows from other sensor benchmarks: name -> callable(quick) returning a dict of seconds.
EXTRA_BENCHES = ("bench_camera", "bench_objects", "bench_imu")


def median_time(fn, repeat: int) -> tuple[float, float]:
    """(median wall s, median CPU s of this thread) over ``repeat`` calls. The CPU time is what one core
    spends; on a shared machine the wall time also counts waiting for a core."""
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        cpus.append(time.thread_time() - c0)
        walls.append(time.perf_counter() - w0)
    return float(np.median(walls)), float(np.median(cpus))


def city(n_actors: int, seed: int = 0) -> tuple[Scene, np.ndarray, np.ndarray]:
    """City scene with ``n_actors`` boxes on driving lanes; returns (scene, sensor position, rotation)."""
    net = generate_city(3, 3)
    world = SimpleNamespace(
        network=net,
        params={"length": np.zeros(0), "width": np.zeros(0), "center_offset": np.zeros(0)},
        state=WorldState.zeros(0),
    )
    sc = build_scene(world)
    rng = np.random.default_rng(seed)
    drive = np.flatnonzero(net.lane_type == LaneType.DRIVING)
    pts = np.concatenate([np.arange(net.lane_start[i], net.lane_start[i + 1]) for i in drive])
    k = rng.choice(pts, n_actors, replace=n_actors > pts.size)
    yaw = net.pts_heading[k]
    set_boxes(sc, net.pts_x[k], net.pts_y[k], 0.75, yaw, 2.3, 0.95, 0.75, vx=8 * np.cos(yaw), vy=8 * np.sin(yaw))
    # sensor: on a street between the first two junctions, looking east
    pos = np.array([60.0, -5.25, 1.9])
    rot = np.eye(3)
    return sc, pos, rot


def numpy_lidar(sc: Scene, pos: np.ndarray, rot: np.ndarray, cfg: LidarConfig) -> np.ndarray:
    """First-hit ranges (inf: none) of every ray of a sweep, plain NumPy: flat ground, every box (slab
    test) and every prism (walls + caps with an even-odd test) within range, vectorised over rays."""
    el, az = cfg.channel_elevations, cfg.azimuths
    E, A = np.meshgrid(el, az)
    d = np.stack([np.cos(E) * np.cos(A), np.cos(E) * np.sin(A), np.sin(E)], axis=-1).reshape(-1, 3) @ rot.T
    rmax = cfg.range_max_m
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (float(sc.ground_z.flat[0]) - pos[2]) / d[:, 2]
    best = np.where((t > 0) & (t <= rmax), t, np.inf)
    for b in np.flatnonzero(sc.box_active):
        c = np.array([sc.box_cx[b], sc.box_cy[b], sc.box_cz[b]])
        if np.linalg.norm(c[:2] - pos[:2]) > rmax + math.hypot(sc.box_hl[b], sc.box_hw[b]):
            continue
        cy, sy = math.cos(sc.box_yaw[b]), math.sin(sc.box_yaw[b])
        r = np.array([[cy, sy, 0.0], [-sy, cy, 0.0], [0.0, 0.0, 1.0]])
        o = r @ (pos - c)
        ld = d @ r.T
        h = np.array([sc.box_hl[b], sc.box_hw[b], sc.box_hh[b]])
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (-h - o) / ld
            t2 = (h - o) / ld
        tn = np.nanmax(np.minimum(t1, t2), axis=1)
        tf = np.nanmin(np.maximum(t1, t2), axis=1)
        hit = np.where(tn > 0, tn, tf)
        ok = (tn <= tf) & (hit > 0)
        best = np.where(ok & (hit < best), hit, best)
    for p in range(sc.n_prisms):
        xs = sc.poly_x[sc.poly_start[p] : sc.poly_start[p + 1]]
        ys = sc.poly_y[sc.poly_start[p] : sc.poly_start[p + 1]]
        cx, cy = xs.mean(), ys.mean()
        if math.hypot(cx - pos[0], cy - pos[1]) - np.max(np.hypot(xs - cx, ys - cy)) > rmax:
            continue
        z0, z1 = sc.poly_zmin[p], sc.poly_zmax[p]
        for i in range(xs.size):
            ax, ay = xs[i - 1], ys[i - 1]
            ex, ey = xs[i] - ax, ys[i] - ay
            den = d[:, 0] * ey - d[:, 1] * ex
            qx, qy = ax - pos[0], ay - pos[1]
            with np.errstate(divide="ignore", invalid="ignore"):
                tt = (qx * ey - qy * ex) / den
                u = (qx * d[:, 1] - qy * d[:, 0]) / den
            z = pos[2] + tt * d[:, 2]
            ok = (u >= 0) & (u <= 1) & (tt > 0) & (z >= z0) & (z <= z1) & (tt < best)
            best = np.where(ok, tt, best)
        for zc in (z0, z1):
            with np.errstate(divide="ignore", invalid="ignore"):
                tt = (zc - pos[2]) / d[:, 2]
            cand = (tt > 0) & (tt < best)
            if cand.any():
                idx = np.flatnonzero(cand)
                px, py = pos[0] + tt[idx] * d[idx, 0], pos[1] + tt[idx] * d[idx, 1]
                inside = _inside(px, py, xs, ys)
                best[idx[inside]] = tt[idx[inside]]
    return np.where(best <= rmax, best, np.inf)


def _inside(px, py, xs, ys):
    """Even-odd point-in-polygon test, vectorised over points."""
    px, py = np.asarray(px, float), np.asarray(py, float)
    inside = np.zeros(px.shape, dtype=bool)
    j = xs.size - 1
    for i in range(xs.size):
        cross = (ys[i] > py) != (ys[j] > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = xs[i] + (py - ys[i]) * (xs[j] - xs[i]) / (ys[j] - ys[i])
        inside ^= cross & (px < xc)
        j = i
    return inside


def lidar_rows(quick: bool) -> list[dict]:
    rows = []
    cfg = LidarConfig.preset("os1_64")
    repeat = 5 if quick else 20
    vel = np.array([10.0, 0.0, 0.0])
    for n in (10, 100, 1000):
        sc, pos, rot = city(n)
        lid = Lidar(cfg, seed=1)
        per_ray = Lidar(cfg, seed=1)
        per_ray.column_mode = False
        dist = Lidar(cfg.with_(motion_distortion=True), seed=1)
        cases = (
            ("kernel (columns)", partial(lid.scan, sc, pos, rot)),
            ("kernel (per ray)", partial(per_ray.scan, sc, pos, rot)),
            ("kernel (columns, distortion)", partial(dist.scan, sc, pos, rot, velocity=vel, yaw_rate=0.2)),
        )
        nr = lid.n_rays
        for label, fn in cases:
            fn()  # compile / warm
            med, cpu = median_time(fn, repeat)
            rows.append({"sensor": "lidar 64x1024", "actors": n, "impl": label, "median_ms": med * 1e3,
                         "cpu_ms": cpu * 1e3, "Mrays_per_s": nr / med / 1e6,
                         "Mrays_per_cpu_s": nr / cpu / 1e6})  # fmt: skip
        if quick and n > 100:
            continue
        med, cpu = median_time(partial(numpy_lidar, sc, pos, rot, cfg), 1 if quick else 3)
        # agreement: noise-free kernel ranges vs NumPy
        exact = Lidar(cfg.with_(range_noise_m=0.0))
        exact.scan(sc, pos, rot)
        r_k = exact._scratch[0]
        r_k = np.where(r_k <= cfg.range_max_m, r_k, np.inf)
        r_n = numpy_lidar(sc, pos, rot, cfg)
        fin = np.isfinite(r_k) & np.isfinite(r_n)
        agree = bool(np.array_equal(np.isfinite(r_k), np.isfinite(r_n)))
        diff = float(np.max(np.abs(r_k[fin] - r_n[fin]))) if fin.any() else 0.0
        rows.append({"sensor": "lidar 64x1024", "actors": n, "impl": "numpy", "median_ms": med * 1e3,
                     "cpu_ms": cpu * 1e3, "Mrays_per_s": nr / med / 1e6, "Mrays_per_cpu_s": nr / cpu / 1e6,
                     "max_range_diff_m": diff, "same_hits": agree})  # fmt: skip
    return rows


def radar_rows(quick: bool) -> list[dict]:
    rows = []
    repeat = 20 if quick else 200
    for n in (10, 100, 1000):
        sc, pos, rot = city(n)
        radar = Radar(RadarConfig(fov_azimuth=deg_to_rad(90.0), clutter_rate=2.0, track=True), seed=1)
        fn = partial(radar.scan, sc, pos, rot)
        fn()
        med, cpu = median_time(fn, repeat)
        rows.append({"sensor": "radar 90 deg, 5 occlusion rays, tracker", "actors": n, "impl": "python + kernel",
                     "median_ms": med * 1e3, "cpu_ms": cpu * 1e3, "scans_per_s": 1.0 / med})  # fmt: skip
    return rows


def extra_rows(quick: bool) -> list[dict]:
    """Camera / object list / IMU rows from ``simcore.sensors._bench`` when that module exists."""
    try:
        from simcore.sensors import _bench
    except ImportError:
        return []
    rows = []
    for name in EXTRA_BENCHES:
        fn = getattr(_bench, name, None)
        if fn is None:
            continue
        for key, value in fn(quick=quick).items():
            if key.endswith("_s"):
                rows.append({"sensor": name.removeprefix("bench_"), "impl": key, "median_ms": value * 1e3})
    return rows


def rig_rows(quick: bool) -> list[dict]:
    """Wall time of a full sensor rig (``vehicles/sensors/full_rig.yaml``) per simulated second."""
    try:
        from simcore.sensors.rig import SensorRig
    except ImportError:
        return []
    from simcore.api import simulation

    root = Path(__file__).resolve().parents[2]
    sim = simulation(str(root / "scenarios/urban/grid_crosstown.yaml"))
    world = sim.world
    rows = []
    for preset in ("full_rig", "camera_lidar", "perception_basic"):
        try:
            rig = SensorRig.from_preset(preset, seed=world.seed)
        except Exception as exc:  # a preset that does not load is reported, not fatal
            rows.append({"sensor": f"rig {preset}", "impl": f"not loaded: {exc}"})
            continue
        rig.poll(world, 0.0)  # warm (static scene, compilation)
        rig.reset(world.seed)
        rig.poll(world, 0.0)
        dt = world.dt
        steps = round((0.5 if quick else 2.0) / dt)
        t0, c0 = time.perf_counter(), time.thread_time()
        for k in range(1, steps + 1):
            rig.poll(world, k * dt)
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        sim_s = steps * dt
        rows.append({"sensor": f"rig {preset}", "impl": f"{len(rig.sensors)} sensors, dt {dt}",
                     "wall_s_per_sim_s": wall / sim_s, "cpu_s_per_sim_s": cpu / sim_s})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (< 1 min)")
    ap.add_argument("--json", help="write the rows to this JSON file")
    args = ap.parse_args()
    rows = lidar_rows(args.quick)
    print_table("Lidar (os1_64: 64 x 1024 rays, city 3x3 with buildings), one thread", rows,
                ["actors", "impl", "median_ms", "cpu_ms", "Mrays_per_s", "Mrays_per_cpu_s", "max_range_diff_m",
                 "same_hits"])  # fmt: skip
    rrows = radar_rows(args.quick)
    print_table("Radar", rrows, ["actors", "impl", "median_ms", "cpu_ms", "scans_per_s"])
    xrows = extra_rows(args.quick)
    if xrows:
        print_table("Camera / object list / IMU (simcore.sensors._bench)", xrows, ["sensor", "impl", "median_ms"])
    grows = rig_rows(args.quick)
    if grows:
        print_table("Sensor rig on grid_crosstown (wall seconds per simulated second)", grows,
                    ["sensor", "impl", "wall_s_per_sim_s", "cpu_s_per_sim_s"])  # fmt: skip
    write_json(args.json, "sensors", rows + rrows + xrows + grows, {"quick": args.quick})


if __name__ == "__main__":
    main()
