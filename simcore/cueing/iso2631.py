"""ISO 2631-1:1997 motion-sickness frequency weighting ``Wf`` and the motion sickness dose value.

``Wf`` (Annex A of the standard) is the product of a band limit (second-order high pass at
f1 = 0.08 Hz and low pass at f2 = 0.63 Hz, Q = 1/sqrt(2)), an acceleration-velocity transition
(f3 = infinity, f4 = 0.25 Hz, Q4 = 0.86) and an upward step (f5 = 0.0625 Hz, Q5 = 0.80,
f6 = 0.1 Hz, Q6 = 0.80); its gain peaks at about 1.0 near 0.16 Hz. The motion sickness dose
value of a weighted acceleration a_w(t) over T seconds is MSDV = sqrt(integral a_w^2 dt) in
m/s^1.5 (clause 9.2.2).
"""

from __future__ import annotations

import math

import numpy as np

from simcore.cueing.lti import Section, chain, simulate, zoh

WF_F1_HZ, WF_F2_HZ, WF_F4_HZ, WF_F5_HZ, WF_F6_HZ = 0.08, 0.63, 0.25, 0.0625, 0.1
WF_Q4, WF_Q5, WF_Q6 = 0.86, 0.80, 0.80


def wf_sections() -> list[Section]:
    """``Wf`` as four second-order sections in s (rad/s)."""
    w1, w2, w4, w5, w6 = (2.0 * math.pi * f for f in (WF_F1_HZ, WF_F2_HZ, WF_F4_HZ, WF_F5_HZ, WF_F6_HZ))
    r2 = math.sqrt(2.0)
    return [
        ([1.0, 0.0, 0.0], [1.0, r2 * w1, w1 * w1]),  # high pass (band limit)
        ([w2 * w2], [1.0, r2 * w2, w2 * w2]),  # low pass (band limit)
        ([w4 * w4], [1.0, w4 / WF_Q4, w4 * w4]),  # acceleration-velocity transition, f3 = inf
        ([1.0, w5 / WF_Q5, w5 * w5], [1.0, w6 / WF_Q6, w6 * w6]),  # upward step
    ]


def wf_weighted(a: np.ndarray, dt: float) -> np.ndarray:
    """Acceleration ``a`` (T,) (m/s^2) sampled every ``dt`` (s), weighted by ``Wf``."""
    return simulate([zoh(chain(wf_sections()), dt)], np.asarray(a, dtype=np.float64))[:, 0]


def msdv(a: np.ndarray, dt: float) -> float:
    """Motion sickness dose value (m/s^1.5) of the acceleration ``a`` (T,) (m/s^2) every ``dt`` (s)."""
    aw = wf_weighted(a, dt)
    return float(math.sqrt(float(np.sum(aw * aw)) * dt))
