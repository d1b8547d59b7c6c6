"""City traffic: simcore vs Eclipse SUMO on the same signalised junction grid, in one run.

    python tools/bench/traffic.py [--quick] [--json FILE] [--sizes 100,1000] [--no-sumo] [--cpu] [--geometric]

Workload (both systems): a k x k grid of signalised junctions, 130 m blocks, 110 m arms at the
border, two lanes each way at 50 km/h; N vehicles with random routes (start on a random lane,
leave at a random border exit), inserted at t = 0 at 30 km/h, IDM car following, dt 0.05 s,
60 s simulated (10 s with --quick), one core. k = ``_traffic.grid_size(N)``.

- simcore: ``_traffic.traffic_yaml`` (the ego is one of the N vehicles, driven in-engine by the
  built-in autopilot), drivers with the default neighbour search (lane-indexed leaders; with
  ``--geometric`` also the geometric search alone, side by side), no recording,
  medians over repeats after one warm-up run. Above SINGLE_BUILD_ABOVE vehicles the warm-up's
  world (with its trajectory recording) is reused for the timed run instead of a second build.
- SUMO (pip ``eclipse-sumo``/``libsumo``/``sumolib``, the ``bench`` extra): the equivalent grid
  from ``netgenerate --grid`` (traffic lights at every junction), N trips from random inner
  edges at random free positions to random border exits, routed by SUMO, inserted at the
  highest safe speed (``departSpeed="max"``: a fixed 30 km/h is refused behind a queue), an IDM vType,
  ``--step-length 0.05``, no teleports; driven through libsumo, one ``simulationStep`` per step.

Columns: real-time factor (simulated s per wall s; with ``--cpu`` per CPU second of this process,
the fair figure on a shared machine: both systems run here on one thread), vehicle-steps/s counted over the vehicles
actually on the road at each step (both systems remove vehicles that reach their exit), and
the cost per vehicle-step (ns). Rows with walkers are simcore only (pedestrians crossing at
the grid's crosswalks). Targets (issue 11): simcore >= 5x SUMO's vehicle-steps/s at 100 and
1000 vehicles (aim 10x); 1000 vehicles + 200 walkers >= 100x real time; 10,000 reported.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json
from _traffic import LANES, grid_size, traffic_file

DT = 0.05
BLOCK_M = 130.0
ARM_M = 110.0
SPEED_MS = 50 / 3.6
START_MS = 30 / 3.6
#: The clock the runs are timed with: wall time, or with --cpu this process's CPU time (both systems run
#: in this process on one thread, so CPU time compares them fairly on a loaded machine).
CLOCK = [time.perf_counter]
#: Above this many vehicles the world is built once (a 10,000-vehicle build takes minutes) and the
#: timed runs keep the warm-up run's trajectory recording (six rows of N values per step).
SINGLE_BUILD_ABOVE = 1000


def bench_simcore(n: int, sim_s: float, repeats: int, walkers: int = 0, geometric: bool = False) -> dict:
    """Median wall time of a simcore run of the grid workload; vehicle-steps counted over active vehicles.
    ``geometric``: drivers project every neighbour (``runner.engine.LANE_LEADER`` off, the search before
    lane-indexed leaders)."""
    import simcore.runner.engine as engine

    lane_leader = engine.LANE_LEADER
    engine.LANE_LEADER = lane_leader and not geometric
    try:
        return _bench_simcore(n, sim_s, repeats, walkers, "simcore (geometric search)" if geometric else "simcore")
    finally:
        engine.LANE_LEADER = lane_leader


def _bench_simcore(n: int, sim_s: float, repeats: int, walkers: int, system: str) -> dict:
    import numpy as np

    import simcore.yamlio.source as yaml_source
    from simcore.api import simulation

    # the generated file of a 10,000-vehicle grid is legitimately larger than the loader's alias-bomb guard
    yaml_source.MAX_NODES = max(yaml_source.MAX_NODES, 40 * (n + walkers))
    path = traffic_file(n, timeout_s=sim_s, pedestrians=walkers)
    t0 = time.perf_counter()
    sim = simulation(path, record_every=1)
    build_s = time.perf_counter() - t0
    sim.run()  # warm-up (compile or cache load) and the count of vehicles on the road per step
    veh = sim.world.state.kind == 0
    active = sim.recorder.active[1 : sim.recorder.rows, veh]
    veh_steps = float(np.count_nonzero(active))
    if n <= SINGLE_BUILD_ABOVE:
        sim = simulation(path, record_every=0)
        sim.run()

    def once() -> None:
        sim.reset()
        sim.run()

    med, _ = median_time(once, repeats, clock=CLOCK[0])
    steps = sim.step_index
    return _row(system, n, walkers, sim.t, steps, veh_steps, med, repeats, build_s=build_s)


def _row(
    system: str,
    n: int,
    walkers: int,
    sim_t: float,
    steps: int,
    veh_steps: float,
    wall: float,
    repeats: int,
    **extra: float,
) -> dict:
    return {
        "system": system,
        "vehicles": n,
        "walkers": walkers,
        "grid": f"{grid_size(n)}x{grid_size(n)}",
        "sim_s": round(sim_t, 2),
        "wall_s": wall,
        "rtf": sim_t / wall,
        "mean_on_road": veh_steps / max(steps, 1),
        "veh_steps_per_s": veh_steps / wall,
        "ns_per_veh_step": wall / max(veh_steps, 1.0) * 1e9,
        "repeats": repeats,
        **extra,
    }


def sumo_available() -> str:
    """Why SUMO cannot run here ('' when it can)."""
    try:
        import libsumo  # noqa: F401
        import sumolib  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} not installed (pip install -e '.[bench]')"
    if shutil.which("netgenerate") is None:
        return "netgenerate not on PATH (pip install eclipse-sumo)"
    return ""


def sumo_network(k: int, folder: Path) -> tuple[Path, Path]:
    """The grid as a SUMO network (netgenerate) and an additional file with the IDM vType."""
    net = folder / f"grid{k}.net.xml"
    subprocess.run(
        [
            "netgenerate", "--grid", "--grid.number", str(k), "--grid.length", str(BLOCK_M),
            "--grid.attach-length", str(ARM_M), "--default.lanenumber", str(LANES),
            "--default.speed", f"{SPEED_MS:.3f}", "--default-junction-type", "traffic_light",
            "--no-turnarounds", "true", "-o", str(net),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    add = folder / "vtypes.add.xml"
    add.write_text(
        '<additional>\n  <vType id="idm" carFollowModel="IDM" accel="2.0" decel="3.0" tau="1.5" minGap="2.0"'
        ' length="4.5" speedFactor="0.9" speedDev="0.05"/>\n</additional>\n'
    )
    return net, add


def bench_sumo(n: int, sim_s: float, repeats: int, seed: int = 0) -> dict:
    """Median wall time of SUMO stepping the same workload through libsumo (load and insertion set-up excluded)."""
    import libsumo
    import sumolib

    k = grid_size(n)
    folder = Path(tempfile.mkdtemp(prefix="simcore-sumo-"))
    net_file, add_file = sumo_network(k, folder)
    net = sumolib.net.readNet(str(net_file))
    edges = [e for e in net.getEdges() if e.getFunction() != "internal"]
    # border exits lead to a dead-end node; trips start on edges into a junction
    exits = [e.getID() for e in edges if len(e.getToNode().getOutgoing()) <= 1]
    origins = [e.getID() for e in edges if len(e.getToNode().getOutgoing()) > 1]
    n_steps = round(sim_s / DT)
    times: list[float] = []
    veh_steps = 0.0
    for _ in range(repeats):
        libsumo.start([
            "sumo", "-n", str(net_file), "--additional-files", str(add_file), "--step-length", str(DT),
            "--begin", "0", "--end", str(sim_s + 1), "--no-step-log", "true", "--no-warnings", "true",
            "--time-to-teleport", "-1", "--seed", str(seed), "--threads", "1",
        ])  # fmt: skip
        rng = random.Random(seed)
        for v in range(n):
            while True:
                a, b = rng.choice(origins), rng.choice(exits)
                route = libsumo.simulation.findRoute(a, b).edges
                if route:
                    break
            libsumo.route.add(f"r{v}", route)
            libsumo.vehicle.add(
                f"v{v}",
                f"r{v}",
                typeID="idm",
                depart="0",
                departLane="best",
                departPos="random_free",
                departSpeed="max",
            )
        count = 0
        t0 = CLOCK[0]()
        for _s in range(n_steps):
            libsumo.simulationStep()
            count += libsumo.vehicle.getIDCount()
        times.append(CLOCK[0]() - t0)
        veh_steps = float(count)
        libsumo.close()
    times.sort()
    med = times[len(times) // 2]
    return _row("SUMO (libsumo)", n, 0, n_steps * DT, n_steps, veh_steps, med, repeats)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10 s simulated, 100 and 1000 vehicles (< 1 minute)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--sizes", help="comma-separated vehicle counts (default 100,1000,10000; quick 100,1000)")
    ap.add_argument("--no-sumo", action="store_true", help="simcore rows only")
    ap.add_argument("--cpu", action="store_true", help="time with process CPU time instead of wall time (busy machine)")
    ap.add_argument(
        "--geometric",
        action="store_true",
        help="also time simcore with the geometric neighbour search alone (no lane-indexed leaders)",
    )
    args = ap.parse_args()
    if args.cpu:
        CLOCK[0] = time.process_time
    sim_s = 10.0 if args.quick else 60.0
    repeats = 3 if args.quick else 5
    sizes = (
        [int(v) for v in args.sizes.split(",")] if args.sizes else ([100, 1000] if args.quick else [100, 1000, 10000])
    )
    why = "SUMO rows skipped: --no-sumo" if args.no_sumo else sumo_available()
    if why:
        print(why)
    rows = []
    for n in sizes:
        reps = repeats if n <= 1000 else 1
        print(f"simcore, {n} vehicles ...", flush=True)
        rows.append(bench_simcore(n, sim_s, reps))
        ours = rows[-1]
        if args.geometric:
            print(f"simcore (geometric search), {n} vehicles ...", flush=True)
            rows.append(bench_simcore(n, sim_s, reps, geometric=True))
        if not why:
            print(f"SUMO, {n} vehicles ...", flush=True)
            rows.append(bench_sumo(n, sim_s, reps))
            rows[-1]["simcore_speedup"] = ours["veh_steps_per_s"] / rows[-1]["veh_steps_per_s"]
            if args.geometric:
                rows[-2]["simcore_speedup"] = rows[-2]["veh_steps_per_s"] / rows[-1]["veh_steps_per_s"]
        if n == 1000:
            print("simcore, 1000 vehicles + 200 walkers ...", flush=True)
            rows.append(bench_simcore(1000, sim_s, repeats, walkers=200))
    cols = ["system", "vehicles", "walkers", "grid", "sim_s", "wall_s", "rtf", "mean_on_road", "veh_steps_per_s",
            "ns_per_veh_step", "simcore_speedup", "repeats"]  # fmt: skip
    clock = "CPU" if args.cpu else "wall"
    print_table(f"City grid traffic, dt 0.05 s, one core (medians; rtf = simulated s per {clock} s)", rows, cols)
    write_json(args.json, "traffic", rows, {"dt": DT, "sim_s": sim_s, "clock": clock})
    return 0


if __name__ == "__main__":
    sys.exit(main())
