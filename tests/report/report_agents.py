"""Agents for the report tests (loaded as ``tests/report/report_agents.py:Class``)."""

from __future__ import annotations

from simcore.agents.protocol import AgentInfo, Control, Observation


class Rammer:
    """Full throttle, wheels straight: drives into whatever stands ahead."""

    name = 'rammer <&> "quoted"'

    def reset(self, info: AgentInfo) -> None:
        """Nothing to prepare."""

    def act(self, obs: Observation) -> Control:
        """Accelerate at 3 m/s², no steering."""
        return Control(accel=3.0, steer=0.0)
