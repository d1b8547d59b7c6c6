"""Static-world grid (road.static_index): queries equal brute force over generate_city's buildings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.road.generate import generate_city, generate_grid
from simcore.road.network import RoadNetwork
from simcore.road.static_index import build_static_index


@pytest.fixture(scope="module")
def city() -> RoadNetwork:
    return generate_city(2, 3)


def _polys(net: RoadNetwork) -> list[tuple[np.ndarray, np.ndarray]]:
    s = net.obj_start
    return [(net.obj_x[s[o] : s[o + 1]], net.obj_y[s[o] : s[o + 1]]) for o in range(s.size - 1)]


def _inside(x: float, y: float, px: np.ndarray, py: np.ndarray) -> bool:
    """Even-odd rule, written independently of the kernel (vectorised over edges)."""
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    crosses = (py > y) != (qy > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = px + (y - py) * (qx - px) / (qy - py)
    return bool(np.count_nonzero(crosses & (x < xc)) % 2)


def _brute_distance(x: float, y: float, px: np.ndarray, py: np.ndarray) -> float:
    if _inside(x, y, px, py):
        return 0.0
    ex, ey = np.roll(px, -1) - px, np.roll(py, -1) - py
    u = np.clip(((x - px) * ex + (y - py) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    return float(np.min(np.hypot(x - px - u * ex, y - py - u * ey)))


def _brute_hit(ax: float, ay: float, bx: float, by: float, polys) -> tuple[int, float]:
    """First hit over every edge of every object (start inside an object: distance 0)."""
    best_t, best_o = math.inf, -1
    dx, dy = bx - ax, by - ay
    for o, (px, py) in enumerate(polys):
        if _inside(ax, ay, px, py):
            return o, 0.0
        sx, sy = np.roll(px, -1) - px, np.roll(py, -1) - py
        den = dx * sy - dy * sx
        ok = den != 0
        cx, cy = px - ax, py - ay
        t = np.where(ok, (cx * sy - cy * sx) / np.where(ok, den, 1), np.inf)
        u = np.where(ok, (cx * dy - cy * dx) / np.where(ok, den, 1), np.inf)
        hit = ok & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
        if hit.any() and t[hit].min() < best_t:
            best_t, best_o = float(t[hit].min()), o
    return best_o, best_t * math.hypot(dx, dy)


def test_index_registers_every_object_and_edge(city):
    idx = build_static_index(city)
    n = len(city.obj_names)
    assert n > 20 and idx.n_objects == n
    assert idx.seg_ax.size == city.obj_x.size
    assert set(idx.cell_obj.tolist()) == set(range(n))
    # Every cell listing an object lies within the object's bounding box (padded by a cell).
    for c in range(idx.nx * idx.ny):
        cx0 = idx.x0 + (c % idx.nx) * idx.cell_size
        cy0 = idx.y0 + (c // idx.nx) * idx.cell_size
        for o in idx.cell_obj[idx.cell_start[c] : idx.cell_start[c + 1]]:
            px, py = _polys(city)[o]
            assert px.min() <= cx0 + idx.cell_size and px.max() >= cx0
            assert py.min() <= cy0 + idx.cell_size and py.max() >= cy0


@pytest.mark.parametrize("cell_size", [7.0, 16.0, 60.0])
def test_objects_near_equals_brute_force(city, cell_size):
    idx = build_static_index(city, cell_size=cell_size)
    polys = _polys(city)
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = city.bounds()
    found_some = inside_some = 0
    for _ in range(300):
        x, y = rng.uniform(x0 - 30, x1 + 30), rng.uniform(y0 - 30, y1 + 30)
        r = float(rng.choice([0.0, 1.0, 5.0, 20.0, 80.0]))
        ids, dist = idx.near(x, y, r)
        brute = {o: _brute_distance(x, y, *p) for o, p in enumerate(polys)}
        want = {o for o, d in brute.items() if d <= r}
        assert len(ids) == len(set(ids.tolist())) and set(ids.tolist()) == want, (x, y, r)
        assert np.allclose(dist, [brute[o] for o in ids], atol=1e-9)
        assert np.all(np.diff(dist) >= 0)
        found_some += bool(want)
        inside_some += any(d == 0.0 for d in brute.values())
    assert found_some > 100 and inside_some > 10


@pytest.mark.parametrize("cell_size", [7.0, 16.0, 60.0])
def test_segment_hits_object_equals_brute_force(city, cell_size):
    idx = build_static_index(city, cell_size=cell_size)
    polys = _polys(city)
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = city.bounds()
    n = 400
    ax, ay = rng.uniform(x0 - 50, x1 + 50, n), rng.uniform(y0 - 50, y1 + 50, n)
    length = rng.choice([1.0, 10.0, 60.0, 400.0], n)
    ang = rng.uniform(-math.pi, math.pi, n)
    ang[:40] = rng.choice([0.0, math.pi / 2, math.pi, -math.pi / 2], 40)  # axis-aligned rays along cell rows
    bx, by = ax + length * np.cos(ang), ay + length * np.sin(ang)
    objs, dists = idx.first_hits(ax, ay, bx, by)
    hits = 0
    for i in range(n):
        o, d = _brute_hit(ax[i], ay[i], bx[i], by[i], polys)
        assert idx.first_hit(ax[i], ay[i], bx[i], by[i]) == (int(objs[i]), float(dists[i]))
        if o < 0:
            assert objs[i] == -1 and math.isinf(dists[i]), i
            continue
        hits += 1
        assert dists[i] == pytest.approx(d, abs=1e-9), i
        # Lots are separate; the same distance could only come from a shared corner, never seen here.
        assert objs[i] == o, i
    assert 50 < hits < n


def test_empty_network_answers_nothing():
    idx = build_static_index(generate_grid(1, 1))
    assert idx.n_objects == 0
    assert idx.near(0.0, 0.0, 100.0)[0].size == 0
    assert idx.first_hit(-100.0, 0.0, 100.0, 0.0) == (-1, math.inf)
