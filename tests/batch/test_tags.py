"""Scenario ``tags``: checked with located errors, carried into result.json, the results store, its
``--group-by tag`` table and the coverage report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simcore.api import run
from simcore.batch.coverage import coverage
from simcore.batch.store import group_rows, run_rows
from simcore.cli import main

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / "tests" / "data" / "rear_end.yaml").read_text()


def test_a_bad_tag_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("seed: 1\n", "seed: 1\ntags: [ncap, 'two words', '']\n"))
    assert main(["validate", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err.replace(str(path), "s.yaml")
    assert re.search(r"^s\.yaml:6:\d+: tags\[1\]: .*pattern", err, re.M), err
    assert re.search(r"^s\.yaml:6:\d+: tags\[2\]: .*at least 1 character", err, re.M), err
    path.write_text(BASE.replace("seed: 1\n", "seed: 1\ntags: urban\n"))  # not a list
    assert main(["validate", str(path), "--quiet"]) == 2
    assert re.search(r"s\.yaml:6:\d+: tags: ", capsys.readouterr().err.replace(str(path), "s.yaml"))


def test_tags_reach_the_result_the_store_and_coverage(tmp_path: Path) -> None:
    scen = tmp_path / "suite" / "s.yaml"
    scen.parent.mkdir()
    scen.write_text(BASE.replace("seed: 1\n", "seed: 1\ntags: [rear-end, night, suite]\n"))
    res = run(scen, "autopilot")
    assert res.tags == ["rear-end", "night", "suite"] and res.to_json()["tags"] == res.tags
    assert "tags" not in run(ROOT / "tests" / "data" / "rear_end.yaml", "autopilot").to_json()
    out = tmp_path / "b"
    entries = []
    for k, agent in enumerate(("autopilot", "idle")):
        d = out / f"suite/s/0/{agent}"
        d.mkdir(parents=True)
        data = res.to_json() if k == 0 else {**res.to_json(), "tags": ["night"]}
        (d / "result.json").write_text(json.dumps(data))
        entries.append({"dir": f"suite/s/0/{agent}", "status": "pass", "scenario_key": "suite/s",
                        "scenario_file": str(scen), "variant": 0, "agent": agent, "agent_key": agent})  # fmt: skip
    rows = run_rows(entries, out, None)
    # the scenario's own tags first, then the derived folder tag, each once
    assert json.loads(rows[0]["tags"]) == ["rear-end", "night", "suite"]
    assert json.loads(rows[1]["tags"]) == ["night", "suite"]
    by_tag = {g["tag"]: g["runs"] for g in group_rows(rows, "tag")}
    assert by_tag == {"rear-end": 1, "night": 2, "suite": 2}
    assert coverage(rows, out)["tags"] == {"rear-end": 1, "night": 2, "suite": 2}
