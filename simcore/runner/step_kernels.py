"""One compiled call that advances a world several steps: behaviour, dynamics, evaluation, record.

The Python loop calls ``advance`` once per agent decision (one step) or, when no Python
agent needs to act, once per chunk of steps; either way the per-step work never leaves
compiled code. It returns early after any step that produced a reportable event so the
Python side can apply end conditions exactly at that step.
"""

from __future__ import annotations

import math

from simcore._jit import EngineCore, apart, borrow_field, inline_stage, kernel, optional, stage
from simcore._jit import borrow_row as row
from simcore.behavior.driver_kernels import step_drivers
from simcore.behavior.junction_kernels import junction_holds
from simcore.behavior.pedestrian_kernels import step_pedestrians
from simcore.behavior.route_kernels import route_index, update_progress
from simcore.behavior.scripted_kernels import step_scripted
from simcore.behavior.signal_kernels import signal_states
from simcore.dynamics.kinematic_kernels import step_kinematic
from simcore.dynamics.single_track_kernels import (
    INPUT_ACCEL_STEER,
    INTEGRATOR_SEMI_IMPLICIT_EULER,
    P_LR,
    TYRE_PACEJKA,
    step_single_track,
)
from simcore.evaluation.metrics_kernels import (
    EV_RED_LIGHT,
    EV_ROUTE_DONE,
    crosswalk_occupancy,
    emit_event,
    evaluate_step,
)
from simcore.evaluation.rules_kernels import evaluate_rules, static_object_contact
from simcore.geometry.kernels import pairwise_box_overlaps
from simcore.record.state_hash_kernels import fold_engine_state, fold_routes_compiled
from simcore.runner.story_kernels import story_after, story_before

EV_COLLISION = 0
PEDESTRIAN = 1

# Stages a scenario may not have (``_jit.optional``, flags in ``runner.engine.Uses``): compiled only
# into the specialisations of ``advance`` whose flag is not None.
_story_before = optional(story_before)
_story_after = optional(story_after)
_step_scripted = optional(step_scripted)
_step_pedestrians = optional(step_pedestrians)
_crosswalk_occupancy = optional(crosswalk_occupancy)

#: How the runner integrates ``dynamics: single_track`` rows: Magic-Formula tyres, semi-implicit
#: Euler with sub-steps of at most ``ST_DT_MAX`` s (50 inside a 0.05 s step); see docs/dynamics.md.
ST_TYRE = TYRE_PACEJKA
ST_INTEGRATOR = INTEGRATOR_SEMI_IMPLICIT_EULER
ST_DT_MAX = 1e-3


# fmt: off
@stage
def step_single_track_rows(x, y, yaw, speed, steer, accel, vy, yaw_rate, active, idx, st_params, friction, grade,
                           ctrl_accel, ctrl_steer, st_buf, st_u, dt, progress, rt_start, rs,
                           route_mu, route_grade):  # pragma: no cover - compiled
    """Advance the rows ``idx`` one step of ``dt`` on the dynamic single-track model.

    The WorldState keeps every vehicle at its rear-axle centre; the model integrates at the
    centre of gravity (CoG), l_r = ``st_params[i, P_LR]`` ahead of the rear axle along the
    heading. Per row: rear axle -> CoG (x_c = x + l_r cos yaw, y_c = y + l_r sin yaw; vx =
    speed, vy, yaw_rate, steer unchanged), ``step_single_track`` with the targets
    (ctrl_accel m/s^2, ctrl_steer road-wheel angle rad) mapped through the actuators
    (INPUT_ACCEL_STEER), sub-steps of at most ST_DT_MAX, then CoG -> rear axle with the new
    yaw. speed is vx clipped at 0, yaw wrapped to (-pi, pi], accel = (speed' - speed) / dt.
    Before the step each row's ``friction`` and ``grade`` become the surface friction ``route_mu``
    and the road grade ``route_grade`` (rad, uphill +) of its route sample at its current
    ``progress`` (the sample at or before it, ``route_index``).

    Args:
        x, y, yaw, speed, steer, accel, vy, yaw_rate: (n,) state (WorldState meaning). active: (n,) bool.
        idx: (m,) int64 rows. st_params: (n, N_PARAMS). friction, grade: (n,) road mu, grade angle (rad).
        ctrl_accel, ctrl_steer: (n,) targets. st_buf: (7, n), st_u: (3, n) scratch. dt: step (s).
        progress: (n,) route s (m). rt_start, rs, route_mu: the route table's CSR offsets, sample s
        and per-sample friction. route_grade: per-sample grade angle (rad).

    Mutates: x, y, yaw, speed, steer, accel, vy, yaw_rate, friction, grade, st_buf, st_u.
    """
    for k in range(idx.shape[0]):
        i = idx[k]
        k_route = route_index(rs, rt_start[i], rt_start[i + 1], progress[i])
        friction[i] = route_mu[k_route]
        grade[i] = route_grade[k_route]
        lr = st_params[i, P_LR]
        st_buf[0, i] = x[i] + lr * math.cos(yaw[i])
        st_buf[1, i] = y[i] + lr * math.sin(yaw[i])
        st_buf[2, i] = yaw[i]
        st_buf[3, i] = speed[i]
        st_buf[4, i] = vy[i]
        st_buf[5, i] = yaw_rate[i]
        st_buf[6, i] = steer[i]
        st_u[0, i] = ctrl_accel[i]
        st_u[1, i] = ctrl_steer[i]
        st_u[2, i] = 0.0
    step_single_track(st_buf, st_params, friction, grade, st_u, active, idx, INPUT_ACCEL_STEER,
                      ST_TYRE, ST_INTEGRATOR, dt, ST_DT_MAX)
    for k in range(idx.shape[0]):
        i = idx[k]
        if not active[i]:
            continue
        lr = st_params[i, P_LR]
        new_yaw = math.atan2(math.sin(st_buf[2, i]), math.cos(st_buf[2, i]))
        x[i] = st_buf[0, i] - lr * math.cos(new_yaw)
        y[i] = st_buf[1, i] - lr * math.sin(new_yaw)
        v1 = max(st_buf[3, i], 0.0)
        accel[i] = (v1 - speed[i]) / dt
        yaw[i] = new_yaw
        speed[i] = v1
        vy[i] = st_buf[4, i]
        yaw_rate[i] = st_buf[5, i]
        steer[i] = st_buf[6, i]
# fmt: on


_step_single_track_rows = optional(step_single_track_rows)


@inline_stage
def _drop_legal_right_on_red(
    ev_kind, ev_a, ev_b, ev_value, start, m, right_on_red, ror_stop, cur_turn, st_start, stop_s, stop_sig
):  # pragma: no cover - compiled
    """Remove RED_LIGHT events of a legal right turn on red from events start..start+m-1.

    Legal: the driver may turn right on red (``right_on_red``, from the rule set), its current
    junction passage is a right turn (``cur_turn`` -1) and it came to a full stop at this very
    stop line (``ror_stop`` = the line's route s, with the line's signal group ``ev_b``).
    Returns the number of events kept (compacted in place, order preserved).
    """
    kept = 0
    for q in range(start, start + m):
        drop = False
        i = ev_a[q]
        if ev_kind[q] == EV_RED_LIGHT and right_on_red[i] and cur_turn[i] == -1:
            for k in range(st_start[i], st_start[i + 1]):
                if stop_sig[k] == ev_b[q] and stop_s[k] == ror_stop[i]:
                    drop = True
                    break
        if not drop:
            w = start + kept
            ev_kind[w] = ev_kind[q]
            ev_a[w] = ev_a[q]
            ev_b[w] = ev_b[q]
            ev_value[w] = ev_value[q]
            kept += 1
    return kept


@inline_stage
def _collision_onsets(
    t,
    x,
    y,
    yaw,
    speed,
    kind,
    active,
    inst,
    length,
    width,
    center_offset,
    cx,
    cy,
    pair_i,
    pair_j,
    touch_i,
    touch_j,
    n_touch,
    ev_time,
    ev_kind,
    ev_a,
    ev_b,
    ev_value,
    n_ev,
):  # pragma: no cover - compiled
    """Find overlapping boxes; write a COLLISION event for every pair that did not overlap
    on the previous step. ``touch_*``/``n_touch[0]`` hold the previous step's pairs and are
    replaced. Pedestrian-pedestrian contact is ignored. Returns the new event count."""
    for i in range(x.shape[0]):
        cx[i] = x[i] + center_offset[i] * math.cos(yaw[i])
        cy[i] = y[i] + center_offset[i] * math.sin(yaw[i])
    n = pairwise_box_overlaps(cx, cy, yaw, length, width, inst, active, pair_i, pair_j)
    n = min(n, pair_i.shape[0])
    kept = 0
    prev = n_touch[0]
    for k in range(n):
        i = pair_i[k]
        j = pair_j[k]
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
            n_ev = emit_event(ev_kind, ev_a, ev_b, ev_value, n_ev, EV_COLLISION, i, j, math.sqrt(vx * vx + vy * vy))
        pair_i[kept] = i
        pair_j[kept] = j
        kept += 1
    for k in range(kept):
        touch_i[k] = pair_i[k]
        touch_j[k] = pair_j[k]
    n_touch[0] = kept
    return n_ev


@inline_stage
def track_rows(
    idx, x, y, speed, active, done, progress, lateral, length, rear_overhang, stop_at_end, rt_start, rx, ry, rs, dt
):  # pragma: no cover - compiled
    """Re-project rows ``idx`` onto their routes and remove those whose front reached the route end
    (unless ``stop_at_end``), like ``evaluate_step`` but without infractions or events."""
    update_progress(idx, x, y, active, rt_start, rx, ry, rs, progress, lateral, 2.0, 5.0 + 100.0 * dt)
    for q in range(idx.shape[0]):
        i = idx[q]
        front_s = progress[i] + length[i] - rear_overhang[i]
        if active[i] and not stop_at_end[i] and front_s + 0.5 >= rs[rt_start[i + 1] - 1]:
            active[i] = False
            done[i] = True


@kernel
def make_engine(static, state, scratch, out):  # pragma: no cover - compiled
    """The ``EngineCore`` of these four structures (``advance``'s argument; compiled and cached, unlike the
    proxy's own constructor). Shares every array."""
    return EngineCore(static, state, scratch, out)


# fmt: off
@stage
def advance(engine, j, n_steps, dt):  # pragma: no cover - compiled
    """Advance instance ``j`` of the engine's state up to ``n_steps`` steps of ``dt`` (s) from its step
    ``state.step[j]``.

    ``engine`` (``_jit.EngineCore``, from ``make_engine``) holds, read here borrowed (``runner.engine``):
    ``static`` (Static: parameters, routes, map, tables, row sets, ``scoring``), ``state`` (EngineState,
    leading axis = instance; instance j is read through borrowed row views), ``scratch`` (Scratch), ``out``
    (Outputs: events of this call from slot 0, trajectory rows every ``out.rec_every`` steps while
    ``out.rec_row[0]`` has room, the running state hash ``out.state_hash[0]``, if kept, with every step's
    full state folded in). One pointer, not the four structures' ~1,800 machine words per call.

    Each step: junction right of way (``junction_holds`` over every vehicle row) -> NPC (and
    in-engine agent) controls for ``drive_idx`` -> scripted rows -> vehicle dynamics
    (kinematic bicycle for ``veh_idx_kin``, dynamic single-track for ``veh_idx_st``, both
    subsets of ``veh_idx``) -> pedestrians -> evaluation (progress, off-road, red lights, goal,
    ego metrics) for ``eval_idx``, route tracking only for ``track_idx`` -> collision onsets -> signal
    states and crosswalk occupancy at the new time -> trajectory row.
    Controls of rows not in ``drive_idx`` (the ego under a Python agent) are read from
    ``state.ctrl_accel`` / ``ctrl_steer`` as given.

    With ``static.scoring`` False (the gym's light evaluation) the step leaves out what only feeds the
    run's scores, never the motion of any actor or an event a reward reads: the ego metric
    accumulator (TTC, THW, DRAC, comfort peaks), the evaluation rules (fault codes, wrong way,
    stop signs, speeding, route deviation, blocked, PET, hazards) except the ego's static-object
    collision onsets, and the trajectory record. States, flags, collision memory and the events
    COLLISION, OFFROAD, RED_LIGHT, GOAL and ROUTE_DONE are those of ``scoring`` True bit for bit.

    Returns (steps_done, n_events) and adds steps_done to ``state.step[j]``. Stops after the first
    step with a reportable event (anything but ROUTE_DONE) so the caller can end the run at that
    step. Events carry their time (s) in ``out.ev_time``.
    """
    static, state = borrow_field(engine, "static"), borrow_field(engine, "state")
    scratch, out = borrow_field(engine, "scratch"), borrow_field(engine, "out")
    sp = static
    scoring = sp.scoring
    ego = sp.ego
    drive_idx, veh_idx, veh_idx_kin, veh_idx_st = sp.drive_idx, sp.veh_idx, sp.veh_idx_kin, \
        sp.veh_idx_st
    ped_idx, scripted_idx, eval_idx, track_idx = sp.ped_idx, sp.scripted_idx, sp.eval_idx, \
        sp.track_idx
    kind = sp.kind
    wheelbase, length, width, rear_overhang, center_offset = sp.wheelbase, sp.length, sp.width, \
        sp.rear_overhang, sp.center_offset
    max_steer, max_steer_rate, max_accel, max_decel, max_speed = sp.max_steer, sp.max_steer_rate, \
        sp.max_accel, sp.max_decel, sp.max_speed
    st_params = sp.st_params
    T, s0, b_comf, delta, a_lat, accel_cap, stop_at_end = sp.T, sp.s0, sp.b_comf, sp.delta, \
        sp.a_lat, sp.accel_cap, sp.stop_at_end
    ped_speed, ped_accel, ped_decel, ped_obey = sp.ped_speed, sp.ped_accel, sp.ped_decel, \
        sp.ped_obey
    rt_start, rs, rvlim, rk, r_next = sp.rt_start, sp.rs, sp.rvlim, sp.rk, sp.r_next
    st_start, stop_s, stop_sig = sp.st_start, sp.stop_s, sp.stop_sig
    cw_start, cw_s0, cw_s1, cw_id = sp.cw_start, sp.cw_s0, sp.cw_s1, sp.cw_id
    lc_start, lc_s0, lc_s1, lc_side, lc_offset = sp.lc_start, sp.lc_s0, sp.lc_s1, sp.lc_side, \
        sp.lc_offset
    goal_s, road_half, route_grade = sp.goal_s, sp.road_half, sp.route_grade
    plan_cycle, plan_offset, plan_start, plan_t0, plan_state = sp.plan_cycle, sp.plan_offset, \
        sp.plan_start, sp.plan_t0, sp.plan_state
    cw_x, cw_y, cw_signal, cw_margin = sp.cw_x, sp.cw_y, sp.cw_signal, sp.cw_margin
    cw_cx, cw_cy, cw_rad, cg_cell, cg_x0, cg_y0, cg_nx, cg_ny, cg_start, cg_items = sp.cw_cx, sp.cw_cy, \
        sp.cw_rad, sp.cg_cell, sp.cg_x0, sp.cg_y0, sp.cg_nx, sp.cg_ny, sp.cg_start, sp.cg_items
    g_cell, g_x0, g_y0, g_nx, g_ny = sp.g_cell, sp.g_x0, sp.g_y0, sp.g_nx, sp.g_ny
    g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw = sp.g_start, sp.g_seg, sp.g_ax, sp.g_ay, \
        sp.g_bx, sp.g_by, sp.g_hw
    grid_x0, grid_y0, grid_nx, grid_ny = sp.grid_x0, sp.grid_y0, sp.grid_nx, sp.grid_ny
    stop_sign = sp.stop_sign
    so_cell, so_x0, so_y0, so_nx, so_ny = sp.so_cell, sp.so_x0, sp.so_y0, sp.so_nx, sp.so_ny
    so_start, so_obj, so_ix0, so_iy0, so_seg_start = sp.so_start, sp.so_obj, sp.so_ix0, \
        sp.so_iy0, sp.so_seg_start
    so_ax, so_ay, so_bx, so_by = sp.so_ax, sp.so_ay, sp.so_bx, sp.so_by
    run_amber, run_red, right_on_red, crit_gap, yields, start_time = sp.run_amber, sp.run_red, \
        sp.right_on_red, sp.crit_gap, sp.yields, sp.start_time
    pf_mode, pf_start, pf_key, pf_v = sp.pf_mode, sp.pf_start, sp.pf_key, sp.pf_v
    mobil, mb_p, mb_thr, mb_bias, nb_left, nb_right = sp.mobil, sp.mb_p, sp.mb_thr, sp.mb_bias, \
        sp.nb_left, sp.nb_right
    ps_start, ps_junc, ps_hold, ps_s1, ps_sig, ps_stop, ps_turn = sp.ps_start, sp.ps_junc, \
        sp.ps_hold, sp.ps_s1, sp.ps_sig, sp.ps_stop, sp.ps_turn
    ps_l, pl_lane, pl_s0, lane_local, jc_off, jc_n, jc_s = sp.ps_l, sp.pl_lane, sp.pl_s0, \
        sp.lane_local, sp.jc_off, sp.jc_n, sp.jc_s
    tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v, tr_flags = sp.tr_start, sp.tr_t, sp.tr_x, \
        sp.tr_y, sp.tr_yaw, sp.tr_v, sp.tr_flags
    # instance j of the state
    es = state
    x, y, yaw, speed, steer, accel = row(es.x, j), row(es.y, j), row(es.yaw, j), row(es.speed, j), \
        row(es.steer, j), row(es.accel, j)
    vy, yaw_rate, progress, lateral = row(es.vy, j), row(es.yaw_rate, j), row(es.progress, j), row(es.lateral, j)
    active, started, done, inst = row(es.active, j), row(es.started, j), row(es.done, j), row(es.instance, j)
    v_des, speed_factor, ped_start = row(es.v_des, j), row(es.speed_factor, j), row(es.ped_start, j)
    friction, grade = row(es.friction, j), row(es.grade, j)
    ctrl_accel, ctrl_steer = row(es.ctrl_accel, j), row(es.ctrl_steer, j)
    offroad, goal_flag = row(es.offroad, j), row(es.goal_flag, j)
    ror_stop, arr_ps, arr_t, lat_off, lat_tgt = row(es.ror_stop, j), row(es.arr_ps, j), row(es.arr_t, j), \
        row(es.lat_off, j), row(es.lat_tgt, j)
    rx, ry, route_mu = row(es.route_x, j), row(es.route_y, j), row(es.route_mu, j)
    sig_state, sig_override, cw_occ = row(es.sig_state, j), row(es.sig_override, j), row(es.cw_occ, j)
    metrics, actor_ev, pet = row(es.metrics, j), row(es.actor_ev, j), row(es.pet, j)
    touch_i, touch_j, n_touch = row(es.touch_i, j), row(es.touch_j, j), row(es.n_touch, j)
    # scratch and outputs
    sc = scratch
    st_buf, st_u = sc.st_buf, sc.st_u
    cell_start, cell_items, cell_seen, actor_seen, cand, stamp = sc.cell_start, sc.cell_items, \
        sc.cell_seen, sc.actor_seen, sc.cand, sc.stamp
    cx, cy, pair_i, pair_j = sc.box_cx, sc.box_cy, sc.pair_i, sc.pair_j
    so_out_obj, so_out_dist = sc.so_out_obj, sc.so_out_dist
    cur_turn, hold_s, cur_ps, jb_start, jb_items = sc.cur_turn, sc.hold_s, sc.cur_ps, \
        sc.jb_start, sc.jb_items
    lead_gap, lead_close = sc.lead_gap, sc.lead_close
    key_lane, key_s, lb_start, lb_items = sc.key_lane, sc.key_s, sc.lb_start, sc.lb_items
    rlane, rls, ln_next, lk_ok = sp.rlane, sp.rls, sp.ln_next, sp.lk_ok
    ev_time, ev_kind, ev_a, ev_b, ev_value, ev_fault = out.ev_time, out.ev_kind, out.ev_a, \
        out.ev_b, out.ev_value, out.ev_fault
    rec_every, rec_row = out.rec_every, out.rec_row
    rec_time, rec_x, rec_y, rec_yaw, rec_speed, rec_active, rec_sig = out.rec_time, out.rec_x, out.rec_y, \
        out.rec_yaw, out.rec_speed, out.rec_active, out.rec_sig
    state_hash = out.state_hash
    # (static, state, out and scratch are read here, in the entry block, and in the loop only where a callee
    # takes a whole tuple: a NamedTuple variable used in the loop lives in memory and each field read there
    # loads all of it, which made LLVM's SROA pass take most of this function's compile time)
    n_story = sp.sb_act.shape[0]  # compiled storyboard entries (runner.story_kernels)
    uses = sp.uses
    prof_on, prof, prof_pre = row(es.prof_on, j), row(es.prof, j), row(es.prof_pre, j)
    step_of = es.step
    step0 = step_of[j]
    n_ev = 0
    done_steps = 0
    cap = ev_kind.shape[0]
    for k in range(n_steps):
        t_now = (step0 + k) * dt
        if n_story > 0:
            _story_before(uses.story, None, t_now, dt, prof_on, prof, prof_pre, speed, v_des)
        junction_holds(
            t_now, drive_idx, veh_idx, ego, speed, active, inst, length, rear_overhang, progress, yields, crit_gap,
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
            mobil, mb_p, mb_thr, mb_bias, nb_left, nb_right, lat_off, lat_tgt, accel, r_next, cx, cy,
            lateral, lk_ok, rlane, rls, ln_next, key_lane, key_s, lb_start, lb_items,
        )
        if scripted_idx.shape[0] > 0:
            _step_scripted(uses.scripted, None, t_now + dt, dt, scripted_idx, x, y, yaw, speed, accel, active, done,
                           tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v, tr_flags)
        step_kinematic(x, y, yaw, speed, steer, accel, active, veh_idx_kin, wheelbase, max_steer,
                       max_steer_rate, max_accel, max_decel, max_speed, ctrl_accel, ctrl_steer, dt)
        if veh_idx_st.shape[0] > 0:
            _step_single_track_rows(uses.single_track, None, x, y, yaw, speed, steer, accel, vy, yaw_rate, active,
                                    veh_idx_st, st_params, friction, grade, ctrl_accel, ctrl_steer, st_buf, st_u, dt,
                                    progress, rt_start, rs, route_mu, route_grade)
        if ped_idx.shape[0] > 0:
            _step_pedestrians(uses.pedestrians, None, t_now, ped_idx, x, y, yaw, speed, active, done, inst, started,
                              ped_start, rt_start, rx, ry, rs, progress, cw_start, cw_s0, cw_id, cw_signal, sig_state,
                              ped_speed, ped_accel, ped_decel, ped_obey, dt)
        t = (step0 + k + 1) * dt
        start_ev = n_ev
        m = evaluate_step(
            t, dt, eval_idx, ego, x, y, yaw, speed, accel, active, done, inst, progress, lateral,
            length, width, rear_overhang, center_offset, stop_at_end,
            rt_start, rx, ry, rs, rk, road_half, st_start, stop_s, stop_sig, sig_state, goal_s, offroad, goal_flag,
            g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw,
            metrics, ev_kind[n_ev:], ev_a[n_ev:], ev_b[n_ev:], ev_value[n_ev:], scoring,
        )
        m = _drop_legal_right_on_red(ev_kind, ev_a, ev_b, ev_value, n_ev, min(n_ev + m, cap) - n_ev,
                                     right_on_red, ror_stop, cur_turn, st_start, stop_s, stop_sig)
        for q in range(n_ev, min(n_ev + m, cap)):
            ev_time[q] = t
        n_ev = min(n_ev + m, cap)
        if track_idx.shape[0] > 0:
            track_rows(track_idx, x, y, speed, active, done, progress, lateral, length, rear_overhang, stop_at_end,
                       rt_start, rx, ry, rs, dt)
        n_ev = _collision_onsets(
            t, x, y, yaw, speed, kind, active, inst, length, width, center_offset,
            cx, cy, pair_i, pair_j, touch_i, touch_j, n_touch,
            ev_time, ev_kind, ev_a, ev_b, ev_value, n_ev,
        )
        n_ev = min(n_ev, cap)
        if scoring:
            n_ev = evaluate_rules(
                t, dt, ego, x, y, yaw, speed, accel, active, inst, kind, length, width, rear_overhang, center_offset,
                progress, lateral, rt_start, rx, ry, rs, rvlim, st_start, stop_s, stop_sig, stop_sign, sig_state,
                g_cell, g_x0, g_y0, g_nx, g_ny, g_start, g_seg, g_ax, g_ay, g_bx, g_by, g_hw,
                so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start,
                so_ax, so_ay, so_bx, so_by, so_out_obj, so_out_dist,
                metrics, actor_ev, pet, ev_time, ev_kind, ev_a, ev_b, ev_value, ev_fault, start_ev, n_ev,
            )
        elif ego >= 0 and active[ego]:
            n_ev = static_object_contact(
                t, ego, x, y, yaw, speed, length, width, center_offset,
                so_cell, so_x0, so_y0, so_nx, so_ny, so_start, so_obj, so_ix0, so_iy0, so_seg_start,
                so_ax, so_ay, so_bx, so_by, so_out_obj, so_out_dist,
                metrics, ev_time, ev_kind, ev_a, ev_b, ev_value, ev_fault, n_ev,
            )
        n_ev = min(n_ev, cap)
        signal_states(t, plan_cycle, plan_offset, plan_start, plan_t0, plan_state, sig_override, sig_state)
        if ped_idx.shape[0] > 0:
            _crosswalk_occupancy(uses.pedestrians, None, ped_idx, x, y, yaw, speed, active, inst, cw_x, cw_y,
                                 cw_cx, cw_cy, cw_rad, cg_cell, cg_x0, cg_y0, cg_nx, cg_ny, cg_start, cg_items,
                                 cw_margin, cw_occ)
        else:  # what crosswalk_occupancy does without walkers
            cw_occ[:, :] = False
        done_steps += 1
        step_of[j] = step0 + done_steps  # this step's state is whole (the state hash reads it)
        if scoring and (step0 + k + 1) % rec_every == 0:
            r = rec_row[0]
            if r < rec_time.shape[0]:
                rec_time[r] = t
                for i in range(x.shape[0]):  # element loops: a row assignment may copy (allocate) first
                    rec_x[r, i] = x[i]
                    rec_y[r, i] = y[i]
                    rec_yaw[r, i] = yaw[i]
                    rec_speed[r, i] = speed[i]
                    rec_active[r, i] = active[i]
                for g in range(rec_sig.shape[1]):
                    rec_sig[r, g] = sig_state[0, g]
                rec_row[0] = r + 1
        n_ev_story = n_ev
        if n_story > 0:
            n_ev = _story_after(uses.story, n_ev, static, state, out, j, t_now, t, n_ev)
            n_ev = min(n_ev, cap)
        if scoring and state_hash.shape[0] > 0:
            state_hash[0] = fold_engine_state(state_hash[0], state, j)
            if n_ev > n_ev_story:  # an entry fired: the storyboard may have edited the routes
                state_hash[0] = fold_routes_compiled(state_hash[0], state, j)
        reportable = False
        for q in range(start_ev, n_ev):
            if ev_kind[q] != EV_ROUTE_DONE:
                reportable = True
        if reportable or n_ev >= cap:
            break
    step_of[j] = step0 + done_steps
    return done_steps, n_ev
# fmt: on


# The large stages keep their own machine code: ``advance`` (and the gym's ``gym_step``, which calls
# ``advance``) call them at their address instead of re-optimising and re-emitting each inside their own
# code (``_jit.apart``: a first run compiles less, same results). The stages called once per step with
# tens of array arguments are ``inline_stage`` instead (compiled inside ``advance``: no argument copies)
# and are not listed here: junction_holds, step_drivers, step_kinematic, evaluate_step, track_rows,
# _collision_onsets, static_object_contact.
apart(step_scripted, step_single_track_rows, step_pedestrians, evaluate_rules, crosswalk_occupancy,
      story_before, story_after, fold_engine_state, fold_routes_compiled, advance)
