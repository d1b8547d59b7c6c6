"""Seeded random streams: one numpy Generator per (scenario seed, instance, stream name)."""

from __future__ import annotations

import zlib

import numpy as np


def generator(seed: int, instance: int, stream: str) -> np.random.Generator:
    """Independent, reproducible stream; the same triple gives the same draws in any process."""
    key = zlib.crc32(stream.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, instance, key])))
