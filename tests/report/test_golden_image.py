"""Golden image: the top-down frame of a catalog scenario's initial scene (``report.animate.frames``,
the one Pillow renderer of every top-down picture) against a stored reference PNG, with a
tolerance; and a check that the comparison catches a moved ego. Drawn without the actor-id
labels (their glyphs depend on the FreeType build; tests/report/test_animate.py checks them).

Regenerate the reference after an intended drawing change: ``SIMCORE_UPDATE_GOLDEN=1 pytest
tests/report/test_golden_image.py`` (then look at tests/data/golden/*.png before committing it)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from simcore.api import simulation
from simcore.render.map_view import _compute_layers, map_layers
from simcore.report.animate import frames
from simcore.report.runlog import RunLog, world_meta

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "signalized_intersection_t0.png"
#: A pixel differs when any channel is off by more than this (0-255): anti-aliasing and rounding pass.
CHANNEL_TOL = 40
#: At most this many differing pixels of the frame, outside the time stamp box (font-dependent).
MAX_DIFF_PX = 60
STAMP_BOX = (0, 0, 131, 19)


def _initial_log(scenario: str) -> RunLog:
    """A one-row RunLog of the scenario's initial scene (no run: only the map and the initial placement)."""
    w = simulation(scenario, record_every=0).world
    st = w.state
    state = {k: getattr(st, k)[None].copy() for k in ("x", "y", "yaw", "speed", "active")}
    state["time"] = np.zeros(1)
    state["signals"] = np.zeros((1, w.network.n_signals), np.int8)
    return RunLog(meta=world_meta(w), state=state, map_layers=map_layers(w.network))


def _diff_px(a: np.ndarray, b: np.ndarray) -> int:
    bad = (np.abs(a.astype(np.int16) - b.astype(np.int16)) > CHANNEL_TOL).any(axis=2)
    x0, y0, x1, y1 = STAMP_BOX
    bad[y0:y1, x0:x1] = False
    return int(bad.sum())


def test_initial_frame_matches_the_golden_image(tmp_path: Path) -> None:
    log = _initial_log("urban/signalized_intersection")
    frame = np.asarray(next(frames(log, labels=0)).convert("RGB"))
    if os.environ.get("SIMCORE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame).quantize(colors=64).save(GOLDEN, optimize=True)
    ref = np.asarray(Image.open(GOLDEN).convert("RGB"))
    assert frame.shape == ref.shape
    n = _diff_px(frame, ref)
    if n > MAX_DIFF_PX:
        Image.fromarray(frame).save(tmp_path / "actual.png")
    assert n <= MAX_DIFF_PX, f"{n} pixels differ from {GOLDEN.name} (actual frame: {tmp_path / 'actual.png'})"


def test_map_layers_are_computed_once_per_network() -> None:
    net = simulation("urban/signalized_intersection", record_every=0).world.network
    first = map_layers(net)
    assert map_layers(net) is first and first.keys() == _compute_layers(net).keys()


def test_the_comparison_catches_a_moved_ego() -> None:
    log = _initial_log("urban/signalized_intersection")
    e = log.meta["ego"]
    log.state["x"][0, e] += 6.0  # the ego a car length further on
    frame = np.asarray(next(frames(log, labels=0)).convert("RGB"))
    ref = np.asarray(Image.open(GOLDEN).convert("RGB"))
    assert _diff_px(frame, ref) > 4 * MAX_DIFF_PX
