"""NetworkBuilder: collects lanes, links, crosswalks and signal plans, then freezes a RoadNetwork."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simcore._types import F64, LaneType, SignalState, StopRule
from simcore.road.network import RoadNetwork
from simcore.road.resample_kernels import resample_adaptive_kernel

#: Target spacing of centre-line samples (m). Small enough that a polyline through the
#: samples of a 10 m radius turn deviates from the true arc by < 1.3 cm.
SAMPLE_SPACING_M = 1.0


def resample_polyline(x: F64, y: F64, spacing: float = SAMPLE_SPACING_M) -> tuple[F64, F64, F64]:
    """Resample a dense polyline at (nearly) uniform arc length; returns (x, y, s)."""
    seg = np.hypot(np.diff(x), np.diff(y))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(s[-1])
    n = max(2, math.ceil(total / spacing - 1e-9) + 1)  # spacing never exceeds the target
    s_new = np.linspace(0.0, total, n)
    return np.interp(s_new, s, x), np.interp(s_new, s, y), s_new


#: Largest distance between a lane's adaptive samples and its dense centre line (m), see
#: ``resample_adaptive``.
CHORD_TOL_M = 0.004
#: Largest turn (rad) between dense segments of a polyline that ``resample_adaptive`` treats as straight.
STRAIGHT_TURN_RAD = 1e-9
#: Shortest spacing ``resample_adaptive`` uses on tight curves (m).
MIN_SAMPLE_SPACING_M = 0.1


def resample_adaptive(
    x: F64, y: F64, keep: np.ndarray | None = None, spacing: float = SAMPLE_SPACING_M, tol: float = CHORD_TOL_M
) -> tuple[F64, F64, F64]:
    """Resample a dense polyline with spacing set by its curvature; returns (x, y, s).

    Spacing ``h = sqrt(8 tol / |kappa|)`` (the chord of an arc of curvature kappa and length h
    deviates from it by ``kappa h^2 / 8``), clipped to [``MIN_SAMPLE_SPACING_M``, ``spacing``]; the
    dense vertices flagged in ``keep`` (kinks such as lane-width record starts) are kept exactly.
    Straight stretches get ``spacing`` like ``resample_polyline``.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    flags = np.zeros(x.shape[0], dtype=np.bool_) if keep is None else np.ascontiguousarray(keep, dtype=np.bool_)
    return resample_adaptive_kernel(x, y, flags, float(spacing), float(tol), MIN_SAMPLE_SPACING_M, STRAIGHT_TURN_RAD)


def heading_and_curvature(x: F64, y: F64, s: F64) -> tuple[F64, F64]:
    """Tangent heading (rad) and signed curvature (1/m) of a sampled curve, by finite differences."""
    # Second-order differences at the ends too, so end headings of tight curves are exact
    # to O(ds^2) and consecutive lanes join tangent-continuously.
    order = 2 if len(s) >= 3 else 1
    dx = np.gradient(x, s, edge_order=order)  # type: ignore[call-overload]
    dy = np.gradient(y, s, edge_order=order)  # type: ignore[call-overload]
    heading = np.arctan2(dy, dx)
    ddx = np.gradient(dx, s, edge_order=order)  # type: ignore[call-overload]
    ddy = np.gradient(dy, s, edge_order=order)  # type: ignore[call-overload]
    curvature = (dx * ddy - dy * ddx) / np.maximum((dx * dx + dy * dy) ** 1.5, 1e-12)
    return heading, curvature


def _csr_gradient(f: F64, s: F64, start: np.ndarray) -> F64:
    """``np.gradient(f, s, edge_order=2)`` of every polyline of a CSR set at once (edge order 1 for
    two-point polylines): one pass over the concatenation, then each polyline's ends redone with
    the one-sided formulas, so no difference ever spans two polylines."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.gradient(f, s) if f.size >= 2 else np.zeros_like(f)
    first, last = start[:-1], start[1:] - 1
    n = last - first + 1
    two = n == 2
    for a, b in ((first[two], last[two]),):
        d = (f[b] - f[a]) / (s[b] - s[a])
        out[a] = d
        out[b] = d
    many = n >= 3
    i0 = first[many]
    h1 = s[i0 + 1] - s[i0]
    h2 = s[i0 + 2] - s[i0 + 1]
    out[i0] = (
        -(2 * h1 + h2) / (h1 * (h1 + h2)) * f[i0]
        + (h1 + h2) / (h1 * h2) * f[i0 + 1]
        - h1 / (h2 * (h1 + h2)) * f[i0 + 2]
    )
    i1 = last[many]
    h1 = s[i1 - 1] - s[i1 - 2]
    h2 = s[i1] - s[i1 - 1]
    out[i1] = (
        h2 / (h1 * (h1 + h2)) * f[i1 - 2] - (h1 + h2) / (h1 * h2) * f[i1 - 1] + (2 * h2 + h1) / (h2 * (h1 + h2)) * f[i1]
    )
    return out


def headings_and_curvatures(x: F64, y: F64, s: F64, start: np.ndarray) -> tuple[F64, F64]:
    """``heading_and_curvature`` of every lane of a CSR point set (``start``: (n+1,) offsets) at once."""
    dx = _csr_gradient(x, s, start)
    dy = _csr_gradient(y, s, start)
    heading = np.arctan2(dy, dx)
    ddx = _csr_gradient(dx, s, start)
    ddy = _csr_gradient(dy, s, start)
    curvature = (dx * ddy - dy * ddx) / np.maximum((dx * dx + dy * dy) ** 1.5, 1e-12)
    return heading, curvature


def cubic_bezier(p0: F64, p1: F64, p2: F64, p3: F64, n: int = 200) -> tuple[F64, F64]:
    """Dense samples of a cubic Bezier curve through control points (each shape (2,))."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
    return pts[:, 0].copy(), pts[:, 1].copy()


@dataclass
class _Lane:
    name: str
    x: F64
    y: F64
    s: F64
    width: float
    lane_type: LaneType
    speed_limit: float
    junction: int = -1
    stop_s: float = float("nan")
    signal: int = -1
    rule: int = 0
    z: F64 | None = None
    widths: F64 | None = None
    roll: F64 | None = None
    speeds: F64 | None = None


@dataclass
class NetworkBuilder:
    """Mutable collector; call ``build()`` once to get the frozen ``RoadNetwork``."""

    lanes: list[_Lane] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    succ: list[tuple[int, int]] = field(default_factory=list)
    left: dict[int, int] = field(default_factory=dict)
    right: dict[int, int] = field(default_factory=dict)
    alias: dict[str, int] = field(default_factory=dict)
    crosswalks: list[tuple[str, F64, F64, F64, F64, int]] = field(default_factory=list)
    signals: list[tuple[str, int, float, float, list[tuple[float, SignalState]]]] = field(default_factory=list)
    junctions: list[tuple[str, float, float]] = field(default_factory=list)
    objects: list[tuple[str, str, F64, F64]] = field(default_factory=list)
    object_heights: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    signal_group_of: dict[str, str] = field(default_factory=dict)
    marks: list[tuple[F64, F64, str, str, float, int, str]] = field(default_factory=list)

    def add_lane(
        self,
        name: str,
        x: F64,
        y: F64,
        *,
        width: float,
        lane_type: LaneType = LaneType.DRIVING,
        speed_limit: float,
        junction: int = -1,
        z: F64 | None = None,
        width_profile: F64 | None = None,
        roll: F64 | None = None,
        adaptive: bool = False,
        keep: np.ndarray | None = None,
        speed_profile: F64 | None = None,
    ) -> int:
        """Add a lane from a dense centre line (resampled here); returns its index.

        Optional ``z`` (elevation, m) and ``width_profile`` (lane width, m) are given per dense
        point and resampled with the centre line; without them the lane is flat (z = 0) and
        ``width`` wide everywhere. Optional ``roll`` (rad, cross-section roll about the direction of
        travel, positive = right side down) likewise; without it the lane is level (0).
        ``adaptive`` resamples by curvature (``resample_adaptive``, keeping the dense points
        flagged in ``keep``) instead of every ``SAMPLE_SPACING_M``. Optional ``speed_profile``
        (m/s per dense point, e.g. from speed-limit signs part-way along) is kept per sample (the
        value in force from each sample on, not interpolated); ``speed_limit`` should be its maximum.
        """
        if name in self.index or name in self.alias:
            raise ValueError(f"duplicate lane name {name!r}")
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        rx, ry, rs = resample_adaptive(x, y, keep) if adaptive else resample_polyline(x, y)
        rz = rw = rr = rv = None
        if z is not None or width_profile is not None or roll is not None or speed_profile is not None:
            s_dense = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
            if speed_profile is not None:
                k = np.minimum(np.maximum(np.searchsorted(s_dense, rs + 1e-9, side="right") - 1, 0), len(s_dense) - 1)
                rv = np.asarray(speed_profile, float)[k]
            if z is not None:
                rz = np.interp(rs, s_dense, np.asarray(z, float))
            if width_profile is not None:
                rw = np.interp(rs, s_dense, np.asarray(width_profile, float))
            if roll is not None:
                rr = np.interp(rs, s_dense, np.asarray(roll, float))
        self.lanes.append(
            _Lane(name, rx, ry, rs, width, lane_type, speed_limit, junction, z=rz, widths=rw, roll=rr, speeds=rv)
        )
        self.index[name] = len(self.lanes) - 1
        return len(self.lanes) - 1

    def add_alias(self, alias: str, lane: int) -> None:
        """Let ``alias`` name ``lane`` too."""
        if alias in self.index or alias in self.alias:
            raise ValueError(f"duplicate lane name {alias!r}")
        self.alias[alias] = lane

    def link(self, from_lane: int, to_lane: int) -> None:
        """``from_lane`` continues into ``to_lane``."""
        self.succ.append((from_lane, to_lane))

    def neighbours(self, left_lane: int, right_lane: int) -> None:
        """Mark two same-direction lanes as left/right neighbours."""
        self.right[left_lane] = right_lane
        self.left[right_lane] = left_lane

    def set_stop_line(self, lane: int, s: float, signal: int, rule: StopRule = StopRule.LINE) -> None:
        """Put a stop line at arc length ``s`` of ``lane``, controlled by signal group ``signal``
        (-1: none) and, unsignalised, by a stop or yield sign (``rule``)."""
        self.lanes[lane].stop_s = s
        self.lanes[lane].signal = signal
        self.lanes[lane].rule = int(rule)

    def add_junction(self, name: str, x: float, y: float) -> int:
        """Register a junction; returns its index."""
        self.junctions.append((name, x, y))
        return len(self.junctions) - 1

    def add_crosswalk(self, name: str, poly_x: F64, poly_y: F64, end_x: F64, end_y: F64, signal: int) -> int:
        """Add a crosswalk polygon (4 corners) and its walking line ends (2 points)."""
        self.crosswalks.append((name, poly_x, poly_y, end_x, end_y, signal))
        return len(self.crosswalks) - 1

    def add_mark(
        self, x: F64, y: F64, kind: str, color: str, width: float, lane: int = -1, lane_change: str = "both"
    ) -> None:
        """Add a painted lane line (polyline, m ENU) of OpenDRIVE roadMark ``kind`` and ``color``,
        ``width`` m wide, bordering ``lane`` on its outer side (-1: the centre line)."""
        self.marks.append((np.asarray(x, float), np.asarray(y, float), kind, color, float(width), lane, lane_change))

    def add_object(self, name: str, kind: str, poly_x: F64, poly_y: F64, height: float = float("nan")) -> int:
        """Keep a static roadside object (building, pole, ...) as an outline polygon (m, ENU).

        ``height`` (m above the ground) is NaN when unknown.
        """
        self.objects.append((name, kind, np.asarray(poly_x, float), np.asarray(poly_y, float)))
        self.object_heights.append(float(height))
        return len(self.objects) - 1

    def add_signal_group(
        self,
        name: str,
        junction: int,
        cycle: float,
        offset: float,
        intervals: list[tuple[float, SignalState]],
    ) -> int:
        """Add a fixed-time signal group: ``intervals`` are (start in cycle [s], state), first at 0."""
        if not intervals or intervals[0][0] != 0.0:
            raise ValueError("a signal plan must start at t=0 in its cycle")
        self.signals.append((name, junction, cycle, offset, intervals))
        return len(self.signals) - 1

    def build(self) -> RoadNetwork:
        """Freeze everything into flat arrays."""
        n = len(self.lanes)
        counts = np.array([len(ln.x) for ln in self.lanes], dtype=np.int64)
        lane_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        pts_x = np.concatenate([ln.x for ln in self.lanes]) if self.lanes else np.zeros(0)
        pts_y = np.concatenate([ln.y for ln in self.lanes]) if self.lanes else np.zeros(0)
        pts_s = np.concatenate([ln.s for ln in self.lanes]) if self.lanes else np.zeros(0)
        heading, curvature = headings_and_curvatures(pts_x, pts_y, pts_s, lane_start)
        succ_sorted = sorted(set(self.succ))
        succ_counts = np.zeros(n, dtype=np.int64)
        for a, _ in succ_sorted:
            succ_counts[a] += 1
        succ_start = np.concatenate([[0], np.cumsum(succ_counts)]).astype(np.int64)
        succ_idx = np.array([b for _, b in succ_sorted], dtype=np.int64)
        plan_counts = [len(sg[4]) for sg in self.signals]
        plan_start = np.concatenate([[0], np.cumsum(plan_counts)]).astype(np.int64)
        plan_t0 = np.array([t for sg in self.signals for t, _ in sg[4]], dtype=np.float64)
        plan_state = np.array([int(st) for sg in self.signals for _, st in sg[4]], dtype=np.int8)
        ncw = len(self.crosswalks)

        def cw_arr(k: int, m: int) -> F64:
            if ncw == 0:
                return np.zeros((0, m))
            return np.array([c[k] for c in self.crosswalks], dtype=np.float64).reshape(ncw, m)

        return RoadNetwork(
            lane_names=tuple(ln.name for ln in self.lanes),
            lane_start=lane_start,
            pts_x=pts_x,
            pts_y=pts_y,
            pts_s=pts_s,
            pts_heading=heading,
            pts_curvature=curvature,
            lane_length=np.array([ln.s[-1] for ln in self.lanes]),
            lane_width=np.array([ln.width for ln in self.lanes]),
            lane_type=np.array([int(ln.lane_type) for ln in self.lanes], dtype=np.int8),
            lane_speed_limit=np.array([ln.speed_limit for ln in self.lanes]),
            lane_junction=np.array([ln.junction for ln in self.lanes], dtype=np.int64),
            lane_left=np.array([self.left.get(i, -1) for i in range(n)], dtype=np.int64),
            lane_right=np.array([self.right.get(i, -1) for i in range(n)], dtype=np.int64),
            succ_start=succ_start,
            succ_idx=succ_idx,
            lane_stop_s=np.array([ln.stop_s for ln in self.lanes]),
            lane_signal=np.array([ln.signal for ln in self.lanes], dtype=np.int64),
            lane_stop_rule=np.array([ln.rule for ln in self.lanes], dtype=np.int8),
            cw_names=tuple(c[0] for c in self.crosswalks),
            cw_x=cw_arr(1, 4),
            cw_y=cw_arr(2, 4),
            cw_end_x=cw_arr(3, 2),
            cw_end_y=cw_arr(4, 2),
            cw_signal=np.array([c[5] for c in self.crosswalks], dtype=np.int64),
            signal_names=tuple(sg[0] for sg in self.signals),
            signal_junction=np.array([sg[1] for sg in self.signals], dtype=np.int64),
            plan_cycle=np.array([sg[2] for sg in self.signals], dtype=np.float64),
            plan_offset=np.array([sg[3] for sg in self.signals], dtype=np.float64),
            plan_start=plan_start,
            plan_t0=plan_t0,
            plan_state=plan_state,
            junction_names=tuple(j[0] for j in self.junctions),
            junction_x=np.array([j[1] for j in self.junctions], dtype=np.float64),
            junction_y=np.array([j[2] for j in self.junctions], dtype=np.float64),
            alias=dict(self.alias),
            pts_z=np.concatenate([ln.z if ln.z is not None else np.zeros(len(ln.x)) for ln in self.lanes]),
            pts_width=np.concatenate(
                [ln.widths if ln.widths is not None else np.full(len(ln.x), ln.width) for ln in self.lanes]
            ),
            pts_roll=np.concatenate([ln.roll if ln.roll is not None else np.zeros(len(ln.x)) for ln in self.lanes]),
            obj_names=tuple(o[0] for o in self.objects),
            obj_kinds=tuple(o[1] for o in self.objects),
            obj_start=np.concatenate([[0], np.cumsum([len(o[2]) for o in self.objects])]).astype(np.int64),
            obj_x=np.concatenate([o[2] for o in self.objects]) if self.objects else np.zeros(0),
            obj_y=np.concatenate([o[3] for o in self.objects]) if self.objects else np.zeros(0),
            obj_height=np.array(self.object_heights, dtype=np.float64),
            warnings=tuple(self.warnings),
            signal_group_of=dict(self.signal_group_of),
            mark_start=np.concatenate([[0], np.cumsum([len(m[0]) for m in self.marks])]).astype(np.int64),
            mark_x=np.concatenate([m[0] for m in self.marks]) if self.marks else np.zeros(0),
            mark_y=np.concatenate([m[1] for m in self.marks]) if self.marks else np.zeros(0),
            mark_kinds=tuple(m[2] for m in self.marks),
            mark_colors=tuple(m[3] for m in self.marks),
            mark_width=np.array([m[4] for m in self.marks], dtype=np.float64),
            mark_lane=np.array([m[5] for m in self.marks], dtype=np.int64),
            mark_lane_change=tuple(m[6] for m in self.marks),
            pts_speed=np.concatenate(
                [ln.speeds if ln.speeds is not None else np.full(len(ln.x), ln.speed_limit) for ln in self.lanes]
            ),
        )
