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
    assert img.convert("RGB").getpixel((px, py)) == pytest.approx(EGO_RGB, abs=12)


def test_png_is_a_small_palette_png_of_the_same_picture() -> None:
    img = Image.new("RGB", (64, 48), (167, 196, 150))
    img.paste((31, 119, 180), (10, 10, 30, 20))
    data = png_bytes(img)
    back = Image.open(io.BytesIO(data))
    assert back.mode == "P" and back.size == (64, 48)
    assert np.abs(np.asarray(back.convert("RGB"), int) - np.asarray(img, int)).max() <= 8


def test_palette_png_decodes_to_the_same_pixels_and_palette() -> None:
    """Our PNG writer (``render.png``), read back by Pillow's decoder: the same indices, palette and
    transparency; zlib (not ISA-L) decodes its IDAT stream and the chunk CRCs are checked by hand."""
    import struct
    import zlib

    from simcore.render.png import palette_png

    rng = np.random.default_rng(5)
    idx = rng.integers(0, 40, size=(37, 53)).astype(np.uint8)
    idx[10:20] = 7  # long runs, as in a map picture
    img = Image.fromarray(idx, mode="P")
    img.putpalette(rng.integers(0, 256, size=40 * 3).astype(np.uint8).tobytes())
    img.info["transparency"] = 3
    data = palette_png(img)
    back = Image.open(io.BytesIO(data))
    back.load()
    assert back.mode == "P" and back.size == (53, 37) and np.array_equal(np.asarray(back), idx)
    assert back.getpalette() == img.getpalette() and back.info["transparency"] == 3
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(tag + body)
        chunks[tag] = body
        pos += 12 + n
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(37, 54)
    assert (rows[:, 0] == 0).all() and np.array_equal(rows[:, 1:], idx)
    with pytest.raises(ValueError, match="palette"):
        palette_png(img.convert("RGB"))


def test_map_outside_a_zoomed_view_is_left_out_and_the_picture_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    import simcore.render.topdown as td

    inside, across, outside = (
        np.array([[0.0, 0], [1, 1]]),
        np.array([[-50.0, 0], [50, 0]]),
        np.array([[20.0, 20], [30, 30]]),
    )
    polys = (inside, across, outside)
    pmin, pmax = np.array([p.min(axis=0) for p in polys]), np.array([p.max(axis=0) for p in polys])
    assert td._in_box(pmin, pmax, (-5.0, -5.0), (5.0, 5.0)).tolist() == [True, True, False]
    sim = simulation(REAR_END, "autopilot")
    res = sim.run()
    culled = np.asarray(render_run(sim.world, res, time=1.0, zoom_m=12.0, size_px=200).convert("RGB"))
    monkeypatch.setattr(td, "_in_box", lambda pmin, pmax, lo, hi: np.ones(len(pmin), bool))
    every = np.asarray(render_run(sim.world, res, time=1.0, zoom_m=12.0, size_px=200).convert("RGB"))
    assert np.array_equal(culled, every)


def _off_path_m(pts: np.ndarray, kept: np.ndarray) -> float:
    """Largest distance (m) of the points ``pts`` from the polyline ``kept`` (brute force over segments)."""
    a, b = kept[:-1], kept[1:]
    d = b - a
    t = np.clip(np.einsum("psk,sk->ps", pts[:, None] - a[None], d) / np.einsum("sk,sk->s", d, d), 0, 1)
    foot = a[None] + t[..., None] * d[None]
    return float(np.linalg.norm(pts[:, None] - foot, axis=2).min(axis=1).max())


def test_map_simplification_keeps_corners_and_stays_within_a_centimetre() -> None:
    import simcore.render.map_view as mv
    import simcore.render.topdown as td

    straight = np.column_stack([np.linspace(0.0, 10.0, 41), np.zeros(41)])  # 10 m, one segment suffices
    ell = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0], [3, 1], [3, 2]])  # a right angle at (3, 0)
    s = np.linspace(0.0, 60.0, 601)  # 60 m of a 2 km radius arc: 0.05 mrad a point, never dropped for long
    arc = np.column_stack([2000.0 * np.sin(s / 2000.0), 2000.0 * (1 - np.cos(s / 2000.0))])
    pts, ends = mv.simplify([straight, ell, arc])
    parts = np.split(pts, ends[:-1])
    assert parts[0].tolist() == [[0.0, 0.0], [10.0, 0.0]]
    assert parts[1].tolist() == [[0.0, 0.0], [3.0, 0.0], [3.0, 2.0]]
    assert (
        3 <= len(parts[2]) < 20
        and parts[2][0].tolist() == arc[0].tolist()
        and parts[2][-1].tolist() == arc[-1].tolist()
    )
    bound = mv.MAP_SPAN_M * mv.MAP_TURN_RAD / 4  # the sagitta of the longest chord allowed, ~1.25 cm
    assert _off_path_m(arc, parts[2]) <= bound
    circle = np.column_stack([5 * np.cos(np.linspace(0, 2 * np.pi, 73)), 5 * np.sin(np.linspace(0, 2 * np.pi, 73))])
    assert len(np.split(*mv.simplify([circle]))[0]) == 73  # 5 deg a point: every point is a corner
    layers = {"lane:driving": ("#5b5f66", True, [ell]), "centre": ("#c9ced6", False, [straight, ell[:1]])}
    packed = td.pack_layers(layers)
    assert td.pack_layers(layers) is packed  # once per layers dict (map_layers keeps one per network)
    assert [(p.fill, p.pts.tolist(), p.ends.tolist()) for p in packed] == [
        (True, parts[1].tolist(), [3]),
        (False, [[0.0, 0.0], [10.0, 0.0]], [2]),  # the one-point polyline is left out
    ]


def test_the_viewer_map_is_the_map_simplified_polyline_by_polyline() -> None:
    """``simplified_layers`` (the report viewer's map, from the pictures' packing): every layer and polyline of
    ``map_layers`` in order, each within the simplification bound of its own points, the same ends, fewer."""
    from simcore.render.map_view import MAP_SPAN_M, MAP_TURN_RAD, map_layers
    from simcore.render.topdown import simplified_layers

    net = simulation(REAR_END, "autopilot").world.network
    full = map_layers(net)
    thin = simplified_layers(full)
    assert list(thin) == list(full)
    for name, (colour, closed, polys) in full.items():
        assert thin[name][:2] == (colour, closed) and len(thin[name][2]) == len(polys)
        for p, q in zip(polys, thin[name][2], strict=True):
            assert len(q) <= len(p) and q[0].tolist() == p[0].tolist() and q[-1].tolist() == p[-1].tolist()
            if len(p) > 2:
                assert _off_path_m(p, q) <= MAP_SPAN_M * MAP_TURN_RAD / 4 + 1e-9
    n_full = sum(len(p) for _, _, ps in full.values() for p in ps)
    assert sum(len(p) for _, _, ps in thin.values() for p in ps) < n_full / 3
