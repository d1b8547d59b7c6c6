"""The command-line contract of ``simcore run | batch | validate | list`` (exit codes, outputs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simcore.cli import main

SCENARIO = "urban/signalized_intersection"
HELPERS = Path(__file__).resolve().parent / "agents_for_tests.py"
RESULT_KEYS = {
    "scenario",
    "seed",
    "parameters",
    "steps",
    "sim_time_s",
    "wall_time_s",
    "score",
    "criteria",
    "events",
    "metrics",
    "termination",
    "passed",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_cli(tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """``simcore run SCENARIO --quiet --out tmp_path EXTRA...``; (exit code, result.json)."""
    out = tmp_path / "out"
    code = main(["run", SCENARIO, "--quiet", "--out", str(out), *extra])
    return code, json.loads((out / "result.json").read_text())


def criterion(result: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in result["criteria"] if c["name"] == name]
    return found


def events_of(result: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in result["events"] if e["kind"] == kind]


def test_run_writes_result_and_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["run", SCENARIO, "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "result     PASS" in printed
    result = json.loads((out / "result.json").read_text())
    assert set(result) >= RESULT_KEYS
    assert result["passed"] is True
    assert result["scenario"] == "signalized-intersection"
    assert result["seed"] == 7  # the file's seed
    assert set(result["parameters"]) == {"traffic_speed_kph", "headway_s"}
    assert result["steps"] > 0 and result["sim_time_s"] > 0 and result["wall_time_s"] > 0
    assert result["termination"] == "goal_reached"
    assert all(c["passed"] for c in result["criteria"])
    assert {c["name"] for c in result["criteria"]} >= {"no_collision", "reach_goal"}
    png = (out / "topdown.png").read_bytes()
    assert len(png) > len(PNG_MAGIC) and png.startswith(PNG_MAGIC)
    assert f"{out / 'junit.xml'}" in printed and f"{out / 'report.html'}" in printed
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert 'tests="1" failures="0" errors="0"' in junit
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_failed_run_writes_failure_into_junit(tmp_path: Path) -> None:
    code, _ = run_cli(tmp_path, "--agent", "idle")
    assert code == 1
    junit = (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")
    assert 'failures="1"' in junit and '<failure message="failed reach_goal' in junit


def test_batch_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["batch", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--agent", "--workers", "--backend", "--variants", "--out"):
        assert option in out


def test_idle_agent_fails(tmp_path: Path) -> None:
    code, result = run_cli(tmp_path, "--agent", "idle")
    assert code == 1
    assert result["passed"] is False
    assert criterion(result, "reach_goal")["passed"] is False


def test_set_parameter_is_recorded(tmp_path: Path) -> None:
    code, result = run_cli(tmp_path, "--set", "headway_s=1.5")
    assert code in (0, 1)
    assert result["parameters"]["headway_s"] == 1.5


def test_set_unknown_parameter_is_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", SCENARIO, "--quiet", "--out", str(tmp_path), "--set", "nonexistent=1"])
    assert code == 2
    assert "nonexistent" in capsys.readouterr().err
    assert not (tmp_path / "result.json").exists()


def test_seed_override(tmp_path: Path) -> None:
    _, result = run_cli(tmp_path, "--seed", "3")
    assert result["seed"] == 3


def test_crashing_agent_is_recorded(tmp_path: Path) -> None:
    code, result = run_cli(tmp_path, "--agent", f"{HELPERS}:Crasher")
    assert code == 1
    assert result["termination"] == "agent_failure"
    (failure,) = events_of(result, "agent_failure")
    assert "RuntimeError" in failure["detail"] and "crasher gave up on purpose" in failure["detail"]
    assert failure["actors"] == ["ego"]


def test_nan_agent_gives_bad_control(tmp_path: Path) -> None:
    code, result = run_cli(tmp_path, "--agent", f"{HELPERS}:NanAgent")
    assert code == 1
    assert events_of(result, "bad_control")
    assert not events_of(result, "agent_failure")
    assert result["termination"] != "agent_failure"


def test_unknown_agent_module_is_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", SCENARIO, "--quiet", "--agent", "no.such.module:X"]) == 2
    assert "no.such.module" in capsys.readouterr().err


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "urban/signalized_intersection.yaml" in out
    assert "sedan" in out


def test_validate_builtin_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "scenarios/"]) == 0
    out = capsys.readouterr().out
    assert "signalized_intersection.yaml: ok" in out
    assert " 0 invalid" in out


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("simcore")
    assert script.is_file(), f"console script not installed next to {sys.executable}"
    proc = subprocess.run(
        [str(script), "run", SCENARIO, "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
