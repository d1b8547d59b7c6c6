"""Right of way at junctions: who may enter, who holds at the line (gap acceptance, first come).

A *passage* is one run of consecutive lanes of one junction along an actor's route (built by
``simcore.behavior.junctions``). Every step ``junction_holds`` finds each vehicle's current or
next passage, sorts the vehicles into per-junction buckets, and for every driver that has not
yet crossed the hold line of its passage decides whether it must hold there.

Driver i holds at its hold line (route s ``ps_hold``) for another vehicle j whose passage
conflicts with its own (lane pairs with a conflict point in ``jc_s``) and that has not yet
passed the conflict point, if any of these holds:

* j is inside the junction (its front crossed its own hold line) and reaches the conflict
  point within i's critical gap ``crit_gap`` (s), or is less than ``NEAR_M`` from it;
* j has priority over i and reaches the conflict point within i's critical gap. Priority:
  a vehicle that does not follow these rules (``yields`` False: the ego under an agent,
  scripted rows) has it whenever it is that close in time (and the rules below apply as
  well); at an unsignalised junction a passage without a stop line has priority over one
  with a stop line; at a signal the left turn (permissive) and the right turn
  on red give way to every conflicting movement whose signal is not red;
* both have stop lines (all-way stop, or the same class): first come, first served. A vehicle
  *arrives* when its front comes within ``ARRIVE_M`` of its hold line; the earlier arrival
  (ties: lower row) goes first, and a vehicle that has not arrived gives way to one that has.

Stop and yield signs (``ps_stop`` = 1 + the line's ``StopRule``): both are lines, so a vehicle
behind one gives way to the approaches without a line (the major road) as above. At a stop
sign a vehicle must also halt: it holds at the line until it has stood still (below
``HALT_MPS``) with its front within ``HALT_ZONE_M`` of the line, and only that halt counts as
its arrival (an all-way stop goes in the order of the halts). A yield sign needs no halt.

The arrival order is total and a vehicle inside the junction never holds, so holds cannot
form a cycle: the earliest arrival always may go once the junction is clear (no deadlock).
"""

from __future__ import annotations

import math

from simcore._jit import inline_stage, stage
from simcore.behavior.bucket_kernels import close_buckets, open_buckets

#: Signal states (mirror simcore._types.SignalState).
RED = 0
#: A vehicle arrives at its passage when its front bumper is this close to the hold line (m).
ARRIVE_M = 12.0
#: A vehicle inside the junction closer than this to a conflict point blocks it regardless of speed (m).
NEAR_M = 20.0
#: Passages farther ahead than this are not considered (m).
JUNCTION_LOOK_M = 80.0
#: A vehicle whose rear is this far past a conflict point has cleared it (m).
CLEAR_M = 1.0
#: A vehicle at a stop sign has halted when slower than this (m/s) ...
HALT_MPS = 0.1
#: ... with its front at most this far before the line (m); also the stop-sign infraction's zone.
HALT_ZONE_M = 5.0
#: ``ps_stop`` of a passage whose hold line is a stop sign (1 + StopRule.STOP).
PS_STOP_SIGN = 2
#: Turn classes of a passage.
TURN_RIGHT = -1
TURN_STRAIGHT = 0
TURN_LEFT = 1


@stage
def _conflict(pi, pj, ps_l, pl_lane, pl_s0, lane_local, jc_off, jc_n, jc_s, junc, rear_j, j_clear):  # pragma: no cover
    """First conflict point of passage pi with passage pj (same junction) not yet cleared by j (its
    rear ``rear_j``, route s, past the last point of its lane near i's by ``j_clear`` m).

    Returns (s_i, s_j): route s of the point on each route, or (inf, inf) if none.
    """
    off = jc_off[junc]
    n = jc_n[junc]
    best_i = math.inf
    best_j = math.inf
    for a in range(ps_l[pi], ps_l[pi + 1]):
        la = lane_local[pl_lane[a]]
        for b in range(ps_l[pj], ps_l[pj + 1]):
            lb = lane_local[pl_lane[b]]
            ca = jc_s[off + la * n + lb]
            if math.isnan(ca):
                continue
            cb = jc_s[off + lb * n + la]
            s_j = pl_s0[b] + cb
            if rear_j > pl_s0[b] + jc_s[off + n * n + lb * n + la] + j_clear:
                continue  # j's rear has left the stretch of its lane near i's
            s_i = pl_s0[a] + ca
            if s_i < best_i:
                best_i = s_i
                best_j = s_j
    return best_i, best_j


# fmt: off
@inline_stage
def junction_holds(
    t, idx, rows, ego, speed, active, inst, length, rear_overhang, progress, yields, crit_gap, right_on_red,
    ps_start, ps_junc, ps_hold, ps_s1, ps_sig, ps_stop, ps_turn, ps_l, pl_lane, pl_s0,
    lane_local, jc_off, jc_n, jc_s, sig_state,
    cur_ps, arr_ps, arr_t, jb_start, jb_items, hold_s, cur_turn,
):  # pragma: no cover - compiled
    """Hold lines of the drivers ``idx`` against every vehicle ``rows`` (which include idx).

    Args (per row, (n,)): speed (m/s), active, inst, length and
    rear_overhang (m), progress (route s of the rear axle, m), yields (bool: follows these
    rules), crit_gap (s), right_on_red (bool); passages CSR ps_start (n+1,) into ps_* (junction,
    hold line route s, route s of the passage end, signal group or -1, has a stop line, turn class)
    and ps_l (CSR into the
    passage lanes pl_lane, pl_s0 = route s where each lane starts); lane_local (n_lanes,) index
    of a lane in its junction; jc_off, jc_n (n_junctions,) and jc_s: per junction two n x n tables,
    jc_s[off + a n + b] = arc length along lane a of its first conflict with lane b (NaN: none) and
    jc_s[off + n n + a n + b] = the last such arc length;
    sig_state (n_inst, n_groups). State kept between steps: arr_ps, arr_t (passage a row arrived
    at and when, s). Scratch: cur_ps (n,), jb_start (n_junctions + 1,), jb_items (n,).

    The ego row ``ego`` (-1: none) decides like a yielding driver (its agent may read the result)
    while the others treat it as not yielding (``yields[ego]`` False: they give way to it).

    Writes hold_s[i] (route s of the line where i must stop, inf if none) for rows in idx and
    cur_turn[i] (turn class of the current passage, or -2 if none) for every row in ``rows``.
    """
    n_j = jb_start.shape[0] - 1
    for c in range(n_j + 1):
        jb_start[c] = 0
    # Current passage of every vehicle: the first whose end its rear has not passed.
    for q in range(rows.shape[0]):
        j = rows[q]
        cur_ps[j] = -1
        cur_turn[j] = -2
        if not active[j]:
            continue
        front_s = progress[j] + length[j] - rear_overhang[j]
        rear_s = progress[j] - rear_overhang[j]
        for m in range(ps_start[j], ps_start[j + 1]):
            if rear_s >= ps_s1[m]:
                continue
            if ps_hold[m] - front_s <= JUNCTION_LOOK_M:
                cur_ps[j] = m
                cur_turn[j] = ps_turn[m]
                jb_start[ps_junc[m] + 1] += 1
            break
        m = cur_ps[j]
        if m < 0:
            arr_ps[j] = -1
        elif arr_ps[j] != m:
            if ps_stop[m] == PS_STOP_SIGN:
                arrive = speed[j] < HALT_MPS and -0.5 <= ps_hold[m] - front_s <= HALT_ZONE_M
            else:
                arrive = ps_hold[m] - front_s <= ARRIVE_M
            if arrive:
                arr_ps[j] = m
                arr_t[j] = t
    # Counting sort into per-junction buckets (row order within a bucket: deterministic).
    open_buckets(jb_start, n_j)
    for q in range(rows.shape[0]):
        j = rows[q]
        m = cur_ps[j]
        if m >= 0:
            c = ps_junc[m]
            jb_items[jb_start[c]] = j
            jb_start[c] += 1
    close_buckets(jb_start, n_j)

    for q in range(idx.shape[0]):
        i = idx[q]
        hold_s[i] = math.inf
        m = cur_ps[i]
        if m < 0 or not active[i] or not (yields[i] or i == ego):
            continue
        front_i = progress[i] + length[i] - rear_overhang[i]
        hold = ps_hold[m]
        if front_i > hold + 0.5:
            continue  # inside: committed
        c = ps_junc[m]
        sig_i = ps_sig[m]
        red_i = sig_i >= 0 and sig_state[inst[i], sig_i] == RED
        if red_i and not (right_on_red[i] and ps_turn[m] == TURN_RIGHT):
            continue  # the signal holds it anyway
        minor_sig = sig_i >= 0 and (ps_turn[m] == TURN_LEFT or red_i)
        arrived_i = arr_ps[i] == m
        if ps_stop[m] == PS_STOP_SIGN and not arrived_i:
            hold_s[i] = hold  # stop sign: halt at the line first
            continue
        tc = crit_gap[i]
        must = False
        for k in range(jb_start[c], jb_start[c + 1]):
            j = jb_items[k]
            if j == i or inst[j] != inst[i]:
                continue
            mj = cur_ps[j]
            rear_j = progress[j] - rear_overhang[j]
            front_j = progress[j] + length[j] - rear_overhang[j]
            if pl_lane[ps_l[mj]] == pl_lane[ps_l[m]] and ps_hold[mj] - front_j > hold - front_i:
                continue  # j queues behind i for the same junction lane: it cannot enter first
            s_i, s_j = _conflict(m, mj, ps_l, pl_lane, pl_s0, lane_local, jc_off, jc_n, jc_s, c, rear_j, CLEAR_M)
            if s_i == math.inf:
                continue
            d_j = s_j - front_j
            eta_j = max(d_j, 0.0) / max(speed[j], 0.1)
            inside_j = front_j > ps_hold[mj] + 0.5
            if inside_j:
                if eta_j < tc or d_j < NEAR_M:
                    must = True
                    break
                continue
            sig_j = ps_sig[mj]
            red_j = sig_j >= 0 and sig_state[inst[j], sig_j] == RED
            if not yields[j] and eta_j < tc:
                must = True  # it may not give way: never cut in front of it
                break
            if sig_i >= 0 or sig_j >= 0:
                # Signalised: the minor movement (permissive left, right on red) gives way.
                if minor_sig and not red_j and not (ps_turn[mj] == TURN_LEFT and not red_i) and eta_j < tc:
                    must = True
                    break
                continue
            stop_i = ps_stop[m] != 0
            stop_j = ps_stop[mj] != 0
            if stop_i and not stop_j:
                if eta_j < tc:
                    must = True
                    break
                continue
            if stop_j and not stop_i:
                continue
            # Same class: first come, first served (ties: lower row).
            arrived_j = arr_ps[j] == mj
            if arrived_j and (not arrived_i or arr_t[j] < arr_t[i] or (arr_t[j] == arr_t[i] and j < i)):
                must = True
                break
        if must:
            hold_s[i] = hold
# fmt: on
