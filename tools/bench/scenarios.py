"""Real-time factor of every catalog scenario and of city-grid traffic at 100 / 1000 vehicles.

    python tools/bench/scenarios.py [--quick] [--json FILE]

Autopilot ego run in-engine, no sensors, no trajectory recording; medians over repeats after
one warm-up run (compilation excluded). Catalog rows run each scenario to its own end
(goal or timeout). Traffic rows: a generated junction grid with N vehicles (ego included)
and optionally pedestrians crossing at the crosswalks, 60 s simulated (20 s with --quick).
Targets (issue 5): >= 1000x at 100 vehicles, >= 100x at 1000 vehicles plus 200 pedestrians.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json
from _traffic import traffic_file

from simcore._data import catalog_dir
from simcore.api import simulation


def bench(path: Path, label: str, repeats: int, pedestrians: int = 0) -> dict:
    """Median real-time factor of one scenario file."""
    sim = simulation(path, record_every=0)
    sim.run()  # warm-up: compile or load the kernels

    def once() -> None:
        sim.reset()
        sim.run()

    med, _ = median_time(once, repeats)
    st = sim.world.state
    return {
        "scenario": label,
        "vehicles": int((st.kind == 0).sum()),
        "pedestrians": int((st.kind == 1).sum()),
        "sim_s": round(sim.t, 2),
        "wall_s": med,
        "rtf": sim.t / med,
        "termination": sim.termination,
        "repeats": repeats,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, shorter traffic runs (< 1 minute)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    repeats = 3 if args.quick else 5
    sim_s = 20.0 if args.quick else 60.0
    base = catalog_dir("scenarios")
    rows = [bench(p, p.relative_to(base).with_suffix("").as_posix(), repeats) for p in sorted(base.rglob("*.yaml"))]
    print_table(
        "Catalog scenarios (medians; rtf = simulated s per wall s)",
        rows,
        ["scenario", "vehicles", "pedestrians", "sim_s", "wall_s", "rtf", "termination", "repeats"],
    )
    traffic = [
        bench(traffic_file(100, timeout_s=sim_s), "grid traffic, 100 vehicles", repeats),
        bench(traffic_file(1000, timeout_s=sim_s, pedestrians=200), "grid traffic, 1000 veh + 200 peds", 3),
    ]
    traffic[0]["target_rtf"] = 1000
    traffic[1]["target_rtf"] = 100
    print_table(
        "City-grid traffic (targets from issue 5)",
        traffic,
        ["scenario", "vehicles", "pedestrians", "sim_s", "wall_s", "rtf", "target_rtf", "repeats"],
    )
    write_json(args.json, "scenarios", rows, {"traffic": traffic})
    return 0


if __name__ == "__main__":
    sys.exit(main())
