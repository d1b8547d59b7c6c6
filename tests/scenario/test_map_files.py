"""Scenarios on map files: OpenDRIVE towns drive like generated maps; bad map files are located errors."""

from pathlib import Path

import pytest

from simcore.api import simulation
from simcore.cli import main
from simcore.evaluation.events import EventKind

DATA = Path(__file__).parents[1] / "data"
SHARED = Path(__file__).parents[2].parent / "shared"
TOWN01 = SHARED / "maps" / "carla" / "Town01.xodr"

needs_shared = pytest.mark.skipif(not TOWN01.exists(), reason="../shared/maps (public test maps) not present")


@needs_shared
def test_autopilot_drives_across_town01():
    res = simulation(DATA / "town01.yaml", allow_paths=[SHARED]).run()
    assert res.termination == "goal_reached"
    assert res.passed, [v for v in res.verdicts if not v.passed]
    assert not [e for e in res.events if e.kind in (EventKind.COLLISION, EventKind.OFFROAD)]
    assert res.metrics["distance_m"] > 250  # several roads and a junction turn


def test_missing_map_file_is_a_located_error(tmp_path, capsys):
    bad = tmp_path / "bad_map.yaml"
    bad.write_text(
        "simcore: 1\nname: bad-map\nmap: {file: nowhere.xodr}\n"
        "ego: {start: {lane: a, s: 0}, route: {to: b}}\n"
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3:" in err and "map.file" in err and "nowhere.xodr" in err
