"""OpenDRIVE (.xodr) import: parse roads, lanes, junctions, signals and objects into a RoadNetwork.

Lane names are ``"{road_id}:{section_index}:{lane_id}"``: the road's ``id`` attribute, the
0-based index of the ``<laneSection>`` in the road, and the signed OpenDRIVE lane id (negative
on the right of the reference line), e.g. ``"12:0:-1"``. Every sampled lane centre line runs in
the lane's direction of travel: for right-hand traffic (the default; ``rule="LHT"`` on a road
flips it) right lanes drive along the reference line's s and left lanes against it.

What is read:
    planView (line, arc, spiral, poly3, paramPoly3 with pRange arcLength/normalized), elevation,
    superelevation (lane z and ``RoadNetwork.pts_roll``), laneOffset, lane sections (singleSide too),
    lane width and border polynomials, lane types,
    lane speed records and the road-type speed, road/lane predecessor and successor links (with
    contactPoint), junction connections with laneLinks (``default`` and ``virtual`` junctions
    through connecting roads; 1.7+ ``direct`` junctions link the incoming road's lanes straight
    to the ``linkedRoad``'s), signals (traffic lights and stop signs
    with their validity lanes, grouped by ``<controller>``), and objects (crosswalks become
    crosswalk polygons, everything else is kept as an outline in ``RoadNetwork.obj_*`` with its
    kind and height, ``zOffset + height``).
What is ignored:
    lateral profile shape, road marks, lane height/material/access, surface
    CRG, railroads, geo-reference. Unknown and deprecated elements are skipped.

XML is read only through ``defusedxml`` (entities, external references and DTD-based bombs are
refused); namespaced files (e.g. RoadRunner exports) and comments or blank lines before the XML
declaration load. Every defect raises :class:`simcore.road.errors.MapError` naming the file,
road and lane.
"""

from __future__ import annotations

import gc
import itertools
import math
import os
import re
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.ElementTree as DET
import numpy as np

from simcore._types import F64, LaneType, SignalState, StopRule
from simcore.limits import MapLimits, map_limits
from simcore.road.builder import NetworkBuilder
from simcore.road.errors import MapError
from simcore.road.network import RoadNetwork
from simcore.road.opendrive_geometry import (
    Arc,
    Cubic,
    Geometry,
    Line,
    ParamPoly3,
    ReferenceLine,
    Spiral,
    poly3,
)
from simcore.units import MPS_PER_KPH, MPS_PER_MPH, kph_to_mps

__all__ = [
    "OpenDriveMap",
    "build_network",
    "lane_borders",
    "lane_centre_line",
    "lane_name",
    "load_opendrive",
    "parse_opendrive",
]

# Size bounds (file bytes, road count and length, lateral offsets, total lane length) live in
# simcore.limits (one documented, overridable place for every limit).
#: Spacing of the dense samples along a lane section before the builder resamples them (m).
SAMPLE_STEP_M = 0.5
#: Largest chord deviation of the dense samples from a curved lane (m); tighter curves get a shorter step.
DENSE_CHORD_TOL_M = 1e-3
#: Shortest dense step (m).
MIN_DENSE_STEP_M = 0.05
#: Geometries shorter than this are degenerate: dropped with a warning (the next one starts there) (m).
MIN_GEOMETRY_LENGTH_M = 1e-6
#: Gap between consecutive planView geometries tolerated silently (m) ...
GEOMETRY_GAP_TOLERANCE_M = 0.05
#: ... up to this a gap is tolerated with a warning (a lane jump a vehicle can drive over), beyond it an error.
GEOMETRY_GAP_ERROR_M = 0.5
#: Lane sections shorter than this carry no samples: their lane links are followed through and
#: the section is dropped with a warning (m).
MIN_SECTION_LENGTH_M = 1e-3
#: Speed used when a map gives none (m/s): 50 km/h in town, 100 km/h on motorways.
DEFAULT_SPEED_MPS = kph_to_mps(50.0)
MOTORWAY_SPEED_MPS = kph_to_mps(100.0)
#: Default fixed-time plan of an OpenDRIVE junction (which has none): per signal group (s).
DEFAULT_GREEN_S = 20.0
DEFAULT_AMBER_S = 3.0
DEFAULT_ALL_RED_S = 2.0

#: OpenDRIVE lane type -> LaneType; types mapped to None are not imported as lanes (they only
#: shift the borders of the lanes outside them).
LANE_TYPES: dict[str, LaneType | None] = {
    "driving": LaneType.DRIVING,
    "entry": LaneType.DRIVING,
    "exit": LaneType.DRIVING,
    "onramp": LaneType.DRIVING,
    "offramp": LaneType.DRIVING,
    "connectingramp": LaneType.DRIVING,
    "bidirectional": LaneType.DRIVING,
    "slip": LaneType.DRIVING,
    "hov": LaneType.DRIVING,
    "bus": LaneType.DRIVING,
    "taxi": LaneType.DRIVING,
    "mwydriving": LaneType.DRIVING,
    "sidewalk": LaneType.SIDEWALK,
    "walking": LaneType.SIDEWALK,
    "biking": LaneType.BIKE,
    "parking": LaneType.PARKING,
    "shoulder": LaneType.SHOULDER,
    "border": LaneType.SHOULDER,
    "stop": LaneType.SHOULDER,
    "restricted": LaneType.SHOULDER,
    "curb": None,
    "median": None,
    "none": None,
    "rail": None,
    "tram": None,
    "special1": None,
    "special2": None,
    "special3": None,
    "roadworks": LaneType.SHOULDER,
}
#: Signal ``type`` codes read as traffic lights (German StVO 1000xxx) and stop signs (StVO 206, MUTCD R1-1).
TRAFFIC_LIGHT_TYPES = {"1000001", "1000002", "1000003", "1000007", "1000008", "1000009", "1000010", "1000011"}
STOP_SIGN_TYPES = {"206", "r1-1", "stop"}
#: Yield (give way) signs: StVO 205, MUTCD R1-2, Vienna B1 / Swedish B1.
YIELD_SIGN_TYPES = {"205", "r1-2", "yield"}
#: Speed-limit signs by (country, type, subtype) -> (value multiplier, unit when the signal has no
#: ``unit``): German StVO 274 (value in km/h), MUTCD R2-1 (mph), Swedish C31 (value in tens of
#: km/h: C31-5 is 50 km/h). An empty country matches any country.
SPEED_SIGNS: dict[tuple[str, str, str], tuple[float, str]] = {
    ("", "274", ""): (1.0, "km/h"),
    ("", "r2-1", ""): (1.0, "mph"),
    ("se", "c", "31"): (10.0, "km/h"),
}
_SPEED_UNITS = {"m/s": 1.0, "km/h": MPS_PER_KPH, "mph": MPS_PER_MPH}
_NS = re.compile(r"^\{[^}]*\}")


#: Line width (m) of a ``<roadMark>`` without a ``width`` attribute, by its ``weight``.
ROADMARK_WIDTH_M = {"standard": 0.12, "bold": 0.25}


@dataclass(frozen=True)
class RoadMarkDef:
    """One lane ``<roadMark>`` record: the line on the lane's outer border (the centre lane's: on
    the lane offset) from ``s_offset`` (m, from the section start) to the next record.

    ``type`` in the standard's spelling, lower case (``solid``, ``broken``, ``solid solid``,
    ``solid broken``, ``broken solid``, ``broken broken``, ``botts dots``, ``grass``, ``curb``,
    ``edge``, ``custom``, ``none``); ``color`` (``standard`` = white, ``yellow``, ...); ``width`` (m);
    ``lane_change`` (``both``, ``increase``, ``decrease``, ``none``): crossing it allowed towards
    increasing / decreasing lane ids.
    """

    s_offset: float
    type: str
    color: str
    width: float
    lane_change: str


@dataclass(frozen=True)
class LaneDef:
    """One ``<lane>`` of a lane section.

    Attributes:
        id: signed lane id (0 is the centre lane, not stored).
        type: OpenDRIVE lane type (lower case).
        width: width (or border) polynomial in s local to the section (m).
        is_border: True when ``width`` holds ``<border>`` records (outer border offset from the
            centre lane, m) instead of widths.
        pred, succ: linked lane ids in the previous/next section or road (None if absent).
        speed: lane speed limit (m/s) or None.
    """

    id: int
    type: str
    width: Cubic
    is_border: bool
    pred: int | None
    succ: int | None
    speed: float | None
    #: every ``<speed>`` record: (sOffset in the section m, limit m/s), sorted by sOffset.
    speeds: tuple[tuple[float, float], ...] = ()
    #: ``<roadMark>`` records sorted by sOffset.
    marks: tuple[RoadMarkDef, ...] = ()


@dataclass(frozen=True)
class SectionDef:
    """One ``<laneSection>``: s range (m), lanes sorted by id and the centre lane's road marks."""

    s0: float
    s1: float
    lanes: tuple[LaneDef, ...]
    center_marks: tuple[RoadMarkDef, ...] = ()


@dataclass(frozen=True)
class LinkDef:
    """A road predecessor/successor: element type (road/junction), id, contact point (start/end/None)."""

    element_type: str
    element_id: str
    contact: str | None


@dataclass(frozen=True)
class SignalDef:
    """One ``<signal>``: position on the road (s, t m), kind and the lanes it is valid for.

    ``orientation`` is ``"+"`` (for traffic along s), ``"-"`` (against s) or ``"none"``.
    ``validity`` lists (fromLane, toLane) pairs; empty means every lane in ``orientation``.
    """

    id: str
    name: str
    s: float
    t: float
    kind: str  # "light", "stop", "yield", "speed" or "other"
    orientation: str
    validity: tuple[tuple[int, int], ...]
    #: the limit a speed-limit sign sets (m/s), else None.
    speed: float | None = None


@dataclass(frozen=True)
class ObjectDef:
    """One ``<object>``: type, pose on the road and outline in the local (u, v) frame or in (s, t).

    Attributes:
        s, t: origin on the road (m). hdg: heading relative to the road (rad).
        corners_local: (k, 2) outline (u, v) in the object frame (m), or None.
        corners_road: (k, 2) outline (s, t) on the road (m), or None.
        length, width, radius: bounding box or circle (m), 0 if absent.
        height: top of the object above the road surface (m): ``zOffset + height``, or, without a
            ``height`` attribute, the highest outline corner (``z``/``dz`` + its ``height``); NaN when
            the file gives no height at all.
    """

    id: str
    type: str
    name: str
    s: float
    t: float
    hdg: float
    length: float
    width: float
    radius: float
    corners_local: F64 | None
    corners_road: F64 | None
    height: float = math.nan


@dataclass
class RoadDef:
    """One ``<road>`` as read from the file."""

    id: str
    name: str
    length: float
    junction: str
    ref: ReferenceLine
    elevation: Cubic
    lane_offset: Cubic
    sections: list[SectionDef]
    pred: LinkDef | None
    succ: LinkDef | None
    speed: float
    lht: bool
    signals: list[SignalDef] = field(default_factory=list)
    objects: list[ObjectDef] = field(default_factory=list)
    #: ``<type>`` records: (s m, speed m/s) sorted by s; the road's speed from s on (lanes without
    #: ``<speed>`` records use it).
    type_speeds: tuple[tuple[float, float], ...] = ()
    #: ``<lateralProfile><superelevation>``: roll angle of the cross section about the reference
    #: line (rad, positive = the road falls to its right side, i.e. towards negative t).
    superelevation: Cubic = field(default_factory=Cubic.zero)


@dataclass(frozen=True)
class ConnectionDef:
    """One junction ``<connection>``: incoming road, connecting road, contact point and lane links.

    In a ``direct`` junction (OpenDRIVE 1.7+) ``connecting`` is the ``linkedRoad`` (an ordinary
    road outside the junction), ``contact`` is which end of it touches the junction and ``direct``
    is True; lane links then join the incoming road's lanes straight to the linked road's.
    """

    id: str
    incoming: str
    connecting: str
    contact: str
    lane_links: tuple[tuple[int, int], ...]
    direct: bool = False


@dataclass
class OpenDriveMap:
    """Parsed OpenDRIVE content (before sampling).

    Attributes:
        file: source name used in messages.
        roads: by road id, in file order.
        junctions: junction id -> (name, connections).
        controllers: controller id -> signal ids it switches together.
        rev: (revMajor, revMinor) from the header.
        plans: junction id -> (green, amber, all-red) times (s) of its fixed-time plan; junctions
            not listed get the defaults (``DEFAULT_GREEN_S``...). OpenDRIVE files give none; YAML
            roads fill it from their junction ``signals``.
    """

    file: str
    roads: dict[str, RoadDef]
    junctions: dict[str, tuple[str, list[ConnectionDef]]]
    controllers: dict[str, list[str]]
    rev: tuple[int, int]
    plans: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    #: Defects tolerated while reading (dropped micro geometries and sections, dangling links),
    #: each located like a MapError message; carried into ``RoadNetwork.warnings``.
    warnings: list[str] = field(default_factory=list)


def lane_name(road_id: str, section_index: int, lane_id: int) -> str:
    """The RoadNetwork lane name of an OpenDRIVE lane: ``"{road_id}:{section_index}:{lane_id}"``."""
    return f"{road_id}:{section_index}:{lane_id}"


# --------------------------------------------------------------------------- XML reading


def _tag(el: Any) -> str:
    t = el.tag
    if not isinstance(t, str):
        return ""
    return _NS.sub("", t) if t[:1] == "{" else t


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _tag(c) == name]


def _child(el: Any, name: str) -> Any | None:
    for c in el:
        if _tag(c) == name:
            return c
    return None


class _Ctx:
    """Location for messages: file, road, lane."""

    def __init__(self, file: str, limits: MapLimits | None = None) -> None:
        self.file = file
        self.road: str | None = None
        self.lane: str | None = None
        self.limits = limits or map_limits()
        self.warnings: list[str] = []

    def error(self, reason: str) -> MapError:
        return MapError(self.file, reason, road=self.road, lane=self.lane)

    def warn(self, reason: str, *, road: str | None = None, lane: str | None = None) -> None:
        """Record a tolerated defect, located like an error (``file: road 'r': lane 'l': reason``)."""
        self.warnings.append(str(MapError(self.file, reason, road=road or self.road, lane=lane or self.lane)))

    def attr(self, el: Any, name: str, default: str | None = None) -> str:
        v = el.attrib.get(name)
        if v is not None:
            return v.strip()
        for k, v in el.attrib.items():
            if k[:1] == "{" and _NS.sub("", k) == name:
                return v.strip()
        if default is None:
            raise self.error(f"<{_tag(el)}> is missing the attribute {name!r}")
        return default

    def num(self, el: Any, name: str, default: float | None = None) -> float:
        raw = self.attr(el, name, None if default is None else "")
        if raw == "" and default is not None:
            return default
        try:
            v = float(raw)
        except ValueError:
            raise self.error(f"<{_tag(el)}> attribute {name!r} must be a number, got {raw!r}") from None
        if not math.isfinite(v):
            raise self.error(f"<{_tag(el)}> attribute {name!r} must be finite, got {raw!r}")
        return v

    def integer(self, el: Any, name: str) -> int:
        raw = self.attr(el, name)
        try:
            return int(float(raw)) if float(raw).is_integer() else int(raw)
        except (ValueError, OverflowError):
            raise self.error(f"<{_tag(el)}> attribute {name!r} must be an integer, got {raw!r}") from None


def _read_root(source: str | os.PathLike[str] | None, text: str | bytes | None, limits: MapLimits) -> tuple[str, Any]:
    max_bytes = limits.max_file_bytes
    file = str(source) if source is not None else "<string>"
    if text is None:
        if source is None:
            raise ValueError("give a file or text")
        path = Path(source)
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                raise MapError(file, "cannot read the map: not a regular file")
            if st.st_size > max_bytes:
                raise MapError(
                    file, f"file is {st.st_size / 2**20:.1f} MiB, larger than the {max_bytes / 2**20:g} MiB cap"
                )
            data: bytes | str = path.read_bytes()
        except OSError as exc:
            raise MapError(file, f"cannot read the map: {exc.strerror or exc}") from None
    else:
        data = text
        if len(data) > max_bytes:
            raise MapError(file, f"text is larger than the {max_bytes / 2**20:g} MiB cap")
    if isinstance(data, bytes):
        enc = "utf-8"
        m = re.search(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9_.-]+)[\"']", data[:4096])
        if m:
            enc = m.group(1).decode("ascii")
        try:
            data = data.decode(enc)
        except (LookupError, UnicodeDecodeError) as exc:
            raise MapError(file, f"cannot decode the file as {enc}: {exc}") from None
    data = data.lstrip("\ufeff")
    # A declaration after comments/blank lines is not well-formed XML but common in the wild;
    # the declaration carries nothing we need once the text is decoded, so drop it.
    data = re.sub(r"<\?xml[^?]*\?>", lambda m: " " * len(m.group(0)), data, count=1)
    try:
        root = DET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise MapError(
            file, f"refused unsafe XML ({type(exc).__name__}: entities and external references are not allowed)"
        ) from None
    except DET.ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise MapError(file, f"malformed XML: {exc}", line=line, col=(col or 0) + 1) from None
    if _tag(root) != "OpenDRIVE":
        raise MapError(file, f"the root element is <{_tag(root)}>, expected <OpenDRIVE>")
    return file, root


# --------------------------------------------------------------------------- parsing


def _cubic(ctx: _Ctx, records: list[Any], s_key: str) -> Cubic:
    if not records:
        return Cubic(np.zeros(0), np.zeros((0, 4)))
    rows = sorted(
        ((ctx.num(r, s_key), ctx.num(r, "a"), ctx.num(r, "b"), ctx.num(r, "c"), ctx.num(r, "d")) for r in records),
        key=lambda r: r[0],
    )
    arr = np.array(rows, dtype=np.float64)
    return Cubic(arr[:, 0].copy(), arr[:, 1:].copy())


def _geometry(ctx: _Ctx, el: Any) -> Geometry | None:
    """One planView record, or None for a degenerate (micro) one that the caller drops."""
    s, x, y = ctx.num(el, "s"), ctx.num(el, "x"), ctx.num(el, "y")
    hdg, length = ctx.num(el, "hdg"), ctx.num(el, "length")
    if length < 0:
        raise ctx.error(f"<geometry s={s:g}> has length {length:g}; a geometry must be longer than 0")
    if length < MIN_GEOMETRY_LENGTH_M:
        return None
    cap = ctx.limits.max_road_length_m
    if length > cap or abs(s) > cap:
        raise ctx.error(f"<geometry s={s:g}> length {length:g} m is outside (0, {cap:g}] (limit max_road_length_m)")
    kinds = [c for c in el if _tag(c) in ("line", "arc", "spiral", "poly3", "paramPoly3")]
    if not kinds:
        raise ctx.error(f"<geometry s={s:g}> has no line, arc, spiral, poly3 or paramPoly3 child")
    g = kinds[0]
    kind = _tag(g)
    if kind == "line":
        return Line(s, x, y, hdg, length)
    if kind == "arc":
        return Arc(s, x, y, hdg, length, ctx.num(g, "curvature"))
    if kind == "spiral":
        return Spiral(s, x, y, hdg, length, ctx.num(g, "curvStart"), ctx.num(g, "curvEnd"))
    if kind == "poly3":
        with np.errstate(all="ignore"):
            probe = poly3(s, x, y, hdg, length, ctx.num(g, "a"), ctx.num(g, "b"), ctx.num(g, "c"), ctx.num(g, "d"))
        if not math.isfinite(probe.curve_length()):
            raise ctx.error(f"<geometry s={s:g}> poly3 coefficients overflow")
        return probe
    cu = (ctx.num(g, "aU"), ctx.num(g, "bU"), ctx.num(g, "cU"), ctx.num(g, "dU"))
    cv = (ctx.num(g, "aV"), ctx.num(g, "bV"), ctx.num(g, "cV"), ctx.num(g, "dV"))
    p_range = ctx.attr(g, "pRange", "normalized")
    if p_range not in ("normalized", "arcLength"):
        raise ctx.error(f"paramPoly3 pRange must be 'normalized' or 'arcLength', got {p_range!r}")
    p_max = 1.0 if p_range == "normalized" else length
    geom = ParamPoly3(s, x, y, hdg, length, cu, cv, p_max)
    with np.errstate(all="ignore"):
        curve = geom.curve_length()
    if not math.isfinite(curve) or curve > cap:
        raise ctx.error(f"<geometry s={s:g}> paramPoly3 curve is {curve:g} m long (limit max_road_length_m)")
    if not curve > MIN_GEOMETRY_LENGTH_M:
        raise ctx.error(f"<geometry s={s:g}> paramPoly3 has zero length")
    if abs(curve - length) > max(GEOMETRY_GAP_TOLERANCE_M, 0.01 * length):
        ctx.warn(f"<geometry s={s:g}> paramPoly3 curve is {curve:.3f} m long, its length says {length:g} m")
    return geom


def _speed(ctx: _Ctx, el: Any | None) -> float | None:
    if el is None:
        return None
    raw = ctx.attr(el, "max", "")
    if raw == "" or raw.lower() in ("no limit", "undefined"):
        return None
    unit = ctx.attr(el, "unit", "m/s")
    factor = _SPEED_UNITS.get(unit)
    if factor is None:
        raise ctx.error(f"unknown speed unit {unit!r} (expected m/s, km/h or mph)")
    v = ctx.num(el, "max") * factor
    return v if v > 0 else None


def _lane(ctx: _Ctx, el: Any) -> LaneDef:
    lid = ctx.integer(el, "id")
    ctx.lane = str(lid)
    ltype = ctx.attr(el, "type", "driving").lower()
    widths = _children(el, "width")
    borders = _children(el, "border")
    if lid != 0 and not widths and not borders:
        raise ctx.error("lane has neither <width> nor <border> records")
    is_border = not widths and bool(borders)
    width = _cubic(ctx, borders if is_border else widths, "sOffset")
    link = _child(el, "link")
    pred = succ = None
    if link is not None:
        p = _child(link, "predecessor")
        q = _child(link, "successor")
        pred = ctx.integer(p, "id") if p is not None else None
        succ = ctx.integer(q, "id") if q is not None else None
    records = sorted(
        (ctx.num(r, "sOffset", 0.0), v) for r in _children(el, "speed") if (v := _speed(ctx, r)) is not None
    )
    speed = records[0][1] if records else None
    marks = tuple(sorted((_road_mark(ctx, r) for r in _children(el, "roadMark")), key=lambda m: m.s_offset))
    ctx.lane = None
    return LaneDef(lid, ltype, width, is_border, pred, succ, speed, tuple(records), marks)


def _road_mark(ctx: _Ctx, el: Any) -> RoadMarkDef:
    weight = ctx.attr(el, "weight", "standard").lower()
    width = ctx.num(el, "width", ROADMARK_WIDTH_M.get(weight, ROADMARK_WIDTH_M["standard"]))
    if not 0.0 <= width <= 10.0:
        raise ctx.error(f"<roadMark> width must be within [0, 10] m, got {width:g}")
    return RoadMarkDef(
        ctx.num(el, "sOffset", 0.0),
        " ".join(ctx.attr(el, "type", "none").lower().split()),
        ctx.attr(el, "color", "standard").lower(),
        width,
        ctx.attr(el, "laneChange", "both").lower(),
    )


def _link(ctx: _Ctx, el: Any | None) -> LinkDef | None:
    if el is None:
        return None
    etype = ctx.attr(el, "elementType", "road")
    if etype not in ("road", "junction"):
        raise ctx.error(f"link elementType must be 'road' or 'junction', got {etype!r}")
    contact = ctx.attr(el, "contactPoint", "") or None
    if contact is not None and contact not in ("start", "end"):
        raise ctx.error(f"contactPoint must be 'start' or 'end', got {contact!r}")
    return LinkDef(etype, ctx.attr(el, "elementId"), contact)


def _signal(ctx: _Ctx, el: Any) -> SignalDef:
    sid = ctx.attr(el, "id")
    stype = ctx.attr(el, "type", "").lower()
    name = ctx.attr(el, "name", "")
    dynamic = ctx.attr(el, "dynamic", "no").lower() == "yes"
    speed = _sign_speed(ctx, el, stype)
    if stype in TRAFFIC_LIGHT_TYPES or (dynamic and stype not in STOP_SIGN_TYPES):
        kind = "light"
    elif stype in STOP_SIGN_TYPES or name.lower().startswith("stop"):
        kind = "stop"
    elif stype in YIELD_SIGN_TYPES or name.lower().startswith(("yield", "give way")):
        kind = "yield"
    elif speed is not None:
        kind = "speed"
    else:
        kind = "other"
    orient = ctx.attr(el, "orientation", "none")
    if orient not in ("+", "-", "none"):
        raise ctx.error(f"signal {sid!r} orientation must be '+', '-' or 'none', got {orient!r}")
    validity = tuple((ctx.integer(v, "fromLane"), ctx.integer(v, "toLane")) for v in _children(el, "validity"))
    return SignalDef(sid, name, ctx.num(el, "s"), ctx.num(el, "t", 0.0), kind, orient, validity, speed)


def _sign_speed(ctx: _Ctx, el: Any, stype: str) -> float | None:
    """Limit (m/s) of a speed-limit sign (``SPEED_SIGNS``), or None for any other signal."""
    country = ctx.attr(el, "country", "").lower()
    subtype = ctx.attr(el, "subtype", "").lower()
    rule = SPEED_SIGNS.get((country, stype, subtype)) or SPEED_SIGNS.get(("", stype, subtype))
    if rule is None:
        rule = SPEED_SIGNS.get(("", stype, ""))
    raw = ctx.attr(el, "value", "")
    if rule is None or raw == "":
        return None
    scale, default_unit = rule
    unit = ctx.attr(el, "unit", default_unit)
    factor = _SPEED_UNITS.get(unit)
    v = ctx.num(el, "value") * scale * (factor if factor is not None else _SPEED_UNITS[default_unit])
    return v if v > 0 else None


#: OpenDRIVE object types (``e_objectType``, 1.4-1.8) by their lower-case spelling, so that kinds keep
#: the standard's spelling (``parkingSpace``) whatever case the file uses.
OBJECT_TYPES = {
    t.lower(): t
    for t in (
        *("none", "obstacle", "car", "pole", "tree", "vegetation", "barrier", "building", "parkingSpace"),
        *("patch", "railing", "trafficIsland", "crosswalk", "streetLamp", "gantry", "soundBarrier", "wind"),
        *("roadMark", "van", "bus", "trailer", "bike", "motorbike", "tram", "train", "pedestrian"),
    )
}


def _object(ctx: _Ctx, el: Any) -> ObjectDef:
    outline = _child(el, "outline")
    outlines = _child(el, "outlines")
    if outline is None and outlines is not None:
        outline = _child(outlines, "outline")
    local = road = None
    corner_tops: list[float] = []
    if outline is not None:
        cl = _children(outline, "cornerLocal")
        cr = _children(outline, "cornerRoad")
        if len(cl) >= 3:
            local = np.array([(ctx.num(c, "u"), ctx.num(c, "v")) for c in cl])
            corner_tops = [ctx.num(c, "z", 0.0) + ctx.num(c, "height") for c in cl if c.get("height") is not None]
        elif len(cr) >= 3:
            road = np.array([(ctx.num(c, "s"), ctx.num(c, "t")) for c in cr])
            corner_tops = [ctx.num(c, "dz", 0.0) + ctx.num(c, "height") for c in cr if c.get("height") is not None]
    z_offset = ctx.num(el, "zOffset", 0.0)
    if el.get("height") is not None:
        height = z_offset + ctx.num(el, "height")
    elif corner_tops:
        height = z_offset + max(corner_tops)
    else:
        height = math.nan
    kind = ctx.attr(el, "type", "none")
    return ObjectDef(
        id=ctx.attr(el, "id", ""),
        type=OBJECT_TYPES.get(kind.lower(), kind.lower()),
        name=ctx.attr(el, "name", ""),
        s=ctx.num(el, "s"),
        t=ctx.num(el, "t", 0.0),
        hdg=ctx.num(el, "hdg", 0.0),
        length=ctx.num(el, "length", 0.0),
        width=ctx.num(el, "width", 0.0),
        radius=ctx.num(el, "radius", 0.0),
        corners_local=local,
        corners_road=road,
        height=height,
    )


def _road(ctx: _Ctx, el: Any, header_lht: bool) -> RoadDef:
    rid = ctx.attr(el, "id")
    ctx.road = rid
    length = ctx.num(el, "length")
    cap = ctx.limits.max_road_length_m
    if not 0 < length <= cap:
        raise ctx.error(f"road length {length:g} m is outside (0, {cap:g}] (limit max_road_length_m)")
    plan = _child(el, "planView")
    if plan is None:
        raise ctx.error("road has no <planView>")
    records = _children(plan, "geometry")
    parsed = [_geometry(ctx, g) for g in records]
    geoms = sorted((g for g in parsed if g is not None), key=lambda g: g.s)
    if not geoms:
        raise ctx.error("<planView> has no <geometry> longer than 0" if records else "<planView> has no <geometry>")
    dropped = len(parsed) - len(geoms)
    if dropped:
        noun = "geometry" if dropped == 1 else "geometries"
        ctx.warn(f"dropped {dropped} planView {noun} shorter than {MIN_GEOMETRY_LENGTH_M:g} m")
    for a, b in itertools.pairwise(geoms):
        xe, ye, _ = a.end_pose()
        gap = math.hypot(xe - b.x, ye - b.y)
        if gap > GEOMETRY_GAP_ERROR_M:
            raise ctx.error(
                f"planView gap of {gap:.3f} m between the geometries at s={a.s:g} and s={b.s:g} "
                f"(limit {GEOMETRY_GAP_ERROR_M} m)"
            )
        if gap > GEOMETRY_GAP_TOLERANCE_M:
            ctx.warn(f"planView gap of {gap:.3f} m between the geometries at s={a.s:g} and s={b.s:g}; lanes jump there")
    ref = ReferenceLine.of(geoms)
    if length > ref.length + GEOMETRY_GAP_TOLERANCE_M:
        ctx.warn(f"road length {length:g} m is longer than its planView ({ref.length:g} m); lanes cut there")
        length = ref.length
    link = _child(el, "link")
    pred = _link(ctx, _child(link, "predecessor")) if link is not None else None
    succ = _link(ctx, _child(link, "successor")) if link is not None else None
    type_speeds: list[tuple[float, float]] = []
    for rtype in _children(el, "type"):
        v = _speed(ctx, _child(rtype, "speed"))
        if v is None:
            is_motorway = ctx.attr(rtype, "type", "").lower() == "motorway"
            v = MOTORWAY_SPEED_MPS if is_motorway else DEFAULT_SPEED_MPS
        type_speeds.append((ctx.num(rtype, "s", 0.0), v))
    type_speeds.sort()
    speed = type_speeds[0][1] if type_speeds else DEFAULT_SPEED_MPS
    rule = ctx.attr(el, "rule", "")
    lht = rule.upper() == "LHT" if rule else header_lht
    elev_el = _child(el, "elevationProfile")
    elevation = _cubic(ctx, _children(elev_el, "elevation"), "s") if elev_el is not None else Cubic.zero()
    lat_el = _child(el, "lateralProfile")
    superelevation = Cubic.zero()
    if lat_el is not None and _children(lat_el, "superelevation"):
        superelevation = _cubic(ctx, _children(lat_el, "superelevation"), "s")
        if np.any(np.abs(superelevation.coefs[:, 0]) >= math.pi / 2):
            raise ctx.error("superelevation must be within (-90, 90) degrees")
    lanes_el = _child(el, "lanes")
    if lanes_el is None:
        raise ctx.error("road has no <lanes>")
    offset = _cubic(ctx, _children(lanes_el, "laneOffset"), "s")
    sec_els = _children(lanes_el, "laneSection")
    if not sec_els:
        raise ctx.error("<lanes> has no <laneSection>")
    starts = [ctx.num(s, "s") for s in sec_els]
    order = np.argsort(starts, kind="stable")
    sections = []
    for k, i in enumerate(order):
        s0 = starts[i]
        s1 = starts[order[k + 1]] if k + 1 < len(order) else length
        lanes: list[LaneDef] = []
        for side in ("left", "right", "center"):
            side_el = _child(sec_els[i], side)
            if side_el is not None:
                lanes.extend(_lane(ctx, ln) for ln in _children(side_el, "lane"))
        ids = [ln.id for ln in lanes]
        if len(set(ids)) != len(ids):
            raise ctx.error(f"lane section {k} repeats a lane id: {sorted(ids)}")
        centre = [ln.marks for ln in lanes if ln.id == 0]
        sec = SectionDef(
            s0,
            min(s1, length),
            tuple(sorted((ln for ln in lanes if ln.id != 0), key=lambda ln: ln.id)),
            centre[0] if centre else (),
        )
        if sec.s1 - sec.s0 < MIN_SECTION_LENGTH_M:
            ctx.warn(
                f"lane section {k} at s={s0:g} is {max(sec.s1 - sec.s0, 0.0):.3g} m long; dropped, "
                "its lane links followed through"
            )
        sections.append(sec)
    if all(sec.s1 - sec.s0 < MIN_SECTION_LENGTH_M for sec in sections):
        ctx.warn(f"every lane section is shorter than {MIN_SECTION_LENGTH_M:g} m; the road carries no lanes")
    road = RoadDef(
        rid,
        ctx.attr(el, "name", ""),
        length,
        ctx.attr(el, "junction", "-1"),
        ref,
        elevation,
        offset,
        sections,
        pred,
        succ,
        speed,
        lht,
        superelevation=superelevation,
        type_speeds=tuple(type_speeds),
    )
    sig_el = _child(el, "signals")
    if sig_el is not None:
        road.signals = [_signal(ctx, s) for s in _children(sig_el, "signal")]
    obj_el = _child(el, "objects")
    if obj_el is not None:
        road.objects = [_object(ctx, o) for o in _children(obj_el, "object")]
    ctx.road = None
    return road


def parse_opendrive(
    source: str | os.PathLike[str] | None = None,
    *,
    text: str | bytes | None = None,
    limits: MapLimits | None = None,
) -> OpenDriveMap:
    """Read and check an OpenDRIVE file (or ``text``) without sampling it.

    Tolerated with a warning (``OpenDriveMap.warnings``): geometries shorter than
    ``MIN_GEOMETRY_LENGTH_M``, lane sections shorter than ``MIN_SECTION_LENGTH_M``, links to roads,
    junctions or lanes absent from the file (dropped), a road link without a contactPoint (the
    nearer end is used).

    Raises:
        MapError: unreadable, unsafe or malformed XML, missing or bad attributes, a map over the
            limits of ``simcore.limits``, or no road at all.
    """
    limits = limits or map_limits()
    file, root = _read_root(source, text, limits)
    ctx = _Ctx(file, limits)
    header = _child(root, "header")
    rev = (1, 4)
    if header is not None:
        try:
            rev = (int(ctx.attr(header, "revMajor", "1")), int(ctx.attr(header, "revMinor", "4")))
        except ValueError:
            rev = (1, 4)
    header_lht = False
    roads: dict[str, RoadDef] = {}
    road_els = _children(root, "road")
    if not road_els:
        raise MapError(file, "the file has no <road>")
    if len(road_els) > limits.max_roads:
        raise MapError(file, f"the file has {len(road_els)} roads, more than {limits.max_roads} (limit max_roads)")
    for el in road_els:
        road = _road(ctx, el, header_lht)
        if road.id in roads:
            raise MapError(file, "duplicate road id", road=road.id)
        roads[road.id] = road
    junctions: dict[str, tuple[str, list[ConnectionDef]]] = {}
    for el in _children(root, "junction"):
        jid = ctx.attr(el, "id")
        jtype = ctx.attr(el, "type", "default").strip().lower()
        direct = jtype == "direct"
        conns = []
        for c in _children(el, "connection"):
            ctx.road = None
            cid = ctx.attr(c, "id", "?")
            incoming = ctx.attr(c, "incomingRoad", "")
            # Direct junctions (1.7+) name the road on the far side ``linkedRoad``; default and
            # virtual junctions name a connecting road inside the junction.
            other_key = "linkedRoad" if direct else "connectingRoad"
            connecting = ctx.attr(c, other_key, "")
            if not incoming or not connecting:
                continue  # e.g. a 1.8 connection without an incoming road: nothing to link
            links = tuple((ctx.integer(ll, "from"), ctx.integer(ll, "to")) for ll in _children(c, "laneLink"))
            contact = ctx.attr(c, "contactPoint", "start").strip()
            if contact not in ("start", "end"):
                raise MapError(
                    file, f"junction {jid!r} connection {cid!r} contactPoint must be 'start' or 'end', got {contact!r}"
                )
            ends = (("incomingRoad", incoming), (other_key, connecting))
            missing = [(key, rid) for key, rid in ends if rid not in roads]
            if missing:
                key, rid = missing[0]
                ctx.warn(f"{jtype} junction {jid!r} connection {cid!r} names unknown {key} {rid!r}; connection dropped")
                continue
            conns.append(ConnectionDef(ctx.attr(c, "id", ""), incoming, connecting, contact, links, direct))
        junctions[jid] = (ctx.attr(el, "name", ""), conns)
    controllers: dict[str, list[str]] = {}
    for el in _children(root, "controller"):
        controllers[ctx.attr(el, "id")] = [ctx.attr(c, "signalId") for c in _children(el, "control")]
    for road in roads.values():
        for which, lk in (("predecessor", road.pred), ("successor", road.succ)):
            if lk is None:
                continue
            table: dict[str, Any] = roads if lk.element_type == "road" else junctions
            if lk.element_id not in table:
                ctx.warn(f"{which} {lk.element_type} {lk.element_id!r} does not exist; link dropped", road=road.id)
                lk = None
            elif lk.element_type == "road" and lk.contact is None:
                lk = LinkDef("road", lk.element_id, _nearer_end(road, which, roads[lk.element_id]))
                ctx.warn(f"{which} road {lk.element_id!r} has no contactPoint; using its {lk.contact}", road=road.id)
            if which == "predecessor":
                road.pred = lk
            else:
                road.succ = lk
        if road.junction != "-1" and road.junction not in junctions:
            ctx.warn(
                f"road is in junction {road.junction!r}, which does not exist; read as an ordinary road", road=road.id
            )
            road.junction = "-1"
    return OpenDriveMap(file, roads, junctions, controllers, rev, warnings=ctx.warnings)


def _nearer_end(road: RoadDef, which: str, other: RoadDef) -> str:
    """Which end of ``other`` touches ``road``'s start (predecessor) or end (successor)."""
    x, y, _ = road.ref.evaluate(np.array([0.0 if which == "predecessor" else road.length]))
    ox, oy, _ = other.ref.evaluate(np.array([0.0, other.length]))
    d = np.hypot(ox - x[0], oy - y[0])
    return "start" if d[0] <= d[1] else "end"


# --------------------------------------------------------------------------- sampling


def lane_borders(road: RoadDef, section: int, s: F64) -> tuple[F64, dict[int, tuple[F64, F64]]]:
    """Lateral offsets of every lane's inner and outer border in one lane section.

    Args:
        road: the parsed road. section: index into ``road.sections``.
        s: (n,) road s (m) inside the section.

    Returns:
        (t_center, borders): the centre lane's offset (the laneOffset, m) and, per lane id,
        (t_inner, t_outer) offsets (m, left of the reference line positive).
        Widths accumulate outwards from the centre lane; a ``<border>`` lane's outer border
        lies at the given offset from the centre lane.
    """
    sec = road.sections[section]
    ds = np.asarray(s, float) - sec.s0
    # Records that start at the section's end belong to the next section: the last sample takes
    # the left limit (``upper``), so lane ends meet the next section's starts.
    t0 = road.lane_offset(np.asarray(s, float), upper=sec.s1) if road.lane_offset.starts.size else np.zeros(ds.shape)
    out: dict[int, tuple[F64, F64]] = {}
    for sign in (1, -1):
        inner = t0
        for ln in sorted((ln for ln in sec.lanes if ln.id * sign > 0), key=lambda ln: abs(ln.id)):
            w = ln.width(ds, upper=sec.s1 - sec.s0)
            outer = t0 + sign * w if ln.is_border else inner + sign * w
            out[ln.id] = (inner, outer)
            inner = outer
    return t0, out


def lane_centre_line(road: RoadDef, section: int, lane_id: int, step: float = SAMPLE_STEP_M) -> tuple[F64, F64, F64]:
    """Dense (x, y, s) samples of one lane's centre line (m, map frame) in reference-line order.

    ``s`` is road s (m); samples are ``step`` apart or closer, and include geometry joints.
    """
    s = _section_grid(road, road.sections[section], step)
    xr, yr, hr = road.ref.evaluate(s)
    _, borders = lane_borders(road, section, s)
    inner, outer = borders[lane_id]
    t = 0.5 * (inner + outer)
    return xr - t * np.sin(hr), yr + t * np.cos(hr), s


def _section_grid(road: RoadDef, sec: SectionDef, step: float = SAMPLE_STEP_M) -> F64:
    """Road s samples of a section: ``step`` apart, plus every record start inside it (geometry
    joints, laneOffset and lane width/border records), so kinks of the centre lines are samples."""
    n = max(2, math.ceil((sec.s1 - sec.s0) / step) + 1)
    grid = np.linspace(sec.s0, sec.s1, n)
    cand = _record_starts(road, sec)
    inner = cand[(cand > sec.s0 + 1e-6) & (cand < sec.s1 - 1e-6)]
    return np.unique(np.concatenate([grid, inner])) if inner.size else grid


def _is_forward(road: RoadDef, lane_id: int) -> bool:
    """Does the lane drive along s? Right lanes do in right-hand traffic, left lanes in left-hand."""
    return (lane_id < 0) != road.lht


@dataclass
class _Sampled:
    index: int
    forward: bool
    s_road: F64
    s_lane: F64  # cumulative centre-line length along s (m), from the section start


def build_network(odr: OpenDriveMap, limits: MapLimits | None = None) -> RoadNetwork:
    """Sample a parsed map into a RoadNetwork (lanes, links, stop lines, signals, crosswalks, objects).

    Lane centre lines are sampled every ``SAMPLE_STEP_M`` plus at every record start, then
    resampled by curvature (``builder.resample_adaptive``). Before any lane is resampled its
    lateral offsets and the running total of centre-line length are checked against ``limits``.

    Raises:
        MapError: lane offsets or lane lengths over the limits, or non-finite lane geometry.
    """
    limits = limits or map_limits()
    b = NetworkBuilder()
    b.warnings.extend(odr.warnings)
    file = odr.file
    junction_index: dict[str, int] = {}
    for jid, (jname, conns) in odr.junctions.items():
        xs, ys = [], []  # type: ignore[var-annotated]
        for c in conns:
            r = odr.roads[c.connecting]
            # A connecting road lies inside the junction (both ends); a direct junction's linked
            # road only touches it at its contact end.
            ends = [0.0 if c.contact == "start" else r.length] if c.direct else [0.0, r.length]
            x, y, _ = r.ref.evaluate(np.array(ends))
            xs.extend(x)
            ys.extend(y)
        cx = float(np.mean(xs)) if xs else 0.0
        cy = float(np.mean(ys)) if ys else 0.0
        junction_index[jid] = b.add_junction(jname or jid, cx, cy)

    cap_km = limits.max_total_lane_length_m / 1000
    total = sum((sec.s1 - sec.s0) * len(sec.lanes) for road in odr.roads.values() for sec in road.sections)
    if total > limits.max_total_lane_length_m:
        raise MapError(file, f"the map has {total / 1000:.0f} km of lanes, more than the {cap_km:.0f} km cap")
    sampled: dict[tuple[str, int, int], _Sampled] = {}
    lane_total = 0.0
    for road in odr.roads.values():
        junction = junction_index.get(road.junction, -1) if road.junction != "-1" else -1
        for k, sec in enumerate(road.sections):
            if sec.s1 - sec.s0 < MIN_SECTION_LENGTH_M:
                continue
            s = _section_grid(road, sec)
            xr, yr, hr = road.ref.evaluate(s)
            with np.errstate(all="ignore"):
                z = road.elevation(s) if road.elevation.starts.size else np.zeros(s.shape)
                t_centre, borders = lane_borders(road, k, s)
            _check_section(file, road, k, s, xr, yr, z, borders, limits)
            step = _dense_step(s, hr, borders)
            if step < SAMPLE_STEP_M:  # tight curves: sample densely enough for the chord tolerance
                s = _section_grid(road, sec, step)
                xr, yr, hr = road.ref.evaluate(s)
                z = road.elevation(s) if road.elevation.starts.size else np.zeros(s.shape)
                t_centre, borders = lane_borders(road, k, s)
            roll = road.superelevation(s)
            kinks = np.isin(s, _record_starts(road, sec))
            kinks[0] = kinks[-1] = True
            nx, ny = -np.sin(hr), np.cos(hr)
            for ln in sec.lanes:
                ltype = LANE_TYPES.get(ln.type, LaneType.SHOULDER)
                if ltype is None:
                    continue
                inner, outer = borders[ln.id]
                t = 0.5 * (inner + outer)
                w = np.abs(outer - inner)
                x = xr + t * nx
                y = yr + t * ny
                # The cross section is rolled about the reference line: a point t to the left
                # (horizontally) is t tan(roll) higher.
                z_lane = z + t * np.tan(roll)
                cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
                if cum[-1] <= 0.0:
                    raise MapError(
                        file, f"lane section {k} has a degenerate centre line", road=road.id, lane=str(ln.id)
                    )
                lane_total += float(cum[-1])
                if lane_total > limits.max_total_lane_length_m:
                    raise MapError(
                        file,
                        f"lane centre lines add up to more than the {cap_km:.0f} km cap "
                        "(limit max_total_lane_length_m)",
                        road=road.id,
                        lane=str(ln.id),
                    )
                fwd = _is_forward(road, ln.id)
                sl = slice(None) if fwd else slice(None, None, -1)
                v = _lane_speed_profile(road, sec, ln, s, fwd)
                idx = b.add_lane(
                    lane_name(road.id, k, ln.id),
                    x[sl],
                    y[sl],
                    width=float(np.mean(w)),
                    lane_type=ltype,
                    speed_limit=float(v.max()),
                    junction=junction,
                    z=z_lane[sl],
                    width_profile=w[sl],
                    roll=(roll if fwd else -roll)[sl],
                    adaptive=True,
                    keep=kinks[sl],
                    speed_profile=v[sl],
                )
                sampled[(road.id, k, ln.id)] = _Sampled(idx, fwd, s, cum)
            _neighbours(b, road, k, sec, sampled)
            _road_marks(b, road, k, s, xr, yr, nx, ny, t_centre, borders, sampled)

    _links(b, odr, sampled)
    _signals(b, odr, sampled, junction_index)
    _objects(b, odr)
    return b.build()


def _road_marks(
    b: NetworkBuilder,
    road: RoadDef,
    k: int,
    s: F64,
    xr: F64,
    yr: F64,
    nx: F64,
    ny: F64,
    t_centre: F64,
    borders: dict[int, tuple[F64, F64]],
    sampled: dict,
) -> None:
    """Add the painted lines of section ``k``: each ``<roadMark>`` record on its lane's outer border
    (the centre lane's on the lane offset) from its sOffset to the next record or the section end."""
    sec = road.sections[k]
    owners = [(0, sec.center_marks, t_centre)] + [(ln.id, ln.marks, borders[ln.id][1]) for ln in sec.lanes]
    for lane_id, marks, t in owners:
        if not marks:
            continue
        smp = sampled.get((road.id, k, lane_id))
        for i, m in enumerate(marks):
            a = sec.s0 + m.s_offset
            e = sec.s0 + marks[i + 1].s_offset if i + 1 < len(marks) else sec.s1
            a, e = max(a, sec.s0), min(e, sec.s1)
            if m.type == "none" or e - a < MIN_SECTION_LENGTH_M:
                continue
            ss = np.concatenate([[a], s[(s > a) & (s < e)], [e]])
            tt = np.interp(ss, s, t)
            x = np.interp(ss, s, xr) + tt * np.interp(ss, s, nx)
            y = np.interp(ss, s, yr) + tt * np.interp(ss, s, ny)
            b.add_mark(x, y, m.type, m.color, m.width, smp.index if smp is not None else -1, m.lane_change)


def _lane_speed_profile(road: RoadDef, sec: SectionDef, ln: LaneDef, s: F64, forward: bool) -> F64:
    """Speed limit (m/s) in force at each road ``s`` of a lane, for its direction of travel.

    Base: the lane's ``<speed>`` records, else the road's ``<type>`` speeds, else the default.
    Speed-limit signs of the road valid for the lane (validity, else orientation) then set the
    limit from their s on in the travel direction, until the next such sign or the road's end.
    """
    if ln.speeds:
        starts = np.array([sec.s0 + o for o, _ in ln.speeds])
        vals = np.array([v for _, v in ln.speeds])
    elif road.type_speeds:
        starts = np.array([o for o, _ in road.type_speeds])
        vals = np.array([v for _, v in road.type_speeds])
    else:
        return np.full(s.shape, road.speed)
    v = vals[np.minimum(np.maximum(np.searchsorted(starts, s + 1e-9, side="right") - 1, 0), len(vals) - 1)]
    signs = [g for g in road.signals if g.kind == "speed" and g.speed is not None and _sign_applies(g, ln.id, forward)]
    for g in sorted(signs, key=lambda g: g.s if forward else -g.s):
        assert g.speed is not None  # filtered above
        v = np.where(s >= g.s - 1e-9 if forward else s <= g.s + 1e-9, g.speed, v)
    return v


def _sign_applies(sig: SignalDef, lane_id: int, forward: bool) -> bool:
    """Is a signal valid for a lane: traffic in its orientation (``+`` along s, ``-`` against, ``none``
    both) and, where it has ``<validity>`` records, a lane in one of their ranges."""
    if (sig.orientation == "+" and not forward) or (sig.orientation == "-" and forward):
        return False
    return not sig.validity or any(min(f, t) <= lane_id <= max(f, t) for f, t in sig.validity)


def _dense_step(s: F64, heading: F64, borders: dict[int, tuple[F64, F64]]) -> float:
    """Dense sampling step (m) for a section: ``SAMPLE_STEP_M``, or shorter where the lanes'
    curvature would make a polyline at that step deviate from them by more than ``DENSE_CHORD_TOL_M``."""
    if s.size < 3:
        return SAMPLE_STEP_M
    k_ref = float(np.max(np.abs(np.diff(np.unwrap(heading)) / np.maximum(np.diff(s), 1e-9))))
    if k_ref * SAMPLE_STEP_M**2 / 8.0 <= DENSE_CHORD_TOL_M:
        return SAMPLE_STEP_M
    reach = max((float(np.max(np.abs(b))) for pair in borders.values() for b in pair), default=0.0)
    k_lane = k_ref / max(1.0 - k_ref * reach, 0.05)
    return min(max(math.sqrt(8.0 * DENSE_CHORD_TOL_M / k_lane), MIN_DENSE_STEP_M), SAMPLE_STEP_M)


def _record_starts(road: RoadDef, sec: SectionDef) -> F64:
    """Road s of every record start that may put a kink in a lane of ``sec`` (m)."""
    return np.concatenate([road.ref.starts, road.lane_offset.starts, *(ln.width.starts + sec.s0 for ln in sec.lanes)])


def _check_section(
    file: str,
    road: RoadDef,
    k: int,
    s: F64,
    xr: F64,
    yr: F64,
    z: F64,
    borders: dict[int, tuple[F64, F64]],
    limits: MapLimits,
) -> None:
    """Refuse a section whose samples are not finite or whose lanes lie absurdly far from the road."""
    for arr, what in ((xr, "reference line"), (yr, "reference line"), (z, "elevation")):
        if not np.all(np.isfinite(arr)):
            raise MapError(file, f"lane section {k}: the {what} is not finite", road=road.id)
    for lid, (inner, outer) in borders.items():
        reach = np.maximum(np.abs(inner), np.abs(outer))
        bad = ~(reach <= limits.max_lateral_offset_m)
        if np.any(bad):
            i = int(np.argmax(bad))
            raise MapError(
                file,
                f"lane section {k}: lane border {reach[i]:.3g} m from the reference line at s={s[i]:g} "
                f"(limit max_lateral_offset_m = {limits.max_lateral_offset_m:g} m); check the width/laneOffset records",
                road=road.id,
                lane=str(lid),
            )


def _neighbours(b: NetworkBuilder, road: RoadDef, k: int, sec: SectionDef, sampled: dict) -> None:
    ids = {ln.id: ln for ln in sec.lanes}
    for lid in ids:
        nxt = lid + 1
        if nxt == 0 or nxt not in ids or (lid < 0) != (nxt < 0):
            continue
        a, c = sampled.get((road.id, k, lid)), sampled.get((road.id, k, nxt))
        if a is None or c is None or a.forward != c.forward:
            continue
        if LANE_TYPES.get(ids[lid].type) != LANE_TYPES.get(ids[nxt].type):
            continue
        # ``nxt`` lies left of ``lid`` (larger t); facing against s the sides swap.
        if a.forward:
            b.neighbours(c.index, a.index)
        else:
            b.neighbours(a.index, c.index)


def _live(sec: SectionDef) -> bool:
    return sec.s1 - sec.s0 >= MIN_SECTION_LENGTH_M


def _end_section(road: RoadDef, at: str) -> int | None:
    """Index of the first/last non-empty section, for contact ``start``/``end``."""
    ks = [k for k, sec in enumerate(road.sections) if _live(sec)]
    if not ks:
        return None
    return ks[0] if at == "start" else ks[-1]


def _walk(road: RoadDef, k: int, lane_id: int, step: int) -> tuple[int, int] | None:
    """Follow lane ``lane_id`` of section ``k`` through dropped (too short) sections.

    While section ``k`` is dropped, step to the lane's successor (``step`` +1) or predecessor
    (-1) in the next section; a lane without a link keeps its id. Returns (section reached, lane
    id there), where the section is -1 or ``len(sections)`` past the road's ends, or None when
    the chain ends (lane absent in a dropped section, or a link to lane 0).
    """
    while 0 <= k < len(road.sections) and not _live(road.sections[k]):
        ln = next((x for x in road.sections[k].lanes if x.id == lane_id), None)
        if ln is None:
            return None
        nxt = ln.succ if step > 0 else ln.pred
        if nxt == 0:
            return None
        if nxt is not None:
            lane_id = nxt
        k += step
    return k, lane_id


def _at_end(road: RoadDef, at: str, lane_id: int) -> tuple[int, int] | None:
    """(live section, lane id) of a lane named at the road's ``at`` end (contact point or junction
    lane link), which names lanes of the first/last section even when that one is dropped."""
    k, step = (0, 1) if at == "start" else (len(road.sections) - 1, -1)
    hit = _walk(road, k, lane_id, step)
    if hit is None or not 0 <= hit[0] < len(road.sections):
        return None
    return hit


def _connect(b: NetworkBuilder, a: _Sampled | None, a_end: str, c: _Sampled | None, c_end: str) -> None:
    """Link two lanes that touch at ``a_end`` of lane a's section and ``c_end`` of lane c's."""
    if a is None or c is None:
        return
    a_exits = a.forward == (a_end == "end")
    c_exits = c.forward == (c_end == "end")
    if a_exits and not c_exits:
        b.link(a.index, c.index)
    elif c_exits and not a_exits:
        b.link(c.index, a.index)


def _lane_exists(odr: OpenDriveMap, road_id: str, k: int, lane_id: int) -> bool:
    return any(ln.id == lane_id for ln in odr.roads[road_id].sections[k].lanes)


def _links(b: NetworkBuilder, odr: OpenDriveMap, sampled: dict) -> None:
    """Lane links inside roads, road to road and through junctions; links to lanes absent from
    the file are dropped with a warning."""
    file = odr.file

    def dangling(reason: str, road: str, lane: int | None = None) -> None:
        where = None if lane is None else str(lane)
        b.warnings.append(str(MapError(file, reason + "; link dropped", road=road, lane=where)))

    for road in odr.roads.values():
        live = [k for k, sec in enumerate(road.sections) if _live(sec)]
        # Inside the road: section k -> next live section (through dropped ones).
        for k0, k1 in itertools.pairwise(live):
            for ln in road.sections[k0].lanes:
                if ln.succ is None or ln.succ == 0:
                    continue
                hit = _walk(road, k0 + 1, ln.succ, 1)
                if hit is None or hit[0] != k1 or not _lane_exists(odr, road.id, k1, hit[1]):
                    dangling(f"lane successor {ln.succ} is not in lane section {k0 + 1}", road.id, ln.id)
                    continue
                _connect(b, sampled.get((road.id, k0, ln.id)), "end", sampled.get((road.id, k1, hit[1])), "start")
            for ln in road.sections[k1].lanes:
                if ln.pred is None or ln.pred == 0:
                    continue
                hit = _walk(road, k1 - 1, ln.pred, -1)
                if hit is None or hit[0] != k0 or not _lane_exists(odr, road.id, k0, hit[1]):
                    dangling(f"lane predecessor {ln.pred} is not in lane section {k1 - 1}", road.id, ln.id)
                    continue
                _connect(b, sampled.get((road.id, k1, ln.id)), "start", sampled.get((road.id, k0, hit[1])), "end")
        if not live:
            continue
        # Road to road.
        for at, lk in (("start", road.pred), ("end", road.succ)):
            if lk is None or lk.element_type != "road" or lk.contact is None:
                continue
            other = odr.roads[lk.element_id]
            k = live[0] if at == "start" else live[-1]
            for ln in road.sections[k].lanes:
                target = ln.pred if at == "start" else ln.succ
                if target is None or target == 0:
                    continue
                # The link names a lane of the section at this road's end, which may be dropped.
                hit = _walk(road, k - 1, target, -1) if at == "start" else _walk(road, k + 1, target, 1)
                far = _at_end(other, lk.contact, hit[1]) if hit is not None else None
                if far is None or not _lane_exists(odr, other.id, far[0], far[1]):
                    dangling(f"lane link to lane {target} of road {other.id!r}, which has no such lane", road.id, ln.id)
                    continue
                _connect(b, sampled.get((road.id, k, ln.id)), at, sampled.get((other.id, far[0], far[1])), lk.contact)
    # Junction connections: incoming road lane -> connecting road lane (default/virtual), or
    # incoming road lane -> linked road lane (direct). Either way the lane pair touches at the
    # incoming road's junction end and the other road's contact end, like a road-to-road link.
    for jid, (_, conns) in odr.junctions.items():
        for c in conns:
            inc = odr.roads[c.incoming]
            con = odr.roads[c.connecting]
            at = _incoming_end(inc, jid, con, c.contact)
            for a, t in c.lane_links:
                near = _at_end(inc, at, a)
                far = _at_end(con, c.contact, t)
                ok_a = near is not None and _lane_exists(odr, inc.id, *near)
                ok_t = far is not None and _lane_exists(odr, con.id, *far)
                if not (ok_a and ok_t) or near is None or far is None:
                    dangling(
                        f"junction {jid!r} connection {c.id!r} links lane {a} -> {t}, which does not exist",
                        inc.id if not ok_a else con.id,
                    )
                    continue
                _connect(b, sampled.get((inc.id, *near)), at, sampled.get((con.id, *far)), c.contact)


def _incoming_end(inc: RoadDef, jid: str, con: RoadDef, contact: str) -> str:
    """Which end of the incoming road touches the junction (geometry decides if both do)."""
    is_pred = inc.pred is not None and inc.pred.element_type == "junction" and inc.pred.element_id == jid
    is_succ = inc.succ is not None and inc.succ.element_type == "junction" and inc.succ.element_id == jid
    if is_pred != is_succ:
        return "start" if is_pred else "end"
    x, y, _ = inc.ref.evaluate(np.array([0.0, inc.length]))
    cx, cy, _ = con.ref.evaluate(np.array([0.0 if contact == "start" else con.length]))
    d = np.hypot(x - cx[0], y - cy[0])
    return "start" if d[0] <= d[1] else "end"


def _lane_s_at(smp: _Sampled, s_road: float) -> float:
    """Lane arc length (m, in the lane's travel direction) at road s."""
    along = float(np.interp(s_road, smp.s_road, smp.s_lane))
    return along if smp.forward else float(smp.s_lane[-1] - along)


def _signals(b: NetworkBuilder, odr: OpenDriveMap, sampled: dict, junction_index: dict[str, int]) -> None:
    sig_controller = {sid: cid for cid, sids in odr.controllers.items() for sid in sids}
    groups: dict[str, int] = {}
    pending: list[tuple[str, int]] = []  # (group key, junction)
    stops: list[tuple[int, float, str | None, StopRule]] = []  # (lane index, lane s, group key or None, rule)
    for road in odr.roads.values():
        for sig in road.signals:
            if sig.kind not in ("light", "stop", "yield"):
                continue  # speed signs act through the lanes' speed profiles
            k = max(i for i, sec in enumerate(road.sections) if sec.s0 <= sig.s + 1e-9 or i == 0)
            sec = road.sections[k]
            lanes = []
            for ln in sec.lanes:
                smp = sampled.get((road.id, k, ln.id))
                if smp is None or LANE_TYPES.get(ln.type) != LaneType.DRIVING:
                    continue
                if _sign_applies(sig, ln.id, smp.forward):
                    lanes.append(smp)
            if not lanes:
                continue
            key = None
            if sig.kind == "light":
                # One group per <controller>; without one, the lights of one approach (road and
                # direction) to one junction switch together.
                j = _signal_junction(road, lanes[0].forward, junction_index)
                approach = f"junction:{j}:road:{road.id}:{'+' if lanes[0].forward else '-'}"
                key = sig_controller.get(sig.id, approach if j >= 0 else f"signal:{sig.id}")
                b.signal_group_of[sig.id] = key
                if key not in groups:
                    groups[key] = -1
                    pending.append((key, j))
            rule = {"stop": StopRule.STOP, "yield": StopRule.YIELD}.get(sig.kind, StopRule.LINE)
            stops.extend((smp.index, _lane_s_at(smp, sig.s), key, rule) for smp in lanes)
    # Default fixed-time plan: groups of one junction take turns (green, amber, all-red).
    by_junction: dict[int, list[str]] = defaultdict(list)
    for key, j in pending:
        by_junction[j].append(key)
    jid_of = {j: jid for jid, j in junction_index.items()}
    for j, keys in by_junction.items():
        green, amber, all_red = odr.plans.get(jid_of.get(j, ""), (DEFAULT_GREEN_S, DEFAULT_AMBER_S, DEFAULT_ALL_RED_S))
        slot = green + amber + all_red
        cycle = slot * len(keys)
        for i, key in enumerate(keys):
            t0 = i * slot
            intervals = [
                (t0, SignalState.GREEN),
                (t0 + green, SignalState.AMBER),
                (t0 + green + amber, SignalState.RED),
            ]
            if t0 > 0:
                intervals.insert(0, (0.0, SignalState.RED))
            groups[key] = b.add_signal_group(key, j, cycle, 0.0, intervals)
    # One stop line per lane (the last one set stays): a light beats a sign; of two signs, the one
    # nearer the lane's end; of two lights, the file's last.
    for lane, s, key, rule in sorted(stops, key=lambda st: (st[2] is not None, st[1] if st[2] is None else 0.0)):
        b.set_stop_line(lane, s, groups[key] if key is not None else -1, rule)


def _signal_junction(road: RoadDef, forward: bool, junction_index: dict[str, int]) -> int:
    if road.junction != "-1":
        return junction_index.get(road.junction, -1)
    lk = road.succ if forward else road.pred
    if lk is not None and lk.element_type == "junction":
        return junction_index.get(lk.element_id, -1)
    return -1


def _objects(b: NetworkBuilder, odr: OpenDriveMap) -> None:
    for road in odr.roads.values():
        for obj in road.objects:
            poly = _object_outline(road, obj)
            if poly is None:
                continue
            px, py, road_hdg = poly
            name = obj.name or obj.id or f"{road.id}:object"
            if obj.type == "crosswalk" or "crosswalk" in obj.name.lower():
                hdg = obj.hdg if obj.corners_road is None else 0.0
                _crosswalk(b, f"{road.id}:{obj.id or len(b.crosswalks)}", px, py, road_hdg, hdg)
            else:
                b.add_object(name, obj.type, px, py, obj.height)


def _object_outline(road: RoadDef, obj: ObjectDef) -> tuple[F64, F64, float] | None:
    xr, yr, hr = road.ref.evaluate(np.array([obj.s]))
    h = float(hr[0])
    ox = float(xr[0]) - obj.t * math.sin(h)
    oy = float(yr[0]) + obj.t * math.cos(h)
    if obj.corners_road is not None:
        xs, ys, hs = road.ref.evaluate(obj.corners_road[:, 0])
        t = obj.corners_road[:, 1]
        return xs - t * np.sin(hs), ys + t * np.cos(hs), h
    if obj.corners_local is not None:
        u, v = obj.corners_local[:, 0], obj.corners_local[:, 1]
    elif obj.length > 0 and obj.width > 0:
        u = np.array([-1, 1, 1, -1]) * obj.length / 2
        v = np.array([-1, -1, 1, 1]) * obj.width / 2
    elif obj.radius > 0:
        a = np.linspace(0, 2 * math.pi, 12, endpoint=False)
        u, v = obj.radius * np.cos(a), obj.radius * np.sin(a)
    else:
        return None
    ho = h + obj.hdg
    return ox + u * math.cos(ho) - v * math.sin(ho), oy + u * math.sin(ho) + v * math.cos(ho), h


def _crosswalk(b: NetworkBuilder, name: str, px: F64, py: F64, road_hdg: float, obj_hdg: float = 0.0) -> None:
    """Crosswalk as its bounding rectangle in its own frame (the road's turned by the object's
    ``hdg``, rad); the walking line runs along the frame axis nearer the road's normal, through
    the rectangle's middle, from kerb side to kerb side."""
    frame = road_hdg + obj_hdg
    # the frame axis nearer the road normal is "across" (the walking direction)
    if abs(math.cos(obj_hdg)) < abs(math.sin(obj_hdg)):
        frame -= math.pi / 2
    c, s = math.cos(frame), math.sin(frame)
    along = px * c + py * s
    across = -px * s + py * c
    a0, a1 = float(along.min()), float(along.max())
    t0, t1 = float(across.min()), float(across.max())
    ca = np.array([a0, a1, a1, a0])
    ct = np.array([t0, t0, t1, t1])
    am = 0.5 * (a0 + a1)
    ends_a = np.array([am, am])
    ends_t = np.array([t0, t1])
    b.add_crosswalk(name, ca * c - ct * s, ca * s + ct * c, ends_a * c - ends_t * s, ends_a * s + ends_t * c, -1)


def load_opendrive(
    source: str | os.PathLike[str] | None = None,
    *,
    text: str | bytes | None = None,
    limits: MapLimits | None = None,
) -> RoadNetwork:
    """Load an OpenDRIVE file (or ``text``) as a RoadNetwork; see the module docstring for names and scope.

    Tolerated defects are listed in ``RoadNetwork.warnings``; ``limits`` defaults to
    ``simcore.limits.map_limits()``.

    Raises:
        MapError: the file is unreadable, unsafe, malformed, inconsistent or over the limits
            (names file, road, lane).
    """
    limits = limits or map_limits()
    # A large map makes millions of small objects that all stay alive until the network is built:
    # the cyclic collector would rescan them again and again (quadratic in the map size) for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return build_network(parse_opendrive(source, text=text, limits=limits), limits)
    finally:
        if was_enabled:
            gc.enable()
