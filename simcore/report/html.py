"""Self-contained HTML report of one run: summary, scores, verdicts, infractions, plots, critical moment."""

from __future__ import annotations

import base64
import html
import io
import math
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from simcore.report.series import CriticalMoment, EgoSeries, critical_moment, ego_series
from simcore.runner.results import Result
from simcore.units import mps_to_kph
from simcore.world import World

#: Event kinds that count as infractions in the report's table (others are listed as events).
INFRACTIONS = {"collision", "offroad", "red_light", "agent_failure", "bad_control"}
#: Half-size (m) of the square shown around the ego in the critical-moment picture.
CRITICAL_ZOOM_M = 45.0

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em} h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f2f2f2} .pass{color:#1a7f37;font-weight:600} .fail{color:#cf222e;font-weight:600}
img{max-width:100%;border:1px solid #ddd} .note{color:#555;font-size:.9em}
"""


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def fmt_value(v: Any, digits: int = 4) -> str:
    """A value as shown to people: None and NaN as "—" (never ``nan``), ±inf as "∞", floats to ``digits``."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return "—"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return f"{v:.{digits}g}"
    return str(v)


_num = fmt_value


def _table(rows: list[list[Any]], header: list[str] | None = None, raw_cols: frozenset[int] = frozenset()) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = [c if k in raw_cols else _e(c) for k, c in enumerate(row)]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for an inline <img>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _img(alt: str, png: bytes) -> str:
    return f'<img alt="{_e(alt)}" src="{png_data_uri(png)}">'


def _fig_png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def plot_series(series: EgoSeries, result: Result, critical: CriticalMoment | None = None) -> bytes:
    """PNG of ego speed, acceleration, TTC and gap over time, events as vertical lines."""
    fig, axes = plt.subplots(4, 1, figsize=(9, 9.5), dpi=100, sharex=True)
    t = series.time
    panels = [
        (mps_to_kph(series.speed), "speed (km/h)", "#1f77b4"),
        (series.accel, "acceleration (m/s²)", "#ff7f0e"),
        (np.where(np.isfinite(series.ttc), series.ttc, np.nan), "time-to-collision (s)", "#d62728"),
        (np.where(np.isfinite(series.gap), series.gap, np.nan), "gap ahead (m)", "#2ca02c"),
    ]
    for ax, (values, label, colour) in zip(axes, panels, strict=True):
        if np.isfinite(values).any():
            ax.plot(t, values, color=colour, linewidth=1.4)
        else:
            ax.text(0.5, 0.5, "nothing ahead on the route", transform=ax.transAxes, ha="center", va="center")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        for ev in result.events:
            if ev.kind.name.lower() in INFRACTIONS:
                ax.axvline(ev.time, color="#cf222e", linestyle="--", linewidth=0.9)
        if critical is not None:
            ax.axvline(critical.time, color="black", linestyle=":", linewidth=1.0)
    axes[1].axhline(0.0, color="grey", linewidth=0.6)
    axes[-1].set_xlabel("simulated time (s)")
    axes[0].set_title("ego over time (dashed red: infractions; dotted black: most critical moment)")
    fig.subplots_adjust(left=0.09, right=0.98, top=0.96, bottom=0.06, hspace=0.12)  # fixed: tight_layout costs ~1 s
    return _fig_png(fig)


def critical_picture(world: World, result: Result, critical: CriticalMoment) -> bytes:
    """PNG of the top-down view with every actor where it was at the critical moment."""
    from simcore.render.topdown import draw_run

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "critical.png"
        draw_run(world, result, path, time=critical.time, zoom_m=CRITICAL_ZOOM_M)
        return path.read_bytes()


def render_report(world: World, result: Result, series: EgoSeries | None = None, *, viewer: bool = True) -> str:
    """The report as one HTML string: every image inline, nothing fetched from the network.

    Order: verdict, criteria, scores, infractions, plots, critical moment, the embedded replay
    viewer (``viewer=True``), then the summary, other events and the full metric table.
    ``series``: the run's ``ego_series`` when the caller has it already.
    """
    from simcore.report.viewer import fragment as viewer_fragment
    from simcore.report.viewer import run_payload

    data = result.to_json()
    if series is None:
        series = ego_series(world, result)
    critical = critical_moment(result, series)
    verdict = "PASS" if result.passed else "FAIL"
    cls = "pass" if result.passed else "fail"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>simcore report: {_e(result.scenario)} [{result.variant}] ({_e(result.agent)})</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<h1>{_e(result.scenario)} [{result.variant}] — <span class="{cls}">{verdict}</span></h1>',
        f"<p>score {_e(_num(result.score))} / 100 ({_e(data['score']['name'])}); {_e(result.termination)} at "
        f"t = {result.sim_time:.2f} s; agent {_e(result.agent)}</p>",
        '<h2 id="verdicts">Criteria</h2>',
    ]
    if result.verdicts:
        rows = [
            [
                f'<span class="{"pass" if v.passed else "fail"}">{"PASS" if v.passed else "FAIL"}</span>',
                _e(v.name),
                _e(_num(v.value)),
                _e(_num(v.threshold)),
            ]
            for v in result.verdicts
        ]
        parts.append(_table(rows, ["verdict", "criterion", "value", "threshold"], frozenset({0, 1, 2, 3})))
    else:
        parts.append("<p>The scenario declares no criteria.</p>")
    parts.append('<h2 id="scores">Scores</h2>')
    parts.append(_table([[k, _num(v)] for k, v in data["scores"].items()], ["score", "value"]))
    parts.append('<h2 id="infractions">Infractions</h2>')
    infr = [e for e in result.events if e.kind.name.lower() in INFRACTIONS]
    if infr:
        rows = [[f"{e.time:.2f}", e.kind.name.lower(), ", ".join(e.actors), _num(e.value), e.detail] for e in infr]
        parts.append(_table(rows, ["time (s)", "kind", "actors", "value", "detail"]))
    else:
        parts.append("<p>None.</p>")
    parts.append('<h2 id="plots">Ego over time</h2>')
    if series is not None:
        parts.append(_img("ego speed, acceleration, TTC and gap over time", plot_series(series, result, critical)))
        parts.append(
            '<p class="note">Speed is recorded; acceleration is the finite difference of the recorded '
            "speed; time-to-collision and gap are recomputed from the recorded trajectory with the "
            "engine's rule (nearest obstacle on the ego's route, gap / closing speed below 30 s); gaps "
            "are bumper to bumper.</p>"
        )
    else:
        parts.append("<p>No ego trajectory was recorded.</p>")
    parts.append('<h2 id="critical">Most critical moment</h2>')
    parts.append(f"<p>t = {critical.time:.2f} s: {_e(critical.reason)}.</p>")
    if result.trajectory and result.trajectory["time"].size:
        parts.append(_img("top-down view at the most critical moment", critical_picture(world, result, critical)))
    view = run_payload(world, result) if viewer else None
    if view is not None:
        parts.append('<h2 id="viewer">Replay</h2>')
        parts.append(viewer_fragment(view))
    parts.append('<h2 id="summary">Summary</h2>')
    params = ", ".join(f"{k}={_num(v)}" for k, v in result.parameters.items()) or "—"
    parts.append(
        _table(
            [
                ["scenario", result.scenario],
                ["scenario file", result.scenario_file],
                ["variant", result.variant],
                ["seed", result.seed],
                ["parameters", params],
                ["agent", result.agent],
                ["termination", f"{result.termination} at t = {result.sim_time:.2f} s"],
                ["steps", f"{result.steps} of {result.dt:g} s"],
                ["wall time", f"{result.wall_time:.3f} s"],
                ["score", f"{_num(result.score)} / 100 ({data['score']['name']})"],
                ["result", verdict],
            ]
        )
    )
    others = [e for e in result.events if e.kind.name.lower() not in INFRACTIONS]
    if others:
        parts.append('<h2 id="events">Other events</h2>')
        rows = [[f"{e.time:.2f}", e.kind.name.lower(), ", ".join(e.actors), e.detail] for e in others]
        parts.append(_table(rows, ["time (s)", "kind", "actors", "detail"]))
    parts.append('<h2 id="metrics">Metrics</h2>')
    parts.append(_table([[k, _num(v)] for k, v in result.metrics.items()], ["metric", "value"]))
    parts.append(
        f'<p class="note">simcore result format {data["simcore_result"]}; see result.json for every value.</p>'
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    world: World, result: Result, path: Path, series: EgoSeries | None = None, *, viewer: bool = True
) -> Path:
    """Write ``render_report`` to ``path`` (UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(world, result, series, viewer=viewer), encoding="utf-8")
    return path
