"""Storyboard triggers and actions beyond the first set: each at its exact expected step and state.

The road: the generated junction of ``test_storyboard`` (south_in_2 runs straight north, 3.5 m lanes,
south_in_1 to its left). ``lead`` starts standing 45 m ahead of the ego on the same lane; the south
signal is forced green so nothing but the storyboard changes the lead's speed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simcore.api import simulation
from simcore.evaluation.events import EventKind
from simcore.scenario.environment import world_environment

DT = 0.05
GREEN = "  - when: {time_s: 0}\n    do: {signal: {group: south, state: green}}\n"

BASE = """\
simcore: 1
name: storyboard-actions
seed: 1
map:
  generate: intersection
  lanes_per_direction: 2
  arm_length: 200
  speed_limit_kph: 60
  signals: {green_s: 10, amber_s: 3, all_red_s: 2}
ego:
  vehicle: sedan
  start: {lane: south_in_2, s: 10, speed_kph: 36}
  route: {to: north_out_2}
actors:
  - id: lead
    vehicle: suv
    start: {lane: south_in_2, s: 60, speed: 4}
    route: {to: north_out_2}
  - id: late
    vehicle: sedan
    start: {lane: south_in_1, s: 5}
    route: {to: north_out_1}
end: {timeout_s: 12, ego_reaches_goal: false}
storyboard:
"""


def _sim(tmp_path: Path, story: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(BASE + GREEN + story, encoding="utf-8")
    return simulation(path)


def _events(events) -> list[tuple[float, str]]:
    return [(round(e.time, 9), e.detail) for e in events if e.kind == EventKind.STORYBOARD]


def _steps(sim, n: int, probe) -> list:
    out = []
    for _ in range(n):
        sim.step()
        out.append(probe(sim))
    return out


def _first(values: list[bool]) -> int:
    return next(k + 1 for k, v in enumerate(values) if v)


# ----------------------------------------------------------------------------- triggers


def test_time_trigger_at_2s_fires_at_step_40(tmp_path: Path) -> None:
    sim = _sim(tmp_path, "  - when: {time_s: 2.0}\n    do: {friction: 0.8}\n")
    fired = _steps(sim, 60, lambda s: bool(_events(s.events[-1:])) and s.events[-1].detail.startswith("time 2"))
    assert _first(fired) == 40


def _centre(st, p, i: int) -> np.ndarray:
    c = p["center_offset"][i]
    return np.array([st.x[i] + c * math.cos(st.yaw[i]), st.y[i] + c * math.sin(st.yaw[i])])


def _gap(sim) -> float:
    st, p = sim.world.state, sim.world.params
    d = np.linalg.norm(_centre(st, p, 1) - _centre(st, p, 0))
    return float(d - 0.5 * (p["length"][0] + p["length"][1]))


def test_headway_and_ttc_triggers(tmp_path: Path) -> None:
    stop = "  - when: {time_s: 0.5}\n    do: {stop: {actor: lead, decel: 6}}\n"
    ref = _sim(tmp_path, stop, "ref.yaml")
    # in line on a straight lane the closing speed is the speed difference
    trace = _steps(ref, 200, lambda s: (_gap(s), float(s.world.state.speed[0]), float(s.world.state.speed[1])))
    hw = [g / v0 < 3.0 for g, v0, _ in trace]
    ttc = [v0 > v1 and g / (v0 - v1) < 2.5 for g, v0, v1 in trace]
    story = stop + (
        "  - when: {headway: {actor: ego, to: lead, below_s: 3.0}}\n    do: {friction: 0.9}\n"
        "  - when: {ttc: {actor: ego, to: lead, below_s: 2.5}}\n    do: {friction: 0.8}\n"
    )
    ev = {d: t for t, d in _events(_sim(tmp_path, story).run().events)}
    assert 20 < _first(hw) < _first(ttc)
    assert ev["headway ego-lead < 3 s -> friction 0.9"] == round(_first(hw) * DT, 9)
    assert ev["ttc ego-lead < 2.5 s -> friction 0.8"] == round(_first(ttc) * DT, 9)


def test_position_progress_and_relative_speed_triggers(tmp_path: Path) -> None:
    ref = _sim(tmp_path, "", "ref.yaml")
    net = ref.world.network
    x, y, s = net.lane_points(net.lane_id("south_in_2"))
    px, py = float(np.interp(40.0, s, x)), float(np.interp(40.0, s, y))
    s0 = float(ref.world.state.progress[0])
    probe = [
        lambda q: math.hypot(q.world.state.x[0] - px, q.world.state.y[0] - py) <= 2.0,
        lambda q: q.world.state.progress[0] >= s0 + 25.0,
        lambda q: q.world.state.speed[0] - q.world.state.speed[1] < 4.0,
    ]
    trace = _steps(ref, 240, lambda q: [f(q) for f in probe])
    story = (
        f"  - when: {{position: {{actor: ego, x: {px!r}, y: {py!r}, within_m: 2}}}}\n    do: {{friction: 0.9}}\n"
        f"  - when: {{progress: {{actor: ego, above_m: {s0 + 25.0!r}}}}}\n    do: {{friction: 0.8}}\n"
        "  - when: {relative_speed: {actor: ego, to: lead, below_mps: 4}}\n    do: {friction: 0.7}\n"
    )
    got = [t for t, _ in _events(_sim(tmp_path, story).run().events)[1:]]
    want = [round(_first([row[k] for row in trace]) * DT, 9) for k in range(3)]
    assert sorted(got) == sorted(want)


def _on_lane(net, name: str, px: float, py: float) -> bool:
    """Plain NumPy reference: foot point on the lane's centre line, inside it, within half the width."""
    lane = net.lane_id(name)
    x, y, s = net.lane_points(lane)
    ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
    vx, vy = bx - ax, by - ay
    u = np.clip(((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy), 0, 1)
    d = np.hypot(ax + u * vx - px, ay + u * vy - py)
    k = int(np.argmin(d))
    sf = s[k] + u[k] * (s[k + 1] - s[k])
    return bool(0 < sf < s[-1] and d[k] <= 0.5 * net.lane_width[lane])


def test_in_lane_trigger_matches_a_plain_projection(tmp_path: Path) -> None:
    change = "  - when: {time_s: 1.0}\n    do: {lane_change: {actor: lead, direction: left, duration: 3}}\n"
    ref = _sim(tmp_path, change, "ref.yaml")
    net = ref.world.network
    on = _steps(ref, 240, lambda q: _on_lane(net, "south_in_1", float(q.world.state.x[1]), float(q.world.state.y[1])))
    assert _first(on) > 20
    res = _sim(tmp_path, change + "  - when: {in_lane: {actor: lead, lane: south_in_1}}\n    do: {end: there}\n").run()
    assert res.termination == "there" and math.isclose(res.sim_time, _first(on) * DT)


def test_after_trigger_same_check_or_next(tmp_path: Path) -> None:
    story = (
        "  - name: second\n    when: {after: first}\n    do: {friction: 0.8}\n"
        "  - name: first\n    when: {time_s: 1}\n    do: {friction: 0.9}\n"
        "  - when: {after: first}\n    do: {friction: 0.7}\n    delay_s: 0.5\n"
    )
    assert _events(_sim(tmp_path, story).run().events)[1:] == [
        (1.0, "time 1 s -> friction 0.9"),
        (1.05, "after first -> friction 0.8"),  # listed before 'first': seen at the next check
        (1.5, "after first -> friction 0.7"),
    ]


# ----------------------------------------------------------------------------- speed profiles


def test_linear_speed_profile_reaches_target_at_exact_time(tmp_path: Path) -> None:
    sim = _sim(tmp_path, "  - when: {time_s: 1.0}\n    do: {speed: {actor: lead, target: 10, rate: 2}}\n")
    st = sim.world.state
    _steps(sim, 20, lambda q: None)
    v0 = float(st.speed[1])
    p0 = np.array([st.x[1], st.y[1]])
    t_reach = 1.0 + (10.0 - v0) / 2.0
    n = math.ceil((t_reach - 1.0) / DT - 1e-9)
    speeds = _steps(sim, n + 10, lambda q: (q.t, float(q.world.state.speed[1])))
    for t, v in speeds:
        assert math.isclose(v, min(v0 + 2.0 * (t - 1.0), 10.0), abs_tol=1e-9), (t, v)
    assert speeds[n - 1][1] == pytest.approx(10.0, abs=1e-9) and speeds[n - 2][1] < 10.0
    # distance: the linear ramp then 10 m/s for the rest of the step (straight lane)
    sim2 = _sim(tmp_path, "  - when: {time_s: 1.0}\n    do: {speed: {actor: lead, target: 10, rate: 2}}\n", "b.yaml")
    _steps(sim2, 20 + n, lambda q: None)
    t_end = 1.0 + n * DT
    want = 0.5 * (v0 + 10.0) * (t_reach - 1.0) + 10.0 * (t_end - t_reach)
    st2 = sim2.world.state
    assert math.hypot(st2.x[1] - p0[0], st2.y[1] - p0[1]) == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize(
    ("shape", "extra", "check"),
    [
        ("step", "", lambda v0, t: 12.0),
        ("linear", "duration: 2", lambda v0, t: v0 + (12.0 - v0) * min(t / 2.0, 1.0)),
        ("cubic", "duration: 2", lambda v0, t: v0 + (12.0 - v0) * (lambda u: u * u * (3 - 2 * u))(min(t / 2.0, 1.0))),
    ],
)
def test_speed_profile_shapes(tmp_path: Path, shape: str, extra: str, check) -> None:
    how = f", {extra}" if extra else ""
    sim = _sim(
        tmp_path,
        f"  - when: {{time_s: 1.0}}\n    do: {{speed: {{actor: lead, target_kph: 43.2, shape: {shape}{how}}}}}\n",
    )
    _steps(sim, 20, lambda q: None)
    v0 = float(sim.world.state.speed[1])
    assert (shape == "step") == math.isclose(v0, 12.0)  # a step changes the speed at the firing check
    for t, v in _steps(sim, 50, lambda q: (q.t - 1.0, float(q.world.state.speed[1]))):
        assert math.isclose(v, check(v0, t), abs_tol=1e-9), (shape, t, v)


def test_stop_holds_until_started(tmp_path: Path) -> None:
    story = (
        "  - when: {time_s: 1.0}\n    do: {stop: {actor: lead, decel: 3}}\n"
        "  - when: {time_s: 5.0}\n    do: {start: lead}\n"
    )
    sim = _sim(tmp_path, story)
    _steps(sim, 20, lambda q: None)
    v0 = float(sim.world.state.speed[1])
    trace = _steps(
        sim, 120, lambda q: (q.t, float(q.world.state.speed[1]), float(q.world.state.x[1]), float(q.world.state.y[1]))
    )
    for t, v, _, _ in trace:
        if t <= 5.0 + 1e-9:
            assert math.isclose(v, max(v0 - 3.0 * (t - 1.0), 0.0), abs_tol=1e-9), (t, v)
    held = [(x, y) for t, v, x, y in trace if 1.0 + v0 / 3.0 + DT <= t <= 5.0]
    assert len(held) > 10 and len(set(held)) == 1  # not a millimetre of creep
    assert trace[-1][1] > 1.0  # driving again after the start


# ----------------------------------------------------------------------------- spawn, teleport, lane change


def _lane_pose(net, name: str, s: float) -> tuple[float, float]:
    x, y, ls = net.lane_points(net.lane_id(name))
    return float(np.interp(s, ls, x)), float(np.interp(s, ls, y))


def test_spawn_is_absent_until_then_and_appears_at_its_place(tmp_path: Path) -> None:
    story = "  - when: {time_s: 2}\n    do: {spawn: {actor: late, at: {lane: south_in_1, s: 50, speed_kph: 18}}}\n"
    sim = _sim(tmp_path, story)
    st = sim.world.state
    assert not st.active[2]
    x0, y0 = float(st.x[2]), float(st.y[2])
    for k in range(1, 41):
        sim.step()
        assert st.active[2] == (k == 40)
        if k < 40:
            assert (st.x[2], st.y[2]) == (x0, y0)
    px, py = _lane_pose(sim.world.network, "south_in_1", 50)
    assert (float(st.x[2]), float(st.y[2])) == pytest.approx((px, py), abs=1e-9)
    assert float(st.speed[2]) == pytest.approx(5.0)
    r = sim.world.routes
    a, b = r.start[2], r.start[3]
    k = np.searchsorted(r.s[a:b], st.progress[2]) + a
    assert math.hypot(r.x[k] - px, r.y[k] - py) < 2.0  # progress re-projected onto its route
    sim.reset()
    assert not sim.world.state.active[2]


def test_teleport_by_lane_and_by_xy(tmp_path: Path) -> None:
    story = (
        "  - when: {time_s: 0.5}\n    do: {teleport: {actor: lead, lane: south_in_2, s: 150, offset_m: 0.5}}\n"
        "  - when: {time_s: 1.0}\n    do: {teleport: {actor: ego, x: 1.75, y: -120, yaw_deg: 90, speed: 3}}\n"
    )
    sim = _sim(tmp_path, story)
    net = sim.world.network
    st = sim.world.state
    _steps(sim, 10, lambda q: None)
    x, y, ls = net.lane_points(net.lane_id("south_in_2"))
    h = math.atan2(np.interp(150.5, ls, y) - np.interp(149.5, ls, y), np.interp(150.5, ls, x) - np.interp(149.5, ls, x))
    px, py = _lane_pose(net, "south_in_2", 150)
    assert (float(st.x[1]), float(st.y[1])) == pytest.approx((px - 0.5 * math.sin(h), py + 0.5 * math.cos(h)), abs=1e-9)
    assert float(st.lateral[1]) == pytest.approx(0.5, abs=1e-6)
    _steps(sim, 10, lambda q: None)
    assert (float(st.x[0]), float(st.y[0]), float(st.yaw[0]), float(st.speed[0])) == pytest.approx(
        (1.75, -120.0, math.pi / 2, 3.0), abs=1e-9
    )


def test_lane_change_moves_one_lane_over_in_its_duration(tmp_path: Path) -> None:
    sim = _sim(
        tmp_path, "  - when: {time_s: 1.0}\n    do: {lane_change: {actor: lead, direction: left, duration: 3}}\n"
    )
    net = sim.world.network
    st = sim.world.state
    assert net.lane_left[net.lane_id("south_in_2")] == net.lane_id("south_in_1")
    trace = _steps(
        sim, 200, lambda q: (q.t, _on_lane(net, "south_in_1", float(q.world.state.x[1]), float(q.world.state.y[1])))
    )
    before = [on for t, on in trace if t <= 1.0]
    assert not any(before)
    # the route is across after 3 s of travel; pure pursuit settles on it within a few seconds more
    assert all(on for t, on in trace if 6.0 <= t <= 9.0)
    x = net.lane_points(net.lane_id("south_in_1"))[0]
    assert float(st.x[1]) == pytest.approx(float(x[0]), abs=0.1)  # a straight northbound lane: x is constant


# ----------------------------------------------------------------------------- environment


def test_weather_and_friction_actions_change_the_environment_and_reset_restores(tmp_path: Path) -> None:
    story = (
        "  - when: {time_s: 0.5}\n    do: {weather: {rain_mm_h: 8, fog_visibility_m: 150}}\n"
        "  - when: {time_s: 1.0}\n    do: {friction: 0.4}\n"
    )
    sim = _sim(tmp_path, story)
    env = world_environment(sim.world)
    assert (env.rain_mm_h, env.fog_visibility_m, env.friction) == (0.0, None, 1.0)
    _steps(sim, 10, lambda q: None)
    assert (env.rain_mm_h, env.fog_visibility_m, env.friction) == (8.0, 150.0, 1.0)
    _steps(sim, 10, lambda q: None)
    assert env.friction == 0.4
    sim.reset()
    assert (env.rain_mm_h, env.fog_visibility_m, env.friction) == (0.0, None, 1.0)


def test_end_when_trigger_ends_the_run(tmp_path: Path) -> None:
    ref = _sim(tmp_path, "", "ref.yaml")
    s0 = float(ref.world.state.progress[0])
    past = _steps(ref, 200, lambda q: q.world.state.progress[0] >= s0 + 30.0)
    path = tmp_path / "e.yaml"
    text = (BASE + GREEN).replace("end: {timeout_s: 12, ego_reaches_goal: false}", "")
    when = f"{{progress: {{actor: ego, above_m: {s0 + 30.0!r}}}}}"
    text += f"end: {{timeout_s: 12, ego_reaches_goal: false, when: {when}}}\n"
    path.write_text(text, encoding="utf-8")
    res = simulation(path).run()
    assert res.termination == "end_condition" and res.steps == _first(past)


def _ego_profile_trace(tmp_path: Path, in_engine: bool) -> list[tuple[float, float]]:
    from simcore.runner.loop import Simulation

    base = _sim(tmp_path, "  - when: {time_s: 1.0}\n    do: {speed: {actor: ego, target: 4, rate: 3}}\n")
    sim = Simulation(base.world, base.agent, end=base.end, in_engine=in_engine)
    _steps(sim, 20, lambda q: None)
    v0 = float(sim.world.state.speed[0])
    trace = _steps(sim, 60, lambda q: (q.t - 1.0, float(q.world.state.speed[0])))
    for t, v in trace:
        if t <= (v0 - 4.0) / 3.0 + 1e-9:
            assert math.isclose(v, v0 - 3.0 * t, abs_tol=1e-9), (t, v)
    assert trace[-1][1] > 5.0  # then the agent drives on at its own speed
    return trace


def test_ego_speed_profile_is_the_same_in_engine_and_through_act(tmp_path: Path) -> None:
    a = np.array(_ego_profile_trace(tmp_path, True))
    b = np.array(_ego_profile_trace(tmp_path, False))
    np.testing.assert_allclose(a, b, atol=1e-6)
