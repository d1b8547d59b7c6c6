"""scan_path (skipping ahead while far) against projecting the point onto every segment of the route."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.behavior.driver_kernels import MAX_ROUTE_SPACING_M, scan_path
from simcore.geometry.kernels import project_point_segment


def every_segment(px, py, rx, ry, rs, lo, hi):
    """The definition: the first segment of lo..hi-1 at the smallest distance, (s, t, k)."""
    best = (math.nan, math.inf, -1)
    for k in range(lo, hi):
        u, d2 = project_point_segment(px, py, rx[k], ry[k], rx[k + 1], ry[k + 1])
        t = math.sqrt(d2)
        if t < best[1]:
            best = (rs[k] + u * (rs[k + 1] - rs[k]), t, k)
    return best


def route(turns, spacing):
    """A polyline of ``spacing``-m steps whose heading changes by ``turns[i]`` rad at sample i."""
    heading = np.cumsum(np.concatenate(([0.3], turns)))
    rx = np.concatenate(([0.0], np.cumsum(spacing * np.cos(heading))))
    ry = np.concatenate(([0.0], np.cumsum(spacing * np.sin(heading))))
    rs = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(rx), np.diff(ry)))))
    return rx, ry, rs


@settings(max_examples=80, deadline=None)
@given(
    turns=st.lists(st.floats(-0.8, 0.8), min_size=1, max_size=120),
    spacing=st.floats(0.2, MAX_ROUTE_SPACING_M),
    window=st.tuples(st.integers(0, 120), st.integers(0, 120)),
    near=st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(-10.0, 10.0), st.floats(-10.0, 10.0)), max_size=10),
    far=st.lists(st.tuples(st.floats(-40.0, 140.0), st.floats(-60.0, 60.0)), max_size=4),
    corridor=st.floats(0.5, 8.0),
)
def test_scan_path_equals_projecting_onto_every_segment(turns, spacing, window, near, far, corridor):
    rx, ry, rs = route(np.array(turns), spacing)
    n = rx.size
    lo, hi = sorted(min(w, n - 1) for w in window)
    # points near the route (a sample moved by dx, dy) and anywhere
    near_xy = [(rx[int(f * (n - 1))] + dx, ry[int(f * (n - 1))] + dy) for f, dx, dy in near]
    for px, py in near_xy + far:
        s, t, k = scan_path(px, py, rx, ry, rs, lo, hi, corridor)
        want = every_segment(px, py, rx, ry, rs, lo, hi)
        if want[1] <= corridor:  # callers keep only points within the corridor
            assert (k, t) == (want[2], want[1])
            assert s == want[0]
        else:
            assert k == -1 or t > corridor


def test_scan_path_ties_go_to_the_first_segment():
    # a point on the bisector of a corner is equally near both segments; repeated samples make equal segments
    rx = np.array([0.0, 1.0, 1.0, 1.0, 2.0])
    ry = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
    rs = np.array([0.0, 1.0, 1.0, 2.0, 3.0])
    assert scan_path(1.0, 0.0, rx, ry, rs, 0, 4, 1.0)[2] == 0
    assert scan_path(1.5, -0.5, rx, ry, rs, 1, 4, 1.0)[2] == 1
    assert scan_path(5.0, 5.0, rx, ry, rs, 0, 4, 1.0)[2] == -1
    # segments 0, 1 and 6 are equally near
    rx = np.array([0.0, 0.1, 0.1, 3.0, 3.0, 0.0, 0.0, 1.2])
    ry = np.array([0.0, 0.0, 3.0, 3.0, 1.0, 1.0, -0.5, -0.5])
    rs = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(rx), np.diff(ry)))))
    assert scan_path(0.6, 0.0, rx, ry, rs, 0, 7, 1.0)[1:] == (0.5, 0)
    assert scan_path(0.5, 0.5, rx, ry, rs, 2, 2, 1.0)[2] == -1
