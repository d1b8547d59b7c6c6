"""Build a runnable World from a validated scenario: map, actors, routes, parameters."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np

from simcore import limits
from simcore._types import ActorKind, LaneType, SignalState
from simcore.behavior.driver_kernels import STOP_GAP_M
from simcore.dynamics.params import PEDESTRIAN_PARAMS, VehicleSpec, dynamics_params, get_vehicle, stack_params
from simcore.dynamics.single_track_kernels import N_PARAMS
from simcore.environment import environment_from_spec
from simcore.road.frenet_kernels import project_on_polyline
from simcore.road.generate import (
    IntersectionLayout,
    SignalTiming,
    crosswalk_end_index,
    generate_city,
    generate_grid,
)
from simcore.road.lane_graph import (
    NoRouteError,
    RoutePath,
    path_from_polyline,
    route_grade,
    route_path,
    shortest_route,
)
from simcore.road.network import RoadNetwork
from simcore.road.spatial_index import build_segment_grid
from simcore.rules.rulesets import RuleSet, rule_set
from simcore.rules.zones import WorldRules, Zone, apply_zones, lanes_in_polygon
from simcore.scenario import schema
from simcore.scenario import storyboard as sb
from simcore.scenario.actors import ActorBuilder, shifted_path, walker_values
from simcore.scenario.errors import Issue, ScenarioError, did_you_mean
from simcore.scenario.loader import LoadedScenario
from simcore.scenario.schema import (
    RANDOM_ROUTE_M,
    EgoSpec,
    EnvironmentSpec,
    FileMap,
    GridMap,
    IntersectionMap,
    PedestrianActor,
    StoryEntry,
    VehicleActor,
)
from simcore.state import WorldState
from simcore.units import deg_to_rad, kph_to_mps
from simcore.world import (
    DYNAMICS_KINEMATIC,
    DYNAMICS_MODELS,
    DYNAMICS_SINGLE_TRACK,
    DriverParams,
    PedestrianParams,
    RouteTable,
    World,
)


def route_sample(s: np.ndarray, progress: float) -> int:
    """Index of the route sample at or before ``progress`` (m), clamped like ``route_kernels.route_index``."""
    k = int(np.searchsorted(s, progress, side="right")) - 1
    return min(max(k, 0), max(len(s) - 2, 0))


#: Distance short of the route's end (m, beyond the front overhang) where an ego goal is put at
#: the latest, so a driver that stops at the end (``STOP_GAP_M`` short of it, approached slowly
#: by IDM) still reaches it.
GOAL_END_CLEARANCE_M = STOP_GAP_M + 1.5
#: Margin beyond the lane half-width still counted as on the road (m): kerb tolerance.
OFFROAD_MARGIN_M = 0.3


def build_network(m: IntersectionMap | GridMap | FileMap, loaded: LoadedScenario | None = None) -> RoadNetwork:
    """Generate or load the scenario's map (map files resolve relative to the scenario file)."""
    if isinstance(m, FileMap):
        from simcore.road.errors import MapError
        from simcore.road.maps import load_map

        path = loaded.resolve(("map", "file"), m.file) if loaded is not None else (Path.cwd() / m.file).resolve()
        try:
            return load_map(str(path))
        except (MapError, OSError, ValueError) as exc:  # ValueError: e.g. a bad SIMCORE_MAP_LIMITS
            if loaded is None:
                raise
            raise ScenarioError([loaded.doc.issue(("map", "file"), f"cannot load map {m.file!r}: {exc}")]) from None
    timing = None
    if m.signals is not None:
        timing = SignalTiming(**m.signals.model_dump())
    arms = m.arm_names() if isinstance(m, IntersectionMap) else ("north", "east", "south", "west")
    layout = IntersectionLayout(
        arms=arms,
        lanes_per_direction=m.lanes_per_direction,
        lane_width=m.lane_width,
        speed_limit=kph_to_mps(m.speed_limit_kph),
        turn_speed_limit=kph_to_mps(m.turn_speed_limit_kph),
        crosswalks=m.crosswalks,
        signals=timing,
    )
    if isinstance(m, GridMap):
        make = generate_city if m.buildings else generate_grid
        return make(m.rows, m.cols, block_m=m.block, arm_length_m=m.arm_length, layout=layout)
    return generate_grid(1, 1, arm_length_m=m.arm_length, layout=layout)


class _Builder(ActorBuilder):
    def __init__(self, loaded: LoadedScenario, net: RoadNetwork) -> None:
        self.loaded = loaded
        self.doc = loaded.doc
        self.net = net
        self.issues: list[Issue] = []
        self._vehicles: dict[str, VehicleSpec] = {}  # catalog entries read so far, by name
        self.rows: list[dict] = []

    def err(self, path: tuple, msg: str) -> None:
        self.issues.append(self.doc.issue(path, msg))

    def lane(self, name: str, path: tuple) -> int | None:
        try:
            return self.net.lane_id(name)
        except KeyError:
            self.err(path, f"unknown lane {name!r}{did_you_mean(name, self.net.all_lane_names())}")
            return None

    def vehicle(self, name: str, path: tuple) -> VehicleSpec | None:
        if name in self._vehicles:
            return self._vehicles[name]
        try:
            self._vehicles[name] = get_vehicle(name)
            return self._vehicles[name]
        except KeyError as exc:
            self.err(path, str(exc.args[0]))
        except ScenarioError as exc:
            self.issues += exc.issues
        return None

    def pose_on_lane(self, lane: int, s: float, path: tuple) -> tuple[float, float, float] | None:
        x, y, ls = self.net.lane_points(lane)
        if s > ls[-1]:
            self.err(
                path,
                f"expected s <= {ls[-1]:.1f} m (length of lane {self.net.lane_names[lane]!r}), got {s:g}",
            )
            return None
        a = self.net.lane_start[lane]
        h = self.net.pts_heading[a : self.net.lane_start[lane + 1]]
        k = min(int(np.searchsorted(ls, s, side="right")) - 1, len(ls) - 2)
        return float(np.interp(s, ls, x)), float(np.interp(s, ls, y)), float(h[max(k, 0)])

    def route(
        self, start: int, start_s: float, goal_name: str, path: tuple, length_m: tuple[float, float] | None = None
    ) -> RoutePath | None:
        if goal_name == "random":
            from simcore.rng import generator
            from simcore.scenario.traffic import random_goal

            rng = generator(self.loaded.seed, 0, "route/" + ".".join(str(p) for p in path))
            goal: int | None = random_goal(self.net, start, start_s, length_m or RANDOM_ROUTE_M, rng)
        else:
            goal = self.lane(goal_name, path)
        if goal is None:
            return None
        try:
            lanes = shortest_route(self.net, start, goal)
        except NoRouteError as exc:
            self.err(path, str(exc))
            return None
        try:
            return route_path(self.net, lanes, start_s)
        except ValueError as exc:  # the map's lanes cannot be joined into a drivable path
            names = " -> ".join(repr(self.net.lane_names[k]) for k in lanes)
            self.err(path, f"cannot build the route through lanes {names}: {exc}")
            return None

    def lane_friction(self, env: EnvironmentSpec, base: float | None = None) -> np.ndarray:
        """Friction per lane of the map: ``base`` (default ``env.friction``), replaced on the lanes of each
        surface (later wins)."""
        mu = np.full(len(self.net.lane_names), float(env.friction if base is None else base))
        for j, surf in enumerate(env.surfaces):
            for k, name in enumerate(surf.lanes):
                lane = self.lane(name, ("environment", "surfaces", j, "lanes", k))
                if lane is not None:
                    mu[lane] = surf.friction
        return mu

    def add_vehicle(self, actor_id: str, spec: EgoSpec | VehicleActor, path: tuple, is_ego: bool) -> None:
        vspec = self.vehicle(spec.vehicle, (*path, "vehicle"))
        start = self.lane(spec.start.lane, (*path, "start", "lane"))
        if vspec is None or start is None:
            return
        veh = vspec.si()
        st_row = dynamics_params(vspec) if spec.dynamics == "single_track" else None
        rpath = self.route(start, spec.start.s, spec.route.to, (*path, "route", "to"), spec.route.length_m)
        if rpath is None:
            return
        if isinstance(spec, VehicleActor) and spec.lateral_offset_m:
            rpath = shifted_path(self.net, rpath, -spec.lateral_offset_m)
        count = 1 if is_ego else spec.count  # type: ignore[union-attr]
        for k in range(count):
            s = spec.start.s - k * (veh.length + (0.0 if is_ego else spec.spacing_m))  # type: ignore[union-attr]
            if s < 0:
                self.err(
                    (*path, "count"),
                    f"platoon of {count} does not fit behind s={spec.start.s:g} m "
                    f"on lane {spec.start.lane!r} (vehicle {k + 1} would start at s={s:.1f} m)",
                )
                return
            pose = self.pose_on_lane(start, s, (*path, "start", "s"))
            if pose is None:
                return
            off = spec.lateral_offset_m if isinstance(spec, VehicleActor) else 0.0
            if off:  # beside its lanes: the route moved sideways, the start pose with it
                pose = (pose[0] - off * math.sin(pose[2]), pose[1] + off * math.cos(pose[2]), pose[2])
            goal_s = rpath.length
            if isinstance(spec, EgoSpec):
                entry = float(rpath.s[np.flatnonzero(rpath.lane == rpath.lanes[-1])[0]])
                # The autopilot stops with its front bumper at the route's end: a goal beyond
                # where its rear axle can get is unreachable (goal lanes entered by a lane change).
                reach = rpath.length - (veh.length - veh.rear_overhang) - GOAL_END_CLEARANCE_M
                goal_s = max(min(entry + spec.goal_margin_m, reach), min(s + 0.1, rpath.length))
            idm = spec.behavior.idm if isinstance(spec, VehicleActor) else None
            self.rows.append(
                dict(
                    id="ego" if is_ego else (actor_id if count == 1 else f"{actor_id}#{k + 1}"),
                    kind=ActorKind.VEHICLE,
                    vehicle=veh,
                    pose=pose,
                    speed=spec.start.si_speed(),
                    path=rpath,
                    progress=s,
                    goal_s=goal_s,
                    is_ego=is_ego,
                    idm=idm,
                    beh=spec.behavior if isinstance(spec, VehicleActor) else None,
                    dynamics=DYNAMICS_MODELS[spec.dynamics],
                    st_params=st_row,
                )
            )

    def add_pedestrian(self, actor: PedestrianActor, path: tuple) -> None:
        net = self.net
        name = actor.start.crosswalk  # type: ignore[union-attr]
        if name not in net.cw_names:
            self.err((*path, "start", "crosswalk"), f"unknown crosswalk {name!r}{did_you_mean(name, net.cw_names)}")
            return
        c = net.cw_names.index(name)
        try:
            e = crosswalk_end_index(net, c, actor.start.side)  # type: ignore[union-attr]
        except ValueError as exc:
            self.err((*path, "start", "side"), str(exc))
            return
        ex, ey = net.cw_end_x[c], net.cw_end_y[c]
        p0 = np.array([ex[e], ey[e]])
        p1 = np.array([ex[1 - e], ey[1 - e]])
        u = (p1 - p0) / np.linalg.norm(p1 - p0)
        off = actor.start.offset_m  # type: ignore[union-attr]
        pts = np.array([p0 - u * off, p0, p1, p1 + u * off])
        dense = np.concatenate([np.linspace(pts[i], pts[i + 1], 20, endpoint=False) for i in range(3)] + [pts[3:]])
        lane = np.full(len(dense), -1, dtype=np.int64)
        rpath = path_from_polyline(net, dense[:, 0], dense[:, 1], lane, np.full(len(dense), 3.0))
        self.rows.append(
            dict(
                id=actor.id,
                kind=ActorKind.PEDESTRIAN,
                vehicle=PEDESTRIAN_PARAMS,
                pose=(float(pts[0, 0]), float(pts[0, 1]), float(np.arctan2(u[1], u[0]))),
                speed=0.0,
                path=rpath,
                progress=0.0,
                goal_s=rpath.length,
                is_ego=False,
                cross=actor.behavior.cross,
            )
        )


_SIGNAL_STATES = {
    "red": int(SignalState.RED),
    "amber": int(SignalState.AMBER),
    "green": int(SignalState.GREEN),
    "off": int(SignalState.OFF),
    "plan": -1,
}


class _StoryCompiler:
    """Resolve storyboard references (actors, lanes, signal groups) into ``simcore.scenario.storyboard`` objects."""

    def __init__(self, b: _Builder) -> None:
        self.b = b
        self.ids = [r["id"] for r in b.rows]
        self.names: dict[str, int] = {}
        #: rows a ``spawn`` action brings in (inactive until then)
        self.spawned: set[int] = set()
        self.keys = itertools.count(1)  # keys of triggers / actions with run-time memory (StoryProgress.last_seen)

    def pair(self, c: object, key: str, path: tuple) -> tuple[int, int] | None:
        a = self.row(c.actor, (*path, key, "actor"))  # type: ignore[attr-defined]
        b = self.row(c.to, (*path, key, "to"))  # type: ignore[attr-defined]
        return None if a is None or b is None else (a, b)

    def place(self, row: int, at: schema.PlaceSpec, path: tuple, text: str) -> sb.Teleport | None:
        """A validated pose for ``row``: on a lane at s (+ offset), or at x, y."""
        import math

        yaw = deg_to_rad(at.yaw_deg) if at.yaw_deg is not None else None
        if at.lane is not None:
            lane = self.b.lane(at.lane, (*path, "lane"))
            if lane is None:
                return None
            pose = self.b.pose_on_lane(lane, at.s, (*path, "s"))
            if pose is None:
                return None
            x, y, h = pose
            x -= at.offset_m * math.sin(h)
            y += at.offset_m * math.cos(h)
            return sb.Teleport(row, x, y, h if yaw is None else yaw, at.si_speed(), text)
        assert at.x is not None and at.y is not None
        return sb.Teleport(row, float(at.x), float(at.y), yaw, at.si_speed(), text)

    def row(self, name: str, path: tuple) -> int | None:
        if name in self.ids:
            return self.ids.index(name)
        self.b.err(path, f"unknown actor {name!r}{did_you_mean(name, self.ids)}")
        return None

    def group(self, name: str, path: tuple) -> int | None:
        names = self.b.net.signal_names
        if name in names:
            return names.index(name)
        self.b.err(path, f"unknown signal group {name!r}{did_you_mean(name, names)}")
        return None

    def trigger(self, t: object, path: tuple) -> sb.Trigger | None:
        c: Any  # the condition block of whichever trigger kind t is
        if isinstance(t, schema.TimeTrigger):
            return sb.TimeAt(t.time_s, f"time {t.time_s:g} s")
        if isinstance(t, schema.DistanceTrigger):
            a_name, b_name = t.distance.between
            a = self.row(a_name, (*path, "distance", "between", 0))
            b = self.row(b_name, (*path, "distance", "between", 1))
            if a is None or b is None:
                return None
            return sb.DistanceBelow(a, b, t.distance.below_m, f"distance {a_name}-{b_name} < {t.distance.below_m:g} m")
        if isinstance(t, schema.SpeedTrigger):
            c = t.speed
            r = self.row(c.actor, (*path, "speed", "actor"))
            if r is None:
                return None
            if c.above_mps is not None:
                return sb.SpeedBound(r, c.above_mps, True, f"speed {c.actor} > {c.above_mps:g} m/s")
            assert c.below_mps is not None
            return sb.SpeedBound(r, c.below_mps, False, f"speed {c.actor} < {c.below_mps:g} m/s")
        if isinstance(t, schema.ReachesTrigger):
            c = t.reaches
            r = self.row(c.actor, (*path, "reaches", "actor"))
            lane = self.b.lane(c.lane, (*path, "reaches", "lane"))
            if r is None or lane is None:
                return None
            rpath = self.b.rows[r]["path"]
            on = np.flatnonzero(rpath.lane == lane)
            if len(on) == 0:
                route = [self.b.net.lane_names[k] for k in rpath.lanes]
                self.b.err(
                    (*path, "reaches", "lane"),
                    f"lane {c.lane!r} is not on the route of {c.actor!r}{did_you_mean(c.lane, route)}",
                )
                return None
            return sb.ReachesLane(r, lane, float(rpath.s[on[0]]), f"{c.actor} reaches {c.lane}")
        if isinstance(t, schema.HeadwayTrigger | schema.TtcTrigger):
            key = "ttc" if isinstance(t, schema.TtcTrigger) else "headway"
            c = getattr(t, key)
            ab = self.pair(c, key, path)
            if ab is None:
                return None
            return sb.GapBelow(*ab, c.below_s, key == "ttc", f"{key} {c.actor}-{c.to} < {c.below_s:g} s")
        if isinstance(t, schema.RelativeSpeedTrigger):
            c = t.relative_speed
            ab = self.pair(c, "relative_speed", path)
            if ab is None:
                return None
            above = c.above_mps is not None
            value = float(c.above_mps if above else c.below_mps)  # type: ignore[arg-type]
            op = ">" if above else "<"
            return sb.RelativeSpeed(*ab, value, above, f"speed {c.actor}-{c.to} {op} {value:g} m/s")
        if isinstance(t, schema.InLaneTrigger):
            c = t.in_lane
            r = self.row(c.actor, (*path, "in_lane", "actor"))
            lane = self.b.lane(c.lane, (*path, "in_lane", "lane"))
            if r is None or lane is None:
                return None
            x, y, s = self.b.net.lane_points(lane)
            half = 0.5 * float(self.b.net.lane_width[lane])
            return sb.OnLane(r, x.copy(), y.copy(), s.copy(), half, f"{c.actor} in lane {c.lane}")
        if isinstance(t, schema.PositionTrigger):
            c = t.position
            r = self.row(c.actor, (*path, "position", "actor"))
            if r is None:
                return None
            return sb.NearPoint(r, c.x, c.y, c.within_m, f"{c.actor} within {c.within_m:g} m of ({c.x:g}, {c.y:g})")
        if isinstance(t, schema.ProgressTrigger):
            c = t.progress
            r = self.row(c.actor, (*path, "progress", "actor"))
            if r is None:
                return None
            return sb.ProgressPast(r, c.above_m, f"{c.actor} progress >= {c.above_m:g} m")
        if isinstance(t, schema.AfterTrigger):
            if t.after not in self.names:
                self.b.err(
                    (*path, "after"),
                    f"unknown storyboard entry {t.after!r}{did_you_mean(t.after, list(self.names))}",
                )
                return None
            return sb.AfterEntry(self.names[t.after], f"after {t.after}")
        if isinstance(t, schema.DelayedTrigger):
            inner = self.trigger(t.delayed.when, (*path, "delayed", "when"))
            if inner is None:
                return None
            return sb.Delayed(inner, t.delayed.by_s, f"{inner.text} + {t.delayed.by_s:g} s", next(self.keys))
        if isinstance(t, schema.BeforeTrigger):
            if t.before not in self.names:
                self.b.err(
                    (*path, "before"),
                    f"unknown storyboard entry {t.before!r}{did_you_mean(t.before, list(self.names))}",
                )
                return None
            return sb.BeforeEntry(self.names[t.before], f"before {t.before}")
        if isinstance(t, schema.EdgeTrigger):
            inner = self.trigger(t.edge.when, (*path, "edge", "when"))
            text = f"{t.edge.kind} edge of {inner.text}" if inner is not None else ""
            return None if inner is None else sb.Edge(inner, t.edge.kind, text, next(self.keys))
        if isinstance(t, schema.HeldTrigger):
            inner = self.trigger(t.held.when, (*path, "held", "when"))
            text = f"{inner.text} for {t.held.for_s:g} s" if inner is not None else ""
            return None if inner is None else sb.Held(inner, t.held.for_s, text, next(self.keys))
        if isinstance(t, schema.DoneTrigger):
            if t.done not in self.names:
                self.b.err(
                    (*path, "done"), f"unknown storyboard entry {t.done!r}{did_you_mean(t.done, list(self.names))}"
                )
                return None
            return sb.DoneEntry(self.names[t.done], f"done {t.done}")
        if isinstance(t, schema.SignalTrigger):
            g = self.group(t.signal.group, (*path, "signal", "group"))
            if g is None:
                return None
            return sb.SignalIs(g, _SIGNAL_STATES[t.signal.state], f"signal {t.signal.group} {t.signal.state}")
        if isinstance(t, schema.CompareTrigger):
            c = t.compare
            a = self.row(c.actor, (*path, "compare", "actor")) if c.actor is not None else -1
            b = self.row(c.to, (*path, "compare", "to")) if c.to is not None else -1
            if a is None or b is None:
                return None
            rp = self.b.rows[a].get("path") if a >= 0 else None
            start = float(self.b.rows[a].get("progress", 0.0)) if a >= 0 else 0.0
            length = float(rp.length) if rp is not None else math.inf
            who = " ".join(n for n in (c.actor, c.to) if n)
            text = f"{c.measure} {who} {c.rule} {c.value:g}".replace("  ", " ")
            return sb.Compare(c.measure, a, b, c.rule, c.value, c.freespace, start, length, text)
        if isinstance(t, schema.AnyTrigger | schema.AllTrigger):
            key = "any" if isinstance(t, schema.AnyTrigger) else "all"
            items = t.any if isinstance(t, schema.AnyTrigger) else t.all
            parts = [self.trigger(p, (*path, key, i)) for i, p in enumerate(items)]
            if any(p is None for p in parts):
                return None
            done = tuple(p for p in parts if p is not None)
            text = f"{key}({', '.join(p.text for p in done)})"
            return sb.AnyOf(done, text) if key == "any" else sb.AllOf(done, text)
        raise TypeError(f"unknown trigger {t!r}")  # pragma: no cover - the schema admits no other

    def action(self, a: object, path: tuple) -> sb.Action | None:
        c: Any  # the block of whichever action kind a is
        if isinstance(a, schema.StartAction):
            r = self.row(a.start, (*path, "start"))
            if r is None:
                return None
            return sb.StartRow(r, f"start {a.start}")
        if isinstance(a, schema.SpawnAction):
            c = a.spawn
            r = self.row(c.actor, (*path, "spawn", "actor"))
            if r is None:
                return None
            place = None
            if c.at is not None:
                place = self.place(r, c.at, (*path, "spawn", "at"), f"teleport {c.actor}")
                if place is None:
                    return None
            self.spawned.add(r)
            return sb.Spawn(r, place, f"spawn {c.actor}")
        if isinstance(a, schema.TeleportAction):
            c = a.teleport
            r = self.row(c.actor, (*path, "teleport", "actor"))
            if r is None:
                return None
            return self.place(r, c, (*path, "teleport"), f"teleport {c.actor}")
        if isinstance(a, schema.SpeedAction | schema.StopAction):
            key = "speed" if isinstance(a, schema.SpeedAction) else "stop"
            c = getattr(a, key)
            r = self.row(c.actor, (*path, key, "actor"))
            if r is None:
                return None
            if self.b.rows[r]["kind"] != ActorKind.VEHICLE:
                self.b.err((*path, key, "actor"), f"{key} needs a vehicle, {c.actor!r} is not one")
                return None
            if isinstance(c, schema.StopSpec):
                return sb.SpeedProfile(r, 0.0, "linear", c.decel, None, True, f"stop {c.actor} at {c.decel:g} m/s^2")
            how = ""
            if c.shape != "step":
                how = (
                    f" {c.rate:g} m/s^2"
                    if c.rate is not None
                    else (f" {c.duration:g} s" if c.duration is not None else f" over {c.distance:g} m")
                )
            if c.relative_to is not None:
                ref = self.row(c.relative_to, (*path, key, "relative_to"))
                if ref is None:
                    return None
                rel = f"x {c.factor:g}" if c.factor is not None else f"{c.delta:+g} m/s"
                return sb.SpeedProfile(
                    r,
                    0.0,
                    c.shape,
                    c.rate,
                    c.duration,
                    False,
                    f"speed {c.actor} -> {c.relative_to} {rel} {c.shape}{how}",
                    ref,
                    c.delta or 0.0,
                    1.0 if c.factor is None else c.factor,
                    c.continuous,
                    c.distance,
                )
            v1 = c.si_target()
            return sb.SpeedProfile(
                r,
                v1,
                c.shape,
                c.rate,
                c.duration,
                False,
                f"speed {c.actor} -> {v1:g} m/s {c.shape}{how}",
                distance=c.distance,
            )
        if isinstance(a, schema.LaneChangeAction):
            c = a.lane_change
            r = self.row(c.actor, (*path, "lane_change", "actor"))
            if r is None:
                return None
            if self.b.rows[r]["kind"] != ActorKind.VEHICLE:
                self.b.err((*path, "lane_change", "actor"), f"lane_change needs a vehicle, {c.actor!r} is not one")
                return None
            net = self.b.net
            nb = net.lane_left if c.direction == "left" else net.lane_right
            w = np.asarray(net.lane_width, dtype=np.float64)
            offsets = np.where(nb >= 0, 0.5 * (w + w[np.maximum(nb, 0)]), w) * c.lanes
            if c.offset_m is not None:
                offsets = np.full_like(offsets, c.offset_m)
            side = 1 if c.direction == "left" else -1
            return sb.LaneChange(
                r,
                side,
                offsets,
                np.asarray(nb),
                c.duration,
                f"lane_change {c.actor} {c.direction}{f' x{c.lanes}' if c.lanes > 1 else ''} {c.duration:g} s",
            )
        if isinstance(a, schema.WeatherAction):
            c = a.weather
            fog = f", fog {c.fog_visibility_m:g} m" if c.fog_visibility_m is not None else ""
            return sb.SetWeather(c.rain_mm_h, c.fog_visibility_m, f"weather rain {c.rain_mm_h:g} mm/h{fog}")
        if isinstance(a, schema.SignalAction):
            g = self.group(a.signal.group, (*path, "signal", "group"))
            if g is None:
                return None
            return sb.SetSignal(g, _SIGNAL_STATES[a.signal.state], f"signal {a.signal.group} {a.signal.state}")
        if isinstance(a, schema.RemoveAction):
            r = self.row(a.remove, (*path, "remove"))
            return None if r is None else sb.RemoveRow(r, f"remove {a.remove}")
        if isinstance(a, schema.FrictionAction):
            return sb.SetFriction(a.friction, f"friction {a.friction:g}")
        if isinstance(a, schema.SyncAction):
            c = a.synchronize
            r = self.row(c.actor, (*path, "synchronize", "actor"))
            m = self.row(c.master, (*path, "synchronize", "master"))
            if r is None or m is None:
                return None
            if self.b.rows[r]["kind"] != ActorKind.VEHICLE:
                self.b.err((*path, "synchronize", "actor"), f"synchronize needs a vehicle, {c.actor!r} is not one")
                return None
            s_a = self.route_s(r, c.at)
            s_m = self.route_s(m, c.master_at)
            return (
                sb.SynchronizeSmooth if c.gradual and (c.final_speed, c.final_delta) != (None, None) else sb.Synchronize
            )(
                r,
                m,
                s_a,
                s_m,
                c.tolerance_m,
                c.final_speed,
                c.final_delta,
                f"synchronize {c.actor} with {c.master}",
            )
        if isinstance(a, schema.KeepDistanceAction):
            c = a.keep_distance
            r = self.row(c.actor, (*path, "keep_distance", "actor"))
            b = self.row(c.to, (*path, "keep_distance", "to"))
            if r is None or b is None:
                return None
            if self.b.rows[r]["kind"] != ActorKind.VEHICLE:
                self.b.err((*path, "keep_distance", "actor"), f"keep_distance needs a vehicle, {c.actor!r} is not one")
                return None
            gap = f"{c.distance_m:g} m" if c.distance_m is not None else f"{c.time_gap_s:g} s"
            jerk = c.max_accel_rate is not None or c.max_decel_rate is not None
            return (sb.KeepDistanceJerk if jerk else sb.KeepDistance)(r, b, c, f"keep {c.actor} {gap} {c.side} {c.to}")
        if isinstance(a, schema.FollowPathAction):
            c = a.follow_path
            r = self.row(c.actor, (*path, "follow_path", "actor"))
            if r is None:
                return None
            if self.b.rows[r]["kind"] != ActorKind.VEHICLE:
                self.b.err((*path, "follow_path", "actor"), f"follow_path needs a vehicle, {c.actor!r} is not one")
                return None
            pts = np.array(c.points, dtype=np.float64)
            return sb.FollowPath(r, pts, c.local, f"follow_path {c.actor} ({len(pts)} points)", next(self.keys))
        if isinstance(a, schema.SpeedFollowAction):
            c = a.speed_follow
            r = self.row(c.actor, (*path, "speed_follow", "actor"))
            if r is None:
                return None
            if self.b.rows[r]["kind"] != ActorKind.VEHICLE:
                self.b.err((*path, "speed_follow", "actor"), f"speed_follow needs a vehicle, {c.actor!r} is not one")
                return None
            pts = np.array(c.points, dtype=np.float64)
            inf = math.inf
            return sb.SpeedFollow(
                r, pts[:, 0], pts[:, 1], c.max_accel or inf, c.max_decel or inf,
                c.max_accel_rate or inf, c.max_decel_rate or inf, f"speed_follow {c.actor} ({len(pts)} points)",
                next(self.keys),
            )  # fmt: skip
        if isinstance(a, schema.HaltAction):
            r = self.row(a.halt, (*path, "halt"))
            if r is None:
                return None
            if self.b.rows[r]["kind"] != ActorKind.PEDESTRIAN:
                self.b.err((*path, "halt"), f"halt needs a pedestrian, {a.halt!r} is not one")
                return None
            return sb.HaltRow(r, f"halt {a.halt}")
        if isinstance(a, schema.MarkAction):
            return sb.Mark(a.mark, f"mark {a.mark}")
        if isinstance(a, schema.EndAction):
            return sb.EndRun(a.end, f"end {a.end}")
        raise TypeError(f"unknown action {a!r}")  # pragma: no cover - the schema admits no other

    def route_s(self, row: int, point: list[float]) -> float:
        """Arc length (m) along ``row``'s route of the foot point of (x, y)."""
        rp = self.b.rows[row]["path"]
        s, _, _, _ = project_on_polyline(float(point[0]), float(point[1]), rp.x, rp.y, rp.s, 0, len(rp.s))
        return float(s)

    def compile(self, entries: list[StoryEntry]) -> tuple[sb.Story, ...]:
        out = []
        for i, e in enumerate(entries):
            if e.name is None:
                continue
            if e.name in self.names:
                self.b.err(
                    ("storyboard", i, "name"),
                    f"entry name {e.name!r} is used twice (first at storyboard[{self.names[e.name]}])",
                )
            else:
                self.names[e.name] = i
        if self.b.issues:
            return ()
        for i, e in enumerate(entries):
            t = self.trigger(e.when, ("storyboard", i, "when"))
            a = self.action(e.do, ("storyboard", i, "do"))
            if t is not None and a is not None:
                out.append(sb.Story(t, a, e.delay_s))
        return tuple(out)


def _add_traffic(b: _Builder, traffic: schema.TrafficSpec, seed: int) -> None:
    """Spawn the ``traffic:`` section's actors away from those placed so far."""
    from simcore.scenario.traffic import traffic_actors

    for name in traffic.mix:
        if b.vehicle(name, ("traffic", "mix", name)) is None:
            return
    taken = [(r["pose"][0], r["pose"][1]) for r in b.rows]
    actors, problems = traffic_actors(b.net, traffic, seed, taken)
    for key, msg in problems:
        b.err(("traffic", *key), msg)
    for actor in actors:
        b.add_actor(actor, ("traffic",))


def _check_actor_count(loaded: LoadedScenario) -> None:
    """Located error when the scenario's actor rows (ego, every actor times its ``count``)
    exceed ``limits.max_actors``."""
    spec = loaded.spec
    n = int(spec.ego is not None) + sum(int(getattr(a, "count", 1)) for a in spec.actors)
    if spec.traffic is not None:
        n += spec.traffic.vehicles + spec.traffic.pedestrians
    most = limits.current().max_actors
    if n > most:
        message = f"{n} actor rows, more than the limit of {most} (limits.md)"
        raise ScenarioError([loaded.doc.issue(("actors",), message)])


def build_world(loaded: LoadedScenario) -> World:
    """Turn a loaded scenario into a World; ScenarioError (located) on semantic problems."""
    spec = loaded.spec
    _check_actor_count(loaded)  # before the map is built or any row allocated
    net = build_network(spec.map, loaded)
    b = _Builder(loaded, net)
    rules = scenario_rules(spec)
    zones = _resolve_zones(b, spec, rules)
    apply_zones(net, zones)  # before any route is built: routes copy the lane limits
    environment = environment_from_spec(spec.environment)
    if spec.ego is not None:
        b.add_vehicle("ego", spec.ego, ("ego",), is_ego=True)
    for i, actor in enumerate(spec.actors):
        b.add_actor(actor, ("actors", i))
    if spec.traffic is not None and not b.issues:
        _add_traffic(b, spec.traffic, loaded.seed)
    lane_mu = b.lane_friction(spec.environment, environment.friction)
    compiler = _StoryCompiler(b)
    stories = compiler.compile(spec.storyboard) if not b.issues else ()
    if spec.end.when is not None and not b.issues:
        end_trigger = compiler.trigger(spec.end.when, ("end", "when"))
        if end_trigger is not None:
            stories = (*stories, sb.Story(end_trigger, sb.EndRun("end_condition", "end end_condition")))
    if b.issues:
        raise ScenarioError(b.issues)
    rows = b.rows
    n = len(rows)
    state = WorldState.zeros(n)
    for i, r in enumerate(rows):
        state.x[i], state.y[i], state.yaw[i] = r["pose"]
        state.speed[i] = r["speed"]
        state.progress[i] = r["progress"]
        state.kind[i] = int(r["kind"])
    state.active[:] = True
    state.started[:] = True
    for story in stories:  # pedestrians started by the storyboard stand until then
        if isinstance(story.action, sb.StartRow) and rows[story.action.row]["kind"] == ActorKind.PEDESTRIAN:
            state.started[story.action.row] = False
    for row in compiler.spawned:  # actors a spawn action brings in are absent until then
        state.active[row] = False
        state.started[row] = False
    b.initial_flags(state.started)
    state.validate()
    params = stack_params([r["vehicle"] for r in rows])
    road_half = [
        np.where(r["path"].lane >= 0, net.lane_width[np.maximum(r["path"].lane, 0)] / 2 + OFFROAD_MARGIN_M, 0.0)
        for r in rows
    ]
    env_mu = float(environment.friction)
    route_mu = [np.where(r["path"].lane >= 0, lane_mu[np.maximum(r["path"].lane, 0)], env_mu) for r in rows]
    route_grades = [route_grade(net, r["path"]) for r in rows]
    routes = RouteTable.from_paths(
        [r["path"] for r in rows], [r["goal_s"] for r in rows], road_half, route_mu, route_grades
    )
    # friction under each row at its initial progress (the runner refreshes it every step)
    friction = np.array(
        [route_mu[i][route_sample(r["path"].s, r["progress"])] for i, r in enumerate(rows)], dtype=np.float64
    ).reshape(n)
    kinds = state.kind

    def idm_value(attr: str, default: float) -> np.ndarray:
        return np.array(
            [getattr(r["idm"], attr) if r.get("idm") is not None else default for r in rows], dtype=np.float64
        )

    v_des = np.array(
        [(kph_to_mps(r["idm"].desired_speed_kph) if r.get("idm") and r["idm"].desired_speed_kph else 1e3) for r in rows]
    )
    cap = np.array(
        [
            min(r["idm"].max_accel_mps2 or 1e3, r["vehicle"].max_accel) if r.get("idm") else r["vehicle"].max_accel
            for r in rows
        ]
    )
    driver = DriverParams(
        v_des=v_des,
        T=idm_value("time_headway_s", 1.5),
        s0=idm_value("min_gap_m", 2.0),
        b_comf=idm_value("comfort_decel_mps2", 2.5),
        delta=idm_value("delta", 4.0),
        a_lat=idm_value("lateral_accel_mps2", 2.5),
        speed_factor=idm_value("speed_factor", 1.0),
        accel_cap=cap,
        stop_at_end=np.array([r["is_ego"] for r in rows], dtype=np.bool_),
    )
    walk_speed, walk_obey, walk_delay = walker_values(rows)
    peds = PedestrianParams(
        desired_speed=walk_speed,
        max_accel=np.full(n, PEDESTRIAN_PARAMS.max_accel),
        max_decel=np.full(n, PEDESTRIAN_PARAMS.max_decel),
        obey_signal=walk_obey,
        start_time=walk_delay,
    )
    ego = next((i for i, r in enumerate(rows) if r["is_ego"]), -1)
    behavior = b.behavior_params(loaded.seed, rules.right_turn_on_red)
    rowsets = b.index_sets(ego, behavior)
    veh_idx = rowsets["veh"]
    dynamics = np.array([r.get("dynamics", DYNAMICS_KINEMATIC) for r in rows], dtype=np.int8)
    st_params = np.zeros((n, N_PARAMS))
    for i, r in enumerate(rows):
        if r.get("st_params") is not None:
            st_params[i] = r["st_params"]
    is_st = dynamics[veh_idx] == DYNAMICS_SINGLE_TRACK
    is_scripted = np.isin(veh_idx, rowsets["scripted"])
    drivable = build_segment_grid(net, net.lane_type == LaneType.DRIVING, margin_m=OFFROAD_MARGIN_M)
    world = World(
        name=spec.name,
        description=spec.description,
        dt=spec.dt,
        seed=loaded.seed,
        timeout=spec.end.timeout_s,
        network=net,
        drivable=drivable,
        state=state,
        params=params,
        routes=routes,
        driver=driver,
        pedestrians=peds,
        actor_ids=tuple(r["id"] for r in rows),
        vehicle_names=tuple(r["vehicle"].name for r in rows),
        ego=ego,
        npc_idx=rowsets["npc"],
        ped_idx=np.flatnonzero(kinds == ActorKind.PEDESTRIAN).astype(np.int64),
        veh_idx=veh_idx,
        n_instances=1,
        sig_override=np.full((1, net.n_signals), -1, dtype=np.int8),
        initial=state.copy(),
        dynamics=dynamics,
        veh_idx_kin=veh_idx[~is_st & ~is_scripted],
        veh_idx_st=veh_idx[is_st],
        st_params=st_params,
        friction=friction,
        grade=np.array(
            [g[route_sample(r["path"].s, r["progress"])] for g, r in zip(route_grades, rows, strict=True)],
            dtype=np.float64,
        ).reshape(n),
        storyboard=stories,
        behavior=behavior,
        scripted_idx=rowsets["scripted"],
        eval_idx=rowsets["eval"],
        track_idx=rowsets["track"],
    )
    world.environment = environment  # type: ignore[attr-defined]  # read via scenario.environment.world_environment
    world.rules = WorldRules(  # type: ignore[attr-defined]  # read via rules.zones.world_rules
        rules=rules,
        zones=tuple(zones),
        right_on_red=np.array(
            [r["kind"] == ActorKind.VEHICLE and rules.right_turn_on_red for r in rows], dtype=np.bool_
        ).reshape(n),
    )
    return world


def scenario_rules(spec: schema.ScenarioSpec) -> RuleSet:
    """The RuleSet named by ``rules:`` with its adjustments."""
    r = spec.rules
    if isinstance(r, str):
        return rule_set(r)
    return rule_set(
        r.base,
        right_turn_on_red=r.right_turn_on_red,
        urban_limit=_kph_or_none(r.urban_kph),
        residential_limit=_kph_or_none(r.residential_kph),
        school_zone_limit=_kph_or_none(r.school_zone_kph),
    )


def _kph_or_none(v: float | None) -> float | None:
    """km/h -> m/s, None kept."""
    return None if v is None else kph_to_mps(v)


def _resolve_zones(b: _Builder, spec: schema.ScenarioSpec, rules: RuleSet) -> list[Zone]:
    """Zones of ``zones:`` with their lanes (named or inside the polygon) and limit (m/s)."""
    out = []
    for i, z in enumerate(spec.zones):
        limit = kph_to_mps(z.limit_kph) if z.limit_kph is not None else rules.zone_limit(z.kind)
        if z.lanes is not None:
            lanes = [b.lane(name, ("zones", i, "lanes", k)) for k, name in enumerate(z.lanes)]
            found = [lane for lane in lanes if lane is not None]
        else:
            assert z.polygon is not None
            found = lanes_in_polygon(b.net, np.asarray(z.polygon, dtype=np.float64))
            if not found:
                b.err(("zones", i, "polygon"), "no lane midpoint lies inside this polygon")
        out.append(Zone(z.kind, limit, tuple(found)))
    return out
