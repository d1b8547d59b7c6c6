"""Controlled-agent steps per second of simcore's vectorised gym env, next to highway-env.

    python tools/bench/gym.py [--quick] [--json FILE] [--scenario S]

VectorSimcoreEnv with 1, 64 and 1024 instances of one scenario (default: the light
``gym-sparse-intersection``, ego + 2 NPC vehicles per instance, dt 0.1 s), object-list
observations (K = 8 objects, ego features, 10 route points), uniform random actions drawn
up front, autoreset on. One agent-step = one instance advanced one step with its
observation and reward. Time split at the largest size: the
compiled step (actions, autoreset, engine, rewards, observation: one call) and the Python around it.
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

from simcore._jit import borrow_row as row
from simcore._jit import kernel
from simcore.behavior.driver_kernels import step_drivers
from simcore.behavior.junction_kernels import junction_holds
from simcore.evaluation.metrics_kernels import evaluate_step
from simcore.evaluation.rules_kernels import evaluate_rules
from simcore.gym import ENV_IDS, VectorSimcoreEnv
from simcore.gym.observe import Observer
from simcore.runner.step_kernels import _collision_onsets

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


def bench_vector(
    scenario: str, n: int, steps: int, repeats: int, threads: int = 1, evaluation: str = "light"
) -> tuple[dict, VectorSimcoreEnv]:
    env = VectorSimcoreEnv(scenario, n, observation="objects", threads=threads, evaluation=evaluation)
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
        "system": f"simcore VectorSimcoreEnv x{n}"
        + (f", {threads} threads" if threads > 1 else "")
        + (f", evaluation={evaluation}" if evaluation != "light" else ""),
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
    """Where one vector step's time goes, measured inside ``env.step`` with random actions: the one
    compiled call (``InstanceBatch.run``: action mapping, autoreset copies, engine step, rewards,
    object-list observation) and the Python around it (argument checks, speed-factor draws for the
    instances being reset, copies of the outputs, the info dict)."""
    b = env.batch
    n = env.num_envs
    spent = {"kernel": 0.0}
    run_fn = b.run

    def timed_run():
        c0 = time.process_time()
        out = run_fn()
        spent["kernel"] += time.process_time() - c0
        return out

    rng = np.random.default_rng(1)
    actions = rng.uniform(-1.0, 1.0, size=(steps, n, 2)).astype(np.float32)
    totals = []
    b.run = timed_run
    try:
        for _ in range(repeats):
            env.reset(seed=1)
            spent["kernel"] = 0.0
            c0 = time.process_time()
            for k in range(steps):
                env.step(actions[k])
            totals.append((time.process_time() - c0, spent["kernel"]))
    finally:
        del b.run
    t_full, t_kernel = sorted(totals)[len(totals) // 2]
    per = 1e6 / (n * steps)
    obs = env.observer
    loops = 20
    _, t_obs = wall_and_cpu(lambda: [obs.compute_objects() for _ in range(loops)], repeats)
    us = "us_per_agent_step"
    return [
        {"part": "compiled gym_step (actions, resets, engine, rewards, observation)", us: t_kernel * per},
        {"part": "  of which observation (object list + ego + route, timed alone)", us: 1e6 * t_obs / (loops * n)},
        {"part": "Python: checks, speed-factor draws, output copies, info", us: (t_full - t_kernel) * per},
        {"part": "total env.step", us: t_full * per},
    ]


# fmt: off
@kernel
def _loop_part(part, reps, dt, sp, es, sc, out):  # pragma: no cover - compiled
    """``reps`` times over every instance: one engine part on its borrowed row views (as ``advance`` calls it).

    ``sp``, ``es``, ``sc``, ``out``: the engine's Static, EngineState, Scratch and Outputs (``runner.engine``).
    """
    e = sp.ego
    for _ in range(reps):
        for j in range(es.step.shape[0]):
            t = es.step[j] * dt
            if part == 0:
                junction_holds(
                    t, sp.drive_idx, sp.veh_idx, e, row(es.speed, j), row(es.active, j), row(es.instance, j),
                    sp.length, sp.rear_overhang, row(es.progress, j), sp.yields, sp.crit_gap, sp.right_on_red,
                    sp.ps_start, sp.ps_junc, sp.ps_hold, sp.ps_s1, sp.ps_sig, sp.ps_stop, sp.ps_turn, sp.ps_l,
                    sp.pl_lane, sp.pl_s0, sp.lane_local, sp.jc_off, sp.jc_n, sp.jc_s, row(es.sig_state, j),
                    sc.cur_ps, row(es.arr_ps, j), row(es.arr_t, j), sc.jb_start, sc.jb_items, sc.hold_s, sc.cur_turn,
                )
            elif part == 1:
                step_drivers(
                    sp.drive_idx, row(es.x, j), row(es.y, j), row(es.yaw, j), row(es.speed, j), row(es.active, j),
                    row(es.instance, j), sp.wheelbase, sp.length, sp.width, sp.rear_overhang, sp.center_offset,
                    sp.accel_cap, sp.max_decel, sp.max_steer,
                    sp.rt_start, row(es.route_x, j), row(es.route_y, j), sp.rs, sp.rvlim, sp.rk, row(es.progress, j),
                    sp.st_start, sp.stop_s, sp.stop_sig, row(es.sig_state, j), sp.cw_start, sp.cw_s0, sp.cw_s1,
                    sp.cw_id, row(es.cw_occ, j), sp.lc_start, sp.lc_s0, sp.lc_s1, sp.lc_side, sp.lc_offset,
                    row(es.v_des, j), sp.T, sp.s0, sp.b_comf, sp.delta, sp.a_lat, row(es.speed_factor, j),
                    sp.stop_at_end, sp.grid_x0, sp.grid_y0, sp.grid_nx, sp.grid_ny, sc.cell_start, sc.cell_items,
                    sc.cell_seen, sc.actor_seen, sc.cand, sc.stamp,
                    row(es.ctrl_accel, j), row(es.ctrl_steer, j), sc.lead_gap, sc.lead_close,
                    t, dt, row(es.started, j), sp.start_time, sp.run_amber, sp.run_red, sp.right_on_red,
                    row(es.ror_stop, j), sc.cur_turn, sc.hold_s, sp.pf_mode, sp.pf_start, sp.pf_key, sp.pf_v,
                    sp.mobil, sp.mb_p, sp.mb_thr, sp.mb_bias, sp.nb_left, sp.nb_right, row(es.lat_off, j),
                    row(es.lat_tgt, j), row(es.accel, j), sp.r_next, sc.box_cx, sc.box_cy,
                    row(es.lateral, j), sp.lk_ok, sp.rlane, sp.rls, sp.ln_next, sc.key_lane, sc.key_s, sc.lb_start,
                    sc.lb_items,
                )
            elif part == 2 or part == 3:
                evaluate_step(
                    t, dt, sp.eval_idx, e, row(es.x, j), row(es.y, j), row(es.yaw, j), row(es.speed, j),
                    row(es.accel, j), row(es.active, j), row(es.done, j), row(es.instance, j), row(es.progress, j),
                    row(es.lateral, j), sp.length, sp.width, sp.rear_overhang, sp.center_offset, sp.stop_at_end,
                    sp.rt_start, row(es.route_x, j), row(es.route_y, j), sp.rs, sp.rk, sp.road_half, sp.st_start,
                    sp.stop_s, sp.stop_sig, row(es.sig_state, j), sp.goal_s, row(es.offroad, j),
                    row(es.goal_flag, j), sp.g_cell, sp.g_x0, sp.g_y0, sp.g_nx, sp.g_ny, sp.g_start, sp.g_seg,
                    sp.g_ax, sp.g_ay, sp.g_bx, sp.g_by, sp.g_hw, row(es.metrics, j), out.ev_kind, out.ev_a,
                    out.ev_b, out.ev_value, part == 3,
                )
            elif part == 4:
                _collision_onsets(
                    t, row(es.x, j), row(es.y, j), row(es.yaw, j), row(es.speed, j), sp.kind, row(es.active, j),
                    row(es.instance, j), sp.length, sp.width, sp.center_offset, sc.box_cx, sc.box_cy, sc.pair_i,
                    sc.pair_j, row(es.touch_i, j), row(es.touch_j, j), row(es.n_touch, j),
                    out.ev_time, out.ev_kind, out.ev_a, out.ev_b, out.ev_value, 0,
                )
            elif part == 5:
                evaluate_rules(
                    t, dt, e, row(es.x, j), row(es.y, j), row(es.yaw, j), row(es.speed, j), row(es.accel, j),
                    row(es.active, j), row(es.instance, j), sp.kind, sp.length, sp.width, sp.rear_overhang,
                    sp.center_offset, row(es.progress, j), row(es.lateral, j), sp.rt_start, row(es.route_x, j),
                    row(es.route_y, j), sp.rs, sp.rvlim, sp.st_start, sp.stop_s, sp.stop_sig, sp.stop_sign,
                    row(es.sig_state, j), sp.g_cell, sp.g_x0, sp.g_y0, sp.g_nx, sp.g_ny, sp.g_start, sp.g_seg,
                    sp.g_ax, sp.g_ay, sp.g_bx, sp.g_by, sp.g_hw,
                    sp.so_cell, sp.so_x0, sp.so_y0, sp.so_nx, sp.so_ny, sp.so_start, sp.so_obj, sp.so_ix0,
                    sp.so_iy0, sp.so_seg_start, sp.so_ax, sp.so_ay, sp.so_bx, sp.so_by, sc.so_out_obj,
                    sc.so_out_dist, row(es.metrics, j), row(es.actor_ev, j), row(es.pet, j),
                    out.ev_time, out.ev_kind, out.ev_a, out.ev_b, out.ev_value, out.ev_fault, 0, 0,
                )
# fmt: on


ENGINE_PARTS = (
    "junction_holds (right of way)",
    "step_drivers (IDM, route scans, actor grid)",
    "evaluate_step, scoring=False (light: progress, off-road, red light, goal)",
    "evaluate_step, scoring=True (full: the same + ego metrics, TTC scan)",
    "collision onsets (pairwise_box_overlaps: in place up to SMALL_ROWS, else sweep)",
    "evaluate_rules (full only: fault, wrong way, speeding, PET, ...)",
)


def engine_parts(env: VectorSimcoreEnv, reps: int, repeats: int) -> list[dict]:
    """CPU us per instance of each engine part, called on every instance's current (mid-episode)
    state the way ``advance`` calls it, and of the whole gym step in both evaluation modes.
    Repeated calls mutate the evaluated state, so the env is reset afterwards."""
    b = env.batch
    n = env.num_envs
    args = (env.world.dt, b.static, b.state, b.scratch[0], b.outputs[0])
    rows = []
    for part, name in enumerate(ENGINE_PARTS):
        _loop_part(part, 1, *args)
        _, cpu = wall_and_cpu(lambda part=part: _loop_part(part, reps, *args), repeats)
        rows.append({"part": name, "cpu_us_per_instance": 1e6 * cpu / (reps * n)})
    run = np.ones(n, dtype=np.bool_)
    zero = np.zeros(n)
    light = b.light
    for mode in (True, False):
        b.light = mode

        def steps(mode=mode) -> None:
            for _ in range(reps):
                b.step(run, zero, zero, 1 << 40, env._weights, env._terminate)

        _, cpu = wall_and_cpu(steps, repeats)
        label = "light (advance, scoring=False)" if mode else "full (advance, scoring=True)"
        part = f"whole gym_step without observation, {label}"
        rows.append({"part": part, "cpu_us_per_instance": 1e6 * cpu / (reps * n)})
    b.light = light
    # the fixed cost: the same step with every actor of every instance inactive (nothing moves, nothing
    # is evaluated: calls, argument passing, per-step scratch resets, signal states)
    snap = b.snapshot()
    b.state.active[:] = False

    def idle() -> None:
        for _ in range(reps):
            b.step(run, zero, zero, 1 << 40, env._weights, env._terminate)

    _, cpu = wall_and_cpu(idle, repeats)
    part = "whole gym_step without observation, light, every actor inactive (fixed cost)"
    rows.append({"part": part, "cpu_us_per_instance": 1e6 * cpu / (reps * n)})
    b.restore(snap)
    env.reset(seed=0)
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
    steps = max(20, min(2000, math.ceil(budget / 1024)))
    rows.append(bench_vector(args.scenario, 1024, steps, repeats, evaluation="full")[0])
    if args.threads > 1:
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
    parts = engine_parts(env, 5 if args.quick else 20, repeats)
    print_table(
        f"Inside the engine step, every one of {env.num_envs} instances mid-episode (CPU us per instance, median)",
        parts,
        ["part", "cpu_us_per_instance"],
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
