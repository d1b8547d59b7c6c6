"""Platform YAML errors are located; the MPC gain equals the Riccati solution of the same problem."""

import numpy as np
import pytest

from simcore.cueing.mpc import axis_model, mpc_gains
from simcore.cueing.platform import PLATFORM_DIR, load_platform
from simcore.cueing.washout_kernels import G
from simcore.scenario.errors import ScenarioError


def test_bad_platform_file_gives_located_errors(tmp_path):
    text = (PLATFORM_DIR / "hexapod_6dof.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    text_bad = text.replace("max_velocity_mps: 0.7", "max_velocity_mps: -1")
    bad.write_text(text_bad.replace("damping: 1.0}", "dampin: 1}", 1))
    with pytest.raises(ScenarioError) as err:
        load_platform(bad)
    msg = str(err.value)
    assert f"{bad}:" in msg and "actuators.max_velocity_mps" in msg and "dampin" in msg
    stroke = tmp_path / "stroke.yaml"
    stroke.write_text(text.replace("neutral_height_m: 1.6", "neutral_height_m: 0.5"))
    with pytest.raises(ScenarioError, match=r"stroke.yaml:\d+:\d+: geometry.neutral_height_m"):
        load_platform(stroke)
    with pytest.raises(KeyError, match="did you mean"):
        load_platform("hexapod_6do")


def test_mpc_gain_equals_finite_horizon_riccati():
    m = load_platform("hexapod_6dof").mpc
    kz, kr = mpc_gains(m)
    a3, b3 = axis_model(m.step_s)
    # augmented state x = (p, v, theta, r), r constant; stage cost x'Qx + u'Ru + 2 x'Su
    a = np.eye(4)
    a[:3, :3] = a3
    b = np.zeros((4, 2))
    b[:3] = b3
    cf = np.array([0.0, 0.0, G, -1.0])  # f error = a + g theta - r = cf.x + a
    q = np.diag([m.weight_position, m.weight_velocity, m.weight_tilt, 0.0])
    qs = q + m.weight_force * np.outer(cf, cf)
    r = np.diag([m.weight_accel + m.weight_force, m.weight_tilt_rate])
    s = np.zeros((4, 2))
    s[:, 0] = m.weight_force * cf
    p = q.copy()
    for _ in range(m.horizon_steps):
        k = np.linalg.solve(r + b.T @ p @ b, s.T + b.T @ p @ a)
        p = qs + a.T @ p @ a - (s + a.T @ p @ b) @ k
    np.testing.assert_allclose(-k[:, :3], kz, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(-k[:, 3], kr, rtol=1e-7, atol=1e-9)
