"""The metric registry: every metric of ``result.json`` named once, with unit, meaning, direction and slot.

``Simulation.result`` writes exactly these metrics in this order; the result JSON Schema
(``report.result_schema``), the metric-bound criteria (``evaluation.scoring``) and the table
in docs/result-format.md are generated from it (a test checks the doc). ``slot`` is the
accumulator slot of ``metrics_kernels`` the value is read from as is; -1 marks a metric the
runner derives from the run summary, the events or several slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simcore.evaluation import metrics_kernels as mk

Better = Literal["higher", "lower", ""]


@dataclass(frozen=True)
class Metric:
    """One ego metric of a run.

    Attributes:
        name: key in ``result.json`` ``metrics`` (unit suffix included, e.g. ``min_ttc_s``).
        unit: SI unit, ``-`` for a ratio, ``count`` for a number of events.
        meaning: one line, how it is measured.
        better: ``higher`` / ``lower`` is better, ``""`` neither (a description of the run).
        slot: ``metrics_kernels`` accumulator slot read as is; -1: derived by the runner.
        bound: ``min`` / ``max``: a scenario criterion of this name requires value >= / <= a threshold.
        nullable: ``null`` in result.json when the quantity never occurred (e.g. never closing in).
        post_run: computed after the run from the recorded trajectory (``evaluation.post_run``);
            ``null`` when the run recorded none (or has no ego).
    """

    name: str
    unit: str
    meaning: str
    better: Better
    slot: int = -1
    bound: Literal["min", "max", ""] = ""
    nullable: bool = False
    post_run: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("route_completion", "-", "fraction of the ego's route driven, 0..1 (1 once the goal is reached)", "higher"),
    Metric("min_ttc_s", "s", "minimum time-to-collision to the obstacle ahead on the ego's route", "higher",
           mk.M_MIN_TTC, "min", nullable=True),
    Metric("min_gap_m", "m", "minimum bumper gap to an obstacle in the ego's path corridor", "higher",
           mk.M_MIN_GAP, nullable=True),
    Metric("min_thw_s", "s", "minimum time headway (gap / speed) to the obstacle ahead while moving", "higher",
           mk.M_MIN_THW, "min", nullable=True),
    Metric("max_drac_mps2", "m/s^2", "peak deceleration rate to avoid a crash while closing in", "lower",
           mk.M_MAX_DRAC, "max"),
    Metric("min_pet_s", "s", "minimum post-encroachment time on the ego's path", "higher", mk.M_MIN_PET, "min",
           nullable=True),
    Metric("max_decel_mps2", "m/s^2", "largest ego deceleration", "lower", mk.M_MAX_DECEL, "max"),
    Metric("max_accel_mps2", "m/s^2", "largest ego acceleration", "lower", mk.M_MAX_ACCEL),
    Metric("max_jerk_mps3", "m/s^3", "largest absolute ego longitudinal jerk", "lower", mk.M_MAX_JERK, "max"),
    Metric("max_lateral_accel_mps2", "m/s^2", "largest ego lateral acceleration, speed x yaw rate", "lower",
           mk.M_MAX_LAT_ACCEL, "max"),
    Metric("max_yaw_rate_radps", "rad/s", "largest absolute ego yaw rate", "lower", mk.M_MAX_YAW_RATE, "max"),
    Metric("max_yaw_accel_radps2", "rad/s^2", "largest absolute ego yaw acceleration", "lower", mk.M_MAX_YAW_ACCEL),
    Metric("distance_m", "m", "distance the ego drove", "", mk.M_DISTANCE),
    Metric("mean_speed_mps", "m/s", "mean ego speed over the evaluated steps", ""),
    Metric("collisions", "count", "ego collisions (vehicles, cyclists, pedestrians, static objects)", "lower"),
    Metric("collisions_pedestrian", "count", "ego collisions with pedestrians", "lower"),
    Metric("collisions_cyclist", "count", "ego collisions with cyclists", "lower"),
    Metric("collisions_static", "count", "ego collisions with static objects", "lower"),
    Metric("collisions_at_fault", "count", "ego collisions the ego was at fault for (or not assessed)", "lower"),
    Metric("red_lights", "count", "red lights the ego ran", "lower"),
    Metric("stop_signs", "count", "stop signs the ego did not stop at", "lower"),
    Metric("offroad", "count", "times the ego left the drivable area", "lower"),
    Metric("wrong_way", "count", "times the ego drove against the lane direction", "lower"),
    Metric("wrong_way_distance_m", "m", "distance driven against the lane direction", "lower", mk.M_WRONG_WAY_DIST),
    Metric("max_wrong_way_run_m", "m", "longest run against the lane direction", "lower", mk.M_MAX_WW_RUN),
    Metric("speeding", "count", "times the ego went above the limit + 0.5 m/s", "lower"),
    Metric("speeding_time_s", "s", "time above the limit + 0.5 m/s", "lower", mk.M_SPEEDING_TIME),
    Metric("max_overspeed_mps", "m/s", "peak speed above the limit (0 if never above)", "lower"),
    Metric("overspeed_integral_m", "m", "integral of the speed above the limit over time", "lower",
           mk.M_OVERSPEED_INT),
    Metric("route_deviations", "count", "times the ego left its route corridor", "lower"),
    Metric("max_route_deviation_m", "m", "peak absolute lateral offset from the route", "lower", mk.M_MAX_DEVIATION),
    Metric("blocked", "count", "times the ego stood still without a reason for too long", "lower"),
    Metric("max_standing_s", "s", "longest time standing without a reason", "lower", mk.M_MAX_STILL),
    Metric("timed_out", "count", "1 if the run timed out before the goal", "lower"),
    Metric("first_impact_time_s", "s", "time of the ego's first collision", "", mk.M_FIRST_IMPACT_T, nullable=True),
    Metric("first_impact_speed_mps", "m/s", "ego speed at its first collision", "lower", mk.M_FIRST_IMPACT_V,
           nullable=True),
    Metric("evaluated_time_s", "s", "time over which the ego was evaluated (steps x dt)", ""),
    Metric("npc_routes_done", "count", "other actors that finished their routes", ""),
    Metric("actors", "count", "actors in the scenario (rows, ego included)", ""),
    # post-run (evaluation.post_run: CARLA route criteria, NAVSIM lane keeping, nuPlan comfort; docs/scoring.md)
    *(Metric(f"carla_collisions_{k}", "count", f"ego collisions with {k} objects as CARLA's CollisionTest counts them",
             "lower", nullable=True, post_run=True) for k in ("pedestrian", "vehicle", "static")),
    *(Metric(f"min_speed_pct_{i}", "%", f"ego mean speed / surrounding traffic's mean speed over route quarter {i} "
             "(CARLA minimum speed; >= 100: no infraction; null: not reached)", "higher", nullable=True, post_run=True)
      for i in (1, 2, 3, 4)),
    Metric("min_speed_infractions", "count", "route quarters below 100 % of the surrounding traffic's speed", "lower",
           nullable=True, post_run=True),
    Metric("outside_route_lanes_pct", "%", "share of route progress made outside the route's lanes", "lower",
           nullable=True, post_run=True),
    Metric("outside_route_lanes_m", "m", "route progress made outside the route's lanes", "lower", nullable=True,
           post_run=True),
    Metric("yield_emergency_vehicle_infractions", "count", "emergency vehicles the ego ended up in front of",
           "lower", nullable=True, post_run=True),
    Metric("scenario_timeouts", "count", "1 if the run hit its timeout before the goal (CARLA scenario timeout)",
           "lower", nullable=True, post_run=True),
    Metric("carla_route_deviation", "count", "1 if CARLA would have ended the route (> 30 m off the route)", "lower",
           nullable=True, post_run=True),
    Metric("carla_agent_blocked", "count", "1 if CARLA would have ended the route (< 0.1 m/s for > 180 s)", "lower",
           nullable=True, post_run=True),
    Metric("carla_route_completion", "-", "route completion cut where CARLA ends the route, 0..1", "higher",
           nullable=True, post_run=True),
    Metric("lane_keeping", "-", "1 if NAVSIM v2 lane keeping held", "higher", nullable=True, post_run=True),
    Metric("max_off_centre_run_s", "s", "longest time > 0.5 m off the route centre (junctions skipped)", "lower",
           nullable=True, post_run=True),
    Metric("nuplan_comfortable", "-", "1 if nuPlan's ego_is_comfortable holds on the filtered signals "
           "(null under 0.4 s)", "higher", nullable=True, post_run=True),
    *(Metric(f"nuplan_max_abs_{k}", u, f"filtered absolute peak of the {d} (nuPlan comfort)", "lower",
             nullable=True, post_run=True)
      for k, u, d in (("lon_accel_mps2", "m/s^2", "longitudinal acceleration"),
                      ("lat_accel_mps2", "m/s^2", "lateral acceleration"),
                      ("jerk_mps3", "m/s^3", "jerk magnitude"), ("lon_jerk_mps3", "m/s^3", "longitudinal jerk"),
                      ("yaw_rate_radps", "rad/s", "yaw rate"), ("yaw_accel_radps2", "rad/s^2", "yaw acceleration"))),
)  # fmt: skip

#: Metric by name.
BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}


def bounds() -> dict[str, Literal["min", "max"]]:
    """Metric-bound criteria: criterion name (= metric name) -> ``min`` (value >= threshold) or ``max``."""
    return {m.name: m.bound for m in METRICS if m.bound}


def ordered(values: dict[str, float]) -> dict[str, float]:
    """``values`` in registry order; refuses a missing or unregistered metric (one name, one place)."""
    missing = [m.name for m in METRICS if m.name not in values]
    extra = sorted(set(values) - set(BY_NAME))
    if missing or extra:
        raise KeyError(f"metrics not matching the registry: missing {missing}, unregistered {extra}")
    return {m.name: values[m.name] for m in METRICS}


def markdown_table() -> str:
    """The metrics as the Markdown table of docs/result-format.md."""
    lines = ["| metric | unit | better | criterion | meaning |", "|---|---|---|---|---|"]
    for m in METRICS:
        null = "; `null` if it never occurred" if m.nullable else ""
        crit = {"min": "`>=` bound", "max": "`<=` bound"}.get(m.bound, "-")
        lines.append(f"| `{m.name}` | {m.unit} | {m.better or '-'} | {crit} | {m.meaning}{null} |")
    return "\n".join(lines) + "\n"
