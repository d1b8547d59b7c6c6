"""Lidar: spinning or solid-state, ray cast against the sensor scene, returns as a structured array.

Frames: the mount pose is in the vehicle frame (origin rear axle on the ground, x forward, y left,
z up); points are in the sensor frame (x forward, y left, z up) at the moment each column fires.
Channel ``c`` has elevation ``channel_elevations[c]``; column ``j`` has azimuth ``azimuths[j]`` (CCW from x)
and fires ``j / (columns * rate_hz)`` s after the sweep start (a spinning unit with a horizontal FOV below
360 deg: times ``fov / 360`` of that, the part of the turn it fires in).

Model (see docs/sensors.md, "Lidar"): first-surface range; intensity = reflectivity(class) *
|cos(incidence)| * exp(-2 alpha r); with ``reference_reflectivity`` > 0 a return is kept only if
intensity * (range_max / r)^2 >= reference_reflectivity (``range_max_m`` is quoted at that
reflectivity); range noise N(0, sigma); dropout probability ``dropout`` plus weather loss
1 - exp(-alpha r); weather extinction alpha (1/m) from rain (Carbonneau) and fog (Kim).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from simcore._types import F64
from simcore.rng import generator
from simcore.sensors import lidar_kernels as lk
from simcore.sensors import raycast_kernels as rk
from simcore.sensors.config import SensorConfigBase, SensorConfigError
from simcore.sensors.mount import Mount, sensor_motion
from simcore.sensors.scene import ActorBins, Scene, SemanticClass, actor_bins, prism_bins
from simcore.units import deg_to_rad

#: Output fields of a scan (one row per return).
LIDAR_DTYPE = np.dtype(
    [
        ("x", np.float64),
        ("y", np.float64),
        ("z", np.float64),
        ("range", np.float64),
        ("intensity", np.float32),
        ("actor_id", np.int32),
        ("azimuth", np.float32),
        ("elevation", np.float32),
        ("time", np.float32),
        ("channel", np.int16),
        ("class", np.int8),
        ("echo", np.uint8),
    ],
    align=True,
)
assert LIDAR_DTYPE.itemsize == 56  # no padding bytes: outputs are bit-identical byte for byte

#: Default near-infrared (905 nm) reflectivity per semantic class (diffuse, 0..1).
DEFAULT_REFLECTIVITY: dict[str, float] = {
    "NONE": 0.0,
    "ROAD": 0.12,
    "SIDEWALK": 0.3,
    "LANE_MARKING": 0.6,
    "GROUND": 0.2,
    "BUILDING": 0.3,
    "STATIC_OBJECT": 0.3,
    "POLE": 0.4,
    "VEGETATION": 0.5,
    "VEHICLE": 0.35,
    "PEDESTRIAN": 0.3,
    "CYCLIST": 0.3,
}


class LidarConfigError(SensorConfigError):
    """A lidar configuration value is missing, of the wrong type or out of range."""


@dataclass(frozen=True)
class Weather:
    """Atmosphere for optical sensors: rain rate (mm/h) and fog visibility (m; inf: no fog)."""

    rain_mm_h: float = 0.0
    fog_visibility_m: float = math.inf

    def __post_init__(self) -> None:
        if not self.rain_mm_h >= 0:
            raise LidarConfigError(f"weather.rain_mm_h must be >= 0, got {self.rain_mm_h}")
        if not self.fog_visibility_m > 0:
            raise LidarConfigError(f"weather.fog_visibility_m must be > 0, got {self.fog_visibility_m}")

    def extinction(self, wavelength_nm: float = 905.0) -> float:
        """Extinction coefficient alpha (1/m): rain 1.076 R^0.67 dB/km (Carbonneau), fog
        3.912 / V (lambda / 550 nm)^-q with Kim's q(V)."""
        alpha = 0.0
        if self.rain_mm_h > 0:
            alpha += 1.076 * self.rain_mm_h**0.67 / (10.0 * math.log10(math.e)) / 1000.0
        if math.isfinite(self.fog_visibility_m):
            v_km = self.fog_visibility_m / 1000.0
            if v_km > 50:
                q = 1.6
            elif v_km > 6:
                q = 1.3
            elif v_km > 1:
                q = 0.16 * v_km + 0.34
            elif v_km > 0.5:
                q = v_km - 0.5
            else:
                q = 0.0
            alpha += 3.912 / self.fog_visibility_m * (wavelength_nm / 550.0) ** (-q)
        return alpha


def weather_range(range_max: float, alpha: float) -> float:
    """Range (m) at which a clear-air return from ``range_max`` falls to the same power under two-way
    extinction ``alpha``: the root of r^2 = range_max^2 exp(-2 alpha r) (Newton on ln r + alpha r)."""
    if alpha <= 0:
        return range_max
    r = range_max
    for _ in range(50):
        f = math.log(r / range_max) + alpha * r
        r_new = r - f / (1.0 / r + alpha)
        if abs(r_new - r) < 1e-12 * range_max:
            r = r_new
            break
        r = max(r_new, 1e-9)
    return r


#: Presets as plain data (the keys of a rig file: angles ``*_deg`` in degrees).
_PRESETS: dict[str, dict[str, Any]] = {
    # Velodyne VLP-16: 16 channels, +-15 deg at 2 deg spacing, 0.2 deg at 10 Hz, 100 m.
    "vlp16": {"channels": 16, "vertical_fov_deg": (-15.0, 15.0), "points_per_channel": 1800, "range_max_m": 100.0,
              "range_noise_m": 0.03},
    # Velodyne HDL-32E: 32 channels from +10.67 to -30.67 deg, about 0.16 deg at 10 Hz, 100 m.
    "hdl32": {"channels": 32, "vertical_fov_deg": (-30.67, 10.67), "points_per_channel": 2250, "range_max_m": 100.0,
              "range_noise_m": 0.02},
    # Velodyne HDL-64E: 64 channels from +2 to -24.9 deg (uniform here), 120 m.
    "hdl64": {"channels": 64, "vertical_fov_deg": (-24.9, 2.0), "points_per_channel": 2048, "range_max_m": 120.0,
              "range_noise_m": 0.02},
    # Ouster OS1-64: 64 channels over 45 deg (+-22.5), 1024 columns at 10 Hz, 120 m.
    "os1_64": {"channels": 64, "vertical_fov_deg": (-22.5, 22.5), "points_per_channel": 1024, "range_max_m": 120.0,
               "range_noise_m": 0.03},
    # Ouster OS1-128: 128 channels over 45 deg (+-22.5), 1024 columns at 10 Hz, 120 m.
    "os1_128": {"channels": 128, "vertical_fov_deg": (-22.5, 22.5), "points_per_channel": 1024,
                "range_max_m": 120.0, "range_noise_m": 0.03},
    # Forward solid-state unit: 120 x 25 deg at 0.2 deg, 10 Hz, 200 m.
    "solid_state": {"kind": "solid_state", "channels": 126, "vertical_fov_deg": (-12.5, 12.5),
                    "points_per_channel": 600, "horizontal_fov_deg": 120.0, "range_max_m": 200.0,
                    "range_noise_m": 0.02},
}  # fmt: skip
PRESETS = tuple(_PRESETS)
_NO_RAYS = np.zeros((0, 3))
#: A full turn and a quarter turn (rad).
FULL_TURN = 2.0 * math.pi
QUARTER_TURN = 0.5 * math.pi
#: The column-wise kernel serves channels below this elevation (rad).
_COLUMN_MAX_ELEVATION = deg_to_rad(89.9)
_NO_T = np.zeros(0)
_NO_NOISE = np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class LidarConfig(SensorConfigBase):
    """Lidar configuration in SI (angles in rad; plain data and rig files give the angle fields in
    degrees as ``elevations_deg``, ``vertical_fov_deg``, ``horizontal_resolution_deg``,
    ``horizontal_fov_deg``, converted by ``from_dict``).

    Attributes:
        kind: ``"spinning"`` (columns sweep the horizontal FOV over one period) or ``"solid_state"``.
        elevations: channel elevations (rad, up positive); if empty, ``channels`` uniform over
            ``vertical_fov`` (lower, upper; rad).
        points_per_channel: columns per sweep (or ``horizontal_resolution`` > 0 (rad) instead).
        horizontal_fov: horizontal FOV (rad) centred on the sensor's x axis (2 pi for a full spin).
        range_min_m, range_max_m: returns outside are dropped (m).
        rate_hz: sweeps per second.
        range_noise_m: standard deviation of the Gaussian range noise (m).
        dropout: probability that a return is lost at random.
        reference_reflectivity: 0 for ideal returns up to range_max_m; > 0: range_max_m is the range for
            a target of this reflectivity, weaker (attenuated) returns drop out.
        reflectivity: per-class reflectivity overrides ({class name: 0..1}).
        mount: pose in the vehicle frame.
        motion_distortion: fire each column at its own time (sensor and actors move within the sweep).
        wavelength_nm: for the fog model.
    """

    kind: str = "spinning"
    elevations: tuple[float, ...] = ()
    channels: int = 16
    vertical_fov: tuple[float, float] = (deg_to_rad(-15.0), deg_to_rad(15.0))
    points_per_channel: int = 1800
    horizontal_resolution: float = 0.0
    horizontal_fov: float = FULL_TURN
    range_min_m: float = 0.5
    range_max_m: float = 100.0
    rate_hz: float = 10.0
    range_noise_m: float = 0.0
    dropout: float = 0.0
    reference_reflectivity: float = 0.0
    reflectivity: dict[str, float] = field(default_factory=dict)
    mount: Mount = field(default_factory=lambda: Mount(0.0, 0.0, 1.8))
    motion_distortion: bool = False
    wavelength_nm: float = 905.0

    SECTION = "lidar"
    ERROR = LidarConfigError
    DEG_FIELDS = ("elevations", "vertical_fov", "horizontal_resolution", "horizontal_fov")

    def __post_init__(self) -> None:
        bad = self._bad
        if self.kind not in ("spinning", "solid_state"):
            raise bad("kind", f"must be 'spinning' or 'solid_state', got {self.kind!r}")
        for e in self.elevations:
            if not -QUARTER_TURN <= e <= QUARTER_TURN:
                raise bad("elevations", f"elevations {self._deg('elevations')} not all in [-90, 90] deg")
        if not self.elevations:
            if int(self.channels) != self.channels or self.channels < 1:
                raise bad("channels", f"must be a positive integer, got {self.channels}")
            lo, hi = self.vertical_fov
            if not (-QUARTER_TURN <= lo <= hi <= QUARTER_TURN) or (self.channels > 1 and lo == hi):
                raise bad("vertical_fov", f"needs -90 <= lower < upper <= 90 deg, got {self._deg('vertical_fov')}")
        if self.horizontal_resolution < 0:
            raise bad("horizontal_resolution", "must be >= 0")
        if self.horizontal_resolution == 0 and (
            int(self.points_per_channel) != self.points_per_channel or self.points_per_channel < 1
        ):
            raise bad("points_per_channel", f"must be a positive integer, got {self.points_per_channel}")
        if not 0 < self.horizontal_fov <= FULL_TURN:
            raise bad("horizontal_fov", f"must be in (0, 360] deg, got {self._deg('horizontal_fov')}")
        self._check_range_rate()
        if not self.range_noise_m >= 0:
            raise bad("range_noise_m", f"must be >= 0, got {self.range_noise_m}")
        if not 0 <= self.dropout < 1:
            raise bad("dropout", f"must be in [0, 1), got {self.dropout}")
        if not 0 <= self.reference_reflectivity <= 1:
            raise bad("reference_reflectivity", f"must be in [0, 1], got {self.reference_reflectivity}")
        for name, v in self.reflectivity.items():
            if name.upper() not in SemanticClass.__members__:
                raise bad("reflectivity", f"unknown class {name!r}; known: {', '.join(SemanticClass.__members__)}")
            if not 0 <= v <= 1:
                raise bad("reflectivity", f"{name}: must be in [0, 1], got {v}")
        if not isinstance(self.mount, Mount):
            raise bad("mount", "must be a Mount")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> LidarConfig:
        """A named preset (``PRESETS``) with optional field overrides."""
        if name not in _PRESETS:
            raise LidarConfigError(f"unknown lidar preset {name!r}; known: {', '.join(PRESETS)}")
        return cls.from_dict({**_PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LidarConfig:
        """Config from plain data (YAML): the fields, angles as ``<field>_deg`` in degrees, ``preset``
        to start from a preset, ``mount`` as {x, y, z (m), roll_deg, pitch_deg, yaw_deg}. Unknown keys
        are errors."""
        data = dict(data)
        if "preset" in data:
            name = data.pop("preset")
            if name not in _PRESETS:
                raise LidarConfigError(f"unknown lidar preset {name!r}; known: {', '.join(PRESETS)}")
            data = {**_PRESETS[name], **data}
        fov = data.get("vertical_fov_deg")
        if fov is not None and (not isinstance(fov, list | tuple) or len(fov) != 2):
            raise LidarConfigError(f"lidar.vertical_fov_deg: expected [lower, upper], got {fov!r}")
        data = cls._checked_data(data)
        for key in ("channels", "points_per_channel"):
            if key in data and (isinstance(data[key], bool) or not isinstance(data[key], int)):
                raise LidarConfigError(f"lidar.{key}: expected an integer, got {data[key]!r}")
        return cls(**data)

    def with_(self, **changes: Any) -> LidarConfig:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    @property
    def channel_elevations(self) -> F64:
        """Elevation of every channel (rad): ``elevations``, or ``channels`` uniform over ``vertical_fov``."""
        if self.elevations:
            return np.array(self.elevations, dtype=float)
        lo, hi = self.vertical_fov
        if self.channels == 1:
            return np.array([0.5 * (lo + hi)])
        return np.linspace(lo, hi, self.channels)

    @property
    def n_columns(self) -> int:
        """Columns per sweep."""
        if self.horizontal_resolution > 0:
            return max(1, round(self.horizontal_fov / self.horizontal_resolution))
        return int(self.points_per_channel)

    @property
    def azimuths(self) -> F64:
        """Column azimuths (rad, CCW from the sensor's x axis), in firing order. A full spin starts at
        -180 deg; a partial FOV spans [-fov/2, fov/2] with columns at the centres of equal steps."""
        n = self.n_columns
        fov = self.horizontal_fov
        return -0.5 * fov + (np.arange(n) + 0.5) * (fov / n)  # type: ignore[return-value]

    def reflectivity_table(self) -> F64:
        """(12,) reflectivity indexed by ``SemanticClass``."""
        table = {**DEFAULT_REFLECTIVITY, **{k.upper(): float(v) for k, v in self.reflectivity.items()}}
        return np.array([table[c.name] for c in SemanticClass], dtype=float)


class Lidar:
    """A lidar with its own seeded noise stream. ``scan`` casts one sweep from a given pose;
    ``scan_world`` mounts it on a state row of a World."""

    def __init__(self, config: LidarConfig, seed: int = 0, instance: int = 0, name: str = "lidar") -> None:
        self.config = config
        self.rng = generator(seed, instance, f"sensor:{name}")
        self._elev = np.ascontiguousarray(config.channel_elevations)
        self._azim = np.ascontiguousarray(config.azimuths)
        ncol = self._azim.size
        frac = config.horizontal_fov / FULL_TURN if config.kind == "spinning" else 1.0
        self._col_time = np.arange(ncol) * (frac / (ncol * config.rate_hz))
        self._refl = config.reflectivity_table()
        self._bins: ActorBins | None = None
        self._scratch: tuple | None = None
        self._pbins: ActorBins | None = None
        #: Use the column-wise kernel when the sensor is level (set False to force the per-ray path).
        self.column_mode = True

    @property
    def n_rays(self) -> int:
        """Rays per sweep."""
        return int(self._elev.size * self._azim.size)

    def _hits(self, n: int) -> tuple[F64, np.ndarray, np.ndarray, F64]:
        """Scratch arrays for the first hits of a sweep (reused between sweeps)."""
        if self._scratch is None or self._scratch[0].size != n:
            self._scratch = (np.empty(n), np.empty(n, dtype=np.int8), np.empty(n, dtype=np.int64), np.empty(n))
        return self._scratch

    def scan(
        self,
        scene: Scene,
        position: F64,
        rotation: F64,
        *,
        velocity: F64 | None = None,
        yaw_rate: float = 0.0,
        skip: int = -1,
        active: np.ndarray | None = None,
        weather: Weather | None = None,
    ) -> np.ndarray:
        """One sweep from the sensor pose (``position`` (3,) m, ``rotation`` 3x3 sensor -> world) at
        the sweep start. ``velocity`` (3,) m/s and ``yaw_rate`` rad/s of the sensor are used with
        motion distortion; ``skip`` is the carrying vehicle's row (not hit); ``active`` overrides
        ``scene.box_active``. Returns a ``LIDAR_DTYPE`` array of the kept returns."""
        cfg = self.config
        p0 = np.ascontiguousarray(position, dtype=float).reshape(3)
        r0 = np.ascontiguousarray(rotation, dtype=float).reshape(3, 3)
        vel = np.zeros(3) if velocity is None else np.ascontiguousarray(velocity, dtype=float).reshape(3)
        distort = bool(cfg.motion_distortion)
        sweep = float(self._col_time[-1]) if distort else 0.0
        pad = float(np.linalg.norm(vel[:2])) * sweep * (1 + 1e-9) + 1e-9
        alpha = weather.extinction(cfg.wavelength_nm) if weather is not None else 0.0
        rmax = cfg.range_max_m if cfg.reference_reflectivity > 0 else weather_range(cfg.range_max_m, alpha)
        self._bins = actor_bins(scene, p0[0], p0[1], pad, sweep, skip, active, self._bins, max_range=rmax)
        n = self.n_rays
        noise = self.rng.standard_normal(n, dtype=np.float32) if cfg.range_noise_m > 0 else _NO_NOISE
        uni = self.rng.random(n, dtype=np.float32) if (cfg.dropout > 0 or alpha > 0) else _NO_NOISE
        b = self._bins
        hr, hc, hi, hcos = self._hits(n)
        level = abs(r0[2, 0]) < 1e-12 and abs(r0[2, 1]) < 1e-12 and abs(r0[0, 2]) < 1e-12 and abs(r0[1, 2]) < 1e-12
        if level and self.column_mode and np.all(np.abs(self._elev) < _COLUMN_MAX_ELEVATION):
            pb = self._pbins = prism_bins(scene, p0[0], p0[1], pad, self._pbins, max_range=rmax)
            lk.lidar_columns(  # type: ignore[call-arg]
                self._elev, self._azim, self._col_time, p0, r0, vel, float(yaw_rate), distort, float(rmax),
                b.start, b.items, b.near, scene.box_cx, scene.box_cy, scene.box_cz, scene.box_yaw, scene.box_hl,
                scene.box_hw, scene.box_hh, scene.box_vx, scene.box_vy, scene.box_class,
                pb.start, pb.items, pb.near, scene.poly_start, scene.poly_x, scene.poly_y, scene.poly_zmin,
                scene.poly_zmax, scene.poly_class, *scene.ground_args(), hr, hc, hi, hcos,
            )  # fmt: skip
        else:
            rk.trace(  # type: ignore[call-arg]
                1, _NO_RAYS, _NO_RAYS, _NO_T, self._elev, self._azim, self._col_time, p0, r0, vel, float(yaw_rate),
                distort, 0.0, float(rmax), b.start, b.items, b.near,
                scene.box_cx, scene.box_cy, scene.box_cz, scene.box_yaw, scene.box_hl, scene.box_hw, scene.box_hh,
                scene.box_vx, scene.box_vy, scene.box_class, *scene.prism_args(), *scene.ground_args(),
                hr, hc, hi, hcos,
            )  # fmt: skip
        out = np.empty(n, dtype=LIDAR_DTYPE)
        m = lk.lidar_returns(
            self._elev, self._azim, self._col_time, hr, hc, hi, hcos,
            float(cfg.range_min_m), float(rmax), float(alpha), float(cfg.reference_reflectivity), self._refl,
            float(cfg.range_noise_m), noise, float(cfg.dropout), uni,
            out["x"], out["y"], out["z"], out["range"], out["intensity"], out["class"], out["actor_id"],
            out["channel"], out["azimuth"], out["elevation"], out["time"], out["echo"],
        )  # fmt: skip
        return out[:m]

    def scan_world(self, world: Any, scene: Scene, row: int, weather: Weather | None = None) -> np.ndarray:
        """One sweep from the lidar mounted on state row ``row`` (its own box is not hit; only actors of
        the row's instance are seen). The scene's actor boxes must be current (``update_actors``)."""
        pos, rot, vel, wz = sensor_motion(world, row, self.config.mount, scene)
        st = world.state
        active = scene.box_active & (scene.box_instance == st.instance[row])
        return self.scan(scene, pos, rot, velocity=vel, yaw_rate=wz, skip=row, active=active, weather=weather)
