"""JSON Schema of the scenario format, generated from the same pydantic models as the validator."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from simcore.scenario.schema import ScenarioSpec

#: A ``$name`` parameter reference may stand wherever a number or boolean is expected.
PARAMETER_REF: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\$[A-Za-z_][A-Za-z0-9_]*$",
    "description": "reference to a scenario parameter",
}
_META = ("title", "description", "default")
SHIPPED = "scenario.schema.json"


def _allow_refs(node: Any, inside_parameters: bool = False) -> Any:
    if isinstance(node, list):
        return [_allow_refs(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {
                name: (sub if name == "parameters" and not inside_parameters else _allow_refs(sub))
                for name, sub in value.items()
            }
        else:
            out[key] = _allow_refs(value)
    if out.get("type") in ("number", "integer", "boolean"):
        meta = {k: out.pop(k) for k in _META if k in out}
        return {"anyOf": [out, PARAMETER_REF], **meta}
    return out


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files, format version 1."""
    schema = _allow_refs(ScenarioSpec.model_json_schema())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "simcore scenario, format version 1",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def shipped_schema_text() -> str:
    """The schema file that ships inside the package (written by tools/export_schema.py)."""
    return resources.files("simcore.schema").joinpath(SHIPPED).read_text(encoding="utf-8")


def schema_text() -> str:
    """The schema as formatted JSON (what ``simcore schema`` prints)."""
    return json.dumps(scenario_json_schema(), indent=2, sort_keys=True) + "\n"
