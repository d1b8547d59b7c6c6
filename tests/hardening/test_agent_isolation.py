"""Only the run's own agent drives, its children die with the engine, and its messages are
bounded (issue 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simcore import limits
from simcore.agents.exec_agent import AgentFailure, ExecAgent
from simcore.evaluation.events import EventKind

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "agents"))
from _helpers import CHILD, REAR_END, make_sim, processes  # noqa: E402

HERE = Path(__file__).resolve().parent


def test_tcp_stranger_without_the_token_is_refused_and_the_agent_drives() -> None:
    agent = ExecAgent([sys.executable, str(HERE / "intruder.py")], transport="tcp", step_timeout_s=30.0)
    res = make_sim(REAR_END, agent).run()
    assert agent.strangers == 1
    assert res.agent == "exec:fake-tcp" and res.termination != "agent_failure"
    assert "intruder got 0 bytes, then the connection closed" in " ".join(agent.stderr_tail(50))


def test_tcp_agent_with_a_wrong_token_never_drives() -> None:
    agent = ExecAgent([sys.executable, str(CHILD), "stranger_token"], transport="tcp", startup_timeout_s=3.0)
    res = make_sim(REAR_END, agent).run()
    (ev,) = [e for e in res.events if e.kind == EventKind.AGENT_FAILURE]
    assert ev.detail.startswith(
        "AgentFailure: agent exited with code 0 before connecting (refused 1 connection(s) without this run's token)"
    )
    assert agent.strangers == 1 and res.termination == "agent_failure"


def test_agent_sending_controls_ahead_fills_a_bounded_inbox_only() -> None:
    with limits.override(exec_inbox_messages=16):
        agent = ExecAgent([sys.executable, str(CHILD), "flood"], step_timeout_s=30.0)
        sim = make_sim(REAR_END, agent)
    most = 0
    for _ in range(60):
        sim.step()
        time.sleep(0.002)
        most = max(most, agent._inbox.qsize())
    sim.close()
    assert agent._inbox.maxsize == 16 and 0 < most <= 16
    assert not [e for e in sim.events if e.kind in (EventKind.AGENT_FAILURE, EventKind.BAD_CONTROL)]


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (process table: /proc)."""
    state = processes().get(pid, ("X",))[0]
    return state not in ("X", "Z")


def _children(pid: int) -> list[int]:
    return [p for p, (_, parent, _) in processes().items() if parent == pid]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process table from /proc; PR_SET_PDEATHSIG")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_orphaned_agent_after_the_engine_is_killed(tmp_path: Path, sig: signal.Signals) -> None:
    spec = f"exec,step_timeout=120:{sys.executable} {CHILD} hang"  # hangs at step 5, forever
    engine = subprocess.Popen(
        [sys.executable, "-m", "simcore", "run", str(REAR_END), "--quiet", "--agent", spec],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120.0
    kids: list[int] = []
    while not kids and time.monotonic() < deadline and engine.poll() is None:
        kids = _children(engine.pid)
        time.sleep(0.1)
    assert kids, "the engine started no agent"
    time.sleep(1.0)  # let it reach the hang
    engine.send_signal(sig)
    code = engine.wait(timeout=60)
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + signal.SIGTERM)
    deadline = time.monotonic() + 10.0
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in kids if _alive(k)], f"orphaned agent processes: {kids}"


def test_agent_failure_type_is_unchanged() -> None:
    assert issubclass(AgentFailure, RuntimeError)
    assert os.environ.get("SIMCORE_AGENT_TOKEN") is None  # the token goes to the child only
