"""Agents that take their worker down, hang, exit, or brake late (loaded as ``tests/batch/batch_agents.py:Class``)."""

from __future__ import annotations

import math
import os
import signal
import sys
import time
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


class SigkillOnce(KillOnce):
    """Like KillOnce, but sends its own process SIGKILL (what the kernel's OOM killer would do)."""

    name = "sigkill-once"

    def act(self, obs: Observation) -> Control:
        """Die by SIGKILL the first time any SigkillOnce gets here, brake gently otherwise."""
        self.calls += 1
        marker = Path(os.environ[MARKER_ENV]) / "died"
        if self.calls == 5 and not marker.exists():
            marker.write_text(self.tag)
            os.kill(os.getpid(), signal.SIGKILL)
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


class Sleeper:
    """Sleeps for an hour in its first ``act`` (a hang the run's timeout has to cut)."""

    name = "sleeper"

    def reset(self, info: AgentInfo) -> None:
        """Nothing to prepare."""

    def act(self, obs: Observation) -> Control:
        """Hang."""
        time.sleep(3600)
        return Control(accel=0.0, steer=0.0)  # pragma: no cover - never reached


class DeafSleeper(Sleeper):
    """Like Sleeper, with SIGALRM blocked: only killing its worker ends it (a hang in native code)."""

    name = "deaf-sleeper"

    def __init__(self) -> None:
        # Built in the worker's main thread: block the timer signal there, so that neither it nor
        # the agent guard's thread (which inherits the mask) can take the soft timeout path.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})

    def act(self, obs: Observation) -> Control:
        """Block the timer signal, then hang."""
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        return super().act(obs)


class Exits:
    """Calls ``sys.exit(0)`` in its third ``act``."""

    name = "exits"

    def reset(self, info: AgentInfo) -> None:
        """Start counting."""
        self.calls = 0

    def act(self, obs: Observation) -> Control:
        """Exit with status 0 (an in-process agent must not make its run pass this way)."""
        self.calls += 1
        if self.calls == 3:
            sys.exit(0)
        return Control(accel=0.0, steer=0.0)


class Interrupts(Exits):
    """Raises KeyboardInterrupt in its third ``act`` (must not abort the batch)."""

    name = "interrupts"

    def act(self, obs: Observation) -> Control:
        """Raise KeyboardInterrupt."""
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return Control(accel=0.0, steer=0.0)


#: LateBraker's braking threshold (s of time to collision); read at reset, so a test can make it worse.
BRAKE_TTC_ENV = "SIMCORE_TEST_BRAKE_TTC"


class LateBraker:
    """Holds its speed straight ahead, then brakes at ``DECEL`` (m/s^2) for good once the time to
    collision with an object ahead in its path falls below ``$SIMCORE_TEST_BRAKE_TTC`` s (default 1).

    With threshold T it stops short of a stationary target exactly when v^2 / (2 DECEL) < v T, i.e.
    it hits the target iff v > 2 DECEL T (less one step of detection: v T - v dt <= gap at onset).
    """

    name = "late-braker"
    DECEL = 6.0

    def reset(self, info: AgentInfo) -> None:
        """Read the threshold; remember the ego's front overhang from the reference point."""
        self.ttc = float(os.environ.get(BRAKE_TTC_ENV, "1.0"))
        self.front = info.ego.length - info.ego.rear_overhang
        self.half_w = info.ego.width / 2
        self.braking = False

    def act(self, obs: Observation) -> Control:
        """Brake for good once the time to collision is under the threshold."""
        o = obs.objects
        c, s = math.cos(obs.yaw), math.sin(obs.yaw)
        for k in range(len(o.x)):
            dx, dy = o.x[k] - obs.x, o.y[k] - obs.y
            cx = dx * c + dy * s + o.center_offset[k] * math.cos(o.yaw[k] - obs.yaw)
            lat = -dx * s + dy * c
            gap = cx - o.length[k] / 2 - self.front
            if cx > 0 and abs(lat) < self.half_w + o.width[k] / 2 and obs.speed > 0 and gap < obs.speed * self.ttc:
                self.braking = True
        return Control(accel=-self.DECEL if self.braking else 0.0, steer=0.0)


class Slow:
    """Writes its process id into ``$SIMCORE_TEST_KILL_DIR`` at reset, then takes 20 ms per step."""

    name = "slow"

    def reset(self, info: AgentInfo) -> None:
        """Leave the worker's process id for the test to check."""
        (Path(os.environ[MARKER_ENV]) / f"pid-{os.getpid()}").write_text("")

    def act(self, obs: Observation) -> Control:
        """Think for 20 ms, then brake gently."""
        time.sleep(0.02)
        return Control(accel=-0.5, steer=0.0)
