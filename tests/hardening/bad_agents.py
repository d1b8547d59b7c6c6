"""Agents that misbehave in every way an in-process agent can (loaded by file path in tests)."""

from __future__ import annotations

import os
import signal
import sys
import time

from simcore.agents.protocol import ActuationControl, Control


class _Base:
    name = "bad"

    def reset(self, info: object) -> None:
        pass


class Exits(_Base):
    """``sys.exit(0)`` in act: used to make ``simcore run`` exit 0 with no result."""

    def act(self, obs: object) -> Control:
        sys.exit(0)


class ExitsInReset(_Base):
    def reset(self, info: object) -> None:
        raise SystemExit(3)

    def act(self, obs: object) -> Control:
        return Control(0.0, 0.0)


class Interrupts(_Base):
    def act(self, obs: object) -> Control:
        raise KeyboardInterrupt


class SignalsItself(_Base):
    """Sends SIGINT to its own process (the handler raises KeyboardInterrupt in the main thread)."""

    def act(self, obs: object) -> Control:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5.0)
        return Control(0.0, 0.0)


class RaisesOdd(_Base):
    def act(self, obs: object) -> Control:
        raise GeneratorExit("odd")


class Sleeps(_Base):
    def act(self, obs: object) -> Control:
        time.sleep(1.5)
        return Control(0.0, 0.0)


class Spins(_Base):
    def act(self, obs: object) -> Control:
        while True:
            pass


class Huge(_Base):
    def act(self, obs: object) -> Control:
        return Control(1e308, 1e308)


class HugeSteer(_Base):
    def act(self, obs: object) -> Control:
        return Control(1.0, 3.5)


class PedalOut(_Base):
    def act(self, obs: object) -> ActuationControl:
        return ActuationControl(2.0, 0.0, 0.0)


class Strings(_Base):
    def act(self, obs: object) -> Control:
        return Control("1.0", "0")  # type: ignore[arg-type]


class Fine(_Base):
    name = "fine"

    def act(self, obs: object) -> Control:
        return Control(0.5, 0.0)
