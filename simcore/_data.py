"""Where the built-in catalogs (scenarios/, vehicles/) are: inside the wheel or the source tree."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def catalog_dir(name: str) -> Path:
    """Directory of the built-in catalog ``name`` ("scenarios" or "vehicles").

    A wheel carries copies under ``simcore/data/``; an editable install reads the
    repository's top-level folders.
    """
    for candidate in (_PKG / "data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"built-in catalog {name!r} not found (looked in simcore/data and the source tree)")


def resolve_scenario(spec: str) -> Path:
    """A scenario path as given, or a built-in scenario by relative path or bare name."""
    p = Path(spec)
    if p.exists():
        return p
    base = catalog_dir("scenarios")
    rel = Path(*p.parts[1:]) if p.parts and p.parts[0] == "scenarios" else p
    if not rel.name:
        return base
    for cand in (base / rel, base / rel.with_suffix(".yaml")):
        if cand.exists():
            return cand
    matches = sorted(base.rglob(f"{p.stem}.yaml"))
    if len(matches) == 1:
        return matches[0]
    return p
