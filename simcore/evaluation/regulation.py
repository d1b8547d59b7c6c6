"""Regulation-style verdicts (Euro NCAP AEB, UN R157 "collision avoided when avoidable") of a finished run.

Both read what the runner collected during the run: the collision events and, for every ego
collision with an actor, that actor's latest hazard onset on the ego path (time, bumper gap,
ego speed, its speed along the path and its deceleration; ``rules_kernels.A_HAZ_*``). Models,
constants and their sources: docs/scoring.md ("Regulation verdicts").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from simcore.evaluation.events import Event, EventKind
from simcore.evaluation.ncap_points import test_point
from simcore.evaluation.rules_kernels import G, careful_driver_avoids
from simcore.evaluation.scoring import Verdict
from simcore.units import KPH_PER_MPS, mps_to_kph


def euro_ncap_aeb(
    events: Sequence[Event],
    target: str,
    test_speed_mps: float,
    impact_speed_mps: float | None,
    test_type: str | None = None,
) -> dict:
    """Euro NCAP AEB-style outcome against ``target``.

    ``impact_speed_mps``: the ego's speed at its first collision with the target (None: no
    collision). Returns avoided, impact speed (km/h), relative impact speed (km/h, the event's
    value), speed reduction (km/h and % of the test speed), ``passed`` (= avoided) and the
    protocol's colour band and points of this test point (``ncap_points.test_point``).
    """
    hit = next(
        (e for e in events if e.kind == EventKind.COLLISION and "ego" in e.actors and target in e.actors),
        None,
    )
    v_imp = 0.0 if hit is None or impact_speed_mps is None else float(impact_speed_mps)
    red = max(test_speed_mps - v_imp, 0.0)
    rel = 0.0 if hit is None else mps_to_kph(hit.value)
    return {
        **test_point(test_type, mps_to_kph(test_speed_mps), mps_to_kph(v_imp), rel),
        "target": target,
        "test_speed_kph": mps_to_kph(test_speed_mps),
        "avoided": hit is None,
        "impact_time_s": None if hit is None else hit.time,
        "impact_speed_kph": mps_to_kph(v_imp),
        "relative_impact_speed_kph": rel,
        "speed_reduction_kph": mps_to_kph(red),
        "speed_reduction_pct": 100.0 * red / test_speed_mps if test_speed_mps > 0 else 100.0,
        "passed": hit is None,
    }


def r157_avoidable(info: dict[str, float], reaction_s: float, decel_mps2: float) -> bool:
    """Would the careful driver have avoided this collision? ``info`` as in ``un_r157``.

    No hazard onset recorded (the other actor never was ahead on the ego path: hit from the side
    or behind) -> not avoidable; otherwise ``careful_driver_avoids`` at the hazard onset.
    """
    if info.get("static"):
        return True  # a static object is on the map from the start
    if not math.isfinite(info.get("hazard_t", math.nan)):
        return False
    return bool(
        careful_driver_avoids(
            float(info["gap_m"]),
            float(info["v_ego"]),
            float(info["v_other"]),
            float(info["decel_other"]),
            float(reaction_s),
            float(decel_mps2),
        )
    )


def un_r157(collisions: Sequence[dict[str, Any]], reaction_s: float = 0.75, decel_g: float = 0.774) -> dict:
    """UN R157-style verdict: passed unless some ego collision was avoidable for the careful driver.

    ``collisions``: one dict per ego collision with keys time_s, other, and for actors hazard_t,
    gap_m, v_ego, v_other, decel_other (the runner's record) or static=True.
    """
    decel = decel_g * G
    rows = []
    for c in collisions:
        rows.append(
            {
                "time_s": c["time_s"],
                "other": c["other"],
                "hazard_time_s": c.get("hazard_t"),
                "avoidable": r157_avoidable(c, reaction_s, decel),
            }
        )
    return {
        "reaction_time_s": reaction_s,
        "decel_mps2": decel,
        "collisions": rows,
        "avoidable_collisions": sum(r["avoidable"] for r in rows),
        "passed": not any(r["avoidable"] for r in rows),
    }


def regulation_verdicts(
    spec: Any,
    events: Sequence[Event],
    collisions: Sequence[dict[str, Any]],
    ego_start_speed: float,
) -> tuple[dict[str, Any], list[Verdict]]:
    """The verdicts a scenario's ``regulation:`` declares (``schema.RegulationSpec``; None: none).

    Returns the plain-data results by name and one pass/fail Verdict per regulation.
    """
    out: dict[str, Any] = {}
    verdicts: list[Verdict] = []
    if spec is None:
        return out, verdicts
    if spec.euro_ncap_aeb is not None:
        a = spec.euro_ncap_aeb
        # divided, not kph_to_mps: the report's test_speed_kph (v_test * 3.6) gives the file's value back
        # for more of the Euro NCAP test speeds (35, 55, 65, 70, 75 km/h)
        v_test = a.test_speed_kph / KPH_PER_MPS if a.test_speed_kph is not None else ego_start_speed
        v_imp = next((c.get("ego_speed") for c in collisions if c["other"] == a.target), None)
        res = euro_ncap_aeb(events, a.target, v_test, v_imp, a.test_type)
        out["euro_ncap_aeb"] = res
        verdicts.append(Verdict("euro_ncap_aeb", res["passed"], res["speed_reduction_pct"], None))
    if spec.un_r157 is not None:
        r = spec.un_r157
        res = un_r157(collisions, r.reaction_time_s, r.decel_g)
        out["un_r157"] = res
        verdicts.append(Verdict("un_r157", res["passed"], float(res["avoidable_collisions"]), None))
    return out, verdicts
