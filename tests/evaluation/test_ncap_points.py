"""Euro NCAP AEB colour bands and points (Euro NCAP's 2026 rating calculator), computed by hand."""

import pytest

from simcore.batch.runner import ncap_summary
from simcore.evaluation import ncap_points as nc
from simcore.evaluation.events import Event, EventKind
from simcore.evaluation.regulation import euro_ncap_aeb


def test_colour_bands_per_test_speed():
    # avoided (impact speed 0) is green at every grid speed
    assert [nc.colour(v, 0.0) for v in (10, 20, 30, 40, 50, 80)] == ["green"] * 6
    # 10 and 20 km/h: any impact is red
    assert nc.colour(10, 0.5) == "red" and nc.colour(20, 5.0) == "red"
    # 30: (0, 10] brown, above red
    assert (nc.colour(30, 10.0), nc.colour(30, 10.1)) == ("brown", "red")
    # 40: (0, 10] orange, (10, 20] brown
    assert [nc.colour(40, v) for v in (5, 10, 15, 20, 21)] == ["orange", "orange", "brown", "brown", "red"]
    # 50 and up: (0,10] yellow, (10,20] orange, (20,30] brown
    assert [nc.colour(60, v) for v in (10, 20, 30, 31)] == ["yellow", "orange", "brown", "red"]
    # off the protocol's 10 km/h grid below 50: no band
    assert nc.colour(15, 0.0) is None and nc.colour(45, 3.0) is None
    assert nc.COLOUR_POINTS == {"green": 1.0, "yellow": 0.75, "orange": 0.5, "brown": 0.25, "red": 0.0}


def test_ccrs_sweep_total_by_hand():
    # A CCRs sweep over 10..50 km/h in 5 km/h steps. Impact speeds (km/h, 0 = avoided):
    impacts = {10: 0, 15: 0, 20: 0, 25: 0, 30: 0, 35: 4, 40: 15, 45: 8, 50: 5}
    pts = [nc.test_point("CCRs", v, imp, imp) for v, imp in impacts.items()]
    # On the grid: 10, 20, 30 green (1 each), 40 at 15 km/h brown (0.25), 50 at 5 km/h yellow (0.75);
    # 15, 25, 35, 45 are off the 2026 grid and not scored.
    # mean = (1 + 1 + 1 + 0.25 + 0.75) / 5 = 0.8; CCRs is worth 1.2 points -> 0.96
    table = nc.test_type_scores(pts)["CCRs"]
    assert (table["test_points"], table["off_grid"]) == (5, 4)
    assert table["colours"] == {"green": 3, "yellow": 1, "orange": 0, "brown": 1, "red": 0}
    assert table["mean_points"] == pytest.approx(0.8)
    assert table["score"] == pytest.approx(0.96)


def test_moving_target_uses_relative_impact_speed():
    # CCRm at 50 km/h hitting a 20 km/h target at 28 km/h: relative 8 km/h -> yellow; CCRs would use 28
    assert nc.test_point("CCRm", 50, 28, 8)["colour"] == "yellow"
    assert nc.test_point("CCRs", 50, 28, 8)["colour"] == "brown"
    assert nc.TEST_TYPE_POINTS == {"CCRs": 1.2, "CCRm": 2.4, "CCRb": 1.6, "CPNA": 0.5, "CPFA": 0.5}


def test_result_block_and_batch_summary_carry_the_points():
    hit = [Event(3.0, EventKind.COLLISION, ("ego", "target"), 12 / 3.6)]
    res = euro_ncap_aeb(hit, "target", 40 / 3.6, 12 / 3.6, "CCRs")
    assert (res["colour"], res["points"], res["test_type"]) == ("brown", 0.25, "CCRs")
    ok = euro_ncap_aeb([], "target", 40 / 3.6, None, "CCRs")
    assert (ok["colour"], ok["points"]) == ("green", 1.0)
    entries = [
        {"agent_key": "autopilot", "euro_ncap": {"test_type": "CCRs", "colour": c, "points": p}}
        for c, p in (("green", 1.0), ("brown", 0.25))
    ] + [{"agent_key": "autopilot", "euro_ncap": None}]
    board = ncap_summary(entries)
    assert board["autopilot"]["CCRs"]["score"] == pytest.approx(1.2 * 0.625)


def test_batch_entry_takes_the_test_point_from_result_json():
    from simcore.batch.jobs import _ncap_point

    data = {
        "regulation": {
            "euro_ncap_aeb": {"test_type": "CPNA", "test_speed_kph": 30.0, "colour": "brown", "points": 0.25}
        }
    }
    assert _ncap_point(data) == {"test_type": "CPNA", "test_speed_kph": 30.0, "colour": "brown", "points": 0.25}
    assert _ncap_point({"regulation": {"euro_ncap_aeb": {"test_type": None}}}) is None
    assert _ncap_point({}) is None
