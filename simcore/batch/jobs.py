"""Batch jobs: planning (scenario x variant x agent), the job function, and summary entries.

``run_job`` is the one function every backend executes; it is a plain top-level function
of picklable arguments, writes the job's folder itself and returns a small summary entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simcore.report.outputs import RESULT_JSON

#: File a job writes instead of result.json when it could not run.
ERROR_JSON = "error.json"
#: Written last into a finished run's folder: ``{file name: sha256}`` of every output; a folder
#: without it, or whose files do not match it, is half-written or corrupt and is run again.
MANIFEST_JSON = "manifest.json"
#: Per-run road/traffic features for the coverage report (``simcore.batch.coverage``).
FEATURES_JSON = "features.json"
#: Statuses of a job that did not produce a judged run (exit code 2 when any occurs).
ERROR_STATUSES = ("error", "crashed", "timeout")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Job:
    """One run of a batch: scenario file, variant index, agent spec; ``rel_dir`` is its output folder."""

    scenario_file: str
    scenario_key: str
    variant: int
    agent: str
    agent_key: str
    seed: int | None = None
    #: Which of ``--seeds N`` this run is (0..N-1); None without ``--seeds``.
    rep: int | None = None
    #: Parameter overrides ``((name, value), ...)`` (scenario search); () for none.
    overrides: tuple[tuple[str, Any], ...] = ()
    #: Write the run log ``run.mcap`` into the run's folder too (``simcore batch --log``).
    log: bool = False
    #: With ``log``: camera images in the run log too (``--log-images``).
    log_images: bool = False

    @property
    def rel_dir(self) -> str:
        """``<scenario>/<variant>/<agent>`` (``/seed-<k>`` with ``--seeds``) below the batch output folder."""
        base = f"{self.scenario_key}/{self.variant}/{self.agent_key}"
        return base if self.rep is None else f"{base}/seed-{self.rep}"


def safe_name(text: str) -> str:
    """A file-system-safe rendering of ``text`` (letters, digits, ``._-``; others become ``_``)."""
    return _SAFE.sub("_", text).strip("._") or "_"


def agent_key(spec: str) -> str:
    """Folder name of an agent spec: the built-in name or the class name."""
    return safe_name(spec.rpartition(":")[2] if ":" in spec else spec)


def _unique(keys: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for k in keys:
        n = seen.get(k, 0) + 1
        seen[k] = n
        out.append(k if n == 1 else f"{k}-{n}")
    return out


def scenario_files(paths: list[str]) -> list[tuple[Path, str]]:
    """(file, key) of every scenario named: files as given, folders searched for ``*.yaml``.

    The key is the path below the folder given (or the file's stem), without ``.yaml``;
    duplicates get ``-2``, ``-3``... in the order given.
    """
    from simcore._data import resolve_scenario

    found: list[tuple[Path, str]] = []
    for p in paths:
        path = resolve_scenario(p)
        if path.is_dir():
            for f in sorted([*path.rglob("*.yaml"), *path.rglob("*.xosc")]):
                key = "/".join(safe_name(part) for part in f.relative_to(path).with_suffix("").parts)
                found.append((f, key))
        else:
            found.append((path, safe_name(path.stem)))
    keys = _unique([k for _, k in found])
    return [(f, k) for (f, _), k in zip(found, keys, strict=True)]


@dataclass(frozen=True)
class PlanError:
    """A scenario that could not be expanded into variants (becomes an error entry)."""

    scenario_file: str
    scenario_key: str
    message: str


def plan_jobs(
    paths: list[str],
    agents: list[str],
    variants: str | int = "all",
    draws: int = 1,
    seed: int | None = None,
    seeds: int = 1,
) -> tuple[list[Job], list[PlanError]]:
    """Every (scenario, variant, seed, agent) job, in a fixed order, and the scenarios that failed to load.

    ``variants``: ``"all"`` or N (the first N variants of each scenario). ``seeds`` > 1: each
    variant runs with seeds S, S+1, ... S+seeds-1, where S is ``seed`` or the variant's own seed
    (the seed also drives the scenario's random draws, so drawn parameters differ per seed).
    """
    from simcore.scenario.errors import ScenarioError
    from simcore.scenario.expand import expand

    jobs: list[Job] = []
    errors: list[PlanError] = []
    akeys = _unique([agent_key(a) for a in agents])
    for path, key in scenario_files(paths):
        try:
            vs = expand(path, draws=draws, seed=seed)
        except ScenarioError as exc:
            errors.append(PlanError(str(path), key, str(exc)))
            continue
        except (OSError, ValueError) as exc:
            errors.append(PlanError(str(path), key, f"{type(exc).__name__}: {exc}"))
            continue
        if variants != "all":
            vs = vs[: int(variants)]
        for v in vs:
            reps: list[tuple[int | None, int | None]] = [(seed, None)]
            if seeds > 1:
                base = v.seed if seed is None else seed
                reps = [(base + k, k) for k in range(seeds)]
            for s, rep in reps:
                for spec, ak in zip(agents, akeys, strict=True):
                    jobs.append(Job(str(path), key, v.index, spec, ak, s, rep))
    return jobs, errors


def entry_from_result(job: Job, data: dict[str, Any]) -> dict[str, Any]:
    """The summary entry of a finished job, from its result.json data."""
    metrics = data.get("metrics") or {}
    return {
        **_job_fields(job),
        "status": "pass" if data.get("passed") else "fail",
        "scenario": data.get("scenario"),
        "seed": data.get("seed"),
        "parameters": data.get("parameters"),
        "agent_name": data.get("agent"),
        "termination": data.get("termination"),
        "sim_time_s": data.get("sim_time_s"),
        "score": (data.get("score") or {}).get("value"),
        "scores": data.get("scores") or {},
        "failed_criteria": [c["name"] for c in data.get("criteria", []) if not c.get("passed")],
        "collisions": metrics.get("collisions", 0),
        "red_lights": metrics.get("red_lights", 0),
        "offroad": metrics.get("offroad", 0),
        "route_completion": metrics.get("route_completion"),
        "wall_time_s": data.get("wall_time_s"),
        "euro_ncap": _ncap_point(data),
        "state_hash": data.get("state_hash"),
    }


def _ncap_point(data: dict[str, Any]) -> dict[str, Any] | None:
    """The Euro NCAP test point of a run (test type, speed, colour, points), None without one."""
    aeb = (data.get("regulation") or {}).get("euro_ncap_aeb")
    if not aeb or not aeb.get("test_type"):
        return None
    return {k: aeb.get(k) for k in ("test_type", "test_speed_kph", "colour", "points")}


def error_entry(job: Job, message: str, detail: str = "", status: str = "error") -> dict[str, Any]:
    """The summary entry of a job that could not run (``status``: one of ``ERROR_STATUSES``)."""
    return {**_job_fields(job), "status": status, "error": message, "detail": detail}


def plan_error_entry(err: PlanError, agents: list[str]) -> dict[str, Any]:
    """The summary entry of a scenario that could not be expanded (no variants, no agents run)."""
    return {
        "scenario_file": err.scenario_file,
        "scenario_key": err.scenario_key,
        "variant": None,
        "agent": None,
        "agent_key": None,
        "seed": None,
        "dir": err.scenario_key,
        "status": "error",
        "error": "scenario failed to load",
        "detail": err.message,
        "agents": list(agents),
    }


def _job_fields(job: Job) -> dict[str, Any]:
    d = asdict(job)
    d["overrides"] = dict(job.overrides)
    if not job.overrides:
        del d["overrides"]
    if job.rep is None:
        del d["rep"]
    if not job.log_images:
        del d["log_images"]
    d["dir"] = job.rel_dir
    return d


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(folder: Path) -> None:
    """Write ``manifest.json`` (sha256 of every other file in ``folder``), atomically, as the last file."""
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in (MANIFEST_JSON, ERROR_JSON))
    names = [n for n in names if not n.endswith(".tmp")]
    tmp = folder / (MANIFEST_JSON + ".tmp")
    tmp.write_text(json.dumps({n: _sha256(folder / n) for n in names}, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, folder / MANIFEST_JSON)


def folder_intact(folder: Path) -> bool:
    """A run folder is complete: its manifest names result.json and every listed file has its recorded hash."""
    try:
        listed = json.loads((folder / MANIFEST_JSON).read_text())
        return RESULT_JSON in listed and all(_sha256(folder / n) == h for n, h in listed.items())
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def finished_entry(job: Job, out_root: Path) -> dict[str, Any] | None:
    """The entry of a job whose folder is complete and intact (resume), else None (run it again)."""
    folder = out_root / job.rel_dir
    if not folder_intact(folder):
        return None  # never finished, half-written (killed mid-way) or corrupted since
    try:
        data = json.loads((folder / RESULT_JSON).read_text())
    except (OSError, ValueError):
        return None
    if data.get("variant") != job.variant or (job.seed is not None and data.get("seed") != job.seed):
        return None  # written by a batch with other settings (e.g. another --seed): run it again
    params = data.get("parameters") or {}
    if any(params.get(k) != v for k, v in job.overrides):
        return None  # run with other parameter values
    return entry_from_result(job, data)


class RunTimeout(BaseException):
    """Raised inside a job when its ``timeout_s`` has passed (a BaseException: agent code cannot swallow it)."""


@contextlib.contextmanager
def _deadline(timeout_s: float | None) -> Iterator[None]:
    """Raise RunTimeout in this (main) thread after ``timeout_s`` of wall time; no-op elsewhere or for None.

    It interrupts Python code (an agent that sleeps or spins); the local pool also kills a
    worker that has not answered a few seconds later, which covers hangs in native code.
    """
    if not timeout_s or threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum: int, frame: object) -> None:
        raise RunTimeout(f"the run took longer than --timeout-s {timeout_s:g}")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_job(
    job: Job, out_root: str, pictures: bool = True, ship_files: bool = False, timeout_s: float | None = None
) -> dict[str, Any]:
    """Run one job, write its folder (result.json, junit.xml, report.html, topdown.png, features.json,
    manifest.json last) and return its entry.

    Invalid input (scenario, agent spec) and unexpected exceptions give an error entry (and
    ``error.json``); an agent that raises an Exception during the run is a normal failed run;
    one that raises SystemExit or KeyboardInterrupt out of the engine gives an error entry (never
    a pass, never the end of the batch); past ``timeout_s`` the entry has status ``timeout``.
    ``entry["job_wall_s"]``: wall time of the whole job (build, run, outputs), s.
    ``ship_files``: write into a temporary folder instead and return the files' bytes in
    ``entry["_files"]`` (for workers on other machines; ``store_files`` writes them).
    """
    t0 = time.perf_counter()
    if not ship_files:
        entry = _run_job(job, out_root, pictures, timeout_s)
    else:
        with tempfile.TemporaryDirectory(prefix="simcore-job-") as tmp:
            entry = _run_job(job, tmp, pictures, timeout_s)
            folder = Path(tmp) / job.rel_dir
            files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
            entry["_files"] = {p.name: p.read_bytes() for p in files}
    entry["job_wall_s"] = time.perf_counter() - t0  # the whole job in its worker (differs run to run)
    return entry


def store_files(job: Job, out_root: Path, files: dict[str, bytes]) -> None:
    """Write a shipped job's files into its folder; the manifest last and atomically (resume relies on it)."""
    folder = out_root / job.rel_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_JSON).unlink(missing_ok=True)
    for name, data in files.items():
        if name != MANIFEST_JSON and Path(name).name == name:
            (folder / name).write_bytes(data)
    if MANIFEST_JSON in files:
        tmp = folder / (MANIFEST_JSON + ".tmp")
        tmp.write_bytes(files[MANIFEST_JSON])
        os.replace(tmp, folder / MANIFEST_JSON)
        (folder / ERROR_JSON).unlink(missing_ok=True)


def write_error(job: Job, out_root: Path, entry: dict[str, Any]) -> None:
    """Write ``error.json`` for a job that did not produce a run (the folder's manifest is removed)."""
    folder = out_root / job.rel_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_JSON).unlink(missing_ok=True)
    (folder / ERROR_JSON).write_text(json.dumps(entry, indent=2, sort_keys=True) + "\n")


def _run_log(job: Job, sim: Any, out_dir: Path) -> Any:
    """A run log writer attached to ``sim``, writing ``out_dir/run.mcap``."""
    from simcore.report.runlog import RUN_MCAP, RunLogWriter

    info = {
        "scenario": job.scenario_file,
        "seed": job.seed,
        "variant": job.variant,
        "overrides": dict(job.overrides),
        "agents": {"ego": job.agent},
    }
    return RunLogWriter(out_dir / RUN_MCAP, sim.world, run_info=info, images=job.log_images).attach(sim)


def _run_job(job: Job, out_root: str, pictures: bool, timeout_s: float | None) -> dict[str, Any]:
    from simcore.agents.loading import AgentLoadError, load_agent
    from simcore.api import simulation
    from simcore.batch.coverage import run_features
    from simcore.report.outputs import write_run_outputs
    from simcore.scenario.errors import ScenarioError

    out_dir = Path(out_root) / job.rel_dir
    (out_dir / MANIFEST_JSON).unlink(missing_ok=True)  # the folder is incomplete until the new manifest
    try:
        with _deadline(timeout_s):
            agent = load_agent(job.agent)
            overrides = dict(job.overrides) or None
            sim = simulation(job.scenario_file, agent, seed=job.seed, variant=job.variant, overrides=overrides)
            sim.prepare()
            log = _run_log(job, sim, out_dir) if job.log else None
            try:
                res = sim.run()
            except BaseException:
                if log is not None:
                    log.finish()  # interrupted (time limit, agent exit): the rows so far stay readable
                raise
            if log is not None:
                log.finish(res)
        write_run_outputs(sim.world, res, out_dir, agent_label=job.agent_key, pictures=pictures)
        (out_dir / FEATURES_JSON).write_text(json.dumps(run_features(sim), indent=1, sort_keys=True) + "\n")
        (out_dir / ERROR_JSON).unlink(missing_ok=True)
        write_manifest(out_dir)
        return entry_from_result(job, res.to_json())
    except (ScenarioError, AgentLoadError, ValueError, FileNotFoundError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        entry = error_entry(job, f"invalid input: {first[:300]}", str(exc))
    except RunTimeout as exc:
        entry = error_entry(job, str(exc), status="timeout")
    except Exception as exc:  # any other failure of one job is recorded; the batch goes on
        entry = error_entry(job, f"{type(exc).__name__}: {exc}", traceback.format_exc())
    except (SystemExit, KeyboardInterrupt) as exc:  # raised by agent code: this run failed, the batch goes on
        entry = error_entry(job, f"agent raised {type(exc).__name__}({exc})", traceback.format_exc())
    write_error(job, Path(out_root), entry)
    return entry
