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


def test_additive_weight_matches_multiplicative_penalty_for_one_infraction():
    for k, p in lb.CARLA_PENALTIES.items():
        assert 1 / (1 + lb.CARLA_ADDITIVE_WEIGHTS[k]) == pytest.approx(p, abs=0.03), k


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
    if res.metrics["offroad"] == 0:
        assert scores[lb.CARLA_LB2] == pytest.approx(res.score)
    assert 0.0 <= scores[lb.NUPLAN_CLS] <= 1.0
