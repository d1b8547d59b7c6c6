"""Execute batch jobs: a local process pool (default) or Ray tasks; resume, retry, combined outputs."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simcore.batch import pool as batch_pool
from simcore.batch.jobs import (
    ERROR_STATUSES,
    Job,
    PlanError,
    error_entry,
    finished_entry,
    plan_error_entry,
    run_job,
    store_files,
    write_error,
)
from simcore.batch.pool import RETRIES, LocalPool

#: Names of the combined files in the batch folder.
SUMMARY_JSON, JUNIT_XML, LEADERBOARD_JSON, LEADERBOARD_HTML, BATCH_HTML, COVERAGE_JSON = (
    "summary.json",
    "junit.xml",
    "leaderboard.json",
    "leaderboard.html",
    "batch.html",
    "coverage.json",
)


class BackendUnavailableError(RuntimeError):
    """The requested backend cannot be used here (e.g. Ray is not installed)."""


@dataclass
class BatchOutcome:
    """Entries of every job (in plan order) and the counts by status."""

    entries: list[dict[str, Any]]
    ran: int = 0
    skipped: int = 0
    worker_deaths: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 all pass, 1 any fail, 2 any error (including crashed and timed-out runs)."""
        if any(self.counts.get(k, 0) for k in ERROR_STATUSES):
            return 2
        return 1 if self.counts.get("fail", 0) else 0


Done = Callable[[Job, dict[str, Any]], None]


def run_local(
    jobs: list[Job], out: Path, *, workers: int, pictures: bool, done: Done, timeout_s: float | None = None
) -> int:
    """Run ``jobs`` in a local worker pool (``simcore.batch.pool``); returns how many workers died.

    A dead worker costs only its own job, which is retried once and then recorded as ``crashed``.
    """
    with LocalPool(workers, pictures, timeout_s) as pool:
        return pool.run(jobs, out, done)


def run_ray(
    jobs: list[Job],
    out: Path,
    *,
    pictures: bool,
    done: Done,
    address: str | None = None,
    timeout_s: float | None = None,
) -> int:
    """Run ``jobs`` as Ray tasks (the same ``run_job``); a task whose worker dies is retried once by Ray,
    then recorded as ``crashed``. ``timeout_s`` is enforced inside the task (``RunTimeout``: Python
    hangs) and, ``KILL_GRACE_S`` later, by the driver: ``ray.cancel(force=True)`` kills the worker
    (native hangs); either is recorded as ``timeout``.

    ``address``: an existing cluster (``ray start --head`` prints it); None starts or joins a
    local one (or the one in ``RAY_ADDRESS``). Workers need simcore installed, nothing shared.
    """
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailableError(
            "--backend ray needs Ray: pip install 'simcore[ray]' (or use --backend local)"
        ) from exc
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    task = ray.remote(max_retries=RETRIES)(_ray_job)
    # Start times are kept by a small actor, on its own clock: a run past timeout_s + KILL_GRACE_S
    # (a hang in native code, which the in-task alarm cannot cut) is cancelled with its worker killed.
    starts: Any = ray.remote(num_cpus=0)(_Starts).remote() if timeout_s is not None else None
    # Workers may sit on other machines: they send their files back, the driver writes them.
    refs = {task.remote(j, os.getcwd(), pictures, timeout_s, starts, k): (k, j) for k, j in enumerate(jobs)}
    pending = list(refs)
    killed: set[int] = set()
    deaths = 0
    while pending:
        if starts is None:
            ready, pending = ray.wait(pending, num_returns=1)
        else:  # wake twice a second to look for runs past their time
            ready, pending = ray.wait(pending, num_returns=1, timeout=0.5)
        if starts is not None and timeout_s is not None:
            running: dict[int, float] = ray.get(starts.running.remote())
            for ref in pending:
                k = refs[ref][0]
                if k not in killed and running.get(k, 0.0) > timeout_s + batch_pool.KILL_GRACE_S:
                    killed.add(k)
                    ray.cancel(ref, force=True)
        for ref in ready:
            k, job = refs[ref]
            try:
                entry = ray.get(ref)
            except ray.exceptions.WorkerCrashedError:
                deaths += 1
                entry = error_entry(job, "worker process died", "the Ray worker died on every try", status="crashed")
            except (ray.exceptions.TaskCancelledError, ray.exceptions.RayError) as exc:
                if k in killed:
                    msg = f"the run took longer than --timeout-s {timeout_s:g} (Ray task cancelled, worker killed)"
                    entry = error_entry(job, msg, status="timeout")
                else:
                    entry = error_entry(job, f"{type(exc).__name__}", str(exc))
            files = entry.pop("_files", {})
            if entry["status"] in ERROR_STATUSES:
                write_error(job, out, entry)
            else:
                store_files(job, out, files)
            done(job, entry)
    return deaths


class _Starts:
    """A Ray actor: when each run began, on the actor's own monotonic clock (no clocks compared
    across machines)."""

    def __init__(self) -> None:
        self.t: dict[int, float] = {}

    def started(self, k: int) -> None:
        self.t[k] = time.monotonic()

    def running(self) -> dict[int, float]:
        """Seconds since each run began."""
        now = time.monotonic()
        return {k: now - t for k, t in self.t.items()}


def _ray_job(job: Job, cwd: str, pictures: bool, timeout_s: float | None, starts: Any, k: int) -> dict[str, Any]:
    """``run_job`` in a Ray worker: from the driver's working folder where it exists here too (relative
    scenario and agent paths), the files shipped back. Tells ``starts`` (if any) when it began."""
    if starts is not None:
        starts.started.remote(k)
    if os.path.isdir(cwd):
        os.chdir(cwd)
    return run_job(job, "", pictures, True, timeout_s)


def execute(
    jobs: list[Job],
    plan_errors: list[PlanError],
    agents: list[str],
    out: Path,
    *,
    workers: int | None = None,
    backend: str = "local",
    address: str | None = None,
    pictures: bool = True,
    progress: bool = False,
    timeout_s: float | None = None,
) -> BatchOutcome:
    """Run every job not finished yet in ``out`` (resume), then write the combined outputs.

    A job counts as finished when its folder is intact (``jobs.folder_intact``); half-written
    or corrupted folders are run again. ``timeout_s``: wall-clock limit per run.
    """
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[Job, dict[str, Any]] = {}
    todo: list[Job] = []
    for j in jobs:
        found = finished_entry(j, out)
        if found is None:
            todo.append(j)
        else:
            entries[j] = found
    outcome = BatchOutcome(entries=[], skipped=len(entries), ran=len(todo))
    bar = None
    if todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="run", disable=not progress, file=sys.stderr, dynamic_ncols=True)

    def done(job: Job, entry: dict[str, Any]) -> None:
        first = job not in entries
        entries[job] = entry
        if bar is not None and first:
            bar.update(1)
            bar.set_postfix_str(f"{job.rel_dir}: {entry['status']}", refresh=False)

    try:
        if todo and backend == "ray":
            outcome.worker_deaths = run_ray(
                todo, out, pictures=pictures, done=done, address=address, timeout_s=timeout_s
            )
        elif todo:
            n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
            outcome.worker_deaths = run_local(todo, out, workers=n, pictures=pictures, done=done, timeout_s=timeout_s)
    finally:
        if bar is not None:
            bar.close()
    outcome.entries = [plan_error_entry(e, agents) for e in plan_errors] + [entries[j] for j in jobs if j in entries]
    for e in outcome.entries:
        outcome.counts[e["status"]] = outcome.counts.get(e["status"], 0) + 1
    write_combined(outcome, out)
    return outcome


def write_combined(outcome: BatchOutcome, out: Path) -> None:
    """summary.json, junit.xml (every run), leaderboard.json/html, the results store (results.sqlite),
    coverage.json and batch.html in ``out``."""
    from simcore.batch.coverage import coverage
    from simcore.batch.store import STORE_DB, git_revision, run_rows, write_store
    from simcore.batch.summary_html import write_batch_html
    from simcore.report.junit import JUnitCase, case_from_result, error_case, write_junit
    from simcore.report.leaderboard import leaderboard, write_leaderboard_html

    entries = outcome.entries
    agents = sorted({e["agent_key"] for e in entries if e.get("agent_key")})
    summary = {
        "simcore_batch": 1,
        "counts": {
            k: outcome.counts.get(k, 0)
            for k in ("pass", "fail", *ERROR_STATUSES)
            if k in ("pass", "fail", "error") or outcome.counts.get(k)
        },  # crashed / timeout only when some were
        "jobs": len(entries),
        "agents": agents,
        "entries": entries,
        "euro_ncap": ncap_summary(entries),
    }
    (out / SUMMARY_JSON).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    cases: list[JUnitCase] = []
    with_agent = len(agents) > 1
    for e in entries:
        if e["status"] in ERROR_STATUSES:
            name = e["scenario_key"] if e.get("variant") is None else f"{e['scenario_key']}[{e['variant']}]"
            if with_agent and e.get("agent_key"):
                name += f" ({e['agent_key']})"
            props = {"variant": e.get("variant"), "agent": e.get("agent"), "seed": e.get("seed")}
            cases.append(error_case(_display(e["scenario_file"]), name, e["error"], e.get("detail", ""), 0.0, props))
            continue
        data = json.loads((out / e["dir"] / "result.json").read_text())
        cases.append(case_from_result(data, agent_label=e["agent_key"] if with_agent else None))
    write_junit(cases, out / JUNIT_XML, name="simcore batch")
    # the leaderboard knows pass / fail / error: crashed and timed-out runs count as errors there
    board = leaderboard([{**e, "status": "error"} if e["status"] in ERROR_STATUSES else e for e in entries])
    (out / LEADERBOARD_JSON).write_text(json.dumps(board, indent=2, sort_keys=True) + "\n")
    write_leaderboard_html(board, out / LEADERBOARD_HTML)
    rows = run_rows(entries, out, git_revision())
    write_store(rows, out / STORE_DB)
    cov = coverage(rows, out)
    (out / COVERAGE_JSON).write_text(json.dumps(cov, indent=2, sort_keys=True) + "\n")
    write_batch_html(rows, cov, out / BATCH_HTML)


def ncap_summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Euro NCAP points per agent and test type over the batch's runs (``ncap_points.test_type_scores``)."""
    from simcore.evaluation.ncap_points import test_type_scores

    by_agent: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        if e.get("euro_ncap"):
            by_agent.setdefault(e.get("agent_key") or e.get("agent_name") or "", []).append(e["euro_ncap"])
    return {agent: test_type_scores(points) for agent, points in sorted(by_agent.items())}


def _display(path: str) -> str:
    from simcore.report.junit import display_path

    return display_path(path)
