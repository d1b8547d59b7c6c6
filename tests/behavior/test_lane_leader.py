"""Lane-indexed leader search (behavior.lane_kernels) against projecting every actor onto the route."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from simcore.api import simulation
from simcore.behavior.driver_kernels import CORRIDOR_MARGIN_M, LANE_CHANGE_CHECK_M, along_gap, look_ahead
from simcore.behavior.lane_kernels import LANE_KEY_MAX_LAT_M, lane_buckets, lane_leader
from simcore.behavior.route_kernels import route_index, route_point

GRID = 2
N_CARS = 80


def _scenario(tmp_path, seed: int = 3) -> str:
    """A 2 x 2 junction grid with N_CARS cars from random approach lanes to random border exits."""
    rng = np.random.default_rng(seed)
    arms = ("north", "east", "south", "west")
    step = {"north": (1, 0), "south": (-1, 0), "east": (0, 1), "west": (0, -1)}
    starts = [(f"r{r}c{c}.{a}_in_{ln}", s) for r in range(GRID) for c in range(GRID) for a in arms
              for ln in (1, 2) for s in (10.0, 40.0, 70.0)]  # fmt: skip
    exits = [f"r{r}c{c}.{a}_out_{ln}" for r in range(GRID) for c in range(GRID) for a in arms for ln in (1, 2)
             if not (0 <= r + step[a][0] < GRID and 0 <= c + step[a][1] < GRID)]  # fmt: skip
    actors = []
    for q, k in enumerate(rng.choice(len(starts), size=N_CARS, replace=False)):
        lane, s = starts[int(k)]
        goal = exits[int(rng.integers(len(exits)))]
        while goal.split(".")[1].split("_")[0] == lane.split(".")[1].split("_")[0]:
            goal = exits[int(rng.integers(len(exits)))]
        actors.append({"id": f"car{q}", "vehicle": ("sedan", "van")[q % 2], "start": {"lane": lane, "s": s},
                       "route": {"to": goal}})  # fmt: skip
    doc = {
        "simcore": 1, "name": "lanes", "seed": seed, "dt": 0.05,
        "map": {"generate": "grid", "rows": GRID, "cols": GRID, "block": 130.0, "arm_length": 110.0},
        "actors": actors, "end": {"timeout_s": 5.0},
    }  # fmt: skip
    path = tmp_path / "lanes.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return simulation(_scenario(tmp_path_factory.mktemp("lanes")), record_every=0)


def _place(sim, rng) -> None:
    """Every car at a random route s on its route's centre line (heading along it): a new random world."""
    sp, es = sim.static, sim.state
    for i in sp.drive_idx:
        a, b = sp.rt_start[i], sp.rt_start[i + 1]
        s = float(rng.uniform(sp.rs[a], sp.rs[b - 1] - 5.0))
        x, y, h = route_point(es.route_x[0], es.route_y[0], sp.rs, a, b, s)
        es.x[0, i], es.y[0, i], es.yaw[0, i] = x, y, h
        es.progress[0, i], es.lateral[0, i], es.speed[0, i] = s, 0.0, float(rng.uniform(0.0, 14.0))
        es.active[0, i] = True
        es.lat_off[0, i] = 0.0


def _buckets(sim):
    sp, es, sc = sim.static, sim.state, sim.scratch
    lane_buckets(sp.drive_idx, sp.lk_ok, es.active[0], es.progress[0], es.lateral[0], es.lat_off[0],
                 sp.center_offset, sp.rt_start, sp.rs, sp.rlane, sp.rls, sc.key_lane, sc.key_s, sc.lb_start,
                 sc.lb_items)  # fmt: skip


def _brute_leader(sim, i, k0, k1):
    """Nearest filed actor ahead of i found by projecting every filed actor's box centre onto every segment of
    i's route window k0..k1 (the foot strictly inside it), in the corridor of ``obstacle_at_centre``:
    (bumper gap m, speed along m/s, row)."""
    sp, es, sc = sim.static, sim.state, sim.scratch
    rx, ry, rs = es.route_x[0], es.route_y[0], sp.rs
    x, y, yaw, v = es.x[0], es.y[0], es.yaw[0], es.speed[0]
    front_s = es.progress[0, i] + sp.length[i] - sp.rear_overhang[i]
    ax, ay = rx[k0:k1], ry[k0:k1]
    dx, dy = rx[k0 + 1 : k1 + 1] - ax, ry[k0 + 1 : k1 + 1] - ay
    seg2 = dx * dx + dy * dy
    best = (math.inf, 0.0, -1)
    for j in np.flatnonzero(sc.key_lane >= 0):
        if j == i:
            continue
        cx = x[j] + sp.center_offset[j] * math.cos(yaw[j])
        cy = y[j] + sp.center_offset[j] * math.sin(yaw[j])
        u = np.clip(((cx - ax) * dx + (cy - ay) * dy) / seg2, 0.0, 1.0)
        d = np.hypot(ax + u * dx - cx, ay + u * dy - cy)
        m = int(np.argmin(d))
        s = rs[k0 + m] + u[m] * (rs[k0 + m + 1] - rs[k0 + m])
        if not es.progress[0, i] < s < rs[k1]:
            continue
        rel = yaw[j] - math.atan2(dy[m], dx[m])
        c, sn = abs(math.cos(rel)), abs(math.sin(rel))
        if d[m] > 0.5 * sp.width[i] + 0.5 * (sp.length[j] * sn + sp.width[j] * c) + CORRIDOR_MARGIN_M:
            continue
        gap = s - front_s - 0.5 * (sp.length[j] * c + sp.width[j] * sn)
        if gap < best[0]:
            best = (gap, v[j] * math.cos(rel), j)
    return best


def _lane_leader(sim, i, k0, k1):
    sp, es, sc = sim.static, sim.state, sim.scratch
    s_j, j = lane_leader(i, es.progress[0, i], k0, k1, sp.rs, sp.rlane, sp.rls, sp.ln_next, es.instance[0],
                         sc.key_s, sc.lb_start, sc.lb_items)  # fmt: skip
    if j < 0:
        return math.inf, 0.0, -1
    rx, ry = es.route_x[0], es.route_y[0]
    a, b = sp.rt_start[i], sp.rt_start[i + 1]
    kj = route_index(sp.rs, a, b, s_j)
    rel = es.yaw[0, j] - math.atan2(ry[kj + 1] - ry[kj], rx[kj + 1] - rx[kj])
    front = sp.length[i] - sp.rear_overhang[i]
    gap, vl = along_gap(s_j, es.progress[0, i] + front, rel, abs(math.cos(rel)), abs(math.sin(rel)),
                        es.speed[0, j], sp.length[j], sp.width[j])  # fmt: skip
    return gap, vl, j


def test_route_samples_are_filed_on_plain_lanes_only(sim):
    """Lane s is set on plain lanes (advancing like route s), never on a junction lane."""
    sp = sim.static
    net = sim.world.network
    filed = ~np.isnan(sp.rls)
    assert filed.mean() > 0.5  # most of a route runs on plain lanes
    assert np.all(net.lane_junction[sp.rlane[filed]] < 0)
    assert not np.any(filed & (sp.rlane >= 0) & (net.lane_junction[np.maximum(sp.rlane, 0)] >= 0))
    same = filed[1:] & filed[:-1] & (sp.rlane[1:] == sp.rlane[:-1])
    same[sp.rt_start[1:-1] - 1] = False  # route boundaries
    d_route = np.diff(sp.rs)[same]
    d_lane = np.diff(sp.rls)[same]
    assert np.allclose(d_lane, d_route, atol=1e-6, rtol=1e-3)
    assert np.all(sp.lk_ok[sp.drive_idx[sp.drive_idx != sim.world.ego]])
    # lane runs: ln_next[k] is the first later sample of the route with another lane or filing
    for i in range(sp.rt_start.shape[0] - 1):
        a, b = sp.rt_start[i], sp.rt_start[i + 1]
        key = sp.rlane[a:b] * 2 + np.isnan(sp.rls[a:b])
        cut = np.flatnonzero(np.diff(key)) + a + 1
        want = np.append(cut, b)[np.searchsorted(cut, np.arange(a, b), side="right")]
        assert np.array_equal(sp.ln_next[a:b], want)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_lane_leader_equals_projecting_every_filed_actor(sim, seed):
    """Random worlds: for every driver without a lane change ahead, the bucket leader is the nearest filed actor
    that projecting every actor onto the driver's route finds, with the same gap and speed (to rounding of the
    two arc lengths). (Unfiled actors stay with the geometric search in ``step_drivers``.)"""
    rng = np.random.default_rng(seed)
    _place(sim, rng)
    _buckets(sim)
    sp, es, sc = sim.static, sim.state, sim.scratch
    assert np.count_nonzero(sc.key_lane >= 0) > N_CARS // 3
    # buckets hold exactly the filed rows, by lane, sorted by lane s
    for lane in range(sc.lb_start.shape[0] - 1):
        rows = sc.lb_items[sc.lb_start[lane] : sc.lb_start[lane + 1]]
        assert np.all(sc.key_lane[rows] == lane)
        assert np.all(np.diff(sc.key_s[rows]) >= 0.0)
    assert sc.lb_start[-1] == np.count_nonzero(sc.key_lane >= 0)
    found = compared = 0
    for i in sp.drive_idx:
        a, b = sp.rt_start[i], sp.rt_start[i + 1]
        look = look_ahead(es.speed[0, i], sp.b_comf[i])
        k0 = route_index(sp.rs, a, b, es.progress[0, i])
        k1 = route_index(sp.rs, a, b, es.progress[0, i] + look) + 1
        front = sp.length[i] - sp.rear_overhang[i]
        horizon = es.progress[0, i] + front + max(look, LANE_CHANGE_CHECK_M) + 1.0
        lc = slice(sp.lc_start[i], sp.lc_start[i + 1])
        if np.any((sp.lc_s1[lc] > es.progress[0, i]) & (sp.lc_s0[lc] < horizon)):
            continue  # a lane change ahead: step_drivers projects every neighbour for this driver
        compared += 1
        ref = _brute_leader(sim, i, k0, k1)
        got = _lane_leader(sim, i, k0, k1)
        assert got[2] == ref[2], (i, got, ref)
        if ref[2] >= 0:
            found += 1
            assert got[0] == pytest.approx(ref[0], abs=1e-3)
            assert got[1] == pytest.approx(ref[1], abs=1e-6)
    assert compared > N_CARS // 4 and found > 5


def test_off_lane_actors_are_not_filed(sim):
    """A car off its lane centre or beside its route (a discretionary change) stays with the geometric search."""
    rng = np.random.default_rng(9)
    _place(sim, rng)
    es, sc = sim.state, sim.scratch
    i, k = sim.static.drive_idx[0], sim.static.drive_idx[1]
    es.lateral[0, i] = LANE_KEY_MAX_LAT_M + 0.01
    es.lat_off[0, k] = 3.5
    _buckets(sim)
    assert sc.key_lane[i] == -1 and sc.key_lane[k] == -1
