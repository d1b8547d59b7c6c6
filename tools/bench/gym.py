"""Controlled-agent steps per second of simcore's vectorised gym env, next to highway-env.

    python tools/bench/gym.py [--quick] [--json FILE] [--scenario S]

VectorSimcoreEnv with 1, 64 and 1024 instances of one scenario (default: the light
``gym-sparse-intersection``, ego + 2 NPC vehicles per instance, dt 0.1 s), object-list
observations (K = 8 objects, ego features, 10 route points), uniform random actions drawn
up front, autoreset on. One agent-step = one instance advanced one step with its
observation and reward. Time split at the largest size: the engine step kernel, the
observation kernels, and the Python around them (action mapping, autoreset, copies).
Side by side: the object list from the Numba kernel vs the same computed with plain
NumPy, and highway-env's ``highway-v0`` (default config: 1 Hz policy, 15 Hz physics, one
controlled vehicle) stepped with random actions in the same run. Single thread: Numba
kernels here are serial; set NUMBA_NUM_THREADS=1 to be sure.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json

from simcore._jit import kernel
from simcore.behavior.driver_kernels import step_drivers
from simcore.evaluation.metrics_kernels import accumulate_ego_metrics, evaluate_step
from simcore.geometry.kernels import pairwise_box_overlaps
from simcore.gym import ENV_IDS, VectorSimcoreEnv
from simcore.gym.observe import Observer

DEFAULT_SCENARIO = ENV_IDS["simcore/SparseIntersection-v0"]


def wall_and_cpu(fn, repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (s) over ``repeats`` calls of ``fn``.

    On a shared machine the CPU time is the honest one-core figure: wall time also counts
    the time the scheduler gave to other processes.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def bench_vector(scenario: str, n: int, steps: int, repeats: int, threads: int = 1) -> tuple[dict, VectorSimcoreEnv]:
    env = VectorSimcoreEnv(scenario, n, observation="objects", threads=threads)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1.0, 1.0, size=(steps, n, 2)).astype(np.float32)
    env.step(actions[0])  # compile / load from the cache outside the timing
    episodes = [0]

    def once() -> None:
        for k in range(steps):
            _, _, term, trunc, _ = env.step(actions[k])
            episodes[0] += int(term.sum() + trunc.sum())

    med, cpu = wall_and_cpu(once, repeats)
    rows = env.batch.rows
    return {
        "system": f"simcore VectorSimcoreEnv x{n}" + (f", {threads} threads" if threads > 1 else ""),
        "instances": n,
        "actors_per_instance": rows,
        "steps": steps,
        "wall_s": med,
        "cpu_s": cpu,
        "agent_steps_per_s": n * steps / med,
        "agent_steps_per_cpu_s": n * steps / cpu,
        "actor_steps_per_cpu_s": n * rows * steps / cpu,
        "cpu_us_per_agent_step": 1e6 * cpu / (n * steps),
        "episodes_ended": episodes[0],
        "repeats": repeats,
    }, env


def breakdown(env: VectorSimcoreEnv, steps: int, repeats: int) -> list[dict]:
    """Where one vector step's time goes, measured inside ``env.step`` with random actions:
    the engine step kernel, the observation kernels, and the rest (Python)."""
    b = env.batch
    n = env.num_envs
    spent = {"kernel": 0.0, "obs": 0.0}
    step_fn, obs_fn = b.step, env.observer.compute

    def timed_step(*a, **k):
        c0 = time.process_time()
        step_fn(*a, **k)
        spent["kernel"] += time.process_time() - c0

    def timed_obs():
        c0 = time.process_time()
        obs_fn()
        spent["obs"] += time.process_time() - c0

    rng = np.random.default_rng(1)
    actions = rng.uniform(-1.0, 1.0, size=(steps, n, 2)).astype(np.float32)
    totals = []
    b.step, env.observer.compute = timed_step, timed_obs
    try:
        for _ in range(repeats):
            env.reset(seed=1)
            spent["kernel"] = spent["obs"] = 0.0
            c0 = time.process_time()
            for k in range(steps):
                env.step(actions[k])
            totals.append((time.process_time() - c0, spent["kernel"], spent["obs"]))
    finally:
        del b.step, env.observer.compute
    t_full, t_kernel, t_obs = sorted(totals)[len(totals) // 2]
    per = 1e6 / (n * steps)
    return [
        {"part": "engine step kernel (advance per instance + rewards)", "us_per_agent_step": t_kernel * per},
        {"part": "observation kernels (object list + ego + route)", "us_per_agent_step": t_obs * per},
        {"part": "Python: actions, autoreset, info, copies", "us_per_agent_step": (t_full - t_kernel - t_obs) * per},
        {"part": "total env.step", "us_per_agent_step": t_full * per},
    ]


@kernel
def _loop_drivers(reps, a):  # pragma: no cover - compiled
    for _ in range(reps):
        step_drivers(*a)


@kernel
def _loop_evaluate(reps, a, progress, p0):  # pragma: no cover - compiled
    for _ in range(reps):
        evaluate_step(*a)
        progress[:] = p0


@kernel
def _loop_metrics(reps, a):  # pragma: no cover - compiled
    for _ in range(reps):
        accumulate_ego_metrics(*a)


@kernel
def _loop_pairs(reps, a):  # pragma: no cover - compiled
    for _ in range(reps):
        pairwise_box_overlaps(*a)


def engine_parts(env: VectorSimcoreEnv, reps: int, repeats: int) -> list[dict]:
    """Cost of the engine's parts for one instance at its t = 0 state (us per call, median)."""
    b = env.batch
    b.reset_instance(0)
    st = {f: b.field(f)[0] for f in ("x", "y", "yaw", "speed", "accel", "progress", "lateral", "active", "done")}
    inst = b.field("instance")[0]
    wheelbase, length, width, rear, co, max_steer, _, _, max_decel, _ = b.vp
    v_des, T, s0, b_comf, delta, a_lat, accel_cap, stop_at_end = b.drv
    rt_start, rx, ry, rs, rvlim, rk, st_start, stop_s, stop_sig, cw_start, cw_s0, cw_s1, cw_id = b.rt[:13]
    lc_start, lc_s0, lc_s1, lc_side, lc_offset, goal_s, road_half = b.rt[13:20]
    sc = b.scratch[0]
    ctrl_a, ctrl_s, lead_gap, lead_close, offroad, goal_flag = (a[0] for a in b.work[:6])
    drivers = (
        b.drive_idx,
        st["x"],
        st["y"],
        st["yaw"],
        st["speed"],
        st["active"],
        inst,
        wheelbase,
        length,
        width,
        rear,
        co,
        accel_cap,
        max_decel,
        max_steer,
        rt_start,
        rx,
        ry,
        rs,
        rvlim,
        rk,
        st["progress"],
        st_start,
        stop_s,
        stop_sig,
        b.sig_state[:1],
        cw_start,
        cw_s0,
        cw_s1,
        cw_id,
        b.cw_occ[:1],
        lc_start,
        lc_s0,
        lc_s1,
        lc_side,
        lc_offset,
        v_des,
        T,
        s0,
        b_comf,
        delta,
        a_lat,
        b.speed_factor[0],
        stop_at_end,
        *b.actor_grid,
        *sc[2:8],
        ctrl_a,
        ctrl_s,
        lead_gap,
        lead_close,
    )
    metrics = b.metrics[0].copy()
    evaluate = (
        0.1,
        env.world.dt,
        b.veh_idx,
        b.ego,
        st["x"],
        st["y"],
        st["yaw"],
        st["speed"],
        st["accel"],
        st["active"],
        st["done"],
        inst,
        st["progress"],
        st["lateral"],
        length,
        width,
        rear,
        co,
        stop_at_end,
        rt_start,
        rx,
        ry,
        rs,
        rk,
        road_half,
        st_start,
        stop_s,
        stop_sig,
        b.sig_state[:1],
        goal_s,
        offroad,
        goal_flag,
        *b.grid,
        metrics,
        *sc[13:17],
    )
    ego_metrics = (
        b.ego,
        env.world.dt,
        st["x"],
        st["y"],
        st["yaw"],
        st["speed"],
        st["accel"],
        st["active"],
        inst,
        length,
        width,
        rear,
        co,
        rt_start,
        rx,
        ry,
        rs,
        st["progress"],
        metrics,
    )
    pairs = (st["x"], st["y"], st["yaw"], length, width, inst, st["active"], sc[10], sc[11])
    p0 = st["progress"].copy()
    off0, goal0, done0, act0 = offroad.copy(), goal_flag.copy(), st["done"].copy(), st["active"].copy()
    parts = [
        (
            f"NPC drivers: step_drivers, {len(b.drive_idx)} NPCs (IDM, route scans, actor grid)",
            lambda r: _loop_drivers(r, drivers),
        ),
        (
            "evaluate_step: progress, off-road, red lights, goal + ego metrics",
            lambda r: _loop_evaluate(r, evaluate, st["progress"], p0),
        ),
        ("  of which accumulate_ego_metrics (TTC scan)", lambda r: _loop_metrics(r, ego_metrics)),
        ("collision sweep: pairwise_box_overlaps", lambda r: _loop_pairs(r, pairs)),
    ]
    rows = []
    for name, fn in parts:
        fn(2)
        _, cpu = wall_and_cpu(lambda fn=fn: fn(reps), repeats)
        rows.append({"part": name, "cpu_us_per_call": 1e6 * cpu / reps})
    offroad[:], goal_flag[:], st["done"][:], st["active"][:] = off0, goal0, done0, act0
    b.reset_instance(0)
    return rows


def numpy_objects(x, y, yaw, speed, active, ego, co, length, width, kind, k, rng_m):
    """Reference object list with plain NumPy (same definition as obs_kernels.object_obs)."""
    n = x.shape[0]
    cx = x + co * np.cos(yaw) - x[:, ego : ego + 1]
    cy = y + co * np.sin(yaw) - y[:, ego : ego + 1]
    d2 = cx * cx + cy * cy
    d2 = np.where(active & (d2 <= rng_m * rng_m), d2, np.inf)
    d2[:, ego] = np.inf
    order = np.argsort(d2, axis=1, kind="stable")[:, :k]
    rows = np.arange(n)[:, None]
    c = np.cos(yaw[:, ego])[:, None]
    s = np.sin(yaw[:, ego])[:, None]
    sx, sy = cx[rows, order], cy[rows, order]
    dyaw = yaw[rows, order] - yaw[:, ego : ego + 1]
    out = np.stack(
        [
            c * sx + s * sy,
            -s * sx + c * sy,
            np.arctan2(np.sin(dyaw), np.cos(dyaw)),
            speed[rows, order],
            length[order],
            width[order],
            kind[order].astype(np.float64),
        ],
        axis=-1,
    )
    mask = np.isfinite(d2[rows, order])
    out[~mask] = 0.0
    return out.astype(np.float32), mask


def bench_objects(env: VectorSimcoreEnv, repeats: int) -> list[dict]:
    """Object list of every instance: Numba kernel vs plain NumPy (checked equal first)."""
    obs: Observer = env.observer
    b = env.batch
    n = env.num_envs
    cfg = obs.cfg
    args = (
        b.field("x"),
        b.field("y"),
        b.field("yaw"),
        b.field("speed"),
        b.field("active"),
        b.ego,
        b.vp[4],
        b.vp[1],
        b.vp[2],
        b.kind,
        cfg.objects,
        cfg.object_range_m,
    )
    obs.compute()
    ref, mask = numpy_objects(*args)
    width = min(ref.shape[1], obs.bufs["objects"].shape[1])
    same = np.allclose(ref[:, :width], obs.bufs["objects"][:, :width], atol=1e-4) and np.array_equal(
        mask[:, :width], obs.bufs["objects_mask"][:, :width].astype(bool)
    )
    loops = 50
    _, t_nb = wall_and_cpu(lambda: [obs.compute() for _ in range(loops)], repeats)
    _, t_np = wall_and_cpu(lambda: [numpy_objects(*args) for _ in range(loops)], repeats)
    return [
        {
            "impl": "Numba obs kernels (objects + ego + route)",
            "instances": n,
            "cpu_us_per_instance": 1e6 * t_nb / (loops * n),
        },
        {
            "impl": "plain NumPy (objects only)",
            "instances": n,
            "cpu_us_per_instance": 1e6 * t_np / (loops * n),
            "same_result": same,
        },
    ]


def bench_highway(steps: int, repeats: int) -> dict | None:
    try:
        import gymnasium as gym
        import highway_env  # noqa: F401
    except ImportError:
        return None
    env = gym.make("highway-v0")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    acts = rng.integers(0, env.action_space.n, size=steps)
    n_veh = len(env.unwrapped.road.vehicles)
    ends = [0]

    def once() -> None:
        for k in range(steps):
            _, _, term, trunc, _ = env.step(int(acts[k]))
            if term or trunc:
                ends[0] += 1
                env.reset()

    med, cpu = wall_and_cpu(once, repeats)
    env.close()
    return {
        "system": "highway-env highway-v0 (1 env)",
        "instances": 1,
        "actors_per_instance": n_veh,
        "steps": steps,
        "wall_s": med,
        "cpu_s": cpu,
        "agent_steps_per_s": steps / med,
        "agent_steps_per_cpu_s": steps / cpu,
        "actor_steps_per_cpu_s": steps * n_veh / cpu,
        "cpu_us_per_agent_step": 1e6 * cpu / steps,
        "episodes_ended": ends[0],
        "repeats": repeats,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats (< 1 minute once compiled)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--scenario", default=DEFAULT_SCENARIO, help="scenario file or built-in name")
    ap.add_argument("--threads", type=int, default=0, help="also time 1024 instances on this many threads")
    args = ap.parse_args()
    repeats = 3 if args.quick else 5
    budget = 20_000 if args.quick else 200_000  # agent-steps per timed block
    rows = []
    env = None
    for n in (1, 64, 1024):
        steps = max(20, min(2000, math.ceil(budget / n)))
        row, env = bench_vector(args.scenario, n, steps, repeats)
        rows.append(row)
    if args.threads > 1:
        steps = max(20, min(2000, math.ceil(budget / 1024)))
        rows.append(bench_vector(args.scenario, 1024, steps, repeats, args.threads)[0])
    peer = bench_highway(10 if args.quick else 40, 3)
    if peer:
        rows.append(peer)
    print_table(
        "Controlled-agent steps per second (median; one process, one thread; per wall s and per CPU s)",
        rows,
        [
            "system",
            "instances",
            "actors_per_instance",
            "steps",
            "wall_s",
            "cpu_s",
            "agent_steps_per_s",
            "agent_steps_per_cpu_s",
            "cpu_us_per_agent_step",
        ],
    )
    assert env is not None
    split = breakdown(env, max(20, math.ceil(budget / env.num_envs)), repeats)
    print_table(
        f"Where the time goes at {env.num_envs} instances (CPU us per agent-step, median)",
        split,
        ["part", "us_per_agent_step"],
    )
    parts = engine_parts(env, 2000 if args.quick else 20000, repeats)
    print_table(
        "Inside the engine step, one instance at t = 0 (CPU us per call, median)", parts, ["part", "cpu_us_per_call"]
    )
    objs = bench_objects(env, repeats)
    print_table(
        "Object-list observation: Numba kernel vs plain NumPy",
        objs,
        ["impl", "instances", "cpu_us_per_instance", "same_result"],
    )
    write_json(
        args.json,
        "gym",
        rows,
        {
            "breakdown": split,
            "objects": objs,
            "scenario": args.scenario,
            "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
