"""``simcore batch``: determinism across worker counts, resume, errors, dead workers, combined outputs."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET
import pytest
import xmlschema

from simcore.api import run
from simcore.batch.jobs import plan_jobs
from simcore.cli import main

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
SWEEP = str(TESTS / "data" / "sweep.yaml")  # 6 variants of 5 s, no criteria: every run passes
REAR_END = str(TESTS / "data" / "rear_end.yaml")  # 25 s: too short to reach the goal, every agent fails
BAD = TESTS / "scenarios_bad"
KILL_ONCE = f"{HERE / 'batch_agents.py'}:KillOnce"
KILL_ALWAYS = f"{HERE / 'batch_agents.py'}:KillAlways"
CRASHER = f"{TESTS / 'agents_for_tests.py'}:Crasher"
JUNIT_XSD = xmlschema.XMLSchema(TESTS / "report" / "junit.xsd")
TIMING = ('"real_time_factor"', '"wall_time_s"')


def batch(out: Path, *args: str) -> int:
    return main(["batch", *args, "--quiet", "--out", str(out)])


def summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text())


def without_timing(path: Path) -> str:
    """result.json's exact text minus the wall-time lines."""
    return "".join(line for line in path.read_text().splitlines(True) if not line.lstrip().startswith(TIMING))


def results_of(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): without_timing(p) for p in sorted(out.rglob("result.json"))}


def test_same_bytes_with_one_or_two_workers(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert batch(one, SWEEP, REAR_END, "--workers", "1", "--no-pictures") == 1
    assert batch(two, SWEEP, REAR_END, "--workers", "2", "--no-pictures") == 1
    a, b = results_of(one), results_of(two)
    assert len(a) == 7 and sorted(a) == sorted(b)
    assert a == b
    # ... and the same as a run in this process (the batch adds nothing, loses nothing).
    direct = run(SWEEP, "autopilot", variant=4).to_json(include_timing=False)
    in_batch = json.loads((one / "sweep/4/autopilot/result.json").read_text())
    del in_batch["wall_time_s"], in_batch["real_time_factor"]
    assert in_batch == json.loads(json.dumps(direct))
    s1, s2 = summary(one), summary(two)
    for s in (s1, s2):
        for e in s["entries"]:
            e.pop("wall_time_s"), e.pop("job_wall_s")
    assert s1 == s2


def test_resume_skips_finished_runs(tmp_path: Path) -> None:
    out = tmp_path / "b"
    assert batch(out, SWEEP, "--variants", "3", "--workers", "2", "--no-pictures") == 0
    files = sorted(out.rglob("result.json"))
    assert len(files) == 3
    stamps = {f: f.stat().st_mtime_ns for f in files}
    (out / "sweep/1/autopilot/result.json").unlink()
    before = results_of(out)
    from simcore.batch.runner import execute

    jobs, errors = plan_jobs([SWEEP], ["autopilot"], 3)
    outcome = execute(jobs, errors, ["autopilot"], out, workers=2, pictures=False)
    assert (outcome.ran, outcome.skipped, outcome.exit_code) == (1, 2, 0)
    for f, t in stamps.items():
        if "sweep/1/" not in f.as_posix():
            assert f.stat().st_mtime_ns == t  # not rewritten
    after = results_of(out)
    assert set(after) == set(before) | {"sweep/1/autopilot/result.json"}


def test_failures_errors_and_exit_codes(tmp_path: Path) -> None:
    out = tmp_path / "b"
    scenarios = [SWEEP, REAR_END, str(BAD / "yaml_syntax.yaml"), str(BAD / "unknown_lane.yaml")]
    agents = ["--agent", "autopilot", "--agent", "idle", "--agent", CRASHER]
    assert batch(out, *scenarios, *agents, "--variants", "1", "--workers", "2") == 2
    s = summary(out)
    by = {(e["scenario_key"], e["agent_key"]): e for e in s["entries"]}
    for agent in ("autopilot", "idle", "Crasher"):
        failed_agent = ["no_agent_failure"] if agent == "Crasher" else []  # a failing agent never passes
        assert by[("sweep", agent)]["status"] == ("fail" if failed_agent else "pass")  # no criteria of its own
        assert by[("rear_end", agent)]["status"] == "fail"
        assert by[("rear_end", agent)]["failed_criteria"] == ["reach_goal", *failed_agent]
        e = by[("unknown_lane", agent)]  # expands, fails to build inside the job
        assert e["status"] == "error" and "unknown_lane.yaml" in e["detail"]
        assert (out / e["dir"] / "error.json").is_file()
    assert by[("rear_end", "Crasher")]["termination"] == "agent_failure"  # a raising agent: a normal failed run
    assert by[("yaml_syntax", None)]["status"] == "error"  # could not even be expanded
    assert by[("yaml_syntax", None)]["error"] == "scenario failed to load"
    assert s["counts"] == {"pass": 2, "fail": 4, "error": 4}
    # Combined JUnit: every entry, failures and errors counted.
    JUNIT_XSD.validate(str(out / "junit.xml"))
    root = DET.parse(out / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("10", "4", "4")
    names = {c.get("name") for c in root.iter("testcase")}
    expected = {"rear-end-fixture[0] (idle)", "sweep-fixture[0] (Crasher)", "unknown_lane[0] (idle)", "yaml_syntax"}
    assert expected <= names
    (crash,) = [c for c in root.iter("testcase") if c.get("name") == "rear-end-fixture[0] (Crasher)"]
    assert "agent_failure" in crash.find("failure").get("message")
    # Per-run outputs of a finished job.
    run_dir = out / "rear_end/0/idle"
    assert {p.name for p in run_dir.iterdir()} >= {"result.json", "junit.xml", "report.html", "topdown.png"}
    # Leaderboard: every agent, errors count as 0, ranked by mean simcore score.
    board = json.loads((out / "leaderboard.json").read_text())
    rows = {r["agent"]: r for r in board["agents"]}
    assert set(rows) == {"autopilot", "idle", "Crasher"}
    means = [r["scores"]["simcore-v1"] for r in board["agents"]]
    assert means == sorted(means, reverse=True)
    for agent, r in rows.items():
        passed = 0 if agent == "Crasher" else 1  # a failing agent fails even a scenario without criteria
        assert (r["runs"], r["passed"], r["failed"], r["errors"]) == (3, passed, 2 - passed, 1)
        assert r["pass_rate"] == pytest.approx(passed / 3)
        own = [by[(sc, agent)]["scores"]["simcore-v1"] for sc in ("sweep", "rear_end")]
        assert r["scores"]["simcore-v1"] == pytest.approx(sum(own) / 3)
        rc = [by[(sc, agent)]["route_completion"] for sc in ("sweep", "rear_end")]
        assert r["route_completion"] == pytest.approx(sum(rc) / 3)
    html = (out / "leaderboard.html").read_text()
    assert "<td>autopilot</td>" in html and html.count('<svg class="chart"') >= 3 and "http" not in html


def test_only_passing_runs_exit_zero_and_failing_exit_one(tmp_path: Path) -> None:
    assert batch(tmp_path / "a", SWEEP, "--variants", "1", "--workers", "1", "--no-pictures") == 0
    assert batch(tmp_path / "b", SWEEP, REAR_END, "--variants", "1", "--workers", "1", "--no-pictures") == 1


def test_killed_worker_is_retried_and_batch_completes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv("SIMCORE_TEST_KILL_DIR", str(markers))
    out = tmp_path / "b"
    code = batch(out, SWEEP, "--variants", "2", "--agent", KILL_ONCE, "--agent", "autopilot", "--workers", "2")
    assert (markers / "died").is_file()  # a worker really died
    assert code == 0
    s = summary(out)
    assert s["counts"] == {"pass": 4, "fail": 0, "error": 0}
    retried = [e for e in s["entries"] if e.get("retried_after_crash")]
    assert [e["agent_key"] for e in retried] == ["KillOnce"]  # only the job whose worker died ran again
    for e in s["entries"]:
        assert (out / e["dir"] / "result.json").is_file()


def test_worker_killed_every_time_gives_error_entry(tmp_path: Path) -> None:
    out = tmp_path / "b"
    code = batch(out, SWEEP, "--variants", "1", "--agent", KILL_ALWAYS, "--agent", "autopilot", "--workers", "2")
    assert code == 2
    by = {e["agent_key"]: e for e in summary(out)["entries"]}
    assert by["KillAlways"]["status"] == "crashed"  # died on its first try and on its retry
    assert by["KillAlways"]["error"] == "worker process died" and by["KillAlways"]["retried_after_crash"]
    assert by["autopilot"]["status"] == "pass"
    assert (out / "sweep/0/autopilot/result.json").is_file()


def test_plan_covers_every_scenario_variant_agent() -> None:
    jobs, errors = plan_jobs([SWEEP, str(BAD / "yaml_syntax.yaml")], ["autopilot", "idle"], "all", draws=2)
    assert len(jobs) == 6 * 2 * 2 and len(errors) == 1
    assert len({j.rel_dir for j in jobs}) == len(jobs)
    assert jobs[0].rel_dir == "sweep/0/autopilot" and jobs[-1].rel_dir == "sweep/11/idle"


def test_bad_arguments_are_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert batch(tmp_path / "x", SWEEP, "--variants", "some") == 2
    assert batch(tmp_path / "x", SWEEP, "--workers", "0") == 2
    assert batch(tmp_path / "x", str(tmp_path / "nothing-here")) == 2
    assert "--variants" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="Ray is installed: the error path is moot")
def test_ray_backend_without_ray_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert batch(tmp_path / "x", SWEEP, "--variants", "1", "--backend", "ray") == 2
    assert "pip install 'simcore[ray]'" in capsys.readouterr().err


class _FakeRay(types.ModuleType):
    """A stand-in for the parts of Ray's API that ``run_ray`` uses; tasks run in this process.

    Checks the driver logic (files shipped back and written, crashes recorded), not Ray itself.
    """

    class _Ref:
        def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
            self.value, self.error = value, error

    def __init__(self, crash_agent: str) -> None:
        super().__init__("ray")
        self.crash_agent = crash_agent
        self.initialized = False
        self.retries: int | None = None
        crashed = type("WorkerCrashedError", (Exception,), {})
        base = type("RayError", (Exception,), {})
        self.exceptions = types.SimpleNamespace(WorkerCrashedError=crashed, RayError=base)

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs: Any) -> None:
        self.initialized = True

    def remote(self, max_retries: int = 3) -> Any:
        self.retries = max_retries
        fake = self

        def wrap(fn: Any) -> Any:
            def submit(job: Any, *args: Any) -> _FakeRay._Ref:
                if job.agent_key == fake.crash_agent:
                    return fake._Ref(error=fake.exceptions.WorkerCrashedError("worker died"))
                return fake._Ref(fn(job, *args))

            return types.SimpleNamespace(remote=submit)

        return wrap

    def wait(self, refs: list[Any], num_returns: int = 1) -> tuple[list[Any], list[Any]]:
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref: _FakeRay._Ref) -> Any:
        if ref.error is not None:
            raise ref.error
        return ref.value


def test_ray_driver_with_a_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simcore.batch.runner import execute

    fake = _FakeRay(crash_agent="idle")
    monkeypatch.setitem(sys.modules, "ray", fake)
    jobs, errors = plan_jobs([SWEEP], ["autopilot", "idle"], 2)
    outcome = execute(jobs, errors, ["autopilot", "idle"], tmp_path / "ray", backend="ray", pictures=True)
    assert fake.initialized and fake.retries == 1
    assert outcome.counts == {"pass": 2, "crashed": 2} and outcome.worker_deaths == 2
    by = {e["dir"]: e for e in outcome.entries}
    assert by["sweep/0/idle"]["error"] == "worker process died"
    assert "_files" not in by["sweep/0/autopilot"]
    folder = tmp_path / "ray" / "sweep/0/autopilot"
    assert {p.name for p in folder.iterdir()} == {
        "result.json", "junit.xml", "report.html", "topdown.png", "features.json", "manifest.json"
    }  # fmt: skip
    local = tmp_path / "local"
    assert batch(local, SWEEP, "--variants", "2", "--workers", "1", "--no-pictures") == 0
    assert results_of(local) == results_of(tmp_path / "ray")


def test_resume_reruns_jobs_written_with_another_seed(tmp_path: Path) -> None:
    from simcore.batch.runner import execute

    out = tmp_path / "b"
    first = execute(*plan_jobs([SWEEP], ["autopilot"], 1, seed=3), ["autopilot"], out, workers=1, pictures=False)
    again = execute(*plan_jobs([SWEEP], ["autopilot"], 1, seed=3), ["autopilot"], out, workers=1, pictures=False)
    other = execute(*plan_jobs([SWEEP], ["autopilot"], 1, seed=4), ["autopilot"], out, workers=1, pictures=False)
    assert (first.ran, again.ran, again.skipped, other.ran) == (1, 0, 1, 1)
    assert json.loads((out / "sweep/0/autopilot/result.json").read_text())["seed"] == 4
