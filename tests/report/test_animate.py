"""Top-down animation of a run log: one GIF frame per row, the ego's box drawn in the ego colour
where the map-to-pixel transform puts it (computed by hand), other actors in theirs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from simcore.report.animate import write_gif, write_mp4
from simcore.report.runlog import EGO_COLOUR, RunLog


def synthetic_log(rows: int = 5) -> RunLog:
    """Two 4 x 2 m cars on a 100 x 100 m map; the ego drives east at 10 m/s from (20, 50)."""
    t = np.arange(rows) * 0.5
    x = np.column_stack([20 + 10 * t, np.full(rows, 80.0)])
    y = np.column_stack([np.full(rows, 50.0), np.full(rows, 20.0)])
    meta = {"actor_ids": ["ego", "car"], "kinds": ["vehicle", "vehicle"], "ego": 0, "length_m": [4.0, 4.0],
            "width_m": [2.0, 2.0], "center_offset_m": [0.0, 0.0], "map_bounds_m": [0.0, 0.0, 100.0, 100.0]}  # fmt: skip
    state = {"time": t, "x": x, "y": y, "yaw": np.zeros((rows, 2)), "speed": np.full((rows, 2), 10.0),
             "active": np.ones((rows, 2), bool), "signals": np.zeros((rows, 0), np.int8)}  # fmt: skip
    road = np.array([[0.0, 45.0], [100.0, 45.0], [100.0, 55.0], [0.0, 55.0]])
    return RunLog(meta=meta, state=state, map_layers={"lane:driving": ("#5b5f66", True, [road])})


def test_gif_frames_and_ego_pixel(tmp_path: Path) -> None:
    log = synthetic_log()
    gif = write_gif(log, tmp_path / "a.gif")
    with Image.open(gif) as im:
        check_frames(im, log)


def check_frames(im: Image.Image, log: RunLog) -> None:
    assert im.n_frames == 5
    # whole-map view: scale = 480 / (100 + 10) px/m, origin 10 m left of / above the bounds
    scale, x0, y1 = 480 / 110, -10.0, 110.0
    ego_rgb = tuple(int(EGO_COLOUR[k : k + 2], 16) for k in (1, 3, 5))
    for k in (0, 4):
        im.seek(k)
        rgb = im.convert("RGB")
        ex, ey = log.state["x"][k, 0], log.state["y"][k, 0]
        centre = (round((ex - x0) * scale), round((y1 - ey) * scale))
        assert rgb.getpixel(centre) == pytest.approx(ego_rgb, abs=8)
        car = (round((80 - x0) * scale), round((y1 - 20) * scale))
        assert rgb.getpixel(car) == pytest.approx((230, 230, 230), abs=8)


def test_mp4_needs_the_video_extra_or_writes(tmp_path: Path) -> None:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="imageio-ffmpeg"):
            write_mp4(synthetic_log(), tmp_path / "a.mp4")
        return
    out = write_mp4(synthetic_log(), tmp_path / "a.mp4")
    assert out.stat().st_size > 0 and out.read_bytes()[4:8] == b"ftyp"


def test_frames_write_ids_and_heading_ticks() -> None:
    """The car (yaw 0, facing east) gets a black heading tick on its front half and its id on a white
    box above right of it; without labels that box is grass."""
    from simcore.report.animate import frames

    log = synthetic_log(1)
    scale, x0, y1 = 480 / 110, -10.0, 110.0
    cx, cy = (80 - x0) * scale, (y1 - 20) * scale
    with_ids = np.asarray(next(frames(log)))
    without = np.asarray(next(frames(log, labels=0)))
    box = (
        slice(round(cy - 2 * scale - 10), round(cy - 2 * scale)),
        slice(round(cx + 2 * scale + 3), round(cx + 2 * scale + 15)),
    )
    assert (with_ids[box] == 255).all(axis=2).mean() > 0.3  # label box (white, with dark glyphs)
    assert not (without[box] == 255).all(axis=2).any()
    tick = without[round(cy) - 1 : round(cy) + 2, round(cx + 1.5 * scale)]  # 1.5 m ahead of the centre
    assert (tick == 0).all(axis=1).any()  # black on the axis (within a pixel of rounding)
    assert tuple(without[round(cy), round(cx - 1.0 * scale)]) == (230, 230, 230)  # rear half: box fill
