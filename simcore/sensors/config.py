"""Shared pieces of the lidar and radar configurations: error naming, the range/rate checks and
reading plain data (YAML) with a ``mount`` given as {x, y, z (m), roll_deg, pitch_deg, yaw_deg}.

The configs hold SI values (angles in rad). Plain data names an angle field ``<field>_deg`` and
gives it in degrees (``DEG_FIELDS``); ``_checked_data`` converts it, once, with ``simcore.units``."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, ClassVar

from simcore.sensors.mount import Mount
from simcore.units import deg_to_rad, rad_to_deg

#: Keys of a mount given as plain data (metres, degrees in the vehicle frame).
MOUNT_KEYS = frozenset({"x", "y", "z", "roll_deg", "pitch_deg", "yaw_deg"})


class SensorConfigError(ValueError):
    """A sensor configuration value is out of range; ``key`` names the config key(s) at fault
    (``a/b`` for a pair), so a rig file's error can point at that key's line."""

    key: str | None = None


class SensorConfigBase:
    """Mixin for a frozen sensor-config dataclass with ``range_min_m``, ``range_max_m``, ``rate_hz``
    and ``mount`` fields. Subclasses set ``SECTION`` (the name in error messages) and ``ERROR``."""

    SECTION: ClassVar[str] = "sensor"
    ERROR: ClassVar[type[SensorConfigError]] = SensorConfigError
    #: Angle fields (rad; a number or a tuple of numbers) that plain data gives in degrees as ``<field>_deg``.
    DEG_FIELDS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def data_key(cls, name: str) -> str:
        """The plain-data (YAML) key of field ``name``: ``name + "_deg"`` for an angle field."""
        return f"{name}_deg" if name in cls.DEG_FIELDS else name

    def _bad(self, key: str, msg: str) -> SensorConfigError:
        """The config's error for field(s) ``key`` (``a/b`` for a pair), named by their plain-data keys."""
        key = "/".join(self.data_key(k) for k in key.split("/"))
        err = self.ERROR(f"{self.SECTION}.{key}: {msg}")
        err.key = key
        return err

    def _deg(self, name: str) -> str:
        """Field ``name`` as its plain data gives it (an angle field in degrees), for an error message."""
        v = getattr(self, name)
        if name not in self.DEG_FIELDS:
            return f"{v}"
        return f"{[float(f'{rad_to_deg(x):.12g}') for x in v]}" if isinstance(v, tuple) else f"{rad_to_deg(v):.12g}"

    def _check_range_rate(self) -> None:
        """``0 <= range_min_m < range_max_m < inf`` (m) and ``rate_hz > 0``."""
        lo, hi = self.range_min_m, self.range_max_m  # type: ignore[attr-defined]
        if not 0 <= lo < hi < math.inf:
            raise self._bad("range_min_m/range_max_m", f"need 0 <= min < max < inf, got {lo}, {hi}")
        if not self.rate_hz > 0:  # type: ignore[attr-defined]
            raise self._bad("rate_hz", f"must be > 0, got {self.rate_hz}")  # type: ignore[attr-defined]

    @classmethod
    def _checked_data(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The config's keyword arguments from plain data: unknown keys rejected, ``<field>_deg``
        angles converted to the field in rad, a ``mount`` dict turned into a ``Mount``."""
        known = {cls.data_key(f.name) for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise cls.ERROR(f"{cls.SECTION}: unknown key(s) {unknown}; known: {sorted(known)}")
        data = dict(data)
        defaults = {f.name: f.default for f in fields(cls)}  # type: ignore[arg-type]
        for name in cls.DEG_FIELDS:
            key = cls.data_key(name)
            if key not in data:
                continue
            v = data.pop(key)
            many = isinstance(defaults[name], tuple)
            try:
                if many and not isinstance(v, list | tuple):
                    raise TypeError(v)
                data[name] = tuple(deg_to_rad(float(x)) for x in v) if many else deg_to_rad(float(v))
            except (TypeError, ValueError) as exc:
                what = "a list of numbers" if many else "a number"
                err = cls.ERROR(f"{cls.SECTION}.{key}: expected {what} (deg), got {v!r}")
                err.key = key
                raise err from exc
        if isinstance(data.get("mount"), dict):
            m = dict(data["mount"])
            if set(m) - MOUNT_KEYS:
                raise cls.ERROR(
                    f"{cls.SECTION}.mount: unknown key(s) {sorted(set(m) - MOUNT_KEYS)}; known: {sorted(MOUNT_KEYS)}"
                )
            data["mount"] = Mount.from_deg(**{k: float(v) for k, v in m.items()})
        return data
