"""``simcore drive SCENARIO``: the command-line front of the drive mode (registered by ``simcore.cli``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_PASS, EXIT_FAIL, EXIT_INVALID = 0, 1, 2


def add_parser(sub: Any) -> None:
    """Register ``drive`` on the CLI's sub-parsers."""
    d = sub.add_parser("drive", help="drive a scenario in real time (keyboard, wheel, cockpit UDP) with motion cueing")
    d.add_argument("scenario")
    d.add_argument("--input", choices=["keyboard", "joystick", "udp", "autopilot"], default="keyboard")
    d.add_argument("--faster-than-real-time", action="store_true", help="no pacing; everything else unchanged")
    d.add_argument("--physics-hz", type=float, default=1000.0, help="ego dynamics and cueing rate (default 1000)")
    d.add_argument("--max-time", type=float, help="end after this simulated time (s)")
    d.add_argument("--engine-thread", action="store_true", help="traffic and evaluation in a worker thread")
    d.add_argument("--seed", type=int)
    d.add_argument("--platform", default="hexapod_6dof", help="built-in platform name or YAML file")
    d.add_argument("--cueing", choices=["classical", "mpc"], default="classical")
    d.add_argument("--steering-ratio", type=float, default=15.0, help="steering wheel / road wheel angle")
    d.add_argument("--udp-host", default="127.0.0.1", help="address the cockpit input is received on")
    d.add_argument("--udp-port", type=int, default=5600, help="cockpit input port (--input udp)")
    d.add_argument("--heartbeat-timeout", type=float, default=0.25, help="s without input before a safe stop")
    d.add_argument("--out-host", default="127.0.0.1", help="where UDP outputs go")
    d.add_argument("--out-port", type=int, help="send UDP outputs to this port (none if not given)")
    d.add_argument("--out-rate", type=float, default=60.0, help="actor / signal packets per second")
    d.add_argument("--platform-rate", type=float, default=1000.0, help="platform packets per second")
    d.add_argument("--no-window", action="store_true", help="no window (needs --input udp or autopilot)")
    d.add_argument("--headless", action="store_true", help="window on SDL's dummy video driver")
    d.add_argument("--screenshot", help="save the last window frame to this PNG")
    d.add_argument("--calibrate", action="store_true", help="record the controller's axis ranges (8 s) and exit")
    d.add_argument("--out", help="write result.json, junit.xml, report.html, drive.json, drive_log.npz here")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=cmd_drive)


def cmd_drive(args: argparse.Namespace) -> int:
    """Run one drive; exit 0 pass, 1 fail, 2 invalid input."""
    from simcore.drive.inputs import AutopilotSource, PygameSource, UdpSource, calibrate_joystick
    from simcore.scenario.errors import ScenarioError

    if args.calibrate:
        print(f"move the wheel lock to lock and press every pedal fully ... saved {calibrate_joystick()}")
        return EXIT_PASS
    if args.no_window and args.input in ("keyboard", "joystick"):
        print("simcore drive: keyboard and joystick input need the window (drop --no-window)", file=sys.stderr)
        return EXIT_INVALID
    from simcore.drive.adapter import EngineAdapter
    from simcore.drive.loop import DriveLoop, DriveOptions
    from simcore.drive.udp import UdpOutput

    try:
        adapter = EngineAdapter(args.scenario, seed=args.seed, driver_name=args.input)
        opt = DriveOptions(
            physics_hz=args.physics_hz,
            faster_than_real_time=args.faster_than_real_time,
            cueing=args.cueing,
            platform=args.platform,
            max_time_s=args.max_time,
        )
        window = None
        if not args.no_window:
            from simcore.drive.window import DriveWindow

            window = DriveWindow(adapter, headless=args.headless)
        if args.input == "udp":
            source: Any = UdpSource(args.udp_port, args.udp_host, args.heartbeat_timeout, args.steering_ratio)
        elif args.input == "autopilot":
            source = AutopilotSource()
        else:
            source = PygameSource(args.input, args.steering_ratio)
        output = UdpOutput(args.out_port, args.out_host, args.out_rate, args.platform_rate) if args.out_port else None
        loop = DriveLoop(adapter, source, opt, output, window)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    except (ValueError, KeyError, FileNotFoundError, RuntimeError, OSError) as exc:
        print(f"simcore drive: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if not args.quiet:
        print(
            f"driving {adapter.name}: physics {opt.physics_hz:g} Hz, scenario step {adapter.dt:g} s, "
            f"input {args.input}" + (f" on udp {args.udp_host}:{source.port}" if args.input == "udp" else ""),
            flush=True,
        )
    out = loop.run()
    if window is not None:
        if args.screenshot:
            window.save(args.screenshot)
        window.close()
    if not args.quiet:
        print(format_drive_summary(out), flush=True)
    if args.out:
        if not args.quiet:
            print(f"writing    {args.out} ...", flush=True)
        write_drive_outputs(adapter, out, Path(args.out))
    return EXIT_PASS if out.result.passed else EXIT_FAIL


def write_drive_outputs(adapter: Any, out: Any, folder: Path) -> None:
    """The run's usual outputs plus drive.json (timing, platform, fidelity) and drive_log.npz."""
    from simcore.report.outputs import write_run_outputs

    write_run_outputs(adapter.sim.world, out.result, folder)
    doc = {"timing": out.timing, "platform": out.platform, "fidelity": out.fidelity}
    (folder / "drive.json").write_text(json.dumps(doc, indent=2) + "\n")
    import numpy as np

    np.savez_compressed(folder / "drive_log.npz", **out.log)


def format_drive_summary(out: Any) -> str:
    """A few lines: result, timing, platform and fidelity."""
    r, t, p, f = out.result, out.timing, out.platform, out.fidelity
    lines = [
        f"scenario   {r.scenario}  -> {r.termination or 'end'}   score {r.score:.1f}   "
        f"{'PASS' if r.passed else 'FAIL'}",
        f"physics    {t['physics_hz_achieved']:.0f} Hz achieved of {t['physics_hz_target']:g} over {t['ticks']} ticks "
        f"({t['wall_s']:.1f} s wall)",
    ]
    if t["paced"]:
        lines.append(
            f"deadlines  {t['overruns']} overruns ({100 * t['overrun_fraction']:.2f} %), worst lateness "
            f"{1e3 * t['worst_lateness_s']:.2f} ms, p99 {1e3 * t['lateness_p99_s']:.3f} ms, "
            f"{t['slips']} slips"
        )
    lines.append(
        f"engine     step median {1e3 * t['engine_step_median_s']:.2f} ms, max "
        f"{1e3 * t['engine_step_max_s']:.1f} ms; tick work median {1e6 * t['tick_work_median_s']:.0f} us"
    )
    lines.append(
        f"platform   {p['platform']} ({p['cueing']}): legs {p['leg_min_m']:.3f}..{p['leg_max_m']:.3f} m, "
        f"|v| <= {p['leg_speed_max_mps']:.3f} m/s, |a| <= {p['leg_accel_max_mps2']:.2f} m/s^2, "
        f"limited in {p['limited_steps']} ticks"
    )
    if f:
        ch = f["channels"]
        lines.append(
            "fidelity   "
            + ", ".join(
                f"{k} r={v['correlation']:.2f} lag={v['delay_s']:.2f}s false={v['false_cues']}"
                for k, v in ch.items()
                if v["correlation"] is not None
            )
        )
        lines.append(f"MSDV_z     vehicle {f['msdv_vehicle_z']:.3f}, platform {f['msdv_platform_z']:.3f} m/s^1.5")
    return "\n".join(lines)
