"""The simcore score (v1) and pass/fail criteria, computed from a finished run's summary only."""

from __future__ import annotations

from dataclasses import dataclass

from simcore.scenario.schema import CriterionSpec, criterion_key

SCORE_NAME = "simcore-v1"
#: Multiplicative penalty per ego infraction (CARLA-leaderboard style; docs/scoring.md).
PENALTIES: dict[str, float] = {
    "collision_pedestrian": 0.50,
    "collision_vehicle": 0.60,
    "red_light": 0.70,
    "offroad": 0.80,
}


@dataclass(frozen=True)
class EgoSummary:
    """What scoring and criteria read: ego infraction counts and metrics (SI)."""

    collisions_vehicle: int
    collisions_pedestrian: int
    red_lights: int
    offroad: int
    goal_reached: bool
    route_completion: float
    min_ttc: float
    max_decel: float
    has_ego: bool


def score(summary: EgoSummary) -> float:
    """100 x route completion x product of penalties^count, in [0, 100]."""
    if not summary.has_ego:
        return 0.0
    factor = (
        PENALTIES["collision_pedestrian"] ** summary.collisions_pedestrian
        * PENALTIES["collision_vehicle"] ** summary.collisions_vehicle
        * PENALTIES["red_light"] ** summary.red_lights
        * PENALTIES["offroad"] ** summary.offroad
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


def judge(criteria: list[CriterionSpec], summary: EgoSummary, run_score: float) -> list[Verdict]:
    """Evaluate every criterion of the scenario."""
    out = []
    for c in criteria:
        name, thr = criterion_key(c)
        if name == "no_collision":
            v = summary.collisions_vehicle + summary.collisions_pedestrian
            out.append(Verdict(name, summary.has_ego and v == 0, v, None))
        elif name == "no_red_light":
            out.append(Verdict(name, summary.has_ego and summary.red_lights == 0, summary.red_lights, None))
        elif name == "no_offroad":
            out.append(Verdict(name, summary.has_ego and summary.offroad == 0, summary.offroad, None))
        elif name == "reach_goal":
            out.append(Verdict(name, summary.goal_reached, float(summary.goal_reached), None))
        elif name == "min_ttc_s":
            out.append(Verdict(name, summary.has_ego and summary.min_ttc >= thr, summary.min_ttc, thr))
        elif name == "max_decel_mps2":
            out.append(Verdict(name, summary.has_ego and summary.max_decel <= thr, summary.max_decel, thr))
        elif name == "min_route_completion":
            out.append(Verdict(name, summary.route_completion >= thr, summary.route_completion, thr))
        elif name == "min_score":
            out.append(Verdict(name, run_score >= thr, run_score, thr))
        else:  # the schema admits nothing else
            raise ValueError(f"unknown criterion {name!r}")
    return out
