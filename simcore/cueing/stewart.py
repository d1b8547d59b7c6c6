"""The 6-DOF Stewart platform: joint layout from a PlatformSpec, kinematics, limited commands.

``StewartPlatform.command(pose_wanted, dt)`` is what the cueing loop calls every physics step:
inverse kinematics of the wanted pose, every leg moved toward its wanted length within the
actuator stroke, velocity and acceleration (``stewart_kernels.limit_legs``), then forward
kinematics (Newton on the six leg lengths) of the limited legs: the pose actually commanded.
The legs therefore never leave the workspace, whatever the cueing filter asks for.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._types import F64
from simcore.cueing.platform import PlatformSpec
from simcore.cueing.stewart_kernels import forward_kinematics, inverse_kinematics, limit_legs
from simcore.units import deg_to_rad


def joint_layout(spec: PlatformSpec) -> tuple[F64, F64]:
    """Base joints (6, 3) and platform joints (6, 3) in their own frames (m); see GeometrySpec."""
    g = spec.geometry
    ab, ap = deg_to_rad(g.base_half_angle_deg), deg_to_rad(g.platform_half_angle_deg)
    base = np.zeros((6, 3))
    plat = np.zeros((6, 3))
    for j in range(3):
        c = deg_to_rad(120.0 * j)
        for k, (tb, tp) in enumerate(((c - ab, c - deg_to_rad(60.0) + ap), (c + ab, c + deg_to_rad(60.0) - ap))):
            i = 2 * j + k
            base[i, :2] = g.base_radius_m * math.cos(tb), g.base_radius_m * math.sin(tb)
            plat[i, :2] = g.platform_radius_m * math.cos(tp), g.platform_radius_m * math.sin(tp)
    return base, plat


class StewartPlatform:
    """Kinematics and the limited actuator state of one hexapod.

    Attributes:
        base, plat: (6, 3) joint positions (m). h0: neutral height (m).
        l_min, l_max, v_max, a_max: actuator limits (m, m/s, m/s^2).
        length, velocity: (6,) current leg lengths (m) and rates (m/s) as commanded.
        pose: (6,) current commanded pose (x, y, z m; roll, pitch, yaw rad) from neutral.
        limited_steps: steps in which any leg was limited. fk_failures: steps whose FK did not converge.
    """

    def __init__(self, spec: PlatformSpec) -> None:
        self.spec = spec
        self.base, self.plat = joint_layout(spec)
        self.h0 = float(spec.geometry.neutral_height_m)
        a = spec.actuators
        self.l_min, self.l_max = float(a.min_length_m), float(a.max_length_m)
        self.v_max, self.a_max = float(a.max_velocity_mps), float(a.max_accel_mps2)
        self._rs = np.zeros((4, 3, 3))
        self._legs = np.zeros((6, 3))
        self._len = np.zeros(6)
        self._jac = np.zeros((6, 6))
        self._rhs = np.zeros(6)
        self._delta = np.zeros(6)
        self._want = np.zeros(6)
        self.neutral_lengths = self.ik(np.zeros(6))
        self.reset()

    def reset(self) -> None:
        """At rest in the neutral pose."""
        self.pose = np.zeros(6)
        self.length = self.neutral_lengths.copy()
        self.velocity = np.zeros(6)
        self.limited_steps = 0
        self.fk_failures = 0

    def ik(self, pose: F64) -> F64:
        """Leg lengths (6,) (m) of ``pose`` (6,)."""
        out = np.zeros(6)
        inverse_kinematics(np.asarray(pose, dtype=np.float64), self.h0, self.base, self.plat, self._rs, self._legs, out)
        return out

    def fk(self, lengths: F64, guess: F64 | None = None) -> tuple[F64, int]:
        """Pose (6,) with these leg lengths, Newton from ``guess`` (default neutral); and the
        iterations used (-1: not converged)."""
        pose = np.zeros(6) if guess is None else np.array(guess, dtype=np.float64)
        it = self._solve_fk(np.asarray(lengths, dtype=np.float64), pose)
        return pose, int(it)

    def _solve_fk(self, lengths: F64, pose: F64) -> int:
        """Newton from ``pose`` (updated in place) to the legs ``lengths``; iterations or -1."""
        return int(
            forward_kinematics(
                lengths,
                self.h0,
                self.base,
                self.plat,
                pose,
                self._rs,
                self._legs,
                self._len,
                self._jac,
                self._rhs,
                self._delta,
            )
        )

    def command(self, wanted: F64, dt: float) -> F64:
        """Move toward the pose ``wanted`` within the actuator limits for one step ``dt`` (s);
        returns the commanded pose (the stored ``pose``, overwritten next step)."""
        inverse_kinematics(wanted, self.h0, self.base, self.plat, self._rs, self._legs, self._want)
        if limit_legs(self._want, self.length, self.velocity, self.l_min, self.l_max, self.v_max, self.a_max, dt):
            self.limited_steps += 1
        it = self._solve_fk(self.length, self.pose)
        if it < 0:
            self.fk_failures += 1
        return self.pose
