"""Scenario variants: the concrete parameter sets a sweep x draws expansion produces."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from simcore.scenario.errors import ScenarioError
from simcore.scenario.parameters import resolve_parameters, run_seed, variant_count, variant_issues
from simcore.scenario.yaml_source import load_yaml


@dataclass(frozen=True)
class Variant:
    """One concrete run of a scenario file: reproducible from (file, index, seed)."""

    index: int
    seed: int
    parameters: dict[str, Any]


def expand(path: str | os.PathLike[str], *, draws: int = 1, seed: int | None = None) -> list[Variant]:
    """Every variant of a scenario: all sweep combinations, ``draws`` random draws of each."""
    doc = load_yaml(path)
    data = doc.data
    seed_now = run_seed(data, seed)
    issues = variant_issues(doc, draws)
    if issues:
        raise ScenarioError(issues)
    out = []
    for v in range(variant_count(doc, draws)):
        values, issues = resolve_parameters(doc, seed_now, variant=v)
        if issues:
            raise ScenarioError(issues)
        out.append(Variant(v, seed_now, values))
    return out
