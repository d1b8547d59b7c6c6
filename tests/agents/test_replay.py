"""The replay agent: reading logs (errors name file:line) and driving a logged run again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcore.agents.builtin.autopilot import Autopilot
from simcore.agents.builtin.replay import Replay, ReplayError, read_log
from simcore.agents.loading import AgentLoadError, load_agent
from simcore.evaluation.events import EventKind

from ._helpers import SIGNALISED, make_sim


def write_log(path: Path, res, row: int) -> None:
    tr = res.trajectory
    lines = ["t,x,y,yaw,speed"]
    for k in range(tr["time"].shape[0]):
        vals = (tr["time"][k], tr["x"][k, row], tr["y"][k, row], tr["yaw"][k, row], tr["speed"][k, row])
        lines.append(",".join(repr(float(v)) for v in vals))
    path.write_text("\n".join(lines) + "\n")


def test_replaying_a_logged_autopilot_run_reproduces_it(tmp_path):
    sim = make_sim(SIGNALISED, Autopilot(), seed=4)
    ref = sim.run()
    e = sim.world.ego
    log = tmp_path / "ego.csv"
    write_log(log, ref, e)
    agent = load_agent(f"replay:{log}")
    assert isinstance(agent, Replay)
    rep = make_sim(SIGNALISED, agent, seed=4).run()
    assert rep.termination == ref.termination == "goal_reached"
    assert not [ev for ev in rep.events if ev.kind in (EventKind.COLLISION, EventKind.RED_LIGHT)]
    n = min(rep.trajectory["time"].shape[0], ref.trajectory["time"].shape[0])
    dx = rep.trajectory["x"][:n, e] - ref.trajectory["x"][:n, e]
    dy = rep.trajectory["y"][:n, e] - ref.trajectory["y"][:n, e]
    assert np.hypot(dx, dy).max() < 0.5  # within half a metre of the log all the way
    assert abs(rep.sim_time - ref.sim_time) < 1.0


def test_log_path_relative_to_the_scenario_file(tmp_path, monkeypatch):
    sim = make_sim(SIGNALISED, Autopilot(), seed=4)
    ref = sim.run()
    scen = tmp_path / "scen" / "copy.yaml"
    scen.parent.mkdir()
    scen.write_text(Path(sim.scenario_file).read_text())
    write_log(scen.parent / "ego.csv", ref, sim.world.ego)
    monkeypatch.chdir(tmp_path)
    agent = Replay("ego.csv")  # not found from the working directory
    assert agent.log is None
    rep = make_sim(scen, agent, seed=4)
    assert agent.log is not None and agent.path == scen.parent / "ego.csv"
    assert rep.termination == ""


def test_missing_log_is_an_agent_failure_with_both_places_named():
    res = make_sim(SIGNALISED, Replay("no_such_log.csv")).run()
    (ev,) = [e for e in res.events if e.kind == EventKind.AGENT_FAILURE]
    assert "replay log not found" in ev.detail and "no_such_log.csv" in ev.detail


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ":1: empty replay log"),
        ("x,y,yaw,speed\n0,0,0,0\n", ":1: header 'x,y,yaw,speed' lacks column(s) t"),
        ("t,x,y,yaw,speed\n0,0,0,0,1\n0.1,0,0,0\n", ":3: 4 fields, the header has 5"),
        ("t,x,y,yaw,speed\n0,0,0,0,1\n0.1,zero,0,0,1\n", ":3: column x: 'zero' is not a number"),
        ("t,x,y,yaw,speed\n0,0,0,0,1\n0.1,0,0,nan,1\n", ":3: column yaw: nan is not finite"),
        ("# log\nt,x,y,yaw,speed\n0,0,0,0,1\n\n0,1,0,0,1\n", ":5: column t: 0.0 does not increase"),
        ("t,x,y,yaw,speed\n0,0,0,0,-1\n0.1,0,0,0,1\n", ":2: column speed: -1.0 is negative"),
        ("t,x,y,yaw,speed\n0,0,0,0,1\n", "needs at least 2 rows"),
    ],
)
def test_malformed_logs_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "log.csv"
    path.write_text(text)
    with pytest.raises(ReplayError) as err:
        read_log(path)
    assert str(path) in str(err.value) and message in str(err.value)
    with pytest.raises(AgentLoadError, match=r"log\.csv"):
        load_agent(f"replay:{path}")


def test_columns_in_any_order_with_extras(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("speed,t,note,yaw,y,x\n1,0,a,0.5,2,3\n2,1,b,0.5,2,4\n")
    log = read_log(path)
    np.testing.assert_array_equal(log["x"], [3.0, 4.0])
    np.testing.assert_array_equal(log["speed"], [1.0, 2.0])
    with pytest.raises(AgentLoadError, match="give the log file"):
        load_agent("replay:")
