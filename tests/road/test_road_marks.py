"""Lane ``<roadMark>`` records: read, placed on the lane borders, drawn and exposed as map layers.

Expected positions are read by hand from the hand-written file: a straight road along x from
(0, 0), lanes 3.5 m wide, so the centre line is y = 0, lane -1's outer border y = -3.5 and lane 1's
y = +3.5; lane 1's marking changes at sOffset 40 of its only section.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.render.map_view import map_layers, mark_lines, render_map
from simcore.road.errors import MapError
from simcore.road.opendrive import ROADMARK_WIDTH_M, load_opendrive

MAPS = Path(__file__).resolve().parents[2].parent / "shared" / "maps" / "carla"


def _map(centre: str, right: str, left: str) -> str:
    width = '<width sOffset="0" a="3.5" b="0" c="0" d="0"/>'
    return (
        '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
        '<road id="1" length="100" junction="-1"><planView>'
        '<geometry s="0" x="0" y="0" hdg="0" length="100"><line/></geometry></planView>'
        '<lanes><laneSection s="0">'
        f'<left><lane id="1" type="driving">{width}{left}</lane></left>'
        f'<center><lane id="0" type="none">{centre}</lane></center>'
        f'<right><lane id="-1" type="driving">{width}{right}</lane></right>'
        "</laneSection></lanes></road></OpenDRIVE>"
    )


CENTRE = '<roadMark sOffset="0" type="solid solid" weight="standard" color="yellow" width="0.15" laneChange="none"/>'
RIGHT = '<roadMark sOffset="0" type="broken" weight="bold" color="standard"/>'
LEFT = (
    '<roadMark sOffset="40" type="broken" color="white" width="0.12"/>'
    '<roadMark sOffset="0" type="solid" color="white" width="0.12" laneChange="none"/>'
)


def test_road_marks_lie_on_the_lane_borders():
    net = load_opendrive(text=_map(CENTRE, RIGHT, LEFT))
    got = {}
    for i, kind in enumerate(net.mark_kinds):
        x, y = net.mark_line(i)
        lane = net.lane_names[net.mark_lane[i]] if net.mark_lane[i] >= 0 else "centre"
        got[(lane, kind)] = (float(x.min()), float(x.max()), float(np.mean(y)), float(np.ptp(y)))
        assert np.all(np.diff(x) > 0)  # one polyline along the road
    assert got == {
        ("centre", "solid solid"): (0.0, 100.0, 0.0, 0.0),
        ("1:0:-1", "broken"): (0.0, 100.0, -3.5, 0.0),
        ("1:0:1", "solid"): (0.0, 40.0, 3.5, 0.0),
        ("1:0:1", "broken"): (40.0, 100.0, 3.5, 0.0),
    }
    widths = dict(zip(net.mark_kinds, net.mark_width, strict=True))
    assert widths["solid solid"] == 0.15 and widths["solid"] == 0.12
    assert ROADMARK_WIDTH_M["bold"] in net.mark_width  # lane -1: bold without a width
    assert dict(zip(net.mark_kinds, net.mark_colors, strict=True))["solid solid"] == "yellow"
    solid = next(i for i, k in enumerate(net.mark_kinds) if k == "solid")
    assert net.mark_lane_change[solid] == "none"


def test_double_lines_are_drawn_a_line_width_either_side_and_layers_group_them(tmp_path):
    net = load_opendrive(text=_map(CENTRE, RIGHT, LEFT))
    lines = mark_lines(net)
    yellow = sorted(float(pts[0, 1]) for pts, _, colour in lines if colour == "yellow")
    assert yellow == pytest.approx([-0.15, 0.15])
    layers = map_layers(net)
    assert len(layers["mark:solid:yellow"][2]) == 2
    assert len(layers["mark:broken:white"][2]) == 2  # lane -1 and lane 1 from s 40
    assert len(layers["mark:solid:white"][2]) == 1
    out = render_map(net, tmp_path / "m.png", size_in=3, dpi=60)
    assert out.stat().st_size > 0


def test_none_marks_draw_nothing_and_bad_widths_are_located():
    net = load_opendrive(text=_map('<roadMark sOffset="0" type="none"/>', "", ""))
    assert net.mark_kinds == () and net.mark_start.tolist() == [0]
    with pytest.raises(MapError, match=r"road '1'.*lane '-1'.*roadMark> width"):
        load_opendrive(text=_map("", '<roadMark sOffset="0" type="solid" width="-1"/>', ""))


@pytest.mark.skipif(not (MAPS / "Town01.xodr").is_file(), reason="../shared/maps/carla/Town01.xodr is absent")
def test_town01_road_marks_follow_lane_borders():
    net = load_opendrive(MAPS / "Town01.xodr")
    assert len(net.mark_kinds) > 100 and set(net.mark_kinds) == {"broken", "curb"}  # read from the file
    # Every line bordering a kept lane lies half a lane width from that lane's centre line.
    lanes = net.mark_lane
    for i in np.flatnonzero(lanes >= 0)[:: max(1, int(np.sum(lanes >= 0)) // 20)]:
        x, y = net.mark_line(int(i))
        lx, ly, ls = net.lane_points(int(lanes[i]))
        dense = np.arange(0.0, ls[-1], 0.05)  # 5 cm: vertex distances are then perpendicular ones
        lx, ly = np.interp(dense, ls, lx), np.interp(dense, ls, ly)
        d = np.min(np.hypot(x[:, None] - lx[None, :], y[:, None] - ly[None, :]), axis=1)
        assert np.median(d) == pytest.approx(0.5 * net.lane_width[lanes[i]], abs=0.05)
