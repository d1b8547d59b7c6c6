"""Parameters (``$name``, ``${expr}``) and catalog references of an OpenSCENARIO tree.

``substitute`` rewrites every attribute in place with the value of the parameters in scope
(declarations of the file, of a Story, of a catalog entry; ``overrides`` from ``--set`` or a
distribution replace the file's top-level values). ``resolve_catalogs`` replaces every
``CatalogReference`` by a copy of the entry it names, with the entry's parameters set from the
reference's ``ParameterAssignments``. Both raise located errors.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from simcore.scenario.errors import ScenarioError, did_you_mean
from simcore.scenario.openscenario.expr import ExpressionError, evaluate
from simcore.scenario.openscenario.xml import XNode, parse_xml

#: catalog element in CatalogLocations -> the entry element it holds
CATALOG_KINDS = {
    "VehicleCatalog": "Vehicle",
    "PedestrianCatalog": "Pedestrian",
    "MiscObjectCatalog": "MiscObject",
    "ControllerCatalog": "Controller",
    "ManeuverCatalog": "Maneuver",
    "RouteCatalog": "Route",
    "TrajectoryCatalog": "Trajectory",
    "EnvironmentCatalog": "Environment",
}
MAX_CATALOG_DEPTH = 8


def _fmt(v: float) -> str:
    return str(int(v)) if v == math.floor(v) and abs(v) < 1e15 else repr(v)


def _value(node: XNode, raw: str, scope: dict[str, str]) -> str:
    """An attribute value with parameters substituted (strings stay strings)."""
    if not raw.startswith("$"):
        return raw

    def lookup(name: str) -> str:
        if name not in scope:
            raise ExpressionError(f"unknown parameter ${name}{did_you_mean(name, scope)}")
        return scope[name]

    try:
        if raw.startswith("${") and raw.endswith("}"):
            return _fmt(evaluate(raw[2:-1], lookup))
        return lookup(raw[1:])
    except ExpressionError as exc:
        raise node.error(f"{raw!r}: {exc}") from None


def _attr(node: XNode, key: str, raw: str, scope: dict[str, str]) -> str:
    """An attribute's value. ``parameterRef`` names a parameter (esmini accepts a leading ``$``); a
    ``name`` that is not a valid expression stays as written (esmini builds names by concatenation)."""
    if key in ("parameterRef", "parameterName"):
        return raw[1:] if raw.startswith("$") and not raw.startswith("${") else raw
    if key == "name":
        try:
            return _value(node, raw, scope)
        except ScenarioError:
            return raw
    return _value(node, raw, scope)


def declare(decls: XNode | None, scope: dict[str, str], overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """A new scope: ``scope`` plus the declarations (each may use the ones before it)."""
    out = dict(scope)
    if decls is None:
        return out
    for d in decls.kids("ParameterDeclaration"):
        name = d.attrs.get("name")
        if not name:
            raise d.error("ParameterDeclaration needs a name")
        if overrides and name in overrides:
            v = overrides[name]
            out[name] = (
                ("true" if v else "false") if isinstance(v, bool) else (_fmt(v) if isinstance(v, float) else str(v))
            )
        else:
            out[name] = _value(d, d.attrs.get("value", ""), out)
        d.attrs["value"] = out[name]
    return out


def substitute(node: XNode, scope: dict[str, str], overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """Substitute parameters in ``node``'s subtree in place; returns the scope declared at ``node``."""
    here = declare(node.kid("ParameterDeclarations"), scope, overrides)
    for k, v in list(node.attrs.items()):
        node.attrs[k] = _attr(node, k, v, here)
    for c in node.children:
        if c.tag == "ParameterDeclarations":
            continue
        if c.tag == "CatalogReference":  # its assignments are values in this scope, the entry has its own
            c.attrs = {k: _attr(c, k, v, here) for k, v in c.attrs.items()}
            c.scope = here  # the entry falls back to these (esmini's behaviour)
            for a in c.walk():
                if a.tag == "ParameterAssignment":
                    a.attrs = {k: _attr(a, k, v, here) for k, v in a.attrs.items()}
            continue
        substitute(c, here)
    return here


@lru_cache(maxsize=64)
def _catalog_file(path: str, mtime: float) -> XNode:
    """A parsed catalog file (cached per file and modification time; entries are cloned before use)."""
    return parse_xml(path)


class Catalogs:
    """Catalog entries found through a file's ``CatalogLocations`` (loaded on first use)."""

    def __init__(self, root: XNode, base: Path, inside: Any) -> None:
        self.dirs: dict[str, list[tuple[XNode, Path]]] = {}
        self.base = base
        self.inside = inside
        self.loaded: dict[Path, XNode] = {}
        loc = root.kid("CatalogLocations")
        for cat in loc.children if loc is not None else []:
            for d in cat.kids("Directory"):
                self.dirs.setdefault(cat.tag, []).append((d, base / d.attrs.get("path", ".")))

    def _files(self, kind: str) -> list[tuple[XNode, Path]]:
        out = []
        for node, folder in self.dirs.get(kind, []):
            target = self.inside(node, folder)
            if target.is_file():
                out.append((node, target))
            elif target.is_dir():
                out += [(node, f) for f in sorted(target.glob("*.xosc"))]
        return out

    def entry(self, ref: XNode) -> XNode:
        """A copy of the entry ``ref`` names (parameters not yet substituted)."""
        cat, name = ref.attrs.get("catalogName", ""), ref.attrs.get("entryName", "")
        seen: list[str] = []
        for kind in CATALOG_KINDS:
            for _, f in self._files(kind):
                if f not in self.loaded:
                    self.loaded[f] = _catalog_file(str(f), f.stat().st_mtime)
                c = self.loaded[f].kid("Catalog")
                if c is None or c.attrs.get("name") != cat:
                    continue
                for e in c.children:
                    if e.attrs.get("name") == name:
                        return e.clone()
                    seen.append(e.attrs.get("name", ""))
        if not seen:
            raise ref.error(f"no catalog named {cat!r} in the CatalogLocations directories")
        raise ref.error(f"catalog {cat!r} has no entry {name!r}{did_you_mean(name, seen)}")


def resolve_catalogs(node: XNode, catalogs: Catalogs, depth: int = 0) -> None:
    """Replace every CatalogReference below ``node`` by its entry (parameters assigned)."""
    for i, c in enumerate(node.children):
        if c.tag != "CatalogReference":
            resolve_catalogs(c, catalogs, depth)
            continue
        if depth >= MAX_CATALOG_DEPTH:
            raise c.error(f"catalog references nest deeper than {MAX_CATALOG_DEPTH}")
        entry = catalogs.entry(c)
        given = {
            a.attrs.get("parameterRef", ""): a.attrs.get("value", "")
            for a in c.walk()
            if a.tag == "ParameterAssignment"
        }
        declared = {d.attrs.get("name") for d in entry.walk() if d.tag == "ParameterDeclaration"}
        for a in c.walk():
            if a.tag == "ParameterAssignment" and a.attrs.get("parameterRef") not in declared:
                ref = a.attrs.get("parameterRef", "")
                raise a.error(
                    f"entry {c.attrs.get('entryName')!r} declares no parameter {ref!r}{did_you_mean(ref, declared)}"
                )
        substitute(entry, c.scope, given)
        entry.parent = node
        node.children[i] = entry
        resolve_catalogs(entry, catalogs, depth + 1)
