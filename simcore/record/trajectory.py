"""Trajectory buffer: per-step snapshots of pose and speed, preallocated and bounded."""

from __future__ import annotations

import numpy as np

from simcore.state import WorldState


class TrajectoryRecorder:
    """Keeps (x, y, yaw, speed, active) of every row, and the signal states of instance 0,
    every ``every`` steps.

    Memory is allocated once for at most ``max_rows`` snapshots; a run never grows it, and
    once full, further snapshots are dropped and ``truncated`` is set.
    """

    def __init__(self, n_actors: int, max_rows: int, every: int = 1, n_signals: int = 0) -> None:
        self.every = max(1, every)
        self.time = np.zeros(max_rows)
        self.x = np.zeros((max_rows, n_actors))
        self.y = np.zeros((max_rows, n_actors))
        self.yaw = np.zeros((max_rows, n_actors))
        self.speed = np.zeros((max_rows, n_actors))
        self.active = np.zeros((max_rows, n_actors), dtype=np.bool_)
        self.signals = np.zeros((max_rows, n_signals), dtype=np.int8)
        self.rows = 0
        self.truncated = False

    def append(self, step: int, t: float, s: WorldState, signals: np.ndarray | None = None) -> None:
        """Record the state after ``step`` (at time ``t``) if it is a recording step."""
        if step % self.every:
            return
        r = self.rows
        if r >= self.time.shape[0]:
            self.truncated = True
            return
        self.time[r] = t
        self.x[r] = s.x
        self.y[r] = s.y
        self.yaw[r] = s.yaw
        self.speed[r] = s.speed
        self.active[r] = s.active
        if signals is not None:
            self.signals[r] = signals
        self.rows = r + 1

    def view(self) -> dict[str, np.ndarray]:
        """The recorded part as arrays of shape (rows,) and (rows, n_actors)."""
        r = self.rows
        return {
            "time": self.time[:r],
            "x": self.x[:r],
            "y": self.y[:r],
            "yaw": self.yaw[:r],
            "speed": self.speed[:r],
            "active": self.active[:r],
            "signals": self.signals[:r],
        }

    def row_words(self, r0: int, r1: int) -> np.ndarray:
        """Rows ``r0:r1`` as one stream of 64-bit words for the state hash, row by row: time, x, y,
        yaw, speed (float bit patterns, NaN canonical), then active and signals (widened integers).

        Row-major, so folding rows in pieces (one piece per compiled call) gives the same stream
        however the run was chunked.
        """
        floats = np.concatenate(
            [self.time[r0:r1, None], self.x[r0:r1], self.y[r0:r1], self.yaw[r0:r1], self.speed[r0:r1]], axis=1
        )
        floats = np.where(np.isnan(floats), np.nan, floats).view(np.uint64)
        ints = np.concatenate([self.active[r0:r1], self.signals[r0:r1]], axis=1, dtype=np.int64, casting="unsafe")
        return np.concatenate([floats, ints.view(np.uint64)], axis=1).reshape(-1)
