"""Rule kernels on constructed worlds: every value hand-computed in the test.

The rig is one straight route along +x (samples every 1 m from x = 0 to 200, y = 0), one
driving lane on it (direction +x, half width 2 m), ego at row 0 and other actors after it.
The ego's route s equals its x and its lateral offset its y.
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from simcore.evaluation import metrics_kernels as mk
from simcore.evaluation import rules_kernels as rk
from simcore.road.static_index import build_static_index


class Rig:
    """Arrays for ``rules_kernels.evaluate_rules`` with the ego at row 0."""

    def __init__(self, n=1, limit=10.0, stops=(), objects=()):
        self.n = n
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.yaw = np.zeros(n)
        self.speed = np.zeros(n)
        self.accel = np.zeros(n)
        self.active = np.ones(n, dtype=np.bool_)
        self.inst = np.zeros(n, dtype=np.int64)
        self.kind = np.zeros(n, dtype=np.int8)
        self.length = np.full(n, 4.0)
        self.width = np.full(n, 2.0)
        self.rear = np.full(n, 1.0)
        self.coff = np.full(n, 1.0)  # box centre 1 m ahead of the reference point
        self.lateral = np.zeros(n)
        s = np.arange(0.0, 201.0)
        self.rx, self.ry, self.rs = s.copy(), np.zeros_like(s), s.copy()
        self.rvlim = np.full_like(s, limit)
        self.rt_start = np.array([0] + [s.size] * n, dtype=np.int64)
        # stop lines: (s, signal group or -1, is stop sign)
        self.stop_s = np.array([st[0] for st in stops], dtype=float)
        self.stop_sig = np.array([st[1] for st in stops], dtype=np.int64)
        self.stop_sign = np.array([st[2] for st in stops], dtype=np.bool_)
        self.st_start = np.array([0] + [len(stops)] * n, dtype=np.int64)
        self.sig_state = np.full((1, 2), rk.GREEN, dtype=np.int8)
        # drivable grid: the lane's segments, one cell
        self.g = (250.0, -25.0, -125.0, 1, 1, np.array([0, 200], dtype=np.int64), np.arange(200, dtype=np.int64),
                  s[:-1].copy(), np.zeros(200), s[1:].copy(), np.zeros(200), np.full(200, 2.0))  # fmt: skip
        starts = np.cumsum([0] + [len(o) for o in objects]).astype(np.int64)
        ox = np.array([p[0] for o in objects for p in o], dtype=float)
        oy = np.array([p[1] for o in objects for p in o], dtype=float)
        self.so = build_static_index(SimpleNamespace(obj_start=starts, obj_x=ox, obj_y=oy))
        self.so_out = (np.zeros(max(len(objects), 1), dtype=np.int64), np.zeros(max(len(objects), 1)))
        self.metrics = np.zeros(mk.N_METRICS)
        mk.reset_metrics(self.metrics)
        self.actor_ev = np.zeros((n, rk.N_ACTOR_EV))
        self.actor_ev[:, rk.A_RED_T] = -math.inf
        self.actor_ev[:, rk.A_HAZ_T] = math.nan
        self.pet = np.full((4, 201), np.nan)
        self.events: list[tuple] = []

    @property
    def progress(self):
        return self.x.copy()

    def step(self, t, dt=0.1, pre_events=()):
        """One evaluate_rules call; returns the events it wrote as (time, kind, a, b, value, fault)."""
        cap = 64
        ev_time, ev_kind = np.zeros(cap), np.zeros(cap, dtype=np.int64)
        ev_a, ev_b = np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64)
        ev_value, ev_fault = np.zeros(cap), np.zeros(cap, dtype=np.int64)
        for q, (kind, a, b) in enumerate(pre_events):
            ev_kind[q], ev_a[q], ev_b[q], ev_time[q] = kind, a, b, t
        so = self.so
        self.lateral[:] = self.y
        n = rk.evaluate_rules(
            t, dt, 0, self.x, self.y, self.yaw, self.speed, self.accel, self.active, self.inst, self.kind,
            self.length, self.width, self.rear, self.coff, self.progress, self.lateral,
            self.rt_start, self.rx, self.ry, self.rs, self.rvlim, self.st_start, self.stop_s, self.stop_sig,
            self.stop_sign, self.sig_state, *self.g,
            so.cell_size, so.x0, so.y0, so.nx, so.ny, so.cell_start, so.cell_obj, so.obj_ix0, so.obj_iy0,
            so.obj_seg_start, so.seg_ax, so.seg_ay, so.seg_bx, so.seg_by, *self.so_out,
            self.metrics, self.actor_ev, self.pet, ev_time, ev_kind, ev_a, ev_b, ev_value, ev_fault,
            0, len(pre_events),
        )  # fmt: skip
        out = [
            (ev_time[q], int(ev_kind[q]), int(ev_a[q]), int(ev_b[q]), ev_value[q], int(ev_fault[q])) for q in range(n)
        ]
        self.events += out[len(pre_events) :]
        return out

    def kinds(self):
        return [e[1] for e in self.events]


# -- fault attribution ------------------------------------------------------------------------


def _pair(xi, yi, yawi, vi, xj, yj, yawj, vj):
    r = Rig(2)
    r.x[:] = xi, xj
    r.y[:] = yi, yj
    r.yaw[:] = yawi, yawj
    r.speed[:] = vi, vj
    r.coff[:] = 0.0
    return r


def _fault(r, t=10.0, i=0, j=1):
    return rk.collision_fault(i, j, t, r.x, r.y, r.yaw, r.speed, r.coff, r.actor_ev)


def test_fault_rear_end_is_the_followers():
    r = _pair(0, 0, 0, 10, 4, 0, 0, 5)  # c_i = 10, c_j = -5
    assert _fault(r) == rk.FAULT_A
    assert _fault(r, i=1, j=0) == rk.FAULT_B


def test_fault_standing_actor_is_never_at_fault():
    assert _fault(_pair(0, 0, 0, 0.0, -4, 0, 0, 6)) == rk.FAULT_B  # hit from behind while stopped
    assert _fault(_pair(0, 0, 0, 0.05, 4, 0, 0, 0.0)) == rk.FAULT_NEITHER  # both below 0.1 m/s


def test_fault_angle_collision_is_the_strikers_and_head_on_is_shared():
    # i drives east into j crossing north: c_i = 8, c_j = 0
    assert _fault(_pair(0, 0, 0, 8, 3, 0, math.pi / 2, 8)) == rk.FAULT_A
    # head-on at equal speeds: c_i = c_j = 7
    assert _fault(_pair(0, 0, 0, 7, 4, 0, math.pi, 7)) == rk.FAULT_BOTH
    # head-on, contributions 7 and 6.6 differ by 0.4 <= 0.5: shared; 7 and 6.4: i
    assert _fault(_pair(0, 0, 0, 7, 4, 0, math.pi, 6.6)) == rk.FAULT_BOTH
    assert _fault(_pair(0, 0, 0, 7, 4, 0, math.pi, 6.4)) == rk.FAULT_A


def test_fault_red_light_runner_took_the_right_of_way():
    r = _pair(0, 0, 0, 8, 3, 0, math.pi / 2, 8)  # i strikes j ...
    r.actor_ev[1, rk.A_RED_T] = 10.0 - 4.9  # ... but j ran a red light 4.9 s before
    assert _fault(r) == rk.FAULT_B
    r.actor_ev[1, rk.A_RED_T] = 10.0 - 5.1  # longer ago than RED_FAULT_S: the closing rule again
    assert _fault(r) == rk.FAULT_A


def test_collision_events_get_their_fault_and_the_first_impact():
    r = _pair(0, 0, 0, 10, 4, 0, 0, 5)
    ev = r.step(2.0, pre_events=[(rk.EV_COLLISION, 1, 0)])
    assert ev[0][5] == rk.FAULT_B  # a = 1 is the leader, b = 0 (ego) the follower
    assert r.metrics[mk.M_FIRST_IMPACT_T] == 2.0
    assert r.metrics[mk.M_FIRST_IMPACT_V] == 10.0
    assert r.metrics[mk.M_FIRST_IMPACT_ACTOR] == 1


# -- static objects ---------------------------------------------------------------------------

SQUARE = [(50.0, -1.0), (52.0, -1.0), (52.0, 1.0), (50.0, 1.0)]
POLE = [(30.9, -0.1), (31.1, -0.1), (31.1, 0.1), (30.9, 0.1)]


def test_box_hits_object_cases():
    r = Rig(objects=[SQUARE])
    args = (r.so.obj_seg_start, r.so.seg_ax, r.so.seg_ay, r.so.seg_bx, r.so.seg_by)
    assert rk.box_hits_object(49.5, 0.0, 0.0, 2.0, 1.0, 0, *args)  # overlaps the west edge
    assert not rk.box_hits_object(47.9, 0.0, 0.0, 2.0, 1.0, 0, *args)  # front face at 49.9 m
    assert rk.box_hits_object(51.0, 0.0, 0.0, 0.5, 0.5, 0, *args)  # box inside the object
    assert rk.box_hits_object(51.0, 2.9, math.pi / 4, 2.0, 1.0, 0, *args)  # rotated, corner reaches y < 1
    assert not rk.box_hits_object(51.0, 3.2, math.pi / 4, 2.0, 1.0, 0, *args)  # lowest corner at y = 1.079


def test_static_collision_onset_once_per_contact_with_ego_speed_and_fault():
    r = Rig(objects=[POLE])
    r.speed[0] = 6.0
    r.x[0] = 20.0  # box x from 19 to 23: clear
    assert r.step(0.1) == []
    r.x[0] = 28.5  # box 27.5 .. 31.5 contains the whole pole (no edge crosses the box outline)
    (ev,) = r.step(0.2)
    assert ev[1:] == (rk.EV_COLLISION, 0, -2, 6.0, rk.FAULT_A)
    assert r.step(0.3) == []  # still touching: no new onset
    r.x[0] = 40.0
    r.step(0.4)
    r.x[0] = 28.5
    r.speed[0] = 0.0
    (ev,) = r.step(0.5)
    assert ev[5] == rk.FAULT_NEITHER  # standing ego is not at fault


# -- lane direction ----------------------------------------------------------------------------


def test_lane_direction_state_and_wrong_way_distance():
    r = Rig()
    assert rk.lane_direction_state(10.0, 1.0, 0.0, *r.g) == (True, True)
    assert rk.lane_direction_state(10.0, 1.0, math.pi, *r.g) == (True, False)
    assert rk.lane_direction_state(10.0, 1.0, 1.6, *r.g) == (True, False)  # 91.7 deg off
    assert rk.lane_direction_state(10.0, 3.0, math.pi, *r.g) == (False, False)  # beside the lane
    r.yaw[0] = math.pi
    r.speed[0] = 5.0
    r.x[0] = 100.0
    for k in range(4):  # 4 steps of 0.1 s at 5 m/s against the lane
        r.step(0.1 * (k + 1))
    assert r.kinds() == [rk.EV_WRONG_WAY]
    assert r.metrics[mk.M_WRONG_WAY_DIST] == pytest.approx(2.0)
    r.yaw[0] = 0.0
    r.step(0.5)
    r.yaw[0] = math.pi
    r.step(0.6)  # a second run of 0.5 m
    assert r.kinds() == [rk.EV_WRONG_WAY, rk.EV_WRONG_WAY]
    assert r.metrics[mk.M_WRONG_WAY_DIST] == pytest.approx(2.5)
    assert r.metrics[mk.M_MAX_WW_RUN] == pytest.approx(2.0)


# -- speeding, deviation, blocked, stop signs --------------------------------------------------


def test_speeding_time_overspeed_integral_and_hysteresis():
    r = Rig(limit=10.0)
    r.x[0] = 50.0
    for v in (12.0, 12.0, 10.3, 9.0, 11.0):  # dt = 0.1
        r.speed[0] = v
        r.step(1.0)
    # onsets: 12 (> 10.5); 10.3 stays in the episode; 9 ends it; 11 starts a new one
    assert r.kinds() == [rk.EV_SPEEDING, rk.EV_SPEEDING]
    assert [e[4] for e in r.events] == [10.0, 10.0]  # value: the limit
    assert r.metrics[mk.M_SPEEDING_TIME] == pytest.approx(0.3)  # steps above limit + 0.5
    assert r.metrics[mk.M_OVERSPEED_INT] == pytest.approx((2 + 2 + 0.3 + 1) * 0.1)
    assert r.metrics[mk.M_MAX_OVERSPEED] == pytest.approx(2.0)


def test_route_deviation_onsets_and_maximum():
    r = Rig()
    r.x[0] = 50.0
    for y in (1.0, 6.0, 7.5, 4.0, -5.5):
        r.y[0] = y
        r.step(1.0)
    assert r.kinds() == [rk.EV_ROUTE_DEVIATION, rk.EV_ROUTE_DEVIATION]
    assert [e[4] for e in r.events] == [6.0, 5.5]
    assert r.metrics[mk.M_MAX_DEVIATION] == 7.5


def test_blocked_after_standing_without_reason():
    r = Rig()
    r.x[0] = 50.0
    n = int(rk.BLOCKED_S) + 1
    for k in range(n):  # dt = 1 s: standing time after step k is k + 1 s
        r.step(float(k + 1), dt=1.0)
    assert r.kinds() == [rk.EV_BLOCKED]
    assert r.events[0][0] == float(n) and r.events[0][4] == float(n)
    assert r.metrics[mk.M_MAX_STILL] == float(n)


def test_standing_behind_an_obstacle_or_at_a_red_light_is_not_blocked():
    r = Rig(stops=[(60.0, 0, False)])
    r.x[0] = 50.0  # front bumper at 53 m, stop line 7 m ahead
    r.sig_state[0, 0] = rk.RED
    for k in range(40):
        r.step(float(k + 1), dt=1.0)
    r.sig_state[0, 0] = rk.GREEN
    for k in range(40, 60):
        r.metrics[mk.M_STEP_GAP] = 5.0  # a queue ahead (set by accumulate_ego_metrics in the engine)
        r.step(float(k + 1), dt=1.0)
    assert r.kinds() == []
    assert r.metrics[mk.M_MAX_STILL] == 0.0


def test_stop_sign_needs_a_stop_in_the_zone():
    # stop sign line at s = 100: the front bumper (x + 3 m) must stand within 95..100 m first
    r = Rig(stops=[(100.0, -1, True)])
    r.speed[0] = 5.0
    for x in (90.0, 93.0, 96.0, 98.0):  # front 93, 96 (zone, 5 m/s), 99 (zone), 101 (crossed)
        r.x[0] = x
        r.step(x)
    assert r.kinds() == [rk.EV_STOP_SIGN]
    assert r.events[0][4] == 5.0  # lowest speed in the zone
    r = Rig(stops=[(100.0, -1, True)])
    for x, v in ((90.0, 5.0), (94.0, 0.0), (96.0, 3.0), (98.0, 3.0)):  # stands with the front at 97 m
        r.x[0], r.speed[0] = x, v
        r.step(x)
    assert r.kinds() == []
    r = Rig(stops=[(100.0, -1, False)])  # an unsignalised stop line that is not a stop sign
    for x in (90.0, 93.0, 96.0, 98.0):
        r.x[0], r.speed[0] = x, 5.0
        r.step(x)
    assert r.kinds() == []


# -- criticality: PET, hazards, THW, DRAC, yaw ---------------------------------------------------


def test_pet_other_first_then_ego():
    r = Rig(2)
    r.x[1], r.y[1], r.yaw[1], r.coff[1] = 51.0, 0.0, math.pi / 2, 0.0  # crossing: s 50 .. 52, bins 50..52
    r.x[0] = 0.0
    r.step(1.0)
    r.y[1] = 20.0  # gone
    r.step(2.0)
    r.x[0] = 48.0  # ego box 47 .. 51: enters bins 47..50 (50 was the encroacher's) at t = 3
    r.step(3.0)
    assert r.metrics[mk.M_MIN_PET] == pytest.approx(2.0)
    r.x[0] = 49.0  # box up to 52: bin 52 (also the encroacher's, left at t = 1) at t = 3.5: PET 2.5
    r.step(3.5)
    assert r.metrics[mk.M_MIN_PET] == pytest.approx(2.0)


def test_pet_ego_first_then_other_and_following_traffic_ignored():
    r = Rig(3)
    r.x[0] = 48.0  # ego box 47 .. 51 at t = 1 (bins 47..51)
    r.x[2], r.speed[2] = 100.0, 5.0  # a leader on the route (same heading): never counts
    r.step(1.0)
    r.x[0] = 70.0  # gone ahead; the look-back window (30 m) still covers s = 40 .. 70
    r.step(2.0)
    r.x[1], r.y[1], r.yaw[1], r.coff[1] = 49.0, 0.0, -math.pi / 2, 0.0  # crosses bins 48..50 at t = 4.5
    r.step(4.5)
    assert r.metrics[mk.M_MIN_PET] == pytest.approx(3.5)


def test_hazard_onset_records_gap_and_speeds():
    r = Rig(2)
    r.x[0], r.speed[0] = 10.0, 10.0  # front bumper at 13 m
    r.x[1], r.speed[1], r.coff[1] = 60.0, 4.0, 1.0  # centre at 61 m, rear face at 59 m
    r.accel[1] = -2.0
    r.step(1.0)
    hz = r.actor_ev[1]
    assert hz[rk.A_HAZARD] == 1.0 and hz[rk.A_HAZ_T] == 1.0
    assert hz[rk.A_HAZ_GAP] == pytest.approx(46.0)
    assert (hz[rk.A_HAZ_VE], hz[rk.A_HAZ_VL], hz[rk.A_HAZ_DL]) == (10.0, 4.0, 2.0)
    r.x[0] = 20.0
    r.step(2.0)  # still a hazard: the onset is kept
    assert r.actor_ev[1, rk.A_HAZ_T] == 1.0


def test_thw_drac_ttc_and_yaw_metrics_by_hand():
    r = Rig(2)
    m = r.metrics
    r.x[:] = 10.0, 40.0  # ego front 13 m; leader centre 41 m, rear face 39 m: gap 26 m
    r.speed[:] = 10.0, 4.0
    dt = 0.1
    for k, yaw in enumerate((0.0, 0.1, 0.15)):
        r.yaw[0] = yaw
        mk.accumulate_ego_metrics(
            0, dt, r.x, r.y, r.yaw, r.speed, r.accel, r.active, r.inst, r.length, r.width, r.rear, r.coff,
            r.rt_start, r.rx, r.ry, r.rs, r.progress, m,
        )  # fmt: skip
        if k == 0:
            assert m[mk.M_STEP_GAP] == pytest.approx(26.0)
            assert m[mk.M_MIN_THW] == pytest.approx(2.6)  # 26 / 10
            assert m[mk.M_MIN_TTC] == pytest.approx(26.0 / 6.0)
            assert m[mk.M_MAX_DRAC] == pytest.approx(36.0 / 52.0)  # 6^2 / (2 * 26)
        r.yaw[1] = 0.0
    assert m[mk.M_MAX_YAW_RATE] == pytest.approx(1.0)  # 0.1 rad in 0.1 s, then 0.5 rad/s
    assert m[mk.M_MAX_YAW_ACCEL] == pytest.approx(5.0)  # (1.0 - 0.5) / 0.1
    assert m[mk.M_MAX_LAT_ACCEL] == pytest.approx(10.0)  # 10 m/s x 1 rad/s


# -- careful driver (UN R157-style) ---------------------------------------------------------------


def test_careful_driver_against_a_standing_obstacle_matches_the_stopping_distance():
    a = 0.774 * 9.81
    d = 20.0 * 0.75 + 20.0**2 / (2 * a)  # 41.35 m
    assert rk.careful_driver_avoids(d + 0.1, 20.0, 0.0, 0.0, 0.75, a)
    assert not rk.careful_driver_avoids(d - 0.1, 20.0, 0.0, 0.0, 0.75, a)


def test_careful_driver_behind_a_leader_braking_as_hard_needs_the_reaction_distance():
    # equal speeds and decelerations: the final gap is gap - v * t_r (both stop)
    a = 0.774 * 9.81
    assert rk.careful_driver_avoids(15.1, 20.0, 20.0, a, 0.75, a)
    assert not rk.careful_driver_avoids(14.9, 20.0, 20.0, a, 0.75, a)


def test_careful_driver_against_a_slower_constant_speed_leader():
    # closing 10 m/s: reaction 0.5 s eats 5 m, braking to equal speed 10^2 / (2a)
    a = 6.0
    d = 10.0 * 0.5 + 100.0 / (2 * a)  # 13.33 m
    assert rk.careful_driver_avoids(d + 0.05, 20.0, 10.0, 0.0, 0.5, a)
    assert not rk.careful_driver_avoids(d - 0.05, 20.0, 10.0, 0.0, 0.5, a)
