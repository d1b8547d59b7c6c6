"""Top-down animations of a run log: frames drawn with Pillow over a map picture rendered once,
actor ids and headings, the ego highlighted (and followed in dense or large scenes), written to GIF (Pillow) or MP4
(optional ``imageio-ffmpeg``, the ``video`` extra)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from simcore.render.topdown import (
    BACKGROUND,
    DENSE_ACTORS,
    MAX_LABELS,
    View,
    draw_actors,
    draw_labels,
    draw_map,
    draw_signals,
    draw_text,
)
from simcore.report.runlog import RunLog

#: Frame size (px) and the most frames an animation has (evenly strided over the run).
FRAME_W, FRAME_H, MAX_FRAMES = 640, 480, 300
#: Map extent (m) above which the animation follows the ego instead of showing the whole map.
FOLLOW_EXTENT_M = 300.0
#: Scale (px per m) of a followed view.
FOLLOW_PX_PER_M = 4.0


def frames(
    log: RunLog,
    max_frames: int = MAX_FRAMES,
    signal_lines: list[tuple[np.ndarray, int]] | None = None,
    labels: int = MAX_LABELS,
) -> Iterator[Image.Image]:
    """RGB frames of ``log`` (``simcore.render.topdown``'s renderer): map, actor boxes with heading ticks
    and ids (ego blue with a ring), time stamp. ``signal_lines``: signalised stop lines ((2, 2) m,
    group) drawn in their group's state per frame (``topdown.signal_lines(world)``); ``labels``: how
    many actor ids to write (nearest the ego first)."""
    meta, st = log.meta, log.state
    xmin, ymin, xmax, ymax = meta["map_bounds_m"]
    n_rows, ego = int(st["time"].size), int(meta["ego"])
    extent = max(xmax - xmin, ymax - ymin, 1.0)
    follow = ego >= 0 and (extent > FOLLOW_EXTENT_M or len(meta["actor_ids"]) > DENSE_ACTORS)
    scale = min(FOLLOW_PX_PER_M, 6000 / extent) if follow else min(FRAME_W, FRAME_H) / (extent + 10)
    pad = 10.0 if not follow else max(FRAME_W, FRAME_H) / scale
    view = View(xmin - pad, ymax + pad, scale)
    bg = Image.new(
        "RGB", (math.ceil((xmax - xmin + 2 * pad) * scale), math.ceil((ymax - ymin + 2 * pad) * scale)), BACKGROUND
    )
    draw_map(ImageDraw.Draw(bg), log.map_layers, view)
    signals = st.get("signals")
    idx = np.unique(np.linspace(0, n_rows - 1, min(max_frames, n_rows)).round().astype(np.int64))
    for r in idx:
        if follow:
            ex, ey = view.point(float(st["x"][r, ego]), float(st["y"][r, ego]))
            left, top = int(ex - FRAME_W / 2), int(ey - FRAME_H / 2)
        else:
            left, top = 0, 0
        img = bg.crop((left, top, left + (FRAME_W if follow else bg.width), top + (FRAME_H if follow else bg.height)))
        d = ImageDraw.Draw(img)
        here = view.shifted(left, top)
        if signal_lines and signals is not None and signals.size:
            draw_signals(d, signal_lines, signals[r], here)
        draw_labels(d, draw_actors(d, meta, st, int(r), here, labels=labels))
        d.rectangle((0, 0, 130, 18), fill=(255, 255, 255))
        draw_text(d, (4, 3), f"t = {float(st['time'][r]):7.2f} s", (0, 0, 0), 12)
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
