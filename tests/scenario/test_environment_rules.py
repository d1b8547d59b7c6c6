"""Environment (weather, time of day, wet-road friction), rule sets and speed zones, and loading safety."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.rules import GENERIC, KOREA
from simcore.rules.zones import world_rules
from simcore.scenario.build import build_world
from simcore.scenario.environment import WET_AT_MM_H, world_environment
from simcore.scenario.errors import ScenarioError
from simcore.scenario.loader import load_scenario

KPH = 1 / 3.6

HEAD = """\
simcore: 1
name: env
map: {generate: intersection, speed_limit_kph: 50}
ego:
  start: {lane: south_in_2, s: 10}
  route: {to: north_out_2}
actors:
  - id: walker
    type: pedestrian
    start: {crosswalk: north, side: west}
"""


def _world(tmp_path: Path, extra: str, **kw):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + extra, encoding="utf-8")
    return build_world(load_scenario(path, **kw))


@pytest.mark.parametrize(("rain", "mu"), [(0.0, 1.0), (1.25, 0.85), (2.5, 0.7), (20.0, 0.7)])
def test_rain_wets_the_road_when_no_friction_is_given(tmp_path: Path, rain: float, mu: float) -> None:
    w = _world(tmp_path, f"environment: {{weather: {{rain_mm_h: {rain}}}}}\n")
    assert WET_AT_MM_H == 2.5
    assert world_environment(w).friction == pytest.approx(mu)
    assert np.allclose(w.routes.friction[w.routes.start[0] : w.routes.start[1]], mu)
    assert w.friction[0] == pytest.approx(mu)


def test_explicit_friction_wins_over_rain(tmp_path: Path) -> None:
    w = _world(tmp_path, "environment: {friction: 0.9, weather: {rain_mm_h: 10, fog_visibility_m: 80}}\n")
    env = world_environment(w)
    assert (env.friction, env.rain_mm_h, env.fog_visibility_m) == (0.9, 10.0, 80.0)


@pytest.mark.parametrize(
    ("extra", "hours", "night"),
    [
        ("", 12.0, False),
        ("environment: {time_of_day: '21:30'}\n", 21.5, True),
        ("environment: {time_of_day: '05:59'}\n", 5 + 59 / 60, True),
        ("environment: {time_of_day: '06:00'}\n", 6.0, False),
        ("environment: {time_of_day: '18:59'}\n", 18 + 59 / 60, False),
        ("environment: {time_of_day: '12:00', night: true}\n", 12.0, True),
    ],
)
def test_time_of_day_and_night(tmp_path: Path, extra: str, hours: float, night: bool) -> None:
    env = world_environment(_world(tmp_path, extra))
    assert env.time_of_day_h == pytest.approx(hours) and env.night is night


def test_korea_school_zone_lowers_lane_and_route_limits(tmp_path: Path) -> None:
    w = _world(tmp_path, "rules: korea\nzones:\n  - {kind: school, lanes: [south_in_2]}\n")
    net = w.network
    lane = net.lane_id("south_in_2")
    assert net.lane_speed_limit[lane] == pytest.approx(30 * KPH)
    assert net.lane_speed_limit[net.lane_id("south_in_1")] == pytest.approx(50 * KPH)
    path = w.routes.paths[0]
    r = w.routes
    lim = r.speed_limit[r.start[0] : r.start[1]]
    assert np.allclose(lim[path.lane == lane], 30 * KPH)
    assert np.allclose(lim[path.lane == net.lane_id("north_out_2")], 50 * KPH)
    rules = world_rules(w)
    assert rules.rules is KOREA
    assert rules.right_on_red.tolist() == [True, False]  # the ego may, the walker is no vehicle


def test_generic_rules_and_adjustments(tmp_path: Path) -> None:
    assert world_rules(_world(tmp_path, "")).rules is GENERIC
    assert world_rules(_world(tmp_path, "")).right_on_red.tolist() == [False, False]
    w = _world(
        tmp_path,
        "rules: {base: generic, right_turn_on_red: true, residential_kph: 20}\n"
        "zones: [{kind: residential, lanes: [south_in_2]}]\n",
    )
    assert world_rules(w).right_on_red.tolist() == [True, False]
    assert w.network.lane_speed_limit[w.network.lane_id("south_in_2")] == pytest.approx(20 * KPH)


def test_polygon_zone_takes_the_lanes_whose_midpoint_is_inside(tmp_path: Path) -> None:
    plain = _world(tmp_path, "").network.lane_speed_limit
    # a box over the south arm only (x in [-20, 20], y in [-200, -12])
    w = _world(tmp_path, "zones: [{kind: school, polygon: [[-20, -200], [20, -200], [20, -12], [-20, -12]]}]\n")
    net = w.network
    n_inside = 0
    for lane, name in enumerate(net.lane_names):
        x, y, s = net.lane_points(lane)
        mx, my = np.interp(s[-1] / 2, s, x), np.interp(s[-1] / 2, s, y)
        inside = -20 < mx < 20 and -200 < my < -12
        n_inside += inside
        want = min(plain[lane], 30 * KPH) if inside else plain[lane]
        assert net.lane_speed_limit[lane] == pytest.approx(want), name
    assert n_inside >= 4


def test_a_zone_never_raises_a_limit(tmp_path: Path) -> None:
    w = _world(tmp_path, "zones: [{kind: urban, limit_kph: 80, lanes: [south_in_2]}]\n")
    assert w.network.lane_speed_limit[w.network.lane_id("south_in_2")] == pytest.approx(50 * KPH)


# ----------------------------------------------------------------------------- loading safety

MAP_SCENARIO = """\
simcore: 1
name: map-file
map: {{file: {file}}}
ego:
  start: {{lane: "0:0:-1", s: 10}}
  route: {{to: "0:0:-1"}}
"""
RAMP = Path(__file__).parents[1] / "data" / "ramp.xodr"


def test_map_outside_the_scenario_folder_is_refused_unless_allowed(tmp_path: Path) -> None:
    scen = tmp_path / "scen"
    scen.mkdir()
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "ramp.xodr").write_bytes(RAMP.read_bytes())
    path = scen / "s.yaml"
    path.write_text(MAP_SCENARIO.format(file="../maps/ramp.xodr"), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        build_world(load_scenario(path))
    (issue,) = err.value.issues
    assert (issue.line, issue.col, issue.path) == (3, 13, "map.file")
    assert "outside the scenario's folder" in issue.message and "--allow-path" in issue.message
    assert build_world(load_scenario(path, allow_paths=[maps])).network is not None
    assert build_world(load_scenario(path, root=tmp_path)).network is not None
    # an absolute path is held to the same rule
    path.write_text(MAP_SCENARIO.format(file=str(maps / "ramp.xodr")), encoding="utf-8")
    with pytest.raises(ScenarioError):
        build_world(load_scenario(path))


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    scen = tmp_path / "scen"
    scen.mkdir()
    outside = tmp_path / "ramp.xodr"
    outside.write_bytes(RAMP.read_bytes())
    (scen / "ramp.xodr").symlink_to(outside)
    path = scen / "s.yaml"
    path.write_text(MAP_SCENARIO.format(file="ramp.xodr"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="outside the scenario's folder"):
        build_world(load_scenario(path))
    (scen / "inside.xodr").write_bytes(RAMP.read_bytes())
    path.write_text(MAP_SCENARIO.format(file="inside.xodr"), encoding="utf-8")
    assert build_world(load_scenario(path)).network is not None
