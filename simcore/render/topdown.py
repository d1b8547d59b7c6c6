"""Top-down PNG of a run: road surface, markings, crosswalks, trajectories coloured by speed, events."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Circle, Polygon

from simcore._types import ActorKind
from simcore.evaluation.events import EventKind
from simcore.render.map_view import draw_network
from simcore.runner.results import Result
from simcore.units import mps_to_kph
from simcore.world import World

#: More actors than this: a dense scene (grey traces, ego cased and circled, view follows the ego).
DENSE_ACTORS = 60
#: Most points drawn per non-ego trace.
TRACE_POINTS = 300
#: Margin (m) around the ego's path in a dense scene's picture.
FOLLOW_MARGIN_M = 60.0

_EVENT_STYLE = {
    EventKind.COLLISION: ("X", "#d62728", "collision"),
    EventKind.OFFROAD: ("s", "#ff7f0e", "off-road"),
    EventKind.RED_LIGHT: ("^", "#e41a1c", "red light"),
    EventKind.GOAL_REACHED: ("*", "#2ca02c", "goal reached"),
    EventKind.AGENT_FAILURE: ("P", "#9467bd", "agent failure"),
    EventKind.BAD_CONTROL: ("P", "#8c564b", "bad control"),
}


def draw_run(
    world: World,
    result: Result,
    path: Path,
    title: str | None = None,
    time: float | None = None,
    zoom_m: float | None = None,
) -> Path:
    """Write a top-down PNG of the run: map, every trajectory coloured by speed, events marked.

    Boxes show every actor at its last recorded pose, or, with ``time`` (s), every actor
    active at the recorded row nearest that time. ``zoom_m``: show only the square of
    half-size ``zoom_m`` (m) around the ego at that row instead of the whole map.
    """
    net = world.network
    traj = result.trajectory
    fig, ax = plt.subplots(figsize=(9, 9), dpi=110)
    ax.set_facecolor("#a7c496")
    draw_network(ax, net, arrows=False)
    x, y, speed, active = traj["x"], traj["y"], traj["speed"], traj["active"]
    vmax = max(float(np.nanmax(speed)) if speed.size else 1.0, 1.0)
    norm = plt.Normalize(0.0, mps_to_kph(vmax))
    lc_all = []
    dense = x.shape[1] > DENSE_ACTORS
    # Other actors: one collection, at most TRACE_POINTS points each (coloured by speed unless dense).
    segs_all, speeds_all = [], []
    for i in range(x.shape[1]):
        if i == world.ego:
            continue
        rows = np.flatnonzero(active[:, i])
        if rows.size < 2:
            continue
        rows = rows[:: max(1, rows.size // TRACE_POINTS)]
        pts = np.column_stack([x[rows, i], y[rows, i]])
        segs_all.append(np.stack([pts[:-1], pts[1:]], axis=1))
        speeds_all.append(mps_to_kph(speed[rows[:-1], i]))
    if segs_all:
        if dense:  # one NaN-separated line: a single path instead of one per segment
            nan = np.full((1, 2), np.nan)
            line = np.concatenate([p for seg in segs_all for p in (seg[:, 0], seg[-1:, 1], nan)])
            ax.plot(line[:, 0], line[:, 1], color="#303030", alpha=0.35, linewidth=0.7, zorder=5)
        else:
            lc = LineCollection(np.concatenate(segs_all), cmap="viridis", norm=norm, linewidths=1.4, zorder=5)  # type: ignore[arg-type]
            lc.set_array(np.concatenate(speeds_all))
            lc_all.append(lc)
            ax.add_collection(lc)
    ego_rows = np.flatnonzero(active[:, world.ego]) if world.ego >= 0 else np.zeros(0, dtype=np.int64)
    if ego_rows.size >= 2:
        pts = np.column_stack([x[ego_rows, world.ego], y[ego_rows, world.ego]])
        if dense:  # a white casing makes the ego's path findable among hundreds of traces
            ax.plot(pts[:, 0], pts[:, 1], color="white", linewidth=6.0, zorder=6, solid_capstyle="round")
        lc = LineCollection(np.stack([pts[:-1], pts[1:]], axis=1), cmap="viridis", norm=norm, linewidths=3.0, zorder=6)  # type: ignore[arg-type]
        lc.set_array(mps_to_kph(speed[ego_rows[:-1], world.ego]))
        ax.add_collection(lc)
        lc_all.insert(0, lc)
        ax.plot(*pts[0], "o", color="white", markeredgecolor="black", zorder=7, label="ego start")
    # Final boxes.
    if time is None or not traj["time"].size:
        last = {i: np.flatnonzero(active[:, i])[-1] for i in range(x.shape[1]) if active[:, i].any()}
    else:
        r_at = _row_at(traj["time"], time)
        last = {i: r_at for i in range(x.shape[1]) if active[r_at, i]}
    p = world.params
    for i, r in last.items():
        c, s = np.cos(traj["yaw"][r, i]), np.sin(traj["yaw"][r, i])
        cx = x[r, i] + p["center_offset"][i] * c
        cy = y[r, i] + p["center_offset"][i] * s
        hl, hw = p["length"][i] / 2, p["width"][i] / 2
        corners = np.array([[hl, hw], [-hl, hw], [-hl, -hw], [hl, -hw]])
        rot = np.array([[c, -s], [s, c]])
        poly = corners @ rot.T + [cx, cy]
        colour = (
            "#1f77b4" if i == world.ego else ("#f2c14e" if world.state.kind[i] == ActorKind.PEDESTRIAN else "#e6e6e6")
        )
        ax.add_patch(Polygon(poly, closed=True, facecolor=colour, edgecolor="black", linewidth=0.6, zorder=8))
        if i == world.ego and dense:
            ax.add_patch(Circle((cx, cy), 3 * hl, facecolor="none", edgecolor="#1f77b4", linewidth=2.5, zorder=9))
    ids = {a: i for i, a in enumerate(world.actor_ids)}
    seen = set()
    tvec = traj["time"]
    for ev in result.events:
        style = _EVENT_STYLE.get(ev.kind)
        if style is None or not tvec.size:
            continue
        r = min(int(np.searchsorted(tvec, ev.time)), len(tvec) - 1)
        i = ids[ev.actors[0]]
        marker, colour, label = style
        ax.plot(
            x[r, i],
            y[r, i],
            marker,
            color=colour,
            markersize=13,
            markeredgecolor="black",
            zorder=9,
            label=None if label in seen else label,
        )
        seen.add(label)
    if lc_all:
        fig.colorbar(lc_all[0], ax=ax, shrink=0.7, label="speed (km/h)")
    xmin, ymin, xmax, ymax = net.bounds()
    ax.set_xlim(xmin - 5, xmax + 5)
    ax.set_ylim(ymin - 5, ymax + 5)
    if dense and zoom_m is None and ego_rows.size:  # follow the ego: its path and FOLLOW_MARGIN_M around it
        ex, ey = x[ego_rows, world.ego], y[ego_rows, world.ego]
        half = max(float(np.ptp(ex)), float(np.ptp(ey))) / 2 + FOLLOW_MARGIN_M
        mx, my = (float(ex.min()) + float(ex.max())) / 2, (float(ey.min()) + float(ey.max())) / 2
        ax.set_xlim(mx - half, mx + half)
        ax.set_ylim(my - half, my + half)
    if zoom_m is not None and world.ego >= 0 and traj["time"].size:
        r_ego = _row_at(traj["time"], result.sim_time if time is None else time)
        ax.set_xlim(x[r_ego, world.ego] - zoom_m, x[r_ego, world.ego] + zoom_m)
        ax.set_ylim(y[r_ego, world.ego] - zoom_m, y[r_ego, world.ego] + zoom_m)
    ax.set_aspect("equal")
    ax.set_xlabel("x east (m)")
    ax.set_ylabel("y north (m)")
    verdict = "PASS" if result.passed else "FAIL"
    ax.set_title(
        title
        or f"{result.scenario} | {result.agent} | score {result.score:.1f} | {verdict} "
        f"| {result.termination} at {result.sim_time:.1f} s"
        + ("" if time is None else f"\nactors at t = {time:.2f} s")
    )
    ax.legend(loc="upper right", fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.07)  # fixed margins: tight_layout costs ~0.5 s
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _row_at(tvec: np.ndarray, t: float) -> int:
    """Index of the recorded row nearest time ``t`` (s)."""
    k = int(np.searchsorted(tvec, t))
    if k >= len(tvec):
        return len(tvec) - 1
    if k > 0 and t - tvec[k - 1] <= tvec[k] - t:
        return k - 1
    return k
