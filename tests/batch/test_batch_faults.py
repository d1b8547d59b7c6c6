"""Batch faults: hangs cut by --timeout-s, agents that exit or raise KeyboardInterrupt, corrupt and
half-written run folders, Ctrl-C and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simcore.batch import pool
from simcore.batch.jobs import plan_jobs
from simcore.batch.runner import execute
from simcore.cli import main

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
SWEEP = str(TESTS / "data" / "sweep.yaml")
AGENTS = HERE / "batch_agents.py"


def entries(out: Path) -> dict[str, dict]:
    return {e["agent_key"]: e for e in json.loads((out / "summary.json").read_text())["entries"]}


def test_hangs_time_out_and_exiting_agents_fail_without_ending_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "KILL_GRACE_S", 1.0)  # the driver kills an unresponsive worker 1 s past the limit
    out = tmp_path / "b"
    agents = [f"{AGENTS}:{a}" for a in ("Sleeper", "DeafSleeper", "Exits", "Interrupts")] + ["autopilot"]
    args = [a for spec in agents for a in ("--agent", spec)]
    t0 = time.monotonic()
    code = main(["batch", SWEEP, "--variants", "1", *args, "--workers", "2", "--timeout-s", "6", "--quiet",
                 "--no-pictures", "--out", str(out)])  # fmt: skip
    took = time.monotonic() - t0
    assert code == 2  # errors and time-outs: never a pass (exit 0), never an abort (130)
    by = entries(out)
    assert by["Sleeper"]["status"] == "timeout" and "--timeout-s 6" in by["Sleeper"]["error"]
    assert by["DeafSleeper"]["status"] == "timeout" and "worker killed" in by["DeafSleeper"]["error"]
    for name in ("Exits", "Interrupts"):  # the run failed (engine: agent_failure) or was refused (batch)
        assert by[name]["status"] in ("fail", "error"), by[name]
        if by[name]["status"] == "error":
            assert by[name]["error"].startswith(("agent raised SystemExit", "agent raised KeyboardInterrupt"))
    assert by["autopilot"]["status"] == "pass"
    assert took < 60  # the hour-long sleeps were cut
    for name in ("Sleeper", "DeafSleeper"):
        assert json.loads((out / by[name]["dir"] / "error.json").read_text())["status"] == "timeout"
    # a rerun keeps the finished run and tries the others again
    jobs, errs = plan_jobs([SWEEP], ["autopilot"], 1)
    assert execute(jobs, errs, ["autopilot"], out, workers=1, pictures=False).skipped == 1


def test_corrupt_or_half_written_folders_are_rerun(tmp_path: Path) -> None:
    out = tmp_path / "b"
    jobs, errs = plan_jobs([SWEEP], ["autopilot"], 4)
    first = execute(jobs, errs, ["autopilot"], out, workers=2, pictures=False)
    assert (first.ran, first.exit_code) == (4, 0)
    before = {j.rel_dir: (out / j.rel_dir / "result.json").read_text() for j in jobs}
    (out / "sweep/0/autopilot/result.json").write_text('{"simcore_result": 1, "sce')  # truncated
    (out / "sweep/1/autopilot/junit.xml").unlink()  # a file missing
    (out / "sweep/2/autopilot/manifest.json").unlink()  # never finished (killed before the manifest)
    again = execute(jobs, errs, ["autopilot"], out, workers=2, pictures=False)
    assert (again.ran, again.skipped, again.exit_code) == (3, 1, 0)
    after = {j.rel_dir: (out / j.rel_dir / "result.json").read_text() for j in jobs}
    strip = lambda t: [ln for ln in t.splitlines() if "wall_time_s" not in ln and "real_time_factor" not in ln]  # noqa: E731
    assert {k: strip(v) for k, v in after.items()} == {k: strip(v) for k, v in before.items()}


def test_ctrl_c_stops_cleanly_and_a_rerun_finishes_only_what_is_missing(tmp_path: Path) -> None:
    marks, out = tmp_path / "marks", tmp_path / "b"
    marks.mkdir()
    env = {**os.environ, "SIMCORE_TEST_KILL_DIR": str(marks)}
    cmd = [sys.executable, "-m", "simcore", "batch", SWEEP, "--agent", f"{AGENTS}:Slow", "--workers", "2",
           "--no-pictures", "--quiet", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.rglob("manifest.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(out.rglob("manifest.json")), "no run finished in time"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole foreground group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    pids = [int(p.name[4:]) for p in marks.glob("pid-*")]
    assert pids
    time.sleep(0.5)
    for pid in pids:  # every worker is gone (not left running the rest of the batch)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    done = len(list(out.rglob("manifest.json")))
    assert 1 <= done < 6
    jobs, errs = plan_jobs([SWEEP], [f"{AGENTS}:Slow"], "all")
    os.environ["SIMCORE_TEST_KILL_DIR"] = str(marks)
    try:
        rest = execute(jobs, errs, [f"{AGENTS}:Slow"], out, workers=2, pictures=False)
    finally:
        del os.environ["SIMCORE_TEST_KILL_DIR"]
    assert (rest.skipped, rest.ran, rest.exit_code) == (done, 6 - done, 0)
