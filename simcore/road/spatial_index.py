"""Uniform grid over lane segments, for fast drivable-area and nearby-lane queries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore._types import F64, I64
from simcore.road.network import RoadNetwork

#: Grid cell edge (m): a few lane widths, so a cell holds a handful of segments.
CELL_SIZE_M = 8.0


@dataclass(frozen=True)
class SegmentGrid:
    """CSR grid: cell ``c = iy * nx + ix`` lists segments ``cell_seg[cell_start[c]:cell_start[c+1]]``.

    Each segment is a capsule from (ax, ay) to (bx, by) with radius ``half_width`` (m).
    """

    cell_size: float
    x0: float
    y0: float
    nx: int
    ny: int
    cell_start: I64
    cell_seg: I64
    ax: F64
    ay: F64
    bx: F64
    by: F64
    half_width: F64

    def args(self) -> tuple:
        """Arguments for ``frenet_kernels.on_drivable`` after the point."""
        return (
            self.cell_size,
            self.x0,
            self.y0,
            self.nx,
            self.ny,
            self.cell_start,
            self.cell_seg,
            self.ax,
            self.ay,
            self.bx,
            self.by,
            self.half_width,
        )


def build_segment_grid(
    net: RoadNetwork, lane_mask: np.ndarray, margin_m: float = 0.0, cell_size: float = CELL_SIZE_M
) -> SegmentGrid:
    """Index the centre-line segments of lanes in ``lane_mask`` as capsules of half lane width + margin."""
    ax, ay, bx, by, hw = [], [], [], [], []
    for lane in np.flatnonzero(lane_mask):
        a, b = net.lane_start[lane], net.lane_start[lane + 1]
        ax.append(net.pts_x[a : b - 1])
        ay.append(net.pts_y[a : b - 1])
        bx.append(net.pts_x[a + 1 : b])
        by.append(net.pts_y[a + 1 : b])
        hw.append(np.full(b - 1 - a, net.lane_width[lane] / 2 + margin_m))
    cat = [np.concatenate(v) if v else np.zeros(0) for v in (ax, ay, bx, by, hw)]
    ax_, ay_, bx_, by_, hw_ = cat
    rmax = float(hw_.max()) if hw_.size else 0.0
    x0 = float(min(ax_.min(), bx_.min()) - rmax - cell_size) if ax_.size else 0.0
    y0 = float(min(ay_.min(), by_.min()) - rmax - cell_size) if ay_.size else 0.0
    x1 = float(max(ax_.max(), bx_.max()) + rmax + cell_size) if ax_.size else 1.0
    y1 = float(max(ay_.max(), by_.max()) + rmax + cell_size) if ay_.size else 1.0
    nx = int(np.ceil((x1 - x0) / cell_size))
    ny = int(np.ceil((y1 - y0) / cell_size))
    cell_start, cell_seg = bin_capsules(ax_, ay_, bx_, by_, hw_, x0, y0, nx, ny, cell_size)
    return SegmentGrid(cell_size, x0, y0, nx, ny, cell_start, cell_seg, ax_, ay_, bx_, by_, hw_)


def bin_capsules(
    ax: F64, ay: F64, bx: F64, by: F64, r: F64, x0: float, y0: float, nx: int, ny: int, cell_size: float
) -> tuple[I64, I64]:
    """CSR (cell_start, cell_seg) of the capsules' bounding boxes over the grid: capsule ``g`` is
    listed in every cell its box touches, each cell's list in increasing ``g`` (vectorised: this runs
    at every scenario build)."""
    ix0 = ((np.minimum(ax, bx) - r - x0) // cell_size).astype(np.int64)
    ix1 = ((np.maximum(ax, bx) + r - x0) // cell_size).astype(np.int64)
    iy0 = ((np.minimum(ay, by) - r - y0) // cell_size).astype(np.int64)
    iy1 = ((np.maximum(ay, by) + r - y0) // cell_size).astype(np.int64)
    wx = ix1 - ix0 + 1
    per_seg = wx * (iy1 - iy0 + 1)
    g = np.repeat(np.arange(ax.size, dtype=np.int64), per_seg)
    k = np.arange(g.size, dtype=np.int64) - np.repeat(np.cumsum(per_seg) - per_seg, per_seg)  # index in g's box
    cell = (iy0[g] + k // wx[g]) * nx + ix0[g] + k % wx[g]
    cell_seg = g[np.argsort(cell, kind="stable")]  # stable: increasing g within a cell
    cell_start = np.zeros(nx * ny + 1, dtype=np.int64)
    np.cumsum(np.bincount(cell, minlength=nx * ny), out=cell_start[1:])
    return cell_start, cell_seg
