"""Local worker pool of the batch runner: one job per worker at a time, so a lost worker loses one run.

Each worker is a spawned process in a session of its own (no terminal signals: Ctrl-C goes
to the driver, which stops the workers), fed one job at a time over a pipe. The driver
watches every worker's pipe and process sentinel:

- a worker that dies (SIGKILL, segfault, ``os._exit``) costs only the job it was running: that
  job is run once more (by a fresh worker started in its place) and, if it dies again, it is
  recorded as ``crashed``;
- a job over its ``timeout_s`` (counted from when its worker took it up, so a fresh worker's
  start-up is not charged to it) first gets a ``RunTimeout`` inside the worker (Python code is
  interrupted there); a worker that has not answered ``KILL_GRACE_S`` later is killed (with
  its process group) and the job recorded as ``timeout``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from simcore.batch.jobs import Job, error_entry, run_job, write_error

#: How many times a job whose worker process died is run again.
RETRIES = 1
#: Seconds past a job's timeout before its worker is killed from outside.
KILL_GRACE_S = 5.0

Done = Callable[[Job, dict[str, Any]], None]


def _worker(conn: Connection, pictures: bool, timeout_s: float | None) -> None:  # pragma: no cover - in a child
    """Worker process: run jobs sent over ``conn`` until None arrives."""
    os.setsid()  # own session and process group: no terminal SIGINT; the driver can kill the group
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job, out = msg
        conn.send(None)  # started: the job's time limit counts from here (not from a worker's start-up)
        try:
            entry = run_job(job, out, pictures, timeout_s=timeout_s)
        except BaseException as exc:  # run_job records everything; this is the last line of defence
            entry = error_entry(job, f"{type(exc).__name__}: {exc}")
        conn.send(entry)


@dataclass
class _Slot:
    proc: Any
    conn: Connection
    job: Job | None = None
    tries: int = 0
    started: float | None = None  # when the worker acknowledged its job


class LocalPool:
    """``workers`` spawned processes running jobs; reusable across ``run`` calls (scenario search)."""

    def __init__(self, workers: int, pictures: bool = True, timeout_s: float | None = None) -> None:
        self.workers = max(1, workers)
        self.pictures = pictures
        self.timeout_s = timeout_s
        self.ctx = multiprocessing.get_context("spawn")
        self.slots: list[_Slot] = []
        #: Worker processes that died or were killed (over the pool's life).
        self.deaths = 0

    def _start(self) -> _Slot:
        parent, child = self.ctx.Pipe()
        # a daemon: never waited for at interpreter exit (agents may still start subprocesses; only
        # multiprocessing children are refused in a daemon)
        proc = self.ctx.Process(target=_worker, args=(child, self.pictures, self.timeout_s), daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, parent)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(kill=exc[0] is not None)

    def close(self, kill: bool = False) -> None:
        """Stop every worker (``kill``: at once, e.g. on Ctrl-C; else after its current job)."""
        for s in self.slots:
            if kill or s.job is not None:
                self._kill(s)
            else:
                with contextlib.suppress(OSError):
                    s.conn.send(None)
        for s in self.slots:
            s.proc.join(timeout=5)
            if s.proc.is_alive():
                self._kill(s)
                s.proc.join()
            s.conn.close()
        self.slots = []

    @staticmethod
    def _kill(s: _Slot) -> None:
        try:
            os.killpg(s.proc.pid, signal.SIGKILL)  # the worker and anything it started (exec agents)
        except (ProcessLookupError, PermissionError):
            if s.proc.is_alive():
                s.proc.kill()

    def run(self, jobs: list[Job], out: Path, done: Done) -> int:
        """Run ``jobs``; ``done(job, entry)`` as each finishes. Returns the worker deaths in this call."""
        queue: deque[tuple[Job, int]] = deque((j, 0) for j in jobs)
        deaths0 = self.deaths
        while len(self.slots) < min(self.workers, len(jobs)):
            self.slots.append(self._start())
        busy = 0
        while queue or busy:
            for k, s in enumerate(self.slots):
                if s.job is None and queue:
                    job, tries = queue.popleft()
                    s = self._send(k, job, out)
                    s.job, s.tries, s.started = job, tries, None
                    busy += 1
            running = [s for s in self.slots if s.job is not None]
            wait([s.conn for s in running] + [s.proc.sentinel for s in running], timeout=self._wait_s(running))
            now = time.monotonic()
            for k, s in enumerate(self.slots):
                if s.job is None:
                    continue
                job = s.job
                entry = None
                eof = False
                while entry is None and not eof and s.conn.poll():
                    try:
                        entry = s.conn.recv()
                    except (EOFError, OSError):
                        eof = True
                    if entry is None and not eof:
                        s.started = now  # the worker has begun this job
                if entry is not None:
                    s.job = None
                    busy -= 1
                    done(job, {**entry, "retried_after_crash": True} if s.tries else entry)
                    continue
                limit = None if self.timeout_s is None else self.timeout_s + KILL_GRACE_S
                over = limit is not None and s.started is not None and now - s.started > limit
                if not over and not eof and s.proc.is_alive():
                    continue
                # The worker is gone (or hung): replace it; its job alone is retried or recorded.
                self._kill(s)
                s.proc.join()
                s.conn.close()
                self.deaths += 1
                self.slots[k] = self._start()
                busy -= 1
                if over:
                    msg = f"the run took longer than --timeout-s {self.timeout_s:g} (worker killed)"
                    e = error_entry(job, msg, status="timeout")
                elif s.tries < RETRIES:
                    queue.appendleft((job, s.tries + 1))
                    continue
                else:
                    detail = f"the process running this job ended abruptly (killed or os._exit) {s.tries + 1} times"
                    e = error_entry(job, "worker process died", detail, status="crashed")
                e["retried_after_crash"] = bool(s.tries)
                write_error(job, out, e)
                done(job, e)
        return self.deaths - deaths0

    def _send(self, k: int, job: Job, out: Path) -> _Slot:
        """Hand ``job`` to slot ``k``'s worker (answered by None when it starts, then the entry); a worker
        that died while idle is replaced first, without counting against the job."""
        s = self.slots[k]
        try:
            s.conn.send((job, str(out)))
        except OSError:
            self._kill(s)
            s.proc.join()
            s.conn.close()
            self.deaths += 1
            s = self.slots[k] = self._start()
            s.conn.send((job, str(out)))
        return s

    def _wait_s(self, running: list[_Slot]) -> float | None:
        if self.timeout_s is None or not running:
            return None
        started = [s.started for s in running if s.started is not None]
        if len(started) < len(running):
            return 0.5  # a worker has not acknowledged its job yet: look again soon
        return max(0.05, min(started) + self.timeout_s + KILL_GRACE_S - time.monotonic())
