"""World: everything one run steps, the static part (map, parameters, routes) beside the WorldState."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simcore._types import F64, I64, Mask
from simcore.behavior.junctions import JunctionTable, build_junction_table
from simcore.dynamics.single_track_kernels import N_PARAMS
from simcore.road.lane_graph import RoutePath
from simcore.road.network import RoadNetwork
from simcore.road.spatial_index import SegmentGrid
from simcore.state import WorldState

#: Values of ``World.dynamics`` (scenario key ``dynamics:``).
DYNAMICS_KINEMATIC = 0
DYNAMICS_SINGLE_TRACK = 1
DYNAMICS_MODELS = {"kinematic": DYNAMICS_KINEMATIC, "single_track": DYNAMICS_SINGLE_TRACK}


def _csr(parts: list[np.ndarray], dtype: type) -> tuple[I64, np.ndarray]:
    counts = np.array([len(p) for p in parts], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    flat = np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)  # type: ignore[var-annotated]
    return start, flat


@dataclass(frozen=True)
class RouteTable:
    """Every actor's path in CSR form (row i owns ``start[i]:start[i+1]``), ENU, m.

    Attributes:
        start, x, y, s, heading, curvature, speed_limit: path samples per actor.
        stop_start, stop_s, stop_signal: stop lines along each path (route s, signal group).
        cw_start, cw_s0, cw_s1, cw_id: crosswalk intervals along each path (route s).
        lc_start, lc_s0, lc_s1, lc_side, lc_offset: planned lane changes along each path
            (route s interval, side +1 left / -1 right, lateral offset m).
        goal_s: (n,) route s at which the actor's goal counts as reached (m).
        road_half: per sample, half the width of the route's lane plus the off-road margin
            (m); 0 where the path is not on a driving lane (pedestrians).
        friction: per sample, the tyre-road friction coefficient of the surface the sample lies on
            (``environment.friction``, or the ``environment.surfaces`` entry covering its lane).
        grade: per sample, the road grade angle along the route (rad, uphill +) from the map's
            elevation; 0 on flat maps.
        paths: the RoutePath objects (Python side: rendering, reports).
    """

    start: I64
    x: F64
    y: F64
    s: F64
    heading: F64
    curvature: F64
    speed_limit: F64
    stop_start: I64
    stop_s: F64
    stop_signal: I64
    cw_start: I64
    cw_s0: F64
    cw_s1: F64
    cw_id: I64
    lc_start: I64
    lc_s0: F64
    lc_s1: F64
    lc_side: I64
    lc_offset: F64
    goal_s: F64
    road_half: F64
    friction: F64
    grade: F64
    paths: tuple[RoutePath, ...]

    @classmethod
    def from_paths(
        cls,
        paths: list[RoutePath],
        goal_s: list[float],
        road_half: list[F64],
        friction: list[F64] | None = None,
        grade: list[F64] | None = None,
    ) -> RouteTable:
        """Stack per-actor paths (``road_half``, ``friction``, ``grade``: per-sample arrays, see
        the class doc; ``friction`` defaults to 1 and ``grade`` to 0 everywhere)."""
        if friction is None:
            friction = [np.ones(len(p.s)) for p in paths]
        if grade is None:
            grade = [np.zeros(len(p.s)) for p in paths]
        start, x = _csr([p.x for p in paths], np.float64)
        _, y = _csr([p.y for p in paths], np.float64)
        _, s = _csr([p.s for p in paths], np.float64)
        _, h = _csr([p.heading for p in paths], np.float64)
        _, k = _csr([p.curvature for p in paths], np.float64)
        _, v = _csr([p.speed_limit for p in paths], np.float64)
        st_start, st_s = _csr([p.stop_s for p in paths], np.float64)
        _, st_sig = _csr([p.stop_signal for p in paths], np.int64)
        cw_start, cw0 = _csr([p.cw_s0 for p in paths], np.float64)
        _, cw1 = _csr([p.cw_s1 for p in paths], np.float64)
        _, cwi = _csr([p.cw_id for p in paths], np.int64)
        lc_start, lc0 = _csr([p.lc_s0 for p in paths], np.float64)
        _, lc1 = _csr([p.lc_s1 for p in paths], np.float64)
        _, lcside = _csr([p.lc_side for p in paths], np.int64)
        _, lcoff = _csr([p.lc_offset for p in paths], np.float64)
        return cls(
            start,
            x,
            y,
            s,
            h,
            k,
            v,
            st_start,
            st_s,
            st_sig,
            cw_start,
            cw0,
            cw1,
            cwi,
            lc_start,
            lc0,
            lc1,
            lcside,
            lcoff,
            np.array(goal_s, dtype=np.float64),
            _csr(road_half, np.float64)[1],
            _csr(friction, np.float64)[1],
            _csr(grade, np.float64)[1],
            tuple(paths),
        )

    def length(self, row: int) -> float:
        """Path length of one actor (m)."""
        return float(self.s[self.start[row + 1] - 1])


@dataclass(frozen=True)
class DriverParams:
    """Per-actor driver-model parameters (rows of non-vehicles are unused).

    Attributes:
        v_des: desired speed (m/s). T: time headway (s). s0: standstill gap (m).
        b_comf: comfortable deceleration (m/s^2). delta: IDM acceleration exponent.
        a_lat: lateral acceleration accepted in curves (m/s^2).
        speed_factor: multiple of the speed limit the driver aims for.
        accel_cap: IDM maximum acceleration (m/s^2), at most the vehicle's.
        stop_at_end: stop at the end of the route instead of leaving the map.
    """

    v_des: F64
    T: F64
    s0: F64
    b_comf: F64
    delta: F64
    a_lat: F64
    speed_factor: F64
    accel_cap: F64
    stop_at_end: Mask


@dataclass(frozen=True)
class PedestrianParams:
    """Per-actor walking parameters: desired speed (m/s), limits (m/s^2), signal obedience,
    and the time (s) the walker starts moving."""

    desired_speed: F64
    max_accel: F64
    max_decel: F64
    obey_signal: Mask
    start_time: F64


def _empty_csr(n: int) -> I64:
    return np.zeros(n + 1, dtype=np.int64)


@dataclass(frozen=True)
class BehaviorParams:
    """Per-row behaviour beyond IDM (``simcore.behavior``; rows it does not apply to keep the defaults).

    Attributes:
        run_amber, run_red: (n,) bool, drawn once per vehicle from its seeded stream with the
            scenario's probabilities: the driver ignores amber / red lights.
        right_on_red: (n,) bool: right turn on red after a full stop when the crosswalk and a gap allow.
        crit_gap: (n,) critical gap (s) accepted at junctions. yields: (n,) bool: follows the junction
            right-of-way rules (False for the ego under an agent and for scripted rows).
        pf_mode: (n,) int8 speed profile: 0 none, 1 over route s, 2 over time.
        pf_start, pf_key, pf_v: CSR (n+1,) of profile points (route s m or time s, speed m/s).
        tr_start, tr_t, tr_x, tr_y, tr_yaw, tr_v: CSR (n+1,) of scripted samples (s, m, m, rad, m/s).
        tr_flags: (n,) int64 bits of ``scripted_kernels`` (TR_*).
        start_time: (n,) time (s) before which a driven row holds still (a parked car's pull-out time).
        mobil: (n,) bool: discretionary lane changes (MOBIL); mb_p, mb_thr, mb_bias: (n,) politeness (-),
            threshold and keep-right bias (m/s^2).
        nb_left, nb_right: per route sample (aligned with ``RouteTable.x``), lateral offset (m) to the
            neighbour lane of the same direction on that side, 0 where there is none (junctions too).
    """

    run_amber: Mask
    run_red: Mask
    right_on_red: Mask
    crit_gap: F64
    yields: Mask
    pf_mode: np.ndarray
    pf_start: I64
    pf_key: F64
    pf_v: F64
    tr_start: I64
    tr_t: F64
    tr_x: F64
    tr_y: F64
    tr_yaw: F64
    tr_v: F64
    tr_flags: I64
    start_time: F64
    mobil: Mask = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    mb_p: F64 = field(default_factory=lambda: np.zeros(0))
    mb_thr: F64 = field(default_factory=lambda: np.zeros(0))
    mb_bias: F64 = field(default_factory=lambda: np.zeros(0))
    nb_left: F64 = field(default_factory=lambda: np.zeros(0))
    nb_right: F64 = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def defaults(cls, n: int, ego: int = -1) -> BehaviorParams:
        """No runners, no right on red, 4.5 s critical gap, every row but ``ego`` yields, no profiles or scripts."""
        yields = np.ones(n, dtype=np.bool_)
        if ego >= 0:
            yields[ego] = False
        return cls(
            run_amber=np.zeros(n, dtype=np.bool_),
            run_red=np.zeros(n, dtype=np.bool_),
            right_on_red=np.zeros(n, dtype=np.bool_),
            crit_gap=np.full(n, 4.5),
            yields=yields,
            pf_mode=np.zeros(n, dtype=np.int8),
            pf_start=_empty_csr(n),
            pf_key=np.zeros(0),
            pf_v=np.zeros(0),
            tr_start=_empty_csr(n),
            tr_t=np.zeros(0),
            tr_x=np.zeros(0),
            tr_y=np.zeros(0),
            tr_yaw=np.zeros(0),
            tr_v=np.zeros(0),
            tr_flags=np.zeros(n, dtype=np.int64),
            start_time=np.zeros(n),
            mobil=np.zeros(n, dtype=np.bool_),
            mb_p=np.zeros(n),
            mb_thr=np.zeros(n),
            mb_bias=np.zeros(n),
        )


@dataclass
class World:
    """One built scenario: static data + dynamic state. Built by ``scenario.build``.

    Attributes:
        name, description: from the scenario.
        dt: step (s). seed: run seed. timeout: s.
        network: the road network. drivable: grid over driving lanes (off-road checks).
        state: WorldState. params: per-actor vehicle parameter arrays (``dynamics.params``).
        routes: RouteTable. driver: DriverParams. pedestrians: PedestrianParams.
        actor_ids: (n,) ids (platoon members get ``id#k``); ego is ``"ego"``.
        vehicle_names: (n,) vehicle definition per row ("pedestrian" for walkers).
        ego: row of the ego vehicle, -1 if none.
        npc_idx, ped_idx, veh_idx: int64 rows of NPC vehicles, pedestrians, all vehicles.
        n_instances: stacked instances (1 for a single run).
        sig_override: (n_instances, n_groups) int8 manual signal states at t = 0, -1 = plan (a run's
            live overrides are in its EngineState; nothing of the World is written by a run).
        dynamics: (n,) int8 vehicle model per row (``DYNAMICS_KINEMATIC`` / ``DYNAMICS_SINGLE_TRACK``;
            pedestrians are ``DYNAMICS_KINEMATIC`` but are moved by their own kernel).
        veh_idx_kin, veh_idx_st: int64 vehicle rows on the kinematic bicycle / the dynamic
            single-track model (a partition of ``veh_idx``).
        st_params: (n, N_PARAMS) single-track parameter rows (``dynamics_params``; zero for other rows).
        friction: (n,) road friction coefficient under each row at t = 0: the ``routes.friction`` sample at
            the row's progress; the run's EngineState copy is refreshed every step for single-track rows (the only
            rows that feel it). grade: (n,) road grade angle (rad, uphill +), 0 on generated maps.
        storyboard: compiled ``storyboard:`` entries (``simcore.scenario.storyboard.Story``); empty: none.
        behavior: BehaviorParams (signal compliance, gap acceptance, speed profiles, scripts).
        junctions: JunctionTable of the routes' junction passages (right of way).
        scripted_idx: int64 rows moved by ``step_scripted`` (trajectories, logs).
        eval_idx: int64 vehicle rows evaluated by ``evaluate_step`` (red lights, off-road, goal);
            defaults to ``veh_idx``. track_idx: driven rows only tracked along their route (progress,
            leaving at the route end) without infractions: parked cars, red-light runners.
    """

    name: str
    description: str
    dt: float
    seed: int
    timeout: float
    network: RoadNetwork
    drivable: SegmentGrid
    state: WorldState
    params: dict[str, F64]
    routes: RouteTable
    driver: DriverParams
    pedestrians: PedestrianParams
    actor_ids: tuple[str, ...]
    vehicle_names: tuple[str, ...]
    ego: int
    npc_idx: I64
    ped_idx: I64
    veh_idx: I64
    n_instances: int = 1
    sig_override: np.ndarray = field(default_factory=lambda: np.zeros((1, 0), dtype=np.int8))
    initial: WorldState | None = None
    dynamics: np.ndarray | None = None
    veh_idx_kin: I64 | None = None
    veh_idx_st: I64 | None = None
    st_params: F64 | None = None
    friction: F64 | None = None
    grade: F64 | None = None
    storyboard: tuple = ()
    behavior: BehaviorParams | None = None
    junctions: JunctionTable | None = None
    scripted_idx: I64 | None = None
    eval_idx: I64 | None = None
    track_idx: I64 | None = None

    def __post_init__(self) -> None:
        """Defaults for the vehicle-model fields: every vehicle kinematic, friction 1, flat road."""
        n = self.state.n
        if self.dynamics is None:
            self.dynamics = np.full(n, DYNAMICS_KINEMATIC, dtype=np.int8)
        if self.veh_idx_st is None:
            self.veh_idx_st = self.veh_idx[self.dynamics[self.veh_idx] == DYNAMICS_SINGLE_TRACK].astype(np.int64)
        if self.veh_idx_kin is None:
            self.veh_idx_kin = self.veh_idx[self.dynamics[self.veh_idx] != DYNAMICS_SINGLE_TRACK].astype(np.int64)
        if self.st_params is None:
            self.st_params = np.zeros((n, N_PARAMS))
        if self.friction is None:
            self.friction = np.ones(n)
        if self.grade is None:
            self.grade = np.zeros(n)
        if self.behavior is None:
            self.behavior = BehaviorParams.defaults(n, self.ego)
        if self.junctions is None:
            self.junctions = build_junction_table(self.network, list(self.routes.paths))
        if self.scripted_idx is None:
            self.scripted_idx = np.zeros(0, dtype=np.int64)
        if self.eval_idx is None:
            self.eval_idx = self.veh_idx
        if self.track_idx is None:
            self.track_idx = np.zeros(0, dtype=np.int64)
