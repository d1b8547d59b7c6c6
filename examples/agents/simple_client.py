#!/usr/bin/env python3
"""A minimal out-of-process simcore agent (protocol simcore-agent/1), standard library only.

Run it through the engine:

    simcore run urban/signalized_intersection --agent "exec:python3 examples/agents/simple_client.py"

It keeps its lane with pure pursuit on the route it is given at reset, and sets its speed
with the Intelligent Driver Model towards the nearest thing ahead on its route: a vehicle or
pedestrian in its path, a stop line whose signal is not green, or an occupied crosswalk.
Logs go to stderr; stdout carries protocol messages only. See docs/agent-protocol.md.
"""

from __future__ import annotations

import bisect
import json
import math
import sys

PROTOCOL = "simcore-agent/1"
GREEN, OFF = 2, 4
AMBER = 1

# Driver parameters (SI).
T_HEADWAY = 1.5  # s
S0 = 3.0  # m standstill gap
B_COMF = 2.5  # m/s^2
A_LAT = 2.0  # m/s^2 in curves
LOOK_AHEAD_M = 80.0


def send(msg: dict) -> None:
    sys.stdout.write(json.dumps(msg, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def log(*args: object) -> None:
    print("simple_client:", *args, file=sys.stderr, flush=True)


class Driver:
    """Lane keeping + IDM over the observation."""

    def reset(self, msg: dict) -> None:
        r = msg["route"]
        self.rx, self.ry, self.rs = r["x"], r["y"], r["s"]
        self.vlim, self.curv = r["speed_limit"], r["curvature"]
        v = msg["vehicle"]
        self.wheelbase = v["wheelbase"]
        self.front = v["length"] - v["rear_overhang"]
        self.width = v["width"]
        self.max_accel, self.max_decel, self.max_steer = v["max_accel"], v["max_decel"], v["max_steer"]

    def _at(self, s: float) -> tuple[float, float]:
        """Route point at arc length s (clamped to the route)."""
        rs = self.rs
        k = min(max(bisect.bisect_right(rs, s) - 1, 0), len(rs) - 2)
        u = (s - rs[k]) / max(rs[k + 1] - rs[k], 1e-9)
        u = min(max(u, 0.0), 1.0)
        return self.rx[k] + u * (self.rx[k + 1] - self.rx[k]), self.ry[k] + u * (self.ry[k + 1] - self.ry[k])

    def _in_path(self, ox: float, oy: float, s_from: float, half: float) -> float | None:
        """Route s of the point (ox, oy) if it lies within ``half`` m of the route ahead."""
        rs = self.rs
        k0 = max(bisect.bisect_left(rs, s_from) - 1, 0)
        best, best_s = math.inf, None
        for k in range(k0, len(rs) - 1):
            if rs[k] > s_from + LOOK_AHEAD_M:
                break
            ax, ay, bx, by = self.rx[k], self.ry[k], self.rx[k + 1], self.ry[k + 1]
            dx, dy = bx - ax, by - ay
            l2 = dx * dx + dy * dy or 1e-12
            u = min(max(((ox - ax) * dx + (oy - ay) * dy) / l2, 0.0), 1.0)
            d = math.hypot(ax + u * dx - ox, ay + u * dy - oy)
            if d < best:
                best, best_s = d, rs[k] + u * math.sqrt(l2)
        return best_s if best <= half else None

    def act(self, obs: dict) -> dict:
        st = obs["state"]
        x, y, yaw, v, s = st["x"], st["y"], st["yaw"], st["speed"], st["progress"]
        # Lateral: pure pursuit to the route point ld ahead.
        ld = max(5.0, 0.8 * v)
        tx, ty = self._at(s + ld)
        alpha = math.atan2(ty - y, tx - x) - yaw
        steer = math.atan2(2.0 * self.wheelbase * math.sin(alpha), max(math.hypot(tx - x, ty - y), 1e-3))
        steer = max(-self.max_steer, min(self.max_steer, steer))
        # Desired speed: limit here, and slow enough for curvature over the next 40 m.
        k = max(bisect.bisect_right(self.rs, s) - 1, 0)
        v0 = st["speed_limit"] or self.vlim[k]
        for j in range(k, len(self.rs)):
            if self.rs[j] > s + 40.0:
                break
            c = abs(self.curv[j])
            if c > 1e-4:
                v0 = min(v0, math.sqrt(A_LAT / c))
        v0 = max(v0, 1.0)
        # Obstacles along the route: (route s of the obstacle's near edge, its speed along the route).
        obstacles: list[tuple[float, float]] = [(self.rs[-1], 0.0)]  # stop at the end of the route
        for s_line, state in zip(obs["stop_lines"]["s"], obs["stop_lines"]["state"], strict=True):
            if s_line < s + self.front - 0.5 or state in (GREEN, OFF):
                continue
            dist = s_line - s - self.front
            if state == AMBER and dist < v * v / (2 * B_COMF):
                continue  # too close to stop comfortably: go on through amber
            obstacles.append((s_line - 1.0, 0.0))
        cw = obs["crosswalks"]
        for s0, occupied in zip(cw["s0"], cw["occupied"], strict=True):
            if occupied and s0 > s + self.front - 1.0:
                obstacles.append((s0 - 1.0, 0.0))
        o = obs["objects"]
        for i in range(len(o["x"])):
            c = o["center_offset"][i]
            cx = o["x"][i] + c * math.cos(o["yaw"][i])
            cy = o["y"][i] + c * math.sin(o["yaw"][i])
            half = 0.5 * (self.width + o["width"][i]) + 0.4
            s_obj = self._in_path(cx, cy, s, half)
            if s_obj is None or s_obj < s:
                continue
            kk = max(bisect.bisect_right(self.rs, s_obj) - 1, 0)
            kk = min(kk, len(self.rs) - 2)
            heading = math.atan2(self.ry[kk + 1] - self.ry[kk], self.rx[kk + 1] - self.rx[kk])
            v_along = o["speed"][i] * math.cos(o["yaw"][i] - heading)
            obstacles.append((s_obj - 0.5 * o["length"][i], max(v_along, 0.0)))
        # IDM towards the nearest obstacle.
        free = 1.0 - (v / v0) ** 4
        gap_s, v_lead = min(obstacles)
        gap = max(gap_s - s - self.front, 0.01)
        s_star = S0 + max(v * T_HEADWAY + v * (v - v_lead) / (2 * math.sqrt(self.max_accel * B_COMF)), 0.0)
        accel = self.max_accel * (free - (s_star / gap) ** 2)
        accel = max(-self.max_decel, min(self.max_accel, accel))
        return {"type": "control", "step": obs["step"], "accel": accel, "steer": steer}


def main() -> int:
    driver = Driver()
    for line in sys.stdin:
        msg = json.loads(line)
        kind = msg["type"]
        if kind == "hello":
            if msg.get("protocol") != PROTOCOL:
                log("unsupported protocol", msg.get("protocol"))
                return 1
            send({"type": "hello", "protocol": PROTOCOL, "name": "simple-client"})
        elif kind == "reset":
            driver.reset(msg)
            log("reset for", msg["scenario"], "as", msg["role"])
        elif kind == "observation":
            send(driver.act(msg))
        elif kind == "close":
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
