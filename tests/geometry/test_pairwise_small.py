"""pairwise_box_overlaps: the in-place all-pairs path (n <= SMALL_ROWS) equals the sweep, pair for pair."""

import numpy as np
import pytest

from simcore.geometry.kernels import SMALL_ROWS, obb_overlap, pairwise_box_overlaps


def _pairs(cx, cy, yaw, length, width, inst, active, cap):
    out_i = np.full(cap, -1, np.int64)
    out_j = np.full(cap, -1, np.int64)
    n = pairwise_box_overlaps(cx, cy, yaw, length, width, inst, active, out_i, out_j)
    return n, out_i[: min(n, cap)].tolist(), out_j[: min(n, cap)].tolist()


def _padded(a, fill, k):
    """``a`` with ``k`` trailing rows (inactive ones never pair), so the sweep path runs."""
    return np.concatenate([a, np.full(k, fill, dtype=a.dtype)])


@pytest.mark.parametrize("seed", range(16))
def test_small_path_equals_the_sweep(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, SMALL_ROWS + 1))
    cap = int(rng.choice([2, 5, 4 * n]))  # small caps: only the first pairs in (i, j) order are written
    cx = rng.uniform(0, 14, n)
    cy = rng.uniform(0, 14, n)
    yaw = rng.uniform(-np.pi, np.pi, n)
    length = rng.uniform(0.5, 6.0, n)
    width = rng.uniform(0.5, 2.5, n)
    inst = rng.integers(0, 2, n).astype(np.int32)
    active = rng.random(n) < 0.85
    if seed % 4 == 0:
        cx[0] = np.nan  # a non-finite row never pairs
        length[n - 1] = np.inf
    small = _pairs(cx, cy, yaw, length, width, inst, active, cap)
    k = SMALL_ROWS + 1 - n + int(rng.integers(0, 4))
    sweep = _pairs(
        _padded(cx, 0.0, k), _padded(cy, 0.0, k), _padded(yaw, 0.0, k), _padded(length, 4.0, k),
        _padded(width, 2.0, k), _padded(inst, 0, k), _padded(active, False, k), cap,
    )  # fmt: skip
    assert small == sweep
    # Independent reference: every pair i < j tested with the narrow phase alone.
    ref = [
        (i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if active[i] and active[j] and inst[i] == inst[j]
        and np.isfinite([cx[i], cy[i], length[i], width[i], cx[j], cy[j], length[j], width[j]]).all()
        and obb_overlap(cx[i], cy[i], yaw[i], length[i], width[i], cx[j], cy[j], yaw[j], length[j], width[j])
    ]  # fmt: skip
    assert small[0] == len(ref)
    assert list(zip(small[1], small[2], strict=True)) == ref[:cap]


def test_small_path_finds_touching_boxes_across_instances_only_within_one():
    cx = np.array([0.0, 1.0, 1.0, 50.0])
    cy = np.zeros(4)
    yaw = np.zeros(4)
    length = np.full(4, 4.0)
    width = np.full(4, 2.0)
    inst = np.array([0, 0, 1, 0], np.int32)
    active = np.ones(4, np.bool_)
    assert _pairs(cx, cy, yaw, length, width, inst, active, 8) == (1, [0], [1])
