"""Load a scenario file: YAML with locations -> parameters -> validated ScenarioSpec."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simcore.scenario.errors import ScenarioError
from simcore.scenario.openscenario import is_openscenario, load_openscenario_doc
from simcore.scenario.parameters import resolve_parameters, run_seed, substitute, variant_issues
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
        root: folder that files the scenario refers to must lie in (default: the scenario's folder).
        allow_paths: further folders referenced files may lie in (``simcore run --allow-path DIR``).
    """

    spec: ScenarioSpec
    doc: YamlDoc
    path: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    variant: int = 0
    root: Path | None = None
    allow_paths: tuple[Path, ...] = ()

    def resolve(self, key_path: tuple, name: str) -> Path:
        """A file the scenario names at ``key_path`` (a map, a log, a rig), as an absolute path.

        Relative names resolve against the scenario file's folder. The resolved path (symlinks
        followed) must lie inside ``root`` or one of ``allow_paths``; otherwise a located
        ``ScenarioError`` says so and how to allow it. The file need not exist yet.
        """
        return resolve_reference(self.path, name, self.root, self.allow_paths, self.doc, key_path)


def _file_kind(path: Path) -> str:
    """What a non-regular file is, in words."""
    mode = path.stat().st_mode
    for test, word in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "a device or other special file"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def resolve_reference(
    scenario: Path,
    name: str,
    root: Path | None,
    allow_paths: tuple[Path, ...],
    doc: YamlDoc,
    key_path: tuple,
) -> Path:
    """Resolve ``name`` (relative to ``scenario``'s folder) and check it stays in ``root`` or ``allow_paths``."""
    base = Path(scenario).resolve().parent
    target = (base / Path(name).expanduser()).resolve()
    folders = [Path(root).resolve() if root is not None else base, *(Path(p).resolve() for p in allow_paths)]
    if any(_inside(target, f) for f in folders):
        if target.exists() and not target.is_file():  # a FIFO or device would block a reader forever
            raise ScenarioError([doc.issue(key_path, f"{name!r} is not a regular file ({_file_kind(target)})")])
        return target
    where = ", ".join(str(f) for f in folders)
    raise ScenarioError(
        [
            doc.issue(
                key_path,
                f"{name!r} resolves to {target}, outside the scenario's folder ({where}); "
                "allow its folder with --allow-path DIR (load_scenario(..., allow_paths=[DIR]))",
            )
        ]
    )


def load_scenario(
    path: str | os.PathLike[str],
    *,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
    variant: int = 0,
    root: str | os.PathLike[str] | None = None,
    allow_paths: tuple[str | os.PathLike[str], ...] | list[str | os.PathLike[str]] = (),
) -> LoadedScenario:
    """Read and validate a scenario; raises ``ScenarioError`` listing every located problem.

    ``root`` (default: the scenario file's folder) and ``allow_paths`` bound where files the
    scenario refers to (maps, logs) may lie; see :meth:`LoadedScenario.resolve`.
    """
    if is_openscenario(path):  # translated into the same data (docs/openscenario-coverage.md)
        from simcore.scenario.openscenario.load import root_folder as xosc_root

        doc, _ = load_openscenario_doc(path, seed=seed or 0, variant=variant, overrides=overrides)
        overrides, root = None, root if root is not None else xosc_root(Path(path))
    else:
        doc = load_yaml(path)
    data = doc.data
    version = data.get("simcore")
    if version != FORMAT_VERSION:
        raise ScenarioError([doc.issue(("simcore",), f"expected format version {FORMAT_VERSION}, got {version!r}")])
    seed_now = run_seed(data, seed)
    issues = variant_issues(doc)
    if issues:
        raise ScenarioError(issues)
    values, issues = resolve_parameters(doc, seed_now, overrides, variant)
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
    return LoadedScenario(
        spec=spec,
        doc=doc,
        path=Path(path),
        parameters=values,
        seed=seed_now,
        variant=variant,
        root=Path(root) if root is not None else None,
        allow_paths=tuple(Path(p) for p in allow_paths),
    )
