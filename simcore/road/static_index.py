"""Uniform grid over the static world's object outlines (buildings, poles, ...) for sensors and collisions.

``build_static_index(net)`` registers every object of ``RoadNetwork.obj_*`` in the grid cells its
bounding box touches (CSR: cell -> object ids) and keeps its outline edges as segments; the
queries run in ``static_index_kernels`` (Numba): objects within a radius of a point, and the first
object a segment (a ray, a swept edge) hits with the distance to the hit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore._types import F64, I64
from simcore.road import static_index_kernels as sk
from simcore.road.network import RoadNetwork

#: Grid cell edge (m): about a building lot, so a cell holds a few objects.
CELL_SIZE_M = 16.0
#: Bounding boxes are padded by this much (m) when registered, so round-off at cell borders never drops one.
_PAD_M = 1e-6


@dataclass(frozen=True)
class StaticIndex:
    """CSR grid: cell ``c = iy * nx + ix`` lists objects ``cell_obj[cell_start[c]:cell_start[c+1]]``.

    Object ``o``'s closed outline is the edges ``obj_seg_start[o]:obj_seg_start[o+1]`` of
    ``seg_ax, seg_ay -> seg_bx, seg_by`` (m, ENU); its bounding box starts in cell
    ``(obj_ix0[o], obj_iy0[o])``. The grid covers every object with one spare cell around.
    """

    cell_size: float
    x0: float
    y0: float
    nx: int
    ny: int
    cell_start: I64
    cell_obj: I64
    obj_ix0: I64
    obj_iy0: I64
    obj_seg_start: I64
    seg_ax: F64
    seg_ay: F64
    seg_bx: F64
    seg_by: F64

    @property
    def n_objects(self) -> int:
        return int(self.obj_seg_start.size - 1)

    def near(self, x: float, y: float, radius: float) -> tuple[I64, F64]:
        """Objects within ``radius`` (m) of (x, y) and their distances (0 inside), nearest first."""
        out_obj = np.empty(self.n_objects, dtype=np.int64)
        out_dist = np.empty(self.n_objects)
        n = sk.objects_near(float(x), float(y), float(radius), *self.grid_args(), out_obj, out_dist)  # type: ignore[call-arg]
        order = np.argsort(out_dist[:n], kind="stable")
        return out_obj[:n][order], out_dist[:n][order]

    def grid_args(self) -> tuple:
        """The whole index as the argument run of ``static_index_kernels.objects_near`` (and of the
        engine's ``advance`` / ``evaluate_rules``): cell size, origin, shape, then the arrays."""
        return (
            float(self.cell_size), float(self.x0), float(self.y0), int(self.nx), int(self.ny), self.cell_start,
            self.cell_obj, self.obj_ix0, self.obj_iy0, self.obj_seg_start, self.seg_ax, self.seg_ay, self.seg_bx,
            self.seg_by,
        )  # fmt: skip

    def segment_args(self) -> tuple:
        """Arguments for ``static_index_kernels.segment_hits_object`` after the segment."""
        return (
            self.cell_size, self.x0, self.y0, self.nx, self.ny, self.cell_start, self.cell_obj,
            self.obj_seg_start, self.seg_ax, self.seg_ay, self.seg_bx, self.seg_by,
        )  # fmt: skip

    def first_hit(self, ax: float, ay: float, bx: float, by: float) -> tuple[int, float]:
        """First object on the segment (ax, ay) -> (bx, by) and the distance (m) from its start; (-1, inf) if none."""
        o, d = sk.segment_hits_object(float(ax), float(ay), float(bx), float(by), *self.segment_args())
        return int(o), float(d)

    def first_hits(self, ax: F64, ay: F64, bx: F64, by: F64) -> tuple[I64, F64]:
        """``first_hit`` for arrays of segments."""
        arrays = [np.ascontiguousarray(np.broadcast_to(np.asarray(v, float), np.shape(ax))) for v in (ax, ay, bx, by)]
        flat = [a.ravel() for a in arrays]
        out_obj = np.empty(flat[0].size, dtype=np.int64)
        out_dist = np.empty(flat[0].size)
        sk.segments_hit_objects(*flat, *self.segment_args(), out_obj, out_dist)  # type: ignore[call-arg]
        return out_obj.reshape(arrays[0].shape), out_dist.reshape(arrays[0].shape)


def build_static_index(net: RoadNetwork, cell_size: float = CELL_SIZE_M) -> StaticIndex:
    """Index the outlines of ``net``'s objects (``obj_start``/``obj_x``/``obj_y``) in a uniform grid."""
    if not cell_size > 0:
        raise ValueError(f"cell_size must be positive, got {cell_size}")
    starts = np.asarray(net.obj_start, dtype=np.int64)
    xs = np.asarray(net.obj_x, dtype=float)
    ys = np.asarray(net.obj_y, dtype=float)
    n = starts.size - 1
    ax, ay, bx, by, seg_start = [], [], [], [], [0]
    for o in range(n):
        px, py = xs[starts[o] : starts[o + 1]], ys[starts[o] : starts[o + 1]]
        ax.append(px)
        ay.append(py)
        bx.append(np.roll(px, -1))
        by.append(np.roll(py, -1))
        seg_start.append(seg_start[-1] + px.size)
    seg = [np.concatenate(v) if v else np.zeros(0) for v in (ax, ay, bx, by)]
    if xs.size:
        x0 = float(xs.min()) - cell_size
        y0 = float(ys.min()) - cell_size
        nx = int(np.ceil((float(xs.max()) + cell_size - x0) / cell_size))
        ny = int(np.ceil((float(ys.max()) + cell_size - y0) / cell_size))
    else:
        x0 = y0 = 0.0
        nx = ny = 1
    cells: list[list[int]] = [[] for _ in range(nx * ny)]
    # Markings are never hit (RoadNetwork.solid_objects); bare outline holders have none.
    solid = net.solid_objects() if hasattr(net, "solid_objects") else np.ones(n, dtype=bool)
    ix0s = np.zeros(n, dtype=np.int64)
    iy0s = np.zeros(n, dtype=np.int64)
    for o in range(n):
        px, py = xs[starts[o] : starts[o + 1]], ys[starts[o] : starts[o + 1]]
        if px.size == 0 or not solid[o]:  # markings are never hit
            continue
        ix0 = int((px.min() - _PAD_M - x0) // cell_size)
        ix1 = int((px.max() + _PAD_M - x0) // cell_size)
        iy0 = int((py.min() - _PAD_M - y0) // cell_size)
        iy1 = int((py.max() + _PAD_M - y0) // cell_size)
        ix0s[o], iy0s[o] = ix0, iy0
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                cells[iy * nx + ix].append(o)
    counts = np.array([len(c) for c in cells], dtype=np.int64)
    cell_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cell_obj = np.array([o for c in cells for o in c], dtype=np.int64)
    return StaticIndex(
        float(cell_size), x0, y0, nx, ny, cell_start, cell_obj, ix0s, iy0s,
        np.array(seg_start, dtype=np.int64), *seg,
    )  # fmt: skip
