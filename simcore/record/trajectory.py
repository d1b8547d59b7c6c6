"""Trajectory recorder: per-step snapshots of pose and speed in a fixed ring of rows in memory,
drained to an anonymous temporary file when full, so memory is flat in simulated time."""

from __future__ import annotations

import math
import os
import tempfile
import weakref
from collections.abc import Sequence
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

#: Most bytes read from a spill file at once (``view``, ``mean_speed``).
READ_BYTES = 4 << 20


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

    def view(
        self, max_rows: int | None = None, actors: Sequence[int] | None = None, names: Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        """The recorded rows as arrays of shape (rows,) and (rows, n_actors).

        Without ``max_rows``: every row (the drained part read back from disk). With it: at
        most ``max_rows`` rows at an even stride, first and last included (the reports: bounded
        memory for any duration). ``actors``: only these actor columns, in this order, shape
        (rows, len(actors)) (every row of a few actors: memory grows with the duration only by
        those columns). ``names``: only these fields. The disk part is read in blocks of at most
        ``READ_BYTES``, never mapped (a memory map of a spill file would count every page it
        touched in the process's memory).
        """
        total = self.total_rows
        if max_rows is None or total <= max_rows:
            idx = np.arange(total)
        else:
            stride = math.ceil((total - 1) / max(max_rows - 1, 1))
            idx = np.unique(np.append(np.arange(0, total, stride), total - 1))
        cols = None if actors is None else np.asarray(actors, dtype=np.int64)
        return {name: self._take(name, idx, cols) for name in names or ("time", *FIELDS)}

    def mean_speed(self, mask: np.ndarray) -> np.ndarray:
        """(rows,) mean speed (m/s) of the rows' active actors selected by ``mask`` ((n_actors,) bool),
        NaN where none is active; every recorded row, read block by block (bounded memory)."""
        total = self.total_rows
        out = np.empty(total)
        step = max(1, READ_BYTES // max(9 * self.n_actors, 1))
        for r0 in range(0, total, step):
            idx = np.arange(r0, min(r0 + step, total))
            sel = self._take("active", idx, None) & mask[None, :]
            count = sel.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                speed = (self._take("speed", idx, None) * sel).sum(axis=1)
                out[idx] = np.where(count > 0, speed / np.maximum(count, 1), np.nan)
        return out

    def _take(self, name: str, idx: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """Rows ``idx`` (increasing) of ``name`` (columns ``cols`` of per-actor fields): the disk part
        read block by block, then the buffer."""
        per_actor = FIELDS[name][1] if name in FIELDS else False
        buf = getattr(self, name)[: self.rows]
        if cols is not None and per_actor:
            buf = buf[:, cols]
        on_disk = idx[idx < self.drained]
        tail = buf[idx[idx >= self.drained] - self.drained]
        if on_disk.size == 0:
            return tail
        dtype = np.dtype(FIELDS[name][0] if name in FIELDS else np.float64)
        width = 1 if name == "time" else (self.n_actors if per_actor else self.n_signals)
        row_bytes = width * dtype.itemsize
        shape = (0,) if name == "time" else (0, buf.shape[1])
        if row_bytes == 0:
            return np.zeros((on_disk.size + tail.shape[0], *shape[1:]), dtype=dtype)
        fd = self._files[name].fileno()
        span = max(1, READ_BYTES // row_bytes)
        parts = []
        k = 0
        while k < on_disk.size:
            r0 = int(on_disk[k])
            k1 = int(np.searchsorted(on_disk, r0 + span, side="left"))
            r1 = int(on_disk[k1 - 1]) + 1
            raw = os.pread(fd, (r1 - r0) * row_bytes, r0 * row_bytes)
            block = np.frombuffer(raw, dtype=dtype)
            block = block if name == "time" else block.reshape(r1 - r0, width)
            block = block[on_disk[k:k1] - r0]
            parts.append(block[:, cols] if cols is not None and per_actor else block)
            k = k1
        return np.concatenate([*parts, tail], axis=0)

    def close(self) -> None:
        """Delete the spill files; only the rows still in the buffer stay readable."""
        _close_files(self._files)
        self.drained = 0



def _close_files(files: dict[str, IO[bytes]]) -> None:
    for fh in files.values():
        fh.close()
    files.clear()
