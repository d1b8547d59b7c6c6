"""The drive mode's UDP packet layouts (version 1): cockpit input and simulator outputs.

All fields little-endian, no padding beyond what is listed. Every packet starts with a 4-byte
magic and a u16 version; a receiver drops packets whose magic, version or size do not match
(and counts them). Times are seconds on the sender's ``time.monotonic()`` clock: meaningful
across processes of one host only; the simulator echoes the newest input's time in every
output so that a cockpit can measure its input-to-output latency.

Input, cockpit -> simulator (``INPUT_FORMAT``, 48 bytes):

====== ===== ====== ===============================================================
offset size  type   field
====== ===== ====== ===============================================================
0      4     4s     magic ``b"SCDI"``
4      2     u16    version = 1
6      2     u16    flags: bit 0 HEARTBEAT_ONLY (keeps the link alive, no control)
8      4     u32    sequence number (increments per packet)
12     8     f64    sender time (s)
20     4     f32    steering-wheel angle (rad, + = left / counter-clockwise)
24     4     f32    steering-wheel rate (rad/s)
28     4     f32    throttle pedal 0..1
32     4     f32    brake pedal 0..1
36     4     f32    clutch pedal 0..1
40     1     i8     gear: -1 reverse, 0 neutral, 1..8 forward (reverse is treated as neutral)
41     1     u8     reserved, 0
42     2     u16    buttons, bit i = button i (``BUTTON_*``)
44     4     u32    reserved, 0
====== ===== ====== ===============================================================

Every valid packet is a heartbeat. When none has arrived for ``heartbeat_timeout_s`` the ego
brakes at ``SAFE_DECEL_MPS2`` holding its steering, and a ``late_control`` event "heartbeat
lost" is logged (and "heartbeat restored" when packets return).

Outputs, simulator -> visual systems and dashboards: a 48-byte header (``HEADER_FORMAT``)
then ``count`` records of the packet's kind.

====== ===== ====== ===============================================================
offset size  type   field
====== ===== ====== ===============================================================
0      4     4s     magic ``b"SCDO"``
4      2     u16    version = 1
6      2     u16    kind: 1 ACTORS, 2 SIGNALS, 3 PLATFORM
8      4     u32    sequence number (per kind)
12     4     u32    count of records
16     8     f64    simulation time (s)
24     8     f64    sender (simulator) time (s)
32     8     f64    newest input's sender time (s; NaN when none yet)
40     4     u32    newest input's sequence number
44     4     u32    ego row (ACTORS; 0xFFFFFFFF when no ego), else 0
====== ===== ====== ===============================================================

ACTORS records (``ACTOR_FORMAT``, 40 bytes; first the ego, then every active actor): u16 row,
u8 kind (0 vehicle, 1 pedestrian, ...: ``simcore._types.ActorKind``), u8 flags (bit 0 ego),
f64 x, f64 y (m, ENU, rear-axle reference), f32 yaw (rad), f32 speed (m/s), f32 length,
f32 width (m), f32 steer (rad). At most ``MAX_ACTORS`` records per packet.

SIGNALS records (``SIGNAL_FORMAT``, 4 bytes): u16 signal group, u8 state
(``simcore._types.SignalState``), u8 reserved.

PLATFORM records (one, ``PLATFORM_FORMAT``, 192 bytes): f64 pose x, y, z (m), roll, pitch, yaw
(rad); f64 leg lengths (6, m); f64 leg velocities (6, m/s); f64 head specific force in the
vehicle (3, m/s^2, body frame); f64 head angular rate in the vehicle (3, rad/s).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

VERSION = 1
INPUT_MAGIC = b"SCDI"
OUTPUT_MAGIC = b"SCDO"
INPUT_FORMAT = struct.Struct("<4sHHIdfffffbBHI")
HEADER_FORMAT = struct.Struct("<4sHHIIdddII")
ACTOR_FORMAT = struct.Struct("<HBBddfffff")
SIGNAL_FORMAT = struct.Struct("<HBB")
PLATFORM_FORMAT = struct.Struct("<24d")
FLAG_HEARTBEAT_ONLY = 1
KIND_ACTORS, KIND_SIGNALS, KIND_PLATFORM = 1, 2, 3
NO_EGO = 0xFFFFFFFF
#: Records of one ACTORS packet (keeps it under the 65,507-byte UDP payload).
MAX_ACTORS = 1500
#: Deceleration (m/s^2) of the safe stop on heartbeat loss: firm, well inside the tyres' grip.
SAFE_DECEL_MPS2 = 4.0
BUTTON_HORN, BUTTON_INDICATOR_LEFT, BUTTON_INDICATOR_RIGHT, BUTTON_QUIT = 0, 1, 2, 15


@dataclass(frozen=True)
class CockpitInput:
    """One decoded input packet (SI units; see the module table)."""

    sequence: int
    sender_time: float
    wheel_angle: float = 0.0
    wheel_rate: float = 0.0
    throttle: float = 0.0
    brake: float = 0.0
    clutch: float = 0.0
    gear: int = 1
    buttons: int = 0
    heartbeat_only: bool = False

    def pressed(self, button: int) -> bool:
        """Whether button ``button`` (``BUTTON_*``) is down."""
        return bool(self.buttons >> button & 1)


def pack_input(c: CockpitInput) -> bytes:
    """The packet of one cockpit input."""
    flags = FLAG_HEARTBEAT_ONLY if c.heartbeat_only else 0
    return INPUT_FORMAT.pack(
        INPUT_MAGIC,
        VERSION,
        flags,
        c.sequence & 0xFFFFFFFF,
        c.sender_time,
        c.wheel_angle,
        c.wheel_rate,
        c.throttle,
        c.brake,
        c.clutch,
        c.gear,
        0,
        c.buttons & 0xFFFF,
        0,
    )


def unpack_input(data: bytes) -> CockpitInput | None:
    """A decoded input packet, or None when it is not a valid version-1 input packet."""
    if len(data) != INPUT_FORMAT.size:
        return None
    magic, ver, flags, seq, t, wa, wr, thr, brk, clu, gear, _, buttons, _ = INPUT_FORMAT.unpack(data)
    if magic != INPUT_MAGIC or ver != VERSION:
        return None
    values = (t, wa, wr, thr, brk, clu)
    if not all(math.isfinite(v) for v in values):
        return None
    return CockpitInput(
        seq,
        t,
        wa,
        wr,
        min(max(thr, 0.0), 1.0),
        min(max(brk, 0.0), 1.0),
        min(max(clu, 0.0), 1.0),
        gear,
        buttons,
        bool(flags & FLAG_HEARTBEAT_ONLY),
    )


def pack_header(
    kind: int, seq: int, count: int, sim_time: float, now: float, in_time: float, in_seq: int, ego: int = 0
) -> bytes:
    """The 48-byte header of an output packet."""
    return HEADER_FORMAT.pack(
        OUTPUT_MAGIC,
        VERSION,
        kind,
        seq & 0xFFFFFFFF,
        count,
        sim_time,
        now,
        in_time,
        in_seq & 0xFFFFFFFF,
        ego & 0xFFFFFFFF,
    )


@dataclass(frozen=True)
class OutputHeader:
    """A decoded output header."""

    kind: int
    sequence: int
    count: int
    sim_time: float
    sender_time: float
    input_time: float
    input_sequence: int
    ego: int


def unpack_output(data: bytes) -> tuple[OutputHeader, list[tuple]] | None:
    """Header and records of an output packet, or None when it is not a valid version-1 packet."""
    if len(data) < HEADER_FORMAT.size:
        return None
    magic, ver, kind, seq, count, st, now, it, iseq, ego = HEADER_FORMAT.unpack_from(data)
    if magic != OUTPUT_MAGIC or ver != VERSION:
        return None
    rec = {KIND_ACTORS: ACTOR_FORMAT, KIND_SIGNALS: SIGNAL_FORMAT, KIND_PLATFORM: PLATFORM_FORMAT}.get(kind)
    if rec is None or len(data) != HEADER_FORMAT.size + count * rec.size:
        return None
    records = [rec.unpack_from(data, HEADER_FORMAT.size + k * rec.size) for k in range(count)]
    return OutputHeader(kind, seq, count, st, now, it, iseq, ego), records
