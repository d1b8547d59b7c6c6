"""Compiled curvature-adaptive resampling of one lane's dense centre line (``builder.resample_adaptive``).

One call per lane instead of some thirty small NumPy calls: on a map of thousands of roads the
per-call overhead, not the arithmetic, was the load time.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel


@kernel
def resample_adaptive_kernel(x, y, keep, spacing, tol, min_spacing, straight_turn):  # pragma: no cover - compiled
    """(x, y, s) of a dense polyline (m) resampled with spacing ``sqrt(8 tol / |kappa|)`` clipped to
    [min_spacing, spacing], or uniformly (at most ``spacing`` apart) where no vertex turns by more
    than ``straight_turn`` rad; vertices flagged in ``keep`` (bool, same length) are kept exactly
    (adaptive case), other samples closer than a quarter of ``min_spacing`` to them dropped."""
    n = x.shape[0]
    s = np.zeros(n)
    seg = np.zeros(max(n - 1, 0))
    for i in range(1, n):
        seg[i - 1] = math.hypot(x[i] - x[i - 1], y[i] - y[i - 1])
        s[i] = s[i - 1] + seg[i - 1]
    total = s[n - 1]
    max_turn = 0.0
    if n >= 3:
        hd = np.empty(n - 1)
        for j in range(n - 1):
            hd[j] = math.atan2(y[j + 1] - y[j], x[j + 1] - x[j])
        kv = np.empty(n - 2)
        for v in range(1, n - 1):
            d = hd[v] - hd[v - 1]
            turn = abs((d + math.pi) - 2.0 * math.pi * math.floor((d + math.pi) / (2.0 * math.pi)) - math.pi)
            max_turn = max(max_turn, turn)
            kv[v - 1] = turn / max(0.5 * (seg[v - 1] + seg[v]), 1e-9)
    if not max_turn > straight_turn:  # straight (or two points): uniform samples are exact
        m = max(2, math.ceil(total / spacing - 1e-9) + 1)
        s_new = np.linspace(0.0, total, m)
        return np.interp(s_new, s, x), np.interp(s_new, s, y), s_new
    u = np.zeros(n)
    for j in range(n - 1):
        k_left = kv[j - 1] if j >= 1 else kv[0]
        k_right = kv[j] if j <= n - 3 else kv[n - 3]
        h = min(max(math.sqrt(8.0 * tol / max(max(k_left, k_right), 1e-12)), min_spacing), spacing)
        u[j + 1] = u[j] + seg[j] / h
    m = max(2, math.ceil(u[n - 1] - 1e-9) + 1)
    s_new = np.interp(np.linspace(0.0, u[n - 1], m), u, s)
    n_fixed = 0
    for i in range(n):
        if keep[i]:
            n_fixed += 1
    if n_fixed > 0:
        fixed = np.empty(n_fixed)
        c = 0
        for i in range(n):
            if keep[i]:
                fixed[c] = s[i]
                c += 1
        # drop samples within a quarter of min_spacing of a kept vertex, then merge (sorted, unique)
        out = np.empty(m + n_fixed)
        q = 0
        a = 0
        for k in range(m):
            v = s_new[k]
            while a + 1 < n_fixed and fixed[a + 1] <= v:
                a += 1
            near = abs(v - fixed[a])
            if a + 1 < n_fixed:
                near = min(near, abs(v - fixed[a + 1]))
            if near > 0.25 * min_spacing:
                out[q] = v
                q += 1
        merged = np.unique(np.concatenate((out[:q], fixed)))
        merged[0] = 0.0
        merged[merged.shape[0] - 1] = total
        s_new = merged
    return np.interp(s_new, s, x), np.interp(s_new, s, y), s_new
