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
    """The fake child agent in ``mode`` (see children/fake_agent.py). The default step
    timeout is generous (a loaded machine must not turn a healthy child into a hung one);
    tests of hanging children pass a short one."""
    kwargs.setdefault("step_timeout_s", 30.0)
    return ExecAgent([sys.executable, str(CHILD), mode], **kwargs)


def processes() -> dict[int, tuple[str, int, int]]:
    """The process table from /proc: pid -> (state, parent pid, process group id)."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()  # fields 3.. of /proc/PID/stat
            except OSError:
                continue
            out[int(d.name)] = (fields[0], int(fields[1]), int(fields[2]))
    return out
