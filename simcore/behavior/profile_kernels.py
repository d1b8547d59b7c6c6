"""Scripted speed profiles and the storyboard's route shift, shared by the Python storyboard
(``scenario.storyboard``) and the compiled one (``runner.story_kernels``): one implementation."""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel, stage
from simcore.road.frenet_kernels import project_on_polyline
from simcore.road.query_kernels import segment_at

#: Tolerance of time comparisons (s): a trigger at t fires at the step that ends at t.
TIME_EPS = 1e-9

#: Desired speed and speed factor given to the driver model of a row under a scripted speed:
#: large enough that speed limits never bind (the scripted value is what counts).
NO_LIMIT_MPS = 1e3

#: Speed profile shapes by name; the index is the kernels' shape code (SHAPE_*).
SHAPES = ("linear", "cubic", "sinusoidal", "step")
SHAPE_LINEAR = 0
SHAPE_CUBIC = 1
SHAPE_SINUSOIDAL = 2
SHAPE_STEP = 3


@stage
def profile_speed(t, t0, v0, v1, shape, dur):  # pragma: no cover - compiled
    """Speed (m/s) at time t (s) of a profile from v0 at t0 to v1 over ``dur`` s with ``shape`` (SHAPE_*)."""
    if dur <= 0.0 or t >= t0 + dur - TIME_EPS:
        return v1
    u = min(max((t - t0) / dur, 0.0), 1.0)
    if shape == SHAPE_CUBIC:
        u = u * u * (3.0 - 2.0 * u)
    elif shape == SHAPE_SINUSOIDAL:  # half a cosine wave (OpenSCENARIO's sinusoidal shape)
        u = 0.5 * (1.0 - math.cos(math.pi * u))
    return v0 + (v1 - v0) * u


@stage
def _simpson(lo, hi, t0, v0, v1, shape, dur):  # pragma: no cover - compiled
    mid = profile_speed(0.5 * (lo + hi), t0, v0, v1, shape, dur)
    return (hi - lo) / 6.0 * (profile_speed(lo, t0, v0, v1, shape, dur) + 4.0 * mid
                              + profile_speed(hi, t0, v0, v1, shape, dur))  # fmt: skip


@stage
def profile_distance(ta, tb, t0, v0, v1, shape, dur):  # pragma: no cover - compiled
    """Distance (m) a profile covers from ta to tb (s): Simpson's rule on each piece between the
    profile's kinks (exact for the polynomial shapes; the sinusoidal one's error is below 1e-6 m
    for steps up to 0.1 s of ramps over 1 s)."""
    c1 = t0
    c2 = t0 + dur
    lo = ta
    out = 0.0
    if c1 > ta and c1 < tb:
        out += _simpson(lo, c1, t0, v0, v1, shape, dur)
        lo = c1
    if c2 > ta and c2 < tb and c2 != lo:
        out += _simpson(lo, c2, t0, v0, v1, shape, dur)
        lo = c2
    out += _simpson(lo, tb, t0, v0, v1, shape, dur)
    return out


@stage
def shift_route(row, side, offset, duration, speed, progress, rt_start, rs, rheading, rx, ry):  # pragma: no cover
    """Lane change: shift ``row``'s route samples sideways by side x offset (m, left +), blended in with
    a smoothstep over the distance it covers in ``duration`` s at its current speed (at least 1 m/s)
    from its current progress on (``scenario.storyboard.LaneChange``)."""
    a = rt_start[row]
    b = rt_start[row + 1]
    p = progress[row]
    length = max(speed[row], 1.0) * duration
    so = side * offset
    for q in range(a, b):
        u = min(max((rs[q] - p) / length, 0.0), 1.0)
        d = so * (u * u * (3.0 - 2.0 * u))
        rx[q] -= d * math.sin(rheading[q])
        ry[q] += d * math.cos(rheading[q])


@stage
def lane_at(row, progress, rt_start, rs, rlane):  # pragma: no cover - compiled
    """Lane id of ``row``'s route sample at or before its progress (-1: off the lane graph)."""
    a = rt_start[row]
    b = rt_start[row + 1]
    k = a
    for q in range(a, b):  # searchsorted(side="right") - 1, clipped to the route
        if rs[q] <= progress[row]:
            k = q
        else:
            break
    return rlane[k]


#: A local path (``follow_path``) that starts within this distance (m) after the row's previous path ended
#: continues it (chained paths continue each other, as an exact follower would).
CHAIN_M = 3.0

# The row's path chain (``follow_path_route``'s ``chain``, 5 floats): a path was followed (1/0), where it ended
# on the route (m), its end point (m, ENU) and its last segment's heading (rad).
CH_ON = 0
CH_END = 1
CH_X = 2
CH_Y = 3
CH_YAW = 4
N_CHAIN = 5


@stage
def interp_at(x, xp, fp, lo, hi):  # pragma: no cover - compiled
    """``np.interp(x, xp[lo:hi], fp[lo:hi])``: linear between the samples (``xp`` not decreasing), the end
    values outside them; among equal ``xp`` the last one's value holds from there on."""
    if x < xp[lo]:
        return fp[lo]
    if x >= xp[hi - 1]:
        return fp[hi - 1]
    a = segment_at(xp, lo, hi, x)  # xp[a] <= x < xp[a + 1]
    return (fp[a + 1] - fp[a]) / (xp[a + 1] - xp[a]) * (x - xp[a]) + fp[a]


@stage
def reference_speed(tau, v0, ts, vs, lo, hi):  # pragma: no cover - compiled
    """A ``speed_follow`` reference tau s after its start (m/s): linear from (0, v0) through the points
    (ts[k], vs[k]), k in lo..hi-1 (s after the start, not decreasing; m/s), the last speed after them."""
    if tau < ts[lo]:  # before the first point: from (0, v0) (as np.interp on the points with it in front)
        return (vs[lo] - v0) / ts[lo] * tau + v0 if tau > 0.0 else v0
    return interp_at(tau, ts, vs, lo, hi)


@stage
def track_reference(
    t, t_prev, v, a_prev, start, v0, ts, vs, lo, hi, max_accel, max_decel, accel_rate, decel_rate
):  # pragma: no cover - compiled
    """One step of a ``speed_follow`` tracker from t_prev to t (s) at speed v (m/s) and acceleration a_prev
    (m/s^2): it aims at the reference (``reference_speed``, started at ``start`` s) one step ahead, no harder
    than lets it level out on it at the jerk limits (m/s^3: how fast acceleration may rise / fall), within
    them and the acceleration limits (m/s^2). Returns the new (speed, acceleration); no look-ahead past
    corners of the reference (it overshoots a corner by up to a^2 / (2 rate))."""
    dt = t - t_prev
    tau = t - start
    vr = reference_speed(tau, v0, ts, vs, lo, hi)
    ar = (reference_speed(tau + 1e-3, v0, ts, vs, lo, hi) - vr) / 1e-3
    e = vr - v
    a = ar + e / dt
    if e > 0.0:
        a = min(a, ar + math.sqrt(2.0 * decel_rate * e))
    elif e < 0.0:
        a = max(a, ar - math.sqrt(2.0 * accel_rate * -e))
    a = min(max(a, a_prev - decel_rate * dt), a_prev + accel_rate * dt)
    a = min(max(a, -max_decel), max_accel)
    return max(v + a * dt, 0.0), a


@stage
def reference_settled(t, start, v, ts, vs, hi):  # pragma: no cover - compiled
    """Has a ``speed_follow`` started at ``start`` (s; NaN: not yet) passed its reference's last time and
    settled on its last speed (within 0.01 m/s) at t (s)?"""
    return not math.isnan(start) and t - start >= ts[hi - 1] - TIME_EPS and abs(v - vs[hi - 1]) <= 0.01


@kernel
def follow_path_route(row, p, pxs, pys, lo, hi, local, chain, c0, rt_start, rs, rheading, rx, ry):  # pragma: no cover
    """``follow_path``: reshape ``row``'s route samples (rx, ry, edited in place) into the path through the
    points (pxs[k], pys[k]), k in lo..hi-1 (m, ENU; ``local``: x forward, y left in the frame of the route
    at progress p (m), or, when a chained path ended less than CHAIN_M before p, at that path's end).

    Samples at route s in [p0, p0 + L] (p0: p or the chained end; L: the path's length) move to the path
    point at arc length s - p0; samples beyond move to the old route continued from the foot point of the
    path's end, shifted sideways by the end's offset from it. Writes the row's path chain (``chain[c0 + CH_*]``)
    and returns p0 + L, where the path ends on the route (m)."""
    a = rt_start[row]
    b = rt_start[row + 1]
    n = hi - lo
    old_x = rx[a:b].copy()
    old_y = ry[a:b].copy()
    s = rs[a:b]
    h = rheading[a:b]
    m = b - a
    px = pxs[lo:hi].copy()
    py = pys[lo:hi].copy()
    if local:
        if chain[c0 + CH_ON] == 1.0 and 0.0 <= p - chain[c0 + CH_END] < CHAIN_M:  # chained: go on from its end
            p = chain[c0 + CH_END]
            x0 = chain[c0 + CH_X]
            y0 = chain[c0 + CH_Y]
            yaw = chain[c0 + CH_YAW]
        else:  # the frame of the route point at the row's progress (where an exact follower is)
            x0 = interp_at(p, s, old_x, 0, m)
            y0 = interp_at(p, s, old_y, 0, m)
            back = max(p - 1.0, s[0])
            yaw = math.atan2(y0 - interp_at(back, s, old_y, 0, m), x0 - interp_at(back, s, old_x, 0, m))
        c = math.cos(yaw)
        sn = math.sin(yaw)
        for k in range(n):
            px[k] = x0 + c * pxs[lo + k] - sn * pys[lo + k]
            py[k] = y0 + sn * pxs[lo + k] + c * pys[lo + k]
    arc = np.zeros(n)
    for k in range(1, n):
        arc[k] = arc[k - 1] + math.hypot(px[k] - px[k - 1], py[k] - py[k - 1])
    length = arc[n - 1]
    s_end, t_end, _, _ = project_on_polyline(px[n - 1], py[n - 1], old_x, old_y, s, 0, m)
    end = p + length
    for q in range(m):
        sq = s[q]
        if p <= sq <= end:
            rx[a + q] = interp_at(sq - p, arc, px, 0, n)
            ry[a + q] = interp_at(sq - p, arc, py, 0, n)
        elif sq > end:
            s_old = min(max(sq - end + s_end, s[0]), s[m - 1])
            hb = interp_at(s_old, s, h, 0, m)
            rx[a + q] = interp_at(s_old, s, old_x, 0, m) - t_end * math.sin(hb)
            ry[a + q] = interp_at(s_old, s, old_y, 0, m) + t_end * math.cos(hb)
    chain[c0 + CH_ON] = 1.0
    chain[c0 + CH_END] = end
    chain[c0 + CH_X] = px[n - 1]
    chain[c0 + CH_Y] = py[n - 1]
    chain[c0 + CH_YAW] = math.atan2(py[n - 1] - py[n - 2], px[n - 1] - px[n - 2])
    return end
