"""The one seam between the drive loop and the engine: a Simulation whose ego is moved from outside.

Everything the drive mode needs from the engine goes through ``EngineAdapter``; it is the only
module of ``simcore.drive`` that touches engine internals, so moving the drive mode onto a new
engine state (snapshot / restore, structured advance arguments) means changing this file only.
The internals touched, all on the public ``Simulation`` built by ``api.simulation``:

* ``Simulation.static.veh_idx_kin`` / ``veh_idx_st``: the ego row is taken out of both, so the
  engine's compiled step no longer moves the ego (it still evaluates it: progress, off-road,
  collisions, red lights, scores, recording);
* ``world.state`` rows of the ego: written before each engine step with the pose the drive
  loop's 1 kHz model reached (``set_ego``), read back after it (a storyboard may move the ego);
* ``world.st_params`` and the engine state's ``friction`` / ``grade`` of the ego (its dynamics inputs);
* ``Simulation.events`` (to log drive events such as a lost heartbeat) and ``sig_state``;
* ``world.routes`` stop lines and ``world.network`` lane points (the window's signal ahead and map).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.agents.protocol import AgentInfo, Control, Observation
from simcore.api import simulation
from simcore.evaluation.events import Event, EventKind
from simcore.evaluation.scoring import score
from simcore.runner.results import Result


class _ExternalDriver:
    """Placeholder agent: the drive loop gives every control through ``Simulation.step(control)``."""

    name = "driver"
    in_engine = False

    def reset(self, info: AgentInfo) -> None:
        """Nothing to keep."""

    def act(self, obs: Observation) -> Control:
        """Never called (the control is always given)."""
        raise RuntimeError("the drive loop gives the ego's control")


@dataclass(frozen=True)
class EgoRow:
    """The ego's engine state (rear axle, ENU; m, rad, m/s, m/s^2)."""

    x: float
    y: float
    yaw: float
    speed: float
    steer: float
    accel: float
    vy: float
    yaw_rate: float


class EngineAdapter:
    """A scenario's Simulation with the ego's dynamics left to the caller.

    Args:
        scenario: path or built-in name. seed, overrides, variant: as ``api.simulation``.
        record_every: trajectory recording every this many scenario steps.
        driver_name: the agent name the result reports.
    """

    def __init__(
        self,
        scenario: str | os.PathLike[str],
        *,
        seed: int | None = None,
        overrides: dict[str, Any] | None = None,
        variant: int = 0,
        record_every: int = 1,
        driver_name: str = "driver",
    ) -> None:
        drv = _ExternalDriver()
        drv.name = driver_name
        self.sim = simulation(
            scenario,
            drv,
            seed=seed,
            overrides=overrides,
            variant=variant,
            record_every=record_every,
            in_engine=False,
            control_latency_s=0.0,
            compute_budget_s=None,
            late_policy="hold",
        )
        w = self.sim.world
        if w.ego < 0:
            raise ValueError(f"{scenario}: no ego vehicle to drive")
        self.ego = int(w.ego)
        st = self.sim.static  # the engine's row sets (the World itself is never written after build)
        self.sim.static = st._replace(
            veh_idx_kin=np.ascontiguousarray(st.veh_idx_kin[st.veh_idx_kin != self.ego]),
            veh_idx_st=np.ascontiguousarray(st.veh_idx_st[st.veh_idx_st != self.ego]),
        )
        self._written: tuple[float, ...] = ()

    # -- static facts ---------------------------------------------------------------------
    @property
    def dt(self) -> float:
        """The scenario's step (s)."""
        return float(self.sim.world.dt)

    @property
    def name(self) -> str:
        """Scenario name."""
        return self.sim.world.name

    def ego_params(self) -> np.ndarray:
        """Single-track parameter row of the ego (``dynamics.params.dynamics_params``)."""
        w = self.sim.world
        assert w.st_params is not None
        row = w.st_params[self.ego]
        if np.any(row != 0.0):
            return row.copy()
        from simcore.dynamics.params import dynamics_params, get_vehicle

        return dynamics_params(get_vehicle(w.vehicle_names[self.ego]))

    def ego_surface(self) -> tuple[float, float]:
        """Road friction and grade (rad) under the ego now."""
        es = self.sim.state  # the live engine state (storyboard friction actions write it)
        return float(es.friction[0, self.ego]), float(es.grade[0, self.ego])

    def agent_info(self) -> AgentInfo:
        """The ego's AgentInfo (route, vehicle) for an autopilot."""
        return self.sim.agent_info("ego")

    # -- state ----------------------------------------------------------------------------
    def ego_state(self) -> EgoRow:
        """The ego's row now."""
        st, e = self.sim.world.state, self.ego
        return EgoRow(
            *(float(getattr(st, f)[e]) for f in ("x", "y", "yaw", "speed", "steer", "accel", "vy", "yaw_rate"))
        )

    def set_ego(self, row: EgoRow) -> None:
        """Write the ego's row (the pose the drive loop's model reached)."""
        st, e = self.sim.world.state, self.ego
        for f, v in zip(
            ("x", "y", "yaw", "speed", "steer", "accel", "vy", "yaw_rate"), row.__dict__.values(), strict=True
        ):
            getattr(st, f)[e] = v
        self._written = (row.x, row.y, row.yaw, row.speed)

    def ego_moved_by_engine(self) -> bool:
        """Whether the last engine step moved the ego itself (a storyboard action): resync then."""
        if not self._written:
            return False
        st, e = self.sim.world.state, self.ego
        return (float(st.x[e]), float(st.y[e]), float(st.yaw[e]), float(st.speed[e])) != self._written

    @property
    def ego_active(self) -> bool:
        """The ego is still in the world."""
        return bool(self.sim.world.state.active[self.ego])

    def step(self, accel: float, steer: float) -> tuple[bool, str]:
        """One scenario step of traffic, signals and evaluation; (done, termination reason)."""
        out = self.sim.step(Control(accel=accel, steer=steer))
        return out.done, out.termination

    def observe(self) -> Observation:
        """The ego's observation now (the public API's)."""
        return self.sim.observe("ego")

    @property
    def time(self) -> float:
        """Simulation time (s)."""
        return float(self.sim.t)

    def signals(self) -> np.ndarray:
        """Signal-group states of instance 0 (``SignalState``)."""
        return self.sim.sig_state[0]

    def actor_arrays(self) -> dict[str, np.ndarray]:
        """Views of the state and size arrays, by name (x, y, yaw, speed, steer, kind, active, length, width)."""
        w = self.sim.world
        st = w.state
        return {
            "x": st.x,
            "y": st.y,
            "yaw": st.yaw,
            "speed": st.speed,
            "steer": st.steer,
            "kind": st.kind,
            "active": st.active,
            "length": w.params["length"],
            "width": w.params["width"],
            "center_offset": w.params["center_offset"],
        }

    def signal_ahead(self) -> tuple[int | None, float]:
        """State (``SignalState``) and distance (m) of the next signalised stop line on the ego's
        route; (None, inf) when there is none."""
        w = self.sim.world
        r, e = w.routes, self.ego
        prog = float(w.state.progress[e])
        for k in range(r.stop_start[e], r.stop_start[e + 1]):
            g = int(r.stop_signal[k])
            if g >= 0 and r.stop_s[k] >= prog:
                return int(self.signals()[g]), float(r.stop_s[k] - prog)
        return None, math.inf

    def lane_polylines(self) -> tuple[list[np.ndarray], np.ndarray]:
        """Lane centre lines ((k, 2) points each, m) and lane widths (m) of the map."""
        net = self.sim.world.network
        lanes = [
            np.column_stack([net.pts_x[a:b], net.pts_y[a:b]])
            for a, b in zip(net.lane_start[:-1], net.lane_start[1:], strict=True)
        ]
        return lanes, np.asarray(net.lane_width, dtype=np.float64)

    # -- evaluation -----------------------------------------------------------------------
    @property
    def events(self) -> list[Event]:
        """Every event so far."""
        return self.sim.events

    def log_event(self, detail: str) -> None:
        """Record a drive event (kind ``late_control`` on the ego) in the run's events."""
        self.sim.events.append(Event(self.sim.t, EventKind.LATE_CONTROL, ("ego",), detail=detail))

    def live_score(self) -> float:
        """The run's score (0..100) if it ended now."""
        return float(score(self.sim.summary()))

    def result(self, wall_time: float) -> Result:
        """The run's Result, scored like any other run."""
        self.sim.close()
        return self.sim.result(wall_time)
