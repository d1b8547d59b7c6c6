"""Which OpenSCENARIO 1.0-1.3 elements simcore translates: supported, partial (with how), not yet.

``ELEMENTS`` lists every element name the ASAM XSDs 1.0, 1.1, 1.2 and 1.3.1 define, by the version
that introduced it (read once from the XSDs that ship with ``scenariogeneration``). ``STATUS`` is
the one place that says what the translator does with each; ``docs/openscenario-coverage.md`` is
updated from it (``python -m simcore.scenario.openscenario.coverage docs/openscenario-coverage.md``).
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


ELEMENTS: dict[str, list[str]] = {
    "1.0": _words("""
        AbsoluteSpeed AbsoluteTargetLane AbsoluteTargetLaneOffset AbsoluteTargetSpeed AccelerationCondition
        AcquirePositionAction Act Action Actions ActivateControllerAction Actors AddEntityAction AddValue
        AdditionalAxle AssignControllerAction AssignRouteAction Axles BoundingBox Brake ByEntityCondition
        ByType ByValueCondition Catalog CatalogLocations CatalogReference Center CentralObject Clothoid Clutch
        CollisionCondition Condition ConditionGroup ControlPoint Controller ControllerAction ControllerCatalog
        ControllerDistribution ControllerDistributionEntry CustomCommandAction DeleteEntityAction Dimensions
        Directory DistanceCondition DynamicConstraints EndOfRoadCondition Entities EntityAction
        EntityCondition EntityRef EntitySelection Environment EnvironmentAction EnvironmentCatalog Event File
        FileHeader FinalSpeed Fog FollowTrajectoryAction FromCurrentEntity FromLaneCoordinates
        FromRoadCoordinates FrontAxle Gear GlobalAction InRoutePosition InfrastructureAction Init Knot
        LaneChangeAction LaneChangeActionDynamics LaneChangeTarget LaneOffsetAction LaneOffsetActionDynamics
        LaneOffsetTarget LanePosition LateralAction LateralDistanceAction LogicFile LongitudinalAction
        LongitudinalDistanceAction Maneuver ManeuverCatalog ManeuverGroup Members MiscObject MiscObjectCatalog
        ModifyAction MultiplyByValue None Nurbs ObjectController OffroadCondition OpenSCENARIO OpenScenario
        Orientation OverrideControllerValueAction ParameterAction ParameterAssignment ParameterAssignments
        ParameterCondition ParameterDeclaration ParameterDeclarations ParkingBrake Pedestrian
        PedestrianCatalog Performance Phase Polyline Position Precipitation Private PrivateAction Properties
        Property ReachPositionCondition RearAxle RelativeDistanceCondition RelativeLanePosition
        RelativeObjectPosition RelativeRoadPosition RelativeSpeedCondition RelativeSpeedToMaster
        RelativeTargetLane RelativeTargetLaneOffset RelativeTargetSpeed RelativeWorldPosition RoadCondition
        RoadNetwork RoadPosition Route RouteCatalog RoutePosition RouteRef RoutingAction Rule ScenarioObject
        SceneGraphFile SetAction Shape SimulationTimeCondition SpeedAction SpeedActionDynamics
        SpeedActionTarget SpeedCondition StandStillCondition StartTrigger SteeringWheel StopTrigger Story
        Storyboard StoryboardElementStateCondition Sun SynchronizeAction TargetPosition TargetPositionMaster
        TeleportAction Throttle TimeHeadwayCondition TimeOfDay TimeOfDayCondition TimeReference
        TimeToCollisionCondition TimeToCollisionConditionTarget Timing TrafficAction TrafficDefinition
        TrafficSignalAction TrafficSignalCondition TrafficSignalController TrafficSignalControllerAction
        TrafficSignalControllerCondition TrafficSignalState TrafficSignalStateAction TrafficSignals
        TrafficSinkAction TrafficSourceAction TrafficSwarmAction Trajectory TrajectoryCatalog
        TrajectoryFollowingMode TraveledDistanceCondition TriggeringEntities UserDefinedAction
        UserDefinedValueCondition Vehicle VehicleCatalog VehicleCategoryDistribution
        VehicleCategoryDistributionEntry Vertex VisibilityAction Waypoint Weather WorldPosition
    """),
    "1.1": _words("""
        Bin ConstraintGroup Deterministic DeterministicMultiParameterDistribution
        DeterministicSingleParameterDistribution DistributionRange DistributionSet Element
        ExternalObjectReference GeoPosition Histogram License NormalDistribution ParameterValueDistribution
        ParameterValueSet PoissonDistribution ProbabilityDistributionSet Range ScenarioFile Stochastic
        StochasticDistribution TargetDistanceSteadyState TargetTimeSteadyState TrafficStopAction
        TrajectoryPosition TrajectoryRef UniformDistribution UsedArea UserDefinedDistribution ValueConstraint
        ValueSetDistribution Wind
    """),
    "1.2": _words("""
        AnimationAction AnimationFile AnimationState AnimationType AppearanceAction AutomaticGear BrakeForce
        BrakePercent Color ColorCmyk ColorRgb ComponentAnimation CustomContent DirectionOfTravelDistribution
        DomeFile DomeImage InitialSpeedRange LightState LightStateAction LightType ManualGear
        PedestrianAnimation PedestrianGesture RelativeClearanceCondition RelativeLaneRange SensorReference
        SensorReferenceSet SpeedProfileAction SpeedProfileEntry TrafficeSignalGroupState UserDefinedAnimation
        UserDefinedComponent UserDefinedLight VariableAction VariableCondition VariableDeclaration
        VariableDeclarations VehicleComponent VehicleLight VehicleRoleDistribution
        VehicleRoleDistributionEntry
    """),
    "1.3": _words("""
        AngleCondition ClothoidSpline ClothoidSplineSegment ConnectTrailerAction DisconnectTrailerAction
        EntityDistribution EntityDistributionEntry Lane LogNormalDistribution MonitorDeclaration
        MonitorDeclarations Polygon PositionStart RandomRouteAction RelativeAngleCondition RoadCursor
        RoadRange ScenarioObjectTemplate SetMonitorAction TrafficArea TrafficAreaAction TrafficDistribution
        TrafficDistributionEntry TrafficSignalGroupState Trailer TrailerAction TrailerCoupler TrailerHitch
        TrailerRef
    """),
}

#: Version that introduced each element.
FIRST_VERSION: dict[str, str] = {n: v for v, names in ELEMENTS.items() for n in names}

SUPPORTED = set(
    _words("""
    OpenSCENARIO FileHeader License ParameterDeclarations ParameterDeclaration CatalogLocations Directory
    VehicleCatalog PedestrianCatalog MiscObjectCatalog ControllerCatalog ManeuverCatalog RouteCatalog
    EnvironmentCatalog TrajectoryCatalog Catalog CatalogReference ParameterAssignments ParameterAssignment
    RoadNetwork LogicFile SceneGraphFile Entities ScenarioObject Properties Property BoundingBox Center Dimensions
    Performance Axles FrontAxle RearAxle AdditionalAxle Storyboard Init Actions Private PrivateAction GlobalAction
    Story Actors EntityRef Maneuver Action StartTrigger StopTrigger ConditionGroup Condition
    ByValueCondition ByEntityCondition TriggeringEntities EntityCondition Position LanePosition RoadPosition
    WorldPosition RelativeLanePosition RelativeRoadPosition RelativeObjectPosition RelativeWorldPosition
    Orientation TeleportAction LongitudinalAction SpeedAction SpeedActionTarget AbsoluteTargetSpeed LateralAction
    LaneChangeTarget AbsoluteTargetLane InfrastructureAction TrafficSignalAction SimulationTimeCondition
    SpeedCondition RelativeSpeedCondition AccelerationCondition TraveledDistanceCondition
    ParameterValueDistribution ScenarioFile Deterministic DeterministicSingleParameterDistribution
    DeterministicMultiParameterDistribution DistributionSet DistributionRange Element Range ValueSetDistribution
    ParameterValueSet Stochastic StochasticDistribution UniformDistribution NormalDistribution
    ProbabilityDistributionSet SpeedActionDynamics DeleteEntityAction SetAction ModifyAction AddValue
    MultiplyByValue
    """)
)

PARTIAL: dict[str, str] = {
    "LongitudinalDistanceAction": "our keep_distance: speed = the other's + gap error / 1 s within the "
    "acceleration, deceleration and speed limits (esmini's controller differs in detail); with "
    "maxAccelerationRate / maxDecelerationRate the acceleration rises / falls by at most rate x dt a step",
    "FollowTrajectoryAction": "pedestrians: a polyline walked vertex by vertex at the walking speed (our path "
    "walk), then on along the lane of the last vertex in the last segment's direction (the default controller "
    "keeps lane and speed, as esmini); an Init trajectory places a pedestrian nothing else places; it stands at "
    "the first vertex from the start. Vehicles: the route from where it is is reshaped into the polyline (absolute "
    "vertices) or clothoid (sampled every 0.5 m; in its own frame when it starts at the entity itself) and goes "
    "on parallel to the old route; the driver tracks it (our follow_path), at its own speed (TimeReference "
    "None); complete at the end; a closed polyline goes back to its first vertex (one lap). Timing, "
    "initialDistanceOffset, NURBS, clothoid splines, closed clothoids and closed pedestrian trajectories refused",
    "Act": "start trigger latched (with its delay), combined with each event's; StopTrigger: no entry of the act "
    "starts after it (`before`); refused when the act has actions that keep running (stopping them: not yet)",
    "ManeuverGroup": "actors by EntityRef; maximumExecutionCount > 1 refused",
    "Vertex": "positions only (a TimeReference with Timing is refused)",
    "Polyline": "see FollowTrajectoryAction",
    "Clothoid": "vehicles, see FollowTrajectoryAction",
    "Shape": "Polyline and Clothoid (vehicles), see FollowTrajectoryAction",
    "TrajectoryRef": "see FollowTrajectoryAction",
    "TrajectoryFollowingMode": "position and follow both track the reshaped route",
    "TimeReference": "None only (Timing refused)",
    "Trajectory": "see FollowTrajectoryAction",
    "Vehicle": "vehicleCategory picks a built-in vehicle (car: sedan, van, truck, bus: city_bus,"
    " bicycle); the file's dimensions and performance are not copied",
    "Pedestrian": "on the nearest lane (sidewalks preferred); its first SpeedAction starts it: "
    "along its lane, straight across the road when headed across it (our jaywalk), or along its "
    "FollowTrajectoryAction's polyline; one walking speed (a speed of 0 stops it at its deceleration, our "
    "`halt`; its walking speed starts it again); a TeleportAction to itself (dx = dy = 0, heading kept: "
    "a roll or pitch) changes nothing in the plane",
    "MiscObject": "a static box of the file's length and width at its Init pose",
    "Event": "maximumExecutionCount: execution j starts the step after execution j - 1 ended, when its trigger "
    "holds (copies of its entries); refused for lane changes, trajectories and AddEntity (their translation "
    "depends on where the entity is); priority override/overwrite and parallel as written, skip refused",
    "RelativeTargetSpeed": "delta or factor of the entity's speed when the action starts; continuous with a "
    "step shape follows it every step (ramps: not yet)",
    "LaneChangeAction": "shifts the route sideways by the lane offset (our lane_change, `lanes` for "
    "several; by metres from a vehicle driving beside its lane); targetLaneOffset not yet",
    "LaneOffsetAction": "our lane_change by `offset_m` from the offset now to the target over "
    "T = sqrt(6 d / maxLateralAcc) (the smoothstep's peak lateral acceleration); shapes run as smoothstep; "
    "relative targets use the other entity's offset as translated so far; without maxLateralAcc refused",
    "LaneOffsetActionDynamics": "see LaneOffsetAction",
    "LaneOffsetTarget": "see LaneOffsetAction",
    "AbsoluteTargetLaneOffset": "left (+) of the lane centre along the road's t axis",
    "RelativeTargetLaneOffset": "see LaneOffsetAction",
    "LaneChangeActionDynamics": "time; distance as the time it takes at the start speed; every shape runs as "
    "smoothstep",
    "RelativeTargetLane": "positive to the left of the reference entity's direction of travel",
    "StoryboardElementStateCondition": "startTransition/runningState: the element's first entry has fired (`after`); "
    "endTransition/completeState: all its entries have finished (`done`); standby, "
    "skip and stop states not yet",
    "TimeHeadwayCondition": "straight-line (or bumper gap with freespace) distance / speed, signed: negative "
    "when the reference entity is behind (esmini's behaviour)",
    "TimeToCollisionCondition": "to an entity (bumper gap / closing speed); to a position not yet",
    "TimeToCollisionConditionTarget": "EntityRef only",
    "RelativeDistanceCondition": "cartesian, longitudinal (signed) and lateral in the triggering entity's heading "
    "frame, not in road coordinates",
    "ReachPositionCondition": "reference point within the tolerance of the position",
    "DistanceCondition": "rules lessThan / lessOrEqual only, reference point to the position",
    "StandStillCondition": "speed below 0.01 m/s at every check for the duration (our `held`)",
    "CollisionCondition": "with a named entity (bounding boxes touch); ByType not yet",
    "EndOfRoadCondition": "the end of the entity's route (within 0.5 m), for its duration (our `held`)",
    "ParameterCondition": "decided at load from the parameter's value; a ParameterAction's change holds from "
    "its firing (see ParameterAction); a change that makes it stop holding is refused",
    "ParameterAction": "SetAction / ModifyAction: the value ParameterConditions see, from the action's firing "
    "(our `mark` + `after`); in Init from the start; one storyboard change per parameter; $name references "
    "keep their load-time value (constants, as OpenSCENARIO 1.2 defines parameters)",
    "EntityAction": "DeleteEntityAction: our `remove`; AddEntityAction for an entity Init does not place: "
    "absent until then, appears at the position (our `spawn`); adding an entity already there refused",
    "AddEntityAction": "see EntityAction",
    "TrafficSignalCondition": "as TrafficSignalStateAction",
    "TrafficSignalStateAction": "state names with red / yellow / green or esmini's lamp lists (red;yellow;green, "
    "red;green); the signal's group switches",
    "RoutingAction": "AssignRouteAction in Init",
    "AssignRouteAction": "in Init: the destination is the last waypoint's lane; the path there is ours "
    "(fastest lanes), not the waypoints'",
    "Route": "its last waypoint (see AssignRouteAction)",
    "Waypoint": "see AssignRouteAction",
    "RouteRef": "in RoutePosition",
    "RoutePosition": "FromLaneCoordinates on the road of the route's first waypoint",
    "InRoutePosition": "FromLaneCoordinates only",
    "FromLaneCoordinates": "pathS counted from the first waypoint on its road",
    "SynchronizeAction": "our `synchronize`: the actor's speed is its remaining route distance over the "
    "master's remaining time, every step; with a FinalSpeed it reaches that speed at the target position "
    "(the standard) gradually: a quadratic speed profile over the master's remaining time, replanned every step",
    "TargetPosition": "see SynchronizeAction",
    "TargetPositionMaster": "see SynchronizeAction",
    "FinalSpeed": "see SynchronizeAction",
    "AbsoluteSpeed": "see SynchronizeAction",
    "RelativeSpeedToMaster": "delta (factor not yet)",
    "SpeedProfileAction": "position: a chain of exact linear ramps; follow: our speed_follow tracks the "
    "profile within the DynamicConstraints' acceleration and jerk limits (no look-ahead: it overshoots a "
    "corner by up to a^2 / (2 rate), where esmini plans jerk-limited segments); entityRef not yet",
    "SpeedProfileEntry": "time to reach the speed; without it the DynamicConstraints' acceleration",
    "DynamicConstraints": "maxAcceleration / maxDeceleration for position-mode speed profile entries without a "
    "time; in follow-mode profiles and LongitudinalDistanceAction also the jerk limits maxAccelerationRate / "
    "maxDecelerationRate (and maxSpeed in the latter)",
    "ActivateControllerAction": "on the ego: no effect (the agent is the ego's controller); on others refused",
    "ControllerAction": "as ActivateControllerAction",
    "ObjectController": "the ego's controller is the agent (--agent); others are refused",
    "Controller": "see ObjectController",
}

NOT_YET_NOTES: dict[str, str] = {
    "LateralDistanceAction": "needs a new storyboard kind",
}


def status(name: str) -> str:
    """``supported``, ``partial`` or ``not yet``."""
    if name in SUPPORTED:
        return "supported"
    return "partial" if name in PARTIAL else "not yet"


def counts() -> dict[str, int]:
    """Number of elements per status over 1.0-1.3."""
    out = {"supported": 0, "partial": 0, "not yet": 0}
    for n in FIRST_VERSION:
        out[status(n)] += 1
    return out


def table() -> str:
    """The markdown table of every element: version, status, note."""
    rows = ["| element | since | status | how / why |", "| --- | --- | --- | --- |"]
    for n in sorted(FIRST_VERSION, key=str.lower):
        note = PARTIAL.get(n, NOT_YET_NOTES.get(n, ""))
        rows.append(f"| {n} | {FIRST_VERSION[n]} | {status(n)} | {note} |")
    return "\n".join(rows)


BEGIN, END = "<!-- coverage table: generated -->", "<!-- end of coverage table -->"


def summary() -> str:
    """The counts line of the coverage page."""
    c = counts()
    return (
        f"**{c['supported']} supported, {c['partial']} partial, {c['not yet']} not yet** "
        f"(of {sum(c.values())} elements defined by OpenSCENARIO 1.0-1.3)"
    )


def render(page: str) -> str:
    """``page`` with the text between the markers replaced by the counts and the table."""
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{summary()}\n\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    doc = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openscenario-coverage.md")
    doc.write_text(render(doc.read_text(encoding="utf-8")), encoding="utf-8")
