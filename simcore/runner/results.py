"""Result of one run: summary numbers, events, metrics, score, verdicts; JSON form."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simcore._files import write_atomic
from simcore.evaluation.events import Event
from simcore.evaluation.scoring import SCORE_NAME, Verdict


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return None if not math.isfinite(v) else round(v, 9)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


@dataclass
class Result:
    """Everything a report needs about one finished run (SI units; times in s).

    ``wall_time`` and ``real_time_factor`` are the only fields that differ between two
    runs with the same inputs; ``to_json(include_timing=False)`` leaves them out.
    """

    scenario: str
    scenario_file: str
    seed: int
    variant: int
    parameters: dict[str, Any]
    agent: str
    dt: float
    steps: int
    sim_time: float
    wall_time: float
    termination: str
    events: list[Event]
    metrics: dict[str, float]
    score: float
    verdicts: list[Verdict]
    scores: dict[str, float] = field(default_factory=dict)
    trajectory: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Regulation-style verdicts the scenario declared (``evaluation.regulation``), by name; {} if none.
    regulation: dict[str, Any] = field(default_factory=dict)
    #: Hash of every step's engine state (``simcore.record.state_hash``; 16 hex digits); "" if not kept.
    state_hash: str = ""
    #: The scenario's ``tags`` (labels for grouping results); empty if it declares none.
    tags: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """All criteria passed (vacuously true without criteria)."""
        return all(v.passed for v in self.verdicts)

    @property
    def real_time_factor(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self.sim_time / self.wall_time if self.wall_time > 0 else math.inf

    def to_json(self, include_timing: bool = True) -> dict[str, Any]:
        """Plain data for result.json (non-finite numbers become null)."""
        out: dict[str, Any] = {
            "simcore_result": 1,
            "scenario": self.scenario,
            "scenario_file": self.scenario_file,
            "seed": self.seed,
            "variant": self.variant,
            "parameters": self.parameters,
            "agent": self.agent,
            "dt_s": self.dt,
            "steps": self.steps,
            "sim_time_s": self.sim_time,
            "termination": self.termination,
            "score": {"name": SCORE_NAME, "value": self.score},
            "scores": {SCORE_NAME: self.score, **self.scores},
            "passed": self.passed,
            "criteria": [v.to_json() for v in self.verdicts],
            "events": [e.to_json() for e in self.events],
            "metrics": self.metrics,
        }
        if self.regulation:
            out["regulation"] = self.regulation
        if self.state_hash:
            out["state_hash"] = self.state_hash
        if self.tags:
            out["tags"] = list(self.tags)
        if include_timing:
            out["wall_time_s"] = self.wall_time
            out["real_time_factor"] = self.real_time_factor
        return _clean(out)

    def write_json(self, path: Path, include_timing: bool = True, data: dict[str, Any] | None = None) -> None:
        """Write result.json (sorted keys, stable formatting); atomically, so a reader never sees half a file.
        ``data``: ``to_json(include_timing)`` when the caller has it already."""
        data = self.to_json(include_timing) if data is None else data
        write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
