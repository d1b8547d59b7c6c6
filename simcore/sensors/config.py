"""Shared pieces of the lidar and radar configurations: error naming, the range/rate checks and
reading plain data (YAML) with a ``mount`` given as {x, y, z (m), roll_deg, pitch_deg, yaw_deg}."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, ClassVar

from simcore.sensors.mount import Mount

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

    def _bad(self, key: str, msg: str) -> SensorConfigError:
        """The config's error for ``SECTION.key``."""
        err = self.ERROR(f"{self.SECTION}.{key}: {msg}")
        err.key = key
        return err

    def _check_range_rate(self) -> None:
        """``0 <= range_min_m < range_max_m < inf`` (m) and ``rate_hz > 0``."""
        lo, hi = self.range_min_m, self.range_max_m  # type: ignore[attr-defined]
        if not 0 <= lo < hi < math.inf:
            raise self._bad("range_min_m/range_max_m", f"need 0 <= min < max < inf, got {lo}, {hi}")
        if not self.rate_hz > 0:  # type: ignore[attr-defined]
            raise self._bad("rate_hz", f"must be > 0, got {self.rate_hz}")  # type: ignore[attr-defined]

    @classmethod
    def _checked_data(cls, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``data`` with unknown keys rejected and a ``mount`` dict turned into a ``Mount``."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise cls.ERROR(f"{cls.SECTION}: unknown key(s) {unknown}; known: {sorted(known)}")
        data = dict(data)
        if isinstance(data.get("mount"), dict):
            m = dict(data["mount"])
            if set(m) - MOUNT_KEYS:
                raise cls.ERROR(
                    f"{cls.SECTION}.mount: unknown key(s) {sorted(set(m) - MOUNT_KEYS)}; known: {sorted(MOUNT_KEYS)}"
                )
            data["mount"] = Mount.from_deg(**{k: float(v) for k, v in m.items()})
        return data
