"""Kernels that read an actor's own route polyline: interpolation and progress along it."""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel
from simcore.road.frenet_kernels import project_on_polyline


@kernel
def route_index(rs, a, b, s):  # pragma: no cover - compiled
    """Index k in [a, b-2] of the route segment containing arc length ``s`` (clamped)."""
    k = a + np.searchsorted(rs[a:b], s, side="right") - 1
    return min(max(k, a), max(b - 2, a))


@kernel
def route_point(rx, ry, rs, a, b, s):  # pragma: no cover - compiled
    """(x, y, heading) on the route at arc length ``s`` (m), linear between samples, clamped."""
    k = route_index(rs, a, b, s)
    ds = rs[k + 1] - rs[k]
    u = (s - rs[k]) / ds if ds > 0.0 else 0.0
    u = min(max(u, 0.0), 1.0)
    px = rx[k] + u * (rx[k + 1] - rx[k])
    py = ry[k] + u * (ry[k + 1] - ry[k])
    return px, py, math.atan2(ry[k + 1] - ry[k], rx[k + 1] - rx[k])


@kernel
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
