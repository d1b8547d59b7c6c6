"""Storyboard (scenario key ``storyboard:``), compiled: triggers checked in Python between steps.

``scenario.build`` turns each validated entry into a :class:`Story` of the small objects below
(rows, lane ids and signal groups resolved once); ``runner.loop.Simulation`` checks the pending
stories after every step and applies their actions. Triggers read the simulation through a
narrow view (``world``, ``t``, ``sig_state``), actions write the world and may end the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

#: Tolerance of time comparisons (s): a trigger at t fires at the step that ends at t.
TIME_EPS = 1e-9


class Trigger(Protocol):
    """A condition on the current simulation state."""

    text: str

    def holds(self, sim: Any) -> bool:
        """True if the condition holds now."""
        ...


class Action(Protocol):
    """Something a storyboard entry does."""

    text: str

    def apply(self, sim: Any) -> None:
        """Change the simulation."""
        ...


@dataclass(frozen=True)
class TimeAt:
    """Simulation time at or past ``time`` (s)."""

    time: float
    text: str

    def holds(self, sim: Any) -> bool:
        """t >= time."""
        return sim.t >= self.time - TIME_EPS


@dataclass(frozen=True)
class DistanceBelow:
    """Two active rows' reference points closer than ``limit`` (m)."""

    a: int
    b: int
    limit: float
    text: str

    def holds(self, sim: Any) -> bool:
        """Both active and centre-to-centre distance < limit."""
        st = sim.world.state
        if not (st.active[self.a] and st.active[self.b]):
            return False
        return math.hypot(st.x[self.a] - st.x[self.b], st.y[self.a] - st.y[self.b]) < self.limit


@dataclass(frozen=True)
class SpeedBound:
    """An active row's speed above (``above`` True) or below ``value`` (m/s)."""

    row: int
    value: float
    above: bool
    text: str

    def holds(self, sim: Any) -> bool:
        """speed > value (above) or speed < value (below)."""
        st = sim.world.state
        if not st.active[self.row]:
            return False
        v = float(st.speed[self.row])
        return v > self.value if self.above else v < self.value


@dataclass(frozen=True)
class ReachesLane:
    """The row's route progress lies on lane ``lane`` (or past its entry on the route)."""

    row: int
    lane: int
    entry_s: float
    text: str

    def holds(self, sim: Any) -> bool:
        """progress >= the route s where the lane begins."""
        return float(sim.world.state.progress[self.row]) >= self.entry_s - TIME_EPS


@dataclass(frozen=True)
class SignalIs:
    """Signal group ``group`` shows ``state`` (a ``SignalState`` value)."""

    group: int
    state: int
    text: str

    def holds(self, sim: Any) -> bool:
        """Current state of the group (instance 0)."""
        return int(sim.sig_state[0, self.group]) == self.state


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds."""

    parts: tuple[Trigger, ...]
    text: str

    def holds(self, sim: Any) -> bool:
        """any()."""
        return any(p.holds(sim) for p in self.parts)


@dataclass(frozen=True)
class AllOf:
    """Every part holds at the same check."""

    parts: tuple[Trigger, ...]
    text: str

    def holds(self, sim: Any) -> bool:
        """all()."""
        return all(p.holds(sim) for p in self.parts)


@dataclass(frozen=True)
class StartRow:
    """A pedestrian row starts walking now."""

    row: int
    text: str

    def apply(self, sim: Any) -> None:
        """started True, start time now."""
        w = sim.world
        w.state.started[self.row] = True
        w.pedestrians.start_time[self.row] = min(float(w.pedestrians.start_time[self.row]), sim.t)


@dataclass(frozen=True)
class SetSignal:
    """Override a signal group (``state`` a SignalState value, -1 = back to the plan)."""

    group: int
    state: int
    text: str

    def apply(self, sim: Any) -> None:
        """Write ``sig_override``; the current states are refreshed by the runner."""
        sim.world.sig_override[:, self.group] = self.state


@dataclass(frozen=True)
class RemoveRow:
    """A row leaves the simulation."""

    row: int
    text: str

    def apply(self, sim: Any) -> None:
        """active False, at rest."""
        st = sim.world.state
        st.active[self.row] = False
        st.speed[self.row] = 0.0


@dataclass(frozen=True)
class SetFriction:
    """Every route sample's friction (and each row's current friction) becomes ``mu``."""

    mu: float
    text: str

    def apply(self, sim: Any) -> None:
        """Overwrite ``routes.friction`` and ``world.friction``."""
        sim.world.routes.friction[:] = self.mu
        sim.world.friction[:] = self.mu


@dataclass(frozen=True)
class EndRun:
    """End the run with termination ``reason``."""

    reason: str
    text: str

    def apply(self, sim: Any) -> None:
        """Ask the runner to stop after this step."""
        sim.story_end = self.reason


@dataclass(frozen=True)
class Story:
    """One compiled storyboard entry: ``trigger`` then, ``delay`` (s) later, ``action``; once."""

    trigger: Trigger
    action: Action
    delay: float = 0.0

    @property
    def detail(self) -> str:
        """Event detail: ``"trigger -> action"``."""
        return f"{self.trigger.text} -> {self.action.text}"


@dataclass
class StoryProgress:
    """Run-time bookkeeping of a storyboard: when each trigger fired, which actions are done."""

    stories: tuple[Story, ...]
    fired_at: list[float | None] = field(default_factory=list)
    done: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Nothing fired yet."""
        self.fired_at = [None] * len(self.stories)
        self.done = [False] * len(self.stories)

    def check(self, sim: Any) -> list[Story]:
        """Fire pending triggers that hold now; apply and return the actions that are due."""
        due: list[Story] = []
        for k, story in enumerate(self.stories):
            if self.done[k]:
                continue
            if self.fired_at[k] is None and story.trigger.holds(sim):
                self.fired_at[k] = sim.t
            fired = self.fired_at[k]
            if fired is not None and sim.t >= fired + story.delay - TIME_EPS:
                self.done[k] = True
                story.action.apply(sim)
                due.append(story)
        return due


@dataclass(frozen=True)
class StoryboardSnapshot:
    """World arrays a storyboard may change, as built (restored by ``Simulation.reset``)."""

    sig_override: np.ndarray
    route_friction: np.ndarray
    friction: np.ndarray
    start_time: np.ndarray

    @classmethod
    def take(cls, world: Any) -> StoryboardSnapshot:
        """Copy the arrays now."""
        return cls(
            world.sig_override.copy(),
            world.routes.friction.copy(),
            world.friction.copy(),
            world.pedestrians.start_time.copy(),
        )

    def restore(self, world: Any) -> None:
        """Write the copies back."""
        world.sig_override[:] = self.sig_override
        world.routes.friction[:] = self.route_friction
        world.friction[:] = self.friction
        world.pedestrians.start_time[:] = self.start_time
