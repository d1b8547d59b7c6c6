"""The ego's time series for reports (speed, acceleration, TTC, gap) and the run's most critical moment."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simcore.evaluation.events import EventKind
from simcore.report.series_kernels import ego_ttc_gap
from simcore.runner.results import Result
from simcore.world import World


@dataclass(frozen=True)
class EgoSeries:
    """The ego's recorded time series, one value per trajectory row (SI units).

    time (s); speed (m/s); accel (m/s^2): finite difference of the recorded speed (0 at the
    first row); ttc (s) and gap (m) to the nearest obstacle on the ego's route, recomputed
    from the recorded trajectory with the engine's rule (inf: nothing ahead / not closing);
    progress (m): the ego's route s, projected the same way (NaN while inactive).
    """

    time: np.ndarray
    speed: np.ndarray
    accel: np.ndarray
    ttc: np.ndarray
    gap: np.ndarray
    progress: np.ndarray


@dataclass(frozen=True)
class CriticalMoment:
    """When the run was most critical, and why (``reason`` is human-readable)."""

    time: float
    reason: str


def ego_series(world: World, result: Result) -> EgoSeries | None:
    """The ego's series from ``result.trajectory``; None without an ego or a recording."""
    traj = result.trajectory
    e = world.ego
    if e < 0 or not traj or traj["time"].size == 0:
        return None
    t = np.asarray(traj["time"], dtype=np.float64)
    speed = np.ascontiguousarray(traj["speed"][:, e], dtype=np.float64)
    accel = np.zeros_like(speed)
    if t.size > 1:
        dt = np.diff(t)
        accel[1:] = np.diff(speed) / np.where(dt > 0, dt, np.inf)
    ttc = np.full(t.size, math.inf)
    gap = np.full(t.size, math.inf)
    prog = np.full(t.size, math.nan)
    p, r = world.params, world.routes
    s0 = float(world.initial.progress[e]) if world.initial is not None else float(world.state.progress[e])
    ego_ttc_gap(
        e,
        s0,
        np.ascontiguousarray(traj["x"], dtype=np.float64),
        np.ascontiguousarray(traj["y"], dtype=np.float64),
        np.ascontiguousarray(traj["yaw"], dtype=np.float64),
        np.ascontiguousarray(traj["speed"], dtype=np.float64),
        np.ascontiguousarray(traj["active"], dtype=np.bool_),
        world.state.instance,
        p["length"],
        p["width"],
        p["rear_overhang"],
        p["center_offset"],
        int(r.start[e]),
        int(r.start[e + 1]),
        r.x,
        r.y,
        r.s,
        ttc,
        gap,
        prog,
    )
    return EgoSeries(t, speed, accel, ttc, gap, prog)


@dataclass(frozen=True)
class ScoreTerms:
    """The simcore score's terms over the recorded rows (``scoring.score``: 100 x completion x factor).

    completion: route completion 0..1 (1 from the ego's goal_reached on; else the route progress
    past the start over the route to the goal, as the runner computes it at the end);
    factor: the product of the infraction penalties of the ego's events up to each row (0..1).
    """

    completion: np.ndarray
    factor: np.ndarray

    @property
    def score(self) -> np.ndarray:
        """The score (0..100) the run would have had if it had ended at each row."""
        return 100.0 * self.completion * self.factor


def score_terms(world: World, result: Result, series: EgoSeries) -> ScoreTerms:
    """``ScoreTerms`` of the run, from the ego's progress series and the result's events."""
    import dataclasses

    from simcore._types import ActorKind
    from simcore.evaluation.leaderboard import summary_from_result
    from simcore.evaluation.scoring import score

    e = world.ego
    s0 = float(world.initial.progress[e]) if world.initial is not None else 0.0
    span = max(float(world.routes.goal_s[e]) - s0, 1e-9)
    completion = np.clip((np.nan_to_num(series.progress, nan=s0) - s0) / span, 0.0, 1.0)
    goal = [ev.time for ev in result.events if ev.kind == EventKind.GOAL_REACHED and "ego" in ev.actors]
    if goal:
        completion[series.time >= goal[0]] = 1.0
    pedestrians = {a for a, k in zip(world.actor_ids, world.state.kind, strict=True) if k == ActorKind.PEDESTRIAN}
    factor = np.ones(series.time.size)
    metrics = {**result.metrics, "route_completion": 1.0}
    for ev in result.events:
        if ev.kind == EventKind.GOAL_REACHED or "ego" not in ev.actors:
            continue
        upto = [x for x in result.events if x.time <= ev.time]
        head = dataclasses.replace(result, events=upto, metrics=metrics)
        factor[series.time >= ev.time] = score(summary_from_result(head, pedestrians)) / 100.0
    return ScoreTerms(completion, factor)


def critical_moment(result: Result, series: EgoSeries | None) -> CriticalMoment:
    """The first ego collision; else the minimum TTC; else the hardest braking; else the end."""
    for ev in result.events:
        if ev.kind == EventKind.COLLISION and "ego" in ev.actors:
            other = next((a for a in ev.actors if a != "ego"), "?")
            return CriticalMoment(ev.time, f"first ego collision (with {other})")
    if series is not None and np.isfinite(series.ttc).any():
        k = int(np.argmin(series.ttc))
        return CriticalMoment(float(series.time[k]), f"minimum time-to-collision {series.ttc[k]:.2f} s")
    if series is not None and series.time.size > 1 and series.accel.min() < 0:
        k = int(np.argmin(series.accel))
        return CriticalMoment(float(series.time[k]), f"hardest braking {-series.accel[k]:.2f} m/s²")
    return CriticalMoment(result.sim_time, "end of the run (nothing critical recorded)")
