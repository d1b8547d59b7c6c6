"""CI at scale: batch throughput, scheduling overhead, a killed worker's cost, search vs random sampling.

    python tools/bench/ci_scale.py [--quick] [--ray] [--json FILE] [--only-killed] [--runs N]

Throughput: N short variants (tests/data/sweep.yaml cut to 2 s simulated, N = 1000, 40 with
--quick; autopilot in-engine, no pictures), side by side: the jobs one after another in this
process (no scheduling at all; the first 200), simcore's pool with 1 and 2 workers, a plain
``concurrent.futures.ProcessPoolExecutor`` with 2 workers (the peer), and Ray (2 CPUs, a local
cluster started in this process; full run or --ray). Scheduling overhead per run = wall time x
workers / N - the mean time of a job inside its worker (``job_wall_s``: build, run, outputs), so
it holds worker start-up, IPC, waiting and result handling, measured in the same run.

Killed worker: the same batch (60 jobs, 20 with --quick, or --runs N; 2 workers) with and without one job
whose agent kills its own worker (``tests/batch/batch_agents.py``: KillOnce by ``os._exit``, SigkillOnce
by SIGKILL), with this pool and with the runner
before it (commit 3dc0411, read from git: a broken ProcessPoolExecutor, every lost job rerun
in a process of its own).

Search: tests/data/ccrs_late_brake.yaml with the speed range cut to 10..46 km/h, so the planted
failure (LateBraker collides above 41.0-43.2 km/h, closed form) covers about a tenth of the
range; runs until the first failure for CMA-ES and for uniform random sampling with the same
budget, over several sampler seeds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _report import print_table, write_json

from simcore.batch.jobs import plan_jobs, run_job
from simcore.batch.pool import LocalPool
from simcore.batch.runner import run_ray
from simcore.batch.search import search

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "tests" / "data" / "sweep.yaml"
CCRS = ROOT / "tests" / "data" / "ccrs_late_brake.yaml"
AGENTS = ROOT / "tests" / "batch" / "batch_agents.py"
#: Runs of the in-process baseline (the per-run cost without any scheduling).
SERIAL_RUNS = 200


def short_scenario(folder: Path) -> Path:
    """sweep.yaml with 2 s simulated instead of 5."""
    p = folder / "short.yaml"
    p.write_text(SWEEP.read_text().replace("end: {timeout_s: 5}", "end: {timeout_s: 2}"))
    return p


def _jobs(scn: Path, n: int, agents: list[str] | None = None) -> list:
    jobs, errors = plan_jobs([str(scn)], agents or ["autopilot"], n, draws=n // 6 + 1)
    assert not errors and len(jobs) >= n
    return jobs[: n * len(agents or ["x"])]


def throughput(folder: Path, n: int, with_ray: bool) -> list[dict]:
    """Runs per second of N short variants by each way of running them, and the scheduling overhead
    per run: wall time x workers / N minus the mean time of a job inside its worker (``job_wall_s``)."""
    scn = short_scenario(folder)
    jobs = _jobs(scn, n)
    rows = []
    out = folder / "serial"
    run_job(jobs[0], str(out), False)  # load the kernels in this process first
    some = jobs[: min(n, SERIAL_RUNS)]
    t0 = time.perf_counter()
    entries = [run_job(j, str(out), False) for j in some]
    rows.append(_row(f"in-process, one after another ({len(some)} runs)", 1, time.perf_counter() - t0, entries))
    for w in (1, 2):
        got: list[dict] = []
        with LocalPool(w, pictures=False) as pool:
            t0 = time.perf_counter()
            pool.run(jobs, folder / f"pool{w}", lambda j, e, got=got: got.append(e))
            wall = time.perf_counter() - t0
        rows.append(_row(f"simcore pool ({w} worker{'s' * (w > 1)})", w, wall, got))
    with ProcessPoolExecutor(2) as ex:
        t0 = time.perf_counter()
        got = list(ex.map(run_job, jobs, [str(folder / "ppe")] * n, [False] * n, chunksize=1))
        wall = time.perf_counter() - t0
    rows.append(_row("ProcessPoolExecutor (peer)", 2, wall, got))
    if with_ray:
        import ray

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            run_ray(jobs[:4], folder / "raywarm", pictures=False, done=lambda j, e: None)  # start + load kernels
            got = []
            t0 = time.perf_counter()
            run_ray(jobs, folder / "ray", pictures=False, done=lambda j, e: got.append(e))
            wall = time.perf_counter() - t0
        finally:
            ray.shutdown()
        rows.append(_row("Ray, local cluster (2 CPUs)", 2, wall, got))
    return rows


def _row(way: str, workers: int, wall: float, entries: list[dict]) -> dict:
    n = len(entries)
    job = statistics.fmean(e["job_wall_s"] for e in entries)
    return {
        "way": way,
        "workers": workers,
        "runs": n,
        "runs/s": n / wall,
        "job ms (in worker)": 1000 * job,
        "overhead ms/run": 1000 * (wall * workers / n - job),
    }


#: The commit before this pool: its runner reran every job lost with a broken ProcessPoolExecutor.
OLD_RUNNER_COMMIT = "3dc0411"


def _old_run_local() -> object | None:
    """``run_local`` of the runner at OLD_RUNNER_COMMIT (from git), or None where git cannot show it."""
    try:
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{OLD_RUNNER_COMMIT}:simcore/batch/runner.py"],
                             capture_output=True, text=True, check=True, timeout=20).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    mod = types.ModuleType("old_batch_runner")
    sys.modules[mod.__name__] = mod  # its dataclasses look their module up
    exec(compile(src, "old_batch_runner.py", "exec"), mod.__dict__)  # our own file at an older commit
    return mod.run_local


def killed_worker(folder: Path, n: int) -> list[dict]:
    """Wall time of a 2-worker batch with and without one job that kills its worker, ours and the old runner."""
    scn = short_scenario(folder)
    old = _old_run_local()
    rows = []
    for runner in ("simcore pool", "old runner (ProcessPoolExecutor)"):
        if runner.startswith("old") and old is None:
            continue
        base = None
        for label, extra in (("none", None), ("one (os._exit)", "KillOnce"), ("one (SIGKILL)", "SigkillOnce")):
            marks = folder / f"marks-{runner[:3]}-{label[:9]}"
            marks.mkdir()
            os.environ["SIMCORE_TEST_KILL_DIR"] = str(marks)
            jobs = _jobs(scn, n)
            if extra:
                jobs[n // 2] = _jobs(scn, n, [f"{AGENTS}:{extra}"])[n // 2]
            dest = folder / f"kill-{runner[:3]}-{label[:9]}"
            t0 = time.perf_counter()
            if runner.startswith("old"):
                deaths = old(jobs, dest, workers=2, pictures=False, done=lambda j, e: None)
            else:
                with LocalPool(2, pictures=False) as pool:
                    deaths = pool.run(jobs, dest, lambda j, e: None)
            wall = time.perf_counter() - t0
            base = base or wall
            rows.append({"runner": runner, "killed workers": label, "runs": n, "jobs rerun": deaths, "wall s": wall,
                         "x none": wall / base})  # fmt: skip
    return rows


def search_vs_random(folder: Path, seeds: int, budget: int) -> list[dict]:
    """Runs until the first failure, CMA-ES vs random, over ``seeds`` sampler seeds."""
    scn = folder / "ccrs_narrow.yaml"
    scn.write_text(CCRS.read_text().replace("{uniform: [10, 60]}", "{uniform: [10, 46]}"))
    rows = []
    for sampler in ("cmaes", "random"):
        firsts = []
        for s in range(seeds):
            res = search(scn, f"{AGENTS}:LateBraker", objective="min_gap_m", budget=budget, workers=2,
                         out=folder / f"{sampler}-{s}", sampler=sampler, seed=s, minimise=False)  # fmt: skip
            firsts.append(res.first_failure)
        found = [f for f in firsts if f is not None]
        rows.append({
            "sampler": sampler,
            "budget": budget,
            "found": f"{len(found)}/{seeds}",
            "median runs to 1st failure": statistics.median(f or budget + 1 for f in firsts),
            "each": " ".join("-" if f is None else str(f) for f in firsts),
        })  # fmt: skip
    return rows


def main() -> None:
    """Run and print every table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 variants, fewer search seeds, no Ray")
    ap.add_argument("--ray", action="store_true", help="include Ray even with --quick")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--only-killed", action="store_true", help="only the killed-worker table")
    ap.add_argument("--runs", type=int, default=None, help="runs of the killed-worker batches (default 60, quick 20)")
    args = ap.parse_args()
    n = 40 if args.quick else 1000
    n_kill = args.runs or (20 if args.quick else 60)
    with tempfile.TemporaryDirectory(prefix="simcore-ci-bench-") as tmp:
        folder = Path(tmp)
        for sub in ("t", "k", "s"):
            (folder / sub).mkdir()
        if args.only_killed:
            k = killed_worker(folder / "k", n_kill)
            print_table("one killed worker", k, ["runner", "killed workers", "runs", "jobs rerun", "wall s", "x none"])
            write_json(args.json, "ci_scale_killed", k, {"runs": n_kill})
            return
        t = throughput(folder / "t", n, with_ray=args.ray or not args.quick)
        print_table(f"{n} short variants (2 s simulated, autopilot, no pictures)", t,
                    ["way", "workers", "runs", "runs/s", "job ms (in worker)", "overhead ms/run"])  # fmt: skip
        k = killed_worker(folder / "k", n_kill)
        print_table("one killed worker", k, ["runner", "killed workers", "runs", "jobs rerun", "wall s", "x none"])
        s = search_vs_random(folder / "s", 2 if args.quick else 6, 12 if args.quick else 30)
        print_table("planted CCRs failure (about 10 % of the speed range)", s,
                    ["sampler", "budget", "found", "median runs to 1st failure", "each"])  # fmt: skip
    write_json(args.json, "ci_scale", t, {"killed_worker": k, "search": s, "variants": n})


if __name__ == "__main__":
    main()
