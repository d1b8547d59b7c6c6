"""Regulation-style verdicts: Euro NCAP AEB outcome and the UN R157-style avoidability check."""

from pathlib import Path

import pytest

from simcore.api import simulation
from simcore.evaluation.events import Event, EventKind
from simcore.evaluation.regulation import euro_ncap_aeb, un_r157
from simcore.scenario.schema import RegulationSpec

from .test_infractions import Throttle

REAR_END = Path(__file__).parents[1] / "data" / "rear_end.yaml"
A = 0.774 * 9.81


def test_euro_ncap_aeb_avoided_and_mitigated():
    res = euro_ncap_aeb([], "target", 50 / 3.6, None)
    assert res["avoided"] and res["passed"] and res["speed_reduction_pct"] == pytest.approx(100.0)
    hit = [Event(3.0, EventKind.COLLISION, ("ego", "target"), 20 / 3.6)]
    res = euro_ncap_aeb(hit, "target", 50 / 3.6, 20 / 3.6)
    assert not res["avoided"] and not res["passed"]
    assert res["impact_speed_kph"] == pytest.approx(20.0)
    assert res["speed_reduction_kph"] == pytest.approx(30.0)
    assert res["speed_reduction_pct"] == pytest.approx(60.0)
    assert res["relative_impact_speed_kph"] == pytest.approx(20.0)


def test_un_r157_avoidability_by_hazard_onset():
    d = 20 * 0.75 + 20**2 / (2 * A)  # stopping distance of the careful driver, 41.35 m
    base = {"time_s": 5.0, "other": "car", "hazard_t": 1.0, "v_ego": 20.0, "v_other": 0.0, "decel_other": 0.0}
    # the obstacle appeared farther ahead than the careful driver needs: avoidable -> fail
    res = un_r157([base | {"gap_m": d + 1}])
    assert res["collisions"][0]["avoidable"] and not res["passed"]
    # it appeared closer: not avoidable -> pass
    assert un_r157([base | {"gap_m": d - 1}])["passed"]
    # a faster reaction (0.35 s) avoids at d - 1 m: 0.4 s x 20 m/s = 8 m less
    assert not un_r157([base | {"gap_m": d - 1}], reaction_s=0.35)["passed"]
    # never ahead on the path (hit from the side or behind): not avoidable
    assert un_r157([base | {"hazard_t": float("nan"), "gap_m": float("nan")}])["passed"]
    # static objects are always avoidable; no collision at all passes
    assert not un_r157([{"time_s": 1.0, "other": "static:wall", "static": True}])["passed"]
    assert un_r157([])["passed"]


def _run(agent, regulation):
    sim = simulation(REAR_END, agent)
    sim.regulation = RegulationSpec.model_validate(regulation)
    return sim.run()


def test_regulation_verdicts_in_the_result():
    reg = {"euro_ncap_aeb": {"target": "lead"}, "un_r157": {}}
    res = _run(Throttle(2.0), reg)  # accelerates into the standing lead from 20 km/h
    aeb, r157 = res.regulation["euro_ncap_aeb"], res.regulation["un_r157"]
    coll = next(e for e in res.events if e.kind == EventKind.COLLISION)
    assert aeb["test_speed_kph"] == pytest.approx(20.0)
    assert not aeb["avoided"] and aeb["speed_reduction_pct"] == 0.0  # faster than the test speed at impact
    assert aeb["relative_impact_speed_kph"] == pytest.approx(coll.value * 3.6)
    # the lead stood ahead from the start (gap ~ 40 m at 5.6 m/s): the careful driver stops in time
    assert r157["collisions"][0]["hazard_time_s"] == pytest.approx(res.dt)
    assert r157["avoidable_collisions"] == 1 and not r157["passed"]
    verdicts = {v.name: v.passed for v in res.verdicts}
    assert verdicts["euro_ncap_aeb"] is False and verdicts["un_r157"] is False
    assert res.to_json()["regulation"]["un_r157"]["passed"] is False
    ok = _run("autopilot", reg)
    assert ok.regulation["euro_ncap_aeb"]["avoided"] and ok.regulation["un_r157"]["passed"]
    assert {v.name: v.passed for v in ok.verdicts}["un_r157"] is True


def test_regulation_spec_bounds():
    with pytest.raises(ValueError):
        RegulationSpec.model_validate({"un_r157": {"reaction_time_s": 0.2}})
    assert RegulationSpec.model_validate({"un_r157": {}}).un_r157.decel_g == 0.774
