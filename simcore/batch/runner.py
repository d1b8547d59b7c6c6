"""Execute batch jobs: a local process pool (default) or Ray tasks; resume, retry, combined outputs."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simcore.batch.jobs import Job, PlanError, error_entry, finished_entry, plan_error_entry, run_job, store_files

#: How many times a job whose worker process died is run again (in a pool of its own).
RETRIES = 1
#: Names of the combined files in the batch folder.
SUMMARY_JSON, JUNIT_XML, LEADERBOARD_JSON, LEADERBOARD_HTML = (
    "summary.json",
    "junit.xml",
    "leaderboard.json",
    "leaderboard.html",
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
        """0 all pass, 1 any fail, 2 any error."""
        if self.counts.get("error", 0):
            return 2
        return 1 if self.counts.get("fail", 0) else 0


Done = Callable[[Job, dict[str, Any]], None]


def _mp_context() -> multiprocessing.context.BaseContext:
    # spawn: workers start from a clean interpreter (no inherited threads or locks), on every OS.
    return multiprocessing.get_context("spawn")


def _run_pool(jobs: list[Job], out: str, pictures: bool, workers: int, done: Done) -> list[Job]:
    """Run ``jobs`` in one pool; returns the jobs lost to a dead worker (BrokenProcessPool)."""
    lost: list[Job] = []
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context())
    futures: dict[Future, Job] = {}
    try:
        futures.update({ex.submit(run_job, j, out, pictures): j for j in jobs})
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                job = futures[f]
                try:
                    entry = f.result()
                except BrokenProcessPool:
                    lost.append(job)
                    continue
                except Exception as exc:  # e.g. an unpicklable result; never expected
                    entry = error_entry(job, f"{type(exc).__name__}: {exc}")
                done(job, entry)
    except BaseException:
        # Interrupted (Ctrl-C): drop what has not started (cancelled here, as the pool's own
        # cancel_futures may not run once the executor object is gone); finished jobs are on disk.
        for f in futures:
            f.cancel()
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    ex.shutdown(wait=True)
    order = {j: k for k, j in enumerate(jobs)}
    return sorted(lost, key=order.__getitem__)


def _run_isolated(jobs: list[Job], out: str, pictures: bool, workers: int, done: Done) -> list[Job]:
    """Run each job in a one-process pool of its own (``workers`` at a time); returns those whose process died."""
    died: list[Job] = []
    queue = list(jobs)
    running: dict[Future, tuple[Job, ProcessPoolExecutor]] = {}
    try:
        while queue or running:
            while queue and len(running) < workers:
                job = queue.pop(0)
                ex = ProcessPoolExecutor(max_workers=1, mp_context=_mp_context())
                running[ex.submit(run_job, job, out, pictures)] = (job, ex)
            finished, _ = wait(set(running), return_when=FIRST_COMPLETED)
            for f in finished:
                job, ex = running.pop(f)
                try:
                    done(job, f.result())
                except BrokenProcessPool:
                    died.append(job)
                except Exception as exc:
                    done(job, error_entry(job, f"{type(exc).__name__}: {exc}"))
                ex.shutdown(wait=True)
    finally:
        for _, ex in running.values():
            ex.shutdown(wait=False, cancel_futures=True)
    return died


def run_local(jobs: list[Job], out: Path, *, workers: int, pictures: bool, done: Done) -> int:
    """Run ``jobs`` in a process pool; a job whose worker died is retried once in a fresh pool of its own.

    Every job caught in a broken pool is retried (the pool cannot tell which job killed it);
    a job whose own process dies again gets an error entry. Returns the number of jobs
    lost to dead workers in the first round.
    """
    lost = _run_pool(jobs, str(out), pictures, workers, done)
    if not lost:
        return 0
    retried = set(lost)

    def done_retry(job: Job, entry: dict[str, Any]) -> None:
        done(job, {**entry, "retried_after_worker_death": True})

    rest = lost
    for _ in range(RETRIES):
        rest = _run_isolated(rest, str(out), pictures, workers, done_retry)
    for job in rest:
        done_retry(
            job,
            error_entry(
                job,
                "worker process died",
                f"the process running this job ended abruptly (killed or os._exit) {RETRIES + 1} times",
            ),
        )
    return len(retried)


def run_ray(jobs: list[Job], out: Path, *, pictures: bool, done: Done, address: str | None = None) -> int:
    """Run ``jobs`` as Ray tasks (the same ``run_job``); a task whose worker dies is retried once by Ray.

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
    task = ray.remote(max_retries=RETRIES)(run_job)
    # Workers may sit on other machines: they send their files back, the driver writes them.
    refs = {task.remote(j, "", pictures, True): j for j in jobs}
    pending = list(refs)
    deaths = 0
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            job = refs[ref]
            try:
                entry = ray.get(ref)
            except ray.exceptions.WorkerCrashedError:
                deaths += 1
                entry = error_entry(job, "worker process died", "the Ray worker died on every try")
            except ray.exceptions.RayError as exc:
                entry = error_entry(job, f"{type(exc).__name__}", str(exc))
            store_files(job, out, entry.pop("_files", {}))
            done(job, entry)
    return deaths


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
) -> BatchOutcome:
    """Run every job not finished yet in ``out`` (resume), then write the combined outputs."""
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
            outcome.worker_deaths = run_ray(todo, out, pictures=pictures, done=done, address=address)
        elif todo:
            n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
            outcome.worker_deaths = run_local(todo, out, workers=n, pictures=pictures, done=done)
    finally:
        if bar is not None:
            bar.close()
    outcome.entries = [plan_error_entry(e, agents) for e in plan_errors] + [entries[j] for j in jobs if j in entries]
    for e in outcome.entries:
        outcome.counts[e["status"]] = outcome.counts.get(e["status"], 0) + 1
    write_combined(outcome, out)
    return outcome


def write_combined(outcome: BatchOutcome, out: Path) -> None:
    """summary.json, junit.xml (every run), leaderboard.json and leaderboard.html in ``out``."""
    from simcore.report.junit import JUnitCase, case_from_result, error_case, write_junit
    from simcore.report.leaderboard import leaderboard, write_leaderboard_html

    entries = outcome.entries
    agents = sorted({e["agent_key"] for e in entries if e.get("agent_key")})
    summary = {
        "simcore_batch": 1,
        "counts": {k: outcome.counts.get(k, 0) for k in ("pass", "fail", "error")},
        "jobs": len(entries),
        "agents": agents,
        "entries": entries,
        "euro_ncap": ncap_summary(entries),
    }
    (out / SUMMARY_JSON).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    cases: list[JUnitCase] = []
    with_agent = len(agents) > 1
    for e in entries:
        if e["status"] == "error":
            name = e["scenario_key"] if e.get("variant") is None else f"{e['scenario_key']}[{e['variant']}]"
            if with_agent and e.get("agent_key"):
                name += f" ({e['agent_key']})"
            props = {"variant": e.get("variant"), "agent": e.get("agent"), "seed": e.get("seed")}
            cases.append(error_case(_display(e["scenario_file"]), name, e["error"], e.get("detail", ""), 0.0, props))
            continue
        data = json.loads((out / e["dir"] / "result.json").read_text())
        cases.append(case_from_result(data, agent_label=e["agent_key"] if with_agent else None))
    write_junit(cases, out / JUNIT_XML, name="simcore batch")
    board = leaderboard(entries)
    (out / LEADERBOARD_JSON).write_text(json.dumps(board, indent=2, sort_keys=True) + "\n")
    write_leaderboard_html(board, out / LEADERBOARD_HTML)


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
