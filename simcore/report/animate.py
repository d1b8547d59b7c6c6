"""Top-down animations of a run log: frames drawn with Pillow over a map picture rendered once,
the ego highlighted (and followed in dense or large scenes), written to GIF (Pillow) or MP4
(optional ``imageio-ffmpeg``, the ``video`` extra)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from simcore.render.topdown import DENSE_ACTORS
from simcore.report.runlog import EGO_COLOUR, RunLog

#: Frame size (px) and the most frames an animation has (evenly strided over the run).
FRAME_W, FRAME_H, MAX_FRAMES = 640, 480, 300
#: Map extent (m) above which the animation follows the ego instead of showing the whole map.
FOLLOW_EXTENT_M = 300.0
#: Scale (px per m) of a followed view.
FOLLOW_PX_PER_M = 4.0
_BACKGROUND = (167, 196, 150)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    v = int(hex_colour.lstrip("#"), 16)
    return (v >> 16 & 255, v >> 8 & 255, v & 255)


def frames(log: RunLog, max_frames: int = MAX_FRAMES) -> Iterator[Image.Image]:
    """RGB frames of ``log``: map, actor boxes (ego blue with a ring), time stamp."""
    meta, st = log.meta, log.state
    xmin, ymin, xmax, ymax = meta["map_bounds_m"]
    n_rows, ego = int(st["time"].size), int(meta["ego"])
    extent = max(xmax - xmin, ymax - ymin, 1.0)
    follow = ego >= 0 and (extent > FOLLOW_EXTENT_M or len(meta["actor_ids"]) > DENSE_ACTORS)
    scale = min(FOLLOW_PX_PER_M, 6000 / extent) if follow else min(FRAME_W, FRAME_H) / (extent + 10)
    pad = 10.0 if not follow else max(FRAME_W, FRAME_H) / scale
    x0, y1 = xmin - pad, ymax + pad
    bg = Image.new(
        "RGB", (math.ceil((xmax - xmin + 2 * pad) * scale), math.ceil((ymax - ymin + 2 * pad) * scale)), _BACKGROUND
    )
    draw = ImageDraw.Draw(bg)

    def px(pts: np.ndarray) -> list[tuple[float, float]]:
        return [((float(a) - x0) * scale, (y1 - float(b)) * scale) for a, b in pts]

    for name, (colour, closed, polys) in log.map_layers.items():
        for p in polys:
            if closed and name.startswith("lane:"):
                draw.polygon(px(p), fill=_rgb(colour))
            elif len(p) >= 2:
                draw.line(px(np.vstack([p, p[:1]]) if closed else p), fill=_rgb(colour), width=1)
    length, width, off = (np.asarray(meta[k]) for k in ("length_m", "width_m", "center_offset_m"))
    kinds = meta["kinds"]
    idx = np.unique(np.linspace(0, n_rows - 1, min(max_frames, n_rows)).round().astype(np.int64))
    for r in idx:
        if follow:
            ex, ey = (float(st["x"][r, ego]) - x0) * scale, (y1 - float(st["y"][r, ego])) * scale
            left, top = int(ex - FRAME_W / 2), int(ey - FRAME_H / 2)
        else:
            left, top = 0, 0
        img = bg.crop((left, top, left + (FRAME_W if follow else bg.width), top + (FRAME_H if follow else bg.height)))
        d = ImageDraw.Draw(img)
        for i in np.flatnonzero(st["active"][r]):
            c, s = math.cos(st["yaw"][r, i]), math.sin(st["yaw"][r, i])
            cx, cy = st["x"][r, i] + off[i] * c, st["y"][r, i] + off[i] * s
            hl, hw = length[i] / 2, width[i] / 2
            corners = [
                (cx + a * c - b * s, cy + a * s + b * c) for a, b in ((hl, hw), (-hl, hw), (-hl, -hw), (hl, -hw))
            ]
            poly = [((a - x0) * scale - left, (y1 - b) * scale - top) for a, b in corners]
            if i == ego:
                d.polygon(poly, fill=_rgb(EGO_COLOUR), outline=(0, 0, 0))
                qx, qy = (cx - x0) * scale - left, (y1 - cy) * scale - top
                ring = max(12.0, 2.5 * hl * scale)
                d.ellipse((qx - ring, qy - ring, qx + ring, qy + ring), outline=_rgb(EGO_COLOUR), width=3)
            else:
                fill = (242, 193, 78) if kinds[i] == "pedestrian" else (230, 230, 230)
                d.polygon(poly, fill=fill, outline=(0, 0, 0))
        d.rectangle((0, 0, 130, 18), fill=(255, 255, 255))
        d.text((4, 3), f"t = {float(st['time'][r]):7.2f} s", fill=(0, 0, 0))
        yield img


def write_gif(log: RunLog, path: Path, fps: float = 10.0, max_frames: int = MAX_FRAMES) -> Path:
    """Write the animation as a looping GIF (``fps`` frames per second of playback)."""
    imgs = list(frames(log, max_frames))
    if not imgs:
        raise ValueError("the log has no recorded rows to animate")
    path.parent.mkdir(parents=True, exist_ok=True)
    pal = [im.convert("P", palette=Image.Palette.ADAPTIVE, colors=64) for im in imgs]
    pal[0].save(path, save_all=True, append_images=pal[1:], duration=round(1000 / fps), loop=0, optimize=False)
    return path


def write_mp4(log: RunLog, path: Path, fps: float = 10.0, max_frames: int = MAX_FRAMES) -> Path:
    """Write the animation as H.264 MP4 through ``imageio-ffmpeg`` (``pip install simcore[video]``)."""
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found]
    except ImportError:
        raise ValueError("MP4 needs imageio-ffmpeg: pip install 'simcore[video]'") from None
    it = frames(log, max_frames)
    first = next(it, None)
    if first is None:
        raise ValueError("the log has no recorded rows to animate")
    w, h = first.width - first.width % 2, first.height - first.height % 2  # yuv420p needs even sizes
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, macro_block_size=1)
    writer.send(None)
    for im in itertools.chain([first], it):
        writer.send(np.ascontiguousarray(np.asarray(im)[:h, :w]))
    writer.close()
    return path
