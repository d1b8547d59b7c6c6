"""Lane-indexed leader search: vehicles bucketed by (lane, lane s) instead of projected onto every route.

A route sample of a plain lane (not in a junction, not inside a lane change of its route) carries its lane
id (``rlane``) and its arc length along that lane's own centre line (``rls``, m, from the lane's own
origin, so two routes through one lane agree on it). Each step, every driver on such a sample (on its lane:
|lateral| <= LANE_KEY_MAX_LAT_M, no discretionary offset) files the lane s of its box centre under its lane
(``lane_buckets``: a counting sort, then by lane s within the lane). A driver's leader on plain lanes is the
first filed actor ahead in the lanes of its own route (``lane_leader``); everything not filed (walkers,
actors in junctions, changing lanes, off their lane, an agent's ego) is still found geometrically.
"""

from __future__ import annotations

import math

from simcore._jit import kernel, stage
from simcore.behavior.bucket_kernels import close_buckets, open_buckets
from simcore.behavior.route_kernels import route_index
from simcore.geometry.kernels import project_point_segment

#: Largest |lateral offset| (m) from its route at which a driver is filed under its lane. With lanes at least
#: 3 m wide, a filed box (<= 2.6 m wide) stays out of a neighbour lane's obstacle corridor
#: (driver_kernels.obstacle_at_centre: half widths + CORRIDOR_MARGIN_M).
LANE_KEY_MAX_LAT_M = 0.5
#: ``route_lane_s`` searches this many lane segments behind / ahead of the previous sample's foot.
LANE_WALK_BACK = 2
LANE_WALK_AHEAD = 8


@kernel
def route_lane_s(
    rt_start, rx, ry, rs, rlane, keyable, lane_start, px, py, ps, lc_start, lc_s0, lc_s1, out
):  # pragma: no cover - compiled
    """Lane s (m, along the lane's own centre line ``px, py, ps``) of every route sample, NaN where the sample
    cannot be filed: no lane, a lane with ``keyable`` False (junction lanes), inside one of the route's lane
    changes [lc_s0, lc_s1] (m route s), or farther than LANE_KEY_MAX_LAT_M from its lane's centre line.

    Build time. rt_start (n+1,) route CSR; rx, ry, rs, rlane, out (S,); lane_start (n_lanes+1,) CSR of
    the lane points. Mutates out.
    """
    for i in range(rt_start.shape[0] - 1):
        prev = -1
        m = -1
        for k in range(rt_start[i], rt_start[i + 1]):
            out[k] = math.nan
            lane = rlane[k]
            if lane < 0 or not keyable[lane]:
                prev = -1
                continue
            la = lane_start[lane]
            lb = lane_start[lane + 1]
            if lb - la < 2:
                prev = -1
                continue
            lo = la
            hi = lb - 1
            if lane == prev:  # near the previous sample's foot (a lane never runs backwards along a route)
                lo = max(la, m - LANE_WALK_BACK)
                hi = min(lb - 1, m + LANE_WALK_AHEAD)
            best = math.inf
            bu = 0.0
            for q in range(lo, hi):
                u, d2 = project_point_segment(rx[k], ry[k], px[q], py[q], px[q + 1], py[q + 1])
                if d2 < best:
                    best = d2
                    bu = u
                    m = q
            prev = lane
            if best > LANE_KEY_MAX_LAT_M * LANE_KEY_MAX_LAT_M:
                continue
            inside = False
            for c in range(lc_start[i], lc_start[i + 1]):
                if lc_s0[c] <= rs[k] <= lc_s1[c]:
                    inside = True
                    break
            if not inside:
                out[k] = ps[m] + bu * (ps[m + 1] - ps[m])


@stage
def lane_buckets(
    idx,
    ok,
    active,
    progress,
    lateral,
    lat_off,
    center_offset,
    rt_start,
    rs,
    rlane,
    rls,
    key_lane,
    key_s,
    lb_start,
    lb_items,
):  # pragma: no cover - compiled
    """File the rows of ``idx`` that are on a plain lane under it, sorted by lane s (then row).

    A row is filed when ``ok`` (build time: a driver whose route no storyboard edits), active, on its route
    lane (lat_off 0, |lateral| <= LANE_KEY_MAX_LAT_M) and its box centre (route s progress + center_offset)
    lies on a segment whose two samples are filed on one lane (``rls``, ``rlane``). Writes key_lane (R,):
    lane id or -1 (every row), key_s (R,): lane s of the box centre (m), and the CSR lb_start (n_lanes+1,),
    lb_items (R,). No allocation.
    """
    n_l = lb_start.shape[0] - 1
    for c in range(n_l + 1):
        lb_start[c] = 0
    for i in range(key_lane.shape[0]):
        key_lane[i] = -1
    for q in range(idx.shape[0]):
        i = idx[q]
        if not ok[i] or not active[i] or lat_off[i] != 0.0 or abs(lateral[i]) > LANE_KEY_MAX_LAT_M:
            continue
        a = rt_start[i]
        b = rt_start[i + 1]
        sc = progress[i] + center_offset[i]
        if b - a < 2 or not rs[a] <= sc <= rs[b - 1]:
            continue
        k = route_index(rs, a, b, sc)
        lane = rlane[k]
        if lane < 0 or rlane[k + 1] != lane or math.isnan(rls[k]) or math.isnan(rls[k + 1]):
            continue
        key_lane[i] = lane
        key_s[i] = rls[k] + (sc - rs[k])
        lb_start[lane + 1] += 1
    open_buckets(lb_start, n_l)
    for q in range(idx.shape[0]):
        i = idx[q]
        lane = key_lane[i]
        if lane >= 0:
            lb_items[lb_start[lane]] = i
            lb_start[lane] += 1
    close_buckets(lb_start, n_l)
    # by (lane s, row) within each lane: insertion sort, the few cars of one lane
    for c in range(n_l):
        for p in range(lb_start[c] + 1, lb_start[c + 1]):
            i = lb_items[p]
            r = p
            while r > lb_start[c] and (
                key_s[lb_items[r - 1]] > key_s[i] or (key_s[lb_items[r - 1]] == key_s[i] and lb_items[r - 1] > i)
            ):
                lb_items[r] = lb_items[r - 1]
                r -= 1
            lb_items[r] = i


@stage
def lane_leader(
    i, progress, k0, k1, rs, rlane, rls, ln_next, inst, key_s, lb_start, lb_items
):  # pragma: no cover - compiled
    """The nearest filed actor ahead of row i on the plain lanes of its route between samples k0 and k1.

    Walks the route's lane runs (``ln_next``) from k0; in each filed run (lane L, lane s = route s - base)
    the first actor of L's bucket (``lane_buckets``) of i's instance whose box centre lies past route s
    ``progress``, on the stretch of L that the run covers, and not past route sample k1 is the leader.
    Returns (its box centre's route s (m), its row), or (nan, -1) when there is none.
    """
    k = k0
    while k < k1:
        nk = min(ln_next[k], k1 + 1)
        lane = rlane[k]
        if lane >= 0 and not math.isnan(rls[k]):
            base = rs[k] - rls[k]
            lo = progress - base
            first = rls[k]  # the run covers the lane from here (a route may join a lane part-way)
            hi = rs[nk - 1] - base
            for m in range(lb_start[lane], lb_start[lane + 1]):
                j = lb_items[m]
                ks = key_s[j]
                if ks <= lo or ks < first or j == i or inst[j] != inst[i]:
                    continue
                if ks > hi:
                    break
                return ks + base, j
        k = nk
    return math.nan, -1
