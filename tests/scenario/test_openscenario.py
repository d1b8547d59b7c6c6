"""OpenSCENARIO (.xosc): safe XML, expressions, translation, hand-computed event times, conversion."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from simcore.evaluation.events import EventKind
from simcore.scenario.errors import ScenarioError
from simcore.scenario.openscenario.expr import ExpressionError, evaluate
from simcore.scenario.openscenario.xml import parse_xml

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "esmini"
XODR = SHARED / "xodr" / "straight_500m.xodr"
needs_shared = pytest.mark.skipif(not XODR.is_file(), reason="../shared/esmini is absent")


# ----------------------------------------------------------------------------- safe XML


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("<OpenSCENARIO>\n  <FileHeader>\n</OpenSCENARIO>", "t.xosc:3:3", "malformed XML: mismatched tag"),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>\n<l>&b;</l>',
            "t.xosc:2:",
            "refused unsafe XML",
        ),
        ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<x>&e;</x>', "t.xosc:1:", "refused unsafe XML"),
        ("<OpenSCENARIO>\n <A>&undefined;</A></OpenSCENARIO>", "t.xosc:2:", "undefined entity"),
    ],
)
def test_bad_xml_is_located_and_never_echoed(text: str, where: str, what: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_xml("t.xosc", text=text)
    msg = str(exc.value)
    assert msg.startswith(where) and what in msg
    assert "aaaaaaaaaa" not in msg and "passwd" not in msg


def test_elements_keep_line_and_column() -> None:
    root = parse_xml(
        "t.xosc", text="<OpenSCENARIO>\n  <Storyboard>\n    <Story name='s'/>\n  </Storyboard>\n</OpenSCENARIO>"
    )
    story = root.children[0].children[0]
    assert (story.line, story.col) == (3, 5)
    assert story.path == "OpenSCENARIO/Storyboard/Story[s]"


# ----------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("$EgoSpeed / 3.6", 30.0),
        ("2 + 3 * 4 - 1", 13.0),
        ("(2 + 3) * 4", 20.0),
        ("-2 ** 2", -4.0),
        ("2 ** 3 ** 2", 512.0),
        ("max($a, 7) % 4", 3.0),
        ("round(2.5) + floor(-1.5) + ceil(1.2)", 3.0),
        ("sqrt(16) + abs(-1) + sign(-3)", 4.0),
        ("$a > 2 and not ($a == 4)", 1.0),
        ("$a >= 3 or false", 1.0),
    ],
)
def test_expressions(expr: str, value: float) -> None:
    params = {"EgoSpeed": "108", "a": "3"}
    assert evaluate(expr, params.__getitem__) == pytest.approx(value)


@pytest.mark.parametrize("expr", ["__import__('os')", "1 +", "$a.b", "open(1)", "1 / 0", "2 $a"])
def test_bad_expressions_refused(expr: str) -> None:
    with pytest.raises((ExpressionError, KeyError)):
        evaluate(expr, {"a": "1"}.__getitem__)


# ----------------------------------------------------------------------------- scenariogeneration files


def _lead_braking(folder: Path, brake_at_s: float = 3.0, decel: float = 5.0) -> Path:
    """Lead vehicle 40 m ahead at 20 m/s brakes at ``decel`` m/s^2 from t = brake_at_s (scenariogeneration)."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    shutil.copy(XODR, folder.parent / "map.xodr")
    params = xosc.ParameterDeclarations()
    params.add_parameter(xosc.Parameter("BrakeTime", xosc.ParameterType.double, str(brake_at_s)))
    params.add_parameter(xosc.Parameter("Decel", xosc.ParameterType.double, str(decel)))
    car = _car(xosc)
    ents = xosc.Entities()
    ents.add_scenario_object("Ego", car)
    ents.add_scenario_object("Lead", car)
    init = xosc.Init()
    step = xosc.TransitionDynamics(xosc.DynamicsShapes.step, xosc.DynamicsDimension.time, 0)
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(20, 0, -1, 1)))
    init.add_init_action("Ego", xosc.AbsoluteSpeedAction(10, step))
    init.add_init_action("Lead", xosc.TeleportAction(xosc.LanePosition(60, 0, -1, 1)))
    init.add_init_action("Lead", xosc.AbsoluteSpeedAction(20, step))
    brake = xosc.AbsoluteSpeedAction(
        0, xosc.TransitionDynamics(xosc.DynamicsShapes.linear, xosc.DynamicsDimension.rate, "$Decel")
    )
    ev = xosc.Event("LeadBrakes", xosc.Priority.override)
    ev.add_action("brake", brake)
    ev.add_trigger(
        xosc.ValueTrigger(
            "t", 0, xosc.ConditionEdge.none, xosc.SimulationTimeCondition("$BrakeTime", xosc.Rule.greaterOrEqual)
        )
    )
    man = xosc.Maneuver("m")
    man.add_event(ev)
    mg = xosc.ManeuverGroup("mg")
    mg.add_actor("Lead")
    mg.add_maneuver(man)
    act = xosc.Act(
        "act",
        xosc.ValueTrigger("start", 0, xosc.ConditionEdge.none, xosc.SimulationTimeCondition(0, xosc.Rule.greaterThan)),
    )
    act.add_maneuver_group(mg)
    story = xosc.Story("story")
    story.add_act(act)
    stop = _stop_at(xosc, 10)
    sb = xosc.StoryBoard(init, stop)
    sb.add_story(story)
    sce = xosc.Scenario(
        "lead braking", "simcore tests", params, ents, sb, xosc.RoadNetwork("../map.xodr"), xosc.Catalog()
    )
    path = folder / "lead_braking.xosc"
    sce.write_xml(str(path))
    return path


@needs_shared
def test_lead_braking_events_at_hand_computed_times(tmp_path: Path) -> None:
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    path = _lead_braking(tmp_path / "xosc", brake_at_s=3.0, decel=5.0)
    sim = simulation(path, load_agent("idle"))
    res = sim.run()
    lead = sim.world.actor_ids.index("Lead")
    # braking starts at t = 3.0 s (step 60) and takes 20 / 5 = 4 s: the lead stands from t = 7.0 s
    # the first entry keeps the lead's Init speed above the map's default limit (as esmini does)
    fired = [e.time for e in res.events if e.kind == EventKind.STORYBOARD and "-> 0 m/s" in e.detail]
    assert fired and fired[0] == pytest.approx(3.0, abs=0.05 + 1e-9)
    assert float(sim.world.state.speed[lead]) == pytest.approx(0.0, abs=1e-6)
    assert res.termination == "end_condition" and sim.t == pytest.approx(10.0, abs=0.05 + 1e-9)


@needs_shared
def test_parameter_override_moves_the_event(tmp_path: Path) -> None:
    from simcore.scenario.loader import load_scenario

    (tmp_path / "xosc").mkdir()
    path = _lead_braking(tmp_path / "xosc")
    spec = load_scenario(path, overrides={"BrakeTime": 4.5}).spec
    brake = next(e for e in spec.storyboard if e.name == "LeadBrakes")
    assert brake.when.time_s == pytest.approx(4.5)
    assert brake.do.speed.rate == pytest.approx(5.0)
    with pytest.raises(ScenarioError, match="not declared"):
        load_scenario(path, overrides={"Nope": 1})


def _distribution(folder: Path) -> Path:
    text = """<?xml version="1.0"?>
<OpenSCENARIO>
  <FileHeader revMajor="1" revMinor="1" date="2024-01-01T00:00:00" description="d" author="t"/>
  <ParameterValueDistribution>
    <ScenarioFile filepath="lead_braking.xosc"/>
    <Deterministic>
      <DeterministicSingleParameterDistribution parameterName="BrakeTime">
        <DistributionRange stepWidth="0.5"><Range lowerLimit="2" upperLimit="3"/></DistributionRange>
      </DeterministicSingleParameterDistribution>
      <DeterministicSingleParameterDistribution parameterName="Decel">
        <DistributionSet><Element value="4"/><Element value="8"/></DistributionSet>
      </DeterministicSingleParameterDistribution>
    </Deterministic>
  </ParameterValueDistribution>
</OpenSCENARIO>"""
    p = folder / "dist.xosc"
    p.write_text(text)
    return p


@needs_shared
def test_deterministic_distribution_expands_to_the_product(tmp_path: Path) -> None:
    from simcore.scenario.expand import expand
    from simcore.scenario.loader import load_scenario

    (tmp_path / "xosc").mkdir()
    _lead_braking(tmp_path / "xosc")
    dist = _distribution(tmp_path / "xosc")
    variants = expand(dist)
    assert len(variants) == 6  # 3 brake times x 2 decelerations, the first varying fastest
    assert [v.parameters["BrakeTime"] for v in variants[:3]] == ["2.0", "2.5", "3.0"]
    spec = load_scenario(dist, variant=4).spec  # digits (1, 1): 2.5 s, 8 m/s^2
    brake = next(e for e in spec.storyboard if e.name == "LeadBrakes")
    assert brake.when.time_s == pytest.approx(2.5)
    assert brake.do.speed.rate == pytest.approx(8.0)


def _converted_runs_the_same(path: Path, tmp_path: Path, agent: str, yml: Path | None = None) -> str:
    """Convert ``path`` to YAML (``yml``, default beside it), run both, assert the same result.json (wall
    times aside); the YAML text."""
    from simcore.agents.loading import load_agent
    from simcore.api import simulation
    from simcore.report.outputs import write_run_outputs
    from simcore.scenario.openscenario.convert import convert

    yml = yml or path.with_suffix(".yaml")
    convert(path, yml)
    results = []
    for src in (path, yml):
        sim = simulation(src, load_agent(agent), allow_paths=[tmp_path, SHARED])
        res = sim.run()
        write_run_outputs(sim.world, res, tmp_path / src.suffix[1:])
        results.append(_strip(json.loads((tmp_path / src.suffix[1:] / "result.json").read_text())))
    assert results[0] == results[1]
    return yml.read_text()


@needs_shared
def test_converted_yaml_runs_to_the_same_result(tmp_path: Path) -> None:
    (tmp_path / "xosc").mkdir()
    _converted_runs_the_same(_lead_braking(tmp_path / "xosc"), tmp_path, "autopilot")


def _strip(d: object) -> object:
    if isinstance(d, dict):
        return {
            k: _strip(v)
            for k, v in d.items()
            if "wall" not in k and k not in ("scenario_file", "file", "path", "real_time_factor")
        }
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


# ----------------------------------------------------------------------------- the esmini files


@needs_shared
def test_unsupported_elements_refuse_with_their_line() -> None:
    from simcore.scenario.loader import load_scenario

    with pytest.raises(ScenarioError) as exc:
        load_scenario(SHARED / "xosc" / "keep_lateral_distance.xosc")
    first = next(i for i in exc.value.issues if "LateralDistanceAction" in str(i))
    assert first.line > 1 and "not supported yet" in str(first)
    assert "--allow-partial" in str(exc.value)


ESMINI = sorted(SHARED.glob("xosc/*.xosc")) if XODR.is_file() else []
#: The esmini files whose intent is collision-free (the issue's cut-in, ALKS and ACC cases).
COLLISION_FREE = [
    "cut-in",
    "cut-in_simple",
    "acc-test",
    "alks-test",
    "alks_cut-out",
    "alks_decelerate",
    "alks_pedestrian",
]


@needs_shared
def test_every_esmini_file_loads_or_refuses_with_located_elements() -> None:
    from simcore.scenario.loader import load_scenario
    from simcore.scenario.openscenario import xosc_options

    assert len(ESMINI) == 22
    strict = 0
    for f in ESMINI:
        try:
            load_scenario(f)
            strict += 1
        except ScenarioError as exc:
            *located, summary = exc.issues
            assert located and all(i.line > 1 and i.path.startswith("OpenSCENARIO/") for i in located), f.name
            assert "--allow-partial" in summary.message
        with xosc_options(allow_partial=True):
            load_scenario(f)  # every file translates when partial runs are allowed
    assert strict >= 20


@needs_shared
@pytest.mark.parametrize("name", COLLISION_FREE)
def test_collision_free_esmini_files_end_without_collision(name: str) -> None:
    from simcore.agents.loading import load_agent
    from simcore.api import simulation
    from simcore.scenario.openscenario import xosc_options

    with xosc_options(allow_partial=True):
        sim = simulation(SHARED / "xosc" / f"{name}.xosc", load_agent("autopilot"))
    res = sim.run()
    assert res.termination in ("end_condition", "timeout")
    assert not [e for e in res.events if e.kind == EventKind.COLLISION]


# ----------------------------------------------------------------------------- new storyboard kinds

_COMPARE_YAML = """
simcore: 1
name: compare
map: {file: map.xodr}
ego: {start: {lane: "1:0:-1", s: 0, speed: 0}, route: {to: "1:0:-1"}}
actors:
  - {id: a, start: {lane: "1:0:-1", s: 300, speed: 10}, route: {to: "1:0:-1"},
     behavior: {idm: {desired_speed_kph: 36}}}
  - {id: b, start: {lane: "1:0:-1", s: 20, speed: 10}, route: {to: "1:0:-1"},
     behavior: {idm: {desired_speed_kph: 36}}}
end: {timeout_s: 5, ego_reaches_goal: false}
storyboard:
  - when: {compare: {measure: time, rule: gt, value: 1.0}}
    do: {speed: {actor: b, relative_to: a, factor: 1.5, shape: step}}
  - when: {compare: {measure: traveled, actor: b, rule: ge, value: 40}}
    do: {speed: {actor: b, relative_to: a, delta: -4, shape: step}}
  - when: {compare: {measure: longitudinal, actor: a, to: b, rule: gt, value: 0}}
    do: {end: wrong_sign}
  - when: {compare: {measure: longitudinal, actor: b, to: a, rule: gt, value: 250}}
    do: {weather: {rain_mm_h: 1}}
"""


@needs_shared
def test_compare_trigger_and_relative_speed_targets(tmp_path: Path) -> None:
    """Hand computation: b (10 m/s, 280 m behind a, which keeps 10 m/s) gets 1.5 x 10 = 15 m/s at the
    first check with t > 1.0 (1.05 s); it has then travelled 10.5 m and covers the rest of 40 m at
    15 m/s by 1.05 + 29.5 / 15 = 3.017 s -> the check at 3.05 s sets 10 - 4 = 6 m/s. Longitudinal
    distances are signed: a is 280 m ahead of b (> 250 at the first check), b is behind a (never > 0),
    so the run times out."""
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    shutil.copy(XODR, tmp_path / "map.xodr")
    (tmp_path / "s.yaml").write_text(_COMPARE_YAML)
    sim = simulation(tmp_path / "s.yaml", load_agent("idle"))
    res = sim.run()
    fired = [(round(e.time, 2), e.detail) for e in res.events if e.kind == EventKind.STORYBOARD]
    assert [t for t, _ in fired] == [0.05, 1.05, 3.05]
    a, b = (sim.world.actor_ids.index(n) for n in ("a", "b"))
    assert float(sim.world.state.speed[a]) == pytest.approx(10.0, abs=0.01)
    assert float(sim.world.state.speed[b]) == pytest.approx(6.0, abs=0.05)
    assert res.termination == "timeout"


# ----------------------------------------------------------------------------- more scenariogeneration files


def _car(xosc):  # type: ignore[no-untyped-def]
    bb = xosc.BoundingBox(1.8, 4.5, 1.5, 1.4, 0, 0.75)
    return xosc.Vehicle(
        "car",
        xosc.VehicleCategory.car,
        bb,
        xosc.Axle(0.5, 0.8, 1.6, 2.8, 0.3),
        xosc.Axle(0, 0.8, 1.6, 0, 0.3),
        60,
        10,
        10,
    )


def _time(xosc, t: float, rule=None):  # type: ignore[no-untyped-def]
    return xosc.ValueTrigger(
        "t", 0, xosc.ConditionEdge.none, xosc.SimulationTimeCondition(t, rule or xosc.Rule.greaterOrEqual)
    )


def _stop_at(xosc, t: float):  # type: ignore[no-untyped-def]
    """A stop trigger at simulation time >= t."""
    return xosc.ValueTrigger(
        "stop", 0, xosc.ConditionEdge.none, xosc.SimulationTimeCondition(t, xosc.Rule.greaterOrEqual), "stop"
    )


def _on_complete(xosc, event: str):  # type: ignore[no-untyped-def]
    """A trigger on the completion of event ``event`` (StoryboardElementState completeState)."""
    state = xosc.StoryboardElementStateCondition(
        xosc.StoryboardElementType.event, event, xosc.StoryboardElementState.completeState
    )
    return xosc.ValueTrigger("c", 0, xosc.ConditionEdge.none, state)


def _walker_file(xosc, folder: Path, init, stop_s: float, more: tuple = ()) -> Path:  # type: ignore[no-untyped-def]
    """Ego and the pedestrian Walker placed by ``init``; Walker starts at 1.5 m/s (a step) at t = 1 s;
    ``more``: further (actor, Event) pairs."""
    ped = xosc.Pedestrian("walker", 80, xosc.PedestrianCategory.pedestrian, xosc.BoundingBox(0.5, 0.5, 1.8, 0, 0, 0.9))
    walk = xosc.Event("Walk", xosc.Priority.override)
    walk.add_action("w", xosc.AbsoluteSpeedAction(1.5, xosc.TransitionDynamics("step", "time", 0)))
    walk.add_trigger(_time(xosc, 1.0))
    ents = {"Ego": _car(xosc), "Walker": ped}
    return _write(xosc, folder, "straight_500m.xodr", ents, init, [("Walker", walk), *more], _stop_at(xosc, stop_s))


def _write(
    xosc, folder: Path, xodr: str, entities: dict, init, events: list, stop, params=None, minor=3, act_stop=None
) -> Path:  # type: ignore[no-untyped-def]
    """A scenario with one story: ``events`` are (actor or None, Event) in one maneuver group each."""
    shutil.copy(SHARED / "xodr" / xodr, folder.parent / xodr)
    ents = xosc.Entities()
    for name, obj in entities.items():
        ents.add_scenario_object(name, obj)
    act = xosc.Act("act", _time(xosc, 0, xosc.Rule.greaterThan), act_stop)
    for k, (actor, ev) in enumerate(events):
        man = xosc.Maneuver(f"m{k}")
        man.add_event(ev)
        mg = xosc.ManeuverGroup(f"mg{k}")
        if actor:
            mg.add_actor(actor)
        mg.add_maneuver(man)
        act.add_maneuver_group(mg)
    story = xosc.Story("story")
    story.add_act(act)
    sb = xosc.StoryBoard(init, stop)
    sb.add_story(story)
    sce = xosc.Scenario(
        "t",
        "simcore tests",
        params or xosc.ParameterDeclarations(),
        ents,
        sb,
        xosc.RoadNetwork(f"../{xodr}"),
        xosc.Catalog(),
        osc_minor_version=minor,
    )
    path = folder / "s.xosc"
    sce.write_xml(str(path))
    return path


@needs_shared
def test_cut_in_then_brake_on_the_lane_change_end(tmp_path: Path) -> None:
    """Cut-in at t = 2 s (lane change over 3 s), brake when it has ended (StoryboardElementState
    completeState): 2 + 3 = 5 s; braking 20 -> 10 m/s at 2 m/s^2 takes 5 s; the stop trigger waits for
    the brake event's end: 10 s."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    step = xosc.TransitionDynamics(xosc.DynamicsShapes.step, xosc.DynamicsDimension.time, 0)
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(50, 0, -3, 0)))
    init.add_init_action("Ego", xosc.AbsoluteSpeedAction(15, step))
    init.add_init_action("Cutter", xosc.TeleportAction(xosc.LanePosition(80, 0, -2, 0)))
    init.add_init_action("Cutter", xosc.AbsoluteSpeedAction(20, step))
    cut = xosc.Event("CutIn", xosc.Priority.override)
    lc = xosc.TransitionDynamics(xosc.DynamicsShapes.sinusoidal, xosc.DynamicsDimension.time, 3)
    cut.add_action("lc", xosc.RelativeLaneChangeAction(0, "Ego", lc))
    cut.add_trigger(_time(xosc, 2.0))
    brake = xosc.Event("Brake", xosc.Priority.override)
    ramp = xosc.TransitionDynamics(xosc.DynamicsShapes.linear, xosc.DynamicsDimension.rate, -2)
    brake.add_action("b", xosc.AbsoluteSpeedAction(10, ramp))
    brake.add_trigger(
        xosc.ValueTrigger(
            "after",
            0,
            xosc.ConditionEdge.rising,
            xosc.StoryboardElementStateCondition(
                xosc.StoryboardElementType.event, "CutIn", xosc.StoryboardElementState.completeState
            ),
        )
    )
    stop = xosc.ValueTrigger(
        "stop",
        0,
        xosc.ConditionEdge.rising,
        xosc.StoryboardElementStateCondition(
            xosc.StoryboardElementType.event, "Brake", xosc.StoryboardElementState.endTransition
        ),
        "stop",
    )
    path = _write(
        xosc,
        tmp_path / "xosc",
        "e6mini.xodr",
        {"Ego": _car(xosc), "Cutter": _car(xosc)},
        init,
        [("Cutter", cut), ("Cutter", brake)],
        stop,
    )
    sim = simulation(path, load_agent("idle"))
    res = sim.run()
    fired = [round(e.time, 2) for e in res.events if e.kind == EventKind.STORYBOARD and "time 0 s" not in e.detail]
    assert fired == [2.0, 5.0, 10.0]
    assert res.termination == "end_condition"
    cutter = sim.world.actor_ids.index("Cutter")
    assert float(sim.world.state.speed[cutter]) == pytest.approx(10.0, abs=1e-6)


@needs_shared
def test_signal_state_action_and_condition(tmp_path: Path) -> None:
    """A TrafficSignalStateAction (esmini's lamp list red;yellow;green) forces signal 1, green by the
    map's default plan, to red at t = 2 s; a TrafficSignalCondition on red sees it from the next check:
    2.05 s."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    step = xosc.TransitionDynamics(xosc.DynamicsShapes.step, xosc.DynamicsDimension.time, 0)
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(20, 0, 1, 0)))
    init.add_init_action("Ego", xosc.AbsoluteSpeedAction(0, step))
    init.add_init_action("Car", xosc.TeleportAction(xosc.LanePosition(10, 0, 1, 0)))
    green = xosc.Event("Red", xosc.Priority.override)
    green.add_action("g", xosc.TrafficSignalStateAction("1", "on;off;off"))
    green.add_trigger(_time(xosc, 2.0))
    go = xosc.Event("Go", xosc.Priority.override)
    go.add_action("v", xosc.AbsoluteSpeedAction(5, step))
    go.add_trigger(
        xosc.ValueTrigger("sig", 0, xosc.ConditionEdge.rising, xosc.TrafficSignalCondition("1", "on;off;off"))
    )
    stop = _stop_at(xosc, 4)
    path = _write(
        xosc,
        tmp_path / "xosc",
        "fabriksgatan_traffic_lights.xodr",
        {"Ego": _car(xosc), "Car": _car(xosc)},
        init,
        [(None, green), ("Car", go)],
        stop,
    )
    sim = simulation(path, load_agent("idle"))
    res = sim.run()
    fired = [(round(e.time, 2), e.detail.split(" -> ", 1)[1]) for e in res.events if e.kind == EventKind.STORYBOARD]
    group = sim.world.network.signal_group_of["1"]  # the road layer groups lights by junction approach
    assert fired[:2] == [(2.0, f"signal {group} red"), (2.05, "speed Car -> 5 m/s step")]


@needs_shared
def test_pedestrian_crossing_at_hand_computed_times(tmp_path: Path) -> None:
    """A pedestrian on the shoulder, headed across the road, starts at t = 1 s towards 1.5 m/s (its
    SpeedAction; our walkers accelerate at PEDESTRIAN_PARAMS.max_accel, a): at t = 3 s it has crossed
    v (3 - 1) - v^2 / (2 a) sideways (to one step)."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation
    from simcore.dynamics.params import PEDESTRIAN_PARAMS

    (tmp_path / "xosc").mkdir()
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(10, 0, -1, 1)))
    init.add_init_action(
        "Walker",
        xosc.TeleportAction(
            xosc.LanePosition(150, 0, -2, 1, xosc.Orientation(h=1.5708, reference=xosc.ReferenceContext.relative))
        ),
    )
    path = _walker_file(xosc, tmp_path / "xosc", init, 3)
    sim = simulation(path, load_agent("idle"))
    w = sim.world.actor_ids.index("Walker")
    y0 = float(sim.world.state.y[w])
    res = sim.run()
    assert res.termination == "end_condition"
    a = PEDESTRIAN_PARAMS.max_accel
    assert abs(float(sim.world.state.y[w]) - y0) == pytest.approx(1.5 * 2.0 - 1.5**2 / (2 * a), abs=1.5 * 0.05)


def test_coverage_page_is_current() -> None:
    from simcore.scenario.openscenario import coverage

    page = (Path(__file__).resolve().parents[2] / "docs" / "openscenario-coverage.md").read_text(encoding="utf-8")
    assert coverage.render(page) == page, (
        "run: python -m simcore.scenario.openscenario.coverage docs/openscenario-coverage.md"
    )
    c = coverage.counts()
    assert sum(c.values()) == len(coverage.FIRST_VERSION) and c["supported"] > 0


def test_unknown_element_is_a_located_error(tmp_path: Path) -> None:
    from simcore.scenario.loader import load_scenario

    (tmp_path / "xosc").mkdir()
    shutil.copy(XODR, tmp_path / "map.xodr")
    text = (
        '<OpenSCENARIO>\n<FileHeader revMajor="1" revMinor="1" date="d" description="d" author="a"/>\n'
        '<RoadNetwork><LogicFile filepath="../map.xodr"/></RoadNetwork>\n<Entities/>\n'
        "<Storyboard><Init><Actions/></Init>\n  <TeleportActon/>\n</Storyboard>\n</OpenSCENARIO>\n"
    )
    (tmp_path / "xosc" / "u.xosc").write_text(text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "xosc" / "u.xosc")
    assert "u.xosc:6:3: OpenSCENARIO/Storyboard/TeleportActon: unknown element <TeleportActon>" in str(exc.value)
    assert "did you mean 'TeleportAction'" in str(exc.value)


_KEEP_YAML = """
simcore: 1
name: keep
map: {file: map.xodr}
ego: {start: {lane: "1:0:-1", s: 0, speed: 0}, route: {to: "1:0:-1"}}
actors:
  - {id: a, start: {lane: "1:0:-1", s: 100, speed: 10}, route: {to: "1:0:-1"},
     behavior: {idm: {desired_speed_kph: 36}}}
  - {id: b, start: {lane: "1:0:-1", s: 50, speed: 10}, route: {to: "1:0:-1"},
     behavior: {idm: {desired_speed_kph: 36}}}
end: {timeout_s: 30, ego_reaches_goal: false}
storyboard:
  - name: keep
    when: {time_s: 1}
    do: {keep_distance: {actor: b, to: a, distance_m: 30, max_accel: 2, max_decel: 3, continuous: false}}
  - when: {done: keep}
    do: {weather: {rain_mm_h: 1}}
"""


@needs_shared
def test_keep_distance_converges_and_reports_done(tmp_path: Path) -> None:
    """b, 50 m behind a (both about 10 m/s), keeps 30 m: its first scripted step accelerates at the
    limit (+ 2 x 0.05 m/s); the gap error then decays (speed = a's + error / 1 s) to 30 m, when the
    action is done (error < 0.5 m, speeds within 0.2 m/s)."""
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    shutil.copy(XODR, tmp_path / "map.xodr")
    (tmp_path / "s.yaml").write_text(_KEEP_YAML)
    sim = simulation(tmp_path / "s.yaml", load_agent("idle"))
    a, b = (sim.world.actor_ids.index(n) for n in ("a", "b"))
    while sim.t < 1.0 - 1e-9:
        sim.step()
    v_fired = float(sim.world.state.speed[b])  # the action starts at this check (t = 1.0 s)
    sim.step()
    assert float(sim.world.state.speed[b]) == pytest.approx(v_fired + 2.0 * 0.05, abs=1e-6)
    res = sim.run()
    done = [e.time for e in res.events if e.kind == EventKind.STORYBOARD and "done keep" in e.detail]
    assert len(done) == 1 and done[0] < 30.0
    gap = float(sim.world.state.x[a] - sim.world.state.x[b])
    assert abs(gap) == pytest.approx(30.0, abs=0.5)
    assert float(sim.world.state.speed[b]) == pytest.approx(10.0, abs=0.2)


@needs_shared
def test_ego_choice(tmp_path: Path) -> None:
    from simcore.scenario.loader import load_scenario
    from simcore.scenario.openscenario import xosc_options

    f = SHARED / "xosc" / "cut-in.xosc"
    default = load_scenario(f).spec
    assert default.ego is not None and default.ego.start.lane == "0:0:-3"  # the entity named Ego
    with xosc_options(ego="OverTaker"):
        other = load_scenario(f).spec
    assert other.ego is not None and other.ego.start.lane == "0:0:-2"
    assert [a.id for a in other.actors] == ["Ego"]
    with xosc_options(ego="Nobody"), pytest.raises(ScenarioError, match="--ego 'Nobody' is not a vehicle"):
        load_scenario(f)


def test_sinusoidal_speed_profile_against_closed_form() -> None:
    """v(t) = v0 + (v1 - v0)(1 - cos(pi u)) / 2: halfway at u = 1/2, a quarter at u = 1/3; the distance
    over the ramp is its integral (v0 + v1) T / 2, summed over 0.05 s steps."""
    from simcore.scenario.storyboard import _Profile

    p = _Profile(1.0, 10.0, 20.0, "sinusoidal", 2.0, False)
    assert p.speed(2.0) == pytest.approx(15.0)
    assert p.speed(1.0 + 2.0 / 3.0) == pytest.approx(12.5)
    steps = sum(p.distance(1.0 + k * 0.05, 1.05 + k * 0.05) for k in range(40))
    assert steps == pytest.approx(30.0, abs=1e-9)


# ----------------------------------------------------------------------------- wave 2: edges, durations, final
# speeds, jerk limits, pedestrian paths


def _noop(xosc, name: str, v: float, trig, priority=None):  # type: ignore[no-untyped-def]
    """An event whose action is a speed step to ``v`` (the actor's speed already): only its firing time counts."""
    ev = xosc.Event(name, priority or xosc.Priority.override)
    ev.add_action(name, xosc.AbsoluteSpeedAction(v, xosc.TransitionDynamics(xosc.DynamicsShapes.step, "time", 0)))
    ev.add_trigger(trig)
    return ev


def _entry_times(sim, path: Path) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    """Storyboard entry name -> the time its action was applied (None: never)."""
    from simcore.scenario.loader import load_scenario

    names = [e.name for e in load_scenario(path).spec.storyboard]
    return {
        n: (None if math.isinf(t) else round(t, 6)) for n, t in zip(names, sim.story_applied(), strict=False)
    }  # the end condition last


def _edges_file(folder: Path) -> Path:
    """Slow (10 m/s) brakes from t = 1 s at 2 m/s^2 to a standstill; other cars' no-op events fire on edges
    and standstills of Slow's speed (see the test)."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(10, 0, -1, 1)))
    speeds = {"Slow": (300, 10.0), "A": (100, 10.0), "B": (60, 10.0), "C": (20, 10.0)}
    for name, (s, v) in speeds.items():
        init.add_init_action(name, xosc.TeleportAction(xosc.LanePosition(s, 0, -1 if name == "Slow" else 1, 1)))
        init.add_init_action(name, xosc.AbsoluteSpeedAction(v, xosc.TransitionDynamics("step", "time", 0)))
    brake = xosc.Event("Brake", xosc.Priority.override)
    brake.add_action("brake", xosc.AbsoluteSpeedAction(0.0, xosc.TransitionDynamics("linear", "rate", 2.0)))
    brake.add_trigger(_time(xosc, 1.0))

    def on_slow(edge, cond):  # type: ignore[no-untyped-def]
        return xosc.EntityTrigger("c", 0, edge, cond, "Slow")

    lt, gt = xosc.Rule.lessThan, xosc.Rule.greaterThan
    events = [
        ("Slow", brake),
        ("A", _noop(xosc, "rise", 10.0, on_slow(xosc.ConditionEdge.rising, xosc.SpeedCondition(5.05, lt)))),
        ("A", _noop(xosc, "fall", 10.0, on_slow(xosc.ConditionEdge.falling, xosc.SpeedCondition(5.05, gt)))),
        ("B", _noop(xosc, "never", 10.0, on_slow(xosc.ConditionEdge.rising, xosc.SpeedCondition(11.0, lt)))),
        ("B", _noop(xosc, "level", 10.0, on_slow(xosc.ConditionEdge.none, xosc.SpeedCondition(11.0, lt)))),
        ("C", _noop(xosc, "still1", 10.0, on_slow(xosc.ConditionEdge.none, xosc.StandStillCondition(1.0)))),
        ("C", _noop(xosc, "still3", 10.0, on_slow(xosc.ConditionEdge.none, xosc.StandStillCondition(3.0)))),
    ]
    stop = _stop_at(xosc, 8)
    ents = {"Ego": _car(xosc), **{n: _car(xosc) for n in speeds}}
    return _write(xosc, folder, "straight_500m.xodr", ents, init, events, stop)


@needs_shared
def test_condition_edges_and_standstill_duration(tmp_path: Path) -> None:
    """Slow: v(t) = 10 - 2 (t - 1) from t = 1 s, 0 from t = 6 s. Its speed goes below 5.05 m/s at the first
    step after t = 3.475 s: the rising edge of v < 5.05 and the falling edge of v > 5.05 both fire at
    3.5 s. v < 11 holds from the first check: as a level it fires at once (t = 0), as a rising edge never
    (OpenSCENARIO 1.2 section 7.5.2: an edge needs the previous value false). Standing still for 1 s:
    6 + 1 = 7 s; for 3 s: 9 s, after the 8 s end, so never."""
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    path = _edges_file(tmp_path / "xosc")
    sim = simulation(path, load_agent("idle"))
    assert sim.run().termination == "end_condition"
    times = _entry_times(sim, path)
    assert times["rise"] == pytest.approx(3.5) and times["fall"] == pytest.approx(3.5)
    assert times["never"] is None
    assert times["level"] == pytest.approx(0.0, abs=0.05 + 1e-9)
    assert times["still1"] == pytest.approx(7.0)
    assert times["still3"] is None


def _cars_init(xosc, cars: dict[str, float], speed: float = 10.0):  # type: ignore[no-untyped-def]
    """Init: Ego parked on the oncoming lane (lane 1, s = 5 m); each car at s (m) on lane -1 at ``speed``."""
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(5, 0, 1, 1)))
    for name, s in cars.items():
        init.add_init_action(name, xosc.TeleportAction(xosc.LanePosition(s, 0, -1, 1)))
        init.add_init_action(name, xosc.AbsoluteSpeedAction(speed, xosc.TransitionDynamics("step", "time", 0)))
    return init


def _sync_file(folder: Path) -> Path:
    """Car (0 m/s-> scripted) at s = 0 and master M at s = 50, both 10 m/s on lane -1; Car synchronises to
    reach s = 200 when M reaches s = 250 (t = 20 s), with final speed 5 m/s; tolerance 0.05 m."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    init = _cars_init(xosc, {"Car": 0, "M": 50})
    sync = xosc.Event("Sync", xosc.Priority.override)
    sync.add_action(
        "sync",
        xosc.SynchronizeAction(
            "M",
            xosc.LanePosition(250, 0, -1, 1),
            xosc.LanePosition(200, 0, -1, 1),
            target_tolerance_master=0.05,
            target_tolerance=0.05,
            final_speed=xosc.AbsoluteSpeed(5.0),
        ),
    )
    sync.add_trigger(_time(xosc, 0, xosc.Rule.greaterThan))
    stop = _stop_at(xosc, 22)
    return _write(
        xosc,
        folder,
        "straight_500m.xodr",
        {"Ego": _car(xosc), "Car": _car(xosc), "M": _car(xosc)},
        init,
        [("Car", sync)],
        stop,
    )


@needs_shared
def test_synchronize_reaches_the_final_speed_gradually(tmp_path: Path) -> None:
    """The approach is the quadratic speed profile v(u) = 10 + (5 - 10) u / T + c u (T - u) over T = 20 s
    that covers 200 m: c = 6 (200 - 7.5 x 20) / 20^3 = 0.0375 m/s^3. Hand values: v(10 s) = 11.25 m/s;
    at the arrival (t = 20 s, to one step) v = 5 m/s with no jump (the last step changes v by about
    v'(T) dt = (-0.25 - 0.75) x 0.05 m/s)."""
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    path = _sync_file(tmp_path / "xosc")
    sim = simulation(path, load_agent("idle"))
    car = sim.world.actor_ids.index("Car")
    v: dict[float, float] = {}
    while sim.t < 21.0 - 1e-9:
        sim.step()
        v[round(sim.t, 2)] = float(sim.world.state.speed[car])
    assert v[10.0] == pytest.approx(11.25, abs=0.05)
    from simcore.runner import story_kernels as sk

    assert sim.story_compiled and sim.state.story_done[0, 0]  # the synchronisation runs in the compiled step
    assert sim.state.prof[0, car, sk.P_ARRIVED] == 5.0
    arrival = next(t for t in sorted(v) if t > 15 and v[t] == 5.0)
    assert arrival == pytest.approx(20.0, abs=0.05 + 1e-9)
    before = v[round(arrival - 0.05, 2)]
    assert abs(before - 5.0) < 0.1  # reached gradually: no jump at the arrival


@needs_shared
def test_jerk_limited_distance_keeping(tmp_path: Path) -> None:
    """LongitudinalDistanceAction with maxAcceleration 2 m/s^2 and maxAccelerationRate 4 m/s^3: the
    follower (50 m behind, wants 30 m) raises its acceleration by 4 x 0.05 = 0.2 m/s^2 a step, from its
    acceleration when the action starts, until it reaches 2 m/s^2 (then stays at or below it)."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    init = _cars_init(xosc, {"B": 100, "A": 150})
    keep = xosc.Event("Keep", xosc.Priority.override)
    keep.add_action(
        "keep",
        xosc.LongitudinalDistanceAction(
            "A", freespace=False, continuous=True, max_acceleration=2.0, max_deceleration=3.0, distance=30.0,
            max_acceleration_rate=4.0, max_deceleration_rate=4.0,
        ),
    )  # fmt: skip
    keep.add_trigger(_time(xosc, 1.0))
    stop = _stop_at(xosc, 3)
    path = _write(
        xosc,
        tmp_path / "xosc",
        "straight_500m.xodr",
        {"Ego": _car(xosc), "A": _car(xosc), "B": _car(xosc)},
        init,
        [("B", keep)],
        stop,
    )
    sim = simulation(path, load_agent("idle"))
    b = sim.world.actor_ids.index("B")
    while sim.t < 1.0 - 1e-9:
        sim.step()
    a0 = float(sim.world.state.accel[b])  # the acceleration when the action starts (this check)
    acc = []
    for _ in range(20):
        sim.step()
        acc.append(float(sim.world.state.accel[b]))
    k_full = next(k for k, a in enumerate(acc) if a >= 2.0 - 1e-9)
    assert k_full == math.ceil((2.0 - a0) / 0.2 - 1e-9) - 1
    for k in range(k_full):
        assert acc[k] == pytest.approx(a0 + 0.2 * (k + 1), abs=1e-9)
    assert max(acc) <= 2.0 + 1e-9


@needs_shared
def test_pedestrian_placed_and_walked_by_its_trajectory(tmp_path: Path) -> None:
    """A pedestrian placed only by an Init FollowTrajectoryAction (polyline: 4 m across the road, then
    10 m along it) stands at the first vertex; from t = 1 s it walks at 1.5 m/s (accelerating at
    PEDESTRIAN_PARAMS.max_accel, a): at t = 5 s it has walked d = 1.5 x 4 - 1.5^2 / (2 a) along the
    polyline (past the corner: d - 4 m along the second leg)."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation
    from simcore.dynamics.params import PEDESTRIAN_PARAMS

    (tmp_path / "xosc").mkdir()
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(10, 0, -1, 1)))
    corner = (150.0, 2.0)
    verts = [xosc.WorldPosition(150, -2, 0, 0), xosc.WorldPosition(*corner, 0, 0), xosc.WorldPosition(160, 2, 0, 0)]
    traj = xosc.Trajectory("t", False)
    traj.add_shape(xosc.Polyline([], verts))
    init.add_init_action("Walker", xosc.FollowTrajectoryAction(traj, xosc.FollowingMode.position))
    path = _walker_file(xosc, tmp_path / "xosc", init, 5)
    sim = simulation(path, load_agent("idle"))
    w = sim.world.actor_ids.index("Walker")
    assert (float(sim.world.state.x[w]), float(sim.world.state.y[w])) == pytest.approx((150.0, -2.0), abs=1e-6)
    assert sim.run().termination == "end_condition"
    d = 1.5 * 4.0 - 1.5**2 / (2 * PEDESTRIAN_PARAMS.max_accel)
    assert d > 4.0
    assert float(sim.world.state.x[w]) == pytest.approx(corner[0] + d - 4.0, abs=1.5 * 0.05 + 0.05)
    assert float(sim.world.state.y[w]) == pytest.approx(corner[1], abs=0.05)


@needs_shared
def test_entity_actions_add_and_delete(tmp_path: Path) -> None:
    """Late, which Init does not place, is absent until its AddEntityAction at t = 2 s puts it at lane -1,
    s = 200 (x = 200 m on this straight road); Gone is removed by a DeleteEntityAction at t = 3 s."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(10, 0, -1, 1)))
    init.add_init_action("Gone", xosc.TeleportAction(xosc.LanePosition(100, 0, -1, 1)))
    add = xosc.Event("Add", xosc.Priority.override)
    add.add_action("add", xosc.AddEntityAction("Late", xosc.LanePosition(200, 0, -1, 1)))
    add.add_trigger(_time(xosc, 2.0))
    delete = xosc.Event("Delete", xosc.Priority.override)
    delete.add_action("delete", xosc.DeleteEntityAction("Gone"))
    delete.add_trigger(_time(xosc, 3.0))
    stop = _stop_at(xosc, 4)
    ents = {"Ego": _car(xosc), "Gone": _car(xosc), "Late": _car(xosc)}
    path = _write(xosc, tmp_path / "xosc", "straight_500m.xodr", ents, init, [(None, add), (None, delete)], stop)
    sim = simulation(path, load_agent("idle"))
    late, gone = (sim.world.actor_ids.index(n) for n in ("Late", "Gone"))
    seen: dict[float, tuple[bool, bool]] = {}
    while sim.t < 4.0 - 1e-9:
        sim.step()
        st = sim.world.state
        seen[round(sim.t, 2)] = (bool(st.active[late]), bool(st.active[gone]))
        if round(sim.t, 2) == 2.0:
            assert float(st.x[late]) == pytest.approx(200.0, abs=0.01)
    assert seen[1.95] == (False, True) and seen[2.0] == (True, True)
    assert seen[2.95] == (True, True) and seen[3.0] == (True, False)


@needs_shared
def test_parameter_set_and_modify_drive_parameter_conditions(tmp_path: Path) -> None:
    """Go = 0 is set to 1 at t = 1.5 s; Cnt = 1 gets + 2 at t = 2.5 s (OpenSCENARIO 1.1 ParameterAction).
    Go == 1 then holds from 1.5 s, Cnt > 2 from 2.5 s (each to one step: the condition may be checked
    before the action in that step), Cnt > 5 never."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    params = xosc.ParameterDeclarations()
    params.add_parameter(xosc.Parameter("Go", xosc.ParameterType.integer, "0"))
    params.add_parameter(xosc.Parameter("Cnt", xosc.ParameterType.double, "1"))
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(10, 0, -1, 1)))
    init.add_init_action("A", xosc.TeleportAction(xosc.LanePosition(100, 0, -1, 1)))
    init.add_init_action("A", xosc.AbsoluteSpeedAction(10.0, xosc.TransitionDynamics("step", "time", 0)))
    set_go = xosc.Event("SetGo", xosc.Priority.overwrite)
    set_go.add_action("set", xosc.ParameterSetAction("Go", 1))
    set_go.add_trigger(_time(xosc, 1.5))
    add = xosc.Event("AddCnt", xosc.Priority.overwrite)
    add.add_action("add", xosc.ParameterAddAction("Cnt", 2))
    add.add_trigger(_time(xosc, 2.5))

    def on(name: str, value: float, rule):  # type: ignore[no-untyped-def]
        return xosc.ValueTrigger("p", 0, xosc.ConditionEdge.none, xosc.ParameterCondition(name, value, rule))

    ow = xosc.Priority.overwrite
    events = [
        ("A", _noop(xosc, "go", 10.0, on("Go", 1, xosc.Rule.equalTo), ow)),
        ("A", _noop(xosc, "cnt2", 10.0, on("Cnt", 2, xosc.Rule.greaterThan), ow)),
        ("A", _noop(xosc, "cnt5", 10.0, on("Cnt", 5, xosc.Rule.greaterThan), ow)),
        (None, set_go),
        (None, add),
    ]
    stop = _stop_at(xosc, 4)
    ents = {"Ego": _car(xosc), "A": _car(xosc)}
    path = _write(xosc, tmp_path / "xosc", "straight_500m.xodr", ents, init, events, stop, params, minor=1)
    sim = simulation(path, load_agent("idle"))
    assert sim.run().termination == "end_condition"
    times = _entry_times(sim, path)
    assert 1.5 <= times["go"] <= 1.55 + 1e-9
    assert 2.5 <= times["cnt2"] <= 2.55 + 1e-9
    assert times["cnt5"] is None


@needs_shared
def test_vehicle_clothoid_trajectory(tmp_path: Path) -> None:
    """Car (10 m/s) follows a clothoid of curvature 0.01 1/m and length 15 m from where it is at t = 1 s
    (RelativeObjectPosition of itself): the trajectory is complete (StoryboardElementState) when it
    has driven 15 m, 1 + 15 / 10 = 2.5 s (to one step); it then drives on parallel to its lane, offset by
    the arc's end: R (1 - cos(L / R)) = 100 (1 - cos 0.15) = 1.123 m to the left."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    init = _cars_init(xosc, {"Car": 50})
    traj = xosc.Trajectory("arc", False)
    start = xosc.RelativeObjectPosition("Car", 0, 0, orientation=xosc.Orientation(h=0, reference="relative"))
    traj.add_shape(xosc.Clothoid(0.01, 0.0, 15.0, start))
    follow = xosc.Event("Follow", xosc.Priority.override)
    follow.add_action("follow", xosc.FollowTrajectoryAction(traj, xosc.FollowingMode.position))
    follow.add_trigger(_time(xosc, 1.0))
    after = _on_complete(xosc, "Follow")
    stop = _stop_at(xosc, 8)
    ents = {"Ego": _car(xosc), "Car": _car(xosc)}
    events = [("Car", follow), ("Car", _noop(xosc, "after", 10.0, after))]
    path = _write(xosc, tmp_path / "xosc", "straight_500m.xodr", ents, init, events, stop)
    sim = simulation(path, load_agent("idle"))
    car = sim.world.actor_ids.index("Car")
    y0 = float(sim.world.state.y[car])
    assert sim.run().termination == "end_condition"
    times = _entry_times(sim, path)
    assert times["Follow"] == pytest.approx(1.0) and times["after"] == pytest.approx(2.5, abs=0.05 + 1e-9)
    assert float(sim.world.state.y[car]) - y0 == pytest.approx(100 * (1 - math.cos(0.15)), abs=0.1)


@needs_shared
def test_closed_vehicle_trajectories(tmp_path: Path) -> None:
    """A closed polyline (OpenSCENARIO Trajectory closed="true") goes back to its first vertex: our
    follow_path gets it once more at the end (one lap); a closed clothoid does not close, so the file is
    refused with the clothoid's line (a partial run leaves it out)."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.scenario.openscenario import load_openscenario_doc

    (tmp_path / "xosc").mkdir()
    init = _cars_init(xosc, {"Car": 50})
    square = [(60, -1), (80, -1), (80, 5), (60, 5)]
    shapes = {
        "poly": xosc.Polyline([], [xosc.WorldPosition(x, y, 0, 0) for x, y in square]),
        "arc": xosc.Clothoid(0.01, 0.0, 15.0, xosc.WorldPosition(60, -1, 0, 0)),
    }
    for name, shape in shapes.items():
        traj = xosc.Trajectory(name, True)
        traj.add_shape(shape)
        follow = xosc.Event("Follow", xosc.Priority.override)
        follow.add_action("follow", xosc.FollowTrajectoryAction(traj, xosc.FollowingMode.follow))
        follow.add_trigger(_time(xosc, 1.0))
        ents = {"Ego": _car(xosc), "Car": _car(xosc)}
        path = _write(xosc, tmp_path / "xosc", "straight_500m.xodr", ents, init, [("Car", follow)], _stop_at(xosc, 3))
        if name == "poly":
            doc, ignored = load_openscenario_doc(path)
            (spec,) = [e["do"]["follow_path"] for e in doc.data["storyboard"] if "follow_path" in e["do"]]
            assert not ignored and spec["points"] == [[float(x), float(y)] for x, y in [*square, square[0]]]
        else:
            with pytest.raises(ScenarioError, match="closed clothoid") as exc:
                load_openscenario_doc(path)
            line = next(k for k, t in enumerate(Path(path).read_text().splitlines(), 1) if "<Clothoid" in t)
            assert f":{line}:" in str(exc.value)


@needs_shared
@pytest.mark.parametrize("builder", ["_edges_file", "_sync_file"])
def test_converted_yaml_of_the_new_kinds_runs_the_same(builder: str, tmp_path: Path) -> None:
    """Edges, held conditions and the gradual final speed survive ``convert``: the same result.json."""
    (tmp_path / "xosc").mkdir()
    text = _converted_runs_the_same(globals()[builder](tmp_path / "xosc"), tmp_path, "idle")
    assert ("edge:" in text and "held:" in text) if builder == "_edges_file" else "gradual: true" in text


@needs_shared
def test_start_offset_and_lane_offset_action(tmp_path: Path) -> None:
    """Car starts 1 m left of its lane centre (LanePosition offset 1) and keeps that offset; at t = 1 s a
    LaneOffsetAction to -0.5 m with maxLateralAcc 0.5 m/s^2 moves it d = 1.5 m right over
    T = sqrt(6 d / a) = sqrt(18) = 4.243 s (the smoothstep's peak lateral acceleration is 6 d / T^2): the
    action is complete at the first step at or after 1 + 4.243 s, 5.25 s; the car then runs 0.5 m right
    of the centre."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    init = _cars_init(xosc, {"Ref": 10})  # Ref: on lane -1's centre line
    init.add_init_action("Car", xosc.TeleportAction(xosc.LanePosition(50, 1.0, -1, 1)))
    init.add_init_action("Car", xosc.AbsoluteSpeedAction(10.0, xosc.TransitionDynamics("step", "time", 0)))
    shift = xosc.Event("Shift", xosc.Priority.override)
    shift.add_action("shift", xosc.AbsoluteLaneOffsetAction(-0.5, xosc.DynamicsShapes.cubic, 0.5, False))
    shift.add_trigger(_time(xosc, 1.0))
    done = _on_complete(xosc, "Shift")
    ents = {"Ego": _car(xosc), "Ref": _car(xosc), "Car": _car(xosc)}
    events = [("Car", shift), ("Car", _noop(xosc, "after", 10.0, done))]
    path = _write(xosc, tmp_path / "xosc", "straight_500m.xodr", ents, init, events, _stop_at(xosc, 10))
    sim = simulation(path, load_agent("idle"))
    car = sim.world.actor_ids.index("Car")
    lane_y = float(sim.world.state.y[sim.world.actor_ids.index("Ref")])
    assert float(sim.world.state.y[car]) == pytest.approx(lane_y + 1.0, abs=0.05)
    for _ in range(19):
        sim.step()
    assert float(sim.world.state.y[car]) == pytest.approx(lane_y + 1.0, abs=0.05)  # kept until the action
    assert sim.run().termination == "end_condition"
    assert _entry_times(sim, path)["after"] == pytest.approx(5.25)
    assert float(sim.world.state.y[car]) == pytest.approx(lane_y - 0.5, abs=0.1)


@needs_shared
def test_follow_mode_speed_profile_respects_jerk_limits(tmp_path: Path) -> None:
    """SpeedProfileAction followingMode follow, 0 -> 10 m/s in 4 s then -> 4 m/s in 4 s, under maxAcceleration
    5, maxDeceleration 10, maxAccelerationRate 4 and maxDecelerationRate 3: the acceleration changes by
    at most 4 x 0.05 = 0.2 m/s^2 a step upwards and 3 x 0.05 = 0.15 downwards, stays within [-10, 5]; far
    below the reference it rises at the limit from standstill (a_k = a_0 + 0.2 k for the first steps); the
    action completes once the profile has ended (t >= 1 + 8 s) and the speed has settled on 4 m/s."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    init = _cars_init(xosc, {"Car": 50}, speed=0.0)
    prof = xosc.Event("Profile", xosc.Priority.override)
    limits = xosc.DynamicsConstraints(5.0, 10.0, 50.0, 4.0, 3.0)
    prof.add_action("profile", xosc.SpeedProfileAction([10.0, 4.0], xosc.FollowingMode.follow, [4.0, 4.0], limits))
    prof.add_trigger(_time(xosc, 1.0))
    done = _on_complete(xosc, "Profile")
    events = [("Car", prof), ("Ego", _noop(xosc, "after", 0.0, done))]  # the ego stands: a no-op
    path = _write(
        xosc,
        tmp_path / "xosc",
        "straight_500m.xodr",
        {"Ego": _car(xosc), "Car": _car(xosc)},
        init,
        events,
        _stop_at(xosc, 16),
    )
    sim = simulation(path, load_agent("idle"))
    car = sim.world.actor_ids.index("Car")
    while sim.t < 1.0 - 1e-9:
        sim.step()
    a0 = float(sim.world.state.accel[car])  # when the action starts (this check)
    acc = []
    while sim.t < 12.0 - 1e-9:
        sim.step()
        acc.append(float(sim.world.state.accel[car]))
    assert acc[:5] == pytest.approx([a0 + 0.2 * k for k in range(1, 6)], abs=1e-9)
    steps = np.diff([a0, *acc])
    assert steps.max() <= 0.2 + 1e-9 and steps.min() >= -0.15 - 1e-9
    assert max(acc) <= 5.0 + 1e-9 and min(acc) >= -10.0 - 1e-9
    assert sim.run().termination == "end_condition"
    t_done = _entry_times(sim, path)["after"]
    assert t_done is not None and t_done >= 9.0
    assert float(sim.world.state.speed[car]) == pytest.approx(4.0, abs=0.01)


@needs_shared
def test_repeated_event_runs_again_after_it_ends(tmp_path: Path) -> None:
    """An event with maximumExecutionCount 3 (start trigger t >= 1 s) slows Car by 2 m/s relative to its own
    speed at 4 m/s^2 (0.5 s each): executions start at 1.0 s, then the step after the previous one ended:
    1.5 + 0.05 = 1.55 s and 2.05 + 0.05 = 2.1 s; the speed ends at 10 - 3 x 2 = 4 m/s."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    init = _cars_init(xosc, {"Car": 50})
    slow = xosc.Event("Slow", xosc.Priority.override, maxexecution=3)
    ramp = xosc.TransitionDynamics("linear", "rate", 4.0)
    slow.add_action("slow", xosc.RelativeSpeedAction(-2.0, "Car", ramp, continuous=False))
    slow.add_trigger(_time(xosc, 1.0))
    path = _write(
        xosc,
        tmp_path / "xosc",
        "straight_500m.xodr",
        {"Ego": _car(xosc), "Car": _car(xosc)},
        init,
        [("Car", slow)],
        _stop_at(xosc, 4),
    )
    sim = simulation(path, load_agent("idle"))
    assert sim.run().termination == "end_condition"
    times = _entry_times(sim, path)
    assert [times["Slow"], times["Slow_run2"], times["Slow_run3"]] == pytest.approx([1.0, 1.55, 2.1])
    assert float(sim.world.state.speed[sim.world.actor_ids.index("Car")]) == pytest.approx(4.0, abs=1e-6)


@needs_shared
def test_act_stop_trigger_keeps_later_events_from_starting(tmp_path: Path) -> None:
    """The act stops at t >= 2 s (its StopTrigger): its event due at 1 s runs, the one due at 3 s never."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    init = _cars_init(xosc, {"Car": 50})
    events = [
        ("Car", _noop(xosc, "early", 10.0, _time(xosc, 1.0))),
        ("Car", _noop(xosc, "late", 10.0, _time(xosc, 3.0))),
    ]
    act_stop = xosc.ValueTrigger(
        "actstop", 0, xosc.ConditionEdge.none, xosc.SimulationTimeCondition(2, xosc.Rule.greaterOrEqual), "stop"
    )
    ents = {"Ego": _car(xosc), "Car": _car(xosc)}
    path = _write(
        xosc, tmp_path / "xosc", "straight_500m.xodr", ents, init, events, _stop_at(xosc, 4), act_stop=act_stop
    )
    sim = simulation(path, load_agent("idle"))
    assert sim.run().termination == "end_condition"
    times = _entry_times(sim, path)
    assert times["early"] == pytest.approx(1.0) and times["late"] is None and times["act_stop"] == pytest.approx(2.0)


@needs_shared
def test_pedestrian_stops_and_walks_on(tmp_path: Path) -> None:
    """Walker (trajectory along the road) starts at 1 s towards 1.5 m/s (a = 1.5 m/s^2: 0.75 m in 1 s), a
    speed of 0 at 3 s stops it at its deceleration (d = 3 m/s^2: 1.5^2 / 6 = 0.375 m more), 1.5 m/s at
    5 s starts it again: 0.75 + 1.5 + 0.375 = 2.625 m walked at 5 s, 2.625 + 0.75 + 1.5 = 4.875 m at 7 s.
    Its TeleportAction to itself (a roll: falling over) changes nothing in the plane."""
    xosc = pytest.importorskip("scenariogeneration.xosc")
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    init = xosc.Init()
    init.add_init_action("Ego", xosc.TeleportAction(xosc.LanePosition(10, 0, -1, 1)))
    traj = xosc.Trajectory("t", False)
    traj.add_shape(xosc.Polyline([], [xosc.WorldPosition(150, -6, 0, 0), xosc.WorldPosition(180, -6, 0, 0)]))
    init.add_init_action("Walker", xosc.FollowTrajectoryAction(traj, xosc.FollowingMode.position))
    halt = _noop(xosc, "halt", 0.0, _time(xosc, 3.0))
    fall = xosc.TeleportAction(
        xosc.RelativeObjectPosition("Walker", 0, 0, orientation=xosc.Orientation(r=1.57, reference="relative"))
    )
    halt.add_action("fall", fall)
    again = _noop(xosc, "again", 1.5, _time(xosc, 5.0))
    path = _walker_file(xosc, tmp_path / "xosc", init, 7, (("Walker", halt), ("Walker", again)))
    sim = simulation(path, load_agent("idle"))
    w = sim.world.actor_ids.index("Walker")
    x: dict[float, float] = {}
    while sim.t < 7.0 - 1e-9:
        sim.step()
        x[round(sim.t, 2)] = float(sim.world.state.x[w]) - 150.0
    assert x[5.0] == pytest.approx(2.625, abs=1.5 * 0.05)
    assert x[4.0] == x[5.0]  # standing
    assert x[7.0] == pytest.approx(4.875, abs=1.5 * 0.05)


@needs_shared
@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("lane-change_clothoid_based_trajectory", ["follow_path:", "edge:"]),
        ("speed-profile", ["speed_follow:", "lateral_offset_m:"]),
        ("pedestrian_collision", ["halt:", "mark:", "path:"]),
    ],
)
def test_converted_esmini_files_with_the_new_kinds_run_the_same(name: str, kinds: list[str], tmp_path: Path) -> None:
    """Trajectories, follow-mode profiles, offsets, halts and marks survive ``convert`` (same result.json)."""
    text = _converted_runs_the_same(SHARED / "xosc" / f"{name}.xosc", tmp_path, "autopilot", tmp_path / f"{name}.yaml")
    assert all(k in text for k in kinds)


@needs_shared
def test_edges_and_held_survive_snapshot_and_restore(tmp_path: Path) -> None:
    """A run restored from a snapshot taken before the edges and the standstill fire repeats them at the
    same times (their memory is keyed by the storyboard, not by object identity)."""
    from simcore.agents.loading import load_agent
    from simcore.api import simulation

    (tmp_path / "xosc").mkdir()
    sim = simulation(_edges_file(tmp_path / "xosc"), load_agent("idle"))
    snaps = []
    for t in (3.45, 6.5):  # one step before the edges (3.5 s); inside the standstill (6.0 s + 1 s)
        while sim.t < t - 1e-9:
            sim.step()
        snaps.append(sim.snapshot())
    sim.run()
    first = sim.story_applied()
    assert 3.5 in [round(t, 6) for t in first] and 7.0 in [round(t, 6) for t in first]
    for snap in snaps:
        sim.restore(snap)
        sim.run()
        assert sim.story_applied() == first
