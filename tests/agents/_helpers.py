"""Shared helpers of the agent tests: build a Simulation with the new keyword options."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from simcore._data import resolve_scenario
from simcore.agents.exec_agent import ExecAgent
from simcore.runner.loop import Simulation
from simcore.scenario.build import build_world
from simcore.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CHILD = Path(__file__).resolve().parent / "children" / "fake_agent.py"
CLIENT = ROOT / "examples" / "agents" / "simple_client.py"
SIGNALISED = "urban/signalized_intersection"
REAR_END = DATA / "rear_end.yaml"


def make_sim(scenario: str | Path, agent: Any = None, *, seed: int | None = None, **kwargs: Any) -> Simulation:
    """A Simulation of ``scenario`` with ``agent`` and any extra Simulation keyword arguments."""
    path = resolve_scenario(str(scenario))
    loaded = load_scenario(path, seed=seed)
    world = build_world(loaded)
    spec = loaded.spec
    return Simulation(
        world,
        agent,
        end=spec.end,
        criteria=list(spec.criteria),
        scenario_file=str(path),
        parameters=loaded.parameters,
        **kwargs,
    )


def fake(mode: str, **kwargs: Any) -> ExecAgent:
    """The fake child agent in ``mode`` (see children/fake_agent.py)."""
    kwargs.setdefault("step_timeout_s", 1.5)
    return ExecAgent([sys.executable, str(CHILD), mode], **kwargs)
