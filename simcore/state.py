"""WorldState: the dynamic state of every actor of every instance, as a struct of arrays."""

from __future__ import annotations

from dataclasses import dataclass, fields

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
