"""Fuzzing in the test suite: mutated catalog scenarios are accepted (and run a few steps) or
refused with a located error, within bounds (issue 17). CI: a fixed, derandomised budget of
SIMCORE_FUZZ_EXAMPLES cases (default 30); a longer local profile: set it to thousands."""

from __future__ import annotations

import os
import resource
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from ._fuzz import mutants, timed_check

EXAMPLES = int(os.environ.get("SIMCORE_FUZZ_EXAMPLES", "30"))
#: Bounds per case: generous (a loaded CI machine), far below the hangs and blow-ups they guard against.
CASE_SECONDS = 60.0
RSS_GROWTH_MIB = 1024.0


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 200,  # CI: the same cases every run; longer local profiles explore
    suppress_health_check=list(HealthCheck),
    database=None,
)
@given(case=mutants())
def test_mutated_catalog_scenarios_are_accepted_or_refused_with_a_location(tmp_path_factory, case) -> None:
    name, text = case
    path: Path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(text)
    before = _rss_mib()
    outcome, seconds = timed_check(path)
    assert outcome in ("accepted", "refused")
    assert seconds < CASE_SECONDS, f"{name}: {seconds:.1f} s"
    assert _rss_mib() - before < RSS_GROWTH_MIB
