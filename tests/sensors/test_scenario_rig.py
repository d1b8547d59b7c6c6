"""A scenario's ``ego.sensors`` reaches the agent: readings in Observation.sensors, located errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from simcore.agents.builtin.autopilot import Autopilot
from simcore.api import simulation
from simcore.scenario.errors import ScenarioError

BASE = """simcore: 1
name: rig-fixture
seed: 3
dt: 0.05
map: {generate: intersection, lanes_per_direction: 1, arm_length: 60}
ego:
  vehicle: sedan
  start: {lane: south_in_1, s: 10, speed_kph: 20}
  route: {to: north_out_1}
  sensors: SENSORS
actors:
  - {id: lead, vehicle: suv, start: {lane: south_in_1, s: 35, speed_kph: 20}, route: {to: north_out_1}}
end: {timeout_s: 2}
"""


class Recorder(Autopilot):
    """The autopilot through ``act`` (so observations are built) keeping every observation's sensors."""

    in_engine = False

    def reset(self, info):
        super().reset(info)
        self.readings = []

    def act(self, obs):
        self.readings.append((obs.time, dict(obs.sensors)))
        return super().act(obs)


def _scenario(tmp_path: Path, sensors: str) -> Path:
    path = tmp_path / "rig.yaml"
    path.write_text(BASE.replace("SENSORS", sensors))
    return path


def _run(path: Path) -> Recorder:
    agent = Recorder()
    simulation(path, agent, record_every=0).run()
    return agent


def test_preset_rig_readings_reach_the_agent_at_their_rates(tmp_path):
    agent = _run(_scenario(tmp_path, "perception_basic"))
    times = [t for t, _ in agent.readings]
    assert times[0] == 0.0
    first = agent.readings[0][1]
    assert set(first) == {"objects", "gnss", "imu"}
    # The IMU (100 Hz) fires at every 20 Hz step; the GNSS (10 Hz) every other step and is held between.
    for t, readings in agent.readings:
        assert readings["imu"].time == pytest.approx(t)
        assert readings["gnss"].time == pytest.approx(np.floor(t * 10 + 1e-9) / 10)
    # The object list (100 ms latency) reports a frame measured 0.1 s before its reading, and it
    # holds the lead vehicle about 25 m ahead.
    t_last, last = agent.readings[-1]
    frame = last["objects"]
    assert frame.time == pytest.approx(frame.data.stamp)
    assert frame.data.stamp <= t_last - 0.1 + 1e-9
    assert frame.data.objects.size >= 1


def test_sensor_readings_are_bit_identical_across_runs(tmp_path):
    path = _scenario(tmp_path, "perception_basic")
    a, b = _run(path), _run(path)
    for (ta, ra), (tb, rb) in zip(a.readings, b.readings, strict=True):
        assert ta == tb
        for name in ra:
            da, db = ra[name].data, rb[name].data
            arr_a = getattr(da, "objects", da)
            arr_b = getattr(db, "objects", db)
            if isinstance(arr_a, np.ndarray):
                assert arr_a.tobytes() == arr_b.tobytes()
            else:
                assert repr(da) == repr(db)


def test_inline_sensor_list(tmp_path):
    inline = "\n    - {name: front, type: objects, rate_hz: 20, mount: {x: 2.0, z: 1.5}, max_range_m: 80}"
    agent = _run(_scenario(tmp_path, inline))
    assert set(agent.readings[0][1]) == {"front"}


def test_unknown_rig_name_is_located(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        simulation(_scenario(tmp_path, "perception_basik"), "autopilot")
    text = str(exc.value)
    assert "rig.yaml:10:" in text and "perception_basic" in text


def test_bad_inline_sensor_key_is_located(tmp_path):
    inline = "\n    - {name: front, type: objects, rate_hz: 20, max_rang_m: 80}"
    with pytest.raises(ScenarioError) as exc:
        simulation(_scenario(tmp_path, inline), "autopilot")
    assert "rig.yaml:11:" in str(exc.value)


def test_scenario_weather_reaches_the_lidar(tmp_path):
    from simcore.scenario.build import build_world
    from simcore.scenario.loader import load_scenario
    from simcore.sensors.presets import world_weather

    dry = _scenario(tmp_path, "perception_basic")
    assert world_weather(build_world(load_scenario(dry))) is None
    wet = tmp_path / "wet.yaml"
    wet.write_text(
        dry.read_text().replace("end:", "environment: {weather: {rain_mm_h: 10, fog_visibility_m: 200}}\nend:")
    )
    w = world_weather(build_world(load_scenario(wet)))
    assert (w.rain_mm_h, w.fog_visibility_m) == (10.0, 200.0)
    assert w.extinction() > 3.912 / 200.0  # fog alone gives at least the Koschmieder extinction at 550 nm


def test_lidar_ray_limits_are_checked_before_any_sweep(tmp_path):
    from simcore import limits

    # 64 channels x 2048 columns x 20 Hz = 2.62e6 rays per simulated second, 2 actors in the scene
    lidar = "[{name: big, type: lidar, rate_hz: 20, channels: 64, points_per_channel: 2048}]"
    path = _scenario(tmp_path, lidar)
    rig = simulation(path, "autopilot", record_every=0).sensors
    assert rig.lidar_rays_per_s() == 64 * 2048 * 20
    with limits.override(max_lidar_rays_per_s=2e6), pytest.raises(ScenarioError) as err:
        simulation(path, "autopilot", record_every=0)
    assert re.search(r"rig\.yaml:\d+:\d+: ego\.sensors: the lidars cast 2\.62e\+06 rays per simulated second, "
                     r"more than the limit of 2e\+06", str(err.value)), str(err.value)  # fmt: skip
    with limits.override(max_lidar_ray_tests_per_s=5e6), pytest.raises(ScenarioError) as err:
        simulation(path, "autopilot", record_every=0)
    assert "x 2 actors = 5.24e+06 ray tests, more than the limit of 5e+06" in str(err.value)
