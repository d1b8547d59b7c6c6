"""Metrics measured after the run from the recorded trajectory: CARLA route criteria, nuPlan comfort.

One entry point for the runner (``post_run_metrics``); the measurements live in
``evaluation.route_criteria`` and ``evaluation.comfort`` (docs/scoring.md has every constant).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from simcore.evaluation.comfort import comfort_from_trajectory
from simcore.evaluation.route_criteria import route_criteria, traffic_mask
from simcore.record.trajectory import TrajectoryRecorder

#: nuPlan comfort peaks reported as metrics: signal -> metric name (filtered, absolute peak).
COMFORT_PEAKS = {
    "lon_accel": "nuplan_max_abs_lon_accel_mps2",
    "lat_accel": "nuplan_max_abs_lat_accel_mps2",
    "jerk": "nuplan_max_abs_jerk_mps3",
    "lon_jerk": "nuplan_max_abs_lon_jerk_mps3",
    "yaw_rate": "nuplan_max_abs_yaw_rate_radps",
    "yaw_accel": "nuplan_max_abs_yaw_accel_radps2",
}


def post_run_trajectory(world: Any, recorder: TrajectoryRecorder, emergency: Collection[str] = ()) -> dict[str, Any]:
    """What ``post_run_metrics`` reads, every recorded row but only the ego's and the emergency
    vehicles' columns plus the traffic speed per row: memory grows with the run's duration by a
    few columns, not by every actor's row (a recording may be 1.4 GB for an hour of 571 actors)."""
    e = int(world.ego)
    if e < 0:
        return {"time": np.zeros(0)}
    ids = list(world.actor_ids)
    rows = [e, *(ids.index(name) for name in emergency if name in ids and ids.index(name) != e)]
    out: dict[str, Any] = recorder.view(actors=rows)
    out["actors"] = rows
    out["traffic_speed"] = recorder.mean_speed(traffic_mask(world))
    return out


def post_run_metrics(
    world: Any,
    trajectory: dict[str, np.ndarray],
    collisions: Sequence[dict[str, Any]],
    emergency: Collection[str] = (),
    timed_out: bool = False,
    completion: float = 0.0,
) -> dict[str, float]:
    """The post-run metrics of the ego (empty without an ego or without a recorded trajectory).

    ``trajectory``: ``TrajectoryRecorder.view()`` or ``post_run_trajectory``; ``collisions``: the
    runner's ego-collision records; ``emergency``: ids of emergency vehicles;
    ``timed_out``/``completion``: from the run's summary.
    """
    m = route_criteria(world, trajectory, collisions, emergency, timed_out, completion)
    if not m:
        return m
    e = int(world.ego)
    k = e if trajectory.get("actors") is None else list(trajectory["actors"]).index(e)
    sig = comfort_from_trajectory(trajectory["time"], trajectory["yaw"][:, k], trajectory["speed"][:, k])
    if sig is None:
        m["nuplan_comfortable"] = float("nan")
        return m
    m["nuplan_comfortable"] = int(sig.comfortable)
    for name, value in sig.peaks().items():
        m[COMFORT_PEAKS[name]] = value
    return m
