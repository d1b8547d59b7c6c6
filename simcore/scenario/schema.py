"""Scenario file format, version 1: pydantic models, one per YAML block (the source of truth).

Keys without a unit suffix are SI (m, s, m/s, m/s^2, rad); ``_kph`` and ``_deg`` keys are
converted by the ``si_*`` helpers here, the one place where units change.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from simcore.rng import MAX_SEED
from simcore.scenario.errors import Issue
from simcore.scenario.yaml_source import YamlDoc
from simcore.units import kph_to_mps

#: ``defer_build``: a model's validator is built when it first validates, as part of the model that
#: contains it, not once per model at import (forward references resolve then, too).
_CFG = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Strict(BaseModel):
    """Base: unknown keys are errors, models are immutable."""

    model_config = _CFG


class SignalSpec(Strict):
    """Fixed-time split phasing of every generated junction (each arm its own green)."""

    green_s: float = Field(12.0, gt=0, le=300)
    amber_s: float = Field(3.0, ge=2, le=10)
    all_red_s: float = Field(2.0, ge=0, le=10)
    pedestrian_s: float = Field(8.0, ge=0, le=120)
    pedestrian_clearance_s: float = Field(4.0, ge=0, le=60)
    offset_step_s: float = Field(0.0, ge=0, le=300)


class _LayoutFields(Strict):
    lanes_per_direction: int = Field(2, ge=1, le=4)
    lane_width: float = Field(3.5, ge=2.5, le=5.0)
    speed_limit_kph: float = Field(50.0, gt=0, le=130)
    turn_speed_limit_kph: float = Field(30.0, gt=0, le=80)
    crosswalks: bool = True
    signals: SignalSpec | None = SignalSpec()
    arm_length: float = Field(80.0, ge=30, le=2000)


class IntersectionMap(_LayoutFields):
    """A single generated junction centred at the origin."""

    generate: Literal["intersection"]
    arms: int | list[Literal["north", "east", "south", "west"]] = 4

    @field_validator("arms")
    @classmethod
    def _arms_ok(cls, arms: int | list[str]) -> int | list[str]:
        if isinstance(arms, int) and arms not in (3, 4):
            raise ValueError("arms must be 3 or 4, or a list of 3 or 4 compass arms")
        if isinstance(arms, list) and (len(arms) not in (3, 4) or len(set(arms)) != len(arms)):
            raise ValueError("arms must list 3 or 4 distinct compass arms")
        return arms

    def arm_names(self) -> tuple[str, ...]:
        """Compass arms present, in phase order (3 arms as a number: no west arm)."""
        order = ("north", "east", "south", "west")
        if isinstance(self.arms, int):
            return order[: self.arms]
        return tuple(a for a in order if a in self.arms)


class GridMap(_LayoutFields):
    """A rows x cols grid of generated junctions (lanes named ``r{row}c{col}.south_in_1``)."""

    generate: Literal["grid"]
    rows: int = Field(2, ge=1, le=30)
    cols: int = Field(2, ge=1, le=30)
    block: float = Field(120.0, ge=60, le=1000)
    buildings: bool = Field(False, description="fill the blocks with buildings (static objects with height)")


class FileMap(Strict):
    """A map file: OpenDRIVE (``.xodr``) or YAML roads (``.yaml``), relative to the scenario file."""

    file: str = Field(min_length=1)


def _map_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "file" if "file" in value else "generated"
    return "file" if isinstance(value, FileMap) else "generated"


GeneratedMap = Annotated[IntersectionMap | GridMap, Field(discriminator="generate")]
MapSpec = Annotated[
    Annotated[GeneratedMap, Tag("generated")] | Annotated[FileMap, Tag("file")],
    Discriminator(_map_tag),
]


class LaneStart(Strict):
    """Where an actor starts: on a lane at arc length ``s`` (m) of its rear axle."""

    lane: str
    s: float = Field(0.0, ge=0)
    speed: float | None = Field(None, ge=0, le=70)
    speed_kph: float | None = Field(None, ge=0, le=250)

    def si_speed(self) -> float:
        """Initial speed (m/s)."""
        if self.speed_kph is not None:
            return kph_to_mps(self.speed_kph)
        return self.speed or 0.0


class RouteSpec(Strict):
    """Destination lane; the route is the fastest lane sequence there (lane changes allowed).

    ``to: random`` picks a goal lane (from the scenario seed) whose route is ``length_m`` long.
    """

    to: str
    length_m: tuple[float, float] | None = Field(
        None, description="with to: random, the route length range [min, max] (m); default [200, 400]"
    )

    @model_validator(mode="after")
    def _length_with_random(self) -> RouteSpec:
        if self.length_m is not None:
            if self.to != "random":
                raise ValueError("length_m needs to: random")
            lo, hi = self.length_m
            if not 0 <= lo < hi <= 1e5:
                raise ValueError(f"expected 0 <= min < max <= 100000 m, got [{lo:g}, {hi:g}]")
        return self


#: Route length range (m) of ``to: random`` without ``length_m``.
RANDOM_ROUTE_M = (200.0, 400.0)


class TrafficRegion(Strict):
    """A circle (map frame, m) that spawn points must lie in."""

    center: tuple[float, float]
    radius_m: float = Field(gt=0, le=1e5)


class TrafficSpec(Strict):
    """Background traffic spawned on the map (docs/scenario-format.md): routed vehicles and pedestrians."""

    vehicles: int = Field(0, ge=0, le=2000)
    pedestrians: int = Field(0, ge=0, le=2000)
    mix: dict[str, float] = Field(
        default_factory=lambda: {"sedan": 0.5, "compact": 0.2, "suv": 0.2, "van": 0.1},
        description="vehicle name -> share (vehicles/ definitions)",
    )
    region: TrafficRegion | None = None
    route_length_m: tuple[float, float] = Field((100.0, 600.0), description="route length range [min, max] (m)")
    seed: int | None = Field(None, ge=0, lt=2**63, description="default: the scenario's seed")

    @model_validator(mode="after")
    def _check(self) -> TrafficSpec:
        if not self.mix or any(not (v >= 0) for v in self.mix.values()) or not sum(self.mix.values()) > 0:
            raise ValueError("mix needs at least one vehicle with a share > 0 and no negative shares")
        lo, hi = self.route_length_m
        if not 0 <= lo < hi <= 1e5:
            raise ValueError(f"route_length_m: expected 0 <= min < max <= 100000 m, got [{lo:g}, {hi:g}]")
        return self


class IdmSpec(Strict):
    """Intelligent Driver Model parameters (Treiber et al. 2000); speed defaults to the limit."""

    desired_speed_kph: float | None = Field(None, gt=0, le=250)
    speed_factor: float = Field(1.0, gt=0.3, le=1.5)
    time_headway_s: float = Field(1.5, gt=0.3, le=5)
    min_gap_m: float = Field(2.0, ge=0.5, le=10)
    comfort_decel_mps2: float = Field(2.5, gt=0.5, le=6)
    max_accel_mps2: float | None = Field(None, gt=0.2, le=6)
    delta: float = Field(4.0, ge=1, le=8)
    lateral_accel_mps2: float = Field(2.5, gt=0.5, le=8)


#: Vehicle model that moves a vehicle (``dynamics:`` of the ego and of vehicle actors).
DynamicsModel = Literal["kinematic", "single_track"]


class SurfaceSpec(Strict):
    """A patch of road surface: the listed lanes have their own friction (``environment.surfaces[]``)."""

    lanes: list[str] = Field(min_length=1, description="lane names this surface covers")
    friction: float = Field(gt=0, le=1.5, description="tyre-road friction coefficient mu on these lanes")


class WeatherSpec(Strict):
    """Weather (``environment.weather`` and the ``weather`` action): rain rate and fog visibility."""

    rain_mm_h: float = Field(0.0, ge=0, le=200, description="rain rate (mm/h); 0 dry, 2.5 moderate, 8+ heavy")
    fog_visibility_m: float | None = Field(
        None, gt=0, le=100000, description="meteorological visibility in fog (m); null: clear air"
    )


class EnvironmentSpec(Strict):
    """Road surface (``environment:``): one friction for the whole map, optionally other values on some lanes."""

    friction: float = Field(
        1.0, gt=0, le=1.5, description="tyre-road friction coefficient mu (single_track vehicles; 0.3 ice, 1.0 dry)"
    )
    surfaces: list[SurfaceSpec] = Field(
        default_factory=list,
        description="lanes with a friction of their own (a later entry wins where lanes repeat)",
    )
    weather: WeatherSpec = Field(default_factory=lambda: WeatherSpec(), description="rain and fog (sensors read them)")
    time_of_day: str | None = Field(
        None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="local time HH:MM (night: before 06:00, from 19:00)",
    )
    night: bool | None = Field(None, description="force night (true) or day (false); overrides time_of_day")
    rain_wets_road: bool = Field(
        True, description="rain lowers the friction when `friction` is not given (see docs/scenario-format.md)"
    )


class UniformDraw(Strict):
    """A value drawn per actor (each platoon member its own) uniformly in [low, high]."""

    uniform: list[float] = Field(min_length=2, max_length=2, description="[low, high]")

    @model_validator(mode="after")
    def _ordered(self) -> UniformDraw:
        if self.uniform[0] > self.uniform[1]:
            raise ValueError("expected [low, high] with low <= high")
        return self


class NormalBounds(Strict):
    """Normal distribution, optionally clipped to [min, max]."""

    mean: float
    std: float = Field(ge=0)
    min: float | None = None
    max: float | None = None


class NormalDraw(Strict):
    """A value drawn per actor from a (clipped) normal distribution."""

    normal: NormalBounds


class ChoiceDraw(Strict):
    """A value drawn per actor from a list (equal probabilities)."""

    choice: list[float] = Field(min_length=1)


#: A number, or a distribution drawn once per actor from its own seeded stream.
Draw = float | UniformDraw | NormalDraw | ChoiceDraw


class SignalBehavior(Strict):
    """Signal compliance: each vehicle draws once whether it runs amber / red (from its seeded stream)."""

    run_amber_probability: float = Field(0.0, ge=0, le=1, description="probability of driving on at amber")
    run_red_probability: float = Field(0.0, ge=0, le=1, description="probability of ignoring red (red-light runner)")
    right_on_red: bool | None = Field(
        None, description="right turn on red after a full stop; default: the scenario's rule set"
    )


class GapAcceptance(Strict):
    """Right of way at junctions: gaps shorter than ``critical_gap_s`` in conflicting traffic are refused."""

    critical_gap_s: Annotated[float, Field(gt=0, le=30)] | UniformDraw | NormalDraw | ChoiceDraw = Field(
        4.5, description="critical gap (s, 0-30), a number or a per-actor distribution (draws clipped to 0.5-30 s)"
    )


class LaneChangeBehavior(Strict):
    """Discretionary lane changes by MOBIL (Kesting, Treiber & Helbing 2007), besides those the route needs."""

    discretionary: bool = Field(False, description="change lanes to go faster where a neighbour lane continues")
    politeness: float = Field(0.3, ge=0, le=2, description="weight of the new follower's loss (-)")
    threshold_mps2: float = Field(0.2, ge=0, le=3, description="acceleration gain needed to change (m/s^2)")
    keep_right_mps2: float = Field(0.1, ge=0, le=2, description="bias towards the right lane (m/s^2)")


class VehicleBehavior(Strict):
    """How an NPC vehicle drives."""

    idm: IdmSpec = IdmSpec()
    lane_changes: LaneChangeBehavior = LaneChangeBehavior()
    signals: SignalBehavior = SignalBehavior()
    gap_acceptance: GapAcceptance = GapAcceptance()
    speed_profile: list[list[float]] | None = Field(
        None,
        description="[[s_or_t, speed_mps], ...], keys increasing; over route s (m) or time (s): speed_profile_by",
    )
    speed_profile_by: Literal["s", "t"] = "s"

    @field_validator("speed_profile")
    @classmethod
    def _profile_ok(cls, pts: list[list[float]] | None) -> list[list[float]] | None:
        if pts is None:
            return None
        if not pts or any(len(p) != 2 or p[1] < 0 for p in pts):
            raise ValueError("expected a list of [key, speed] pairs with speed >= 0")
        if any(b[0] <= a[0] for a, b in pairwise(pts)):
            raise ValueError("speed_profile keys must increase")
        return pts


class VehicleActor(Strict):
    """An NPC vehicle, or a platoon of ``count`` of them spaced ``spacing_m`` bumper to bumper."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    type: Literal["vehicle"] = "vehicle"
    vehicle: str = "sedan"
    count: int = Field(1, ge=1, le=1000)
    spacing_m: float = Field(12.0, gt=0, le=500)
    start: LaneStart
    route: RouteSpec
    dynamics: DynamicsModel = Field("kinematic", description="vehicle model: kinematic bicycle or dynamic single-track")
    behavior: VehicleBehavior = VehicleBehavior()
    emergency: bool = Field(
        False, description="an emergency vehicle the ego must yield to (CARLA's YieldToEmergencyVehicleTest)"
    )
    lateral_offset_m: float = Field(
        0.0, ge=-10, le=10, description="drives its whole route this far left (+) / right (-) of the lane centres (m)"
    )


class CyclistBehavior(Strict):
    """How a cyclist rides: IDM (desired speed default 18 km/h) and signal compliance."""

    idm: IdmSpec = IdmSpec(desired_speed_kph=18.0, time_headway_s=1.0, min_gap_m=1.0, comfort_decel_mps2=2.0)
    signals: SignalBehavior = SignalBehavior()
    gap_acceptance: GapAcceptance = GapAcceptance()


class CyclistActor(Strict):
    """A cyclist (or ``count`` of them) riding its route near the right edge of the lane."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    type: Literal["cyclist"]
    vehicle: str = Field("bicycle", description="a vehicles/ definition; the built-in 'bicycle' by default")
    count: int = Field(1, ge=1, le=1000)
    spacing_m: float = Field(6.0, gt=0, le=500)
    start: LaneStart
    route: RouteSpec
    keep_right_m: float = Field(
        0.8, ge=0.3, le=3.0, description="distance of the cyclist's centre line from the lane's right edge (m)"
    )
    behavior: CyclistBehavior = CyclistBehavior()


class KerbPlace(Strict):
    """A place on a lane at arc length ``s`` (m), ``offset_m`` to the left (+) or right (-) of its centre."""

    lane: str
    s: float = Field(0.0, ge=0)
    offset_m: float | None = Field(None, ge=-20, le=20, description="lateral offset (m, left +); default per actor")


class PosePlace(Strict):
    """A place by pose: (x, y) in m (ENU) and heading ``yaw_deg`` (CCW from east)."""

    x: float
    y: float
    yaw_deg: float = 0.0


#: Built-in static object sizes (length, width, m).
STATIC_SHAPES = {"cone": (0.4, 0.4), "barrier": (2.0, 0.6), "car": (4.5, 1.8), "van": (5.2, 2.0), "box": (1.0, 1.0)}


class StaticActor(Strict):
    """An object that never moves but blocks traffic (cones, barriers, a broken-down car); ``count`` of them
    ``spacing_m`` apart along the lane when placed on a lane."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    type: Literal["static"]
    shape: Literal["cone", "barrier", "car", "van", "box"] = "box"
    length: float | None = Field(None, gt=0, le=30, description="m; default from shape")
    width: float | None = Field(None, gt=0, le=10, description="m; default from shape")
    at: KerbPlace | PosePlace
    count: int = Field(1, ge=1, le=200)
    spacing_m: float = Field(3.0, gt=0, le=100)


class PullOut(Strict):
    """A parked car leaves the kerb: at ``at_s`` (s), or when a storyboard ``start`` names it, then merges
    into the lane when the gap is safe and follows ``route``."""

    at_s: float | None = Field(None, ge=0, le=36000, description="pull-out time (s); none: storyboard start")
    route: RouteSpec


class ParkedActor(Strict):
    """A vehicle parked at the kerb (default offset: beside the lane, reaching 0.2 m into it); may pull out."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    type: Literal["parked"]
    vehicle: str = "sedan"
    start: KerbPlace
    pull_out: PullOut | None = None
    behavior: VehicleBehavior = VehicleBehavior()


class TrajectorySpec(Strict):
    """Waypoints [x, y, t] (``timing: time``, t in s increasing) or [x, y, v] (``timing: speed``, v in m/s;
    constant acceleration between waypoints, starting at ``start_time_s``). The vehicle's rear axle follows
    straight segments between waypoints exactly."""

    timing: Literal["time", "speed"] = "time"
    waypoints: list[list[float]] = Field(min_length=2)
    start_time_s: float = Field(0.0, ge=0, le=36000)

    @model_validator(mode="after")
    def _waypoints_ok(self) -> TrajectorySpec:
        if any(len(w) != 3 for w in self.waypoints):
            raise ValueError("each waypoint is [x, y, t] or [x, y, v]")
        if self.timing == "time" and any(b[2] <= a[2] for a, b in pairwise(self.waypoints)):
            raise ValueError("waypoint times must increase")
        if self.timing == "speed":
            if any(w[2] < 0 for w in self.waypoints):
                raise ValueError("waypoint speeds must be >= 0")
            for a, b in pairwise(self.waypoints):
                if a[2] + b[2] <= 0 or (a[0], a[1]) == (b[0], b[1]):
                    raise ValueError("consecutive waypoints must differ and not both have speed 0")
        return self


class ReplaySpec(Strict):
    """A log to replay: CSV with header ``t,x,y,yaw,speed`` (s, m, m, rad, m/s), relative to the scenario."""

    file: str = Field(min_length=1)
    time_offset_s: float = Field(0.0, ge=-36000, le=36000, description="added to the log's times (s)")
    remove_at_end: bool = True


class ScriptedActor(Strict):
    """A vehicle moved exactly by a trajectory or a replayed log (it reacts to nothing)."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    type: Literal["scripted"]
    vehicle: str = "sedan"
    trajectory: TrajectorySpec | None = None
    replay: ReplaySpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ScriptedActor:
        if (self.trajectory is None) == (self.replay is None):
            raise ValueError("give exactly one of trajectory or replay")
        return self


class CrosswalkStart(Strict):
    """A pedestrian starting at one end of a crosswalk (``side`` is a compass direction)."""

    crosswalk: str
    side: Literal["north", "east", "south", "west"]
    offset_m: float = Field(2.5, ge=0.5, le=50, description="distance before the kerb (m)")


class SidewalkStart(Strict):
    """A pedestrian starting on a sidewalk lane at arc length ``s`` (m)."""

    lane: str
    s: float = Field(0.0, ge=0)


class CrossSpec(Strict):
    """Walk across at ``speed`` (m/s) from ``delay_s`` on; wait for the walk signal if ``obey_signal``."""

    speed: float = Field(1.4, gt=0.2, le=3.0)
    obey_signal: bool = True
    delay_s: float = Field(0.0, ge=0, le=3600, description="stand still until this time (s)")


class WalkSpec(Strict):
    """Walk along the sidewalk for ``distance_m`` (default: to its end) at ``speed`` (m/s)."""

    speed: float = Field(1.4, gt=0.2, le=3.0)
    distance_m: float | None = Field(None, gt=0, le=10000)
    delay_s: float = Field(0.0, ge=0, le=3600)


class JaywalkSpec(Strict):
    """Walk the sidewalk to ``at_s`` (m along it), then, with ``probability``, cross the road mid-block
    straight to the far side (``width_m`` of road, default: to the mirror sidewalk); else walk on."""

    at_s: float = Field(ge=0, le=10000)
    probability: float = Field(1.0, ge=0, le=1)
    width_m: float | None = Field(None, gt=1, le=60, description="road width crossed (m)")
    speed: float = Field(1.4, gt=0.2, le=3.0)
    delay_s: float = Field(0.0, ge=0, le=3600)


class PathWalkSpec(Strict):
    """Walk the polyline ``points`` ([x, y] m, ENU) from its first point to its last at ``speed`` (m/s)."""

    points: list[list[float]] = Field(min_length=2, max_length=10000)
    speed: float = Field(1.4, gt=0.2, le=3.0)
    delay_s: float = Field(0.0, ge=0, le=3600)

    @model_validator(mode="after")
    def _points_ok(self) -> PathWalkSpec:
        if any(len(p) != 2 for p in self.points):
            raise ValueError("each point is [x, y]")
        if all(p == self.points[0] for p in self.points):
            raise ValueError("the points must not all be the same")
        return self


class PedestrianBehavior(Strict):
    """How a pedestrian moves: ``cross`` (from a crosswalk start), ``walk``, ``jaywalk`` or ``path``
    (sidewalk start; a ``path`` walk starts at the path's first point, the sidewalk only names where it belongs)."""

    cross: CrossSpec = CrossSpec()
    walk: WalkSpec | None = None
    jaywalk: JaywalkSpec | None = None
    path: PathWalkSpec | None = None


class PedestrianActor(Strict):
    """A pedestrian on a crosswalk path or a sidewalk."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    type: Literal["pedestrian"]
    start: CrosswalkStart | SidewalkStart
    behavior: PedestrianBehavior = PedestrianBehavior()


def _actor_tag(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "vehicle"))
    return str(getattr(value, "type", "vehicle"))


ActorSpec = Annotated[
    Annotated[VehicleActor, Tag("vehicle")]
    | Annotated[PedestrianActor, Tag("pedestrian")]
    | Annotated[CyclistActor, Tag("cyclist")]
    | Annotated[StaticActor, Tag("static")]
    | Annotated[ParkedActor, Tag("parked")]
    | Annotated[ScriptedActor, Tag("scripted")],
    Discriminator(_actor_tag),
]


class EgoSpec(Strict):
    """The controlled vehicle: what it is, where it starts, where it must go."""

    vehicle: str = "sedan"
    start: LaneStart
    route: RouteSpec
    dynamics: DynamicsModel = Field("kinematic", description="vehicle model: kinematic bicycle or dynamic single-track")
    goal_margin_m: float = Field(20.0, ge=0, le=500, description="goal reached this far (m) into the destination lane")
    sensors: str | list[dict[str, Any]] | None = Field(
        None,
        description="sensor rig: a built-in rig name (vehicles/sensors/), a rig file relative to the scenario, "
        "or a list of sensors (docs/sensors.md); readings reach the agent in Observation.sensors",
    )


class AgentTimingSpec(Strict):
    """Timing realism for the agents of controlled vehicles (docs/agent-protocol.md); the CLI's
    --latency / --budget / --late-policy override it."""

    control_latency_s: float = Field(0.0, ge=0, le=5, description="delay (s) between a control and its effect")
    compute_budget_s: float | None = Field(
        None, gt=0, le=60, description="wall seconds an agent may take per step; a later answer counts as late"
    )
    late_policy: Literal["hold", "brake"] = Field("hold", description="what a late or missing control becomes")


class EndSpec(Strict):
    """When a run ends: timeout, ego at goal, (optionally) the first ego collision, or a trigger."""

    timeout_s: float = Field(60.0, gt=0, le=36000)
    ego_reaches_goal: bool = True
    on_ego_collision: bool = False
    when: TriggerSpec | None = Field(None, description="end the run (termination 'end_condition') when this holds")


class ThresholdMinTtc(Strict):
    """Minimum time-to-collision of the ego to the obstacle ahead must stay above this (s)."""

    min_ttc_s: float = Field(gt=0, le=30)


class ThresholdMaxDecel(Strict):
    """Peak ego deceleration must stay below this (m/s^2)."""

    max_decel_mps2: float = Field(gt=0, le=20)


class ThresholdCompletion(Strict):
    """Route completion (0..1) must reach at least this."""

    min_route_completion: float = Field(gt=0, le=1)


class ThresholdScore(Strict):
    """The simcore score (0..100) must reach at least this."""

    min_score: float = Field(ge=0, le=100)


class ThresholdMinThw(Strict):
    """Minimum time headway (gap / ego speed) to the obstacle ahead must stay above this (s)."""

    min_thw_s: float = Field(gt=0, le=30)


class ThresholdMinPet(Strict):
    """Minimum post-encroachment time on the ego's path must stay above this (s)."""

    min_pet_s: float = Field(gt=0, le=60)


class ThresholdMaxDrac(Strict):
    """Peak deceleration rate to avoid a crash (DRAC) must stay below this (m/s^2)."""

    max_drac_mps2: float = Field(gt=0, le=50)


class ThresholdMaxJerk(Strict):
    """Peak |longitudinal jerk| must stay below this (m/s^3)."""

    max_jerk_mps3: float = Field(gt=0, le=1000)


class ThresholdMaxLatAccel(Strict):
    """Peak |lateral acceleration| must stay below this (m/s^2)."""

    max_lateral_accel_mps2: float = Field(gt=0, le=50)


class ThresholdMaxYawRate(Strict):
    """Peak |yaw rate| must stay below this (rad/s)."""

    max_yaw_rate_radps: float = Field(gt=0, le=10)


CriterionSpec = (
    Literal[
        "no_collision",
        "no_red_light",
        "no_offroad",
        "reach_goal",
        "no_at_fault_collision",
        "no_stop_sign",
        "no_wrong_way",
        "no_speeding",
        "no_route_deviation",
        "no_blocked",
        "no_timeout",
    ]
    | ThresholdMinTtc
    | ThresholdMaxDecel
    | ThresholdCompletion
    | ThresholdScore
    | ThresholdMinThw
    | ThresholdMinPet
    | ThresholdMaxDrac
    | ThresholdMaxJerk
    | ThresholdMaxLatAccel
    | ThresholdMaxYawRate
)


class EuroNcapAebSpec(Strict):
    """Euro NCAP AEB-style verdict against ``target`` (the actor the ego must not hit).

    The test speed is ``test_speed_kph`` if given, else the ego's start speed.
    """

    target: str = Field(min_length=1, description="actor id of the target (vehicle or pedestrian)")
    test_speed_kph: float | None = Field(None, gt=0, le=250)
    test_type: Literal["CCRs", "CCRm", "CCRb", "CPNA", "CPFA"] | None = Field(
        None, description="Euro NCAP test type: adds the protocol's colour band and points (docs/scoring.md)"
    )


class UnR157Spec(Strict):
    """UN R157-style verdict: every ego collision a careful driver would have avoided fails it."""

    reaction_time_s: float = Field(0.75, ge=0.35, le=0.75, description="careful driver's reaction time (s)")
    decel_g: float = Field(0.774, gt=0, le=1.5, description="careful driver's braking (g)")


class RegulationSpec(Strict):
    """Regulation-style verdicts a scenario declares (docs/scoring.md, "Regulation verdicts")."""

    euro_ncap_aeb: EuroNcapAebSpec | None = None
    un_r157: UnR157Spec | None = None


# ----------------------------------------------------------------------------- storyboard

SignalStateName = Literal["red", "amber", "green"]
_ACTOR_REF = Field(min_length=1, description="actor id ('ego', an actor id, or a platoon member 'id#k')")
_ENTRY_NAME = r"^[A-Za-z_][A-Za-z0-9_\-]*$"


class DistanceCond(Strict):
    """Centre-to-centre distance of two actors' reference points below ``below_m``."""

    between: list[str] = Field(min_length=2, max_length=2, description="two actor ids")
    below_m: float = Field(gt=0, le=10000)


class _OneBound(Strict):
    """Exactly one of ``above_mps`` / ``below_mps``."""

    @model_validator(mode="after")
    def _one_bound(self) -> Any:
        if (self.above_mps is None) == (self.below_mps is None):  # type: ignore[attr-defined]
            raise ValueError("give exactly one of above_mps or below_mps")
        return self


class SpeedCond(_OneBound):
    """An actor's speed above or below a value (m/s); give exactly one of the two."""

    actor: str = _ACTOR_REF
    above_mps: float | None = Field(None, ge=0, le=100)
    below_mps: float | None = Field(None, gt=0, le=100)


class RelativeSpeedCond(_OneBound):
    """Speed of ``actor`` minus speed of ``to`` above or below a value (m/s, may be negative)."""

    actor: str = _ACTOR_REF
    to: str = _ACTOR_REF
    above_mps: float | None = Field(None, ge=-100, le=100)
    below_mps: float | None = Field(None, ge=-100, le=100)


class ReachesCond(Strict):
    """An actor's route progress enters lane ``lane`` (a lane on its route)."""

    actor: str = _ACTOR_REF
    lane: str = Field(min_length=1)


class InLaneCond(Strict):
    """An actor's reference point lies on lane ``lane`` (within half its width of the centre line)."""

    actor: str = _ACTOR_REF
    lane: str = Field(min_length=1)


class PositionCond(Strict):
    """An actor's reference point within ``within_m`` of the point (x, y) (m, ENU)."""

    actor: str = _ACTOR_REF
    x: float
    y: float
    within_m: float = Field(gt=0, le=10000)


class ProgressCond(Strict):
    """An actor's route progress (arc length s along its route, m) at or past ``above_m``."""

    actor: str = _ACTOR_REF
    above_m: float = Field(ge=0, le=1e6)


class GapCond(Strict):
    """Time headway or TTC of ``actor`` (the follower) to ``to`` below ``below_s`` (s)."""

    actor: str = _ACTOR_REF
    to: str = _ACTOR_REF
    below_s: float = Field(gt=0, le=100)


class SignalCond(Strict):
    """A signal group shows ``state``."""

    group: str = Field(min_length=1)
    state: SignalStateName


#: Quantities a ``compare`` trigger measures (docs/scenario-format.md, storyboard).
CompareMeasure = Literal[
    "time",
    "speed",
    "accel",
    "relative_speed",
    "distance",
    "longitudinal",
    "lateral",
    "headway",
    "ttc",
    "traveled",
    "remaining",
]
CompareRule = Literal["lt", "le", "gt", "ge", "eq", "ne"]


class CompareCond(Strict):
    """A measured quantity of ``actor`` (and ``to``) compared with ``value`` by ``rule``."""

    measure: CompareMeasure
    actor: str | None = Field(None, min_length=1)
    to: str | None = Field(None, min_length=1)
    rule: CompareRule
    value: float = Field(ge=-1e6, le=1e6)
    freespace: bool = Field(False, description="distances between bounding boxes (gap) instead of reference points")

    @model_validator(mode="after")
    def _refs(self) -> CompareCond:
        pair = self.measure in ("relative_speed", "distance", "longitudinal", "lateral", "headway", "ttc")
        if self.measure != "time" and self.actor is None:
            raise ValueError(f"measure {self.measure!r} needs actor")
        if pair != (self.to is not None):
            raise ValueError(f"measure {self.measure!r} {'needs' if pair else 'takes no'} to")
        return self


class CompareTrigger(Strict):
    """``{compare: {measure: headway, actor: A, to: B, rule: gt, value: 0.4}}``."""

    compare: CompareCond


class TimeTrigger(Strict):
    """Simulation time reaches ``time_s``."""

    time_s: float = Field(ge=0, le=36000)


class DistanceTrigger(Strict):
    """``{distance: {between: [A, B], below_m: D}}``."""

    distance: DistanceCond


class HeadwayTrigger(Strict):
    """``{headway: {actor: A, to: B, below_s: T}}``: bumper gap / speed of A below T."""

    headway: GapCond


class TtcTrigger(Strict):
    """``{ttc: {actor: A, to: B, below_s: T}}``: bumper gap / closing speed below T."""

    ttc: GapCond


class SpeedTrigger(Strict):
    """``{speed: {actor: A, above_mps: V}}`` or ``below_mps``."""

    speed: SpeedCond


class RelativeSpeedTrigger(Strict):
    """``{relative_speed: {actor: A, to: B, above_mps: V}}`` or ``below_mps``."""

    relative_speed: RelativeSpeedCond


class ReachesTrigger(Strict):
    """``{reaches: {actor: A, lane: L}}``."""

    reaches: ReachesCond


class InLaneTrigger(Strict):
    """``{in_lane: {actor: A, lane: L}}``."""

    in_lane: InLaneCond


class PositionTrigger(Strict):
    """``{position: {actor: A, x: X, y: Y, within_m: R}}``."""

    position: PositionCond


class ProgressTrigger(Strict):
    """``{progress: {actor: A, above_m: S}}``."""

    progress: ProgressCond


class SignalTrigger(Strict):
    """``{signal: {group: G, state: red|amber|green}}``."""

    signal: SignalCond


class AfterTrigger(Strict):
    """``{after: NAME}``: the storyboard entry named NAME has done its action."""

    after: str = Field(pattern=_ENTRY_NAME)


class BeforeTrigger(Strict):
    """``{before: NAME}``: the storyboard entry named NAME has not done its action yet."""

    before: str = Field(pattern=_ENTRY_NAME)


class DoneTrigger(Strict):
    """``{done: NAME}``: the storyboard entry named NAME has done its action and the action has finished
    (a speed profile reached its target, a lane change its duration, a synchronisation its arrival)."""

    done: str = Field(pattern=_ENTRY_NAME)


class DelayedCond(Strict):
    """``when`` first held at t0: holds from t0 + ``by_s`` on (latched)."""

    when: TriggerSpec
    by_s: float = Field(ge=0, le=36000)


class DelayedTrigger(Strict):
    """``{delayed: {when: TRIGGER, by_s: D}}``: true from D s after TRIGGER first held (a per-condition delay)."""

    delayed: DelayedCond


class EdgeCond(Strict):
    """An edge of ``when``: ``rising`` (false at the previous step's check, true now), ``falling``, ``both``."""

    when: TriggerSpec
    kind: Literal["rising", "falling", "both"] = "rising"


class EdgeTrigger(Strict):
    """``{edge: {when: TRIGGER, kind: rising}}``: holds at the check where TRIGGER changes (never at the first)."""

    edge: EdgeCond


class HeldCond(Strict):
    """``when`` has held at every check for ``for_s`` seconds."""

    when: TriggerSpec
    for_s: float = Field(ge=0, le=36000)


class HeldTrigger(Strict):
    """``{held: {when: TRIGGER, for_s: D}}``: TRIGGER has held without a break for D s (e.g. a standstill)."""

    held: HeldCond


class AnyTrigger(Strict):
    """True when any of the listed triggers is."""

    any: list[TriggerSpec] = Field(min_length=1)


class AllTrigger(Strict):
    """True when all of the listed triggers are (at the same check)."""

    all: list[TriggerSpec] = Field(min_length=1)


_TRIGGER_KEYS = (
    "time_s",
    "distance",
    "headway",
    "ttc",
    "speed",
    "relative_speed",
    "reaches",
    "in_lane",
    "position",
    "progress",
    "signal",
    "after",
    "any",
    "all",
    "compare",
    "done",
    "delayed",
    "edge",
    "held",
    "before",
)
_ACTION_KEYS = (
    "start",
    "spawn",
    "stop",
    "speed",
    "lane_change",
    "teleport",
    "signal",
    "remove",
    "friction",
    "weather",
    "end",
    "synchronize",
    "keep_distance",
    "mark",
    "follow_path",
    "speed_follow",
    "halt",
)


def _key_tag(keys: tuple[str, ...]) -> Any:
    def tag(value: Any) -> str | None:
        if isinstance(value, dict):
            found = [k for k in keys if k in value]
            return found[0] if len(found) == 1 else None
        fields = getattr(type(value), "model_fields", {})  # a string, number, list or null: no tag
        for k in keys:
            if k in fields:
                return k
        return None

    return tag


TriggerSpec = Annotated[
    Annotated[TimeTrigger, Tag("time_s")]
    | Annotated[DistanceTrigger, Tag("distance")]
    | Annotated[HeadwayTrigger, Tag("headway")]
    | Annotated[TtcTrigger, Tag("ttc")]
    | Annotated[SpeedTrigger, Tag("speed")]
    | Annotated[RelativeSpeedTrigger, Tag("relative_speed")]
    | Annotated[ReachesTrigger, Tag("reaches")]
    | Annotated[InLaneTrigger, Tag("in_lane")]
    | Annotated[PositionTrigger, Tag("position")]
    | Annotated[ProgressTrigger, Tag("progress")]
    | Annotated[SignalTrigger, Tag("signal")]
    | Annotated[AfterTrigger, Tag("after")]
    | Annotated[AnyTrigger, Tag("any")]
    | Annotated[AllTrigger, Tag("all")]
    | Annotated[CompareTrigger, Tag("compare")]
    | Annotated[DoneTrigger, Tag("done")]
    | Annotated[DelayedTrigger, Tag("delayed")]
    | Annotated[EdgeTrigger, Tag("edge")]
    | Annotated[HeldTrigger, Tag("held")]
    | Annotated[BeforeTrigger, Tag("before")],
    Discriminator(
        _key_tag(_TRIGGER_KEYS),
        custom_error_type="trigger",
        custom_error_message="a trigger has exactly one of the keys " + ", ".join(_TRIGGER_KEYS),
    ),
]


class SignalSet(Strict):
    """Force a signal group to a state; ``plan`` returns it to its timing plan."""

    group: str = Field(min_length=1)
    state: Literal["red", "amber", "green", "off", "plan"]


class _SpeedValue(Strict):
    """Optional speed (m/s) or speed_kph, not both."""

    speed: float | None = Field(None, ge=0, le=70)
    speed_kph: float | None = Field(None, ge=0, le=250)

    @model_validator(mode="after")
    def _not_both(self) -> Any:
        if self.speed is not None and self.speed_kph is not None:
            raise ValueError("give speed (m/s) or speed_kph, not both")
        return self

    def si_speed(self) -> float | None:
        """Speed (m/s), None if not given."""
        return kph_to_mps(self.speed_kph) if self.speed_kph is not None else self.speed


class PlaceSpec(_SpeedValue):
    """A pose: on a lane (``lane``, ``s``, ``offset_m``) or in the world (``x``, ``y``, ``yaw_deg``)."""

    lane: str | None = Field(None, min_length=1)
    s: float = Field(0.0, ge=0, description="arc length along the lane (m)")
    offset_m: float = Field(0.0, ge=-10, le=10, description="lateral offset from the lane centre (m, left +)")
    x: float | None = None
    y: float | None = None
    yaw_deg: float | None = Field(None, ge=-360, le=360, description="heading (deg CCW from east); default: route's")

    @model_validator(mode="after")
    def _lane_or_xy(self) -> PlaceSpec:
        has_xy = self.x is not None or self.y is not None
        if (self.lane is None) == (not has_xy):
            raise ValueError("give either lane (with s, offset_m) or x and y")
        if has_xy and (self.x is None or self.y is None):
            raise ValueError("give both x and y")
        return self


class SpawnSpec(Strict):
    """Which pre-declared actor appears, and optionally where (default: its declared start)."""

    actor: str = _ACTOR_REF
    at: PlaceSpec | None = None


class TeleportSpec(PlaceSpec):
    """Move an actor to a pose now (its route progress is re-projected); speed kept unless given."""

    actor: str = _ACTOR_REF


class SpeedProfileSpec(Strict):
    """Drive ``actor``'s speed to ``target`` (m/s) or ``target_kph`` with a profile shape.

    ``step``: at once. ``linear``: constant acceleration ``rate`` (m/s^2) or over ``duration``
    (s). ``cubic``: smoothstep v0 + (v1 - v0)(3u^2 - 2u^3), u = elapsed/duration (``rate``
    gives duration = |v1 - v0| / rate).
    """

    actor: str = _ACTOR_REF
    target: float | None = Field(None, ge=0, le=70)
    target_kph: float | None = Field(None, ge=0, le=250)
    shape: Literal["step", "linear", "cubic", "sinusoidal"] = "linear"
    rate: float | None = Field(None, gt=0, le=30, description="m/s^2")
    duration: float | None = Field(None, gt=0, le=3600, description="s")
    relative_to: str | None = Field(None, min_length=1, description="target relative to this actor's speed then")
    delta: float | None = Field(None, ge=-70, le=70, description="with relative_to: its speed + delta (m/s)")
    factor: float | None = Field(None, ge=0, le=10, description="with relative_to: its speed x factor")
    continuous: bool = Field(False, description="with relative_to (step): follow that speed at every step")
    distance: float | None = Field(None, gt=0, le=1e5, description="m covered by the ramp (instead of rate/duration)")

    @model_validator(mode="after")
    def _check(self) -> SpeedProfileSpec:
        if self.relative_to is not None:
            if (self.delta is None) == (self.factor is None) or self.target is not None or self.target_kph is not None:
                raise ValueError("relative_to takes exactly one of delta (m/s) or factor, and no target")
        elif self.delta is not None or self.factor is not None:
            raise ValueError("delta and factor need relative_to")
        elif (self.target is None) == (self.target_kph is None):
            raise ValueError("give exactly one of target (m/s) or target_kph")
        if self.shape != "step" and sum(x is not None for x in (self.rate, self.duration, self.distance)) != 1:
            raise ValueError(f"shape {self.shape!r} needs exactly one of rate (m/s^2), duration (s) or distance (m)")
        if self.continuous and (self.relative_to is None or self.shape != "step"):
            raise ValueError("continuous needs relative_to and shape step")
        return self

    def si_target(self) -> float:
        """Target speed (m/s)."""
        return kph_to_mps(self.target_kph) if self.target_kph is not None else float(self.target or 0.0)


class StopSpec(Strict):
    """Brake ``actor`` to a standstill at ``decel`` (m/s^2) and hold it there until started again."""

    actor: str = _ACTOR_REF
    decel: float = Field(4.0, gt=0, le=15)


class LaneChangeSpec(Strict):
    """Move ``actor`` one lane to the ``direction`` side over ``duration`` (s) (its route shifts)."""

    actor: str = _ACTOR_REF
    direction: Literal["left", "right"]
    duration: float = Field(3.0, gt=0, le=30)
    lanes: int = Field(1, ge=1, le=6, description="how many lanes to move")
    offset_m: float | None = Field(
        None, gt=0, le=30, description="move this far (m) instead of `lanes` lane offsets (a lane offset change)"
    )


class SyncSpec(Strict):
    """``actor`` times its speed so that it reaches ``at`` (x, y) when ``master`` reaches ``master_at``,
    then holds ``final_speed`` (m/s; or the master's speed + ``final_delta``; neither: its speed then)."""

    actor: str = _ACTOR_REF
    master: str = _ACTOR_REF
    at: list[float] = Field(min_length=2, max_length=2, description="[x, y] (m, ENU) on the actor's route")
    master_at: list[float] = Field(min_length=2, max_length=2, description="[x, y] (m) on the master's route")
    tolerance_m: float = Field(1.0, gt=0, le=50, description="arrival when this close (m) along the route")
    final_speed: float | None = Field(None, ge=0, le=70)
    final_delta: float | None = Field(None, ge=-70, le=70)
    gradual: bool = Field(
        False, description="reach the final speed gradually by the arrival (planned profile), not switch to it there"
    )

    @model_validator(mode="after")
    def _one_final(self) -> SyncSpec:
        if self.final_speed is not None and self.final_delta is not None:
            raise ValueError("give final_speed or final_delta, not both")
        return self


class KeepDistanceSpec(Strict):
    """``actor`` keeps ``distance_m`` (or ``time_gap_s`` x its speed) behind ``to`` (``side: ahead``: in front
    of it), every step: speed = speed of ``to`` + (gap - wanted) / 1 s, within the acceleration limits."""

    actor: str = _ACTOR_REF
    to: str = _ACTOR_REF
    distance_m: float | None = Field(None, ge=0, le=1000)
    time_gap_s: float | None = Field(None, ge=0, le=60)
    freespace: bool = Field(False, description="bumper gap instead of reference points")
    side: Literal["behind", "ahead", "any"] = Field("behind", description="where actor keeps itself; any: where it is")
    max_accel: float | None = Field(None, gt=0, le=30, description="m/s^2")
    max_decel: float | None = Field(None, gt=0, le=30, description="m/s^2")
    max_speed: float | None = Field(None, gt=0, le=100, description="m/s")
    continuous: bool = Field(True, description="false: the action is done when the distance is reached")
    max_accel_rate: float | None = Field(None, gt=0, le=1000, description="m/s^3: how fast acceleration may rise")
    max_decel_rate: float | None = Field(None, gt=0, le=1000, description="m/s^3: how fast acceleration may fall")

    @model_validator(mode="after")
    def _one_gap(self) -> KeepDistanceSpec:
        if (self.distance_m is None) == (self.time_gap_s is None):
            raise ValueError("give exactly one of distance_m or time_gap_s")
        return self


class KeepDistanceAction(Strict):
    """``{keep_distance: {actor: A, to: B, time_gap_s: 2}}``."""

    keep_distance: KeepDistanceSpec


class SyncAction(Strict):
    """``{synchronize: {actor: A, master: B, at: [x, y], master_at: [x, y]}}``."""

    synchronize: SyncSpec


class StartAction(Strict):
    """A pedestrian starts walking, a stopped vehicle drives on, a spawn-pending actor appears."""

    start: str = _ACTOR_REF


class SpawnAction(Strict):
    """``{spawn: {actor: A, at: {...}}}``: the actor (inactive until now) appears."""

    spawn: SpawnSpec


class StopAction(Strict):
    """``{stop: {actor: A, decel: D}}``."""

    stop: StopSpec


class SpeedAction(Strict):
    """``{speed: {actor: A, target_kph: V, shape: linear, rate: R}}``."""

    speed: SpeedProfileSpec


class LaneChangeAction(Strict):
    """``{lane_change: {actor: A, direction: left, duration: 3}}``."""

    lane_change: LaneChangeSpec


class TeleportAction(Strict):
    """``{teleport: {actor: A, lane: L, s: S}}`` or ``{teleport: {actor: A, x: X, y: Y, yaw_deg: H}}``."""

    teleport: TeleportSpec


class SignalAction(Strict):
    """``{signal: {group: G, state: red|amber|green|off|plan}}``."""

    signal: SignalSet


class RemoveAction(Strict):
    """An actor leaves the simulation (inactive from now on)."""

    remove: str = _ACTOR_REF


class FrictionAction(Strict):
    """The road friction becomes ``friction`` everywhere (single_track vehicles feel it)."""

    friction: float = Field(gt=0, le=1.5)


class WeatherAction(Strict):
    """``{weather: {rain_mm_h: R, fog_visibility_m: V}}``: the weather changes now."""

    weather: WeatherSpec


class EndAction(Strict):
    """End the run now; ``end`` is the termination reason."""

    end: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class FollowPathSpec(Strict):
    """``actor`` (a vehicle) follows the polyline ``points`` from where it is: its route is reshaped into it
    (world x, y in m; ``local: true``: offsets in the actor's frame when the action starts, x forward,
    y left), then goes on parallel to the old route."""

    actor: str = _ACTOR_REF
    points: list[list[float]] = Field(min_length=2, max_length=100000)
    local: bool = False

    @model_validator(mode="after")
    def _points_ok(self) -> FollowPathSpec:
        if any(len(p) != 2 for p in self.points):
            raise ValueError("each point is [x, y]")
        if all(p == self.points[0] for p in self.points):
            raise ValueError("the points must not all be the same")
        return self


class FollowPathAction(Strict):
    """``{follow_path: {actor: A, points: [[x, y], ...], local: false}}``."""

    follow_path: FollowPathSpec


class SpeedFollowSpec(Strict):
    """``actor`` tracks a speed profile: ``points`` [[t, v], ...] (t s after the start, increasing; v m/s),
    linear between them from its speed at the start, within acceleration and jerk limits."""

    actor: str = _ACTOR_REF
    points: list[list[float]] = Field(min_length=1, max_length=10000)
    max_accel: float | None = Field(None, gt=0, le=30, description="m/s^2")
    max_decel: float | None = Field(None, gt=0, le=30, description="m/s^2")
    max_accel_rate: float | None = Field(None, gt=0, le=1000, description="m/s^3: how fast acceleration may rise")
    max_decel_rate: float | None = Field(None, gt=0, le=1000, description="m/s^3: how fast acceleration may fall")

    @model_validator(mode="after")
    def _points_ok(self) -> SpeedFollowSpec:
        if any(len(p) != 2 or p[1] < 0 for p in self.points):
            raise ValueError("each point is [t, v] with v >= 0")
        if any(b[0] < a[0] for a, b in pairwise(self.points)) or self.points[0][0] < 0:
            raise ValueError("point times must be >= 0 and not decrease")
        return self


class SpeedFollowAction(Strict):
    """``{speed_follow: {actor: A, points: [[4, 10], [8, 4]], max_accel_rate: 4}}``."""

    speed_follow: SpeedFollowSpec


class HaltAction(Strict):
    """``{halt: A}``: pedestrian A stops walking (at its own deceleration) and stands until a ``start``."""

    halt: str = _ACTOR_REF


class MarkAction(Strict):
    """``{mark: LABEL}``: does nothing; other entries refer to when it fired with ``after`` (a translated
    OpenSCENARIO ParameterSetAction is one)."""

    mark: str = Field(min_length=1, max_length=200)


ActionSpec = Annotated[
    Annotated[StartAction, Tag("start")]
    | Annotated[SpawnAction, Tag("spawn")]
    | Annotated[StopAction, Tag("stop")]
    | Annotated[SpeedAction, Tag("speed")]
    | Annotated[LaneChangeAction, Tag("lane_change")]
    | Annotated[TeleportAction, Tag("teleport")]
    | Annotated[SignalAction, Tag("signal")]
    | Annotated[RemoveAction, Tag("remove")]
    | Annotated[FrictionAction, Tag("friction")]
    | Annotated[WeatherAction, Tag("weather")]
    | Annotated[EndAction, Tag("end")]
    | Annotated[SyncAction, Tag("synchronize")]
    | Annotated[KeepDistanceAction, Tag("keep_distance")]
    | Annotated[MarkAction, Tag("mark")]
    | Annotated[FollowPathAction, Tag("follow_path")]
    | Annotated[SpeedFollowAction, Tag("speed_follow")]
    | Annotated[HaltAction, Tag("halt")],
    Discriminator(
        _key_tag(_ACTION_KEYS),
        custom_error_type="action",
        custom_error_message="an action has exactly one of the keys " + ", ".join(_ACTION_KEYS),
    ),
]


class StoryEntry(Strict):
    """One storyboard entry: when ``when`` first holds, ``do`` happens ``delay_s`` later (once)."""

    name: str | None = Field(None, pattern=_ENTRY_NAME, description="name other entries use in `after:`")
    when: TriggerSpec
    do: ActionSpec
    delay_s: float = Field(0.0, ge=0, le=36000)


# ----------------------------------------------------------------------------- traffic rules and zones


class RulesSpec(Strict):
    """A rule set with adjustments (``rules: {base: generic, right_turn_on_red: true}``)."""

    base: Literal["generic", "korea"] = "generic"
    right_turn_on_red: bool | None = Field(None, description="allow right turn on red (after a full stop)")
    urban_kph: float | None = Field(None, gt=0, le=130)
    residential_kph: float | None = Field(None, gt=0, le=130)
    school_zone_kph: float | None = Field(None, gt=0, le=130)


class ZoneSpec(Strict):
    """A speed zone: the listed lanes, or the lanes whose midpoint lies in ``polygon``, get the zone limit."""

    kind: Literal["school", "residential", "urban"]
    lanes: list[str] | None = Field(None, min_length=1)
    polygon: list[list[float]] | None = Field(None, min_length=3, description="[[x, y], ...] (m, ENU)")
    limit_kph: float | None = Field(None, gt=0, le=130, description="default: the rule set's limit for the kind")

    @field_validator("polygon")
    @classmethod
    def _pairs(cls, poly: list[list[float]] | None) -> list[list[float]] | None:
        if poly is not None and any(len(p) != 2 for p in poly):
            raise ValueError("every polygon point is [x, y]")
        return poly

    @model_validator(mode="after")
    def _one_area(self) -> ZoneSpec:
        if (self.lanes is None) == (self.polygon is None):
            raise ValueError("give either lanes or polygon")
        return self


#: A scenario tag: a label for grouping results and coverage (``simcore results --group-by tag``).
ScenarioTag = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]*$")]


class ScenarioSpec(Strict):
    """A whole scenario file (format version 1). ``$name`` values refer to ``parameters``."""

    simcore: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    tags: list[ScenarioTag] = Field(
        default_factory=list,
        description="labels (letters, digits, _ . : / + -; up to 64 characters) carried into result.json, the"
        " batch results store (simcore results --group-by tag) and the coverage report",
    )
    seed: int = Field(0, ge=0, le=MAX_SEED)
    dt: float = Field(0.05, gt=0.001, le=0.5)
    map: MapSpec
    environment: EnvironmentSpec = EnvironmentSpec()
    parameters: dict[str, Any] = {}
    ego: EgoSpec | None = None
    actors: list[ActorSpec] = []
    end: EndSpec = EndSpec()
    criteria: list[CriterionSpec] = []
    regulation: RegulationSpec | None = Field(None, description="regulation-style verdicts (docs/scoring.md)")
    agent_timing: AgentTimingSpec = AgentTimingSpec()
    storyboard: list[StoryEntry] = Field(
        default_factory=list, description="triggered actions, each fired once (see docs/scenario-format.md)"
    )
    rules: Literal["generic", "korea"] | RulesSpec = Field(
        "generic", description="traffic rule set (docs/rules.md): generic or korea, or {base: ..., adjustments}"
    )
    zones: list[ZoneSpec] = Field(default_factory=list, description="school / residential / urban speed zones")
    traffic: TrafficSpec | None = Field(
        None, description="background vehicles and pedestrians (docs/scenario-format.md)"
    )

    def located_issues(self, doc: YamlDoc) -> list[Issue]:
        """Cross-field checks, each located at the offending key (after model validation)."""
        issues: list[Issue] = []
        starts = [(("ego",), self.ego)] if self.ego is not None else []
        starts += [(("actors", i), a) for i, a in enumerate(self.actors) if isinstance(a, VehicleActor)]  # type: ignore[misc]
        for path, owner in starts:
            if owner.start.speed is not None and owner.start.speed_kph is not None:
                issues.append(
                    doc.issue((*path, "start", "speed_kph"), "give speed (m/s) or speed_kph, not both", at_key=True)
                )
        seen: dict[str, int] = {}
        for i, a in enumerate(self.actors):
            if a.id == "ego":
                issues.append(doc.issue(("actors", i, "id"), "actor id 'ego' is reserved for the ego vehicle"))
            elif a.id in seen:
                issues.append(
                    doc.issue(
                        ("actors", i, "id"),
                        f"actor id {a.id!r} is used twice (first at actors[{seen[a.id]}])",
                    )
                )
            else:
                seen[a.id] = i
        return issues


def criterion_key(c: CriterionSpec) -> tuple[str, float | None]:
    """(name, threshold) of a criterion entry."""
    if isinstance(c, str):
        return c, None
    ((name, value),) = c.model_dump().items()
    return name, float(value)
