"""Euro NCAP AEB points per test speed and per test type, with the protocol's colour bands.

Source: Euro NCAP's own rating calculator for the 2026 protocols, Euro-NCAP/euroncap_rating_2026
(Apache-2.0, commit 94b1035d): ``crash_avoidance/matrix_processing.py`` (colour of a test point from
its impact speed, per VUT speed; points per colour) and ``crash_avoidance/data_model.py``
(``TOTAL_SCORES``: points per test type, standard range) with ``test_info.compute_predicted_score``
(test-type score = mean points of its test points x the test type's points). The 2019-2025 AEB
protocols (5 km/h grids) were not reachable from here; see docs/scoring.md ("Euro NCAP AEB points").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Colour -> points of one test point (standard range).
COLOUR_POINTS: dict[str, float] = {"green": 1.0, "yellow": 0.75, "orange": 0.5, "brown": 0.25, "red": 0.0}

#: VUT test speed (km/h) -> colour bands: (colour, highest impact speed in km/h for it), ascending.
#: Impact speed 0 (avoided) is green; test speeds of 50 km/h and more use the 50 km/h bands.
IMPACT_SPEED_BANDS: dict[float, tuple[tuple[str, float], ...]] = {
    10.0: (("green", 0.0), ("red", float("inf"))),
    20.0: (("green", 0.0), ("red", float("inf"))),
    30.0: (("green", 0.0), ("brown", 10.0), ("red", float("inf"))),
    40.0: (("green", 0.0), ("orange", 10.0), ("brown", 20.0), ("red", float("inf"))),
    50.0: (("green", 0.0), ("yellow", 10.0), ("orange", 20.0), ("brown", 30.0), ("red", float("inf"))),
}

#: Points of each test type, standard range (TOTAL_SCORES; pedestrian tests: the "day" entries).
TEST_TYPE_POINTS: dict[str, float] = {"CCRs": 1.2, "CCRm": 2.4, "CCRb": 1.6, "CPNA": 0.5, "CPFA": 0.5}

#: Test types whose target moves along the VUT's path: the impact speed is the relative one.
RELATIVE_IMPACT = frozenset({"CCRm", "CCRb"})


def band_speed(test_speed_kph: float) -> float | None:
    """The VUT speed whose colour bands apply: 50 from 50 km/h up, else the exact grid speed; None off the grid."""
    v = round(float(test_speed_kph), 6)
    if v >= 50.0:
        return 50.0
    return v if v in IMPACT_SPEED_BANDS else None


def colour(test_speed_kph: float, impact_speed_kph: float) -> str | None:
    """Colour band of one test point: its impact speed (km/h, 0 when avoided) against the bands of its
    test speed; an interval is (previous bound, bound]. None for a test speed off the protocol's grid."""
    grid = band_speed(test_speed_kph)
    if grid is None:
        return None
    lower = float("-inf")
    for name, upper in IMPACT_SPEED_BANDS[grid]:
        if lower < impact_speed_kph <= upper:
            return name
        lower = upper
    return "red"


def test_point(test_type: str | None, test_speed_kph: float, vut_impact_kph: float, relative_impact_kph: float) -> dict:
    """Colour and points of one run. The impact speed is the relative one for moving targets (CCRm,
    CCRb), else the VUT's. Points are None where the test speed is off the grid."""
    impact = relative_impact_kph if test_type in RELATIVE_IMPACT else vut_impact_kph
    c = colour(test_speed_kph, impact)
    return {
        "protocol": "euro-ncap-2026",
        "test_type": test_type,
        "impact_speed_for_band_kph": impact,
        "colour": c,
        "points": None if c is None else COLOUR_POINTS[c],
        "on_grid": c is not None,
    }


def test_type_scores(points: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per test type: test points, colours, mean points and score = mean x TEST_TYPE_POINTS.

    ``points``: dicts with ``test_type``, ``colour``, ``points`` (as ``test_point`` returns, e.g. from
    result.json's ``regulation.euro_ncap_aeb``). Off-grid points (points None) are counted apart.
    Every point counts as standard range (the catalog's sweeps do not follow the protocol's matrix).
    """
    out: dict[str, dict[str, Any]] = {}
    for p in points:
        tt = p.get("test_type")
        if not tt:
            continue
        row = out.setdefault(
            tt,
            {"test_points": 0, "off_grid": 0, "points_sum": 0.0, "colours": dict.fromkeys(COLOUR_POINTS, 0)},
        )
        if p.get("points") is None:
            row["off_grid"] += 1
            continue
        row["test_points"] += 1
        row["points_sum"] += float(p["points"])
        row["colours"][p["colour"]] += 1
    for tt, row in out.items():
        n = row["test_points"]
        row["mean_points"] = row["points_sum"] / n if n else None
        row["available"] = TEST_TYPE_POINTS.get(tt)
        avail = row["available"]
        row["score"] = None if (row["mean_points"] is None or avail is None) else row["mean_points"] * avail
    return out
