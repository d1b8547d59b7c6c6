"""Sensor rig files: the YAML schema of vehicles/sensors/*.yaml and the sensor objects they build.

A rig file is a mapping with ``name`` (the file's stem), an optional ``description`` and a list
``sensors``; each sensor has a unique ``name``, a ``type`` (camera, imu, gnss, objects, lidar,
radar), ``rate_hz``, a ``mount`` (x, y, z in m, roll_deg, pitch_deg, yaw_deg in the vehicle frame)
and the type's own keys (see docs/sensors.md). Files are read only with the safe loader of
``simcore.scenario.yaml_source``; every problem is reported as ``file:line:col: path: message``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from simcore._data import catalog_dir
from simcore.sensors.lidar import PRESETS as LIDAR_PRESETS
from simcore.sensors.lidar import LidarConfig
from simcore.sensors.mount import Mount
from simcore.sensors.radar import RadarConfig
from simcore.units import deg_per_h_to_rad_per_s as deg_per_h
from simcore.units import deg_per_sqrt_h_to_rad_per_sqrt_s as deg_per_sqrt_h
from simcore.units import deg_to_rad
from simcore.units import ug_to_mps2 as ug
from simcore.yamlio.errors import ScenarioError, did_you_mean
from simcore.yamlio.source import YamlDoc, issues_from_validation_error, load_yaml

__all__ = [
    "RigFile",
    "ScanSensor",
    "build_sensor",
    "build_sensors",
    "load_rig_file",
    "preset_catalog",
    "preset_path",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MountSpec(_Model):
    """Mount pose in the vehicle frame (m, deg)."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    roll_deg: float = Field(default=0.0, ge=-180, le=180)
    pitch_deg: float = Field(default=0.0, ge=-90, le=90)
    yaw_deg: float = Field(default=0.0, ge=-180, le=180)

    def mount(self) -> Mount:
        """The ``Mount`` (radians)."""
        return Mount.from_deg(self.x, self.y, self.z, self.roll_deg, self.pitch_deg, self.yaw_deg)


class _Sensor(_Model):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    rate_hz: float = Field(gt=0, le=10000)
    mount: MountSpec = MountSpec()


class CameraSpec(_Sensor):
    """Pinhole camera (``simcore.sensors.camera.Camera``)."""

    type: Literal["camera"]
    width: int = Field(default=640, ge=1, le=8192)
    height: int = Field(default=360, ge=1, le=8192)
    hfov_deg: float = Field(default=90.0, gt=0, lt=180)
    fx: float | None = Field(default=None, gt=0)
    fy: float | None = Field(default=None, gt=0)
    cx: float | None = None
    cy: float | None = None
    near_m: float = Field(default=0.1, gt=0)
    far_m: float = Field(default=200.0, gt=0)
    outputs: list[Literal["boxes", "depth", "semantic", "instance"]] = ["boxes", "depth", "semantic", "instance"]
    min_visible_pixels: int = Field(default=1, ge=1)


class ImuSpec(_Sensor):
    """IMU in datasheet units (``simcore.sensors.imu.Imu``)."""

    type: Literal["imu"]
    accel_noise_density_ug_sqrt_hz: float = Field(default=0.0, ge=0)
    accel_bias_sigma_ug: float = Field(default=0.0, ge=0)
    accel_bias_random_walk: float = Field(default=0.0, ge=0, description="m/s^3/sqrt(Hz)")
    gyro_arw_deg_sqrt_h: float = Field(default=0.0, ge=0)
    gyro_bias_sigma_deg_h: float = Field(default=0.0, ge=0)
    gyro_bias_random_walk: float = Field(default=0.0, ge=0, description="rad/s^2/sqrt(Hz)")


class GnssSpec(_Sensor):
    """GNSS receiver (``simcore.sensors.imu.Gnss``)."""

    type: Literal["gnss"]
    sigma_h_m: float = Field(default=0.0, ge=0)
    sigma_v_m: float = Field(default=0.0, ge=0)
    bias_random_walk: float = Field(default=0.0, ge=0, description="m/sqrt(s)")
    sigma_vel_mps: float = Field(default=0.0, ge=0)
    sigma_heading_deg: float = Field(default=0.0, ge=0)


class ObjectsSpec(_Sensor):
    """Object list (``simcore.sensors.objects.ObjectList``)."""

    type: Literal["objects"]
    max_range_m: float = Field(default=100.0, gt=0)
    fov_deg: float = Field(default=360.0, gt=0, le=360)
    min_visibility: float = Field(default=0.0, ge=0, le=1)
    occlusion: bool = True
    pos_sigma_m: float = Field(default=0.0, ge=0)
    vel_sigma_mps: float = Field(default=0.0, ge=0)
    p_detect: float = Field(default=1.0, ge=0, le=1)
    false_positive_rate: float = Field(default=0.0, ge=0, le=1000)
    latency_s: float = Field(default=0.0, ge=0, le=10)


#: Keys of a rig entry that are not fields of the lidar/radar config (``type``, ``name``) or that
#: the rig entry itself types (``rate_hz``, ``mount``).
_ENTRY_KEYS = frozenset({"type", "name", "rate_hz", "mount"})


def _config_spec(config: type, kind: str, doc: str, **extra: Any) -> type[_Sensor]:
    """The rig-entry model of a lidar/radar config dataclass: the common sensor keys plus every
    field of ``config`` under its plain-data key (``<field>_deg`` for an angle, in degrees), typed as
    the dataclass declares it and optional (what is not given keeps
    the config's default, or its preset's value). The config's own range checks run when the
    sensor is built; their errors name the key, so they too are located (``build_sensors``)."""
    hints = typing.get_type_hints(config)
    fields: dict[str, Any] = {
        config.data_key(f.name): (hints[f.name] | None, None)  # type: ignore[attr-defined]
        for f in dataclasses.fields(config)
        if f.name not in _ENTRY_KEYS
    }
    fields["type"] = (Literal[kind], ...)
    model = create_model(f"{kind.capitalize()}Spec", __base__=_Sensor, **extra, **fields)
    model.__doc__ = doc
    return model


LidarSpec = _config_spec(
    LidarConfig,
    "lidar",
    "Lidar (``simcore.sensors.lidar.LidarConfig`` keys, optionally starting from a ``preset``).",
    preset=(Literal[LIDAR_PRESETS] | None, None),  # type: ignore[valid-type]
)
RadarSpec = _config_spec(RadarConfig, "radar", "Radar (``simcore.sensors.radar.RadarConfig`` keys).")

SensorSpec = Annotated[
    CameraSpec | ImuSpec | GnssSpec | ObjectsSpec | LidarSpec | RadarSpec,  # type: ignore[valid-type]
    Field(discriminator="type"),
]


class RigFile(_Model):
    """One rig file: ``name`` (the file's stem), ``description``, ``sensors``."""

    name: str = Field(min_length=1)
    description: str = ""
    sensors: list[SensorSpec] = Field(min_length=1)


def build_sensor(spec: Any) -> Any:
    """The sensor object of one validated spec (``CameraSpec``, ..., ``RadarSpec``)."""
    mount = spec.mount.mount()
    if spec.type == "camera":
        from simcore.sensors.camera import Camera

        return Camera(
            spec.name, spec.width, spec.height, deg_to_rad(spec.hfov_deg), spec.fx, spec.fy, spec.cx, spec.cy, mount,
            spec.rate_hz, spec.near_m, spec.far_m, tuple(spec.outputs), spec.min_visible_pixels,
        )  # fmt: skip
    if spec.type == "imu":
        from simcore.sensors.imu import Imu

        return Imu(
            spec.name, spec.rate_hz, mount,
            accel_noise_density=ug(spec.accel_noise_density_ug_sqrt_hz),
            accel_bias_sigma=ug(spec.accel_bias_sigma_ug),
            accel_bias_random_walk=spec.accel_bias_random_walk,
            gyro_noise_density=deg_per_sqrt_h(spec.gyro_arw_deg_sqrt_h),
            gyro_bias_sigma=deg_per_h(spec.gyro_bias_sigma_deg_h),
            gyro_bias_random_walk=spec.gyro_bias_random_walk,
        )  # fmt: skip
    if spec.type == "gnss":
        from simcore.sensors.imu import Gnss

        return Gnss(
            spec.name, spec.rate_hz, mount, spec.sigma_h_m, spec.sigma_v_m, spec.bias_random_walk,
            spec.sigma_vel_mps, deg_to_rad(spec.sigma_heading_deg),
        )  # fmt: skip
    if spec.type == "objects":
        from simcore.sensors.objects import ObjectList

        return ObjectList(
            spec.name, spec.rate_hz, mount, spec.max_range_m, deg_to_rad(spec.fov_deg), spec.min_visibility,
            spec.occlusion, spec.pos_sigma_m, spec.vel_sigma_mps, spec.p_detect, spec.false_positive_rate,
            spec.latency_s,
        )  # fmt: skip
    given = spec.model_dump(exclude_unset=True, exclude=set(_ENTRY_KEYS))
    if spec.type == "lidar":
        from simcore.sensors.lidar import Lidar

        cfg = LidarConfig.from_dict({**given, "rate_hz": spec.rate_hz, "mount": mount})
        return ScanSensor(Lidar(cfg, name=spec.name), spec.name, "lidar", spec.rate_hz, mount)
    from simcore.sensors.radar import Radar

    rcfg = RadarConfig.from_dict({**given, "rate_hz": spec.rate_hz, "mount": mount})
    return ScanSensor(Radar(rcfg, name=spec.name), spec.name, "radar", spec.rate_hz, mount)


class ScanSensor:
    """Rig adapter for the lidar/radar classes: ``measure`` calls their ``scan_world(world, scene, row)``
    (or their own ``measure`` when they have one) and ``seed`` replaces their ``rng``."""

    def __init__(self, inner: Any, name: str, kind: str, rate_hz: float, mount: Mount) -> None:
        self.inner = inner
        self.name = name
        self.kind = kind
        self.rate_hz = float(rate_hz)
        self.mount = mount
        self.row: int | None = None

    def seed(self, rng: Any) -> None:
        """Use ``rng`` for the wrapped sensor's noise."""
        if hasattr(self.inner, "seed"):
            self.inner.seed(rng)
        else:
            self.inner.rng = rng

    def measure(self, scene: Any, world: Any, t: float) -> Any:
        """One scan from the carrier row (None: the world's ego)."""
        if hasattr(self.inner, "measure"):
            return self.inner.measure(scene, world, t)
        row = world.ego if self.row is None else self.row
        if self.kind == "lidar":
            return self.inner.scan_world(world, scene, row, weather=world_weather(world))
        return self.inner.scan_world(world, scene, row)


def world_weather(world: Any) -> Any:
    """The lidar Weather of the world's current environment (scenario ``environment.weather``,
    changed by storyboard ``weather`` actions); None in clear, dry air."""
    from simcore.environment import world_environment
    from simcore.sensors.lidar import Weather

    env = world_environment(world)
    fog = env.fog_visibility_m
    if env.rain_mm_h <= 0 and fog is None:
        return None
    return Weather(rain_mm_h=float(env.rain_mm_h), fog_visibility_m=math.inf if fog is None else float(fog))


class _SensorList(_Model):
    sensors: list[SensorSpec]


def build_sensors(data: list[dict[str, Any]], doc: YamlDoc | None = None) -> list[Any]:
    """Validate plain sensor mappings and build the sensors; errors as one ScenarioError, located
    ``file:line:col`` with ``doc`` (the file whose ``sensors`` list ``data`` is)."""
    doc = doc or YamlDoc("<sensors>", {"sensors": data}, {})
    try:
        specs: list[Any] = _SensorList.model_validate({"sensors": data}).sensors
    except ValidationError as exc:
        raise ScenarioError(issues_from_validation_error(exc, doc, _SensorList)) from None
    out: list[Any] = []
    issues = []
    for i, spec in enumerate(specs):
        try:
            out.append(build_sensor(spec))
        except (TypeError, ValueError) as exc:
            keys = [k for k in str(getattr(exc, "key", None) or "").split("/") if k in data[i]]
            issues.append(doc.issue(("sensors", i, *keys[-1:]), f"sensor {spec.name!r}: {exc}"))
    names = [sp.name for sp in specs]
    for i, n in enumerate(names):
        if n in names[:i]:
            issues.append(doc.issue(("sensors", i, "name"), f"duplicate sensor name {n!r}"))
    if issues:
        raise ScenarioError(issues)
    return out


def load_rig_file(path: str | os.PathLike[str]) -> tuple[RigFile, list[Any]]:
    """Load, validate and build one rig file; ScenarioError with file:line:col on bad input."""
    path = Path(path)
    doc = load_yaml(path)
    try:
        rig = RigFile.model_validate(doc.data)
    except ValidationError as exc:
        raise ScenarioError(issues_from_validation_error(exc, doc, RigFile)) from None
    if rig.name != path.stem:
        raise ScenarioError([doc.issue(("name",), f"expected the file's stem {path.stem!r}, got {rig.name!r}")])
    return rig, build_sensors(doc.data["sensors"], doc)


def preset_catalog(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Path]:
    """Rig name -> YAML path: the built-in ``vehicles/sensors/`` plus ``extra_dirs`` (later wins)."""
    out: dict[str, Path] = {}
    for d in (catalog_dir("vehicles") / "sensors", *extra_dirs):
        if d.is_dir():
            for p in sorted(d.glob("*.yaml")):
                out[p.stem] = p
    return out


def preset_path(name: str | os.PathLike[str], extra_dirs: tuple[Path, ...] = ()) -> Path:
    """A rig file by path, or a built-in preset by name; KeyError with a did-you-mean hint if unknown."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml") and p.exists():
        return p
    cat = preset_catalog(extra_dirs)
    if str(name) not in cat:
        raise KeyError(f"unknown sensor rig {str(name)!r}{did_you_mean(str(name), cat)}")
    return cat[str(name)]
