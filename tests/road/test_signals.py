"""Tests for simcore.behavior.signal_kernels.signal_states on generated signal plans."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from simcore._types import SignalState
from simcore.behavior.signal_kernels import signal_states
from simcore.road.generate import IntersectionLayout, SignalTiming, generate_grid

DT = 0.01

TIMINGS = [
    SignalTiming(),
    SignalTiming(green_s=20.0, amber_s=4.0, all_red_s=1.5, pedestrian_s=10.0, pedestrian_clearance_s=5.0),
    SignalTiming(green_s=7.0, amber_s=3.0, all_red_s=2.0, pedestrian_s=0.0),
]


def _states(net, t, override=None, n_inst=1):
    ng = net.n_signals
    if override is None:
        override = np.full((n_inst, ng), -1, dtype=np.int8)
    out = np.empty(override.shape, dtype=np.int8)
    signal_states(float(t), net.plan_cycle, net.plan_offset, net.plan_start, net.plan_t0, net.plan_state, override, out)
    return out


def _sample(net, t0, t1, dt=DT):
    times = np.arange(t0, t1, dt) + dt / 2  # stay off the exact switching instants
    return times, np.array([_states(net, t)[0] for t in times])


def _vehicle_groups(net, j):
    return [
        g
        for g in range(net.n_signals)
        if net.signal_junction[g] == j and not net.signal_names[g].endswith("pedestrians")
    ]


def _ped_group(net, j):
    found = [
        g for g in range(net.n_signals) if net.signal_junction[g] == j and net.signal_names[g].endswith("pedestrians")
    ]
    return found[0] if found else None


@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("arms", [("north", "east", "south", "west"), ("east", "south", "west")])
def test_vehicle_phase_durations_per_cycle(timing, arms):
    net = generate_grid(1, 1, layout=IntersectionLayout(arms=arms, signals=timing))
    with_ped = timing.pedestrian_s > 0
    assert net.n_signals == len(arms) + int(with_ped)
    cycle = float(net.plan_cycle[0])
    expected_cycle = len(arms) * (timing.green_s + timing.amber_s + timing.all_red_s)
    if with_ped:
        expected_cycle += timing.pedestrian_s + timing.pedestrian_clearance_s + timing.all_red_s
    assert cycle == pytest.approx(expected_cycle)
    np.testing.assert_allclose(net.plan_cycle, cycle)
    times, states = _sample(net, 0.0, 2 * cycle)
    for g in _vehicle_groups(net, 0):
        for c in range(2):
            sel = (times >= c * cycle) & (times < (c + 1) * cycle)
            col = states[sel, g]
            green = np.count_nonzero(col == SignalState.GREEN) * DT
            amber = np.count_nonzero(col == SignalState.AMBER) * DT
            red = np.count_nonzero(col == SignalState.RED) * DT
            assert green == pytest.approx(timing.green_s, abs=1.5 * DT), net.signal_names[g]
            assert amber == pytest.approx(timing.amber_s, abs=1.5 * DT)
            assert red == pytest.approx(cycle - timing.green_s - timing.amber_s, abs=1.5 * DT)
            assert green + amber + red == pytest.approx(cycle, abs=1.5 * DT)
            # one green block, then amber, then red (cyclically): three changes per cycle
            cyc = np.concatenate([col, col[:1]])
            changes = [(int(a), int(b)) for a, b in pairwise(cyc) if a != b]
            assert sorted(changes) == sorted(
                [
                    (SignalState.RED, SignalState.GREEN),
                    (SignalState.GREEN, SignalState.AMBER),
                    (SignalState.AMBER, SignalState.RED),
                ]
            )
    # phases run in arm order
    firsts = [np.argmax(states[:, g] == SignalState.GREEN) for g in _vehicle_groups(net, 0)]
    assert firsts == sorted(firsts)
    assert [net.signal_names[g] for g in _vehicle_groups(net, 0)] == list(arms)


@pytest.mark.parametrize("timing", TIMINGS)
def test_vehicle_groups_are_exclusive_and_pedestrians_walk_in_all_red(timing):
    net = generate_grid(2, 2, layout=IntersectionLayout(signals=timing))
    cycle = float(net.plan_cycle[0])
    times, states = _sample(net, 0.0, 2 * cycle, dt=0.05)
    for j in range(len(net.junction_names)):
        veh = _vehicle_groups(net, j)
        assert len(veh) == 4
        vs = states[:, veh]
        assert np.all(np.count_nonzero(vs == SignalState.GREEN, axis=1) <= 1)
        # not even an amber overlaps another group's green or amber
        assert np.all(np.count_nonzero(vs != SignalState.RED, axis=1) <= 1)
        all_red = np.all(vs == SignalState.RED, axis=1)
        ped = _ped_group(net, j)
        if timing.pedestrian_s <= 0:
            assert ped is None
            assert all_red.mean() == pytest.approx(4 * timing.all_red_s / cycle, abs=0.01)
            continue
        p = states[:, ped]
        assert np.any(p == SignalState.GREEN)
        assert np.all(all_red[p == SignalState.GREEN])
        assert np.all(all_red[p == SignalState.AMBER])  # flashing don't-walk too
        walk = np.count_nonzero(p[times < cycle] == SignalState.GREEN) * 0.05
        flash = np.count_nonzero(p[times < cycle] == SignalState.AMBER) * 0.05
        assert walk == pytest.approx(timing.pedestrian_s, abs=0.08)
        assert flash == pytest.approx(timing.pedestrian_clearance_s, abs=0.08)
        # every crosswalk of the junction is driven by that group
        prefix = net.junction_names[j] + "."
        cws = [c for c, n in enumerate(net.cw_names) if n.startswith(prefix)]
        assert len(cws) == 4
        assert all(net.cw_signal[c] == ped for c in cws)


def test_grid_offsets_shift_the_plan_per_column():
    timing = SignalTiming(offset_step_s=5.0)
    net = generate_grid(1, 3, layout=IntersectionLayout(signals=timing))
    for g in range(net.n_signals):
        col = int(net.signal_names[g][3])
        assert net.plan_offset[g] == pytest.approx(5.0 * col)
    base = [g for g in range(net.n_signals) if net.signal_names[g].startswith("r0c0.")]
    for t in np.arange(0.0, 90.0, 0.37):
        now = _states(net, t)[0]
        for c in (1, 2):
            ref = _states(net, t + 5.0 * c)[0]
            for g in base:
                other = net.signal_names.index(net.signal_names[g].replace("r0c0.", f"r0c{c}."))
                assert now[other] == ref[g]


def test_plan_is_periodic_and_defined_for_negative_times():
    net = generate_grid(1, 1)
    cycle = float(net.plan_cycle[0])
    for t in np.linspace(-100.0, 100.0, 301):
        np.testing.assert_array_equal(_states(net, t), _states(net, t + cycle))
        np.testing.assert_array_equal(_states(net, t), _states(net, t + 3 * cycle))
    # at t = 0 the first arm (north) has just turned green, the others are red
    s0 = _states(net, 0.0)[0]
    assert s0[net.signal_names.index("north")] == SignalState.GREEN
    for name in ("east", "south", "west", "pedestrians"):
        assert s0[net.signal_names.index(name)] == SignalState.RED


def test_switching_instants():
    timing = SignalTiming()
    net = generate_grid(1, 1, layout=IntersectionLayout(signals=timing))
    east = net.signal_names.index("east")
    g0 = timing.green_s + timing.amber_s + timing.all_red_s  # east's green start
    eps = 1e-6
    assert _states(net, g0 - eps)[0, east] == SignalState.RED
    assert _states(net, g0)[0, east] == SignalState.GREEN  # interval starts are inclusive
    assert _states(net, g0 + timing.green_s - eps)[0, east] == SignalState.GREEN
    assert _states(net, g0 + timing.green_s)[0, east] == SignalState.AMBER
    assert _states(net, g0 + timing.green_s + timing.amber_s)[0, east] == SignalState.RED


def test_override_replaces_the_plan_per_instance():
    net = generate_grid(1, 1)
    ng = net.n_signals
    rng = np.random.default_rng(3)
    for t in (0.0, 13.7, 40.2, 77.0):
        plan = _states(net, t)[0]
        override = rng.integers(-1, 5, size=(4, ng)).astype(np.int8)
        override[0, :] = -1  # instance 0 follows the plan
        override[1, :] = SignalState.OFF  # instance 1 all dark
        out = _states(net, t, override=override)
        assert out.shape == (4, ng)
        np.testing.assert_array_equal(out[0], plan)
        np.testing.assert_array_equal(out[1], np.full(ng, SignalState.OFF))
        expected = np.where(override >= 0, override, plan[None, :])
        np.testing.assert_array_equal(out, expected)
    # overriding one group leaves the others on the plan
    override = np.full((1, ng), -1, dtype=np.int8)
    override[0, 2] = SignalState.RED_AMBER
    out = _states(net, 1.0, override=override)[0]
    plan = _states(net, 1.0)[0]
    assert out[2] == SignalState.RED_AMBER
    mask = np.arange(ng) != 2
    np.testing.assert_array_equal(out[mask], plan[mask])
