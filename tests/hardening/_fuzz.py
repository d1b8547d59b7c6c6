"""Hypothesis strategies that mutate catalog scenarios, and the check every mutant must pass:
accepted (and then a few steps run without a traceback) or refused with a typed, located
error, within a time and memory bound (issue 17). Used by test_fuzz_scenarios.py and runnable
for a longer local profile: ``SIMCORE_FUZZ_EXAMPLES=5000 pytest tests/hardening/test_fuzz_scenarios.py``.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from simcore.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
#: Small catalog scenarios covering actors, platoons, statics, pedestrians, storyboards, NCAP verdicts.
SEEDS = [
    ROOT / "scenarios" / "urban" / name
    for name in (
        "cut_in.yaml",
        "construction_lane_closure.yaml",
        "pedestrian_behind_parked_van.yaml",
        "right_turn_cyclist.yaml",
        "wet_road_braking.yaml",
        "jaywalker_night.yaml",
    )
] + [ROOT / "scenarios" / "ncap" / "ccrb.yaml", ROOT / "tests" / "data" / "sweep.yaml"]
#: Steps an accepted mutant is run for.
STEPS = 5

HOSTILE = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            1,
            10**7,
            -(10**7),
            2**63,
            10**30,
            1e308,
            -1e308,
            math.inf,
            -math.inf,
            math.nan,
            0.0,
            -0.0,
            1e-300,
            4.75,
            "",
            "x",
            "1.0",
            "-1",
            "nan",
            "$nope",
            [],
            {},
            [1, 2],
            {"a": 1},
        ]
    ),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path into the document (keys and list indices)."""
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _get(node: Any, path: tuple) -> Any:
    for p in path:
        node = node[p]
    return node


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, str]:
    """(name of the catalog file, mutated YAML text): 1-3 mutations of a catalog scenario."""
    seed = draw(st.sampled_from(SEEDS))
    data = yaml.safe_load(seed.read_text())
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = _get(data, path[:-1])
        key = path[-1]
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "extra_key", "scale", "copy_in"]))
        if op == "replace":
            parent[key] = draw(HOSTILE)
        elif op == "delete":
            del parent[key]
        elif op == "extra_key":
            target = parent[key] if isinstance(parent[key], dict) else parent
            if isinstance(target, dict):
                target[draw(st.sampled_from(["extra", "cont", "spacing_m", "speed", "when", "do"]))] = draw(HOSTILE)
        elif op == "scale":
            v = parent[key]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                parent[key] = v * draw(st.sampled_from([-1, 0, 1.19, 10, 1000, 1e6, 1e300]))
        else:  # a subtree from elsewhere in the file, in the wrong place
            parent[key] = copy.deepcopy(_get(data, draw(st.sampled_from(paths))))
        if not isinstance(data, dict):
            break
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True) if isinstance(data, dict) else "x: [\n"
    return seed.name, text


def check_mutant(path: Path, steps: int = STEPS) -> str:
    """Validate ``path`` like ``simcore validate`` and run an accepted one for ``steps`` steps.

    Returns "accepted" or "refused"; a located ScenarioError is the only allowed error (any
    other exception propagates: that is a crash)."""
    from simcore.api import simulation

    try:
        sim = simulation(path, record_every=0)
    except ScenarioError as exc:
        for issue in exc.issues:
            assert issue.file and issue.line >= 1 and issue.col >= 1, issue
            assert issue.message and "Traceback" not in issue.message, issue
        return "refused"
    for _ in range(steps):
        if sim.step().done:
            break
    sim.close()
    return "accepted"


def timed_check(path: Path) -> tuple[str, float]:
    """(outcome, seconds) of ``check_mutant``."""
    t0 = time.perf_counter()
    outcome = check_mutant(path)
    return outcome, time.perf_counter() - t0
