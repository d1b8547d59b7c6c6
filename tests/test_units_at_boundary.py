"""Units change once, at the file boundary: km/h and degrees in YAML, SI (m/s, rad) in every object below.

Expected values are hand conversions (1 km/h = 1/3.6 m/s, 1 deg = pi/180 rad) of the numbers written
in the files, checked on what the loaders hand to the engine: the vehicle's SI parameters, the built
world's state and limits, and the sensor rig's mounts and configs.
"""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import simcore
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


def test_rig_file_angles_of_every_sensor_type_become_radians(tmp_path):
    """Lidar, radar, camera, object-list and GNSS angles in the file (deg) are radians in the sensor."""
    path = tmp_path / "angles.yaml"
    path.write_text(
        "name: angles\nsensors:\n"
        "  - {name: l, type: lidar, rate_hz: 10, channels: 4, vertical_fov_deg: [-10, 20],\n"
        "     horizontal_fov_deg: 120, horizontal_resolution_deg: 0.5}\n"
        "  - {name: l2, type: lidar, rate_hz: 10, elevations_deg: [-2, 0, 4]}\n"
        "  - {name: r, type: radar, rate_hz: 20, fov_azimuth_deg: 60, fov_elevation_deg: 18,\n"
        "     azimuth_resolution_deg: 3, azimuth_noise_deg: 0.9, elevation_noise_deg: 1.8}\n"
        "  - {name: c, type: camera, rate_hz: 10, width: 200, height: 100, hfov_deg: 90}\n"
        "  - {name: o, type: objects, rate_hz: 10, fov_deg: 45}\n"
        "  - {name: g, type: gnss, rate_hz: 10, sigma_heading_deg: 0.5}\n"
    )
    _, (lidar, lidar2, radar, cam, objects, gnss) = load_rig_file(path)
    lc = lidar.inner.config
    assert lc.vertical_fov == pytest.approx((-math.pi / 18, math.pi / 9), rel=1e-15)
    assert lc.horizontal_fov == pytest.approx(2 * math.pi / 3, rel=1e-15)
    assert lc.horizontal_resolution == pytest.approx(math.pi / 360, rel=1e-15)
    assert lc.n_columns == 240  # 120 deg / 0.5 deg
    assert lidar2.inner.config.channel_elevations.tolist() == pytest.approx([-math.pi / 90, 0.0, math.pi / 45])
    rc = radar.inner.config
    assert (rc.fov_azimuth, rc.fov_elevation) == pytest.approx((math.pi / 3, math.pi / 10), rel=1e-15)
    assert (rc.azimuth_resolution, rc.azimuth_noise, rc.elevation_noise) == pytest.approx(
        (math.pi / 60, math.pi / 200, math.pi / 100), rel=1e-15
    )
    assert cam.intrinsics.fx == pytest.approx(100.0, rel=1e-12)  # (200 / 2) / tan(45 deg)
    assert objects.fov == pytest.approx(math.pi / 4, rel=1e-15)
    assert gnss.sigma_heading == pytest.approx(math.pi / 360, rel=1e-15)


# -- below the loaders, only SI -----------------------------------------------------------------
PKG = Path(simcore.__file__).parent
#: Names that carry a non-SI unit: km/h, mph, degrees (and deg/s, deg/h, ...).
NON_SI_NAME = re.compile(r"_(kph|kmh|mph|deg)(_|$)")
#: Modules allowed to hold non-SI names: the loaders of files (their keys are what users write),
#: and outputs whose unit a published protocol fixes. Everything else is below the loaders.
LOADERS = {
    "scenario/schema.py": "scenario file keys (speed_kph, yaw_deg, ...)",
    "dynamics/params.py": "vehicle file keys (max_speed_kph, max_steer_deg, ...)",
    "road/yaml_roads.py": "YAML road file keys (speed_limit_kph, heading_deg)",
    "sensors/presets.py": "sensor-rig file keys (hfov_deg, mount roll/pitch/yaw_deg, ...)",
    "sensors/mount.py": "Mount.from_deg, the rig loaders' constructor from a file's degrees",
    "cueing/platform.py": "motion-platform file keys (max_angle_deg, ...)",
    "drive/inputs.py": "input-device settings (wheel_range_deg, as wheel makers quote it)",
    "evaluation/ncap_points.py": "Euro NCAP colour bands, which the protocol states in km/h",
}


def _py_modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "data" not in p.relative_to(PKG).parts)


def _non_si_names(tree: ast.AST) -> set[str]:
    """Function parameters and annotated fields (dataclass / pydantic) whose name has a non-SI unit."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and NON_SI_NAME.search(node.arg):
            out.add(node.arg)
        elif (
            isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and NON_SI_NAME.search(node.target.id)
        ):
            out.add(node.target.id)
    return out


def _unit_factors(tree: ast.AST) -> list[str]:
    """Unit factors written out: x * 3.6, x / 3.6, x / 180 (with pi), and math/np radians/degrees calls."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and side.value in (3.6, 1 / 3.6, 180, 0.44704):
                    out.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Attribute) and node.attr in ("radians", "degrees", "deg2rad", "rad2deg"):
            out.append(f"line {node.lineno}: {ast.unparse(node)}")
    return out


def test_no_module_below_the_loaders_holds_a_km_h_or_degree_field():
    bad = []
    for path in _py_modules():
        rel = path.relative_to(PKG).as_posix()
        if rel not in LOADERS:
            names = _non_si_names(ast.parse(path.read_text()))
            bad += [f"{rel}: {n}" for n in sorted(names)]
    assert not bad, "non-SI names below the loaders (convert in the loader with simcore.units):\n" + "\n".join(bad)


#: The one module that writes unit factors.
FACTOR_EXCEPTIONS = {"units.py"}


def test_unit_factors_are_written_only_in_simcore_units():
    bad = []
    for path in _py_modules():
        rel = path.relative_to(PKG).as_posix()
        if rel not in FACTOR_EXCEPTIONS:
            bad += [f"{rel}: {f}" for f in _unit_factors(ast.parse(path.read_text()))]
    assert not bad, "unit factors outside simcore/units.py:\n" + "\n".join(bad)


def test_the_scans_see_what_they_forbid():
    tree = ast.parse(
        "from dataclasses import dataclass\n@dataclass\nclass C:\n    fov_deg: float = 1.0\n"
        "def f(v_kph, rate_deg_s, speed):\n    return v_kph / 3.6 + math.radians(rate_deg_s) + speed * 3.6\n"
    )
    assert _non_si_names(tree) == {"fov_deg", "v_kph", "rate_deg_s"}
    assert len(_unit_factors(tree)) == 3
    assert not _non_si_names(ast.parse("def g(speed, yaw, range_m, dose_kphz): pass"))


# -- simcore.units ----------------------------------------------------------------------------------
def test_speed_conversions_against_exact_fractions():
    from fractions import Fraction

    from simcore.units import kph_to_mps, mps_to_kph

    for v in (0.0, 1.0, 30.0, 35.0, 50.0, 54.0, 130.0, 182.88, 1e-3, 1234.5):
        exact = Fraction(v) * 1000 / 3600  # 1 km/h = 1000 m / 3600 s
        assert abs(Fraction(kph_to_mps(v)) - exact) <= abs(exact) * Fraction(2, 2**53), v
        assert mps_to_kph(kph_to_mps(v)) == pytest.approx(v, rel=1e-15, abs=0.0)
    arr = np.array([36.0, 72.0, 90.0])
    np.testing.assert_array_equal(kph_to_mps(arr), [kph_to_mps(float(x)) for x in arr])
    assert kph_to_mps(36.0) == pytest.approx(10.0, rel=1e-15) and mps_to_kph(10.0) == 36.0


def test_angle_conversions_equal_math_and_numpy_bit_for_bit():
    from simcore.units import deg_to_rad, rad_to_deg

    vals = np.linspace(-720.0, 720.0, 2881)
    assert all(deg_to_rad(float(a)) == math.radians(a) for a in vals)
    assert all(rad_to_deg(float(a)) == math.degrees(a) for a in vals)
    np.testing.assert_array_equal(deg_to_rad(vals), np.radians(vals))
    assert deg_to_rad(180.0) == math.pi and deg_to_rad(90.0) == math.pi / 2 and deg_to_rad(360.0) == 2 * math.pi


def test_datasheet_units():
    from simcore.units import G0_MPS2, deg_per_h_to_rad_per_s, deg_per_sqrt_h_to_rad_per_sqrt_s, ug_to_mps2

    assert ug_to_mps2(1e6) == pytest.approx(G0_MPS2, rel=1e-15)  # 1e6 ug = 1 g
    assert deg_per_sqrt_h_to_rad_per_sqrt_s(60.0) == pytest.approx(math.pi / 180, rel=1e-15)  # sqrt(3600 s) = 60
    assert deg_per_h_to_rad_per_s(3600.0) == pytest.approx(math.pi / 180, rel=1e-15)
