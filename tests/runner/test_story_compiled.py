"""The storyboard inside the compiled step (runner.story_kernels) against the per-step Python path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from simcore._data import catalog_dir
from simcore.api import simulation
from simcore.behavior import profile_kernels as pk
from simcore.evaluation.events import EventKind
from simcore.runner import story_kernels as sk
from simcore.runner.story_tables import (
    ACTION_CODES,
    EDGE_KINDS,
    SHAPES,
    TRIGGER_CODES,
    ActionCode,
    TriggerCode,
    story_tables,
)
from simcore.scenario import storyboard as sb
from simcore.scenario import trigger_kernels as tk
from simcore.scenario.build import build_world
from simcore.scenario.loader import load_scenario

SCENARIOS = catalog_dir("scenarios")
#: Every catalog scenario with a storyboard.
STORY_SCENARIOS = sorted(
    p.relative_to(SCENARIOS).as_posix()
    for p in SCENARIOS.rglob("*.yaml")
    if "maps" not in p.parts and "\nstoryboard:" in p.read_text()
)


def test_kernel_codes_equal_the_enums():
    for code in TriggerCode:
        assert getattr(sk, f"T_{code.name}") == code.value, code
    for code in ActionCode:
        assert getattr(sk, f"A_{code.name}") == code.value, code
    for i, name in enumerate(SHAPES):
        assert getattr(pk, f"SHAPE_{name.upper()}") == i
    assert sk.EV_STORYBOARD == EventKind.STORYBOARD
    for i, name in enumerate(EDGE_KINDS):
        assert getattr(sk, f"EDGE_{name.upper()}") == i
    for i, name in enumerate(sb.MEASURES):
        assert getattr(tk, f"M_{name.upper()}") == i
    for i, name in enumerate(sb.RULES):
        assert getattr(tk, f"R_{name.upper()}") == i


def test_profile_distance_is_the_closed_form_integral():
    # linear ramp 10 -> 4 m/s over 3 s from t0 = 1 s: v(t) = 10 - 2 (t - 1); cubic: smoothstep ramp
    def linear(t):
        return 10.0 * t - (t - 1.0) ** 2 if t > 1.0 else 10.0 * t

    for ta, tb in ((0.5, 1.5), (2.0, 2.05), (3.9, 4.3), (4.5, 5.0)):
        tb_c = min(tb, 4.0)
        want = linear(tb_c) - linear(ta) + 4.0 * (tb - tb_c) if ta < 4.0 else 4.0 * (tb - ta)
        got = pk.profile_distance(ta, tb, 1.0, 10.0, 4.0, pk.SHAPE_LINEAR, 3.0)
        assert got == pytest.approx(want, abs=1e-12)
    # smoothstep over [0, 2] from 0 to 1: integral of 3u^2 - 2u^3 with u = t/2 over the whole ramp = 2 * 1/2
    assert pk.profile_distance(0.0, 2.0, 0.0, 0.0, 1.0, pk.SHAPE_CUBIC, 2.0) == pytest.approx(1.0, abs=1e-12)


def _world(name: str):
    return build_world(load_scenario(SCENARIOS / name))


@pytest.mark.parametrize("name", STORY_SCENARIOS)
def test_every_catalog_storyboard_compiles(name):
    assert story_tables(tuple(_world(name).storyboard)) is not None


def test_every_storyboard_class_has_a_compiled_code():
    """Every trigger and action class of scenario.storyboard runs compiled: the Python path is only the
    reference the tests compare with."""
    classes = [c for c in vars(sb).values() if dataclasses.is_dataclass(c) and c.__module__ == sb.__name__]
    triggers = {c for c in classes if callable(getattr(c, "holds", None))}
    actions = {c for c in classes if callable(getattr(c, "apply", None))}
    assert triggers and triggers <= set(TRIGGER_CODES), triggers - set(TRIGGER_CODES)
    assert actions and actions <= set(ACTION_CODES), actions - set(ACTION_CODES)


def test_a_kind_not_compiled_keeps_the_whole_storyboard_on_the_python_path():
    class Custom:
        text = "custom"

        def holds(self, sim):
            return True

    start = sb.Story(sb.TimeAt(0.0, "time 0 s"), sb.StartRow(1, "start"))
    assert story_tables((start,)) is not None
    assert story_tables((start, sb.Story(sb.AllOf((Custom(),), "all"), sb.StartRow(1, "start")))) is None
    follow = sb.Story(sb.TimeAt(1.0, "time 1 s"), sb.SpeedFollow(1, np.ones(1), np.ones(1), 1.0, 1.0, 1.0, 1.0, "f"))
    assert story_tables((start, follow)) is None  # without the step dt
    assert story_tables((start, follow), 0.05) is not None


def test_trigger_trees_are_stored_children_first():
    """all(time 1, edge(any(after 0, time 2))) -> time, after, time, any(2), edge, all(2): post-order."""
    t = sb.AllOf(
        (sb.TimeAt(1.0, "t1"), sb.Edge(sb.AnyOf((sb.AfterEntry(0, "a"), sb.TimeAt(2.0, "t2")), "any"), "falling", "e")),
        "all",
    )
    tables = story_tables((sb.Story(sb.TimeAt(0.0, "t0"), sb.Mark("m", "m")), sb.Story(t, sb.HaltRow(1, "h"))))
    assert tables is not None
    assert list(tables.sb_lo) == [0, 1, 7]
    assert list(tables.sbc_kind) == [TriggerCode.TIME, TriggerCode.TIME, TriggerCode.AFTER, TriggerCode.TIME,
                                     TriggerCode.ANY, TriggerCode.EDGE, TriggerCode.ALL]  # fmt: skip
    assert list(tables.sbc_i[:, 0]) == [0, 0, 0, 0, 2, sk.EDGE_FALLING, 2]
    assert list(tables.sb_act) == [ActionCode.MARK, ActionCode.HALT]


def test_compare_measures_equal_hand_computations():
    """Rows 0 (at the origin heading +x, 4 m/s, box 4 m x 2 m centred 1 m ahead) and 1 (at (20, 3), 1 m/s,
    same box): reference points 20 m / 3 m apart along / across row 0's heading, box centres also (20, 3)
    apart, so the bumper gap is hypot(20, 3) - 4 and the freespace distances are 20 - 4 and 3 - 2."""
    x, y, yaw = np.array([0.0, 20.0]), np.array([0.0, 3.0]), np.zeros(2)
    speed, accel, progress = np.array([4.0, 1.0]), np.array([-1.5, 0.0]), np.array([30.0, 0.0])
    active = np.ones(2, dtype=np.bool_)
    length, width, offset = np.full(2, 4.0), np.full(2, 2.0), np.full(2, 1.0)

    def q(measure, freespace=False, t=0.0):
        ok, v = tk.compare_quantity(sb.MEASURES.index(measure), 0, 1, freespace, 10.0, 100.0, t, x, y, yaw, speed,
                                    accel, progress, active, length, width, offset)  # fmt: skip
        assert ok
        return v

    gap = float(np.hypot(20.0, 3.0)) - 4.0
    assert q("time", t=3 * 0.1) == 0.3  # 3 x 0.1 = 0.30000000000000004 s, rounded to the ns
    assert q("speed") == 4.0 and q("accel") == -1.5 and q("relative_speed") == 3.0
    assert q("distance") == pytest.approx(np.hypot(20.0, 3.0)) and q("distance", True) == pytest.approx(gap)
    assert q("longitudinal") == 20.0 and q("lateral") == 3.0
    assert q("longitudinal", True) == 16.0 and q("lateral", True) == 1.0
    assert q("headway") == pytest.approx(np.hypot(20.0, 3.0) / 4.0) and q("headway", True) == pytest.approx(gap / 4)
    assert q("ttc") == pytest.approx(gap / (3.0 * 20.0 / np.hypot(20.0, 3.0)))  # closing along the centre line
    assert q("traveled") == 20.0 and q("remaining") == 70.0
    active[1] = False
    assert not tk.compare_quantity(sb.MEASURES.index("distance"), 0, 1, False, 0.0, 0.0, 0.0, x, y, yaw, speed,
                                   accel, progress, active, length, width, offset)[0]  # fmt: skip
    rules = {r: tk.apply_rule(sb.RULES.index(r), 1.0, 1.0 + 5e-7) for r in sb.RULES}
    assert rules == {"lt": True, "le": True, "gt": False, "ge": False, "eq": True, "ne": False}


def _run(name: str, compiled: bool):
    sim = simulation(SCENARIOS / name, sensors=None, compiled_storyboard=compiled)
    assert sim.story_compiled == compiled
    return sim, sim.run()


@pytest.mark.parametrize("name", STORY_SCENARIOS)
def test_compiled_storyboard_equals_the_python_path_bit_for_bit(name):
    sim_c, res_c = _run(name, True)
    sim_p, res_p = _run(name, False)
    assert res_c.termination == res_p.termination
    assert [(e.time, e.kind, e.actors, e.detail) for e in res_c.events] == [
        (e.time, e.kind, e.actors, e.detail) for e in res_p.events
    ]
    assert [v.passed for v in res_c.verdicts] == [v.passed for v in res_p.verdicts]
    for f in ("x", "y", "yaw", "speed", "progress", "active", "v_des", "speed_factor", "route_x", "route_y",
              "sig_override", "ped_start", "metrics"):  # fmt: skip
        assert np.array_equal(getattr(sim_c.state, f), getattr(sim_p.state, f), equal_nan=True), f
    # The state hashes differ by design: the compiled path keeps storyboard progress and scripted speeds
    # in the EngineState (folded every step), the Python path in Python objects. Each path is deterministic.
    assert res_c.state_hash != "" and res_p.state_hash != ""
    assert simulation(SCENARIOS / name, sensors=None, compiled_storyboard=True).run().state_hash == res_c.state_hash


#: Every trigger node and action kind compiled since wave 2, on the cut-in road (lead: a third car ahead
#: of the ego, walker: a pedestrian waiting on the sidewalk until the storyboard starts it).
KINDS = """
  - id: lead
    vehicle: compact
    start: {lane: south_in_2, s: 90, speed_kph: 30}
    route: {to: north_out_2}
    behavior: {idm: {desired_speed_kph: 30}}
  - id: walker
    type: pedestrian
    start: {lane: south_sidewalk_west, s: 120}
    behavior: {jaywalk: {at_s: 120, speed: 1.5}}
storyboard:
  - name: cut
    when: {edge: {when: {compare: {measure: longitudinal, actor: ego, to: cutter, rule: lt, value: 36}}}}
    do: {lane_change: {actor: cutter, direction: right, duration: 3}}
  - name: slow
    when: {done: cut}
    do: {speed: {actor: cutter, target_kph: 30, shape: cubic, duration: 2}}
  - name: follow
    when: {all: [{done: slow}, {any: [{compare: {measure: ttc, actor: ego, to: cutter, rule: lt, value: 2}},
                                      {held: {when: {compare: {measure: speed, actor: cutter, rule: lt, value: 8.4}},
                                              for_s: 0.5}}]}]}
    do: {speed: {actor: lead, relative_to: cutter, factor: 1.1, shape: step, continuous: true}}
  - name: walk
    when: {delayed: {when: {compare: {measure: headway, actor: ego, to: cutter, freespace: true, rule: lt,
                                      value: 3}}, by_s: 1.0}}
    do: {start: walker}
  - name: stand
    when: {all: [{after: walk}, {edge: {when: {compare: {measure: time, rule: ge, value: 9}}, kind: both}}]}
    do: {halt: walker}
  - name: far
    when: {all: [{before: stand}, {compare: {measure: traveled, actor: ego, rule: ge, value: 60}}]}
    do: {mark: far}
  - name: lead_slows
    when: {all: [{after: far}, {compare: {measure: lateral, actor: ego, to: lead, rule: le, value: 5}},
                 {compare: {measure: distance, actor: ego, to: lead, freespace: true, rule: gt, value: 1}},
                 {held: {when: {after: stand}, for_s: 1}}]}
    do: {speed: {actor: lead, target_kph: 20, rate: 2}}
  - name: replaced
    when: {done: follow}
    do: {mark: follow_replaced}
  - when: {any: [{compare: {measure: remaining, actor: ego, rule: lt, value: 250}},
                 {edge: {when: {done: lead_slows}, kind: falling}}]}
    do: {end: near_goal}
end: {timeout_s: 60}
"""


def _kinds_yaml(tmp_path) -> str:
    head = (SCENARIOS / "urban" / "cut_in.yaml").read_text().split("storyboard:")[0]
    path = tmp_path / "kinds.yaml"
    path.write_text(head.rstrip() + "\n" + KINDS.lstrip("\n"))
    return str(path)


def test_every_new_kind_compiled_equals_the_python_path(tmp_path):
    path = _kinds_yaml(tmp_path)
    sim_c = simulation(path, "autopilot", sensors=None)
    sim_p = simulation(path, "autopilot", sensors=None, compiled_storyboard=False)
    assert sim_c.story_compiled and not sim_p.story_compiled
    res_c, res_p = sim_c.run(), sim_p.run()
    ev_c = [(e.time, e.kind, e.actors, e.detail) for e in res_c.events]
    assert ev_c == [(e.time, e.kind, e.actors, e.detail) for e in res_p.events]
    assert res_c.termination == res_p.termination == "near_goal"
    at = {d.split(" -> ", 1)[1]: round(t, 6) for t, k, _, d in ev_c if k == EventKind.STORYBOARD}
    # by hand: the headway holds at the first check (0.05 s), latched + 1 s; the time edge at 9 s; "after
    # stand" held for 1 s; the follow is replaced at that same check, which the later "done" entry sees
    assert at["start walker"] == 1.05 and at["halt walker"] == 9.0
    assert at["speed lead -> 5.55556 m/s linear 2 m/s^2"] == 10.0 and at["mark follow_replaced"] == 10.0
    for f in ("x", "y", "yaw", "speed", "progress", "active", "started", "v_des", "speed_factor", "route_x",
              "route_y", "ped_start"):  # fmt: skip
        assert np.array_equal(getattr(sim_c.state, f), getattr(sim_p.state, f), equal_nan=True), f
    assert bool(sim_c.state.story_done.all())  # every entry fired


ESMINI = Path(__file__).resolve().parents[2] / ".." / "shared" / "esmini" / "xosc"
#: The esmini example files (OpenSCENARIO): every one's storyboard runs compiled.
ESMINI_COMPILED = [
    "acc-test", "acc-toggle", "alks-test", "alks_cut-out", "alks_decelerate", "alks_pedestrian", "cut-in",
    "cut-in_simple", "keep_lateral_distance", "lane-change_clothoid_based_trajectory", "lane_change_simple",
    "left-hand-traffic_by_heading", "long_dist_action_with_jerk", "ltap-od", "ltap-od-relative-speed",
    "pedestrian", "pedestrian_collision", "slow-lead-vehicle", "speed-profile", "straight_500m_pedestrian",
    "synchronize", "traffic_lights",
]  # fmt: skip


@pytest.mark.skipif(not ESMINI.is_dir(), reason="../shared/esmini is absent")
@pytest.mark.parametrize("name", ESMINI_COMPILED)
def test_esmini_storyboards_compiled_equal_the_python_path(name):
    from simcore.scenario.openscenario import xosc_options

    runs = []
    for compiled in (True, False):
        with xosc_options(allow_partial=True):
            sim = simulation(ESMINI / f"{name}.xosc", "autopilot", sensors=None, compiled_storyboard=compiled)
        assert sim.story_compiled == compiled
        runs.append((sim, sim.run()))
    (sim_c, res_c), (sim_p, res_p) = runs
    assert res_c.termination == res_p.termination
    assert [(e.time, e.kind, e.actors, e.detail) for e in res_c.events] == [
        (e.time, e.kind, e.actors, e.detail) for e in res_p.events
    ]
    for f in ("x", "y", "yaw", "speed", "progress", "active", "started", "v_des", "speed_factor", "route_x",
              "route_y", "sig_override", "ped_start", "metrics"):  # fmt: skip
        assert np.array_equal(getattr(sim_c.state, f), getattr(sim_p.state, f), equal_nan=True), f


# ----------------------------------------------------------------------------- speed_follow, follow_path, in_lane

#: The three kinds compiled in wave 4 on the cut-in road: the lead tracks speed references (unlimited, then
#: jerk-limited), the cutter follows a local path into the ego's lane (south_in_2 is right of south_in_1).
NEW_KINDS = """
  - id: lead
    vehicle: compact
    start: {lane: south_in_1, s: 120, speed_kph: 36}
    route: {to: north_out_1}
    behavior: {idm: {desired_speed_kph: 36}}
storyboard:
  - name: ramp
    when: {time_s: 1}
    do: {speed_follow: {actor: lead, points: [[5, 20]]}}
  - name: settle
    when: {done: ramp}
    do: {speed_follow: {actor: lead, points: [[2, 12], [4, 12]], max_accel: 3, max_decel: 4, max_accel_rate: 2,
                        max_decel_rate: 3}}
  - name: shift
    when: {time_s: 2}
    do: {follow_path: {actor: cutter, points: [[0, 0], [30, -3.5]], local: true}}
  - name: shift_done
    when: {done: shift}
    do: {mark: shifted}
  - when: {in_lane: {actor: cutter, lane: south_in_2}}
    do: {mark: in_ego_lane}
end: {timeout_s: 20}
"""


def _new_kinds_run(tmp_path, compiled: bool):
    head = (SCENARIOS / "urban" / "cut_in.yaml").read_text().split("storyboard:")[0]
    path = tmp_path / "new_kinds.yaml"
    path.write_text(head.rstrip() + "\n" + NEW_KINDS.lstrip("\n"))
    sim = simulation(str(path), "autopilot", sensors=None, compiled_storyboard=compiled)
    assert sim.story_compiled == compiled
    rows = {a: sim.world.actor_ids.index(a) for a in ("lead", "cutter")}
    st = sim.world.state
    rec = []
    for _ in range(280):  # 14 s
        sim.step()
        rec.append((sim.t, *(float(getattr(st, f)[r]) for r in rows.values() for f in ("speed", "progress", "x", "y"))))
    return sim, rows, np.array(rec)


def test_speed_follow_follow_path_and_in_lane_compiled_equal_the_python_path_and_hand_values(tmp_path):
    sim_c, rows, rec_c = _new_kinds_run(tmp_path, True)
    sim_p, _, rec_p = _new_kinds_run(tmp_path, False)
    assert np.array_equal(rec_c, rec_p)
    ev_c = [(e.time, e.kind, e.actors, e.detail) for e in sim_c.events]
    assert ev_c == [(e.time, e.kind, e.actors, e.detail) for e in sim_p.events]
    for f in ("x", "y", "yaw", "speed", "progress", "v_des", "speed_factor", "route_x", "route_y"):
        assert np.array_equal(getattr(sim_c.state, f), getattr(sim_p.state, f), equal_nan=True), f
    at = {d.split(" -> ", 1)[1]: round(t, 9) for t, k, _, d in ev_c if k == EventKind.STORYBOARD}
    t = rec_c[:, 0]
    k1, k2 = int(np.argmin(abs(t - 1.0))), int(np.argmin(abs(t - 2.0)))
    # speed_follow without limits: each step aims at the reference one step ahead, so at 1 s + tau the lead
    # drives v0 + (20 - v0) min(tau + dt, 5) / 5; settled on 20 m/s at 6 s, where "settle" fires (done)
    assert at["speed_follow lead (1 points)"] == 1.0 and at["speed_follow lead (2 points)"] == 6.0
    assert at["mark shifted"] > at["follow_path cutter (2 points)"] == 2.0
    v0, dt = rec_c[k1, 1], 0.05
    tau = t[k1 + 1 : k1 + 101] - 1.0
    want = v0 + (20.0 - v0) * np.minimum(tau + dt, 5.0) / 5.0
    assert rec_c[k1 + 1 : k1 + 101, 1] == pytest.approx(want, abs=1e-9)
    # the kinematic lead covers the trapezoids of those speeds
    v = np.concatenate([[v0], want])
    assert rec_c[k1 + 100, 2] - rec_c[k1, 2] == pytest.approx(float(np.sum(0.5 * (v[1:] + v[:-1]) * dt)), abs=1e-6)
    # follow_path: done at the first check where the cutter's progress reaches p0 + the path's length
    p0, length = rec_c[k2, 6], float(np.hypot(30.0, 3.5))
    k3 = int(np.argmin(abs(t - at["mark shifted"])))
    assert rec_c[k3, 6] >= p0 + length - 1e-6 > rec_c[k3 - 1, 6]
    # its route: on the segment from the route point at p0 to 30 m ahead and 3.5 m right, then the old route
    # (straight here) 3.5 m to the right
    r = rows["cutter"]
    a, b = int(sim_c.world.routes.start[r]), int(sim_c.world.routes.start[r + 1])
    s = sim_c.world.routes.s[a:b]
    ox, oy = sim_c.initial.route_x[0, a:b], sim_c.initial.route_y[0, a:b]
    nx, ny = sim_c.state.route_x[0, a:b], sim_c.state.route_y[0, a:b]
    x0, y0 = np.interp(p0, s, ox), np.interp(p0, s, oy)
    dx, dy = np.interp(p0 + 1.0, s, ox) - x0, np.interp(p0 + 1.0, s, oy) - y0
    hx, hy = dx / np.hypot(dx, dy), dy / np.hypot(dx, dy)  # the lane's heading
    on = (s >= p0) & (s <= p0 + length)
    u = (s[on] - p0) / length
    assert nx[on] == pytest.approx(x0 + u * (30.0 * hx + 3.5 * hy), abs=1e-6)
    assert ny[on] == pytest.approx(y0 + u * (30.0 * hy - 3.5 * hx), abs=1e-6)
    beyond = (s > p0 + length + 1.0) & (s < p0 + length + 60.0)
    assert (nx[beyond] - ox[beyond]) * hy - (ny[beyond] - oy[beyond]) * hx == pytest.approx(3.5, abs=1e-6)
    # in_lane: the first check where the cutter's reference point is within half a lane of south_in_2's centre
    net = sim_c.world.network
    lane = net.lane_id("south_in_2")
    lx, ly, _ = net.lane_points(lane)
    side = (rec_c[:, 7] - lx[0]) * hy - (rec_c[:, 8] - ly[0]) * hx  # lateral offset from the (straight) lane
    first = int(np.argmax(np.abs(side) <= 0.5 * float(net.lane_width[lane])))
    assert at["mark in_ego_lane"] == pytest.approx(t[first])


def test_follow_path_route_chains_local_paths_by_hand():
    """A straight route along +x (samples every 1 m): a local path [[0, 0], [20, 2]] from progress 10 m, then
    one [[0, 0], [10, 0]] from 1.5 m after its end (chained: it starts at the first's end, along its last
    segment), then one from 5 m after that (not chained: it starts at the route point there)."""
    s = np.arange(0.0, 120.0)
    rx, ry, h = s.copy(), np.zeros_like(s), np.zeros_like(s)
    start, chain = np.array([0, len(s)]), np.zeros(pk.N_CHAIN)
    xs, ys = np.array([0.0, 20.0, 0.0, 10.0]), np.array([0.0, 2.0, 0.0, 0.0])
    end1 = pk.follow_path_route(0, 10.0, xs, ys, 0, 2, 1, chain, 0, start, s, h, rx, ry)
    l1 = float(np.hypot(20.0, 2.0))
    assert end1 == pytest.approx(10.0 + l1)
    k = 15  # on the path: s - 10 along it
    assert (rx[k], ry[k]) == pytest.approx((10.0 + 5.0 * 20.0 / l1, 5.0 * 2.0 / l1))
    k = 60  # beyond: the old route from the end's foot point (s = 30), 2 m to the left
    assert (rx[k], ry[k]) == pytest.approx((60.0 - end1 + 30.0, 2.0))
    yaw = np.arctan2(2.0, 20.0)
    assert list(chain) == pytest.approx([1.0, end1, 30.0, 2.0, yaw])
    end2 = pk.follow_path_route(0, end1 + 1.5, xs, ys, 2, 4, 1, chain, 0, start, s, h, rx, ry)
    assert end2 == pytest.approx(end1 + 10.0)  # chained: from the first's end, not from the row's progress
    k = int(np.ceil(end1 + 4.0))
    u = k - end1
    assert (rx[k], ry[k]) == pytest.approx((30.0 + u * np.cos(yaw), 2.0 + u * np.sin(yaw)))
    x_end, y_end = 30.0 + 10.0 * np.cos(yaw), 2.0 + 10.0 * np.sin(yaw)
    assert list(chain[2:4]) == pytest.approx([x_end, y_end])
    # beyond it the route runs along +x at y_end; a path from 5 m after its end is not chained: it starts at
    # the route point there, heading +x
    at = end2 + 5.0
    assert pk.follow_path_route(0, at, xs, ys, 2, 4, 1, chain, 0, start, s, h, rx, ry) == pytest.approx(at + 10.0)
    k = int(np.ceil(at + 3.0))
    assert ry[k] == pytest.approx(y_end) and chain[3] == pytest.approx(y_end)


def test_reference_speed_and_interp_equal_numpy_interp():
    """``interp_at`` is np.interp; a speed_follow reference is np.interp through (0, v0) and its points."""
    rng = np.random.default_rng(3)
    xp, fp = np.sort(rng.uniform(0.0, 10.0, 9)), rng.normal(size=9)
    for x in [*rng.uniform(-1.0, 11.0, 50), *xp]:
        assert pk.interp_at(x, xp, fp, 0, 9) == np.interp(x, xp, fp)
    ts, vs = np.array([2.0, 5.0, 9.0]), np.array([10.0, 4.0, 6.0])
    for tau in np.linspace(0.0, 12.0, 97):
        assert pk.reference_speed(tau, 3.0, ts, vs, 0, 3) == np.interp(tau, [0.0, *ts], [3.0, *vs])
    # settled: 9 s after the start (1 s) and within 0.01 m/s of the last speed (6 m/s)
    assert pk.reference_settled(10.0, 1.0, 6.005, ts, vs, 3)
    assert not pk.reference_settled(9.9, 1.0, 6.0, ts, vs, 3) and not pk.reference_settled(10.0, 1.0, 6.02, ts, vs, 3)
    assert not pk.reference_settled(10.0, np.nan, 6.0, ts, vs, 3)  # not started
