"""The Agent protocol and the data it sees (Observation) and returns (Control).

Observations are frozen snapshots of arrays, never live engine objects: an agent can keep
them, and cannot change the world except through its Control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from simcore._types import F64, I64
from simcore.road.network import RoadNetwork


@dataclass(frozen=True)
class Control:
    """What the ego is told to do for the next step.

    Attributes:
        accel: longitudinal acceleration target (m/s^2; negative brakes). The vehicle's
            limits clip it.
        steer: front road-wheel angle target (rad, left positive). The vehicle's maximum
            angle and rate clip it.
    """

    accel: float
    steer: float


@dataclass(frozen=True)
class EgoInfo:
    """Static facts about the ego vehicle (SI; reference point: rear-axle centre)."""

    vehicle: str
    length: float
    width: float
    wheelbase: float
    rear_overhang: float
    max_steer: float
    max_accel: float
    max_decel: float


@dataclass(frozen=True)
class AgentInfo:
    """Given once at reset: the scenario, the ego, its route and the map.

    Attributes:
        scenario: scenario name. dt: step (s). seed: run seed.
        ego: EgoInfo. actor_ids: ids of every state row (``Observation.objects.row`` indexes it).
        route_x, route_y, route_s: the ego's planned route (ENU, m); goal_s: route s of the goal.
        route_speed_limit: (m/s) and route_curvature (1/m, left +) at each route sample.
        lane_change_s0, lane_change_s1: lane changes the route plans (route s where each
            starts and ends, m); lane_change_side: +1 left, -1 right; lane_change_offset: m.
        network: the static road network (read-only arrays).
    """

    scenario: str
    dt: float
    seed: int
    ego: EgoInfo
    actor_ids: tuple[str, ...]
    route_x: F64
    route_y: F64
    route_s: F64
    route_speed_limit: F64
    route_curvature: F64
    lane_change_s0: F64
    lane_change_s1: F64
    lane_change_side: I64
    lane_change_offset: F64
    goal_s: float
    network: RoadNetwork


@dataclass(frozen=True)
class ObjectList:
    """Other actors near the ego (ground truth), one entry per actor, ENU, SI.

    Attributes:
        row: state row (index into AgentInfo.actor_ids). kind: ActorKind.
        x, y: reference point (m); vehicles: rear axle, pedestrians: body centre.
        yaw (rad), speed (m/s), length, width (m), center_offset (m from the reference
        point to the box centre along yaw).
    """

    row: I64
    kind: np.ndarray
    x: F64
    y: F64
    yaw: F64
    speed: F64
    length: F64
    width: F64
    center_offset: F64


@dataclass(frozen=True)
class Observation:
    """What the ego agent sees at one step.

    Attributes:
        time: simulation time (s). step: step index.
        x, y, yaw, speed, accel, steer: ego state (ENU, rear axle; m, rad, m/s, m/s^2, rad).
        progress: ego arc length along its route (m). lateral: offset from it (m, left +).
        speed_limit: limit of the route sample the ego is on (m/s).
        objects: ObjectList within ``OBJECT_RANGE_M``.
        stop_s, stop_state: stop lines along the route (route s, m) and their current
            SignalState (int8).
        crosswalk_s0, crosswalk_s1, crosswalk_occupied: crosswalk intervals along the route
            (route s, m) and whether a pedestrian is on each.
        junction_hold_s: route s (m) of the line where the ego must give way at a junction now
            (right of way, gap acceptance: ``behavior.junction_kernels``), inf if none.
    """

    time: float
    step: int
    x: float
    y: float
    yaw: float
    speed: float
    accel: float
    steer: float
    progress: float
    lateral: float
    speed_limit: float
    objects: ObjectList
    stop_s: F64
    stop_state: np.ndarray
    crosswalk_s0: F64
    crosswalk_s1: F64
    crosswalk_occupied: np.ndarray
    junction_hold_s: float = float("inf")


@runtime_checkable
class Agent(Protocol):
    """A driving agent. ``reset`` once per run, then ``act`` once per step."""

    name: str

    def reset(self, info: AgentInfo) -> None:
        """Prepare for a new run."""

    def act(self, obs: Observation) -> Control:
        """Return the control for the next step."""
        ...
