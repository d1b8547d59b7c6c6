"""Stop and yield signs of an OpenDRIVE file drive the junction right of way and the stop-sign
infraction.

The map (hand-written XODR) is a right-angled crossing of a major road (west -> east along y = 0)
and a minor road (south -> north along x = 0), one lane each, with the sign on the minor
approach 2 m before the junction. Release times are computed by hand from the geometry:
connecting lane 10 (major) runs along y = -1.75 from x = -10; connecting lane 11 (minor) along
x = 1.75. Their centre lines are compared in 0.5 m samples and conflict where closer than
``CONFLICT_DIST_M`` = 2.5 m: the last major sample near the minor lane is x = 4.0 (distance
sqrt(2.25^2 + 0.25^2) = 2.26 m; x = 4.5 gives 2.76 m), i.e. route s 114 on the major route
(which starts at x = -110). The major car has cleared the conflict once its rear is ``CLEAR_M``
= 1 m past that: progress (rear axle) > 115 + rear overhang.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simcore._types import StopRule
from simcore.api import simulation
from simcore.behavior.junction_kernels import PS_STOP_SIGN
from simcore.road.opendrive import load_opendrive
from simcore.runner.engine import route_stop_signs

SIGN_TYPES = {"yield": "205", "stop": "206"}


def _road(rid: str, x: float, y: float, hdg: float, link: str, junction: str = "-1", extra: str = "") -> str:
    lane_link = '<link><predecessor id="-1"/><successor id="-1"/></link>' if junction != "-1" else ""
    length = 20 if junction != "-1" else 100
    return (
        f'<road id="{rid}" length="{length}" junction="{junction}"><link>{link}</link><planView>'
        f'<geometry s="0" x="{x}" y="{y}" hdg="{hdg}" length="{length}"><line/></geometry></planView>'
        '<lanes><laneSection s="0"><center><lane id="0" type="none"/></center><right>'
        f'<lane id="-1" type="driving">{lane_link}<width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane>'
        f"</right></laneSection></lanes>{extra}</road>"
    )


def crossing(sign: str | None) -> str:
    """The crossing, with a ``sign`` ("yield", "stop" or None) on the minor approach (road 3)."""
    h = math.pi / 2
    signals = ""
    if sign is not None:
        signals = (
            f'<signals><signal id="s1" name="{sign}" s="98" t="-3" orientation="+" dynamic="no" '
            f'country="DE" type="{SIGN_TYPES[sign]}" subtype="-1"/></signals>'
        )
    to_j = '<successor elementType="junction" elementId="J"/>'
    from_j = '<predecessor elementType="junction" elementId="J"/>'
    roads = [
        _road("1", -110, 0, 0, to_j),
        _road("2", 10, 0, 0, from_j),
        _road("3", 0, -110, h, to_j, extra=signals),
        _road("4", 0, 10, h, from_j),
        _road("10", -10, 0, 0, '<predecessor elementType="road" elementId="1" contactPoint="end"/>'
              '<successor elementType="road" elementId="2" contactPoint="start"/>', junction="J"),
        _road("11", 0, -10, h, '<predecessor elementType="road" elementId="3" contactPoint="end"/>'
              '<successor elementType="road" elementId="4" contactPoint="start"/>', junction="J"),
    ]
    junction = (
        '<junction id="J" name="J">'
        '<connection id="0" incomingRoad="1" connectingRoad="10" contactPoint="start">'
        '<laneLink from="-1" to="-1"/></connection>'
        '<connection id="1" incomingRoad="3" connectingRoad="11" contactPoint="start">'
        '<laneLink from="-1" to="-1"/></connection></junction>'
    )
    return f'<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>{"".join(roads)}{junction}</OpenDRIVE>'


#: Major car: 10 m/s from road 1 s = 40; minor car: 8 m/s from road 3 s = 60, arriving first.
ACTORS = """actors:
  - {id: major, start: {lane: "1:0:-1", s: 40, speed: 10}, route: {to: "2:0:-1"},
     behavior: {idm: {desired_speed_kph: 36}}}
  - {id: minor, start: {lane: "3:0:-1", s: 60, speed: 8}, route: {to: "4:0:-1"},
     behavior: {idm: {desired_speed_kph: 28.8}, gap_acceptance: {critical_gap_s: 8}}}
end: {timeout_s: 30}
"""


def _sim(tmp_path: Path, sign: str | None, body: str = ACTORS):
    (tmp_path / "x.xodr").write_text(crossing(sign))
    f = tmp_path / "s.yaml"
    f.write_text(f"simcore: 1\nname: signs\nseed: 1\nmap: {{file: x.xodr}}\n{body}")
    return simulation(f, record_every=1)


def _entries(sim, steps: int = 400) -> tuple[dict[str, float], list[tuple[float, bool, float]]]:
    """Time each car's front crosses its passage's hold line, and the minor car's (t, held, speed)."""
    w = sim.world
    jt = w.junctions
    front = w.params["length"] - w.params["rear_overhang"]
    rows = {a: w.actor_ids.index(a) for a in ("major", "minor")}
    entered: dict[str, float] = {}
    trace = []
    m = rows["minor"]
    for _ in range(steps):
        t0, v0 = sim.t, float(w.state.speed[m])
        sim.step()
        # hold_s was decided at the start of this step, from the positions at t0
        trace.append((t0, bool(np.isfinite(sim.scratch.hold_s[m])), v0))
        for a, i in rows.items():
            hold = jt.ps_hold[jt.ps_start[i]]
            if a not in entered and w.state.progress[i] + front[i] > hold + 0.5:
                entered[a] = sim.t
    return entered, trace


def test_signs_become_stop_rules_on_the_minor_lane():
    for sign, rule in (("yield", StopRule.YIELD), ("stop", StopRule.STOP)):
        net = load_opendrive(text=crossing(sign))
        i = net.lane_id("3:0:-1")
        assert net.lane_stop_s[i] == pytest.approx(98.0) and net.lane_signal[i] == -1
        assert net.stop_rules()[i] == rule
        assert int(np.sum(np.isfinite(net.lane_stop_s))) == 1


def test_without_a_sign_the_first_arrival_goes_first(tmp_path):
    entered, _ = _entries(_sim(tmp_path, None))
    assert entered["minor"] < entered["major"]


@pytest.mark.parametrize("sign", ["yield", "stop"])
def test_minor_road_car_gives_way_until_the_major_car_has_cleared(tmp_path, sign):
    sim = _sim(tmp_path, sign)
    w = sim.world
    major, minor = w.actor_ids.index("major"), w.actor_ids.index("minor")
    rule = StopRule.YIELD if sign == "yield" else StopRule.STOP
    assert w.junctions.ps_stop[w.junctions.ps_start[minor]] == 1 + rule
    assert w.junctions.ps_stop[w.junctions.ps_start[major]] == 0
    # Hand computation: the major car keeps 10 m/s (IDM at its desired speed on a free road) and
    # clears the conflict when its rear axle passes route s 115 + rear overhang.
    p0 = float(w.state.progress[major])
    t_clear = (115.0 + float(w.params["rear_overhang"][major]) - p0) / 10.0
    entered, trace = _entries(sim)
    assert entered["major"] < entered["minor"]
    released = next(t for t, held, _ in trace if t > 1.0 and not held)
    dt = sim.world.dt
    # The hold is decided at the start of a step from the current positions: released at the first
    # step time after t_clear.
    assert t_clear < released <= t_clear + dt + 1e-9
    # It waited at the line: held from the start, slowed from 8 m/s, entered only after the release.
    assert all(held for t, held, _ in trace if t < t_clear)
    assert entered["minor"] > released
    assert next(v for t, _, v in trace if t == released) < 2.0
    assert float(w.state.speed[major]) == pytest.approx(10.0, abs=1e-6)


def test_stop_sign_halts_even_on_an_empty_junction_and_counts_for_the_ego(tmp_path):
    ego = """ego: {vehicle: sedan, start: {lane: "3:0:-1", s: 60, speed: 8}, route: {to: "4:0:-1"}}
end: {timeout_s: 30}
"""
    speeds = {}
    for sign in ("yield", "stop"):
        sim = _sim(tmp_path, sign, ego)
        flags = route_stop_signs(sim.world)
        assert flags.tolist() == [sign == "stop"]
        e = sim.world.ego
        hold = float(sim.world.routes.stop_s[0])
        front = float(sim.world.params["length"][e] - sim.world.params["rear_overhang"][e])
        vmin = math.inf
        while sim.t < 30.0 and sim.world.state.active[e]:
            gap = hold - (float(sim.world.state.progress[e]) + front)
            if 0.0 <= gap <= 5.0:
                vmin = min(vmin, float(sim.world.state.speed[e]))
            if sim.step().done:
                break
        speeds[sign] = vmin
        res = sim.result(0.0)
        assert res.metrics["stop_signs"] == 0
    assert speeds["stop"] < 0.1 < speeds["yield"]  # halts at the stop sign only


def test_running_a_stop_sign_is_an_infraction(tmp_path):
    ego = """ego: {vehicle: sedan, start: {lane: "3:0:-1", s: 60, speed: 8}, route: {to: "4:0:-1"}}
end: {timeout_s: 30}
"""
    sim = _sim(tmp_path, "stop", ego)
    jt = sim.world.junctions
    assert jt.ps_stop[jt.ps_start[sim.world.ego]] == PS_STOP_SIGN
    jt.ps_stop[:] = 1  # a plain line: the autopilot no longer halts there
    res = sim.run()
    assert res.metrics["stop_signs"] == 1
