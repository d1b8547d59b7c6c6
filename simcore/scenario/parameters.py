"""Scenario parameters: constants, sweeps and distributions, and ``$name`` substitution."""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore import limits
from simcore.rng import generator, seed_problem
from simcore.scenario.errors import Issue, did_you_mean
from simcore.scenario.yaml_source import YamlDoc

KINDS = ("sweep", "uniform", "normal", "choice")


class UnknownParameterError(ValueError):
    """``--set`` named a parameter the scenario does not declare."""


class _Invalid:
    """Value of a parameter whose definition was refused (its uses are not errors again)."""


INVALID = _Invalid()


def _check_spec(name: str, spec: Any, doc: YamlDoc) -> list[Issue]:
    path = ("parameters", name)
    if not isinstance(spec, dict):
        if isinstance(spec, (int, float, str, bool)) or spec is None:
            return []
        return [doc.issue(path, "expected a constant or one of " + ", ".join(KINDS))]
    if len(spec) != 1 or next(iter(spec)) not in KINDS:
        keys = ", ".join(map(str, spec))
        return [doc.issue(path, f"expected exactly one of {', '.join(KINDS)}, got {keys or 'nothing'}")]
    kind, arg = next(iter(spec.items()))
    p = (*path, kind)
    if kind in ("sweep", "choice"):
        if not isinstance(arg, list) or not arg:
            return [doc.issue(p, "expected a non-empty list of values")]
    elif kind == "uniform":
        if not (isinstance(arg, list) and len(arg) == 2 and all(_is_num(v) for v in arg) and arg[0] <= arg[1]):
            return [doc.issue(p, f"expected [low, high] numbers with low <= high, got {arg!r}")]
        if not np.isfinite(float(arg[1]) - float(arg[0])):
            return [doc.issue(p, f"range [{arg[0]:g}, {arg[1]:g}] is too wide (high - low overflows)")]
    elif kind == "normal":
        allowed = {"mean", "std", "min", "max"}
        if not isinstance(arg, dict) or not {"mean", "std"} <= set(arg) or not set(arg) <= allowed:
            return [doc.issue(p, "expected {mean, std} with optional min, max")]
        if not all(_is_num(v) for v in arg.values()) or arg["std"] < 0:
            return [doc.issue(p, "expected finite numbers, std >= 0")]
    return []


def _is_num(v: Any) -> bool:
    """A finite int or float (not a bool); huge ints that overflow a float are refused too."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return bool(np.isfinite(float(v)))
    except OverflowError:
        return False


def run_seed(data: Any, seed: int | None) -> int:
    """The seed a run uses: ``seed`` (``--seed``; ValueError when invalid) or the file's own
    (0 when the file's is invalid: the schema reports that, located)."""
    if seed is not None:
        problem = seed_problem(seed)
        if problem:
            raise ValueError(f"--seed: {problem}")
        return seed
    file_seed = data.get("seed", 0) if isinstance(data, dict) else 0
    return 0 if seed_problem(file_seed) else int(file_seed)


def variant_issues(doc: YamlDoc, draws: int = 1) -> list[Issue]:
    """A located issue when the file's sweeps x ``draws`` exceed ``limits.max_variants``."""
    n, most = variant_count(doc, draws), limits.current().max_variants
    if n > most:
        return [doc.issue(("parameters",), f"expands to {n} variants, more than the limit of {most} (limits.md)")]
    return []


def sweep_sizes(doc: YamlDoc) -> list[tuple[str, int]]:
    """(name, number of values) of every well-formed ``sweep`` parameter, in file order."""
    raw = doc.data.get("parameters", {}) if isinstance(doc.data, dict) else {}
    if not isinstance(raw, dict):
        return []
    return [
        (name, len(spec["sweep"]))
        for name, spec in raw.items()
        if isinstance(spec, dict) and isinstance(spec.get("sweep"), list) and spec["sweep"]
    ]


def variant_count(doc: YamlDoc, draws: int = 1) -> int:
    """Number of variants: the product of all sweep sizes, times ``draws`` random draws each."""
    n = 1
    for _, size in sweep_sizes(doc):
        n *= size
    return n * max(draws, 1)


def resolve_parameters(
    doc: YamlDoc, seed: int, overrides: dict[str, Any] | None = None, variant: int = 0
) -> tuple[dict[str, Any], list[Issue]]:
    """Concrete parameter values of one variant.

    Variant v picks sweep values by the mixed-radix digits of v (the first sweep varies
    fastest; v beyond the product of the sweep sizes starts another round of random
    draws), and draws every distribution from the stream (seed, v, "parameters") in the
    order the parameters are written. So a variant is reproducible from (file, variant,
    seed) alone, in any process. ``overrides`` (from ``--set``) replace any parameter;
    naming an unknown one raises ``UnknownParameterError``.
    """
    raw = doc.data.get("parameters", {}) if isinstance(doc.data, dict) else {}
    issues: list[Issue] = []
    if not isinstance(raw, dict):
        return {}, [doc.issue(("parameters",), "expected a mapping of name: value or distribution")]
    rng = generator(seed, variant, "parameters")
    digits: dict[str, int] = {}
    rest = variant
    for name, size in sweep_sizes(doc):
        digits[name] = rest % size
        rest //= size
    values: dict[str, Any] = {}
    for name, spec in raw.items():
        found = _check_spec(name, spec, doc)
        if found:
            issues += found
            values[name] = INVALID
            continue
        if not isinstance(spec, dict):
            values[name] = spec
            continue
        kind, arg = next(iter(spec.items()))
        if kind == "sweep":
            values[name] = arg[digits[name]]
        elif kind == "choice":
            values[name] = arg[int(rng.integers(len(arg)))]
        elif kind == "uniform":
            values[name] = float(rng.uniform(arg[0], arg[1]))
        else:
            v = float(rng.normal(arg["mean"], arg["std"]))
            values[name] = float(np.clip(v, arg.get("min", -np.inf), arg.get("max", np.inf)))
    for name, value in (overrides or {}).items():
        if name not in raw:
            known = ", ".join(raw) or "none"
            raise UnknownParameterError(
                f"--set names unknown parameter {name!r}{did_you_mean(name, raw)}; {doc.file} declares: {known}"
            )
        values[name] = value
    return values, issues


def substitute(doc: YamlDoc, values: dict[str, Any]) -> tuple[Any, list[Issue], set[tuple]]:
    """Replace every string value ``"$name"`` outside ``parameters`` by its parameter value.

    Returns the new data, issues for unknown names, and the paths left unresolved (so that
    schema errors there, which would only repeat the problem, can be dropped).
    """
    issues: list[Issue] = []
    unresolved: set[tuple] = set()

    def walk(node: Any, path: tuple) -> Any:
        if isinstance(node, dict):
            return {k: (v if path == () and k == "parameters" else walk(v, (*path, k))) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        if isinstance(node, str) and node.startswith("$") and len(node) > 1:
            name = node[1:]
            if name not in values:
                issues.append(doc.issue(path, f"unknown parameter ${name}{did_you_mean(name, values)}"))
                unresolved.add(path)
                return node
            if values[name] is INVALID:
                unresolved.add(path)
                return node
            return values[name]
        return node

    return walk(doc.data, ()), issues, unresolved
