"""One error path: every load-time problem the issue found is a located, typed error in
``validate`` and ``run`` alike, and a scenario that validates runs (issue 17)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from simcore.api import simulation
from simcore.cli import main
from simcore.scenario.schema import _ACTION_KEYS, _TRIGGER_KEYS

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / "tests" / "data" / "rear_end.yaml").read_text()
CONSTRUCTION = (ROOT / "scenarios" / "urban" / "construction_lane_closure.yaml").read_text()


def errors(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[list[str], list[str]]:
    """(validate's error lines, run's error lines) of ``text``, file names cut to ``s.yaml``."""
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert main(["validate", str(path), "--quiet", *extra]) == 2
    v = capsys.readouterr().err
    assert main(["run", str(path), "--quiet", *extra]) == 2
    r = capsys.readouterr().err
    cut = [line.replace(str(path), "s.yaml") for line in v.splitlines()]
    return cut, [line.replace(str(path), "s.yaml") for line in r.splitlines()]


def same(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    v, r = errors(tmp_path, text, capsys)
    assert v == r  # the same located error from validate and run
    return v


STORY = "storyboard:\n  - name: a\n    when: {when}\n    do: {do}\n"
# the kinds in the order the schema lists them (one list: simcore.scenario.schema)
TRIGGERS = ", ".join(_TRIGGER_KEYS)
ACTIONS = ", ".join(_ACTION_KEYS)


@pytest.mark.parametrize(
    ("when", "do", "got_when", "got_do"),
    [
        ('"x"', '"y"', "'x'", "'y'"),
        ("3", "[1]", "3", "a list"),
        ("null", "null", "null", "null"),
        ("[1, 2]", "7", "a list", "7"),
    ],
)
def test_storyboard_entries_of_wrong_types(tmp_path, capsys, when, do, got_when, got_do) -> None:
    lines = same(tmp_path, BASE + STORY.format(when=when, do=do), capsys)
    assert lines == [
        f"s.yaml:24:11: storyboard[0].when: a trigger has exactly one of the keys {TRIGGERS}, got {got_when}",
        f"s.yaml:25:9: storyboard[0].do: an action has exactly one of the keys {ACTIONS}, got {got_do}",
    ]


def test_negative_seed_is_located(tmp_path, capsys) -> None:
    assert same(tmp_path, BASE.replace("seed: 1\n", "seed: -1\n"), capsys) == [
        "s.yaml:5:7: seed: expected a number >= 0, got -1"
    ]


@pytest.mark.parametrize("seed", ["-1", "9223372036854775808"])
def test_cli_seed_takes_what_the_file_takes(capsys, seed) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "x.yaml", "--seed", seed])
    assert exc.value.code == 2
    assert f"argument --seed: expected an integer seed in 0..9223372036854775807, got {seed}" in capsys.readouterr().err


def test_uniform_range_that_overflows(tmp_path, capsys) -> None:
    text = BASE.replace("seed: 1\n", "seed: 1\nparameters:\n  v: {uniform: [-1.0e+308, 1.0e+308]}\n")
    assert same(tmp_path, text, capsys) == [
        "s.yaml:7:16: parameters.v.uniform: range [-1e+308, 1e+308] is too wide (high - low overflows)"
    ]


def test_actor_count_is_located_at_count_not_at_the_union_tag(tmp_path, capsys) -> None:
    text = BASE.replace("    vehicle: suv\n", "    vehicle: suv\n    count: 10000000\n")
    assert same(tmp_path, text, capsys) == ["s.yaml:18:12: actors[0].count: expected a number <= 1000, got 10000000"]


def test_sweeps_past_the_variant_limit_are_refused_by_validate_too(tmp_path, capsys) -> None:
    values = "[" + ", ".join(str(i) for i in range(100)) + "]"
    params = "".join(f"  p{i}: {{sweep: {values}}}\n" for i in range(6))  # 100^6 = 10^12
    text = BASE.replace("seed: 1\n", "seed: 1\nparameters:\n" + params)
    assert same(tmp_path, text, capsys) == [
        "s.yaml:7:3: parameters: expands to 1000000000000 variants, more than the limit of 1000000 (limits.md)"
    ]
    assert main(["expand", str(tmp_path / "s.yaml")]) == 2


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ("{a: ", "}")])
@pytest.mark.parametrize("levels", [300, 5000])
def test_deep_nesting_is_located_not_at_1_1(tmp_path, capsys, opening, closing, levels) -> None:
    """Was: 1:1 "document is nested too deeply" (the composer's RecursionError), after seconds."""
    text = f"simcore: 1\nname: deep\nextra: {opening * levels}1{closing * levels}\n"
    (line,) = same(tmp_path, text, capsys)
    # the 201st opening; past libyaml's own limit (1000 levels) where that parser stopped
    col = 8 + 200 * len(opening) if levels == 300 else {"[": 1007, "{a: ": 808}[opening]
    assert line == f"s.yaml:3:{col}: nesting is deeper than 200 levels (refused here)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_map_path_that_is_a_fifo_is_refused_not_read(tmp_path, capsys) -> None:
    os.mkfifo(tmp_path / "m.xodr")
    text = re.sub(r"map:\n(  .*\n)+", "map:\n  file: m.xodr\n", BASE)
    assert same(tmp_path, text, capsys) == ["s.yaml:7:9: map.file: 'm.xodr' is not a regular file (a FIFO)"]
    os.mkfifo(tmp_path / "f.yaml")
    assert main(["validate", str(tmp_path / "f.yaml")]) == 2
    assert capsys.readouterr().err.endswith("f.yaml:1:1: not a regular file (a FIFO, device or folder)\n")


def test_start_near_the_end_of_a_lane_before_a_lane_change_validates_and_runs(tmp_path) -> None:
    """Was: 'route samples 1.13 m apart (limit 1.1 m)' from the route builder."""
    path = tmp_path / "late.yaml"
    path.write_text(CONSTRUCTION.replace("{lane: south_in_2, s: 20, speed_kph: 35}", "{lane: south_in_2, s: 180}"))
    assert main(["validate", str(path), "--quiet"]) == 0
    assert simulation(path, record_every=0).run().termination == "goal_reached"


def test_cone_row_spacing_that_reaches_the_barrier_runs(tmp_path) -> None:
    """Was: IndexError in runner/loop.py (a collision with a static-actor row)."""
    path = tmp_path / "cones.yaml"
    path.write_text(CONSTRUCTION.replace("    spacing_m: 4\n", "    spacing_m: 4.75\n"))
    assert main(["validate", str(path), "--quiet"]) == 0
    result = simulation(path, record_every=0).run().to_json()
    (ev,) = [e for e in result["events"] if e["kind"] == "collision"]
    assert ev["actors"] == ["cones#11", "barrier"] and ev["detail"] == "with static object; neither at fault"
