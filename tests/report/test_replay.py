"""Re-scoring and replay from the run log: rescore equals the live result, replay from step k is
bit-identical to the live run from k, another agent from k diverges only after k."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from simcore._data import catalog_dir
from simcore.api import simulation
from simcore.cli import main
from simcore.replay import prepare_replay, rescore
from simcore.report.runlog import RUN_MCAP, RunLogWriter, read_run_log

KEYS = ("time", "x", "y", "yaw", "speed", "active", "signals")
CATALOG = sorted(catalog_dir("scenarios").rglob("*.yaml"))
RAMMER = f"{Path(__file__).resolve().parent / 'report_agents.py'}:Rammer"


def _live(path: Path, scenario: str, agent: str = "autopilot", timeout_s: float | None = None, **options):
    """Run ``scenario`` with the log attached (snapshots every second); the Simulation and its Result."""
    sim = simulation(scenario, agent, **options)
    if timeout_s is not None:  # a short run: the end conditions go into the log like any others
        sim.end = sim.end.model_copy(update={"timeout_s": timeout_s})
        sim.reset()
    writer = RunLogWriter(path, sim.world, snapshot_every_s=1.0).attach(sim)
    res = sim.run()
    writer.finish(res)
    return sim, res


def _same_result(live, again) -> None:
    a, b = live.to_json(include_timing=False), again.to_json(include_timing=False)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert again.state_hash == live.state_hash != ""


@pytest.fixture(scope="module")
def cut_in(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    path = tmp_path_factory.mktemp("cut_in") / RUN_MCAP
    sim, res = _live(path, "urban/cut_in")
    return SimpleNamespace(path=path, sim=sim, res=res, rows=sim.recorder.view())


@pytest.mark.parametrize(
    ("scenario", "agent", "timeout_s"),
    [
        ("urban/cut_in", "autopilot", None),  # storyboard, goal reached
        ("ncap/ccrs", RAMMER, None),  # an ego that never brakes hits the target: collision, regulation verdicts
        ("urban/signalized_intersection", "autopilot", 20.0),  # signals, a short run that times out
    ],
    ids=["cut_in", "ccrs-rammer", "signalized-20s"],
)
def test_rescore_equals_the_live_result(tmp_path: Path, scenario: str, agent: str, timeout_s: float | None) -> None:
    _, live = _live(tmp_path / RUN_MCAP, scenario, agent, timeout_s)
    _, again = rescore(tmp_path)
    _same_result(live, again)
    if agent == RAMMER:
        assert any(e.kind.name == "COLLISION" for e in again.events) and again.regulation


def test_rescore_uses_todays_scoring(cut_in: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The score is computed again, not copied from the log: a changed scoring function shows."""
    import simcore.runner.loop as loop

    monkeypatch.setattr(loop, "score", lambda summary: 12.5)
    _, res = rescore(cut_in.path)
    assert res.score == 12.5 != cut_in.res.score
    assert [e.to_json() for e in res.events] == [e.to_json() for e in cut_in.res.events]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", CATALOG, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_rescore_equals_live_over_the_catalog(tmp_path: Path, scenario: Path) -> None:
    _, live = _live(tmp_path / RUN_MCAP, str(scenario), timeout_s=8.0)
    _, again = rescore(tmp_path)
    _same_result(live, again)


@pytest.mark.parametrize("k", [0, 57, -1])
def test_replay_from_step_k_is_bit_identical(cut_in: SimpleNamespace, k: int) -> None:
    k = cut_in.res.steps if k < 0 else k
    sim, from_step = prepare_replay(cut_in.path, k)
    assert from_step <= k and sim.step_index == min(k, cut_in.res.steps)
    res = sim.run()
    rows = sim.recorder.view()
    for key in KEYS:
        np.testing.assert_array_equal(rows[key], cut_in.rows[key], err_msg=key)
    _same_result(cut_in.res, res)


def test_replay_starts_from_the_nearest_snapshot(cut_in: SimpleNamespace) -> None:
    steps = read_run_log(cut_in.path).snapshot_steps
    assert len(steps) >= 3 and steps[0] == 0 and steps[-1] == cut_in.res.steps
    k = steps[1] + 3
    _, from_step = prepare_replay(cut_in.path, k)
    assert from_step == steps[1]


def test_replay_with_another_agent_diverges_only_after_k(cut_in: SimpleNamespace) -> None:
    k = 40
    sim, _ = prepare_replay(cut_in.path, k, ["idle"])  # "what if the ego had braked here"
    res = sim.run()
    rows, live = sim.recorder.view(), cut_in.rows
    e = sim.world.ego
    for key in KEYS:
        np.testing.assert_array_equal(rows[key][: k + 1], live[key][: k + 1], err_msg=key)
    v = rows["speed"][k:, e]
    assert v[-1] < 0.1 < v[0] and np.all(np.diff(v) <= 1e-12)  # brakes from k on, to a stop
    assert res.agent == "idle" and res.termination == "timeout" and not res.passed


def test_replay_of_a_protocol_agent_uses_the_logged_controls(tmp_path: Path) -> None:
    """An agent that acted through the agent protocol (not in-engine): the steps up to k are re-simulated
    from its logged controls, then the same agent continues; bit for bit the live run."""
    sim_live, live = _live(tmp_path / RUN_MCAP, "urban/cut_in", in_engine=False, timeout_s=3.0)
    assert not sim_live.in_engine
    # the agent's observations are summarised per step: its speed and the actors in range, as recorded
    rows, e = sim_live.recorder.view(), sim_live.world.ego
    obs = read_run_log(tmp_path).observations
    assert [o["step"] for o in obs] == list(range(live.steps))
    for o in obs[::10]:
        j = o["step"]
        assert o["role"] == "ego" and o["speed_mps"] == rows["speed"][j, e]
        d = np.hypot(rows["x"][j] - rows["x"][j, e], rows["y"][j] - rows["y"][j, e])
        assert o["objects"] == int(np.sum(rows["active"][j] & (d <= 200.0))) - 1
    sim, from_step = prepare_replay(tmp_path, 45)
    assert from_step < 45
    assert not sim.in_engine  # continues as it ran: through the protocol, not the in-engine driver
    res = sim.run()
    for key in KEYS:
        np.testing.assert_array_equal(sim.recorder.view()[key], sim_live.recorder.view()[key], err_msg=key)
    _same_result(live, res)


def test_cli_rescore_and_replay(cut_in: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["rescore", str(cut_in.path.parent), "--out", str(tmp_path / "rs")]) == 0
    assert "same as logged" in capsys.readouterr().out
    for name in ("result.json", "junit.xml", "report.html"):
        assert (tmp_path / "rs" / name).is_file()
    got = json.loads((tmp_path / "rs" / "result.json").read_text())
    assert got["state_hash"] == cut_in.res.state_hash and got["score"]["value"] == cut_in.res.score
    assert main(["replay", str(cut_in.path), "--at", "2s", "--agent", "idle", "--out", str(tmp_path / "rp")]) == 1
    log = read_run_log(tmp_path / "rp")
    assert log.result is not None and log.result["agent"] == "idle" and log.meta["run"]["agents"]["ego"] == "idle"
    assert main(["replay", str(cut_in.path), "--at", "99999"]) == 2
    assert "outside the run" in capsys.readouterr().err


def test_batch_log_writes_a_run_log_per_run_that_rescores(tmp_path: Path) -> None:
    sweep = str(Path(__file__).resolve().parents[1] / "data" / "sweep.yaml")
    out = tmp_path / "batch"
    assert main(["batch", sweep, "--variants", "1", "--workers", "1", "--no-pictures", "--log", "--quiet",
                 "--out", str(out)]) == 0  # fmt: skip
    logs = sorted(out.rglob(RUN_MCAP))
    assert len(logs) == 1
    for log in logs:
        _, res = rescore(log)
        want = json.loads((log.parent / "result.json").read_text())
        got = json.loads(json.dumps(res.to_json(include_timing=False)))
        assert {k: v for k, v in want.items() if k not in ("wall_time_s", "real_time_factor")} == got
