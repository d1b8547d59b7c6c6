"""A right turn on red after a full stop (Korean rules) is legal: no red-light event, and it
happens while the signal is red; without the rule the car waits for green."""

from pathlib import Path

import numpy as np

from simcore.api import simulation
from simcore.evaluation.events import EventKind

SCENARIO = """simcore: 1
name: rtor
rules: RULES
map: {generate: intersection, lanes_per_direction: 1, crosswalks: false, signals: {green_s: 10}}
actors:
  - {id: car, start: {lane: south_in_1, s: 30, speed_kph: 30}, route: {to: east_out_1}}
end: {timeout_s: 40}
"""


def _run(tmp_path: Path, rules: str):
    path = tmp_path / f"{rules}.yaml"
    path.write_text(SCENARIO.replace("RULES", rules))
    sim = simulation(path)
    res = sim.run()
    w = sim.world
    car = w.actor_ids.index("car")
    stop_s = float(w.routes.stop_s[w.routes.stop_start[car]])
    front = float(w.params["length"][car] - w.params["rear_overhang"][car])
    traj = res.trajectory
    # First recorded row where the front bumper is past the stop line (progress is not recorded:
    # project the rear axle onto the route by nearest sample).
    rx = w.routes.x[w.routes.start[car] : w.routes.start[car + 1]]
    ry = w.routes.y[w.routes.start[car] : w.routes.start[car + 1]]
    rs = w.routes.s[w.routes.start[car] : w.routes.start[car + 1]]
    for r in range(len(traj["time"])):
        if not traj["active"][r, car]:
            continue
        k = int(np.argmin((rx - traj["x"][r, car]) ** 2 + (ry - traj["y"][r, car]) ** 2))
        if rs[k] + front > stop_s + 0.5:
            break
    group = int(w.routes.stop_signal[w.routes.stop_start[car]])
    return res, float(traj["time"][r]), int(traj["signals"][r, group]), float(traj["speed"][:r, car].min())


def test_korean_right_on_red_is_taken_after_a_full_stop_and_is_not_an_infraction(tmp_path):
    res, _, state_at_cross, min_speed = _run(tmp_path, "korea")
    assert not [e for e in res.events if e.kind == EventKind.RED_LIGHT]
    assert min_speed < 0.1  # it stopped first
    assert state_at_cross == 0  # and crossed while its signal was red


def test_generic_rules_wait_for_green(tmp_path):
    res_g, t_green, state_g, _ = _run(tmp_path, "generic")
    _, t_red, _, _ = _run(tmp_path, "korea")
    assert not [e for e in res_g.events if e.kind == EventKind.RED_LIGHT]
    assert state_g != 0
    assert t_red < t_green
