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


def emergency_vehicle_ids(spec: Any) -> tuple[str, ...]:
    """Actor ids of the scenario's emergency vehicles (``emergency: true``; platoon members ``id#k``)."""
    out: list[str] = []
    for a in spec.actors:
        if getattr(a, "emergency", False):
            n = getattr(a, "count", 1)
            out += [a.id] if n == 1 else [f"{a.id}#{k + 1}" for k in range(n)]
    return tuple(out)


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
    ``control_latency_s``, ``compute_budget_s``, ``late_policy`` (default: the scenario's
    ``agent_timing``), ``sensors`` (the ego's SensorRig; default: the scenario's ``ego.sensors``)."""
    path = resolve_scenario(str(scenario))
    loaded = load_scenario(path, seed=seed, overrides=overrides, variant=variant, allow_paths=allow_paths)
    world = build_world(loaded)
    ag = load_agent(agent) if isinstance(agent, str) else agent
    spec = loaded.spec
    timing = spec.agent_timing
    options.setdefault("control_latency_s", timing.control_latency_s)
    options.setdefault("compute_budget_s", timing.compute_budget_s)
    options.setdefault("late_policy", timing.late_policy)
    options.setdefault("emergency_vehicles", emergency_vehicle_ids(spec))
    options.setdefault("tags", tuple(spec.tags))
    if "sensors" not in options:
        from simcore.sensors.scenario_rig import rig_for_scenario

        options["sensors"] = rig_for_scenario(loaded, world)
    return Simulation(
        world,
        ag if world.ego >= 0 else None,
        end=spec.end,
        criteria=list(spec.criteria),
        record_every=record_every,
        scenario_file=str(path),
        parameters=loaded.parameters,
        variant=loaded.variant,
        regulation=spec.regulation,
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
