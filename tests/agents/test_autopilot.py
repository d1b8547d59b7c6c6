"""The autopilot through the Agent protocol (observe -> act) equals its in-engine fast path."""

import json

import numpy as np
import pytest

from simcore.agents.builtin.autopilot import Autopilot
from simcore.agents.protocol import Agent
from simcore.api import simulation

SCENARIO = "urban/signalized_intersection"


def _run(in_engine: bool):
    sim = simulation(SCENARIO, Autopilot(), seed=5)
    if not in_engine:
        sim = type(sim)(
            sim.world,
            Autopilot(),
            end=sim.end,
            criteria=sim.criteria,
            in_engine=False,
            scenario_file=sim.scenario_file,
            parameters=sim.parameters,
        )
    assert sim.in_engine == in_engine
    return sim.run()


def test_protocol_and_in_engine_paths_are_bit_identical():
    a, b = _run(True), _run(False)
    assert json.dumps(a.to_json(False), sort_keys=True) == json.dumps(b.to_json(False), sort_keys=True)
    for key in ("x", "y", "yaw", "speed"):
        np.testing.assert_array_equal(a.trajectory[key], b.trajectory[key])


def test_autopilot_satisfies_the_protocol():
    assert isinstance(Autopilot(), Agent)


def test_act_before_reset_is_an_error():
    sim = simulation(SCENARIO, Autopilot(), seed=5)
    with pytest.raises(RuntimeError):
        Autopilot().act(sim.observe())


def test_observation_is_a_snapshot():
    sim = simulation(SCENARIO, Autopilot(), seed=5)
    obs = sim.observe()
    x0 = obs.objects.x.copy()
    sim._advance(20)
    np.testing.assert_array_equal(obs.objects.x, x0)
    assert obs.objects.row.size == sim.world.state.n - 1  # everything within range, not the ego


def test_protocol_agent_on_a_map_without_signals():
    """Observations on an unsignalised map (no signal groups) work for Python agents."""
    from pathlib import Path

    fixture = Path(__file__).parents[1] / "data" / "unsignalised.yaml"
    sim = simulation(fixture, Autopilot())
    sim = type(sim)(sim.world, Autopilot(), end=sim.end, criteria=sim.criteria, in_engine=False)
    obs = sim.observe()
    assert obs.stop_s.size == obs.stop_state.size
    assert (obs.stop_state == 2).all()  # unsignalised stop lines read as green
    res = sim.run()
    assert res.passed and res.termination == "goal_reached"
