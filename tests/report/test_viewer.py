"""Browser viewer: self-contained file, embedded data decodes to the run within its quantisation,
scenario view with routes and storyboard; and in a real headless Chromium (skipped with a reason
where Chromium, chromedriver or Selenium is missing): loads without console errors, the timeline
moves, clicking an event marker jumps to its time, clicking an actor shows its state."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from simcore.api import simulation
from simcore.report.runlog import EGO_COLOUR, RUN_MCAP, RunLogWriter, read_run_log
from simcore.report.viewer import write_view


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("view")
    sim = simulation("urban/cut_in", "autopilot")
    writer = RunLogWriter(out / RUN_MCAP, sim.world).attach(sim)
    res = sim.run()
    writer.finish(res)
    html = write_view(out, out / "view.html")
    return SimpleNamespace(sim=sim, res=res, dir=out, html=html, log=read_run_log(out))


def _data(html: Path) -> dict:
    text = html.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="sv-data">(.*?)</script>', text, re.S)
    assert m is not None
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_self_contained(logged: SimpleNamespace) -> None:
    text = logged.html.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)  # nothing loaded from elsewhere
    assert "http://" not in text and "https://" not in text


def test_embedded_frames_decode_to_the_run(logged: SimpleNamespace) -> None:
    """x, y within half a quantisation step; inactive actors marked; event times kept."""
    d = _data(logged.html)
    st = logged.log.state
    n, f = len(d["meta"]["actor_ids"]), d["frames"]
    assert f == st["time"].size  # a short run: every row
    x0, y0, q, _, _ = d["q"]
    qx = np.frombuffer(base64.b64decode(d["x"]), "<u2").reshape(f, n)
    qy = np.frombuffer(base64.b64decode(d["y"]), "<u2").reshape(f, n)
    on = qx != 65535
    np.testing.assert_array_equal(on, st["active"])
    assert np.abs(x0 + qx[on] * q - st["x"][on]).max() <= q / 2 + 1e-9
    assert np.abs(y0 + qy[on] * q - st["y"][on]).max() <= q / 2 + 1e-9
    assert [e["t"] for e in d["events"]] == [e["time_s"] for e in logged.log.events]


def test_scenario_view_shows_routes_and_storyboard(tmp_path: Path) -> None:
    out = write_view("urban/cut_in", tmp_path / "scene.html")
    d = _data(out)
    assert d["frames"] == 1
    names = {o["name"] for o in d["overlays"]}
    assert names == {"routes", "ego route"}
    assert "Storyboard" in out.read_text(encoding="utf-8")


def test_viewer_in_headless_chromium(logged: SimpleNamespace, chromium: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    drv = chromium
    drv.get(logged.html.as_uri())
    errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    assert drv.execute_script("return window.simcoreViewer.time") == 0.0
    # the timeline moves when playing
    drv.find_element(By.ID, "sv-speed").send_keys("4")
    drv.find_element(By.ID, "sv-play").click()
    time.sleep(0.8)
    assert drv.execute_script("return window.simcoreViewer.time") > 0.5
    drv.find_element(By.ID, "sv-play").click()
    # clicking an event marker jumps to its time
    marker = drv.find_elements(By.CSS_SELECTOR, ".sv-marker")[-1]
    t_event = float(marker.get_attribute("data-t"))
    marker.click()
    assert drv.execute_script("return window.simcoreViewer.time") == pytest.approx(t_event, abs=1e-3)
    assert drv.find_element(By.ID, "sv-time").text == f"{t_event:.2f} s"
    # clicking an actor shows its state
    drv.execute_script("window.simcoreViewer.select(-1); window.simcoreViewer.setTime(1.0)")
    # a non-ego actor in view at t = 1 s, and its box centre on the canvas
    i, cx, cy, w_css, w_px = drv.execute_script(
        "const cv = document.getElementById('sv-canvas'), ids = arguments[0];"
        "for (let i = 0; i < ids.length; i++) { const p = simcoreViewer.pose(i, 1.0);"
        " if (!p || ids[i] === 'ego') continue;"
        " const c = simcoreViewer.toCanvas(p[0], p[1]);"
        " if (c[0] > 20 && c[1] > 20 && c[0] < cv.width - 20 && c[1] < cv.height - 20)"
        "  return [i, c[0], c[1], cv.getBoundingClientRect().width, cv.width]; }"
        "return null;",
        logged.log.meta["actor_ids"],
    )
    canvas = drv.find_element(By.ID, "sv-canvas")
    scale = w_css / w_px
    rect = canvas.rect
    ActionChains(drv).move_to_element_with_offset(
        canvas, cx * scale - rect["width"] / 2, cy * scale - rect["height"] / 2
    ).click().perform()
    assert drv.execute_script("return window.simcoreViewer.selected") == i
    info = drv.find_element(By.ID, "sv-info").text
    assert logged.log.meta["actor_ids"][i] in info and "km/h" in info
    assert [e for e in drv.get_log("browser") if e["level"] == "SEVERE"] == []


def test_viewer_screenshot_layout(logged: SimpleNamespace, chromium: Any) -> None:
    """In a 1280 px window: title on top, the canvas left with the controls and scrub bar under it, the
    result panel right of it, nothing wider than the window; the screenshot shows the map and the ego."""
    import io

    from PIL import Image

    drv = chromium
    drv.get(logged.html.as_uri())
    drv.execute_script("window.simcoreViewer.setTime(0.0)")
    rects = drv.execute_script(
        "const r = {}; for (const id of arguments[0]) { const b = document.getElementById(id)"
        ".getBoundingClientRect(); r[id] = [b.left, b.top, b.right, b.bottom]; }"
        "r.title = (b => [b.left, b.top, b.right, b.bottom])(document.querySelector('.sv-title')"
        ".getBoundingClientRect()); r.page = [0, 0, document.documentElement.scrollWidth, 0]; return r;",
        ["sv-canvas", "sv-bar", "sv-scrub", "sv-side", "sv-play"],
    )
    width = drv.execute_script("return window.innerWidth")
    canvas, bar, scrub, side, title = (rects[k] for k in ("sv-canvas", "sv-bar", "sv-scrub", "sv-side", "title"))
    assert rects["page"][2] <= width  # no horizontal scrolling
    for k, (left, top, right, bottom) in rects.items():
        if k != "page":
            assert right - left > 0 and bottom - top > 0 and left >= 0 and right <= width, k
    assert title[3] <= canvas[1]  # the title above the canvas
    assert canvas[2] - canvas[0] >= 600  # the map gets most of the width
    assert bar[1] >= canvas[3] - 1 and scrub[1] >= canvas[3] - 1  # controls and scrub bar under the canvas
    assert side[0] >= canvas[2] - 1 and side[1] < canvas[3]  # the result panel to its right, level with it
    assert canvas[0] <= rects["sv-play"][0] <= canvas[2]
    shot = np.asarray(Image.open(io.BytesIO(drv.get_screenshot_as_png())).convert("RGB")).astype(int)
    dpr = drv.execute_script("return window.devicePixelRatio")
    left, top, right, bottom = (round(v * dpr) for v in canvas)
    view = shot[top : min(bottom, shot.shape[0]), left:right]
    assert view.size and view.reshape(-1, 3).std(axis=0).max() > 10  # not a blank canvas
    ego_rgb = np.array([int(EGO_COLOUR[k : k + 2], 16) for k in (1, 3, 5)])
    assert (np.abs(view - ego_rgb).max(axis=2) <= 30).sum() >= 4  # the ego is drawn in its colour
