"""The simcore-agent/1 message codec: strict decoding of agent messages, encoding of non-finite
numbers, control forms (docs/agent-protocol.md, "agent -> engine: control")."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore.agents.builtin.autopilot import Idle
from simcore.agents.protocol import ActuationControl, Control, EgoInfo, TrajectoryControl
from simcore.agents.wire import (
    PROTOCOL,
    ProtocolError,
    check_hello,
    dumps,
    hello_message,
    observation_message,
    parse_control,
    parse_line,
    plain,
    reset_message,
)

from ._helpers import ROOT, SIGNALISED, make_sim


def ctrl(text: str, step: int = 3):
    return parse_control(parse_line(text.encode()), step)


def test_the_three_forms_and_none():
    assert ctrl('{"type":"control","step":3,"accel":-1.5,"steer":0.25}') == Control(-1.5, 0.25)
    assert ctrl('{"type":"control","step":3,"throttle":0.5,"brake":0,"steer":-0.1}') == ActuationControl(0.5, 0.0, -0.1)
    tr = ctrl('{"type":"control","step":3,"trajectory":{"x":[0,1],"y":[0,0],"yaw":[0,0],"t":[0,0.5]}}')
    assert isinstance(tr, TrajectoryControl) and list(tr.t) == [0.0, 0.5] and tr.speed is None
    assert ctrl('{"type":"control","step":3,"future_field":[1,2]}') is None  # no command: missing


def test_null_numbers_are_non_finite_controls():
    c = ctrl('{"type":"control","step":3,"accel":null,"steer":0}')
    assert isinstance(c, Control) and math.isnan(c.accel) and c.steer == 0.0
    c = ctrl('{"type":"control","step":3,"throttle":1,"brake":null,"steer":0}')
    assert isinstance(c, ActuationControl) and math.isnan(c.brake)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"type":"control","step":4,"accel":0,"steer":0}', "control for step 4 answers observation step 3"),
        ('{"type":"control","step":3.0,"accel":0,"steer":0}', "control for step 3.0"),
        ('{"type":"control","step":true,"accel":0,"steer":0}', "control for step True"),
        ('{"type":"control","accel":0,"steer":0}', "control for step None"),
        ('{"type":"control","step":3,"accel":"1","steer":0}', "'accel' must be a number, got '1'"),
        ('{"type":"control","step":3,"accel":true,"steer":0}', "'accel' must be a number"),
        ('{"type":"control","step":3,"accel":1}', "'steer' is missing"),
        ('{"type":"control","step":3,"steer":0}', "'accel' is missing"),
        ('{"type":"control","step":3,"throttle":1,"steer":0}', "'brake' is missing"),
        ('{"type":"control","step":3,"accel":0,"brake":1,"steer":0}', "mixes the pedals and acceleration forms"),
        ('{"type":"control","step":3,"accel":0,"steer":0,"trajectory":{}}', "mixes the trajectory and acceleration"),
        ('{"type":"control","step":3,"trajectory":[1]}', "'trajectory' must be an object"),
        ('{"type":"control","step":3,"trajectory":{"x":[0,1],"y":[0,0],"t":[0,1]}}', "needs x, y and yaw"),
        ('{"type":"control","step":3,"trajectory":{"x":[0,1],"y":[0,0],"yaw":[0,0]}}', "times t or speeds"),
        ('{"type":"control","step":3,"trajectory":{"x":[0],"y":[0],"yaw":[0],"t":[0]}}', "at least 2 poses"),
        ('{"type":"control","step":3,"trajectory":{"x":[0,1],"y":[0,0],"yaw":[0,0],"t":[1,0]}}', "strictly"),
        ('{"type":"control","step":3,"trajectory":{"x":[0,null],"y":[0,0],"yaw":[0,0],"t":[0,1]}}', "non-finite"),
        ('{"type":"control","step":3,"trajectory":{"x":[0,"1"],"y":[0,0],"yaw":[0,0],"t":[0,1]}}', "list of num"),
        ('{"type":"hello","step":3}', "expected a 'control' message, got 'hello'"),
    ],
)
def test_bad_controls_are_protocol_errors(text, match):
    with pytest.raises(ProtocolError, match=match.replace("(", r"\(").replace("[", r"\[")):
        ctrl(text)


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (b"not json", "not a JSON line"),
        (b'{"type":"control","step":3,"accel":NaN,"steer":0}', "NaN is not JSON"),
        (b'{"type":"control","step":3,"accel":-Infinity,"steer":0}', "-Infinity is not JSON"),
        (b"[1, 2]", "expected a JSON object with a 'type'"),
        (b'{"type": 5}', "expected a JSON object with a 'type'"),
        (b"\xff\xfe{}", "not a JSON line"),
        (b"[" * 100_000 + b"]" * 100_000, "not a JSON line"),
        (b"", "not a JSON line"),
    ],
)
def test_lines_that_are_not_messages(line, match):
    with pytest.raises(ProtocolError, match=match):
        parse_line(line)


def test_line_endings_and_whitespace_are_accepted():
    assert parse_line(b' {"type":"close"} \r\n') == {"type": "close"}


def test_hello_checks_the_version_and_defaults_the_name():
    assert check_hello({"type": "hello", "protocol": PROTOCOL, "name": "planner"}) == "planner"
    assert check_hello({"type": "hello", "protocol": PROTOCOL}) == "exec"
    assert check_hello({"type": "hello", "protocol": PROTOCOL, "name": 7}) == "exec"
    assert check_hello({"type": "hello", "protocol": PROTOCOL, "name": "n" * 10_000}) == "n" * 100
    with pytest.raises(ProtocolError, match="protocol version mismatch"):
        check_hello({"type": "hello", "protocol": "simcore-agent/2", "name": "x"})
    with pytest.raises(ProtocolError, match="hello' message first"):
        check_hello({"type": "control", "step": 0})


def test_non_finite_numbers_travel_as_null_and_lines_are_strict_json():
    msg = {"type": "t", "a": plain(np.array([1.0, np.nan, np.inf])), "b": plain(float("-inf")), "c": plain(np.int64(3))}
    line = dumps(msg)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"type": "t", "a": [1.0, None, None], "b": None, "c": 3}
    assert plain(np.array([True, False])) == [True, False] and plain(np.float32(0.5)) == 0.5
    with pytest.raises(ValueError):
        dumps({"type": "t", "x": float("nan")})  # never written unconverted


def _documented_fields(heading: str) -> list[str]:
    """Field names in the first column of the table under ``heading`` in docs/agent-protocol.md."""
    text = (ROOT / "docs" / "agent-protocol.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n### ", 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names += re.findall(r"`([a-z0-9_.]+)`", first)
    return names


def _dotted(msg: dict, leaves: set[str], prefix: str = "") -> list[str]:
    """Dotted key paths of ``msg``; descends into objects except the ``leaves`` (object-valued fields)."""
    out = []
    for k, v in msg.items():
        path = prefix + k
        if isinstance(v, dict) and path not in leaves:
            out += _dotted(v, leaves, path + ".")
        else:
            out.append(path)
    return out


def test_reset_and_observation_messages_have_exactly_the_documented_fields():
    """docs/agent-protocol.md is the contract other-language clients are written from: its
    tables must list every field the engine sends, and nothing it does not send."""
    sim = make_sim(SIGNALISED, Idle())
    info = sim.agent_info()
    reset = json.loads(dumps(reset_message(info)))
    documented = _documented_fields("### engine → agent: `reset`")
    assert sorted(_dotted(reset, {"vehicle", "route.lane_changes"})) == sorted(documented)
    assert sorted(reset["vehicle"]) == sorted(f.name for f in dataclasses.fields(EgoInfo))
    assert sorted(reset["route"]["lane_changes"]) == ["offset", "s0", "s1", "side"]
    obs = json.loads(dumps(observation_message(sim.observe(), info.actor_ids)))
    documented = _documented_fields("### engine → agent: `observation`")
    assert sorted(_dotted(obs, {"sensors"})) == sorted(documented)
    assert obs["objects"]["id"] and len({len(v) for v in obs["objects"].values()}) == 1
    assert obs["stop_lines"]["s"] and obs["crosswalks"]["occupied"] == [False] * len(obs["crosswalks"]["s0"])
    hello = json.loads(dumps(hello_message("0.0")))
    assert sorted(hello) == sorted(_documented_fields("### engine → agent: `hello`"))
    sim.close()


_numbers = st.none() | st.integers(-5, 5) | st.floats(-10.0, 10.0)
_json_values = (
    _numbers
    | st.booleans()
    | st.text(max_size=3)
    | st.lists(_numbers, max_size=4)
    | st.dictionaries(st.sampled_from(["x", "y", "yaw", "t", "speed"]), st.lists(_numbers, max_size=4), max_size=5)
)
#: Generation speed depends on the machine's load, not on the code under test.
_relaxed = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
_control_keys = st.sampled_from(["step", "accel", "steer", "throttle", "brake", "trajectory", "x", "t", "speed"])


@_relaxed
@given(st.binary(max_size=64))
def test_any_bytes_decode_to_a_message_or_a_protocol_error(line):
    """A garbage-speaking agent can only ever cause a ProtocolError, never another exception."""
    try:
        msg = parse_line(line)
    except ProtocolError:
        return
    assert isinstance(msg, dict) and isinstance(msg["type"], str)


@_relaxed
@given(st.dictionaries(_control_keys, _json_values | st.just(3), max_size=5))
def test_any_json_control_decodes_to_a_control_or_a_protocol_error(fields):
    msg = {"type": "control", **fields}
    try:
        out = parse_control(json.loads(dumps(msg)), 3)
    except ProtocolError:
        return
    assert out is None or isinstance(out, (Control, ActuationControl, TrajectoryControl))
    assert fields.get("step") == 3
