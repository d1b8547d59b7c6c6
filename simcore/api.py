"""The public API: load_scenario, build, Simulation, run, Agent, Control."""

from __future__ import annotations

import os
from typing import Any

from simcore._data import resolve_scenario
from simcore.agents.loading import load_agent
from simcore.agents.protocol import Agent, AgentInfo, Control, Observation
from simcore.runner.loop import Simulation
from simcore.runner.results import Result
from simcore.scenario.build import build_world
from simcore.scenario.loader import LoadedScenario, load_scenario
from simcore.world import World

__all__ = [
    "Agent",
    "AgentInfo",
    "Control",
    "LoadedScenario",
    "Observation",
    "Result",
    "Simulation",
    "World",
    "build_world",
    "load_scenario",
    "run",
    "simulation",
]


def simulation(
    scenario: str | os.PathLike[str],
    agent: Agent | str = "autopilot",
    *,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
    variant: int = 0,
    record_every: int = 1,
    allow_paths: tuple[str | os.PathLike[str], ...] | list[str | os.PathLike[str]] = (),
    **options: Any,
) -> Simulation:
    """Load, validate and build a scenario (a path or built-in name) into a ready Simulation.

    ``allow_paths``: folders outside the scenario's own that its map/log files may come from.
    ``options`` go to Simulation: ``agents`` (further controlled vehicles by actor id),
    ``control_latency_s``, ``compute_budget_s``, ``late_policy``."""
    path = resolve_scenario(str(scenario))
    loaded = load_scenario(path, seed=seed, overrides=overrides, variant=variant, allow_paths=allow_paths)
    world = build_world(loaded)
    ag = load_agent(agent) if isinstance(agent, str) else agent
    spec = loaded.spec
    return Simulation(
        world,
        ag if world.ego >= 0 else None,
        end=spec.end,
        criteria=list(spec.criteria),
        record_every=record_every,
        scenario_file=str(path),
        parameters=loaded.parameters,
        variant=loaded.variant,
        **options,
    )


def run(
    scenario: str | os.PathLike[str],
    agent: Agent | str = "autopilot",
    *,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
    variant: int = 0,
) -> Result:
    """Run a scenario to its end with ``agent`` driving the ego; returns the Result."""
    return simulation(scenario, agent, seed=seed, overrides=overrides, variant=variant).run()
