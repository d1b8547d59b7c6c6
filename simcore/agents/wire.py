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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (send a non-finite number as null)")


def parse_line(line: bytes) -> dict[str, Any]:
    """Decode one line into a JSON object with a string ``type``; ProtocolError otherwise.

    Strict RFC 8259: the ``NaN`` / ``Infinity`` literals that Python's json module would
    accept are refused."""
    try:
        msg = json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # also UnicodeDecodeError; absurd nesting
        raise ProtocolError(f"not a JSON line ({exc}): {_clip(line)}") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError(f"expected a JSON object with a 'type', got {_clip(line)}")
    return msg


def check_hello(msg: dict[str, Any]) -> str:
    """Validate the agent's hello; returns its name (at most 100 characters; "exec" if none)."""
    if msg["type"] != "hello":
        raise ProtocolError(f"expected a 'hello' message first, got {msg['type']!r}")
    proto = msg.get("protocol")
    if proto != PROTOCOL:
        raise ProtocolError(f"protocol version mismatch: engine speaks {PROTOCOL!r}, agent said {proto!r}")
    name = msg.get("name", "exec")
    return name[:100] if isinstance(name, str) and name else "exec"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _float(msg: Mapping[str, Any], key: str) -> float:
    """A numeric control field; ``null`` (the wire form of a non-finite number) reads as NaN."""
    if key not in msg:
        raise ProtocolError(f"control field {key!r} is missing")
    v = msg[key]
    if v is None:
        return math.nan
    if not _is_number(v):
        raise ProtocolError(f"control field {key!r} must be a number, got {v!r}")
    return float(v)


def _floats(msg: Mapping[str, Any], key: str) -> np.ndarray | None:
    """A numeric array of a trajectory (None when absent; ``null`` entries read as NaN)."""
    v = msg.get(key)
    if v is None:
        return None
    if not isinstance(v, list) or not all(a is None or _is_number(a) for a in v):
        raise ProtocolError(f"trajectory field {key!r} must be a list of numbers")
    return np.array([math.nan if a is None else a for a in v], dtype=np.float64)


#: The command fields of each control form (a message uses exactly one form, or none).
_FORMS = {"trajectory": ("trajectory",), "pedals": ("throttle", "brake"), "acceleration": ("accel",)}


def parse_control(msg: dict[str, Any], step: int) -> AnyControl | None:
    """Decode a control message answering observation ``step`` (None: no control this step).

    A ``null`` accel / throttle / brake / steer is a non-finite control (the runner records a
    ``bad_control`` and brakes); a trajectory must be finite. Mixing forms is an error."""
    if msg["type"] != "control":
        raise ProtocolError(f"expected a 'control' message, got {msg['type']!r}")
    got = msg.get("step")
    if not (isinstance(got, int) and not isinstance(got, bool)) or got != step:
        raise ProtocolError(f"control for step {got!r} answers observation step {step}")
    forms = [name for name, keys in _FORMS.items() if any(k in msg for k in keys)]
    if len(forms) > 1:
        raise ProtocolError(f"control mixes the {' and '.join(forms)} forms; send exactly one")
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
