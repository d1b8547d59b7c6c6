"""Contract test over the built-in catalog: every scenario validates, runs and passes with the autopilot."""

import pytest

from simcore._data import catalog_dir
from simcore.api import simulation
from simcore.cli import main
from simcore.evaluation.events import EventKind

SCENARIOS = sorted(catalog_dir("scenarios").rglob("*.yaml"))


def test_catalog_is_not_empty():
    assert len(SCENARIOS) >= 4


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_validates(path):
    assert main(["validate", "--quiet", str(path)]) == 0


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_autopilot_passes_every_criterion_without_infractions(path):
    res = simulation(path).run()
    assert res.termination == "goal_reached", res.termination
    assert res.passed, [v for v in res.verdicts if not v.passed]
    bad = [e for e in res.events if e.kind in (EventKind.COLLISION, EventKind.RED_LIGHT, EventKind.OFFROAD)]
    assert not bad, bad
