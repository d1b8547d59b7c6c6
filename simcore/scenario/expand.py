"""Scenario variants: the concrete parameter sets a sweep x draws expansion produces."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simcore.scenario.errors import ScenarioError
from simcore.scenario.openscenario import is_openscenario
from simcore.scenario.parameters import resolve_parameters, variant_count
from simcore.scenario.yaml_source import load_yaml

#: Refuse expansions larger than this (a typo in a sweep should not hang the CLI).
MAX_VARIANTS = 1_000_000


@dataclass(frozen=True)
class Variant:
    """One concrete run of a scenario file: reproducible from (file, index, seed)."""

    index: int
    seed: int
    parameters: dict[str, Any]


def expand(path: str | os.PathLike[str], *, draws: int = 1, seed: int | None = None) -> list[Variant]:
    """Every variant of a scenario: all sweep combinations, ``draws`` random draws of each."""
    if is_openscenario(path):  # a ParameterValueDistribution: its own combinations or runs
        from simcore.scenario.openscenario.load import distribution_variants

        return [Variant(v, seed or 0, p) for v, p in enumerate(distribution_variants(Path(path), seed or 0))]
    doc = load_yaml(path)
    data = doc.data
    file_seed = data.get("seed", 0) if isinstance(data, dict) else 0
    run_seed = seed if seed is not None else (file_seed if isinstance(file_seed, int) else 0)
    n = variant_count(doc, draws)
    if n > MAX_VARIANTS:
        raise ScenarioError([doc.issue(("parameters",), f"expands to {n} variants, more than {MAX_VARIANTS}")])
    out = []
    for v in range(n):
        values, issues = resolve_parameters(doc, run_seed, variant=v)
        if issues:
            raise ScenarioError(issues)
        out.append(Variant(v, run_seed, values))
    return out
