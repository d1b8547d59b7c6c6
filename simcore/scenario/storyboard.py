"""Storyboard (scenario key ``storyboard:``): the entries as objects, and the per-step Python path.

``scenario.build`` turns each validated entry into a :class:`Story` of the small objects below
(rows, lane ids and signal groups resolved once). When every entry is of a kind listed in
``runner.story_tables`` the storyboard runs inside the compiled step (``runner.story_kernels``,
same semantics); otherwise ``runner.loop.Simulation`` checks the pending stories here after every
step and applies their actions. Triggers read the simulation through a
narrow view (``world``, ``t``, ``sig_state``, ``driver``), actions write the world and may end the run.

Semantics: every trigger is a *level* condition evaluated after each step (the first check is at
t = dt); an entry fires at the first check where its trigger holds (a rising edge for the entry,
which then never fires again). Scripted speeds (``speed``/``stop`` actions) are applied around each
step by :class:`ScriptedSpeeds`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, get_args

import numpy as np

from simcore.behavior.profile_kernels import (
    N_CHAIN,
    NO_LIMIT_MPS,
    SHAPES,
    TIME_EPS,
    follow_path_route,
    profile_distance,
    profile_speed,
    reference_settled,
    shift_route,
    track_reference,
)
from simcore.dynamics.kinematic_kernels import advance_arc
from simcore.environment import world_environment
from simcore.road.frenet_kernels import project_on_polyline
from simcore.scenario.schema import CompareMeasure, CompareRule
from simcore.scenario.trigger_kernels import KEEP_TAU_S, along, apply_rule, compare_quantity, on_lane

#: ``compare`` measure names by kernel code (the index; ``trigger_kernels.M_*``).
MEASURES: tuple[str, ...] = get_args(CompareMeasure)
#: ``compare`` rule names by kernel code (the index).
RULES: tuple[str, ...] = get_args(CompareRule)


class Trigger(Protocol):
    """A condition on the current simulation state."""

    @property
    def text(self) -> str:
        """How the scenario said it (event detail)."""
        ...

    def holds(self, sim: Any) -> bool:
        """True if the condition holds now."""
        ...


class Action(Protocol):
    """Something a storyboard entry does."""

    @property
    def text(self) -> str:
        """How the scenario said it (event detail)."""
        ...

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
        """any(), every part checked (parts with a memory, such as edges and delays, see every check)."""
        return any([p.holds(sim) for p in self.parts])


@dataclass(frozen=True)
class AllOf:
    """Every part holds at the same check."""

    parts: tuple[Trigger, ...]
    text: str

    def holds(self, sim: Any) -> bool:
        """all(), every part checked (parts with a memory, such as edges and delays, see every check)."""
        return all([p.holds(sim) for p in self.parts])


@dataclass(frozen=True)
class StartRow:
    """A row starts now: a pedestrian walks, a stopped vehicle drives on, a spawn-pending row appears."""

    row: int
    text: str

    def apply(self, sim: Any) -> None:
        """active and started True, start time now, any scripted hold released."""
        w = sim.world
        w.state.active[self.row] = True
        w.state.started[self.row] = True
        start = sim.state.ped_start[0]
        start[self.row] = min(float(start[self.row]), sim.t)
        sim.scripted.release(sim, self.row)


@dataclass(frozen=True)
class SetSignal:
    """Override a signal group (``state`` a SignalState value, -1 = back to the plan)."""

    group: int
    state: int
    text: str

    def apply(self, sim: Any) -> None:
        """Write the state's ``sig_override``; the current states are refreshed by the runner."""
        sim.state.sig_override[0][:, self.group] = self.state


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
        """Overwrite the state's route friction and row friction, and the environment's friction."""
        sim.state.route_mu[0][:] = self.mu
        sim.state.friction[0][:] = self.mu
        world_environment(sim.world).friction = self.mu


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
    applied_at: list[float] = field(default_factory=list)
    handle: list[Any] = field(default_factory=list)
    first_held: dict[int, float] = field(default_factory=dict)
    last_seen: dict[int, tuple[float, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Nothing fired yet."""
        self.fired_at = [None] * len(self.stories)
        self.done = [False] * len(self.stories)
        self.applied_at = [math.inf] * len(self.stories)
        self.handle = [None] * len(self.stories)

    def finished(self, sim: Any, k: int) -> bool:
        """Has entry k's action finished? Speed scripts when their profile reached its end (or was
        replaced), a synchronisation at its arrival, a continuous speed never, a lane change after its
        duration; every other action at once."""
        if not self.done[k]:
            return False
        action = self.stories[k].action
        own = getattr(action, "finished", None)  # actions that say themselves when they have finished
        if own is not None:
            return bool(own(sim))
        if isinstance(action, LaneChange):
            return sim.t >= self.applied_at[k] + action.duration - TIME_EPS
        if not isinstance(action, SpeedProfile | Synchronize | KeepDistance):
            return True
        p = self.handle[k]
        if p is None or sim.scripted.profiles.get(action.row) is not p:
            return True
        if isinstance(p, _Sync):
            return p.arrived is not None
        if isinstance(p, _Keep):
            return p.reached and not p.spec.continuous
        if isinstance(p, _Follow):
            return False
        return sim.t >= p.t0 + p.duration - TIME_EPS

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
                self.applied_at[k] = sim.t
                row = getattr(story.action, "row", None)
                if row is not None and hasattr(sim, "scripted"):
                    self.handle[k] = sim.scripted.profiles.get(row)
                due.append(story)
        return due


@dataclass(frozen=True)
class StoryboardSnapshot:
    """What a storyboard may change outside the EngineState: the environment (weather) record.

    Every array a storyboard action writes (signal overrides, friction, walker start times, route
    samples, speeds) lives in the Simulation's EngineState and is reset / restored with it.
    """

    environment: dict

    @classmethod
    def take(cls, world: Any) -> StoryboardSnapshot:
        """Copy the environment now."""
        return cls(world_environment(world).as_dict())

    def restore(self, world: Any) -> None:
        """Write the copy back."""
        env = world_environment(world)
        for k, v in self.environment.items():
            setattr(env, k, v)


# ----------------------------------------------------------------------------- more triggers


def box_centre(world: Any, row: int) -> tuple[float, float]:
    """Centre of a row's bounding box (m, ENU): the reference point moved ``center_offset`` ahead."""
    st = world.state
    c = float(world.params["center_offset"][row])
    yaw = float(st.yaw[row])
    return float(st.x[row]) + c * math.cos(yaw), float(st.y[row]) + c * math.sin(yaw)


def bumper_gap(world: Any, a: int, b: int) -> float:
    """Distance between the box centres of rows a and b minus half of both lengths (m).

    This is the bumper-to-bumper gap of two vehicles in line (same lane, same heading); negative
    when the boxes overlap along the line between them.
    """
    ax, ay = box_centre(world, a)
    bx, by = box_centre(world, b)
    length = world.params["length"]
    return math.hypot(bx - ax, by - ay) - 0.5 * (float(length[a]) + float(length[b]))


def closing_speed(world: Any, a: int, b: int) -> float:
    """Rate (m/s) at which the box centres of a and b approach (> 0 when closing)."""
    st = world.state
    ax, ay = box_centre(world, a)
    bx, by = box_centre(world, b)
    dx, dy = bx - ax, by - ay
    d = math.hypot(dx, dy)
    if d == 0.0:
        return 0.0
    dvx = float(st.speed[b]) * math.cos(float(st.yaw[b])) - float(st.speed[a]) * math.cos(float(st.yaw[a]))
    dvy = float(st.speed[b]) * math.sin(float(st.yaw[b])) - float(st.speed[a]) * math.sin(float(st.yaw[a]))
    return -(dx * dvx + dy * dvy) / d


def time_headway(world: Any, a: int, b: int) -> float:
    """Time headway of a behind b (s): bumper gap / speed of a (inf at standstill, 0 when touching)."""
    gap = bumper_gap(world, a, b)
    if gap <= 0.0:
        return 0.0
    v = float(world.state.speed[a])
    return gap / v if v > 0.0 else math.inf


def time_to_collision(world: Any, a: int, b: int) -> float:
    """TTC of a and b (s): bumper gap / closing speed (inf when not closing, 0 when touching)."""
    gap = bumper_gap(world, a, b)
    if gap <= 0.0:
        return 0.0
    c = closing_speed(world, a, b)
    return gap / c if c > 0.0 else math.inf


@dataclass(frozen=True)
class GapBelow:
    """Time headway (``ttc`` False) or TTC (``ttc`` True) of row a to row b below ``limit`` (s)."""

    a: int
    b: int
    limit: float
    ttc: bool
    text: str

    def holds(self, sim: Any) -> bool:
        """Both active and the measure < limit."""
        st = sim.world.state
        if not (st.active[self.a] and st.active[self.b]):
            return False
        f = time_to_collision if self.ttc else time_headway
        return f(sim.world, self.a, self.b) < self.limit


@dataclass(frozen=True)
class RelativeSpeed:
    """speed[a] - speed[b] above (``above`` True) or below ``value`` (m/s)."""

    a: int
    b: int
    value: float
    above: bool
    text: str

    def holds(self, sim: Any) -> bool:
        """Both active and the difference beyond the value."""
        st = sim.world.state
        if not (st.active[self.a] and st.active[self.b]):
            return False
        dv = float(st.speed[self.a]) - float(st.speed[self.b])
        return dv > self.value if self.above else dv < self.value


@dataclass(frozen=True)
class NearPoint:
    """Row's reference point within ``radius`` (m) of (x, y)."""

    row: int
    x: float
    y: float
    radius: float
    text: str

    def holds(self, sim: Any) -> bool:
        """Active and distance <= radius."""
        st = sim.world.state
        if not st.active[self.row]:
            return False
        return math.hypot(float(st.x[self.row]) - self.x, float(st.y[self.row]) - self.y) <= self.radius


@dataclass(frozen=True)
class OnLane:
    """Row's reference point on lane ``lane``: foot point inside the centre line, within ``half_width``."""

    row: int
    lane_x: np.ndarray
    lane_y: np.ndarray
    lane_s: np.ndarray
    half_width: float
    text: str

    def holds(self, sim: Any) -> bool:
        """Active, projection strictly inside the lane's length, lateral distance <= half width."""
        st = sim.world.state
        if not st.active[self.row]:
            return False
        x, y, n = st.x[self.row], st.y[self.row], len(self.lane_s)
        return bool(on_lane(x, y, self.lane_x, self.lane_y, self.lane_s, 0, n, self.half_width))


@dataclass(frozen=True)
class ProgressPast:
    """Row's route progress at or past ``s`` (m)."""

    row: int
    s: float
    text: str

    def holds(self, sim: Any) -> bool:
        """Active and progress >= s."""
        st = sim.world.state
        return bool(st.active[self.row]) and float(st.progress[self.row]) >= self.s - TIME_EPS


@dataclass(frozen=True)
class AfterEntry:
    """Storyboard entry number ``entry`` has done its action (this check or an earlier one)."""

    entry: int
    text: str

    def holds(self, sim: Any) -> bool:
        """The entry is done."""
        story = sim._story
        return story is not None and story.done[self.entry]


def _along(world: Any, a: int, b: int, freespace: bool) -> tuple[float, float]:
    """(longitudinal, lateral) distance of b from a in a's heading frame (m): ``trigger_kernels.along``."""
    st, p = world.state, world.params
    lon, lat = along(a, b, freespace, st.x, st.y, st.yaw, p["length"], p["width"], p["center_offset"])
    return float(lon), float(lat)


@dataclass(frozen=True)
class Compare:
    """A measured quantity (``measure``, of rows a and b) compared with ``value`` by ``rule``.

    Measures: time (s); speed, accel of a; relative_speed a - b; distance (reference points, or
    bumper gap with ``freespace``), longitudinal (signed: negative when b is behind a) / lateral
    (absolute) in a's heading frame, headway (signed like longitudinal) and ttc of a to b (s);
    traveled (route progress since the start, m); remaining (route length left, m). ``start`` and
    ``length`` are a's route progress at the start and its route length.
    """

    measure: str
    a: int
    b: int
    rule: str
    value: float
    freespace: bool
    start: float
    length: float
    text: str

    def quantity(self, sim: Any) -> float | None:
        """The measured value now (None while a needed row is inactive): ``trigger_kernels.compare_quantity``."""
        w = sim.world
        st, p = w.state, w.params
        ok, q = compare_quantity(
            MEASURES.index(self.measure), self.a, self.b, self.freespace, self.start, self.length, float(sim.t),
            st.x, st.y, st.yaw, st.speed, st.accel, st.progress, st.active, p["length"], p["width"],
            p["center_offset"],
        )  # fmt: skip
        return float(q) if ok else None

    def holds(self, sim: Any) -> bool:
        """The rule holds for the current quantity."""
        q = self.quantity(sim)
        return q is not None and bool(apply_rule(RULES.index(self.rule), q, self.value))


@dataclass(frozen=True)
class Delayed:
    """``inner`` first held at t0 (latched per run in ``StoryProgress.first_held``): holds from t0 + ``delay``."""

    inner: Trigger
    delay: float
    text: str
    key: int = 0  # unique per storyboard (build time): survives the copies of snapshot / restore

    def holds(self, sim: Any) -> bool:
        """Record the first time the inner trigger holds; true from then + delay."""
        story = sim._story
        if story is None:
            return False
        t0 = story.first_held.get(self.key)
        if t0 is None and self.inner.holds(sim):
            t0 = story.first_held[self.key] = sim.t
        return t0 is not None and sim.t >= t0 + self.delay - TIME_EPS


@dataclass(frozen=True)
class DoneEntry:
    """Storyboard entry number ``entry`` has done its action and the action has finished."""

    entry: int
    text: str

    def holds(self, sim: Any) -> bool:
        """See :meth:`StoryProgress.finished`."""
        story = sim._story
        return story is not None and story.finished(sim, self.entry)


def _seen(sim: Any, key: int, value: Any) -> Any:
    """The value recorded under ``key`` at the previous step's check (None when there was no check then,
    e.g. the first check or a check skipped because an earlier part of an ``all`` was false); records
    ``value`` for this step."""
    story = sim._story
    if story is None:
        return None
    prev = story.last_seen.get(key)
    story.last_seen[key] = (float(sim.t), value)
    if prev is None or float(sim.t) - prev[0] > 1.5 * float(sim.world.dt) or float(sim.t) <= prev[0]:
        return None
    return prev[1]


@dataclass(frozen=True)
class Edge:
    """An edge of ``inner`` (OpenSCENARIO conditionEdge): ``rising`` holds at a check where inner holds
    and did not hold at the previous step's check, ``falling`` the reverse, ``both`` either. The first
    check has no previous value, so it is never an edge (an already-true condition does not fire)."""

    inner: Trigger
    kind: str
    text: str
    key: int = 0  # unique per storyboard (build time): survives the copies of snapshot / restore

    def holds(self, sim: Any) -> bool:
        """Compare the inner trigger now with its value one step ago."""
        now = bool(self.inner.holds(sim))
        before = _seen(sim, self.key, now)
        if before is None or before == now:
            return False
        return self.kind == "both" or (self.kind == "rising") == now


@dataclass(frozen=True)
class Held:
    """``inner`` has held at every step's check for at least ``duration`` s (e.g. a standstill that lasts):
    true from t0 + duration where t0 starts the current unbroken run of checks where inner holds."""

    inner: Trigger
    duration: float
    text: str
    key: int = 0  # unique per storyboard (build time): survives the copies of snapshot / restore

    def holds(self, sim: Any) -> bool:
        """Track the start of the current run of holding checks."""
        t = float(sim.t)
        start = _seen(sim, self.key, None)  # the run's start time, if the previous step's check held
        if not self.inner.holds(sim):
            if sim._story is not None:
                sim._story.last_seen.pop(self.key, None)
            return False
        t0 = t if start is None else start
        if sim._story is not None:
            sim._story.last_seen[self.key] = (t, t0)
        return t >= t0 + self.duration - TIME_EPS


# ----------------------------------------------------------------------------- more actions


def place_row(
    sim: Any, row: int, x: float, y: float, yaw: float | None, speed: float | None, lateral_ok: bool = True
) -> None:
    """Put ``row`` at (x, y) (m) with heading ``yaw`` (rad; None: its route's heading there) and re-project
    its route progress over the whole route; ``speed`` (m/s) None keeps the current speed."""
    w = sim.world
    st, r = w.state, w.routes
    a, b = int(r.start[row]), int(r.start[row + 1])
    s, t, k, _ = project_on_polyline(x, y, sim.state.route_x[0], sim.state.route_y[0], r.s, a, b)
    st.x[row], st.y[row] = x, y
    st.yaw[row] = float(r.heading[k]) if yaw is None else yaw
    st.progress[row] = s
    st.lateral[row] = t
    st.steer[row] = 0.0
    st.vy[row] = 0.0
    st.yaw_rate[row] = 0.0
    if speed is not None:
        st.speed[row] = speed
        st.accel[row] = 0.0
        sim.scripted.release(sim, row)


@dataclass(frozen=True)
class Teleport:
    """Move a row to a pose: (x, y, yaw) with yaw None meaning "the route heading there"."""

    row: int
    x: float
    y: float
    yaw: float | None
    speed: float | None
    text: str

    def apply(self, sim: Any) -> None:
        """Set the pose and re-project progress."""
        place_row(sim, self.row, self.x, self.y, self.yaw, self.speed)


@dataclass(frozen=True)
class Spawn:
    """A spawn-pending row becomes active (optionally at a pose, see :class:`Teleport`)."""

    row: int
    place: Teleport | None
    text: str

    def apply(self, sim: Any) -> None:
        """active and started True; placed if asked."""
        st = sim.world.state
        st.active[self.row] = True
        st.started[self.row] = True
        start = sim.state.ped_start[0]
        start[self.row] = min(float(start[self.row]), sim.t)
        if self.place is not None:
            self.place.apply(sim)


@dataclass(frozen=True)
class SpeedProfile:
    """Drive row's speed from its current value to ``target`` (m/s) with ``shape``.

    ``rate`` (m/s^2) or ``duration`` (s) sets how long; ``hold``: keep it at the target afterwards
    (standstill for ``stop``) until a ``start``; otherwise the driver model takes over with its
    desired speed set to the target.
    """

    row: int
    target: float
    shape: str
    rate: float | None
    duration: float | None
    hold: bool
    text: str
    relative_to: int | None = None
    delta: float = 0.0
    factor: float = 1.0
    continuous: bool = False
    distance: float | None = None

    def apply(self, sim: Any) -> None:
        """Start the profile now (a relative target: ``relative_to``'s speed now x factor + delta)."""
        st = sim.world.state
        v0 = float(st.speed[self.row])
        target = self.target
        if self.relative_to is not None:
            target = max(float(st.speed[self.relative_to]) * self.factor + self.delta, 0.0)
        if self.continuous and self.relative_to is not None:
            sim.scripted.follow(sim, self.row, self.relative_to, self.factor, self.delta)
            return
        if self.shape == "step":
            dur = 0.0
        elif self.distance is not None:  # the mean speed of a linear or cubic ramp is (v0 + v1) / 2
            dur = 2.0 * self.distance / max(v0 + target, 1e-6)
        elif self.duration is not None:
            dur = self.duration
        else:
            assert self.rate is not None
            dur = abs(target - v0) / self.rate
        sim.scripted.begin(sim, self.row, sim.t, v0, target, self.shape, dur, self.hold)


@dataclass(frozen=True)
class LaneChange:
    """Shift the rest of a row's route sideways by ``offset`` (m, left +) over ``duration`` (s).

    The shift blends in with a smoothstep over the distance the row covers in ``duration`` at its
    current speed (at least 1 m/s), starting at its current progress; the route beyond is the
    parallel curve at the full offset (the neighbour lane on straight and gently curved roads).
    """

    row: int
    side: int
    offsets: np.ndarray
    lanes: np.ndarray
    duration: float
    text: str

    def apply(self, sim: Any) -> None:
        """Move the route samples from the current progress on."""
        w = sim.world
        r = w.routes
        a, b = int(r.start[self.row]), int(r.start[self.row + 1])
        p = float(w.state.progress[self.row])
        s = r.s[a:b]
        k = int(np.clip(np.searchsorted(s, p, side="right") - 1, 0, len(s) - 1))
        lane = int(w.routes.paths[self.row].lane[k]) if len(w.routes.paths[self.row].lane) > k else -1
        offset = float(self.offsets[lane]) if lane >= 0 else float(np.median(self.offsets))
        shift_route(
            self.row, self.side, offset, self.duration, w.state.speed, w.state.progress, r.start, r.s, r.heading,
            sim.state.route_x[0], sim.state.route_y[0],
        )  # fmt: skip


@dataclass(frozen=True)
class SetWeather:
    """The weather becomes ``rain_mm_h`` and ``fog_visibility_m`` (None: clear)."""

    rain_mm_h: float
    fog_visibility_m: float | None
    text: str

    def apply(self, sim: Any) -> None:
        """Write the environment state."""
        env = world_environment(sim.world)
        env.rain_mm_h = self.rain_mm_h
        env.fog_visibility_m = self.fog_visibility_m


# ----------------------------------------------------------------------------- scripted speeds


@dataclass
class _Profile:
    t0: float
    v0: float
    v1: float
    shape: str
    duration: float
    hold: bool

    def speed(self, t: float) -> float:
        return float(profile_speed(t, self.t0, self.v0, self.v1, SHAPES.index(self.shape), self.duration))

    def distance(self, t_a: float, t_b: float) -> float:
        """Distance covered between t_a and t_b (m): ``behavior.profile_kernels.profile_distance``."""
        return float(profile_distance(t_a, t_b, self.t0, self.v0, self.v1, SHAPES.index(self.shape), self.duration))


@dataclass
class _Follow:
    """A continuous relative speed: ``speeds[ref]`` x factor + delta, read live (m/s); never ends by itself."""

    speeds: np.ndarray
    ref: int
    factor: float
    delta: float
    t0: float = 0.0
    duration: float = 0.0
    hold: bool = True

    def speed(self, t: float) -> float:
        return max(float(self.speeds[self.ref]) * self.factor + self.delta, 0.0)

    def distance(self, t_a: float, t_b: float) -> float:  # pragma: no cover - duration 0 uses the trapezoid
        return self.speed(t_b) * (t_b - t_a)


@dataclass
class _Sync:
    """Speed that brings a row to route s ``s_target`` when ``master`` reaches ``s_master``: the row's
    remaining distance over the master's remaining time (its remaining distance / its speed); after
    the arrival, ``final`` (m/s; None: the speed then). Reads the live state arrays."""

    state: Any
    row: int
    master: int
    s_target: float
    s_master: float
    tolerance: float
    final: float | None
    final_delta: float | None
    t0: float = 0.0
    duration: float = 0.0
    hold: bool = True
    arrived: float | None = None

    def speed(self, t: float) -> float:
        st = self.state
        if self.arrived is None:
            d_a = self.s_target - float(st.progress[self.row])
            d_m = self.s_master - float(st.progress[self.master])
            if d_a > self.tolerance and d_m > self.tolerance:
                v_m = float(st.speed[self.master])
                return min(max(d_a * v_m / d_m, 0.0), 70.0)
            if self.final is not None:
                self.arrived = self.final
            elif self.final_delta is not None:
                self.arrived = max(float(st.speed[self.master]) + self.final_delta, 0.0)
            else:
                self.arrived = float(st.speed[self.row])
        return self.arrived

    def distance(self, t_a: float, t_b: float) -> float:  # pragma: no cover - duration 0 uses the trapezoid
        return self.speed(t_b) * (t_b - t_a)


@dataclass
class _Keep:
    """Live speed of a ``keep_distance`` row (see :class:`KeepDistance`); computed once per time."""

    world: Any
    row: int
    ref: int
    spec: Any
    t0: float = 0.0
    duration: float = 0.0
    hold: bool = True
    reached: bool = False
    _t: float = math.nan
    _v: float = 0.0

    def speed(self, t: float) -> float:
        if t == self._t:
            return self._v
        w, c = self.world, self.spec
        st = w.state
        lon, _ = _along(w, self.row, self.ref, c.freespace)  # signed: > 0 when ref is ahead of row
        v = float(st.speed[self.row])
        want = c.distance_m if c.distance_m is not None else c.time_gap_s * v
        side = c.side if c.side != "any" else ("behind" if lon >= 0.0 else "ahead")
        err = lon - want if side == "behind" else -lon - want  # > 0: too far from the wanted place
        target = float(st.speed[self.ref]) + (err if side == "behind" else -err) / KEEP_TAU_S
        dt = float(w.dt)
        if c.max_accel is not None:
            target = min(target, v + c.max_accel * dt)
        if c.max_decel is not None:
            target = max(target, v - c.max_decel * dt)
        if c.max_speed is not None:
            target = min(target, c.max_speed)
        self.reached = self.reached or (abs(err) < 0.5 and abs(v - float(st.speed[self.ref])) < 0.2)
        self._t, self._v = t, max(target, 0.0)
        return self._v

    def distance(self, t_a: float, t_b: float) -> float:  # pragma: no cover - duration 0 uses the trapezoid
        return self.speed(t_b) * (t_b - t_a)


@dataclass(frozen=True)
class KeepDistance:
    """Start distance keeping of ``row`` to ``ref`` (``spec`` a ``KeepDistanceSpec``)."""

    row: int
    ref: int
    spec: Any
    text: str
    profile: ClassVar[type] = _Keep  # the live speed it scripts

    def apply(self, sim: Any) -> None:
        """The row's speed is scripted from now on (until a ``start`` or another speed action)."""
        sim.scripted.script(sim, self.row, self.profile(sim.world, self.row, self.ref, self.spec))


@dataclass(frozen=True)
class Synchronize:
    """Start a :class:`_Sync` speed on ``row`` (route s targets resolved at build time)."""

    row: int
    master: int
    s_target: float
    s_master: float
    tolerance: float
    final: float | None
    final_delta: float | None
    text: str
    profile: ClassVar[type] = _Sync  # the live speed it scripts

    def apply(self, sim: Any) -> None:
        """The row's speed is scripted from now on (until a ``start`` or another speed action)."""
        p = self.profile(
            sim.world.state,
            self.row,
            self.master,
            self.s_target,
            self.s_master,
            self.tolerance,
            self.final,
            self.final_delta,
        )
        sim.scripted.script(sim, self.row, p)


@dataclass(frozen=True)
class _DriverView:
    """The driver arrays scripted speeds write: (n,) desired speed (m/s) and speed factor (-)."""

    v_des: np.ndarray
    speed_factor: np.ndarray


class ScriptedSpeeds:
    """Rows whose speed the storyboard prescribes (``speed`` and ``stop`` actions).

    Around each step: before it, the row's driver gets the scripted speed as its desired speed
    (limits lifted); after it, a kinematic row's speed is set to the profile's value at the new
    time and its pose moved along its arc so that the distance covered is the profile's (the
    step's own acceleration replaced by the scripted one). Single-track rows get the speed only.
    When a profile ends the row either holds the target (``hold``: ``stop``) until a ``start``, or
    the driver model takes over with desired speed = target; the ego's agent simply drives on.
    """

    def __init__(self, v_des: np.ndarray, speed_factor: np.ndarray) -> None:
        """``v_des``, ``speed_factor``: the engine state's (n,) driver arrays (written in place)."""
        self.driver = _DriverView(v_des, speed_factor)
        self.base_v_des = v_des.copy()
        self.base_speed_factor = speed_factor.copy()
        self.profiles: dict[int, Any] = {}
        self._pre: dict[int, float] = {}

    def reset(self) -> None:
        """No scripted rows; driver parameters as built."""
        self.profiles.clear()
        self.driver.v_des[:] = self.base_v_des
        self.driver.speed_factor[:] = self.base_speed_factor

    def follow(self, sim: Any, row: int, ref: int, factor: float, delta: float) -> None:
        """From now on ``row``'s speed is ``ref``'s speed x factor + delta at every step (a continuous
        relative target), until a ``start``, a teleport with a speed or another speed action."""
        self.script(sim, row, _Follow(sim.world.state.speed, ref, factor, delta))

    def script(self, sim: Any, row: int, p: Any) -> None:
        """Script ``row``'s speed by a live profile ``p`` (``_Follow``, ``_Sync``): set now, then every step."""
        self.profiles[row] = p
        self.driver.speed_factor[row] = NO_LIMIT_MPS
        v = p.speed(sim.t)
        self.driver.v_des[row] = v
        sim.world.state.speed[row] = v

    def save(self) -> dict[int, Any]:
        """The active profiles (a snapshot; the driver arrays are part of the engine state)."""
        return {row: copy.copy(p) for row, p in self.profiles.items()}

    def load(self, saved: dict[int, Any]) -> None:
        """Back to a ``save``."""
        self.profiles = {row: copy.copy(p) for row, p in saved.items()}

    def begin(self, sim: Any, row: int, t0: float, v0: float, v1: float, shape: str, dur: float, hold: bool) -> None:
        """Start a profile for ``row`` at time t0 (s) from v0 to v1 (m/s) over ``dur`` (s)."""
        self.profiles[row] = _Profile(t0, v0, v1, shape, dur, hold or v1 == 0.0)
        self.driver.speed_factor[row] = NO_LIMIT_MPS
        self.driver.v_des[row] = max(v1, 0.0)
        if dur <= 0.0:  # a step: the speed changes now
            sim.world.state.speed[row] = v1

    def release(self, sim: Any, row: int) -> None:
        """Stop scripting ``row``: its driver gets its built desired speed back."""
        if row in self.profiles:
            del self.profiles[row]
            self.driver.v_des[row] = self.base_v_des[row]
            self.driver.speed_factor[row] = self.base_speed_factor[row]

    def before_step(self, sim: Any) -> None:
        """Desired speeds for the coming step; remember the speeds before it."""
        st = sim.world.state
        self._pre = {row: float(st.speed[row]) for row in self.profiles}
        for row, p in self.profiles.items():
            self.driver.v_des[row] = max(p.speed(sim.t + sim.world.dt), 0.0)

    def after_step(self, sim: Any, t_before: float) -> None:
        """Impose the scripted speed (and distance, kinematic rows) for the step just taken."""
        w = sim.world
        st, prm = w.state, w.params
        dt = sim.t - t_before
        if dt <= 0.0:
            return
        for row, p in list(self.profiles.items()):
            if not st.active[row]:
                continue
            v_pre = self._pre.get(row, float(st.speed[row]))
            v_new = p.speed(sim.t)
            if w.dynamics is None or w.dynamics[row] == 0:  # kinematic: replay the step's distance, correct it
                a = min(max(float(sim.ctrl_accel[row]), -float(prm["max_decel"][row])), float(prm["max_accel"][row]))
                v1 = v_pre + a * dt
                if v1 < 0.0:
                    dist = v_pre * v_pre / (2.0 * -a) if a < 0.0 else 0.0
                elif v1 > float(prm["max_speed"][row]):
                    dist = 0.5 * (v_pre + float(prm["max_speed"][row])) * dt
                else:
                    dist = v_pre * dt + 0.5 * a * dt * dt
                want = p.distance(t_before, sim.t) if p.duration > 0.0 else 0.5 * (v_pre + v_new) * dt
                kappa = math.tan(float(st.steer[row])) / float(prm["wheelbase"][row])
                # step back along the arc the step took, then forward by the scripted distance
                x, y, yaw = advance_arc(float(st.x[row]), float(st.y[row]), float(st.yaw[row]), want - dist, kappa)
                st.x[row], st.y[row] = x, y
                st.yaw[row] = math.atan2(math.sin(yaw), math.cos(yaw))
                st.progress[row] += want - dist
            st.accel[row] = (v_new - v_pre) / dt
            st.speed[row] = v_new
            if sim.t >= p.t0 + p.duration - TIME_EPS and not p.hold:
                if row == w.ego:  # the agent drives the ego again (in-engine or not: the same)
                    self.release(sim, row)
                else:
                    del self.profiles[row]
                    self.driver.v_des[row] = max(p.v1, 0.5)


# ----------------------------------------------------------------------------- smooth final speeds, jerk limits


@dataclass
class _SyncSmooth(_Sync):
    """A :class:`_Sync` that reaches its final speed at the arrival instead of switching to it there.

    At every step the rest of the approach is planned as the quadratic speed profile
    v(u) = v + (vf - v) u / T + c u (T - u) over the master's remaining time T = d_m / v_m, which ends at
    vf and covers the remaining distance d_a (c = 6 (d_a - (v + vf) T / 2) / T^3); the row takes that
    profile's first step. Speeds stay within [0, 70] m/s."""

    _t: float = math.nan
    _v: float = math.nan

    def speed(self, t: float) -> float:
        if abs(t - self._t) <= TIME_EPS or self.arrived is not None:
            return self.arrived if self.arrived is not None else self._v
        st = self.state
        if math.isnan(self._v):  # the first call: it goes on at its speed
            self._t, self._v = t, float(st.speed[self.row])
            return self._v
        d_a = self.s_target - float(st.progress[self.row])
        d_m = self.s_master - float(st.progress[self.master])
        v_m = float(st.speed[self.master])
        vf = self.final if self.final is not None else max(v_m + (self.final_delta or 0.0), 0.0)
        h = t - self._t
        if d_a <= self.tolerance or d_m <= self.tolerance or v_m <= 0.0 or d_m / v_m <= h:
            return _Sync.speed(self, t) if d_a <= self.tolerance or d_m <= self.tolerance else self._v
        big_t = d_m / v_m
        c = 6.0 * (d_a - 0.5 * (self._v + vf) * big_t) / big_t**3
        v = self._v + (vf - self._v) * h / big_t + c * h * (big_t - h)
        self._t, self._v = t, min(max(v, 0.0), 70.0)
        return self._v


@dataclass(frozen=True)
class SynchronizeSmooth(Synchronize):
    """:class:`Synchronize` whose final speed is reached gradually (:class:`_SyncSmooth`)."""

    profile: ClassVar[type] = _SyncSmooth


@dataclass
class _KeepJerk(_Keep):
    """A :class:`_Keep` whose acceleration changes by at most ``max_accel_rate`` x dt per step upwards and
    ``max_decel_rate`` x dt downwards (m/s^3; jerk limits); the acceleration starts from the row's."""

    _a: float = math.nan

    def speed(self, t: float) -> float:
        if abs(t - self._t) <= TIME_EPS:  # once per time (the calls after a step may round differently)
            return self._v
        st = self.world.state
        v = float(st.speed[self.row])
        if math.isnan(self._a):  # the first call, when the action starts: from the speed and acceleration now
            self._t, self._v, self._a = t, v, float(st.accel[self.row])
            return v
        a_prev = self._a
        want = _Keep.speed(self, t)  # sets _t, _v (the unlimited target)
        dt = float(self.world.dt)
        a = (want - v) / dt
        up = self.spec.max_accel_rate if self.spec.max_accel_rate is not None else math.inf
        down = self.spec.max_decel_rate if self.spec.max_decel_rate is not None else math.inf
        a = min(max(a, a_prev - down * dt), a_prev + up * dt)
        self._a = a
        self._v = max(v + a * dt, 0.0)
        return self._v


@dataclass(frozen=True)
class KeepDistanceJerk(KeepDistance):
    """:class:`KeepDistance` with jerk limits (:class:`_KeepJerk`)."""

    profile: ClassVar[type] = _KeepJerk


@dataclass(frozen=True)
class Mark:
    """Does nothing: an entry whose firing others refer to (``after``), e.g. a parameter being set."""

    label: str
    text: str

    def apply(self, sim: Any) -> None:
        """Nothing to do."""


@dataclass(frozen=True)
class FollowPath:
    """Reshape the rest of a row's route into a path (a trajectory to follow), then go on parallel to the
    old route.

    ``points`` (k, 2) are world x, y (m), or with ``local`` offsets (x forward, y left) in the frame of
    the row's route at its progress when the action starts (where an exact follower would be); a local
    path starting within ``CHAIN_M`` after the row's previous path ended starts at that end, along its
    last segment (chained paths continue each other, as an exact follower would). Route samples at s in
    [p, p + L] (p: the row's progress now, L: the path's length) move to the path point at arc length
    s - p; samples beyond
    move to the old route continued from the foot point of the path's end, shifted sideways by the
    end's offset from it. The row's driver tracks the route as for a lane change. Finished when the
    row's progress reaches p + L.
    """

    row: int
    points: np.ndarray
    local: bool
    text: str
    key: int = 0  # unique per storyboard (build time): survives the copies of snapshot / restore

    def apply(self, sim: Any) -> None:
        """Move the route samples from the current progress on (``behavior.profile_kernels.follow_path_route``);
        remember where the path ends and the row's path chain."""
        w = sim.world
        r = w.routes
        story = sim._story
        prev = story.last_seen.get(-1 - self.row) if story is not None else None  # the row's path chain
        chain = prev[1] if prev is not None else np.zeros(N_CHAIN)
        pts = np.asarray(self.points, dtype=np.float64)
        end = follow_path_route(
            self.row, float(w.state.progress[self.row]), np.ascontiguousarray(pts[:, 0]),
            np.ascontiguousarray(pts[:, 1]), 0, len(pts), int(self.local), chain, 0, r.start, r.s, r.heading,
            sim.state.route_x[0], sim.state.route_y[0],
        )  # fmt: skip
        if story is not None:
            story.last_seen[self.key] = (float(sim.t), float(end))
            story.last_seen[-1 - self.row] = (float(sim.t), chain)

    def finished(self, sim: Any) -> bool:
        """The row's progress has reached the path's end."""
        story = sim._story
        end = story.last_seen.get(self.key) if story is not None else None
        return end is not None and float(sim.world.state.progress[self.row]) >= end[1] - 1e-6


@dataclass
class _FollowProfile:
    """Live speed of a ``speed_follow`` row: tracks the reference speed (linear from the row's speed at the
    start through ``times`` s after it and ``speeds``, m/s) within the acceleration limits and the jerk
    limits ``accel_rate`` (how fast acceleration may rise) / ``decel_rate`` (fall), m/s^3: one step of
    ``behavior.profile_kernels.track_reference`` per time."""

    state: Any
    row: int
    dt: float
    times: np.ndarray
    speeds: np.ndarray
    max_accel: float
    max_decel: float
    accel_rate: float
    decel_rate: float
    key: int = 0
    t0: float = 0.0
    duration: float = 0.0
    hold: bool = True
    _t: float = math.nan
    _v: float = math.nan
    _a: float = 0.0
    _start: float = math.nan
    _v0: float = 0.0

    def speed(self, t: float) -> float:
        if abs(t - self._t) <= TIME_EPS:
            return self._v
        st = self.state
        if math.isnan(self._v):  # the first call, when the action starts
            self._start, self._t, self._v, self._a = t, t, float(st.speed[self.row]), float(st.accel[self.row])
            self._v0 = self._v
            return self._v
        v, a = track_reference(
            t, self._t, self._v, self._a, self._start, self._v0, self.times, self.speeds, 0, len(self.times),
            self.max_accel, self.max_decel, self.accel_rate, self.decel_rate,
        )  # fmt: skip
        self._t, self._v, self._a = t, float(v), float(a)
        return self._v

    def distance(self, t_a: float, t_b: float) -> float:  # pragma: no cover - duration 0 uses the trapezoid
        return self.speed(t_b) * (t_b - t_a)

    def done(self, t: float) -> bool:
        """The reference has ended and the speed has settled on its last value (within 0.01 m/s)."""
        return bool(reference_settled(t, self._start, self._v, self.times, self.speeds, len(self.times)))


@dataclass(frozen=True)
class SpeedFollow:
    """Start a :class:`_FollowProfile` on ``row`` (OpenSCENARIO SpeedProfileAction, followingMode follow)."""

    row: int
    times: np.ndarray
    speeds: np.ndarray
    max_accel: float
    max_decel: float
    accel_rate: float
    decel_rate: float
    text: str
    key: int = 0  # unique per storyboard (build time): names its profile across snapshot / restore

    def apply(self, sim: Any) -> None:
        """The row's speed is scripted from now on (until a ``start`` or another speed action)."""
        p = _FollowProfile(
            sim.world.state, self.row, float(sim.world.dt), self.times.copy(), self.speeds.copy(),
            self.max_accel, self.max_decel, self.accel_rate, self.decel_rate, self.key,
        )  # fmt: skip
        sim.scripted.script(sim, self.row, p)

    def finished(self, sim: Any) -> bool:
        """The row's profile is this action's and has settled on its last speed, or it was replaced."""
        p = sim.scripted.profiles.get(self.row)
        return not isinstance(p, _FollowProfile) or p.key != self.key or p.done(float(sim.t))


@dataclass(frozen=True)
class BeforeEntry:
    """Storyboard entry number ``entry`` has not done its action yet (e.g. an act's stop has not fired)."""

    entry: int
    text: str

    def holds(self, sim: Any) -> bool:
        """The entry is not done."""
        story = sim._story
        return story is None or not story.done[self.entry]


@dataclass(frozen=True)
class HaltRow:
    """A pedestrian stops walking: it slows down at its own deceleration and stands until a ``start``."""

    row: int
    text: str

    def apply(self, sim: Any) -> None:
        """started False (the walker's target speed becomes 0)."""
        sim.world.state.started[self.row] = False
