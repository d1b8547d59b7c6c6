"""The ego's vehicle dynamics at the physics rate: simcore's dynamic single-track model, one row.

The engine keeps vehicles at the rear-axle centre; the model integrates at the centre of
gravity, l_r ahead of it along the heading (same convention as
``runner.step_kernels.step_single_track_rows``). Each ``step`` is one fixed step of ``dt``
(s) with Magic-Formula tyres and semi-implicit Euler, and yields the CoG acceleration in the
body frame (a_x = dvx/dt - r vy, a_y = dvy/dt + r vx) and the yaw acceleration that the motion
cueing needs.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._types import F64
from simcore.dynamics.single_track_kernels import (
    INTEGRATOR_SEMI_IMPLICIT_EULER,
    N_PARAMS,
    P_LR,
    P_MAX_STEER,
    TYRE_PACEJKA,
    step_single_track,
)


class EgoDynamics:
    """One vehicle on the dynamic single-track model, stepped by ``dt`` (s).

    Attributes:
        s: (7, 1) CoG state x, y, yaw, vx, vy, r, delta. p: (1, N_PARAMS) parameters.
        ax, ay: last step's body-frame CoG acceleration (m/s^2). r_dot: yaw acceleration (rad/s^2).
    """

    def __init__(self, params: F64, dt: float, friction: float = 1.0, grade: float = 0.0) -> None:
        self.p = np.ascontiguousarray(np.asarray(params, dtype=np.float64).reshape(1, N_PARAMS))
        self.dt = float(dt)
        self.s = np.zeros((7, 1))
        self.mu = np.array([friction])
        self.grade = np.array([grade])
        self.u = np.zeros((3, 1))
        self.active = np.ones(1, dtype=np.bool_)
        self.idx = np.zeros(1, dtype=np.int64)
        self.ax = self.ay = self.r_dot = 0.0

    @property
    def lr(self) -> float:
        """CoG to rear axle (m)."""
        return float(self.p[0, P_LR])

    @property
    def max_steer(self) -> float:
        """Road-wheel angle limit (rad)."""
        return float(self.p[0, P_MAX_STEER])

    def set_rear_axle(
        self, x: float, y: float, yaw: float, speed: float, steer: float, vy: float, yaw_rate: float
    ) -> None:
        """Set the state from the engine's rear-axle convention."""
        s = self.s[:, 0]
        s[0], s[1] = x + self.lr * math.cos(yaw), y + self.lr * math.sin(yaw)
        s[2], s[3], s[4], s[5], s[6] = yaw, speed, vy, yaw_rate, steer

    def rear_axle(self) -> tuple[float, float, float, float, float, float, float]:
        """(x, y, yaw, speed, steer, vy, yaw_rate) in the engine's convention; yaw wrapped to (-pi, pi]."""
        x, y, yaw, vx, vy, r, d = (float(v) for v in self.s[:, 0])
        yaw_w = math.atan2(math.sin(yaw), math.cos(yaw))
        return x - self.lr * math.cos(yaw), y - self.lr * math.sin(yaw), yaw_w, max(vx, 0.0), d, vy, r

    def step(self, mode: int, u0: float, u1: float, u2: float) -> None:
        """One step with controls (u0, u1, u2) meaning ``mode`` (``single_track_kernels.INPUT_*``)."""
        s = self.s
        vx0, vy0, r0 = s[3, 0], s[4, 0], s[5, 0]
        self.u[0, 0], self.u[1, 0], self.u[2, 0] = u0, u1, u2
        step_single_track(
            s,
            self.p,
            self.mu,
            self.grade,
            self.u,
            self.active,
            self.idx,
            mode,
            TYRE_PACEJKA,
            INTEGRATOR_SEMI_IMPLICIT_EULER,
            self.dt,
            self.dt,
        )
        dt = self.dt
        vx, vy, r = s[3, 0], s[4, 0], s[5, 0]
        rm = 0.5 * (r0 + r)
        self.ax = (vx - vx0) / dt - rm * 0.5 * (vy0 + vy)
        self.ay = (vy - vy0) / dt + rm * 0.5 * (vx0 + vx)
        self.r_dot = (r - r0) / dt
