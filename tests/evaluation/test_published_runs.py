"""The post-run CARLA criteria and the Euro NCAP points on real runs (catalog scenarios and a fixture)."""

import json
from pathlib import Path

import pytest

from simcore.api import simulation
from simcore.evaluation import leaderboard as lb

ROOT = Path(__file__).parents[2]
EV_BEHIND = ROOT / "tests" / "data" / "emergency_behind.yaml"


def _slow_terms(m):
    slow = [m[f"min_speed_pct_{i}"] for i in range(1, 5) if m[f"min_speed_pct_{i}"] < 100]
    return slow


def test_ego_not_letting_the_ambulance_pass_is_an_infraction():
    res = simulation(EV_BEHIND, "autopilot").run()
    m = res.metrics
    assert m["yield_emergency_vehicle_infractions"] == 1
    assert m["scenario_timeouts"] == 0 and m["carla_collisions_vehicle"] == 0
    slow = _slow_terms(m)
    rc = m["carla_route_completion"]
    expect21 = 100 * rc * (1 - m["outside_route_lanes_pct"] / 100) / (1 + 0.4 + sum(0.4 * (1 - p / 100) for p in slow))
    assert res.scores[lb.CARLA_LB21] == pytest.approx(expect21, abs=1e-5)
    factor20 = 0.7
    for p in slow:
        factor20 *= 1 - 0.3 * (1 - p / 100)
    assert res.scores[lb.CARLA_LB2] == pytest.approx(
        100 * rc * factor20 * (1 - m["outside_route_lanes_pct"] / 100), abs=1e-5
    )
    assert lb.scores_for(res) == res.scores  # result.json carries every input


def test_catalog_emergency_vehicle_scenario_yields():
    res = simulation(ROOT / "scenarios" / "urban" / "emergency_vehicle.yaml", "autopilot").run()
    m = res.metrics
    assert res.termination == "goal_reached"
    assert m["yield_emergency_vehicle_infractions"] == 0  # the ambulance ends ahead of the ego
    assert m["outside_route_lanes_pct"] == 0.0 and m["carla_route_deviation"] == 0
    assert m["min_speed_infractions"] == 0 and min(m[f"min_speed_pct_{i}"] for i in range(1, 5)) >= 100
    assert res.scores[lb.CARLA_LB21] == 100.0 and res.scores[lb.CARLA_LB2] == 100.0
    assert m["nuplan_comfortable"] in (0, 1)
    assert (m["nuplan_comfortable"] == 1) == (
        m["nuplan_max_abs_lon_accel_mps2"] < 4.05
        and m["nuplan_max_abs_jerk_mps3"] < 8.37
        and m["nuplan_max_abs_lon_jerk_mps3"] < 4.13
        and m["nuplan_max_abs_yaw_rate_radps"] < 0.95
        and m["nuplan_max_abs_yaw_accel_radps2"] < 1.93
        and m["nuplan_max_abs_lat_accel_mps2"] < 4.89
    )


def test_ncap_ccrs_run_reports_colour_and_points(tmp_path):
    # variant: vut_speed_kph x target_offset_m sweep; 40 km/h with full overlap
    sim = simulation(
        ROOT / "scenarios" / "ncap" / "ccrs.yaml", "autopilot", overrides={"vut_speed_kph": 40, "target_offset_m": 0.0}
    )
    res = sim.run()
    aeb = res.regulation["euro_ncap_aeb"]
    assert aeb["test_type"] == "CCRs" and aeb["test_speed_kph"] == pytest.approx(40.0)
    if aeb["avoided"]:
        assert (aeb["colour"], aeb["points"]) == ("green", 1.0)
    else:
        assert aeb["points"] in (0.5, 0.25, 0.0)
    res.write_json(tmp_path / "result.json")
    assert json.loads((tmp_path / "result.json").read_text())["regulation"]["euro_ncap_aeb"]["colour"] == aeb["colour"]
