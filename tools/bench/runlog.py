"""Run log (MCAP) cost: size per simulated minute, write overhead, rescore time, viewer build and load time.

    python tools/bench/runlog.py [--quick] [--json FILE]

Two parts, each run without and with the log attached in the same process:

- synthetic traffic (tools/bench/_traffic.py) with 10 / 100 / 1000 vehicles;
- catalog scenarios (the small ones, where the log's share is largest, and the largest one);
- a sensor rig (camera 640x360 at 10 Hz, radar 20 Hz, object list 10 Hz, 16-channel lidar 10 Hz) on an
  intersection with traffic, the autopilot acting through the protocol so the sensors are polled: logged
  without and with camera images (``RunLogWriter(images=True)``).

Reported per case: the run's wall time both ways (median of ``repeats``), the writer's own time
inside the run (``RunLogWriter.busy_s``) and ``finish`` (final snapshot, result) in % of the plain
run, the log's MB per simulated minute, ``simcore rescore`` time (read the log, rebuild the world,
recompute) and the viewer: HTML build time from the log and, where headless Chromium and Selenium are
installed, the time until the page's viewer is ready. ``--quick``: 10 s simulated per traffic size,
two catalog scenarios, one repeat.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json
from _traffic import traffic_file

from simcore.api import simulation
from simcore.replay import rescore
from simcore.report.runlog import RUN_MCAP, RunLogWriter
from simcore.report.viewer import write_view

CATALOG_QUICK = ("urban/signalized_intersection", "urban/cut_in")
CATALOG_FULL = (*CATALOG_QUICK, "ncap/ccrs", "urban/roundabout", "urban/dense_city_grid")


def _browser_load_s(html: Path) -> float | None:
    """Seconds until ``window.simcoreViewer`` exists in headless Chromium; None without Chromium/Selenium."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    binary, driver = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver")
    if driver is None or not Path(binary).exists():
        return None
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="simcore-bench-chromium-") as profile:
        opts.add_argument(f"--user-data-dir={profile}")
        drv = webdriver.Chrome(service=Service(driver), options=opts)
        try:
            t0 = time.perf_counter()
            drv.get(html.resolve().as_uri())
            while not drv.execute_script("return !!window.simcoreViewer"):
                time.sleep(0.01)
            return time.perf_counter() - t0
        finally:
            drv.quit()


SENSOR_SCENARIO = """simcore: 1
name: sensor-rig-log
seed: 5
dt: 0.05
map: {{generate: intersection, lanes_per_direction: 2, arm_length: 120}}
ego:
  vehicle: sedan
  start: {{lane: south_in_1, s: 10, speed_kph: 30}}
  route: {{to: north_out_1}}
  sensors:
    - {{name: cam, type: camera, rate_hz: 10, mount: {{x: 1.9, z: 1.45}}, width: 640, height: 360, hfov_deg: 90}}
    - {{name: radar, type: radar, rate_hz: 20, mount: {{x: 3.7, z: 0.5}}, fov_azimuth_deg: 90, clutter_rate: 1.0}}
    - {{name: objects, type: objects, rate_hz: 10, mount: {{x: 1.5, z: 1.6}}, max_range_m: 100}}
    - {{name: top, type: lidar, rate_hz: 10, mount: {{x: 1.2, z: 1.9}}, channels: 16, points_per_channel: 512}}
traffic: {{vehicles: 12, route_length_m: [60, 220]}}
end: {{timeout_s: {t_end}}}
"""


def one(
    label: str, scenario: str | Path, out: Path, repeats: int, browser: bool, in_engine: bool = True,
    images: bool = False,
) -> dict:  # fmt: skip
    plain_s, log_s, busy_s, finish_s = [], [], [], []
    for _ in range(repeats):
        plain = simulation(scenario, "autopilot", in_engine=in_engine)
        plain.prepare()
        t0 = time.perf_counter()
        plain.run()
        plain_s.append(time.perf_counter() - t0)
        logged = simulation(scenario, "autopilot", in_engine=in_engine)
        logged.prepare()
        t0 = time.perf_counter()
        writer = RunLogWriter(out / RUN_MCAP, logged.world, images=images).attach(logged)
        res = logged.run()
        t1 = time.perf_counter()
        writer.finish(res)
        log_s.append(time.perf_counter() - t0)
        finish_s.append(time.perf_counter() - t1)
        busy_s.append(writer.busy_s)
    run_s = statistics.median(plain_s)
    t0 = time.perf_counter()
    rescore(out)
    rescore_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = write_view(out, out / "view.html")
    view_s = time.perf_counter() - t0
    load_s = _browser_load_s(html) if browser else None
    return {
        "case": label,
        "actors": int(res.metrics.get("actors", 0)),
        "sim_s": res.sim_time,
        "run_s": run_s,
        "run_with_log_s": statistics.median(log_s),
        "writer_pct": 100 * statistics.median(busy_s) / run_s,
        "finish_pct": 100 * statistics.median(finish_s) / run_s,
        "MB_per_sim_min": (out / RUN_MCAP).stat().st_size / 1e6 / (res.sim_time / 60.0),
        "rescore_s": rescore_s,
        "viewer_build_s": view_s,
        "viewer_MB": html.stat().st_size / 1e6,
        "viewer_load_s": load_s if load_s is not None else "n/a",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 s simulated per size, two catalog scenarios, 1 repeat")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--parts", default="traffic,catalog,sensors", help="comma-separated subset of the three parts")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    sim_s = 10.0 if args.quick else 60.0
    repeats = 1 if args.quick else 3
    rows = []
    with tempfile.TemporaryDirectory(prefix="simcore-bench-log-") as tmp:
        for n in (10, 100, 1000) if "traffic" in parts else ():
            print(f"traffic {n} ...", file=sys.stderr)
            rows.append(one(f"traffic {n}", traffic_file(n, timeout_s=sim_s), Path(tmp) / f"t{n}", repeats, False))
        for name in (CATALOG_QUICK if args.quick else CATALOG_FULL) if "catalog" in parts else ():
            print(f"{name} ...", file=sys.stderr)
            rows.append(one(name, name, Path(tmp) / name.replace("/", "_"), repeats, True))
        rig = Path(tmp) / "sensor_rig.yaml"
        rig.write_text(SENSOR_SCENARIO.format(t_end=sim_s))
        for images in (False, True) if "sensors" in parts else ():
            label = "sensor rig" + (" + images" if images else "")
            print(f"{label} ...", file=sys.stderr)
            rows.append(one(label, rig, Path(tmp) / f"rig{int(images)}", repeats, False, False, images))
    cols = ["case", "actors", "sim_s", "run_s", "run_with_log_s", "writer_pct", "finish_pct", "MB_per_sim_min",
            "rescore_s", "viewer_build_s", "viewer_MB", "viewer_load_s"]  # fmt: skip
    print_table("run log (MCAP, zstd chunks; Foxglove scene at 5 Hz; snapshots every 10 s)", rows, cols)
    write_json(args.json, "runlog", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
