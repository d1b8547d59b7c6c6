"""Seeded random streams: one numpy Generator per (scenario seed, instance, stream name)."""

from __future__ import annotations

import zlib

import numpy as np

#: Seeds are integers 0 .. MAX_SEED (the scenario format's rule; also for ``--seed``).
MAX_SEED = 2**63 - 1


def seed_problem(seed: object) -> str:
    """Why ``seed`` is not a valid seed, or "" when it is."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        return f"expected an integer seed in 0..{MAX_SEED}, got {seed!r}"
    return ""


def generator(seed: int, instance: int, stream: str) -> np.random.Generator:
    """Independent, reproducible stream; the same triple gives the same draws in any process."""
    key = zlib.crc32(stream.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, instance, key])))
