"""Kinematic bicycle step: simcore's Numba kernel vs the same model in NumPy vs CommonRoad KS.

    python tools/bench/kinematic.py [--quick] [--json FILE]

One call advances N vehicles by one 0.05 s step (a scenario step). The NumPy version is
the same exact-arc update written with array operations; CommonRoad's
``vehicle_dynamics_ks`` (pure Python, Euler, one vehicle per call) is the peer, looped over
the vehicles. Reports vehicle-steps/s (medians) and checks that NumPy and Numba agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore.dynamics.kinematic_kernels import step_kinematic

DT = 0.05
L = 2.8


def make_state(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.uniform(-100, 100, n),
        "y": rng.uniform(-100, 100, n),
        "yaw": rng.uniform(-3, 3, n),
        "speed": rng.uniform(0, 20, n),
        "steer": rng.uniform(-0.3, 0.3, n),
        "accel": np.zeros(n),
        "u_a": rng.uniform(-3, 2, n),
        "u_d": rng.uniform(-0.4, 0.4, n),
    }


def numpy_step(s: dict[str, np.ndarray], max_steer: float, rate: float, a_max: float, b_max: float) -> None:
    """The kernel's update in NumPy (same limits, exact arc for constant curvature)."""
    target = np.clip(s["u_d"], -max_steer, max_steer)
    d = s["steer"] + np.clip(target - s["steer"], -rate * DT, rate * DT)
    a = np.clip(s["u_a"], -b_max, a_max)
    v0 = s["speed"]
    v1 = v0 + a * DT
    stop = v1 < 0
    dist = np.where(stop, np.where(a < 0, v0 * v0 / (2 * np.maximum(-a, 1e-300)), 0.0), v0 * DT + 0.5 * a * DT * DT)
    v1 = np.maximum(v1, 0.0)
    kappa = np.tan(d) / L
    dpsi = kappa * dist
    small = np.abs(dpsi) < 1e-9
    safe_k = np.where(small, 1.0, kappa)
    yaw = s["yaw"]
    mid = yaw + 0.5 * dpsi
    s["x"] = np.where(small, s["x"] + dist * np.cos(mid), s["x"] + (np.sin(yaw + dpsi) - np.sin(yaw)) / safe_k)
    s["y"] = np.where(small, s["y"] + dist * np.sin(mid), s["y"] - (np.cos(yaw + dpsi) - np.cos(yaw)) / safe_k)
    ny = yaw + dpsi
    s["yaw"] = np.arctan2(np.sin(ny), np.cos(ny))
    s["accel"] = (v1 - v0) / DT
    s["speed"] = v1
    s["steer"] = d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    sizes = (1, 100, 1000) if args.quick else (1, 100, 10_000)
    steps = 100 if args.quick else 400
    repeats = 3 if args.quick else 5
    max_steer, rate, a_max, b_max = 0.6, 0.8, 3.0, 8.0
    rows = []
    for n in sizes:
        st = make_state(n)
        params = [np.full(n, v) for v in (L, max_steer, rate, a_max, b_max, 60.0)]
        active = np.ones(n, dtype=np.bool_)
        idx = np.arange(n, dtype=np.int64)

        def run_numba(st=st, params=params, active=active, idx=idx) -> None:
            for _ in range(steps):
                step_kinematic(
                    st["x"],
                    st["y"],
                    st["yaw"],
                    st["speed"],
                    st["steer"],
                    st["accel"],
                    active,
                    idx,
                    *params,
                    st["u_a"],
                    st["u_d"],
                    DT,
                )

        def run_numpy(st=st) -> None:
            for _ in range(steps):
                numpy_step(st, max_steer, rate, a_max, b_max)

        # Same model: one step from the same state agrees to rounding.
        a, b = make_state(n, 1), make_state(n, 1)
        step_kinematic(
            a["x"],
            a["y"],
            a["yaw"],
            a["speed"],
            a["steer"],
            a["accel"],
            active,
            idx,
            *params,
            a["u_a"],
            a["u_d"],
            DT,
        )
        numpy_step(b, max_steer, rate, a_max, b_max)
        for k in ("x", "y", "yaw", "speed", "steer"):
            np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-9)
        run_numba()
        for name, fn in (("simcore Numba kernel", run_numba), ("NumPy (same model)", run_numpy)):
            med, _ = median_time(fn, repeats)
            rows.append(
                {
                    "impl": name,
                    "vehicles": n,
                    "vehicle_steps_per_s": n * steps / med,
                    "us_per_call": med / steps * 1e6,
                }
            )
        if n <= 100:
            try:
                from vehiclemodels.parameters_vehicle2 import parameters_vehicle2
                from vehiclemodels.vehicle_dynamics_ks import vehicle_dynamics_ks
            except ImportError:
                continue
            p = parameters_vehicle2()
            xs = [[st["x"][i], st["y"][i], st["steer"][i], st["speed"][i], st["yaw"][i]] for i in range(n)]
            us = [[0.1, float(st["u_a"][i])] for i in range(n)]
            cr_steps = max(10, steps // 4)

            def run_cr(xs=xs, us=us, p=p, cr_steps=cr_steps) -> None:
                for _ in range(cr_steps):
                    for i in range(len(xs)):
                        f = vehicle_dynamics_ks(xs[i], us[i], p)
                        xs[i] = [xs[i][k] + DT * f[k] for k in range(5)]

            med, _ = median_time(run_cr, repeats)
            rows.append(
                {
                    "impl": "CommonRoad KS (Python, Euler)",
                    "vehicles": n,
                    "vehicle_steps_per_s": n * cr_steps / med,
                    "us_per_call": med / cr_steps * 1e6,
                }
            )
    print_table(
        "Kinematic bicycle, one 0.05 s step of N vehicles per call (medians)",
        rows,
        ["impl", "vehicles", "vehicle_steps_per_s", "us_per_call"],
    )
    write_json(args.json, "kinematic", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
