"""GNSS receiver and IMU (accelerometer + gyroscope) from the carrier's true planar motion.

True motion of the carrier row (vehicle frame: x forward, y left, z up at the rear axle):

* yaw rate r: single-track rows use ``state.yaw_rate``; kinematic vehicle rows the bicycle relation
  r = speed tan(steer) / wheelbase (exact for the kinematic model); pedestrians a finite difference
  of yaw between this sensor's consecutive samples.
* body velocity at the rear axle: (u, v) = (speed, vy - l_r r) for single-track rows (``vy`` is at
  the centre of gravity), (speed, 0) otherwise.
* body acceleration at the rear axle: a_x = du/dt - r v, a_y = dv/dt + r u, with du/dt =
  ``state.accel`` for vehicles (finite difference of speed for pedestrians) and dv/dt, dr/dt finite
  differences between consecutive samples (0 on the first sample).
* at the mount offset p: a + dr/dt (z x p) + r^2 (-p_x, -p_y, 0).

Specific force f = a - g in the vehicle frame, with gravity g = (0, 0, -9.80665) m/s^2 in the world
and the vehicle pitched nose-up by the road grade (``world.grade``): at rest on flat ground the
accelerometer reads (0, 0, +g); on a grade theta it reads (g sin theta, 0, g cos theta). Readings are
rotated into the sensor frame of the mount. The gyroscope reads (0, 0, r) rotated into the sensor
frame (grade changes add no pitch rate).

Noise (continuous-time densities as datasheets give them; discrete sigma = density * sqrt(rate)):
white noise, a turn-on bias drawn once per run (``*_bias_sigma``), and a bias random walk
b_k+1 = b_k + q sqrt(dt) N(0, 1) with q the random-walk density. The rig loader converts datasheet
units (ug/sqrt(Hz), deg/sqrt(h), deg/h) with ``simcore.units``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore._types import ActorKind
from simcore.sensors.mount import Mount, rotation_zyx, sensor_pose
from simcore.units import G0_MPS2

__all__ = [
    "G0",
    "Gnss",
    "GnssData",
    "Imu",
    "ImuData",
    "TrueMotion",
    "true_motion",
]

#: Standard gravity (m/s^2).
G0 = G0_MPS2


@dataclass(frozen=True)
class TrueMotion:
    """Planar motion of a row's rear axle in its vehicle frame at one instant (SI)."""

    t: float
    yaw: float
    yaw_rate: float
    u: float
    v: float
    accel: float


def _yaw_rate(world: Any, row: int, prev: TrueMotion | None, t: float) -> float:
    st = world.state
    kind = int(st.kind[row])
    dyn = getattr(world, "dynamics", None)
    if dyn is not None and int(dyn[row]) == 1 and kind == ActorKind.VEHICLE:  # single track
        return float(st.yaw_rate[row])
    if kind == ActorKind.VEHICLE:
        wb = float(world.params["wheelbase"][row])
        return float(st.speed[row]) * math.tan(float(st.steer[row])) / wb
    if prev is not None and t > prev.t:
        d = (float(st.yaw[row]) - prev.yaw + math.pi) % (2 * math.pi) - math.pi
        return d / (t - prev.t)
    return 0.0


def true_motion(world: Any, row: int, t: float, prev: TrueMotion | None = None) -> TrueMotion:
    """True planar motion of ``row`` at time ``t`` (``prev``: this sensor's previous sample)."""
    st = world.state
    r = _yaw_rate(world, row, prev, t)
    u = float(st.speed[row])
    v = 0.0
    dyn = getattr(world, "dynamics", None)
    if dyn is not None and int(dyn[row]) == 1:
        lr = float(world.st_params[row, 3])  # single_track_kernels.P_LR
        v = float(st.vy[row]) - lr * r
    if int(st.kind[row]) == ActorKind.VEHICLE:
        a = float(st.accel[row])
    else:
        a = (u - prev.u) / (t - prev.t) if prev is not None and t > prev.t else 0.0
    return TrueMotion(float(t), float(st.yaw[row]), r, u, v, a)


@dataclass(frozen=True)
class ImuData:
    """One IMU sample in the sensor frame: specific force ``accel`` (3,) m/s^2, rates ``gyro`` (3,) rad/s."""

    accel: np.ndarray
    gyro: np.ndarray


class Imu:
    """Accelerometer + gyroscope at a mount on the carrier row (see the module doc for the model).

    Noise args (SI; ``simcore.units`` converts datasheet units):
    accel_noise_density m/s^2/sqrt(Hz), accel_bias_sigma m/s^2 (turn-on), accel_bias_random_walk
    m/s^3/sqrt(Hz); gyro_noise_density rad/s/sqrt(Hz), gyro_bias_sigma rad/s, gyro_bias_random_walk
    rad/s^2/sqrt(Hz).
    """

    kind = "imu"

    def __init__(
        self,
        name: str = "imu",
        rate_hz: float = 100.0,
        mount: Mount | None = None,
        accel_noise_density: float = 0.0,
        accel_bias_sigma: float = 0.0,
        accel_bias_random_walk: float = 0.0,
        gyro_noise_density: float = 0.0,
        gyro_bias_sigma: float = 0.0,
        gyro_bias_random_walk: float = 0.0,
        gravity: float = G0,
        row: int | None = None,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"imu {name!r}: rate_hz must be positive, got {rate_hz}")
        for key, val in (
            ("accel_noise_density", accel_noise_density),
            ("accel_bias_sigma", accel_bias_sigma),
            ("accel_bias_random_walk", accel_bias_random_walk),
            ("gyro_noise_density", gyro_noise_density),
            ("gyro_bias_sigma", gyro_bias_sigma),
            ("gyro_bias_random_walk", gyro_bias_random_walk),
        ):
            if not (val >= 0 and math.isfinite(val)):
                raise ValueError(f"imu {name!r}: {key} must be finite and >= 0, got {val}")
        self.name = name
        self.rate_hz = float(rate_hz)
        self.mount = mount or Mount()
        self.accel_noise_density = float(accel_noise_density)
        self.accel_bias_sigma = float(accel_bias_sigma)
        self.accel_bias_random_walk = float(accel_bias_random_walk)
        self.gyro_noise_density = float(gyro_noise_density)
        self.gyro_bias_sigma = float(gyro_bias_sigma)
        self.gyro_bias_random_walk = float(gyro_bias_random_walk)
        self.gravity = float(gravity)
        self.row = row
        self.seed(np.random.default_rng(0))

    def seed(self, rng: np.random.Generator) -> None:
        """Restart the noise stream (turn-on biases drawn here) and forget the motion history."""
        self._rng = rng
        self.accel_bias = rng.standard_normal(3) * self.accel_bias_sigma
        self.gyro_bias = rng.standard_normal(3) * self.gyro_bias_sigma
        self._prev: TrueMotion | None = None

    def true_reading(self, world: Any, t: float, scene: Any = None) -> ImuData:
        """Noise-free specific force and body rates at time ``t`` (advances the motion history)."""
        row = world.ego if self.row is None else self.row
        m = true_motion(world, row, t, self._prev)
        prev = self._prev
        dt = m.t - prev.t if prev is not None else 0.0
        rdot = (m.yaw_rate - prev.yaw_rate) / dt if dt > 0 else 0.0  # type: ignore[union-attr]
        vdot = (m.v - prev.v) / dt if dt > 0 else 0.0  # type: ignore[union-attr]
        self._prev = m
        r = m.yaw_rate
        px, py = self.mount.x, self.mount.y
        a = np.array([m.accel - r * m.v - rdot * py - r * r * px, vdot + r * m.u + rdot * px - r * r * py, 0.0])
        grade = getattr(world, "grade", None)
        g = float(grade[row]) if grade is not None and len(grade) > row else 0.0
        rv = rotation_zyx(0.0, -g, 0.0)  # vehicle -> level frame (yaw irrelevant for gravity)
        f = a + rv.T @ np.array([0.0, 0.0, self.gravity])
        rm = self.mount.rotation
        return ImuData(rm.T @ f, rm.T @ np.array([0.0, 0.0, r]))

    def measure(self, scene: Any, world: Any, t: float) -> ImuData:
        """One noisy sample at time ``t`` (s)."""
        prev_t = self._prev.t if self._prev is not None else None
        true = self.true_reading(world, t, scene)
        dt = t - prev_t if prev_t is not None and t > prev_t else 1.0 / self.rate_hz
        rng = self._rng
        self.accel_bias = self.accel_bias + rng.standard_normal(3) * self.accel_bias_random_walk * math.sqrt(dt)
        self.gyro_bias = self.gyro_bias + rng.standard_normal(3) * self.gyro_bias_random_walk * math.sqrt(dt)
        sa = self.accel_noise_density * math.sqrt(self.rate_hz)
        sg = self.gyro_noise_density * math.sqrt(self.rate_hz)
        acc = true.accel + self.accel_bias + rng.standard_normal(3) * sa
        gyr = true.gyro + self.gyro_bias + rng.standard_normal(3) * sg
        return ImuData(acc, gyr)


@dataclass(frozen=True)
class GnssData:
    """One GNSS fix: antenna ``position`` (3,) ENU m, ``velocity`` (3,) ENU m/s, ``heading`` rad
    (CCW from east, of the vehicle's x axis), and the configured 1-sigma values."""

    position: np.ndarray
    velocity: np.ndarray
    heading: float
    sigma_position: float
    sigma_velocity: float


class Gnss:
    """GNSS receiver at a mount (the antenna) on the carrier row.

    Noise: horizontal / vertical position white noise ``sigma_h``, ``sigma_v`` (m), a position bias
    random walk with density ``bias_random_walk`` (m/sqrt(s)) per axis, velocity white noise
    ``sigma_vel`` (m/s), heading white noise ``sigma_heading`` (rad; dual-antenna heading).
    """

    kind = "gnss"

    def __init__(
        self,
        name: str = "gnss",
        rate_hz: float = 10.0,
        mount: Mount | None = None,
        sigma_h: float = 0.0,
        sigma_v: float = 0.0,
        bias_random_walk: float = 0.0,
        sigma_vel: float = 0.0,
        sigma_heading: float = 0.0,
        row: int | None = None,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"gnss {name!r}: rate_hz must be positive, got {rate_hz}")
        for key, val in (
            ("sigma_h", sigma_h),
            ("sigma_v", sigma_v),
            ("bias_random_walk", bias_random_walk),
            ("sigma_vel", sigma_vel),
            ("sigma_heading", sigma_heading),
        ):
            if not (val >= 0 and math.isfinite(val)):
                raise ValueError(f"gnss {name!r}: {key} must be finite and >= 0, got {val}")
        self.name = name
        self.rate_hz = float(rate_hz)
        self.mount = mount or Mount()
        self.sigma_h = float(sigma_h)
        self.sigma_v = float(sigma_v)
        self.bias_random_walk = float(bias_random_walk)
        self.sigma_vel = float(sigma_vel)
        self.sigma_heading = float(sigma_heading)
        self.row = row
        self.seed(np.random.default_rng(0))

    def seed(self, rng: np.random.Generator) -> None:
        """Restart the noise stream; the bias starts at zero."""
        self._rng = rng
        self.bias = np.zeros(3)
        self._last_t: float | None = None

    def true_fix(self, world: Any, scene: Any = None) -> tuple[np.ndarray, np.ndarray, float]:
        """Noise-free antenna position (ENU m), velocity (ENU m/s) and heading (rad)."""
        row = world.ego if self.row is None else self.row
        p, _ = sensor_pose(world, row, Mount(self.mount.x, self.mount.y, self.mount.z), scene)
        m = true_motion(world, row, 0.0, None)
        r = m.yaw_rate
        vb = np.array([m.u - r * self.mount.y, m.v + r * self.mount.x])
        c, s = math.cos(m.yaw), math.sin(m.yaw)
        vel = np.array([c * vb[0] - s * vb[1], s * vb[0] + c * vb[1], 0.0])
        return p, vel, m.yaw

    def measure(self, scene: Any, world: Any, t: float) -> GnssData:
        """One noisy fix at time ``t`` (s)."""
        p, vel, yaw = self.true_fix(world, scene)
        rng = self._rng
        dt = t - self._last_t if self._last_t is not None and t > self._last_t else 1.0 / self.rate_hz
        self._last_t = float(t)
        self.bias = self.bias + rng.standard_normal(3) * self.bias_random_walk * math.sqrt(dt)
        white = rng.standard_normal(3) * np.array([self.sigma_h, self.sigma_h, self.sigma_v])
        vn = rng.standard_normal(3) * self.sigma_vel
        hd = yaw + rng.standard_normal() * self.sigma_heading
        hd = (hd + math.pi) % (2 * math.pi) - math.pi
        return GnssData(p + self.bias + white, vel + vn, hd, self.sigma_h, self.sigma_vel)
