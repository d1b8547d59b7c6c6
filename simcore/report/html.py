"""Self-contained HTML report of one run: summary, scores, verdicts, infractions, plots, critical moment."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from simcore._files import write_new
from simcore.render.svg import Marker, Series, line_chart
from simcore.report.series import CriticalMoment, EgoSeries, critical_moment, ego_series, score_terms
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
svg.chart{display:block;max-width:100%;height:auto;font-size:11px;font-family:inherit}
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


#: Marker colour and dash per event group in the plots.
INFRACTION_MARK, CRITICAL_MARK, GOAL_MARK = ("#cf222e", "5 3"), ("#000000", "2 3"), ("#2ca02c", "6 2 2 2")
#: Size (px) of the critical-moment picture (drawn without supersampling: half the cost, a small picture).
CRITICAL_PX = 480


def plot_markers(result: Result, critical: CriticalMoment | None) -> list[Marker]:
    """The plots' vertical markers: infractions (dashed red), goal reached (green), the critical moment (dotted)."""
    out = []
    for ev in result.events:
        kind = ev.kind.name.lower()
        if kind in INFRACTIONS or kind == "goal_reached":
            colour, dash = INFRACTION_MARK if kind in INFRACTIONS else GOAL_MARK
            title = f"{kind} {'/'.join(ev.actors)} at t = {ev.time:.2f} s"
            out.append(Marker(float(ev.time), colour, dash, title + (f" ({ev.detail})" if ev.detail else "")))
    if critical is not None:
        out.append(
            Marker(critical.time, *CRITICAL_MARK, f"most critical moment, t = {critical.time:.2f} s: {critical.reason}")
        )
    return out


def plot_series(world: World, series: EgoSeries, result: Result, critical: CriticalMoment | None = None) -> str:
    """Inline SVG panels over simulated time: ego speed, acceleration, TTC, gap and the simcore score's
    terms (route completion, infraction factor, score / 100), with the events marked."""
    t = series.time
    marks = plot_markers(result, critical)
    terms = score_terms(world, result, series)
    nothing = "nothing ahead on the route"
    panels = [
        line_chart(t, [Series(mps_to_kph(series.speed), "speed", "#1f77b4")], ylabel="speed (km/h)", markers=marks),
        line_chart(t, [Series(series.accel, "acceleration", "#ff7f0e")], ylabel="accel. (m/s²)", markers=marks,
                   zero_line=True),
        line_chart(t, [Series(series.ttc, "TTC", "#d62728")], ylabel="TTC (s)", markers=marks, empty_note=nothing),
        line_chart(t, [Series(series.gap, "gap", "#2ca02c")], ylabel="gap ahead (m)", markers=marks,
                   empty_note=nothing),
        line_chart(
            t,
            [
                Series(terms.completion, "route completion", "#9467bd"),
                Series(terms.factor, "infraction factor", "#8c564b"),
                Series(terms.score / 100.0, "score / 100", "#000000"),
            ],
            ylabel="score terms",
            markers=marks,
            xlabel="simulated time (s)",
        ),
    ]  # fmt: skip
    return '<div class="plots">' + "\n".join(panels) + "</div>"


def critical_picture(world: World, result: Result, critical: CriticalMoment) -> bytes:
    """PNG of the top-down view with every actor where it was at the critical moment."""
    from simcore.render.topdown import png_bytes, render_run

    title = f"t = {critical.time:.2f} s: {critical.reason}"
    img = render_run(
        world, result, time=critical.time, zoom_m=CRITICAL_ZOOM_M, size_px=CRITICAL_PX, title=title, supersample=1
    )
    return png_bytes(img)


def render_report(
    world: World, result: Result, series: EgoSeries | None = None, *, viewer: bool = True, data: dict | None = None
) -> str:
    """The report as one HTML string: every image inline, nothing fetched from the network.

    Order: verdict, criteria, scores, infractions, plots, critical moment, the embedded replay
    viewer (``viewer=True``), then the summary, other events and the full metric table.
    ``series``: the run's ``ego_series`` and ``data`` its ``result.to_json()``, when the caller has them.
    """
    from simcore.report.viewer import fragment as viewer_fragment
    from simcore.report.viewer import run_payload

    data = result.to_json() if data is None else data
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
        parts.append(plot_series(world, series, result, critical))
        parts.append(
            '<p class="note">Speed is recorded; acceleration is the finite difference of the recorded '
            "speed; time-to-collision and gap are recomputed from the recorded trajectory with the "
            "engine's rule (nearest obstacle on the ego's route, gap / closing speed below 30 s); gaps "
            "are bumper to bumper. Score terms: the simcore score is 100 x route completion x the product "
            "of the infraction penalties so far. Marked: infractions (dashed red), goal reached (green), "
            "the most critical moment (dotted black); hover a line for its event.</p>"
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
    world: World,
    result: Result,
    path: Path,
    series: EgoSeries | None = None,
    *,
    viewer: bool = True,
    data: dict | None = None,
) -> Path:
    """Write ``render_report`` to ``path`` (UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_new(path, render_report(world, result, series, viewer=viewer, data=data).encode("utf-8"))
