"""``simcore map show|info``: draw any road map and summarise it (OpenDRIVE, YAML roads, generated grids)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from simcore.road.errors import MapError
from simcore.yamlio.errors import ScenarioError

__all__ = ["add_map_commands", "cmd_map_info", "cmd_map_show"]


def cmd_map_info(args: argparse.Namespace) -> int:
    """``simcore map info FILE [--json]``; exit 0, or 2 on a bad map."""
    try:
        from simcore.road.maps import load_map, map_info

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
        from simcore.road.maps import load_map

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
    info = msub.add_parser("info", help="roads, lanes by type, junctions, signals, driving length")
    info.add_argument("file", help="map file (.xodr, .yaml) or grid:RxC")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_map_info)
    return mp
