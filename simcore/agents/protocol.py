"""The Agent protocol and the data it sees (Observation) and returns (Control).

Observations are frozen snapshots of arrays, never live engine objects: an agent can keep
them, and cannot change the world except through its Control.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

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
class ActuationControl:
    """Pedal-and-wheel control, mapped to an acceleration target by the runner.

    ``accel = throttle * max_accel - brake * max_decel`` with the controlled vehicle's limits
    (``EgoInfo.max_accel`` / ``max_decel``, m/s^2); pedals are clipped to [0, 1].

    Attributes:
        throttle: accelerator pedal, 0 (released) .. 1 (full).
        brake: brake pedal, 0 .. 1 (full braking at the vehicle's ``max_decel``).
        steer: front road-wheel angle target (rad, left positive).
    """

    throttle: float
    brake: float
    steer: float

    def to_accel(self, max_accel: float, max_decel: float) -> float:
        """The longitudinal acceleration target (m/s^2) these pedals ask for."""
        thr = min(max(float(self.throttle), 0.0), 1.0) if math.isfinite(self.throttle) else math.nan
        brk = min(max(float(self.brake), 0.0), 1.0) if math.isfinite(self.brake) else math.nan
        return thr * max_accel - brk * max_decel


@dataclass(frozen=True)
class TrajectoryControl:
    """A short planned trajectory that the built-in tracker follows (``simcore.agents.tracker``).

    Poses are of the vehicle reference point (rear-axle centre), ENU world frame. Give the
    timing as ``t`` (s, relative to the time of the observation the plan answers: 0 = now,
    strictly increasing), as ``speed`` (m/s at each pose), or both. With ``t`` only, speeds
    are the distances between poses over the time steps.

    Attributes:
        x, y: positions (m). yaw: headings (rad, counter-clockwise from east).
        t: times (s) or None. speed: speeds (m/s, >= 0) or None.
    """

    x: F64
    y: F64
    yaw: F64
    t: F64 | None = None
    speed: F64 | None = None

    def __post_init__(self) -> None:
        n = len(self.x)
        for name in ("x", "y", "yaw", "t", "speed"):
            v = getattr(self, name)
            if v is None:
                continue
            arr = np.array(v, dtype=np.float64).reshape(-1)
            if arr.shape[0] != n:
                raise ValueError(f"TrajectoryControl.{name} has {arr.shape[0]} values, x has {n}")
            if not np.isfinite(arr).all():
                raise ValueError(f"TrajectoryControl.{name} has non-finite values")
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        if n < 2:
            raise ValueError("TrajectoryControl needs at least 2 poses")
        if self.t is None and self.speed is None:
            raise ValueError("TrajectoryControl needs times t or speeds (or both)")
        if self.t is not None and not (np.diff(self.t) > 0).all():
            raise ValueError("TrajectoryControl.t must be strictly increasing")
        if self.speed is not None and (self.speed < 0).any():
            raise ValueError("TrajectoryControl.speed must be >= 0")


#: Anything an agent may return from ``act``.
AnyControl = Control | ActuationControl | TrajectoryControl


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
        role: which controlled vehicle this agent drives ("ego", or the actor id of another
            controlled vehicle in a multi-agent run).
        scenario_file: path of the scenario file ("" when built in code); agents resolve
            their own data files relative to it (e.g. ``replay``).
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
    role: str = "ego"
    scenario_file: str = ""


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
    """What the agent of one controlled vehicle ("ego" unless ``role`` says otherwise) sees at one step.

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
        sensors: each sensor's latest reading by sensor name (readings carry their own
            timestamp, s); empty when the scenario declares no sensors.
        role: the controlled vehicle this observation belongs to ("ego" or an actor id).
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
    sensors: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    role: str = "ego"


@runtime_checkable
class Agent(Protocol):
    """A driving agent. ``reset`` once per run, then ``act`` once per step, ``close`` at the end.

    ``act`` may return a Control, an ActuationControl or a TrajectoryControl. ``close`` is
    optional for user agents (the runner calls it when present): release processes, files.
    """

    name: str

    def reset(self, info: AgentInfo) -> None:
        """Prepare for a new run."""

    def act(self, obs: Observation) -> AnyControl:
        """Return the control for the next step."""
        ...
