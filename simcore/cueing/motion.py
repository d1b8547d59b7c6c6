"""Specific force and angular rate at the driver's head: in the vehicle and on the platform.

Body frame x forward, y left, z up. Specific force f = a - g_vec, so at rest f = (0, 0, +g).
"""

from __future__ import annotations

import numpy as np

from simcore._types import F64
from simcore.cueing.washout_kernels import G


def vehicle_head_motion(ax: float, ay: float, r: float, r_dot: float, head: F64, out_f: F64, out_w: F64) -> None:
    """Head specific force and angular rate of a planar vehicle.

    ``ax``, ``ay``: CoG acceleration in the body frame (m/s^2; ax = dvx/dt - r vy,
    ay = dvy/dt + r vx). ``r``, ``r_dot``: yaw rate (rad/s) and yaw acceleration (rad/s^2).
    ``head``: (3,) head position from the CoG (m). Rigid body: a_head = a + alpha x d + w x (w x d)
    with w = (0, 0, r), alpha = (0, 0, r_dot). Writes out_f (3,) and out_w (3,).
    """
    dx, dy = head[0], head[1]
    out_f[0] = ax - r_dot * dy - r * r * dx
    out_f[1] = ay + r_dot * dx - r * r * dy
    out_f[2] = G
    out_w[0] = 0.0
    out_w[1] = 0.0
    out_w[2] = r


def euler_rates_to_body(angles: F64, rates: F64) -> F64:
    """Body angular rate (T, 3) from Z-Y-X Euler angles (T, 3: roll, pitch, yaw) and their rates."""
    ph, th = angles[:, 0], angles[:, 1]
    dph, dth, dps = rates[:, 0], rates[:, 1], rates[:, 2]
    return np.column_stack(
        [
            dph - dps * np.sin(th),
            dth * np.cos(ph) + dps * np.cos(th) * np.sin(ph),
            -dth * np.sin(ph) + dps * np.cos(th) * np.cos(ph),
        ]
    )


def platform_head_motion(poses: F64, dt: float, head_above_m: float) -> tuple[F64, F64]:
    """Head specific force (T, 3) and angular rate (T, 3), in the platform's body frame, of a pose
    sequence (T, 6) sampled every ``dt`` (s); derivatives by central differences."""
    ph, th, ps = poses[:, 3], poses[:, 4], poses[:, 5]
    sr, cr, sp, cp, sy, cy = np.sin(ph), np.cos(ph), np.sin(th), np.cos(th), np.sin(ps), np.cos(ps)
    # R = Rz Ry Rx; third column is R e_z (head offset direction), rows give R^T
    r = np.empty((len(poses), 3, 3))
    r[:, 0, 0], r[:, 0, 1], r[:, 0, 2] = cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr
    r[:, 1, 0], r[:, 1, 1], r[:, 1, 2] = sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr
    r[:, 2, 0], r[:, 2, 1], r[:, 2, 2] = -sp, cp * sr, cp * cr
    head = poses[:, :3] + head_above_m * r[:, :, 2]
    acc = np.gradient(np.gradient(head, dt, axis=0), dt, axis=0)
    acc[:, 2] += G
    f = np.einsum("tji,tj->ti", r, acc)  # R^T (a + g e_z)
    w = euler_rates_to_body(poses[:, 3:], np.gradient(poses[:, 3:], dt, axis=0))
    return f, w
