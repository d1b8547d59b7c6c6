"""Kernels that read an actor's own route polyline: interpolation and progress along it."""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import prefetch, stage
from simcore.road.frenet_kernels import project_on_polyline

#: ``route_index`` guesses the segment from the routes' sample spacing (m; road.builder.SAMPLE_SPACING_M,
#: a test keeps them equal; any value gives the same index) and walks at most ROUTE_WALK samples from the
#: guess before it falls back to a binary search.
ROUTE_GUESS_SPACING_M = 1.0
ROUTE_WALK = 8
#: Samples per 64-byte cache line of a float64 route array (the stride of ``prefetch_route``).
LINE_SAMPLES = 8


@stage
def route_index(rs, a, b, s):  # pragma: no cover - compiled
    """Index k in [a, b-2] of the route segment containing arc length ``s`` (clamped).

    The last k with rs[k] <= s (searchsorted, side right, minus one). Routes are sampled at about
    ROUTE_GUESS_SPACING_M, so the index is guessed from s and corrected by a short walk (a binary
    search when the walk would be longer than ROUTE_WALK samples): the same index, without a
    binary search over the whole route on every call.
    """
    hi = max(b - 2, a)
    if b - a < 2 or s < rs[a]:
        return a
    if s != s:  # NaN: as the binary search
        return hi
    g = (s - rs[a]) / ROUTE_GUESS_SPACING_M
    k = a + int(g) if g < hi - a else hi
    for _ in range(ROUTE_WALK):
        if k < hi and rs[k + 1] <= s:
            k += 1
        elif rs[k] > s:
            k -= 1
        else:
            return k
    k = a + np.searchsorted(rs[a:b], s, side="right") - 1
    return min(max(k, a), hi)


@stage
def prefetch_route(rt_start, rs, i, s_from, s_to, xa, ya, za):  # pragma: no cover - compiled
    """Start loading row i's route samples from about route s ``s_from`` to ``s_to`` (m) of the
    arrays ``xa``, ``ya``, ``za`` (route-sample arrays) into the caches, one prefetch per cache line.

    Only a hint (``_jit.prefetch``): no value changes. A step visits every vehicle's own route, a
    few KB each at an unrelated address, so asking for the next vehicle's samples while this one
    is computed hides part of the memory latency the step is bound by. The sample indices are
    guessed from ROUTE_GUESS_SPACING_M (no search: a wrong guess only prefetches other samples).
    """
    a = rt_start[i]
    b = rt_start[i + 1]
    if b - a < 2:
        return
    base = rs[a]
    k = a + int(min(max((s_from - base) / ROUTE_GUESS_SPACING_M, 0.0), b - 1 - a))
    k_end = a + int(min(max((s_to - base) / ROUTE_GUESS_SPACING_M, 0.0), b - 1 - a))
    while k <= k_end:
        prefetch(xa, k)
        prefetch(ya, k)
        prefetch(za, k)
        k += LINE_SAMPLES


@stage
def route_point(rx, ry, rs, a, b, s):  # pragma: no cover - compiled
    """(x, y, heading) on the route at arc length ``s`` (m), linear between samples, clamped."""
    k = route_index(rs, a, b, s)
    ds = rs[k + 1] - rs[k]
    u = (s - rs[k]) / ds if ds > 0.0 else 0.0
    u = min(max(u, 0.0), 1.0)
    px = rx[k] + u * (rx[k + 1] - rx[k])
    py = ry[k] + u * (ry[k + 1] - ry[k])
    return px, py, math.atan2(ry[k + 1] - ry[k], rx[k + 1] - rx[k])


@stage
def update_progress(
    idx, x, y, active, rt_start, rx, ry, rs, progress, lateral, back_m, ahead_m
):  # pragma: no cover - compiled
    """Re-project actors onto their own route near their previous progress.

    Searches the window [progress - back_m, progress + ahead_m] so a route that passes
    near itself (loops, U-turns) never makes an actor jump along it.

    Mutates: progress (m along the route), lateral (m, left positive).
    """
    for k in range(idx.shape[0]):
        i = idx[k]
        if not active[i]:
            continue
        a = rt_start[i]
        b = rt_start[i + 1]
        lo = route_index(rs, a, b, progress[i] - back_m)
        hi = route_index(rs, a, b, progress[i] + ahead_m) + 2
        s, t, _, _ = project_on_polyline(x[i], y[i], rx, ry, rs, lo, min(hi, b))
        progress[i] = s
        lateral[i] = t


#: Curvature (1/m) up to which route samples count as straight for ``limit_runs`` (10 km radius).
STRAIGHT_KAPPA = 1e-4


@stage
def limit_runs(rt_start, rvlim, rk, out):  # pragma: no cover - compiled
    """Runs of one speed limit along every route, straight or of one curvature: out[k] = the first
    sample after k (on the same route) where the run that holds sample k ends, or the route's end.

    Consecutive samples share a run when their ``rvlim`` are equal and their ``rk`` are equal or
    both at most STRAIGHT_KAPPA in magnitude. The drivers' look-ahead speed
    (``driver_kernels.desired_speed``) reads one sample per run. rt_start (n+1,) CSR offsets;
    rvlim, rk, out (S,). Mutates out.
    """
    for i in range(rt_start.shape[0] - 1):
        a = rt_start[i]
        b = rt_start[i + 1]
        nxt = b
        for k in range(b - 1, a - 1, -1):
            out[k] = nxt
            if k > a:
                same_k = rk[k - 1] == rk[k] or max(abs(rk[k - 1]), abs(rk[k])) <= STRAIGHT_KAPPA
                if not (rvlim[k - 1] == rvlim[k] and same_k):
                    nxt = k
