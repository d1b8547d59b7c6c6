"""Same seed, same result: byte-identical result.json (timing left out), in-process and across processes."""

import json
import subprocess
import sys

from simcore.api import run

SCENARIO = "urban/signalized_intersection"


def _bytes(res) -> str:
    return json.dumps(res.to_json(include_timing=False), sort_keys=True)


def test_two_runs_same_seed_identical():
    a, b = run(SCENARIO, seed=11), run(SCENARIO, seed=11)
    assert _bytes(a) == _bytes(b)
    for key in ("x", "y", "speed"):
        assert (a.trajectory[key] == b.trajectory[key]).all()


def test_different_seed_draws_different_parameters():
    a, b = run(SCENARIO, seed=1), run(SCENARIO, seed=2)
    assert a.parameters != b.parameters


def test_fresh_process_gives_the_same_bytes(tmp_path):
    code = (
        "import json,sys; from simcore.api import run; "
        f"r = run({SCENARIO!r}, seed=11); "
        "sys.stdout.write(json.dumps(r.to_json(include_timing=False), sort_keys=True))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == _bytes(run(SCENARIO, seed=11))
