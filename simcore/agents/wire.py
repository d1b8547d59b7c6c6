"""The simcore-agent/1 message format (docs/agent-protocol.md): JSON objects, one per line.

Encodes AgentInfo and Observation into plain JSON data and decodes control messages into
Control / ActuationControl / TrajectoryControl. Non-finite floats travel as ``null``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.agents.protocol import ActuationControl, AgentInfo, AnyControl, Control, Observation, TrajectoryControl

PROTOCOL = "simcore-agent/1"
#: Longest message line accepted from an agent (bytes).
MAX_LINE_BYTES = 16 * 1024 * 1024


class ProtocolError(ValueError):
    """A message from the agent breaks the protocol (garbage, wrong type, wrong version)."""


def _num(v: float) -> float | None:
    return v if math.isfinite(v) else None


def plain(obj: Any) -> Any:
    """JSON-ready form of numbers, arrays, mappings, sequences and dataclasses (non-finite -> None)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f" and not np.isfinite(obj).all():
            return [plain(v) for v in obj.tolist()]
        return obj.tolist()
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _num(float(obj))
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return str(obj)


def dumps(msg: Mapping[str, Any]) -> bytes:
    """One message as a UTF-8 JSON line (strict JSON: no NaN)."""
    return (json.dumps(msg, allow_nan=False, separators=(",", ":")) + "\n").encode()


def hello_message(engine_version: str) -> dict[str, Any]:
    """The engine's first message."""
    return {"type": "hello", "protocol": PROTOCOL, "engine": "simcore", "engine_version": engine_version}


def reset_message(info: AgentInfo) -> dict[str, Any]:
    """The reset message: scenario, the controlled vehicle, its route."""
    e = info.ego
    return {
        "type": "reset",
        "role": info.role,
        "scenario": info.scenario,
        "scenario_file": info.scenario_file,
        "dt": info.dt,
        "seed": int(info.seed),
        "vehicle": plain(e),
        "actor_ids": list(info.actor_ids),
        "route": {
            "x": plain(info.route_x),
            "y": plain(info.route_y),
            "s": plain(info.route_s),
            "speed_limit": plain(info.route_speed_limit),
            "curvature": plain(info.route_curvature),
            "goal_s": _num(info.goal_s),
            "lane_changes": {
                "s0": plain(info.lane_change_s0),
                "s1": plain(info.lane_change_s1),
                "side": plain(info.lane_change_side),
                "offset": plain(info.lane_change_offset),
            },
        },
    }


def observation_message(obs: Observation, actor_ids: tuple[str, ...]) -> dict[str, Any]:
    """The observation message of one step."""
    o = obs.objects
    return {
        "type": "observation",
        "step": int(obs.step),
        "time": obs.time,
        "role": obs.role,
        "state": {
            "x": obs.x,
            "y": obs.y,
            "yaw": obs.yaw,
            "speed": obs.speed,
            "accel": obs.accel,
            "steer": obs.steer,
            "progress": _num(obs.progress),
            "lateral": _num(obs.lateral),
            "speed_limit": _num(obs.speed_limit),
        },
        "objects": {
            "id": [actor_ids[int(r)] for r in o.row],
            "kind": plain(o.kind),
            "x": plain(o.x),
            "y": plain(o.y),
            "yaw": plain(o.yaw),
            "speed": plain(o.speed),
            "length": plain(o.length),
            "width": plain(o.width),
            "center_offset": plain(o.center_offset),
        },
        "stop_lines": {"s": plain(obs.stop_s), "state": plain(obs.stop_state)},
        "crosswalks": {
            "s0": plain(obs.crosswalk_s0),
            "s1": plain(obs.crosswalk_s1),
            "occupied": plain(obs.crosswalk_occupied),
        },
        "sensors": plain(obs.sensors),
    }


def parse_line(line: bytes) -> dict[str, Any]:
    """Decode one line into a JSON object with a string ``type``; ProtocolError otherwise."""
    try:
        msg = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not a JSON line ({exc}): {_clip(line)}") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError(f"expected a JSON object with a 'type', got {_clip(line)}")
    return msg


def check_hello(msg: dict[str, Any]) -> str:
    """Validate the agent's hello; returns its name."""
    if msg["type"] != "hello":
        raise ProtocolError(f"expected a 'hello' message first, got {msg['type']!r}")
    proto = msg.get("protocol")
    if proto != PROTOCOL:
        raise ProtocolError(f"protocol version mismatch: engine speaks {PROTOCOL!r}, agent said {proto!r}")
    name = msg.get("name", "exec")
    return name if isinstance(name, str) and name else "exec"


def _float(msg: Mapping[str, Any], key: str) -> float:
    v = msg.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProtocolError(f"control field {key!r} must be a number, got {v!r}")
    return float(v)


def _floats(msg: Mapping[str, Any], key: str) -> np.ndarray | None:
    v = msg.get(key)
    if v is None:
        return None
    if not isinstance(v, list) or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in v):
        raise ProtocolError(f"trajectory field {key!r} must be a list of numbers")
    return np.array(v, dtype=np.float64)


def parse_control(msg: dict[str, Any], step: int) -> AnyControl | None:
    """Decode a control message answering observation ``step`` (None: no control this step)."""
    if msg["type"] != "control":
        raise ProtocolError(f"expected a 'control' message, got {msg['type']!r}")
    if msg.get("step") != step:
        raise ProtocolError(f"control for step {msg.get('step')!r} answers observation step {step}")
    if "trajectory" in msg:
        tr = msg["trajectory"]
        if not isinstance(tr, dict):
            raise ProtocolError("control field 'trajectory' must be an object")
        x, y, yaw = _floats(tr, "x"), _floats(tr, "y"), _floats(tr, "yaw")
        if x is None or y is None or yaw is None:
            raise ProtocolError("a trajectory needs x, y and yaw lists")
        try:
            return TrajectoryControl(x, y, yaw, t=_floats(tr, "t"), speed=_floats(tr, "speed"))
        except ValueError as exc:
            raise ProtocolError(f"bad trajectory: {exc}") from None
    if "throttle" in msg or "brake" in msg:
        return ActuationControl(_float(msg, "throttle"), _float(msg, "brake"), _float(msg, "steer"))
    if "accel" in msg or "steer" in msg:
        return Control(_float(msg, "accel"), _float(msg, "steer"))
    return None


def _clip(line: bytes, n: int = 120) -> str:
    text = repr(line[:n])
    return text + ("..." if len(line) > n else "")
