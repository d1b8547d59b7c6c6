"""Drive mode timing: achieved physics rate and deadline overruns, and UDP input-to-output latency.

    python tools/bench/drive.py [--quick] [--json FILE] [--scenario NAME] [--seconds S]

Part 1 drives ``--scenario`` (default: the catalog's densest, ``dense_city_grid``, 571 actors)
twice, side by side, paced to the wall clock with the autopilot at the wheel, physics at 1 kHz,
classical washout and the Stewart platform: the engine step in the loop's thread, then in a
worker thread (``--engine-thread``); it reports the loop's timing summary (achieved physics
rate, overruns, worst lateness, engine step times). Part 2 measures end-to-end latency on 127.0.0.1: a cockpit
thread sends input packets at 200 Hz stamped with ``time.monotonic()``; a dashboard thread
receives the 1 kHz PLATFORM packets; the latency of an input is the arrival time of the first
output that echoes its sequence number minus its send time (input wait + one physics tick +
send). Medians and tails are printed; nothing is compared with a peer (none exists in Python).
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json

from simcore.drive.adapter import EngineAdapter
from simcore.drive.inputs import AutopilotSource, UdpSource
from simcore.drive.loop import DriveLoop, DriveOptions
from simcore.drive.protocol import CockpitInput, pack_input, unpack_output
from simcore.drive.udp import UdpOutput


def paced_drive(scenario: str, seconds: float, engine_thread: bool) -> dict:
    """Timing summary of a paced autopilot drive."""
    ad = EngineAdapter(scenario, driver_name="autopilot")
    ad.sim.prepare()
    out = DriveLoop(ad, AutopilotSource(), DriveOptions(max_time_s=seconds, engine_thread=engine_thread)).run()
    return {"scenario": scenario, "sim_s": out.result.sim_time, **out.timing}


def udp_latency(seconds: float) -> dict:
    """Input-to-output latency over UDP on 127.0.0.1 during a paced drive."""
    ad = EngineAdapter("cut_in")
    src = UdpSource(0, heartbeat_timeout_s=0.5)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    output = UdpOutput(rx.getsockname()[1], rate_hz=30, platform_rate_hz=1000)
    sent: dict[int, float] = {}
    first_echo: dict[int, float] = {}
    stop = threading.Event()

    def cockpit() -> None:
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        seq = 0
        while not stop.is_set():
            seq += 1
            t = time.monotonic()
            sent[seq] = t
            tx.sendto(pack_input(CockpitInput(seq, t, brake=0.05)), ("127.0.0.1", src.port))
            time.sleep(0.005)
        tx.close()

    def dashboard() -> None:
        while not stop.is_set():
            try:
                data = rx.recv(70000)
            except TimeoutError:
                continue
            now = time.monotonic()
            got = unpack_output(data)
            if got is not None and got[0].input_sequence not in first_echo:
                first_echo[got[0].input_sequence] = now

    threads = [threading.Thread(target=cockpit), threading.Thread(target=dashboard)]
    for th in threads:
        th.start()
    try:
        DriveLoop(ad, src, DriveOptions(max_time_s=seconds), output=output).run()
    finally:
        stop.set()
        for th in threads:
            th.join()
        rx.close()
    lat = np.array([first_echo[s] - sent[s] for s in first_echo if s in sent]) * 1e3
    return {
        "inputs_sent": len(sent),
        "inputs_echoed": len(lat),
        "latency_median_ms": float(np.median(lat)),
        "latency_p95_ms": float(np.percentile(lat, 95)),
        "latency_p99_ms": float(np.percentile(lat, 99)),
        "latency_max_ms": float(lat.max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 s drive, 5 s latency run")
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--scenario", default="dense_city_grid")
    ap.add_argument("--seconds", type=float, help="length of the paced drive (default 10 quick, 60 full)")
    args = ap.parse_args()
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    runs = {}
    for mode, threaded in (("one thread", False), ("engine thread", True)):
        print(f"paced drive of {args.scenario} for {seconds:g} s, {mode} ...", flush=True)
        runs[mode] = paced_drive(args.scenario, seconds, threaded)
    print("UDP latency run ...", flush=True)
    lat = udp_latency(5.0 if args.quick else 20.0)
    measures = [
        ("physics rate achieved (Hz)", "physics_hz_achieved", 1.0),
        ("ticks", "ticks", 1),
        ("overruns", "overruns", 1),
        ("overrun fraction (%)", "overrun_fraction", 100.0),
        ("worst lateness (ms)", "worst_lateness_s", 1e3),
        ("lateness p99 (ms)", "lateness_p99_s", 1e3),
        ("slips (> 100 ms behind)", "slips", 1),
        ("engine step median (ms)", "engine_step_median_s", 1e3),
        ("engine step max (ms)", "engine_step_max_s", 1e3),
        ("tick work median (us)", "tick_work_median_s", 1e6),
    ]
    rows = [{"measure": name, **{mode: d[key] * f for mode, d in runs.items()}} for name, key, f in measures]
    rows += [
        {"measure": "UDP input->output median (ms)", "one thread": lat["latency_median_ms"]},
        {"measure": "UDP input->output p99 (ms)", "one thread": lat["latency_p99_ms"]},
        {"measure": "UDP input->output max (ms)", "one thread": lat["latency_max_ms"]},
    ]
    print_table(
        f"drive mode, {args.scenario}, {seconds:g} s paced at 1 kHz (median / tails)",
        rows,
        ["measure", "one thread", "engine thread"],
    )
    write_json(args.json, "drive", rows, {"drive": runs, "latency": lat})


if __name__ == "__main__":
    main()
