"""The engine contract: EngineState (instance axis), reset as one copy, snapshot/restore bit for bit."""

from __future__ import annotations

import numpy as np

from simcore.api import build_world, load_scenario, resolve_scenario, simulation
from simcore.runner.engine import Outputs, Scratch, Static, Uses
from simcore.state import EngineState


def _bytes(state: EngineState) -> list[bytes]:
    return [a.tobytes() for a in state]


def _run_steps(sim, m: int) -> None:
    for _ in range(m):
        if sim.step().done:
            break


def test_snapshot_restore_repeats_the_run_bit_for_bit():
    # cut_in has a storyboard (a lane change and a speed action): Python-side progress is part of the snapshot
    sim = simulation(resolve_scenario("cut_in"))
    _run_steps(sim, 30)
    snap = sim.snapshot()
    _run_steps(sim, 80)
    first = (_bytes(sim.state), [(e.time, e.kind, e.actors, e.value) for e in sim.events], sim.t)
    sim.restore(snap)
    assert sim.t == snap.t
    _run_steps(sim, 80)
    again = (_bytes(sim.state), [(e.time, e.kind, e.actors, e.value) for e in sim.events], sim.t)
    assert first == again
    assert any("lane" in e.detail or "speed" in e.detail for e in sim.events)  # the storyboard acted in the window


def test_reset_is_one_copy_of_the_initial_state():
    sim = simulation(resolve_scenario("cut_in"))
    start = _bytes(sim.state)
    _run_steps(sim, 50)
    assert _bytes(sim.state) != start
    sim.reset()
    assert _bytes(sim.state) == start


def test_world_is_not_written_by_a_run():
    # storyboard actions (route edits, speeds, signals) write the engine state, never the built world
    world = build_world(load_scenario(resolve_scenario("cut_in")))
    routes = [a.copy() for a in (world.routes.x, world.routes.y, world.routes.friction, world.driver.v_des)]
    from simcore.agents.builtin.autopilot import Autopilot
    from simcore.runner.loop import Simulation

    sim = Simulation(world, Autopilot())
    sim.run()
    after = (world.routes.x, world.routes.y, world.routes.friction, world.driver.v_des)
    assert all(np.array_equal(a, b) for a, b in zip(routes, after, strict=True))


def test_every_state_array_has_the_instance_axis_and_the_step_takes_four_structures():
    from simcore.gym.batch import InstanceBatch

    world = build_world(load_scenario(resolve_scenario("signalized_intersection")))
    b = InstanceBatch(world, 3)
    assert all(a.shape[0] == 3 and a.flags.c_contiguous for a in b.state)
    assert isinstance(b.static, Static) and isinstance(b.scratch[0], Scratch) and isinstance(b.outputs[0], Outputs)
    # nothing but numbers and arrays: the four arguments of ``advance`` are Numba-compatible records
    # (and the Static's compile-time flags of optional stages: True or None each)
    for rec in (b.static, b.scratch[0], b.outputs[0], b.state):
        assert all(isinstance(v, (np.ndarray, int, float, bool)) for k, v in rec._asdict().items() if k != "uses")
    assert isinstance(b.static.uses, Uses) and all(f is True or f is None for f in b.static.uses)


def test_batch_snapshot_restore_bit_for_bit():
    from simcore.gym.batch import InstanceBatch

    world = build_world(load_scenario(resolve_scenario("signalized_intersection")))
    b = InstanceBatch(world, 2)
    run = np.ones(2, dtype=np.bool_)
    acc, steer = np.array([1.0, -0.5]), np.array([0.0, 0.02])
    weights, term = np.ones(8), np.zeros(3, dtype=np.bool_)
    for _ in range(20):
        b.step(run, acc, steer, 10_000, weights, term)
    snap = b.snapshot()
    for _ in range(30):
        b.step(run, acc, steer, 10_000, weights, term)
    first = _bytes(b.state)
    b.restore(snap)
    for _ in range(30):
        b.step(run, acc, steer, 10_000, weights, term)
    assert _bytes(b.state) == first
