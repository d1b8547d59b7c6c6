"""The ``traffic:`` section, ``route: {to: random}`` and ``simcore run --map FILE --traffic N``:
routed traffic on any map, deterministic by seed, without collisions or deadlocks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simcore.api import simulation
from simcore.cli import main
from simcore.evaluation.events import EventKind
from simcore.road.lane_graph import shortest_route
from simcore.scenario.build import build_world
from simcore.scenario.loader import load_scenario

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TOWNS = [p for p in sorted((SHARED / "maps" / "carla").glob("Town0*.xodr"))]
needs_towns = pytest.mark.skipif(not TOWNS, reason="../shared/maps/carla is not present beside the checkout")
#: Window (s) in which every vehicle still on the road must have moved: longer than a red phase.
MOVE_WINDOW_S = 60.0


def _write(tmp_path: Path, map_path: Path, traffic: dict, ego: dict | None = None, timeout: float = 120.0) -> Path:
    doc = {"simcore": 1, "name": "traffic", "seed": 5, "map": {"file": str(map_path)}, "traffic": traffic}
    if ego is not None:
        doc["ego"] = ego
        doc["criteria"] = ["no_collision", "no_red_light", "reach_goal"]
    doc["end"] = {"timeout_s": timeout}
    f = tmp_path / "traffic.yaml"
    f.write_text(json.dumps(doc))
    return f


@needs_towns
def test_traffic_is_routed_spaced_and_deterministic(tmp_path):
    town = TOWNS[0]
    f = _write(tmp_path, town, {"vehicles": 25, "pedestrians": 6, "route_length_m": [150, 600]})
    worlds = [build_world(load_scenario(f, allow_paths=[SHARED])) for _ in range(2)]
    a, b = worlds
    assert a.actor_ids == b.actor_ids and np.array_equal(a.state.x, b.state.x)
    assert sum(i.startswith("traffic-") for i in a.actor_ids) == 25
    assert sum(i.startswith("walker-") for i in a.actor_ids) == 6
    veh = [k for k, i in enumerate(a.actor_ids) if i.startswith("traffic-")]
    xy = np.column_stack([a.state.x[veh], a.state.y[veh]])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) + np.eye(len(veh)) * 1e9
    assert d.min() >= 9.0 - 1e-9  # MIN_SPAWN_GAP_M
    other = build_world(load_scenario(f, allow_paths=[SHARED], overrides=None, seed=6))
    assert not np.array_equal(other.state.x, a.state.x)


@needs_towns
@pytest.mark.parametrize("town", TOWNS, ids=lambda p: p.name)
def test_fifty_vehicles_for_120_s_without_collision_or_deadlock(tmp_path, town):
    sim = simulation(_write(tmp_path, town, {"vehicles": 50, "route_length_m": [300, 3000]}), allow_paths=[SHARED])
    st = sim.world.state
    veh = np.array([k for k, i in enumerate(sim.world.actor_ids) if i.startswith("traffic-")])
    steps = round(MOVE_WINDOW_S / sim.world.dt)
    events = []
    for _ in range(steps):
        events += sim.step().events
    before = st.progress[veh].copy()
    for _ in range(steps):
        events += sim.step().events
    assert not [e for e in events if e.kind == EventKind.COLLISION], [
        e for e in events if e.kind == EventKind.COLLISION
    ][:3]
    still = veh[st.active[veh]]
    stuck = still[(st.progress[still] - before[st.active[veh]]) < 1.0]
    assert stuck.size == 0, [sim.world.actor_ids[k] for k in stuck]
    assert (~st.active[veh]).sum() > 0  # some finished their routes


@needs_towns
def test_ego_random_route_has_the_requested_length(tmp_path):
    town = TOWNS[0]
    ego = {"start": {"lane": "10:0:1", "s": 5}, "route": {"to": "random", "length_m": [250, 450]}}
    world = build_world(load_scenario(_write(tmp_path, town, {"vehicles": 0}, ego), allow_paths=[SHARED]))
    path = world.routes.paths[0]
    net = world.network
    # Route length from the start (s = 5 m) to the end of the goal lane, within the range.
    assert 250 - 1 <= path.length - 5 <= 450 + 1
    goal = path.lanes[-1]
    assert net.lane_junction[goal] < 0 and shortest_route(net, path.lanes[0], goal) == list(path.lanes)


@pytest.mark.parametrize(
    ("traffic", "expected"),
    [
        ("{vehicles: 500}", ["traffic.vehicles", "500 were asked for"]),
        ("{vehicles: 2, mix: {hovercraft: 1}}", ["traffic.mix.hovercraft"]),
    ],
    ids=["too-many", "unknown-vehicle"],
)
def test_traffic_mistakes_are_located(tmp_path, capsys, traffic, expected):
    f = tmp_path / "s.yaml"
    f.write_text(
        "simcore: 1\nname: bad-traffic\nmap: {generate: intersection}\n"
        "ego: {start: {lane: south_in_1, s: 5}, route: {to: north_out_1}}\n"
        f"traffic: {traffic}\n"
    )
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}:5:" in err and all(e in err for e in expected), err


@needs_towns
def test_run_map_traffic_quick_look_exit_code_means_pass(tmp_path, capsys):
    rc = main(["run", "--map", str(TOWNS[0]), "--traffic", "30", "--seed", "2"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "[PASS] reach_goal" in out and "[PASS] no_collision" in out and "[PASS] no_red_light" in out
    assert main(["run", "--map", str(tmp_path / "nowhere.xodr"), "--traffic", "3"]) == 2
