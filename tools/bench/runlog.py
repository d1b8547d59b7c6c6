"""Run log (MCAP) cost: file size per simulated minute and write overhead, for 10 / 100 / 1000 actors.

    python tools/bench/runlog.py [--quick] [--json FILE]

Each size runs the same synthetic traffic scenario (tools/bench/_traffic.py) twice, without and
with the log attached; reported: the run's wall time both ways, the writer's own time inside
the run (``RunLogWriter.busy_s``) in % of the plain run, and the log's bytes per simulated
minute. ``--quick``: 10 s simulated per size instead of 60 s (size scales linearly in time).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json
from _traffic import traffic_file

from simcore.api import simulation
from simcore.report.runlog import RUN_MCAP, RunLogWriter


def one(n: int, sim_s: float, out: Path) -> dict:
    path = traffic_file(n, timeout_s=sim_s)
    plain = simulation(path, "autopilot")
    plain.prepare()
    t0 = time.perf_counter()
    res = plain.run()
    wall_plain = time.perf_counter() - t0
    logged = simulation(path, "autopilot")
    logged.prepare()
    writer = RunLogWriter(out / f"{n}" / RUN_MCAP, logged.world).attach(logged)
    t0 = time.perf_counter()
    res = logged.run()
    writer.finish(res)
    wall_log = time.perf_counter() - t0
    size = writer.path.stat().st_size
    minutes = res.sim_time / 60.0
    return {
        "actors": n,
        "sim_s": res.sim_time,
        "steps": res.steps,
        "run_s": wall_plain,
        "run_with_log_s": wall_log,
        "writer_s": writer.busy_s,
        "writer_pct": 100 * writer.busy_s / wall_plain,
        "MB_per_sim_min": size / 1e6 / minutes,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 s simulated per size")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    sim_s = 10.0 if args.quick else 60.0
    with tempfile.TemporaryDirectory(prefix="simcore-bench-log-") as tmp:
        rows = [one(n, sim_s, Path(tmp)) for n in (10, 100, 1000)]
    cols = ["actors", "sim_s", "steps", "run_s", "run_with_log_s", "writer_s", "writer_pct", "MB_per_sim_min"]
    print_table("run log (MCAP, zstd chunks; Foxglove scene at 10 Hz)", rows, cols)
    write_json(args.json, "runlog", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
