"""Agents that take their worker process down (loaded as ``tests/batch/batch_agents.py:Class``)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from simcore.agents.protocol import AgentInfo, Control, Observation

#: Folder for KillOnce's marker files (set by the test; inherited by worker processes).
MARKER_ENV = "SIMCORE_TEST_KILL_DIR"


class KillOnce:
    """Ends its process with ``os._exit`` on its 5th step, once per marker folder; then drives idle."""

    name = "kill-once"

    def reset(self, info: AgentInfo) -> None:
        """Start counting."""
        self.calls = 0
        self.tag = f"{info.scenario}-{info.seed}"

    def act(self, obs: Observation) -> Control:
        """Die the first time any KillOnce gets here, brake gently otherwise."""
        self.calls += 1
        marker = Path(os.environ[MARKER_ENV]) / "died"
        if self.calls == 5 and not marker.exists():
            marker.write_text(self.tag)
            os._exit(7)
        return Control(accel=-0.5, steer=0.0)


class KillAlways:
    """Sends itself SIGKILL on its first step, every time."""

    name = "kill-always"

    def reset(self, info: AgentInfo) -> None:
        """Nothing to prepare."""

    def act(self, obs: Observation) -> Control:
        """Die."""
        os.kill(os.getpid(), signal.SIGKILL)
        return Control(accel=0.0, steer=0.0)  # pragma: no cover - never reached
