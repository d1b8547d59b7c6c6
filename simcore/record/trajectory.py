"""Trajectory recorder: per-step snapshots of pose and speed in a fixed ring of rows in memory,
drained to an anonymous temporary file when full, so memory is flat in simulated time."""

from __future__ import annotations

import math
import tempfile
import weakref
from typing import IO

import numpy as np

from simcore.state import WorldState

#: The recorded fields: name -> (dtype, per actor (True) or per signal group (False)); "time" is per row.
FIELDS: dict[str, tuple[type, bool]] = {
    "x": (np.float64, True),
    "y": (np.float64, True),
    "yaw": (np.float64, True),
    "speed": (np.float64, True),
    "active": (np.bool_, True),
    "signals": (np.int8, False),
}


class TrajectoryRecorder:
    """Keeps (x, y, yaw, speed, active) of every row, and the signal states of instance 0,
    every ``every`` steps.

    Rows are written into arrays of ``buffer_rows`` rows (the compiled step writes them
    directly); ``make_room`` drains the full rows to a temporary file on disk before a call that
    could overflow them. So memory is ``buffer_rows`` rows whatever the run's duration; at most
    ``max_rows`` rows are kept in all (further snapshots are dropped and ``truncated`` is set).
    ``view`` reads everything back (memory-mapped) or an evenly strided subset (bounded memory).
    """

    def __init__(
        self, n_actors: int, max_rows: int, every: int = 1, n_signals: int = 0, buffer_rows: int | None = None
    ) -> None:
        self.every = max(1, every)
        self.max_rows = int(max_rows)
        cap = self.max_rows if buffer_rows is None else max(1, min(int(buffer_rows), self.max_rows))
        self.n_actors, self.n_signals = int(n_actors), int(n_signals)
        self.time = np.zeros(cap)
        self.x = np.zeros((cap, n_actors))
        self.y = np.zeros((cap, n_actors))
        self.yaw = np.zeros((cap, n_actors))
        self.speed = np.zeros((cap, n_actors))
        self.active = np.zeros((cap, n_actors), dtype=np.bool_)
        self.signals = np.zeros((cap, n_signals), dtype=np.int8)
        self.rows = 0  # rows in the buffer now
        self.drained = 0  # rows already on disk
        self.truncated = False
        self._files: dict[str, IO[bytes]] = {}
        self._finalizer = weakref.finalize(self, _close_files, self._files)  # spill files go with the recorder

    @property
    def capacity(self) -> int:
        """Rows the in-memory buffer holds."""
        return int(self.time.shape[0])

    @property
    def total_rows(self) -> int:
        """Rows recorded so far (on disk and in the buffer)."""
        return self.drained + self.rows

    def make_room(self, n_steps: int) -> None:
        """Drain the buffer to disk if the next ``n_steps`` steps could overflow it (the compiled
        step writes rows while they fit in the buffer and drops the rest)."""
        if self.rows + n_steps // self.every + 1 > self.capacity:
            self.drain()

    def drain(self) -> None:
        """Append the buffered rows to the spill file and empty the buffer."""
        r = self.rows
        if r == 0:
            return
        for name in ("time", *FIELDS):
            fh = self._files.get(name)
            if fh is None:
                # closed by close() or the finalizer: the file lives as long as the recorder
                fh = self._files[name] = tempfile.TemporaryFile(prefix=f"simcore-rec-{name}-")  # noqa: SIM115
            np.ascontiguousarray(getattr(self, name)[:r]).tofile(fh)
            fh.flush()
        self.drained += r
        self.rows = 0

    def truncate(self, total: int) -> None:
        """Keep the first ``total`` rows and forget the later ones, on disk as in the buffer (a
        ``Simulation.restore`` to an earlier step: rows drained since then are cut off the spill files)."""
        total = int(total)
        if not 0 <= total <= self.total_rows:
            raise ValueError(f"cannot keep {total} rows: the recorder holds {self.total_rows}")
        if total >= self.drained:
            self.rows = total - self.drained
        else:
            for name, fh in self._files.items():
                fh.truncate(total * self._row_bytes(name))
                fh.seek(0, 2)  # the next drain appends after the rows kept
            self.drained, self.rows = total, 0
        if total < self.max_rows:
            self.truncated = False

    def load(self, rows: dict[str, np.ndarray]) -> None:
        """Replace every row by ``rows`` (``view``'s arrays, e.g. read from a run log), through the
        buffer and the spill files, so memory stays ``buffer_rows`` rows."""
        self.truncate(0)
        total = int(rows["time"].shape[0])
        if total > self.max_rows:
            raise ValueError(f"{total} rows do not fit a recorder of {self.max_rows}")
        for lo in range(0, total, self.capacity):
            if self.rows:
                self.drain()
            hi = min(lo + self.capacity, total)
            for name in ("time", *FIELDS):
                getattr(self, name)[: hi - lo] = rows[name][lo:hi]
            self.rows = hi - lo

    def _row_bytes(self, name: str) -> int:
        """Bytes of one row of ``name`` in its spill file."""
        arr = getattr(self, name)
        return int(arr.itemsize * math.prod(arr.shape[1:]))

    def append(self, step: int, t: float, s: WorldState, signals: np.ndarray | None = None) -> None:
        """Record the state after ``step`` (at time ``t``) if it is a recording step."""
        if step % self.every:
            return
        if self.total_rows >= self.max_rows:
            self.truncated = True
            return
        self.make_room(0)
        r = self.rows
        self.time[r] = t
        self.x[r] = s.x
        self.y[r] = s.y
        self.yaw[r] = s.yaw
        self.speed[r] = s.speed
        self.active[r] = s.active
        if signals is not None:
            self.signals[r] = signals
        self.rows = r + 1

    def view(self, max_rows: int | None = None) -> dict[str, np.ndarray]:
        """The recorded rows as arrays of shape (rows,) and (rows, n_actors).

        Without ``max_rows``: every row (the drained part read back from disk). With it: at
        most ``max_rows`` rows at an even stride, first and last included, copied into memory
        (the reports: bounded memory for any duration)."""
        total = self.total_rows
        if max_rows is None or total <= max_rows:
            if not self.drained:
                return {name: getattr(self, name)[: self.rows] for name in ("time", *FIELDS)}
            idx = np.arange(total)
        else:
            stride = math.ceil((total - 1) / max(max_rows - 1, 1))
            idx = np.unique(np.append(np.arange(0, total, stride), total - 1))
        return {name: self._take(name, idx) for name in ("time", *FIELDS)}

    def _take(self, name: str, idx: np.ndarray) -> np.ndarray:
        """Rows ``idx`` (increasing) of ``name``: the disk part through a memory map, then the buffer."""
        buf = getattr(self, name)[: self.rows]
        if not self.drained:
            return buf[idx]
        dtype, per_actor = FIELDS.get(name, (np.float64, True))
        shape = (self.drained,) if name == "time" else (self.drained, self.n_actors if per_actor else self.n_signals)
        on_disk = idx < self.drained
        if math.prod(shape) > 0:
            disk = np.asarray(np.memmap(self._files[name], dtype=dtype, mode="r", shape=shape)[idx[on_disk]])
        else:
            disk = np.zeros((int(on_disk.sum()), *shape[1:]), dtype=dtype)
        return np.concatenate([disk, buf[idx[~on_disk] - self.drained]], axis=0)

    def row_words(self, r0: int, r1: int) -> np.ndarray:
        """Buffer rows ``r0:r1`` as one stream of 64-bit words for the state hash (``row_words``).
        Rows must be folded before ``make_room`` drains them."""
        return row_words({name: getattr(self, name) for name in ("time", *FIELDS)}, r0, r1)

    def close(self) -> None:
        """Delete the spill files; only the rows still in the buffer stay readable."""
        _close_files(self._files)
        self.drained = 0


def row_words(rows: dict[str, np.ndarray], r0: int, r1: int) -> np.ndarray:
    """Rows ``r0:r1`` of recorded arrays (``TrajectoryRecorder.view``'s keys) as one stream of 64-bit
    words for the state hash, row by row: time, x, y, yaw, speed (float bit patterns, NaN canonical), then
    active and signals (widened integers).

    Row-major, so folding rows in pieces (one piece per compiled call) gives the same stream
    however the run was chunked.
    """
    floats = np.concatenate(
        [rows["time"][r0:r1, None], rows["x"][r0:r1], rows["y"][r0:r1], rows["yaw"][r0:r1], rows["speed"][r0:r1]],
        axis=1,
    )
    floats = np.where(np.isnan(floats), np.nan, floats).view(np.uint64)
    ints = np.concatenate([rows["active"][r0:r1], rows["signals"][r0:r1]], axis=1, dtype=np.int64, casting="unsafe")
    return np.concatenate([floats, ints.view(np.uint64)], axis=1).reshape(-1)


def _close_files(files: dict[str, IO[bytes]]) -> None:
    for fh in files.values():
        fh.close()
    files.clear()
