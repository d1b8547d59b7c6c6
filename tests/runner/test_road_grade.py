"""Road grade from the map's elevation reaches the single-track model: braking uphill is shorter."""

import math
from pathlib import Path

import numpy as np
import pytest

from simcore.agents.protocol import Control
from simcore.api import simulation

DATA = Path(__file__).parents[1] / "data"
G = 9.81
MU = 0.5
V0 = 50 / 3.6
THETA = math.atan(0.08)  # the fixture climbs 8 % along s
#: Brake actuator ramp-up and the 0.05 s decision step lengthen the stop a little.
RTOL_STOP = 0.10


class FullBrake:
    name = "full-brake"

    def reset(self, info):
        pass

    def act(self, obs):
        return Control(accel=-20.0, steer=0.0)


def _stop_distance(tmp_path: Path, lane: str) -> float:
    scen = tmp_path / f"ramp_{lane.replace(':', '_')}.yaml"
    scen.write_text(
        "simcore: 1\nname: ramp-brake\n"
        f"map: {{file: {DATA / 'ramp.xodr'}}}\n"
        f"environment: {{friction: {MU}}}\n"
        "ego:\n  vehicle: commonroad_bmw_320i\n  dynamics: single_track\n"
        f'  start: {{lane: "{lane}", s: 100, speed_kph: 50}}\n  route: {{to: "{lane}"}}\n'
        "end: {timeout_s: 15, ego_reaches_goal: false}\n"
    )
    sim = simulation(scen, FullBrake(), allow_paths=[DATA])
    res = sim.run()
    tr = res.trajectory
    e = sim.world.ego
    stopped = int(np.argmax(tr["speed"][:, e] < 0.05))
    assert stopped > 0, "never stopped"
    return float(np.hypot(tr["x"][stopped, e] - tr["x"][0, e], tr["y"][stopped, e] - tr["y"][0, e]))


def test_grade_reaches_the_route():
    from simcore.road.lane_graph import route_grade, route_path
    from simcore.road.maps import load_map

    net = load_map(str(DATA / "ramp.xodr"))
    up = route_grade(net, route_path(net, [net.lane_id("0:0:-1")]))
    down = route_grade(net, route_path(net, [net.lane_id("0:0:1")]))
    np.testing.assert_allclose(up, THETA, atol=1e-9)
    np.testing.assert_allclose(down, -THETA, atol=1e-9)


def test_braking_uphill_and_downhill_follows_the_grade(tmp_path):
    up = _stop_distance(tmp_path, "0:0:-1")
    down = _stop_distance(tmp_path, "0:0:1")
    ideal_up = V0**2 / (2 * G * (MU * math.cos(THETA) + math.sin(THETA)))
    ideal_down = V0**2 / (2 * G * (MU * math.cos(THETA) - math.sin(THETA)))
    assert up == pytest.approx(ideal_up, rel=RTOL_STOP)
    assert down == pytest.approx(ideal_down, rel=RTOL_STOP)
    assert down > up * 1.25  # the grade, not noise, separates them
