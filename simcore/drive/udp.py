"""UDP endpoints of the drive mode: the cockpit input receiver and the output streamer.

Both are non-blocking and never raise on network trouble during a drive: bad packets are
counted and dropped, a send that fails is counted. Tests bind only 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable

import numpy as np

from simcore.drive.protocol import (
    ACTOR_FORMAT,
    KIND_ACTORS,
    KIND_PLATFORM,
    KIND_SIGNALS,
    MAX_ACTORS,
    NO_EGO,
    PLATFORM_FORMAT,
    SIGNAL_FORMAT,
    CockpitInput,
    pack_header,
    unpack_input,
)


class UdpInput:
    """Receives cockpit input packets on ``host:port`` (port 0: any free port, see ``port``).

    ``poll(now)`` drains the socket and returns the newest control packet (None before the
    first); ``alive(now)`` says whether any packet arrived within ``heartbeat_timeout_s``
    (``now`` on the drive loop's clock). Out-of-order packets (older sequence) are ignored.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", heartbeat_timeout_s: float = 0.25) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])
        self.timeout = float(heartbeat_timeout_s)
        self.latest: CockpitInput | None = None
        self.last_heard = -np.inf
        self.received = 0
        self.dropped = 0
        self._seq = -1

    def poll(self, now: float) -> CockpitInput | None:
        """Read every waiting packet; the newest control input so far."""
        while True:
            try:
                data = self.sock.recv(2048)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.dropped += 1
                break
            pkt = unpack_input(data)
            if pkt is None:
                self.dropped += 1
                continue
            if pkt.sequence <= self._seq and self._seq - pkt.sequence < 1 << 31:
                continue
            self._seq = pkt.sequence
            self.received += 1
            self.last_heard = now
            if not pkt.heartbeat_only:
                self.latest = pkt
        return self.latest

    def alive(self, now: float) -> bool:
        """A packet arrived within the heartbeat timeout."""
        return now - self.last_heard <= self.timeout

    def close(self) -> None:
        """Release the socket."""
        self.sock.close()


class UdpOutput:
    """Streams ACTORS and SIGNALS at ``rate_hz`` and PLATFORM at ``platform_rate_hz`` to ``host:port``."""

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        rate_hz: float = 60.0,
        platform_rate_hz: float = 1000.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.addr = (host, int(port))
        self.period = 1.0 / rate_hz if rate_hz > 0 else np.inf
        self.platform_period = 1.0 / platform_rate_hz if platform_rate_hz > 0 else np.inf
        self.clock = clock
        self._next = 0.0
        self._next_platform = 0.0
        self.seq = {KIND_ACTORS: 0, KIND_SIGNALS: 0, KIND_PLATFORM: 0}
        self.sent = 0
        self.failed = 0

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, self.addr)
            self.sent += 1
        except OSError:
            self.failed += 1

    def _header(self, kind: int, count: int, sim_time: float, inp: CockpitInput | None, ego: int = 0) -> bytes:
        self.seq[kind] += 1
        it = inp.sender_time if inp is not None else float("nan")
        iseq = inp.sequence if inp is not None else 0
        return pack_header(kind, self.seq[kind], count, sim_time, self.clock(), it, iseq, ego)

    def states_due(self, now: float) -> bool:
        """Whether the ACTORS / SIGNALS packets are due at loop time ``now`` (then schedules the next)."""
        if now + 1e-12 < self._next:
            return False
        self._next = max(self._next + self.period, now)
        return True

    def platform_due(self, now: float) -> bool:
        """Whether the PLATFORM packet is due at loop time ``now`` (then schedules the next)."""
        if now + 1e-12 < self._next_platform:
            return False
        self._next_platform = max(self._next_platform + self.platform_period, now)
        return True

    def send_states(
        self,
        sim_time: float,
        inp: CockpitInput | None,
        ego: int,
        rows: np.ndarray,
        kind: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        yaw: np.ndarray,
        speed: np.ndarray,
        length: np.ndarray,
        width: np.ndarray,
        steer: np.ndarray,
        signals: np.ndarray,
    ) -> None:
        """One ACTORS packet (ego first, then ``rows``) and one SIGNALS packet."""
        order = [ego] if ego >= 0 else []
        order += [int(r) for r in rows if r != ego][: MAX_ACTORS - len(order)]
        body = b"".join(
            ACTOR_FORMAT.pack(
                r, int(kind[r]), int(r == ego), x[r], y[r], yaw[r], speed[r], length[r], width[r], steer[r]
            )
            for r in order
        )
        self._send(self._header(KIND_ACTORS, len(order), sim_time, inp, ego if ego >= 0 else NO_EGO) + body)
        sig = b"".join(SIGNAL_FORMAT.pack(g, int(s), 0) for g, s in enumerate(signals))
        self._send(self._header(KIND_SIGNALS, len(signals), sim_time, inp) + sig)

    def send_platform(self, sim_time: float, inp: CockpitInput | None, values: np.ndarray) -> None:
        """One PLATFORM packet from the 24 values of ``PLATFORM_FORMAT``."""
        self._send(self._header(KIND_PLATFORM, 1, sim_time, inp) + PLATFORM_FORMAT.pack(*values))

    def close(self) -> None:
        """Release the socket."""
        with contextlib.suppress(OSError):
            self.sock.close()
