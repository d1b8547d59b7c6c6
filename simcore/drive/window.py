"""The drive window: a top-down chase view centred on the ego with speed, signal ahead, score.

Drawn with pygame at the display rate, decoupled from the physics (the loop calls ``draw``
when a frame is due). Heading-up: the ego points to the top of the window. Headless runs use
SDL's dummy video driver (``SDL_VIDEODRIVER=dummy``); ``save`` writes the last frame as PNG.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from simcore._types import SignalState
from simcore.units import mps_to_kph

_SIGNAL_COLOURS = {
    int(SignalState.RED): (220, 40, 40),
    int(SignalState.AMBER): (240, 180, 30),
    int(SignalState.GREEN): (40, 200, 70),
}


class DriveWindow:
    """Top-down chase view; ``scale`` px per m, ``size`` (w, h) px."""

    def __init__(
        self, adapter: Any, size: tuple[int, int] = (960, 720), scale: float = 5.0, headless: bool = False
    ) -> None:
        if headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pg = pygame
        pygame.display.init()
        pygame.font.init()
        self.screen = pygame.display.set_mode(size)
        pygame.display.set_caption(f"simcore drive - {adapter.name}")
        self.font = pygame.font.Font(None, 26)
        self.big = pygame.font.Font(None, 54)
        self.scale = scale
        self.size = size
        self._lanes, self._lane_w = adapter.lane_polylines()
        self._score = 100.0
        self._score_t = -1.0
        self.frames = 0

    def _to_screen(self, pts: np.ndarray, ox: float, oy: float, yaw: float) -> np.ndarray:
        """World (m) -> screen px, ego at (w/2, 2h/3) heading up."""
        c, s = math.cos(yaw - math.pi / 2), math.sin(yaw - math.pi / 2)
        dx, dy = pts[:, 0] - ox, pts[:, 1] - oy
        rx, ry = c * dx + s * dy, -s * dx + c * dy
        w, h = self.size
        return np.column_stack([w / 2 + rx * self.scale, 2 * h / 3 - ry * self.scale])

    def draw(self, loop: Any) -> bool:
        """One frame of the loop's state; False when the window was closed."""
        pg = self.pg
        ad = loop.adapter
        a = ad.actor_arrays()
        e = ad.ego
        ox, oy, yaw = float(a["x"][e]), float(a["y"][e]), float(a["yaw"][e])
        scr = self.screen
        scr.fill((28, 30, 34))
        reach = max(self.size) / self.scale
        for k, lane in enumerate(self._lanes):
            if len(lane) < 2 or np.min(np.hypot(lane[:, 0] - ox, lane[:, 1] - oy)) > reach:
                continue
            p = self._to_screen(lane, ox, oy, yaw)
            pg.draw.lines(scr, (70, 72, 78), False, p.tolist(), max(int(self._lane_w[k] * self.scale), 1))
            pg.draw.lines(scr, (120, 120, 110), False, p.tolist(), 1)
        for i in np.flatnonzero(a["active"]):
            if abs(a["x"][i] - ox) > reach or abs(a["y"][i] - oy) > reach:
                continue
            cx = a["x"][i] + a["center_offset"][i] * math.cos(a["yaw"][i])
            cy = a["y"][i] + a["center_offset"][i] * math.sin(a["yaw"][i])
            hl, hw = 0.5 * a["length"][i], 0.5 * a["width"][i]
            ca, sa = math.cos(a["yaw"][i]), math.sin(a["yaw"][i])
            box = np.array(
                [[cx + ca * u - sa * v, cy + sa * u + ca * v] for u, v in ((hl, hw), (hl, -hw), (-hl, -hw), (-hl, hw))]
            )
            colour = (60, 140, 255) if i == e else ((230, 200, 90) if a["kind"][i] == 1 else (200, 200, 205))
            pg.draw.polygon(scr, colour, self._to_screen(box, ox, oy, yaw).tolist())
        self._hud(loop, ad, a, e)
        pg.display.flip()
        self.frames += 1
        return not any(ev.type == pg.QUIT for ev in pg.event.get(pg.QUIT))

    def _hud(self, loop: Any, ad: Any, a: dict, e: int) -> None:
        pg, scr = self.pg, self.screen
        if ad.time - self._score_t >= 0.5:
            self._score, self._score_t = ad.live_score(), ad.time
        speed_kph = mps_to_kph(float(a["speed"][e]))
        scr.blit(self.big.render(f"{speed_kph:5.1f} km/h", True, (240, 240, 240)), (20, 16))
        obs_state, dist = ad.signal_ahead()
        if obs_state is not None:
            colour = _SIGNAL_COLOURS.get(obs_state, (150, 150, 150))
            pg.draw.circle(scr, colour, (self.size[0] - 60, 50), 24)
            scr.blit(self.font.render(f"{dist:4.0f} m", True, (230, 230, 230)), (self.size[0] - 140, 86))
        infractions = [ev for ev in ad.events if "ego" in ev.actors and ev.kind.name not in ("STORYBOARD",)]
        lines = [
            f"t {ad.time:6.1f} s   score {self._score:5.1f}",
            f"infractions {len(infractions)}"
            + (f"   last: {infractions[-1].kind.name.lower()}" if infractions else ""),
            f"driver {loop.source.name}   cueing {loop.cueing.name}",
        ]
        if loop.link_lost:
            lines.append("LINK LOST - braking")
        for k, text in enumerate(lines):
            scr.blit(self.font.render(text, True, (220, 220, 220)), (20, 70 + 24 * k))

    def save(self, path: str) -> None:
        """Write the last frame as PNG."""
        self.pg.image.save(self.screen, path)

    def close(self) -> None:
        """Close the window."""
        self.pg.display.quit()
