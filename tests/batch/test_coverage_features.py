"""Coverage features: the manoeuvres and road features a run exercised, checked against catalog
scenarios built to exercise exactly one of them (their descriptions say which)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simcore.api import simulation
from simcore.batch.coverage import coverage, run_features

URBAN = Path(__file__).resolve().parents[2] / "scenarios" / "urban"

# scenario -> (junction passages, manoeuvres) the ego's run must show, in the order met
EXPECTED = {
    "u_turn": ([], ["u-turn"]),  # a turnaround bulb at the street's end, no junction
    "cut_in": (["stop line straight"], ["straight through a junction", "cut-in from the left"]),
    "construction_lane_closure": (["signalised straight"], ["straight through a junction", "lane change left"]),
    "unsignalized_junction": (["stop line straight"], ["straight through a junction", "stop at a stop line"]),
    "right_turn_cyclist": (["signalised right"], ["right turn at a junction", "stop at a red signal"]),
    "t_junction_left_turn": (["signalised left"], ["left turn at a junction", "stop at a red signal"]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_run_features_of_catalog_scenarios(name: str) -> None:
    sim = simulation(URBAN / f"{name}.yaml", "autopilot")
    sim.run()
    f = run_features(sim)
    passages, manoeuvres = EXPECTED[name]
    assert (f["junction_passages"], f["manoeuvres"]) == (passages, manoeuvres)
    assert f["lane_changes"] == sum(m.startswith("lane change") for m in manoeuvres)


def test_coverage_counts_runs_per_manoeuvre_and_criticality_bins(tmp_path: Path) -> None:
    import json

    rows = []
    feats = [["u-turn", "stop at a red signal"], ["stop at a red signal"], []]
    metrics = [(0.7, 0.9, 7.5), (None, 2.5, 1.0), (4.0, None, 3.0)]  # min TTC, min THW, max decel
    for k, (f, (ttc, thw, dec)) in enumerate(zip(feats, metrics, strict=True)):
        (tmp_path / str(k)).mkdir()
        (tmp_path / str(k) / "features.json").write_text(json.dumps({"manoeuvres": f}))
        rows.append({"status": "pass", "scenario_key": "s", "scenario_file": "", "dir": str(k), "parameters": "{}",
                     "tags": "[]", "metric_min_ttc_s": ttc, "metric_min_thw_s": thw,
                     "metric_max_decel_mps2": dec})  # fmt: skip
    cov = coverage(rows, tmp_path)
    assert cov["features"]["manoeuvres"] == {"u-turn": 1, "stop at a red signal": 2, "none of these": 1}
    crit = cov["criticality"]
    assert crit["min_ttc_s"]["[0.5, 1)"] == 1 and crit["min_ttc_s"][">= 5 / none"] == 1
    assert crit["min_ttc_s"]["[3, 5)"] == 1 and sum(crit["min_ttc_s"].values()) == 3
    assert crit["min_thw_s"] == {"[0, 0.5)": 0, "[0.5, 1)": 1, "[1, 1.5)": 0, "[1.5, 2)": 0, "[2, 3)": 1,
                                 ">= 3 / none": 1}  # fmt: skip
    assert crit["max_decel_mps2"]["[6, 8)"] == 1 and crit["max_decel_mps2"]["[0, 2)"] == 1
    assert cov["criticality_min_ttc_s"] == crit["min_ttc_s"]
