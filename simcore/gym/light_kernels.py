"""The engine step without the evaluation the gym does not report (``evaluation="light"``).

``advance_light`` takes exactly the arguments of ``runner.step_kernels.advance`` and runs the
same sub-kernels in the same order: junction right of way, drivers, scripted rows, vehicle
dynamics, pedestrians, vehicle evaluation, route tracking, collision onsets, signals and
crosswalks. It leaves out what only feeds the run's scores, never the motion of any actor or
an event the gym's rewards read: the ego metric accumulator (TTC, THW, DRAC, comfort peaks),
the evaluation rules (fault, wrong way, stop signs, speeding, route deviation, blocked, PET,
hazards) except static-object collision onsets of the ego, and the trajectory record; and
with at most ``SMALL_ROWS`` rows it finds overlapping boxes by testing all pairs in place
instead of the engine's allocating sweep (same pairs, same order). Every
state row, the off-road and goal flags, the collision memory and the events COLLISION
(vehicles, pedestrians, static objects), OFFROAD, RED_LIGHT, GOAL and ROUTE_DONE are those of
``advance`` bit for bit (tests/gym check this); ``metrics`` then holds only the static-object
contact slot and the rule state (``actor_ev``, ``pet``, ``ev_fault``) is left untouched.
"""

from __future__ import annotations

import math

import simcore.evaluation.metrics_kernels as mk
from simcore._jit import kernel
from simcore.behavior.driver_kernels import step_drivers
from simcore.behavior.junction_kernels import junction_holds
from simcore.behavior.pedestrian_kernels import step_pedestrians
from simcore.behavior.route_kernels import route_index
from simcore.behavior.scripted_kernels import step_scripted
from simcore.behavior.signal_kernels import signal_states
from simcore.dynamics.kinematic_kernels import step_kinematic
from simcore.evaluation.rules_kernels import box_hits_object
from simcore.geometry.kernels import obb_overlap
from simcore.road.frenet_kernels import on_drivable, project_on_polyline
from simcore.road.static_index_kernels import objects_near
from simcore.runner.step_kernels import (
    EV_COLLISION,
    PEDESTRIAN,
    _collision_onsets,
    step_single_track_rows,
    track_rows,
)


# fmt: off
@kernel
def evaluate_vehicles(
    t, dt, veh_idx, ego,
    x, y, yaw, speed, accel, active, done, inst, progress, lateral,
    length, width, rear_overhang, center_offset, stop_at_end,
    rt_start, rx, ry, rs, rk, road_half, st_start, stop_s, stop_sig, sig_state, goal_s,
    offroad, goal_flag,
    grid_cell, grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_seg, seg_ax, seg_ay, seg_bx, seg_by, seg_hw,
    ev_kind, ev_a, ev_b, ev_value,
):  # pragma: no cover - compiled
    """``metrics_kernels.evaluate_step`` without the ego metric accumulator (same arguments less
    ``metrics``): progress and lateral offset, red-light crossings, ROUTE_DONE, GOAL, off-road.
    Returns the number of events written. Must stay line for line equal to that loop."""
    n_ev = 0
    for q in range(veh_idx.shape[0]):
        i = veh_idx[q]
        if not active[i]:
            continue
        a = rt_start[i]
        b = rt_start[i + 1]
        old = progress[i]
        lo = route_index(rs, a, b, old - 2.0)
        hi = min(route_index(rs, a, b, old + speed[i] * dt + 5.0) + 2, b)
        s_new, t_new, _, _ = project_on_polyline(x[i], y[i], rx, ry, rs, lo, hi)
        progress[i] = s_new
        lateral[i] = t_new
        front = length[i] - rear_overhang[i]
        for m in range(st_start[i], st_start[i + 1]):
            sg = stop_sig[m]
            if sg >= 0 and old + front < stop_s[m] <= s_new + front and sig_state[inst[i], sg] == mk.RED:
                n_ev = mk.emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, mk.EV_RED_LIGHT, i, sg, speed[i])
        if i != ego and not stop_at_end[i] and s_new + front + 0.5 >= rs[b - 1]:
            active[i] = False
            done[i] = True
            n_ev = mk.emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, mk.EV_ROUTE_DONE, i, -1, rs[b - 1])
            continue
        if i == ego and not goal_flag[i] and s_new >= goal_s[i]:
            goal_flag[i] = True
            n_ev = mk.emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, mk.EV_GOAL, i, -1, 1.0)
        c = math.cos(yaw[i])
        s = math.sin(yaw[i])
        k = route_index(rs, a, b, s_new)
        herr = yaw[i] - math.atan2(ry[k + 1] - ry[k], rx[k + 1] - rx[k])
        reach = max(front, rear_overhang[i])
        extent = abs(t_new) + reach * abs(math.sin(herr)) + 0.5 * width[i] * abs(math.cos(herr))
        extent += 0.5 * reach * reach * abs(rk[k])
        inside_strip = extent <= road_half[k] and s_new - rear_overhang[i] >= rs[a] and s_new + front <= rs[b - 1]
        off = False
        if not inside_strip:
            cx = x[i] + center_offset[i] * c
            cy = y[i] + center_offset[i] * s
            hl = 0.5 * length[i]
            hw = 0.5 * width[i]
            for sx in (-1.0, 1.0):
                for sy in (-1.0, 1.0):
                    px = cx + sx * hl * c - sy * hw * s
                    py = cy + sx * hl * s + sy * hw * c
                    if not on_drivable(px, py, grid_cell, grid_x0, grid_y0, grid_nx, grid_ny,
                                       cell_start, cell_seg, seg_ax, seg_ay, seg_bx, seg_by, seg_hw):
                        off = True
        if off and not offroad[i]:
            n_ev = mk.emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, mk.EV_OFFROAD, i, -1, s_new)
        offroad[i] = off
    return n_ev


#: Up to this many rows per instance the collision onsets test all pairs in place (no allocation);
#: above it they use the engine's sweep (``pairwise_box_overlaps``, which allocates scratch).
SMALL_ROWS = 48


@kernel
def collision_onsets_small(
    t, x, y, yaw, speed, kind, active, inst, length, width, center_offset,
    cx, cy, pair_i, pair_j, touch_i, touch_j, n_touch,
    ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev,
):  # pragma: no cover - compiled
    """``runner.step_kernels._collision_onsets`` with the pairs found by testing every pair (i < j)
    in lexicographic order with ``obb_overlap`` instead of the sweep: the same pairs in the same
    order (the sweep's broad phase only skips pairs whose bounding circles are apart, which
    ``obb_overlap`` rejects too), so the same events and collision memory. O(rows^2)."""
    n = x.shape[0]
    for i in range(n):
        cx[i] = x[i] + center_offset[i] * math.cos(yaw[i])
        cy[i] = y[i] + center_offset[i] * math.sin(yaw[i])
    cap = min(pair_i.shape[0], pair_j.shape[0])
    prev = n_touch[0]
    found = 0
    kept = 0
    for i in range(n):
        if not (active[i] and math.isfinite(cx[i]) and math.isfinite(cy[i])):
            continue
        if not (math.isfinite(length[i]) and math.isfinite(width[i])):
            continue
        for j in range(i + 1, n):
            if not active[j] or inst[j] != inst[i]:
                continue
            if not obb_overlap(cx[i], cy[i], yaw[i], length[i], width[i], cx[j], cy[j], yaw[j], length[j], width[j]):
                continue
            found += 1
            if found > cap:
                continue
            if kind[i] == PEDESTRIAN and kind[j] == PEDESTRIAN:
                continue
            seen = False
            for m in range(prev):
                if touch_i[m] == i and touch_j[m] == j:
                    seen = True
                    break
            if not seen:
                vx = speed[i] * math.cos(yaw[i]) - speed[j] * math.cos(yaw[j])
                vy = speed[i] * math.sin(yaw[i]) - speed[j] * math.sin(yaw[j])
                if n_ev < ev_time.shape[0]:
                    ev_time[n_ev] = t
                n_ev = mk.emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_COLLISION, i, j,
                                     math.sqrt(vx * vx + vy * vy))
            pair_i[kept] = i
            pair_j[kept] = j
            kept += 1
    for k in range(kept):
        touch_i[k] = pair_i[k]
        touch_j[k] = pair_j[k]
    n_touch[0] = kept
    return n_ev


@kernel
def static_contact(
    t, ego, x, y, yaw, speed, active, length, width, center_offset,
    so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start, so_ax, so_ay, so_bx, so_by,
    so_out_obj, so_out_dist, metrics, ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev,
):  # pragma: no cover - compiled
    """The static-object part of ``rules_kernels.evaluate_rules``: a COLLISION event (a = ego,
    b = -2 - object, value = ego speed) at the onset of the ego box touching an object outline;
    ``metrics[M_STATIC_OBJ]`` remembers the object touched. Returns the new event count."""
    if ego < 0 or not active[ego] or so_seg_start.shape[0] <= 1:
        return n_ev
    e = ego
    c = math.cos(yaw[e])
    s = math.sin(yaw[e])
    cx = x[e] + center_offset[e] * c
    cy = y[e] + center_offset[e] * s
    hl = 0.5 * length[e]
    hw = 0.5 * width[e]
    hit = -1
    n_near = objects_near(cx, cy, math.sqrt(hl * hl + hw * hw), so_cell, so_x0, so_y0, so_nx, so_ny, so_start,
                          so_obj, so_ix0, so_iy0, so_seg_start, so_ax, so_ay, so_bx, so_by, so_out_obj, so_out_dist)
    for r in range(n_near):
        o = so_out_obj[r]
        if box_hits_object(cx, cy, yaw[e], hl, hw, o, so_seg_start, so_ax, so_ay, so_bx, so_by):
            hit = o
            break
    if hit >= 0 and metrics[mk.M_STATIC_OBJ] != hit:
        if n_ev < ev_time.shape[0]:
            ev_time[n_ev] = t
        n_ev = mk.emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_COLLISION, e, -2 - hit, speed[e])
    metrics[mk.M_STATIC_OBJ] = hit
    return n_ev


@kernel
def advance_light(
    n_steps, step0, dt, drive_idx, veh_idx, veh_idx_kin, veh_idx_st, ped_idx, ego,
    x, y, yaw, speed, steer, accel, vy, yaw_rate, progress, lateral, active, started, done, inst, kind,
    wheelbase, length, width, rear_overhang, center_offset, max_steer, max_steer_rate,
    max_accel, max_decel, max_speed,
    st_params, friction, grade, st_buf, st_u,
    v_des, T, s0, b_comf, delta, a_lat, speed_factor, accel_cap, stop_at_end,
    ped_speed, ped_accel, ped_decel, ped_obey, ped_start,
    rt_start, rx, ry, rs, rvlim, rk, st_start, stop_s, stop_sig, cw_start, cw_s0, cw_s1, cw_id,
    lc_start, lc_s0, lc_s1, lc_side, lc_offset, goal_s, road_half, route_mu, route_grade,
    plan_cycle, plan_offset, plan_start, plan_t0, plan_state, sig_override, sig_state,
    cw_x, cw_y, cw_signal, cw_margin, cw_occ,
    g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw,
    grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items, cell_seen, actor_seen, cand, stamp,
    ctrl_accel, ctrl_steer, lead_gap, lead_close, offroad, goal_flag, metrics,
    cx, cy, pair_i, pair_j, touch_i, touch_j, n_touch,
    ev_time, ev_kind, ev_a, ev_b, ev_value,
    rec_every, rec_row, rec_time, rec_x, rec_y, rec_yaw, rec_speed, rec_active, rec_sig,
    stop_sign, actor_ev, pet, ev_fault,
    so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start, so_ax, so_ay, so_bx, so_by,
    so_out_obj, so_out_dist,
    run_amber, run_red, right_on_red, crit_gap, yields, start_time, ror_stop, cur_turn, hold_s,
    pf_mode, pf_start, pf_key, pf_v,
    ps_start, ps_junc, ps_hold, ps_s1, ps_sig, ps_stop, ps_turn, ps_l, pl_lane, pl_s0, lane_local, jc_off, jc_n, jc_s,
    cur_ps, arr_ps, arr_t, jb_start, jb_items,
    scripted_idx, tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v, tr_flags, eval_idx, track_idx,
):  # pragma: no cover - compiled
    """``advance`` (same arguments, same return) without the score-only evaluation (module doc).
    Records no trajectory rows."""
    n_ev = 0
    done_steps = 0
    cap = ev_kind.shape[0]
    for k in range(n_steps):
        t_now = (step0 + k) * dt
        junction_holds(
            t_now, drive_idx, veh_idx, speed, active, inst, length, rear_overhang, progress, yields, crit_gap,
            right_on_red, ps_start, ps_junc, ps_hold, ps_s1, ps_sig, ps_stop, ps_turn, ps_l, pl_lane, pl_s0,
            lane_local, jc_off, jc_n, jc_s, sig_state, cur_ps, arr_ps, arr_t, jb_start, jb_items, hold_s, cur_turn,
        )
        step_drivers(
            drive_idx, x, y, yaw, speed, active, inst,
            wheelbase, length, width, rear_overhang, center_offset, accel_cap, max_decel, max_steer,
            rt_start, rx, ry, rs, rvlim, rk, progress,
            st_start, stop_s, stop_sig, sig_state, cw_start, cw_s0, cw_s1, cw_id, cw_occ,
            lc_start, lc_s0, lc_s1, lc_side, lc_offset,
            v_des, T, s0, b_comf, delta, a_lat, speed_factor, stop_at_end,
            grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items, cell_seen, actor_seen, cand, stamp,
            ctrl_accel, ctrl_steer, lead_gap, lead_close,
            t_now, dt, started, start_time, run_amber, run_red, right_on_red, ror_stop, cur_turn, hold_s,
            pf_mode, pf_start, pf_key, pf_v,
        )
        if scripted_idx.shape[0] > 0:
            step_scripted(t_now + dt, dt, scripted_idx, x, y, yaw, speed, accel, active, done,
                          tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v, tr_flags)
        step_kinematic(x, y, yaw, speed, steer, accel, active, veh_idx_kin, wheelbase, max_steer,
                       max_steer_rate, max_accel, max_decel, max_speed, ctrl_accel, ctrl_steer, dt)
        if veh_idx_st.shape[0] > 0:
            step_single_track_rows(x, y, yaw, speed, steer, accel, vy, yaw_rate, active, veh_idx_st, st_params,
                                   friction, grade, ctrl_accel, ctrl_steer, st_buf, st_u, dt, progress, rt_start, rs,
                                   route_mu, route_grade)
        step_pedestrians(t_now, ped_idx, x, y, yaw, speed, active, done, inst, started, ped_start,
                         rt_start, rx, ry, rs, progress, cw_start, cw_s0, cw_id, cw_signal, sig_state,
                         ped_speed, ped_accel, ped_decel, ped_obey, dt)
        t = (step0 + k + 1) * dt
        start_ev = n_ev
        m = evaluate_vehicles(
            t, dt, eval_idx, ego, x, y, yaw, speed, accel, active, done, inst, progress, lateral,
            length, width, rear_overhang, center_offset, stop_at_end,
            rt_start, rx, ry, rs, rk, road_half, st_start, stop_s, stop_sig, sig_state, goal_s, offroad, goal_flag,
            g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw,
            ev_kind[n_ev:], ev_a[n_ev:], ev_b[n_ev:], ev_value[n_ev:],
        )
        for q in range(n_ev, min(n_ev + m, cap)):
            ev_time[q] = t
        n_ev = min(n_ev + m, cap)
        if track_idx.shape[0] > 0:
            track_rows(track_idx, x, y, speed, active, done, progress, lateral, length, rear_overhang, stop_at_end,
                       rt_start, rx, ry, rs, dt)
        if x.shape[0] <= SMALL_ROWS:
            n_ev = collision_onsets_small(
                t, x, y, yaw, speed, kind, active, inst, length, width, center_offset,
                cx, cy, pair_i, pair_j, touch_i, touch_j, n_touch,
                ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev,
            )
        else:
            n_ev = _collision_onsets(
                t, x, y, yaw, speed, kind, active, inst, length, width, center_offset,
                cx, cy, pair_i, pair_j, touch_i, touch_j, n_touch,
                ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev,
            )
        n_ev = min(n_ev, cap)
        n_ev = static_contact(
            t, ego, x, y, yaw, speed, active, length, width, center_offset,
            so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start,
            so_ax, so_ay, so_bx, so_by, so_out_obj, so_out_dist, metrics, ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev,
        )
        n_ev = min(n_ev, cap)
        signal_states(t, plan_cycle, plan_offset, plan_start, plan_t0, plan_state, sig_override, sig_state)
        mk.crosswalk_occupancy(ped_idx, x, y, yaw, speed, active, inst, cw_x, cw_y, cw_margin, cw_occ)
        done_steps += 1
        reportable = False
        for q in range(start_ev, n_ev):
            if ev_kind[q] != mk.EV_ROUTE_DONE:
                reportable = True
        if reportable or n_ev >= cap:
            break
    return done_steps, n_ev
# fmt: on
