"""RoadNetwork: the static road world as flat arrays (lanes, links, stop lines, crosswalks, signals)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simcore._types import F64, I64, LaneType, StopRule

#: Object kinds (lower case) that are markings on the road surface: drawn, never obstacles.
FLAT_OBJECT_KINDS = frozenset({"roadmark", "parkingspace", "patch", "crosswalk"})
#: Objects lower than this (m) are markings too (paint, flush covers); kerbs and barriers are taller.
MIN_SOLID_HEIGHT_M = 0.05


@dataclass(frozen=True)
class RoadNetwork:
    """Static road network; every array is read-only after build.

    Lanes are sampled centre lines in CSR form: lane ``i`` owns points
    ``lane_start[i]:lane_start[i+1]`` of ``pts_*``. Points are in the ENU world frame (m),
    ``pts_s`` is arc length from the lane start (m), ``pts_heading`` the tangent direction
    (rad, CCW from x) and ``pts_curvature`` the signed curvature (1/m, left positive).

    Attributes:
        lane_names: (n_lanes,) unique lane names used by scenario files.
        lane_start: (n_lanes+1,) CSR offsets into the point arrays.
        pts_x, pts_y, pts_s, pts_heading, pts_curvature: (n_pts,) centre-line samples.
        lane_length: (n_lanes,) m.
        lane_width: (n_lanes,) m (constant per lane in this version).
        lane_type: (n_lanes,) int8 ``LaneType``.
        lane_speed_limit: (n_lanes,) m/s.
        lane_junction: (n_lanes,) int64 junction index for connecting lanes, -1 elsewhere.
        lane_left, lane_right: (n_lanes,) neighbour lane with the same direction, -1 if none.
        succ_start, succ_idx: CSR successor lanes: lane ``i`` continues into
            ``succ_idx[succ_start[i]:succ_start[i+1]]``.
        lane_stop_s: (n_lanes,) s of the stop line on the lane (m), NaN if none.
        lane_signal: (n_lanes,) signal group controlling that stop line, -1 if unsignalised.
        cw_x, cw_y: (n_crosswalks, 4) crosswalk polygons (m).
        cw_names: (n_crosswalks,) names, e.g. ``"west"``.
        cw_end_x, cw_end_y: (n_crosswalks, 2) the two kerb-side ends of the walking line (m).
        cw_signal: (n_crosswalks,) pedestrian signal group, -1 if none.
        signal_names: (n_groups,) signal group names.
        signal_junction: (n_groups,) junction of each group.
        plan_cycle: (n_groups,) cycle length (s).
        plan_offset: (n_groups,) cycle offset (s).
        plan_start, plan_t0, plan_state: CSR per group of (start time in cycle [s], SignalState)
            intervals sorted by start time, the first starting at 0.
        junction_names: (n_junctions,) names.
        junction_x, junction_y: (n_junctions,) junction centres (m).
        alias: extra names that resolve to a lane (e.g. a grid road seen from both junctions).
        pts_z: (n_pts,) elevation of the centre-line samples (m, up); zeros for flat maps.
            ``None`` only for networks made without the builder.
        pts_width: (n_pts,) lane width at each sample (m); equals ``lane_width`` for constant-width
            lanes. ``None`` only for networks made without the builder.
        pts_roll: (n_pts,) cross-section roll (superelevation) at each sample (rad) about the lane's
            direction of travel, positive when the lane's right side is lower; zeros for level maps.
            ``None`` only for networks made without the builder.
        obj_names, obj_kinds: (n_objects,) static roadside objects (buildings, poles, barriers...)
            kept as outlines for later use (e.g. sensors); kinds are free-form (OpenDRIVE ``type`` in the
            standard's spelling, e.g. ``parkingSpace``, ``pole``, ``building``, ``obstacle``).
        obj_start, obj_x, obj_y: CSR outlines: object ``i`` owns vertices
            ``obj_start[i]:obj_start[i+1]`` of ``obj_x, obj_y`` (m, ENU; closed implicitly).
        obj_height: (n_objects,) height of each object's top above the ground (m), NaN where unknown
            (OpenDRIVE: ``zOffset + height``, NaN only for objects without any height).
        pts_speed: (n_pts,) speed limit in force from each sample on (m/s): speed-limit signs and
            ``<speed>``/road-type records part-way along a lane; at most ``lane_speed_limit`` of its
            lane (which rule zones lower). ``None`` only for networks made without the builder.
        warnings: defects the loader tolerated (dropped micro geometries or sections, dangling
            links), each located by file, road and lane; listed by ``simcore map info``.
        mark_start, mark_x, mark_y: CSR polylines of painted lane lines (OpenDRIVE lane ``<roadMark>``
            records): line ``i`` owns vertices ``mark_start[i]:mark_start[i+1]`` (m, ENU).
        mark_kinds, mark_colors, mark_lane_change: per line the roadMark ``type`` (``solid``,
            ``broken``, ``solid solid``, ...), ``color`` and ``laneChange`` in the standard's spelling.
        mark_width: (n_marks,) line width (m). mark_lane: (n_marks,) lane whose outer border the
            line follows, -1 for the centre line or a lane the network does not keep.
        lane_stop_rule: (n_lanes,) int8 ``StopRule`` of each lane's stop line (stop or yield sign,
            or a plain line); ``None`` (all plain lines) only for networks made without the builder.
        signal_group_of: OpenDRIVE signal id -> the name of the signal group it switches with
            (its ``<controller>``, or its junction approach); empty for other maps.
    """

    lane_names: tuple[str, ...]
    lane_start: I64
    pts_x: F64
    pts_y: F64
    pts_s: F64
    pts_heading: F64
    pts_curvature: F64
    lane_length: F64
    lane_width: F64
    lane_type: np.ndarray
    lane_speed_limit: F64
    lane_junction: I64
    lane_left: I64
    lane_right: I64
    succ_start: I64
    succ_idx: I64
    lane_stop_s: F64
    lane_signal: I64
    cw_names: tuple[str, ...]
    cw_x: F64
    cw_y: F64
    cw_end_x: F64
    cw_end_y: F64
    cw_signal: I64
    signal_names: tuple[str, ...]
    signal_junction: I64
    plan_cycle: F64
    plan_offset: F64
    plan_start: I64
    plan_t0: F64
    plan_state: np.ndarray
    junction_names: tuple[str, ...]
    junction_x: F64
    junction_y: F64
    alias: dict[str, int] = field(default_factory=dict)
    pts_z: F64 | None = None
    pts_width: F64 | None = None
    pts_roll: F64 | None = None
    obj_names: tuple[str, ...] = ()
    obj_kinds: tuple[str, ...] = ()
    obj_start: I64 = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    obj_x: F64 = field(default_factory=lambda: np.zeros(0))
    obj_y: F64 = field(default_factory=lambda: np.zeros(0))
    obj_height: F64 = field(default_factory=lambda: np.zeros(0))
    warnings: tuple[str, ...] = ()
    pts_speed: F64 | None = None
    signal_group_of: dict[str, str] = field(default_factory=dict)
    lane_stop_rule: np.ndarray | None = None
    mark_start: I64 = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    mark_x: F64 = field(default_factory=lambda: np.zeros(0))
    mark_y: F64 = field(default_factory=lambda: np.zeros(0))
    mark_kinds: tuple[str, ...] = ()
    mark_colors: tuple[str, ...] = ()
    mark_width: F64 = field(default_factory=lambda: np.zeros(0))
    mark_lane: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    mark_lane_change: tuple[str, ...] = ()

    @property
    def n_lanes(self) -> int:
        """Number of lanes."""
        return len(self.lane_names)

    @property
    def n_signals(self) -> int:
        """Number of signal groups."""
        return len(self.signal_names)

    def lane_id(self, name: str) -> int:
        """Index of the lane called ``name`` (or one of its aliases); KeyError if unknown."""
        idx = self._name_index.get(name)
        if idx is None:
            raise KeyError(name)
        return idx

    @property
    def _name_index(self) -> dict[str, int]:
        cache = self.__dict__.get("_name_cache")
        if cache is None:
            cache = {n: i for i, n in enumerate(self.lane_names)}
            cache.update(self.alias)
            object.__setattr__(self, "_name_cache", cache)
        return cache

    def memo(self, name: str) -> dict:
        """A dict kept on this (frozen) network under ``name``, for values derived from it once
        (route search tables, routes, projection indexes, map layers and the run log's map scene); created
        empty on first use."""
        cache = self.__dict__.get(name)
        if cache is None:
            cache = {}
            object.__setattr__(self, name, cache)
        return cache

    def all_lane_names(self) -> list[str]:
        """Lane names and aliases, sorted (for messages such as "did you mean")."""
        return sorted(self._name_index)

    def lane_points(self, lane: int) -> tuple[F64, F64, F64]:
        """(x, y, s) centre-line samples of one lane."""
        a, b = self.lane_start[lane], self.lane_start[lane + 1]
        return self.pts_x[a:b], self.pts_y[a:b], self.pts_s[a:b]

    def successors(self, lane: int) -> I64:
        """Lanes that ``lane`` continues into."""
        return self.succ_idx[self.succ_start[lane] : self.succ_start[lane + 1]]

    def predecessor_csr(self) -> tuple[I64, I64]:
        """(pred_start, pred_idx): the successor CSR inverted, lanes sorted, built once."""
        cached = self.__dict__.get("_pred_cache")
        if cached is None:
            counts = np.diff(self.succ_start)
            src = np.repeat(np.arange(self.n_lanes, dtype=np.int64), counts)
            order = np.lexsort((src, self.succ_idx))
            pred_idx = src[order]
            pred_start = np.zeros(self.n_lanes + 1, dtype=np.int64)
            np.add.at(pred_start, self.succ_idx + 1, 1)
            cached = (np.cumsum(pred_start).astype(np.int64), pred_idx)
            object.__setattr__(self, "_pred_cache", cached)
        return cached

    def predecessors(self, lane: int) -> I64:
        """Lanes that continue into ``lane``."""
        start, idx = self.predecessor_csr()
        return idx[start[lane] : start[lane + 1]]

    def solid_objects(self) -> np.ndarray:
        """(n_objects,) bool: objects vehicles can hit. Markings are not: kinds in
        ``FLAT_OBJECT_KINDS`` without a height, and anything lower than ``MIN_SOLID_HEIGHT_M``."""
        n = len(self.obj_names)
        h = np.asarray(self.obj_height, float) if self.obj_height.size == n else np.full(n, np.nan)
        flat_kind = np.array([k.lower() in FLAT_OBJECT_KINDS for k in self.obj_kinds[:n]], dtype=bool)
        if flat_kind.size < n:
            flat_kind = np.concatenate([flat_kind, np.zeros(n - flat_kind.size, dtype=bool)])
        return np.where(np.isfinite(h), h >= MIN_SOLID_HEIGHT_M, ~flat_kind)

    def stop_rules(self) -> np.ndarray:
        """(n_lanes,) int8 ``StopRule`` of each lane's stop line (LINE where unknown)."""
        if self.lane_stop_rule is None:
            return np.full(self.n_lanes, int(StopRule.LINE), dtype=np.int8)
        return self.lane_stop_rule

    def mark_line(self, i: int) -> tuple[F64, F64]:
        """(x, y) vertices of painted line ``i`` (m, ENU)."""
        a, b = self.mark_start[i], self.mark_start[i + 1]
        return self.mark_x[a:b], self.mark_y[a:b]

    def driving_mask(self) -> np.ndarray:
        """(n_lanes,) bool: lanes that are drivable area."""
        return self.lane_type == LaneType.DRIVING

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of all lane samples and crosswalks (m)."""
        xs = np.concatenate([self.pts_x, self.cw_x.ravel()])
        ys = np.concatenate([self.pts_y, self.cw_y.ravel()])
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
