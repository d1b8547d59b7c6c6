"""Out-of-process agents: the happy path, every failure mode, no leftover processes, determinism."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from simcore.agents.exec_agent import ExecAgent, parse_exec_spec
from simcore.agents.loading import AgentLoadError, load_agent
from simcore.evaluation.events import EventKind

from ._helpers import CHILD, CLIENT, REAR_END, SIGNALISED, fake, make_sim, processes


def _gone(agent: ExecAgent) -> bool:
    """The child was reaped: no process (not even a zombie) with its pid is left."""
    assert agent.proc is None and agent.last_pid is not None
    return not Path(f"/proc/{agent.last_pid}").exists()


def _failure(res):
    assert res.termination == "agent_failure"
    fails = [e for e in res.events if e.kind == EventKind.AGENT_FAILURE]
    assert len(fails) == 1
    return fails[0]


def test_happy_path_runs_to_the_end_and_reaps_the_child():
    agent = fake("ok")
    res = make_sim(REAR_END, agent).run()
    assert res.termination != "agent_failure"
    assert res.agent == "exec:fake-ok"
    assert res.steps > 5
    assert _gone(agent)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("crash", "exited with code 1 before sending its control for step 5"),
        ("hang", "sent no control for step 5 within 1.5 s (hung?)"),
        ("garbage", "garbage from agent: not a JSON line"),
        ("exit", "exited with code 0 before sending its control for step 5"),
        ("wrong_step", "control for step 6 answers observation step 5"),
    ],
)
def test_misbehaving_child_ends_the_run_with_agent_failure(mode, reason):
    agent = fake(mode, step_timeout_s=1.5)
    res = make_sim(REAR_END, agent).run()
    ev = _failure(res)
    assert reason in ev.detail
    assert ev.actors == ("ego",)
    assert res.steps == 5  # steps 0..4 were driven, the failure came at step 5
    assert 0.0 <= res.score <= 100.0
    assert _gone(agent)


def test_crash_quotes_the_childs_stderr():
    agent = fake("crash")
    ev = _failure(make_sim(REAR_END, agent).run())
    assert "agent stderr (last lines)" in ev.detail
    assert "about to fail on purpose" in ev.detail
    assert "RuntimeError: fake agent crashed on purpose" in ev.detail


def test_protocol_version_mismatch_fails_at_reset():
    agent = fake("version")
    sim = make_sim(REAR_END, agent)
    res = sim.run()
    ev = _failure(res)
    assert "protocol version mismatch" in ev.detail and "simcore-agent/99" in ev.detail
    assert res.steps == 0
    assert _gone(agent)


def test_silent_child_times_out_at_startup():
    agent = fake("mute", startup_timeout_s=1.0)
    res = make_sim(REAR_END, agent).run()
    assert "sent no hello within 1 s" in _failure(res).detail
    assert _gone(agent)


def test_command_that_cannot_start_is_a_failure_not_a_crash(tmp_path):
    script = tmp_path / "not_executable"
    script.write_text("#!/bin/sh\n")
    agent = ExecAgent([str(script)])
    res = make_sim(REAR_END, agent).run()
    assert "cannot start agent" in _failure(res).detail


def test_empty_controls_are_missing_controls():
    res = make_sim(REAR_END, fake("none")).run()
    late = [e for e in res.events if e.kind == EventKind.LATE_CONTROL]
    assert len(late) == res.steps and late[0].detail == "no control; hold"


def test_tcp_transport():
    agent = fake("tcp", transport="tcp")
    res = make_sim(REAR_END, agent).run()
    assert res.termination != "agent_failure" and res.agent == "exec:fake-tcp"
    assert _gone(agent)


def test_tcp_and_stdio_give_identical_runs():
    a = make_sim(REAR_END, fake("ok")).run()
    b = make_sim(REAR_END, fake("tcp", transport="tcp")).run()
    assert json.dumps(a.to_json(False)["events"]) == json.dumps(b.to_json(False)["events"])
    for key in ("x", "y", "speed"):
        assert (a.trajectory[key] == b.trajectory[key]).all()


def test_trajectory_controls_over_the_wire_follow_the_route():
    sim = make_sim(REAR_END, fake("trajectory"), record_every=1)
    for _ in range(100):
        sim.step()
    sim.close()
    e = sim.world.ego
    assert abs(sim.world.state.lateral[e]) < 0.3
    assert abs(sim.world.state.speed[e] - 6.0) < 0.3


def test_close_is_idempotent_and_reaps_after_exceptions():
    agent = fake("ok")
    sim = make_sim(REAR_END, agent)
    sim.step()
    pid = agent.last_pid
    assert Path(f"/proc/{pid}").exists()
    sim.close()
    sim.close()
    assert _gone(agent)


def test_reset_restarts_a_closed_agent():
    agent = fake("ok")
    sim = make_sim(REAR_END, agent)
    first = sim.run()
    sim.reset()
    second = sim.run()
    assert first.to_json(False)["events"] == second.to_json(False)["events"]
    assert _gone(agent)


def test_exec_path_is_deterministic():
    spec = f"exec:{sys.executable} {CLIENT}"
    a = make_sim(SIGNALISED, load_agent(spec), seed=3).run()
    b = make_sim(SIGNALISED, load_agent(spec), seed=3).run()
    ja, jb = a.to_json(False), b.to_json(False)
    ja.pop("wall_time_s", None), jb.pop("wall_time_s", None)
    for j in (ja, jb):
        for k in [k for k in j if "wall" in k or "real_time" in k]:
            j.pop(k)
    assert json.dumps(ja, sort_keys=True) == json.dumps(jb, sort_keys=True)
    for key in ("x", "y", "yaw", "speed"):
        assert (a.trajectory[key] == b.trajectory[key]).all()


@pytest.mark.parametrize("seed", [None, 11])
def test_example_client_completes_the_signalised_intersection(seed):
    agent = load_agent(f"exec:{sys.executable} {CLIENT}")
    res = make_sim(SIGNALISED, agent, seed=seed).run()
    assert res.termination == "goal_reached"
    assert res.metrics["collisions"] == 0 and res.metrics["red_lights"] == 0 and res.metrics["offroad"] == 0
    assert res.passed
    assert _gone(agent)


def test_exec_spec_parsing():
    a = parse_exec_spec(f"exec,transport=tcp,step_timeout=2.5:{sys.executable} '{CHILD}' tcp")
    assert a.argv == [sys.executable, str(CHILD), "tcp"]
    assert a.transport == "tcp" and a.step_timeout_s == 2.5
    with pytest.raises(ValueError, match="command not found"):
        parse_exec_spec("exec:no-such-command-xyz --flag")
    with pytest.raises(ValueError, match="option"):
        parse_exec_spec(f"exec,colour=red:{sys.executable}")
    with pytest.raises(ValueError, match="empty command"):
        parse_exec_spec("exec:   ")
    with pytest.raises(AgentLoadError, match="transport"):
        load_agent(f"exec,transport=udp:{sys.executable}")


def _group_members(pgid: int) -> list[int]:
    """Live (not yet dead) processes of the process group ``pgid``; orphans that died but wait
    for init to reap them (state Z) are not alive."""
    return [pid for pid, (state, _, group) in processes().items() if group == pgid and state != "Z"]


def _group_dies(pgid: int, deadline_s: float = 30.0) -> bool:
    """The process group ``pgid`` has no live member, waiting for SIGKILLed ones to finish
    dying (signal delivery is asynchronous: a loaded machine may take a moment to schedule
    them). The deadline only bounds a failing test; it is not a speed requirement."""
    end = time.monotonic() + deadline_s
    while _group_members(pgid):
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def test_grandchildren_of_a_hung_agent_are_killed_too():
    sh = "/bin/sh"
    agent = ExecAgent([sh, "-c", f"sleep 300 & exec {sys.executable} {CHILD} hang"], step_timeout_s=1.0)
    res = make_sim(REAR_END, agent).run()
    assert "sent no control for step 5" in _failure(res).detail
    assert _gone(agent)
    assert _group_dies(agent.last_pid)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("array", "garbage from agent: expected a JSON object with a 'type', got b'[1, 2]"),
        ("nan", "garbage from agent: not a JSON line (NaN is not JSON"),
        ("mixed", "garbage from agent: control mixes the pedals and acceleration forms"),
        ("close_stdout", "agent closed its output before sending its control for step 5"),
    ],
)
def test_more_misbehaviour_at_step_5(mode, reason):
    agent = fake(mode)
    ev = _failure(make_sim(REAR_END, agent).run())
    assert reason in ev.detail
    assert _gone(agent) and _group_dies(agent.last_pid)


def test_an_over_long_line_is_garbage(monkeypatch):
    import simcore.agents.exec_agent as exec_mod

    monkeypatch.setattr(exec_mod, "MAX_LINE_BYTES", 1000)
    agent = fake("huge")
    res = make_sim(REAR_END, agent).run()
    assert "garbage from agent: message line longer than 1000 bytes" in _failure(res).detail
    assert res.steps == 5 and _gone(agent)


def test_a_first_message_that_is_not_hello_fails_at_reset():
    agent = fake("no_hello")
    res = make_sim(REAR_END, agent).run()
    assert "expected a 'hello' message first, got 'control'" in _failure(res).detail
    assert res.steps == 0 and _gone(agent)


def test_null_control_values_are_bad_controls_not_failures():
    """null is the wire form of a non-finite number: a bad_control event (one for the run of
    three), braking steps, and the run goes on."""
    res = make_sim(REAR_END, fake("null")).run()
    assert res.termination != "agent_failure"
    bad = [e for e in res.events if e.kind == EventKind.BAD_CONTROL]
    assert len(bad) == 1 and bad[0].time == pytest.approx(0.25) and bad[0].actors == ("ego",)


def test_tcp_agent_that_never_connects_or_exits_first():
    sleeper = ExecAgent([sys.executable, "-c", "import time; time.sleep(60)"], transport="tcp", startup_timeout_s=1.0)
    res = make_sim(REAR_END, sleeper).run()
    assert "agent did not connect to 127.0.0.1 within 1 s" in _failure(res).detail
    assert res.steps == 0 and _gone(sleeper)
    quitter = ExecAgent([sys.executable, "-c", "raise SystemExit(3)"], transport="tcp")
    res = make_sim(REAR_END, quitter).run()
    assert "agent exited with code 3 before connecting" in _failure(res).detail
    assert _gone(quitter)


def test_grandchildren_left_behind_by_a_well_behaved_agent_are_killed():
    """The child exits on close but its grandchild (same process group, holding our pipes)
    would live on: close kills what is left of the group."""
    agent = fake("orphan")
    res = make_sim(REAR_END, agent).run()
    assert res.termination != "agent_failure"
    assert any(line.startswith("grandchild ") for line in agent.stderr_tail(200))
    assert _gone(agent)
    assert _group_dies(agent.last_pid)


def test_close_ends_the_childs_input_too():
    """A child that ignores the close message but exits at end of input exits by itself
    (it says so on stderr) rather than being killed after the grace time."""
    agent = fake("eof", close_grace_s=60.0)  # no race with SIGTERM, however loaded the machine
    res = make_sim(REAR_END, agent).run()
    assert res.termination != "agent_failure"
    assert _gone(agent)
    assert agent.stderr_tail()[-1] == "eof mode: end of input"


def test_a_long_stderr_line_is_kept_clipped():
    agent = fake("noisy")
    ev = _failure(make_sim(REAR_END, agent).run())
    tail = agent.stderr_tail(200)
    # The 200 kB line is read in 64 kB pieces; only its start is kept, as one line.
    assert tail[:2] == ["fake agent noisy reset", "N" * 400] and tail[2] == "about to fail on purpose"
    assert "RuntimeError: fake agent crashed on purpose" in ev.detail and len(ev.detail) < 5000


def test_no_child_processes_left_after_the_module():
    """Every child this test module started is gone (reaped) by now."""
    me = os.getpid()
    children = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == me:
                children.append(stat)
    assert children == []
