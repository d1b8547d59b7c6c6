"""Vehicle dynamics kernels: simcore's Numba kernels vs the same models in NumPy vs CommonRoad's Python.

    python tools/bench/dynamics.py [--quick] [--json FILE]

Reports vehicle-steps/s (medians) for 1, 100, 10 000 and 100 000 vehicles (``--quick``: up to
10 000) and each model:

* ``ks_fast``: trig-free kinematic kernel (``step_kinematic_fast``), 0.05 s steps, all steps in one call.
* ``ks``: exact-arc kinematic kernel (``step_kinematic``, the runner's), one call per 0.05 s step.
* ``pedestrian``: the unicycle walker kernel (``step_walker``), one call per 0.05 s step.
* ``st_linear`` / ``st_pacejka``: dynamic single-track (``step_single_track``), semi-implicit Euler;
  ``st_pacejka_rk4`` with RK4. One vehicle-step is one 1 ms integration step (a call advances 10 ms
  in 10 sub-steps), the unit the reference package's Euler steps are counted in.

Next to each: a plain NumPy implementation of the same model (vectorised over vehicles), and
CommonRoad's ``vehicle_dynamics_ks`` / ``vehicle_dynamics_st`` (pure Python, explicit Euler, one
vehicle per call, looped; measured up to 100 vehicles since it is linear in N). Ratios are
Numba / NumPy and Numba / reference. The NumPy ports are checked against the kernels (max |dx|).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import median_time, print_table, write_json

from simcore.dynamics import single_track_kernels as stk
from simcore.dynamics.kinematic_kernels import step_kinematic, step_kinematic_fast
from simcore.dynamics.params import dynamics_params, get_vehicle
from simcore.dynamics.pedestrian_kernels import step_walker

DT_KS = 0.05
DT_ST = 0.01
SUB_ST = 10
VEHICLE = "commonroad_bmw_320i"


def _row():
    return dynamics_params(get_vehicle(VEHICLE))


# ------------------------------------------------------------------ kinematic


def ks_state(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    yaw = rng.uniform(-3, 3, n)
    return {
        "x": rng.uniform(-100, 100, n),
        "y": rng.uniform(-100, 100, n),
        "yaw": yaw,
        "hx": np.cos(yaw),
        "hy": np.sin(yaw),
        "speed": rng.uniform(0, 20, n),
        "steer": np.zeros(n),
        "curv": np.zeros(n),
        "accel": np.zeros(n),
        "u_a": rng.uniform(-3, 2, n),
        "u_d": rng.uniform(-0.4, 0.4, n),
    }


def numpy_ks_step(s: dict[str, np.ndarray], wb: float, a_max: float, b_max: float, v_max: float) -> None:
    """Exact-arc kinematic bicycle step in NumPy (steering applied directly, as the fast kernel's curvature)."""
    a = np.clip(s["u_a"], -b_max, a_max)
    v0 = s["speed"]
    v1 = np.clip(v0 + a * DT_KS, 0.0, v_max)
    t_move = np.where(a < 0, np.minimum(DT_KS, v0 / np.maximum(-a, 1e-300)), DT_KS)
    d = 0.5 * (v0 + v1) * t_move
    kappa = np.tan(s["u_d"]) / wb
    th = kappa * d
    yaw = s["yaw"]
    small = np.abs(th) < 1e-9
    safe = np.where(small, 1.0, kappa)
    s["x"] = np.where(small, s["x"] + d * np.cos(yaw + th / 2), s["x"] + (np.sin(yaw + th) - np.sin(yaw)) / safe)
    s["y"] = np.where(small, s["y"] + d * np.sin(yaw + th / 2), s["y"] - (np.cos(yaw + th) - np.cos(yaw)) / safe)
    s["yaw"] = yaw + th
    s["speed"] = v1


def bench_ks(n: int, steps: int, repeats: int, p_cr, with_ref: bool) -> list[dict]:
    wb = p_cr.a + p_cr.b
    a_max, b_max, v_max = 3.0, 8.0, 40.0
    rows = []
    # fast kernel: all steps inside one call
    s = ks_state(n)
    s["curv"] = np.tan(s["u_d"]) / wb
    act = np.ones(n, dtype=np.bool_)
    lims = [np.full(n, v) for v in (math.tan(1.0) / wb, 1e9, a_max, b_max, v_max)]
    kap = np.tan(s["u_d"]) / wb

    def fast():
        step_kinematic_fast(
            s["x"], s["y"], s["hx"], s["hy"], s["speed"], s["curv"], act, *lims, s["u_a"], kap, DT_KS, steps
        )

    fast()
    t_fast, _ = median_time(fast, repeats)
    # exact kernel, one call per step (the runner's path)
    e = ks_state(n)
    e["steer"] = e["u_d"].copy()
    idx = np.arange(n, dtype=np.int64)
    plim = [np.full(n, v) for v in (wb, 1.0, 1e9, a_max, b_max, v_max)]

    def exact():
        for _ in range(steps):
            step_kinematic(
                e["x"], e["y"], e["yaw"], e["speed"], e["steer"], e["accel"], act, idx, *plim, e["u_a"], e["u_d"], DT_KS
            )

    exact()
    t_exact, _ = median_time(exact, repeats)
    # NumPy
    m = ks_state(n)

    def npy():
        for _ in range(steps):
            numpy_ks_step(m, wb, a_max, b_max, v_max)

    t_np, _ = median_time(npy, repeats)
    # agreement: one fresh step each from the same state
    a1, a2 = ks_state(n, 5), ks_state(n, 5)
    a1["curv"] = np.tan(a1["u_d"]) / wb
    step_kinematic_fast(
        a1["x"],
        a1["y"],
        a1["hx"],
        a1["hy"],
        a1["speed"],
        a1["curv"],
        act,
        *lims,
        a1["u_a"],
        a1["curv"].copy(),
        DT_KS,
        1,
    )
    numpy_ks_step(a2, wb, a_max, b_max, v_max)
    diff = float(max(np.abs(a1["x"] - a2["x"]).max(), np.abs(a1["y"] - a2["y"]).max()))
    t_ref = None
    if with_ref:
        from vehiclemodels.vehicle_dynamics_ks import vehicle_dynamics_ks

        xs = [[0.0, 0.0, 0.1, 10.0, 0.0] for _ in range(n)]

        def ref():
            for _ in range(steps):
                for k in range(n):
                    f = vehicle_dynamics_ks(xs[k], [0.0, 0.5], p_cr)
                    xs[k] = [xi + DT_KS * fi for xi, fi in zip(xs[k], f, strict=True)]

        t_ref, _ = median_time(ref, max(1, repeats // 2))
    vs = n * steps
    for name, t in (("ks_fast", t_fast), ("ks", t_exact)):
        rows.append(
            _row_of(name, n, vs / t, vs / t_np, vs / t_ref if t_ref else None, diff if name == "ks_fast" else None)
        )
    return rows


# ------------------------------------------------------------------ single track


def st_state(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = np.zeros((7, n))
    s[0] = rng.uniform(-100, 100, n)
    s[1] = rng.uniform(-100, 100, n)
    s[2] = rng.uniform(-3, 3, n)
    s[3] = rng.uniform(0.0, 30.0, n)
    u = np.zeros((3, n))
    u[0] = rng.uniform(0, 0.6, n)
    u[1] = np.where(rng.uniform(size=n) < 0.2, rng.uniform(0, 0.5, n), 0.0)
    u[2] = rng.uniform(-0.3, 0.3, n)
    return s, u


def numpy_st_substep(s: np.ndarray, p: np.ndarray, mu: np.ndarray, u: np.ndarray, tyre: int, h: float) -> None:
    """The kernel's pedal-input semi-implicit Euler sub-step in NumPy (flat road), same equations."""
    g = stk.G
    col = {k: p[:, getattr(stk, k)] for k in dir(stk) if k.startswith("P_")}
    x, y, yaw, vx, vy, r, dl = s
    m, lf, lr, hcg = col["P_MASS"], col["P_LF"], col["P_LR"], col["P_HCG"]
    wb = lf + lr
    thr = np.clip(u[0], 0, 1)
    brk = np.clip(u[1], 0, 1)
    tgt = np.clip(u[2], -1, 1) * col["P_MAX_STEER"]
    vref = col["P_STEER_VREF"]
    lim = np.where(vref > 0, col["P_MAX_STEER"] / (1 + (vx / np.where(vref > 0, vref, 1.0)) ** 2), col["P_MAX_STEER"])
    rate = col["P_MAX_STEER_RATE"]
    d_dl = np.clip((np.clip(tgt, -lim, lim) - dl) / np.maximum(col["P_STEER_TAU"], h), -rate, rate)
    eps = np.maximum(stk.V_STOP, col["P_F_BRAKE"] / m * h)
    sv = np.clip(vx / eps, -1, 1)
    f_drive = thr * np.minimum(col["P_F_DRIVE"], col["P_P_DRIVE"] / np.maximum(np.abs(vx), stk.V_POWER_FLOOR))
    f_drive = f_drive * np.clip(col["P_MAX_SPEED"] - vx, 0, 1)
    f_brake = brk * col["P_F_BRAKE"] * sv
    f_roll = col["P_C_RR"] * m * g * sv
    f_aero = 0.5 * stk.RHO_AIR * col["P_CDA"] * vx * np.abs(vx)
    sd, sb = col["P_DRIVE_FRONT"], col["P_BRAKE_FRONT"]
    fxf = sd * f_drive - sb * f_brake
    fxr = (1 - sd) * f_drive - (1 - sb) * f_brake
    lat = m * r * vx * hcg / col["P_TRACK"] / wb
    ks = col["P_LOAD_SENS"]

    def grip(ax):
        fzf = np.maximum(m * (g * lr - ax * hcg) / wb, 0)
        fzr = np.maximum(m * (g * lf + ax * hcg) / wb, 0)
        fz0 = 0.25 * m * g
        dff = np.clip(lat * lr, -0.5 * fzf, 0.5 * fzf)
        drr = np.clip(lat * lf, -0.5 * fzr, 0.5 * fzr)

        def d(w):
            return w * np.maximum(0, 1 + ks * (w - fz0) / fz0)

        return fzf, fzr, mu * (d(0.5 * fzf - dff) + d(0.5 * fzf + dff)), mu * (d(0.5 * fzr - drr) + d(0.5 * fzr + drr))

    ax = np.clip((fxf + fxr - f_aero) / m, -mu * g, mu * g)
    fzf, fzr, d_f, d_r = grip(ax)
    fxf, fxr = np.clip(fxf, -d_f, d_f), np.clip(fxr, -d_r, d_r)
    fzf, fzr, d_f, d_r = grip((fxf + fxr - f_aero) / m)
    fxf, fxr = np.clip(fxf, -d_f, d_f), np.clip(fxr, -d_r, d_r)
    avx = np.abs(vx)
    a_f = dl - np.arctan2(vy + lf * r, avx)
    a_r = -np.arctan2(vy - lr * r, avx)
    if tyre == stk.TYRE_LINEAR:
        fyf = mu * col["P_CSF"] * fzf * a_f
        fyr = mu * col["P_CSR"] * fzr * a_r
    else:
        c, e = col["P_MF_C"], col["P_MF_E"]

        def mf(a, cs):
            ba = cs / c * a
            return np.sin(c * np.arctan(ba - e * (ba - np.arctan(ba))))

        with np.errstate(invalid="ignore", divide="ignore"):
            ef = np.where(d_f > 0, 1 - (fxf / d_f) ** 2, 0.0)
            er = np.where(d_r > 0, 1 - (fxr / d_r) ** 2, 0.0)
        fyf = d_f * mf(a_f, col["P_CSF"]) * np.sqrt(np.maximum(ef, 0))
        fyr = d_r * mf(a_r, col["P_CSR"]) * np.sqrt(np.maximum(er, 0))
    sdl, cd = np.sin(dl), np.cos(dl)
    f_latf = fxf * sdl + fyf * cd
    dvx = (fxf * cd - fyf * sdl + fxr - f_aero - f_roll) / m + r * vy
    dvy = (f_latf + fyr) / m - r * vx
    dr = (lf * f_latf - lr * fyr) / col["P_IZZ"]
    w = np.clip((avx - col["P_V_BLEND_LO"]) / (col["P_V_BLEND_HI"] - col["P_V_BLEND_LO"]), 0, 1)
    w = w * w * (3 - 2 * w)
    dvx_k = (fxf + fxr - f_aero - f_roll) / m
    kap = np.tan(dl) / wb
    kmax = mu * g / np.maximum(vx * vx, 1e-12)
    capped = np.abs(kap) > kmax
    kap = np.where(capped, np.sign(kap) * kmax, kap)
    cdot = np.where(capped, 0.0, dvx_k * kap + vx * d_dl / (cd * cd * wb))
    dvy_k = lr * cdot + (vx * kap * lr - vy) / stk.TAU_KINEMATIC
    dr_k = cdot + (vx * kap - r) / stk.TAU_KINEMATIC
    vx1 = vx + h * (w * dvx + (1 - w) * dvx_k)
    vy1 = vy + h * (w * dvy + (1 - w) * dvy_k)
    r1 = r + h * (w * dr + (1 - w) * dr_k)
    yaw1 = yaw + h * r1
    s[0] = x + h * (vx1 * np.cos(yaw1) - vy1 * np.sin(yaw1))
    s[1] = y + h * (vx1 * np.sin(yaw1) + vy1 * np.cos(yaw1))
    s[2] = yaw1
    s[3], s[4], s[5] = vx1, vy1, r1
    s[6] = np.clip(dl + h * d_dl, -col["P_MAX_STEER"], col["P_MAX_STEER"])


def bench_st(n: int, calls: int, repeats: int, p_cr, with_ref: bool) -> list[dict]:
    row = _row()
    p = np.tile(row, (n, 1))
    mu = np.full(n, 1.0)
    grade = np.zeros(n)
    act = np.ones(n, dtype=np.bool_)
    idx = np.arange(n, dtype=np.int64)
    h = DT_ST / SUB_ST
    rows = []
    t_ref = None
    if with_ref:
        from vehiclemodels.vehicle_dynamics_st import vehicle_dynamics_st

        xs = [[0.0, 0.0, 0.05, 15.0, 0.0, 0.0, 0.0] for _ in range(n)]

        def ref():
            for _ in range(calls * SUB_ST):
                for k in range(n):
                    f = vehicle_dynamics_st(xs[k], [0.0, 0.5], p_cr)
                    xs[k] = [xi + h * fi for xi, fi in zip(xs[k], f, strict=True)]

        t_ref, _ = median_time(ref, max(1, repeats // 2))
    for name, tyre, integ in (
        ("st_linear", stk.TYRE_LINEAR, stk.INTEGRATOR_SEMI_IMPLICIT_EULER),
        ("st_pacejka", stk.TYRE_PACEJKA, stk.INTEGRATOR_SEMI_IMPLICIT_EULER),
        ("st_pacejka_rk4", stk.TYRE_PACEJKA, stk.INTEGRATOR_RK4),
    ):
        s, u = st_state(n)

        def nb(s=s, u=u, tyre=tyre, integ=integ):
            for _ in range(calls):
                stk.step_single_track(s, p, mu, grade, u, act, idx, stk.INPUT_PEDALS, tyre, integ, DT_ST, h)

        nb()
        t_nb, _ = median_time(nb, repeats)
        t_np = diff = None
        if integ == stk.INTEGRATOR_SEMI_IMPLICIT_EULER:
            s2, u2 = st_state(n)

            def npy(s2=s2, u2=u2, tyre=tyre):
                for _ in range(calls * SUB_ST):
                    numpy_st_substep(s2, p, mu, u2, tyre, h)

            t_np, _ = median_time(npy, repeats)
            a, ua = st_state(n, 9)
            b, _ = st_state(n, 9)
            for _ in range(5):
                stk.step_single_track(a, p, mu, grade, ua, act, idx, stk.INPUT_PEDALS, tyre, integ, DT_ST, h)
                for _ in range(SUB_ST):
                    numpy_st_substep(b, p, mu, ua, tyre, h)
            diff = float(np.abs(a[:2] - b[:2]).max())
        vs = n * calls * SUB_ST
        rows.append(_row_of(name, n, vs / t_nb, vs / t_np if t_np else None, vs / t_ref if t_ref else None, diff))
    return rows


# ------------------------------------------------------------------ walkers


def numpy_walker_step(s: dict[str, np.ndarray], lim: tuple[float, ...], dt: float) -> None:
    """The unicycle walker step in NumPy (pedestrian limits: no minimum radius)."""
    v_max, a_max, b_max, w_max, _ = lim
    v0 = s["speed"]
    v1 = np.maximum(v0 + np.clip(np.clip(s["u_v"], 0, v_max) - v0, -b_max * dt, a_max * dt), 0.0)
    d = 0.5 * (v0 + v1) * dt
    err = np.arctan2(np.sin(s["u_y"] - s["yaw"]), np.cos(s["u_y"] - s["yaw"]))
    th = np.clip(err, -w_max * dt, w_max * dt)
    yaw = s["yaw"]
    small = np.abs(th) < 1e-9
    k = np.where(small | (d <= 0), 1.0, th / np.where(d > 0, d, 1.0))
    arc_x = np.where(small, d * np.cos(yaw + th / 2), (np.sin(yaw + th) - np.sin(yaw)) / k)
    arc_y = np.where(small, d * np.sin(yaw + th / 2), -(np.cos(yaw + th) - np.cos(yaw)) / k)
    s["x"] = s["x"] + np.where(d > 0, arc_x, 0.0)
    s["y"] = s["y"] + np.where(d > 0, arc_y, 0.0)
    ny = yaw + th
    s["yaw"] = np.arctan2(np.sin(ny), np.cos(ny))
    s["speed"] = v1


def bench_walker(n: int, steps: int, repeats: int) -> list[dict]:
    from simcore.dynamics.rollouts import WALKER_LIMITS

    lim = WALKER_LIMITS["pedestrian"]

    def state(seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {
            "x": rng.uniform(-50, 50, n),
            "y": rng.uniform(-50, 50, n),
            "yaw": rng.uniform(-3, 3, n),
            "speed": rng.uniform(0, 2, n),
            "u_v": rng.uniform(0, 2.5, n),
            "u_y": rng.uniform(-3, 3, n),
        }

    act = np.ones(n, dtype=np.bool_)
    idx = np.arange(n, dtype=np.int64)
    arrs = [np.full(n, v) for v in lim]
    s = state(0)

    def nb():
        for _ in range(steps):
            step_walker(s["x"], s["y"], s["yaw"], s["speed"], act, idx, *arrs, s["u_v"], s["u_y"], DT_KS)

    nb()
    t_nb, _ = median_time(nb, repeats)
    m = state(0)

    def npy():
        for _ in range(steps):
            numpy_walker_step(m, lim, DT_KS)

    t_np, _ = median_time(npy, repeats)
    a, b = state(3), state(3)
    step_walker(a["x"], a["y"], a["yaw"], a["speed"], act, idx, *arrs, a["u_v"], a["u_y"], DT_KS)
    numpy_walker_step(b, lim, DT_KS)
    diff = float(max(np.abs(a["x"] - b["x"]).max(), np.abs(a["y"] - b["y"]).max()))
    vs = n * steps
    return [_row_of("pedestrian", n, vs / t_nb, vs / t_np, None, diff)]


def _row_of(model, n, nb, npy, ref, diff) -> dict:
    return {
        "model": model,
        "vehicles": n,
        "numba_steps_per_s": nb,
        "numpy_steps_per_s": npy,
        "commonroad_py_steps_per_s": ref,
        "numba/numpy": nb / npy if npy else None,
        "numba/commonroad": nb / ref if ref else None,
        "max_abs_diff_m": diff,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    from vehiclemodels.parameters_vehicle2 import parameters_vehicle2

    p_cr = parameters_vehicle2()
    sizes = (1, 100, 10_000) if args.quick else (1, 100, 10_000, 100_000)
    repeats = 3 if args.quick else 5
    rows = []
    for n in sizes:
        work = max(1, (200_000 if args.quick else 1_000_000) // n)  # keep each timing at a similar size
        rows += bench_ks(n, min(work, 2000), repeats, p_cr, with_ref=n <= 100)
        rows += bench_st(n, max(1, min(work // SUB_ST, 200)), repeats, p_cr, with_ref=n <= 100)
        rows += bench_walker(n, min(work, 2000), repeats)
    rows.sort(key=lambda r: (r["model"], r["vehicles"]))
    cols = list(rows[0])
    print_table("Vehicle dynamics: vehicle-steps/s (one core; st: 1 ms integration steps)", rows, cols)
    write_json(args.json, "dynamics", rows, {"dt_ks_s": DT_KS, "st_substep_s": DT_ST / SUB_ST, "vehicle": VEHICLE})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
