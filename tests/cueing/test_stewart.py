"""Stewart platform: IK/FK round trip, actuator limits under aggressive commands."""

import numpy as np
import pytest

from simcore.cueing.mpc import MpcCueing
from simcore.cueing.platform import load_platform
from simcore.cueing.stewart import StewartPlatform, joint_layout
from simcore.cueing.washout import ClassicalWashout
from simcore.cueing.washout_kernels import G

SPEC = load_platform("hexapod_6dof")


def test_ik_by_hand_at_neutral():
    base, plat = joint_layout(SPEC)
    d = plat - base
    d[:, 2] += SPEC.geometry.neutral_height_m
    np.testing.assert_allclose(StewartPlatform(SPEC).neutral_lengths, np.linalg.norm(d, axis=1), rtol=1e-15)


def test_ik_fk_round_trip_to_1e9():
    sp = StewartPlatform(SPEC)
    rng = np.random.default_rng(0)
    for _ in range(200):
        pose = rng.uniform([-0.25, -0.25, -0.15, -0.25, -0.25, -0.35], [0.25, 0.25, 0.15, 0.25, 0.25, 0.35])
        back, it = sp.fk(sp.ik(pose))
        assert it >= 0
        np.testing.assert_allclose(back, pose, atol=1e-9)


@pytest.mark.parametrize("cueing", [ClassicalWashout, MpcCueing])
def test_actuators_stay_inside_every_limit(cueing):
    sp = StewartPlatform(SPEC)
    cw = cueing(SPEC, 1e-3)
    rng = np.random.default_rng(1)
    dt = 1e-3
    prev_v = np.zeros(6)
    eps = 1e-9
    for k in range(6000):
        # harsh: +-1 g steps every 0.5 s with noise, large yaw rates
        f = np.array([9.0 * (-1) ** (k // 500), 7.0 * (-1) ** (k // 700), G + rng.normal(0, 3)])
        w = rng.normal(0, 1.0, 3)
        want = cw.step(f, w) * 3.0  # ask for far more than the workspace
        sp.command(want, dt)
        assert sp.length.min() >= sp.l_min - eps and sp.length.max() <= sp.l_max + eps
        assert np.abs(sp.velocity).max() <= sp.v_max + eps
        assert np.abs(sp.velocity - prev_v).max() / dt <= sp.a_max * (1 + 1e-9)
        prev_v = sp.velocity.copy()
    assert sp.limited_steps > 0 and sp.fk_failures == 0
    np.testing.assert_allclose(sp.ik(sp.pose), sp.length, atol=1e-9)  # the pose reported is the legs' pose
