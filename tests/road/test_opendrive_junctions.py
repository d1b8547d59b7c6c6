"""OpenDRIVE 1.7+ ``direct`` and ``virtual`` junctions, on hand-written straight-road fixtures."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from simcore.road.lane_graph import shortest_route
from simcore.road.opendrive import load_opendrive, parse_opendrive

#: Gap between the end of a lane and the start of its successor (m): the fixtures are exact.
TOUCH_TOL_M = 1e-6
RAMP_HDG = -0.1
RAMP_LEN = 60.0
W = 3.5


def _lane(lid: int, link: str = "") -> str:
    return f'<lane id="{lid}" type="driving" level="false">{link}<width sOffset="0" a="{W}" b="0" c="0" d="0"/></lane>'


def _road(
    rid: str,
    x: float,
    y: float,
    hdg: float,
    length: float,
    left: list[int],
    right: list[int],
    links: str = "",
    junction: str = "-1",
    lane_link: str = "",
) -> str:
    lft = f"<left>{''.join(_lane(i, lane_link) for i in left)}</left>" if left else ""
    rgt = f"<right>{''.join(_lane(i, lane_link) for i in right)}</right>" if right else ""
    return (
        f'<road name="r{rid}" length="{length}" id="{rid}" junction="{junction}"><link>{links}</link>'
        f'<planView><geometry s="0" x="{x}" y="{y}" hdg="{hdg}" length="{length}"><line/></geometry></planView>'
        f'<lanes><laneSection s="0">{lft}<center><lane id="0" type="none" level="false"/></center>{rgt}'
        f"</laneSection></lanes></road>"
    )


def _doc(*parts: str, minor: int = 7) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><OpenDRIVE><header revMajor="1" revMinor="{minor}" name="t"/>'
        + "".join(parts)
        + "</OpenDRIVE>"
    )


def _motorway(reversed_ramp: bool = False, ramp_id: str = "3") -> str:
    """Main road 1 (x 0..100) -> main road 2 (x 100..200) and an exit ramp 3, via direct junction 100.

    Roads 1 and 2 have lane 1 (against s) and lanes -1, -2 (along s). Lane 1:-2 continues onto both
    2:-2 and the ramp. The ramp's reference line starts at the junction (lane -1, contactPoint start)
    or, ``reversed_ramp``, ends there (lane 1 drives against s, contactPoint end).
    """
    jl = '<{}  elementType="junction" elementId="100"/>'
    r1 = _road("1", 0, 0, 0, 100, [1], [-1, -2], jl.format("successor"))
    r2 = _road("2", 100, 0, 0, 100, [1], [-1, -2], jl.format("predecessor"))
    # The ramp's lane centre starts where lane -2's ends, (100, -1.5 W): its reference line lies
    # W/2 to the left of it (normal (-sin h, cos h)).
    x0, y0 = 100.0 - 0.5 * W * math.sin(RAMP_HDG), -1.5 * W + 0.5 * W * math.cos(RAMP_HDG)
    if reversed_ramp:
        x1, y1 = x0 + RAMP_LEN * math.cos(RAMP_HDG), y0 + RAMP_LEN * math.sin(RAMP_HDG)
        r3 = _road(ramp_id, x1, y1, math.pi + RAMP_HDG, RAMP_LEN, [1], [], jl.format("successor"))
        contact, ramp_lane = "end", 1
    else:
        r3 = _road(ramp_id, x0, y0, RAMP_HDG, RAMP_LEN, [], [-1], jl.format("predecessor"))
        contact, ramp_lane = "start", -1
    junction = (
        '<junction id="100" name="exit" type="direct">'
        '<connection id="0" incomingRoad="1" linkedRoad="2" contactPoint="start">'
        '<laneLink from="-1" to="-1"/><laneLink from="-2" to="-2"/></connection>'
        f'<connection id="1" incomingRoad="1" linkedRoad="3" contactPoint="{contact}">'
        f'<laneLink from="-2" to="{ramp_lane}"/></connection>'
        '<connection id="2" incomingRoad="2" linkedRoad="1" contactPoint="end">'
        '<laneLink from="1" to="1"/></connection>'
        "</junction>"
    )
    return _doc(r1, r2, r3, junction)


def _succ_names(net, name: str) -> set[str]:
    return {net.lane_names[j] for j in net.successors(net.lane_id(name))}


def _assert_touch(net, a: int, b: int) -> None:
    ea, sb = net.lane_start[a + 1] - 1, net.lane_start[b]
    assert math.hypot(net.pts_x[ea] - net.pts_x[sb], net.pts_y[ea] - net.pts_y[sb]) < TOUCH_TOL_M


@pytest.mark.parametrize("reversed_ramp", [False, True], ids=["ramp_along_s", "ramp_against_s"])
def test_direct_junction_links_incoming_lanes_to_both_linked_roads(reversed_ramp):
    net = load_opendrive(text=_motorway(reversed_ramp))
    ramp = "3:0:1" if reversed_ramp else "3:0:-1"
    assert _succ_names(net, "1:0:-1") == {"2:0:-1"}
    assert _succ_names(net, "1:0:-2") == {"2:0:-2", ramp}
    # Lane 1 drives against s: from road 2's start into road 1's end, never the other way.
    assert _succ_names(net, "2:0:1") == {"1:0:1"}
    assert _succ_names(net, "1:0:1") == set()
    # Nothing leads back into the junction from the far side.
    for name in ("2:0:-1", "2:0:-2", ramp):
        assert _succ_names(net, name) == set()
    for a in range(net.n_lanes):
        for b in net.successors(a):
            _assert_touch(net, a, int(b))
    # Linked roads are ordinary roads: they do not belong to the junction.
    assert list(net.junction_names) == ["exit"]
    assert np.all(net.lane_junction == -1)


@pytest.mark.parametrize("reversed_ramp", [False, True], ids=["ramp_along_s", "ramp_against_s"])
def test_shortest_route_takes_the_exit_ramp(reversed_ramp):
    net = load_opendrive(text=_motorway(reversed_ramp))
    ramp = net.lane_id("3:0:1" if reversed_ramp else "3:0:-1")
    start = net.lane_id("1:0:-2")
    assert shortest_route(net, start, ramp) == [start, ramp]
    # From the inner lane: change to -2, then take the ramp.
    inner = net.lane_id("1:0:-1")
    route = shortest_route(net, inner, ramp)
    assert route[0] == inner and route[-1] == ramp
    for a, b in itertools.pairwise(route):
        assert b in net.successors(a) or b in (net.lane_left[a], net.lane_right[a])


def test_direct_junction_connections_are_parsed():
    odr = parse_opendrive(text=_motorway())
    _, conns = odr.junctions["100"]
    assert [(c.incoming, c.connecting, c.contact, c.direct) for c in conns] == [
        ("1", "2", "start", True),
        ("1", "3", "start", True),
        ("2", "1", "end", True),
    ]
    assert conns[1].lane_links == ((-2, -1),)


def test_direct_junction_unknown_linked_road_names_junction_and_road():
    # Mature tools warn and drop such a connection; so do we (the warning names both).
    text = _motorway().replace('linkedRoad="3"', 'linkedRoad="99"')
    net = load_opendrive(text=text)
    msg = " ".join(net.warnings)
    assert "'100'" in msg and "'99'" in msg and "linkedRoad" in msg and "dropped" in msg, msg


def test_direct_junction_unknown_lane_is_a_map_error():
    text = _motorway().replace('<laneLink from="-2" to="-1"/>', '<laneLink from="-2" to="-4"/>')
    warnings = load_opendrive(text=text).warnings
    assert any(re.search(r"junction '100' connection '1' links lane -2 -> -4.*dropped", w) for w in warnings)


def _t_junction(jtype: str | None) -> str:
    """Road 1 (x 0..50) -> connecting road 10 (x 50..60, in junction 5) -> road 2 (x 60..110)."""
    r1 = _road("1", 0, 0, 0, 50, [1], [-1], '<successor elementType="junction" elementId="5"/>')
    r2 = _road("2", 60, 0, 0, 50, [1], [-1], '<predecessor elementType="junction" elementId="5"/>')
    c10 = _road(
        "10",
        50,
        0,
        0,
        10,
        [],
        [-1],
        '<predecessor elementType="road" elementId="1" contactPoint="end"/>'
        '<successor elementType="road" elementId="2" contactPoint="start"/>',
        junction="5",
        lane_link='<link><predecessor id="-1"/><successor id="-1"/></link>',
    )
    c11 = _road(
        "11",
        60,
        0,
        math.pi,
        10,
        [],
        [-1],
        '<predecessor elementType="road" elementId="2" contactPoint="start"/>'
        '<successor elementType="road" elementId="1" contactPoint="end"/>',
        junction="5",
        lane_link='<link><predecessor id="1"/><successor id="1"/></link>',
    )
    typ = f' type="{jtype}"' if jtype else ""
    junction = (
        f'<junction id="5" name="j"{typ}>'
        '<connection id="0" incomingRoad="1" connectingRoad="10" contactPoint="start"><laneLink from="-1" to="-1"/>'
        "</connection>"
        '<connection id="1" incomingRoad="2" connectingRoad="11" contactPoint="start"><laneLink from="1" to="-1"/>'
        "</connection></junction>"
    )
    return _doc(r1, r2, c10, c11, junction)


def _successor_table(net) -> dict[str, set[str]]:
    return {n: _succ_names(net, n) for n in net.lane_names}


def test_virtual_junction_behaves_like_a_default_one():
    default = load_opendrive(text=_t_junction(None))
    virtual = load_opendrive(text=_t_junction("virtual"))
    assert _successor_table(virtual) == _successor_table(default)
    table = _successor_table(virtual)
    assert table["1:0:-1"] == {"10:0:-1"} and table["10:0:-1"] == {"2:0:-1"}
    assert table["2:0:1"] == {"11:0:-1"} and table["11:0:-1"] == {"1:0:1"}
    assert [c.connecting for c in parse_opendrive(text=_t_junction("virtual")).junctions["5"][1]] == ["10", "11"]
    jv = virtual.lane_junction[virtual.lane_id("10:0:-1")]
    assert jv >= 0 and virtual.lane_junction[virtual.lane_id("1:0:-1")] == -1
    a, g = virtual.lane_id("1:0:-1"), virtual.lane_id("2:0:-1")
    assert shortest_route(virtual, a, g) == [a, virtual.lane_id("10:0:-1"), g]


def test_virtual_junction_unknown_connecting_road_names_junction_and_road():
    text = _t_junction("virtual").replace('connectingRoad="11"', 'connectingRoad="77"')
    net = load_opendrive(text=text)
    msg = " ".join(net.warnings)
    assert "'5'" in msg and "'77'" in msg and "dropped" in msg, msg
