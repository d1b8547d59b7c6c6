"""Motion-cueing compute time per physics step: simcore's kernels vs the same steps in plain NumPy.

    python tools/bench/cueing.py [--quick] [--json FILE]

One step is what the drive loop does every physics tick (1 kHz): the cueing filter (classical
washout or MPC) from the head's specific force and angular rate, then the Stewart platform's
command (inverse kinematics, actuator limits, Newton forward kinematics). The NumPy column runs
the same classical bank and kinematics with array operations and ``np.linalg.solve``. No
open-source Python peer of a washout + hexapod chain was found to compare against. Reports the
median microseconds per step over several repeats and checks that both give the same pose.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore.cueing.mpc import MpcCueing
from simcore.cueing.platform import load_platform
from simcore.cueing.stewart import StewartPlatform
from simcore.cueing.washout import ClassicalWashout
from simcore.cueing.washout_kernels import CH_LPX, CH_LPY, CH_PITCH, CH_ROLL, CH_YAW, G, tilt_track

DT = 1e-3


def inputs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A lively urban drive: braking / accelerating, cornering, bumps."""
    t = np.arange(n) * DT
    f = np.column_stack([2.5 * np.sin(0.8 * t), 2.0 * np.sin(0.5 * t + 1), G + 0.3 * np.sin(9 * t)])
    w = np.column_stack([0.02 * np.sin(3 * t), 0.03 * np.sin(2 * t), 0.25 * np.sin(0.5 * t + 1)])
    return f, w


class NumpyCueing:
    """The classical washout + Stewart IK / limits / FK in plain NumPy (same equations)."""

    def __init__(self, cw: ClassicalWashout, sp: StewartPlatform) -> None:
        self.cw, self.sp = cw, sp
        b = cw.bank
        self.a, self.b, self.c, self.d = b.a, b.b, b.c, b.d
        self.x = np.zeros_like(b.x)
        self.tilt = np.zeros(4)
        self.length = sp.neutral_lengths.copy()
        self.vel = np.zeros(6)
        self.pose = np.zeros(6)

    def _legs(self, pose):
        r, p, y = pose[3:]
        cr, sr, cp, sp_, cy, sy = np.cos(r), np.sin(r), np.cos(p), np.sin(p), np.cos(y), np.sin(y)
        rot = np.array(
            [
                [cy * cp, cy * sp_ * sr - sy * cr, cy * sp_ * cr + sy * sr],
                [sy * cp, sy * sp_ * sr + cy * cr, sy * sp_ * cr - cy * sr],
                [-sp_, cp * sr, cp * cr],
            ]
        )
        q = self.sp.plat @ rot.T
        legs = q + pose[:3] + np.array([0.0, 0.0, self.sp.h0]) - self.sp.base
        return legs, np.linalg.norm(legs, axis=1), q

    def step(self, f, w):
        cw = self.cw
        u = np.array(
            [
                cw.k_t[0] * f[0],
                cw.k_t[1] * f[1],
                cw.k_t[2] * (f[2] - G),
                cw.k_tilt * f[0],
                cw.k_tilt * f[1],
                cw.k_r[0] * w[0],
                cw.k_r[1] * w[1],
                cw.k_r[2] * w[2],
            ]
        )
        y = np.einsum("ki,ki->k", self.c, self.x) + self.d * u
        self.x = np.einsum("kij,kj->ki", self.a, self.x) + self.b * u[:, None]
        s = np.sin(cw.max_tilt)
        target = np.array([np.arcsin(np.clip(y[CH_LPY] / G, -s, s)), -np.arcsin(np.clip(y[CH_LPX] / G, -s, s))])
        for i in range(2):
            self.tilt[i], self.tilt[i + 2] = tilt_track(
                self.tilt[i], self.tilt[i + 2], target[i], cw.max_tilt_rate, cw.max_tilt_accel, DT
            )
        want = np.array([y[0], y[1], y[2], y[CH_ROLL] + self.tilt[0], y[CH_PITCH] + self.tilt[1], y[CH_YAW]])
        sp = self.sp
        _, lw, _ = self._legs(want)
        ad = sp.a_max * DT
        hi = np.minimum.reduce(
            [
                np.full(6, sp.v_max),
                self.vel + ad,
                -ad + np.sqrt(ad * ad + 2 * sp.a_max * np.maximum(sp.l_max - self.length, 0)),
            ]
        )
        lo = np.maximum.reduce(
            [
                np.full(6, -sp.v_max),
                self.vel - ad,
                ad - np.sqrt(ad * ad + 2 * sp.a_max * np.maximum(self.length - sp.l_min, 0)),
            ]
        )
        self.vel = np.clip((lw - self.length) / DT, lo, hi)
        self.length = np.clip(self.length + self.vel * DT, sp.l_min, sp.l_max)
        for _ in range(30):  # Newton with a central-difference Jacobian
            _, ln, _ = self._legs(self.pose)
            res = self.length - ln
            if np.abs(res).max() <= 1e-13:
                break
            jac = np.empty((6, 6))
            for k in range(6):
                e = np.zeros(6)
                e[k] = 1e-7
                jac[:, k] = (self._legs(self.pose + e)[1] - self._legs(self.pose - e)[1]) / 2e-7
            self.pose = self.pose + np.linalg.solve(jac, res)
        return self.pose


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps (under a minute)")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args()
    n, repeats = (1000, 5) if args.quick else (10000, 7)
    spec = load_platform("hexapod_6dof")
    f, w = inputs(n)

    def run(make):
        cue, sp = make()  # built once, outside the timing (filter design, kinematics set-up)

        def go():
            cue.reset()
            if sp is not None:
                sp.reset()
            for k in range(n):
                pose = cue.step(f[k], w[k])
                if sp is not None:
                    sp.command(pose, DT)

        go()  # compile / warm
        return go

    cases = {
        "classical washout only": lambda: (ClassicalWashout(spec, DT), None),
        "mpc only": lambda: (MpcCueing(spec, DT), None),
        "classical + stewart": lambda: (ClassicalWashout(spec, DT), StewartPlatform(spec)),
        "mpc + stewart": lambda: (MpcCueing(spec, DT), StewartPlatform(spec)),
    }
    rows = []
    for name, make in cases.items():
        med, _ = median_time(run(make), repeats)
        rows.append({"case": name, "impl": "simcore (numba)", "us_per_step": med / n * 1e6})
    cw, sp = ClassicalWashout(spec, DT), StewartPlatform(spec)
    ref = NumpyCueing(ClassicalWashout(spec, DT), StewartPlatform(spec))
    worst = 0.0
    for k in range(n):
        a = sp.command(cw.step(f[k], w[k]), DT)
        worst = max(worst, float(np.abs(a - ref.step(f[k], w[k])).max()))

    def numpy_run():
        r = NumpyCueing(cw, sp)  # construction only copies references
        for k in range(n):
            r.step(f[k], w[k])

    med, _ = median_time(numpy_run, max(repeats // 2, 2))
    rows.append({"case": "classical + stewart", "impl": "plain numpy", "us_per_step": med / n * 1e6})
    print_table(
        f"cueing step at {1 / DT:.0f} Hz ({n} steps, median of {repeats})", rows, ["case", "impl", "us_per_step"]
    )
    print(f"numba vs numpy pose: max |difference| {worst:.2e}")
    write_json(args.json, "cueing", rows, {"steps": n, "max_pose_difference": worst})


if __name__ == "__main__":
    main()
