"""Sensor scene: the world as ray-castable geometry (actor boxes, extruded prisms, ground heightfield).

Everything is in the ENU world frame (m, rad) as flat numpy arrays, so Numba kernels take the
fields directly. ``build_scene(world)`` builds the static part once (buildings and roadside objects
as extruded polygons with a uniform broad-phase grid, the ground height and class grids) and
``update_actors(scene, world)`` refreshes the actor boxes from ``world.state`` before each scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from simcore._types import F64, I64, ActorKind, LaneType

if TYPE_CHECKING:
    from simcore.road.network import RoadNetwork
    from simcore.world import World


class SemanticClass(IntEnum):
    """Semantic class of a surface (lidar/camera/radar outputs)."""

    NONE = 0
    ROAD = 1
    SIDEWALK = 2
    LANE_MARKING = 3
    GROUND = 4
    BUILDING = 5
    STATIC_OBJECT = 6
    POLE = 7
    VEGETATION = 8
    VEHICLE = 9
    PEDESTRIAN = 10
    CYCLIST = 11


#: Default actor heights (m) where ``world.params`` has no ``height``.
DEFAULT_HEIGHT_M = {ActorKind.VEHICLE: 1.5, ActorKind.PEDESTRIAN: 1.75, ActorKind.CYCLIST: 1.7}
#: Semantic class of each actor kind.
KIND_CLASS = {
    ActorKind.VEHICLE: SemanticClass.VEHICLE,
    ActorKind.PEDESTRIAN: SemanticClass.PEDESTRIAN,
    ActorKind.CYCLIST: SemanticClass.CYCLIST,
}
#: Static object kinds (``RoadNetwork.obj_kinds``, lower case) -> (class, default height m where NaN).
OBJECT_KINDS: dict[str, tuple[SemanticClass, float]] = {
    "building": (SemanticClass.BUILDING, 10.0),
    "pole": (SemanticClass.POLE, 5.0),
    "streetlamp": (SemanticClass.POLE, 6.0),
    "tree": (SemanticClass.VEGETATION, 6.0),
    "vegetation": (SemanticClass.VEGETATION, 2.0),
}
#: Default (class, height) of other object kinds (barriers, obstacles, ...).
OTHER_OBJECT = (SemanticClass.STATIC_OBJECT, 1.0)
#: Broad-phase grid cell over the prisms (m).
PRISM_CELL_M = 16.0
#: Ground grid node spacing (m) and margin around the map (m).
GROUND_CELL_M = 0.5
GROUND_MARGIN_M = 20.0


def _empty_f() -> F64:
    return np.zeros(0)


def _empty_i8() -> np.ndarray:
    return np.zeros(0, dtype=np.int8)


@dataclass
class Scene:
    """Ray-castable world (ENU, m, rad); all fields are flat numpy arrays or scalars.

    Actors (one entry per ``WorldState`` row, same order): ``box_cx, box_cy, box_cz`` box centre
    (``box_cz`` = ground z + half height), ``box_yaw``, half extents ``box_hl, box_hw, box_hh``,
    world velocity ``box_vx, box_vy`` (m/s), ``box_class`` (int8 ``SemanticClass``), ``box_active``.

    Static prisms (extruded polygons, vertices counter-clockwise): prism ``p`` owns vertices
    ``poly_start[p]:poly_start[p+1]`` of ``poly_x, poly_y`` and spans ``poly_zmin..poly_zmax`` (m);
    ``poly_class`` int8. Broad phase: a uniform grid with origin ``(grid_x0, grid_y0)``, cell edge
    ``grid_cell``, ``grid_nx x grid_ny`` cells; cell ``c = iy * grid_nx + ix`` lists prisms
    ``grid_items[grid_start[c]:grid_start[c+1]]``.

    Ground: node ``(ix, iy)`` of ``ground_z[iy, ix]`` lies at ``(ground_x0 + ix * ground_cell,
    ground_y0 + iy * ground_cell)``; heights are interpolated bilinearly and clamped to the edge
    outside the grid. ``ground_class[iy, ix]`` (same shape, int8) is the class at that node; a point
    takes the class of its nearest node (GROUND outside the grid). ``ground_flat`` is True when every
    node has the same height (then ray-ground hits are exact closed forms).

    ``box_instance`` (int32) is the scenario instance of each row (stacked runs); sensors see only
    their own instance.
    """

    box_cx: F64 = field(default_factory=_empty_f)
    box_cy: F64 = field(default_factory=_empty_f)
    box_cz: F64 = field(default_factory=_empty_f)
    box_yaw: F64 = field(default_factory=_empty_f)
    box_hl: F64 = field(default_factory=_empty_f)
    box_hw: F64 = field(default_factory=_empty_f)
    box_hh: F64 = field(default_factory=_empty_f)
    box_vx: F64 = field(default_factory=_empty_f)
    box_vy: F64 = field(default_factory=_empty_f)
    box_class: np.ndarray = field(default_factory=_empty_i8)
    box_active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    poly_start: I64 = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    poly_x: F64 = field(default_factory=_empty_f)
    poly_y: F64 = field(default_factory=_empty_f)
    poly_zmin: F64 = field(default_factory=_empty_f)
    poly_zmax: F64 = field(default_factory=_empty_f)
    poly_class: np.ndarray = field(default_factory=_empty_i8)
    grid_x0: float = 0.0
    grid_y0: float = 0.0
    grid_cell: float = PRISM_CELL_M
    grid_nx: int = 1
    grid_ny: int = 1
    grid_start: I64 = field(default_factory=lambda: np.zeros(2, dtype=np.int64))
    grid_items: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ground_x0: float = 0.0
    ground_y0: float = 0.0
    ground_cell: float = GROUND_CELL_M
    ground_nx: int = 1
    ground_ny: int = 1
    ground_z: F64 = field(default_factory=lambda: np.zeros((1, 1)))
    ground_class: np.ndarray = field(default_factory=lambda: np.full((1, 1), SemanticClass.GROUND, dtype=np.int8))
    ground_flat: bool = True
    box_instance: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    @property
    def n_boxes(self) -> int:
        """Number of actor boxes."""
        return int(self.box_cx.size)

    @property
    def n_prisms(self) -> int:
        """Number of static prisms."""
        return int(self.poly_start.size - 1)

    def prism_args(self) -> tuple:
        """Prism and broad-phase grid arrays in kernel argument order."""
        return (
            self.poly_start, self.poly_x, self.poly_y, self.poly_zmin, self.poly_zmax, self.poly_class,
            float(self.grid_x0), float(self.grid_y0), float(self.grid_cell), int(self.grid_nx), int(self.grid_ny),
            self.grid_start, self.grid_items,
        )  # fmt: skip

    def box_args(self) -> tuple:
        """Actor box arrays in kernel argument order."""
        return (
            self.box_cx, self.box_cy, self.box_cz, self.box_yaw, self.box_hl, self.box_hw, self.box_hh,
            self.box_vx, self.box_vy, self.box_class, self.box_active,
        )  # fmt: skip

    def ground_args(self) -> tuple:
        """Ground grid arrays in kernel argument order."""
        return (
            float(self.ground_x0), float(self.ground_y0), float(self.ground_cell), int(self.ground_nx),
            int(self.ground_ny), self.ground_z, self.ground_class, bool(self.ground_flat),
        )  # fmt: skip

    def ground_height(self, x: F64 | float, y: F64 | float) -> F64:
        """Ground height (m) at world points (bilinear in the node grid, clamped at the edges)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        gx = np.clip((x - self.ground_x0) / self.ground_cell, 0.0, self.ground_nx - 1.0)
        gy = np.clip((y - self.ground_y0) / self.ground_cell, 0.0, self.ground_ny - 1.0)
        ix = np.minimum(np.floor(gx).astype(np.int64), max(self.ground_nx - 2, 0))
        iy = np.minimum(np.floor(gy).astype(np.int64), max(self.ground_ny - 2, 0))
        fx, fy = gx - ix, gy - iy
        z = self.ground_z
        ix1 = np.minimum(ix + 1, self.ground_nx - 1)
        iy1 = np.minimum(iy + 1, self.ground_ny - 1)
        return (z[iy, ix] * (1 - fx) + z[iy, ix1] * fx) * (1 - fy) + (z[iy1, ix] * (1 - fx) + z[iy1, ix1] * fx) * fy


# --------------------------------------------------------------------------------------------- static part


def _ccw(px: F64, py: F64) -> tuple[F64, F64]:
    """Drop a repeated closing vertex and order the vertices counter-clockwise."""
    if px.size > 1 and px[0] == px[-1] and py[0] == py[-1]:
        px, py = px[:-1], py[:-1]
    area2 = float(np.sum(px * np.roll(py, -1) - np.roll(px, -1) * py))
    if area2 < 0:
        px, py = px[::-1], py[::-1]
    return np.ascontiguousarray(px, dtype=float), np.ascontiguousarray(py, dtype=float)


def set_prisms(
    scene: Scene,
    prisms: list[tuple[F64, F64, float, float, int]],
    cell: float = PRISM_CELL_M,
) -> None:
    """Replace the static prisms of ``scene`` by ``prisms`` (each ``(xs, ys, zmin, zmax, class)``, m)
    and rebuild the broad-phase grid (cells of ``cell`` m, one spare cell around)."""
    if not cell > 0:
        raise ValueError(f"prism grid cell must be positive, got {cell}")
    xs_l, ys_l, zmin, zmax, cls, start = [], [], [], [], [], [0]
    for i, (px, py, z0, z1, c) in enumerate(prisms):
        px, py = _ccw(np.asarray(px, dtype=float), np.asarray(py, dtype=float))
        if px.size < 3:
            raise ValueError(f"prism {i}: a polygon needs at least 3 vertices, got {px.size}")
        if not z1 > z0:
            raise ValueError(f"prism {i}: zmax ({z1}) must exceed zmin ({z0})")
        xs_l.append(px)
        ys_l.append(py)
        zmin.append(float(z0))
        zmax.append(float(z1))
        cls.append(int(c))
        start.append(start[-1] + px.size)
    scene.poly_start = np.array(start, dtype=np.int64)
    scene.poly_x = np.concatenate(xs_l) if xs_l else np.zeros(0)
    scene.poly_y = np.concatenate(ys_l) if ys_l else np.zeros(0)
    scene.poly_zmin = np.array(zmin, dtype=float)
    scene.poly_zmax = np.array(zmax, dtype=float)
    scene.poly_class = np.array(cls, dtype=np.int8)
    n = len(xs_l)
    if n:
        x0 = float(scene.poly_x.min()) - cell
        y0 = float(scene.poly_y.min()) - cell
        nx = int(np.ceil((float(scene.poly_x.max()) + cell - x0) / cell))
        ny = int(np.ceil((float(scene.poly_y.max()) + cell - y0) / cell))
    else:
        x0 = y0 = 0.0
        nx = ny = 1
    cells: list[list[int]] = [[] for _ in range(nx * ny)]
    pad = 1e-6
    for p in range(n):
        px, py = xs_l[p], ys_l[p]
        ix0 = int((px.min() - pad - x0) // cell)
        ix1 = int((px.max() + pad - x0) // cell)
        iy0 = int((py.min() - pad - y0) // cell)
        iy1 = int((py.max() + pad - y0) // cell)
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                cells[iy * nx + ix].append(p)
    counts = np.array([len(c) for c in cells], dtype=np.int64)
    scene.grid_x0, scene.grid_y0, scene.grid_cell, scene.grid_nx, scene.grid_ny = x0, y0, float(cell), nx, ny
    scene.grid_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    scene.grid_items = np.array([p for c in cells for p in c], dtype=np.int64)


def set_ground(
    scene: Scene,
    x0: float,
    y0: float,
    cell: float,
    z: F64,
    cls: np.ndarray | None = None,
) -> None:
    """Set the ground grid: node heights ``z[iy, ix]`` (m) at ``(x0 + ix*cell, y0 + iy*cell)`` and
    their classes (default GROUND everywhere)."""
    z = np.ascontiguousarray(np.atleast_2d(np.asarray(z, dtype=float)))
    if not cell > 0:
        raise ValueError(f"ground cell must be positive, got {cell}")
    if cls is None:
        cls = np.full(z.shape, SemanticClass.GROUND, dtype=np.int8)
    cls = np.ascontiguousarray(cls, dtype=np.int8)
    if cls.shape != z.shape:
        raise ValueError(f"ground class grid {cls.shape} and height grid {z.shape} differ in shape")
    if not np.all(np.isfinite(z)):
        raise ValueError("ground heights must be finite")
    scene.ground_x0, scene.ground_y0, scene.ground_cell = float(x0), float(y0), float(cell)
    scene.ground_ny, scene.ground_nx = z.shape
    scene.ground_z, scene.ground_class = z, cls
    scene.ground_flat = bool(np.all(z == z.flat[0]))


def _raster_lanes(
    net: RoadNetwork, x0: float, y0: float, cell: float, nx: int, ny: int, markings: bool = True
) -> tuple[np.ndarray, F64, np.ndarray]:
    """Class, height and coverage of the ground nodes from the lane centre lines and widths."""
    cls = np.full((ny, nx), SemanticClass.GROUND, dtype=np.int8)
    zgrid = np.zeros((ny, nx))
    best = np.full((ny, nx), np.inf)
    pz = net.pts_z if net.pts_z is not None else np.zeros_like(net.pts_x)
    pw = net.pts_width if net.pts_width is not None else None
    # Sidewalks first, then drivable lanes on top (their class wins where capsules overlap).
    order = sorted(range(net.n_lanes), key=lambda ln: 0 if net.lane_type[ln] == LaneType.SIDEWALK else 1)
    for lane in order:
        a, b = int(net.lane_start[lane]), int(net.lane_start[lane + 1])
        if b - a < 2:
            continue
        value = SemanticClass.SIDEWALK if net.lane_type[lane] == LaneType.SIDEWALK else SemanticClass.ROAD
        ax, ay, az = net.pts_x[a : b - 1], net.pts_y[a : b - 1], pz[a : b - 1]
        bx, by, bz = net.pts_x[a + 1 : b], net.pts_y[a + 1 : b], pz[a + 1 : b]
        half = (pw[a : b - 1] if pw is not None else np.full(b - a - 1, net.lane_width[lane])) / 2.0
        for k in range(ax.size):
            r = half[k]
            i0 = max(int(np.floor((min(ax[k], bx[k]) - r - x0) / cell)), 0)
            i1 = min(int(np.ceil((max(ax[k], bx[k]) + r - x0) / cell)), nx - 1)
            j0 = max(int(np.floor((min(ay[k], by[k]) - r - y0) / cell)), 0)
            j1 = min(int(np.ceil((max(ay[k], by[k]) + r - y0) / cell)), ny - 1)
            if i1 < i0 or j1 < j0:
                continue
            gx = x0 + cell * np.arange(i0, i1 + 1)
            gy = y0 + cell * np.arange(j0, j1 + 1)
            X, Y = np.meshgrid(gx, gy)
            ex, ey = bx[k] - ax[k], by[k] - ay[k]
            ll = ex * ex + ey * ey
            t = np.clip(((X - ax[k]) * ex + (Y - ay[k]) * ey) / ll, 0.0, 1.0) if ll > 0 else np.zeros_like(X)
            d = np.hypot(X - ax[k] - t * ex, Y - ay[k] - t * ey)
            inside = d <= r
            sub_cls = cls[j0 : j1 + 1, i0 : i1 + 1]
            sub_cls[inside] = value
            sub_best = best[j0 : j1 + 1, i0 : i1 + 1]
            closer = inside & (d < sub_best)
            sub_best[closer] = d[closer]
            zgrid[j0 : j1 + 1, i0 : i1 + 1][closer] = (az[k] + t * (bz[k] - az[k]))[closer]
    if markings:
        _raster_markings(net, x0, y0, cell, nx, ny, cls)
    return cls, zgrid, np.isfinite(best)


#: Lane markings: line width (m), dash and period (m) of the dashed lines between lanes of one direction.
MARKING_WIDTH_M = 0.15
DASH_M = 3.0
DASH_PERIOD_M = 9.0


def _raster_markings(net: RoadNetwork, x0: float, y0: float, cell: float, nx: int, ny: int, cls: np.ndarray) -> None:
    """Mark LANE_MARKING on the edges of the driving lanes outside junctions: solid where the edge has
    no same-direction neighbour (road edge, centre line), dashed between lanes of one direction. A
    node is marked within max(MARKING_WIDTH_M, cell) / 2 of the line, so lines are at least one node wide."""
    r = 0.5 * max(MARKING_WIDTH_M, cell)
    for lane in range(net.n_lanes):
        if net.lane_type[lane] != LaneType.DRIVING or net.lane_junction[lane] >= 0:
            continue
        a, b = int(net.lane_start[lane]), int(net.lane_start[lane + 1])
        if b - a < 2:
            continue
        h = net.pts_heading[a:b]
        w = net.pts_width[a:b] if net.pts_width is not None else np.full(b - a, net.lane_width[lane])
        s_mid = 0.5 * (net.pts_s[a : b - 1] + net.pts_s[a + 1 : b])
        for side, neighbour in ((1.0, net.lane_left[lane]), (-1.0, net.lane_right[lane])):
            ex = net.pts_x[a:b] - side * 0.5 * w * np.sin(h)
            ey = net.pts_y[a:b] + side * 0.5 * w * np.cos(h)
            on = np.ones(b - a - 1, dtype=bool) if neighbour < 0 else (s_mid % DASH_PERIOD_M) < DASH_M
            for k in np.flatnonzero(on):
                _mark_capsule(ex[k], ey[k], ex[k + 1], ey[k + 1], r, x0, y0, cell, nx, ny, cls)


def _mark_capsule(
    ax: float, ay: float, bx: float, by: float, r: float, x0: float, y0: float, cell: float, nx: int, ny: int,
    cls: np.ndarray,
) -> None:  # fmt: skip
    """Set LANE_MARKING on the nodes within ``r`` of the segment (a, b)."""
    i0 = max(int(np.floor((min(ax, bx) - r - x0) / cell)), 0)
    i1 = min(int(np.ceil((max(ax, bx) + r - x0) / cell)), nx - 1)
    j0 = max(int(np.floor((min(ay, by) - r - y0) / cell)), 0)
    j1 = min(int(np.ceil((max(ay, by) + r - y0) / cell)), ny - 1)
    if i1 < i0 or j1 < j0:
        return
    X, Y = np.meshgrid(x0 + cell * np.arange(i0, i1 + 1), y0 + cell * np.arange(j0, j1 + 1))
    ex, ey = bx - ax, by - ay
    ll = ex * ex + ey * ey
    t = np.clip(((X - ax) * ex + (Y - ay) * ey) / ll, 0.0, 1.0) if ll > 0 else np.zeros_like(X)
    inside = np.hypot(X - ax - t * ex, Y - ay - t * ey) <= r
    cls[j0 : j1 + 1, i0 : i1 + 1][inside] = SemanticClass.LANE_MARKING


def build_scene(
    world: World, ground_cell: float = GROUND_CELL_M, prism_cell: float = PRISM_CELL_M, lane_markings: bool = True
) -> Scene:
    """Scene of ``world``: ground grid from the lanes (ROAD / SIDEWALK / GROUND, LANE_MARKING on the edges
    of driving lanes outside junctions if ``lane_markings``; heights from the map's elevation,
    nearest-lane height off the lanes), prisms from ``network.obj_*`` standing on the ground, actor
    boxes from the current state (``update_actors``)."""
    net = world.network
    scene = Scene()
    xmin, ymin, xmax, ymax = net.bounds()
    if net.obj_x.size:
        xmin, xmax = min(xmin, float(net.obj_x.min())), max(xmax, float(net.obj_x.max()))
        ymin, ymax = min(ymin, float(net.obj_y.min())), max(ymax, float(net.obj_y.max()))
    x0, y0 = xmin - GROUND_MARGIN_M, ymin - GROUND_MARGIN_M
    nx = int(np.ceil((xmax + GROUND_MARGIN_M - x0) / ground_cell)) + 1
    ny = int(np.ceil((ymax + GROUND_MARGIN_M - y0) / ground_cell)) + 1
    cls, z, covered = _raster_lanes(net, x0, y0, ground_cell, nx, ny, lane_markings)
    if np.any(z != 0.0) and covered.any() and not covered.all():
        from scipy.ndimage import distance_transform_edt

        _, (iy, ix) = distance_transform_edt(~covered, return_indices=True)
        z = z[iy, ix]
    set_ground(scene, x0, y0, ground_cell, z, cls)
    prisms = []
    solid = net.solid_objects()
    for o in range(len(net.obj_names)):
        a, b = int(net.obj_start[o]), int(net.obj_start[o + 1])
        px, py = net.obj_x[a:b], net.obj_y[a:b]
        if px.size < 3 or not solid[o]:  # markings lie on the ground
            continue
        c, default_h = OBJECT_KINDS.get(net.obj_kinds[o].lower(), OTHER_OBJECT)
        h = float(net.obj_height[o]) if o < net.obj_height.size and np.isfinite(net.obj_height[o]) else default_h
        if not h > 0:
            continue
        zb = float(scene.ground_height(float(px.mean()), float(py.mean())))
        prisms.append((px, py, zb, zb + h, int(c)))
    set_prisms(scene, prisms, prism_cell)
    update_actors(scene, world)
    return scene


# --------------------------------------------------------------------------------------------- actors


def update_actors(scene: Scene, world: World) -> None:
    """Fill the actor boxes from ``world.state``: vehicles' (and cyclists') box centre ``center_offset``
    (``world.params``) ahead of the rear axle along yaw, pedestrians at their body centre; heights from
    ``world.params["height"]`` (defaults 1.5 / 1.75 / 1.7 m); velocity ``speed (cos yaw, sin yaw)``
    plus the lateral ``vy`` rotated into the world frame; centre z = ground z + half height."""
    st = world.state
    p = world.params
    n = st.n
    kind = st.kind
    c, s = np.cos(st.yaw), np.sin(st.yaw)
    is_ped = kind == ActorKind.PEDESTRIAN
    off = np.where(is_ped, 0.0, p["center_offset"]) if "center_offset" in p else np.zeros(n)
    dflt = np.select(
        [kind == ActorKind.PEDESTRIAN, kind == ActorKind.CYCLIST],
        [DEFAULT_HEIGHT_M[ActorKind.PEDESTRIAN], DEFAULT_HEIGHT_M[ActorKind.CYCLIST]],
        DEFAULT_HEIGHT_M[ActorKind.VEHICLE],
    )
    height = np.asarray(p["height"], dtype=float) if "height" in p else dflt
    height = np.where(height > 0, height, dflt)
    cx = st.x + off * c
    cy = st.y + off * s
    hh = 0.5 * height
    gz = np.full(n, float(scene.ground_z.flat[0])) if scene.ground_flat else scene.ground_height(cx, cy)
    vy = st.vy
    scene.box_cx = np.ascontiguousarray(cx)
    scene.box_cy = np.ascontiguousarray(cy)
    scene.box_cz = gz + hh
    scene.box_yaw = st.yaw.copy()
    scene.box_hl = 0.5 * np.asarray(p["length"], dtype=float)
    scene.box_hw = 0.5 * np.asarray(p["width"], dtype=float)
    scene.box_hh = hh
    scene.box_vx = st.speed * c - vy * s
    scene.box_vy = st.speed * s + vy * c
    cls_map = np.array([KIND_CLASS.get(ActorKind(k), SemanticClass.VEHICLE) for k in range(3)], dtype=np.int8)
    scene.box_class = cls_map[np.clip(kind, 0, 2)].astype(np.int8)
    scene.box_active = st.active.copy()
    scene.box_instance = st.instance.astype(np.int32)


def set_boxes(
    scene: Scene,
    cx: F64,
    cy: F64,
    cz: F64,
    yaw: F64,
    hl: F64,
    hw: F64,
    hh: F64,
    vx: F64 | None = None,
    vy: F64 | None = None,
    cls: np.ndarray | None = None,
    active: np.ndarray | None = None,
) -> None:
    """Set actor boxes directly (tests, tools): centres, yaw, half extents (m), velocity (m/s)."""
    cx = np.atleast_1d(np.asarray(cx, dtype=float))
    n = cx.size

    def arr(v: object, default: float, dtype: type = float) -> np.ndarray:
        out = np.full(n, default, dtype=dtype) if v is None else np.broadcast_to(np.asarray(v, dtype=dtype), (n,))  # type: ignore[var-annotated]
        return np.ascontiguousarray(out)

    scene.box_cx = np.ascontiguousarray(cx)
    scene.box_cy, scene.box_cz, scene.box_yaw = arr(cy, 0.0), arr(cz, 0.0), arr(yaw, 0.0)
    scene.box_hl, scene.box_hw, scene.box_hh = arr(hl, 0.0), arr(hw, 0.0), arr(hh, 0.0)
    if np.any(scene.box_hl <= 0) or np.any(scene.box_hw <= 0) or np.any(scene.box_hh <= 0):
        raise ValueError("box half extents must be positive")
    scene.box_vx, scene.box_vy = arr(vx, 0.0), arr(vy, 0.0)
    scene.box_class = arr(cls, int(SemanticClass.VEHICLE), np.int8)
    scene.box_active = arr(active, True, np.bool_)
    scene.box_instance = np.zeros(n, dtype=np.int32)


# --------------------------------------------------------------------------------------------- ray casting


@dataclass
class ActorBins:
    """Azimuth bins of the actor broad phase (see ``raycast_kernels.build_actor_bins``)."""

    start: I64
    items: I64
    near: F64


def _fill_bins(bins: ActorBins | None, build: Callable[[ActorBins], int]) -> ActorBins:
    """``build(bins)`` (a ``build_*_bins`` kernel call returning the item count) into ``bins`` (new arrays
    if None), growing the item arrays and building again until they hold every item."""
    from simcore.sensors import raycast_kernels as rk

    if bins is None:
        bins = ActorBins(
            np.zeros(rk.N_BINS + 1, dtype=np.int64), np.zeros(4 * rk.N_BINS, dtype=np.int64), np.zeros(4 * rk.N_BINS)
        )
    while True:
        total = build(bins)
        if total <= bins.items.size:
            return bins
        bins.items = np.zeros(2 * total, dtype=np.int64)
        bins.near = np.zeros(2 * total)


def actor_bins(
    scene: Scene,
    ref_x: float,
    ref_y: float,
    pad: float = 0.0,
    tpad: float = 0.0,
    skip: int = -1,
    active: np.ndarray | None = None,
    bins: ActorBins | None = None,
    max_range: float = np.inf,
) -> ActorBins:
    """Bin the actor boxes seen from (ref_x, ref_y) for rays starting within ``pad`` m of it and fired
    at most ``tpad`` s from the box snapshot; row ``skip`` (the sensor's own vehicle) is left out.
    ``active`` overrides ``scene.box_active``; ``bins`` reuses arrays of an earlier call; boxes farther
    than ``max_range`` (m) from every ray origin are left out."""
    from simcore.sensors import raycast_kernels as rk

    act = scene.box_active if active is None else np.ascontiguousarray(active, dtype=np.bool_)

    def build(b: ActorBins) -> int:
        return rk.build_actor_bins(
            float(ref_x), float(ref_y), float(pad), float(tpad), float(max_range), int(skip), scene.box_cx,
            scene.box_cy, scene.box_hl, scene.box_hw, scene.box_vx, scene.box_vy, act, b.start, b.items, b.near,
        )  # fmt: skip

    return _fill_bins(bins, build)


def prism_bins(
    scene: Scene,
    ref_x: float,
    ref_y: float,
    pad: float = 0.0,
    bins: ActorBins | None = None,
    max_range: float = np.inf,
) -> ActorBins:
    """Bin the static prisms seen from (ref_x, ref_y) for rays starting within ``pad`` m of it (the
    column-wise lidar kernel); ``bins`` reuses arrays of an earlier call; prisms farther than
    ``max_range`` (m) from every ray origin are left out."""
    from simcore.sensors import raycast_kernels as rk

    def build(b: ActorBins) -> int:
        return rk.build_prism_bins(
            float(ref_x), float(ref_y), float(pad), float(max_range), scene.poly_start, scene.poly_x, scene.poly_y,
            b.start, b.items, b.near,
        )  # fmt: skip

    return _fill_bins(bins, build)


def cast_rays(
    scene: Scene,
    origins: F64,
    dirs: F64,
    *,
    ray_t: F64 | None = None,
    tmin: float = 0.0,
    tmax: float = np.inf,
    skip: int = -1,
    active: np.ndarray | None = None,
) -> tuple[F64, np.ndarray, I64, F64]:
    """First hits of rays ``origins + t dirs`` ((n, 3) each, world frame; dirs are normalised here)
    with ``tmin < t <= tmax``. ``ray_t`` (s): firing time of each ray relative to the box snapshot
    (actors move with their velocity). Returns (range m, inf on a miss; class int8; actor row or -1;
    cosine of the incidence angle)."""
    from simcore.sensors import raycast_kernels as rk

    o = np.ascontiguousarray(np.asarray(origins, dtype=float).reshape(-1, 3))
    d = np.asarray(dirs, dtype=float).reshape(-1, 3)
    if d.shape != o.shape:
        raise ValueError(f"origins {o.shape} and dirs {d.shape} differ in shape")
    norm = np.linalg.norm(d, axis=1)
    if np.any(~(norm > 0)):
        raise ValueError("ray directions must be non-zero and finite")
    d = np.ascontiguousarray(d / norm[:, None])
    n = o.shape[0]
    rt = np.zeros(n) if ray_t is None else np.ascontiguousarray(np.broadcast_to(np.asarray(ray_t, float), (n,)))
    out_r, out_c = np.empty(n), np.empty(n, dtype=np.int8)
    out_i, out_cos = np.empty(n, dtype=np.int64), np.empty(n)
    if n == 0:
        return out_r, out_c, out_i, out_cos
    ref = o[:, :2].mean(axis=0)
    pad = float(np.sqrt(((o[:, :2] - ref) ** 2).sum(axis=1)).max()) * (1 + 1e-9) + 1e-9
    bins = actor_bins(scene, ref[0], ref[1], pad, float(np.abs(rt).max()), skip, active, max_range=float(tmax))
    none = np.zeros(0)
    rk.trace(  # type: ignore[call-arg]
        0, o, d, rt, none, none, none, np.zeros(3), np.eye(3), np.zeros(3), 0.0, False, float(tmin), float(tmax),
        bins.start, bins.items, bins.near,
        scene.box_cx, scene.box_cy, scene.box_cz, scene.box_yaw, scene.box_hl, scene.box_hw, scene.box_hh,
        scene.box_vx, scene.box_vy, scene.box_class, *scene.prism_args(), *scene.ground_args(),
        out_r, out_c, out_i, out_cos,
    )  # fmt: skip
    return out_r, out_c, out_i, out_cos
