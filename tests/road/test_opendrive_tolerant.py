"""OpenDRIVE defects real maps carry: tolerated with a located warning, or refused with a located
MapError before any large allocation. One small hand-built map per defect class; expected
geometry is worked out by hand from the records."""

from __future__ import annotations

import math
import os
import time
import tracemalloc

import numpy as np
import pytest

from simcore.road.errors import MapError
from simcore.road.lane_graph import shortest_route
from simcore.road.limits import ENV_VAR, MapLimits, map_limits
from simcore.road.opendrive import lane_centre_line, load_opendrive, parse_opendrive

#: Position agreement with the hand computation (m).
TOL_M = 1e-6


def _lane(lid: int, width: str = '<width sOffset="0" a="3.5" b="0" c="0" d="0"/>', link: str = "") -> str:
    return f'<lane id="{lid}" type="driving">{link}{width}</lane>'


def _section(s: float, right: list[str], left: list[str] = ()) -> str:
    left_xml = f"<left>{''.join(left)}</left>" if left else ""
    return (
        f'<laneSection s="{s!r}">{left_xml}<center><lane id="0" type="none"/></center>'
        f"<right>{''.join(right)}</right></laneSection>"
    )


def _road(rid: str, x: float, length: float, sections: list[str], link: str = "", offsets: str = "", geoms=None) -> str:
    geoms = geoms or f'<geometry s="0" x="{x!r}" y="0" hdg="0" length="{length!r}"><line/></geometry>'
    return (
        f'<road id="{rid}" length="{length!r}" junction="-1"><link>{link}</link><planView>{geoms}</planView>'
        f"<lanes>{offsets}{''.join(sections)}</lanes></road>"
    )


def _doc(*roads: str) -> str:
    return f'<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>{"".join(roads)}</OpenDRIVE>'


def _succ(net, name: str) -> set[str]:
    return {net.lane_names[j] for j in net.successors(net.lane_id(name))}


# --------------------------------------------------------------------------- laneOffset at a section start


def test_lane_offset_record_at_a_section_start_does_not_move_the_previous_lane_end():
    """Section 0 (s 0..50): laneOffset 0, lane -1 3.5 m wide -> centre t = -1.75 up to s = 50
    inclusive. At s = 50 a new laneOffset record (a = 3.5) starts with section 1; the last sample of
    section 0 must keep t = -1.75 (the left limit), not jump to 3.5 - 1.75."""
    offsets = '<laneOffset s="0" a="0" b="0" c="0" d="0"/><laneOffset s="50" a="3.5" b="0" c="0" d="0"/>'
    road = _road(
        "1",
        0.0,
        100.0,
        [
            _section(0.0, [_lane(-1, link='<link><successor id="-1"/></link>')]),
            _section(50.0, [_lane(-1, link='<link><predecessor id="-1"/></link>')]),
        ],
        offsets=offsets,
    )
    odr = parse_opendrive(text=_doc(road))
    _x, y, s = lane_centre_line(odr.roads["1"], 0, -1)
    assert s[-1] == pytest.approx(50.0) and np.allclose(y, -1.75, atol=TOL_M)
    _x1, y1, _ = lane_centre_line(odr.roads["1"], 1, -1)
    assert np.allclose(y1, 1.75, atol=TOL_M)
    net = load_opendrive(text=_doc(road))
    px, py, _ = net.lane_points(net.lane_id("1:0:-1"))
    assert px[-1] == pytest.approx(50.0, abs=TOL_M) and np.allclose(py, -1.75, atol=TOL_M)


def test_width_record_at_the_section_end_is_not_used_inside_the_section():
    """A width record whose sOffset equals the section length belongs to nothing; the lane keeps
    its 3.5 m width to the end (outer border t = -3.5, centre -1.75)."""
    width = '<width sOffset="0" a="3.5" b="0" c="0" d="0"/><width sOffset="50" a="9" b="0" c="0" d="0"/>'
    road = _road("1", 0.0, 50.0, [_section(0.0, [_lane(-1, width=width)])])
    _x, y, _ = lane_centre_line(parse_opendrive(text=_doc(road)).roads["1"], 0, -1)
    assert np.allclose(y, -1.75, atol=TOL_M)


# --------------------------------------------------------------------------- micro sections and geometries


def test_micro_section_links_are_followed_through_inside_a_road():
    """Sections at s = 0, 50, 50 + 7e-7: the middle one is dropped; lane -1 of section 0 links to
    lane -1 of the micro section, whose successor is lane -2 of section 2."""
    road = _road(
        "1",
        0.0,
        100.0,
        [
            _section(0.0, [_lane(-1, link='<link><successor id="-1"/></link>')]),
            _section(50.0, [_lane(-1, link='<link><predecessor id="-1"/><successor id="-2"/></link>')]),
            _section(
                50.0000007,
                [_lane(-1), _lane(-2, link='<link><predecessor id="-1"/></link>')],
            ),
        ],
    )
    net = load_opendrive(text=_doc(road))
    assert "1:1:-1" not in net.lane_names
    assert _succ(net, "1:0:-1") == {"1:2:-2"}
    (w,) = net.warnings
    assert "road '1'" in w and "lane section 1" in w and "7e-07 m long" in w


def test_micro_section_at_a_road_start_does_not_check_links_against_the_wrong_road():
    """The CARLA case: road 2 starts with a 7e-7 m section; its lane links to road 1 sit in that
    section, and section 1's predecessors name the micro section's lanes (ids road 1 lacks)."""
    r1 = _road(
        "1",
        0.0,
        50.0,
        [_section(0.0, [_lane(-1)])],
        link='<successor elementType="road" elementId="2" contactPoint="start"/>',
    )
    r2 = _road(
        "2",
        50.0,
        50.0,
        [
            _section(0.0, [_lane(-1, link='<link><predecessor id="-1"/><successor id="-3"/></link>')]),
            _section(0.0000007, [_lane(-1), _lane(-2), _lane(-3, link='<link><predecessor id="-1"/></link>')]),
        ],
        link='<predecessor elementType="road" elementId="1" contactPoint="end"/>',
    )
    net = load_opendrive(text=_doc(r1, r2))
    assert _succ(net, "1:0:-1") == {"2:1:-3"}
    a, g = net.lane_id("1:0:-1"), net.lane_id("2:1:-3")
    assert shortest_route(net, a, g) == [a, g]
    assert len(net.warnings) == 1


def test_micro_geometries_are_dropped_and_the_line_is_exact():
    geoms = (
        '<geometry s="0" x="0" y="0" hdg="0" length="30"><line/></geometry>'
        '<geometry s="30" x="30" y="0" hdg="0" length="1.7431e-10"><arc curvature="0.5"/></geometry>'
        '<geometry s="30" x="30" y="0" hdg="0" length="20"><line/></geometry>'
    )
    road = _road("7", 0.0, 50.0, [_section(0.0, [_lane(-1)])], geoms=geoms)
    net = load_opendrive(text=_doc(road))
    _x, y, s = net.lane_points(net.lane_id("7:0:-1"))
    assert s[-1] == pytest.approx(50.0) and np.allclose(y, -1.75, atol=TOL_M)
    (w,) = net.warnings
    assert "road '7'" in w and "dropped 1 planView geometry" in w


# --------------------------------------------------------------------------- dangling links


def test_link_without_contact_point_uses_the_nearer_end():
    r1 = _road(
        "1",
        0.0,
        50.0,
        [_section(0.0, [_lane(-1, link='<link><successor id="-1"/></link>')])],
        link='<successor elementType="road" elementId="2"/>',
    )
    r2 = _road("2", 50.0, 50.0, [_section(0.0, [_lane(-1, link='<link><predecessor id="-1"/></link>')])])
    net = load_opendrive(text=_doc(r1, r2))
    assert _succ(net, "1:0:-1") == {"2:0:-1"}
    assert any("no contactPoint; using its start" in w for w in net.warnings)


def test_successor_to_an_absent_road_and_junction_warns_and_drops():
    r1 = _road(
        "1",
        0.0,
        50.0,
        [_section(0.0, [_lane(-1)])],
        link='<successor elementType="junction" elementId="9"/>'
        '<predecessor elementType="road" elementId="8" contactPoint="end"/>',
    )
    net = load_opendrive(text=_doc(r1))
    assert net.n_lanes == 1 and len(net.succ_idx) == 0
    assert sorted(w.split(": ", 2)[2] for w in net.warnings) == [
        "predecessor road '8' does not exist; link dropped",
        "successor junction '9' does not exist; link dropped",
    ]


# --------------------------------------------------------------------------- refused early, located


def _refused(text: str, match: str, *, limits: MapLimits | None = None, seconds: float = 2.0, mib: float = 64.0):
    """Refused with a MapError matching ``match``, within ``seconds`` and ``mib`` MiB of new allocations."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(MapError, match=match) as info:
            load_opendrive(text=text, limits=limits)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - t0 < seconds * 5  # generous: a hang is minutes, not seconds
    assert peak < mib * 2**20, f"{peak / 2**20:.0f} MiB"
    return str(info.value)


def test_file_without_roads_is_a_map_error():
    assert "no <road>" in _refused('<OpenDRIVE><header revMajor="1" revMinor="6"/></OpenDRIVE>', "no <road>")


@pytest.mark.parametrize("value", ["nan", "inf", "1e308"])
def test_non_finite_or_huge_lane_width_is_refused_located(value):
    width = f'<width sOffset="0" a="{value}" b="0" c="0" d="0"/>'
    msg = _refused(_doc(_road("4", 0.0, 50.0, [_section(0.0, [_lane(-1, width=width)])])), r"road '4'")
    assert "lane '-1'" in msg


@pytest.mark.parametrize("coef", ["b", "c", "d"])
def test_huge_lane_offset_polynomial_is_refused_before_sampling(coef):
    offsets = f'<laneOffset s="0" a="0" b="0" c="0" d="0" {coef}="1e300"/>'.replace(f' {coef}="0"', "", 1)
    msg = _refused(_doc(_road("5", 0.0, 50.0, [_section(0.0, [_lane(-1)])], offsets=offsets)), r"road '5'")
    assert "max_lateral_offset_m" in msg or "finite" in msg


def test_877_byte_cubic_width_file_is_refused_fast_and_small():
    """A long road whose lane width grows as s^3: the lateral bound trips before any resampling."""
    width = '<width sOffset="0" a="3" b="0" c="0" d="1e-3"/>'
    text = _doc(_road("6", 0.0, 190000.0, [_section(0.0, [_lane(-1, width=width)])]))
    assert len(text) < 1000
    assert "max_lateral_offset_m" in _refused(text, r"road '6'", mib=256.0)


def test_param_poly3_of_length_1e308_is_refused():
    geoms = (
        '<geometry s="0" x="0" y="0" hdg="0" length="1e308">'
        '<paramPoly3 aU="0" bU="1" cU="0" dU="0" aV="0" bV="0" cV="0" dV="0" pRange="normalized"/></geometry>'
    )
    msg = _refused(_doc(_road("3", 0.0, 50.0, [_section(0.0, [_lane(-1)])], geoms=geoms)), r"road '3'")
    assert "max_road_length_m" in msg


def test_param_poly3_with_overflowing_coefficients_is_refused():
    geoms = (
        '<geometry s="0" x="0" y="0" hdg="0" length="50">'
        '<paramPoly3 aU="0" bU="1e308" cU="1e308" dU="0" aV="0" bV="0" cV="0" dV="0" pRange="normalized"/></geometry>'
    )
    _refused(_doc(_road("3", 0.0, 50.0, [_section(0.0, [_lane(-1)])], geoms=geoms)), r"road '3'.*paramPoly3")


def test_limits_come_from_one_overridable_place(monkeypatch):
    assert map_limits() == MapLimits()
    monkeypatch.setenv(ENV_VAR, "max_lateral_offset_m=2, max_roads=3")
    assert map_limits() == MapLimits(max_lateral_offset_m=2.0, max_roads=3)
    text = _doc(_road("1", 0.0, 50.0, [_section(0.0, [_lane(-1)])]))
    assert "max_lateral_offset_m = 2" in _refused(text, r"road '1'")
    for bad in ("nope=3", "max_roads=-1", "max_roads=x"):
        monkeypatch.setenv(ENV_VAR, bad)
        with pytest.raises(ValueError, match=ENV_VAR):
            map_limits()


def test_spiral_far_from_its_inflection_is_fast_and_matches_an_arc():
    """curvStart = curvEnd + tiny: the Fresnel arguments are huge, so the position comes from the
    cumulative quadrature; over 2 km it must equal the arc of the same curvature."""
    from simcore.road.opendrive_geometry import Arc, Spiral

    sp = Spiral(0.0, 0.0, 0.0, 0.3, 2000.0, 0.01, 0.01 + 1e-9)
    arc = Arc(0.0, 0.0, 0.0, 0.3, 2000.0, 0.01 + 0.5e-9)
    ds = np.linspace(0.0, 2000.0, 4001)
    t0 = time.perf_counter()
    x, y, _ = sp._evaluate_quadrature(ds)
    assert time.perf_counter() - t0 < 5.0
    ax, ay, _ = arc.evaluate(ds)
    assert np.max(np.hypot(x - ax, y - ay)) < 1e-3
    assert math.isfinite(float(x[-1]))


def test_fifo_or_directory_as_map_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe.xodr"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(MapError, match="not a regular file"):
        load_opendrive(fifo)
    with pytest.raises(MapError, match="not a regular file"):
        load_opendrive(tmp_path)
