"""N copies of one built World stepped together: stacked per-instance arrays over shared static data.

A built ``World`` holds R state rows for one scenario instance. ``InstanceBatch`` keeps every
per-instance quantity (state, controls, flags, metrics, signal states, collision memory,
step counter) as an (N, R) array, row j for instance j, and shares what is equal in every
copy (vehicle and driver parameters, routes, map). ``batch_kernels.gym_step`` then advances all
instances in one compiled call, each on its own clock. Instance j's results depend only on
its own inputs: a batch of N is step for step identical to N batches of one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np

from simcore._jit import GymCore
from simcore.gym import batch_kernels as bk
from simcore.gym.core import ObsTables, no_obs_tables
from simcore.runner.engine import (
    Static,
    build_static,
    initial_state,
    new_outputs,
    new_scratch,
    settle_signals,
)
from simcore.runner.step_kernels import make_engine
from simcore.runner.story_tables import story_tables
from simcore.scenario import storyboard as sb
from simcore.state import EngineState
from simcore.world import World

#: WorldState fields stacked per instance (the actor fields of the EngineState).
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
#: End code of an instance whose storyboard ended the run (an ``end`` entry fired: the episode is
#: terminated). Set on the Python side after the compiled step (``InstanceBatch.run``); like
#: ``Simulation``, a storyboard end takes precedence over the step's own end code.
END_STORY = bk.END_STORY


class InstanceBatch:
    """``n`` independent copies of ``world`` (its ego is the controlled vehicle).

    Args:
        world: a built World with an ego (``scenario.build.build_world``); its storyboard runs inside the
            compiled step (every trigger and action kind is compiled: ``runner.story_tables``). An entry
            that ends the run terminates the episode (``END_STORY``); a weather change fires (``after`` and
            ``done`` triggers see it) but changes nothing the gym models (it has no sensors).
        n: number of instances.
        evaluation: "light" (default) steps with the engine's ``Static.scoring`` False:
            everything the gym reports (state, rewards, end codes) is that of the full step, the
            score-only evaluation (ego metrics, rules) is skipped; "full" steps with scoring and keeps
            ``metrics`` and the evaluator state as ``Simulation`` does.
        threads: split the instances into this many contiguous ranges stepped on worker threads
            (the kernels release the GIL); results are identical for any thread count.

    Attributes:
        static, state, initial: the engine's Static tables, the EngineState of the n instances and
            the t = 0 EngineState of one instance (reset copies it).
    """

    def __init__(self, world: World, n: int, threads: int = 1, evaluation: str = "light") -> None:
        if evaluation not in ("light", "full"):
            raise ValueError(f"evaluation must be 'light' or 'full', got {evaluation!r}")
        if world.ego < 0:
            raise ValueError(f"scenario {world.name!r} has no ego vehicle: simcore.gym controls the ego")
        tables = story_tables(tuple(world.storyboard), world.dt)
        if tables is None:
            what = "a trigger or action kind that is not compiled (runner.story_tables)"
            raise ValueError(f"scenario {world.name!r}: simcore.gym runs compiled storyboards only; it has {what}")
        #: the storyboard entries that end the run (their firing ends the episode: END_STORY)
        self.end_entries = np.array(
            [k for k, s in enumerate(world.storyboard) if isinstance(s.action, sb.EndRun)], dtype=np.int64
        )
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
        cap_pairs = max(16, 4 * r)
        self.static: Static = build_static(w, w.driver, w.npc_idx, scoring=evaluation == "full", story=tables)
        sp = self.static
        self.initial: EngineState = initial_state(
            w, w.driver, cap_pairs, n_story=len(tables.sb_act), n_nodes=len(tables.sbc_kind)
        )
        settle_signals(sp, self.initial, 0, 0.0)
        self.state: EngineState = self.initial.tile(n)
        self.kind = sp.kind
        self.drive_idx = sp.drive_idx
        self.eval_idx = sp.eval_idx
        #: (length, ...) views kept for the observation builders: vehicle parameters and the drivable grid.
        self.vp = (
            sp.wheelbase, sp.length, sp.width, sp.rear_overhang, sp.center_offset, sp.max_steer, sp.max_steer_rate,
            sp.max_accel, sp.max_decel, sp.max_speed,
        )  # fmt: skip
        self.grid = (sp.g_cell, sp.g_x0, sp.g_y0, sp.g_nx, sp.g_ny, sp.g_start, sp.g_seg)
        self.grid += (sp.g_ax, sp.g_ay, sp.g_bx, sp.g_by, sp.g_hw)  # type: ignore[assignment]
        self.speed_factor0 = self.initial.speed_factor[0].copy()
        self.threads = max(1, min(int(threads), n))
        cap_ev = max(64, EVENTS_PER_ROW * r)
        self.scratch = [new_scratch(w, cap_pairs) for _ in range(self.threads)]
        self.outputs = [new_outputs(cap_ev) for _ in range(self.threads)]
        bounds = np.linspace(0, n, self.threads + 1).round().astype(int)
        self.chunks = [(int(bounds[t]), int(bounds[t + 1])) for t in range(self.threads)]
        self._pool: ThreadPoolExecutor | None = None
        # the arrays ``gym_step`` reads and writes (GymCore): controls in, outputs out
        self.ctl = np.zeros(bk.N_CTL, dtype=np.int64)
        self.ctl[bk.C_MAX_STEPS] = 1 << 62
        self.par = np.zeros(bk.N_PAR)
        self.par[bk.P_DT] = float(w.dt)
        self.act = np.zeros((n, 2))
        self.weights = np.zeros(bk.N_TERMS)
        self.terminate = np.zeros(3, dtype=np.bool_)
        self.todo = np.full(n, bk.TODO_STEP, dtype=np.int8)
        self.sf_next = np.zeros((n, r))
        self.terms = np.zeros((n, bk.N_TERMS))
        self.reward = np.zeros(n)
        self.end = np.zeros(n, dtype=np.int64)
        self.terminated = np.zeros(n, dtype=np.bool_)
        self.truncated = np.zeros(n, dtype=np.bool_)
        self.obs_tables: ObsTables = no_obs_tables()
        self._cores: list[tuple[GymCore, Any]] | None = None
        self._run_all: Callable[[], int] | None = None  # one thread: the compiled call with its arguments bound

    @property
    def light(self) -> bool:
        """True: steps without the score-only evaluation (``Static.scoring`` False)."""
        return not self.static.scoring

    @light.setter
    def light(self, value: bool) -> None:
        self.static = self.static._replace(scoring=not value)
        self._cores = self._run_all = None

    def set_obs_tables(self, tables: ObsTables) -> None:
        """Let ``run`` fill the object-list observation (``observe.Observer.tables``) when ``ctl[C_OBSERVE]``."""
        self.obs_tables = tables
        self._cores = self._run_all = None

    def _core_entries(self) -> list[tuple[GymCore, Any]]:
        """Per thread: the GymCore over this batch's arrays (that thread's scratch and outputs) and the
        compiled ``gym_step`` for it, looked up once and called directly (no argument typing per call)."""
        if self._cores is None:
            cores = []
            for t in range(self.threads):
                core = bk.make_core(
                    self.static, self.state, self.initial, self.scratch[t], self.outputs[t], self.ctl, self.par,
                    self.act, self.weights, self.terminate, self.todo, self.sf_next, self.terms, self.reward,
                    self.end, self.terminated, self.truncated, self.obs_tables,
                    make_engine(self.static, self.state, self.scratch[t], self.outputs[t]),
                )  # fmt: skip
                disp: Any = bk.gym_step
                sig = (disp.typeof_pyval(core), *(disp.typeof_pyval(0) for _ in range(3)))
                if sig not in disp.overloads:
                    disp.compile(sig)
                cores.append((core, disp.overloads[sig].entry_point))
            self._cores = cores
        return self._cores

    def close(self) -> None:
        """Stop the worker threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    # -- state --------------------------------------------------------------------------
    def reset_instance(self, j: int, speed_factor: np.ndarray | None = None) -> None:
        """Instance ``j`` back to t = 0; ``speed_factor`` (R,) replaces the drivers' speed factors."""
        self.state.set_instance(j, self.initial)
        if speed_factor is not None:
            self.state.speed_factor[j] = speed_factor

    def reset_instances(self, mask: np.ndarray, speed_factor: np.ndarray | None = None) -> None:
        """Every instance j with ``mask[j]`` back to t = 0 (one copy of the initial state per array);
        ``speed_factor``: (N, R) rows replacing the drivers' speed factors of those instances."""
        mask = np.asarray(mask, dtype=np.bool_)
        sf = None if speed_factor is None else speed_factor[mask]  # a copy: it may be a view of the state
        for a, a0 in zip(self.state, self.initial, strict=True):
            a[mask] = a0[0]
        if sf is not None:
            self.state.speed_factor[mask] = sf

    def snapshot(self) -> EngineState:
        """A copy of the state of every instance (``restore`` goes back to it bit for bit)."""
        return self.state.copy()

    def restore(self, snap: EngineState) -> None:
        """Back to a ``snapshot``."""
        snap.copy_into(self.state)

    def field(self, name: str) -> np.ndarray:
        """The (N, R) array of a stacked WorldState field."""
        if name not in STATE_FIELDS:
            raise KeyError(name)
        return getattr(self.state, name)

    @property
    def speed_factor(self) -> np.ndarray:
        """(N, R) drivers' speed factors (multiples of the speed limit)."""
        return self.state.speed_factor

    @property
    def metrics(self) -> np.ndarray:
        """(N, N_METRICS) ego metric accumulators."""
        return self.state.metrics

    @property
    def sig_state(self) -> np.ndarray:
        """(N, n_groups) signal states."""
        return self.state.sig_state[:, 0, :]

    @property
    def step_count(self) -> np.ndarray:
        """(N,) steps done per instance."""
        return self.state.step

    @property
    def offroad(self) -> np.ndarray:
        """(N, R) off-road flags after the last step."""
        return self.state.offroad

    @property
    def goal_flag(self) -> np.ndarray:
        """(N, R) goal flags."""
        return self.state.goal_flag

    # -- step ---------------------------------------------------------------------------
    def run(self) -> int:
        """One ``gym_step`` over every instance with the controls as they are in ``ctl``, ``par``, ``act``,
        ``weights``, ``terminate``, ``todo`` and ``sf_next``; outputs in ``terms``, ``reward``, ``end``,
        ``terminated``, ``truncated`` (and the observation tables). Returns the number of instances that ended.

        An instance stepped on this call whose storyboard fired an ``end`` entry ends with ``END_STORY``
        (terminated; it takes precedence over the step's own end code, as in ``Simulation``)."""
        if not self.end_entries.size:
            return self._run_compiled()
        stepped = self.todo == bk.TODO_STEP
        n_end = self._run_compiled()
        story = stepped & self.state.story_done[:, self.end_entries].any(axis=1)
        if story.any():
            n_end += int(np.count_nonzero(story & (self.end == bk.END_NONE)))
            self.end[story] = END_STORY
            self.terminated[story] = True
            self.truncated[story] = False
            if self.ctl[bk.C_AUTORESET]:
                self.todo[story] = bk.TODO_RESET
        return n_end

    def _run_compiled(self) -> int:
        """``gym_step`` over every instance (one call, or one per thread range)."""
        if self._run_all is not None:
            return self._run_all()  # type: ignore[no-any-return]
        entries = self._core_entries()
        if self.threads == 1:
            core, entry = entries[0]
            self._run_all = partial(entry, core, 0, self.n, 0)
            return self._run_all()  # type: ignore[no-any-return]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="simcore-gym")

        def one(t: int) -> int:
            core, entry = entries[t]
            j0, j1 = self.chunks[t]
            return int(entry(core, j0, j1, t))

        return sum(self._pool.map(one, range(self.threads)))

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
        ``accel`` (m/s^2) and ``steer`` (rad), (N,) each. Results in ``terms``, ``reward``, ``end``.
        (The envs' controls in ``ctl``, ``weights``, ``terminate`` and ``todo`` are left as they were.)"""
        kept = (self.ctl.copy(), self.weights.copy(), self.terminate.copy(), self.todo.copy())
        try:
            self.act[:, 0] = accel
            self.act[:, 1] = steer
            self.todo[:] = np.where(np.asarray(run, dtype=np.bool_), bk.TODO_STEP, bk.TODO_SKIP)
            self.ctl[:] = (bk.MODE_RAW, 0, max_steps, 0)
            self.weights[:] = weights
            self.terminate[:] = terminate
            self.run()
        finally:
            mine: tuple[np.ndarray, ...] = (self.ctl, self.weights, self.terminate, self.todo)
            for dst, src in zip(mine, kept, strict=True):
                dst[:] = src
