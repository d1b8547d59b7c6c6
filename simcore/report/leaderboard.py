"""Leaderboard over a batch: agents compared on every score, pass rate, collisions, route completion."""

from __future__ import annotations

import html
import io
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from simcore.report.html import png_data_uri

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
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def bar_charts(board: dict[str, Any]) -> bytes:
    """PNG with one bar chart per compared quantity (agents side by side)."""
    agents = [r["agent"] for r in board["agents"]]
    panels: list[tuple[str, list[float]]] = [
        ("pass rate", [r["pass_rate"] for r in board["agents"]]),
        ("route completion (mean)", [r["route_completion"] or 0.0 for r in board["agents"]]),
        ("collisions per run", [r["collisions_per_run"] for r in board["agents"]]),
    ]
    for name in board["score_names"]:
        panels.append((f"{name} (mean)", [r["scores"].get(name) or 0.0 for r in board["agents"]]))
    cols = 3
    nrows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(11, 3.0 * nrows), dpi=90, squeeze=False)
    colours = plt.get_cmap("tab10")
    for k, ax in enumerate(axes.flat):
        if k >= len(panels):
            ax.axis("off")
            continue
        title, values = panels[k]
        ax.bar(range(len(agents)), values, color=[colours(i % 10) for i in range(len(agents))])
        ax.set_xticks(range(len(agents)), agents, rotation=20, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        if max(values, default=0.0) <= 0.0:
            ax.set_ylim(0.0, 1.0)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def render_leaderboard_html(board: dict[str, Any]) -> str:
    """The leaderboard as one self-contained HTML page (tables and inline bar charts)."""
    e = html.escape
    names = board["score_names"]
    head = ["rank", "agent", "runs", "pass rate", "passed", "failed", "errors", "route completion", "collisions"]
    head += ["red lights", "off-road", *names]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>simcore leaderboard</title>',
        "<style>body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em}"
        "th{background:#f2f2f2}img{max-width:100%}.note{color:#555;font-size:.9em}</style></head><body>",
        "<h1>simcore leaderboard</h1>",
        f"<p>{len(board['agents'])} agent(s) over {len(board['scenarios'])} scenario(s); ranked by mean "
        f"simcore-v1 score. Means are over every run of the agent; {e(board['rule'])}.</p>",
        '<h2 id="table">Agents</h2><table>',
        "<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>",
    ]
    for k, r in enumerate(board["agents"], 1):
        cells = [k, r["agent"], r["runs"], f"{100 * r['pass_rate']:.1f} %", r["passed"], r["failed"], r["errors"]]
        cells += [_f(r["route_completion"]), r["collisions"], r["red_lights"], r["offroad"]]
        cells += [_f(r["scores"].get(n)) for n in names]
        out.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    if board["scenario_errors"]:
        out.append(f"<p>{board['scenario_errors']} scenario file(s) failed to load (see summary.json).</p>")
    if board["agents"]:
        out.append('<h2 id="charts">Charts</h2>')
        out.append(f'<img alt="bar charts comparing the agents" src="{png_data_uri(bar_charts(board))}">')
        out.append('<h2 id="by-scenario">Mean simcore-v1 score per scenario</h2><table>')
        out.append("<tr><th>scenario</th>" + "".join(f"<th>{e(r['agent'])}</th>" for r in board["agents"]) + "</tr>")
        for s in board["scenarios"]:
            cells = [_f(r["by_scenario"].get(s)) for r in board["agents"]]
            out.append(f"<tr><td>{e(s)}</td>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_leaderboard_html(board: dict[str, Any], path: Path) -> Path:
    """Write ``render_leaderboard_html`` to ``path``."""
    path.write_text(render_leaderboard_html(board), encoding="utf-8")
    return path
