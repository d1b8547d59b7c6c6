"""Unit conversions at the loader boundary: the one place a non-SI factor is written.

The loaders of scenario, vehicle, map and sensor-rig files take km/h and degrees (keys ending in
``_kph`` / ``_deg``, and datasheet units for IMUs) and convert once, with these functions; below them
everything is SI: m, s, m/s, m/s^2, rad, rad/s (``tests/test_units_at_boundary.py`` checks that no
module below the loaders writes a factor of its own). Display code converts back with the inverse
functions (``mps_to_kph``, ``rad_to_deg``).

The functions accept a float or a NumPy array. Their arithmetic is fixed, so results are
bit-reproducible: ``kph_to_mps(v) == v * (1 / 3.6)`` and ``deg_to_rad(a) == math.radians(a)``
(CPython and NumPy both compute ``a * (pi / 180)``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DEG_PER_RAD",
    "G0_MPS2",
    "KPH_PER_MPS",
    "MPS_PER_KPH",
    "MPS_PER_MPH",
    "RAD_PER_DEG",
    "deg_per_h_to_rad_per_s",
    "deg_per_sqrt_h_to_rad_per_sqrt_s",
    "deg_to_rad",
    "kph_to_mps",
    "mps_to_kph",
    "rad_to_deg",
    "ug_to_mps2",
]

#: km/h in one m/s (exactly 3600 s/h / 1000 m/km).
KPH_PER_MPS = 3.6
#: m/s in one km/h (the double nearest 1 / 3.6).
MPS_PER_KPH = 1.0 / KPH_PER_MPS
#: Radians in one degree.
RAD_PER_DEG = math.pi / 180.0
#: Degrees in one radian.
DEG_PER_RAD = 180.0 / math.pi
#: m/s in one mile per hour (exact: 1609.344 m / 3600 s).
MPS_PER_MPH = 0.44704
#: Standard gravity (m/s^2), the unit "g" of accelerometer datasheets.
G0_MPS2 = 9.80665

#: A float or a NumPy array (no numpy import at run time: ``simcore --help`` stays light).
_X = TypeVar("_X", float, "np.ndarray")


def kph_to_mps(v: _X) -> _X:
    """Speed km/h -> m/s (``v * MPS_PER_KPH``)."""
    return v * MPS_PER_KPH


def mps_to_kph(v: _X) -> _X:
    """Speed m/s -> km/h (``v * KPH_PER_MPS``; for display and report fields in km/h)."""
    return v * KPH_PER_MPS


def deg_to_rad(a: _X) -> _X:
    """Angle (or angular rate) deg -> rad; bit-identical to ``math.radians`` / ``np.radians``."""
    return a * RAD_PER_DEG


def rad_to_deg(a: _X) -> _X:
    """Angle (or angular rate) rad -> deg; bit-identical to ``math.degrees`` / ``np.degrees``."""
    return a * DEG_PER_RAD


def ug_to_mps2(x: float) -> float:
    """Micro-g (ug, or ug/sqrt(Hz)) -> m/s^2 (or m/s^2/sqrt(Hz))."""
    return x * 1e-6 * G0_MPS2


def deg_per_sqrt_h_to_rad_per_sqrt_s(x: float) -> float:
    """Angle random walk deg/sqrt(h) -> rad/s/sqrt(Hz) (= rad/sqrt(s)); sqrt(3600 s/h) = 60."""
    return deg_to_rad(x) / 60.0


def deg_per_h_to_rad_per_s(x: float) -> float:
    """Angular rate deg/h -> rad/s."""
    return deg_to_rad(x) / 3600.0
