"""Start-up time of the ``simcore`` command: cold (empty kernel cache) and warm, wall and CPU.

    python tools/bench/startup.py [--quick] [--json FILE] [--scenario S ...] [--repeats N] [--baseline DIR]
    python tools/bench/startup.py --phases [--scenario S ...] [--repeats N] [--baseline DIR] [--json FILE]
    python tools/bench/startup.py --profile [--scenario S] [--top N] [--json FILE]

Each command runs in a fresh process (``python -m simcore ...``); a row gives the median over
``--repeats`` runs of the wall time and of the CPU time (user + system, from the children's
resource usage) of that process. Cold: every run gets its own empty ``NUMBA_CACHE_DIR``, so
``simcore run`` compiles every kernel it needs (a minute of CPU or more; run once, and left
out with ``--quick``). Warm: this shell's kernel cache (``NUMBA_CACHE_DIR`` or the user cache);
one untimed run fills it if needed, then the timed runs load from it. Side by side, the
floors any Python CLI built on these libraries pays:
``python -c pass``, ``import numpy`` and ``import numba`` (the warm run needs Numba to load
its cached kernels).

``--baseline DIR``: another simcore source tree (say ``git worktree add /tmp/base main``) whose warm
runs alternate with this tree's, run for run, so both see the same machine load (the shared
machine's load moves CPU times by 10-20 %); each tree keeps its own cached kernels (Numba's cache
is per source path), so the first run of each fills it. ``--scenario`` may be given several times
and each warm ``simcore run`` row has an ``--out DIR`` twin (result, report, picture, run log).

``--phases``: the CPU time of one warm ``simcore run`` split by phase, median over ``--repeats``
fresh processes (``_startup_phases.py``): the imports of NumPy, Numba, pydantic, the scenario
schema and the rest of the run path; loading and validating the scenario; building the world;
``Simulation()`` and ``prepare()``; Numba's context refresh and its cache loads (with the number of
kernels loaded); the run; the outputs of ``--out``.

``--server``: the same warm runs through the warm server (``simcore server start``, docs/server.md)
in a temporary folder: per row the wall time and CPU of the command's process (the client), the CPU
of the server's child that ran it (the server's children CPU before and after) and their sum; the
first run of each row is untimed (the server loads the kernels it saw the child load).

``--profile``: one cold run of ``--scenario`` in a child process (``_compile_profile.py``) that
attributes the CPU time of the first run to each compiled kernel and to the phase of Numba's
compilation it went to: type inference, lowering (Numba IR -> LLVM IR, in Python), wrappers (the
lowering and LLVM function passes of the Python-call and C-call wrapper of each function), LLVM function
passes (each new function optimised alone), LLVM module passes (the kernel's module with every
callee linked in, optimised as a whole), machine code, cache write. A phase's time excludes the
kernels compiled inside it. Set ``NUMBA_OPT`` to compare optimisation levels.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json

DEFAULT_SCENARIO = "urban/cut_in"
SERVED_COLUMNS = ("client_cpu_s", "child_cpu_s")


def _run_once(argv: list[str], cache: str | None, tree: str | None = None) -> tuple[float, float, int]:
    """(wall s, CPU s, exit code) of one child process with NUMBA_CACHE_DIR=``cache`` (None: as set here),
    importing simcore from the source tree ``tree`` (None: as set here; the child also runs in that
    folder, as ``python -m`` and ``-c`` put the working folder first on the import path)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache} if cache else dict(os.environ)
    env["SIMCORE_NO_SERVER"] = "1"  # in-process (the --server rows go through a server)
    if tree:
        env["PYTHONPATH"] = tree
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):  # 1 is a scenario verdict FAIL, still a full run
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, cpu, proc.returncode


def _median_runs(argv: list[str], repeats: int, cache_for_run) -> dict[str, float]:
    walls, cpus = [], []
    for k in range(repeats):
        wall, cpu, _ = _run_once(argv, cache_for_run(k))
        walls.append(wall)
        cpus.append(cpu)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus), "runs": repeats}


PHASES = (
    "typing", "lowering", "wrappers", "llvm_function_passes", "llvm_module_passes", "machine_code", "cache_write",
    "other",
)  # fmt: skip


def profile(scenario: str, top: int, json_path: str | None) -> None:
    """Cold first run of ``scenario`` with the compile time split by kernel and phase (module docstring)."""
    import json
    from collections import defaultdict

    with tempfile.TemporaryDirectory(prefix="simcore-profile-") as tmp:
        out = Path(tmp) / "profile.json"
        child = [sys.executable, str(Path(__file__).with_name("_compile_profile.py")), str(out), scenario]
        print(f"cold run of {scenario} (compiles every kernel it needs) ...", file=sys.stderr, flush=True)
        wall, cpu, _ = _run_once(child, str(Path(tmp) / "cache"))
        data = json.loads(out.read_text())
    per: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(PHASES, 0.0))
    for r in data["rows"]:
        phase = r["phase"] if r["phase"] in PHASES else "other"
        per[r["kernel"]][phase] += r["cpu_s"]
    totals = {p: sum(v[p] for v in per.values()) for p in PHASES}
    rows = [
        {"kernel": k, **{p: round(v[p], 2) for p in PHASES}, "total": round(sum(v.values()), 2),
         "compiles": data["compiles"].get(k, 0)}
        for k, v in sorted(per.items(), key=lambda kv: -sum(kv[1].values()))[:top]
    ]  # fmt: skip
    rows.append({"kernel": "ALL", **{p: round(totals[p], 2) for p in PHASES}, "total": round(sum(totals.values()), 2),
                 "compiles": sum(data["compiles"].values())})  # fmt: skip
    print_table(
        f"Cold first run of {scenario}: CPU s by kernel and compile phase (process CPU {cpu:.1f} s, wall {wall:.0f} s, "
        f"NUMBA_OPT={os.environ.get('NUMBA_OPT', 'default')})",
        rows,
        ["kernel", *PHASES, "total", "compiles"],
    )
    specs = data.get("specialisations", {})
    multi = sorted(((len(v), k) for k, v in specs.items() if len(v) > 1), reverse=True)
    print(f"{sum(len(v) for v in specs.values())} specialisations of {len(specs)} dispatchers; several: "
          + (", ".join(f"{k} x{n}" for n, k in multi) or "none"))  # fmt: skip
    write_json(json_path, "startup_profile", rows,
               {"scenario": scenario, "cpu_s": cpu, "wall_s": wall, "specialisations": specs})  # fmt: skip


def _interleaved(argvs: dict[str, tuple[list[str], str | None]], repeats: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU per label of ``argvs`` (label -> (argv, tree)), the runs of all labels
    alternating (one of each, ``repeats`` times) after one untimed run of each (fills caches)."""
    for argv, tree in argvs.values():
        _run_once(argv, None, tree)
    walls: dict[str, list[float]] = {k: [] for k in argvs}
    cpus: dict[str, list[float]] = {k: [] for k in argvs}
    for _ in range(repeats):
        for label, (argv, tree) in argvs.items():
            wall, cpu, _ = _run_once(argv, None, tree)
            walls[label].append(wall)
            cpus[label].append(cpu)
    return {
        k: {"wall_s": statistics.median(walls[k]), "cpu_s": statistics.median(cpus[k]), "runs": repeats} for k in argvs
    }


def _trees(baseline: str | None) -> dict[str, str | None]:
    here = str(Path(__file__).resolve().parents[2])
    return {"this": here, **({"baseline": str(Path(baseline).resolve())} if baseline else {})}


def phases(scenarios: list[str], repeats: int, baseline: str | None, json_path: str | None) -> None:
    """Median CPU per phase of warm ``simcore run`` (module docstring), this tree beside ``baseline``."""
    import json

    child = str(Path(__file__).with_name("_startup_phases.py"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="simcore-phases-") as tmp:
        for scenario in scenarios:
            for out in (False, True):
                per: dict[str, list[dict]] = {t: [] for t in _trees(baseline)}
                for k in range(repeats + 1):  # the first run of each tree fills its cache, untimed
                    for tree, src in _trees(baseline).items():
                        doc = Path(tmp) / "phases.json"
                        extra = ["--out", str(Path(tmp) / f"out-{tree}-{k}")] if out else []
                        _run_once([sys.executable, child, str(doc), scenario, *extra], None, src)
                        if k:
                            per[tree].append(json.loads(doc.read_text()))
                names = list(dict.fromkeys(n for docs in per.values() for d in docs for n in d["phases"]))
                label = f"{scenario}{' --out' if out else ''}"
                for name in [*names, "TOTAL", "kernels loaded"]:
                    row: dict[str, object] = {"run": label, "phase": name}
                    for tree, docs in per.items():
                        vals = [
                            d["total_cpu_s"] if name == "TOTAL" else
                            d["kernels_loaded"] if name == "kernels loaded" else d["phases"].get(name, 0.0)
                            for d in docs
                        ]  # fmt: skip
                        med = statistics.median(vals)
                        row[tree] = med if name == "kernels loaded" else round(med * 1000, 1)
                    rows.append(row)
    print_table(
        f"Warm simcore run, CPU ms by phase (median of {repeats} fresh processes per tree; runs alternate; "
        f"load average {os.getloadavg()[0]:.1f} at the end)",
        rows,
        ["run", "phase", *_trees(baseline)],
    )
    write_json(json_path, "startup_phases", rows, {"scenarios": scenarios, "repeats": repeats, "baseline": baseline})


def _server_status(env: dict[str, str]) -> dict:
    import json

    out = subprocess.run(
        [sys.executable, "-m", "simcore", "server", "status", "--json"], env=env, capture_output=True, text=True
    )
    return json.loads(out.stdout) if out.returncode == 0 else {}


def served(scenarios: list[str], repeats: int, tmp: str) -> list[dict]:
    """Warm ``simcore run`` rows through a server of this tree (module docstring, ``--server``)."""
    import shutil

    folder = tempfile.mkdtemp(prefix="sc-bench-", dir="/tmp")
    env = {**os.environ, "SIMCORE_SERVER_DIR": folder}
    env.pop("SIMCORE_NO_SERVER", None)
    here = _trees(None)["this"]
    rows = []
    try:
        subprocess.run([sys.executable, "-m", "simcore", "server", "start"], env=env, cwd=here, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        for scenario in scenarios:
            for out in (False, True):
                name = f"simcore run {scenario}{' --out' if out else ''}"
                extra = ["--out", str(Path(tmp) / "out-served")] if out else []
                argv = [sys.executable, "-m", "simcore", "run", "--quiet", scenario, *extra]
                print(f"{name}: through the server x{repeats} ...", file=sys.stderr, flush=True)
                subprocess.run(argv, env=env, cwd=here, stdout=subprocess.DEVNULL)  # untimed: kernels
                time.sleep(1.0)  # the server loads them while idle
                walls, clients, childs, totals = [], [], [], []
                for _ in range(repeats):
                    before = _server_status(env)
                    before_rusage = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    proc = subprocess.run(argv, env=env, cwd=here, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    wall = time.perf_counter() - t0
                    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
                    after = _server_status(env)
                    if proc.returncode not in (0, 1) or after.get("requests") != before.get("requests", -1) + 1:
                        raise RuntimeError(f"{name}: not answered by the server: {proc.stderr[-2000:]!r}")
                    client = (ru.ru_utime - before_rusage.ru_utime) + (ru.ru_stime - before_rusage.ru_stime)
                    child = after["children_cpu_s"] - before["children_cpu_s"]
                    walls.append(wall)
                    clients.append(client)
                    childs.append(child)
                    totals.append(client + child)
                med = statistics.median
                rows.append({"command": name, "cache": "warm", "tree": "server", "wall_s": med(walls),
                             "cpu_s": med(totals), "client_cpu_s": med(clients), "child_cpu_s": med(childs),
                             "runs": repeats})  # fmt: skip
    finally:
        subprocess.run([sys.executable, "-m", "simcore", "server", "stop"], env=env, cwd=here,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="warm runs and cold --help/validate only (no cold compile)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--scenario", action="append", help="catalog name or file for run/validate (repeatable)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per row (median)")
    ap.add_argument("--baseline", metavar="DIR", help="another simcore tree, timed alternately beside this one")
    ap.add_argument("--phases", action="store_true", help="warm run CPU split by phase")
    ap.add_argument("--profile", action="store_true", help="one cold run, compile CPU by kernel and phase")
    ap.add_argument("--server", action="store_true", help="also the warm runs through the warm server")
    ap.add_argument("--warm-only", action="store_true", help="only the warm simcore run rows")
    ap.add_argument("--top", type=int, default=25, help="--profile: kernels listed (the rest are in ALL)")
    args = ap.parse_args()
    scenarios = args.scenario or [DEFAULT_SCENARIO]
    if args.profile:
        profile(scenarios[0], args.top, args.json)
        return
    if args.phases:
        phases(scenarios, args.repeats, args.baseline, args.json)
        return
    py = sys.executable
    trees = _trees(args.baseline)
    rows = []
    with tempfile.TemporaryDirectory(prefix="simcore-startup-") as tmp:

        def fresh(k: int, label: str) -> str:
            return str(Path(tmp) / f"cold-{label}-{k}")

        commands = {
            "simcore --help": [py, "-m", "simcore", "--help"],
            "simcore validate": [py, "-m", "simcore", "validate", "--quiet", scenarios[0]],
        }
        for name, argv in commands.items() if not args.warm_only else ():  # cold == warm (they compile nothing)
            print(f"{name}: x{args.repeats} ...", file=sys.stderr, flush=True)
            cold = _median_runs(argv, args.repeats, lambda k, n=name: fresh(k, n.split()[-1].strip("-")))
            rows.append({"command": name, "cache": "cold", "tree": "this", **cold})
        if not args.quick and not args.warm_only:
            argv = [py, "-m", "simcore", "run", "--quiet", scenarios[0]]
            print("simcore run: cold x1 ...", file=sys.stderr, flush=True)
            rows.append(
                {
                    "command": "simcore run",
                    "cache": "cold",
                    "tree": "this",
                    **_median_runs(argv, 1, lambda k: fresh(k, "run")),
                }
            )
        for scenario in scenarios:
            for out in (False, True):
                name = f"simcore run {scenario}{' --out' if out else ''}"
                extra = ["--out", str(Path(tmp) / "out")] if out else []
                print(f"{name}: warm x{args.repeats} per tree ...", file=sys.stderr, flush=True)
                argvs = {
                    t: ([py, "-m", "simcore", "run", "--quiet", scenario, *extra], src) for t, src in trees.items()
                }
                for tree, res in _interleaved(argvs, args.repeats).items():
                    rows.append({"command": name, "cache": "warm", "tree": tree, **res})
        if args.server:
            rows += served(scenarios, args.repeats, tmp)
        floors = {
            "python -c pass": [py, "-c", "pass"],
            "python -c 'import numpy'": [py, "-c", "import numpy"],
            "python -c 'import numba'": [py, "-c", "import numba"],
        }
        for name, argv in floors.items() if not args.warm_only else ():
            rows.append(
                {"command": name, "cache": "-", "tree": "-", **_median_runs(argv, args.repeats, lambda k: None)}
            )
    print_table(
        f"Start-up of simcore (median of {args.repeats} fresh processes; CPU = user + system; "
        f"load average {os.getloadavg()[0]:.1f} at the end)",
        rows,
        ["command", "cache", "tree", "wall_s", "cpu_s", *SERVED_COLUMNS[: 2 * args.server], "runs"],
    )
    write_json(args.json, "startup", rows, {"scenarios": scenarios, "quick": args.quick, "baseline": args.baseline})


if __name__ == "__main__":
    main()
