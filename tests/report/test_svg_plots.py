"""The report's plots as inline SVG: axis ranges equal the data's, path points map back to the data,
gaps stay gaps, events and the critical moment are marked, score terms multiply to the score."""

from __future__ import annotations

import re
from pathlib import Path

import defusedxml.ElementTree as DET
import numpy as np
import pytest

from simcore.api import simulation
from simcore.evaluation.scoring import PENALTIES
from simcore.render.svg import Marker, Series, bar_chart, decimate, line_chart, nice_ticks
from simcore.report.html import plot_series, render_report
from simcore.report.series import critical_moment, ego_series, score_terms

HERE = Path(__file__).resolve().parent
RAMMER = f"{HERE / 'report_agents.py'}:Rammer"
REAR_END = str(HERE.parent / "data" / "rear_end.yaml")
SVG = ""  # inline SVG in HTML: no namespace


def _svg(text: str) -> DET.Element:
    return DET.fromstring(text)


def path_points(d: str) -> list[list[tuple[float, float]]]:
    """Sub-paths of an SVG path made of M/L commands, as pixel points."""
    subs: list[list[tuple[float, float]]] = []
    for cmd, x, y in re.findall(r"([ML])(-?[\d.]+) (-?[\d.]+)", d):
        if cmd == "M":
            subs.append([])
        subs[-1].append((float(x), float(y)))
    return subs


def to_data(svg: DET.Element, px: float, py: float) -> tuple[float, float]:
    """Invert the chart's transform: pixel -> (t, value) from its data-* attributes."""
    left, top, w, h = (float(v) for v in svg.get("data-box").split())
    x0, x1, y0, y1 = (float(svg.get(k)) for k in ("data-x0", "data-x1", "data-y0", "data-y1"))
    return x0 + (px - left) / w * (x1 - x0), y1 - (py - top) / h * (y1 - y0)


def test_nice_ticks_by_hand() -> None:
    assert nice_ticks(0.0, 10.0, 5) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(0.1, 0.95, 4) == [0.2, 0.4, 0.6, 0.8]
    assert nice_ticks(-3.2, 1.1, 4) == [-3, -2, -1, 0, 1]


def test_line_chart_axis_is_the_data_range_and_points_map_back() -> None:
    t = np.linspace(0.0, 9.0, 10)
    y = np.array([3.0, 4.0, np.nan, np.inf, 8.0, 9.5, 7.0, -1.25, 2.0, 2.0])
    svg = _svg(line_chart(t, [Series(y, "v", "#123456")], ylabel="v (m/s)", markers=[Marker(4.5, "#f00", "4", "hit")]))
    assert float(svg.get("data-y0")) == -1.25 and float(svg.get("data-y1")) == 9.5
    assert float(svg.get("data-x0")) == 0.0 and float(svg.get("data-x1")) == 9.0
    (path,) = svg.iter(f"{SVG}path")
    subs = path_points(path.get("d"))
    assert [len(s) for s in subs] == [2, 6]  # the NaN / inf rows break the line
    finite = [(ti, yi) for ti, yi in zip(t, y, strict=True) if np.isfinite(yi)]
    got = [to_data(svg, *p) for s in subs for p in s]
    np.testing.assert_allclose(got, finite, atol=0.05)  # one decimal of a pixel
    (marker,) = [e for e in svg.iter(f"{SVG}line") if e.get("class") == "marker"]
    assert float(marker.get("data-t")) == 4.5 and marker.find(f"{SVG}title").text == "hit"
    assert to_data(svg, float(marker.get("x1")), 0.0)[0] == pytest.approx(4.5, abs=0.02)


def test_flat_stretches_keep_their_ends_and_gaps_still_break_the_line() -> None:
    """A point between two at its (printed) height is left out: the same line, fewer points; a NaN between
    two equal values still breaks the line."""
    t = np.arange(12.0)
    y = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 2.0, 2.0, np.nan, 2.0, 2.0, 2.0, 2.0])
    svg = _svg(line_chart(t, [Series(y, "v", "#000")], ylabel="v"))
    (path,) = svg.iter(f"{SVG}path")
    subs = [[to_data(svg, *p) for p in sub] for sub in path_points(path.get("d"))]
    assert [[round(x) for x, _ in sub] for sub in subs] == [[0, 3, 4, 5, 6], [8, 11]]
    np.testing.assert_allclose([v for sub in subs for _, v in sub], [1, 1, 5, 2, 2, 2, 2], atol=0.05)


def test_empty_series_says_so() -> None:
    svg = line_chart(np.arange(3.0), [Series(np.full(3, np.inf), "ttc", "#000")], ylabel="TTC", empty_note="nothing")
    assert ">nothing</text>" in svg and 'd=""' in svg


def test_decimation_keeps_every_extreme() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(20_000) * 0.01
    y = np.cumsum(rng.normal(size=t.size))
    y[1234] = 500.0
    y[5000:5100] = np.nan  # a gap: its bucket keeps its ends, no extreme
    idx = decimate(y, 400)
    assert idx.size <= 4 * 400 and 1234 in idx
    assert np.nanmin(y[idx]) == np.nanmin(y) and np.nanmax(y[idx]) == np.nanmax(y)
    assert idx[0] == 0 and idx[-1] == t.size - 1 and np.all(np.diff(idx) > 0)
    for lo in range(0, t.size, 1000):  # every stretch keeps its own extremes
        seg = y[lo : lo + 1000]
        kept = y[idx[(idx >= lo) & (idx < lo + 1000)]]
        assert np.nanmax(kept) == np.nanmax(seg) and np.nanmin(kept) == np.nanmin(seg)


def test_bar_chart_heights_are_proportional() -> None:
    svg = _svg(bar_chart(["a", "b"], [2.0, 0.5], title="x", colours=["#111"]))
    bars = [e for e in svg.iter(f"{SVG}rect") if e.get("class") == "bar"]
    assert [float(b.get("data-value")) for b in bars] == [2.0, 0.5]
    assert float(bars[0].get("height")) == pytest.approx(4 * float(bars[1].get("height")), abs=0.1)


@pytest.fixture(scope="module")
def rammed_run():
    """The ego drives at full throttle into the queue at a red light (one vehicle collision)."""
    from simcore.agents.loading import load_agent

    sim = simulation(REAR_END, load_agent(RAMMER))
    res = sim.run()
    return sim.world, res


def test_report_plots_carry_the_series_and_the_events(rammed_run) -> None:
    world, res = rammed_run
    series = ego_series(world, res)
    crit = critical_moment(res, series)
    html = plot_series(world, series, res, crit)
    charts = [_svg(m) for m in re.findall(r"<svg.*?</svg>", html, flags=re.S)]
    assert [c.get("aria-label") for c in charts] == ["speed (km/h)", "accel. (m/s²)", "TTC (s)", "gap ahead (m)",
                                                     "score terms"]  # fmt: skip
    speed = charts[0]
    assert float(speed.get("data-y1")) == pytest.approx(3.6 * series.speed.max())
    assert float(speed.get("data-y0")) == pytest.approx(3.6 * series.speed.min())
    assert float(speed.get("data-x1")) == series.time[-1]
    ttc = series.ttc[np.isfinite(series.ttc)]
    assert float(charts[2].get("data-y0")) == ttc.min() and float(charts[2].get("data-y1")) == ttc.max()
    collisions = [e.time for e in res.events if e.kind.name == "COLLISION"]
    assert collisions
    for chart in charts:
        marks = [float(e.get("data-t")) for e in chart.iter(f"{SVG}line") if e.get("class") == "marker"]
        assert set(collisions) <= set(marks) and crit.time in marks
    labels = [p.get("data-label") for p in charts[4].iter(f"{SVG}path")]
    assert labels == ["route completion", "infraction factor", "score / 100"]


def test_score_terms_step_at_the_collision_and_multiply_to_the_score(rammed_run) -> None:
    world, res = rammed_run
    series = ego_series(world, res)
    terms = score_terms(world, res, series)
    ego = [e for e in res.events if "ego" in e.actors]
    coll = [e.time for e in ego if e.kind.name == "COLLISION"]
    red = [e.time for e in ego if e.kind.name == "RED_LIGHT"]
    assert coll and red  # the rammer runs the red light, then hits the queue
    first = min(coll + red)
    assert np.all(terms.factor[series.time < first] == 1.0)
    expected = PENALTIES["collision_vehicle"] ** len(coll) * PENALTIES["red_light"] ** len(red)
    assert terms.factor[-1] == pytest.approx(expected)
    k = int(np.searchsorted(series.time, min(red)))  # the red light alone, until the collision
    if series.time[k] < min(coll):
        assert terms.factor[k] == pytest.approx(PENALTIES["red_light"])
    assert terms.score[-1] == pytest.approx(res.score, abs=0.05)
    assert terms.completion[-1] == pytest.approx(res.metrics["route_completion"], abs=5e-4)


def test_report_shows_no_nan_and_inlines_svg(rammed_run) -> None:
    world, res = rammed_run
    html = render_report(world, res, viewer=False)
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    assert not re.search(r"\bnan\b", text, re.I) and "NaN" not in html
    assert html.count('<svg class="chart"') == 5 and html.count("<img") == 1
