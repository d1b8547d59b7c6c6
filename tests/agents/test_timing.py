"""Timing realism: control latency as a delay line, compute budget, hold/brake late policies."""

from __future__ import annotations

import types

import numpy as np
import pytest

import simcore.agents.guard as guard_mod  # measures the agent's compute time
from simcore.agents.builtin.autopilot import Autopilot
from simcore.agents.channel import TimingOptions
from simcore.agents.protocol import ActuationControl, AgentInfo, Control, Observation
from simcore.evaluation.events import EventKind

from ._helpers import REAR_END, make_sim


class StepAgent:
    """accel 0 before step ``k0``, ``a1`` from then on; None (missing) from step ``k_miss``."""

    name = "step"

    def __init__(self, k0: int = 10, a1: float = -1.5, k_miss: int | None = None) -> None:
        self.k0, self.a1, self.k_miss = k0, a1, k_miss

    def reset(self, info: AgentInfo) -> None:
        self.info = info

    def act(self, obs: Observation) -> Control | None:
        if self.k_miss is not None and obs.step >= self.k_miss:
            return None
        return Control(accel=0.0 if obs.step < self.k0 else self.a1, steer=0.0)


def speeds(sim, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Ego speed after each of ``n`` steps, and the acceleration target applied at each."""
    e = sim.world.ego
    v, a = [], []
    for _ in range(n):
        sim.step()
        v.append(sim.world.state.speed[e])
        a.append(sim.ctrl_accel[e])
    return np.array(v), np.array(a)


@pytest.mark.parametrize("n_delay", [1, 3, 7])
def test_latency_delays_the_step_response_by_exactly_that_many_steps(n_delay):
    dt = 0.05
    v0, a0 = speeds(make_sim(REAR_END, StepAgent()), 60)
    sim = make_sim(REAR_END, StepAgent(), control_latency_s=n_delay * dt)
    assert sim.channels["ego"].n_delay == n_delay
    v1, a1 = speeds(sim, 60)
    np.testing.assert_array_equal(a1[n_delay:], a0[:-n_delay])
    np.testing.assert_array_equal(v1[n_delay:], v0[:-n_delay])  # bit-identical, shifted
    assert (a1[: 10 + n_delay] == 0.0).all() and a1[10 + n_delay] == -1.5
    assert not [e for e in sim.events if e.kind == EventKind.LATE_CONTROL]


def test_latency_rounds_to_whole_steps():
    assert TimingOptions(latency_s=0.149).delay_steps(0.05) == 3
    assert TimingOptions(latency_s=0.0).delay_steps(0.05) == 0


def test_hold_repeats_the_last_control_and_records_each_late_one():
    sim = make_sim(REAR_END, StepAgent(k0=5, a1=0.5, k_miss=12), late_policy="hold")
    _, a = speeds(sim, 20)
    assert (a[5:] == 0.5).all()
    late = [e for e in sim.events if e.kind == EventKind.LATE_CONTROL]
    assert len(late) == 8 and sim.late_controls == {"ego": 8}
    assert [e.time for e in late] == pytest.approx([0.05 * k for k in range(12, 20)])
    assert late[0].detail == "no control; hold" and late[0].actors == ("ego",)


def test_brake_policy_brakes_on_a_missing_control():
    sim = make_sim(REAR_END, StepAgent(k0=5, a1=0.5, k_miss=12), late_policy="brake")
    max_decel = float(sim.world.params["max_decel"][sim.world.ego])
    _, a = speeds(sim, 20)
    assert (a[5:12] == 0.5).all()
    assert (a[12:] == -max_decel).all()
    assert sim.late_controls == {"ego": 8}


def test_brake_policy_fills_the_delay_line_with_braking_and_hold_with_coasting():
    sim = make_sim(REAR_END, StepAgent(k0=0, a1=0.5), control_latency_s=0.1, late_policy="brake")
    max_decel = float(sim.world.params["max_decel"][sim.world.ego])
    _, a = speeds(sim, 4)
    assert list(a) == [-max_decel, -max_decel, 0.5, 0.5]
    _, a = speeds(make_sim(REAR_END, StepAgent(k0=0, a1=0.5), control_latency_s=0.1), 4)
    assert list(a) == [0.0, 0.0, 0.5, 0.5]


class FakeClock:
    """perf_counter that only moves when the agent 'computes'."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


class SlowEverySecondStep:
    name = "slow"

    def __init__(self, clock: FakeClock, took: float) -> None:
        self.clock, self.took = clock, took

    def reset(self, info: AgentInfo) -> None:
        pass

    def act(self, obs: Observation) -> Control:
        if obs.step % 2:
            self.clock.now += self.took
        return Control(accel=1.0 if obs.step % 2 else -1.0, steer=0.0)


@pytest.mark.parametrize("policy", ["hold", "brake"])
def test_answers_over_the_compute_budget_are_late(monkeypatch, policy):
    clock = FakeClock()
    monkeypatch.setattr(guard_mod, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    sim = make_sim(REAR_END, SlowEverySecondStep(clock, 0.3), compute_budget_s=0.1, late_policy=policy)
    _, a = speeds(sim, 10)
    brake = -float(sim.world.params["max_decel"][sim.world.ego])
    # Odd steps took 0.3 s > 0.1 s: their +1 never acts; hold repeats the even steps' -1.
    assert list(a[1::2]) == [-1.0 if policy == "hold" else brake] * 5
    assert (a[0::2] == -1.0).all()
    late = [e for e in sim.events if e.kind == EventKind.LATE_CONTROL]
    assert len(late) == 5 and "compute 0.3000 s over the budget of 0.1 s" in late[0].detail


def test_answers_within_the_budget_are_on_time(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(guard_mod, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    sim = make_sim(REAR_END, SlowEverySecondStep(clock, 0.05), compute_budget_s=0.1)
    _, a = speeds(sim, 10)
    assert list(a) == [-1.0, 1.0] * 5
    assert sim.late_controls == {"ego": 0}


def test_timing_options_turn_off_the_in_engine_fast_path():
    assert make_sim(REAR_END, Autopilot()).in_engine
    assert not make_sim(REAR_END, Autopilot(), control_latency_s=0.1).in_engine
    assert not make_sim(REAR_END, Autopilot(), compute_budget_s=1.0).in_engine


def test_timing_options_are_validated():
    with pytest.raises(ValueError, match="latency"):
        make_sim(REAR_END, Autopilot(), control_latency_s=-0.1)
    with pytest.raises(ValueError, match="budget"):
        make_sim(REAR_END, Autopilot(), compute_budget_s=0.0)
    with pytest.raises(ValueError, match="late policy"):
        make_sim(REAR_END, Autopilot(), late_policy="swerve")


class Pedals:
    name = "pedals"

    def reset(self, info: AgentInfo) -> None:
        pass

    def act(self, obs: Observation) -> ActuationControl:
        return ActuationControl(throttle=0.5, brake=0.0, steer=0.01) if obs.step < 3 else ActuationControl(0, 1, 0)


def test_actuation_controls_use_the_vehicle_limits():
    sim = make_sim(REAR_END, Pedals())
    p, e = sim.world.params, sim.world.ego
    _, a = speeds(sim, 4)
    assert list(a) == [0.5 * p["max_accel"][e]] * 3 + [-p["max_decel"][e]]


class BadReset:
    name = "bad-reset"

    def reset(self, info: AgentInfo) -> None:
        raise OSError("no model weights")

    def act(self, obs: Observation) -> Control:
        raise AssertionError("never called")


def test_failing_reset_ends_the_run_at_once_with_a_score():
    res = make_sim(REAR_END, BadReset()).run()
    assert res.termination == "agent_failure" and res.steps == 0
    (ev,) = [e for e in res.events if e.kind == EventKind.AGENT_FAILURE]
    assert ev.detail == "OSError: no model weights"
    assert 0.0 <= res.score <= 100.0


class ReturnsJunk:
    name = "junk"

    def reset(self, info: AgentInfo) -> None:
        pass

    def act(self, obs: Observation) -> object:
        return 42


def test_a_non_control_return_value_is_an_agent_failure():
    res = make_sim(REAR_END, ReturnsJunk()).run()
    (ev,) = [e for e in res.events if e.kind == EventKind.AGENT_FAILURE]
    assert "act returned int" in ev.detail


class PlanOnce:
    """Sends one trajectory along its route at 6 m/s, then only missing controls."""

    name = "plan-once"

    def reset(self, info: AgentInfo) -> None:
        self.info = info

    def act(self, obs: Observation):
        from simcore.agents.protocol import TrajectoryControl

        if obs.step > 0:
            return None
        i = self.info
        return TrajectoryControl(i.route_x, i.route_y, np.zeros_like(i.route_x), speed=np.full_like(i.route_x, 6.0))


def test_hold_keeps_tracking_the_last_trajectory():
    sim = make_sim(REAR_END, PlanOnce(), late_policy="hold")
    v, _ = speeds(sim, 200)
    e = sim.world.ego
    assert abs(v[-1] - 6.0) < 0.05 and abs(sim.world.state.lateral[e]) < 0.05
    assert sim.late_controls == {"ego": 199}


def test_observation_sensors_default_to_an_empty_read_only_mapping():
    obs = make_sim(REAR_END, PlanOnce()).observe()
    assert dict(obs.sensors) == {} and obs.role == "ego"
    with pytest.raises(TypeError):
        obs.sensors["lidar"] = 1  # type: ignore[index]
