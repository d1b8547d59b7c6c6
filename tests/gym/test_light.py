"""light_kernels: the all-pairs collision onsets equal the engine's sweep, event for event."""

import numpy as np
import pytest

from simcore.gym.light_kernels import collision_onsets_small
from simcore.runner.step_kernels import _collision_onsets


def _buffers(n, cap_pairs, cap_ev):
    return dict(
        cx=np.zeros(n),
        cy=np.zeros(n),
        pair_i=np.zeros(cap_pairs, np.int64),
        pair_j=np.zeros(cap_pairs, np.int64),
        touch_i=np.zeros(cap_pairs, np.int64),
        touch_j=np.zeros(cap_pairs, np.int64),
        n_touch=np.zeros(1, np.int64),
        ev_time=np.zeros(cap_ev),
        ev_kind=np.full(cap_ev, -1, np.int64),
        ev_a=np.zeros(cap_ev, np.int64),
        ev_b=np.zeros(cap_ev, np.int64),
        ev_value=np.zeros(cap_ev),
    )


@pytest.mark.parametrize("seed", range(12))
def test_all_pairs_onsets_equal_the_engine_sweep(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    cap_pairs = int(rng.choice([2, 5, 64]))  # small caps: only the first pairs in (i, j) order count
    kind = rng.integers(0, 3, n).astype(np.int8)
    length = rng.uniform(0.5, 6.0, n)
    width = rng.uniform(0.5, 2.5, n)
    co = rng.uniform(0.0, 1.5, n)
    inst = np.zeros(n, np.int32)
    bufs = [_buffers(n, cap_pairs, 40), _buffers(n, cap_pairs, 40)]
    overlaps = 0
    for step in range(6):  # consecutive steps: the collision memory (touch_*) carries over
        x = rng.uniform(0, 12, n)
        y = rng.uniform(0, 12, n)
        yaw = rng.uniform(-np.pi, np.pi, n)
        speed = rng.uniform(0, 10, n)
        active = rng.random(n) < 0.85
        if step == 3:
            x[1] = np.nan  # a non-finite row never pairs
        out = []
        for fn, b in zip((_collision_onsets, collision_onsets_small), bufs, strict=True):
            m = fn(0.1 * step, x, y, yaw, speed, kind, active, inst, length, width, co,
                   b["cx"], b["cy"], b["pair_i"], b["pair_j"], b["touch_i"], b["touch_j"], b["n_touch"],
                   b["ev_time"], b["ev_kind"], b["ev_a"], b["ev_b"], b["ev_value"], 3)  # fmt: skip
            out.append(m)
        assert out[0] == out[1]
        a, b = bufs
        k = int(a["n_touch"][0])
        assert k == b["n_touch"][0]
        overlaps += k
        for key in ("touch_i", "touch_j"):
            assert np.array_equal(a[key][:k], b[key][:k])
        for key in ("ev_time", "ev_kind", "ev_a", "ev_b", "ev_value"):
            assert np.array_equal(a[key][: out[0]], b[key][: out[0]]), key
    assert overlaps > 0
