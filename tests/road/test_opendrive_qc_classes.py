"""Defect classes of the ASAM OpenDRIVE quality checker (asam-ev/qc-opendrive rule fixtures), each
rebuilt here as a small hand-written file: a file valid for its rule loads (warnings at most), and
a defect that leaves no usable geometry is a located error. Expected values are read by hand from
the files (straight roads along x from the origin, lanes 3.5 m wide).

Classes (the checker's rule names): road_geometry_elem_asc_order (geometries listed out of
order), road length vs planView (a fixture "valid" for its own rule whose road length exceeds
its planView), planView smoothness (gaps between geometries), road_geometry_param_poly3_length_match,
road_lane_link_lanes_across_lane_sections (a link to a lane the next section lacks) and
junctions_connection lane links naming a lane the incoming road lacks (as in the standard's own
Ex_Entry_Exit example).
"""

from __future__ import annotations

import numpy as np
import pytest

from simcore.road.errors import MapError
from simcore.road.opendrive import GEOMETRY_GAP_ERROR_M, load_opendrive

from .test_opendrive_tolerant import _doc, _lane, _road, _section


def _messages(net) -> list[str]:
    return sorted(w.split(": ", 1)[1] for w in net.warnings)


def _lines(*parts: tuple[float, float, float]) -> str:
    return "".join(
        f'<geometry s="{s!r}" x="{x!r}" y="0" hdg="0" length="{n!r}"><line/></geometry>' for s, x, n in parts
    )


def test_geometries_listed_out_of_order_give_the_same_network():
    ordered = load_opendrive(
        text=_doc(_road("1", 0, 60, [_section(0.0, [_lane(-1)])], geoms=_lines((0, 0, 20), (20, 20, 40))))
    )
    shuffled = load_opendrive(
        text=_doc(_road("1", 0, 60, [_section(0.0, [_lane(-1)])], geoms=_lines((20, 20, 40), (0, 0, 20))))
    )
    assert shuffled.warnings == ()
    np.testing.assert_array_equal(shuffled.pts_x, ordered.pts_x)
    np.testing.assert_array_equal(shuffled.pts_y, ordered.pts_y)


def test_road_longer_than_its_planview_is_cut_with_a_warning():
    # length 100 but one 40 m geometry; the second section (s = 60) lies wholly beyond it.
    road = _road("1", 0, 100, [_section(0.0, [_lane(-1)]), _section(60.0, [_lane(-1)])], geoms=_lines((0, 0, 40)))
    net = load_opendrive(text=_doc(road))
    assert "road '1': road length 100 m is longer than its planView (40 m); lanes cut there" in _messages(net)
    assert any("lane section 1 at s=60" in m for m in _messages(net))
    assert net.lane_names == ("1:0:-1",)
    assert net.lane_length[0] == pytest.approx(40.0)
    assert float(net.pts_x.max()) == pytest.approx(40.0)


def test_small_planview_gap_warns_and_a_large_one_is_located():
    # 0.2 m gap: the second line starts at x = 20.2 instead of 20.
    road = _road("1", 0, 60, [_section(0.0, [_lane(-1)])], geoms=_lines((0, 0, 20), (20, 20.2, 40)))
    net = load_opendrive(text=_doc(road))
    assert _messages(net) == [
        "road '1': planView gap of 0.200 m between the geometries at s=0 and s=20; lanes jump there"
    ]
    big = _road(
        "7", 0, 60, [_section(0.0, [_lane(-1)])], geoms=_lines((0, 0, 20), (20, 20 + 2 * GEOMETRY_GAP_ERROR_M, 40))
    )
    with pytest.raises(MapError, match=r"<string>: road '7': planView gap of 1.000 m .* \(limit 0.5 m\)"):
        load_opendrive(text=_doc(big))


def test_param_poly3_whose_length_attribute_disagrees_with_its_curve_warns():
    # u = 20 p, v = 0 over p in [0, 1] (normalized): a 20 m straight line that says it is 30 m long.
    geom = (
        '<geometry s="0" x="0" y="0" hdg="0" length="30"><paramPoly3 pRange="normalized" aU="0" bU="20" cU="0" '
        'dU="0" aV="0" bV="0" cV="0" dV="0"/></geometry>'
    )
    net = load_opendrive(text=_doc(_road("1", 0, 30, [_section(0.0, [_lane(-1)])], geoms=geom)))
    assert _messages(net) == ["road '1': <geometry s=0> paramPoly3 curve is 20.000 m long, its length says 30 m"]


def test_lane_link_to_a_lane_the_next_section_lacks_is_dropped_located():
    link = '<link><successor id="-2"/></link>'
    road = _road("1", 0, 60, [_section(0.0, [_lane(-1, link=link)]), _section(30.0, [_lane(-1)])])
    net = load_opendrive(text=_doc(road))
    assert _messages(net) == ["road '1': lane '-1': lane successor -2 is not in lane section 1; link dropped"]
    assert net.n_lanes == 2 and net.successors(net.lane_id("1:0:-1")).size == 0


def test_junction_lane_link_from_a_lane_the_incoming_road_lacks_is_dropped_located():
    to_j = '<successor elementType="junction" elementId="J"/>'
    incoming = _road("1", 0, 50, [_section(0.0, [_lane(-1)])], link=to_j)
    connecting = (
        '<road id="2" length="10" junction="J"><link><predecessor elementType="road" elementId="1" '
        'contactPoint="end"/></link><planView><geometry s="0" x="50" y="0" hdg="0" length="10"><line/>'
        '</geometry></planView><lanes><laneSection s="0"><center><lane id="0" type="none"/></center><right>'
        '<lane id="-1" type="driving"><width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane></right>'
        "</laneSection></lanes></road>"
    )
    junction = (
        '<junction id="J"><connection id="0" incomingRoad="1" connectingRoad="2" contactPoint="start">'
        '<laneLink from="-1" to="-1"/><laneLink from="-4" to="-1"/></connection></junction>'
    )
    net = load_opendrive(text=_doc(incoming, connecting).replace("</OpenDRIVE>", f"{junction}</OpenDRIVE>"))
    msgs = _messages(net)
    assert len(msgs) == 1 and "connection '0' links lane -4 -> -1, which does not exist" in msgs[0]
    assert [net.lane_names[j] for j in net.successors(net.lane_id("1:0:-1"))] == ["2:0:-1"]
