"""The simcore score (v1) and pass/fail criteria, computed from a finished run's summary only."""

from __future__ import annotations

from dataclasses import dataclass

from simcore.evaluation.metrics import bounds as metric_bounds
from simcore.scenario.schema import CriterionSpec, criterion_key

SCORE_NAME = "simcore-v1"
#: Multiplicative penalty per ego infraction (CARLA-leaderboard style; docs/scoring.md).
PENALTIES: dict[str, float] = {
    "collision_pedestrian": 0.50,
    "collision_vehicle": 0.60,
    "red_light": 0.70,
    "offroad": 0.80,
    "collision_static": 0.65,
    "stop_sign": 0.80,
}


@dataclass(frozen=True)
class EgoSummary:
    """What scoring and criteria read: ego infraction counts and metrics (SI).

    ``collisions_vehicle`` counts collisions with vehicles and cyclists (CARLA's vehicle class),
    ``collisions_pedestrian`` with pedestrians, ``collisions_static`` with static map objects.
    ``at_fault_collisions`` / ``at_fault_static``: those of them the ego was (also) at fault for
    (unassessed ones count; None: fault unknown, every collision counts, see ``fault_counts``).
    ``wrong_way`` .. ``blocked``: onset counts of the rule events;
    ``max_wrong_way_run_m`` the longest distance driven against the lane direction in one go;
    ``overspeed_integral_m``: integral of max(0, v - limit) dt; ``duration_s``: evaluated time.
    """

    collisions_vehicle: int
    collisions_pedestrian: int
    red_lights: int
    offroad: int
    goal_reached: bool
    route_completion: float
    min_ttc: float
    max_decel: float
    has_ego: bool
    collisions_static: int = 0
    at_fault_collisions: int | None = None
    at_fault_static: int | None = None
    stop_signs: int = 0
    wrong_way: int = 0
    max_wrong_way_run_m: float = 0.0
    speeding: int = 0
    overspeed_integral_m: float = 0.0
    duration_s: float = 0.0
    route_deviations: int = 0
    blocked: int = 0
    timed_out: bool = False

    @property
    def fault_counts(self) -> tuple[int, int]:
        """(at-fault collisions with actors, at-fault collisions with static objects); unknown -> all."""
        agents = self.collisions_vehicle + self.collisions_pedestrian
        a = agents if self.at_fault_collisions is None else self.at_fault_collisions
        b = self.collisions_static if self.at_fault_static is None else self.at_fault_static
        return a, b

    @property
    def collisions(self) -> int:
        """Every ego collision (vehicles, cyclists, pedestrians, static objects)."""
        return self.collisions_vehicle + self.collisions_pedestrian + self.collisions_static


def score(summary: EgoSummary) -> float:
    """100 x route completion x product of penalties^count, in [0, 100]."""
    if not summary.has_ego:
        return 0.0
    factor = (
        PENALTIES["collision_pedestrian"] ** summary.collisions_pedestrian
        * PENALTIES["collision_vehicle"] ** summary.collisions_vehicle
        * PENALTIES["red_light"] ** summary.red_lights
        * PENALTIES["offroad"] ** summary.offroad
        * PENALTIES["collision_static"] ** summary.collisions_static
        * PENALTIES["stop_sign"] ** summary.stop_signs
    )
    return round(100.0 * summary.route_completion * factor, 6)


@dataclass(frozen=True)
class Verdict:
    """One criterion's outcome: measured value against its threshold."""

    name: str
    passed: bool
    value: float
    threshold: float | None

    def to_json(self) -> dict:
        """Plain-data form for result.json."""
        value = self.value if self.value != float("inf") else None
        return {"name": self.name, "passed": self.passed, "value": value, "threshold": self.threshold}


#: Count criteria: name -> EgoSummary field that must be 0.
_ZERO_COUNTS = {
    "no_stop_sign": "stop_signs",
    "no_wrong_way": "wrong_way",
    "no_speeding": "speeding",
    "no_route_deviation": "route_deviations",
    "no_blocked": "blocked",
}
#: Threshold criteria on result metrics: name -> (metric key, "min" | "max"), from the metric registry
#: (``Metric.bound``); a missing value (never measured) passes.
_METRIC_BOUNDS = {name: (name, side) for name, side in metric_bounds().items()}


def judge(
    criteria: list[CriterionSpec],
    summary: EgoSummary,
    run_score: float,
    metrics: dict[str, float] | None = None,
) -> list[Verdict]:
    """Evaluate every criterion of the scenario (``metrics``: the result's metrics, for metric bounds)."""
    out = []
    metrics = metrics or {}
    for c in criteria:
        name, thr = criterion_key(c)
        if name == "no_collision":
            v = summary.collisions
            out.append(Verdict(name, summary.has_ego and v == 0, v, None))
        elif name == "no_at_fault_collision":
            v = sum(summary.fault_counts)
            out.append(Verdict(name, summary.has_ego and v == 0, v, None))
        elif name in _ZERO_COUNTS:
            v = getattr(summary, _ZERO_COUNTS[name])
            out.append(Verdict(name, summary.has_ego and v == 0, v, None))
        elif name == "no_timeout":
            out.append(Verdict(name, summary.has_ego and not summary.timed_out, float(summary.timed_out), None))
        elif name in _METRIC_BOUNDS:
            key, side = _METRIC_BOUNDS[name]
            val = metrics.get(key)
            val = float("inf") if val is None and side == "min" else (0.0 if val is None else float(val))
            ok = val >= thr if side == "min" else val <= thr  # type: ignore[operator]
            out.append(Verdict(name, summary.has_ego and ok, val, thr))
        elif name == "no_red_light":
            out.append(Verdict(name, summary.has_ego and summary.red_lights == 0, summary.red_lights, None))
        elif name == "no_offroad":
            out.append(Verdict(name, summary.has_ego and summary.offroad == 0, summary.offroad, None))
        elif name == "reach_goal":
            out.append(Verdict(name, summary.goal_reached, float(summary.goal_reached), None))
        elif name == "min_route_completion":
            out.append(Verdict(name, summary.route_completion >= thr, summary.route_completion, thr))  # type: ignore[operator]
        elif name == "min_score":
            out.append(Verdict(name, run_score >= thr, run_score, thr))  # type: ignore[operator]
        else:  # the schema admits nothing else
            raise ValueError(f"unknown criterion {name!r}")
    return out


#: Verdicts every run gets when its agent misbehaved (name -> event kind that fails it).
AGENT_VERDICTS = {"no_agent_failure": "agent_failure", "no_bad_control": "bad_control"}


def agent_verdicts(events: list) -> list[Verdict]:
    """Failed verdicts for an agent that failed (raised, exited, hung) or sent impossible controls.

    Added whatever criteria the scenario declares, so a misbehaving agent never passes a run
    (a scenario without criteria would otherwise pass vacuously); empty when the agent behaved.
    """
    out = []
    for name, kind in AGENT_VERDICTS.items():
        n = sum(1 for e in events if e.kind.name.lower() == kind)
        if n:
            out.append(Verdict(name, False, float(n), None))
    return out
