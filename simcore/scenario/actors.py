"""Actor rows beyond plain vehicles and crosswalk walkers: cyclists, static objects, parked cars,
scripted vehicles (trajectories, replayed logs), sidewalk walkers and jaywalkers; and the per-row
behaviour arrays (``world.BehaviorParams``) and index sets built from all rows.

Mixed into ``scenario.build._Builder`` (which provides ``err``, ``lane``, ``vehicle``,
``pose_on_lane``, ``route``, ``rows``, ``net``, ``loaded``).
"""

from __future__ import annotations

import csv
import itertools
import math
from typing import Any

import numpy as np

from simcore import limits
from simcore._types import ActorKind
from simcore.behavior.scripted_kernels import TR_CONST_ACCEL, TR_REMOVE_AT_END, TR_YAW_GIVEN
from simcore.dynamics.params import PEDESTRIAN_PARAMS, VehicleParams
from simcore.rng import generator
from simcore.road.lane_graph import RoutePath, path_from_polyline
from simcore.scenario.errors import ScenarioError
from simcore.scenario.schema import (
    STATIC_SHAPES,
    ChoiceDraw,
    CyclistActor,
    KerbPlace,
    NormalDraw,
    ParkedActor,
    PedestrianActor,
    ScriptedActor,
    SidewalkStart,
    StaticActor,
    UniformDraw,
    VehicleActor,
)
from simcore.units import deg_to_rad
from simcore.world import BehaviorParams

#: How far a parked car reaches into its lane by default (m): it does not block a passing car.
KERB_INTRUSION_M = 0.2
#: Distance over which a parked car merges into its lane when it pulls out (m).
PULL_OUT_M = 10.0


def draw_value(value: Any, rng: np.random.Generator) -> float:
    """A number as is, or one draw from a ``uniform`` / ``normal`` (clipped) / ``choice`` spec."""
    if isinstance(value, UniformDraw):
        return float(rng.uniform(value.uniform[0], value.uniform[1]))
    if isinstance(value, NormalDraw):
        nb = value.normal
        v = float(rng.normal(nb.mean, nb.std))
        lo = -math.inf if nb.min is None else nb.min
        hi = math.inf if nb.max is None else nb.max
        return min(max(v, lo), hi)
    if isinstance(value, ChoiceDraw):
        return float(value.choice[int(rng.integers(len(value.choice)))])
    return float(value)


def shifted_path(net: Any, path: RoutePath, right_m: float) -> RoutePath:
    """The same route moved ``right_m`` to the right of its direction (m); stops, lanes, changes kept."""
    x = path.x + right_m * np.sin(path.heading)
    y = path.y - right_m * np.cos(path.heading)
    p = path_from_polyline(net, x, y, path.lane, path.speed_limit, path.stop_s, path.stop_signal, path.lanes)
    scale = p.length / max(path.length, 1e-9)
    return RoutePath(
        **{
            **{f: getattr(p, f) for f in p.__dataclass_fields__},
            "stop_s": path.stop_s * scale,
            "lc_s0": path.lc_s0 * scale,
            "lc_s1": path.lc_s1 * scale,
            "lc_side": path.lc_side,
            "lc_offset": path.lc_offset,
        }
    )


def _box(name: str, length: float, width: float) -> VehicleParams:
    return VehicleParams(
        name=name,
        length=length,
        width=width,
        height=1.0,
        wheelbase=max(0.5 * length, 0.01),
        rear_overhang=0.25 * length,
        mass=100.0,
        max_steer=0.0,
        max_steer_rate=0.0,
        max_accel=0.0,
        max_decel=0.0,
        max_speed=0.0,
    )


class ActorBuilder:
    """Row builders for the actor types of ``schema`` other than plain vehicles (see module doc)."""

    rows: list[dict]

    # -- cyclists --------------------------------------------------------------------
    def add_cyclist(self, actor: CyclistActor, path: tuple) -> None:
        """Rows of a cyclist platoon riding ``keep_right_m`` from the right edge of its lanes."""
        vspec = self.vehicle(actor.vehicle, (*path, "vehicle"))  # type: ignore[attr-defined]
        start = self.lane(actor.start.lane, (*path, "start", "lane"))  # type: ignore[attr-defined]
        if vspec is None or start is None:
            return
        veh = vspec.si()
        rpath = self.route(start, actor.start.s, actor.route.to, (*path, "route", "to"))  # type: ignore[attr-defined]
        if rpath is None:
            return
        right = max(0.5 * float(self.net.lane_width[start]) - actor.keep_right_m, 0.0)  # type: ignore[attr-defined]
        rpath = shifted_path(self.net, rpath, right)  # type: ignore[attr-defined]
        for k in range(actor.count):
            s = actor.start.s - k * (veh.length + actor.spacing_m)
            if s < 0:
                self.err((*path, "count"), f"{actor.count} cyclists do not fit behind s={actor.start.s:g} m")  # type: ignore[attr-defined]
                return
            pose = self.pose_on_lane(start, s, (*path, "start", "s"))  # type: ignore[attr-defined]
            if pose is None:
                return
            x, y, h = pose
            self.rows.append(
                dict(
                    id=actor.id if actor.count == 1 else f"{actor.id}#{k + 1}",
                    kind=ActorKind.CYCLIST,
                    vehicle=veh,
                    pose=(x + right * math.sin(h), y - right * math.cos(h), h),
                    speed=actor.start.si_speed(),
                    path=rpath,
                    progress=s,
                    goal_s=rpath.length,
                    is_ego=False,
                    idm=actor.behavior.idm,
                    beh=actor.behavior,
                )
            )

    # -- static objects and parked cars ------------------------------------------------
    def _kerb_pose(self, at: KerbPlace, s: float, offset: float, path: tuple) -> tuple[int, tuple] | None:
        lane = self.lane(at.lane, (*path, "lane"))  # type: ignore[attr-defined]
        if lane is None:
            return None
        pose = self.pose_on_lane(lane, s, (*path, "s"))  # type: ignore[attr-defined]
        if pose is None:
            return None
        x, y, h = pose
        return lane, (x - offset * math.sin(h), y + offset * math.cos(h), h)

    def _still_path(self, x: float, y: float, h: float) -> RoutePath:
        xs = np.array([x, x + math.cos(h)])
        ys = np.array([y, y + math.sin(h)])
        return path_from_polyline(self.net, xs, ys, np.full(2, -1, dtype=np.int64), np.zeros(2))  # type: ignore[attr-defined]

    def add_static(self, actor: StaticActor, path: tuple) -> None:
        """Rows of static boxes (never moved, never evaluated, seen by every driver)."""
        length, width = STATIC_SHAPES[actor.shape]
        length = actor.length or length
        width = actor.width or width
        params = _box(actor.shape, length, width)
        for k in range(actor.count):
            if isinstance(actor.at, KerbPlace):
                found = self._kerb_pose(actor.at, actor.at.s + k * actor.spacing_m, actor.at.offset_m or 0.0,
                                        (*path, "at"))  # fmt: skip
                if found is None:
                    return
                x, y, h = found[1]
            else:
                h = deg_to_rad(actor.at.yaw_deg)
                x = actor.at.x + k * actor.spacing_m * math.cos(h)
                y = actor.at.y + k * actor.spacing_m * math.sin(h)
            # reference point: the rear-axle convention of vehicles, so the box centre is at (x, y)
            rx = x - (0.5 * length - params.rear_overhang) * math.cos(h)
            ry = y - (0.5 * length - params.rear_overhang) * math.sin(h)
            self.rows.append(
                dict(
                    id=actor.id if actor.count == 1 else f"{actor.id}#{k + 1}",
                    kind=ActorKind.STATIC,
                    vehicle=params,
                    pose=(rx, ry, h),
                    speed=0.0,
                    path=self._still_path(rx, ry, h),
                    progress=0.0,
                    goal_s=1.0,
                    is_ego=False,
                    still=True,
                )
            )

    def add_parked(self, actor: ParkedActor, path: tuple) -> None:
        """A parked car at the kerb; with ``pull_out`` it merges into its lane (safe gap) and drives its route."""
        vspec = self.vehicle(actor.vehicle, (*path, "vehicle"))  # type: ignore[attr-defined]
        lane = self.lane(actor.start.lane, (*path, "start", "lane"))  # type: ignore[attr-defined]
        if vspec is None or lane is None:
            return
        veh = vspec.si()
        offset = actor.start.offset_m
        if offset is None:
            offset = -(0.5 * float(self.net.lane_width[lane]) + 0.5 * veh.width - KERB_INTRUSION_M)  # type: ignore[attr-defined]
        found = self._kerb_pose(actor.start, actor.start.s, offset, (*path, "start"))
        if found is None:
            return
        x, y, h = found[1]
        row = dict(
            id=actor.id, kind=ActorKind.VEHICLE, vehicle=veh, pose=(x, y, h), speed=0.0, is_ego=False,
            idm=actor.behavior.idm, beh=actor.behavior, track=True,
        )  # fmt: skip
        if actor.pull_out is None:
            row.update(path=self._still_path(x, y, h), progress=0.0, goal_s=1.0, still=True)
            self.rows.append(row)
            return
        rpath = self.route(lane, actor.start.s, actor.pull_out.route.to, (*path, "pull_out", "route", "to"))  # type: ignore[attr-defined]
        if rpath is None:
            return
        s_front = actor.start.s + veh.length - veh.rear_overhang + 0.2
        side = 1 if offset < 0 else -1
        lc = (
            np.concatenate([[s_front], rpath.lc_s0]),
            np.concatenate([[s_front + PULL_OUT_M], rpath.lc_s1]),
            np.concatenate([[side], rpath.lc_side]).astype(np.int64),
            np.concatenate([[abs(offset)], rpath.lc_offset]),
        )
        rpath = RoutePath(
            **{
                **{f: getattr(rpath, f) for f in rpath.__dataclass_fields__},
                "lc_s0": lc[0],
                "lc_s1": lc[1],
                "lc_side": lc[2],
                "lc_offset": lc[3],
            }
        )
        at = actor.pull_out.at_s
        row.update(path=rpath, progress=actor.start.s, goal_s=rpath.length, started=at is not None,
                   start_time=at or 0.0)  # fmt: skip
        self.rows.append(row)

    # -- scripted vehicles ---------------------------------------------------------------
    def _read_log(self, actor: ScriptedActor, path: tuple) -> np.ndarray | None:
        assert actor.replay is not None
        key = (*path, "replay", "file")
        try:
            file = self.loaded.resolve(key, actor.replay.file)  # type: ignore[attr-defined]
        except ScenarioError as exc:
            self.issues += exc.issues  # type: ignore[attr-defined]
            return None
        try:
            with open(file, newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                header = [h.strip() for h in next(reader, [])]
                need = ["t", "x", "y", "yaw", "speed"]
                if any(h not in header for h in need):
                    self.err(  # type: ignore[attr-defined]
                        key,
                        f"log {actor.replay.file!r}: expected a header with columns {', '.join(need)}, got {header}",
                    )  # type: ignore[attr-defined]
                    return None
                cols = [header.index(h) for h in need]
                data = []  # type: ignore[var-annotated]
                max_rows = limits.current().max_log_rows
                for line_no, rec in enumerate(reader, start=2):
                    if not rec or all(not c.strip() for c in rec):
                        continue
                    if len(data) >= max_rows:
                        self.err(key, f"log {actor.replay.file!r} has more than {max_rows} rows")  # type: ignore[attr-defined]
                        return None
                    try:
                        data.append([float(rec[c]) for c in cols])
                    except (ValueError, IndexError):
                        self.err(key, f"log {actor.replay.file!r} line {line_no}: expected 5 numbers, got {rec}")  # type: ignore[attr-defined]
                        return None
        except OSError as exc:
            self.err(key, f"cannot read log {actor.replay.file!r}: {exc.strerror or exc}")  # type: ignore[attr-defined]
            return None
        arr = np.array(data, dtype=np.float64).reshape(-1, 5)
        if len(arr) < 1 or not np.all(np.isfinite(arr)) or np.any(np.diff(arr[:, 0]) <= 0):
            self.err(key, f"log {actor.replay.file!r}: expected finite rows with increasing t")  # type: ignore[attr-defined]
            return None
        arr[:, 0] += actor.replay.time_offset_s
        return arr

    def add_scripted(self, actor: ScriptedActor, path: tuple) -> None:
        """A vehicle placed at every step by its trajectory or log (``scripted_kernels``)."""
        vspec = self.vehicle(actor.vehicle, (*path, "vehicle"))  # type: ignore[attr-defined]
        if vspec is None:
            return
        veh = vspec.si()
        if actor.trajectory is not None:
            tr = actor.trajectory
            w = np.array(tr.waypoints, dtype=np.float64)
            seg = np.hypot(np.diff(w[:, 0]), np.diff(w[:, 1]))
            yaw = np.arctan2(np.diff(w[:, 1]), np.diff(w[:, 0]))
            yaw = np.append(yaw, yaw[-1])
            if tr.timing == "speed":
                times = tr.start_time_s + np.concatenate([[0.0], np.cumsum(2.0 * seg / (w[:-1, 2] + w[1:, 2]))])
                speeds = w[:, 2]
                flags = TR_CONST_ACCEL
            else:
                times = w[:, 2]
                speeds = np.append(seg / np.diff(times), 0.0)
                flags = 0
            table = np.column_stack([times, w[:, 0], w[:, 1], yaw, speeds])
        else:
            table = self._read_log(actor, path)  # type: ignore[assignment]
            if table is None:
                return
            flags = TR_YAW_GIVEN | (TR_REMOVE_AT_END if actor.replay.remove_at_end else 0)  # type: ignore[union-attr]
        x, y = table[:, 1], table[:, 2]
        keep = np.concatenate([[True], np.hypot(np.diff(x), np.diff(y)) > 1e-6])
        if keep.sum() >= 2:
            rp = path_from_polyline(self.net, x[keep], y[keep], np.full(int(keep.sum()), -1, dtype=np.int64),  # type: ignore[attr-defined]
                                    np.zeros(int(keep.sum())))  # fmt: skip
        else:
            rp = self._still_path(float(x[0]), float(y[0]), float(table[0, 3]))
        self.rows.append(
            dict(
                id=actor.id, kind=ActorKind.VEHICLE, vehicle=veh, pose=(float(x[0]), float(y[0]), float(table[0, 3])),
                speed=float(table[0, 4]), path=rp, progress=0.0, goal_s=rp.length, is_ego=False,
                script=(table, flags),
            )
        )  # fmt: skip

    # -- pedestrians on sidewalks ----------------------------------------------------------
    def add_sidewalk_pedestrian(self, actor: PedestrianActor, path: tuple) -> None:
        """Walk a sidewalk lane from s; with ``jaywalk`` step out at ``at_s`` and cross the road."""
        assert isinstance(actor.start, SidewalkStart)
        lane = self.lane(actor.start.lane, (*path, "start", "lane"))  # type: ignore[attr-defined]
        if lane is None:
            return
        lx, ly, ls = self.net.lane_points(lane)  # type: ignore[attr-defined]
        if actor.start.s > ls[-1]:
            self.err((*path, "start", "s"), f"expected s <= {ls[-1]:.1f} m (length of lane {actor.start.lane!r})")  # type: ignore[attr-defined]
            return
        beh = actor.behavior
        jw = beh.jaywalk
        speed = beh.walk.speed if beh.walk is not None else (jw.speed if jw is not None else beh.cross.speed)
        delay = beh.walk.delay_s if beh.walk is not None else (jw.delay_s if jw is not None else beh.cross.delay_s)
        crosses = False
        if beh.path is not None:  # the given polyline, resampled every metre or closer
            speed, delay = beh.path.speed, beh.path.delay_s
            xs, ys = _resample(np.array(beh.path.points, dtype=np.float64))
        elif jw is not None:
            rng = generator(self.loaded.seed, 0, f"actor/{actor.id}/jaywalk")  # type: ignore[attr-defined]
            crosses = bool(rng.random() < jw.probability)
        if crosses:
            assert jw is not None
            if not actor.start.s <= jw.at_s <= ls[-1]:
                self.err(  # type: ignore[attr-defined]
                    (*path, "behavior", "jaywalk", "at_s"), f"expected {actor.start.s:g} <= at_s <= {ls[-1]:.1f} m"
                )  # type: ignore[attr-defined]
                return
            s_walk = np.append(np.arange(actor.start.s, jw.at_s, 1.0), jw.at_s)
            px, py = np.interp(s_walk, ls, lx), np.interp(s_walk, ls, ly)
            k = min(int(np.searchsorted(ls, jw.at_s)), len(ls) - 1)
            h = math.atan2(
                ly[min(k + 1, len(ly) - 1)] - ly[max(k - 1, 0)], lx[min(k + 1, len(lx) - 1)] - lx[max(k - 1, 0)]
            )
            width = jw.width_m if jw.width_m is not None else self._road_width(px[-1], py[-1], h)
            # cross towards the road: the side of the sidewalk where the nearest driving lane lies
            side = self._road_side(px[-1], py[-1], h)
            d = np.append(np.arange(1.0, width, 1.0), width)
            cx = px[-1] - side * d * math.sin(h)
            cy = py[-1] + side * d * math.cos(h)
            xs, ys = np.concatenate([px, cx]), np.concatenate([py, cy])
        if beh.path is None and not crosses:  # walk the sidewalk
            end = (
                ls[-1]
                if beh.walk is None or beh.walk.distance_m is None
                else min(ls[-1], actor.start.s + beh.walk.distance_m)
            )
            s_walk = np.append(np.arange(actor.start.s, end, 1.0), end)
            xs, ys = np.interp(s_walk, ls, lx), np.interp(s_walk, ls, ly)
        if len(xs) < 2:
            xs, ys = np.array([xs[0], xs[0] + 0.1]), np.array([ys[0], ys[0]])
        rpath = path_from_polyline(self.net, xs, ys, np.full(len(xs), -1, dtype=np.int64), np.full(len(xs), 3.0))  # type: ignore[attr-defined]
        self.rows.append(
            dict(
                id=actor.id, kind=ActorKind.PEDESTRIAN, vehicle=PEDESTRIAN_PARAMS,
                pose=(float(xs[0]), float(ys[0]), float(rpath.heading[0])), speed=0.0, path=rpath, progress=0.0,
                goal_s=rpath.length, is_ego=False, walk=(speed, True, delay),
            )
        )  # fmt: skip

    def _road_side(self, x: float, y: float, h: float) -> int:
        """+1 if the nearest driving-lane point lies to the left of heading h at (x, y), else -1."""
        net = self.net  # type: ignore[attr-defined]
        d = np.hypot(net.pts_x - x, net.pts_y - y)
        lane_of = np.searchsorted(net.lane_start, np.arange(len(d)), side="right") - 1
        d[net.lane_type[lane_of] != 0] = np.inf
        k = int(np.argmin(d))
        return 1 if (-(net.pts_x[k] - x) * math.sin(h) + (net.pts_y[k] - y) * math.cos(h)) > 0 else -1

    def _road_width(self, x: float, y: float, h: float) -> float:
        """Distance (m) from (x, y) across the road to the next sidewalk sample beyond the driving lanes."""
        net = self.net  # type: ignore[attr-defined]
        side = self._road_side(x, y, h)
        nx, ny = -side * math.sin(h), side * math.cos(h)
        lane_of = np.searchsorted(net.lane_start, np.arange(len(net.pts_x)), side="right") - 1
        walk = net.lane_type[lane_of] == 1
        dx, dy = net.pts_x[walk] - x, net.pts_y[walk] - y
        along = dx * nx + dy * ny
        across = np.abs(-dx * ny + dy * nx)
        ok = (along > 3.0) & (across < 1.0)
        return float(along[ok].min()) if ok.any() else 10.0

    # -- per-row arrays ------------------------------------------------------------------
    def add_actor(self, actor: Any, path: tuple) -> None:
        """Dispatch one ``actors[]`` entry to its row builder."""
        if isinstance(actor, VehicleActor):
            self.add_vehicle(actor.id, actor, path, is_ego=False)  # type: ignore[attr-defined]
        elif isinstance(actor, CyclistActor):
            self.add_cyclist(actor, path)
        elif isinstance(actor, StaticActor):
            self.add_static(actor, path)
        elif isinstance(actor, ParkedActor):
            self.add_parked(actor, path)
        elif isinstance(actor, ScriptedActor):
            self.add_scripted(actor, path)
        elif isinstance(actor.start, SidewalkStart):
            self.add_sidewalk_pedestrian(actor, path)
        else:
            self.add_pedestrian(actor, path)  # type: ignore[attr-defined]

    def behavior_params(self, seed: int, right_on_red_rule: bool) -> BehaviorParams:
        """Per-row behaviour arrays; random choices from each row's own stream ``actor/<id>``."""
        rows = self.rows
        n = len(rows)
        bp = BehaviorParams.defaults(n, next((i for i, r in enumerate(rows) if r["is_ego"]), -1))
        pf_parts: list[np.ndarray] = []
        tr_parts: list[np.ndarray] = []
        for i, r in enumerate(rows):
            beh = r.get("beh")
            rng = generator(seed, 0, f"actor/{r['id']}")
            if beh is not None:
                sig = beh.signals
                bp.run_amber[i] = rng.random() < sig.run_amber_probability
                bp.run_red[i] = rng.random() < sig.run_red_probability
                bp.right_on_red[i] = right_on_red_rule if sig.right_on_red is None else sig.right_on_red
                bp.crit_gap[i] = min(max(draw_value(beh.gap_acceptance.critical_gap_s, rng), 0.5), 30.0)
                prof = getattr(beh, "speed_profile", None)
                if prof:
                    bp.pf_mode[i] = 1 if beh.speed_profile_by == "s" else 2
                    pf_parts.append(np.array(prof, dtype=np.float64))
                    bp.pf_start[i + 1] = len(prof)
            elif r["kind"] == ActorKind.VEHICLE and not r["is_ego"]:
                bp.right_on_red[i] = right_on_red_rule
            bp.start_time[i] = float(r.get("start_time", 0.0))
            if r.get("script") is not None:
                table, flags = r["script"]
                tr_parts.append(table)
                bp.tr_start[i + 1] = len(table)
                bp.tr_flags[i] = flags
                bp.yields[i] = False
            lcb = getattr(beh, "lane_changes", None)
            if lcb is not None and lcb.discretionary:
                bp.mobil[i] = True
                bp.mb_p[i], bp.mb_thr[i], bp.mb_bias[i] = lcb.politeness, lcb.threshold_mps2, lcb.keep_right_mps2
        pf = np.concatenate(pf_parts) if pf_parts else np.zeros((0, 2))
        net = self.net  # type: ignore[attr-defined]
        w = np.asarray(net.lane_width, dtype=np.float64)
        nb_parts: list[tuple[np.ndarray, np.ndarray]] = []
        for r in rows:
            lane = r["path"].lane
            ok = (lane >= 0) & (net.lane_junction[np.maximum(lane, 0)] < 0)
            sides = []
            for nbr in (net.lane_left, net.lane_right):
                other = nbr[np.maximum(lane, 0)]
                off = 0.5 * (w[np.maximum(lane, 0)] + w[np.maximum(other, 0)])
                sides.append(np.where(ok & (other >= 0), off, 0.0))
            nb_parts.append((sides[0], sides[1]))
        tr = np.concatenate(tr_parts) if tr_parts else np.zeros((0, 5))
        return BehaviorParams(
            **{
                **{f: getattr(bp, f) for f in bp.__dataclass_fields__},
                "pf_start": np.cumsum(bp.pf_start).astype(np.int64),
                "pf_key": np.ascontiguousarray(pf[:, 0]),
                "pf_v": np.ascontiguousarray(pf[:, 1]),
                "tr_start": np.cumsum(bp.tr_start).astype(np.int64),
                "tr_t": np.ascontiguousarray(tr[:, 0]),
                "tr_x": np.ascontiguousarray(tr[:, 1]),
                "tr_y": np.ascontiguousarray(tr[:, 2]),
                "tr_yaw": np.ascontiguousarray(tr[:, 3]),
                "tr_v": np.ascontiguousarray(tr[:, 4]),
                "nb_left": np.concatenate([p[0] for p in nb_parts]) if nb_parts else np.zeros(0),
                "nb_right": np.concatenate([p[1] for p in nb_parts]) if nb_parts else np.zeros(0),
            }
        )

    def index_sets(self, ego: int, bp: BehaviorParams) -> dict[str, np.ndarray]:
        """Row sets: ``veh`` (moving vehicles and cyclists), ``npc`` (driven by the driver model),
        ``scripted``, ``eval`` (infractions evaluated), ``track`` (route tracking only)."""
        rows = self.rows
        moving = [
            i for i, r in enumerate(rows) if r["kind"] in (ActorKind.VEHICLE, ActorKind.CYCLIST) and not r.get("still")
        ]
        scripted = [i for i in moving if rows[i].get("script") is not None]
        driven = [i for i in moving if rows[i].get("script") is None]
        track = [i for i in driven if i != ego and (rows[i].get("track") or bp.run_red[i] or bp.run_amber[i])]
        tracked = set(track)
        as_i64 = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
        return dict(
            veh=as_i64(moving),
            npc=as_i64([i for i in driven if i != ego]),
            scripted=as_i64(scripted),
            eval=as_i64([i for i in driven if i not in tracked]),
            track=as_i64(track),
        )

    def initial_flags(self, started: np.ndarray) -> None:
        """Rows that wait for a start (parked cars pulling out on a storyboard ``start``)."""
        for i, r in enumerate(self.rows):
            if r.get("started") is False:
                started[i] = False


def _resample(pts: np.ndarray, step_m: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """x, y of a polyline (k, 2) with points at most ``step_m`` apart (the corners kept)."""
    xs, ys = [pts[0, 0]], [pts[0, 1]]
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        n = max(math.ceil(math.hypot(x1 - x0, y1 - y0) / step_m), 1)
        u = np.arange(1, n + 1) / n
        xs.extend(x0 + (x1 - x0) * u)
        ys.extend(y0 + (y1 - y0) * u)
    return np.array(xs), np.array(ys)


def walker_values(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(speed m/s, obey signals, delay s) per row for pedestrians: crosswalk walkers and sidewalk walkers."""
    speed = np.array([r["cross"].speed if "cross" in r else (r["walk"][0] if "walk" in r else 0.0) for r in rows])
    obey = np.array(
        [r["cross"].obey_signal if "cross" in r else (r["walk"][1] if "walk" in r else True) for r in rows],
        dtype=np.bool_,
    )
    delay = np.array([r["cross"].delay_s if "cross" in r else (r["walk"][2] if "walk" in r else 0.0) for r in rows])
    return speed, obey, delay


__all__ = ["ActorBuilder", "draw_value", "shifted_path", "walker_values"]
