"""The warm server (simcore.server, docs/server.md): a command it answers gives the same bytes, exit
status and errors as the same command run in-process; signals reach the child; a stale server is
never used; the command's side imports only the standard library. One server per module, in a
private temporary folder (SIMCORE_SERVER_DIR), stopped at the end."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from simcore.server import client

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or not hasattr(client.socket, "send_fds"), reason="needs fork and descriptor passing"
)

HELPERS = Path(__file__).resolve().parent / "agents_for_tests.py"
SCENARIO = "urban/signalized_intersection"
#: result.json fields that hold the wall-clock time of the run (they differ between any two runs).
WALL_FIELDS = ("wall_time_s", "real_time_factor")


def _simcore(env: dict[str, str], *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simcore", *args], env=env, capture_output=True, text=True, **kw)


def _status(env: dict[str, str]) -> dict | None:
    out = _simcore(env, "server", "status", "--json")
    return json.loads(out.stdout) if out.returncode == 0 else None


@pytest.fixture(scope="module")
def served():
    """The environment of commands that reach a running server (and the server's status)."""
    folder = tempfile.mkdtemp(prefix="sc-", dir="/tmp")  # short: a socket path has ~100 bytes
    env = {**os.environ, client.DIR_ENV: folder}
    env.pop(client.OFF_ENV, None)
    info = None
    try:
        start = _simcore(env, "server", "start", "--idle-timeout", "120", timeout=120)
        assert start.returncode == 0, start.stderr
        info = _status(env)
        assert info is not None
        yield env
    finally:
        stop = _simcore(env, "server", "stop", timeout=60)
        stopped = _status(env) is None
        if info is not None and not stopped:  # stop did not end it: end it here
            with contextlib.suppress(ProcessLookupError):
                os.kill(info["pid"], signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
    assert stop.returncode == 0 and stopped, stop.stdout + stop.stderr


def _requests(env: dict[str, str]) -> int:
    info = _status(env)
    assert info is not None
    return info["requests"]


def _result(out: Path) -> dict:
    doc = json.loads((out / "result.json").read_text())
    for name in WALL_FIELDS:
        del doc[name]
    return doc


def test_a_served_run_equals_an_in_process_run(served, tmp_path):
    before = _requests(served)
    via = _simcore(served, "run", "--quiet", SCENARIO, "--out", str(tmp_path / "server"))
    assert _requests(served) == before + 1  # the server answered it
    here = _simcore({**served, client.OFF_ENV: "1"}, "run", "--quiet", SCENARIO, "--out", str(tmp_path / "here"))
    assert _requests(served) == before + 1  # SIMCORE_NO_SERVER=1 ran it in-process
    assert via.returncode == here.returncode == 0
    a, b = _result(tmp_path / "server"), _result(tmp_path / "here")
    assert a["state_hash"] and a["state_hash"] == b["state_hash"]
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    for name in ("run.mcap", "topdown.png"):
        assert (tmp_path / "server" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name


def test_errors_and_exit_statuses_are_the_in_process_ones(served, tmp_path):
    here = {**served, client.OFF_ENV: "1"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nroad: [1, 2\n")
    for args in (["validate", str(bad)], ["run", "--bogus"]):
        a, b = _simcore(served, *args), _simcore(here, *args)
        assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr), args
    # an error nothing in the run catches: a non-zero status and the traceback on the command's stderr
    crash = _simcore(served, "run", "--quiet", SCENARIO, "--agent", f"{HELPERS}:Unnamed")
    assert crash.returncode == 1
    assert "Traceback (most recent call last)" in crash.stderr
    assert "RuntimeError: this agent has no name, on purpose" in crash.stderr


def _wait_running(env: dict[str, str], n: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = _status(env)
        if info is not None and info["running"] == n:
            return
        time.sleep(0.05)
    raise AssertionError(f"the server did not have {n} running command(s) within {timeout_s} s")


@pytest.mark.parametrize(
    ("sig", "status", "says"),
    [
        # in-process too, Ctrl-C inside an agent's call is that agent's failure: the run ends FAIL
        (signal.SIGINT, 1, "interrupted (SIGINT)"),
        (signal.SIGTERM, 128 + signal.SIGTERM, ""),  # simcore run's SIGTERM: unwind, exit 143
        (signal.SIGKILL, -signal.SIGKILL, ""),  # nothing relayed: the server sees the command go
    ],
)
def test_signals_reach_the_child_and_a_killed_command_ends_it(served, sig, status, says):
    proc = subprocess.Popen(
        [sys.executable, "-m", "simcore", "run", SCENARIO, "--agent", f"{HELPERS}:Sleeper"],
        env=served,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_running(served, 1)
        time.sleep(0.3)  # inside the run's steps
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
        _wait_running(served, 0)  # the child is gone
    finally:
        proc.kill()
    assert proc.returncode == status
    assert says in out


def test_a_stale_server_is_never_used(served, monkeypatch, tmp_path):
    before = _requests(served)
    # a variable read at import time (NUMBA_*, SIMCORE_*, PYTHON*, ...) is part of the install key
    other = _simcore({**served, "SIMCORE_TEST_KEY": "1"}, "list")
    assert other.returncode == 0 and "signalized_intersection" in other.stdout and _requests(served) == before
    # so is every file of the package: an edit (a new modification time) changes the key
    pkg = tmp_path / "pkg"
    (pkg / "server").mkdir(parents=True)
    (pkg / "cli.py").write_text("x = 1\n")
    monkeypatch.setattr(client, "_PKG", str(pkg))
    key = client.install_key()
    assert client.install_key() == key
    os.utime(pkg / "cli.py", ns=(1, 1))
    assert client.install_key() != key


def test_the_command_side_imports_only_the_standard_library(served):
    code = (
        "import sys\n"
        f"sys.argv = ['simcore', 'run', '--quiet', {SCENARIO!r}]\n"
        "from simcore.cli import main\n"
        "status = main()\n"
        "ours = sorted(m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names)\n"
        "print(status, ' '.join(ours))\n"
    )
    before = _requests(served)
    out = subprocess.run([sys.executable, "-c", code], env=served, capture_output=True, text=True, check=True)
    assert _requests(served) == before + 1
    status, *mods = out.stdout.split()
    assert status == "0"
    simcore = {m for m in mods if m.split(".")[0] == "simcore"}
    assert simcore == {"simcore", "simcore.cli", "simcore._data", "simcore.server", "simcore.server.client"}
    assert not [m for m in mods if m.split(".")[0] in ("numpy", "numba", "pydantic", "yaml")]


def test_private_folder_only(monkeypatch):
    folder = tempfile.mkdtemp(prefix="sc-", dir="/tmp")
    monkeypatch.setenv(client.DIR_ENV, folder)
    try:
        assert client.server_dir() == folder
        os.chmod(folder, 0o750)  # readable by the group: never used
        assert client.server_dir() is None and client.server_dir(create=True) is None
        assert _simcore(dict(os.environ), "server", "start").returncode == 2
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_an_idle_server_exits_and_removes_its_socket(monkeypatch):
    from simcore.server.daemon import Server

    folder = tempfile.mkdtemp(prefix="sc-", dir="/tmp")
    try:
        server = Server(lambda argv: 0, "k" * 24, folder, idle_s=0.2)
        server.bind()
        assert os.path.exists(server.path)
        t0 = time.monotonic()
        server.serve()  # returns once idle for 0.2 s
        assert 0.2 <= time.monotonic() - t0 < 10
        assert not os.path.exists(server.path)
    finally:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        shutil.rmtree(folder, ignore_errors=True)
