"""JSON Schema of result.json (draft 2020-12); shipped as simcore/schema/result.schema.json.

Regenerate the shipped file with ``python tools/export_result_schema.py`` after changing
this module; a test checks that both agree. Objects allow extra keys so that a newer
simcore may add fields without breaking readers; ``simcore_result`` changes when a
field's meaning changes.
"""

from __future__ import annotations

import json
from typing import Any

from simcore.evaluation.events import EventKind
from simcore.evaluation.metrics import METRICS as REGISTRY

SHIPPED = "result.schema.json"

_NUM_OR_NULL = {"type": ["number", "null"]}

#: Metric name -> description (unit in brackets), from the metric registry (``evaluation.metrics``).
METRICS: dict[str, str] = {m.name: f"{m.meaning} [{m.unit}]" for m in REGISTRY}


def result_schema() -> dict[str, Any]:
    """The schema as a dict."""
    kinds = ", ".join(k.name.lower() for k in EventKind)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://simcore.invalid/schema/result.schema.json",
        "title": "simcore result.json",
        "description": "Result of one simcore run (docs/result-format.md). SI units; times in s.",
        "type": "object",
        "required": [
            "simcore_result",
            "scenario",
            "scenario_file",
            "seed",
            "variant",
            "parameters",
            "agent",
            "dt_s",
            "steps",
            "sim_time_s",
            "termination",
            "score",
            "scores",
            "passed",
            "criteria",
            "events",
            "metrics",
        ],
        "properties": {
            "simcore_result": {"const": 1, "description": "format version"},
            "scenario": {"type": "string", "description": "the scenario's name"},
            "scenario_file": {"type": "string", "description": "path of the scenario file that ran"},
            "seed": {"type": "integer", "description": "seed every random draw derives from"},
            "variant": {"type": "integer", "minimum": 0, "description": "variant index (simcore expand)"},
            "parameters": {
                "type": "object",
                "description": "concrete parameter values of this variant",
                "additionalProperties": {"type": ["number", "string", "boolean", "null"]},
            },
            "agent": {"type": "string", "description": "the agent's name"},
            "dt_s": {"type": "number", "exclusiveMinimum": 0, "description": "step (s)"},
            "steps": {"type": "integer", "minimum": 0},
            "sim_time_s": {"type": "number", "minimum": 0, "description": "simulated time at the end (s)"},
            "termination": {
                "type": "string",
                "description": "why the run ended: goal_reached, ego_collision, timeout, all_done, "
                "agent_failure, or a storyboard end reason",
            },
            "score": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {"name": {"type": "string"}, "value": {"type": "number", "minimum": 0, "maximum": 100}},
                "description": "simcore's own score, 0..100",
            },
            "scores": {
                "type": "object",
                "description": "every published score by versioned name (docs/scoring.md)",
                "additionalProperties": _NUM_OR_NULL,
            },
            "passed": {"type": "boolean", "description": "every criterion passed (true without criteria)"},
            "criteria": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "passed", "value", "threshold"],
                    "properties": {
                        "name": {"type": "string"},
                        "passed": {"type": "boolean"},
                        "value": _NUM_OR_NULL,
                        "threshold": _NUM_OR_NULL,
                    },
                },
            },
            "events": {
                "type": "array",
                "description": "events in time order of detection",
                "items": {
                    "type": "object",
                    "required": ["time_s", "kind", "actors", "value"],
                    "properties": {
                        "time_s": {"type": "number", "minimum": 0},
                        "kind": {"type": "string", "pattern": "^[a-z_]+$", "description": f"one of {kinds}"},
                        "actors": {"type": "array", "items": {"type": "string"}},
                        "value": {**_NUM_OR_NULL, "description": "kind-specific (docs/result-format.md)"},
                        "detail": {"type": "string"},
                        "at_fault": {
                            "type": ["array", "null"],
                            "items": {"type": "string"},
                            "description": "collisions: actors held at fault (docs/scoring.md); null: not assessed",
                        },
                    },
                },
            },
            "metrics": {
                "type": "object",
                "required": sorted(METRICS),
                "properties": {k: {**_NUM_OR_NULL, "description": d} for k, d in METRICS.items()},
                "additionalProperties": _NUM_OR_NULL,
            },
            "regulation": {
                "type": "object",
                "description": "regulation-style verdicts the scenario declared, by name (docs/scoring.md)",
                "additionalProperties": {"type": "object"},
            },
            "state_hash": {
                "type": "string",
                "pattern": "^[0-9a-f]{16}$",
                "description": "64-bit hash of every step's engine state (docs/ci.md); equal: bit-identical runs",
            },
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the scenario's tags (labels for grouping results); absent if it declares none",
            },
            "wall_time_s": {**_NUM_OR_NULL, "description": "wall-clock seconds of the run (differs run to run)"},
            "real_time_factor": {**_NUM_OR_NULL, "description": "simulated / wall seconds (differs run to run)"},
        },
        "additionalProperties": True,
    }


def schema_text() -> str:
    """The schema as the shipped file's text."""
    return json.dumps(result_schema(), indent=2, ensure_ascii=False) + "\n"
