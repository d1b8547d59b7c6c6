"""``simcore convert FILE.xosc -o FILE.yaml``: write the translation as a readable scenario file."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from simcore.scenario.errors import ScenarioError
from simcore.scenario.openscenario import XoscOptions, load_openscenario_doc


def convert(
    source: Path, out: Path, *, ego: str | None = None, allow_partial: bool = False, variant: int = 0, seed: int = 0
) -> list:
    """Translate ``source`` and write it to ``out`` (the map path made relative to ``out``'s folder).

    Returns the elements left out (non-empty only with ``allow_partial``); raises ``ScenarioError``.
    """
    doc, ignored = load_openscenario_doc(source, seed=seed, variant=variant, options=XoscOptions(ego, allow_partial))
    data: dict[str, Any] = dict(doc.data)
    xodr = (Path(doc.file).resolve().parent / data["map"]["file"]).resolve()
    data["map"] = {"file": os.path.relpath(xodr, out.resolve().parent)}
    head = [f"# Translated by `simcore convert` from {source.name}"]
    head += [f"# not translated: {i.line}:{i.col} {i.path}: {i.message}" for i in ignored]
    text = "\n".join(head) + "\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    out.write_text(text, encoding="utf-8")
    return ignored


def cmd_convert(args: argparse.Namespace) -> int:
    """CLI: convert one .xosc; exit 0 written, 2 invalid input."""
    src, out = Path(args.scenario), Path(args.out)
    try:
        ignored = convert(src, out, ego=args.ego, allow_partial=args.allow_partial, variant=args.variant)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"simcore convert: {exc}", file=sys.stderr)
        return 2
    for i in ignored:
        print(f"ignored    {i}", file=sys.stderr)
    print(
        f"written    {out} (map {yaml.safe_load(out.read_text())['map']['file']}; run it with --allow-path "
        "for a map outside its folder)"
    )
    return 0


def add_convert_command(sub: Any) -> None:
    """Register ``simcore convert``."""
    c = sub.add_parser("convert", help="translate an OpenSCENARIO .xosc into a scenario YAML file")
    c.add_argument("scenario", help="FILE.xosc (a scenario or a ParameterValueDistribution)")
    c.add_argument("-o", "--out", required=True, metavar="FILE.yaml")
    c.add_argument("--ego", metavar="NAME", help="the entity the agent drives (default Ego/hero/first)")
    c.add_argument("--allow-partial", action="store_true", help="convert without unsupported elements")
    c.add_argument("--variant", type=int, default=0, metavar="K", help="variant of a distribution")
    c.set_defaults(func=cmd_convert)
