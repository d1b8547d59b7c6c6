"""Re-score and replay a run from its log (``simcore rescore``, ``simcore replay``).

Re-scoring rebuilds the static world from the log's world reference (scenario file, seed,
overrides, variant: ``/simcore/meta``'s ``run``), loads the logged trajectory and the final engine
state (``/simcore/snapshot``), and computes the result with the scoring code of today and the
criteria, regulation block and emergency vehicles the log names: summary counts, scores,
criteria verdicts, regulation verdicts, the post-run metrics (route criteria, comfort) from the
logged trajectory; the state hash (every step's full engine state folded) is the final
snapshot's. The events and the per-step metric accumulators (TTC, decelerations, ...) are the
ones the compiled step wrote during the run: they are read from the log, not re-derived from the
trajectory.

Replay restores the engine at any step: from the nearest logged snapshot at or before it, the run
is re-simulated to the step (an in-engine agent by the engine itself, an agent that acted through
the agent protocol by its logged controls), then continues with the agent given (or the same
in-engine agent: bit for bit the logged run).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from simcore.agents.loading import BUILTIN, load_agent, split_role
from simcore.evaluation.events import Event, EventKind
from simcore.record.trajectory import FIELDS
from simcore.report.runlog import LogFormatError, RunLog, decode_snapshot, read_run_log
from simcore.runner.loop import SimSnapshot, Simulation
from simcore.runner.results import Result
from simcore.scenario.storyboard import StoryboardSnapshot, StoryProgress


def events_from_log(log: RunLog) -> list[Event]:
    """The logged events as Event objects, with their exact times."""
    out = []
    for ev, t in zip(log.events, log.event_times, strict=True):
        at_fault = ev.get("at_fault")
        out.append(
            Event(
                t,
                EventKind[ev["kind"].upper()],
                tuple(ev["actors"]),
                float(ev["value"]),
                ev.get("detail", ""),
                None if at_fault is None else tuple(at_fault),
            )
        )
    return out


def _run_config(log: RunLog, path: str | Path) -> dict[str, Any]:
    cfg = log.meta.get("run")
    if cfg is None:
        raise LogFormatError(f"{path}: the log has no run configuration (written before simcore log format 2)")
    return dict(cfg)


def build_simulation(cfg: dict[str, Any], agents: dict[str, Any], log: RunLog | None = None) -> Simulation:
    """The logged run's Simulation, rebuilt from its world reference, driven by ``agents`` (by role);
    criteria, regulation and end conditions are the logged ones, and so is whether an agent that can run
    in-engine does (a run that drove the autopilot through the agent protocol does so again)."""
    from pydantic import TypeAdapter

    from simcore.api import simulation
    from simcore.scenario.openscenario import xosc_options
    from simcore.scenario.schema import CriterionSpec, EndSpec, RegulationSpec

    timing = cfg.get("timing", {})
    others = {role: a for role, a in agents.items() if role != "ego"}
    with xosc_options(cfg.get("xosc_ego"), bool(cfg.get("allow_partial", False))):
        sim = simulation(
            cfg["scenario"],
            agents.get("ego") or load_agent("idle"),
            seed=cfg.get("seed"),
            overrides=cfg.get("overrides") or {},
            variant=int(cfg.get("variant", 0)),
            record_every=int(cfg.get("record_every", 1)),
            allow_paths=tuple(cfg.get("allow_paths", ())),
            agents=others,
            in_engine=bool(cfg.get("in_engine", True)),
            **{k: v for k, v in timing.items() if v is not None},
        )
    sim.end = EndSpec.model_validate(cfg["end"])
    sim.max_steps = math.ceil(sim.end.timeout_s / sim.world.dt - 1e-9)
    sim.criteria = TypeAdapter(list[CriterionSpec]).validate_python(cfg["criteria"])
    sim.regulation = RegulationSpec.model_validate(cfg["regulation"]) if cfg.get("regulation") else None
    sim.emergency_vehicles = tuple(cfg.get("emergency_vehicles", ()))
    if log is not None and list(sim.world.actor_ids) != list(log.meta["actor_ids"]):
        raise LogFormatError(
            f"scenario {cfg['scenario']} no longer builds the logged world (actors differ): it changed since the run"
        )
    return sim


def _snapshot(sim: Simulation, log: RunLog, k: int) -> SimSnapshot:
    """Logged snapshot ``k`` as a SimSnapshot of ``sim`` (its recorder gets the logged rows up to it)."""
    header, arrays = decode_snapshot(log.snapshots[k])
    state = sim.initial.copy()._replace(**arrays)
    story = None
    if header["story"] is not None and sim._story is not None:
        story = StoryProgress(sim._story.stories)
        story.fired_at = list(header["story"]["fired_at"])
        story.done = list(header["story"]["done"])
        story.applied_at = list(header["story"]["applied_at"])
    total = int(header["rec_total"])
    sim.recorder.load({name: log.state[name][:total] for name in ("time", *FIELDS)})
    env = header["environment"]
    return SimSnapshot(
        state,
        float(header["t"]),
        events_from_log(log)[: header["n_events"]],
        header["collisions_info"],
        header["termination"],
        header["story_end"],
        story,
        {},
        StoryboardSnapshot(env) if env is not None else None,
        int(header["rec_rows"]),
        dict(header["late_controls"]),
        int(header["state_hash"]),
        total,
    )


def rescore(path: str | Path) -> tuple[Simulation, Result]:
    """Recompute a logged run's result from its log (module docstring); returns the Simulation (its world
    and recorder hold the logged run) and the Result."""
    t0 = time.perf_counter()
    log = read_run_log(path, snapshots=True, sensors=False)
    cfg = _run_config(log, path)
    if not log.snapshots or log.snapshot_steps[-1] != _last_step(log):
        raise LogFormatError(f"{path}: no final engine-state snapshot (the run did not finish)")
    sim = build_simulation(cfg, {}, log)
    sim.restore(_snapshot(sim, log, len(log.snapshots) - 1))
    res = sim.result(time.perf_counter() - t0)
    return sim, replace(res, agent=str(cfg.get("agent", res.agent)))


def _last_step(log: RunLog) -> int:
    if log.result is not None:
        return int(log.result["steps"])
    return log.snapshot_steps[-1] if log.snapshot_steps else 0


def _logged_controls(log: RunLog) -> dict[int, dict[str, tuple[float, float]]]:
    """Effective controls per step (the step they were applied in ends at that step), by role."""
    c = log.controls
    if not c:
        return {}
    dt = float(log.meta["dt_s"])
    out = {}
    for i, t in enumerate(c["time"]):
        step = round(float(t) / dt)
        out[step] = {
            role: (float(c["accel"][i, j]), float(c["steer"][i, j])) for j, role in enumerate(log.controls_roles)
        }
    return out


def _agents_for(specs: list[str], cfg: dict[str, Any]) -> dict[str, Any]:
    """Agents by role: those given (``[ROLE=]SPEC``), the others the logged ones when built in."""
    given = dict(split_role(s) for s in specs)
    out = {}
    for role, spec in {**cfg.get("agents", {}), **given}.items():
        if role not in given and spec not in BUILTIN:
            raise ValueError(f"the logged agent of {role!r} is {spec!r}, not built in: give --agent {role}=SPEC")
        out[role] = load_agent(spec)
    return out


def prepare_replay(path: str | Path, at_step: int, agents: list[str] | None = None) -> tuple[Simulation, int]:
    """The logged run restored at step ``at_step``, ready to ``run`` on with ``agents`` (``[ROLE=]SPEC``; None:
    the logged agents, which must be built in). Returns the Simulation and the step of the logged snapshot
    it started from (the steps from there to ``at_step`` were re-simulated)."""
    log = read_run_log(path, snapshots=True, sensors=False)
    cfg = _run_config(log, path)
    last = _last_step(log)
    if not 0 <= at_step <= last:
        raise ValueError(f"step {at_step} is outside the run (0 to {last})")
    usable = [i for i, s in enumerate(log.snapshot_steps) if s <= at_step]
    if not usable:
        raise LogFormatError(f"{path}: no engine-state snapshot at or before step {at_step}")
    in_engine = bool(cfg.get("in_engine"))
    roles = list(cfg.get("agents", {}))
    # the Simulation that reaches at_step: the logged in-engine agent, or idle agents whose controls the log replaces
    reach = {"ego": load_agent("autopilot")} if in_engine else {}
    reach.update({r: load_agent("idle") for r in roles if not (in_engine and r == "ego")})
    sim = build_simulation(cfg, reach, log)
    sim.restore(_snapshot(sim, log, usable[-1]))
    from_step = sim.step_index
    by_engine = in_engine and len(roles) <= 1
    if by_engine:
        sim.advance_to(at_step)
    else:
        controls = _logged_controls(log)
        while sim.step_index < at_step:
            step = sim.step_index + 1
            if step not in controls:
                raise LogFormatError(f"{path}: no logged controls for step {step}")
            if sim.step_applied(controls[step]).done:
                break
    if agents is None and by_engine:
        return sim, from_step
    cont = build_simulation(cfg, _agents_for(agents or [], cfg), log)
    snap = sim.snapshot()
    cont.recorder.load(sim.recorder.view())
    cont.restore(snap)
    sim.close()
    return cont, from_step


def replay(path: str | Path, at_step: int, agents: list[str] | None = None) -> Result:
    """``prepare_replay``, then run to the end; the Result of the whole run (logged part and continuation)."""
    sim, _ = prepare_replay(path, at_step, agents)
    return sim.run()


# -- command line ---------------------------------------------------------------------------
def _out_dirs(logs: list[str], out: str | None) -> list[Path | None]:
    if out is None:
        return [None] * len(logs)
    if len(logs) == 1:
        return [Path(out)]
    return [Path(out) / f"{k:03d}_{Path(p).resolve().parent.name if Path(p).is_file() else Path(p).name}"
            for k, p in enumerate(logs)]  # fmt: skip


def cmd_rescore(args: Any) -> int:
    """``simcore rescore LOG... [--out DIR]``: exit 0 all pass, 1 a run fails, 2 a log cannot be read."""
    import json

    from simcore.report.outputs import write_run_outputs

    worst = 0
    for path, out in zip(args.logs, _out_dirs(args.logs, args.out), strict=True):
        try:
            sim, res = rescore(path)
        except (LogFormatError, OSError, ValueError) as exc:
            print(f"simcore rescore: {path}: {exc}", file=sys.stderr)
            worst = 2
            continue
        logged = read_run_log(path, max_rows=2, sensors=False).result
        now = json.loads(json.dumps(res.to_json(include_timing=False)))
        changed = sorted(k for k in set(now) | set(logged or {}) if (logged or {}).get(k) != now.get(k))
        if out is not None:
            write_run_outputs(sim.world, res, out, progress=not args.quiet and sys.stderr.isatty())
        if not args.quiet:
            verdict = "PASS" if res.passed else "FAIL"
            same = "same as logged" if not changed else f"differs from the log in: {', '.join(changed)}"
            print(f"{verdict}  {res.scenario}  score {res.score:.3f}  {same}  ({res.wall_time:.2f} s)")
        worst = max(worst, 0 if res.passed else 1)
    return worst


def _step_of(text: str, dt: float) -> int:
    """``--at``: a step number, or a time with a unit (``12.5s``)."""
    text = text.strip()
    if text.endswith("s"):
        return round(float(text[:-1]) / dt)
    return int(text)


def cmd_replay(args: Any) -> int:
    """``simcore replay LOG --at STEP|Ts [--agent SPEC] [--out DIR]``: exit 0 pass, 1 fail, 2 invalid."""
    from simcore.agents.loading import AgentLoadError
    from simcore.report.outputs import write_run_outputs
    from simcore.report.runlog import RUN_MCAP, RunLogWriter
    from simcore.scenario.errors import ScenarioError

    try:
        meta = read_run_log(args.log, max_rows=2, sensors=False).meta
        at = _step_of(args.at, float(meta["dt_s"]))
        sim, from_step = prepare_replay(args.log, at, args.agent)
    except (LogFormatError, OSError, ValueError, AgentLoadError, ScenarioError) as exc:
        print(f"simcore replay: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else None
    writer = None
    if out is not None:
        run_info = dict(meta.get("run", {}))
        run_info["agents"] = {**run_info.get("agents", {}), **dict(split_role(s) for s in args.agent or [])}
        writer = RunLogWriter(out / RUN_MCAP, sim.world, run_info=run_info).attach(sim)
    res = sim.run()
    if out is not None and writer is not None:
        writer.finish(res)
        write_run_outputs(sim.world, res, out, progress=not args.quiet and sys.stderr.isatty())
    if not args.quiet:
        verdict = "PASS" if res.passed else "FAIL"
        print(f"{verdict}  {res.scenario}  from step {at} (snapshot at step {from_step})  agent {res.agent}")
        print(f"  termination {res.termination} at {res.sim_time:.2f} s, score {res.score:.3f}, hash {res.state_hash}")
    return 0 if res.passed else 1
