"""Shared by the run-log tests: a JSON-schema check of MCAP messages against their own schema record, and an
independent decoder of the CDR ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def schema_check() -> Callable[[Any, bytes], None]:
    """``check(schema, data)``: ``data`` (a JSON message) is valid against ``schema`` (an MCAP schema record
    holding a JSON schema, itself checked once); validators are cached per schema id."""
    jsonschema = pytest.importorskip("jsonschema")
    validators: dict[int, Any] = {}

    def check(schema: Any, data: bytes) -> None:
        if schema.id not in validators:
            doc = json.loads(schema.data)
            jsonschema.Draft202012Validator.check_schema(doc)
            validators[schema.id] = jsonschema.Draft202012Validator(doc)
        validators[schema.id].validate(json.loads(data))

    return check


@pytest.fixture
def ros2_decode() -> Callable[[Any, bytes], Any]:
    """``decode(schema, data)``: a CDR message decoded by mcap_ros2 (the mcap authors' ROS 2 decoder, not our
    code) against its ``ros2msg`` schema record; decoders are cached per schema id (one log per test)."""
    ros2 = pytest.importorskip("mcap_ros2.decoder", reason="mcap-ros2-support (test extra) decodes CDR")
    factory = ros2.DecoderFactory()

    def decode(schema: Any, data: bytes) -> Any:
        assert schema.encoding == "ros2msg"
        return factory.decoder_for("cdr", schema)(data)

    return decode
