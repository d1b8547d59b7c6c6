"""OpenSCENARIO positions on an OpenDRIVE map: world poses, road coordinates, our lane names."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from simcore._types import LaneType
from simcore.road.frenet_kernels import project_on_polyline
from simcore.road.network import RoadNetwork
from simcore.road.opendrive import OpenDriveMap, build_network, lane_borders, lane_name, parse_opendrive


@dataclass(frozen=True)
class Pose:
    """A pose (m, rad, ENU) with road coordinates where known (``road`` None otherwise)."""

    x: float
    y: float
    h: float
    road: str | None = None
    lane: int | None = None
    s: float | None = None
    t: float | None = None
    road_h: float | None = None

    def along_s(self) -> bool:
        """Does the pose head along its road's s direction (True where the road is unknown)?"""
        return self.road_h is None or math.cos(self.h - self.road_h) >= 0.0


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> tuple[OpenDriveMap, RoadNetwork]:
    odr = parse_opendrive(path)
    return odr, build_network(odr)


def load_map(path: Path) -> tuple[OpenDriveMap, RoadNetwork]:
    """Parsed OpenDRIVE map and its lane network (cached per file and modification time)."""
    return _load(str(path), path.stat().st_mtime)


class MapView:
    """Road-coordinate arithmetic over one map."""

    def __init__(self, odr: OpenDriveMap, net: RoadNetwork) -> None:
        self.odr, self.net = odr, net

    def section(self, road: str, s: float) -> int:
        """Index of the lane section holding road s (KeyError naming an unknown road)."""
        if road not in self.odr.roads:
            raise KeyError(f"no road {road!r} in the map (roads: {', '.join(list(self.odr.roads)[:10])})")
        secs = self.odr.roads[road].sections
        return max([i for i, sec in enumerate(secs) if sec.s0 <= s + 1e-9] or [0])

    def lane_pose(self, road: str, lane: int, s: float, offset: float = 0.0) -> Pose:
        """World pose on lane ``lane`` of road ``road`` at road s, ``offset`` m left of its centre.

        The heading is the driving direction of the lane (against s for left lanes in right-hand traffic).
        Raises KeyError naming what is missing.
        """
        r = self.odr.roads[road]
        s = min(max(s, 0.0), r.length)
        k = self.section(road, s)
        _, borders = lane_borders(r, k, np.array([s]))
        if lane not in borders:
            raise KeyError(f"road {road!r} has no lane {lane} at s={s:g}")
        inner, outer = borders[lane]
        t = 0.5 * float(inner[0] + outer[0]) + offset
        return self.road_pose(road, s, t, lane)

    def road_pose(self, road: str, s: float, t: float, lane: int | None = None) -> Pose:
        """World pose at road coordinates (s, t) (m); heading along s, or against it on left lanes."""
        self.section(road, s)
        r = self.odr.roads[road]
        xr, yr, hr = r.ref.evaluate(np.array([min(max(s, 0.0), r.length)]))
        h = road_h = float(hr[0])
        x, y = float(xr[0]) - t * math.sin(h), float(yr[0]) + t * math.cos(h)
        if lane is None:
            lane = self.lane_at(road, s, t)
        if lane is not None and (lane > 0) != r.lht:
            h += math.pi
        return Pose(x, y, math.atan2(math.sin(h), math.cos(h)), road, lane, s, t, road_h)

    def lane_at(self, road: str, s: float, t: float) -> int | None:
        """OpenDRIVE lane id under road coordinates (s, t), None off the lanes."""
        r = self.odr.roads[road]
        k = self.section(road, s)
        _, borders = lane_borders(r, k, np.array([min(max(s, 0.0), r.length)]))
        for lid, (a, b) in borders.items():
            lo, hi = sorted((float(a[0]), float(b[0])))
            if lo <= t <= hi:
                return lid
        return None

    def net_lane(self, pose: Pose, pedestrian: bool = False) -> tuple[str, float, float]:
        """(lane name, lane s, lateral offset) of a pose in the network: its own lane when known, else the
        nearest lane heading the same way (any direction for pedestrians; sidewalks preferred)."""
        net = self.net
        if pose.road is not None and pose.lane is not None and pose.s is not None:
            name = lane_name(pose.road, self.section(pose.road, pose.s), pose.lane)
            if name in net.lane_names:
                s, t = self._project(net.lane_names.index(name), pose.x, pose.y)
                return name, s, t
        best: tuple[float, int, float, float] | None = None
        for k in range(net.n_lanes):
            if not pedestrian and int(net.lane_type[k]) != int(LaneType.DRIVING):
                continue
            s, t = self._project(k, pose.x, pose.y)
            a = int(net.lane_start[k])
            hk = float(
                net.pts_heading[a + min(int(np.searchsorted(net.lane_points(k)[2], s)), net.lane_start[k + 1] - a - 1)]
            )
            dh = abs(math.atan2(math.sin(hk - pose.h), math.cos(hk - pose.h)))
            if not pedestrian and dh > math.pi / 2:
                continue
            score = abs(t) - (0.5 if pedestrian and int(net.lane_type[k]) == int(LaneType.SIDEWALK) else 0.0)
            if best is None or score < best[0]:
                best = (score, k, s, t)
        if best is None:
            raise KeyError(f"no lane near ({pose.x:.1f}, {pose.y:.1f})")
        return net.lane_names[best[1]], best[2], best[3]

    def heads_along(self, name: str, s: float, h: float) -> bool:
        """Does heading ``h`` (rad) point along lane ``name``'s driving direction at its arc length s (m)?"""
        k = self.net.lane_names.index(name)
        a, b = int(self.net.lane_start[k]), int(self.net.lane_start[k + 1])
        i = a + min(int(np.searchsorted(self.net.pts_s[a:b], s)), b - a - 1)
        return math.cos(float(self.net.pts_heading[i]) - h) >= 0.0

    def _project(self, lane: int, x: float, y: float) -> tuple[float, float]:
        lx, ly, ls = self.net.lane_points(lane)
        s, t, _, _ = project_on_polyline(x, y, lx, ly, ls, 0, len(ls))
        return float(min(max(s, 0.0), ls[-1])), float(t)

    def ahead(self, lane: int, max_lanes: int = 40, max_m: float = 3000.0) -> int:
        """The lane reached by driving straight on from ``lane``: successors with the smallest turn,
        until a dead end, a loop, ``max_lanes`` lanes or ``max_m`` metres."""
        net = self.net
        seen, cur, total = {lane}, lane, 0.0
        for _ in range(max_lanes):
            succ = [int(n) for n in net.successors(cur) if int(n) not in seen]
            if not succ or total > max_m:
                break
            end_h = float(net.pts_heading[int(net.lane_start[cur + 1]) - 1])
            turns = [float(net.pts_heading[int(net.lane_start[n])]) - end_h for n in succ]
            cur = succ[int(np.argmin([abs(math.atan2(math.sin(d), math.cos(d))) for d in turns]))]
            seen.add(cur)
            total += float(net.lane_length[cur])
        return cur
