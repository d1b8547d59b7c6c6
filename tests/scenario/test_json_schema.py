"""The shipped JSON Schema is current, and it agrees with the validator on real files."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from simcore._data import catalog_dir
from simcore.cli import main
from simcore.scenario.json_schema import scenario_json_schema, shipped_schema_text

ROOT = Path(__file__).parents[2]
GOOD = [*sorted(catalog_dir("scenarios").rglob("*.yaml")), *sorted((ROOT / "tests" / "data").glob("*.yaml"))]
#: Bad files whose defect is visible to a schema (the rest need the map or the vehicle catalog).
SCHEMA_BAD = ["unknown_top_level_key", "unknown_nested_key", "bad_literal", "wrong_type", "missing_start",
              "negative_headway", "format_version"]


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(scenario_json_schema())


def test_shipped_schema_is_regenerated():
    assert json.loads(shipped_schema_text()) == scenario_json_schema(), "run: python tools/export_schema.py"


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(scenario_json_schema())


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_every_catalog_and_fixture_scenario_validates(path):
    errors = list(_validator().iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("name", SCHEMA_BAD)
def test_schema_rejects_what_the_validator_rejects(name):
    path = ROOT / "tests" / "scenarios_bad" / f"{name}.yaml"
    assert list(_validator().iter_errors(yaml.safe_load(path.read_text())))


def test_schema_cli_prints_the_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == scenario_json_schema()
