"""Storyboard cost: real-time factor of the NCAP catalog scenarios with and without their storyboard.

    python tools/bench/storyboard.py [--quick] [--json FILE]

Each scenario runs (autopilot ego in-engine, no recording, sensors off) to its own end; then the
same world with its storyboard removed runs for the same simulated time (end conditions: timeout
only). The ratio (without / with) is what the storyboard costs. The storyboard runs inside the
compiled step (``runner.story_kernels``), so the run goes in chunks; ``rtf_python`` is the same
scenario with ``compiled_storyboard=False`` (the per-step Python path: one compiled step at a time,
triggers in Python in between), side by side. Target (issue 11): slowdown within 1.5x. Medians over
repeats after one warm-up run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore._data import catalog_dir
from simcore.api import simulation
from simcore.runner.loop import Simulation
from simcore.scenario.schema import EndSpec


def _timed(sim: Simulation, repeats: int) -> float:
    sim.run()  # warm-up: compile or load the kernels

    def once() -> None:
        sim.reset()
        sim.run()

    return median_time(once, repeats)[0]


def bench(path: Path, label: str, repeats: int) -> dict:
    """Wall time per simulated second of one scenario with and without its storyboard."""
    sim = simulation(path, record_every=0, sensors=None)
    with_s = _timed(sim, repeats)
    py = simulation(path, record_every=0, sensors=None, compiled_storyboard=False)
    python_s = _timed(py, repeats)
    sim_t = sim.t
    world = sim.world
    bare = dataclasses.replace(world, storyboard=())
    plain = Simulation(bare, sim.agent, end=EndSpec(timeout_s=sim_t, ego_reaches_goal=False), record_every=0)
    without_s = _timed(plain, repeats)
    return {
        "scenario": label,
        "entries": len(world.storyboard),
        "sim_s": round(sim_t, 2),
        "compiled": sim.story_compiled,
        "rtf_storyboard": sim_t / with_s,
        "rtf_python": py.t / python_s,
        "rtf_without": plain.t / without_s,
        "slowdown": (plain.t / without_s) / (sim_t / with_s),
        "slowdown_python": (plain.t / without_s) / (py.t / python_s),
        "target": 1.5,
        "repeats": repeats,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats (< 1 minute)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    repeats = 3 if args.quick else 5
    base = catalog_dir("scenarios")
    rows = []
    for p in sorted((base / "ncap").glob("*.yaml")):
        print(f"{p.stem} ...", flush=True)
        rows.append(bench(p, p.relative_to(base).with_suffix("").as_posix(), repeats))
    cols = ["scenario", "entries", "compiled", "sim_s", "rtf_storyboard", "rtf_python", "rtf_without", "slowdown",
            "slowdown_python", "target", "repeats"]  # fmt: skip
    print_table("NCAP scenarios: storyboard cost (medians; rtf = simulated s per wall s)", rows, cols)
    write_json(args.json, "storyboard", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
