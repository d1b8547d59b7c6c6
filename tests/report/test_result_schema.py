"""result.json against its JSON Schema (simcore/schema/result.schema.json)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from simcore.cli import main
from simcore.report.result_schema import METRICS, SHIPPED, result_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "simcore" / "schema" / SHIPPED
TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A passing run, a crashed agent, a collision run (with null TTC/gap where they apply)."""
    out = []
    runs = [
        ("urban/signalized_intersection",),
        ("urban/signalized_intersection", "--agent", f"{TESTS / 'agents_for_tests.py'}:Crasher"),
        (str(TESTS / "data" / "rear_end.yaml"), "--agent", f"{TESTS / 'report' / 'report_agents.py'}:Rammer"),
        (str(TESTS / "data" / "sweep.yaml"), "--variant", "4"),
    ]
    for k, args in enumerate(runs):
        d = tmp_path_factory.mktemp(f"r{k}")
        main(["run", args[0], "--quiet", "--out", str(d), *args[1:]])
        out.append(json.loads((d / "result.json").read_text()))
    return out


def test_shipped_schema_is_regenerated() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == result_schema(), (
        "run: python tools/export_result_schema.py"
    )


def test_results_validate(validator: jsonschema.Draft202012Validator, results: list[dict[str, Any]]) -> None:
    kinds = set()
    for r in results:
        validator.validate(r)
        assert set(r["metrics"]) >= set(METRICS)
        kinds |= {e["kind"] for e in r["events"]}
    assert {"goal_reached", "agent_failure", "collision"} <= kinds


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("seed",), "7"),
        (("score", "value"), 101.0),
        (("criteria", 0, "passed"), "yes"),
        (("events", 0, "kind"), "Collision!"),
        (("metrics", "min_ttc_s"), "fast"),
        (("simcore_result",), 2),
        (("parameters",), [1, 2]),
    ],
)
def test_schema_refuses_broken_results(
    validator: jsonschema.Draft202012Validator, results: list[dict[str, Any]], path: tuple, value: Any
) -> None:
    bad = copy.deepcopy(results[0])
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)


@pytest.mark.parametrize("key", ["scenario", "seed", "criteria", "events", "metrics", "scores", "termination"])
def test_schema_requires_core_keys(
    validator: jsonschema.Draft202012Validator, results: list[dict[str, Any]], key: str
) -> None:
    bad = copy.deepcopy(results[0])
    del bad[key]
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)
