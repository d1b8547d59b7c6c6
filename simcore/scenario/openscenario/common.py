"""Shared pieces of the OpenSCENARIO translation: constants, attribute helpers, and the translator's
state with its bookkeeping, position resolution and signal mapping (``TranslatorBase``)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from simcore.scenario.errors import Issue
from simcore.scenario.openscenario.positions import MapView, Pose
from simcore.scenario.openscenario.xml import XNode

DT = 0.05
DEFAULT_TIMEOUT_S = 120.0
#: Largest lateral start offset from a lane centre dropped without refusing (m).
MAX_OFFSET_M = 0.25
#: Largest lateral offset (m) a vehicle (not the ego) keeps beside the lane centres of its route.
MAX_BESIDE_M = 5.0
_RULES = {
    "lessThan": "lt",
    "lessOrEqual": "le",
    "greaterThan": "gt",
    "greaterOrEqual": "ge",
    "equalTo": "eq",
    "notEqualTo": "ne",
}
_VEHICLES = {
    "car": "sedan",
    "van": "van",
    "truck": "truck",
    "trailer": "truck",
    "semitrailer": "truck",
    "bus": "city_bus",
    "motorbike": "compact",
    "bicycle": "bicycle",
    "train": "truck",
    "tram": "city_bus",
}


def _walk(v: float) -> float:
    """A walking speed our pedestrians accept (m/s)."""
    return round(min(max(v, 0.25), 3.0), 6)


def _name(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_\-]", "_", text or "x")
    return out if re.match(r"[A-Za-z_]", out) else f"_{out}"


def _f(node: XNode, key: str, default: float | None = None) -> float:
    raw = node.attrs.get(key)
    if raw is None:
        if default is None:
            raise node.error(f"missing attribute {key!r}")
        return default
    try:
        return float(raw)
    except ValueError:
        raise node.error(f"attribute {key}={raw!r} is not a number") from None


def _monotone_rising(trig: dict) -> bool:
    """A condition on time that can only turn from false to true (t >= T, t > T)."""
    c = trig.get("compare", {})
    return "time_s" in trig or (c.get("measure") == "time" and c.get("rule") in ("gt", "ge"))


class TranslatorBase:
    """State shared by the translation mixins (see ``translate.Translator``)."""

    def __init__(self, root: XNode, file: Path, map_ref: str, view: MapView, ego: str | None) -> None:
        self.root, self.file, self.view = root, file, view
        self.map_ref = map_ref
        self.ignored: list[Issue] = []
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.entities: dict[str, XNode] = {}
        self.poses: dict[str, Pose] = {}
        self.lane_now: dict[str, int] = {}
        self.lat: dict[str, float] = {}  # vehicle -> its offset left (+) of its current lane's centre (m)
        self.speed0: dict[str, float] = {}
        self.routes: dict[str, str] = {}
        self.story: list[dict] = []
        self.names: dict[str, str] = {}  # storyboard element name -> its first entry
        self.ends: dict[str, list[str]] = {}  # element name -> the entries whose completion ends it
        self.triggers: dict[str, Any] = {}  # act/story name -> start trigger
        self.handled: set[int] = set()
        self.taken: set[str] = set()
        self.walkers: dict[str, dict] = {}  # pedestrian -> its walk/jaywalk behaviour (speed set by its SpeedAction)
        self.walker_started: set[str] = set()
        self.walker_specs: dict[str, dict] = {}
        self.init_paths: dict[str, XNode] = {}  # pedestrian -> the FollowTrajectoryAction of its Init
        self.param_init: dict[str, str] = {}  # parameter -> value set in Init (from t = 0)
        self.param_changes: dict[str, tuple[XNode, str | None]] = {}  # -> its one storyboard change (None: more)
        self.param_entry: dict[str, str] = {}  # parameter -> the entry (mark) of its change
        self.added: dict[str, XNode] = {}  # entity not placed in Init -> the AddEntityAction bringing it in
        self.init_follow: list[tuple[str, dict]] = []  # continuous relative speeds set in Init
        self.init_speed: list[dict] = []  # Init speeds above the lane limit, kept by a scripted speed
        self.noted: list[Issue] = []  # documented approximations that do not refuse the file
        self.ego_request = ego
        self.ego: str | None = None
        self.from_start = True  # conditions being translated are checked from t = 0 (not from a later act start)

    # ------------------------------------------------------------------ bookkeeping

    def skip(self, node: XNode, why: str) -> None:
        """Record an element that is not honoured (the file refuses unless partial runs are allowed)."""
        self.ignored.append(node.issue(why))

    def unique(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3``... if an entry already has it."""
        taken = {e.get("name") for e in self.story} | self.taken
        out, k = name, 1
        while out in taken:
            k += 1
            out = f"{name}_{k}"
        self.taken.add(out)
        return out

    def mark(self, path: tuple, node: XNode) -> None:
        self.marks[path] = (node.line, node.col)

    def rid(self, name: str) -> str:
        """Our actor id of an entity."""
        return "ego" if name == self.ego else _name(name)

    # ------------------------------------------------------------------ entry
    # ------------------------------------------------------------------ positions

    def position(self, pos: XNode, actor: str | None = None) -> Pose:
        """Resolve a <Position> (its one child) to a pose; raises located errors."""
        p = pos.first() if pos.tag == "Position" else pos
        if p is None:
            raise pos.error("empty <Position>")
        v = self.view
        try:
            if p.tag == "LanePosition":
                pose = v.lane_pose(p.attrs["roadId"], int(_f(p, "laneId")), _f(p, "s"), _f(p, "offset", 0.0))
            elif p.tag == "RoadPosition":
                pose = v.road_pose(p.attrs["roadId"], _f(p, "s"), _f(p, "t"))
            elif p.tag == "WorldPosition":
                pose = Pose(_f(p, "x"), _f(p, "y"), _f(p, "h", 0.0))
            elif p.tag in (
                "RelativeLanePosition",
                "RelativeRoadPosition",
                "RelativeObjectPosition",
                "RelativeWorldPosition",
            ):
                pose = self.relative(p)
            elif p.tag == "RoutePosition":
                pose = self.route_position(p)
            else:
                self.skip(p, f"<{p.tag}> positions are not supported yet")
                raise p.error(f"<{p.tag}> positions are not supported yet")
        except KeyError as exc:
            raise p.error(f"position not on the map: {exc.args[0]}") from None
        o = p.kid("Orientation")
        if o is not None:  # relative: to the road's s direction where there is a road, else to the reference
            h = _f(o, "h", 0.0)
            if o.attrs.get("type", "absolute") == "relative":
                h += pose.road_h if pose.road_h is not None else pose.h
            pose = Pose(pose.x, pose.y, h, pose.road, pose.lane, pose.s, pose.t, pose.road_h)
        return pose

    def relative(self, p: XNode) -> Pose:
        ref = p.attrs.get("entityRef", "")
        if ref not in self.poses:
            raise p.error(f"entity {ref!r} has no position yet (position it before it is referred to)")
        base = self.poses[ref]
        v = self.view
        if p.tag == "RelativeLanePosition" and base.road is not None and base.lane is not None:
            dl = int(_f(p, "dLane", 0.0))
            lane = base.lane + dl
            if base.lane * lane <= 0 and dl != 0:  # lane 0 is the centre line: step over it
                lane += 1 if dl > 0 else -1
            forward = base.along_s()
            ds = _f(p, "ds", 0.0) if "ds" in p.attrs else _f(p, "dsLane", 0.0)
            out = v.lane_pose(base.road, lane, (base.s or 0.0) + (ds if forward else -ds), _f(p, "offset", 0.0))
            if forward != out.along_s():  # keeps the reference entity's direction of travel
                out = Pose(out.x, out.y, out.h + math.pi, out.road, out.lane, out.s, out.t, out.road_h)
            return out
        if p.tag == "RelativeRoadPosition" and base.road is not None:
            return v.road_pose(base.road, (base.s or 0.0) + _f(p, "ds"), (base.t or 0.0) + _f(p, "dt"))
        dx, dy = _f(p, "dx"), _f(p, "dy")
        if p.tag == "RelativeObjectPosition":
            c, s = math.cos(base.h), math.sin(base.h)
            dx, dy = dx * c - dy * s, dx * s + dy * c
        return Pose(base.x + dx, base.y + dy, base.h)

    def route_position(self, p: XNode) -> Pose:
        route = p.kid("RouteRef")
        r = route.kid("Route") if route is not None else None
        wps = r.kids("Waypoint") if r is not None else []
        inr = p.kid("InRoutePosition")
        lc = inr.kid("FromLaneCoordinates") if inr is not None else None
        if not wps or lc is None:
            self.skip(p, "<RoutePosition> is supported from lane coordinates of a route only")
            raise p.error("<RoutePosition> is supported from lane coordinates of a route only")
        first = self.position(wps[0].kid("Position") or wps[0])
        if first.road is None:
            raise p.error("the route's first waypoint is not on a road")
        return self.view.lane_pose(first.road, int(_f(lc, "laneId")), (first.s or 0.0) + _f(lc, "pathS"))

    # ------------------------------------------------------------------ entities and init

    def first_vertex(self, fta: XNode) -> Pose:
        """Pose at the first vertex of a polyline trajectory, headed along its first segment."""
        verts = [n for n in fta.walk() if n.tag == "Vertex"]
        if len(verts) < 2:
            raise fta.error("a trajectory with at least two polyline vertices is needed to place the entity")
        p, q = (self.position(v.kid("Position") or v) for v in verts[:2])
        return Pose(p.x, p.y, math.atan2(q.y - p.y, q.x - p.x))

    def mark_handled(self, node: XNode) -> None:
        for n in node.walk():
            self.handled.add(id(n))

    def signal(self, node: XNode) -> dict | None:
        """``{group, state}`` of a traffic signal state (action or condition): names such as ``red`` /
        ``yellow`` / ``green``, or esmini's lamp lists ``off;off;on`` (red;yellow;green, two lamps:
        red;green). The group is the signal's OpenDRIVE controller (all its signals switch together)."""
        state = node.attrs.get("state", "").lower()
        lamps = [p.strip() for p in state.split(";")] if ";" in state else []
        mapped: str | None = None
        if lamps and all(p in ("on", "off", "flashing") for p in lamps):
            names = ("red", "amber", "green") if len(lamps) == 3 else ("red", "green") if len(lamps) == 2 else ()
            lit = [n for n, p in zip(names, lamps, strict=False) if p != "off"]
            mapped = "amber" if "amber" in lit else (lit[0] if len(lit) == 1 else None)
        else:
            mapped = next((k for k in ("red", "amber", "green") if k in state), "amber" if "yellow" in state else None)
        if mapped is None:
            self.skip(node, f"traffic signal state {state!r} is not red, yellow or green")
            return None
        sid = node.attrs.get("name", node.attrs.get("trafficSignalId", ""))
        groups = self.view.net.signal_names
        owner = next((cid for cid, sids in self.view.odr.controllers.items() if sid in sids), None)
        by_road_layer = self.view.net.signal_group_of.get(sid, f"signal:{sid}")  # controller or junction approach
        group = sid if sid in groups else owner if owner in groups else by_road_layer
        if owner is not None and len(self.view.odr.controllers[owner]) > 1 and group == owner:
            self.noted.append(node.issue(f"signal {sid!r} switches with its controller {owner!r}"))
        return {"group": group, "state": mapped}

    # ------------------------------------------------------------------ triggers
