"""Scenario throughput: simcore at 10 / 100 / 1000 vehicles vs highway-env, and CLI start-up.

    python tools/bench/scenario.py [--quick] [--json FILE]

Rows: simulated seconds per wall second (real-time factor), steps/s and vehicle-steps/s,
medians over repeats, for (a) the built-in autopilot run in-engine (compiled chunks),
(b) the same agent through the Python Agent protocol (observe/act each step),
(c) highway-env's highway-v0 (50 vehicles, 15 Hz physics) as the peer, if installed.
Then cold (empty Numba cache) and warm start of ``simcore run`` on the built-in scenario.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json
from _traffic import traffic_file

from simcore.api import simulation
from simcore.runner.loop import Simulation


def bench_simcore(n: int, sim_s: float, repeats: int, in_engine: bool) -> dict:
    sim = simulation(traffic_file(n, timeout_s=sim_s), record_every=0)
    if not in_engine:
        sim = Simulation(sim.world, sim.agent, end=sim.end, record_every=0, in_engine=False)
    sim.run()  # warm-up (compile or cache load)

    def once() -> None:
        sim.reset()
        sim.run()

    med, _ = median_time(once, repeats)
    steps = sim.step_index
    return {
        "system": "simcore" + ("" if in_engine else " (agent via protocol)"),
        "vehicles": n,
        "sim_s": sim.t,
        "wall_s": med,
        "rtf": sim.t / med,
        "steps_per_s": steps / med,
        "vehicle_steps_per_s": steps * n / med,
        "repeats": repeats,
    }


def bench_highway_env(sim_s: float, repeats: int) -> dict | None:
    try:
        import gymnasium as gym
        import highway_env  # noqa: F401
    except ImportError:
        return None
    env = gym.make("highway-v0")
    env.unwrapped.config["duration"] = 10_000
    env.reset(seed=0)
    freq = env.unwrapped.config["simulation_frequency"]
    policy = env.unwrapped.config["policy_frequency"]
    n_veh = len(env.unwrapped.road.vehicles)
    n_steps = max(1, int(sim_s * policy))

    def once() -> None:
        env.reset(seed=0)
        for _ in range(n_steps):
            env.step(1)  # IDLE

    med, _ = median_time(once, repeats)
    sim_time = n_steps / policy
    physics_steps = n_steps * freq / policy
    return {
        "system": "highway-env highway-v0",
        "vehicles": n_veh,
        "sim_s": sim_time,
        "wall_s": med,
        "rtf": sim_time / med,
        "steps_per_s": physics_steps / med,
        "vehicle_steps_per_s": physics_steps * n_veh / med,
        "repeats": repeats,
    }


def bench_cli(cold: bool, repeats: int) -> list[dict]:
    exe = Path(sys.executable).with_name("simcore")
    cmd = [str(exe), "run", "urban/signalized_intersection", "--quiet"]
    rows = []
    cache = tempfile.mkdtemp(prefix="simcore-numba-cache-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    if cold:
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        rows.append({"start": "cold (empty Numba cache)", "wall_s": time.perf_counter() - t0, "repeats": 1})
    else:
        subprocess.run(cmd, env=env, check=True)  # fill the cache
    med, _ = median_time(lambda: subprocess.run(cmd, env=env, check=True), repeats)
    rows.append({"start": "warm (cache filled)", "wall_s": med, "repeats": repeats})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repeats (< 1 minute)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    sizes = (10, 100) if args.quick else (10, 100, 1000)
    repeats = 3 if args.quick else 5
    sim_s = 20.0 if args.quick else 60.0
    rows = []
    for n in sizes:
        rows.append(bench_simcore(n, sim_s, repeats if n < 1000 else 3, in_engine=True))
        if n <= 100:
            rows.append(bench_simcore(n, sim_s, repeats, in_engine=False))
    peer = bench_highway_env(10.0 if args.quick else 30.0, repeats)
    if peer:
        rows.append(peer)
    else:
        print("highway-env not installed (pip install highway-env): peer row skipped")
    cols = ["system", "vehicles", "sim_s", "wall_s", "rtf", "steps_per_s", "vehicle_steps_per_s", "repeats"]
    print_table("Scenario throughput (medians; rtf = simulated s per wall s)", rows, cols)
    cli = bench_cli(cold=not args.quick, repeats=3)
    print_table("simcore run urban/signalized_intersection (whole process)", cli, ["start", "wall_s", "repeats"])
    write_json(args.json, "scenario", rows, {"cli": cli})
    return 0


if __name__ == "__main__":
    sys.exit(main())
