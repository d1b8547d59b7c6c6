"""Published driving scores (CARLA leaderboard 1.0/2.0/2.1, nuPlan CLS, NAVSIM PDMS/EPDMS) from a run's summary.

Each score has a versioned name; constants, term mapping and what is not applicable are in
docs/scoring.md ("Published scores").
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

from simcore.evaluation.comfort import BOUNDS
from simcore.evaluation.events import EventKind
from simcore.evaluation.scoring import EgoSummary

CARLA_LB1 = "carla-leaderboard-1.0"
CARLA_LB2 = "carla-leaderboard-2.0"
CARLA_LB21 = "carla-leaderboard-2.1"
NUPLAN_CLS = "nuplan-cls-v1"
NAVSIM_PDMS = "navsim-pdms-v1"
NAVSIM_EPDMS = "navsim-epdms-v2"

#: Leaderboard 1.0 (branch ``leaderboard-1.0``, statistics_manager.py): penalty factor per infraction.
CARLA_LB1_PENALTIES: dict[str, float] = {
    "collision_pedestrian": 0.50,
    "collision_vehicle": 0.60,
    "collision_static": 0.65,
    "red_light": 0.70,
    "stop_sign": 0.80,
}
#: Leaderboard 2.0 (branches ``leaderboard-2.0`` and ``master``, statistics_manager.py PENALTY_VALUE_DICT).
CARLA_PENALTIES: dict[str, float] = {
    **CARLA_LB1_PENALTIES,
    "scenario_timeout": 0.70,
    "yield_emergency_vehicle": 0.70,
}
#: Leaderboard 2.0 PENALTY_PERC_DICT: minimum speed, "decreases": factor 1 - (1 - 0.7) x (1 - pct/100).
CARLA_LB2_MIN_SPEED = 0.70
#: Leaderboard 2.1 (branch ``leaderboard-2.1``, statistics_manager.py PENALTY_VALUE_DICT): additive
#: weights, driving score = route completion x 1 / (1 + sum of weights).
CARLA_ADDITIVE_WEIGHTS: dict[str, float] = {
    "collision_pedestrian": 1.0,
    "collision_vehicle": 0.7,
    "collision_static": 0.6,
    "red_light": 0.4,
    "stop_sign": 0.25,
    "scenario_timeout": 0.4,
    "yield_emergency_vehicle": 0.4,
}
#: Leaderboard 2.1 minimum-speed weight: 0.4 x (1 - pct/100) per checkpoint below 100 %.
CARLA_LB21_MIN_SPEED = 0.4

#: nuPlan closed-loop score: weights of the averaged terms and thresholds.
NUPLAN_WEIGHTS: dict[str, float] = {"ego_progress": 5.0, "ttc_within_bound": 5.0, "speed_limit": 4.0, "comfort": 2.0}
NUPLAN_TTC_BOUND_S = 0.95
NUPLAN_MIN_PROGRESS = 0.2
#: nuPlan speed_limit_compliance: over-speed (m/s) at which the averaged violation scores 0.
NUPLAN_MAX_OVERSPEED_MPS = 2.23
#: nuPlan driving_direction_compliance: distance (m) driven against the lane direction for 1 / 0.5 / 0.
NUPLAN_DIRECTION_OK_M = 2.0
NUPLAN_DIRECTION_BAD_M = 6.0
#: NAVSIM PDM score v1: weights of the averaged terms and the TTC bound (s).
NAVSIM_WEIGHTS: dict[str, float] = {"ego_progress": 5.0, "ttc_within_bound": 5.0, "comfort": 2.0}
NAVSIM_TTC_BOUND_S = 1.0
#: NAVSIM v2 EPDMS weights as aggregated by pdm_scorer.py (two-frame extended comfort is masked out).
NAVSIM_V2_WEIGHTS: dict[str, float] = {
    "ego_progress": 5.0,
    "ttc_within_bound": 5.0,
    "lane_keeping": 2.0,
    "history_comfort": 2.0,
}


def _metric(metrics: Mapping[str, float], key: str, default: float) -> float:
    v = metrics.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return default
    return float(v)


def _counts(summary: EgoSummary, metrics: Mapping[str, float] | None = None) -> dict[str, float]:
    """Infraction counts for the CARLA tables: collisions as CARLA's CollisionTest counts them when the
    runner measured that (``carla_collisions_*``), else simcore's onsets; the route criteria from
    ``evaluation.route_criteria`` (0 when not measured)."""
    m = metrics or {}
    return {
        "collision_pedestrian": _metric(m, "carla_collisions_pedestrian", summary.collisions_pedestrian),
        "collision_vehicle": _metric(m, "carla_collisions_vehicle", summary.collisions_vehicle),
        "collision_static": _metric(m, "carla_collisions_static", summary.collisions_static),
        "red_light": summary.red_lights,
        "stop_sign": summary.stop_signs,
        "scenario_timeout": _metric(m, "scenario_timeouts", float(summary.timed_out)),
        "yield_emergency_vehicle": _metric(m, "yield_emergency_vehicle_infractions", 0.0),
    }


def _min_speed(metrics: Mapping[str, float] | None) -> list[float]:
    """MinimumSpeedRouteTest checkpoints below 100 % (each one is a MIN_SPEED_INFRACTION event)."""
    m = metrics or {}
    vals = [_metric(m, f"min_speed_pct_{i}", 100.0) for i in range(1, 5)]
    return [v for v in vals if v < 100.0]


def _outside_factor(metrics: Mapping[str, float] | None) -> float:
    """OUTSIDE_ROUTE_LANES_INFRACTION: the penalty is multiplied by (1 - percentage / 100)."""
    return 1.0 - _metric(metrics or {}, "outside_route_lanes_pct", 0.0) / 100.0


def _completion(summary: EgoSummary, metrics: Mapping[str, float] | None) -> float:
    """Route completion as CARLA has it: cut where InRouteTest / ActorBlockedTest would end the route."""
    return _metric(metrics or {}, "carla_route_completion", summary.route_completion)


def carla_penalty(summary: EgoSummary, metrics: Mapping[str, float] | None = None, version: str = "2.0") -> float:
    """Leaderboard 1.0 / 2.0 infraction penalty (multiplicative), in [0, 1]."""
    counts = _counts(summary, metrics)
    table = CARLA_LB1_PENALTIES if version == "1.0" else CARLA_PENALTIES
    p = math.prod(table[k] ** n for k, n in counts.items() if k in table)
    if version != "1.0":
        for pct in _min_speed(metrics):
            p *= 1.0 - (1.0 - CARLA_LB2_MIN_SPEED) * (1.0 - pct / 100.0)
    return p * _outside_factor(metrics)


def carla_driving_score(summary: EgoSummary, metrics: Mapping[str, float] | None = None, version: str = "2.0") -> float:
    """Leaderboard 1.0 / 2.0 driving score: route completion (percent) x infraction penalty."""
    if not summary.has_ego:
        return 0.0
    return max(100.0 * _completion(summary, metrics) * carla_penalty(summary, metrics, version), 0.0)


def carla_additive_penalty(summary: EgoSummary, metrics: Mapping[str, float] | None = None) -> float:
    """Leaderboard 2.1 penalty: (1 - outside %) / (1 + sum of weights + 0.4 x (1 - pct/100) per min-speed event)."""
    total = sum(CARLA_ADDITIVE_WEIGHTS[k] * n for k, n in _counts(summary, metrics).items())
    total += sum(CARLA_LB21_MIN_SPEED * (1.0 - pct / 100.0) for pct in _min_speed(metrics))
    return _outside_factor(metrics) / (1.0 + total)


def carla_additive_driving_score(summary: EgoSummary, metrics: Mapping[str, float] | None = None) -> float:
    """Leaderboard 2.1 driving score: route completion (percent) x additive penalty."""
    if not summary.has_ego:
        return 0.0
    return max(100.0 * _completion(summary, metrics) * carla_additive_penalty(summary, metrics), 0.0)


def _comfortable(summary: EgoSummary, metrics: Mapping[str, float]) -> bool:
    """nuPlan's ego_is_comfortable: the filtered check (``nuplan_comfortable``, evaluation.comfort) when the
    run recorded a trajectory; else the same bounds on simcore's unfiltered per-step peaks."""
    measured = metrics.get("nuplan_comfortable")
    if measured is not None and not (isinstance(measured, float) and math.isnan(measured)):
        return bool(measured)
    lo, hi = BOUNDS["lon_accel"]
    return (
        metrics.get("max_accel_mps2", 0.0) <= hi
        and metrics.get("max_decel_mps2", summary.max_decel) <= -lo
        and metrics.get("max_jerk_mps3", 0.0) <= BOUNDS["lon_jerk"][1]
        and metrics.get("max_lateral_accel_mps2", 0.0) <= BOUNDS["lat_accel"][1]
        and metrics.get("max_yaw_rate_radps", 0.0) <= BOUNDS["yaw_rate"][1]
        and metrics.get("max_yaw_accel_radps2", 0.0) <= BOUNDS["yaw_accel"][1]
    )


def no_at_fault_collisions(summary: EgoSummary) -> float:
    """nuPlan / NAVSIM multiplier: 0 after an at-fault collision with an agent, 0.5 with only static objects."""
    agents, static = summary.fault_counts
    if agents:
        return 0.0
    return 0.5 if static else 1.0


def _ttc_within(ttc: float, bound: float) -> float:
    return 1.0 if (math.isnan(ttc) or ttc >= bound) else 0.0


def _direction(summary: EgoSummary) -> float:
    run = summary.max_wrong_way_run_m
    return 1.0 if run <= NUPLAN_DIRECTION_OK_M else (0.5 if run <= NUPLAN_DIRECTION_BAD_M else 0.0)


def nuplan_terms(summary: EgoSummary, metrics: Mapping[str, float]) -> dict[str, float]:
    """Each CLS term in [0, 1] from simcore's summary and metrics (docs/scoring.md)."""
    if summary.duration_s > 0:
        speed = max(0.0, 1.0 - summary.overspeed_integral_m / (NUPLAN_MAX_OVERSPEED_MPS * summary.duration_s))
    else:
        speed = 1.0
    return {
        # multipliers
        "no_at_fault_collisions": no_at_fault_collisions(summary),
        "drivable_area_compliance": 0.0 if summary.offroad else 1.0,
        "driving_direction_compliance": _direction(summary),
        "making_progress": 1.0 if summary.route_completion >= NUPLAN_MIN_PROGRESS else 0.0,
        # weighted average
        "ego_progress": min(max(summary.route_completion, 0.0), 1.0),
        "ttc_within_bound": _ttc_within(summary.min_ttc, NUPLAN_TTC_BOUND_S),
        "speed_limit": speed,
        "comfort": 1.0 if _comfortable(summary, metrics) else 0.0,
    }


def _aggregate(terms: Mapping[str, float], multipliers: tuple[str, ...], weights: Mapping[str, float]) -> float:
    """Product of the multiplier terms x weighted mean of the averaged terms (nuPlan / NAVSIM form)."""
    avg = sum(w * terms[k] for k, w in weights.items()) / sum(weights.values())
    return math.prod(terms[k] for k in multipliers) * avg


def nuplan_cls(summary: EgoSummary, metrics: Mapping[str, float]) -> float:
    """nuPlan closed-loop score in [0, 1]: product of multipliers x weighted average."""
    if not summary.has_ego:
        return 0.0
    mult = ("no_at_fault_collisions", "drivable_area_compliance", "driving_direction_compliance", "making_progress")
    return _aggregate(nuplan_terms(summary, metrics), mult, NUPLAN_WEIGHTS)


def navsim_terms(summary: EgoSummary, metrics: Mapping[str, float]) -> dict[str, float]:
    """Each NAVSIM PDMS (v1) and EPDMS (v2) term in [0, 1] (docs/scoring.md)."""
    comfort = 1.0 if _comfortable(summary, metrics) else 0.0
    return {
        "no_at_fault_collisions": no_at_fault_collisions(summary),
        "drivable_area_compliance": 0.0 if summary.offroad else 1.0,
        "driving_direction_compliance": _direction(summary),
        "traffic_light_compliance": 0.0 if summary.red_lights else 1.0,
        "ego_progress": min(max(summary.route_completion, 0.0), 1.0),
        "ttc_within_bound": _ttc_within(summary.min_ttc, NAVSIM_TTC_BOUND_S),
        "comfort": comfort,
        "history_comfort": comfort,
        "lane_keeping": _metric(metrics, "lane_keeping", 1.0),
    }


def navsim_pdms(summary: EgoSummary, metrics: Mapping[str, float]) -> float:
    """NAVSIM PDM score v1 in [0, 1]: NC x DAC x (5 EP + 5 TTC + 2 C) / 12."""
    if not summary.has_ego:
        return 0.0
    mult = ("no_at_fault_collisions", "drivable_area_compliance")
    return _aggregate(navsim_terms(summary, metrics), mult, NAVSIM_WEIGHTS)


def navsim_epdms(summary: EgoSummary, metrics: Mapping[str, float]) -> float:
    """NAVSIM v2 extended PDM score in [0, 1]: NC x DAC x DDC x TLC x (5 EP + 5 TTC + 2 LK + 2 HC) / 14."""
    if not summary.has_ego:
        return 0.0
    mult = (
        "no_at_fault_collisions",
        "drivable_area_compliance",
        "driving_direction_compliance",
        "traffic_light_compliance",
    )
    return _aggregate(navsim_terms(summary, metrics), mult, NAVSIM_V2_WEIGHTS)


def all_scores(summary: EgoSummary, metrics: Mapping[str, float]) -> dict[str, float]:
    """Every published score by versioned name (CARLA in percent, nuPlan and NAVSIM in [0, 1])."""
    return {
        CARLA_LB1: round(carla_driving_score(summary, metrics, "1.0"), 6),
        CARLA_LB2: round(carla_driving_score(summary, metrics, "2.0"), 6),
        CARLA_LB21: round(carla_additive_driving_score(summary, metrics), 6),
        NUPLAN_CLS: round(nuplan_cls(summary, metrics), 6),
        NAVSIM_PDMS: round(navsim_pdms(summary, metrics), 6),
        NAVSIM_EPDMS: round(navsim_epdms(summary, metrics), 6),
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
