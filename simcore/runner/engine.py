"""The engine contract: a built World as the compiled step's four structured arguments.

``advance(engine, j, n_steps, dt)`` (``runner.step_kernels``) takes, behind one pointer
(``_jit.EngineCore``, built by ``step_kernels.make_engine``),

- ``Static``: every array and number that stays as built (vehicle, driver and walker
  parameters, routes, map tables, junction and behaviour tables, row index sets), shared by
  every instance;
- ``EngineState`` (``simcore.state``): every array the step changes, leading axis = instance;
- ``Scratch``: buffers one call overwrites before it reads them (one set per thread);
- ``Outputs``: the event buffer and the trajectory record of one call.

All four are NamedTuples of C-contiguous arrays of fixed dtypes and plain numbers, so
``Simulation`` and the gym's ``InstanceBatch`` compile one and the same specialisation of
``advance``. :class:`Engine` builds them for a World, resets (one copy of the initial state),
snapshots and restores.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from simcore._types import StopRule
from simcore.behavior.driver_kernels import GRID_CELL_M
from simcore.behavior.lane_kernels import route_lane_s
from simcore.behavior.route_kernels import limit_runs
from simcore.behavior.signal_kernels import signal_states
from simcore.evaluation import metrics_kernels as mk
from simcore.evaluation import rules_kernels as rk
from simcore.road.spatial_index import bin_capsules
from simcore.road.static_index import build_static_index
from simcore.runner import story_kernels as sk
from simcore.runner.story_tables import StoryTables, empty_tables, route_lanes
from simcore.state import EngineState
from simcore.world import DriverParams, World

#: Pedestrians this close (m) to a crosswalk count as on it.
CROSSWALK_MARGIN_M = 0.5
#: Cell size (m) of the crosswalk grid of ``crosswalk_grid``.
CROSSWALK_CELL_M = 10.0
#: Capacity of the event buffer of one compiled call and of the collision-pair buffers (Simulation).
EVENT_CAPACITY = 1024
#: ``Outputs.rec_every`` that never records.
REC_NEVER = 1 << 62


class Uses(NamedTuple):
    """Which optional stages the compiled step may run, fixed when it compiles (``_jit.optional``): True,
    the stage is compiled in (it still runs only where its rows or entries exist); None, the scenario
    has none of them, so the stage is not compiled at all. A first run compiles only what its scenario
    uses; each combination is its own specialisation of ``advance`` (and is cached like any other)."""

    story: bool | None  # compiled storyboard entries (``runner.story_kernels``)
    single_track: bool | None  # rows on the dynamic single-track model
    pedestrians: bool | None  # walker rows (walking, crosswalk occupancy)
    scripted: bool | None  # rows following a scripted trajectory


def uses_of(static_rows: dict[str, np.ndarray]) -> Uses:
    """The Uses of a Static from its row sets and storyboard table (``{"sb_act": ..., "veh_idx_st": ...,
    "ped_idx": ..., "scripted_idx": ...}``): True where the set has an element, else None."""
    names = {"story": "sb_act", "single_track": "veh_idx_st", "pedestrians": "ped_idx", "scripted": "scripted_idx"}
    return Uses(**{k: (True if static_rows[v].shape[0] > 0 else None) for k, v in names.items()})


class Static(NamedTuple):
    """What the compiled step reads and never writes (one copy shared by every instance).

    Row index sets are int64 rows of one instance; per-row arrays have R entries, route arrays
    one entry per route sample (CSR ``rt_start``), see ``world.RouteTable``, ``world.BehaviorParams``,
    ``behavior.junctions.JunctionTable``, ``road.spatial_index.SegmentGrid`` and
    ``road.static_index.StaticIndex`` for each field's meaning and unit.
    """

    # row sets: driven (NPCs, in-engine agent), vehicles (kinematic / single-track), walkers, scripted,
    # evaluated, only tracked; the ego row (-1: none); kind per row
    drive_idx: np.ndarray
    veh_idx: np.ndarray
    veh_idx_kin: np.ndarray
    veh_idx_st: np.ndarray
    ped_idx: np.ndarray
    scripted_idx: np.ndarray
    eval_idx: np.ndarray
    track_idx: np.ndarray
    ego: int
    kind: np.ndarray
    # vehicle parameters (m, rad, rad/s, m/s^2, m/s) and single-track parameter rows
    wheelbase: np.ndarray
    length: np.ndarray
    width: np.ndarray
    rear_overhang: np.ndarray
    center_offset: np.ndarray
    max_steer: np.ndarray
    max_steer_rate: np.ndarray
    max_accel: np.ndarray
    max_decel: np.ndarray
    max_speed: np.ndarray
    st_params: np.ndarray
    # driver (IDM) and walker parameters
    T: np.ndarray
    s0: np.ndarray
    b_comf: np.ndarray
    delta: np.ndarray
    a_lat: np.ndarray
    accel_cap: np.ndarray
    stop_at_end: np.ndarray
    ped_speed: np.ndarray
    ped_accel: np.ndarray
    ped_decel: np.ndarray
    ped_obey: np.ndarray
    # routes (CSR per row); sample x, y and friction are in the EngineState (a storyboard edits them)
    rt_start: np.ndarray
    rs: np.ndarray
    rvlim: np.ndarray
    rk: np.ndarray
    r_next: np.ndarray  # per route sample: the next sample of another limit or curvature (route_kernels.limit_runs)
    st_start: np.ndarray
    stop_s: np.ndarray
    stop_sig: np.ndarray
    cw_start: np.ndarray
    cw_s0: np.ndarray
    cw_s1: np.ndarray
    cw_id: np.ndarray
    lc_start: np.ndarray
    lc_s0: np.ndarray
    lc_s1: np.ndarray
    lc_side: np.ndarray
    lc_offset: np.ndarray
    goal_s: np.ndarray
    road_half: np.ndarray
    route_grade: np.ndarray
    # map: signal plans, crosswalks
    plan_cycle: np.ndarray
    plan_offset: np.ndarray
    plan_start: np.ndarray
    plan_t0: np.ndarray
    plan_state: np.ndarray
    cw_x: np.ndarray
    cw_y: np.ndarray
    cw_signal: np.ndarray
    cw_margin: float
    # crosswalk discs and their grid (``crosswalk_grid``): the walkers' occupancy test reads nearby cells
    cw_cx: np.ndarray
    cw_cy: np.ndarray
    cw_rad: np.ndarray
    cg_cell: float
    cg_x0: float
    cg_y0: float
    cg_nx: int
    cg_ny: int
    cg_start: np.ndarray
    cg_items: np.ndarray
    # drivable-lane segment grid (off-road)
    g_cell: float
    g_x0: float
    g_y0: float
    g_nx: int
    g_ny: int
    g_start: np.ndarray
    g_seg: np.ndarray
    g_ax: np.ndarray
    g_ay: np.ndarray
    g_bx: np.ndarray
    g_by: np.ndarray
    g_hw: np.ndarray
    # actor grid of the drivers' neighbour queries: origin (m) and cells
    grid_x0: float
    grid_y0: float
    grid_nx: int
    grid_ny: int
    # evaluation rules: stop-sign flag per route stop line, static-object grid
    stop_sign: np.ndarray
    so_cell: float
    so_x0: float
    so_y0: float
    so_nx: int
    so_ny: int
    so_start: np.ndarray
    so_obj: np.ndarray
    so_ix0: np.ndarray
    so_iy0: np.ndarray
    so_seg_start: np.ndarray
    so_ax: np.ndarray
    so_ay: np.ndarray
    so_bx: np.ndarray
    so_by: np.ndarray
    # behaviour: signal compliance, gap acceptance, start times, speed profiles, MOBIL
    run_amber: np.ndarray
    run_red: np.ndarray
    right_on_red: np.ndarray
    crit_gap: np.ndarray
    yields: np.ndarray
    start_time: np.ndarray
    pf_mode: np.ndarray
    pf_start: np.ndarray
    pf_key: np.ndarray
    pf_v: np.ndarray
    mobil: np.ndarray
    mb_p: np.ndarray
    mb_thr: np.ndarray
    mb_bias: np.ndarray
    nb_left: np.ndarray
    nb_right: np.ndarray
    # junction passages (right of way)
    ps_start: np.ndarray
    ps_junc: np.ndarray
    ps_hold: np.ndarray
    ps_s1: np.ndarray
    ps_sig: np.ndarray
    ps_stop: np.ndarray
    ps_turn: np.ndarray
    ps_l: np.ndarray
    pl_lane: np.ndarray
    pl_s0: np.ndarray
    lane_local: np.ndarray
    jc_off: np.ndarray
    jc_n: np.ndarray
    jc_s: np.ndarray
    # scripted trajectories
    tr_start: np.ndarray
    tr_t: np.ndarray
    tr_x: np.ndarray
    tr_y: np.ndarray
    tr_yaw: np.ndarray
    tr_v: np.ndarray
    tr_flags: np.ndarray
    # compiled storyboard (``runner.story_tables.StoryTables``; no entry: on the Python path or none),
    # route sample heading (rad) and lane id, drivers' built desired speed and speed factor (scripts end)
    sb_lo: np.ndarray
    sb_delay: np.ndarray
    sb_act: np.ndarray
    sb_ai: np.ndarray
    sb_af: np.ndarray
    sbc_kind: np.ndarray
    sbc_i: np.ndarray
    sbc_v: np.ndarray
    sb_off: np.ndarray
    sb_pts: np.ndarray
    rheading: np.ndarray
    rlane: np.ndarray
    sb_vdes0: np.ndarray
    sb_sf0: np.ndarray
    # lane-indexed leaders (``behavior.lane_kernels``): route samples' lane s (m, NaN: not filed) and lane runs,
    # rows that may be filed under their lane (all False: every driver projects every neighbour)
    rls: np.ndarray
    ln_next: np.ndarray
    lk_ok: np.ndarray
    #: True: everything (``simcore run``); False: skip what only feeds the scores (the gym's light mode)
    scoring: bool
    #: optional stages compiled in (``Uses``; a row set may shrink after build, never grow); the default
    #: compiles every stage in
    uses: Uses = Uses(True, True, True, True)


class Scratch(NamedTuple):
    """Buffers the step overwrites before reading (one set per concurrently stepping thread)."""

    st_buf: np.ndarray  # (7, R) single-track CoG state
    st_u: np.ndarray  # (3, R) single-track actuator targets
    cell_start: np.ndarray  # actor grid CSR (cells + 1,)
    cell_items: np.ndarray
    cell_seen: np.ndarray
    actor_seen: np.ndarray
    cand: np.ndarray
    stamp: np.ndarray
    box_cx: np.ndarray  # (R,) box centres (m)
    box_cy: np.ndarray
    pair_i: np.ndarray  # (P,) overlapping pairs of this step
    pair_j: np.ndarray
    so_out_obj: np.ndarray  # static objects near the ego
    so_out_dist: np.ndarray
    cur_turn: np.ndarray  # (R,) junctions: turn of the current passage, hold line (route s), passage
    hold_s: np.ndarray
    cur_ps: np.ndarray
    jb_start: np.ndarray  # rows bucketed by junction
    jb_items: np.ndarray
    #: (R,) drivers' lead gap (m) and closing speed (m/s) of this step: written, read by nothing in the
    #: engine (not state: an agent-driven row has none, so they stay out of the state and its hash)
    lead_gap: np.ndarray
    lead_close: np.ndarray
    key_lane: np.ndarray  # (R,) lane-indexed leaders: lane and lane s (m) of each filed row, rows by lane
    key_s: np.ndarray
    lb_start: np.ndarray  # (n_lanes + 1,)
    lb_items: np.ndarray


class Outputs(NamedTuple):
    """What one call reports: events (time s, kind, actors, value, fault) and trajectory rows."""

    ev_time: np.ndarray
    ev_kind: np.ndarray
    ev_a: np.ndarray
    ev_b: np.ndarray
    ev_value: np.ndarray
    ev_fault: np.ndarray
    rec_every: int
    rec_row: np.ndarray  # (1,) next free record row
    rec_time: np.ndarray
    rec_x: np.ndarray
    rec_y: np.ndarray
    rec_yaw: np.ndarray
    rec_speed: np.ndarray
    rec_active: np.ndarray
    rec_sig: np.ndarray
    #: (1,) uint64 running state hash (``record.state_hash.fold_engine_state``, every step while
    #: scoring); shape (0,): not hashed
    state_hash: np.ndarray


def _c(a: np.ndarray, dtype: type | None = None) -> np.ndarray:
    """C-contiguous, writeable, of the given dtype (one numba type for every caller)."""
    out = np.ascontiguousarray(a, dtype=dtype)
    if not out.flags.writeable:
        out = out.copy()
    return out


def route_stop_signs(world: World) -> np.ndarray:
    """Stop-sign flag per route stop line (aligned with ``routes.stop_s``).

    The road layer marks stop-sign stop lines in ``RoadNetwork.stop_rules()`` (``StopRule.STOP``);
    a route stop line is a stop sign when it lies within 0.5 m of such a lane's stop line.
    """
    r, net = world.routes, world.network
    flags = np.zeros(r.stop_s.shape[0], dtype=np.bool_)
    lane_flag = net.stop_rules() == StopRule.STOP
    if not np.any(lane_flag):
        return flags
    pts = []
    for lane in np.flatnonzero(lane_flag & np.isfinite(net.lane_stop_s)):
        a, b = net.lane_start[lane], net.lane_start[lane + 1]
        s = float(net.lane_stop_s[lane])
        pts.append((np.interp(s, net.pts_s[a:b], net.pts_x[a:b]), np.interp(s, net.pts_s[a:b], net.pts_y[a:b])))
    for i in range(r.start.shape[0] - 1):
        a, b = r.start[i], r.start[i + 1]
        for m in range(r.stop_start[i], r.stop_start[i + 1]):
            if r.stop_signal[m] >= 0:
                continue
            px = np.interp(r.stop_s[m], r.s[a:b], r.x[a:b])
            py = np.interp(r.stop_s[m], r.s[a:b], r.y[a:b])
            flags[m] = any((px - qx) ** 2 + (py - qy) ** 2 <= 0.25 for qx, qy in pts)
    return flags


def actor_grid(world: World) -> tuple[float, float, int, int]:
    """Origin (m) and cell counts of the actor grid over the map plus a margin (drivers' neighbour queries)."""
    xmin, ymin, xmax, ymax = world.network.bounds()
    margin = 2 * GRID_CELL_M
    nx = math.ceil((xmax - xmin + 2 * margin) / GRID_CELL_M)
    ny = math.ceil((ymax - ymin + 2 * margin) / GRID_CELL_M)
    return float(xmin - margin), float(ymin - margin), int(nx), int(ny)


def crosswalk_grid(cw_x: np.ndarray, cw_y: np.ndarray, cell: float = CROSSWALK_CELL_M) -> tuple[Any, ...]:
    """(cx, cy, rad, cell, x0, y0, nx, ny, start, items): every crosswalk's disc (``crosswalk_discs``) and a
    grid of ``cell`` (m) cells listing the crosswalks whose disc box (+ ``CW_GRID_PAD_M``) touches each
    cell (CSR by cell ``iy * nx + ix``), for ``crosswalk_occupancy``."""
    n = len(cw_x)
    cx, cy, rad = np.empty(n), np.empty(n), np.empty(n)
    if n == 0:
        return cx, cy, rad, cell, 0.0, 0.0, 1, 1, np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
    mk.crosswalk_discs(_c(cw_x, np.float64), _c(cw_y, np.float64), cx, cy, rad)
    r = rad + mk.CW_GRID_PAD_M
    x0, y0 = float((cx - r).min() - cell), float((cy - r).min() - cell)
    nx = math.ceil((float((cx + r).max()) + cell - x0) / cell)
    ny = math.ceil((float((cy + r).max()) + cell - y0) / cell)
    start, items = bin_capsules(cx, cy, cx, cy, r, x0, y0, nx, ny, cell)
    return cx, cy, rad, cell, x0, y0, int(nx), int(ny), _c(start, np.int64), _c(items, np.int64)


def limit_run_table(rt_start: np.ndarray, rvlim: np.ndarray, rk: np.ndarray) -> np.ndarray:
    """(S,) int64: for every route sample the next one with another speed limit or curvature (``limit_runs``)."""
    out = np.empty(len(rvlim), dtype=np.int64)
    c = np.ascontiguousarray
    limit_runs(c(rt_start, np.int64), c(rvlim, np.float64), c(rk, np.float64), out)
    return out


#: Drivers find their leaders on plain lanes through lane buckets (``behavior.lane_kernels``); False: every
#: driver projects every neighbour near its route onto it (the geometric search alone).
LANE_LEADER = True


def lane_tables(world: World, drive_idx: np.ndarray, on: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rls, ln_next, lk_ok) of ``Static``: every route sample's lane s (m, NaN where not filed:
    ``lane_kernels.route_lane_s``, junction lanes are never filed), its lane run's end (the next sample of
    another lane or filing) and the rows that may be filed (the driven rows but the ego, when ``on`` and no
    storyboard edits routes)."""
    r, net = world.routes, world.network
    c = np.ascontiguousarray
    rlane = c(route_lanes(world), np.int64)
    rls = np.full(r.s.shape[0], np.nan)
    ok = np.zeros(world.state.n, dtype=np.bool_)
    if on and not world.storyboard:
        rt = c(r.start, np.int64)
        keyable = c(net.lane_junction < 0)
        route_lane_s(rt, c(r.x, np.float64), c(r.y, np.float64), c(r.s, np.float64), rlane, keyable,
                     c(net.lane_start, np.int64), c(net.pts_x, np.float64), c(net.pts_y, np.float64),
                     c(net.pts_s, np.float64), c(r.lc_start, np.int64), c(r.lc_s0, np.float64),
                     c(r.lc_s1, np.float64), rls)  # fmt: skip
        ok[np.asarray(drive_idx, dtype=np.int64)] = True
        if world.ego >= 0:
            ok[world.ego] = False
    # lane runs: where the lane id or the filing changes (``limit_runs`` over lane id and NaN-ness as "limit"
    # and "curvature": 0 and 1 are never both straight)
    ln_next = limit_run_table(r.start, rlane.astype(np.float64), np.isnan(rls).astype(np.float64))
    return rls, ln_next, ok


def build_static(
    world: World,
    driver: DriverParams,
    drive_idx: np.ndarray,
    scoring: bool,
    story: StoryTables | None = None,
    lane_leader: bool | None = None,
) -> Static:
    """The Static tuple of ``world`` with the drivers ``driver`` moving the rows ``drive_idx``; ``story``: the
    compiled storyboard (``runner.story_tables.story_tables``; None: no entry runs compiled); ``lane_leader``:
    lane-indexed leaders (None: ``LANE_LEADER``)."""
    w = world
    p, r, pp, net, g = w.params, w.routes, w.pedestrians, w.network, w.drivable
    bp, jt = w.behavior, w.junctions
    assert bp is not None and jt is not None and w.st_params is not None
    assert w.veh_idx_kin is not None and w.veh_idx_st is not None
    assert w.scripted_idx is not None and w.eval_idx is not None and w.track_idx is not None
    so = build_static_index(net)
    i64, f64, b8 = np.int64, np.float64, np.bool_
    fields: list[Any] = [
        _c(drive_idx, i64), _c(w.veh_idx, i64), _c(w.veh_idx_kin, i64), _c(w.veh_idx_st, i64), _c(w.ped_idx, i64),
        _c(w.scripted_idx, i64), _c(w.eval_idx, i64), _c(w.track_idx, i64), int(w.ego), _c(w.state.kind, np.int8),
        *(_c(p[k], f64) for k in ("wheelbase", "length", "width", "rear_overhang", "center_offset", "max_steer",
                                  "max_steer_rate", "max_accel", "max_decel", "max_speed")),
        _c(w.st_params, f64),
        _c(driver.T, f64), _c(driver.s0, f64), _c(driver.b_comf, f64), _c(driver.delta, f64), _c(driver.a_lat, f64),
        _c(driver.accel_cap, f64), _c(driver.stop_at_end, b8),
        _c(pp.desired_speed, f64), _c(pp.max_accel, f64), _c(pp.max_decel, f64), _c(pp.obey_signal, b8),
        _c(r.start, i64), _c(r.s, f64), _c(r.speed_limit, f64), _c(r.curvature, f64),
        _c(limit_run_table(r.start, r.speed_limit, r.curvature), i64), _c(r.stop_start, i64),
        _c(r.stop_s, f64), _c(r.stop_signal, i64), _c(r.cw_start, i64), _c(r.cw_s0, f64), _c(r.cw_s1, f64),
        _c(r.cw_id, i64), _c(r.lc_start, i64), _c(r.lc_s0, f64), _c(r.lc_s1, f64), _c(r.lc_side, i64),
        _c(r.lc_offset, f64), _c(r.goal_s, f64), _c(r.road_half, f64), _c(r.grade, f64),
        _c(net.plan_cycle), _c(net.plan_offset), _c(net.plan_start), _c(net.plan_t0), _c(net.plan_state),
        _c(net.cw_x), _c(net.cw_y), _c(net.cw_signal), float(CROSSWALK_MARGIN_M),
        *crosswalk_grid(net.cw_x, net.cw_y),
        float(g.cell_size), float(g.x0), float(g.y0), int(g.nx), int(g.ny), _c(g.cell_start), _c(g.cell_seg),
        _c(g.ax), _c(g.ay), _c(g.bx), _c(g.by), _c(g.half_width),
        *actor_grid(w),
        _c(route_stop_signs(w), b8),
        *(_c(a) if isinstance(a, np.ndarray) else a for a in so.grid_args()),
        _c(bp.run_amber, b8), _c(bp.run_red, b8), _c(bp.right_on_red, b8), _c(bp.crit_gap, f64), _c(bp.yields, b8),
        _c(bp.start_time, f64), _c(bp.pf_mode), _c(bp.pf_start, i64), _c(bp.pf_key, f64), _c(bp.pf_v, f64),
        _c(bp.mobil, b8), _c(bp.mb_p, f64), _c(bp.mb_thr, f64), _c(bp.mb_bias, f64), _c(bp.nb_left, f64),
        _c(bp.nb_right, f64),
        *(_c(getattr(jt, f)) for f in ("ps_start", "ps_junc", "ps_hold", "ps_s1", "ps_sig", "ps_stop", "ps_turn",
                                       "ps_l", "pl_lane", "pl_s0", "lane_local", "jc_off", "jc_n", "jc_s")),
        _c(bp.tr_start, i64), _c(bp.tr_t, f64), _c(bp.tr_x, f64), _c(bp.tr_y, f64), _c(bp.tr_yaw, f64),
        _c(bp.tr_v, f64), _c(bp.tr_flags, i64),
        *(_c(a) for a in (story if story is not None else empty_tables())),
        _c(r.heading, f64), _c(route_lanes(w), i64), _c(driver.v_des, f64), _c(driver.speed_factor, f64),
        *lane_tables(w, drive_idx, LANE_LEADER if lane_leader is None else lane_leader),
        bool(scoring),
    ]  # fmt: skip
    static = Static(*fields)
    return static._replace(uses=uses_of(static._asdict()))


def pet_bins(world: World) -> int:
    """PET bins over the ego route (``rules_kernels.PET_BIN_M`` each; 1 without an ego)."""
    if world.ego < 0:
        return 1
    ra, rb = world.routes.start[world.ego], world.routes.start[world.ego + 1]
    route_len = float(world.routes.s[rb - 1] - world.routes.s[ra])
    return max(math.ceil(route_len / rk.PET_BIN_M) + 1, 1)


def initial_state(
    world: World, driver: DriverParams, pair_capacity: int, n_story: int = 0, n_nodes: int = 0
) -> EngineState:
    """The t = 0 EngineState of one instance (N = 1) of ``world`` (signals not yet evaluated) with
    ``n_story`` compiled storyboard entries of ``n_nodes`` trigger nodes in all."""
    w = world
    assert w.initial is not None and w.friction is not None and w.grade is not None
    init = w.initial
    n = init.n
    r = w.routes
    metrics = np.zeros((1, mk.N_METRICS))
    mk.reset_metrics(metrics[0])
    actor_ev = np.zeros((1, n, rk.N_ACTOR_EV))
    actor_ev[:, :, rk.A_RED_T] = -math.inf
    actor_ev[:, :, rk.A_HAZ_T] = math.nan
    n_groups = w.network.n_signals
    n_cw = len(w.network.cw_names)
    n_inst = int(w.n_instances)
    sig_override = np.broadcast_to(w.sig_override, (n_inst, n_groups))

    def row(a: np.ndarray, dtype: type | None = None) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(a, dtype=dtype)[None]).copy()

    fields: list[Any] = [
        *(row(getattr(init, f)) for f in ("x", "y", "yaw", "speed", "steer", "accel", "vy", "yaw_rate", "progress",
                                          "lateral", "active", "started", "done", "instance")),
        row(driver.v_des, np.float64), row(driver.speed_factor, np.float64),
        row(w.pedestrians.start_time, np.float64),
        row(w.friction, np.float64), row(w.grade, np.float64),
        np.zeros((1, n)), np.zeros((1, n)),
        np.zeros((1, n), dtype=np.bool_), np.zeros((1, n), dtype=np.bool_),
        np.full((1, n), np.nan), np.full((1, n), -1, dtype=np.int64), np.full((1, n), np.inf),
        np.zeros((1, n)), np.zeros((1, n)),
        row(r.x, np.float64), row(r.y, np.float64), row(r.friction, np.float64),
        np.zeros((1, n_inst, n_groups), dtype=np.int8), row(sig_override, np.int8),
        np.zeros((1, n_inst, n_cw), dtype=np.bool_),
        metrics, actor_ev, np.full((1, 4, pet_bins(w)), np.nan),
        np.zeros((1, pair_capacity), dtype=np.int64), np.zeros((1, pair_capacity), dtype=np.int64),
        np.zeros((1, 1), dtype=np.int64), np.zeros(1, dtype=np.int64),
        np.full((1, n_story), np.nan), np.zeros((1, n_story), dtype=np.bool_),
        np.zeros((1, n), dtype=np.bool_), np.zeros((1, n, sk.N_PROF if n_story else 0)), np.zeros((1, n)),
        np.full((1, n_story, 2), np.nan), np.full((1, n_nodes, 3), np.nan),
    ]  # fmt: skip
    return EngineState(*fields)


def new_scratch(world: World, pair_capacity: int) -> Scratch:
    """Scratch buffers sized for ``world`` (one set per thread)."""
    n = world.state.n
    _, _, nx, ny = actor_grid(world)
    n_cells = nx * ny
    n_obj = max(build_static_index(world.network).n_objects, 1)
    assert world.junctions is not None
    n_junc = world.junctions.n_junctions
    return Scratch(
        np.zeros((7, n)), np.zeros((3, n)),
        np.zeros(n_cells + 1, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n_cells, dtype=np.int64),
        np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64),
        np.zeros(n), np.zeros(n),
        np.zeros(pair_capacity, dtype=np.int64), np.zeros(pair_capacity, dtype=np.int64),
        np.zeros(n_obj, dtype=np.int64), np.zeros(n_obj),
        np.zeros(n, dtype=np.int64), np.full(n, np.inf), np.zeros(n, dtype=np.int64),
        np.zeros(n_junc + 1, dtype=np.int64), np.zeros(n, dtype=np.int64),
        np.full(n, np.inf), np.zeros(n),
        np.full(n, -1, dtype=np.int64), np.zeros(n), np.zeros(world.network.lane_start.shape[0], dtype=np.int64),
        np.zeros(n, dtype=np.int64),
    )  # fmt: skip


def new_outputs(
    capacity: int, rows: int = 0, n_actors: int = 0, n_groups: int = 0, every: int = REC_NEVER, hashed: bool = False
) -> Outputs:
    """An event buffer of ``capacity``, a trajectory record of ``rows`` rows (0: none), a state hash if ``hashed``."""
    return Outputs(
        np.zeros(capacity), np.zeros(capacity, dtype=np.int64), np.zeros(capacity, dtype=np.int64),
        np.zeros(capacity, dtype=np.int64), np.zeros(capacity), np.zeros(capacity, dtype=np.int64),
        int(every), np.zeros(1, dtype=np.int64),
        np.zeros(rows), np.zeros((rows, n_actors)), np.zeros((rows, n_actors)), np.zeros((rows, n_actors)),
        np.zeros((rows, n_actors)), np.zeros((rows, n_actors), dtype=np.bool_),
        np.zeros((rows, n_groups), dtype=np.int8), np.zeros(1 if hashed else 0, dtype=np.uint64),
    )  # fmt: skip


def settle_signals(static: Static, state: EngineState, j: int, t: float) -> None:
    """Signal states and crosswalk occupancy of instance j at time ``t`` (s), as the step leaves them."""
    sp, es = static, state
    signal_states(
        t, sp.plan_cycle, sp.plan_offset, sp.plan_start, sp.plan_t0, sp.plan_state, es.sig_override[j],
        es.sig_state[j],
    )  # fmt: skip
    mk.crosswalk_occupancy(
        sp.ped_idx, es.x[j], es.y[j], es.yaw[j], es.speed[j], es.active[j], es.instance[j], sp.cw_x, sp.cw_y,
        sp.cw_cx, sp.cw_cy, sp.cw_rad, sp.cg_cell, sp.cg_x0, sp.cg_y0, sp.cg_nx, sp.cg_ny, sp.cg_start, sp.cg_items,
        sp.cw_margin, es.cw_occ[j],
    )  # fmt: skip
