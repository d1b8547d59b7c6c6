"""Ego time-to-collision and gap over a recorded trajectory (the metric kernel's rule, per row)."""

from __future__ import annotations

import math

from simcore._jit import kernel
from simcore.behavior.driver_kernels import obstacle_on_path
from simcore.behavior.route_kernels import route_index
from simcore.evaluation.metrics_kernels import TTC_HORIZON_S, TTC_LOOK_M
from simcore.road.frenet_kernels import project_on_polyline


# fmt: off
@kernel
def ego_ttc_gap(
    e, s0, x, y, yaw, speed, active, inst, length, width, rear_overhang, center_offset,
    a, b, rx, ry, rs, ttc, gap, prog,
):  # pragma: no cover - compiled
    """Per recorded row: the ego's minimum TTC (s) and bumper gap (m) to obstacles on its route.

    Same rule as ``metrics_kernels.accumulate_ego_metrics``: every active actor that blocks
    the route corridor within TTC_LOOK_M ahead (``obstacle_on_path``) gives a gap; when the
    ego closes in on it, gap / closing speed counts if below TTC_HORIZON_S. The ego's route
    progress is re-projected near its previous value, starting from ``s0`` (m).

    x, y, yaw, speed, active: (rows, n) recorded trajectory; a..b: the ego's route samples.
    Mutates: ttc, gap (rows,), inf where nothing is ahead / nothing is closing; prog (rows,) the
    ego's route progress s (m), NaN while it is inactive.
    """
    s = s0
    for r in range(x.shape[0]):
        ttc[r] = math.inf
        gap[r] = math.inf
        prog[r] = math.nan
        if not active[r, e]:
            continue
        lo = route_index(rs, a, b, s - 2.0)
        hi = min(route_index(rs, a, b, s + speed[r, e] * 1.0 + 50.0) + 2, b)
        s, _, _, _ = project_on_polyline(x[r, e], y[r, e], rx, ry, rs, lo, hi)
        prog[r] = s
        front_s = s + length[e] - rear_overhang[e]
        k0 = route_index(rs, a, b, s)
        k1 = route_index(rs, a, b, s + TTC_LOOK_M) + 1
        v = speed[r, e]
        for j in range(x.shape[1]):
            if j == e or not active[r, j] or inst[j] != inst[e]:
                continue
            g, v_lead = obstacle_on_path(
                x[r, e], y[r, e], 0.5 * width[e], s, front_s, TTC_LOOK_M, rx, ry, rs, k0, k1,
                x[r, j], y[r, j], yaw[r, j], speed[r, j], length[j], width[j], center_offset[j],
            )
            if g == math.inf:
                continue
            gap[r] = min(gap[r], g)
            closing = v - v_lead
            if closing > 1e-6:
                t = max(g, 0.0) / closing
                if t < TTC_HORIZON_S:
                    ttc[r] = min(ttc[r], t)
# fmt: on
