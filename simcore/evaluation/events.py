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


@dataclass(frozen=True)
class Event:
    """One event: time (s), kind, the actors involved, and a value with a kind-specific unit.

    value: COLLISION relative speed (m/s); OFFROAD distance travelled so far (m);
    RED_LIGHT speed at the stop line (m/s); GOAL_REACHED route completion; others 0.
    """

    time: float
    kind: EventKind
    actors: tuple[str, ...]
    value: float = 0.0
    detail: str = ""

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
        return out
