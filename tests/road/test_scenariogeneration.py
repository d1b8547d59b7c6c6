"""Cross-check of the OpenDRIVE importer against maps written by ``scenariogeneration``.

Random roads (sequences of line/arc/spiral/paramPoly3 with random lane counts) and junctions built
with scenariogeneration's ``CommonJunctionCreator`` are written to files and loaded: every road's
reference line must end where scenariogeneration says it ends, junction lane links must become
lane successor links, and routes must exist through the junction for every lane pair it connects.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore.road.lane_graph import shortest_route
from simcore.road.opendrive import load_opendrive, parse_opendrive

xodr = pytest.importorskip("scenariogeneration.xodr", reason="scenariogeneration is not installed")
ET = pytest.importorskip("defusedxml.ElementTree", reason="defusedxml is not installed")

#: Reference-line end poses against scenariogeneration (m, rad), as issue 4 asks.
END_TOL = 1e-3

_curv = st.floats(-0.05, 0.05, allow_nan=False)
_len = st.floats(5.0, 60.0, allow_nan=False)


@st.composite
def _geometry(draw: st.DrawFn):
    kind = draw(st.sampled_from(["line", "arc", "spiral", "ppoly_norm", "ppoly_arc"]))
    length = draw(_len)
    if kind == "line":
        return xodr.Line(length)
    if kind == "arc":
        c = draw(_curv.filter(lambda c: abs(c) > 1e-4))
        return xodr.Arc(c, length=length)
    if kind == "spiral":
        c0, c1 = draw(_curv), draw(_curv)
        if abs(c1 - c0) < 1e-4:
            c1 = c0 + 1e-3
        return xodr.Spiral(c0, c1, length)
    cv = draw(st.floats(-0.3, 0.3)) * length / 10
    dv = draw(st.floats(-0.2, 0.2)) * length / 10
    if kind == "ppoly_norm":
        # u runs forward (u' > 0 on [0, 1]); v bends the curve by up to a few metres.
        return xodr.ParamPoly3(0, length, draw(st.floats(-0.2, 0.2)) * length, 0, 0, 0, cv, dv, prange="normalized")
    return xodr.ParamPoly3(0, 1, 0, 0, 0, 0, cv / length**2, dv / length**3, prange="arcLength", length=length)


def _assert_end_poses(path: Path, roads) -> None:
    parsed = parse_opendrive(path)
    for road in roads:
        ref = parsed.roads[str(road.id)].ref
        pv = road.planview
        x, y, h = ref.geometries[-1].end_pose()
        assert math.hypot(x - pv.x_end, y - pv.y_end) < END_TOL, (road.id, x, y, pv.x_end, pv.y_end)
        assert abs(math.remainder(h - pv.h_end, 2 * math.pi)) < END_TOL, (road.id, h, pv.h_end)
        x0, y0, h0 = ref.evaluate(np.array([0.0]))
        assert math.hypot(float(x0[0]) - pv.x_start, float(y0[0]) - pv.y_start) < END_TOL
        assert abs(math.remainder(float(h0[0]) - pv.h_start, 2 * math.pi)) < END_TOL


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    geoms=st.lists(_geometry(), min_size=1, max_size=6),
    left=st.integers(0, 3),
    right=st.integers(1, 3),
    start=st.tuples(st.floats(-500, 500), st.floats(-500, 500), st.floats(-math.pi, math.pi)),
)
def test_random_scenariogeneration_roads_load_and_end_poses_match(tmp_path, geoms, left, right, start):
    road = xodr.create_road(geoms, id=7, left_lanes=left, right_lanes=right)
    road.planview.set_start_point(*start)
    odr = xodr.OpenDrive("random")
    odr.add_road(road)
    odr.adjust_roads_and_lanes()
    path = tmp_path / "random.xodr"
    odr.write_xml(str(path))
    _assert_end_poses(path, [road])
    net = load_opendrive(path)
    assert int(net.driving_mask().sum()) == left + right
    assert all(net.lane_id(f"7:0:{k}") >= 0 for k in [*range(1, left + 1), *range(-right, 0)])


def _junction_map(tmp_path: Path, angles: list[float], radius: float, lanes: int, contact: list[str], pairs):
    jc = xodr.CommonJunctionCreator(id=100, name="j", startnum=100)
    roads = []
    for i, (ang, cp) in enumerate(zip(angles, contact, strict=True), start=1):
        geoms = [xodr.Line(30), xodr.Arc(0.01 * (-1) ** i, length=20)] if i % 2 else [xodr.Spiral(0.0, 0.02, 25)]
        road = xodr.create_road(geoms, i, lanes, lanes)
        roads.append(road)
        jc.add_incoming_road_circular_geometry(road, radius, ang, cp)
    for a, b in pairs:
        jc.add_connection(a, b)
    odr = xodr.OpenDrive("junction")
    for road in roads:
        odr.add_road(road)
    odr.add_junction_creator(jc)
    odr.adjust_roads_and_lanes()
    path = tmp_path / "junction.xodr"
    odr.write_xml(str(path))
    return path, list(odr.roads.values())


def _expected_links(path: Path) -> list[tuple[str, str]]:
    """(from lane, to lane) successor links in the direction of travel, read straight from the file.

    Right-hand traffic: a lane with a negative id drives from its road's start to its end.
    """
    root = ET.parse(path).getroot()
    links = []
    for con in root.iter("connection"):
        inc, conn, cp = con.get("incomingRoad"), con.get("connectingRoad"), con.get("contactPoint")
        for ll in con.iter("laneLink"):
            a, c = int(ll.get("from")), int(ll.get("to"))
            away = (cp == "start") == (c < 0)  # connecting lane drives away from the incoming road
            names = (f"{inc}:0:{a}", f"{conn}:0:{c}")
            links.append(names if away else names[::-1])
    return links


@pytest.mark.parametrize(
    ("angles", "radius", "lanes", "contact", "pairs"),
    [
        ([0.0, math.pi / 2, math.pi], 20.0, 2, ["successor"] * 3, [(1, 2), (1, 3), (2, 3)]),
        (
            [0.0, 1.7, math.pi, 4.5],
            25.0,
            1,
            ["successor", "predecessor", "successor", "predecessor"],
            [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)],
        ),
    ],
    ids=["3way", "4way"],
)
def test_scenariogeneration_junctions_load_with_links_and_routes(tmp_path, angles, radius, lanes, contact, pairs):
    path, roads = _junction_map(tmp_path, angles, radius, lanes, contact, pairs)
    _assert_end_poses(path, roads)
    net = load_opendrive(path)
    expected = _expected_links(path)
    assert len(expected) == 2 * lanes * 2 * len(pairs)  # every connector lane joined at both ends
    for a, b in expected:
        assert net.lane_id(b) in set(net.successors(net.lane_id(a)).tolist()), (a, b)
    # Every connector lane: the incoming lane before it and the outgoing lane after it are routed through it.
    before = {b: a for a, b in expected if int(b.split(":")[0]) >= 100}
    after = {a: b for a, b in expected if int(a.split(":")[0]) >= 100}
    assert set(before) == set(after) and len(before) == 2 * lanes * len(pairs)
    for conn, a in before.items():
        route = shortest_route(net, net.lane_id(a), net.lane_id(after[conn]), lane_changes=False)
        assert route == [net.lane_id(a), net.lane_id(conn), net.lane_id(after[conn])], (a, conn, after[conn])
        assert net.lane_junction[net.lane_id(conn)] >= 0 and net.lane_junction[route[0]] < 0
