"""Counting sort of the compiled step's buckets against NumPy's stable sort."""

import numpy as np

from simcore.behavior.bucket_kernels import close_buckets, open_buckets


def test_buckets_hold_each_rows_in_row_order_like_a_stable_argsort():
    rng = np.random.default_rng(3)
    n, rows = 7, 60
    key = rng.integers(-1, n, rows)  # -1: not filed
    start = np.full(n + 3, 99, np.int64)  # longer than n + 1: the tail is not touched
    items = np.full(rows, -5, np.int64)
    start[: n + 1] = 0
    for r in range(rows):
        if key[r] >= 0:
            start[key[r] + 1] += 1
    open_buckets(start, n)
    for r in range(rows):
        if key[r] >= 0:
            items[start[key[r]]] = r
            start[key[r]] += 1
    close_buckets(start, n)

    filed = np.flatnonzero(key >= 0)
    expected = filed[np.argsort(key[filed], kind="stable")]
    assert start[0] == 0 and start[n] == filed.size
    assert np.array_equal(items[: filed.size], expected)
    for c in range(n):
        assert np.array_equal(items[start[c] : start[c + 1]], np.flatnonzero(key == c))
    assert np.all(start[n + 1 :] == 99) and np.all(items[filed.size :] == -5)
