"""Batch jobs: planning (scenario x variant x agent), the job function, and summary entries.

``run_job`` is the one function every backend executes; it is a plain top-level function
of picklable arguments, writes the job's folder itself and returns a small summary entry.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simcore.report.outputs import RESULT_JSON

#: File a job writes instead of result.json when it could not run.
ERROR_JSON = "error.json"
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

    @property
    def rel_dir(self) -> str:
        """``<scenario>/<variant>/<agent>`` below the batch output folder."""
        return f"{self.scenario_key}/{self.variant}/{self.agent_key}"


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
    paths: list[str], agents: list[str], variants: str | int = "all", draws: int = 1, seed: int | None = None
) -> tuple[list[Job], list[PlanError]]:
    """Every (scenario, variant, agent) job, in a fixed order, and the scenarios that failed to load.

    ``variants``: ``"all"`` or N (the first N variants of each scenario).
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
            for spec, ak in zip(agents, akeys, strict=True):
                jobs.append(Job(str(path), key, v.index, spec, ak, seed))
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
    }


def _ncap_point(data: dict[str, Any]) -> dict[str, Any] | None:
    """The Euro NCAP test point of a run (test type, speed, colour, points), None without one."""
    aeb = (data.get("regulation") or {}).get("euro_ncap_aeb")
    if not aeb or not aeb.get("test_type"):
        return None
    return {k: aeb.get(k) for k in ("test_type", "test_speed_kph", "colour", "points")}


def error_entry(job: Job, message: str, detail: str = "") -> dict[str, Any]:
    """The summary entry of a job that could not run."""
    return {**_job_fields(job), "status": "error", "error": message, "detail": detail}


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
    d["dir"] = job.rel_dir
    return d


def finished_entry(job: Job, out_root: Path) -> dict[str, Any] | None:
    """The entry of a job whose result.json is already there (resume), else None."""
    path = out_root / job.rel_dir / RESULT_JSON
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # unreadable: run the job again
    if data.get("variant") != job.variant or (job.seed is not None and data.get("seed") != job.seed):
        return None  # written by a batch with other settings (e.g. another --seed): run it again
    return entry_from_result(job, data)


def run_job(job: Job, out_root: str, pictures: bool = True, ship_files: bool = False) -> dict[str, Any]:
    """Run one job, write its folder (result.json, junit.xml, report.html, topdown.png) and return its entry.

    Invalid input (scenario, agent spec) and unexpected exceptions give an error entry (and
    ``error.json``); an agent that raises during the run is a normal failed run.
    ``ship_files``: write into a temporary folder instead and return the files' bytes in
    ``entry["_files"]`` (for workers on other machines; ``store_files`` writes them).
    """
    if not ship_files:
        return _run_job(job, out_root, pictures)
    with tempfile.TemporaryDirectory(prefix="simcore-job-") as tmp:
        entry = _run_job(job, tmp, pictures)
        folder = Path(tmp) / job.rel_dir
        files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        entry["_files"] = {p.name: p.read_bytes() for p in files}
    return entry


def store_files(job: Job, out_root: Path, files: dict[str, bytes]) -> None:
    """Write a shipped job's files into its folder; result.json last and atomically (resume relies on it)."""
    folder = out_root / job.rel_dir
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if name != RESULT_JSON and Path(name).name == name:
            (folder / name).write_bytes(data)
    if RESULT_JSON in files:
        tmp = folder / (RESULT_JSON + ".tmp")
        tmp.write_bytes(files[RESULT_JSON])
        os.replace(tmp, folder / RESULT_JSON)
        (folder / ERROR_JSON).unlink(missing_ok=True)


def _run_job(job: Job, out_root: str, pictures: bool) -> dict[str, Any]:
    from simcore.agents.loading import AgentLoadError, load_agent
    from simcore.api import simulation
    from simcore.report.outputs import write_run_outputs
    from simcore.scenario.errors import ScenarioError

    out_dir = Path(out_root) / job.rel_dir
    try:
        agent = load_agent(job.agent)
        sim = simulation(job.scenario_file, agent, seed=job.seed, variant=job.variant)
        sim.prepare()
        res = sim.run()
        write_run_outputs(sim.world, res, out_dir, agent_label=job.agent_key, pictures=pictures)
        (out_dir / ERROR_JSON).unlink(missing_ok=True)
        return entry_from_result(job, res.to_json())
    except (ScenarioError, AgentLoadError, ValueError, FileNotFoundError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        entry = error_entry(job, f"invalid input: {first[:300]}", str(exc))
    except Exception as exc:  # any other failure of one job is recorded; the batch goes on
        entry = error_entry(job, f"{type(exc).__name__}: {exc}", traceback.format_exc())
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ERROR_JSON).write_text(json.dumps(entry, indent=2, sort_keys=True) + "\n")
    return entry
