"""UDP packet layouts (version 1), input shaping and calibration files."""

import math
import socket

import numpy as np
import pytest

from simcore.drive import protocol as p
from simcore.drive.inputs import (
    AxisCalibration,
    Calibration,
    load_calibration,
    pedals_command,
    save_calibration,
    shape_axis,
)
from simcore.drive.udp import UdpInput, UdpOutput
from simcore.dynamics.single_track_kernels import INPUT_PEDALS


def test_packet_sizes_match_the_documented_tables():
    assert (p.INPUT_FORMAT.size, p.HEADER_FORMAT.size, p.ACTOR_FORMAT.size) == (48, 48, 40)
    assert (p.SIGNAL_FORMAT.size, p.PLATFORM_FORMAT.size) == (4, 192)
    assert f"{p.INPUT_FORMAT.size} bytes" in p.__doc__ and "192 bytes" in p.__doc__


def test_input_round_trip_and_rejections():
    c = p.CockpitInput(7, 12.5, 0.7, -0.2, 0.4, 0.0, 0.1, 3, 0b101)
    back = p.unpack_input(p.pack_input(c))
    assert back is not None and back.sequence == 7 and back.gear == 3 and back.pressed(2) and not back.pressed(1)
    assert back.wheel_angle == pytest.approx(0.7) and back.throttle == pytest.approx(0.4)
    raw = bytearray(p.pack_input(c))
    assert p.unpack_input(bytes(raw[:-1])) is None  # size
    raw[4] = 2
    assert p.unpack_input(bytes(raw)) is None  # version
    assert p.unpack_input(b"XXXX" + p.pack_input(c)[4:]) is None  # magic
    nan = p.pack_input(p.CockpitInput(1, math.nan))
    assert p.unpack_input(nan) is None


def test_udp_input_keeps_the_newest_and_counts_bad_packets():
    rx = UdpInput(0, heartbeat_timeout_s=0.5)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for seq, thr in ((1, 0.1), (3, 0.3), (2, 0.2)):  # 2 arrives late: ignored
            tx.sendto(p.pack_input(p.CockpitInput(seq, 0.0, throttle=thr)), ("127.0.0.1", rx.port))
        tx.sendto(b"garbage", ("127.0.0.1", rx.port))
        tx.sendto(p.pack_input(p.CockpitInput(4, 0.0, heartbeat_only=True)), ("127.0.0.1", rx.port))
        got = None
        for _ in range(200):
            got = rx.poll(1.0)
            if rx.received + rx.dropped >= 4:
                break
        assert got is not None and got.sequence == 3 and got.throttle == pytest.approx(0.3)
        assert rx.dropped == 1 and rx.alive(1.4) and not rx.alive(1.6)
    finally:
        tx.close()
        rx.close()


def test_output_packets_decode():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2.0)
    out = UdpOutput(rx.getsockname()[1], rate_hz=10, platform_rate_hz=100)
    try:
        inp = p.CockpitInput(9, 3.25)
        n = 3
        arr = np.arange(n, dtype=np.float64)
        out.send_states(
            1.5,
            inp,
            1,
            np.arange(n),
            np.zeros(n, np.int8),
            arr,
            arr,
            arr,
            arr,
            arr + 4,
            arr + 2,
            arr,
            np.array([0, 2], np.int8),
        )
        out.send_platform(1.5, inp, np.arange(24.0))
        kinds = {}
        for _ in range(3):
            head, recs = p.unpack_output(rx.recv(70000))
            kinds[head.kind] = (head, recs)
        h, recs = kinds[p.KIND_ACTORS]
        assert h.ego == 1 and h.input_time == 3.25 and h.input_sequence == 9 and [r[0] for r in recs] == [1, 0, 2]
        assert recs[0][2] == 1  # the ego flag
        assert [r[:2] for r in kinds[p.KIND_SIGNALS][1]] == [(0, 0), (1, 2)]
        assert kinds[p.KIND_PLATFORM][1][0] == tuple(np.arange(24.0))
        assert out.states_due(0.0) and not out.states_due(0.05) and out.states_due(0.1)
    finally:
        out.close()
        rx.close()


def test_shape_axis_deadzone_and_curve():
    assert shape_axis(0.04, 0.05, 2.0) == 0.0
    assert shape_axis(-0.525, 0.05, 2.0) == pytest.approx(-0.25)
    assert shape_axis(1.0, 0.05, 1.7) == pytest.approx(1.0)


def test_calibration_saved_per_device(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMCORE_CONFIG", str(tmp_path))
    cal = Calibration("Wheel/Pro 9000", steer=AxisCalibration(0, -0.8, 0.8), brake=AxisCalibration(2, -1, 1, True))
    path = save_calibration(cal)
    assert path.parent == tmp_path / "drive" and "/" not in path.name
    back = load_calibration("Wheel/Pro 9000")
    assert back == cal
    assert back.wheel_angle(0.8) == pytest.approx(math.radians(450))
    assert back.pedal(back.brake, -1.0) == pytest.approx(1.0)  # inverted: raw -1 is fully pressed
    assert load_calibration("other") == Calibration("other")


def test_pedals_command_maps_the_wheel_through_the_steering_ratio():
    c = pedals_command(p.CockpitInput(1, 0.0, wheel_angle=1.5, throttle=0.5, gear=-1), 15.0, 0.5)
    assert c.mode == INPUT_PEDALS and c.u0 == 0.0 and c.u2 == pytest.approx(0.2)  # reverse: no drive
