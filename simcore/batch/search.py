"""Scenario search: find the parameter values where an agent does worst, minimise a failure, write it out.

The space is every numeric parameter the scenario declares (a sweep spans its smallest to
largest value, ``uniform`` its bounds, ``normal`` its min..max or mean +- 3 std), scaled to
[0, 1] per parameter. CMA-ES (the ``cmaes`` package) proposes one generation at a time; the
generation runs in parallel through the batch backends (a local worker pool kept for the whole
search, or Ray), each run a batch job with parameter overrides. The objective is minimised:
``score`` or any metric of result.json (``min_ttc_s``, ``min_gap_m``, ...); failing runs rank
before every passing one.

Minimising a failure: the nominal value of a parameter is its first sweep value, the middle
of a uniform range, or a normal's mean. Parameters are put back to nominal one at a time
(closest first) while the run still fails; each one left moved is then bisected towards
nominal, keeping the value closest to nominal that still fails. The result is written as a
concrete scenario (every parameter a constant) with its provenance in a comment header, and
run once more on its own to confirm it fails.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simcore.batch.jobs import Job, agent_key, safe_name

#: Bisection steps per parameter when minimising a failure.
BISECT_STEPS = 5
#: Objective value of a run with no value for it (error, crash, metric never set).
WORST = 1e9
#: Added to the objective of a failing run so failures always rank first.
FAIL_BONUS = 1e6


@dataclass(frozen=True)
class Param:
    """One searchable parameter: range [low, high], nominal value, integer-valued or not."""

    name: str
    low: float
    high: float
    nominal: float
    integer: bool = False

    def value(self, u: float) -> float | int:
        """The parameter value at ``u`` in [0, 1]."""
        v = self.low + float(np.clip(u, 0.0, 1.0)) * (self.high - self.low)
        return round(v) if self.integer else v

    def unit(self, v: float) -> float:
        """``v`` scaled to [0, 1]."""
        return 0.0 if self.high <= self.low else (v - self.low) / (self.high - self.low)


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parameter_space(scenario_file: str | Path) -> list[Param]:
    """The numeric parameters of a scenario file, with their ranges and nominal values (file order)."""
    from simcore.scenario.yaml_source import load_yaml

    raw = load_yaml(scenario_file).data.get("parameters") or {}
    out = []
    for name, spec in raw.items():
        if not isinstance(spec, dict) or len(spec) != 1:
            continue
        kind, arg = next(iter(spec.items()))
        if kind == "sweep" and isinstance(arg, list) and arg and all(_num(v) for v in arg):
            integer = all(isinstance(v, int) for v in arg)
            out.append(Param(name, float(min(arg)), float(max(arg)), float(arg[0]), integer))
        elif kind == "uniform" and isinstance(arg, list) and len(arg) == 2 and all(_num(v) for v in arg):
            out.append(Param(name, float(arg[0]), float(arg[1]), (arg[0] + arg[1]) / 2))
        elif kind == "normal" and isinstance(arg, dict) and _num(arg.get("mean")) and _num(arg.get("std")):
            lo = float(arg.get("min", arg["mean"] - 3 * arg["std"]))
            hi = float(arg.get("max", arg["mean"] + 3 * arg["std"]))
            out.append(Param(name, lo, hi, float(np.clip(arg["mean"], lo, hi))))
    return out


@dataclass
class Trial:
    """One evaluated point: its parameter values, objective value, status and run folder."""

    values: dict[str, float | int]
    objective: float
    status: str
    dir: str
    phase: str = "search"


@dataclass
class SearchResult:
    """Every trial, the first failure's trial number, the minimised failure and where it was written."""

    trials: list[Trial] = field(default_factory=list)
    first_failure: int | None = None
    worst: Trial | None = None
    minimised: Trial | None = None
    moved: list[str] = field(default_factory=list)
    scenario_out: Path | None = None
    confirmed_status: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain data for search.json."""

        def t(x: Trial | None) -> dict[str, Any] | None:
            return None if x is None else x.__dict__

        return {
            "runs": len(self.trials),
            "search_runs": sum(x.phase == "search" for x in self.trials),
            "failures": sum(x.status == "fail" for x in self.trials if x.phase == "search"),
            "first_failure_run": self.first_failure,
            "worst": t(self.worst),
            "minimised": t(self.minimised),
            "moved": self.moved,
            "scenario": str(self.scenario_out) if self.scenario_out else None,
            "confirmed_status": self.confirmed_status,
            "trials": [x.__dict__ for x in self.trials],
        }


class _Evaluator:
    """Runs parameter points as batch jobs through a local pool (kept open) or Ray."""

    def __init__(self, scenario: Path, agent: str, objective: str, out: Path, *, backend: str, workers: int,
                 address: str | None, timeout_s: float | None) -> None:  # fmt: skip
        self.scenario, self.agent, self.objective, self.out = scenario, agent, objective, out
        self.backend, self.address, self.timeout_s = backend, address, timeout_s
        self.akey = agent_key(agent)
        self.pool = None
        if backend == "local":
            from simcore.batch.pool import LocalPool

            self.pool = LocalPool(workers, pictures=False, timeout_s=timeout_s)
        self.count = 0

    def close(self, kill: bool = False) -> None:
        if self.pool is not None:
            self.pool.close(kill=kill)

    def run(self, points: list[dict[str, float | int]], phase: str) -> list[Trial]:
        jobs = []
        for values in points:
            key = f"{phase}/{self.count:04d}"
            self.count += 1
            jobs.append(Job(str(self.scenario), key, 0, self.agent, self.akey, None, None, tuple(values.items())))
        entries: dict[Job, dict[str, Any]] = {}

        def done(job: Job, entry: dict[str, Any]) -> None:
            entries[job] = entry

        if self.pool is not None:
            self.pool.run(jobs, self.out, done)
        else:
            from simcore.batch.runner import run_ray

            run_ray(jobs, self.out, pictures=False, done=done, address=self.address, timeout_s=self.timeout_s)
        return [self._trial(j, entries[j], dict(j.overrides), phase) for j in jobs]

    def _trial(self, job: Job, entry: dict[str, Any], values: dict[str, Any], phase: str) -> Trial:
        status = entry["status"]
        value = WORST
        if status in ("pass", "fail"):
            data = json.loads((self.out / job.rel_dir / "result.json").read_text())
            raw = (
                (data.get("score") or {}).get("value")
                if self.objective == "score"
                else data["metrics"].get(self.objective)
            )
            if raw is not None and math.isfinite(raw):
                value = float(raw)
        if status == "fail":
            value -= FAIL_BONUS
        return Trial(values, value, status, job.rel_dir, phase)


def objective_names(scenario_result: dict[str, Any]) -> list[str]:
    """Objectives a result offers: ``score`` and every metric name."""
    return ["score", *sorted(scenario_result.get("metrics", {}))]


def search(
    scenario: str | Path,
    agent: str,
    *,
    objective: str = "score",
    budget: int = 40,
    out: Path,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    sampler: str = "cmaes",
    seed: int = 0,
    timeout_s: float | None = None,
    minimise: bool = True,
    progress: Any = None,
) -> SearchResult:
    """Search ``scenario``'s parameter space with ``budget`` runs (``sampler``: ``cmaes`` or ``random``).

    Then, if any run failed: minimise the worst failure (extra runs, not counted in the budget),
    write ``out/regression.yaml`` and confirm it fails on its own.
    """
    from simcore._data import resolve_scenario

    path = resolve_scenario(str(scenario))
    space = parameter_space(path)
    if not space:
        raise ValueError(f"{path}: no numeric parameters to search (declare sweeps or distributions)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ev = _Evaluator(path, agent, objective, out, backend=backend, workers=workers, address=address,
                    timeout_s=timeout_s)  # fmt: skip
    res = SearchResult()
    try:
        _explore(ev, space, res, budget, sampler, seed, max(workers, 1), progress)
        fails = [t for t in res.trials if t.status == "fail"]
        res.worst = min(res.trials, key=lambda t: t.objective) if res.trials else None
        if fails and minimise:
            worst_fail = min(fails, key=lambda t: t.objective)
            res.minimised, res.moved = _minimise(ev, space, worst_fail, res)
            res.scenario_out = write_regression(path, res.minimised, res, agent, objective, out / "regression.yaml")
            confirm = Job(str(res.scenario_out), "confirm", 0, agent, agent_key(agent))
            got: dict[str, Any] = {}
            if ev.pool is not None:
                ev.pool.run([confirm], out, lambda j, e: got.update(e))
            else:
                from simcore.batch.runner import run_ray

                run_ray([confirm], out, pictures=False, done=lambda j, e: got.update(e), address=address)
            res.confirmed_status = got.get("status")
    except BaseException:
        ev.close(kill=True)
        raise
    ev.close()
    (out / "search.json").write_text(json.dumps(res.to_json(), indent=2, sort_keys=True) + "\n")
    return res


def _explore(ev: _Evaluator, space: list[Param], res: SearchResult, budget: int, sampler: str, seed: int,
             workers: int, progress: Any) -> None:  # fmt: skip
    d = len(space)
    rng = np.random.default_rng(seed)
    opt = None
    if sampler == "cmaes":
        try:
            from cmaes import CMA
        except ImportError as exc:
            msg = "--sampler cmaes needs cmaes: pip install 'simcore[search]' (or --sampler random)"
            raise ValueError(msg) from exc

        pop = max(4 + int(3 * math.log(d)), workers)
        mean = np.array([p.unit(p.nominal) for p in space])
        opt = CMA(mean=np.clip(mean, 0.05, 0.95), sigma=0.3, bounds=np.tile([0.0, 1.0], (d, 1)), seed=seed,
                  population_size=pop)  # fmt: skip
    elif sampler != "random":
        raise ValueError(f"sampler {sampler!r}: expected cmaes or random")
    while len(res.trials) < budget:
        n = min(opt.population_size if opt else workers * 2, budget - len(res.trials))
        xs = [opt.ask() for _ in range(n)] if opt else [rng.random(d) for _ in range(n)]
        trials = ev.run([{p.name: p.value(u) for p, u in zip(space, x, strict=False)} for x in xs], "search")
        for t in trials:
            res.trials.append(t)
            if t.status == "fail" and res.first_failure is None:
                res.first_failure = len(res.trials)
        if opt is not None and n == opt.population_size:
            opt.tell([(x, t.objective) for x, t in zip(xs, trials, strict=False)])
        if progress is not None:
            progress(len(res.trials), budget, min(t.objective for t in res.trials))


def _minimise(ev: _Evaluator, space: list[Param], fail: Trial, res: SearchResult) -> tuple[Trial, list[str]]:
    """Fewest parameters moved from nominal, each as close to nominal as still fails."""
    best = fail
    cur = dict(fail.values)
    order = sorted(space, key=lambda p: abs(p.unit(cur[p.name]) - p.unit(p.nominal)))
    for p in order:
        if cur[p.name] == p.value(p.unit(p.nominal)):
            continue
        trial = {**cur, p.name: p.value(p.unit(p.nominal))}
        (t,) = ev.run([trial], "minimise")
        res.trials.append(t)
        if t.status == "fail":
            cur, best = trial, t
    moved = [p for p in space if cur[p.name] != p.value(p.unit(p.nominal))]
    for p in moved:
        lo, hi = p.unit(p.nominal), p.unit(cur[p.name])  # lo passes (or is nominal), hi fails
        for _ in range(BISECT_STEPS):
            mid = (lo + hi) / 2
            trial = {**cur, p.name: p.value(mid)}
            if trial[p.name] in (cur[p.name], p.value(lo)):
                break
            (t,) = ev.run([trial], "minimise")
            res.trials.append(t)
            if t.status == "fail":
                hi, cur, best = mid, trial, t
            else:
                lo = mid
    return best, [p.name for p in moved]


def _references(data: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(mapping, key) of every file a scenario names: ``map.file``, each ``actors[i].replay.file``,
    and ``ego.sensors`` when it names a rig file (``.yaml``/``.yml``)."""
    refs: list[tuple[dict[str, Any], str]] = []
    m = data.get("map")
    if isinstance(m, dict) and isinstance(m.get("file"), str):
        refs.append((m, "file"))
    for actor in data.get("actors") or []:
        replay = actor.get("replay") if isinstance(actor, dict) else None
        if isinstance(replay, dict) and isinstance(replay.get("file"), str):
            refs.append((replay, "file"))
    ego = data.get("ego")
    if isinstance(ego, dict) and isinstance(ego.get("sensors"), str) and ego["sensors"].endswith((".yaml", ".yml")):
        refs.append((ego, "sensors"))
    return refs


def copy_references(data: dict[str, Any], src_dir: Path, out_dir: Path) -> list[str]:
    """Copy the files ``data`` (a scenario read from ``src_dir``) names into ``out_dir``, so a scenario
    written there runs on its own: a name below the scenario's folder keeps its relative path, any
    other (``../x``, absolute) is copied as ``refs/<file name>`` and renamed in ``data``. Returns the
    names written."""
    import shutil

    copied = []
    for mapping, key in _references(data):
        name = Path(mapping[key])
        src = (src_dir / name).resolve()
        if not src.is_file():
            continue  # validation reports it when the scenario is run
        rel = name if not name.is_absolute() and ".." not in name.parts else Path("refs") / src.name
        dst = out_dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.resolve() != src:
            shutil.copyfile(src, dst)
        mapping[key] = rel.as_posix()
        copied.append(rel.as_posix())
    return copied


def write_regression(source: Path, trial: Trial, res: SearchResult, agent: str, objective: str, path: Path) -> Path:
    """Write ``source`` with every parameter a constant (the trial's run values) and a provenance header,
    and the files it names (map, replay logs, sensor rig) next to it (``copy_references``)."""
    import simcore
    from simcore.batch.store import git_revision
    from simcore.scenario.yaml_source import load_yaml

    data = dict(load_yaml(source).data)
    ran = json.loads((path.parent / trial.dir / "result.json").read_text())
    # searched values exactly as run (result.json rounds to 9 decimals), the others as that run resolved them
    data["parameters"] = {k: trial.values.get(k, ran["parameters"][k]) for k in data.get("parameters") or {}}
    data["name"] = safe_name(f"{data.get('name', 'scenario')}-regression")
    moved = ", ".join(f"{k}={trial.values[k]:.6g}" for k in res.moved) or "none"
    data["description"] = (
        f"Regression scenario found by simcore search from {source.name}: the agent {agent} fails here "
        f"(parameters moved from nominal: {moved}). " + str(data.get("description", "")).strip()
    ).strip()
    prov = {
        "source": str(source),
        "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "agent": agent,
        "objective": objective,
        "objective_value": trial.objective,
        "moved_from_nominal": res.moved,
        "search_runs": sum(t.phase == "search" for t in res.trials),
        "minimise_runs": sum(t.phase == "minimise" for t in res.trials),
        "first_failure_run": res.first_failure,
        "run": trial.dir,
        "engine_version": simcore.__version__,
        "git_revision": git_revision(),
    }
    prov["copied_files"] = copy_references(data, source.parent, path.parent)
    header = "".join(f"# {line}\n" for line in json.dumps(prov, indent=1).splitlines())
    text = "# simcore search provenance:\n" + header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path
