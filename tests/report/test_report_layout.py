"""report.html order (verdict, criteria, scores, plots, replay, metrics), no ``nan`` shown,
run.mcap beside it; leaderboard charts say "no collisions" instead of an empty frame."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from simcore.cli import main
from simcore.report.html import fmt_value
from simcore.report.leaderboard import chart_panels, leaderboard, render_leaderboard_html
from simcore.report.runlog import read_run_log

REAR_END = str(Path(__file__).resolve().parent.parent / "data" / "rear_end.yaml")
SCORE_NAMES = ("simcore-v1", "carla-leaderboard-1.0", "carla-leaderboard-2.0", "carla-leaderboard-2.1",
               "nuplan-cls-v1", "navsim-pdms-v1", "navsim-epdms-v2")  # fmt: skip


def visible_text(html: str) -> str:
    """What a reader sees: scripts, styles and tags removed."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_fmt_value_never_shows_nan() -> None:
    assert fmt_value(math.nan) == "—" and fmt_value(np.float64("nan")) == "—" and fmt_value(None) == "—"
    assert fmt_value(math.inf) == "∞" and fmt_value(-math.inf) == "−∞" and fmt_value(0.123456) == "0.1235"


def test_report_order_no_nan_and_log(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", REAR_END, "--agent", "idle", "--quiet", "--out", str(out)]) in (0, 1)
    html = (out / "report.html").read_text(encoding="utf-8")
    order = [html.index(f'id="{s}"') for s in ("verdicts", "scores", "plots", "viewer", "summary", "metrics")]
    assert order == sorted(order)
    assert html.index("PASS" if "PASS</span></h1>" in html else "FAIL") < order[0]  # the verdict first
    assert not re.search(r"\bnan\b", visible_text(html), re.I)
    assert 'id="sv-canvas"' in html
    log = read_run_log(out)
    assert log.result is not None and log.state["time"].size > 1


def _entry(agent: str, scenario: str, collisions: int, status: str = "pass") -> dict:
    return {"agent_key": agent, "agent": agent, "scenario_key": scenario, "status": status, "collisions": collisions,
            "route_completion": 1.0, "scores": dict.fromkeys(SCORE_NAMES, 80.0)}  # fmt: skip


def test_leaderboard_zero_collisions_is_a_sentence() -> None:
    board = leaderboard([_entry(a, s, 0) for a in ("a", "b") for s in ("x", "y")])
    notes = {title: note for title, _, note in chart_panels(board)}
    assert notes["collisions per run"] == "no collisions"
    assert notes["pass rate"] is None and notes["simcore-v1 (mean)"] is None
    html = render_leaderboard_html(board)  # the sentence on the page, a chart for every other panel
    assert "no collisions" in visible_text(html)
    assert html.count('<svg class="chart"') == sum(n is None for _, _, n in chart_panels(board))
    board = leaderboard([_entry("a", "x", 2), _entry("b", "x", 0)])
    assert {t: n for t, _, n in chart_panels(board)}["collisions per run"] is None


def wide_board() -> dict:
    """Seven scores, long agent names, a missing route completion: the widest realistic leaderboard."""
    names = ("autopilot", "mypackage.agents.planner:LatticePlanner", "idle")
    entries = [_entry(a, f"urban/scenario_{k}", k % 2) for a in names for k in range(4)]
    entries.append(_entry("no-route", "urban/scenario_0", 0))
    entries[-1]["route_completion"] = math.nan
    return leaderboard(entries)


def test_leaderboard_html_has_no_nan() -> None:
    html = render_leaderboard_html(wide_board())
    assert not re.search(r"\bnan\b", visible_text(html), re.I)
    assert "<td>—</td>" in html  # the missing route completion
    assert html.count('class="wide"') == 2


def test_leaderboard_fits_1280_px_in_chromium(tmp_path: Path, chromium: Any) -> None:
    """The widest realistic leaderboard scrolls no wider than a 1280 px window."""
    from simcore.report.leaderboard import write_leaderboard_html

    page = write_leaderboard_html(wide_board(), tmp_path / "leaderboard.html")
    chromium.set_window_size(1280, 900)
    chromium.get(page.as_uri())
    width, inner = chromium.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert inner <= 1280 and width <= inner
