"""Calling untrusted in-process agent code so that nothing it does can end or hang the engine.

Each agent's ``reset``/``act``/``close`` runs in a worker thread of its own (one per agent, kept
for the whole run); the engine waits for the answer with a wall-clock limit
(``limits.agent_step_timeout_s``, ``agent_reset_timeout_s``). Whatever the agent raises —
any ``Exception``, ``SystemExit`` (``sys.exit``), ``KeyboardInterrupt``, ``GeneratorExit`` —
comes back as an :class:`AgentError` with the original's type and message. A call that does not
return in time is a hang: the engine injects an exception into the worker thread (this cuts a
pure-Python loop at its next bytecode; a blocking C call such as ``time.sleep`` ends first) and
abandons the thread, which is a daemon and cannot keep the process alive. An interrupt signal
(Ctrl-C, SIGINT) that arrives while the engine waits for an agent is blamed on that agent.

Cost: one thread hand-off per call, measured by ``tools/bench/agent_guard.py`` (docs/limits.md).
Not containable in-process: ``os._exit``, a segfault in a C extension, a signal that kills the
process; use an ``exec:`` agent (another process) to isolate those.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import time
from collections.abc import Callable
from typing import Any


class AgentError(RuntimeError):
    """An in-process agent failed: raised anything, or did not return within its time limit."""


class AgentHung(BaseException):
    """Injected into a hung agent's worker thread to stop it (not catchable by ``except Exception``)."""


_STOP = object()


class GuardedAgent:
    """Runs the methods of one in-process agent in a dedicated worker thread with time limits."""

    def __init__(self, agent: Any, role: str) -> None:
        self.agent, self.role = agent, role
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._replies: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._dead = ""  # why the worker was abandoned
        #: Agents that declare ``isolated = True`` (``exec:`` agents: another process, their own
        #: deadlines) are engine code and are called directly, without the worker thread.
        self.direct = bool(getattr(agent, "isolated", False))

    def _worker(self) -> None:
        requests, replies = self._requests, self._replies
        while True:
            item = requests.get()
            if item is _STOP:
                return
            fn, args = item
            try:
                t0 = time.perf_counter()
                value = fn(*args)
                replies.put((True, value, time.perf_counter() - t0))
            except AgentHung:
                return
            except BaseException as exc:
                replies.put((False, exc, 0.0))

    def call(self, method: str, *args: Any, timeout_s: float) -> tuple[Any, float]:
        """``agent.method(*args)`` in the worker; returns (value, seconds the call took inside the
        worker). Raises AgentError when the agent raised anything or took longer than ``timeout_s``."""
        if self._dead:
            raise AgentError(self._dead)
        fn: Callable[..., Any] = getattr(self.agent, method)
        if self.direct:
            t0 = time.perf_counter()
            try:
                value = fn(*args)
            except Exception as exc:
                raise AgentError(f"{type(exc).__name__}: {exc}") from exc
            return value, time.perf_counter() - t0
        if self._thread is None:
            self._thread = threading.Thread(target=self._worker, daemon=True, name=f"simcore-agent-{self.role}")
            self._thread.start()
        self._requests.put((fn, args))
        try:
            ok, value, took = self._replies.get(timeout=timeout_s)
        except queue.Empty:
            self._abandon(f"{method} did not return within {timeout_s:g} s (hung?)")
            raise AgentError(f"AgentTimeout: {self._dead}") from None
        except KeyboardInterrupt:
            self._abandon(f"interrupted (SIGINT) while the agent was in {method}")
            raise AgentError(f"KeyboardInterrupt: {self._dead}") from None
        if not ok:
            raise AgentError(f"{type(value).__name__}: {value}") from value
        return value, took

    def _abandon(self, why: str) -> None:
        """Give up on the worker: stop it where it can be stopped, never wait for it."""
        self._dead = why
        th = self._thread
        if th is not None and th.is_alive() and th.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(th.ident), ctypes.py_object(AgentHung))

    def close(self, timeout_s: float = 5.0) -> None:
        """Call the agent's ``close`` (if any, and if the worker is still usable), end the worker."""
        try:
            if (self.direct or not self._dead) and callable(getattr(self.agent, "close", None)):
                self.call("close", timeout_s=timeout_s)
        except AgentError:
            pass  # closing must not mask the run's result
        finally:
            if self._thread is not None and not self._dead:
                self._requests.put(_STOP)
            self._thread = None
