"""OpenSCENARIO private actions (speed, distance, synchronisation, lane changes and offsets, controllers) as
storyboard entries of our format; trajectories and global actions come from their own mixins."""

from __future__ import annotations

import math
from typing import Any

from simcore.scenario.openscenario.common import _f, _walk
from simcore.scenario.openscenario.global_actions import GlobalActionsMixin
from simcore.scenario.openscenario.trajectories import TrajectoriesMixin
from simcore.scenario.openscenario.xml import XNode
from simcore.units import rad_to_deg


class ActionsMixin(TrajectoriesMixin, GlobalActionsMixin):
    """Private and global actions."""

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
                v = _f(absn, "value")
                if v <= 0.0:  # it stops (decelerating at its limit) until a later speed starts it again
                    do = {"halt": actor}
                elif walker is not None and who not in self.walker_started:
                    walker["speed"] = _walk(v)  # its first speed: walking or crossing speed
                    self.walker_started.add(who)
                    do = {"start": actor}
                elif walker is not None and _walk(v) != walker["speed"]:
                    self.skip(inner, "a pedestrian walks at one speed: later speed changes are not supported yet")
                    return
                else:
                    do = {"start": actor}
            elif a.tag == "TeleportAction" and self.in_place(who, a):
                do = {"mark": f"{who} stays where it is (z, pitch and roll are not modelled)"}
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
        elif a.tag == "LateralAction" and inner is not None and inner.tag == "LaneOffsetAction":
            do = self.lane_offset(actor, who, inner)
        elif a.tag == "TeleportAction":
            pose = self.position(a.kid("Position") or a)
            do = {
                "teleport": {
                    "actor": actor,
                    "x": round(pose.x, 3),
                    "y": round(pose.y, 3),
                    "yaw_deg": round(rad_to_deg(math.atan2(math.sin(pose.h), math.cos(pose.h))), 3),
                }
            }
        elif a.tag in ("ActivateControllerAction", "ControllerAction"):
            self.controller(who, a)
            return
        elif a.tag == "RoutingAction" and inner is not None and inner.tag == "FollowTrajectoryAction":
            do = self.vehicle_path(actor, who, inner)
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

    def in_place(self, who: str, tp: XNode) -> bool:
        """Is a TeleportAction a move to where the entity is (RelativeObjectPosition of itself, dx = dy = 0,
        heading kept)? In the plane that changes nothing (e.g. esmini's pedestrian falling over: a roll)."""
        pos = tp.kid("Position")
        p = pos.first() if pos is not None else None
        if p is None or p.tag != "RelativeObjectPosition" or p.attrs.get("entityRef") != who:
            return False
        o = p.kid("Orientation")
        turned = o is not None and (o.attrs.get("type", "absolute") != "relative" or _f(o, "h", 0.0) != 0.0)
        if _f(p, "dx", 0.0) != 0.0 or _f(p, "dy", 0.0) != 0.0 or turned:
            return False
        self.mark_handled(tp)
        return True

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
            for key, name in (("max_accel_rate", "maxAccelerationRate"), ("max_decel_rate", "maxDecelerationRate")):
                if name in dc.attrs and _f(dc, name) > 0:
                    spec[key] = _f(dc, name)
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
        if f is not None:  # reached at the target position (the standard), planned smoothly (as esmini)
            spec["gradual"] = True
        return {"synchronize": spec}

    def speed_profile(self, actor: str, sp: XNode, when: dict, delay: float | None, name: str | None) -> None:
        """SpeedProfileAction as a chain of linear speed entries: entry k starts when entry k - 1 is done
        (``done``). ``time`` is the time to reach each speed from the previous one; without it the ramp
        runs at DynamicConstraints' maxAcceleration / maxDeceleration."""
        if sp.attrs.get("entityRef"):
            self.skip(sp, "a speed profile relative to an entity is not supported yet")
            return
        dc = sp.kid("DynamicConstraints")
        if sp.attrs.get("followingMode", "follow") == "follow":
            self.speed_follow(actor, sp, dc, when, delay, name)
            return
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

    def speed_follow(
        self, actor: str, sp: XNode, dc: XNode | None, when: dict, delay: float | None, name: str | None
    ) -> None:
        """SpeedProfileAction with followingMode follow: our ``speed_follow``, which tracks the profile (each
        entry's speed reached ``time`` s after the previous one, linearly) within the DynamicConstraints'
        acceleration and jerk limits; the times may be missed where the limits bind (the standard's
        "follow")."""
        t, points = 0.0, []
        for e in sp.kids("SpeedProfileEntry"):
            if "time" not in e.attrs:
                self.skip(e, "a follow-mode speed profile entry without a time is not supported yet")
                return
            t += max(_f(e, "time"), 0.0)
            points.append([round(t, 6), _f(e, "speed")])
        if not points:
            raise sp.error("SpeedProfileAction needs SpeedProfileEntry elements")
        spec: dict[str, Any] = {"actor": actor, "points": points}
        for key, attr in (
            ("max_accel", "maxAcceleration"),
            ("max_decel", "maxDeceleration"),
            ("max_accel_rate", "maxAccelerationRate"),
            ("max_decel_rate", "maxDecelerationRate"),
        ):
            if dc is not None and _f(dc, attr, 0.0) > 0:
                spec[key] = _f(dc, attr)
        entry: dict[str, Any] = {"name": name or self.unique(f"{actor}_profile"), "when": when}
        entry["do"] = {"speed_follow": spec}
        if delay:
            entry["delay_s"] = delay
        self.story.append(entry)

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
        lat = self.lat.get(who, 0.0)
        if (target == cur and not lat) or cur == 0:
            self.skip(lc, f"lane change of {who!r} to the lane it is on ({target})")
            return None, 0.0
        steps = abs(target - cur) - (1 if target * cur < 0 else 0)
        left = (target > cur) == self.poses[who].along_s()
        shift = self.lane_left_m(who, cur, target) - lat if lat else 0.0  # beside its lane: metres to move
        self.lane_now[who] = target
        self.lat[who] = 0.0
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
        if shift:
            spec.update(direction="left" if shift > 0 else "right", offset_m=round(abs(shift), 3))
        elif steps > 1:
            spec["lanes"] = steps
        return {"lane_change": spec}, duration

    def lane_left_m(self, who: str, cur: int, target: int) -> float:
        """How far (m) lane ``target``'s centre lies left of lane ``cur``'s for ``who`` (at its start s)."""
        p = self.poses[who]
        if p.road is None or p.s is None:
            return 0.0
        a, b = self.view.lane_pose(p.road, cur, p.s), self.view.lane_pose(p.road, target, p.s)
        return ((b.t or 0.0) - (a.t or 0.0)) * (1.0 if p.along_s() else -1.0)

    def lane_offset(self, actor: str, who: str, lo: XNode) -> dict | None:
        """LaneOffsetAction as our lane change by ``offset_m``: from the entity's offset now to the target
        (left + of its direction of travel; relative: the other entity's offset + value, as translated so
        far), over T = sqrt(6 |d| / maxLateralAcc), the smoothstep's peak lateral acceleration being
        6 d / T^2."""
        dyn, tgt = lo.kid("LaneOffsetActionDynamics"), lo.kid("LaneOffsetTarget")
        t = tgt.first() if tgt is not None else None
        if dyn is None or t is None:
            raise lo.error("LaneOffsetAction needs LaneOffsetActionDynamics and LaneOffsetTarget")
        side = 1.0 if self.poses[who].along_s() else -1.0  # the lane's t axis points left along s
        if t.tag == "AbsoluteTargetLaneOffset":
            want = side * _f(t, "value")
        else:
            ref = t.attrs.get("entityRef", "")
            if ref not in self.entities:
                raise t.error(f"unknown entity {ref!r}")
            want = self.lat.get(ref, 0.0) + side * _f(t, "value")
        d = want - self.lat.get(who, 0.0)
        self.lat[who] = want
        if "maxLateralAcc" not in dyn.attrs or _f(dyn, "maxLateralAcc") <= 0:
            self.skip(dyn, "a lane offset without maxLateralAcc is not supported yet")
            return None
        if abs(d) < 1e-3:
            return {"mark": f"lane offset of {who} already {want:g} m"}
        if dyn.attrs.get("dynamicsShape", "cubic") not in ("cubic", "sinusoidal"):
            self.noted.append(lo.issue(f"lane offset shape {dyn.attrs.get('dynamicsShape')!r} runs as smoothstep"))
        duration = math.sqrt(6.0 * abs(d) / _f(dyn, "maxLateralAcc"))
        spec = {
            "actor": actor,
            "direction": "left" if d > 0 else "right",
            "duration": round(min(max(duration, 0.05), 30.0), 6),
            "offset_m": round(abs(d), 3),
        }
        return {"lane_change": spec}
