"""Vestibular model: what the driver perceives of a specific force and angular rate at the head.

Otolith organs (specific force, per axis), Young and Meiry (1968), "A revised dynamic otolith
model", Aerospace Medicine 39(6): K (tau_a s + 1) / ((tau_L s + 1)(tau_s s + 1)) with K = 0.4,
tau_a = 13.2 s, tau_L = 5.33 s, tau_s = 0.66 s. We divide by K so the perceived specific force
of a sustained input equals the input (m/s^2), which puts it in the units of the thresholds.

Semicircular canals (angular rate, per axis), the torsion-pendulum model with adaptation of
Zacharias (1978), as used for simulator cueing by Reid and Nahon (1985) and Telban and Cardullo
(2005, NASA CR-2005-213747): tau_L tau_a s^2 / ((tau_L s + 1)(tau_a s + 1)(tau_s s + 1)) with
tau_L = 5.73 s (cupula long time constant), tau_a = 80 s (adaptation), tau_s = 0.005 s.
A step of angular velocity is felt at once, decays with about tau_L and, through adaptation,
reverses (the post-rotatory after-effect).
"""

from __future__ import annotations

import numpy as np

from simcore._types import F64
from simcore.cueing.lti import Section, chain, simulate, zoh

OTOLITH_K = 0.4
OTOLITH_TAU_A_S = 13.2
OTOLITH_TAU_L_S = 5.33
OTOLITH_TAU_S_S = 0.66
CANAL_TAU_L_S = 5.73
CANAL_TAU_A_S = 80.0
CANAL_TAU_S_S = 0.005


def otolith_sections() -> list[Section]:
    """Perceived / actual specific force, normalised to a DC gain of 1."""
    return [([OTOLITH_TAU_A_S, 1.0], [OTOLITH_TAU_L_S, 1.0]), ([1.0], [OTOLITH_TAU_S_S, 1.0])]


def canal_sections() -> list[Section]:
    """Perceived / actual angular rate."""
    return [
        ([CANAL_TAU_L_S, 0.0], [CANAL_TAU_L_S, 1.0]),
        ([CANAL_TAU_A_S, 0.0], [CANAL_TAU_A_S, 1.0]),
        ([1.0], [CANAL_TAU_S_S, 1.0]),
    ]


def perceive(f: F64, w: F64, dt: float) -> tuple[F64, F64]:
    """Perceived specific force (T, 3) (m/s^2) and angular rate (T, 3) (rad/s) from the actual
    ones sampled every ``dt`` (s), each organ starting adapted to the first sample."""
    oto = zoh(chain(otolith_sections()), dt)
    scc = zoh(chain(canal_sections()), dt)
    f = np.asarray(f, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    # the otoliths start adapted to the first sample (gravity at rest): filter the change, add it back
    pf = simulate([oto] * 3, f - f[0]) + f[0]
    pw = simulate([scc] * 3, w)
    return pf, pw
