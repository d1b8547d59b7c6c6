"""Coverage of a batch: parameter ranges, tags, road features and criticality bins its runs exercised.

Each job writes ``features.json`` (``run_features``: what the ego met on its way); the
report (``coverage``) combines those with the results store and the scenarios' declared
parameter ranges.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from simcore._types import ActorKind, SignalState

#: Criticality bins of the minimum time to collision (s): [a, b) per bin; the last is open.
TTC_BINS_S = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, math.inf)
#: Bins per parameter range in the coverage table.
PARAM_BINS = 10
_TURNS = {-1: "right", 0: "straight", 1: "left"}


def run_features(sim: Any) -> dict[str, Any]:
    """What one finished run exercised: actor kinds, the ego's junction passages (signalised or not,
    turn), lane changes and the signal states the ego met at its route's signalised stop lines."""
    w = sim.world
    kinds = Counter(ActorKind(int(k)).name.lower() for k in w.state.kind)
    out: dict[str, Any] = {"actors": dict(sorted(kinds.items())), "junction_passages": [], "lane_changes": 0}
    e = w.ego
    if e < 0:
        return out
    jt = w.junctions
    a, b = int(jt.ps_start[e]), int(jt.ps_start[e + 1])
    out["junction_passages"] = [
        f"{'signalised' if jt.ps_sig[k] >= 0 else 'unsignalised'} {_TURNS.get(int(jt.ps_turn[k]), 'other')}"
        for k in range(a, b)
    ]
    r = w.routes
    out["lane_changes"] = int(r.lc_start[e + 1] - r.lc_start[e])
    groups = sorted({int(g) for g in r.stop_signal[r.stop_start[e] : r.stop_start[e + 1]] if g >= 0})
    seen: set[str] = set()
    sig = sim.recorder.view(names=("signals",))["signals"]
    if groups and sig.shape[0] and sig.shape[1]:
        for g in groups:
            seen |= {SignalState(int(v)).name.lower() for v in np.unique(sig[:, g])}
    out["signal_states_met"] = sorted(seen)
    return out


@functools.lru_cache(maxsize=256)
def _declared_ranges(scenario_file: str) -> dict[str, tuple[float, float]]:
    """Numeric parameter ranges a scenario declares (sweep min..max, uniform bounds, normal min..max)."""
    from simcore.batch.search import parameter_space

    try:
        return {p.name: (p.low, p.high) for p in parameter_space(scenario_file)}
    except Exception:  # coverage is a report: an unreadable scenario just has no declared ranges
        return {}


def coverage(rows: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    """The coverage report of a batch folder ``out`` from its store rows (``simcore.batch.store``)."""
    params: dict[tuple[str, str], list[float]] = {}
    files: dict[str, str] = {}
    tags: Counter[str] = Counter()
    features: dict[str, Counter[str]] = {k: Counter() for k in ("junctions", "signals", "actors", "manoeuvres")}
    ttc: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for r in rows:
        outcomes[r["status"]] += 1
        key = r["scenario_key"]
        files[key] = r["scenario_file"]
        for name, v in json.loads(r.get("parameters") or "{}").items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                params.setdefault((key, name), []).append(float(v))
        for t in json.loads(r.get("tags") or "[]"):
            tags[t] += 1
        if r["status"] in ("pass", "fail"):
            v = r.get("metric_min_ttc_s")
            ttc[_ttc_bin(v)] += 1
        try:
            f = json.loads((out / r["dir"] / "features.json").read_text())
        except (OSError, ValueError):
            continue
        features["junctions"].update(f.get("junction_passages", []))
        features["signals"].update(f.get("signal_states_met", []))
        features["actors"].update(k for k, n in f.get("actors", {}).items() if n)
        lc = int(f.get("lane_changes", 0))
        features["manoeuvres"]["lane change" if lc else "no lane change"] += 1
    table = []
    for (key, name), vals in sorted(params.items()):
        lo, hi = _declared_ranges(files[key]).get(name, (min(vals), max(vals)))
        filled = _bins_filled(vals, lo, hi)
        table.append(
            {
                "scenario": key,
                "parameter": name,
                "declared": [lo, hi],
                "exercised": [min(vals), max(vals)],
                "runs": len(vals),
                "bins_filled": filled,
                "bins": PARAM_BINS,
            }
        )
    return {
        "parameters": table,
        "tags": dict(tags),
        "features": {k: dict(c) for k, c in features.items()},
        "criticality_min_ttc_s": {b: ttc.get(b, 0) for b in _ttc_labels()},
        "outcomes": dict(outcomes),
    }


def _ttc_labels() -> list[str]:
    return [f"[{a:g}, {b:g})" if math.isfinite(b) else f">= {a:g} / none" for a, b in itertools.pairwise(TTC_BINS_S)]


def _ttc_bin(v: float | None) -> str:
    labels = _ttc_labels()
    if v is None or not math.isfinite(v):
        return labels[-1]
    for label, a, b in zip(labels, TTC_BINS_S, TTC_BINS_S[1:], strict=False):
        if a <= v < b:
            return label
    return labels[0]  # negative TTC: closing at contact


def _bins_filled(vals: list[float], lo: float, hi: float) -> int:
    if hi <= lo:
        return 1
    idx = {min(int((v - lo) / (hi - lo) * PARAM_BINS), PARAM_BINS - 1) for v in vals if lo <= v <= hi}
    return len(idx)


def format_coverage(rep: dict[str, Any]) -> str:
    """The coverage report as text tables."""
    lines = ["parameters (declared range, exercised range, bins of 10 filled):"]
    for p in rep["parameters"]:
        lo, hi = p["declared"]
        a, b = p["exercised"]
        lines.append(
            f"  {p['scenario']:28s} {p['parameter']:20s} [{lo:g}, {hi:g}]  ran [{a:g}, {b:g}]  "
            f"{p['bins_filled']}/{p['bins']} bins  {p['runs']} runs"
        )
    for title, data in (("tags", rep["tags"]), *((k, v) for k, v in rep["features"].items())):
        lines.append(f"{title}: " + (", ".join(f"{k} {n}" for k, n in sorted(data.items())) or "-"))
    lines.append(
        "criticality (min TTC, judged runs): " + ", ".join(f"{k} {n}" for k, n in rep["criticality_min_ttc_s"].items())
    )
    return "\n".join(lines)
