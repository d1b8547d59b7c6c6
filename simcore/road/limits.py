"""Resource bounds for loading road maps: the one place that says how big a map may be.

Every bound is checked *before* the work it guards (file size before reading, road and geometry
lengths from the attributes before any table is built, lane offsets and the summed centre-line
length before resampling), so a hostile or broken file is refused in well under a second and
never allocates more than the bound allows.

Override for one process with the environment variable ``SIMCORE_MAP_LIMITS``, a comma-separated
list of ``name=value`` pairs using the field names below, e.g.
``SIMCORE_MAP_LIMITS="max_total_lane_length_m=5e7,max_roads=200000"``; or pass a
:class:`MapLimits` to ``load_opendrive(..., limits=...)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

__all__ = ["ENV_VAR", "MapLimits", "map_limits"]

#: Environment variable holding overrides (``name=value,...``).
ENV_VAR = "SIMCORE_MAP_LIMITS"


@dataclass(frozen=True)
class MapLimits:
    """Bounds on a map's size (all checked before the corresponding work).

    Attributes:
        max_file_bytes: largest map file read (bytes).
        max_roads: most ``<road>`` elements.
        max_road_length_m: longest road, and longest single geometry (m).
        max_lateral_offset_m: largest distance of any lane border from the reference line (m);
            real maps stay within a few tens of metres.
        max_total_lane_length_m: summed length of all lane centre lines (m), checked on the
            dense samples before the network is resampled.
        max_points: most centre-line samples the resampled network may hold.
    """

    max_file_bytes: int = 100 * 1024 * 1024
    max_roads: int = 100_000
    max_road_length_m: float = 200_000.0
    max_lateral_offset_m: float = 1_000.0
    max_total_lane_length_m: float = 20_000_000.0
    max_points: int = 50_000_000


def map_limits(env: dict[str, str] | None = None) -> MapLimits:
    """The limits in force: defaults, overridden by ``SIMCORE_MAP_LIMITS`` (see the module docstring).

    Raises:
        ValueError: an override names an unknown limit or gives a value that is not a positive number.
    """
    raw = (os.environ if env is None else env).get(ENV_VAR, "").strip()
    base = MapLimits()
    if not raw:
        return base
    known = {f.name: f.type for f in fields(MapLimits)}
    changes: dict[str, float | int] = {}
    for item in raw.split(","):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in known:
            raise ValueError(f"{ENV_VAR}: unknown limit {name!r}; known: {', '.join(sorted(known))}")
        try:
            num = float(value)
        except ValueError:
            raise ValueError(f"{ENV_VAR}: {name} must be a number, got {value.strip()!r}") from None
        if not num > 0 or num == float("inf"):
            raise ValueError(f"{ENV_VAR}: {name} must be positive and finite, got {value.strip()!r}")
        changes[name] = int(num) if known[name] in ("int", int) else num
    return replace(base, **changes)  # type: ignore[arg-type]  # each value has its field's type
