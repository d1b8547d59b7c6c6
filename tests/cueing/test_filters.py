"""Washout and filter machinery against scipy.signal: step and frequency responses."""

import math

import numpy as np
import pytest
from scipy import signal

from simcore.cueing.lti import chain, simulate, transfer, zoh
from simcore.cueing.platform import load_platform
from simcore.cueing.washout import ClassicalWashout, channel_sections
from simcore.cueing.washout_kernels import CH_LPX, CH_X, CH_YAW, G

DT = 1e-3
SPEC = load_platform("hexapod_6dof")


def _tf(sections, gain=1.0):
    num, den = np.array([gain]), np.array([1.0])
    for n, d in sections:
        num, den = np.polymul(num, n), np.polymul(den, d)
    return signal.TransferFunction(num, den)


@pytest.mark.parametrize("channel", [CH_X, 2, CH_LPX, 5, CH_YAW])
def test_step_response_matches_scipy(channel):
    sections = channel_sections(SPEC)[channel]
    t = np.arange(6000) * DT
    _, ref = signal.step(_tf(sections), T=t)
    ours = simulate([zoh(chain(sections), DT)], np.ones(len(t)))[:, 0]
    # ZOH is exact for a step input, so the samples agree to rounding
    np.testing.assert_allclose(ours, ref, atol=1e-9 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("channel", [CH_X, CH_LPX, CH_YAW])
def test_frequency_response_matches_scipy(channel):
    sections = channel_sections(SPEC)[channel]
    sysd = zoh(chain(sections), DT)
    w = np.logspace(-2, 1.5, 25)  # rad/s
    z = np.exp(1j * w * DT)
    ours = np.array([sysd.c @ np.linalg.solve(zz * np.eye(sysd.order) - sysd.a, sysd.b) + sysd.d for zz in z])
    num, den = _tf(sections).num, _tf(sections).den
    sys_c = signal.StateSpace(*signal.tf2ss(num, den))
    sd = sys_c.to_discrete(DT, method="zoh")  # scipy's own discretisation, evaluated on the unit circle
    ref_d = np.array([(sd.C @ np.linalg.solve(zz * np.eye(sd.A.shape[0]) - sd.A, sd.B) + sd.D)[0, 0] for zz in z])
    np.testing.assert_allclose(ours, ref_d, rtol=1e-6, atol=1e-12)
    _, ref_c = signal.freqresp(signal.TransferFunction(num, den), w=w)
    np.testing.assert_allclose(ours, ref_c, rtol=2e-2)  # ZOH: half a sample of delay at most
    np.testing.assert_allclose(transfer(sections, 1.0, 1j * w), ref_c, rtol=1e-12)


def test_sinusoid_through_the_kernel_has_the_transfer_gain_and_phase():
    sections = channel_sections(SPEC)[CH_X]
    w0 = 3.0
    t = np.arange(40000) * DT
    y = simulate([zoh(chain(sections), DT)], np.sin(w0 * t))[:, 0]
    h = transfer(sections, 1.0, np.array([1j * w0]))[0]
    tail = t > 20.0
    expect = abs(h) * np.sin(w0 * t + np.angle(h) - w0 * DT / 2)  # ZOH lags half a sample
    np.testing.assert_allclose(y[tail], expect[tail], atol=2e-3 * abs(h))


def test_sustained_acceleration_washes_out_and_tilt_takes_over():
    cw = ClassicalWashout(SPEC, DT)
    f = np.array([2.0, 0.0, G])
    w = np.zeros(3)
    for _ in range(30000):
        pose = cw.step(f, w)
    k = SPEC.washout.tilt.gain
    assert abs(pose[0]) < 1e-4  # back to neutral
    assert pose[4] == pytest.approx(-math.asin(k * 2.0 / G), rel=1e-6)  # nose up: gravity pushes back


def test_tilt_rate_and_angular_acceleration_never_exceed_their_limits():
    cw = ClassicalWashout(SPEC, DT)
    rng = np.random.default_rng(3)
    limit = math.radians(SPEC.washout.tilt.max_rate_deg_s)
    acc_limit = math.radians(SPEC.washout.tilt.max_accel_deg_s2)
    prev, prev_rate = np.zeros(2), np.zeros(2)
    worst = worst_acc = 0.0
    for k in range(20000):
        f = np.array([8.0 * math.sin(k * 0.004) + rng.normal(0, 2), 6.0 * np.sign(math.sin(k * 0.0013)), G])
        cw.step(f, rng.normal(0, 0.3, 3))
        rate = (cw.tilt[:2] - prev) / DT  # from the angles themselves, not the tracker's own rate
        worst = max(worst, np.abs(rate).max())
        worst_acc = max(worst_acc, np.abs(rate - prev_rate).max() / DT)
        prev, prev_rate = cw.tilt[:2].copy(), rate
    assert worst <= limit * (1 + 1e-9)
    assert worst > 0.99 * limit  # the input was strong enough to hit the limit
    assert worst_acc <= acc_limit * (1 + 1e-6)
