"""Published driving scores (CARLA leaderboard 1.0/2.0/2.1, nuPlan CLS) from a run's summary.

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

#: Multiplicative penalty per infraction, identical in leaderboard 1.0 and 2.0 for the
#: infractions simcore's events express (static/layout collision 0.65 and stop sign 0.80
#: exist there but simcore has no such event; docs/scoring.md).
CARLA_PENALTIES: dict[str, float] = {
    "collision_pedestrian": 0.50,
    "collision_vehicle": 0.60,
    "red_light": 0.70,
}

#: Additive weights: driving score = RC / (1 + sum weight x count). Derived, not published:
#: w = 1/p - 1 rounded to 0.1, which reproduces the issue's example (0.7 + 0.4 = 1.1).
CARLA_ADDITIVE_WEIGHTS: dict[str, float] = {
    "collision_pedestrian": 1.0,
    "collision_vehicle": 0.7,
    "red_light": 0.4,
}

#: nuPlan closed-loop score: weights of the averaged terms and thresholds.
NUPLAN_WEIGHTS: dict[str, float] = {"ego_progress": 5.0, "ttc_within_bound": 5.0, "speed_limit": 4.0, "comfort": 2.0}
NUPLAN_TTC_BOUND_S = 0.95
NUPLAN_MIN_PROGRESS = 0.2
#: nuPlan's ego_is_comfortable bounds (SI) for the signals simcore measures.
NUPLAN_COMFORT: dict[str, float] = {
    "max_lon_accel": 2.40,
    "max_decel": 4.05,  # min_lon_accel = -4.05
    "max_abs_lon_jerk": 4.13,
    "max_abs_lat_accel": 4.89,
}


def _counts(summary: EgoSummary) -> dict[str, int]:
    return {
        "collision_pedestrian": summary.collisions_pedestrian,
        "collision_vehicle": summary.collisions_vehicle,
        "red_light": summary.red_lights,
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


def nuplan_terms(summary: EgoSummary, metrics: Mapping[str, float]) -> dict[str, float]:
    """Each CLS term in [0, 1] from simcore's summary and metrics (docs/scoring.md)."""
    ttc = summary.min_ttc
    comfortable = (
        metrics.get("max_accel_mps2", 0.0) <= NUPLAN_COMFORT["max_lon_accel"]
        and metrics.get("max_decel_mps2", summary.max_decel) <= NUPLAN_COMFORT["max_decel"]
        and metrics.get("max_jerk_mps3", 0.0) <= NUPLAN_COMFORT["max_abs_lon_jerk"]
        and metrics.get("max_lateral_accel_mps2", 0.0) <= NUPLAN_COMFORT["max_abs_lat_accel"]
    )
    return {
        # multipliers
        "no_at_fault_collisions": 0.0 if summary.collisions_vehicle + summary.collisions_pedestrian else 1.0,
        "drivable_area_compliance": 0.0 if summary.offroad else 1.0,
        "driving_direction_compliance": 1.0,  # not measured
        "making_progress": 1.0 if summary.route_completion >= NUPLAN_MIN_PROGRESS else 0.0,
        # weighted average
        "ego_progress": min(max(summary.route_completion, 0.0), 1.0),
        "ttc_within_bound": 1.0 if (math.isnan(ttc) or ttc >= NUPLAN_TTC_BOUND_S) else 0.0,
        "speed_limit": 1.0,  # not measured
        "comfort": 1.0 if comfortable else 0.0,
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


def all_scores(summary: EgoSummary, metrics: Mapping[str, float]) -> dict[str, float]:
    """Every published score by versioned name (CARLA in percent, nuPlan CLS in [0, 1])."""
    ds = carla_driving_score(summary)
    return {
        CARLA_LB1: round(ds, 6),
        CARLA_LB2: round(ds, 6),
        CARLA_LB21: round(carla_additive_driving_score(summary), 6),
        NUPLAN_CLS: round(nuplan_cls(summary, metrics), 6),
    }


def summary_from_result(result, pedestrians: Collection[str] = ()) -> EgoSummary:
    """Rebuild the EgoSummary from a Result (simcore.runner.results.Result).

    A Result does not record actor kinds: an ego collision counts as a pedestrian collision
    when the other actor is in ``pedestrians``, or, without that, as many as the metric
    ``collisions_pedestrian`` says if the runner writes it; otherwise as a vehicle collision.
    """
    m = result.metrics
    others = [
        next((a for a in e.actors if a != "ego"), "")
        for e in result.events
        if e.kind == EventKind.COLLISION and "ego" in e.actors
    ]
    coll_p = sum(a in pedestrians for a in others) if pedestrians else int(m.get("collisions_pedestrian", 0))
    coll_p = min(coll_p, len(others))
    coll_v = len(others) - coll_p
    has_ego = "route_completion" in m  # without an ego every score is 0 anyway (completion 0)
    ttc = m.get("min_ttc_s")
    return EgoSummary(
        collisions_vehicle=coll_v,
        collisions_pedestrian=coll_p,
        red_lights=sum(e.kind == EventKind.RED_LIGHT and "ego" in e.actors for e in result.events),
        offroad=sum(e.kind == EventKind.OFFROAD and "ego" in e.actors for e in result.events),
        goal_reached=any(e.kind == EventKind.GOAL_REACHED and "ego" in e.actors for e in result.events),
        route_completion=float(m.get("route_completion", 0.0)),
        min_ttc=math.inf if ttc is None else float(ttc),
        max_decel=float(m.get("max_decel_mps2", 0.0)),
        has_ego=has_ego,
    )


def scores_for(result, pedestrians: Collection[str] = ()) -> dict[str, float]:
    """all_scores() of a finished Result (see summary_from_result for ``pedestrians``)."""
    return all_scores(summary_from_result(result, pedestrians), result.metrics)
