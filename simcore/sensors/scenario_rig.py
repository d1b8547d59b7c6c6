"""The ego's sensor rig as a scenario declares it (``ego.sensors``), with located errors.

``ego.sensors`` is one of: a built-in rig name (``vehicles/sensors/<name>.yaml``), a rig file
path relative to the scenario (``.yaml``; the loader's folder rules apply), or an inline list of
sensor mappings (the keys of docs/sensors.md). The rig's noise streams are keyed by the run's
seed and variant, so a variant reruns bit for bit.
"""

from __future__ import annotations

from typing import Any

from simcore.sensors.rig import SensorRig
from simcore.yamlio.errors import ScenarioError
from simcore.yamlio.source import YamlDoc

KEY_PATH = ("ego", "sensors")


def _inline_doc(doc: YamlDoc, data: list[Any]) -> YamlDoc:
    """A view of the scenario file in which ``ego.sensors`` is the top-level ``sensors`` list
    (so the rig validator's errors point at the right line and column)."""
    n = len(KEY_PATH)
    marks = {("sensors", *k[n:]): v for k, v in doc.marks.items() if k[:n] == KEY_PATH}
    return YamlDoc(doc.file, {"sensors": data}, marks)


def rig_for_scenario(loaded: Any, world: Any) -> SensorRig | None:
    """The SensorRig of the scenario's ego (None when it declares none). Raises ScenarioError
    located at ``ego.sensors`` for an unknown rig, a bad file or a bad sensor mapping, and for a
    rig over the sensor limits in this scene (``SensorRig.limit_problem``), before any sweep."""
    rig = _rig(loaded, world)
    problem = rig.limit_problem(int(world.state.n)) if rig is not None else ""
    if problem:
        raise ScenarioError([loaded.doc.issue(KEY_PATH, problem)])
    return rig


def _rig(loaded: Any, world: Any) -> SensorRig | None:
    ego = loaded.spec.ego
    spec = getattr(ego, "sensors", None) if ego is not None else None
    if spec is None:
        return None
    seed, variant = int(world.seed), int(loaded.variant)
    if isinstance(spec, str):
        if spec.endswith((".yaml", ".yml")):
            path = loaded.resolve(KEY_PATH, spec)
            return SensorRig.from_preset(path, seed=seed, variant=variant)
        try:
            return SensorRig.from_preset(spec, seed=seed, variant=variant, extra_dirs=(loaded.path.parent,))
        except KeyError as exc:
            raise ScenarioError([loaded.doc.issue(KEY_PATH, str(exc.args[0]))]) from None
    data = [dict(s) for s in spec]
    from simcore.sensors.presets import build_sensors

    return SensorRig(build_sensors(data, _inline_doc(loaded.doc, data)), seed=seed, variant=variant)
