"""Run log (MCAP) cost: size per simulated minute, write overhead, rescore time, viewer build and load time.

    python tools/bench/runlog.py [--quick] [--json FILE] [--parts traffic,catalog,sensors] [--old-ref REF]
                                 [--catalog NAME,...] [--repeats N]

Three parts, each run without and with the log attached in the same process:

- synthetic traffic (tools/bench/_traffic.py) with 10 / 100 / 1000 vehicles;
- catalog scenarios (the short ones, where the log's share is largest, and the largest one);
- a sensor rig (camera 640x360 at 10 Hz, radar 20 Hz, object list 10 Hz, 16-channel lidar 10 Hz, IMU
  100 Hz, GNSS 10 Hz) on an
  intersection with traffic, the autopilot acting through the protocol so the sensors are polled: logged
  without and with camera images (``RunLogWriter(images=True)``).

Reported per case (medians of ``repeats``): the plain run's CPU time (``run_ms``) and the run.mcap CPU
time (``mcap_ms``: opening the log with its header, schemas and map scene, ``open_ms``; the writer inside
the run, its ``on_advance`` calls, ``busy_ms``; ``finish`` with the final snapshot and result,
``finish_ms``) and ``mcap_pct`` = mcap_ms over run_ms; the wall time of the run without and with the log;
the log's MB per simulated minute; side by side, in the same process (one run of each in turn), the same
for the run log writer of commit ``--old-ref`` (loaded from git; e.g. ``bbb5b94``: the JSON scene, one
message at a time): ``old_*`` columns;
``simcore rescore`` time (read the log, rebuild the world,
recompute) and the viewer: HTML build time from the log and, where headless Chromium and Selenium are
installed, the time until the page's viewer is ready. ``--quick``: 10 s simulated per traffic size (one
repeat), four short catalog scenarios (three repeats).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json
from _traffic import traffic_file

from simcore.api import simulation
from simcore.replay import rescore
from simcore.report.runlog import RUN_MCAP, RunLogWriter
from simcore.report.viewer import write_view

REPO = Path(__file__).resolve().parents[2]
#: The commit compared against by default: main before wave 5's own MCAP writer (report.mcapio).
OLD_REF = "0fa7f71"
CATALOG_QUICK = ("urban/t_junction_left_turn", "urban/cut_in", "ncap/ccrs", "ncap/cpfa")
CATALOG_FULL = (*CATALOG_QUICK, "urban/signalized_intersection", "urban/roundabout", "urban/dense_city_grid")


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


def old_writer(ref: str) -> type | None:
    """``RunLogWriter`` of commit ``ref`` (its runlog.py with that commit's cdr.py, foxglove_cdr.py and
    foxglove.py where it had them), loaded from git; None without git or that commit."""
    import simcore.report

    src = {}
    for name in ("cdr", "foxglove_cdr", "foxglove", "runlog"):
        try:
            src[name] = subprocess.run(["git", "-C", str(REPO), "show", f"{ref}:simcore/report/{name}.py"],
                                       capture_output=True, text=True, check=True).stdout  # fmt: skip
        except (OSError, subprocess.CalledProcessError):
            if name == "runlog":
                return None
    mods = {}
    saved = {name: sys.modules.get(f"simcore.report.{name}") for name in src}
    try:
        for name in src:  # later modules' ``from simcore.report import NAME`` get the old ones
            mod = types.ModuleType(f"old_{name}")
            sys.modules[mod.__name__] = mod
            exec(compile(src[name], f"<{ref}:{name}.py>", "exec"), mod.__dict__)  # our own code at an older commit
            mods[name] = mod
            sys.modules[f"simcore.report.{name}"] = mod
            setattr(simcore.report, name, mod)
    finally:
        for name, mod in saved.items():
            if mod is not None:
                sys.modules[f"simcore.report.{name}"] = mod
                setattr(simcore.report, name, mod)
    return mods["runlog"].RunLogWriter


def _cpu_timed(fn: Callable[[Any], None], acc: list[float]) -> Callable[[Any], None]:
    """``fn`` that adds its CPU time (s) to ``acc[0]`` on each call."""

    def timed(sim: Any) -> None:
        c0 = time.process_time()
        fn(sim)
        acc[0] += time.process_time() - c0

    return timed


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
    - {{name: imu, type: imu, rate_hz: 100, mount: {{x: 0.5, z: 0.3}}, accel_noise_density_ug_sqrt_hz: 150}}
    - {{name: gnss, type: gnss, rate_hz: 10, mount: {{x: 1.0, z: 1.5}}, sigma_h_m: 0.5, sigma_v_m: 1.0}}
traffic: {{vehicles: 12, route_length_m: [60, 220]}}
end: {{timeout_s: {t_end}}}
"""


def mcap_cost(scenario: str | Path, out: Path, repeats: int, in_engine: bool = True, images: bool = False,
              writer_cls: Any = RunLogWriter) -> dict:  # fmt: skip
    """CPU ms (medians) of the plain run and of run.mcap (open, busy inside the run, finish), wall s both ways."""
    plain_s, log_s, run_cpu, open_cpu, busy_cpu, finish_cpu = [], [], [], [], [], []
    cpu = time.process_time
    for _ in range(repeats):
        plain = simulation(scenario, "autopilot", in_engine=in_engine)
        plain.prepare()
        t0, c0 = time.perf_counter(), cpu()
        plain.run()
        plain_s.append(time.perf_counter() - t0)
        run_cpu.append(cpu() - c0)
        logged = simulation(scenario, "autopilot", in_engine=in_engine)
        logged.prepare()
        t0, c0 = time.perf_counter(), cpu()
        writer = writer_cls(out / RUN_MCAP, logged.world, images=images)
        open_cpu.append(cpu() - c0)  # header, schemas, map scene
        busy = [0.0]
        writer.on_advance = _cpu_timed(writer.on_advance, busy)  # type: ignore[method-assign]  # attach hooks this
        writer.attach(logged)
        res = logged.run()
        c1 = cpu()
        writer.finish(res)
        finish_cpu.append(cpu() - c1)
        log_s.append(time.perf_counter() - t0)
        busy_cpu.append(busy[0])
    med = {f"{k}_ms": 1e3 * statistics.median(v) for k, v in
           (("run", run_cpu), ("open", open_cpu), ("busy", busy_cpu), ("finish", finish_cpu))}  # fmt: skip
    mcap_ms = med["open_ms"] + med["busy_ms"] + med["finish_ms"]
    return {
        **med,
        "mcap_ms": mcap_ms,
        "mcap_pct": 100 * mcap_ms / med["run_ms"],
        "run_s": statistics.median(plain_s),
        "run_with_log_s": statistics.median(log_s),
        "res": res,
        "MB_per_sim_min": (out / RUN_MCAP).stat().st_size / 1e6 / (res.sim_time / 60.0),
    }


def one(
    label: str, scenario: str | Path, out: Path, repeats: int, browser: bool, in_engine: bool = True,
    images: bool = False, old: Any = None,
) -> dict:  # fmt: skip
    if old is None:
        row = mcap_cost(scenario, out, repeats, in_engine, images)
    else:  # new and old writer alternately, one run each, so that a change of machine load hits both alike
        news, olds = [], []
        for _ in range(repeats):
            news.append(mcap_cost(scenario, out, 1, in_engine, images))
            olds.append(mcap_cost(scenario, out.with_name(out.name + "_old"), 1, in_engine, images, old))
        row = {k: statistics.median(r[k] for r in news) if isinstance(v, float) else v for k, v in news[-1].items()}
        row |= {f"old_{k}": statistics.median(r[k] for r in olds) for k in ("mcap_ms", "mcap_pct", "MB_per_sim_min")}
    res = row.pop("res")
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
        **row,
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
    ap.add_argument("--old-ref", default=OLD_REF, help="git commit of the run log writer compared against")
    ap.add_argument("--no-old", action="store_true", help="skip the side-by-side run of the old writer")
    ap.add_argument("--catalog", metavar="NAMES", help="comma-separated catalog scenarios (default: the part's own)")
    ap.add_argument("--repeats", type=int, help="repeats per case (default: 1 with --quick, else 3; catalog >= 3)")
    args = ap.parse_args()
    old = None if args.no_old else old_writer(args.old_ref)
    parts = set(args.parts.split(","))
    sim_s = 10.0 if args.quick else 60.0
    repeats = args.repeats or (1 if args.quick else 3)
    rows = []
    with tempfile.TemporaryDirectory(prefix="simcore-bench-log-") as tmp:
        for n in (10, 100, 1000) if "traffic" in parts else ():
            print(f"traffic {n} ...", file=sys.stderr)
            rows.append(one(f"traffic {n}", traffic_file(n, timeout_s=sim_s), Path(tmp) / f"t{n}", repeats, False,
                            old=old))  # fmt: skip
        catalog = args.catalog.split(",") if args.catalog else CATALOG_QUICK if args.quick else CATALOG_FULL
        for name in catalog if "catalog" in parts else ():
            print(f"{name} ...", file=sys.stderr)
            rows.append(one(name, name, Path(tmp) / name.replace("/", "_"), args.repeats or max(repeats, 3), True,
                            old=old))  # fmt: skip
        rig = Path(tmp) / "sensor_rig.yaml"
        rig.write_text(SENSOR_SCENARIO.format(t_end=sim_s))
        for images in (False, True) if "sensors" in parts else ():
            label = "sensor rig" + (" + images" if images else "")
            print(f"{label} ...", file=sys.stderr)
            rows.append(one(label, rig, Path(tmp) / f"rig{int(images)}", repeats, False, False, images))
    cols = ["case", "actors", "sim_s", "run_ms", "mcap_ms", "mcap_pct", "open_ms", "busy_ms", "finish_ms",
            "old_mcap_ms", "old_mcap_pct", "run_s", "run_with_log_s", "MB_per_sim_min", "old_MB_per_sim_min",
            "rescore_s", "viewer_build_s", "viewer_MB", "viewer_load_s"]  # fmt: skip
    print_table("run log (MCAP, zstd-1 chunks; Foxglove scene at 5 Hz, CDR; snapshots every 10 s; CPU ms)", rows, cols)
    write_json(args.json, "runlog", rows, {"old_ref": args.old_ref if old is not None else None})
    return 0


if __name__ == "__main__":
    sys.exit(main())
