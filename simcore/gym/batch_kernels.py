"""Compiled step of N stacked scenario instances: actions in, engine step, rewards, end flags, autoreset and
observations out, all in one call.

Every instance is one instance of the engine's ``EngineState`` (leading axis N); the
``Static`` tables are shared. One call of ``gym_step`` runs, for each instance, the
engine's own ``runner.step_kernels.advance`` for one step of that instance (on its own clock,
``state.step[j]``), then folds the step's events into reward terms, fills its observation and
marks it for reset. Instances are independent: the result of instance j never depends on N or on
the other instances.

Everything one call reads and writes lives in a ``GymCore`` (a Numba StructRef built once per env
and thread): calling the compiled step with it costs one pointer, not the unboxing of the ~250
arrays of the engine's four structures (which was most of a one-instance step).
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import GymCore, borrow_field, copy_instance, inline_stage, kernel, stage
from simcore.behavior.route_kernels import route_index
from simcore.evaluation.metrics_kernels import EV_GOAL, EV_RED_LIGHT
from simcore.gym.obs_kernels import ego_obs_at, object_obs_at
from simcore.runner.step_kernels import EV_COLLISION, advance

#: Reward term slots (``RewardConfig`` documents each quantity and its unit).
T_PROGRESS = 0
T_COLLISION = 1
T_OFFROAD = 2
T_RED_LIGHT = 3
T_SPEEDING = 4
T_JERK = 5
T_GOAL = 6
T_TIME = 7
N_TERMS = 8

#: Termination codes per instance (0: running).
END_NONE = 0
END_COLLISION = 1
END_OFFROAD = 2
END_GOAL = 3
END_TIMEOUT = 4
#: The storyboard ended the run (an ``end`` entry fired): set by ``batch.InstanceBatch.run`` after this step.
END_STORY = 5

#: ``terminate`` flags slots.
TERM_ON_COLLISION = 0
TERM_ON_OFFROAD = 1
TERM_ON_GOAL = 2


#: What ``gym_step`` does with instance j (``GymCore.todo[j]``): leave it, step it, reset it (not stepped).
TODO_SKIP = 0
TODO_STEP = 1
TODO_RESET = 2

#: ``GymCore.ctl`` slots: action mode (MODE_*), autoreset (0/1), steps until truncation, observe (0/1).
C_MODE = 0
C_AUTORESET = 1
C_MAX_STEPS = 2
C_OBSERVE = 3
N_CTL = 4
#: Action modes: ``act`` holds the ego targets (m/s^2, rad) as they are; actions in physical units clipped
#: to the box; normalised actions in [-1, 1] (clipped) scaled by the ego's limits (``env.ActionMap``).
MODE_RAW = 0
MODE_BOX = 1
MODE_NORMALIZED = 2

#: ``GymCore.par`` slots: dt (s); action box low / high (acceleration, steering); the ego's maximum
#: acceleration, deceleration (m/s^2) and road-wheel angle (rad).
P_DT = 0
P_LO_ACCEL = 1
P_LO_STEER = 2
P_HI_ACCEL = 3
P_HI_STEER = 4
P_MAX_ACCEL = 5
P_MAX_DECEL = 6
P_MAX_STEER = 7
N_PAR = 8


# fmt: off
@kernel
def make_core(
    static, state, initial, scratch, out, ctl, par, act, weights, terminate, todo, sf_next, terms, reward, end,
    terminated, truncated, obs, engine,
):  # pragma: no cover - compiled
    """A ``GymCore`` of these structures and arrays (compiled and cached, unlike the proxy's own constructor);
    ``engine``: the ``EngineCore`` of the same static, state, scratch and out (``step_kernels.make_engine``)."""
    return GymCore(
        static, state, initial, scratch, out, ctl, par, act, weights, terminate, todo, sf_next, terms, reward, end,
        terminated, truncated, obs, engine,
    )
# fmt: on


@stage
def _clip_keep_nan(v, lo, hi):  # pragma: no cover - compiled
    """``np.minimum(np.maximum(v, lo), hi)``: v clipped to [lo, hi], NaN kept."""
    if v != v:
        return v
    return min(max(v, lo), hi)


@inline_stage
def map_action(mode, a, s, par):  # pragma: no cover - compiled
    """One action (a, s) -> ego targets (acceleration m/s^2, road-wheel angle rad) as ``env.ActionMap.physical``
    maps them (``mode``: MODE_*; ``par``: the GymCore.par slots). NaN stays NaN (the step then brakes)."""
    if mode == MODE_RAW:
        return a, s
    a = _clip_keep_nan(a, par[P_LO_ACCEL], par[P_HI_ACCEL])
    s = _clip_keep_nan(s, par[P_LO_STEER], par[P_HI_STEER])
    if mode == MODE_NORMALIZED:
        a = a * par[P_MAX_ACCEL] if a >= 0.0 else a * par[P_MAX_DECEL]
        s = s * par[P_MAX_STEER]
    return a, s


# fmt: off
@stage
def gym_step(core, j0, j1, thread):  # pragma: no cover - compiled
    """One vector step of the instances j in [j0, j1), per ``core.todo[j]``:

    - TODO_RESET: a copy of ``core.initial`` with the speed factors ``core.sf_next[j]``; outputs zero;
    - TODO_STEP: ``core.act[j]`` mapped per ``core.ctl`` (``map_action``; non-finite: brake at the ego's
      maximum deceleration, wheel held), ``advance`` one step, ``fold_rewards``;
    - TODO_SKIP: left as it is, outputs zero.

    Then its end flags and, with ``ctl[C_OBSERVE]``, its object-list observation. With
    ``ctl[C_AUTORESET]`` an instance that ended is marked TODO_RESET for the next call and a reset one
    TODO_STEP. ``thread``: the row of the observation scratch. Disjoint ranges with their own cores
    (scratch, out) may run concurrently.

    Returns the number of instances that ended on this call (marked for reset when autoresetting).
    Mutates: the state of the instances, ``todo``, and every output array of the core.
    """
    # every structure read once per call, borrowed (no reference counts, see ``_jit.borrow_field``)
    sp, es, init = borrow_field(core, "static"), borrow_field(core, "state"), borrow_field(core, "initial")
    out, ob = borrow_field(core, "out"), borrow_field(core, "obs")
    ctl, par, act = borrow_field(core, "ctl"), borrow_field(core, "par"), borrow_field(core, "act")
    todo, sf_next = borrow_field(core, "todo"), borrow_field(core, "sf_next")
    weights, terminate = borrow_field(core, "weights"), borrow_field(core, "terminate")
    terms, reward, end = borrow_field(core, "terms"), borrow_field(core, "reward"), borrow_field(core, "end")
    terminated, truncated = borrow_field(core, "terminated"), borrow_field(core, "truncated")
    engine = borrow_field(core, "engine")
    mode = ctl[C_MODE]
    autoreset = ctl[C_AUTORESET] != 0
    max_steps = ctl[C_MAX_STEPS]
    observe = ctl[C_OBSERVE] != 0
    dt = par[P_DT]
    e = sp.ego
    n_end = 0
    for j in range(j0, j1):
        for q in range(N_TERMS):
            terms[j, q] = 0.0
        reward[j] = 0.0
        end[j] = END_NONE
        what = todo[j]
        if what == TODO_RESET:
            copy_instance(es, j, init, 0)
            for i in range(sf_next.shape[1]):
                es.speed_factor[j, i] = sf_next[j, i]
            if autoreset:
                todo[j] = TODO_STEP
        elif what == TODO_STEP:
            a_cmd, s_cmd = map_action(mode, act[j, 0], act[j, 1], par)
            if not (math.isfinite(a_cmd) and math.isfinite(s_cmd)):  # brake, wheel held
                a_cmd = -sp.max_decel[e]
                s_cmd = es.steer[j, e]
            es.ctrl_accel[j, e] = a_cmd
            es.ctrl_steer[j, e] = s_cmd
            p0 = es.progress[j, e]
            acc0 = es.accel[j, e]
            # the engine's four structures behind one pointer (EngineCore), not ~1,800 words of flattened
            # arguments per call. int64, not the literal 1: the Simulation's specialisation.
            _, n_ev = advance(engine, j, np.int64(1), dt)
            fold_rewards(j, e, n_ev, out.ev_kind, out.ev_a, out.ev_b, p0, acc0, es.speed, es.progress, es.accel,
                         es.offroad, es.goal_flag, es.step, sp.rvlim, sp.rs, sp.rt_start, dt, max_steps, weights,
                         terminate, terms, reward, end)
            if end[j] != END_NONE:
                n_end += 1
                if autoreset:
                    todo[j] = TODO_RESET
        code = end[j]
        terminated[j] = END_COLLISION <= code <= END_GOAL  # collision, off-road, goal
        truncated[j] = code == END_TIMEOUT
        if observe:
            object_obs_at(j, e, es.x, es.y, es.yaw, es.speed, es.active, sp.kind, sp.length, sp.width,
                          sp.center_offset, ob.obj_range, ob.lim_obj, ob.objects, ob.mask, ob.sel_d[thread],
                          ob.sel_i[thread])
            ego_obs_at(j, e, es.x, es.y, es.yaw, es.speed, es.accel, es.steer, es.progress, es.lateral,
                       es.sig_state[j, 0], ob.rt_start, ob.rx, ob.ry, ob.rs, ob.rvlim, ob.st_start, ob.stop_s,
                       ob.stop_sig, ob.goal_s, ob.front, ob.spacing, ob.lim_ego, ob.lim_route, ob.ego, ob.route)
    return n_end


@inline_stage
def fold_rewards(
    j, e, n_ev, ev_kind, ev_a, ev_b, p0, acc0, speed, progress, accel, offroad, goal_flag, step, rvlim, rs, rt_start,
    dt, max_steps, weights, terminate, out_terms, out_reward, out_end,
):  # pragma: no cover - compiled
    """Reward terms, reward and end code of instance j after its ``advance`` (ego row ``e``).

    Args:
        n_ev, ev_kind, ev_a, ev_b: the step's events. p0, acc0: the ego's progress (m) and acceleration
            (m/s^2) before the step. speed .. step: the EngineState arrays of those names (instance j is read).
        rvlim, rs, rt_start: the routes' speed limits (m/s), sample s (m) and CSR offsets.
        dt: step (s). max_steps: steps until truncation (timeout).
        weights: (N_TERMS,) reward weights. terminate: (3,) bool (collision, off-road, goal).
        out_terms: (N, N_TERMS) unweighted term quantities of this step. out_reward: (N,) the
            weighted sum. out_end: (N,) END_* code (END_NONE while the episode goes on).
    """
    collided = False
    goal = False
    n_red = 0
    for q in range(min(n_ev, ev_kind.shape[0])):
        k = ev_kind[q]
        if k == EV_COLLISION and (ev_a[q] == e or ev_b[q] == e):
            collided = True
        elif k == EV_RED_LIGHT and ev_a[q] == e:
            n_red += 1
        elif k == EV_GOAL and ev_a[q] == e:
            goal = True
    v = speed[j, e]
    vlim = rvlim[route_index(rs, rt_start[e], rt_start[e + 1], progress[j, e])]
    out_terms[j, T_PROGRESS] = progress[j, e] - p0
    out_terms[j, T_COLLISION] = 1.0 if collided else 0.0
    out_terms[j, T_OFFROAD] = 1.0 if offroad[j, e] else 0.0
    out_terms[j, T_RED_LIGHT] = n_red
    out_terms[j, T_SPEEDING] = max(v - vlim, 0.0) * dt
    out_terms[j, T_JERK] = abs(accel[j, e] - acc0)
    out_terms[j, T_GOAL] = 1.0 if goal else 0.0
    out_terms[j, T_TIME] = dt
    r = 0.0
    for q in range(N_TERMS):
        r += weights[q] * out_terms[j, q]
    out_reward[j] = r
    if collided and terminate[TERM_ON_COLLISION]:
        out_end[j] = END_COLLISION
    elif offroad[j, e] and terminate[TERM_ON_OFFROAD]:
        out_end[j] = END_OFFROAD
    elif goal_flag[j, e] and terminate[TERM_ON_GOAL]:
        out_end[j] = END_GOAL
    elif step[j] >= max_steps:
        out_end[j] = END_TIMEOUT
# fmt: on
