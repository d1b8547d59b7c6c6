"""Compiled step of N stacked scenario instances: ego controls in, engine step, rewards and end flags out.

Every instance owns one row of each per-instance (N, R) array (R = rows of one scenario
copy); the static data (vehicle and driver parameters, routes, map) is shared. One call of
``step_instances`` runs, for each instance, the engine's own ``runner.step_kernels.advance``
for one step on that instance's row views, with the instance's own step counter (so signals
and pedestrian start times follow the instance's clock), then folds the step's events into
reward terms. Instances are independent: the result of instance j never depends on N or on
the other instances.
"""

from __future__ import annotations

import math

import numpy as np

from simcore._jit import borrow as bw
from simcore._jit import borrow_row as row
from simcore._jit import borrow_slab as row1
from simcore._jit import kernel
from simcore.behavior.route_kernels import route_index
from simcore.behavior.signal_kernels import signal_states
from simcore.evaluation.metrics_kernels import (
    EV_GOAL,
    EV_RED_LIGHT,
    crosswalk_occupancy,
)
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


@kernel
def reset_instance(
    j,
    init,
    state,
    work,
    metrics,
    metrics0,
    ev_state,
    ev_state0,
    n_touch,
    sig_state,
    sig_override,
    cw_occ,
    ped_idx,
    mp,
    step,
):  # pragma: no cover - compiled
    """Put instance ``j`` back at its t = 0 state.

    Copies the initial rows (``init``: tuple of (R,) arrays in the order of ``state``) into row j
    of every (N, R) state array, clears the work arrays (controls, lead, off-road, goal), the
    metric accumulator (min TTC / gap = inf), the collision memory and the step counter, and
    evaluates signals and crosswalk occupancy at t = 0 (as ``Simulation.reset`` does).
    """
    x, y, yaw, speed, steer, accel, vy, yaw_rate, progress, lateral, active, started, done, inst = state
    ix, iy, iyaw, ispeed, isteer, iaccel, ivy, iyr, iprog, ilat, iact, istart, idone, iinst = init
    x[j, :] = ix
    y[j, :] = iy
    yaw[j, :] = iyaw
    speed[j, :] = ispeed
    steer[j, :] = isteer
    accel[j, :] = iaccel
    vy[j, :] = ivy
    yaw_rate[j, :] = iyr
    progress[j, :] = iprog
    lateral[j, :] = ilat
    active[j, :] = iact
    started[j, :] = istart
    done[j, :] = idone
    inst[j, :] = iinst
    ctrl_accel, ctrl_steer, lead_gap, lead_close, offroad, goal_flag, friction, grade, friction0, grade0 = work
    ctrl_accel[j, :] = 0.0
    ctrl_steer[j, :] = 0.0
    lead_gap[j, :] = 0.0
    lead_close[j, :] = 0.0
    offroad[j, :] = False
    goal_flag[j, :] = False
    friction[j, :] = friction0
    grade[j, :] = grade0
    metrics[j, :] = metrics0
    actor_ev, pet, ror_stop, arr_ps, arr_t, lat_off, lat_tgt = ev_state
    actor_ev0, pet0, ror_stop0, arr_ps0, arr_t0, lat_off0, lat_tgt0 = ev_state0
    actor_ev[j] = actor_ev0
    pet[j] = pet0
    ror_stop[j, :] = ror_stop0
    arr_ps[j, :] = arr_ps0
    arr_t[j, :] = arr_t0
    lat_off[j, :] = lat_off0
    lat_tgt[j, :] = lat_tgt0
    n_touch[j] = 0
    step[j] = 0
    plan_cycle, plan_offset, plan_start, plan_t0, plan_state, cw_x, cw_y, _cw_signal, cw_margin = mp
    signal_states(
        0.0, plan_cycle, plan_offset, plan_start, plan_t0, plan_state, sig_override[j : j + 1], sig_state[j : j + 1]
    )
    crosswalk_occupancy(
        ped_idx, x[j], y[j], yaw[j], speed[j], active[j], inst[j], cw_x, cw_y, cw_margin, cw_occ[j : j + 1]
    )


@kernel
def reset_instances(mask, *args):  # pragma: no cover - compiled
    """``reset_instance`` for every instance j with ``mask[j]`` (``args``: its arguments after ``j``)."""
    for j in range(mask.shape[0]):
        if mask[j]:
            reset_instance(j, *args)


# fmt: off
@kernel
def step_instances(
    j0, j1, run, accel_cmd, steer_cmd, dt, max_steps, weights, terminate, light,
    drive_idx, veh_idx, veh_idx_kin, veh_idx_st, ped_idx, ego, kind,
    state, vp, st_params, drv, speed_factor, ped, rt, mp, grid, actor_grid, work, scratch,
    metrics, sig_override, sig_state, cw_occ, touch_i, touch_j, n_touch, step,
    ev_static, ev_state, beh, jt, scr, eval_idx, track_idx,
    out_terms, out_reward, out_end,
):  # pragma: no cover - compiled
    """One step of every instance j in [j0, j1) with ``run[j]``: ego control, ``advance``, reward
    terms, end code. Disjoint ranges with their own ``scratch`` may run concurrently (threads).

    Args:
        j0, j1: the instances this call steps.
        run: (N,) bool, instances to step (others are left untouched, their outputs zeroed).
        accel_cmd, steer_cmd: (N,) ego acceleration (m/s^2) and road-wheel angle (rad) targets;
            non-finite values brake at the ego's maximum deceleration with the wheel held.
        dt: step (s). max_steps: steps until truncation (timeout).
        weights: (N_TERMS,) reward weights. terminate: (3,) bool (collision, off-road, goal).
        light: step with ``advance(..., scoring=False)`` (no score-only evaluation); the state,
            flags and the events the rewards read are the same as with scoring.
        drive_idx ... kind: row index sets of one instance (local rows), the ego's row, (R,) kinds.
        state: tuple of (N, R) state arrays (x, y, yaw, speed, steer, accel, vy, yaw_rate,
            progress, lateral, active, started, done, instance).
        vp, drv, ped, rt, mp, grid, actor_grid: shared parameter, route and map tuples (see
            ``simcore.gym.batch``). work: per-instance (N, R) work arrays. scratch: shared buffers.
        metrics, sig_override, sig_state, cw_occ, touch_i, touch_j, n_touch, step: per-instance.
        ev_static: shared tables of the evaluation rules (stop-sign flags, static-object grid).
        ev_state: per-instance rule and behaviour state (actor_ev (N, R, 7), pet (N, 4, B),
            ror_stop, arr_ps, arr_t, lat_off, lat_tgt (N, R)). beh, jt, scr: shared behaviour parameters, junction
            tables, scripted rows. eval_idx, track_idx: rows evaluated / only tracked.
        out_terms: (N, N_TERMS) unweighted term quantities of this step. out_reward: (N,) the
            weighted sum. out_end: (N,) END_* code (END_NONE while the episode goes on).

    Mutates: every per-instance array of the stepped instances.
    """
    x, y, yaw, speed, steer, accel, vy, yaw_rate, progress, lateral, active, started, done, inst = state
    wheelbase, length, width, rear_overhang, center_offset, max_steer, max_steer_rate, max_accel, max_decel, \
        max_speed = vp
    v_des, T, s0, b_comf, delta, a_lat, accel_cap, stop_at_end = drv
    ped_speed, ped_accel, ped_decel, ped_obey, ped_start = ped
    rt_start, rx, ry, rs, rvlim, rk, st_start, stop_s, stop_sig, cw_start, cw_s0, cw_s1, cw_id, \
        lc_start, lc_s0, lc_s1, lc_side, lc_offset, goal_s, road_half, route_mu, route_grade = rt
    plan_cycle, plan_offset, plan_start, plan_t0, plan_state, cw_x, cw_y, cw_signal, cw_margin = mp
    g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw = grid
    grid_x0, grid_y0, grid_nx, grid_ny = actor_grid
    ctrl_accel, ctrl_steer, lead_gap, lead_close, offroad, goal_flag, friction, grade, _f0, _g0 = work
    st_buf, st_u, cell_start, cell_items, cell_seen, actor_seen, cand, stamp, box_cx, box_cy, pair_i, pair_j, \
        ev_time, ev_kind, ev_a, ev_b, ev_value, rec_row, rec_time, rec_2d, rec_b2d, rec_sig, \
        ev_fault, so_out_obj, so_out_dist, cur_turn, hold_s, cur_ps, jb_start, jb_items = scratch
    stop_sign, so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start, \
        so_ax, so_ay, so_bx, so_by = ev_static
    actor_ev, pet, ror_stop, arr_ps, arr_t, lat_off, lat_tgt = ev_state
    run_amber, run_red, right_on_red, crit_gap, yields, start_time, pf_mode, pf_start, pf_key, pf_v, \
        mobil, mb_p, mb_thr, mb_bias, nb_left, nb_right = beh
    ps_start, ps_junc, ps_hold, ps_s1, ps_sig, ps_stop, ps_turn, ps_l, pl_lane, pl_s0, lane_local, jc_off, \
        jc_n, jc_s = jt
    scripted_idx, tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v, tr_flags = scr
    e = ego
    ra = rt_start[e]
    rb = rt_start[e + 1]
    rec_never = np.int64(1) << 62
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
            a_cmd = -max_decel[e]
            s_cmd = steer[j, e]
        ctrl_accel[j, e] = a_cmd
        ctrl_steer[j, e] = s_cmd
        p0 = progress[j, e]
        acc0 = accel[j, e]
        rec_row[0] = 0
        _, n_ev = advance(
            1, step[j], dt, bw(drive_idx), bw(veh_idx), bw(veh_idx_kin), bw(veh_idx_st), bw(ped_idx), e,
            row(x, j), row(y, j), row(yaw, j), row(speed, j), row(steer, j), row(accel, j), row(vy, j),
            row(yaw_rate, j), row(progress, j), row(lateral, j),
            row(active, j), row(started, j), row(done, j), row(inst, j), bw(kind),
            bw(wheelbase), bw(length), bw(width), bw(rear_overhang), bw(center_offset), bw(max_steer),
            bw(max_steer_rate),
            bw(max_accel), bw(max_decel), bw(max_speed),
            bw(st_params), row(friction, j), row(grade, j), bw(st_buf), bw(st_u),
            bw(v_des), bw(T), bw(s0), bw(b_comf), bw(delta), bw(a_lat), row(speed_factor, j), bw(accel_cap),
            bw(stop_at_end),
            bw(ped_speed), bw(ped_accel), bw(ped_decel), bw(ped_obey), bw(ped_start),
            bw(rt_start), bw(rx), bw(ry), bw(rs), bw(rvlim), bw(rk), bw(st_start), bw(stop_s), bw(stop_sig),
            bw(cw_start), bw(cw_s0), bw(cw_s1), bw(cw_id),
            bw(lc_start), bw(lc_s0), bw(lc_s1), bw(lc_side), bw(lc_offset), bw(goal_s), bw(road_half), bw(route_mu),
            bw(route_grade),
            bw(plan_cycle), bw(plan_offset), bw(plan_start), bw(plan_t0), bw(plan_state), row1(sig_override, j),
            row1(sig_state, j),
            bw(cw_x), bw(cw_y), bw(cw_signal), cw_margin, row1(cw_occ, j),
            g_cell, g_x0, g_y0, g_nx, g_ny, bw(g_start), bw(g_seg), bw(g_ax), bw(g_ay), bw(g_bx),
            bw(g_by), bw(g_hw),
            grid_x0, grid_y0, grid_nx, grid_ny, bw(cell_start), bw(cell_items), bw(cell_seen),
            bw(actor_seen), bw(cand), bw(stamp),
            row(ctrl_accel, j), row(ctrl_steer, j), row(lead_gap, j), row(lead_close, j), row(offroad, j),
            row(goal_flag, j), row(metrics, j),
            bw(box_cx), bw(box_cy), bw(pair_i), bw(pair_j), row(touch_i, j), row(touch_j, j), row1(n_touch, j),
            bw(ev_time), bw(ev_kind), bw(ev_a), bw(ev_b), bw(ev_value),
            rec_never, bw(rec_row), bw(rec_time), bw(rec_2d), bw(rec_2d), bw(rec_2d), bw(rec_2d), bw(rec_b2d),
            bw(rec_sig),
            bw(stop_sign), row(actor_ev, j), row(pet, j), bw(ev_fault),
            so_cell, so_x0, so_y0, so_nx, so_ny, bw(so_start), bw(so_obj), bw(so_ix0), bw(so_iy0),
            bw(so_seg_start),
            bw(so_ax), bw(so_ay), bw(so_bx), bw(so_by), bw(so_out_obj), bw(so_out_dist),
            bw(run_amber), bw(run_red), bw(right_on_red), bw(crit_gap), bw(yields), bw(start_time),
            row(ror_stop, j),
            bw(cur_turn), bw(hold_s),
            bw(pf_mode), bw(pf_start), bw(pf_key), bw(pf_v),
            bw(mobil), bw(mb_p), bw(mb_thr), bw(mb_bias), bw(nb_left), bw(nb_right), row(lat_off, j), row(lat_tgt, j),
            bw(ps_start), bw(ps_junc), bw(ps_hold), bw(ps_s1), bw(ps_sig), bw(ps_stop), bw(ps_turn), bw(ps_l),
            bw(pl_lane), bw(pl_s0), bw(lane_local),
            bw(jc_off), bw(jc_n), bw(jc_s), bw(cur_ps), row(arr_ps, j), row(arr_t, j), bw(jb_start), bw(jb_items),
            bw(scripted_idx), bw(tr_start), bw(tr_t), bw(tr_x), bw(tr_y), bw(tr_yaw), bw(tr_v), bw(tr_flags),
            bw(eval_idx), bw(track_idx), not light,
        )
        step[j] += 1
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
        elif step[j] >= max_steps:
            out_end[j] = END_TIMEOUT
# fmt: on
