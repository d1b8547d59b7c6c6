"""Sensor rig: several sensors on one carrier, each firing at its own rate, with seeded noise streams.

``SensorRig.poll(world, t)`` returns the latest reading of every sensor. Sensor ``s`` fires at the
first poll with ``floor(t * rate_hz + 1e-9)`` greater than at its previous firing (so a 10 Hz
sensor fires at t = 0, 0.1, 0.2, ... whatever the step, at most once per poll); a sensor whose
time has not come returns its previous reading with its original timestamp. Before any sensor
fires, the rig refreshes its ``Scene`` actor boxes from the world (the static part is built once
per world).

Noise: sensor ``name`` draws from ``simcore.rng.generator(seed, variant, "sensor/" + name)``,
a stream keyed by a stable CRC-32 of the name, so reruns are bit-identical and adding a sensor
does not change the others' draws.

A sensor is any object with ``name``, ``kind``, ``rate_hz``, ``measure(scene, world, t)`` and
optionally ``seed(rng)`` and ``row`` (carrier row; None means the world's ego).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simcore import limits
from simcore.rng import generator

__all__ = ["SensorReading", "SensorRig"]


@dataclass(frozen=True)
class SensorReading:
    """Latest output of one sensor: ``time`` is when it was measured (s; an object list with latency
    reports its frame's own stamp), ``data`` the sensor's output object."""

    name: str
    kind: str
    time: float
    data: Any


class SensorRig:
    """Sensors on one carrier row (None: the world's ego); ``seed``/``variant`` key the noise streams."""

    def __init__(self, sensors: list[Any], seed: int = 0, variant: int = 0, row: int | None = None) -> None:
        names = [s.name for s in sensors]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"sensor rig: duplicate sensor names {dup}")
        for s in sensors:
            if not getattr(s, "rate_hz", 0) > 0:
                raise ValueError(f"sensor {s.name!r}: rate_hz must be positive")
        self.sensors = list(sensors)
        self.row = row
        if row is not None:
            for s in self.sensors:
                if hasattr(s, "row"):
                    s.row = row
        self.reset(seed, variant)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_specs(
        cls, specs: list[dict[str, Any] | Any], seed: int = 0, variant: int = 0, row: int | None = None
    ) -> SensorRig:
        """Rig from sensor mappings (the YAML keys of docs/sensors.md) and/or ready sensor objects."""
        from simcore.sensors.presets import build_sensors

        dicts = [s for s in specs if isinstance(s, dict)]
        built = iter(build_sensors(dicts) if dicts else [])
        return cls([next(built) if isinstance(s, dict) else s for s in specs], seed, variant, row)

    @classmethod
    def from_preset(
        cls, name: str | os.PathLike[str], seed: int = 0, variant: int = 0, row: int | None = None,
        extra_dirs: tuple[Path, ...] = (),
    ) -> SensorRig:  # fmt: skip
        """Rig from a preset name in ``vehicles/sensors/`` (or a path to a rig YAML file)."""
        from simcore.sensors.presets import load_rig_file, preset_path

        _, sensors = load_rig_file(preset_path(name, extra_dirs))
        return cls(sensors, seed, variant, row)

    def reset(self, seed: int = 0, variant: int = 0) -> None:
        """Restart every sensor's stream (``seed``, ``variant``) and forget all readings (the static
        scene is kept)."""
        self.seed = int(seed)
        self.variant = int(variant)
        for s in self.sensors:
            if hasattr(s, "seed"):
                s.seed(generator(self.seed, self.variant, "sensor/" + s.name))
        self._tick: dict[str, int] = {}
        self._last: dict[str, SensorReading] = {}
        if not hasattr(self, "_scene"):
            self._scene: Any = None
            self._world_id: int | None = None

    # ------------------------------------------------------------------ limits
    def lidar_rays_per_s(self) -> float:
        """Rays all lidars of the rig cast per simulated second (channels x columns x rate)."""
        return float(
            sum(s.inner.n_rays * s.rate_hz for s in self.sensors if hasattr(getattr(s, "inner", None), "n_rays"))
        )

    def limit_problem(self, n_actors: int) -> str:
        """Why this rig is too much work in a scene of ``n_actors`` actors (``limits``:
        ``max_lidar_rays_per_s``, ``max_lidar_ray_tests_per_s``), or "" when it is within them."""
        lim = limits.current()
        rays = self.lidar_rays_per_s()
        if rays > lim.max_lidar_rays_per_s:
            return (
                f"the lidars cast {rays:.3g} rays per simulated second, more than the limit of "
                f"{lim.max_lidar_rays_per_s:.3g} (SIMCORE_LIMIT_MAX_LIDAR_RAYS_PER_S)"
            )
        tests = rays * max(int(n_actors), 1)
        if tests > lim.max_lidar_ray_tests_per_s:
            return (
                f"{rays:.3g} lidar rays per simulated second x {n_actors} actors = {tests:.3g} ray tests, more "
                f"than the limit of {lim.max_lidar_ray_tests_per_s:.3g} (SIMCORE_LIMIT_MAX_LIDAR_RAY_TESTS_PER_S)"
            )
        return ""

    # ------------------------------------------------------------------ stepping
    def scene(self, world: Any) -> Any:
        """The rig's Scene for ``world`` (static part built on first use)."""
        if self._scene is None or self._world_id != id(world):
            from simcore.sensors.scene import build_scene

            self._scene = build_scene(world)
            self._world_id = id(world)
        return self._scene

    def due(self, t: float) -> list[Any]:
        """Sensors that fire at time ``t`` (s)."""
        out = []
        for s in self.sensors:
            k = math.floor(t * s.rate_hz + 1e-9)
            last = self._tick.get(s.name)
            if last is None or k > last:
                out.append(s)
        return out

    def poll(self, world: Any, t: float, scene: Any = None) -> dict[str, SensorReading]:
        """Fire the sensors that are due at ``t`` and return every sensor's latest reading (a sensor
        that has never fired is absent). ``scene``: use this Scene instead of the rig's own (its
        actors are refreshed here)."""
        fire = self.due(t)
        if fire and (self.row if self.row is not None else world.ego) < 0:
            raise ValueError("sensor rig: the world has no ego vehicle; build the rig with row=<carrier row>")
        if fire:
            from simcore.sensors.scene import update_actors

            sc = scene if scene is not None else self.scene(world)
            update_actors(sc, world)
            for s in fire:
                data = s.measure(sc, world, t)
                stamp = getattr(data, "stamp", t)
                self._tick[s.name] = math.floor(t * s.rate_hz + 1e-9)
                self._last[s.name] = SensorReading(s.name, s.kind, float(stamp), data)
        return dict(self._last)
