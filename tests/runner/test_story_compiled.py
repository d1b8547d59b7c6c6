"""The storyboard inside the compiled step (runner.story_kernels) against the per-step Python path."""

from __future__ import annotations

import numpy as np
import pytest

from simcore._data import catalog_dir
from simcore.api import simulation
from simcore.behavior import profile_kernels as pk
from simcore.evaluation.events import EventKind
from simcore.runner import story_kernels as sk
from simcore.runner.story_tables import SHAPES, ActionCode, TriggerCode, story_tables
from simcore.scenario import storyboard as sb
from simcore.scenario.build import build_world
from simcore.scenario.loader import load_scenario

SCENARIOS = catalog_dir("scenarios")
#: Every catalog scenario with a storyboard.
STORY_SCENARIOS = sorted(
    p.relative_to(SCENARIOS).as_posix()
    for p in SCENARIOS.rglob("*.yaml")
    if "maps" not in p.parts and "\nstoryboard:" in p.read_text()
)


def test_kernel_codes_equal_the_enums():
    for code in TriggerCode:
        assert getattr(sk, f"T_{code.name}") == code.value, code
    for code in ActionCode:
        assert getattr(sk, f"A_{code.name}") == code.value, code
    for i, name in enumerate(SHAPES):
        assert getattr(pk, f"SHAPE_{name.upper()}") == i
    assert sk.EV_STORYBOARD == EventKind.STORYBOARD


def test_profile_distance_is_the_closed_form_integral():
    # linear ramp 10 -> 4 m/s over 3 s from t0 = 1 s: v(t) = 10 - 2 (t - 1); cubic: smoothstep ramp
    def linear(t):
        return 10.0 * t - (t - 1.0) ** 2 if t > 1.0 else 10.0 * t

    for ta, tb in ((0.5, 1.5), (2.0, 2.05), (3.9, 4.3), (4.5, 5.0)):
        tb_c = min(tb, 4.0)
        want = linear(tb_c) - linear(ta) + 4.0 * (tb - tb_c) if ta < 4.0 else 4.0 * (tb - ta)
        got = pk.profile_distance(ta, tb, 1.0, 10.0, 4.0, pk.SHAPE_LINEAR, 3.0)
        assert got == pytest.approx(want, abs=1e-12)
    # smoothstep over [0, 2] from 0 to 1: integral of 3u^2 - 2u^3 with u = t/2 over the whole ramp = 2 * 1/2
    assert pk.profile_distance(0.0, 2.0, 0.0, 0.0, 1.0, pk.SHAPE_CUBIC, 2.0) == pytest.approx(1.0, abs=1e-12)


def _world(name: str):
    return build_world(load_scenario(SCENARIOS / name))


@pytest.mark.parametrize("name", STORY_SCENARIOS)
def test_every_catalog_storyboard_compiles(name):
    assert story_tables(tuple(_world(name).storyboard)) is not None


def test_a_kind_not_compiled_keeps_the_whole_storyboard_on_the_python_path():
    keep = sb.Story(sb.TimeAt(1.0, "time 1 s"), sb.KeepDistance(1, 0, None, "keep"))
    start = sb.Story(sb.TimeAt(0.0, "time 0 s"), sb.StartRow(1, "start"))
    assert story_tables((start,)) is not None
    assert story_tables((start, keep)) is None
    nested = sb.Story(sb.AnyOf((sb.AllOf((sb.TimeAt(1.0, "t"),), "all"),), "any"), sb.StartRow(1, "start"))
    assert story_tables((nested,)) is None


def _run(name: str, compiled: bool):
    sim = simulation(SCENARIOS / name, sensors=None, compiled_storyboard=compiled)
    assert sim.story_compiled == compiled
    return sim, sim.run()


@pytest.mark.parametrize("name", STORY_SCENARIOS)
def test_compiled_storyboard_equals_the_python_path_bit_for_bit(name):
    sim_c, res_c = _run(name, True)
    sim_p, res_p = _run(name, False)
    assert res_c.termination == res_p.termination
    assert [(e.time, e.kind, e.actors, e.detail) for e in res_c.events] == [
        (e.time, e.kind, e.actors, e.detail) for e in res_p.events
    ]
    assert [v.passed for v in res_c.verdicts] == [v.passed for v in res_p.verdicts]
    for f in ("x", "y", "yaw", "speed", "progress", "active", "v_des", "speed_factor", "route_x", "route_y",
              "sig_override", "ped_start", "metrics"):  # fmt: skip
        assert np.array_equal(getattr(sim_c.state, f), getattr(sim_p.state, f), equal_nan=True), f
    # The state hashes differ by design: the compiled path keeps storyboard progress and scripted speeds
    # in the EngineState (folded every step), the Python path in Python objects. Each path is deterministic.
    assert res_c.state_hash != "" and res_p.state_hash != ""
    assert simulation(SCENARIOS / name, sensors=None, compiled_storyboard=True).run().state_hash == res_c.state_hash
