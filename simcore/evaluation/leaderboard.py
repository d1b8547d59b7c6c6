"""Published driving scores (CARLA leaderboard 1.0/2.0/2.1, nuPlan CLS, NAVSIM PDMS) from a run's summary.

Each score has a versioned name; constants, term mapping and what is not applicable are in
docs/scoring.md ("Published scores").
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

from simcore.evaluation.events import EventKind
from simcore.evaluation.scoring import EgoSummary

CARLA_LB1 = "carla-leaderboard-1.0"
CARLA_LB2 = "carla-leaderboard-2.0"
CARLA_LB21 = "carla-leaderboard-2.1-additive"
NUPLAN_CLS = "nuplan-cls-v1"
NAVSIM_PDMS = "navsim-pdms-v1"

#: Multiplicative penalty per infraction, identical in leaderboard 1.0 and 2.0 for the
#: infractions simcore's events express (docs/scoring.md).
CARLA_PENALTIES: dict[str, float] = {
    "collision_pedestrian": 0.50,
    "collision_vehicle": 0.60,
    "collision_static": 0.65,
    "red_light": 0.70,
    "stop_sign": 0.80,
}

#: Additive weights: driving score = RC / (1 + sum weight x count). Derived, not published:
#: w = 1/p - 1 rounded half up to 0.1, which reproduces the issue's example (0.7 + 0.4 = 1.1).
CARLA_ADDITIVE_WEIGHTS: dict[str, float] = {
    "collision_pedestrian": 1.0,
    "collision_vehicle": 0.7,
    "collision_static": 0.5,
    "red_light": 0.4,
    "stop_sign": 0.3,
}

#: nuPlan closed-loop score: weights of the averaged terms and thresholds.
NUPLAN_WEIGHTS: dict[str, float] = {"ego_progress": 5.0, "ttc_within_bound": 5.0, "speed_limit": 4.0, "comfort": 2.0}
NUPLAN_TTC_BOUND_S = 0.95
NUPLAN_MIN_PROGRESS = 0.2
#: nuPlan speed_limit_compliance: over-speed (m/s) at which the averaged violation scores 0.
NUPLAN_MAX_OVERSPEED_MPS = 2.23
#: nuPlan driving_direction_compliance: distance (m) driven against the lane direction for 1 / 0.5 / 0.
NUPLAN_DIRECTION_OK_M = 2.0
NUPLAN_DIRECTION_BAD_M = 6.0
#: nuPlan's ego_is_comfortable bounds (SI) for the signals simcore measures.
NUPLAN_COMFORT: dict[str, float] = {
    "max_lon_accel": 2.40,
    "max_decel": 4.05,  # min_lon_accel = -4.05
    "max_abs_lon_jerk": 4.13,
    "max_abs_lat_accel": 4.89,
    "max_abs_yaw_rate": 0.95,
    "max_abs_yaw_accel": 1.93,
}
#: NAVSIM PDM score v1: weights of the averaged terms and the TTC bound (s).
NAVSIM_WEIGHTS: dict[str, float] = {"ego_progress": 5.0, "ttc_within_bound": 5.0, "comfort": 2.0}
NAVSIM_TTC_BOUND_S = 1.0


def _counts(summary: EgoSummary) -> dict[str, int]:
    return {
        "collision_pedestrian": summary.collisions_pedestrian,
        "collision_vehicle": summary.collisions_vehicle,
        "collision_static": summary.collisions_static,
        "red_light": summary.red_lights,
        "stop_sign": summary.stop_signs,
    }


def carla_penalty(summary: EgoSummary) -> float:
    """Leaderboard 1.0/2.0 infraction penalty: product of penalty^count, in (0, 1]."""
    return math.prod(CARLA_PENALTIES[k] ** n for k, n in _counts(summary).items())


def carla_driving_score(summary: EgoSummary) -> float:
    """Leaderboard 1.0/2.0 driving score: route completion (percent) x infraction penalty."""
    if not summary.has_ego:
        return 0.0
    return 100.0 * summary.route_completion * carla_penalty(summary)


def carla_additive_driving_score(summary: EgoSummary) -> float:
    """Additive form: route completion (percent) / (1 + sum of weights x counts)."""
    if not summary.has_ego:
        return 0.0
    total = sum(CARLA_ADDITIVE_WEIGHTS[k] * n for k, n in _counts(summary).items())
    return 100.0 * summary.route_completion / (1.0 + total)


def _comfortable(summary: EgoSummary, metrics: Mapping[str, float]) -> bool:
    """nuPlan's ego_is_comfortable bounds on simcore's unfiltered per-step peaks."""
    return (
        metrics.get("max_accel_mps2", 0.0) <= NUPLAN_COMFORT["max_lon_accel"]
        and metrics.get("max_decel_mps2", summary.max_decel) <= NUPLAN_COMFORT["max_decel"]
        and metrics.get("max_jerk_mps3", 0.0) <= NUPLAN_COMFORT["max_abs_lon_jerk"]
        and metrics.get("max_lateral_accel_mps2", 0.0) <= NUPLAN_COMFORT["max_abs_lat_accel"]
        and metrics.get("max_yaw_rate_radps", 0.0) <= NUPLAN_COMFORT["max_abs_yaw_rate"]
        and metrics.get("max_yaw_accel_radps2", 0.0) <= NUPLAN_COMFORT["max_abs_yaw_accel"]
    )


def no_at_fault_collisions(summary: EgoSummary) -> float:
    """nuPlan / NAVSIM multiplier: 0 after an at-fault collision with an agent, 0.5 with only static objects."""
    agents, static = summary.fault_counts
    if agents:
        return 0.0
    return 0.5 if static else 1.0


def _ttc_within(ttc: float, bound: float) -> float:
    return 1.0 if (math.isnan(ttc) or ttc >= bound) else 0.0


def nuplan_terms(summary: EgoSummary, metrics: Mapping[str, float]) -> dict[str, float]:
    """Each CLS term in [0, 1] from simcore's summary and metrics (docs/scoring.md)."""
    run = summary.max_wrong_way_run_m
    direction = 1.0 if run <= NUPLAN_DIRECTION_OK_M else (0.5 if run <= NUPLAN_DIRECTION_BAD_M else 0.0)
    if summary.duration_s > 0:
        speed = max(0.0, 1.0 - summary.overspeed_integral_m / (NUPLAN_MAX_OVERSPEED_MPS * summary.duration_s))
    else:
        speed = 1.0
    return {
        # multipliers
        "no_at_fault_collisions": no_at_fault_collisions(summary),
        "drivable_area_compliance": 0.0 if summary.offroad else 1.0,
        "driving_direction_compliance": direction,
        "making_progress": 1.0 if summary.route_completion >= NUPLAN_MIN_PROGRESS else 0.0,
        # weighted average
        "ego_progress": min(max(summary.route_completion, 0.0), 1.0),
        "ttc_within_bound": _ttc_within(summary.min_ttc, NUPLAN_TTC_BOUND_S),
        "speed_limit": speed,
        "comfort": 1.0 if _comfortable(summary, metrics) else 0.0,
    }


def nuplan_cls(summary: EgoSummary, metrics: Mapping[str, float]) -> float:
    """nuPlan closed-loop score in [0, 1]: product of multipliers x weighted average."""
    if not summary.has_ego:
        return 0.0
    t = nuplan_terms(summary, metrics)
    mult = (
        t["no_at_fault_collisions"]
        * t["drivable_area_compliance"]
        * t["driving_direction_compliance"]
        * t["making_progress"]
    )
    avg = sum(w * t[k] for k, w in NUPLAN_WEIGHTS.items()) / sum(NUPLAN_WEIGHTS.values())
    return mult * avg


def navsim_terms(summary: EgoSummary, metrics: Mapping[str, float]) -> dict[str, float]:
    """Each NAVSIM PDMS term in [0, 1] (docs/scoring.md: NC, DAC multipliers; EP, TTC, C averaged)."""
    return {
        "no_at_fault_collisions": no_at_fault_collisions(summary),
        "drivable_area_compliance": 0.0 if summary.offroad else 1.0,
        "ego_progress": min(max(summary.route_completion, 0.0), 1.0),
        "ttc_within_bound": _ttc_within(summary.min_ttc, NAVSIM_TTC_BOUND_S),
        "comfort": 1.0 if _comfortable(summary, metrics) else 0.0,
    }


def navsim_pdms(summary: EgoSummary, metrics: Mapping[str, float]) -> float:
    """NAVSIM PDM score v1 in [0, 1]: NC x DAC x (5 EP + 5 TTC + 2 C) / 12."""
    if not summary.has_ego:
        return 0.0
    t = navsim_terms(summary, metrics)
    avg = sum(w * t[k] for k, w in NAVSIM_WEIGHTS.items()) / sum(NAVSIM_WEIGHTS.values())
    return t["no_at_fault_collisions"] * t["drivable_area_compliance"] * avg


def all_scores(summary: EgoSummary, metrics: Mapping[str, float]) -> dict[str, float]:
    """Every published score by versioned name (CARLA in percent, nuPlan CLS and NAVSIM PDMS in [0, 1])."""
    ds = carla_driving_score(summary)
    return {
        CARLA_LB1: round(ds, 6),
        CARLA_LB2: round(ds, 6),
        CARLA_LB21: round(carla_additive_driving_score(summary), 6),
        NUPLAN_CLS: round(nuplan_cls(summary, metrics), 6),
        NAVSIM_PDMS: round(navsim_pdms(summary, metrics), 6),
    }


def summary_from_result(result, pedestrians: Collection[str] = ()) -> EgoSummary:
    """Rebuild the EgoSummary from a Result (simcore.runner.results.Result).

    A Result does not record actor kinds: an ego collision counts as a pedestrian collision
    when the other actor is in ``pedestrians``, or, without that, as many as the metric
    ``collisions_pedestrian`` says if the runner writes it; otherwise as a vehicle collision.
    Collisions with ``static:`` actors are static-object collisions. A collision is the ego's
    fault when its ``at_fault`` names the ego or was not assessed (None).
    """
    m = result.metrics
    ego_coll = [e for e in result.events if e.kind == EventKind.COLLISION and "ego" in e.actors]

    def other(e) -> str:
        return next((a for a in e.actors if a != "ego"), "")

    static = [e for e in ego_coll if other(e).startswith("static:")]
    agents = [e for e in ego_coll if not other(e).startswith("static:")]
    coll_p = sum(other(e) in pedestrians for e in agents) if pedestrians else int(m.get("collisions_pedestrian", 0))
    coll_p = min(coll_p, len(agents))
    coll_v = len(agents) - coll_p
    has_ego = "route_completion" in m  # without an ego every score is 0 anyway (completion 0)
    ttc = m.get("min_ttc_s")

    def at_fault(e) -> bool:
        return e.at_fault is None or "ego" in e.at_fault

    def count(kind: EventKind) -> int:
        return sum(e.kind == kind and "ego" in e.actors for e in result.events)

    return EgoSummary(
        collisions_vehicle=coll_v,
        collisions_pedestrian=coll_p,
        red_lights=count(EventKind.RED_LIGHT),
        offroad=count(EventKind.OFFROAD),
        goal_reached=any(e.kind == EventKind.GOAL_REACHED and "ego" in e.actors for e in result.events),
        route_completion=float(m.get("route_completion", 0.0)),
        min_ttc=math.inf if ttc is None else float(ttc),
        max_decel=float(m.get("max_decel_mps2", 0.0)),
        has_ego=has_ego,
        collisions_static=len(static),
        at_fault_collisions=sum(at_fault(e) for e in agents),
        at_fault_static=sum(at_fault(e) for e in static),
        stop_signs=count(EventKind.STOP_SIGN),
        wrong_way=count(EventKind.WRONG_WAY),
        max_wrong_way_run_m=float(m.get("max_wrong_way_run_m", 0.0)),
        speeding=count(EventKind.SPEEDING),
        overspeed_integral_m=float(m.get("overspeed_integral_m", 0.0)),
        duration_s=float(m.get("evaluated_time_s", 0.0)),
        route_deviations=count(EventKind.ROUTE_DEVIATION),
        blocked=count(EventKind.BLOCKED),
        timed_out=bool(m.get("timed_out", 0)),
    )


def scores_for(result, pedestrians: Collection[str] = ()) -> dict[str, float]:
    """all_scores() of a finished Result (see summary_from_result for ``pedestrians``)."""
    return all_scores(summary_from_result(result, pedestrians), result.metrics)
