"""route_index (guess and walk) against NumPy's binary search; limit_runs against a brute-force scan."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.behavior.driver_kernels import desired_speed
from simcore.behavior.route_kernels import (
    ROUTE_GUESS_SPACING_M,
    STRAIGHT_KAPPA,
    limit_runs,
    prefetch_route,
    route_index,
)
from simcore.road.builder import SAMPLE_SPACING_M


def reference_index(rs: np.ndarray, a: int, b: int, s: float) -> int:
    """The definition: the last k with rs[k] <= s, clamped to [a, max(b - 2, a)]."""
    k = a + int(np.searchsorted(rs[a:b], s, side="right")) - 1
    return min(max(k, a), max(b - 2, a))


def test_guess_spacing_is_the_route_sample_spacing():
    assert ROUTE_GUESS_SPACING_M == SAMPLE_SPACING_M


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(0.0, 3.0), min_size=0, max_size=40),
    start=st.floats(-5.0, 5.0),
    probes=st.lists(st.floats(-10.0, 150.0), min_size=1, max_size=20),
)
def test_route_index_equals_binary_search(steps, start, probes):
    # two routes in one CSR table: spacing from 0 (repeated samples) to 3 m, so both the walk and the
    # binary-search fallback run
    rs1 = start + np.concatenate(([0.0], np.cumsum(steps)))
    rs = np.concatenate((np.arange(5.0), rs1))
    a, b = 5, rs.size
    for s in [*probes, np.inf, -np.inf, np.nan]:
        assert route_index(rs, a, b, s) == reference_index(rs, a, b, s), s
        assert route_index(rs, 0, 5, s) == reference_index(rs, 0, 5, s), s


@settings(max_examples=40, deadline=None)
@given(
    limits=st.lists(st.sampled_from([8.0, 13.9, 16.7]), min_size=2, max_size=60),
    curv=st.lists(st.sampled_from([0.0, 0.0, 5e-5, -3e-5, 0.02, 0.02, 0.1]), min_size=60, max_size=60),
    front=st.floats(-2.0, 70.0),
    v_des=st.floats(1.0, 20.0),
    a_lat=st.sampled_from([3.0, 0.01]),
)
def test_limit_runs_and_desired_speed(limits, curv, front, v_des, a_lat):
    n = len(limits)
    rvlim = np.array(limits)
    rk = np.array(curv[:n])
    rs = np.arange(n, dtype=np.float64)
    rt_start = np.array([0, n // 2, n], dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    limit_runs(rt_start, rvlim, rk, out)

    def joined(m: int) -> bool:  # samples m - 1 and m share a run
        same_k = rk[m - 1] == rk[m] or max(abs(rk[m - 1]), abs(rk[m])) <= STRAIGHT_KAPPA
        return bool(rvlim[m - 1] == rvlim[m] and same_k)

    for a, b in ((0, n // 2), (n // 2, n)):
        for k in range(a, b):
            assert out[k] == next((m for m in range(k + 1, b) if not joined(m)), b)
    # the run-skipping scan gives the bound of the full per-sample scan (drive_control's definition), bit for bit
    b_comf, sf = 2.0, 0.95
    v0_sq = v_des * v_des
    for k in range(n // 2, n):
        d = max(rs[k] - front, 0.0)
        if 2.0 * b_comf * d >= v0_sq:
            break
        vl = rvlim[k] * sf
        vl_sq = vl * vl
        if abs(rk[k]) * vl_sq > a_lat:
            vl_sq = a_lat / abs(rk[k])
        v0_sq = min(v0_sq, vl_sq + 2.0 * b_comf * d)
    expect = max(np.sqrt(v0_sq), 0.5)
    assert desired_speed(v_des, sf, a_lat, b_comf, rs, rvlim, rk, out, n // 2, n, front) == expect


def test_prefetching_a_route_window_changes_nothing_and_stays_in_bounds():
    """``prefetch_route`` is a cache hint: arrays are unchanged, any s (outside the route, NaN-free) is clamped."""
    rs = np.concatenate((np.arange(5.0), np.arange(0.0, 40.0)))
    rt_start = np.array([0, 5, rs.size, rs.size], dtype=np.int64)
    xa, ya = rs * 2.0, -rs
    before = [a.copy() for a in (rs, xa, ya)]
    for i, (s_from, s_to) in [(0, (-50.0, 500.0)), (1, (3.0, 17.0)), (1, (1e9, 2e9)), (2, (0.0, 10.0))]:
        prefetch_route(rt_start, rs, i, s_from, s_to, xa, ya, rs)
    for a, b in zip((rs, xa, ya), before, strict=True):
        assert np.array_equal(a, b)
