"""``simcore run`` with exec, replay and ROLE=SPEC agents and the timing flags."""

from __future__ import annotations

import json
import sys

from simcore.cli import main

from ._helpers import CHILD, REAR_END


def _run(tmp_path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "out"
    code = main(["run", str(REAR_END), "--quiet", "--out", str(out), *args])
    result = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else {}
    return code, result


def test_exec_agent_and_a_second_role_from_the_command_line(tmp_path):
    code, res = _run(tmp_path, "--agent", f"exec:{sys.executable} {CHILD} ok", "--agent", "lead=idle")
    assert code in (0, 1) and res["agent"] == "exec:fake-ok"
    assert res["termination"] != "agent_failure"


def test_crashing_exec_agent_gives_a_result_with_agent_failure(tmp_path):
    code, res = _run(tmp_path, "--agent", f"exec,step_timeout=2:{sys.executable} {CHILD} crash")
    assert code == 1
    assert res["termination"] == "agent_failure"
    (ev,) = [e for e in res["events"] if e["kind"] == "agent_failure"]
    assert "exited with code 1" in ev["detail"]


def test_late_policy_flags(tmp_path):
    code, res = _run(tmp_path, "--agent", f"exec:{sys.executable} {CHILD} none", "--late-policy", "brake")
    late = [e for e in res["events"] if e["kind"] == "late_control"]
    assert code == 1 and late and late[0]["detail"] == "no control; brake"
    code, res = _run(tmp_path, "--agent", "idle", "--latency", "0.1", "--budget", "5")
    assert code == 1 and res["termination"] == "timeout"


def test_bad_agent_specs_are_invalid_input(tmp_path, capsys):
    assert main(["run", str(REAR_END), "--quiet", "--agent", "ghost=idle"]) == 2
    assert "cannot control 'ghost'" in capsys.readouterr().err
    assert main(["run", str(REAR_END), "--quiet", "--agent", "exec:no-such-binary-xyz"]) == 2
    assert "command not found" in capsys.readouterr().err
    assert main(["run", str(REAR_END), "--quiet", "--agent", "idle", "--agent", "autopilot"]) == 2
    assert main(["run", str(REAR_END), "--quiet", "--latency", "-1"]) == 2
