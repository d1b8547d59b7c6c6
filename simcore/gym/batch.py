"""N copies of one built World stepped together: stacked per-instance arrays over shared static data.

A built ``World`` holds R state rows for one scenario instance. ``InstanceBatch`` keeps every
per-instance quantity (state, controls, flags, metrics, signal states, collision memory,
step counter) as an (N, R) array, row j for instance j, and shares what is equal in every
copy (vehicle and driver parameters, routes, map). ``step_instances`` then advances all
instances in one compiled call, each on its own clock. Instance j's results depend only on
its own inputs: a batch of N is step for step identical to N batches of one.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from simcore.behavior.driver_kernels import GRID_CELL_M
from simcore.dynamics.single_track_kernels import N_PARAMS
from simcore.evaluation import metrics_kernels as mk
from simcore.evaluation import rules_kernels as rk
from simcore.gym import batch_kernels as bk
from simcore.road.static_index import build_static_index
from simcore.runner.loop import CROSSWALK_MARGIN_M, _route_stop_signs
from simcore.world import World

#: WorldState fields stacked per instance, in the order the kernels unpack them.
STATE_FIELDS = (
    "x",
    "y",
    "yaw",
    "speed",
    "steer",
    "accel",
    "vy",
    "yaw_rate",
    "progress",
    "lateral",
    "active",
    "started",
    "done",
    "instance",
)
#: Event buffer slots per row of one instance and step (collisions, off-road, red lights, goal).
EVENTS_PER_ROW = 8


class InstanceBatch:
    """``n`` independent copies of ``world`` (its ego is the controlled vehicle).

    Args:
        world: a built World with an ego and no storyboard (``scenario.build.build_world``).
        n: number of instances.
        evaluation: "light" (default) steps with the engine's ``advance(..., scoring=False)``:
            everything the gym reports (state, rewards, end codes) is that of the full step, the
            score-only evaluation (ego metrics, rules) is skipped; "full" runs ``advance`` with
            scoring and keeps ``metrics`` and ``ev_state`` as ``Simulation`` does.
        threads: split the instances into this many contiguous ranges stepped on worker threads
            (the kernels release the GIL); results are identical for any thread count.
    """

    def __init__(self, world: World, n: int, threads: int = 1, evaluation: str = "light") -> None:
        if evaluation not in ("light", "full"):
            raise ValueError(f"evaluation must be 'light' or 'full', got {evaluation!r}")
        self.light = evaluation == "light"
        if world.ego < 0:
            raise ValueError(f"scenario {world.name!r} has no ego vehicle: simcore.gym controls the ego")
        if world.storyboard:
            raise ValueError(f"scenario {world.name!r} has a storyboard; simcore.gym does not run storyboards yet")
        if world.n_instances != 1:
            raise ValueError("InstanceBatch stacks a single-instance World")
        if n < 1:
            raise ValueError(f"expected at least 1 instance, got {n}")
        assert world.initial is not None
        self.world = w = world
        self.n = n
        r = w.state.n
        self.rows = r
        self.ego = int(w.ego)
        init = w.initial
        self.init = tuple(
            np.ascontiguousarray(np.zeros(r, np.int32) if f == "instance" else getattr(init, f)) for f in STATE_FIELDS
        )
        self.state = tuple(np.zeros((n, r), dtype=a.dtype) for a in self.init)
        self.kind = np.ascontiguousarray(init.kind)
        p = w.params
        self.vp = tuple(
            np.ascontiguousarray(p[k], dtype=np.float64)
            for k in (
                "wheelbase",
                "length",
                "width",
                "rear_overhang",
                "center_offset",
                "max_steer",
                "max_steer_rate",
                "max_accel",
                "max_decel",
                "max_speed",
            )
        )
        assert w.st_params is not None and w.st_params.shape == (r, N_PARAMS)
        self.st_params = w.st_params
        d = w.driver
        self.drv = (d.v_des, d.T, d.s0, d.b_comf, d.delta, d.a_lat, d.accel_cap, d.stop_at_end)
        self.speed_factor0 = d.speed_factor.copy()
        self.speed_factor = np.tile(d.speed_factor, (n, 1))
        pp = w.pedestrians
        self.ped = (pp.desired_speed, pp.max_accel, pp.max_decel, pp.obey_signal, pp.start_time)
        rt = w.routes
        self.rt = (
            rt.start,
            rt.x,
            rt.y,
            rt.s,
            rt.speed_limit,
            rt.curvature,
            rt.stop_start,
            rt.stop_s,
            rt.stop_signal,
            rt.cw_start,
            rt.cw_s0,
            rt.cw_s1,
            rt.cw_id,
            rt.lc_start,
            rt.lc_s0,
            rt.lc_s1,
            rt.lc_side,
            rt.lc_offset,
            rt.goal_s,
            rt.road_half,
            rt.friction,
            rt.grade,
        )
        net = w.network
        self.mp = (
            net.plan_cycle,
            net.plan_offset,
            net.plan_start,
            net.plan_t0,
            net.plan_state,
            net.cw_x,
            net.cw_y,
            net.cw_signal,
            float(CROSSWALK_MARGIN_M),
        )
        g = w.drivable
        self.grid = (g.cell_size, g.x0, g.y0, g.nx, g.ny, g.cell_start, g.cell_seg)
        self.grid += (g.ax, g.ay, g.bx, g.by, g.half_width)
        # Actor grid over the map, as the runner builds it (driver neighbour queries).
        xmin, ymin, xmax, ymax = net.bounds()
        margin = 2 * GRID_CELL_M
        gnx = math.ceil((xmax - xmin + 2 * margin) / GRID_CELL_M)
        gny = math.ceil((ymax - ymin + 2 * margin) / GRID_CELL_M)
        self.actor_grid = (float(xmin - margin), float(ymin - margin), int(gnx), int(gny))
        assert w.friction is not None and w.grade is not None
        self.work = (
            np.zeros((n, r)),
            np.zeros((n, r)),
            np.zeros((n, r)),
            np.zeros((n, r)),
            np.zeros((n, r), dtype=np.bool_),
            np.zeros((n, r), dtype=np.bool_),
            np.tile(w.friction, (n, 1)),
            np.tile(w.grade, (n, 1)),
            w.friction.copy(),
            w.grade.copy(),
        )
        # Evaluation rules: stop-sign flags and the static-object grid (shared), per-actor state and
        # PET bins over the ego route (per instance), as ``Simulation`` builds them.
        so = build_static_index(net)
        self.ev_static = (_route_stop_signs(w), *so.grid_args())
        ra, rb = w.routes.start[self.ego], w.routes.start[self.ego + 1]
        n_bins = max(math.ceil(float(w.routes.s[rb - 1] - w.routes.s[ra]) / rk.PET_BIN_M) + 1, 1)
        actor_ev0 = np.zeros((r, rk.N_ACTOR_EV))
        actor_ev0[:, rk.A_RED_T] = -math.inf
        actor_ev0[:, rk.A_HAZ_T] = math.nan
        self.metrics0 = np.zeros(mk.N_METRICS)
        mk.reset_metrics(self.metrics0)
        # Per-instance rule and behaviour state and its t = 0 value: actor_ev, pet, ror_stop, arr_ps, arr_t,
        # lat_off, lat_tgt (lane-change lateral offset and target).
        self.ev_state0 = (
            actor_ev0,
            np.full((4, n_bins), np.nan),
            np.full(r, np.nan),
            np.full(r, -1, dtype=np.int64),
            np.full(r, np.inf),
            np.zeros(r),
            np.zeros(r),
        )
        self.ev_state = tuple(np.zeros((n, *a.shape), dtype=a.dtype) for a in self.ev_state0)
        bp, jt = w.behavior, w.junctions
        assert bp is not None and jt is not None
        self.beh = (
            bp.run_amber,
            bp.run_red,
            bp.right_on_red,
            bp.crit_gap,
            bp.yields,
            bp.start_time,
            bp.pf_mode,
            bp.pf_start,
            bp.pf_key,
            bp.pf_v,
            bp.mobil,
            bp.mb_p,
            bp.mb_thr,
            bp.mb_bias,
            bp.nb_left,
            bp.nb_right,
        )
        self.jt = (jt.ps_start, jt.ps_junc, jt.ps_hold, jt.ps_s1, jt.ps_sig, jt.ps_stop, jt.ps_turn, jt.ps_l)
        self.jt += (jt.pl_lane, jt.pl_s0, jt.lane_local, jt.jc_off, jt.jc_n, jt.jc_s)
        self.scr = (w.scripted_idx, bp.tr_start, bp.tr_t, bp.tr_x, bp.tr_y, bp.tr_yaw, bp.tr_v, bp.tr_flags)
        self.eval_idx = np.ascontiguousarray(w.eval_idx, dtype=np.int64)
        self.track_idx = np.ascontiguousarray(w.track_idx, dtype=np.int64)
        cap_pairs = max(16, 4 * r)
        self._scratch_shape = (
            r,
            cap_pairs,
            max(64, EVENTS_PER_ROW * r),
            gnx * gny,
            net.n_signals,
            max(so.n_objects, 1),
            jt.n_junctions,
        )
        self.threads = max(1, min(int(threads), n))
        self.scratch = [self._new_scratch() for _ in range(self.threads)]
        bounds = np.linspace(0, n, self.threads + 1).round().astype(int)
        self.chunks = [(int(bounds[t]), int(bounds[t + 1])) for t in range(self.threads)]
        self._pool: ThreadPoolExecutor | None = None
        n_groups = net.n_signals
        self.metrics = np.zeros((n, mk.N_METRICS))
        self.sig_override = np.tile(w.sig_override, (n, 1))
        self.sig_state = np.zeros((n, n_groups), dtype=np.int8)
        self.cw_occ = np.zeros((n, len(net.cw_names)), dtype=np.bool_)
        self.touch_i = np.zeros((n, cap_pairs), dtype=np.int64)
        self.touch_j = np.zeros((n, cap_pairs), dtype=np.int64)
        self.n_touch = np.zeros(n, dtype=np.int64)
        self.step_count = np.zeros(n, dtype=np.int64)
        self.drive_idx = np.ascontiguousarray(w.npc_idx, dtype=np.int64)
        self.veh_idx = np.ascontiguousarray(w.veh_idx, dtype=np.int64)
        assert w.veh_idx_kin is not None and w.veh_idx_st is not None
        self.veh_idx_kin = np.ascontiguousarray(w.veh_idx_kin, dtype=np.int64)
        self.veh_idx_st = np.ascontiguousarray(w.veh_idx_st, dtype=np.int64)
        self.ped_idx = np.ascontiguousarray(w.ped_idx, dtype=np.int64)
        self.terms = np.zeros((n, bk.N_TERMS))
        self.reward = np.zeros(n)
        self.end = np.zeros(n, dtype=np.int64)
        self.reset_instances(np.ones(n, dtype=np.bool_))

    def _new_scratch(self) -> tuple:
        """Buffers one ``step_instances`` call overwrites (one set per thread)."""
        r, cap_pairs, cap_ev, n_cells, n_groups, n_obj, n_junc = self._scratch_shape
        return (
            np.zeros((7, r)),
            np.zeros((3, r)),
            np.zeros(n_cells + 1, dtype=np.int64),
            np.zeros(r, dtype=np.int64),
            np.zeros(n_cells, dtype=np.int64),
            np.zeros(r, dtype=np.int64),
            np.zeros(r, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
            np.zeros(r),
            np.zeros(r),
            np.zeros(cap_pairs, dtype=np.int64),
            np.zeros(cap_pairs, dtype=np.int64),
            np.zeros(cap_ev),
            np.zeros(cap_ev, dtype=np.int64),
            np.zeros(cap_ev, dtype=np.int64),
            np.zeros(cap_ev, dtype=np.int64),
            np.zeros(cap_ev),
            np.zeros(1, dtype=np.int64),
            np.zeros(0),
            np.zeros((0, r)),
            np.zeros((0, r), dtype=np.bool_),
            np.zeros((0, n_groups), dtype=np.int8),
            # rules: fault per event, static objects near the ego; junctions: turn, hold line, passage
            np.zeros(cap_ev, dtype=np.int64),
            np.zeros(n_obj, dtype=np.int64),
            np.zeros(n_obj),
            np.zeros(r, dtype=np.int64),
            np.full(r, np.inf),
            np.zeros(r, dtype=np.int64),
            np.zeros(n_junc + 1, dtype=np.int64),
            np.zeros(r, dtype=np.int64),
        )

    def close(self) -> None:
        """Stop the worker threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    # -- state --------------------------------------------------------------------------
    def _reset_args(self) -> tuple:
        """The arguments of ``batch_kernels.reset_instance(s)`` after the instance (mask)."""
        return (
            self.init, self.state, self.work, self.metrics, self.metrics0, self.ev_state, self.ev_state0,
            self.n_touch, self.sig_state, self.sig_override, self.cw_occ, self.ped_idx, self.mp, self.step_count,
        )  # fmt: skip

    def reset_instance(self, j: int, speed_factor: np.ndarray | None = None) -> None:
        """Instance ``j`` back to t = 0; ``speed_factor`` (R,) replaces the drivers' speed factors."""
        self.speed_factor[j] = self.speed_factor0 if speed_factor is None else speed_factor
        bk.reset_instance(j, *self._reset_args())

    def reset_instances(self, mask: np.ndarray, speed_factor: np.ndarray | None = None) -> None:
        """Every instance j with ``mask[j]`` back to t = 0 in one compiled call; ``speed_factor``:
        (N, R) rows replacing the drivers' speed factors of those instances (default: the scenario's)."""
        mask = np.ascontiguousarray(mask, dtype=np.bool_)
        self.speed_factor[mask] = self.speed_factor0 if speed_factor is None else speed_factor[mask]
        bk.reset_instances(mask, *self._reset_args())

    def field(self, name: str) -> np.ndarray:
        """The (N, R) array of a stacked WorldState field."""
        return self.state[STATE_FIELDS.index(name)]

    @property
    def offroad(self) -> np.ndarray:
        """(N, R) off-road flags after the last step."""
        return self.work[4]

    @property
    def goal_flag(self) -> np.ndarray:
        """(N, R) goal flags."""
        return self.work[5]

    # -- step ---------------------------------------------------------------------------
    def step(
        self,
        run: np.ndarray,
        accel: np.ndarray,
        steer: np.ndarray,
        max_steps: int,
        weights: np.ndarray,
        terminate: np.ndarray,
    ) -> None:
        """Advance the instances where ``run`` is True by one step with the ego targets
        ``accel`` (m/s^2) and ``steer`` (rad), (N,) each. Results in ``terms``, ``reward``, ``end``."""
        w = self.world

        def one(t: int) -> None:
            j0, j1 = self.chunks[t]
            scratch = self.scratch[t]
            bk.step_instances(
                j0,
                j1,
                run,
                accel,
                steer,
                float(w.dt),
                int(max_steps),
                weights,
                terminate,
                self.light,
                self.drive_idx,
                self.veh_idx,
                self.veh_idx_kin,
                self.veh_idx_st,
                self.ped_idx,
                self.ego,
                self.kind,
                self.state,
                self.vp,
                self.st_params,
                self.drv,
                self.speed_factor,
                self.ped,
                self.rt,
                self.mp,
                self.grid,
                self.actor_grid,
                self.work,
                scratch,
                self.metrics,
                self.sig_override,
                self.sig_state,
                self.cw_occ,
                self.touch_i,
                self.touch_j,
                self.n_touch,
                self.step_count,
                self.ev_static,
                self.ev_state,
                self.beh,
                self.jt,
                self.scr,
                self.eval_idx,
                self.track_idx,
                self.terms,
                self.reward,
                self.end,
            )

        if self.threads == 1:
            one(0)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="simcore-gym")
        for _ in self._pool.map(one, range(self.threads)):
            pass
