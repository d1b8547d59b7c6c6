"""Vehicle YAML files: optional dynamics sections, old files stay valid."""

import numpy as np
import pytest

from simcore.dynamics import single_track_kernels as stk
from simcore.dynamics.params import VehicleSpec, dynamics_params, get_vehicle, vehicle_catalog

OLD_STYLE = {
    "name": "old",
    "description": "a file without dynamics sections",
    "source": "test",
    "category": "car",
    "length_m": 4.5,
    "width_m": 1.8,
    "height_m": 1.5,
    "wheelbase_m": 2.7,
    "rear_overhang_m": 1.0,
    "mass_kg": 1400,
    "max_steer_deg": 33,
    "max_steer_rate_deg_s": 60,
    "max_accel_mps2": 3,
    "max_decel_mps2": 8,
    "max_speed_kph": 180,
}


def test_old_files_without_dynamics_sections_still_validate_and_get_estimates():
    spec = VehicleSpec.model_validate(OLD_STYLE)
    assert spec.si().wheelbase == pytest.approx(2.7)
    row = dynamics_params(spec)
    assert row.shape == (stk.N_PARAMS,) and np.all(np.isfinite(row))
    assert row[stk.P_LF] + row[stk.P_LR] == pytest.approx(2.7)


def test_unknown_keys_in_a_section_are_refused():
    with pytest.raises(ValueError, match="extra"):
        VehicleSpec.model_validate(
            {
                **OLD_STYLE,
                "body": {
                    "yaw_inertia_kgm2": 1,
                    "cog_to_front_axle_m": 1,
                    "cog_to_rear_axle_m": 1.7,
                    "cog_height_m": 0.5,
                    "track_width_m": 1.5,
                    "bogus": 1,
                },
            }
        )


@pytest.mark.parametrize("name", sorted(vehicle_catalog()))
def test_every_catalog_vehicle_has_dynamics_sections_consistent_with_its_wheelbase(name):
    spec = get_vehicle(name)
    assert spec.body and spec.tyres and spec.powertrain and spec.steering
    assert spec.body.cog_to_front_axle_m + spec.body.cog_to_rear_axle_m == pytest.approx(spec.wheelbase_m, rel=1e-9)
    assert spec.body.track_width_m <= spec.width_m
