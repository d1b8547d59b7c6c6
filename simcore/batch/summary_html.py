"""batch.html: score distribution per scenario, the failure list and the coverage tables of one batch."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from simcore.report.html import png_data_uri


def score_boxplot(rows: list[dict[str, Any]]) -> bytes | None:
    """PNG: one box (with the runs as dots) of the simcore score per scenario; None without scores."""
    from simcore.render.mpl import fig_png, plt

    by: dict[str, list[float]] = {}
    for r in rows:
        if r.get("score") is not None:
            by.setdefault(r["scenario_key"], []).append(float(r["score"]))
    if not by:
        return None
    names = sorted(by)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.4), dpi=100)
    ax.boxplot([by[n] for n in names], orientation="horizontal", widths=0.6)
    for k, n in enumerate(names, 1):
        ax.plot(by[n], [k] * len(by[n]), "o", ms=3, alpha=0.5, color="tab:blue")
    ax.set_yticks(range(1, len(names) + 1), names)
    ax.set_xlabel("simcore-v1 score")
    ax.set_xlim(-2, 102)
    fig.tight_layout()
    return fig_png(fig)


def render_batch_html(rows: list[dict[str, Any]], cov: dict[str, Any]) -> str:
    """The page: counts, score distributions, every failed / errored run, coverage."""
    e = html.escape
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>simcore batch</title>',
        "<style>body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em}"
        "th{background:#f2f2f2}img{max-width:100%}</style></head><body>",
        "<h1>simcore batch</h1>",
        "<p>" + ", ".join(f"{n} {e(k)}" for k, n in sorted(counts.items())) + f" of {len(rows)} run(s).</p>",
    ]
    png = score_boxplot(rows)
    if png is not None:
        out.append('<h2 id="scores">Score per scenario</h2>')
        out.append(f'<img alt="score distribution per scenario" src="{png_data_uri(png)}">')
    bad = [r for r in rows if r["status"] != "pass"]
    out.append(f'<h2 id="failures">Failures ({len(bad)})</h2>')
    if bad:
        out.append("<table><tr><th>run</th><th>status</th><th>outcome</th><th>score</th><th>why</th></tr>")
        for r in bad:
            why = r.get("error") or ", ".join(json.loads(r.get("failed_criteria") or "[]"))
            score = "" if r.get("score") is None else f"{r['score']:.1f}"
            link = f'<a href="{e(r["dir"])}/report.html">{e(r["dir"])}</a>'
            cells = [link, e(r["status"]), e(str(r.get("outcome") or "")), score, e(why or "")]
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        out.append("</table>")
    out.append(
        '<h2 id="coverage">Coverage</h2><table><tr><th>scenario</th><th>parameter</th>'
        "<th>declared</th><th>exercised</th><th>bins filled</th></tr>"
    )
    for p in cov["parameters"]:
        cells = [
            p["scenario"],
            p["parameter"],
            "[{:g}, {:g}]".format(*p["declared"]),
            "[{:g}, {:g}]".format(*p["exercised"]),
            f"{p['bins_filled']}/{p['bins']}",
        ]
        out.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in cells) + "</tr>")
    out.append("</table><table>")
    feats = {"tags": cov["tags"], **cov["features"], **{f"criticality {m}": c for m, c in cov["criticality"].items()}}
    for k, d in feats.items():
        text = ", ".join(f"{a}: {n}" for a, n in d.items()) or "-"
        out.append(f"<tr><th>{e(k)}</th><td>{e(text)}</td></tr>")
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def write_batch_html(rows: list[dict[str, Any]], cov: dict[str, Any], path: Path) -> Path:
    """Write ``render_batch_html`` to ``path``."""
    path.write_text(render_batch_html(rows, cov), encoding="utf-8")
    return path
