"""The fixed-step loop: observe -> agent -> (compiled) behaviour, dynamics, evaluation, record."""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from simcore import limits
from simcore._types import ActorKind, SignalState
from simcore.agents.channel import BRAKE, ControlChannel, LatePolicy, TimingOptions, check_control, control_problem
from simcore.agents.guard import AgentError, GuardedAgent
from simcore.agents.protocol import Agent, AgentInfo, AnyControl, EgoInfo, ObjectList, Observation
from simcore.behavior.junction_kernels import junction_holds
from simcore.evaluation import metrics_kernels as mk
from simcore.evaluation import rules_kernels as rk
from simcore.evaluation.events import Event, EventKind
from simcore.evaluation.leaderboard import all_scores
from simcore.evaluation.metrics import METRICS, ordered
from simcore.evaluation.post_run import post_run_metrics, post_run_trajectory
from simcore.evaluation.regulation import regulation_verdicts
from simcore.evaluation.scoring import EgoSummary, agent_verdicts, judge, score
from simcore.record.state_hash import ROUTE_FIELDS, StateHash
from simcore.record.trajectory import TrajectoryRecorder
from simcore.runner.engine import (
    CROSSWALK_MARGIN_M,
    EVENT_CAPACITY,
    REC_NEVER,
    build_static,
    initial_state,
    new_outputs,
    new_scratch,
    settle_signals,
)
from simcore.runner.results import Result
from simcore.runner.step_kernels import advance, make_engine
from simcore.runner.story_tables import PYTHON_SIDE, story_tables
from simcore.scenario.schema import CriterionSpec, EndSpec
from simcore.scenario.storyboard import ScriptedSpeeds, StoryboardSnapshot, StoryProgress
from simcore.state import FIELDS as WORLD_STATE_FIELDS
from simcore.state import EngineState
from simcore.world import DriverParams, World

if TYPE_CHECKING:
    from simcore.sensors.rig import SensorRig

#: Ground-truth object list range around the ego (m); covers the driver model's 150 m look-ahead.
OBJECT_RANGE_M = 200.0
__all__ = ["CHUNK_STEPS", "CROSSWALK_MARGIN_M", "EVENT_CAPACITY", "OBJECT_RANGE_M", "SimSnapshot", "Simulation"]
#: Steps per compiled call when no Python agent has to act in between.
CHUNK_STEPS = 256


@dataclass(frozen=True)
class StepOutcome:
    """What one ``Simulation.step`` produced."""

    time: float
    events: list[Event]
    done: bool
    termination: str


@dataclass(frozen=True)
class SimSnapshot:
    """A ``Simulation`` at one step (``Simulation.snapshot``): the engine state and the Python-side run record."""

    state: EngineState
    t: float
    events: list[Event]
    collisions_info: list[dict]
    termination: str
    story_end: str
    story: StoryProgress | None
    scripted: dict
    world_extra: StoryboardSnapshot | None
    rec_rows: int
    late_controls: dict[str, int]
    state_hash: int
    #: Trajectory rows recorded in all (on disk and in the buffer): ``restore`` cuts the recorder back to it.
    rec_total: int = -1


def _in_engine_driver(world: World, agent: Any) -> DriverParams:
    """Driver parameters with the ego row set to the in-engine agent's own parameters (an agent
    with ``in_engine = True`` carries ``v_des``, ``T``, ``s0``, ``b_comf`` and ``a_lat``)."""
    d = world.driver
    e = world.ego
    arrays = {f: getattr(d, f).copy() for f in d.__dataclass_fields__}
    arrays["v_des"][e] = agent.v_des
    arrays["T"][e] = agent.T
    arrays["s0"][e] = agent.s0
    arrays["b_comf"][e] = agent.b_comf
    arrays["delta"][e] = 4.0
    arrays["a_lat"][e] = agent.a_lat
    arrays["speed_factor"][e] = 1.0
    arrays["accel_cap"][e] = world.params["max_accel"][e]
    arrays["stop_at_end"][e] = True
    return DriverParams(**arrays)


class Simulation:
    """One world stepped at its fixed ``dt``; the ego (if any) is driven by ``agent``.

    Args:
        world: a built World (``scenario.build.build_world``).
        agent: ego agent; required when the world has an ego.
        end: end conditions (timeout, goal, collision); defaults to a timeout only.
        criteria: pass/fail criteria judged at the end.
        record_every: record a trajectory snapshot every this many steps (0: no recording).
        in_engine: let an agent that declares ``in_engine = True`` (the built-in autopilot)
            run inside the compiled step instead of through ``act``; same results, faster.
            Ignored (the agent acts through ``act``) when latency or a budget is set.
        agents: further controlled vehicles, ``{actor id: agent}`` (multi-agent); each named
            vehicle actor is then driven by its agent instead of its driver model. The key
            "ego" may give the ego's agent instead of ``agent``.
        control_latency_s, compute_budget_s, late_policy: timing realism of every agent, see
            ``simcore.agents.channel.TimingOptions`` (latency s, budget s of wall time per
            ``act``, ``hold`` or ``brake``).
        sensors: the ego's SensorRig (``simcore.sensors``); polled when the ego's observation
            is built, its readings go to ``Observation.sensors``. None: no sensors.
        regulation: the scenario's ``regulation:`` block (RegulationSpec); its verdicts go to
            ``Result.regulation`` and the criteria (docs/scoring.md).
        emergency_vehicles: actor ids of emergency vehicles the ego must yield to (post-run metric
            ``yield_emergency_vehicle_infractions``, docs/scoring.md).
        tags: the scenario's ``tags`` (labels), copied to ``Result.tags``.
        compiled_storyboard: run the storyboard inside the compiled step when every entry is of a
            compiled kind (``runner.story_tables``); False: always on the per-step Python path.
    """

    def __init__(
        self,
        world: World,
        agent: Agent | None = None,
        *,
        end: EndSpec | None = None,
        criteria: list[CriterionSpec] | None = None,
        record_every: int = 1,
        scenario_file: str = "",
        parameters: dict | None = None,
        in_engine: bool = True,
        variant: int = 0,
        agents: Mapping[str, Agent] | None = None,
        control_latency_s: float = 0.0,
        compute_budget_s: float | None = None,
        late_policy: LatePolicy = "hold",
        sensors: SensorRig | None = None,
        regulation: Any = None,
        emergency_vehicles: Sequence[str] = (),
        tags: Sequence[str] = (),
        compiled_storyboard: bool = True,
    ) -> None:
        extra = dict(agents or {})
        if agent is None and "ego" in extra:
            agent = extra["ego"]
        extra.pop("ego", None)
        if world.ego >= 0 and agent is None:
            raise ValueError("this scenario has an ego vehicle: give an agent")
        self.world = world
        self.agent = agent
        self.timing = TimingOptions(control_latency_s, compute_budget_s, late_policy)
        self.sensors = sensors
        self.agents: dict[str, Agent] = {"ego": agent} if (agent is not None and world.ego >= 0) else {}
        self._roles: dict[str, int] = {"ego": world.ego} if self.agents else {}
        ids = {a: i for i, a in enumerate(world.actor_ids)}
        for role, ag in extra.items():
            row = ids.get(role, -1)
            if row < 0 or world.state.kind[row] != ActorKind.VEHICLE:
                vehicles = [a for a, i in ids.items() if world.state.kind[i] == ActorKind.VEHICLE and a != "ego"]
                raise ValueError(f"cannot control {role!r}: not a vehicle actor (vehicles: {', '.join(vehicles)})")
            self.agents[role] = ag
            self._roles[role] = row
        #: Every agent is called through its guard (worker thread, time limit: agents.guard).
        self._guards = {role: GuardedAgent(ag, role) for role, ag in self.agents.items()}
        timed = self.timing != TimingOptions()
        self.end = end or EndSpec(timeout_s=world.timeout, ego_reaches_goal=world.ego >= 0)  # type: ignore[call-arg]
        self.criteria = list(criteria or [])
        self.record_every = record_every
        self.scenario_file = scenario_file
        self.parameters = dict(parameters or {})
        self.variant = variant
        self.in_engine = bool(in_engine and world.ego >= 0 and getattr(agent, "in_engine", False) and not timed)
        self.driver = _in_engine_driver(world, agent) if self.in_engine else world.driver
        self.drive_idx = (
            np.sort(np.append(world.npc_idx, world.ego)).astype(np.int64) if self.in_engine else world.npc_idx
        )
        controlled = [r for role, r in self._roles.items() if role != "ego"]
        if controlled:
            self.drive_idx = np.setdiff1d(self.drive_idx, np.array(controlled, dtype=np.int64)).astype(np.int64)
        p = world.params
        self.channels: dict[str, ControlChannel] = {
            role: ControlChannel(
                role,
                row,
                self.timing,
                world.dt,
                float(p["wheelbase"][row]),
                float(p["max_steer"][row]),
                float(p["max_accel"][row]),
                float(p["max_decel"][row]),
            )
            for role, row in self._roles.items()
            if not (role == "ego" and self.in_engine)
        }
        #: Late or missing controls per role in this run (each one is also a LATE_CONTROL event).
        self.late_controls: dict[str, int] = {}
        self._n_groups = world.network.n_signals
        # The engine (runner.engine): static tables, the state (instance axis of 1; its actor arrays are
        # the World's WorldState arrays, so ``world.state`` reads the live state), scratch, outputs.
        tables = story_tables(tuple(world.storyboard), world.dt) if compiled_storyboard else None
        #: True: the storyboard runs inside the compiled step (no entry, or every entry of a compiled kind)
        self.story_compiled = tables is not None
        self.static = build_static(world, self.driver, self.drive_idx, scoring=True, story=tables)
        n_story, n_nodes = (len(tables.sb_act), len(tables.sbc_kind)) if tables else (0, 0)
        init = initial_state(world, self.driver, EVENT_CAPACITY, n_story=n_story, n_nodes=n_nodes)
        self.initial = init
        self.state = EngineState(
            *(
                getattr(world.state, f)[None] if f in WORLD_STATE_FIELDS else a.copy()
                for f, a in zip(EngineState._fields, init, strict=True)
            )
        )
        self.scratch = new_scratch(world, EVENT_CAPACITY)
        #: Regulation-style verdicts to compute (a ``schema.RegulationSpec``), set by the caller; None: none.
        self.regulation = regulation
        self.emergency_vehicles = tuple(emergency_vehicles)
        self.tags = tuple(tags)
        self._collisions_info: list[dict] = []
        self.out = new_outputs(EVENT_CAPACITY, hashed=True)
        self._engine_of: tuple[tuple[Any, ...], Any] | None = None  # (the four structures, their EngineCore)
        self._story_snapshot = StoryboardSnapshot.take(world) if world.storyboard else None
        self.scripted = ScriptedSpeeds(self.state.v_des[0], self.state.speed_factor[0])
        #: Called with this Simulation after every compiled call (the run log: report.runlog).
        self.on_advance: list[Callable[[Simulation], None]] = []
        #: The latest observation handed to each Python-side agent, by role.
        self.observations: dict[str, Observation] = {}
        self.reset()

    # -- views of instance 0 of the engine state ----------------------------------------
    @property
    def metrics(self) -> np.ndarray:
        """(N_METRICS,) ego metric accumulator (``evaluation.metrics_kernels`` slots)."""
        return self.state.metrics[0]

    @property
    def goal_flag(self) -> np.ndarray:
        """(n,) goal reached per row."""
        return self.state.goal_flag[0]

    @property
    def offroad(self) -> np.ndarray:
        """(n,) off-road after the last step per row."""
        return self.state.offroad[0]

    @property
    def ctrl_accel(self) -> np.ndarray:
        """(n,) acceleration targets of the last step (m/s^2)."""
        return self.state.ctrl_accel[0]

    @property
    def ctrl_steer(self) -> np.ndarray:
        """(n,) road-wheel angle targets of the last step (rad)."""
        return self.state.ctrl_steer[0]

    @property
    def sig_state(self) -> np.ndarray:
        """(n_instances, n_groups) current signal states."""
        return self.state.sig_state[0]

    @property
    def cw_occ(self) -> np.ndarray:
        """(n_instances, n_crosswalks) crosswalk occupancy."""
        return self.state.cw_occ[0]

    @property
    def actor_ev(self) -> np.ndarray:
        """(n, N_ACTOR_EV) evaluator memory per row (``rules_kernels``)."""
        return self.state.actor_ev[0]

    @property
    def pet(self) -> np.ndarray:
        """(4, bins) PET bins over the ego route."""
        return self.state.pet[0]

    # -- setup -------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial state at t = 0 (same seed, same run)."""
        w = self.world
        if self.sensors is not None:
            self.sensors.reset(seed=w.seed, variant=self.variant)
        self.initial.copy_into(self.state)
        self.t = 0.0
        self.step_index = 0
        self.events: list[Event] = []
        self._collisions_info = []
        self.termination = ""
        self.observations.clear()
        self._agent_failed = False
        self._bad_controls = 0
        self._bad_run: dict[str, int] = {}
        self.late_controls = {role: 0 for role in self.channels}
        for ch in self.channels.values():
            ch.reset()
        self.story_end = ""
        self._story = StoryProgress(tuple(w.storyboard)) if w.storyboard and not self.story_compiled else None
        if self._story_snapshot is not None:
            self._story_snapshot.restore(w)
        self.scripted.reset()
        self.max_steps = math.ceil(self.end.timeout_s / w.dt - 1e-9)
        every = self.record_every if self.record_every > 0 else self.max_steps + 1
        rows = self.max_steps // every + 2 if self.record_every > 0 else 1
        buffer_rows = max(limits.current().recorder_rows, CHUNK_STEPS // every + 2)  # drained to disk when full
        self.recorder = rec = TrajectoryRecorder(w.state.n, rows, every, self._n_groups, buffer_rows)
        self.out = self.out._replace(
            rec_every=int(rec.every) if self.record_every > 0 else REC_NEVER,
            rec_row=np.zeros(1, dtype=np.int64),
            rec_time=rec.time, rec_x=rec.x, rec_y=rec.y, rec_yaw=rec.yaw, rec_speed=rec.speed,
            rec_active=rec.active, rec_sig=rec.signals,
        )  # fmt: skip
        self._update_signals()
        if self.record_every > 0:
            self.recorder.append(0, 0.0, w.state, self.sig_state[0])
        self.out.rec_row[0] = self.recorder.rows
        # a fresh state hash at every reset: the full initial state (record.state_hash); the compiled
        # step folds every later step's state, _check_storyboard the route samples it changed
        self.out.state_hash[0] = self._fold_state(StateHash(), 1, *self.state)
        timeout = limits.current().agent_reset_timeout_s
        for role in self.agents:
            try:
                self._guards[role].call("reset", self.agent_info(role), timeout_s=timeout)
            except Exception as exc:  # agent code is untrusted (guard: any exception, exit, hang)
                self._fail(role, exc)
                break

    def _fail(self, role: str, exc: BaseException) -> None:
        """Record that the agent of ``role`` failed; the run ends with ``agent_failure``."""
        self._agent_failed = True
        detail = str(exc) if isinstance(exc, AgentError) else f"{type(exc).__name__}: {exc}"
        self.events.append(Event(self.t, EventKind.AGENT_FAILURE, (role,), detail=detail))
        self.termination = "agent_failure"

    def close(self) -> None:
        """Close every agent that has ``close`` (out-of-process agents end their process)."""
        for guard in self._guards.values():
            with contextlib.suppress(Exception):  # closing must not mask the run's result
                guard.close()

    def agent_info(self, role: str = "ego") -> AgentInfo:
        """Static information handed to the agent of ``role`` ("ego" or a controlled actor id) at reset."""
        w = self.world
        e, p, r = self._row(role), w.params, w.routes
        a, b = r.start[e], r.start[e + 1]
        ego = EgoInfo(
            vehicle=w.vehicle_names[e],
            length=float(p["length"][e]),
            width=float(p["width"][e]),
            wheelbase=float(p["wheelbase"][e]),
            rear_overhang=float(p["rear_overhang"][e]),
            max_steer=float(p["max_steer"][e]),
            max_accel=float(p["max_accel"][e]),
            max_decel=float(p["max_decel"][e]),
        )

        def ro(arr: np.ndarray) -> np.ndarray:
            return _readonly(arr[a:b].copy())

        return AgentInfo(
            scenario=w.name,
            dt=w.dt,
            seed=w.seed,
            ego=ego,
            actor_ids=w.actor_ids,
            route_x=ro(r.x),
            route_y=ro(r.y),
            route_s=ro(r.s),
            route_speed_limit=ro(r.speed_limit),
            route_curvature=ro(r.curvature),
            lane_change_s0=_readonly(r.lc_s0[r.lc_start[e] : r.lc_start[e + 1]].copy()),
            lane_change_s1=_readonly(r.lc_s1[r.lc_start[e] : r.lc_start[e + 1]].copy()),
            lane_change_side=_readonly(r.lc_side[r.lc_start[e] : r.lc_start[e + 1]].copy()),
            lane_change_offset=_readonly(r.lc_offset[r.lc_start[e] : r.lc_start[e + 1]].copy()),
            goal_s=float(r.goal_s[e]),
            network=w.network,
            role=role,
            scenario_file=self.scenario_file,
        )

    def _row(self, role: str) -> int:
        """State row of a controlled role."""
        if role == "ego":
            if self.world.ego < 0:
                raise ValueError("this scenario has no ego vehicle")
            return self.world.ego
        if role not in self._roles:
            raise ValueError(f"{role!r} is not a controlled vehicle of this simulation")
        return self._roles[role]

    def _update_signals(self) -> None:
        """Signal states and crosswalk occupancy at the current time (as the step leaves them)."""
        settle_signals(self.static, self.state, 0, self.t)

    def observe(self, role: str = "ego") -> Observation:
        """The observation of the controlled vehicle ``role`` ("ego" or an actor id) now."""
        w = self.world
        st, p, r = w.state, w.params, w.routes
        e = self._row(role)
        dx = st.x - st.x[e]
        dy = st.y - st.y[e]
        near = st.active & (dx * dx + dy * dy <= OBJECT_RANGE_M**2)
        near[e] = False
        rows = np.flatnonzero(near)
        objects = ObjectList(
            row=rows,
            kind=st.kind[rows],
            x=st.x[rows],
            y=st.y[rows],
            yaw=st.yaw[rows],
            speed=st.speed[rows],
            length=p["length"][rows],
            width=p["width"][rows],
            center_offset=p["center_offset"][rows],
        )
        sa, sb = r.stop_start[e], r.stop_start[e + 1]
        sig = r.stop_signal[sa:sb]
        # Unsignalised stop lines (signal -1) read as GREEN; maps without signals have no groups.
        stop_state = np.full(sig.shape, SignalState.GREEN, dtype=np.int8)
        signalised = sig >= 0
        stop_state[signalised] = self.sig_state[st.instance[e], sig[signalised]]
        ca, cb = r.cw_start[e], r.cw_start[e + 1]
        k = int(np.searchsorted(r.s[r.start[e] : r.start[e + 1]], st.progress[e])) + r.start[e]
        k = min(k, r.start[e + 1] - 1)
        return Observation(
            time=self.t,
            step=self.step_index,
            x=float(st.x[e]),
            y=float(st.y[e]),
            yaw=float(st.yaw[e]),
            speed=float(st.speed[e]),
            accel=float(st.accel[e]),
            steer=float(st.steer[e]),
            progress=float(st.progress[e]),
            lateral=float(st.lateral[e]),
            speed_limit=float(r.speed_limit[k]),
            objects=objects,
            stop_s=r.stop_s[sa:sb].copy(),
            stop_state=stop_state,
            crosswalk_s0=r.cw_s0[ca:cb].copy(),
            crosswalk_s1=r.cw_s1[ca:cb].copy(),
            crosswalk_occupied=self.cw_occ[st.instance[e], r.cw_id[ca:cb]],
            role=role,
            sensors=self._sensor_readings(role),
            junction_hold_s=self._junction_hold(e),
        )

    def _sensor_readings(self, role: str) -> Mapping[str, Any]:
        """Latest reading of each of the ego's sensors (firing those that are due now)."""
        if role != "ego" or self.sensors is None:
            return MappingProxyType({})
        return MappingProxyType(self.sensors.poll(self.world, self.t))

    def _agent_control(self, override: AnyControl | None = None) -> None:
        """Ask every Python-side agent for its control and put the effective one in ctrl_*.

        An exception or a control of the wrong type is an AGENT_FAILURE (the run ends); a
        non-finite control a BAD_CONTROL event (one per run of them) and a braking step; an
        answer over the compute budget, or ``None``, a LATE_CONTROL event and the late
        policy. ``override`` replaces the ego agent's answer (``step(control)``).
        """
        w = self.world
        st = w.state
        budget = self.timing.budget_s
        lim = limits.current()
        for role, ch in self.channels.items():
            e = ch.row
            if self._agent_failed:
                self.ctrl_accel[e], self.ctrl_steer[e] = -ch.max_decel, st.steer[e]
                continue
            late = ""
            if override is not None and role == "ego":
                ctrl = check_control(override)
            else:
                try:
                    obs = self.observe(role)  # the engine's time, not charged to the agent's budget
                    self.observations[role] = obs  # the latest one per role (the run log's summary)
                    answer, took = self._guards[role].call("act", obs, timeout_s=lim.agent_step_timeout_s)
                    ctrl = check_control(answer)
                except Exception as exc:  # untrusted (guard: any exception, exit, hang): record, brake, end
                    self._fail(role, exc)
                    self.ctrl_accel[e], self.ctrl_steer[e] = -ch.max_decel, st.steer[e]
                    continue
                if ctrl is None:
                    late = "no control"
                elif budget is not None and took > budget:
                    late = f"compute {took:.4f} s over the budget of {budget:g} s"
                    ctrl = None
            if late:
                self.late_controls[role] = self.late_controls.get(role, 0) + 1
                self.events.append(
                    Event(self.t, EventKind.LATE_CONTROL, (role,), detail=f"{late}; {self.timing.late_policy}")
                )
            item: object = ctrl
            problem = ""
            if ctrl is not None:
                problem = control_problem(ctrl, lim.max_control_accel_mps2, lim.max_control_steer_rad)
            if problem:
                # One event per run of consecutive bad controls, not one per step.
                if self._bad_run.get(role, 0) == 0:
                    self.events.append(Event(self.t, EventKind.BAD_CONTROL, (role,), detail=f"{problem}; braking"))
                self._bad_run[role] = self._bad_run.get(role, 0) + 1
                self._bad_controls += 1
                item = BRAKE
            elif ctrl is not None:
                self._bad_run[role] = 0
            applied = ch.submit(item, self.t)
            x, y, yaw, v, steer_now = (float(a[e]) for a in (st.x, st.y, st.yaw, st.speed, st.steer))
            accel, steer = ch.actuate(applied, x, y, yaw, v, steer_now, self.t)
            self.ctrl_accel[e] = accel
            self.ctrl_steer[e] = steer

    def step(self, control: AnyControl | None = None) -> StepOutcome:
        """Advance one ``dt``. ``control`` overrides the ego agent for this step (external drivers)."""
        w = self.world
        n_before = len(self.events)
        if control is not None and w.ego >= 0 and self.in_engine:
            raise ValueError("this Simulation runs its agent in-engine; create it with in_engine=False")
        self._agent_control(control if w.ego >= 0 else None)
        if self.termination == "agent_failure":
            return StepOutcome(self.t, self.events[n_before:], True, self.termination)
        self._story_step()
        done, reason = self._check_end()
        return StepOutcome(self.t, self.events[n_before:], done, reason)

    def _engine(self) -> Any:
        """The ``EngineCore`` of the four structures as they are now (built again when one was replaced)."""
        parts = (self.static, self.state, self.scratch, self.out)
        held = self._engine_of
        if held is None or any(a is not b for a, b in zip(held[0], parts, strict=True)):
            held = self._engine_of = (parts, make_engine(*parts))
        return held[1]

    def _advance(self, n_steps: int) -> int:
        """Run up to ``n_steps`` compiled steps (stopping early at a reportable event)."""
        rec = self.recorder
        rec.make_room(n_steps)  # streaming: full rows go to disk, memory stays flat in time
        self.out.rec_row[0] = rec.rows
        done, n_ev = advance(self._engine(), 0, n_steps, self.world.dt)
        self.step_index = int(self.state.step[0])
        self.t = self.step_index * self.world.dt
        rec.rows = int(self.out.rec_row[0])
        if n_ev:
            self._collect_events(int(n_ev))
        for hook in self.on_advance:
            hook(self)
        return int(done)

    def snapshot(self) -> SimSnapshot:
        """The run so far, to go back to with ``restore`` (engine state copied; agents are not included)."""
        return SimSnapshot(
            self.state.copy(),
            self.t,
            list(self.events),
            [dict(c) for c in self._collisions_info],
            self.termination,
            self.story_end,
            copy.deepcopy(self._story),
            self.scripted.save(),
            self._story_snapshot.take(self.world) if self._story_snapshot is not None else None,
            int(self.recorder.rows),
            dict(self.late_controls),
            int(self.out.state_hash[0]),
            self.recorder.total_rows,
        )

    def restore(self, snap: SimSnapshot) -> None:
        """Back to a ``snapshot`` of this Simulation: every later step repeats bit for bit."""
        snap.state.copy_into(self.state)
        self.step_index = int(self.state.step[0])
        self.t = snap.t
        self.events = list(snap.events)
        self._collisions_info = [dict(c) for c in snap.collisions_info]
        self.termination = snap.termination
        self.story_end = snap.story_end
        self._story = copy.deepcopy(snap.story)
        self.scripted.load(snap.scripted)
        if snap.world_extra is not None:
            snap.world_extra.restore(self.world)
        # rows recorded after the snapshot go, also those drained to disk since (record.trajectory)
        rec = self.recorder
        rec.truncate(snap.rec_total if snap.rec_total >= 0 else rec.drained + snap.rec_rows)
        self.out.rec_row[0] = rec.rows
        self.late_controls = dict(snap.late_controls)
        self.out.state_hash[0] = np.uint64(snap.state_hash)

    def _fold_state(self, h: StateHash, tag: int, *arrays: np.ndarray) -> np.uint64:
        """``h`` with instance 0 of ``arrays`` (EngineState fields) and the step number folded as one group."""
        h.fold(tag, np.array([self.step_index], dtype=np.int64), *(a[0] for a in arrays))
        return h.value

    def _fold_routes(self) -> None:
        """Fold the route samples into the state hash: the storyboard is their only writer, and the
        compiled step, which folds every other field every step, only reads them."""
        h = StateHash()
        h.value = self.out.state_hash[0]
        self.out.state_hash[0] = self._fold_state(h, 2, *(getattr(self.state, f) for f in ROUTE_FIELDS))

    @property
    def state_digest(self) -> str:
        """The state hash of the run so far (16 hex digits; ``record.state_hash``)."""
        return f"{int(self.out.state_hash[0]):016x}"

    def story_applied(self) -> list[float]:
        """Time (s) each storyboard entry's action was applied (inf: not yet), on either storyboard path."""
        if self.story_compiled:
            return [math.inf if math.isnan(t) else float(t) for t in self.state.story_app[0, :, 0]]
        return list(self._story.applied_at) if self._story is not None else []

    def _story_pending(self) -> bool:
        """A storyboard entry is still to fire, or a scripted speed is active: step one at a time."""
        return self._story is not None and (not all(self._story.done) or bool(self.scripted.profiles))

    def _story_step(self) -> None:
        """One step with the storyboard: scripted speeds around it, then the triggers."""
        t_before = self.t
        if self.scripted.profiles:
            self.scripted.before_step(self)
        self._advance(1)
        if self.scripted.profiles:
            self.scripted.after_step(self, t_before)
        self._check_storyboard()

    def _junction_hold(self, row: int) -> float:
        """Route s where controlled vehicle ``row`` must give way now (``junction_holds`` on the
        current state), inf if none."""
        sp, es, sc = self.static, self.state, self.scratch
        junction_holds(
            self.t, np.array([row], dtype=np.int64), sp.veh_idx, row, es.speed[0], es.active[0], es.instance[0],
            sp.length, sp.rear_overhang, es.progress[0], sp.yields, sp.crit_gap, sp.right_on_red,
            sp.ps_start, sp.ps_junc, sp.ps_hold, sp.ps_s1, sp.ps_sig, sp.ps_stop, sp.ps_turn, sp.ps_l, sp.pl_lane,
            sp.pl_s0, sp.lane_local, sp.jc_off, sp.jc_n, sp.jc_s, es.sig_state[0], sc.cur_ps, es.arr_ps[0],
            es.arr_t[0], sc.jb_start, sc.jb_items, sc.hold_s, sc.cur_turn,
        )  # fmt: skip
        return float(sc.hold_s[row])

    def _check_storyboard(self) -> None:
        """Fire the storyboard entries whose triggers hold after this step (one event each)."""
        if self._story is None:
            return
        due = self._story.check(self)
        for story in due:
            self.events.append(Event(self.t, EventKind.STORYBOARD, (), detail=story.detail))
        if due:
            self._update_signals()  # overrides and removals take effect at this time already
            self._fold_routes()

    def _collect_events(self, n: int) -> None:
        ids = self.world.actor_ids
        net = self.world.network
        names = net.signal_names
        for k in range(n):
            kind = EventKind(int(self.out.ev_kind[k]))
            if kind == EventKind.ROUTE_DONE:
                continue  # routine; counted in metrics, not reported one by one
            a = int(self.out.ev_a[k])
            if kind == EventKind.STORYBOARD:  # a compiled entry fired (ev_a: its index)
                story = self.world.storyboard[a]
                self.events.append(Event(float(self.out.ev_time[k]), kind, (), detail=story.detail))
                if isinstance(story.action, PYTHON_SIDE):
                    self.world.storyboard[a].action.apply(self)
                continue
            actors: tuple[str, ...] = (ids[a],)
            detail = ""
            at_fault: tuple[str, ...] | None = None
            if kind == EventKind.RED_LIGHT:
                detail = f"signal {names[int(self.out.ev_b[k])]}"
            elif kind == EventKind.STOP_SIGN:
                detail = f"stop line {int(self.out.ev_b[k])} of the route"
            elif kind == EventKind.COLLISION:
                b = int(self.out.ev_b[k])
                if b >= 0:
                    actors = (ids[a], ids[b])
                    kinds = ("vehicle", "pedestrian", "cyclist", "static object")  # by ActorKind
                    detail = f"with {kinds[int(self.world.state.kind[b])]}"
                else:
                    o = -2 - b
                    name = net.obj_names[o] if o < len(net.obj_names) else str(o)
                    okind = net.obj_kinds[o] if o < len(net.obj_kinds) else "object"
                    actors = (ids[a], f"static:{name}")
                    detail = f"with static object ({okind})"
                fault = int(self.out.ev_fault[k])
                at_fault = {
                    rk.FAULT_A: actors[:1],
                    rk.FAULT_B: actors[1:],
                    rk.FAULT_BOTH: actors,
                }.get(fault, () if fault == rk.FAULT_NEITHER else None)
                detail += {rk.FAULT_NEITHER: "; neither at fault", rk.FAULT_UNKNOWN: "; fault not assessed"}.get(
                    fault, ""
                )
                if "ego" in actors:
                    # Ego speed now (the collision step) and the other actor's hazard onset on the ego
                    # path, for the regulation verdicts (UN R157-style avoidability, Euro NCAP AEB).
                    v_ego = float(self.world.state.speed[self.world.ego])
                    info: dict[str, Any] = {"time_s": float(self.out.ev_time[k]), "ego_speed": v_ego}
                    if b >= 0:
                        j = b if ids[a] == "ego" else a
                        hz = self.actor_ev[j]
                        info.update(
                            other=ids[j],
                            hazard_t=float(hz[rk.A_HAZ_T]),
                            gap_m=float(hz[rk.A_HAZ_GAP]),
                            v_ego=float(hz[rk.A_HAZ_VE]),
                            v_other=float(hz[rk.A_HAZ_VL]),
                            decel_other=float(hz[rk.A_HAZ_DL]),
                        )
                    else:
                        info.update(other=actors[1], static=True)
                    self._collisions_info.append(info)
            t_ev, value = float(self.out.ev_time[k]), float(self.out.ev_value[k])
            self.events.append(Event(t_ev, kind, actors, value, detail, at_fault))

    def _check_end(self) -> tuple[bool, str]:
        w = self.world
        if self.termination == "agent_failure":
            return True, self.termination
        if self.story_end:
            self.termination = self.story_end
        elif self.end.ego_reaches_goal and w.ego >= 0 and self.goal_flag[w.ego]:
            self.termination = "goal_reached"
        elif self.end.on_ego_collision and any(
            e.kind == EventKind.COLLISION and "ego" in e.actors for e in self.events
        ):
            self.termination = "ego_collision"
        elif self.step_index >= self.max_steps:
            self.termination = "timeout"
        elif w.ego < 0 and not w.state.active.any():
            self.termination = "all_done"
        return bool(self.termination), self.termination

    # -- whole run ---------------------------------------------------------------------
    def prepare(self) -> float:
        """Compile (or load from the cache) the step kernels now; returns the seconds it took.

        Zero steps are run, so the state is unchanged. ``run`` would do this on its first
        step anyway; calling it first keeps compilation out of the run's wall time.
        """
        t0 = time.perf_counter()
        self._advance(0)
        return time.perf_counter() - t0

    def _run_once(self, limit: int) -> bool:
        """One pass of the run loop, not past step ``limit``: a compiled chunk, a storyboard step or an
        agent step. Returns whether the run is over."""
        if self._story_pending() and not self.channels:
            self._story_step()
            return self._check_end()[0]
        if not self.channels:
            self._advance(min(CHUNK_STEPS, limit - self.step_index))
            return self._check_end()[0]
        return self.step().done

    def advance_to(self, step: int) -> bool:
        """Run as ``run`` does (agents asked) until step ``step`` or the end; returns whether the run is over."""
        done = self._check_end()[0]
        while not done and self.step_index < step:
            done = self._run_once(step)
        return done

    def step_applied(self, controls: Mapping[str, tuple[float, float]]) -> StepOutcome:
        """Advance one ``dt`` with these effective controls, ``{role: (accel m/s^2, steer rad)}``, of the
        agent-driven vehicles; no agent is asked and no control channel is passed (a run log's controls)."""
        for role, (accel, steer) in controls.items():
            row = self._row(role)
            self.ctrl_accel[row], self.ctrl_steer[row] = accel, steer
        n_before = len(self.events)
        self._story_step()
        done, reason = self._check_end()
        return StepOutcome(self.t, self.events[n_before:], done, reason)

    def run(self, progress: bool = False) -> Result:
        """Step until an end condition holds; returns the Result."""
        t0 = time.perf_counter()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=self.max_steps, unit="step", leave=False)
        done = self._check_end()[0]
        try:
            while not done:
                before = self.step_index
                done = self._run_once(self.max_steps)
                if bar is not None:
                    bar.update(self.step_index - before)
        finally:
            if bar is not None:
                bar.close()
            self.close()
        return self.result(time.perf_counter() - t0)

    def summary(self) -> EgoSummary:
        """Ego infraction counts and metrics so far."""
        w = self.world
        e = w.ego
        kinds = w.state.kind
        ids = {a: i for i, a in enumerate(w.actor_ids)}
        n = dict.fromkeys(
            ("veh", "ped", "static", "fault", "fault_static", "red", "off", "stop", "ww", "speed", "dev", "blocked"), 0
        )
        counted = {
            EventKind.RED_LIGHT: "red",
            EventKind.OFFROAD: "off",
            EventKind.STOP_SIGN: "stop",
            EventKind.WRONG_WAY: "ww",
            EventKind.SPEEDING: "speed",
            EventKind.ROUTE_DEVIATION: "dev",
            EventKind.BLOCKED: "blocked",
        }
        for ev in self.events:
            if "ego" not in ev.actors:
                continue
            if ev.kind == EventKind.COLLISION:
                other = next((a for a in ev.actors if a != "ego"), "")
                ego_fault = ev.at_fault is None or "ego" in ev.at_fault
                if other not in ids:
                    n["static"] += 1
                    n["fault_static"] += ego_fault
                    continue
                n["ped" if kinds[ids[other]] == ActorKind.PEDESTRIAN else "veh"] += 1
                n["fault"] += ego_fault
            elif ev.kind in counted:
                n[counted[ev.kind]] += 1
        m = self.metrics
        if e >= 0:
            s0 = float(w.initial.progress[e]) if w.initial is not None else 0.0
            span = max(float(w.routes.goal_s[e]) - s0, 1e-9)
            completion = 1.0 if self.goal_flag[e] else float(np.clip((w.state.progress[e] - s0) / span, 0.0, 1.0))
        else:
            completion = 0.0
        return EgoSummary(
            n["veh"],
            n["ped"],
            n["red"],
            n["off"],
            bool(e >= 0 and self.goal_flag[e]),
            completion,
            float(m[mk.M_MIN_TTC]),
            float(m[mk.M_MAX_DECEL]),
            e >= 0,
            collisions_static=n["static"],
            at_fault_collisions=n["fault"],
            at_fault_static=n["fault_static"],
            stop_signs=n["stop"],
            wrong_way=n["ww"],
            max_wrong_way_run_m=float(m[mk.M_MAX_WW_RUN]),
            speeding=n["speed"],
            overspeed_integral_m=float(m[mk.M_OVERSPEED_INT]),
            duration_s=float(m[mk.M_STEPS]) * w.dt,
            route_deviations=n["dev"],
            blocked=n["blocked"],
            timed_out=bool(e >= 0 and self.termination == "timeout" and not self.goal_flag[e]),
        )

    def result(self, wall_time: float) -> Result:
        """Summarise the run so far."""
        w = self.world
        summ = self.summary()
        s = score(summ)
        m = self.metrics
        steps = max(m[mk.M_STEPS], 1.0)
        kinds = w.state.kind
        ids = {a: i for i, a in enumerate(w.actor_ids)}
        coll_cyc = sum(
            1
            for ev in self.events
            if ev.kind == EventKind.COLLISION
            and "ego" in ev.actors
            and any(a in ids and a != "ego" and kinds[ids[a]] == ActorKind.CYCLIST for a in ev.actors)
        )
        derived = {
            "route_completion": summ.route_completion,
            "mean_speed_mps": float(m[mk.M_SPEED_SUM] / steps),
            "collisions": summ.collisions,
            "collisions_pedestrian": summ.collisions_pedestrian,
            "collisions_cyclist": coll_cyc,
            "collisions_static": summ.collisions_static,
            "collisions_at_fault": sum(summ.fault_counts),
            "red_lights": summ.red_lights,
            "stop_signs": summ.stop_signs,
            "offroad": summ.offroad,
            "wrong_way": summ.wrong_way,
            "speeding": summ.speeding,
            "max_overspeed_mps": max(float(m[mk.M_MAX_OVERSPEED]), 0.0),
            "route_deviations": summ.route_deviations,
            "blocked": summ.blocked,
            "timed_out": int(summ.timed_out),
            "evaluated_time_s": summ.duration_s,
            "npc_routes_done": int(w.state.done.sum()),
            "actors": int(w.state.n),
        }
        # every metric of the registry (evaluation.metrics): accumulator slots as they are, the rest derived
        post: dict[str, float] = {}
        if self.record_every > 0:  # CARLA route criteria, nuPlan comfort (evaluation.post_run)
            post = post_run_metrics(
                w, post_run_trajectory(w, self.recorder, self.emergency_vehicles), self._collisions_info,
                self.emergency_vehicles,
                summ.timed_out, summ.route_completion,
            )  # fmt: skip
        metrics = ordered(
            {
                **{q.name: float(m[q.slot]) for q in METRICS if q.slot >= 0},
                **derived,
                **{q.name: post.get(q.name, math.nan) for q in METRICS if q.post_run},
            }
        )
        verdicts = judge(self.criteria, summ, s, metrics)
        e = w.ego
        v0 = float(w.initial.speed[e]) if e >= 0 and w.initial is not None else 0.0
        regulation, reg_verdicts = regulation_verdicts(self.regulation, self.events, self._collisions_info, v0)
        return Result(
            scenario=w.name,
            scenario_file=self.scenario_file,
            seed=w.seed,
            variant=self.variant,
            parameters=self.parameters,
            agent=getattr(self.agent, "name", "none") if self.agent else "none",
            dt=w.dt,
            steps=self.step_index,
            sim_time=self.t,
            wall_time=wall_time,
            termination=self.termination,
            events=list(self.events),
            metrics=metrics,
            score=s,
            verdicts=verdicts + reg_verdicts + agent_verdicts(self.events),
            scores=all_scores(summ, metrics),
            # at most limits.output_rows rows, evenly strided (the recorder keeps every row on disk)
            trajectory=self.recorder.view(limits.current().output_rows) if self.record_every > 0 else {},
            regulation=regulation,
            state_hash=self.state_digest,
            tags=list(self.tags),
        )


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
