"""Load a scenario file: YAML with locations -> parameters -> validated ScenarioSpec."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simcore.scenario.errors import ScenarioError
from simcore.scenario.parameters import resolve_parameters, substitute
from simcore.scenario.schema import ScenarioSpec
from simcore.scenario.yaml_source import YamlDoc, format_path, issues_from_validation_error, load_yaml

FORMAT_VERSION = 1


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with the concrete parameter values of this run.

    Attributes:
        spec: validated model (after ``$name`` substitution).
        doc: the YAML document, for locating errors found later (unknown lane names...).
        path: the file it came from.
        parameters: concrete parameter values.
        seed: seed of this run (file seed unless overridden).
        variant: which combination of sweep values and random draws (see ``parameters``).
    """

    spec: ScenarioSpec
    doc: YamlDoc
    path: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    variant: int = 0


def load_scenario(
    path: str | os.PathLike[str],
    *,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
    variant: int = 0,
) -> LoadedScenario:
    """Read and validate a scenario; raises ``ScenarioError`` listing every located problem."""
    doc = load_yaml(path)
    data = doc.data
    version = data.get("simcore")
    if version != FORMAT_VERSION:
        raise ScenarioError([doc.issue(("simcore",), f"expected format version {FORMAT_VERSION}, got {version!r}")])
    file_seed = data.get("seed", 0)
    run_seed = seed if seed is not None else (file_seed if isinstance(file_seed, int) else 0)
    values, issues = resolve_parameters(doc, run_seed, overrides, variant)
    concrete, more, unresolved = substitute(doc, values)
    issues += more
    try:
        spec = ScenarioSpec.model_validate(concrete)
    except ValidationError as exc:
        skip = {format_path(p) for p in unresolved}
        issues += [i for i in issues_from_validation_error(exc, doc, ScenarioSpec) if i.path not in skip]
        spec = None
    if spec is not None:
        issues += spec.located_issues(doc)
    if issues:
        raise ScenarioError(issues)
    assert spec is not None
    return LoadedScenario(spec=spec, doc=doc, path=Path(path), parameters=values, seed=run_seed, variant=variant)
