"""Procedural maps: a signalised 4-way (or 3-way) intersection and grids of them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simcore._types import LaneType, SignalState
from simcore.road.builder import NetworkBuilder, cubic_bezier
from simcore.road.network import RoadNetwork
from simcore.units import deg_to_rad, kph_to_mps

#: Compass arms in the order their green phases run, with unit vectors pointing away from
#: the junction centre (ENU).
ARM_VECTORS: dict[str, tuple[float, float]] = {
    "north": (0.0, 1.0),
    "east": (1.0, 0.0),
    "south": (0.0, -1.0),
    "west": (-1.0, 0.0),
}
OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}

#: Bezier handle length of a quarter circle, as a fraction of the radius.
_KAPPA_QUARTER = 0.5523
#: Widths of the junction furniture (m).
CROSSWALK_WIDTH_M = 4.0
STOP_LINE_GAP_M = 1.0
SIDEWALK_WIDTH_M = 2.0
CORNER_MARGIN_M = 3.0


@dataclass(frozen=True)
class SignalTiming:
    """Fixed-time split phasing: each arm gets its own green, then an exclusive pedestrian phase.

    Attributes:
        green_s: green time per arm (s).
        amber_s: amber time per arm (s).
        all_red_s: clearance after each amber (s).
        pedestrian_s: walk time of the exclusive pedestrian phase (s); 0 disables it.
        pedestrian_clearance_s: flashing (AMBER) time after walk (s).
        offset_step_s: cycle offset added per junction column in grids (s), for green waves.
    """

    green_s: float = 12.0
    amber_s: float = 3.0
    all_red_s: float = 2.0
    pedestrian_s: float = 8.0
    pedestrian_clearance_s: float = 4.0
    offset_step_s: float = 0.0


@dataclass(frozen=True)
class IntersectionLayout:
    """Geometry of every generated junction.

    Attributes:
        arms: which compass arms exist (3 or 4 of north/east/south/west).
        lanes_per_direction: lanes in each direction on every arm.
        lane_width: m.
        speed_limit: m/s on approach and exit lanes.
        turn_speed_limit: m/s on turning connectors.
        crosswalks: whether each arm has a crosswalk (and the pedestrian phase runs).
        signals: signal timing, or None for an unsignalised junction.
    """

    arms: tuple[str, ...] = ("north", "east", "south", "west")
    lanes_per_direction: int = 2
    lane_width: float = 3.5
    speed_limit: float = kph_to_mps(50.0)
    turn_speed_limit: float = kph_to_mps(30.0)
    crosswalks: bool = True
    signals: SignalTiming | None = SignalTiming()

    @property
    def box_half(self) -> float:
        """Distance from junction centre to the junction box edge (m)."""
        return self.lanes_per_direction * self.lane_width + CORNER_MARGIN_M

    @property
    def stop_distance(self) -> float:
        """Distance from junction centre to every stop line (m)."""
        return self.box_half + CROSSWALK_WIDTH_M + STOP_LINE_GAP_M


def _lane_offset(u: np.ndarray, k: int, incoming: bool, width: float) -> np.ndarray:
    """Lateral offset of lane ``k`` (1 = next to the centre line) on the arm along ``u``.

    Right-hand traffic: incoming lanes lie on the left normal ``n`` of ``u``, outgoing on ``-n``.
    """
    n = np.array([-u[1], u[0]])
    side = 1.0 if incoming else -1.0
    return side * (k - 0.5) * width * n


def _turn_kind(arm_from: str, arm_to: str) -> str:
    """'straight', 'left' or 'right' for a movement entering from ``arm_from`` and leaving by ``arm_to``."""
    if OPPOSITE[arm_from] == arm_to:
        return "straight"
    u = np.array(ARM_VECTORS[arm_from])
    h = -u
    left = np.array([-h[1], h[0]])
    return "left" if np.allclose(np.array(ARM_VECTORS[arm_to]), left) else "right"


def _compass(v: np.ndarray) -> str:
    for name, vec in ARM_VECTORS.items():
        if np.allclose(v, vec):
            return name
    raise ValueError(v)


def _signal_plan(
    arms: tuple[str, ...], timing: SignalTiming, with_pedestrians: bool
) -> tuple[float, dict[str, list[tuple[float, SignalState]]], list[tuple[float, SignalState]]]:
    """Split-phase plan: returns (cycle, per-arm vehicle intervals, pedestrian intervals)."""
    t = 0.0
    phases = {}
    for arm in arms:
        phases[arm] = (t, t + timing.green_s, t + timing.green_s + timing.amber_s)
        t += timing.green_s + timing.amber_s + timing.all_red_s
    ped = None
    if with_pedestrians and timing.pedestrian_s > 0:
        ped = (t, t + timing.pedestrian_s, t + timing.pedestrian_s + timing.pedestrian_clearance_s)
        t += timing.pedestrian_s + timing.pedestrian_clearance_s + timing.all_red_s
    cycle = t

    def intervals(g0: float, a0: float, r0: float) -> list[tuple[float, SignalState]]:
        out: list[tuple[float, SignalState]] = []
        if g0 > 0:
            out.append((0.0, SignalState.RED))
        out += [(g0, SignalState.GREEN), (a0, SignalState.AMBER)]
        if r0 < cycle:
            out.append((r0, SignalState.RED))
        return out

    veh = {arm: intervals(*phases[arm]) for arm in arms}
    ped_iv = intervals(*ped) if ped else [(0.0, SignalState.RED)]
    return cycle, veh, ped_iv


def generate_grid(
    rows: int = 1,
    cols: int = 1,
    *,
    block_m: float = 120.0,
    arm_length_m: float = 80.0,
    layout: IntersectionLayout | None = None,
) -> RoadNetwork:
    """Generate a ``rows`` x ``cols`` grid of signalised junctions joined by two-way roads.

    Junction (r, c) sits at (c * block_m, r * block_m); boundary arms are stubs of
    ``arm_length_m`` from the junction centre. A single junction (1 x 1) names its lanes
    ``south_in_1`` ... and its junction ``center``; grids prefix names with ``r{r}c{c}.``
    and a road between two junctions is one lane per direction and name, reachable under
    both junctions' names (e.g. ``r0c0.east_out_1`` is also ``r0c1.west_in_1``).

    Lane ``k = 1`` is the innermost lane (next to the centre line). Turning rules: left
    turns from lane 1 into lane 1, right turns from the outermost lane into the outermost,
    straight on from every lane into the same-numbered lane.
    """
    return _grid_builder(rows, cols, block_m=block_m, arm_length_m=arm_length_m, layout=layout).build()


def _grid_builder(
    rows: int, cols: int, *, block_m: float, arm_length_m: float, layout: IntersectionLayout | None
) -> NetworkBuilder:
    """``generate_grid`` up to (not including) ``build()``."""
    lay = layout or IntersectionLayout()
    if rows < 1 or cols < 1:
        raise ValueError("a grid needs at least one row and one column")
    nl = lay.lanes_per_direction
    w = lay.lane_width
    d_stop = lay.stop_distance
    single = rows == 1 and cols == 1
    if single and len(lay.arms) < 3:
        raise ValueError("an intersection needs 3 or 4 arms")
    if not single and block_m < 2 * d_stop + 10.0:
        raise ValueError(f"block_m must be at least {2 * d_stop + 10.0:.1f} m for this layout")
    if arm_length_m < d_stop + 10.0:
        raise ValueError(f"arm_length_m must be at least {d_stop + 10.0:.1f} m for this layout")
    b = NetworkBuilder()

    def jname(r: int, c: int) -> str:
        return "center" if single else f"r{r}c{c}"

    def prefix(r: int, c: int) -> str:
        return "" if single else f"r{r}c{c}."

    def arms_of(r: int, c: int) -> tuple[str, ...]:
        return lay.arms if single else ("north", "east", "south", "west")

    def neighbour(r: int, c: int, arm: str) -> tuple[int, int] | None:
        dr, dc = {"north": (1, 0), "south": (-1, 0), "east": (0, 1), "west": (0, -1)}[arm]
        rr, cc = r + dr, c + dc
        return (rr, cc) if 0 <= rr < rows and 0 <= cc < cols else None

    # Lanes on arms: out lanes are created by the junction they leave; in lanes of a boundary
    # arm are created by their junction; in lanes of an inner road alias the neighbour's out lane.
    lane_in: dict[tuple[int, int, str, int], int] = {}
    lane_out: dict[tuple[int, int, str, int], int] = {}
    for r in range(rows):
        for c in range(cols):
            centre = np.array([c * block_m, r * block_m])
            for arm in arms_of(r, c):
                u = np.array(ARM_VECTORS[arm])
                nb = neighbour(r, c, arm)
                far = (block_m - d_stop) if nb else arm_length_m
                for k in range(1, nl + 1):
                    off = _lane_offset(u, k, incoming=False, width=w)
                    p0 = centre + u * d_stop + off
                    p1 = centre + u * far + off
                    name = f"{prefix(r, c)}{arm}_out_{k}"
                    lane_out[(r, c, arm, k)] = b.add_lane(
                        name,
                        np.array([p0[0], p1[0]]),
                        np.array([p0[1], p1[1]]),
                        width=w,
                        speed_limit=lay.speed_limit,
                    )
                    if nb is None:
                        off_in = _lane_offset(u, k, incoming=True, width=w)
                        q0 = centre + u * arm_length_m + off_in
                        q1 = centre + u * d_stop + off_in
                        lane_in[(r, c, arm, k)] = b.add_lane(
                            f"{prefix(r, c)}{arm}_in_{k}",
                            np.array([q0[0], q1[0]]),
                            np.array([q0[1], q1[1]]),
                            width=w,
                            speed_limit=lay.speed_limit,
                        )
                for side in (+1.0, -1.0):
                    n = np.array([-u[1], u[0]]) * side
                    off = n * (nl * w + SIDEWALK_WIDTH_M / 2)
                    # From just past the crosswalk (clear of the corner the right turns sweep)
                    # to the arm end, or to mid-block where the neighbour's half begins.
                    p0 = centre + u * (lay.box_half + CROSSWALK_WIDTH_M + 0.5) + off
                    p1 = centre + u * (block_m / 2 if nb else far) + off
                    tag = _compass(np.round(n))
                    b.add_lane(
                        f"{prefix(r, c)}{arm}_sidewalk_{tag}",
                        np.array([p0[0], p1[0]]),
                        np.array([p0[1], p1[1]]),
                        width=SIDEWALK_WIDTH_M,
                        lane_type=LaneType.SIDEWALK,
                        speed_limit=2.0,
                    )
    for r in range(rows):
        for c in range(cols):
            for arm in arms_of(r, c):
                nb = neighbour(r, c, arm)
                if nb is None:
                    continue
                for k in range(1, nl + 1):
                    lane = lane_out[(nb[0], nb[1], OPPOSITE[arm], k)]
                    lane_in[(r, c, arm, k)] = lane
                    b.add_alias(f"{prefix(r, c)}{arm}_in_{k}", lane)
    for (r, c, arm, k), lane in lane_out.items():
        if k < nl:
            b.neighbours(lane, lane_out[(r, c, arm, k + 1)])
    for r in range(rows):
        for c in range(cols):
            for arm in arms_of(r, c):
                if neighbour(r, c, arm) is None:
                    for k in range(1, nl):
                        b.neighbours(lane_in[(r, c, arm, k)], lane_in[(r, c, arm, k + 1)])

    # Junctions: connectors, stop lines, crosswalks, signals.
    for r in range(rows):
        for c in range(cols):
            centre = np.array([c * block_m, r * block_m])
            arms = arms_of(r, c)
            j = b.add_junction(jname(r, c), float(centre[0]), float(centre[1]))
            groups: dict[str, int] = {}
            ped_group = -1
            if lay.signals is not None:
                cycle, veh, ped = _signal_plan(arms, lay.signals, lay.crosswalks)
                offset = lay.signals.offset_step_s * c
                for arm in arms:
                    groups[arm] = b.add_signal_group(f"{prefix(r, c)}{arm}", j, cycle, offset, veh[arm])
                if lay.crosswalks and lay.signals.pedestrian_s > 0:
                    ped_group = b.add_signal_group(f"{prefix(r, c)}pedestrians", j, cycle, offset, ped)
            for arm_from in arms:
                u_in = np.array(ARM_VECTORS[arm_from])
                for k in range(1, nl + 1):
                    lin = lane_in[(r, c, arm_from, k)]
                    length = float(b.lanes[lin].s[-1])
                    b.set_stop_line(lin, length, groups.get(arm_from, -1))
                for arm_to in arms:
                    if arm_to == arm_from:
                        continue
                    kind = _turn_kind(arm_from, arm_to)
                    if kind == "straight":
                        pairs = [(k, k) for k in range(1, nl + 1)]
                    elif kind == "left":
                        pairs = [(1, 1)]
                    else:
                        pairs = [(nl, nl)]
                    u_out = np.array(ARM_VECTORS[arm_to])
                    for k_in, k_out in pairs:
                        p0 = centre + u_in * d_stop + _lane_offset(u_in, k_in, True, w)
                        p3 = centre + u_out * d_stop + _lane_offset(u_out, k_out, False, w)
                        h0, h1 = -u_in, u_out
                        if kind == "straight":
                            xs, ys = np.array([p0[0], p3[0]]), np.array([p0[1], p3[1]])
                            limit = lay.speed_limit
                        else:
                            # Corner where the two lane lines meet: p0 + h0*a = p3 - h1*b.
                            mat = np.column_stack([h0, h1])
                            a_len, b_len = np.linalg.solve(mat, p3 - p0)
                            xs, ys = cubic_bezier(
                                p0, p0 + h0 * _KAPPA_QUARTER * a_len, p3 - h1 * _KAPPA_QUARTER * b_len, p3
                            )
                            limit = lay.turn_speed_limit
                        name = f"{prefix(r, c)}{arm_from}_in_{k_in}>{arm_to}_out_{k_out}"
                        conn = b.add_lane(name, xs, ys, width=w, speed_limit=limit, junction=j)
                        b.link(lane_in[(r, c, arm_from, k_in)], conn)
                        b.link(conn, lane_out[(r, c, arm_to, k_out)])
            if lay.crosswalks:
                half = nl * w + 1.0
                for arm in arms:
                    u = np.array(ARM_VECTORS[arm])
                    n = np.array([-u[1], u[0]])
                    d0, d1 = lay.box_half, lay.box_half + CROSSWALK_WIDTH_M
                    corners = [
                        centre + u * d0 + n * half,
                        centre + u * d1 + n * half,
                        centre + u * d1 - n * half,
                        centre + u * d0 - n * half,
                    ]
                    dm = (d0 + d1) / 2
                    ends = [centre + u * dm - n * (half + 0.5), centre + u * dm + n * (half + 0.5)]
                    b.add_crosswalk(
                        f"{prefix(r, c)}{arm}",
                        np.array([p[0] for p in corners]),
                        np.array([p[1] for p in corners]),
                        np.array([p[0] for p in ends]),
                        np.array([p[1] for p in ends]),
                        ped_group,
                    )
    return b


@dataclass(frozen=True)
class BuildingLayout:
    """Buildings of ``generate_city``.

    Attributes:
        setback_m: gap between the back of the sidewalk and the buildings (m).
        lot_m: target frontage of one building (m); each block is split into lots of about this size.
        gap_m: gap between neighbouring buildings of a block (m).
        min_height_m, max_height_m: building heights are drawn uniformly from this range (m).
        seed: random seed of the heights (the footprints do not depend on it).
    """

    setback_m: float = 2.0
    lot_m: float = 30.0
    gap_m: float = 3.0
    min_height_m: float = 8.0
    max_height_m: float = 40.0
    seed: int = 0


def city_blocks(
    rows: int,
    cols: int,
    *,
    block_m: float = 120.0,
    arm_length_m: float = 80.0,
    layout: IntersectionLayout | None = None,
    setback_m: float = 2.0,
) -> list[tuple[str, float, float, float, float]]:
    """Buildable area of every block of ``generate_grid(rows, cols, ...)``: (name, xmin, ymin, xmax, ymax).

    Blocks are the cells between the grid's road centre lines, including the outer cells up to the
    ends of the boundary arms (``block_r{i}c{j}`` with i in 0..rows and j in 0..cols, from the
    south-west). A side along a road is inset by the road's half width (all lanes), the sidewalk
    and ``setback_m``; a side at the map's edge by ``setback_m`` only.
    """
    lay = layout or IntersectionLayout()
    inset = lay.lanes_per_direction * lay.lane_width + SIDEWALK_WIDTH_M + setback_m
    xs = [-arm_length_m] + [c * block_m for c in range(cols)] + [(cols - 1) * block_m + arm_length_m]
    ys = [-arm_length_m] + [r * block_m for r in range(rows)] + [(rows - 1) * block_m + arm_length_m]
    out = []
    for i in range(rows + 1):
        for j in range(cols + 1):
            x0 = xs[j] + (inset if j > 0 else setback_m)
            x1 = xs[j + 1] - (inset if j < cols else setback_m)
            y0 = ys[i] + (inset if i > 0 else setback_m)
            y1 = ys[i + 1] - (inset if i < rows else setback_m)
            if x1 > x0 and y1 > y0:
                out.append((f"block_r{i}c{j}", x0, y0, x1, y1))
    return out


def generate_city(
    rows: int = 2,
    cols: int = 2,
    *,
    block_m: float = 120.0,
    arm_length_m: float = 80.0,
    layout: IntersectionLayout | None = None,
    buildings: BuildingLayout | None = None,
) -> RoadNetwork:
    """``generate_grid`` plus buildings: every block (see ``city_blocks``) is filled with rectangular
    buildings (objects of kind ``"building"`` named ``"{block}.b{k}"``, with heights in ``obj_height``).

    A 4-arm junction layout is required (every grid junction has four arms anyway). The buildings
    stay behind the sidewalks, so they never overlap lanes, sidewalks or crosswalks.
    """
    if layout is not None and len(layout.arms) != 4 and rows == cols == 1:
        raise ValueError("generate_city needs 4-arm junctions")
    bl = buildings or BuildingLayout()
    if not (0 < bl.min_height_m <= bl.max_height_m):
        raise ValueError("building heights need 0 < min_height_m <= max_height_m")
    b = _grid_builder(rows, cols, block_m=block_m, arm_length_m=arm_length_m, layout=layout)
    rng = np.random.default_rng(bl.seed)
    for name, x0, y0, x1, y1 in city_blocks(
        rows, cols, block_m=block_m, arm_length_m=arm_length_m, layout=layout, setback_m=bl.setback_m
    ):
        nx = max(1, round((x1 - x0) / bl.lot_m))
        ny = max(1, round((y1 - y0) / bl.lot_m))
        ex = np.linspace(x0, x1, nx + 1)
        ey = np.linspace(y0, y1, ny + 1)
        k = 0
        for iy in range(ny):
            for ix in range(nx):
                # Half a gap off every inner lot edge; the block's outer edges stay on the block.
                bx0 = ex[ix] + (bl.gap_m / 2 if ix > 0 else 0.0)
                bx1 = ex[ix + 1] - (bl.gap_m / 2 if ix < nx - 1 else 0.0)
                by0 = ey[iy] + (bl.gap_m / 2 if iy > 0 else 0.0)
                by1 = ey[iy + 1] - (bl.gap_m / 2 if iy < ny - 1 else 0.0)
                if bx1 - bx0 < 1.0 or by1 - by0 < 1.0:
                    continue
                height = float(rng.uniform(bl.min_height_m, bl.max_height_m))
                b.add_object(
                    f"{name}.b{k}", "building", np.array([bx0, bx1, bx1, bx0]), np.array([by0, by0, by1, by1]), height
                )
                k += 1
    return b.build()


#: A crosswalk end lies on a compass side when its walking line points within this angle (rad) of
#: that side: over 45 degrees, so every crosswalk, at any orientation, has two opposite sides.
CROSSWALK_SIDE_TOL_RAD = deg_to_rad(50.0)


def crosswalk_end_index(net: RoadNetwork, crosswalk: int, side: str) -> int:
    """Which end (0 or 1) of a crosswalk's walking line lies on compass ``side`` (within
    ``CROSSWALK_SIDE_TOL_RAD``; at 45 degrees both neighbouring sides name the same end);
    ValueError if none."""
    ex, ey = net.cw_end_x[crosswalk], net.cw_end_y[crosswalk]
    vec = np.array([ex[1] - ex[0], ey[1] - ey[0]])
    vec = vec / np.linalg.norm(vec)
    target = np.array(ARM_VECTORS[side]) if side in ARM_VECTORS else None
    if target is None:
        raise ValueError(f"unknown side {side!r}")
    dot = float(vec @ target)
    cos_tol = math.cos(CROSSWALK_SIDE_TOL_RAD)
    if dot > cos_tol:
        return 1
    if dot < -cos_tol:
        return 0
    raise ValueError(f"crosswalk {net.cw_names[crosswalk]!r} has no {side} end")
