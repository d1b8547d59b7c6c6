"""Control channel of one controlled vehicle: timing realism (latency, budget, late policy) and
the conversion of any control type into the (accel, steer) targets the dynamics read.

Per step the runner hands the channel the agent's control (or ``None`` when it was late or
missing); the channel pushes it into a delay line of ``round(latency_s / dt)`` steps and
returns the control that takes effect now. A late or missing control is replaced by the
late policy: ``hold`` repeats the agent's last control (a trajectory keeps being tracked),
``brake`` brakes at the vehicle's ``max_decel`` with the wheel held. Until the delay line has
filled, the policy's fallback is applied (``hold`` with no control yet: zero acceleration,
wheel held).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from simcore.agents.protocol import ActuationControl, AnyControl, Control, TrajectoryControl
from simcore.agents.tracker import TrajectoryTracker

LatePolicy = Literal["hold", "brake"]
LATE_POLICIES: tuple[str, ...] = ("hold", "brake")


@dataclass(frozen=True)
class TimingOptions:
    """Timing realism of the agent loop (per run).

    Attributes:
        latency_s: control latency (s): a control computed at time t acts from t + latency,
            rounded to whole steps of ``dt``. 0 = acts on the next step.
        budget_s: wall-clock compute budget per ``act`` call (s); a slower answer is late
            and replaced by the late policy. None = no budget.
        late_policy: ``hold`` (reuse the last control) or ``brake``.
    """

    latency_s: float = 0.0
    budget_s: float | None = None
    late_policy: LatePolicy = "hold"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.latency_s) and self.latency_s >= 0):
            raise ValueError(f"control latency must be >= 0 s, got {self.latency_s!r}")
        if self.budget_s is not None and not (math.isfinite(self.budget_s) and self.budget_s > 0):
            raise ValueError(f"compute budget must be > 0 s, got {self.budget_s!r}")
        if self.late_policy not in LATE_POLICIES:
            raise ValueError(f"late policy must be one of {', '.join(LATE_POLICIES)}, got {self.late_policy!r}")

    def delay_steps(self, dt: float) -> int:
        """Latency in whole steps of ``dt`` (s)."""
        return round(self.latency_s / dt)


_HOLD = object()  # fallback markers inside the delay line
_BRAKE = object()
#: Submit this instead of a control to brake for one step (a bad control); not counted as late.
BRAKE = _BRAKE


class ControlChannel:
    """Delay line, late policy and control conversion for one controlled vehicle (state row)."""

    def __init__(
        self,
        role: str,
        row: int,
        timing: TimingOptions,
        dt: float,
        wheelbase: float,
        max_steer: float,
        max_accel: float,
        max_decel: float,
    ) -> None:
        self.role, self.row, self.timing, self.dt = role, int(row), timing, float(dt)
        self.max_accel, self.max_decel = float(max_accel), float(max_decel)
        self.tracker = TrajectoryTracker(wheelbase, max_steer, max_accel, max_decel)
        self.n_delay = timing.delay_steps(dt)
        self.reset()

    def reset(self) -> None:
        """Empty the delay line (filled with the policy's fallback) and forget the last control."""
        fill = _BRAKE if self.timing.late_policy == "brake" else _HOLD
        self._line: deque = deque([(fill, 0.0)] * self.n_delay)
        self._last: tuple[object, float] | None = None
        self.late = 0
        self.tracker.reset()

    def fallback(self) -> tuple[object, float]:
        """What a late or missing control is replaced by under the late policy."""
        if self.timing.late_policy == "brake":
            return (_BRAKE, 0.0)
        return self._last if self._last is not None else (_HOLD, 0.0)

    def submit(self, control: AnyControl | object | None, t_obs: float) -> tuple[object, float]:
        """Queue the control answering the observation at simulation time ``t_obs`` (s) (None:
        late/missing, replaced by the policy; ``BRAKE``: brake this step); returns the
        (control, t_obs) that takes effect now."""
        if control is None:
            item = self.fallback()
            self.late += 1
        elif control is _BRAKE:
            item = (_BRAKE, t_obs)
        else:
            item = (control, t_obs)
            self._last = item
        self._line.append(item)
        return self._line.popleft()

    def actuate(
        self, item: tuple[object, float], x: float, y: float, yaw: float, v: float, steer_now: float, t: float
    ) -> tuple[float, float]:
        """(accel m/s^2, steer rad) targets of ``item`` for the vehicle's current state at time ``t``."""
        ctrl, t_obs = item
        if ctrl is _HOLD:
            return 0.0, steer_now
        if ctrl is _BRAKE:
            return -self.max_decel, steer_now
        if isinstance(ctrl, TrajectoryControl):
            self.tracker.set_plan(ctrl, t_obs)
            accel, steer = self.tracker.control(x, y, yaw, v, t, self.dt)
            if not (math.isfinite(accel) and math.isfinite(steer)):  # defensive: brake, never NaN
                return -self.max_decel, steer_now
            return accel, steer
        if isinstance(ctrl, ActuationControl):
            return ctrl.to_accel(self.max_accel, self.max_decel), float(ctrl.steer)
        assert isinstance(ctrl, Control)
        return float(ctrl.accel), float(ctrl.steer)


_NUMBER = (int, float, np.integer, np.floating)


def _fields(ctrl: AnyControl) -> tuple[tuple[str, Any], ...]:
    if isinstance(ctrl, Control):
        return (("accel", ctrl.accel), ("steer", ctrl.steer))
    if isinstance(ctrl, ActuationControl):
        return (("throttle", ctrl.throttle), ("brake", ctrl.brake), ("steer", ctrl.steer))
    return ()  # TrajectoryControl: converted and checked at construction


def check_control(ctrl: object) -> AnyControl | None:
    """``ctrl`` if it is a control type with numeric fields (None passes: a missing control);
    TypeError otherwise (a string such as ``"1.0"`` is refused, not converted)."""
    if ctrl is None:
        return None
    if not isinstance(ctrl, (Control, ActuationControl, TrajectoryControl)):
        if hasattr(ctrl, "accel") and hasattr(ctrl, "steer"):  # duck-typed Control
            ctrl = Control(accel=ctrl.accel, steer=ctrl.steer)  # type: ignore[attr-defined]
        else:
            raise TypeError(f"act returned {type(ctrl).__name__}, not a Control, ActuationControl or TrajectoryControl")
    for name, v in _fields(ctrl):
        if isinstance(v, bool) or not isinstance(v, _NUMBER):
            raise TypeError(f"{type(ctrl).__name__}.{name} is {type(v).__name__} {v!r}, not a number")
    return ctrl  # type: ignore[return-value]


def is_finite(ctrl: AnyControl) -> bool:
    """False when a Control/ActuationControl carries a NaN or infinite value."""
    return all(math.isfinite(float(v)) for _, v in _fields(ctrl))


def control_problem(ctrl: AnyControl, max_accel_mps2: float, max_steer_rad: float) -> str:
    """Why ``ctrl`` (already through ``check_control``) cannot be executed, or "" when it can.

    Non-finite values, ``|accel| > max_accel_mps2`` (m/s^2), ``|steer| > max_steer_rad`` (rad) and
    pedals outside [0, 1] are no physically possible request (``limits``); values inside these
    bounds but beyond the vehicle's own limits are clipped by the dynamics as documented.
    """
    if not is_finite(ctrl):
        return f"non-finite control {ctrl}"
    vals = {name: float(v) for name, v in _fields(ctrl)}
    if abs(vals.get("accel", 0.0)) > max_accel_mps2:
        return f"accel {vals['accel']:.6g} m/s^2 outside the possible range of +-{max_accel_mps2:g}"
    if abs(vals.get("steer", 0.0)) > max_steer_rad:
        return f"steer {vals['steer']:.6g} rad outside the possible range of +-{max_steer_rad:.4g}"
    for pedal in ("throttle", "brake"):
        if not 0.0 <= vals.get(pedal, 0.0) <= 1.0:
            return f"{pedal} pedal {vals[pedal]:.6g} outside [0, 1]"
    return ""
