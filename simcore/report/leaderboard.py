"""Leaderboard over a batch: agents compared on every score, pass rate, collisions, route completion."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from simcore.render.svg import bar_chart
from simcore.report.html import fmt_value

#: Rule for runs that ended in an error entry (documented in docs/reports.md).
ERROR_RULE = "runs that ended in an error count as not passed, with every score and route completion 0"


def _mean(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return sum(vals) / len(vals) if vals else None


def leaderboard(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The leaderboard of batch ``entries`` (``summary.json``'s list), agents ranked by mean simcore score.

    Per agent: runs, passed / failed / errors, pass rate, mean of every published score,
    mean route completion, collisions (total and per run), red lights, off-road events,
    and the mean simcore score per scenario. ``ERROR_RULE`` says how errors count.
    """
    runs = [e for e in entries if e.get("agent_key")]
    score_names = sorted({k for e in runs for k in (e.get("scores") or {})})
    agents = sorted({e["agent_key"] for e in runs})
    scenarios = sorted({e["scenario_key"] for e in runs})
    rows = []
    for a in agents:
        mine = [e for e in runs if e["agent_key"] == a]
        n = len(mine)
        ok = [e for e in mine if e["status"] != "error"]

        def score_of(e: dict[str, Any], name: str) -> float:
            return 0.0 if e["status"] == "error" else (e.get("scores") or {}).get(name, 0.0) or 0.0

        per_scenario = {}
        for s in scenarios:
            sel = [e for e in mine if e["scenario_key"] == s]
            if sel:
                per_scenario[s] = _mean([score_of(e, "simcore-v1") for e in sel])
        rows.append(
            {
                "agent": a,
                "agent_spec": mine[0]["agent"],
                "runs": n,
                "passed": sum(e["status"] == "pass" for e in mine),
                "failed": sum(e["status"] == "fail" for e in mine),
                "errors": sum(e["status"] == "error" for e in mine),
                "pass_rate": sum(e["status"] == "pass" for e in mine) / n if n else 0.0,
                "scores": {name: _mean([score_of(e, name) for e in mine]) for name in score_names},
                "route_completion": _mean([0.0 if e["status"] == "error" else e.get("route_completion") for e in mine]),  # type: ignore[misc]
                "collisions": sum(int(e.get("collisions") or 0) for e in ok),
                "collisions_per_run": sum(int(e.get("collisions") or 0) for e in ok) / n if n else 0.0,
                "red_lights": sum(int(e.get("red_lights") or 0) for e in ok),
                "offroad": sum(int(e.get("offroad") or 0) for e in ok),
                "by_scenario": per_scenario,
            }
        )
    rows.sort(key=lambda r: (-(r["scores"].get("simcore-v1") or 0.0), r["agent"]))
    return {
        "simcore_leaderboard": 1,
        "rule": ERROR_RULE,
        "score_names": score_names,
        "scenarios": scenarios,
        "scenario_errors": sum(1 for e in entries if not e.get("agent_key")),
        "agents": rows,
    }


def _f(v: Any, digits: int = 3) -> str:
    if isinstance(v, float) and math.isfinite(v) and abs(v) >= 1000:
        return f"{v:.0f}"
    return fmt_value(v, digits)


#: What an all-zero chart says instead of an empty frame, by panel title (default: EMPTY_NOTE).
ZERO_NOTES = {"collisions per run": "no collisions", "pass rate": "no run passed"}
EMPTY_NOTE = "0 for every agent"


def chart_panels(board: dict[str, Any]) -> list[tuple[str, list[float], str | None]]:
    """(title, value per agent, note) per bar chart; ``note`` replaces a chart whose bars are all 0."""
    rows = board["agents"]
    panels: list[tuple[str, list[float]]] = [
        ("pass rate", [r["pass_rate"] for r in rows]),
        ("route completion (mean)", [r["route_completion"] or 0.0 for r in rows]),
        ("collisions per run", [r["collisions_per_run"] for r in rows]),
    ]
    for name in board["score_names"]:
        panels.append((f"{name} (mean)", [r["scores"].get(name) or 0.0 for r in rows]))
    return [
        (title, values, None if any(v > 0 for v in values) else ZERO_NOTES.get(title, EMPTY_NOTE))
        for title, values in panels
    ]


#: Bar colour per agent (in rank order, repeating).
AGENT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def bar_charts(board: dict[str, Any]) -> str:
    """Inline SVG: one bar chart per compared quantity (agents side by side, three per row within
    1,200 px); an all-zero quantity is a sentence ("no collisions"), not an empty frame."""
    agents = [r["agent"] for r in board["agents"]]
    out = ['<div class="charts">']
    for title, values, note in chart_panels(board):
        if note is not None:
            out.append(f'<div class="zero"><b>{html.escape(title)}</b><br>{html.escape(note)}</div>')
        else:
            out.append(bar_chart(agents, values, title=title, colours=AGENT_COLOURS))
    out.append("</div>")
    return "".join(out)


def render_leaderboard_html(board: dict[str, Any]) -> str:
    """The leaderboard as one self-contained HTML page (tables and inline bar charts)."""
    e = html.escape
    names = board["score_names"]
    head = ["rank", "agent", "runs", "pass rate", "passed", "failed", "errors", "route completion", "collisions"]
    head += ["red lights", "off-road", *names]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>simcore leaderboard</title>',
        # fits a 1280 px window: headers wrap, wide tables scroll inside their box, images shrink
        "<style>body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:1.5em;color:#222;max-width:1200px}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .45em}"
        "th{background:#f2f2f2;max-width:7.5em;overflow-wrap:anywhere;font-size:.92em}"
        ".wide{overflow-x:auto;max-width:100%}img{max-width:100%}.note{color:#555;font-size:.9em}"
        ".charts{display:flex;flex-wrap:wrap;gap:8px}svg.chart{max-width:100%;height:auto;font-size:11px}"
        ".zero{width:380px;height:220px;display:flex;flex-direction:column;justify-content:center;"
        "text-align:center;color:#555;border:1px solid #eee}</style>"
        "</head><body>",
        "<h1>simcore leaderboard</h1>",
        f"<p>{len(board['agents'])} agent(s) over {len(board['scenarios'])} scenario(s); ranked by mean "
        f"simcore-v1 score. Means are over every run of the agent; {e(board['rule'])}.</p>",
        '<h2 id="table">Agents</h2><div class="wide"><table>',
        "<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>",
    ]
    for k, r in enumerate(board["agents"], 1):
        cells = [k, r["agent"], r["runs"], f"{100 * r['pass_rate']:.1f} %", r["passed"], r["failed"], r["errors"]]
        cells += [_f(r["route_completion"]), r["collisions"], r["red_lights"], r["offroad"]]
        cells += [_f(r["scores"].get(n)) for n in names]
        out.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in cells) + "</tr>")
    out.append("</table></div>")
    if board["scenario_errors"]:
        out.append(f"<p>{board['scenario_errors']} scenario file(s) failed to load (see summary.json).</p>")
    if board["agents"]:
        out.append('<h2 id="charts">Charts</h2>')
        out.append(bar_charts(board))
        out.append('<h2 id="by-scenario">Mean simcore-v1 score per scenario</h2><div class="wide"><table>')
        out.append("<tr><th>scenario</th>" + "".join(f"<th>{e(r['agent'])}</th>" for r in board["agents"]) + "</tr>")
        for s in board["scenarios"]:
            cells = [_f(r["by_scenario"].get(s)) for r in board["agents"]]
            out.append(f"<tr><td>{e(s)}</td>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        out.append("</table></div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_leaderboard_html(board: dict[str, Any], path: Path) -> Path:
    """Write ``render_leaderboard_html`` to ``path``."""
    path.write_text(render_leaderboard_html(board), encoding="utf-8")
    return path
