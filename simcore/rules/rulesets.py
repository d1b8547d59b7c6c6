"""Rule sets: which side traffic keeps to, default zone speed limits, turn-on-red and left-turn policy.

A :class:`RuleSet` is plain data, resolved once at build time and attached to the World
(``simcore.rules.world_rules``). Behaviours read its per-vehicle flags, evaluators read the lane
speed limits that the zones of the scenario lowered (``simcore.rules.zones``), so speeding and
turning are judged against the same rules the agents are given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from simcore.units import kph_to_mps

#: Zone kinds a scenario's ``zones:`` may name.
ZONE_KINDS = ("school", "residential", "urban")


@dataclass(frozen=True)
class RuleSet:
    """One set of traffic rules.

    Attributes:
        name: ``generic`` or ``korea``.
        traffic_side: ``right`` (drive on the right; both built-in sets).
        urban_limit, residential_limit, school_zone_limit: default speed limits (m/s) of the zone kinds.
        right_turn_on_red: a right turn against a red signal is allowed.
        right_on_red_full_stop: ... only after coming to a full stop at the stop line.
        right_on_red_yield_crosswalk: ... and only when the crosswalk of the exit arm is clear.
        left_turn_protected: a left turn needs a protected (arrow) phase unless the junction
            marks it permissive.
    """

    name: str
    traffic_side: Literal["right", "left"] = "right"
    urban_limit: float = kph_to_mps(50.0)
    residential_limit: float = kph_to_mps(30.0)
    school_zone_limit: float = kph_to_mps(30.0)
    right_turn_on_red: bool = False
    right_on_red_full_stop: bool = True
    right_on_red_yield_crosswalk: bool = True
    left_turn_protected: bool = True

    def zone_limit(self, kind: str) -> float:
        """Default speed limit (m/s) of a zone kind (``school``, ``residential``, ``urban``)."""
        return {"school": self.school_zone_limit, "residential": self.residential_limit, "urban": self.urban_limit}[
            kind
        ]


#: Generic rules: right-hand traffic, no turn on red unless configured, protected lefts.
GENERIC = RuleSet(
    name="generic",
    urban_limit=kph_to_mps(50.0),
    residential_limit=kph_to_mps(30.0),
    school_zone_limit=kph_to_mps(30.0),
    right_turn_on_red=False,
)

#: Korean urban rules ("안전속도 5030", Road Traffic Act): 50 km/h on urban roads, 30 km/h in
#: residential streets and children's protection (school) zones; right turn on red allowed after a
#: full stop and yielding to pedestrians on the crosswalk; left turns only on a protected signal
#: unless marked permissive (비보호 좌회전); right-hand traffic.
KOREA = RuleSet(
    name="korea",
    urban_limit=kph_to_mps(50.0),
    residential_limit=kph_to_mps(30.0),
    school_zone_limit=kph_to_mps(30.0),
    right_turn_on_red=True,
    right_on_red_full_stop=True,
    right_on_red_yield_crosswalk=True,
    left_turn_protected=True,
)

RULE_SETS = {r.name: r for r in (GENERIC, KOREA)}


def rule_set(
    base: str,
    *,
    right_turn_on_red: bool | None = None,
    urban_limit: float | None = None,
    residential_limit: float | None = None,
    school_zone_limit: float | None = None,
) -> RuleSet:
    """The named rule set with the given adjustments (limits in m/s; None keeps the set's value)."""
    try:
        rs = RULE_SETS[base]
    except KeyError:
        raise KeyError(f"unknown rule set {base!r} (known: {', '.join(RULE_SETS)})") from None
    changes = {
        k: v
        for k, v in dict(
            right_turn_on_red=right_turn_on_red,
            urban_limit=urban_limit,
            residential_limit=residential_limit,
            school_zone_limit=school_zone_limit,
        ).items()
        if v is not None
    }
    return replace(rs, **changes) if changes else rs  # type: ignore[arg-type]
