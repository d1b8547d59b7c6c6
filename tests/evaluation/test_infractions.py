"""Evaluators end to end: agents that misbehave get the events, verdicts and score they earn."""

import math
from pathlib import Path

import numpy as np
import pytest

from simcore.agents.protocol import AgentInfo, Control, Observation
from simcore.api import simulation
from simcore.evaluation.events import EventKind
from simcore.evaluation.scoring import PENALTIES

REAR_END = Path(__file__).parents[1] / "data" / "rear_end.yaml"


class Throttle:
    """Constant acceleration, wheel straight: ignores everything."""

    name = "throttle"

    def __init__(self, accel: float = 2.0, steer: float = 0.0) -> None:
        self.accel, self.steer = accel, steer

    def reset(self, info: AgentInfo) -> None:
        pass

    def act(self, obs: Observation) -> Control:
        return Control(self.accel, self.steer)


def _kinds(res, actor="ego"):
    return [e.kind for e in res.events if actor in e.actors]


def test_rear_end_collision_is_detected_once_with_relative_speed():
    sim = simulation(REAR_END, Throttle(2.0))
    res = sim.run()
    coll = [e for e in res.events if e.kind == EventKind.COLLISION]
    assert len(coll) == 1, coll
    ev = coll[0]
    assert set(ev.actors) == {"ego", "lead"}
    tr = res.trajectory
    k = int(np.searchsorted(tr["time"], ev.time))
    assert tr["time"][k] == pytest.approx(ev.time)
    vel = [
        np.array([math.cos(tr["yaw"][k, j]), math.sin(tr["yaw"][k, j])]) * tr["speed"][k, j]
        for j in (sim.world.actor_ids.index("ego"), sim.world.actor_ids.index("lead"))
    ]
    assert ev.value == pytest.approx(float(np.linalg.norm(vel[0] - vel[1])), rel=1e-9)
    assert ev.value > 5.0  # a real impact, not a graze
    verdicts = {v.name: v.passed for v in res.verdicts}
    assert verdicts["no_collision"] is False
    # Boxes pass through each other (no contact physics), so the ego may also run the light.
    expected = (
        100
        * res.metrics["route_completion"]
        * PENALTIES["collision_vehicle"]
        * PENALTIES["red_light"] ** res.metrics["red_lights"]
    )
    assert res.score == pytest.approx(expected)


def test_end_on_ego_collision_stops_the_run_at_the_impact():
    sim = simulation(REAR_END, Throttle(2.0))
    sim.end = sim.end.model_copy(update={"on_ego_collision": True})
    sim.reset()
    res = sim.run()
    coll = [e for e in res.events if e.kind == EventKind.COLLISION]
    assert res.termination == "ego_collision"
    assert res.sim_time == pytest.approx(coll[0].time)


def test_rear_end_avoided_by_the_autopilot():
    res = simulation(REAR_END, "autopilot").run()
    assert EventKind.COLLISION not in [e.kind for e in res.events]
    assert res.metrics["min_gap_m"] > 1.0


def test_running_the_red_light_is_an_event_and_fails_the_criterion():
    # Alone on the map: drive straight through the south stop line while south is red.
    sim = simulation(REAR_END, Throttle(1.5))
    sim.world.state.active[sim.world.actor_ids.index("lead")] = False
    sim.world.initial.active[sim.world.actor_ids.index("lead")] = False
    sim.reset()
    res = sim.run()
    red = [e for e in res.events if e.kind == EventKind.RED_LIGHT]
    assert len(red) == 1 and red[0].actors == ("ego",)
    assert "south" in red[0].detail
    assert {v.name: v.passed for v in res.verdicts}["no_red_light"] is False


def test_leaving_the_road_is_an_offroad_event():
    sim = simulation(REAR_END, Throttle(0.5, steer=0.25))
    sim.world.state.active[sim.world.actor_ids.index("lead")] = False
    sim.world.initial.active[sim.world.actor_ids.index("lead")] = False
    sim.reset()
    res = sim.run()
    off = [e for e in res.events if e.kind == EventKind.OFFROAD]
    assert off and off[0].actors == ("ego",)
    # At the event the box really is outside: some corner lies beyond every driving lane.
    verdicts = {v.name: v.passed for v in res.verdicts}
    assert verdicts["no_offroad"] is False


def test_onroad_fast_path_agrees_with_corner_test():
    """Evaluation skips the grid test while the box is inside its route strip; check that
    the skip never hides an off-road corner along autopilot runs."""
    from simcore.road.frenet_kernels import on_drivable

    sim = simulation("urban/signalized_intersection")
    res = sim.run()
    w = sim.world
    g = w.drivable
    p = w.params
    tr = res.trajectory
    bad = 0
    for r in range(0, tr["time"].size, 5):
        for i in w.veh_idx:
            if not tr["active"][r, i]:
                continue
            c, s = math.cos(tr["yaw"][r, i]), math.sin(tr["yaw"][r, i])
            cx = tr["x"][r, i] + p["center_offset"][i] * c
            cy = tr["y"][r, i] + p["center_offset"][i] * s
            for sx in (-1, 1):
                for sy in (-1, 1):
                    px = cx + sx * p["length"][i] / 2 * c - sy * p["width"][i] / 2 * s
                    py = cy + sx * p["length"][i] / 2 * s + sy * p["width"][i] / 2 * c
                    bad += not on_drivable(px, py, *g.args())
    assert bad == 0
    assert not [e for e in res.events if e.kind == EventKind.OFFROAD]
