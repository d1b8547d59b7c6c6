"""Charts as inline SVG text (no plotting library): line charts over time with event markers, bar charts.

Every chart is an ``<svg class="chart">`` with its axis range in ``data-x0 data-x1 data-y0
data-y1`` (data units) and the plot box in ``data-box`` (left top width height, px), so a
reader (or a test) can map a path's pixels back to data. Series are ``<path class="series"
data-label=...>``; markers are ``<line class="marker" data-t=...>`` with a ``<title>`` tooltip.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Default chart size (px) and the plot box margins (left, right, top, bottom).
WIDTH, HEIGHT = 960, 190
MARGIN = (64, 14, 22, 26)


@dataclass(frozen=True)
class Series:
    """One line: values over the chart's time axis (NaN / inf: no line there)."""

    values: np.ndarray
    label: str
    colour: str


@dataclass(frozen=True)
class Marker:
    """A vertical line at time ``t`` (s) across the plot: an event, the critical moment."""

    t: float
    colour: str
    dash: str
    title: str


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k steps) inside [lo, hi], about ``n`` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / (max(n, 1) + 1)
    k = 10 ** math.floor(math.log10(raw))
    step = next(m * k for m in (1, 2, 5, 10) if m * k >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def tick_label(v: float) -> str:
    """A tick value without float noise (``0.30000000000000004`` -> ``0.3``)."""
    return f"{v:.6g}"


def decimate(y: np.ndarray, buckets: int) -> np.ndarray:
    """Indices to draw of a long series: per bucket of consecutive samples its first, last, minimum
    and maximum finite sample, in order (the line keeps every extreme); all indices when short."""
    n = y.size
    if n <= 4 * buckets:
        return np.arange(n)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    fin = np.isfinite(y)
    lo = np.where(fin, y, np.inf)
    hi = np.where(fin, y, -np.inf)
    # per bucket: the position of its minimum / maximum, from reduceat of the values and a match back
    bucket = np.repeat(np.arange(buckets), np.diff(edges))
    mins = np.minimum.reduceat(lo, edges[:-1])
    maxs = np.maximum.reduceat(hi, edges[:-1])
    at_min = np.flatnonzero(fin & (lo == mins[bucket]))
    at_max = np.flatnonzero(fin & (hi == maxs[bucket]))
    first_min = at_min[np.unique(bucket[at_min], return_index=True)[1]]
    first_max = at_max[np.unique(bucket[at_max], return_index=True)[1]]
    return np.unique(np.concatenate([edges[:-1], edges[1:] - 1, first_min, first_max]))


def line_chart(
    t: np.ndarray,
    series: Sequence[Series],
    *,
    ylabel: str,
    markers: Sequence[Marker] = (),
    empty_note: str = "no data",
    width: int = WIDTH,
    height: int = HEIGHT,
    xlabel: str | None = None,
    zero_line: bool = False,
) -> str:
    """One panel: the series over ``t`` (s), markers as vertical lines, ticks on both axes.

    The y axis spans exactly the finite values' range (a flat series: +-1 around it); the x axis
    spans ``t``'s range. Without any finite value the panel says ``empty_note`` instead.
    """
    left, right, top, bottom = MARGIN
    if xlabel:
        height += 14
    pw, ph = width - left - right, height - top - bottom - (14 if xlabel else 0)
    t = np.asarray(t, dtype=np.float64)
    finite = [np.asarray(s.values, dtype=np.float64)[np.isfinite(s.values)] for s in series]
    vals = np.concatenate(finite) if finite else np.zeros(0)
    x0, x1 = (float(t.min()), float(t.max())) if t.size else (0.0, 1.0)
    if x1 <= x0:
        x1 = x0 + 1.0
    if vals.size:
        y0, y1 = float(vals.min()), float(vals.max())
        if y1 <= y0:
            y0, y1 = y0 - 1.0, y1 + 1.0
    else:
        y0, y1 = 0.0, 1.0

    def px(v: Any) -> Any:  # an array, or a float (a tick: plain floats are 10x cheaper than NumPy scalars)
        return left + (v - x0) / (x1 - x0) * pw

    def py(v: Any) -> Any:
        return top + (y1 - v) / (y1 - y0) * ph

    out = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(ylabel)}" data-x0="{x0!r}" data-x1="{x1!r}" '
        f'data-y0="{y0!r}" data-y1="{y1!r}" data-box="{left} {top} {pw} {ph}">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>',
    ]
    for v in nice_ticks(x0, x1, 10):
        x = float(px(v))
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 13}" text-anchor="middle">{tick_label(v)}</text>')
    if vals.size:
        for v in nice_ticks(y0, y1, 4):
            y = float(py(v))
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#eee"/>')
            out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick_label(v)}</text>')
        if zero_line and y0 < 0 < y1:
            y = float(py(0.0))
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#888"/>')
    out.append(
        f'<text x="12" y="{top + ph / 2:.0f}" text-anchor="middle" transform="rotate(-90 12 {top + ph / 2:.0f})">'
        f"{_e(ylabel)}</text>"
    )
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.0f}" y="{height - 3}" text-anchor="middle">{_e(xlabel)}</text>')
    if not vals.size:
        out.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph / 2:.0f}" text-anchor="middle">{_e(empty_note)}</text>')
    for s in series:
        out.append(_path(t, np.asarray(s.values, dtype=np.float64), s, px, py, pw))
    for m in markers:
        x = float(px(min(max(m.t, x0), x1)))
        out.append(
            f'<line class="marker" data-t="{m.t!r}" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" '
            f'stroke="{m.colour}" stroke-width="1.3" stroke-dasharray="{m.dash}"><title>{_e(m.title)}</title></line>'
        )
    if len(series) > 1:
        x = left + 8
        for s in series:
            out.append(
                f'<line x1="{x}" y1="{top + 10}" x2="{x + 16}" y2="{top + 10}" stroke="{s.colour}" stroke-width="2"/>'
            )
            out.append(f'<text x="{x + 20}" y="{top + 14}">{_e(s.label)}</text>')
            x += 30 + 7 * len(s.label)
    out.append("</svg>")
    return "".join(out)


def _path(t: np.ndarray, y: np.ndarray, s: Series, px, py, pw: int) -> str:  # type: ignore[no-untyped-def]
    """``<path>`` through the finite samples; a gap (NaN / inf) starts a new sub-path."""
    idx = decimate(y, max(pw // 2, 1))
    ok = np.isfinite(y[idx])
    # to a tenth of a pixel, rounded by NumPy and printed with %g (half the cost of %.1f per number)
    pts = np.round(np.column_stack([px(t[idx]), py(np.where(ok, y[idx], 0.0))]), 1)
    # a point between two at its height (printed to a tenth of a pixel) lies on the line through them: left
    # out (flat stretches: a constant score term, a steady speed), the drawn line unchanged
    v = pts[:, 1]
    flat = np.concatenate([[False], (v[1:-1] == v[:-2]) & (v[1:-1] == v[2:]) & ok[:-2] & ok[1:-1] & ok[2:], [False]])
    if flat.any():
        ok, pts = ok[~flat], pts[~flat]
    edges = np.flatnonzero(np.diff(np.concatenate([[False], ok, [False]]).astype(np.int8)))
    parts = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):  # runs of finite samples
        parts.append(("M%g %g" + "L%g %g" * (b - a - 1)) % tuple(pts[a:b].ravel().tolist()))
    return (
        f'<path class="series" data-label="{_e(s.label)}" d="{"".join(parts)}" fill="none" '
        f'stroke="{s.colour}" stroke-width="1.6" stroke-linejoin="round"/>'
    )


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    colours: Sequence[str],
    width: int = 380,
    height: int = 220,
) -> str:
    """Vertical bars, one per label, from 0 to the largest value; labels under the bars (cut to the bar's
    width; the full label is the bar's tooltip)."""
    left, right, top, bottom = 44, 10, 24, 44
    pw, ph = width - left - right, height - top - bottom
    vals = [float(v) if v is not None and math.isfinite(v) else 0.0 for v in values]
    y1 = max([*vals, 0.0]) or 1.0
    out = [
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" data-y0="0.0" data-y1="{y1!r}" '
        f'data-box="{left} {top} {pw} {ph}">',
        f'<text x="{width / 2:.0f}" y="15" text-anchor="middle" font-weight="600">{_e(title)}</text>',
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#999"/>',
    ]
    for v in nice_ticks(0.0, y1, 4):
        y = top + (y1 - v) / y1 * ph
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick_label(v)}</text>')
    n = max(len(vals), 1)
    slot = pw / n
    for k, (label, v) in enumerate(zip(labels, vals, strict=True)):
        h = v / y1 * ph
        x = left + k * slot + slot * 0.15
        fit = max(4, int(slot / 6.5))  # characters of ~6.5 px that fit under the bar's slot
        short = label if len(label) <= fit else label[: fit - 1] + "…"
        out.append(
            f'<rect class="bar" data-label="{_e(label)}" data-value="{v!r}" x="{x:.1f}" y="{top + ph - h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colours[k % len(colours)]}"><title>{_e(label)}: '
            f"{tick_label(v)}</title></rect>"
        )
        out.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + ph + 14}" text-anchor="middle">{_e(short)}</text>')
    out.append("</svg>")
    return "".join(out)
