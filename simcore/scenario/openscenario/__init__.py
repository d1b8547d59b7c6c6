"""ASAM OpenSCENARIO 1.0-1.3 (XML) files: read safely, translate into our scenario format.

``load_openscenario_doc`` gives the same :class:`~simcore.scenario.yaml_source.YamlDoc` the YAML
loader gives (its marks point into the .xosc file), so ``load_scenario``, ``simcore run``,
``validate``, ``batch`` and ``convert`` share one path. Coverage: docs/openscenario-coverage.md.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simcore.scenario.errors import ScenarioError

if TYPE_CHECKING:
    from simcore.scenario.yaml_source import YamlDoc

SUFFIXES = (".xosc",)


@dataclass(frozen=True)
class XoscOptions:
    """How a .xosc is translated: which entity the agent drives, whether a partial translation may run."""

    ego: str | None = None
    allow_partial: bool = False


_DEFAULT = XoscOptions()
_OPTIONS: contextvars.ContextVar[XoscOptions | None] = contextvars.ContextVar("xosc_options", default=None)


@contextlib.contextmanager
def xosc_options(ego: str | None = None, allow_partial: bool = False) -> Iterator[None]:
    """Within this block, .xosc files are translated with these options (``simcore run --ego/--allow-partial``)."""
    token = _OPTIONS.set(XoscOptions(ego, allow_partial))
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def is_openscenario(path: str | os.PathLike[str]) -> bool:
    """True for files read as OpenSCENARIO (by suffix)."""
    return str(path).lower().endswith(SUFFIXES)


def load_openscenario_doc(
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    variant: int = 0,
    overrides: dict[str, Any] | None = None,
    options: XoscOptions | None = None,
) -> tuple[YamlDoc, list]:
    """Translate ``path`` (a scenario or a ParameterValueDistribution) into scenario data.

    Returns the document and the list of elements not honoured (``Issue``s). Unless
    ``options.allow_partial``, a non-empty list is raised as a ``ScenarioError``.
    """
    from simcore.scenario.openscenario.load import translate_file

    opts = options or _OPTIONS.get() or _DEFAULT
    doc, ignored = translate_file(Path(path), seed=seed, variant=variant, overrides=overrides, ego=opts.ego)
    if ignored and not opts.allow_partial:
        raise ScenarioError(
            [
                *ignored,
                ignored[0].__class__(
                    doc.file,
                    1,
                    1,
                    "",
                    f"{len(ignored)} element(s) above are not supported; --allow-partial runs "
                    "the file anyway without them",
                ),
            ]
        )
    return doc, ignored


def xosc_ignored(
    path: str | os.PathLike[str], ego: str | None, allow_partial: bool, seed: int | None = None, variant: int = 0
) -> list:
    """Elements a partial run of ``path`` leaves out (empty for YAML files and strict runs)."""
    if not is_openscenario(path) or not allow_partial:
        return []
    _, ignored = load_openscenario_doc(path, seed=seed or 0, variant=variant, options=XoscOptions(ego, True))
    return ignored


def xosc_schema_issues(path: str | os.PathLike[str]) -> list:
    """ASAM XSD problems of a .xosc (empty for other files, or without the XSDs; see ``load.check_schema``)."""
    if not is_openscenario(path):
        return []
    from simcore.scenario.openscenario.load import check_schema

    return check_schema(Path(path))
