"""Command-line interface: ``simcore run | batch | results | regress | search | validate | list | expand |
schema | view | map | drive | warmup``."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from simcore import __version__
from simcore._data import catalog_dir, resolve_scenario

EXIT_PASS, EXIT_FAIL, EXIT_INVALID = 0, 1, 2


def _parse_set(items: list[str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--set expects name=value, got {item!r}")
        out[name.strip()] = yaml.safe_load(value) if value.strip() else ""
    return out


def _terminated(signum: int, frame: Any) -> None:
    """SIGTERM handler of ``simcore run``: unwind (closing agents), exit 128 + SIGTERM."""
    raise SystemExit(128 + signum)


def _seed(text: str) -> int:
    """``--seed`` values: the integers a scenario file's ``seed:`` accepts (0 .. 2**63 - 1)."""
    from simcore.rng import seed_problem

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    problem = seed_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _format_summary(res: Any, out_dir: Path | None) -> str:
    lines = [
        f"scenario   {res.scenario}  (seed {res.seed}, agent {res.agent})",
        f"simulated  {res.sim_time:.2f} s in {res.steps} steps of {res.dt:g} s  -> {res.termination}",
        f"wall       {res.wall_time:.3f} s   real-time factor {res.real_time_factor:.0f}x",
        f"score      {res.score:.1f} / 100",
    ]
    if res.parameters:
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in res.parameters.items())
        lines.append(f"parameters {params}")
    for v in res.verdicts:
        value = "-" if v.value is None else (f"{v.value:.3g}" if isinstance(v.value, float) else str(v.value))
        thr = "" if v.threshold is None else f" (threshold {v.threshold:g})"
        lines.append(f"  [{'PASS' if v.passed else 'FAIL'}] {v.name}: {value}{thr}")
    shown = [e for e in res.events]
    lines.append(f"events     {len(shown)}")
    for e in shown[:20]:
        extra = f" {e.detail}" if e.detail else ""
        lines.append(f"  t={e.time:7.2f}s  {e.kind.name.lower():14s} {', '.join(e.actors)}{extra}")
    if len(shown) > 20:
        lines.append(f"  ... {len(shown) - 20} more in result.json")
    lines.append(f"result     {'PASS' if res.passed else 'FAIL'}")
    if out_dir is not None:
        names = ("result.json", "junit.xml", "report.html", "topdown.png", "run.mcap")
        lines.append("written    " + ", ".join(str(out_dir / n) for n in names))
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario and report. SIGTERM unwinds like an exception (agents closed, their
    process groups ended): exit 143."""
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    """``cmd_run`` without the signal handling; a cold kernel cache is announced while it compiles."""
    from simcore._jit import cache_is_cold
    from simcore._startup import compile_notice, release_gc
    from simcore.agents.loading import AgentLoadError, load_agent, load_agents
    from simcore.api import simulation
    from simcore.scenario.errors import ScenarioError
    from simcore.scenario.openscenario import xosc_ignored, xosc_options

    if args.map is not None or args.scenario is None:
        return _run_quick_look(args)
    try:
        overrides = _parse_set(args.set or [])
        agents = load_agents(args.agent or ["autopilot"])
        agent = agents.pop("ego", None) or load_agent("autopilot")
        timing = {
            k: v
            for k, v in (
                ("control_latency_s", args.latency),
                ("compute_budget_s", args.budget),
                ("late_policy", args.late_policy),
            )
            if v is not None
        }
        t0 = time.perf_counter()
        ignored = xosc_ignored(args.scenario, args.ego, args.allow_partial, args.seed, args.variant)
        with xosc_options(args.ego, args.allow_partial), compile_notice(not args.quiet and cache_is_cold()):
            sim = simulation(
                args.scenario,
                agent,
                seed=args.seed,
                overrides=overrides,
                variant=args.variant,
                agents=agents,
                allow_paths=args.allow_path or (),
                **timing,
            )
            build_s = time.perf_counter() - t0
            compile_s = sim.prepare()
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    except (AgentLoadError, ValueError, FileNotFoundError) as exc:
        print(f"simcore run: {exc}", file=sys.stderr)
        return EXIT_INVALID
    out_dir = Path(args.out) if args.out else None
    log = None
    if out_dir is not None:  # run.mcap is written while the run goes (simcore.report.runlog)
        from simcore.agents.loading import split_role
        from simcore.report.runlog import RUN_MCAP, RunLogWriter

        run_info = {
            "scenario": args.scenario,
            "seed": args.seed,
            "overrides": overrides,
            "variant": args.variant,
            "allow_paths": [str(p) for p in args.allow_path or ()],
            "xosc_ego": args.ego,
            "allow_partial": args.allow_partial,
            "agents": dict(split_role(s) for s in args.agent or []),
        }
        run_info["agents"].setdefault("ego", "autopilot")
        log = RunLogWriter(out_dir / RUN_MCAP, sim.world, run_info=run_info, images=args.log_images).attach(sim)
    release_gc()  # the start-up is over (simcore._startup.hold_gc)
    try:
        res = sim.run(progress=not args.quiet and sys.stderr.isatty())
    except BaseException:
        if log is not None:  # interrupted: close the log so the rows so far stay readable
            log.finish()
        raise
    for issue in ignored:
        print(f"ignored    {issue}", file=sys.stderr)
    if out_dir is not None and log is not None:
        from simcore.report.outputs import write_run_outputs

        log.finish(res)
        write_run_outputs(sim.world, res, out_dir, progress=not args.quiet and sys.stderr.isatty())
    if not args.quiet:
        print(_format_summary(res, out_dir))
        print(f"start-up   load+build {build_s:.3f} s, kernels {compile_s:.3f} s (compiled once, then cached)")
    return EXIT_PASS if res.passed else EXIT_FAIL


def _run_quick_look(args: argparse.Namespace) -> int:
    """``simcore run --map FILE --traffic N [--seed S]``: the generated scenario, run like any other."""
    import tempfile

    from simcore.road.errors import MapError
    from simcore.scenario.traffic import quick_look_scenario

    if args.map is None or args.scenario is not None:
        print("simcore run: give a scenario, or --map FILE (not both)", file=sys.stderr)
        return EXIT_INVALID
    try:
        text = quick_look_scenario(args.map, max(args.traffic, 0), args.seed if args.seed is not None else 0)
    except MapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    with tempfile.TemporaryDirectory(prefix="simcore-quick-") as tmp:
        scenario = Path(tmp) / "quick_look.yaml"
        scenario.write_text(text)
        # The map named on the command line is allowed, as --allow-path DIR would allow it.
        args.allow_path = [*(args.allow_path or []), str(Path(args.map).resolve().parent)]
        args.scenario, args.map = str(scenario), None
        return cmd_run(args)


def _scenario_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = resolve_scenario(p)
        if path.is_dir():
            files += sorted([*path.rglob("*.yaml"), *path.rglob("*.xosc")])
        else:
            files.append(path)
    return files


def cmd_batch(args: argparse.Namespace) -> int:
    """Run every scenario x variant x agent; combined junit.xml, summary.json and leaderboard."""
    from simcore.batch.jobs import plan_jobs
    from simcore.batch.runner import BackendUnavailableError, execute

    agents = args.agent or ["autopilot"]
    variants: str | int = args.variants
    if variants != "all":
        try:
            variants = int(variants)
        except ValueError:
            print(f"simcore batch: --variants expects 'all' or a number, got {args.variants!r}", file=sys.stderr)
            return EXIT_INVALID
        if variants < 1:
            print("simcore batch: --variants must be at least 1", file=sys.stderr)
            return EXIT_INVALID
    counts = (("--workers", args.workers), ("--seeds", args.seeds))
    bad = [f"{n} must be at least 1" for n, v in counts if v is not None and v < 1]
    bad += ["--timeout-s must be positive"] if args.timeout_s is not None and not args.timeout_s > 0 else []
    if bad:
        print(f"simcore batch: {bad[0]}", file=sys.stderr)
        return EXIT_INVALID
    try:
        jobs, plan_errors = plan_jobs(args.paths, agents, variants, draws=args.draws, seed=args.seed, seeds=args.seeds)
    except FileNotFoundError as exc:
        print(f"simcore batch: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if not jobs and not plan_errors:
        print("simcore batch: no scenario files found", file=sys.stderr)
        return EXIT_INVALID
    if args.log:  # every run writes its run.mcap (simcore rescore / replay)
        import dataclasses

        jobs = [dataclasses.replace(j, log=True, log_images=args.log_images) for j in jobs]
    out = Path(args.out)
    if not args.quiet:
        print(f"batch      {len(jobs)} run(s): {len(agents)} agent(s) -> {out}", file=sys.stderr)
    try:
        outcome = execute(
            jobs,
            plan_errors,
            agents,
            out,
            workers=args.workers,
            backend=args.backend,
            address=args.address,
            pictures=not args.no_pictures,
            progress=not args.quiet and sys.stderr.isatty(),
            timeout_s=args.timeout_s,
        )
    except BackendUnavailableError as exc:
        print(f"simcore batch: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("simcore batch: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    if not args.quiet:
        c = outcome.counts
        print(
            f"batch      {c.get('pass', 0)} passed, {c.get('fail', 0)} failed, {c.get('error', 0)} error(s)"
            + "".join(f", {c[k]} {k}" for k in ("crashed", "timeout") if c.get(k))
            + "; "
            f"{outcome.ran} run now, {outcome.skipped} already done"
            + (f", {outcome.worker_deaths} retried after a worker died" if outcome.worker_deaths else "")
        )
        for e in outcome.entries:
            if e["status"] not in ("pass", "fail"):
                print(f"  {e['status']:6s} {e['dir']}: {e['error']}")
        print(f"written    {out / 'junit.xml'}, summary.json, results.sqlite, batch.html, leaderboard.html")
    return outcome.exit_code


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them."""
    from simcore.scenario.build import build_world
    from simcore.scenario.errors import ScenarioError
    from simcore.scenario.loader import load_scenario
    from simcore.scenario.openscenario import xosc_schema_issues
    from simcore.sensors.scenario_rig import rig_for_scenario

    bad = 0
    files = _scenario_files(args.paths)
    if not files:
        print("simcore validate: no scenario files found", file=sys.stderr)
        return EXIT_INVALID
    for f in files:
        try:
            xsd_issues = xosc_schema_issues(f)
            if xsd_issues:
                raise ScenarioError(xsd_issues)
            loaded = load_scenario(f, allow_paths=args.allow_path or ())
            rig_for_scenario(loaded, build_world(loaded))
        except ScenarioError as exc:
            bad += 1
            print(exc, file=sys.stderr)
            continue
        if not args.quiet:
            print(f"{f}: ok")
    if not args.quiet:
        print(f"{len(files) - bad} valid, {bad} invalid")
    return EXIT_INVALID if bad else EXIT_PASS


def cmd_list(args: argparse.Namespace) -> int:
    """List built-in scenarios and vehicles."""
    import yaml

    scen = catalog_dir("scenarios")
    print("scenarios:")
    for p in sorted(scen.rglob("*.yaml")):
        try:
            data = yaml.safe_load(p.read_text()) or {}
            desc = " ".join(str(data.get("description", "")).split())
        except yaml.YAMLError:
            desc = "(unreadable)"
        rel = p.relative_to(scen).as_posix()
        print(f"  {rel:44s} {desc[:100]}")
    print("vehicles:")
    for p in sorted(catalog_dir("vehicles").glob("*.yaml")):
        data = yaml.safe_load(p.read_text()) or {}
        print(f"  {p.stem:24s} {data.get('description', '')}")
    return EXIT_PASS


def cmd_expand(args: argparse.Namespace) -> int:
    """List the concrete variants of a scenario (sweeps x draws)."""
    import json

    from simcore.scenario.errors import ScenarioError
    from simcore.scenario.expand import expand

    path = resolve_scenario(args.scenario)
    try:
        variants = expand(path, draws=args.draws, seed=args.seed)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        rows = [{"variant": v.index, "seed": v.seed, "parameters": v.parameters} for v in variants]
        print(json.dumps({"scenario": str(path), "variants": rows}, indent=2))
        return EXIT_PASS
    names = list(variants[0].parameters) if variants else []
    print(f"{path}: {len(variants)} variant(s); run one with: simcore run {args.scenario} --variant K")
    print("  ".join(["variant", "seed", *names]))
    for v in variants:
        vals = [f"{x:.4g}" if isinstance(x, float) else str(x) for x in v.parameters.values()]
        print("  ".join([str(v.index), str(v.seed), *vals]))
    return EXIT_PASS


def cmd_schema(args: argparse.Namespace) -> int:
    """Print (or write) the JSON Schema of scenario files."""
    from simcore.scenario.json_schema import schema_text

    text = schema_text()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_PASS


def cmd_view(args: argparse.Namespace) -> int:
    """Write the browser viewer of a run log (run.mcap or its run folder) or of a scenario's initial scene."""
    from simcore.report.runlog import LogFormatError
    from simcore.report.viewer import write_view
    from simcore.scenario.errors import ScenarioError

    if not (args.html or args.gif or args.mp4):
        print("simcore view: give --html FILE, --gif FILE and/or --mp4 FILE", file=sys.stderr)
        return EXIT_INVALID
    written: list[Path] = []
    try:
        if args.html:
            written.append(write_view(args.source, Path(args.html)))
        if args.gif or args.mp4:
            from simcore.report.animate import write_gif, write_mp4
            from simcore.report.runlog import read_run_log

            log = read_run_log(args.source, images=False)
            if args.gif:
                written.append(write_gif(log, Path(args.gif)))
            if args.mp4:
                written.append(write_mp4(log, Path(args.mp4)))
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    except (LogFormatError, FileNotFoundError, ValueError) as exc:
        print(f"simcore view: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if not args.quiet:
        print("written    " + ", ".join(map(str, written)))
    return EXIT_PASS


def _one_per_specialisation() -> list[str]:
    """One built-in scenario for each set of optional stages (``Static.uses``) in the catalog: the
    specialisations of the compiled step a catalog scenario can need."""
    from simcore.api import simulation

    scen = catalog_dir("scenarios")
    chosen: dict[object, str] = {}
    for p in sorted(scen.rglob("*.yaml")):
        if "maps" not in p.relative_to(scen).parts:
            name = p.relative_to(scen).with_suffix("").as_posix()
            chosen.setdefault(simulation(name).static.uses, name)
    return list(chosen.values())


def cmd_warmup(args: argparse.Namespace) -> int:
    """Compile the kernels into the on-disk cache now (a container image's build step, a CI cache):
    one short run of each scenario compiles the engine; ``--gym`` also the gym's batch step."""
    from simcore._jit import cache_is_cold
    from simcore._startup import compile_notice
    from simcore.api import simulation
    from simcore.scenario.errors import ScenarioError

    t0 = time.perf_counter()
    cold = cache_is_cold()
    try:
        with compile_notice(not args.quiet):
            for name in args.scenarios or _one_per_specialisation():
                simulation(name).run()
            if args.gym:
                import numpy as np

                from simcore.gym import ENV_IDS, VectorSimcoreEnv

                env = VectorSimcoreEnv(next(iter(ENV_IDS.values())), 1)
                env.reset(seed=0)
                env.step(np.zeros((1, 2), dtype=np.float32))
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    except (FileNotFoundError, ValueError) as exc:
        print(f"simcore warmup: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if not args.quiet:
        from simcore import _jit

        state = "compiled" if cold else "already cached (recompiled what was missing)"
        where = _jit._cache_dir() if _jit._CACHE else "nowhere: SIMCORE_NO_CACHE is set"
        print(f"kernels    {state} in {time.perf_counter() - t0:.1f} s: {where}")
    return EXIT_PASS


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used for the docs)."""
    ap = argparse.ArgumentParser(prog="simcore", description="Scenario engine for testing driving agents.")
    ap.add_argument("--version", action="version", version=f"simcore {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario; exit 0 pass, 1 fail, 2 invalid input")
    r.add_argument(
        "scenario", nargs="?", help="scenario file, or a built-in name such as urban/signalized_intersection"
    )
    r.add_argument("--map", metavar="FILE", help="no scenario: an autopilot ego on a random route on this map")
    r.add_argument("--traffic", type=int, default=0, metavar="N", help="with --map: N traffic vehicles")
    r.add_argument(
        "--agent",
        action="append",
        metavar="[ROLE=]SPEC",
        help="autopilot (default) | idle | replay:LOG.csv | exec:COMMAND | module:Class | file.py:Class; "
        "ROLE=SPEC drives the vehicle actor ROLE (repeatable; docs/agent-protocol.md)",
    )
    r.add_argument("--latency", type=float, default=None, metavar="S", help="control latency (s)")
    r.add_argument("--budget", type=float, default=None, metavar="S", help="agent compute budget per step (s)")
    r.add_argument("--late-policy", choices=("hold", "brake"), default=None, help="late or missing control")
    r.add_argument("--seed", type=_seed, default=None, help="override the scenario's seed")
    r.add_argument("--set", action="append", metavar="NAME=VALUE", help="set a scenario parameter")
    r.add_argument("--variant", type=int, default=0, metavar="K", help="which variant (see simcore expand)")
    r.add_argument(
        "--out", metavar="DIR", help="write DIR/result.json, junit.xml, report.html, topdown.png and run.mcap"
    )
    r.add_argument("--quiet", action="store_true", help="print nothing; use the exit code")
    r.add_argument("--log-images", action="store_true", help="with --out: camera images in run.mcap too (big)")
    r.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let referenced files (maps, logs, rigs) come from DIR too, not only the scenario's folder (repeatable)",
    )
    r.add_argument("--ego", metavar="NAME", help="OpenSCENARIO: the entity the agent drives (default Ego/hero/first)")
    r.add_argument("--allow-partial", action="store_true", help="OpenSCENARIO: run without unsupported elements")
    r.set_defaults(func=cmd_run)
    from simcore.scenario.openscenario.convert import add_convert_command

    add_convert_command(sub)
    b = sub.add_parser("batch", help="run scenarios x variants x agents in parallel; exit 0 pass, 1 fail, 2 error")
    b.add_argument("paths", nargs="+", metavar="FILES_OR_DIRS", help="scenario files or folders (searched for *.yaml)")
    b.add_argument("--agent", action="append", metavar="SPEC", help="agent spec; repeat to compare agents")
    b.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    b.add_argument("--backend", choices=("local", "ray"), default="local", help="local process pool or Ray tasks")
    b.add_argument("--address", default=None, help="Ray cluster address (default: start or join a local one)")
    b.add_argument("--variants", default="all", metavar="all|N", help="every variant, or the first N of each")
    b.add_argument("--draws", type=int, default=1, help="random draws per sweep combination")
    b.add_argument("--seed", type=_seed, default=None, help="override every scenario's seed")
    b.add_argument("--seeds", type=int, default=1, metavar="N", help="run each variant with N seeds (S..S+N-1)")
    b.add_argument("--timeout-s", type=float, default=None, metavar="S", help="wall-clock limit per run")
    b.add_argument("--no-pictures", action="store_true", help="skip report.html and topdown.png per run")
    b.add_argument("--log", action="store_true", help="write each run's run.mcap too (simcore rescore / replay)")
    b.add_argument("--log-images", action="store_true", help="with --log: camera images in run.mcap too (big)")
    b.add_argument("--out", required=True, metavar="DIR", help="output folder; a rerun skips finished runs")
    b.add_argument("--quiet", action="store_true", help="print nothing; use the exit code")
    b.set_defaults(func=cmd_batch)
    v = sub.add_parser("validate", help="check scenario files (file:line:col errors); exit 0 or 2")
    v.add_argument("paths", nargs="+", help="files or folders")
    v.add_argument("--quiet", action="store_true")
    v.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let referenced files (maps, logs, rigs) come from DIR too, not only the scenario's folder (repeatable)",
    )
    v.set_defaults(func=cmd_validate)
    ls = sub.add_parser("list", help="built-in scenarios and vehicles")
    ls.set_defaults(func=cmd_list)
    ex = sub.add_parser("expand", help="list a scenario's variants (sweeps x draws) with their seeds")
    ex.add_argument("scenario")
    ex.add_argument("--draws", type=int, default=1, help="random draws per sweep combination")
    ex.add_argument("--seed", type=_seed, default=None)
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=cmd_expand)
    sc = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    sc.add_argument("--out", metavar="FILE")
    sc.set_defaults(func=cmd_schema)
    vw = sub.add_parser(
        "view", help="browser viewer (one HTML file) or animation of a run log; a scenario's initial scene"
    )
    vw.add_argument("source", help="run.mcap, a run's --out folder, or a scenario file / built-in name")
    vw.add_argument("--html", metavar="FILE", help="write the viewer: one self-contained HTML file")
    vw.add_argument("--gif", metavar="FILE", help="write a top-down animation (run logs only)")
    vw.add_argument("--mp4", metavar="FILE", help="write it as MP4 (needs the video extra: imageio-ffmpeg)")
    vw.add_argument("--quiet", action="store_true")
    vw.set_defaults(func=cmd_view)
    wu = sub.add_parser("warmup", help="compile the kernels into the on-disk cache now (images, CI caches)")
    wu.add_argument("scenarios", nargs="*", help="scenarios to run once (default: one per stage set in the catalog)")
    wu.add_argument("--gym", action="store_true", help="also compile the gym's vectorised step")
    wu.add_argument("--quiet", action="store_true")
    wu.set_defaults(func=cmd_warmup)
    from simcore.batch.cli_cmds import add_batch_commands
    from simcore.map_cli import add_map_commands

    add_batch_commands(sub)
    add_map_commands(sub)
    _add_replay_commands(sub)
    from simcore.drive.command import add_parser as add_drive_command

    add_drive_command(sub)
    from simcore.server.daemon import add_server_commands

    add_server_commands(sub, main, build_parser)
    return ap


def _cmd_rescore(args: argparse.Namespace) -> int:
    from simcore.replay import cmd_rescore

    return cmd_rescore(args)


def _cmd_replay(args: argparse.Namespace) -> int:
    from simcore.replay import cmd_replay

    return cmd_replay(args)


def _add_replay_commands(sub: Any) -> None:
    """Register ``rescore`` and ``replay`` with the CLI's sub-parsers."""
    rs = sub.add_parser("rescore", help="recompute scores and verdicts of logged runs; exit 0 pass, 1 fail, 2 bad log")
    rs.add_argument("logs", nargs="+", metavar="LOG", help="run.mcap files or run folders")
    rs.add_argument("--out", metavar="DIR", help="write result.json, junit.xml, report.html per run here")
    rs.add_argument("--quiet", action="store_true")
    rs.set_defaults(func=_cmd_rescore)
    rp = sub.add_parser("replay", help="restore a logged run at a step and continue it, e.g. with another agent")
    rp.add_argument("log", metavar="LOG", help="run.mcap or its run folder")
    rp.add_argument("--at", required=True, metavar="STEP|Ts", help="step number, or time in s (e.g. 12.5s)")
    rp.add_argument("--agent", action="append", metavar="[ROLE=]SPEC", help="agent from there on (default: logged)")
    rp.add_argument("--out", metavar="DIR", help="write run.mcap, result.json, junit.xml, report.html here")
    rp.add_argument("--quiet", action="store_true")
    rp.set_defaults(func=_cmd_replay)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simcore`` console script. As the process's entry point, a command the
    warm server serves goes to a live server of this install if there is one (docs/server.md)."""
    if argv is None:
        from simcore.server.client import forward  # the standard library only

        served = forward(sys.argv[1:])
        if served is not None:
            return served
    args = build_parser().parse_args(argv)
    if argv is None and args.func is cmd_run:  # this process is one run: no collections while it starts
        from simcore._startup import hold_gc

        hold_gc()
    code = int(args.func(args))
    if argv is None and args.func is cmd_run:  # the process is this run: skip the interpreter's teardown
        from simcore._startup import exit_now

        exit_now(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
