"""CARLA route criteria measured after the run, and the leaderboard formulas they feed (hand-computed)."""

import itertools
import math

import numpy as np
import pytest

from simcore._types import ActorKind
from simcore.evaluation import leaderboard as lb
from simcore.evaluation import route_criteria as rc
from simcore.evaluation.scoring import EgoSummary

CALM = {"max_accel_mps2": 1.0, "max_decel_mps2": 2.0, "max_jerk_mps3": 1.0, "max_lateral_accel_mps2": 1.0}


def _full(**kw):
    base = {"collisions_vehicle": 0, "collisions_pedestrian": 0, "red_lights": 0, "offroad": 0, "goal_reached": True}
    base |= {"route_completion": 1.0, "min_ttc": math.inf, "max_decel": 2.0, "has_ego": True}
    return EgoSummary(**(base | kw))


# -- formulas (statistics_manager.py of each leaderboard branch) ------------------------------------


def test_lb21_one_of_each_weight():
    s = _full()
    for key, w in (
        ("carla_collisions_pedestrian", 1.0),
        ("carla_collisions_vehicle", 0.7),
        ("carla_collisions_static", 0.6),
        ("scenario_timeouts", 0.4),
        ("yield_emergency_vehicle_infractions", 0.4),
    ):
        assert lb.carla_additive_driving_score(s, {key: 1}) == pytest.approx(100 / (1 + w)), key
    assert lb.carla_additive_driving_score(_full(red_lights=1)) == pytest.approx(100 / 1.4)
    assert lb.carla_additive_driving_score(_full(stop_signs=2)) == pytest.approx(100 / 1.5)


def test_min_speed_and_outside_lanes_under_each_version():
    s = _full(route_completion=0.8)
    m = {"min_speed_pct_1": 60.0, "min_speed_pct_2": 100.0, "min_speed_pct_3": 150.0, "outside_route_lanes_pct": 10.0}
    # 2.1: 0.4 x (1 - 0.6) = 0.16 for the one checkpoint below 100 %; outside lanes x 0.9
    assert lb.carla_additive_driving_score(s, m) == pytest.approx(80 * 0.9 / 1.16)
    # 2.0: 1 - (1 - 0.7) x (1 - 0.6) = 0.88, x 0.9
    assert lb.carla_driving_score(s, m, "2.0") == pytest.approx(80 * 0.88 * 0.9)
    # 1.0: no minimum speed; outside lanes x 0.9
    assert lb.carla_driving_score(s, m, "1.0") == pytest.approx(80 * 0.9)


def test_lb2_timeout_and_emergency_vehicle_and_lb1_ignores_them():
    m = {"scenario_timeouts": 1, "yield_emergency_vehicle_infractions": 1}
    assert lb.carla_driving_score(_full(), m, "2.0") == pytest.approx(100 * 0.7 * 0.7)
    assert lb.carla_driving_score(_full(), m, "1.0") == pytest.approx(100.0)
    # without the post-run metrics the timeout comes from the summary
    assert lb.carla_driving_score(_full(timed_out=True)) == pytest.approx(70.0)


def test_carla_collision_counts_and_route_end_replace_simcores():
    s = _full(collisions_vehicle=2)  # simcore saw two onsets; CARLA counts one
    m = {"carla_collisions_vehicle": 1, "carla_route_completion": 0.5}
    assert lb.carla_driving_score(s, m) == pytest.approx(50 * 0.6)
    assert lb.all_scores(s, m)[lb.CARLA_LB21] == pytest.approx(50 / 1.7)


def test_navsim_epdms_terms():
    # EP 1, TTC 1, LK 1, HC 1 -> 1; a red light zeroes it (TLC); LK failed: (5 + 5 + 0 + 2) / 14
    assert lb.navsim_epdms(_full(), CALM) == pytest.approx(1.0)
    assert lb.navsim_epdms(_full(red_lights=1), CALM) == 0.0
    assert lb.navsim_epdms(_full(), {**CALM, "lane_keeping": 0}) == pytest.approx(12 / 14)
    assert lb.navsim_epdms(_full(max_wrong_way_run_m=3.0), CALM) == pytest.approx(0.5)  # DDC
    # the filtered nuPlan comfort overrides the unfiltered peaks when measured
    assert lb.navsim_epdms(_full(), {**CALM, "max_jerk_mps3": 9.0, "nuplan_comfortable": 1}) == pytest.approx(1.0)
    assert lb.navsim_pdms(_full(), {**CALM, "nuplan_comfortable": 0}) == pytest.approx(10 / 12)


# -- measurements ------------------------------------------------------------------------------------


def test_min_speed_checkpoints_by_hand():
    # 100 m route, 4 parts of 25 m; progress 1 m per row, ego 5 m/s, traffic 10 m/s -> 50 %
    p = np.arange(0.0, 101.0)
    ego = np.full(p.size, 5.0)
    traffic = np.full(p.size, 10.0)
    traffic[:10] = np.nan  # no traffic in the first rows: not sampled
    vals = rc.min_speed_checkpoints(p, 100.0, ego, traffic)
    assert vals == [50.0, 50.0, 50.0, 50.0]
    # the ego twice as fast in the second quarter only (rows 26..51 go to checkpoint 2)
    ego2 = ego.copy()
    ego2[26:52] = 20.0
    assert rc.min_speed_checkpoints(p, 100.0, ego2, traffic) == [50.0, 200.0, 50.0, 50.0]
    # stopping at 90 % of the route: the last checkpoint is not recorded (CARLA: > 95 %)
    assert rc.min_speed_checkpoints(p[:91], 100.0, ego[:91], traffic[:91]) == [50.0, 50.0, 50.0]
    # no traffic at all: 100 % (no infraction)
    assert rc.min_speed_checkpoints(p, 100.0, ego, np.full(p.size, np.nan)) == [100.0] * 4


def test_carla_collision_filters():
    time = np.arange(0.0, 20.0, 0.5)
    ex = 2.0 * time  # 1 m per row
    ey = np.zeros(time.size)
    kinds = {"car": ActorKind.VEHICLE, "ped": ActorKind.PEDESTRIAN, "cone": ActorKind.STATIC}
    col = [
        {"time_s": 1.0, "ego_speed": 2.0, "other": "car"},  # counted
        {"time_s": 3.0, "ego_speed": 2.0, "other": "car"},  # same actor within 5 s: dropped
        {"time_s": 4.0, "ego_speed": 2.0, "other": "ped"},  # 6 m from the last counted: counted
        {"time_s": 5.0, "ego_speed": 2.0, "other": "static:wall"},  # 2 m from the last: dropped
        {"time_s": 9.0, "ego_speed": 0.05, "other": "cone"},  # ego standing: dropped
        {"time_s": 12.0, "ego_speed": 2.0, "other": "cone"},  # static actor: static
        {"time_s": 15.0, "ego_speed": 2.0, "other": "car"},  # > 5 s after the car: counted again
    ]
    assert rc.carla_collisions(col, time, ex, ey, kinds) == {"pedestrian": 1, "vehicle": 2, "static": 1}


def test_yield_to_emergency_vehicle_geometry():
    # EV heading east (yaw 0); ego ahead of it (larger x) at the last common row -> infraction
    ev_x = np.array([0.0, 10.0, 20.0])
    ev_y = np.zeros(3)
    ev_yaw = np.zeros(3)
    active = np.array([True, True, True])
    assert rc.yield_infractions(np.array([5.0, 15.0, 25.0]), np.zeros(3), active, ev_x, ev_y, ev_yaw) == 1
    # the EV passed the ego (ego behind it at the end) -> yielded
    assert rc.yield_infractions(np.array([5.0, 15.0, 18.0]), np.full(3, 3.5), active, ev_x, ev_y, ev_yaw) == 0
    # evaluated at the last row both existed
    assert rc.yield_infractions(np.array([5.0, 15.0, 99.0]), np.zeros(3), active & [1, 1, 0], ev_x, ev_y, ev_yaw) == 1


def test_lane_keeping_needs_two_seconds_outside_junctions():
    time = np.arange(0.0, 5.0, 0.1)
    off = np.zeros(time.size)
    off[10:29] = 0.6  # 19 samples = 1.9 s
    assert rc.lane_keeping(off, np.zeros(time.size, bool), time)[0]
    off[10:30] = 0.6  # 20 samples: NAVSIM's ceil(2.0 / 0.1)
    assert not rc.lane_keeping(off, np.zeros(time.size, bool), time)[0]
    junction = np.zeros(time.size, bool)
    junction[15:20] = True  # skipped rows: 15 samples outside junctions
    assert rc.lane_keeping(off, junction, time)[0]


def _polyline(corners, step=1.0):
    xs, ys = [corners[0][0]], [corners[0][1]]
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        n = round(math.hypot(x1 - x0, y1 - y0) / step)
        for k in range(1, n + 1):
            xs.append(x0 + (x1 - x0) * k / n)
            ys.append(y0 + (y1 - y0) * k / n)
    xs, ys = np.array(xs), np.array(ys)
    return xs, ys, np.r_[0.0, np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))]


def test_trace_route_does_not_short_cut_where_the_route_crosses_itself():
    # east along y = 0, north, west, then south across the first leg at (25, 0)
    xs, ys, ss = _polyline([(0, 0), (50, 0), (50, 20), (25, 20), (25, -20)])
    py = np.arange(19.0, -20.0, -1.9)
    px = np.full(py.size, 25.3)  # 0.3 m east of the last leg (its left side, heading south)
    s, t = rc.trace_route(xs, ys, ss, px, py)
    assert np.all(np.diff(s) > 0)  # near (25, 0.1) the first leg is nearer (0.1 m), yet s keeps going
    np.testing.assert_allclose(t, 0.3, atol=1e-9)
    assert s[0] == pytest.approx(96.0)
