"""Several controlled vehicles in one scenario, each with its own agent; ROLE=SPEC parsing."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from simcore.agents.builtin.autopilot import Autopilot, Idle
from simcore.agents.loading import AgentLoadError, load_agents, split_role
from simcore.agents.protocol import AgentInfo, Control, Observation
from simcore.evaluation.events import EventKind

from ._helpers import CLIENT, REAR_END, SIGNALISED, make_sim


class Go:
    """Full throttle straight ahead; remembers what it was given."""

    name = "go"

    def reset(self, info: AgentInfo) -> None:
        self.info = info
        self.seen: list[Observation] = []

    def act(self, obs: Observation) -> Control:
        self.seen.append(obs)
        return Control(accel=2.0, steer=0.0)


def test_a_second_controlled_vehicle_is_driven_by_its_agent():
    go = Go()
    sim = make_sim(REAR_END, Idle(), agents={"lead": go})
    lead = sim.world.actor_ids.index("lead")
    assert lead not in sim.drive_idx  # no longer driven by the NPC driver model
    for _ in range(40):
        sim.step()
    # As an NPC the lead waits at its red light; under its agent it accelerates at 2 m/s^2.
    assert sim.world.state.speed[lead] == pytest.approx(2.0 * 40 * 0.05, rel=1e-9)
    assert go.info.role == "lead" and go.info.scenario_file.endswith("rear_end.yaml")
    obs = go.seen[-1]
    assert obs.role == "lead"
    assert obs.speed == pytest.approx(2.0 * 39 * 0.05, rel=1e-9) and lead not in obs.objects.row
    assert sim.world.ego in obs.objects.row
    ego_obs = sim.observe()
    assert ego_obs.role == "ego" and lead in ego_obs.objects.row


def test_role_observation_and_info_come_from_its_own_row_and_route():
    sim = make_sim(REAR_END, Idle(), agents={"lead": Go()})
    lead = sim.world.actor_ids.index("lead")
    obs, info = sim.observe("lead"), sim.agent_info("lead")
    st, r = sim.world.state, sim.world.routes
    assert (obs.x, obs.y, obs.speed) == (st.x[lead], st.y[lead], st.speed[lead])
    np.testing.assert_array_equal(info.route_x, r.x[r.start[lead] : r.start[lead + 1]])
    assert info.ego.length == sim.world.params["length"][lead]
    with pytest.raises(ValueError, match="not a controlled vehicle"):
        sim.observe("nobody")


def test_the_ego_keeps_its_in_engine_fast_path_beside_other_agents():
    sim = make_sim(REAR_END, Autopilot(), agents={"lead": Idle()})
    assert sim.in_engine and list(sim.channels) == ["lead"]
    res = sim.run()
    lead = sim.world.actor_ids.index("lead")
    assert sim.world.state.speed[lead] == 0.0  # idle held it
    assert res.termination in ("timeout", "ego_collision", "goal_reached")


def test_unknown_or_non_vehicle_roles_are_refused():
    with pytest.raises(ValueError, match=r"cannot control 'ghost'.*vehicles: lead"):
        make_sim(REAR_END, Idle(), agents={"ghost": Go()})
    with pytest.raises(ValueError, match="cannot control 'walker'"):
        make_sim(SIGNALISED, Idle(), agents={"walker": Go()})


def test_an_ego_agent_may_come_through_agents():
    sim = make_sim(REAR_END, None, agents={"ego": Idle(), "lead": Go()})
    assert set(sim.channels) == {"ego", "lead"} and sim.agent.name == "idle"


def test_failure_of_any_agent_ends_the_run_naming_its_role():
    class Boom(Go):
        def act(self, obs):
            if obs.step == 3:
                raise RuntimeError("boom")
            return super().act(obs)

    res = make_sim(REAR_END, Idle(), agents={"lead": Boom()}).run()
    (ev,) = [e for e in res.events if e.kind == EventKind.AGENT_FAILURE]
    assert ev.actors == ("lead",) and res.termination == "agent_failure" and res.steps == 3


def test_two_exec_agents_drive_the_signalised_intersection():
    specs = [f"exec:{sys.executable} {CLIENT}", f"north_left=exec:{sys.executable} {CLIENT}"]
    agents = load_agents(specs)
    sim = make_sim(SIGNALISED, agents.pop("ego"), agents=agents)
    res = sim.run()
    assert res.termination == "goal_reached"
    assert not [e for e in res.events if e.kind == EventKind.COLLISION]
    nl = sim.world.actor_ids.index("north_left")
    assert sim.world.state.progress[nl] > 60.0  # it drove its own route too


def test_role_spec_parsing():
    assert split_role("autopilot") == ("ego", "autopilot")
    assert split_role("lead=idle") == ("lead", "idle")
    assert split_role("east_right#2=exec:python a.py --k=v") == ("east_right#2", "exec:python a.py --k=v")
    assert split_role("exec:python a.py --k=v") == ("ego", "exec:python a.py --k=v")
    assert split_role("pkg.mod:Cls") == ("ego", "pkg.mod:Cls")
    agents = load_agents(["idle", "lead=autopilot"])
    assert isinstance(agents["ego"], Idle) and isinstance(agents["lead"], Autopilot)
    with pytest.raises(AgentLoadError, match="two agents for 'ego'"):
        load_agents(["idle", "ego=autopilot"])
