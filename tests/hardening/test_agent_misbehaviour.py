"""Every way an in-process agent can misbehave ends its run with an event, a score and a failed
verdict (issue 17); ``simcore run`` never exits 0 without a result."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from simcore import limits
from simcore.api import simulation
from simcore.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "tests" / "data" / "rear_end.yaml")
BAD = Path(__file__).resolve().parent / "bad_agents.py"


def run(tmp_path: Path, agent: str, **options: Any) -> tuple[int, dict[str, Any]]:
    """(exit code ``simcore run`` gives, result.json) of SCENARIO with ``agent`` (no report files)."""
    res = simulation(SCENARIO, f"{BAD}:{agent}", record_every=0, **options).run()
    return (0 if res.passed else 1), res.to_json()


def only(result: dict[str, Any], kind: str) -> dict[str, Any]:
    (ev,) = [e for e in result["events"] if e["kind"] == kind]
    return ev


def failed(result: dict[str, Any], verdict: str) -> bool:
    return any(c["name"] == verdict and not c["passed"] for c in result["criteria"])


@pytest.mark.parametrize(
    ("agent", "detail"),
    [
        ("Exits", "SystemExit: 0"),
        ("ExitsInReset", "SystemExit: 3"),
        ("Interrupts", "KeyboardInterrupt: "),
        ("RaisesOdd", "GeneratorExit: odd"),
        ("Strings", "TypeError: Control.accel is str '1.0', not a number"),
    ],
)
def test_agent_that_raises_anything_fails_its_run(tmp_path: Path, agent: str, detail: str) -> None:
    code, result = run(tmp_path, agent)
    assert code == 1
    assert result["termination"] == "agent_failure"
    ev = only(result, "agent_failure")
    assert ev["actors"] == ["ego"] and ev["detail"] == detail
    assert failed(result, "no_agent_failure") and result["passed"] is False
    assert result["score"]["value"] is not None


def test_agent_that_signals_its_own_process_fails_its_run(tmp_path: Path) -> None:
    code, result = run(tmp_path, "SignalsItself")
    assert code == 1
    assert only(result, "agent_failure")["detail"] == (
        "KeyboardInterrupt: interrupted (SIGINT) while the agent was in act"
    )


@pytest.mark.parametrize("agent", ["Sleeps", "Spins"])
def test_hung_agent_is_cut_at_its_step_limit(tmp_path: Path, agent: str) -> None:
    before = set(threading.enumerate())
    t0 = time.perf_counter()
    with limits.override(agent_step_timeout_s=0.3):
        code, result = run(tmp_path, agent, compute_budget_s=0.05)
    assert time.perf_counter() - t0 < 30.0  # not forever; the limit is 0.3 s
    assert code == 1
    assert only(result, "agent_failure")["detail"] == "AgentTimeout: act did not return within 0.3 s (hung?)"
    if agent == "Spins":  # the injected exception stops a pure-Python loop
        deadline = time.monotonic() + 5.0
        while (new := set(threading.enumerate()) - before) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not new


@pytest.mark.parametrize(
    ("agent", "detail"),
    [
        ("Huge", "accel 1e+308 m/s^2 outside the possible range of +-50; braking"),
        ("HugeSteer", "steer 3.5 rad outside the possible range of +-1.571; braking"),
        ("PedalOut", "throttle pedal 2 outside [0, 1]; braking"),
    ],
)
def test_impossible_control_is_an_event_not_silent_clipping(tmp_path: Path, agent: str, detail: str) -> None:
    code, result = run(tmp_path, agent)
    assert code == 1
    assert only(result, "bad_control")["detail"] == detail
    assert failed(result, "no_bad_control")
    assert result["metrics"]["max_lateral_accel_mps2"] < 10.0  # braked, not circling at 55 m/s


def test_a_fine_agent_gets_no_agent_verdicts(tmp_path: Path) -> None:
    _, result = run(tmp_path, "Fine")
    assert not {c["name"] for c in result["criteria"]} & {"no_agent_failure", "no_bad_control"}


def test_cli_run_with_a_sys_exit_agent_exits_1_with_a_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", SCENARIO, "--quiet", "--out", str(out), "--agent", f"{BAD}:Exits"]) == 1
    assert json.loads((out / "result.json").read_text())["termination"] == "agent_failure"


def test_sys_exit_agent_never_makes_the_console_script_exit_0(tmp_path: Path) -> None:
    """The issue's reproduction: the console script with a ``sys.exit(0)`` agent."""
    out = tmp_path / "o"
    proc = subprocess.run(
        [sys.executable, "-m", "simcore", "run", SCENARIO, "--quiet", "--out", str(out), "--agent", f"{BAD}:Exits"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads((out / "result.json").read_text())["termination"] == "agent_failure"
