"""Motion-platform definitions: the YAML schema of ``simcore/cueing/platforms/*.yaml`` and its loader.

One file per platform: the hexapod's geometry, its actuator limits, the washout and MPC
tuning, the perception thresholds and where the driver's head sits. Loaded with the project's
safe YAML loader; every problem is reported as ``file:line:col: key.path: message``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simcore.scenario.errors import ScenarioError, did_you_mean
from simcore.scenario.yaml_source import issues_from_validation_error, load_yaml
from simcore.units import deg_to_rad

#: Folder of the built-in platform files.
PLATFORM_DIR = Path(__file__).resolve().parent / "platforms"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeometrySpec(_Section):
    """Hexapod (6-6 Stewart platform) joint layout; joints sit in pairs on two circles.

    Base joints of leg pair j (j = 0, 1, 2) at azimuth 120 j deg -+ ``base_half_angle_deg``;
    the legs of that pair reach the platform joints at 120 j - 60 + ``platform_half_angle_deg`` and
    120 j + 60 - ``platform_half_angle_deg`` (the usual crossed layout). The platform frame's
    origin is its joint-circle centre, ``neutral_height_m`` above the base's at neutral."""

    base_radius_m: float = Field(gt=0, le=20)
    platform_radius_m: float = Field(gt=0, le=20)
    base_half_angle_deg: float = Field(ge=0, lt=60)
    platform_half_angle_deg: float = Field(ge=0, lt=60)
    neutral_height_m: float = Field(gt=0, le=20)


class ActuatorSpec(_Section):
    """Limits of every leg (all six alike); lengths are joint centre to joint centre."""

    min_length_m: float = Field(gt=0)
    max_length_m: float = Field(gt=0)
    max_velocity_mps: float = Field(gt=0)
    max_accel_mps2: float = Field(gt=0)

    @model_validator(mode="after")
    def _stroke(self) -> ActuatorSpec:
        if self.max_length_m <= self.min_length_m:
            raise ValueError(f"max_length_m ({self.max_length_m}) must exceed min_length_m ({self.min_length_m})")
        return self


class HighPassSpec(_Section):
    """A washout channel: gain, then a second-order high pass (natural frequency, damping)."""

    gain: float = Field(ge=0, le=2)
    natural_frequency_rad_s: float = Field(gt=0, le=100)
    damping: float = Field(gt=0, le=5)


class TranslationalSpec(HighPassSpec):
    """Translational channel: the second-order high pass times s / (s + ``break_frequency_rad_s``)."""

    break_frequency_rad_s: float = Field(gt=0, le=100)


class TiltSpec(_Section):
    """Tilt coordination: gain, second-order low pass, angle, rate and angular-acceleration limits."""

    gain: float = Field(ge=0, le=2)
    natural_frequency_rad_s: float = Field(gt=0, le=100)
    damping: float = Field(gt=0, le=5)
    max_rate_deg_s: float = Field(gt=0, le=30, description="kept below the canals' rotation threshold")
    max_accel_deg_s2: float = Field(default=8.0, gt=0, le=360, description="smooths the tilt rate")
    max_angle_deg: float = Field(gt=0, le=45)


class WashoutSpec(_Section):
    """Classical washout tuning: surge and sway share ``translational``; heave, roll-pitch, yaw own."""

    translational: TranslationalSpec
    heave: TranslationalSpec
    tilt: TiltSpec
    roll_pitch: HighPassSpec
    yaw: HighPassSpec


class MpcSpec(_Section):
    """Receding-horizon LQ cueing of surge and sway (``simcore.cueing.mpc``); weights are per unit^2."""

    step_s: float = Field(default=0.02, gt=0, le=0.5)
    horizon_steps: int = Field(default=75, ge=2, le=500)
    weight_force: float = Field(default=1.0, gt=0, description="(m/s^2)^-2, perceived specific force error")
    weight_position: float = Field(default=2.0, ge=0, description="m^-2")
    weight_velocity: float = Field(default=1.0, ge=0, description="(m/s)^-2")
    weight_tilt: float = Field(default=0.5, ge=0, description="rad^-2")
    weight_accel: float = Field(default=0.02, ge=0, description="(m/s^2)^-2, platform acceleration")
    weight_tilt_rate: float = Field(default=50.0, ge=0, description="(rad/s)^-2")


class PerceptionSpec(_Section):
    """Perception thresholds used by the fidelity report (false cues, tilt rate check)."""

    specific_force_mps2: tuple[float, float, float] = (0.17, 0.17, 0.28)
    angular_rate_deg_s: tuple[float, float, float] = (3.0, 3.6, 2.6)


class CockpitSpec(_Section):
    """Where the driver's head is: in the vehicle (from the CoG) and above the platform's origin."""

    head_in_vehicle_m: tuple[float, float, float] = (-0.3, 0.35, 0.7)
    head_above_platform_m: float = Field(default=1.0, ge=0, le=5)


class PlatformSpec(_Section):
    """One motion platform (file ``<name>.yaml``, ``simcore_platform: 1``)."""

    simcore_platform: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    geometry: GeometrySpec
    actuators: ActuatorSpec
    washout: WashoutSpec
    mpc: MpcSpec = MpcSpec()
    perception: PerceptionSpec = PerceptionSpec()
    cockpit: CockpitSpec = CockpitSpec()


def platform_catalog() -> dict[str, Path]:
    """Built-in platforms by name."""
    return {p.stem: p for p in sorted(PLATFORM_DIR.glob("*.yaml"))}


def load_platform(source: str | os.PathLike[str]) -> PlatformSpec:
    """A platform by file path or built-in name; ScenarioError with file:line:col on bad input.

    Beyond the schema, the neutral pose must put every leg inside its stroke."""
    path = Path(source)
    if not path.exists():
        cat = platform_catalog()
        if str(source) not in cat:
            raise KeyError(f"unknown platform {str(source)!r}{did_you_mean(str(source), cat)}")
        path = cat[str(source)]
    doc = load_yaml(path)
    try:
        spec = PlatformSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise ScenarioError(issues_from_validation_error(exc, doc, PlatformSpec)) from None
    from simcore.cueing.stewart import StewartPlatform

    legs = StewartPlatform(spec).neutral_lengths
    a = spec.actuators
    if legs.min() <= a.min_length_m or legs.max() >= a.max_length_m:
        raise ScenarioError(
            [
                doc.issue(
                    ("geometry", "neutral_height_m"),
                    f"expected a neutral pose with legs inside ({a.min_length_m}, {a.max_length_m}) m, "
                    f"got leg lengths {legs.min():.3f}..{legs.max():.3f} m",
                )
            ]
        )
    return spec


def deg(value: float) -> float:
    """Degrees -> radians (the one unit seam of this file's ``*_deg`` keys)."""
    return deg_to_rad(value)
