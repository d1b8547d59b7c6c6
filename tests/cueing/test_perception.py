"""Vestibular model against closed forms of its published transfer functions; MSDV by hand."""

import math

import numpy as np
import pytest

from simcore.cueing import vestibular as v
from simcore.cueing.fidelity import delay_s, false_cues, fidelity_report
from simcore.cueing.iso2631 import msdv, wf_sections
from simcore.cueing.lti import transfer
from simcore.cueing.platform import PerceptionSpec

DT = 0.01


def test_canal_step_decays_and_reverses_as_the_closed_form():
    t = np.arange(8000) * DT
    _, pw = v.perceive(np.zeros((len(t), 3)), np.column_stack([np.ones(len(t))] * 3), DT)
    tl, ta = v.CANAL_TAU_L_S, v.CANAL_TAU_A_S
    # without the 5 ms tau_s, the step response is ta/(ta-tl) e^(-t/tl) - tl/(ta-tl) e^(-t/ta) (partial fractions)
    closed = ta / (ta - tl) * np.exp(-t / tl) - tl / (ta - tl) * np.exp(-t / ta)
    late = t > 0.1
    np.testing.assert_allclose(pw[late, 2], closed[late], atol=2e-3)
    # the post-rotatory reversal: perceived rate crosses zero at ln(ta/tl) / (1/tl - 1/ta) = 16.3 s
    t_zero = math.log(ta / tl) / (1 / tl - 1 / ta)
    crossing = t[np.argmax(pw[:, 2] < 0)]
    assert crossing == pytest.approx(t_zero, abs=0.05)
    assert 15.0 < t_zero < 17.0


def test_otolith_step_overshoots_then_settles_as_the_closed_form():
    t = np.arange(6000) * DT
    f = np.zeros((len(t), 3))
    f[1:, 0] = 1.0
    pf, _ = v.perceive(f, np.zeros((len(t), 3)), DT)
    ta, tl, ts = v.OTOLITH_TAU_A_S, v.OTOLITH_TAU_L_S, v.OTOLITH_TAU_S_S
    # step of (ta s + 1)/((tl s + 1)(ts s + 1)) by partial fractions
    closed = 1 + (ta - tl) / (tl - ts) * np.exp(-t / tl) - (ta - ts) / (tl - ts) * np.exp(-t / ts)
    np.testing.assert_allclose(pf[1:, 0], closed[:-1], atol=1e-3)
    assert pf[:, 0].max() > 1.5  # the otoliths' high-frequency lead (tau_a > tau_L)
    assert pf[-1, 0] == pytest.approx(1.0, abs=0.01)


def test_wf_gain_by_hand():
    # Wf at a few frequencies from the standard's formula evaluated by hand (peak ~1.0 near 0.16 Hz)
    def by_hand(f):
        p = 2j * math.pi * f
        w = [2 * math.pi * x for x in (0.08, 0.63, 0.25, 0.0625, 0.1)]
        hh = 1 / (1 + math.sqrt(2) * w[0] / p + (w[0] / p) ** 2)
        hl = 1 / (1 + math.sqrt(2) * p / w[1] + (p / w[1]) ** 2)
        ht = 1 / (1 + p / (w[2] * 0.86) + (p / w[2]) ** 2)
        hs = (1 + p / (w[3] * 0.8) + (p / w[3]) ** 2) / (1 + p / (w[4] * 0.8) + (p / w[4]) ** 2) * (w[3] / w[4]) ** 2
        return abs(hh * hl * ht * hs)

    for f in (0.05, 0.1, 0.16, 0.25, 0.5, 1.0):
        assert abs(transfer(wf_sections(), 1.0, np.array([2j * math.pi * f]))[0]) == pytest.approx(by_hand(f), 1e-12)
    assert by_hand(0.16) == pytest.approx(1.006, abs=1e-3)


def test_msdv_of_a_sinusoid_by_hand():
    # a = A sin(2 pi f t) over T: MSDV = |Wf(f)| A sqrt(T / 2) once the filter has settled
    f0, amp, dt = 0.2, 1.5, 0.01
    t = np.arange(int(600 / dt)) * dt
    gain = abs(transfer(wf_sections(), 1.0, np.array([2j * math.pi * f0]))[0])
    whole = msdv(amp * np.sin(2 * math.pi * f0 * t), dt)
    expect = gain * amp * math.sqrt(600 / 2)
    assert whole == pytest.approx(expect, rel=1e-2)
    assert msdv(np.zeros(100), dt) == 0.0


def test_delay_and_false_cues_of_known_signals():
    dt = 0.01
    t = np.arange(3000) * dt
    ref = np.sin(0.7 * t) + 0.3 * np.sin(2.3 * t)
    assert delay_s(ref, np.roll(ref, 15), dt) == pytest.approx(0.15, abs=dt)
    n, secs = false_cues(np.full(100, 1.0), np.r_[np.full(30, -1.0), np.full(40, 1.0), np.full(30, -1.0)], 0.5, dt)
    assert (n, secs) == (2, pytest.approx(0.6))


def test_fidelity_of_a_perfect_platform():
    dt = 0.01
    t = np.arange(4000) * dt
    f = np.column_stack([np.sin(0.5 * t), 0.5 * np.cos(0.3 * t), 9.80665 + 0.1 * np.sin(t)])
    w = np.column_stack([0.01 * np.sin(t), 0.02 * np.sin(0.4 * t), 0.1 * np.sin(0.2 * t)])
    rep = fidelity_report(f, w, f, w, dt, PerceptionSpec())
    for ch in rep["channels"].values():
        assert ch["correlation"] == pytest.approx(1.0) and ch["delay_s"] == 0.0 and ch["false_cues"] == 0
    assert rep["msdv_vehicle_z"] == pytest.approx(rep["msdv_platform_z"])
