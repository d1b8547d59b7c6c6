"""Start-up time of the ``simcore`` command: cold (empty kernel cache) and warm, wall and CPU.

    python tools/bench/startup.py [--quick] [--json FILE] [--scenario S] [--repeats N]
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

``--profile``: one cold run of ``--scenario`` in a child process (``_compile_profile.py``) that
attributes the CPU time of the first run to each compiled kernel and to the phase of Numba's
compilation it went to: type inference, lowering (Numba IR -> LLVM IR, in Python), LLVM function
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


def _run_once(argv: list[str], cache: str | None) -> tuple[float, float, int]:
    """(wall s, CPU s, exit code) of one child process with NUMBA_CACHE_DIR=``cache`` (None: as set here)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache} if cache else dict(os.environ)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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


PHASES = ("typing", "lowering", "llvm_function_passes", "llvm_module_passes", "machine_code", "cache_write", "other")


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
    write_json(json_path, "startup_profile", rows, {"scenario": scenario, "cpu_s": cpu, "wall_s": wall})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="warm runs and cold --help/validate only (no cold compile)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--scenario", default=DEFAULT_SCENARIO, help="catalog name or file for run/validate")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per row (median)")
    ap.add_argument("--profile", action="store_true", help="one cold run, compile CPU by kernel and phase")
    ap.add_argument("--top", type=int, default=25, help="--profile: kernels listed (the rest are in ALL)")
    args = ap.parse_args()
    if args.profile:
        profile(args.scenario, args.top, args.json)
        return
    py = sys.executable
    commands = {
        "simcore --help": [py, "-m", "simcore", "--help"],
        "simcore validate": [py, "-m", "simcore", "validate", "--quiet", args.scenario],
        "simcore run": [py, "-m", "simcore", "run", "--quiet", args.scenario],
    }
    floors = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import numpy'": [py, "-c", "import numpy"],
        "python -c 'import numba'": [py, "-c", "import numba"],
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="simcore-startup-") as tmp:
        warm_cache = None

        def fresh(k: int, label: str) -> str:
            return str(Path(tmp) / f"cold-{label}-{k}")

        for name, argv in commands.items():
            cold_reps = 0 if (args.quick and name == "simcore run") else (1 if name == "simcore run" else args.repeats)
            if cold_reps:
                print(f"{name}: cold x{cold_reps} ...", file=sys.stderr, flush=True)
                cold = _median_runs(argv, cold_reps, lambda k, n=name: fresh(k, n.split()[-1].strip("-")))
                rows.append({"command": name, "cache": "cold", **cold})
            else:
                rows.append({"command": name, "cache": "cold", "wall_s": "skipped (--quick)", "cpu_s": "", "runs": 0})
            print(f"{name}: warm x{args.repeats} ...", file=sys.stderr, flush=True)
            _run_once(argv, warm_cache)  # fills the cache (compiles on the first command that needs it)
            rows.append({"command": name, "cache": "warm", **_median_runs(argv, args.repeats, lambda k: warm_cache)})
        for name, argv in floors.items():
            rows.append({"command": name, "cache": "-", **_median_runs(argv, args.repeats, lambda k: warm_cache)})
    print_table(
        f"Start-up of simcore (scenario {args.scenario}; median of {args.repeats} fresh processes; "
        "CPU = user + system)",
        rows,
        ["command", "cache", "wall_s", "cpu_s", "runs"],
    )
    write_json(args.json, "startup", rows, {"scenario": args.scenario, "quick": args.quick})


if __name__ == "__main__":
    main()
