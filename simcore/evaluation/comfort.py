"""nuPlan's ``ego_is_comfortable``, computed as nuplan-devkit computes it (Savitzky-Golay filtered signals).

Source: motional/nuplan-devkit (master, e9241677), ``nuplan/planning/metrics/utils/state_extractors.py``
(signal extraction and filters), ``evaluation_metrics/common/ego_*.py`` (which signal, which bound)
and ``script/config/common/simulation_metric/low_level/ego_*_statistics.yaml`` (the bounds). Every
constant below is cited in docs/scoring.md ("nuPlan comfort").

Inputs are the ego's states sampled at a fixed interval: time (s), heading (rad) and the body-frame
acceleration (longitudinal ``ax``, lateral ``ay``, m/s^2). nuPlan's own simulations sample at 0.1 s
(its window lengths are counted in samples), so ``comfort_from_trajectory`` first resamples
simcore's recorded trajectory to ``NUPLAN_INTERVAL_S``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: nuPlan's simulation and history sampling interval (s); the filter windows below count samples of it.
NUPLAN_INTERVAL_S = 0.1
#: extract_ego_acceleration: Savitzky-Golay smoothing of the acceleration (window, polynomial order).
ACCEL_WINDOW, ACCEL_POLY = 8, 2
#: extract_ego_jerk: derivative of the smoothed acceleration (window, polynomial order).
JERK_WINDOW, JERK_POLY = 15, 2
#: extract_ego_yaw_rate -> approximate_derivatives' default window (its own window argument is not passed on).
YAW_WINDOW = 5
YAW_RATE_POLY = 2
#: ego_yaw_acceleration: second derivative with a cubic.
YAW_ACCEL_POLY = 3
#: Signals are rounded to this many decimals before the bound check (``decimals=8``).
DECIMALS = 8

#: The seven bounds of ego_is_comfortable (SI): (lower, upper), both exclusive as in nuPlan's
#: WithinBoundMetricBase (``min < value < max`` at every sample).
BOUNDS: dict[str, tuple[float, float]] = {
    "lon_accel": (-4.05, 2.40),  # ego_lon_acceleration: min_lon_accel, max_lon_accel
    "lat_accel": (-4.89, 4.89),  # ego_lat_acceleration: max_abs_lat_accel
    "jerk": (-8.37, 8.37),  # ego_jerk (magnitude of the acceleration, differentiated): max_abs_mag_jerk
    "lon_jerk": (-4.13, 4.13),  # ego_lon_jerk: max_abs_lon_jerk
    "yaw_rate": (-0.95, 0.95),  # ego_yaw_rate: max_abs_yaw_rate
    "yaw_accel": (-1.93, 1.93),  # ego_yaw_acceleration: max_abs_yaw_accel
}
#: The six bounded signals give nuPlan's seven limits (the longitudinal acceleration has two).


@dataclass(frozen=True)
class ComfortSignals:
    """The filtered signals nuPlan checks (one value per sample; SI units)."""

    lon_accel: np.ndarray
    lat_accel: np.ndarray
    jerk: np.ndarray
    lon_jerk: np.ndarray
    yaw_rate: np.ndarray
    yaw_accel: np.ndarray

    def within(self) -> dict[str, bool]:
        """Per signal: every sample strictly inside its bound."""
        out = {}
        for name, (lo, hi) in BOUNDS.items():
            v = getattr(self, name)
            out[name] = bool(np.all((v > lo) & (v < hi)))
        return out

    def peaks(self) -> dict[str, float]:
        """Per signal: largest absolute value (0 for an empty signal)."""
        return {name: float(np.max(np.abs(getattr(self, name)), initial=0.0)) for name in BOUNDS}

    @property
    def comfortable(self) -> bool:
        """nuPlan's ego_is_comfortable: all seven bounds hold."""
        return all(self.within().values())


def savgol_filter(x: np.ndarray, window: int, poly: int, deriv: int = 0, delta: float = 1.0) -> np.ndarray:
    """Savitzky-Golay filter as ``scipy.signal.savgol_filter(x, window, poly, deriv, delta)`` with its
    default ``mode="interp"`` (the samples within ``window // 2`` of an end take the polynomial fitted
    to the first / last ``window`` samples), in plain NumPy: importing scipy.signal costs about 1.5 s
    of CPU per ``simcore run``. ``delta``: sample spacing (s). The tests compare it with SciPy's.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if not poly < window:
        raise ValueError("polyorder must be less than window_length.")
    if window > n:
        raise ValueError(f"window {window} is longer than the signal ({n} samples)")
    half, rem = divmod(window, 2)
    pos = half - 0.5 if rem == 0 else float(half)
    u = np.arange(-pos, window - pos)[::-1]  # reversed: the coefficients are used in a convolution
    rhs = np.zeros(poly + 1)
    rhs[deriv] = math.factorial(deriv) / delta**deriv
    coeffs = np.linalg.lstsq(u ** np.arange(poly + 1)[:, None], rhs, rcond=None)[0]
    out = np.convolve(x, coeffs, mode="full")[half : half + n].copy()
    k = np.arange(window)
    for start, lo, hi in ((0, 0, half), (n - window, n - half, n)):
        p = np.polyfit(k, x[start : start + window], poly)
        if deriv:
            p = np.polyder(p, deriv)
        out[lo:hi] = np.polyval(p, np.arange(lo - start, hi - start)) / delta**deriv
    return out


def _smooth(y: np.ndarray, window: int, poly: int) -> np.ndarray:
    w = min(window, y.size)
    return np.round(savgol_filter(y, w, poly), DECIMALS)


def _derivative(y: np.ndarray, t: np.ndarray, window: int, poly: int, order: int) -> np.ndarray:
    """nuPlan's approximate_derivatives: Savitzky-Golay derivative with the mean sample interval."""
    w = min(window, t.size)
    if not poly < w:
        raise ValueError(f"{poly} < {w} does not hold: too few samples for the nuPlan filter")
    dt = np.diff(t)
    if not (dt > 0).all():
        raise ValueError("sample times must increase")
    d = savgol_filter(y, w, poly, deriv=order, delta=float(dt.mean()))
    return np.round(d, DECIMALS)


def comfort_signals(t: np.ndarray, heading: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> ComfortSignals:
    """nuPlan's filtered comfort signals from states at increasing times ``t`` (s).

    ``heading`` (rad) is unwrapped first; ``ax``, ``ay`` are the body-frame accelerations (m/s^2).
    Needs at least 4 samples (the cubic of the yaw acceleration). Raises ValueError otherwise.
    """
    t = np.asarray(t, float)
    ax = np.asarray(ax, float)
    ay = np.asarray(ay, float)
    psi = np.unwrap(np.asarray(heading, float))
    lon = _smooth(ax, ACCEL_WINDOW, ACCEL_POLY)
    lat = _smooth(ay, ACCEL_WINDOW, ACCEL_POLY)
    mag = _smooth(np.hypot(ax, ay), ACCEL_WINDOW, ACCEL_POLY)
    return ComfortSignals(
        lon_accel=lon,
        lat_accel=lat,
        jerk=_derivative(mag, t, JERK_WINDOW, JERK_POLY, 1),
        lon_jerk=_derivative(lon, t, JERK_WINDOW, JERK_POLY, 1),
        yaw_rate=_derivative(psi, t, YAW_WINDOW, YAW_RATE_POLY, 1),
        yaw_accel=_derivative(psi, t, YAW_WINDOW, YAW_ACCEL_POLY, 2),
    )


def resample_states(
    time: np.ndarray, yaw: np.ndarray, speed: np.ndarray, interval: float = NUPLAN_INTERVAL_S
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """simcore's recorded ego (time s, yaw rad, speed m/s) -> nuPlan-style states every ``interval`` s.

    Returns (t, heading, ax, ay): heading and speed interpolated linearly on the regular grid
    (heading unwrapped first), ax = dv/dt and ay = v * yaw rate by central differences on that grid
    (simcore records no acceleration; nuPlan's states carry the controller's).
    """
    time = np.asarray(time, float)
    if time.size < 2 or time[-1] <= time[0]:
        z = np.zeros(time.size)
        return time.copy(), np.asarray(yaw, float).copy(), z, z.copy()
    n = int(np.floor((time[-1] - time[0]) / interval + 1e-9)) + 1
    t = time[0] + interval * np.arange(n)
    psi = np.interp(t, time, np.unwrap(np.asarray(yaw, float)))
    v = np.interp(t, time, np.asarray(speed, float))
    if n < 2:
        z = np.zeros(n)
        return t, psi, z, z.copy()
    ax = np.gradient(v, interval)
    ay = v * np.gradient(psi, interval)
    return t, psi, ax, ay


def comfort_from_trajectory(time: np.ndarray, yaw: np.ndarray, speed: np.ndarray) -> ComfortSignals | None:
    """nuPlan comfort signals of a recorded ego trajectory; None when shorter than 4 nuPlan samples."""
    t, psi, ax, ay = resample_states(time, yaw, speed)
    if t.size < YAW_ACCEL_POLY + 1:
        return None
    return comfort_signals(t, psi, ax, ay)
