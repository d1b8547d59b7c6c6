"""Object-list sensor: "perfect perception" of the actors around the carrier, with realism knobs.

Each frame lists the actors of the carrier's scenario instance whose box centre lies within
``max_range`` (m, 3-D distance from the mount) and inside the horizontal field of view ``fov`` (rad)
(centred on the mount's x axis), and whose visibility is above zero and at least ``min_visibility``
(``occlusion: false`` skips the ray test: visibility 1). Visibility is
the share of ``VIS_POINTS`` rays (to the box centre and to its 8 corners pulled 10 % towards the
centre) that reach the target before hitting anything else (other actors, buildings, ground).

Realism knobs: Gaussian position noise ``pos_sigma`` (m, per horizontal axis) and velocity noise
``vel_sigma`` (m/s), detection probability ``p_detect`` (missed detections), false positives
(Poisson with mean ``false_positive_rate`` per frame, placed uniformly in the FOV sector on ROAD
ground, id -1), and ``latency`` (s): ``measure`` at time t returns the newest frame measured at or
before t - latency, with its own timestamp ``stamp`` (NaN and empty before the first one is due).

Columns (``OBJECT_DTYPE``): ``id`` (state row, -1 false positive), ``cls`` (SemanticClass),
``x, y, z, yaw`` box centre and heading in the carrier's vehicle frame (rear axle, x forward, y
left, z up), ``vx, vy`` the object's over-ground velocity expressed in that frame, ``length,
width, height`` (m), ``visibility`` (0..1), and the same pose and velocity in the ENU world frame
(``wx, wy, wz, wyaw, wvx, wvy``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.sensors.mount import Mount, vehicle_pose

__all__ = ["OBJECT_DTYPE", "ObjectFrame", "ObjectList", "visibility"]

OBJECT_DTYPE = np.dtype(
    [
        ("id", np.int32),
        ("cls", np.int8),
        ("x", np.float64),
        ("y", np.float64),
        ("z", np.float64),
        ("yaw", np.float64),
        ("length", np.float64),
        ("width", np.float64),
        ("height", np.float64),
        ("vx", np.float64),
        ("vy", np.float64),
        ("visibility", np.float64),
        ("wx", np.float64),
        ("wy", np.float64),
        ("wz", np.float64),
        ("wyaw", np.float64),
        ("wvx", np.float64),
        ("wvy", np.float64),
    ]
)

#: Rays per target for the visibility estimate (centre + 8 corners).
VIS_POINTS = 9
_SHRINK = 0.9
#: Size (length, width, height, m) of a false-positive vehicle.
FALSE_POSITIVE_SIZE = (4.5, 1.8, 1.5)


@dataclass
class ObjectFrame:
    """One object list measured at ``stamp`` (s; NaN: none yet)."""

    stamp: float
    objects: np.ndarray


def _sample_points(scene: Any, rows: np.ndarray) -> np.ndarray:
    """(len(rows) * VIS_POINTS, 3) world points: box centre, then 8 shrunken corners per row."""
    n = rows.size
    out = np.empty((n, VIS_POINTS, 3))
    cx, cy, cz = scene.box_cx[rows], scene.box_cy[rows], scene.box_cz[rows]
    c, s = np.cos(scene.box_yaw[rows]), np.sin(scene.box_yaw[rows])
    hl, hw, hh = (_SHRINK * scene.box_hl[rows], _SHRINK * scene.box_hw[rows], _SHRINK * scene.box_hh[rows])
    out[:, 0] = np.stack([cx, cy, cz], axis=1)
    k = 1
    for sx in (-1.0, 1.0):
        for sy in (-1.0, 1.0):
            for sz in (-1.0, 1.0):
                lx, ly = sx * hl, sy * hw
                out[:, k, 0] = cx + c * lx - s * ly
                out[:, k, 1] = cy + s * lx + c * ly
                out[:, k, 2] = cz + sz * hh
                k += 1
    return out.reshape(-1, 3)


def _cast(scene: Any, origins: np.ndarray, dirs: np.ndarray, tmax: float, skip: int, active: np.ndarray) -> tuple:
    """First hits (range, actor row) of rays against ``scene`` with the shared ray caster."""
    from simcore.sensors.scene import cast_rays

    rng_hit, _, id_hit, _ = cast_rays(scene, origins, dirs, tmax=tmax, skip=skip, active=active)
    return rng_hit, id_hit


def visibility(scene: Any, origin: np.ndarray, rows: np.ndarray, skip: int, active: np.ndarray) -> np.ndarray:
    """Share (0..1) of the ``VIS_POINTS`` sample rays from ``origin`` to each actor of ``rows`` that
    reach it unobstructed (the first hit is the actor itself, or nothing before the sample point)."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return np.zeros(0)
    pts = _sample_points(scene, rows)
    d = pts - origin
    dist = np.linalg.norm(d, axis=1)
    dist = np.where(dist > 0, dist, 1e-9)
    dirs = d / dist[:, None]
    origins = np.broadcast_to(np.asarray(origin, dtype=float), pts.shape).copy()
    rng_hit, id_hit = _cast(scene, origins, dirs, float(dist.max()) + 1.0, skip, active)
    target = np.repeat(rows, VIS_POINTS)
    clear = (id_hit == target) | (rng_hit >= dist - 1e-6)
    return clear.reshape(rows.size, VIS_POINTS).mean(axis=1)


class ObjectList:
    """Object-list sensor (see the module doc). ``row``: carrier state row (None: the world's ego)."""

    kind = "objects"

    def __init__(
        self,
        name: str = "objects",
        rate_hz: float = 10.0,
        mount: Mount | None = None,
        max_range: float = 100.0,
        fov: float = 2.0 * math.pi,
        min_visibility: float = 0.0,
        occlusion: bool = True,
        pos_sigma: float = 0.0,
        vel_sigma: float = 0.0,
        p_detect: float = 1.0,
        false_positive_rate: float = 0.0,
        latency: float = 0.0,
        row: int | None = None,
    ) -> None:
        checks = (
            ("rate_hz", rate_hz > 0),
            ("max_range", max_range > 0),
            ("fov", 0 < fov <= 2.0 * math.pi),
            ("min_visibility", 0 <= min_visibility <= 1),
            ("pos_sigma", pos_sigma >= 0),
            ("vel_sigma", vel_sigma >= 0),
            ("p_detect", 0 <= p_detect <= 1),
            ("false_positive_rate", false_positive_rate >= 0),
            ("latency", latency >= 0),
        )
        for key, ok in checks:
            if not ok:
                raise ValueError(f"object list {name!r}: {key} out of range ({locals()[key]!r})")
        self.name = name
        self.rate_hz = float(rate_hz)
        self.mount = mount or Mount()
        self.max_range = float(max_range)
        self.fov = float(fov)
        self.min_visibility = float(min_visibility)
        self.occlusion = bool(occlusion)
        self.pos_sigma = float(pos_sigma)
        self.vel_sigma = float(vel_sigma)
        self.p_detect = float(p_detect)
        self.false_positive_rate = float(false_positive_rate)
        self.latency = float(latency)
        self.row = row
        self.seed(np.random.default_rng(0))

    def seed(self, rng: np.random.Generator) -> None:
        """Restart the noise stream and drop queued frames."""
        self._rng = rng
        self._queue: deque[ObjectFrame] = deque()
        self._out = ObjectFrame(math.nan, np.zeros(0, dtype=OBJECT_DTYPE))

    def detect(self, scene: Any, world: Any, t: float) -> ObjectFrame:
        """The object list measured now (no latency applied); draws from the sensor's stream."""
        row = world.ego if self.row is None else self.row
        pv, rv = vehicle_pose(world, row, scene)
        ps = pv + rv @ self.mount.position
        rs = rv @ self.mount.rotation
        n = scene.box_cx.size
        active = np.ascontiguousarray(scene.box_active, dtype=np.bool_).copy()
        if scene.box_instance.size == n and 0 <= row < n:
            active &= scene.box_instance == scene.box_instance[row]
        cand = np.flatnonzero(active & (np.arange(n) != row))
        ctr = np.stack([scene.box_cx[cand], scene.box_cy[cand], scene.box_cz[cand]], axis=1)
        rel_s = (ctr - ps) @ rs  # sensor body frame
        dist = np.linalg.norm(rel_s, axis=1)
        az = np.arctan2(rel_s[:, 1], rel_s[:, 0])
        keep = dist <= self.max_range
        if self.fov < 2 * math.pi:
            keep &= np.abs(az) <= 0.5 * self.fov
        cand = cand[keep]
        vis = visibility(scene, ps, cand, row, active) if self.occlusion else np.ones(cand.size)
        rng = self._rng
        u = rng.random(cand.size)  # one draw per candidate, whatever the visibility
        sel = (vis >= self.min_visibility) & (vis > 0) & (u < self.p_detect)
        cand, vis = cand[sel], vis[sel]
        k = cand.size
        wx = scene.box_cx[cand] + rng.standard_normal(k) * self.pos_sigma
        wy = scene.box_cy[cand] + rng.standard_normal(k) * self.pos_sigma
        wvx = scene.box_vx[cand] + rng.standard_normal(k) * self.vel_sigma
        wvy = scene.box_vy[cand] + rng.standard_normal(k) * self.vel_sigma
        objs = np.zeros(k, dtype=OBJECT_DTYPE)
        objs["id"] = cand
        objs["cls"] = scene.box_class[cand]
        objs["wx"], objs["wy"], objs["wz"] = wx, wy, scene.box_cz[cand]
        objs["wyaw"] = scene.box_yaw[cand]
        objs["wvx"], objs["wvy"] = wvx, wvy
        objs["length"] = 2 * scene.box_hl[cand]
        objs["width"] = 2 * scene.box_hw[cand]
        objs["height"] = 2 * scene.box_hh[cand]
        objs["visibility"] = vis
        fps = self._false_positives(scene, ps, rs, rng)
        objs = np.concatenate([objs, fps])
        self._to_vehicle_frame(objs, pv, rv, float(world.state.yaw[row]))
        return ObjectFrame(float(t), objs)

    def _false_positives(self, scene: Any, ps: np.ndarray, rs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        m = int(rng.poisson(self.false_positive_rate)) if self.false_positive_rate > 0 else 0
        out = np.zeros(m, dtype=OBJECT_DTYPE)
        heading = math.atan2(rs[1, 0], rs[0, 0])
        half = 0.5 * min(self.fov, 2 * math.pi)
        ln, wd, ht = FALSE_POSITIVE_SIZE
        n_ok = 0
        for _ in range(m):
            for _try in range(50):
                r = self.max_range * math.sqrt(rng.random())
                a = heading + rng.uniform(-half, half)
                x, y = ps[0] + r * math.cos(a), ps[1] + r * math.sin(a)
                if self._is_road(scene, x, y):
                    z = float(scene.ground_height(x, y))
                    out[n_ok] = (-1, 9, 0, 0, 0, 0, ln, wd, ht, 0, 0, 1.0, x, y, z + ht / 2,
                                 rng.uniform(-math.pi, math.pi), 0.0, 0.0)  # fmt: skip
                    n_ok += 1
                    break
        return out[:n_ok]

    @staticmethod
    def _is_road(scene: Any, x: float, y: float) -> bool:
        ix = math.floor((x - scene.ground_x0) / scene.ground_cell + 0.5)
        iy = math.floor((y - scene.ground_y0) / scene.ground_cell + 0.5)
        ny, nx = scene.ground_class.shape
        if not (0 <= ix < nx and 0 <= iy < ny):
            return False
        return int(scene.ground_class[iy, ix]) in (1, 3)  # ROAD, LANE_MARKING

    @staticmethod
    def _to_vehicle_frame(objs: np.ndarray, pv: np.ndarray, rv: np.ndarray, yaw: float) -> None:
        w = np.stack([objs["wx"], objs["wy"], objs["wz"]], axis=1)
        loc = (w - pv) @ rv
        objs["x"], objs["y"], objs["z"] = loc[:, 0], loc[:, 1], loc[:, 2]
        objs["yaw"] = (objs["wyaw"] - yaw + np.pi) % (2 * np.pi) - np.pi
        c, s = math.cos(yaw), math.sin(yaw)
        objs["vx"] = c * objs["wvx"] + s * objs["wvy"]
        objs["vy"] = -s * objs["wvx"] + c * objs["wvy"]

    def measure(self, scene: Any, world: Any, t: float) -> ObjectFrame:
        """Measure now and return the newest frame at least ``latency`` old (see the module doc)."""
        self._queue.append(self.detect(scene, world, t))
        while self._queue and self._queue[0].stamp <= t - self.latency + 1e-9:
            self._out = self._queue.popleft()
        return self._out
