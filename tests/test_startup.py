"""First-run feedback while kernels compile (simcore._startup) and the cold-cache check."""

import io
from pathlib import Path

import numba
import pytest

from simcore import _jit
from simcore._startup import compile_notice


def test_notice_says_compiling_then_done_and_nothing_when_warm():
    out = io.StringIO()
    with compile_notice(True, out):
        pass
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("compiling kernels, first run only")
    assert lines[-1].startswith("compiling kernels, first run only") and ": done in " in lines[-1]
    quiet = io.StringIO()
    with compile_notice(False, quiet):
        pass
    assert quiet.getvalue() == ""


def test_notice_reports_a_stop_on_error():
    out = io.StringIO()
    with pytest.raises(RuntimeError), compile_notice(True, out):
        raise RuntimeError("bad scenario")
    assert out.getvalue().splitlines()[-1].endswith(": stopped")


def test_cache_is_cold_follows_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_jit, "_CACHE", True)
    assert _jit.cache_is_cold()
    (Path(tmp_path) / "mod").mkdir()
    (Path(tmp_path) / "mod" / "f.nbi").write_bytes(b"")
    assert not _jit.cache_is_cold()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_notice_counts_compiles_and_names_the_kernel_compiling_now():
    # A fresh (uncached) function: one real compile, which the progress line names while it runs.
    @numba.njit(cache=False)
    def notice_probe(n):
        s = 0.0
        for i in range(n):
            s += i**0.5
        return s

    out = _Tty()
    with compile_notice(True, out, every_s=0.001):
        assert notice_probe(4) == pytest.approx(1 + 2**0.5 + 3**0.5)
    text = out.getvalue()
    assert "now notice_probe" in text
    assert text.rstrip().split("\r")[-1].endswith("(1 kernels)\x1b[K")
    assert notice_probe(5) > 0


def test_warmup_runs_a_scenario_and_names_the_cache(capsys):
    from simcore.cli import main

    assert main(["warmup", "urban/cut_in"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("kernels ") and str(numba.config.CACHE_DIR) in out
    assert main(["warmup", "--quiet", "no/such_scenario"]) == 2
    assert "no/such_scenario" in capsys.readouterr().err


def test_run_process_ends_without_teardown_and_loses_nothing(tmp_path):
    """``python -m simcore run`` ends through ``_startup.exit_now`` (no interpreter teardown): its
    exit status is the verdict's, the summary reaches a pipe, every output file is complete, and
    nothing registered to run at exit does (the proof that the teardown was skipped)."""
    import json
    import os
    import subprocess
    import sys

    scenario = Path(__file__).parent / "data" / "rear_end.yaml"
    marker = tmp_path / "atexit-ran"
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(  # an atexit hook in the child (coverage would disable the fast exit)
        f"import atexit, pathlib\natexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('x'))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])}
    env.pop("COVERAGE_PROCESS_START", None)
    for agent in ("autopilot", "idle"):
        out = tmp_path / agent
        proc = subprocess.run(
            [sys.executable, "-m", "simcore", "run", str(scenario), "--agent", agent, "--out", str(out)],
            capture_output=True, text=True, env=env, timeout=600, check=False,
        )  # fmt: skip
        result = json.loads((out / "result.json").read_text())
        assert proc.returncode == (0 if result["passed"] else 1), proc.stderr
        assert agent != "idle" or proc.returncode == 1
        lines = proc.stdout.splitlines()
        assert f"result     {'PASS' if result['passed'] else 'FAIL'}" in lines and lines[-1].startswith("start-up ")
        assert (out / "report.html").read_text().rstrip().endswith("</html>")
        assert (out / "topdown.png").read_bytes()[-8:-4] == b"IEND" and (out / "run.mcap").stat().st_size > 0
    assert not marker.exists()


def test_gc_is_held_while_a_run_starts_then_frozen_and_back_on():
    import gc

    from simcore import _startup

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        _startup.hold_gc()
        assert not gc.isenabled()
        _startup.release_gc()
        assert gc.isenabled() and gc.get_freeze_count() > frozen  # start-up's objects are not rescanned
        gc.unfreeze()
        _startup.release_gc()  # without a hold: nothing happens
        assert gc.get_freeze_count() == 0
        gc.disable()  # a caller that has the collector off keeps it off
        _startup.hold_gc()
        _startup.release_gc()
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
