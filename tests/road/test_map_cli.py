"""``simcore map show|info`` through simcore.map_cli (the main parser is wired elsewhere)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from simcore import map_cli

FIXTURE = Path(__file__).parent / "data" / "small_town.xodr"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="simcore")
    map_cli.add_map_commands(ap.add_subparsers(dest="command", required=True))
    return ap


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return int(args.func(args))


def test_info_json_counts_the_fixture(capsys):
    assert _run(["map", "info", str(FIXTURE), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["roads"] == len(re.findall(r"<road\s", FIXTURE.read_text()))
    assert info["lanes_by_type"] == {"driving": 8, "sidewalk": 2, "bike": 0, "shoulder": 1, "parking": 0}
    assert info["junctions"] == 1 and info["signal_groups"] == 1 and info["crosswalks"] == 1
    assert info["stop_lines"] == 2 and info["signalised_stop_lines"] == 1
    # Driving length: road 1 both ways (2 x 100 m, lane 1:1:-1 widens so its centre bends a little),
    # connector 2 x 10 m, road 2 (95 m reference line) about 95-105 m per lane depending on the curve side.
    assert 390.0 < info["driving_length_m"] < 430.0


def test_info_text_and_generated_grid(capsys):
    assert _run(["map", "info", "grid:2x2"]) == 0
    out = capsys.readouterr().out
    assert "junctions: 4" in out and "lanes by type: driving" in out


def test_show_writes_a_png(tmp_path):
    out = tmp_path / "map.png"
    assert _run(["map", "show", str(FIXTURE), "--out", str(out), "--quiet"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv_kind", ["info", "show"])
def test_bad_map_exits_2_with_a_located_message(tmp_path, capsys, argv_kind):
    bad = tmp_path / "broken.xodr"
    bad.write_text(FIXTURE.read_text()[:3000])
    argv = ["map", argv_kind, str(bad)] + (["--out", str(tmp_path / "x.png")] if argv_kind == "show" else [])
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "malformed XML" in err
    assert not (tmp_path / "x.png").exists()


def test_unknown_map_type_exits_2(tmp_path, capsys):
    assert _run(["map", "info", str(tmp_path / "map.txt")]) == 2
    assert "unknown map type" in capsys.readouterr().err


def test_info_lists_the_tolerated_defects(tmp_path, capsys):
    bad = tmp_path / "dangling.xodr"
    bad.write_text(
        FIXTURE.read_text().replace(
            '<successor elementType="road" elementId="2" contactPoint="start"/>',
            '<successor elementType="road" elementId="99" contactPoint="start"/>',
        )
    )
    assert _run(["map", "info", str(bad)]) == 0
    out = capsys.readouterr().out
    assert "warnings: 1" in out and re.search(r"warning: .*dangling\.xodr: road '3': successor road '99'", out)
    assert _run(["map", "info", str(FIXTURE), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []
