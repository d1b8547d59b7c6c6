"""Cueing fidelity: the perceived motion on the platform against the perceived motion in the vehicle.

Per channel (surge, sway, heave specific force; roll, pitch, yaw rate), both signals go
through the vestibular model and are compared: Pearson correlation, delay (the lag of the
cross-correlation peak, positive when the platform lags), RMS error, and false cues: stretches
where the platform's cue is felt (above the perception threshold) while the vehicle's is not,
or is felt with the opposite sign. The report adds the MSDV (ISO 2631-1, ``Wf``) of the vertical
acceleration in the vehicle and on the platform.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simcore._types import F64
from simcore.cueing.iso2631 import msdv
from simcore.cueing.platform import PerceptionSpec
from simcore.cueing.vestibular import perceive
from simcore.cueing.washout_kernels import G
from simcore.units import deg_to_rad

CHANNELS = ("surge", "sway", "heave", "roll", "pitch", "yaw")
#: Largest delay searched by ``delay_s`` (s).
MAX_DELAY_S = 1.0


def correlation(a: F64, b: F64) -> float:
    """Pearson correlation; NaN when either signal is constant."""
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / den if den > 0 else math.nan


def delay_s(ref: F64, sig: F64, dt: float, max_delay_s: float = MAX_DELAY_S) -> float:
    """Lag (s) of ``sig`` behind ``ref`` at the cross-correlation peak, within +-max_delay_s."""
    a, b = ref - ref.mean(), sig - sig.mean()
    n = len(a)
    size = 1 << (2 * n - 1).bit_length()
    xc = np.fft.irfft(np.conj(np.fft.rfft(a, size)) * np.fft.rfft(b, size), size)
    m = min(round(max_delay_s / dt), n - 1)
    lags = np.concatenate([np.arange(0, m + 1), np.arange(-m, 0)])
    vals = np.concatenate([xc[: m + 1], xc[size - m :]])
    return float(lags[int(np.argmax(vals))] * dt)


def false_cues(vehicle: F64, platform: F64, threshold: float, dt: float) -> tuple[int, float]:
    """(episodes, seconds) where the platform's cue is felt but the vehicle's is not, or opposite."""
    felt = np.abs(platform) > threshold
    wrong = felt & ((np.abs(vehicle) <= threshold) | (np.sign(vehicle) != np.sign(platform)))
    starts = int(np.count_nonzero(wrong[1:] & ~wrong[:-1])) + int(bool(wrong[:1].any()))
    return starts, float(np.count_nonzero(wrong) * dt)


def fidelity_report(vf: F64, vw: F64, pf: F64, pw: F64, dt: float, perception: PerceptionSpec) -> dict[str, Any]:
    """The report (JSON-ready) from vehicle and platform head motion, (T, 3) each, every ``dt`` s."""
    pvf, pvw = perceive(vf, vw, dt)
    ppf, ppw = perceive(pf, pw, dt)
    veh = np.column_stack([pvf, pvw])
    plat = np.column_stack([ppf, ppw])
    thr = [*perception.specific_force_mps2, *(deg_to_rad(v) for v in perception.angular_rate_deg_s)]
    out: dict[str, Any] = {"duration_s": len(vf) * dt, "channels": {}}
    for k, name in enumerate(CHANNELS):
        a, b = veh[:, k], plat[:, k]
        if k == 2:  # heave: compare the change from gravity
            a, b = a - G, b - G
        n, secs = false_cues(a, b, thr[k], dt)
        corr = correlation(a, b)
        out["channels"][name] = {
            "correlation": None if math.isnan(corr) else corr,  # None: the vehicle has no motion there
            "delay_s": delay_s(a, b, dt),
            "rms_error": float(np.sqrt(np.mean((a - b) ** 2))),
            "false_cues": n,
            "false_cue_s": secs,
            "threshold": thr[k],
        }
    out["msdv_vehicle_z"] = msdv(vf[:, 2] - G, dt)
    out["msdv_platform_z"] = msdv(pf[:, 2] - G, dt)
    return out
