"""Trajectory tracker: pure-pursuit steering and PI speed control that follow a TrajectoryControl.

Frames and units: ENU world frame, metres, radians, seconds; the vehicle reference point is
the rear-axle centre (the kinematic bicycle's), and so are the trajectory's poses.

Lateral (pure pursuit): the rear axle is projected onto the planned polyline (arc length
``s_p``); the target is the point at arc length ``s_p + L_d`` with look-ahead
``L_d = max(ld_min, ld_gain * v)`` (extrapolated along the last segment past the end); the
steering angle is ``atan(2 * wheelbase * sin(alpha) / d)`` with ``alpha`` the target's bearing
relative to the heading and ``d`` its distance. On a circular path a kinematic bicycle that
is on the circle stays on it exactly (the chord geometry gives curvature ``1/R``).

Longitudinal (PI): with speeds only, the reference is the plan's speed at ``s_p``; with times,
it is the plan's speed at the current plan time plus ``k_s * (s_ref(t) - s_p)``, which pulls
the vehicle onto the planned position in time. ``accel = a_ff + k_p * e + k_i * integral(e)``,
``e = v_ref - v``, ``a_ff`` the plan's own acceleration at the reference; the integral is
frozen while the output saturates (anti-windup) and clamped to ``+-i_max``.

Default gains (tests/agents/test_tracker.py checks them): ld_min 4 m, ld_gain 0.5 s,
k_p 1.5 1/s, k_i 0.2 1/s^2, k_s 0.4 1/s, i_max 2 m/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simcore.agents.protocol import TrajectoryControl


@dataclass(frozen=True)
class TrackerGains:
    """Tracker gains (SI): look-ahead ``ld_min`` (m) + ``ld_gain`` (s) * speed; PI gains
    ``k_p`` (1/s), ``k_i`` (1/s^2); position gain ``k_s`` (1/s, timed plans); integral clamp
    ``i_max`` (m/s)."""

    ld_min: float = 4.0
    ld_gain: float = 0.5
    k_p: float = 1.5
    k_i: float = 0.2
    k_s: float = 0.4
    i_max: float = 2.0


class TrajectoryTracker:
    """Follows one TrajectoryControl at a time for a vehicle with the given limits (SI)."""

    def __init__(
        self,
        wheelbase: float,
        max_steer: float,
        max_accel: float,
        max_decel: float,
        gains: TrackerGains | None = None,
    ) -> None:
        self.wheelbase, self.max_steer = float(wheelbase), float(max_steer)
        self.max_accel, self.max_decel = float(max_accel), float(max_decel)
        self.gains = gains or TrackerGains()
        self._plan: TrajectoryControl | None = None
        self._t0 = 0.0
        self._integral = 0.0

    def reset(self) -> None:
        """Forget the plan and the integral state."""
        self._plan = None
        self._integral = 0.0

    def set_plan(self, plan: TrajectoryControl, t0: float) -> None:
        """Follow ``plan`` from now on; its times are relative to ``t0`` (s, simulation time)."""
        if plan is self._plan and t0 == self._t0:
            return
        self._plan, self._t0 = plan, float(t0)
        x, y = plan.x, plan.y
        seg = np.hypot(np.diff(x), np.diff(y))
        self._s = np.concatenate([[0.0], np.cumsum(seg)])
        if plan.speed is not None:
            v = np.asarray(plan.speed, dtype=np.float64)
        else:
            assert plan.t is not None
            vs = seg / np.diff(plan.t)
            v = np.concatenate([vs, vs[-1:]])
        self._v = v
        if plan.t is not None:
            self._a = np.gradient(v, plan.t) if v.shape[0] > 1 else np.zeros_like(v)
        else:
            ds = np.maximum(np.gradient(self._s), 1e-9)
            self._a = v * np.gradient(v) / ds

    def _project(self, px: float, py: float) -> float:
        """Arc length (m) of the point of the plan's polyline nearest to (px, py)."""
        plan = self._plan
        assert plan is not None
        ax, ay = plan.x[:-1], plan.y[:-1]
        dx, dy = np.diff(plan.x), np.diff(plan.y)
        l2 = dx * dx + dy * dy
        u = np.where(l2 > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(l2 > 0, l2, 1.0), 0.0)
        last = u.shape[0] - 1
        u = np.clip(u, 0.0, None)
        u[:last] = np.minimum(u[:last], 1.0)  # the last segment extends past the end
        qx, qy = ax + u * dx, ay + u * dy
        d2 = (qx - px) ** 2 + (qy - py) ** 2
        k = int(np.argmin(d2))
        return float(self._s[k] + u[k] * math.sqrt(l2[k]))

    def _point_at(self, s: float) -> tuple[float, float]:
        plan = self._plan
        assert plan is not None
        if s <= self._s[-1]:
            return float(np.interp(s, self._s, plan.x)), float(np.interp(s, self._s, plan.y))
        # Past the end: continue straight along the last segment (or the last heading).
        dx, dy = plan.x[-1] - plan.x[-2], plan.y[-1] - plan.y[-2]
        norm = math.hypot(dx, dy)
        if norm < 1e-9:
            dx, dy, norm = math.cos(plan.yaw[-1]), math.sin(plan.yaw[-1]), 1.0
        extra = s - self._s[-1]
        return float(plan.x[-1] + extra * dx / norm), float(plan.y[-1] + extra * dy / norm)

    def control(self, x: float, y: float, yaw: float, v: float, t: float, dt: float) -> tuple[float, float]:
        """(accel m/s^2, steer rad) for a vehicle at rear axle (x, y), heading ``yaw``, speed
        ``v`` at simulation time ``t``; ``dt`` (s) integrates the PI term."""
        plan = self._plan
        if plan is None:
            return 0.0, 0.0
        g = self.gains
        sp = self._project(x, y)
        ld = max(g.ld_min, g.ld_gain * abs(v))
        tx, ty = self._point_at(sp + ld)
        d = math.hypot(tx - x, ty - y)
        alpha = math.atan2(ty - y, tx - x) - yaw
        steer = math.atan2(2.0 * self.wheelbase * math.sin(alpha), max(d, 1e-6))
        steer = min(max(steer, -self.max_steer), self.max_steer)
        if plan.t is not None:
            tr = t - self._t0
            v_ff = float(np.interp(tr, plan.t, self._v))
            a_ff = float(np.interp(tr, plan.t, self._a)) if tr < plan.t[-1] else 0.0
            s_ref = float(np.interp(tr, plan.t, self._s))
            v_ref = max(v_ff + g.k_s * (s_ref - sp), 0.0)
        else:
            v_ref = float(np.interp(sp, self._s, self._v))
            a_ff = float(np.interp(sp, self._s, self._a)) if sp < self._s[-1] else 0.0
        err = v_ref - v
        raw = a_ff + g.k_p * err + g.k_i * self._integral
        accel = min(max(raw, -self.max_decel), self.max_accel)
        if accel == raw:  # anti-windup: integrate only while unsaturated
            self._integral = min(max(self._integral + err * dt, -g.i_max), g.i_max)
        return accel, steer
