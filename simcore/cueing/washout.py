"""Classical washout filter (Reid and Nahon 1985): specific force and angular rate -> platform pose.

Continuous transfer functions of the channels (``channel_sections`` gives them as sections so
tests can compare with scipy.signal); each is discretised exactly (ZOH) at the physics step
and stepped by ``washout_kernels.classical_step``:

* translational (x, y with ``translational``, z with ``heave``), input k f (z: k (f_z - g)):
  position / input = 1 / s^2 * s^2 / (s^2 + 2 zeta w s + w^2) * s / (s + w_b)
  = s / ((s^2 + 2 zeta w s + w^2)(s + w_b)), so a sustained acceleration washes out to 0 m;
* tilt coordination, input k f_x, f_y: low pass w^2 / (s^2 + 2 zeta w s + w^2), then the angle
  that makes gravity supply that specific force, tracked with a rate below the rotation threshold
  and a bounded angular acceleration;
* rotational (roll, pitch with ``roll_pitch``, yaw), input k omega:
  angle / input = 1 / s * s^2 / (s^2 + 2 zeta w s + w^2) = s / (s^2 + 2 zeta w s + w^2).
"""

from __future__ import annotations

import numpy as np

from simcore._types import F64
from simcore.cueing.lti import FilterBank, Section, chain, zoh
from simcore.cueing.platform import HighPassSpec, PlatformSpec, TranslationalSpec
from simcore.cueing.washout_kernels import N_CHANNELS, classical_step
from simcore.units import deg_to_rad


def translational_sections(ch: TranslationalSpec) -> list[Section]:
    """Sections of position / scaled specific force (gain excluded)."""
    w, z = ch.natural_frequency_rad_s, ch.damping
    return [([1.0, 0.0], [1.0, 2.0 * z * w, w * w]), ([1.0], [1.0, ch.break_frequency_rad_s])]


def rotational_sections(ch: HighPassSpec) -> list[Section]:
    """Sections of angle / scaled angular rate (gain excluded)."""
    w, z = ch.natural_frequency_rad_s, ch.damping
    return [([1.0, 0.0], [1.0, 2.0 * z * w, w * w])]


def tilt_sections(spec: PlatformSpec) -> list[Section]:
    """Sections of the tilt-coordination low pass (gain excluded)."""
    t = spec.washout.tilt
    w, z = t.natural_frequency_rad_s, t.damping
    return [([w * w], [1.0, 2.0 * z * w, w * w])]


def channel_sections(spec: PlatformSpec) -> list[list[Section]]:
    """The 8 channels in ``washout_kernels.CH_*`` order."""
    wo = spec.washout
    tr, hv = translational_sections(wo.translational), translational_sections(wo.heave)
    rp, yw = rotational_sections(wo.roll_pitch), rotational_sections(wo.yaw)
    lp = tilt_sections(spec)
    return [tr, tr, hv, lp, lp, rp, rp, yw]


class ClassicalWashout:
    """The classical washout of one platform, stepped at a fixed ``dt`` (s).

    ``step(f, w)`` takes the specific force f (3,) (m/s^2, body frame, +g on z at rest) and the
    angular rate w (3,) (rad/s) at the driver's head and returns the wanted platform pose (6,):
    x, y, z (m) from neutral, roll, pitch, yaw (rad). The returned array is reused.
    """

    name = "classical"

    def __init__(self, spec: PlatformSpec, dt: float) -> None:
        self.spec, self.dt = spec, float(dt)
        wo = spec.washout
        self.bank = FilterBank.build([zoh(chain(s), dt) for s in channel_sections(spec)])
        self.k_t = np.array([wo.translational.gain, wo.translational.gain, wo.heave.gain])
        self.k_r = np.array([wo.roll_pitch.gain, wo.roll_pitch.gain, wo.yaw.gain])
        self.k_tilt = float(wo.tilt.gain)
        self.max_tilt_rate = deg_to_rad(wo.tilt.max_rate_deg_s)
        self.max_tilt_accel = deg_to_rad(wo.tilt.max_accel_deg_s2)
        self.max_tilt = deg_to_rad(wo.tilt.max_angle_deg)
        self._u = np.zeros(N_CHANNELS)
        self.pose = np.zeros(6)
        self.reset()

    def reset(self) -> None:
        """Filters at rest, no tilt."""
        self.bank.reset()
        self.tilt = np.zeros(4)  # roll, pitch (rad), their rates (rad/s)
        self.pose[:] = 0.0

    def step(self, f: F64, w: F64) -> F64:
        """One step; see the class docstring."""
        b = self.bank
        classical_step(
            b.a,
            b.b,
            b.c,
            b.d,
            b.x,
            self._u,
            b.y,
            b._tmp,
            f,
            w,
            self.k_t,
            self.k_tilt,
            self.k_r,
            self.tilt,
            self.max_tilt_rate,
            self.max_tilt_accel,
            self.max_tilt,
            self.dt,
            self.pose,
        )
        return self.pose
