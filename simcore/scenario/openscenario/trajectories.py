"""OpenSCENARIO FollowTrajectoryAction: pedestrians' path walks and vehicles' follow_path."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simcore.scenario.openscenario.common import TranslatorBase, _f
from simcore.scenario.openscenario.positions import Pose
from simcore.scenario.openscenario.xml import XNode


class TrajectoriesMixin(TranslatorBase):
    """Trajectories of pedestrians and vehicles."""

    def pedestrian_path(self, who: str, fta: XNode) -> bool:
        """A pedestrian's polyline trajectory becomes our ``path`` walk: the pedestrian walks the vertices in
        order at its walking speed (set by its SpeedAction) and stops at the last one. It stands at the
        first vertex from the start (a trajectory that starts elsewhere than where the pedestrian stands
        is noted); other shapes, timings and offsets are refused."""
        shape = next((n for n in fta.walk() if n.tag == "Shape"), None)
        poly = shape.kid("Polyline") if shape is not None else None
        spec = self.walker_specs.get(who)
        if self.closed(fta):
            self.skip(fta, "a closed trajectory of a pedestrian is not supported yet")
            return False
        if poly is None or spec is None or len(poly.kids("Vertex")) < 2:
            self.skip(fta, "a pedestrian's trajectory other than a polyline is not supported yet")
            return False
        pts = [self.position(v.kid("Position") or v) for v in poly.kids("Vertex")]
        here = self.poses[who]
        if math.hypot(pts[0].x - here.x, pts[0].y - here.y) > 0.5:
            self.skip(fta, f"{who!r} stands at the trajectory's first vertex from the start, not where it is placed")
        if all(math.hypot(p.x - pts[0].x, p.y - pts[0].y) < 1e-6 for p in pts):
            raise fta.error("the trajectory's vertices are all the same point")
        beh = spec["behavior"]
        speed = next(iter(beh.values())).get("speed", 1.4)
        xy = [(p.x, p.y) for p in pts] + self.walk_on(pts[-2], pts[-1])
        spec["behavior"] = {"path": {"points": [[round(x, 3), round(y, 3)] for x, y in xy], "speed": speed}}
        self.walkers[who] = spec["behavior"]["path"]
        if fta.attrs.get("initialDistanceOffset") or (
            (tr := fta.kid("TimeReference")) is not None and tr.kid("Timing") is not None
        ):
            self.skip(
                fta, "trajectory timing and offsets of a pedestrian are not supported yet (it walks at its speed)"
            )
        self.mark_handled(fta)
        return True

    def vehicle_path(self, actor: str, who: str, fta: XNode) -> dict | None:
        """A vehicle's FollowTrajectoryAction as our ``follow_path``: a polyline of world positions, or a
        clothoid sampled every 0.5 m (in the entity's frame when it starts at the entity itself,
        RelativeObjectPosition of it with a relative orientation; else in the world); a closed polyline goes
        back to its first vertex (one lap). The entity follows it at its own speed (TimeReference None); timings,
        offsets, NURBS, clothoid splines and closed clothoids refused (located notes: the file refuses unless a
        partial run is allowed)."""
        shape = next((n for n in fta.walk() if n.tag == "Shape"), None)
        kid = shape.first() if shape is not None else None
        tr = fta.kid("TimeReference")
        if tr is not None and tr.kid("Timing") is not None:
            self.skip(tr, "trajectory timing (Timing) is not supported yet: the entity keeps its own speed")
            return None
        if float(fta.attrs.get("initialDistanceOffset", "0") or 0) != 0:
            self.skip(fta, "initialDistanceOffset of a trajectory is not supported yet")
            return None
        if kid is not None and kid.tag == "Polyline":
            verts = [v.kid("Position") or v for v in kid.kids("Vertex")]
            if len(verts) < 2 or any((v.first() or v).tag.startswith("Relative") for v in verts):
                self.skip(kid, "a polyline needs two or more vertices at absolute positions (relative ones: not yet)")
                return None
            pts = [self.position(v) for v in verts]
            out: dict[str, Any] = {"actor": actor, "points": [[round(p.x, 3), round(p.y, 3)] for p in pts]}
            if self.closed(fta):  # back to the first vertex: one lap, then on parallel to the old route
                out["points"].append(out["points"][0])
        elif kid is not None and kid.tag == "Clothoid":
            if self.closed(fta):
                self.skip(kid, "a closed clothoid trajectory is not supported (a clothoid does not close)")
                return None
            out = self.clothoid(actor, who, kid)  # type: ignore[assignment]
            if out is None:
                return None
        else:
            tag = kid.tag if kid is not None else "Shape"
            self.skip(kid or fta, f"a vehicle trajectory of <{tag}> is not supported yet (polyline and clothoid are)")
            return None
        self.mark_handled(fta)
        return {"follow_path": out}

    @staticmethod
    def closed(fta: XNode) -> bool:
        """Is the action's Trajectory closed (its ``closed`` attribute; the last vertex joins the first)?"""
        traj = next((n for n in fta.walk() if n.tag == "Trajectory"), None)
        return traj is not None and traj.attrs.get("closed", "false").strip().lower() in ("true", "1")

    def clothoid(self, actor: str, who: str, c: XNode) -> dict | None:
        """Points of a Clothoid every 0.5 m (heading h0 + k s + k' s^2 / 2, midpoint rule per step)."""
        k0, k1, length = _f(c, "curvature"), _f(c, "curvaturePrime", 0.0), _f(c, "length")
        if length <= 0:
            raise c.error("a clothoid needs a length > 0")
        pos = c.kid("Position")
        start = pos.first() if pos is not None else None
        if start is None:
            raise c.error("a clothoid needs its start <Position>")
        o = start.kid("Orientation")
        local = start.tag == "RelativeObjectPosition" and start.attrs.get("entityRef") == who
        if local and o is not None and o.attrs.get("type", "absolute") != "relative":
            self.skip(o, "an absolute heading for a clothoid starting at the entity itself is not supported yet")
            return None
        if start.tag.startswith("Relative") and not local:
            self.skip(start, "a clothoid starting relative to another entity is not supported yet")
            return None
        if local:
            x, y, h = _f(start, "dx", 0.0), _f(start, "dy", 0.0), _f(o, "h", 0.0) if o is not None else 0.0
        else:
            pose = self.position(start)
            x, y, h = pose.x, pose.y, pose.h
        n = max(math.ceil(length / 0.5), 1)
        ds = length / n
        pts = [[x, y]]
        for i in range(n):
            sm = (i + 0.5) * ds
            hm = h + k0 * sm + 0.5 * k1 * sm * sm
            x, y = x + ds * math.cos(hm), y + ds * math.sin(hm)
            pts.append([x, y])
        out: dict[str, Any] = {"actor": actor, "points": [[round(a, 4), round(b, 4)] for a, b in pts]}
        if local:
            out["local"] = True
        return out

    def walk_on(self, before: Pose, last: Pose, max_m: float = 200.0) -> list[tuple[float, float]]:
        """After a trajectory's end the entity goes on along its lane in the direction of the last segment
        (the default controller keeps lane and speed, as esmini does), to the lane's end or ``max_m``:
        points of that lane's centre line shifted by the last vertex's offset from it, every 2 m."""
        h = math.atan2(last.y - before.y, last.x - before.x)
        name, s0, _ = self.view.net_lane(Pose(last.x, last.y, h), pedestrian=True)
        k = self.view.net.lane_names.index(name)
        lx, ly, ls = self.view.net.lane_points(k)
        cx, cy = float(np.interp(s0, ls, lx)), float(np.interp(s0, ls, ly))
        dx, dy = last.x - cx, last.y - cy
        forward = self.view.heads_along(name, s0, h)
        end = min(float(ls[-1]), s0 + max_m) if forward else max(0.0, s0 - max_m)
        if abs(end - s0) < 0.5:
            return []
        ss = np.append(np.arange(s0, end, 2.0 if forward else -2.0)[1:], end)
        return [(float(np.interp(v, ls, lx)) + dx, float(np.interp(v, ls, ly)) + dy) for v in ss]
