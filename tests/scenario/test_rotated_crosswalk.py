"""Pedestrians cross at OpenDRIVE crosswalks of any orientation.

Hand-built map: one straight road from the origin at heading 0.5 rad with a crosswalk object at
s = 50, t = 0, turned by hdg = pi/4 - 0.5 against the road, 4 m long (u) and 10 m wide (v). Its
frame heading is pi/4, so the walking line (its v axis, nearer the road normal) points at 135
degrees, half-way between north and west: a compass side within 45 degrees of it never exists
on both ends at once, which the old 25-degree rule refused for every side.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simcore.api import simulation
from simcore.road.generate import crosswalk_end_index
from simcore.road.opendrive import load_opendrive
from simcore.scenario.traffic import crosswalk_sides

ROAD_HDG = 0.5
OBJ_HDG = math.pi / 4 - ROAD_HDG


def _map() -> str:
    lane = '<lane id="{i}" type="driving"><width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane>'
    return (
        '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
        '<road id="1" length="100" junction="-1"><planView>'
        f'<geometry s="0" x="0" y="0" hdg="{ROAD_HDG}" length="100"><line/></geometry></planView>'
        f'<lanes><laneSection s="0"><left>{lane.format(i=1)}</left><center><lane id="0" type="none"/></center>'
        f"<right>{lane.format(i=-1)}</right></laneSection></lanes>"
        f'<objects><object id="cw1" type="crosswalk" name="zebra" s="50" t="0" zOffset="0" hdg="{OBJ_HDG}" '
        'length="4" width="10"/></objects></road></OpenDRIVE>'
    )


def _hand_ends() -> np.ndarray:
    """Walking-line ends (2, 2): centre -/+ 5 m along the frame's v axis (heading pi/4 + pi/2)."""
    centre = 50.0 * np.array([math.cos(ROAD_HDG), math.sin(ROAD_HDG)])
    v = np.array([-math.sin(math.pi / 4), math.cos(math.pi / 4)])
    return np.array([centre - 5.0 * v, centre + 5.0 * v])


def test_rotated_crosswalk_follows_its_own_frame():
    net = load_opendrive(text=_map())
    assert net.cw_names == ("1:cw1",)
    ends = np.column_stack([net.cw_end_x[0], net.cw_end_y[0]])
    assert ends == pytest.approx(_hand_ends(), abs=1e-9)
    # The polygon is the 4 m x 10 m rectangle itself (not the road-aligned bounding box).
    px, py = net.cw_x[0], net.cw_y[0]
    sides = np.hypot(np.diff(np.append(px, px[0])), np.diff(np.append(py, py[0])))
    assert sorted(sides) == pytest.approx([4.0, 4.0, 10.0, 10.0])
    # Every compass side is within 45 degrees of one end: north/west name the end at 135 degrees.
    assert crosswalk_sides(net, 0) == ["north", "east", "south", "west"]
    assert [crosswalk_end_index(net, 0, s) for s in ("north", "east", "south", "west")] == [1, 0, 0, 1]


def test_pedestrian_crosses_a_rotated_crosswalk(tmp_path: Path):
    (tmp_path / "m.xodr").write_text(_map())
    (tmp_path / "s.yaml").write_text(
        "simcore: 1\nname: rotated-crosswalk\nseed: 1\nmap: {file: m.xodr}\n"
        "actors:\n  - id: walker\n    type: pedestrian\n    start: {crosswalk: '1:cw1', side: north}\n"
        "    behavior: {cross: {speed: 1.4, obey_signal: false}}\nend: {timeout_s: 20}\n"
    )
    sim = simulation(tmp_path / "s.yaml")
    w = sim.world
    i = w.actor_ids.index("walker")
    e0, e1 = _hand_ends()
    u = (e0 - e1) / np.linalg.norm(e0 - e1)
    # Starts 2.5 m (offset_m) before the north-west end, walks to 2.5 m past the south-east one.
    assert (float(w.state.x[i]), float(w.state.y[i])) == pytest.approx(tuple(e1 - 2.5 * u), abs=1e-6)
    last = None
    for _ in range(400):
        if w.state.active[i]:
            last = (float(w.state.x[i]), float(w.state.y[i]))
        if sim.step().done:
            break
    assert last is not None
    assert last == pytest.approx(tuple(e0 + 2.5 * u), abs=0.3)
