"""The scenario storyboard (``storyboard:``): triggers fire once, at the expected step."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simcore._types import SignalState
from simcore.api import simulation
from simcore.cli import main
from simcore.evaluation.events import EventKind
from simcore.scenario.build import route_sample

DT = 0.05

BASE = """\
simcore: 1
name: storyboard-test
seed: 1
map:
  generate: intersection
  lanes_per_direction: 2
  arm_length: 90
  signals: {green_s: 10, amber_s: 3, all_red_s: 2}
ego:
  vehicle: sedan
  start: {lane: south_in_2, s: 10, speed_kph: 20}
  route: {to: north_out_2}
actors:
  - id: lead
    vehicle: suv
    start: {lane: south_in_2, s: 55, speed: 0}
    route: {to: north_out_2}
  - id: walker
    type: pedestrian
    start: {crosswalk: north, side: west}
    behavior: {cross: {obey_signal: false}}
end: {timeout_s: 20}
"""


def _write(tmp_path: Path, story: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(BASE + ("storyboard:\n" + story if story else ""), encoding="utf-8")
    return path


def _story_events(events) -> list[tuple[float, str]]:
    return [(round(e.time, 9), e.detail) for e in events if e.kind == EventKind.STORYBOARD]


def _trace(path: Path, steps: int, probe) -> list:
    """probe(sim) after each of ``steps`` steps (step by step, Python agent loop)."""
    sim = simulation(path)
    out = []
    for _ in range(steps):
        sim.step()
        out.append(probe(sim))
    return out


def _first_step(values: list[bool]) -> int:
    """1-based index of the first step at which the condition held."""
    return next(k + 1 for k, v in enumerate(values) if v)


def test_time_trigger_sets_signal_red_at_exactly_t(tmp_path: Path) -> None:
    path = _write(tmp_path, "  - when: {time_s: 1.0}\n    do: {signal: {group: east, state: red}}\n")
    sim = simulation(path)
    g = sim.world.network.signal_names.index("east")
    for k in range(1, 30):
        out = sim.step()
        if k < 20:
            assert sim.state.sig_override[0, 0, g] == -1
            assert not _story_events(out.events)
        elif k == 20:
            assert math.isclose(sim.t, 1.0)
            assert sim.state.sig_override[0, 0, g] == SignalState.RED
            assert sim.sig_state[0, g] == SignalState.RED
            assert _story_events(out.events) == [(1.0, "time 1 s -> signal east red")]
        else:
            assert sim.sig_state[0, g] == SignalState.RED
            assert not _story_events(out.events)  # fires once


def test_signal_plan_returns_to_timing_and_signal_trigger(tmp_path: Path) -> None:
    story = (
        "  - when: {time_s: 0.5}\n    do: {signal: {group: south, state: amber}}\n"
        "  - when: {signal: {group: south, state: amber}}\n    do: {signal: {group: south, state: plan}}\n"
    )
    sim = simulation(_write(tmp_path, story))
    res = sim.run()
    assert _story_events(res.events) == [
        (0.5, "time 0.5 s -> signal south amber"),
        (0.55, "signal south amber -> signal south plan"),  # seen at the next check
    ]
    assert sim.state.sig_override[0, 0, sim.world.network.signal_names.index("south")] == -1


def test_distance_trigger_starts_pedestrian(tmp_path: Path) -> None:
    path = _write(tmp_path, "  - when: {distance: {between: [ego, walker], below_m: 60}}\n    do: {start: walker}\n")
    sim = simulation(path)
    st = sim.world.state
    assert not st.started[2] and st.started[0] and st.started[1]
    x0, y0 = st.x[2], st.y[2]
    fired, dist = [], []
    for _ in range(200):
        out = sim.step()
        fired += _story_events(out.events)
        dist.append(math.hypot(st.x[0] - x0, st.y[0] - y0))
        if not fired:
            assert (st.x[2], st.y[2]) == (x0, y0) and not st.started[2]  # stands until started
    expected = _first_step([d < 60.0 for d in dist])
    assert 1 < expected < 150
    assert fired == [(round(expected * DT, 9), "distance ego-walker < 60 m -> start walker")]
    assert st.started[2] and math.hypot(st.x[2] - x0, st.y[2] - y0) > 0.5  # and then walks


def test_speed_trigger_fires_at_expected_step(tmp_path: Path) -> None:
    plain = _write(tmp_path, "", "plain.yaml")
    speeds = _trace(plain, 200, lambda s: float(s.world.state.speed[1]))
    expected = _first_step([v > 2.0 for v in speeds])
    # friction is felt by single_track rows only: a harmless action for these kinematic vehicles
    path = _write(tmp_path, "  - when: {speed: {actor: lead, above_mps: 2.0}}\n    do: {friction: 0.9}\n")
    res = simulation(path).run()
    assert _story_events(res.events) == [(round(expected * DT, 9), "speed lead > 2 m/s -> friction 0.9")]
    below = _write(tmp_path, "  - when: {speed: {actor: ego, below_mps: 5.0}}\n    do: {friction: 0.9}\n", "b.yaml")
    ego_v = _trace(plain, 200, lambda s: float(s.world.state.speed[0]))
    exp_below = _first_step([v < 5.0 for v in ego_v])
    assert _story_events(simulation(below).run().events)[0][0] == round(exp_below * DT, 9)


def test_friction_action_sets_every_route_sample(tmp_path: Path) -> None:
    sim = simulation(_write(tmp_path, "  - when: {time_s: 0.1}\n    do: {friction: 0.3}\n"))
    sim.run()
    assert np.all(sim.state.route_mu == 0.3) and np.all(sim.state.friction == 0.3)
    assert np.all(sim.world.routes.friction == 1.0)  # the built world is never written
    sim.reset()  # a reset restores the initial state
    assert np.all(sim.state.route_mu == 1.0)


def test_reaches_trigger_fires_when_progress_enters_the_lane(tmp_path: Path) -> None:
    green = "  - when: {time_s: 0}\n    do: {signal: {group: south, state: green}}\n"
    plain = _write(tmp_path, green, "plain.yaml")
    sim = simulation(plain)
    lane = sim.world.network.lane_id("north_out_2")
    rpath = sim.world.routes.paths[0]
    on = _trace(plain, 399, lambda s: rpath.lane[route_sample(rpath.s, float(s.world.state.progress[0]))] == lane)
    expected = _first_step(on)
    path = _write(tmp_path, green + "  - when: {reaches: {actor: ego, lane: north_out_2}}\n    do: {friction: 0.9}\n")
    res = simulation(path).run()
    assert _story_events(res.events)[1:] == [(round(expected * DT, 9), "ego reaches north_out_2 -> friction 0.9")]


def test_any_all_and_delay(tmp_path: Path) -> None:
    story = (
        "  - when: {any: [{time_s: 2}, {time_s: 1}]}\n    do: {friction: 0.9}\n"
        "  - when: {all: [{time_s: 1}, {time_s: 1.5}]}\n    do: {friction: 0.8}\n"
        "  - when: {time_s: 1}\n    do: {friction: 0.7}\n    delay_s: 0.5\n"
        "  - when: {all: [{time_s: 0.5}, {any: [{time_s: 30}, {time_s: 0.25}]}]}\n    do: {friction: 0.6}\n"
    )
    res = simulation(_write(tmp_path, story)).run()
    assert _story_events(res.events) == [
        (0.5, "all(time 0.5 s, any(time 30 s, time 0.25 s)) -> friction 0.6"),
        (1.0, "any(time 2 s, time 1 s) -> friction 0.9"),
        (1.5, "all(time 1 s, time 1.5 s) -> friction 0.8"),
        (1.5, "time 1 s -> friction 0.7"),
    ]


def test_remove_takes_the_actor_out(tmp_path: Path) -> None:
    sim = simulation(_write(tmp_path, "  - when: {time_s: 0.5}\n    do: {remove: lead}\n"))
    st = sim.world.state
    for k in range(1, 15):
        sim.step()
        assert st.active[1] == (k < 10)
    assert sim.observe().objects.row.tolist().count(1) == 0


def test_end_action_ends_the_run_with_its_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, "  - when: {time_s: 2}\n    do: {end: scripted_stop}\n    delay_s: 0.25\n")
    res = simulation(path).run()
    assert res.termination == "scripted_stop"
    assert res.steps == 45 and math.isclose(res.sim_time, 2.25)
    assert _story_events(res.events) == [(2.25, "time 2 s -> end scripted_stop")]
    # the same run through the Python step loop
    sim = simulation(path)
    done, steps = False, 0
    while not done:
        done = sim.step().done
        steps += 1
    assert steps == 45 and sim.termination == "scripted_stop"


def test_run_is_repeatable_after_reset(tmp_path: Path) -> None:
    story = (
        "  - when: {time_s: 0.5}\n    do: {signal: {group: south, state: green}}\n"
        "  - when: {time_s: 0.2}\n    do: {start: walker}\n"
    )
    sim = simulation(_write(tmp_path, story))
    a = sim.run().to_json(include_timing=False)
    sim.reset()
    assert not sim.world.state.started[2]
    assert sim.state.sig_override[0, 0].tolist() == [-1] * sim.world.network.n_signals
    assert sim.run().to_json(include_timing=False) == a


@pytest.mark.parametrize(
    ("story", "line", "col", "phrase"),
    [
        (
            "  - when: {distance: {between: [ego, walkr], below_m: 5}}\n    do: {end: x}\n",
            24,
            38,
            "unknown actor 'walkr' (did you mean 'walker'?)",
        ),
        ("  - when: {time_s: 1}\n    do: {remove: led}\n", 25, 18, "unknown actor 'led' (did you mean 'lead'?)"),
        (
            "  - when: {reaches: {actor: ego, lane: north_out_3}}\n    do: {end: x}\n",
            24,
            40,
            "unknown lane 'north_out_3' (did you mean",
        ),
        (
            "  - when: {reaches: {actor: ego, lane: east_out_1}}\n    do: {end: x}\n",
            24,
            40,
            "lane 'east_out_1' is not on the route of 'ego'",
        ),
        (
            "  - when: {time_s: 1}\n    do: {signal: {group: sout, state: red}}\n",
            25,
            26,
            "unknown signal group 'sout' (did you mean 'south'?)",
        ),
        (
            "  - when: {signal: {group: nrth, state: red}}\n    do: {end: x}\n",
            24,
            28,
            "unknown signal group 'nrth' (did you mean 'north'?)",
        ),
        ("  - when: {time_s: 1}\n    do: {stop: {actor: walker}}\n", 25, 24, "stop needs a vehicle"),
        (
            "  - when: {any: [{time_s: 1}, {speed: {actor: eg, above_mps: 1}}]}\n    do: {end: x}\n",
            24,
            47,
            "unknown actor 'eg' (did you mean 'ego'?)",
        ),
        (
            "  - when: {speed: {actor: ego, above_mps: 1, below_mps: 2}}\n    do: {end: x}\n",
            24,
            19,
            "exactly one of above_mps or below_mps",
        ),
        ("  - when: {tme_s: 1}\n    do: {end: x}\n", 24, 11, "a trigger has exactly one of the keys"),
    ],
)
def test_bad_references_are_located_errors(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], story: str, line: int, col: int, phrase: str
) -> None:
    path = _write(tmp_path, story)
    assert main(["validate", str(path)]) == 2
    err = capfd.readouterr().err
    assert f"{path}:{line}:{col}:" in err, err
    assert phrase in err, err


def test_delayed_trigger_survives_snapshot_and_restore(tmp_path) -> None:
    """A ``delayed`` trigger latched before a snapshot fires at the same time after a restore (its latch
    is keyed by the storyboard, not by object identity, which the snapshot's copy changes)."""
    from simcore._data import catalog_dir

    text = (catalog_dir("scenarios") / "urban" / "cut_in.yaml").read_text()
    text = text.replace(
        "    do: {lane_change: {actor: cutter, direction: right, duration: 3}}\n",
        "    do: {lane_change: {actor: cutter, direction: right, duration: 3}}\n"
        "  - when: {delayed: {when: {time_s: 1.0}, by_s: 2.0}}\n"
        "    do: {speed: {actor: cutter, target_kph: 20, rate: 2}}\n",
    )
    path = tmp_path / "cut_in_delayed.yaml"
    path.write_text(text)
    for compiled in (False, True):  # the Python path's latch (StoryProgress) and the compiled one (story_mem)
        sim = simulation(str(path), "autopilot", compiled_storyboard=compiled)
        assert sim.story_compiled == compiled

        def applied(sim=sim) -> list[float]:
            return [round(t, 6) for t in sim.story_applied() if math.isfinite(t)]

        while sim.t < 2.0 - 1e-9:  # after the inner trigger first held (1 s), before the action (3 s)
            sim.step()
        snap = sim.snapshot()
        sim.run()
        first = applied()
        assert 3.0 in first
        sim.restore(snap)
        sim.run()
        assert applied() == first
