"""Scenario file format, version 1: pydantic models, one per YAML block (the source of truth).

Keys without a unit suffix are SI (m, s, m/s, m/s^2, rad); ``_kph`` and ``_deg`` keys are
converted by the ``si_*`` helpers here, the one place where units change.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from simcore.scenario.errors import Issue
from simcore.scenario.yaml_source import YamlDoc

KPH = 1 / 3.6

_CFG = ConfigDict(extra="forbid", frozen=True)


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
            return self.speed_kph * KPH
        return self.speed or 0.0


class RouteSpec(Strict):
    """Destination lane; the route is the fastest lane sequence there (lane changes allowed)."""

    to: str


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


class EnvironmentSpec(Strict):
    """Road surface (``environment:``): one friction for the whole map, optionally other values on some lanes."""

    friction: float = Field(
        1.0, gt=0, le=1.5, description="tyre-road friction coefficient mu (single_track vehicles; 0.3 ice, 1.0 dry)"
    )
    surfaces: list[SurfaceSpec] = Field(
        default_factory=list,
        description="lanes with a friction of their own (a later entry wins where lanes repeat)",
    )


class VehicleBehavior(Strict):
    """How an NPC vehicle drives."""

    idm: IdmSpec = IdmSpec()


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


class CrosswalkStart(Strict):
    """A pedestrian starting at one end of a crosswalk (``side`` is a compass direction)."""

    crosswalk: str
    side: Literal["north", "east", "south", "west"]
    offset_m: float = Field(2.5, ge=0.5, le=50, description="distance before the kerb (m)")


class CrossSpec(Strict):
    """Walk across at ``speed`` (m/s) from ``delay_s`` on; wait for the walk signal if ``obey_signal``."""

    speed: float = Field(1.4, gt=0.2, le=3.0)
    obey_signal: bool = True
    delay_s: float = Field(0.0, ge=0, le=3600, description="stand still until this time (s)")


class PedestrianBehavior(Strict):
    """How a pedestrian moves."""

    cross: CrossSpec = CrossSpec()


class PedestrianActor(Strict):
    """A pedestrian on a crosswalk path."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    type: Literal["pedestrian"]
    start: CrosswalkStart
    behavior: PedestrianBehavior = PedestrianBehavior()


def _actor_tag(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "vehicle"))
    return str(getattr(value, "type", "vehicle"))


ActorSpec = Annotated[
    Annotated[VehicleActor, Tag("vehicle")] | Annotated[PedestrianActor, Tag("pedestrian")],
    Discriminator(_actor_tag),
]


class EgoSpec(Strict):
    """The controlled vehicle: what it is, where it starts, where it must go."""

    vehicle: str = "sedan"
    start: LaneStart
    route: RouteSpec
    dynamics: DynamicsModel = Field("kinematic", description="vehicle model: kinematic bicycle or dynamic single-track")
    goal_margin_m: float = Field(20.0, ge=0, le=500, description="goal reached this far (m) into the destination lane")


class EndSpec(Strict):
    """When a run ends: timeout, ego at goal, or (optionally) the first ego collision."""

    timeout_s: float = Field(60.0, gt=0, le=36000)
    ego_reaches_goal: bool = True
    on_ego_collision: bool = False


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


class DistanceCond(Strict):
    """Centre-to-centre distance of two actors' reference points below ``below_m``."""

    between: list[str] = Field(min_length=2, max_length=2, description="two actor ids")
    below_m: float = Field(gt=0, le=10000)


class SpeedCond(Strict):
    """An actor's speed above or below a value (m/s); give exactly one of the two."""

    actor: str = _ACTOR_REF
    above_mps: float | None = Field(None, ge=0, le=100)
    below_mps: float | None = Field(None, gt=0, le=100)

    @model_validator(mode="after")
    def _one_bound(self) -> SpeedCond:
        if (self.above_mps is None) == (self.below_mps is None):
            raise ValueError("give exactly one of above_mps or below_mps")
        return self


class ReachesCond(Strict):
    """An actor's route progress enters lane ``lane`` (a lane on its route)."""

    actor: str = _ACTOR_REF
    lane: str = Field(min_length=1)


class SignalCond(Strict):
    """A signal group shows ``state``."""

    group: str = Field(min_length=1)
    state: SignalStateName


class TimeTrigger(Strict):
    """Simulation time reaches ``time_s``."""

    time_s: float = Field(ge=0, le=36000)


class DistanceTrigger(Strict):
    """``{distance: {between: [A, B], below_m: D}}``."""

    distance: DistanceCond


class SpeedTrigger(Strict):
    """``{speed: {actor: A, above_mps: V}}`` or ``below_mps``."""

    speed: SpeedCond


class ReachesTrigger(Strict):
    """``{reaches: {actor: A, lane: L}}``."""

    reaches: ReachesCond


class SignalTrigger(Strict):
    """``{signal: {group: G, state: red|amber|green}}``."""

    signal: SignalCond


class AnyTrigger(Strict):
    """True when any of the listed triggers is."""

    any: list[TriggerSpec] = Field(min_length=1)


class AllTrigger(Strict):
    """True when all of the listed triggers are (at the same check)."""

    all: list[TriggerSpec] = Field(min_length=1)


_TRIGGER_KEYS = ("time_s", "distance", "speed", "reaches", "signal", "any", "all")
_ACTION_KEYS = ("start", "signal", "remove", "friction", "end")


def _key_tag(keys: tuple[str, ...]) -> Any:
    def tag(value: Any) -> str | None:
        if isinstance(value, dict):
            found = [k for k in keys if k in value]
            return found[0] if len(found) == 1 else None
        for k in keys:
            if k in type(value).model_fields:
                return k
        return None

    return tag


TriggerSpec = Annotated[
    Annotated[TimeTrigger, Tag("time_s")]
    | Annotated[DistanceTrigger, Tag("distance")]
    | Annotated[SpeedTrigger, Tag("speed")]
    | Annotated[ReachesTrigger, Tag("reaches")]
    | Annotated[SignalTrigger, Tag("signal")]
    | Annotated[AnyTrigger, Tag("any")]
    | Annotated[AllTrigger, Tag("all")],
    Discriminator(
        _key_tag(_TRIGGER_KEYS),
        custom_error_type="trigger",
        custom_error_message="a trigger has exactly one of the keys " + ", ".join(_TRIGGER_KEYS),
    ),
]
AnyTrigger.model_rebuild()
AllTrigger.model_rebuild()


class SignalSet(Strict):
    """Force a signal group to a state; ``plan`` returns it to its timing plan."""

    group: str = Field(min_length=1)
    state: Literal["red", "amber", "green", "off", "plan"]


class StartAction(Strict):
    """A pedestrian starts walking (it stands still until then)."""

    start: str = _ACTOR_REF


class SignalAction(Strict):
    """``{signal: {group: G, state: red|amber|green|off|plan}}``."""

    signal: SignalSet


class RemoveAction(Strict):
    """An actor leaves the simulation (inactive from now on)."""

    remove: str = _ACTOR_REF


class FrictionAction(Strict):
    """The road friction becomes ``friction`` everywhere (single_track vehicles feel it)."""

    friction: float = Field(gt=0, le=1.5)


class EndAction(Strict):
    """End the run now; ``end`` is the termination reason."""

    end: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")


ActionSpec = Annotated[
    Annotated[StartAction, Tag("start")]
    | Annotated[SignalAction, Tag("signal")]
    | Annotated[RemoveAction, Tag("remove")]
    | Annotated[FrictionAction, Tag("friction")]
    | Annotated[EndAction, Tag("end")],
    Discriminator(
        _key_tag(_ACTION_KEYS),
        custom_error_type="action",
        custom_error_message="an action has exactly one of the keys " + ", ".join(_ACTION_KEYS),
    ),
]


class StoryEntry(Strict):
    """One storyboard entry: when ``when`` first holds, ``do`` happens ``delay_s`` later (once)."""

    when: TriggerSpec
    do: ActionSpec
    delay_s: float = Field(0.0, ge=0, le=36000)


class ScenarioSpec(Strict):
    """A whole scenario file (format version 1). ``$name`` values refer to ``parameters``."""

    simcore: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(0, ge=0, lt=2**63)
    dt: float = Field(0.05, gt=0.001, le=0.5)
    map: MapSpec
    environment: EnvironmentSpec = EnvironmentSpec()
    parameters: dict[str, Any] = {}
    ego: EgoSpec | None = None
    actors: list[ActorSpec] = []
    end: EndSpec = EndSpec()
    criteria: list[CriterionSpec] = []
    regulation: RegulationSpec | None = Field(None, description="regulation-style verdicts (docs/scoring.md)")
    storyboard: list[StoryEntry] = Field(
        default_factory=list, description="triggered actions, each fired once (see docs/scenario-format.md)"
    )

    def located_issues(self, doc: YamlDoc) -> list[Issue]:
        """Cross-field checks, each located at the offending key (after model validation)."""
        issues: list[Issue] = []
        starts = [(("ego",), self.ego)] if self.ego is not None else []
        starts += [(("actors", i), a) for i, a in enumerate(self.actors) if isinstance(a, VehicleActor)]
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
