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


def _alone(agent):
    """The rear-end fixture without the lead vehicle, as (world, loaded) ready for a Simulation."""
    from simcore.scenario.build import build_world
    from simcore.scenario.loader import load_scenario

    loaded = load_scenario(REAR_END)
    world = build_world(loaded)
    lead = world.actor_ids.index("lead")
    world.state.active[lead] = False
    world.initial.active[lead] = False
    return world, loaded


def test_driving_against_the_lane_direction_matches_a_numpy_reference():
    from simcore.evaluation import leaderboard as lb
    from simcore.runner.loop import Simulation

    world, loaded = _alone(None)
    e = world.ego
    world.initial.yaw[e] += math.pi  # turned around on its lane, rolling at 20 km/h
    sim = Simulation(world, Throttle(1.0), end=loaded.spec.end)
    res = sim.run()
    ww = [ev for ev in res.events if ev.kind == EventKind.WRONG_WAY]
    assert len(ww) == 1 and ww[0].time == pytest.approx(res.dt)
    # Reference: box centre within half width of a driving-lane segment, heading > 90 deg off all of them.
    g, tr = world.drivable, res.trajectory
    co = world.params["center_offset"][e]
    dist = 0.0
    for r in range(1, tr["time"].size):
        yaw = tr["yaw"][r, e]
        px, py = tr["x"][r, e] + co * math.cos(yaw), tr["y"][r, e] + co * math.sin(yaw)
        dx, dy = g.bx - g.ax, g.by - g.ay
        u = np.clip(((px - g.ax) * dx + (py - g.ay) * dy) / (dx * dx + dy * dy), 0, 1)
        near = np.hypot(g.ax + u * dx - px, g.ay + u * dy - py) <= g.half_width
        along = dx * math.cos(yaw) + dy * math.sin(yaw) > 0
        if near.any() and not (near & along).any():
            dist += tr["speed"][r, e] * res.dt
    assert dist > 6.0
    assert res.metrics["wrong_way_distance_m"] == pytest.approx(dist, rel=1e-9)
    assert res.metrics["max_wrong_way_run_m"] == pytest.approx(dist, rel=1e-9)
    assert lb.nuplan_terms(lb.summary_from_result(res), res.metrics)["driving_direction_compliance"] == 0.0


def test_hitting_a_static_object_is_a_collision_with_fault_and_penalty():
    import dataclasses

    from simcore.evaluation import leaderboard as lb
    from simcore.runner.loop import Simulation

    world, loaded = _alone(None)
    e = world.ego
    x0, y0, h = world.initial.x[e], world.initial.y[e], world.initial.yaw[e]
    # a 1 m x 4 m barrier across the lane, 30 m ahead of the ego's rear axle
    cx, cy = x0 + 30 * math.cos(h), y0 + 30 * math.sin(h)
    ux, uy, nx, ny = math.cos(h), math.sin(h), -math.sin(h), math.cos(h)
    corners = [(a * 0.5, b * 2.0) for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    ox = np.array([cx + a * ux + b * nx for a, b in corners])
    oy = np.array([cy + a * uy + b * ny for a, b in corners])
    world.network = dataclasses.replace(
        world.network,
        obj_names=("barrier1",),
        obj_kinds=("barrier",),
        obj_start=np.array([0, 4]),
        obj_x=ox,
        obj_y=oy,
        obj_height=np.array([1.0]),
    )
    sim = Simulation(world, Throttle(1.0), end=loaded.spec.end)
    res = sim.run()
    coll = [ev for ev in res.events if ev.kind == EventKind.COLLISION]
    assert len(coll) == 1
    ev = coll[0]
    assert ev.actors == ("ego", "static:barrier1") and ev.at_fault == ("ego",)
    assert "barrier" in ev.detail
    tr = res.trajectory
    k = int(np.searchsorted(tr["time"], ev.time))
    assert ev.value == pytest.approx(tr["speed"][k, e])
    # the front bumper reached the barrier's near face (29.5 m ahead) in that step
    front = world.params["length"][e] - world.params["rear_overhang"][e]
    ahead = [(tr["x"][r, e] - x0) * ux + (tr["y"][r, e] - y0) * uy + front for r in (k - 1, k)]
    assert ahead[0] < 29.5 <= ahead[1]
    assert res.metrics["collisions_static"] == 1 and res.metrics["collisions_at_fault"] == 1
    rc = res.metrics["route_completion"]
    red = PENALTIES["red_light"] ** res.metrics["red_lights"]
    assert res.score == pytest.approx(100 * rc * PENALTIES["collision_static"] * red)
    assert res.scores[lb.CARLA_LB2] == pytest.approx(100 * rc * 0.65 * 0.7 ** res.metrics["red_lights"])
    assert res.scores[lb.NAVSIM_PDMS] <= 0.5
