"""Fingerprint of every catalog scenario's outcome, to show an engine change leaves results unchanged.

    python tools/catalog_fingerprint.py OUT.json [SCENARIO ...]          # default: scenarios/*/*.yaml
    python tools/catalog_fingerprint.py --compare BEFORE.json AFTER.json

For each scenario: the final engine-state hash, verdict, termination and a SHA-256 of the whole
``result.json`` (wall-clock timing and the scenario's file path left out, keys sorted). ``--compare``
prints the scenarios that differ and exits 1 if any does (or if one side lacks a scenario).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def fingerprint(scenarios: list[str]) -> dict[str, dict[str, Any]]:
    """Outcome fingerprint per scenario (module docstring)."""
    from simcore.api import run

    out: dict[str, dict[str, Any]] = {}
    for s in scenarios:
        t0 = time.process_time()
        r = run(s)
        d = r.to_json(include_timing=False)
        d.pop("scenario_file", None)
        text = json.dumps(d, sort_keys=True, default=str)
        out[s] = {"hash": r.state_hash, "passed": r.passed, "termination": r.termination,
                  "result_sha": hashlib.sha256(text.encode()).hexdigest()[:16]}  # fmt: skip
        print(f"{s}  {r.state_hash}  {r.passed}  {out[s]['result_sha']}  {time.process_time() - t0:.1f} s", flush=True)
    return out


def compare(before: dict[str, Any], after: dict[str, Any]) -> int:
    """Number of scenarios whose fingerprints differ (printed), a missing one counting as different."""
    before, after = _by_name(before), _by_name(after)
    bad = 0
    for s in sorted(set(before) | set(after)):
        if before.get(s) != after.get(s):
            bad += 1
            print(f"DIFFERS {s}: {before.get(s)} -> {after.get(s)}")
    print(f"{len(set(before) | set(after)) - bad} identical, {bad} different")
    return bad


def _by_name(prints: dict[str, Any]) -> dict[str, Any]:
    """Fingerprints keyed by catalog name (``folder/stem``), so two source trees compare."""
    return {f"{Path(k).parent.name}/{Path(k).stem}": v for k, v in prints.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    ap.add_argument("out", nargs="?")
    ap.add_argument("scenarios", nargs="*")
    a = ap.parse_args()
    if a.compare:
        sides = [json.loads(Path(p).read_text()) for p in a.compare]
        sys.exit(1 if compare(*sides) else 0)
    if not a.out:
        ap.error("OUT.json required")
    names = a.scenarios or [str(p) for p in sorted(ROOT.glob("scenarios/*/*.yaml"))]
    Path(a.out).write_text(json.dumps(fingerprint(names), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
