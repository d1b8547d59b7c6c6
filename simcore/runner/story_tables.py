"""A World's storyboard as the Static's ``sb_*`` tables for the compiled step (``runner.story_kernels``).

Which storyboard kinds run compiled is decided here, in one place: :data:`TRIGGER_CODES` and
:data:`ACTION_CODES` (plus the conditions in :func:`_node` and :func:`_action_row`).
Every trigger and action class of ``scenario.storyboard`` has a code here, so every built
storyboard runs compiled (``tests/runner/test_story_compiled.py`` checks that no class is left out).
The per-step Python path (``scenario.storyboard.StoryProgress``) is the reference the tests compare
the kernels with (``Simulation(..., compiled_storyboard=False)``); :func:`story_tables` returns None
(and the runner takes that path) only for a class added there and not here, or without the step dt.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np

from simcore.behavior.profile_kernels import SHAPES
from simcore.runner import story_kernels as sk
from simcore.scenario import storyboard as sb


class TriggerCode(IntEnum):
    """Trigger leaf kinds of the compiled storyboard (``story_kernels.T_*``)."""

    TIME = 0
    DISTANCE = 1
    SPEED = 2
    REACHES = 3
    PROGRESS = 4
    SIGNAL = 5
    GAP = 6
    REL_SPEED = 7
    NEAR = 8
    AFTER = 9
    ALL = 10
    ANY = 11
    EDGE = 12
    HELD = 13
    DELAYED = 14
    COMPARE = 15
    DONE = 16
    BEFORE = 17
    ON_LANE = 18


class ActionCode(IntEnum):
    """Action kinds of the compiled storyboard (``story_kernels.A_*``)."""

    START = 0
    SIGNAL = 1
    REMOVE = 2
    FRICTION = 3
    SPEED = 4
    LANE_CHANGE = 5
    TELEPORT = 6
    SPAWN = 7
    PYTHON = 8
    MARK = 9
    HALT = 10
    FOLLOW = 11
    SYNC = 12
    KEEP = 13
    SPEED_FOLLOW = 14
    PATH = 15


#: Trigger classes that run compiled (leaves, and the nodes over other triggers: all / any / edge /
#: held / delayed, nested to any depth).
TRIGGER_CODES: dict[type, TriggerCode] = {
    sb.TimeAt: TriggerCode.TIME,
    sb.DistanceBelow: TriggerCode.DISTANCE,
    sb.SpeedBound: TriggerCode.SPEED,
    sb.ReachesLane: TriggerCode.REACHES,
    sb.ProgressPast: TriggerCode.PROGRESS,
    sb.SignalIs: TriggerCode.SIGNAL,
    sb.GapBelow: TriggerCode.GAP,
    sb.RelativeSpeed: TriggerCode.REL_SPEED,
    sb.NearPoint: TriggerCode.NEAR,
    sb.AfterEntry: TriggerCode.AFTER,
    sb.AllOf: TriggerCode.ALL,
    sb.AnyOf: TriggerCode.ANY,
    sb.Edge: TriggerCode.EDGE,
    sb.Held: TriggerCode.HELD,
    sb.Delayed: TriggerCode.DELAYED,
    sb.Compare: TriggerCode.COMPARE,
    sb.DoneEntry: TriggerCode.DONE,
    sb.BeforeEntry: TriggerCode.BEFORE,
    sb.OnLane: TriggerCode.ON_LANE,
}

#: Action classes that run compiled (a continuous relative ``SpeedProfile`` as FOLLOW).
ACTION_CODES: dict[type, ActionCode] = {
    sb.StartRow: ActionCode.START,
    sb.SetSignal: ActionCode.SIGNAL,
    sb.RemoveRow: ActionCode.REMOVE,
    sb.SetFriction: ActionCode.FRICTION,
    sb.SpeedProfile: ActionCode.SPEED,
    sb.LaneChange: ActionCode.LANE_CHANGE,
    sb.Teleport: ActionCode.TELEPORT,
    sb.Spawn: ActionCode.SPAWN,
    sb.EndRun: ActionCode.PYTHON,
    sb.SetWeather: ActionCode.PYTHON,
    sb.Mark: ActionCode.MARK,
    sb.HaltRow: ActionCode.HALT,
    sb.Synchronize: ActionCode.SYNC,
    sb.SynchronizeSmooth: ActionCode.SYNC,
    sb.KeepDistance: ActionCode.KEEP,
    sb.KeepDistanceJerk: ActionCode.KEEP,
    sb.SpeedFollow: ActionCode.SPEED_FOLLOW,
    sb.FollowPath: ActionCode.PATH,
}

#: ``keep_distance`` sides by kernel code (``story_kernels.SIDE_*``).
KEEP_SIDES = ("behind", "ahead", "any")

#: Edge kinds by kernel code (``story_kernels.EDGE_*``).
EDGE_KINDS = ("rising", "falling", "both")

#: Actions whose effect outside the EngineState (the run's end, the environment record) the Python
#: side applies when it reads their STORYBOARD event (``Simulation._collect_events``).
PYTHON_SIDE: tuple[type, ...] = (sb.EndRun, sb.SetWeather, sb.SetFriction)


class StoryTables(NamedTuple):
    """The compiled storyboard: E entries, L trigger leaves (fields as in ``runner.engine.Static``)."""

    sb_lo: np.ndarray  # (E + 1,) CSR: entry e's trigger nodes are sb_lo[e]:sb_lo[e + 1], children first
    sb_delay: np.ndarray  # (E,) s from the trigger to the action
    sb_act: np.ndarray  # (E,) ActionCode
    sb_ai: np.ndarray  # (E, 5) int parameters
    sb_af: np.ndarray  # (E, N_AF) float parameters
    sbc_kind: np.ndarray  # (L,) TriggerCode
    sbc_i: np.ndarray  # (L, 4) int parameters
    sbc_v: np.ndarray  # (L, 3) float parameters
    sb_off: np.ndarray  # lane-change offsets per lane id (m), one block per lane-change entry
    # (3, P) point lists, a block per user: speed_follow (t, v, -), follow_path (x, y, -), in_lane (x, y, s)
    sb_pts: np.ndarray


def empty_tables() -> StoryTables:
    """No entry (scenarios without a storyboard, or with one on the Python path)."""
    return StoryTables(
        np.zeros(1, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64),
        np.zeros((0, 5), dtype=np.int64), np.zeros((0, sk.N_AF)), np.zeros(0, dtype=np.int64),
        np.zeros((0, 4), dtype=np.int64), np.zeros((0, 3)), np.zeros(0), np.zeros((3, 0)),
    )  # fmt: skip


Node = tuple[int, int, int, int, int, float, float, float]


def _points(pts: list[np.ndarray], *cols: np.ndarray) -> tuple[int, int]:
    """Append a block of points (up to 3 columns of equal length) to ``pts``; its (lo, hi) in ``sb_pts``."""
    lo = sum(p.shape[1] for p in pts)
    block = np.zeros((3, len(cols[0])))
    for k, c in enumerate(cols):
        block[k] = np.asarray(c, dtype=np.float64)
    pts.append(block)
    return lo, lo + block.shape[1]


def _node(t: Any, n_children: int = 0, pts: list[np.ndarray] | None = None) -> Node | None:
    """(code, 4 ints, 3 floats) of trigger node ``t`` (its children already placed; lane points go to ``pts``);
    None when not compiled."""
    code = TRIGGER_CODES.get(type(t))
    if code is None:
        return None
    z = 0.0
    if code == TriggerCode.ON_LANE:
        lo, hi = _points(pts if pts is not None else [], t.lane_x, t.lane_y, t.lane_s)
        return code, t.row, lo, hi, 0, t.half_width, z, z
    if code == TriggerCode.TIME:
        return code, 0, 0, 0, 0, t.time, z, z
    if code == TriggerCode.DISTANCE:
        return code, t.a, t.b, 0, 0, t.limit, z, z
    if code == TriggerCode.SPEED:
        return code, t.row, int(t.above), 0, 0, t.value, z, z
    if code == TriggerCode.REACHES:
        return code, t.row, 0, 0, 0, t.entry_s, z, z
    if code == TriggerCode.PROGRESS:
        return code, t.row, 0, 0, 0, t.s, z, z
    if code == TriggerCode.SIGNAL:
        return code, t.group, t.state, 0, 0, z, z, z
    if code == TriggerCode.GAP:
        return code, t.a, t.b, 0, 0, t.limit, float(t.ttc), z
    if code == TriggerCode.REL_SPEED:
        return code, t.a, t.b, 0, 0, t.value, float(t.above), z
    if code == TriggerCode.NEAR:
        return code, t.row, 0, 0, 0, t.x, t.y, t.radius
    if code in (TriggerCode.ALL, TriggerCode.ANY):
        return code, n_children, 0, 0, 0, z, z, z
    if code == TriggerCode.EDGE:
        return code, EDGE_KINDS.index(t.kind), 0, 0, 0, z, z, z
    if code == TriggerCode.HELD:
        return code, 0, 0, 0, 0, t.duration, z, z
    if code == TriggerCode.DELAYED:
        return code, 0, 0, 0, 0, t.delay, z, z
    if code == TriggerCode.COMPARE:
        rule = sb.RULES.index(t.rule) + 8 * int(t.freespace)
        return code, t.a, t.b, sb.MEASURES.index(t.measure), rule, t.value, t.start, t.length
    return code, t.entry, 0, 0, 0, z, z, z  # AFTER, DONE, BEFORE


def _trigger_nodes(t: Any, out: list[Node], pts: list[np.ndarray]) -> bool:
    """Append the nodes of trigger ``t`` to ``out`` in post-order (children first, the node last; point lists
    to ``pts``); False when a kind in it is not compiled."""
    kids: tuple = ()
    if isinstance(t, sb.AllOf | sb.AnyOf):
        kids = t.parts
    elif isinstance(t, sb.Edge | sb.Held | sb.Delayed):
        kids = (t.inner,)
    for k in kids:
        if not _trigger_nodes(k, out, pts):
            return False
    node = _node(t, len(kids), pts)
    if node is None:
        return False
    out.append(node)
    return True


def _place(p: sb.Teleport | None) -> tuple[list[int], list[float]]:
    if p is None:
        return [0, 0, 0], [0.0, 0.0, 0.0, 0.0]
    ints = [int(p.yaw is not None), int(p.speed is not None), 1]
    return ints, [p.x, p.y, p.yaw if p.yaw is not None else 0.0, p.speed if p.speed is not None else 0.0]


def _action_row(
    a: Any, offsets: list[np.ndarray], dt: float | None, pts: list[np.ndarray]
) -> tuple[int, list[int], list[float]] | None:
    """(code, 5 ints, up to N_AF floats) of a compiled action; None if not compiled. Lane-change offsets go to
    ``offsets`` (their block start in ints[2]), point lists to ``pts``; ``dt`` (s): the step (None:
    synchronize, keep_distance and speed_follow are not compiled)."""
    code = ACTION_CODES.get(type(a))
    if code is None:
        return None
    if code in (ActionCode.SYNC, ActionCode.KEEP, ActionCode.SPEED_FOLLOW) and dt is None:
        return None
    step = 0.0 if dt is None else dt
    nan = math.nan
    if code == ActionCode.SPEED_FOLLOW:
        lo, hi = _points(pts, a.times, a.speeds)
        return code, [a.row, lo, hi, 0, 0], [a.max_accel, a.max_decel, a.accel_rate, a.decel_rate, step]
    if code == ActionCode.PATH:
        p = np.asarray(a.points, dtype=np.float64)
        lo, hi = _points(pts, p[:, 0], p[:, 1])
        return code, [a.row, lo, hi, int(a.local), 0], [0.0] * 4
    if code == ActionCode.KEEP:

        def opt(v: float | None, none: float = nan) -> float:
            return none if v is None else float(v)

        c = a.spec
        flags = int(c.continuous) + 2 * int(isinstance(a, sb.KeepDistanceJerk))
        ints = [a.row, a.ref, KEEP_SIDES.index(c.side), int(c.freespace), flags]
        floats = [opt(c.distance_m), opt(c.time_gap_s), opt(c.max_accel), opt(c.max_decel), opt(c.max_speed)]
        return code, ints, [*floats, opt(c.max_accel_rate, math.inf), opt(c.max_decel_rate, math.inf), step]
    if code == ActionCode.SYNC:
        final = nan if a.final is None else a.final
        delta = nan if a.final_delta is None else a.final_delta
        smooth = int(isinstance(a, sb.SynchronizeSmooth))
        return code, [a.row, a.master, smooth, 0, 0], [a.s_target, a.s_master, a.tolerance, final, delta, step]
    if code in (ActionCode.START, ActionCode.REMOVE, ActionCode.HALT):
        return code, [a.row, 0, 0, 0, 0], [0.0] * 4
    if code == ActionCode.MARK:
        return code, [0] * 5, [0.0] * 4
    if code == ActionCode.SIGNAL:
        return code, [a.group, a.state, 0, 0, 0], [0.0] * 4
    if code == ActionCode.FRICTION:
        return code, [0] * 5, [a.mu, 0.0, 0.0, 0.0]
    if code == ActionCode.PYTHON:
        return code, [0] * 5, [0.0] * 4
    if code == ActionCode.SPEED:
        if a.continuous and a.relative_to is not None:  # a live target: ref's speed x factor + delta
            return ActionCode.FOLLOW, [a.row, int(a.relative_to), 0, 0, 0], [0.0, a.factor, a.delta, 0.0]
        if a.shape not in SHAPES:
            return None
        if a.shape == "step":
            how, amount = sk.DUR_STEP, 0.0
        elif a.distance is not None:
            how, amount = sk.DUR_DISTANCE, float(a.distance)
        elif a.duration is not None:
            how, amount = sk.DUR_TIME, float(a.duration)
        else:
            how, amount = sk.DUR_RATE, float(a.rate)
        ref = -1 if a.relative_to is None else int(a.relative_to)
        ints = [a.row, ref, SHAPES.index(a.shape), how, int(a.hold)]
        return code, ints, [a.target, a.factor, a.delta, amount]
    if code == ActionCode.LANE_CHANGE:
        start = sum(len(o) for o in offsets)
        offsets.append(np.asarray(a.offsets, dtype=np.float64))
        median = float(np.median(a.offsets)) if len(a.offsets) else 0.0
        return code, [a.row, a.side, start, 0, 0], [a.duration, median, 0.0, 0.0]
    if code == ActionCode.TELEPORT:
        ints, floats = _place(a)
        return code, [a.row, ints[0], ints[1], 0, 0], floats
    ints, floats = _place(a.place)  # SPAWN
    return code, [a.row, ints[0], ints[1], ints[2], 0], floats


def story_tables(stories: tuple[sb.Story, ...], dt: float | None = None) -> StoryTables | None:
    """The compiled tables of ``stories`` run with steps of ``dt`` s (None: unknown, synchronisations stay on
    the Python path); None if any entry uses a kind that is not compiled."""
    if not stories:
        return empty_tables()
    lo, delay, act, ai, af = [0], [], [], [], []
    nodes: list[Node] = []
    offsets: list[np.ndarray] = []
    pts: list[np.ndarray] = []
    for story in stories:
        row = _action_row(story.action, offsets, dt, pts)
        if row is None or not _trigger_nodes(story.trigger, nodes, pts):
            return None
        lo.append(len(nodes))
        delay.append(story.delay)
        act.append(row[0])
        ai.append(row[1])
        af.append(row[2] + [0.0] * (sk.N_AF - len(row[2])))
    return StoryTables(
        np.array(lo, dtype=np.int64), np.array(delay, dtype=np.float64),
        np.array(act, dtype=np.int64), np.array(ai, dtype=np.int64).reshape(-1, 5),
        np.array(af, dtype=np.float64).reshape(-1, sk.N_AF),
        np.array([n[0] for n in nodes], dtype=np.int64),
        np.array([n[1:5] for n in nodes], dtype=np.int64).reshape(-1, 4),
        np.array([n[5:] for n in nodes], dtype=np.float64).reshape(-1, 3),
        np.concatenate(offsets) if offsets else np.zeros(0),
        np.ascontiguousarray(np.concatenate(pts, axis=1)) if pts else np.zeros((3, 0)),
    )  # fmt: skip


def route_lanes(world: Any) -> np.ndarray:
    """(S,) lane id of every route sample (-1 where the route's path has no lane for it)."""
    r = world.routes
    out = np.full(r.s.shape[0], -1, dtype=np.int64)
    for i, path in enumerate(r.paths or ()):
        a, b = int(r.start[i]), int(r.start[i + 1])
        lane = np.asarray(path.lane, dtype=np.int64)[: b - a]
        out[a : a + len(lane)] = lane
    return out
