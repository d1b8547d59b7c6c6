"""What ``simcore run --out DIR`` writes besides result.json: junit.xml, report.html; the ego series."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET
import numpy as np
import pytest
import xmlschema

from simcore.api import simulation
from simcore.cli import main
from simcore.report.junit import JUnitCase, case_from_result, junit_tree, write_junit
from simcore.report.series import critical_moment, ego_series

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
RAMMER = f"{HERE / 'report_agents.py'}:Rammer"
CRASHER = f"{TESTS / 'agents_for_tests.py'}:Crasher"
REAR_END = str(TESTS / "data" / "rear_end.yaml")
SIGNALIZED = "urban/signalized_intersection"
JUNIT_XSD = xmlschema.XMLSchema(HERE / "junit.xsd")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_out(tmp_path: Path, scenario: str, *extra: str) -> tuple[int, Path, dict[str, Any]]:
    out = tmp_path / "out"
    code = main(["run", scenario, "--quiet", "--out", str(out), *extra])
    return code, out, json.loads((out / "result.json").read_text())


@pytest.fixture(scope="module")
def rammed(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, dict[str, Any]]:
    """The ego drives at full throttle into the queue standing at a red light."""
    return run_out(tmp_path_factory.mktemp("rammed"), REAR_END, "--agent", RAMMER)


# -- junit.xml ------------------------------------------------------------------------------


def test_junit_of_failed_run_names_criteria_reason_and_time(rammed: tuple[int, Path, dict[str, Any]]) -> None:
    code, out, result = rammed
    assert code == 1
    (collision,) = [e for e in result["events"] if e["kind"] == "collision"][:1]
    JUNIT_XSD.validate(str(out / "junit.xml"))
    root = DET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "1", "0")
    (case,) = root.iter("testcase")
    assert case.get("name") == "rear-end-fixture[0]"
    assert case.get("classname").endswith("tests/data/rear_end.yaml")
    assert float(case.get("time")) == pytest.approx(result["wall_time_s"], abs=1e-3)
    (failure,) = case.findall("failure")
    failed = sorted(c["name"] for c in result["criteria"] if not c["passed"])
    assert "no_collision" in failed
    for name in failed:
        assert name in failure.get("message")
    assert f"collision ego/{collision['actors'][1]} at t={collision['time_s']:.2f} s" in failure.text
    assert f"run ended: {result['termination']} at t={result['sim_time_s']:.4g} s" in failure.text
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["seed"] == "1"
    assert props["agent"] == 'rammer <&> "quoted"'  # escaped on writing, intact on reading
    assert float(props["score"]) == pytest.approx(result["score"]["value"])
    assert float(props["score.carla-leaderboard-2.0"]) == pytest.approx(result["scores"]["carla-leaderboard-2.0"])


def test_junit_of_crashed_agent_says_agent_failure(tmp_path: Path) -> None:
    code, out, result = run_out(tmp_path, SIGNALIZED, "--agent", CRASHER)
    assert code == 1
    JUNIT_XSD.validate(str(out / "junit.xml"))
    (failure,) = DET.parse(out / "junit.xml").getroot().iter("failure")
    (event,) = [e for e in result["events"] if e["kind"] == "agent_failure"]
    assert "reach_goal" in failure.get("message") and "agent_failure" in failure.get("message")
    assert f"agent_failure ego at t={event['time_s']:.2f} s (RuntimeError: crasher gave up on purpose)" in failure.text


def test_junit_counts_and_hostile_text(tmp_path: Path) -> None:
    nasty = 'a<b>&"c"\x00\x07 ]]> \ud800 ok'
    cases = [
        JUnitCase("file.yaml", "s[0]", 0.5),
        JUnitCase("file.yaml", "s[1]", 1.25, failure=(nasty, nasty), properties={"k": nasty}),
        JUnitCase("other.yaml", "o[0]", 0.0, error=("boom", nasty)),
    ]
    path = write_junit(cases, tmp_path / "j.xml")
    JUNIT_XSD.validate(str(path))
    root = DET.parse(path).getroot()
    assert [root.get(k) for k in ("tests", "failures", "errors", "time")] == ["3", "1", "1", "1.750"]
    assert [s.get("failures") for s in root.iter("testsuite")] == ["0", "1", "0"]
    (failure,) = root.iter("failure")
    assert failure.text == 'a<b>&"c"\ufffd\ufffd ]]> \ufffd ok'
    (error,) = root.iter("error")
    assert error.get("message") == "boom"


def test_junit_case_without_criteria_passes() -> None:
    data = {"scenario": "x", "variant": 3, "agent": "a", "scenario_file": "x.yaml", "criteria": [], "passed": True}
    case = case_from_result(data, wall_time=0.1, agent_label="a")
    assert case.failure is None and case.name == "x[3] (a)"
    tree = junit_tree([case])
    assert tree.getroot().get("failures") == "0"


# -- report.html ----------------------------------------------------------------------------


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)"', html)]


def test_report_html_sections_images_offline(rammed: tuple[int, Path, dict[str, Any]]) -> None:
    _, out, result = rammed
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ("summary", "scores", "verdicts", "infractions", "metrics", "plots", "critical"):
        assert f'id="{section}"' in html
    assert "http://" not in html and "https://" not in html and 'src="//' not in html
    assert html.count("<img") == 1 and html.count('<svg class="chart"') == 5  # critical moment; SVG plots
    images = _images(html)
    assert len(images) == 1 and all(im.startswith(PNG_MAGIC) for im in images)
    for name, value in result["scores"].items():
        assert f"<td>{name}</td>" in html
        assert value is not None
    (first,) = [e for e in result["events"] if e["kind"] == "collision"][:1]
    assert f"<td>{first['time_s']:.2f}</td><td>collision</td>" in html
    assert f"t = {first['time_s']:.2f} s: first ego collision" in html
    assert "rammer &lt;&amp;&gt; &quot;quoted&quot;" in html  # the agent's name, escaped
    png = (out / "topdown.png").read_bytes()
    assert png.startswith(PNG_MAGIC)


# -- ego series ----------------------------------------------------------------------------


def test_series_reproduce_the_engines_ttc_gap_and_decel() -> None:
    """The series, recomputed from the trajectory, hit the run's own minimum TTC / gap and max braking."""
    sim = simulation(SIGNALIZED, "autopilot")
    res = sim.run()
    s = ego_series(sim.world, res)
    assert s is not None and s.time.size == res.steps + 1
    # Row 0 is the initial state, before the first step the metrics fold in.
    assert np.nanmin(s.ttc[1:]) == pytest.approx(res.metrics["min_ttc_s"], rel=1e-12)
    assert np.min(s.gap[1:]) == pytest.approx(res.metrics["min_gap_m"], rel=1e-12)
    assert -np.min(s.accel) == pytest.approx(res.metrics["max_decel_mps2"], rel=1e-9)
    assert np.max(s.accel) == pytest.approx(res.metrics["max_accel_mps2"], rel=1e-9)
    moment = critical_moment(res, s)
    assert moment.time == pytest.approx(float(s.time[1:][np.argmin(s.ttc[1:])]))
    assert "time-to-collision" in moment.reason


def test_critical_moment_is_first_collision() -> None:
    from simcore.agents.loading import load_agent

    sim = simulation(REAR_END, load_agent(RAMMER))
    res = sim.run()
    first = next(e for e in res.events if e.kind.name == "COLLISION")
    moment = critical_moment(res, ego_series(sim.world, res))
    assert moment.time == first.time and "collision" in moment.reason


def test_writing_shows_a_progress_bar_only_once_it_has_taken_its_delay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outputs written within the delay print nothing (the bar's first refresh used to show it at once);
    a writer that takes longer brings the bar up, naming the files still to come."""
    import time

    import simcore.render.topdown as td
    from simcore.report import outputs

    sim = simulation(REAR_END, "autopilot")
    res = sim.run()
    monkeypatch.setattr(outputs, "PROGRESS_AFTER_S", 60.0)
    outputs.write_run_outputs(sim.world, res, tmp_path / "quick", progress=True)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(outputs, "PROGRESS_AFTER_S", 0.05)
    draw = td.draw_run

    def slow_draw(*args: Any, **kwargs: Any) -> Path:
        time.sleep(0.2)
        return draw(*args, **kwargs)

    monkeypatch.setattr(td, "draw_run", slow_draw)
    outputs.write_run_outputs(sim.world, res, tmp_path / "slow", progress=True)
    err = capsys.readouterr().err
    assert "writing" in err and "report.html" in err and "result.json" in err


def test_writing_again_replaces_every_file_and_a_failed_rewrite_leaves_no_result_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outputs written twice into one folder: new files with the second run's content (written as new files,
    not over the old ones: ``_files.write_new``), no ``.tmp`` left. A rewrite that fails half way leaves no
    result.json (the mark of a complete folder) beside the new files."""
    import simcore.render.topdown as td
    from simcore._files import write_atomic, write_new
    from simcore.report import outputs

    sim = simulation(REAR_END, "autopilot")
    res = sim.run()
    out = tmp_path / "out"
    outputs.write_run_outputs(sim.world, res, out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(first) == {"result.json", "junit.xml", "topdown.png", "report.html"}
    res.scenario = "renamed"
    outputs.write_run_outputs(sim.world, res, out)
    second = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(second) == set(first) and all(b"renamed" in second[k] for k in ("result.json", "junit.xml"))
    assert json.loads(second["result.json"])["scenario"] == "renamed"
    assert second["topdown.png"] != first["topdown.png"]  # the title names the scenario

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(td, "draw_run", broken)
    with pytest.raises(RuntimeError):
        outputs.write_run_outputs(sim.world, res, out)
    assert not (out / "result.json").exists() and (out / "junit.xml").exists()
    link = tmp_path / "link"
    link.symlink_to(out / "junit.xml")
    assert write_new(link, b"x") == link and not link.is_symlink() and link.read_bytes() == b"x"
    assert (out / "junit.xml").read_bytes() == second["junit.xml"]  # a link is replaced, not written through
    write_atomic(out / "a.json", b"1")
    write_atomic(out / "a.json", b"2")
    assert (out / "a.json").read_bytes() == b"2" and not (out / "a.json.tmp").exists()
