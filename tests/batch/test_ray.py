"""A real local Ray head on 127.0.0.1: a batch through it is the same bytes (and state hashes) as a local one."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simcore.batch.store import read_rows
from simcore.cli import main

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'simcore[ray]')"
)
TESTS = Path(__file__).resolve().parent.parent
SWEEP = str(TESTS / "data" / "sweep.yaml")
TIMING = ('"real_time_factor"', '"wall_time_s"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``ray start --head`` on 127.0.0.1 (2 CPUs, no dashboard); stopped with its whole process group after."""
    port = _free_port()
    temp = Path(f"/tmp/ray-{os.getpid()}")  # short: Ray's socket paths must fit in 107 bytes
    ray_bin = str(Path(sys.executable).with_name("ray"))
    cmd = [ray_bin, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port)]
    cmd += ["--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", str(temp)]
    log = (tmp_path_factory.mktemp("ray") / "head.log").open("w")
    # Its own process group: the finaliser stops exactly this cluster (``ray stop`` would stop every
    # Ray cluster on the machine).
    # A token in ~/.ray/auth_token would switch this head to token authentication: keep it off,
    # for the head and for this driver (a throw-away cluster on the loopback interface).
    mp = pytest.MonkeyPatch()
    mp.setenv("RAY_AUTH_MODE", "disabled")
    mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
    head = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and head.poll() is None:
            if (temp / "ray_current_cluster").is_file():
                break
            time.sleep(0.5)
        if head.poll() is not None or not (temp / "ray_current_cluster").is_file():
            pytest.skip(f"the Ray head did not start (see {log.name})")
        yield address
    finally:
        import ray

        ray.shutdown()
        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 5)):
            try:
                os.killpg(head.pid, sig)
            except ProcessLookupError:
                break
            try:
                head.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)  # the head's children (gcs, raylet, workers) too
        log.close()
        mp.undo()
        shutil.rmtree(temp, ignore_errors=True)


def _results(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): "".join(
            ln for ln in p.read_text().splitlines(True) if not ln.lstrip().startswith(TIMING)
        )
        for p in sorted(out.rglob("result.json"))
    }


def test_ray_batch_matches_local_bytes_and_hashes(tmp_path: Path, ray_head: str) -> None:
    local, remote = tmp_path / "local", tmp_path / "ray"
    common = [SWEEP, "--variants", "3", "--no-pictures", "--quiet"]
    assert main(["batch", *common, "--workers", "1", "--out", str(local)]) == 0
    assert main(["batch", *common, "--backend", "ray", "--address", ray_head, "--out", str(remote)]) == 0
    a, b = _results(local), _results(remote)
    assert len(a) == 3 and a == b
    hashes = [r["state_hash"] for r in read_rows(local)]
    assert hashes == [r["state_hash"] for r in read_rows(remote)] and len(set(hashes)) == 3
    assert main(["regress", "--baseline", str(local), "--current", str(remote), "--fail-on-hash-change",
                 "--quiet"]) == 0  # fmt: skip


def test_search_runs_through_ray(tmp_path: Path, ray_head: str) -> None:
    out = tmp_path / "s"
    code = main(["search", SWEEP, "--budget", "4", "--backend", "ray", "--address", ray_head, "--out", str(out),
                 "--quiet"])  # fmt: skip
    assert code == 0  # sweep.yaml has no criteria: nothing fails
    rep = json.loads((out / "search.json").read_text())
    assert rep["search_runs"] == 4 and {t["status"] for t in rep["trials"]} == {"pass"}
    assert all((out / t["dir"] / "manifest.json").is_file() for t in rep["trials"])


def test_ray_cuts_python_and_native_hangs_past_the_timeout(
    tmp_path: Path, ray_head: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simcore.batch import pool

    monkeypatch.setattr(pool, "KILL_GRACE_S", 1.0)  # the driver cancels a task 1 s past the limit
    agents = TESTS / "batch" / "batch_agents.py"
    args = [a for name in ("Sleeper", "DeafSleeper") for a in ("--agent", f"{agents}:{name}")] + [
        "--agent",
        "autopilot",
    ]
    out = tmp_path / "b"
    t0 = time.monotonic()
    code = main(["batch", SWEEP, "--variants", "1", *args, "--backend", "ray", "--address", ray_head,
                 "--timeout-s", "4", "--no-pictures", "--quiet", "--out", str(out)])  # fmt: skip
    took = time.monotonic() - t0
    assert code == 2
    by = {r["agent"].split(":")[-1]: r for r in read_rows(out)}
    assert by["Sleeper"]["status"] == "timeout"  # the in-task alarm
    assert by["DeafSleeper"]["status"] == "timeout"  # SIGALRM blocked: only killing its worker ends it
    err = json.loads((out / by["DeafSleeper"]["dir"] / "error.json").read_text())
    assert "Ray task cancelled" in err["error"], err
    assert by["autopilot"]["status"] == "pass"
    assert took < 90  # the hour-long sleeps were cut
