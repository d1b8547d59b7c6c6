"""Scripted speed profiles and the storyboard's route shift, shared by the Python storyboard
(``scenario.storyboard``) and the compiled one (``runner.story_kernels``): one implementation."""

from __future__ import annotations

import math

from simcore._jit import stage

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
