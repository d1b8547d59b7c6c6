"""Junction passages and conflict points: the static tables ``junction_kernels.junction_holds`` reads."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from simcore._types import F64, I64, StopRule
from simcore.behavior.junction_kernels import TURN_LEFT, TURN_RIGHT, TURN_STRAIGHT
from simcore.road.lane_graph import RoutePath
from simcore.road.network import RoadNetwork

#: Two junction lanes conflict where their centre lines come closer than this (m): two cars side by side.
CONFLICT_DIST_M = 2.5
#: Lanes whose start points are closer than this diverge from one point (no conflict, m).
SAME_POINT_M = 0.5
#: A stop line at most this far before a passage's first lane is its hold line (m).
STOP_LINE_REACH_M = 15.0
#: Net heading change (rad) beyond which a passage is a left (+) or right (-) turn (about 30 degrees).
TURN_RAD = 0.5
#: Spacing of the centre-line samples compared for conflicts (m).
CONFLICT_STEP_M = 0.5


@dataclass(frozen=True)
class JunctionTable:
    """Passages of every row's route and the conflict points of the junctions they use.

    Attributes:
        ps_start: (n+1,) CSR: row i owns passages ps_start[i]:ps_start[i+1].
        ps_junc, ps_hold, ps_s1, ps_sig, ps_stop, ps_turn: per passage: junction, hold line
            (route s, m), route s where the passage ends (m), signal group of the hold line (-1:
            unsignalised), its line class (0: no line; else 1 + the line's ``StopRule``: 1 plain
            line, 2 stop sign, 3 yield sign), turn class (TURN_* of junction_kernels).
        ps_l: (n_passages+1,) CSR into pl_lane, pl_s0: the passage's lanes and the route s
            where each starts (m).
        lane_local: (n_lanes,) index of each junction lane within its junction (-1 elsewhere).
        jc_off, jc_n: (n_junctions,) offset into jc_s and lanes per junction (0: not needed).
        jc_s: per junction two n x n tables: jc_s[off + a n + b] = arc length (m) along local lane a of
            its first point within CONFLICT_DIST_M of local lane b, NaN where they do not conflict; and
            jc_s[off + n n + a n + b] = the last such point.
    """

    ps_start: I64
    ps_junc: I64
    ps_hold: F64
    ps_s1: F64
    ps_sig: I64
    ps_stop: I64
    ps_turn: I64
    ps_l: I64
    pl_lane: I64
    pl_s0: F64
    lane_local: I64
    jc_off: I64
    jc_n: I64
    jc_s: F64

    @property
    def n_junctions(self) -> int:
        """Junctions of the map."""
        return int(self.jc_n.shape[0])


def _dense(net: RoadNetwork, lane: int) -> tuple[F64, F64, F64]:
    x, y, s = net.lane_points(lane)
    ss = np.arange(0.0, s[-1], CONFLICT_STEP_M)
    ss = np.append(ss, s[-1])
    return np.interp(ss, s, x), np.interp(ss, s, y), ss


def _turn_class(heading: F64) -> int:
    d = np.diff(heading)
    total = float(np.sum((d + np.pi) % (2 * np.pi) - np.pi))
    if total > TURN_RAD:
        return TURN_LEFT
    if total < -TURN_RAD:
        return TURN_RIGHT
    return TURN_STRAIGHT


def conflict_table(net: RoadNetwork, lanes: list[int]) -> tuple[F64, F64]:
    """n x n first and last conflict arc lengths (m) among the given lanes of one junction
    (see ``JunctionTable.jc_s``)."""
    n = len(lanes)
    out = np.full((n, n), np.nan)
    last = np.full((n, n), np.nan)
    dense = [_dense(net, lane) for lane in lanes]
    succ = {lane: set(net.succ_idx[net.succ_start[lane] : net.succ_start[lane + 1]].tolist()) for lane in lanes}
    for a in range(n):
        xa, ya, sa = dense[a]
        for b in range(a + 1, n):
            xb, yb, sb = dense[b]
            if lanes[b] in succ[lanes[a]] or lanes[a] in succ[lanes[b]]:
                continue
            if np.hypot(xa[0] - xb[0], ya[0] - yb[0]) < SAME_POINT_M:
                continue
            gap = CONFLICT_DIST_M
            if (
                xa.min() > xb.max() + gap
                or xb.min() > xa.max() + gap
                or ya.min() > yb.max() + gap
                or yb.min() > ya.max() + gap
            ):
                continue
            d = np.hypot(xa[:, None] - xb[None, :], ya[:, None] - yb[None, :])
            close = d < CONFLICT_DIST_M
            if not close.any():
                continue
            ka = np.flatnonzero(close.any(axis=1))
            kb = np.flatnonzero(close.any(axis=0))
            out[a, b], last[a, b] = sa[ka[0]], sa[ka[-1]]
            out[b, a], last[b, a] = sb[kb[0]], sb[kb[-1]]
    return out, last


def _line_rule(net: RoadNetwork, path: RoutePath, hold: float, k: int) -> int:
    """``StopRule`` of the stop line at route s ``hold`` (on the lane before junction sample ``k``)."""
    rules = net.stop_rules()
    q = int(np.searchsorted(path.s, hold))
    for c in (k - 1, q, q - 1, q + 1):
        if 0 <= c < len(path.lane) and path.lane[c] >= 0 and np.isfinite(net.lane_stop_s[path.lane[c]]):
            return int(rules[path.lane[c]])
    return int(StopRule.LINE)


def _passages(
    net: RoadNetwork, path: RoutePath
) -> list[tuple[int, float, float, int, int, int, list[int], list[float]]]:
    """(junction, hold s, end s, signal, stop, turn, lanes, lane start s) of each junction passage on a route."""
    lane = path.lane
    junc = np.where(lane >= 0, net.lane_junction[np.maximum(lane, 0)], -1)
    out = []
    n = len(lane)
    # runs of samples in one junction: [k, e] with junc[k..e] == j >= 0, bounded by a change of junc
    bounds = np.concatenate([[0], np.flatnonzero(junc[1:] != junc[:-1]) + 1, [n]]).tolist() if n else []
    for k, stop_at in itertools.pairwise(bounds):
        if junc[k] < 0:
            continue
        j = int(junc[k])
        e = stop_at - 1
        # a new lane starts at the run's first sample and wherever the lane changes within the run
        first = [k, *(np.flatnonzero(lane[k + 1 : e + 1] != lane[k:e]) + k + 1).tolist()]
        lanes = [int(lane[q]) for q in first]
        starts = [float(path.s[max(q - 1, 0)]) for q in first]
        s0 = starts[0]
        hold, sig, stop = s0, -1, 0
        ahead = (path.stop_s <= s0 + 0.1) & (path.stop_s >= s0 - STOP_LINE_REACH_M)
        if ahead.any():
            m = int(np.flatnonzero(ahead)[-1])
            hold, sig = float(path.stop_s[m]), int(path.stop_signal[m])
            stop = 1 + _line_rule(net, path, hold, k)
        turn = _turn_class(path.heading[max(k - 1, 0) : e + 1])
        out.append((j, hold, float(path.s[e]), sig, stop, turn, lanes, starts))
    return out


def build_junction_table(net: RoadNetwork, paths: list[RoutePath]) -> JunctionTable:
    """Passages of every path and conflict tables of the junctions any of them crosses."""
    n_j = len(net.junction_names)
    per_row = [_passages(net, p) if np.any(p.lane >= 0) else [] for p in paths]
    used = sorted({ps[0] for row in per_row for ps in row})
    lane_local = np.full(net.n_lanes, -1, dtype=np.int64)
    jc_off = np.zeros(n_j, dtype=np.int64)
    jc_n = np.zeros(n_j, dtype=np.int64)
    blocks: list[F64] = []
    off = 0
    for j in used:
        lanes = np.flatnonzero(net.lane_junction == j).tolist()
        lane_local[lanes] = np.arange(len(lanes))
        first, last = conflict_table(net, lanes)
        jc_off[j] = off
        jc_n[j] = len(lanes)
        blocks += [first.ravel(), last.ravel()]
        off += 2 * first.size
    counts = [len(r) for r in per_row]
    flat = [ps for r in per_row for ps in r]
    pl_counts = [len(ps[6]) for ps in flat]
    return JunctionTable(
        ps_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        ps_junc=np.array([ps[0] for ps in flat], dtype=np.int64),
        ps_hold=np.array([ps[1] for ps in flat], dtype=np.float64),
        ps_s1=np.array([ps[2] for ps in flat], dtype=np.float64),
        ps_sig=np.array([ps[3] for ps in flat], dtype=np.int64),
        ps_stop=np.array([ps[4] for ps in flat], dtype=np.int64),
        ps_turn=np.array([ps[5] for ps in flat], dtype=np.int64),
        ps_l=np.concatenate([[0], np.cumsum(pl_counts)]).astype(np.int64),
        pl_lane=np.array([la for ps in flat for la in ps[6]], dtype=np.int64),
        pl_s0=np.array([s for ps in flat for s in ps[7]], dtype=np.float64),
        lane_local=lane_local,
        jc_off=jc_off,
        jc_n=jc_n,
        jc_s=np.concatenate(blocks) if blocks else np.zeros(0),
    )
