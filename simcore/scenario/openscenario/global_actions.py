"""OpenSCENARIO global actions: traffic signal states, entity add/delete, parameter set/modify."""

from __future__ import annotations

from simcore.scenario.openscenario.common import TranslatorBase, _f
from simcore.scenario.openscenario.xml import XNode
from simcore.units import rad_to_deg


class GlobalActionsMixin(TranslatorBase):
    """Global actions (InfrastructureAction, EntityAction, ParameterAction)."""

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
        if a.tag == "EntityAction" and inner is not None:
            return self.entity_action(a, inner)
        if a.tag == "ParameterAction" and inner is not None:
            name = a.attrs.get("parameterRef", "")
            self.mark_handled(a)
            change = self.param_changes.get(name)
            if change is None or change[0] is not a:  # set in Init: its value holds from the start
                return None
            return {"mark": f"parameter {name}"}
        self.skip(inner or a, f"<{(inner or a).tag}> is not supported yet")
        return None

    def parameter_actions(self, sb: XNode) -> None:
        """ParameterSetAction / ParameterModifyAction (AddValue, MultiplyByValue). In Init they set the value
        conditions see from the start; in the storyboard (events run once) the new value holds from the
        action's firing. A parameter's value is what ParameterConditions see; ``$name`` references were
        resolved when the file was read (parameters are constants there, OpenSCENARIO 1.2 section 8.4)."""
        init = sb.kid("Init")
        decl = {d.attrs.get("name"): d.attrs.get("value") for d in self.root.walk() if d.tag == "ParameterDeclaration"}
        for pa in (n for n in sb.walk() if n.tag == "ParameterAction"):
            name = pa.attrs.get("parameterRef", "")
            if name not in decl:
                raise pa.error(f"unknown parameter {name!r}")
            in_init = init is not None and any(n is pa for n in init.walk())
            old = self.param_init.get(name, decl[name] or "")
            new = self.parameter_value(pa, old)
            if in_init:
                self.param_init[name] = new
            elif name in self.param_changes:
                self.param_changes[name] = (pa, None)
            else:
                self.param_changes[name] = (pa, new)

    def parameter_value(self, pa: XNode, old: str) -> str:
        """The value a ParameterAction gives its parameter (``old`` its value before)."""
        act = pa.first()
        if act is not None and act.tag == "SetAction":
            return act.attrs.get("value", "")
        rule = next((n for n in pa.walk() if n.tag in ("AddValue", "MultiplyByValue")), None)
        if act is None or act.tag != "ModifyAction" or rule is None:
            raise pa.error("ParameterAction needs a SetAction or a ModifyAction with AddValue / MultiplyByValue")
        try:
            v = float(old or 0)
        except ValueError:
            raise pa.error(f"cannot modify the non-numeric value {old!r}") from None
        k = _f(rule, "value")
        return repr(v + k if rule.tag == "AddValue" else v * k)

    def entity_action(self, a: XNode, inner: XNode) -> dict | None:
        """DeleteEntityAction: the entity leaves (our ``remove``). AddEntityAction: an entity that Init
        does not place appears at the action's position (our ``spawn``; absent until then); adding an
        entity that is already in the scenario is refused."""
        who = a.attrs.get("entityRef", "")
        if who not in self.entities:
            raise a.error(f"unknown entity {who!r}")
        if inner.tag == "DeleteEntityAction":
            self.mark_handled(a)
            return {"remove": self.rid(who)}
        if inner.tag == "AddEntityAction" and who in self.added and self.added[who] is inner:
            pose = self.poses[who]
            self.mark_handled(a)
            at = {"x": round(pose.x, 3), "y": round(pose.y, 3), "yaw_deg": round(rad_to_deg(pose.h), 3)}
            return {"spawn": {"actor": self.rid(who), "at": at}}
        why = "is placed in Init" if who not in self.added else "is added twice"
        self.skip(
            inner, f"AddEntityAction of {who!r}, which {why}: adding an entity already there is not supported yet"
        )
        return None
