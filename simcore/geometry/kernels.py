"""Numba kernels for planar geometry: angles, oriented boxes, polygons, segments, box overlaps."""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel, stage

_PI = math.pi
_TWO_PI = 2.0 * math.pi

#: Relative and absolute padding of bounding radii in the broad phase of
#: ``pairwise_box_overlaps``, so rounding never drops a pair the narrow phase would accept.
_BROAD_REL_PAD = 1e-9
_BROAD_ABS_PAD = 1e-9


@stage
def wrap_angle(a):
    """Wrap an angle to the half-open interval (-pi, pi].

    Angles already inside (-pi, pi] are returned unchanged (bit-identical). ``-pi`` maps to
    ``pi``. Non-finite input gives NaN. Any finite input lands inside the interval, but for
    very large |a| (beyond ~1e15 rad) the result carries the rounding error of ``a`` itself.

    Args:
        a: Angle in radians (float).

    Returns:
        The equivalent angle in (-pi, pi], radians.
    """
    x = float(a)
    if x > -_PI and x <= _PI:
        return x
    if not math.isfinite(x):
        return math.nan
    w = x
    # One pass leaves an error of about ulp(x); huge |x| needs a few passes (bounded).
    for _ in range(64):
        w = w - _TWO_PI * np.floor((w + _PI) / _TWO_PI)
        if w >= -_PI and w <= _PI:
            break
    # Rounding can leave w a hair outside the interval; fold it back in.
    if w <= -_PI:
        w += _TWO_PI
    if w > _PI:
        w -= _TWO_PI
    return w


@stage
def box_corners(cx, cy, yaw, length, width, out_x, out_y):
    """Write the 4 corners of an oriented box, counter-clockwise starting at front-left.

    Order: front-left, rear-left, rear-right, front-right ("front" is along +heading,
    "left" is +90 degrees from heading). This order is counter-clockwise in ENU.

    Args:
        cx: Box centre x, metres (east).
        cy: Box centre y, metres (north).
        yaw: Heading, radians CCW from +x.
        length: Extent along the heading, metres.
        width: Extent across the heading, metres.
        out_x: float64 array, shape (>= 4,); corners' x written to out_x[0:4], metres.
        out_y: float64 array, shape (>= 4,); corners' y written to out_y[0:4], metres.
    """
    c = math.cos(yaw)
    s = math.sin(yaw)
    hl = 0.5 * length
    hw = 0.5 * width
    # Half-extent vectors along heading (f) and to the left (g).
    fx = hl * c
    fy = hl * s
    gx = -hw * s
    gy = hw * c
    out_x[0] = cx + fx + gx
    out_y[0] = cy + fy + gy
    out_x[1] = cx - fx + gx
    out_y[1] = cy - fy + gy
    out_x[2] = cx - fx - gx
    out_y[2] = cy - fy - gy
    out_x[3] = cx + fx - gx
    out_y[3] = cy + fy - gy


@stage
def obb_overlap(cx1, cy1, yaw1, l1, w1, cx2, cy2, yaw2, l2, w2):
    """Separating-axis test for two oriented rectangles (closed sets).

    Boxes are closed: rectangles whose boundaries merely touch count as overlapping (up to
    floating-point rounding, which decides exactly-touching cases either way). Scalar-only,
    no allocation, so it is safe inside other kernels' hot loops. A bounding-circle test
    rejects far-apart pairs before the four SAT axes are tried. Lengths and widths are
    used by absolute value. Any non-finite input gives False.

    Args:
        cx1: Box 1 centre x, metres.
        cy1: Box 1 centre y, metres.
        yaw1: Box 1 heading, radians CCW from +x.
        l1: Box 1 length (along heading), metres.
        w1: Box 1 width (across heading), metres.
        cx2: Box 2 centre x, metres.
        cy2: Box 2 centre y, metres.
        yaw2: Box 2 heading, radians CCW from +x.
        l2: Box 2 length, metres.
        w2: Box 2 width, metres.

    Returns:
        True if the rectangles intersect or touch, False if a separating axis exists.
    """
    hl1 = 0.5 * abs(l1)
    hw1 = 0.5 * abs(w1)
    hl2 = 0.5 * abs(l2)
    hw2 = 0.5 * abs(w2)
    dx = cx2 - cx1
    dy = cy2 - cy1

    # Bounding-circle early-out. Written as "not <=" so NaN inputs reject.
    rsum = math.sqrt(hl1 * hl1 + hw1 * hw1) + math.sqrt(hl2 * hl2 + hw2 * hw2)
    if not (dx * dx + dy * dy <= rsum * rsum):
        return False

    # Unit axes: u = heading, v = left normal.
    ux1 = math.cos(yaw1)
    uy1 = math.sin(yaw1)
    ux2 = math.cos(yaw2)
    uy2 = math.sin(yaw2)
    vx1 = -uy1
    vy1 = ux1
    vx2 = -uy2
    vy2 = ux2

    # Absolute cosines between the axes of the two boxes.
    a_uu = abs(ux1 * ux2 + uy1 * uy2)  # |u1.u2| = |v1.v2|
    a_uv = abs(ux1 * vx2 + uy1 * vy2)  # |u1.v2| = |v1.u2|

    # Axis u1.
    if not (abs(dx * ux1 + dy * uy1) <= hl1 + hl2 * a_uu + hw2 * a_uv):
        return False
    # Axis v1.
    if not (abs(dx * vx1 + dy * vy1) <= hw1 + hl2 * a_uv + hw2 * a_uu):
        return False
    # Axis u2.
    if not (abs(dx * ux2 + dy * uy2) <= hl2 + hl1 * a_uu + hw1 * a_uv):
        return False
    # Axis v2 (last one: overlap iff it does not separate either).
    return abs(dx * vx2 + dy * vy2) <= hw2 + hl1 * a_uv + hw1 * a_uu


@stage
def point_in_polygon(px, py, poly_x, poly_y):
    """Even-odd (crossing-number) test of a point against a simple polygon.

    The polygon is implicitly closed (last vertex connects to the first); either winding
    works. Points exactly on the boundary may be reported either way. Polygons with fewer
    than 3 vertices contain nothing.

    Args:
        px: Point x, metres.
        py: Point y, metres.
        poly_x: float64 array, shape (n,); vertex x, metres.
        poly_y: float64 array, shape (n,); vertex y, metres.

    Returns:
        True if the point is inside the polygon.
    """
    n = min(poly_x.shape[0], poly_y.shape[0])
    if n < 3:
        return False
    inside = False
    j = n - 1
    for i in range(n):
        xi = poly_x[i]
        yi = poly_y[i]
        xj = poly_x[j]
        yj = poly_y[j]
        # Edge straddles the horizontal line through py (half-open rule avoids double counts).
        if (yi > py) != (yj > py):
            x_cross = xi + (py - yi) * (xj - xi) / (yj - yi)
            if px < x_cross:
                inside = not inside
        j = i
    return inside


@stage
def project_point_segment(px, py, ax, ay, bx, by):
    """Project a point onto segment AB.

    Args:
        px: Point x, metres.
        py: Point y, metres.
        ax: Segment start x, metres.
        ay: Segment start y, metres.
        bx: Segment end x, metres.
        by: Segment end y, metres.

    Returns:
        (t, dist_sq): t in [0, 1] is the clamped segment parameter of the closest point
        A + t (B - A) (0 for a degenerate segment A == B); dist_sq is the squared
        distance from the point to that closest point, m^2.
    """
    ex = bx - ax
    ey = by - ay
    qx = px - ax
    qy = py - ay
    ee = ex * ex + ey * ey
    t = 0.0
    if ee > 0.0:
        t = (qx * ex + qy * ey) / ee
        if t < 0.0:
            t = 0.0
        elif t > 1.0:
            t = 1.0
    rx = qx - t * ex
    ry = qy - t * ey
    return t, rx * rx + ry * ry


@stage
def point_segment_distance(px, py, ax, ay, bx, by):
    """Euclidean distance from a point to segment AB.

    Args:
        px: Point x, metres.
        py: Point y, metres.
        ax: Segment start x, metres.
        ay: Segment start y, metres.
        bx: Segment end x, metres.
        by: Segment end y, metres.

    Returns:
        Distance in metres (distance to A if the segment is degenerate).
    """
    _, d2 = project_point_segment(px, py, ax, ay, bx, by)
    return math.sqrt(d2)


#: Up to this many rows ``pairwise_box_overlaps`` tests all pairs in place instead of sweeping.
SMALL_ROWS = 48


@stage
def _sweep_interval(i, cx, cy, length, width):  # pragma: no cover - compiled
    """Broad-phase data of row ``i``: (usable, x interval lo, hi, padded bounding radius), metres.
    A row with a non-finite interval or centre y is not usable (never pairs)."""
    hl = 0.5 * abs(length[i])
    hw = 0.5 * abs(width[i])
    r = math.sqrt(hl * hl + hw * hw)
    r = r + r * _BROAD_REL_PAD + _BROAD_ABS_PAD
    pad = abs(cx[i]) * _BROAD_REL_PAD
    lo = cx[i] - r - pad
    hi = cx[i] + r + pad
    ok = math.isfinite(lo) and math.isfinite(hi) and math.isfinite(cy[i])
    return ok, lo, hi, r + abs(cy[i]) * _BROAD_REL_PAD


@stage
def _all_pairs_in_place(cx, cy, yaw, length, width, instance, active, out_i, out_j):  # pragma: no cover
    """``pairwise_box_overlaps`` by testing every pair i < j in (i, j) order. Each pair gets the
    sweep's tests in the sweep's argument order (the row with the smaller interval start first,
    ties: the lower index): x-interval and y-interval rejects, then ``obb_overlap``; so the
    pairs found are exactly the sweep's. Allocation-free."""
    n = cx.shape[0]
    cap = min(out_i.shape[0], out_j.shape[0])
    count = 0
    for i in range(n):
        ok_i, lo_i, hi_i, rad_i = _sweep_interval(i, cx, cy, length, width)
        if not (ok_i and active[i]):
            continue
        for j in range(i + 1, n):
            if not active[j] or instance[j] != instance[i]:
                continue
            ok_j, lo_j, hi_j, rad_j = _sweep_interval(j, cx, cy, length, width)
            if not ok_j:
                continue
            a, b, hi_a, lo_b = (j, i, hi_j, lo_i) if lo_j < lo_i else (i, j, hi_i, lo_j)
            if lo_b > hi_a or abs(cy[b] - cy[a]) > rad_i + rad_j:
                continue
            if obb_overlap(cx[a], cy[a], yaw[a], length[a], width[a], cx[b], cy[b], yaw[b], length[b], width[b]):
                if count < cap:
                    out_i[count] = i
                    out_j[count] = j
                count += 1
    return count


@kernel
def pairwise_box_overlaps(cx, cy, yaw, length, width, instance, active, out_i, out_j):
    """Find all overlapping pairs of active boxes that share an instance.

    Broad phase: active rows with finite cx, cy and bounding radius are sorted (stably) by
    (instance, cx - r), r being the box's bounding radius padded by a tiny amount, and
    swept along x with a y-interval reject; narrow phase is ``obb_overlap``. Rows with
    non-finite cx, cy, length or width never pair. Cost is O(n log n + k) for k candidate
    pairs in the x sweep. This function allocates scratch arrays (O(n) plus a growable
    pair buffer), so it is not allocation-free; with at most ``SMALL_ROWS`` rows it instead
    tests every pair in place (no allocation, O(n^2)) with the sweep's own rejects, which
    gives the same pairs in the same order.

    Output order is deterministic: pairs (i, j) with i < j in lexicographic (i, j) order.
    When more than C = min(len(out_i), len(out_j)) pairs exist, the first C pairs in that
    order are written and the rest are only counted; the return value is always the total.

    Args:
        cx: float64 array, shape (n,); box centres x, metres.
        cy: float64 array, shape (n,); box centres y, metres.
        yaw: float64 array, shape (n,); headings, radians CCW from +x.
        length: float64 array, shape (n,); lengths, metres.
        width: float64 array, shape (n,); widths, metres.
        instance: int32 array, shape (n,); scenario instance of each row; only rows with
            equal instance are tested against each other.
        active: bool array, shape (n,); inactive rows are ignored.
        out_i: int64 array, shape (C,); receives the lower row index of each pair.
        out_j: int64 array, shape (C,); receives the higher row index of each pair.

    Returns:
        Total number of overlapping pairs (may exceed C).
    """
    n = cx.shape[0]
    cap = min(out_i.shape[0], out_j.shape[0])

    if n <= SMALL_ROWS:
        return _all_pairs_in_place(cx, cy, yaw, length, width, instance, active, out_i, out_j)

    # Gather active rows with a finite sweep interval.
    rows = np.empty(n, np.int64)
    lo_all = np.empty(n, np.float64)
    hi_all = np.empty(n, np.float64)
    rad_all = np.empty(n, np.float64)
    m = 0
    for i in range(n):
        if not active[i]:
            continue
        ok, lo, hi, rad_i = _sweep_interval(i, cx, cy, length, width)
        if not ok:
            continue
        rows[m] = i
        lo_all[m] = lo
        hi_all[m] = hi
        rad_all[m] = rad_i
        m += 1
    if m < 2:
        return 0

    rows = rows[:m]
    lo_a = lo_all[:m]
    hi_a = hi_all[:m]
    rad = rad_all[:m]

    # Stable sort by lo, then stable sort by instance: order is by (instance, lo).
    order = np.argsort(lo_a, kind="mergesort")
    inst_sorted = np.empty(m, np.int64)
    for k in range(m):
        inst_sorted[k] = instance[rows[order[k]]]
    order2 = np.argsort(inst_sorted, kind="mergesort")
    perm = order[order2]

    # Sweep; collect pair keys i * n + j (i < j) in a growable buffer.
    kcap = 64
    keys = np.empty(kcap, np.int64)
    count = 0
    for a in range(m):
        pa = perm[a]
        ia = rows[pa]
        inst_a = instance[ia]
        hi_a_val = hi_a[pa]
        cy_a = cy[ia]
        rad_a = rad[pa]
        for b in range(a + 1, m):
            pb = perm[b]
            ib = rows[pb]
            if instance[ib] != inst_a:
                break
            if lo_a[pb] > hi_a_val:
                break
            # Cheap y-interval reject before the narrow phase.
            if abs(cy[ib] - cy_a) > rad_a + rad[pb]:
                continue
            if obb_overlap(
                cx[ia], cy[ia], yaw[ia], length[ia], width[ia], cx[ib], cy[ib], yaw[ib], length[ib], width[ib]
            ):
                if count == kcap:
                    new_keys = np.empty(2 * kcap, np.int64)
                    new_keys[:kcap] = keys
                    keys = new_keys
                    kcap *= 2
                if ia < ib:
                    keys[count] = ia * n + ib
                else:
                    keys[count] = ib * n + ia
                count += 1

    sorted_keys = np.sort(keys[:count])
    n_write = min(count, cap)
    for k in range(n_write):
        key = sorted_keys[k]
        out_i[k] = key // n
        out_j[k] = key % n
    return count
