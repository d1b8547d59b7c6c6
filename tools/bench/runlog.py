"""Run log (MCAP) cost: size per simulated minute, write overhead, rescore time, viewer build and load time.

    python tools/bench/runlog.py [--quick] [--json FILE]

Two parts, each run without and with the log attached in the same process:

- synthetic traffic (tools/bench/_traffic.py) with 10 / 100 / 1000 vehicles;
- catalog scenarios (the small ones, where the log's share is largest, and the largest one).

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


def one(label: str, scenario: str | Path, out: Path, repeats: int, browser: bool) -> dict:
    plain_s, log_s, busy_s, finish_s = [], [], [], []
    for _ in range(repeats):
        plain = simulation(scenario, "autopilot")
        plain.prepare()
        t0 = time.perf_counter()
        plain.run()
        plain_s.append(time.perf_counter() - t0)
        logged = simulation(scenario, "autopilot")
        logged.prepare()
        t0 = time.perf_counter()
        writer = RunLogWriter(out / RUN_MCAP, logged.world).attach(logged)
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
    args = ap.parse_args()
    sim_s = 10.0 if args.quick else 60.0
    repeats = 1 if args.quick else 3
    rows = []
    with tempfile.TemporaryDirectory(prefix="simcore-bench-log-") as tmp:
        for n in (10, 100, 1000):
            print(f"traffic {n} ...", file=sys.stderr)
            rows.append(one(f"traffic {n}", traffic_file(n, timeout_s=sim_s), Path(tmp) / f"t{n}", repeats, False))
        for name in CATALOG_QUICK if args.quick else CATALOG_FULL:
            print(f"{name} ...", file=sys.stderr)
            rows.append(one(name, name, Path(tmp) / name.replace("/", "_"), repeats, True))
    cols = ["case", "actors", "sim_s", "run_s", "run_with_log_s", "writer_pct", "finish_pct", "MB_per_sim_min",
            "rescore_s", "viewer_build_s", "viewer_MB", "viewer_load_s"]  # fmt: skip
    print_table("run log (MCAP, zstd chunks; Foxglove scene at 5 Hz; snapshots every 10 s)", rows, cols)
    write_json(args.json, "runlog", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
