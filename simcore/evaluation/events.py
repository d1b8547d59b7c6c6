"""Event kinds that kernels write as integers and Python reports by name."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class EventKind(IntEnum):
    """What happened. Kernels write the integer; reports use the lowercase name."""

    COLLISION = 0
    OFFROAD = 1
    RED_LIGHT = 2
    GOAL_REACHED = 3
    ROUTE_DONE = 4
    AGENT_FAILURE = 5
    BAD_CONTROL = 6
    STORYBOARD = 7
    LATE_CONTROL = 8
    # Rule events of simcore.evaluation.rules_kernels (numbered from 20 to leave room above).
    WRONG_WAY = 20
    STOP_SIGN = 21
    SPEEDING = 22
    ROUTE_DEVIATION = 23
    BLOCKED = 24


@dataclass(frozen=True)
class Event:
    """One event: time (s), kind, the actors involved, and a value with a kind-specific unit.

    value: COLLISION relative speed (m/s; with a static object the ego's speed); OFFROAD route
    s (m); RED_LIGHT speed at the stop line (m/s); GOAL_REACHED route completion; WRONG_WAY
    route s (m); STOP_SIGN lowest speed in the stop zone (m/s); SPEEDING the speed limit
    (m/s); ROUTE_DEVIATION lateral offset (m); BLOCKED time standing (s); others 0.
    ``at_fault``: for COLLISION, the actors held at fault (docs/scoring.md); empty: none; None:
    not assessed (scores then count the collision as the ego's fault).
    """

    time: float
    kind: EventKind
    actors: tuple[str, ...]
    value: float = 0.0
    detail: str = ""
    at_fault: tuple[str, ...] | None = None

    def to_json(self) -> dict:
        """Plain-data form for result.json."""
        out = {
            "time_s": round(self.time, 6),
            "kind": self.kind.name.lower(),
            "actors": list(self.actors),
            "value": self.value,
        }
        if self.detail:
            out["detail"] = self.detail
        if self.kind == EventKind.COLLISION:
            out["at_fault"] = None if self.at_fault is None else list(self.at_fault)
        return out
