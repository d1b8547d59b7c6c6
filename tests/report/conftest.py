"""Shared by the run-log tests: a JSON-schema check of MCAP messages against their own schema record."""

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
