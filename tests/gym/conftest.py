"""Constructed scenarios for the gym tests: straight single-lane roads with known geometry."""

from pathlib import Path

import pytest

STRAIGHT = """\
simcore: 1
name: gym-straight
seed: 0
dt: 0.1
map:
  generate: intersection
  arms: 4
  lanes_per_direction: 1
  lane_width: 3.5
  arm_length: 120
  speed_limit_kph: 36
  crosswalks: false
ego:
  vehicle: sedan
  start: {{lane: south_in_1, s: 10, speed_kph: {speed_kph}}}
  route: {{to: north_out_1}}
actors:
{actors}
end:
  timeout_s: 30
"""

BLOCKER = """\
  - id: blocker
    vehicle: compact
    start: {lane: south_in_1, s: 45, speed_kph: 0}
    route: {to: north_out_1}
    behavior: {idm: {desired_speed_kph: 1}}
"""

FAR = """\
  - id: far
    vehicle: compact
    start: {lane: north_in_1, s: 5, speed_kph: 0}
    route: {to: south_out_1}
    behavior: {idm: {desired_speed_kph: 1}}
"""

SPARSE = str(Path(__file__).resolve().parents[2] / "simcore" / "gym" / "scenarios" / "sparse_intersection.yaml")


def write(tmp: Path, name: str, speed_kph: float, actors: str) -> str:
    p = tmp / f"{name}.yaml"
    p.write_text(STRAIGHT.format(speed_kph=speed_kph, actors=actors))
    return str(p)


@pytest.fixture(scope="session")
def straight_yaml(tmp_path_factory) -> str:
    """Ego alone (one far parked car on the other side of the junction), 72 km/h on a 36 km/h road, heading north."""
    return write(tmp_path_factory.mktemp("gym"), "straight", 72, FAR)


@pytest.fixture(scope="session")
def blocked_yaml(tmp_path_factory) -> str:
    """Ego at 54 km/h behind a standing car 35 m ahead in its lane."""
    return write(tmp_path_factory.mktemp("gym"), "blocked", 54, BLOCKER)


@pytest.fixture(scope="session")
def sparse_yaml() -> str:
    """The shipped light scenario (ego + 2 NPC vehicles, signals)."""
    return SPARSE
