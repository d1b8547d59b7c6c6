"""The storyboard inside the compiled step: triggers, actions and scripted speeds over arrays.

``runner.story_tables`` turns a World's storyboard (``scenario.storyboard.Story`` objects) into
the ``sb_*`` tables of the Static; the run-time progress (``story_fired``, ``story_done``) and the
scripted speed profiles (``prof_on``, ``prof``, ``prof_pre``) live in the EngineState, so reset,
snapshot/restore and the gym's instances cover them. ``advance`` calls :func:`story_before` before
each step and :func:`story_after` at its very end (after the trajectory row), in the order of the
Python path (``Simulation._story_step``): scripted speeds before the step, their correction after
it, then the triggers; an entry that fires writes a STORYBOARD event (``ev_a`` = entry index),
which ends the compiled call so the Python side can add the event's text (and end the run).

Semantics are those of ``scenario.storyboard`` (level triggers checked after every step, each
entry fires once, ``delay`` s later its action); the kernels below mirror its classes one to one.
An entry's trigger is a tree of nodes stored children first (``sb_lo`` CSR): leaves are measured,
``all`` / ``any`` combine their children, ``edge`` / ``held`` / ``delayed`` keep a memory per node in
the EngineState's ``story_mem`` (last check time and value; the latch time of ``delayed``), and the
nodes are evaluated on a small stack (``story_mem[..., 2]``) like the Python path evaluates them:
every node at every check of a pending entry.
"""

from __future__ import annotations

import math

from simcore._jit import borrow as bw
from simcore._jit import borrow_row as row
from simcore._jit import kernel, stage
from simcore.behavior.profile_kernels import (
    N_CHAIN,
    NO_LIMIT_MPS,
    SHAPE_STEP,
    TIME_EPS,
    follow_path_route,
    lane_at,
    profile_distance,
    profile_speed,
    reference_settled,
    shift_route,
    track_reference,
)
from simcore.behavior.signal_kernels import signal_states
from simcore.dynamics.kinematic_kernels import advance_arc
from simcore.evaluation.metrics_kernels import crosswalk_occupancy, emit_event
from simcore.road.frenet_kernels import project_on_polyline
from simcore.scenario.trigger_kernels import KEEP_TAU_S, along, apply_rule, compare_quantity, on_lane, time_gap

#: Event kind of a fired entry (``EventKind.STORYBOARD``).
EV_STORYBOARD = 7

# Trigger leaf codes (``story_tables.TriggerCode``); parameters in sbc_i (2 ints) and sbc_v (3 floats).
T_TIME = 0  # v0: time (s)
T_DISTANCE = 1  # i: a, b; v0: limit (m)
T_SPEED = 2  # i: row, above (1) / below (0); v0: value (m/s)
T_REACHES = 3  # i: row; v0: route s where the lane begins (m)
T_PROGRESS = 4  # i: row; v0: s (m)
T_SIGNAL = 5  # i: group, state
T_GAP = 6  # i: a, b; v0: limit (s); v1: 1 = TTC, 0 = headway
T_REL_SPEED = 7  # i: a, b; v0: value (m/s); v1: 1 = above
T_NEAR = 8  # i: row; v: x, y, radius (m)
T_AFTER = 9  # i: entry
T_ALL = 10  # i: number of children (the nodes just below it on the stack)
T_ANY = 11  # i: number of children
T_EDGE = 12  # i: EDGE_*; one child
T_HELD = 13  # v0: duration (s); one child
T_DELAYED = 14  # v0: delay (s); one child
T_COMPARE = 15  # i: a, b, measure (trigger_kernels.M_*), rule (R_*) + 8 x freespace; v: value, start, length
T_DONE = 16  # i: entry (done and its action finished)
T_BEFORE = 17  # i: entry (not done yet)
T_ON_LANE = 18  # i: row, the lane's centre line sb_pts[:, lo:hi] (x, y, s); v0: half width (m)

# Edge kinds (``story_tables.EDGE_KINDS``).
EDGE_RISING = 0
EDGE_FALLING = 1
EDGE_BOTH = 2

# Action codes (``story_tables.ActionCode``); parameters in sb_ai (5 ints) and sb_af (4 floats).
A_START = 0  # ai: row
A_SIGNAL = 1  # ai: group, state
A_REMOVE = 2  # ai: row
A_FRICTION = 3  # af: mu (the environment record is written on the Python side)
A_SPEED = 4  # ai: row, ref (-1: absolute), shape, how (DUR_*), hold; af: target, factor, delta, amount
A_LANE_CHANGE = 5  # ai: row, side, offsets from, offsets to; af: duration (s), median offset (m)
A_TELEPORT = 6  # ai: row, has yaw, has speed; af: x, y, yaw, speed
A_SPAWN = 7  # like A_TELEPORT plus ai[3]: placed (1) or not
A_PYTHON = 8  # only the Python side acts (end the run, weather) when it reads the event
A_MARK = 9  # nothing (an entry others refer to)
A_HALT = 10  # ai: row (a walker stops: started False)
A_FOLLOW = 11  # ai: row, ref; af: -, factor, delta (the row's speed is ref's x factor + delta, live)
A_SYNC = 12  # ai: row, master, smooth; af: s_target, s_master, tolerance (m), final, final delta (m/s; NaN: none), dt
A_KEEP = 13  # ai: row, ref, side (SIDE_*), freespace, continuous + 2 x jerk-limited; af: distance (m), time gap
#  (s) (one NaN), max accel, max decel (m/s^2), max speed (m/s) (NaN: none), accel rate up, down (m/s^3), dt
A_SPEED_FOLLOW = 14  # ai: row, the reference sb_pts[:2, lo:hi] (t s after the start, v m/s); af: max accel, max
#  decel (m/s^2), accel rate up, down (m/s^3) (inf: none), dt
A_PATH = 15  # ai: row, the path sb_pts[:2, lo:hi] (x, y m), local (1/0)
#: Float parameters per action (``sb_af`` columns).
N_AF = 8

# ``keep_distance`` sides (``story_tables.KEEP_SIDES``): where the row keeps itself from the other.
SIDE_BEHIND = 0
SIDE_AHEAD = 1
SIDE_ANY = 2

# How a speed action's duration is given.
DUR_STEP = 0
DUR_DISTANCE = 1
DUR_TIME = 2
DUR_RATE = 3

# The slots of ``prof`` (per row; shapes: ``behavior.profile_kernels.SHAPE_*``).
P_T0 = 0
P_V0 = 1
P_V1 = 2
P_DUR = 3
P_SHAPE = 4
P_HOLD = 5
P_KIND = 6  # KIND_*
P_ID = 7  # begin number (unique per run): which action's profile it is (``done`` triggers)
P_ORDER = 8  # begin number when the row became scripted: the order scripted rows are updated in
P_REF = 9  # FOLLOW: the row whose speed it follows, its factor and delta (m/s)
P_FACTOR = 10
P_DELTA = 11
P_S_TARGET = 12  # SYNC: the row's and the master's (P_REF) route s to reach together (m), tolerance (m),
P_S_MASTER = 13  # final speed and final delta (m/s; NaN: none), speed on arrival (NaN: not arrived),
P_TOL = 14  # time and speed of the smooth kind's last plan (s, m/s), the speed asked for the coming step,
P_FINAL = 15  # the step dt (s)
P_FDELTA = 16
P_ARRIVED = 17
P_MT = 18
P_MV = 19
P_NEXT = 20
P_DT = 21
P_K_DIST = 22  # KEEP: distance (m) or time gap (s) to keep (one NaN), side, freespace (1/0), continuous (1/0),
P_K_GAP = 23  # max accel, max decel (m/s^2), max speed (m/s) (NaN: none), accel rates up / down (m/s^3),
P_K_SIDE = 24  # reached (1/0), the jerk-limited kind's acceleration (m/s^2; NaN: not started)
P_K_FREE = 25
P_K_CONT = 26
P_K_ACC = 27
P_K_DEC = 28
P_K_VMAX = 29
P_K_UP = 30
P_K_DOWN = 31
P_REACHED = 32
P_KA = 33
P_F_LO = 34  # SPEED_FOLLOW: its reference's columns in sb_pts, start time (s; NaN: not started), speed then
P_F_HI = 35  # (m/s); limits in P_K_ACC, P_K_DEC, P_K_UP, P_K_DOWN, acceleration in P_KA, last time / speed in
P_F_START = 36  # P_MT / P_MV
P_F_V0 = 37
P_CHAIN = 38  # the row's path chain (``profile_kernels.CH_*``, N_CHAIN slots): where its last follow_path ended
N_PROF = P_CHAIN + N_CHAIN

# Kinds of scripted speed.
KIND_PROFILE = 0  # from v0 to v1 over a duration (``storyboard._Profile``)
KIND_FOLLOW = 1  # a continuous relative target (``storyboard._Follow``)
KIND_SYNC = 2  # reach a route point when another row reaches its own (``storyboard._Sync``)
KIND_SYNC_SMOOTH = 3  # the same, reaching the final speed gradually (``storyboard._SyncSmooth``)
KIND_KEEP = 4  # keep a distance or time gap to another row (``storyboard._Keep``)
KIND_KEEP_JERK = 5  # the same with jerk limits (``storyboard._KeepJerk``)
KIND_SPEED_FOLLOW = 6  # track a reference speed profile within jerk limits (``storyboard._FollowProfile``)

# The columns of ``story_mem`` (per trigger node).
M_T = 0  # time (s) of the node's last check (NaN: none); DELAYED: when its child first held
M_VALUE = 1  # EDGE: the child's value then (1/0); HELD: start (s) of the current run of holding checks
M_STACK = 2  # evaluation stack slot


@stage
def _release(i, prof_on, v_des, speed_factor, vdes0, sf0):  # pragma: no cover - compiled
    if prof_on[i]:
        prof_on[i] = False
        v_des[i] = vdes0[i]
        speed_factor[i] = sf0[i]


# fmt: off
@stage
def _leaf(
    c, t, sbc_kind, sbc_i, sbc_v, story_done, x, y, yaw, speed, accel, progress, active, length, width,
    center_offset, sig_state, pts,
):  # pragma: no cover - compiled
    """Does trigger leaf c (not ALL / ANY / EDGE / HELD / DELAYED / DONE) hold now (t s)?"""
    code = sbc_kind[c]
    a = sbc_i[c, 0]
    b = sbc_i[c, 1]
    v = sbc_v[c, 0]
    if code == T_TIME:
        return t >= v - TIME_EPS
    if code == T_COMPARE:
        rule = sbc_i[c, 3]
        ok, q = compare_quantity(sbc_i[c, 2], a, b, rule >= 8, sbc_v[c, 1], sbc_v[c, 2], t, x, y, yaw, speed, accel,
                                 progress, active, length, width, center_offset)  # fmt: skip
        return ok and apply_rule(rule % 8, q, v)
    if code == T_SIGNAL:
        return sig_state[0, a] == b
    if code == T_AFTER:
        return story_done[a]
    if code == T_BEFORE:
        return not story_done[a]
    if code == T_REACHES:
        return progress[a] >= v - TIME_EPS
    if not active[a]:
        return False
    if code == T_SPEED:
        return speed[a] > v if b == 1 else speed[a] < v
    if code == T_PROGRESS:
        return progress[a] >= v - TIME_EPS
    if code == T_NEAR:
        return math.hypot(x[a] - v, y[a] - sbc_v[c, 1]) <= sbc_v[c, 2]
    if code == T_ON_LANE:
        return on_lane(x[a], y[a], pts[0], pts[1], pts[2], b, sbc_i[c, 2], v)
    if not active[b]:
        return False
    if code == T_DISTANCE:
        return math.hypot(x[a] - x[b], y[a] - y[b]) < v
    if code == T_REL_SPEED:
        dv = speed[a] - speed[b]
        return dv > v if sbc_v[c, 1] == 1.0 else dv < v
    # T_GAP: time headway or TTC of a to b (``scenario.storyboard.GapBelow``)
    return time_gap(a, b, sbc_v[c, 1] == 1.0, x, y, yaw, speed, length, center_offset) < v
# fmt: on


@stage
def _memory(c, code, inner, t, dts, sbc_i, sbc_v, mem):  # pragma: no cover - compiled
    """EDGE / HELD / DELAYED node c at time t (s) whose child holds (``inner``) or not: update its memory
    (``scenario.storyboard.Edge`` / ``Held`` / ``Delayed``; the previous check counts when it was the
    previous step's, within 1.5 steps of ``dts`` s)."""
    if code == T_DELAYED:
        if math.isnan(mem[c, M_T]) and inner:
            mem[c, M_T] = t
        return not math.isnan(mem[c, M_T]) and t >= mem[c, M_T] + sbc_v[c, 0] - TIME_EPS
    t_prev = mem[c, M_T]
    seen = not math.isnan(t_prev) and not (t - t_prev > 1.5 * dts) and not (t <= t_prev)
    if code == T_EDGE:
        before = mem[c, M_VALUE]
        now = 1.0 if inner else 0.0
        mem[c, M_T] = t
        mem[c, M_VALUE] = now
        if not seen or before == now:
            return False
        kind = sbc_i[c, 0]
        return kind == EDGE_BOTH or (kind == EDGE_RISING) == inner
    # T_HELD
    if not inner:
        mem[c, M_T] = math.nan
        return False
    t0 = mem[c, M_VALUE] if seen else t
    mem[c, M_T] = t
    mem[c, M_VALUE] = t0
    return t >= t0 + sbc_v[c, 0] - TIME_EPS


@stage
def _finished(e, t, sb_act, sb_ai, sb_af, story_done, story_app, prof_on, prof, progress, pts):  # pragma: no cover
    """Has entry e done its action and has the action finished (``StoryProgress.finished``)? A speed script
    when its profile reached its end or was replaced (a FOLLOW never), a lane change after its duration, a
    path when the row's progress reached its end (``story_app[e, 1]``), every other action at once."""
    if not story_done[e]:
        return False
    code = sb_act[e]
    if code == A_LANE_CHANGE:
        return t >= story_app[e, 0] + sb_af[e, 0] - TIME_EPS
    if code == A_PATH:
        return progress[sb_ai[e, 0]] >= story_app[e, 1] - 1e-6
    if code not in (A_SPEED, A_FOLLOW, A_SYNC, A_KEEP, A_SPEED_FOLLOW):
        return True
    r = sb_ai[e, 0]
    if story_app[e, 1] < 0.0 or not prof_on[r] or prof[r, P_ID] != story_app[e, 1]:
        return True
    if prof[r, P_KIND] == KIND_FOLLOW:
        return False
    if prof[r, P_KIND] == KIND_SPEED_FOLLOW:
        return reference_settled(t, prof[r, P_F_START], prof[r, P_MV], pts[0], pts[1], int(prof[r, P_F_HI]))
    if prof[r, P_KIND] in (KIND_KEEP, KIND_KEEP_JERK):  # when the distance is reached, unless continuous
        return prof[r, P_REACHED] == 1.0 and prof[r, P_K_CONT] == 0.0
    if prof[r, P_KIND] != KIND_PROFILE:  # a synchronisation: at the arrival
        return not math.isnan(prof[r, P_ARRIVED])
    return t >= prof[r, P_T0] + prof[r, P_DUR] - TIME_EPS


@stage
def _script(r, prof_on, prof):  # pragma: no cover - compiled
    """Row r gets a new scripted speed: a new begin number; a row not scripted until now goes last in the
    update order (``ScriptedSpeeds.profiles`` is a dict: a replaced profile keeps its place)."""
    nid = 1.0
    for q in range(prof.shape[0]):
        nid = max(nid, prof[q, P_ID] + 1.0)
    if not prof_on[r]:
        prof[r, P_ORDER] = nid
    prof[r, P_ID] = nid
    prof_on[r] = True


@stage
def _sync_speed(r, p, progress, speed):  # pragma: no cover - compiled
    """Speed (m/s) of synchronised row r (``storyboard._Sync.speed``): its remaining distance over the
    master's remaining time; from the arrival on, the final speed (recorded in ``p``)."""
    if math.isnan(p[P_ARRIVED]):
        m = int(p[P_REF])
        d_a = p[P_S_TARGET] - progress[r]
        d_m = p[P_S_MASTER] - progress[m]
        if d_a > p[P_TOL] and d_m > p[P_TOL]:
            return min(max(d_a * speed[m] / d_m, 0.0), 70.0)
        if not math.isnan(p[P_FINAL]):
            p[P_ARRIVED] = p[P_FINAL]
        elif not math.isnan(p[P_FDELTA]):
            p[P_ARRIVED] = max(speed[m] + p[P_FDELTA], 0.0)
        else:
            p[P_ARRIVED] = speed[r]
    return p[P_ARRIVED]


@stage
def _sync_smooth_speed(t, r, p, progress, speed):  # pragma: no cover - compiled
    """Speed (m/s) of smoothly synchronised row r at t (s) (``storyboard._SyncSmooth.speed``): the first step
    of the quadratic profile that ends at the final speed and covers the remaining distance in the master's
    remaining time; planned once per time (kept in ``p``)."""
    arrived = not math.isnan(p[P_ARRIVED])
    if abs(t - p[P_MT]) <= TIME_EPS or arrived:
        return p[P_ARRIVED] if arrived else p[P_MV]
    if math.isnan(p[P_MV]):  # the first call: it goes on at its speed
        p[P_MT] = t
        p[P_MV] = speed[r]
        return p[P_MV]
    m = int(p[P_REF])
    d_a = p[P_S_TARGET] - progress[r]
    d_m = p[P_S_MASTER] - progress[m]
    v_m = speed[m]
    vf = p[P_FINAL] if not math.isnan(p[P_FINAL]) else max(v_m + (0.0 if math.isnan(p[P_FDELTA]) else p[P_FDELTA]), 0.0)
    h = t - p[P_MT]
    tol = p[P_TOL]
    if d_a <= tol or d_m <= tol or v_m <= 0.0 or d_m / v_m <= h:
        return _sync_speed(r, p, progress, speed) if d_a <= tol or d_m <= tol else p[P_MV]
    big_t = d_m / v_m
    c = 6.0 * (d_a - 0.5 * (p[P_MV] + vf) * big_t) / math.pow(big_t, 3.0)
    v = p[P_MV] + (vf - p[P_MV]) * h / big_t + c * h * (big_t - h)
    p[P_MT] = t
    p[P_MV] = min(max(v, 0.0), 70.0)
    return p[P_MV]


@kernel  # not a stage: it returns a view of ``prof`` (Numba allows that only with reference counting)
def _begin_live(r, kind, ref, prof_on, prof):  # pragma: no cover - compiled
    """Row r gets a live scripted speed of ``kind`` that reads row ``ref``: held (never ends by itself),
    no ramp. Returns its ``prof`` row for the kind's own parameters."""
    _script(r, prof_on, prof)
    p = prof[r]
    p[P_KIND] = kind
    p[P_T0] = 0.0
    p[P_V0] = 0.0
    p[P_V1] = 0.0
    p[P_SHAPE] = SHAPE_STEP
    p[P_DUR] = 0.0
    p[P_HOLD] = 1.0
    p[P_REF] = ref
    return p


@stage
def _profile_or_follow(t, p, speed):  # pragma: no cover - compiled
    """The speed (m/s) a PROFILE or FOLLOW ``p`` (a ``prof`` row) asks for at t (s)."""
    if p[P_KIND] == KIND_FOLLOW:
        return max(speed[int(p[P_REF])] * p[P_FACTOR] + p[P_DELTA], 0.0)
    return profile_speed(t, p[P_T0], p[P_V0], p[P_V1], p[P_SHAPE], p[P_DUR])


@stage
def _keep_speed(t, r, p, x, y, yaw, speed, length, width, center_offset):  # pragma: no cover - compiled
    """Speed (m/s) of row r keeping its distance (``storyboard._Keep.speed``): the other row's speed plus the
    gap error over KEEP_TAU_S, within the limits; computed once per time (kept in ``p``)."""
    if t == p[P_MT]:
        return p[P_MV]
    ref = int(p[P_REF])
    lon, _ = along(r, ref, p[P_K_FREE] == 1.0, x, y, yaw, length, width, center_offset)  # > 0: ref ahead of r
    v = speed[r]
    want = p[P_K_DIST] if not math.isnan(p[P_K_DIST]) else p[P_K_GAP] * v
    side = p[P_K_SIDE]
    if side == SIDE_ANY:
        side = SIDE_BEHIND if lon >= 0.0 else SIDE_AHEAD
    err = lon - want if side == SIDE_BEHIND else -lon - want  # > 0: too far from the wanted place
    target = speed[ref] + (err if side == SIDE_BEHIND else -err) / KEEP_TAU_S
    dt = p[P_DT]
    if not math.isnan(p[P_K_ACC]):
        target = min(target, v + p[P_K_ACC] * dt)
    if not math.isnan(p[P_K_DEC]):
        target = max(target, v - p[P_K_DEC] * dt)
    if not math.isnan(p[P_K_VMAX]):
        target = min(target, p[P_K_VMAX])
    if p[P_REACHED] != 1.0 and abs(err) < 0.5 and abs(v - speed[ref]) < 0.2:
        p[P_REACHED] = 1.0
    p[P_MT] = t
    p[P_MV] = max(target, 0.0)
    return p[P_MV]


@stage
def _keep_jerk_speed(t, r, p, x, y, yaw, speed, accel, length, width, center_offset):  # pragma: no cover
    """:func:`_keep_speed` whose acceleration changes by at most the rates x dt per step
    (``storyboard._KeepJerk.speed``); it starts from the row's speed and acceleration."""
    if abs(t - p[P_MT]) <= TIME_EPS:
        return p[P_MV]
    v = speed[r]
    if math.isnan(p[P_KA]):  # the first call, when the action starts
        p[P_MT] = t
        p[P_MV] = v
        p[P_KA] = accel[r]
        return v
    a_prev = p[P_KA]
    want = _keep_speed(t, r, p, x, y, yaw, speed, length, width, center_offset)
    dt = p[P_DT]
    a = (want - v) / dt
    a = min(max(a, a_prev - p[P_K_DOWN] * dt), a_prev + p[P_K_UP] * dt)
    p[P_KA] = a
    p[P_MV] = max(v + a * dt, 0.0)
    return p[P_MV]


@stage
def _speed_follow_speed(t, r, p, pts, speed, accel):  # pragma: no cover - compiled
    """Speed (m/s) of row r tracking its reference at t (s) (``storyboard._FollowProfile.speed``): one step of
    ``track_reference`` per time (kept in ``p``); the first call starts it from the row's speed and
    acceleration."""
    if abs(t - p[P_MT]) <= TIME_EPS:
        return p[P_MV]
    if math.isnan(p[P_MV]):  # the first call, when the action starts
        p[P_F_START] = t
        p[P_MT] = t
        p[P_MV] = speed[r]
        p[P_KA] = accel[r]
        p[P_F_V0] = speed[r]
        return p[P_MV]
    v, a = track_reference(t, p[P_MT], p[P_MV], p[P_KA], p[P_F_START], p[P_F_V0], pts[0], pts[1], int(p[P_F_LO]),
                           int(p[P_F_HI]), p[P_K_ACC], p[P_K_DEC], p[P_K_UP], p[P_K_DOWN])  # fmt: skip
    p[P_MT] = t
    p[P_MV] = v
    p[P_KA] = a
    return v


@stage
def _scripted_speed(
    t, r, p, x, y, yaw, progress, speed, accel, length, width, center_offset, pts
):  # pragma: no cover - compiled
    """The speed (m/s) scripted profile ``p`` (row r's ``prof`` row) asks for at t (s)."""
    kind = p[P_KIND]
    if kind == KIND_SPEED_FOLLOW:
        return _speed_follow_speed(t, r, p, pts, speed, accel)
    if kind == KIND_SYNC:
        return _sync_speed(r, p, progress, speed)
    if kind == KIND_SYNC_SMOOTH:
        return _sync_smooth_speed(t, r, p, progress, speed)
    if kind == KIND_KEEP:
        return _keep_speed(t, r, p, x, y, yaw, speed, length, width, center_offset)
    if kind == KIND_KEEP_JERK:
        return _keep_jerk_speed(t, r, p, x, y, yaw, speed, accel, length, width, center_offset)
    return _profile_or_follow(t, p, speed)


@stage
def story_before(t_now, dt, prof_on, prof, prof_pre, speed, v_des):  # pragma: no cover - compiled
    """Before a step from t_now (s): scripted rows' desired speed = the profile's at t_now + dt; remember
    their speeds (``ScriptedSpeeds.before_step``). A synchronisation's was asked for at the end of the
    previous step (``story_after``: the state has not changed since, and it reads route progress)."""
    for i in range(prof_on.shape[0]):
        if prof_on[i]:
            prof_pre[i] = speed[i]
            p = prof[i]
            if p[P_KIND] >= KIND_SYNC:  # SYNC, SYNC_SMOOTH, KEEP, KEEP_JERK, SPEED_FOLLOW
                v_des[i] = max(p[P_NEXT], 0.0)
            else:
                v_des[i] = max(_profile_or_follow(t_now + dt, p, speed), 0.0)


# fmt: off
@stage
def _impose(
    i, t_before, t, ego, prof_on, prof, prof_pre, veh_idx_st, ctrl_accel, max_decel, max_accel, max_speed, steer,
    wheelbase, x, y, yaw, progress, accel, speed, v_des, speed_factor, vdes0, sf0, length, width, center_offset, pts,
):  # pragma: no cover - compiled
    """Impose row i's scripted speed for the step from t_before to t (s) (``ScriptedSpeeds.after_step``):
    a kinematic row's pose is moved so that it covers the profile's distance; at the profile's end it is
    released (the ego: back to its agent) or left to its driver at the final speed, unless it holds."""
    dts = t - t_before
    p = prof[i]
    t0, v0, v1, shape, dur = p[P_T0], p[P_V0], p[P_V1], p[P_SHAPE], p[P_DUR]
    v_pre = prof_pre[i]
    v_new = _scripted_speed(t, i, p, x, y, yaw, progress, speed, accel, length, width, center_offset, pts)
    kinematic = True
    for q in range(veh_idx_st.shape[0]):
        if veh_idx_st[q] == i:
            kinematic = False
    if kinematic:  # replay the step's distance, step back along its arc, forward by the scripted one
        acc = min(max(ctrl_accel[i], -max_decel[i]), max_accel[i])
        vb = v_pre + acc * dts
        if vb < 0.0:
            dist = v_pre * v_pre / (2.0 * -acc) if acc < 0.0 else 0.0
        elif vb > max_speed[i]:
            dist = 0.5 * (v_pre + max_speed[i]) * dts
        else:
            dist = v_pre * dts + 0.5 * acc * dts * dts
        want = profile_distance(t_before, t, t0, v0, v1, shape, dur) if dur > 0.0 \
            else 0.5 * (v_pre + v_new) * dts
        kappa = math.tan(steer[i]) / wheelbase[i]
        nx, ny, nyaw = advance_arc(x[i], y[i], yaw[i], want - dist, kappa)
        x[i] = nx
        y[i] = ny
        yaw[i] = math.atan2(math.sin(nyaw), math.cos(nyaw))
        progress[i] += want - dist
    accel[i] = (v_new - v_pre) / dts
    speed[i] = v_new
    if t >= t0 + dur - TIME_EPS and p[P_HOLD] == 0.0:
        if i == ego:  # the agent drives the ego again
            _release(i, prof_on, v_des, speed_factor, vdes0, sf0)
        else:
            prof_on[i] = False
            v_des[i] = max(v1, 0.5)


@stage
def story_after(static, state, out, j, t_before, t, n_ev):  # pragma: no cover - compiled
    """After the step from t_before to t (s) of instance ``j``: impose the scripted speeds
    (``ScriptedSpeeds.after_step``), then check the storyboard (``StoryProgress.check``): fire pending
    triggers that hold, apply the actions that are due (one STORYBOARD event each, ``ev_a`` = entry) and,
    if any was, refresh the signal states and crosswalk occupancy at t. Returns the new event count.

    Takes the Static, EngineState and Outputs tuples and unpacks them here, so that the call inside
    ``advance``'s step loop stays small (a call with ~70 array arguments made its cold compile explode).
    Every field is read in the entry block: a tuple variable read in a later block lives in memory, and
    each read there loads the whole tuple (~700 words for the Static), which made LLVM's SROA pass take
    ~15 s CPU on this function alone.
    """
    sp, es = static, state
    ego = sp.ego
    sb_lo, sb_delay, sb_act, sb_ai, sb_af = bw(sp.sb_lo), bw(sp.sb_delay), bw(sp.sb_act), bw(sp.sb_ai), \
        bw(sp.sb_af)
    sbc_kind, sbc_i, sbc_v, sb_off, rheading, rlane = bw(sp.sbc_kind), bw(sp.sbc_i), bw(sp.sbc_v), \
        bw(sp.sb_off), bw(sp.rheading), bw(sp.rlane)
    pts = bw(sp.sb_pts)
    vdes0, sf0, veh_idx_st, wheelbase, length, center_offset = bw(sp.sb_vdes0), bw(sp.sb_sf0), \
        bw(sp.veh_idx_st), bw(sp.wheelbase), bw(sp.length), bw(sp.center_offset)
    width = bw(sp.width)
    max_accel, max_decel, max_speed, rt_start, rs = bw(sp.max_accel), bw(sp.max_decel), bw(sp.max_speed), \
        bw(sp.rt_start), bw(sp.rs)
    plan_cycle, plan_offset, plan_start, plan_t0, plan_state = bw(sp.plan_cycle), bw(sp.plan_offset), \
        bw(sp.plan_start), bw(sp.plan_t0), bw(sp.plan_state)
    ped_idx, cw_x, cw_y, cw_margin = bw(sp.ped_idx), bw(sp.cw_x), bw(sp.cw_y), sp.cw_margin
    cw_cx, cw_cy, cw_rad, cg_start, cg_items = bw(sp.cw_cx), bw(sp.cw_cy), bw(sp.cw_rad), bw(sp.cg_start), \
        bw(sp.cg_items)
    cg_cell, cg_x0, cg_y0, cg_nx, cg_ny = sp.cg_cell, sp.cg_x0, sp.cg_y0, sp.cg_nx, sp.cg_ny
    x, y, yaw, speed, steer, accel = row(es.x, j), row(es.y, j), row(es.yaw, j), row(es.speed, j), \
        row(es.steer, j), row(es.accel, j)
    vy, yaw_rate, progress, lateral = row(es.vy, j), row(es.yaw_rate, j), row(es.progress, j), row(es.lateral, j)
    active, started, inst, ped_start = row(es.active, j), row(es.started, j), row(es.instance, j), \
        row(es.ped_start, j)
    friction, v_des, speed_factor, ctrl_accel = row(es.friction, j), row(es.v_des, j), row(es.speed_factor, j), \
        row(es.ctrl_accel, j)
    rx, ry, route_mu = row(es.route_x, j), row(es.route_y, j), row(es.route_mu, j)
    sig_state, sig_override, cw_occ = row(es.sig_state, j), row(es.sig_override, j), row(es.cw_occ, j)
    story_fired, story_done, story_app, mem = row(es.story_fired, j), row(es.story_done, j), \
        row(es.story_app, j), row(es.story_mem, j)
    prof_on, prof, prof_pre = row(es.prof_on, j), row(es.prof, j), row(es.prof_pre, j)
    ev_time, ev_kind, ev_a, ev_b, ev_value = bw(out.ev_time), bw(out.ev_kind), bw(out.ev_a), bw(out.ev_b), \
        bw(out.ev_value)
    dts = t - t_before
    if dts > 0.0:
        follow = False
        for i in range(prof_on.shape[0]):
            if prof_on[i] and prof[i, P_KIND] != KIND_PROFILE:
                follow = True
        if not follow:  # profiles do not read each other: any order gives the same result
            for i in range(prof_on.shape[0]):
                if prof_on[i] and active[i]:
                    _impose(i, t_before, t, ego, prof_on, prof, prof_pre, veh_idx_st, ctrl_accel, max_decel,
                            max_accel, max_speed, steer, wheelbase, x, y, yaw, progress, accel, speed, v_des,
                            speed_factor, vdes0, sf0, length, width, center_offset, pts)
        else:  # FOLLOW / SYNC read another row: the order the rows were scripted in, as on the Python path
            last = -math.inf
            while True:
                best = -1
                first = math.inf
                for i in range(prof_on.shape[0]):
                    if prof_on[i] and last < prof[i, P_ORDER] < first:
                        best = i
                        first = prof[i, P_ORDER]
                if best < 0:
                    break
                last = first
                if active[best]:
                    _impose(best, t_before, t, ego, prof_on, prof, prof_pre, veh_idx_st, ctrl_accel, max_decel,
                            max_accel, max_speed, steer, wheelbase, x, y, yaw, progress, accel, speed, v_des,
                            speed_factor, vdes0, sf0, length, width, center_offset, pts)
    fired = False
    for e in range(sb_act.shape[0]):
        if story_done[e]:
            continue
        if math.isnan(story_fired[e]):
            lo = sb_lo[e]
            top = lo  # the stack is mem[lo:top, M_STACK]
            for c in range(lo, sb_lo[e + 1]):
                code = sbc_kind[c]
                if code in (T_ALL, T_ANY):
                    n = sbc_i[c, 0]
                    h = code == T_ALL
                    for q in range(top - n, top):
                        h = (h and mem[q, M_STACK] != 0.0) if code == T_ALL else (h or mem[q, M_STACK] != 0.0)
                    top -= n
                elif code in (T_EDGE, T_HELD, T_DELAYED):
                    top -= 1
                    h = _memory(c, code, mem[top, M_STACK] != 0.0, t, dts, sbc_i, sbc_v, mem)
                elif code == T_DONE:
                    h = _finished(sbc_i[c, 0], t, sb_act, sb_ai, sb_af, story_done, story_app, prof_on, prof,
                                  progress, pts)
                else:
                    h = _leaf(c, t, sbc_kind, sbc_i, sbc_v, story_done, x, y, yaw, speed, accel, progress, active,
                              length, width, center_offset, sig_state, pts)
                mem[top, M_STACK] = 1.0 if h else 0.0
                top += 1
            if mem[lo, M_STACK] != 0.0:
                story_fired[e] = t
        if math.isnan(story_fired[e]) or t < story_fired[e] + sb_delay[e] - TIME_EPS:
            continue
        story_done[e] = True
        story_app[e, 0] = t
        fired = True
        code = sb_act[e]
        r = sb_ai[e, 0]
        if code in (A_START, A_SPAWN):
            active[r] = True
            started[r] = True
            ped_start[r] = min(ped_start[r], t)
            if code == A_START:
                _release(r, prof_on, v_des, speed_factor, vdes0, sf0)
        elif code == A_SIGNAL:
            sig_override[:, r] = sb_ai[e, 1]
        elif code == A_REMOVE:
            active[r] = False
            speed[r] = 0.0
        elif code == A_HALT:
            started[r] = False
        elif code == A_FRICTION:
            route_mu[:] = sb_af[e, 0]
            friction[:] = sb_af[e, 0]
        elif code == A_SPEED:
            ref = sb_ai[e, 1]
            shape = sb_ai[e, 2]
            how = sb_ai[e, 3]
            vs = speed[r]
            target = sb_af[e, 0]
            if ref >= 0:
                target = max(speed[ref] * sb_af[e, 1] + sb_af[e, 2], 0.0)
            if shape == SHAPE_STEP or how == DUR_STEP:
                dur = 0.0
            elif how == DUR_DISTANCE:  # the mean speed of a linear or cubic ramp is (v0 + v1) / 2
                dur = 2.0 * sb_af[e, 3] / max(vs + target, 1e-6)
            elif how == DUR_TIME:
                dur = sb_af[e, 3]
            else:
                dur = abs(target - vs) / sb_af[e, 3]
            _script(r, prof_on, prof)
            p = prof[r]
            p[P_KIND] = KIND_PROFILE
            p[P_T0] = t
            p[P_V0] = vs
            p[P_V1] = target
            p[P_SHAPE] = shape
            p[P_DUR] = dur
            p[P_HOLD] = 1.0 if (sb_ai[e, 4] == 1 or target == 0.0) else 0.0
            speed_factor[r] = NO_LIMIT_MPS
            v_des[r] = max(target, 0.0)
            if dur <= 0.0:  # a step: the speed changes now
                speed[r] = target
            story_app[e, 1] = p[P_ID]
        elif code in (A_FOLLOW, A_SYNC, A_KEEP, A_SPEED_FOLLOW):  # a live speed (that may read other rows)
            if code == A_FOLLOW:
                kind = KIND_FOLLOW
            elif code == A_SYNC:
                kind = KIND_SYNC_SMOOTH if sb_ai[e, 2] == 1 else KIND_SYNC
            elif code == A_SPEED_FOLLOW:
                kind = KIND_SPEED_FOLLOW
            else:
                kind = KIND_KEEP_JERK if sb_ai[e, 4] >= 2 else KIND_KEEP
            p = _begin_live(r, kind, r if code == A_SPEED_FOLLOW else sb_ai[e, 1], prof_on, prof)
            if code == A_SPEED_FOLLOW:
                p[P_F_LO] = sb_ai[e, 1]
                p[P_F_HI] = sb_ai[e, 2]
                p[P_K_ACC] = sb_af[e, 0]
                p[P_K_DEC] = sb_af[e, 1]
                p[P_K_UP] = sb_af[e, 2]
                p[P_K_DOWN] = sb_af[e, 3]
                p[P_DT] = sb_af[e, 4]
                p[P_F_START] = math.nan
                p[P_KA] = math.nan
                p[P_MT] = math.nan
                p[P_MV] = math.nan
            elif code == A_FOLLOW:
                p[P_FACTOR] = sb_af[e, 1]
                p[P_DELTA] = sb_af[e, 2]
            elif code == A_SYNC:
                p[P_S_TARGET] = sb_af[e, 0]
                p[P_S_MASTER] = sb_af[e, 1]
                p[P_TOL] = sb_af[e, 2]
                p[P_FINAL] = sb_af[e, 3]
                p[P_FDELTA] = sb_af[e, 4]
                p[P_DT] = sb_af[e, 5]
                p[P_ARRIVED] = math.nan
                p[P_MT] = math.nan
                p[P_MV] = math.nan
            else:
                p[P_K_SIDE] = sb_ai[e, 2]
                p[P_K_FREE] = sb_ai[e, 3]
                p[P_K_CONT] = sb_ai[e, 4] % 2
                p[P_K_DIST] = sb_af[e, 0]
                p[P_K_GAP] = sb_af[e, 1]
                p[P_K_ACC] = sb_af[e, 2]
                p[P_K_DEC] = sb_af[e, 3]
                p[P_K_VMAX] = sb_af[e, 4]
                p[P_K_UP] = sb_af[e, 5]
                p[P_K_DOWN] = sb_af[e, 6]
                p[P_DT] = sb_af[e, 7]
                p[P_REACHED] = 0.0
                p[P_KA] = math.nan
                p[P_MT] = math.nan
                p[P_MV] = 0.0
            speed_factor[r] = NO_LIMIT_MPS  # ``ScriptedSpeeds.script``: the speed is set now
            v = _scripted_speed(t, r, p, x, y, yaw, progress, speed, accel, length, width, center_offset, pts)
            v_des[r] = v
            speed[r] = v
            story_app[e, 1] = p[P_ID]
        elif code == A_LANE_CHANGE:
            lane = lane_at(r, progress, rt_start, rs, rlane)
            off = sb_off[sb_ai[e, 2] + lane] if lane >= 0 else sb_af[e, 1]
            shift_route(r, sb_ai[e, 1], off, sb_af[e, 0], speed, progress, rt_start, rs, rheading, rx, ry)
        elif code == A_PATH:  # story_app[e, 1]: where the path ends on the route (``done``)
            story_app[e, 1] = follow_path_route(r, progress[r], pts[0], pts[1], sb_ai[e, 1], sb_ai[e, 2], sb_ai[e, 3],
                                                prof[r], P_CHAIN, rt_start, rs, rheading, rx, ry)
        if (code == A_TELEPORT or (code == A_SPAWN and sb_ai[e, 3] == 1)):
            s, lat, k, _ = project_on_polyline(sb_af[e, 0], sb_af[e, 1], rx, ry, rs, rt_start[r], rt_start[r + 1])
            x[r] = sb_af[e, 0]
            y[r] = sb_af[e, 1]
            yaw[r] = sb_af[e, 2] if sb_ai[e, 1] == 1 else rheading[k]
            progress[r] = s
            lateral[r] = lat
            steer[r] = 0.0
            vy[r] = 0.0
            yaw_rate[r] = 0.0
            if sb_ai[e, 2] == 1:
                speed[r] = sb_af[e, 3]
                accel[r] = 0.0
                _release(r, prof_on, v_des, speed_factor, vdes0, sf0)
        if n_ev < ev_time.shape[0]:
            ev_time[n_ev] = t
        n_ev = emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_STORYBOARD, e, -1, 0.0)
    if fired:  # overrides and removals take effect at this time already
        signal_states(t, plan_cycle, plan_offset, plan_start, plan_t0, plan_state, sig_override, sig_state)
        crosswalk_occupancy(ped_idx, x, y, yaw, speed, active, inst, cw_x, cw_y, cw_cx, cw_cy, cw_rad, cg_cell,
                            cg_x0, cg_y0, cg_nx, cg_ny, cg_start, cg_items, cw_margin, cw_occ)
    for i in range(prof_on.shape[0]):  # what the next step's ``story_before`` gives a SYNC or KEEP row
        if prof_on[i] and prof[i, P_KIND] >= KIND_SYNC:
            prof[i, P_NEXT] = _scripted_speed(t + prof[i, P_DT], i, prof[i], x, y, yaw, progress, speed, accel,
                                              length, width, center_offset, pts)
    return n_ev
# fmt: on
