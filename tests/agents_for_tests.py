"""Misbehaving agents for the CLI tests (loaded as ``tests/agents_for_tests.py:Class``)."""

from __future__ import annotations

import time

from simcore.agents.protocol import AgentInfo, Control, Observation

CRASH_MESSAGE = "crasher gave up on purpose"
UNNAMED_MESSAGE = "this agent has no name, on purpose"


class Crasher:
    """Brakes gently, then raises RuntimeError on its 10th call to ``act``."""

    name = "crasher"

    def __init__(self) -> None:
        self.calls = 0

    def reset(self, info: AgentInfo) -> None:
        """Start counting again."""
        self.calls = 0

    def act(self, obs: Observation) -> Control:
        """Return a braking control, except on the 10th call."""
        self.calls += 1
        if self.calls == 10:
            raise RuntimeError(CRASH_MESSAGE)
        return Control(accel=-1.0, steer=0.0)


class NanAgent:
    """Always returns non-finite controls."""

    name = "nan"

    def reset(self, info: AgentInfo) -> None:
        """Nothing to prepare."""

    def act(self, obs: Observation) -> Control:
        """NaN acceleration and steering."""
        return Control(accel=float("nan"), steer=float("nan"))


class Sleeper:
    """Holds still, sleeping 20 ms per call: a run long enough to interrupt (tests/test_server.py)."""

    name = "sleeper"

    def reset(self, info: AgentInfo) -> None:
        """Nothing to prepare."""

    def act(self, obs: Observation) -> Control:
        """Zero controls after a short sleep."""
        time.sleep(0.02)
        return Control(accel=0.0, steer=0.0)


class Unnamed:
    """An agent whose ``name`` raises: the run itself (not the agent guard) meets the error, so the
    command ends with a traceback (an internal error, as far as the CLI can tell)."""

    @property
    def name(self) -> str:
        """Raise."""
        raise RuntimeError(UNNAMED_MESSAGE)

    def reset(self, info: AgentInfo) -> None:
        """Nothing to prepare."""

    def act(self, obs: Observation) -> Control:
        """Zero controls."""
        return Control(accel=0.0, steer=0.0)
