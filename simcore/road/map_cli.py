"""``simcore map show|info``: draw any road map and summarise it (OpenDRIVE, YAML roads, generated grids)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from simcore._types import LaneType
from simcore.road.errors import MapError
from simcore.road.network import RoadNetwork
from simcore.scenario.errors import ScenarioError

__all__ = ["add_map_commands", "cmd_map_info", "cmd_map_show", "load_map", "map_info"]

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


def cmd_map_info(args: argparse.Namespace) -> int:
    """``simcore map info FILE [--json]``; exit 0, or 2 on a bad map."""
    try:
        info = map_info(load_map(args.file))
    except (MapError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"file": args.file, **info}, indent=2))
        return 0
    print(f"map: {args.file}")
    for key, value in info.items():
        if key == "lanes_by_type":
            print("lanes by type: " + ", ".join(f"{k} {v}" for k, v in value.items() if v))
        elif key == "warnings":
            print(f"warnings: {len(value)}")
            for w in value:
                print(f"  warning: {w}")
        else:
            print(f"{key.replace('_', ' ')}: {value}")
    return 0


def cmd_map_show(args: argparse.Namespace) -> int:
    """``simcore map show FILE --out map.png``; exit 0, or 2 on a bad map."""
    try:
        net = load_map(args.file)
    except (MapError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from simcore.render.map_view import render_map

    out = render_map(net, args.out, title=args.title or Path(args.file).name)
    if not args.quiet:
        print(f"wrote {out}")
    return 0


def add_map_commands(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``map show`` and ``map info`` to the ``simcore`` sub-command parsers; returns the ``map`` parser."""
    mp = subparsers.add_parser("map", help="draw or summarise a road map (.xodr, .yaml, grid:RxC); exit 2 if invalid")
    msub = mp.add_subparsers(dest="map_command", required=True)
    show = msub.add_parser("show", help="draw the map to a PNG")
    show.add_argument("file", help="map file (.xodr, .yaml) or grid:RxC")
    show.add_argument("--out", default="map.png", metavar="PNG", help="output image (default map.png)")
    show.add_argument("--title", default=None)
    show.add_argument("--quiet", action="store_true")
    show.set_defaults(func=cmd_map_show)
    info = msub.add_parser("info", help="roads, lanes by type, junctions, signals, driving length, load warnings")
    info.add_argument("file", help="map file (.xodr, .yaml) or grid:RxC")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_map_info)
    return mp
