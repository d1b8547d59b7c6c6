"""Speed zones applied to a road network's lane limits, and the rules attached to a World."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simcore.road.lane_graph import points_in_polygon
from simcore.road.network import RoadNetwork
from simcore.rules.rulesets import GENERIC, RuleSet


@dataclass(frozen=True)
class Zone:
    """A resolved zone: its kind, limit (m/s) and the lanes it covers."""

    kind: str
    limit: float
    lanes: tuple[int, ...]


def lanes_in_polygon(net: RoadNetwork, poly: np.ndarray) -> list[int]:
    """Lanes whose centre-line midpoint (half their length along) lies inside ``poly`` ((k, 2), m)."""
    out = []
    for lane in range(len(net.lane_names)):
        x, y, s = net.lane_points(lane)
        half = 0.5 * float(s[-1])
        mx, my = np.interp(half, s, x), np.interp(half, s, y)
        if points_in_polygon(np.array([mx]), np.array([my]), poly[:, 0], poly[:, 1])[0]:
            out.append(lane)
    return out


def apply_zones(net: RoadNetwork, zones: list[Zone]) -> np.ndarray:
    """Lower ``net.lane_speed_limit`` in place to each zone's limit on its lanes; returns the old limits.

    A zone never raises a limit (a 30 km/h lane in a 50 km/h urban zone stays 30 km/h).
    """
    old = net.lane_speed_limit.copy()
    for z in zones:
        for lane in z.lanes:
            net.lane_speed_limit[lane] = min(float(net.lane_speed_limit[lane]), z.limit)
    return old


@dataclass(frozen=True)
class WorldRules:
    """The rule set a World runs under, its zones, and per-row flags for the behaviours.

    Attributes:
        rules: the RuleSet. zones: resolved zones.
        right_on_red: (n,) bool per row: may turn right on red (after a full stop, yielding
            to the crosswalk when the rule set says so). Behaviours read it; pedestrians False.
    """

    rules: RuleSet = GENERIC
    zones: tuple[Zone, ...] = ()
    right_on_red: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))


def world_rules(world: object) -> WorldRules:
    """The rules attached to a World at build time (generic, no zones, if none were)."""
    found = getattr(world, "rules", None)
    if isinstance(found, WorldRules):
        return found
    n = world.state.n  # type: ignore[attr-defined]
    return WorldRules(right_on_red=np.zeros(n, dtype=np.bool_))
