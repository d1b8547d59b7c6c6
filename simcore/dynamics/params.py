"""Vehicle definitions: the YAML schema of vehicles/*.yaml and the per-actor parameter arrays."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simcore._data import catalog_dir
from simcore._types import F64
from simcore.units import deg_to_rad, kph_to_mps
from simcore.yamlio.errors import Issue, ScenarioError, did_you_mean
from simcore.yamlio.source import issues_from_validation_error, load_yaml


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BodySpec(_Section):
    """Mass distribution for the dynamic model (section ``body:``); the CoG splits the wheelbase."""

    yaw_inertia_kgm2: float = Field(gt=0)
    cog_to_front_axle_m: float = Field(gt=0, le=10)
    cog_to_rear_axle_m: float = Field(gt=0, le=10)
    cog_height_m: float = Field(gt=0, le=4)
    track_width_m: float = Field(gt=0.3, le=3.0)


class TyreSpec(_Section):
    """Axle tyre characteristics (section ``tyres:``); forces scale with friction times load."""

    cornering_stiffness_front_per_rad: float = Field(gt=0, le=60, description="C_S = dFy/dalpha / (mu Fz)")
    cornering_stiffness_rear_per_rad: float = Field(gt=0, le=60)
    friction: float = Field(default=1.0, gt=0, le=2.0, description="nominal road friction for this vehicle")
    magic_formula_c: float = Field(default=1.35, gt=0.5, le=2.5)
    magic_formula_e: float = Field(default=-0.0075, ge=-10, le=1)
    load_sensitivity: float = Field(default=0.0, ge=-1.0, le=0.0, description="p_dy2: dmu/mu per dFz/Fz0")


class PowertrainSpec(_Section):
    """Single-gear drive, brakes and resistances (section ``powertrain:``)."""

    max_drive_force_n: float = Field(gt=0)
    max_power_kw: float = Field(gt=0)
    drive_front_share: float = Field(ge=0, le=1)
    max_brake_force_n: float = Field(gt=0)
    brake_front_share: float = Field(default=0.65, ge=0, le=1)
    rolling_resistance: float = Field(default=0.012, ge=0, le=0.1)
    drag_area_m2: float = Field(default=0.7, ge=0, le=15, description="Cd times frontal area")


class SteeringSpec(_Section):
    """Steering actuator (section ``steering:``); angle and rate limits stay at the top level."""

    lag_s: float = Field(default=0.05, ge=0, le=2)
    limit_ref_speed_kph: float = Field(
        default=0.0, ge=0, le=400, description="max angle scales by 1 / (1 + (v / v_ref)^2); 0 = off"
    )


class CommonRoadSpec(_Section):
    """CommonRoad input constraints (section ``commonroad:``), used with ``convention="commonroad"``."""

    min_speed_mps: float = Field(le=0)
    switching_speed_mps: float = Field(gt=0)
    max_accel_mps2: float = Field(gt=0, le=20)


class VehicleSpec(BaseModel):
    """One vehicle definition as written in ``vehicles/NAME.yaml`` (units in the key names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    source: str = Field(description="where the numbers come from")
    category: str = Field(pattern="^(car|suv|van|bus|truck|cyclist|other)$")
    length_m: float = Field(gt=0.5, le=25)
    width_m: float = Field(gt=0.3, le=3.0)
    height_m: float = Field(gt=0.5, le=5.0)
    wheelbase_m: float = Field(gt=0.3, le=12)
    rear_overhang_m: float = Field(ge=0, le=5)
    mass_kg: float = Field(gt=0)
    max_steer_deg: float = Field(gt=0, le=70)
    max_steer_rate_deg_s: float = Field(gt=0)
    max_accel_mps2: float = Field(gt=0, le=15)
    max_decel_mps2: float = Field(gt=0, le=15)
    max_speed_kph: float = Field(gt=0, le=400)
    body: BodySpec | None = None
    tyres: TyreSpec | None = None
    powertrain: PowertrainSpec | None = None
    steering: SteeringSpec | None = None
    commonroad: CommonRoadSpec | None = None

    def si(self) -> VehicleParams:
        """Convert to SI parameters."""
        return VehicleParams(
            name=self.name,
            length=self.length_m,
            width=self.width_m,
            height=self.height_m,
            wheelbase=self.wheelbase_m,
            rear_overhang=self.rear_overhang_m,
            mass=self.mass_kg,
            max_steer=deg_to_rad(self.max_steer_deg),
            max_steer_rate=deg_to_rad(self.max_steer_rate_deg_s),
            max_accel=self.max_accel_mps2,
            max_decel=self.max_decel_mps2,
            max_speed=kph_to_mps(self.max_speed_kph),
        )


@dataclass(frozen=True)
class VehicleParams:
    """One vehicle's parameters in SI units (m, kg, rad, rad/s, m/s^2, m/s).

    The reference point is the rear-axle centre; the box centre lies
    ``length / 2 - rear_overhang`` ahead of it and the front bumper ``length - rear_overhang``.
    """

    name: str
    length: float
    width: float
    height: float
    wheelbase: float
    rear_overhang: float
    mass: float
    max_steer: float
    max_steer_rate: float
    max_accel: float
    max_decel: float
    max_speed: float

    @property
    def center_offset(self) -> float:
        """Distance from the rear axle to the box centre (m)."""
        return self.length / 2 - self.rear_overhang


#: Pedestrian body as a box (m) for collisions and sensors.
PEDESTRIAN_PARAMS = VehicleParams(
    name="pedestrian",
    length=0.5,
    width=0.6,
    height=1.75,
    wheelbase=0.01,
    rear_overhang=0.25,
    mass=75.0,
    max_steer=0.0,
    max_steer_rate=0.0,
    max_accel=1.5,
    max_decel=3.0,
    max_speed=3.0,
)

PARAM_FIELDS = (
    "length",
    "width",
    "height",
    "wheelbase",
    "rear_overhang",
    "max_steer",
    "max_steer_rate",
    "max_accel",
    "max_decel",
    "max_speed",
)


def stack_params(rows: list[VehicleParams]) -> dict[str, F64]:
    """Per-actor parameter arrays (one float64 array per field, row-aligned with the state)."""
    out = {f: np.array([getattr(r, f) for r in rows], dtype=np.float64) for f in PARAM_FIELDS}
    out["center_offset"] = out["length"] / 2 - out["rear_overhang"]
    return out


def dynamics_params(spec: VehicleSpec) -> F64:
    """One (N_PARAMS,) row of single-track parameters (columns ``single_track_kernels.P_*``), SI units.

    Missing optional sections get generic estimates (documented in docs/dynamics.md): CoG at 45 %
    of the wheelbase behind the front axle, yaw inertia m (l^2 + w^2) / 12 * 0.9, CoG height 0.35
    height, track 0.85 width, C_S 20 /rad, drive force and braking from the top-level limits.
    """
    from simcore.dynamics import single_track_kernels as k

    m = spec.mass_kg
    wb = spec.wheelbase_m
    body = spec.body or BodySpec(
        yaw_inertia_kgm2=0.9 * m * (spec.length_m**2 + spec.width_m**2) / 12.0,
        cog_to_front_axle_m=0.45 * wb,
        cog_to_rear_axle_m=0.55 * wb,
        cog_height_m=0.35 * spec.height_m,
        track_width_m=min(0.85 * spec.width_m, 2.9),
    )
    tyres = spec.tyres or TyreSpec(cornering_stiffness_front_per_rad=20.0, cornering_stiffness_rear_per_rad=20.0)
    pt = spec.powertrain or PowertrainSpec(
        max_drive_force_n=m * spec.max_accel_mps2 * 1.1,
        max_power_kw=m * spec.max_accel_mps2 * 10.0 / 1000.0,
        drive_front_share=1.0,
        max_brake_force_n=m * spec.max_decel_mps2,
    )
    steering = spec.steering or SteeringSpec()
    vmax = kph_to_mps(spec.max_speed_kph)
    cr = spec.commonroad or CommonRoadSpec(
        min_speed_mps=0.0, switching_speed_mps=vmax, max_accel_mps2=max(spec.max_accel_mps2, spec.max_decel_mps2)
    )
    row = np.zeros(k.N_PARAMS)
    row[k.P_MASS] = m
    row[k.P_IZZ] = body.yaw_inertia_kgm2
    row[k.P_LF] = body.cog_to_front_axle_m
    row[k.P_LR] = body.cog_to_rear_axle_m
    row[k.P_HCG] = body.cog_height_m
    row[k.P_TRACK] = body.track_width_m
    row[k.P_CSF] = tyres.cornering_stiffness_front_per_rad
    row[k.P_CSR] = tyres.cornering_stiffness_rear_per_rad
    row[k.P_MF_C] = tyres.magic_formula_c
    row[k.P_MF_E] = tyres.magic_formula_e
    row[k.P_LOAD_SENS] = tyres.load_sensitivity
    row[k.P_DRIVE_FRONT] = pt.drive_front_share
    row[k.P_BRAKE_FRONT] = pt.brake_front_share
    row[k.P_F_DRIVE] = pt.max_drive_force_n
    row[k.P_P_DRIVE] = pt.max_power_kw * 1000.0
    row[k.P_F_BRAKE] = pt.max_brake_force_n
    row[k.P_C_RR] = pt.rolling_resistance
    row[k.P_CDA] = pt.drag_area_m2
    row[k.P_MAX_STEER] = deg_to_rad(spec.max_steer_deg)
    row[k.P_MAX_STEER_RATE] = deg_to_rad(spec.max_steer_rate_deg_s)
    row[k.P_STEER_TAU] = steering.lag_s
    row[k.P_STEER_VREF] = kph_to_mps(steering.limit_ref_speed_kph)
    row[k.P_V_BLEND_LO] = 1.0
    row[k.P_V_BLEND_HI] = 2.5
    row[k.P_MAX_SPEED] = vmax
    row[k.P_CR_VMIN] = cr.min_speed_mps
    row[k.P_CR_VSWITCH] = cr.switching_speed_mps
    row[k.P_CR_AMAX] = cr.max_accel_mps2
    return row


def load_vehicle_file(path: Path) -> VehicleSpec:
    """Load and validate one vehicle YAML file; ScenarioError with file:line:col on bad input.

    Memoised per file version (path, modification time, size): a scenario names one vehicle file for
    many actors, and a VehicleSpec is immutable."""
    st = path.stat()
    return _load_vehicle_file(str(path.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _load_vehicle_file(name: str, mtime_ns: int, size: int) -> VehicleSpec:
    path = Path(name)
    doc = load_yaml(path)
    try:
        spec = VehicleSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise ScenarioError(issues_from_validation_error(exc, doc, VehicleSpec)) from None
    if spec.name != path.stem:
        raise ScenarioError([doc.issue(("name",), f"expected the file's stem {path.stem!r}, got {spec.name!r}")])
    return spec


def vehicle_catalog(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Path]:
    """Map vehicle name -> YAML path: the built-in ``vehicles/`` plus ``extra_dirs`` (later wins)."""
    out: dict[str, Path] = {}
    for d in (catalog_dir("vehicles"), *extra_dirs):
        if d.is_dir():
            for p in sorted(d.glob("*.yaml")):
                out[p.stem] = p
    return out


def get_vehicle(name: str, extra_dirs: tuple[Path, ...] = ()) -> VehicleSpec:
    """Look up a vehicle by name; KeyError with a did-you-mean hint if unknown."""
    cat = vehicle_catalog(extra_dirs)
    if name not in cat:
        raise KeyError(f"unknown vehicle {name!r}{did_you_mean(name, cat)}")
    return load_vehicle_file(cat[name])


__all__ = [
    "PEDESTRIAN_PARAMS",
    "Issue",
    "VehicleParams",
    "VehicleSpec",
    "dynamics_params",
    "get_vehicle",
    "stack_params",
]
