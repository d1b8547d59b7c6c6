"""Top-down pictures drawn with Pillow: the one renderer behind ``topdown.png``, the report's
critical-moment picture and the animation frames (``simcore.report.animate``).

Input is the run as arrays: ``meta`` (``runlog.world_meta``: actor ids, kinds, sizes in m, ego
row), ``state`` (recorded rows: ``time`` (k,), ``x``, ``y``, ``yaw``, ``speed``, ``active``
(k, n), optional ``signals`` (k, groups)) and the map as ``map_view.map_layers`` polylines.
World frame: x east, y north (m); pixels: x right, y down.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from simcore._files import write_new
from simcore._types import ActorKind, SignalState
from simcore.evaluation.events import EventKind
from simcore.render.map_view import EGO_COLOUR, KIND_COLOUR, map_layers, simplify, stop_line
from simcore.units import mps_to_kph

if TYPE_CHECKING:
    from simcore.runner.results import Result
    from simcore.world import World


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as an RGB tuple (0..255)."""
    v = int(colour.lstrip("#"), 16)
    return (v >> 16 & 255, v >> 8 & 255, v & 255)


#: More actors than this: a dense scene (grey traces, ego cased and circled, view follows the ego).
DENSE_ACTORS = 60
#: Most points drawn per non-ego trace.
TRACE_POINTS = 300
#: Margin (m) around the ego's path in a dense scene's picture.
FOLLOW_MARGIN_M = 60.0
#: Most actor ids written in one picture (those nearest the ego first).
MAX_LABELS = 40
#: Side (px) of the map square of ``topdown.png``.
PICTURE_PX = 800
#: Drawing scale of ``render_run`` (1: drawn straight into a palette image, the PNG needs no colour
#: quantisation; 2: drawn in RGB at twice the size and scaled down, anti-aliased, at about three times
#: the cost: 45-70 ms more per picture, more than the smallest catalog runs take).
SUPERSAMPLE = 1
#: Colour steps of the speed scale.
SPEED_LEVELS = 24
#: Palette size of an RGB picture's PNG.
PNG_COLOURS = 128
#: Grass colour behind the roads.
BACKGROUND = (167, 196, 150)
#: Box colour per actor kind name (the Foxglove scene's colours) and of the ego.
KIND_RGB = {ActorKind(k).name.lower(): hex_rgb(c) for k, c in KIND_COLOUR.items()}
EGO_RGB = hex_rgb(EGO_COLOUR)
#: Stop-line colour per signal state (OFF: the map's plain stop-line colour).
SIGNAL_RGB = {
    SignalState.RED: (228, 26, 28),
    SignalState.AMBER: (255, 170, 0),
    SignalState.GREEN: (44, 190, 70),
    SignalState.RED_AMBER: (255, 110, 0),
}
#: Marker per event kind: (shape, colour, legend label).
EVENT_STYLE = {
    EventKind.COLLISION: ("x", (214, 39, 40), "collision"),
    EventKind.OFFROAD: ("square", (255, 127, 14), "off-road"),
    EventKind.RED_LIGHT: ("triangle", (228, 26, 28), "red light"),
    EventKind.GOAL_REACHED: ("diamond", (44, 160, 44), "goal reached"),
    EventKind.AGENT_FAILURE: ("plus", (148, 103, 189), "agent failure"),
    EventKind.BAD_CONTROL: ("plus", (140, 86, 75), "bad control"),
}
#: Viridis at ten even stops (speed colour scale of the traces, slow dark blue to fast yellow).
_VIRIDIS = np.array(
    [
        (68, 1, 84),
        (72, 40, 120),
        (62, 73, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (181, 222, 43),
        (253, 231, 37),
    ],
    dtype=np.float64,
)


def viridis(u: np.ndarray) -> np.ndarray:
    """(k, 3) uint8 colours of ``u`` in [0, 1] (clipped) on the viridis scale."""
    pos = np.clip(np.nan_to_num(np.asarray(u, dtype=np.float64)), 0.0, 1.0) * (len(_VIRIDIS) - 1)
    k = np.minimum(pos.astype(np.int64), len(_VIRIDIS) - 2)
    f = (pos - k)[:, None]
    return np.round(_VIRIDIS[k] * (1 - f) + _VIRIDIS[k + 1] * f).astype(np.uint8)


@cache
def _speed_colours() -> np.ndarray:
    """(SPEED_LEVELS, 3) colours of the speed steps."""
    return viridis((np.arange(SPEED_LEVELS) + 0.5) / SPEED_LEVELS)


@cache
def _speed_rgb() -> tuple[tuple[int, int, int], ...]:
    """The speed steps' colours as RGB tuples (what ImageDraw takes)."""
    return tuple(tuple(c) for c in _speed_colours().tolist())


@cache
def _palette() -> bytes:
    """The colours every palette picture starts with (RGB triples): grass first, then those of the map,
    actors, signals, events and the speed scale; others are added as they are drawn."""
    from simcore.render.map_view import LANE_COLOURS, LAYER_COLOURS, MARK_COLOURS

    named = [*LANE_COLOURS.values(), *LAYER_COLOURS.values(), *MARK_COLOURS.values()]
    colours = [BACKGROUND, (0, 0, 0), (255, 255, 255), EGO_RGB, TRACE_GREY, *KIND_RGB.values(), *SIGNAL_RGB.values()]
    colours += [style[1] for style in EVENT_STYLE.values()] + [hex_rgb(c) for c in named] + list(_speed_rgb())
    return b"".join(bytes(c) for c in dict.fromkeys(colours))


def palette_canvas(size: tuple[int, int]) -> Image.Image:
    """A palette picture of ``size`` px filled with BACKGROUND, its palette set up front (``_palette``): the
    colours drawn are found in it rather than added one by one (same pixels, same bytes in every process)."""
    img = Image.new("P", size, 0)
    img.putpalette(_palette())
    return img


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` px (its bitmap font where FreeType is missing)."""
    return ImageFont.load_default(size=size)


def _mask_mode(draw: ImageDraw.ImageDraw) -> str:
    """Text mask mode for ``draw``'s picture: plain ("1") on a palette picture, anti-aliased ("L") in RGB."""
    return "1" if draw.mode in ("1", "P") else "L"


@lru_cache(maxsize=2048)
def _text_mask(text: str, size: int, mode: str) -> tuple[Image.Image | None, int, int]:
    """``text`` in ``font(size)`` as a mask image (``mode`` "1" or "L") cropped to its ink, and the ink's
    offset (px) from the text position; None when blank. Pillow renders every glyph of every call anew
    (~12 µs a character), so a text drawn again (ids, legend, scale) costs nothing the second time."""
    im = Image.new(mode, ((len(text) + 2) * size, 3 * size), 0)
    ImageDraw.Draw(im).text((size, size), text, fill=255 if mode == "L" else 1, font=font(size))
    box = im.getbbox()
    if box is None:
        return None, 0, 0
    return im.crop(box), box[0] - size, box[1] - size


@lru_cache(maxsize=2048)
def _text_length(text: str, size: int, mode: str) -> float:
    return float(font(size).getlength(text, mode=mode))


def text_width(draw: ImageDraw.ImageDraw, text: str, size: int) -> float:
    """Width (px) of ``text`` in ``font(size)`` on ``draw``'s picture (its pen advance)."""
    return _text_length(text, size, _mask_mode(draw))


def draw_text(
    draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill: tuple[int, int, int], size: int
) -> None:
    """``text`` in ``font(size)`` with its top left at ``xy`` (px, rounded), as ``ImageDraw.text`` draws it
    (anti-aliased in RGB, plain on a palette picture); each text rendered once per process."""
    mask, dx, dy = _text_mask(text, size, _mask_mode(draw))
    if mask is not None:
        draw.bitmap((round(xy[0]) + dx, round(xy[1]) + dy), mask, fill=fill)


@dataclass(frozen=True)
class View:
    """World (m, x east, y north) to pixels: ``px = (x - x0) * scale``, ``py = (y1 - y) * scale``."""

    x0: float
    y1: float
    scale: float

    def xy(self, pts: np.ndarray) -> list[float]:
        """Flat ``[px0, py0, px1, py1, ...]`` of (k, 2) points, as ImageDraw takes them."""
        out = np.empty((len(pts), 2))
        out[:, 0] = (pts[:, 0] - self.x0) * self.scale
        out[:, 1] = (self.y1 - pts[:, 1]) * self.scale
        return out.ravel().tolist()

    def point(self, x: float, y: float) -> tuple[float, float]:
        """One point in pixels."""
        return (x - self.x0) * self.scale, (self.y1 - y) * self.scale

    def shifted(self, left: float, top: float) -> View:
        """The same view for a crop whose top-left corner is pixel (left, top)."""
        return View(self.x0 + left / self.scale, self.y1 - top / self.scale, self.scale)


@dataclass(frozen=True)
class PackedLayer:
    """One map layer's polylines in one array: points (N, 2) m, the end of each polyline in it, each
    polyline's bounding box (min and max corners, m), and its place in the layer's list (``index``)."""

    name: str
    rgb: tuple[int, int, int]
    fill: bool
    closed: bool
    pts: np.ndarray
    ends: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    index: np.ndarray


#: ``pack_layers`` results of the last few map-layer dicts (``map_layers`` keeps one per road network).
_PACKED: dict[int, tuple[dict, list[PackedLayer]]] = {}


def pack_layers(layers: dict[str, tuple[str, bool, list[np.ndarray]]]) -> list[PackedLayer]:
    """``map_view.map_layers`` simplified and packed for drawing, once per layers dict (topdown.png, the
    critical-moment picture and animation frames share it)."""
    hit = _PACKED.get(id(layers))
    if hit is not None and hit[0] is layers:
        return hit[1]
    out = []
    for name, (colour, closed, polys) in layers.items():
        fill = closed and name.startswith("lane:")
        index = [k for k, p in enumerate(polys) if len(p) >= (3 if fill else 2)]
        if not index:
            continue
        pts, ends = simplify([polys[k] for k in index])
        starts = ends - np.diff(ends, prepend=0)
        lo, hi = np.fmin.reduceat(pts, starts), np.fmax.reduceat(pts, starts)  # NaN points ignored
        out.append(PackedLayer(name, hex_rgb(colour), fill, closed, pts, ends, lo, hi, np.array(index)))
    while len(_PACKED) >= 8:
        del _PACKED[next(iter(_PACKED))]
    _PACKED[id(layers)] = (layers, out)
    return out


def simplified_layers(layers: dict[str, tuple[str, bool, list[np.ndarray]]]) -> dict[str, tuple[str, bool, list]]:
    """``layers`` with each polyline as ``pack_layers`` simplified it (< 1 cm off; the others as they are): the
    map of the report's viewer, a tenth of the points on straight roads, from the packing the pictures use."""
    packed = {p.name: p for p in pack_layers(layers)}
    out = {}
    for name, (colour, closed, polys) in layers.items():
        kept = list(polys)
        p = packed.get(name)
        if p is not None:
            for k, part in zip(p.index.tolist(), np.split(p.pts, p.ends[:-1]), strict=True):
                kept[k] = part
        out[name] = (colour, closed, kept)
    return out


def draw_map(
    draw: ImageDraw.ImageDraw, layers: dict[str, tuple[str, bool, list[np.ndarray]]], view: View, unit: int = 1
) -> None:
    """Lane surfaces filled, then lines (centre lines, paint, stop lines, crosswalks, objects) 0.15 m wide
    but at least ``unit`` px (the supersampling factor); only the polylines that reach into the picture."""
    width = max(unit, round(view.scale * 0.15))
    w_px, h_px = draw.im.size
    pad = width / view.scale  # m
    lo = (view.x0 - pad, view.y1 - h_px / view.scale - pad)
    hi = (view.x0 + w_px / view.scale + pad, view.y1 + pad)
    ink = inker(draw)
    for layer in pack_layers(layers):
        keep = _in_box(layer.lo, layer.hi, lo, hi)
        counts = np.diff(layer.ends, prepend=0)
        if keep.all():
            pts, counts = layer.pts, counts
        elif keep.any():
            pts, counts = layer.pts[np.repeat(keep, counts)], counts[keep]
        else:
            continue
        flat = view.xy(pts)  # one transform for the layer, then a slice per polyline
        colour = ink(layer.rgb)
        a = 0
        for b in (2 * np.cumsum(counts)).tolist():
            xy, a = flat[a:b], b
            if layer.fill:
                draw.polygon(xy, fill=colour)
            else:
                draw.line(xy + xy[:2] if layer.closed else xy, fill=colour, width=width)


def _in_box(pmin: np.ndarray, pmax: np.ndarray, lo: tuple[float, float], hi: tuple[float, float]) -> np.ndarray:
    """Which bounding boxes (rows of min and max corners, m) meet the box ``lo``..``hi`` (m): a zoomed
    picture leaves the rest of the map undrawn."""
    return (pmax[:, 0] >= lo[0]) & (pmin[:, 0] <= hi[0]) & (pmax[:, 1] >= lo[1]) & (pmin[:, 1] <= hi[1])


def draw_signals(
    draw: ImageDraw.ImageDraw, lines: list[tuple[np.ndarray, int]], states: np.ndarray | None, view: View
) -> None:
    """Signalised stop lines ((2, 2) points, signal group) in their group's state colour."""
    if states is None or not len(states):
        return
    width = max(2, round(view.scale * 0.5))
    for seg, group in lines:
        rgb = SIGNAL_RGB.get(SignalState(int(states[group])) if 0 <= states[group] <= 4 else SignalState.OFF)
        if rgb is not None:
            draw.line(view.xy(seg), fill=rgb, width=width)


#: Box corners in the box frame, in half lengths and half widths: front left, rear left, rear right, front right.
_CORNERS = np.array([(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)])


def box_corners(
    x: np.ndarray, y: np.ndarray, yaw: np.ndarray, length: np.ndarray, width: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """(n, 4, 2) corners (m) of n actors' boxes: reference point (x, y), box centre ``offset`` ahead of it,
    corners front left, rear left, rear right, front right."""
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    a, b = _CORNERS[:, 0] * (length[:, None] / 2), _CORNERS[:, 1] * (width[:, None] / 2)
    cx, cy = (x + offset * c[:, 0])[:, None], (y + offset * s[:, 0])[:, None]
    return np.stack([cx + a * c - b * s, cy + a * s + b * c], axis=2)


def draw_actors(
    draw: ImageDraw.ImageDraw,
    meta: dict[str, Any],
    state: dict[str, np.ndarray],
    row: int,
    view: View,
    *,
    labels: int = MAX_LABELS,
    unit: float = 1.0,
) -> list[tuple[float, float, float, str]]:
    """Every actor active at ``row``: its box (ego blue), a heading tick to the front, the ego ringed.
    ``unit``: pixels per output pixel (the supersampling factor), for line widths.

    Returns the id labels of the ``labels`` actors nearest the ego (all of them in small scenes)
    as (x, y, radius, text) in output pixels, for ``draw_labels`` (text is drawn at the output
    size: FreeType anti-aliases it, and it costs a quarter)."""
    ego = int(meta["ego"])
    length, width, off = (np.asarray(meta[k], dtype=np.float64) for k in ("length_m", "width_m", "center_offset_m"))
    kinds = meta["kinds"]
    act = np.flatnonzero(np.asarray(state["active"][row], dtype=bool))
    x, y, yaw = (np.asarray(state[k][row], dtype=np.float64) for k in ("x", "y", "yaw"))
    line_w = max(1, round(unit))
    order = sorted(act.tolist(), key=lambda i: i == ego)  # the ego on top
    corners = box_corners(x[order], y[order], yaw[order], length[order], width[order], off[order])
    if order:  # boxes wholly outside the picture (a zoomed view of a dense scene: most of them) left out
        w_px, h_px = draw.im.size
        px, py = (corners[..., 0] - view.x0) * view.scale, (view.y1 - corners[..., 1]) * view.scale
        seen = (px.max(axis=1) >= -line_w) & (px.min(axis=1) <= w_px + line_w)
        seen &= (py.max(axis=1) >= -line_w) & (py.min(axis=1) <= h_px + line_w)
        seen |= np.asarray(order) == ego  # its ring may reach into the picture
        order, corners = [i for i, v in zip(order, seen.tolist(), strict=True) if v], corners[seen]
    centre, front = corners.mean(axis=1), (corners[:, 0] + corners[:, 3]) / 2
    ticks = np.stack([0.6 * front + 0.4 * centre, front], axis=1)  # heading: the front half of the axis
    box_xy, tick_xy = view.xy(corners.reshape(-1, 2)), view.xy(ticks.reshape(-1, 2))
    for k, i in enumerate(order):
        fill = EGO_RGB if i == ego else KIND_RGB.get(kinds[i], KIND_RGB["vehicle"])
        draw.polygon(box_xy[8 * k : 8 * k + 8], fill=fill, outline=(0, 0, 0), width=line_w)
        draw.line(tick_xy[4 * k : 4 * k + 4], fill=(0, 0, 0), width=line_w)
        if i == ego:
            qx, qy = view.point(*centre[k])
            ring = max(12.0 * unit, 1.25 * length[i] * view.scale)
            draw.ellipse((qx - ring, qy - ring, qx + ring, qy + ring), outline=EGO_RGB, width=round(3 * unit))
    if labels <= 0 or not act.size:
        return []
    if ego >= 0 and state["active"][row][ego]:
        named = act[np.argsort(np.hypot(x[act] - x[ego], y[act] - y[ego]), kind="stable")[:labels]]
    else:
        named = act[:labels]
    out = []
    for i in named.tolist():
        qx, qy = view.point(x[i] + off[i] * math.cos(yaw[i]), y[i] + off[i] * math.sin(yaw[i]))
        r = max(length[i], width[i]) / 2 * view.scale
        out.append((qx / unit, qy / unit, r / unit + 2, str(meta["actor_ids"][i])))
    return out


def draw_labels(draw: ImageDraw.ImageDraw, labels: list[tuple[float, float, float, str]], size: int = 11) -> None:
    """Actor ids on white boxes, above right of each actor (left where the picture ends), none over another."""
    img_w, img_h = draw.im.size
    placed: list[tuple[float, float, float, float]] = []
    for x, y, r, text in labels:  # nearest the ego first: a label that would cover an earlier one is left out
        w = text_width(draw, text, size)
        tx = x + r if x + r + w < img_w else x - r - w
        box = (tx - 1, y - r - size - 1, tx + w + 1, y - r + 2)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(box)
        if box[2] < 0 or box[0] > img_w or box[3] < 0 or box[1] > img_h:
            continue  # outside the picture (it still keeps its place)
        draw.rectangle(box, fill=(255, 255, 255))
        draw_text(draw, (tx, y - r - size), text, (0, 0, 0), size)


def last_poses(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One row holding each actor at its last active row (``active``: ever active)."""
    active = np.asarray(state["active"], dtype=bool)
    k, n = active.shape
    last = k - 1 - np.argmax(active[::-1], axis=0)
    cols = np.arange(n)
    out = {f: np.asarray(state[f])[last, cols][None] for f in ("x", "y", "yaw", "speed")}
    out["active"] = np.any(active, axis=0, keepdims=True)
    return out


def _marker(draw: ImageDraw.ImageDraw, shape: str, x: float, y: float, r: float, colour: tuple[int, int, int]) -> None:
    """An event marker of radius ``r`` px: its outline in ``colour`` on a black edge (hollow, so what is
    under it stays visible)."""
    w = max(2, round(r / 4))
    if shape in ("x", "plus"):
        a = (
            (x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r)
            if shape == "x"
            else (x - r, y, x + r, y, x, y - r, x, y + r)
        )
        for ink, width in (((0, 0, 0), w + 2), (colour, w)):
            draw.line(a[:4], fill=ink, width=width)
            draw.line(a[4:], fill=ink, width=width)
        return
    if shape == "square":
        pts = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
    elif shape == "triangle":
        pts = [(x, y - r), (x + r, y + r), (x - r, y + r)]
    else:  # diamond
        pts = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
    draw.polygon(pts, outline=(0, 0, 0), width=w + 2)
    draw.polygon(pts, outline=colour, width=w)


def actor_meta(world: World) -> dict[str, Any]:
    """What ``draw_actors`` reads of the actors (the run log's meta has the same keys): ids, kind
    names, box sizes (m), ego row."""
    p = world.params
    return {
        "ego": int(world.ego),
        "actor_ids": list(world.actor_ids),
        "kinds": [ActorKind(int(k)).name.lower() for k in world.state.kind],
        "length_m": np.asarray(p["length"], dtype=np.float64),
        "width_m": np.asarray(p["width"], dtype=np.float64),
        "center_offset_m": np.asarray(p["center_offset"], dtype=np.float64),
    }


def row_at(tvec: np.ndarray, t: float) -> int:
    """Index of the recorded row nearest time ``t`` (s)."""
    k = int(np.searchsorted(tvec, t))
    if k >= len(tvec):
        return len(tvec) - 1
    if k > 0 and t - tvec[k - 1] <= tvec[k] - t:
        return k - 1
    return k


def signal_lines(world: World) -> list[tuple[np.ndarray, int]]:
    """The world's signalised stop lines: ((2, 2) points m, signal group)."""
    net = world.network
    lanes = np.flatnonzero(~np.isnan(net.lane_stop_s) & (net.lane_signal >= 0))
    return [(stop_line(net, int(lane)), int(net.lane_signal[lane])) for lane in lanes]


def _view_box(world: World, state: dict[str, np.ndarray], row: int, zoom_m: float | None) -> tuple[float, ...]:
    """(xmin, ymin, xmax, ymax) m shown: the map, the ego's path in a dense scene, or ``zoom_m`` around the ego."""
    e = world.ego
    x, y, active = state["x"], state["y"], state["active"]
    if zoom_m is not None and e >= 0 and x.shape[0]:
        ex, ey = float(x[row, e]), float(y[row, e])
        return ex - zoom_m, ey - zoom_m, ex + zoom_m, ey + zoom_m
    xmin, ymin, xmax, ymax = (float(v) for v in world.network.bounds())
    rows = np.flatnonzero(active[:, e]) if e >= 0 else np.zeros(0, np.int64)
    if x.shape[1] > DENSE_ACTORS and rows.size:
        ex, ey = x[rows, e], y[rows, e]
        half = max(float(np.ptp(ex)), float(np.ptp(ey))) / 2 + FOLLOW_MARGIN_M
        mx, my = (float(ex.min()) + float(ex.max())) / 2, (float(ey.min()) + float(ey.max())) / 2
        return mx - half, my - half, mx + half, my + half
    return xmin - 5, ymin - 5, xmax + 5, ymax + 5


#: A stroke of ``_traces``: polyline points (k, 2) m, colour number per segment (-1: not drawn), the
#: colours (RGB), width (px).
Stroke = tuple[np.ndarray, np.ndarray, tuple[tuple[int, int, int], ...], int]
#: Colour of the traces in dense scenes.
TRACE_GREY = (110, 115, 110)


def _traces(img: Image.Image, state: dict[str, np.ndarray], ego: int, view: View, vmax: float, unit: int) -> None:
    """Every actor's path: coloured by speed (grey in dense scenes); the ego's thick and cased in white,
    its start a white dot. Only the segments that can be in the picture are drawn."""
    x, y, speed, active = state["x"], state["y"], state["speed"], state["active"]
    dense = x.shape[1] > DENSE_ACTORS
    s = view.scale / unit  # px per m at the output size
    box = (view.x0, view.y1 - img.height / view.scale, view.x0 + img.width / view.scale, view.y1)  # m shown
    strokes: list[Stroke] = []
    # every other actor's trace at once: at most TRACE_POINTS of its active rows, evenly strided, one
    # array of points ordered by actor; segments between two actors are never drawn
    others = np.array([i for i in range(x.shape[1]) if i != ego], dtype=np.int64)
    act = np.asarray(active, dtype=bool)[:, others]
    count = act.sum(axis=0)
    stride = np.maximum(1, count // TRACE_POINTS)
    keep = act & ((np.cumsum(act, axis=0) - 1) % stride == 0) & (count >= 2)
    col, row = np.nonzero(keep.T)  # by actor, then by row
    if col.size >= 2:
        actor = others[col]
        pts = np.column_stack([x[row, actor], y[row, actor]])
        same = col[1:] == col[:-1]
        drawn = same & _segments_shown(pts, box, same)
        if dense:
            strokes.append((pts, np.where(drawn, 0, -1), (TRACE_GREY,), unit))
        else:
            strokes.append((pts, _speed_levels(speed[row, actor], vmax, drawn), _speed_rgb(), round(1.5 * unit)))
    rows = np.flatnonzero(active[:, ego]) if ego >= 0 else np.zeros(0, np.int64)
    start = None
    if rows.size >= 2:
        rows = rows[:: max(1, rows.size // (4 * TRACE_POINTS))]
        pts = np.column_stack([x[rows, ego], y[rows, ego]])
        shown = _segments_shown(pts, box)
        w = round(max(3.0, min(s * 1.2, 6.0)) * unit)
        strokes.append((pts, np.where(shown, 0, -1), ((255, 255, 255),), w + 3 * unit))
        strokes.append((pts, _speed_levels(speed[rows, ego], vmax, shown), _speed_rgb(), w))
        start = view.point(*pts[0])
    draw = ImageDraw.Draw(img)
    ink = inker(draw)
    for stroke in strokes:
        _stroke(draw, stroke, view, ink)
    if start is not None:
        r = 5 * unit
        draw.ellipse((start[0] - r, start[1] - r, start[0] + r, start[1] + r), fill=(255, 255, 255), outline=(0, 0, 0),
                     width=unit)  # fmt: skip


def _segments_shown(
    pts: np.ndarray, box: tuple[float, float, float, float], valid: np.ndarray | None = None
) -> np.ndarray:
    """Which segments of the polyline ``pts`` ((k, 2) m) may cross ``box`` (xmin, ymin, xmax, ymax, m): those
    with an end in the box grown by the longest segment (so a segment crossing the box is never missed);
    ``valid``: the segments that count (not those joining two actors' traces)."""
    length = np.hypot(*np.diff(pts, axis=0).T)
    if valid is not None:
        length = length[valid]
    pad = float(length.max()) + 1.0 if length.size else 1.0
    x, y = pts[:, 0], pts[:, 1]
    near = (x >= box[0] - pad) & (x <= box[2] + pad) & (y >= box[1] - pad) & (y <= box[3] + pad)
    return near[:-1] | near[1:]


def _speed_levels(speed: np.ndarray, vmax: float, shown: np.ndarray) -> np.ndarray:
    """Speed step (0..SPEED_LEVELS-1) of each segment of a trace, by the speed (m/s) at its start on
    0..``vmax``; -1 where not ``shown``."""
    v = np.where(np.isfinite(speed[:-1]), speed[:-1], 0.0)
    level = np.minimum((v / vmax * SPEED_LEVELS).astype(np.int64), SPEED_LEVELS - 1)
    level[~shown] = -1
    return level


def inker(draw: ImageDraw.ImageDraw) -> Callable[[tuple[int, int, int]], int | tuple[int, int, int]]:
    """``rgb -> ink`` for ``draw``: on a palette picture the colour's palette index, looked up once per
    colour (ImageDraw looks a colour up anew on each call, a third of the cost of a short line); else rgb."""
    palette = draw.palette
    if palette is None:
        return lambda rgb: rgb
    known: dict[tuple[int, int, int], int] = {}

    def ink(rgb: tuple[int, int, int]) -> int:
        if rgb not in known:
            known[rgb] = palette.getcolor(rgb)
        return known[rgb]

    return ink


def _stroke(draw: ImageDraw.ImageDraw, stroke: Stroke, view: View, ink: Callable[[Any], Any]) -> None:
    """A stroke: one ``line`` call per run of segments of the same colour.

    (Painting the strokes into the palette array with NumPy instead was tried: 3-5x slower than these
    few hundred calls, the wide ego line most of all.)"""
    pts, ids, colours, width = stroke
    flat = view.xy(pts)
    cuts = np.flatnonzero(np.diff(ids)) + 1
    firsts = ids[np.concatenate([[0], cuts])].tolist()
    for (a, b), c in zip(itertools.pairwise([0, *cuts.tolist(), ids.size]), firsts, strict=True):
        if c >= 0:
            draw.line(flat[2 * a : 2 * b + 2], fill=ink(colours[c]), width=width)


def render_run(
    world: World,
    result: Result,
    *,
    time: float | None = None,
    zoom_m: float | None = None,
    size_px: int = PICTURE_PX,
    title: str | None = None,
    supersample: int = SUPERSAMPLE,
) -> Image.Image:
    """The run top-down: map, signals, every trajectory coloured by speed, events, actor boxes with ids.

    Boxes show every actor at its last recorded pose, or, with ``time`` (s), every actor
    active at the recorded row nearest that time (signals in their state then). ``zoom_m``:
    only the square of half-size ``zoom_m`` (m) around the ego at that row. Dense scenes
    (more than DENSE_ACTORS actors) show the ego's path and FOLLOW_MARGIN_M around it.
    """
    meta, state = actor_meta(world), result.trajectory
    n_rows = int(state["time"].size)
    ego = world.ego
    row = row_at(state["time"], result.sim_time if time is None else time) if n_rows else 0
    box = _view_box(world, state, row, zoom_m)
    side = max(box[2] - box[0], box[3] - box[1], 1.0)
    unit = max(1, int(supersample))
    big = size_px * unit
    scale = big / side
    view = View(box[0] - (side - (box[2] - box[0])) / 2, box[3] + (side - (box[3] - box[1])) / 2, scale)
    # unit 1: a palette image (each colour drawn gets an entry; under 100 in all): no quantisation for the PNG
    img = Image.new("RGB", (big, big), BACKGROUND) if unit > 1 else palette_canvas((big, big))
    draw = ImageDraw.Draw(img)
    draw_map(draw, map_layers(world.network), view, unit)
    vmax = max(float(np.nanmax(state["speed"])) if state["speed"].size else 1.0, 1.0)
    if n_rows:
        signals = state.get("signals")
        draw_signals(draw, signal_lines(world), signals[row] if signals is not None and signals.size else None, view)
        _traces(img, state, ego, view, vmax, unit)
        poses = last_poses(state) if time is None else state
        labels = draw_actors(draw, meta, poses, 0 if time is None else row, view, unit=unit)
        seen = _events(draw, world, result, state, view, unit)  # hollow markers: the boxes stay visible
    else:
        seen, labels = {}, []
    img = img.reduce(unit) if unit > 1 else img
    draw_labels(ImageDraw.Draw(img), labels)
    return _frame(img, result, title, time, seen, vmax, view.scale / unit, state["x"].shape[1] > DENSE_ACTORS)


def _events(
    draw: ImageDraw.ImageDraw, world: World, result: Result, state: dict[str, np.ndarray], view: View, unit: int
) -> dict:
    """Event markers at the first actor's recorded position; returns the styles drawn (legend)."""
    ids = {a: i for i, a in enumerate(world.actor_ids)}
    tvec = state["time"]
    seen: dict[str, tuple[str, tuple[int, int, int]]] = {}
    for ev in result.events:
        style = EVENT_STYLE.get(ev.kind)
        if style is None or not ev.actors or ev.actors[0] not in ids:
            continue
        r = min(int(np.searchsorted(tvec, ev.time)), len(tvec) - 1)
        i = ids[ev.actors[0]]
        shape, colour, label = style
        _marker(draw, shape, *view.point(float(state["x"][r, i]), float(state["y"][r, i])), 8 * unit, colour)
        seen[label] = (shape, colour)
    return seen


def _frame(
    img: Image.Image, result: Result, title: str | None, time: float | None, seen: dict, vmax: float,
    px_per_m: float, dense: bool,
) -> Image.Image:  # fmt: skip
    """Title strip above the map; legend, speed colour scale and a scale bar below it (same mode and
    palette as ``img``)."""
    w = img.width
    head, foot = 30, 34
    out = img.crop((0, -head, w, img.height + foot))  # keeps a palette image's palette
    d = ImageDraw.Draw(out)
    d.rectangle((0, 0, w, head - 1), fill=(255, 255, 255))
    d.rectangle((0, img.height + head, w, out.height), fill=(255, 255, 255))
    verdict = "PASS" if result.passed else "FAIL"
    text = title or (
        f"{result.scenario} | {result.agent} | score {result.score:.1f} | {verdict} | "
        f"{result.termination} at {result.sim_time:.1f} s" + ("" if time is None else f" | actors at t = {time:.2f} s")
    )
    draw_text(d, (8, 7), text, (0, 0, 0), 15)
    y0 = img.height + head + 8
    # speed colour scale
    step = 160 // SPEED_LEVELS
    for j, c in enumerate(_speed_rgb()):
        d.rectangle((90 + j * step, y0 + 2, 90 + (j + 1) * step - 1, y0 + 13), fill=c)
    draw_text(d, (8, y0 + 1), "speed km/h", (0, 0, 0), 12)
    draw_text(d, (96 + 160 // SPEED_LEVELS * SPEED_LEVELS, y0 + 1), f"0 … {mps_to_kph(vmax):.0f}", (0, 0, 0), 12)
    # scale bar: a round length near 120 px
    metres = _round_length(120 / max(px_per_m, 1e-9))
    L = metres * px_per_m
    x0 = w - 20 - L
    d.line((x0, y0 + 12, x0 + L, y0 + 12), fill=(0, 0, 0), width=3)
    draw_text(d, (x0, y0 - 3), f"{metres:g} m", (0, 0, 0), 12)
    # legend
    x = 330
    entries = [("ego" + (" (ringed)" if dense else ""), "box", EGO_RGB), ("ego start", "dot", (255, 255, 255))]
    entries += [(label, shape, colour) for label, (shape, colour) in seen.items()]
    for label, shape, colour in entries:
        if x + 26 + text_width(d, label, 12) > x0 - 10:
            break
        if shape == "box":
            d.rectangle((x, y0 + 3, x + 14, y0 + 13), fill=colour, outline=(0, 0, 0))
        elif shape == "dot":
            d.ellipse((x + 2, y0 + 3, x + 12, y0 + 13), fill=colour, outline=(0, 0, 0))
        else:
            _marker(d, shape, x + 7, y0 + 8, 6, colour)
        draw_text(d, (x + 18, y0 + 1), label, (0, 0, 0), 12)
        x += 26 + int(text_width(d, label, 12))
    return out


def _round_length(m: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above ``m`` (m)."""
    k = 10 ** math.floor(math.log10(max(m, 1e-9)))
    return max(v * k for v in (1, 2, 5) if v * k <= m)


def draw_run(
    world: World,
    result: Result,
    path: Path,
    title: str | None = None,
    time: float | None = None,
    zoom_m: float | None = None,
) -> Path:
    """Write ``render_run`` as a PNG to ``path``; returns the path."""
    img = render_run(world, result, time=time, zoom_m=zoom_m, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_new(path, png_bytes(img))


def png_bytes(img: Image.Image) -> bytes:
    """A picture as a palette PNG (``render.png``): a palette image as it is, an RGB one reduced to
    PNG_COLOURS colours first (about half the time and a third of the bytes of an RGB PNG)."""
    from simcore.render.png import palette_png

    if img.mode != "P":
        img = img.quantize(PNG_COLOURS, method=Image.Quantize.FASTOCTREE)
    return palette_png(img)
