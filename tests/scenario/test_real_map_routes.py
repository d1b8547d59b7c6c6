"""Routes on public OpenDRIVE maps nobody here wrote: lane pairs connected in the lane graph give
drivable routes, the autopilot reaches their goals, and route and lane-name mistakes are located."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore.api import simulation
from simcore.cli import main
from simcore.road.lane_graph import MAX_SAMPLE_GAP_M, NoRouteError, route_path, shortest_route
from simcore.road.opendrive import load_opendrive

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MAPS = sorted((SHARED / "maps").rglob("*.xodr")) + sorted((SHARED / "esmini" / "xodr").glob("*.xodr"))
E6MINI = SHARED / "esmini" / "xodr" / "e6mini.xodr"
TOWN01 = SHARED / "maps" / "carla" / "Town01.xodr"
needs_shared = pytest.mark.skipif(not MAPS, reason="../shared/ public maps are not present beside the checkout")
#: Share of graph-connected lane pairs that must give a drivable route (the issue's bar).
MIN_ROUTE_SUCCESS = 0.99
#: Consecutive lanes of a route touch within this (m).
JOIN_TOL_M = 0.05


@functools.cache
def _net(path: Path):
    return load_opendrive(path)


@functools.cache
def _reachable(path: Path) -> tuple[np.ndarray, list[set[int]]]:
    """Driving lanes and, per lane, the driving lanes reachable from it (successors and neighbours)."""
    net = _net(path)
    driving = np.flatnonzero(net.driving_mask())
    reach = []
    for a in driving:
        seen, todo = {int(a)}, [int(a)]
        while todo:
            k = todo.pop()
            nxt = [int(j) for j in net.successors(k)]
            if net.lane_junction[k] < 0:
                nxt += [int(j) for j in (net.lane_left[k], net.lane_right[k]) if j >= 0]
            for j in nxt:
                if j not in seen:
                    seen.add(j)
                    todo.append(j)
        reach.append(seen)
    return driving, reach


@needs_shared
@pytest.mark.parametrize("path", MAPS, ids=lambda p: p.name)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_connected_lane_pairs_give_drivable_routes(path, data):
    net = _net(path)
    driving, reach = _reachable(path)
    pairs = [(int(a), b) for i, a in enumerate(driving) for b in sorted(reach[i]) if b != a]
    if not pairs:
        pytest.skip(f"{path.name} has no connected pair of driving lanes")
    drawn = data.draw(st.lists(st.sampled_from(pairs), min_size=4, max_size=4))
    failures = []
    for a, g in drawn:
        try:
            lanes = shortest_route(net, a, g)
            rp = route_path(net, lanes, 0.0)
        except (NoRouteError, ValueError) as exc:
            failures.append((net.lane_names[a], net.lane_names[g], str(exc)))
            continue
        assert lanes[0] == a and lanes[-1] == g
        assert np.diff(rp.s).max() <= MAX_SAMPLE_GAP_M
        for p, q in itertools.pairwise(lanes):
            if q in net.successors(p):
                end, start = net.lane_start[p + 1] - 1, net.lane_start[q]
                assert np.hypot(net.pts_x[end] - net.pts_x[start], net.pts_y[end] - net.pts_y[start]) < JOIN_TOL_M
    assert 1 - len(failures) / len(drawn) >= MIN_ROUTE_SUCCESS, failures


def _scenario(tmp_path: Path, map_path: Path, start: str, s: float, goal: str, extra: str = "") -> Path:
    f = tmp_path / "s.yaml"
    f.write_text(
        "simcore: 1\nname: real-map-route\nseed: 1\n"
        f"map: {{file: {map_path}}}\n"
        f'ego: {{vehicle: sedan, start: {{lane: "{start}", s: {s}, speed_kph: 30}}, route: {{to: "{goal}"}}}}\n'
        f"{extra}end: {{timeout_s: 90}}\ncriteria: [no_collision, reach_goal]\n"
    )
    return f


@pytest.mark.skipif(not E6MINI.is_file(), reason="../shared/esmini/xodr/e6mini.xodr is not present")
def test_goal_on_a_lane_entered_by_a_late_lane_change_is_reached(tmp_path):
    """Start 42 m before the end of e6mini's lane -3 with the goal on its right neighbour -4: the
    lane change ends about 10 m before the lanes end, so ``entry + goal_margin_m`` lies past where
    an autopilot stopping at the route's end can get; the goal is pulled back to reachable."""
    net = _net(E6MINI)
    s0 = float(net.lane_length[net.lane_id("0:0:-4")]) - 42.0
    res = simulation(_scenario(tmp_path, E6MINI, "0:0:-3", s0, "0:0:-4"), allow_paths=[SHARED]).run()
    assert res.termination == "goal_reached", (res.termination, res.metrics.get("distance_m"))
    assert res.passed


@pytest.mark.skipif(not TOWN01.is_file(), reason="../shared/maps/carla/Town01.xodr is not present")
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_autopilot_reaches_goals_drawn_on_town01(tmp_path, data):
    net = _net(TOWN01)
    driving = np.flatnonzero(net.driving_mask())
    outside = [int(a) for a in driving if net.lane_junction[a] < 0 and net.lane_length[a] > 20.0]
    start = data.draw(st.sampled_from(outside))
    # Goals 2-4 lanes on (through a junction or two): a few hundred metres, so the drive is short.
    ring, goals = {start}, set()
    for depth in range(4):
        ring = {int(j) for k in ring for j in net.successors(k)}
        if depth >= 1:
            goals |= {k for k in ring if net.lane_junction[k] < 0 and k != start}
    g = data.draw(st.sampled_from(sorted(goals)))
    path = _scenario(tmp_path, TOWN01, net.lane_names[start], 5.0, net.lane_names[g])
    res = simulation(path, allow_paths=[SHARED]).run()
    assert res.termination == "goal_reached", (net.lane_names[start], net.lane_names[g], res.termination)
    assert res.passed


def test_unquoted_lane_name_read_as_base_60_says_to_quote_it(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text(
        "simcore: 1\nname: base60\nmap: {type: intersection}\n"
        "ego: {vehicle: sedan, start: {lane: 3:0:1, s: 0}, route: {to: south_out}}\n"
    )
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}:4:" in err and "10801" in err and 'quote lane names, e.g. "3:0:1"' in err
