"""The reference rule-based agent: route following, IDM speed, lights and pedestrians."""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel
from simcore.agents.protocol import AgentInfo, Control, Observation
from simcore.behavior.driver_kernels import actor_centres, drive_control, hold_accel
from simcore.behavior.route_kernels import limit_runs


# fmt: off
@kernel
def _autopilot_control(
    x, y, yaw, v, wheelbase, front, half_width, half_len, max_accel, max_decel, max_steer,
    rx, ry, rs, rvlim, rk, progress,
    stop_s, stop_idx, stop_state, cw_s0, cw_s1, cw_idx, cw_occ, lc_s0, lc_s1, lc_side, lc_offset,
    ox, oy, oyaw, ov, olen, owid, ocoff,
    v_des, T, s0, b_comf, delta, a_lat,
):  # pragma: no cover - compiled
    ocx = np.empty(ox.shape[0])
    ocy = np.empty(ox.shape[0])
    actor_centres(ox, oy, oyaw, ocoff, ocx, ocy)
    r_next = np.empty(rs.shape[0], dtype=np.int64)
    limit_runs(np.array([0, rs.shape[0]], dtype=np.int64), rvlim, rk, r_next)
    return drive_control(
        x, y, yaw, v, wheelbase, front, half_width, half_len, max_accel, max_decel, max_steer,
        rx, ry, rs, rvlim, rk, r_next, 0, rs.shape[0], progress,
        stop_s, stop_idx, stop_state, 0, stop_s.shape[0],
        cw_s0, cw_s1, cw_idx, cw_occ, 0, cw_s0.shape[0],
        lc_s0, lc_s1, lc_side, lc_offset, 0, lc_s0.shape[0],
        ox, oy, oyaw, ov, olen, owid, ocx, ocy, np.arange(ox.shape[0]), ox.shape[0], -1,
        v_des, T, s0, b_comf, delta, a_lat, 1.0, True, False, False, False, 0.0, math.inf, 0.0,
    )
# fmt: on


class Autopilot:
    """Rule-based reference driver over the Observation, with the NPCs' own driver model.

    Follows the route with pure pursuit, keeps IDM distance to anything in its path,
    stops for red (and, when it comfortably can, amber) lights, for occupied
    crosswalks and where it must give way at a junction (``Observation.junction_hold_s``),
    and stops at the end of its route. Parameters (SI): desired speed ``v_des``
    (m/s, capped by limits), time headway ``T`` (s), standstill gap ``s0`` (m), comfortable
    deceleration ``b_comf`` (m/s^2), lateral acceleration in curves ``a_lat`` (m/s^2).
    """

    name = "autopilot"
    #: The runner may run this agent inside the compiled step (same driver kernel, same
    #: parameters, same inputs as ``act`` sees), skipping Python per step. Results are
    #: bit-identical either way (tests/agents/test_autopilot.py).
    in_engine = True

    def __init__(
        self, v_des: float = 1e3, T: float = 1.5, s0: float = 2.5, b_comf: float = 2.5, a_lat: float = 2.0
    ) -> None:
        self.v_des, self.T, self.s0, self.b_comf, self.a_lat = v_des, T, s0, b_comf, a_lat
        self._info: AgentInfo | None = None

    def reset(self, info: AgentInfo) -> None:
        """Keep the route and vehicle data."""
        self._info = info

    def act(self, obs: Observation) -> Control:
        """One control from the current observation."""
        info = self._info
        if info is None:
            raise RuntimeError("Autopilot.act called before reset")
        e = info.ego
        o = obs.objects
        # fmt: off
        acc, steer, _, _ = _autopilot_control(
            obs.x, obs.y, obs.yaw, obs.speed, e.wheelbase, e.length - e.rear_overhang,
            0.5 * e.width, 0.5 * e.length, e.max_accel, e.max_decel, e.max_steer,
            info.route_x, info.route_y, info.route_s, info.route_speed_limit, info.route_curvature,
            obs.progress,
            obs.stop_s, np.arange(obs.stop_s.shape[0]), obs.stop_state,
            obs.crosswalk_s0, obs.crosswalk_s1, np.arange(obs.crosswalk_s0.shape[0]),
            obs.crosswalk_occupied,
            info.lane_change_s0, info.lane_change_s1, info.lane_change_side, info.lane_change_offset,
            o.x, o.y, o.yaw, o.speed, o.length, o.width, o.center_offset,
            self.v_des, self.T, self.s0, self.b_comf, 4.0, self.a_lat,
        )
        # fmt: on
        if obs.junction_hold_s != np.inf:  # give way at junctions as the NPCs do (same kernel)
            front = e.length - e.rear_overhang
            gap = obs.junction_hold_s - obs.progress - front
            acc = hold_accel(acc, obs.speed, self.v_des, e.max_accel, self.b_comf, self.T, 4.0, gap)
            acc = min(max(acc, -e.max_decel), e.max_accel)
        return Control(accel=float(acc), steer=float(steer))

    def close(self) -> None:
        """Nothing to release."""


class Idle:
    """Holds the brake and the wheel straight: a baseline that never reaches any goal."""

    name = "idle"

    def __init__(self) -> None:
        self._brake = -1e3  # replaced by the vehicle's own limit at reset

    def reset(self, info: AgentInfo) -> None:
        """Remember the vehicle's braking limit."""
        self._brake = -float(info.ego.max_decel)

    def act(self, obs: Observation) -> Control:
        """Brake fully (at the vehicle's ``max_decel``: a request it can execute)."""
        return Control(accel=self._brake, steer=0.0)

    def close(self) -> None:
        """Nothing to release."""
