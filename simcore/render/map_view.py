"""Static map pictures: any RoadNetwork (generated, YAML or OpenDRIVE) drawn top-down to a PNG."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simcore._types import ActorKind, LaneType
from simcore.road.network import RoadNetwork

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

#: Fill colour per lane type.
LANE_COLOURS = {
    LaneType.DRIVING: "#5b5f66",
    LaneType.SIDEWALK: "#d9d4c7",
    LaneType.BIKE: "#b5655b",
    LaneType.SHOULDER: "#8d8f87",
    LaneType.PARKING: "#6f7a8a",
}
#: Drawing order per lane type (sidewalks under the roadway).
_Z = {LaneType.SIDEWALK: 0, LaneType.SHOULDER: 1, LaneType.PARKING: 1, LaneType.BIKE: 1, LaneType.DRIVING: 2}


#: Box colour per actor kind (pictures, viewer, Foxglove scene); the ego is EGO_COLOUR.
KIND_COLOUR = {
    ActorKind.VEHICLE: "#e6e6e6",
    ActorKind.PEDESTRIAN: "#f2c14e",
    ActorKind.CYCLIST: "#7fc97f",
    ActorKind.STATIC: "#a0522d",
}
EGO_COLOUR = "#1f77b4"

#: Paint colour per OpenDRIVE roadMark ``color`` (``standard`` is white).
MARK_COLOURS = {
    "white": "#f2f2f2",
    "yellow": "#f2c12e",
    "red": "#d62728",
    "blue": "#3b7dd8",
    "green": "#2ca02c",
    "orange": "#ff7f0e",
    "violet": "#9467bd",
}
#: roadMark types drawn dashed (the rest solid).
_BROKEN = {"broken", "botts dots"}


def mark_lines(net: RoadNetwork) -> list[tuple[np.ndarray, bool, str]]:
    """Painted lane lines as drawn: ((k, 2) points m ENU, broken, colour name). A double line
    (``solid solid``, ``solid broken``, ...) is two lines one line width either side of its border,
    the first word on the left of the direction of the points."""
    out: list[tuple[np.ndarray, bool, str]] = []
    for i, kind in enumerate(net.mark_kinds):
        x, y = net.mark_line(i)
        if x.size < 2:
            continue
        colour = net.mark_colors[i] if net.mark_colors[i] in MARK_COLOURS else "white"
        words = kind.split()
        if len(words) == 2 and set(words) <= {"solid", "broken"}:
            dx, dy = np.gradient(x), np.gradient(y)
            norm = np.maximum(np.hypot(dx, dy), 1e-12)
            off = float(net.mark_width[i])
            for side, word in ((1.0, words[0]), (-1.0, words[1])):
                pts = np.column_stack([x - side * off * dy / norm, y + side * off * dx / norm])
                out.append((pts, word == "broken", colour))
        else:
            out.append((np.column_stack([x, y]), kind in _BROKEN, colour))
    return out


def stop_line(net: RoadNetwork, lane: int) -> np.ndarray:
    """(2, 2) ends of a lane's stop line (m, ENU): across the lane at its stop position."""
    a, b = net.lane_start[lane], net.lane_start[lane + 1]
    k = a + min(int(np.searchsorted(net.pts_s[a:b], net.lane_stop_s[lane])), b - a - 1)
    h, hw = net.pts_heading[k], net.lane_width[lane] / 2
    return np.array(
        [
            [net.pts_x[k] + hw * np.sin(h), net.pts_y[k] - hw * np.cos(h)],
            [net.pts_x[k] - hw * np.sin(h), net.pts_y[k] + hw * np.cos(h)],
        ]
    )


def lane_outline(net: RoadNetwork, lane: int) -> np.ndarray:
    """(k, 2) closed outline of one lane from its centre line and per-sample width (m, ENU)."""
    a, b = net.lane_start[lane], net.lane_start[lane + 1]
    x, y, h = net.pts_x[a:b], net.pts_y[a:b], net.pts_heading[a:b]
    hw = (net.pts_width[a:b] if net.pts_width is not None else np.full(b - a, net.lane_width[lane])) / 2
    nx, ny = -np.sin(h), np.cos(h)
    left = np.column_stack([x + hw * nx, y + hw * ny])
    right = np.column_stack([x - hw * nx, y - hw * ny])
    return np.vstack([left, right[::-1]])


def draw_network(ax: plt.Axes, net: RoadNetwork, *, arrows: bool = True) -> None:
    """Lane surfaces by type, driving centre lines, stop lines, crosswalks, objects and junction names
    (matplotlib, for ``simcore map``; run pictures are drawn with Pillow, ``simcore.render.topdown``)."""
    from matplotlib.collections import LineCollection, PolyCollection

    for lane_type, colour in LANE_COLOURS.items():
        lanes = np.flatnonzero(net.lane_type == lane_type)
        if lanes.size:
            polys = [lane_outline(net, int(i)) for i in lanes]
            ax.add_collection(PolyCollection(polys, facecolors=colour, edgecolors="none", zorder=_Z[lane_type]))
    driving = np.flatnonzero(net.lane_type == LaneType.DRIVING)
    segs = [np.column_stack(net.lane_points(int(i))[:2]) for i in driving]
    ax.add_collection(LineCollection(segs, colors="#c9ced6", linewidths=0.3, linestyles=(0, (4, 6)), zorder=3))
    if arrows and driving.size:
        mid = [(net.lane_start[i] + net.lane_start[i + 1]) // 2 for i in driving]
        h = net.pts_heading[mid]
        ax.quiver(
            net.pts_x[mid], net.pts_y[mid], np.cos(h), np.sin(h), color="#f0f0f0", scale=60, width=0.002, zorder=4
        )
    for lane in np.flatnonzero(~np.isnan(net.lane_stop_s)):
        seg = stop_line(net, int(lane))
        colour = "#e41a1c" if net.lane_signal[lane] >= 0 else "white"
        ax.plot(seg[:, 0], seg[:, 1], color=colour, lw=1.2, zorder=5)
    groups: dict[tuple[bool, str], list[np.ndarray]] = {}
    for pts, broken, colour in mark_lines(net):
        groups.setdefault((broken, colour), []).append(pts)
    for (broken, colour), lines in groups.items():
        style = (0, (3, 4)) if broken else "solid"
        lc = LineCollection(lines, colors=MARK_COLOURS[colour], linewidths=0.6, linestyles=style, zorder=3.5)
        ax.add_collection(lc)
    if len(net.cw_names):
        polys = [np.column_stack([net.cw_x[c], net.cw_y[c]]) for c in range(len(net.cw_names))]
        ax.add_collection(PolyCollection(polys, facecolors="none", edgecolors="white", hatch="||", zorder=4))
    if len(net.obj_names):
        polys = [np.column_stack([net.obj_x[a:b], net.obj_y[a:b]]) for a, b in itertools.pairwise(net.obj_start)]
        solid = net.solid_objects()
        marks = [p for p, s in zip(polys, solid, strict=True) if not s]
        polys = [p for p, s in zip(polys, solid, strict=True) if s]
        ax.add_collection(PolyCollection(polys, facecolors="#a0522d", edgecolors="#5a2e16", alpha=0.6, zorder=1))
        # Markings (stop lines, arrows, hatched areas) on top of the asphalt, as paint.
        ax.add_collection(PolyCollection(marks, facecolors="#f2f2f2", edgecolors="none", alpha=0.8, zorder=3))
    for name, x, y in zip(net.junction_names, net.junction_x, net.junction_y, strict=True):
        ax.annotate(name, (x, y), fontsize=5, color="#ffe08a", ha="center", zorder=6)


def render_map(
    net: RoadNetwork, path: str | Path, *, title: str | None = None, size_in: float = 9.0, dpi: int = 130
) -> Path:
    """Write a top-down PNG of the whole network to ``path``; returns the path."""
    from simcore.render.mpl import plt

    fig, ax = plt.subplots(figsize=(size_in, size_in), dpi=dpi)
    try:
        ax.set_facecolor("#a7c496")
        draw_network(ax, net)
        xmin, ymin, xmax, ymax = net.bounds()
        pad = 0.03 * max(xmax - xmin, ymax - ymin, 1.0)
        ax.set_xlim(xmin - pad, xmax + pad)
        ax.set_ylim(ymin - pad, ymax + pad)
        ax.set_aspect("equal")
        ax.set_xlabel("x east (m)")
        ax.set_ylabel("y north (m)")
        if title:
            ax.set_title(title)
        out = Path(path)
        fig.savefig(out, bbox_inches="tight")
    finally:
        plt.close(fig)
    return out


#: Colour of the map layers that are not lane surfaces.
LAYER_COLOURS = {
    "centre": "#c9ced6",
    "stop": "#e41a1c",
    "stop_sign": "#ffffff",
    "crosswalk": "#ffffff",
    "object": "#a0522d",
}


def map_layers(net: RoadNetwork) -> dict[str, tuple[str, bool, list[np.ndarray]]]:
    """The map as polylines per layer: name -> (colour, closed, [(k, 2) points, m ENU]); computed once
    per network (the same dict again after that: do not modify it).

    Layers: ``lane:<type>`` surface outlines, ``centre`` driving centre lines, ``stop`` and
    ``stop_sign`` stop lines (signalised or not), ``mark:<solid|broken>:<colour>`` painted lane
    lines (OpenDRIVE roadMarks), ``crosswalk`` and ``object`` outlines. The
    one geometry behind the run log's map entities, the browser viewer and the top-down pictures.
    """
    cache = net.memo("_map_view")  # a run's writers (run log, viewer, pictures) share one computation
    if "layers" not in cache:
        cache["layers"] = _compute_layers(net)
    return cache["layers"]


def _compute_layers(net: RoadNetwork) -> dict[str, tuple[str, bool, list[np.ndarray]]]:
    """``map_layers`` without the cache."""
    out: dict[str, tuple[str, bool, list[np.ndarray]]] = {}
    for lane_type, colour in sorted(LANE_COLOURS.items(), key=lambda kv: _Z[kv[0]]):
        lanes = np.flatnonzero(net.lane_type == lane_type)
        if lanes.size:
            out[f"lane:{LaneType(lane_type).name.lower()}"] = (colour, True, [lane_outline(net, int(i)) for i in lanes])
    driving = np.flatnonzero(net.lane_type == LaneType.DRIVING)
    if driving.size:
        out["centre"] = (
            LAYER_COLOURS["centre"],
            False,
            [np.column_stack(net.lane_points(int(i))[:2]) for i in driving],
        )
    stops: dict[str, list[np.ndarray]] = {"stop": [], "stop_sign": []}
    for lane in np.flatnonzero(~np.isnan(net.lane_stop_s)):
        seg = stop_line(net, int(lane))
        stops["stop" if net.lane_signal[lane] >= 0 else "stop_sign"].append(seg)
    for name, segs in stops.items():
        if segs:
            out[name] = (LAYER_COLOURS[name], False, segs)
    for pts, broken, colour in mark_lines(net):
        name = f"mark:{'broken' if broken else 'solid'}:{colour}"
        out.setdefault(name, (MARK_COLOURS[colour], False, []))[2].append(pts)
    if len(net.cw_names):
        cws = [np.column_stack([net.cw_x[c], net.cw_y[c]]) for c in range(len(net.cw_names))]
        out["crosswalk"] = (LAYER_COLOURS["crosswalk"], True, cws)
    if len(net.obj_names):
        objs = [np.column_stack([net.obj_x[a:b], net.obj_y[a:b]]) for a, b in itertools.pairwise(net.obj_start)]
        out["object"] = (LAYER_COLOURS["object"], True, objs)
    return out


#: Map simplification (``simplify``, through ``topdown.pack_layers``: the pictures, the report viewer's map): a
#: polyline point is left out while the turns since the last kept point add up to less than MAP_TURN_RAD
#: and the path since it is shorter than MAP_SPAN_M, so the polyline moves less than
#: MAP_SPAN_M * MAP_TURN_RAD / 4 (~1 cm) from the drawn one; mostly the points along straight lane
#: borders. Polygon fills cost ImageDraw about their number of edges.
MAP_TURN_RAD, MAP_SPAN_M = 0.002, 25.0


def simplify(polys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``polys`` ((k, 2) m each, at least 2 points) as one array of the points kept (first and last of
    each always, see MAP_TURN_RAD) and the end of each polyline in it."""
    lens = np.array([len(p) for p in polys])
    ends = np.cumsum(lens)
    starts = ends - lens
    pts = np.concatenate(polys)
    dx, dy = np.diff(pts[:, 0]), np.diff(pts[:, 1])  # across polylines too: those points are kept anyway
    seg = np.sqrt(dx * dx + dy * dy)
    # the turn at points 1 .. N-2 as the sine of the angle between the segments (the angle itself to within
    # 4 % up to 0.5 rad; arctan2 took most of the time); a turn over 90 degrees or at a repeated point: pi
    cross = np.abs(dx[:-1] * dy[1:] - dy[:-1] * dx[1:])
    norm = seg[:-1] * seg[1:]
    turn = np.where(dx[:-1] * dx[1:] + dy[:-1] * dy[1:] > 0.0, cross / np.where(norm > 0.0, norm, 1.0), np.pi)
    turned = np.floor(np.concatenate([[0.0], np.cumsum(turn), [np.inf]]) / MAP_TURN_RAD)
    walked = np.floor(np.concatenate([[0.0], np.cumsum(seg)]) / MAP_SPAN_M)
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = (turned[1:] != turned[:-1]) | (walked[1:] != walked[:-1])
    keep[starts] = keep[ends - 1] = True
    return pts[keep], np.cumsum(np.add.reduceat(keep, starts))
