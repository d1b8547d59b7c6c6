"""Crosswalk occupancy through the crosswalk grid equals testing every walker against every crosswalk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.evaluation.metrics_kernels import CROSSWALK_LOOK_S, crosswalk_occupancy
from simcore.geometry.kernels import point_in_polygon
from simcore.road.generate import generate_grid
from simcore.runner.engine import CROSSWALK_CELL_M, CROSSWALK_MARGIN_M, crosswalk_grid


def _occupancy_brute(x, y, yaw, speed, cw_x, cw_y, margin):
    """(n_walkers, n_crosswalks) flags by the rule, over every pair: the position moved ``margin`` towards the
    crosswalk's corner mean, or (walking) the point CROSSWALK_LOOK_S ahead, lies inside the polygon."""
    out = np.zeros((len(x), len(cw_x)), dtype=bool)
    for i in range(len(x)):
        fx = x[i] + speed[i] * CROSSWALK_LOOK_S * math.cos(yaw[i])
        fy = y[i] + speed[i] * CROSSWALK_LOOK_S * math.sin(yaw[i])
        for c in range(len(cw_x)):
            mx = 0.25 * (cw_x[c, 0] + cw_x[c, 1] + cw_x[c, 2] + cw_x[c, 3])
            my = 0.25 * (cw_y[c, 0] + cw_y[c, 1] + cw_y[c, 2] + cw_y[c, 3])
            dx, dy = mx - x[i], my - y[i]
            d = math.sqrt(dx * dx + dy * dy)
            px = x[i] + (dx / d * min(margin, d) if d > 0 else 0.0)
            py = y[i] + (dy / d * min(margin, d) if d > 0 else 0.0)
            out[i, c] = point_in_polygon(px, py, cw_x[c], cw_y[c]) or (
                speed[i] > 0.2 and point_in_polygon(fx, fy, cw_x[c], cw_y[c])
            )
    return out


@pytest.mark.parametrize("cell", [CROSSWALK_CELL_M, 1.5])
def test_grid_occupancy_equals_every_pair(cell):
    """Walkers on, beside and far from the crosswalks of a 2 x 2 grid (some standing, some walking
    towards or away from them, two at a crosswalk's centre, one not active) get the flags of the brute
    force over every pair; the grid is not a no-op (most pairs are never looked at)."""
    net = generate_grid(2, 2, block_m=130.0, arm_length_m=60.0)
    cw_x, cw_y = np.ascontiguousarray(net.cw_x, float), np.ascontiguousarray(net.cw_y, float)
    n_cw = len(cw_x)
    assert n_cw >= 16
    rng = np.random.default_rng(5)
    cx, cy = cw_x.mean(axis=1), cw_y.mean(axis=1)
    pick = rng.integers(n_cw, size=400)
    x = np.concatenate([cx[pick] + rng.normal(0.0, 4.0, 400), rng.uniform(-100.0, 300.0, 100), cx[:2]])
    y = np.concatenate([cy[pick] + rng.normal(0.0, 4.0, 400), rng.uniform(-100.0, 300.0, 100), cy[:2]])
    n = len(x)
    yaw = rng.uniform(-math.pi, math.pi, n)
    speed = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.0, 2.5, n))
    active = np.ones(n, dtype=bool)
    active[7] = False
    grid = crosswalk_grid(cw_x, cw_y, cell)
    occ = np.zeros((n, n_cw), dtype=bool)
    inst0 = np.zeros(n, dtype=np.int64)
    for i in range(n):  # one walker at a time: its own flags
        crosswalk_occupancy(
            np.array([i]), x, y, yaw, speed, active, inst0, cw_x, cw_y, *grid, CROSSWALK_MARGIN_M, occ[i : i + 1]
        )
    want = _occupancy_brute(x, y, yaw, speed, cw_x, cw_y, CROSSWALK_MARGIN_M)
    want[7] = False
    assert (occ == want).all()
    assert 100 < want.sum() < n * n_cw / 10
    # all walkers in one instance: the union of their flags
    one = np.zeros((1, n_cw), dtype=bool)
    crosswalk_occupancy(np.arange(n), x, y, yaw, speed, active, inst0, cw_x, cw_y, *grid,
                        CROSSWALK_MARGIN_M, one)  # fmt: skip
    assert (one[0] == want.any(axis=0)).all()
    # the cell of each crosswalk's centre lists it; a cell lists few crosswalks (the point of the grid)
    dcx, dcy, _, cell, x0, y0, nx, _, start, items = grid
    for c in range(n_cw):
        k = int((dcy[c] - y0) // cell) * nx + int((dcx[c] - x0) // cell)
        assert c in items[start[k] : start[k + 1]]
    if cell == CROSSWALK_CELL_M:
        assert np.diff(start).max() <= 4


def test_no_crosswalks():
    grid = crosswalk_grid(np.zeros((0, 4)), np.zeros((0, 4)))
    occ = np.ones((1, 0), dtype=bool)
    crosswalk_occupancy(np.array([0]), np.zeros(1), np.zeros(1), np.zeros(1), np.ones(1), np.ones(1, dtype=bool),
                        np.zeros(1, dtype=np.int64), np.zeros((0, 4)), np.zeros((0, 4)), *grid, 0.5, occ)  # fmt: skip
    assert occ.shape == (1, 0)
