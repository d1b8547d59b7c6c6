"""Translate a resolved OpenSCENARIO tree into the data of our own scenario format (docs/scenario-format.md).

The result is plain data that ``ScenarioSpec`` validates, so ``run``, ``validate``, ``batch`` and
``convert`` share one path. Every element the translation cannot honour exactly is recorded
(``Translator.ignored``, located at the element): the loader refuses the file unless partial
translation was allowed. Semantics and the choices made where esmini differs from the standard
are documented in docs/openscenario-coverage.md.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from pathlib import Path
from typing import Any

from simcore.scenario.errors import Issue, did_you_mean
from simcore.scenario.openscenario.coverage import FIRST_VERSION, status
from simcore.scenario.openscenario.positions import MapView, Pose
from simcore.scenario.openscenario.xml import XNode

DT = 0.05
DEFAULT_TIMEOUT_S = 120.0
#: Largest lateral start offset from a lane centre dropped without refusing (m).
MAX_OFFSET_M = 0.25
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


_NEGATED = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt", "eq": "ne", "ne": "eq"}


def _negate(trig: dict) -> dict | None:
    """The negation of a comparison trigger (None for other kinds)."""
    if "compare" in trig:
        c = {**trig["compare"], "rule": _NEGATED[trig["compare"]["rule"]]}
        return {"time_s": c["value"]} if c["measure"] == "time" and c["rule"] == "ge" else {"compare": c}
    if "time_s" in trig:
        return {"compare": {"measure": "time", "rule": "lt", "value": trig["time_s"]}}
    if "any" in trig or "all" in trig:
        parts = [_negate(p) for p in trig.get("any", trig.get("all", []))]
        if any(p is None for p in parts):
            return None
        return {"all": parts} if "any" in trig else {"any": parts}
    return None


def _monotone_rising(trig: dict) -> bool:
    """A condition on time that can only turn from false to true (t >= T, t > T)."""
    c = trig.get("compare", {})
    return "time_s" in trig or (c.get("measure") == "time" and c.get("rule") in ("gt", "ge"))


class Translator:
    """One OpenSCENARIO file (parameters and catalogs resolved) -> scenario data + what was not honoured."""

    def __init__(self, root: XNode, file: Path, map_ref: str, view: MapView, ego: str | None) -> None:
        self.root, self.file, self.view = root, file, view
        self.map_ref = map_ref
        self.ignored: list[Issue] = []
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.entities: dict[str, XNode] = {}
        self.poses: dict[str, Pose] = {}
        self.lane_now: dict[str, int] = {}
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
        self.init_follow: list[tuple[str, dict]] = []  # continuous relative speeds set in Init
        self.init_speed: list[dict] = []  # Init speeds above the lane limit, kept by a scripted speed
        self.noted: list[Issue] = []  # documented approximations that do not refuse the file
        self.ego_request = ego

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

    def run(self) -> dict[str, Any]:
        r = self.root
        head = r.kid("FileHeader")
        ents = r.kid("Entities")
        for so in ents.kids("ScenarioObject") if ents is not None else []:
            self.entities[so.attrs.get("name", "")] = so
        if ents is not None:
            for other in ents.children:
                if other.tag != "ScenarioObject":
                    self.skip(other, f"<{other.tag}> is not supported yet (entity selections)")
        vehicles = [n for n, so in self.entities.items() if so.kid("Vehicle") is not None]
        self.ego = self.pick_ego(vehicles)
        sb = r.kid("Storyboard")
        if sb is None:
            raise r.error("missing <Storyboard>")
        init = sb.kid("Init")
        if init is not None:
            self.init(init)
        data: dict[str, Any] = {
            "simcore": 1,
            "name": _name(self.file.stem),
            "description": (head.attrs.get("description", "") if head is not None else "")
            + f" (translated from OpenSCENARIO {self.file.name})",
            "dt": DT,
            "map": {"file": self.map_ref},
            "parameters": {
                d.attrs["name"]: d.attrs.get("value", "")
                for d in (r.kid("ParameterDeclarations") or r).kids("ParameterDeclaration")
            },
        }
        self.mark(("map", "file"), r.kid("RoadNetwork") or r)
        actors: list[dict] = []
        for name, so in self.entities.items():
            spec = self.entity(name, so)
            if spec is None:
                continue
            if name == self.ego:
                data["ego"] = spec
                self.mark(("ego",), so)
            else:
                self.mark(("actors", len(actors)), so)
                actors.append(spec)
        data["actors"] = actors
        self.story += self.init_speed
        for who, spec in self.init_follow:
            if who in self.poses:
                ref = self.rid(spec.pop("relative_to"))
                self.story.append(
                    {
                        "when": {"time_s": 0},
                        "do": {
                            "speed": {
                                "actor": self.rid(who),
                                "relative_to": ref,
                                **spec,
                                "shape": "step",
                                "continuous": True,
                            }
                        },
                    }
                )
        for story in sb.kids("Story"):
            self.story_(story)
        data["storyboard"] = self.story
        end: dict[str, Any] = {"timeout_s": DEFAULT_TIMEOUT_S, "ego_reaches_goal": False}
        stop = sb.kid("StopTrigger")
        if stop is not None and stop.children:
            when = self.trigger(stop)
            if when is not None and when[1] > 0:  # a delayed stop: an entry that ends the run
                self.story.append({"when": when[0], "do": {"end": "end_condition"}, "delay_s": when[1]})
            elif when is not None:
                end["when"] = when[0]
            if when is not None:
                t = self.time_bound(stop)
                if t is not None:
                    end["timeout_s"] = t + 1.0
        data["end"] = end
        data["criteria"] = ["no_collision"]
        self.unknown_elements()
        return data

    def pick_ego(self, vehicles: list[str]) -> str | None:
        if self.ego_request is not None:
            if self.ego_request not in vehicles:
                raise self.root.error(
                    f"--ego {self.ego_request!r} is not a vehicle of this file (vehicles: {', '.join(vehicles)})"
                )
            return self.ego_request
        for v in vehicles:
            if v.lower() in ("ego", "hero"):
                return v
        return vehicles[0] if vehicles else None

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

    def init(self, init: XNode) -> None:
        acts = init.kid("Actions")
        for blk in acts.children if acts is not None else []:
            if blk.tag == "GlobalAction":
                entry = self.global_action(blk.first(), blk)
                if entry is not None:
                    self.story.append({"when": {"time_s": 0}, "do": entry})
                continue
            if blk.tag != "Private":
                self.skip(blk, f"<{blk.tag}> in Init is not supported yet")
                continue
            who = blk.attrs.get("entityRef", "")
            if who not in self.entities:
                raise blk.error(f"unknown entity {who!r}")
            for pa in blk.kids("PrivateAction"):
                a = pa.first()
                if a is None:
                    continue
                if a.tag == "TeleportAction":
                    self.poses[who] = self.position(a.kid("Position") or a)
                    self.mark_handled(a)
                elif a.tag == "LongitudinalAction" and a.kid("SpeedAction") is not None:
                    tgt = a.kid("SpeedAction").kid("SpeedActionTarget")  # type: ignore[union-attr]
                    absn = tgt.kid("AbsoluteTargetSpeed") if tgt is not None else None
                    rel = tgt.kid("RelativeTargetSpeed") if tgt is not None else None
                    if absn is not None:
                        self.speed0[who] = _f(absn, "value")
                    elif rel is not None and rel.attrs.get("entityRef") in self.speed0:
                        v_ref = self.speed0[rel.attrs["entityRef"]]
                        factor = rel.attrs.get("speedTargetValueType") == "factor"
                        self.speed0[who] = max(v_ref * _f(rel, "value") if factor else v_ref + _f(rel, "value"), 0.0)
                        if rel.attrs.get("continuous") == "true":  # and it keeps following from the start
                            key = "factor" if factor else "delta"
                            self.init_follow.append(
                                (who, {"relative_to": rel.attrs["entityRef"], key: _f(rel, "value")})
                            )
                    else:
                        self.skip(a, "a relative target speed in Init needs the other entity's speed set before it")
                        continue
                    self.mark_handled(a)
                elif a.tag == "RoutingAction" and a.kid("AssignRouteAction") is not None:
                    self.assign_route(who, a.kid("AssignRouteAction"))  # type: ignore[arg-type]
                elif a.tag in ("ActivateControllerAction", "ControllerAction"):
                    self.controller(who, a)
                else:
                    self.private(who, a, {"time_s": 0}, None, f"init_{_name(who)}_{len(self.story)}")

    def mark_handled(self, node: XNode) -> None:
        for n in node.walk():
            self.handled.add(id(n))

    def controller(self, who: str, a: XNode) -> None:
        """Controllers: the ego's is the agent (``--agent``); activating the default controller (no
        ObjectController) changes nothing; other controllers are not honoured (our driver model drives)."""
        self.mark_handled(a)
        if who != self.ego and self.entities[who].kid("ObjectController") is not None:
            self.skip(
                a,
                f"<{a.tag}> on {who!r}: controllers other than the ego's agent are not supported yet "
                "(our driver model drives it)",
            )

    def assign_route(self, who: str, node: XNode) -> None:
        self.mark_handled(node)
        route = node.kid("Route")
        wps = route.kids("Waypoint") if route is not None else []
        if not wps:
            self.skip(node, "AssignRouteAction without an inline or catalog route")
            return
        pose = self.position(wps[-1].kid("Position") or wps[-1])
        name, _, _ = self.view.net_lane(pose)
        self.routes[who] = name

    def entity(self, name: str, so: XNode) -> dict | None:
        kind = so.first()
        if kind is None or kind.tag not in ("Vehicle", "Pedestrian", "MiscObject"):
            self.skip(so, "entity without <Vehicle>, <Pedestrian> or <MiscObject> (unresolved catalog?)")
            return None
        self.mark_handled(kind)
        pose = self.poses.get(name)
        if pose is None:
            self.skip(so, f"entity {name!r} is never placed in Init (a TeleportAction is needed)")
            return None
        if kind.tag == "MiscObject":
            bb = kind.kid("BoundingBox")
            dims = bb.kid("Dimensions") if bb is not None else None
            out: dict[str, Any] = {
                "id": self.rid(name),
                "type": "static",
                "shape": "box",
                "at": {"x": round(pose.x, 3), "y": round(pose.y, 3), "yaw_deg": round(math.degrees(pose.h), 3)},
            }
            if dims is not None:
                out["length"], out["width"] = _f(dims, "length"), _f(dims, "width")
            return out
        pedestrian = kind.tag == "Pedestrian"
        if pose.road is not None and pose.s is not None and pose.t is not None:
            under = self.view.lane_at(pose.road, pose.s, pose.t)  # an offset may put it on the next lane
            if under is not None and under != pose.lane:
                pose = dataclasses.replace(pose, lane=under)
                self.poses[name] = pose
        lane, s, off = self.view.net_lane(pose, pedestrian)
        if not pedestrian and not self.view.heads_along(lane, s, pose.h):
            self.skip(
                so,
                f"{name!r} starts against the driving direction of lane {lane!r}: wrong-way driving is "
                "not supported yet (it starts on the nearest lane of its direction)",
            )
            lane, s, off = self.view.net_lane(dataclasses.replace(pose, road=None, lane=None), pedestrian)
        cat = kind.attrs.get("vehicleCategory", "car")
        half = 0.5 * float(self.view.net.lane_width[self.view.net.lane_names.index(lane)])
        cyclist = cat == "bicycle" and name != self.ego and 0.3 <= half + off <= 3.0
        if abs(off) > MAX_OFFSET_M and not pedestrian and not cyclist:
            self.skip(so, f"{name!r} starts {off:.2f} m beside its lane centre: it starts on the centre line")
        self.lane_now[name] = pose.lane if pose.lane is not None else 0
        if pedestrian:  # heading across its lane: it crosses the road (jaywalk); else it walks along it
            k = self.view.net.lane_names.index(lane)
            lane_h = float(self.view.net.pts_heading[int(self.view.net.lane_start[k])])
            across = abs(math.cos(pose.h - lane_h)) < 0.5
            how = {"at_s": round(s, 3)} if across else {}
            spec_p: dict[str, Any] = {
                "id": self.rid(name),
                "type": "pedestrian",
                "start": {"lane": lane, "s": round(s, 3)},
                "behavior": {"jaywalk" if across else "walk": {**how, "speed": _walk(self.speed0.get(name, 1.4))}},
            }
            self.walkers[name] = spec_p["behavior"]["jaywalk" if across else "walk"]
            self.walker_specs[name] = spec_p
            return spec_p
        spec: dict[str, Any] = {
            "vehicle": _VEHICLES.get(cat, "sedan"),
            "start": {"lane": lane, "s": round(s, 3), "speed": round(self.speed0.get(name, 0.0), 6)},
            "route": {
                "to": self.routes.get(name)
                or self.view.net.lane_names[self.view.ahead(self.view.net.lane_names.index(lane))]
            },
        }
        if name == self.ego:  # the goal as far along its route as allowed: runs end by the file's triggers
            spec["goal_margin_m"] = 500.0
            return spec
        spec = {"id": self.rid(name), **spec}
        v0 = self.speed0.get(name, 0.0)
        idm: dict[str, float] = {"desired_speed_kph": round(max(v0, 1.0) * 3.6, 6)}
        limit = float(self.view.net.lane_speed_limit[self.view.net.lane_names.index(lane)])
        if limit > 0 and v0 > limit:  # our drivers keep to the limit; a scripted speed lifts it (as esmini)
            self.init_speed.append(
                {
                    "when": {"time_s": 0},
                    "do": {"speed": {"actor": self.rid(name), "target": round(v0, 6), "shape": "step"}},
                }
            )
        spec["behavior"] = {"idm": idm}
        if cyclist:  # our cyclists ride a set distance inside the lane's right edge
            spec.update(type="cyclist", keep_right_m=round(half + off, 3))
        return spec

    # ------------------------------------------------------------------ storyboard

    def story_(self, story: XNode) -> None:
        for act in story.kids("Act"):
            st = act.kid("StartTrigger")
            act_when = self.trigger(st) if st is not None and st.children else None
            trivial = act_when is None or self.always(act_when[0])
            self.triggers[act.attrs.get("name", "")] = None if trivial else act_when
            self.triggers.setdefault(story.attrs.get("name", ""), None if trivial else act_when)
            stop = act.kid("StopTrigger")
            if stop is not None and stop.children:
                self.skip(stop, "Act StopTrigger is not supported yet (the act runs to its end)")
            for mg in act.kids("ManeuverGroup"):
                if int(_f(mg, "maximumExecutionCount", 1)) > 1:
                    self.skip(mg, "maximumExecutionCount > 1 is not supported yet (each event runs once)")
                actors = [e.attrs.get("entityRef", "") for e in (mg.kid("Actors") or mg).kids("EntityRef")]
                mg_ends: list[str] = []
                mans = mg.kids("Maneuver") + [m for c in mg.kids("CatalogReference") if (m := c.first()) is not None]
                for man in mans:
                    man_ends: list[str] = []
                    for ev in man.kids("Event"):
                        man_ends += self.event(ev, actors, None if trivial else act_when)
                    firsts = [
                        self.names[e.attrs.get("name", "")]
                        for e in man.kids("Event")
                        if e.attrs.get("name", "") in self.names
                    ]
                    if firsts:
                        self.names[man.attrs.get("name", "")] = firsts[0]
                        self.names.setdefault(mg.attrs.get("name", ""), firsts[0])
                    self.ends[man.attrs.get("name", "")] = man_ends
                    mg_ends += man_ends
                self.ends[mg.attrs.get("name", "")] = mg_ends
                self.ends.setdefault(act.attrs.get("name", ""), []).extend(mg_ends)
                self.ends.setdefault(story.attrs.get("name", ""), []).extend(mg_ends)

    def event(self, ev: XNode, actors: list[str], act_when: tuple | None) -> list[str]:
        """Entries of one event (every action for every actor); returns their names."""
        if ev.attrs.get("priority") == "skip":
            self.skip(ev, "priority 'skip' is not supported yet (the event starts regardless)")
        st = ev.kid("StartTrigger")
        when = self.trigger(st) if st is not None and st.children else None
        if when is None:
            when = act_when or ({"time_s": 0}, 0.0)
        elif act_when is not None:
            when = ({"all": [act_when[0], when[0]]}, when[1])
        ev_name = self.unique(_name(ev.attrs.get("name", f"event{len(self.story)}")))
        made: list[str] = []
        for k, action in enumerate(ev.kids("Action")):
            entry_name = ev_name if k == 0 else self.unique(_name(f"{ev_name}.{action.attrs.get('name', k)}"))
            a = action.first()
            if a is None:
                continue
            before = len(self.story)
            if a.tag == "PrivateAction":
                for i, who in enumerate(actors):
                    own = entry_name if i == 0 else self.unique(_name(f"{entry_name}.{who}"))
                    self.private(who, a.first() or a, when[0], when[1], own)
            elif a.tag == "GlobalAction":
                g = self.global_action(a.first(), a)
                if g is not None:
                    self.story.append({"name": entry_name, "when": when[0], "do": g, "delay_s": when[1]})
            else:
                self.skip(a, f"<{a.tag}> actions are not supported yet")
            entries = [e["name"] for e in self.story[before:]]
            if entries:
                self.names[action.attrs.get("name", "")] = entries[0]
                self.ends[action.attrs.get("name", "")] = entries
                made += entries
        if made and int(_f(ev, "maximumExecutionCount", 1)) > 1:  # events of no-op actions may repeat freely
            self.skip(ev, "maximumExecutionCount > 1 is not supported yet (the event runs once)")
        if made:
            self.names[ev.attrs.get("name", "")] = made[0]
            self.ends[ev.attrs.get("name", "")] = made
        return made

    def private(self, who: str, a: XNode, when: dict, delay: float | None, name: str | None) -> None:
        """One private action of entity ``who`` as storyboard entries (appended)."""
        if who not in self.entities:
            raise a.error(f"unknown entity {who!r}")
        actor = self.rid(who)
        do: dict[str, Any] | None = None
        inner = a.first()
        kind = self.entities[who].first()
        if who not in self.poses:
            self.skip(a, f"action of {who!r}, which is never placed")
            return
        if kind is not None and kind.tag == "Pedestrian":
            tgt = inner.kid("SpeedActionTarget") if inner is not None else None
            absn = tgt.kid("AbsoluteTargetSpeed") if tgt is not None else None
            if a.tag == "LongitudinalAction" and inner is not None and inner.tag == "SpeedAction" and absn is not None:
                walker = self.walkers.get(who)
                if walker is not None and who not in self.walker_started:
                    walker["speed"] = _walk(_f(absn, "value"))  # its first speed: walking or crossing speed
                    self.walker_started.add(who)
                elif walker is not None and _walk(_f(absn, "value")) != walker["speed"]:
                    self.skip(inner, "a pedestrian walks at one speed: later speed changes are not supported yet")
                do = {"start": actor}
            elif a.tag == "RoutingAction" and inner is not None and inner.tag == "FollowTrajectoryAction":
                if not self.pedestrian_path(who, inner):
                    return
                do = {"start": actor}
            else:
                self.skip(inner or a, f"<{(inner or a).tag}> of a pedestrian is not supported yet")
                return
        elif a.tag == "LongitudinalAction" and inner is not None and inner.tag == "SpeedAction":
            do, _ = self.speed(actor, who, inner)
        elif a.tag == "LongitudinalAction" and inner is not None and inner.tag == "SpeedProfileAction":
            self.speed_profile(actor, inner, when, delay, name)
            self.mark_handled(a)
            return
        elif a.tag == "LongitudinalAction" and inner is not None and inner.tag == "SynchronizeAction":
            do = self.synchronize(actor, inner)
        elif a.tag == "LongitudinalAction" and inner is not None and inner.tag == "LongitudinalDistanceAction":
            do = self.keep_distance(actor, inner)
        elif a.tag == "SynchronizeAction":
            do = self.synchronize(actor, a)
        elif a.tag == "LateralAction" and inner is not None and inner.tag == "LaneChangeAction":
            do, _ = self.lane_change(actor, who, inner)
        elif a.tag == "TeleportAction":
            pose = self.position(a.kid("Position") or a)
            do = {
                "teleport": {
                    "actor": actor,
                    "x": round(pose.x, 3),
                    "y": round(pose.y, 3),
                    "yaw_deg": round(math.degrees(math.atan2(math.sin(pose.h), math.cos(pose.h))), 3),
                }
            }
        elif a.tag in ("ActivateControllerAction", "ControllerAction"):
            self.controller(who, a)
            return
        elif a.tag == "RoutingAction" and inner is not None and inner.tag == "AssignRouteAction":
            self.skip(inner, "AssignRouteAction after Init is not supported yet (routes are fixed at the start)")
            return
        else:
            tag = (
                inner.tag
                if inner is not None and a.tag in ("LongitudinalAction", "LateralAction", "RoutingAction")
                else a.tag
            )
            self.skip(inner if inner is not None and tag == inner.tag else a, f"<{tag}> is not supported yet")
            return
        if do is None:
            return
        self.mark_handled(a)
        entry: dict[str, Any] = {"when": when, "do": do}
        if name:
            entry["name"] = name
        if delay:
            entry["delay_s"] = delay
        self.story.append(entry)

    def speed(self, actor: str, who: str, sa: XNode) -> tuple[dict | None, float]:
        dyn = sa.kid("SpeedActionDynamics")
        tgt = sa.kid("SpeedActionTarget")
        if dyn is None or tgt is None or tgt.first() is None:
            raise sa.error("SpeedAction needs SpeedActionDynamics and SpeedActionTarget")
        t = tgt.first()
        assert t is not None
        spec: dict[str, Any] = {"actor": actor}
        if t.tag == "AbsoluteTargetSpeed":
            spec["target"] = _f(t, "value")
        else:
            ref = t.attrs.get("entityRef", "")
            if ref not in self.entities:
                raise t.error(f"unknown entity {ref!r}")
            spec["relative_to"] = self.rid(ref)
            key = "factor" if t.attrs.get("speedTargetValueType") == "factor" else "delta"
            spec[key] = _f(t, "value")
            if t.attrs.get("continuous") == "true":
                if dyn.attrs.get("dynamicsShape", "step") == "step" or _f(dyn, "value", 0.0) == 0.0:
                    spec["continuous"] = True
                else:
                    self.skip(t, "continuous relative target speed with a ramp: the target is taken when it starts")
        shape = dyn.attrs.get("dynamicsShape", "step")
        dim = dyn.attrs.get("dynamicsDimension", "time")
        value = _f(dyn, "value", 0.0)
        if shape not in ("step", "linear", "cubic", "sinusoidal"):
            self.skip(dyn, f"speed dynamics shape {shape!r} is not supported yet")
            return None, 0.0
        duration = 0.0
        if shape == "step" or value == 0.0:
            spec["shape"] = "step"
        elif dim == "rate":  # esmini writes decelerations as negative rates; the sign carries nothing
            spec.update(shape=shape, rate=abs(value))
        elif dim == "time":
            spec.update(shape=shape, duration=value)
            duration = value
        elif dim == "distance":
            spec.update(shape=shape, distance=abs(value))
        else:
            self.skip(dyn, f"speed dynamics dimension {dim!r} is not supported yet")
            return None, 0.0
        return {"speed": spec}, duration

    def pedestrian_path(self, who: str, fta: XNode) -> bool:
        """A pedestrian's polyline that runs along its start lane and then crosses the road in one straight
        segment becomes our jaywalk (walk to ``at_s``, cross ``width_m``); other shapes are refused."""
        shape = next((n for n in fta.walk() if n.tag == "Shape"), None)
        poly = shape.kid("Polyline") if shape is not None else None
        spec = self.walker_specs.get(who)
        if poly is None or spec is None or len(poly.kids("Vertex")) < 2:
            self.skip(fta, "a pedestrian's trajectory other than a polyline is not supported yet")
            return False
        pts = [self.position(v.kid("Position") or v) for v in poly.kids("Vertex")]
        k = self.view.net.lane_names.index(spec["start"]["lane"])
        along = [self.view._project(k, p.x, p.y) for p in pts]
        # the crossing: the segment with the largest sideways change; before it the walk along the lane
        c = max(range(len(pts) - 1), key=lambda i: abs(along[i + 1][1] - along[i][1]))
        seg = math.hypot(pts[c + 1].x - pts[c].x, pts[c + 1].y - pts[c].y)
        on_lane = all(abs(t) <= 1.0 for _, t in along[: c + 1])
        forward = all(b[0] >= a[0] - 0.1 for a, b in itertools.pairwise(along[: c + 1]))
        crosses = seg > 1.0 and abs(along[c + 1][1] - along[c][1]) >= 0.8 * seg
        if not (on_lane and forward and crosses):
            self.skip(fta, "this pedestrian trajectory is not 'along the sidewalk, then straight across' (not yet)")
            return False
        tail = sum(math.hypot(q.x - p.x, q.y - p.y) for p, q in itertools.pairwise(pts[c + 1 :]))
        if tail > 1.0:
            self.skip(
                fta, f"the pedestrian's last {tail:.1f} m after crossing are not walked (it stops at the far side)"
            )
        speed = spec["behavior"].get("walk", spec["behavior"].get("jaywalk", {})).get("speed", 1.4)
        spec["behavior"] = {
            "jaywalk": {
                "at_s": max(round(along[c][0], 3), spec["start"]["s"]),
                "width_m": round(min(max(seg, 1.01), 60), 3),
                "speed": speed,
            }
        }
        self.walkers[who] = spec["behavior"]["jaywalk"]
        if fta.attrs.get("initialDistanceOffset") or (
            (tr := fta.kid("TimeReference")) is not None and tr.kid("Timing") is not None
        ):
            self.skip(
                fta, "trajectory timing and offsets of a pedestrian are not supported yet (it walks at its speed)"
            )
        self.mark_handled(fta)
        return True

    def keep_distance(self, actor: str, la: XNode) -> dict | None:
        """LongitudinalDistanceAction: our keep_distance (a proportional distance keeper, 1 s time constant,
        within the DynamicConstraints' acceleration, deceleration and speed)."""
        ref = la.attrs.get("entityRef", "")
        if ref not in self.entities:
            raise la.error(f"unknown entity {ref!r}")
        spec: dict[str, Any] = {"actor": actor, "to": self.rid(ref)}
        if "distance" in la.attrs:
            spec["distance_m"] = _f(la, "distance")
        elif "timeGap" in la.attrs:
            spec["time_gap_s"] = _f(la, "timeGap")
        else:
            raise la.error("LongitudinalDistanceAction needs distance or timeGap")
        if la.attrs.get("freespace") == "true":
            spec["freespace"] = True
        spec["side"] = {"leadingReferencedEntity": "behind", "trailingReferencedEntity": "ahead"}.get(
            la.attrs.get("displacement", "trailingReferencedEntity"), "any"
        )
        spec["continuous"] = la.attrs.get("continuous", "true") == "true"
        dc = la.kid("DynamicConstraints")
        if dc is not None:
            for key, name in (
                ("max_accel", "maxAcceleration"),
                ("max_decel", "maxDeceleration"),
                ("max_speed", "maxSpeed"),
            ):
                if name in dc.attrs and _f(dc, name) > 0:
                    spec[key] = _f(dc, name)
            if any(k in dc.attrs for k in ("maxAccelerationRate", "maxDecelerationRate")):
                self.skip(dc, "jerk limits (acceleration rates) are not supported yet")
        if la.attrs.get("coordinateSystem", "entity") not in ("entity", "road", "lane"):
            self.skip(la, f"coordinateSystem {la.attrs['coordinateSystem']!r} is not supported yet")
        return {"keep_distance": spec}

    def synchronize(self, actor: str, sa: XNode) -> dict | None:
        """SynchronizeAction: arrive at TargetPosition when the master reaches TargetPositionMaster."""
        master = sa.attrs.get("masterEntityRef", "")
        if master not in self.entities:
            raise sa.error(f"unknown entity {master!r}")
        tp, tm = sa.kid("TargetPosition"), sa.kid("TargetPositionMaster")
        if tp is None or tm is None or tp.first() is None or tm.first() is None:
            raise sa.error("SynchronizeAction needs TargetPosition and TargetPositionMaster")
        p_a, p_m = self.position(tp.first()), self.position(tm.first())  # type: ignore[arg-type]
        spec: dict[str, Any] = {
            "actor": actor,
            "master": self.rid(master),
            "at": [round(p_a.x, 3), round(p_a.y, 3)],
            "master_at": [round(p_m.x, 3), round(p_m.y, 3)],
            "tolerance_m": max(_f(sa, "targetTolerance", 1.0), 0.01),
        }
        fs = sa.kid("FinalSpeed")
        f = fs.first() if fs is not None else None
        if f is not None and f.tag == "AbsoluteSpeed":
            spec["final_speed"] = _f(f, "value")
        elif f is not None and f.tag == "RelativeSpeedToMaster" and f.attrs.get("speedTargetValueType") != "factor":
            spec["final_delta"] = _f(f, "value")
        elif f is not None:
            self.skip(f, "a final speed as a factor of the master's is not supported yet")
        if f is not None and fs is not None:
            self.skip(
                fs,
                "the final speed is taken at the arrival, not reached gradually before it (esmini plans "
                "a smooth profile)",
            )
        return {"synchronize": spec}

    def speed_profile(self, actor: str, sp: XNode, when: dict, delay: float | None, name: str | None) -> None:
        """SpeedProfileAction as a chain of linear speed entries: entry k starts when entry k - 1 is done
        (``done``). ``time`` is the time to reach each speed from the previous one; without it the ramp
        runs at DynamicConstraints' maxAcceleration / maxDeceleration."""
        if sp.attrs.get("followingMode", "follow") == "follow":
            self.skip(sp, "followingMode 'follow' (jerk-limited in esmini): run as exact linear ramps ('position')")
        if sp.attrs.get("entityRef"):
            self.skip(sp, "a speed profile relative to an entity is not supported yet")
            return
        dc = sp.kid("DynamicConstraints")
        prev: str | None = None
        v_prev: float | None = None
        base = name or self.unique(f"{actor}_profile")
        for k, e in enumerate(sp.kids("SpeedProfileEntry")):
            v = _f(e, "speed")
            spec: dict[str, Any] = {"actor": actor, "target": v}
            dur = _f(e, "time", -1.0)
            if dur > 0:
                spec.update(shape="linear", duration=dur)
            elif dur == 0 or dc is None:
                spec["shape"] = "step"
            else:
                up = v_prev is None or v >= v_prev
                rate = _f(dc, "maxAcceleration" if up else "maxDeceleration", 0.0)
                spec.update(shape="linear", rate=rate) if rate > 0 else spec.update(shape="step")
            entry: dict[str, Any] = {"name": base if k == 0 else self.unique(f"{base}_{k}"), "do": {"speed": spec}}
            if prev is None:
                entry["when"] = when
                if delay:
                    entry["delay_s"] = delay
            else:
                entry["when"] = {"done": prev}
            self.story.append(entry)
            prev, v_prev = entry["name"], v

    def lane_change(self, actor: str, who: str, lc: XNode) -> tuple[dict | None, float]:
        dyn = lc.kid("LaneChangeActionDynamics")
        tgt = lc.kid("LaneChangeTarget")
        t = tgt.first() if tgt is not None else None
        if dyn is None or t is None:
            raise lc.error("LaneChangeAction needs LaneChangeActionDynamics and LaneChangeTarget")
        cur = self.lane_now.get(who, 0)
        if t.tag == "RelativeTargetLane":
            ref = t.attrs.get("entityRef", "")
            if ref not in self.lane_now:
                raise t.error(f"entity {ref!r} is not on a lane")
            # positive: to the left of the reference entity's direction of travel; lane ids grow
            # to the left of the road's s direction (0 is the centre line, stepped over)
            d = int(_f(t, "value")) * (1 if self.poses[ref].along_s() else -1)
            base = self.lane_now[ref]
            target = base + d
            if d and (target == 0 or (target > 0) != (base > 0)):
                target += 1 if d > 0 else -1
        else:
            target = int(_f(t, "value"))
        if target == cur or cur == 0:
            self.skip(lc, f"lane change of {who!r} to the lane it is on ({target})")
            return None, 0.0
        steps = abs(target - cur) - (1 if target * cur < 0 else 0)
        left = (target > cur) == self.poses[who].along_s()
        self.lane_now[who] = target
        dim = dyn.attrs.get("dynamicsDimension", "time")
        value = _f(dyn, "value")
        if dim == "time":
            duration = value
        elif dim == "distance":
            v = max(self.speed0.get(who, 1.0), 1.0)
            duration = value / v
            self.skip(
                dyn,
                f"lane change over a distance: run over the time that distance takes at the start speed "
                f"({duration:.2f} s at {v:g} m/s)",
            )
        else:
            self.skip(dyn, f"lane change dimension {dim!r} is not supported yet")
            return None, 0.0
        if "targetLaneOffset" in lc.attrs and float(lc.attrs["targetLaneOffset"] or 0) != 0:
            self.skip(lc, "targetLaneOffset is not supported yet (the car ends on the lane centre)")
        spec: dict[str, Any] = {
            "actor": actor,
            "direction": "left" if left else "right",
            "duration": round(min(max(duration, 0.05), 30.0), 6),
        }
        if steps > 1:
            spec["lanes"] = steps
        return {"lane_change": spec}, duration

    def global_action(self, a: XNode | None, parent: XNode) -> dict | None:
        if a is None:
            return None
        inner = a.first()
        if a.tag == "InfrastructureAction" and inner is not None:
            sig = inner.first()
            if sig is not None and sig.tag == "TrafficSignalStateAction":
                spec = self.signal(sig)
                if spec is None:
                    return None
                self.mark_handled(a)
                return {"signal": spec}
        self.skip(inner or a, f"<{(inner or a).tag}> is not supported yet")
        return None

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

    @staticmethod
    def always(t: dict) -> bool:
        return (
            t == {"time_s": 0}
            or t == {"compare": {"measure": "time", "rule": "ge", "value": 0.0}}
            or t == {"compare": {"measure": "time", "rule": "gt", "value": 0.0}}
        )

    def time_bound(self, trig: XNode) -> float | None:
        groups = trig.kids("ConditionGroup")
        times = [_f(c, "value") for c in trig.walk() if c.tag == "SimulationTimeCondition"]
        only_time = all(len(g.kids("Condition")) == 1 for g in groups) and len(groups) == len(times)
        return max(times) if times and only_time else None

    def trigger(self, trig: XNode) -> tuple[dict, float] | None:
        """(trigger data, delay s) of a Start/StopTrigger: any of its groups, all of each group's conditions."""
        groups = []
        delay = 0.0
        for g in trig.kids("ConditionGroup"):
            conds = []
            for c in g.kids("Condition"):
                out = self.condition(c)
                if out is None:
                    continue
                d = _f(c, "delay", 0.0)
                if d > 0 and (len(g.kids("Condition")) > 1 or len(trig.kids("ConditionGroup")) > 1):
                    out = {"delayed": {"when": out, "by_s": d}}  # this condition's own delay
                elif d > 0:
                    delay = d  # the whole trigger's: the entry's delay
                conds.append(out)
            if conds:
                groups.append(conds[0] if len(conds) == 1 else {"all": conds})
        if not groups:
            return None
        return (groups[0] if len(groups) == 1 else {"any": groups}), delay

    def condition(self, c: XNode) -> dict | None:
        """A condition; a falling edge becomes the first check where the negated condition holds."""
        out = self._condition(c)
        edge = c.attrs.get("conditionEdge", "none")
        if out is None or edge in ("none", "rising"):
            return out
        if edge == "falling":
            neg = _negate(out)
            if neg is not None:
                return neg
        if edge == "risingOrFalling" and _monotone_rising(out):  # time only rises: its only edge is rising
            return out
        self.skip(c, f"conditionEdge {edge!r} of this condition is not supported yet (it fires when it first holds)")
        return out

    def _condition(self, c: XNode) -> dict | None:
        body = c.first()
        if body is None:
            raise c.error("empty <Condition>")
        inner = body.first()
        if inner is None:
            raise body.error(f"empty <{body.tag}>")
        if body.tag == "ByValueCondition":
            return self.by_value(inner)
        ents = [e.attrs.get("entityRef", "") for e in (body.kid("TriggeringEntities") or body).kids("EntityRef")]
        rule_any = (body.kid("TriggeringEntities") or body).attrs.get("triggeringEntitiesRule", "any") == "any"
        ec = body.kid("EntityCondition")
        cond = ec.first() if ec is not None else None
        if cond is None:
            raise body.error("ByEntityCondition needs TriggeringEntities and EntityCondition")
        parts = []
        for e in ents:
            if e not in self.entities:
                raise body.error(f"unknown entity {e!r}")
            p = self.by_entity(self.rid(e), cond)
            if p is None:
                return None
            parts.append(p)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else ({"any": parts} if rule_any else {"all": parts})

    def rule(self, node: XNode) -> str:
        r = node.attrs.get("rule", "greaterThan")
        if r not in _RULES:
            raise node.error(f"unknown rule {r!r} (expected one of {', '.join(_RULES)})")
        return _RULES[r]

    def by_value(self, c: XNode) -> dict | None:
        if c.tag == "SimulationTimeCondition":
            rule, v = self.rule(c), _f(c, "value")
            if rule == "ge" or (rule == "gt" and v <= 0):
                return {"time_s": max(v, 0.0)}
            return {"compare": {"measure": "time", "rule": rule, "value": v}}
        if c.tag == "StoryboardElementStateCondition":
            ref, state = c.attrs.get("storyboardElementRef", ""), c.attrs.get("state", "")
            kind = c.attrs.get("storyboardElementType", "")
            if kind in ("act", "story") and state in ("startTransition", "runningState"):
                act = self.triggers.get(ref)
                return {"time_s": 0} if act is None else act[0]
            if state in ("startTransition", "runningState") and ref in self.names:
                return {"after": self.names[ref]}
            if state in ("endTransition", "completeState") and self.ends.get(ref):
                done = [{"done": e} for e in self.ends[ref]]
                return done[0] if len(done) == 1 else {"all": done}
            self.skip(
                c,
                f"state {state!r} of {kind} {ref!r} is not supported yet (or the element is not known "
                "before this condition)",
            )
            return None
        if c.tag == "TrafficSignalCondition":
            spec = self.signal(c)
            return None if spec is None else {"signal": spec}
        if c.tag == "ParameterCondition":
            name = c.attrs.get("parameterRef", "")
            decl = {
                d.attrs.get("name"): d.attrs.get("value") for d in self.root.walk() if d.tag == "ParameterDeclaration"
            }
            if name not in decl:
                raise c.error(f"unknown parameter {name!r}")
            try:
                holds = {
                    "lt": float.__lt__,
                    "le": float.__le__,
                    "gt": float.__gt__,
                    "ge": float.__ge__,
                    "eq": float.__eq__,
                    "ne": float.__ne__,
                }[self.rule(c)](float(decl[name] or 0), _f(c, "value"))
            except ValueError:
                holds = (decl[name] == c.attrs.get("value")) == (self.rule(c) == "eq")
            return {"time_s": 0} if holds else {"compare": {"measure": "time", "rule": "lt", "value": -1.0}}
        self.skip(c, f"<{c.tag}> is not supported yet")
        return None

    def by_entity(self, actor: str, c: XNode) -> dict | None:
        def cmp(
            measure: str,
            to: str | None = None,
            value: float | None = None,
            rule: str | None = None,
            freespace: bool = False,
        ) -> dict:
            out: dict[str, Any] = {"measure": measure, "actor": actor}
            if to is not None:
                if to not in self.entities:
                    raise c.error(f"unknown entity {to!r}")
                out["to"] = self.rid(to)
            out["rule"] = rule or self.rule(c)
            out["value"] = _f(c, "value") if value is None else value
            if freespace:
                out["freespace"] = True
            return {"compare": out}

        free = c.attrs.get("freespace", "false") == "true"
        if c.tag == "SpeedCondition":
            return cmp("speed")
        if c.tag == "AccelerationCondition":
            return cmp("accel")
        if c.tag == "RelativeSpeedCondition":
            return cmp("relative_speed", c.attrs.get("entityRef"))
        if c.tag == "StandStillCondition":
            self.skip(c, "StandStillCondition: holds at the first standstill (its duration is not waited for)")
            return cmp("speed", value=0.01, rule="lt")
        if c.tag == "TraveledDistanceCondition":
            return cmp("traveled", rule="ge")
        if c.tag == "EndOfRoadCondition":
            return cmp("remaining", value=0.5, rule="lt")
        if c.tag == "TimeHeadwayCondition":
            return cmp("headway", c.attrs.get("entityRef"), freespace=free)
        if c.tag == "TimeToCollisionCondition":
            tgt = c.kid("TimeToCollisionConditionTarget")
            ref = tgt.kid("EntityRef") if tgt is not None else None
            if ref is None:
                self.skip(c, "TimeToCollision to a position is not supported yet")
                return None
            return cmp("ttc", ref.attrs.get("entityRef"))
        if c.tag == "RelativeDistanceCondition":
            kind = c.attrs.get("relativeDistanceType", "cartesian")
            measure = {
                "longitudinal": "longitudinal",
                "lateral": "lateral",
                "cartesian": "distance",
                "euclidianDistance": "distance",
                "euclideanDistance": "distance",
            }.get(kind)
            if measure is None:
                self.skip(c, f"relativeDistanceType {kind!r} is not supported yet")
                return None
            return cmp(measure, c.attrs.get("entityRef"), freespace=free)
        if c.tag == "CollisionCondition":
            ref = c.kid("EntityRef")
            if ref is None:
                self.skip(c, "collision with an entity type (ByType) is not supported yet")
                return None
            return cmp("distance", ref.attrs.get("entityRef"), value=0.0, rule="le", freespace=True)
        if c.tag in ("DistanceCondition", "ReachPositionCondition"):
            pos = self.position(c.kid("Position") or c)
            within = _f(c, "tolerance") if c.tag == "ReachPositionCondition" else _f(c, "value")
            rule = "lt" if c.tag == "ReachPositionCondition" else self.rule(c)
            if rule not in ("lt", "le"):
                self.skip(c, f"DistanceCondition with rule {c.attrs.get('rule')!r} is not supported yet")
                return None
            return {
                "position": {"actor": actor, "x": round(pos.x, 3), "y": round(pos.y, 3), "within_m": max(within, 1e-3)}
            }
        self.skip(c, f"<{c.tag}> is not supported yet")
        return None

    # ------------------------------------------------------------------ unknown elements

    def unknown_elements(self) -> None:
        """Elements outside OpenSCENARIO 1.0-1.3 are errors; those not supported yet and not refused
        above are reported once each (their subtrees are not looked at)."""
        reported = {(i.line, i.col) for i in self.ignored}

        def visit(n: XNode) -> None:
            if n.tag not in FIRST_VERSION:
                raise n.error(
                    f"unknown element <{n.tag}> (not in OpenSCENARIO 1.0-1.3){did_you_mean(n.tag, FIRST_VERSION)}"
                )
            if (n.line, n.col) in reported:
                return
            if id(n) not in self.handled and status(n.tag) == "not yet":
                self.skip(n, f"<{n.tag}> is not supported yet")
                return
            for c in n.children:
                visit(c)

        visit(self.root)
