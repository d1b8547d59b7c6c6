"""Public single-vehicle rollout over the dynamics kernels: ``rollout(model, vehicle, state0, controls, dt)``."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from simcore._types import F64
from simcore.dynamics import single_track_kernels as stk
from simcore.dynamics.kinematic_kernels import step_kinematic
from simcore.dynamics.params import VehicleParams, VehicleSpec, dynamics_params, get_vehicle
from simcore.dynamics.pedestrian_kernels import step_walker

#: (max speed m/s, max accel, max decel m/s^2, max turn rate rad/s, min turn radius m) per walker kind.
WALKER_LIMITS = {
    "pedestrian": (3.0, 1.5, 3.0, 3.0, 0.0),  # brisk run, about 170 deg/s turns, turns on the spot
    "cyclist": (10.0, 1.5, 4.0, 1.0, 3.0),  # 36 km/h, ~3 m minimum radius from the bar lock
}

STATE_LAYOUTS = {
    ("ks", "simcore"): ("x", "y", "yaw", "speed", "steer"),
    ("ks", "commonroad"): ("x", "y", "delta", "v", "psi"),
    ("st", "simcore"): ("x", "y", "yaw", "vx", "vy", "yaw_rate", "steer"),
    ("st", "commonroad"): ("x", "y", "delta", "v", "psi", "psi_dot", "beta"),
    ("pedestrian", "simcore"): ("x", "y", "yaw", "speed"),
    ("cyclist", "simcore"): ("x", "y", "yaw", "speed"),
}

_INPUTS = {
    "pedals": stk.INPUT_PEDALS,
    "accel_steer": stk.INPUT_ACCEL_STEER,
    "accel_curvature": stk.INPUT_ACCEL_CURVATURE,
}
_TYRES = {"linear": stk.TYRE_LINEAR, "pacejka": stk.TYRE_PACEJKA}
_INTEGRATORS = {
    "rk4": stk.INTEGRATOR_RK4,
    "semi_implicit_euler": stk.INTEGRATOR_SEMI_IMPLICIT_EULER,
    "euler": stk.INTEGRATOR_EULER,
}


def _spec(vehicle: str | VehicleSpec | VehicleParams | F64 | None) -> VehicleSpec | None:
    if isinstance(vehicle, str):
        return get_vehicle(vehicle)
    return vehicle if isinstance(vehicle, VehicleSpec) else None


def _param_row(vehicle: str | VehicleSpec | F64) -> tuple[F64, float]:
    """Parameter row (N_PARAMS,) and the vehicle's nominal friction."""
    spec = _spec(vehicle)
    if spec is not None:
        return dynamics_params(spec), (spec.tyres.friction if spec.tyres else 1.0)
    row = np.asarray(vehicle, dtype=np.float64)
    if row.shape != (stk.N_PARAMS,):
        raise ValueError(f"vehicle parameter row must have shape ({stk.N_PARAMS},), got {row.shape}")
    return row, 1.0


def rollout(
    model: Literal["ks", "st", "pedestrian", "cyclist"],
    vehicle: str | VehicleSpec | VehicleParams | F64 | None,
    state0: F64 | tuple[float, ...],
    controls: F64,
    dt: float,
    convention: Literal["simcore", "commonroad"] = "simcore",
    *,
    inputs: Literal["pedals", "accel_steer", "accel_curvature"] = "pedals",
    tyre: Literal["linear", "pacejka"] = "pacejka",
    integrator: Literal["rk4", "semi_implicit_euler", "euler"] = "rk4",
    dt_max: float = 1e-3,
    friction: float | None = None,
    grade: float = 0.0,
) -> F64:
    """Roll one vehicle (or walker) forward with held controls per step; returns the (T+1, n_state) history.

    Layouts (``STATE_LAYOUTS``; docs/dynamics.md has units and frames):
        ks/simcore:  state (x, y, yaw, speed, steer) at the rear axle; controls (T, 2) (accel m/s^2,
                     road-wheel angle rad); exact arc per step (``step_kinematic``), no sub-steps.
        ks/commonroad: CommonRoad KS state (x, y, delta, v, psi); controls (T, 2) (steering velocity
                     rad/s, acceleration m/s^2) with CommonRoad's input constraints.
        st/simcore:  state (x, y, yaw, vx, vy, yaw_rate, steer) at the CoG; controls (T, 3) pedals
                     (throttle, brake, wheel -1..1) or (T, 2) (accel, steer angle) / (accel, curvature).
        st/commonroad: CommonRoad ST state (x, y, delta, v, psi, psi_dot, beta); controls as ks/commonroad;
                     linear tyres, friction defaults to the vehicle's (p_dy1 for the CommonRoad sets).
        pedestrian/cyclist: state (x, y, yaw, speed); controls (T, 2) (target speed, target heading).

    Args:
        model: "ks", "st", "pedestrian" or "cyclist".
        vehicle: a name from vehicles/, a VehicleSpec, a (N_PARAMS,) row (st) or VehicleParams (ks);
            ignored for walkers.
        state0: initial state in the layout above. controls: (T, k) array. dt: step (s).
        convention: "simcore" or "commonroad" (ks and st only).
        inputs, tyre: st/simcore only. integrator: "rk4", "semi_implicit_euler" (st/simcore) or
            "euler" (commonroad). dt_max: largest sub-step (s) for st and commonroad models.
        friction: road friction (default: the vehicle's nominal). grade: road grade angle (rad, uphill +).
    """
    controls = np.atleast_2d(np.asarray(controls, dtype=np.float64))
    x0 = np.asarray(state0, dtype=np.float64)
    layout = STATE_LAYOUTS.get((model, convention))
    if layout is None:
        raise ValueError(f"no model {model!r} with convention {convention!r}; have {sorted(STATE_LAYOUTS)}")
    if x0.shape != (len(layout),):
        raise ValueError(f"state0 for {model}/{convention} must be {layout}")
    n_t = controls.shape[0]
    out = np.empty((n_t + 1, len(layout)))
    out[0] = x0
    one = np.ones(1, dtype=np.bool_)
    idx = np.zeros(1, dtype=np.int64)
    n_sub = max(1, math.ceil(dt / dt_max - 1e-9)) if dt_max > 0 else 1

    if model in WALKER_LIMITS:
        s = [np.array([v]) for v in x0]
        lim = [np.array([v]) for v in WALKER_LIMITS[model]]
        us, uy = np.zeros(1), np.zeros(1)
        for t in range(n_t):
            us[0], uy[0] = controls[t, 0], controls[t, 1]
            step_walker(*s, one, idx, *lim, us, uy, dt)  # type: ignore[call-arg]
            out[t + 1] = [a[0] for a in s]
        return out

    if model == "ks" and convention == "simcore":
        spec = _spec(vehicle)
        vp = spec.si() if spec is not None else vehicle
        if not isinstance(vp, VehicleParams):
            raise TypeError("ks/simcore needs a vehicle name, VehicleSpec or VehicleParams")
        s = [np.array([v]) for v in x0]
        acc = np.zeros(1)
        lim = [np.array([v]) for v in (vp.wheelbase, vp.max_steer, vp.max_steer_rate, vp.max_accel, vp.max_decel)]
        vmax = np.array([vp.max_speed])
        ua, ud = np.zeros(1), np.zeros(1)
        for t in range(n_t):
            ua[0], ud[0] = controls[t, 0], controls[t, 1]
            step_kinematic(*s, acc, one, idx, *lim, vmax, ua, ud, dt)  # type: ignore[call-arg]
            out[t + 1] = [a[0] for a in s]
        return out

    row, mu0 = _param_row(vehicle)  # type: ignore[arg-type]
    p = row[None, :].copy()
    mu = np.array([mu0 if friction is None else friction])
    state = x0.reshape(-1, 1).copy()
    if convention == "commonroad":
        model_id = stk.MODEL_CR_KS if model == "ks" else stk.MODEL_CR_ST
        integ = _INTEGRATORS[integrator]
        if integ == stk.INTEGRATOR_SEMI_IMPLICIT_EULER:
            raise ValueError("commonroad convention integrates with 'rk4' or 'euler'")
        u = np.zeros((2, 1))
        scratch = np.zeros((6, len(layout)))
        for t in range(n_t):
            u[:, 0] = controls[t, :2]
            stk.step_commonroad(model_id, state, p, mu, u, one, idx, integ, dt, n_sub, scratch)
            out[t + 1] = state[:, 0]
        return out

    integ = _INTEGRATORS[integrator]
    if integ == stk.INTEGRATOR_EULER:
        raise ValueError("st/simcore integrates with 'rk4' or 'semi_implicit_euler'")
    mode = _INPUTS[inputs]
    u = np.zeros((3, 1))
    gr = np.array([grade])
    k = min(controls.shape[1], 3)
    for t in range(n_t):
        u[:k, 0] = controls[t, :k]
        stk.step_single_track(state, p, mu, gr, u, one, idx, mode, _TYRES[tyre], integ, dt, dt / n_sub)
        out[t + 1] = state[:, 0]
    return out
