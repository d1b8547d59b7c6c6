"""Euro NCAP pedestrian scenarios: the walk is timed so that an unbraked VUT meets the nominal impact point."""

import pytest

from simcore._data import catalog_dir
from simcore.agents.protocol import Control
from simcore.api import simulation
from simcore.evaluation.events import EventKind

SEDAN_HALF_WIDTH = 0.93


class _Cruise:
    """Holds speed and the wheel straight: the VUT without AEB."""

    name = "cruise"

    def reset(self, info):
        """Nothing to prepare."""

    def act(self, obs):
        """No acceleration, no steering."""
        return Control(accel=0.0, steer=0.0)


# (file, variant, impact point as a fraction of the width from the VUT's right edge)
CASES = [
    ("ncap/cpna.yaml", 4, 0.25),  # CPNA-25 at 40 km/h
    ("ncap/cpna.yaml", 17, 0.75),  # CPNA-75 at 60 km/h
    ("ncap/cpfa.yaml", 4, 0.50),  # CPFA-50 at 40 km/h
    ("ncap/cpfa.yaml", 8, 0.50),  # CPFA-50 at 60 km/h
]


@pytest.mark.parametrize(("name", "variant", "nominal"), CASES)
def test_unbraked_vut_meets_the_nominal_impact_point(name, variant, nominal):
    sim = simulation(catalog_dir("scenarios") / name, agent=_Cruise(), variant=variant)
    res = sim.run()
    hits = [e for e in res.events if e.kind == EventKind.COLLISION]
    assert hits, "the unbraked VUT must strike the pedestrian"
    ids = list(sim.world.actor_ids)
    row = round(hits[0].time / res.dt)
    ped_x = res.trajectory["x"][row][ids.index("pedestrian")]
    ego_x = res.trajectory["x"][row][ids.index("ego")]
    frac_from_right = (ego_x + SEDAN_HALF_WIDTH - ped_x) / (2 * SEDAN_HALF_WIDTH)
    assert frac_from_right == pytest.approx(nominal, abs=0.1)


# Variants the built-in autopilot avoids, as the scenario descriptions state (the others are
# designed to be unavoidable for a purely reactive driver: it sees the pedestrian only once it
# steps into the path corridor).
AUTOPILOT_AVOIDS = {
    "ncap/cpna.yaml": set(range(0, 5)) | set(range(9, 18)),  # CPNA-25 at 20-40 km/h, CPNA-75 at 20-60
    "ncap/cpfa.yaml": set(range(0, 7)),  # CPFA-50 at 20-50 km/h
}
N_VARIANTS = {"ncap/cpna.yaml": 18, "ncap/cpfa.yaml": 9}


@pytest.mark.parametrize("name", sorted(AUTOPILOT_AVOIDS))
def test_autopilot_outcomes_match_the_descriptions(name):
    avoided = set()
    for k in range(N_VARIANTS[name]):
        res = simulation(catalog_dir("scenarios") / name, variant=k).run()
        assert res.termination == "goal_reached", (k, res.termination)
        if not any(e.kind == EventKind.COLLISION for e in res.events):
            avoided.add(k)
    assert avoided == AUTOPILOT_AVOIDS[name]
