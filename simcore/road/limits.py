"""Map-size limits: defined in ``simcore.limits`` (the one place for every resource limit, see
docs/limits.md); this module keeps the names the road package and older code import."""

from __future__ import annotations

from simcore.limits import MAP_ENV_VAR as ENV_VAR
from simcore.limits import MapLimits, map_limits

__all__ = ["ENV_VAR", "MapLimits", "map_limits"]
