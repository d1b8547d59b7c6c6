"""Sensor rigs: firing rates, held readings, seeded streams, presets and located YAML errors."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from simcore.scenario.errors import ScenarioError
from simcore.sensors.imu import Imu
from simcore.sensors.presets import load_rig_file, preset_catalog
from simcore.sensors.rig import SensorRig
from simcore.sensors.scene import Scene, set_ground
from simcore.state import WorldState


class Counter:
    """A sensor that returns how many times it fired and the time it was asked at."""

    kind = "counter"

    def __init__(self, name: str, rate_hz: float) -> None:
        self.name, self.rate_hz, self.count = name, rate_hz, 0

    def measure(self, scene, world, t):
        self.count += 1
        return (self.count, t)


def _world(n: int = 3) -> SimpleNamespace:
    s = WorldState.zeros(n)
    s.active[:] = True
    s.x[:] = np.arange(n) * 10.0
    s.speed[0] = 5.0
    p = {k: np.full(n, v) for k, v in (("length", 4.5), ("width", 1.8), ("height", 1.5), ("wheelbase", 2.7))}
    p["center_offset"] = np.full(n, 1.4)
    return SimpleNamespace(state=s, ego=0, params=p, grade=np.zeros(n))


def _scene() -> Scene:
    sc = Scene()
    set_ground(sc, -50.0, -50.0, 0.5, np.zeros((201, 201)), np.ones((201, 201), dtype=np.int8))
    return sc


def test_sensors_fire_at_their_own_rates_and_hold_their_last_reading():
    fast, slow, odd = Counter("fast", 100.0), Counter("slow", 10.0), Counter("odd", 3.0)
    rig = SensorRig([fast, slow, odd])
    w, sc = _world(), _scene()
    seen = {}
    for k in range(101):  # 0 .. 1.0 s at 10 ms
        out = rig.poll(w, k * 0.01, scene=sc)
        seen.setdefault(out["slow"].time, out["slow"].data)
        if k == 15:
            # 10 Hz sensor polled at 0.15 s: the reading of 0.1 s with its own timestamp
            assert out["slow"].time == pytest.approx(0.1) and out["slow"].data == (2, pytest.approx(0.1))
            assert out["fast"].time == pytest.approx(0.15)
    assert fast.count == 101 and slow.count == 11 and odd.count == 4  # odd: t = 0, 1/3, 2/3, 1
    assert sorted(seen) == pytest.approx([k * 0.1 for k in range(11)])
    # polled every 0.05 s a 100 Hz sensor fires once per poll, not 5 times
    f2 = Counter("f2", 100.0)
    rig = SensorRig([f2])
    for k in range(10):
        rig.poll(w, k * 0.05, scene=sc)
    assert f2.count == 10


def test_readings_carry_name_kind_and_a_missing_entry_before_the_first_firing():
    rig = SensorRig([Counter("a", 10.0)])
    assert rig.poll(_world(), 0.0, scene=_scene())["a"].kind == "counter"
    with pytest.raises(ValueError, match="duplicate"):
        SensorRig([Counter("a", 10.0), Counter("a", 5.0)])


def _run(rig: SensorRig, steps: int = 30) -> list:
    w, sc = _world(), _scene()
    out = []
    for k in range(steps):
        w.state.x[0] = 0.5 * k
        r = rig.poll(w, k * 0.01, scene=sc)
        out.append((r["imu"].data.accel.copy(), r["gnss"].data.position.copy(), r["objects"].data.objects.copy()))
    return out


def _specs(extra: bool = False) -> list[dict]:
    specs = [
        {"name": "imu", "type": "imu", "rate_hz": 100, "accel_noise_density_ug_sqrt_hz": 200, "gyro_arw_deg_sqrt_h": 1},
        {"name": "gnss", "type": "gnss", "rate_hz": 10, "sigma_h_m": 1.0, "bias_random_walk": 0.1},
        {"name": "objects", "type": "objects", "rate_hz": 10, "pos_sigma_m": 0.2, "false_positive_rate": 1.0},
    ]
    if extra:
        specs.insert(0, {"name": "imu2", "type": "imu", "rate_hz": 50, "accel_noise_density_ug_sqrt_hz": 300})
    return specs


def _same(a: list, b: list) -> bool:
    return all(
        np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) and x[2].tobytes() == y[2].tobytes()
        for x, y in zip(a, b, strict=True)
    )


def test_reruns_are_bit_identical_and_streams_are_per_sensor():
    a = _run(SensorRig.from_specs(_specs(), seed=4, variant=1))
    b = _run(SensorRig.from_specs(_specs(), seed=4, variant=1))
    assert _same(a, b)
    assert not _same(a, _run(SensorRig.from_specs(_specs(), seed=5, variant=1)))
    assert not _same(a, _run(SensorRig.from_specs(_specs(), seed=4, variant=2)))
    # adding a sensor leaves the others' draws unchanged (streams keyed by sensor name)
    assert _same(a, _run(SensorRig.from_specs(_specs(extra=True), seed=4, variant=1)))
    # reset restarts every stream
    rig = SensorRig.from_specs(_specs(), seed=4, variant=1)
    _run(rig)
    rig.reset(4, 1)
    assert _same(a, _run(rig))


def test_rig_accepts_sensor_objects_and_mappings():
    rig = SensorRig.from_specs([Imu(name="mine"), {"name": "g", "type": "gnss", "rate_hz": 1}])
    assert [s.name for s in rig.sensors] == ["mine", "g"]


def test_every_preset_loads_and_builds():
    cat = preset_catalog()
    assert {"perception_basic", "camera_lidar", "full_rig"} <= set(cat)
    for name, path in cat.items():
        rig_file, sensors = load_rig_file(path)
        assert rig_file.name == name and len(sensors) == len(rig_file.sensors)
        rig = SensorRig.from_preset(name, seed=1)
        assert all(s.rate_hz > 0 for s in rig.sensors)
    with pytest.raises(KeyError, match="did you mean"):
        SensorRig.from_preset("perception_basik")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.yaml"
    p.write_text(text)
    return p


def test_yaml_errors_name_file_line_and_column(tmp_path):
    p = _write(
        tmp_path, "bad",
        "name: bad\nsensors:\n  - name: cam\n    type: camera\n    rate_hz: 10\n    widht: 640\n"
        "  - name: imu\n    type: imu\n    rate_hz: -5\n",
    )  # fmt: skip
    with pytest.raises(ScenarioError) as err:
        load_rig_file(p)
    text = str(err.value)
    assert f"{p}:6:5" in text and "widht" in text and "width" in text  # did-you-mean
    assert f"{p}:9:14" in text and "rate_hz" in text
    p = _write(tmp_path, "bad2", "name: bad2\nsensors:\n  - name: x\n    type: sonar\n    rate_hz: 1\n")
    with pytest.raises(ScenarioError, match=r"bad2.yaml:4:11"):
        load_rig_file(p)
    p = _write(tmp_path, "dup", "name: dup\nsensors:\n  - {name: a, type: gnss, rate_hz: 1}\n"
               "  - {name: a, type: imu, rate_hz: 1}\n")  # fmt: skip
    with pytest.raises(ScenarioError, match=r"dup.yaml:4:12: sensors\[1\]\.name: duplicate sensor name"):
        load_rig_file(p)
    p = _write(tmp_path, "tag", "name: tag\nsensors: !!python/object:os.system {}\n")
    with pytest.raises(ScenarioError, match=r"tag\.yaml:2"):
        load_rig_file(p)
    p = _write(tmp_path, "stem", "name: other\nsensors:\n  - {name: a, type: gnss, rate_hz: 1}\n")
    with pytest.raises(ScenarioError, match=r"stem\.yaml:1:7: name: expected the file's stem"):
        load_rig_file(p)


def test_full_rig_on_a_built_scenario():
    from simcore.api import simulation
    from simcore.sensors.scene import SemanticClass

    sim = simulation("urban/signalized_intersection", seed=3)
    rig = SensorRig.from_preset("full_rig", seed=3)
    readings = []
    for _ in range(3):
        readings.append(rig.poll(sim.world, sim.t))
        sim.step()
    first = readings[0]
    assert set(first) == {s.name for s in rig.sensors}
    cam = first["front_camera"].data
    assert cam.depth.shape == (360, 640) and np.isfinite(cam.depth).any()
    assert (cam.semantic == SemanticClass.ROAD).any()
    imu = first["imu"].data
    assert abs(imu.accel[2] - 9.80665) < 0.5
    ego = sim.world.ego
    assert ego not in first["objects"].data.objects["id"]
    assert first["lidar_top"].data.size > 0


def test_lidar_and_radar_keys_are_checked_by_their_configs(tmp_path):
    p = _write(
        tmp_path, "ext",
        "name: ext\nsensors:\n  - name: l\n    type: lidar\n    rate_hz: 10\n    channls: 3\n"
        "  - name: r\n    type: radar\n    rate_hz: 20\n    fov_azimuth_deg: 90\n",
    )  # fmt: skip
    with pytest.raises(ScenarioError, match=r"ext\.yaml:6:5: sensors\[0\]\.channls: .*channels"):
        load_rig_file(p)  # located at the key, with a did-you-mean
    p.write_text("name: ext\nsensors:\n  - {name: r, type: radar, rate_hz: 20, fov_azimuth_deg: 90}\n")
    (radar,) = load_rig_file(p)[1]
    assert radar.kind == "radar" and radar.rate_hz == 20.0 and radar.inner.config.rate_hz == 20.0


def test_lidar_and_radar_errors_are_located_at_their_key(tmp_path):
    # Types and presets by the rig schema (pydantic), ranges by the configs' own checks: each error
    # points at the line and column of the key at fault, with its key path.
    cases = [
        ("    fov_azimuth_deg: 400\n", "radar", r":6:22: sensors\[0\]\.fov_azimuth_deg: sensor 's': .*\(0, 360\]"),
        ("    channels: many\n", "lidar", r":6:15: sensors\[0\]\.channels: .*integer"),
        ("    preset: os2_512\n", "lidar", r":6:13: sensors\[0\]\.preset: .*os1_64"),
        ("    range_min_m: 50\n    range_max_m: 10\n", "radar", r":7:18: sensors\[0\]\.range_max_m: .*min < max"),
    ]
    for body, kind, pattern in cases:
        p = _write(tmp_path, "loc", f"name: loc\nsensors:\n  - name: s\n    type: {kind}\n    rate_hz: 10\n{body}")
        with pytest.raises(ScenarioError, match=r"loc\.yaml" + pattern):
            load_rig_file(p)


def test_a_rig_needs_a_carrier():
    w = _world()
    w.ego = -1
    with pytest.raises(ValueError, match="no ego"):
        SensorRig([Counter("a", 10.0)]).poll(w, 0.0, scene=_scene())
    assert SensorRig([Counter("a", 10.0)], row=1).poll(w, 0.0, scene=_scene())["a"].data == (1, 0.0)
