"""Kernel tracing a sequence of positions along a polyline (the ego along its route), in time order."""

from __future__ import annotations

import math

from simcore._jit import kernel
from simcore.geometry.kernels import project_point_segment


@kernel
def trace_polyline(px, py, xs, ys, ss, back, ahead, out_s, out_t):  # pragma: no cover - compiled
    """Foot point (arc length s, signed lateral offset t, left +; m) of each position on the polyline.

    The first position is projected onto every segment; each later one only onto the segments
    overlapping [s_prev - back, s_prev + ahead + distance moved since the previous position], so a
    polyline that passes near itself is not short-cut. xs, ys, ss: samples (m); out_s, out_t: (n,).
    """
    m = xs.shape[0]
    prev = math.nan
    for i in range(px.shape[0]):
        lo = -math.inf
        hi = math.inf
        if i > 0:
            lo = prev - back
            hi = prev + ahead + math.hypot(px[i] - px[i - 1], py[i] - py[i - 1])
        best_d2 = math.inf
        best_s = ss[0]
        best_t = 0.0
        for k in range(m - 1):
            if ss[k + 1] < lo or ss[k] > hi:
                continue
            u, d2 = project_point_segment(px[i], py[i], xs[k], ys[k], xs[k + 1], ys[k + 1])
            if d2 < best_d2:
                best_d2 = d2
                best_s = ss[k] + u * (ss[k + 1] - ss[k])
                cross = (xs[k + 1] - xs[k]) * (py[i] - ys[k]) - (ys[k + 1] - ys[k]) * (px[i] - xs[k])
                best_t = math.sqrt(d2) if cross >= 0.0 else -math.sqrt(d2)
        out_s[i] = best_s
        out_t[i] = best_t
        prev = best_s
