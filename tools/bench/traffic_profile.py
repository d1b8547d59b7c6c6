"""Where one engine step goes on the city-traffic workload: each stage kernel timed on its own.

    python tools/bench/traffic_profile.py [--vehicles 1000] [--walkers 0] [--warm-s 5] [--reps 50] [--json FILE]

Builds the ``tools/bench/traffic.py`` workload, runs it ``--warm-s`` simulated seconds so traffic
is flowing, then calls every stage of ``runner.step_kernels.advance`` (the same kernels with the
same arguments) ``--reps`` times from Python on that state and reports the median and minimum CPU µs
per call (``time.process_time``: stable on a loaded machine, unlike wall time) and ns per vehicle.
Stages that change the state (drivers, dynamics, evaluation) are timed on a copy that is restored
before every call, so each call sees the same step. The whole ``advance`` step is
timed the same way, so the rows can be checked against it (their sum includes the Python call
overhead of each stage, ~1-5 µs, measured on an empty stage and reported). The driver stage is
split further by ``driver_parts`` (candidate gathering in the actor grid, the projection of every
candidate onto the route, the look-ahead speed ``desired_speed``), which repeat those parts of
``step_drivers``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json
from _traffic import traffic_file

from simcore._jit import kernel
from simcore.behavior.driver_kernels import (
    actor_centres,
    build_actor_grid,
    desired_speed,
    gather_along_route,
    look_ahead,
    obstacle_at_centre,
    step_drivers,
)
from simcore.behavior.junction_kernels import junction_holds
from simcore.behavior.pedestrian_kernels import step_pedestrians
from simcore.behavior.route_kernels import route_index
from simcore.behavior.signal_kernels import signal_states
from simcore.dynamics.kinematic_kernels import step_kinematic
from simcore.evaluation.metrics_kernels import crosswalk_occupancy, evaluate_step
from simcore.evaluation.rules_kernels import evaluate_rules
from simcore.runner.step_kernels import _collision_onsets, advance, make_engine


# fmt: off
@kernel
def driver_parts(part, idx, x, y, yaw, speed, active, inst, length, rear_overhang, width, center_offset, b_comf,
                 rt_start, rx, ry, rs, rvlim, rk, r_next, progress, v_des, speed_factor, a_lat,
                 grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items, cell_seen, actor_seen, cand,
                 stamp, box_cx, box_cy):  # pragma: no cover - compiled
    """Parts of ``step_drivers`` for every active row of idx: 0 the actor grid, 1 + candidate gathering,
    2 + projecting every candidate onto the route, 3 the look-ahead speed scan alone. Returns a checksum."""
    total = 0.0
    build_actor_grid(x, y, active, grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items)
    actor_centres(x, y, yaw, center_offset, box_cx, box_cy)
    if part == 0:
        return total
    for q in range(idx.shape[0]):
        i = idx[q]
        if not active[i]:
            continue
        a = rt_start[i]
        b = rt_start[i + 1]
        front = length[i] - rear_overhang[i]
        front_s = progress[i] + front
        look = look_ahead(speed[i], b_comf[i])
        if part == 3:
            k0 = route_index(rs, a, b, progress[i])
            total += desired_speed(v_des[i], speed_factor[i], a_lat[i], b_comf[i], rs, rvlim, rk, r_next, k0, b,
                                   front_s)
            continue
        stamp[0] += 1
        n = gather_along_route(rx, ry, rs, a, b, progress[i] - 10.0, progress[i] + look + front, inst[i], inst,
                               grid_x0, grid_y0, grid_nx, grid_ny, cell_start, cell_items, stamp[0], cell_seen,
                               actor_seen, cand, cell_start, False)
        total += n
        if part == 2:
            k0 = route_index(rs, a, b, progress[i])
            k1 = route_index(rs, a, b, progress[i] + look) + 1
            for m in range(n):
                j = cand[m]
                if j == i:
                    continue
                g, _ = obstacle_at_centre(x[i], y[i], 0.5 * width[i], progress[i], front_s, look, rx, ry, rs,
                                          k0, k1, x[j], y[j], box_cx[j], box_cy[j], yaw[j], speed[j], length[j],
                                          width[j], 0.0)
                if g != math.inf:
                    total += g
    return total
# fmt: on


def _median_us(fn, reps: int, restore=None) -> tuple[float, float]:
    """Median and minimum µs of ``reps`` calls of fn (``restore()`` before each, untimed)."""
    times = []
    for _ in range(reps):
        if restore is not None:
            restore()
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return float(np.median(times)) * 1e6, float(np.min(times)) * 1e6


def profile(n: int, walkers: int, warm_s: float, reps: int) -> tuple[list[dict], dict]:
    """Median µs per call of every stage at ``n`` vehicles after ``warm_s`` simulated seconds."""
    from simcore.api import simulation
    from simcore.yamlio import source as yaml_source

    # as traffic.py: the generated file of a 10,000-vehicle grid is larger than the loader's alias-bomb guard
    yaml_source.MAX_NODES = max(yaml_source.MAX_NODES, 40 * (n + walkers))
    sim = simulation(traffic_file(n, timeout_s=warm_s + 60.0, pedestrians=walkers), record_every=0)
    sim._advance(round(warm_s / sim.world.dt))
    sp, sc, out = sim.static, sim.scratch, sim.out
    es = sim.state
    saved = es.copy()

    def restore() -> None:
        saved.copy_into(es)

    e = {f: getattr(es, f)[0] for f in es._fields if f != "step"}
    dt = sim.world.dt
    t = float(es.step[0]) * dt
    n_active = int(np.count_nonzero(e["active"][sp.veh_idx]))
    v = e
    drivers_args = (
        sp.drive_idx, v["x"], v["y"], v["yaw"], v["speed"], v["active"], v["instance"],
        sp.wheelbase, sp.length, sp.width, sp.rear_overhang, sp.center_offset, sp.accel_cap, sp.max_decel,
        sp.max_steer, sp.rt_start, v["route_x"], v["route_y"], sp.rs, sp.rvlim, sp.rk, v["progress"],
        sp.st_start, sp.stop_s, sp.stop_sig, v["sig_state"], sp.cw_start, sp.cw_s0, sp.cw_s1, sp.cw_id, v["cw_occ"],
        sp.lc_start, sp.lc_s0, sp.lc_s1, sp.lc_side, sp.lc_offset,
        v["v_des"], sp.T, sp.s0, sp.b_comf, sp.delta, sp.a_lat, v["speed_factor"], sp.stop_at_end,
        sp.grid_x0, sp.grid_y0, sp.grid_nx, sp.grid_ny, sc.cell_start, sc.cell_items, sc.cell_seen, sc.actor_seen,
        sc.cand, sc.stamp,
        v["ctrl_accel"], v["ctrl_steer"], sc.lead_gap, sc.lead_close,
        t, dt, v["started"], sp.start_time, sp.run_amber, sp.run_red, sp.right_on_red, v["ror_stop"], sc.cur_turn,
        sc.hold_s, sp.pf_mode, sp.pf_start, sp.pf_key, sp.pf_v,
        sp.mobil, sp.mb_p, sp.mb_thr, sp.mb_bias, sp.nb_left, sp.nb_right, v["lat_off"], v["lat_tgt"], v["accel"],
        sp.r_next, sc.box_cx, sc.box_cy,
        v["lateral"], sp.lk_ok, sp.rlane, sp.rls, sp.ln_next, sc.key_lane, sc.key_s, sc.lb_start, sc.lb_items,
    )  # fmt: skip

    def parts(p: int) -> None:
        driver_parts(
            p, sp.drive_idx, v["x"], v["y"], v["yaw"], v["speed"], v["active"], v["instance"], sp.length,
            sp.rear_overhang, sp.width, sp.center_offset, sp.b_comf, sp.rt_start, v["route_x"], v["route_y"],
            sp.rs, sp.rvlim, sp.rk, sp.r_next, v["progress"], v["v_des"], v["speed_factor"], sp.a_lat,
            sp.grid_x0, sp.grid_y0, sp.grid_nx, sp.grid_ny, sc.cell_start, sc.cell_items, sc.cell_seen,
            sc.actor_seen, sc.cand, sc.stamp, sc.box_cx, sc.box_cy,
        )  # fmt: skip

    ev = out
    engine = make_engine(sp, es, sc, out)
    stages = {
        "whole step (advance, 1 step)": (
            lambda: advance(engine, 0, np.int64(1), dt), True),
        "junction right of way (junction_holds)": (lambda: junction_holds(
            t, sp.drive_idx, sp.veh_idx, sp.ego, v["speed"], v["active"], v["instance"], sp.length,
            sp.rear_overhang, v["progress"], sp.yields, sp.crit_gap, sp.right_on_red, sp.ps_start, sp.ps_junc,
            sp.ps_hold, sp.ps_s1, sp.ps_sig, sp.ps_stop, sp.ps_turn, sp.ps_l, sp.pl_lane, sp.pl_s0, sp.lane_local,
            sp.jc_off, sp.jc_n, sp.jc_s, v["sig_state"], sc.cur_ps, v["arr_ps"], v["arr_t"], sc.jb_start,
            sc.jb_items, sc.hold_s, sc.cur_turn), True),
        "drivers (step_drivers)": (lambda: step_drivers(*drivers_args), True),
        "  actor grid build + box centres": (lambda: parts(0), False),
        "  + candidate gathering": (lambda: parts(1), False),
        "  + candidate projection": (lambda: parts(2), False),
        "  look-ahead speed scan alone": (lambda: parts(3), False),
        "kinematics (step_kinematic)": (lambda: step_kinematic(
            v["x"], v["y"], v["yaw"], v["speed"], v["steer"], v["accel"], v["active"], sp.veh_idx_kin,
            sp.wheelbase, sp.max_steer, sp.max_steer_rate, sp.max_accel, sp.max_decel, sp.max_speed,
            v["ctrl_accel"], v["ctrl_steer"], dt), True),
        "walkers (step_pedestrians)": (lambda: step_pedestrians(
            t, sp.ped_idx, v["x"], v["y"], v["yaw"], v["speed"], v["active"], v["done"], v["instance"],
            v["started"], v["ped_start"], sp.rt_start, v["route_x"], v["route_y"], sp.rs, v["progress"],
            sp.cw_start, sp.cw_s0, sp.cw_id, sp.cw_signal, v["sig_state"], sp.ped_speed, sp.ped_accel,
            sp.ped_decel, sp.ped_obey, dt), True),
        "evaluation (evaluate_step)": (lambda: evaluate_step(
            t + dt, dt, sp.eval_idx, sp.ego, v["x"], v["y"], v["yaw"], v["speed"], v["accel"], v["active"],
            v["done"], v["instance"], v["progress"], v["lateral"], sp.length, sp.width, sp.rear_overhang,
            sp.center_offset, sp.stop_at_end, sp.rt_start, v["route_x"], v["route_y"], sp.rs, sp.rk, sp.road_half,
            sp.st_start, sp.stop_s, sp.stop_sig, v["sig_state"], sp.goal_s, v["offroad"], v["goal_flag"],
            sp.g_cell, sp.g_x0, sp.g_y0, sp.g_nx, sp.g_ny, sp.g_start, sp.g_seg, sp.g_ax, sp.g_ay, sp.g_bx,
            sp.g_by, sp.g_hw, v["metrics"], ev.ev_kind, ev.ev_a, ev.ev_b, ev.ev_value, sp.scoring), True),
        "collision onsets (_collision_onsets)": (lambda: _collision_onsets(
            t + dt, v["x"], v["y"], v["yaw"], v["speed"], sp.kind, v["active"], v["instance"], sp.length, sp.width,
            sp.center_offset, sc.box_cx, sc.box_cy, sc.pair_i, sc.pair_j, v["touch_i"], v["touch_j"],
            v["n_touch"], ev.ev_time, ev.ev_kind, ev.ev_a, ev.ev_b, ev.ev_value, 0), True),
        "rules (evaluate_rules)": (lambda: evaluate_rules(
            t + dt, dt, sp.ego, v["x"], v["y"], v["yaw"], v["speed"], v["accel"], v["active"], v["instance"],
            sp.kind, sp.length, sp.width, sp.rear_overhang, sp.center_offset, v["progress"], v["lateral"],
            sp.rt_start, v["route_x"], v["route_y"], sp.rs, sp.rvlim, sp.st_start, sp.stop_s, sp.stop_sig,
            sp.stop_sign, v["sig_state"], sp.g_cell, sp.g_x0, sp.g_y0, sp.g_nx, sp.g_ny, sp.g_start, sp.g_seg,
            sp.g_ax, sp.g_ay, sp.g_bx, sp.g_by, sp.g_hw, sp.so_cell, sp.so_x0, sp.so_y0, sp.so_nx, sp.so_ny,
            sp.so_start, sp.so_obj, sp.so_ix0, sp.so_iy0, sp.so_seg_start, sp.so_ax, sp.so_ay, sp.so_bx, sp.so_by,
            sc.so_out_obj, sc.so_out_dist, v["metrics"], v["actor_ev"], v["pet"], ev.ev_time, ev.ev_kind, ev.ev_a,
            ev.ev_b, ev.ev_value, ev.ev_fault, 0, 0), True),
        "signals + crosswalks": (lambda: (
            signal_states(t + dt, sp.plan_cycle, sp.plan_offset, sp.plan_start, sp.plan_t0, sp.plan_state,
                          v["sig_override"], v["sig_state"]),
            crosswalk_occupancy(sp.ped_idx, v["x"], v["y"], v["yaw"], v["speed"], v["active"], v["instance"],
                                sp.cw_x, sp.cw_y, sp.cw_cx, sp.cw_cy, sp.cw_rad, sp.cg_cell, sp.cg_x0, sp.cg_y0,
                                sp.cg_nx, sp.cg_ny, sp.cg_start, sp.cg_items, sp.cw_margin, v["cw_occ"])), True),
    }  # fmt: skip
    rows = []
    for name, (fn, mutates) in stages.items():
        fn()  # compile or load from the cache
        restore()
        us, us_min = _median_us(fn, reps, restore if mutates else None)
        per_vehicle = us_min * 1e3 / max(n_active, 1)
        rows.append({"stage": name, "us_median": us, "us_min": us_min, "ns_per_vehicle_min": per_vehicle})
    restore()
    empty = np.zeros(0, dtype=np.int64)
    kin = (v["x"], v["y"], v["yaw"], v["speed"], v["steer"], v["accel"], v["active"], empty, sp.wheelbase)
    kin += (sp.max_steer, sp.max_steer_rate, sp.max_accel, sp.max_decel, sp.max_speed, v["ctrl_accel"], v["ctrl_steer"])
    _, overhead = _median_us(lambda: step_kinematic(*kin, dt), reps)
    return rows, {"vehicles": n, "walkers": walkers, "on_road": n_active, "t": t, "call_overhead_us": overhead}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vehicles", type=int, default=1000)
    ap.add_argument("--walkers", type=int, default=0)
    ap.add_argument("--warm-s", type=float, default=5.0, help="simulated seconds before the timed step")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="20 repeats")
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--geometric", action="store_true", help="drivers without lane-indexed leaders")
    args = ap.parse_args()
    if args.geometric:
        import simcore.runner.engine as engine

        engine.LANE_LEADER = False
    reps = 20 if args.quick else args.reps
    rows, info = profile(args.vehicles, args.walkers, args.warm_s, reps)
    print(
        f"{info['vehicles']} vehicles ({info['on_road']} on the road at t = {info['t']:.2f} s), "
        f"{info['walkers']} walkers; CPU time (process_time), median and minimum of {reps} calls; "
        f"Python call overhead per stage ~{info['call_overhead_us']:.1f} µs"
    )
    print_table("stage costs", rows, ["stage", "us_median", "us_min", "ns_per_vehicle_min"])
    if args.json:
        write_json(args.json, "traffic_profile", rows, info)


if __name__ == "__main__":
    main()
