"""Published driving scores: hand-computed values and the issue's worked examples."""

import math
from pathlib import Path

import pytest

from simcore.evaluation import leaderboard as lb
from simcore.evaluation.events import Event, EventKind
from simcore.evaluation.scoring import EgoSummary
from simcore.runner.results import Result

REAR_END = Path(__file__).parents[1] / "data" / "rear_end.yaml"
CALM = {"max_accel_mps2": 1.0, "max_decel_mps2": 2.0, "max_jerk_mps3": 1.0, "max_lateral_accel_mps2": 1.0}


def _summ(cv=0, cp=0, red=0, off=0, rc=1.0, ttc=math.inf, has_ego=True):
    return EgoSummary(cv, cp, red, off, rc >= 1.0, rc, ttc, 2.0, has_ego)


def test_lb2_worked_example_vehicle_collision_and_red_light():
    s = _summ(cv=1, red=1)
    assert lb.carla_penalty(s) == pytest.approx(0.42)  # 0.6 x 0.7
    scores = lb.all_scores(s, CALM)
    assert scores[lb.CARLA_LB2] == pytest.approx(42.0)
    assert scores[lb.CARLA_LB1] == pytest.approx(42.0)


def test_lb21_worked_example_is_one_over_one_plus_1_1():
    s = _summ(cv=1, red=1)
    assert lb.CARLA_ADDITIVE_WEIGHTS["collision_vehicle"] + lb.CARLA_ADDITIVE_WEIGHTS["red_light"] == pytest.approx(1.1)
    assert lb.all_scores(s, CALM)[lb.CARLA_LB21] == pytest.approx(100 / 2.1, abs=1e-6)


def test_carla_scores_scale_with_route_completion_and_counts():
    s = _summ(cp=1, cv=2, rc=0.5)
    assert lb.carla_driving_score(s) == pytest.approx(50 * 0.5 * 0.6 * 0.6)  # 9.0
    assert lb.carla_additive_driving_score(s) == pytest.approx(50 / (1 + 1.0 + 2 * 0.7))
    clean = _summ(rc=0.8)
    assert lb.carla_driving_score(clean) == pytest.approx(80.0)
    assert lb.carla_additive_driving_score(clean) == pytest.approx(80.0)


def test_additive_weights_are_leaderboard_2_1s():
    # leaderboard-2.1 branch, leaderboard/utils/statistics_manager.py, PENALTY_VALUE_DICT
    assert lb.CARLA_ADDITIVE_WEIGHTS == {
        "collision_pedestrian": 1.0,
        "collision_vehicle": 0.7,
        "collision_static": 0.6,
        "red_light": 0.4,
        "stop_sign": 0.25,
        "scenario_timeout": 0.4,
        "yield_emergency_vehicle": 0.4,
    }
    assert lb.CARLA_LB21_MIN_SPEED == 0.4


def test_no_ego_scores_zero():
    assert all(v == 0.0 for v in lb.all_scores(_summ(has_ego=False), CALM).values())


def test_nuplan_cls_clean_full_route_is_one():
    assert lb.nuplan_cls(_summ(), CALM) == pytest.approx(1.0)


def test_nuplan_cls_hand_computed_cases():
    # progress 0.5, TTC 0.5 s < 0.95 s, comfortable: (5*0.5 + 0 + 4 + 2) / 16
    assert lb.nuplan_cls(_summ(rc=0.5, ttc=0.5), CALM) == pytest.approx(8.5 / 16)
    # TTC exactly at the bound counts as within
    assert lb.nuplan_cls(_summ(rc=0.5, ttc=0.95), CALM) == pytest.approx(13.5 / 16)
    # uncomfortable (jerk 5 > 4.13): (5 + 5 + 4 + 0) / 16
    assert lb.nuplan_cls(_summ(), {**CALM, "max_jerk_mps3": 5.0}) == pytest.approx(14 / 16)
    # braking harder than 4.05 m/s^2 is uncomfortable too
    assert lb.nuplan_cls(_summ(), {**CALM, "max_decel_mps2": 4.2}) == pytest.approx(14 / 16)


def test_nuplan_multipliers_zero_the_score():
    assert lb.nuplan_cls(_summ(cv=1), CALM) == 0.0
    assert lb.nuplan_cls(_summ(off=1), CALM) == 0.0
    assert lb.nuplan_cls(_summ(rc=0.19), CALM) == 0.0  # not making progress
    assert lb.nuplan_cls(_summ(rc=0.2), CALM) == pytest.approx((5 * 0.2 + 11) / 16)


def _result(events, metrics):
    return Result("s", "s.yaml", 0, 0, {}, "a", 0.1, 10, 1.0, 0.1, "timeout", events, metrics, 0.0, [])


def test_scores_for_reads_a_result():
    events = [
        Event(1.0, EventKind.COLLISION, ("ego", "ped1"), 3.0),
        Event(2.0, EventKind.COLLISION, ("ego", "car1"), 3.0),
        Event(2.5, EventKind.COLLISION, ("car2", "car1"), 3.0),
        Event(3.0, EventKind.RED_LIGHT, ("ego",), 5.0),
    ]
    res = _result(events, {**CALM, "route_completion": 0.5, "min_ttc_s": None})
    s = lb.summary_from_result(res, pedestrians={"ped1"})
    assert (s.collisions_pedestrian, s.collisions_vehicle, s.red_lights, s.min_ttc) == (1, 1, 1, math.inf)
    scores = lb.scores_for(res, pedestrians={"ped1"})
    assert scores[lb.CARLA_LB2] == pytest.approx(50 * 0.5 * 0.6 * 0.7)
    assert scores[lb.CARLA_LB21] == pytest.approx(50 / (1 + 1.0 + 0.7 + 0.4))
    assert scores[lb.NUPLAN_CLS] == 0.0
    # without actor kinds every ego collision is a vehicle collision
    assert lb.scores_for(res)[lb.CARLA_LB2] == pytest.approx(50 * 0.6 * 0.6 * 0.7)


def test_scores_for_a_real_run_matches_simcore_v1_without_offroad():
    from simcore.api import simulation

    res = simulation(REAR_END, "autopilot").run()
    scores = lb.scores_for(res)
    m = res.metrics
    if m["offroad"] == 0 and m["outside_route_lanes_pct"] == 0 and m["collisions"] == 0:
        # leaderboard 1.0's table is simcore-v1's without off-road; 2.0 adds the timeout (0.7) and
        # 1 - 0.3 x (1 - pct/100) per minimum-speed checkpoint below 100 %
        assert scores[lb.CARLA_LB1] == pytest.approx(res.score)
        slow = [m[f"min_speed_pct_{i}"] for i in range(1, 5) if m[f"min_speed_pct_{i}"] < 100]
        factor = 0.7 ** m["scenario_timeouts"] * math.prod(1 - 0.3 * (1 - p / 100) for p in slow)
        assert scores[lb.CARLA_LB2] == pytest.approx(res.score * factor)
    assert 0.0 <= scores[lb.NUPLAN_CLS] <= 1.0


def test_scores_for_a_real_run_equal_the_runner_scores():
    from simcore.api import simulation

    res = simulation(REAR_END, "autopilot").run()
    assert lb.scores_for(res) == res.scores


# -- new infractions and NAVSIM PDMS ------------------------------------------------------------


def _full(**kw):
    base = {"collisions_vehicle": 0, "collisions_pedestrian": 0, "red_lights": 0, "offroad": 0, "goal_reached": True}
    base |= {"route_completion": 1.0, "min_ttc": math.inf, "max_decel": 2.0, "has_ego": True}
    return EgoSummary(**(base | kw))


def test_carla_static_collision_and_stop_sign_penalties():
    s = _full(collisions_static=1, stop_signs=1)
    assert lb.carla_driving_score(s) == pytest.approx(100 * 0.65 * 0.8)  # 52
    assert lb.carla_additive_driving_score(s) == pytest.approx(100 / (1 + 0.6 + 0.25))  # 54.05
    assert lb.all_scores(s, CALM)[lb.CARLA_LB21] == 54.054054


def test_navsim_pdms_hand_computed():
    # NC = DAC = 1; EP 0.8, TTC within (inf), comfortable: (5*0.8 + 5 + 2) / 12
    assert lb.navsim_pdms(_full(route_completion=0.8), CALM) == pytest.approx(11 / 12)
    # TTC 0.97 s: within nuPlan's 0.95 s bound but not NAVSIM's 1.0 s
    s = _full(route_completion=0.8, min_ttc=0.97)
    assert lb.navsim_pdms(s, CALM) == pytest.approx(6 / 12)
    assert lb.nuplan_terms(s, CALM)["ttc_within_bound"] == 1.0
    # uncomfortable (yaw rate 1.0 > 0.95 rad/s): (5*0.8 + 5 + 0) / 12 = 0.75
    assert lb.navsim_pdms(_full(route_completion=0.8), {**CALM, "max_yaw_rate_radps": 1.0}) == pytest.approx(0.75)
    # only an at-fault static collision: NC = 0.5
    assert lb.navsim_pdms(_full(collisions_static=1), CALM) == pytest.approx(0.5)
    # a collision the ego was not at fault for costs nothing; an at-fault one zeroes it
    assert lb.navsim_pdms(_full(collisions_vehicle=1, at_fault_collisions=0), CALM) == pytest.approx(1.0)
    assert lb.navsim_pdms(_full(collisions_vehicle=1), CALM) == 0.0  # fault unknown: counts
    assert lb.navsim_pdms(_full(collisions_vehicle=1, at_fault_collisions=1), CALM) == 0.0
    assert lb.navsim_pdms(_full(offroad=1), CALM) == 0.0


def test_nuplan_speed_limit_and_driving_direction_terms():
    # 10 s evaluated, integral of over-speed 2.23 m: 1 - 2.23 / (2.23 * 10) = 0.9
    s = _full(overspeed_integral_m=2.23, duration_s=10.0)
    assert lb.nuplan_terms(s, CALM)["speed_limit"] == pytest.approx(0.9)
    assert lb.nuplan_cls(s, CALM) == pytest.approx((5 + 5 + 4 * 0.9 + 2) / 16)
    assert lb.nuplan_terms(_full(overspeed_integral_m=50.0, duration_s=10.0), CALM)["speed_limit"] == 0.0
    for run, term in ((2.0, 1.0), (2.1, 0.5), (6.0, 0.5), (6.1, 0.0)):
        assert lb.nuplan_terms(_full(max_wrong_way_run_m=run), CALM)["driving_direction_compliance"] == term
    assert lb.nuplan_cls(_full(max_wrong_way_run_m=3.0), CALM) == pytest.approx(0.5)


def test_summary_from_result_reads_fault_static_and_rule_events():
    events = [
        Event(1.0, EventKind.COLLISION, ("ego", "car1"), 3.0, at_fault=()),  # not the ego's fault
        Event(2.0, EventKind.COLLISION, ("ego", "static:wall"), 3.0, at_fault=("ego",)),
        Event(3.0, EventKind.STOP_SIGN, ("ego",), 2.0),
        Event(3.5, EventKind.WRONG_WAY, ("ego",), 2.0),
        Event(4.0, EventKind.SPEEDING, ("ego",), 13.9),
    ]
    res = _result(events, {**CALM, "route_completion": 1.0, "max_wrong_way_run_m": 7.0})
    s = lb.summary_from_result(res)
    assert (s.collisions_vehicle, s.collisions_static, s.at_fault_collisions, s.at_fault_static) == (1, 1, 0, 1)
    assert (s.stop_signs, s.wrong_way, s.speeding) == (1, 1, 1)
    scores = lb.scores_for(res)
    assert scores[lb.CARLA_LB2] == pytest.approx(100 * 0.6 * 0.65 * 0.8)
    assert scores[lb.NAVSIM_PDMS] == pytest.approx(0.5)
    assert scores[lb.NUPLAN_CLS] == 0.0  # 7 m against the lane direction
