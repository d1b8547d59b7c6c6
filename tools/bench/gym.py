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
from simcore.behavior.junction_kernels import junction_holds
from simcore.evaluation.metrics_kernels import evaluate_step
from simcore.evaluation.rules_kernels import evaluate_rules
from simcore.gym import ENV_IDS, VectorSimcoreEnv
from simcore.gym.batch_kernels import row, row1
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


# fmt: off
@kernel
def _loop_part(part, reps, dt, drive_idx, veh_idx, eval_idx, e, kind, state, vp, drv, speed_factor, rt, grid,
               actor_grid, work, scratch, metrics, sig_state, cw_occ, touch_i, touch_j, n_touch, step, ev_static,
               ev_state, beh, jt):  # pragma: no cover - compiled
    """``reps`` times over every instance: one engine part on its borrowed row views (as ``advance`` calls it)."""
    x, y, yaw, speed, _, accel, _, _, progress, lateral, active, started, done, inst = state
    wheelbase, length, width, rear_overhang, center_offset, max_steer, _, _, max_decel, _ = vp
    v_des, T, s0, b_comf, delta, a_lat, accel_cap, stop_at_end = drv
    rt_start, rx, ry, rs, rvlim, rk, st_start, stop_s, stop_sig, cw_start, cw_s0, cw_s1, cw_id, \
        lc_start, lc_s0, lc_s1, lc_side, lc_offset, goal_s, road_half, _, _ = rt
    g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw = grid
    grid_x0, grid_y0, grid_nx, grid_ny = actor_grid
    ctrl_accel, ctrl_steer, lead_gap, lead_close, offroad, goal_flag, _, _, _, _ = work
    _, _, cell_start, cell_items, cell_seen, actor_seen, cand, stamp, box_cx, box_cy, pair_i, pair_j, \
        ev_time, ev_kind, ev_a, ev_b, ev_value, _, _, _, _, _, \
        ev_fault, so_out_obj, so_out_dist, cur_turn, hold_s, cur_ps, jb_start, jb_items = scratch
    stop_sign, so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start, \
        so_ax, so_ay, so_bx, so_by = ev_static
    actor_ev, pet, ror_stop, arr_ps, arr_t, lat_off, lat_tgt = ev_state
    run_amber, run_red, right_on_red, crit_gap, yields, start_time, pf_mode, pf_start, pf_key, pf_v, \
        mobil, mb_p, mb_thr, mb_bias, nb_left, nb_right = beh
    ps_start, ps_junc, ps_hold, ps_s1, ps_sig, ps_stop, ps_turn, ps_l, pl_lane, pl_s0, lane_local, jc_off, \
        jc_n, jc_s = jt
    for _ in range(reps):
        for j in range(x.shape[0]):
            t = step[j] * dt
            if part == 0:
                junction_holds(
                    t, drive_idx, veh_idx, e, row(speed, j), row(active, j), row(inst, j), length, rear_overhang,
                    row(progress, j), yields, crit_gap, right_on_red, ps_start, ps_junc, ps_hold, ps_s1, ps_sig,
                    ps_stop, ps_turn, ps_l, pl_lane, pl_s0, lane_local, jc_off, jc_n, jc_s, row1(sig_state, j),
                    cur_ps, row(arr_ps, j), row(arr_t, j), jb_start, jb_items, hold_s, cur_turn,
                )
            elif part == 1:
                step_drivers(
                    drive_idx, row(x, j), row(y, j), row(yaw, j), row(speed, j), row(active, j), row(inst, j),
                    wheelbase, length, width, rear_overhang, center_offset, accel_cap, max_decel, max_steer,
                    rt_start, rx, ry, rs, rvlim, rk, row(progress, j),
                    st_start, stop_s, stop_sig, row1(sig_state, j), cw_start, cw_s0, cw_s1, cw_id, row1(cw_occ, j),
                    lc_start, lc_s0, lc_s1, lc_side, lc_offset,
                    v_des, T, s0, b_comf, delta, a_lat, row(speed_factor, j), stop_at_end,
                    grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items, cell_seen, actor_seen, cand, stamp,
                    row(ctrl_accel, j), row(ctrl_steer, j), row(lead_gap, j), row(lead_close, j),
                    t, dt, row(started, j), start_time, run_amber, run_red, right_on_red, row(ror_stop, j),
                    cur_turn, hold_s, pf_mode, pf_start, pf_key, pf_v,
                    mobil, mb_p, mb_thr, mb_bias, nb_left, nb_right, row(lat_off, j), row(lat_tgt, j), row(accel, j),
                )
            elif part == 2 or part == 3:
                args_x = (row(x, j), row(y, j), row(yaw, j), row(speed, j), row(accel, j), row(active, j),
                          row(done, j), row(inst, j), row(progress, j), row(lateral, j))
                evaluate_step(
                    t, dt, eval_idx, e, *args_x, length, width, rear_overhang, center_offset, stop_at_end,
                    rt_start, rx, ry, rs, rk, road_half, st_start, stop_s, stop_sig, row1(sig_state, j), goal_s,
                    row(offroad, j), row(goal_flag, j), g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg,
                    g_ax, g_ay, g_bx, g_by, g_hw, row(metrics, j), ev_kind, ev_a, ev_b, ev_value, part == 3,
                )
            elif part == 4:
                _collision_onsets(
                    t, row(x, j), row(y, j), row(yaw, j), row(speed, j), kind, row(active, j), row(inst, j), length,
                    width, center_offset, box_cx, box_cy, pair_i, pair_j, row(touch_i, j), row(touch_j, j),
                    row1(n_touch, j), ev_time, ev_kind, ev_a, ev_b, ev_value, 0,
                )
            elif part == 5:
                evaluate_rules(
                    t, dt, e, row(x, j), row(y, j), row(yaw, j), row(speed, j), row(accel, j), row(active, j),
                    row(inst, j), kind, length, width, rear_overhang, center_offset, row(progress, j),
                    row(lateral, j), rt_start, rx, ry, rs, rvlim, st_start, stop_s, stop_sig, stop_sign,
                    row1(sig_state, j), g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw,
                    so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start,
                    so_ax, so_ay, so_bx, so_by, so_out_obj, so_out_dist,
                    row(metrics, j), row(actor_ev, j), row(pet, j), ev_time, ev_kind, ev_a, ev_b, ev_value, ev_fault,
                    0, 0,
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
    args = (
        env.world.dt, b.drive_idx, b.veh_idx, b.eval_idx, b.ego, b.kind, b.state, b.vp, b.drv, b.speed_factor,
        b.rt, b.grid, b.actor_grid, b.work, b.scratch[0], b.metrics, b.sig_state, b.cw_occ, b.touch_i, b.touch_j,
        b.n_touch, b.step_count, b.ev_static, b.ev_state, b.beh, b.jt,
    )  # fmt: skip
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
        rows.append({"part": f"whole step_instances, {label}", "cpu_us_per_instance": 1e6 * cpu / (reps * n)})
    b.light = light
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
