"""WorldState (the actors of one world) and EngineState (every dynamic array of the engine, instance axis)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

#: name -> (dtype, unit, frame / meaning). Every WorldState field, documented once.
FIELDS: dict[str, tuple[type, str, str]] = {
    "x": (
        np.float64,
        "m",
        "ENU east; vehicles: rear-axle centre (for kinematic and single_track rows alike: single_track rows are"
        " integrated at their centre of gravity and converted to the rear axle after every step), pedestrians:"
        " body centre",
    ),
    "y": (np.float64, "m", "ENU north; same reference point as x"),
    "yaw": (np.float64, "rad", "heading, CCW from +x, wrapped to (-pi, pi]"),
    "speed": (np.float64, "m/s", "longitudinal speed, >= 0 (single_track: body-frame vx, same at CoG and rear axle)"),
    "steer": (np.float64, "rad", "front road-wheel angle, left positive (0 for pedestrians)"),
    "accel": (np.float64, "m/s^2", "longitudinal acceleration applied over the last step"),
    "vy": (
        np.float64,
        "m/s",
        "single_track rows: lateral velocity of the centre of gravity, body frame, left positive"
        " (rear axle: vy - l_r yaw_rate); 0 for kinematic rows and pedestrians",
    ),
    "yaw_rate": (np.float64, "rad/s", "single_track rows: yaw rate, CCW positive; 0 for kinematic rows, pedestrians"),
    "progress": (np.float64, "m", "arc length along the actor's own route"),
    "lateral": (np.float64, "m", "signed offset from the route, left positive"),
    "active": (np.bool_, "-", "row takes part in the step (not yet removed)"),
    "started": (np.bool_, "-", "actor has been started (storyboard); idle rows hold still"),
    "done": (np.bool_, "-", "actor reached the end of its route and was removed"),
    "instance": (np.int32, "-", "scenario instance the row belongs to"),
    "kind": (np.int8, "-", "simcore._types.ActorKind"),
}


@dataclass(frozen=True, slots=True)
class WorldState:
    """Dynamic state; the container is frozen, kernels update the arrays in place.

    One row per actor, all arrays of shape (n_actors,) with the dtypes in ``FIELDS``.
    """

    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray
    speed: np.ndarray
    steer: np.ndarray
    accel: np.ndarray
    vy: np.ndarray
    yaw_rate: np.ndarray
    progress: np.ndarray
    lateral: np.ndarray
    active: np.ndarray
    started: np.ndarray
    done: np.ndarray
    instance: np.ndarray
    kind: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> WorldState:
        """A state of ``n`` rows, all zero / False."""
        return cls(**{name: np.zeros(n, dtype=spec[0]) for name, spec in FIELDS.items()})

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.x.shape[0])

    def validate(self) -> None:
        """Check dtypes, shapes and contiguity; call at build time and in tests, never per step."""
        n = self.n
        for f in fields(self):
            arr = getattr(self, f.name)
            dtype = FIELDS[f.name][0]
            if not isinstance(arr, np.ndarray) or arr.dtype != dtype:
                raise TypeError(f"WorldState.{f.name}: expected {np.dtype(dtype)} array")
            if arr.shape != (n,):
                raise ValueError(f"WorldState.{f.name}: expected shape ({n},), got {arr.shape}")
            if not arr.flags.c_contiguous:
                raise ValueError(f"WorldState.{f.name}: array must be C-contiguous")

    def copy(self) -> WorldState:
        """Deep copy (snapshots, tests)."""
        return WorldState(**{f.name: getattr(self, f.name).copy() for f in fields(self)})


class EngineState(NamedTuple):
    """Every array the compiled step changes, for N stacked scenario instances (leading axis N).

    R = actor rows of one instance, S = route samples, I = instances stacked inside one world
    (rows carry ``instance``; 1 for built scenarios), G = signal groups, C = crosswalks,
    M = metric slots (``evaluation.metrics``), P = collision-pair capacity, B = PET bins.
    Reset, snapshot and restore are copies of this tuple (``copy``, ``copy_into``); the compiled
    step ``runner.step_kernels.advance`` reads instance j through row views of each array.
    """

    # actors, (N, R): the WorldState fields (same meaning and dtype, see FIELDS)
    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray
    speed: np.ndarray
    steer: np.ndarray
    accel: np.ndarray
    vy: np.ndarray
    yaw_rate: np.ndarray
    progress: np.ndarray
    lateral: np.ndarray
    active: np.ndarray
    started: np.ndarray
    done: np.ndarray
    instance: np.ndarray
    #: (N, R) drivers' mutable parameters: desired speed (m/s), multiple of the speed limit (-)
    v_des: np.ndarray
    speed_factor: np.ndarray
    #: (N, R) time (s) a walker starts moving (a storyboard ``start``/``spawn`` brings it forward)
    ped_start: np.ndarray
    #: (N, R) road friction coefficient and grade angle (rad, uphill +) under each row
    friction: np.ndarray
    grade: np.ndarray
    #: (N, R) controls (m/s^2, rad), off-road and goal flags
    ctrl_accel: np.ndarray
    ctrl_steer: np.ndarray
    offroad: np.ndarray
    goal_flag: np.ndarray
    #: (N, R) behaviour memory: stop line of a right turn on red (route s), junction arrival
    #: (passage, time s), lane-change lateral offset and its target (m)
    ror_stop: np.ndarray
    arr_ps: np.ndarray
    arr_t: np.ndarray
    lat_off: np.ndarray
    lat_tgt: np.ndarray
    #: (N, S) route samples a storyboard may edit: position (m, ENU; lane changes) and friction
    route_x: np.ndarray
    route_y: np.ndarray
    route_mu: np.ndarray
    #: (N, I, G) signal states (SignalState) and manual overrides (-1: the plan); (N, I, C) crosswalk occupancy
    sig_state: np.ndarray
    sig_override: np.ndarray
    cw_occ: np.ndarray
    #: (N, M) ego metric accumulator; (N, R, N_ACTOR_EV) evaluator memory per actor; (N, 4, B) PET bins
    metrics: np.ndarray
    actor_ev: np.ndarray
    pet: np.ndarray
    #: (N, P) collision pairs touching after the last step and (N, 1) their count
    touch_i: np.ndarray
    touch_j: np.ndarray
    n_touch: np.ndarray
    #: (N,) steps done (time = step * dt)
    step: np.ndarray
    #: (N, E) compiled storyboard (``runner.story_kernels``): time (s) each entry's trigger fired (NaN: not
    #: yet), entry done; (N, R) scripted speed on, (N, R, N_PROF) its parameters (``story_kernels.P_*``:
    #: t0 (s), v0, v1 (m/s), duration (s), shape, hold, kind, begin number, order, followed row, factor,
    #: delta, synchronisation targets and memory; width 0 without compiled entries), (N, R) speed before
    #: the step (m/s)
    story_fired: np.ndarray
    story_done: np.ndarray
    prof_on: np.ndarray
    prof: np.ndarray
    prof_pre: np.ndarray
    #: (N, E, 2) time (s) each entry's action was applied and the begin number of the speed it scripted
    #: (NaN: none); (N, L, 3) trigger node memory (``story_kernels.M_*``: last check time (s), value,
    #: evaluation stack)
    story_app: np.ndarray
    story_mem: np.ndarray

    @property
    def n(self) -> int:
        """Number of instances N."""
        return int(self.step.shape[0])

    def copy(self) -> EngineState:
        """Deep copy (a snapshot)."""
        return EngineState(*(a.copy() for a in self))

    def copy_into(self, other: EngineState) -> None:
        """Write this state's values into ``other``'s arrays (restore; every view of them stays valid)."""
        for src, dst in zip(self, other, strict=True):
            np.copyto(dst, src)

    def tile(self, n: int) -> EngineState:
        """N = ``n`` copies of instance 0 of this state (fresh C-contiguous arrays)."""
        return EngineState(*(np.ascontiguousarray(np.repeat(a[:1], n, axis=0)) for a in self))

    def set_instance(self, j: int, src: EngineState, k: int = 0) -> None:
        """Instance j of this state becomes instance k of ``src`` (a reset of one instance)."""
        for a, b in zip(self, src, strict=True):
            a[j] = b[k]
