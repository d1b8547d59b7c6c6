"""Who drives: the cockpit over UDP, the keyboard, a game controller / wheel, or the autopilot.

Every source gives, each physics tick, a ``Command`` for the ego's single-track model, or
None when its link is lost (the loop then stops the ego safely). Human sources give pedals
(throttle, brake) and a steering-wheel angle; the steering ratio maps the wheel to the road
wheels. Game controllers go through pygame (the optional ``drive`` extra): per-device
calibration (axis ranges, inversion) saved as JSON, a deadzone and a power response curve.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from simcore.agents.protocol import Control
from simcore.drive.protocol import CockpitInput
from simcore.drive.udp import UdpInput
from simcore.dynamics.single_track_kernels import INPUT_ACCEL_STEER, INPUT_PEDALS
from simcore.units import deg_to_rad


@dataclass(frozen=True)
class Command:
    """One control for the ego model: ``mode`` (INPUT_PEDALS / INPUT_ACCEL_STEER) and its (u0, u1, u2);
    ``source`` is the cockpit packet it came from (for latency echo), if any."""

    mode: int
    u0: float
    u1: float
    u2: float
    source: CockpitInput | None = None


def pedals_command(inp: CockpitInput, steering_ratio: float, max_steer: float) -> Command:
    """Pedals and wheel -> the model's pedal mode (throttle 0..1, brake 0..1, steer -1..1 of max_steer).

    Reverse and neutral give no drive force (the model drives forward only)."""
    road = inp.wheel_angle / steering_ratio
    throttle = inp.throttle if inp.gear > 0 else 0.0
    return Command(INPUT_PEDALS, throttle, inp.brake, max(-1.0, min(1.0, road / max_steer)), inp)


class InputSource(Protocol):
    """What the drive loop asks of a driver."""

    name: str

    def command(self, now: float, max_steer: float) -> Command | None:
        """The control at loop time ``now`` (s); None when the link is lost."""

    def on_engine_step(self, adapter: Any) -> None:
        """Called after every scenario step (the autopilot decides here)."""

    def quit_requested(self) -> bool:
        """The driver asked to end the drive."""

    def close(self) -> None:
        """Release devices and sockets."""


class UdpSource:
    """The cockpit's UDP protocol (``simcore.drive.protocol``)."""

    name = "udp"

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", heartbeat_timeout_s: float = 0.25, steering_ratio: float = 15.0
    ) -> None:
        self.udp = UdpInput(port, host, heartbeat_timeout_s)
        self.ratio = steering_ratio
        self._quit = False
        self._first = True

    @property
    def port(self) -> int:
        """The bound port."""
        return self.udp.port

    def command(self, now: float, max_steer: float) -> Command | None:
        """Newest packet's pedals and wheel; None when the heartbeat is lost (the timeout also
        runs from the first call, so a cockpit that never talks is a lost one)."""
        if self._first:
            self._first = False
            self.udp.last_heard = max(self.udp.last_heard, now)
        inp = self.udp.poll(now)
        if not self.udp.alive(now):
            return None
        if inp is None:
            return Command(INPUT_PEDALS, 0.0, 0.0, 0.0)
        self._quit = inp.pressed(15)
        return pedals_command(inp, self.ratio, max_steer)

    def on_engine_step(self, adapter: Any) -> None:
        """Nothing to do."""

    def quit_requested(self) -> bool:
        """Button 15 (``BUTTON_QUIT``) is down."""
        return self._quit

    def close(self) -> None:
        """Close the socket."""
        self.udp.close()


class AutopilotSource:
    """The built-in autopilot at the wheel: it decides at every scenario step from the observation."""

    name = "autopilot"

    def __init__(self) -> None:
        from simcore.agents.builtin.autopilot import Autopilot

        self.agent = Autopilot()
        self.control = Control(accel=0.0, steer=0.0)
        self._ready = False

    def on_engine_step(self, adapter: Any) -> None:
        """New targets from the observation now."""
        if not self._ready:
            self.agent.reset(adapter.agent_info())
            self._ready = True
        self.control = self.agent.act(adapter.observe())

    def command(self, now: float, max_steer: float) -> Command | None:
        """The targets of the last decision (acceleration m/s^2, road-wheel angle rad)."""
        return Command(INPUT_ACCEL_STEER, self.control.accel, self.control.steer, 0.0)

    def quit_requested(self) -> bool:
        """Never."""
        return False

    def close(self) -> None:
        """Nothing to release."""


# ---------------------------------------------------------------------------- response curves


def shape_axis(x: float, deadzone: float, gamma: float) -> float:
    """Deadzone then power curve: 0 inside |x| <= deadzone, sign(x) ((|x| - dz) / (1 - dz))^gamma outside."""
    a = abs(x)
    if a <= deadzone:
        return 0.0
    return math.copysign(min((a - deadzone) / (1.0 - deadzone), 1.0) ** gamma, x)


@dataclass
class AxisCalibration:
    """One controller axis: its index, raw range and direction."""

    axis: int
    raw_min: float = -1.0
    raw_max: float = 1.0
    invert: bool = False

    def unit(self, raw: float) -> float:
        """Raw value -> 0..1 over the calibrated range (inverted if asked)."""
        span = self.raw_max - self.raw_min
        v = (raw - self.raw_min) / span if span else 0.0
        v = min(max(v, 0.0), 1.0)
        return 1.0 - v if self.invert else v


@dataclass
class Calibration:
    """A device's calibration, saved per device as JSON (``calibration_path``).

    Attributes:
        device: the controller's name. steer, throttle, brake: axes. wheel_range_deg: lock to lock.
        deadzone: of the steering axis (fraction of half range). steer_gamma: response curve exponent.
        pedal_deadzone: of the pedals (fraction).
    """

    device: str
    steer: AxisCalibration = field(default_factory=lambda: AxisCalibration(0))
    throttle: AxisCalibration = field(default_factory=lambda: AxisCalibration(5, invert=False))
    brake: AxisCalibration = field(default_factory=lambda: AxisCalibration(4, invert=False))
    wheel_range_deg: float = 900.0
    deadzone: float = 0.03
    steer_gamma: float = 1.3
    pedal_deadzone: float = 0.02

    def to_json(self) -> str:
        """As saved."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        """Read a saved calibration; ValueError naming the bad key on bad input."""
        d: dict[str, Any] = json.loads(text)
        try:
            for k in ("steer", "throttle", "brake"):
                if k in d:
                    d[k] = AxisCalibration(**d[k])
            return cls(**d)
        except TypeError as exc:
            raise ValueError(f"bad calibration file: {exc}") from None

    def wheel_angle(self, raw: float) -> float:
        """Steering-wheel angle (rad) from the raw steering axis."""
        centred = 2.0 * self.steer.unit(raw) - 1.0
        return shape_axis(centred, self.deadzone, self.steer_gamma) * deg_to_rad(self.wheel_range_deg) / 2.0

    def pedal(self, axis: AxisCalibration, raw: float) -> float:
        """Pedal 0..1 from its raw axis."""
        return shape_axis(axis.unit(raw), self.pedal_deadzone, 1.0)


def calibration_path(device: str) -> Path:
    """Where a device's calibration lives: $SIMCORE_CONFIG (or ~/.config/simcore)/drive/<device>.json."""
    base = Path(os.environ.get("SIMCORE_CONFIG") or Path.home() / ".config" / "simcore")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in device)[:80] or "device"
    return base / "drive" / f"{safe}.json"


def load_calibration(device: str) -> Calibration:
    """The saved calibration of ``device``, or defaults."""
    p = calibration_path(device)
    return Calibration.from_json(p.read_text()) if p.exists() else Calibration(device)


def save_calibration(cal: Calibration) -> Path:
    """Save ``cal`` for its device; returns the path."""
    p = calibration_path(cal.device)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(cal.to_json() + "\n")
    return p


class PygameSource:
    """Keyboard or game controller / steering wheel through pygame (needs a pygame display or the
    dummy driver). Keyboard: arrows steer, throttle and brake (ramped), Esc or q quits. Force
    feedback: where the device supports it, a rumble grows with the ego's lateral acceleration."""

    def __init__(self, kind: str = "keyboard", steering_ratio: float = 15.0, joystick_index: int = 0) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pg = pygame
        pygame.display.init()
        self.name = kind
        self.ratio = steering_ratio
        self._quit = False
        self._last = 0.0
        self.wheel = self.throttle = self.brake = 0.0
        self.joy = None
        self.cal: Calibration | None = None
        if kind == "joystick":
            pygame.joystick.init()
            if pygame.joystick.get_count() <= joystick_index:
                raise RuntimeError("no game controller found (pygame sees none)")
            self.joy = pygame.joystick.Joystick(joystick_index)
            self.cal = load_calibration(self.joy.get_name())

    def command(self, now: float, max_steer: float) -> Command | None:
        """Read the device; pedals and wheel as a Command."""
        pg = self.pg
        dt = max(min(now - self._last, 0.1), 0.0)
        self._last = now
        for ev in pg.event.get():
            if ev.type == pg.QUIT or (ev.type == pg.KEYDOWN and ev.key in (pg.K_ESCAPE, pg.K_q)):
                self._quit = True
        if self.joy is not None and self.cal is not None:
            c, j = self.cal, self.joy
            self.wheel = c.wheel_angle(j.get_axis(c.steer.axis))
            self.throttle = c.pedal(c.throttle, j.get_axis(c.throttle.axis))
            self.brake = c.pedal(c.brake, j.get_axis(c.brake.axis))
        else:
            keys = pg.key.get_pressed()
            self.throttle = _ramp(self.throttle, 1.0 if keys[pg.K_UP] else 0.0, 2.0 * dt, 4.0 * dt)
            self.brake = _ramp(self.brake, 1.0 if keys[pg.K_DOWN] else 0.0, 2.5 * dt, 5.0 * dt)
            lock = self.ratio * max_steer
            target = lock * ((1.0 if keys[pg.K_LEFT] else 0.0) - (1.0 if keys[pg.K_RIGHT] else 0.0))
            self.wheel = _ramp(self.wheel, target, 0.8 * lock * dt, 1.5 * lock * dt)
        inp = CockpitInput(0, now, self.wheel, 0.0, self.throttle, self.brake)
        return pedals_command(inp, self.ratio, max_steer)

    def feedback(self, lateral_accel: float) -> None:
        """Rumble with |lateral acceleration| / 8 m/s^2 where the device can (no-op otherwise)."""
        if self.joy is not None and hasattr(self.joy, "rumble"):
            level = min(abs(lateral_accel) / 8.0, 1.0)
            self.joy.rumble(level, level, 100)

    def on_engine_step(self, adapter: Any) -> None:
        """Nothing to do."""

    def quit_requested(self) -> bool:
        """Esc, q or the window closed."""
        return self._quit

    def close(self) -> None:
        """Stop the rumble."""
        if self.joy is not None and hasattr(self.joy, "stop_rumble"):
            self.joy.stop_rumble()


def _ramp(value: float, target: float, up: float, down: float) -> float:
    """Move toward ``target`` by at most ``up`` (when rising in magnitude) or ``down``."""
    step = up if abs(target) > abs(value) else down
    return value + max(-step, min(step, target - value))


def calibrate_joystick(seconds: float = 8.0, joystick_index: int = 0) -> Path:
    """Record every axis's range while the driver moves the wheel and pedals fully; save and return the path."""
    import time

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.display.init()
    pygame.joystick.init()
    if pygame.joystick.get_count() <= joystick_index:
        raise RuntimeError("no game controller found (pygame sees none)")
    joy = pygame.joystick.Joystick(joystick_index)
    n = joy.get_numaxes()
    lo, hi = [math.inf] * n, [-math.inf] * n
    rest = [joy.get_axis(a) for a in range(n)]
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        pygame.event.pump()
        for a in range(n):
            v = joy.get_axis(a)
            lo[a], hi[a] = min(lo[a], v), max(hi[a], v)
        time.sleep(0.01)
    cal = load_calibration(joy.get_name())
    for ax in (cal.steer, cal.throttle, cal.brake):
        if ax.axis < n and hi[ax.axis] > lo[ax.axis]:
            ax.raw_min, ax.raw_max = lo[ax.axis], hi[ax.axis]
    # pedals rest at one end: invert when the resting value is the top of the range
    for ax in (cal.throttle, cal.brake):
        if ax.axis < n:
            ax.invert = abs(rest[ax.axis] - ax.raw_max) < abs(rest[ax.axis] - ax.raw_min)
    return save_calibration(cal)
