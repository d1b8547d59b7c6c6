"""The ``compare`` trigger's measures and rules, and the ``in_lane`` test, over state arrays: one
implementation, used by the Python storyboard (``scenario.storyboard.Compare`` / ``OnLane``) and the
compiled one (``runner.story_kernels``).

Frames and units: positions (m, ENU), headings (rad), speeds (m/s), accelerations (m/s^2), times (s).
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import stage
from simcore.road.frenet_kernels import project_on_polyline

#: Time constant (s) of distance keeping: the gap error closes at this rate on top of the other's speed.
KEEP_TAU_S = 1.0

M_TIME = 0
M_SPEED = 1
M_ACCEL = 2
M_RELATIVE_SPEED = 3
M_DISTANCE = 4
M_LONGITUDINAL = 5
M_LATERAL = 6
M_HEADWAY = 7
M_TTC = 8
M_TRAVELED = 9
M_REMAINING = 10

R_LT = 0
R_LE = 1
R_GT = 2
R_GE = 3
R_EQ = 4
R_NE = 5

#: Tolerance of the ``eq`` / ``ne`` rules (in the measure's unit).
EQ_TOL = 1e-6


@stage
def round_time(t):  # pragma: no cover - compiled
    """t (s) rounded to 1 ns (so a time compare is not thrown by the sum of steps' rounding)."""
    return np.rint(t * 1e9) / 1e9


@stage
def _centre(r, x, y, yaw, center_offset):  # pragma: no cover - compiled
    return x[r] + center_offset[r] * math.cos(yaw[r]), y[r] + center_offset[r] * math.sin(yaw[r])


@stage
def _gap(a, b, x, y, yaw, length, center_offset):  # pragma: no cover - compiled
    """Bumper gap (m) of a and b and the vector between their box centres (``storyboard.bumper_gap``)."""
    ax, ay = _centre(a, x, y, yaw, center_offset)
    bx, by = _centre(b, x, y, yaw, center_offset)
    return math.hypot(bx - ax, by - ay) - 0.5 * (length[a] + length[b]), bx - ax, by - ay


@stage
def along(a, b, freespace, x, y, yaw, length, width, center_offset):  # pragma: no cover - compiled
    """(longitudinal, lateral) distance (m) of b from a in a's heading frame: longitudinal signed (negative
    when b is behind a), lateral absolute; ``freespace`` takes half of both boxes' extents off each
    magnitude (never below 0) and measures between the box centres."""
    if freespace:
        ax, ay = _centre(a, x, y, yaw, center_offset)
        bx, by = _centre(b, x, y, yaw, center_offset)
    else:
        ax, ay, bx, by = x[a], y[a], x[b], y[b]
    h = yaw[a]
    signed = (bx - ax) * math.cos(h) + (by - ay) * math.sin(h)
    lon = abs(signed)
    lat = abs(-(bx - ax) * math.sin(h) + (by - ay) * math.cos(h))
    if freespace:
        lon = max(lon - 0.5 * (length[a] + length[b]), 0.0)
        lat = max(lat - 0.5 * (width[a] + width[b]), 0.0)
    return math.copysign(lon, signed), lat


@stage
def time_gap(a, b, ttc, x, y, yaw, speed, length, center_offset):  # pragma: no cover - compiled
    """Time headway of a behind b (``ttc`` False: bumper gap / a's speed) or their TTC (bumper gap / closing
    speed of the box centres), s: 0 when the boxes touch, inf when a stands or they do not close
    (``storyboard.time_headway`` / ``time_to_collision``)."""
    gap, dx, dy = _gap(a, b, x, y, yaw, length, center_offset)
    if gap <= 0.0:
        return 0.0
    if not ttc:
        return gap / speed[a] if speed[a] > 0.0 else math.inf
    d = math.hypot(dx, dy)
    close = 0.0
    if d != 0.0:
        dvx = speed[b] * math.cos(yaw[b]) - speed[a] * math.cos(yaw[a])
        dvy = speed[b] * math.sin(yaw[b]) - speed[a] * math.sin(yaw[a])
        close = -(dx * dvx + dy * dvy) / d
    return gap / close if close > 0.0 else math.inf


# fmt: off
@stage
def compare_quantity(
    measure, a, b, freespace, start, route_length, t, x, y, yaw, speed, accel, progress, active, length, width,
    center_offset,
):  # pragma: no cover - compiled
    """(valid, value) of ``measure`` (M_*) of rows a and b at time t (valid False while a needed row is
    inactive). Distances of pairs are between reference points, or with ``freespace`` between the boxes;
    longitudinal (signed, negative when b is behind a) and lateral (absolute) are in a's heading frame;
    headway is signed like longitudinal; ``start`` and ``route_length`` (m) are a's route progress at the
    start and its route length (traveled, remaining)."""
    if measure == M_TIME:
        return True, round_time(t)
    if not active[a] or (b >= 0 and not active[b]):
        return False, 0.0
    if measure == M_SPEED:
        return True, speed[a]
    if measure == M_ACCEL:
        return True, accel[a]
    if measure == M_RELATIVE_SPEED:
        return True, speed[a] - speed[b]
    if measure == M_TRAVELED:
        return True, progress[a] - start
    if measure == M_REMAINING:
        return True, route_length - progress[a]
    if measure == M_DISTANCE:
        if freespace:
            return True, max(_gap(a, b, x, y, yaw, length, center_offset)[0], 0.0)
        return True, math.hypot(x[a] - x[b], y[a] - y[b])
    if measure in (M_LONGITUDINAL, M_LATERAL):
        lon, lat = along(a, b, freespace, x, y, yaw, length, width, center_offset)
        return True, (lon if measure == M_LONGITUDINAL else lat)
    if measure == M_HEADWAY:  # signed: negative when b is behind a (as esmini measures it)
        h = yaw[a]
        ahead = (x[b] - x[a]) * math.cos(h) + (y[b] - y[a]) * math.sin(h)
        v = speed[a]
        if freespace:
            d = time_gap(a, b, False, x, y, yaw, speed, length, center_offset) * v
        else:
            d = math.hypot(x[a] - x[b], y[a] - y[b])
        if not math.isfinite(d) or v <= 0.0:
            return True, (math.inf if ahead >= 0.0 else -math.inf)
        return True, math.copysign(d / v, ahead)
    return True, time_gap(a, b, True, x, y, yaw, speed, length, center_offset)  # M_TTC
# fmt: on


@stage
def apply_rule(rule, q, value):  # pragma: no cover - compiled
    """Does ``q rule value`` hold (R_*; eq / ne within EQ_TOL)?"""
    if rule == R_LT:
        return q < value
    if rule == R_LE:
        return q <= value
    if rule == R_GT:
        return q > value
    if rule == R_GE:
        return q >= value
    if rule == R_EQ:
        return abs(q - value) <= EQ_TOL
    return abs(q - value) > EQ_TOL


@stage
def on_lane(px, py, lx, ly, ls, lo, hi, half_width):  # pragma: no cover - compiled
    """Is the point (px, py) (m, ENU) on the lane whose centre line is the samples lo..hi-1 of (lx, ly) at arc
    lengths ``ls`` (m)? Its foot point lies strictly inside the line's length and it is at most
    ``half_width`` (m) from it."""
    s, t, _, _ = project_on_polyline(px, py, lx, ly, ls, lo, hi)
    return ls[lo] < s < ls[hi - 1] and abs(t) <= half_width
