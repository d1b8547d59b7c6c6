"""Sensor mounts: a pose in the vehicle frame, and the sensor's pose in the ENU world frame.

Vehicle frame: origin at the rear-axle centre on the ground, x forward, y left, z up.
A mount is (x, y, z) in metres and (roll, pitch, yaw) in radians, applied as
R = Rz(yaw) Ry(pitch) Rx(roll) (intrinsic z-y'-x''): a mount with all angles zero looks
along the vehicle's +x. The sensor body frame has the same axes convention (x forward,
y left, z up); the camera adds its optical frame on top (see ``camera.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simcore.units import deg_to_rad

__all__ = ["Mount", "rotation_zyx", "sensor_motion", "sensor_pose", "vehicle_pose"]


def rotation_zyx(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """3x3 rotation Rz(yaw) Ry(pitch) Rx(roll) (rad); maps body-frame vectors into the parent frame."""
    cr, sr = math.cos(roll), math.sin(roll)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


@dataclass(frozen=True)
class Mount:
    """Pose of a sensor in the vehicle frame: position (m), roll/pitch/yaw (rad)."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    roll: float = 0.0
    pitch: float = 0.0
    yaw: float = 0.0

    @classmethod
    def from_deg(cls, x: float = 0.0, y: float = 0.0, z: float = 0.0, roll_deg: float = 0.0,
                 pitch_deg: float = 0.0, yaw_deg: float = 0.0) -> Mount:  # fmt: skip
        """A mount with its angles given in degrees."""
        return cls(x, y, z, deg_to_rad(roll_deg), deg_to_rad(pitch_deg), deg_to_rad(yaw_deg))

    @property
    def rotation(self) -> np.ndarray:
        """3x3 rotation sensor body -> vehicle frame."""
        return rotation_zyx(self.roll, self.pitch, self.yaw)

    @property
    def position(self) -> np.ndarray:
        """(3,) mount position in the vehicle frame (m)."""
        return np.array([self.x, self.y, self.z])


def vehicle_pose(world: object, row: int, scene: object | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(position (3,), rotation 3x3 vehicle -> world) of state row ``row``.

    Position: the row's reference point (rear axle) at ground height (from ``scene``'s
    heightfield, 0 without one). Rotation: yaw from the state, pitch from the road grade
    (``world.grade``, uphill +, nose up = negative pitch about the left-pointing y axis), no roll.
    """
    st = world.state  # type: ignore[attr-defined]
    x, y, yaw = float(st.x[row]), float(st.y[row]), float(st.yaw[row])
    grade = getattr(world, "grade", None)
    g = float(grade[row]) if grade is not None and len(grade) > row else 0.0
    z = float(scene.ground_height(x, y)) if scene is not None else 0.0  # type: ignore[attr-defined]
    return np.array([x, y, z]), rotation_zyx(0.0, -g, yaw)


def sensor_pose(world: object, row: int, mount: Mount, scene: object | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(position (3,), rotation 3x3 sensor body -> world) of a sensor mounted on row ``row``."""
    p, r = vehicle_pose(world, row, scene)
    return p + r @ mount.position, r @ mount.rotation


def sensor_motion(
    world: object, row: int, mount: Mount, scene: object | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(position (3,), rotation 3x3 sensor body -> world, velocity (3,) m/s, yaw rate rad/s) of a sensor
    mounted on row ``row``: the velocity of the mount point (body velocity + yaw rate x mount offset) in
    the world frame (z = 0); rows without a yaw rate but with a wheelbase (kinematic rows) turn at
    ``v tan(steer) / wheelbase``."""
    pos, rot = sensor_pose(world, row, mount, scene)
    st = world.state  # type: ignore[attr-defined]
    c, s = math.cos(st.yaw[row]), math.sin(st.yaw[row])
    v = float(st.speed[row])
    vy = float(st.vy[row])
    wz = float(st.yaw_rate[row])
    if wz == 0.0 and "wheelbase" in world.params and st.steer[row] != 0.0:  # type: ignore[attr-defined]
        wz = v * math.tan(float(st.steer[row])) / float(world.params["wheelbase"][row])  # type: ignore[attr-defined]
    vbx, vby = v - wz * mount.y, vy + wz * mount.x
    return pos, rot, np.array([c * vbx - s * vby, s * vbx + c * vby, 0.0]), wz
