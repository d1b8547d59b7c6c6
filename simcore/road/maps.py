"""Load any road map by name (OpenDRIVE, YAML roads, generated grids) and summarise it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from simcore._types import LaneType
from simcore.road.errors import MapError
from simcore.road.network import RoadNetwork

__all__ = ["load_map", "map_info"]

_GRID = re.compile(r"^grid:(\d+)x(\d+)$")


def load_map(source: str) -> RoadNetwork:
    """Load a map by file type: ``.xodr`` (OpenDRIVE), ``.yaml``/``.yml`` (YAML roads) or ``grid:RxC``
    (``generate.generate_city``: the generated grid with buildings).

    Raises:
        MapError: unreadable, unknown or invalid map (located by file, road and lane).
        ScenarioError: invalid YAML roads (located by file, line and column).
    """
    m = _GRID.match(source)
    if m:
        from simcore.road.generate import generate_city

        rows, cols = int(m.group(1)), int(m.group(2))
        if not (1 <= rows <= 50 and 1 <= cols <= 50):
            raise MapError(source, "a generated grid needs 1..50 rows and columns")
        return generate_city(rows, cols)
    suffix = Path(source).suffix.lower()
    if suffix == ".xodr":
        from simcore.road.opendrive import load_opendrive

        return load_opendrive(source)
    if suffix in (".yaml", ".yml"):
        try:
            from simcore.road.yaml_roads import load_yaml_roads
        except ImportError:  # pragma: no cover - YAML roads not available in this build
            raise MapError(source, "YAML road maps are not supported in this build") from None
        return load_yaml_roads(source)
    raise MapError(source, f"unknown map type {suffix or '(no suffix)'!r}; expected .xodr, .yaml or grid:RxC")


def map_info(net: RoadNetwork) -> dict[str, Any]:
    """Summary of a network: lane counts by type, junctions, signals, crosswalks, driving length (m),
    and the defects the loader tolerated (``warnings``)."""
    roads = {name.split(":")[0] for name in net.lane_names if name.count(":") == 2}
    driving = net.driving_mask()
    xmin, ymin, xmax, ymax = net.bounds()
    return {
        "roads": len(roads) if roads else None,
        "lanes": net.n_lanes,
        "lanes_by_type": {t.name.lower(): int(np.sum(net.lane_type == t)) for t in LaneType},
        "junctions": len(net.junction_names),
        "junction_lanes": int(np.sum(net.lane_junction >= 0)),
        "signal_groups": net.n_signals,
        "stop_lines": int(np.sum(~np.isnan(net.lane_stop_s))),
        "signalised_stop_lines": int(np.sum(net.lane_signal >= 0)),
        "crosswalks": len(net.cw_names),
        "objects": len(net.obj_names),
        "lane_links": len(net.succ_idx),
        "driving_length_m": round(float(net.lane_length[driving].sum()), 3),
        "bounds_m": [round(v, 3) for v in (xmin, ymin, xmax, ymax)],
        "warnings": list(net.warnings),
    }


