"""Radar: detections of the actors in the field of view, with occlusion by ray tests, resolution-cell
merging, noise, Poisson clutter and an optional alpha-beta tracker.

Frames: the mount pose is in the vehicle frame; detections are in the sensor frame (x forward along
the boresight, y left, z up): range (m), azimuth (rad, CCW from x), elevation (rad, up +), radial
velocity (m/s, positive = moving away), RCS (dBsm). See docs/sensors.md, "Radar".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simcore._types import F64
from simcore.rng import generator
from simcore.sensors.config import SensorConfigBase, SensorConfigError
from simcore.sensors.mount import Mount, sensor_motion
from simcore.sensors.scene import Scene, SemanticClass, cast_rays
from simcore.units import deg_to_rad

#: One radar detection.
RADAR_DTYPE = np.dtype(
    [
        ("range", np.float64),
        ("azimuth", np.float64),
        ("elevation", np.float64),
        ("radial_velocity", np.float64),
        ("rcs", np.float64),
        ("x", np.float64),
        ("y", np.float64),
        ("z", np.float64),
        ("actor_id", np.int32),
        ("n_merged", np.int16),
    ]
)

#: One track of the optional tracker (world frame, ENU).
TRACK_DTYPE = np.dtype(
    [
        ("track_id", np.int64),
        ("x", np.float64),
        ("y", np.float64),
        ("vx", np.float64),
        ("vy", np.float64),
        ("hits", np.int32),
        ("misses", np.int32),
        ("confirmed", np.bool_),
    ]
)

#: Default radar cross-sections (dBsm) by class (77 GHz, typical published values: car ~10, person ~-5).
DEFAULT_RCS_DBSM: dict[str, float] = {
    "VEHICLE": 10.0,
    "PEDESTRIAN": -5.0,
    "CYCLIST": 0.0,
    "BUILDING": 20.0,
    "STATIC_OBJECT": 5.0,
    "POLE": 5.0,
    "VEGETATION": -5.0,
}


class RadarConfigError(SensorConfigError):
    """A radar configuration value is missing, of the wrong type or out of range."""


@dataclass(frozen=True)
class RadarConfig(SensorConfigBase):
    """Radar configuration in SI (angles in rad; plain data and rig files give the angle fields in
    degrees as ``<field>_deg``: ``fov_azimuth_deg``, ..., converted by ``from_dict``).

    Attributes:
        fov_azimuth, fov_elevation: full field of view (rad), centred on the boresight.
        range_min_m, range_max_m: detectable range of the target centre.
        rate_hz: scans per second.
        range_resolution_m, azimuth_resolution (rad), velocity_resolution_mps: targets closer than all
            three resolutions to each other (single linkage) merge into one detection.
        range_noise_m, azimuth_noise, elevation_noise (rad), velocity_noise_mps, rcs_noise_db:
            Gaussian noise standard deviations.
        rcs_dbsm: per-class RCS overrides ({class name: dBsm}).
        detection_probability: probability that a visible target is detected.
        clutter_rate: mean number of false (static clutter) detections per scan (Poisson).
        occlusion_rays: rays per target (1: centre only; 5: centre and four points at half the box's
            half extents); a target is visible if at least ``min_visible_fraction`` of them reach it first.
        min_visible_fraction: see above.
        mount: pose in the vehicle frame.
        track: also run the alpha-beta tracker (``Radar.tracks``).
        track_gate_m, track_alpha, track_beta, track_confirm_hits, track_max_misses: tracker settings.
    """

    fov_azimuth: float = deg_to_rad(90.0)
    fov_elevation: float = deg_to_rad(10.0)
    range_min_m: float = 0.5
    range_max_m: float = 200.0
    rate_hz: float = 20.0
    range_resolution_m: float = 0.5
    azimuth_resolution: float = deg_to_rad(2.0)
    velocity_resolution_mps: float = 0.2
    range_noise_m: float = 0.1
    azimuth_noise: float = deg_to_rad(0.3)
    elevation_noise: float = deg_to_rad(0.5)
    velocity_noise_mps: float = 0.05
    rcs_noise_db: float = 1.0
    rcs_dbsm: dict[str, float] = field(default_factory=dict)
    detection_probability: float = 1.0
    clutter_rate: float = 0.0
    occlusion_rays: int = 5
    min_visible_fraction: float = 0.2
    mount: Mount = field(default_factory=lambda: Mount(3.5, 0.0, 0.5))
    track: bool = False
    track_gate_m: float = 3.0
    track_alpha: float = 0.5
    track_beta: float = 0.2
    track_confirm_hits: int = 3
    track_max_misses: int = 3

    SECTION = "radar"
    ERROR = RadarConfigError
    DEG_FIELDS = ("fov_azimuth", "fov_elevation", "azimuth_resolution", "azimuth_noise", "elevation_noise")

    def __post_init__(self) -> None:
        bad = self._bad
        if not 0 < self.fov_azimuth <= 2.0 * math.pi:
            raise bad("fov_azimuth", f"must be in (0, 360] deg, got {self._deg('fov_azimuth')}")
        if not 0 < self.fov_elevation <= math.pi:
            raise bad("fov_elevation", f"must be in (0, 180] deg, got {self._deg('fov_elevation')}")
        self._check_range_rate()
        for key in ("range_resolution_m", "azimuth_resolution", "velocity_resolution_mps"):
            if not getattr(self, key) >= 0:
                raise bad(key, f"must be >= 0, got {self._deg(key)}")
        for key in ("range_noise_m", "azimuth_noise", "elevation_noise", "velocity_noise_mps", "rcs_noise_db"):
            if not getattr(self, key) >= 0:
                raise bad(key, f"must be >= 0, got {self._deg(key)}")
        if not 0 <= self.detection_probability <= 1:
            raise bad("detection_probability", f"must be in [0, 1], got {self.detection_probability}")
        if not self.clutter_rate >= 0:
            raise bad("clutter_rate", f"must be >= 0, got {self.clutter_rate}")
        if self.occlusion_rays not in (0, 1, 5):
            raise bad("occlusion_rays", f"must be 0 (no occlusion), 1 or 5, got {self.occlusion_rays}")
        if not 0 <= self.min_visible_fraction <= 1:
            raise bad("min_visible_fraction", f"must be in [0, 1], got {self.min_visible_fraction}")
        for name in self.rcs_dbsm:
            if name.upper() not in SemanticClass.__members__:
                raise bad("rcs_dbsm", f"unknown class {name!r}; known: {', '.join(SemanticClass.__members__)}")
        if not (0 < self.track_alpha <= 1 and 0 <= self.track_beta <= 2 and self.track_gate_m > 0):
            raise bad("track_*", "need 0 < track_alpha <= 1, 0 <= track_beta <= 2, track_gate_m > 0")
        if self.track_confirm_hits < 1 or self.track_max_misses < 0:
            raise bad("track_*", "need track_confirm_hits >= 1 and track_max_misses >= 0")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RadarConfig:
        """Config from plain data (YAML): the fields, angles as ``<field>_deg`` in degrees, ``mount`` as
        {x, y, z (m), roll_deg, pitch_deg, yaw_deg}. Unknown keys are errors."""
        return cls(**cls._checked_data(data))

    def rcs_table(self) -> F64:
        """(12,) RCS in dBsm indexed by ``SemanticClass`` (0 dBsm where unset)."""
        table = {**DEFAULT_RCS_DBSM, **{k.upper(): float(v) for k, v in self.rcs_dbsm.items()}}
        return np.array([table.get(c.name, 0.0) for c in SemanticClass], dtype=float)


def _merge(r: F64, az: F64, v: F64, dr: float, daz: float, dv: float) -> np.ndarray:
    """Cluster label per target: single linkage of targets closer than (dr, daz, dv) in all three."""
    n = r.size
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for i in range(n):
        close = (
            (np.abs(r[i + 1 :] - r[i]) < dr) & (np.abs(az[i + 1 :] - az[i]) < daz) & (np.abs(v[i + 1 :] - v[i]) < dv)
        )
        for j in np.flatnonzero(close) + i + 1:
            a, b = find(i), find(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    return np.array([find(i) for i in range(n)], dtype=np.int64)


class Radar:
    """A radar with its own seeded noise stream; ``scan`` from a pose, ``scan_world`` on a state row."""

    def __init__(self, config: RadarConfig, seed: int = 0, instance: int = 0, name: str = "radar") -> None:
        self.config = config
        self.rng = generator(seed, instance, f"sensor:{name}")
        self._rcs = config.rcs_table()
        self._tracks = np.zeros(0, dtype=TRACK_DTYPE)
        self._next_track = 0

    def truth(
        self,
        scene: Scene,
        position: F64,
        rotation: F64,
        velocity: F64,
        skip: int = -1,
        active: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Noise-free targets: actors whose box centre lies in the FOV and range and that are visible
        (occlusion rays). Returns arrays ``actor_id, range, azimuth, elevation, radial_velocity, rcs,
        visible`` (fraction of occlusion rays that reach the target first)."""
        cfg = self.config
        p0 = np.asarray(position, dtype=float).reshape(3)
        rot = np.asarray(rotation, dtype=float).reshape(3, 3)
        vs = np.asarray(velocity, dtype=float).reshape(3)
        act = scene.box_active if active is None else np.asarray(active, dtype=bool)
        rows = np.flatnonzero(act)
        rows = rows[rows != skip]
        centre = np.stack([scene.box_cx[rows], scene.box_cy[rows], scene.box_cz[rows]], axis=1)
        rel = (centre - p0) @ rot  # sensor frame
        rng_ = np.linalg.norm(rel, axis=1)
        az = np.arctan2(rel[:, 1], rel[:, 0])
        el = np.arcsin(np.clip(rel[:, 2] / np.maximum(rng_, 1e-12), -1.0, 1.0))
        keep = (
            (rng_ >= cfg.range_min_m) & (rng_ <= cfg.range_max_m)
            & (np.abs(az) <= cfg.fov_azimuth / 2)
            & (np.abs(el) <= cfg.fov_elevation / 2)
        )  # fmt: skip
        rows, centre, rng_, az, el = rows[keep], centre[keep], rng_[keep], az[keep], el[keep]
        visible = np.ones(rows.size)
        if cfg.occlusion_rays and rows.size:
            pts = [centre]
            if cfg.occlusion_rays == 5:
                c, s = np.cos(scene.box_yaw[rows]), np.sin(scene.box_yaw[rows])
                hw, hh = 0.5 * scene.box_hw[rows], 0.5 * scene.box_hh[rows]
                for oy, oz in ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
                    pts.append(centre + np.stack([-s * hw * oy, c * hw * oy, hh * oz], axis=1))
            targets = np.concatenate(pts)
            ids = np.tile(rows, len(pts))
            d = targets - p0
            dist = np.linalg.norm(d, axis=1)
            _, _, hit_id, _ = cast_rays(scene, np.broadcast_to(p0, d.shape), d, tmax=float(dist.max()) + 1.0,
                                        skip=skip, active=act)  # fmt: skip
            visible = (hit_id == ids).reshape(len(pts), rows.size).mean(axis=0)
            ok = visible >= max(cfg.min_visible_fraction, 1e-12)
            rows, centre, rng_, az, el, visible = rows[ok], centre[ok], rng_[ok], az[ok], el[ok], visible[ok]
        los = (centre - p0) / np.maximum(rng_, 1e-12)[:, None]
        vt = np.stack([scene.box_vx[rows], scene.box_vy[rows], np.zeros(rows.size)], axis=1)
        vr = np.einsum("ij,ij->i", vt - vs, los)
        return {
            "actor_id": rows.astype(np.int64),
            "range": rng_,
            "azimuth": az,
            "elevation": el,
            "radial_velocity": vr,
            "rcs": self._rcs[scene.box_class[rows]],
            "visible": visible,
        }

    def scan(
        self,
        scene: Scene,
        position: F64,
        rotation: F64,
        *,
        velocity: F64 | None = None,
        skip: int = -1,
        active: np.ndarray | None = None,
    ) -> np.ndarray:
        """One scan from the sensor pose (``position`` (3,) m, ``rotation`` 3x3 sensor -> world) moving
        with ``velocity`` (3,) m/s world frame; ``skip``: the carrying vehicle's row. Returns a
        ``RADAR_DTYPE`` array sorted by range: merged, noisy target detections and clutter."""
        cfg = self.config
        vs = np.zeros(3) if velocity is None else np.asarray(velocity, dtype=float).reshape(3)
        tr = self.truth(scene, position, rotation, vs, skip, active)
        n = tr["range"].size
        # the same number of draws every scan for a given target count: reproducible streams
        u_det = self.rng.random(n)
        det = u_det < cfg.detection_probability
        r, az, el, vr, rcs, ids = (tr[k][det] for k in ("range", "azimuth", "elevation", "radial_velocity", "rcs",
                                                       "actor_id"))  # fmt: skip
        lab = _merge(r, az, vr, cfg.range_resolution_m, cfg.azimuth_resolution,
                     cfg.velocity_resolution_mps)  # fmt: skip
        groups = np.unique(lab)
        m = groups.size
        out_r, out_az, out_el, out_v = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
        out_rcs, out_id, out_n = np.empty(m), np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
        for g_i, g in enumerate(groups):
            sel = np.flatnonzero(lab == g)
            w = 10.0 ** (rcs[sel] / 10.0)
            out_r[g_i] = np.sum(w * r[sel]) / w.sum()
            out_az[g_i] = np.sum(w * az[sel]) / w.sum()
            out_el[g_i] = np.sum(w * el[sel]) / w.sum()
            out_v[g_i] = np.sum(w * vr[sel]) / w.sum()
            out_rcs[g_i] = 10.0 * math.log10(w.sum())
            out_id[g_i] = ids[sel[np.argmax(w)]]
            out_n[g_i] = sel.size
        noise = self.rng.standard_normal((5, m))
        out_r = out_r + cfg.range_noise_m * noise[0]
        out_az = out_az + cfg.azimuth_noise * noise[1]
        out_el = out_el + cfg.elevation_noise * noise[2]
        out_v = out_v + cfg.velocity_noise_mps * noise[3]
        out_rcs = out_rcs + cfg.rcs_noise_db * noise[4]
        # clutter: static scatterers uniform in range and angle
        nc = int(self.rng.poisson(cfg.clutter_rate)) if cfg.clutter_rate > 0 else 0
        cu = self.rng.random((4, nc))
        c_r = cfg.range_min_m + (cfg.range_max_m - cfg.range_min_m) * cu[0]
        c_az = cfg.fov_azimuth * (cu[1] - 0.5)
        c_el = cfg.fov_elevation * (cu[2] - 0.5)
        rot = np.asarray(rotation, dtype=float).reshape(3, 3)
        los_s = np.stack([np.cos(c_el) * np.cos(c_az), np.cos(c_el) * np.sin(c_az), np.sin(c_el)], axis=1)
        c_v = -(los_s @ rot.T) @ vs
        c_rcs = -10.0 + 15.0 * cu[3]
        out = np.empty(m + nc, dtype=RADAR_DTYPE)
        out["range"] = np.concatenate([np.maximum(out_r, 0.0), c_r])
        out["azimuth"] = np.concatenate([out_az, c_az])
        out["elevation"] = np.concatenate([out_el, c_el])
        out["radial_velocity"] = np.concatenate([out_v, c_v])
        out["rcs"] = np.concatenate([out_rcs, c_rcs])
        out["actor_id"] = np.concatenate([out_id, np.full(nc, -1)])
        out["n_merged"] = np.concatenate([out_n, np.zeros(nc, dtype=np.int64)])
        ce = np.cos(out["elevation"])
        out["x"] = out["range"] * ce * np.cos(out["azimuth"])
        out["y"] = out["range"] * ce * np.sin(out["azimuth"])
        out["z"] = out["range"] * np.sin(out["elevation"])
        out = out[np.argsort(out["range"], kind="stable")]
        if cfg.track:
            self._update_tracks(out, np.asarray(position, float).reshape(3), rot)
        return out

    def scan_world(self, world: Any, scene: Scene, row: int) -> np.ndarray:
        """One scan from the radar mounted on state row ``row`` (only actors of its instance)."""
        pos, rot, vel, _ = sensor_motion(world, row, self.config.mount, scene)
        st = world.state
        active = scene.box_active & (scene.box_instance == st.instance[row])
        return self.scan(scene, pos, rot, velocity=vel, skip=row, active=active)

    # ------------------------------------------------------------------------------------- tracker

    @property
    def tracks(self) -> np.ndarray:
        """Current tracks (``TRACK_DTYPE``, world frame); only with ``track: true``."""
        return self._tracks.copy()

    def _update_tracks(self, det: np.ndarray, p0: F64, rot: F64) -> None:
        """Alpha-beta filter on world (x, y): predict, associate each track with the nearest unused
        detection inside the gate (greedy, nearest pairs first), correct, start tracks from the rest."""
        cfg = self.config
        dt = 1.0 / cfg.rate_hz
        pts = np.stack([det["x"], det["y"], det["z"]], axis=1) @ rot.T + p0
        tr = self._tracks
        px = tr["x"] + tr["vx"] * dt
        py = tr["y"] + tr["vy"] * dt
        used_t = np.zeros(tr.size, dtype=bool)
        used_d = np.zeros(det.size, dtype=bool)
        if tr.size and det.size:
            d2 = (px[:, None] - pts[None, :, 0]) ** 2 + (py[:, None] - pts[None, :, 1]) ** 2
            order = np.argsort(d2, axis=None, kind="stable")
            for flat in order:
                i, j = divmod(int(flat), det.size)
                if d2[i, j] > cfg.track_gate_m**2:
                    break
                if used_t[i] or used_d[j]:
                    continue
                used_t[i] = used_d[j] = True
                rx, ry = pts[j, 0] - px[i], pts[j, 1] - py[i]
                tr["x"][i] = px[i] + cfg.track_alpha * rx
                tr["y"][i] = py[i] + cfg.track_alpha * ry
                tr["vx"][i] += cfg.track_beta / dt * rx
                tr["vy"][i] += cfg.track_beta / dt * ry
                tr["hits"][i] += 1
                tr["misses"][i] = 0
        miss = ~used_t
        tr["x"][miss], tr["y"][miss] = px[miss], py[miss]
        tr["misses"][miss] += 1
        tr["confirmed"] |= tr["hits"] >= cfg.track_confirm_hits
        tr = tr[tr["misses"] <= cfg.track_max_misses]
        new = np.flatnonzero(~used_d)
        born = np.zeros(new.size, dtype=TRACK_DTYPE)
        born["track_id"] = self._next_track + np.arange(new.size)
        self._next_track += new.size
        born["x"], born["y"], born["hits"] = pts[new, 0], pts[new, 1], 1
        born["confirmed"] = cfg.track_confirm_hits <= 1
        self._tracks = np.concatenate([tr, born])
