"""YAML roads: closed-form geometry, width changes, links and located errors."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from simcore._types import LaneType
from simcore.road.lane_graph import shortest_route
from simcore.road.maps import load_map, map_info
from simcore.road.yaml_roads import RoadsFile, _geometries, load_yaml_roads
from simcore.scenario.errors import ScenarioError
from simcore.scenario.yaml_source import load_yaml

#: Lane end points against closed forms (m): 1 m resampling keeps samples on the exact curve.
POSE_TOL_M = 1e-6
#: Lane lengths against closed forms (m): the 1 m chord polyline is shorter than the arc by L / (24 R^2).
LENGTH_TOL_M = 5e-3

BASE = """\
simcore_roads: 1
roads:
  - id: main
    start: {x: 10, y: -5, heading_deg: 90}
    segments:
      - line: {length: 40}
      - arc: {length: 62.83185307179586, curvature: 0.025}
      - clothoid: {length: 30, curvature_start: 0.025, curvature_end: 0.0}
    lanes:
      left: [{type: driving, width: 3.5}]
      right: [{type: driving, width: 3.5}, {type: sidewalk, width: 2.0}]
    width_changes:
      - {s: 10, length: 20, right: [4.5, 2.0]}
    successor: {road: next, contact: start}
  - id: next
    start: {x: 0, y: 0, heading_deg: 0}
    segments:
      - line: {length: 50}
    lanes:
      left: [{width: 3.5}]
      right: [{width: 3.5}, {type: sidewalk, width: 2.0}]
"""


def _load(tmp_path, text: str):
    p = tmp_path / "roads.yaml"
    p.write_text(textwrap.dedent(text))
    return p, load_yaml_roads(p)


def test_reference_line_closed_forms(tmp_path):
    p, net = _load(tmp_path, BASE)
    spec = RoadsFile.model_validate(load_yaml(p).data)
    line, arc, clothoid = _geometries(spec.roads[0])
    r, h0 = 40.0, math.pi / 2
    # Line north from (10, -5), then a left arc of radius 40 turning by length / r = pi / 2.
    assert line.end_pose() == pytest.approx((10.0, 35.0, h0), abs=POSE_TOL_M)
    h1 = h0 + 62.83185307179586 / r
    x2 = 10.0 + r * (math.sin(h1) - math.sin(h0))
    y2 = 35.0 - r * (math.cos(h1) - math.cos(h0))
    assert arc.end_pose() == pytest.approx((x2, y2, h1), abs=POSE_TOL_M)
    # The clothoid from curvature 1/40 to 0 over 30 m turns by (k0 + k1) / 2 * L = 0.375 rad.
    assert clothoid.end_pose()[2] == pytest.approx(h1 + 0.375, abs=1e-12)
    # Lane -1's centre starts 1.75 m right of the northbound line: x = 11.75.
    x, y, _ = net.lane_points(net.lane_id("main:0:-1"))
    assert (x[0], y[0]) == pytest.approx((11.75, -5.0), abs=POSE_TOL_M)
    assert net.lane_length[net.lane_id("next:0:-1")] == pytest.approx(50.0, abs=LENGTH_TOL_M)


def test_arc_lane_length_scales_with_radius(tmp_path):
    r, angle = 30.0, math.pi / 2
    text = f"""\
    roads:
      - id: bend
        segments: [{{arc: {{length: {r * angle}, curvature: {1 / r}}}}}]
        lanes: {{left: [{{width: 3.0}}], right: [{{width: 3.0}}]}}
    """
    _, net = _load(tmp_path, text)
    # Right lane on the outside of a left bend: radius r + 1.5; left lane inside: r - 1.5.
    assert net.lane_length[net.lane_id("bend:0:-1")] == pytest.approx((r + 1.5) * angle, abs=LENGTH_TOL_M)
    assert net.lane_length[net.lane_id("bend:0:1")] == pytest.approx((r - 1.5) * angle, abs=LENGTH_TOL_M)
    x, y, _ = net.lane_points(net.lane_id("bend:0:-1"))
    # Samples are on the dense (0.5 m) polyline of the exact curve: off the circle by at most its sag.
    sag = 0.5**2 / (8 * (r + 1.5))
    assert np.allclose(np.hypot(x, y - r), r + 1.5, atol=sag)


def test_width_change_sections_and_links(tmp_path):
    _, net = _load(tmp_path, BASE)
    assert {n for n in net.lane_names if n.startswith("main:")} == {
        f"main:{k}:{i}" for k in range(3) for i in (1, -1, -2)
    }
    w = net.pts_width[net.lane_start[net.lane_id("main:1:-1")] : net.lane_start[net.lane_id("main:1:-1") + 1]]
    assert w[0] == pytest.approx(3.5) and w[-1] == pytest.approx(4.5)
    assert np.all(np.diff(w) >= -1e-12)
    w2 = net.pts_width[net.lane_start[net.lane_id("main:2:-1")] : net.lane_start[net.lane_id("main:2:-1") + 1]]
    assert np.allclose(w2, 4.5)
    route = shortest_route(net, net.lane_id("main:0:-1"), net.lane_id("next:0:-1"))
    assert [net.lane_names[i] for i in route] == ["main:0:-1", "main:1:-1", "main:2:-1", "next:0:-1"]
    back = shortest_route(net, net.lane_id("next:0:1"), net.lane_id("main:0:1"))
    assert [net.lane_names[i] for i in back] == ["next:0:1", "main:2:1", "main:1:1", "main:0:1"]
    assert net.lane_type[net.lane_id("main:0:-2")] == LaneType.SIDEWALK
    assert net.lane_speed_limit[0] == pytest.approx(50 / 3.6)


def test_map_cli_loads_yaml_roads(tmp_path):
    p, _ = _load(tmp_path, BASE)
    info = map_info(load_map(str(p)))
    assert info["roads"] == 2 and info["lanes_by_type"]["sidewalk"] == 4


@pytest.mark.parametrize(
    ("edit", "where", "what"),
    [
        (("line: {length: 40}", "line: {length: -40}"), ":6:", "expected a number > 0"),
        (("successor: {road: next, contact: start}", "successor: {road: nxt, contact: start}"), ":14:", "nxt"),
        (
            ("width: 3.5}]\n      right: [{type: driving", "width: 3.5, colour: red}]\n      right: [{type: driving"),
            ":10:",
            "colour",
        ),
        (("right: [4.5, 2.0]", "right: [4.5]"), ":13:", "expected 1 left and 2 right widths"),
        (("- id: next", "- id: main"), ":15:", "duplicate road id"),
        (("- line: {length: 50}", "- spline: {length: 50}"), ":18:", "exactly one of line, arc or clothoid"),
    ],
)
def test_bad_roads_give_located_errors(tmp_path, edit, where, what):
    p = tmp_path / "bad.yaml"
    assert edit[0] in BASE
    p.write_text(BASE.replace(edit[0], edit[1]))
    with pytest.raises(ScenarioError) as info:
        load_yaml_roads(p)
    msg = str(info.value)
    assert f"{p}{where}" in msg and what in msg, msg


CROSS = """\
junctions:
  - {id: j1, type: 4way, x: 0, y: 0, radius: 10}
roads:
  - id: e
    start: {junction: j1, arm: east}
    segments: [{line: {length: 50}}]
    lanes: {left: [{width: 3.5}], right: [{width: 3.5}]}
  - id: n
    start: {junction: j1, arm: north}
    segments: [{line: {length: 50}}]
    lanes: {left: [{width: 3.5}], right: [{width: 3.5}]}
  - id: w
    start: {x: -60, y: 0, heading_deg: 0}
    segments: [{line: {length: 50}}]
    lanes: {left: [{width: 3.5}], right: [{width: 3.5}]}
    successor: {junction: j1, arm: west}
  - id: s
    start: {junction: j1, arm: south}
    segments: [{line: {length: 50}}]
    lanes: {left: [{width: 3.5}], right: [{width: 3.5}]}
"""
#: Gap allowed between a connecting lane's ends and the lanes it joins (m).
JOIN_TOL_M = 0.01


def test_four_way_template_connects_every_movement(tmp_path):
    _, net = _load(tmp_path, CROSS)
    conn = np.flatnonzero(net.lane_junction >= 0)
    assert len(conn) == 12 and net.junction_names == ("j1",)
    for lane in conn:
        (pred,) = [i for i in range(net.n_lanes) if lane in net.successors(i)]
        (succ,) = net.successors(lane)
        a, b = net.lane_start[lane], net.lane_start[lane + 1] - 1
        pe, ss = net.lane_start[pred + 1] - 1, net.lane_start[succ]
        assert math.hypot(net.pts_x[a] - net.pts_x[pe], net.pts_y[a] - net.pts_y[pe]) < JOIN_TOL_M
        assert math.hypot(net.pts_x[b] - net.pts_x[ss], net.pts_y[b] - net.pts_y[ss]) < JOIN_TOL_M
    # West road (ends at the junction): its right lane drives in; turn left into the north road's right lane.
    route = shortest_route(net, net.lane_id("w:0:-1"), net.lane_id("n:0:-1"))
    assert [net.lane_names[i] for i in route] == ["w:0:-1", "j1.west-north.1:0:-1", "n:0:-1"]
    # Left turn west -> north from (-10, -1.75) east-bound to (1.75, 10) north-bound: a quarter circle
    # of radius 11.75 m would be pi/2 * 11.75 long; the Hermite cubic is within 3 % of it.
    assert net.lane_length[route[1]] == pytest.approx(math.pi / 2 * 11.75, rel=0.03)
    route = shortest_route(net, net.lane_id("e:0:1"), net.lane_id("w:0:1"))
    assert [net.lane_names[i] for i in route] == ["e:0:1", "j1.east-west.1:0:-1", "w:0:1"]
    assert net.lane_length[route[1]] == pytest.approx(20.0, abs=1e-6)


def test_t_template_and_arm_errors(tmp_path):
    text = CROSS.replace("type: 4way", "type: T")
    p = tmp_path / "t.yaml"
    p.write_text(text)
    with pytest.raises(ScenarioError, match=r"t\.yaml:9:\d+: roads\[1\]\.start\.arm: a T junction has arms"):
        load_yaml_roads(p)
    without_north = text.split("  - id: n\n")[0] + "  - id: w\n" + text.split("  - id: w\n")[1]
    _, net = _load(tmp_path, without_north)
    assert int(np.sum(net.lane_junction >= 0)) == 6
    bad = tmp_path / "bad.yaml"
    bad.write_text(CROSS.replace("start: {x: -60, y: 0", "start: {x: -61, y: 0"))
    with pytest.raises(ScenarioError, match=r"bad\.yaml:\d+:\d+: roads\[2\]\.successor: road ends at"):
        load_yaml_roads(bad)


ROUNDABOUT = """\
junctions:
  - {id: r1, type: roundabout, x: 5, y: -3, heading_deg: 30, radius: 30, ring_radius: 12, ring_lanes: LANES}
roads:
  - id: e
    start: {junction: r1, arm: east}
    segments: [{line: {length: 50}}]
    lanes: {left: [{width: 3.5}, {width: 3.5}], right: [{width: 3.5}, {width: 3.5}]}
  - id: n
    start: {junction: r1, arm: north}
    segments: [{line: {length: 50}}]
    lanes: {left: [{width: 3.5}], right: [{width: 3.5}]}
  - id: w
    start: {junction: r1, arm: west}
    segments: [{line: {length: 50}}]
    lanes: {left: [{width: 3.5}], right: [{width: 3.5}, {type: sidewalk, width: 2.0}]}
  - id: s
    start: {junction: r1, arm: south}
    segments: [{line: {length: 50}}]
    lanes: {left: [{width: 3.5}], right: [{width: 3.5}]}
"""


def _gap(net, a: int, b: int) -> float:
    """Distance from the end of lane a to the start of lane b (m)."""
    e, s = net.lane_start[a + 1] - 1, net.lane_start[b]
    return math.hypot(net.pts_x[e] - net.pts_x[s], net.pts_y[e] - net.pts_y[s])


@pytest.mark.parametrize("ring_lanes", [1, 2])
def test_roundabout_ring_closes_and_every_arm_reaches_every_other(tmp_path, ring_lanes):
    _, net = _load(tmp_path, ROUNDABOUT.replace("LANES", str(ring_lanes)))
    cx, cy, w = 5.0, -3.0, 4.0
    for k in range(1, ring_lanes + 1):
        ring = [i for i, n in enumerate(net.lane_names) if n.startswith("r1.ring.") and n.endswith(f":-{k}")]
        assert len(ring) == 8  # an entry and an exit per arm
        # Ring lanes lie on their circle (inner edge radius 12 m, 4 m lanes; samples are resampled
        # from a denser polyline, whose chords sit up to 3 mm inside the circle) ...
        for lane in ring:
            x, y, _ = net.lane_points(lane)
            np.testing.assert_allclose(np.hypot(x - cx, y - cy), 12.0 + (k - 0.5) * w, atol=0.005)
        # ... follow each other (tangent-continuously) all the way round, and close.
        total, lane, seen = 0.0, ring[0], []
        while lane not in seen:
            seen.append(lane)
            total += net.lane_length[lane]
            (nxt,) = [s for s in net.successors(lane) if s in ring]
            assert _gap(net, lane, nxt) < 0.01
            h_end = net.pts_heading[net.lane_start[lane + 1] - 1]
            # Headings come from finite differences of ~1 m samples on a 14-18 m radius.
            assert abs(math.remainder(h_end - net.pts_heading[net.lane_start[nxt]], 2 * math.pi)) < 0.02
            lane = nxt
        assert sorted(seen) == sorted(ring) and lane == ring[0]
        assert total == pytest.approx(2 * math.pi * (12.0 + (k - 0.5) * w), rel=1e-3)
    # Every link joins lanes within 1 cm.
    for a in range(net.n_lanes):
        for b in net.successors(a):
            assert _gap(net, a, int(b)) < 0.01
    # Incoming lanes (left lanes of roads starting at an arm) reach every other arm's outgoing lanes.
    arms = "ensw"
    for a in arms:
        for b in arms:
            if a != b:
                route = shortest_route(net, net.lane_id(f"{a}:0:1"), net.lane_id(f"{b}:0:-1"))
                names = [net.lane_names[i] for i in route]
                # (On the two-lane east road the route may change lanes before or after the ring.)
                entries = [n for n in names if "-in." in n]
                exits = [n for n in names if "-out." in n]
                assert len(entries) == 1 and entries[0].startswith(f"r1.{a_name(a)}-in.")
                assert len(exits) == 1 and exits[0].startswith(f"r1.{a_name(b)}-out.")
                inside = route[names.index(entries[0]) : names.index(exits[0]) + 1]
                assert all(net.lane_junction[i] == 0 for i in inside)
    assert net.junction_names == ("r1",)
    assert not np.any(net.lane_junction[net.lane_type != LaneType.DRIVING] >= 0)


def a_name(letter: str) -> str:
    return {"e": "east", "n": "north", "s": "south", "w": "west"}[letter]


def test_roundabout_errors(tmp_path):
    p = tmp_path / "ra.yaml"
    p.write_text(ROUNDABOUT.replace("LANES", "2").replace("ring_radius: 12", "ring_radius: 20"))
    with pytest.raises(ScenarioError, match=r"ra\.yaml:2:\d+: junctions\[0\]\.radius: the ring's outer edge \(28 m\)"):
        load_yaml_roads(p)
    p.write_text(ROUNDABOUT.replace("LANES", "1").replace("ring_lanes: 1", "ring_lanes: 1, signals: {}"))
    with pytest.raises(ScenarioError, match=r"junctions\[0\]\.signals: a roundabout has no signals"):
        load_yaml_roads(p)


def test_signalised_four_way_gets_stop_lines_and_split_phasing(tmp_path):
    _, net = _load(
        tmp_path, CROSS.replace("radius: 10}", "radius: 10, signals: {green_s: 10, amber_s: 3, all_red_s: 2}}")
    )
    assert net.signal_names == ("j1.east", "j1.north", "j1.west", "j1.south")
    assert (net.signal_junction == 0).all()
    np.testing.assert_allclose(net.plan_cycle, 4 * 15.0)
    # Stop lines at the arm end of every entering lane, one group per arm.
    entering = {"e:0:1": "j1.east", "n:0:1": "j1.north", "w:0:-1": "j1.west", "s:0:1": "j1.south"}
    for name, group in entering.items():
        lane = net.lane_id(name)
        assert net.lane_stop_s[lane] == pytest.approx(net.lane_length[lane])
        assert net.signal_names[net.lane_signal[lane]] == group
    assert np.isnan(net.lane_stop_s[[net.lane_id(n) for n in ("e:0:-1", "n:0:-1", "w:0:1", "s:0:-1")]]).all()
    # Split phasing: exactly one arm is green or amber at any time, each for 10 s + 3 s per cycle.
    for t in np.arange(0.0, 60.0, 0.5):
        states = []
        for g in range(4):
            a, b = net.plan_start[g], net.plan_start[g + 1]
            k = a + int(np.searchsorted(net.plan_t0[a:b], t, side="right")) - 1
            states.append(int(net.plan_state[k]))
        assert sum(s != 0 for s in states) <= 1  # SignalState.RED == 0
        green = [g for g in range(4) if states[g] == 2]
        expected = int(t // 15) if t % 15 < 10 else None
        assert green == ([] if expected is None else [expected])


def test_signalised_t_junction(tmp_path):
    text = CROSS.replace("type: 4way", "type: T").replace("radius: 10}", "radius: 10, signals: {}}")
    without_north = text.split("  - id: n\n")[0] + "  - id: w\n" + text.split("  - id: w\n")[1]
    _, net = _load(tmp_path, without_north)
    assert net.signal_names == ("j1.east", "j1.west", "j1.south")
    np.testing.assert_allclose(net.plan_cycle, 3 * (12.0 + 3.0 + 2.0))
    assert int(np.sum(~np.isnan(net.lane_stop_s))) == 3
