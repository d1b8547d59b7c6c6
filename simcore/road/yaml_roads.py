"""YAML roads: roads built from line/arc/clothoid segments with lane layouts and width changes.

A file looks like::

    simcore_roads: 1
    speed_limit_kph: 50          # default for roads that give none
    roads:
      - id: main
        start: {x: 0, y: 0, heading_deg: 0}
        segments:
          - line: {length: 100}
          - arc: {length: 50, curvature: 0.02}            # 1/m, left positive
          - clothoid: {length: 30, curvature_start: 0.02, curvature_end: 0}
        lanes:
          left: [{type: driving, width: 3.5}]             # inner to outer
          right: [{type: driving, width: 3.5}, {type: sidewalk, width: 2.0}]
        width_changes:                                    # smooth (cubic) change over `length`
          - {s: 60, length: 20, right: [3.5, 4.0, 2.0]}
        successor: {road: next, contact: start}

Each road becomes an OpenDRIVE-like road (reference line, lane sections) and goes through the
same sampling as ``opendrive.build_network``, so lane names are ``"{road}:{section}:{lane_id}"``
(right lanes -1, -2, ... drive along the road; left lanes 1, 2, ... against it). A successor with
``contact: start`` joins lane ``k`` to lane ``k``; ``contact: end`` joins lane ``k`` to lane ``-k``.
Errors are located ``file:line:col`` through ``simcore.scenario.yaml_source`` (``ScenarioError``).
Junction templates (``junctions:``, types ``4way`` and ``T``) place arms around a centre; roads
attach with ``start: {junction: j1, arm: east}`` or end there with ``successor: {junction: j1, arm: west}``
(the road must then arrive at the arm's point and heading). Connecting lanes are cubic (Hermite)
paramPoly3 curves named ``"{junction}.{from_arm}-{to_arm}.{n}:0:-1"``. A ``signals:`` mapping on a
``4way``/``T`` junction (``{green_s, amber_s, all_red_s}``) puts a signalised stop line on every lane
entering it at its arm, one signal group per arm named ``"{junction}.{arm}"``, with split phasing
(arms take turns in the order their roads appear in the file).

A ``roundabout`` junction is a counter-clockwise ring (right-hand traffic) of ``ring_lanes`` (1 or 2)
lanes of ``ring_lane_width`` whose inner edge has radius ``ring_radius``; roads attach to its arms
at ``radius`` as for the other templates. The ring is split at every entry and exit into arc roads
``"{junction}.ring.{i}"`` (lanes -1 inner, -2 outer); each arm gets Hermite entry connectors
``"{junction}.{arm}-in.{n}"`` joining the ring just after the arm and exit connectors
``"{junction}.{arm}-out.{n}"`` leaving it just before, between the outermost lanes (and the innermost
ones too where both the arm and the ring have two lanes). RoadNetwork has no yield attribute, so
entries are plain links (every ring and connector lane belongs to the junction).
"""

from __future__ import annotations

import math
import os
from typing import Annotated, Literal

import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from simcore.road.network import RoadNetwork
from simcore.road.opendrive import (
    ConnectionDef,
    LaneDef,
    LinkDef,
    OpenDriveMap,
    RoadDef,
    SectionDef,
    SignalDef,
    build_network,
)
from simcore.road.opendrive_geometry import Arc, Cubic, Geometry, Line, ParamPoly3, ReferenceLine, Spiral
from simcore.units import deg_to_rad, kph_to_mps, rad_to_deg
from simcore.yamlio.errors import ScenarioError
from simcore.yamlio.source import YamlDoc, issues_from_validation_error, load_yaml

__all__ = ["RoadsFile", "build_yaml_roads", "load_yaml_roads"]

_CFG = ConfigDict(extra="forbid", frozen=True)


class _Line(BaseModel):
    model_config = _CFG
    length: float = Field(gt=0)


class _Arc(BaseModel):
    model_config = _CFG
    length: float = Field(gt=0)
    curvature: float = Field(description="1/m, left positive; non-zero")


class _Clothoid(BaseModel):
    model_config = _CFG
    length: float = Field(gt=0)
    curvature_start: float
    curvature_end: float


class LineSegment(BaseModel):
    """A straight segment."""

    model_config = _CFG
    line: _Line


class ArcSegment(BaseModel):
    """A constant-curvature segment."""

    model_config = _CFG
    arc: _Arc


class ClothoidSegment(BaseModel):
    """A segment whose curvature changes linearly with arc length."""

    model_config = _CFG
    clothoid: _Clothoid


def _segment_kind(value: object) -> str | None:
    if isinstance(value, dict):
        keys = [k for k in ("line", "arc", "clothoid") if k in value]
        return keys[0] if len(keys) == 1 else None
    return next((k for k in ("line", "arc", "clothoid") if getattr(value, k, None) is not None), None)


Segment = Annotated[
    Annotated[LineSegment, Tag("line")]
    | Annotated[ArcSegment, Tag("arc")]
    | Annotated[ClothoidSegment, Tag("clothoid")],
    Discriminator(
        _segment_kind,
        custom_error_type="segment_kind",
        custom_error_message="expected exactly one of line, arc or clothoid",
    ),
]


class Pose(BaseModel):
    """Start pose of a road: position (m) and heading (deg, CCW from east)."""

    model_config = _CFG
    x: float = 0.0
    y: float = 0.0
    heading_deg: float = 0.0


class LaneSpec(BaseModel):
    """One lane: its type and width (m)."""

    model_config = _CFG
    type: Literal["driving", "sidewalk", "biking", "shoulder", "parking"] = "driving"
    width: float = Field(gt=0, le=20)


class Lanes(BaseModel):
    """Lanes left and right of the reference line, inner to outer."""

    model_config = _CFG
    left: list[LaneSpec] = Field(default_factory=list)
    right: list[LaneSpec] = Field(default_factory=list)


class WidthChange(BaseModel):
    """From ``s`` (m) over ``length`` (m) the lanes' widths change smoothly to the new values (m)."""

    model_config = _CFG
    s: float = Field(ge=0)
    length: float = Field(gt=0)
    left: list[Annotated[float, Field(ge=0, le=20)]] | None = None
    right: list[Annotated[float, Field(ge=0, le=20)]] | None = None


class RoadLink(BaseModel):
    """The road this one continues into, and which end of it is touched."""

    model_config = _CFG
    road: str
    contact: Literal["start", "end"] = "start"


ArmName = Literal["east", "north", "west", "south"]
#: Arm directions in the junction frame (rad, CCW from the junction heading).
ARM_ANGLES = {"east": 0.0, "north": math.pi / 2, "west": math.pi, "south": -math.pi / 2}
#: Arms of each junction template.
TEMPLATE_ARMS: dict[str, tuple[str, ...]] = {
    "4way": ("east", "north", "west", "south"),
    "T": ("east", "west", "south"),
    "roundabout": ("east", "north", "west", "south"),
}
#: Clearance between a roundabout's outer ring edge and its arms (m).
RING_CLEARANCE_M = 4.0
#: How far a road's end may be from the junction arm it names (m, rad).
ARM_POSITION_TOL_M = 0.05
ARM_HEADING_TOL_RAD = deg_to_rad(1.0)


class ArmRef(BaseModel):
    """A junction arm: a road starts there (``start``) or ends there (``successor``)."""

    model_config = _CFG
    junction: str
    arm: ArmName


class SignalsSpec(BaseModel):
    """Fixed-time split phasing of a signalised junction (s): each arm's green, amber, all-red in turn."""

    model_config = _CFG
    green_s: float = Field(default=12.0, gt=0)
    amber_s: float = Field(default=3.0, gt=0)
    all_red_s: float = Field(default=2.0, gt=0)


class JunctionSpec(BaseModel):
    """A junction template: arms at ``radius`` (m) from the centre, rotated by ``heading_deg``.

    ``4way`` and ``roundabout`` have arms east, north, west, south; ``T`` has east, west and south
    (in its own frame). Roads attach to arms; a ``4way``/``T`` adds one connecting lane per allowed
    movement: straight on lane k -> lane k, left turns from the innermost lane, right turns from the
    outermost. ``signals`` (4way/T only) signalises every entering lane. ``ring_radius`` (inner
    edge, m; default half of ``radius``), ``ring_lanes`` and ``ring_lane_width`` shape a roundabout.
    """

    model_config = _CFG
    id: str = Field(min_length=1, pattern=r"^[^:\s]+$")
    type: Literal["4way", "T", "roundabout"]
    x: float = 0.0
    y: float = 0.0
    heading_deg: float = 0.0
    radius: float = Field(default=12.0, gt=0, le=200)
    signals: SignalsSpec | None = None
    ring_radius: float | None = Field(default=None, gt=0, le=200)
    ring_lanes: int = Field(default=1, ge=1, le=2)
    ring_lane_width: float = Field(default=4.0, gt=0, le=10)


class RoadSpec(BaseModel):
    """One road."""

    model_config = _CFG
    id: str = Field(min_length=1, pattern=r"^[^:\s]+$")
    start: Pose | ArmRef = Field(default_factory=Pose)
    segments: list[Segment] = Field(min_length=1)
    lanes: Lanes
    width_changes: list[WidthChange] = Field(default_factory=list)
    speed_limit_kph: float | None = Field(default=None, gt=0)
    successor: RoadLink | ArmRef | None = None


class RoadsFile(BaseModel):
    """A YAML roads file."""

    model_config = _CFG
    simcore_roads: Literal[1] = 1
    speed_limit_kph: float = Field(default=50.0, gt=0)
    junctions: list[JunctionSpec] = Field(default_factory=list)
    roads: list[RoadSpec] = Field(min_length=1)


def _arm_pose(j: JunctionSpec, arm: str) -> tuple[float, float, float]:
    """Point where an arm meets its road, and the outward heading (m, m, rad)."""
    phi = deg_to_rad(j.heading_deg) + ARM_ANGLES[arm]
    return j.x + j.radius * math.cos(phi), j.y + j.radius * math.sin(phi), phi


def _geometries(road: RoadSpec, junctions: dict[str, JunctionSpec] | None = None) -> list[Geometry]:
    if isinstance(road.start, ArmRef):
        x, y, h = _arm_pose((junctions or {})[road.start.junction], road.start.arm)
    else:
        x, y, h = road.start.x, road.start.y, deg_to_rad(road.start.heading_deg)
    s = 0.0
    out: list[Geometry] = []
    for seg in road.segments:
        g: Geometry
        if isinstance(seg, LineSegment):
            g = Line(s, x, y, h, seg.line.length)
        elif isinstance(seg, ArcSegment):
            g = Arc(s, x, y, h, seg.arc.length, seg.arc.curvature)
        else:
            c = seg.clothoid
            g = Spiral(s, x, y, h, c.length, c.curvature_start, c.curvature_end)
        out.append(g)
        x, y, h = g.end_pose()
        s += g.length
    return out


def _smooth(w0: float, w1: float, length: float) -> tuple[float, float, float, float]:
    """Cubic a + b ds + c ds^2 + d ds^3 from w0 to w1 over ``length`` with zero slope at both ends."""
    dw = w1 - w0
    return (w0, 0.0, 3.0 * dw / length**2, -2.0 * dw / length**3)


def _sections(doc: YamlDoc, k: int, road: RoadSpec, length: float) -> list[SectionDef]:
    left = [ln.width for ln in road.lanes.left]
    right = [ln.width for ln in road.lanes.right]
    types = {i + 1: ln.type for i, ln in enumerate(road.lanes.left)}
    types.update({-(i + 1): ln.type for i, ln in enumerate(road.lanes.right)})
    pieces: list[tuple[float, dict[int, tuple[float, float, float, float]]]] = []

    def const(lw: list[float], rw: list[float]) -> dict[int, tuple[float, float, float, float]]:
        d = {i + 1: (w, 0.0, 0.0, 0.0) for i, w in enumerate(lw)}
        d.update({-(i + 1): (w, 0.0, 0.0, 0.0) for i, w in enumerate(rw)})
        return d

    pieces.append((0.0, const(left, right)))
    last_end = 0.0
    for j, wc in enumerate(sorted(road.width_changes, key=lambda w: w.s)):
        where = ("roads", k, "width_changes", j)
        if wc.s < last_end - 1e-9 or wc.s + wc.length > length + 1e-9:
            raise ScenarioError(
                [
                    doc.issue(
                        where,
                        f"width change [{wc.s:g}, {wc.s + wc.length:g}] m overlaps another "
                        f"or leaves the road (length {length:g} m)",
                    )
                ]
            )
        new_l = list(wc.left) if wc.left is not None else left
        new_r = list(wc.right) if wc.right is not None else right
        if len(new_l) != len(left) or len(new_r) != len(right):
            raise ScenarioError(
                [
                    doc.issue(
                        where,
                        f"expected {len(left)} left and {len(right)} right widths, got {len(new_l)} and {len(new_r)}",
                    )
                ]
            )
        ramp = {i + 1: _smooth(a, b, wc.length) for i, (a, b) in enumerate(zip(left, new_l, strict=True))}
        ramp.update({-(i + 1): _smooth(a, b, wc.length) for i, (a, b) in enumerate(zip(right, new_r, strict=True))})
        if wc.s <= pieces[-1][0] + 1e-9:
            pieces.pop()  # the constant piece before this change would have zero length
        pieces.append((wc.s, ramp))
        left, right = new_l, new_r
        last_end = wc.s + wc.length
        if last_end < length - 1e-9:
            pieces.append((last_end, const(left, right)))
    sections = []
    for i, (s0, widths) in enumerate(pieces):
        s1 = pieces[i + 1][0] if i + 1 < len(pieces) else length
        first, last_sec = i == 0, i == len(pieces) - 1
        lanes = tuple(
            LaneDef(
                lid,
                types[lid],
                Cubic(np.zeros(1), np.array([coef])),
                False,
                None if first else lid,
                None if last_sec else lid,
                None,
            )
            for lid, coef in sorted(widths.items())
        )
        sections.append(SectionDef(s0, s1, lanes))
    return sections


def _check_refs(doc: YamlDoc, spec: RoadsFile) -> None:
    ids = [r.id for r in spec.roads]
    jids = [j.id for j in spec.junctions]
    jmap = {j.id: j for j in spec.junctions}
    issues = []
    for k, j in enumerate(spec.junctions):
        if jids.index(j.id) != k or j.id in ids:
            issues.append(doc.issue(("junctions", k, "id"), f"duplicate id {j.id!r}"))
        if j.type == "roundabout":
            if j.signals is not None:
                issues.append(doc.issue(("junctions", k, "signals"), "a roundabout has no signals"))
            outer = _ring_inner_radius(j) + j.ring_lanes * j.ring_lane_width
            if outer + RING_CLEARANCE_M > j.radius:
                issues.append(
                    doc.issue(
                        ("junctions", k, "radius"),
                        f"the ring's outer edge ({outer:g} m) must be at least {RING_CLEARANCE_M:g} m inside "
                        f"the arms (radius {j.radius:g} m)",
                    )
                )
    used: dict[tuple[str, str], str] = {}
    for k, r in enumerate(spec.roads):
        if ids.index(r.id) != k:
            issues.append(doc.issue(("roads", k, "id"), f"duplicate road id {r.id!r}"))
        if isinstance(r.successor, RoadLink) and r.successor.road not in ids:
            issues.append(doc.issue(("roads", k, "successor", "road"), f"unknown road {r.successor.road!r}"))
        if not r.lanes.left and not r.lanes.right:
            issues.append(doc.issue(("roads", k, "lanes"), "a road needs at least one lane"))
        for key, ref in (("start", r.start), ("successor", r.successor)):
            if not isinstance(ref, ArmRef):
                continue
            j = jmap.get(ref.junction)  # type: ignore[assignment]
            if j is None:
                issues.append(doc.issue(("roads", k, key, "junction"), f"unknown junction {ref.junction!r}"))
            elif ref.arm not in TEMPLATE_ARMS[j.type]:
                issues.append(
                    doc.issue(("roads", k, key, "arm"), f"a {j.type} junction has arms {TEMPLATE_ARMS[j.type]}")
                )
            elif (ref.junction, ref.arm) in used:
                issues.append(
                    doc.issue(("roads", k, key, "arm"), f"arm already taken by road {used[ref.junction, ref.arm]!r}")
                )
            else:
                used[ref.junction, ref.arm] = r.id
    if issues:
        raise ScenarioError(issues)


def _ring_inner_radius(j: JunctionSpec) -> float:
    return j.ring_radius if j.ring_radius is not None else 0.5 * j.radius


def _end_lanes(road: RoadDef, at: str) -> list[tuple[int, str, float, float]]:
    """(lane id, type, width, centre offset from the centre lane) of the lanes at one end of a road."""
    sec = road.sections[0 if at == "start" else -1]
    ds = 0.0 if at == "start" else sec.s1 - sec.s0
    out = []
    for sign in (1, -1):
        cum = 0.0
        for ln in sorted((ln for ln in sec.lanes if ln.id * sign > 0), key=lambda ln: abs(ln.id)):
            w = float(ln.width(np.array([ds]))[0])
            out.append((ln.id, ln.type, w, cum + w / 2))
            cum += w
    return out


def _hermite(x0: float, y0: float, h0: float, x1: float, y1: float, h1: float) -> ParamPoly3:
    """Cubic Hermite curve between two poses as a normalized paramPoly3 (tangent length = chord)."""
    c, s = math.cos(h0), math.sin(h0)
    ex, ey = (x1 - x0) * c + (y1 - y0) * s, -(x1 - x0) * s + (y1 - y0) * c
    chord = math.hypot(ex, ey)
    t0 = (chord, 0.0)
    t1 = (chord * math.cos(h1 - h0), chord * math.sin(h1 - h0))
    cu = (0.0, t0[0], 3 * ex - 2 * t0[0] - t1[0], -2 * ex + t0[0] + t1[0])
    cv = (0.0, t0[1], 3 * ey - 2 * t0[1] - t1[1], -2 * ey + t0[1] + t1[1])
    probe = ParamPoly3(0.0, x0, y0, h0, chord, cu, cv, 1.0)
    return ParamPoly3(0.0, x0, y0, h0, probe.curve_length(), cu, cv, 1.0)


def _junction_roads(
    doc: YamlDoc, spec: RoadsFile, roads: dict[str, RoadDef]
) -> dict[str, tuple[str, list[ConnectionDef]]]:
    """Check arm attachments and add each junction's connecting roads to ``roads``."""
    attached: dict[str, dict[str, tuple[str, str]]] = {j.id: {} for j in spec.junctions}
    for k, r in enumerate(spec.roads):
        if isinstance(r.start, ArmRef):
            attached[r.start.junction][r.start.arm] = (r.id, "start")
        if isinstance(r.successor, ArmRef):
            j = next(j for j in spec.junctions if j.id == r.successor.junction)
            ax, ay, phi = _arm_pose(j, r.successor.arm)
            x, y, h = roads[r.id].ref.geometries[-1].end_pose()
            dh = abs(math.remainder(h - (phi + math.pi), 2 * math.pi))
            if math.hypot(x - ax, y - ay) > ARM_POSITION_TOL_M or dh > ARM_HEADING_TOL_RAD:
                raise ScenarioError(
                    [
                        doc.issue(
                            ("roads", k, "successor"),
                            f"road ends at ({x:.2f}, {y:.2f}) heading {rad_to_deg(h):.1f} deg, but arm "
                            f"{r.successor.arm!r} of {j.id!r} is at ({ax:.2f}, {ay:.2f}) heading "
                            f"{rad_to_deg(phi + math.pi):.1f} deg",
                        )
                    ]
                )
            attached[j.id][r.successor.arm] = (r.id, "end")
    out: dict[str, tuple[str, list[ConnectionDef]]] = {}
    for j in spec.junctions:
        conns: list[ConnectionDef] = []
        arms = attached[j.id]
        if j.type == "roundabout":
            out[j.id] = (j.id, _roundabout_roads(j, arms, roads))
            continue
        for a, (ra, ea) in arms.items():
            ax, ay, phia = _arm_pose(j, a)
            lanes_a = _end_lanes(roads[ra], ea)
            # Lanes driving into the junction: left lanes of a road starting here, right lanes of one ending here.
            incoming = [ln for ln in lanes_a if (ln[0] > 0) == (ea == "start") and ln[1] == "driving"]
            for b, (rb, eb) in arms.items():
                if a == b:
                    continue
                bx, by, phib = _arm_pose(j, b)
                outgoing = [
                    ln for ln in _end_lanes(roads[rb], eb) if (ln[0] < 0) == (eb == "start") and ln[1] == "driving"
                ]
                if not incoming or not outgoing:
                    continue
                turn = math.remainder(phib - (phia + math.pi), 2 * math.pi)
                if abs(turn) < math.pi / 4:
                    pairs = list(zip(incoming, outgoing, strict=False))
                elif turn > 0:
                    pairs = [(incoming[0], outgoing[0])]
                else:
                    pairs = [(incoming[-1], outgoing[-1])]
                for n, (li, lo) in enumerate(pairs, start=1):
                    # Incoming lanes sit left of the arm's outward heading, outgoing lanes right of it.
                    x0, y0 = ax - li[3] * math.sin(phia), ay + li[3] * math.cos(phia)
                    x1, y1 = bx + lo[3] * math.sin(phib), by - lo[3] * math.cos(phib)
                    geom = _hermite(x0, y0, phia + math.pi, x1, y1, phib)
                    cid = f"{j.id}.{a}-{b}.{n}"
                    w = li[2]
                    lane = LaneDef(
                        -1, "driving", Cubic(np.zeros(1), np.array([[w, 0, 0, 0]])), False, li[0], lo[0], None
                    )
                    roads[cid] = RoadDef(
                        cid, cid, geom.length, j.id, ReferenceLine.of([geom]), Cubic.zero(),
                        Cubic(np.zeros(1), np.array([[w / 2, 0.0, 0.0, 0.0]])),
                        [SectionDef(0.0, geom.length, (lane,))],
                        LinkDef("road", ra, ea), LinkDef("road", rb, eb), roads[ra].speed, False,
                    )  # fmt: skip
                    conns.append(ConnectionDef(str(len(conns)), ra, cid, "start", ((li[0], -1),)))
        out[j.id] = (j.id, conns)
    return out


def _connector(cid: str, jid: str, geom: ParamPoly3, w: float, pred: LinkDef, succ: LinkDef, lanes: tuple[int, int],
               speed: float) -> RoadDef:  # fmt: skip
    """A one-lane junction road (lane -1 centred on the curve) linked lane ``lanes[0]`` -> ``lanes[1]``."""
    lane = LaneDef(-1, "driving", Cubic(np.zeros(1), np.array([[w, 0, 0, 0]])), False, lanes[0], lanes[1], None)
    return RoadDef(
        cid, cid, geom.length, jid, ReferenceLine.of([geom]), Cubic.zero(),
        Cubic(np.zeros(1), np.array([[w / 2, 0.0, 0.0, 0.0]])),
        [SectionDef(0.0, geom.length, (lane,))], pred, succ, speed, False,
    )  # fmt: skip


def _roundabout_roads(
    j: JunctionSpec, arms: dict[str, tuple[str, str]], roads: dict[str, RoadDef]
) -> list[ConnectionDef]:
    """Add a roundabout's ring arcs and entry/exit connectors to ``roads``; returns its connections."""
    r_in = _ring_inner_radius(j)
    w = j.ring_lane_width
    n = j.ring_lanes
    ring_ids = list(range(-1, -n - 1, -1))  # inner to outer
    centre_of = {lid: r_in + (k + 0.5) * w for k, lid in enumerate(ring_ids)}
    heading0 = deg_to_rad(j.heading_deg)
    # Nodes on the ring: (angle, kind, arm, incoming/outgoing lanes).
    nodes: list[tuple[float, str, str, list]] = []
    for a, (ra, ea) in arms.items():
        lanes_a = _end_lanes(roads[ra], ea)
        incoming = [ln for ln in lanes_a if (ln[0] > 0) == (ea == "start") and ln[1] == "driving"]
        outgoing = [ln for ln in lanes_a if (ln[0] < 0) == (ea == "start") and ln[1] == "driving"]
        phi = heading0 + ARM_ANGLES[a]
        r_out = centre_of[ring_ids[-1]]
        if incoming:
            off = incoming[-1][3]
            nodes.append((phi + math.asin(min(0.7, (off + w) / r_out)), "in", a, incoming))
        if outgoing:
            off = outgoing[-1][3]
            nodes.append((phi - math.asin(min(0.7, (off + w) / r_out)), "out", a, outgoing))
    nodes.sort(key=lambda nd: nd[0])
    if not nodes:
        return []
    speed = min((roads[ra].speed for ra, _ in arms.values()), default=kph_to_mps(30.0))
    conns: list[ConnectionDef] = []
    m = len(nodes)
    ring_names = [f"{j.id}.ring.{i}" for i in range(m)]
    for i in range(m):
        th0 = nodes[i][0]
        th1 = nodes[(i + 1) % m][0] + (2 * math.pi if i + 1 == m else 0.0)
        length = r_in * (th1 - th0)
        start = Arc(0.0, j.x + r_in * math.cos(th0), j.y + r_in * math.sin(th0), th0 + math.pi / 2, length, 1 / r_in)
        lanes = tuple(
            LaneDef(lid, "driving", Cubic(np.zeros(1), np.array([[w, 0, 0, 0]])), False, lid, lid, None)
            for lid in sorted(ring_ids)
        )
        roads[ring_names[i]] = RoadDef(
            ring_names[i], ring_names[i], length, j.id, ReferenceLine.of([start]), Cubic.zero(),
            Cubic(np.zeros(0), np.zeros((0, 4))), [SectionDef(0.0, length, lanes)],
            LinkDef("road", ring_names[i - 1], "end"), LinkDef("road", ring_names[(i + 1) % m], "start"), speed, False,
        )  # fmt: skip
    for i, (th, kind, a, arm_lanes) in enumerate(nodes):
        ra, ea = arms[a]
        ax, ay, phia = _arm_pose(j, a)
        # Outermost arm lane <-> outer ring lane; innermost <-> inner ring lane when both have two.
        pairs = [(arm_lanes[-1], ring_ids[-1])]
        if n == 2 and len(arm_lanes) >= 2:
            pairs.append((arm_lanes[0], ring_ids[0]))
        for k, (ln, lid) in enumerate(pairs, start=1):
            rc = centre_of[lid]
            rx, ry = j.x + rc * math.cos(th), j.y + rc * math.sin(th)
            if kind == "in":
                x0, y0 = ax - ln[3] * math.sin(phia), ay + ln[3] * math.cos(phia)
                geom = _hermite(x0, y0, phia + math.pi, rx, ry, th + math.pi / 2)
                cid = f"{j.id}.{a}-in.{k}"
                roads[cid] = _connector(
                    cid, j.id, geom, ln[2], LinkDef("road", ra, ea), LinkDef("road", ring_names[i], "start"),
                    (ln[0], lid), speed,
                )  # fmt: skip
                conns.append(ConnectionDef(str(len(conns)), ra, cid, "start", ((ln[0], -1),)))
            else:
                x1, y1 = ax + ln[3] * math.sin(phia), ay - ln[3] * math.cos(phia)
                geom = _hermite(rx, ry, th + math.pi / 2, x1, y1, phia)
                cid = f"{j.id}.{a}-out.{k}"
                roads[cid] = _connector(
                    cid, j.id, geom, ln[2], LinkDef("road", ring_names[i - 1], "end"), LinkDef("road", ra, ea),
                    (lid, ln[0]), speed,
                )  # fmt: skip
    return conns


def _signal_defs(spec: RoadsFile, roads: dict[str, RoadDef]) -> tuple[dict[str, list[str]], dict]:
    """Stop-line signals on every lane entering a signalised template junction; (controllers, plans)."""
    controllers: dict[str, list[str]] = {}
    plans: dict[str, tuple[float, float, float]] = {}
    for j in spec.junctions:
        if j.signals is None:
            continue
        plans[j.id] = (j.signals.green_s, j.signals.amber_s, j.signals.all_red_s)
        for arm in TEMPLATE_ARMS[j.type]:
            for r in spec.roads:
                for end, ref in (("start", r.start), ("end", r.successor)):
                    if not (isinstance(ref, ArmRef) and ref.junction == j.id and ref.arm == arm):
                        continue
                    road = roads[r.id]
                    ids = [ln[0] for ln in _end_lanes(road, end) if (ln[0] > 0) == (end == "start")]
                    if not ids:
                        continue
                    sid = f"{j.id}.{arm}"
                    s = 0.0 if end == "start" else road.length
                    road.signals.append(
                        SignalDef(sid, sid, s, 0.0, "light", "-" if end == "start" else "+", ((min(ids), max(ids)),))
                    )
                    controllers[sid] = [sid]
    return controllers, plans


def build_yaml_roads(doc: YamlDoc) -> RoadNetwork:
    """Validate a loaded YAML roads document and build its RoadNetwork.

    Raises:
        ScenarioError: every schema problem (located), unknown or duplicate ids, bad width changes,
            roads that do not meet the junction arm they name.
    """
    try:
        spec = RoadsFile.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise ScenarioError(issues_from_validation_error(exc, doc, RoadsFile)) from None
    _check_refs(doc, spec)
    jmap = {j.id: j for j in spec.junctions}
    roads: dict[str, RoadDef] = {}
    for k, r in enumerate(spec.roads):
        ref = ReferenceLine.of(_geometries(r, jmap))
        length = ref.length
        sections = _sections(doc, k, r, length)
        link = pred = None
        if isinstance(r.successor, RoadLink):
            link = LinkDef("road", r.successor.road, r.successor.contact)
            flip = -1 if r.successor.contact == "end" else 1
            last = sections[-1]
            sections[-1] = SectionDef(
                last.s0,
                last.s1,
                tuple(LaneDef(ln.id, ln.type, ln.width, False, ln.pred, flip * ln.id, None) for ln in last.lanes),
            )
        elif isinstance(r.successor, ArmRef):
            link = LinkDef("junction", r.successor.junction, None)
        if isinstance(r.start, ArmRef):
            pred = LinkDef("junction", r.start.junction, None)
        speed = kph_to_mps(r.speed_limit_kph or spec.speed_limit_kph)
        roads[r.id] = RoadDef(
            r.id, r.id, length, "-1", ref, Cubic.zero(), Cubic(np.zeros(0), np.zeros((0, 4))),
            sections, pred, link, speed, False,
        )  # fmt: skip
    # Target lanes must exist on the successor road.
    for k, r in enumerate(spec.roads):
        if not isinstance(r.successor, RoadLink):
            continue
        other = roads[r.successor.road]
        target_sec = other.sections[0 if r.successor.contact == "start" else -1]
        have = {ln.id for ln in target_sec.lanes}
        missing = [ln.succ for ln in roads[r.id].sections[-1].lanes if ln.succ not in have]
        if missing:
            msg = f"road {other.id!r} has no lane(s) {missing} at its {r.successor.contact}"
            raise ScenarioError([doc.issue(("roads", k, "successor"), msg)])
    junctions = _junction_roads(doc, spec, roads)
    controllers, plans = _signal_defs(spec, roads)
    return build_network(OpenDriveMap(doc.file, roads, junctions, controllers, (1, 6), plans))


def load_yaml_roads(source: str | os.PathLike[str], *, text: str | None = None) -> RoadNetwork:
    """Load a YAML roads file (see the module docstring); raises a located ``ScenarioError``."""
    return build_yaml_roads(load_yaml(source, text=text))
