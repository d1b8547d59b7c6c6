"""Compiled A* over the lane graph (flat CSR arrays), used by ``road.lane_graph.shortest_route``.

The search pops heap entries (f, cost, lane) in lexicographic order, exactly like a Python
``heapq`` of those tuples: every pushed tuple is unique (a lane is pushed again only with a
strictly lower cost), so any correct binary heap pops the same sequence, and with the same
float64 arithmetic and the same edge order the same route comes out, ties included.
"""

from __future__ import annotations

import numpy as np

from simcore._jit import kernel


@kernel
def _less(hf, hc, hl, i, j):  # pragma: no cover - compiled
    """Heap entry i < entry j, lexicographically on (f, cost, lane)."""
    if hf[i] != hf[j]:
        return hf[i] < hf[j]
    if hc[i] != hc[j]:
        return hc[i] < hc[j]
    return hl[i] < hl[j]


@kernel
def _swap(hf, hc, hl, i, j):  # pragma: no cover - compiled
    hf[i], hf[j] = hf[j], hf[i]
    hc[i], hc[j] = hc[j], hc[i]
    hl[i], hl[j] = hl[j], hl[i]


@kernel
def a_star_lanes(
    start,
    goal,
    min_change_len,
    change_cost,
    succ_start,
    succ_idx,
    succ_cost,
    lane_len,
    open_road,
    left,
    right,
    h,
    best,
    prev,
    touched,
    out,
):  # pragma: no cover - compiled
    """Least-cost lane sequence from ``start`` to ``goal``; returns its length n (written to
    ``out[:n]``, start first) or -1 when the goal cannot be reached.

    Edges of a lane: its successors (CSR ``succ_start``/``succ_idx``, cost ``succ_cost`` s each,
    in CSR order), then, when the lane is outside junctions (``open_road``) and at least
    ``min_change_len`` m long, its ``left`` and ``right`` neighbours (-1: none) at least that
    long, at ``change_cost`` s each. ``h`` (s) is the heuristic of every lane. Workspace:
    ``best`` (all inf) and ``prev`` (n_lanes), ``touched`` (n_lanes); entries this call sets are
    put back to inf before it returns, so the workspace is reusable.
    """
    cap = 64
    hf = np.empty(cap)
    hc = np.empty(cap)
    hl = np.empty(cap, dtype=np.int64)
    n_heap = 0
    n_touched = 0
    best[start] = 0.0
    touched[n_touched] = start
    n_touched += 1
    hf[0] = h[start]
    hc[0] = 0.0
    hl[0] = start
    n_heap = 1
    found = -1
    while n_heap > 0:
        cost = hc[0]
        lane = hl[0]
        # pop the root: move the last entry up and sift it down
        n_heap -= 1
        if n_heap > 0:
            hf[0] = hf[n_heap]
            hc[0] = hc[n_heap]
            hl[0] = hl[n_heap]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= n_heap:
                    break
                if c + 1 < n_heap and _less(hf, hc, hl, c + 1, c):
                    c += 1
                if _less(hf, hc, hl, c, i):
                    _swap(hf, hc, hl, c, i)
                    i = c
                else:
                    break
        if lane == goal:
            found = lane
            break
        if cost > best[lane]:
            continue
        n_side = 0
        if open_road[lane] and lane_len[lane] >= min_change_len:
            n_side = 2
        e0 = succ_start[lane]
        n_succ = succ_start[lane + 1] - e0
        for e in range(n_succ + n_side):
            if e < n_succ:
                nxt = succ_idx[e0 + e]
                c = succ_cost[e0 + e]
            else:
                nxt = left[lane] if e == n_succ else right[lane]
                if nxt < 0 or not lane_len[nxt] >= min_change_len:
                    continue
                c = change_cost
            nc = cost + c
            if nc < best[nxt]:
                if best[nxt] == np.inf:
                    touched[n_touched] = nxt
                    n_touched += 1
                best[nxt] = nc
                prev[nxt] = lane
                if n_heap == cap:
                    cap *= 2
                    hf2 = np.empty(cap)
                    hc2 = np.empty(cap)
                    hl2 = np.empty(cap, dtype=np.int64)
                    hf2[:n_heap] = hf[:n_heap]
                    hc2[:n_heap] = hc[:n_heap]
                    hl2[:n_heap] = hl[:n_heap]
                    hf, hc, hl = hf2, hc2, hl2
                # push and sift up
                i = n_heap
                hf[i] = nc + h[nxt]
                hc[i] = nc
                hl[i] = nxt
                n_heap += 1
                while i > 0:
                    p = (i - 1) // 2
                    if _less(hf, hc, hl, i, p):
                        _swap(hf, hc, hl, i, p)
                        i = p
                    else:
                        break
    n = 0
    if found >= 0:
        lane = goal
        out[0] = lane
        n = 1
        while lane != start:
            lane = prev[lane]
            out[n] = lane
            n += 1
        out[:n] = out[:n][::-1].copy()
    for k in range(n_touched):
        best[touched[k]] = np.inf
    return n if found >= 0 else -1
