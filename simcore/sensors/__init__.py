"""Sensors: lidar, radar, camera, GNSS/IMU and object lists over a ray-castable ``Scene``."""

from simcore.sensors.scene import Scene, SemanticClass, build_scene, update_actors

__all__ = ["Scene", "SemanticClass", "build_scene", "update_actors"]
