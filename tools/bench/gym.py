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
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore.gym import ENV_IDS, VectorSimcoreEnv
from simcore.gym.observe import Observer

DEFAULT_SCENARIO = ENV_IDS["simcore/SparseIntersection-v0"]


def bench_vector(scenario: str, n: int, steps: int, repeats: int) -> tuple[dict, VectorSimcoreEnv]:
    env = VectorSimcoreEnv(scenario, n, observation="objects")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1.0, 1.0, size=(steps, n, 2)).astype(np.float32)
    env.step(actions[0])  # compile / load from the cache outside the timing
    episodes = [0]

    def once() -> None:
        for k in range(steps):
            _, _, term, trunc, _ = env.step(actions[k])
            episodes[0] += int(term.sum() + trunc.sum())

    med, _ = median_time(once, repeats)
    rows = env.batch.rows
    return {
        "system": f"simcore VectorSimcoreEnv x{n}",
        "instances": n,
        "actors_per_instance": rows,
        "steps": steps,
        "wall_s": med,
        "agent_steps_per_s": n * steps / med,
        "actor_steps_per_s": n * rows * steps / med,
        "us_per_agent_step": 1e6 * med / (n * steps),
        "episodes_ended": episodes[0],
        "repeats": repeats,
    }, env


def breakdown(env: VectorSimcoreEnv, steps: int, repeats: int) -> list[dict]:
    """Where one vector step's time goes: engine kernel, observation kernels, the rest."""
    b = env.batch
    n = env.num_envs
    acc = np.zeros(n)
    steer = np.zeros(n)
    run = np.ones(n, dtype=np.bool_)

    def kernel_only() -> None:
        for _ in range(steps):
            b.step(run, acc, steer, 10**9, env._weights, env._terminate)

    def obs_only() -> None:
        for _ in range(steps):
            env.observer.compute()

    env.reset(seed=1)
    t_kernel, _ = median_time(kernel_only, repeats)
    t_obs, _ = median_time(obs_only, repeats)
    env.reset(seed=1)
    zero = np.zeros((n, 2), np.float32)

    def full() -> None:
        for _ in range(steps):
            env.step(zero)

    t_full, _ = median_time(full, repeats)
    per = 1e6 / (n * steps)
    rest = max(t_full - t_kernel - t_obs, 0.0)
    return [
        {"part": "engine step kernel (advance per instance + rewards)", "us_per_agent_step": t_kernel * per},
        {"part": "observation kernels (object list + ego + route)", "us_per_agent_step": t_obs * per},
        {"part": "Python: actions, autoreset, info, copies", "us_per_agent_step": rest * per},
        {"part": "total env.step", "us_per_agent_step": t_full * per},
    ]


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
    t_nb, _ = median_time(lambda: [obs.compute() for _ in range(loops)], repeats)
    t_np, _ = median_time(lambda: [numpy_objects(*args) for _ in range(loops)], repeats)
    return [
        {
            "impl": "Numba obs kernels (objects + ego + route)",
            "instances": n,
            "us_per_instance": 1e6 * t_nb / (loops * n),
        },
        {
            "impl": "plain NumPy (objects only)",
            "instances": n,
            "us_per_instance": 1e6 * t_np / (loops * n),
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

    med, _ = median_time(once, repeats)
    env.close()
    return {
        "system": "highway-env highway-v0 (1 env)",
        "instances": 1,
        "actors_per_instance": n_veh,
        "steps": steps,
        "wall_s": med,
        "agent_steps_per_s": steps / med,
        "us_per_agent_step": 1e6 * med / steps,
        "episodes_ended": ends[0],
        "repeats": repeats,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats (< 1 minute once compiled)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--scenario", default=DEFAULT_SCENARIO, help="scenario file or built-in name")
    args = ap.parse_args()
    repeats = 3 if args.quick else 5
    budget = 20_000 if args.quick else 200_000  # agent-steps per timed block
    rows = []
    env = None
    for n in (1, 64, 1024):
        steps = max(20, min(2000, math.ceil(budget / n)))
        row, env = bench_vector(args.scenario, n, steps, repeats)
        rows.append(row)
    peer = bench_highway(20 if args.quick else 100, repeats)
    if peer:
        rows.append(peer)
    print_table(
        "Controlled-agent steps per second (median; one process, one core)",
        rows,
        ["system", "instances", "actors_per_instance", "steps", "wall_s", "agent_steps_per_s", "us_per_agent_step"],
    )
    assert env is not None
    split = breakdown(env, max(20, math.ceil(budget / env.num_envs)), repeats)
    print_table(
        f"Where the time goes at {env.num_envs} instances (us per agent-step, median)",
        split,
        ["part", "us_per_agent_step"],
    )
    objs = bench_objects(env, repeats)
    print_table(
        "Object-list observation: Numba kernel vs plain NumPy",
        objs,
        ["impl", "instances", "us_per_instance", "same_result"],
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
