"""Scenarios on the dynamic single-track model: `dynamics: single_track` and `environment.friction`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from simcore._data import resolve_scenario
from simcore.agents.protocol import AgentInfo, Control, Observation
from simcore.api import simulation
from simcore.evaluation.events import EventKind
from simcore.world import DYNAMICS_SINGLE_TRACK

DATA = Path(__file__).resolve().parents[1] / "data"
BRAKE = DATA / "single_track_brake.yaml"
G = 9.81
V0 = 50 / 3.6


class FullBrake:
    """Brakes as hard as the vehicle allows from the first step, wheels straight."""

    name = "full_brake"

    def reset(self, info: AgentInfo) -> None:
        """Nothing to prepare."""

    def act(self, obs: Observation) -> Control:
        """Far more deceleration than any vehicle has: full brake pedal."""
        return Control(accel=-50.0, steer=0.0)


def _all_single_track(tmp_path: Path) -> Path:
    """A copy of the built-in signalised intersection with every vehicle on the single-track model."""
    text = resolve_scenario("urban/signalized_intersection").read_text()
    text, n = re.subn(r"(?m)^(\s+)(vehicle: \S+)$", r"\1\2\n\1dynamics: single_track", text)
    assert n == 9  # the ego and eight vehicle entries
    out = tmp_path / "signalized_single_track.yaml"
    out.write_text(text)
    return out


def _bytes(res) -> str:
    return json.dumps(res.to_json(include_timing=False), sort_keys=True)


@pytest.fixture(scope="module")
def intersection(tmp_path_factory):
    """Run step by step, keeping the largest |vy| and |yaw_rate| each vehicle row reached."""
    path = _all_single_track(tmp_path_factory.mktemp("st"))
    sim = simulation(path)
    st = sim.world.state
    peak = np.zeros((2, st.n))
    done = False
    while not done:
        done = sim.step().done
        np.maximum(peak, np.abs([st.vy, st.yaw_rate]), out=peak)
    sim.peak = peak
    return path, sim, sim.result(0.0)


def test_every_vehicle_runs_single_track(intersection):
    _, sim, _ = intersection
    w = sim.world
    assert len(w.veh_idx_st) == len(w.veh_idx) and len(w.veh_idx_kin) == 0
    assert (w.dynamics[w.veh_idx] == DYNAMICS_SINGLE_TRACK).all()
    assert (w.friction == 1.0).all()


def test_autopilot_reaches_the_goal_without_collisions(intersection):
    _, sim, res = intersection
    assert res.termination == "goal_reached"
    bad = [e for e in res.events if e.kind in (EventKind.COLLISION, EventKind.RED_LIGHT, EventKind.OFFROAD)]
    assert not bad
    w = sim.world
    st = w.state
    assert np.isfinite(st.x).all() and np.isfinite(st.yaw).all() and (st.speed >= 0).all()
    assert res.passed, [v for v in res.verdicts if not v.passed]
    # the single-track state is alive: turning vehicles yaw and side-slip, walkers keep zeros
    assert sim.peak[1, w.veh_idx].max() > 0.2
    assert 0.01 < sim.peak[0, w.veh_idx].max() < 2.0
    assert not sim.peak[:, w.ped_idx].any()


def test_single_track_run_is_deterministic(intersection):
    """Same bytes again, and the chunked in-engine run equals the fixture's step-by-step run."""
    path, _, res = intersection
    again = simulation(path).run()
    assert _bytes(again) == _bytes(res)
    for key in ("x", "y", "yaw", "speed"):
        assert (again.trajectory[key] == res.trajectory[key]).all()


def _stop(mu: float, dynamics: str = "single_track") -> tuple[float, np.ndarray, np.ndarray]:
    sim = simulation(BRAKE, FullBrake(), overrides={"mu": mu})
    if dynamics != "single_track":  # the same fixture on the kinematic model: the engine's row sets
        sp = sim.static
        sim.static = sp._replace(veh_idx_st=sp.veh_idx[:0].copy(), veh_idx_kin=sp.veh_idx.copy())
    res = sim.run()
    assert res.termination == "timeout"
    tr = res.trajectory
    e = sim.world.ego
    x, y, v = tr["x"][:, e], tr["y"][:, e], tr["speed"][:, e]
    dist = float(np.hypot(np.diff(x), np.diff(y)).sum())
    return dist, v, np.hypot(x - x[0], y - y[0])


@pytest.mark.parametrize("mu", [0.9, 0.3])
def test_stopping_distance_follows_road_friction(mu):
    dist, v, _ = _stop(mu)
    assert v[0] == pytest.approx(V0)
    assert v[-1] < 0.05  # stopped within the run
    ideal = V0**2 / (2 * mu * G)
    assert dist == pytest.approx(ideal, rel=0.10), (mu, dist, ideal)


def test_ice_stops_about_three_times_longer():
    dry, _, _ = _stop(0.9)
    ice, _, _ = _stop(0.3)
    assert 2.7 < ice / dry < 3.3


def test_positions_stay_at_the_rear_axle():
    """x, y are the rear axle for single-track rows too: no jump by l_r at the first step."""
    _, _, along = _stop(0.9)
    dt = 0.05
    assert along[1] == pytest.approx(V0 * dt, abs=0.05)
    assert along[1] <= V0 * dt + 1e-9


def test_kinematic_rows_ignore_friction():
    """Friction acts on single-track rows only; a kinematic ego stops at its max_decel either way."""
    a, _, _ = _stop(0.9, "kinematic")
    b, _, _ = _stop(0.3, "kinematic")
    assert a == b
    assert a == pytest.approx(V0**2 / (2 * 11.5), rel=0.02)  # commonroad_bmw_320i max_decel_mps2


def test_friction_key_is_validated(tmp_path):
    from simcore.scenario.errors import ScenarioError

    text = BRAKE.read_text().replace("mu: 0.9", "mu: 1.6")
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ScenarioError, match="friction"):
        simulation(p, FullBrake())


def _with_surfaces(tmp_path: Path, surfaces: str) -> Path:
    """The braking fixture on a dry road (mu 0.9) with ``environment.surfaces`` set to ``surfaces``."""
    text = BRAKE.read_text().replace(
        "environment: {friction: $mu}", f"environment: {{friction: $mu, surfaces: {surfaces}}}"
    )
    p = tmp_path / "surfaces.yaml"
    p.write_text(text)
    return p


def _stop_distance(path: Path) -> tuple[float, object]:
    sim = simulation(path, FullBrake())
    res = sim.run()
    assert res.termination == "timeout"
    e = sim.world.ego
    tr = res.trajectory
    assert tr["speed"][-1, e] < 0.05  # stopped within the run
    return float(np.hypot(np.diff(tr["x"][:, e]), np.diff(tr["y"][:, e])).sum()), sim


def test_icy_patch_on_the_braking_lane_lengthens_the_stop(tmp_path):
    """An ice patch (0.3) on the lane the ego brakes on: stop within v^2 / (2 0.3 g); without it, the 0.9 distance."""
    dry, _ = _stop_distance(_with_surfaces(tmp_path, "[]"))
    assert dry == pytest.approx(V0**2 / (2 * 0.9 * G), rel=0.10)
    icy, sim = _stop_distance(_with_surfaces(tmp_path, "[{lanes: [south_in_1], friction: 0.3}]"))
    assert icy == pytest.approx(V0**2 / (2 * 0.3 * G), rel=0.10), icy
    w = sim.world
    e = w.ego
    assert sim.state.friction[0, e] == 0.3  # the friction under the ego, refreshed each step from its route sample
    a, b = w.routes.start[e], w.routes.start[e + 1]
    lanes = w.routes.paths[e].lane
    south = w.network.lane_id("south_in_1")
    mu = w.routes.friction[a:b]
    assert (mu[lanes == south] == 0.3).all() and (mu[lanes != south] == 0.9).all()


def test_patch_elsewhere_changes_nothing(tmp_path):
    """A patch on lanes the ego never reaches gives the same stop, bit for bit, as no patch at all."""
    _, _, ref = _stop(0.9)
    sim = simulation(_with_surfaces(tmp_path, "[{lanes: [north_out_1, east_in_1], friction: 0.1}]"), FullBrake())
    res = sim.run()
    tr = res.trajectory
    e = sim.world.ego
    assert (np.hypot(tr["x"][:, e] - tr["x"][0, e], tr["y"][:, e] - tr["y"][0, e]) == ref).all()


def test_friction_changes_when_the_vehicle_drives_onto_a_patch(tmp_path):
    """Mid-stop the road turns icy (the junction connector): dry physics up to the lane end, ice after it."""
    text = BRAKE.read_text().replace("environment: {friction: $mu}", "environment: {friction: $mu, surfaces: []}")
    # the ego starts 4.5 m before the end of its 188.5 m approach lane, braking onto the connector
    text = text.replace("s: 20, speed_kph: 50", "s: 184, speed_kph: 50")
    p = tmp_path / "onto.yaml"
    p.write_text(text)
    w = simulation(p, FullBrake()).world
    e = w.ego
    path = w.routes.paths[e]
    connector = path.lanes[1]
    d1 = float(path.s[np.flatnonzero(path.lane == connector)[0]]) - w.state.progress[e]  # dry metres
    assert 3.0 < d1 < 6.0
    p.write_text(
        text.replace("surfaces: []", f"surfaces: [{{lanes: [{w.network.lane_names[connector]}], friction: 0.3}}]")
    )
    mixed, sim = _stop_distance(p)
    expected = d1 + (V0**2 - 2 * 0.9 * G * d1) / (2 * 0.3 * G)
    assert mixed == pytest.approx(expected, rel=0.10), (mixed, expected)
    assert V0**2 / (2 * 0.9 * G) * 1.5 < mixed < V0**2 / (2 * 0.3 * G) * 0.85
    assert sim.state.friction[0, e] == 0.3


def test_unknown_surface_lane_is_a_located_error(tmp_path, capfd):
    from simcore.cli import main

    text = BRAKE.read_text().replace(
        "environment: {friction: $mu}",
        "environment:\n  friction: $mu\n  surfaces:\n    - lanes: [south_in_1, nowhere_9]\n      friction: 0.3",
    )
    p = tmp_path / "bad_surface.yaml"
    p.write_text(text)
    line = text.splitlines().index("    - lanes: [south_in_1, nowhere_9]") + 1
    assert main(["validate", str(p)]) == 2
    err = capfd.readouterr().err
    col = "    - lanes: [south_in_1, nowhere_9]".index("nowhere_9") + 1
    assert f"{p}:{line}:{col}:" in err and "unknown lane 'nowhere_9'" in err, err
    assert main(["run", str(p), "--quiet"]) == 2


def test_surface_friction_is_validated(tmp_path):
    from simcore.scenario.errors import ScenarioError

    p = _with_surfaces(tmp_path, "[{lanes: [south_in_1], friction: 1.6}]")
    with pytest.raises(ScenarioError, match="friction"):
        simulation(p, FullBrake())
