"""Every file in tests/scenarios_bad/ is rejected with a located, helpful error.

Each bad file starts with ``# expect: LINE:COL: PHRASE``: ``simcore validate`` must exit 2
and report ``FILE:LINE:COL:`` with a message containing PHRASE. An optional second line
``# engine-bug: WHY`` marks a known wrong location in the engine (strict xfail, so the test
turns into a failure the day the engine is fixed and the marker should go).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from simcore.cli import main

BAD_DIR = Path(__file__).resolve().parents[1] / "scenarios_bad"
BAD_FILES = sorted(BAD_DIR.glob("*.yaml"))

_EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$")
_BUG = re.compile(r"^# engine-bug: (.+)$")


def expectation(path: Path) -> tuple[int, int, str, str | None]:
    """(line, col, phrase, engine-bug note or None) from the file's header comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    m = _EXPECT.match(lines[0])
    assert m, f"{path.name}: first line must be '# expect: LINE:COL: PHRASE'"
    bug = _BUG.match(lines[1]) if len(lines) > 1 else None
    return int(m.group(1)), int(m.group(2)), m.group(3).strip(), bug.group(1) if bug else None


def _param(path: Path) -> object:
    bug = expectation(path)[3]
    marks = [pytest.mark.xfail(strict=True, reason=f"engine bug: {bug}")] if bug else []
    return pytest.param(path, id=path.stem, marks=marks)


def test_bad_folder_is_populated() -> None:
    assert len(BAD_FILES) >= 21
    for path in BAD_FILES:
        expectation(path)  # every file carries a well-formed header


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_scenario_is_rejected(path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Exit 2 and the expected phrase, wherever it is located (no engine-bug exemption)."""
    phrase = expectation(path)[2]
    code = main(["validate", str(path)])
    err = capfd.readouterr().err
    assert code == 2, err
    assert phrase in err
    assert err.startswith(f"{path}:")


@pytest.mark.parametrize("path", [_param(p) for p in BAD_FILES])
def test_bad_scenario_reports_located_error(path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    line, col, phrase, _ = expectation(path)
    code = main(["validate", str(path)])
    out, err = capfd.readouterr()
    assert code == 2, err
    where = f"{path}:{line}:{col}:"
    located = [e for e in err.splitlines() if e.startswith(where)]
    assert located, f"no error at {where}\nstderr:\n{err}"
    assert any(phrase in e for e in located), f"{phrase!r} not in the error at {where}\n{err}"
    # Nothing the file contains is executed (python/object/apply:os.system "echo hi").
    assert "hi" not in out.split()
    assert "1 invalid" in out


def test_python_tag_runs_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.yaml"
    bad.write_text(
        f'simcore: 1\nname: !!python/object/apply:os.system ["touch {marker}"]\nmap: {{generate: intersection}}\n'
    )
    assert main(["validate", str(bad)]) == 2
    err = capfd.readouterr().err
    assert f"{bad}:2:7:" in err and "is not allowed" in err
    assert not marker.exists()


def test_alias_bomb_refused_quickly() -> None:
    from simcore.scenario.errors import ScenarioError
    from simcore.scenario.loader import load_scenario

    t0 = time.perf_counter()
    with pytest.raises(ScenarioError, match="alias bomb"):
        load_scenario(BAD_DIR / "alias_bomb.yaml")
    assert time.perf_counter() - t0 < 2.0


def test_validate_whole_folder(capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(BAD_DIR)])
    out, err = capfd.readouterr()
    assert code == 2
    assert f"0 valid, {len(BAD_FILES)} invalid" in out
    loc = re.compile(r"^(.+\.yaml):(\d+):(\d+): ")
    reported = {m.group(1) for m in map(loc.match, err.splitlines()) if m}
    assert reported == {str(p) for p in BAD_FILES}
    # every stderr line is a located error
    assert all(loc.match(e) for e in err.splitlines() if e.strip())


def test_run_bad_file_is_invalid_input(capfd: pytest.CaptureFixture[str]) -> None:
    path = BAD_DIR / "unknown_lane.yaml"
    assert main(["run", str(path), "--quiet"]) == 2
    err = capfd.readouterr().err
    assert f"{path}:8:11:" in err and "unknown lane" in err
