"""Compiled step of N stacked scenario instances: ego controls in, engine step, rewards and end flags out.

Every instance is one instance of the engine's ``EngineState`` (leading axis N); the
``Static`` tables are shared. One call of ``step_instances`` runs, for each instance, the
engine's own ``runner.step_kernels.advance`` for one step of that instance (on its own clock,
``state.step[j]``), then folds the step's events into reward terms. Instances are
independent: the result of instance j never depends on N or on
the other instances.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import kernel
from simcore.behavior.route_kernels import route_index
from simcore.evaluation.metrics_kernels import EV_GOAL, EV_RED_LIGHT
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

#: ``terminate`` flags slots.
TERM_ON_COLLISION = 0
TERM_ON_OFFROAD = 1
TERM_ON_GOAL = 2


# fmt: off
@kernel
def step_instances(
    j0, j1, run, accel_cmd, steer_cmd, dt, max_steps, weights, terminate,
    static, state, scratch, out, out_terms, out_reward, out_end,
):  # pragma: no cover - compiled
    """One step of every instance j in [j0, j1) with ``run[j]``: ego control, ``advance``, reward
    terms, end code. Disjoint ranges with their own ``scratch`` and ``out`` may run concurrently (threads).

    Args:
        j0, j1: the instances this call steps.
        run: (N,) bool, instances to step (others are left untouched, their outputs zeroed).
        accel_cmd, steer_cmd: (N,) ego acceleration (m/s^2) and road-wheel angle (rad) targets;
            non-finite values brake at the ego's maximum deceleration with the wheel held.
        dt: step (s). max_steps: steps until truncation (timeout).
        weights: (N_TERMS,) reward weights. terminate: (3,) bool (collision, off-road, goal).
        static, state, scratch, out: the engine's arguments (``simcore.runner.engine``); ``state``
            has one instance per env, ``static.scoring`` False is the light evaluation.
        out_terms: (N, N_TERMS) unweighted term quantities of this step. out_reward: (N,) the
            weighted sum. out_end: (N,) END_* code (END_NONE while the episode goes on).

    Mutates: every per-instance array of the stepped instances.
    """
    e = static.ego
    rt_start = static.rt_start
    rs = static.rs
    rvlim = static.rvlim
    ra = rt_start[e]
    rb = rt_start[e + 1]
    speed = state.speed
    progress = state.progress
    accel = state.accel
    offroad = state.offroad
    goal_flag = state.goal_flag
    ev_kind = out.ev_kind
    ev_a = out.ev_a
    ev_b = out.ev_b
    for j in range(j0, j1):
        for q in range(N_TERMS):
            out_terms[j, q] = 0.0
        out_reward[j] = 0.0
        out_end[j] = END_NONE
        if not run[j]:
            continue
        a_cmd = accel_cmd[j]
        s_cmd = steer_cmd[j]
        if not (math.isfinite(a_cmd) and math.isfinite(s_cmd)):
            a_cmd = -static.max_decel[e]
            s_cmd = state.steer[j, e]
        state.ctrl_accel[j, e] = a_cmd
        state.ctrl_steer[j, e] = s_cmd
        p0 = progress[j, e]
        acc0 = accel[j, e]
        # int64, not the literal 1: the Simulation's specialisation of advance, not a second one
        _, n_ev = advance(static, state, scratch, out, j, np.int64(1), dt)
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
        vlim = rvlim[route_index(rs, ra, rb, progress[j, e])]
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
        elif state.step[j] >= max_steps:
            out_end[j] = END_TIMEOUT
# fmt: on
