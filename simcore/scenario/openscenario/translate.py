"""Translate a resolved OpenSCENARIO tree into the data of our own scenario format (docs/scenario-format.md).

The result is plain data that ``ScenarioSpec`` validates, so ``run``, ``validate``, ``batch`` and
``convert`` share one path. Every element the translation cannot honour exactly is recorded
(``Translator.ignored``, located at the element): the loader refuses the file unless partial
translation was allowed. Semantics and the choices made where esmini differs from the standard
are documented in docs/openscenario-coverage.md.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

from simcore.scenario.errors import did_you_mean
from simcore.scenario.openscenario.actions import ActionsMixin
from simcore.scenario.openscenario.common import (
    _VEHICLES,
    DEFAULT_TIMEOUT_S,
    DT,
    MAX_BESIDE_M,
    MAX_OFFSET_M,
    _f,
    _name,
    _walk,
)
from simcore.scenario.openscenario.conditions import ConditionsMixin
from simcore.scenario.openscenario.coverage import FIRST_VERSION, status
from simcore.scenario.openscenario.xml import XNode
from simcore.units import mps_to_kph, rad_to_deg

#: Actions whose translation depends on where the entity is (lanes, paths): an event of them runs once.
NOT_REPEATED = {"lane_change", "follow_path", "spawn"}


def _keeps_running(do: dict) -> bool:
    """Does this action keep running after the step it fires in (a ramp, a lane change, a live speed...)?"""
    kind = next(iter(do))
    if kind == "speed":
        return do["speed"].get("shape", "step") != "step" or bool(do["speed"].get("continuous"))
    return kind in ("lane_change", "keep_distance", "synchronize", "follow_path", "speed_follow", "stop")


def _renamed(d: Any, rename: dict[str, str]) -> Any:
    """``d`` with entry names (``name``, ``after``, ``done``) replaced by ``rename``."""
    if isinstance(d, dict):
        return {k: rename.get(v, v) if k in ("name", "after", "done") and isinstance(v, str) else _renamed(v, rename)
                for k, v in d.items()}  # fmt: skip
    if isinstance(d, list):
        return [_renamed(v, rename) for v in d]
    return d


def _refers(d: Any, names: set[str]) -> bool:
    """Does trigger data ``d`` refer (``after``/``done``) to one of ``names``?"""
    if isinstance(d, dict):
        return any((k in ("after", "done") and v in names) or _refers(v, names) for k, v in d.items())
    if isinstance(d, list):
        return any(_refers(v, names) for v in d)
    return False


class Translator(ActionsMixin, ConditionsMixin):
    """One OpenSCENARIO file (parameters and catalogs resolved) -> scenario data + what was not honoured."""

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
        self.entities_added(sb)
        self.parameter_actions(sb)
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
        self.from_start = True
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
        self.story[:] = [self.resolve_marks(e) for e in self.story]  # data["storyboard"] is this list
        if "when" in end:
            end["when"] = self.resolve_marks(end["when"])
        data["end"] = end
        data["criteria"] = ["no_collision"]
        self.unknown_elements()
        return data

    def resolve_marks(self, d: Any) -> Any:
        """Replace ``{after: "@param:NAME"}`` placeholders by the entry that changes the parameter."""
        if isinstance(d, dict):
            ref = d.get("after")
            if isinstance(ref, str) and ref.startswith("@param:"):
                name = ref.removeprefix("@param:")
                entry = self.param_entry.get(name)
                if entry is None:  # the action sits in an event that made no entries
                    return {"compare": {"measure": "time", "rule": "lt", "value": -1.0}}
                return {"after": entry}
            return {k: self.resolve_marks(v) for k, v in d.items()}
        if isinstance(d, list):
            return [self.resolve_marks(v) for v in d]
        return d

    def entities_added(self, sb: XNode) -> None:
        """Entities that Init does not place but an AddEntityAction of the storyboard brings in: they start
        (absent) at that action's position."""
        for ea in (n for n in sb.walk() if n.tag == "EntityAction"):
            add, who = ea.kid("AddEntityAction"), ea.attrs.get("entityRef", "")
            if add is None or who in self.poses or who in self.added or who not in self.entities:
                continue
            self.added[who] = add
            self.poses[who] = self.position(add.kid("Position") or add)

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
                elif (
                    a.tag == "RoutingAction"
                    and (fta := a.kid("FollowTrajectoryAction")) is not None
                    and (self.entities[who].first() or a).tag == "Pedestrian"
                ):  # walked from its start; placed at its first vertex if nothing else places it
                    self.init_paths[who] = fta
                    if who not in self.poses:
                        self.poses[who] = self.first_vertex(fta)
                elif a.tag == "RoutingAction" and a.kid("AssignRouteAction") is not None:
                    self.assign_route(who, a.kid("AssignRouteAction"))  # type: ignore[arg-type]
                elif a.tag in ("ActivateControllerAction", "ControllerAction"):
                    self.controller(who, a)
                else:
                    self.private(who, a, {"time_s": 0}, None, f"init_{_name(who)}_{len(self.story)}")

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
                "at": {"x": round(pose.x, 3), "y": round(pose.y, 3), "yaw_deg": round(rad_to_deg(pose.h), 3)},
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
        self.lane_now[name] = pose.lane if pose.lane is not None else 0
        if not pedestrian and not self.view.heads_along(lane, s, pose.h):
            # against its lane's direction (e.g. overtaking on the oncoming lane): it drives beside the
            # nearest lane of its direction, where the file puts it and headed as the file heads it
            lane, s, off = self.view.net_lane(dataclasses.replace(pose, road=None, lane=None), pedestrian)
            if abs(off) > MAX_BESIDE_M or name == self.ego:
                self.skip(
                    so,
                    f"{name!r} starts against the driving direction of its lane, {off:.2f} m beside the nearest "
                    f"lane of its direction {lane!r}: not supported yet (it starts on that lane)",
                )
            else:
                self.lane_now[name] = int(lane.rsplit(":", 1)[-1])
        cat = kind.attrs.get("vehicleCategory", "car")
        half = 0.5 * float(self.view.net.lane_width[self.view.net.lane_names.index(lane)])
        cyclist = cat == "bicycle" and name != self.ego and 0.3 <= half + off <= 3.0
        beside = abs(off) > MAX_OFFSET_M and not pedestrian and not cyclist
        if beside and (name == self.ego or abs(off) > MAX_BESIDE_M):
            self.skip(so, f"{name!r} starts {off:.2f} m beside its lane centre: it starts on the centre line")
            beside = False
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
            if name in self.init_paths and not self.pedestrian_path(name, self.init_paths[name]):
                return None
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
        idm: dict[str, float] = {"desired_speed_kph": round(mps_to_kph(max(v0, 1.0)), 6)}
        limit = float(self.view.net.lane_speed_limit[self.view.net.lane_names.index(lane)])
        if limit > 0 and v0 > limit:  # our drivers keep to the limit; a scripted speed lifts it (as esmini)
            self.init_speed.append(
                {
                    "when": {"time_s": 0},
                    "do": {"speed": {"actor": self.rid(name), "target": round(v0, 6), "shape": "step"}},
                }
            )
        spec["behavior"] = {"idm": idm}
        if beside:  # drives its route that far beside the lane centres (our lateral_offset_m)
            spec["lateral_offset_m"] = round(off, 3)
            self.lat[name] = off
        if cyclist:  # our cyclists ride a set distance inside the lane's right edge
            spec.update(type="cyclist", keep_right_m=round(half + off, 3))
        return spec

    # ------------------------------------------------------------------ storyboard

    def story_(self, story: XNode) -> None:
        for act in story.kids("Act"):
            st = act.kid("StartTrigger")
            self.from_start = True  # an act's start trigger is checked from the start of the run
            act_when = self.trigger(st) if st is not None and st.children else None
            trivial = act_when is None or self.always(act_when[0])
            if act_when is not None and not trivial:  # an act, once started, runs (latched; with its delay)
                act_when = ({"delayed": {"when": act_when[0], "by_s": act_when[1]}}, 0.0)
            self.from_start = trivial
            self.triggers[act.attrs.get("name", "")] = None if trivial else act_when
            self.triggers.setdefault(story.attrs.get("name", ""), None if trivial else act_when)
            act_start = len(self.story)
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
            stop = act.kid("StopTrigger")
            if stop is not None and stop.children:
                self.act_stop(act, stop, act_start)

    def act_stop(self, act: XNode, stop: XNode, start: int) -> None:
        """An Act's StopTrigger: a ``mark`` entry fires with it, and no entry of the act starts after it
        (``before``). Actions already running when it fires would have to stop too (the standard); that
        is not yet done, so an act with actions that keep running (ramps, lane changes, distance keeping,
        synchronisation, trajectories) is refused."""
        self.from_start = True
        when = self.trigger(stop)
        if when is None:
            return
        entries = self.story[start:]
        running = sorted({k for e in entries for k in e["do"] if _keeps_running(e["do"])})
        if running:
            self.skip(
                stop, f"Act StopTrigger with running actions ({', '.join(running)}): stopping them is not supported yet"
            )
            return
        name = self.unique(_name(f"{act.attrs.get('name', 'act')}_stop"))
        for e in entries:
            e["when"] = {"all": [e["when"], {"before": name}]}
        self.story.append({"name": name, "when": when[0], "do": {"mark": f"act {name} stops"}, "delay_s": when[1]})
        self.mark_handled(stop)

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
        start = len(self.story)
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
                    if "mark" in g:
                        self.param_entry[g["mark"].removeprefix("parameter ")] = entry_name
            else:
                self.skip(a, f"<{a.tag}> actions are not supported yet")
            entries = [e["name"] for e in self.story[before:]]
            if entries:
                self.names[action.attrs.get("name", "")] = entries[0]
                self.ends[action.attrs.get("name", "")] = entries
                made += entries
        runs = int(_f(ev, "maximumExecutionCount", 1))
        last = made
        if made and runs > 1:
            kinds = {next(iter(e["do"])) for e in self.story[start:]}
            if kinds & NOT_REPEATED:
                self.skip(
                    ev,
                    f"maximumExecutionCount > 1 of {', '.join(sorted(kinds & NOT_REPEATED))} is not supported yet "
                    "(the event runs once)",
                )
            else:
                last = self.repeat(self.story[start:], runs)
        if made:
            self.names[ev.attrs.get("name", "")] = made[0]
            self.ends[ev.attrs.get("name", "")] = last
        return last

    def repeat(self, first: list[dict], runs: int) -> list[str]:
        """Executions 2..runs of an event whose first execution is the entries ``first``: execution j is a
        copy whose start waits, besides the event's trigger, for the step after every entry of execution
        j - 1 has finished (the event is back in standby then and its trigger is checked again); references between
        the event's own entries (a speed profile's chain) point into the same copy. Returns the names of
        the last execution's entries."""
        prev = [e["name"] for e in first]
        for j in range(2, runs + 1):
            rename = {e["name"]: self.unique(f"{e['name']}_run{j}") for e in first}
            copies = []
            for e in first:
                c = _renamed(copy.deepcopy(e), rename)
                if not _refers(e["when"], set(rename)):  # a head: from the step after the last execution ended
                    done = [{"done": n} for n in prev]
                    c["when"] = {"all": [c["when"], {"delayed": {"when": {"all": done}, "by_s": DT}}]}
                copies.append(c)
            self.story += copies
            prev = [c["name"] for c in copies]
        return prev

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
