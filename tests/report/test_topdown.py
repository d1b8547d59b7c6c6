"""topdown.png (``simcore.render.topdown``, Pillow): each actor's last pose where the map-to-pixel
transform puts it (computed here by hand), the palette PNG, the dense-scene view box."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from simcore.api import simulation
from simcore.render.topdown import EGO_RGB, PICTURE_PX, last_poses, png_bytes, render_run

REAR_END = str(Path(__file__).resolve().parent.parent / "data" / "rear_end.yaml")
#: Height (px) of the title strip above the map in a rendered picture.
HEAD_PX = 30


def test_last_poses_by_hand() -> None:
    active = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0]], bool)
    x = np.array([[1.0, 9, 9], [2.0, 3, 9], [9.0, 4, 9]])
    st = {"active": active, "x": x, "y": x + 10, "yaw": x * 0, "speed": x * 0}
    out = last_poses(st)
    assert out["x"].tolist() == [[2.0, 4.0, 9.0]] and out["y"].tolist() == [[12.0, 14.0, 19.0]]
    assert out["active"].tolist() == [[True, True, False]]


def test_ego_box_where_the_transform_puts_it() -> None:
    sim = simulation(REAR_END, "autopilot")
    res = sim.run()
    w = sim.world
    img = render_run(w, res)
    assert img.size == (PICTURE_PX, PICTURE_PX + HEAD_PX + 34)
    # whole map, 5 m margin, square: scale = PICTURE_PX / side; centred on the map's box
    xmin, ymin, xmax, ymax = (float(v) for v in w.network.bounds())
    side = max(xmax - xmin, ymax - ymin) + 10
    scale = PICTURE_PX / side
    x0 = xmin - 5 - (side - (xmax - xmin + 10)) / 2
    y1 = ymax + 5 + (side - (ymax - ymin + 10)) / 2
    e = w.ego
    r = int(np.flatnonzero(res.trajectory["active"][:, e])[-1])
    yaw = float(res.trajectory["yaw"][r, e])
    back = float(w.params["center_offset"][e]) - 0.3 * float(w.params["length"][e])  # rear half: no heading tick
    cx = float(res.trajectory["x"][r, e]) + back * math.cos(yaw)
    cy = float(res.trajectory["y"][r, e]) + back * math.sin(yaw)
    px, py = round((cx - x0) * scale), round((y1 - cy) * scale) + HEAD_PX
    assert img.getpixel((px, py)) == pytest.approx(EGO_RGB, abs=12)


def test_png_is_a_small_palette_png_of_the_same_picture() -> None:
    img = Image.new("RGB", (64, 48), (167, 196, 150))
    img.paste((31, 119, 180), (10, 10, 30, 20))
    data = png_bytes(img)
    back = Image.open(io.BytesIO(data))
    assert back.mode == "P" and back.size == (64, 48)
    assert np.abs(np.asarray(back.convert("RGB"), int) - np.asarray(img, int)).max() <= 8
