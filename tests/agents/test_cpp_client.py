"""The C++ example client (examples/agents/cpp/simple_client.cpp), written from the protocol doc
alone, compiled with the machine's C++ compiler and driven through ``simcore run``.

Skipped, with the reason, where no C++17 compiler is installed (CI images may lack one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from simcore.cli import main

from ._helpers import ROOT, SIGNALISED

SOURCE = ROOT / "examples" / "agents" / "cpp" / "simple_client.cpp"


def _compiler() -> str | None:
    """$CXX if set, else the first of g++, c++, clang++ on PATH."""
    for name in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if name and (path := shutil.which(name)):
            return path
    return None


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Path:
    """The compiled client (built once per module into a temporary directory)."""
    cxx = _compiler()
    if cxx is None:
        pytest.skip("no C++ compiler found ($CXX, g++, c++, clang++): cannot build the C++ example client")
    exe = tmp_path_factory.mktemp("cpp_client") / "simple_client"
    cmd = [cxx, "-std=c++17", "-O2", "-Wall", "-Wextra", "-o", str(exe), str(SOURCE)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stderr}"
    return exe


def test_cpp_client_completes_the_signalised_intersection(client, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", SIGNALISED, "--quiet", "--out", str(out), "--agent", f"exec:{client}"])
    capsys.readouterr()
    res = json.loads((out / "result.json").read_text())
    assert res["agent"] == "exec:cpp-simple"  # its hello was understood
    assert res["termination"] == "goal_reached"
    assert res["metrics"]["collisions"] == 0
    assert res["metrics"]["red_lights"] == 0
    kinds = {e["kind"] for e in res["events"]}
    assert not kinds & {"agent_failure", "late_control", "bad_control", "collision", "red_light"}
    assert code == 0 and res["passed"]


def test_cpp_client_obeys_close_and_end_of_input(client):
    """Fed a handshake, a reset and one observation by hand: one hello, one control for step 0,
    then a clean exit on ``close`` (and on end of input without ``close``)."""
    hello = {"type": "hello", "protocol": "simcore-agent/1", "engine": "simcore", "engine_version": "0"}
    route = {
        "x": [0.0, 10.0, 20.0],
        "y": [0.0, 0.0, 0.0],
        "s": [0.0, 10.0, 20.0],
        "speed_limit": [10.0, 10.0, 10.0],
        "curvature": [0.0, 0.0, 0.0],
        "goal_s": 15.0,
        "lane_changes": {"s0": [], "s1": [], "side": [], "offset": []},
        "future_field": {"ignored": True},
    }
    vehicle = {"vehicle": "sedan", "length": 4.9, "width": 1.86, "wheelbase": 2.84, "rear_overhang": 1.09,
               "max_steer": 0.55, "max_accel": 3.2, "max_decel": 8.5}  # fmt: skip
    reset = {"type": "reset", "role": "ego", "scenario": "s", "scenario_file": "", "dt": 0.05, "seed": 1,
             "vehicle": vehicle, "actor_ids": ["ego"], "route": route}  # fmt: skip
    state = {"x": 1.0, "y": 0.5, "yaw": 0.0, "speed": 0.0, "accel": 0.0, "steer": 0.0, "progress": 1.0,
             "lateral": 0.5, "speed_limit": None}  # fmt: skip
    empty = {"id": [], "kind": [], "x": [], "y": [], "yaw": [], "speed": [], "length": [], "width": [],
             "center_offset": []}  # fmt: skip
    obs = {"type": "observation", "step": 0, "time": 0.0, "role": "ego", "state": state, "objects": empty,
           "stop_lines": {"s": [5.5], "state": [0]}, "crosswalks": {"s0": [], "s1": [], "occupied": []},
           "sensors": {}}  # fmt: skip
    for tail in ([{"type": "close"}], []):
        lines = [hello, reset, {"type": "future_message"}, obs, *tail]
        text = "".join(json.dumps(m) + "\n" for m in lines)
        proc = subprocess.run([str(client)], input=text, capture_output=True, text=True, timeout=30, check=False)
        assert proc.returncode == 0, proc.stderr
        replies = [json.loads(line) for line in proc.stdout.splitlines()]
        assert [r["type"] for r in replies] == ["hello", "control"]
        assert replies[0]["protocol"] == "simcore-agent/1"
        ctrl = replies[1]
        assert ctrl["step"] == 0
        # At rest, 0.7 m before a red stop line (front bumper at s = 1 + 4.9 - 1.09 = 4.81):
        # it must not drive off. 0.5 m left of the route: it steers right (negative).
        assert ctrl["accel"] <= 0.0 and ctrl["steer"] < 0.0
