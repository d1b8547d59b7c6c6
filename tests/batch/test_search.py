"""Scenario search: a planted failure region known in closed form is found, minimised and written out."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from simcore.agents.loading import load_agent
from simcore.api import run
from simcore.batch.search import parameter_space
from simcore.cli import main
from simcore.scenario.loader import load_scenario

HERE = Path(__file__).resolve().parent
CCRS = str(HERE.parent / "data" / "ccrs_late_brake.yaml")
LATE = f"{HERE / 'batch_agents.py'}:LateBraker"
# LateBraker (6 m/s^2 below a TTC of 1 s) hits the stationary target iff v > 2 * 6 * 1 m/s = 43.2 km/h;
# detecting the threshold up to one 0.05 s step late lowers that to 2 * 6 * 0.95 m/s = 41.04 km/h.
V_LOW_KPH, V_HIGH_KPH = 41.04, 43.2
SLACK_KPH = 0.3


def test_parameter_space_of_the_fixture() -> None:
    speed, offset = parameter_space(CCRS)
    assert (speed.name, speed.low, speed.high, speed.nominal) == ("vut_speed_kph", 10.0, 60.0, 35.0)
    assert (offset.name, offset.low, offset.high, offset.nominal) == ("target_offset_m", -0.93, 0.93, 0.93)


def test_search_finds_the_planted_failure_and_minimises_it(tmp_path: Path) -> None:
    out = tmp_path / "s"
    code = main(["search", CCRS, "--agent", LATE, "--objective", "min_gap_m", "--budget", "12", "--workers", "2",
                 "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 1  # a failure was found
    rep = json.loads((out / "search.json").read_text())
    assert rep["search_runs"] == 12 and rep["first_failure_run"] is not None
    for t in rep["trials"]:  # every run agrees with the closed form
        v = t["values"]["vut_speed_kph"]
        if t["status"] == "fail":
            assert v > V_LOW_KPH - SLACK_KPH, t
        else:
            assert t["status"] == "pass" and v < V_HIGH_KPH + SLACK_KPH, t
    # Minimised: the overlap back at nominal (it does not matter), the speed bisected down to the edge.
    assert rep["moved"] == ["vut_speed_kph"]
    best = rep["minimised"]["values"]
    assert best["target_offset_m"] == 0.93
    assert V_LOW_KPH - SLACK_KPH < best["vut_speed_kph"] < V_HIGH_KPH + 1.6  # 5 halvings of 25 km/h: 0.8 km/h
    assert rep["confirmed_status"] == "fail"
    # The written scenario is concrete, carries its provenance, validates and fails on its own.
    path = out / "regression.yaml"
    text = path.read_text()
    assert text.startswith("# simcore search provenance:") and '"source_sha256"' in text
    loaded = load_scenario(path)
    assert loaded.parameters["vut_speed_kph"] == best["vut_speed_kph"]
    res = run(path, load_agent(LATE))
    assert not res.passed and res.termination == "ego_collision"


def test_the_files_a_scenario_names_are_copied_next_to_the_written_one(tmp_path: Path, monkeypatch) -> None:
    from simcore.batch.search import copy_references
    from simcore.scenario.yaml_source import load_yaml

    urban = HERE.parents[1] / "scenarios" / "urban"
    # one name below the scenario's folder (kept), one outside it (copied under refs/ and renamed)
    src = tmp_path / "src" / "sub"
    src.mkdir(parents=True)
    (src.parent / "maps").mkdir()
    (src.parent / "maps" / "u_turn.yml").write_bytes((urban / "maps" / "u_turn.yml").read_bytes())
    outside = (urban / "u_turn.yaml").read_text().replace("file: maps/u_turn.yml", "file: ../maps/u_turn.yml")
    (src / "u_turn.yaml").write_text(outside)
    ref = run(urban / "u_turn.yaml", "autopilot")
    for source, want in ((urban / "u_turn.yaml", "maps/u_turn.yml"), (src / "u_turn.yaml", "refs/u_turn.yml")):
        out = tmp_path / f"out-{want.split('/')[0]}"
        out.mkdir()
        data = dict(load_yaml(source).data)
        assert copy_references(data, source.parent, out) == [want]
        assert data["map"]["file"] == want
        assert (out / want).read_bytes() == (urban / "maps" / "u_turn.yml").read_bytes()
        (out / "regression.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        monkeypatch.chdir(tmp_path)  # somewhere else: the written scenario runs on its own
        res = run(out / "regression.yaml", "autopilot")
        assert (res.termination, res.state_hash) == (ref.termination, ref.state_hash)  # the same run
