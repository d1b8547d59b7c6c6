"""The real-time drive loop: ego physics at 1 kHz on the wall clock, traffic at the scenario's step.

One tick (``physics_hz``, default 1000 Hz): read the driver's input, step the ego's single-track
model, compute the specific force and angular rate at the driver's head, run the motion cueing
and the Stewart platform's limited command, log. Every ``scenario dt`` worth of ticks the ego's
pose goes to the engine, which steps traffic, signals and evaluation (``EngineAdapter.step``).
UDP outputs and the window run at their own rates, decoupled from the physics.

Pacing: tick k must finish by t0 + (k + 1) / physics_hz on ``time.perf_counter``. A tick that
finishes later is an overrun (counted, its lateness kept); the loop then runs the next ticks
back to back to catch up, so the physics stays at its fixed step. Falling behind by more than
``slip_s`` moves the schedule instead (a slip, counted). ``faster_than_real_time`` skips the
waiting and the deadline accounting and leaves every other behaviour as it is.
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simcore.cueing.fidelity import fidelity_report
from simcore.cueing.motion import platform_head_motion, vehicle_head_motion
from simcore.cueing.mpc import MpcCueing
from simcore.cueing.platform import PlatformSpec, load_platform
from simcore.cueing.stewart import StewartPlatform
from simcore.cueing.washout import ClassicalWashout
from simcore.drive.adapter import EgoRow, EngineAdapter
from simcore.drive.ego import EgoDynamics
from simcore.drive.inputs import Command, InputSource
from simcore.drive.protocol import SAFE_DECEL_MPS2, CockpitInput
from simcore.drive.udp import UdpOutput
from simcore.dynamics.single_track_kernels import INPUT_ACCEL_STEER
from simcore.runner.results import Result


@dataclass(frozen=True)
class DriveOptions:
    """Settings of one drive.

    Attributes:
        physics_hz: ego dynamics and cueing rate (Hz); a multiple of 1 / scenario dt is best.
        faster_than_real_time: no pacing (tests, batch checks); everything else unchanged.
        cueing: "classical" or "mpc". platform: built-in name or YAML path.
        max_time_s: end the drive after this simulated time (s); None: the scenario's end.
        display_hz: window frame rate. slip_s: lateness (s) after which the schedule slips.
        log_every: keep every this many ticks in the drive log (1: all).
        engine_thread: run each scenario step in a worker thread while the physics ticks on
            (its kernels release the GIL); the engine then lags the ego by one scenario step
            and the autopilot's decisions take effect one step later. Off: one thread.
    """

    physics_hz: float = 1000.0
    faster_than_real_time: bool = False
    cueing: str = "classical"
    platform: str = "hexapod_6dof"
    max_time_s: float | None = None
    display_hz: float = 30.0
    slip_s: float = 0.1
    log_every: int = 1
    engine_thread: bool = False


@dataclass
class Timing:
    """Deadline monitoring of one drive (seconds unless named)."""

    ticks: int = 0
    wall_s: float = 0.0
    overruns: int = 0
    worst_lateness_s: float = 0.0
    slips: int = 0
    lateness: list[float] = field(default_factory=list)
    engine_step_s: list[float] = field(default_factory=list)
    tick_work_s: list[float] = field(default_factory=list)

    def summary(self, physics_hz: float, paced: bool) -> dict[str, Any]:
        """JSON-ready summary: achieved rate, overruns, lateness and work-time percentiles."""
        late = np.asarray(self.lateness) if self.lateness else np.zeros(1)
        eng = np.asarray(self.engine_step_s) if self.engine_step_s else np.zeros(1)
        work = np.asarray(self.tick_work_s) if self.tick_work_s else np.zeros(1)
        return {
            "paced": paced,
            "physics_hz_target": physics_hz,
            "ticks": self.ticks,
            "wall_s": self.wall_s,
            "physics_hz_achieved": self.ticks / self.wall_s if self.wall_s > 0 else math.nan,
            "overruns": self.overruns if paced else None,
            "overrun_fraction": self.overruns / max(self.ticks, 1) if paced else None,
            "worst_lateness_s": self.worst_lateness_s if paced else None,
            "lateness_p99_s": float(np.percentile(late, 99)) if paced else None,
            "slips": self.slips,
            "engine_step_median_s": float(np.median(eng)),
            "engine_step_max_s": float(eng.max()),
            "tick_work_median_s": float(np.median(work)),
            "tick_work_p99_s": float(np.percentile(work, 99)),
        }


@dataclass
class DriveResult:
    """What a drive produced: the scored Result, timing, cueing fidelity, platform limits and the log."""

    result: Result
    timing: dict[str, Any]
    fidelity: dict[str, Any]
    platform: dict[str, Any]
    log: dict[str, np.ndarray]


class DriveLoop:
    """One drive of ``adapter``'s scenario with ``source`` at the wheel (see the module docstring)."""

    def __init__(
        self,
        adapter: EngineAdapter,
        source: InputSource,
        options: DriveOptions | None = None,
        output: UdpOutput | None = None,
        window: Any = None,
    ) -> None:
        self.adapter, self.source = adapter, source
        self.opt = options or DriveOptions()
        self.output, self.window = output, window
        self.spec: PlatformSpec = load_platform(self.opt.platform)
        n_sub = max(1, round(adapter.dt * self.opt.physics_hz))
        self.n_sub = n_sub
        self.h = adapter.dt / n_sub
        self.ego = EgoDynamics(adapter.ego_params(), self.h, *adapter.ego_surface())
        self._sync_from_engine()
        cls = MpcCueing if self.opt.cueing == "mpc" else ClassicalWashout
        self.cueing = cls(self.spec, self.h)
        self.platform = StewartPlatform(self.spec)
        self.head = np.array(self.spec.cockpit.head_in_vehicle_m, dtype=np.float64)
        self.f = np.zeros(3)
        self.w = np.zeros(3)
        self._out24 = np.zeros(24)
        self.link_lost = False
        self.last_input: CockpitInput | None = None
        self.last_command: Command | None = None

    def _sync_from_engine(self) -> None:
        r = self.adapter.ego_state()
        self.ego.set_rear_axle(r.x, r.y, r.yaw, r.speed, r.steer, r.vy, r.yaw_rate)

    def _safe_stop(self) -> Command:
        """Firm braking, steering held: what the ego does when its driver's link is lost."""
        return Command(INPUT_ACCEL_STEER, -SAFE_DECEL_MPS2, float(self.ego.s[6, 0]), 0.0)

    def run(self) -> DriveResult:
        """Drive to the scenario's end (or ``max_time_s``, or the driver quits); the DriveResult."""
        ad, opt, ego = self.adapter, self.opt, self.ego
        paced = not opt.faster_than_real_time
        h = self.h
        end_t = opt.max_time_s if opt.max_time_s is not None else math.inf
        max_ticks = int(min(ad.sim.max_steps * self.n_sub, (end_t / h) + self.n_sub))
        keep = max(1, opt.log_every)
        rows = max_ticks // keep + 2
        log: dict[str, np.ndarray] = {
            k: np.zeros((rows, n))
            for k, n in (("vehicle_f", 3), ("vehicle_w", 3), ("pose", 6), ("legs", 6), ("leg_velocity", 6), ("ego", 4))
        }
        log["t"] = np.zeros(rows)
        n_log = 0
        tm = Timing()
        self.source.on_engine_step(ad)
        t_wall0 = time.perf_counter()
        t0 = t_wall0
        next_frame = 0.0
        done, reason = False, ""
        k = 0
        prev_speed = self._prev_speed = float(ego.s[3, 0])
        pending: Future | None = None
        pool = ThreadPoolExecutor(max_workers=1) if opt.engine_thread else None
        switch = sys.getswitchinterval()
        if pool is not None:
            sys.setswitchinterval(1e-4)  # the engine thread's Python parts must not hold the GIL for 5 ms
        while not done and k < max_ticks:
            tick_start = time.perf_counter()
            now = (tick_start - t0) if paced else k * h
            cmd = self.source.command(now, ego.max_steer)
            if cmd is None:
                if not self.link_lost:
                    ad.log_event("heartbeat lost: braking to a stop")
                    self.link_lost = True
                cmd = self._safe_stop()
            elif self.link_lost:
                ad.log_event("heartbeat restored")
                self.link_lost = False
            if cmd.source is not None:
                self.last_input = cmd.source
            self.last_command = cmd
            ego.step(cmd.mode, cmd.u0, cmd.u1, cmd.u2)
            vehicle_head_motion(ego.ax, ego.ay, ego.s[5, 0], ego.r_dot, self.head, self.f, self.w)
            pose = self.platform.command(self.cueing.step(self.f, self.w), h)
            if k % keep == 0 and n_log < rows:
                log["t"][n_log] = (k + 1) * h
                log["vehicle_f"][n_log] = self.f
                log["vehicle_w"][n_log] = self.w
                log["pose"][n_log] = pose
                log["legs"][n_log] = self.platform.length
                log["leg_velocity"][n_log] = self.platform.velocity
                log["ego"][n_log] = ego.s[0, 0], ego.s[1, 0], ego.s[2, 0], ego.s[3, 0]
                n_log += 1
            k += 1
            if k % self.n_sub == 0:
                if pending is not None:  # the engine step submitted at the last boundary
                    done, reason = self._after_engine(pending.result(), end_t)
                    pending = None
                    prev_speed = self._prev_speed
                if not done:
                    x, y, yaw, speed, steer, vy, r = ego.rear_axle()
                    accel = (speed - prev_speed) / ad.dt
                    prev_speed = self._prev_speed = speed
                    ad.set_ego(EgoRow(x, y, yaw, speed, steer, accel, vy, r))
                    if pool is not None:
                        pending = pool.submit(self._engine_step, accel, steer, tm)
                    else:
                        done, reason = self._after_engine(self._engine_step(accel, steer, tm), end_t)
                        prev_speed = self._prev_speed
            if self.output is not None:
                self._send_outputs(now)
            if self.window is not None and now >= next_frame:
                next_frame = now + 1.0 / opt.display_hz
                if not self.window.draw(self):
                    done, reason = True, "window closed"
            end = time.perf_counter()
            tm.tick_work_s.append(end - tick_start)
            if paced:
                deadline = t0 + k * h
                late = end - deadline
                tm.lateness.append(max(late, 0.0))
                if late > 0.0:
                    tm.overruns += 1
                    tm.worst_lateness_s = max(tm.worst_lateness_s, late)
                    if late > opt.slip_s:
                        tm.slips += 1
                        t0 += late
                else:
                    _wait_until(deadline)
        if pending is not None:
            pending.result()
        if pool is not None:
            pool.shutdown()
            sys.setswitchinterval(switch)
        tm.ticks = k
        tm.wall_s = time.perf_counter() - t_wall0
        result = ad.result(tm.wall_s)
        self.source.close()
        if self.output is not None:
            self.output.close()
        log = {key: v[:n_log] for key, v in log.items()}
        timing = tm.summary(opt.physics_hz, paced)
        timing["ended"] = reason or "scenario end"
        timing["engine_thread"] = opt.engine_thread
        return DriveResult(
            result,
            timing,
            self._fidelity(log, h * keep),
            self._platform_summary(log, h * keep),
            log,
        )

    def _engine_step(self, accel: float, steer: float, tm: Timing) -> tuple[bool, str]:
        """One scenario step of the engine (in the loop's thread or the engine thread)."""
        te = time.perf_counter()
        out = self.adapter.step(accel, steer)
        tm.engine_step_s.append(time.perf_counter() - te)
        return out

    def _after_engine(self, stepped: tuple[bool, str], end_t: float) -> tuple[bool, str]:
        """After an engine step: resync a moved ego, let the source decide, check the ends."""
        ad = self.adapter
        done, reason = stepped
        if ad.ego_moved_by_engine():
            self._sync_from_engine()
            self._prev_speed = float(self.ego.s[3, 0])
        if not ad.ego_active:
            done, reason = True, reason or "ego left the world"
        self.source.on_engine_step(ad)
        if ad.time >= end_t - 1e-9:
            done, reason = True, reason or "max_time"
        if self.source.quit_requested():
            done, reason = True, "driver quit"
        return done, reason

    def _send_outputs(self, now: float) -> None:
        out, ad = self.output, self.adapter
        assert out is not None
        inp = self.last_input
        if out.platform_due(now):
            v = self._out24
            v[0:6] = self.platform.pose
            v[6:12] = self.platform.length
            v[12:18] = self.platform.velocity
            v[18:21] = self.f
            v[21:24] = self.w
            out.send_platform(ad.time, inp, v)
        if out.states_due(now):
            a = ad.actor_arrays()
            rows = np.flatnonzero(a["active"])
            out.send_states(
                ad.time,
                inp,
                ad.ego,
                rows,
                a["kind"],
                a["x"],
                a["y"],
                a["yaw"],
                a["speed"],
                a["length"],
                a["width"],
                a["steer"],
                ad.signals(),
            )

    def _fidelity(self, log: dict[str, np.ndarray], dt: float) -> dict[str, Any]:
        if len(log["t"]) < 8:
            return {}
        pf, pw = platform_head_motion(log["pose"], dt, self.spec.cockpit.head_above_platform_m)
        return fidelity_report(log["vehicle_f"], log["vehicle_w"], pf, pw, dt, self.spec.perception)

    def _platform_summary(self, log: dict[str, np.ndarray], dt: float) -> dict[str, Any]:
        sp = self.platform
        legs, vel = log["legs"], log["leg_velocity"]
        acc = np.diff(vel, axis=0) / dt if len(vel) > 1 else np.zeros((1, 6))
        return {
            "platform": self.spec.name,
            "cueing": self.cueing.name,
            "leg_min_m": float(legs.min()) if len(legs) else math.nan,
            "leg_max_m": float(legs.max()) if len(legs) else math.nan,
            "leg_speed_max_mps": float(np.abs(vel).max()) if len(vel) else math.nan,
            "leg_accel_max_mps2": float(np.abs(acc).max()) if len(acc) else math.nan,
            "limits": {
                "min_length_m": sp.l_min,
                "max_length_m": sp.l_max,
                "max_velocity_mps": sp.v_max,
                "max_accel_mps2": sp.a_max,
            },
            "limited_steps": sp.limited_steps,
            "fk_failures": sp.fk_failures,
        }


def _wait_until(deadline: float) -> None:
    """Sleep most of the way, then spin the last half millisecond (sleep alone overshoots)."""
    while True:
        left = deadline - time.perf_counter()
        if left <= 0.0:
            return
        if left > 0.002:
            time.sleep(left - 0.0015)
        elif left > 0.0005:
            time.sleep(0.0)
