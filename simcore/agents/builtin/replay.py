"""The ``replay`` agent: drives a logged trajectory (CSV t,x,y,yaw,speed) with the trajectory tracker."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from simcore.agents.protocol import AgentInfo, Observation, TrajectoryControl

COLUMNS = ("t", "x", "y", "yaw", "speed")
#: Plan window handed to the tracker each step: this far back and ahead of now (s).
WINDOW_BACK_S, WINDOW_AHEAD_S = 1.0, 10.0


class ReplayError(ValueError):
    """The replay log is missing or malformed (the message names file:line)."""


def read_log(path: str | Path) -> dict[str, np.ndarray]:
    """Read a replay CSV: a header with the columns t,x,y,yaw,speed (any order, more allowed),
    then one row per pose: simulation time (s, strictly increasing), rear-axle position (m,
    ENU), yaw (rad), speed (m/s, >= 0). Blank lines and lines starting with '#' are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{path}: cannot read replay log: {exc}") from None
    rows: list[tuple[int, list[str]]] = [
        (i + 1, r)
        for i, r in enumerate(csv.reader(text.splitlines()))
        if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")
    ]
    if not rows:
        raise ReplayError(f"{path}:1: empty replay log; expected a header {','.join(COLUMNS)}")
    line, header = rows[0]
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ReplayError(
            f"{path}:{line}: header {','.join(names)!r} lacks column(s) {', '.join(missing)}; "
            f"a header line {','.join(COLUMNS)} is required"
        )
    idx = [names.index(c) for c in COLUMNS]
    data = np.zeros((len(rows) - 1, len(COLUMNS)))
    for k, (line, row) in enumerate(rows[1:]):
        if len(row) != len(names):
            raise ReplayError(f"{path}:{line}: {len(row)} fields, the header has {len(names)}")
        for j, (col, c) in enumerate(zip(COLUMNS, idx, strict=True)):
            try:
                v = float(row[c])
            except ValueError:
                raise ReplayError(f"{path}:{line}: column {col}: {row[c].strip()!r} is not a number") from None
            if not math.isfinite(v):
                raise ReplayError(f"{path}:{line}: column {col}: {v} is not finite")
            data[k, j] = v
        if data[k, 4] < 0:
            raise ReplayError(f"{path}:{line}: column speed: {data[k, 4]} is negative")
        if k and data[k, 0] <= data[k - 1, 0]:
            raise ReplayError(f"{path}:{line}: column t: {data[k, 0]} does not increase (previous {data[k - 1, 0]})")
    if data.shape[0] < 2:
        raise ReplayError(f"{path}: a replay log needs at least 2 rows, found {data.shape[0]}")
    return {c: data[:, j].copy() for j, c in enumerate(COLUMNS)}


class Replay:
    """Drives the logged trajectory ``path`` (relative paths: to the working directory, else
    to the scenario file's folder) through the built-in trajectory tracker.

    Each step it returns the log's poses from ``WINDOW_BACK_S`` before to ``WINDOW_AHEAD_S``
    after now as a timed TrajectoryControl (log time = simulation time)."""

    name = "replay"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.log: dict[str, np.ndarray] | None = read_log(self.path) if self.path.is_file() else None

    def reset(self, info: AgentInfo) -> None:
        """Find and read the log (relative to the scenario when not found as given)."""
        if self.log is not None:
            return
        candidates = [self.path]
        if not self.path.is_absolute() and info.scenario_file:
            candidates.append(Path(info.scenario_file).parent / self.path)
        for p in candidates:
            if p.is_file():
                self.path, self.log = p, read_log(p)
                return
        raise ReplayError(f"replay log not found: {' or '.join(str(p) for p in candidates)}")

    def act(self, obs: Observation) -> TrajectoryControl:
        """The window of the log around now."""
        log = self.log
        if log is None:
            raise RuntimeError("Replay.act called before reset")
        t = log["t"]
        a = int(np.searchsorted(t, obs.time - WINDOW_BACK_S))
        b = int(np.searchsorted(t, obs.time + WINDOW_AHEAD_S, side="right"))
        a = min(a, t.shape[0] - 2)
        b = max(b, a + 2)
        sl = slice(a, b)
        return TrajectoryControl(log["x"][sl], log["y"][sl], log["yaw"][sl], t=t[sl] - obs.time, speed=log["speed"][sl])

    def close(self) -> None:
        """Nothing to release."""
