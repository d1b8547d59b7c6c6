"""OpenSCENARIO triggers and conditions as triggers of our format."""

from __future__ import annotations

from typing import Any

from simcore.scenario.openscenario.common import _RULES, TranslatorBase, _f, _monotone_rising
from simcore.scenario.openscenario.xml import XNode

_RULES_OP = {
    "lt": float.__lt__,
    "le": float.__le__,
    "gt": float.__gt__,
    "ge": float.__ge__,
    "eq": float.__eq__,
    "ne": float.__ne__,
}
#: Speed below which an entity stands still (m/s).
STANDSTILL_MPS = 0.01


class ConditionsMixin(TranslatorBase):
    """Start/stop triggers and their conditions."""

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
        """A condition with its edge (OpenSCENARIO 1.2, 7.5.2): ``none`` is the level; ``rising`` holds at a
        check where the condition holds and did not one step before, ``falling`` the reverse,
        ``risingOrFalling`` either (our ``edge`` trigger: never at the first check). A time condition that
        is false at t = 0, checked from t = 0 on (``from_start``), only rises: its edge is its level."""
        out = self._condition(c)
        edge = c.attrs.get("conditionEdge", "none")
        if out is None or edge == "none":
            return out
        if edge not in ("rising", "falling", "risingOrFalling"):
            raise c.error(f"unknown conditionEdge {edge!r} (expected none, rising, falling or risingOrFalling)")
        if (
            edge in ("rising", "risingOrFalling")
            and self.from_start
            and self.false_at_zero(c)
            and _monotone_rising(out)
        ):
            return out  # false at t = 0, then true for ever: the level fires at the same check as the edge
        return {"edge": {"when": out, "kind": {"risingOrFalling": "both"}.get(edge, edge)}}

    def false_at_zero(self, c: XNode) -> bool:
        """Is ``c`` a SimulationTimeCondition that is false at t = 0 (t > T with T >= 0, t >= T with T > 0)?
        Our first check comes after the first step, the standard's first evaluation at t = 0."""
        body = c.first()
        tc = body.first() if body is not None else None
        if tc is None or tc.tag != "SimulationTimeCondition":
            return False
        rule, v = self.rule(tc), _f(tc, "value")
        return (rule == "gt" and v >= 0.0) or (rule == "ge" and v > 0.0)

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
            return self.parameter_condition(c)
        self.skip(c, f"<{c.tag}> is not supported yet")
        return None

    def parameter_condition(self, c: XNode) -> dict | None:
        """A ParameterCondition, decided at translation from the parameter's value; a parameter that one
        storyboard ParameterAction changes holds its new value from that action's firing (``after``)."""
        name = c.attrs.get("parameterRef", "")
        decl = {d.attrs.get("name"): d.attrs.get("value") for d in self.root.walk() if d.tag == "ParameterDeclaration"}
        if name not in decl:
            raise c.error(f"unknown parameter {name!r}")
        value = self.param_init.get(name, decl[name] or "")
        never = {"compare": {"measure": "time", "rule": "lt", "value": -1.0}}
        before = self.param_holds(c, value)
        change = self.param_changes.get(name)
        if change is None:
            return {"time_s": 0} if before else never
        if change[1] is None:
            self.skip(c, f"parameter {name!r} is changed by more than one ParameterAction (not supported yet)")
            return None
        after = self.param_holds(c, change[1])
        if before and not after:
            self.skip(c, f"a condition that stops holding when parameter {name!r} is set is not supported yet")
            return None
        return {"time_s": 0} if before else ({"after": f"@param:{name}"} if after else never)

    def param_holds(self, c: XNode, value: str) -> bool:
        """The condition's rule applied to a parameter value (numbers compared as numbers, else as text)."""
        rule = self.rule(c)
        try:
            a, b = float(value or 0), _f(c, "value")
        except ValueError:
            return (value == c.attrs.get("value")) == (rule == "eq")
        return bool(_RULES_OP[rule](a, b))

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
        if c.tag == "StandStillCondition":  # speed below 0.01 m/s at every check for `duration` s
            still = cmp("speed", value=STANDSTILL_MPS, rule="lt")
            d = _f(c, "duration", 0.0)
            return {"held": {"when": still, "for_s": d}} if d > 0 else still
        if c.tag == "TraveledDistanceCondition":
            return cmp("traveled", rule="ge")
        if c.tag == "EndOfRoadCondition":  # at the end of its route for `duration` s
            end = cmp("remaining", value=0.5, rule="lt")
            d = _f(c, "duration", 0.0)
            return {"held": {"when": end, "for_s": d}} if d > 0 else end
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
