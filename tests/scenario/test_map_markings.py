"""OpenDRIVE markings (roadMark objects, zero-height objects) are drawn but never hit; solid
objects (barriers, poles) still are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.api import simulation
from simcore.evaluation.events import EventKind
from simcore.road.opendrive import load_opendrive
from simcore.road.static_index import build_static_index

OBJECT = '<object id="{id}" type="{type}" name="{name}" s="14" t="-1.75" hdg="0" length="{length}" width="3"{height}/>'


def _map(*objects: str) -> str:
    return (
        '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
        '<road id="1" length="150" junction="-1"><planView>'
        '<geometry s="0" x="0" y="0" hdg="0" length="150"><line/></geometry></planView>'
        '<lanes><laneSection s="0"><center><lane id="0" type="none"/></center>'
        '<right><lane id="-1" type="driving"><width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane></right>'
        f"</laneSection></lanes><objects>{''.join(objects)}</objects></road></OpenDRIVE>"
    )


MARKINGS = [
    OBJECT.format(id=1, type="roadMark", name="stop line", length=0.5, height=""),
    OBJECT.format(id=2, type="none", name="arrow", length=5, height=' height="0.0"'),
    OBJECT.format(id=3, type="patch", name="hatched", length=8, height=""),
]
BARRIER = OBJECT.format(id=9, type="barrier", name="block", length=1, height=' height="1.0"')


def test_markings_are_kept_but_not_solid():
    net = load_opendrive(text=_map(*MARKINGS, BARRIER))
    assert net.obj_names == ("stop line", "arrow", "hatched", "block")
    assert net.solid_objects().tolist() == [False, False, False, True]
    idx = build_static_index(net)
    assert idx.cell_obj.tolist() and set(idx.cell_obj.tolist()) == {3}


def _run(tmp_path: Path, xodr: str):
    (tmp_path / "m.xodr").write_text(xodr)
    (tmp_path / "s.yaml").write_text(
        "simcore: 1\nname: markings\nseed: 1\nmap: {file: m.xodr}\n"
        'ego: {vehicle: sedan, start: {lane: "1:0:-1", s: 5, speed_kph: 30}, route: {to: "1:0:-1"}}\n'
        "end: {timeout_s: 40}\ncriteria: [no_collision]\n"
    )
    return simulation(tmp_path / "s.yaml").run()


@pytest.mark.parametrize("solid", [False, True], ids=["markings", "barrier"])
def test_driving_over_markings_is_no_collision_but_a_barrier_is(tmp_path, solid):
    res = _run(tmp_path, _map(*([BARRIER] if solid else MARKINGS)))
    hits = [e for e in res.events if e.kind == EventKind.COLLISION]
    if solid:
        assert hits and "static:block" in hits[0].actors
    else:
        assert not hits and res.passed
    assert np.isfinite(res.metrics["distance_m"])
