"""Storyboard cost: real-time factor of the NCAP catalog scenarios with and without their storyboard.

    python tools/bench/storyboard.py [--quick] [--json FILE]

Each scenario runs (autopilot ego in-engine, no recording, sensors off) to its own end, three ways
side by side, then twice more without evaluating its storyboard's triggers:

* ``rtf_storyboard``: the storyboard inside the compiled step (``runner.story_kernels``; chunks);
* ``rtf_python``: the same with ``compiled_storyboard=False`` (one compiled step at a time, triggers
  in Python in between);
* ``rtf_replay`` -- the baseline of ``slowdown``: the same world with every entry's trigger replaced
  by the time at which it fired in the storyboard run (``time_s``; never: an entry that did not
  fire). The actions (teleports, scripted stops, removals, walkers started) happen at the same
  steps, so the actors move exactly as with the storyboard (``same_motion`` checks the final state
  bit for bit), and what differs is what the storyboard costs: its triggers' evaluation and the
  compiled call ending at each entry that fires (``story_us_per_step``: that difference per step, us);
* ``rtf_without``: the world with its storyboard removed, run for the same simulated time (the
  issue's literal wording). It is a different workload: without its storyboard the CCRs target is
  never stopped (it drives off), the CPFA/CPNA walker never walks, no target is removed. Its ratio
  ``slowdown_removed`` is shown for completeness, not as the measure of the storyboard's cost.

Times are process CPU time (the machine is shared; wall time swings with the load), medians over
repeats after one warm-up run. Target (issue 11): slowdown within 1.5x.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore._data import catalog_dir
from simcore.api import simulation
from simcore.runner.loop import Simulation
from simcore.scenario import storyboard as sb
from simcore.scenario.schema import EndSpec


def _timed(sim: Simulation, repeats: int) -> float:
    sim.run()  # warm-up: compile or load the kernels

    def once() -> None:
        sim.reset()
        sim.run()

    return median_time(once, repeats, clock=time.process_time)[0]


def replayed(sim: Simulation) -> tuple[sb.Story, ...]:
    """``sim``'s storyboard (after a compiled run) with each trigger replaced by the time it fired at."""
    fired = sim.state.story_fired[0]
    return tuple(
        dataclasses.replace(s, trigger=sb.TimeAt(float(f) if not math.isnan(f) else math.inf, f"time {f:g} s"))
        for s, f in zip(sim.world.storyboard, fired, strict=True)
    )


def _final(sim: Simulation) -> list[np.ndarray]:
    return [sim.state.x.copy(), sim.state.y.copy(), sim.state.speed.copy(), sim.state.active.copy()]


def bench(path: Path, label: str, repeats: int) -> dict:
    """CPU time per simulated second of one scenario with its storyboard, replayed, and removed."""
    sim = simulation(path, record_every=0, sensors=None)
    with_s = _timed(sim, repeats)
    sim_t = sim.t
    final = _final(sim)
    py = simulation(path, record_every=0, sensors=None, compiled_storyboard=False)
    python_s = _timed(py, repeats)
    world = sim.world
    story = replayed(sim)
    rep = Simulation(dataclasses.replace(world, storyboard=story), sim.agent, end=sim.end, record_every=0)
    replay_s = _timed(rep, repeats)
    same = rep.t == sim_t and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(final, _final(rep), strict=True))
    bare = dataclasses.replace(world, storyboard=())
    plain = Simulation(bare, sim.agent, end=EndSpec(timeout_s=sim_t, ego_reaches_goal=False), record_every=0)
    without_s = _timed(plain, repeats)
    rtf = sim_t / with_s
    return {
        "scenario": label,
        "entries": len(world.storyboard),
        "sim_s": round(sim_t, 2),
        "compiled": sim.story_compiled,
        "rtf_storyboard": rtf,
        "rtf_python": py.t / python_s,
        "rtf_replay": rep.t / replay_s,
        "same_motion": same,
        "slowdown": (rep.t / replay_s) / rtf,
        "story_us_per_step": (with_s - replay_s) / round(sim_t / world.dt) * 1e6,
        "slowdown_python": (rep.t / replay_s) / (py.t / python_s),
        "rtf_without": plain.t / without_s,
        "slowdown_removed": (plain.t / without_s) / rtf,
        "target": 1.5,
        "repeats": repeats,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats (< 1 minute once compiled)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    repeats = 15 if args.quick else 51  # a run takes ~10 ms: many repeats for a stable median
    base = catalog_dir("scenarios")
    rows = []
    for p in sorted((base / "ncap").glob("*.yaml")):
        print(f"{p.stem} ...", flush=True)
        rows.append(bench(p, p.relative_to(base).with_suffix("").as_posix(), repeats))
    cols = ["scenario", "entries", "compiled", "sim_s", "rtf_storyboard", "rtf_python", "rtf_replay", "same_motion",
            "slowdown", "story_us_per_step", "slowdown_python", "rtf_without", "slowdown_removed",
            "target"]  # fmt: skip
    print_table("NCAP scenarios: storyboard cost (CPU-time medians; rtf = simulated s per CPU s)", rows, cols)
    write_json(args.json, "storyboard", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
