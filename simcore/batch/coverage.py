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
from simcore.units import deg_to_rad

#: Criticality bins of the minimum time to collision (s): [a, b) per bin; the last is open.
TTC_BINS_S = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, math.inf)
#: Criticality bins per metric of the results store: [a, b) per bin, the last open (a run without
#: the value, e.g. no obstacle ahead, counts in the last, least critical bin except for decelerations).
CRITICALITY_BINS = {
    "min_ttc_s": TTC_BINS_S,
    "min_thw_s": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf),
    "max_decel_mps2": (0.0, 2.0, 4.0, 6.0, 8.0, math.inf),
}
#: Bins per parameter range in the coverage table.
PARAM_BINS = 10
_TURNS = {-1: "right", 0: "straight", 1: "left"}


#: A passage or stretch of route that turns the heading by more than this (rad, 150 degrees) is a U-turn.
U_TURN_RAD = deg_to_rad(150.0)
#: Route length (m) over which a U-turn's heading change is measured.
U_TURN_SPAN_M = 80.0
#: The ego counts as stopped at a stop line below this speed (m/s) with its rear axle within
#: STOP_WINDOW_M (m, behind .. past) of the line.
STOP_SPEED_MPS = 0.3
STOP_WINDOW_M = (15.0, 1.0)
#: Cut-in: another vehicle that was beside the ego (ego frame: lateral 2.5..5 m, longitudinal -5..40 m)
#: and, within CUT_IN_S seconds, is ahead in its lane (lateral < 1.2 m, longitudinal 0..40 m), both
#: times heading within CUT_IN_YAW_RAD of the ego, which turned less than that meanwhile (not crossing
#: traffic, not the ego's own turn).
CUT_IN_S = 3.0
CUT_IN_YAW_RAD = deg_to_rad(20.0)


def run_features(sim: Any) -> dict[str, Any]:
    """What one finished run exercised (what the ego met on the part of its route it drove).

    ``junction_passages``: "<control> <turn>" per passage completed (control: signalised, stop line,
    uncontrolled; turn: left, right, straight, u-turn); ``manoeuvres``: lane changes left/right,
    U-turns (anywhere on the route), stops at a red/amber/green signal or a stop line, cut-ins by
    other vehicles (left/right); ``signal_states_met`` at the route's signalised stop lines;
    ``actors`` by kind; ``lane_changes`` (count). Read from the recording with bounded memory.
    """
    from simcore import limits
    from simcore.evaluation.route_criteria import trace_route

    w = sim.world
    kinds = Counter(ActorKind(int(k)).name.lower() for k in w.state.kind)
    out: dict[str, Any] = {
        "actors": dict(sorted(kinds.items())),
        "junction_passages": [],
        "lane_changes": 0,
        "manoeuvres": [],
        "signal_states_met": [],
    }
    e = w.ego
    if e < 0:
        return out
    r, jt = w.routes, w.junctions
    a0, a1 = int(r.start[e]), int(r.start[e + 1])
    rs, heading = r.s[a0:a1], np.unwrap(r.heading[a0:a1])
    rec = sim.recorder
    ego = rec.view(actors=[e], names=("time", "x", "y", "speed", "signals")) if rec.total_rows else {}
    driven = float(w.state.progress[e])
    route_s = np.zeros(0)
    if ego and ego["time"].size:
        route_s, _ = trace_route(r.x[a0:a1], r.y[a0:a1], rs, ego["x"][:, 0], ego["y"][:, 0])
        driven = max(driven, float(route_s.max()))
    man: list[str] = []
    k0, k1 = int(jt.ps_start[e]), int(jt.ps_start[e + 1])
    for k in range(k0, k1):
        if float(jt.ps_s1[k]) > driven + 1e-6:
            continue  # not driven through
        control = "signalised" if jt.ps_sig[k] >= 0 else ("stop line" if jt.ps_stop[k] else "uncontrolled")
        turn = _TURNS.get(int(jt.ps_turn[k]), "other")
        if _heading_change(rs, heading, float(jt.ps_hold[k]), float(jt.ps_s1[k])) > U_TURN_RAD:
            turn = "u-turn"
        out["junction_passages"].append(f"{control} {turn}")
        man.append(f"{turn} turn at a junction" if turn != "straight" else "straight through a junction")
    # U-turns away from junctions (a turnaround): the route outside its junction passages
    free = rs <= driven
    for k in range(k0, k1):
        free &= (rs < float(jt.ps_hold[k])) | (rs > float(jt.ps_s1[k]))
    if _u_turn(rs, heading, free):
        man.append("u-turn")
    l0, l1 = int(r.lc_start[e]), int(r.lc_start[e + 1])
    sides = [int(r.lc_side[k]) for k in range(l0, l1) if float(r.lc_s0[k]) <= driven]
    out["lane_changes"] = len(sides)
    man += [f"lane change {'left' if side > 0 else 'right'}" for side in sides]
    t0, t1 = int(r.stop_start[e]), int(r.stop_start[e + 1])
    groups = sorted({int(g) for g in r.stop_signal[t0:t1] if g >= 0})
    sig = ego.get("signals", np.zeros((0, 0), dtype=np.int8))
    seen: set[str] = set()
    if groups and sig.shape[0] and sig.shape[1]:
        for g in groups:
            seen |= {SignalState(int(v)).name.lower() for v in np.unique(sig[:, g])}
    out["signal_states_met"] = sorted(seen)
    if route_s.size:
        slow = ego["speed"][:, 0] < STOP_SPEED_MPS
        for k in range(t0, t1):
            near = slow & (route_s > r.stop_s[k] - STOP_WINDOW_M[0]) & (route_s < r.stop_s[k] + STOP_WINDOW_M[1])
            first = np.flatnonzero(near & ~np.concatenate([[False], near[:-1]]))  # where each stop began
            if not first.size:
                continue
            g = int(r.stop_signal[k])
            if g >= 0 and sig.shape[1] > g:
                states = {SignalState(int(v)).name.lower() for v in sig[first, g]}
                man += [f"stop at a {st} signal" for st in sorted(states)]
            else:
                man.append("stop at a stop line")
        thin = rec.view(max_rows=limits.current().output_rows, names=("time", "x", "y", "yaw", "active"))
        man += _cut_ins(thin, e, w.state.kind)
    out["manoeuvres"] = man
    return out


def _heading_change(rs: np.ndarray, heading: np.ndarray, s0: float, s1: float) -> float:
    """|heading change| (rad) of the route between route s0 and s1 (``heading`` unwrapped)."""
    h = np.interp([s0, s1], rs, heading) if rs.size else np.zeros(2)
    return abs(float(h[1] - h[0]))


def _u_turn(rs: np.ndarray, heading: np.ndarray, free: np.ndarray) -> bool:
    """Does the route turn by more than U_TURN_RAD within U_TURN_SPAN_M on a stretch of ``free`` samples?"""
    if rs.size < 2:
        return False
    j = np.searchsorted(rs, rs + U_TURN_SPAN_M, side="right") - 1
    # every sample between i and j free: count the non-free ones by a cumulative sum
    blocked = np.concatenate([[0], np.cumsum(~free)])
    ok = blocked[j + 1] - blocked[np.arange(rs.size)] == 0
    return bool(np.any(ok & (np.abs(heading[j] - heading) > U_TURN_RAD)))


def _cut_ins(traj: dict[str, np.ndarray], e: int, kind: np.ndarray) -> list[str]:
    """ "cut-in from the left/right" per other vehicle that moved from beside the ego into its lane ahead
    (an approximation in the ego's frame, read from the strided recording)."""
    t = traj["time"]
    if t.size < 2:
        return []
    cos, sin = np.cos(traj["yaw"][:, e : e + 1]), np.sin(traj["yaw"][:, e : e + 1])
    dx_w, dy_w = traj["x"] - traj["x"][:, e : e + 1], traj["y"] - traj["y"][:, e : e + 1]
    lon, lat = cos * dx_w + sin * dy_w, -sin * dx_w + cos * dy_w
    veh = (kind == ActorKind.VEHICLE) | (kind == ActorKind.CYCLIST)
    veh[e] = False
    ego_yaw = traj["yaw"][:, e : e + 1]
    along = np.abs((traj["yaw"] - ego_yaw + np.pi) % (2 * np.pi) - np.pi) < CUT_IN_YAW_RAD  # same direction
    live = traj["active"] & veh[None, :] & traj["active"][:, e : e + 1] & along
    ahead = live & (lon > 0.0) & (lon < 40.0) & (np.abs(lat) < 1.2)
    beside = live & (lon > -5.0) & (lon < 40.0) & (np.abs(lat) > 2.5) & (np.abs(lat) < 5.0)
    found = []
    x, y = traj["x"], traj["y"]
    entered = ahead & ~np.concatenate([np.zeros((1, ahead.shape[1]), dtype=bool), ahead[:-1]])
    for j in np.flatnonzero(entered.any(axis=0)):
        for row in np.flatnonzero(entered[:, j]):
            turned = np.abs((ego_yaw[:row, 0] - ego_yaw[row, 0] + np.pi) % (2 * np.pi) - np.pi)
            back = np.flatnonzero(beside[:row, j] & (t[:row] >= t[row] - CUT_IN_S) & (turned < CUT_IN_YAW_RAD))
            if not back.size:
                continue
            b = back[-1]
            # in the ego's frame at row b: the ego kept its lane, the other vehicle moved into it
            c, sn = math.cos(ego_yaw[b, 0]), math.sin(ego_yaw[b, 0])
            lat_e = -sn * (x[row, e] - x[b, e]) + c * (y[row, e] - y[b, e])
            lat_j = -sn * (x[row, j] - x[b, e]) + c * (y[row, j] - y[b, e])
            if abs(lat_e) < 1.0 and abs(lat_j - lat_e) < 1.2:
                found.append(f"cut-in from the {'left' if lat[b, j] > 0 else 'right'}")
                break
    return found


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
    crit: dict[str, Counter[str]] = {m: Counter() for m in CRITICALITY_BINS}
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
            for m, bins in CRITICALITY_BINS.items():
                crit[m][_bin(r.get(f"metric_{m}"), bins)] += 1
        try:
            f = json.loads((out / r["dir"] / "features.json").read_text())
        except (OSError, ValueError):
            continue
        features["junctions"].update(f.get("junction_passages", []))
        features["signals"].update(f.get("signal_states_met", []))
        features["actors"].update(k for k, n in f.get("actors", {}).items() if n)
        # runs that exercised each manoeuvre at least once
        features["manoeuvres"].update(set(f.get("manoeuvres", [])) or {"none of these"})
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
        "criticality_min_ttc_s": {b: crit["min_ttc_s"].get(b, 0) for b in _labels(TTC_BINS_S)},
        "criticality": {m: {b: crit[m].get(b, 0) for b in _labels(bins)} for m, bins in CRITICALITY_BINS.items()},
        "outcomes": dict(outcomes),
    }


def _labels(bins: tuple[float, ...]) -> list[str]:
    return [f"[{a:g}, {b:g})" if math.isfinite(b) else f">= {a:g} / none" for a, b in itertools.pairwise(bins)]


def _bin(v: float | None, bins: tuple[float, ...]) -> str:
    labels = _labels(bins)
    if v is None or not math.isfinite(v):
        return labels[-1]
    for label, a, b in zip(labels, bins, bins[1:], strict=False):
        if a <= v < b:
            return label
    return labels[0]  # below the first bin (a negative TTC: closing at contact)


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
    for m, counts in rep["criticality"].items():
        lines.append(f"criticality {m} (judged runs): " + ", ".join(f"{k} {n}" for k, n in counts.items()))
    return "\n".join(lines)
