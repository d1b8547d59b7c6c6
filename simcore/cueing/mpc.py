"""Optimal-control cueing: receding-horizon LQ (unconstrained MPC) of surge and sway with tilt.

Per horizontal axis the platform is a double integrator plus a tilt angle theta (small angle,
theta = -pitch for surge, roll for sway), state z = (p, v, theta), input u = (a, omega) held
over each MPC step h: p' = p + h v + h^2 / 2 a, v' = v + h a, theta' = theta + h omega. The
driver feels f = a + g theta. Over N steps, with the vehicle's scaled specific force r held,

    J = sum_k  w_f (a_k + g theta_k - r)^2 + w_p p_k^2 + w_v v_k^2 + w_th theta_k^2
               + r_a a_k^2 + r_om omega_k^2   (k < N)   + w_p p_N^2 + w_v v_N^2 + w_th theta_N^2.

J is a linear least-squares problem in the stacked inputs, so the first move is a fixed
linear law u_0 = K_z z + K_r r (``mpc_gains``), computed once. Each step the tilt rate of that
move is clipped to the perception threshold and the tilt angle to its limit (the hard bounds of
this variant); heave and the rotational channels are those of the classical washout, and the
Stewart limiter keeps every actuator inside its limits.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._types import F64
from simcore.cueing.platform import MpcSpec, PlatformSpec
from simcore.cueing.washout import ClassicalWashout
from simcore.cueing.washout_kernels import CH_PITCH, CH_ROLL, CH_YAW, CH_Z, G
from simcore.units import deg_to_rad


def axis_model(h: float) -> tuple[F64, F64]:
    """Discrete (A (3, 3), B (3, 2)) of one axis for the MPC step ``h`` (s)."""
    a = np.array([[1.0, h, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    b = np.array([[0.5 * h * h, 0.0], [h, 0.0], [0.0, h]])
    return a, b


def mpc_gains(m: MpcSpec) -> tuple[F64, F64]:
    """First-move gains (K_z (2, 3), K_r (2,)) of the horizon problem in the module docstring."""
    n = m.horizon_steps
    a, b = axis_model(m.step_s)
    nu = 2 * n
    # z_k = A^k z0 + sum_{j<k} A^(k-1-j) B u_j, as z_k = Pz[k] z0 + Pu[k] U
    pz = [np.eye(3)]
    pu = [np.zeros((3, nu))]
    for k in range(n):
        nxt = a @ pu[-1]
        nxt[:, 2 * k : 2 * k + 2] += b
        pu.append(nxt)
        pz.append(a @ pz[-1])
    rows_u, rows_z, rows_r = [], [], []
    sw = {
        k: math.sqrt(v)
        for k, v in (
            ("f", m.weight_force),
            ("p", m.weight_position),
            ("v", m.weight_velocity),
            ("t", m.weight_tilt),
            ("a", m.weight_accel),
            ("o", m.weight_tilt_rate),
        )
    }
    for k in range(n + 1):
        for idx, key in ((0, "p"), (1, "v"), (2, "t")):
            rows_u.append(sw[key] * pu[k][idx])
            rows_z.append(sw[key] * pz[k][idx])
            rows_r.append(0.0)
        if k == n:
            break
        ea = np.zeros(nu)
        ea[2 * k] = 1.0
        eo = np.zeros(nu)
        eo[2 * k + 1] = 1.0
        rows_u.append(sw["f"] * (ea + G * pu[k][2]))
        rows_z.append(sw["f"] * G * pz[k][2])
        rows_r.append(-sw["f"])
        for e, key in ((ea, "a"), (eo, "o")):
            rows_u.append(sw[key] * e)
            rows_z.append(np.zeros(3))
            rows_r.append(0.0)
    mu, mz, mr = np.array(rows_u), np.array(rows_z), np.array(rows_r)
    # minimise |mu U + mz z0 + mr r|^2  ->  U = -(mu' mu)^-1 mu' (mz z0 + mr r)
    sol = -np.linalg.solve(mu.T @ mu, mu.T @ np.column_stack([mz, mr]))
    return sol[:2, :3].copy(), sol[:2, 3].copy()


class MpcCueing:
    """MPC cueing of one platform at the physics step ``dt``; same call as ClassicalWashout."""

    name = "mpc"

    def __init__(self, spec: PlatformSpec, dt: float) -> None:
        self.spec, self.dt = spec, float(dt)
        self.classical = ClassicalWashout(spec, dt)
        self.k_z, self.k_r = mpc_gains(spec.mpc)
        self.every = max(1, round(spec.mpc.step_s / dt))
        self.gain = float(spec.washout.translational.gain)
        self.max_tilt_rate = deg_to_rad(spec.washout.tilt.max_rate_deg_s)
        self.max_tilt = deg_to_rad(spec.washout.tilt.max_angle_deg)
        self.pose = np.zeros(6)
        self.reset()

    def reset(self) -> None:
        """At rest in neutral."""
        self.classical.reset()
        self.z = np.zeros((2, 3))  # surge, sway: p, v, theta
        self.u = np.zeros((2, 2))
        self.k = 0
        self.pose[:] = 0.0

    def step(self, f: F64, w: F64) -> F64:
        """One step: wanted pose (6,) from specific force f (3,) and angular rate w (3,)."""
        self.classical.step(f, w)
        y = self.classical.bank.y
        dt = self.dt
        if self.k % self.every == 0:
            for ax in range(2):
                self.u[ax] = self.k_z @ self.z[ax] + self.k_r * (self.gain * f[ax])
                self.u[ax, 1] = min(max(self.u[ax, 1], -self.max_tilt_rate), self.max_tilt_rate)
        self.k += 1
        for ax in range(2):
            p, v, th = self.z[ax]
            acc, om = self.u[ax]
            self.z[ax, 0] = p + dt * v + 0.5 * dt * dt * acc
            self.z[ax, 1] = v + dt * acc
            self.z[ax, 2] = min(max(th + dt * om, -self.max_tilt), self.max_tilt)
        pose = self.pose
        pose[0], pose[1], pose[2] = self.z[0, 0], self.z[1, 0], y[CH_Z]
        pose[3] = y[CH_ROLL] + self.z[1, 2]
        pose[4] = y[CH_PITCH] - self.z[0, 2]
        pose[5] = y[CH_YAW]
        return pose
