"""Units change once, at the file boundary: km/h and degrees in YAML, SI (m/s, rad) in every object below.

Expected values are hand conversions (1 km/h = 1/3.6 m/s, 1 deg = pi/180 rad) of the numbers written
in the files, checked on what the loaders hand to the engine: the vehicle's SI parameters, the built
world's state and limits, and the sensor rig's mounts and configs.
"""

from __future__ import annotations

import json
import math

import pytest
import yaml

from simcore.dynamics.params import get_vehicle, load_vehicle_file
from simcore.sensors.presets import load_rig_file

SCENARIO = """\
simcore: 1
name: units-fixture
seed: 1
map:
  generate: intersection
  lanes_per_direction: 1
  arm_length: 120
  speed_limit_kph: 54
  crosswalks: false
ego:
  vehicle: sedan
  start: {lane: south_in_1, s: 20, speed_kph: 36}
  route: {to: north_out_1}
end: {timeout_s: 5, ego_reaches_goal: false}
"""


def test_vehicle_file_km_h_and_degrees_become_m_s_and_radians(tmp_path):
    data = json.loads(get_vehicle("sedan").model_dump_json()) | {
        "name": "mine",
        "max_speed_kph": 180,
        "max_steer_deg": 30,
        "max_steer_rate_deg_s": 90,
    }
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if v is not None}))
    p = load_vehicle_file(path).si()
    assert p.max_speed == pytest.approx(50.0, rel=1e-15)  # 180 km/h
    assert p.max_steer == pytest.approx(math.pi / 6, rel=1e-15)  # 30 deg
    assert p.max_steer_rate == pytest.approx(math.pi / 2, rel=1e-15)  # 90 deg/s


def test_scenario_speeds_reach_the_engine_in_m_s(tmp_path):
    from simcore.scenario.build import build_world
    from simcore.scenario.loader import load_scenario

    path = tmp_path / "units.yaml"
    path.write_text(SCENARIO)
    world = build_world(load_scenario(path))
    ego = world.ego
    assert world.state.speed[ego] == pytest.approx(10.0, rel=1e-12)  # 36 km/h
    sedan = get_vehicle("sedan")
    assert world.params["max_speed"][ego] == pytest.approx(sedan.max_speed_kph / 3.6, rel=1e-15)
    assert world.params["max_steer"][ego] == pytest.approx(math.radians(sedan.max_steer_deg), rel=1e-15)
    assert world.network.lane_speed_limit.max() == pytest.approx(15.0, rel=1e-12)  # 54 km/h on the roads


def test_rig_file_degrees_become_radians(tmp_path):
    path = tmp_path / "deg.yaml"
    path.write_text(
        "name: deg\nsensors:\n"
        "  - {name: cam, type: camera, rate_hz: 10, mount: {x: 1, z: 1.5, yaw_deg: 90, pitch_deg: -30}}\n"
        "  - {name: r, type: radar, rate_hz: 20, mount: {roll_deg: 45}}\n"
    )
    _, (cam, radar) = load_rig_file(path)
    assert (cam.mount.x, cam.mount.z) == (1.0, 1.5)
    assert cam.mount.yaw == pytest.approx(math.pi / 2, rel=1e-15)
    assert cam.mount.pitch == pytest.approx(-math.pi / 6, rel=1e-15)
    assert radar.mount.roll == pytest.approx(math.pi / 4, rel=1e-15)
    assert radar.inner.config.mount == radar.mount  # one Mount (radians) from the file to the sensor
