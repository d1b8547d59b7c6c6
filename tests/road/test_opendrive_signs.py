"""Signals and signs read from OpenDRIVE files: speed-limit signs and speed records set per-sample
lane limits, traffic lights group by controller or junction approach, stop and yield signs.
Expected values are read by hand from the files' ``<signal>`` records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore._types import StopRule
from simcore.road.lane_graph import route_path
from simcore.road.opendrive import load_opendrive, parse_opendrive

XODR = Path(__file__).resolve().parents[2].parent / "shared" / "esmini" / "xodr"
SIGNS = XODR / "straight_500m_signs.xodr"
LIGHTS = XODR / "fabriksgatan_traffic_lights.xodr"
KPH = 1 / 3.6


def _changes(net, name: str) -> list[tuple[float, float]]:
    """(lane s m, new limit km/h) wherever the per-sample limit changes along a lane, plus the first."""
    i = net.lane_id(name)
    a, b = net.lane_start[i], net.lane_start[i + 1]
    v, s = net.pts_speed[a:b] / KPH, net.pts_s[a:b]
    idx = np.concatenate([[0], np.flatnonzero(np.diff(v)) + 1])
    return [(round(float(s[k]), 1), round(float(v[k]), 1)) for k in idx]


@pytest.mark.skipif(not SIGNS.is_file(), reason="../shared/esmini/xodr/straight_500m_signs.xodr is not present")
def test_speed_signs_of_straight_500m_set_the_limits_along_each_direction():
    # Along s (lane -1): Swedish C31-5 (50) at 0, C31-3 (30) at 100, StVO 274 50 at 200.
    # Against s (lane 1, lane s = 500 - road s): 274 50 at road s 500, 274 30 at 200 (its validity
    # names lane 1), C31-5 (50) at 100.
    net = load_opendrive(SIGNS)
    assert _changes(net, "1:0:-1") == [(0.0, 50.0), (100.0, 30.0), (200.0, 50.0)]
    assert _changes(net, "1:0:1") == [(0.0, 50.0), (300.0, 30.0), (400.0, 50.0)]
    kinds = {sig.name: (sig.kind, sig.speed) for sig in parse_opendrive(SIGNS).roads["1"].signals}
    assert kinds["speed_30_0"] == ("speed", pytest.approx(30 * KPH))
    assert kinds["construction_zone_s0"][0] == "other"  # not a limit
    # Routes carry the limits the drivers and the speeding evaluator use.
    rp = route_path(net, [net.lane_id("1:0:-1")], 0.0)
    mid = (rp.s > 110) & (rp.s < 190)
    assert np.allclose(rp.speed_limit[mid], 30 * KPH) and np.allclose(rp.speed_limit[rp.s > 210], 50 * KPH)


def _road(rid: str, x0: float, signals: str = "", speeds: str = "", succ: str = "", road_type: str = "") -> str:
    return (
        f'<road id="{rid}" length="100" junction="-1"><link>{succ}</link>{road_type}<planView>'
        f'<geometry s="0" x="{x0}" y="0" hdg="0" length="100"><line/></geometry></planView>'
        '<lanes><laneSection s="0"><center><lane id="0" type="none"/></center><right>'
        f'<lane id="-1" type="driving"><width sOffset="0" a="3.5" b="0" c="0" d="0"/>{speeds}</lane>'
        f"</right></laneSection></lanes><signals>{signals}</signals></road>"
    )


def _doc(*parts: str) -> str:
    return f'<OpenDRIVE><header revMajor="1" revMinor="6"/>{"".join(parts)}</OpenDRIVE>'


def test_lane_speed_records_and_road_types_change_the_limit_part_way():
    speeds = '<speed sOffset="0" max="60" unit="km/h"/><speed sOffset="40" max="20" unit="km/h"/>'
    types = '<type s="0" type="town"><speed max="30" unit="km/h"/></type><type s="70" type="motorway"/>'
    net = load_opendrive(text=_doc(_road("1", 0, speeds=speeds), _road("2", 200, road_type=types)))
    assert _changes(net, "1:0:-1") == [(0.0, 60.0), (40.0, 20.0)]
    assert _changes(net, "2:0:-1") == [(0.0, 30.0), (70.0, 100.0)]  # motorway without a speed: 100 km/h
    assert net.lane_speed_limit[net.lane_id("1:0:-1")] == pytest.approx(60 * KPH)  # the lane's highest


def test_stop_and_yield_signs_are_read():
    sig = (
        '<signal id="s" name="stop" s="95" t="-3" orientation="+" dynamic="no" type="206"/>'
        '<signal id="y" name="give way" s="50" t="-3" orientation="+" dynamic="no" type="205"/>'
    )
    odr = parse_opendrive(text=_doc(_road("1", 0, signals=sig)))
    assert [(g.id, g.kind) for g in odr.roads["1"].signals] == [("s", "stop"), ("y", "yield")]
    net = load_opendrive(text=_doc(_road("1", 0, signals=sig)))
    i = net.lane_id("1:0:-1")
    assert net.lane_stop_s[i] == pytest.approx(95.0) and net.lane_signal[i] == -1  # unsignalised stop line
    assert net.stop_rules()[i] == StopRule.STOP  # of two signs on a lane, the one nearer its end


def _crossing(controller: bool) -> str:
    """Two approaches (roads 1 and 2) to junction 5, one light each; optionally one controller for both."""
    light = '<signal id="{id}" name="l{id}" s="98" t="-3" orientation="+" dynamic="yes" type="1000001"/>'
    r1 = _road("1", 0, signals=light.format(id="a"), succ='<successor elementType="junction" elementId="5"/>')
    r2 = _road("2", 300, signals=light.format(id="b"), succ='<successor elementType="junction" elementId="5"/>')
    junction = '<junction id="5" name="j"/>'
    ctrl = '<controller id="c1" name="both"><control signalId="a"/><control signalId="b"/></controller>'
    return _doc(r1, r2, junction, ctrl if controller else "")


def test_lights_group_by_controller_else_by_junction_approach():
    grouped = load_opendrive(text=_crossing(True))
    assert grouped.signal_names == ("c1",)
    apart = load_opendrive(text=_crossing(False))
    assert apart.signal_names == ("junction:0:road:1:+", "junction:0:road:2:+")
    # Default plan: the two approaches take turns (the second starts red).
    starts = [apart.plan_state[apart.plan_start[g]] for g in range(2)]
    assert starts[0] != starts[1]


@pytest.mark.skipif(not LIGHTS.is_file(), reason="../shared/esmini/xodr/fabriksgatan_traffic_lights.xodr is absent")
def test_fabriksgatan_lights_stop_only_the_approaching_lane():
    net = load_opendrive(LIGHTS)
    assert net.signal_names == ("junction:0:road:3:+",)
    stops = {net.lane_names[i]: float(net.lane_stop_s[i]) for i in np.flatnonzero(~np.isnan(net.lane_stop_s))}
    # Signals at road s 109 and 114, orientation "+": only lane -1 (along s) approaches the junction.
    assert list(stops) == ["3:0:-1"] and stops["3:0:-1"] == pytest.approx(109.0, abs=0.01)
