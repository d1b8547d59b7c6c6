"""Vehicle definitions: the YAML schema of vehicles/*.yaml and the per-actor parameter arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simcore._data import catalog_dir
from simcore._types import F64
from simcore.scenario.errors import Issue, ScenarioError, did_you_mean
from simcore.scenario.yaml_source import issues_from_validation_error, load_yaml


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
    max_steer_deg: float = Field(gt=0, le=60)
    max_steer_rate_deg_s: float = Field(gt=0)
    max_accel_mps2: float = Field(gt=0, le=15)
    max_decel_mps2: float = Field(gt=0, le=15)
    max_speed_kph: float = Field(gt=0, le=400)

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
            max_steer=math.radians(self.max_steer_deg),
            max_steer_rate=math.radians(self.max_steer_rate_deg_s),
            max_accel=self.max_accel_mps2,
            max_decel=self.max_decel_mps2,
            max_speed=self.max_speed_kph / 3.6,
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


def load_vehicle_file(path: Path) -> VehicleSpec:
    """Load and validate one vehicle YAML file; ScenarioError with file:line:col on bad input."""
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


__all__ = ["PEDESTRIAN_PARAMS", "Issue", "VehicleParams", "VehicleSpec", "get_vehicle", "stack_params"]
