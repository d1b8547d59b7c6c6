"""Counting sort into buckets (CSR: ``start`` (n_buckets + 1,), ``items``), shared by the actor grid,
the junction buckets and the lane buckets of the compiled step. No allocation.

A caller zeroes ``start[:n + 1]``, counts row r of bucket c as ``start[c + 1] += 1``, calls
``open_buckets(start, n)``, places each row with ``items[start[c]] = r; start[c] += 1`` in row order, then calls
``close_buckets(start, n)``: bucket c owns ``items[start[c]:start[c + 1]]``, rows in the order they were placed.
"""

from __future__ import annotations

from simcore._jit import stage


@stage
def open_buckets(start, n):  # pragma: no cover - compiled
    """Counts of ``n`` buckets (``start[c + 1]``: rows of bucket c) to fill pointers: ``start[c]`` becomes
    bucket c's first slot."""
    for c in range(n):
        start[c + 1] += start[c]


@stage
def close_buckets(start, n):  # pragma: no cover - compiled
    """Fill pointers of ``n`` buckets (each at its bucket's end after placing) back to starts, shifted by
    one bucket."""
    for c in range(n, 0, -1):
        start[c] = start[c - 1]
    start[0] = 0
