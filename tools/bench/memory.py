"""Peak memory of long runs: the 571-actor dense city grid for 10 vs 60 simulated minutes,
without and with the report files (``--out``).

    python tools/bench/memory.py [--quick] [--json FILE] [--baseline SRC_DIR]

Each configuration runs ``simcore run`` in a fresh process (the ego does not end the run at
its goal: ``end: {timeout_s: T, ego_reaches_goal: false}``) and reports that process's peak
resident memory (``wait4`` rusage, MiB) and wall time. ``--baseline SRC_DIR`` runs the same
configurations with another source tree first on PYTHONPATH (e.g. the main branch) side by side.
``--quick``: 1 vs 6 simulated minutes. The recorder streams to disk (``simcore/record``), so
peak memory should not grow with the simulated time; see docs/limits.md for the numbers.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "urban" / "dense_city_grid.yaml"


def scenario_for(minutes: float, folder: Path) -> Path:
    """A copy of the dense grid that runs ``minutes`` of simulated time."""
    text = SCENARIO.read_text()
    text = re.sub(r"^end: .*$", f"end: {{timeout_s: {minutes * 60:g}, ego_reaches_goal: false}}", text, flags=re.M)
    path = folder / f"dense_{minutes:g}min.yaml"
    path.write_text(text)
    return path


def peak_run(src: Path, scenario: Path, out: Path | None) -> tuple[float, float]:
    """(peak RSS MiB, wall s) of ``simcore run`` with ``src`` first on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "simcore", "run", str(scenario), "--quiet"] + (["--out", str(out)] if out else [])
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    return usage.ru_maxrss / 1024.0, wall  # Linux: ru_maxrss in KiB


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 vs 6 simulated minutes")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--baseline", metavar="SRC_DIR", help="another source tree to compare (e.g. /work/main)")
    ap.add_argument("--minutes", type=float, nargs="+", default=None, help="simulated minutes (default 10 60)")
    args = ap.parse_args()
    minutes = args.minutes or ([1.0, 6.0] if args.quick else [10.0, 60.0])
    trees = [("this tree", ROOT)] + ([("baseline", Path(args.baseline))] if args.baseline else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, src in trees:
            for m in minutes:
                scen = scenario_for(m, folder)
                for outputs in (False, True):
                    out = folder / f"out_{label.replace(' ', '_')}_{m:g}" if outputs else None
                    rss, wall = peak_run(src, scen, out)
                    rows.append({"engine": label, "sim_min": m, "outputs": outputs, "peak_MiB": rss, "wall_s": wall})
                    print(f"  {label}: {m:g} min, outputs={outputs}: {rss:.0f} MiB, {wall:.1f} s", flush=True)
    print_table("Peak RSS of simcore run, dense city grid (571 actors)", rows, list(rows[0]))
    write_json(args.json, "memory", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
