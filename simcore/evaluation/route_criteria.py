"""CARLA leaderboard route criteria and NAVSIM lane keeping, measured after the run from the trajectory.

What the leaderboard's ScenarioRunner criteria measure (carla-simulator/scenario_runner, branch
``leaderboard-2.1``, ``srunner/scenariomanager/scenarioatomics/atomic_criteria.py``; the route's
criteria set in carla-simulator/leaderboard ``leaderboard/scenarios/route_scenario.py``), re-measured
on simcore's recorded per-step ego trajectory (``record.TrajectoryRecorder``): collisions as
CollisionTest counts them, MinimumSpeedRouteTest (4 checkpoints), OutsideRouteLanesTest,
YieldToEmergencyVehicleTest, ScenarioTimeoutTest, and the two criteria that end a route
(InRouteTest 30 m, ActorBlockedTest 180 s). Also NAVSIM v2's lane keeping (LK). Constants and the
differences to CARLA's own measurement: docs/scoring.md ("CARLA route criteria").

Everything here is vectorised NumPy over the recorded rows (one row per recorded step), plus one
compiled call tracing the ego along its route (``trace_kernels.trace_polyline``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from simcore._types import ActorKind, LaneType
from simcore.evaluation.trace_kernels import trace_polyline
from simcore.road.queries import project

# --- CollisionTest
#: Two collisions closer than this (ego location, m) count as one.
COLLISION_RADIUS_M = 5.0
#: Two collisions with the same actor within this time (s) count as one.
COLLISION_SAME_ID_S = 5.0
#: A collision while the ego is slower than this (m/s) is not counted (not the ego's fault).
COLLISION_MIN_EGO_SPEED = 0.1
# --- MinimumSpeedRouteTest (route_scenario.py: checkpoints=4)
MIN_SPEED_CHECKPOINTS = 4
#: The last checkpoint is recorded at the end when the ego passed this fraction of the route.
MIN_SPEED_LAST_FRACTION = 0.95
# --- OutsideRouteLanesTest
#: Beyond half the lane width, the ego's location may be this far (m) from the lane centre.
ALLOWED_OUT_DISTANCE_M = 0.5
# --- InRouteTest / ActorBlockedTest (route_scenario.py), both end the route
ROUTE_DEVIATION_M = 30.0
BLOCKED_SPEED_MPS = 0.1
BLOCKED_TIME_S = 180.0
# --- NAVSIM v2 lane keeping (navsim main, pdm_scorer.yaml): lateral limit (m) and window (s)
LANE_KEEPING_LIMIT_M = 0.5
LANE_KEEPING_WINDOW_S = 2.0

#: Route window (m) searched around the previous foot point when tracing the ego along its route.
_TRACE_BACK_M = 10.0
_TRACE_AHEAD_M = 60.0


def trace_route(xs: np.ndarray, ys: np.ndarray, ss: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple:
    """Foot points of the ego's positions on its route polyline, in time order.

    The first position is projected onto the whole route; each later one only onto the segments
    within ``_TRACE_BACK_M`` behind and ``_TRACE_AHEAD_M`` (plus the distance driven since) ahead of
    the previous foot point, so a route that passes near itself (U-turn, loop) is not short-cut.
    Returns (s, t): route s (m, the path's own arc length) and signed lateral offset (m, left +).
    """
    n = px.size
    s_out = np.zeros(n)
    t_out = np.zeros(n)
    if xs.size == 0 or n == 0:
        return s_out, t_out
    f = np.ascontiguousarray
    trace_polyline(
        f(px, float),
        f(py, float),
        f(xs, float),
        f(ys, float),
        f(ss, float),
        _TRACE_BACK_M,
        _TRACE_AHEAD_M,
        s_out,
        t_out,
    )
    return s_out, t_out


def carla_collisions(
    collisions: Sequence[dict[str, Any]],
    time: np.ndarray,
    ex: np.ndarray,
    ey: np.ndarray,
    kind_of: dict[str, int],
) -> dict[str, int]:
    """Ego collisions as CARLA's CollisionTest counts them.

    ``collisions``: the runner's ego-collision records (``time_s``, ``ego_speed``, ``other``; a
    ``static:`` other is a map object). ``time``, ``ex``, ``ey``: the ego's recorded trajectory.
    ``kind_of``: actor id -> ActorKind. A collision is dropped when the ego is slower than
    COLLISION_MIN_EGO_SPEED, when it is with the actor last counted and within COLLISION_SAME_ID_S
    of it, or when the ego is within COLLISION_RADIUS_M of the last counted collision's location
    and has not been farther away since. Pedestrians are pedestrians, map objects and static
    actors are static (CARLA's ``static.*``), everything else (cars, cyclists) is a vehicle.
    """
    out = {"pedestrian": 0, "vehicle": 0, "static": 0}
    last_t = -math.inf
    last_id: str | None = None
    last_loc: tuple[float, float] | None = None
    last_row = 0
    for c in sorted(collisions, key=lambda c: c["time_s"]):
        t = float(c["time_s"])
        row = int(np.clip(np.searchsorted(time, t - 1e-9), 0, max(time.size - 1, 0)))
        pos = (float(ex[row]), float(ey[row])) if time.size else (0.0, 0.0)
        if last_loc is not None and row > last_row:
            far = np.hypot(ex[last_row : row + 1] - last_loc[0], ey[last_row : row + 1] - last_loc[1])
            if (far > COLLISION_RADIUS_M).any():
                last_loc = None
        if last_id is not None and t - last_t > COLLISION_SAME_ID_S:
            last_id = None
        other = str(c.get("other", ""))
        if last_id is not None and other == last_id:
            continue
        if last_loc is not None and math.hypot(pos[0] - last_loc[0], pos[1] - last_loc[1]) <= COLLISION_RADIUS_M:
            continue
        if float(c.get("ego_speed", 0.0)) < COLLISION_MIN_EGO_SPEED:
            continue
        static = other.startswith("static:") or kind_of.get(other) == ActorKind.STATIC
        if static:
            out["static"] += 1
        elif kind_of.get(other) == ActorKind.PEDESTRIAN:
            out["pedestrian"] += 1
        else:
            out["vehicle"] += 1
        last_t, last_loc, last_row = t, pos, row
        last_id = None if static else other
    return out


def min_speed_checkpoints(progress: np.ndarray, length: float, ego_v: np.ndarray, traffic_v: np.ndarray) -> list[float]:
    """MinimumSpeedRouteTest: ego mean speed as % of the surrounding traffic's, per route checkpoint.

    ``progress``: (R,) ego distance along the route from its start (m, made monotone here);
    ``length``: route length (m); ``ego_v``: (R,) ego speed; ``traffic_v``: (R,) mean speed of the
    other vehicles at each row, NaN where there are none (such rows are not sampled). The route is
    cut into MIN_SPEED_CHECKPOINTS equal parts; a checkpoint closes at the first row whose progress
    exceeds the last close by more than one part (that row's speeds go to the next checkpoint);
    the last one closes at the end if the ego passed MIN_SPEED_LAST_FRACTION of the route. Each
    value is round(100 x mean ego speed / mean traffic speed, 2), 100 without traffic samples.
    """
    if progress.size == 0 or length <= 0:
        return []
    p = np.minimum(np.maximum.accumulate(progress), length)
    part = length / MIN_SPEED_CHECKPOINTS
    closes: list[int] = []
    current = 0.0
    while True:
        k = int(np.argmax(p - current > part)) if (p - current > part).any() else -1
        if k < 0:
            break
        closes.append(k)
        current = float(p[k])
    if p[-1] / length > MIN_SPEED_LAST_FRACTION:
        closes.append(p.size)
    sampled = np.isfinite(traffic_v)
    values = []
    start = 0
    for end in closes:
        sl = slice(start, end)
        n = int(sampled[sl].sum())
        traffic = float(np.nansum(np.where(sampled[sl], traffic_v[sl], 0.0)))
        if n > 0 and traffic:
            ego = float(np.sum(np.where(sampled[sl], ego_v[sl], 0.0)))
            values.append(round(ego / n / (traffic / n) * 100.0, 2))
        else:
            values.append(100.0)
        start = end
    return values


def _route_heading(ss: np.ndarray, heading: np.ndarray, s: np.ndarray) -> np.ndarray:
    unwrapped = np.unwrap(heading)
    return np.interp(s, ss, unwrapped)


def outside_route_lanes(
    net: Any,
    ex: np.ndarray,
    ey: np.ndarray,
    route_heading: np.ndarray,
    progress: np.ndarray,
) -> tuple[float, float, np.ndarray]:
    """OutsideRouteLanesTest: (distance m, percentage of the route driven, per-row lane) outside route lanes.

    A row is outside when the ego's location is farther than half the lane width plus
    ALLOWED_OUT_DISTANCE_M from the nearest driving or parking lane's centre line, or when the
    nearest driving lane outside junctions runs against the route (more than 90 degrees from the
    route's heading at the ego's progress: an oncoming lane). The forward progress made at a row
    counts as driven outside when that row is outside. Returns the driving lane per row too.
    """
    p = np.maximum.accumulate(progress) if progress.size else progress
    dp = np.diff(p, prepend=p[:1]) if p.size else p
    total = float(dp.sum())
    types = (LaneType.DRIVING, LaneType.PARKING)
    lane_any, _, t_any, _ = project(net, ex, ey, lane_types=types)
    lane, _, _, herr = project(net, ex, ey, route_heading, heading_weight=0.0)
    width = np.where(lane_any >= 0, net.lane_width[np.maximum(lane_any, 0)], 0.0)
    outside = (lane_any < 0) | (np.abs(t_any) > width / 2 + ALLOWED_OUT_DISTANCE_M)
    in_junction = np.where(lane >= 0, net.lane_junction[np.maximum(lane, 0)] >= 0, False)
    wrong = (lane >= 0) & ~in_junction & (np.abs(herr) > np.pi / 2)
    bad = outside | wrong
    dist = float(dp[bad].sum())
    return dist, (100.0 * dist / total if total > 0 else 0.0), lane


def yield_infractions(
    ex: np.ndarray, ey: np.ndarray, active: np.ndarray, ev_x: np.ndarray, ev_y: np.ndarray, ev_yaw: np.ndarray
) -> int:
    """YieldToEmergencyVehicleTest for one emergency vehicle: 1 when, at the last row both exist, the
    ego is ahead of it (the EV's forward vector has a positive dot product with ego minus EV), else 0."""
    rows = np.flatnonzero(active)
    if rows.size == 0:
        return 0
    k = int(rows[-1])
    dot = math.cos(ev_yaw[k]) * (ex[k] - ev_x[k]) + math.sin(ev_yaw[k]) * (ey[k] - ev_y[k])
    return int(dot > 0.0)


def _first_run_over(mask: np.ndarray, time: np.ndarray, duration: float) -> int:
    """First row at which ``mask`` has held continuously for more than ``duration`` s; -1 if never."""
    start = -1
    for k in range(mask.size):
        if mask[k]:
            if start < 0:
                start = k
            if time[k] - time[start] > duration:
                return k
        else:
            start = -1
    return -1


def lane_keeping(offset: np.ndarray, in_junction: np.ndarray, time: np.ndarray) -> tuple[bool, float]:
    """NAVSIM v2 lane keeping: fails when |offset| from the route centre exceeds LANE_KEEPING_LIMIT_M
    for LANE_KEEPING_WINDOW_S without a break (rows in junctions are skipped, neither breaking nor
    extending a run). Returns (kept, longest run s)."""
    rows = ~in_junction
    t = time[rows]
    over = np.abs(offset[rows]) > LANE_KEEPING_LIMIT_M
    longest = 0.0
    start = -1
    for k in range(over.size):
        if over[k]:
            if start < 0:
                start = k
            longest = max(longest, float(t[k] - t[start]))
        else:
            start = -1
    dt = float(np.median(np.diff(time))) if time.size > 1 else 0.0
    # NAVSIM counts samples: ceil(window / interval) consecutive samples over the limit.
    need = math.ceil(LANE_KEEPING_WINDOW_S / dt - 1e-9) if dt > 0 else 1
    run = 0
    kept = True
    for k in range(over.size):
        run = run + 1 if over[k] else 0
        if run >= need:
            kept = False
            break
    return kept, longest


def traffic_mask(world: Any) -> np.ndarray:
    """(n_actors,) the rows whose speeds make the traffic speed of the minimum-speed checkpoints:
    vehicles and cyclists other than the ego."""
    kinds = world.state.kind
    others = (kinds == ActorKind.VEHICLE) | (kinds == ActorKind.CYCLIST)
    others[int(world.ego)] = False
    return others


def route_criteria(
    world: Any,
    trajectory: dict[str, np.ndarray],
    collisions: Sequence[dict[str, Any]],
    emergency: Collection[str] = (),
    timed_out: bool = False,
    completion: float = 0.0,
) -> dict[str, float]:
    """Every measurement above for the ego of ``world`` (``runner`` Simulation's World) as metrics.

    ``trajectory``: the recorder's view (time, x, y, yaw, speed, active), either of every actor or,
    with the key ``actors`` (their rows), of the ego and the emergency vehicles only plus
    ``traffic_speed`` (``TrajectoryRecorder.mean_speed(traffic_mask(world))``; bounded memory in
    long runs, see ``post_run.post_run_trajectory``). ``collisions``: the
    runner's ego-collision records. ``emergency``: actor ids of emergency vehicles.
    ``completion``: simcore's route completion (0..1). Returns {} without an ego or a trajectory.
    """
    e = int(world.ego)
    time = np.asarray(trajectory.get("time", ()), float)
    if e < 0 or time.size == 0:
        return {}
    rows = trajectory.get("actors")  # the actor rows of the columns (absent: every row)
    at = {int(r): k for k, r in enumerate(rows)} if rows is not None else None

    def col(name: str, row: int) -> np.ndarray:
        return trajectory[name][:, row if at is None else at[row]]

    ex, ey, ev = col("x", e), col("y", e), col("speed", e)
    r = world.routes
    a, b = int(r.start[e]), int(r.start[e + 1])
    xs, ys, ss, hs = r.x[a:b], r.y[a:b], r.s[a:b], r.heading[a:b]
    s0 = float(world.initial.progress[e]) if world.initial is not None else float(ss[0])
    length = max(float(r.goal_s[e]) - s0, 1e-9)
    s, t = trace_route(xs, ys, ss, ex, ey)
    progress = np.clip(s - s0, 0.0, None)

    # Route end by CARLA's InRouteTest / ActorBlockedTest: everything after it is not measured.
    dev = np.flatnonzero(np.abs(t) > ROUTE_DEVIATION_M)
    k_dev = int(dev[0]) if dev.size else -1
    k_blk = _first_run_over(ev < BLOCKED_SPEED_MPS, time, BLOCKED_TIME_S)
    ends = [k for k in (k_dev, k_blk) if k >= 0]
    end = min(ends) + 1 if ends else time.size
    carla_completion = completion
    if ends:
        carla_completion = min(completion, float(np.maximum.accumulate(progress)[end - 1]) / length)
    sl = slice(0, end)

    ids = world.actor_ids
    kinds = world.state.kind
    kind_of = {a_id: int(kinds[i]) for i, a_id in enumerate(ids)}
    ends_t = time[end - 1]
    coll = carla_collisions([c for c in collisions if c["time_s"] <= ends_t + 1e-9], time, ex, ey, kind_of)

    if "traffic_speed" in trajectory:
        traffic = np.asarray(trajectory["traffic_speed"])[sl]
    else:
        mask = trajectory["active"][sl] & traffic_mask(world)[None, :]
        count = mask.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            traffic = np.where(count > 0, (trajectory["speed"][sl] * mask).sum(axis=1) / np.maximum(count, 1), np.nan)
    checkpoints = min_speed_checkpoints(progress[sl], length, ev[sl], traffic)

    heading_at = _route_heading(ss, hs, s[sl])
    out_m, out_pct, lane = outside_route_lanes(world.network, ex[sl], ey[sl], heading_at, progress[sl])

    ev_fail = 0
    for name in emergency:
        if name not in ids:
            continue
        j = ids.index(name)
        both = col("active", e) & col("active", j)
        ev_fail += yield_infractions(ex, ey, both, col("x", j), col("y", j), col("yaw", j))

    in_junction = np.where(lane >= 0, world.network.lane_junction[np.maximum(lane, 0)] >= 0, False)
    kept, run_s = lane_keeping(t[sl], in_junction, time[sl])

    m: dict[str, float] = {
        "carla_collisions_pedestrian": coll["pedestrian"],
        "carla_collisions_vehicle": coll["vehicle"],
        "carla_collisions_static": coll["static"],
        "min_speed_infractions": sum(v < 100.0 for v in checkpoints),
        "outside_route_lanes_m": out_m,
        "outside_route_lanes_pct": out_pct,
        "yield_emergency_vehicle_infractions": ev_fail,
        "scenario_timeouts": int(bool(timed_out)),
        "carla_route_deviation": int(k_dev >= 0 and (k_blk < 0 or k_dev <= k_blk)),
        "carla_agent_blocked": int(k_blk >= 0 and (k_dev < 0 or k_blk < k_dev)),
        "carla_route_completion": carla_completion,
        "lane_keeping": int(kept),
        "max_off_centre_run_s": run_s,
    }
    for i in range(MIN_SPEED_CHECKPOINTS):
        m[f"min_speed_pct_{i + 1}"] = checkpoints[i] if i < len(checkpoints) else math.nan
    return m
