"""Browser viewer: one self-contained HTML file (inline JS/CSS, data embedded as quantised typed
arrays in base64; nothing fetched) showing a run from its log or result, or a scenario's
initial scene, on a canvas with a timeline."""

from __future__ import annotations

import base64
import functools
import html
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from simcore.render.map_view import map_layers
from simcore.world import World

#: Most frames embedded for a standalone viewer (the JS interpolates between them).
MAX_FRAMES = 2400
#: Most frames embedded in report.html (keeps reports of long runs small).
REPORT_FRAMES = 600
#: Quantisation: yaw in 2π/65536 rad, speed in cm/s; x, y on a uint16 grid over the map bounds.
_YAW_Q, _SPEED_Q = 2 * math.pi / 65536, 0.01
_INACTIVE = 65535


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _stride_rows(n_rows: int, max_frames: int) -> np.ndarray:
    if n_rows <= max_frames:
        return np.arange(n_rows)
    stride = math.ceil((n_rows - 1) / max(max_frames - 1, 1))
    return np.unique(np.append(np.arange(0, n_rows, stride), n_rows - 1))


def payload(
    meta: dict[str, Any],
    layers: dict[str, tuple[str, bool, list[np.ndarray]]],
    state: dict[str, np.ndarray],
    events: list[dict[str, Any]],
    *,
    overlays: dict[str, tuple[str, bool, list[np.ndarray]]] | None = None,
    max_frames: int = MAX_FRAMES,
    sensors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The viewer's data: map polylines (float32), frames quantised to uint16 (2 bytes per value).

    ``state``: time (rows,), x, y, yaw, speed, active (rows, n) as from the recorder or a run log.
    ``sensors``: overlays of logged sensor frames (``sensor_overlays``).
    """
    xmin, ymin, xmax, ymax = meta["map_bounds_m"]
    pad = 20.0
    x0, y0 = xmin - pad, ymin - pad
    q = max(xmax - xmin + 2 * pad, ymax - ymin + 2 * pad, 1.0) / 65000  # m per unit
    idx = _stride_rows(int(state["time"].shape[0]), max_frames)
    act = state["active"][idx]

    def quant(v: np.ndarray, lo: float) -> np.ndarray:
        u = np.clip(np.round((v - lo) / q), 0, 65000).astype("<u2")
        u[~act] = _INACTIVE
        return u

    yaw = np.round(np.mod(state["yaw"][idx], 2 * math.pi) / _YAW_Q).astype(np.int64) % 65536
    speed = np.clip(np.round(np.abs(state["speed"][idx]) / _SPEED_Q), 0, 65535)

    def polys(src: dict[str, tuple[str, bool, list[np.ndarray]]]) -> list[dict[str, Any]]:
        out = []
        for name, (colour, closed, pl) in src.items():
            pts = np.concatenate(pl).astype("<f4") if pl else np.zeros((0, 2), "<f4")
            starts = np.cumsum([0] + [len(p) for p in pl]).astype("<i4")
            out.append({"name": name, "colour": colour, "closed": closed, "pts": _b64(pts), "starts": _b64(starts)})
        return out

    return {
        "meta": {
            k: meta[k]
            for k in ("scenario", "dt_s", "ego", "actor_ids", "kinds", "length_m", "width_m", "center_offset_m")
        },
        "bounds": [xmin, ymin, xmax, ymax],
        "q": [x0, y0, q, _YAW_Q, _SPEED_Q],
        "frames": int(idx.size),
        "time": _b64(state["time"][idx].astype("<f4")),
        "x": _b64(quant(state["x"][idx], x0)),
        "y": _b64(quant(state["y"][idx], y0)),
        "yaw": _b64(yaw.astype("<u2")),
        "speed": _b64(speed.astype("<u2")),
        "map": polys(layers),
        "overlays": polys(overlays or {}),
        "sensors": sensors or [],
        "events": [
            {"t": e["time_s"], "kind": e["kind"], "actors": e.get("actors", []), "detail": e.get("detail", "")}
            for e in events
        ],
    }


@functools.cache
def _asset(name: str) -> str:
    """A packaged viewer file's text (read once per process)."""
    return resources.files("simcore.report").joinpath(name).read_text(encoding="utf-8")


def fragment(data: dict[str, Any], side_html: str = "") -> str:
    """The viewer as an HTML fragment (style, markup, data, script) to put into a page's body."""
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (
        f"<style>{_asset('viewer.css')}</style>\n"
        '<div id="sv-root"><div id="sv-main"><canvas id="sv-canvas" width="900" height="600"></canvas>'
        '<div id="sv-bar"><button id="sv-play" title="play / pause (space)">▶</button>'
        '<button id="sv-back" title="step back (←)">«</button><button id="sv-fwd" title="step forward (→)">»</button>'
        '<select id="sv-speed" title="playback speed">'
        + "".join(
            f'<option value="{v}"{" selected" if v == 1 else ""}>{v}×</option>' for v in (0.25, 0.5, 1, 2, 4, 8, 16)
        )
        + '</select><span id="sv-time">0.00 s</span>'
        '<label><input type="checkbox" id="sv-traces" checked> traces</label>'
        '<label><input type="checkbox" id="sv-labels"> ids</label>'
        '<label><input type="checkbox" id="sv-overlays" checked> routes</label>'
        + ('<label><input type="checkbox" id="sv-sensors" checked> sensors</label>' if data.get("sensors") else "")
        + '<label><input type="checkbox" id="sv-follow"> follow ego</label></div>'
        '<div id="sv-scrub"><input type="range" id="sv-range" min="0" max="1" step="0.001" value="0">'
        '<div id="sv-markers"></div></div></div>'
        f'<div id="sv-side"><div id="sv-info">Click an actor for its state.</div>{side_html}</div></div>\n'
        f'<script type="application/json" id="sv-data">{blob}</script>\n'
        f"<script>{_asset('viewer.js')}</script>\n"
    )


def page(title: str, data: dict[str, Any], side_html: str = "") -> str:
    """A standalone HTML page around ``fragment``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>\n"
        f'<h1 class="sv-title">{html.escape(title)}</h1>\n{fragment(data, side_html)}</body></html>\n'
    )


def result_side(result: dict[str, Any] | None) -> str:
    """Verdict, criteria and scores of a result.json as the viewer's side panel."""
    if not result:
        return ""
    from simcore.report.html import fmt_value

    ok = result.get("passed", False)
    rows = "".join(
        f'<tr><td class="{"pass" if c.get("passed") else "fail"}">{"PASS" if c.get("passed") else "FAIL"}</td>'
        f"<td>{html.escape(str(c.get('name', '')))}</td><td>{html.escape(fmt_value(c.get('value')))}</td></tr>"
        for c in result.get("criteria", [])
    )
    scores = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(fmt_value(v))}</td></tr>"
        for k, v in result.get("scores", {}).items()
    )
    return (
        f'<h3>Result: <span class="{"pass" if ok else "fail"}">{"PASS" if ok else "FAIL"}</span></h3>'
        f"<p>{html.escape(str(result.get('termination', '')))} at {fmt_value(result.get('sim_time_s'))} s</p>"
        + (f"<table>{rows}</table>" if rows else "<p>No criteria.</p>")
        + (f"<h3>Scores</h3><table>{scores}</table>" if scores else "")
    )


#: Overlay colours: radar detections (points) and object-list objects (box outlines).
SENSOR_COLOURS = {"radar": "#ff7f0e", "objects": "#d62ad6"}


def sensor_overlays(log: Any) -> list[dict[str, Any]]:
    """Radar detections and object-list boxes of a ``RunLog`` in the map frame, per sensor: frame times,
    frame starts and float32 values (radar: x, y per detection, placed with the ego pose interpolated
    from the logged rows at the scan time and the logged mount; objects: x, y, yaw, length, width)."""
    out = []
    st, ego = log.state, log.meta.get("ego", -1)
    for topic, ch in log.sensors.items():
        name = topic.removeprefix("/sensors/")
        names = ch.data.dtype.names or ()
        if ch.start is None or "/" in name or not ch.time.size:
            continue
        rows = np.repeat(np.arange(ch.time.size), np.diff(ch.start))
        if "radial_velocity" in names and ego >= 0 and st["time"].size and f"ego/{name}" in log.mounts:
            m = log.mounts[f"ego/{name}"]
            body = m["xyz"] + np.column_stack([ch.data["x"], ch.data["y"], ch.data["z"]]) @ m["rotation"].T
            t = ch.time[rows]
            ex, ey = (np.interp(t, st["time"], st[k][:, ego]) for k in ("x", "y"))
            yaw = np.interp(t, st["time"], np.unwrap(st["yaw"][:, ego]))
            c, s = np.cos(yaw), np.sin(yaw)
            vals = np.column_stack([ex + c * body[:, 0] - s * body[:, 1], ey + s * body[:, 0] + c * body[:, 1]])
            kind = "radar"
        elif "wyaw" in names:
            d = ch.data
            vals = np.column_stack([d["wx"], d["wy"], d["wyaw"], d["length"], d["width"]])
            kind = "objects"
        else:
            continue
        out.append({
            "name": name,
            "kind": kind,
            "colour": SENSOR_COLOURS[kind],
            "time": _b64(ch.time.astype("<f4")),
            "starts": _b64(ch.start.astype("<i4")),
            "vals": _b64(vals.astype("<f4")),
        })  # fmt: skip
    return out


def run_payload_from_log(log: Any, max_frames: int = MAX_FRAMES) -> dict[str, Any]:
    """Viewer data of a ``record.runlog.RunLog`` (with its radar and object-list overlays)."""
    return payload(log.meta, log.map_layers, log.state, log.events, max_frames=max_frames, sensors=sensor_overlays(log))


def run_payload(world: World, result: Any, max_frames: int = REPORT_FRAMES) -> dict[str, Any] | None:
    """Viewer data of a finished run from its Result (strided trajectory); None without one."""
    from simcore.render.topdown import simplified_layers
    from simcore.report.runlog import world_meta

    traj = result.trajectory
    if not traj or not traj["time"].size:
        return None
    return payload(
        world_meta(world),
        simplified_layers(map_layers(world.network)),  # < 1 cm off: the report a tenth of the map's bytes
        traj,
        [e.to_json() for e in result.events],
        max_frames=max_frames,
    )


def scenario_payload(world: World) -> tuple[dict[str, Any], str]:
    """Viewer data of a scenario's initial scene (one frame) with every actor's route, and a side
    panel listing the storyboard's triggers and actions."""
    from simcore.report.runlog import world_meta

    st = world.initial if world.initial is not None else world.state
    state = {
        "time": np.zeros(1),
        **{k: np.asarray(getattr(st, k), float)[None, :] for k in ("x", "y", "yaw", "speed")},
        "active": np.asarray(st.active, bool)[None, :],
    }
    r = world.routes
    routes = [
        np.column_stack([r.x[r.start[i] : r.start[i + 1]], r.y[r.start[i] : r.start[i + 1]]])
        for i in range(len(r.start) - 1)
        if r.start[i + 1] - r.start[i] >= 2
    ]
    ego_route = []
    if world.ego >= 0 and r.start[world.ego + 1] - r.start[world.ego] >= 2:
        a, b = r.start[world.ego], r.start[world.ego + 1]
        ego_route = [np.column_stack([r.x[a:b], r.y[a:b]])]
    overlays = {"routes": ("#ffe08a", False, routes), "ego route": ("#1f77b4", False, ego_route)}
    data = payload(world_meta(world), map_layers(world.network), state, [], overlays=overlays)
    items = "".join(
        f"<li>{html.escape(s.detail)}" + (f" (delay {s.delay:g} s)" if s.delay else "") + "</li>"
        for s in world.storyboard
    )
    side = "<h3>Storyboard</h3>" + (f"<ol>{items}</ol>" if items else "<p>No storyboard.</p>")
    return data, side


def write_view(source: str | Path, out: Path) -> Path:
    """``simcore view``: a run log (run.mcap or its folder) or a scenario file -> ``out`` HTML."""
    src = Path(source)
    if src.is_dir() or src.suffix == ".mcap":
        from simcore.report.runlog import read_run_log

        log = read_run_log(src, max_rows=MAX_FRAMES, images=False)
        title = f"simcore run: {log.meta['scenario']}"
        text = page(title, run_payload_from_log(log), result_side(log.result))
    else:
        from simcore._data import resolve_scenario
        from simcore.scenario.build import build_world
        from simcore.scenario.loader import load_scenario

        world = build_world(load_scenario(resolve_scenario(str(source))))
        data, side = scenario_payload(world)
        text = page(f"simcore scenario: {world.name} (initial scene, not run)", data, side)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
